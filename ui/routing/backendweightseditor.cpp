#include "routing/backendweightseditor.h"

#include "routing/routeissuestyle.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {

constexpr int kMaxWeight = 1000000;  // Gateway API's limit

QString qs(const std::string &s) { return QString::fromStdString(s); }

QString percentString(double pct)
{
    const double r = std::round(pct * 10) / 10;
    return QStringLiteral("%1 %").arg(r, 0, 'f', r == std::round(r) ? 0 : 1);
}

QLabel *captionLabel(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text.toUpper(), parent);
    QFont f = l->font();
    f.setPointSizeF(f.pointSizeF() * 0.8);
    f.setLetterSpacing(QFont::PercentageSpacing, 106);
    l->setFont(f);
    l->setForegroundRole(QPalette::PlaceholderText);
    return l;
}

}  // namespace

BackendWeightsEditor::BackendWeightsEditor(QWidget *parent)
    : QWidget(parent)
    , m_grid(nullptr)
    , m_rowsHost(new QWidget(this))
    , m_add(new QToolButton(this))
    , m_shiftBox(new QWidget(this))
    , m_shiftFrom(new QComboBox(this))
    , m_shiftTo(new QComboBox(this))
    , m_shiftSlider(new QSlider(Qt::Horizontal, this))
    , m_shiftFromPct(new QLabel(this))
    , m_shiftToPct(new QLabel(this))
    , m_issueLabel(routestyle::makeIssueLabel(this))
{
    m_grid = new QGridLayout(m_rowsHost);
    m_grid->setContentsMargins(0, 0, 0, 0);
    m_grid->setHorizontalSpacing(8);
    m_grid->setVerticalSpacing(4);
    m_grid->setColumnStretch(0, 3);
    m_grid->setColumnStretch(2, 4);

    m_add->setObjectName(QStringLiteral("addBackendButton"));
    m_add->setText(tr("+ Add backend"));
    m_add->setToolTip(tr("Add a backend to this rule with weight 0 (no traffic until you raise it)"));
    m_add->setAutoRaise(true);
    connect(m_add, &QToolButton::clicked, this, [this] { addBackend(); });

    // Shift traffic: from one backend to another, keeping their combined weight.
    m_shiftBox->setObjectName(QStringLiteral("shiftTrafficBox"));
    auto *shift = new QVBoxLayout(m_shiftBox);
    shift->setContentsMargins(0, 8, 0, 0);
    shift->setSpacing(4);
    auto *pair = new QHBoxLayout;
    auto *shiftCaption = new QLabel(tr("<b>Shift traffic</b> from"), m_shiftBox);
    m_shiftFrom->setObjectName(QStringLiteral("shiftFrom"));
    m_shiftFrom->setToolTip(tr("The backend traffic moves away from"));
    m_shiftTo->setObjectName(QStringLiteral("shiftTo"));
    m_shiftTo->setToolTip(
        tr("The backend traffic moves to; a service not yet in the rule is added when traffic first moves"));
    pair->addWidget(shiftCaption);
    pair->addWidget(m_shiftFrom, 1);
    pair->addWidget(new QLabel(tr("to"), m_shiftBox));
    pair->addWidget(m_shiftTo, 1);
    shift->addLayout(pair);
    auto *bar = new QHBoxLayout;
    m_shiftSlider->setObjectName(QStringLiteral("shiftSlider"));
    m_shiftSlider->setRange(0, 100);
    m_shiftSlider->setSingleStep(1);
    m_shiftSlider->setPageStep(10);
    m_shiftSlider->setTickPosition(QSlider::TicksBelow);
    m_shiftSlider->setTickInterval(10);
    m_shiftSlider->setToolTip(tr("Share of the two backends' combined weight that goes to the second one. "
                                 "Arrow keys move 1 %, Page Up/Down 10 %."));
    m_shiftFromPct->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("100 %")) + 6);
    m_shiftToPct->setMinimumWidth(m_shiftFromPct->minimumWidth());
    m_shiftFromPct->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    bar->addWidget(m_shiftFromPct);
    bar->addWidget(m_shiftSlider, 1);
    bar->addWidget(m_shiftToPct);
    shift->addLayout(bar);
    connect(m_shiftFrom, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_updating)
            refreshShiftSlider();
    });
    connect(m_shiftTo, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_updating)
            refreshShiftSlider();
    });
    connect(m_shiftSlider, &QSlider::valueChanged, this, [this](int v) {
        if (!m_updating)
            shiftToPercent(v);
    });

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(4);
    v->addWidget(m_rowsHost);
    auto *addRow = new QHBoxLayout;
    addRow->addWidget(m_add);
    addRow->addStretch(1);
    v->addLayout(addRow);
    v->addWidget(m_issueLabel);
    v->addWidget(m_shiftBox);
    rebuildRows();
}

void BackendWeightsEditor::setBackends(
    const std::vector<routing::BackendRef> &backends, const QStringList &knownServices)
{
    m_backends = backends;
    m_known = knownServices;
    int64_t total = 0;
    for (const routing::BackendRef &b : m_backends)
        total += std::max(0, b.weight);
    m_sliderMax = int(std::clamp<int64_t>(total, 100, kMaxWeight));
    m_issues.clear();
    rebuildRows();
    // Default pair: the two heaviest backends, the lighter one (the canary) second.
    QString from, to;
    if (m_backends.size() >= 2) {
        std::vector<size_t> order(m_backends.size());
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::stable_sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return m_backends[a].weight > m_backends[b].weight; });
        from = qs(m_backends[order[0]].name);
        to = qs(m_backends[order[1]].name);
    } else if (m_backends.size() == 1) {
        from = qs(m_backends[0].name);
    }
    setShiftPair(from, to);
}

int BackendWeightsEditor::sliderMaximum() const { return m_sliderMax; }

void BackendWeightsEditor::rebuildRows()
{
    m_updating = true;
    for (const Row &r : m_rows) {
        for (QWidget *w : std::initializer_list<QWidget *> {r.name, r.port, r.slider, r.weight, r.percent, r.remove}) {
            m_grid->removeWidget(w);
            w->hide();
            w->deleteLater();  // a row's own remove button may be what is running now
        }
    }
    m_rows.clear();
    if (m_grid->count() == 0) {
        m_grid->addWidget(captionLabel(tr("Backend"), m_rowsHost), 0, 0);
        m_grid->addWidget(captionLabel(tr("Port"), m_rowsHost), 0, 1);
        m_grid->addWidget(captionLabel(tr("Weight"), m_rowsHost), 0, 2, 1, 2);
        m_grid->addWidget(captionLabel(tr("Share"), m_rowsHost), 0, 4);
    }
    for (size_t i = 0; i < m_backends.size(); ++i) {
        const routing::BackendRef &b = m_backends[i];
        const int row = int(i);
        Row r;
        r.name = new QComboBox(m_rowsHost);
        r.name->setObjectName(QStringLiteral("backendName%1").arg(i));
        r.name->setEditable(true);
        r.name->setInsertPolicy(QComboBox::NoInsert);
        r.name->addItems(m_known);
        r.name->setCurrentText(qs(b.name));
        r.name->setMinimumContentsLength(8);
        r.name->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        r.name->setToolTip(tr("The Service this backend sends to; its EndpointSlices give the addresses dialled"));
        r.port = new QSpinBox(m_rowsHost);
        r.port->setObjectName(QStringLiteral("backendPort%1").arg(i));
        r.port->setRange(0, 65535);
        r.port->setSpecialValueText(tr("any"));
        r.port->setValue(b.port);
        r.port->setToolTip(tr("The Service port (backendRefs[].port). The EndpointSlice's port is what is dialled"));
        r.slider = new QSlider(Qt::Horizontal, m_rowsHost);
        r.slider->setObjectName(QStringLiteral("backendWeightSlider%1").arg(i));
        r.slider->setRange(0, std::max(sliderMaximum(), b.weight));
        r.slider->setValue(b.weight);
        r.slider->setPageStep(std::max(1, r.slider->maximum() / 10));
        r.slider->setMinimumWidth(48);
        r.slider->setToolTip(
            tr("Weight of %1. Traffic is split in proportion to the weights; 0 sends nothing.").arg(qs(b.name)));
        r.weight = new QSpinBox(m_rowsHost);
        r.weight->setObjectName(QStringLiteral("backendWeight%1").arg(i));
        r.weight->setRange(0, kMaxWeight);
        r.weight->setValue(b.weight);
        r.weight->setToolTip(r.slider->toolTip());
        r.percent = new QLabel(m_rowsHost);
        r.percent->setObjectName(QStringLiteral("backendPercent%1").arg(i));
        r.percent->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("100.0 %")) + 6);
        r.percent->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        QFont pf = r.percent->font();
        pf.setBold(true);
        r.percent->setFont(pf);
        r.remove = new QToolButton(m_rowsHost);
        r.remove->setText(QStringLiteral("✕"));
        r.remove->setAutoRaise(true);
        r.remove->setToolTip(tr("Remove %1 from this rule").arg(qs(b.name)));

        m_grid->addWidget(r.name, row + 1, 0);
        m_grid->addWidget(r.port, row + 1, 1);
        m_grid->addWidget(r.slider, row + 1, 2);
        m_grid->addWidget(r.weight, row + 1, 3);
        m_grid->addWidget(r.percent, row + 1, 4);
        m_grid->addWidget(r.remove, row + 1, 5);

        connect(r.name, &QComboBox::currentTextChanged, this, [this, row](const QString &text) {
            if (m_updating || size_t(row) >= m_backends.size())
                return;
            m_backends[size_t(row)].name = text.trimmed().toStdString();
            refreshShiftChoices();
            Q_EMIT changed();
        });
        connect(r.port, &QSpinBox::valueChanged, this, [this, row](int v) {
            if (m_updating || size_t(row) >= m_backends.size())
                return;
            m_backends[size_t(row)].port = v;
            Q_EMIT changed();
        });
        connect(r.slider, &QSlider::valueChanged, this, [this, row](int v) {
            if (!m_updating)
                setWeight(row, v);
        });
        connect(r.weight, &QSpinBox::valueChanged, this, [this, row](int v) {
            if (!m_updating)
                setWeight(row, v);
        });
        connect(r.remove, &QToolButton::clicked, this, [this, row] { removeBackend(row); });
        m_rows.push_back(r);
    }
    // Tab order follows the rows: name, port, slider, weight, then the next row.
    QWidget *prev = nullptr;
    for (const Row &r : m_rows) {
        for (QWidget *w : std::initializer_list<QWidget *> {r.name, r.port, r.slider, r.weight, r.remove}) {
            if (prev)
                setTabOrder(prev, w);
            prev = w;
        }
    }
    m_updating = false;
    refreshPercentages();
    refreshShiftChoices();
    setIssues(m_issues);
}

void BackendWeightsEditor::setWeight(int row, int weight)
{
    if (row < 0 || size_t(row) >= m_backends.size())
        return;
    weight = std::clamp(weight, 0, kMaxWeight);
    m_backends[size_t(row)].weight = weight;
    m_updating = true;
    const Row &r = m_rows[size_t(row)];
    if (weight > r.slider->maximum()) {
        m_sliderMax = weight;
        for (const Row &o : m_rows)
            o.slider->setMaximum(weight);
    }
    r.slider->setValue(weight);
    r.weight->setValue(weight);
    m_updating = false;
    refreshPercentages();
    refreshShiftSlider();
    Q_EMIT changed();
}

void BackendWeightsEditor::refreshPercentages()
{
    int64_t total = 0;
    for (const routing::BackendRef &b : m_backends)
        total += std::max(0, b.weight);
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const double pct = total > 0 ? 100.0 * std::max(0, m_backends[i].weight) / double(total) : 0;
        m_rows[i].percent->setText(percentString(pct));
        m_rows[i].percent->setForegroundRole(
            m_backends[i].weight == 0 ? QPalette::PlaceholderText : QPalette::WindowText);
    }
}

QSlider *BackendWeightsEditor::slider(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? m_rows[size_t(row)].slider : nullptr;
}

QSpinBox *BackendWeightsEditor::weightSpin(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? m_rows[size_t(row)].weight : nullptr;
}

QComboBox *BackendWeightsEditor::nameBox(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? m_rows[size_t(row)].name : nullptr;
}

QString BackendWeightsEditor::percentText(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() ? m_rows[size_t(row)].percent->text() : QString();
}

int BackendWeightsEditor::rowOf(const QString &name) const
{
    for (size_t i = 0; i < m_backends.size(); ++i) {
        if (qs(m_backends[i].name) == name)
            return int(i);
    }
    return -1;
}

void BackendWeightsEditor::addBackend(const QString &name)
{
    routing::BackendRef b;
    b.name = name.toStdString();
    b.weight = 0;
    if (!m_backends.empty()) {
        b.port = m_backends.front().port;
        b.ns = m_backends.front().ns;
    }
    m_backends.push_back(b);
    rebuildRows();
    if (name.isEmpty() && !m_rows.empty())
        m_rows.back().name->setFocus();
    Q_EMIT changed();
}

void BackendWeightsEditor::removeBackend(int row)
{
    if (row < 0 || size_t(row) >= m_backends.size())
        return;
    m_backends.erase(m_backends.begin() + row);
    rebuildRows();
    Q_EMIT changed();
}

void BackendWeightsEditor::refreshShiftChoices()
{
    const QString from = m_shiftFrom->currentText();
    const QString to = m_shiftTo->currentText();
    m_updating = true;
    m_shiftFrom->clear();
    m_shiftTo->clear();
    QStringList inRule;
    for (const routing::BackendRef &b : m_backends) {
        if (!b.name.empty() && !inRule.contains(qs(b.name)))
            inRule << qs(b.name);
    }
    m_shiftFrom->addItems(inRule);
    m_shiftTo->addItems(inRule);
    for (const QString &k : m_known) {
        if (!inRule.contains(k))
            m_shiftTo->addItem(QString(k + tr(" (add)")), k);
    }
    for (int i = 0; i < m_shiftTo->count(); ++i) {
        if (m_shiftTo->itemData(i).isNull())
            m_shiftTo->setItemData(i, m_shiftTo->itemText(i));
    }
    m_shiftFrom->setCurrentIndex(std::max(0, m_shiftFrom->findText(from)));
    const int toIdx = m_shiftTo->findData(to.endsWith(tr(" (add)")) ? to.left(to.size() - tr(" (add)").size()) : to);
    m_shiftTo->setCurrentIndex(toIdx >= 0 ? toIdx : std::min(1, m_shiftTo->count() - 1));
    m_updating = false;
    m_shiftBox->setVisible(!m_backends.empty() && m_shiftTo->count() >= 2);
    refreshShiftSlider();
}

bool BackendWeightsEditor::setShiftPair(const QString &from, const QString &to)
{
    refreshShiftChoices();
    m_updating = true;
    const int f = m_shiftFrom->findText(from);
    if (f >= 0)
        m_shiftFrom->setCurrentIndex(f);
    int t = to.isEmpty() ? -1 : m_shiftTo->findData(to);
    if (t < 0 && !to.isEmpty() && rowOf(to) < 0) {
        // A service nobody listed yet: offer it all the same.
        m_shiftTo->addItem(QString(to + tr(" (add)")), to);
        t = m_shiftTo->count() - 1;
    }
    if (t < 0) {
        // Default: the first choice that is not the source.
        for (int i = 0; i < m_shiftTo->count(); ++i) {
            if (m_shiftTo->itemData(i).toString() != m_shiftFrom->currentText()) {
                t = i;
                break;
            }
        }
    }
    if (t >= 0)
        m_shiftTo->setCurrentIndex(t);
    m_updating = false;
    m_shiftBox->setVisible(!m_backends.empty() && m_shiftTo->count() >= 2);
    refreshShiftSlider();
    return f >= 0 && t >= 0;
}

QString BackendWeightsEditor::shiftFrom() const { return m_shiftFrom->currentText(); }

QString BackendWeightsEditor::shiftTo() const { return m_shiftTo->currentData().toString(); }

void BackendWeightsEditor::refreshShiftSlider()
{
    const int f = rowOf(shiftFrom());
    const int t = rowOf(shiftTo());
    const int wf = f >= 0 ? std::max(0, m_backends[size_t(f)].weight) : 0;
    const int wt = t >= 0 ? std::max(0, m_backends[size_t(t)].weight) : 0;
    const int total = wf + wt;
    const double toPct = total > 0 ? 100.0 * wt / total : 0;
    const bool same = f >= 0 && f == t;
    m_updating = true;
    m_shiftSlider->setValue(int(std::lround(toPct)));
    m_shiftSlider->setEnabled(f >= 0 && !same);
    m_updating = false;
    m_shiftFromPct->setText(percentString(total > 0 ? 100.0 - toPct : 100.0));
    m_shiftToPct->setText(percentString(toPct));
}

void BackendWeightsEditor::shiftToPercent(int percent)
{
    percent = std::clamp(percent, 0, 100);
    int f = rowOf(shiftFrom());
    const QString toName = shiftTo();
    if (f < 0 || toName.isEmpty() || toName == shiftFrom())
        return;
    int t = rowOf(toName);
    if (t < 0) {
        if (percent == 0)
            return;
        routing::BackendRef b;
        b.name = toName.toStdString();
        b.ns = m_backends[size_t(f)].ns;
        b.port = m_backends[size_t(f)].port;
        b.weight = 0;
        m_backends.push_back(b);
        t = int(m_backends.size()) - 1;
    }
    int64_t total = int64_t(std::max(0, m_backends[size_t(f)].weight)) + std::max(0, m_backends[size_t(t)].weight);
    // With only these two backends a percentage needs at least 100 units of weight.
    if (total == 0 || (m_backends.size() == 2 && total < 100))
        total = 100;
    const int wt = int(std::lround(double(total) * percent / 100.0));
    m_backends[size_t(t)].weight = wt;
    m_backends[size_t(f)].weight = int(total) - wt;
    if (int(m_rows.size()) != int(m_backends.size())) {
        rebuildRows();
    } else {
        m_updating = true;
        for (int row : {f, t}) {
            const Row &r = m_rows[size_t(row)];
            r.slider->setMaximum(std::max(r.slider->maximum(), m_backends[size_t(row)].weight));
            r.slider->setValue(m_backends[size_t(row)].weight);
            r.weight->setValue(m_backends[size_t(row)].weight);
        }
        m_updating = false;
        refreshPercentages();
    }
    refreshShiftSlider();
    Q_EMIT changed();
}

void BackendWeightsEditor::focusShift()
{
    if (m_shiftBox->isVisible())
        m_shiftSlider->setFocus(Qt::OtherFocusReason);
}

void BackendWeightsEditor::focusBackend(int row)
{
    if (row >= 0 && size_t(row) < m_rows.size())
        m_rows[size_t(row)].slider->setFocus(Qt::OtherFocusReason);
}

void BackendWeightsEditor::setIssues(const std::vector<routing::RouteIssue> &issues)
{
    m_issues = routestyle::issuesUnder(issues, "backendRefs");
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const std::string base = "backendRefs[" + std::to_string(i) + "]";
        const Row &r = m_rows[i];
        auto nameIssues = routestyle::issuesUnder(m_issues, base + ".name");
        for (const auto &x : m_issues) {
            if (x.field == base)  // about the backend as a whole
                nameIssues.push_back(x);
        }
        routestyle::markField(
            r.name, nameIssues, tr("The Service this backend sends to; its EndpointSlices give the addresses dialled"));
        routestyle::markField(r.port, routestyle::issuesUnder(m_issues, base + ".port"),
            tr("The Service port (backendRefs[].port). The EndpointSlice's port is what is dialled"));
        routestyle::markField(r.weight, routestyle::issuesUnder(m_issues, base + ".weight"), r.slider->toolTip());
    }
    routestyle::showIssues(m_issueLabel, m_issues);
}

}  // namespace meshscope

#include "routing/routewizards.h"

#include "routing/yaml/routeyamlwriter.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

// The row of the first backend of `rule` that serves the service, -1 when none does.
int servingBackend(const routing::HttpRoute &route, const routing::RouteRule &rule, const QString &service)
{
    const std::optional<NodeRef> s = routing::serviceOf(service.toStdString());
    for (size_t i = 0; s && i < rule.backends.size(); ++i) {
        if (routing::backendMatches(rule.backends[i], route.ns, *s))
            return int(i);
    }
    return -1;
}

QString splitText(const routing::RouteRule &rule)
{
    const std::vector<int> p = routing::percentagesOf(rule);
    QStringList parts;
    for (size_t i = 0; i < rule.backends.size(); ++i)
        parts << QStringLiteral("%1 %2 %").arg(qs(rule.backends[i].name)).arg(p[i]);
    return parts.join(QStringLiteral(", "));
}

QLabel *wrappedLabel(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(text, parent);
    l->setWordWrap(true);
    return l;
}

QComboBox *newMatchTypeBox(QWidget *parent)
{
    auto *box = new QComboBox(parent);
    box->addItem(QStringLiteral("Exact"), int(routing::StringMatchType::Exact));
    box->addItem(QStringLiteral("RegularExpression"), int(routing::StringMatchType::RegularExpression));
    return box;
}

}  // namespace

// ---- RouteWizard ----

RouteWizard::RouteWizard(const routing::RouteSet &set, routing::RuleLocation at, QWidget *parent)
    : QDialog(parent)
    , m_set(set)
    , m_at(at)
{
    setMinimumWidth(520);
}

QString RouteWizard::ruleName() const { return rule().name.empty() ? tr("#%1").arg(m_at.rule + 1) : qs(rule().name); }

QPushButton *RouteWizard::okButton() const { return m_buttons->button(QDialogButtonBox::Ok); }

void RouteWizard::finishLayout(QLayout *content)
{
    auto *v = new QVBoxLayout(this);
    v->addLayout(content);
    m_error = wrappedLabel({}, this);
    m_error->setObjectName(QStringLiteral("wizardError"));
    m_error->setStyleSheet(QStringLiteral("color: #f85149;"));
    m_error->hide();
    v->addWidget(m_error);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    okButton()->setText(tr("Review…"));
    okButton()->setToolTip(tr("Put the change into the edited routes and show the diff before applying"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(m_buttons);
}

void RouteWizard::setError(const QString &error)
{
    m_error->setText(error);
    m_error->setVisible(!error.isEmpty());
    okButton()->setEnabled(error.isEmpty());
}

// ---- ShiftTrafficDialog ----

ShiftTrafficDialog::ShiftTrafficDialog(const routing::RouteSet &set, routing::RuleLocation at, const QString &service,
    const QStringList &knownServices, QWidget *parent)
    : RouteWizard(set, at, parent)
{
    setWindowTitle(tr("Shift traffic · %1").arg(service));
    auto *v = new QVBoxLayout;
    v->addWidget(wrappedLabel(tr("Rule %1 of HTTPRoute %2/%3 carries %4. Set each backend's share of its traffic; "
                                 "the shares always add up to 100 % (moving one moves the others in proportion).")
                                  .arg(ruleName(), qs(route().ns), qs(route().name), service),
        this));
    m_grid = new QGridLayout;
    v->addLayout(m_grid);

    auto *quick = new QHBoxLayout;
    m_even = new QPushButton(tr("Even split"), this);
    quick->addWidget(m_even);
    m_serving = servingBackend(route(), rule(), service);
    m_allTo = new QPushButton(m_serving >= 0 ? tr("All to %1").arg(qs(rule().backends[size_t(m_serving)].name))
                                             : tr("All to %1").arg(service),
        this);
    m_allTo->setEnabled(m_serving >= 0);
    quick->addWidget(m_allTo);
    quick->addStretch(1);
    m_addBox = new QComboBox(this);
    for (const QString &name : knownServices) {
        const bool inRule = std::any_of(rule().backends.begin(), rule().backends.end(),
            [&](const routing::BackendRef &b) { return qs(b.name) == name; });
        if (!inRule)
            m_addBox->addItem(name);
    }
    m_addButton = new QPushButton(tr("Add backend"), this);
    quick->addWidget(m_addBox);
    quick->addWidget(m_addButton);
    v->addLayout(quick);

    m_preview = wrappedLabel({}, this);
    m_preview->setObjectName(QStringLiteral("shiftPreview"));
    m_preview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_preview);
    finishLayout(v);

    const std::vector<int> p = routing::percentagesOf(rule());
    for (size_t i = 0; i < rule().backends.size(); ++i)
        addRow(qs(rule().backends[i].name), p[i]);

    m_addBox->setEnabled(m_addBox->count() > 0);
    m_addButton->setEnabled(m_addBox->count() > 0);
    connect(m_even, &QPushButton::clicked, this, [this] { setPercents(routing::evenSplit(m_rows.size())); });
    connect(m_allTo, &QPushButton::clicked, this, [this] {
        if (m_serving >= 0)
            setPercents(routing::rebalanced(std::vector<int>(m_rows.size(), 0), size_t(m_serving), 100));
    });
    connect(m_addButton, &QPushButton::clicked, this, [this] { addBackend(m_addBox->currentText()); });
    refresh();
}

void ShiftTrafficDialog::addRow(const QString &name, int percent)
{
    const int row = int(m_rows.size());
    Row r;
    r.name = name;
    r.slider = new QSlider(Qt::Horizontal, this);
    r.slider->setRange(0, 100);
    r.slider->setValue(percent);
    r.spin = new QSpinBox(this);
    r.spin->setRange(0, 100);
    r.spin->setSuffix(QStringLiteral(" %"));
    r.spin->setValue(percent);
    m_grid->addWidget(new QLabel(name, this), row, 0);
    m_grid->addWidget(r.slider, row, 1);
    m_grid->addWidget(r.spin, row, 2);
    m_grid->setColumnStretch(1, 1);
    connect(r.slider, &QSlider::valueChanged, this, [this, row](int value) { rowChanged(row, value); });
    connect(r.spin, &QSpinBox::valueChanged, this, [this, row](int value) { rowChanged(row, value); });
    m_rows.push_back(r);
}

void ShiftTrafficDialog::addBackend(const QString &name)
{
    if (name.isEmpty() || std::any_of(m_rows.begin(), m_rows.end(), [&](const Row &r) { return r.name == name; }))
        return;
    addRow(name, 0);
    m_addBox->removeItem(m_addBox->findText(name));
    m_addBox->setEnabled(m_addBox->count() > 0);
    m_addButton->setEnabled(m_addBox->count() > 0);
    refresh();
}

void ShiftTrafficDialog::rowChanged(int row, int percent)
{
    std::vector<int> p;
    for (const Row &r : m_rows)
        p.push_back(r.spin->value());
    setPercents(routing::rebalanced(p, size_t(row), percent));
}

void ShiftTrafficDialog::setPercents(const std::vector<int> &percents)
{
    for (size_t i = 0; i < m_rows.size() && i < percents.size(); ++i) {
        const QSignalBlocker a(m_rows[i].spin), b(m_rows[i].slider);
        m_rows[i].spin->setValue(percents[i]);
        m_rows[i].slider->setValue(percents[i]);
    }
    refresh();
}

std::vector<routing::BackendShare> ShiftTrafficDialog::shares() const
{
    std::vector<routing::BackendShare> out;
    for (const Row &r : m_rows)
        out.push_back({r.name.toStdString(), r.spin->value()});
    return out;
}

QString ShiftTrafficDialog::backendName(int row) const
{
    return row >= 0 && row < rowCount() ? m_rows[size_t(row)].name : QString();
}

QSpinBox *ShiftTrafficDialog::spinBox(int row) const
{
    return row >= 0 && row < rowCount() ? m_rows[size_t(row)].spin : nullptr;
}

QSlider *ShiftTrafficDialog::slider(int row) const
{
    return row >= 0 && row < rowCount() ? m_rows[size_t(row)].slider : nullptr;
}

routing::RouteEdit ShiftTrafficDialog::edit() const { return routing::shiftWeights(m_set, m_at, shares()); }

void ShiftTrafficDialog::refresh()
{
    const std::vector<routing::BackendShare> s = shares();
    const std::vector<int> before = routing::percentagesOf(rule());
    bool changed = s.size() != before.size();
    for (size_t i = 0; i < s.size() && !changed; ++i)
        changed = s[i].percent != before[i];
    m_preview->setText(tr("Result: %1").arg(qs(routing::describeShift(rule(), s)))
        + (changed ? QString() : QStringLiteral(" ") + tr("(no change yet)")));
    const std::string error = routing::checkShares(s);
    setError(!error.empty() ? qs(error) : changed ? QString() : tr("Move a share to shift traffic."));
}

// ---- HeaderRouteDialog ----

HeaderRouteDialog::HeaderRouteDialog(const routing::RouteSet &set, routing::RuleLocation at, const QString &service,
    const QStringList &knownServices, QWidget *parent)
    : RouteWizard(set, at, parent)
{
    setWindowTitle(tr("Add header route · %1").arg(service));
    auto *v = new QVBoxLayout;
    v->addWidget(wrappedLabel(tr("Requests that rule %1 matches and that carry the header go to one backend only; "
                                 "requests without it keep the rule's split (%2).")
                                  .arg(ruleName(), splitText(rule())),
        this));
    auto *form = new QFormLayout;
    m_header = new QLineEdit(QStringLiteral("x-canary"), this);
    form->addRow(tr("Header"), m_header);
    m_type = newMatchTypeBox(this);
    form->addRow(tr("Match"), m_type);
    m_value = new QLineEdit(QStringLiteral("true"), this);
    form->addRow(tr("Value"), m_value);
    m_backend = new QComboBox(this);
    m_backend->setEditable(true);
    QStringList names;
    for (const routing::BackendRef &b : rule().backends)
        names << qs(b.name);
    for (const QString &k : knownServices) {
        if (!names.contains(k))
            names << k;
    }
    m_backend->addItems(names);
    // Default: the backend serving the clicked service (the lightest one: usually the canary).
    const routing::RouteRule proposed = routing::headerRouteFor(route(), rule(), service.toStdString());
    if (!proposed.backends.empty() && !proposed.backends.front().name.empty())
        m_backend->setCurrentText(qs(proposed.backends.front().name));
    form->addRow(tr("Backend"), m_backend);
    v->addLayout(form);
    m_where = wrappedLabel({}, this);
    m_where->setObjectName(QStringLiteral("headerRouteWhere"));
    v->addWidget(m_where);
    m_preview = new QPlainTextEdit(this);
    m_preview->setReadOnly(true);
    m_preview->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_preview->setMinimumHeight(180);
    v->addWidget(m_preview, 1);
    finishLayout(v);

    connect(m_header, &QLineEdit::textChanged, this, &HeaderRouteDialog::refresh);
    connect(m_type, &QComboBox::currentIndexChanged, this, &HeaderRouteDialog::refresh);
    connect(m_value, &QLineEdit::textChanged, this, &HeaderRouteDialog::refresh);
    connect(m_backend, &QComboBox::currentTextChanged, this, &HeaderRouteDialog::refresh);
    refresh();
}

routing::HeaderRouteChoice HeaderRouteDialog::choice() const
{
    routing::HeaderRouteChoice c;
    c.header = m_header->text().trimmed().toStdString();
    c.type = routing::StringMatchType(m_type->currentData().toInt());
    c.value = m_value->text().toStdString();
    c.backend = m_backend->currentText().trimmed().toStdString();
    return c;
}

routing::RouteEdit HeaderRouteDialog::edit() const { return routing::addHeaderRoute(m_set, m_at, choice()); }

void HeaderRouteDialog::refresh()
{
    const routing::RouteEdit e = edit();
    setError(qs(e.error));
    if (!e.ok()) {
        m_where->clear();
        m_preview->clear();
        return;
    }
    const routing::HttpRoute &r = e.set.routes[size_t(e.at.route)];
    const routing::RouteRule &added = r.rules[size_t(e.at.rule)];
    m_where->setText(tr("Inserted as rule %1 of HTTPRoute %2/%3, just before %4 (which carries the service), so "
                        "tagged requests match it first.")
                         .arg(e.at.rule + 1)
                         .arg(qs(r.ns), qs(r.name), ruleName()));
    routing::RouteSet one;
    routing::HttpRoute shell = r;
    shell.rules = {added};
    one.routes.push_back(shell);
    m_preview->setPlainText(qs(routing::toYaml(one)));
}

// ---- FaultDialog ----

FaultDialog::FaultDialog(
    const routing::RouteSet &set, routing::RuleLocation at, const QString &service, QWidget *parent)
    : RouteWizard(set, at, parent)
{
    setWindowTitle(tr("Inject fault · %1").arg(service));
    auto *v = new QVBoxLayout;
    auto *form = new QFormLayout;
    m_kind = new QComboBox(this);
    m_kind->addItem(tr("Delay"));
    m_kind->addItem(tr("Abort"));
    form->addRow(tr("Fault"), m_kind);
    m_delay = new QSpinBox(this);
    m_delay->setRange(1, 600000);
    m_delay->setSuffix(QStringLiteral(" ms"));
    m_delay->setValue(int(routing::starterFault().delayMs.value_or(1000)));
    form->addRow(tr("Delay"), m_delay);
    m_status = new QSpinBox(this);
    m_status->setRange(100, 999);
    m_status->setValue(503);
    form->addRow(tr("HTTP status"), m_status);
    m_percent = new QDoubleSpinBox(this);
    m_percent->setRange(0, 100);
    m_percent->setDecimals(1);
    m_percent->setSuffix(QStringLiteral(" %"));
    m_percent->setValue(routing::starterFault().delayPercent);
    form->addRow(tr("Of requests"), m_percent);
    v->addLayout(form);

    m_whole = new QRadioButton(tr("The whole rule %1 (every backend: %2)").arg(ruleName(), splitText(rule())), this);
    auto *oneRow = new QHBoxLayout;
    m_one = new QRadioButton(tr("Only traffic to"), this);
    m_backend = new QComboBox(this);
    for (const routing::BackendRef &b : rule().backends)
        m_backend->addItem(qs(b.name));
    const int serving = servingBackend(route(), rule(), service);
    m_backend->setCurrentIndex(std::max(0, serving));
    oneRow->addWidget(m_one);
    oneRow->addWidget(m_backend, 1);
    auto *scope = new QButtonGroup(this);
    scope->addButton(m_whole);
    scope->addButton(m_one);
    m_whole->setChecked(true);
    v->addWidget(m_whole);
    v->addLayout(oneRow);

    v->addWidget(wrappedLabel(tr("A data plane decides a fault before it picks a weighted backend, so a fault always "
                                 "covers a whole rule. To fault one backend's traffic only, meshscope gives tagged "
                                 "requests a rule of their own: placed before %1, it matches what %1 matches plus the "
                                 "header below, sends only to that backend, and carries the fault. Untagged requests "
                                 "keep %1's split with no fault.")
                                  .arg(ruleName()),
        this));
    m_tag = new QWidget(this);
    auto *tagForm = new QFormLayout(m_tag);
    tagForm->setContentsMargins(0, 0, 0, 0);
    m_header = new QLineEdit(QStringLiteral("x-fault"), m_tag);
    tagForm->addRow(tr("Tag header"), m_header);
    m_headerType = newMatchTypeBox(m_tag);
    tagForm->addRow(tr("Match"), m_headerType);
    m_headerValue = new QLineEdit(QStringLiteral("true"), m_tag);
    tagForm->addRow(tr("Value"), m_headerValue);
    v->addWidget(m_tag);

    m_preview = wrappedLabel({}, this);
    m_preview->setObjectName(QStringLiteral("faultPreview"));
    m_preview->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_preview);
    finishLayout(v);

    connect(m_kind, &QComboBox::currentIndexChanged, this, &FaultDialog::refresh);
    connect(m_delay, &QSpinBox::valueChanged, this, &FaultDialog::refresh);
    connect(m_status, &QSpinBox::valueChanged, this, &FaultDialog::refresh);
    connect(m_percent, &QDoubleSpinBox::valueChanged, this, &FaultDialog::refresh);
    connect(m_whole, &QRadioButton::toggled, this, &FaultDialog::refresh);
    connect(m_backend, &QComboBox::currentIndexChanged, this, &FaultDialog::refresh);
    connect(m_header, &QLineEdit::textChanged, this, &FaultDialog::refresh);
    connect(m_headerType, &QComboBox::currentIndexChanged, this, &FaultDialog::refresh);
    connect(m_headerValue, &QLineEdit::textChanged, this, &FaultDialog::refresh);
    refresh();
}

routing::FaultChoice FaultDialog::choice() const
{
    routing::FaultChoice c;
    c.abort = m_kind->currentIndex() == 1;
    c.delayMs = m_delay->value();
    c.httpStatus = m_status->value();
    c.percent = m_percent->value();
    c.scope = m_one->isChecked() ? routing::FaultScope::OneBackend : routing::FaultScope::WholeRule;
    c.backend = m_backend->currentText().toStdString();
    c.header = m_header->text().trimmed().toStdString();
    c.headerType = routing::StringMatchType(m_headerType->currentData().toInt());
    c.headerValue = m_headerValue->text().toStdString();
    return c;
}

routing::RouteEdit FaultDialog::edit() const { return routing::injectFault(m_set, m_at, choice()); }

void FaultDialog::refresh()
{
    const routing::FaultChoice c = choice();
    m_delay->setEnabled(!c.abort);
    m_status->setEnabled(c.abort);
    m_backend->setEnabled(c.scope == routing::FaultScope::OneBackend);
    const bool ownRule = c.scope == routing::FaultScope::OneBackend && routing::faultNeedsOwnRule(rule(), c.backend);
    m_tag->setEnabled(ownRule);

    const routing::RouteEdit e = edit();
    setError(qs(e.error));
    if (!e.ok()) {
        m_preview->clear();
        return;
    }
    const QString fault = c.abort ? tr("abort with HTTP %1 for %2 % of requests").arg(c.httpStatus).arg(c.percent)
                                  : tr("delay %1 ms for %2 % of requests").arg(c.delayMs).arg(c.percent);
    const QString backend = qs(c.backend);
    if (c.scope == routing::FaultScope::WholeRule) {
        m_preview->setText(tr("Rule %1 gets the fault (%2), whichever backend a request goes to: %3.")
                               .arg(ruleName(), fault, splitText(rule())));
    } else if (!ownRule) {
        m_preview->setText(tr(
            "Rule %1 sends all its traffic to %2 already, so the fault (%3) goes on %1 itself. Routing is unchanged.")
                               .arg(ruleName(), backend, fault));
    } else {
        const routing::RouteRule &added = e.set.routes[size_t(e.at.route)].rules[size_t(e.at.rule)];
        m_preview->setText(
            tr("New rule %1, inserted just before %2: requests with %3 %4 %5 go only to %6, with the "
               "fault (%7). Requests without the header keep %2's split (%8) and get no fault. "
               "Routing changes for tagged requests only: they no longer reach the other backends.")
                .arg(qs(added.name), ruleName(), qs(c.header),
                    c.headerType == routing::StringMatchType::Exact ? QStringLiteral("=") : QStringLiteral("~"),
                    qs(c.headerValue), backend, fault, splitText(rule())));
    }
}

}  // namespace meshscope

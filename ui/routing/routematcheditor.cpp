#include "routing/routematcheditor.h"

#include "routing/routeissuestyle.h"

#include <QAction>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

const char *const kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

QString pathTip()
{
    return QObject::tr(
        "Exact: the whole path. Prefix: whole path elements (/api matches /api and /api/v1, never /apis). "
        "Regex: RE2, must match the whole path (the engine Envoy and gRPC use).");
}

bool isMatchEverything(const routing::RouteMatch &m)
{
    const routing::PathMatch p = m.path.value_or(routing::PathMatch {});
    return p.type == routing::PathMatchType::PathPrefix && p.value == "/" && m.headers.empty() && m.queryParams.empty()
        && m.method.empty();
}

}  // namespace

RouteMatchEditor::RouteMatchEditor(QWidget *parent)
    : QWidget(parent)
    , m_alternative(new QComboBox(this))
    , m_addAlternative(new QToolButton(this))
    , m_removeAlternative(new QToolButton(this))
    , m_pathType(new QComboBox(this))
    , m_pathValue(new QLineEdit(this))
    , m_method(new QComboBox(this))
    , m_headers(nullptr)
    , m_query(nullptr)
    , m_issueLabel(routestyle::makeIssueLabel(this))
{
    m_alternative->setObjectName(QStringLiteral("matchAlternative"));
    m_alternative->setToolTip(tr("A rule's matches are alternatives: a request that meets all conditions of any one "
                                 "of them takes this rule"));
    m_addAlternative->setText(tr("+ Or"));
    m_addAlternative->setToolTip(tr("Add another alternative (OR) to this rule's matches"));
    m_addAlternative->setAutoRaise(true);
    m_removeAlternative->setText(tr("Remove"));
    m_removeAlternative->setToolTip(tr("Remove the alternative shown"));
    m_removeAlternative->setAutoRaise(true);

    m_pathType->setObjectName(QStringLiteral("pathType"));
    m_pathType->addItem(tr("Prefix"), int(routing::PathMatchType::PathPrefix));
    m_pathType->addItem(tr("Exact"), int(routing::PathMatchType::Exact));
    m_pathType->addItem(tr("Regex (RE2)"), int(routing::PathMatchType::RegularExpression));
    m_pathType->setToolTip(pathTip());
    m_pathValue->setObjectName(QStringLiteral("pathValue"));
    m_pathValue->setPlaceholderText(QStringLiteral("/"));
    m_pathValue->setToolTip(pathTip());
    QFont mono(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::TypeWriter);
    m_pathValue->setFont(mono);

    m_method->setObjectName(QStringLiteral("method"));
    m_method->addItem(tr("any"), QString());
    for (const char *m : kMethods)
        m_method->addItem(QLatin1String(m), QLatin1String(m));
    m_method->setToolTip(tr("Only requests with this HTTP method match. gRPC calls are always POST."));

    m_headers = makeConditionTable(QStringLiteral("headerMatches"), tr("header"));
    m_query = makeConditionTable(QStringLiteral("queryMatches"), tr("query parameter"));

    auto *altRow = new QHBoxLayout;
    altRow->setSpacing(6);
    altRow->addWidget(m_alternative, 1);
    altRow->addWidget(m_addAlternative);
    altRow->addWidget(m_removeAlternative);

    auto *pathRow = new QHBoxLayout;
    pathRow->setSpacing(6);
    pathRow->addWidget(m_pathType);
    pathRow->addWidget(m_pathValue, 1);

    auto tableWithButtons = [this](QTableWidget *table, const QString &what) {
        auto *box = new QWidget(this);
        auto *v = new QVBoxLayout(box);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(2);
        v->addWidget(table);
        auto *buttons = new QHBoxLayout;
        auto *add = new QToolButton(box);
        add->setText(tr("+ Add %1").arg(what));
        add->setAutoRaise(true);
        add->setToolTip(tr("Add a %1 condition (all conditions of an alternative must hold)").arg(what));
        auto *remove = new QToolButton(box);
        remove->setText(tr("Remove"));
        remove->setAutoRaise(true);
        remove->setToolTip(tr("Remove the selected %1 condition (Delete)").arg(what));
        auto *none = new QLabel(tr("none"), box);
        none->setForegroundRole(QPalette::PlaceholderText);
        buttons->addWidget(none);
        buttons->addWidget(add);
        buttons->addWidget(remove);
        buttons->addStretch(1);
        v->addLayout(buttons);
        m_conditionUi.push_back({table, remove, none});
        connect(add, &QToolButton::clicked, this, [this, table] {
            addConditionRow(table, QString(), routing::StringMatchType::Exact, QString());
            table->setCurrentCell(table->rowCount() - 1, 0);
            table->editItem(table->item(table->rowCount() - 1, 0));
            edited();
        });
        auto removeSelected = [this, table] {
            const int row = table->currentRow();
            if (row < 0)
                return;
            table->removeRow(row);
            refreshTables();
            edited();
        };
        connect(remove, &QToolButton::clicked, this, removeSelected);
        auto *del = new QAction(table);
        del->setShortcut(QKeySequence::Delete);
        del->setShortcutContext(Qt::WidgetShortcut);
        connect(del, &QAction::triggered, this, removeSelected);
        table->addAction(del);
        return box;
    };

    auto *form = new QFormLayout;
    form->setContentsMargins(0, 0, 0, 0);
    form->setHorizontalSpacing(10);
    form->setVerticalSpacing(6);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    form->addRow(tr("Alternative"), altRow);
    form->addRow(tr("&Path"), pathRow);
    form->addRow(tr("&Method"), m_method);
    form->addRow(tr("Headers"), tableWithButtons(m_headers, tr("header")));
    form->addRow(tr("Query"), tableWithButtons(m_query, tr("query parameter")));
    refreshTables();
    static_cast<QLabel *>(form->labelForField(pathRow))->setBuddy(m_pathValue);
    static_cast<QLabel *>(form->labelForField(m_method))->setBuddy(m_method);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(4);
    v->addLayout(form);
    v->addWidget(m_issueLabel);

    connect(m_alternative, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (m_loading || i < 0)
            return;
        storeAlternative();
        m_current = i;
        loadAlternative();
    });
    connect(m_addAlternative, &QToolButton::clicked, this, [this] {
        storeAlternative();
        m_matches.push_back(routing::RouteMatch {routing::PathMatch {}, {}, {}, {}});
        m_current = int(m_matches.size()) - 1;
        m_implicit = false;
        refreshAlternatives();
        loadAlternative();
        m_pathValue->setFocus();
        Q_EMIT changed();
    });
    connect(m_removeAlternative, &QToolButton::clicked, this, [this] {
        if (m_matches.size() <= 1)
            return;
        m_matches.erase(m_matches.begin() + m_current);
        m_current = std::min(m_current, int(m_matches.size()) - 1);
        m_implicit = false;
        refreshAlternatives();
        loadAlternative();
        Q_EMIT changed();
    });
    connect(m_pathType, &QComboBox::currentIndexChanged, this, [this] { edited(); });
    connect(m_pathValue, &QLineEdit::textEdited, this, [this] { edited(); });
    connect(m_method, &QComboBox::currentIndexChanged, this, [this] { edited(); });
    for (QTableWidget *t : {m_headers, m_query})
        connect(t, &QTableWidget::itemChanged, this, [this] { edited(); });
}

QTableWidget *RouteMatchEditor::makeConditionTable(const QString &objectName, const QString &what)
{
    auto *t = new QTableWidget(0, 3, this);
    t->setObjectName(objectName);
    t->setHorizontalHeaderLabels({tr("Name"), tr("Type"), tr("Value")});
    t->verticalHeader()->hide();
    t->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    t->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    t->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    t->horizontalHeader()->setHighlightSections(false);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setEditTriggers(QAbstractItemView::AllEditTriggers);
    t->setAlternatingRowColors(true);
    t->setShowGrid(false);
    t->setTabKeyNavigation(false);
    t->setToolTip(
        tr("%1 conditions: name, Exact or Regex (RE2, whole value), value. Type to edit, Delete removes.").arg(what));
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 10);
    return t;
}

void RouteMatchEditor::addConditionRow(
    QTableWidget *table, const QString &name, routing::StringMatchType type, const QString &value)
{
    const bool was = table->blockSignals(true);
    const int row = table->rowCount();
    table->insertRow(row);
    table->setItem(row, 0, new QTableWidgetItem(name));
    auto *typeBox = new QComboBox(table);
    typeBox->addItem(tr("Exact"), int(routing::StringMatchType::Exact));
    typeBox->addItem(tr("Regex"), int(routing::StringMatchType::RegularExpression));
    typeBox->setCurrentIndex(type == routing::StringMatchType::RegularExpression ? 1 : 0);
    typeBox->setFrame(false);
    connect(typeBox, &QComboBox::currentIndexChanged, this, [this] { edited(); });
    table->setCellWidget(row, 1, typeBox);
    table->setItem(row, 2, new QTableWidgetItem(value));
    table->blockSignals(was);
    refreshTables();
    // Tall enough for every row (up to six), so the form scrolls rather than each table.
    const int rows = std::clamp(table->rowCount(), 1, 6);
    table->setFixedHeight(table->horizontalHeader()->sizeHint().height()
        + rows * table->verticalHeader()->defaultSectionSize() + 2 * table->frameWidth() + 2);
}

void RouteMatchEditor::setMatches(const std::vector<routing::RouteMatch> &matches)
{
    m_matches = matches;
    m_implicit = m_matches.empty();
    if (m_implicit)
        m_matches.push_back(routing::RouteMatch {});
    m_current = 0;
    m_issues.clear();
    refreshAlternatives();
    loadAlternative();
}

std::vector<routing::RouteMatch> RouteMatchEditor::matches() const
{
    if (m_implicit && m_matches.size() == 1 && isMatchEverything(m_matches.front()))
        return {};
    return m_matches;
}

int RouteMatchEditor::currentAlternative() const { return m_current; }

void RouteMatchEditor::setCurrentAlternative(int index)
{
    if (index < 0 || size_t(index) >= m_matches.size() || index == m_current)
        return;
    storeAlternative();
    m_current = index;
    refreshAlternatives();
    loadAlternative();
}

void RouteMatchEditor::refreshAlternatives()
{
    m_loading = true;
    m_alternative->clear();
    for (size_t i = 0; i < m_matches.size(); ++i) {
        const int errors = int(std::count_if(m_issues.begin(), m_issues.end(), [&](const routing::RouteIssue &x) {
            return x.severity == routing::Severity::Error
                && !routestyle::issuesUnder({x}, "matches[" + std::to_string(i) + "]").empty();
        }));
        QString text = m_matches.size() == 1 ? tr("The only alternative")
                                             : tr("Alternative %1 of %2").arg(i + 1).arg(m_matches.size());
        if (errors > 0)
            text += tr("  (%n error(s))", nullptr, errors);
        m_alternative->addItem(text);
    }
    m_alternative->setCurrentIndex(m_current);
    m_alternative->setEnabled(m_matches.size() > 1);
    m_removeAlternative->setEnabled(m_matches.size() > 1);
    m_loading = false;
}

void RouteMatchEditor::loadAlternative()
{
    if (m_current < 0 || size_t(m_current) >= m_matches.size())
        return;
    m_loading = true;
    const routing::RouteMatch &m = m_matches[size_t(m_current)];
    const routing::PathMatch p = m.path.value_or(routing::PathMatch {});
    m_pathType->setCurrentIndex(std::max(0, m_pathType->findData(int(p.type))));
    m_pathValue->setText(qs(p.value));
    m_method->setCurrentIndex(std::max(0, m_method->findData(qs(m.method))));
    for (QTableWidget *t : {m_headers, m_query}) {
        const bool was = t->blockSignals(true);
        t->setRowCount(0);
        t->blockSignals(was);
    }
    for (const routing::HeaderMatch &h : m.headers)
        addConditionRow(m_headers, qs(h.name), h.type, qs(h.value));
    for (const routing::QueryParamMatch &q : m.queryParams)
        addConditionRow(m_query, qs(q.name), q.type, qs(q.value));
    for (QTableWidget *t : {m_headers, m_query}) {
        if (t->rowCount() == 0) {
            t->setFixedHeight(t->horizontalHeader()->sizeHint().height() + t->verticalHeader()->defaultSectionSize()
                + 2 * t->frameWidth() + 2);
        }
    }
    m_loading = false;
    refreshTables();
    setIssues(m_issues);
}

void RouteMatchEditor::refreshTables()
{
    for (const ConditionUi &ui : m_conditionUi) {
        const bool empty = ui.table->rowCount() == 0;
        ui.table->setVisible(!empty);
        ui.remove->setVisible(!empty);
        ui.none->setVisible(empty);
    }
}

void RouteMatchEditor::storeAlternative()
{
    if (m_current < 0 || size_t(m_current) >= m_matches.size())
        return;
    routing::RouteMatch &m = m_matches[size_t(m_current)];
    const auto type = routing::PathMatchType(m_pathType->currentData().toInt());
    const std::string value = m_pathValue->text().toStdString();
    // Keep "no path" when it still means the default, so an untouched rule does not diff.
    if (m.path || type != routing::PathMatchType::PathPrefix || value != "/")
        m.path = routing::PathMatch {type, value};
    m.method = m_method->currentData().toString().toStdString();
    m.headers.clear();
    for (int r = 0; r < m_headers->rowCount(); ++r) {
        routing::HeaderMatch h;
        h.name = m_headers->item(r, 0) ? m_headers->item(r, 0)->text().trimmed().toStdString() : std::string();
        const auto *box = qobject_cast<QComboBox *>(m_headers->cellWidget(r, 1));
        h.type = box ? routing::StringMatchType(box->currentData().toInt()) : routing::StringMatchType::Exact;
        h.value = m_headers->item(r, 2) ? m_headers->item(r, 2)->text().toStdString() : std::string();
        m.headers.push_back(h);
    }
    m.queryParams.clear();
    for (int r = 0; r < m_query->rowCount(); ++r) {
        routing::QueryParamMatch q;
        q.name = m_query->item(r, 0) ? m_query->item(r, 0)->text().trimmed().toStdString() : std::string();
        const auto *box = qobject_cast<QComboBox *>(m_query->cellWidget(r, 1));
        q.type = box ? routing::StringMatchType(box->currentData().toInt()) : routing::StringMatchType::Exact;
        q.value = m_query->item(r, 2) ? m_query->item(r, 2)->text().toStdString() : std::string();
        m.queryParams.push_back(q);
    }
}

void RouteMatchEditor::edited()
{
    if (m_loading)
        return;
    storeAlternative();
    if (m_implicit && !(m_matches.size() == 1 && isMatchEverything(m_matches.front())))
        m_implicit = false;
    Q_EMIT changed();
}

void RouteMatchEditor::addHeader(const QString &name, const QString &value, routing::StringMatchType type)
{
    addConditionRow(m_headers, name, type, value);
    edited();
    m_headers->setCurrentCell(m_headers->rowCount() - 1, 2);
}

void RouteMatchEditor::setIssues(const std::vector<routing::RouteIssue> &issues)
{
    m_issues = routestyle::issuesUnder(issues, "matches");
    const std::string base = "matches[" + std::to_string(m_current) + "]";
    const auto here = routestyle::issuesUnder(m_issues, base);
    routestyle::markField(m_pathValue, routestyle::issuesUnder(here, base + ".path"), pathTip());
    routestyle::markField(m_method, routestyle::issuesUnder(here, base + ".method"),
        tr("Only requests with this HTTP method match. gRPC calls are always POST."));
    const QColor errorBg(0x5a, 0x1e, 0x1e);
    const QColor warnBg(0x4d, 0x3b, 0x12);
    auto markTable = [&](QTableWidget *t, const std::string &key) {
        const bool was = t->blockSignals(true);
        for (int r = 0; r < t->rowCount(); ++r) {
            for (int c : {0, 2}) {
                QTableWidgetItem *item = t->item(r, c);
                if (!item)
                    continue;
                const std::string field
                    = base + "." + key + "[" + std::to_string(r) + "]" + (c == 0 ? ".name" : ".value");
                int worst = 0;
                QStringList msgs;
                for (const routing::RouteIssue &x : here) {
                    if (x.field == field || (c == 0 && x.field == base + "." + key + "[" + std::to_string(r) + "]")) {
                        worst = std::max(worst, x.severity == routing::Severity::Error ? 2 : 1);
                        msgs << qs(x.message);
                    }
                }
                item->setBackground(worst == 2 ? QBrush(errorBg) : worst == 1 ? QBrush(warnBg) : QBrush());
                item->setToolTip(msgs.join(QLatin1Char('\n')));
            }
        }
        t->blockSignals(was);
    };
    markTable(m_headers, "headers");
    markTable(m_query, "queryParams");
    // Issues of the alternative shown, and a count of the others in the combo box.
    routestyle::showIssues(m_issueLabel, here, base);
    if (!m_loading) {
        m_loading = true;
        for (int i = 0; i < m_alternative->count() && size_t(i) < m_matches.size(); ++i) {
            const auto errs = routestyle::issuesUnder(m_issues, "matches[" + std::to_string(i) + "]");
            const int n = int(std::count_if(errs.begin(), errs.end(),
                [](const routing::RouteIssue &x) { return x.severity == routing::Severity::Error; }));
            QString text = m_matches.size() == 1 ? tr("The only alternative")
                                                 : tr("Alternative %1 of %2").arg(i + 1).arg(m_matches.size());
            if (n > 0)
                text += tr("  (%n error(s))", nullptr, n);
            m_alternative->setItemText(i, text);
        }
        m_loading = false;
    }
}

}  // namespace meshscope

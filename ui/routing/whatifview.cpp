#include "routing/whatifview.h"

#include "displayformat.h"
#include "traces/tracestore.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

QTableWidget *table(QWidget *parent, const QString &name, const QStringList &headers)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

QTableWidgetItem *number(double v)
{
    auto *item = new QTableWidgetItem(QString::number(std::lround(v)));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString headersText(const routing::RouteRequest &r)
{
    QStringList parts;
    for (const auto &[name, value] : r.headers)
        parts << qs(name) + QStringLiteral(": ") + qs(value);
    return parts.join(QStringLiteral(", "));
}

}  // namespace

routing::WhatIfReport whatIfOnRecentTraffic(const TraceStore &store, uint64_t fromNs, uint64_t toNs,
    const routing::RouteSet &current, const routing::RouteSet &proposed, routing::DataPlane plane, size_t maxTraces,
    uint64_t *traces)
{
    TraceFilter filter;
    filter.fromNs = fromNs;
    filter.toNs = toNs;
    filter.limit = uint32_t(maxTraces);
    routing::RequestCollector collector;
    const std::vector<TraceSummary> found = store.search(filter);
    for (const TraceSummary &t : found) {
        if (std::optional<std::vector<Span>> spans = store.trace(t.traceId))
            collector.ingestSpans(std::move(*spans), 0, "otlp");
    }
    *traces = found.size();
    const routing::RouteMatcher before(current, plane);
    const routing::RouteMatcher after(proposed, plane);
    std::set<std::string> headerNames = before.headerNames();
    headerNames.insert(after.headerNames().begin(), after.headerNames().end());
    return routing::runWhatIf(routing::distinctRequests(collector.requests(), headerNames), before, after);
}

std::map<std::string, std::pair<double, double>> whatIfByBackend(const routing::WhatIfReport &report)
{
    std::map<std::string, std::pair<double, double>> out;
    for (const routing::WhatIfRow &row : report.rows) {
        if (row.backend.empty())
            continue;
        auto &[before, after] = out[row.backend];
        before += row.before;
        after += row.after;
    }
    return out;
}

WhatIfView::WhatIfView(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("whatIfView"));
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("whatIfSummary"));
    m_summary->setWordWrap(true);
    m_rules = table(this, QStringLiteral("whatIfRules"),
        {tr("Route"), tr("Rule"), tr("Backend"), tr("Before"), tr("After"), tr("Change")});
    m_moved = table(this, QStringLiteral("whatIfMoved"),
        {tr("Requests"), tr("Method"), tr("Path"), tr("Headers"), tr("Now"), tr("With the edits")});
    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(0, 6, 0, 0);
    v->addWidget(m_summary);
    v->addWidget(m_rules, 2);
    auto *movedLabel = new QLabel(tr("Requests whose route would change"), this);
    v->addWidget(movedLabel);
    v->addWidget(m_moved, 1);
}

void WhatIfView::setPending(const QString &text)
{
    m_summary->setText(text);
    m_rules->setRowCount(0);
    m_moved->setRowCount(0);
}

void WhatIfView::setReport(const routing::WhatIfReport &report, const QString &source)
{
    const uint64_t matchedBefore = report.requests - report.unmatchedBefore;
    const uint64_t matchedAfter = report.requests - report.unmatchedAfter;
    QString text;
    if (report.requests == 0)
        text = tr("No requests with a path in %1: nothing to replay yet.").arg(source);
    else if (matchedBefore == 0 && matchedAfter == 0)
        text = tr("None of the %1 request(s) from %2 matches these routes: their hosts are not the routes' "
                  "hostnames (for %3).")
                   .arg(display::count(report.requests), source, QString::fromStdString(report.dataPlane));
    else
        text = tr("Replayed %1 request(s) from %2: %3 match the routes served, %4 the edited ones; %5 would change "
                  "route.")
                   .arg(display::count(report.requests), source, display::count(matchedBefore),
                       display::count(matchedAfter), display::count(report.movedRequests));
    m_summary->setText(text);
    m_rules->setRowCount(int(report.rows.size()));
    for (int i = 0; i < int(report.rows.size()); ++i) {
        const routing::WhatIfRow &row = report.rows[size_t(i)];
        m_rules->setItem(i, 0, new QTableWidgetItem(qs(row.route)));
        m_rules->setItem(i, 1,
            new QTableWidgetItem(row.ruleName.empty() ? QStringLiteral("rules[%1]").arg(row.rule) : qs(row.ruleName)));
        m_rules->setItem(i, 2, new QTableWidgetItem(row.backend.empty() ? tr("(no backend)") : qs(row.backend)));
        m_rules->setItem(i, 3, number(row.before));
        m_rules->setItem(i, 4, number(row.after));
        const long delta = std::lround(row.after) - std::lround(row.before);
        auto *change = new QTableWidgetItem(
            delta == 0 ? QString() : (delta > 0 ? QStringLiteral("+") : QString()) + QString::number(delta));
        change->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_rules->setItem(i, 5, change);
    }
    m_rules->resizeColumnsToContents();
    m_moved->setRowCount(int(report.moved.size()));
    for (int i = 0; i < int(report.moved.size()); ++i) {
        const routing::MovedRequest &m = report.moved[size_t(i)];
        m_moved->setItem(i, 0, number(double(m.count)));
        m_moved->setItem(i, 1, new QTableWidgetItem(qs(m.request.method)));
        m_moved->setItem(i, 2, new QTableWidgetItem(qs(m.request.path)));
        m_moved->setItem(i, 3, new QTableWidgetItem(headersText(m.request)));
        m_moved->setItem(i, 4, new QTableWidgetItem(qs(m.before)));
        m_moved->setItem(i, 5, new QTableWidgetItem(qs(m.after)));
    }
    m_moved->resizeColumnsToContents();
}

QString WhatIfView::summaryText() const { return m_summary->text(); }

}  // namespace meshscope

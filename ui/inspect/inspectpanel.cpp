#include "inspect/inspectpanel.h"

#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "graph/healthpolicy.h"
#include "inspect/models/statuscodesmodel.h"
#include "inspect/models/upstreamhealthmodel.h"
#include "inspect/timeserieschart.h"
#include "sources/models/peerstablemodel.h"

#include <QFontMetrics>
#include <QFrame>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

constexpr int kRefreshMs = 1000;

const QColor kRequestsColor(0x58, 0xa6, 0xff);
const QColor kP50Color(0x58, 0xa6, 0xff);
const QColor kP95Color(0xbc, 0x8c, 0xff);
const QColor kP99Color(0xff, 0xa6, 0x57);

}  // namespace

InspectPanel::InspectPanel(GraphAggregator *aggregator, QWidget *parent)
    : QWidget(parent)
    , m_aggregator(aggregator)
    , m_stack(new QStackedWidget(this))
    , m_timer(new QTimer(this))
{
    auto *placeholder = new QLabel(tr("Click a service or an edge on the graph to inspect its traffic.\n\n"
                                      "Ctrl+F finds a service by name."),
        this);
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    placeholder->setForegroundRole(QPalette::PlaceholderText);
    placeholder->setMargin(24);
    m_stack->addWidget(placeholder);

    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setWidget(buildDetails());
    m_stack->addWidget(scroll);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    m_timer->setInterval(kRefreshMs);
    connect(m_timer, &QTimer::timeout, this, &InspectPanel::refresh);
}

QWidget *InspectPanel::buildDetails()
{
    auto *page = new QWidget;
    auto *v = new QVBoxLayout(page);
    v->setContentsMargins(10, 8, 10, 10);
    v->setSpacing(4);

    // Identity: name, then namespace / version / kind, and a health pill.
    auto *header = new QHBoxLayout;
    auto *names = new QVBoxLayout;
    m_title = new QLabel(page);
    m_title->setObjectName(QStringLiteral("inspectTitle"));
    QFont tf = m_title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.45);
    tf.setBold(true);
    m_title->setFont(tf);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_title->setWordWrap(true);
    m_subtitle = new QLabel(page);
    m_subtitle->setObjectName(QStringLiteral("inspectSubtitle"));
    m_subtitle->setForegroundRole(QPalette::PlaceholderText);
    m_subtitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_subtitle->setWordWrap(true);
    names->addWidget(m_title);
    names->addWidget(m_subtitle);
    header->addLayout(names, 1);
    m_health = new QLabel(page);
    m_health->setObjectName(QStringLiteral("inspectHealth"));
    m_health->setAlignment(Qt::AlignCenter);
    // Wide enough for the longest state, so the pill does not jump or clip as health changes.
    QFont hf = m_health->font();
    hf.setBold(true);
    m_health->setMinimumWidth(QFontMetrics(hf).horizontalAdvance(QStringLiteral("NO TRAFFIC")) + 24);
    header->addWidget(m_health, 0, Qt::AlignTop);
    v->addLayout(header);

    // Headline numbers over the window, as tiles.
    auto *tiles = new QFrame(page);
    tiles->setObjectName(QStringLiteral("metricTiles"));
    tiles->setFrameShape(QFrame::StyledPanel);
    auto *grid = new QGridLayout(tiles);
    grid->setContentsMargins(8, 6, 8, 6);
    grid->setHorizontalSpacing(12);
    grid->setVerticalSpacing(2);
    m_metrics[int(Metric::Rps)] = addMetricTile(grid, 0, 0, tr("Requests/s"), QStringLiteral("metric_rps"));
    m_metrics[int(Metric::ErrorRate)] = addMetricTile(grid, 0, 1, tr("Errors"), QStringLiteral("metric_errors"));
    m_metrics[int(Metric::ClientErrorRate)] = addMetricTile(grid, 0, 2, tr("4xx"), QStringLiteral("metric_4xx"));
    m_metrics[int(Metric::P50)] = addMetricTile(grid, 2, 0, tr("p50"), QStringLiteral("metric_p50"));
    m_metrics[int(Metric::P95)] = addMetricTile(grid, 2, 1, tr("p95"), QStringLiteral("metric_p95"));
    m_metrics[int(Metric::P99)] = addMetricTile(grid, 2, 2, tr("p99"), QStringLiteral("metric_p99"));
    v->addWidget(tiles);

    m_requestsChart = new TimeSeriesChart(tr("Requests"), tr("req/s"), page);
    m_requestsChart->setObjectName(QStringLiteral("requestsChart"));
    m_requestsChart->addSeries(tr("requests/s"), kRequestsColor);
    m_errorsChart = new TimeSeriesChart(tr("Errors"), tr("%"), page);
    m_errorsChart->setObjectName(QStringLiteral("errorsChart"));
    m_errorsChart->addSeries(tr("5xx / gRPC errors"), display::healthColor(Health::Failing));
    m_errorsChart->addSeries(tr("4xx"), display::healthColor(Health::Degraded));
    m_latencyChart = new TimeSeriesChart(tr("Latency"), tr("ms"), page);
    m_latencyChart->setObjectName(QStringLiteral("latencyChart"));
    m_latencyChart->addSeries(tr("p50"), kP50Color);
    m_latencyChart->addSeries(tr("p95"), kP95Color);
    m_latencyChart->addSeries(tr("p99"), kP99Color);
    v->addWidget(m_requestsChart);
    v->addWidget(m_errorsChart);
    v->addWidget(m_latencyChart);

    m_inbound = new PeersTableModel(this);
    m_outbound = new PeersTableModel(this);
    m_inboundProxy = new QSortFilterProxyModel(this);
    m_outboundProxy = new QSortFilterProxyModel(this);
    m_inboundProxy->setSourceModel(m_inbound);
    m_outboundProxy->setSourceModel(m_outbound);
    m_codes = new StatusCodesModel(this);
    m_codesProxy = new QSortFilterProxyModel(this);
    m_codesProxy->setSourceModel(m_codes);

    m_inboundView = makeTable(m_inboundProxy, PeersTableModel::Rps);
    m_inboundView->setObjectName(QStringLiteral("inboundTable"));
    m_outboundView = makeTable(m_outboundProxy, PeersTableModel::Rps);
    m_outboundView->setObjectName(QStringLiteral("outboundTable"));
    m_codesView = makeTable(m_codesProxy, StatusCodesModel::Count);
    m_codesView->setObjectName(QStringLiteral("statusCodesTable"));
    m_upstreams = new UpstreamHealthModel(this);
    m_upstreamsProxy = new QSortFilterProxyModel(this);
    m_upstreamsProxy->setSourceModel(m_upstreams);
    m_upstreamsView = makeTable(m_upstreamsProxy, UpstreamHealthModel::Requests);
    m_upstreamsView->setObjectName(QStringLiteral("upstreamsTable"));
    m_upstreamsView->hide();
    // Neighbours and codes share one tabbed area, so the charts above stay in view.
    m_tables = new QTabWidget(page);
    m_tables->setObjectName(QStringLiteral("inspectTables"));
    m_tables->setDocumentMode(true);
    m_tables->addTab(m_inboundView, tr("Inbound"));
    m_tables->addTab(m_outboundView, tr("Outbound"));
    m_tables->addTab(m_codesView, tr("Status codes"));
    v->addSpacing(6);
    v->addWidget(m_tables);
    v->addStretch(1);

    for (QTableView *view : {m_inboundView, m_outboundView, m_upstreamsView}) {
        connect(view, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
            static_assert(int(PeersTableModel::PeerIdRole) == int(UpstreamHealthModel::NodeIdRole));
            const QString id = index.data(PeersTableModel::PeerIdRole).toString();
            if (!id.isEmpty())
                Q_EMIT nodeActivated(id);
        });
    }
    return page;
}

QLabel *InspectPanel::addMetricTile(QGridLayout *grid, int row, int column, const QString &caption, const QString &name)
{
    auto *cap = new QLabel(caption.toUpper());
    QFont cf = cap->font();
    cf.setPointSizeF(cf.pointSizeF() * 0.8);
    cf.setLetterSpacing(QFont::PercentageSpacing, 106);
    cap->setFont(cf);
    cap->setForegroundRole(QPalette::PlaceholderText);
    auto *value = new QLabel(QStringLiteral("-"));
    value->setObjectName(name);
    QFont vf = value->font();
    vf.setPointSizeF(vf.pointSizeF() * 1.35);
    vf.setBold(true);
    value->setFont(vf);
    grid->addWidget(cap, row, column);
    grid->addWidget(value, row + 1, column);
    return value;
}

QTableView *InspectPanel::makeTable(QSortFilterProxyModel *proxy, int sortColumn)
{
    proxy->setSortRole(PeersTableModel::SortRole);  // same role number in every model here
    proxy->setDynamicSortFilter(true);
    auto *view = new QTableView;
    view->setModel(proxy);
    view->setSortingEnabled(true);
    view->sortByColumn(sortColumn, Qt::DescendingOrder);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->setShowGrid(false);
    view->setWordWrap(false);
    view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    view->verticalHeader()->hide();
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    view->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    view->horizontalHeader()->setHighlightSections(false);
    // Short lists inside a scrolling panel: room for six rows, then the table scrolls.
    const int rowH = view->verticalHeader()->defaultSectionSize();
    view->setMinimumHeight(view->horizontalHeader()->sizeHint().height() + rowH * 6 + 4);
    return view;
}

void InspectPanel::setSnapshot(GraphSnapshotPtr snapshot) { m_snapshot = std::move(snapshot); }

void InspectPanel::showNode(const QString &id)
{
    m_node = id;
    m_edge.clear();
    showSelection();
}

void InspectPanel::showEdge(const QString &id)
{
    m_edge = id;
    m_node.clear();
    showSelection();
}

void InspectPanel::clear()
{
    m_node.clear();
    m_edge.clear();
    m_timer->stop();
    m_stack->setCurrentIndex(0);
    m_inbound->setPeers({});
    m_outbound->setPeers({});
    m_codes->setCodes({});
    for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
        c->clearPoints();
}

void InspectPanel::showSelection()
{
    m_stack->setCurrentIndex(1);
    const bool edge = !m_edge.isEmpty();
    m_inbound->setPeerHeader(edge ? tr("Node") : tr("From"));
    m_outbound->setPeerHeader(edge ? tr("Node") : tr("To"));
    // Old series belong to the previous item; drop them before the first refresh.
    for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
        c->clearPoints();
    refresh();
    m_timer->start();
}

QString InspectPanel::title() const { return m_stack->currentIndex() == 1 ? m_title->text() : QString(); }

QString InspectPanel::subtitle() const { return m_stack->currentIndex() == 1 ? m_subtitle->text() : QString(); }

QString InspectPanel::metricText(Metric metric) const { return m_metrics[int(metric)]->text(); }

void InspectPanel::refresh()
{
    if (m_node.isEmpty() && m_edge.isEmpty())
        return;
    refreshHeadline();
    refreshCharts();
    updateTabTitles();
}

void InspectPanel::setUpstreamHealth(const QString &proxyNodeId, const std::vector<EnvoyClusterHealth> &clusters)
{
    if (clusters.empty())
        m_upstreamHealth.remove(proxyNodeId);
    else
        m_upstreamHealth.insert(proxyNodeId, clusters);
    if (proxyNodeId == m_node)
        refreshUpstreams();
}

bool InspectPanel::upstreamTabShown() const { return m_tables->indexOf(m_upstreamsView) >= 0; }

void InspectPanel::refreshUpstreams()
{
    const auto it = m_edge.isEmpty() ? m_upstreamHealth.constFind(m_node) : m_upstreamHealth.constEnd();
    const int tab = m_tables->indexOf(m_upstreamsView);
    if (it == m_upstreamHealth.constEnd()) {
        if (tab >= 0)
            m_tables->removeTab(tab);
        m_upstreams->setClusters({});
        return;
    }
    m_upstreams->setClusters(it.value());
    const int troubled = m_upstreams->troubledCount();
    const QString title = troubled > 0 ? tr("Upstreams (%1, %2 unhealthy)").arg(m_upstreams->rowCount()).arg(troubled)
                                       : tr("Upstreams (%1)").arg(m_upstreams->rowCount());
    if (tab < 0)
        m_tables->addTab(m_upstreamsView, title);
    else
        m_tables->setTabText(tab, title);
}

void InspectPanel::updateTabTitles()
{
    const bool edge = !m_edge.isEmpty();
    m_tables->setTabText(0, edge ? tr("Source") : tr("Inbound (%1)").arg(m_inbound->rowCount()));
    m_tables->setTabText(1, edge ? tr("Target") : tr("Outbound (%1)").arg(m_outbound->rowCount()));
    m_tables->setTabText(2, tr("Status codes (%1)").arg(m_codes->rowCount()));
    refreshUpstreams();
}

void InspectPanel::refreshHeadline()
{
    const GraphSnapshot empty;
    const GraphSnapshot &snap = m_snapshot ? *m_snapshot : empty;
    const HealthPolicy policy;
    TrafficStats stats;
    QVector<PeersTableModel::PeerRow> in, out;

    auto peerOf = [&](const std::string &nodeId, const TrafficStats &s) {
        PeersTableModel::PeerRow p;
        p.id = QString::fromStdString(nodeId);
        const NodeSnapshot *n = snap.node(nodeId);
        p.label = n ? QString::fromStdString(n->name) : display::nodeLabel(nodeId);
        if (n && !n->ns.empty())
            p.label += QStringLiteral("  (%1)").arg(QString::fromStdString(n->ns));
        p.stats = s;
        p.health = policy.classify(s);
        return p;
    };

    if (!m_node.isEmpty()) {
        const std::string id = m_node.toStdString();
        const NodeSnapshot *n = snap.node(id);
        if (n) {
            stats = n->stats;
            m_title->setText(QString::fromStdString(n->name));
            QStringList parts;
            parts << (n->ns.empty() ? tr("no namespace") : tr("namespace %1").arg(QString::fromStdString(n->ns)));
            if (!n->version.empty())
                parts << tr("version %1").arg(QString::fromStdString(n->version));
            parts << QLatin1String(nodeKindName(n->kind));
            if (n->kind == NodeKind::Other)
                parts << tr("%1 folded nodes").arg(n->foldedCount);
            m_subtitle->setText(parts.join(QStringLiteral("  ·  ")));
        } else {
            m_title->setText(display::nodeLabel(id));
            m_subtitle->setText(tr("no traffic in the last %1 s").arg(snap.windowSeconds));
        }
        for (const EdgeSnapshot &e : snap.edges) {
            if (e.target == id)
                in.append(peerOf(e.source, e.stats));
            if (e.source == id)
                out.append(peerOf(e.target, e.stats));
        }
    } else {
        const std::string id = m_edge.toStdString();
        const EdgeSnapshot *e = snap.edge(id);
        if (e) {
            stats = e->stats;
            const NodeSnapshot *src = snap.node(e->source);
            const NodeSnapshot *dst = snap.node(e->target);
            m_title->setText(QStringLiteral("%1  →  %2")
                                 .arg(src ? QString::fromStdString(src->name) : display::nodeLabel(e->source),
                                     dst ? QString::fromStdString(dst->name) : display::nodeLabel(e->target)));
            QStringList parts;
            parts << (e->direction == Direction::NorthSouth ? tr("north-south") : tr("east-west"));
            parts << QLatin1String(protocolName(e->protocol));
            parts << (e->mtls < 0 ? tr("mTLS unknown") : e->mtls ? tr("mTLS") : tr("plaintext"));
            QStringList origins;
            for (const std::string &o : e->origins)
                origins << QString::fromStdString(o);
            if (!origins.isEmpty())
                parts << tr("from %1").arg(origins.join(QStringLiteral(", ")));
            m_subtitle->setText(parts.join(QStringLiteral("  ·  ")));
            in.append(peerOf(e->source, src ? src->stats : TrafficStats {}));
            out.append(peerOf(e->target, dst ? dst->stats : TrafficStats {}));
        } else {
            m_title->setText(m_edge);
            m_subtitle->setText(tr("no traffic in the last %1 s").arg(snap.windowSeconds));
        }
    }

    const Health health = policy.classify(stats);
    m_health->setText(display::healthText(health).toUpper());
    const QColor hc = display::healthColor(health);
    m_health->setStyleSheet(QStringLiteral("QLabel { color: %1; border: 1px solid %1; border-radius: 4px; "
                                           "padding: 2px 8px; font-weight: bold; }")
                                .arg(hc.name()));
    m_metrics[int(Metric::Rps)]->setText(display::rps(stats.rps));
    m_metrics[int(Metric::ErrorRate)]->setText(display::percent(stats.errorRate));
    m_metrics[int(Metric::ClientErrorRate)]->setText(display::percent(stats.rate4xx));
    m_metrics[int(Metric::P50)]->setText(display::millis(stats.p50Ms));
    m_metrics[int(Metric::P95)]->setText(display::millis(stats.p95Ms));
    m_metrics[int(Metric::P99)]->setText(display::millis(stats.p99Ms));
    // Error tiles take the health colour so a failing service reads as failing at a glance.
    const HealthPolicy p;
    auto tint = [](QLabel *label, Health h) {
        label->setStyleSheet(
            h >= Health::Degraded ? QStringLiteral("color: %1;").arg(display::healthColor(h).name()) : QString());
    };
    tint(m_metrics[int(Metric::ErrorRate)],
        stats.errorRate > p.errorFailing
            ? Health::Failing
            : (stats.errorRate >= p.errorDegraded && stats.requests ? Health::Degraded : Health::Healthy));
    tint(m_metrics[int(Metric::ClientErrorRate)],
        stats.rate4xx >= p.clientErrorFailing
            ? Health::Failing
            : (stats.rate4xx >= p.clientErrorDegraded ? Health::Degraded : Health::Healthy));
    m_inbound->setPeers(std::move(in));
    m_outbound->setPeers(std::move(out));
}

void InspectPanel::refreshCharts()
{
    if (!m_aggregator)
        return;
    const int64_t nowMs = m_snapshot ? m_snapshot->timeMs : GraphAggregator::wallNowMs();
    const std::string id = (m_node.isEmpty() ? m_edge : m_node).toStdString();
    std::vector<SeriesPoint> series
        = m_node.isEmpty() ? m_aggregator->edgeSeries(id, nowMs) : m_aggregator->nodeSeries(id, nowMs);
    m_codes->setCodes(m_node.isEmpty() ? m_aggregator->edgeStatusCodes(id) : m_aggregator->nodeStatusCodes(id));

    // The current second is still filling up; plotting it would show a false dip.
    if (!series.empty())
        series.pop_back();
    const int64_t nowSecond = nowMs / 1000;
    QList<QPointF> rps, err, err4, p50, p95, p99;
    rps.reserve(qsizetype(series.size()));
    for (const SeriesPoint &p : series) {
        const double x = double(p.second - nowSecond);
        rps.append({x, double(p.requests)});
        // Seconds without requests have no error rate or latency; a zero there would
        // read as "healthy and instant", so those seconds get no point at all.
        if (p.requests == 0)
            continue;
        err.append({x, 100.0 * p.errors / p.requests});
        err4.append({x, 100.0 * p.errors4xx / p.requests});
        p50.append({x, p.p50});
        p95.append({x, p.p95});
        p99.append({x, p.p99});
    }
    const int window = m_snapshot ? m_snapshot->windowSeconds : 60;
    for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
        c->setWindow(window);
    m_requestsChart->setPoints(0, rps);
    m_errorsChart->setPoints(0, err);
    m_errorsChart->setPoints(1, err4);
    m_latencyChart->setPoints(0, p50);
    m_latencyChart->setPoints(1, p95);
    m_latencyChart->setPoints(2, p99);
    for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
        c->rescale();
}

}  // namespace meshscope

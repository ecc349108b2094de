#include "inspect/inspectpanel.h"

#include "backgroundjobs.h"
#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "graph/healthpolicy.h"
#include "inspect/models/statuscodesmodel.h"
#include "inspect/models/upstreamhealthmodel.h"
#include "inspect/timeserieschart.h"
#include "sources/models/peerstablemodel.h"
#include "sources/sourcemanager.h"
#include "telemetry/prometheus/prometheussource.h"
#include "traces/traceql.h"
#include "traces/tracesearch.h"
#include "traces/tracestore.h"

#include <QAction>
#include <QComboBox>
#include <QDateTime>
#include <QDesktopServices>
#include <QFontDatabase>
#include <QFontMetrics>
#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMenu>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

constexpr int kRefreshMs = 1000;
// Pooling an error-rate point reaches back at most this many steps for its requests.
constexpr int kMaxPooledSteps = 60;
// Custom chart windows: from a minute to 30 days.
constexpr int kMinWindowSeconds = 60;
constexpr int kMaxWindowSeconds = 30 * 86400;
// Prometheus is asked again once a step has passed, but not more often than this, nor
// less often than the second bound.
constexpr qint64 kPromRefreshMinMs = 10000;
constexpr qint64 kPromRefreshMaxMs = 60000;

const QColor kRequestsColor(0x58, 0xa6, 0xff);
const QColor kP50Color(0x58, 0xa6, 0xff);
const QColor kP95Color(0xbc, 0x8c, 0xff);
const QColor kP99Color(0xff, 0xa6, 0x57);

QSettings appSettings() { return QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope")); }

// 60 -> "1 min", 90 -> "90 s", 5400 -> "90 min", 21600 -> "6 h", 172800 -> "2 d".
QString durationText(int seconds)
{
    if (seconds % 86400 == 0 && seconds >= 86400 * 2)
        return QObject::tr("%1 d").arg(seconds / 86400);
    if (seconds % 3600 == 0)
        return QObject::tr("%1 h").arg(seconds / 3600);
    if (seconds % 60 == 0)
        return QObject::tr("%1 min").arg(seconds / 60);
    return QObject::tr("%1 s").arg(seconds);
}

}  // namespace

// Waits for a Traces search in flight: it reads the trace store.
InspectPanel::~InspectPanel() = default;

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

    const int saved = appSettings().value(chartWindowSettingsKey(), 60).toInt();
    setChartWindowSeconds(saved >= kMinWindowSeconds && saved <= kMaxWindowSeconds ? saved : 60);
}

int InspectPanel::parseDuration(const QString &text)
{
    static const QRegularExpression part(
        QStringLiteral("(\\d+(?:\\.\\d+)?)\\s*(d|h|m|min|s)?"), QRegularExpression::CaseInsensitiveOption);
    const QString t = text.trimmed();
    if (t.isEmpty())
        return 0;
    double seconds = 0;
    qsizetype at = 0;
    while (at < t.size()) {
        if (t[at].isSpace()) {
            ++at;
            continue;
        }
        const QRegularExpressionMatch m
            = part.match(t, at, QRegularExpression::NormalMatch, QRegularExpression::AnchorAtOffsetMatchOption);
        if (!m.hasMatch() || m.capturedLength() == 0)
            return 0;
        const double n = m.captured(1).toDouble();
        const QString unit = m.captured(2).toLower();
        seconds += n
            * (unit == QLatin1String("d")        ? 86400
                    : unit == QLatin1String("h") ? 3600
                    : unit == QLatin1String("s") ? 1
                                                 : 60);  // a bare number is minutes
        at += m.capturedLength();
    }
    return seconds >= 1 && seconds <= 1e9 ? int(std::lround(seconds)) : 0;
}

void InspectPanel::setPersistenceEnabled(bool enabled)
{
    m_persist = enabled;
    if (!enabled)
        setChartWindowSeconds(60);
}

void InspectPanel::addWindowChoice(int seconds)
{
    if (m_windowPicker->findData(seconds) >= 0)
        return;
    // In order of length, before "Custom…" (data 0) once that is there.
    const int custom = m_windowPicker->findData(0);
    int at = custom >= 0 ? custom : m_windowPicker->count();
    for (int i = 0; i < at; ++i) {
        if (m_windowPicker->itemData(i).toInt() > seconds) {
            at = i;
            break;
        }
    }
    m_windowPicker->insertItem(at, durationText(seconds), seconds);
    if (seconds > kLiveHistorySeconds)
        m_windowPicker->setItemData(
            at, tr("Live history keeps the last hour: longer ranges come from a Prometheus source"), Qt::ToolTipRole);
}

void InspectPanel::setChartWindowSeconds(int seconds)
{
    seconds = std::clamp(seconds, kMinWindowSeconds, kMaxWindowSeconds);
    addWindowChoice(seconds);
    const int index = m_windowPicker->findData(seconds);
    if (m_windowPicker->currentIndex() != index) {
        const QSignalBlocker block(m_windowPicker);
        m_windowPicker->setCurrentIndex(index);
    }
    const bool changed = seconds != m_windowSeconds;
    m_windowSeconds = seconds;
    if (m_persist)
        appSettings().setValue(chartWindowSettingsKey(), seconds);
    if (changed && (!m_node.isEmpty() || !m_edge.isEmpty())) {
        for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
            c->clearPoints();
        refreshCharts();
    }
}

void InspectPanel::windowPicked(int index)
{
    const int seconds = m_windowPicker->itemData(index).toInt();
    if (seconds > 0) {
        setChartWindowSeconds(seconds);
        return;
    }
    // "Custom…": asked without blocking, and the picker shows the current window meanwhile.
    {
        const QSignalBlocker block(m_windowPicker);
        m_windowPicker->setCurrentIndex(m_windowPicker->findData(m_windowSeconds));
    }
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("customChartWindow"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Chart window"));
    dialog->setLabelText(tr("Show the last (for example 90m, 6h, 2d; Prometheus sources keep long ranges, live "
                            "history the last hour):"));
    dialog->setTextValue(durationText(m_windowSeconds).remove(QLatin1Char(' ')));
    connect(dialog, &QInputDialog::textValueSelected, this, [this](const QString &text) {
        const int seconds = parseDuration(text);
        if (seconds >= kMinWindowSeconds && seconds <= kMaxWindowSeconds)
            setChartWindowSeconds(seconds);
    });
    dialog->open();
}

void InspectPanel::setSourceManager(SourceManager *sources)
{
    m_sources = sources;
    if (!m_node.isEmpty() || !m_edge.isEmpty())
        refreshCharts();
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
    // How many requests those numbers stand on, and a warning where that is few.
    m_sample = new QLabel(page);
    m_sample->setObjectName(QStringLiteral("sampleNote"));
    m_sample->setWordWrap(true);
    m_sample->setForegroundRole(QPalette::PlaceholderText);
    v->addWidget(m_sample);
    // Whether traffic follows the configured split of the routes carrying this service.
    m_routeSplit = new QLabel(page);
    m_routeSplit->setObjectName(QStringLiteral("routeSplitNote"));
    m_routeSplit->setWordWrap(true);
    m_routeSplit->setTextFormat(Qt::PlainText);
    m_routeSplit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_routeSplit->hide();
    v->addWidget(m_routeSplit);

    // The chart window, and what the charts below are made of.
    auto *windowRow = new QHBoxLayout;
    auto *windowLabel = new QLabel(tr("Charts over the last"), page);
    m_windowPicker = new QComboBox(page);
    m_windowPicker->setObjectName(QStringLiteral("chartWindow"));
    m_windowPicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    windowLabel->setBuddy(m_windowPicker);
    for (int seconds : {60, 300, 900, 3600, 21600, 86400})
        addWindowChoice(seconds);
    m_windowPicker->addItem(tr("Custom…"), 0);
    m_windowPicker->setToolTip(tr("How far back the charts reach; the step follows (1 min: 1 s, 5 min: 5 s, "
                                  "15 min: 15 s, 1 h: 30 s). Live history keeps the last hour; a Prometheus "
                                  "source charts any range."));
    connect(m_windowPicker, &QComboBox::activated, this, &InspectPanel::windowPicked);
    windowRow->addWidget(windowLabel);
    windowRow->addWidget(m_windowPicker);
    windowRow->addStretch(1);
    windowRow->addWidget(buildGrafanaButton(page));
    v->addSpacing(4);
    v->addLayout(windowRow);
    m_chartNote = new QLabel(page);
    m_chartNote->setObjectName(QStringLiteral("chartNote"));
    m_chartNote->setWordWrap(true);
    m_chartNote->setForegroundRole(QPalette::PlaceholderText);
    QFont nf = m_chartNote->font();
    nf.setPointSizeF(nf.pointSizeF() * 0.9);
    m_chartNote->setFont(nf);
    m_sample->setFont(nf);
    v->addWidget(m_chartNote);

    m_requestsChart = new TimeSeriesChart(tr("Requests"), tr("req/s"), page);
    m_requestsChart->setObjectName(QStringLiteral("requestsChart"));
    m_requestsChart->addSeries(tr("requests/s"), kRequestsColor);
    m_errorsChart = new TimeSeriesChart(tr("Errors"), tr("%"), page);
    m_errorsChart->setObjectName(QStringLiteral("errorsChart"));
    m_errorsChart->addSeries(tr("5xx / gRPC"), display::healthColor(Health::Failing));
    m_errorsChart->addSeries(tr("4xx"), display::healthColor(Health::Degraded), Qt::DashLine);
    m_latencyChart = new TimeSeriesChart(tr("Latency"), tr("ms"), page);
    m_latencyChart->setObjectName(QStringLiteral("latencyChart"));
    m_latencyChart->addSeries(tr("p50"), kP50Color);
    m_latencyChart->addSeries(tr("p95"), kP95Color);
    // Dashed, and drawn last: where p95 and p99 are the same (few requests, one slow
    // outlier) the p95 line shows through the gaps instead of hiding under p99.
    m_latencyChart->addSeries(tr("p99"), kP99Color, Qt::DashLine);
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
    updateLinkActions();
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
    if (m_tracesPage && m_tables->currentWidget() == m_tracesPage)
        refreshTraces();
}

void InspectPanel::setTraceStore(const TraceStore *store)
{
    if (m_traceStore || !store)
        return;
    m_traceStore = store;
    m_traceJobs = std::make_unique<BackgroundJobs>(this);
    m_tracesPage = new QWidget(m_tables);
    m_tracesPage->setObjectName(QStringLiteral("tracesPage"));
    auto *v = new QVBoxLayout(m_tracesPage);
    v->setContentsMargins(0, 4, 0, 0);
    auto *bar = new QHBoxLayout;
    m_tracesOrder = new QComboBox(m_tracesPage);
    m_tracesOrder->setObjectName(QStringLiteral("tracesOrder"));
    m_tracesOrder->addItem(tr("Recent"), int(TraceOrder::Recent));
    m_tracesOrder->addItem(tr("Slowest"), int(TraceOrder::Slowest));
    m_tracesOrder->addItem(tr("Failing"), int(TraceOrder::Failing));
    m_tracesOrder->setItemData(2, tr("Traces in which a span of this service (or this call) failed"), Qt::ToolTipRole);
    m_tracesNote = new QLabel(m_tracesPage);
    m_tracesNote->setObjectName(QStringLiteral("tracesNote"));
    m_tracesNote->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(m_tracesOrder);
    bar->addWidget(m_tracesNote, 1);
    v->addLayout(bar);
    m_tracesTable = new QTableWidget(0, 5, m_tracesPage);
    m_tracesTable->setObjectName(QStringLiteral("tracesTable"));
    m_tracesTable->setHorizontalHeaderLabels({tr("Start"), tr("Duration"), tr("Spans"), tr("Errors"), tr("Root")});
    m_tracesTable->verticalHeader()->hide();
    m_tracesTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tracesTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_tracesTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tracesTable->horizontalHeader()->setStretchLastSection(true);
    m_tracesTable->setToolTip(tr("Double-click a trace to open its waterfall"));
    v->addWidget(m_tracesTable);
    m_tables->addTab(m_tracesPage, tr("Traces"));
    connect(m_tracesOrder, &QComboBox::currentIndexChanged, this, [this] { refreshTraces(); });
    connect(m_tables, &QTabWidget::currentChanged, this, [this] {
        if (m_tables->currentWidget() == m_tracesPage)
            refreshTraces();
    });
    connect(m_tracesTable, &QTableWidget::cellActivated, this, [this](int row, int) {
        if (const QTableWidgetItem *item = m_tracesTable->item(row, 0))
            Q_EMIT traceRequested(item->data(Qt::UserRole).toString());
    });
}

void InspectPanel::refreshTraces()
{
    if (!m_traceStore || (m_node.isEmpty() && m_edge.isEmpty()))
        return;
    TraceFilter filter;
    filter.limit = 50;
    const auto order = TraceOrder(m_tracesOrder->currentData().toInt());
    filter.sort = order == TraceOrder::Slowest ? TraceFilter::Sort::Duration : TraceFilter::Sort::Start;
    filter.errorsOnly = order == TraceOrder::Failing;
    std::optional<TraceQlQuery> query;
    QString scope;
    auto serviceOf = [](const std::string &id) -> std::string {
        const NodeRef ref = parseNodeId(id);
        return ref.kind == NodeKind::Service && ref.name != kNamespaceNodeName ? ref.name : std::string();
    };
    auto quoted = [](const std::string &s) {
        std::string out = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        return out + '"';
    };
    if (!m_edge.isEmpty()) {
        EdgeEnds ends;
        const std::string from = parseEdgeId(m_edge.toStdString(), &ends) ? serviceOf(ends.source) : std::string();
        const std::string to = parseEdgeId(m_edge.toStdString(), &ends) ? serviceOf(ends.target) : std::string();
        if (!from.empty() && !to.empty()) {
            // The caller's span with the callee's as its child: one hop of this edge.
            std::string error;
            query = TraceQlQuery::parse("{ resource.service.name = " + quoted(from) + " } > { resource.service.name = "
                    + quoted(to) + (filter.errorsOnly ? " && status = error }" : " }"),
                error);
            filter.errorsOnly = false;
            filter.query = query ? &*query : nullptr;
            scope = tr("calls from %1 to %2").arg(QString::fromStdString(from), QString::fromStdString(to));
        }
    } else {
        filter.service = serviceOf(m_node.toStdString());
        if (!filter.service.empty())
            scope = tr("spans of %1").arg(QString::fromStdString(filter.service));
    }
    if (scope.isEmpty()) {
        m_traceJobs->cancel();
        m_tracesTable->setRowCount(0);
        m_tracesNote->setText(tr("Traces are listed for services and the calls between them."));
        m_tables->setTabText(m_tables->indexOf(m_tracesPage), tr("Traces"));
        Q_EMIT tracesListed(0);
        return;
    }
    // A search over a million spans takes tens of milliseconds: off the GUI thread, the
    // table keeping the previous answer until the new one arrives.
    m_traceJobs->run<std::vector<TraceSummary>>(
        [store = m_traceStore, filter, query]() mutable {
            filter.query = query ? &*query : nullptr;
            return store->search(filter);
        },
        [this, scope](std::vector<TraceSummary> found) { showTraces(found, scope); });
}

void InspectPanel::showTraces(const std::vector<TraceSummary> &found, const QString &scope)
{
    m_tracesTable->setRowCount(int(found.size()));
    for (int r = 0; r < int(found.size()); ++r) {
        const TraceSummary &t = found[size_t(r)];
        auto *start = new QTableWidgetItem(
            QDateTime::fromMSecsSinceEpoch(qint64(t.startNs / 1000000ull)).toString(QStringLiteral("HH:mm:ss.zzz")));
        start->setData(Qt::UserRole, QString::fromStdString(traceIdHex(t.traceId)));
        start->setToolTip(QString::fromStdString(traceIdHex(t.traceId)));
        m_tracesTable->setItem(r, 0, start);
        m_tracesTable->setItem(r, 1, new QTableWidgetItem(display::millis(t.durationMs())));
        m_tracesTable->setItem(r, 2, new QTableWidgetItem(QString::number(t.spanCount)));
        auto *errors = new QTableWidgetItem(QString::number(t.errorCount));
        if (t.errorCount > 0)
            errors->setForeground(QColor(0xff, 0x7b, 0x72));
        m_tracesTable->setItem(r, 3, errors);
        m_tracesTable->setItem(r, 4,
            new QTableWidgetItem(QString::fromStdString(t.rootService) + QStringLiteral(": ")
                + QString::fromStdString(t.rootOperation)));
        for (int c = 1; c <= 3; ++c)
            m_tracesTable->item(r, c)->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    m_tracesNote->setText(found.empty() ? tr("no kept trace has %1").arg(scope) : tr("with %1").arg(scope));
    m_tables->setTabText(m_tables->indexOf(m_tracesPage), tr("Traces (%1)").arg(found.size()));
    Q_EMIT tracesListed(int(found.size()));
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

    // The sample behind those numbers; where it is small, the rates say so. Early on
    // the window holds only the time since watching began.
    int window = snap.windowSeconds;
    if (m_aggregator && snap.timeMs > 0)
        window = int(std::clamp<int64_t>((snap.timeMs - m_aggregator->startMs()) / 1000, 1, window));
    const QString requests = display::quantity(qint64(stats.requests), tr("request"), tr("requests"));
    QString sample;
    QString sampleColor;
    if (stats.requests == 0) {
        sample = tr("No requests in the last %1 s.").arg(window);
    } else if (stats.requests < policy.minRequests) {
        sample = tr("Only %1 in the last %2 s: rates are rough, and health needs %3 to call anything degraded "
                    "or failing.")
                     .arg(requests)
                     .arg(window)
                     .arg(policy.minRequests);
        sampleColor = display::healthColor(Health::Degraded).name();
    } else if (stats.requests < policy.smallSample) {
        sample = tr("Only %1 in the last %2 s: rates are rough (one request is %3).")
                     .arg(requests)
                     .arg(window)
                     .arg(display::percent(1.0 / double(stats.requests)));
        sampleColor = display::healthColor(Health::Degraded).name();
    } else {
        sample = tr("From %1 in the last %2 s.")
                     .arg(display::count(stats.requests) + QLatin1Char(' ') + tr("requests"))
                     .arg(window);
    }
    m_sample->setText(sample);
    const QString split
        = m_routeSplitProvider && !m_node.isEmpty() ? m_routeSplitProvider(m_node.toStdString(), snap) : QString();
    m_routeSplit->setText(split);
    m_routeSplit->setVisible(!split.isEmpty());
    m_routeSplit->setStyleSheet(split.contains(QStringLiteral("▲"))
            ? QStringLiteral("color: %1;").arg(display::healthColor(Health::Degraded).name())
            : QString());
    m_sample->setStyleSheet(sampleColor.isEmpty() ? QString() : QStringLiteral("color: %1;").arg(sampleColor));

    // Why the badge says what it says: thresholds, sample, and hysteresis when it holds.
    QStringList why;
    why << tr("%1: errors %2, 4xx %3, from %4 in %5 s.")
               .arg(display::healthText(health), display::percent(stats.errorRate), display::percent(stats.rate4xx),
                   requests)
               .arg(window);
    if (stats.requests > 0 && stats.requests < policy.minRequests)
        why << tr("Fewer than %1 requests are too few to call it degraded or failing.").arg(policy.minRequests);
    const Health fresh = policy.judge(stats);
    if (fresh < health) {
        const bool failing = health == Health::Failing;
        why << tr("Still %1: it recovers once errors stay below %2 and 4xx below %3 for %4 s.")
                   .arg(display::healthText(health),
                       display::percent(failing ? policy.errorFailingExit : policy.errorDegradedExit),
                       display::percent(failing ? policy.clientErrorFailingExit : policy.clientErrorDegradedExit))
                   .arg(policy.recoverMs / 1000);
    }
    why << tr("Degraded at errors >= %1 or 4xx >= %2; failing at errors > %3 or 4xx >= %4. A worse state shows at "
              "once, a better one after %5 s below its leaving threshold.")
               .arg(display::percent(policy.errorDegraded), display::percent(policy.clientErrorDegraded),
                   display::percent(policy.errorFailing), display::percent(policy.clientErrorFailing))
               .arg(policy.recoverMs / 1000);
    m_health->setToolTip(why.join(QLatin1Char('\n')));

    // Error tiles take the health colour so a failing service reads as failing at a
    // glance; not on too few requests to judge.
    auto tint = [](QLabel *label, Health h) {
        label->setStyleSheet(
            h >= Health::Degraded ? QStringLiteral("color: %1;").arg(display::healthColor(h).name()) : QString());
    };
    const bool judged = stats.requests >= policy.minRequests;
    tint(m_metrics[int(Metric::ErrorRate)],
        !judged                                       ? Health::Healthy
            : stats.errorRate > policy.errorFailing   ? Health::Failing
            : stats.errorRate >= policy.errorDegraded ? Health::Degraded
                                                      : Health::Healthy);
    tint(m_metrics[int(Metric::ClientErrorRate)],
        !judged                                           ? Health::Healthy
            : stats.rate4xx >= policy.clientErrorFailing  ? Health::Failing
            : stats.rate4xx >= policy.clientErrorDegraded ? Health::Degraded
                                                          : Health::Healthy);
    const QString ofRequests = tr("of %1 in the last %2 s").arg(requests).arg(window);
    m_metrics[int(Metric::ErrorRate)]->setToolTip(tr("%1 (%2) %3")
                                                      .arg(display::percent(stats.errorRate))
                                                      .arg(std::llround(stats.errorRate * double(stats.requests)))
                                                      .arg(ofRequests));
    m_metrics[int(Metric::ClientErrorRate)]->setToolTip(tr("%1 (%2) %3")
                                                            .arg(display::percent(stats.rate4xx))
                                                            .arg(std::llround(stats.rate4xx * double(stats.requests)))
                                                            .arg(ofRequests));
    m_metrics[int(Metric::Rps)]->setToolTip(tr("%1 in the last %2 s").arg(requests).arg(window));
    m_inbound->setPeers(std::move(in));
    m_outbound->setPeers(std::move(out));
}

QString InspectPanel::chartNote() const { return m_chartNote->text(); }

QString InspectPanel::sampleNote() const { return m_sample->text(); }

QString InspectPanel::healthToolTip() const { return m_health->toolTip(); }

void InspectPanel::refreshCharts()
{
    if (!m_aggregator)
        return;
    const bool isEdge = m_node.isEmpty();
    const std::string id = (isEdge ? m_edge : m_node).toStdString();
    std::vector<std::string> members = m_membersProvider ? m_membersProvider(id, isEdge) : std::vector<std::string>();
    if (members.empty())
        members.push_back(id);
    const int64_t nowMs = m_snapshot ? m_snapshot->timeMs : GraphAggregator::wallNowMs();
    const int window = std::min(m_windowSeconds, kLiveHistorySeconds);
    const int step = m_aggregator->chartStep(window);
    std::vector<std::vector<std::pair<int, uint64_t>>> codes;
    std::vector<std::vector<SeriesPoint>> parts;
    for (const std::string &member : members) {
        codes.push_back(isEdge ? m_aggregator->edgeStatusCodes(member) : m_aggregator->nodeStatusCodes(member));
        parts.push_back(isEdge ? m_aggregator->edgeSeries(member, nowMs, window, step)
                               : m_aggregator->nodeSeries(member, nowMs, window, step));
    }
    m_codes->setCodes(members.size() == 1 ? std::move(codes.front()) : sumStatusCodes(codes));
    const std::vector<SeriesPoint> series = members.size() == 1 ? std::move(parts.front()) : sumSeries(parts);
    // What a Prometheus source reports is charted from its history when meshscope has
    // none of its own, or when the window reaches past the live hour.
    if (series.empty() || m_windowSeconds > kLiveHistorySeconds) {
        if (const QString origin = prometheusOrigin(); !origin.isEmpty() && drawFromPrometheus(origin, members))
            return;
    }
    m_promKey.clear();
    drawLive(nowMs, series, window, step);
}

void InspectPanel::drawLive(int64_t nowMs, const std::vector<SeriesPoint> &series, int window, int step)
{
    m_chartsFromPrometheus = false;
    m_chartStep = step;
    const int64_t nowSecond = nowMs / 1000;
    std::vector<ChartRow> rows;
    rows.reserve(series.size());
    for (const SeriesPoint &p : series) {
        ChartRow r;
        r.x = double(p.second + step - nowSecond);  // a step is drawn where it ends
        r.requests = p.requests;
        r.rps = double(p.requests) / double(std::max(1, p.seconds));
        r.errors = p.errors;
        r.errors4xx = p.errors4xx;
        r.p50 = p.p50;
        r.p95 = p.p95;
        r.p99 = p.p99;
        rows.push_back(r);
    }
    drawCharts(rows, window, true);

    const HealthPolicy policy;
    QStringList note;
    note << tr("%1 steps").arg(durationText(step));
    if (series.empty()) {
        note << tr("no completed step yet");
    } else if (series.front().second > nowSecond - window) {
        note << tr("data since %1")
                    .arg(QDateTime::fromSecsSinceEpoch(series.front().second).toString(QStringLiteral("HH:mm:ss")));
    }
    note << tr("error %: at least %1 requests a point").arg(policy.minRequests);
    if (m_windowSeconds > kLiveHistorySeconds)
        note << tr("live history keeps the last hour; longer ranges need a Prometheus source");
    m_chartNote->setText(note.join(QStringLiteral("  ·  ")));
}

void InspectPanel::drawCharts(const std::vector<ChartRow> &rows, int windowSeconds, bool poolRates)
{
    const HealthPolicy policy;
    QList<QPointF> rps, err, err4, p50, p95, p99;
    QList<quint64> n, nErr, nLat;
    for (size_t i = 0; i < rows.size(); ++i) {
        const ChartRow &r = rows[i];
        rps.append({r.x, r.rps});
        n.append(r.requests);
        // Rates of a few requests jump by whole requests (1 of 7 is 14 %): such a point
        // pools the steps before it until it stands on minRequests requests.
        if (poolRates) {
            uint64_t req = 0, e = 0, e4 = 0;
            for (size_t j = i + 1; j-- > 0 && i - j < size_t(kMaxPooledSteps);) {
                req += rows[j].requests;
                e += rows[j].errors;
                e4 += rows[j].errors4xx;
                if (req >= policy.minRequests)
                    break;
            }
            if (req >= policy.minRequests) {
                err.append({r.x, 100.0 * double(e) / double(req)});
                err4.append({r.x, 100.0 * double(e4) / double(req)});
                nErr.append(req);
            }
        } else if (r.requests > 0 && r.errorRate >= 0) {
            err.append({r.x, 100.0 * r.errorRate});
            err4.append({r.x, 100.0 * std::max(0.0, r.rate4xx)});
            nErr.append(r.requests);
        }
        // Steps without requests have no latency; a zero there would read as "instant".
        if (r.requests == 0 || r.p50 <= 0)
            continue;
        p50.append({r.x, r.p50});
        p95.append({r.x, r.p95});
        p99.append({r.x, r.p99});
        nLat.append(r.requests);
    }
    for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
        c->setWindow(windowSeconds);
    m_requestsChart->setPoints(0, rps, n);
    m_errorsChart->setPoints(0, err, nErr);
    m_errorsChart->setPoints(1, err4, nErr);
    m_latencyChart->setPoints(0, p50, nLat);
    m_latencyChart->setPoints(1, p95, nLat);
    m_latencyChart->setPoints(2, p99, nLat);
    for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
        c->rescale();
}

QString InspectPanel::prometheusOrigin() const
{
    if (!m_sources || !m_snapshot)
        return {};
    auto fromPrometheus = [this](const EdgeSnapshot &e) -> QString {
        for (const std::string &o : e.origins) {
            if (m_sources->prometheusSource(o))
                return QString::fromStdString(o);
        }
        return {};
    };
    if (!m_edge.isEmpty()) {
        const EdgeSnapshot *e = m_snapshot->edge(m_edge.toStdString());
        return e ? fromPrometheus(*e) : QString();
    }
    const std::string id = m_node.toStdString();
    for (const EdgeSnapshot &e : m_snapshot->edges) {
        if (e.source != id && e.target != id)
            continue;
        if (QString o = fromPrometheus(e); !o.isEmpty())
            return o;
    }
    return {};
}

void InspectPanel::useSource(PrometheusSource *source)
{
    if (source == m_promSource)
        return;
    disconnect(m_promReady);
    disconnect(m_promFailed);
    m_promSource = source;
    m_promInFlight = false;
    m_promRequestId = 0;
    if (!source)
        return;
    // Answers come on this (the GUI) thread; one for an older question is dropped.
    m_promReady = connect(source, &PrometheusSource::seriesReady, this,
        [this](quint64 requestId, const QString &, const std::vector<MeshChartPoint> &points) {
            if (requestId != m_promRequestId)
                return;
            m_promInFlight = false;
            m_promError.clear();
            m_promPoints = points;
            if (m_chartsFromPrometheus)
                drawPrometheusPoints();
        });
    m_promFailed = connect(source, &PrometheusSource::seriesFailed, this,
        [this](quint64 requestId, const QString &, const QString &error) {
            if (requestId != m_promRequestId)
                return;
            m_promInFlight = false;
            m_promError = error;
            if (m_chartsFromPrometheus)
                drawPrometheusPoints();
        });
}

bool InspectPanel::drawFromPrometheus(const QString &origin, const std::vector<std::string> &members)
{
    PrometheusSource *source = m_sources ? m_sources->prometheusSource(origin.toStdString()) : nullptr;
    if (!source)
        return false;
    useSource(source);
    const QString id = m_node.isEmpty() ? m_edge : m_node;
    const int window = m_windowSeconds;
    const int step = meshscope::chartStepSeconds(window);
    QString key = QStringLiteral("%1|%2|%3").arg(id, origin).arg(window);
    for (const std::string &m : members)
        key += QLatin1Char('|') + QString::fromStdString(m);
    if (key != m_promKey) {
        m_promKey = key;
        m_promPoints.clear();
        m_promError.clear();
        m_promInFlight = false;
        m_promAskedAtMs = 0;
        for (TimeSeriesChart *c : {m_requestsChart, m_errorsChart, m_latencyChart})
            c->clearPoints();
    }
    m_chartsFromPrometheus = true;
    m_chartStep = step;
    const qint64 wallMs = QDateTime::currentMSecsSinceEpoch();
    const qint64 every = std::clamp<qint64>(qint64(step) * 1000, kPromRefreshMinMs, kPromRefreshMaxMs);
    if (!m_promInFlight && (m_promAskedAtMs == 0 || wallMs - m_promAskedAtMs >= every)) {
        const double end = double(wallMs / 1000);
        m_promAsked = HistoryRequest {id, origin, end - window, end, step};
        m_promAskedAtMs = wallMs;
        m_promInFlight = true;
        m_promRequestId = m_promAsked.requestId
            = source->requestSeries(id, members, m_promAsked.start, m_promAsked.end, step);
    }
    drawPrometheusPoints();
    return true;
}

void InspectPanel::drawPrometheusPoints()
{
    const int window = m_windowSeconds;
    const int64_t nowSecond = QDateTime::currentSecsSinceEpoch();
    std::vector<ChartRow> rows;
    rows.reserve(m_promPoints.size());
    for (const MeshChartPoint &p : m_promPoints) {
        const TrafficStats &s = p.stats;
        const bool data = s.requests > 0 || s.rps > 0;
        if (rows.empty() && !data)
            continue;  // before the series begins: no point, not a zero
        ChartRow r;
        r.x = double(p.timeSeconds - nowSecond);
        r.rps = s.rps;
        r.requests = s.requests;
        if (data) {
            r.errorRate = s.errorRate;
            r.rate4xx = s.rate4xx;
            r.p50 = s.p50Ms;
            r.p95 = s.p95Ms;
            r.p99 = s.p99Ms;
        }
        rows.push_back(r);
    }
    drawCharts(rows, window, false);

    const PrometheusSourceConfig *config = m_promSource ? &m_promSource->config() : nullptr;
    const int range = std::max(m_chartStep, config ? config->windowSeconds : m_chartStep);
    QStringList note;
    note << tr("From Prometheus (%1)").arg(m_promAsked.origin) << tr("%1 steps").arg(durationText(m_chartStep))
         << tr("each point a rate over %1").arg(durationText(range));
    if (!m_promError.isEmpty())
        note << tr("the last query failed: %1").arg(m_promError);
    else if (m_promInFlight && m_promPoints.empty())
        note << tr("asking…");
    else if (rows.empty())
        note << tr("no data in this window");
    else if (rows.front().x > -window + m_chartStep)
        note << tr("data since %1")
                    .arg(QDateTime::fromSecsSinceEpoch(nowSecond + int64_t(rows.front().x))
                             .toString(window > 86400 ? QStringLiteral("ddd HH:mm") : QStringLiteral("HH:mm")));
    m_chartNote->setText(note.join(QStringLiteral("  ·  ")));
}

// --- links out ----------------------------------------------------------------------

QToolButton *InspectPanel::buildGrafanaButton(QWidget *parent)
{
    m_grafanaRps = new QAction(tr("Request rate in Grafana"), this);
    m_grafanaRps->setObjectName(QStringLiteral("grafanaRequestsAction"));
    m_grafanaErrors = new QAction(tr("Error rate in Grafana"), this);
    m_grafanaErrors->setObjectName(QStringLiteral("grafanaErrorsAction"));
    for (auto [action, rate] :
        {std::pair {m_grafanaRps, MeshRate::Requests}, std::pair {m_grafanaErrors, MeshRate::Errors}}) {
        connect(action, &QAction::triggered, this, [this, rate] {
            const QUrl url = grafanaUrl(rate);
            if (!url.isValid())
                return;
            if (m_openUrl)
                m_openUrl(url);
            else
                QDesktopServices::openUrl(url);
        });
    }
    auto *menu = new QMenu(parent);
    menu->addAction(m_grafanaRps);
    menu->addAction(m_grafanaErrors);
    m_grafanaButton = new QToolButton(parent);
    m_grafanaButton->setObjectName(QStringLiteral("openInGrafana"));
    m_grafanaButton->setText(tr("Open in Grafana"));
    m_grafanaButton->setMenu(menu);
    m_grafanaButton->setPopupMode(QToolButton::InstantPopup);
    m_grafanaButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    updateLinkActions();
    return m_grafanaButton;
}

void InspectPanel::setLinkTemplates(const LinkTemplates &links)
{
    m_links = links;
    updateLinkActions();
}

void InspectPanel::setUrlOpener(UrlOpener opener) { m_openUrl = std::move(opener); }

QUrl InspectPanel::grafanaUrl(MeshRate rate) const
{
    const QString id = m_node.isEmpty() ? m_edge : m_node;
    if (id.isEmpty() || m_links.grafana.trimmed().isEmpty()
        || !LinkTemplate::validate(LinkTemplate::Kind::Grafana, m_links.grafana).isEmpty())
        return {};
    // In the labels of the Prometheus source that reports the item, over its rate
    // window; otherwise Istio's, over a minute.
    MeshQueryOptions options;
    const QString origin = prometheusOrigin();
    if (const PrometheusSource *source
        = origin.isEmpty() ? nullptr : m_sources->prometheusSource(origin.toStdString())) {
        options.mesh = source->config().mesh;
        options.selector = source->config().selector;
        options.windowSeconds = source->config().windowSeconds;
    }
    const QString promql = MeshMetrics::itemQuery(id.toStdString(), rate, options);
    if (promql.isEmpty())
        return {};
    const qint64 toMs = m_snapshot && m_snapshot->timeMs > 0 ? m_snapshot->timeMs : QDateTime::currentMSecsSinceEpoch();
    const qint64 fromMs = toMs - qint64(m_windowSeconds) * 1000;
    return LinkTemplate::expand(LinkTemplate::Kind::Grafana, m_links.grafana,
        LinkTemplate::grafanaValues(id.toStdString(), promql, fromMs, toMs));
}

void InspectPanel::updateLinkActions()
{
    if (!m_grafanaButton)
        return;
    const QString id = m_node.isEmpty() ? m_edge : m_node;
    const QString problem = LinkTemplate::validate(LinkTemplate::Kind::Grafana, m_links.grafana);
    QString tip;
    bool enabled = false;
    if (m_links.grafana.trimmed().isEmpty()) {
        tip = tr("No Grafana link is set for this workspace: add one in Sources › Links to Grafana and Jaeger…, with "
                 "{promql} where the query goes.");
    } else if (!problem.isEmpty()) {
        tip = problem + QLatin1Char(' ') + tr("Fix it in Sources › Links to Grafana and Jaeger….");
    } else if (!id.isEmpty() && MeshMetrics::itemQuery(id.toStdString(), MeshRate::Requests, {}).isEmpty()) {
        tip = tr("The folded node stands for many services: there is no one query to open.");
    } else {
        enabled = true;
        tip = tr("Open this %1's request rate or error rate as PromQL in Grafana, over the chart window.")
                  .arg(m_edge.isEmpty() ? tr("node") : tr("edge"));
    }
    m_grafanaButton->setEnabled(enabled);
    m_grafanaButton->setToolTip(tip);
    m_grafanaRps->setEnabled(enabled);
    m_grafanaErrors->setEnabled(enabled);
}

void InspectPanel::setMembersProvider(MembersProvider provider) { m_membersProvider = std::move(provider); }

void InspectPanel::setRouteSplitProvider(RouteSplitProvider provider)
{
    m_routeSplitProvider = std::move(provider);  // shown from the next refresh on
}

}  // namespace meshscope

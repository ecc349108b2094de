#pragma once
// The right-hand inspect panel: identity, headline numbers, charts over a chosen
// window, neighbours and status codes of the node or edge selected on the canvas.
// Headline numbers and tables come from the latest snapshot; charts and status codes
// are asked of the aggregator for the one item shown, or, for what a Prometheus source
// reports, of that source (query_range over any window). Everything refreshes on a
// ~1 Hz timer rather than per snapshot or per request, which is as fast as a person
// reads; Prometheus is asked again only once a step has passed (at least 10 s).
//
// Honest charts: the window picker (1 min, 5 min, 15 min, 1 h; 6 h, 24 h or any range
// from Prometheus; remembered in QSettings) sets the step (chartStepSeconds); series
// start where data starts; error-rate points pool neighbouring steps until they hold
// HealthPolicy::minRequests requests; every point's tooltip says how many requests it
// stands on, and the headline says so where the window holds few.

#include "graph/graphsnapshot.h"
#include "graph/windowstats.h"
#include "telemetry/envoyadmin/envoyadmin.h"
#include "telemetry/linktemplates.h"
#include "telemetry/prometheus/meshmetrics.h"

#include <QHash>
#include <QMetaObject>
#include <QPointer>
#include <QString>
#include <QUrl>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QAction;
class QComboBox;
class QGridLayout;
class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTableWidget;
class QTimer;
class QToolButton;
QT_END_NAMESPACE

namespace meshscope {

class GraphAggregator;
class PeersTableModel;
class PrometheusSource;
class SourceManager;
class StatusCodesModel;
class UpstreamHealthModel;
class TimeSeriesChart;
class BackgroundJobs;
class TraceStore;
struct TraceSummary;

class InspectPanel : public QWidget {
    Q_OBJECT
public:
    enum class Metric { Rps, ErrorRate, ClientErrorRate, P50, P95, P99 };

    explicit InspectPanel(GraphAggregator *aggregator, QWidget *parent = nullptr);
    ~InspectPanel() override;

    void setSnapshot(GraphSnapshotPtr snapshot);
    void showNode(const QString &id);
    void showEdge(const QString &id);
    void clear();
    // Re-reads everything now instead of waiting for the next tick.
    void refresh();
    // The latest upstream health a proxy's Envoy admin reported (empty: none). While
    // that proxy is inspected, an "Upstreams" tab shows it.
    void setUpstreamHealth(const QString &proxyNodeId, const std::vector<EnvoyClusterHealth> &clusters);
    UpstreamHealthModel *upstreamModel() const { return m_upstreams; }
    bool upstreamTabShown() const;

    QString currentNode() const { return m_node; }
    QString currentEdge() const { return m_edge; }
    QString title() const;
    QString subtitle() const;
    QString metricText(Metric metric) const;

    // The chart window in seconds; setting it adds a custom choice when it is not a
    // preset, redraws, and remembers it (see setPersistenceEnabled).
    int chartWindowSeconds() const { return m_windowSeconds; }
    void setChartWindowSeconds(int seconds);
    // The step the charts were last drawn at, and where their points came from.
    int chartStepSeconds() const { return m_chartStep; }
    bool chartsFromPrometheus() const { return m_chartsFromPrometheus; }
    QComboBox *chartWindowPicker() const { return m_windowPicker; }
    // "5 s steps · data since 11:41:52 · ..." under the picker.
    QString chartNote() const;
    // "420 requests in the last 60 s", or a warning where that is few.
    QString sampleNote() const;
    QString healthToolTip() const;
    // The chart window is read from and saved to QSettings unless this is off (the
    // screenshot mode turns it off: 1 min, whatever the user chose).
    void setPersistenceEnabled(bool enabled);
    static QString chartWindowSettingsKey() { return QStringLiteral("inspect/chartWindowSeconds"); }
    // "90s", "5m", "6h", "2d", "1h30m" -> seconds; 0 when it does not parse.
    static int parseDuration(const QString &text);

    // Running sources: items a Prometheus source reports get their chart history from it.
    void setSourceManager(SourceManager *sources);
    // The last history asked of Prometheus (id empty: none yet).
    struct HistoryRequest {
        QString id;
        QString origin;
        double start = 0, end = 0;  // unix seconds
        int step = 0;
        quint64 requestId = 0;  // PrometheusSource::requestSeries's
    };
    HistoryRequest lastHistoryRequest() const { return m_promAsked; }

    // Links out (Sources > Links to Grafana and Jaeger...): "Open in Grafana" opens the
    // inspected node's or edge's request rate or error rate (MeshMetrics::itemQuery, in
    // the labels of the Prometheus source that reports it, else Istio's) over the chart
    // window. Disabled, saying why, without a template or for the folded node.
    void setLinkTemplates(const LinkTemplates &links);
    LinkTemplates linkTemplates() const { return m_links; }
    void setUrlOpener(UrlOpener opener);  // default: QDesktopServices::openUrl
    // What the action would open now; invalid when it is disabled.
    QUrl grafanaUrl(MeshRate rate) const;
    QToolButton *grafanaButton() const { return m_grafanaButton; }
    QAction *grafanaAction(MeshRate rate) const { return rate == MeshRate::Errors ? m_grafanaErrors : m_grafanaRps; }

    // Configured against observed shares of the route splits that carry the inspected
    // service (the route editor's, see routesplit.h); text shown under the headline,
    // empty for none. Asked on every refresh of a node.
    using RouteSplitProvider = std::function<QString(const std::string &nodeId, const GraphSnapshot &snapshot)>;
    void setRouteSplitProvider(RouteSplitProvider provider);
    // The aggregator's items a shown node or edge stands for (a service's versions, a
    // folded namespace's nodes); empty or unset: itself. Its charts and status codes
    // are theirs taken together.
    using MembersProvider = std::function<std::vector<std::string>(const std::string &id, bool isEdge)>;
    void setMembersProvider(MembersProvider provider);
    QLabel *routeSplitLabel() const { return m_routeSplit; }

    PeersTableModel *inboundModel() const { return m_inbound; }
    PeersTableModel *outboundModel() const { return m_outbound; }
    QSortFilterProxyModel *inboundProxy() const { return m_inboundProxy; }
    QSortFilterProxyModel *outboundProxy() const { return m_outboundProxy; }
    StatusCodesModel *statusCodesModel() const { return m_codes; }
    TimeSeriesChart *requestsChart() const { return m_requestsChart; }
    TimeSeriesChart *errorsChart() const { return m_errorsChart; }
    TimeSeriesChart *latencyChart() const { return m_latencyChart; }

    // The Traces tab: recent, slowest or failing traces through the inspected node (a
    // span of its service) or edge (its source's span calling its target's), from the
    // store; double-click asks for the trace view. Without a store there is no tab.
    enum class TraceOrder { Recent, Slowest, Failing };
    void setTraceStore(const TraceStore *store);
    QTableWidget *tracesTable() const { return m_tracesTable; }
    QComboBox *tracesOrderBox() const { return m_tracesOrder; }
    // Runs the search now (the panel does it on refresh while the tab is shown).
    // Searches the traces through the selection (asynchronously; tracesListed follows).
    void refreshTraces();

Q_SIGNALS:
    // A peer row was double-clicked: the main window selects that node.
    void nodeActivated(const QString &id);
    // A row of the Traces tab was double-clicked.
    void traceRequested(const QString &traceIdHex);
    // The Traces tab shows a new answer (its searches run off the GUI thread).
    void tracesListed(int count);

private:
    void showTraces(const std::vector<TraceSummary> &found, const QString &scope);
    QWidget *buildDetails();
    QLabel *addMetricTile(QGridLayout *grid, int row, int column, const QString &caption, const QString &name);
    QTableView *makeTable(QSortFilterProxyModel *proxy, int sortColumn);
    void showSelection();
    void refreshHeadline();
    void refreshCharts();
    void updateTabTitles();
    // One chart step, from either the aggregator or Prometheus.
    struct ChartRow {
        double x = 0;  // end of the step, seconds relative to now
        double rps = 0;
        uint64_t requests = 0;
        uint64_t errors = 0, errors4xx = 0;
        double errorRate = -1, rate4xx = -1;  // -1: not known from this row alone
        double p50 = 0, p95 = 0, p99 = 0;
    };
    void drawCharts(const std::vector<ChartRow> &rows, int windowSeconds, bool poolRates);
    void drawLive(int64_t nowMs, const std::vector<SeriesPoint> &series, int window, int step);
    bool drawFromPrometheus(const QString &origin, const std::vector<std::string> &members);
    void drawPrometheusPoints();
    QString prometheusOrigin() const;
    void useSource(PrometheusSource *source);
    void windowPicked(int index);
    void addWindowChoice(int seconds);

    GraphAggregator *m_aggregator;
    GraphSnapshotPtr m_snapshot;
    QString m_node;
    QString m_edge;

    QStackedWidget *m_stack;
    QLabel *m_title;
    QLabel *m_subtitle;
    QLabel *m_health;
    QLabel *m_metrics[6] = {};
    TimeSeriesChart *m_requestsChart;
    TimeSeriesChart *m_errorsChart;
    TimeSeriesChart *m_latencyChart;
    QTabWidget *m_tables;
    const TraceStore *m_traceStore = nullptr;
    std::unique_ptr<BackgroundJobs> m_traceJobs;  // the Traces tab's searches
    QWidget *m_tracesPage = nullptr;
    QTableWidget *m_tracesTable = nullptr;
    QComboBox *m_tracesOrder = nullptr;
    QLabel *m_tracesNote = nullptr;
    PeersTableModel *m_inbound;
    PeersTableModel *m_outbound;
    QSortFilterProxyModel *m_inboundProxy;
    QSortFilterProxyModel *m_outboundProxy;
    QTableView *m_inboundView;
    QTableView *m_outboundView;
    StatusCodesModel *m_codes;
    QSortFilterProxyModel *m_codesProxy;
    QTableView *m_codesView;
    UpstreamHealthModel *m_upstreams;
    QSortFilterProxyModel *m_upstreamsProxy;
    QTableView *m_upstreamsView;
    QHash<QString, std::vector<EnvoyClusterHealth>> m_upstreamHealth;
    void refreshUpstreams();
    QTimer *m_timer;

    QToolButton *buildGrafanaButton(QWidget *parent);
    void updateLinkActions();
    LinkTemplates m_links;
    UrlOpener m_openUrl;
    QToolButton *m_grafanaButton = nullptr;
    QAction *m_grafanaRps = nullptr;
    QAction *m_grafanaErrors = nullptr;

    QComboBox *m_windowPicker = nullptr;
    QLabel *m_chartNote = nullptr;
    QLabel *m_sample = nullptr;
    QLabel *m_routeSplit = nullptr;
    RouteSplitProvider m_routeSplitProvider;
    MembersProvider m_membersProvider;
    int m_windowSeconds = 60;
    int m_chartStep = 1;
    bool m_chartsFromPrometheus = false;
    bool m_persist = true;

    QPointer<SourceManager> m_sources;
    QPointer<PrometheusSource> m_promSource;
    QMetaObject::Connection m_promReady, m_promFailed;
    QString m_promKey;  // item, origin and window the points below are for
    quint64 m_promRequestId = 0;
    bool m_promInFlight = false;
    qint64 m_promAskedAtMs = 0;
    HistoryRequest m_promAsked;
    std::vector<MeshChartPoint> m_promPoints;
    QString m_promError;
};

}  // namespace meshscope

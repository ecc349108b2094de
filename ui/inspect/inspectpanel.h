#pragma once
// The right-hand inspect panel: identity, headline numbers, charts over the window,
// neighbours and status codes of the node or edge selected on the canvas. Headline
// numbers and tables come from the latest snapshot; charts and status codes are
// asked of the aggregator for the one item shown. Everything refreshes on a ~1 Hz
// timer rather than per snapshot or per request, which is as fast as a person reads.

#include "graph/graphsnapshot.h"
#include "telemetry/envoyadmin/envoyadmin.h"

#include <QHash>
#include <QString>
#include <QWidget>

#include <vector>

QT_BEGIN_NAMESPACE
class QGridLayout;
class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTimer;
QT_END_NAMESPACE

namespace meshscope {

class GraphAggregator;
class PeersTableModel;
class StatusCodesModel;
class UpstreamHealthModel;
class TimeSeriesChart;

class InspectPanel : public QWidget {
    Q_OBJECT
public:
    enum class Metric { Rps, ErrorRate, ClientErrorRate, P50, P95, P99 };

    explicit InspectPanel(GraphAggregator *aggregator, QWidget *parent = nullptr);

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

    PeersTableModel *inboundModel() const { return m_inbound; }
    PeersTableModel *outboundModel() const { return m_outbound; }
    QSortFilterProxyModel *inboundProxy() const { return m_inboundProxy; }
    QSortFilterProxyModel *outboundProxy() const { return m_outboundProxy; }
    StatusCodesModel *statusCodesModel() const { return m_codes; }
    TimeSeriesChart *requestsChart() const { return m_requestsChart; }
    TimeSeriesChart *errorsChart() const { return m_errorsChart; }
    TimeSeriesChart *latencyChart() const { return m_latencyChart; }

Q_SIGNALS:
    // A peer row was double-clicked: the main window selects that node.
    void nodeActivated(const QString &id);

private:
    QWidget *buildDetails();
    QLabel *addMetricTile(QGridLayout *grid, int row, int column, const QString &caption, const QString &name);
    QTableView *makeTable(QSortFilterProxyModel *proxy, int sortColumn);
    void showSelection();
    void refreshHeadline();
    void refreshCharts();
    void updateTabTitles();

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
};

}  // namespace meshscope

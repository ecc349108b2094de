#pragma once
// The live requests dock: the newest requests of the selected node or edge (or of
// the whole mesh when nothing is selected). A ~4 Hz timer asks the aggregator for
// what arrived since the last poll and hands the batch to the model in one insert;
// nothing here runs per request. Rows are in the order the requests started. Pause
// stops the flow, a text filter narrows it (and says so when it hides every row).
// The shown rows export to CSV; an HTTP row copies as a curl command.

#include "graph/graphview.h"
#include "model/requestevent.h"
#include "telemetry/linktemplates.h"

#include <QByteArray>
#include <QString>
#include <QUrl>
#include <QWidget>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

QT_BEGIN_NAMESPACE
class QAction;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QTimer;
class QToolButton;
QT_END_NAMESPACE

namespace meshscope {

class GraphAggregator;
class RequestsTableModel;

class RequestsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RequestsPanel(GraphAggregator *aggregator, QWidget *parent = nullptr);

    void showAll();
    // Node and edge ends are ids of the graph as shown (see setGraphView).
    void showNode(const QString &nodeId, const QString &label);
    void showEdge(const QString &sourceId, const QString &targetId, const QString &label);
    // The graph view the ids above are in. Requests carry the aggregator's ids, so a
    // service shown with its versions merged gets every version's requests, and a
    // folded namespace every request to or from one of its nodes.
    void setGraphView(const GraphViewOptions &view);

    // A past moment (the timeline's): the table holds the requests of [fromMs, toMs]
    // still in the aggregator's recent buffer, and says where that buffer begins when it
    // does not reach back so far; nullopt goes back to the live flow.
    void setMoment(std::optional<std::pair<int64_t, int64_t>> range);
    std::optional<std::pair<int64_t, int64_t>> moment() const { return m_moment; }
    // What the hint line says (the buffer's reach, or the text filter hiding every row); "" when hidden.
    QString hintText() const;

    void setPaused(bool paused);
    bool isPaused() const;
    void setPollInterval(int ms);
    // Polls at once (tests and the screenshot path use it instead of waiting).
    void pollNow();

    // The rows the filter lets through, in table order, as CSV (RequestsTableModel::toCsv).
    QByteArray shownRowsCsv() const;
    bool exportCsv(const QString &fileName, QString *error = nullptr) const;
    // The current row as a curl command; empty when there is none or it is not HTTP.
    QString currentRowCurl() const;
    // Set when the text filter hides every request in scope; "" otherwise.
    QString filterHint() const;

    // Links out: "Open trace in Jaeger/Tempo" fills the workspace's trace template
    // with the current row's trace ID (Sources > Links to Grafana and Jaeger...).
    void setLinkTemplates(const LinkTemplates &links);
    void setUrlOpener(UrlOpener opener);  // default: QDesktopServices::openUrl
    // The current row's trace link; invalid without a trace ID or a valid template.
    QUrl currentRowTraceUrl() const;
    QAction *openTraceAction() const { return m_openTrace; }
    // "Show trace" (double-click or Enter on a row with a trace ID): asks for the
    // trace view through traceRequested.
    QAction *showTraceAction() const { return m_showTrace; }

Q_SIGNALS:
    void traceRequested(const QString &traceIdHex);

public:
    RequestsTableModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QTableView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_filter; }
    QToolButton *pauseButton() const { return m_pause; }
    QAction *copyCurlAction() const { return m_copyCurl; }
    QAction *exportCsvAction() const { return m_exportCsv; }

private:
    void rescope(const QString &label);
    bool inScope(const RequestEvent &e) const;
    void updateCount();
    void updateActions();
    void exportWithDialog();
    void showContextMenu(const QPoint &pos);

    GraphAggregator *m_aggregator;
    std::string m_scopeNode;
    std::string m_scopeSource;
    std::string m_scopeTarget;
    GraphViewOptions m_graphView;
    uint64_t m_lastSeq = 0;
    std::optional<std::pair<int64_t, int64_t>> m_moment;
    bool m_momentShown = false;  // the table holds m_moment's requests
    QString m_momentNote;  // where the recent buffer begins, when it misses part of the moment
    void showMoment();

    RequestsTableModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLabel *m_scope;
    QLabel *m_count;
    QLabel *m_hint;
    QLineEdit *m_filter;
    QToolButton *m_pause;
    QTimer *m_timer;
    QAction *m_copyCurl;
    QAction *m_copyTraceId;
    QAction *m_exportCsv;
    QAction *m_openTrace = nullptr;
    QAction *m_showTrace = nullptr;
    QString currentTraceId() const;
    LinkTemplates m_links;
    UrlOpener m_openUrl;
};

}  // namespace meshscope

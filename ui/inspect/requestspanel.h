#pragma once
// The live requests dock: the newest requests of the selected node or edge (or of
// the whole mesh when nothing is selected). A ~4 Hz timer asks the aggregator for
// what arrived since the last poll and hands the batch to the model in one insert;
// nothing here runs per request. Pause stops the flow, a text filter narrows it.

#include "model/requestevent.h"

#include <QString>
#include <QWidget>

#include <cstdint>
#include <string>

QT_BEGIN_NAMESPACE
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
    void showNode(const QString &nodeId, const QString &label);
    void showEdge(const QString &sourceId, const QString &targetId, const QString &label);

    void setPaused(bool paused);
    bool isPaused() const;
    void setPollInterval(int ms);
    // Polls at once (tests and the screenshot path use it instead of waiting).
    void pollNow();

    RequestsTableModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QTableView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_filter; }
    QToolButton *pauseButton() const { return m_pause; }

private:
    void rescope(const QString &label);
    bool inScope(const RequestEvent &e) const;
    void updateCount();

    GraphAggregator *m_aggregator;
    std::string m_scopeNode;
    std::string m_scopeSource;
    std::string m_scopeTarget;
    uint64_t m_lastSeq = 0;

    RequestsTableModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_view;
    QLabel *m_scope;
    QLabel *m_count;
    QLineEdit *m_filter;
    QToolButton *m_pause;
    QTimer *m_timer;
};

}  // namespace meshscope

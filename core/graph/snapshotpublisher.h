#pragma once
// Asks the aggregator for a snapshot on a fixed tick (about 10 Hz) and publishes it
// by signal. Lives on its own worker thread so that snapshot work never runs on the
// GUI thread; receivers of the signal get an immutable shared value.

#include "graph/graphsnapshot.h"

#include <QObject>
#include <QTimer>

namespace meshscope {

class GraphAggregator;

class SnapshotPublisher : public QObject {
    Q_OBJECT
public:
    explicit SnapshotPublisher(GraphAggregator &aggregator, int intervalMs = 100, QObject *parent = nullptr);

    GraphSnapshotPtr latest() const;

public Q_SLOTS:
    void start();
    void stop();
    void publishNow();

Q_SIGNALS:
    void snapshotReady(meshscope::GraphSnapshotPtr snapshot);

private:
    GraphAggregator &m_aggregator;
    QTimer *m_timer;
    GraphSnapshotPtr m_latest;
};

}  // namespace meshscope

Q_DECLARE_METATYPE(meshscope::GraphSnapshotPtr)

#pragma once
// Runs a SnapshotPublisher on its own QThread and forwards its snapshots, so that
// building snapshots (which takes the aggregator's lock) never runs on the GUI
// thread. Receivers on the GUI thread get the signal queued.

#include "graph/graphsnapshot.h"

#include <QObject>
#include <QThread>

namespace meshscope {

class GraphAggregator;
class SnapshotPublisher;

class PublisherThread : public QObject {
    Q_OBJECT
public:
    explicit PublisherThread(GraphAggregator &aggregator, int intervalMs = 100, QObject *parent = nullptr);
    ~PublisherThread() override;

    void start();
    // Stops the tick and joins the thread; safe to call twice.
    void stop();

Q_SIGNALS:
    void snapshotReady(meshscope::GraphSnapshotPtr snapshot);

private:
    QThread m_thread;
    SnapshotPublisher *m_publisher;
    bool m_started = false;
};

}  // namespace meshscope

#include "graph/snapshotpublisher.h"

#include "graph/graphaggregator.h"
#include "model/logging.h"

#include <atomic>

namespace meshscope {

SnapshotPublisher::SnapshotPublisher(GraphAggregator &aggregator, int intervalMs, QObject *parent)
    : QObject(parent)
    , m_aggregator(aggregator)
    , m_timer(new QTimer(this))
{
    qRegisterMetaType<GraphSnapshotPtr>();
    m_timer->setInterval(intervalMs);
    m_timer->setTimerType(Qt::PreciseTimer);
    connect(m_timer, &QTimer::timeout, this, &SnapshotPublisher::publishNow);
}

GraphSnapshotPtr SnapshotPublisher::latest() const { return std::atomic_load(&m_latest); }

void SnapshotPublisher::start()
{
    m_timer->start();
    qCDebug(lcGraph) << "snapshot publisher started: one snapshot every" << m_timer->interval() << "ms";
}

void SnapshotPublisher::stop()
{
    if (m_timer->isActive())
        qCDebug(lcGraph) << "snapshot publisher stopped";
    m_timer->stop();
}

// Runs on the publisher's thread.
void SnapshotPublisher::publishNow()
{
    GraphSnapshotPtr snap = m_aggregator.snapshot(GraphAggregator::wallNowMs());
    std::atomic_store(&m_latest, snap);
    Q_EMIT snapshotReady(snap);
}

}  // namespace meshscope

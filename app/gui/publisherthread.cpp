#include "publisherthread.h"

#include "graph/snapshotpublisher.h"

namespace meshscope {

PublisherThread::PublisherThread(GraphAggregator &aggregator, int intervalMs, QObject *parent)
    : QObject(parent)
    , m_publisher(new SnapshotPublisher(aggregator, intervalMs))
{
    qRegisterMetaType<GraphSnapshotPtr>();
    m_thread.setObjectName(QStringLiteral("snapshot-publisher"));
    m_publisher->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_publisher, &QObject::deleteLater);
    connect(m_publisher, &SnapshotPublisher::snapshotReady, this, &PublisherThread::snapshotReady);
}

PublisherThread::~PublisherThread()
{
    stop();
    if (!m_started)
        delete m_publisher;  // never moved into a running thread, so nothing deletes it later
}

void PublisherThread::start()
{
    if (m_thread.isRunning())
        return;
    m_started = true;
    m_thread.start();
    // The publisher's timer must be started on its own thread.
    QMetaObject::invokeMethod(m_publisher, &SnapshotPublisher::start, Qt::QueuedConnection);
}

void PublisherThread::stop()
{
    if (!m_thread.isRunning())
        return;
    QMetaObject::invokeMethod(m_publisher, &SnapshotPublisher::stop, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

}  // namespace meshscope

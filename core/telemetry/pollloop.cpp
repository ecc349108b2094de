#include "telemetry/pollloop.h"
#include "model/clock.h"

#include <QThread>
#include <QTimer>

#include <algorithm>

namespace meshscope {

PollLoop::PollLoop(PulledSource *owner, TelemetrySink &aggregator, PollSettings settings)
    : m_owner(owner)
    , m_aggregator(aggregator)
    , m_settings(std::move(settings))
    , m_backoffMs(std::max(1, m_settings.initialBackoffMs))
{
}

void PollLoop::pollSoon()
{
    // Queued to the poll thread, where the timer and the client live.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!m_timer)
                return;
            m_timer->stop();
            poll();
        },
        Qt::QueuedConnection);
}

void PollLoop::begin()
{
    const QString message = open();
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    connect(m_timer, &QTimer::timeout, this, [this] { poll(); });
    report(PulledSource::State::Connecting, message, 0);
    poll();
}

void PollLoop::shutdown()
{
    delete m_timer;
    m_timer = nullptr;
    close();
}

void PollLoop::poll()
{
    if (!m_timer || m_inFlight)
        return;
    m_inFlight = true;
    fetch();
}

void PollLoop::succeeded(std::vector<PulledEdge> edges, const QString &connectedMessage)
{
    m_inFlight = false;
    const int64_t nowMs = wallNowMs();
    m_aggregator.setPulledEdges(m_settings.origin, std::move(edges), nowMs);
    m_lastSuccessMs = nowMs;
    m_holdsEdges = true;
    m_backoffMs = std::max(1, m_settings.initialBackoffMs);
    if (m_state != PulledSource::State::Connected)
        report(PulledSource::State::Connected, connectedMessage, 0);
    m_timer->start(std::max(100, m_settings.pollIntervalMs));
}

void PollLoop::failed(const QString &error, bool transient)
{
    m_inFlight = false;
    const int64_t nowMs = wallNowMs();
    if (m_holdsEdges && nowMs - m_lastSuccessMs > m_settings.staleAfterMs) {
        m_aggregator.setPulledEdges(m_settings.origin, {}, nowMs);
        m_holdsEdges = false;
        edgesWithdrawn();
    }
    if (transient) {
        const int delay = m_backoffMs;
        m_backoffMs = std::min(std::max(1, m_settings.maxBackoffMs), m_backoffMs * 2);
        report(PulledSource::State::Retrying,
            QStringLiteral("%1; retrying in %2 s").arg(error).arg(delay / 1000.0, 0, 'g', 3), delay);
        m_timer->start(delay);
    } else {
        // The peer answered and said no (bad query, refused credentials, not what was
        // expected): retrying fast will not change that, so try again at the interval.
        m_backoffMs = std::max(1, m_settings.initialBackoffMs);
        report(PulledSource::State::Failed, error, 0);
        m_timer->start(std::max(100, m_settings.pollIntervalMs));
    }
}

void PollLoop::report(PulledSource::State state, const QString &message, int retryInMs)
{
    m_state = state;
    post([owner = m_owner, state, message, retryInMs] { owner->setState(state, message, retryInMs); });
}

void PollLoop::post(std::function<void()> fn) const
{
    QMetaObject::invokeMethod(m_owner, std::move(fn), Qt::QueuedConnection);
}

QThread *startPollThread(PollLoop *loop, const QString &name)
{
    auto *thread = new QThread;
    thread->setObjectName(name);
    loop->moveToThread(thread);
    thread->start();
    QMetaObject::invokeMethod(
        loop, [loop] { loop->begin(); }, Qt::QueuedConnection);
    return thread;
}

void stopPollThread(QThread *thread, PollLoop *loop)
{
    QMetaObject::invokeMethod(
        loop, [loop] { loop->shutdown(); }, Qt::BlockingQueuedConnection);
    thread->quit();
    thread->wait();
    // The thread has ended, so the loop has no event loop left to race with.
    delete loop;
    delete thread;
}

}  // namespace meshscope

#include "telemetry/pulledsource.h"

#include "telemetry/pollloop.h"

#include <QThread>

namespace meshscope {

PulledSource::PulledSource(LogCategory category, const QString &threadName, const QString &logName, QObject *parent)
    : QObject(parent)
    , m_category(category)
    , m_threadName(threadName)
    , m_logName(logName)
{
    qRegisterMetaType<meshscope::PulledSource::State>();
}

PulledSource::~PulledSource()
{
    // The worker only ever posts to this object, and stopping it waits until it can
    // post no more, so the subclass's members going first does no harm.
    stop();
}

const char *PulledSource::stateName(State s)
{
    switch (s) {
    case State::Stopped: return "stopped";
    case State::Connecting: return "connecting";
    case State::Connected: return "connected";
    case State::Retrying: return "retrying";
    case State::Failed: return "failed";
    }
    return "unknown";
}

void PulledSource::start()
{
    if (m_thread)
        return;
    m_loop = makeLoop();
    m_thread = startPollThread(m_loop, m_threadName);
}

void PulledSource::stop()
{
    if (!m_thread)
        return;
    stopPollThread(m_thread, m_loop);
    m_thread = nullptr;
    m_loop = nullptr;
    setState(State::Stopped, QString(), 0);
}

void PulledSource::pollNow()
{
    if (m_loop)
        m_loop->pollSoon();
}

void PulledSource::setState(State state, const QString &message, int retryInMs)
{
    // A repeated report is no news; a new retry delay always is.
    if (state == m_state && message == m_message && retryInMs == 0)
        return;
    const State previous = m_state;
    m_state = state;
    m_message = message;
    m_nextRetryAt = retryInMs > 0 ? QDateTime::currentDateTime().addMSecs(retryInMs) : QDateTime();
    if (m_category().isDebugEnabled()) {
        // Messages name the peer by its display URL, never with credentials.
        QString line = m_logName + QStringLiteral(": ") + QLatin1String(stateName(previous)) + QStringLiteral(" -> ")
            + QLatin1String(stateName(state));
        if (!message.isEmpty())
            line += QStringLiteral(": ") + message;
        if (m_nextRetryAt.isValid())
            line += QStringLiteral(" (next attempt at %1)").arg(m_nextRetryAt.toString(QStringLiteral("HH:mm:ss.zzz")));
        qCDebug(m_category).noquote() << line;
    }
    Q_EMIT stateChanged(state, message, retryInMs);
}

}  // namespace meshscope

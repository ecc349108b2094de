#pragma once
// The loop every pull source runs (PrometheusSource, EnvoyAdminSource): a worker
// QThread with its own event loop, a timer that polls at an interval, back-off
// (initialBackoffMs doubling up to maxBackoffMs) while the peer is unreachable, the
// withdrawal of pulled edges that have gone stale, and state reports posted to the
// source's thread. Each source keeps what it fetches and how it reads it in a
// subclass; this is only the loop around that.
//
// Threading: a PollLoop is created on the source's thread and moved to its own
// thread by startPollThread; from then on it runs there, apart from pollSoon().

#include "model/telemetrysink.h"

#include <QObject>
#include <QString>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

class QThread;
class QTimer;

namespace meshscope {

// What a source reports. PrometheusSource::State and EnvoyAdminSource::State list the
// same states in the same order; toSourceState and toPollState convert.
enum class PollState { Stopped, Connecting, Connected, Retrying, Failed };
const char *pollStateName(PollState state);  // "stopped", "connecting", "connected", "retrying", "failed"

template <typename SourceState> constexpr bool sameStatesAsPollState()
{
    return int(SourceState::Stopped) == int(PollState::Stopped)
        && int(SourceState::Connecting) == int(PollState::Connecting)
        && int(SourceState::Connected) == int(PollState::Connected)
        && int(SourceState::Retrying) == int(PollState::Retrying) && int(SourceState::Failed) == int(PollState::Failed);
}

template <typename SourceState> constexpr SourceState toSourceState(PollState state)
{
    static_assert(sameStatesAsPollState<SourceState>());
    return SourceState(int(state));
}

template <typename SourceState> constexpr PollState toPollState(SourceState state)
{
    static_assert(sameStatesAsPollState<SourceState>());
    return PollState(int(state));
}

// Source thread: takes a reported state into *state and *message. False when it only
// repeats them, so there is nothing to signal; a retry delay is always news.
template <typename SourceState>
bool takeStateReport(SourceState *state, QString *message, SourceState next, const QString &nextMessage, int retryInMs)
{
    if (next == *state && nextMessage == *message && retryInMs == 0)
        return false;
    *state = next;
    *message = nextMessage;
    return true;
}

struct PollSettings {
    std::string origin;  // the graph origin the edges are filed under
    int pollIntervalMs = 10000;
    int initialBackoffMs = 1000;
    int maxBackoffMs = 30000;
    // Failing this long after the last success withdraws the edges: numbers from before
    // an outage would pass for current ones.
    int64_t staleAfterMs = 15000;
};

class PollLoop : public QObject {
    Q_OBJECT
public:
    // Runs on the source's thread, retryInMs > 0 only for Retrying.
    using StateReport = std::function<void(PollState state, const QString &message, int retryInMs)>;

    // Any thread: polls now instead of waiting for the interval or the back-off.
    void pollSoon();

protected:
    // `owner` is the source; reports and post() run on its thread, and are dropped once it is gone.
    PollLoop(QObject *owner, TelemetrySink &aggregator, PollSettings settings, StateReport report);

    // Poll thread. open() creates the client and returns the "connecting" message;
    // close() destroys it, aborting what is in flight so that no callback runs after.
    virtual QString open() = 0;
    virtual void close() = 0;
    // Starts one poll, which ends in succeeded() or failed() unless close() comes first.
    virtual void fetch() = 0;
    // The stale edges were just withdrawn; whatever else went with them goes too.
    virtual void edgesWithdrawn() { }

    // Hands the poll's edges to the aggregator, reports connectedMessage unless already
    // connected, and schedules the next poll.
    void succeeded(std::vector<PulledEdge> edges, const QString &connectedMessage);
    // Transient failures retry with back-off; others at the normal interval.
    void failed(const QString &error, bool transient);
    // Runs fn on the owner's thread.
    void post(std::function<void()> fn) const;

    const PollSettings &settings() const { return m_settings; }

private:
    friend QThread *startPollThread(PollLoop *loop, const QString &name);
    friend void stopPollThread(QThread *thread, PollLoop *loop);

    void begin();
    void shutdown();
    void poll();
    void report(PollState state, const QString &message, int retryInMs);

    QObject *const m_owner;
    TelemetrySink &m_aggregator;
    const PollSettings m_settings;
    const StateReport m_report;
    QTimer *m_timer = nullptr;  // exists from begin() to shutdown()
    bool m_inFlight = false;
    int m_backoffMs;
    int64_t m_lastSuccessMs = 0;
    bool m_holdsEdges = false;
    PollState m_state = PollState::Connecting;
};

// Source thread: moves `loop` to a new thread named `name`, starts it and polls at once.
QThread *startPollThread(PollLoop *loop, const QString &name);
// Source thread: closes `loop` on its thread (a few milliseconds), ends the thread and
// deletes both.
void stopPollThread(QThread *thread, PollLoop *loop);

// The same for a source's members: unless *thread runs, *loop = make() and start it.
template <typename Loop, typename Make> void startPolling(QThread **thread, Loop **loop, const QString &name, Make make)
{
    if (*thread)
        return;
    *loop = make();
    *thread = startPollThread(*loop, name);
}

// False when nothing was running.
template <typename Loop> bool stopPolling(QThread **thread, Loop **loop)
{
    if (!*thread)
        return false;
    stopPollThread(*thread, *loop);
    *thread = nullptr;
    *loop = nullptr;
    return true;
}

}  // namespace meshscope

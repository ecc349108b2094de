#pragma once
// The loop every pulled source runs (PrometheusSource, EnvoyAdminSource): a worker
// QThread with its own event loop, a timer that polls at an interval, back-off
// (initialBackoffMs doubling up to maxBackoffMs) while the peer is unreachable, the
// withdrawal of pulled edges that have gone stale, and state reports posted to the
// PulledSource that owns it. Each source keeps what it fetches and how it reads it in
// a subclass; this is only the loop around that.
//
// Threading: a PollLoop is created on the source's thread and moved to its own
// thread by startPollThread; from then on it runs there, apart from pollSoon().

#include "model/telemetrysink.h"
#include "telemetry/pulledsource.h"

#include <QObject>
#include <QString>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

class QThread;
class QTimer;

namespace meshscope {

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
    // Any thread: polls now instead of waiting for the interval or the back-off.
    void pollSoon();

protected:
    // `owner` is the source; reports and post() run on its thread, and are dropped once it is gone.
    PollLoop(PulledSource *owner, TelemetrySink &aggregator, PollSettings settings);

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
    void report(PulledSource::State state, const QString &message, int retryInMs);

    PulledSource *const m_owner;
    TelemetrySink &m_aggregator;
    const PollSettings m_settings;
    QTimer *m_timer = nullptr;  // exists from begin() to shutdown()
    bool m_inFlight = false;
    int m_backoffMs;
    int64_t m_lastSuccessMs = 0;
    bool m_holdsEdges = false;
    PulledSource::State m_state = PulledSource::State::Connecting;
};

// Source thread: moves `loop` to a new thread named `name`, starts it and polls at once.
QThread *startPollThread(PollLoop *loop, const QString &name);
// Source thread: closes `loop` on its thread (a few milliseconds), ends the thread and
// deletes both.
void stopPollThread(QThread *thread, PollLoop *loop);

}  // namespace meshscope

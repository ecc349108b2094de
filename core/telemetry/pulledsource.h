#pragma once
// What the pulled sources (PrometheusSource, EnvoyAdminSource) have in common: one
// set of states (connecting, connected, retrying with back-off, failed, stopped), the
// latest state's message and retry time, the certificate the peer presented, and the
// worker thread their PollLoop runs on. A subclass supplies the loop (what one poll
// fetches and how it is read) and adds its own results and signals.
//
// Threading: the object lives on the thread that creates it (the GUI thread) and
// emits its signals there. Its loop runs on a worker QThread with its own event loop
// and reports by posting to this thread, so the caller never waits for the peer
// (stop() and the destructor wait for the worker to abort, which takes milliseconds).

#include "net/peercertificate.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QObject>
#include <QString>

class QThread;

namespace meshscope {

class PollLoop;

class PulledSource : public QObject {
    Q_OBJECT
public:
    enum class State { Stopped, Connecting, Connected, Retrying, Failed };
    Q_ENUM(State)

    // Stops the worker if it still runs, as stop() does.
    ~PulledSource() override;

    // Starts the worker thread and polls at once, then at the source's interval.
    void start();
    // Aborts what is in flight, stops the worker and reports Stopped. The pulled
    // edges stay in the aggregator until the next setPulledEdges for the origin.
    void stop();
    bool running() const { return m_thread != nullptr; }
    // Polls now instead of waiting for the interval or the back-off.
    void pollNow();

    State state() const { return m_state; }
    // One line: what the source is doing, or why it is not getting anywhere.
    QString stateMessage() const { return m_message; }
    // Retrying: about when the next attempt starts; null in every other state.
    QDateTime nextRetryAt() const { return m_nextRetryAt; }
    // https: the certificate the peer presented with the latest successful poll (null
    // before one, or over http).
    PeerCertificate peerCertificate() const { return m_peerCertificate; }
    static const char *stateName(State s);  // "stopped", "connecting", "connected", "retrying", "failed"

Q_SIGNALS:
    // retryInMs > 0 only for Retrying: when the next attempt starts.
    void stateChanged(meshscope::PulledSource::State state, const QString &message, int retryInMs);

protected:
    // A Q_LOGGING_CATEGORY function (lcPrometheus, ...).
    using LogCategory = const QLoggingCategory &(*)();

    // State changes are logged under `category`, each line starting with `logName`
    // (the origin); `threadName` names the worker thread.
    PulledSource(LogCategory category, const QString &threadName, const QString &logName, QObject *parent);

    // Source thread, from start(): a new loop for the worker thread to run.
    virtual PollLoop *makeLoop() = 0;
    // The running loop; null while stopped.
    PollLoop *loop() const { return m_loop; }
    void setPeerCertificate(const PeerCertificate &certificate) { m_peerCertificate = certificate; }

private:
    // The loop reports through setState, posted to this thread.
    friend class PollLoop;
    void setState(State state, const QString &message, int retryInMs);

    const LogCategory m_category;
    const QString m_threadName;
    const QString m_logName;
    QThread *m_thread = nullptr;
    PollLoop *m_loop = nullptr;
    State m_state = State::Stopped;
    QString m_message;
    QDateTime m_nextRetryAt;
    PeerCertificate m_peerCertificate;
};

}  // namespace meshscope

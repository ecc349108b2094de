#pragma once
// Pull source for one Envoy proxy's admin interface (a gateway, or a sidecar): polls
// /clusters, /stats and /server_info on an interval, turns the counter deltas between
// polls into the proxy's outbound edges (GraphAggregator::setPulledEdges, origin
// "envoy-admin") and publishes a health view of its upstream clusters and hosts.
// Reports its state like PrometheusSource: connecting, connected, retrying with
// back-off (1 s, 2 s, 4 s ... capped at 30 s) while the admin is unreachable, or
// failed when it answers with something that is not Envoy admin JSON.
//
// Threading: the object lives on the thread that creates it (the GUI thread) and
// emits its signals there. The network work runs on a worker QThread with its own
// event loop; public methods only post to it, so the caller never waits for Envoy
// (stop() and the destructor wait for the worker to abort, which takes
// milliseconds). fetchSample/fetchView are blocking one-shots for the CLI.

#include "model/telemetrysink.h"
#include "telemetry/envoyadmin/envoyadmin.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <string>
#include <vector>

class QThread;

namespace meshscope {

struct EnvoyAdminSourceConfig {
    EnvoyAdminConfig admin;  // URL, TLS, per-request timeout
    QString proxyName;       // "NAME" or "NAMESPACE/NAME"; empty: from /server_info
    int pollIntervalMs = 5000;
    int initialBackoffMs = 1000;
    int maxBackoffMs = 30000;
    // The name its edges carry in the graph; unique per running source.
    std::string origin = "envoy-admin";
};

class EnvoyAdminSource : public QObject {
    Q_OBJECT
public:
    enum class State { Stopped, Connecting, Connected, Retrying, Failed };
    Q_ENUM(State)

    EnvoyAdminSource(TelemetrySink &aggregator, EnvoyAdminSourceConfig config, QObject *parent = nullptr);
    ~EnvoyAdminSource() override;

    // Starts the worker thread and polls at once, then every pollIntervalMs. The
    // first poll shows the upstreams that carried traffic (without rates); rates
    // follow from the second.
    void start();
    // Aborts what is in flight and stops the worker. The pulled edges stay in the
    // aggregator until the next setPulledEdges("envoy-admin", ...).
    void stop();
    bool running() const { return m_thread != nullptr; }
    void pollNow();

    State state() const { return m_state; }
    QString stateMessage() const { return m_message; }
    const EnvoyAdminSourceConfig &config() const { return m_config; }
    static const char *stateName(State s);  // "stopped", "connecting", "connected", "retrying", "failed"

    // The latest health view and the graph node it belongs to (empty before the first poll).
    const std::vector<EnvoyClusterHealth> &upstreamHealth() const { return m_health; }
    QString proxyNodeId() const { return m_proxyId; }
    // https: the certificate the admin endpoint presented with the latest successful
    // poll (null before one, or over http).
    PeerCertificate peerCertificate() const { return m_peerCertificate; }

    // Blocking: one sample (spins a local event loop on the calling thread; CLI only).
    static bool fetchSample(const EnvoyAdminConfig &config, EnvoyAdminSample *sample, QString *error);
    // Blocking: two samples spacingMs apart and the view between them.
    static bool fetchView(const EnvoyAdminSourceConfig &config, int spacingMs, EnvoyAdminView *view, QString *error);
    // The name used when neither the configuration nor /server_info names the proxy:
    // "envoy-HOST:PORT".
    static QString fallbackName(const QUrl &url);

Q_SIGNALS:
    // retryInMs > 0 only for Retrying: when the next attempt starts.
    void stateChanged(meshscope::EnvoyAdminSource::State state, const QString &message, int retryInMs);
    // A poll succeeded and the aggregator holds its edges; intervalSeconds is 0 after
    // the first poll (no rates yet).
    void graphUpdated(int edgeCount, double intervalSeconds);
    // Per upstream cluster: hosts by health, flags, request counters. proxyNodeId is
    // the graph node (the gateway) the view belongs to.
    void healthUpdated(const QString &proxyNodeId, const std::vector<meshscope::EnvoyClusterHealth> &clusters);

private:
    class Worker;
    void setState(State state, const QString &message, int retryInMs);

    TelemetrySink &m_aggregator;
    const EnvoyAdminSourceConfig m_config;
    QThread *m_thread = nullptr;
    Worker *m_worker = nullptr;
    State m_state = State::Stopped;
    QString m_message;
    std::vector<EnvoyClusterHealth> m_health;
    QString m_proxyId;
    PeerCertificate m_peerCertificate;
};

}  // namespace meshscope

Q_DECLARE_METATYPE(std::vector<meshscope::EnvoyClusterHealth>)

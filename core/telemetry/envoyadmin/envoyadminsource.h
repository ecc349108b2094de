#pragma once
// Pull source for one Envoy proxy's admin interface (a gateway, or a sidecar): polls
// /clusters, /stats and /server_info on an interval, turns the counter deltas between
// polls into the proxy's outbound edges (GraphAggregator::setPulledEdges, origin
// "envoy-admin") and publishes a health view of its upstream clusters and hosts.
// Reports its state as every PulledSource does: connecting, connected, retrying with
// back-off (1 s, 2 s, 4 s ... capped at 30 s) while the admin is unreachable, or
// failed when it answers with something that is not Envoy admin JSON.
//
// Threading: as PulledSource: signals on the creating thread, network work on a
// worker thread that public methods only post to. fetchSample/fetchView are blocking
// one-shots for the CLI.

#include "model/telemetrysink.h"
#include "telemetry/envoyadmin/envoyadmin.h"
// The CLI turns the samples fetchSample gives into views with buildEnvoyAdminView.
#include "telemetry/envoyadmin/envoyadminview.h"
#include "telemetry/pulledsource.h"

#include <QMetaType>
#include <QString>

#include <string>
#include <vector>

namespace meshscope {

struct EnvoyAdminSourceConfig {
    EnvoyAdminConfig admin;  // URL, TLS, per-request timeout
    QString proxyName;  // "NAME" or "NAMESPACE/NAME"; empty: from /server_info
    // start() polls at once, then at this interval. The first poll shows the upstreams
    // that carried traffic (without rates); rates follow from the second.
    int pollIntervalMs = 5000;
    int initialBackoffMs = 1000;
    int maxBackoffMs = 30000;
    // The name its edges carry in the graph; unique per running source.
    std::string origin = "envoy-admin";
};

class EnvoyAdminSource : public PulledSource {
    Q_OBJECT
public:
    EnvoyAdminSource(TelemetrySink &aggregator, EnvoyAdminSourceConfig config, QObject *parent = nullptr);

    const EnvoyAdminSourceConfig &config() const { return m_config; }

    // The latest health view and the graph node it belongs to (empty before the first poll).
    const std::vector<EnvoyClusterHealth> &upstreamHealth() const { return m_health; }
    QString proxyNodeId() const { return m_proxyId; }

    // Blocking: one sample (spins a local event loop on the calling thread; CLI only).
    static bool fetchSample(const EnvoyAdminConfig &config, EnvoyAdminSample *sample, QString *error);
    // Blocking: two samples spacingMs apart and the view between them.
    static bool fetchView(const EnvoyAdminSourceConfig &config, int spacingMs, EnvoyAdminView *view, QString *error);
    // The name used when neither the configuration nor /server_info names the proxy:
    // "envoy-HOST:PORT".
    static QString fallbackName(const QUrl &url);

Q_SIGNALS:
    // A poll succeeded and the aggregator holds its edges; intervalSeconds is 0 after
    // the first poll (no rates yet).
    void graphUpdated(int edgeCount, double intervalSeconds);
    // Per upstream cluster: hosts by health, flags, request counters. proxyNodeId is
    // the graph node (the gateway) the view belongs to.
    void healthUpdated(const QString &proxyNodeId, const std::vector<meshscope::EnvoyClusterHealth> &clusters);

private:
    class Worker;
    PollLoop *makeLoop() override;

    TelemetrySink &m_aggregator;
    const EnvoyAdminSourceConfig m_config;
    std::vector<EnvoyClusterHealth> m_health;
    QString m_proxyId;
};

}  // namespace meshscope

Q_DECLARE_METATYPE(std::vector<meshscope::EnvoyClusterHealth>)

#pragma once
// The values the Envoy admin source deals in: how to reach an Envoy's admin interface
// (default port 9901), what its /clusters?format=json (admin.v3.Clusters),
// /stats?format=json and /server_info documents say, one sample of all three, and
// the view built from samples: the proxy's outbound edges and the health of its
// upstream clusters and hosts. Plain values; the jobs on them live beside this file:
// envoyadminparse.h reads the documents, envoyadminview.h builds the view,
// envoyadminclient.h fetches samples.
//
// Threading: plain values, safe to copy between threads.

#include "model/telemetrysink.h"
#include "net/httpexchange.h"
#include "net/peercertificate.h"
#include "net/tlsoptions.h"

#include <QString>
#include <QStringList>
#include <QUrl>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshscope {

constexpr int kEnvoyAdminDefaultPort = 9901;

struct EnvoyAdminConfig {
    QUrl url;  // http://127.0.0.1:9901, https://..., or with a path prefix behind a proxy
    TlsClientOptions tls;  // used for https URLs
    int timeoutMs = 5000;  // whole request, connect to last byte
    qint64 maxResponseBytes = kDefaultMaxResponseBytes;  // a larger answer is refused as it arrives
};

// --- /clusters?format=json ---------------------------------------------------

struct EnvoyHostStatus {
    QString address;  // "10.0.0.5:9080", "[::1]:80", "unix:/path", "internal:name"
    QString hostname;
    QString locality;  // "region/zone/sub_zone"; empty when unset
    // HostHealthStatus, as Envoy reports it.
    bool failedActiveHealthCheck = false;
    bool failedOutlierCheck = false;
    bool failedActiveDegradedCheck = false;
    bool pendingDynamicRemoval = false;
    bool pendingActiveHc = false;
    bool excludedViaImmediateHcFail = false;
    bool activeHcTimeout = false;
    QString edsHealthStatus;  // "HEALTHY", "UNHEALTHY", "DRAINING", "TIMEOUT", "DEGRADED"; empty: UNKNOWN
    std::map<std::string, uint64_t> stats;  // cx_total, rq_total, rq_error, ... (absent: 0)
    std::optional<double> successRate;  // percent, when outlier detection computed one
    uint32_t weight = 0;
    uint32_t priority = 0;

    uint64_t stat(const char *name) const;
};

struct EnvoyClusterStatus {
    QString name;
    QString observabilityName;  // the name its stats are filed under; empty: name
    bool addedViaApi = false;
    std::optional<double> successRateEjectionThreshold;  // percent
    std::vector<EnvoyHostStatus> hosts;

    QString statName() const { return observabilityName.isEmpty() ? name : observabilityName; }
};

struct EnvoyClusters {
    std::vector<EnvoyClusterStatus> clusters;
};

// --- /stats?format=json --------------------------------------------------------

struct EnvoyHistogram {
    // One value per supported quantile; nullopt where Envoy wrote null (no samples).
    std::vector<std::optional<double>> interval;  // the last stats flush interval
    std::vector<std::optional<double>> cumulative;  // since the proxy started
};

struct EnvoyStats {
    std::map<std::string, uint64_t> values;  // counters and gauges by full name
    std::vector<double> supportedQuantiles;  // percent: 0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100
    std::map<std::string, EnvoyHistogram> histograms;

    std::optional<uint64_t> value(const std::string &name) const;
    // Quantile q (percent) of histogram `name`: the last interval's when it had
    // samples, else the cumulative one; nullopt when neither exists.
    std::optional<double> quantile(const std::string &name, double q) const;
};

// --- /server_info ------------------------------------------------------------------

struct EnvoyServerInfo {
    QString version;
    QString state;  // "LIVE", "DRAINING", "PRE_INITIALIZING", "INITIALIZING"
    QString nodeId;
    QString nodeCluster;  // the service cluster (--service-cluster or node.cluster)
    double uptimeCurrentEpochSeconds = -1;  // -1: not reported
};

// --- samples -> edges and health ---------------------------------------------------

struct EnvoyAdminSample {
    int64_t monotonicMs = 0;  // when /stats was answered (steady clock)
    EnvoyClusters clusters;
    EnvoyStats stats;
    std::optional<EnvoyServerInfo> server;
    PeerCertificate peerCertificate;  // https: what the admin endpoint presented
};

enum class EnvoyHostState : uint8_t { Healthy, Degraded, Unhealthy };
const char *envoyHostStateName(EnvoyHostState s);  // "healthy", "degraded", "unhealthy"

struct EnvoyHostHealth {
    QString address;
    QString hostname;
    QString locality;
    EnvoyHostState state = EnvoyHostState::Healthy;
    QStringList flags;  // Envoy's names of the health flags that are set, plus "eds_<status>" unless HEALTHY/UNKNOWN
    QString edsHealthStatus;
    bool outlierEjected = false;
    bool failedActiveHc = false;
    uint64_t rqTotal = 0, rqSuccess = 0, rqError = 0, rqTimeout = 0, rqActive = 0;
    uint64_t cxActive = 0, cxConnectFail = 0;
    std::optional<double> successRate;  // percent, from outlier detection
    uint32_t weight = 0;
    uint32_t priority = 0;
};

struct EnvoyClusterHealth {
    QString cluster;
    QString role;  // envoyUpstreamRoleName (envoyadminview.h)
    std::string nodeId;  // the upstream's graph node id; empty for inbound and internal clusters
    bool addedViaApi = false;
    bool onGraph = false;  // it has an edge (it carried traffic)
    int hostsTotal = 0, healthy = 0, degraded = 0, unhealthy = 0, outlierEjected = 0, failedActiveHc = 0;
    uint64_t rqTotal = 0;  // cumulative, since the proxy (or the cluster) started
    uint64_t cxActive = 0, rqActive = 0;  // gauges
    bool countersFromHosts = false;  // /stats had no cluster counters: summed from the hosts
    std::vector<EnvoyHostHealth> hosts;
};

struct EnvoyAdminView {
    NodeRef proxy;  // the gateway (or sidecar) whose admin was polled
    std::string proxyId;  // its graph node id
    std::vector<PulledEdge> edges;  // proxy -> each upstream that carried traffic
    std::vector<EnvoyClusterHealth> clusters;  // every cluster, in /clusters order
    double intervalSeconds = 0;  // between the two samples; 0: one sample, no rates yet
    bool counterReset = false;  // a counter went backwards (proxy restart): deltas start from zero
};

}  // namespace meshscope

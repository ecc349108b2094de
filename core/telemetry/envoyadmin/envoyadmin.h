#pragma once
// Envoy's admin interface (default port 9901) as a telemetry source: an async HTTP
// client for it, pure parsers for /clusters?format=json (admin.v3.Clusters),
// /stats?format=json and /server_info, the mapping from Envoy cluster names to
// graph nodes (Istio's "outbound|9080|v1|reviews.default.svc.cluster.local", plain
// names such as "backend_v1"), and buildEnvoyAdminView, which turns two samples into
// the proxy's outbound edges (rates from counter deltas) and a per-cluster health
// view of its upstream hosts. Only EnvoyAdminClient touches the network.
//
// Threading: an EnvoyAdminClient belongs to the thread that created it and calls its
// callbacks there; nothing in it blocks. Everything else here is pure and can run
// anywhere.

#include "model/telemetrysink.h"
#include "net/peercertificate.h"
#include "net/tlsoptions.h"

#include <QByteArray>
#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

class QNetworkReply;

namespace meshscope {

class HttpExchange;

constexpr int kEnvoyAdminDefaultPort = 9901;

struct EnvoyAdminConfig {
    QUrl url;  // http://127.0.0.1:9901, https://..., or with a path prefix behind a proxy
    TlsClientOptions tls;  // used for https URLs
    int timeoutMs = 5000;  // whole request, connect to last byte
};

// The answer to one GET: the body, or why there is none.
struct EnvoyAdminReply {
    enum class Error : uint8_t {
        None,
        Network,  // no HTTP answer: refused, reset, DNS, TLS
        Timeout,  // no complete answer within timeoutMs
        Http,     // a non-2xx status
        Config,   // the request could not be made: not an http(s) URL, unusable TLS files
    };
    Error kind = Error::None;
    QString message;  // one line: what failed, where, why
    QString where;    // "/clusters?format=json from http://127.0.0.1:9901", for parse errors
    int httpStatus = 0;
    QByteArray body;
    PeerCertificate peerCertificate;  // https: the certificate the admin endpoint presented

    bool ok() const { return kind == Error::None; }
    // Worth retrying soon with back-off: the proxy is down, slow or overloaded.
    bool transient() const;
};

// --- /clusters?format=json ---------------------------------------------------

struct EnvoyHostStatus {
    QString address;   // "10.0.0.5:9080", "[::1]:80", "unix:/path", "internal:name"
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

// Each returns false with one line naming the document, the address and what was
// wrong ("/clusters?format=json from http://...: cluster_statuses[1].host_statuses[0]
// .stats[2].value is \"x\", not an unsigned integer"). `where` comes from
// EnvoyAdminReply::where.
bool parseEnvoyClusters(const QByteArray &body, const QString &where, EnvoyClusters *out, QString *error);
bool parseEnvoyStats(const QByteArray &body, const QString &where, EnvoyStats *out, QString *error);
bool parseEnvoyServerInfo(const QByteArray &body, const QString &where, EnvoyServerInfo *out, QString *error);

// --- cluster names -> graph nodes ------------------------------------------------

struct EnvoyUpstream {
    enum class Role : uint8_t {
        Upstream,     // an outbound destination: becomes an edge when it carried traffic
        Passthrough,  // Istio's PassthroughCluster: traffic to destinations outside the registry
        Inbound,      // "inbound|..." and inbound passthrough: the proxy's own workload
        Internal,     // the proxy's plumbing: xds-grpc, sds-grpc, prometheus_stats, agent, ...
        Blackhole,    // BlackHoleCluster: traffic refused by policy
    };
    Role role = Role::Upstream;
    NodeRef node;  // for Upstream and Passthrough
};

// "outbound|9080|v2|reviews.default.svc.cluster.local" -> service reviews, namespace
// default, version v2 (Istio names subsets after versions); "outbound|443||api.example.com"
// -> external-service api.example.com; "backend_v1" -> service backend_v1.
EnvoyUpstream classifyEnvoyCluster(const QString &name);
const char *envoyUpstreamRoleName(EnvoyUpstream::Role role);  // "upstream", "passthrough", ...

// The proxy's own node: `configuredName` ("NAME" or "NAMESPACE/NAME") when set, else
// from /server_info (Istio's "router~ip~pod.ns~..." ids give the namespace, and
// "sidecar~" proxies are services rather than gateways), else `fallbackName`.
NodeRef envoyProxyNode(const EnvoyServerInfo *server, const QString &configuredName, const QString &fallbackName);

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
    QString role;  // envoyUpstreamRoleName
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
    NodeRef proxy;        // the gateway (or sidecar) whose admin was polled
    std::string proxyId;  // its graph node id
    std::vector<PulledEdge> edges;  // proxy -> each upstream that carried traffic
    std::vector<EnvoyClusterHealth> clusters;  // every cluster, in /clusters order
    double intervalSeconds = 0;  // between the two samples; 0: one sample, no rates yet
    bool counterReset = false;   // a counter went backwards (proxy restart): deltas start from zero
};

// Rates are counter deltas between `previous` and `current` over their time apart;
// with no previous sample the edges carry no rates yet. A counter that went down
// (restart, cluster re-added) counts from zero, as Prometheus's rate() does.
EnvoyAdminView buildEnvoyAdminView(const EnvoyAdminSample &current, const EnvoyAdminSample *previous,
                                   const QString &configuredName, const QString &fallbackName);

// The health view as JSON, for `meshscope-cli graph` ("upstream_health" on the
// proxy's node) and exports.
QJsonArray envoyUpstreamHealthToJson(const std::vector<EnvoyClusterHealth> &clusters);

// --- the client --------------------------------------------------------------------

class EnvoyAdminClient : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(EnvoyAdminReply)>;

    explicit EnvoyAdminClient(EnvoyAdminConfig config, QObject *parent = nullptr);
    // Aborts requests still in flight; their callbacks are not called.
    ~EnvoyAdminClient() override;

    // GET <base>/<pathAndQuery>, e.g. "clusters?format=json".
    void get(const QString &pathAndQuery, Callback done);
    void abortAll();
    int inFlight() const;

    const EnvoyAdminConfig &config() const { return m_config; }
    QString displayUrl() const;  // without credentials

    // The requests a sample needs (server_info is optional).
    static QString clustersPath();    // "clusters?format=json"
    static QString statsPath();       // "stats?format=json&usedonly&filter=^cluster\."
    static QString serverInfoPath();  // "server_info"

private:
    void finish(QNetworkReply *reply, bool timedOut, const QString &where, const Callback &done);

    EnvoyAdminConfig m_config;
    HttpExchange *m_http = nullptr;
};

struct EnvoySampleOutcome {
    bool ok = false;
    bool transient = false;
    QString error;
    EnvoyAdminSample sample;
};

// Fetches /clusters, /stats and /server_info side by side and parses them; calls back
// once on the client's thread (never if the client is destroyed first). A failing
// /server_info is not an error: the proxy's name then comes from the configuration.
void fetchEnvoyAdminSample(EnvoyAdminClient &client, std::function<void(EnvoySampleOutcome)> done);

}  // namespace meshscope

#pragma once
// From what an Envoy admin says to what meshscope shows: Envoy cluster names to graph
// nodes (Istio's "outbound|9080|v1|reviews.default.svc.cluster.local", plain names
// such as "backend_v1"), the proxy's own node, and buildEnvoyAdminView, which turns
// two samples into the proxy's outbound edges (rates from counter deltas) and a
// per-cluster health view of its upstream hosts. Pure: no network, any thread.

#include "telemetry/envoyadmin/envoyadmin.h"

#include <QJsonArray>
#include <QString>

#include <cstdint>
#include <vector>

namespace meshscope {

// --- cluster names -> graph nodes ------------------------------------------------

struct EnvoyUpstream {
    enum class Role : uint8_t {
        Upstream,  // an outbound destination: becomes an edge when it carried traffic
        Passthrough,  // Istio's PassthroughCluster: traffic to destinations outside the registry
        Inbound,  // "inbound|..." and inbound passthrough: the proxy's own workload
        Internal,  // the proxy's plumbing: xds-grpc, sds-grpc, prometheus_stats, agent, ...
        Blackhole,  // BlackHoleCluster: traffic refused by policy
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

// Rates are counter deltas between `previous` and `current` over their time apart;
// with no previous sample the edges carry no rates yet. A counter that went down
// (restart, cluster re-added) counts from zero, as Prometheus's rate() does.
EnvoyAdminView buildEnvoyAdminView(const EnvoyAdminSample &current, const EnvoyAdminSample *previous,
    const QString &configuredName, const QString &fallbackName);

// The health view as JSON, for `meshscope-cli graph` ("upstream_health" on the
// proxy's node) and exports.
QJsonArray envoyUpstreamHealthToJson(const std::vector<EnvoyClusterHealth> &clusters);

}  // namespace meshscope

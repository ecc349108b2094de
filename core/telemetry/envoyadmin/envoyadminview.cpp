#include "telemetry/envoyadmin/envoyadminview.h"

#include "telemetry/prometheus/meshmetrics.h"

#include <QJsonObject>
#include <QStringList>

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace meshscope {

// --- cluster names -----------------------------------------------------------------

EnvoyUpstream classifyEnvoyCluster(const QString &name)
{
    EnvoyUpstream u;
    static const char *const kInternal[] = {"xds-grpc", "xds_cluster", "sds-grpc", "agent", "prometheus_stats",
        "zipkin", "envoy_admin", "admin", "otel_collector"};
    for (const char *n : kInternal) {
        if (name == QLatin1String(n)) {
            u.role = EnvoyUpstream::Role::Internal;
            return u;
        }
    }
    if (name == QLatin1String("BlackHoleCluster")) {
        u.role = EnvoyUpstream::Role::Blackhole;
        return u;
    }
    if (name == QLatin1String("PassthroughCluster")) {
        u.role = EnvoyUpstream::Role::Passthrough;
        u.node.kind = NodeKind::ExternalService;
        u.node.name = "PassthroughCluster";
        return u;
    }
    if (name.startsWith(QLatin1String("InboundPassthroughCluster")) || name.startsWith(QLatin1String("inbound|"))
        || name.startsWith(QLatin1String("inbound-vip|")) || name.startsWith(QLatin1String("inbound_"))) {
        u.role = EnvoyUpstream::Role::Inbound;
        return u;
    }
    // Istio: direction|port|subset|host.
    const QStringList parts = name.split(QLatin1Char('|'));
    if (parts.size() == 4 && parts[0] == QLatin1String("outbound") && !parts[3].isEmpty()) {
        const QString &host = parts[3];
        const QStringList labels = host.split(QLatin1Char('.'));
        const qsizetype svc = labels.indexOf(QStringLiteral("svc"));
        if (svc == 2 && !labels[0].isEmpty() && !labels[1].isEmpty()) {
            u.node.kind = NodeKind::Service;
            u.node.name = labels[0].toStdString();
            u.node.ns = labels[1].toStdString();
            u.node.version = parts[2].toStdString();
        } else if (labels.size() == 1) {
            u.node.kind = NodeKind::Service;
            u.node.name = host.toStdString();
            u.node.version = parts[2].toStdString();
        } else {
            // A ServiceEntry host: a destination outside the mesh.
            u.node.kind = NodeKind::ExternalService;
            u.node.name = host.toStdString();
        }
        return u;
    }
    u.node.kind = NodeKind::Service;
    u.node.name = name.toStdString();
    return u;
}

const char *envoyUpstreamRoleName(EnvoyUpstream::Role role)
{
    switch (role) {
    case EnvoyUpstream::Role::Upstream: return "upstream";
    case EnvoyUpstream::Role::Passthrough: return "passthrough";
    case EnvoyUpstream::Role::Inbound: return "inbound";
    case EnvoyUpstream::Role::Internal: return "internal";
    case EnvoyUpstream::Role::Blackhole: return "blackhole";
    }
    return "upstream";
}

NodeRef envoyProxyNode(const EnvoyServerInfo *server, const QString &configuredName, const QString &fallbackName)
{
    NodeRef ref;
    ref.kind = NodeKind::Service;
    ref.gateway = true;
    if (!configuredName.isEmpty()) {
        const qsizetype slash = configuredName.indexOf(QLatin1Char('/'));
        if (slash > 0) {
            ref.ns = configuredName.left(slash).toStdString();
            ref.name = configuredName.mid(slash + 1).toStdString();
        } else {
            ref.name = configuredName.toStdString();
        }
        return ref;
    }
    if (server) {
        // Istio: "router~10.1.2.3~istio-ingressgateway-5d8f-x.istio-system~istio-system.svc.cluster.local"
        // with node.cluster "istio-ingressgateway.istio-system".
        const QStringList id = server->nodeId.split(QLatin1Char('~'));
        if (id.size() == 4 && (id[0] == QLatin1String("router") || id[0] == QLatin1String("sidecar"))) {
            const QString ns = id[3].section(QLatin1Char('.'), 0, 0);
            QString name = server->nodeCluster;
            const QString suffix = QLatin1Char('.') + ns;
            if (name.isEmpty())
                name = id[2];
            if (!ns.isEmpty() && name.endsWith(suffix))
                name.chop(suffix.size());
            ref.ns = ns.toStdString();
            ref.name = name.toStdString();
            // A sidecar's outbound clusters are its service's calls: east-west, not a gateway's.
            ref.gateway = id[0] == QLatin1String("router");
            return ref;
        }
        if (!server->nodeCluster.isEmpty()) {
            ref.name = server->nodeCluster.toStdString();
            return ref;
        }
        if (!server->nodeId.isEmpty()) {
            ref.name = server->nodeId.toStdString();
            return ref;
        }
    }
    ref.name = fallbackName.toStdString();
    return ref;
}

// --- samples -> view ---------------------------------------------------------------

namespace {

bool isStatusCodeSuffix(const std::string &s, size_t from, char klass)
{
    return s.size() == from + 3 && s[from] == klass && std::isdigit(static_cast<unsigned char>(s[from + 1]))
        && std::isdigit(static_cast<unsigned char>(s[from + 2]));
}

// The counters of one cluster in one sample, from /stats when it has them, else
// summed from the hosts in /clusters (Istio keeps most cluster stats out of /stats
// unless told otherwise; the per-host ones are always there).
struct ClusterCounters {
    bool fromHosts = false;
    uint64_t rq = 0, e5xx = 0, e4xx = 0, cx = 0, bytes = 0;
};

uint64_t sumCodes(const EnvoyStats &stats, const std::string &prefix, char klass)
{
    // upstream_rq_5xx when Envoy keeps it, else the per-code counters (never both:
    // Envoy increments them together).
    if (auto v = stats.value(prefix + "upstream_rq_" + klass + "xx"))
        return *v;
    const std::string codes = prefix + "upstream_rq_";
    uint64_t sum = 0;
    for (auto it = stats.values.lower_bound(codes);
         it != stats.values.end() && it->first.compare(0, codes.size(), codes) == 0; ++it) {
        if (isStatusCodeSuffix(it->first, codes.size(), klass))
            sum += it->second;
    }
    return sum;
}

bool hasClusterCounters(const EnvoyStats &stats, const std::string &prefix)
{
    return stats.value(prefix + "upstream_rq_total") || stats.value(prefix + "upstream_cx_total");
}

ClusterCounters countersOf(const EnvoyStats &stats, const EnvoyClusterStatus &c, bool fromHosts)
{
    ClusterCounters k;
    k.fromHosts = fromHosts;
    if (fromHosts) {
        for (const EnvoyHostStatus &h : c.hosts) {
            k.rq += h.stat("rq_total");
            k.e5xx += h.stat("rq_error");
            k.cx += h.stat("cx_total");
        }
        return k;
    }
    const std::string prefix = "cluster." + c.statName().toStdString() + ".";
    k.rq = stats.value(prefix + "upstream_rq_total").value_or(0);
    k.e5xx = sumCodes(stats, prefix, '5');
    k.e4xx = sumCodes(stats, prefix, '4');
    k.cx = stats.value(prefix + "upstream_cx_total").value_or(0);
    k.bytes = stats.value(prefix + "upstream_cx_rx_bytes_total").value_or(0)
        + stats.value(prefix + "upstream_cx_tx_bytes_total").value_or(0);
    return k;
}

uint64_t delta(uint64_t cur, uint64_t prev, bool reset) { return reset || cur < prev ? cur : cur - prev; }

// Host counters are compared host by host: endpoints come and go between polls.
ClusterCounters hostDeltas(const EnvoyClusterStatus &cur, const EnvoyClusterStatus *prev, bool reset)
{
    ClusterCounters d;
    d.fromHosts = true;
    std::unordered_map<QString, const EnvoyHostStatus *> before;
    if (prev) {
        for (const EnvoyHostStatus &h : prev->hosts)
            before.emplace(h.address, &h);
    }
    for (const EnvoyHostStatus &h : cur.hosts) {
        auto it = before.find(h.address);
        const EnvoyHostStatus *p = it == before.end() ? nullptr : it->second;
        const bool r
            = reset || !p || h.stat("rq_total") < p->stat("rq_total") || h.stat("cx_total") < p->stat("cx_total");
        d.rq += delta(h.stat("rq_total"), p ? p->stat("rq_total") : 0, r);
        d.e5xx += delta(h.stat("rq_error"), p ? p->stat("rq_error") : 0, r);
        d.cx += delta(h.stat("cx_total"), p ? p->stat("cx_total") : 0, r);
    }
    return d;
}

struct EdgeAcc {
    NodeRef node;
    bool http = false;
    uint64_t rq = 0, e5xx = 0, e4xx = 0, cx = 0, bytes = 0;
    double p50 = 0, p95 = 0, p99 = 0;
};

EnvoyHostHealth hostHealth(const EnvoyHostStatus &h)
{
    EnvoyHostHealth out;
    out.address = h.address;
    out.hostname = h.hostname;
    out.locality = h.locality;
    out.edsHealthStatus = h.edsHealthStatus;
    out.outlierEjected = h.failedOutlierCheck;
    out.failedActiveHc = h.failedActiveHealthCheck;
    const std::pair<bool, const char *> flags[] = {
        {h.failedActiveHealthCheck, "failed_active_health_check"},
        {h.failedOutlierCheck, "failed_outlier_check"},
        {h.failedActiveDegradedCheck, "failed_active_degraded_check"},
        {h.pendingDynamicRemoval, "pending_dynamic_removal"},
        {h.pendingActiveHc, "pending_active_hc"},
        {h.excludedViaImmediateHcFail, "excluded_via_immediate_hc_fail"},
        {h.activeHcTimeout, "active_hc_timeout"},
    };
    for (const auto &[set, name] : flags) {
        if (set)
            out.flags << QLatin1String(name);
    }
    const QString eds = h.edsHealthStatus;
    if (!eds.isEmpty() && eds != QLatin1String("HEALTHY"))
        out.flags << QStringLiteral("eds_") + eds.toLower();
    // Envoy's own coarse health: any failure flag (or an EDS status other than healthy
    // or degraded) takes the host out of load balancing; a degraded one is used only
    // when too few healthy hosts remain. Pending flags alone change neither.
    const bool edsBad
        = eds == QLatin1String("UNHEALTHY") || eds == QLatin1String("DRAINING") || eds == QLatin1String("TIMEOUT");
    if (h.failedActiveHealthCheck || h.failedOutlierCheck || h.excludedViaImmediateHcFail || h.activeHcTimeout
        || edsBad)
        out.state = EnvoyHostState::Unhealthy;
    else if (h.failedActiveDegradedCheck || eds == QLatin1String("DEGRADED"))
        out.state = EnvoyHostState::Degraded;
    out.rqTotal = h.stat("rq_total");
    out.rqSuccess = h.stat("rq_success");
    out.rqError = h.stat("rq_error");
    out.rqTimeout = h.stat("rq_timeout");
    out.rqActive = h.stat("rq_active");
    out.cxActive = h.stat("cx_active");
    out.cxConnectFail = h.stat("cx_connect_fail");
    out.successRate = h.successRate;
    out.weight = h.weight;
    out.priority = h.priority;
    return out;
}

}  // namespace

EnvoyAdminView buildEnvoyAdminView(const EnvoyAdminSample &current, const EnvoyAdminSample *previous,
    const QString &configuredName, const QString &fallbackName)
{
    EnvoyAdminView view;
    view.proxy = envoyProxyNode(current.server ? &*current.server : nullptr, configuredName, fallbackName);
    view.proxyId = MeshMetrics::nodeId(view.proxy);
    if (previous)
        view.intervalSeconds = std::max(0.0, double(current.monotonicMs - previous->monotonicMs) / 1000.0);
    const bool haveRates = previous && view.intervalSeconds > 0;
    // A proxy whose uptime went down restarted: every counter starts again from zero.
    const bool restarted = previous && current.server && previous->server
        && current.server->uptimeCurrentEpochSeconds >= 0 && previous->server->uptimeCurrentEpochSeconds >= 0
        && current.server->uptimeCurrentEpochSeconds < previous->server->uptimeCurrentEpochSeconds;
    view.counterReset = restarted;

    std::unordered_map<QString, const EnvoyClusterStatus *> before;
    if (previous) {
        for (const EnvoyClusterStatus &c : previous->clusters.clusters)
            before.emplace(c.name, &c);
    }
    std::vector<EdgeAcc> accs;
    std::unordered_map<std::string, size_t> accIndex;

    for (const EnvoyClusterStatus &c : current.clusters.clusters) {
        const EnvoyUpstream up = classifyEnvoyCluster(c.name);
        const std::string prefix = "cluster." + c.statName().toStdString() + ".";
        const bool fromHosts = !hasClusterCounters(current.stats, prefix);
        const ClusterCounters now = countersOf(current.stats, c, fromHosts);

        EnvoyClusterHealth health;
        health.cluster = c.name;
        health.role = QLatin1String(envoyUpstreamRoleName(up.role));
        health.addedViaApi = c.addedViaApi;
        health.countersFromHosts = fromHosts;
        health.rqTotal = now.rq;
        uint64_t hostCx = 0, hostRq = 0;
        for (const EnvoyHostStatus &h : c.hosts) {
            EnvoyHostHealth hh = hostHealth(h);
            health.hostsTotal++;
            health.healthy += hh.state == EnvoyHostState::Healthy;
            health.degraded += hh.state == EnvoyHostState::Degraded;
            health.unhealthy += hh.state == EnvoyHostState::Unhealthy;
            health.outlierEjected += hh.outlierEjected;
            health.failedActiveHc += hh.failedActiveHc;
            hostCx += hh.cxActive;
            hostRq += hh.rqActive;
            health.hosts.push_back(std::move(hh));
        }
        health.cxActive = current.stats.value(prefix + "upstream_cx_active").value_or(hostCx);
        health.rqActive = current.stats.value(prefix + "upstream_rq_active").value_or(hostRq);

        const bool onGraph = (up.role == EnvoyUpstream::Role::Upstream || up.role == EnvoyUpstream::Role::Passthrough)
            && (now.rq > 0 || now.cx > 0);
        if (up.role == EnvoyUpstream::Role::Upstream || up.role == EnvoyUpstream::Role::Passthrough)
            health.nodeId = MeshMetrics::nodeId(up.node);
        health.onGraph = onGraph;
        view.clusters.push_back(std::move(health));
        if (!onGraph)
            continue;

        ClusterCounters d;
        if (haveRates) {
            auto it = before.find(c.name);
            const EnvoyClusterStatus *prevCluster = it == before.end() ? nullptr : it->second;
            if (fromHosts) {
                d = hostDeltas(c, prevCluster, restarted);
            } else {
                // A cluster missing from the previous sample was added since: its counters started at zero.
                const ClusterCounters then
                    = prevCluster ? countersOf(previous->stats, *prevCluster, false) : ClusterCounters {};
                const bool reset = restarted || now.rq < then.rq || now.cx < then.cx;
                if (reset && prevCluster)
                    view.counterReset = true;
                d.rq = delta(now.rq, then.rq, reset);
                d.e5xx = delta(now.e5xx, then.e5xx, reset);
                d.e4xx = delta(now.e4xx, then.e4xx, reset);
                d.cx = delta(now.cx, then.cx, reset);
                d.bytes = delta(now.bytes, then.bytes, reset);
            }
        }
        const std::string nodeId = MeshMetrics::nodeId(up.node);
        auto [slot, fresh] = accIndex.emplace(nodeId, accs.size());
        if (fresh) {
            accs.emplace_back();
            accs.back().node = up.node;
        }
        EdgeAcc &a = accs[slot->second];
        a.http = a.http || now.rq > 0;
        a.rq += d.rq;
        a.e5xx += d.e5xx;
        a.e4xx += d.e4xx;
        a.cx += d.cx;
        a.bytes += d.bytes;
        const std::string timeName = prefix + "upstream_rq_time";
        a.p50 = std::max(a.p50, current.stats.quantile(timeName, 50).value_or(0));
        a.p95 = std::max(a.p95, current.stats.quantile(timeName, 95).value_or(0));
        a.p99 = std::max(a.p99, current.stats.quantile(timeName, 99).value_or(0));
    }

    view.edges.reserve(accs.size());
    for (const EdgeAcc &a : accs) {
        PulledEdge e;
        e.source = view.proxy;
        e.target = a.node;
        e.protocol = a.http ? Protocol::Http : Protocol::Tcp;
        TrafficStats &s = e.stats;
        const uint64_t count = a.http ? a.rq : a.cx;
        s.requests = count;
        if (haveRates)
            s.rps = double(count) / view.intervalSeconds;
        if (a.http && a.rq > 0) {
            s.rate5xx = std::clamp(double(a.e5xx) / double(a.rq), 0.0, 1.0);
            s.rate4xx = std::clamp(double(a.e4xx) / double(a.rq), 0.0, 1.0);
            s.errorRate = s.rate5xx;
        }
        s.p50Ms = a.p50;
        s.p95Ms = a.p95;
        s.p99Ms = a.p99;
        s.bytes = a.bytes;
        view.edges.push_back(std::move(e));
    }
    return view;
}

QJsonArray envoyUpstreamHealthToJson(const std::vector<EnvoyClusterHealth> &clusters)
{
    QJsonArray out;
    for (const EnvoyClusterHealth &c : clusters) {
        QJsonArray hosts;
        for (const EnvoyHostHealth &h : c.hosts) {
            hosts.append(QJsonObject {
                {QStringLiteral("address"), h.address},
                {QStringLiteral("hostname"), h.hostname},
                {QStringLiteral("locality"), h.locality},
                {QStringLiteral("state"), QLatin1String(envoyHostStateName(h.state))},
                {QStringLiteral("flags"), QJsonArray::fromStringList(h.flags)},
                {QStringLiteral("eds_health_status"),
                    h.edsHealthStatus.isEmpty() ? QStringLiteral("UNKNOWN") : h.edsHealthStatus},
                {QStringLiteral("outlier_ejected"), h.outlierEjected},
                {QStringLiteral("failed_active_hc"), h.failedActiveHc},
                {QStringLiteral("rq_total"), double(h.rqTotal)},
                {QStringLiteral("rq_success"), double(h.rqSuccess)},
                {QStringLiteral("rq_error"), double(h.rqError)},
                {QStringLiteral("rq_timeout"), double(h.rqTimeout)},
                {QStringLiteral("rq_active"), double(h.rqActive)},
                {QStringLiteral("cx_active"), double(h.cxActive)},
                {QStringLiteral("cx_connect_fail"), double(h.cxConnectFail)},
                {QStringLiteral("success_rate"), h.successRate ? QJsonValue(*h.successRate) : QJsonValue()},
                {QStringLiteral("weight"), double(h.weight)},
                {QStringLiteral("priority"), double(h.priority)},
            });
        }
        out.append(QJsonObject {
            {QStringLiteral("cluster"), c.cluster},
            {QStringLiteral("role"), c.role},
            {QStringLiteral("node"), c.nodeId.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(c.nodeId))},
            {QStringLiteral("on_graph"), c.onGraph},
            {QStringLiteral("added_via_api"), c.addedViaApi},
            {QStringLiteral("hosts_total"), c.hostsTotal},
            {QStringLiteral("healthy"), c.healthy},
            {QStringLiteral("degraded"), c.degraded},
            {QStringLiteral("unhealthy"), c.unhealthy},
            {QStringLiteral("outlier_ejected"), c.outlierEjected},
            {QStringLiteral("failed_active_hc"), c.failedActiveHc},
            {QStringLiteral("rq_total"), double(c.rqTotal)},
            {QStringLiteral("cx_active"), double(c.cxActive)},
            {QStringLiteral("rq_active"), double(c.rqActive)},
            {QStringLiteral("counters_from"),
                c.countersFromHosts ? QStringLiteral("hosts") : QStringLiteral("cluster_stats")},
            {QStringLiteral("hosts"), hosts},
        });
    }
    return out;
}

}  // namespace meshscope

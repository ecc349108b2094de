#include "telemetry/prometheus/meshmetrics.h"

#include "model/text.h"

#include <QRegularExpression>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace meshscope {

namespace {

// ---- labels ------------------------------------------------------------------------

// Istio labels that identify both ends of a request (and which proxy reported it).
const char *const kIstioIdentity[] = {
    "reporter",
    "source_workload_namespace",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "source_app",
    "source_version",
    "destination_workload_namespace",
    "destination_workload",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
};

// Linkerd labels that identify both ends: scrape-added workload labels of the pod
// whose proxy reported, and the proxy's own dst_* labels.
const char *const kLinkerdIdentity[] = {
    "direction",
    "namespace",
    "deployment",
    "statefulset",
    "daemonset",
    "dst_namespace",
    "dst_deployment",
    "dst_statefulset",
    "dst_daemonset",
    "dst_service",
    "authority",
};

const std::string kEmpty;

const std::string &label(const PromLabels &l, const char *name)
{
    auto it = l.find(name);
    return it == l.end() ? kEmpty : it->second;
}

// Istio writes "unknown" where peer metadata is missing; Prometheus drops empty labels.
bool known(const std::string &v) { return !v.empty() && v != "unknown"; }

const std::string &firstKnown(std::initializer_list<const std::string *> values)
{
    for (const std::string *v : values) {
        if (known(*v))
            return *v;
    }
    return kEmpty;
}

bool looksLikeGatewayWorkload(const std::string &workload) { return workload.find("gateway") != std::string::npos; }

// "api.example.com:443" -> "api.example.com", as the trace side names peers.
std::string hostOf(const std::string &authority)
{
    std::string host = authority;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        return close == std::string::npos ? host.substr(1) : host.substr(1, close - 1);
    }
    if (std::count(host.begin(), host.end(), ':') == 1)
        host.erase(host.find(':'));
    return host;
}

// ---- query text --------------------------------------------------------------------

QString joinLabels(std::initializer_list<const char *> head, const char *const *list, size_t n,
    std::initializer_list<const char *> tail)
{
    QStringList out;
    for (const char *h : head)
        out << QLatin1String(h);
    for (size_t i = 0; i < n; ++i)
        out << QLatin1String(list[i]);
    for (const char *t : tail)
        out << QLatin1String(t);
    return out.join(QLatin1Char(','));
}

QString quoted(const std::string &v)
{
    QString s = QString::fromStdString(v);
    s.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    s.replace(QLatin1Char('"'), QLatin1String("\\\""));
    return QLatin1Char('"') + s + QLatin1Char('"');
}

// The user's extra matchers, with or without braces.
QString userMatchers(const QString &selector)
{
    QString s = selector.trimmed();
    if (s.startsWith(QLatin1Char('{')) && s.endsWith(QLatin1Char('}')))
        s = s.mid(1, s.size() - 2).trimmed();
    return s;
}

QString selector(const QString &base, const QString &focus, const QString &extra)
{
    QStringList parts {base};
    if (!focus.isEmpty())
        parts << focus;
    if (!extra.isEmpty())
        parts << extra;
    return QLatin1Char('{') + parts.join(QLatin1Char(',')) + QLatin1Char('}');
}

// Selectors whose union is the series a query reads. Within one "sum by" group every
// series matches the same selectors (they test only labels the group keeps), so a
// group found by several selectors has the same value in each and `or` keeps one.
QStringList istioSelectors(const MeshQueryOptions &o)
{
    const QString extra = userMatchers(o.selector);
    const QString dest = QStringLiteral(R"(reporter=~"destination|waypoint")");
    const QString src = QStringLiteral(R"(reporter="source",destination_workload=~"unknown|")");
    if (o.focus.ns.empty())
        return {selector(dest, {}, extra), selector(src, {}, extra)};
    const QString ns = quoted(o.focus.ns);
    QStringList out;
    if (o.focus.side != MeshFocus::Side::Target) {
        out << selector(dest, QStringLiteral("source_workload_namespace=") + ns, extra)
            << selector(src, QStringLiteral("source_workload_namespace=") + ns, extra);
    }
    if (o.focus.side != MeshFocus::Side::Source) {
        out << selector(dest, QStringLiteral("destination_workload_namespace=") + ns, extra)
            << selector(src, QStringLiteral("destination_service_namespace=") + ns, extra);
    }
    return out;
}

QStringList linkerdSelectors(const MeshQueryOptions &o, bool tcp)
{
    const QString extra = userMatchers(o.selector);
    const QString out
        = tcp ? QStringLiteral(R"(direction="outbound",peer="dst")") : QStringLiteral(R"(direction="outbound")");
    const QString in = tcp ? QStringLiteral(R"(direction="inbound",peer="src",tls!="true")")
                           : QStringLiteral(R"(direction="inbound",tls!="true")");
    if (o.focus.ns.empty())
        return {selector(out, {}, extra), selector(in, {}, extra)};
    const QString ns = quoted(o.focus.ns);
    QStringList list;
    if (o.focus.side != MeshFocus::Side::Target)
        list << selector(out, QStringLiteral("namespace=") + ns, extra);
    if (o.focus.side != MeshFocus::Side::Source)
        list << selector(out, QStringLiteral("dst_namespace=") + ns, extra);
    // Inbound series carry the callee's namespace; for a source-side focus this is a
    // superset that buildEdges' result is filtered from anyway.
    list << selector(in, QStringLiteral("namespace=") + ns, extra);
    return list;
}

// fn(metric{s1}[W]) or fn(metric{s2}[W]) ...
QString unionOf(const char *fn, const char *metric, const QStringList &selectors, int window)
{
    QStringList terms;
    const QString range = QLatin1Char('[') + QString::number(window) + QStringLiteral("s])");
    for (const QString &s : selectors)
        terms << QLatin1String(fn) + QLatin1Char('(') + QLatin1String(metric) + s + range;
    return terms.join(QStringLiteral(" or "));
}

QString tagged(const QString &expr, const char *labelName, const char *value)
{
    return QStringLiteral("label_replace(%1, \"%2\", \"%3\", \"\", \"\")")
        .arg(expr, QLatin1String(labelName), QLatin1String(value));
}

QString quantiles(const char *bucket, const QString &by, const QStringList &selectors, int window)
{
    static const char *const kQuantiles[] = {"0.5", "0.95", "0.99"};
    QStringList parts;
    for (const char *q : kQuantiles) {
        parts << tagged(QStringLiteral("histogram_quantile(%1, sum by (%2) (%3)) > 0")
                            .arg(QLatin1String(q), by, unionOf("rate", bucket, selectors, window)),
            MeshMetrics::kQuantileLabel, q);
    }
    return parts.join(QStringLiteral(" or "));
}

QString sums(std::initializer_list<std::pair<const char *, const char *>> metrics, const QString &by,
    const QStringList &selectors, int window)
{
    QStringList parts;
    for (const auto &[metric, tag] : metrics) {
        parts << tagged(QStringLiteral("sum by (%1) (%2) > 0").arg(by, unionOf("increase", metric, selectors, window)),
            MeshMetrics::kMetricLabel, tag);
    }
    return parts.join(QStringLiteral(" or "));
}

// ---- edges -------------------------------------------------------------------------

struct EdgeAcc {
    NodeRef src, dst;
    double requests = 0, errors = 0, e5xx = 0, e4xx = 0;
    double byProtocol[4] = {};
    bool hasRequests = false;
    double connections = 0;
    double bytes = 0;
    double quantile[3] = {0, 0, 0};
    double mtlsYes = 0, mtlsNo = 0;
};

class EdgeTable {
public:
    // Null for an edge whose ends carry names no other source would accept (past
    // kMaxLabelNameBytes or not UTF-8, as OTLP and ALS refuse them): a 1 MB label value
    // never becomes a 2 MB node id.
    EdgeAcc *find(const NodeRef &src, const NodeRef &dst, bool create)
    {
        if (!acceptable(src) || !acceptable(dst)) {
            ++m_refused;
            return nullptr;
        }
        std::string key = edgeId(MeshMetrics::nodeId(src), MeshMetrics::nodeId(dst));
        auto it = m_edges.find(key);
        if (it != m_edges.end())
            return &it->second;
        if (!create)
            return nullptr;
        EdgeAcc &e = m_edges[std::move(key)];
        e.src = src;
        e.dst = dst;
        return &e;
    }

    static bool acceptable(const NodeRef &r)
    {
        for (const std::string *t : {&r.ns, &r.name, &r.version}) {
            if (t->size() > MeshMetrics::kMaxLabelNameBytes || !isValidUtf8(*t))
                return false;
        }
        return true;
    }

    uint64_t refused() const { return m_refused; }

    std::vector<PulledEdge> finish(int windowSeconds) const
    {
        const double window = std::max(1, windowSeconds);
        std::vector<PulledEdge> out;
        out.reserve(m_edges.size());
        for (const auto &[key, a] : m_edges) {
            PulledEdge e;
            e.source = a.src;
            e.target = a.dst;
            TrafficStats &s = e.stats;
            const double count = a.hasRequests ? a.requests : a.connections;
            s.requests = uint64_t(std::llround(std::max(0.0, count)));
            s.rps = count / window;
            if (a.requests > 0) {
                s.errorRate = std::clamp(a.errors / a.requests, 0.0, 1.0);
                s.rate5xx = std::clamp(a.e5xx / a.requests, 0.0, 1.0);
                s.rate4xx = std::clamp(a.e4xx / a.requests, 0.0, 1.0);
            }
            s.p50Ms = a.quantile[0];
            s.p95Ms = a.quantile[1];
            s.p99Ms = a.quantile[2];
            s.bytes = uint64_t(std::llround(std::max(0.0, a.bytes)));
            if (a.hasRequests) {
                e.protocol = a.byProtocol[size_t(Protocol::Grpc)] > a.byProtocol[size_t(Protocol::Http)]
                    ? Protocol::Grpc
                    : Protocol::Http;
            } else {
                e.protocol = Protocol::Tcp;
            }
            // Any plaintext traffic on an edge makes it not mutual-TLS: that is the
            // answer someone checking a security policy needs.
            e.mtls = a.mtlsNo > 0 ? 0 : (a.mtlsYes > 0 ? 1 : -1);
            out.push_back(std::move(e));
        }
        return out;
    }

private:
    std::map<std::string, EdgeAcc> m_edges;  // ordered: deterministic output
    uint64_t m_refused = 0;
};

void addMtls(EdgeAcc &e, int8_t mtls, double weight)
{
    if (mtls == 1)
        e.mtlsYes += weight;
    else if (mtls == 0)
        e.mtlsNo += weight;
}

int quantileIndex(const PromLabels &l)
{
    const std::string &q = label(l, MeshMetrics::kQuantileLabel);
    if (q == "0.5")
        return 0;
    if (q == "0.95")
        return 1;
    if (q == "0.99")
        return 2;
    return -1;
}

int statusCode(const std::string &v)
{
    if (v.empty() || v.size() > 4)
        return -1;
    int code = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return -1;
        code = code * 10 + (c - '0');
    }
    return code;
}

// ---- Istio -------------------------------------------------------------------------

int8_t istioMtls(const PromLabels &l)
{
    const std::string &p = label(l, "connection_security_policy");
    if (p == "mutual_tls")
        return 1;
    if (p == "none")
        return 0;
    return -1;
}

// Resolves both ends of Istio series. Destination-reported series teach it which
// workloads stand behind a service host, so that a request the source proxy saw fail
// before reaching any workload is drawn to that service, not to an outside node.
class IstioResolver {
public:
    void learn(const PromLabels &l)
    {
        const std::string &reporter = label(l, "reporter");
        if ((reporter != "destination" && reporter != "waypoint") || !known(label(l, "destination_workload")))
            return;
        const std::string &host = label(l, "destination_service");
        if (!known(host))
            return;
        const NodeRef ref = MeshMetrics::istioWorkload(l, false);
        auto &refs = m_hosts[host];
        if (std::none_of(refs.begin(), refs.end(),
                [&](const NodeRef &r) { return MeshMetrics::nodeId(r) == MeshMetrics::nodeId(ref); }))
            refs.push_back(ref);
    }

    std::optional<std::pair<NodeRef, NodeRef>> resolve(const PromLabels &l) const
    {
        const std::string &reporter = label(l, "reporter");
        const bool byDestination = reporter == "destination" || reporter == "waypoint";
        const bool destKnown = known(label(l, "destination_workload"));
        // A request whose destination proxy reported it is counted from that report.
        if (!byDestination && (reporter != "source" || destKnown))
            return std::nullopt;
        NodeRef src;
        if (known(label(l, "source_workload")))
            src = MeshMetrics::istioWorkload(l, true);
        else
            src.kind = NodeKind::External;
        if (destKnown)
            return std::make_pair(src, MeshMetrics::istioWorkload(l, false));
        return std::make_pair(src, unservedDestination(l));
    }

private:
    NodeRef unservedDestination(const PromLabels &l) const
    {
        const std::string &host = label(l, "destination_service");
        if (auto it = m_hosts.find(host); known(host) && it != m_hosts.end()) {
            NodeRef ref = it->second.front();
            if (it->second.size() > 1)
                ref.version.clear();  // several versions behind the host: the service as a whole
            return ref;
        }
        NodeRef ref;
        ref.kind = NodeKind::ExternalService;
        const std::string &name = label(l, "destination_service_name");
        const bool passthrough = name == "PassthroughCluster" || name == "BlackHoleCluster"
            || name.rfind("InboundPassthroughCluster", 0) == 0;
        if (known(name) && !passthrough)
            ref.name = name;
        else if (known(host))
            ref.name = host;
        else
            ref.name = known(name) ? name : std::string("unknown");
        return ref;
    }

    std::map<std::string, std::vector<NodeRef>> m_hosts;
};

// The edge a sample of requests counts towards, with the count added; null when the
// sample names no edge or names refused by EdgeTable::find.
EdgeAcc *countRequests(EdgeTable &table, const std::optional<std::pair<NodeRef, NodeRef>> &ends, double n)
{
    EdgeAcc *e = ends ? table.find(ends->first, ends->second, true) : nullptr;
    if (e) {
        e->hasRequests = true;
        e->requests += n;
    }
    return e;
}

void addIstioRequests(EdgeTable &table, const IstioResolver &resolver, const PromSample &s)
{
    EdgeAcc *found = countRequests(table, resolver.resolve(s.labels), s.value);
    if (!found)
        return;
    EdgeAcc &e = *found;
    const double n = s.value;
    const std::string &proto = label(s.labels, "request_protocol");
    e.byProtocol[size_t(proto == "grpc" ? Protocol::Grpc : Protocol::Http)] += n;
    // Kiali's rule: an HTTP 4xx/5xx decides; otherwise a gRPC status other than OK
    // is an error; response code 0 means no response at all, also an error.
    const std::string &codeText = label(s.labels, "response_code");
    const int code = statusCode(codeText);
    const std::string &grpc = label(s.labels, "grpc_response_status");
    if (code >= 500 && code <= 599) {
        e.errors += n;
        e.e5xx += n;
    } else if (code >= 400 && code <= 499) {
        e.e4xx += n;
    } else if ((!grpc.empty() && grpc != "0") || code == 0) {
        e.errors += n;
    }
    addMtls(e, istioMtls(s.labels), n);
}

void addIstioBytes(EdgeTable &table, const IstioResolver &resolver, const PromSample &s)
{
    const auto ends = resolver.resolve(s.labels);
    if (!ends)
        return;
    const std::string &metric = label(s.labels, MeshMetrics::kMetricLabel);
    const bool tcp = metric.rfind("tcp_", 0) == 0;
    // HTTP byte counts add to edges the request query found; only TCP makes new ones.
    EdgeAcc *e = table.find(ends->first, ends->second, tcp);
    if (!e)
        return;
    if (metric == "tcp_opened")
        e->connections += s.value;
    else
        e->bytes += s.value;
    if (tcp && !e->hasRequests)
        addMtls(*e, istioMtls(s.labels), s.value);
}

// ---- Linkerd -----------------------------------------------------------------------

int8_t linkerdMtls(const PromLabels &l)
{
    auto it = l.find("tls");
    if (it == l.end())
        return -1;
    return it->second == "true" ? 1 : 0;
}

std::optional<std::pair<NodeRef, NodeRef>> linkerdEnds(const PromLabels &l)
{
    const std::string &direction = label(l, "direction");
    if (direction == "outbound")
        return std::make_pair(MeshMetrics::linkerdSource(l), MeshMetrics::linkerdDestination(l));
    if (direction == "inbound" && label(l, "tls") != "true") {
        // Inbound without a client identity: the caller has no proxy, so it is outside.
        NodeRef external;
        external.kind = NodeKind::External;
        return std::make_pair(external, MeshMetrics::linkerdSource(l));
    }
    return std::nullopt;
}

void addLinkerdResponses(EdgeTable &table, const PromSample &s)
{
    EdgeAcc *found = countRequests(table, linkerdEnds(s.labels), s.value);
    if (!found)
        return;
    EdgeAcc &e = *found;
    const double n = s.value;
    e.byProtocol[size_t(s.labels.count("grpc_status_code") ? Protocol::Grpc : Protocol::Http)] += n;
    // Linkerd's own classification decides errors (5xx and gRPC failures by default);
    // status codes only split out 5xx and 4xx.
    if (label(s.labels, "classification") == "failure")
        e.errors += n;
    const int code = statusCode(label(s.labels, "status_code"));
    if (code >= 500 && code <= 599)
        e.e5xx += n;
    else if (code >= 400 && code <= 499)
        e.e4xx += n;
    addMtls(e, linkerdMtls(s.labels), n);
}

void addLinkerdBytes(EdgeTable &table, const PromSample &s)
{
    const auto ends = linkerdEnds(s.labels);
    if (!ends)
        return;
    EdgeAcc *found = table.find(ends->first, ends->second, true);
    if (!found)
        return;
    EdgeAcc &e = *found;
    if (label(s.labels, MeshMetrics::kMetricLabel) == "tcp_opened")
        e.connections += s.value;
    else
        e.bytes += s.value;
    if (!e.hasRequests)
        addMtls(e, linkerdMtls(s.labels), s.value);
}

void addLatency(EdgeTable &table, const std::optional<std::pair<NodeRef, NodeRef>> &ends, const PromSample &s)
{
    const int q = quantileIndex(s.labels);
    if (!ends || q < 0)
        return;
    if (EdgeAcc *e = table.find(ends->first, ends->second, false))
        e->quantile[q] = std::max(e->quantile[q], s.value);
}

bool isIstio(MeshQueryKind k)
{
    return k == MeshQueryKind::IstioRequests || k == MeshQueryKind::IstioLatency || k == MeshQueryKind::IstioBytes;
}

std::string nsOfNodeId(const std::string &id) { return parseNodeId(id).ns; }

// ---- queries for one node or edge (links out) -----------------------------------------

QString promString(const QString &v)
{
    QString s = v;
    s.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    s.replace(QLatin1Char('"'), QLatin1String("\\\""));
    return QLatin1Char('"') + s + QLatin1Char('"');
}

QString promString(const std::string &v) { return promString(QString::fromStdString(v)); }

// A host with or without its port, as hostOf strips ports from authorities.
QString hostPattern(const std::string &host)
{
    return promString(QRegularExpression::escape(QString::fromStdString(host)) + QStringLiteral("(:[0-9]+)?"));
}

QString rangeText(int seconds)
{
    if (seconds % 3600 == 0)
        return QString::number(seconds / 3600) + QLatin1Char('h');
    if (seconds % 60 == 0)
        return QString::number(seconds / 60) + QLatin1Char('m');
    return QString::number(seconds) + QLatin1Char('s');
}

bool isWorkload(const NodeRef &r) { return r.kind == NodeKind::Service || r.kind == NodeKind::Gateway; }

// The Istio labels naming a mesh workload as one end ("source_" or "destination_"),
// the labels istioWorkload reads the node's name from.
void istioWorkloadMatchers(QStringList &m, const NodeRef &r, const char *prefix)
{
    const QString p = QLatin1String(prefix);
    if (!r.ns.empty())
        m << p + QStringLiteral("workload_namespace=") + promString(r.ns);
    m << p + QStringLiteral("canonical_service=") + promString(r.name);
    if (!r.version.empty())
        m << p + QStringLiteral("canonical_revision=") + promString(r.version);
}

// Matchers selecting an Istio node's or edge's requests; empty when none can. As in the
// graph queries, the destination proxy's report counts, and the source proxy's only for
// destinations outside the mesh.
QStringList istioItemMatchers(const std::optional<NodeRef> &from, const std::optional<NodeRef> &to)
{
    QStringList m;
    if (to && to->kind == NodeKind::ExternalService) {
        m << QStringLiteral(R"(reporter="source",destination_workload=~"unknown|")");
        if (from && isWorkload(*from))
            istioWorkloadMatchers(m, *from, "source_");
        else if (from)
            return {};
        m << QStringLiteral("destination_service=") + promString(to->name);
        return m;
    }
    m << QStringLiteral(R"(reporter=~"destination|waypoint")");
    if (from) {
        if (from->kind == NodeKind::External)
            m << QStringLiteral(R"(source_workload="unknown")");
        else if (isWorkload(*from))
            istioWorkloadMatchers(m, *from, "source_");
        else
            return {};
    }
    if (to) {
        if (!isWorkload(*to))
            return {};
        istioWorkloadMatchers(m, *to, "destination_");
    }
    return m;
}

// The same for Linkerd: outbound series between meshed workloads and to outside
// hosts, inbound series without mTLS identity from callers outside the mesh.
QStringList linkerdItemMatchers(const std::optional<NodeRef> &from, const std::optional<NodeRef> &to)
{
    auto workload = [](QStringList &m, const NodeRef &r, const char *prefix) {
        const QString p = QLatin1String(prefix);
        if (!r.ns.empty())
            m << p + QStringLiteral("namespace=") + promString(r.ns);
        m << p + QStringLiteral("deployment=") + promString(r.name);
    };
    QStringList m;
    const bool fromOutside = !from || from->kind == NodeKind::External;
    if (to && isWorkload(*to) && fromOutside) {
        // A workload's own inbound series: everything it serves, or only what callers
        // outside the mesh send it.
        m << QStringLiteral(R"(direction="inbound")");
        if (from)
            m << QStringLiteral(R"(tls!="true")");
        workload(m, *to, "");
        return m;
    }
    if (!to && from && from->kind == NodeKind::External)
        return {QStringLiteral(R"(direction="inbound")"), QStringLiteral(R"(tls!="true")")};
    m << QStringLiteral(R"(direction="outbound")");
    if (from) {
        if (!isWorkload(*from))
            return {};
        workload(m, *from, "");
    }
    if (to) {
        if (to->kind == NodeKind::ExternalService)
            m << QStringLiteral("authority=~") + hostPattern(to->name);
        else if (isWorkload(*to))
            workload(m, *to, "dst_");
        else
            return {};
    }
    return m;
}

}  // namespace

// ---- public ------------------------------------------------------------------------

QString MeshMetrics::itemQuery(const std::string &id, MeshRate rate, const MeshQueryOptions &options)
{
    std::optional<NodeRef> from, to;
    EdgeEnds ends;
    if (parseEdgeId(id, &ends)) {
        from = parseNodeId(ends.source);
        to = parseNodeId(ends.target);
    } else {
        const NodeRef node = parseNodeId(id);
        // A node counts what it serves; the outside world what it sends.
        if (node.kind == NodeKind::External)
            from = node;
        else
            to = node;
    }
    const bool linkerd = options.mesh == MeshKind::Linkerd;
    QStringList m = linkerd ? linkerdItemMatchers(from, to) : istioItemMatchers(from, to);
    if (m.isEmpty())
        return {};
    if (const QString extra = userMatchers(options.selector); !extra.isEmpty())
        m << extra;
    const QString metric = linkerd ? QStringLiteral("response_total") : QStringLiteral("istio_requests_total");
    const QString range = QLatin1Char('[') + rangeText(std::max(1, options.windowSeconds)) + QLatin1Char(']');
    auto rateOf = [&](const QString &more) {
        const QString sel
            = more.isEmpty() ? m.join(QLatin1Char(',')) : m.join(QLatin1Char(',')) + QLatin1Char(',') + more;
        return QStringLiteral("rate(%1{%2}%3)").arg(metric, sel, range);
    };
    const QString all = QStringLiteral("sum(%1)").arg(rateOf({}));
    if (rate == MeshRate::Requests)
        return all;
    const QString failed = linkerd ? rateOf(QStringLiteral(R"(classification="failure")"))
                                   : rateOf(QStringLiteral(R"(response_code=~"5..")")) + QStringLiteral(" or ")
            + rateOf(QStringLiteral(R"(grpc_response_status!~"0|")"));
    return QStringLiteral("sum(%1) / %2").arg(failed, all);
}

std::vector<MeshQuery> MeshMetrics::graphQueries(const MeshQueryOptions &o)
{
    const int w = std::max(1, o.windowSeconds);
    std::vector<MeshQuery> out;
    constexpr size_t nIstio = std::size(kIstioIdentity);
    constexpr size_t nLinkerd = std::size(kLinkerdIdentity);
    if (o.mesh != MeshKind::Linkerd) {
        const QStringList sel = istioSelectors(o);
        const QString requestsBy = joinLabels({}, kIstioIdentity, nIstio,
            {"request_protocol", "connection_security_policy", "response_code", "grpc_response_status"});
        out.push_back({MeshQueryKind::IstioRequests,
            QStringLiteral("sum by (%1) (%2) > 0")
                .arg(requestsBy, unionOf("increase", "istio_requests_total", sel, w))});
        out.push_back({MeshQueryKind::IstioLatency,
            quantiles("istio_request_duration_milliseconds_bucket",
                joinLabels({"le"}, kIstioIdentity, nIstio, {"request_protocol"}), sel, w)});
        out.push_back({MeshQueryKind::IstioBytes,
            sums({{"istio_tcp_sent_bytes_total", "tcp_sent"}, {"istio_tcp_received_bytes_total", "tcp_received"},
                     {"istio_tcp_connections_opened_total", "tcp_opened"}, {"istio_request_bytes_sum", "request_bytes"},
                     {"istio_response_bytes_sum", "response_bytes"}},
                joinLabels({}, kIstioIdentity, nIstio, {"connection_security_policy"}), sel, w)});
    }
    if (o.mesh != MeshKind::Istio) {
        const QStringList sel = linkerdSelectors(o, false);
        const QString responsesBy
            = joinLabels({}, kLinkerdIdentity, nLinkerd, {"tls", "classification", "status_code", "grpc_status_code"});
        out.push_back({MeshQueryKind::LinkerdResponses,
            QStringLiteral("sum by (%1) (%2) > 0").arg(responsesBy, unionOf("increase", "response_total", sel, w))});
        out.push_back({MeshQueryKind::LinkerdLatency,
            quantiles("response_latency_ms_bucket", joinLabels({"le"}, kLinkerdIdentity, nLinkerd, {"tls"}), sel, w)});
        out.push_back({MeshQueryKind::LinkerdBytes,
            sums({{"tcp_read_bytes_total", "tcp_read"}, {"tcp_write_bytes_total", "tcp_write"},
                     {"tcp_open_total", "tcp_opened"}},
                joinLabels({}, kLinkerdIdentity, nLinkerd, {"tls"}), linkerdSelectors(o, true), w)});
    }
    return out;
}

std::vector<PulledEdge> MeshMetrics::buildEdges(const std::vector<MeshAnswer> &answers, int windowSeconds)
{
    IstioResolver istio;
    for (const MeshAnswer &a : answers) {
        if (isIstio(a.kind)) {
            for (const PromSample &s : a.samples)
                istio.learn(s.labels);
        }
    }
    EdgeTable table;
    auto usable = [](const PromSample &s) { return std::isfinite(s.value) && s.value >= 0; };
    // Requests and bytes make edges; latency only annotates them, so it goes last.
    for (int pass = 0; pass < 2; ++pass) {
        for (const MeshAnswer &a : answers) {
            const bool latency = a.kind == MeshQueryKind::IstioLatency || a.kind == MeshQueryKind::LinkerdLatency;
            if (latency != (pass == 1))
                continue;
            for (const PromSample &s : a.samples) {
                if (!usable(s))
                    continue;
                switch (a.kind) {
                case MeshQueryKind::IstioRequests: addIstioRequests(table, istio, s); break;
                case MeshQueryKind::IstioBytes: addIstioBytes(table, istio, s); break;
                case MeshQueryKind::IstioLatency: addLatency(table, istio.resolve(s.labels), s); break;
                case MeshQueryKind::LinkerdResponses: addLinkerdResponses(table, s); break;
                case MeshQueryKind::LinkerdBytes: addLinkerdBytes(table, s); break;
                case MeshQueryKind::LinkerdLatency: addLatency(table, linkerdEnds(s.labels), s); break;
                }
            }
        }
    }
    return table.finish(windowSeconds);
}

std::vector<MeshChartPoint> MeshMetrics::chartSeries(const std::vector<MeshRangeAnswer> &answers, int rangeSeconds,
    int64_t start, int64_t end, int64_t step, const std::string &id)
{
    return chartSeries(answers, rangeSeconds, start, end, step, std::vector<std::string> {id});
}

std::vector<MeshChartPoint> MeshMetrics::chartSeries(const std::vector<MeshRangeAnswer> &answers, int rangeSeconds,
    int64_t start, int64_t end, int64_t step, const std::vector<std::string> &ids)
{
    std::vector<MeshChartPoint> out;
    if (step <= 0 || end < start)
        return out;
    // Slice every matrix into one instant vector per step.
    std::map<int64_t, std::vector<MeshAnswer>> instants;
    for (int64_t t = start; t <= end; t += step) {
        auto &list = instants[t];
        for (const MeshRangeAnswer &a : answers)
            list.push_back(MeshAnswer {a.kind, {}});
    }
    for (size_t i = 0; i < answers.size(); ++i) {
        for (const PromSeries &series : answers[i].series) {
            for (const auto &[time, value] : series.points) {
                auto it = instants.find(std::llround(time));
                if (it != instants.end())
                    it->second[i].samples.push_back(PromSample {series.labels, time, value});
            }
        }
    }
    out.reserve(instants.size());
    for (const auto &[t, list] : instants) {
        const std::vector<PulledEdge> edges = buildEdges(list, rangeSeconds);
        MeshChartPoint p;
        p.timeSeconds = t;
        std::vector<TrafficStats> parts;
        parts.reserve(ids.size());
        for (const std::string &id : ids) {
            TrafficStats &part = parts.emplace_back();
            EdgeEnds ends;
            if (parseEdgeId(id, &ends)) {
                for (const PulledEdge &e : edges) {
                    if (refMatchesId(e.source, ends.source) && refMatchesId(e.target, ends.target))
                        part = sumStats({&part, &e.stats});
                }
                continue;
            }
            std::vector<const TrafficStats *> in, outgoing;
            for (const PulledEdge &e : edges) {
                if (refMatchesId(e.target, id))
                    in.push_back(&e.stats);
                else if (refMatchesId(e.source, id))
                    outgoing.push_back(&e.stats);
            }
            part = sumStats(in.empty() ? outgoing : in);
        }
        if (parts.size() == 1) {
            p.stats = parts.front();
        } else {
            std::vector<const TrafficStats *> all;
            for (const TrafficStats &s : parts)
                all.push_back(&s);
            p.stats = sumStats(all);
        }
        out.push_back(p);
    }
    return out;
}

std::string MeshMetrics::nodeId(const NodeRef &ref)
{
    // Metrics without a name label still make a node, named as Istio names unknowns.
    const char *unknown = ref.kind == NodeKind::ExternalService ? "unknown" : "unknown_service";
    return meshscope::nodeId(
        ref.kind, ref.ns, ref.name.empty() ? std::string_view(unknown) : std::string_view(ref.name), ref.version);
}

bool MeshMetrics::refMatchesId(const NodeRef &ref, const std::string &id)
{
    const std::string own = nodeId(ref);
    if (own == id)
        return true;
    const bool service = ref.kind == NodeKind::Service || ref.kind == NodeKind::Gateway;
    return service && ref.version.empty() && id.size() > own.size() + 1 && id.compare(0, own.size(), own) == 0
        && id[own.size()] == '@';
}

MeshFocus MeshMetrics::focusFor(const std::string &id)
{
    MeshFocus f;
    EdgeEnds ends;
    if (!parseEdgeId(id, &ends)) {
        f.ns = nsOfNodeId(id);
        return f;
    }
    if (std::string ns = nsOfNodeId(ends.source); !ns.empty()) {
        f.ns = std::move(ns);
        f.side = MeshFocus::Side::Source;
    } else if (std::string dns = nsOfNodeId(ends.target); !dns.empty()) {
        f.ns = std::move(dns);
        f.side = MeshFocus::Side::Target;
    }
    return f;
}

MeshFocus MeshMetrics::focusFor(const std::vector<std::string> &ids)
{
    if (ids.empty())
        return {};
    MeshFocus f = focusFor(ids.front());
    for (const std::string &id : ids) {
        const MeshFocus other = focusFor(id);
        if (other.ns != f.ns || other.side != f.side)
            return {};
    }
    return f;
}

TrafficStats MeshMetrics::sumStats(const std::vector<const TrafficStats *> &parts) { return sumTrafficStats(parts); }

NodeRef MeshMetrics::istioWorkload(const PromLabels &l, bool source)
{
    const char *p = source ? "source_" : "destination_";
    auto get = [&](const char *suffix) -> const std::string & { return label(l, (std::string(p) + suffix).c_str()); };
    const std::string &workload = get("workload");
    NodeRef ref;
    ref.kind = NodeKind::Service;
    ref.ns = firstKnown({&get("workload_namespace")});
    // The canonical service defaults to the app label, then to the workload name; the
    // version label is what traces report as service.version. Istio's default
    // canonical revision "latest" is no version at all.
    ref.name = firstKnown({&get("canonical_service"), &get("app"), &workload});
    if (ref.name.empty())
        ref.name = "unknown";
    ref.version = firstKnown({&get("version")});
    if (ref.version.empty()) {
        const std::string &rev = get("canonical_revision");
        if (known(rev) && rev != "latest")
            ref.version = rev;
    }
    ref.gateway = looksLikeGatewayWorkload(workload) || looksLikeGatewayWorkload(ref.name);
    return ref;
}

NodeRef MeshMetrics::linkerdSource(const PromLabels &l)
{
    NodeRef ref;
    ref.kind = NodeKind::Service;
    ref.ns = label(l, "namespace");
    ref.name = firstKnown({&label(l, "deployment"), &label(l, "statefulset"), &label(l, "daemonset")});
    if (ref.name.empty())
        ref.name = "unknown";
    ref.gateway = looksLikeGatewayWorkload(ref.name);
    return ref;
}

NodeRef MeshMetrics::linkerdDestination(const PromLabels &l)
{
    NodeRef ref;
    const std::string &ns = label(l, "dst_namespace");
    const std::string &name = firstKnown({&label(l, "dst_deployment"), &label(l, "dst_statefulset"),
        &label(l, "dst_daemonset"), &label(l, "dst_service")});
    if (known(ns) && !name.empty()) {
        ref.kind = NodeKind::Service;
        ref.ns = ns;
        ref.name = name;
        ref.gateway = looksLikeGatewayWorkload(name);
        return ref;
    }
    // No destination metadata: the proxy sent it outside the cluster.
    ref.kind = NodeKind::ExternalService;
    const std::string host = hostOf(label(l, "authority"));
    ref.name = host.empty() ? std::string("unknown") : host;
    return ref;
}

}  // namespace meshscope

#include "graph/graphaggregator.h"

#include <QDateTime>

#include <algorithm>
#include <bit>
#include <cctype>
#include <climits>
#include <iterator>

namespace meshscope {

namespace {

constexpr const char *kOriginNames[] = {"otlp", "als", "prometheus", "envoy-admin"};
constexpr size_t kMaxFoldedNamesTracked = 1000000;

unsigned originBitFor(const char *origin)
{
    for (unsigned i = 0; i < std::size(kOriginNames); ++i) {
        if (std::string_view(origin) == kOriginNames[i])
            return 1u << i;
    }
    return 1u;
}

bool looksLikeGateway(const std::string &name)
{
    std::string token;
    auto check = [&token] {
        const bool hit = token.find("gateway") != std::string::npos || token.rfind("ingress", 0) == 0
            || token.rfind("egress", 0) == 0;
        token.clear();
        return hit;
    };
    for (char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            token.push_back(char(std::tolower(static_cast<unsigned char>(c))));
        } else if (check()) {
            return true;
        }
    }
    return check();
}

// "https://api.example.com:443/x" -> "api.example.com"; "[::1]:80" -> "::1".
std::string hostOf(std::string peer)
{
    if (auto p = peer.find("://"); p != std::string::npos)
        peer.erase(0, p + 3);
    if (auto p = peer.find('/'); p != std::string::npos)
        peer.erase(p);
    if (!peer.empty() && peer.front() == '[') {
        auto close = peer.find(']');
        return close == std::string::npos ? peer.substr(1) : peer.substr(1, close - 1);
    }
    if (std::count(peer.begin(), peer.end(), ':') == 1)
        peer.erase(peer.find(':'));
    return peer;
}

}  // namespace

constexpr uint32_t kNoHistoryItem = ~uint32_t(0);

struct GraphAggregator::Node {
    Node(int window)
        : in(window)
        , out(window)
    {
    }
    std::string id, name, ns, version;
    NodeKind kind = NodeKind::Service;
    bool configuredGateway = false;
    size_t edgeRefs = 0;
    WindowStats in;  // requests it served
    WindowStats out;  // requests it sent
    HealthState health;  // of what its snapshot shows (in, or out for callers)
    uint32_t historyItem = kNoHistoryItem;  // its number in m_history, once it has one
    NodeKind historyKind = NodeKind::Service;  // as m_history was last told
    // Recomputed on every snapshot.
    bool calledFromOutside = false;
    bool callsServices = false;
};

struct GraphAggregator::Edge {
    Edge(int window)
        : stats(window)
    {
    }
    std::string id;
    Node *src = nullptr;
    Node *dst = nullptr;
    WindowStats stats;
    Protocol protocol = Protocol::Unknown;
    int8_t mtls = -1;
    unsigned origins = 0;
    HealthState health;
    uint32_t historyItem = kNoHistoryItem;
    // What m_history was last told the edge is.
    Direction historyDirection = Direction::EastWest;
    Protocol historyProtocol = Protocol::Unknown;
    int8_t historyMtls = -1;
};

GraphAggregator::GraphAggregator(AggregatorConfig config, int64_t startMs)
    : m_config(std::move(config))
    , m_startMs(startMs)
    , m_pairer(m_config.pairingTtlMs)
{
    if (m_config.keepHistory)
        m_history = std::make_unique<GraphHistory>(m_config.history);
    m_external = nodeFor(NodeKind::External, {}, "external", {});
    m_other = nodeFor(NodeKind::Other, {}, "other", {});
}

GraphAggregator::~GraphAggregator() = default;

GraphAggregator::Node *GraphAggregator::nodeFor(
    NodeKind kind, const std::string &ns, const std::string &name, const std::string &version)
{
    std::string &id = m_keyBuffer;
    id.clear();
    appendNodeId(id, kind, ns, name, version);
    if (auto it = m_nodes.find(id); it != m_nodes.end())
        return it->second.get();

    const bool builtin = kind == NodeKind::External || kind == NodeKind::Other;
    if (!builtin && m_ordinaryNodes >= m_config.maxNodes) {
        if (m_foldedNames.size() < kMaxFoldedNamesTracked) {
            if (m_foldedNames.insert(id).second)
                m_foldedTotal++;
        } else {
            m_foldedTotal++;  // past the tracking bound every fold counts as new
        }
        return m_other;
    }
    auto node = std::make_unique<Node>(m_config.windowSeconds);
    node->id = id;
    node->name = name;
    node->ns = ns;
    node->version = version;
    node->kind = kind;
    node->configuredGateway = kind == NodeKind::Service
        && (std::find(m_config.gatewayNames.begin(), m_config.gatewayNames.end(), name) != m_config.gatewayNames.end()
            || (m_config.gatewaysByName && looksLikeGateway(name)));
    Node *raw = node.get();
    m_nodes.emplace(raw->id, std::move(node));
    if (!builtin)
        m_ordinaryNodes++;
    if (kind == NodeKind::Service)
        m_servicesByName[name].push_back(raw);
    return raw;
}

GraphAggregator::Node *GraphAggregator::serviceNode(const Span &s)
{
    static const std::string kUnknown = "unknown_service";
    return nodeFor(NodeKind::Service, s.serviceNamespace, s.service.empty() ? kUnknown : s.service, s.serviceVersion);
}

GraphAggregator::Node *GraphAggregator::peerNode(const Span &client)
{
    std::string host = hostOf(client.peer);
    if (host.empty())
        host = "unknown";
    auto pick = [&](const std::string &name, const std::string *ns) -> Node * {
        auto it = m_servicesByName.find(name);
        if (it == m_servicesByName.end() || it->second.empty())
            return nullptr;
        Node *fallback = nullptr;
        for (Node *n : it->second) {
            if (ns && n->ns == *ns)
                return n;
            if (!fallback && n->ns == client.serviceNamespace)
                fallback = n;
        }
        if (ns)
            return nullptr;
        return fallback ? fallback : it->second.front();
    };
    if (Node *n = pick(host, nullptr))
        return n;
    // Kubernetes DNS forms: name.namespace[.svc[.cluster.local]]
    if (auto dot = host.find('.'); dot != std::string::npos) {
        const std::string name = host.substr(0, dot);
        const auto dot2 = host.find('.', dot + 1);
        const std::string ns = host.substr(dot + 1, dot2 == std::string::npos ? std::string::npos : dot2 - dot - 1);
        if (Node *n = pick(name, &ns))
            return n;
    }
    return nodeFor(NodeKind::ExternalService, {}, host, {});
}

GraphAggregator::Edge *GraphAggregator::edgeFor(Node *src, Node *dst)
{
    std::string &key = m_keyBuffer;
    key.clear();
    appendEdgeId(key, src->id, dst->id);
    if (auto it = m_edges.find(key); it != m_edges.end())
        return it->second.get();
    auto edge = std::make_unique<Edge>(m_config.windowSeconds);
    edge->id = key;
    edge->src = src;
    edge->dst = dst;
    src->edgeRefs++;
    dst->edgeRefs++;
    Edge *raw = edge.get();
    m_edges.emplace(raw->id, std::move(edge));
    return raw;
}

void GraphAggregator::record(PairedRequest &&r, int64_t nowMs, unsigned originBit)
{
    Node *src = r.client ? serviceNode(*r.client) : m_external;
    Node *dst = r.server ? serviceNode(*r.server) : peerNode(*r.client);

    const Span &primary = r.server ? *r.server : *r.client;  // what the callee said
    const Span &timing = r.client ? *r.client : *r.server;  // what the caller waited
    const Span *other = (r.client && r.server) ? r.client.get() : nullptr;
    auto pickInt = [&](int Span::*f) { return primary.*f >= 0 ? primary.*f : (other ? other->*f : -1); };

    RequestEvent ev;
    ev.timeMs = int64_t(timing.startNs / 1000000);
    ev.sourceId = src->id;
    ev.targetId = dst->id;
    ev.protocol
        = primary.protocol != Protocol::Unknown ? primary.protocol : (other ? other->protocol : Protocol::Unknown);
    ev.httpStatus = pickInt(&Span::httpStatus);
    ev.grpcStatus = pickInt(&Span::grpcStatus);
    ev.durationMs = timing.durationMs();
    ev.mtls = primary.mtls >= 0 ? primary.mtls : (other ? other->mtls : -1);
    // OpenTelemetry marks client spans ERROR on a 4xx; meshscope counts 4xx apart from
    // errors, so a span status only counts where the HTTP status does not explain it.
    const bool clientError = ev.httpStatus >= 400 && ev.httpStatus <= 499;
    const bool spanError = primary.status == SpanStatus::Error || (other && other->status == SpanStatus::Error);
    ev.error = (ev.httpStatus >= 500 && ev.httpStatus <= 599) || ev.grpcStatus > 0 || (spanError && !clientError);
    auto bytesOf
        = [](const Span &s) { return std::max<int64_t>(0, s.requestBytes) + std::max<int64_t>(0, s.responseBytes); };
    ev.bytes = std::max(bytesOf(primary), other ? bytesOf(*other) : 0);

    Span &p = r.server ? *r.server : *r.client;
    Span *o = (r.client && r.server) ? r.client.get() : nullptr;
    if (m_config.recentRequestCapacity > 0) {
        ev.method = std::move(!p.method.empty() || !o ? p.method : o->method);
        ev.path = std::move(!p.path.empty() || !o ? p.path : o->path);
        ev.authority = std::move(!p.authority.empty() || !o ? p.authority : o->authority);
        ev.traceId = traceIdHex(timing.traceId);
    }
    recordEvent(src, dst, std::move(ev), nowMs, originBit);
}

void GraphAggregator::recordEvent(Node *src, Node *dst, RequestEvent &&ev, int64_t nowMs, unsigned originBit)
{
    Edge *edge = edgeFor(src, dst);
    const int64_t second = nowMs / 1000;
    edge->stats.record(second, ev.durationMs, ev.error, ev.httpStatus, ev.grpcStatus, ev.bytes);
    dst->in.record(second, ev.durationMs, ev.error, ev.httpStatus, ev.grpcStatus, ev.bytes);
    src->out.record(second, ev.durationMs, ev.error, ev.httpStatus, ev.grpcStatus, ev.bytes);
    if (ev.protocol != Protocol::Unknown)
        edge->protocol = ev.protocol;
    if (ev.mtls >= 0)
        edge->mtls = ev.mtls;
    edge->origins |= originBit;
    m_counters.requests++;

    if (m_config.recentRequestCapacity == 0)
        return;
    ev.origin = kOriginNames[std::countr_zero(originBit)];
    ev.seq = m_nextSeq++;
    m_recent.push_back(std::move(ev));
    while (m_recent.size() > m_config.recentRequestCapacity)
        m_recent.pop_front();
}

GraphAggregator::Node *GraphAggregator::nodeForRef(const NodeRef &ref)
{
    switch (ref.kind) {
    case NodeKind::External: return m_external;
    case NodeKind::Other: return m_other;
    case NodeKind::ExternalService:
        return nodeFor(NodeKind::ExternalService, {}, ref.name.empty() ? std::string("unknown") : ref.name, {});
    default: break;
    }
    if (ref.version.empty()) {
        // Sources that do not know versions join the versioned node traces created.
        if (auto it = m_servicesByName.find(ref.name); it != m_servicesByName.end()) {
            for (Node *n : it->second) {
                if (n->ns == ref.ns)
                    return n;
            }
        }
    }
    Node *n
        = nodeFor(NodeKind::Service, ref.ns, ref.name.empty() ? std::string("unknown_service") : ref.name, ref.version);
    if (ref.gateway && n != m_other)
        n->configuredGateway = true;
    return n;
}

void GraphAggregator::ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin)
{
    const unsigned bit = originBitFor(origin);
    std::lock_guard lock(m_mutex);
    for (ObservedRequest &r : requests) {
        Node *src = nodeForRef(r.source);
        Node *dst = nodeForRef(r.target);
        r.event.sourceId = src->id;
        r.event.targetId = dst->id;
        recordEvent(src, dst, std::move(r.event), nowMs, bit);
    }
}

void GraphAggregator::setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs)
{
    (void)nowMs;
    std::lock_guard lock(m_mutex);
    m_pulled[origin] = std::move(edges);
}

void GraphAggregator::recordAll(std::vector<PairedRequest> &pairs, int64_t nowMs, unsigned originBit)
{
    for (PairedRequest &r : pairs)
        record(std::move(r), nowMs, originBit);
    pairs.clear();
}

void GraphAggregator::ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin)
{
    const unsigned bit = originBitFor(origin);
    std::lock_guard lock(m_mutex);
    for (Span &s : spans)
        m_pairer.add(std::move(s), nowMs, m_scratch);
    recordAll(m_scratch, nowMs, bit);
}

void GraphAggregator::countExport(
    uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons)
{
    std::lock_guard lock(m_mutex);
    m_counters.exportCalls++;
    m_counters.spansReceived += spansReceived;
    m_counters.spansRejected += spansRejected;
    m_counters.spansAccepted += spansReceived - std::min(spansReceived, spansRejected);
    for (const auto &[reason, n] : reasons)
        m_counters.rejectionReasons[reason] += n;
}

void GraphAggregator::countMalformed(const std::string &reason)
{
    std::lock_guard lock(m_mutex);
    m_counters.exportCalls++;
    m_counters.malformedMessages++;
    m_counters.rejectionReasons[reason]++;
}

void GraphAggregator::countOversized(const std::string &reason)
{
    std::lock_guard lock(m_mutex);
    m_counters.exportCalls++;
    m_counters.oversizedMessages++;
    m_counters.rejectionReasons[reason]++;
}

void GraphAggregator::expire(int64_t nowMs)
{
    std::lock_guard lock(m_mutex);
    m_pairer.expire(nowMs, m_scratch);
    recordAll(m_scratch, nowMs, 1u);
}

void GraphAggregator::flushPending(int64_t nowMs, SpanPairer::LoneServers lone)
{
    std::lock_guard lock(m_mutex);
    m_pairer.flush(m_scratch, lone);
    recordAll(m_scratch, nowMs, 1u);
}

NodeKind GraphAggregator::effectiveKind(const Node &n) const
{
    if (n.kind != NodeKind::Service)
        return n.kind;
    if (n.configuredGateway || (n.calledFromOutside && n.callsServices))
        return NodeKind::Gateway;
    return NodeKind::Service;
}

TrafficStats GraphAggregator::statsOf(const WindowStats &w, double elapsedSeconds) const
{
    TrafficStats s;
    const WindowTotals &t = w.totals();
    s.requests = t.requests;
    s.rps = double(t.requests) / elapsedSeconds;
    if (t.requests > 0) {
        s.errorRate = double(t.errors) / double(t.requests);
        s.rate5xx = double(t.errors5xx) / double(t.requests);
        s.rate4xx = double(t.errors4xx) / double(t.requests);
    }
    s.p50Ms = w.histogram().quantile(0.50);
    s.p95Ms = w.histogram().quantile(0.95);
    s.p99Ms = w.histogram().quantile(0.99);
    s.bytes = t.bytes;
    return s;
}

void GraphAggregator::prune(int64_t nowSecond)
{
    // Edges and nodes with nothing left in the window leave the graph.
    for (auto it = m_edges.begin(); it != m_edges.end();) {
        Edge &e = *it->second;
        if (e.stats.idle()) {
            e.src->edgeRefs--;
            e.dst->edgeRefs--;
            it = m_edges.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = m_nodes.begin(); it != m_nodes.end();) {
        Node &n = *it->second;
        const bool builtin = n.kind == NodeKind::External || n.kind == NodeKind::Other;
        if (!builtin && n.edgeRefs == 0 && n.in.idle() && n.out.idle()) {
            if (n.kind == NodeKind::Service) {
                auto &list = m_servicesByName[n.name];
                list.erase(std::remove(list.begin(), list.end(), &n), list.end());
                if (list.empty())
                    m_servicesByName.erase(n.name);
            }
            m_ordinaryNodes--;
            it = m_nodes.erase(it);
        } else {
            ++it;
        }
    }
    m_lastPruneSecond = nowSecond;
}

Direction GraphAggregator::directionOf(const Edge &e) const
{
    auto outside = [this](const Node &n) {
        const NodeKind k = effectiveKind(n);
        return k == NodeKind::External || k == NodeKind::ExternalService || k == NodeKind::Gateway;
    };
    return outside(*e.src) || outside(*e.dst) ? Direction::NorthSouth : Direction::EastWest;
}

// Hands every second that is complete (and past the second late requests may still
// arrive in) to the history, once, while the ring still holds it.
void GraphAggregator::captureHistory(int64_t nowSecond, int64_t last)
{
    int64_t second = std::max(m_historyNext, nowSecond - m_config.windowSeconds + 1);
    if (second > last)
        return;
    GraphHistory &h = *m_history;
    auto itemOf = [&h, this](Node &n) {
        if (n.historyItem == kNoHistoryItem) {
            n.historyKind = effectiveKind(n);
            n.historyItem = h.node(n.id, n.name, n.ns, n.version, n.historyKind);
        }
        return n.historyItem;
    };
    auto countsOf = [](const WindowTotals &t, const LatencyHistogram &latency) {
        HistoryCounts c;
        c.requests = uint32_t(t.requests);
        c.errors = uint32_t(t.errors);
        c.errors5xx = uint32_t(t.errors5xx);
        c.errors4xx = uint32_t(t.errors4xx);
        c.bytes = t.bytes;
        latency.forEachBucket([&c](double ms, uint32_t n) { c.latency.add(ms, n); });
        return c;
    };
    // What changed since the history was told (a kind, a protocol, mTLS), once per
    // capture and only for what did.
    for (auto &[id, n] : m_nodes) {
        if (n->historyItem == kNoHistoryItem || effectiveKind(*n) == n->historyKind)
            continue;
        n->historyKind = effectiveKind(*n);
        h.update(n->historyItem, n->historyKind, Direction::EastWest, Protocol::Unknown, -1);
    }
    for (auto &[id, e] : m_edges) {
        if (e->historyItem == kNoHistoryItem)
            continue;
        const Direction direction = directionOf(*e);
        if (direction == e->historyDirection && e->protocol == e->historyProtocol && e->mtls == e->historyMtls)
            continue;
        e->historyDirection = direction;
        e->historyProtocol = e->protocol;
        e->historyMtls = e->mtls;
        h.update(e->historyItem, NodeKind::Service, direction, e->protocol, e->mtls);
    }
    WindowTotals totals;
    const LatencyHistogram *latency = nullptr;
    for (; second <= last; ++second) {
        for (auto &[id, e] : m_edges) {
            if (!e->stats.secondAt(second, totals, latency))
                continue;
            if (e->historyItem == kNoHistoryItem) {
                e->historyDirection = directionOf(*e);
                e->historyProtocol = e->protocol;
                e->historyMtls = e->mtls;
                e->historyItem
                    = h.edge(e->id, itemOf(*e->src), itemOf(*e->dst), e->historyDirection, e->protocol, e->mtls);
            }
            h.add(second, e->historyItem, GraphHistory::Series::Edge, countsOf(totals, *latency));
        }
        for (auto &[id, n] : m_nodes) {
            if (n->in.secondAt(second, totals, latency))
                h.add(second, itemOf(*n), GraphHistory::Series::NodeIn, countsOf(totals, *latency));
            if (n->out.secondAt(second, totals, latency))
                h.add(second, itemOf(*n), GraphHistory::Series::NodeOut, countsOf(totals, *latency));
        }
        h.closeFrame();
    }
    m_historyNext = last + 1;
}

void GraphAggregator::closeHistory(int64_t nowMs)
{
    if (!m_history)
        return;
    std::lock_guard lock(m_mutex);
    const int64_t nowSecond = nowMs / 1000;
    captureHistory(nowSecond, nowSecond);
}

void GraphAggregator::setReplayStart(int64_t startMs)
{
    std::lock_guard lock(m_mutex);
    m_pairer.setCutBefore(startMs);
}

GraphSnapshotPtr GraphAggregator::snapshot(int64_t nowMs)
{
    auto snap = std::make_shared<GraphSnapshot>();
    std::lock_guard lock(m_mutex);
    m_pairer.expire(nowMs, m_scratch);
    recordAll(m_scratch, nowMs, 1u);

    const int64_t nowSecond = nowMs / 1000;
    const double elapsed = std::clamp((nowMs - m_startMs) / 1000.0, 1.0, double(m_config.windowSeconds));
    for (auto &[id, n] : m_nodes) {
        n->in.advance(nowSecond);
        n->out.advance(nowSecond);
        n->calledFromOutside = false;
        n->callsServices = false;
    }
    for (auto &[id, e] : m_edges) {
        e->stats.advance(nowSecond);
        if (e->stats.idle())
            continue;
        // An entry point: most of what it serves comes from outside (a few stray
        // requests with lost callers must not turn a service into a gateway).
        if (e->src->kind == NodeKind::External && e->stats.totals().requests * 2 >= e->dst->in.totals().requests)
            e->dst->calledFromOutside = true;
        if (e->dst->kind == NodeKind::Service && e->dst != e->src)
            e->src->callsServices = true;
    }
    if (m_history)
        captureHistory(nowSecond, nowSecond - 2);
    if (nowSecond != m_lastPruneSecond)
        prune(nowSecond);

    snap->nodes.reserve(m_nodes.size());
    for (auto &[id, n] : m_nodes) {
        if (n->in.idle() && n->out.idle())
            continue;
        NodeSnapshot ns;
        ns.id = n->id;
        ns.name = n->name;
        ns.ns = n->ns;
        ns.version = n->version;
        ns.kind = effectiveKind(*n);
        // Callers that serve nothing (external clients) are measured by what they send.
        ns.stats = statsOf(n->in.idle() ? n->out : n->in, elapsed);
        ns.stats.health = m_config.health.track(n->health, ns.stats, nowMs);
        if (n.get() == m_other)
            ns.foldedCount = m_foldedTotal;
        snap->nodes.push_back(std::move(ns));
    }
    snap->edges.reserve(m_edges.size());
    for (auto &[id, e] : m_edges) {
        if (e->stats.idle())
            continue;
        EdgeSnapshot es;
        es.id = e->id;
        es.source = e->src->id;
        es.target = e->dst->id;
        es.direction = directionOf(*e);
        es.protocol = e->protocol;
        es.stats = statsOf(e->stats, elapsed);
        es.stats.health = m_config.health.track(e->health, es.stats, nowMs);
        es.mtls = e->mtls;
        for (unsigned i = 0; i < std::size(kOriginNames); ++i) {
            if (e->origins & (1u << i))
                es.origins.emplace_back(kOriginNames[i]);
        }
        snap->edges.push_back(std::move(es));
    }
    mergePulled(*snap);
    judgeHealth(*snap, nowMs);
    auto byId = [](const auto &a, const auto &b) { return a.id < b.id; };
    std::sort(snap->nodes.begin(), snap->nodes.end(), byId);
    std::sort(snap->edges.begin(), snap->edges.end(), byId);

    snap->timeMs = nowMs;
    snap->windowSeconds = m_config.windowSeconds;
    snap->generation = ++m_generation;
    snap->counters = m_counters;
    const PairerCounters &pc = m_pairer.counters();
    snap->counters.duplicateSpans = pc.duplicates;
    snap->counters.pairedRequests = pc.paired;
    snap->counters.unpairedClients = pc.expiredClients;
    snap->counters.unpairedServers = pc.expiredServers;
    snap->counters.fastTrackedClients = pc.fastTracked;
    snap->counters.lateServerHalves = pc.lateServerHalves;
    snap->counters.pendingHalves = m_pairer.pending();
    snap->counters.foldedNodes = m_foldedTotal;
    return snap;
}

void GraphAggregator::mergePulled(GraphSnapshot &snap) const
{
    if (m_pulled.empty())
        return;
    std::unordered_map<std::string, size_t> nodeIndex, edgeIndex;
    for (size_t i = 0; i < snap.nodes.size(); ++i)
        nodeIndex.emplace(snap.nodes[i].id, i);
    for (size_t i = 0; i < snap.edges.size(); ++i)
        edgeIndex.emplace(snap.edges[i].id, i);
    std::unordered_map<std::string, std::vector<const TrafficStats *>> inbound, outbound;

    auto idFor = [this](const NodeRef &ref) -> std::string {
        const bool service = ref.kind == NodeKind::Service || ref.kind == NodeKind::Gateway;
        if (service && ref.version.empty()) {
            if (auto it = m_servicesByName.find(ref.name); it != m_servicesByName.end()) {
                for (const Node *n : it->second) {
                    if (n->ns == ref.ns)
                        return n->id;
                }
            }
        }
        return nodeId(ref);
    };
    auto ensureNode = [&](const NodeRef &ref) -> std::string {
        std::string id = idFor(ref);
        if (nodeIndex.count(id))
            return id;
        if (snap.nodes.size() >= m_config.maxNodes + 2 && ref.kind != NodeKind::External) {
            id = std::string(kOtherNodeId);
            if (nodeIndex.count(id))
                return id;
        }
        NodeSnapshot n;
        n.id = id;
        if (auto it = m_nodes.find(id); it != m_nodes.end()) {
            n.name = it->second->name;
            n.ns = it->second->ns;
            n.version = it->second->version;
            n.kind = effectiveKind(*it->second);
        } else {
            n.name = ref.kind == NodeKind::External ? std::string("external") : ref.name;
            n.ns = ref.ns;
            n.version = ref.version;
            n.kind = id == kOtherNodeId ? NodeKind::Other : ref.kind;
            if (n.kind == NodeKind::Service && (ref.gateway || (m_config.gatewaysByName && looksLikeGateway(ref.name))))
                n.kind = NodeKind::Gateway;
        }
        nodeIndex.emplace(id, snap.nodes.size());
        snap.nodes.push_back(std::move(n));
        return id;
    };

    for (const auto &[origin, edges] : m_pulled) {
        for (const PulledEdge &pe : edges) {
            const std::string src = ensureNode(pe.source);
            const std::string dst = ensureNode(pe.target);
            const std::string id = edgeId(src, dst);
            if (auto it = edgeIndex.find(id); it != edgeIndex.end()) {
                EdgeSnapshot &e = snap.edges[it->second];
                if (std::find(e.origins.begin(), e.origins.end(), origin) == e.origins.end())
                    e.origins.push_back(origin);
                if (e.stats.requests == 0)
                    e.stats = pe.stats;
                if (e.mtls < 0)
                    e.mtls = pe.mtls;
                continue;
            }
            EdgeSnapshot e;
            e.id = id;
            e.source = src;
            e.target = dst;
            e.protocol = pe.protocol;
            e.stats = pe.stats;
            e.mtls = pe.mtls;
            e.origins.push_back(origin);
            edgeIndex.emplace(id, snap.edges.size());
            snap.edges.push_back(std::move(e));
        }
    }
    // Nodes only pull sources know get the sum of what they serve (or send).
    for (const EdgeSnapshot &e : snap.edges) {
        inbound[e.target].push_back(&e.stats);
        outbound[e.source].push_back(&e.stats);
    }
    auto isOutside = [&](const std::string &id) {
        const NodeKind k = snap.nodes[nodeIndex.at(id)].kind;
        return k == NodeKind::External || k == NodeKind::ExternalService || k == NodeKind::Gateway;
    };
    for (EdgeSnapshot &e : snap.edges)
        e.direction = isOutside(e.source) || isOutside(e.target) ? Direction::NorthSouth : Direction::EastWest;
    for (NodeSnapshot &n : snap.nodes) {
        if (n.stats.requests > 0)
            continue;
        const auto &list = inbound.count(n.id) ? inbound[n.id] : outbound[n.id];
        n.stats = sumTrafficStats(list);
    }
}

void GraphAggregator::judgeHealth(GraphSnapshot &snap, int64_t nowMs)
{
    // Live items were judged as their stats were made; what pull sources added (or
    // summed for a node) is judged here, with memory kept by id while it is reported.
    const uint64_t round = ++m_healthRound;
    size_t judged = 0;
    auto judge = [&](const std::string &id, TrafficStats &stats) {
        if (stats.health)
            return;
        ++judged;
        PulledHealth &h = m_pulledHealth[id];
        h.round = round;
        stats.health = m_config.health.track(h.state, stats, nowMs);
    };
    for (NodeSnapshot &n : snap.nodes)
        judge(n.id, n.stats);
    for (EdgeSnapshot &e : snap.edges)
        judge(e.id, e.stats);
    if (m_pulledHealth.size() > judged) {
        for (auto it = m_pulledHealth.begin(); it != m_pulledHealth.end();)
            it = it->second.round == round ? std::next(it) : m_pulledHealth.erase(it);
    }
}

std::vector<SeriesPoint> GraphAggregator::seriesOf(
    const WindowStats &w, int64_t nowMs, int windowSeconds, int stepSeconds) const
{
    const int window = std::min(windowSeconds > 0 ? windowSeconds : m_config.windowSeconds, kLiveHistorySeconds);
    const int step = stepSeconds > 0 ? stepSeconds : chartStep(window);
    return w.series(nowMs / 1000, window, step, m_startMs / 1000);
}

std::vector<SeriesPoint> GraphAggregator::nodeSeries(
    const std::string &nodeId, int64_t nowMs, int windowSeconds, int stepSeconds) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_nodes.find(nodeId);
    if (it == m_nodes.end())
        return {};
    const Node &n = *it->second;
    return seriesOf(n.in.idle() && !n.out.idle() ? n.out : n.in, nowMs, windowSeconds, stepSeconds);
}

std::vector<SeriesPoint> GraphAggregator::edgeSeries(
    const std::string &edgeId, int64_t nowMs, int windowSeconds, int stepSeconds) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_edges.find(edgeId);
    return it == m_edges.end() ? std::vector<SeriesPoint> {}
                               : seriesOf(it->second->stats, nowMs, windowSeconds, stepSeconds);
}

std::vector<std::pair<int, uint64_t>> GraphAggregator::nodeStatusCodes(const std::string &nodeId) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_nodes.find(nodeId);
    if (it == m_nodes.end())
        return {};
    const Node &n = *it->second;
    return (n.in.idle() && !n.out.idle() ? n.out : n.in).statusCodes();
}

std::vector<std::pair<int, uint64_t>> GraphAggregator::edgeStatusCodes(const std::string &edgeId) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_edges.find(edgeId);
    return it == m_edges.end() ? std::vector<std::pair<int, uint64_t>> {} : it->second->stats.statusCodes();
}

std::vector<RequestEvent> GraphAggregator::recentRequests(uint64_t afterSeq, size_t max) const
{
    std::lock_guard lock(m_mutex);
    std::vector<RequestEvent> out;
    auto it = std::partition_point(
        m_recent.begin(), m_recent.end(), [afterSeq](const RequestEvent &e) { return e.seq <= afterSeq; });
    // Keep the newest `max` when more are waiting than asked for.
    const size_t available = size_t(std::distance(it, m_recent.end()));
    if (available > max)
        it += long(available - max);
    out.assign(it, m_recent.end());
    return out;
}

std::vector<RequestEvent> GraphAggregator::requestsBetween(
    int64_t fromMs, int64_t toMs, size_t max, int64_t *oldestMs) const
{
    std::lock_guard lock(m_mutex);
    int64_t oldest = INT64_MAX;
    size_t matching = 0;
    for (const RequestEvent &e : m_recent) {
        oldest = std::min(oldest, e.timeMs);
        matching += e.timeMs >= fromMs && e.timeMs <= toMs;
    }
    if (oldestMs)
        *oldestMs = oldest;
    std::vector<RequestEvent> out;
    out.reserve(std::min(matching, max));
    size_t skip = matching > max ? matching - max : 0;  // keep the newest
    for (const RequestEvent &e : m_recent) {
        if (e.timeMs < fromMs || e.timeMs > toMs)
            continue;
        if (skip > 0) {
            --skip;
            continue;
        }
        out.push_back(e);
    }
    return out;
}

const NodeSnapshot *GraphSnapshot::node(const std::string &id) const
{
    auto it = std::lower_bound(
        nodes.begin(), nodes.end(), id, [](const NodeSnapshot &n, const std::string &k) { return n.id < k; });
    return it != nodes.end() && it->id == id ? &*it : nullptr;
}

const EdgeSnapshot *GraphSnapshot::edge(const std::string &id) const
{
    auto it = std::lower_bound(
        edges.begin(), edges.end(), id, [](const EdgeSnapshot &e, const std::string &k) { return e.id < k; });
    return it != edges.end() && it->id == id ? &*it : nullptr;
}

}  // namespace meshscope

#include "common/graphsamplemesh.h"

#include "model/nodeid.h"

#include <QtGlobal>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <unordered_map>

namespace meshscope {

namespace samplemesh {

namespace {

bool outside(NodeKind k) { return k == NodeKind::External || k == NodeKind::ExternalService || k == NodeKind::Gateway; }

TrafficStats stats(double rps, double errorRate, double p95Ms)
{
    TrafficStats s;
    s.rps = rps;
    s.requests = uint64_t(std::llround(rps * 60));
    s.errorRate = errorRate;
    s.rate5xx = errorRate;
    s.p50Ms = p95Ms * 0.4;
    s.p95Ms = p95Ms;
    s.p99Ms = p95Ms * 1.8;
    s.bytes = s.requests * 1400;
    return s;
}

}  // namespace

NodeSnapshot node(const std::string &ns, const std::string &name, const std::string &version, NodeKind kind, double rps,
    double errorRate, double p95Ms)
{
    NodeSnapshot n;
    n.id = nodeId(kind, ns, name, version);
    n.name = name;
    n.ns = kind == NodeKind::ExternalService ? std::string() : ns;
    n.version = version;
    n.kind = kind;
    n.stats = stats(rps, errorRate, p95Ms);
    return n;
}

EdgeSnapshot edge(const NodeSnapshot &from, const NodeSnapshot &to, double rps, double errorRate, double p95Ms)
{
    EdgeSnapshot e;
    e.id = edgeId(from.id, to.id);
    e.source = from.id;
    e.target = to.id;
    e.direction = outside(from.kind) || outside(to.kind) ? Direction::NorthSouth : Direction::EastWest;
    e.protocol = Protocol::Http;
    e.stats = stats(rps, errorRate, p95Ms);
    e.mtls = outside(from.kind) || outside(to.kind) ? 0 : 1;
    e.origins = {"otlp"};
    return e;
}

GraphSnapshotPtr finish(GraphSnapshot &&s)
{
    std::sort(s.nodes.begin(), s.nodes.end(), [](const NodeSnapshot &a, const NodeSnapshot &b) { return a.id < b.id; });
    std::sort(s.edges.begin(), s.edges.end(), [](const EdgeSnapshot &a, const EdgeSnapshot &b) { return a.id < b.id; });
    s.generation = s.generation ? s.generation : 1;
    // A sample every test draws on must itself be a graph: unique ids, and every edge
    // between two of its nodes, named by the one edge-id grammar. In release builds
    // too, so no test runs on a broken sample.
    auto assertSample = [](bool ok, const char *what, const std::string &id) {
        if (!ok)
            qFatal("sample mesh: %s %s", what, id.c_str());
    };
    for (size_t i = 1; i < s.nodes.size(); ++i)
        assertSample(s.nodes[i].id != s.nodes[i - 1].id, "node twice:", s.nodes[i].id);
    for (size_t i = 0; i < s.edges.size(); ++i) {
        const EdgeSnapshot &e = s.edges[i];
        assertSample(i == 0 || e.id != s.edges[i - 1].id, "edge twice:", e.id);
        assertSample(s.node(e.source) && s.node(e.target) && e.id == edgeId(e.source, e.target),
            "edge not joining two of its nodes:", e.id);
    }
    return std::make_shared<const GraphSnapshot>(std::move(s));
}

GraphSnapshotPtr realistic()
{
    GraphSnapshot s;
    std::unordered_map<std::string, NodeSnapshot> n;
    auto add = [&](const std::string &key, NodeSnapshot node) { n[key] = std::move(node); };
    add("clients", node({}, "external", {}, NodeKind::External, 420));
    add("ingress", node("istio-system", "istio-ingressgateway", {}, NodeKind::Gateway, 420, 0.004, 48));
    add("egress", node("istio-system", "istio-egressgateway", {}, NodeKind::Gateway, 23, 0.07, 210));
    add("frontend", node("shop", "frontend", "v1", NodeKind::Service, 300, 0.004, 45));
    add("catalog", node("shop", "catalog", "v2", NodeKind::Service, 330, 0, 12));
    add("cart", node("shop", "cart", "v1", NodeKind::Service, 102, 0, 9));
    add("checkout", node("shop", "checkout", "v1", NodeKind::Service, 12, 0.02, 240));
    add("recommend", node("shop", "recommendation", "v1", NodeKind::Service, 80, 0, 22));
    add("currency", node("shop", "currency", "v1", NodeKind::Service, 152, 0, 4));
    add("ads", node("shop", "ads", "v1", NodeKind::Service, 60, 0.006, 18));
    add("payment", node("shop", "payment", "v1", NodeKind::Service, 12, 0.14, 380));
    add("shipping", node("shop", "shipping", "v1", NodeKind::Service, 12, 0, 16));
    add("email", node("shop", "email", "v1", NodeKind::Service, 11, 0, 90));
    add("inventory", node("shop", "inventory", "v1", NodeKind::Service, 0));
    add("productpage", node("bookinfo", "productpage", "v1", NodeKind::Service, 120, 0, 60));
    add("reviews1", node("bookinfo", "reviews", "v1", NodeKind::Service, 40, 0, 20));
    add("reviews2", node("bookinfo", "reviews", "v2", NodeKind::Service, 40, 0, 34));
    add("reviews3", node("bookinfo", "reviews", "v3", NodeKind::Service, 40, 0.025, 41));
    add("ratings", node("bookinfo", "ratings", "v1", NodeKind::Service, 80, 0.012, 11));
    add("details", node("bookinfo", "details", "v1", NodeKind::Service, 120, 0, 8));
    add("auth", node("identity", "auth", "v1", NodeKind::Service, 150, 0, 14));
    add("users", node("identity", "users", "v1", NodeKind::Service, 72, 0, 10));
    add("redis", node("data", "redis-cart", {}, NodeKind::Service, 100, 0, 2));
    add("postgres", node("data", "postgres", {}, NodeKind::Service, 210, 0, 6));
    add("kafka", node("data", "kafka", {}, NodeKind::Service, 11, 0, 5));
    add("stripe", node({}, "api.stripe.com", {}, NodeKind::ExternalService, 12, 0.14, 370));
    add("sendgrid", node({}, "smtp.sendgrid.net", {}, NodeKind::ExternalService, 11, 0, 180));
    add("s3", node({}, "s3.amazonaws.com", {}, NodeKind::ExternalService, 5, 0, 95));

    auto link = [&](const char *a, const char *b, double rps, double err = 0, double p95 = 20) {
        s.edges.push_back(edge(n.at(a), n.at(b), rps, err, p95));
    };
    link("clients", "ingress", 420, 0.004, 48);
    link("ingress", "frontend", 300, 0.004, 45);
    link("ingress", "productpage", 120, 0, 60);
    link("frontend", "catalog", 250, 0, 12);
    link("frontend", "cart", 90, 0, 9);
    link("frontend", "recommend", 80, 0, 22);
    link("frontend", "currency", 140, 0, 4);
    link("frontend", "ads", 60, 0.006, 18);
    link("frontend", "checkout", 12, 0.02, 240);
    link("frontend", "auth", 150, 0, 14);
    link("checkout", "payment", 12, 0.14, 380);
    link("checkout", "shipping", 12, 0, 16);
    link("checkout", "email", 11, 0, 90);
    link("checkout", "cart", 12, 0, 9);
    link("checkout", "currency", 12, 0, 4);
    link("recommend", "catalog", 80, 0, 12);
    link("cart", "redis", 100, 0, 2);
    link("catalog", "postgres", 180, 0, 6);
    link("catalog", "inventory", 0);
    link("catalog", "s3", 5, 0, 95);
    link("auth", "users", 60, 0, 10);
    link("users", "postgres", 30, 0, 6);
    link("productpage", "reviews1", 40, 0, 20);
    link("productpage", "reviews2", 40, 0, 34);
    link("productpage", "reviews3", 40, 0.025, 41);
    link("productpage", "details", 120, 0, 8);
    link("reviews2", "ratings", 40, 0, 11);
    link("reviews3", "ratings", 40, 0.012, 11);
    link("email", "kafka", 11, 0, 5);
    link("payment", "egress", 12, 0.14, 380);
    link("email", "egress", 11, 0, 180);
    link("egress", "stripe", 12, 0.14, 370);
    link("egress", "sendgrid", 11, 0, 180);
    // The idle edge has no requests at all.
    for (EdgeSnapshot &e : s.edges) {
        if (e.stats.rps == 0)
            e.stats = TrafficStats();
    }
    for (auto &[key, node] : n) {
        if (node.stats.rps == 0)
            node.stats = TrafficStats();
        s.nodes.push_back(node);
    }
    s.timeMs = 1700000000000;
    return finish(std::move(s));
}

GraphSnapshotPtr synthetic(int nodeCount, int edgeCount, uint32_t seed)
{
    std::mt19937 rng(seed);
    auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
    auto pick = [&](size_t n) { return size_t(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
    auto errorRate = [&]() {
        const double r = uniform(0, 1);
        return r < 0.86 ? 0.0 : (r < 0.96 ? uniform(0.001, 0.03) : uniform(0.11, 0.4));
    };

    GraphSnapshot s;
    nodeCount = std::max(nodeCount, 8);
    const int ingressCount = std::max(1, nodeCount / 1000);
    const int externalServices = std::max(2, nodeCount * 3 / 100);
    const int services = nodeCount - 1 - ingressCount - 1 - externalServices;
    const int namespaces = std::max(2, services / 100);
    constexpr int kTiers = 6;

    const NodeSnapshot client = node({}, "external", {}, NodeKind::External, 100);
    s.nodes.push_back(client);
    std::vector<NodeSnapshot> ingress;
    for (int i = 0; i < ingressCount; ++i)
        ingress.push_back(node("istio-system", "ingressgateway-" + std::to_string(i), {}, NodeKind::Gateway, 100));
    const NodeSnapshot egress = node("istio-system", "egressgateway", {}, NodeKind::Gateway, 10);
    std::vector<NodeSnapshot> outside;
    for (int i = 0; i < externalServices; ++i)
        outside.push_back(node({}, "api-" + std::to_string(i) + ".example.com", {}, NodeKind::ExternalService, 5));
    std::vector<NodeSnapshot> svc;
    std::vector<int> tier, nsOf;
    std::vector<std::vector<std::vector<int>>> byTierNs(kTiers, std::vector<std::vector<int>>(size_t(namespaces)));
    for (int i = 0; i < services; ++i) {
        const int ns = int(pick(size_t(namespaces)));
        // More services deep in the call tree than at the edge, as in real meshes.
        const int t = std::min(kTiers - 1, int(std::floor(std::sqrt(uniform(0, 1)) * kTiers)));
        svc.push_back(node("team-" + std::to_string(ns), "svc-" + std::to_string(i), "v" + std::to_string(1 + i % 3),
            NodeKind::Service, std::exp(uniform(0, 6)), errorRate(), uniform(2, 300)));
        tier.push_back(t);
        nsOf.push_back(ns);
        byTierNs[size_t(t)][size_t(ns)].push_back(i);
    }

    std::set<std::pair<std::string, std::string>> seen;
    auto link = [&](const NodeSnapshot &a, const NodeSnapshot &b) {
        if (a.id == b.id || !seen.insert({a.id, b.id}).second)
            return;
        s.edges.push_back(edge(a, b, std::exp(uniform(-1, 6)), errorRate(), uniform(1, 400)));
    };
    for (const NodeSnapshot &g : ingress)
        link(client, g);
    for (int i = 0; i < services; ++i) {
        if (tier[size_t(i)] == 0)
            link(ingress[pick(ingress.size())], svc[size_t(i)]);
    }
    int guard = edgeCount * 20;
    while (int(s.edges.size()) < edgeCount && guard-- > 0) {
        const size_t a = pick(svc.size());
        const double r = uniform(0, 1);
        if (r < 0.04) {
            link(svc[a], r < 0.02 ? egress : outside[pick(outside.size())]);
            continue;
        }
        // Calls go one or two tiers down, mostly within the caller's namespace; the
        // rest to a neighbouring team or to one of two shared platform namespaces,
        // which is what keeps real meshes from being hairballs.
        const int t = std::min(kTiers - 1, tier[a] + (uniform(0, 1) < 0.75 ? 1 : 2));
        if (t == tier[a])
            continue;
        int ns = nsOf[a];
        const double where = uniform(0, 1);
        if (where > 0.75) {
            const int step = int(pick(4));  // -2, -1, +1, +2
            ns = where > 0.88 ? int(pick(std::min(2, namespaces)))
                              : (nsOf[a] + namespaces + (step < 2 ? step - 2 : step - 1)) % namespaces;
        }
        const std::vector<int> &candidates = byTierNs[size_t(t)][size_t(ns)];
        if (candidates.empty())
            continue;
        link(svc[a], svc[size_t(candidates[pick(candidates.size())])]);
    }
    for (size_t i = 0; i < outside.size() && i < 4; ++i)
        link(egress, outside[i]);

    for (const NodeSnapshot &g : ingress)
        s.nodes.push_back(g);
    s.nodes.push_back(egress);
    for (const NodeSnapshot &o : outside)
        s.nodes.push_back(o);
    for (const NodeSnapshot &v : svc)
        s.nodes.push_back(v);
    s.timeMs = 1700000000000;
    return finish(std::move(s));
}

GraphSnapshotPtr withService(
    const GraphSnapshot &base, const std::string &ns, const std::string &name, const std::string &callerId, double rps)
{
    GraphSnapshot s = base;
    const NodeSnapshot added = node(ns, name, "v1", NodeKind::Service, rps);
    s.nodes.push_back(added);
    if (const NodeSnapshot *caller = base.node(callerId))
        s.edges.push_back(edge(*caller, added, rps));
    s.generation = base.generation + 1;
    return finish(std::move(s));
}

}  // namespace samplemesh

}  // namespace meshscope

#include "graph/graphview.h"

#include "model/nodeid.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace meshscope {

namespace {

// Only services (gateways among them) have versions to merge.
bool hasVersions(NodeKind kind) { return kind == NodeKind::Service || kind == NodeKind::Gateway; }

bool folds(const std::string &ns, const GraphViewOptions &options)
{
    return !ns.empty() && options.collapsedNamespaces.count(ns) > 0;
}

constexpr uint32_t kNone = UINT32_MAX;

// Nodes of the aggregator's graph that become one node of the view. Members and parts
// are chained through index arrays rather than held in a vector each: a 20k-node view
// is remade ten times a second, and allocations are most of its cost.
struct NodeGroup {
    std::string id;
    uint32_t first = kNone, last = kNone;  // into nodeNext
    uint32_t count = 0;
    uint32_t borderSlot = kNone;  // a folded namespace's edges across its border (Border)
};

struct Border {
    std::vector<const TrafficStats *> entering, leaving;
};

struct EdgeGroup {
    uint32_t source = 0, target = 0;  // NodeGroup indexes
    uint32_t first = kNone, last = kNone;  // into edgeNext
    uint32_t count = 0;
};

template <typename Group>
void chain(Group &g, std::vector<uint32_t> &next, uint32_t item)
{
    if (g.first == kNone)
        g.first = item;
    else
        next[g.last] = item;
    g.last = item;
    g.count++;
}

NodeSnapshot mergedNode(
    const GraphSnapshot &in, const NodeGroup &g, const std::vector<uint32_t> &next, const std::vector<Border> &borders)
{
    const NodeSnapshot &first = in.nodes[g.first];
    if (g.borderSlot == kNone && g.count == 1) {
        NodeSnapshot n = first;  // keeps the aggregator's health verdict
        if (n.id != g.id) {
            n.id = g.id;
            n.version.clear();
        }
        return n;
    }
    NodeSnapshot n;
    n.id = g.id;
    std::vector<const TrafficStats *> parts;
    parts.reserve(g.count);
    for (uint32_t m = g.first; m != kNone; m = next[m])
        parts.push_back(&in.nodes[m].stats);
    if (g.borderSlot != kNone) {
        const Border &b = borders[g.borderSlot];
        n.ns = std::string(namespaceOfNamespaceNodeId(g.id));
        n.name = n.ns;
        n.kind = NodeKind::Other;
        n.foldedCount = g.count;
        n.stats = sumTrafficStats(!b.entering.empty() ? b.entering : !b.leaving.empty() ? b.leaving : parts);
        return n;
    }
    n.ns = first.ns;
    n.name = first.name;
    n.kind = first.kind;
    for (uint32_t m = g.first; m != kNone; m = next[m]) {
        if (in.nodes[m].kind == NodeKind::Gateway)
            n.kind = NodeKind::Gateway;
    }
    n.stats = sumTrafficStats(parts);
    return n;
}

EdgeSnapshot mergedEdge(const GraphSnapshot &in, const EdgeGroup &g, const std::vector<uint32_t> &next,
    const std::vector<NodeGroup> &nodes, std::string &&id)
{
    const std::string &source = nodes[g.source].id;
    const std::string &target = nodes[g.target].id;
    if (g.count == 1) {
        EdgeSnapshot e = in.edges[g.first];  // keeps the aggregator's health verdict
        if (e.id != id) {
            e.id = std::move(id);
            e.source = source;
            e.target = target;
        }
        return e;
    }
    EdgeSnapshot e;
    e.id = std::move(id);
    e.source = source;
    e.target = target;
    std::vector<const TrafficStats *> stats;
    stats.reserve(g.count);
    bool allMtls = true, anyPlain = false;
    const EdgeSnapshot *busiest = nullptr;
    for (uint32_t k = g.first; k != kNone; k = next[k]) {
        const EdgeSnapshot &p = in.edges[k];
        stats.push_back(&p.stats);
        if (p.direction == Direction::NorthSouth)
            e.direction = Direction::NorthSouth;
        allMtls = allMtls && p.mtls == 1;
        anyPlain = anyPlain || p.mtls == 0;
        if (!busiest || p.stats.requests > busiest->stats.requests
            || (p.stats.requests == busiest->stats.requests && p.stats.rps > busiest->stats.rps))
            busiest = &p;
        e.origins.insert(e.origins.end(), p.origins.begin(), p.origins.end());
    }
    e.mtls = anyPlain ? 0 : allMtls ? 1 : -1;
    e.protocol = busiest->protocol;
    e.stats = sumTrafficStats(stats);
    std::sort(e.origins.begin(), e.origins.end());
    e.origins.erase(std::unique(e.origins.begin(), e.origins.end()), e.origins.end());
    return e;
}

// Indexes of `ids` in the order of their strings: sorting indexes moves four bytes
// where sorting the snapshots themselves would move a few hundred.
std::vector<uint32_t> sortedOrder(const std::vector<const std::string *> &ids)
{
    std::vector<uint32_t> order(ids.size());
    for (uint32_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&ids](uint32_t a, uint32_t b) { return *ids[a] < *ids[b]; });
    return order;
}

}  // namespace

std::string viewNodeId(std::string_view id, const GraphViewOptions &options)
{
    if (options.isDefault())
        return std::string(id);
    // Gateways read back as services: both are "ns/name@version".
    const NodeRef ref = parseNodeId(id);
    if (ref.kind != NodeKind::Service)
        return std::string(id);
    if (folds(ref.ns, options))
        return namespaceNodeId(ref.ns);
    if (options.type == GraphType::Services && !ref.version.empty())
        return nodeId(NodeKind::Service, ref.ns, ref.name, {});
    return std::string(id);
}

GraphSnapshotPtr viewOfGraph(const GraphSnapshotPtr &snapshot, const GraphViewOptions &options)
{
    if (!snapshot || options.isDefault())
        return snapshot;
    const GraphSnapshot &in = *snapshot;
    const auto nodeCount = uint32_t(in.nodes.size());
    const auto edgeCount = uint32_t(in.edges.size());

    // Each node's id in the view, and the group of nodes that share it.
    std::vector<NodeGroup> groups;
    groups.reserve(nodeCount);
    std::vector<uint32_t> groupOf(nodeCount), nodeNext(nodeCount, kNone);
    std::vector<Border> borders;
    std::unordered_map<std::string, uint32_t> groupById;
    groupById.reserve(nodeCount);
    bool changed = false;
    for (uint32_t i = 0; i < nodeCount; ++i) {
        const NodeSnapshot &n = in.nodes[i];
        const bool folded = folds(n.ns, options);
        std::string id = folded ? namespaceNodeId(n.ns)
            : options.type == GraphType::Services && hasVersions(n.kind) && !n.version.empty()
            ? nodeId(NodeKind::Service, n.ns, n.name, {})
            : n.id;
        changed = changed || id != n.id;
        auto [it, added] = groupById.try_emplace(std::move(id), uint32_t(groups.size()));
        if (added)
            groups.push_back(NodeGroup {it->first});
        else
            changed = true;  // two nodes become one
        NodeGroup &g = groups[it->second];
        chain(g, nodeNext, i);
        if (folded && g.borderSlot == kNone) {
            g.borderSlot = uint32_t(borders.size());
            borders.emplace_back();
        }
        groupOf[i] = it->second;
    }
    if (!changed)
        return snapshot;

    std::unordered_map<std::string_view, uint32_t> nodeIndex;
    nodeIndex.reserve(nodeCount);
    for (uint32_t i = 0; i < nodeCount; ++i)
        nodeIndex.emplace(in.nodes[i].id, i);

    auto out = std::make_shared<GraphSnapshot>();
    out->timeMs = in.timeMs;
    out->windowSeconds = in.windowSeconds;
    out->generation = in.generation;
    out->counters = in.counters;

    // Edges by the pair of view nodes they join; those inside one namespace go.
    std::vector<EdgeGroup> edgeGroups;
    edgeGroups.reserve(edgeCount);
    std::vector<uint32_t> edgeNext(edgeCount, kNone);
    std::unordered_map<uint64_t, uint32_t> edgeGroupByEnds;
    edgeGroupByEnds.reserve(edgeCount);
    std::vector<const EdgeSnapshot *> strays;  // edges that join no node: nothing to map them by
    // Edges come sorted by id, so by source: one look-up per caller, not per edge.
    const std::string *lastSource = nullptr;
    uint32_t lastSourceGroup = kNone;
    for (uint32_t k = 0; k < edgeCount; ++k) {
        const EdgeSnapshot &e = in.edges[k];
        if (!lastSource || *lastSource != e.source) {
            const auto s = nodeIndex.find(e.source);
            lastSource = &e.source;
            lastSourceGroup = s == nodeIndex.end() ? kNone : groupOf[s->second];
        }
        const auto t = nodeIndex.find(e.target);
        if (lastSourceGroup == kNone || t == nodeIndex.end()) {
            strays.push_back(&e);
            continue;
        }
        const uint32_t gs = lastSourceGroup, gt = groupOf[t->second];
        const uint32_t bs = groups[gs].borderSlot, bt = groups[gt].borderSlot;
        if (gs == gt && bs != kNone)
            continue;
        if (bs != kNone)
            borders[bs].leaving.push_back(&e.stats);
        if (bt != kNone)
            borders[bt].entering.push_back(&e.stats);
        const uint64_t ends = (uint64_t(gs) << 32) | gt;
        auto [it, added] = edgeGroupByEnds.try_emplace(ends, uint32_t(edgeGroups.size()));
        if (added)
            edgeGroups.push_back(EdgeGroup {gs, gt});
        chain(edgeGroups[it->second], edgeNext, k);
    }

    // GraphSnapshot::node() and ::edge() search by id, as the aggregator publishes them.
    std::vector<const std::string *> ids;
    ids.reserve(groups.size());
    for (const NodeGroup &g : groups)
        ids.push_back(&g.id);
    out->nodes.reserve(groups.size());
    for (uint32_t i : sortedOrder(ids))
        out->nodes.push_back(mergedNode(in, groups[i], nodeNext, borders));

    std::vector<std::string> edgeIds;
    edgeIds.reserve(edgeGroups.size() + strays.size());
    for (const EdgeGroup &g : edgeGroups)
        edgeIds.push_back(edgeId(groups[g.source].id, groups[g.target].id));
    for (const EdgeSnapshot *e : strays)
        edgeIds.push_back(e->id);
    ids.clear();
    for (const std::string &id : edgeIds)
        ids.push_back(&id);
    out->edges.reserve(edgeIds.size());
    for (uint32_t i : sortedOrder(ids)) {
        if (i < edgeGroups.size())
            out->edges.push_back(mergedEdge(in, edgeGroups[i], edgeNext, groups, std::move(edgeIds[i])));
        else
            out->edges.push_back(*strays[i - edgeGroups.size()]);
    }
    return out;
}

}  // namespace meshscope

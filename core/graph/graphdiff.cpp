#include "graph/graphdiff.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <unordered_map>

namespace meshscope {

const char *diffChangeName(DiffChange c)
{
    switch (c) {
    case DiffChange::Added: return "added";
    case DiffChange::Removed: return "removed";
    case DiffChange::Changed: return "changed";
    case DiffChange::Same: return "same";
    }
    return "same";
}

size_t GraphDiff::count(DiffChange c) const
{
    auto is = [c](const auto &item) { return item.change == c; };
    return size_t(std::count_if(nodes.begin(), nodes.end(), is) + std::count_if(edges.begin(), edges.end(), is));
}

namespace {

// How far a value moved, in thresholds: 1 or more counts as a change. A value that
// was 0 and is no longer moved by "infinitely" much; capped so scores stay sortable.
double relativeMove(double before, double after, double threshold)
{
    if (before == after)
        return 0;
    if (before <= 0)
        return 1000;
    return std::min(1000.0, std::fabs(after - before) / before / std::max(threshold, 1e-9));
}

double pointsMove(double before, double after, double threshold)
{
    return std::fabs(after - before) / std::max(threshold, 1e-9);
}

// Judges a node or an edge found in both graphs: which numbers moved past their
// thresholds, and by how many thresholds the largest did.
template <typename Diff>
void judge(Diff &d, const DiffThresholds &t, std::optional<double> shareBefore, std::optional<double> shareAfter)
{
    const TrafficStats &b = d.before->stats;
    const TrafficStats &a = d.after->stats;
    double score = 0;
    auto consider = [&](double move, DiffMetric metric) {
        if (move >= 1.0)
            d.moved |= metric;
        score = std::max(score, move);
    };
    consider(relativeMove(b.rps, a.rps, t.rpsRelative), kDiffRps);
    consider(pointsMove(b.errorRate, a.errorRate, t.errorRatePoints), kDiffErrorRate);
    consider(relativeMove(b.p95Ms, a.p95Ms, t.p95Relative), kDiffP95);
    if (shareBefore || shareAfter)
        consider(pointsMove(shareBefore.value_or(0), shareAfter.value_or(0), t.sharePoints), kDiffShare);
    d.change = d.moved ? DiffChange::Changed : DiffChange::Same;
    d.score = d.moved ? score : 0;
}

template <typename T>
std::unordered_map<std::string_view, const T *> byId(const std::vector<T> &items)
{
    std::unordered_map<std::string_view, const T *> out;
    out.reserve(items.size());
    for (const T &item : items)
        out.emplace(item.id, &item);
    return out;
}

// Each edge's share of its split: the requests its source sent to one version of a
// service, over what it sent to all versions of it; only where there are two or more.
// By edge index.
std::vector<std::optional<double>> splitShares(
    const GraphSnapshot &g, const std::unordered_map<std::string_view, const NodeSnapshot *> &nodes)
{
    // A number for each service (namespace and name, any version) and each node.
    std::unordered_map<std::string_view, uint32_t> nodeIndex;
    std::map<std::pair<std::string_view, std::string_view>, uint32_t> serviceIndex;
    nodeIndex.reserve(g.nodes.size());
    std::vector<int64_t> serviceOf(g.nodes.size(), -1);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const NodeSnapshot &n = g.nodes[i];
        nodeIndex.emplace(n.id, uint32_t(i));
        if (n.kind == NodeKind::Service)
            serviceOf[i] = serviceIndex
                               .emplace(std::pair {std::string_view(n.ns), std::string_view(n.name)},
                                   uint32_t(serviceIndex.size()))
                               .first->second;
    }
    struct Split {
        double rps = 0;
        int edges = 0;
    };
    std::unordered_map<uint64_t, Split> splits;
    std::vector<uint64_t> keys(g.edges.size(), ~uint64_t(0));
    for (size_t i = 0; i < g.edges.size(); ++i) {
        const EdgeSnapshot &e = g.edges[i];
        const auto source = nodeIndex.find(e.source);
        const auto target = nodes.find(e.target);
        if (source == nodeIndex.end() || target == nodes.end())
            continue;
        const int64_t service = serviceOf[size_t(target->second - g.nodes.data())];
        if (service < 0)
            continue;
        keys[i] = (uint64_t(source->second) << 32) | uint64_t(service);
        Split &s = splits[keys[i]];
        s.rps += e.stats.rps;
        ++s.edges;
    }
    std::vector<std::optional<double>> shares(g.edges.size());
    for (size_t i = 0; i < g.edges.size(); ++i) {
        if (keys[i] == ~uint64_t(0))
            continue;
        const Split &s = splits[keys[i]];
        if (s.edges >= 2)
            shares[i] = s.rps > 0 ? g.edges[i].stats.rps / s.rps : 0.0;
    }
    return shares;
}

}  // namespace

GraphDiff diffGraphs(GraphSnapshotPtr beforePtr, GraphSnapshotPtr afterPtr, const DiffThresholds &thresholds)
{
    GraphDiff diff;
    diff.before = beforePtr ? std::move(beforePtr) : std::make_shared<const GraphSnapshot>();
    diff.after = afterPtr ? std::move(afterPtr) : std::make_shared<const GraphSnapshot>();
    diff.thresholds = thresholds;
    const GraphSnapshot &before = *diff.before;
    const GraphSnapshot &after = *diff.after;

    const auto beforeNodes = byId(before.nodes);
    const auto afterNodes = byId(after.nodes);
    size_t commonServices = 0;  // "external" and "other" are in every graph
    diff.nodes.reserve(after.nodes.size() + before.nodes.size() / 8);
    for (const NodeSnapshot &n : after.nodes) {
        NodeDiff &d = diff.nodes.emplace_back();
        d.after = &n;
        const auto it = beforeNodes.find(n.id);
        if (it == beforeNodes.end()) {
            d.change = DiffChange::Added;
            d.score = n.stats.rps;
            continue;
        }
        if (n.kind == NodeKind::Service || n.kind == NodeKind::Gateway)
            ++commonServices;
        d.before = it->second;
        judge(d, thresholds, std::nullopt, std::nullopt);
    }
    for (const NodeSnapshot &n : before.nodes) {
        if (afterNodes.count(n.id))
            continue;
        NodeDiff &d = diff.nodes.emplace_back();
        d.before = &n;
        d.change = DiffChange::Removed;
        d.score = n.stats.rps;
    }

    const auto beforeEdges = byId(before.edges);
    const auto afterEdges = byId(after.edges);
    const auto beforeShares = splitShares(before, beforeNodes);
    const auto afterShares = splitShares(after, afterNodes);
    diff.edges.reserve(after.edges.size() + before.edges.size() / 8);
    for (size_t i = 0; i < after.edges.size(); ++i) {
        const EdgeSnapshot &e = after.edges[i];
        EdgeDiff &d = diff.edges.emplace_back();
        d.after = &e;
        d.shareAfter = afterShares[i];
        const auto it = beforeEdges.find(e.id);
        if (it == beforeEdges.end()) {
            d.change = DiffChange::Added;
            d.score = e.stats.rps;
            continue;
        }
        d.before = it->second;
        d.shareBefore = beforeShares[size_t(it->second - before.edges.data())];
        judge(d, thresholds, d.shareBefore, d.shareAfter);
    }
    for (size_t i = 0; i < before.edges.size(); ++i) {
        const EdgeSnapshot &e = before.edges[i];
        if (afterEdges.count(e.id))
            continue;
        EdgeDiff &d = diff.edges.emplace_back();
        d.before = &e;
        d.shareBefore = beforeShares[i];
        d.change = DiffChange::Removed;
        d.score = e.stats.rps;
    }

    if (before.nodes.empty() && !after.nodes.empty())
        diff.notices.push_back("\"before\" holds no traffic: everything shows as added");
    else if (after.nodes.empty() && !before.nodes.empty())
        diff.notices.push_back("\"after\" holds no traffic: everything shows as removed");
    else if (commonServices == 0 && !before.nodes.empty())
        diff.notices.push_back("the two graphs have no service in common (different meshes?): everything shows as "
                               "removed or added");
    return diff;
}

GraphSnapshotPtr unionSnapshot(const GraphDiff &diff)
{
    auto all = std::make_shared<GraphSnapshot>(*diff.after);
    TrafficStats gone;
    gone.health = Health::NoTraffic;
    for (const NodeDiff &d : diff.nodes) {
        if (d.change != DiffChange::Removed)
            continue;
        NodeSnapshot &n = all->nodes.emplace_back(*d.before);
        n.stats = gone;
    }
    for (const EdgeDiff &d : diff.edges) {
        if (d.change != DiffChange::Removed)
            continue;
        EdgeSnapshot &e = all->edges.emplace_back(*d.before);
        e.stats = gone;
    }
    // Sorted by id, as every snapshot is (GraphSnapshot::node and edge search it).
    std::sort(all->nodes.begin(), all->nodes.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    std::sort(all->edges.begin(), all->edges.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    return all;
}

}  // namespace meshscope

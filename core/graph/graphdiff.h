#pragma once
// What changed between two pictures of the service graph: "before" and "after" (two
// time ranges of one session, or two recordings). Every node and edge of either is
// added, removed, changed or the same; a change counts when a number moved past its
// threshold (error rate by points, rps and p95 by a share of what they were, the share
// of a traffic split by points). Nodes and edges are matched by id, so two graphs of
// different meshes come out as everything removed and everything added, with a notice.

#include "graph/graphsnapshot.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshscope {

struct DiffThresholds {
    double errorRatePoints = 0.02;  // |after - before| of the error rate (a fraction 0..1)
    double rpsRelative = 0.25;  // |after - before| / before
    double p95Relative = 0.25;
    double sharePoints = 0.05;  // an edge's share of its split (fraction 0..1)
};

enum class DiffChange : uint8_t { Added, Removed, Changed, Same };
const char *diffChangeName(DiffChange c);  // "added", "removed", "changed", "same"

// What moved past its threshold, as bits.
enum DiffMetric : uint8_t { kDiffRps = 1, kDiffErrorRate = 2, kDiffP95 = 4, kDiffShare = 8 };

// A node or an edge as it was before and is after: null where it is not in that graph.
// The pointers are into the GraphDiff's own snapshots.
struct NodeDiff {
    const NodeSnapshot *before = nullptr;
    const NodeSnapshot *after = nullptr;
    DiffChange change = DiffChange::Same;
    uint8_t moved = 0;  // DiffMetric bits, for Changed
    double score = 0;  // how big the change is, for "biggest first" (see diffGraphs)

    const NodeSnapshot &node() const { return after ? *after : *before; }  // its id, name, kind...
};

struct EdgeDiff {
    const EdgeSnapshot *before = nullptr;
    const EdgeSnapshot *after = nullptr;
    DiffChange change = DiffChange::Same;
    uint8_t moved = 0;
    double score = 0;
    // The edge's share of the requests its source sent to all versions of the target's
    // service: set when that service is split across versions in the graph concerned.
    std::optional<double> shareBefore;
    std::optional<double> shareAfter;

    const EdgeSnapshot &edge() const { return after ? *after : *before; }
};

struct GraphDiff {
    GraphSnapshotPtr before;  // kept alive for the pointers above
    GraphSnapshotPtr after;
    std::vector<NodeDiff> nodes;  // in the order of "after", then what only "before" had
    std::vector<EdgeDiff> edges;
    DiffThresholds thresholds;
    std::vector<std::string> notices;  // said to the user beside the diff

    size_t count(DiffChange c) const;  // nodes and edges together
};

// Score: added and removed items by their traffic (rps), changed ones by how many
// thresholds' worth their largest move is; same items score 0.
GraphDiff diffGraphs(GraphSnapshotPtr before, GraphSnapshotPtr after, const DiffThresholds &thresholds = {});

// The graph a diff is drawn on: everything "after" holds, with its numbers, and what
// only "before" held with no traffic (so it draws quiet where it used to be).
GraphSnapshotPtr unionSnapshot(const GraphDiff &diff);

}  // namespace meshscope

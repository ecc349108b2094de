#pragma once
// Serialises a GraphSnapshot in the documented JSON contract and as Graphviz DOT, and a
// GraphDiff of two of them the same ways.

#include "graph/graphdiff.h"
#include "graph/graphsnapshot.h"

#include <QByteArray>

namespace meshscope {

QByteArray graphToJson(const GraphSnapshot &snapshot, bool indented = true);
QByteArray graphToDot(const GraphSnapshot &snapshot);

// {"nodes":[{"id","name","change","before":{...},"after":{...}}],"edges":[{"source",
// "target","change","before","after"}]} where before/after hold the graph JSON's numbers
// (null where the item is not in that graph); beside them "moved" (what passed its
// threshold), "delta" (after - before), an edge's "share" of its split, and the ranges,
// thresholds, counts and notices of the whole diff.
QByteArray graphDiffToJson(const GraphDiff &diff, bool indented = true);
// Added drawn green, removed grey and dashed, changed orange with their deltas as labels.
QByteArray graphDiffToDot(const GraphDiff &diff);
// "+12.5 rps", "+3.1 pts err", "p95 +40 ms", "share 90% → 50%": what moved, for labels.
std::string diffDeltaText(const TrafficStats &before, const TrafficStats &after, uint8_t moved,
    std::optional<double> shareBefore = {}, std::optional<double> shareAfter = {});

}  // namespace meshscope

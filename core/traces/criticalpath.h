#pragma once
// The critical path of a trace: the chain of work that decided when each root span
// finished, as Jaeger UI (since 1.33) computes it, and each span's self time. Computed
// with an explicit stack, so trace depth is not limited by the call stack.

#include "traces/tracetree.h"

#include <cstdint>
#include <vector>

namespace meshscope {

// One stretch of time during which a span's own work is on the critical path.
struct CriticalSection {
    uint32_t span = 0;  // index into TraceTree::spans
    uint64_t startNs = 0;
    uint64_t endNs = 0;
    bool operator==(const CriticalSection &) const = default;
};

// What the trace view colours. Per-span vectors are indexed like TraceTree::spans.
//
// Every top-level root of the tree (the real root and, beside it, a synthetic root
// holding orphans) gets its own critical path, as Jaeger computes one per root: the
// subtrees share no parent, so neither can hold up the other.
//
// Rules, per parent: children wholly outside the parent (ending at or before its start,
// or starting at or after its end, judged against the parent's already clamped interval)
// are dropped with their subtrees; children overflowing it are clamped to it. Walking back from the parent's
// end, the next child taken is the one with the latest end at or before the current
// point (on equal ends the later sibling); the parent owns the time between that end
// and the current point, the walk descends into the child, and the current point moves
// to the child's start. What is left before the last child taken is the parent's.
struct CriticalPathResult {
    // Every span the walk descended into, in index (pre-)order, so each root comes before
    // the spans of its path. A span whose time is fully covered by children is on it.
    std::vector<uint32_t> path;
    // Non-empty stretches, root by root in root order, each root's in time order;
    // touching stretches of one span are merged.
    std::vector<CriticalSection> sections;
    // Time of the span not covered by the union of its children's intervals (children
    // clamped to the span).
    std::vector<uint64_t> selfNs;
    // The span's own time on the critical path (sum of its sections). Not bounded by
    // selfNs: a parent owns the gap the walk leaves between non-consecutive children
    // even where a skipped, overlapping child ran.
    std::vector<uint64_t> criticalNs;
};

CriticalPathResult computeCriticalPath(const TraceTree &tree);

// The path alone (CriticalPathResult::path).
std::vector<uint32_t> criticalPath(const TraceTree &tree);

}  // namespace meshscope

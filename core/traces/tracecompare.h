#pragma once
// Two traces compared call by call: which calls one made and the other did not, and how
// much slower or faster each shared call was (Jaeger's trace diff compares structure
// only; this compares latency too). Also the "typical trace" of a root operation, a
// synthetic tree of per-call medians over many traces, to compare one trace against.
//
// Alignment: a span's key is its path of (service, span name) from its root, with at
// each level its occurrence among the same-key siblings in start order. So the second
// "redis GET" under a handler pairs with the second one on the other side, and a call
// missing on one side leaves the calls after it paired as before. Synthetic roots
// (SpanFlag::SyntheticRoot) pair with each other, never with a received span.

#include "model/span.h"
#include "traces/tracetree.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meshscope {

class TraceStore;

enum class CompareKind : uint8_t {
    Both,  // the call is in both traces
    OnlyInA,  // missing from B
    OnlyInB,  // added in B
};

// One call of the merged tree. Durations and offsets are ns; offsets are from the start
// of the row's own trace (TraceTree::startNs), for bars on a shared axis.
struct CompareRow {
    int32_t depth = 0;
    int32_t parentRow = -1;  // index into TraceComparison::rows, -1 for a top-level row
    std::string service;
    std::string name;
    CompareKind kind = CompareKind::Both;
    bool synthetic = false;  // the synthetic root holding orphans (on every side it is on)
    int32_t spanA = -1, spanB = -1;  // index into each tree's spans, -1 where absent
    // Calls with the same key under the same parent on each side (>1: a repeated call),
    // and this call's 0-based occurrence among them.
    uint32_t callsA = 0, callsB = 0;
    uint32_t occurrence = 0;
    uint64_t durationA = 0, durationB = 0;
    uint64_t selfA = 0, selfB = 0;  // time not covered by children (criticalpath.h)
    uint64_t offsetA = 0, offsetB = 0;
    // B - A, the absent side counting as 0 (so an added call is +its duration).
    int64_t deltaNs = 0;
    int64_t selfDeltaNs = 0;
    // (B - A) / A for a call on both sides with A > 0; nullopt otherwise.
    std::optional<double> relativeDelta;
    bool errorA = false, errorB = false;  // isErrorSpan on that side

    bool isStructural() const { return kind != CompareKind::Both; }
};

// Rows in pre-order of the merged tree: a row's children follow it, in A's sibling
// order, each call only in B placed after the paired call B made before it (before
// the first pair when there is none; after all of A's calls when nothing pairs).
struct TraceComparison {
    std::vector<CompareRow> rows;
    // Received calls only (synthetic roots are not calls), counting every span of an
    // added or missing subtree.
    uint32_t callsAdded = 0;
    uint32_t callsMissing = 0;
    uint32_t callsMatched = 0;
    uint64_t durationA = 0, durationB = 0;  // whole traces: earliest start to latest end
    // Rows on both sides that got slower, most first: by their own (self) time, which
    // points at the call whose work grew rather than at every ancestor waiting for it;
    // and by duration. Ties by row order.
    std::vector<uint32_t> slowerBySelf;
    std::vector<uint32_t> slowerByDuration;

    int64_t durationDeltaNs() const { return int64_t(durationB) - int64_t(durationA); }
    // The call whose own time grew most (first of slowerBySelf), or -1.
    int32_t slowestRow() const { return slowerBySelf.empty() ? -1 : int32_t(slowerBySelf.front()); }
};

// Aligns the spans of `a` and `b` (see the file comment). Iterative: depth is not limited
// by the call stack.
TraceComparison compareTraces(const TraceTree &a, const TraceTree &b);

// A synthetic tree standing for what traces of one root operation usually do: every key
// present in at least half of `traces` becomes a span whose start offset (from its
// trace's start) and duration are the medians over the traces that have it (an even count
// takes the mean of the middle two). Kind and protocol come from the first trace having
// the key; a span is an error span (status ERROR) when at least half of those traces
// failed there, and carries the number of traces with it as attribute
// "meshscope.typical.traces". Synthetic roots are rebuilt as synthetic roots. The tree's
// trace id is all zeros and its times are the offsets themselves (from 0). Empty for no
// traces.
TraceTree buildTypicalTrace(std::span<const TraceTree> traces);

struct TypicalTrace {
    TraceTree tree;
    uint32_t traceCount = 0;  // traces it was built from
};

// The typical trace of the root operation (root span's service and name) from the
// newest `maxTraces` traces in the store with that root, leaving out `exclude` (the trace
// being compared against it). nullopt when no other trace has that root.
std::optional<TypicalTrace> typicalTraceFor(const TraceStore &store, const std::string &rootService,
    const std::string &rootOperation, const TraceId &exclude, size_t maxTraces = 200);

}  // namespace meshscope

#pragma once
// One trace assembled into a tree, in the order the trace view draws it, with every
// repair it needed (missing parents, parent cycles, duplicate ids, reversed clocks)
// flagged on the span and described in words. Built iteratively: a 200,000-deep chain
// is as cheap as a flat fan-out.

#include "model/span.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshscope {

// Per-span repair bits in TraceTree::flags (SpanFlag::Orphan, ...).
namespace SpanFlag {
enum Bits : uint8_t {
    // Its parent id names no span of the trace: hung under the synthetic root.
    Orphan = 1u << 0,
    // Its parent chain led back to itself; the link to its parent was cut here and the
    // span hung under the synthetic root. Only one span per cycle carries it.
    CycleBroken = 1u << 1,
    // Another span of the trace has the same id and sorts first (see buildTraceTree):
    // this one is kept, id unchanged, but no child attaches to it.
    DuplicateId = 1u << 2,
    // Not a received span: the one stand-in parent made for orphans and broken cycles.
    SyntheticRoot = 1u << 3,
    // It ended before it started; its end was set to its start.
    TimestampClamped = 1u << 4,
};
}  // namespace SpanFlag

// The service (and span name) of the synthetic root, so views can recognise it by text too.
inline constexpr const char *kSyntheticRootService = "(missing parent)";

// A trace as a tree. Per-span vectors are indexed like `spans`.
//
// Order: pre-order, so a parent comes before its children and a subtree is the
// contiguous range [i, subtreeEnd[i]). Siblings (and top-level roots) sort by start
// time, ties by end time and then by a canonical order of the spans' contents, so the
// same spans give the same tree whatever order they arrived in.
//
// Children: compact (CSR) form. The children of span i, in sibling order, are
// children[childBegin[i]] .. children[childEnd[i] - 1]. With pre-order, the first child
// of i (if any) is always i + 1.
//
// Roots: every span with parent -1. Received root spans (parentSpanId 0) are roots. If
// any span's parent is missing, or a parent cycle had to be cut, ONE synthetic root is
// added (flag SpanFlag::SyntheticRoot, service kSyntheticRootService, spanId 0) spanning
// those spans' extent, and they hang under it. It is a top-level sibling of any real
// root rather than a child of one: nothing says where the lost parent sat, and putting
// it under the real root would put guessed time on that root's critical path.
struct TraceTree {
    std::vector<Span> spans;
    std::vector<int32_t> parent;  // index into spans, -1 for a root
    std::vector<int32_t> depth;  // 0 for a root
    std::vector<uint32_t> childBegin, childEnd;  // range into `children`
    std::vector<uint32_t> children;  // child indices grouped by parent, sibling order
    std::vector<uint32_t> subtreeEnd;  // one past the last descendant of span i
    std::vector<uint8_t> flags;  // SpanFlag bits
    std::vector<uint32_t> roots;  // indices with parent -1, in order
    // What was repaired, in words for the view ("3 spans whose parent is missing: ...").
    std::vector<std::string> problems;

    uint64_t startNs = 0;  // earliest start of any span
    uint64_t endNs = 0;  // latest end of any span
    int32_t errorCount = 0;  // received spans for which isErrorSpan() holds
    bool truncated = false;  // set by the caller when the store dropped spans of this trace

    size_t size() const { return spans.size(); }
    bool empty() const { return spans.empty(); }
    bool isSynthetic(size_t i) const { return flags[i] & SpanFlag::SyntheticRoot; }
    uint64_t durationNs(size_t i) const { return spans[i].endNs - spans[i].startNs; }
};

// Builds the tree of one trace from its spans in any arrival order.
//
// Duplicate span ids: the spans are first put in a canonical order (by id, then start,
// end and the rest of their contents). An exact copy of another span (a re-sent batch)
// is dropped and counted in `problems`. Of several different spans sharing an id, the
// first in canonical order keeps the id's children; the others keep their own parent,
// stay in the tree with SpanFlag::DuplicateId, and keep their id (renaming would make the
// id shown disagree with the one in the backend).
//
// Parent cycles: in each cycle the span that started first (canonical order on ties)
// loses its parent link and hangs under the synthetic root with SpanFlag::CycleBroken.
TraceTree buildTraceTree(std::vector<Span> spans);

// After span times changed (clock-skew adjustment), restores the sibling order and the
// pre-order layout, keeping the parent relation, and recomputes startNs/endNs.
// Returns the new index of each old index, so that per-span data can follow.
std::vector<uint32_t> resortTraceTree(TraceTree &tree);

// spanIdHex (model/span.h) writes span ids as backends and the view print them.

}  // namespace meshscope

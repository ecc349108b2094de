#pragma once
// What a trace search asks of the trace store (TraceStore::search), and the rules it
// answers by that do not depend on how spans are stored: trace-level bounds and the
// order of results.
//
// Semantics users know from Jaeger and Tempo:
// - Span conditions (service, operation, errorsOnly, attributes, attributeKeys) select
//   spans; a trace matches when ONE of its spans meets them all (Jaeger). Attribute
//   conditions look at span and resource attributes alike.
// - Duration bounds apply to the whole trace: from its earliest span start to its
//   latest span end (what jaeger#1015 asks for), not to one span.
// - The time range applies to the trace's start.
// - A TraceQL query, when given, must match as well (AND with the rest).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshscope {

class TraceQlQuery;

struct TraceFilter {
    std::string service;  // exact service name of one span; empty = any
    std::string operation;  // exact span name of that span; empty = any
    bool errorsOnly = false;  // that span is an error span (status ERROR, or a server span with HTTP 5xx)
    std::vector<std::pair<std::string, std::string>> attributes;  // key = value, all on that span
    std::vector<std::string> attributeKeys;  // keys present on that span
    std::optional<double> minDurationMs, maxDurationMs;  // whole trace, inclusive
    std::optional<uint64_t> fromNs, toNs;  // trace start, inclusive
    uint32_t limit = 20;  // 0 = no limit
    enum class Sort { Start, Duration, Spans, Errors } sort = Sort::Start;  // newest / largest first
    const TraceQlQuery *query = nullptr;  // not owned; must outlive the search

    // True when some span condition is set (so a trace needs one span meeting them all).
    bool hasSpanConditions() const;
    // The trace-level bounds: time range on the start, duration on the whole extent.
    bool acceptsTrace(uint64_t startNs, uint64_t endNs) const;
};

// What results are ordered by, per trace.
struct TraceRank {
    uint64_t startNs = 0;
    uint64_t durationNs = 0;
    uint32_t spanCount = 0;
    uint32_t errorCount = 0;
    uint32_t tieBreak = 0;  // anything stable (the store uses its slot), last resort
};

// Strict weak order for TraceFilter::sort: true when a comes before b (newest start,
// longest, most spans, most errors first; ties by newest start, then tieBreak).
bool ranksBefore(TraceFilter::Sort sort, const TraceRank &a, const TraceRank &b);

}  // namespace meshscope

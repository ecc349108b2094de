#include "traces/tracesearch.h"

#include <tuple>

namespace meshscope {

bool TraceFilter::hasSpanConditions() const
{
    return !service.empty() || !operation.empty() || errorsOnly || !attributes.empty() || !attributeKeys.empty();
}

bool TraceFilter::acceptsTrace(uint64_t startNs, uint64_t endNs) const
{
    if (fromNs && startNs < *fromNs)
        return false;
    if (toNs && startNs > *toNs)
        return false;
    if (minDurationMs || maxDurationMs) {
        const double ms = endNs > startNs ? double(endNs - startNs) / 1e6 : 0.0;
        if (minDurationMs && ms < *minDurationMs)
            return false;
        if (maxDurationMs && ms > *maxDurationMs)
            return false;
    }
    return true;
}

bool ranksBefore(TraceFilter::Sort sort, const TraceRank &a, const TraceRank &b)
{
    // Larger first everywhere, so compare b's key with a's.
    switch (sort) {
    case TraceFilter::Sort::Start: break;
    case TraceFilter::Sort::Duration:
        if (a.durationNs != b.durationNs)
            return a.durationNs > b.durationNs;
        break;
    case TraceFilter::Sort::Spans:
        if (a.spanCount != b.spanCount)
            return a.spanCount > b.spanCount;
        break;
    case TraceFilter::Sort::Errors:
        if (a.errorCount != b.errorCount)
            return a.errorCount > b.errorCount;
        break;
    }
    return std::tie(b.startNs, a.tieBreak) < std::tie(a.startNs, b.tieBreak);
}

}  // namespace meshscope

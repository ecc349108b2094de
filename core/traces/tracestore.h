#pragma once
// Keeps every span it is given, assembled per trace in any arrival order, compactly
// (strings interned once, a small fixed record per span) and under a memory budget,
// and answers the trace view (one trace, materialized) and trace search (summaries,
// see tracesearch.h). Thread-safe: ingest threads add while the GUI searches.
//
// Budget: when the accounted bytes pass memoryBudgetBytes, whole traces are evicted
// oldest FIRST-SEEN first (arrival order, not span start time: start times can be
// skewed or absurd, while arrival is when the memory was spent, and it makes eviction
// a queue pop instead of a search). Accounted bytes are what the store's containers
// hold (capacities, string storage, index entries at an estimated node size).

#include "model/span.h"
#include "traces/tracesearch.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshscope {

struct TraceStoreLimits {
    uint64_t memoryBudgetBytes = 1ull << 30;
    uint32_t maxSpansPerTrace = 200000;  // spans past it are dropped, the trace marked truncated
    size_t maxQueuedSpans = 500000;  // queue(): waiting spans past which the caller stores them
};

struct TraceStoreCounters {
    uint64_t spans = 0;  // stored now
    uint64_t traces = 0;  // stored now
    uint64_t evictedTraces = 0;  // ever, by the memory budget
    uint64_t evictedSpans = 0;
    uint64_t truncatedTraces = 0;  // ever marked truncated by maxSpansPerTrace
    uint64_t droppedSpansOverCap = 0;
    uint64_t duplicateSpans = 0;  // same trace id and span id as a stored span: ignored
    uint64_t bytes = 0;  // accounted now
};

struct TraceSummary {
    TraceId traceId {};
    // The root span's (parent id 0, earliest if several; else the earliest span).
    std::string rootService, rootOperation;
    uint64_t startNs = 0;  // earliest span start
    uint64_t endNs = 0;  // latest span end
    uint32_t spanCount = 0;
    uint32_t errorCount = 0;  // error spans: status ERROR, or a server span with HTTP 5xx
    std::vector<std::string> services;  // sorted
    bool truncated = false;
    double durationMs() const { return endNs > startNs ? double(endNs - startNs) / 1e6 : 0.0; }
};

class TraceStore {
public:
    explicit TraceStore(TraceStoreLimits limits = {});
    ~TraceStore();
    TraceStore(const TraceStore &) = delete;
    TraceStore &operator=(const TraceStore &) = delete;

    // From ingest threads: O(batch) under the lock (plus evicting, each span once).
    void add(const std::vector<Span> &spans);
    // The same without holding the ingest thread up: the batch is queued and stored by
    // the store's own thread. Every read (trace, summary, search, counters) first stores
    // what is queued, so a read made after queue() returned sees the batch as after
    // add(). Past maxQueuedSpans waiting, the caller stores the queue itself: ingest
    // slows down to the store's pace rather than memory growing or spans being lost.
    void queue(std::vector<Span> &&spans);

    // All kept spans of the trace, in arrival order, as they were added.
    std::optional<std::vector<Span>> trace(const TraceId &id) const;
    bool isTruncated(const TraceId &id) const;
    std::optional<TraceSummary> summary(const TraceId &id) const;
    std::vector<TraceSummary> search(const TraceFilter &filter) const;

    TraceStoreCounters counters() const;
    TraceStoreLimits limits() const;
    // A lower budget evicts at once; a lower per-trace cap applies to spans added later.
    void setLimits(TraceStoreLimits limits);

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace meshscope

#pragma once
// Keeps every span a source delivers in a trace store, then hands the batch on to the
// next sink (the graph aggregator, or a recording in front of it). Sources see one
// TelemetrySink; the store never sees anything else. Access-log requests that carry a
// trace context become spans in the store too (traces/accesslogspans.h), but are
// handed on as requests only: the graph counts each of them once.

#include "model/telemetrysink.h"
#include "traces/accesslogspans.h"
#include "traces/tracestore.h"

namespace meshscope {

class TraceStoreSink : public TelemetrySink {
public:
    TraceStoreSink(TraceStore &store, TelemetrySink &next)
        : m_store(store)
        , m_next(next)
    {
    }

    // Any thread (gRPC's, a replay's). The store gets the batch itself, queued for its
    // own thread (TraceStore::queue); the graph gets copies without the attributes,
    // which it never reads: the copy is a few short strings a span, where storing the
    // span costs the ingest thread several times that.
    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin = "otlp") override
    {
        std::vector<Span> forGraph;
        forGraph.reserve(spans.size());
        for (Span &s : spans) {
            std::vector<SpanAttribute> attributes = std::move(s.attributes);
            forGraph.push_back(s);
            s.attributes = std::move(attributes);
        }
        m_store.queue(std::move(spans));
        m_next.ingestSpans(std::move(forGraph), nowMs, origin);
    }
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override
    {
        if (std::vector<Span> spans = spansFromRequests(requests); !spans.empty())
            m_store.queue(std::move(spans));
        m_next.ingestRequests(std::move(requests), nowMs, origin);
    }
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) override
    {
        m_next.setPulledEdges(origin, std::move(edges), nowMs);
    }
    void countExport(
        uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons) override
    {
        m_next.countExport(spansReceived, spansRejected, reasons);
    }
    void countMalformed(const std::string &reason) override { m_next.countMalformed(reason); }
    void countOversized(const std::string &reason) override { m_next.countOversized(reason); }

private:
    TraceStore &m_store;
    TelemetrySink &m_next;
};

}  // namespace meshscope

#pragma once
// Where sources deliver what they decoded. The graph aggregator implements it; the
// telemetry adapters see only this interface, so they never depend on the graph.
// Every method may be called from any thread (gRPC threads, poll threads).

#include "model/observation.h"
#include "model/span.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace meshscope {

class TelemetrySink {
public:
    virtual ~TelemetrySink() = default;

    virtual void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin = "otlp") = 0;
    virtual void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) = 0;
    // Replaces everything the pull source `origin` reported before.
    virtual void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) = 0;
    // Bookkeeping reported by receivers and decoders.
    virtual void countExport(
        uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons)
        = 0;
    virtual void countMalformed(const std::string &reason) = 0;
    virtual void countOversized(const std::string &reason) = 0;
};

}  // namespace meshscope

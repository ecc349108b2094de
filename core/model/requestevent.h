#pragma once
// One observed request between two graph nodes: what the live requests table shows
// and what every source (paired spans, access logs) reduces to before aggregation.

#include "model/span.h"

#include <cstdint>
#include <string>

namespace meshscope {

struct RequestEvent {
    uint64_t seq = 0;  // assigned by the aggregator, increasing
    int64_t timeMs = 0;  // wall-clock start of the request (ms since epoch)
    std::string sourceId;  // graph node ids
    std::string targetId;
    Protocol protocol = Protocol::Unknown;
    std::string method;
    std::string path;
    std::string authority;
    int httpStatus = -1;
    int grpcStatus = -1;
    bool error = false;  // 5xx, gRPC non-OK or span status ERROR
    double durationMs = 0;
    int64_t bytes = 0;  // request + response bytes where known
    int8_t mtls = -1;
    std::string traceId;  // 32 lowercase hex digits, empty when unknown
    std::string origin;  // source that reported it: "otlp", "als", ...

    // The span an access-log entry with a trace context stands for (spanId != 0), kept
    // in the trace store but never paired into the graph (traces/accesslogspans.h).
    // Set by the ALS decoder on one request per entry, zero everywhere else.
    uint64_t spanId = 0;  // derived by the decoder: Envoy's own span id is not logged
    uint64_t parentSpanId = 0;  // the caller's span, from the trace header; 0 = none
    uint64_t startNs = 0;  // ns since epoch; ends durationMs later
    SpanKind spanKind = SpanKind::Unspecified;  // Server: the target's span; Client: the source's
    std::string upstreamCluster;  // as Envoy logged it
    std::string responseFlags;  // Envoy's short codes, "UF,URX"; empty: none
    bool operator==(const RequestEvent &) const = default;
};

}  // namespace meshscope

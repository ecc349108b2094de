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
    std::string traceId;  // hex, empty when unknown
    std::string origin;  // source that reported it: "otlp", "als", ...
};

}  // namespace meshscope

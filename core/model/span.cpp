#include "model/span.h"

#include <cstring>

namespace meshscope {

const char *protocolName(Protocol p)
{
    switch (p) {
    case Protocol::Http: return "http";
    case Protocol::Grpc: return "grpc";
    case Protocol::Tcp: return "tcp";
    case Protocol::Unknown: break;
    }
    return "unknown";
}

namespace {

std::string hexOf(const uint8_t *bytes, size_t n)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(2 * n, '0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = kHex[bytes[i] >> 4];
        out[2 * i + 1] = kHex[bytes[i] & 0xF];
    }
    return out;
}

}  // namespace

bool isErrorSpan(const Span &span)
{
    return span.status == SpanStatus::Error
        || (span.kind == SpanKind::Server && span.httpStatus >= 500 && span.httpStatus <= 599);
}

std::string traceIdHex(const TraceId &id) { return hexOf(id.data(), id.size()); }

std::string spanIdHex(uint64_t spanId)
{
    // The decoder copies the id's 8 wire bytes into the integer as they lie in memory;
    // written back in that order, the text is the id the SDK and Jaeger print.
    uint8_t bytes[8];
    std::memcpy(bytes, &spanId, 8);
    return hexOf(bytes, 8);
}

}  // namespace meshscope

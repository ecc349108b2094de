#pragma once
// A decoded trace span, reduced to what meshscope's graph and trace views read.
// Plain value type: decoders fill it on their own thread and hand it over by move.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace meshscope {

enum class SpanKind : uint8_t { Unspecified = 0, Internal = 1, Server = 2, Client = 3, Producer = 4, Consumer = 5 };
enum class SpanStatus : uint8_t { Unset = 0, Ok = 1, Error = 2 };
enum class Protocol : uint8_t { Unknown = 0, Http, Grpc, Tcp };

const char *protocolName(Protocol p);

using TraceId = std::array<uint8_t, 16>;

// One attribute as the trace views and search read it: the value as text (ints,
// doubles and bools written out), bounded by the decoder's limits.
struct SpanAttribute {
    std::string key;
    std::string value;
    bool resource = false;  // a resource attribute (TraceQL `resource.`), else a span attribute (`span.`)
    bool operator==(const SpanAttribute &) const = default;
};

struct Span {
    TraceId traceId {};
    uint64_t spanId = 0;
    uint64_t parentSpanId = 0;  // 0 = root
    SpanKind kind = SpanKind::Unspecified;
    SpanStatus status = SpanStatus::Unset;
    Protocol protocol = Protocol::Unknown;

    // Identity of the emitting service, from resource attributes.
    std::string service;
    std::string serviceNamespace;
    std::string serviceVersion;

    std::string name;
    uint64_t startNs = 0;
    uint64_t endNs = 0;

    // Attributes the graph reads (current and older semantic-convention names).
    std::string peer;  // peer.service / service.peer.name / server.address / net.peer.name
    std::string method;
    std::string path;
    std::string authority;
    int httpStatus = -1;
    int grpcStatus = -1;
    int64_t requestBytes = -1;
    int64_t responseBytes = -1;
    int8_t mtls = -1;  // -1 unknown, 0 plaintext, 1 mutual TLS
    bool databaseCall = false;  // db.system set: the server side is almost never traced

    // Everything else the trace view shows: the status message and the attributes
    // (resource and span, bounded in count and size by the decoder).
    std::string statusMessage;
    std::vector<SpanAttribute> attributes;

    double durationMs() const { return endNs > startNs ? double(endNs - startNs) / 1e6 : 0.0; }
    bool isClientSide() const { return kind == SpanKind::Client || kind == SpanKind::Producer; }
    bool isServerSide() const { return kind == SpanKind::Server || kind == SpanKind::Consumer; }

    // Every field takes part, so a comparison (the fuzzer's round trip) cannot miss a new one.
    bool operator==(const Span &) const = default;
};

// An error span, the one rule for every count, mark, search and export: status ERROR, or
// an HTTP server span with a 5xx response. (OpenTelemetry's SDKs already set ERROR for
// failed gRPC calls and for client 4xx/5xx where they deem them failures; counting a
// client's 5xx as well would count one failed call twice, once per side.)
bool isErrorSpan(const Span &span);

std::string traceIdHex(const TraceId &id);
// 16 lowercase hex digits, the id's bytes in wire order (as SDKs and Jaeger print it).
std::string spanIdHex(uint64_t spanId);

}  // namespace meshscope

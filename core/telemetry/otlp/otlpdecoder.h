#pragma once
// Turns an OTLP ExportTraceServiceRequest into Span values, validating each span
// on its own: one bad span (invalid ids, absurd timestamps, invalid UTF-8, oversized
// names) is rejected with a counted reason while the rest of the batch is kept.
// Pure function of its input: used by the gRPC receiver, the fuzzer and tests.

#include "model/span.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace opentelemetry::proto::collector::trace::v1 {
class ExportTraceServiceRequest;
}

namespace meshscope {

struct DecodeLimits {
    uint64_t maxClockSkewNs = 24ull * 3600 * 1000000000ull;  // start time this far from now is absurd
    uint64_t maxDurationNs = 24ull * 3600 * 1000000000ull;
    size_t maxNameBytes = 256;  // service, namespace, version, span name
    size_t maxValueBytes = 2048;  // path, authority: longer values are truncated
    // Attributes kept on Span::attributes for the trace view and search. A span keeps
    // up to maxAttributes of its own and up to maxAttributes of its resource; keys
    // longer than maxAttributeKeyBytes are dropped (a cut key names another attribute),
    // values and the status message longer than maxAttributeValueBytes are truncated.
    size_t maxAttributes = 64;
    size_t maxAttributeKeyBytes = 128;
    size_t maxAttributeValueBytes = 1024;
};

struct DecodeResult {
    std::vector<Span> spans;
    uint64_t received = 0;
    uint64_t rejected = 0;
    std::map<std::string, uint64_t> reasons;
    bool malformed = false;  // the bytes were not an ExportTraceServiceRequest at all
    // Attributes not kept on accepted spans (past maxAttributes, or keys too long);
    // a resource's are counted once per span that would have carried them.
    uint64_t droppedAttributes = 0;

    // One line suitable for ExportTracePartialSuccess.error_message.
    std::string summary() const;
};

class OtlpDecoder {
public:
    explicit OtlpDecoder(DecodeLimits limits = {});

    DecodeResult decode(
        const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest &req, uint64_t nowNs) const;
    // Parses serialized bytes first; malformed input sets DecodeResult::malformed.
    DecodeResult decodeBytes(const void *data, size_t size, uint64_t nowNs) const;

    const DecodeLimits &limits() const { return m_limits; }

private:
    DecodeLimits m_limits;
};

}  // namespace meshscope

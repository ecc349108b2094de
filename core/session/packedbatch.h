#pragma once
// A batch of spans or requests copied, on the ingest thread, into one flat buffer for
// the recording's writer thread. A plain copy of a span batch costs a dozen heap
// allocations per span on the caller and as many frees on the writer thread (across
// threads, where malloc is slowest); packing costs one growing buffer per batch. The
// writer thread turns the buffer straight into protobuf wire format (the msrec
// SpanBatch and RequestBatch of recording.proto), byte for byte what protobuf's own
// serializer writes, without building a message per span.

#include "model/observation.h"
#include "model/span.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshscope {

class PackedBatch {
public:
    static PackedBatch fromSpans(const std::vector<Span> &spans);
    static PackedBatch fromRequests(const std::vector<ObservedRequest> &requests);

    size_t bytes() const { return m_bytes.size(); }
    uint32_t count() const { return m_count; }

    // Appends the serialized body of an msrec::SpanBatch (or RequestBatch) holding the
    // packed values; false when the buffer is not what pack wrote (a bug, never
    // expected at run time), and `out` then holds a partial body.
    bool encodeSpans(std::string &out) const;
    bool encodeRequests(std::string &out) const;

private:
    std::string m_bytes;
    uint32_t m_count = 0;
};

}  // namespace meshscope

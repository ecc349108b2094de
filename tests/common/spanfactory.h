#pragma once
// Spans as an instrumented mesh reports them, for window tests that feed the
// aggregator directly: fresh trace ids from a counter, and one span a call.

#include "model/span.h"

#include <cstdint>
#include <vector>

namespace meshscope::test {

class SpanFactory {
public:
    // `tag` marks this factory's trace ids, so the traces of two tests never meet.
    explicit SpanFactory(uint8_t tag)
        : m_tag(tag)
    {
    }

    TraceId nextTrace()
    {
        TraceId trace {};
        const uint64_t n = ++m_traces;
        for (int b = 0; b < 8; ++b)
            trace[size_t(b)] = uint8_t(n >> (8 * b));
        trace[15] = m_tag;
        return trace;
    }

    struct Call {
        const char *service = "";
        const char *ns = "";
        const char *version = "";
        uint64_t startNs = 0;
        int ms = 1;
        int status = 200;
        const char *path = "";
    };

    // An HTTP GET span of `call`, appended to `out` and returned (its spanId is fresh).
    Span add(std::vector<Span> &out, const TraceId &trace, uint64_t parent, SpanKind kind, const Call &call)
    {
        Span s;
        s.traceId = trace;
        s.spanId = ++m_spans;
        s.parentSpanId = parent;
        s.kind = kind;
        s.protocol = Protocol::Http;
        s.service = call.service;
        s.serviceNamespace = call.ns;
        s.serviceVersion = call.version;
        s.name = "GET";
        s.method = "GET";
        s.path = call.path;
        s.httpStatus = call.status;
        s.status = call.status >= 500 ? SpanStatus::Error : SpanStatus::Unset;
        s.startNs = call.startNs;
        s.endNs = call.startNs + uint64_t(call.ms) * 1000000ull;
        out.push_back(s);
        return s;
    }

private:
    uint8_t m_tag;
    uint64_t m_traces = 0;
    uint64_t m_spans = 0;
};

}  // namespace meshscope::test

#pragma once
// Spans as an instrumented mesh reports them, for window tests that feed the
// aggregator directly: fresh trace ids from a counter, one span a call, and a whole
// checkout trace.

#include "model/observation.h"
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

struct CheckoutOptions {
    int paymentStatus = 503;  // of checkout's call to payments, client and server span
    bool inventory = true;  // checkout also calls inventory (fast, 200) beside payments
};

// frontend -> checkout -> payments (slow; failing by default) and, unless turned off,
// checkout -> inventory, as client and server spans of one trace starting at startMs,
// appended to `out`: five spans, seven with inventory. Returns the trace id.
inline TraceId addCheckout(
    std::vector<Span> &out, SpanFactory &spans, int64_t startMs, const CheckoutOptions &options = {})
{
    using Call = SpanFactory::Call;
    const TraceId trace = spans.nextTrace();
    const uint64_t t0 = uint64_t(startMs) * 1000000ull;
    const uint64_t ms = 1000000ull;
    const int status = options.paymentStatus;
    const Span root = spans.add(out, trace, 0, SpanKind::Server, Call {"frontend", "shop", "", t0, 60, 200, "/buy"});
    const Span call
        = spans.add(out, trace, root.spanId, SpanKind::Client, Call {"frontend", "shop", "", t0 + ms, 55, 200, "/pay"});
    const Span checkout = spans.add(
        out, trace, call.spanId, SpanKind::Server, Call {"checkout", "shop", "", t0 + 2 * ms, 52, 200, "/pay"});
    const Span pay = spans.add(out, trace, checkout.spanId, SpanKind::Client,
        Call {"checkout", "shop", "", t0 + 3 * ms, 40, status, "/charge"});
    spans.add(
        out, trace, pay.spanId, SpanKind::Server, Call {"payments", "shop", "", t0 + 4 * ms, 38, status, "/charge"});
    if (options.inventory) {
        const Span stock = spans.add(out, trace, checkout.spanId, SpanKind::Client,
            Call {"checkout", "shop", "", t0 + 3 * ms, 8, 200, "/stock"});
        spans.add(
            out, trace, stock.spanId, SpanKind::Server, Call {"inventory", "shop", "", t0 + 4 * ms, 6, 200, "/stock"});
    }
    return trace;
}

// One HTTP call between two services of namespace "shop", as an access log reports
// it (no span): 5xx counts as an error.
inline ObservedRequest shopCall(const char *from, const char *to, int status, double durationMs = 12)
{
    ObservedRequest r;
    r.source.ns = r.target.ns = "shop";
    r.source.name = from;
    r.target.name = to;
    r.event.protocol = Protocol::Http;
    r.event.httpStatus = status;
    r.event.error = status >= 500;
    r.event.durationMs = durationMs;
    return r;
}

}  // namespace meshscope::test

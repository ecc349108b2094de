#pragma once
// Test helpers for building spans: plain meshscope::Span values for the pairer and
// aggregator, and OTLP ExportTraceServiceRequest messages for the decoder and the
// receiver. Ids are encoded the way the decoder reads them back (8 little-endian
// bytes), so a test can compare the ids it chose with the ids that come out.
// Header-only: every test executable includes it on its own.

#include "common/printers.h"
#include "model/span.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <QTest>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshscope::test {

namespace otlp = opentelemetry::proto;

// A fixed "now" so that unit tests are deterministic: 2023-11-14T22:13:20Z.
inline constexpr int64_t kT0Ms = 1'700'000'000'000;
inline constexpr uint64_t kT0Ns = uint64_t(kT0Ms) * 1'000'000ull;
inline constexpr uint64_t kMsNs = 1'000'000ull;

inline TraceId traceIdOf(uint64_t n)
{
    // The high half stays non-zero so that n = 0 is still a valid (non-zero) id.
    TraceId id {};
    const uint64_t hi = 0x6d657368'73636f70ull;  // "meshscop"
    std::memcpy(id.data(), &hi, 8);
    std::memcpy(id.data() + 8, &n, 8);
    return id;
}

// ---- meshscope::Span values -------------------------------------------------------

inline Span makeSpan(SpanKind kind, std::string service, uint64_t trace, uint64_t spanId, uint64_t parentId,
    uint64_t startNs, double durationMs)
{
    Span s;
    s.traceId = traceIdOf(trace);
    s.spanId = spanId;
    s.parentSpanId = parentId;
    s.kind = kind;
    s.service = std::move(service);
    s.name = "op";
    s.startNs = startNs;
    s.endNs = startNs + uint64_t(durationMs * 1e6);
    s.protocol = Protocol::Http;
    return s;
}

inline Span clientSpan(
    std::string service, uint64_t trace, uint64_t spanId, uint64_t parentId, uint64_t startNs, double durationMs)
{
    return makeSpan(SpanKind::Client, std::move(service), trace, spanId, parentId, startNs, durationMs);
}

inline Span serverSpan(
    std::string service, uint64_t trace, uint64_t spanId, uint64_t parentId, uint64_t startNs, double durationMs)
{
    return makeSpan(SpanKind::Server, std::move(service), trace, spanId, parentId, startNs, durationMs);
}

inline Span withIdentity(Span s, std::string ns, std::string version)
{
    s.serviceNamespace = std::move(ns);
    s.serviceVersion = std::move(version);
    return s;
}

// A batch for GraphAggregator::ingestSpans, which takes its spans by move.
template <typename... S>
std::vector<Span> batch(S &&...spans)
{
    std::vector<Span> v;
    v.reserve(sizeof...(spans));
    (v.push_back(std::forward<S>(spans)), ...);
    return v;
}

// ---- OTLP protobuf messages -------------------------------------------------------

inline std::string id8(uint64_t v)
{
    std::string out(8, '\0');
    std::memcpy(out.data(), &v, 8);
    return out;
}

inline std::string id16(uint64_t n)
{
    const TraceId id = traceIdOf(n);
    return std::string(reinterpret_cast<const char *>(id.data()), id.size());
}

template <typename KeyValues>
void addAttr(KeyValues *kvs, std::string_view key, std::string_view value)
{
    auto *kv = kvs->Add();
    kv->set_key(std::string(key));
    kv->mutable_value()->set_string_value(std::string(value));
}

template <typename KeyValues>
void addIntAttr(KeyValues *kvs, std::string_view key, int64_t value)
{
    auto *kv = kvs->Add();
    kv->set_key(std::string(key));
    kv->mutable_value()->set_int_value(value);
}

inline void setAttr(otlp::trace::v1::Span &s, std::string_view key, std::string_view value)
{
    addAttr(s.mutable_attributes(), key, value);
}

inline void setIntAttr(otlp::trace::v1::Span &s, std::string_view key, int64_t value)
{
    addIntAttr(s.mutable_attributes(), key, value);
}

// Builds one ExportTraceServiceRequest: resource() opens a new ResourceSpans (one
// emitting service), span() appends to the most recently opened one.
class ExportBuilder {
public:
    using Request = otlp::collector::trace::v1::ExportTraceServiceRequest;

    ExportBuilder &resource(std::string_view service, std::string_view ns = {}, std::string_view version = {},
        std::string_view nsKey = "service.namespace")
    {
        m_current = m_request.add_resource_spans();
        auto *attrs = m_current->mutable_resource()->mutable_attributes();
        addAttr(attrs, "service.name", service);
        if (!ns.empty())
            addAttr(attrs, nsKey, ns);
        if (!version.empty())
            addAttr(attrs, "service.version", version);
        m_scope = m_current->add_scope_spans();
        m_scope->mutable_scope()->set_name("meshscope-tests");
        return *this;
    }

    otlp::trace::v1::Span &span(SpanKind kind, uint64_t trace, uint64_t spanId, uint64_t parentId, uint64_t startNs,
        uint64_t durationNs, std::string_view name = "op")
    {
        if (!m_scope)
            resource("unnamed");
        auto *s = m_scope->add_spans();
        s->set_trace_id(id16(trace));
        s->set_span_id(id8(spanId));
        if (parentId != 0)
            s->set_parent_span_id(id8(parentId));
        s->set_name(std::string(name));
        s->set_kind(otlp::trace::v1::Span::SpanKind(int(kind)));
        s->set_start_time_unix_nano(startNs);
        s->set_end_time_unix_nano(startNs + durationNs);
        return *s;
    }

    Request &request() { return m_request; }
    std::string serialized() const { return m_request.SerializeAsString(); }
    int spanCount() const
    {
        int n = 0;
        for (const auto &rs : m_request.resource_spans()) {
            for (const auto &ss : rs.scope_spans())
                n += ss.spans_size();
        }
        return n;
    }

private:
    Request m_request;
    otlp::trace::v1::ResourceSpans *m_current = nullptr;
    otlp::trace::v1::ScopeSpans *m_scope = nullptr;
};

// Bytes that can never parse as an ExportTraceServiceRequest: field 1 announced as
// length-delimited with a length far past the end of the buffer.
inline std::string junkBytes() { return std::string("\x0a\xff\xff\xff\x7f\x01\x02\x03 not a protobuf message"); }

}  // namespace meshscope::test

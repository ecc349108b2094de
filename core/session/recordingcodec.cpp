#include "session/recordingcodec.h"

#include <algorithm>

namespace meshscope::recordingcodec {

namespace {

// Enum values from a file are clamped to the known range: a newer writer's value
// must not become an enum value this build has no name for.
template <typename E>
E enumFrom(uint32_t v, E maxValue, E fallback)
{
    return v <= static_cast<uint32_t>(maxValue) ? static_cast<E>(v) : fallback;
}

int8_t mtlsFrom(int32_t v) { return static_cast<int8_t>(v); }

void toProto(const NodeRef &in, msrec::NodeRef *out)
{
    out->set_kind(static_cast<uint32_t>(in.kind));
    out->set_ns(in.ns);
    out->set_name(in.name);
    out->set_version(in.version);
    out->set_gateway(in.gateway);
}

NodeRef fromProto(const msrec::NodeRef &in)
{
    NodeRef out;
    out.kind = enumFrom(in.kind(), NodeKind::Other, NodeKind::Other);
    out.ns = in.ns();
    out.name = in.name();
    out.version = in.version();
    out.gateway = in.gateway();
    return out;
}

RequestEvent fromProto(const msrec::RequestEvent &in)
{
    RequestEvent out;
    out.seq = in.seq();
    out.timeMs = in.time_ms();
    out.sourceId = in.source_id();
    out.targetId = in.target_id();
    out.protocol = enumFrom(in.protocol(), Protocol::Tcp, Protocol::Unknown);
    out.method = in.method();
    out.path = in.path();
    out.authority = in.authority();
    out.httpStatus = in.http_status();
    out.grpcStatus = in.grpc_status();
    out.error = in.error();
    out.durationMs = in.duration_ms();
    out.bytes = in.bytes();
    out.mtls = mtlsFrom(in.mtls());
    out.traceId = in.trace_id();
    out.origin = in.origin();
    out.spanId = in.span_id();
    out.parentSpanId = in.parent_span_id();
    out.startNs = in.start_ns();
    out.spanKind = enumFrom(in.span_kind(), SpanKind::Consumer, SpanKind::Unspecified);
    out.upstreamCluster = in.upstream_cluster();
    out.responseFlags = in.response_flags();
    return out;
}

void toProto(const TrafficStats &in, msrec::TrafficStats *out)
{
    out->set_requests(in.requests);
    out->set_rps(in.rps);
    out->set_error_rate(in.errorRate);
    out->set_rate_5xx(in.rate5xx);
    out->set_rate_4xx(in.rate4xx);
    out->set_p50_ms(in.p50Ms);
    out->set_p95_ms(in.p95Ms);
    out->set_p99_ms(in.p99Ms);
    out->set_bytes(in.bytes);
    if (in.health)
        out->set_health(static_cast<uint32_t>(*in.health));
}

TrafficStats fromProto(const msrec::TrafficStats &in)
{
    TrafficStats out;
    out.requests = in.requests();
    out.rps = in.rps();
    out.errorRate = in.error_rate();
    out.rate5xx = in.rate_5xx();
    out.rate4xx = in.rate_4xx();
    out.p50Ms = in.p50_ms();
    out.p95Ms = in.p95_ms();
    out.p99Ms = in.p99_ms();
    out.bytes = in.bytes();
    if (in.has_health())
        out.health = enumFrom(in.health(), Health::Failing, Health::NoTraffic);
    return out;
}

}  // namespace

Span fromProto(const msrec::Span &in)
{
    Span out;
    const std::string &tid = in.trace_id();
    std::copy_n(tid.begin(), std::min(tid.size(), out.traceId.size()), out.traceId.begin());
    out.spanId = in.span_id();
    out.parentSpanId = in.parent_span_id();
    out.kind = enumFrom(in.kind(), SpanKind::Consumer, SpanKind::Unspecified);
    out.status = enumFrom(in.status(), SpanStatus::Error, SpanStatus::Unset);
    out.protocol = enumFrom(in.protocol(), Protocol::Tcp, Protocol::Unknown);
    out.service = in.service();
    out.serviceNamespace = in.service_namespace();
    out.serviceVersion = in.service_version();
    out.name = in.name();
    out.startNs = in.start_ns();
    out.endNs = in.end_ns();
    out.peer = in.peer();
    out.method = in.method();
    out.path = in.path();
    out.authority = in.authority();
    out.httpStatus = in.http_status();
    out.grpcStatus = in.grpc_status();
    out.requestBytes = in.request_bytes();
    out.responseBytes = in.response_bytes();
    out.mtls = mtlsFrom(in.mtls());
    out.databaseCall = in.database_call();
    out.statusMessage = in.status_message();
    out.attributes.reserve(size_t(in.attributes_size()));
    for (const msrec::SpanAttribute &a : in.attributes())
        out.attributes.push_back(SpanAttribute {a.key(), a.value(), a.resource()});
    return out;
}

ObservedRequest fromProto(const msrec::ObservedRequest &in)
{
    ObservedRequest out;
    out.source = fromProto(in.source());
    out.target = fromProto(in.target());
    out.event = fromProto(in.event());
    return out;
}

void toProto(const PulledEdge &in, msrec::PulledEdge *out)
{
    toProto(in.source, out->mutable_source());
    toProto(in.target, out->mutable_target());
    out->set_protocol(static_cast<uint32_t>(in.protocol));
    toProto(in.stats, out->mutable_stats());
    out->set_mtls(in.mtls);
}

PulledEdge fromProto(const msrec::PulledEdge &in)
{
    PulledEdge out;
    out.source = fromProto(in.source());
    out.target = fromProto(in.target());
    out.protocol = enumFrom(in.protocol(), Protocol::Tcp, Protocol::Unknown);
    out.stats = fromProto(in.stats());
    out.mtls = mtlsFrom(in.mtls());
    return out;
}

}  // namespace meshscope::recordingcodec

#include "traces/accesslogspans.h"

#include <charconv>
#include <cmath>
#include <string>

namespace meshscope {

namespace {

bool traceIdFromHex(const std::string &hex, TraceId &out)
{
    if (hex.size() != 2 * out.size())
        return false;
    TraceId id {};
    for (size_t i = 0; i < id.size(); ++i) {
        const char *first = hex.data() + 2 * i;
        auto [ptr, ec] = std::from_chars(first, first + 2, id[i], 16);
        if (ec != std::errc() || ptr != first + 2)
            return false;
    }
    if (id == TraceId {})
        return false;
    out = id;
    return true;
}

std::string spanName(const RequestEvent &e)
{
    const std::string_view path = std::string_view(e.path).substr(0, e.path.find('?'));
    if (!e.authority.empty() || !path.empty())
        return e.authority + std::string(path);
    return !e.method.empty() ? e.method : std::string(protocolName(e.protocol));
}

}  // namespace

bool spanFromRequest(const ObservedRequest &request, Span &out)
{
    const RequestEvent &e = request.event;
    TraceId traceId;
    if (e.spanId == 0 || !traceIdFromHex(e.traceId, traceId))
        return false;
    const bool server = e.spanKind == SpanKind::Server;
    const NodeRef &self = server ? request.target : request.source;
    const NodeRef &peer = server ? request.source : request.target;

    Span s;
    s.traceId = traceId;
    s.spanId = e.spanId;
    s.parentSpanId = e.parentSpanId;
    s.kind = server ? SpanKind::Server : SpanKind::Client;
    s.status = e.error ? SpanStatus::Error : SpanStatus::Unset;
    s.protocol = e.protocol;
    s.service = self.name;
    s.serviceNamespace = self.ns;
    s.serviceVersion = self.version;
    s.name = spanName(e);
    s.startNs = e.startNs ? e.startNs : e.timeMs > 0 ? uint64_t(e.timeMs) * 1'000'000u : 0;
    const double durationNs = e.durationMs * 1e6;
    s.endNs = s.startNs + (durationNs > 0 && durationNs < 1e18 ? uint64_t(std::llround(durationNs)) : 0);
    if (peer.kind != NodeKind::External)
        s.peer = peer.name;
    s.method = e.method;
    s.path = e.path;
    s.authority = e.authority;
    s.httpStatus = e.httpStatus;
    s.grpcStatus = e.grpcStatus;
    s.mtls = e.mtls;

    s.attributes.push_back({"meshscope.source", kAccessLogSpanSource, false});
    if (!e.upstreamCluster.empty())
        s.attributes.push_back({"envoy.upstream_cluster", e.upstreamCluster, false});
    if (!e.responseFlags.empty())
        s.attributes.push_back({"envoy.response_flags", e.responseFlags, false});
    if (!e.method.empty())
        s.attributes.push_back({"http.request.method", e.method, false});
    if (e.httpStatus > 0)
        s.attributes.push_back({"http.response.status_code", std::to_string(e.httpStatus), false});
    if (e.grpcStatus >= 0)
        s.attributes.push_back({"rpc.grpc.status_code", std::to_string(e.grpcStatus), false});
    out = std::move(s);
    return true;
}

std::vector<Span> spansFromRequests(const std::vector<ObservedRequest> &requests)
{
    std::vector<Span> spans;
    for (const ObservedRequest &r : requests) {
        Span s;
        if (spanFromRequest(r, s))
            spans.push_back(std::move(s));
    }
    return spans;
}

}  // namespace meshscope

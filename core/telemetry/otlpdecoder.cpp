#include "telemetry/otlpdecoder.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <google/protobuf/arena.h>

#include <charconv>
#include <cstring>
#include <unordered_map>

namespace meshscope {

namespace otlp = opentelemetry::proto;

namespace {

enum class Attr : uint8_t {
    PeerService, ServerAddress, NetPeerName, NetworkPeerAddress, DbSystem,
    Method, UrlPath, HttpTarget, HttpRoute, UrlFull,
    HttpHost, NetHostName,
    HttpStatus, GrpcStatus, RpcSystem, RpcService, RpcMethod, GrpcPath,
    RequestBytes, ResponseBytes, SecurityPolicy, ErrorFlag,
};

// Current and older semantic-convention names, and Envoy's own tags.
const std::unordered_map<std::string_view, Attr> &attributeTable()
{
    static const std::unordered_map<std::string_view, Attr> table = {
        {"peer.service", Attr::PeerService}, {"service.peer.name", Attr::PeerService},
        {"server.address", Attr::ServerAddress}, {"net.peer.name", Attr::NetPeerName},
        {"network.peer.address", Attr::NetworkPeerAddress}, {"net.peer.ip", Attr::NetworkPeerAddress},
        {"net.sock.peer.addr", Attr::NetworkPeerAddress}, {"peer.address", Attr::NetworkPeerAddress},
        {"db.system", Attr::DbSystem}, {"db.system.name", Attr::DbSystem},
        {"http.request.method", Attr::Method}, {"http.method", Attr::Method},
        {"url.path", Attr::UrlPath}, {"http.target", Attr::HttpTarget}, {"http.route", Attr::HttpRoute},
        {"url.full", Attr::UrlFull}, {"http.url", Attr::UrlFull},
        {"http.host", Attr::HttpHost}, {"net.host.name", Attr::NetHostName},
        {"http.response.status_code", Attr::HttpStatus}, {"http.status_code", Attr::HttpStatus},
        {"rpc.grpc.status_code", Attr::GrpcStatus}, {"rpc.status_code", Attr::GrpcStatus},
        {"grpc.status_code", Attr::GrpcStatus},
        {"rpc.system", Attr::RpcSystem}, {"rpc.system.name", Attr::RpcSystem},
        {"rpc.service", Attr::RpcService}, {"rpc.method", Attr::RpcMethod}, {"grpc.path", Attr::GrpcPath},
        {"http.request.body.size", Attr::RequestBytes}, {"http.request_content_length", Attr::RequestBytes},
        {"request_size", Attr::RequestBytes},
        {"http.response.body.size", Attr::ResponseBytes}, {"http.response_content_length", Attr::ResponseBytes},
        {"response_size", Attr::ResponseBytes},
        {"connection_security_policy", Attr::SecurityPolicy}, {"error", Attr::ErrorFlag},
    };
    return table;
}

constexpr std::string_view kGrpcCodeNames[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

uint64_t readId64(const std::string &b)
{
    uint64_t v = 0;
    std::memcpy(&v, b.data(), 8);
    return v;
}

std::string_view stringOf(const otlp::common::v1::AnyValue &v)
{
    return v.value_case() == otlp::common::v1::AnyValue::kStringValue ? std::string_view(v.string_value())
                                                                     : std::string_view();
}

// Integer attributes arrive as int_value from SDKs and as strings from Envoy.
int64_t intOf(const otlp::common::v1::AnyValue &v, int64_t fallback = -1)
{
    switch (v.value_case()) {
    case otlp::common::v1::AnyValue::kIntValue:
        return v.int_value();
    case otlp::common::v1::AnyValue::kDoubleValue:
        return int64_t(v.double_value());
    case otlp::common::v1::AnyValue::kStringValue: {
        const std::string &s = v.string_value();
        int64_t out = fallback;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && ptr == s.data() + s.size() ? out : fallback;
    }
    default:
        return fallback;
    }
}

int grpcCodeOf(const otlp::common::v1::AnyValue &v)
{
    const int64_t n = intOf(v, -1);
    if (n >= 0 && n <= 16)
        return int(n);
    std::string_view s = stringOf(v);
    for (size_t i = 0; i < std::size(kGrpcCodeNames); ++i) {
        if (s == kGrpcCodeNames[i])
            return int(i);
    }
    return -1;
}

std::string_view pathOfUrl(std::string_view url)
{
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos)
        return url;
    auto slash = url.find('/', scheme + 3);
    return slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
}

struct ResourceIdentity {
    std::string service, ns, version;
    const char *error = nullptr;
};

ResourceIdentity identityOf(const otlp::resource::v1::Resource &res, const DecodeLimits &limits)
{
    ResourceIdentity id;
    std::string_view service, serviceNs, k8sNs, version;
    for (const auto &kv : res.attributes()) {
        const std::string &k = kv.key();
        if (k == "service.name")
            service = stringOf(kv.value());
        else if (k == "service.namespace")
            serviceNs = stringOf(kv.value());
        else if (k == "k8s.namespace.name")
            k8sNs = stringOf(kv.value());
        else if (k == "service.version")
            version = stringOf(kv.value());
    }
    std::string_view ns = serviceNs.empty() ? k8sNs : serviceNs;
    if (!isValidUtf8(service) || !isValidUtf8(ns) || !isValidUtf8(version))
        id.error = "invalid UTF-8 in resource service.name/namespace/version";
    else if (service.size() > limits.maxNameBytes || ns.size() > limits.maxNameBytes || version.size() > limits.maxNameBytes)
        id.error = "resource service.name/namespace/version too long";
    id.service = service;
    id.ns = ns;
    id.version = version;
    return id;
}

// Returns a rejection reason, or nullptr when the span is usable.
const char *fillSpan(const otlp::trace::v1::Span &in, Span &out, const DecodeLimits &limits, uint64_t nowNs)
{
    if (in.trace_id().size() != 16)
        return "trace_id is not 16 bytes";
    if (in.span_id().size() != 8)
        return "span_id is not 8 bytes";
    if (!in.parent_span_id().empty() && in.parent_span_id().size() != 8)
        return "parent_span_id is not 8 bytes";
    std::memcpy(out.traceId.data(), in.trace_id().data(), 16);
    out.spanId = readId64(in.span_id());
    if (out.spanId == 0 || out.traceId == TraceId{})
        return "all-zero trace_id or span_id";
    out.parentSpanId = in.parent_span_id().empty() ? 0 : readId64(in.parent_span_id());

    const uint64_t start = in.start_time_unix_nano(), end = in.end_time_unix_nano();
    if (start == 0 || end == 0)
        return "missing start or end timestamp";
    if (end < start)
        return "end timestamp before start timestamp";
    if (end - start > limits.maxDurationNs)
        return "span duration over the limit";
    if ((start > nowNs ? start - nowNs : nowNs - start) > limits.maxClockSkewNs)
        return "start timestamp too far from now";
    out.startNs = start;
    out.endNs = end;

    const int kind = int(in.kind());
    out.kind = kind >= 0 && kind <= 5 ? SpanKind(kind) : SpanKind::Unspecified;
    out.status = in.has_status() && in.status().code() == otlp::trace::v1::Status::STATUS_CODE_ERROR ? SpanStatus::Error
        : in.has_status() && in.status().code() == otlp::trace::v1::Status::STATUS_CODE_OK ? SpanStatus::Ok
                                                                                          : SpanStatus::Unset;
    if (!isValidUtf8(in.name()))
        return "invalid UTF-8 in span name";
    if (in.name().size() > limits.maxNameBytes)
        return "span name too long";
    out.name = in.name();

    std::string_view peerService, serverAddress, netPeerName, peerAddress, dbSystem;
    std::string_view urlPath, httpTarget, httpRoute, urlFull, httpHost, netHostName, rpcService, rpcMethod, grpcPath;
    bool grpc = false, http = false;
    const auto &table = attributeTable();
    for (const auto &kv : in.attributes()) {
        auto it = table.find(std::string_view(kv.key()));
        if (it == table.end())
            continue;
        const auto &v = kv.value();
        switch (it->second) {
        case Attr::PeerService: peerService = stringOf(v); break;
        case Attr::ServerAddress: serverAddress = stringOf(v); break;
        case Attr::NetPeerName: netPeerName = stringOf(v); break;
        case Attr::NetworkPeerAddress: peerAddress = stringOf(v); break;
        case Attr::DbSystem: dbSystem = stringOf(v); break;
        case Attr::Method:
            out.method = stringOf(v);
            http = true;
            break;
        case Attr::UrlPath: urlPath = stringOf(v); break;
        case Attr::HttpTarget: httpTarget = stringOf(v); break;
        case Attr::HttpRoute: httpRoute = stringOf(v); break;
        case Attr::UrlFull: urlFull = stringOf(v); break;
        case Attr::HttpHost: httpHost = stringOf(v); break;
        case Attr::NetHostName: netHostName = stringOf(v); break;
        case Attr::HttpStatus:
            out.httpStatus = int(intOf(v));
            if (out.httpStatus < 100 || out.httpStatus > 599)
                out.httpStatus = -1;
            http = true;
            break;
        case Attr::GrpcStatus:
            out.grpcStatus = grpcCodeOf(v);
            grpc = true;
            break;
        case Attr::RpcSystem: grpc = grpc || stringOf(v) == "grpc"; break;
        case Attr::RpcService: rpcService = stringOf(v); break;
        case Attr::RpcMethod: rpcMethod = stringOf(v); break;
        case Attr::GrpcPath: grpcPath = stringOf(v); break;
        case Attr::RequestBytes: out.requestBytes = intOf(v); break;
        case Attr::ResponseBytes: out.responseBytes = intOf(v); break;
        case Attr::SecurityPolicy: {
            auto s = stringOf(v);
            out.mtls = s == "mutual_tls" ? 1 : s == "none" ? 0 : -1;
            break;
        }
        case Attr::ErrorFlag:
            if (stringOf(v) == "true" || (v.value_case() == otlp::common::v1::AnyValue::kBoolValue && v.bool_value()))
                out.status = SpanStatus::Error;
            break;
        }
    }

    // The peer a client span names, in order of how directly it names a service.
    std::string_view peer = !peerService.empty() ? peerService
        : !serverAddress.empty() ? serverAddress
        : !netPeerName.empty() ? netPeerName
        : !peerAddress.empty() ? peerAddress
                               : dbSystem;
    std::string_view path = !grpcPath.empty() ? grpcPath
        : !urlPath.empty() ? urlPath
        : !httpTarget.empty() ? httpTarget
        : !urlFull.empty() ? pathOfUrl(urlFull)
                           : httpRoute;
    std::string grpcMethodPath;
    if (path.empty() && !rpcMethod.empty()) {
        grpcMethodPath.append("/").append(rpcService).append(rpcService.empty() ? "" : "/").append(rpcMethod);
        path = grpcMethodPath;
    }
    std::string_view authority = !httpHost.empty() ? httpHost : !serverAddress.empty() ? serverAddress : netHostName;

    if (!isValidUtf8(peer) || !isValidUtf8(path) || !isValidUtf8(authority) || !isValidUtf8(out.method))
        return "invalid UTF-8 in span attributes";
    if (peer.size() > limits.maxNameBytes)
        return "peer name too long";
    out.peer = peer;
    out.path = path.substr(0, limits.maxValueBytes);
    out.authority = authority.substr(0, limits.maxValueBytes);
    if (out.method.size() > 32)
        out.method.resize(32);
    out.protocol = grpc ? Protocol::Grpc : http ? Protocol::Http : !dbSystem.empty() ? Protocol::Tcp : Protocol::Unknown;
    return nullptr;
}

}  // namespace

bool isValidUtf8(std::string_view s)
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    const auto *end = p + s.size();
    while (p < end) {
        if (*p < 0x80) {
            ++p;
            continue;
        }
        int extra;
        uint32_t cp;
        if ((*p & 0xE0) == 0xC0) {
            extra = 1;
            cp = *p & 0x1F;
        } else if ((*p & 0xF0) == 0xE0) {
            extra = 2;
            cp = *p & 0x0F;
        } else if ((*p & 0xF8) == 0xF0) {
            extra = 3;
            cp = *p & 0x07;
        } else {
            return false;
        }
        if (end - p <= extra)
            return false;
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid.
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)
            || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        p += extra + 1;
    }
    return true;
}

std::string DecodeResult::summary() const
{
    if (malformed)
        return "malformed ExportTraceServiceRequest";
    std::string out;
    if (rejected == 0)
        return out;
    out = std::to_string(rejected) + " of " + std::to_string(received) + " spans rejected: ";
    bool first = true;
    for (const auto &[reason, n] : reasons) {
        if (!first)
            out += "; ";
        first = false;
        out += reason + " (" + std::to_string(n) + ")";
    }
    return out;
}

OtlpDecoder::OtlpDecoder(DecodeLimits limits)
    : m_limits(limits)
{
}

DecodeResult OtlpDecoder::decode(const otlp::collector::trace::v1::ExportTraceServiceRequest &req, uint64_t nowNs) const
{
    DecodeResult r;
    size_t total = 0;
    for (const auto &rs : req.resource_spans()) {
        for (const auto &ss : rs.scope_spans())
            total += size_t(ss.spans_size());
    }
    r.spans.reserve(total);
    for (const auto &rs : req.resource_spans()) {
        const ResourceIdentity id = identityOf(rs.resource(), m_limits);
        for (const auto &ss : rs.scope_spans()) {
            for (const auto &in : ss.spans()) {
                r.received++;
                if (id.error) {
                    r.rejected++;
                    r.reasons[id.error]++;
                    continue;
                }
                Span &out = r.spans.emplace_back();
                if (const char *why = fillSpan(in, out, m_limits, nowNs)) {
                    r.spans.pop_back();
                    r.rejected++;
                    r.reasons[why]++;
                    continue;
                }
                out.service = id.service;
                out.serviceNamespace = id.ns;
                out.serviceVersion = id.version;
            }
        }
    }
    return r;
}

DecodeResult OtlpDecoder::decodeBytes(const void *data, size_t size, uint64_t nowNs) const
{
    google::protobuf::Arena arena;
    auto *req = google::protobuf::Arena::CreateMessage<otlp::collector::trace::v1::ExportTraceServiceRequest>(&arena);
    if (size > size_t(INT32_MAX) || !req->ParseFromArray(data, int(size))) {
        DecodeResult r;
        r.malformed = true;
        return r;
    }
    return decode(*req, nowNs);
}

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

std::string traceIdHex(const TraceId &id)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (size_t i = 0; i < id.size(); ++i) {
        out[2 * i] = kHex[id[i] >> 4];
        out[2 * i + 1] = kHex[id[i] & 0xF];
    }
    return out;
}

}  // namespace meshscope

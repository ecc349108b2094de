#include "telemetry/otlp/otlpdecoder.h"

#include "model/text.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace meshscope {

namespace otlp = opentelemetry::proto;

namespace {

enum class Attr : uint8_t {
    PeerService,
    ServerAddress,
    NetPeerName,
    NetworkPeerAddress,
    DbSystem,
    Method,
    UrlPath,
    HttpTarget,
    HttpRoute,
    UrlFull,
    HttpHost,
    NetHostName,
    HttpStatus,
    GrpcStatus,
    RpcSystem,
    RpcService,
    RpcMethod,
    GrpcPath,
    RequestBytes,
    ResponseBytes,
    SecurityPolicy,
    ErrorFlag,
};

// Current and older semantic-convention names, and Envoy's own tags.
const std::unordered_map<std::string_view, Attr> &attributeTable()
{
    static const std::unordered_map<std::string_view, Attr> table = {
        {"peer.service", Attr::PeerService},
        {"service.peer.name", Attr::PeerService},
        {"server.address", Attr::ServerAddress},
        {"net.peer.name", Attr::NetPeerName},
        {"network.peer.address", Attr::NetworkPeerAddress},
        {"net.peer.ip", Attr::NetworkPeerAddress},
        {"net.sock.peer.addr", Attr::NetworkPeerAddress},
        {"peer.address", Attr::NetworkPeerAddress},
        {"db.system", Attr::DbSystem},
        {"db.system.name", Attr::DbSystem},
        {"http.request.method", Attr::Method},
        {"http.method", Attr::Method},
        {"url.path", Attr::UrlPath},
        {"http.target", Attr::HttpTarget},
        {"http.route", Attr::HttpRoute},
        {"url.full", Attr::UrlFull},
        {"http.url", Attr::UrlFull},
        {"http.host", Attr::HttpHost},
        {"net.host.name", Attr::NetHostName},
        {"http.response.status_code", Attr::HttpStatus},
        {"http.status_code", Attr::HttpStatus},
        {"rpc.grpc.status_code", Attr::GrpcStatus},
        {"rpc.status_code", Attr::GrpcStatus},
        {"grpc.status_code", Attr::GrpcStatus},
        {"rpc.system", Attr::RpcSystem},
        {"rpc.system.name", Attr::RpcSystem},
        {"rpc.service", Attr::RpcService},
        {"rpc.method", Attr::RpcMethod},
        {"grpc.path", Attr::GrpcPath},
        {"http.request.body.size", Attr::RequestBytes},
        {"http.request_content_length", Attr::RequestBytes},
        {"request_size", Attr::RequestBytes},
        {"http.response.body.size", Attr::ResponseBytes},
        {"http.response_content_length", Attr::ResponseBytes},
        {"response_size", Attr::ResponseBytes},
        {"connection_security_policy", Attr::SecurityPolicy},
        {"error", Attr::ErrorFlag},
    };
    return table;
}

constexpr std::string_view kGrpcCodeNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

uint64_t readId64(std::string_view b)
{
    uint64_t v = 0;
    std::memcpy(&v, b.data(), 8);
    return v;
}

// A view of one OTLP AnyValue: strings point into the request bytes or message.
struct ValueView {
    enum class Type : uint8_t { None, String, Bool, Int, Double, Bytes, Array, KvList } type = Type::None;
    std::string_view str;  // String and Bytes
    int64_t i = 0;
    double d = 0;
    bool b = false;
    // Array and KvList: the message itself (parsed path), or its serialized pieces
    // (wire path): protobuf merges a repeated message field by concatenation.
    const otlp::common::v1::AnyValue *msg = nullptr;
    std::vector<std::string_view> pieces;
};

struct AttrView {
    std::string_view key;
    ValueView value;
};

struct SpanView {
    std::string_view traceId, spanId, parentSpanId, name, statusMessage;
    int kind = 0;
    uint64_t start = 0, end = 0;
    int statusCode = 0;
    std::vector<AttrView> attrs;
};

std::string_view stringOf(const ValueView &v) { return v.type == ValueView::Type::String ? v.str : std::string_view(); }

// Integer attributes arrive as int_value from SDKs and as strings from Envoy.
int64_t intOf(const ValueView &v, int64_t fallback = -1)
{
    switch (v.type) {
    case ValueView::Type::Int: return v.i;
    case ValueView::Type::Double: return int64_t(v.d);
    case ValueView::Type::String: {
        int64_t out = fallback;
        auto [ptr, ec] = std::from_chars(v.str.data(), v.str.data() + v.str.size(), out);
        return ec == std::errc() && ptr == v.str.data() + v.str.size() ? out : fallback;
    }
    default: return fallback;
    }
}

int grpcCodeOf(const ValueView &v)
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
    // Rendered once per ResourceSpans and copied onto each of its spans.
    std::vector<SpanAttribute> attributes;
    uint64_t droppedAttributes = 0;
};

const char *collectAttributes(const std::vector<AttrView> &in, bool resource, const DecodeLimits &limits,
    std::vector<SpanAttribute> &out, uint64_t &dropped);

ResourceIdentity identityOf(const std::vector<AttrView> &attrs, const DecodeLimits &limits)
{
    ResourceIdentity id;
    std::string_view service, serviceNs, k8sNs, version;
    for (const AttrView &kv : attrs) {
        if (kv.key == "service.name")
            service = stringOf(kv.value);
        else if (kv.key == "service.namespace")
            serviceNs = stringOf(kv.value);
        else if (kv.key == "k8s.namespace.name")
            k8sNs = stringOf(kv.value);
        else if (kv.key == "service.version")
            version = stringOf(kv.value);
    }
    std::string_view ns = serviceNs.empty() ? k8sNs : serviceNs;
    if (!isValidUtf8(service) || !isValidUtf8(ns) || !isValidUtf8(version))
        id.error = "invalid UTF-8 in resource service.name/namespace/version";
    else if (service.size() > limits.maxNameBytes || ns.size() > limits.maxNameBytes
        || version.size() > limits.maxNameBytes)
        id.error = "resource service.name/namespace/version too long";
    id.service = service;
    id.ns = ns;
    id.version = version;
    if (const char *why = collectAttributes(attrs, true, limits, id.attributes, id.droppedAttributes); why && !id.error)
        id.error = why;
    return id;
}

// The longest prefix of at most max bytes that does not end inside a UTF-8 sequence.
std::string_view truncateUtf8(std::string_view s, size_t max)
{
    if (s.size() <= max)
        return s;
    size_t cut = max;
    while (cut > 0 && (uint8_t(s[cut]) & 0xC0) == 0x80)
        --cut;
    return s.substr(0, cut);
}

// Returns a rejection reason, or nullptr when the span is usable.
const char *fillSpan(const SpanView &in, Span &out, const DecodeLimits &limits, uint64_t nowNs)
{
    if (in.traceId.size() != 16)
        return "trace_id is not 16 bytes";
    if (in.spanId.size() != 8)
        return "span_id is not 8 bytes";
    if (!in.parentSpanId.empty() && in.parentSpanId.size() != 8)
        return "parent_span_id is not 8 bytes";
    std::memcpy(out.traceId.data(), in.traceId.data(), 16);
    out.spanId = readId64(in.spanId);
    if (out.spanId == 0 || out.traceId == TraceId {})
        return "all-zero trace_id or span_id";
    out.parentSpanId = in.parentSpanId.empty() ? 0 : readId64(in.parentSpanId);

    const uint64_t start = in.start, end = in.end;
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

    out.kind = in.kind >= 0 && in.kind <= 5 ? SpanKind(in.kind) : SpanKind::Unspecified;
    out.status = in.statusCode == 2 ? SpanStatus::Error : in.statusCode == 1 ? SpanStatus::Ok : SpanStatus::Unset;
    if (!isValidUtf8(in.name))
        return "invalid UTF-8 in span name";
    if (in.name.size() > limits.maxNameBytes)
        return "span name too long";
    out.name = in.name;

    std::string_view peerService, serverAddress, netPeerName, peerAddress, dbSystem, method;
    std::string_view urlPath, httpTarget, httpRoute, urlFull, httpHost, netHostName, rpcService, rpcMethod, grpcPath;
    bool grpc = false, http = false;
    const auto &table = attributeTable();
    for (const AttrView &kv : in.attrs) {
        auto it = table.find(kv.key);
        if (it == table.end())
            continue;
        const ValueView &v = kv.value;
        switch (it->second) {
        case Attr::PeerService: peerService = stringOf(v); break;
        case Attr::ServerAddress: serverAddress = stringOf(v); break;
        case Attr::NetPeerName: netPeerName = stringOf(v); break;
        case Attr::NetworkPeerAddress: peerAddress = stringOf(v); break;
        case Attr::DbSystem: dbSystem = stringOf(v); break;
        case Attr::Method:
            method = stringOf(v);
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
            if (stringOf(v) == "true" || (v.type == ValueView::Type::Bool && v.b))
                out.status = SpanStatus::Error;
            break;
        }
    }

    // The peer a client span names, in order of how directly it names a service.
    std::string_view peer = !peerService.empty() ? peerService
        : !serverAddress.empty()                 ? serverAddress
        : !netPeerName.empty()                   ? netPeerName
        : !peerAddress.empty()                   ? peerAddress
                                                 : dbSystem;
    std::string_view path = !grpcPath.empty() ? grpcPath
        : !urlPath.empty()                    ? urlPath
        : !httpTarget.empty()                 ? httpTarget
        : !urlFull.empty()                    ? pathOfUrl(urlFull)
                                              : httpRoute;
    std::string grpcMethodPath;
    if (path.empty() && !rpcMethod.empty()) {
        grpcMethodPath.append("/").append(rpcService).append(rpcService.empty() ? "" : "/").append(rpcMethod);
        path = grpcMethodPath;
    }
    std::string_view authority = !httpHost.empty() ? httpHost : !serverAddress.empty() ? serverAddress : netHostName;

    if (!isValidUtf8(peer) || !isValidUtf8(path) || !isValidUtf8(authority) || !isValidUtf8(method))
        return "invalid UTF-8 in span attributes";
    if (peer.size() > limits.maxNameBytes)
        return "peer name too long";
    out.peer = peer;
    out.path = path.substr(0, limits.maxValueBytes);
    out.authority = authority.substr(0, limits.maxValueBytes);
    out.method = method.substr(0, 32);
    out.protocol = grpc     ? Protocol::Grpc
        : http              ? Protocol::Http
        : !dbSystem.empty() ? Protocol::Tcp
                            : Protocol::Unknown;
    out.databaseCall = !dbSystem.empty();

    const std::string_view message = truncateUtf8(in.statusMessage, limits.maxAttributeValueBytes);
    if (!isValidUtf8(message))
        return "invalid UTF-8 in status message";
    out.statusMessage = message;
    return nullptr;
}

// ---- views from a parsed message (reference path, used by tests) ----

ValueView viewOf(const otlp::common::v1::AnyValue &v)
{
    ValueView out;
    switch (v.value_case()) {
    case otlp::common::v1::AnyValue::kStringValue:
        out.type = ValueView::Type::String;
        out.str = v.string_value();
        break;
    case otlp::common::v1::AnyValue::kBoolValue:
        out.type = ValueView::Type::Bool;
        out.b = v.bool_value();
        break;
    case otlp::common::v1::AnyValue::kIntValue:
        out.type = ValueView::Type::Int;
        out.i = v.int_value();
        break;
    case otlp::common::v1::AnyValue::kDoubleValue:
        out.type = ValueView::Type::Double;
        out.d = v.double_value();
        break;
    case otlp::common::v1::AnyValue::kBytesValue:
        out.type = ValueView::Type::Bytes;
        out.str = v.bytes_value();
        break;
    case otlp::common::v1::AnyValue::kArrayValue:
        out.type = ValueView::Type::Array;
        out.msg = &v;
        break;
    case otlp::common::v1::AnyValue::kKvlistValue:
        out.type = ValueView::Type::KvList;
        out.msg = &v;
        break;
    case otlp::common::v1::AnyValue::VALUE_NOT_SET: break;
    }
    return out;
}

void viewAttributes(
    const google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue> &in, std::vector<AttrView> &out)
{
    out.clear();
    for (const auto &kv : in)
        out.push_back({kv.key(), viewOf(kv.value())});
}

// ---- views straight from the wire (fast path: no allocation per field) ----

// Minimal protobuf wire reader over a flat buffer. Any structural error (truncated
// varint, length past the end, group or reserved wire types) marks the whole
// message malformed, as protobuf's own parser would.
class WireReader {
public:
    WireReader(const char *p, const char *end)
        : m_p(p)
        , m_end(end)
    {
    }
    bool atEnd() const { return m_p >= m_end; }
    bool failed() const { return m_failed; }

    // Reads the next tag; false at the end or on error.
    bool next(uint32_t &field, uint32_t &wireType)
    {
        if (m_p >= m_end || m_failed)
            return false;
        // Tags are at most five bytes and keep their low 32 bits, as protobuf reads them.
        uint32_t tag = 0;
        for (int i = 0;; ++i) {
            if (i == 5 || m_p >= m_end)
                return fail();
            const uint8_t byte = uint8_t(*m_p++);
            tag |= uint32_t(byte & 0x7F) << (7 * i);
            if (!(byte & 0x80))
                break;
        }
        if ((tag >> 3) == 0)
            return fail();
        field = tag >> 3;
        wireType = tag & 7;
        return true;
    }
    bool varint(uint64_t &v)
    {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p >= m_end)
                return fail();
            const uint8_t byte = uint8_t(*m_p++);
            v |= uint64_t(byte & 0x7F) << shift;
            if (!(byte & 0x80))
                return true;
        }
        return fail();
    }
    bool fixed64(uint64_t &v)
    {
        if (m_end - m_p < 8)
            return fail();
        std::memcpy(&v, m_p, 8);
        m_p += 8;
        return true;
    }
    bool bytes(std::string_view &v)
    {
        uint64_t len = 0;
        if (!varint(len) || len > uint64_t(m_end - m_p))
            return fail();
        v = std::string_view(m_p, size_t(len));
        m_p += len;
        return true;
    }
    // Skips one field's value. field is needed to find the end of a group.
    bool skip(uint32_t wireType, uint32_t field = 0, int depth = 0)
    {
        uint64_t ignored = 0;
        std::string_view view;
        switch (wireType) {
        case 0: return varint(ignored);
        case 1: return advance(8);
        case 2: return bytes(view);
        case 5: return advance(4);
        case 3: {
            // Legacy groups are not part of OTLP, but protobuf skips unknown ones, so do we.
            if (depth >= kMaxGroupDepth)
                return fail();
            uint32_t f, wt;
            while (next(f, wt)) {
                if (wt == 4)
                    return f == field ? true : fail();
                if (!skip(wt, f, depth + 1))
                    return false;
            }
            return fail();
        }
        default: return fail();  // a stray end-group, or wire types 6 and 7 that do not exist
        }
    }

private:
    static constexpr int kMaxGroupDepth = 100;  // protobuf's own recursion limit
    bool advance(size_t n)
    {
        if (size_t(m_end - m_p) < n)
            return fail();
        m_p += n;
        return true;
    }
    bool fail()
    {
        m_failed = true;
        return false;
    }
    const char *m_p;
    const char *m_end;
    bool m_failed = false;
};

bool readAnyValue(std::string_view bytes, ValueView &out)
{
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    uint32_t f, wt;
    while (r.next(f, wt)) {
        uint64_t v = 0;
        if (f == 1 && wt == 2) {
            out.type = ValueView::Type::String;
            if (!r.bytes(out.str))
                return false;
        } else if ((f == 2 || f == 3) && wt == 0) {
            if (!r.varint(v))
                return false;
            out.type = f == 2 ? ValueView::Type::Bool : ValueView::Type::Int;
            out.b = v != 0;
            out.i = int64_t(v);
        } else if (f == 4 && wt == 1) {
            if (!r.fixed64(v))
                return false;
            out.type = ValueView::Type::Double;
            std::memcpy(&out.d, &v, 8);
        } else if (f == 7 && wt == 2) {
            out.type = ValueView::Type::Bytes;
            if (!r.bytes(out.str))
                return false;
        } else if ((f == 5 || f == 6) && wt == 2) {
            const auto type = f == 5 ? ValueView::Type::Array : ValueView::Type::KvList;
            std::string_view sub;
            if (!r.bytes(sub))
                return false;
            if (out.type != type)
                out.pieces.clear();  // another member of the oneof was set in between
            out.type = type;
            out.pieces.push_back(sub);
        } else if (!r.skip(wt, f)) {
            return false;
        }
    }
    return !r.failed();
}

bool readKeyValue(std::string_view bytes, AttrView &out)
{
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    uint32_t f, wt;
    out = AttrView {};
    while (r.next(f, wt)) {
        if (f == 1 && wt == 2) {
            if (!r.bytes(out.key))
                return false;
        } else if (f == 2 && wt == 2) {
            std::string_view value;
            if (!r.bytes(value) || !readAnyValue(value, out.value))
                return false;
        } else if (!r.skip(wt, f)) {
            return false;
        }
    }
    return !r.failed();
}

bool readResource(std::string_view bytes, std::vector<AttrView> &attrs)
{
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    uint32_t f, wt;
    while (r.next(f, wt)) {
        if (f == 1 && wt == 2) {
            std::string_view kv;
            AttrView a;
            if (!r.bytes(kv) || !readKeyValue(kv, a))
                return false;
            attrs.push_back(std::move(a));
        } else if (!r.skip(wt, f)) {
            return false;
        }
    }
    return !r.failed();
}

bool readStatus(std::string_view bytes, int &code, std::string_view &message)
{
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    uint32_t f, wt;
    while (r.next(f, wt)) {
        uint64_t v = 0;
        if (f == 2 && wt == 2) {
            if (!r.bytes(message))
                return false;
        } else if (f == 3 && wt == 0) {
            if (!r.varint(v))
                return false;
            code = int(int32_t(v));
        } else if (!r.skip(wt, f)) {
            return false;
        }
    }
    return !r.failed();
}

bool readSpan(std::string_view bytes, SpanView &s)
{
    s.traceId = s.spanId = s.parentSpanId = s.name = s.statusMessage = {};
    s.kind = 0;
    s.start = s.end = 0;
    s.statusCode = 0;
    s.attrs.clear();
    WireReader r(bytes.data(), bytes.data() + bytes.size());
    uint32_t f, wt;
    while (r.next(f, wt)) {
        bool ok = true;
        uint64_t v = 0;
        std::string_view sub;
        if (wt == 2 && (f == 1 || f == 2 || f == 4 || f == 5 || f == 9 || f == 15)) {
            ok = r.bytes(sub);
            if (ok) {
                switch (f) {
                case 1: s.traceId = sub; break;
                case 2: s.spanId = sub; break;
                case 4: s.parentSpanId = sub; break;
                case 5: s.name = sub; break;
                case 9: {
                    AttrView a;
                    ok = readKeyValue(sub, a);
                    s.attrs.push_back(std::move(a));
                    break;
                }
                case 15: ok = readStatus(sub, s.statusCode, s.statusMessage); break;
                }
            }
        } else if (f == 6 && wt == 0) {
            ok = r.varint(v);
            s.kind = int(int32_t(v));
        } else if ((f == 7 || f == 8) && wt == 1) {
            ok = r.fixed64(v);
            (f == 7 ? s.start : s.end) = v;
        } else {
            ok = r.skip(wt, f);
        }
        if (!ok)
            return false;
    }
    return !r.failed();
}

// ---- attribute values as text (both paths) ----

// Arrays and key-value lists are written as compact JSON; nesting past this depth is
// elided, so that a hostile value cannot make rendering recurse as deep as protobuf nests.
constexpr int kMaxRenderDepth = 8;

void appendInt(int64_t v, std::string &out)
{
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

void appendDouble(double v, std::string &out)
{
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
    out.append(buf, ec == std::errc() ? end : buf);
}

void appendBase64(std::string_view bytes, std::string &out, size_t limit)
{
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < bytes.size() && out.size() <= limit; i += 3) {
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (n > 1)
            v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        if (n > 2)
            v |= uint8_t(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
        out += n > 2 ? kAlphabet[v & 63] : '=';
    }
}

void appendQuoted(std::string_view s, std::string &out, size_t limit)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size() && out.size() <= limit; ++i) {
        const char c = s[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (uint8_t(c) < 0x20) {
            out += "\\u00";
            out += kHex[uint8_t(c) >> 4];
            out += kHex[uint8_t(c) & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
}

void appendJson(const ValueView &v, int depth, std::string &out, size_t limit);

// Calls fn(value) for each element of an array value, fn(key, value) for each entry
// of a key-value list, until fn returns false.
template <typename Fn>
void forEachElement(const ValueView &v, Fn &&fn)
{
    if (v.msg) {
        if (v.type == ValueView::Type::Array) {
            for (const auto &e : v.msg->array_value().values()) {
                if (!fn(std::string_view(), viewOf(e)))
                    return;
            }
        } else {
            for (const auto &kv : v.msg->kvlist_value().values()) {
                if (!fn(std::string_view(kv.key()), viewOf(kv.value())))
                    return;
            }
        }
        return;
    }
    // Wire path: ArrayValue and KeyValueList both hold their elements in field 1.
    for (std::string_view piece : v.pieces) {
        WireReader r(piece.data(), piece.data() + piece.size());
        uint32_t f, wt;
        while (r.next(f, wt)) {
            if (!(f == 1 && wt == 2)) {
                if (!r.skip(wt, f))
                    return;
                continue;
            }
            std::string_view sub;
            if (!r.bytes(sub))
                return;
            // Malformed nested bytes: protobuf refuses the whole request, so what is
            // written here is never compared; stop quietly.
            if (v.type == ValueView::Type::Array) {
                ValueView e;
                if (!readAnyValue(sub, e) || !fn(std::string_view(), e))
                    return;
            } else {
                AttrView kv;
                if (!readKeyValue(sub, kv) || !fn(kv.key, kv.value))
                    return;
            }
        }
    }
}

void appendJson(const ValueView &v, int depth, std::string &out, size_t limit)
{
    switch (v.type) {
    case ValueView::Type::None: out += "null"; break;
    case ValueView::Type::String: appendQuoted(v.str, out, limit); break;
    case ValueView::Type::Bool: out += v.b ? "true" : "false"; break;
    case ValueView::Type::Int: appendInt(v.i, out); break;
    case ValueView::Type::Double: appendDouble(v.d, out); break;
    case ValueView::Type::Bytes:
        out += '"';
        appendBase64(v.str, out, limit);
        out += '"';
        break;
    case ValueView::Type::Array:
    case ValueView::Type::KvList: {
        const bool array = v.type == ValueView::Type::Array;
        if (depth >= kMaxRenderDepth) {
            out += array ? "[...]" : "{...}";
            break;
        }
        out += array ? '[' : '{';
        bool first = true;
        forEachElement(v, [&](std::string_view key, const ValueView &e) {
            if (!first)
                out += ',';
            first = false;
            if (!array) {
                appendQuoted(key, out, limit);
                out += ':';
            }
            appendJson(e, depth + 1, out, limit);
            return out.size() <= limit;
        });
        out += array ? ']' : '}';
        break;
    }
    }
}

// The attribute value as the trace view shows it: scalars written out, strings as
// they are, bytes in base64 (as OTLP/JSON writes them), arrays and lists as JSON.
void renderValue(const ValueView &v, size_t limit, std::string &out)
{
    switch (v.type) {
    case ValueView::Type::None: out.clear(); return;
    case ValueView::Type::String: out.assign(truncateUtf8(v.str, limit)); return;
    case ValueView::Type::Bool: out.assign(v.b ? "true" : "false"); return;
    case ValueView::Type::Int: appendInt(v.i, out); return;
    case ValueView::Type::Double: appendDouble(v.d, out); return;
    case ValueView::Type::Bytes: appendBase64(v.str, out, limit); break;
    case ValueView::Type::Array:
    case ValueView::Type::KvList: appendJson(v, 0, out, limit); break;
    }
    if (out.size() > limit)
        out.resize(truncateUtf8(out, limit).size());
}

// isValidUtf8 with an ASCII fast path: nearly every key and value is ASCII, and
// this runs for every attribute of every span.
bool isValidText(std::string_view s)
{
    uint64_t bits = 0;
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t word;
        std::memcpy(&word, s.data() + i, 8);
        bits |= word;
    }
    for (; i < s.size(); ++i)
        bits |= uint8_t(s[i]);
    return (bits & 0x8080808080808080ull) == 0 || isValidUtf8(s);
}

// Appends the attributes kept of in to out; returns a rejection reason for invalid UTF-8.
const char *collectAttributes(const std::vector<AttrView> &in, bool resource, const DecodeLimits &limits,
    std::vector<SpanAttribute> &out, uint64_t &dropped)
{
    const char *invalid = resource ? "invalid UTF-8 in resource attributes" : "invalid UTF-8 in span attributes";
    size_t kept = 0;
    for (const AttrView &kv : in) {
        if (kept == limits.maxAttributes || kv.key.size() > limits.maxAttributeKeyBytes) {
            ++dropped;
            continue;
        }
        if (!isValidText(kv.key))
            return invalid;
        SpanAttribute &a = out.emplace_back();
        a.key = kv.key;
        a.resource = resource;
        renderValue(kv.value, limits.maxAttributeValueBytes, a.value);
        if (!isValidText(a.value))
            return invalid;
        ++kept;
    }
    return nullptr;
}

}  // namespace

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

namespace {

// Shared by both paths: accounts for one span given its resource identity.
void acceptSpan(
    DecodeResult &r, const ResourceIdentity &id, const SpanView &view, const DecodeLimits &limits, uint64_t nowNs)
{
    r.received++;
    if (id.error) {
        r.rejected++;
        r.reasons[id.error]++;
        return;
    }
    Span &out = r.spans.emplace_back();
    uint64_t dropped = 0;
    const char *why = fillSpan(view, out, limits, nowNs);
    if (!why) {
        out.attributes.reserve(std::min(view.attrs.size(), limits.maxAttributes) + id.attributes.size());
        why = collectAttributes(view.attrs, false, limits, out.attributes, dropped);
    }
    if (why) {
        r.spans.pop_back();
        r.rejected++;
        r.reasons[why]++;
        return;
    }
    out.attributes.insert(out.attributes.end(), id.attributes.begin(), id.attributes.end());
    r.droppedAttributes += dropped + id.droppedAttributes;
    out.service = id.service;
    out.serviceNamespace = id.ns;
    out.serviceVersion = id.version;
}

}  // namespace

DecodeResult OtlpDecoder::decode(const otlp::collector::trace::v1::ExportTraceServiceRequest &req, uint64_t nowNs) const
{
    DecodeResult r;
    size_t total = 0;
    for (const auto &rs : req.resource_spans()) {
        for (const auto &ss : rs.scope_spans())
            total += size_t(ss.spans_size());
    }
    r.spans.reserve(total);
    std::vector<AttrView> resourceAttrs;
    SpanView view;
    for (const auto &rs : req.resource_spans()) {
        viewAttributes(rs.resource().attributes(), resourceAttrs);
        const ResourceIdentity id = identityOf(resourceAttrs, m_limits);
        for (const auto &ss : rs.scope_spans()) {
            for (const auto &in : ss.spans()) {
                view.traceId = in.trace_id();
                view.spanId = in.span_id();
                view.parentSpanId = in.parent_span_id();
                view.name = in.name();
                view.kind = int(in.kind());
                view.start = in.start_time_unix_nano();
                view.end = in.end_time_unix_nano();
                view.statusCode = in.has_status() ? int(in.status().code()) : 0;
                view.statusMessage = in.has_status() ? std::string_view(in.status().message()) : std::string_view();
                viewAttributes(in.attributes(), view.attrs);
                acceptSpan(r, id, view, m_limits, nowNs);
            }
        }
    }
    return r;
}

DecodeResult OtlpDecoder::decodeBytes(const void *data, size_t size, uint64_t nowNs) const
{
    DecodeResult r;
    auto malformed = [&r] {
        r = DecodeResult {};
        r.malformed = true;
        return r;
    };
    // A typical span is 200-400 bytes on the wire; reserving for the small end spares
    // the late doubling of a vector of several hundred kilobytes.
    r.spans.reserve(size / 192);
    const char *begin = static_cast<const char *>(data);
    WireReader top(begin, begin + size);
    std::vector<AttrView> resourceAttrs;
    std::vector<std::string_view> scopes;
    SpanView view;
    uint32_t f, wt;
    while (top.next(f, wt)) {
        std::string_view rsBytes;
        if (!(f == 1 && wt == 2)) {
            if (!top.skip(wt, f))
                return malformed();
            continue;
        }
        if (!top.bytes(rsBytes))
            return malformed();
        // The resource may follow its spans on the wire: collect both first.
        resourceAttrs.clear();
        scopes.clear();
        WireReader rs(rsBytes.data(), rsBytes.data() + rsBytes.size());
        while (rs.next(f, wt)) {
            std::string_view sub;
            if (wt == 2 && (f == 1 || f == 2)) {
                if (!rs.bytes(sub) || (f == 1 && !readResource(sub, resourceAttrs)))
                    return malformed();
                if (f == 2)
                    scopes.push_back(sub);
            } else if (!rs.skip(wt, f)) {
                return malformed();
            }
        }
        if (rs.failed())
            return malformed();
        const ResourceIdentity id = identityOf(resourceAttrs, m_limits);
        for (std::string_view scope : scopes) {
            WireReader ss(scope.data(), scope.data() + scope.size());
            while (ss.next(f, wt)) {
                std::string_view spanBytes;
                if (f == 2 && wt == 2) {
                    if (!ss.bytes(spanBytes) || !readSpan(spanBytes, view))
                        return malformed();
                    acceptSpan(r, id, view, m_limits, nowNs);
                } else if (!ss.skip(wt, f)) {
                    return malformed();
                }
            }
            if (ss.failed())
                return malformed();
        }
    }
    if (top.failed())
        return malformed();
    return r;
}

}  // namespace meshscope

#include "telemetry/als/alsdecoder.h"

#include "envoy/service/accesslog/v3/als.pb.h"
#include "model/text.h"

#include <google/protobuf/arena.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace meshscope {

namespace als = envoy::service::accesslog::v3;
namespace alog = envoy::data::accesslog::v3;
namespace core = envoy::config::core::v3;

namespace {

constexpr std::string_view kUnknownName = "unknown";

NodeRef unknownWorkload()
{
    NodeRef r;
    r.name = kUnknownName;
    return r;
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> out;
    size_t start = 0;
    for (;;) {
        const size_t p = s.find(sep, start);
        out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
        if (p == std::string_view::npos)
            return out;
        start = p + 1;
    }
}

bool mentionsGateway(std::string_view s)
{
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return lower.find("gateway") != std::string::npos || lower.find("ingress") != std::string::npos
        || lower.find("egress") != std::string::npos;
}

bool allOf(std::string_view s, bool (*pred)(char)) { return !s.empty() && std::all_of(s.begin(), s.end(), pred); }

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Kubernetes' alphabet for generated name suffixes: no vowels, no 0/1/3.
bool isSafeSuffixChar(char c)
{
    return std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c) != std::string_view::npos;
}

// "v1", "v2beta", "v1.2": what a version label or a Deployment suffix looks like.
bool looksLikeVersion(std::string_view s)
{
    return s.size() >= 2 && s[0] == 'v' && isDigit(s[1])
        && std::all_of(s.begin(), s.end(), [](char c) { return isLowerAlnum(c) || c == '.'; });
}

// Cuts at most max bytes without splitting a UTF-8 sequence.
std::string truncateUtf8(std::string_view s, size_t max)
{
    if (s.size() <= max)
        return std::string(s);
    size_t n = max;
    while (n > 0 && (uint8_t(s[n]) & 0xC0) == 0x80)
        --n;
    return std::string(s.substr(0, n));
}

// "api.example.com:443" -> "api.example.com"; "[::1]:80" -> "::1"; "fe80::1" stays.
std::string_view hostOfAuthority(std::string_view a)
{
    if (!a.empty() && a.front() == '[') {
        const size_t close = a.find(']');
        return close == std::string_view::npos ? a.substr(1) : a.substr(1, close - 1);
    }
    if (std::count(a.begin(), a.end(), ':') == 1)
        a = a.substr(0, a.find(':'));
    while (!a.empty() && a.back() == '.')
        a.remove_suffix(1);
    return a;
}

std::string_view hostOfAddress(const core::Address &a)
{
    return a.has_socket_address() ? std::string_view(a.socket_address().address()) : std::string_view();
}

// A host named by a cluster or a request: Kubernetes service FQDNs
// (name.ns.svc[.domain], also pod.name.ns.svc... of headless services) are mesh
// services; other dotted names and IP addresses are outside hosts; a bare name is a
// service in the Envoy's own namespace.
NodeRef hostRef(std::string_view host, std::string_view subset, const std::string &defaultNs)
{
    NodeRef r;
    while (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    if (host.find(':') != std::string_view::npos) {  // IPv6 literal
        r.kind = NodeKind::ExternalService;
        r.name = host;
        return r;
    }
    const std::vector<std::string_view> labels = split(host, '.');
    if (labels.size() == 1) {
        r.name = host;
        r.ns = defaultNs;
        r.version = subset;
        return r;
    }
    for (size_t i = 2; i < labels.size(); ++i) {
        if (labels[i] == "svc" && !labels[i - 2].empty() && !labels[i - 1].empty()) {
            r.name = labels[i - 2];
            r.ns = labels[i - 1];
            r.version = subset;
            return r;
        }
    }
    r.kind = NodeKind::ExternalService;
    r.name = host;
    return r;
}

// Byte counts are the sender's word: absurd ones saturate instead of wrapping.
int64_t byteSum(uint64_t a, uint64_t b)
{
    const uint64_t max = uint64_t(INT64_MAX);
    return int64_t(a >= max || b >= max - a ? max : a + b);
}

double durationMs(const google::protobuf::Duration &d)
{
    return double(d.seconds()) * 1000.0 + double(d.nanos()) / 1e6;
}

constexpr std::string_view kMethodNames[]
    = {"", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

std::string_view methodName(int m)
{
    return m >= 0 && size_t(m) < std::size(kMethodNames) ? kMethodNames[m] : std::string_view();
}

// Flags that mean the request or connection failed, whatever the status code says.
// Left out: DI, FI (a fault's abort shows in the status), RL, UAEX, IH, DPE (4xx, the
// caller's doing) and RFCF (a cache hit).
bool failureFlags(const alog::ResponseFlags &f)
{
    return f.failed_local_healthcheck() || f.no_healthy_upstream() || f.upstream_request_timeout() || f.local_reset()
        || f.upstream_remote_reset() || f.upstream_connection_failure() || f.upstream_connection_termination()
        || f.upstream_overflow() || f.no_route_found() || f.rate_limit_service_error()
        || f.downstream_connection_termination() || f.upstream_retry_limit_exceeded() || f.stream_idle_timeout()
        || f.upstream_max_stream_duration_reached() || f.no_filter_config_found() || f.duration_timeout()
        || f.upstream_protocol_error() || f.no_cluster_found() || f.overload_manager() || f.dns_resolution_failure()
        || f.downstream_remote_reset();
}

const std::string *findHeader(
    const google::protobuf::RepeatedPtrField<alog::MeshscopeHeaderEntry> &headers, std::string_view key)
{
    for (const auto &h : headers) {
        if (h.key() == key)
            return &h.value();
    }
    return nullptr;
}

int grpcStatusOf(const std::string *v)
{
    if (!v)
        return -1;
    int out = -1;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    return ec == std::errc() && ptr == v->data() + v->size() && out >= 0 && out <= 16 ? out : -1;
}

// "/pkg.Service/Method": gRPC's path shape.
bool looksLikeGrpcPath(std::string_view p)
{
    if (p.size() < 4 || p.front() != '/')
        return false;
    const size_t slash = p.find('/', 1);
    return slash != std::string_view::npos && slash > 1 && slash + 1 < p.size()
        && p.find('/', slash + 1) == std::string_view::npos && p.find('?') == std::string_view::npos;
}

bool isLowerHex(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return isDigit(c) || (c >= 'a' && c <= 'f'); });
}

bool allZeros(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// 16 lowercase hex digits, not all zero -> the id as span ids are kept: the 8 bytes in
// wire order in the integer's memory (model/span.h spanIdHex gives the text back).
bool parseSpanId(std::string_view hex, uint64_t &out)
{
    if (hex.size() != 16 || !isLowerHex(hex) || allZeros(hex))
        return false;
    uint8_t bytes[8];
    for (size_t i = 0; i < 8; ++i) {
        auto [ptr, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, bytes[i], 16);
        if (ec != std::errc() || ptr != hex.data() + 2 * i + 2)
            return false;
    }
    std::memcpy(&out, bytes, 8);
    return true;
}

// A trace id of 32 (or, from B3, 16: left-padded with zeros) lowercase hex digits, not
// all zero -> the 32-digit form RequestEvent::traceId holds.
bool parseTraceId(std::string_view hex, bool allow64, std::string &out)
{
    if (!(hex.size() == 32 || (allow64 && hex.size() == 16)) || !isLowerHex(hex) || allZeros(hex))
        return false;
    out.assign(32 - hex.size(), '0');
    out.append(hex);
    return true;
}

// The trace an entry belongs to and the span that called it, from its request headers.
struct TraceContext {
    std::string traceId;  // 32 lowercase hex digits; empty: none
    uint64_t parentSpanId = 0;  // the caller's span; 0 = none (x-request-id)
};

enum class Parsed : uint8_t { Absent, Ok, Malformed };

// W3C Trace Context: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>". A later
// version may append fields after a dash; version ff is invalid.
Parsed parseTraceparent(const std::string *v, TraceContext &out)
{
    if (!v)
        return Parsed::Absent;
    const std::string_view s = *v;
    if (s.size() < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return Parsed::Malformed;
    const std::string_view version = s.substr(0, 2);
    if (!isLowerHex(version) || version == "ff" || (version == "00" ? s.size() != 55 : s.size() > 55 && s[55] != '-'))
        return Parsed::Malformed;
    if (!isLowerHex(s.substr(53, 2)) || !parseSpanId(s.substr(36, 16), out.parentSpanId)
        || !parseTraceId(s.substr(3, 32), false, out.traceId))
        return Parsed::Malformed;
    return Parsed::Ok;
}

// B3 single header: "<trace id>-<span id>[-<sampling>[-<parent span id>]]", or just a
// sampling decision ("0", "1", "d"), which names no trace. The span id is the
// caller's span: the entry's span is its child (as OpenTelemetry's B3 propagator reads it).
Parsed parseB3Single(const std::string *v, TraceContext &out)
{
    if (!v)
        return Parsed::Absent;
    if (v->size() <= 1)
        return v->empty() || *v == "0" || *v == "1" || *v == "d" ? Parsed::Absent : Parsed::Malformed;
    const std::vector<std::string_view> parts = split(*v, '-');
    if (parts.size() < 2 || parts.size() > 4)
        return Parsed::Malformed;
    if (parts.size() >= 3 && parts[2] != "0" && parts[2] != "1" && parts[2] != "d")
        return Parsed::Malformed;
    uint64_t grandparent = 0;
    if (parts.size() == 4 && !parseSpanId(parts[3], grandparent))
        return Parsed::Malformed;
    if (!parseSpanId(parts[1], out.parentSpanId) || !parseTraceId(parts[0], true, out.traceId))
        return Parsed::Malformed;
    return Parsed::Ok;
}

// B3 multi-header: x-b3-traceid (64 or 128 bits) with x-b3-spanid, the caller's span;
// x-b3-parentspanid, when present, must be well-formed but names the caller's parent.
Parsed parseB3Multi(const google::protobuf::RepeatedPtrField<alog::MeshscopeHeaderEntry> &headers, TraceContext &out)
{
    const std::string *traceId = findHeader(headers, "x-b3-traceid");
    const std::string *spanId = findHeader(headers, "x-b3-spanid");
    const std::string *parent = findHeader(headers, "x-b3-parentspanid");
    if (!traceId && !spanId)
        return Parsed::Absent;
    uint64_t grandparent = 0;
    if (!traceId || !spanId || !parseTraceId(*traceId, true, out.traceId) || !parseSpanId(*spanId, out.parentSpanId)
        || (parent && !parseSpanId(*parent, grandparent)))
        return Parsed::Malformed;
    return Parsed::Ok;
}

// x-request-id as a trace id: a UUID ("8-4-4-4-12" hex digits, any case) is 32 hex
// digits once the dashes are gone. No parent: the id says nothing of the caller's span.
Parsed parseRequestId(std::string_view v, TraceContext &out)
{
    if (v.empty())
        return Parsed::Absent;
    std::string hex;
    hex.reserve(32);
    for (const char c : v) {
        if (c == '-')
            continue;
        if (hex.size() == 32)
            return Parsed::Malformed;
        hex.push_back(char(std::tolower(static_cast<unsigned char>(c))));
    }
    out.parentSpanId = 0;
    return parseTraceId(hex, false, out.traceId) ? Parsed::Ok : Parsed::Malformed;
}

// Envoy's short codes of the flags set, comma-separated as %RESPONSE_FLAGS% writes them.
std::string responseFlagCodes(const alog::ResponseFlags &f)
{
    const std::pair<bool, const char *> flags[]
        = {{f.failed_local_healthcheck(), "LH"}, {f.no_healthy_upstream(), "UH"}, {f.upstream_request_timeout(), "UT"},
            {f.local_reset(), "LR"}, {f.upstream_remote_reset(), "UR"}, {f.upstream_connection_failure(), "UF"},
            {f.upstream_connection_termination(), "UC"}, {f.upstream_overflow(), "UO"}, {f.no_route_found(), "NR"},
            {f.delay_injected(), "DI"}, {f.fault_injected(), "FI"}, {f.rate_limited(), "RL"},
            {f.has_unauthorized_details(), "UAEX"}, {f.rate_limit_service_error(), "RLSE"},
            {f.downstream_connection_termination(), "DC"}, {f.upstream_retry_limit_exceeded(), "URX"},
            {f.stream_idle_timeout(), "SI"}, {f.invalid_envoy_request_headers(), "IH"},
            {f.downstream_protocol_error(), "DPE"}, {f.upstream_max_stream_duration_reached(), "UMSDR"},
            {f.response_from_cache_filter(), "RFCF"}, {f.no_filter_config_found(), "NFCF"},
            {f.duration_timeout(), "DT"}, {f.upstream_protocol_error(), "UPE"}, {f.no_cluster_found(), "NC"},
            {f.overload_manager(), "OM"}, {f.dns_resolution_failure(), "DF"},
            {f.downstream_remote_reset(), "DR"}};  // DR: the short code is unverified (PROTOCOLS.md §2)
    std::string out;
    for (const auto &[set, code] : flags) {
        if (set)
            out.append(out.empty() ? "" : ",").append(code);
    }
    return out;
}

// FNV-1a, 64 bits, then splitmix64's finalizer to spread the bits.
class IdHash {
public:
    void add(std::string_view s)
    {
        for (const char c : s)
            byte(uint8_t(c));
        byte(0x1f);  // a separator, so ("ab", "c") and ("a", "bc") differ
    }
    void add(uint64_t v)
    {
        for (int i = 0; i < 8; ++i)
            byte(uint8_t(v >> (8 * i)));
    }
    uint64_t value() const
    {
        uint64_t z = m_h + 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return z ? z : 1;  // 0 means "no span"
    }

private:
    void byte(uint8_t b)
    {
        m_h ^= b;
        m_h *= 0x100000001B3ull;
    }
    uint64_t m_h = 0xCBF29CE484222325ull;
};

// What every entry carries, checked and converted.
struct Common {
    int64_t timeMs = 0;
    double durationMs = 0;
    double upstreamMs = -1;  // first byte sent upstream to last byte back; -1 unknown
    double upstreamStartMs = -1;  // when the first byte went upstream, from the start; -1 unknown
    uint64_t startNs = 0;  // the start to the nanosecond; 0 before the epoch
    std::string_view cluster;
    int8_t downstreamMtls = -1;  // -1 no TLS properties, 0 TLS without a peer SAN, 1 peer SAN
    bool meshPeer = false;  // the peer's SAN is a SPIFFE identity
    bool failed = false;  // a failure response flag
};

// Returns a rejection reason, or nullptr when the entry is usable.
const char *readCommon(
    const alog::AccessLogCommon &c, bool tcp, const AlsDecodeLimits &limits, int64_t nowMs, Common &out)
{
    out.timeMs = nowMs;
    if (c.has_start_time()) {
        const auto &t = c.start_time();
        // Bounded first so that the multiplication cannot overflow.
        constexpr int64_t kMaxSeconds = 1'000'000'000'000ll;
        if (t.seconds() > kMaxSeconds || t.seconds() < -kMaxSeconds || t.nanos() < 0 || t.nanos() > 999'999'999)
            return "start time too far from now";
        out.timeMs = t.seconds() * 1000 + t.nanos() / 1'000'000;
        if (std::abs(out.timeMs - nowMs) > limits.maxClockSkewMs)
            return "start time too far from now";
        if (t.seconds() >= 0)
            out.startNs = uint64_t(t.seconds()) * 1'000'000'000u + uint64_t(t.nanos());
    } else if (nowMs > 0) {
        out.startNs = uint64_t(nowMs) * 1'000'000u;
    }
    const google::protobuf::Duration *d = c.has_duration() ? &c.duration()
        : c.has_time_to_last_downstream_tx_byte()          ? &c.time_to_last_downstream_tx_byte()
        : (tcp && c.has_time_to_last_rx_byte())            ? &c.time_to_last_rx_byte()
                                                           : nullptr;
    if (d) {
        // Bounded like the start time: absurd seconds are over the limit, not overflow.
        if (d->seconds() < 0 || d->nanos() < 0)
            return "negative duration";
        if (d->seconds() > limits.maxDurationMs / 1000 + 1 || durationMs(*d) > double(limits.maxDurationMs))
            return "duration over the limit";
        out.durationMs = durationMs(*d);
    }
    if (c.has_time_to_first_upstream_tx_byte() && c.has_time_to_last_upstream_rx_byte()) {
        const double leg
            = durationMs(c.time_to_last_upstream_rx_byte()) - durationMs(c.time_to_first_upstream_tx_byte());
        const double legStart = durationMs(c.time_to_first_upstream_tx_byte());
        if (leg >= 0 && leg <= out.durationMs) {
            out.upstreamMs = leg;
            if (legStart >= 0 && legStart <= double(limits.maxDurationMs))
                out.upstreamStartMs = legStart;
        }
    }
    if (!isValidUtf8(c.upstream_cluster()))
        return "invalid UTF-8 in upstream cluster";
    if (c.upstream_cluster().size() > limits.maxNameBytes)
        return "upstream cluster name too long";
    out.cluster = c.upstream_cluster();
    if (c.has_tls_properties()) {
        out.downstreamMtls = 0;
        for (const auto &san : c.tls_properties().peer_certificate_properties().subject_alt_name()) {
            const std::string &v = san.has_uri() ? san.uri() : san.dns();
            if (v.empty())
                continue;
            out.downstreamMtls = 1;
            if (v.rfind("spiffe://", 0) == 0)
                out.meshPeer = true;
        }
    }
    out.failed = c.has_response_flags() && failureFlags(c.response_flags());
    return nullptr;
}

// The other end of a request that left through PassthroughCluster or was dropped by
// BlackHoleCluster: the host the caller asked for, else where it really went (the
// upstream address, or the original destination the listener intercepted).
const char *passthroughName(std::string_view authority, const alog::AccessLogCommon &c, std::string_view &out)
{
    out = hostOfAuthority(authority);
    if (out.empty())
        out = hostOfAddress(c.upstream_remote_address());
    if (out.empty())
        out = hostOfAddress(c.downstream_local_address());
    if (out.empty())
        out = c.upstream_cluster();
    return isValidUtf8(out) ? nullptr : "invalid UTF-8 in address";
}

// The request/connection fields shared by HTTP and TCP entries, before the edges.
struct Entry {
    const alog::AccessLogCommon *common = nullptr;
    std::string_view authority;  // HTTP only
    RequestEvent event;  // everything but the node ids
    std::string originalPath;  // the path the caller asked for, before any rewrite
    // Trace headers present but malformed, counted once the entry yields a request.
    std::array<const char *, 4> traceCaveats {};
};

// The entry no longer stands for a span (its trace id stays: the request is in the trace).
void clearSpan(RequestEvent &ev)
{
    ev.spanId = 0;
    ev.parentSpanId = 0;
    ev.startNs = 0;
    ev.spanKind = SpanKind::Unspecified;
    ev.upstreamCluster.clear();
    ev.responseFlags.clear();
}

class EntryDecoder {
public:
    EntryDecoder(const AlsDecodeLimits &limits, const AlsNodeIdentity &who, int64_t nowMs, AlsDecodeResult &result)
        : m_limits(limits)
        , m_nowMs(nowMs)
        , m_result(result)
    {
        m_workload = who.known && !who.workload.name.empty() ? who.workload : unknownWorkload();
        m_nodeId = who.nodeId;
    }

    void http(const alog::HTTPAccessLogEntry &e)
    {
        m_result.httpEntries++;
        Common c;
        if (const char *why = readCommon(e.common_properties(), false, m_limits, m_nowMs, c))
            return reject(why);
        const auto &req = e.request();
        const auto &resp = e.response();
        if (!isValidUtf8(req.authority()) || !isValidUtf8(req.path()) || !isValidUtf8(req.original_path()))
            return reject("invalid UTF-8 in request properties");

        Entry entry;
        entry.common = &e.common_properties();
        entry.authority = req.authority();
        RequestEvent &ev = entry.event;
        ev.timeMs = c.timeMs;
        ev.durationMs = c.durationMs;
        ev.method = methodName(int(req.request_method()));
        ev.path = truncateUtf8(req.path(), m_limits.maxValueBytes);
        ev.authority = truncateUtf8(req.authority(), m_limits.maxValueBytes);
        if (!req.original_path().empty())
            entry.originalPath = truncateUtf8(req.original_path(), m_limits.maxValueBytes);
        if (resp.has_response_code() && resp.response_code().value() >= 100 && resp.response_code().value() <= 599)
            ev.httpStatus = int(resp.response_code().value());
        // A gRPC error answered without a body puts grpc-status in the headers
        // (trailers-only response); Envoy logs headers only when configured to.
        const std::string *grpcStatus = findHeader(resp.response_trailers(), "grpc-status");
        if (!grpcStatus)
            grpcStatus = findHeader(resp.response_headers(), "grpc-status");
        ev.grpcStatus = grpcStatusOf(grpcStatus);
        const std::string *contentType = findHeader(req.request_headers(), "content-type");
        const bool grpc = (contentType && contentType->rfind("application/grpc", 0) == 0)
            || (grpcStatus && looksLikeGrpcPath(req.path()));
        ev.protocol = grpc ? Protocol::Grpc : Protocol::Http;
        if (!grpc)
            ev.grpcStatus = -1;
        ev.error = (ev.httpStatus >= 500 && ev.httpStatus <= 599) || ev.grpcStatus > 0 || c.failed;
        ev.bytes = byteSum(req.request_body_bytes(), resp.response_body_bytes());
        readTraceContext(e, c, entry);
        const auto caveats = entry.traceCaveats;
        const size_t before = m_result.requests.size();
        emit(c, std::move(entry));
        if (m_result.requests.size() > before) {
            for (const char *caveat : caveats) {
                if (caveat)
                    m_result.reasons[caveat]++;
            }
        }
    }

    void tcp(const alog::TCPAccessLogEntry &e)
    {
        m_result.tcpEntries++;
        Common c;
        if (const char *why = readCommon(e.common_properties(), true, m_limits, m_nowMs, c))
            return reject(why);
        Entry entry;
        entry.common = &e.common_properties();
        RequestEvent &ev = entry.event;
        ev.timeMs = c.timeMs;
        ev.durationMs = c.durationMs;
        ev.protocol = Protocol::Tcp;
        ev.error = c.failed;
        const auto &conn = e.connection_properties();
        ev.bytes = byteSum(conn.received_bytes(), conn.sent_bytes());
        emit(c, std::move(entry));
    }

private:
    // The first valid trace context of the entry's request headers: W3C traceparent,
    // then B3 single, then B3 multi-header, then (when configured) x-request-id. Fills
    // the trace id and the span fields of the event; emit() decides which request
    // carries the span.
    void readTraceContext(const alog::HTTPAccessLogEntry &e, const Common &c, Entry &entry)
    {
        const auto &req = e.request();
        const auto &headers = req.request_headers();
        TraceContext ctx;
        size_t caveats = 0;
        auto found = [&](Parsed p, const char *reason) {
            if (p == Parsed::Malformed)
                entry.traceCaveats[caveats++] = reason;
            if (p != Parsed::Ok)
                ctx = {};
            return p == Parsed::Ok;
        };
        auto requestId = [&]() -> std::string_view {
            if (!req.request_id().empty())
                return req.request_id();
            const std::string *h = findHeader(headers, "x-request-id");
            return h ? std::string_view(*h) : std::string_view();
        };
        if (!found(parseTraceparent(findHeader(headers, "traceparent"), ctx), AlsDecoder::kBadTraceparentReason)
            && !found(parseB3Single(findHeader(headers, "b3"), ctx), AlsDecoder::kBadB3Reason)
            && !found(parseB3Multi(headers, ctx), AlsDecoder::kBadB3MultiReason)
            && !(m_limits.requestIdTraces && found(parseRequestId(requestId(), ctx), AlsDecoder::kBadRequestIdReason)))
            return;

        RequestEvent &ev = entry.event;
        const alog::AccessLogCommon &common = e.common_properties();
        ev.traceId = std::move(ctx.traceId);
        ev.parentSpanId = ctx.parentSpanId;
        ev.startNs = c.startNs;
        // Envoy's own span id (when it traces at all) is not in the log. The id is
        // derived from what identifies the entry: the Envoy's node id, the stream
        // (stream_id, unique per HTTP stream, and request_id for Envoys that log no
        // stream_id), the start to the nanosecond, the request and its trace context.
        // An entry sent twice gets the same id, so the trace store drops the copy.
        IdHash h;
        h.add(m_nodeId);
        h.add(common.stream_id());
        h.add(req.request_id());
        h.add(c.startNs);
        h.add(ev.method);
        h.add(req.authority());
        h.add(req.path());
        h.add(ev.traceId);
        h.add(ev.parentSpanId);
        ev.spanId = h.value();
        ev.upstreamCluster = c.cluster;
        if (common.has_response_flags())
            ev.responseFlags = responseFlagCodes(common.response_flags());
    }

    void reject(const char *why)
    {
        m_result.rejected++;
        m_result.reasons[why]++;
    }

    void add(const NodeRef &source, const NodeRef &target, RequestEvent &&ev)
    {
        m_result.requests.push_back({source, target, std::move(ev)});
    }

    // The request entering this Envoy from a caller it cannot name. With `span`, the
    // entry's span (a server span of this workload) goes on it.
    void addFromOutside(Entry &entry, const Common &c, bool alsoUpstream, bool span)
    {
        NodeRef outside;
        outside.kind = NodeKind::External;
        // The event is needed once more for the upstream call, else it is moved.
        RequestEvent ev;
        if (alsoUpstream)
            ev = entry.event;
        else
            ev = std::move(entry.event);
        ev.mtls = c.downstreamMtls;  // tls_properties describe exactly this hop
        if (!entry.originalPath.empty())
            ev.path = entry.originalPath;
        if (span && ev.spanId)
            ev.spanKind = SpanKind::Server;
        else
            clearSpan(ev);
        add(outside, m_workload, std::move(ev));
    }

    void emit(const Common &c, Entry &&entry)
    {
        const bool gateway = m_workload.gateway;
        const AlsUpstream up = parseUpstreamCluster(c.cluster, m_workload.ns);
        if (up.kind == AlsUpstream::Kind::Inbound) {
            // The callee's copy of the request. A caller that proved a mesh identity
            // logs it too (as outbound), with a name; a gateway's callers are outside.
            if (c.meshPeer && !gateway && m_limits.skipMeshPeerInbound)
                return reject(AlsDecoder::kMeshInboundReason);
            return addFromOutside(entry, c, false, true);
        }

        NodeRef target;
        if (up.kind == AlsUpstream::Kind::Target) {
            target = up.target;
        } else if (up.kind == AlsUpstream::Kind::Passthrough) {
            std::string_view name;
            if (const char *why = passthroughName(entry.authority, *entry.common, name))
                return reject(why);
            target.kind = NodeKind::ExternalService;
            target.name = name;
        } else if (!gateway) {
            // Answered by this Envoy itself (no route, local reply): the host the
            // caller asked for is the best name for where the request was going.
            const std::string_view host = hostOfAuthority(entry.authority);
            if (host.empty()) {
                target.kind = NodeKind::ExternalService;
                target.name = kUnknownName;
            } else {
                target = hostRef(host, {}, m_workload.ns);
            }
        }
        if (target.name.size() > m_limits.maxNameBytes)
            return reject("upstream host name too long");

        if (gateway) {
            // North-south: the request entering the gateway, and, when it was
            // routed, the gateway's own call to the upstream. The span is the
            // gateway's client span of that call, or, unrouted, its server span.
            const bool routed = up.kind != AlsUpstream::Kind::None;
            addFromOutside(entry, c, routed, !routed);
            if (!routed)
                return;
        }
        RequestEvent &ev = entry.event;
        // tls_properties describe the hop into this Envoy, not its call upstream.
        ev.mtls = -1;
        if (gateway && c.upstreamMs >= 0) {
            ev.durationMs = c.upstreamMs;  // what the gateway waited for the upstream
            if (ev.spanId && c.upstreamStartMs >= 0)
                ev.startNs += uint64_t(std::llround(c.upstreamStartMs * 1e6));  // so the span is that wait
        }
        if (ev.spanId)
            ev.spanKind = SpanKind::Client;
        add(m_workload, target, std::move(ev));
    }

    const AlsDecodeLimits &m_limits;
    const int64_t m_nowMs;
    AlsDecodeResult &m_result;
    NodeRef m_workload;
    std::string m_nodeId;
};

// Istio node metadata meshscope reads (all optional).
struct IstioMetadata {
    std::string_view ns, workload, app, version;
};

std::string_view structString(const google::protobuf::Struct &s, const char *key)
{
    auto it = s.fields().find(key);
    return it != s.fields().end() && it->second.kind_case() == google::protobuf::Value::kStringValue
        ? std::string_view(it->second.string_value())
        : std::string_view();
}

IstioMetadata metadataOf(const core::Node &node)
{
    IstioMetadata md;
    if (!node.has_metadata())
        return md;
    const auto &m = node.metadata();
    md.ns = structString(m, "NAMESPACE");
    md.workload = structString(m, "WORKLOAD_NAME");
    auto labels = m.fields().find("LABELS");
    if (labels != m.fields().end() && labels->second.kind_case() == google::protobuf::Value::kStructValue) {
        const auto &l = labels->second.struct_value();
        for (const char *key : {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}) {
            if (md.app.empty())
                md.app = structString(l, key);
        }
        for (const char *key : {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}) {
            const std::string_view v = structString(l, key);
            if (md.version.empty() && v != "latest")  // Istio's default revision says nothing
                md.version = v;
        }
    }
    return md;
}

}  // namespace

std::string workloadOfPod(std::string_view pod)
{
    const std::vector<std::string_view> segs = split(pod, '-');
    const size_t n = segs.size();
    auto joinFirst = [&](size_t count) {
        std::string out;
        for (size_t i = 0; i < count; ++i)
            out.append(i ? "-" : "").append(segs[i]);
        return out;
    };
    // Deployment: <name>-<pod-template-hash>-<suffix>.
    if (n >= 3 && segs[n - 1].size() <= 5 && allOf(segs[n - 1], isLowerAlnum) && segs[n - 2].size() >= 4
        && segs[n - 2].size() <= 10 && allOf(segs[n - 2], isLowerAlnum)
        && std::any_of(segs[n - 2].begin(), segs[n - 2].end(), isDigit))
        return joinFirst(n - 2);
    // DaemonSet or bare ReplicaSet: <name>-<5 generated chars>; StatefulSet: <name>-<ordinal>.
    if (n >= 2 && ((segs[n - 1].size() == 5 && allOf(segs[n - 1], isSafeSuffixChar)) || allOf(segs[n - 1], isDigit)))
        return joinFirst(n - 1);
    return std::string(pod);
}

AlsUpstream parseUpstreamCluster(std::string_view cluster, const std::string &defaultNs)
{
    AlsUpstream up;
    if (cluster.empty())
        return up;
    if (cluster.rfind("inbound|", 0) == 0 || cluster.rfind("InboundPassthroughCluster", 0) == 0) {
        up.kind = AlsUpstream::Kind::Inbound;
        return up;
    }
    if (cluster == "PassthroughCluster" || cluster == "BlackHoleCluster") {
        up.kind = AlsUpstream::Kind::Passthrough;
        return up;
    }
    up.kind = AlsUpstream::Kind::Target;
    std::string_view host = cluster, subset;
    if (cluster.rfind("outbound|", 0) == 0) {
        // outbound|<port>|<subset>|<host>
        const std::vector<std::string_view> parts = split(cluster, '|');
        if (parts.size() == 4 && !parts[3].empty()) {
            subset = parts[2];
            host = parts[3];
        }
    } else if (cluster.rfind("outbound_.", 0) == 0) {
        // outbound_.<port>_.<subset>_.<host>: Istio's SNI form, used by passthrough gateways.
        std::string_view rest = cluster.substr(10);
        const size_t a = rest.find("_.");
        const size_t b = a == std::string_view::npos ? a : rest.find("_.", a + 2);
        if (b != std::string_view::npos && b + 2 < rest.size()) {
            subset = rest.substr(a + 2, b - a - 2);
            host = rest.substr(b + 2);
        }
    }
    if (subset == "_")
        subset = {};
    up.target = hostRef(host, subset, defaultNs);
    return up;
}

AlsNodeIdentity AlsDecoder::identityOf(const core::Node &node, const AlsDecodeLimits &limits)
{
    AlsNodeIdentity who;
    who.known = true;
    who.workload = unknownWorkload();
    const std::string_view nodeId = node.id(), cluster = node.cluster();
    if (!isValidUtf8(nodeId) || !isValidUtf8(cluster)) {
        who.problem = "invalid UTF-8 in node identity";
        return who;
    }
    if (nodeId.size() > 4 * limits.maxNameBytes || cluster.size() > limits.maxNameBytes) {
        who.problem = "node identity too long";
        return who;
    }
    who.nodeId = nodeId;
    who.nodeCluster = cluster;
    const IstioMetadata md = metadataOf(node);

    NodeRef ref;
    const std::vector<std::string_view> parts = split(nodeId, '~');
    const bool istio = parts.size() == 4 && (parts[0] == "sidecar" || parts[0] == "router" || parts[0] == "waypoint");
    if (istio) {
        // type~ip~<pod>.<namespace>~<namespace>.svc.<domain>
        who.istio = true;
        const std::string_view podNs = parts[2];
        const size_t dot = podNs.rfind('.');
        const std::string_view pod = podNs.substr(0, dot);
        const std::string_view nsOfPod = dot == std::string_view::npos ? std::string_view() : podNs.substr(dot + 1);
        const std::string_view nsOfDomain = parts[3].substr(0, parts[3].find('.'));
        ref.ns = !md.ns.empty() ? md.ns : !nsOfDomain.empty() ? nsOfDomain : nsOfPod;
        const std::string workload = !md.workload.empty() ? std::string(md.workload) : workloadOfPod(pod);
        // Istio's sidecar cluster is "<app>.<namespace>" ("istio-proxy" in old releases).
        const std::string_view clusterApp
            = cluster == "istio-proxy" ? std::string_view() : cluster.substr(0, cluster.find('.'));
        if (parts[0] == "router") {
            ref.gateway = true;
            ref.name = !workload.empty() ? workload : std::string(clusterApp);
        } else {
            ref.name = !md.app.empty() ? md.app : clusterApp;
            ref.version = md.version;
            if (ref.name.empty()) {
                // reviews-v1 -> service reviews, version v1
                const size_t dash = workload.rfind('-');
                if (dash != std::string::npos && looksLikeVersion(std::string_view(workload).substr(dash + 1)))
                    ref.name = workload.substr(0, dash);
                else
                    ref.name = workload;
            }
            if (ref.version.empty() && workload.size() > ref.name.size() + 1 && workload.rfind(ref.name + "-", 0) == 0
                && looksLikeVersion(std::string_view(workload).substr(ref.name.size() + 1)))
                ref.version = workload.substr(ref.name.size() + 1);
        }
    } else {
        // Plain Envoy: the cluster is the service name; the id is free-form.
        ref.name = !cluster.empty() ? cluster : !md.app.empty() ? md.app : nodeId;
        ref.ns = md.ns;
        ref.version = md.version;
    }
    ref.gateway = ref.gateway || mentionsGateway(cluster) || mentionsGateway(nodeId);
    if (ref.name.empty()) {
        who.problem = "node identity without id or cluster";
        return who;
    }
    if (!isValidUtf8(ref.ns) || !isValidUtf8(ref.version) || !isValidUtf8(ref.name)) {
        who.problem = "invalid UTF-8 in node identity";
        return who;
    }
    if (ref.name.size() > limits.maxNameBytes || ref.ns.size() > limits.maxNameBytes
        || ref.version.size() > limits.maxNameBytes) {
        who.problem = "node identity too long";
        return who;
    }
    who.workload = std::move(ref);
    return who;
}

AlsDecoder::AlsDecoder(AlsDecodeLimits limits)
    : m_limits(limits)
{
}

AlsDecodeResult AlsDecoder::decode(
    const als::StreamAccessLogsMessage &message, const AlsNodeIdentity &stream, int64_t nowMs) const
{
    AlsDecodeResult result;
    const AlsNodeIdentity *who = &stream;
    if (message.has_identifier()) {
        result.identity = identityOf(message.identifier().node(), m_limits);
        who = &*result.identity;
        if (who->problem)
            result.reasons[who->problem]++;
    }
    const int http = message.has_http_logs() ? message.http_logs().log_entry_size() : 0;
    const int tcp = message.has_tcp_logs() ? message.tcp_logs().log_entry_size() : 0;
    result.received = uint64_t(http) + uint64_t(tcp);
    if (!who->known && result.received > 0)
        result.reasons[kNoIdentifierReason] += result.received;  // kept, attributed to "unknown"
    result.requests.reserve(result.received);

    EntryDecoder entries(m_limits, *who, nowMs, result);
    for (int i = 0; i < http; ++i)
        entries.http(message.http_logs().log_entry(i));
    for (int i = 0; i < tcp; ++i)
        entries.tcp(message.tcp_logs().log_entry(i));
    return result;
}

AlsDecodeResult AlsDecoder::decodeBytes(
    const void *data, size_t size, const AlsNodeIdentity &stream, int64_t nowMs) const
{
    google::protobuf::Arena arena;
    auto *message = google::protobuf::Arena::CreateMessage<als::StreamAccessLogsMessage>(&arena);
    if (size > size_t(INT_MAX) || !message->ParseFromArray(data, int(size))) {
        AlsDecodeResult result;
        result.malformed = true;
        return result;
    }
    return decode(*message, stream, nowMs);
}

std::string AlsDecodeResult::summary() const
{
    std::string out = std::to_string(rejected) + " of " + std::to_string(received) + " entries rejected";
    const char *sep = ": ";
    for (const auto &[reason, n] : reasons) {
        out.append(sep).append(reason).append(" (").append(std::to_string(n)).append(")");
        sep = ", ";
    }
    return out;
}

}  // namespace meshscope

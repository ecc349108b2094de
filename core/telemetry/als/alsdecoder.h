#pragma once
// Turns one Envoy access-log stream message (envoy.service.accesslog.v3
// StreamAccessLogsMessage) into ObservedRequests between graph nodes. The source of
// every entry is the Envoy that opened the stream (its Identifier.node, sent only in
// the first message); the other end comes from the entry's upstream cluster. Each
// entry is validated on its own: a bad one is rejected with a counted reason while
// the rest of the message is kept.
//
// An HTTP entry whose logged request headers carry a trace context (W3C traceparent,
// B3 single or multi-header; Envoy logs the headers named in its config's
// additional_request_headers_to_log) also says which span it stands for: the trace id
// goes on its requests, and the span fields of RequestEvent on the one request the
// span belongs to (traces/accesslogspans.h turns it into a Span for the trace store).
// Pure function of its input: used by the gRPC receiver, tests and fuzzers.

#include "model/telemetrysink.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace envoy::config::core::v3 {
class Node;
}
namespace envoy::service::accesslog::v3 {
class StreamAccessLogsMessage;
}

namespace meshscope {

struct AlsDecodeLimits {
    int64_t maxClockSkewMs = 24ll * 3600 * 1000;  // a start time this far from now is absurd
    int64_t maxDurationMs = 24ll * 3600 * 1000;
    size_t maxNameBytes = 256;  // node identity, upstream cluster
    size_t maxValueBytes = 2048;  // path, authority: longer values are truncated
    // An entry of a sidecar's inbound listener whose caller presented a mesh (SPIFFE)
    // certificate is the callee's copy of a request the caller's own sidecar logs as
    // outbound. Shown as external -> callee it would count every mesh request twice
    // and make every called service look like an entry point, so such entries are
    // counted (reason kMeshInboundReason) instead of drawn. Set false when only the
    // callees' Envoys report to meshscope.
    bool skipMeshPeerInbound = true;
    // Envoy's x-request-id (HTTPRequestProperties.request_id, else a logged x-request-id
    // header) as the trace id of entries without a W3C or B3 context. A UUID is 16
    // bytes; where the services forward the header on their own calls (as Istio asks of
    // them), the entries of every Envoy a request went through join one trace (without
    // parent links). Off by default: where they do not, each hop gets an id of its own.
    bool requestIdTraces = false;
};

// The Envoy that opened a stream, from the Identifier of its first message.
struct AlsNodeIdentity {
    bool known = false;  // an identifier has been seen on this stream
    std::string nodeId;  // Identifier.node.id and .cluster as reported
    std::string nodeCluster;
    NodeRef workload;  // the Envoy's own workload: the source of its entries
    bool istio = false;  // the node id has Istio's "type~ip~pod.ns~domain" form
    const char *problem = nullptr;  // why the identity could not be used, counted per message
};

struct AlsDecodeResult {
    std::vector<ObservedRequest> requests;  // a gateway's entry yields two
    uint64_t received = 0;  // entries in the message
    uint64_t rejected = 0;  // entries that yielded no request
    uint64_t httpEntries = 0;
    uint64_t tcpEntries = 0;
    // Reasons for rejected entries, and for entries kept with a caveat (no identifier).
    std::map<std::string, uint64_t> reasons;
    bool malformed = false;  // the bytes were not a StreamAccessLogsMessage at all
    std::optional<AlsNodeIdentity> identity;  // the identity this message introduced

    // One line for logs and tests: "2 of 10 entries rejected: reason (n), ...".
    std::string summary() const;
};

class AlsDecoder {
public:
    static constexpr const char *kNoIdentifierReason = "access log entries before any node identifier";
    static constexpr const char *kMeshInboundReason = "inbound entries from mesh peers (their caller logs them)";
    // A trace header that is present but malformed: the entry is kept for the graph,
    // without a span (another valid context of the same entry is still used).
    static constexpr const char *kBadTraceparentReason = "malformed traceparent header (entry kept without a span)";
    static constexpr const char *kBadB3Reason = "malformed b3 header (entry kept without a span)";
    static constexpr const char *kBadB3MultiReason = "malformed x-b3-* headers (entry kept without a span)";
    static constexpr const char *kBadRequestIdReason = "x-request-id not a UUID (entry kept without a span)";

    explicit AlsDecoder(AlsDecodeLimits limits = {});

    // stream: the identity of the stream so far (known=false before any identifier).
    // A message that carries an identifier is decoded with that identity, which is
    // returned in AlsDecodeResult::identity for the caller to keep for later messages.
    AlsDecodeResult decode(const envoy::service::accesslog::v3::StreamAccessLogsMessage &message,
        const AlsNodeIdentity &stream, int64_t nowMs) const;
    // Parses serialized bytes first; malformed input sets AlsDecodeResult::malformed.
    AlsDecodeResult decodeBytes(const void *data, size_t size, const AlsNodeIdentity &stream, int64_t nowMs) const;

    // Who an Envoy node is: Istio node ids ("router~10.1.2.3~istio-ingressgateway-
    // 7d9f-abc.istio-system~istio-system.svc.cluster.local"), Istio metadata (LABELS,
    // WORKLOAD_NAME, NAMESPACE) when present, else plain Envoy's cluster (the service
    // name) or id. Gateways: Istio "router" nodes, and clusters or ids that mention
    // gateway, ingress or egress.
    static AlsNodeIdentity identityOf(const envoy::config::core::v3::Node &node, const AlsDecodeLimits &limits = {});

    const AlsDecodeLimits &limits() const { return m_limits; }

private:
    AlsDecodeLimits m_limits;
};

// What an upstream cluster name says about the other end of a request.
struct AlsUpstream {
    enum class Kind : uint8_t {
        None,      // no cluster: the Envoy answered itself (no route, local reply)
        Inbound,   // Istio inbound cluster: the Envoy's own workload is the callee
        Target,    // a service or an outside host, in `target`
        Passthrough,  // PassthroughCluster / BlackHoleCluster: named from the request
    } kind = Kind::None;
    NodeRef target;
};

// "outbound|9080|v2|reviews.default.svc.cluster.local" -> service reviews, namespace
// default, version v2; "inbound|9080||" -> Inbound; "backend" -> service backend (in
// defaultNs); "api.example.com" or "outbound|443||api.example.com" -> external service.
AlsUpstream parseUpstreamCluster(std::string_view cluster, const std::string &defaultNs);

// "istio-ingressgateway-7d9f-abc" -> "istio-ingressgateway"; "redis-0" -> "redis".
std::string workloadOfPod(std::string_view pod);

}  // namespace meshscope

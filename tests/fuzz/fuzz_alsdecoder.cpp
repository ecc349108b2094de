// Fuzz target for the Envoy access-log decoder (AlsDecoder::decodeBytes), the first
// thing that reads what an Envoy streams to meshscope. Properties checked on every
// input, for a stream whose Envoy is not known yet and for a known gateway's stream,
// under the default limits and under tight ones:
// - decoding never crashes;
// - wherever protobuf's own parser accepts the bytes, the wire path (decodeBytes) gives
//   exactly what the message path (decode) gives: counts, reasons, identity and every
//   field of every request; where it does not, the result is only "malformed";
// - counts add up: received = HTTP + TCP entries, each entry kept yields one request
//   or two (a gateway's), each rejected one none;
// - names are capped: node names, namespaces and versions at maxNameBytes, paths and
//   authorities at maxValueBytes, and all of them are valid UTF-8;
// - the requests feed the aggregator without breaking its node limit.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/alsdecoder and mutations of it.

#include "fuzzproperty.h"

#include "envoy/service/accesslog/v3/als.pb.h"
#include "graph/graphaggregator.h"
#include "model/text.h"
#include "telemetry/als/alsdecoder.h"

#include <google/protobuf/stubs/logging.h>

#include <cmath>
#include <cstring>
#include <iterator>

using namespace meshscope;

namespace {

constexpr const char *kFuzzTarget = "fuzz_alsdecoder";
constexpr int64_t kNowMs = 1'700'000'000'000;  // the time the seeds' entries were made for
const AlsNodeIdentity kUnknownStream {};  // before the stream's first identifier

bool sameRef(const NodeRef &a, const NodeRef &b)
{
    return a.kind == b.kind && a.ns == b.ns && a.name == b.name && a.version == b.version && a.gateway == b.gateway;
}

bool sameNumber(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Every field of RequestEvent: it has no operator== of its own.
bool sameEvent(const RequestEvent &a, const RequestEvent &b)
{
    return a.seq == b.seq && a.timeMs == b.timeMs && a.sourceId == b.sourceId && a.targetId == b.targetId
        && a.protocol == b.protocol && a.method == b.method && a.path == b.path && a.authority == b.authority
        && a.httpStatus == b.httpStatus && a.grpcStatus == b.grpcStatus && a.error == b.error
        && sameNumber(a.durationMs, b.durationMs) && a.bytes == b.bytes && a.mtls == b.mtls && a.traceId == b.traceId
        && a.origin == b.origin;
}

bool sameProblem(const char *a, const char *b) { return (!a && !b) || (a && b && std::strcmp(a, b) == 0); }

bool sameIdentity(const std::optional<AlsNodeIdentity> &a, const std::optional<AlsNodeIdentity> &b)
{
    if (a.has_value() != b.has_value())
        return false;
    return !a
        || (a->known == b->known && a->nodeId == b->nodeId && a->nodeCluster == b->nodeCluster
            && sameRef(a->workload, b->workload) && a->istio == b->istio && sameProblem(a->problem, b->problem));
}

bool refCapped(const NodeRef &r, size_t max)
{
    return r.name.size() <= max && r.ns.size() <= max && r.version.size() <= max;
}

bool refUtf8(const NodeRef &r) { return isValidUtf8(r.name) && isValidUtf8(r.ns) && isValidUtf8(r.version); }

// The receiver keeps the identity its own decoder made, under the same limits.
AlsNodeIdentity gatewayStream(const AlsDecoder &decoder)
{
    envoy::config::core::v3::Node node;
    node.set_id("router~10.1.2.3~istio-ingressgateway-7d9f-abc.istio-system~istio-system.svc.cluster.local");
    node.set_cluster("istio-ingressgateway.istio-system");
    return AlsDecoder::identityOf(node, decoder.limits());
}

AlsDecoder tightDecoder()
{
    AlsDecodeLimits limits;
    limits.maxNameBytes = 24;  // still room for "istio-ingressgateway"
    limits.maxValueBytes = 32;
    limits.maxClockSkewMs = 60'000;
    limits.maxDurationMs = 10'000;
    limits.skipMeshPeerInbound = false;
    return AlsDecoder(limits);
}

void checkResult(const AlsDecoder &decoder, const AlsDecodeResult &r)
{
    const AlsDecodeLimits &limits = decoder.limits();
    if (r.malformed) {
        ASSERT_PROPERTY(r.requests.empty() && r.received == 0 && r.rejected == 0 && !r.identity,
            "a malformed message yields nothing");
        return;
    }
    ASSERT_PROPERTY(r.received == r.httpEntries + r.tcpEntries, "received counts every HTTP and TCP entry");
    ASSERT_PROPERTY(r.rejected <= r.received, "no more rejected entries than received ones");
    const uint64_t kept = r.received - r.rejected;
    ASSERT_PROPERTY(r.requests.size() >= kept && r.requests.size() <= 2 * kept,
        "each kept entry yields one request or two, a rejected one none");
    for (const auto &[reason, n] : r.reasons)
        ASSERT_PROPERTY(!reason.empty() && n > 0, "reasons are named and counted");
    if (r.identity && !r.identity->problem) {
        ASSERT_PROPERTY(
            r.identity->known && !r.identity->workload.name.empty(), "a usable identity names its workload");
        ASSERT_PROPERTY(refCapped(r.identity->workload, limits.maxNameBytes), "identity names capped at maxNameBytes");
        ASSERT_PROPERTY(refUtf8(r.identity->workload), "identity names are UTF-8");
    }
    for (const ObservedRequest &q : r.requests) {
        ASSERT_PROPERTY(refCapped(q.source, limits.maxNameBytes) && refCapped(q.target, limits.maxNameBytes),
            "node names, namespaces and versions capped at maxNameBytes");
        ASSERT_PROPERTY(q.event.path.size() <= limits.maxValueBytes && q.event.authority.size() <= limits.maxValueBytes,
            "path and authority capped at maxValueBytes");
        ASSERT_PROPERTY(
            refUtf8(q.source) && refUtf8(q.target) && isValidUtf8(q.event.path) && isValidUtf8(q.event.authority),
            "names, paths and authorities are UTF-8");
        ASSERT_PROPERTY(std::isfinite(q.event.durationMs) && q.event.durationMs >= 0
                && q.event.durationMs <= double(limits.maxDurationMs),
            "durations are finite and within maxDurationMs");
        ASSERT_PROPERTY(q.event.bytes >= 0, "byte counts saturate rather than wrap");
    }
}

void checkSame(const AlsDecodeResult &ref, const AlsDecodeResult &wire)
{
    ASSERT_PROPERTY(!wire.malformed, "protobuf parsed bytes the wire decoder called malformed");
    ASSERT_PROPERTY(ref.received == wire.received && ref.rejected == wire.rejected && ref.reasons == wire.reasons
            && ref.httpEntries == wire.httpEntries && ref.tcpEntries == wire.tcpEntries,
        "wire and message decoders disagree: counts or rejection reasons");
    ASSERT_PROPERTY(sameIdentity(ref.identity, wire.identity), "wire and message decoders disagree: identity");
    ASSERT_PROPERTY(ref.requests.size() == wire.requests.size(), "wire and message decoders disagree: request count");
    for (size_t i = 0; i < ref.requests.size(); ++i) {
        const ObservedRequest &a = ref.requests[i], &b = wire.requests[i];
        ASSERT_PROPERTY(sameRef(a.source, b.source) && sameRef(a.target, b.target) && sameEvent(a.event, b.event),
            "wire and message decoders disagree: request contents");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    // protobuf logs every string field that is not UTF-8; at fuzzing rates that would be
    // most of the output and much of the time.
    static const google::protobuf::LogSilencer quiet;
    static const AlsDecoder decoders[] = {AlsDecoder(), tightDecoder()};
    static const AlsNodeIdentity gateways[] = {gatewayStream(decoders[0]), gatewayStream(decoders[1])};

    envoy::service::accesslog::v3::StreamAccessLogsMessage message;
    const bool parsed = message.ParseFromArray(data, int(size));
    std::vector<ObservedRequest> toAggregate;
    for (size_t d = 0; d < std::size(decoders); ++d) {
        const AlsDecoder &decoder = decoders[d];
        for (const AlsNodeIdentity *stream : {&kUnknownStream, &gateways[d]}) {
            AlsDecodeResult wire = decoder.decodeBytes(data, size, *stream, kNowMs);
            checkResult(decoder, wire);
            if (parsed)
                checkSame(decoder.decode(message, *stream, kNowMs), wire);
            else
                ASSERT_PROPERTY(wire.malformed, "bytes protobuf refuses are malformed");
            if (d == 0 && stream == &kUnknownStream)
                toAggregate = std::move(wire.requests);
        }
    }

    if (!toAggregate.empty()) {
        AggregatorConfig cfg;
        cfg.maxNodes = 50;
        GraphAggregator agg(cfg, kNowMs - 10'000);
        agg.ingestRequests(std::move(toAggregate), kNowMs, "als");
        agg.flushPending(kNowMs + 1000);
        const auto snap = agg.snapshot(kNowMs + 1000);
        ASSERT_PROPERTY(snap->nodes.size() <= cfg.maxNodes + 2, "node limit not honoured");
    }
    return 0;
}

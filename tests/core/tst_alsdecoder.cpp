// AlsDecoder: who an Envoy node is (Istio gateways and sidecars, plain Envoy), what
// its upstream cluster names, and the requests its HTTP and TCP entries become, looked
// at through the aggregator's snapshot (node ids, kinds, edge directions, rates). Bad
// entries are rejected one by one with a counted reason; bad messages as a whole.

#include "common/alsbuilder.h"
#include "common/printers.h"
#include "envoy/service/accesslog/v3/als.pb.h"
#include "graph/graphaggregator.h"
#include "model/text.h"
#include "telemetry/als/alsdecoder.h"

#include <QtTest>

#include <functional>
#include <random>

using namespace meshscope;
using namespace meshscope::test;

namespace als = envoy::service::accesslog::v3;
namespace alog = envoy::data::accesslog::v3;

namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;  // 2023-11-14T22:13:20Z: tests are deterministic

constexpr const char *kGatewayId
    = "router~10.1.2.3~istio-ingressgateway-7d9f-abc.istio-system~istio-system.svc.cluster.local";
constexpr const char *kGatewayCluster = "istio-ingressgateway.istio-system";
constexpr const char *kProductpageId = "sidecar~10.1.2.4~productpage-v1-5d8f-xyz.bookinfo~bookinfo.svc.cluster.local";
constexpr const char *kReviewsId = "sidecar~10.1.2.5~reviews-v1-545db77b95-8nk9c.bookinfo~bookinfo.svc.cluster.local";

als::StreamAccessLogsMessage identified(const std::string &nodeId, const std::string &cluster)
{
    als::StreamAccessLogsMessage m;
    identify(m, nodeId, cluster);
    return m;
}

alog::HTTPAccessLogEntry &http(als::StreamAccessLogsMessage &m, const std::string &cluster, const std::string &path,
    int status, double durationMs = 20, envoy::config::core::v3::RequestMethod method = envoy::config::core::v3::GET)
{
    alog::HTTPAccessLogEntry *e = m.mutable_http_logs()->add_log_entry();
    alog::AccessLogCommon *c = e->mutable_common_properties();
    setStart(c, kNowMs - 1000);
    setDuration(c->mutable_duration(), durationMs);
    c->set_upstream_cluster(cluster);
    e->mutable_request()->set_request_method(method);
    e->mutable_request()->set_path(path);
    e->mutable_request()->set_authority("bookinfo.example.com");
    if (status > 0)
        e->mutable_response()->mutable_response_code()->set_value(uint32_t(status));
    return *e;
}

alog::TCPAccessLogEntry &tcp(als::StreamAccessLogsMessage &m, const std::string &cluster, uint64_t received,
    uint64_t sent, double durationMs = 1500)
{
    alog::TCPAccessLogEntry *e = m.mutable_tcp_logs()->add_log_entry();
    alog::AccessLogCommon *c = e->mutable_common_properties();
    setStart(c, kNowMs - 2000);
    setDuration(c->mutable_duration(), durationMs);
    c->set_upstream_cluster(cluster);
    e->mutable_connection_properties()->set_received_bytes(received);
    e->mutable_connection_properties()->set_sent_bytes(sent);
    return *e;
}

void addHeader(
    google::protobuf::RepeatedPtrField<alog::MeshscopeHeaderEntry> *headers, const std::string &k, const std::string &v)
{
    auto *h = headers->Add();
    h->set_key(k);
    h->set_value(v);
}

void addPeerSan(alog::AccessLogCommon *c, const std::string &uri, const std::string &dns = {})
{
    auto *san = c->mutable_tls_properties()->mutable_peer_certificate_properties()->add_subject_alt_name();
    if (!uri.empty())
        san->set_uri(uri);
    else
        san->set_dns(dns);
}

// Empty when the message path and the wire path (what the receiver runs) agree.
QString wireDifference(const AlsDecodeResult &a, const AlsDecodeResult &b)
{
    if (a.malformed != b.malformed || a.received != b.received || a.rejected != b.rejected || a.reasons != b.reasons)
        return QStringLiteral("counts differ: '%1' vs '%2'")
            .arg(QString::fromStdString(a.summary()), QString::fromStdString(b.summary()));
    if (a.requests.size() != b.requests.size())
        return QStringLiteral("request counts differ");
    for (size_t i = 0; i < a.requests.size(); ++i) {
        const ObservedRequest &x = a.requests[i], &y = b.requests[i];
        if (x.source.name != y.source.name || x.target.name != y.target.name || x.target.kind != y.target.kind
            || x.event.path != y.event.path || x.event.httpStatus != y.event.httpStatus
            || x.event.error != y.event.error || x.event.bytes != y.event.bytes
            || x.event.durationMs != y.event.durationMs)
            return QStringLiteral("request %1 differs").arg(i);
    }
    return {};
}

// Decodes one message (checking the wire path gives the same) and feeds an aggregator.
struct Run {
    AlsDecodeResult result;
    std::unique_ptr<GraphAggregator> agg;
    GraphSnapshotPtr snap;
    std::vector<RequestEvent> recent;

    const EdgeSnapshot *edge(const char *id) const { return snap->edge(id); }
    const char *kindOf(const char *id) const
    {
        const NodeSnapshot *n = snap->node(id);
        return n ? nodeKindName(n->kind) : "(missing)";
    }
};

Run run(const als::StreamAccessLogsMessage &m, const AlsNodeIdentity &stream = {}, AlsDecodeLimits limits = {})
{
    Run r;
    const AlsDecoder decoder(limits);
    r.result = decoder.decode(m, stream, kNowMs);
    const std::string bytes = m.SerializeAsString();
    const AlsDecodeResult wire = decoder.decodeBytes(bytes.data(), bytes.size(), stream, kNowMs);
    if (const QString d = wireDifference(r.result, wire); !d.isEmpty())
        qFatal("wire path differs from message path: %s", qPrintable(d));
    r.agg = std::make_unique<GraphAggregator>(AggregatorConfig {}, kNowMs - 10'000);
    r.agg->countExport(r.result.received, r.result.rejected, r.result.reasons);
    std::vector<ObservedRequest> requests = r.result.requests;
    r.agg->ingestRequests(std::move(requests), kNowMs, "als");
    r.snap = r.agg->snapshot(kNowMs);
    r.recent = r.agg->recentRequests(0, 1000);
    return r;
}

envoy::config::core::v3::Node node(const std::string &id, const std::string &cluster)
{
    envoy::config::core::v3::Node n;
    n.set_id(id);
    n.set_cluster(cluster);
    return n;
}

constexpr const char *kTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
constexpr const char *kReviewsOut = "outbound|9080||reviews.bookinfo.svc.cluster.local";

// An outbound entry of productpage's sidecar with the given request headers.
als::StreamAccessLogsMessage tracedEntry(const std::vector<std::pair<std::string, std::string>> &headers)
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    auto &e = http(m, kReviewsOut, "/reviews/0", 200);
    for (const auto &[k, v] : headers)
        addHeader(e.mutable_request()->mutable_request_headers(), k, v);
    return m;
}

// The trace fields of the requests agree between the message path and the wire path.
void checkWireTraceFields(const als::StreamAccessLogsMessage &m, const AlsDecodeLimits &limits = {})
{
    const AlsDecoder decoder(limits);
    const AlsDecodeResult a = decoder.decode(m, {}, kNowMs);
    const std::string bytes = m.SerializeAsString();
    const AlsDecodeResult b = decoder.decodeBytes(bytes.data(), bytes.size(), {}, kNowMs);
    QCOMPARE(a.requests.size(), b.requests.size());
    for (size_t i = 0; i < a.requests.size(); ++i) {
        const RequestEvent &x = a.requests[i].event, &y = b.requests[i].event;
        QCOMPARE(x.traceId, y.traceId);
        QCOMPARE(x.spanId, y.spanId);
        QCOMPARE(x.parentSpanId, y.parentSpanId);
        QCOMPARE(x.startNs, y.startNs);
        QCOMPARE(x.spanKind, y.spanKind);
    }
}

}  // namespace

class TestAlsDecoder : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void podNamesToWorkloads();
    void nodeIdentities();
    void nodeIdentityFromIstioMetadata();
    void upstreamClusterForms();
    void gatewayEntryIsExternalToGatewayToService();
    void gatewayEntryWithoutRouteStaysAtGateway();
    void sidecarOutbound();
    void subsetBecomesVersion();
    void tcpEntries();
    void responseFlags();
    void fourXxApartFromFiveXx();
    void passthroughAndOutsideHosts();
    void tlsPeerSanMeansMtls();
    void inboundEntries();
    void grpcFromTrailers();
    void entriesBeforeIdentifier();
    void identityIntroducedByMessage();
    void badEntriesRejectedRestKept();
    void longValuesTruncated();
    void malformedBytes();
    void plainEnvoyNodes();
    void mutatedBytesNeverCrash();
    void traceparentMakesClientSpan();
    void inboundAndGatewaySpans();
    void b3SingleHeader();
    void b3MultiHeaders();
    void requestIdTraces();
    void malformedTraceContexts_data();
    void malformedTraceContexts();
    void malformedContextFallsBackAndRejectedEntryUncounted();
    void randomTraceHeadersNeverCrash();
};

void TestAlsDecoder::podNamesToWorkloads()
{
    QCOMPARE(workloadOfPod("istio-ingressgateway-7d9f-abc"), std::string("istio-ingressgateway"));
    QCOMPARE(workloadOfPod("reviews-v1-5d8f-xyz"), std::string("reviews-v1"));
    QCOMPARE(workloadOfPod("reviews-v1-545db77b95-8nk9c"), std::string("reviews-v1"));
    QCOMPARE(workloadOfPod("fluentd-x7k2p"), std::string("fluentd"));  // DaemonSet
    QCOMPARE(workloadOfPod("redis-0"), std::string("redis"));  // StatefulSet
    QCOMPARE(workloadOfPod("reviews-v1"), std::string("reviews-v1"));  // no generated suffix
    QCOMPARE(workloadOfPod("frontend"), std::string("frontend"));
    QCOMPARE(workloadOfPod("nginx-front"), std::string("nginx-front"));  // a word, not a suffix
}

void TestAlsDecoder::nodeIdentities()
{
    auto check = [](const char *id, const char *cluster, const char *name, const char *ns, const char *version,
                     bool gateway, bool istio) {
        const AlsNodeIdentity who = AlsDecoder::identityOf(node(id, cluster));
        QVERIFY(who.known);
        QVERIFY2(!who.problem, who.problem);
        QCOMPARE(who.workload.kind, NodeKind::Service);
        QCOMPARE(who.workload.name, std::string(name));
        QCOMPARE(who.workload.ns, std::string(ns));
        QCOMPARE(who.workload.version, std::string(version));
        QCOMPARE(who.workload.gateway, gateway);
        QCOMPARE(who.istio, istio);
        QCOMPARE(who.nodeId, std::string(id));
    };
    check(kGatewayId, kGatewayCluster, "istio-ingressgateway", "istio-system", "", true, true);
    check(kGatewayId, "", "istio-ingressgateway", "istio-system", "", true, true);
    check("router~10.1.2.9~istio-egressgateway-6b8c5d7f9-qwrt9.istio-system~istio-system.svc.cluster.local", "",
        "istio-egressgateway", "istio-system", "", true, true);
    // A gateway Deployment by another name is still a gateway: Istio says "router".
    check("router~10.1.2.8~edge-7d9f8c6b5-abcde.edge~edge.svc.cluster.local", "edge.edge", "edge", "edge", "", true,
        true);
    check("sidecar~10.1.2.4~reviews-v1-5d8f-xyz.default~default.svc.cluster.local", "reviews.default", "reviews",
        "default", "v1", false, true);
    check("sidecar~10.1.2.4~reviews-v1-5d8f-xyz.default~default.svc.cluster.local", "", "reviews", "default", "v1",
        false, true);
    check("sidecar~10.1.2.4~reviews-v1-5d8f-xyz.default~default.svc.cluster.local", "istio-proxy", "reviews", "default",
        "v1", false, true);
    check("sidecar~10.1.2.6~ratings-7f9c8d6b4d-x2x9k.shop~shop.svc.cluster.local", "", "ratings", "shop", "", false,
        true);
    check("sidecar~10.1.2.7~redis-0.cache~cache.svc.cluster.local", "redis.cache", "redis", "cache", "", false, true);
    // A sidecar whose workload mentions a gateway is one (as in the aggregator).
    check("sidecar~10.1.2.9~payments-gateway-6d9f7b8c5-p2x7k.pay~pay.svc.cluster.local", "payments-gateway.pay",
        "payments-gateway", "pay", "", true, true);

    const AlsNodeIdentity empty = AlsDecoder::identityOf(node("", ""));
    QVERIFY(empty.known);
    QVERIFY(empty.problem);
    QCOMPARE(empty.workload.name, std::string("unknown"));

    const AlsNodeIdentity badUtf8 = AlsDecoder::identityOf(node("sidecar~1~a\xc3.ns~ns.svc.cluster.local", ""));
    QCOMPARE(std::string(badUtf8.problem), std::string("invalid UTF-8 in node identity"));
    QCOMPARE(badUtf8.workload.name, std::string("unknown"));

    const AlsNodeIdentity tooLong = AlsDecoder::identityOf(node("envoy-1", std::string(300, 'x')));
    QCOMPARE(std::string(tooLong.problem), std::string("node identity too long"));
}

void TestAlsDecoder::nodeIdentityFromIstioMetadata()
{
    envoy::config::core::v3::Node n
        = node("sidecar~10.1.2.4~details-v2-6b8c5d7f9-qwrt9.bookinfo~bookinfo.svc.cluster.local", "");
    auto &fields = *n.mutable_metadata()->mutable_fields();
    fields["NAMESPACE"].set_string_value("bookinfo");
    fields["WORKLOAD_NAME"].set_string_value("details-v2");
    auto &labels = *fields["LABELS"].mutable_struct_value()->mutable_fields();
    labels["app"].set_string_value("details");
    labels["version"].set_string_value("v2");
    labels["service.istio.io/canonical-revision"].set_string_value("latest");  // says nothing
    const AlsNodeIdentity who = AlsDecoder::identityOf(n);
    QCOMPARE(who.workload.name, std::string("details"));
    QCOMPARE(who.workload.ns, std::string("bookinfo"));
    QCOMPARE(who.workload.version, std::string("v2"));

    // Metadata of the wrong shape is ignored, not trusted.
    envoy::config::core::v3::Node odd = node(kReviewsId, "");
    (*odd.mutable_metadata()->mutable_fields())["LABELS"].set_number_value(4);
    (*odd.mutable_metadata()->mutable_fields())["NAMESPACE"].set_bool_value(true);
    const AlsNodeIdentity who2 = AlsDecoder::identityOf(odd);
    QCOMPARE(who2.workload.name, std::string("reviews"));
    QCOMPARE(who2.workload.ns, std::string("bookinfo"));
    QCOMPARE(who2.workload.version, std::string("v1"));
}

void TestAlsDecoder::upstreamClusterForms()
{
    using K = AlsUpstream::Kind;
    auto check
        = [](const char *cluster, K kind, NodeKind nodeKind, const char *name, const char *ns, const char *version) {
              const AlsUpstream up = parseUpstreamCluster(cluster, "home");
              QCOMPARE(int(up.kind), int(kind));
              if (kind != K::Target)
                  return;
              QCOMPARE(up.target.kind, nodeKind);
              QCOMPARE(up.target.name, std::string(name));
              QCOMPARE(up.target.ns, std::string(ns));
              QCOMPARE(up.target.version, std::string(version));
          };
    const NodeKind S = NodeKind::Service, X = NodeKind::ExternalService;
    check("outbound|9080||reviews.default.svc.cluster.local", K::Target, S, "reviews", "default", "");
    check("outbound|9080|v2|reviews.default.svc.cluster.local", K::Target, S, "reviews", "default", "v2");
    check("outbound_.9080_.v3_.reviews.default.svc.cluster.local", K::Target, S, "reviews", "default", "v3");
    check("outbound|6379||redis-0.redis.cache.svc.cluster.local", K::Target, S, "redis", "cache", "");
    check("outbound|443||api.stripe.com", K::Target, X, "api.stripe.com", "", "");
    check("outbound|80||backend", K::Target, S, "backend", "home", "");
    check("backend", K::Target, S, "backend", "home", "");
    check("reviews.default.svc.cluster.local", K::Target, S, "reviews", "default", "");
    check("api.github.com", K::Target, X, "api.github.com", "", "");
    check("10.0.0.7", K::Target, X, "10.0.0.7", "", "");
    check("inbound|9080||", K::Inbound, S, "", "", "");
    check("inbound|9080||reviews.default.svc.cluster.local", K::Inbound, S, "", "", "");
    check("InboundPassthroughClusterIpv4", K::Inbound, S, "", "", "");
    check("PassthroughCluster", K::Passthrough, S, "", "", "");
    check("BlackHoleCluster", K::Passthrough, S, "", "", "");
    check("", K::None, S, "", "", "");
}

void TestAlsDecoder::gatewayEntryIsExternalToGatewayToService()
{
    als::StreamAccessLogsMessage m = identified(kGatewayId, kGatewayCluster);
    for (int i = 0; i < 4; ++i) {
        auto &e = http(m, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/api/v1/products", 200, 30,
            envoy::config::core::v3::POST);
        e.mutable_request()->set_original_path("/products");
        e.mutable_request()->set_request_body_bytes(100);
        e.mutable_response()->set_response_body_bytes(900);
        auto *c = e.mutable_common_properties();
        setDuration(c->mutable_time_to_first_upstream_tx_byte(), 2);
        setDuration(c->mutable_time_to_last_upstream_rx_byte(), 27);
    }
    const Run r = run(m);
    QCOMPARE(r.result.received, uint64_t(4));
    QCOMPARE(r.result.rejected, uint64_t(0));
    QCOMPARE(r.result.httpEntries, uint64_t(4));
    QVERIFY(r.result.reasons.empty());
    QCOMPARE(r.result.requests.size(), size_t(8));  // two per entry
    QVERIFY(r.result.identity && r.result.identity->workload.gateway);

    QCOMPARE(r.snap->edges.size(), size_t(2));
    const EdgeSnapshot *in = r.edge("external->istio-system/istio-ingressgateway");
    const EdgeSnapshot *out = r.edge("istio-system/istio-ingressgateway->bookinfo/productpage");
    QVERIFY2(in && out, qPrintable(edgeList(*r.snap)));
    QCOMPARE(directionName(in->direction), "north_south");
    QCOMPARE(directionName(out->direction), "north_south");
    QCOMPARE(in->stats.requests, uint64_t(4));
    QCOMPARE(out->stats.requests, uint64_t(4));
    QCOMPARE(protocolName(in->protocol), "http");
    QCOMPARE(in->stats.bytes, uint64_t(4000));
    QCOMPARE(in->stats.errorRate, 0.0);
    QVERIFY(in->origins == std::vector<std::string> {"als"});
    QCOMPARE(r.kindOf("external"), "external");
    QCOMPARE(r.kindOf("istio-system/istio-ingressgateway"), "gateway");
    QCOMPARE(r.kindOf("bookinfo/productpage"), "service");
    // The request entering waited 30 ms; the gateway waited 25 ms for productpage.
    QVERIFY2(qAbs(in->stats.p50Ms - 30.0) <= 0.3, qPrintable(QString::number(in->stats.p50Ms)));
    QVERIFY2(qAbs(out->stats.p50Ms - 25.0) <= 0.25, qPrintable(QString::number(out->stats.p50Ms)));

    QCOMPARE(r.recent.size(), size_t(8));
    const RequestEvent &first = r.recent[0];
    QCOMPARE(first.sourceId, std::string("external"));
    QCOMPARE(first.targetId, std::string("istio-system/istio-ingressgateway"));
    QCOMPARE(first.method, std::string("POST"));
    QCOMPARE(first.path, std::string("/products"));  // what the caller asked for
    QCOMPARE(first.authority, std::string("bookinfo.example.com"));
    QCOMPARE(first.httpStatus, 200);
    QCOMPARE(first.timeMs, kNowMs - 1000);
    QCOMPARE(first.origin, std::string("als"));
    const RequestEvent &second = r.recent[1];
    QCOMPARE(second.sourceId, std::string("istio-system/istio-ingressgateway"));
    QCOMPARE(second.targetId, std::string("bookinfo/productpage"));
    QCOMPARE(second.path, std::string("/api/v1/products"));  // what the gateway sent on
    QCOMPARE(second.durationMs, 25.0);
}

void TestAlsDecoder::gatewayEntryWithoutRouteStaysAtGateway()
{
    als::StreamAccessLogsMessage m = identified(kGatewayId, kGatewayCluster);
    auto &e = http(m, "", "/nowhere", 404);
    e.mutable_common_properties()->mutable_response_flags()->set_no_route_found(true);
    const Run r = run(m);
    QCOMPARE(r.result.requests.size(), size_t(1));
    QCOMPARE(r.snap->edges.size(), size_t(1));
    const EdgeSnapshot *in = r.edge("external->istio-system/istio-ingressgateway");
    QVERIFY2(in, qPrintable(edgeList(*r.snap)));
    QCOMPARE(in->stats.rate4xx, 1.0);
    QCOMPARE(in->stats.errorRate, 1.0);  // NR is a failure of the mesh, not of the caller
}

void TestAlsDecoder::sidecarOutbound()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    http(m, "outbound|9080||reviews.bookinfo.svc.cluster.local", "/reviews/0", 200);
    http(m, "outbound|9080||details.bookinfo.svc.cluster.local", "/details/0", 200);
    const Run r = run(m);
    QCOMPARE(r.result.requests.size(), size_t(2));
    const EdgeSnapshot *e = r.edge("bookinfo/productpage@v1->bookinfo/reviews");
    QVERIFY2(e, qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("bookinfo/productpage@v1->bookinfo/details"), qPrintable(edgeList(*r.snap)));
    QCOMPARE(directionName(e->direction), "east_west");
    QCOMPARE(e->mtls, int8_t(-1));  // the sidecar's downstream is its own app
    QCOMPARE(r.kindOf("bookinfo/productpage@v1"), "service");
    QCOMPARE(r.kindOf("bookinfo/reviews"), "service");
    QVERIFY(!r.snap->node("external"));
}

void TestAlsDecoder::subsetBecomesVersion()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    http(m, "outbound|9080|v2|reviews.bookinfo.svc.cluster.local", "/reviews/0", 200);
    http(m, "outbound|9080|v3|reviews.bookinfo.svc.cluster.local", "/reviews/0", 200);
    const Run r = run(m);
    QVERIFY2(r.edge("bookinfo/productpage@v1->bookinfo/reviews@v2"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("bookinfo/productpage@v1->bookinfo/reviews@v3"), qPrintable(edgeList(*r.snap)));
    QCOMPARE(r.snap->node("bookinfo/reviews@v2")->version, std::string("v2"));
}

void TestAlsDecoder::tcpEntries()
{
    als::StreamAccessLogsMessage m = identified(kReviewsId, "reviews.bookinfo");
    tcp(m, "outbound|5432||postgres.db.svc.cluster.local", 1200, 3400, 1500);
    auto &failed = tcp(m, "outbound|5432||postgres.db.svc.cluster.local", 0, 0, 3);
    failed.mutable_common_properties()->mutable_response_flags()->set_upstream_connection_failure(true);
    const Run r = run(m);
    QCOMPARE(r.result.tcpEntries, uint64_t(2));
    QCOMPARE(r.result.httpEntries, uint64_t(0));
    const EdgeSnapshot *e = r.edge("bookinfo/reviews@v1->db/postgres");
    QVERIFY2(e, qPrintable(edgeList(*r.snap)));
    QCOMPARE(protocolName(e->protocol), "tcp");
    QCOMPARE(e->stats.requests, uint64_t(2));
    QCOMPARE(e->stats.bytes, uint64_t(4600));
    QCOMPARE(e->stats.errorRate, 0.5);  // the UF connection
    QCOMPARE(directionName(e->direction), "east_west");
    QCOMPARE(r.recent.size(), size_t(2));
    QCOMPARE(r.recent[0].protocol, Protocol::Tcp);
    QCOMPARE(r.recent[0].durationMs, 1500.0);
    QCOMPARE(r.recent[0].httpStatus, -1);
    QCOMPARE(r.recent[0].bytes, int64_t(4600));
    QVERIFY(!r.recent[0].error);
    QVERIFY(r.recent[1].error);
    QCOMPARE(r.recent[0].timeMs, kNowMs - 2000);

    // Absurd byte counts saturate instead of wrapping around.
    als::StreamAccessLogsMessage huge = identified(kReviewsId, "reviews.bookinfo");
    tcp(huge, "outbound|5432||postgres.db.svc.cluster.local", UINT64_MAX, 5);
    QCOMPARE(AlsDecoder().decode(huge, {}, kNowMs).requests.at(0).event.bytes, int64_t(INT64_MAX));
}

void TestAlsDecoder::responseFlags()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    const std::string up = "outbound|9080||reviews.bookinfo.svc.cluster.local";
    struct Case {
        int status;
        std::function<void(alog::ResponseFlags &)> set;
        bool error;
    };
    const std::vector<Case> cases = {
        {503, [](alog::ResponseFlags &f) { f.set_upstream_connection_failure(true); }, true},  // UF
        {503, [](alog::ResponseFlags &f) { f.set_upstream_overflow(true); }, true},  // UO
        {0, [](alog::ResponseFlags &f) { f.set_no_healthy_upstream(true); }, true},  // UH, no code
        {504, [](alog::ResponseFlags &f) { f.set_upstream_request_timeout(true); }, true},  // UT
        {200, [](alog::ResponseFlags &f) { f.set_upstream_retry_limit_exceeded(true); }, true},  // URX
        {0, [](alog::ResponseFlags &f) { f.set_downstream_connection_termination(true); }, true},  // DC
        {404, [](alog::ResponseFlags &f) { f.set_no_route_found(true); }, true},  // NR
        {200, [](alog::ResponseFlags &f) { f.set_delay_injected(true); }, false},  // DI
        {429, [](alog::ResponseFlags &f) { f.set_rate_limited(true); }, false},  // RL: the caller's 4xx
        {403,
            [](alog::ResponseFlags &f) {
                f.mutable_unauthorized_details()->set_reason(alog::ResponseFlags::Unauthorized::EXTERNAL_SERVICE);
            },
            false},  // UAEX
        {200, [](alog::ResponseFlags &) {}, false},  // flags present, none set
    };
    for (const Case &c : cases)
        c.set(*http(m, up, "/reviews/0", c.status).mutable_common_properties()->mutable_response_flags());
    const Run r = run(m);
    QCOMPARE(r.result.requests.size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
        QVERIFY2(r.result.requests[i].event.error == cases[i].error, qPrintable(QStringLiteral("case %1").arg(i)));
        QCOMPARE(r.result.requests[i].event.httpStatus, cases[i].status > 0 ? cases[i].status : -1);
    }
}

void TestAlsDecoder::fourXxApartFromFiveXx()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    const std::string up = "outbound|9080||reviews.bookinfo.svc.cluster.local";
    for (int status : {200, 200, 200, 200, 200, 200, 404, 401, 503, 500})
        http(m, up, "/reviews/1", status);
    const Run r = run(m);
    const EdgeSnapshot *e = r.edge("bookinfo/productpage@v1->bookinfo/reviews");
    QVERIFY2(e, qPrintable(edgeList(*r.snap)));
    QCOMPARE(e->stats.requests, uint64_t(10));
    QCOMPARE(e->stats.rate4xx, 0.2);
    QCOMPARE(e->stats.rate5xx, 0.2);
    QCOMPARE(e->stats.errorRate, 0.2);  // 4xx are not errors
    int errors = 0;
    for (const RequestEvent &ev : r.recent)
        errors += ev.error ? 1 : 0;
    QCOMPARE(errors, 2);
}

void TestAlsDecoder::passthroughAndOutsideHosts()
{
    als::StreamAccessLogsMessage m = identified(kReviewsId, "reviews.bookinfo");
    auto &viaAuthority = http(m, "PassthroughCluster", "/v1/charges", 200);
    viaAuthority.mutable_request()->set_authority("api.example.com:443");
    auto &blocked = http(m, "BlackHoleCluster", "/", 502);
    blocked.mutable_request()->set_authority("blocked.example.org");
    auto &entry = http(m, "outbound|443||api.stripe.com", "/v1/charges", 200);
    entry.mutable_request()->set_authority("api.stripe.com");
    http(m, "api.github.com", "/repos", 200);
    const Run r = run(m);
    QVERIFY2(r.edge("bookinfo/reviews@v1->ext:api.example.com"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("bookinfo/reviews@v1->ext:blocked.example.org"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("bookinfo/reviews@v1->ext:api.stripe.com"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("bookinfo/reviews@v1->ext:api.github.com"), qPrintable(edgeList(*r.snap)));
    QCOMPARE(r.edge("bookinfo/reviews@v1->ext:blocked.example.org")->stats.errorRate, 1.0);
    QCOMPARE(directionName(r.edge("bookinfo/reviews@v1->ext:api.example.com")->direction), "north_south");
    QCOMPARE(r.kindOf("ext:api.example.com"), "external-service");

    // TCP through PassthroughCluster has no authority: the upstream address names it,
    // else the original destination the listener intercepted.
    als::StreamAccessLogsMessage t = identified(kReviewsId, "reviews.bookinfo");
    auto &conn = tcp(t, "PassthroughCluster", 10, 20);
    auto *addr = conn.mutable_common_properties()->mutable_upstream_remote_address()->mutable_socket_address();
    addr->set_address("93.184.216.34");
    addr->set_port_value(443);
    auto &dropped = tcp(t, "BlackHoleCluster", 0, 0);
    dropped.mutable_common_properties()->mutable_downstream_local_address()->mutable_socket_address()->set_address(
        "198.51.100.7");
    const Run rt = run(t);
    QVERIFY2(rt.edge("bookinfo/reviews@v1->ext:93.184.216.34"), qPrintable(edgeList(*rt.snap)));
    QVERIFY2(rt.edge("bookinfo/reviews@v1->ext:198.51.100.7"), qPrintable(edgeList(*rt.snap)));
}

void TestAlsDecoder::tlsPeerSanMeansMtls()
{
    als::StreamAccessLogsMessage m = identified(kGatewayId, kGatewayCluster);
    auto &withCert = http(m, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/", 200);
    addPeerSan(withCert.mutable_common_properties(), "spiffe://partner.example/ns/edge/sa/client");
    const Run r = run(m);
    QCOMPARE(r.result.requests.size(), size_t(2));
    QCOMPARE(r.result.requests[0].event.mtls, int8_t(1));  // external -> gateway: the peer showed a certificate
    QCOMPARE(r.result.requests[1].event.mtls, int8_t(-1));  // gateway -> productpage: not what tls_properties describe
    QCOMPARE(r.edge("external->istio-system/istio-ingressgateway")->mtls, int8_t(1));
    QCOMPARE(r.edge("istio-system/istio-ingressgateway->bookinfo/productpage")->mtls, int8_t(-1));

    // TLS without a client certificate is not mutual; no TLS properties is unknown.
    als::StreamAccessLogsMessage m2 = identified(kGatewayId, kGatewayCluster);
    auto &serverOnly = http(m2, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/", 200);
    serverOnly.mutable_common_properties()->mutable_tls_properties();  // TLS, no client certificate
    http(m2, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/", 200);
    const Run r2 = run(m2);
    QCOMPARE(r2.result.requests[0].event.mtls, int8_t(0));
    QCOMPARE(r2.result.requests[2].event.mtls, int8_t(-1));

    // A DNS SAN counts as well.
    als::StreamAccessLogsMessage m3 = identified(kReviewsId, "reviews.bookinfo");
    addPeerSan(http(m3, "inbound|9080||", "/", 200).mutable_common_properties(), {}, "client.partner.example");
    const Run r3 = run(m3);
    QCOMPARE(r3.result.requests.size(), size_t(1));
    QCOMPARE(r3.edge("external->bookinfo/reviews@v1")->mtls, int8_t(1));
}

void TestAlsDecoder::inboundEntries()
{
    // An inbound entry: the Envoy's own workload is the callee, the caller unknown.
    als::StreamAccessLogsMessage m = identified(kReviewsId, "reviews.bookinfo");
    http(m, "inbound|9080||", "/reviews/0", 200);
    http(m, "inbound|9080||reviews.bookinfo.svc.cluster.local", "/reviews/1", 500);
    // Called by a mesh workload over mTLS: that caller's sidecar logs it as outbound.
    addPeerSan(http(m, "inbound|9080||", "/reviews/2", 200).mutable_common_properties(),
        "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage");
    const Run r = run(m);
    QCOMPARE(r.result.received, uint64_t(3));
    QCOMPARE(r.result.rejected, uint64_t(1));
    QCOMPARE(r.result.reasons.at(AlsDecoder::kMeshInboundReason), uint64_t(1));
    const EdgeSnapshot *e = r.edge("external->bookinfo/reviews@v1");
    QVERIFY2(e, qPrintable(edgeList(*r.snap)));
    QCOMPARE(e->stats.requests, uint64_t(2));
    QCOMPARE(e->stats.errorRate, 0.5);
    QCOMPARE(r.snap->edges.size(), size_t(1));
    QCOMPARE(r.snap->counters.rejectionReasons.at(AlsDecoder::kMeshInboundReason), uint64_t(1));

    // When only callees report, the mesh caller's request is kept (as from outside).
    AlsDecodeLimits keep;
    keep.skipMeshPeerInbound = false;
    const Run k = run(m, {}, keep);
    QCOMPARE(k.result.rejected, uint64_t(0));
    QCOMPARE(k.edge("external->bookinfo/reviews@v1")->stats.requests, uint64_t(3));
    QCOMPARE(k.edge("external->bookinfo/reviews@v1")->mtls, int8_t(1));
}

void TestAlsDecoder::grpcFromTrailers()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    const std::string up = "outbound|9090||ratings.bookinfo.svc.cluster.local";
    auto &unavailable = http(m, up, "/ratings.v1.Ratings/Get", 200, 20, envoy::config::core::v3::POST);
    addHeader(unavailable.mutable_response()->mutable_response_trailers(), "grpc-status", "14");
    auto &ok = http(m, up, "/ratings.v1.Ratings/Get", 200, 20, envoy::config::core::v3::POST);
    addHeader(ok.mutable_response()->mutable_response_trailers(), "grpc-status", "0");
    // A trailers-only answer carries grpc-status in the headers.
    auto &notFound = http(m, up, "/ratings.v1.Ratings/Get", 200, 20, envoy::config::core::v3::POST);
    addHeader(notFound.mutable_response()->mutable_response_headers(), "grpc-status", "5");
    http(m, up, "/ratings/1", 200);  // plain HTTP
    auto &odd = http(m, up, "/a/b/c", 200);  // not a gRPC path: a stray trailer is not enough
    addHeader(odd.mutable_response()->mutable_response_trailers(), "grpc-status", "2");
    const Run r = run(m);
    QCOMPARE(r.result.requests.size(), size_t(5));
    const auto &ev = r.result.requests;
    QCOMPARE(ev[0].event.protocol, Protocol::Grpc);
    QCOMPARE(ev[0].event.grpcStatus, 14);
    QVERIFY(ev[0].event.error);
    QCOMPARE(ev[0].event.method, std::string("POST"));
    QCOMPARE(ev[1].event.protocol, Protocol::Grpc);
    QCOMPARE(ev[1].event.grpcStatus, 0);
    QVERIFY(!ev[1].event.error);
    QCOMPARE(ev[2].event.grpcStatus, 5);
    QVERIFY(ev[2].event.error);
    QCOMPARE(ev[3].event.protocol, Protocol::Http);
    QCOMPARE(ev[3].event.grpcStatus, -1);
    QCOMPARE(ev[4].event.protocol, Protocol::Http);
    QVERIFY(!ev[4].event.error);
    QCOMPARE(r.edge("bookinfo/productpage@v1->bookinfo/ratings")->stats.errorRate, 0.4);
}

void TestAlsDecoder::entriesBeforeIdentifier()
{
    als::StreamAccessLogsMessage m;  // no identifier, on a stream that has not sent one
    http(m, "outbound|9080||reviews.bookinfo.svc.cluster.local", "/reviews/0", 200);
    http(m, "outbound|5432||postgres.db.svc.cluster.local", "/", 200);
    const Run r = run(m);
    QCOMPARE(r.result.received, uint64_t(2));
    QCOMPARE(r.result.rejected, uint64_t(0));  // kept, under an "unknown" source
    QCOMPARE(r.result.reasons.at(AlsDecoder::kNoIdentifierReason), uint64_t(2));
    QVERIFY(!r.result.identity);
    QVERIFY2(r.edge("unknown->bookinfo/reviews"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("unknown->db/postgres"), qPrintable(edgeList(*r.snap)));
    QCOMPARE(r.snap->counters.rejectionReasons.at(AlsDecoder::kNoIdentifierReason), uint64_t(2));
}

void TestAlsDecoder::identityIntroducedByMessage()
{
    // First message: identifier and entries. Later ones: entries only, decoded with
    // the identity the first one introduced.
    const AlsDecoder decoder;
    als::StreamAccessLogsMessage first = identified(kGatewayId, kGatewayCluster);
    http(first, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/", 200);
    const AlsDecodeResult r1 = decoder.decode(first, {}, kNowMs);
    QVERIFY(r1.identity);
    QCOMPARE(r1.identity->workload.name, std::string("istio-ingressgateway"));
    QCOMPARE(r1.requests.size(), size_t(2));

    als::StreamAccessLogsMessage later;
    http(later, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/", 200);
    const AlsDecodeResult r2 = decoder.decode(later, *r1.identity, kNowMs);
    QVERIFY(!r2.identity);
    QVERIFY(r2.reasons.empty());
    QCOMPARE(r2.requests.size(), size_t(2));
    QCOMPARE(r2.requests[1].source.name, std::string("istio-ingressgateway"));
    QVERIFY(r2.requests[1].source.gateway);
    QCOMPARE(r2.requests[1].target.name, std::string("productpage"));

    // An identifier without a usable node is counted and its entries go to "unknown".
    als::StreamAccessLogsMessage broken;
    broken.mutable_identifier();  // present, but without a node
    http(broken, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/", 200);
    const AlsDecodeResult r3 = decoder.decode(broken, *r1.identity, kNowMs);
    QVERIFY(r3.identity && r3.identity->problem);
    QCOMPARE(r3.reasons.at("node identity without id or cluster"), uint64_t(1));
    QCOMPARE(r3.requests.size(), size_t(1));
    QCOMPARE(r3.requests[0].source.name, std::string("unknown"));
}

void TestAlsDecoder::badEntriesRejectedRestKept()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    const std::string up = "outbound|9080||reviews.bookinfo.svc.cluster.local";
    http(m, up, "/good/1", 200);
    http(m, up, "/caf\xc3", 200);  // invalid UTF-8
    setStart(http(m, up, "/future", 200).mutable_common_properties(), 7'258'118'400'000);  // year 2200
    http(m, up, "/negative", 200).mutable_common_properties()->mutable_duration()->set_seconds(-5);
    setDuration(http(m, up, "/two-days", 200).mutable_common_properties()->mutable_duration(), 2 * 86400e3);
    http(m, "outbound|9080||" + std::string(300, 'r') + ".bookinfo.svc.cluster.local", "/long", 200);
    http(m, up, "/good/2", 200);
    auto &absurd = http(m, up, "/absurd", 200);
    absurd.mutable_common_properties()->mutable_start_time()->set_seconds(INT64_MAX);

    const Run r = run(m);
    QCOMPARE(r.result.received, uint64_t(8));
    QCOMPARE(r.result.rejected, uint64_t(6));
    QCOMPARE(r.result.reasons.at("invalid UTF-8 in request properties"), uint64_t(1));
    QCOMPARE(r.result.reasons.at("start time too far from now"), uint64_t(2));
    QCOMPARE(r.result.reasons.at("negative duration"), uint64_t(1));
    QCOMPARE(r.result.reasons.at("duration over the limit"), uint64_t(1));
    QCOMPARE(r.result.reasons.at("upstream cluster name too long"), uint64_t(1));
    QVERIFY2(QString::fromStdString(r.result.summary()).startsWith(QLatin1String("6 of 8 entries rejected: ")),
        r.result.summary().c_str());
    QCOMPARE(r.result.requests.size(), size_t(2));
    QCOMPARE(r.edge("bookinfo/productpage@v1->bookinfo/reviews")->stats.requests, uint64_t(2));
    QCOMPARE(r.snap->counters.spansRejected, uint64_t(6));

    // An entry without a start time happened now; one without a duration took 0 ms.
    als::StreamAccessLogsMessage bare = identified(kProductpageId, "productpage.bookinfo");
    auto &e = http(bare, up, "/bare", 200);
    e.mutable_common_properties()->clear_start_time();
    e.mutable_common_properties()->clear_duration();
    setDuration(e.mutable_common_properties()->mutable_time_to_last_downstream_tx_byte(), 12);
    http(bare, up, "/bare", 200).mutable_common_properties()->clear_duration();
    const Run rb = run(bare);
    QCOMPARE(rb.result.requests.size(), size_t(2));
    QCOMPARE(rb.result.requests[0].event.timeMs, kNowMs);
    QCOMPARE(rb.result.requests[0].event.durationMs, 12.0);
    QCOMPARE(rb.result.requests[1].event.durationMs, 0.0);
}

void TestAlsDecoder::longValuesTruncated()
{
    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    // 2047 ASCII bytes then a two-byte character straddling the 2048-byte limit.
    const std::string path = "/" + std::string(2046, 'p') + "\xc3\xa9" + std::string(3000, 'q');
    http(m, "outbound|9080||reviews.bookinfo.svc.cluster.local", path, 200);
    const Run r = run(m);
    QCOMPARE(r.result.requests.size(), size_t(1));
    const std::string &got = r.result.requests[0].event.path;
    QCOMPARE(got.size(), size_t(2047));  // the character is not split
    QVERIFY(isValidUtf8(got));
}

void TestAlsDecoder::malformedBytes()
{
    const AlsDecoder decoder;
    const std::string junk("\x0a\xff\xff\xff\x7f\x01\x02\x03 not a protobuf message");
    QVERIFY(decoder.decodeBytes(junk.data(), junk.size(), {}, kNowMs).malformed);

    als::StreamAccessLogsMessage m = identified(kProductpageId, "productpage.bookinfo");
    http(m, "outbound|9080||reviews.bookinfo.svc.cluster.local", "/reviews/0", 200);
    const std::string bytes = m.SerializeAsString();
    const AlsDecodeResult cut = decoder.decodeBytes(bytes.data(), bytes.size() - 3, {}, kNowMs);
    QVERIFY(cut.malformed);
    QVERIFY(cut.requests.empty());
    const AlsDecodeResult whole = decoder.decodeBytes(bytes.data(), bytes.size(), {}, kNowMs);
    QVERIFY(!whole.malformed);
    QCOMPARE(whole.requests.size(), size_t(1));
    // An empty message is valid: nothing in it.
    const AlsDecodeResult empty = decoder.decodeBytes("", 0, {}, kNowMs);
    QVERIFY(!empty.malformed);
    QCOMPARE(empty.received, uint64_t(0));
}

void TestAlsDecoder::plainEnvoyNodes()
{
    // Plain Envoy: the cluster is the service; a front proxy named as a gateway is one.
    als::StreamAccessLogsMessage m = identified("edge-envoy-1", "edge-gateway");
    http(m, "backend", "/api", 200);
    http(m, "api.partner.example", "/hook", 200);
    const Run r = run(m);
    QVERIFY2(r.edge("external->edge-gateway"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("edge-gateway->backend"), qPrintable(edgeList(*r.snap)));
    QVERIFY2(r.edge("edge-gateway->ext:api.partner.example"), qPrintable(edgeList(*r.snap)));
    QCOMPARE(r.kindOf("edge-gateway"), "gateway");
    QCOMPARE(r.edge("edge-gateway->backend")->direction, Direction::NorthSouth);

    als::StreamAccessLogsMessage s = identified("front-envoy-7", "orders");
    http(s, "payments", "/charge", 201);
    const Run rs = run(s);
    QVERIFY2(rs.edge("orders->payments"), qPrintable(edgeList(*rs.snap)));
    QCOMPARE(rs.edge("orders->payments")->direction, Direction::EastWest);
    QCOMPARE(rs.kindOf("orders"), "service");

    // No cluster: the id names the service.
    als::StreamAccessLogsMessage idOnly = identified("inventory", "");
    http(idOnly, "warehouse", "/stock", 200);
    QVERIFY(run(idOnly).edge("inventory->warehouse"));
}

void TestAlsDecoder::mutatedBytesNeverCrash()
{
    // A message using every field the decoder reads, then thousands of corruptions of
    // it (flipped bytes, truncations, spliced copies): each is either malformed or
    // decoded with consistent counts. The libFuzzer target belongs in tests/fuzz.
    als::StreamAccessLogsMessage m = identified(kGatewayId, kGatewayCluster);
    auto &a = http(m, kGatewayCluster, "/ratings.v1.Ratings/Get", 200);
    addHeader(a.mutable_response()->mutable_response_trailers(), "grpc-status", "3");
    addHeader(a.mutable_request()->mutable_request_headers(), "content-type", "application/grpc");
    addPeerSan(a.mutable_common_properties(), "spiffe://cluster.local/ns/a/sa/b");
    a.mutable_common_properties()->mutable_response_flags()->set_upstream_overflow(true);
    auto &b = http(m, "PassthroughCluster", "/x", 503);
    b.mutable_common_properties()->mutable_upstream_remote_address()->mutable_socket_address()->set_address("1.2.3.4");
    http(m, "inbound|80||", "/in", 200);
    auto &n = *m.mutable_identifier()->mutable_node();
    (*(*n.mutable_metadata()->mutable_fields())["LABELS"].mutable_struct_value()->mutable_fields())["app"]
        .set_string_value("gw");
    const std::string good = m.SerializeAsString();

    const AlsDecoder decoder;
    std::mt19937 rng(20231114);
    int malformed = 0, decoded = 0;
    for (int i = 0; i < 5000; ++i) {
        std::string bytes = good;
        switch (i % 4) {
        case 0:
            for (int k = 0; k < 1 + int(rng() % 4); ++k)
                bytes[rng() % bytes.size()] = char(rng());
            break;
        case 1: bytes.resize(rng() % bytes.size()); break;
        case 2: bytes.insert(rng() % bytes.size(), good.substr(rng() % good.size(), rng() % 64)); break;
        default: bytes[rng() % bytes.size()] ^= char(1u << (rng() % 8));
        }
        const AlsDecodeResult r = decoder.decodeBytes(bytes.data(), bytes.size(), {}, kNowMs);
        if (r.malformed) {
            ++malformed;
            QVERIFY(r.requests.empty());
            continue;
        }
        ++decoded;
        QVERIFY(r.rejected <= r.received);
        QVERIFY(r.requests.size() <= 2 * (r.received - r.rejected));
        QCOMPARE(r.httpEntries + r.tcpEntries, r.received);
        for (const ObservedRequest &o : r.requests) {
            QVERIFY(isValidUtf8(o.event.path) && isValidUtf8(o.target.name) && isValidUtf8(o.source.name));
            QVERIFY(o.event.durationMs >= 0);
        }
    }
    QVERIFY(malformed > 0 && decoded > 0);
}

void TestAlsDecoder::traceparentMakesClientSpan()
{
    als::StreamAccessLogsMessage m = tracedEntry({{"traceparent", kTraceparent}, {"x-b3-traceid", "ffff"}});
    auto *c = m.mutable_http_logs()->mutable_log_entry(0)->mutable_common_properties();
    c->mutable_start_time()->set_nanos(123'456'789);  // ALS times are to the nanosecond
    c->set_stream_id("5c5f2b8a-stream-1");
    c->mutable_response_flags()->set_upstream_connection_failure(true);
    c->mutable_response_flags()->set_upstream_retry_limit_exceeded(true);
    const Run r = run(m);
    QVERIFY2(r.result.reasons.empty(), r.result.summary().c_str());  // the B3 header is never looked at
    QCOMPARE(r.result.requests.size(), size_t(1));
    const RequestEvent &ev = r.result.requests[0].event;
    QCOMPARE(ev.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));
    QCOMPARE(spanIdHex(ev.parentSpanId), std::string("b7ad6b7169203331"));
    QVERIFY(ev.spanId != 0);
    QCOMPARE(ev.spanKind, SpanKind::Client);  // outbound: productpage's span
    QCOMPARE(ev.startNs, uint64_t((kNowMs - 1000) / 1000) * 1'000'000'000u + 123'456'789u);
    QCOMPARE(ev.upstreamCluster, std::string(kReviewsOut));
    QCOMPARE(ev.responseFlags, std::string("UF,URX"));
    checkWireTraceFields(m);

    // The graph sees the request once, with its trace id for the requests table.
    QCOMPARE(r.edge("bookinfo/productpage@v1->bookinfo/reviews")->stats.requests, uint64_t(1));
    QCOMPARE(r.recent.size(), size_t(1));
    QCOMPARE(r.recent[0].traceId, ev.traceId);

    // The id is stable (a re-sent entry is a duplicate) and differs per stream and per Envoy.
    QCOMPARE(AlsDecoder().decode(m, {}, kNowMs).requests.at(0).event.spanId, ev.spanId);
    als::StreamAccessLogsMessage other = m;
    other.mutable_http_logs()->mutable_log_entry(0)->mutable_common_properties()->set_stream_id("5c5f2b8a-stream-2");
    QVERIFY(AlsDecoder().decode(other, {}, kNowMs).requests.at(0).event.spanId != ev.spanId);
    als::StreamAccessLogsMessage elsewhere = m;
    identify(elsewhere, kReviewsId, "reviews.bookinfo");
    QVERIFY(AlsDecoder().decode(elsewhere, {}, kNowMs).requests.at(0).event.spanId != ev.spanId);

    // An entry without trace headers has no trace: nothing changes for the graph.
    const Run plain = run(tracedEntry({}));
    const RequestEvent &p = plain.result.requests.at(0).event;
    QVERIFY(p.traceId.empty());
    QCOMPARE(p.spanId, uint64_t(0));
    QCOMPARE(p.spanKind, SpanKind::Unspecified);
    QVERIFY(p.upstreamCluster.empty());
    QVERIFY(plain.result.reasons.empty());

    // A later traceparent version may add fields after a dash.
    const Run v1 = run(tracedEntry({{"traceparent", std::string("01") + (kTraceparent + 2) + "-extra"}}));
    QCOMPARE(v1.result.requests.at(0).event.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));
}

void TestAlsDecoder::inboundAndGatewaySpans()
{
    // Inbound (a caller without a mesh identity): the callee's server span.
    als::StreamAccessLogsMessage in = identified(kReviewsId, "reviews.bookinfo");
    addHeader(http(in, "inbound|9080||", "/reviews/0", 200).mutable_request()->mutable_request_headers(), "traceparent",
        kTraceparent);
    const Run ri = run(in);
    QCOMPARE(ri.result.requests.size(), size_t(1));
    QCOMPARE(ri.result.requests[0].target.name, std::string("reviews"));
    QCOMPARE(ri.result.requests[0].event.spanKind, SpanKind::Server);
    QVERIFY(ri.result.requests[0].event.spanId != 0);
    checkWireTraceFields(in);

    // A routed gateway entry: two requests, one trace; the span is the gateway's call out.
    als::StreamAccessLogsMessage gw = identified(kGatewayId, kGatewayCluster);
    auto &e = http(gw, "outbound|9080||productpage.bookinfo.svc.cluster.local", "/productpage", 200, 30);
    addHeader(e.mutable_request()->mutable_request_headers(), "traceparent", kTraceparent);
    auto *c = e.mutable_common_properties();
    setDuration(c->mutable_time_to_first_upstream_tx_byte(), 2);
    setDuration(c->mutable_time_to_last_upstream_rx_byte(), 27);
    const Run rg = run(gw);
    QCOMPARE(rg.result.requests.size(), size_t(2));
    const RequestEvent &entering = rg.result.requests[0].event;
    const RequestEvent &out = rg.result.requests[1].event;
    QCOMPARE(entering.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));
    QCOMPARE(out.traceId, entering.traceId);
    QCOMPARE(entering.spanId, uint64_t(0));
    QCOMPARE(entering.spanKind, SpanKind::Unspecified);
    QVERIFY(entering.upstreamCluster.empty());
    QVERIFY(out.spanId != 0);
    QCOMPARE(out.spanKind, SpanKind::Client);
    QCOMPARE(rg.result.requests[1].source.name, std::string("istio-ingressgateway"));
    // The span is what the gateway waited for: from the first byte sent upstream, 25 ms.
    QCOMPARE(out.startNs, uint64_t(kNowMs - 1000) * 1'000'000u + 2'000'000u);
    QCOMPARE(out.durationMs, 25.0);
    checkWireTraceFields(gw);

    // Unrouted, the gateway answered itself: its server span on the request entering it.
    als::StreamAccessLogsMessage nr = identified(kGatewayId, kGatewayCluster);
    addHeader(http(nr, "", "/nowhere", 404).mutable_request()->mutable_request_headers(), "traceparent", kTraceparent);
    const Run rn = run(nr);
    QCOMPARE(rn.result.requests.size(), size_t(1));
    QCOMPARE(rn.result.requests[0].event.spanKind, SpanKind::Server);
    QCOMPARE(rn.result.requests[0].target.name, std::string("istio-ingressgateway"));

    // TCP entries log no headers: never a span.
    als::StreamAccessLogsMessage t = identified(kReviewsId, "reviews.bookinfo");
    tcp(t, "outbound|5432||postgres.db.svc.cluster.local", 1, 2);
    QCOMPARE(AlsDecoder().decode(t, {}, kNowMs).requests.at(0).event.spanId, uint64_t(0));
}

void TestAlsDecoder::b3SingleHeader()
{
    const Run r = run(tracedEntry({{"b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"}}));
    QVERIFY(r.result.reasons.empty());
    const RequestEvent &ev = r.result.requests.at(0).event;
    QCOMPARE(ev.traceId, std::string("80f198ee56343ba864fe8b2a57d3eff7"));
    QCOMPARE(spanIdHex(ev.parentSpanId), std::string("e457b5a2e4d86bd1"));  // the caller's span
    QCOMPARE(ev.spanKind, SpanKind::Client);

    // 64-bit trace id, no sampling state: padded to 128 bits.
    const Run r64 = run(tracedEntry({{"b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1"}}));
    QCOMPARE(r64.result.requests.at(0).event.traceId, std::string("000000000000000064fe8b2a57d3eff7"));
    const Run deferred = run(tracedEntry({{"b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-d"}}));
    QVERIFY(deferred.result.requests.at(0).event.spanId != 0);

    // A sampling decision alone names no trace, and is not malformed.
    for (const char *only : {"0", "1", "d"}) {
        const Run s = run(tracedEntry({{"b3", only}}));
        QVERIFY(s.result.requests.at(0).event.traceId.empty());
        QVERIFY2(s.result.reasons.empty(), s.result.summary().c_str());
    }
}

void TestAlsDecoder::b3MultiHeaders()
{
    const Run r = run(tracedEntry({{"x-b3-traceid", "463ac35c9f6413ad"}, {"x-b3-spanid", "a2fb4a1d1a96d312"},
        {"x-b3-parentspanid", "0020000000000001"}, {"x-b3-sampled", "1"}}));
    QVERIFY2(r.result.reasons.empty(), r.result.summary().c_str());
    const RequestEvent &ev = r.result.requests.at(0).event;
    QCOMPARE(ev.traceId, std::string("0000000000000000463ac35c9f6413ad"));
    QCOMPARE(spanIdHex(ev.parentSpanId), std::string("a2fb4a1d1a96d312"));
    QVERIFY(ev.spanId != 0);

    const Run r128
        = run(tracedEntry({{"x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124"}, {"x-b3-spanid", "a2fb4a1d1a96d312"}}));
    QCOMPARE(r128.result.requests.at(0).event.traceId, std::string("463ac35c9f6413ad48485a3953bb6124"));
    checkWireTraceFields(tracedEntry({{"x-b3-traceid", "463ac35c9f6413ad"}, {"x-b3-spanid", "a2fb4a1d1a96d312"}}));
}

void TestAlsDecoder::requestIdTraces()
{
    const std::string uuid = "a3c3b1b4-7f8e-4c3a-9a55-0C1E2D3F4A5B";
    const std::string traceId = "a3c3b1b47f8e4c3a9a550c1e2d3f4a5b";
    als::StreamAccessLogsMessage fromField = tracedEntry({});
    fromField.mutable_http_logs()->mutable_log_entry(0)->mutable_request()->set_request_id(uuid);
    const als::StreamAccessLogsMessage fromHeader = tracedEntry({{"x-request-id", uuid}});
    const std::vector<const als::StreamAccessLogsMessage *> messages = {&fromField, &fromHeader};

    // Off (the default): x-request-id is no trace context, and no problem either.
    for (const auto *m : messages) {
        const Run off = run(*m);
        QVERIFY(off.result.requests.at(0).event.traceId.empty());
        QCOMPARE(off.result.requests.at(0).event.spanId, uint64_t(0));
        QVERIFY(off.result.reasons.empty());
    }

    AlsDecodeLimits on;
    on.requestIdTraces = true;
    for (const auto *m : messages) {
        const Run r = run(*m, {}, on);
        const RequestEvent &ev = r.result.requests.at(0).event;
        QCOMPARE(ev.traceId, traceId);
        QCOMPARE(ev.parentSpanId, uint64_t(0));  // the id names no caller's span
        QVERIFY(ev.spanId != 0);
        QVERIFY(r.result.reasons.empty());
        checkWireTraceFields(*m, on);
    }

    // A real trace context wins over the request id.
    als::StreamAccessLogsMessage both = tracedEntry({{"traceparent", kTraceparent}});
    both.mutable_http_logs()->mutable_log_entry(0)->mutable_request()->set_request_id(uuid);
    QCOMPARE(run(both, {}, on).result.requests.at(0).event.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));

    // Not a UUID: counted, the request kept without a trace.
    for (const char *bad : {"not-a-uuid", "a3c3b1b4-7f8e-4c3a-9a55-0c1e2d3f4a5b00",
             "00000000-0000-0000-0000-000000000000", "a3c3b1b4-7f8e-4c3a-9a55-0c1e2d3f4a5"}) {
        const Run r = run(tracedEntry({{"x-request-id", bad}}), {}, on);
        QCOMPARE(r.result.requests.size(), size_t(1));
        QCOMPARE(r.result.rejected, uint64_t(0));
        QVERIFY(r.result.requests[0].event.traceId.empty());
        QCOMPARE(r.result.reasons.at(AlsDecoder::kBadRequestIdReason), uint64_t(1));
    }
}

void TestAlsDecoder::malformedTraceContexts_data()
{
    QTest::addColumn<QString>("header");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("reason");
    const QString tp = QString::fromLatin1(AlsDecoder::kBadTraceparentReason);
    const QString b3 = QString::fromLatin1(AlsDecoder::kBadB3Reason);
    const QString multi = QString::fromLatin1(AlsDecoder::kBadB3MultiReason);
    const auto row = [](const char *name, const char *header, const char *value, const QString &reason) {
        QTest::newRow(name) << QString::fromLatin1(header) << QString::fromLatin1(value) << reason;
    };
    row("tp short", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", tp);
    row("tp v00 with extra", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", tp);
    row("tp upper case", "traceparent", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", tp);
    row("tp zero trace", "traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01", tp);
    row("tp zero parent", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", tp);
    row("tp version ff", "traceparent", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tp);
    row("tp bad flags", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g", tp);
    row("tp bad separators", "traceparent", "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01", tp);
    row("tp empty", "traceparent", "", tp);
    row("b3 garbage", "b3", "abc-def", b3);
    row("b3 one field", "b3", "80f198ee56343ba864fe8b2a57d3eff7", b3);
    row("b3 zero span", "b3", "80f198ee56343ba864fe8b2a57d3eff7-0000000000000000", b3);
    row("b3 bad sampling", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x", b3);
    row("b3 bad parent", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3", b3);
    row("b3 too many", "b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-1", b3);
    row("b3 20-digit trace", "b3", "80f198ee56343ba864fe-e457b5a2e4d86bd1", b3);
    row("b3 single char", "b3", "x", b3);
    row("multi without span", "x-b3-traceid", "463ac35c9f6413ad", multi);
    row("multi span only", "x-b3-spanid", "a2fb4a1d1a96d312", multi);
}

void TestAlsDecoder::malformedTraceContexts()
{
    QFETCH(QString, header);
    QFETCH(QString, value);
    QFETCH(QString, reason);
    const Run r = run(tracedEntry({{header.toStdString(), value.toStdString()}}));
    QCOMPARE(r.result.rejected, uint64_t(0));
    QCOMPARE(r.result.requests.size(), size_t(1));  // kept for the graph
    const RequestEvent &ev = r.result.requests[0].event;
    QVERIFY(ev.traceId.empty());
    QCOMPARE(ev.spanId, uint64_t(0));
    QCOMPARE(ev.parentSpanId, uint64_t(0));
    QCOMPARE(r.result.reasons.size(), size_t(1));
    QCOMPARE(r.result.reasons.at(reason.toStdString()), uint64_t(1));
    QCOMPARE(r.snap->counters.rejectionReasons.at(reason.toStdString()), uint64_t(1));
    QCOMPARE(r.edge("bookinfo/productpage@v1->bookinfo/reviews")->stats.requests, uint64_t(1));
}

void TestAlsDecoder::malformedContextFallsBackAndRejectedEntryUncounted()
{
    // A malformed header is counted; the entry's next valid context is used.
    const Run r = run(tracedEntry({{"traceparent", "00-zz-b7ad6b7169203331-01"}, {"x-b3-traceid", "463ac35c9f6413ad"},
        {"x-b3-spanid", "a2fb4a1d1a96d312"}, {"x-b3-parentspanid", "nope"},
        {"b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1"}}));
    QCOMPARE(r.result.requests.at(0).event.traceId, std::string("000000000000000064fe8b2a57d3eff7"));
    QCOMPARE(r.result.reasons.at(AlsDecoder::kBadTraceparentReason), uint64_t(1));
    QCOMPARE(r.result.reasons.size(), size_t(1));  // B3 single came first: multi never read
    const Run multi = run(tracedEntry({{"traceparent", "00-zz-b7ad6b7169203331-01"},
        {"x-b3-traceid", "463ac35c9f6413ad"}, {"x-b3-spanid", "a2fb4a1d1a96d312"}, {"x-b3-parentspanid", "nope"}}));
    QVERIFY(multi.result.requests.at(0).event.traceId.empty());
    QCOMPARE(multi.result.reasons.at(AlsDecoder::kBadB3MultiReason), uint64_t(1));
    QCOMPARE(multi.result.reasons.at(AlsDecoder::kBadTraceparentReason), uint64_t(1));

    // A rejected entry yields no request: its header problems are not counted on top.
    als::StreamAccessLogsMessage m = identified(kReviewsId, "reviews.bookinfo");
    auto &e = http(m, "inbound|9080||", "/reviews/0", 200);
    addPeerSan(e.mutable_common_properties(), "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage");
    addHeader(e.mutable_request()->mutable_request_headers(), "traceparent", "garbage");
    const Run rejected = run(m);
    QCOMPARE(rejected.result.rejected, uint64_t(1));
    QCOMPARE(rejected.result.reasons.size(), size_t(1));
    QCOMPARE(rejected.result.reasons.count(AlsDecoder::kMeshInboundReason), size_t(1));
}

void TestAlsDecoder::randomTraceHeadersNeverCrash()
{
    // Header values near the valid shapes (hex digits and dashes, about the right
    // lengths): whatever they hold, the request is kept and any trace id it gets is valid.
    std::mt19937 rng(20240605);
    const std::string alphabet = "0123456789abcdef0123456789abcdef-----ABCDEFxz \x01\xff";
    auto randomValue = [&]() {
        static constexpr size_t kLengths[] = {0, 1, 16, 32, 33, 36, 50, 55, 56, 60, 70};
        std::string v(kLengths[rng() % std::size(kLengths)] + rng() % 2, ' ');
        for (char &c : v)
            c = alphabet[rng() % alphabet.size()];
        return v;
    };
    AlsDecodeLimits limits;
    limits.requestIdTraces = true;
    const AlsDecoder decoder(limits);
    const char *keys[] = {"traceparent", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-request-id"};
    int traced = 0;
    for (int i = 0; i < 5000; ++i) {
        std::vector<std::pair<std::string, std::string>> headers;
        for (const char *k : keys) {
            if (rng() % 3 == 0)
                headers.emplace_back(k, randomValue());
        }
        if (rng() % 4 == 0)  // now and then a valid traceparent with a random tail
            headers.emplace_back("traceparent", std::string(kTraceparent).substr(0, rng() % 60) + randomValue());
        const AlsDecodeResult r = decoder.decode(tracedEntry(headers), {}, kNowMs);
        QCOMPARE(r.requests.size(), size_t(1));
        QCOMPARE(r.rejected, uint64_t(0));
        const RequestEvent &ev = r.requests[0].event;
        if (ev.traceId.empty()) {
            QCOMPARE(ev.spanId, uint64_t(0));
            continue;
        }
        ++traced;
        QCOMPARE(ev.traceId.size(), size_t(32));
        QVERIFY(std::all_of(ev.traceId.begin(), ev.traceId.end(),
            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
        QVERIFY(ev.traceId != std::string(32, '0'));
        QVERIFY(ev.spanId != 0);
    }
    QVERIFY(traced > 0);
}

QTEST_GUILESS_MAIN(TestAlsDecoder)
#include "tst_alsdecoder.moc"

// Access-log spans: the requests the ALS decoder marked with a trace context become
// spans of the right workload, kind, name, times and status, children of the caller's
// span; the TraceStoreSink keeps them in the store and hands the requests on unchanged,
// never as spans (the graph counts each request once).

#include "common/alsbuilder.h"
#include "common/printers.h"
#include "envoy/service/accesslog/v3/als.pb.h"
#include "telemetry/als/alsdecoder.h"
#include "traces/accesslogspans.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"
#include "traces/tracetree.h"

#include <QtTest>

#include <algorithm>
#include <cstring>
#include <string>

using namespace meshscope;
using namespace meshscope::test;

namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;
constexpr uint64_t kStartNs = 1'699'999'999'000'123'456;
constexpr const char *kTraceHex = "0af7651916cd43dd8448eb211c80319c";
constexpr const char *kCallerHex = "b7ad6b7169203331";

NodeRef ref(NodeKind kind, const char *ns, const char *name, const char *version = "")
{
    NodeRef r;
    r.kind = kind;
    r.ns = ns;
    r.name = name;
    r.version = version;
    return r;
}

uint64_t spanIdOf(const char *hex)
{
    uint8_t bytes[8];
    for (size_t i = 0; i < 8; ++i)
        bytes[i] = uint8_t(std::stoul(std::string(hex + 2 * i, 2), nullptr, 16));
    uint64_t id = 0;
    std::memcpy(&id, bytes, 8);
    return id;
}

TraceId traceIdOf(const char *hex)
{
    TraceId id {};
    for (size_t i = 0; i < id.size(); ++i)
        id[i] = uint8_t(std::stoul(std::string(hex + 2 * i, 2), nullptr, 16));
    return id;
}

// productpage's sidecar calling reviews, as the decoder leaves an outbound entry.
ObservedRequest outbound(int status = 200, bool error = false)
{
    ObservedRequest r;
    r.source = ref(NodeKind::Service, "bookinfo", "productpage", "v1");
    r.target = ref(NodeKind::Service, "bookinfo", "reviews");
    RequestEvent &e = r.event;
    e.timeMs = kNowMs - 1000;
    e.protocol = Protocol::Http;
    e.method = "GET";
    e.path = "/reviews/0?token=secret";
    e.authority = "reviews:9080";
    e.httpStatus = status;
    e.error = error;
    e.durationMs = 12.5;
    e.bytes = 300;
    e.traceId = kTraceHex;
    e.origin = "als";
    e.spanId = 0x1111'2222'3333'4444ull;
    e.parentSpanId = spanIdOf(kCallerHex);
    e.startNs = kStartNs;
    e.spanKind = SpanKind::Client;
    e.upstreamCluster = "outbound|9080||reviews.bookinfo.svc.cluster.local";
    e.responseFlags = error ? "UF" : "";
    return r;
}

// reviews' sidecar taking a request from a caller it cannot name.
ObservedRequest inbound()
{
    ObservedRequest r = outbound();
    r.source = ref(NodeKind::External, "", "");
    r.target = ref(NodeKind::Service, "bookinfo", "reviews", "v1");
    r.event.spanKind = SpanKind::Server;
    r.event.spanId = 0x5555'6666'7777'8888ull;
    r.event.upstreamCluster = "inbound|9080||";
    r.event.mtls = 1;
    return r;
}

const SpanAttribute *attribute(const Span &s, const std::string &key)
{
    auto it
        = std::find_if(s.attributes.begin(), s.attributes.end(), [&](const SpanAttribute &a) { return a.key == key; });
    return it == s.attributes.end() ? nullptr : &*it;
}

std::string attributeValue(const Span &s, const std::string &key)
{
    const SpanAttribute *a = attribute(s, key);
    return a ? a->value : std::string("(none)");
}

bool sameEvent(const RequestEvent &x, const RequestEvent &y)
{
    return x.timeMs == y.timeMs && x.method == y.method && x.path == y.path && x.authority == y.authority
        && x.httpStatus == y.httpStatus && x.error == y.error && x.durationMs == y.durationMs && x.bytes == y.bytes
        && x.traceId == y.traceId && x.spanId == y.spanId && x.parentSpanId == y.parentSpanId && x.startNs == y.startNs
        && x.spanKind == y.spanKind && x.upstreamCluster == y.upstreamCluster && x.responseFlags == y.responseFlags;
}

// What the next sink (the aggregator, in the application) receives.
class CountingSink : public TelemetrySink {
public:
    void ingestSpans(std::vector<Span> &&spans, int64_t, const char *) override { spanCount += spans.size(); }
    void ingestRequests(std::vector<ObservedRequest> &&r, int64_t, const char *origin) override
    {
        requests.insert(requests.end(), r.begin(), r.end());
        lastOrigin = origin;
    }
    void setPulledEdges(const std::string &, std::vector<PulledEdge>, int64_t) override { }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
    void countMalformed(const std::string &) override { }
    void countOversized(const std::string &) override { }

    size_t spanCount = 0;
    std::vector<ObservedRequest> requests;
    std::string lastOrigin;
};

}  // namespace

class TestAccessLogSpans : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void clientSpanOfTheSource();
    void serverSpanOfTheTarget();
    void namesAndTimes();
    void errorStatus();
    void requestsWithoutSpanSkipped();
    void childOfTheCallersSpan();
    void traceStoreSinkKeepsSpansPassesRequests();
};

void TestAccessLogSpans::clientSpanOfTheSource()
{
    const std::vector<Span> spans = spansFromRequests({outbound()});
    QCOMPARE(spans.size(), size_t(1));
    const Span &s = spans[0];
    QCOMPARE(traceIdHex(s.traceId), std::string(kTraceHex));
    QCOMPARE(s.spanId, 0x1111'2222'3333'4444ull);
    QCOMPARE(spanIdHex(s.parentSpanId), std::string(kCallerHex));
    QCOMPARE(s.kind, SpanKind::Client);
    QCOMPARE(s.service, std::string("productpage"));
    QCOMPARE(s.serviceNamespace, std::string("bookinfo"));
    QCOMPARE(s.serviceVersion, std::string("v1"));
    QCOMPARE(s.peer, std::string("reviews"));
    QCOMPARE(s.protocol, Protocol::Http);
    QCOMPARE(s.method, std::string("GET"));
    QCOMPARE(s.path, std::string("/reviews/0?token=secret"));
    QCOMPARE(s.authority, std::string("reviews:9080"));
    QCOMPARE(s.httpStatus, 200);
    QCOMPARE(s.grpcStatus, -1);
    QCOMPARE(s.status, SpanStatus::Unset);
    QCOMPARE(attributeValue(s, "meshscope.source"), std::string(kAccessLogSpanSource));
    QCOMPARE(
        attributeValue(s, "envoy.upstream_cluster"), std::string("outbound|9080||reviews.bookinfo.svc.cluster.local"));
    QCOMPARE(attributeValue(s, "http.request.method"), std::string("GET"));
    QCOMPARE(attributeValue(s, "http.response.status_code"), std::string("200"));
    QVERIFY(!attribute(s, "envoy.response_flags"));  // none set
    QVERIFY(!attribute(s, "rpc.grpc.status_code"));
    QVERIFY(std::none_of(s.attributes.begin(), s.attributes.end(), [](const SpanAttribute &a) { return a.resource; }));
}

void TestAccessLogSpans::serverSpanOfTheTarget()
{
    ObservedRequest grpc = inbound();
    grpc.event.protocol = Protocol::Grpc;
    grpc.event.grpcStatus = 0;
    const std::vector<Span> spans = spansFromRequests({inbound(), grpc});
    QCOMPARE(spans.size(), size_t(2));
    const Span &s = spans[0];
    QCOMPARE(s.kind, SpanKind::Server);
    QCOMPARE(s.service, std::string("reviews"));
    QCOMPARE(s.serviceNamespace, std::string("bookinfo"));
    QCOMPARE(s.serviceVersion, std::string("v1"));
    QVERIFY(s.peer.empty());  // the caller is outside: no name to give
    QCOMPARE(s.mtls, int8_t(1));
    QCOMPARE(spanIdHex(s.parentSpanId), std::string(kCallerHex));
    QCOMPARE(attributeValue(s, "envoy.upstream_cluster"), std::string("inbound|9080||"));
    QCOMPARE(spans[1].protocol, Protocol::Grpc);
    QCOMPARE(attributeValue(spans[1], "rpc.grpc.status_code"), std::string("0"));
}

void TestAccessLogSpans::namesAndTimes()
{
    // Envoy's tracer under Istio names spans by host and path: so do these, without the query.
    const Span s = spansFromRequests({outbound()}).at(0);
    QCOMPARE(s.name, std::string("reviews:9080/reviews/0"));
    QCOMPARE(s.startNs, kStartNs);  // to the nanosecond, not the event's ms
    QCOMPARE(s.endNs, kStartNs + 12'500'000u);
    QCOMPARE(s.durationMs(), 12.5);

    ObservedRequest noAuthority = outbound();
    noAuthority.event.authority.clear();
    QCOMPARE(spansFromRequests({noAuthority}).at(0).name, std::string("/reviews/0"));
    ObservedRequest bare = noAuthority;
    bare.event.path.clear();
    QCOMPARE(spansFromRequests({bare}).at(0).name, std::string("GET"));

    // No ns start (not expected from the decoder): the event's ms start.
    ObservedRequest msOnly = outbound();
    msOnly.event.startNs = 0;
    msOnly.event.durationMs = 0;
    const Span m = spansFromRequests({msOnly}).at(0);
    QCOMPARE(m.startNs, uint64_t(kNowMs - 1000) * 1'000'000u);
    QCOMPARE(m.endNs, m.startNs);
}

void TestAccessLogSpans::errorStatus()
{
    // The graph's rule: 5xx, gRPC non-OK or a failure flag (the decoder's `error`).
    const Span failed = spansFromRequests({outbound(503, true)}).at(0);
    QCOMPARE(failed.status, SpanStatus::Error);
    QVERIFY(isErrorSpan(failed));
    QCOMPARE(attributeValue(failed, "envoy.response_flags"), std::string("UF"));
    QCOMPARE(attributeValue(failed, "http.response.status_code"), std::string("503"));

    const Span notFound = spansFromRequests({outbound(404, false)}).at(0);
    QCOMPARE(notFound.status, SpanStatus::Unset);
    QVERIFY(!isErrorSpan(notFound));

    ObservedRequest server = inbound();
    server.event.httpStatus = 500;
    server.event.error = true;
    const Span s = spansFromRequests({server}).at(0);
    QCOMPARE(s.status, SpanStatus::Error);
    QVERIFY(isErrorSpan(s));
}

void TestAccessLogSpans::requestsWithoutSpanSkipped()
{
    ObservedRequest noSpan = outbound();
    noSpan.event.spanId = 0;  // the gateway's entering copy: trace id only
    ObservedRequest shortId = outbound();
    shortId.event.traceId = "0af7651916cd43dd";
    ObservedRequest notHex = outbound();
    notHex.event.traceId = "0af7651916cd43dd8448eb211c80319z";
    ObservedRequest zero = outbound();
    zero.event.traceId = std::string(32, '0');
    ObservedRequest plain;  // from a source that knows no trace
    const std::vector<Span> spans = spansFromRequests({noSpan, shortId, notHex, zero, plain, outbound()});
    QCOMPARE(spans.size(), size_t(1));
    Span untouched;
    untouched.name = "kept";
    QVERIFY(!spanFromRequest(noSpan, untouched));
    QCOMPARE(untouched.name, std::string("kept"));
}

void TestAccessLogSpans::childOfTheCallersSpan()
{
    // productpage's app span calls reviews; its sidecar logs the call with the app's
    // traceparent. Decoded and turned into a span, the entry hangs under the app span.
    namespace als = envoy::service::accesslog::v3;
    als::StreamAccessLogsMessage m;
    identify(m, "sidecar~10.1.2.4~productpage-v1-5d8f-xyz.bookinfo~bookinfo.svc.cluster.local", "productpage.bookinfo");
    auto *e = m.mutable_http_logs()->add_log_entry();
    auto *c = e->mutable_common_properties();
    setStart(c, kNowMs - 1000);
    c->mutable_start_time()->set_nanos(c->start_time().nanos() + 250'000);  // 0.25 ms after the app's span began
    setDuration(c->mutable_duration(), 8);
    c->set_upstream_cluster("outbound|9080||reviews.bookinfo.svc.cluster.local");
    e->mutable_request()->set_request_method(envoy::config::core::v3::GET);
    e->mutable_request()->set_path("/reviews/0");
    e->mutable_request()->set_authority("reviews:9080");
    e->mutable_response()->mutable_response_code()->set_value(200);
    auto *h = e->mutable_request()->add_request_headers();
    h->set_key("traceparent");
    h->set_value(std::string("00-") + kTraceHex + "-" + kCallerHex + "-01");
    const AlsDecodeResult decoded = AlsDecoder().decode(m, {}, kNowMs);
    QCOMPARE(decoded.requests.size(), size_t(1));

    Span app;
    app.traceId = traceIdOf(kTraceHex);
    app.spanId = spanIdOf(kCallerHex);
    app.kind = SpanKind::Internal;
    app.service = "productpage";
    app.name = "render";
    app.startNs = uint64_t(kNowMs - 1000) * 1'000'000u;
    app.endNs = app.startNs + 10'000'000u;
    std::vector<Span> spans = spansFromRequests(decoded.requests);
    QCOMPARE(spans.size(), size_t(1));
    QCOMPARE(spans[0].startNs, app.startNs + 250'000u);
    QCOMPARE(spans[0].endNs, app.startNs + 8'250'000u);
    QCOMPARE(spans[0].name, std::string("reviews:9080/reviews/0"));
    spans.push_back(app);

    const TraceTree tree = buildTraceTree(spans);
    QCOMPARE(tree.size(), size_t(2));
    QVERIFY(!tree.isSynthetic(0));
    QCOMPARE(tree.spans[0].spanId, app.spanId);  // the app's span is the root
    QCOMPARE(tree.parent[1], 0);
    QCOMPARE(tree.spans[1].kind, SpanKind::Client);
    QCOMPARE(tree.spans[1].service, std::string("productpage"));
}

void TestAccessLogSpans::traceStoreSinkKeepsSpansPassesRequests()
{
    TraceStore store;
    CountingSink next;
    TraceStoreSink sink(store, next);
    ObservedRequest noSpan = outbound();
    noSpan.event.spanId = 0;
    ObservedRequest plain;
    plain.source = ref(NodeKind::Service, "bookinfo", "details");
    plain.target = ref(NodeKind::Service, "bookinfo", "ratings");
    const std::vector<ObservedRequest> requests = {outbound(), noSpan, plain, inbound()};
    sink.ingestRequests(std::vector<ObservedRequest>(requests), kNowMs, "als");

    // The store holds the two spans ...
    QCOMPARE(store.counters().spans, uint64_t(2));
    const std::optional<std::vector<Span>> trace = store.trace(traceIdOf(kTraceHex));
    QVERIFY(trace);
    QCOMPARE(trace->size(), size_t(2));
    QCOMPARE(trace->at(0), spansFromRequests({outbound()}).at(0));
    QCOMPARE(trace->at(1).kind, SpanKind::Server);

    // ... the next sink the four requests, unchanged, and no span at all.
    QCOMPARE(next.spanCount, size_t(0));
    QCOMPARE(next.lastOrigin, std::string("als"));
    QCOMPARE(next.requests.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i)
        QVERIFY2(sameEvent(next.requests[i].event, requests[i].event), qPrintable(QStringLiteral("request %1").arg(i)));

    // The same entries again (a re-sent message): the store keeps one copy of each span.
    sink.ingestRequests(std::vector<ObservedRequest>(requests), kNowMs, "als");
    QCOMPARE(store.counters().spans, uint64_t(2));
    QCOMPARE(store.counters().duplicateSpans, uint64_t(2));
    QCOMPARE(next.requests.size(), 2 * requests.size());
    QCOMPARE(next.spanCount, size_t(0));
}

QTEST_GUILESS_MAIN(TestAccessLogSpans)
#include "tst_accesslogspans.moc"

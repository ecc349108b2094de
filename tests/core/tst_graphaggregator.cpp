// GraphAggregator: node kinds, north-south / east-west classification, error rates,
// sliding windows, folding past the node limit, peer resolution, the recent-request
// feed, and the JSON / DOT export of the snapshot it produces.

#include "common/otlpbuilder.h"
#include "graph/graphaggregator.h"
#include "graph/graphexport.h"
#include "graph/windowstats.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <functional>

using namespace meshscope;
using namespace meshscope::test;

namespace {

QString nodeList(const GraphSnapshot &snap)
{
    QStringList ids;
    for (const NodeSnapshot &n : snap.nodes)
        ids << QString::fromStdString(n.id) + QLatin1Char(':') + QString::fromLatin1(nodeKindName(n.kind));
    return ids.join(QLatin1String(", "));
}

// Builds traces as chains of client/server pairs with unique ids.
class TraceWriter {
public:
    explicit TraceWriter(GraphAggregator &agg)
        : m_agg(agg)
    {
    }

    // A request from outside into `service`: a root server span. Returns its id so
    // that the service's own outgoing calls can hang under it.
    uint64_t root(const std::string &service, const std::string &ns = {}, const std::string &version = {},
        double ms = 10, int httpStatus = 200)
    {
        const uint64_t id = next();
        Span s = withIdentity(serverSpan(service, m_trace, id, 0, kT0Ns, ms), ns, version);
        s.httpStatus = httpStatus;
        m_agg.ingestSpans(batch(std::move(s)), m_nowMs);
        return id;
    }

    // caller -> callee, both instrumented. `fill` adjusts the server span (status...).
    uint64_t call(uint64_t parent, const Span &callerIdentity, const Span &calleeIdentity, double ms = 5,
        const std::function<void(Span &)> &fill = {})
    {
        const uint64_t clientId = next(), serverId = next();
        Span c = withIdentity(clientSpan(callerIdentity.service, m_trace, clientId, parent, kT0Ns, ms),
            callerIdentity.serviceNamespace, callerIdentity.serviceVersion);
        Span s = withIdentity(serverSpan(calleeIdentity.service, m_trace, serverId, clientId, kT0Ns, ms * 0.8),
            calleeIdentity.serviceNamespace, calleeIdentity.serviceVersion);
        if (fill)
            fill(s);
        m_agg.ingestSpans(batch(std::move(c), std::move(s)), m_nowMs);
        return serverId;
    }

    // caller -> an uninstrumented peer named `peer`: resolved when the TTL runs out.
    void lone(uint64_t parent, const Span &callerIdentity, const std::string &peer, double ms = 3)
    {
        Span c = withIdentity(clientSpan(callerIdentity.service, m_trace, next(), parent, kT0Ns, ms),
            callerIdentity.serviceNamespace, callerIdentity.serviceVersion);
        c.peer = peer;
        c.protocol = Protocol::Tcp;
        m_agg.ingestSpans(batch(std::move(c)), m_nowMs);
    }

    void setNow(int64_t ms) { m_nowMs = ms; }
    void newTrace() { ++m_trace; }

private:
    // Span ids are unique across writers: the pairer treats a reused id as a resend.
    static uint64_t next()
    {
        static uint64_t id = 0x1000;
        return ++id;
    }
    GraphAggregator &m_agg;
    uint64_t m_trace = 1;
    int64_t m_nowMs = kT0Ms;
};

Span who(const std::string &service, const std::string &ns = {}, const std::string &version = {})
{
    Span s;
    s.service = service;
    s.serviceNamespace = ns;
    s.serviceVersion = version;
    return s;
}

// A parent span id that no test sends: spans under it were called from inside the
// mesh by something uninstrumented, never from "external" as a root.
constexpr uint64_t kInsideParent = 0x1;

AggregatorConfig shortTtl()
{
    AggregatorConfig c;
    c.pairingTtlMs = 1000;
    return c;
}

// The small mesh most tests look at: external -> ingress gateway -> frontend ->
// {reviews, ratings}, reviews -> ext:postgres (uninstrumented).
void writeShop(GraphAggregator &agg, int requests = 4)
{
    TraceWriter w(agg);
    const Span gw = who("istio-ingressgateway", "istio-system", "v1");
    const Span frontend = who("frontend", "shop", "v1");
    const Span reviews = who("reviews", "shop", "v1");
    const Span ratings = who("ratings", "shop", "v1");
    for (int i = 0; i < requests; ++i) {
        w.newTrace();
        const uint64_t g = w.root(gw.service, gw.serviceNamespace, gw.serviceVersion);
        const uint64_t f = w.call(g, gw, frontend);
        const uint64_t r = w.call(f, frontend, reviews);
        w.call(f, frontend, ratings);
        w.lone(r, reviews, "postgres");
    }
}

}  // namespace

class TestGraphAggregator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void nodeIdsAndKinds();
    void northSouthEastWest();
    void gatewayByName_data();
    void gatewayByName();
    void gatewayByConfiguration();
    void gatewayByNameCanBeTurnedOff();
    void gatewayStructurally();
    void errorRates();
    void grpcAndSpanStatusErrorsFromEitherHalf();
    void windowStatsSliding();
    void windowStatsSeriesAndStatusCodes();
    void aggregatorWindowSliding();
    void rpsOverElapsedTime();
    void foldingPastNodeLimit();
    void peerResolvesToExistingService();
    void peerResolvesKubernetesDnsWithNamespace();
    void recentRequestsOrderingAndBounds();
    void recentRequestsCarryRequestDetails();
    void jsonExportShape();
    void dotExportHasEdges();
    void snapshotGenerationsAndLookup();
};

void TestGraphAggregator::nodeIdsAndKinds()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    writeShop(agg);
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 2000);

    struct Want {
        const char *id;
        const char *name;
        const char *ns;
        const char *version;
        NodeKind kind;
    };
    const Want wants[] = {
        {"external", "external", "", "", NodeKind::External},
        {"istio-system/istio-ingressgateway@v1", "istio-ingressgateway", "istio-system", "v1", NodeKind::Gateway},
        {"shop/frontend@v1", "frontend", "shop", "v1", NodeKind::Service},
        {"shop/reviews@v1", "reviews", "shop", "v1", NodeKind::Service},
        {"shop/ratings@v1", "ratings", "shop", "v1", NodeKind::Service},
        {"ext:postgres", "postgres", "", "", NodeKind::ExternalService},
    };
    QCOMPARE(snap->nodes.size(), std::size(wants));
    for (const Want &w : wants) {
        const NodeSnapshot *n = snap->node(w.id);
        QVERIFY2(n, qPrintable(QLatin1String(w.id) + QLatin1String(" missing from ") + nodeList(*snap)));
        QCOMPARE(n->name, std::string(w.name));
        QCOMPARE(n->ns, std::string(w.ns));
        QCOMPARE(n->version, std::string(w.version));
        QCOMPARE(nodeKindName(n->kind), nodeKindName(w.kind));
    }
    // Node statistics are what a node served; "external" serves nothing and is
    // measured by what it sent.
    QCOMPARE(snap->node("shop/reviews@v1")->stats.requests, uint64_t(4));
    QCOMPARE(snap->node("ext:postgres")->stats.requests, uint64_t(4));
    QCOMPARE(snap->node("external")->stats.requests, uint64_t(4));
}

void TestGraphAggregator::northSouthEastWest()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    writeShop(agg, 3);
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 2000);
    const std::pair<const char *, Direction> wants[] = {
        {"external->istio-system/istio-ingressgateway@v1", Direction::NorthSouth},
        {"istio-system/istio-ingressgateway@v1->shop/frontend@v1", Direction::NorthSouth},
        {"shop/frontend@v1->shop/reviews@v1", Direction::EastWest},
        {"shop/frontend@v1->shop/ratings@v1", Direction::EastWest},
        {"shop/reviews@v1->ext:postgres", Direction::NorthSouth},
    };
    QCOMPARE(snap->edges.size(), std::size(wants));
    for (const auto &[id, dir] : wants) {
        const EdgeSnapshot *e = snap->edge(id);
        QVERIFY2(e, qPrintable(QLatin1String(id) + QLatin1String(" missing from ") + edgeList(*snap)));
        QCOMPARE(directionName(e->direction), directionName(dir));
        QCOMPARE(e->stats.requests, uint64_t(3));
    }
    QCOMPARE(snap->edge("shop/reviews@v1->ext:postgres")->protocol, Protocol::Tcp);
    QCOMPARE(snap->edge("shop/frontend@v1->shop/reviews@v1")->protocol, Protocol::Http);
}

void TestGraphAggregator::gatewayByName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("gateway");
    QTest::newRow("istio-ingressgateway") << QStringLiteral("istio-ingressgateway") << true;
    QTest::newRow("istio-egressgateway") << QStringLiteral("istio-egressgateway") << true;
    QTest::newRow("ingress-nginx") << QStringLiteral("ingress-nginx") << true;
    QTest::newRow("api_gateway") << QStringLiteral("api_gateway") << true;
    QTest::newRow("Envoy.Gateway") << QStringLiteral("Envoy.Gateway") << true;
    QTest::newRow("frontend") << QStringLiteral("frontend") << false;
    QTest::newRow("regression-runner") << QStringLiteral("regression-runner") << false;
    QTest::newRow("progress") << QStringLiteral("progress") << false;
}

void TestGraphAggregator::gatewayByName()
{
    QFETCH(QString, name);
    QFETCH(bool, gateway);
    GraphAggregator agg(shortTtl(), kT0Ms);
    TraceWriter w(agg);
    // Called by a service that is itself called from inside (its parent span is
    // not a root), and calling nothing: only its name can make it a gateway.
    w.call(kInsideParent, who("caller"), who(name.toStdString()));
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    const NodeSnapshot *n = snap->node(name.toStdString());
    QVERIFY2(n, qPrintable(nodeList(*snap)));
    QCOMPARE(nodeKindName(n->kind), gateway ? "gateway" : "service");
    const EdgeSnapshot *e = snap->edge("caller->" + name.toStdString());
    QVERIFY(e);
    QCOMPARE(directionName(e->direction), gateway ? "north_south" : "east_west");
}

void TestGraphAggregator::gatewayByConfiguration()
{
    AggregatorConfig cfg = shortTtl();
    cfg.gatewayNames = {"edge-router"};
    GraphAggregator agg(cfg, kT0Ms);
    TraceWriter w(agg);
    w.call(kInsideParent, who("frontend"), who("edge-router", "infra", "v2"));
    w.call(kInsideParent, who("frontend"), who("catalog"));
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    QCOMPARE(snap->node("infra/edge-router@v2")->kind, NodeKind::Gateway);
    QCOMPARE(snap->node("catalog")->kind, NodeKind::Service);
    QCOMPARE(snap->edge("frontend->infra/edge-router@v2")->direction, Direction::NorthSouth);
    QCOMPARE(snap->edge("frontend->catalog")->direction, Direction::EastWest);

    // The same traffic without the configuration: an ordinary service.
    GraphAggregator plain(shortTtl(), kT0Ms);
    TraceWriter w2(plain);
    w2.call(kInsideParent, who("frontend"), who("edge-router", "infra", "v2"));
    GraphSnapshotPtr snap2 = plain.snapshot(kT0Ms + 100);
    QCOMPARE(snap2->node("infra/edge-router@v2")->kind, NodeKind::Service);
    QCOMPARE(snap2->edge("frontend->infra/edge-router@v2")->direction, Direction::EastWest);
}

void TestGraphAggregator::gatewayByNameCanBeTurnedOff()
{
    AggregatorConfig cfg = shortTtl();
    cfg.gatewaysByName = false;
    GraphAggregator agg(cfg, kT0Ms);
    TraceWriter w(agg);
    w.call(kInsideParent, who("frontend"), who("istio-egressgateway"));
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    QCOMPARE(snap->node("istio-egressgateway")->kind, NodeKind::Service);
    QCOMPARE(snap->edge("frontend->istio-egressgateway")->direction, Direction::EastWest);
}

void TestGraphAggregator::gatewayStructurally()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    TraceWriter w(agg);
    // "frontdoor": called from outside and calling services -> acts as a gateway.
    const uint64_t door = w.root("frontdoor");
    const uint64_t cat = w.call(door, who("frontdoor"), who("catalog"));
    // "catalog" calls a service too, but only from inside: a service.
    w.call(cat, who("catalog"), who("pricing"));
    // "reporter": called from outside but only calls an external service: a service.
    w.newTrace();
    const uint64_t rep = w.root("reporter");
    w.lone(rep, who("reporter"), "s3.amazonaws.com");
    // "orders": mostly called from inside, once by a caller whose span was lost
    // (a root span), and calls a service: a few stray requests do not make it a gateway.
    w.newTrace();
    for (int i = 0; i < 3; ++i)
        w.call(kInsideParent, who("checkout"), who("orders"));
    const uint64_t stray = w.root("orders");
    w.call(stray, who("orders"), who("billing"));
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 1500);

    QCOMPARE(nodeKindName(snap->node("orders")->kind), "service");
    QCOMPARE(directionName(snap->edge("orders->billing")->direction), "east_west");
    QCOMPARE(nodeKindName(snap->node("frontdoor")->kind), "gateway");
    QCOMPARE(nodeKindName(snap->node("catalog")->kind), "service");
    QCOMPARE(nodeKindName(snap->node("pricing")->kind), "service");
    QCOMPARE(nodeKindName(snap->node("reporter")->kind), "service");
    QCOMPARE(directionName(snap->edge("external->frontdoor")->direction), "north_south");
    QCOMPARE(directionName(snap->edge("frontdoor->catalog")->direction), "north_south");
    QCOMPARE(directionName(snap->edge("catalog->pricing")->direction), "east_west");
    QCOMPARE(directionName(snap->edge("reporter->ext:s3.amazonaws.com")->direction), "north_south");
    QCOMPARE(directionName(snap->edge("external->reporter")->direction), "north_south");
}

void TestGraphAggregator::errorRates()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    TraceWriter w(agg);
    const uint64_t f = w.root("frontend");
    // 20 requests frontend -> payments: 3 x 503, 1 x 500, 2 x gRPC UNAVAILABLE,
    // 1 x span status ERROR with HTTP 200, 4 x 404, 1 x 429, 8 x 200.
    auto http = [](int code) { return [code](Span &s) { s.httpStatus = code; }; };
    for (int i = 0; i < 3; ++i)
        w.call(f, who("frontend"), who("payments"), 5, http(503));
    w.call(f, who("frontend"), who("payments"), 5, http(500));
    for (int i = 0; i < 2; ++i) {
        w.call(f, who("frontend"), who("payments"), 5, [](Span &s) {
            s.protocol = Protocol::Grpc;
            s.httpStatus = 200;
            s.grpcStatus = 14;
        });
    }
    w.call(f, who("frontend"), who("payments"), 5, [](Span &s) {
        s.httpStatus = 200;
        s.status = SpanStatus::Error;
    });
    for (int i = 0; i < 4; ++i)
        w.call(f, who("frontend"), who("payments"), 5, http(404));
    w.call(f, who("frontend"), who("payments"), 5, http(429));
    for (int i = 0; i < 8; ++i)
        w.call(f, who("frontend"), who("payments"), 5, http(200));
    // gRPC OK is not an error.
    w.call(f, who("frontend"), who("payments"), 5, [](Span &s) {
        s.httpStatus = 200;
        s.grpcStatus = 0;
    });

    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    const EdgeSnapshot *e = snap->edge("frontend->payments");
    QVERIFY(e);
    QCOMPARE(e->stats.requests, uint64_t(21));
    QCOMPARE(e->stats.errorRate, 7.0 / 21.0);  // 503 x3, 500, UNAVAILABLE x2, ERROR
    QCOMPARE(e->stats.rate5xx, 4.0 / 21.0);
    QCOMPARE(e->stats.rate4xx, 5.0 / 21.0);  // counted apart, not as errors
    const NodeSnapshot *payments = snap->node("payments");
    QCOMPARE(payments->stats.errorRate, 7.0 / 21.0);
    QCOMPARE(payments->stats.rate4xx, 5.0 / 21.0);
    // The root request into frontend succeeded.
    QCOMPARE(snap->edge("external->frontend")->stats.errorRate, 0.0);

    const auto codes = agg.edgeStatusCodes("frontend->payments");
    // gRPC outcomes are recorded as 1000 + code, whatever the HTTP status said.
    const std::vector<std::pair<int, uint64_t>> want
        = {{200, 9}, {404, 4}, {429, 1}, {500, 1}, {503, 3}, {1000, 1}, {1014, 2}};
    QCOMPARE(codes, want);
}

void TestGraphAggregator::grpcAndSpanStatusErrorsFromEitherHalf()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    const uint64_t parent = 0x9000;
    // Only the client half knows the outcome: the server half says nothing.
    Span c1 = clientSpan("frontend", 9, 0x9001, parent, kT0Ns, 5);
    c1.status = SpanStatus::Error;
    Span s1 = serverSpan("cart", 9, 0x9002, 0x9001, kT0Ns, 4);
    s1.httpStatus = -1;
    Span c2 = clientSpan("frontend", 9, 0x9003, parent, kT0Ns, 5);
    c2.grpcStatus = 4;  // DEADLINE_EXCEEDED seen by the caller
    Span s2 = serverSpan("cart", 9, 0x9004, 0x9003, kT0Ns, 4);
    Span c3 = clientSpan("frontend", 9, 0x9005, parent, kT0Ns, 5);
    Span s3 = serverSpan("cart", 9, 0x9006, 0x9005, kT0Ns, 4);
    s3.httpStatus = 200;
    // OpenTelemetry marks a client span ERROR on a 4xx; that is a 4xx, not an error.
    Span c4 = clientSpan("frontend", 9, 0x9007, parent, kT0Ns, 5);
    c4.status = SpanStatus::Error;
    Span s4 = serverSpan("cart", 9, 0x9008, 0x9007, kT0Ns, 4);
    s4.httpStatus = 404;
    agg.ingestSpans(batch(std::move(c1), std::move(s1), std::move(c2), std::move(s2), std::move(c3), std::move(s3),
                        std::move(c4), std::move(s4)),
        kT0Ms);
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 10);
    const EdgeSnapshot *e = snap->edge("frontend->cart");
    QVERIFY(e);
    QCOMPARE(e->stats.requests, uint64_t(4));
    QCOMPARE(e->stats.errorRate, 2.0 / 4.0);
    QCOMPARE(e->stats.rate4xx, 1.0 / 4.0);
}

void TestGraphAggregator::windowStatsSliding()
{
    WindowStats w(10);
    const int64_t s0 = 1'700'000'000;
    for (int i = 0; i < 3; ++i)
        w.record(s0, 10, false, 200, -1, 100);
    for (int i = 0; i < 5; ++i)
        w.record(s0 + 4, 20, i == 0, i == 0 ? 503 : 200, -1, 10);
    w.advance(s0 + 4);
    QCOMPARE(w.totals().requests, uint64_t(8));
    QCOMPARE(w.totals().errors, uint64_t(1));
    QCOMPARE(w.totals().bytes, uint64_t(350));
    QCOMPARE(w.histogram().count(), uint64_t(8));

    // The second s0 is still in a 10 s window ending at s0 + 9...
    w.advance(s0 + 9);
    QCOMPARE(w.totals().requests, uint64_t(8));
    // ...and gone from the one ending at s0 + 10, latencies included.
    w.advance(s0 + 10);
    QCOMPARE(w.totals().requests, uint64_t(5));
    QCOMPARE(w.totals().bytes, uint64_t(50));
    QCOMPARE(w.histogram().count(), uint64_t(5));
    QVERIFY(qAbs(w.histogram().quantile(0.0) - 20.0) <= 0.2);
    QVERIFY(!w.idle());

    w.advance(s0 + 14);
    QVERIFY(w.idle());
    QCOMPARE(w.totals().errors, uint64_t(0));
    QCOMPARE(w.totals().errors5xx, uint64_t(0));
    QVERIFY(w.histogram().empty());

    // A request older than the window has nothing left to count it in.
    w.record(s0 + 20, 1, false, 200, -1, 0);
    w.record(s0 + 5, 1, false, 200, -1, 0);
    QCOMPARE(w.totals().requests, uint64_t(1));
}

void TestGraphAggregator::windowStatsSeriesAndStatusCodes()
{
    WindowStats w(5);
    const int64_t s0 = 1'700'000'100;
    w.record(s0, 10, false, 200, -1, 0);
    w.record(s0, 30, true, 500, -1, 0);
    w.record(s0 + 2, 5, false, 404, -1, 0);
    w.record(s0 + 2, 5, true, -1, 14, 0);
    w.record(s0 + 2, 5, false, 200, -1, 0);

    // Completed seconds from the first request on: none before it, none for the
    // still-filling current second.
    const std::vector<SeriesPoint> series = w.series(s0 + 3, 5, 1);
    QCOMPARE(series.size(), size_t(3));
    const uint32_t wantRequests[] = {2, 0, 3};  // seconds s0 .. s0+2
    for (size_t i = 0; i < series.size(); ++i) {
        QCOMPARE(series[i].second, s0 + int64_t(i));
        QCOMPARE(series[i].requests, wantRequests[i]);
    }
    QCOMPARE(series[0].errors, uint32_t(1));
    QCOMPARE(series[0].errors5xx, uint32_t(1));
    QCOMPARE(series[2].errors, uint32_t(1));
    QCOMPARE(series[2].errors4xx, uint32_t(1));
    QVERIFY(qAbs(series[0].p99 - 30.0) <= 0.3);
    QVERIFY(qAbs(series[2].p50 - 5.0) <= 0.05);

    const std::vector<std::pair<int, uint64_t>> want = {{200, 2}, {404, 1}, {500, 1}, {1014, 1}};
    QCOMPARE(w.statusCodes(), want);
}

void TestGraphAggregator::aggregatorWindowSliding()
{
    AggregatorConfig cfg = shortTtl();
    cfg.windowSeconds = 10;
    GraphAggregator agg(cfg, kT0Ms);
    TraceWriter w(agg);
    const int64_t s0Ms = kT0Ms;  // kT0Ms is a whole second
    for (int i = 0; i < 3; ++i)
        w.root("frontend");
    w.setNow(s0Ms + 2000);
    for (int i = 0; i < 5; ++i)
        w.root("frontend");
    w.setNow(s0Ms + 4000);
    w.root("checkout");

    GraphSnapshotPtr snap = agg.snapshot(s0Ms + 9000);
    QCOMPARE(snap->edge("external->frontend")->stats.requests, uint64_t(8));

    // The per-second series of the edge and of its target node: the completed
    // seconds since its first request.
    const std::vector<SeriesPoint> series = agg.edgeSeries("external->frontend", s0Ms + 9000);
    QCOMPARE(series.size(), size_t(9));
    QCOMPARE(series.front().second, s0Ms / 1000);
    QCOMPARE(series[0].requests, uint32_t(3));
    QCOMPARE(series[1].requests, uint32_t(0));
    QCOMPARE(series[2].requests, uint32_t(5));
    uint32_t sum = 0;
    for (const SeriesPoint &p : series)
        sum += p.requests;
    QCOMPARE(sum, uint32_t(8));
    const std::vector<SeriesPoint> nodeSeries = agg.nodeSeries("frontend", s0Ms + 9000);
    QCOMPARE(nodeSeries.size(), size_t(9));
    QCOMPARE(nodeSeries[2].requests, uint32_t(5));

    // The first second leaves the window exactly windowSeconds later.
    snap = agg.snapshot(s0Ms + 10000);
    QCOMPARE(snap->edge("external->frontend")->stats.requests, uint64_t(5));
    QCOMPARE(snap->node("frontend")->stats.requests, uint64_t(5));

    // Once everything has left, the edge and node leave the graph too; checkout,
    // a little younger, is still there.
    snap = agg.snapshot(s0Ms + 12000);
    QVERIFY2(!snap->edge("external->frontend"), qPrintable(edgeList(*snap)));
    QVERIFY(!snap->node("frontend"));
    QCOMPARE(snap->edge("external->checkout")->stats.requests, uint64_t(1));
    QCOMPARE(snap->edges.size(), size_t(1));

    snap = agg.snapshot(s0Ms + 14000);
    QVERIFY(snap->edges.empty());
    QVERIFY(snap->nodes.empty());
    // Counters are totals since start, not windowed.
    QCOMPARE(snap->counters.requests, uint64_t(9));
}

void TestGraphAggregator::rpsOverElapsedTime()
{
    GraphAggregator agg(shortTtl(), kT0Ms);  // 60 s window
    TraceWriter w(agg);
    for (int s = 0; s < 10; ++s) {
        w.setNow(kT0Ms + s * 1000);
        for (int i = 0; i < 4; ++i)
            w.root("frontend");
    }
    // 40 requests in the first 10 s of a capture: 4 rps, not 40/60.
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 10000);
    QCOMPARE(snap->edge("external->frontend")->stats.rps, 4.0);
    // Once the window is full the rate is over the whole window.
    snap = agg.snapshot(kT0Ms + 59000);
    QCOMPARE(snap->edge("external->frontend")->stats.rps, 40.0 / 59.0);
    snap = agg.snapshot(kT0Ms + 65000);
    QCOMPARE(snap->edge("external->frontend")->stats.requests, uint64_t(40 - 4 * 6));
    QCOMPARE(snap->edge("external->frontend")->stats.rps, 16.0 / 60.0);
}

void TestGraphAggregator::foldingPastNodeLimit()
{
    AggregatorConfig cfg = shortTtl();
    cfg.maxNodes = 4;
    GraphAggregator agg(cfg, kT0Ms);
    TraceWriter w(agg);
    // svc0..svc3 fit, svc4..svc8 fold; each sends a few requests so that the folded
    // count is of distinct names, not of requests.
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 9; ++i)
            w.root("svc" + std::to_string(i));
    }
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    QCOMPARE(snap->nodes.size(), size_t(4 + 2));  // + external, other
    for (int i = 0; i < 4; ++i)
        QVERIFY(snap->node("svc" + std::to_string(i)));
    for (int i = 4; i < 9; ++i)
        QVERIFY(!snap->node("svc" + std::to_string(i)));
    const NodeSnapshot *other = snap->node("other");
    QVERIFY2(other, qPrintable(nodeList(*snap)));
    QCOMPARE(other->kind, NodeKind::Other);
    QCOMPARE(other->foldedCount, uint64_t(5));
    QCOMPARE(snap->counters.foldedNodes, uint64_t(5));
    // Their traffic is not lost, it is on the edge into "other".
    QCOMPARE(snap->edge("external->other")->stats.requests, uint64_t(5 * 3));
    QCOMPARE(snap->edge("external->svc0")->stats.requests, uint64_t(3));

    // Folding applies to external services too, and an already-known node keeps
    // getting its traffic.
    w.newTrace();
    const uint64_t p = w.root("svc1");
    w.lone(p, who("svc1"), "db.example");
    snap = agg.snapshot(kT0Ms + 1500);
    QVERIFY(!snap->node("ext:db.example"));
    QCOMPARE(snap->edge("svc1->other")->stats.requests, uint64_t(1));
    QCOMPARE(snap->counters.foldedNodes, uint64_t(6));
    QCOMPARE(snap->edge("external->svc1")->stats.requests, uint64_t(4));

    // The JSON tells the user how many nodes were folded.
    const QJsonObject root = QJsonDocument::fromJson(graphToJson(*snap)).object();
    bool found = false;
    for (const QJsonValue &v : root.value(QLatin1String("nodes")).toArray()) {
        const QJsonObject n = v.toObject();
        if (n.value(QLatin1String("id")).toString() == QLatin1String("other")) {
            found = true;
            QCOMPARE(n.value(QLatin1String("kind")).toString(), QStringLiteral("other"));
            QCOMPARE(n.value(QLatin1String("folded_nodes")).toInt(), 6);
        }
    }
    QVERIFY(found);
    QCOMPARE(root.value(QLatin1String("counters")).toObject().value(QLatin1String("folded_nodes")).toInt(), 6);
}

void TestGraphAggregator::peerResolvesToExistingService()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    TraceWriter w(agg);
    // "reviews" is known from its own spans...
    w.root("reviews");
    // ...so a client span naming it (its server half never comes, e.g. sampled out
    // on the callee) is an edge to that node, not to a new "ext:reviews".
    const uint64_t p = kInsideParent;
    w.lone(p, who("productpage"), "reviews");
    w.lone(p, who("productpage"), "reviews:9080");
    w.lone(p, who("productpage"), "http://reviews:9080/reviews/0");
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 1500);
    QVERIFY2(snap->edge("productpage->reviews"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edge("productpage->reviews")->stats.requests, uint64_t(3));
    QVERIFY2(!snap->node("ext:reviews"), qPrintable(nodeList(*snap)));
    QCOMPARE(snap->edge("productpage->reviews")->direction, Direction::EastWest);
    // A peer nobody knows stays external.
    w.lone(p, who("productpage"), "details");
    snap = agg.snapshot(kT0Ms + 3000);
    QVERIFY(snap->edge("productpage->ext:details"));
    QCOMPARE(snap->node("ext:details")->kind, NodeKind::ExternalService);
}

void TestGraphAggregator::peerResolvesKubernetesDnsWithNamespace()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    TraceWriter w(agg);
    w.root("reviews", "shop", "v1");
    w.root("reviews", "staging", "v3");
    const uint64_t p = w.root("productpage", "shop", "v1");
    const Span caller = who("productpage", "shop", "v1");
    w.lone(p, caller, "reviews.shop.svc.cluster.local");
    w.lone(p, caller, "reviews.shop.svc.cluster.local:9080");
    w.lone(p, caller, "reviews.staging.svc.cluster.local");
    w.lone(p, caller, "reviews.staging");
    w.lone(p, caller, "reviews.nowhere.svc.cluster.local");
    // A bare name prefers the caller's own namespace.
    w.lone(p, caller, "reviews");
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 1500);
    QVERIFY2(snap->edge("shop/productpage@v1->shop/reviews@v1"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edge("shop/productpage@v1->shop/reviews@v1")->stats.requests, uint64_t(3));
    QVERIFY(snap->edge("shop/productpage@v1->staging/reviews@v3"));
    QCOMPARE(snap->edge("shop/productpage@v1->staging/reviews@v3")->stats.requests, uint64_t(2));
    QVERIFY(snap->edge("shop/productpage@v1->ext:reviews.nowhere.svc.cluster.local"));
    QCOMPARE(snap->edges.size(), size_t(3 + 3));  // plus three roots
}

void TestGraphAggregator::recentRequestsOrderingAndBounds()
{
    AggregatorConfig cfg = shortTtl();
    cfg.recentRequestCapacity = 5;
    GraphAggregator agg(cfg, kT0Ms);
    TraceWriter w(agg);
    for (int i = 0; i < 8; ++i) {
        w.setNow(kT0Ms + i);
        w.root("svc" + std::to_string(i));
    }
    // Only the newest five are kept, oldest first, with increasing sequence numbers.
    std::vector<RequestEvent> all = agg.recentRequests(0, 100);
    QCOMPARE(all.size(), size_t(5));
    for (size_t i = 0; i < all.size(); ++i) {
        QCOMPARE(all[i].seq, uint64_t(4 + i));
        QCOMPARE(all[i].targetId, "svc" + std::to_string(3 + i));
    }
    // After a sequence number: only what came later.
    std::vector<RequestEvent> after = agg.recentRequests(6, 100);
    QCOMPARE(after.size(), size_t(2));
    QCOMPARE(after[0].seq, uint64_t(7));
    QCOMPARE(after[1].seq, uint64_t(8));
    // At most `max`: the newest ones, still oldest first.
    std::vector<RequestEvent> two = agg.recentRequests(0, 2);
    QCOMPARE(two.size(), size_t(2));
    QCOMPARE(two[0].seq, uint64_t(7));
    QCOMPARE(two[1].seq, uint64_t(8));
    QVERIFY(agg.recentRequests(8, 100).empty());
    QVERIFY(agg.recentRequests(0, 0).empty());

    // A polling reader that remembers the last sequence number sees each request once.
    uint64_t last = 8;
    w.root("late");
    std::vector<RequestEvent> poll = agg.recentRequests(last, 100);
    QCOMPARE(poll.size(), size_t(1));
    QCOMPARE(poll[0].targetId, std::string("late"));
    QCOMPARE(poll[0].seq, uint64_t(9));

    // Capacity zero keeps nothing but still counts the traffic.
    cfg.recentRequestCapacity = 0;
    GraphAggregator none(cfg, kT0Ms);
    TraceWriter w2(none);
    w2.root("a");
    QVERIFY(none.recentRequests(0, 100).empty());
    QCOMPARE(none.snapshot(kT0Ms + 1)->counters.requests, uint64_t(1));
}

void TestGraphAggregator::recentRequestsCarryRequestDetails()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    Span c = withIdentity(clientSpan("frontend", 77, 0x7701, 0x7700, kT0Ns + 3 * kMsNs, 42), "shop", "v1");
    c.method = "GET";
    c.path = "/api/cart";
    c.requestBytes = 100;
    Span s = withIdentity(serverSpan("cart", 77, 0x7702, 0x7701, kT0Ns + 4 * kMsNs, 30), "shop", "v2");
    s.httpStatus = 503;
    s.requestBytes = 100;
    s.responseBytes = 900;
    s.mtls = 1;
    s.authority = "cart.shop:8080";
    agg.ingestSpans(batch(std::move(c), std::move(s)), kT0Ms + 50);
    const std::vector<RequestEvent> r = agg.recentRequests(0, 10);
    QCOMPARE(r.size(), size_t(1));
    const RequestEvent &e = r[0];
    QCOMPARE(e.sourceId, std::string("shop/frontend@v1"));
    QCOMPARE(e.targetId, std::string("shop/cart@v2"));
    QCOMPARE(e.timeMs, kT0Ms + 3);
    QCOMPARE(e.durationMs, 42.0);
    QCOMPARE(e.httpStatus, 503);
    QVERIFY(e.error);
    QCOMPARE(e.method, std::string("GET"));  // from the client half when the server has none
    QCOMPARE(e.path, std::string("/api/cart"));
    QCOMPARE(e.authority, std::string("cart.shop:8080"));
    QCOMPARE(e.bytes, int64_t(1000));
    QCOMPARE(e.mtls, int8_t(1));
    QCOMPARE(e.traceId, traceIdHex(traceIdOf(77)));
    QCOMPARE(e.origin, std::string("otlp"));

    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    QCOMPARE(snap->edge("shop/frontend@v1->shop/cart@v2")->mtls, int8_t(1));
    QCOMPARE(snap->edge("shop/frontend@v1->shop/cart@v2")->stats.bytes, uint64_t(1000));
}

void TestGraphAggregator::jsonExportShape()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    writeShop(agg, 5);
    // One failing request so that an error_rate is a fraction, not a percentage.
    TraceWriter w(agg);
    w.newTrace();
    const uint64_t g = w.root("istio-ingressgateway", "istio-system", "v1");
    w.call(g, who("istio-ingressgateway", "istio-system", "v1"), who("frontend", "shop", "v1"), 5,
        [](Span &s) { s.httpStatus = 502; });
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 2000);

    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(graphToJson(*snap), &err);
    QCOMPARE(err.error, QJsonParseError::NoError);
    QVERIFY(doc.isObject());
    const QJsonArray nodes = doc.object().value(QLatin1String("nodes")).toArray();
    const QJsonArray edges = doc.object().value(QLatin1String("edges")).toArray();
    QCOMPARE(nodes.size(), qsizetype(snap->nodes.size()));
    QCOMPARE(edges.size(), qsizetype(snap->edges.size()));
    QCOMPARE(nodes.size(), qsizetype(6));
    QCOMPARE(edges.size(), qsizetype(5));

    const QStringList nodeStrings
        = {QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("namespace"), QStringLiteral("kind")};
    const QStringList numbers = {QStringLiteral("rps"), QStringLiteral("error_rate"), QStringLiteral("p50_ms"),
        QStringLiteral("p95_ms"), QStringLiteral("p99_ms")};
    QSet<QString> ids;
    for (const QJsonValue &v : nodes) {
        const QJsonObject n = v.toObject();
        for (const QString &k : nodeStrings)
            QVERIFY2(n.value(k).isString(), qPrintable(k));
        for (const QString &k : numbers)
            QVERIFY2(n.value(k).isDouble(), qPrintable(k));
        const QString kind = n.value(QLatin1String("kind")).toString();
        QVERIFY2(QStringList({QStringLiteral("external"), QStringLiteral("gateway"), QStringLiteral("service"),
                                 QStringLiteral("external-service"), QStringLiteral("other")})
                     .contains(kind),
            qPrintable(kind));
        ids.insert(n.value(QLatin1String("id")).toString());
    }
    const QJsonObject gw = [&] {
        for (const QJsonValue &v : nodes) {
            if (v.toObject().value(QLatin1String("id")).toString()
                == QLatin1String("istio-system/istio-ingressgateway@v1"))
                return v.toObject();
        }
        return QJsonObject();
    }();
    QCOMPARE(gw.value(QLatin1String("name")).toString(), QStringLiteral("istio-ingressgateway"));
    QCOMPARE(gw.value(QLatin1String("namespace")).toString(), QStringLiteral("istio-system"));
    QCOMPARE(gw.value(QLatin1String("kind")).toString(), QStringLiteral("gateway"));

    const QStringList edgeStrings
        = {QStringLiteral("source"), QStringLiteral("target"), QStringLiteral("direction"), QStringLiteral("protocol")};
    bool sawFailing = false;
    for (const QJsonValue &v : edges) {
        const QJsonObject e = v.toObject();
        for (const QString &k : edgeStrings)
            QVERIFY2(e.value(k).isString(), qPrintable(k));
        for (const QString &k : numbers + QStringList {QStringLiteral("requests")})
            QVERIFY2(e.value(k).isDouble(), qPrintable(k));
        QVERIFY(e.contains(QLatin1String("mtls")));
        QVERIFY(e.value(QLatin1String("mtls")).isNull() || e.value(QLatin1String("mtls")).isBool());
        // Endpoints are node ids of this very document.
        QVERIFY(ids.contains(e.value(QLatin1String("source")).toString()));
        QVERIFY(ids.contains(e.value(QLatin1String("target")).toString()));
        const QString dir = e.value(QLatin1String("direction")).toString();
        QVERIFY(dir == QLatin1String("north_south") || dir == QLatin1String("east_west"));
        const double rate = e.value(QLatin1String("error_rate")).toDouble();
        QVERIFY(rate >= 0.0 && rate <= 1.0);
        if (e.value(QLatin1String("target")).toString() == QLatin1String("shop/frontend@v1")) {
            sawFailing = true;
            QCOMPARE(e.value(QLatin1String("requests")).toInt(), 6);
            QVERIFY(qAbs(rate - 1.0 / 6.0) < 1e-5);
            QCOMPARE(dir, QStringLiteral("north_south"));
            QCOMPARE(e.value(QLatin1String("protocol")).toString(), QStringLiteral("http"));
            QVERIFY(e.value(QLatin1String("p50_ms")).toDouble() > 0);
        }
    }
    QVERIFY(sawFailing);
}

void TestGraphAggregator::dotExportHasEdges()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    writeShop(agg, 2);
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 2000);
    const QByteArray dot = graphToDot(*snap);
    QVERIFY(dot.startsWith("digraph"));
    QVERIFY(dot.trimmed().endsWith('}'));
    for (const EdgeSnapshot &e : snap->edges) {
        const QByteArray line
            = "\"" + QByteArray::fromStdString(e.source) + "\" -> \"" + QByteArray::fromStdString(e.target) + "\"";
        QVERIFY2(dot.contains(line), line.constData());
    }
    QVERIFY(dot.contains("\"external\" -> \"istio-system/istio-ingressgateway@v1\""));
    QVERIFY(dot.contains("\"shop/reviews@v1\" -> \"ext:postgres\""));
    QCOMPARE(dot.count("->"), 5);
    QVERIFY(dot.contains("direction=\"east_west\""));
    QVERIFY(dot.contains("shape=hexagon"));  // the gateway
}

void TestGraphAggregator::snapshotGenerationsAndLookup()
{
    GraphAggregator agg(shortTtl(), kT0Ms);
    writeShop(agg, 1);
    GraphSnapshotPtr a = agg.snapshot(kT0Ms + 1500);
    GraphSnapshotPtr b = agg.snapshot(kT0Ms + 1600);
    QVERIFY(b->generation > a->generation);
    QCOMPARE(b->timeMs, kT0Ms + 1600);
    QVERIFY(std::is_sorted(b->nodes.begin(), b->nodes.end(), [](auto &x, auto &y) { return x.id < y.id; }));
    QVERIFY(std::is_sorted(b->edges.begin(), b->edges.end(), [](auto &x, auto &y) { return x.id < y.id; }));
    QVERIFY(!b->node("nope"));
    QVERIFY(!b->edge("external->nope"));
    // An older snapshot is immutable: later traffic does not change it.
    TraceWriter w(agg);
    w.root("latecomer");
    GraphSnapshotPtr c = agg.snapshot(kT0Ms + 1700);
    QVERIFY(c->node("latecomer"));
    QVERIFY(!b->node("latecomer"));
}

QTEST_GUILESS_MAIN(TestGraphAggregator)
#include "tst_graphaggregator.moc"

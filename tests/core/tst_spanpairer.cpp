// Span pairing: client and server halves of one request arrive in any order, in
// different batches, duplicated, with skewed clocks, or not at all. Checked both on
// SpanPairer itself and through GraphAggregator, where the result is a graph edge.

#include "common/otlpbuilder.h"
#include "graph/graphaggregator.h"
#include "graph/spanpairer.h"
#include "telemetry/otlp/otlpdecoder.h"

#include <QtTest>

#include <algorithm>
#include <random>

using namespace meshscope;
using namespace meshscope::test;

namespace {

constexpr int64_t kTtlMs = 2000;

AggregatorConfig pairingConfig()
{
    AggregatorConfig c;
    c.pairingTtlMs = kTtlMs;
    return c;
}

uint64_t edgeRequests(const GraphSnapshot &snap, const std::string &id)
{
    const EdgeSnapshot *e = snap.edge(id);
    return e ? e->stats.requests : 0;
}

}  // namespace

class TestSpanPairer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void clientThenServer();
    void serverThenClient();
    void producerConsumerPair();
    void internalSpansIgnored();
    void halvesInDifferentIngestCalls_data();
    void halvesInDifferentIngestCalls();
    void loneClientExpiresToNamedPeer_data();
    void loneClientExpiresToNamedPeer();
    void loneServerWithParentIsExternalAfterTtl();
    void rootServerIsExternalImmediately();
    void duplicatesNotDoubleCounted();
    void duplicatesServerFirst();
    void clockSkewStillPairs_data();
    void clockSkewStillPairs();
    void flushResolvesWaitingHalves();
    void flushAtACutDropsLoneServerHalves();
    void loneServersAtTheStartOfAReplayAreCut();
    void pendingCountsOnlyWaitingHalves();
    void databaseCallsCountAtOnce();
    void untracedPeerLearnedAfterExpiry();
    void lateServerHalfUnlearnsPeer();
    void clientFirstInOneExportKeepsServerHalves();
    void pairingNeverMarksPeerUntraced();
    void anyInterleavingAndBatchingGivesSameGraph();
};

void TestSpanPairer::clientThenServer()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    pairer.add(clientSpan("frontend", 1, 0x10, 0x01, kT0Ns, 20), kT0Ms, out);
    QVERIFY(out.empty());
    QCOMPARE(pairer.pending(), size_t(1));

    pairer.add(serverSpan("reviews", 1, 0x20, 0x10, kT0Ns + kMsNs, 15), kT0Ms + 5, out);
    QCOMPARE(out.size(), size_t(1));
    QVERIFY(out[0].client && out[0].server);
    QVERIFY(!out[0].root);
    QCOMPARE(out[0].client->service, std::string("frontend"));
    QCOMPARE(out[0].client->spanId, uint64_t(0x10));
    QCOMPARE(out[0].server->service, std::string("reviews"));
    QCOMPARE(out[0].server->spanId, uint64_t(0x20));
    QCOMPARE(pairer.counters().paired, uint64_t(1));

    // Nothing is left to resolve once the time-to-live runs out.
    out.clear();
    pairer.expire(kT0Ms + 10 * kTtlMs, out);
    QVERIFY(out.empty());
    QCOMPARE(pairer.counters().expiredClients, uint64_t(0));
    QCOMPARE(pairer.counters().expiredServers, uint64_t(0));
}

void TestSpanPairer::serverThenClient()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    pairer.add(serverSpan("reviews", 1, 0x20, 0x10, kT0Ns + kMsNs, 15), kT0Ms, out);
    QVERIFY(out.empty());
    pairer.add(clientSpan("frontend", 1, 0x10, 0x01, kT0Ns, 20), kT0Ms + kTtlMs - 1, out);
    QCOMPARE(out.size(), size_t(1));
    QVERIFY(out[0].client && out[0].server);
    QCOMPARE(out[0].client->spanId, uint64_t(0x10));
    QCOMPARE(out[0].server->spanId, uint64_t(0x20));
    QCOMPARE(pairer.counters().paired, uint64_t(1));

    out.clear();
    pairer.expire(kT0Ms + 10 * kTtlMs, out);
    QVERIFY(out.empty());
    QCOMPARE(pairer.counters().expiredServers, uint64_t(0));
}

void TestSpanPairer::producerConsumerPair()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    pairer.add(makeSpan(SpanKind::Consumer, "billing-worker", 3, 0x31, 0x30, kT0Ns, 4), kT0Ms, out);
    pairer.add(makeSpan(SpanKind::Producer, "orders", 3, 0x30, 0x2f, kT0Ns, 1), kT0Ms, out);
    QCOMPARE(out.size(), size_t(1));
    QCOMPARE(out[0].client->service, std::string("orders"));
    QCOMPARE(out[0].server->service, std::string("billing-worker"));
}

void TestSpanPairer::internalSpansIgnored()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    pairer.add(makeSpan(SpanKind::Internal, "frontend", 4, 0x40, 0x3f, kT0Ns, 1), kT0Ms, out);
    pairer.add(makeSpan(SpanKind::Unspecified, "frontend", 4, 0x41, 0x40, kT0Ns, 1), kT0Ms, out);
    QVERIFY(out.empty());
    QCOMPARE(pairer.pending(), size_t(0));
    QCOMPARE(pairer.counters().ignored, uint64_t(2));
    pairer.flush(out);
    QVERIFY(out.empty());
}

void TestSpanPairer::halvesInDifferentIngestCalls_data()
{
    QTest::addColumn<bool>("serverFirst");
    QTest::newRow("client batch first") << false;
    QTest::newRow("server batch first") << true;
}

void TestSpanPairer::halvesInDifferentIngestCalls()
{
    QFETCH(bool, serverFirst);
    GraphAggregator agg(pairingConfig(), kT0Ms);
    // Three requests frontend -> reviews, whose halves come in two export calls
    // with an unrelated root request in between.
    std::vector<Span> clients, servers;
    for (uint64_t i = 0; i < 3; ++i) {
        clients.push_back(clientSpan("frontend", 10 + i, 0x100 + i, 0x50 + i, kT0Ns, 30));
        servers.push_back(serverSpan("reviews", 10 + i, 0x200 + i, 0x100 + i, kT0Ns + kMsNs, 25));
    }
    agg.ingestSpans(serverFirst ? std::move(servers) : std::move(clients), kT0Ms);
    GraphSnapshotPtr mid = agg.snapshot(kT0Ms + 100);
    QCOMPARE(edgeRequests(*mid, "frontend->reviews"), uint64_t(0));
    QVERIFY(mid->edges.empty());

    agg.ingestSpans(batch(serverSpan("catalog", 99, 0x999, 0, kT0Ns, 5)), kT0Ms + 200);
    agg.ingestSpans(serverFirst ? std::move(clients) : std::move(servers), kT0Ms + 500);
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 600);
    QCOMPARE(edgeRequests(*snap, "frontend->reviews"), uint64_t(3));
    QCOMPARE(edgeRequests(*snap, "external->catalog"), uint64_t(1));
    QCOMPARE(snap->edges.size(), size_t(2));

    // After the time-to-live nothing more appears: every half found its partner.
    GraphSnapshotPtr later = agg.snapshot(kT0Ms + 3 * kTtlMs);
    QCOMPARE(edgeRequests(*later, "frontend->reviews"), uint64_t(3));
    QCOMPARE(later->edges.size(), size_t(2));
    QCOMPARE(later->counters.requests, uint64_t(4));
}

void TestSpanPairer::loneClientExpiresToNamedPeer_data()
{
    QTest::addColumn<QStringList>("attrs");  // key=value pairs on the client span
    QTest::addColumn<QString>("expectedTarget");

    QTest::newRow("peer.service wins over server.address and net.peer.name") << QStringList {
        QStringLiteral("net.peer.name=ratings-host"), QStringLiteral("server.address=ratings.internal"),
        QStringLiteral("peer.service=ratings-api")} << QStringLiteral("ext:ratings-api");
    QTest::newRow("server.address wins over net.peer.name")
        << QStringList {QStringLiteral("net.peer.name=ratings-host"), QStringLiteral("server.address=ratings.internal")}
        << QStringLiteral("ext:ratings.internal");
    QTest::newRow("net.peer.name alone") << QStringList {QStringLiteral("net.peer.name=ratings-host")}
                                         << QStringLiteral("ext:ratings-host");
    QTest::newRow("server.address with port")
        << QStringList {QStringLiteral("server.address=api.payments-provider.example:443")}
        << QStringLiteral("ext:api.payments-provider.example");
}

void TestSpanPairer::loneClientExpiresToNamedPeer()
{
    QFETCH(QStringList, attrs);
    QFETCH(QString, expectedTarget);

    // Through the decoder, since that is where the attribute priority lives.
    ExportBuilder b;
    b.resource("frontend");
    auto &s = b.span(SpanKind::Client, 7, 0x70, 0x6f, kT0Ns, 12 * kMsNs);
    for (const QString &kv : attrs) {
        const auto parts = kv.split(QLatin1Char('='));
        setAttr(s, parts[0].toStdString(), parts[1].toStdString());
    }
    DecodeResult decoded = OtlpDecoder().decode(b.request(), kT0Ns);
    QCOMPARE(decoded.rejected, uint64_t(0));
    QCOMPARE(decoded.spans.size(), size_t(1));

    GraphAggregator agg(pairingConfig(), kT0Ms);
    agg.ingestSpans(std::move(decoded.spans), kT0Ms);
    const std::string edgeId = "frontend->" + expectedTarget.toStdString();

    // Still waiting for its partner just before the time-to-live runs out.
    GraphSnapshotPtr before = agg.snapshot(kT0Ms + kTtlMs - 1);
    QVERIFY2(before->edges.empty(), qPrintable(edgeList(*before)));

    GraphSnapshotPtr after = agg.snapshot(kT0Ms + kTtlMs);
    QVERIFY2(after->edge(edgeId), qPrintable(edgeList(*after)));
    QCOMPARE(after->edges.size(), size_t(1));
    QCOMPARE(edgeRequests(*after, edgeId), uint64_t(1));
    const NodeSnapshot *target = after->node(expectedTarget.toStdString());
    QVERIFY(target);
    QCOMPARE(target->kind, NodeKind::ExternalService);
    // The latency of an unanswered client span is what the client waited.
    QVERIFY(qAbs(after->edge(edgeId)->stats.p50Ms - 12.0) <= 0.12);
}

void TestSpanPairer::loneServerWithParentIsExternalAfterTtl()
{
    GraphAggregator agg(pairingConfig(), kT0Ms);
    // Its parent (a client span in an uninstrumented caller) never arrives.
    agg.ingestSpans(batch(serverSpan("reviews", 20, 0x2001, 0x2000, kT0Ns, 8)), kT0Ms);
    GraphSnapshotPtr before = agg.snapshot(kT0Ms + kTtlMs - 1);
    QVERIFY2(before->edges.empty(), qPrintable(edgeList(*before)));

    GraphSnapshotPtr after = agg.snapshot(kT0Ms + kTtlMs);
    QCOMPARE(after->edges.size(), size_t(1));
    QCOMPARE(edgeRequests(*after, "external->reviews"), uint64_t(1));
    QCOMPARE(after->node("external")->kind, NodeKind::External);
}

void TestSpanPairer::rootServerIsExternalImmediately()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    pairer.add(serverSpan("frontend", 21, 0x2101, 0, kT0Ns, 8), kT0Ms, out);
    QCOMPARE(out.size(), size_t(1));
    QVERIFY(out[0].root);
    QVERIFY(!out[0].client);
    QCOMPARE(out[0].server->service, std::string("frontend"));
    QCOMPARE(pairer.counters().roots, uint64_t(1));

    GraphAggregator agg(pairingConfig(), kT0Ms);
    agg.ingestSpans(batch(serverSpan("frontend", 21, 0x2101, 0, kT0Ns, 8)), kT0Ms);
    // No waiting: the snapshot taken in the same millisecond already has it.
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms);
    QCOMPARE(edgeRequests(*snap, "external->frontend"), uint64_t(1));
}

void TestSpanPairer::duplicatesNotDoubleCounted()
{
    GraphAggregator agg(pairingConfig(), kT0Ms);
    const Span client = clientSpan("frontend", 30, 0x3001, 0x3000, kT0Ns, 10);
    const Span server = serverSpan("reviews", 30, 0x3002, 0x3001, kT0Ns, 9);
    const Span root = serverSpan("frontend", 30, 0x3000, 0, kT0Ns, 11);
    // An exporter that retries resends whole batches.
    agg.ingestSpans(batch(Span(root), Span(client)), kT0Ms);
    agg.ingestSpans(batch(Span(root), Span(client)), kT0Ms + 10);
    agg.ingestSpans(batch(Span(server)), kT0Ms + 20);
    agg.ingestSpans(batch(Span(server), Span(client)), kT0Ms + 30);

    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 100);
    QCOMPARE(edgeRequests(*snap, "external->frontend"), uint64_t(1));
    QCOMPARE(edgeRequests(*snap, "frontend->reviews"), uint64_t(1));
    QCOMPARE(snap->counters.requests, uint64_t(2));
    QCOMPARE(snap->counters.duplicateSpans, uint64_t(4));

    // Nor do the duplicates come back as lone halves when the time-to-live runs out.
    GraphSnapshotPtr later = agg.snapshot(kT0Ms + 3 * kTtlMs);
    QCOMPARE(later->counters.requests, uint64_t(2));
    QCOMPARE(later->edges.size(), size_t(2));
}

void TestSpanPairer::duplicatesServerFirst()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    const Span server = serverSpan("reviews", 31, 0x3102, 0x3101, kT0Ns, 9);
    pairer.add(Span(server), kT0Ms, out);
    pairer.add(Span(server), kT0Ms + 1, out);  // resent while still waiting
    pairer.add(clientSpan("frontend", 31, 0x3101, 0x3100, kT0Ns, 10), kT0Ms + 2, out);
    QCOMPARE(out.size(), size_t(1));
    QCOMPARE(pairer.counters().duplicates, uint64_t(1));
    out.clear();
    pairer.expire(kT0Ms + 10 * kTtlMs, out);
    QVERIFY(out.empty());
}

void TestSpanPairer::clockSkewStillPairs_data()
{
    QTest::addColumn<qint64>("skewMs");
    QTest::newRow("server clock 5 minutes ahead") << qint64(5 * 60 * 1000);
    QTest::newRow("server clock 3 minutes behind") << qint64(-3 * 60 * 1000);
    QTest::newRow("server clock 59 minutes ahead") << qint64(59 * 60 * 1000);
}

void TestSpanPairer::clockSkewStillPairs()
{
    QFETCH(qint64, skewMs);
    GraphAggregator agg(pairingConfig(), kT0Ms);
    const uint64_t serverStart = uint64_t(int64_t(kT0Ns) + skewMs * int64_t(kMsNs));
    for (uint64_t i = 0; i < 5; ++i) {
        agg.ingestSpans(batch(serverSpan("reviews", 40 + i, 0x4200 + i, 0x4100 + i, serverStart + i * kMsNs, 25)),
            kT0Ms + int64_t(i));
        agg.ingestSpans(batch(clientSpan("frontend", 40 + i, 0x4100 + i, 0x4000 + i, kT0Ns + i * kMsNs, 40)),
            kT0Ms + int64_t(i) + 1);
    }
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 3 * kTtlMs);
    QVERIFY2(snap->edge("frontend->reviews"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edges.size(), size_t(1));
    QCOMPARE(edgeRequests(*snap, "frontend->reviews"), uint64_t(5));
    // The caller's clock measured what the caller waited: 40 ms, not the server's 25 ms.
    const TrafficStats &st = snap->edge("frontend->reviews")->stats;
    QVERIFY2(qAbs(st.p50Ms - 40.0) <= 0.4, qPrintable(QString::number(st.p50Ms)));
    QVERIFY2(qAbs(st.p99Ms - 40.0) <= 0.4, qPrintable(QString::number(st.p99Ms)));

    const std::vector<RequestEvent> recent = agg.recentRequests(0, 100);
    QCOMPARE(recent.size(), size_t(5));
    for (size_t i = 0; i < recent.size(); ++i) {
        QCOMPARE(recent[i].durationMs, 40.0);
        // The request time is the client's start, whatever the server's clock said.
        QCOMPARE(recent[i].timeMs, kT0Ms + int64_t(i));
    }
}

void TestSpanPairer::flushResolvesWaitingHalves()
{
    SpanPairer pairer(60000);
    std::vector<PairedRequest> out;
    pairer.add(clientSpan("frontend", 50, 0x5001, 0x5000, kT0Ns, 10), kT0Ms, out);
    pairer.add(serverSpan("reviews", 51, 0x5102, 0x5101, kT0Ns, 10), kT0Ms, out);
    pairer.add(serverSpan("ratings", 51, 0x5103, 0x5101, kT0Ns, 10), kT0Ms, out);
    QVERIFY(out.empty());
    pairer.flush(out);
    QCOMPARE(out.size(), size_t(3));
    QCOMPARE(pairer.pending(), size_t(0));
    QCOMPARE(pairer.counters().expiredClients, uint64_t(1));
    QCOMPARE(pairer.counters().expiredServers, uint64_t(2));
    int clientsOnly = 0, serversOnly = 0;
    for (const PairedRequest &r : out) {
        clientsOnly += r.client && !r.server;
        serversOnly += r.server && !r.client;
    }
    QCOMPARE(clientsOnly, 1);
    QCOMPARE(serversOnly, 2);
}

// The end of a recording cuts calls in two: a callee's half whose caller's half lies
// after the cut must not become a call from "external", while a caller's half still
// counts towards its peer. Paired requests are untouched.
// The start of a recording cuts calls too: a callee's half that came within a
// time-to-live after the start and never met its caller had that caller's half before
// it, and is left out at expiry. Later lone halves still count as from outside.
void TestSpanPairer::loneServersAtTheStartOfAReplayAreCut()
{
    SpanPairer pairer(5000);
    pairer.setCutBefore(kT0Ms);
    std::vector<PairedRequest> out;
    pairer.add(serverSpan("reviews", 61, 0x6102, 0x6101, kT0Ns, 10), kT0Ms + 100, out);
    pairer.add(serverSpan("ratings", 62, 0x6202, 0x6201, kT0Ns, 10), kT0Ms + 4900, out);
    pairer.add(serverSpan("cart", 63, 0x6302, 0x6301, kT0Ns, 10), kT0Ms + 5000, out);  // a whole TTL in
    pairer.add(clientSpan("frontend", 64, 0x6401, 0x6400, kT0Ns, 10), kT0Ms + 200, out);
    pairer.add(serverSpan("checkout", 64, 0x6402, 0x6401, kT0Ns, 10), kT0Ms + 300, out);
    QCOMPARE(out.size(), size_t(1));  // the complete call, cut or not
    pairer.expire(kT0Ms + 20000, out);
    QCOMPARE(out.size(), size_t(2));
    QCOMPARE(out[1].server->service, std::string("cart"));
    QVERIFY(!out[1].client);
    QCOMPARE(pairer.counters().cutOffServers, uint64_t(2));
    QCOMPARE(pairer.counters().expiredServers, uint64_t(1));
    QCOMPARE(pairer.pending(), size_t(0));
}

void TestSpanPairer::flushAtACutDropsLoneServerHalves()
{
    SpanPairer pairer(60000);
    std::vector<PairedRequest> out;
    Span lonely = clientSpan("frontend", 50, 0x5001, 0x5000, kT0Ns, 10);
    lonely.peer = "api.payments.example";
    pairer.add(std::move(lonely), kT0Ms, out);
    pairer.add(serverSpan("reviews", 51, 0x5102, 0x5101, kT0Ns, 10), kT0Ms, out);
    pairer.add(serverSpan("ratings", 51, 0x5103, 0x5101, kT0Ns, 10), kT0Ms, out);
    pairer.add(clientSpan("frontend", 52, 0x5201, 0x5200, kT0Ns, 10), kT0Ms, out);
    pairer.add(serverSpan("cart", 52, 0x5202, 0x5201, kT0Ns, 10), kT0Ms, out);
    QCOMPARE(out.size(), size_t(1));  // the complete call
    pairer.flush(out, SpanPairer::LoneServers::Drop);
    QCOMPARE(out.size(), size_t(2));
    QVERIFY(out[1].client && !out[1].server);
    QCOMPARE(out[1].client->peer, std::string("api.payments.example"));
    QCOMPARE(pairer.pending(), size_t(0));
    QCOMPARE(pairer.counters().cutOffServers, uint64_t(2));
    QCOMPARE(pairer.counters().expiredServers, uint64_t(0));
    QCOMPARE(pairer.counters().expiredClients, uint64_t(1));
}

void TestSpanPairer::pendingCountsOnlyWaitingHalves()
{
    // IngestCounters::pendingHalves is shown to the user as halves still waiting for
    // a partner. Once every request is complete, nothing is waiting.
    GraphAggregator agg(pairingConfig(), kT0Ms);
    agg.ingestSpans(batch(clientSpan("frontend", 60, 0x6001, 0x6000, kT0Ns, 10)), kT0Ms);
    GraphSnapshotPtr waiting = agg.snapshot(kT0Ms + 1);
    QCOMPARE(waiting->counters.pendingHalves, uint64_t(1));

    agg.ingestSpans(
        batch(serverSpan("reviews", 60, 0x6002, 0x6001, kT0Ns, 9), serverSpan("frontend", 61, 0x6100, 0, kT0Ns, 9)),
        kT0Ms + 2);
    GraphSnapshotPtr done = agg.snapshot(kT0Ms + 3);
    QCOMPARE(done->counters.requests, uint64_t(2));
    QCOMPARE(done->counters.pendingHalves, uint64_t(0));
}

QTEST_GUILESS_MAIN(TestSpanPairer)
void TestSpanPairer::databaseCallsCountAtOnce()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    Span db = clientSpan("catalog", 1, 0x10, 0x01, kT0Ns, 3);
    db.peer = "postgres";
    db.databaseCall = true;
    pairer.add(std::move(db), kT0Ms, out);
    QCOMPARE(out.size(), size_t(1));  // no wait for a server half that never comes
    QVERIFY(out[0].client && !out[0].server);
    QCOMPARE(pairer.pending(), size_t(0));
    QCOMPARE(pairer.counters().fastTracked, uint64_t(1));
    out.clear();
    pairer.expire(kT0Ms + kTtlMs, out);
    QVERIFY(out.empty());  // and it is not counted a second time at expiry
}

void TestSpanPairer::untracedPeerLearnedAfterExpiry()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    Span first = clientSpan("egress", 1, 0x10, 0x01, kT0Ns, 80);
    first.peer = "api.example.com";
    pairer.add(std::move(first), kT0Ms, out);
    QVERIFY(out.empty());
    pairer.expire(kT0Ms + kTtlMs, out);
    QCOMPARE(out.size(), size_t(1));
    out.clear();

    Span second = clientSpan("egress", 2, 0x30, 0x02, kT0Ns, 80);
    second.peer = "api.example.com";
    pairer.add(std::move(second), kT0Ms + kTtlMs + 1, out);
    QCOMPARE(out.size(), size_t(1));  // counted at once now
    Span other = clientSpan("egress", 3, 0x40, 0x03, kT0Ns, 80);
    other.peer = "reviews";  // a different peer still waits
    pairer.add(std::move(other), kT0Ms + kTtlMs + 1, out);
    QCOMPARE(out.size(), size_t(1));
    QCOMPARE(pairer.pending(), size_t(1));
}

void TestSpanPairer::lateServerHalfUnlearnsPeer()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    Span first = clientSpan("frontend", 1, 0x10, 0x01, kT0Ns, 20);
    first.peer = "reviews";
    pairer.add(std::move(first), kT0Ms, out);
    pairer.expire(kT0Ms + kTtlMs, out);  // reviews looked untraced
    out.clear();

    Span fast = clientSpan("frontend", 2, 0x30, 0x02, kT0Ns, 20);
    fast.peer = "reviews";
    pairer.add(std::move(fast), kT0Ms + kTtlMs + 1, out);
    QCOMPARE(out.size(), size_t(1));
    // Its server half turns up: not counted twice, and reviews is traced again.
    pairer.add(serverSpan("reviews", 2, 0x31, 0x30, kT0Ns, 15), kT0Ms + kTtlMs + 2, out);
    QCOMPARE(out.size(), size_t(1));
    Span next = clientSpan("frontend", 3, 0x50, 0x03, kT0Ns, 20);
    next.peer = "reviews";
    pairer.add(std::move(next), kT0Ms + kTtlMs + 3, out);
    QCOMPARE(out.size(), size_t(1));  // waits for its partner again
    pairer.add(serverSpan("reviews", 3, 0x51, 0x50, kT0Ns, 15), kT0Ms + kTtlMs + 4, out);
    QCOMPARE(out.size(), size_t(2));
    QVERIFY(out[1].client && out[1].server);
}

// 100 requests, each exported as one batch with the client span first and a failing
// server span (HTTP 500, status ERROR): every server half counts, so the edge's error
// rate is the truth (1.0) and nothing is called a duplicate.
void TestSpanPairer::clientFirstInOneExportKeepsServerHalves()
{
    GraphAggregator agg(pairingConfig(), kT0Ms);
    for (uint64_t i = 0; i < 100; ++i) {
        Span client = clientSpan("frontend", 1000 + i, 0x100 + i, 0, kT0Ns, 20);
        client.peer = "reviews";
        Span server = serverSpan("reviews", 1000 + i, 0x10000 + i, 0x100 + i, kT0Ns + kMsNs, 15);
        server.httpStatus = 500;
        server.status = SpanStatus::Error;
        agg.ingestSpans(batch(std::move(client), std::move(server)), kT0Ms + int64_t(i) * 20);
    }
    agg.flushPending(kT0Ms + 3000);
    const GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 3000);
    QCOMPARE(snap->counters.duplicateSpans, uint64_t(0));
    QCOMPARE(snap->counters.pairedRequests, uint64_t(100));
    QCOMPARE(snap->counters.fastTrackedClients, uint64_t(0));
    const EdgeSnapshot *e = snap->edge("frontend->reviews");
    QVERIFY(e);
    QCOMPARE(e->stats.requests, uint64_t(100));
    QCOMPARE(e->stats.errorRate, 1.0);
}

void TestSpanPairer::pairingNeverMarksPeerUntraced()
{
    SpanPairer pairer(kTtlMs);
    std::vector<PairedRequest> out;
    for (uint64_t i = 0; i < 3; ++i) {
        Span c = clientSpan("frontend", 10 + i, 0x10 + i, 0, kT0Ns, 20);
        c.peer = "reviews";
        pairer.add(std::move(c), kT0Ms, out);
        QCOMPARE(out.size(), size_t(i));  // waits: reviews is traced
        pairer.add(serverSpan("reviews", 10 + i, 0x90 + i, 0x10 + i, kT0Ns, 15), kT0Ms, out);
        QCOMPARE(out.size(), size_t(i + 1));
        QVERIFY(out.back().client && out.back().server);
    }
    QCOMPARE(pairer.counters().fastTracked, uint64_t(0));
    QCOMPARE(pairer.counters().duplicates, uint64_t(0));
}

namespace {

// The graph as numbers that must not depend on arrival order.
QStringList graphFacts(const GraphSnapshot &snap)
{
    QStringList facts;
    for (const EdgeSnapshot &e : snap.edges)
        facts << QStringLiteral("%1 n=%2 err=%3 4xx=%4 p50=%5 p99=%6")
                     .arg(QString::fromStdString(e.id))
                     .arg(e.stats.requests)
                     .arg(e.stats.errorRate, 0, 'f', 6)
                     .arg(e.stats.rate4xx, 0, 'f', 6)
                     .arg(e.stats.p50Ms, 0, 'f', 3)
                     .arg(e.stats.p99Ms, 0, 'f', 3);
    for (const NodeSnapshot &n : snap.nodes)
        facts << QStringLiteral("%1 kind=%2 n=%3")
                     .arg(QString::fromStdString(n.id))
                     .arg(int(n.kind))
                     .arg(n.stats.requests);
    facts << QStringLiteral("duplicates=%1 paired=%2")
                 .arg(snap.counters.duplicateSpans)
                 .arg(snap.counters.pairedRequests);
    return facts;
}

}  // namespace

// Property: the same spans, shuffled and cut into batches at random (as concurrent
// exporters deliver them), some resent, always give the same graph.
void TestSpanPairer::anyInterleavingAndBatchingGivesSameGraph()
{
    std::mt19937_64 rng(20261206);
    const std::vector<std::string> services = {"frontend", "reviews", "ratings", "details", "payments"};
    std::vector<Span> spans;
    uint64_t nextId = 1;
    for (uint64_t trace = 1; trace <= 300; ++trace) {
        // A root server span at the edge, then a chain of calls, each a client/server pair.
        const uint64_t rootId = nextId++;
        spans.push_back(serverSpan(services[0], trace, rootId, 0, kT0Ns, 40));
        uint64_t parent = rootId;
        size_t caller = 0;
        const int depth = int(rng() % 4);
        for (int d = 0; d < depth; ++d) {
            const size_t callee = 1 + rng() % (services.size() - 1);
            const uint64_t clientId = nextId++;
            const uint64_t serverId = nextId++;
            Span c = clientSpan(services[caller], trace, clientId, parent, kT0Ns + uint64_t(d) * kMsNs, 30 - d);
            c.peer = services[callee];
            Span sv = serverSpan(services[callee], trace, serverId, clientId, kT0Ns + uint64_t(d) * kMsNs, 25 - d);
            const uint64_t roll = rng() % 10;
            if (roll == 0) {
                sv.httpStatus = 500;
                sv.status = SpanStatus::Error;
            } else if (roll == 1) {
                sv.httpStatus = 404;
            } else {
                sv.httpStatus = 200;
            }
            spans.push_back(std::move(c));
            spans.push_back(std::move(sv));
            parent = serverId;
            caller = callee;
        }
    }

    auto graphOf = [&](const std::vector<Span> &order, bool batched, bool resend) {
        GraphAggregator agg(pairingConfig(), kT0Ms);
        size_t i = 0;
        while (i < order.size()) {
            const size_t n = batched ? 1 + size_t(rng() % 40) : order.size();
            std::vector<Span> b(order.begin() + long(i), order.begin() + long(std::min(order.size(), i + n)));
            if (resend && !b.empty())
                b.push_back(b.front());  // an exporter's retry resends a span
            agg.ingestSpans(std::move(b), kT0Ms + 100);
            i += n;
        }
        agg.flushPending(kT0Ms + 200);
        return agg.snapshot(kT0Ms + 200);
    };

    const GraphSnapshotPtr reference = graphOf(spans, false, false);
    const QStringList expected = graphFacts(*reference);
    QVERIFY(reference->counters.pairedRequests > 300);
    for (int round = 0; round < 20; ++round) {
        std::vector<Span> order = spans;
        std::shuffle(order.begin(), order.end(), rng);
        const bool resend = round % 2 == 1;
        const GraphSnapshotPtr got = graphOf(order, true, resend);
        QStringList facts = graphFacts(*got);
        if (resend) {
            // Resent copies are counted as duplicates and change nothing else.
            QVERIFY(got->counters.duplicateSpans > 0);
            facts.removeLast();
            QStringList exp = expected;
            exp.removeLast();
            QCOMPARE(facts, exp);
            QCOMPARE(got->counters.pairedRequests, reference->counters.pairedRequests);
        } else {
            QCOMPARE(facts, expected);
        }
    }
}

#include "tst_spanpairer.moc"

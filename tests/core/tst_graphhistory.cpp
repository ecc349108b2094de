// The live session's history: the graph of a past moment comes back with the numbers
// the live graph showed then (counts exactly, percentiles within the coarse buckets),
// items that did not exist yet are absent, a budget coarsens the oldest frames and
// keeps the counts, the span drops what is older, and the aggregator hands over every
// completed second once.

#include "common/printers.h"
#include "common/spanfactory.h"
#include "graph/graphaggregator.h"
#include "graph/graphhistory.h"

#include <QtTest>

#include <random>

using namespace meshscope;

namespace {

constexpr int64_t kT0 = 1'700'000'000;  // seconds

HistoryCounts counts(uint32_t requests, uint32_t errors = 0, double latencyMs = 20)
{
    HistoryCounts c;
    c.requests = requests;
    c.errors = errors;
    c.errors5xx = errors;
    c.bytes = requests * 100ull;
    c.latency.add(latencyMs, requests);
    return c;
}

// frontend -> checkout every second; checkout -> payments from second 30 on.
struct Mesh {
    GraphHistory history;
    uint32_t frontend, checkout, payments, toCheckout, toPayments;

    explicit Mesh(HistoryLimits limits = {})
        : history(limits)
    {
        frontend = history.node("shop/frontend", "frontend", "shop", "", NodeKind::Service);
        checkout = history.node("shop/checkout", "checkout", "shop", "", NodeKind::Service);
        payments = history.node("shop/payments", "payments", "shop", "", NodeKind::Service);
        toCheckout
            = history.edge("shop/frontend->shop/checkout", frontend, checkout, Direction::EastWest, Protocol::Http, 1);
        toPayments
            = history.edge("shop/checkout->shop/payments", checkout, payments, Direction::EastWest, Protocol::Grpc, -1);
    }
    void second(int64_t s, uint32_t checkoutCalls, uint32_t paymentCalls, uint32_t paymentErrors)
    {
        history.add(s, toCheckout, GraphHistory::Series::Edge, counts(checkoutCalls));
        history.add(s, frontend, GraphHistory::Series::NodeOut, counts(checkoutCalls));
        history.add(s, checkout, GraphHistory::Series::NodeIn, counts(checkoutCalls));
        if (paymentCalls > 0) {
            history.add(s, toPayments, GraphHistory::Series::Edge, counts(paymentCalls, paymentErrors, 80));
            history.add(s, checkout, GraphHistory::Series::NodeOut, counts(paymentCalls, paymentErrors, 80));
            history.add(s, payments, GraphHistory::Series::NodeIn, counts(paymentCalls, paymentErrors, 80));
        }
        history.closeFrame();
    }
};

const EdgeSnapshot *edgeOf(const GraphSnapshot &g, const std::string &id)
{
    for (const EdgeSnapshot &e : g.edges) {
        if (e.id == id)
            return &e;
    }
    return nullptr;
}

const NodeSnapshot *nodeOf(const GraphSnapshot &g, const std::string &id)
{
    for (const NodeSnapshot &n : g.nodes) {
        if (n.id == id)
            return &n;
    }
    return nullptr;
}

}  // namespace

class TestGraphHistory : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // A rollout's gate: what one service served over a range, every version together,
    // read from its records alone, and the same as the graph of that range says.
    void servedByOneService()
    {
        Mesh m;
        const uint32_t paymentsV2 = m.history.node("shop/payments@v2", "payments", "shop", "v2", NodeKind::Service);
        const uint32_t otherPayments = m.history.node("bank/payments", "payments", "bank", "", NodeKind::Service);
        for (int64_t s = kT0; s < kT0 + 60; ++s) {
            m.history.add(s, paymentsV2, GraphHistory::Series::NodeIn, counts(10, 5, 300));
            m.history.add(s, otherPayments, GraphHistory::Series::NodeIn, counts(1000));
            m.second(s, 100, s >= kT0 + 30 ? 50 : 0, s >= kT0 + 30 ? 1 : 0);
        }
        auto named = [](std::string name, std::string ns) {
            return [name, ns](std::string_view n, std::string_view nodeNs, std::string_view) {
                return n == name && (ns.empty() || nodeNs == ns);
            };
        };
        // 10 seconds of payments (50 calls, 1 error each) and v2 (10 calls, 5 errors each).
        const HistoryCounts c = m.history.servedBy(named("payments", "shop"), kT0 + 40, kT0 + 49);
        QCOMPARE(c.requests, uint32_t(600));
        QCOMPARE(c.errors, uint32_t(60));
        QCOMPARE(c.latency.count(), uint64_t(600));
        QVERIFY(c.latency.quantile(0.95) > 200);  // v2's 300 ms calls are the slowest 1/6
        // Before payments existed only v2 served; no namespace given: both namespaces.
        QCOMPARE(m.history.servedBy(named("payments", "shop"), kT0, kT0 + 9).requests, uint32_t(100));
        QCOMPARE(m.history.servedBy(named("payments", ""), kT0, kT0 + 9).requests, uint32_t(10100));
        QCOMPARE(m.history.servedBy(named("nobody", "shop"), kT0, kT0 + 59).requests, uint32_t(0));
        // By version: only v2's records.
        const HistoryCounts v2 = m.history.servedBy(
            [](std::string_view, std::string_view, std::string_view version) { return version == "v2"; }, kT0 + 40,
            kT0 + 49);
        QCOMPARE(v2.requests, uint32_t(100));
        QCOMPARE(v2.errors, uint32_t(50));
        // What the graph of the same range shows for checkout.
        const GraphSnapshotPtr g = m.history.snapshotAt((kT0 + 49) * 1000, 10);
        QCOMPARE(uint64_t(m.history.servedBy(named("checkout", "shop"), kT0 + 40, kT0 + 49).requests),
            nodeOf(*g, "shop/checkout")->stats.requests);
    }

    void coarseLatencyIsCloseToExact()
    {
        QCOMPARE(CoarseLatency {}.quantile(0.95), 0.0);
        for (int b = 1; b < CoarseLatency::kBuckets; ++b) {
            QVERIFY(CoarseLatency::upperBound(b) > CoarseLatency::upperBound(b - 1));
            const double middle = (CoarseLatency::lowerBound(b) + CoarseLatency::upperBound(b)) / 2;
            QCOMPARE(CoarseLatency::bucketFor(middle), b);
        }
        QCOMPARE(CoarseLatency::bucketFor(0.0), 0);
        QCOMPARE(CoarseLatency::bucketFor(1e12), CoarseLatency::kBuckets - 1);

        std::mt19937 rng(3);
        for (double mu : {0.5, 2.0, 4.0, 7.0}) {
            std::lognormal_distribution<double> latency(mu, 0.9);
            std::vector<double> samples(20000);
            CoarseLatency c;
            for (double &s : samples) {
                s = latency(rng);
                c.add(s);
            }
            std::sort(samples.begin(), samples.end());
            for (double q : {0.5, 0.95, 0.99}) {
                const double exact = samples[size_t(q * double(samples.size())) - 1];
                const double got = c.quantile(q);
                QVERIFY2(std::abs(got - exact) / exact < 0.12,
                    qPrintable(QStringLiteral("mu %1 q %2: %3 vs exact %4").arg(mu).arg(q).arg(got).arg(exact)));
            }
        }
    }

    void pastMomentComesBack()
    {
        Mesh m;
        for (int64_t s = 0; s < 120; ++s)
            m.second(kT0 + s, 10, s >= 30 ? 4 : 0, s >= 90 ? 2 : 0);
        QCOMPARE(m.history.firstSecond(), kT0);
        QCOMPARE(m.history.lastSecond(), kT0 + 119);

        // At second 20 over 10 s: payments did not exist yet.
        GraphSnapshotPtr early = m.history.snapshotAt((kT0 + 20) * 1000 + 500, 10);
        QCOMPARE(early->windowSeconds, 10);
        QVERIFY(!nodeOf(*early, "shop/payments"));
        QVERIFY(!edgeOf(*early, "shop/checkout->shop/payments"));
        const EdgeSnapshot *e = edgeOf(*early, "shop/frontend->shop/checkout");
        QVERIFY(e);
        QCOMPARE(e->stats.requests, uint64_t(100));
        QCOMPARE(e->stats.rps, 10.0);
        QCOMPARE(e->protocol, Protocol::Http);
        QCOMPARE(e->mtls, int8_t(1));
        QVERIFY(std::abs(e->stats.p95Ms - 20) / 20 < 0.25);
        // frontend serves nothing: it shows what it sent, as the live graph does.
        QCOMPARE(nodeOf(*early, "shop/frontend")->stats.requests, uint64_t(100));

        // At second 119 over 60 s: half the window failed half its payment calls.
        GraphSnapshotPtr late = m.history.snapshotAt((kT0 + 119) * 1000 + 999, 60);
        const EdgeSnapshot *pay = edgeOf(*late, "shop/checkout->shop/payments");
        QVERIFY(pay);
        QCOMPARE(pay->stats.requests, uint64_t(240));
        QCOMPARE(pay->stats.errorRate, 0.25);
        QCOMPARE(pay->stats.health, std::optional<Health>(Health::Failing));
        QVERIFY(std::abs(pay->stats.p95Ms - 80) / 80 < 0.25);
        QCOMPARE(nodeOf(*late, "shop/checkout")->stats.requests, uint64_t(600));  // what it served

        // Outside the history: nothing.
        QVERIFY(m.history.snapshotAt((kT0 - 100) * 1000, 60)->edges.empty());
        QVERIFY(m.history.snapshotAt((kT0 + 500) * 1000, 60)->edges.empty());
        // A window reaching back before the start divides by the time since.
        QCOMPARE(edgeOf(*m.history.snapshotAt((kT0 + 4) * 1000, 60), "shop/frontend->shop/checkout")->stats.rps, 10.0);
    }

    void totalsFollowTheSeconds()
    {
        Mesh m;
        for (int64_t s = 0; s < 60; ++s)
            m.second(kT0 + s, 10, 4, s % 2);
        const std::vector<SeriesPoint> points = m.history.totals(kT0, kT0 + 59, 10);
        QCOMPARE(points.size(), size_t(6));
        for (const SeriesPoint &p : points) {
            QCOMPARE(p.requests, uint32_t(140));
            QCOMPARE(p.errors, uint32_t(5));
            QCOMPARE(p.seconds, 10);
        }
    }

    // A budget far below an hour of this mesh: the oldest frames become 10 s and then
    // 60 s frames, the newest minute stays at 1 s, memory stays near the budget, and the
    // counts of a coarsened minute are the same as before.
    void budgetCoarsensTheOldest()
    {
        HistoryLimits limits;
        limits.maxBytes = 64 * 1024;
        Mesh m(limits);
        Mesh reference;  // unbounded
        for (int64_t s = 0; s < 1800; ++s) {
            m.second(kT0 + s, 10, 4, s % 3 == 0 ? 1 : 0);
            reference.second(kT0 + s, 10, 4, s % 3 == 0 ? 1 : 0);
        }
        QVERIFY2(m.history.bytes() <= limits.maxBytes + 4096, qPrintable(QString::number(m.history.bytes())));
        QVERIFY(m.history.coarsenedFrames() > 0);
        QCOMPARE(m.history.resolutionAt(kT0 + 1799), 1);
        QCOMPARE(m.history.resolutionAt(kT0 + 1799 - 30), 1);
        const int oldest = m.history.resolutionAt(m.history.firstSecond());
        QVERIFY2(oldest == 10 || oldest == 60, qPrintable(QString::number(oldest)));

        // A whole coarsened minute, counted the same as at full resolution.
        const int64_t minute = ((m.history.firstSecond() + 59) / 60 + 1) * 60;
        QVERIFY(minute + 60 < kT0 + 1700);
        const GraphSnapshotPtr coarse = m.history.snapshotAt((minute + 59) * 1000, 60);
        const GraphSnapshotPtr full = reference.history.snapshotAt((minute + 59) * 1000, 60);
        const EdgeSnapshot *a = edgeOf(*coarse, "shop/checkout->shop/payments");
        const EdgeSnapshot *b = edgeOf(*full, "shop/checkout->shop/payments");
        QVERIFY(a && b);
        QCOMPARE(a->stats.requests, b->stats.requests);
        QCOMPARE(a->stats.errorRate, b->stats.errorRate);
        QCOMPARE(a->stats.p95Ms, b->stats.p95Ms);
    }

    void spanDropsWhatIsOlder()
    {
        HistoryLimits limits;
        limits.spanSeconds = 300;
        Mesh m(limits);
        for (int64_t s = 0; s < 1000; ++s)
            m.second(kT0 + s, 1, 0, 0);
        QVERIFY2(
            m.history.firstSecond() >= kT0 + 1000 - 301, qPrintable(QString::number(m.history.firstSecond() - kT0)));
        QVERIFY(m.history.droppedFrames() >= 690);
        QCOMPARE(m.history.resolutionAt(kT0 + 10), 0);
    }

    void secondsOutOfOrderAreIgnored()
    {
        Mesh m;
        m.second(kT0 + 10, 5, 0, 0);
        m.second(kT0 + 9, 7, 0, 0);  // already past: ignored, not merged into 10
        m.second(kT0 + 10, 7, 0, 0);
        QCOMPARE(m.history.frames(), size_t(1));
        QCOMPARE(edgeOf(*m.history.snapshotAt((kT0 + 10) * 1000, 1), "shop/frontend->shop/checkout")->stats.requests,
            uint64_t(5));
    }

    // The aggregator hands each completed second over once: the past comes back with
    // the numbers the live graph showed at that moment, and a service that came later
    // is not in it.
    void aggregatorKeepsTheLiveGraph()
    {
        AggregatorConfig config;
        config.keepHistory = true;
        config.windowSeconds = 30;
        const int64_t startMs = kT0 * 1000;
        GraphAggregator agg(config, startMs);
        QVERIFY(agg.history());
        GraphSnapshotPtr liveAt40;
        for (int64_t s = 0; s < 90; ++s) {
            std::vector<ObservedRequest> batch;
            for (int i = 0; i < 10; ++i)
                batch.push_back(test::shopCall("frontend", "checkout", i == 0 && s >= 20 ? 503 : 200, 10 + i));
            if (s >= 50)
                batch.push_back(test::shopCall("checkout", "recommendations", 200, 5));
            agg.ingestRequests(std::move(batch), (kT0 + s) * 1000 + 100, "als");
            // Snapshots ten times a second, as the publisher takes them.
            for (int tick = 1; tick <= 10; ++tick) {
                GraphSnapshotPtr snap = agg.snapshot((kT0 + s) * 1000 + tick * 100 - 1);
                if (s == 40 && tick == 10)
                    liveAt40 = snap;
            }
        }
        const GraphHistory &h = *agg.history();
        QVERIFY(h.lastSecond() >= kT0 + 87);
        QCOMPARE(h.firstSecond(), kT0);

        const GraphSnapshotPtr past = h.snapshotAt(liveAt40->timeMs, config.windowSeconds);
        QVERIFY(!nodeOf(*past, "shop/recommendations"));
        const std::string id = "shop/frontend->shop/checkout";
        const EdgeSnapshot *then = edgeOf(*past, id);
        const EdgeSnapshot *live = edgeOf(*liveAt40, id);
        QVERIFY(then && live);
        QCOMPARE(then->stats.requests, live->stats.requests);
        QCOMPARE(then->stats.rps, live->stats.rps);
        QCOMPARE(then->stats.errorRate, live->stats.errorRate);
        QVERIFY2(std::abs(then->stats.p95Ms - live->stats.p95Ms) / live->stats.p95Ms < 0.25,
            qPrintable(QStringLiteral("%1 vs %2").arg(then->stats.p95Ms).arg(live->stats.p95Ms)));
        QCOMPARE(past->nodes.size(), liveAt40->nodes.size());

        // Later, recommendations is there.
        QVERIFY(nodeOf(*h.snapshotAt((kT0 + 80) * 1000, 30), "shop/recommendations"));
        // Each second once: the minute from 20 to 79 holds 600 frontend calls (60 of
        // them failed) and, from 50 on, 30 recommendations.
        const std::vector<SeriesPoint> totals = h.totals(kT0 + 20, kT0 + 79, 10);
        QCOMPARE(totals.size(), size_t(6));
        uint32_t requests = 0, errors = 0;
        for (const SeriesPoint &p : totals) {
            requests += p.requests;
            errors += p.errors;
        }
        QCOMPARE(requests, uint32_t(600 + 30));
        QCOMPARE(errors, uint32_t(60));
    }

    // What an edge is (protocol, mTLS) as first seen, then changed: the history follows.
    void changedEdgesFollow()
    {
        AggregatorConfig config;
        config.keepHistory = true;
        config.windowSeconds = 30;
        GraphAggregator agg(config, kT0 * 1000);
        for (int64_t s = 0; s < 40; ++s) {
            ObservedRequest r = test::shopCall("frontend", "checkout", 200);
            if (s >= 20) {
                r.event.protocol = Protocol::Grpc;
                r.event.mtls = 1;
            }
            std::vector<ObservedRequest> batch {r};
            agg.ingestRequests(std::move(batch), (kT0 + s) * 1000 + 100, "als");
            agg.snapshot((kT0 + s) * 1000 + 999);
        }
        const std::string id = "shop/frontend->shop/checkout";
        const GraphSnapshotPtr later = agg.history()->snapshotAt((kT0 + 35) * 1000, 10);
        const EdgeSnapshot *e = edgeOf(*later, id);
        QVERIFY(e);
        QCOMPARE(e->protocol, Protocol::Grpc);
        QCOMPARE(e->mtls, int8_t(1));
    }

    void withoutHistoryNothingIsKept()
    {
        GraphAggregator agg;
        QVERIFY(!agg.history());
    }
};

QTEST_GUILESS_MAIN(TestGraphHistory)
#include "tst_graphhistory.moc"

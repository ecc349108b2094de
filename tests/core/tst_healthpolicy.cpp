// HealthPolicy: the minimum of requests before anything is called degraded or failing,
// hysteresis (worse at once, better only after the numbers held below the leaving
// threshold), and the aggregator's verdicts in snapshots, which do not flap for a
// 7 req/s stream whose error rate wanders around a threshold.

#include "graph/graphaggregator.h"
#include "graph/healthpolicy.h"

#include <QtTest>

#include <random>

using namespace meshscope;

namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;

TrafficStats statsOf(uint64_t requests, double errorRate, double rate4xx = 0)
{
    TrafficStats s;
    s.requests = requests;
    s.rps = double(requests) / 60.0;
    s.errorRate = errorRate;
    s.rate4xx = rate4xx;
    return s;
}

ObservedRequest request(int httpStatus)
{
    ObservedRequest r;
    r.source.name = "frontend";
    r.source.ns = "shop";
    r.target.name = "checkout";
    r.target.ns = "shop";
    r.event.protocol = Protocol::Http;
    r.event.httpStatus = httpStatus;
    r.event.error = httpStatus >= 500;
    r.event.durationMs = 12;
    return r;
}

const std::string kEdge = "shop/frontend->shop/checkout";

}  // namespace

class TestHealthPolicy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void judgesWithKialiThresholds();
    void minimumOfRequests();
    void worseAtOnceBetterAfterHolding();
    void classifyPrefersTrackedVerdict();
    void aggregatorNeedsMinimumOfRequests();
    void noFlappingAroundThreshold_data();
    void noFlappingAroundThreshold();
    void pulledEdgesGetHysteresisToo();
};

void TestHealthPolicy::judgesWithKialiThresholds()
{
    const HealthPolicy p;
    QCOMPARE(p.judge(statsOf(0, 0)), Health::NoTraffic);
    QCOMPARE(p.judge(statsOf(1000, 0)), Health::Healthy);
    QCOMPARE(p.judge(statsOf(1000, 0.0009)), Health::Healthy);
    QCOMPARE(p.judge(statsOf(1000, 0.001)), Health::Degraded);
    QCOMPARE(p.judge(statsOf(1000, 0.10)), Health::Degraded);  // failing is *above* 10 %
    QCOMPARE(p.judge(statsOf(1000, 0.101)), Health::Failing);
    QCOMPARE(p.judge(statsOf(1000, 0, 0.10)), Health::Degraded);
    QCOMPARE(p.judge(statsOf(1000, 0, 0.20)), Health::Failing);
}

void TestHealthPolicy::minimumOfRequests()
{
    const HealthPolicy p;
    QCOMPARE(p.minRequests, uint64_t(20));
    // 19 requests, every one failed: too few to call it anything but healthy.
    QCOMPARE(p.judge(statsOf(19, 1.0)), Health::Healthy);
    QCOMPARE(p.judge(statsOf(19, 0, 1.0)), Health::Healthy);
    QCOMPARE(p.judge(statsOf(20, 1.0)), Health::Failing);
    QCOMPARE(p.judge(statsOf(20, 0.05)), Health::Degraded);

    // Tracked: a trickle of failures never turns the badge, however long it lasts.
    HealthState state;
    for (int64_t t = 0; t < 600'000; t += 1000)
        QCOMPARE(p.track(state, statsOf(7, 1.0 / 7), t), Health::Healthy);
    // Once enough requests are in the window, the same rate is failing at once.
    QCOMPARE(p.track(state, statsOf(70, 10.0 / 70), 600'000), Health::Failing);
}

void TestHealthPolicy::worseAtOnceBetterAfterHolding()
{
    const HealthPolicy p;
    HealthState state;
    QCOMPARE(p.track(state, statsOf(420, 0), 0), Health::Healthy);
    QCOMPARE(p.track(state, statsOf(420, 0.12), 1000), Health::Failing);  // at once

    // Under the entering threshold but above the leaving one: stays failing, for good.
    for (int64_t t = 2000; t < 200'000; t += 1000)
        QCOMPARE(p.track(state, statsOf(420, 0.08), t), Health::Failing);

    // Below the leaving threshold: failing for recoverMs more, then what the numbers
    // hold (5 % is degraded).
    const int64_t below = 200'000;
    for (int64_t t = below; t < below + p.recoverMs; t += 1000)
        QCOMPARE(p.track(state, statsOf(420, 0.05), t), Health::Failing);
    QCOMPARE(p.track(state, statsOf(420, 0.05), below + p.recoverMs), Health::Degraded);

    // A relapse above the leaving threshold restarts the clock.
    const int64_t clean = below + p.recoverMs + 1000;
    QCOMPARE(p.track(state, statsOf(420, 0), clean), Health::Degraded);
    QCOMPARE(p.track(state, statsOf(420, 0.002), clean + 20'000), Health::Degraded);
    QCOMPARE(p.track(state, statsOf(420, 0), clean + 21'000), Health::Degraded);
    QCOMPARE(p.track(state, statsOf(420, 0), clean + 21'000 + p.recoverMs - 1000), Health::Degraded);
    QCOMPARE(p.track(state, statsOf(420, 0), clean + 21'000 + p.recoverMs), Health::Healthy);

    // The end of all traffic needs no confirming; a clock that steps back breaks nothing.
    QCOMPARE(p.track(state, statsOf(0, 0), clean + 60'000), Health::NoTraffic);
    QCOMPARE(p.track(state, statsOf(420, 0.2), 5000), Health::Failing);
    QCOMPARE(p.track(state, statsOf(420, 0), 1000), Health::Failing);
}

void TestHealthPolicy::classifyPrefersTrackedVerdict()
{
    const HealthPolicy p;
    TrafficStats s = statsOf(420, 0.08);
    QCOMPARE(p.classify(s), Health::Degraded);  // the numbers alone
    s.health = Health::Failing;  // what the aggregator tracked
    QCOMPARE(p.classify(s), Health::Failing);
}

void TestHealthPolicy::aggregatorNeedsMinimumOfRequests()
{
    GraphAggregator agg({}, kT0Ms - 60'000);
    // Ten requests, half of them 503: too few.
    for (int i = 0; i < 10; ++i)
        agg.ingestRequests({request(i % 2 ? 503 : 200)}, kT0Ms + i * 100, "als");
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 1000);
    const EdgeSnapshot *e = snap->edge(kEdge);
    QVERIFY(e);
    QCOMPARE(e->stats.requests, uint64_t(10));
    QVERIFY(e->stats.health.has_value());
    QCOMPARE(*e->stats.health, Health::Healthy);
    QCOMPARE(HealthPolicy {}.classify(e->stats), Health::Healthy);
    QCOMPARE(*snap->node("shop/checkout")->stats.health, Health::Healthy);

    // Ten more make twenty: now it is failing.
    for (int i = 0; i < 10; ++i)
        agg.ingestRequests({request(i % 2 ? 503 : 200)}, kT0Ms + 1000 + i * 100, "als");
    snap = agg.snapshot(kT0Ms + 2000);
    QCOMPARE(*snap->edge(kEdge)->stats.health, Health::Failing);
    QCOMPARE(*snap->node("shop/checkout")->stats.health, Health::Failing);
}

void TestHealthPolicy::noFlappingAroundThreshold_data()
{
    QTest::addColumn<double>("error5xx");
    QTest::addColumn<double>("error4xx");
    QTest::addColumn<Health>("around");
    QTest::newRow("5xx around 10 % (failing)") << 0.10 << 0.0 << Health::Failing;
    QTest::newRow("5xx around 9 %") << 0.09 << 0.0 << Health::Failing;
    QTest::newRow("4xx around 20 % (failing)") << 0.0 << 0.20 << Health::Failing;
    QTest::newRow("4xx around 10 % (degraded)") << 0.0 << 0.10 << Health::Degraded;
}

void TestHealthPolicy::noFlappingAroundThreshold()
{
    QFETCH(double, error5xx);
    QFETCH(double, error4xx);
    QFETCH(Health, around);

    // Ten minutes of 7 req/s, each request failing at random with a fixed seed, watched
    // as the app does: a snapshot every 100 ms.
    GraphAggregator agg({}, kT0Ms);
    const HealthPolicy policy;
    std::mt19937 rng(20240611);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    constexpr int kSeconds = 600;
    constexpr int kWarmUp = 60;  // one full window
    int tracked = 0, raw = 0;
    Health lastTracked = Health::NoTraffic, lastRaw = Health::NoTraffic;
    bool sawAround = false;
    for (int64_t ms = 0; ms < kSeconds * 1000; ms += 100) {
        if (ms % 1000 < 700) {  // 7 of the 10 ticks of each second carry one request
            const double u = unit(rng);
            const int status = u < error5xx ? 503 : (u < error5xx + error4xx ? 404 : 200);
            agg.ingestRequests({request(status)}, kT0Ms + ms, "als");
        }
        const GraphSnapshotPtr snap = agg.snapshot(kT0Ms + ms + 50);
        const EdgeSnapshot *e = snap->edge(kEdge);
        QVERIFY(e && e->stats.health);
        if (ms < kWarmUp * 1000) {
            lastTracked = *e->stats.health;
            lastRaw = policy.judge(e->stats);
            continue;
        }
        tracked += *e->stats.health != lastTracked;
        raw += policy.judge(e->stats) != lastRaw;
        lastTracked = *e->stats.health;
        lastRaw = policy.judge(e->stats);
        sawAround = sawAround || lastTracked == around;
    }
    qInfo("verdict changes in 9 minutes: %d judging each snapshot alone, %d with hysteresis", raw, tracked);
    // Without memory the verdict flips over and over; with it, hardly ever.
    QVERIFY2(raw >= 10, "the stream must actually cross the threshold, or the test proves nothing");
    QVERIFY2(tracked <= 3, qPrintable(QString::number(tracked)));
    QVERIFY(sawAround);
}

void TestHealthPolicy::pulledEdgesGetHysteresisToo()
{
    GraphAggregator agg({}, kT0Ms);
    auto pulled = [](double errorRate) {
        PulledEdge e;
        e.source.ns = "shop";
        e.source.name = "frontend";
        e.target.ns = "shop";
        e.target.name = "checkout";
        e.protocol = Protocol::Http;
        e.stats = statsOf(6000, errorRate);
        return std::vector<PulledEdge> {e};
    };
    agg.setPulledEdges("prometheus", pulled(0.12), kT0Ms);
    QCOMPARE(*agg.snapshot(kT0Ms)->edge(kEdge)->stats.health, Health::Failing);
    agg.setPulledEdges("prometheus", pulled(0.08), kT0Ms + 10'000);
    QCOMPARE(*agg.snapshot(kT0Ms + 10'000)->edge(kEdge)->stats.health, Health::Failing);
    agg.setPulledEdges("prometheus", pulled(0.0), kT0Ms + 20'000);
    QCOMPARE(*agg.snapshot(kT0Ms + 20'000)->edge(kEdge)->stats.health, Health::Failing);
    QCOMPARE(*agg.snapshot(kT0Ms + 50'000)->edge(kEdge)->stats.health, Health::Healthy);
    // The node only the pull source knows is judged from its summed edges the same way.
    QCOMPARE(*agg.snapshot(kT0Ms + 50'000)->node("shop/checkout")->stats.health, Health::Healthy);
}

QTEST_GUILESS_MAIN(TestHealthPolicy)
#include "tst_healthpolicy.moc"

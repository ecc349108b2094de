// Chart series from the aggregator: the window -> step mapping, the live history that
// reaches an hour back at 30 s steps without growing past it, and no points for time
// before data (or before the program started watching).

#include "graph/graphaggregator.h"
#include "graph/windowstats.h"

#include <QtTest>

using namespace meshscope;

namespace {

constexpr int64_t kT0 = 1'699'999'980;  // unix seconds, a multiple of 60

ObservedRequest request(int httpStatus = 200, double ms = 12)
{
    ObservedRequest r;
    r.source.name = "frontend";
    r.source.ns = "shop";
    r.target.name = "checkout";
    r.target.ns = "shop";
    r.event.protocol = Protocol::Http;
    r.event.httpStatus = httpStatus;
    r.event.error = httpStatus >= 500;
    r.event.durationMs = ms;
    return r;
}

const std::string kEdge = "shop/frontend->shop/checkout";
const std::string kNode = "shop/checkout";

// `perSecond` requests in each second of [from, to), with a snapshot after each second
// as the publisher would take (it moves the windows along).
void feed(GraphAggregator &agg, int64_t from, int64_t to, int perSecond, int everyNthFails = 0)
{
    int n = 0;
    for (int64_t s = from; s < to; ++s) {
        for (int i = 0; i < perSecond; ++i, ++n)
            agg.ingestRequests(
                {request(everyNthFails && n % everyNthFails == 0 ? 503 : 200, 10 + i)}, s * 1000 + i * 10, "als");
        agg.snapshot(s * 1000 + 900);
    }
}

}  // namespace

class TestChartSeries : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void windowToStep_data();
    void windowToStep();
    void liveStepsFollowWhatIsKept();
    void noPointsBeforeData();
    void noPointsBeforeProgramStart();
    void quietTimeAfterDataIsZero();
    void historyCoversAnHourAt30s();
    void historyIsBuiltWithoutSnapshots();
    void partsTakenTogether();
};

void TestChartSeries::windowToStep_data()
{
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("step");
    QTest::newRow("1 m") << 60 << 1;
    QTest::newRow("2 m") << 120 << 1;
    QTest::newRow("5 m") << 300 << 5;
    QTest::newRow("15 m") << 900 << 15;
    QTest::newRow("1 h") << 3600 << 30;
    QTest::newRow("3 h") << 10800 << 120;
    QTest::newRow("6 h") << 21600 << 300;
    QTest::newRow("24 h") << 86400 << 900;
    QTest::newRow("7 d") << 7 * 86400 << 7200;
    QTest::newRow("nonsense") << 0 << 1;
}

void TestChartSeries::windowToStep()
{
    QFETCH(int, window);
    QFETCH(int, step);
    QCOMPARE(chartStepSeconds(window), step);
    QVERIFY(window / step <= 120);
}

void TestChartSeries::liveStepsFollowWhatIsKept()
{
    // The preset windows get their own steps.
    const GraphAggregator agg;
    QCOMPARE(agg.chartStep(60), 1);
    QCOMPARE(agg.chartStep(300), 5);
    QCOMPARE(agg.chartStep(900), 15);
    QCOMPARE(agg.chartStep(3600), 30);
    // 2 min at 1 s would need a longer per-second ring than the 60 s one: the next step.
    QCOMPARE(agg.chartStep(120), 5);
    // Past the hour there is nothing finer than what the hour keeps.
    QCOMPARE(agg.chartStep(6 * 3600), 30);
    // A ring too short to build the coarser steps from keeps only seconds.
    AggregatorConfig tiny;
    tiny.windowSeconds = 10;
    QCOMPARE(GraphAggregator(tiny).chartStep(300), 5);
    QCOMPARE(GraphAggregator(tiny).chartStep(3600), 5);
    tiny.windowSeconds = 5;
    QCOMPARE(GraphAggregator(tiny).chartStep(3600), 1);
}

void TestChartSeries::noPointsBeforeData()
{
    // Watching since kT0; the edge's first request comes 100 s later.
    GraphAggregator agg({}, kT0 * 1000);
    for (int64_t s = kT0; s < kT0 + 100; ++s)
        agg.snapshot(s * 1000 + 500);
    const int64_t first = kT0 + 100 + 2;  // not on a step boundary
    feed(agg, first, kT0 + 400, 7);
    const int64_t nowMs = (kT0 + 400) * 1000 + 300;

    // 5 m at 5 s: the window begins at kT0+100, but the points at the first step with data.
    const std::vector<SeriesPoint> fiveMin = agg.edgeSeries(kEdge, nowMs, 300, 5);
    QVERIFY(!fiveMin.empty());
    QCOMPARE(fiveMin.front().second, kT0 + 100);  // the 5 s step holding `first`
    QCOMPARE(fiveMin.front().requests, uint32_t(3 * 7));
    for (const SeriesPoint &p : fiveMin) {
        QVERIFY(p.second >= kT0 + 100);
        QVERIFY(p.second + 5 <= kT0 + 400);  // completed steps only
        QCOMPARE(p.seconds, 5);
    }
    QCOMPARE(fiveMin.back().second, kT0 + 395 - 5);  // the last step is built a second after it ends
    // The node has the same series.
    QCOMPARE(agg.nodeSeries(kNode, nowMs, 300, 5).size(), fiveMin.size());

    // 15 m: data began 300 s ago, so 20 points of 15 s and not 60.
    const std::vector<SeriesPoint> quarter = agg.edgeSeries(kEdge, nowMs, 900, 15);
    QVERIFY2(quarter.size() == 19 || quarter.size() == 20, qPrintable(QString::number(quarter.size())));
    QCOMPARE(quarter.front().second, kT0 + 90);
    QVERIFY(quarter.front().requests > 0);

    // 1 m at 1 s: the last 59 completed seconds, every one with its 7 requests.
    const std::vector<SeriesPoint> minute = agg.edgeSeries(kEdge, nowMs, 60, 1);
    QCOMPARE(minute.size(), size_t(59));
    QCOMPARE(minute.back().second, kT0 + 399);
    for (const SeriesPoint &p : minute)
        QCOMPARE(p.requests, uint32_t(7));

    // A fresh edge: its one second of data is not complete yet, so no points at all.
    ObservedRequest late = request();
    late.target.name = "payments";
    agg.ingestRequests({late}, (kT0 + 400) * 1000 + 100, "als");
    QVERIFY(agg.edgeSeries("shop/frontend->shop/payments", nowMs, 60, 1).empty());
    QVERIFY(agg.edgeSeries("shop/frontend->shop/payments", nowMs, 3600, 30).empty());
}

void TestChartSeries::noPointsBeforeProgramStart()
{
    // The program started 2 s into a 5 s step, and traffic was there from the start.
    const int64_t start = kT0 + 2;
    GraphAggregator agg({}, start * 1000);
    feed(agg, start, kT0 + 60, 10);
    const std::vector<SeriesPoint> pts = agg.edgeSeries(kEdge, (kT0 + 60) * 1000, 300, 5);
    QVERIFY(!pts.empty());
    // The first step covers the 3 s that were watched, so its rate is not diluted.
    QCOMPARE(pts.front().second, kT0);
    QCOMPARE(pts.front().seconds, 3);
    QCOMPARE(pts.front().requests, uint32_t(30));
    QCOMPARE(pts[1].seconds, 5);
    QCOMPARE(pts[1].requests, uint32_t(50));
}

void TestChartSeries::quietTimeAfterDataIsZero()
{
    // Traffic, 30 s of silence (watched: true zeros), traffic again.
    GraphAggregator agg({}, kT0 * 1000);
    feed(agg, kT0, kT0 + 20, 5);
    for (int64_t s = kT0 + 20; s < kT0 + 50; ++s)
        agg.snapshot(s * 1000 + 900);
    feed(agg, kT0 + 50, kT0 + 100, 5);
    const std::vector<SeriesPoint> pts = agg.edgeSeries(kEdge, (kT0 + 100) * 1000, 300, 5);
    QCOMPARE(pts.front().second, kT0);
    int zeros = 0;
    for (const SeriesPoint &p : pts) {
        if (p.second >= kT0 + 20 && p.second < kT0 + 50) {
            QCOMPARE(p.requests, uint32_t(0));
            ++zeros;
        } else {
            QCOMPARE(p.requests, uint32_t(25));
        }
    }
    QCOMPARE(zeros, 6);
}

void TestChartSeries::historyCoversAnHourAt30s()
{
    // Two hours of 3 req/s (every tenth request a 503): the hour view holds the last
    // hour at 30 s steps, nothing older, with exact counts and latencies per step.
    GraphAggregator agg({}, kT0 * 1000);
    const int64_t end = kT0 + 7200;
    feed(agg, kT0, end, 3, 10);
    const int64_t nowMs = end * 1000 + 500;

    const std::vector<SeriesPoint> hour = agg.edgeSeries(kEdge, nowMs, 3600, 30);
    QVERIFY2(hour.size() == 119 || hour.size() == 120, qPrintable(QString::number(hour.size())));
    QVERIFY(hour.front().second >= end - 3600);
    uint32_t requests = 0, errors = 0;
    for (const SeriesPoint &p : hour) {
        QCOMPARE(p.requests, uint32_t(90));
        QCOMPARE(p.seconds, 30);
        requests += p.requests;
        errors += p.errors;
        QVERIFY(p.p50 >= 10 && p.p50 <= 12.2);
        QVERIFY(p.p99 >= p.p95 && p.p95 >= p.p50);
    }
    QCOMPARE(errors * 10, requests);
    for (size_t i = 1; i < hour.size(); ++i)
        QCOMPARE(hour[i].second - hour[i - 1].second, int64_t(30));

    // The same hour through the default step of the window.
    QCOMPARE(agg.edgeSeries(kEdge, nowMs, 3600).size(), hour.size());
    // Longer windows are cut to the hour that is kept.
    QCOMPARE(agg.edgeSeries(kEdge, nowMs, 6 * 3600).size(), hour.size());

    const std::vector<SeriesPoint> five = agg.edgeSeries(kEdge, nowMs, 300, 5);
    QVERIFY(five.size() == 59 || five.size() == 60);
    for (const SeriesPoint &p : five)
        QCOMPARE(p.requests, uint32_t(15));
    const std::vector<SeriesPoint> quarter = agg.edgeSeries(kEdge, nowMs, 900, 15);
    QVERIFY(quarter.size() == 59 || quarter.size() == 60);
    for (const SeriesPoint &p : quarter)
        QCOMPARE(p.requests, uint32_t(45));
}

void TestChartSeries::historyIsBuiltWithoutSnapshots()
{
    // Steps are built as later seconds arrive even when nobody takes snapshots, and a
    // long quiet spell is stepped over rather than walked.
    WindowStats w(60);
    for (int64_t s = kT0; s < kT0 + 120; ++s)
        w.record(s, 5, false, 200, -1, 0);
    std::vector<SeriesPoint> pts = w.series(kT0 + 120, 300, 5);
    QVERIFY(pts.size() >= 22);
    QCOMPARE(pts.front().second, kT0);
    QCOMPARE(pts.front().requests, uint32_t(5));

    w.record(kT0 + 100'000, 5, false, 200, -1, 0);
    w.record(kT0 + 100'010, 5, false, 200, -1, 0);
    pts = w.series(kT0 + 100'010, 300, 5);
    // Data began long before the window: all of it is watched time, quiet but the last step.
    QCOMPARE(pts.size(), size_t(59));
    QCOMPARE(pts.front().second, kT0 + 100'010 - 300);
    QCOMPARE(pts.back().second, kT0 + 100'000);
    QCOMPARE(pts.back().requests, uint32_t(1));
    for (size_t i = 0; i + 1 < pts.size(); ++i)
        QCOMPARE(pts[i].requests, uint32_t(0));
}

void TestChartSeries::partsTakenTogether()
{
    // Two versions of a service: counts add step by step, a step only one of them has
    // stays as it is, and each percentile is the slower part's.
    SeriesPoint a1 {100, 5, 50, 2, 2, 0, 10, 20, 30}, a2 {105, 5, 40, 0, 0, 0, 11, 21, 31};
    SeriesPoint b1 {100, 5, 10, 3, 1, 2, 40, 45, 50}, b0 {95, 5, 7, 0, 0, 0, 5, 6, 7};
    const std::vector<SeriesPoint> sum = sumSeries({{a1, a2}, {b0, b1}});
    QCOMPARE(sum.size(), size_t(3));
    QCOMPARE(sum[0].second, int64_t(95));
    QCOMPARE(sum[0].requests, 7u);
    QCOMPARE(sum[1].second, int64_t(100));
    QCOMPARE(sum[1].requests, 60u);
    QCOMPARE(sum[1].errors, 5u);
    QCOMPARE(sum[1].errors5xx, 3u);
    QCOMPARE(sum[1].errors4xx, 2u);
    QCOMPARE(sum[1].p50, 40.0);
    QCOMPARE(sum[1].p99, 50.0);
    QCOMPARE(sum[2].requests, 40u);
    QCOMPARE(sum[2].p95, 21.0);
    QVERIFY(sumSeries({}).empty());

    const auto codes = sumStatusCodes({{{200, 40}, {503, 2}}, {{200, 10}, {404, 1}}});
    const std::vector<std::pair<int, uint64_t>> expected {{200, 50}, {404, 1}, {503, 2}};
    QCOMPARE(codes, expected);
}

QTEST_GUILESS_MAIN(TestChartSeries)
#include "tst_chartseries.moc"

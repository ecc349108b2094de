// LatencyHistogram: quantiles against an exact sort of the same samples, and the
// merge/subtract arithmetic that the sliding windows depend on.

#include "graph/latencyhistogram.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

using meshscope::LatencyHistogram;

namespace {

// The quantile definition the histogram documents: value at rank ceil(q * n), 1-based.
double exactQuantile(const std::vector<double> &sorted, double q)
{
    const uint64_t n = sorted.size();
    uint64_t rank = uint64_t(std::ceil(q * double(n)));
    rank = std::clamp<uint64_t>(rank, 1, n);
    return sorted[rank - 1];
}

double relativeError(double got, double want) { return std::abs(got - want) / want; }

using Generator = std::function<double(std::mt19937_64 &)>;

std::vector<double> sample(const Generator &gen, size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<double> out(n);
    for (double &v : out)
        v = gen(rng);
    return out;
}

LatencyHistogram histogramOf(const std::vector<double> &values)
{
    LatencyHistogram h;
    for (double v : values)
        h.add(v);
    return h;
}

}  // namespace

Q_DECLARE_METATYPE(Generator)

class TestLatencyHistogram : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void emptyHistogram();
    void percentileAccuracy_data();
    void percentileAccuracy();
    void bucketRoundTripWithinOnePercent();
    void weightedAdd();
    void extremeValuesAreClampedNotStored();
    void mergeEqualsAddingEverything();
    void subtractUndoesMerge();
    void subtractTrimsAndTracksRecentRange();
    void subtractEverythingEmpties();
    void subtractMoreThanPresentDoesNotUnderflow();
};

void TestLatencyHistogram::emptyHistogram()
{
    LatencyHistogram h;
    QVERIFY(h.empty());
    QCOMPARE(h.count(), uint64_t(0));
    QCOMPARE(h.quantile(0.5), 0.0);
    QCOMPARE(h.quantile(0.99), 0.0);
}

void TestLatencyHistogram::percentileAccuracy_data()
{
    QTest::addColumn<Generator>("gen");
    QTest::addColumn<int>("n");

    // Typical service latencies: median around 20 ms, a long right tail.
    QTest::newRow("lognormal") << Generator([](std::mt19937_64 &r) {
        return std::lognormal_distribution<double>(std::log(20.0), 1.0)(r);
    }) << 20000;
    QTest::newRow("lognormal-wide") << Generator([](std::mt19937_64 &r) {
        return std::lognormal_distribution<double>(std::log(5.0), 2.5)(r);
    }) << 20000;
    QTest::newRow("uniform-1-500ms") << Generator([](std::mt19937_64 &r) {
        return std::uniform_real_distribution<double>(1.0, 500.0)(r);
    }) << 20000;
    // Every decade from 1 microsecond to 100 seconds equally likely.
    QTest::newRow("log-uniform-1us-100s") << Generator([](std::mt19937_64 &r) {
        return std::exp(std::uniform_real_distribution<double>(std::log(0.001), std::log(100000.0))(r));
    }) << 50000;
    QTest::newRow("exponential") << Generator([](std::mt19937_64 &r) {
        return std::exponential_distribution<double>(1.0 / 35.0)(r);
    }) << 20000;
    // Cache hits and misses: two far-apart modes, so p50/p95/p99 land in different ones.
    QTest::newRow("bimodal") << Generator([](std::mt19937_64 &r) {
        return std::bernoulli_distribution(0.93)(r) ? std::normal_distribution<double>(2.0, 0.2)(r)
                                                    : std::normal_distribution<double>(800.0, 50.0)(r);
    }) << 20000;
    QTest::newRow("few-samples") << Generator([](std::mt19937_64 &r) {
        return std::lognormal_distribution<double>(std::log(50.0), 1.0)(r);
    }) << 7;
}

void TestLatencyHistogram::percentileAccuracy()
{
    QFETCH(Generator, gen);
    QFETCH(int, n);
    std::vector<double> values = sample(gen, size_t(n), 0x5eed0000u + uint64_t(n));
    const LatencyHistogram h = histogramOf(values);
    std::sort(values.begin(), values.end());
    QCOMPARE(h.count(), uint64_t(n));

    for (double q : {0.5, 0.95, 0.99, 0.0, 1.0}) {
        const double want = exactQuantile(values, q);
        const double got = h.quantile(q);
        if (want < 0.001) {
            // Below 1 us everything shares the first bucket, by design: the answer
            // is "about a microsecond or less", not within 2 %.
            QVERIFY2(got <= 0.001, qPrintable(QStringLiteral("q=%1: %2 ms").arg(q).arg(got)));
            continue;
        }
        QVERIFY2(relativeError(got, want) <= 0.02,
            qPrintable(QStringLiteral("q=%1: histogram %2 ms, exact %3 ms (error %4 %)")
                           .arg(q)
                           .arg(got, 0, 'g', 8)
                           .arg(want, 0, 'g', 8)
                           .arg(relativeError(got, want) * 100, 0, 'f', 3)));
    }
}

void TestLatencyHistogram::bucketRoundTripWithinOnePercent()
{
    // Every value above 1 us maps to a bucket whose representative is within the
    // documented 1 % (a hair more for floating-point rounding at bucket edges).
    for (double v = 0.0011; v < 2.0e5; v *= 1.0037) {
        const double rep = LatencyHistogram::valueFor(LatencyHistogram::indexFor(v));
        QVERIFY2(relativeError(rep, v) <= LatencyHistogram::kRelativeAccuracy * 1.0001,
            qPrintable(QStringLiteral("%1 ms -> %2 ms").arg(v).arg(rep)));
    }
    // Ordering is kept: a larger value never lands in a smaller bucket.
    QVERIFY(LatencyHistogram::indexFor(1.0) < LatencyHistogram::indexFor(1.05));
    QVERIFY(LatencyHistogram::indexFor(100.0) < LatencyHistogram::indexFor(1000.0));
}

void TestLatencyHistogram::weightedAdd()
{
    LatencyHistogram h;
    h.add(5.0, 99);
    h.add(500.0, 1);
    QCOMPARE(h.count(), uint64_t(100));
    QVERIFY(relativeError(h.quantile(0.5), 5.0) <= 0.01);
    // Rank ceil(0.99 * 100) = 99 is still the 5 ms group; only the maximum is 500 ms.
    QVERIFY(relativeError(h.quantile(0.99), 5.0) <= 0.01);
    QVERIFY(relativeError(h.quantile(1.0), 500.0) <= 0.01);
}

void TestLatencyHistogram::extremeValuesAreClampedNotStored()
{
    LatencyHistogram h;
    h.add(0.0);
    h.add(-3.0);
    h.add(std::nan(""));
    h.add(1e300);  // would need ~35,000 buckets if it were not clamped
    QCOMPARE(h.count(), uint64_t(4));
    // Zero, negative and NaN share the lowest bucket.
    QVERIFY(h.quantile(0.5) <= 0.001);
    QVERIFY(std::isfinite(h.quantile(1.0)));
    QVERIFY(h.quantile(1.0) > 1e12);
    QVERIFY(LatencyHistogram::indexFor(1e300) <= 2000);
}

void TestLatencyHistogram::mergeEqualsAddingEverything()
{
    const auto lognormal
        = [](std::mt19937_64 &r) { return std::lognormal_distribution<double>(std::log(30.0), 1.2)(r); };
    const auto slow = [](std::mt19937_64 &r) { return std::uniform_real_distribution<double>(400.0, 4000.0)(r); };
    const std::vector<double> a = sample(lognormal, 8000, 1);
    const std::vector<double> b = sample(slow, 3000, 2);
    std::vector<double> all = a;
    all.insert(all.end(), b.begin(), b.end());

    LatencyHistogram merged = histogramOf(a);
    merged.merge(histogramOf(b));
    const LatencyHistogram direct = histogramOf(all);
    QCOMPARE(merged.count(), uint64_t(all.size()));
    std::sort(all.begin(), all.end());
    for (double q : {0.01, 0.5, 0.9, 0.95, 0.99, 1.0}) {
        // Same buckets, same counts: the answers are identical, not just close.
        QCOMPARE(merged.quantile(q), direct.quantile(q));
        QVERIFY(relativeError(merged.quantile(q), exactQuantile(all, q)) <= 0.02);
    }

    // Merging into an empty histogram copies; merging an empty one changes nothing.
    LatencyHistogram empty;
    empty.merge(direct);
    QCOMPARE(empty.quantile(0.95), direct.quantile(0.95));
    LatencyHistogram copy = direct;
    copy.merge(LatencyHistogram());
    QCOMPARE(copy.count(), direct.count());
    QCOMPARE(copy.quantile(0.99), direct.quantile(0.99));
}

void TestLatencyHistogram::subtractUndoesMerge()
{
    const auto gen = [](std::mt19937_64 &r) { return std::lognormal_distribution<double>(std::log(12.0), 0.8)(r); };
    const std::vector<double> a = sample(gen, 5000, 11);
    const std::vector<double> b = sample(gen, 5000, 12);
    const LatencyHistogram ha = histogramOf(a);
    LatencyHistogram h = ha;
    h.merge(histogramOf(b));
    QCOMPARE(h.count(), uint64_t(10000));
    h.subtract(histogramOf(b));
    QCOMPARE(h.count(), ha.count());
    for (double q : {0.0, 0.5, 0.95, 0.99, 1.0})
        QCOMPARE(h.quantile(q), ha.quantile(q));
}

void TestLatencyHistogram::subtractTrimsAndTracksRecentRange()
{
    // A window whose old second held slow requests: once that second is subtracted,
    // the tail must come from the fast requests that remain.
    std::vector<double> fast, slow;
    for (int i = 1; i <= 100; ++i)
        fast.push_back(i * 0.1);  // 0.1 .. 10 ms
    for (int i = 0; i < 100; ++i)
        slow.push_back(2000.0 + i * 30.0);  // 2 .. 5 s
    LatencyHistogram slowHist = histogramOf(slow);
    LatencyHistogram h = slowHist;
    h.merge(histogramOf(fast));
    QVERIFY(h.quantile(0.99) > 1000.0);
    h.subtract(slowHist);
    QCOMPARE(h.count(), uint64_t(100));
    QVERIFY(relativeError(h.quantile(0.99), 9.9) <= 0.02);
    QVERIFY(relativeError(h.quantile(1.0), 10.0) <= 0.02);
    QVERIFY(relativeError(h.quantile(0.5), 5.0) <= 0.02);
    // Adding after the trim still lands in the right place on either side.
    h.add(0.01);
    h.add(50000.0);
    QVERIFY(relativeError(h.quantile(0.0), 0.01) <= 0.02);
    QVERIFY(relativeError(h.quantile(1.0), 50000.0) <= 0.02);
}

void TestLatencyHistogram::subtractEverythingEmpties()
{
    const LatencyHistogram a = histogramOf({1.0, 2.0, 3.0, 400.0});
    LatencyHistogram h = a;
    h.subtract(a);
    QVERIFY(h.empty());
    QCOMPARE(h.quantile(0.5), 0.0);
    h.add(7.0);
    QCOMPARE(h.count(), uint64_t(1));
    QVERIFY(relativeError(h.quantile(0.5), 7.0) <= 0.01);
}

void TestLatencyHistogram::subtractMoreThanPresentDoesNotUnderflow()
{
    LatencyHistogram h = histogramOf({10.0, 10.0, 20.0});
    // Twice the 10 ms samples there are, plus a bucket h never had.
    h.subtract(histogramOf({10.0, 10.0, 10.0, 10.0, 99999.0}));
    QCOMPARE(h.count(), uint64_t(1));
    QVERIFY(relativeError(h.quantile(0.5), 20.0) <= 0.01);
    // Subtracting from an empty histogram is a no-op.
    LatencyHistogram empty;
    empty.subtract(h);
    QVERIFY(empty.empty());
}

QTEST_GUILESS_MAIN(TestLatencyHistogram)
#include "tst_latencyhistogram.moc"

// Route history and diffs: records survive a restart (a new RouteHistory on the same
// directory), ids keep counting, a damaged line costs only itself, rollback gives
// back the exact "before" set; the unified diff and the structural summary say what
// changed.

#include "routing/routediff.h"
#include "routing/routehistory.h"
#include "routing/yaml/routeyaml.h"

#include <QtTest>

#include <QFile>
#include <QTemporaryDir>

using namespace meshscope::routing;

namespace {

RouteSet example()
{
    const RouteLoadResult r
        = loadRouteFile(QFINDTESTDATA(QStringLiteral("../../examples/routes/bookinfo-reviews.yaml")).toStdString());
    return r.set;
}

// The example with the canary split changed from 80/20 to `v1`/`v2`.
RouteSet withSplit(int v1, int v2)
{
    RouteSet s = example();
    s.routes[0].rules[1].backends[0].weight = v1;
    s.routes[0].rules[1].backends[1].weight = v2;
    return s;
}

}  // namespace

class TestRouteHistory : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void targetKeysReadBack();
    void recordListAcrossRestarts();
    void rollbackReturnsBefore();
    void rollbackUnknownId();
    void damagedLineSkipped();
    void summaryLines();
    void summaryRulesAndSlices();
    void unifiedDiffFormat();
    void unifiedDiffEdgeCases();
    void briefDiffCut();
};

void TestRouteHistory::recordListAcrossRestarts()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("hist")).toStdString();  // created on demand
    const RouteSet a = example(), b = withSplit(50, 50), c = withSplit(0, 100);
    {
        RouteHistory h(path);
        const auto e1 = h.record("xds 127.0.0.1:18000", a, b, std::nullopt, 1700000000123);
        QVERIFY2(e1, h.error().c_str());
        QCOMPARE(e1->id, int64_t(1));
        QCOMPARE(e1->timeMs, int64_t(1700000000123));
        const auto e2 = h.record("caddy http://127.0.0.1:2019", b, c);
        QVERIFY(e2);
        QCOMPARE(e2->id, int64_t(2));
        QVERIFY(e2->timeMs >= e1->timeMs);
    }
    // A new object, as after a restart of the program.
    RouteHistory h(path);
    const auto entries = h.list();
    QCOMPARE(entries.size(), size_t(2));
    QCOMPARE(h.skippedLines(), 0);
    QCOMPARE(entries[0].id, int64_t(1));
    QCOMPARE(entries[0].timeMs, int64_t(1700000000123));
    QCOMPARE(entries[0].target, std::string("xds 127.0.0.1:18000"));
    QCOMPARE(entries[0].beforeYaml, toYaml(a));
    QCOMPARE(entries[0].afterYaml, toYaml(b));
    QCOMPARE(entries[0].summary,
        (std::vector<std::string> {"HTTPRoute bookinfo/reviews: rule 'canary' backend reviews-v1 weight 80 -> 50",
            "HTTPRoute bookinfo/reviews: rule 'canary' backend reviews-v2 weight 20 -> 50"}));
    QVERIFY(entries[0].diff.find("-          weight: 80\n+          weight: 50\n") != std::string::npos);
    QVERIFY(!entries[0].rollbackOf);
    QCOMPARE(entries[1].target, std::string("caddy http://127.0.0.1:2019"));

    // Appending after the restart continues the numbering.
    const auto e3 = h.record("file:/tmp/x.yaml", c, a, 2);
    QVERIFY(e3);
    QCOMPARE(e3->id, int64_t(3));
    const auto again = RouteHistory(path).entry(3);
    QVERIFY(again);
    QCOMPARE(again->rollbackOf, std::optional<int64_t>(2));

    // One JSON object per line, with the documented keys.
    QFile f(QString::fromStdString(h.filePath()));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    const QJsonObject first = QJsonDocument::fromJson(lines[0]).object();
    for (const char *key : {"id", "time", "target", "diff", "summary", "before", "after"})
        QVERIFY2(first.contains(QLatin1String(key)), key);
    QCOMPARE(first.value(QLatin1String("time")).toString(), QStringLiteral("2023-11-14T22:13:20.123Z"));
}

void TestRouteHistory::rollbackReturnsBefore()
{
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString();
    const RouteSet a = example(), b = withSplit(0, 100);
    QVERIFY(RouteHistory(path).record("t", a, b));
    QVERIFY(RouteHistory(path).record("t", b, withSplit(10, 90)));
    const auto restored = RouteHistory(path).rollback(1);
    QVERIFY(restored);
    QVERIFY(*restored == a);
    QCOMPARE(restored->routes[0].rules[1].backends[0].weight, 80);
    const auto second = RouteHistory(path).rollback(2);
    QVERIFY(second);
    QVERIFY(*second == b);
}

void TestRouteHistory::rollbackUnknownId()
{
    QTemporaryDir dir;
    RouteHistory h(dir.path().toStdString());
    QVERIFY(h.list().empty());
    QVERIFY(!h.rollback(7));
    QVERIFY2(h.error().find("no change with id 7") == 0, h.error().c_str());
}

void TestRouteHistory::damagedLineSkipped()
{
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString();
    RouteHistory h(path);
    QVERIFY(h.record("t", RouteSet {}, example()));
    {
        // A write cut short: half a record, no newline.
        QFile f(QString::fromStdString(h.filePath()));
        QVERIFY(f.open(QIODevice::Append));
        f.write("{\"id\": 2, \"target\": \"cut");
    }
    const auto e = h.record("t", example(), withSplit(1, 1));
    QVERIFY(e);
    QCOMPARE(e->id, int64_t(2));
    const auto entries = RouteHistory(path).list();
    QCOMPARE(entries.size(), size_t(2));
    RouteHistory reader(path);
    reader.list();
    QCOMPARE(reader.skippedLines(), 1);
    QVERIFY(reader.rollback(2));
    QVERIFY(*reader.rollback(2) == example());
}

void TestRouteHistory::summaryLines()
{
    QCOMPARE(summarizeChanges(example(), example()), std::vector<std::string> {});
    RouteSet b = withSplit(0, 100);
    b.routes[0].rules[1].timeoutMs = 3000;
    b.routes[0].rules[1].retry->attempts = 5;
    b.routes[0].rules[0].backends.push_back(BackendRef {"reviews-v3", "", 9080, 1});
    b.routes[0].hostnames.push_back("reviews.bookinfo");
    const auto s = summarizeChanges(example(), b);
    const std::vector<std::string> expected = {
        "HTTPRoute bookinfo/reviews: hostnames [reviews] -> [reviews, reviews.bookinfo]",
        "HTTPRoute bookinfo/reviews: rule 'jason' backend reviews-v3 added (weight 1)",
        "HTTPRoute bookinfo/reviews: rule 'canary' backend reviews-v1 weight 80 -> 0",
        "HTTPRoute bookinfo/reviews: rule 'canary' backend reviews-v2 weight 20 -> 100",
        "HTTPRoute bookinfo/reviews: rule 'canary' timeouts.request 10s -> 3s",
        "HTTPRoute bookinfo/reviews: rule 'canary' retry attempts=2 codes=502,503 retryOn=connect-failure,reset "
        "backoff=25ms "
        "-> attempts=5 codes=502,503 retryOn=connect-failure,reset backoff=25ms",
    };
    QCOMPARE(s, expected);
}

void TestRouteHistory::summaryRulesAndSlices()
{
    RouteSet b = example();
    std::swap(b.routes[0].rules[0], b.routes[0].rules[1]);
    b.routes[0].rules.push_back(RouteRule {});
    b.routes[0].rules.back().name = "new";
    b.endpointSlices[0].endpoints.push_back(Endpoint {"127.0.0.9", false});
    b.endpointSlices.erase(b.endpointSlices.begin() + 1);
    FaultInjection f;
    f.delayMs = 2000;
    f.delayPercent = 5;
    b.routes[0].rules[0].fault = f;
    const auto s = summarizeChanges(example(), b);
    const std::vector<std::string> expected = {
        "HTTPRoute bookinfo/reviews: rule 'canary' fault none -> delay 2s for 5%",
        "HTTPRoute bookinfo/reviews: rule 'new' added",
        "HTTPRoute bookinfo/reviews: rules reordered: jason, canary -> canary, jason",
        "EndpointSlice bookinfo/reviews-v2-b2 removed",
        "EndpointSlice bookinfo/reviews-v1-a1: endpoints [127.0.0.1] -> [127.0.0.1, 127.0.0.9 (not ready)]",
    };
    QCOMPARE(s, expected);
    RouteSet none;
    const auto removed = summarizeChanges(example(), none);
    QCOMPARE(removed.front(), std::string("HTTPRoute bookinfo/reviews removed"));
    QCOMPARE(summarizeChanges(none, example()).front(), std::string("HTTPRoute bookinfo/reviews added (2 rules)"));
}

void TestRouteHistory::unifiedDiffFormat()
{
    const std::string a = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
    const std::string b = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n";
    const std::string d = unifiedDiff(a, b, "old.yaml", "new.yaml", 1);
    const std::string expected = "--- old.yaml\n+++ new.yaml\n"
                                 "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
                                 "@@ -13 +13,2 @@\n m\n+n\n";
    QCOMPARE(d, expected);
    // Changes close together share one hunk.
    const std::string close = unifiedDiff("1\n2\n3\n4\n5\n", "1\nX\n3\nY\n5\n", "a", "b", 1);
    QCOMPARE(close, std::string("--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n-4\n+Y\n 5\n"));
    // Default context of 3 on a real change.
    const std::string real = unifiedDiff(toYaml(example()), toYaml(withSplit(70, 30)));
    QVERIFY(real.rfind("--- before\n+++ after\n@@ -", 0) == 0);
    QCOMPARE(std::count(real.begin(), real.end(), '@'), std::ptrdiff_t(4));  // one hunk
}

void TestRouteHistory::unifiedDiffEdgeCases()
{
    QCOMPARE(unifiedDiff("same\n", "same\n"), std::string());
    QCOMPARE(unifiedDiff("", "x\n", "a", "b"), std::string("--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n"));
    QCOMPARE(unifiedDiff("x\n", "", "a", "b"), std::string("--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n"));
    QCOMPARE(unifiedDiff("x\n", "x", "a", "b"),
        std::string("--- a\n+++ b\n@@ -1 +1 @@\n-x\n+x\n\\ No newline at end of file\n"));
    // Completely different large inputs still diff (and end), each line once.
    std::string big1, big2;
    for (int i = 0; i < 3000; ++i) {
        big1 += "a" + std::to_string(i) + "\n";
        big2 += "b" + std::to_string(i) + "\n";
    }
    const std::string d = unifiedDiff(big1, big2, "a", "b");
    QCOMPARE(std::count(d.begin(), d.end(), '\n'), std::ptrdiff_t(3 + 6000));
}

// The dashboard and the CLI write the same keys, and read each other's.
void TestRouteHistory::targetKeysReadBack()
{
    const std::string key = caddyTargetKey("http://admin:pw@127.0.0.1:2019/?token=abc", "main");
    QCOMPARE(key, std::string("caddy http://127.0.0.1:2019/?token=*** main"));
    const auto parsed = parseCaddyTargetKey(caddyTargetKey("http://127.0.0.1:2019/", "main"));
    QVERIFY(parsed);
    QCOMPARE(parsed->adminUrl, std::string("http://127.0.0.1:2019/"));
    QCOMPARE(parsed->server, std::string("main"));
    QVERIFY(isCaddyTargetKey(key));
    QVERIFY(!isCaddyTargetKey(xdsTargetKey("127.0.0.1:18000")));
    QCOMPARE(xdsTargetKey("127.0.0.1:18000"), std::string("xds 127.0.0.1:18000"));
    QVERIFY(!parseCaddyTargetKey("xds 127.0.0.1:18000"));
    QVERIFY(!parseCaddyTargetKey("caddy onlyurl"));
}

void TestRouteHistory::briefDiffCut()
{
    // Short diffs whole; long ones cut after maxLines, saying how many lines follow.
    QCOMPARE(briefUnifiedDiff("x\n", "y\n", 10), unifiedDiff("x\n", "y\n"));
    QCOMPARE(briefUnifiedDiff("same\n", "same\n"), std::string());
    std::string a, b;
    for (int i = 0; i < 10; ++i) {
        a += "a" + std::to_string(i) + "\n";
        b += "b" + std::to_string(i) + "\n";
    }
    // 3 header lines + 20 changed ones.
    QCOMPARE(
        briefUnifiedDiff(a, b, 5), std::string("--- before\n+++ after\n@@ -1,10 +1,10 @@\n-a0\n-a1\n… 18 more lines"));
    QCOMPARE(briefUnifiedDiff(a, b, 22), unifiedDiff(a, b).substr(0, unifiedDiff(a, b).size() - 4) + "… 1 more line");
    QCOMPARE(briefUnifiedDiff(a, b, 23), unifiedDiff(a, b));
}

QTEST_GUILESS_MAIN(TestRouteHistory)
#include "tst_routehistory.moc"

// Graph diff: every node and edge of two graphs is added, removed, changed or the
// same; a change counts from its threshold on (and not below it), the thresholds are
// settable, a traffic split's shares are compared, graphs of different meshes say so,
// and the JSON and DOT say what the diff says (the DOT rendered by Graphviz itself).

#include "common/testenv.h"
#include "graph/graphdiff.h"
#include "graph/graphexport.h"
#include "model/nodeid.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

using namespace meshscope;

namespace {

NodeSnapshot service(const std::string &name, const std::string &version = {}, double rps = 10)
{
    NodeSnapshot n;
    n.kind = NodeKind::Service;
    n.ns = "shop";
    n.name = name;
    n.version = version;
    n.id = nodeId(n.kind, n.ns, n.name, n.version);
    n.stats.rps = rps;
    n.stats.requests = uint64_t(rps * 60);
    return n;
}

NodeSnapshot outside()
{
    NodeSnapshot n;
    n.kind = NodeKind::External;
    n.id = n.name = "external";
    return n;
}

EdgeSnapshot edge(const NodeSnapshot &from, const NodeSnapshot &to, double rps, double errorRate = 0, double p95 = 40)
{
    EdgeSnapshot e;
    e.source = from.id;
    e.target = to.id;
    e.id = e.source + "->" + e.target;
    e.stats.rps = rps;
    e.stats.requests = uint64_t(rps * 60);
    e.stats.errorRate = errorRate;
    e.stats.p95Ms = p95;
    return e;
}

// external -> frontend -> checkout -> payments
GraphSnapshot shop()
{
    GraphSnapshot g;
    const NodeSnapshot ext = outside(), fe = service("frontend"), co = service("checkout"), pay = service("payments");
    g.nodes = {ext, fe, co, pay};
    g.edges = {edge(ext, fe, 20), edge(fe, co, 10, 0.01, 80), edge(co, pay, 10, 0.10, 120)};
    return g;
}

// shop() later: frontend calls recommendations too, and payments is gone (checkout no
// longer calls it).
GraphSnapshot shopLater()
{
    GraphSnapshot g = shop();
    const NodeSnapshot fe = service("frontend"), reco = service("recommendations", {}, 5);
    g.nodes.push_back(reco);
    g.edges.push_back(edge(fe, reco, 5));
    std::erase_if(g.nodes, [](const NodeSnapshot &n) { return n.id == "shop/payments"; });
    std::erase_if(g.edges, [](const EdgeSnapshot &e) { return e.target == "shop/payments"; });
    return g;
}

const EdgeDiff *edgeIn(const GraphDiff &d, const std::string &from, const std::string &to)
{
    for (const EdgeDiff &e : d.edges) {
        if (e.edge().source == from && e.edge().target == to)
            return &e;
    }
    return nullptr;
}

const NodeDiff *nodeIn(const GraphDiff &d, const std::string &id)
{
    for (const NodeDiff &n : d.nodes) {
        if (n.node().id == id)
            return &n;
    }
    return nullptr;
}

EdgeSnapshot &edgeOf(GraphSnapshot &g, const std::string &from, const std::string &to)
{
    for (EdgeSnapshot &e : g.edges) {
        if (e.source == from && e.target == to)
            return e;
    }
    qFatal("no edge %s -> %s", from.c_str(), to.c_str());
}

GraphSnapshotPtr graph(GraphSnapshot g) { return std::make_shared<const GraphSnapshot>(std::move(g)); }

const std::string kFrontend = "shop/frontend", kCheckout = "shop/checkout", kPayments = "shop/payments";

}  // namespace

class TestGraphDiff : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void identicalGraphsAreTheSame()
    {
        const GraphDiff d = diffGraphs(graph(shop()), graph(shop()));
        QCOMPARE(d.nodes.size(), size_t(4));
        QCOMPARE(d.edges.size(), size_t(3));
        QCOMPARE(d.count(DiffChange::Same), size_t(7));
        QCOMPARE(d.count(DiffChange::Changed), size_t(0));
        QVERIFY(d.notices.empty());
        for (const EdgeDiff &e : d.edges) {
            QVERIFY(e.before && e.after);
            QCOMPARE(e.score, 0.0);
        }
    }

    void addedAndRemovedAreNamed()
    {
        const GraphDiff d = diffGraphs(graph(shop()), graph(shopLater()));
        const NodeDiff *added = nodeIn(d, "shop/recommendations");
        QVERIFY(added);
        QCOMPARE(added->change, DiffChange::Added);
        QVERIFY(!added->before && added->after);
        QCOMPARE(added->score, 5.0);
        QCOMPARE(edgeIn(d, kFrontend, "shop/recommendations")->change, DiffChange::Added);
        const NodeDiff *removed = nodeIn(d, kPayments);
        QVERIFY(removed);
        QCOMPARE(removed->change, DiffChange::Removed);
        QVERIFY(removed->before && !removed->after);
        const EdgeDiff *gone = edgeIn(d, kCheckout, kPayments);
        QVERIFY(gone);
        QCOMPARE(gone->change, DiffChange::Removed);
        QCOMPARE(d.count(DiffChange::Added), size_t(2));
        QCOMPARE(d.count(DiffChange::Removed), size_t(2));
        QCOMPARE(d.count(DiffChange::Same), size_t(5));  // external, frontend, checkout and their two edges
    }

    void unionHoldsBothWithRemovedQuiet()
    {
        const GraphDiff d = diffGraphs(graph(shop()), graph(shopLater()));
        const GraphSnapshotPtr all = unionSnapshot(d);
        QCOMPARE(all->nodes.size(), size_t(5));
        QCOMPARE(all->edges.size(), size_t(4));
        // "after"'s numbers as they are; what is gone drawn with none.
        QCOMPARE(all->edge(kFrontend + "->shop/recommendations")->stats.rps, 5.0);
        QCOMPARE(all->edge(kFrontend + "->" + kCheckout)->stats.p95Ms, 80.0);
        const EdgeSnapshot *gone = all->edge(kCheckout + "->" + kPayments);
        QVERIFY(gone);
        QCOMPARE(gone->stats.requests, uint64_t(0));
        QCOMPARE(gone->stats.health, std::optional<Health>(Health::NoTraffic));
        QCOMPARE(all->node(kPayments)->stats.rps, 0.0);
        // The diff's own snapshots are untouched.
        QCOMPARE(d.after->nodes.size(), size_t(4));
    }

    // Each threshold: just below it is the same, at or past it a change, and only the
    // metric that moved is named.
    void thresholdsDecide_data()
    {
        QTest::addColumn<double>("errorRate");
        QTest::addColumn<double>("rps");
        QTest::addColumn<double>("p95");
        QTest::addColumn<int>("moved");
        // before: 10 rps, 10 % errors, p95 120 ms
        QTest::newRow("error +1.5 pts") << 0.115 << 10.0 << 120.0 << 0;
        QTest::newRow("error +2.5 pts") << 0.125 << 10.0 << 120.0 << int(kDiffErrorRate);
        QTest::newRow("error -2.5 pts") << 0.075 << 10.0 << 120.0 << int(kDiffErrorRate);
        QTest::newRow("rps +24 %") << 0.10 << 12.4 << 120.0 << 0;
        QTest::newRow("rps +26 %") << 0.10 << 12.6 << 120.0 << int(kDiffRps);
        QTest::newRow("rps -30 %") << 0.10 << 7.0 << 120.0 << int(kDiffRps);
        QTest::newRow("p95 +20 %") << 0.10 << 10.0 << 144.0 << 0;
        QTest::newRow("p95 +50 %") << 0.10 << 10.0 << 180.0 << int(kDiffP95);
        QTest::newRow("all three") << 0.30 << 20.0 << 400.0 << int(kDiffErrorRate | kDiffRps | kDiffP95);
    }
    void thresholdsDecide()
    {
        QFETCH(double, errorRate);
        QFETCH(double, rps);
        QFETCH(double, p95);
        QFETCH(int, moved);
        GraphSnapshot after = shop();
        EdgeSnapshot &e = edgeOf(after, kCheckout, kPayments);
        e.stats.errorRate = errorRate;
        e.stats.rps = rps;
        e.stats.p95Ms = p95;
        const GraphDiff d = diffGraphs(graph(shop()), graph(after));
        const EdgeDiff *diff = edgeIn(d, kCheckout, kPayments);
        QVERIFY(diff);
        QCOMPARE(int(diff->moved), moved);
        QCOMPARE(diff->change, moved ? DiffChange::Changed : DiffChange::Same);
        QCOMPARE(diff->score > 0, moved != 0);
        QCOMPARE(d.count(DiffChange::Changed), size_t(moved ? 1 : 0));
    }

    void thresholdsAreSettable()
    {
        GraphSnapshot after = shop();
        edgeOf(after, kCheckout, kPayments).stats.errorRate = 0.15;  // +5 pts
        DiffThresholds loose;
        loose.errorRatePoints = 0.10;
        QCOMPARE(
            edgeIn(diffGraphs(graph(shop()), graph(after), loose), kCheckout, kPayments)->change, DiffChange::Same);
        DiffThresholds tight;
        tight.errorRatePoints = 0.01;
        const GraphDiff d = diffGraphs(graph(shop()), graph(after), tight);
        QCOMPARE(edgeIn(d, kCheckout, kPayments)->change, DiffChange::Changed);
        QCOMPARE(edgeIn(d, kCheckout, kPayments)->score, 5.0);  // five thresholds' worth
    }

    void trafficFromNothingIsAChange()
    {
        GraphSnapshot before = shop();
        edgeOf(before, kFrontend, kCheckout).stats.rps = 0;
        const GraphDiff d = diffGraphs(graph(before), graph(shop()));
        QCOMPARE(edgeIn(d, kFrontend, kCheckout)->change, DiffChange::Changed);
        QVERIFY(edgeIn(d, kFrontend, kCheckout)->moved & kDiffRps);
    }

    // checkout -> payments v1 / v2 from 90/10 to 80/20: v1's rps moved 11 % (below the
    // threshold) but its share moved 10 points, so it changed too; v2 doubled.
    void splitSharesAreCompared()
    {
        auto split = [](double v1, double v2) {
            GraphSnapshot g;
            const NodeSnapshot co = service("checkout"), p1 = service("payments", "v1"), p2 = service("payments", "v2"),
                               inv = service("inventory");
            g.nodes = {co, p1, p2, inv};
            g.edges = {edge(co, p1, v1), edge(co, p2, v2), edge(co, inv, 10)};
            return g;
        };
        const GraphDiff d = diffGraphs(graph(split(9, 1)), graph(split(8, 2)));
        const EdgeDiff *v1 = edgeIn(d, kCheckout, "shop/payments@v1");
        const EdgeDiff *v2 = edgeIn(d, kCheckout, "shop/payments@v2");
        const EdgeDiff *inventory = edgeIn(d, kCheckout, "shop/inventory");
        QVERIFY(v1 && v2 && inventory);
        QCOMPARE(v1->change, DiffChange::Changed);
        QCOMPARE(int(v1->moved), int(kDiffShare));
        QVERIFY(qFuzzyCompare(*v1->shareBefore, 0.9));
        QVERIFY(qFuzzyCompare(*v1->shareAfter, 0.8));
        QCOMPARE(int(v2->moved), int(kDiffRps | kDiffShare));
        // inventory is no split: it has no share and stays the same.
        QVERIFY(!inventory->shareBefore && !inventory->shareAfter);
        QCOMPARE(inventory->change, DiffChange::Same);
        QCOMPARE(diffDeltaText(v1->before->stats, v1->after->stats, v1->moved, v1->shareBefore, v1->shareAfter),
            std::string("share 90% \u2192 80%"));
    }

    void deltaTextKeepsSmallLatencies()
    {
        TrafficStats before, after;
        before.p95Ms = 4.9;
        after.p95Ms = 3.5;
        QCOMPARE(diffDeltaText(before, after, kDiffP95), std::string("p95 -1.4 ms"));
        after.p95Ms = 140;
        before.rps = 10;
        after.rps = 2.5;
        before.errorRate = 0.01;
        after.errorRate = 0.2;
        QCOMPARE(diffDeltaText(before, after, kDiffP95 | kDiffRps | kDiffErrorRate),
            std::string("-7.5 rps, +19.0 pts err, p95 +135 ms"));
    }

    void differentMeshesSaySo()
    {
        GraphSnapshot other;
        const NodeSnapshot ext = outside(), api = service("api"), db = service("db");
        other.nodes = {ext, api, db};
        other.edges = {edge(ext, api, 3), edge(api, db, 3)};
        const GraphDiff d = diffGraphs(graph(shop()), graph(other));
        QCOMPARE(d.notices.size(), size_t(1));
        QVERIFY2(
            QString::fromStdString(d.notices[0]).contains(QLatin1String("no service in common")), d.notices[0].c_str());
        QCOMPARE(d.count(DiffChange::Added), size_t(4));  // api, db and both edges
        QCOMPARE(d.count(DiffChange::Removed), size_t(6));  // frontend, checkout, payments, three edges
        QCOMPARE(nodeIn(d, "external")->change, DiffChange::Same);

        QCOMPARE(diffGraphs(nullptr, graph(shop())).notices.size(), size_t(1));
        QCOMPARE(diffGraphs(nullptr, graph(shop())).count(DiffChange::Added), size_t(7));
        QVERIFY(diffGraphs(nullptr, nullptr).notices.empty());
    }

    void jsonHoldsTheContract()
    {
        GraphSnapshot after = shop();
        after.timeMs = 1'700'000'060'000;
        after.windowSeconds = 60;
        edgeOf(after, kCheckout, kPayments).stats.errorRate = 0.40;
        const NodeSnapshot fe = service("frontend"), reco = service("recommendations", {}, 5);
        after.nodes.push_back(reco);
        after.edges.push_back(edge(fe, reco, 5));
        const QJsonObject root
            = QJsonDocument::fromJson(graphDiffToJson(diffGraphs(graph(shop()), graph(after)))).object();

        QCOMPARE(root.value(QLatin1String("counts")).toObject().value(QLatin1String("added")).toInt(), 2);
        QCOMPARE(root.value(QLatin1String("counts")).toObject().value(QLatin1String("changed")).toInt(), 1);
        QCOMPARE(root.value(QLatin1String("ranges"))
                     .toObject()
                     .value(QLatin1String("after"))
                     .toObject()
                     .value(QLatin1String("from_ms")),
            QJsonValue(1'700'000'000'000.0));
        const QJsonArray nodes = root.value(QLatin1String("nodes")).toArray();
        QCOMPARE(nodes.size(), 5);
        bool sawAdded = false;
        for (const QJsonValue &v : nodes) {
            const QJsonObject n = v.toObject();
            for (const char *key : {"id", "name", "change", "before", "after"})
                QVERIFY2(n.contains(QLatin1String(key)), key);
            if (n.value(QLatin1String("id")).toString() == QLatin1String("shop/recommendations")) {
                sawAdded = true;
                QCOMPARE(n.value(QLatin1String("change")).toString(), QStringLiteral("added"));
                QVERIFY(n.value(QLatin1String("before")).isNull());
                QCOMPARE(n.value(QLatin1String("after")).toObject().value(QLatin1String("rps")).toDouble(), 5.0);
            }
        }
        QVERIFY(sawAdded);
        bool sawChanged = false;
        for (const QJsonValue &v : root.value(QLatin1String("edges")).toArray()) {
            const QJsonObject e = v.toObject();
            for (const char *key : {"source", "target", "change", "before", "after"})
                QVERIFY2(e.contains(QLatin1String(key)), key);
            if (e.value(QLatin1String("change")).toString() != QLatin1String("changed"))
                continue;
            sawChanged = true;
            QCOMPARE(e.value(QLatin1String("source")).toString(), QString::fromStdString(kCheckout));
            QCOMPARE(e.value(QLatin1String("target")).toString(), QString::fromStdString(kPayments));
            QCOMPARE(e.value(QLatin1String("before")).toObject().value(QLatin1String("error_rate")).toDouble(), 0.10);
            QCOMPARE(e.value(QLatin1String("after")).toObject().value(QLatin1String("error_rate")).toDouble(), 0.40);
            QCOMPARE(e.value(QLatin1String("delta")).toObject().value(QLatin1String("error_rate")).toDouble(), 0.30);
            QCOMPARE(e.value(QLatin1String("moved")).toArray(), QJsonArray {QStringLiteral("error_rate")});
        }
        QVERIFY(sawChanged);
    }

    void dotRendersTheChanges()
    {
        const QString dot = test::findTool("dot");
        MESHSCOPE_REQUIRE_PEER(!dot.isEmpty(), "graphviz (dot)");
        GraphSnapshot after = shop();
        edgeOf(after, kCheckout, kPayments).stats.errorRate = 0.40;
        std::erase_if(after.edges, [](const EdgeSnapshot &e) { return e.source == "external"; });
        const QByteArray source = graphDiffToDot(diffGraphs(graph(shop()), graph(after)));
        QVERIFY(source.contains("change=\"removed\", color=\"#9a9a9a\", fontcolor=\"#9a9a9a\", style=dashed"));

        QProcess p;
        p.start(dot, {QStringLiteral("-Tsvg")});
        QVERIFY(p.waitForStarted());
        p.write(source);
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(30000));
        const QByteArray warnings = p.readAllStandardError();
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, warnings.constData());
        QVERIFY2(warnings.isEmpty(), warnings.constData());
        const QByteArray svg = p.readAllStandardOutput();
        QVERIFY2(svg.contains("+30.0 pts err"), svg.constData());
        QVERIFY(svg.contains("stroke-dasharray"));  // the removed edge, dashed
    }
};

QTEST_GUILESS_MAIN(TestGraphDiff)
#include "tst_graphdiff.moc"

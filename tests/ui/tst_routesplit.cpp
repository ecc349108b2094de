// Configured against observed route shares (routesplit.h): the shares a rule gives each
// backend beside the share of requests its workloads served, flagged when they are more
// than 10 points apart on enough requests, and shown under the Inspect panel's headline
// for the service a split carries, with a warning while no xDS client is connected.

#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "routing/routesplit.h"
#include "routing/yaml/routeyaml.h"

#include <QLabel>
#include <QTest>

#include <cmath>
#include <map>
#include <memory>

using namespace meshscope;

namespace {

const char *const kRoutes = R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec:
  hostnames: [reviews]
  rules:
  - name: jason
    matches:
    - headers:
      - {name: end-user, value: jason}
    backendRefs:
    - {name: reviews-v2, port: 8080}
  - name: canary
    backendRefs:
    - {name: reviews-v1, port: 8080, weight: 49}
    - {name: reviews-v2, port: 8080, weight: 51}
)";

routing::RouteSet routes()
{
    const routing::RouteLoadResult r = routing::loadRouteYaml(kRoutes, "routes.yaml");
    if (!r.ok())
        qFatal("routes do not load");
    return r.set;
}

NodeSnapshot node(const std::string &name, const std::string &version, double rps, uint64_t requests)
{
    NodeSnapshot n;
    n.ns = "shop";
    n.name = name;
    n.version = version;
    n.id = nodeId(NodeKind::Service, n.ns, n.name, n.version);
    n.stats.rps = rps;
    n.stats.requests = requests;
    return n;
}

std::shared_ptr<GraphSnapshot> snapshot(double v1Rps, double v2Rps, uint64_t v1Requests, uint64_t v2Requests)
{
    auto s = std::make_shared<GraphSnapshot>();
    s->timeMs = GraphAggregator::wallNowMs();
    s->nodes = {node("frontend", "v1", 12, 720), node("reviews", "v1", v1Rps, v1Requests),
        node("reviews", "v2", v2Rps, v2Requests)};
    return s;
}

}  // namespace

class TestRouteSplit : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void observedFarFromConfiguredIsFlagged()
    {
        const auto snap = snapshot(10.5, 1.4, 630, 84);
        const std::vector<RouteSplit> splits = routeSplitsFor(routes(), *snap, "shop/reviews@v1");
        // Only the canary rule splits; the jason rule sends everything to v2.
        QCOMPARE(splits.size(), size_t(1));
        const RouteSplit &s = splits[0];
        QCOMPARE(QString::fromStdString(s.route), QStringLiteral("shop/reviews"));
        QCOMPARE(QString::fromStdString(s.rule), QStringLiteral("canary"));
        QCOMPARE(s.shares.size(), size_t(2));
        QCOMPARE(QString::fromStdString(s.shares[0].backend), QStringLiteral("reviews-v1"));
        QVERIFY(qFuzzyCompare(s.shares[0].configured, 0.49));
        QVERIFY(qFuzzyCompare(s.shares[1].configured, 0.51));
        QVERIFY(s.shares[0].observed && std::abs(*s.shares[0].observed - 10.5 / 11.9) < 1e-9);
        QCOMPARE(s.shares[1].observedRequests, uint64_t(84));
        QVERIFY(s.differs);

        const QString text = routeSplitText(splits, true);
        QVERIFY2(text.startsWith(QStringLiteral("Route split · shop/reviews, rule 'canary'")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("reviews-v1   %1 · %2 (10.5 req/s)")
                                   .arg(display::percent(0.49), display::percent(10.5 / 11.9))),
            qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("does not follow")));
        QVERIFY(!text.contains(QStringLiteral("No xDS client")));
        QVERIFY(routeSplitText(splits, false).contains(QStringLiteral("No xDS client is connected")));
        // The same split is found from the other version and from the versionless service.
        QCOMPARE(routeSplitsFor(routes(), *snap, "shop/reviews@v2").size(), size_t(1));
        QCOMPARE(routeSplitsFor(routes(), *snap, "shop/reviews").size(), size_t(1));
    }

    void followingSplitAndSmallSamplesAreNotFlagged()
    {
        auto snap = snapshot(5.0, 5.3, 300, 318);
        std::vector<RouteSplit> splits = routeSplitsFor(routes(), *snap, "shop/reviews@v1");
        QCOMPARE(splits.size(), size_t(1));
        QVERIFY(!splits[0].differs);
        QVERIFY(!routeSplitText(splits, true).contains(QStringLiteral("does not follow")));
        // 12 requests are too few to say traffic ignores the split.
        snap = snapshot(1.0, 0.1, 11, 1);
        splits = routeSplitsFor(routes(), *snap, "shop/reviews@v1");
        QVERIFY(splits[0].shares[0].observed.has_value());
        QVERIFY(!splits[0].differs);
        // Nothing served yet: no observed share at all.
        snap = snapshot(0, 0, 0, 0);
        splits = routeSplitsFor(routes(), *snap, "shop/reviews@v1");
        QVERIFY(!splits[0].shares[0].observed.has_value());
        QVERIFY(routeSplitText(splits, true).contains(QStringLiteral("no requests")));
    }

    void servicesWithoutSplitHaveNone()
    {
        const auto snap = snapshot(10.5, 1.4, 630, 84);
        QVERIFY(routeSplitsFor(routes(), *snap, "shop/frontend@v1").empty());
        QVERIFY(routeSplitsFor(routes(), *snap, "external").empty());
        QVERIFY(routeSplitText({}, false).isEmpty());
    }

    void edgesIntoASplitCarryTheirCallersShares()
    {
        // Two callers of reviews: frontend sends 30 rps to v1 and 10 to v2 (75/25 against
        // the canary's 49/51), mobile 5 and 5 (50/50, following it); the jason rule's
        // header match does not count, as it routes only some requests.
        auto snap = snapshot(35, 15, 2100, 900);
        NodeSnapshot mobile = node("mobile", "v1", 10, 600);
        snap->nodes.push_back(mobile);
        auto edge = [](const std::string &from, const std::string &to, double rps, uint64_t requests) {
            EdgeSnapshot e;
            e.source = from;
            e.target = to;
            e.id = edgeId(from, to);
            e.stats.rps = rps;
            e.stats.requests = requests;
            return e;
        };
        snap->edges = {edge("shop/frontend@v1", "shop/reviews@v1", 30, 1800),
            edge("shop/frontend@v1", "shop/reviews@v2", 10, 600), edge("shop/mobile@v1", "shop/reviews@v1", 5, 300),
            edge("shop/mobile@v1", "shop/reviews@v2", 5, 300), edge("shop/frontend@v1", "shop/mobile@v1", 10, 600)};
        std::sort(snap->nodes.begin(), snap->nodes.end(), [](auto &a, auto &b) { return a.id < b.id; });
        std::sort(snap->edges.begin(), snap->edges.end(), [](auto &a, auto &b) { return a.id < b.id; });

        const std::vector<EdgeSplitShare> shares = edgeSplitShares(routes(), *snap);
        QCOMPARE(shares.size(), size_t(4));  // not frontend -> mobile: mobile is no backend
        std::map<std::string, EdgeSplitShare> byEdge;
        for (const EdgeSplitShare &share : shares)
            byEdge[share.edge] = share;
        const EdgeSplitShare &f1 = byEdge.at("shop/frontend@v1->shop/reviews@v1");
        QCOMPARE(QString::fromStdString(f1.backend), QStringLiteral("reviews-v1"));
        QCOMPARE(f1.configured, 0.49);
        QVERIFY(f1.observed && std::abs(*f1.observed - 0.75) < 1e-9);
        QCOMPARE(f1.callerRequests, uint64_t(2400));
        QVERIFY(f1.differs);
        QVERIFY(byEdge.at("shop/frontend@v1->shop/reviews@v2").differs);
        const EdgeSplitShare &m2 = byEdge.at("shop/mobile@v1->shop/reviews@v2");
        QCOMPARE(m2.configured, 0.51);
        QVERIFY(m2.observed && std::abs(*m2.observed - 0.5) < 1e-9);
        QVERIFY(!m2.differs);  // one point off

        QCOMPARE(
            edgeSplitText(f1, true), display::percent(0.75) + QStringLiteral(" \u00b7 cfg ") + display::percent(0.49));
        QCOMPARE(edgeSplitText(f1, false),
            QStringLiteral("cfg ") + display::percent(0.49) + QStringLiteral(" \u00b7 no xDS client"));
        EdgeSplitShare idle = m2;
        idle.observed.reset();
        QCOMPARE(edgeSplitText(idle, true),
            QStringLiteral("cfg ") + display::percent(0.51) + QStringLiteral(" \u00b7 no requests"));

        QCOMPARE(edgeSplitShortText(f1, true), display::percent(0.75));
        QCOMPARE(edgeSplitShortText(f1, false), QStringLiteral("cfg ") + display::percent(0.49));
        QCOMPARE(edgeSplitShortText(idle, true), QStringLiteral("cfg ") + display::percent(0.51));

        // Too few of the caller's requests to call it off.
        for (EdgeSnapshot &e : snap->edges)
            e.stats.requests = e.stats.requests / 200;
        for (const EdgeSplitShare &share : edgeSplitShares(routes(), *snap))
            QVERIFY(!share.differs);
    }

    void inspectShowsTheSplitOfTheInspectedService()
    {
        GraphAggregator agg;
        InspectPanel panel(&agg);
        panel.setRouteSplitProvider([](const std::string &id, const GraphSnapshot &s) {
            return routeSplitText(routeSplitsFor(routes(), s, id), false);
        });
        panel.resize(480, 900);
        panel.show();
        panel.setSnapshot(snapshot(10.5, 1.4, 630, 84));
        panel.showNode(QStringLiteral("shop/reviews@v2"));
        QLabel *note = panel.routeSplitLabel();
        QTRY_VERIFY(note->isVisible());
        QVERIFY2(note->text().contains(QStringLiteral("rule 'canary'")), qPrintable(note->text()));
        QVERIFY(note->text().contains(QStringLiteral("No xDS client is connected")));
        // A service no split carries shows nothing.
        panel.showNode(QStringLiteral("shop/frontend@v1"));
        QTRY_VERIFY(!note->isVisible());
    }
};

QTEST_MAIN(TestRouteSplit)
#include "tst_routesplit.moc"

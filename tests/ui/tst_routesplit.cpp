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

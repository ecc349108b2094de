// Layered, stable layout: north-south order of layers, barycentre ordering on the
// first layout, inserts that move nobody, freed and remembered slots, pins.

#include "canvas/graphlayout.h"
#include "common/graphsamplemesh.h"

#include <QtTest>

#include <cmath>

using namespace meshscope;

namespace {

GraphSnapshotPtr without(const GraphSnapshot &base, const std::string &id)
{
    GraphSnapshot s = base;
    s.nodes.erase(std::remove_if(s.nodes.begin(), s.nodes.end(), [&](const NodeSnapshot &n) { return n.id == id; }),
        s.nodes.end());
    s.edges.erase(std::remove_if(s.edges.begin(), s.edges.end(),
                      [&](const EdgeSnapshot &e) { return e.source == id || e.target == id; }),
        s.edges.end());
    return samplemesh::finish(std::move(s));
}

// Smallest distance between two nodes of a layout (overlap check).
double minDistance(const GraphLayout &layout, const GraphSnapshot &s)
{
    double best = 1e18;
    for (size_t i = 0; i < s.nodes.size(); ++i) {
        const QPointF a = layout.position(s.nodes[i].id);
        for (size_t j = i + 1; j < s.nodes.size(); ++j) {
            const QPointF d = a - layout.position(s.nodes[j].id);
            best = std::min(best, std::hypot(d.x(), d.y()));
        }
    }
    return best;
}

}  // namespace

class TestGraphLayout : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void layersRunNorthToSouth()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        QVERIFY(layout.update(*mesh));
        auto y = [&](const char *id) { return layout.position(id).y(); };
        QVERIFY(y("external") < y("istio-system/istio-ingressgateway"));
        QVERIFY(y("istio-system/istio-ingressgateway") < y("shop/frontend@v1"));
        QVERIFY(y("shop/frontend@v1") < y("shop/checkout@v1") + 1);
        QVERIFY(y("shop/frontend@v1") < y("shop/catalog@v2"));  // depth 1
        QVERIFY(y("shop/catalog@v2") < y("data/postgres"));  // depth 2
        QVERIFY(y("shop/payment@v1") < y("istio-system/istio-egressgateway"));
        QVERIFY(y("istio-system/istio-egressgateway") < y("ext:api.stripe.com"));
        // Every service sits above every external service.
        double deepestService = -1e9, highestOutside = 1e9;
        for (const NodeSnapshot &n : mesh->nodes) {
            if (n.kind == NodeKind::Service)
                deepestService = std::max(deepestService, layout.position(n.id).y());
            if (n.kind == NodeKind::ExternalService)
                highestOutside = std::min(highestOutside, layout.position(n.id).y());
        }
        QVERIFY(deepestService < highestOutside);
        QCOMPARE(layout.size(), mesh->nodes.size());
        QVERIFY(minDistance(layout, *mesh) >= GraphLayout::Params().slotWidth * 0.5);
    }

    void gatewaysAreClassified()
    {
        GraphSnapshot s;
        const NodeSnapshot client = samplemesh::node({}, "external", {}, NodeKind::External, 1);
        const NodeSnapshot edge = samplemesh::node("gw", "edge-proxy", {}, NodeKind::Gateway, 1);
        const NodeSnapshot svc = samplemesh::node("app", "api", "v1", NodeKind::Service, 1);
        const NodeSnapshot out = samplemesh::node("gw", "outbound-proxy", {}, NodeKind::Gateway, 1);
        const NodeSnapshot named = samplemesh::node("gw", "my-egress", {}, NodeKind::Gateway, 1);
        s.nodes = {client, edge, svc, out, named};
        s.edges = {samplemesh::edge(client, edge, 1), samplemesh::edge(edge, svc, 1), samplemesh::edge(svc, out, 1)};
        const GraphSnapshotPtr snap = samplemesh::finish(std::move(s));
        const std::vector<int> ranks = GraphLayout::computeRanks(*snap);
        auto rankOf = [&](const std::string &id) {
            for (size_t i = 0; i < snap->nodes.size(); ++i) {
                if (snap->nodes[i].id == id)
                    return ranks[i];
            }
            return -1;
        };
        QCOMPARE(rankOf("external"), GraphLayout::kExternalRank);
        QCOMPARE(rankOf("gw/edge-proxy"), GraphLayout::kIngressRank);  // called from outside
        QCOMPARE(rankOf("gw/outbound-proxy"), GraphLayout::kEgressRank);  // called only by services
        QCOMPARE(rankOf("gw/my-egress"), GraphLayout::kEgressRank);  // by name
        QCOMPARE(rankOf("app/api@v1"), GraphLayout::kServiceRank);
    }

    void barycentreOrdersChildrenUnderParents()
    {
        // Alphabetical order would cross: p1 (left) calls zz, p2 (right) calls aa.
        GraphSnapshot s;
        const NodeSnapshot client = samplemesh::node({}, "external", {}, NodeKind::External, 1);
        const NodeSnapshot gw = samplemesh::node("gw", "ingress", {}, NodeKind::Gateway, 1);
        const NodeSnapshot p1 = samplemesh::node("app", "p1", {}, NodeKind::Service, 1);
        const NodeSnapshot p2 = samplemesh::node("app", "p2", {}, NodeKind::Service, 1);
        const NodeSnapshot aa = samplemesh::node("app", "aa-child", {}, NodeKind::Service, 1);
        const NodeSnapshot zz = samplemesh::node("app", "zz-child", {}, NodeKind::Service, 1);
        s.nodes = {client, gw, p1, p2, aa, zz};
        s.edges = {samplemesh::edge(client, gw, 1), samplemesh::edge(gw, p1, 1), samplemesh::edge(gw, p2, 1),
            samplemesh::edge(p1, zz, 1), samplemesh::edge(p2, aa, 1)};
        const GraphSnapshotPtr snap = samplemesh::finish(std::move(s));
        GraphLayout layout;
        layout.update(*snap);
        const double xp1 = layout.position(p1.id).x(), xp2 = layout.position(p2.id).x();
        const double xa = layout.position(aa.id).x(), xz = layout.position(zz.id).x();
        QVERIFY(layout.position(p1.id).y() == layout.position(p2.id).y());
        QVERIFY(layout.position(aa.id).y() > layout.position(p1.id).y());
        // Children sit in their parents' order, so the two edges do not cross.
        QCOMPARE(xp1 < xp2, xz < xa);
    }

    void addedNodeMovesNobody()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*mesh);
        std::map<std::string, QPointF> before;
        for (const NodeSnapshot &n : mesh->nodes)
            before[n.id] = layout.position(n.id);

        const GraphSnapshotPtr grown = samplemesh::withService(*mesh, "shop", "fraud-check", "shop/checkout@v1");
        QVERIFY(layout.update(*grown));
        for (const auto &[id, pos] : before)
            QCOMPARE(layout.position(id), pos);
        const QPointF added = layout.position("shop/fraud-check@v1");
        QVERIFY(layout.contains("shop/fraud-check@v1"));
        // One layer below its caller, and on a free slot.
        QVERIFY(added.y() > before["shop/checkout@v1"].y());
        QVERIFY(minDistance(layout, *grown) >= GraphLayout::Params().slotWidth * 0.5);

        // A snapshot with nothing new changes nothing.
        const uint64_t version = layout.version();
        QVERIFY(!layout.update(*grown));
        QCOMPARE(layout.version(), version);
    }

    void removedNodeFreesItsSlotAndGetsItBack()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*mesh);
        const std::string id = "shop/ads@v1";
        const QPointF was = layout.position(id);
        const GraphSnapshotPtr smaller = without(*mesh, id);
        QVERIFY(layout.update(*smaller));
        QVERIFY(!layout.contains(id));
        QCOMPARE(layout.size(), smaller->nodes.size());
        QVERIFY(layout.update(*mesh));
        QCOMPARE(layout.position(id), was);
    }

    void pinnedPositionWinsAndUnpinReturnsToARow()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*mesh);
        const std::string id = "shop/cart@v1";
        layout.pin(id, QPointF(-500, 777));
        QCOMPARE(layout.position(id), QPointF(-500, 777));
        layout.update(*samplemesh::withService(*mesh, "shop", "wishlist", "shop/frontend@v1"));
        QCOMPARE(layout.position(id), QPointF(-500, 777));
        QCOMPARE(layout.pinned().size(), size_t(1));

        layout.setPinned({});
        const QPointF back = layout.position(id);
        QVERIFY(back != QPointF(-500, 777));
        // Back among the layered rows (not at the pinned height).
        bool onARow = false;
        for (const NodeSnapshot &n : mesh->nodes) {
            if (n.id != id && layout.position(n.id).y() == back.y())
                onARow = true;
        }
        QVERIFY(onARow);
    }

    void pinsGivenBeforeTheFirstSnapshotAreKept()
    {
        GraphLayout layout;
        layout.setPinned({{"shop/frontend@v1", QPointF(12, 34)}});
        layout.update(*samplemesh::realistic());
        QCOMPARE(layout.position("shop/frontend@v1"), QPointF(12, 34));
    }

    void largeMeshKeepsAScreenLikeShape()
    {
        const GraphSnapshotPtr mesh = samplemesh::synthetic(3000, 12000, 7);
        GraphLayout layout;
        layout.update(*mesh);
        QCOMPARE(layout.size(), mesh->nodes.size());
        double x0 = 1e18, x1 = -1e18, y0 = 1e18, y1 = -1e18;
        for (const NodeSnapshot &n : mesh->nodes) {
            const QPointF p = layout.position(n.id);
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
        const double aspect = (x1 - x0) / std::max(1.0, y1 - y0);
        QVERIFY2(aspect > 0.8 && aspect < 6, qPrintable(QString::number(aspect)));
    }

    void unsortedSnapshotsAreDiffedToo()
    {
        // The aggregator sorts by id; any other producer may not. Same stability either way.
        auto reversed = [](const GraphSnapshot &base) {
            GraphSnapshot s = base;
            std::reverse(s.nodes.begin(), s.nodes.end());
            std::reverse(s.edges.begin(), s.edges.end());
            return std::make_shared<const GraphSnapshot>(std::move(s));
        };
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*reversed(*mesh));
        std::map<std::string, QPointF> before;
        for (const NodeSnapshot &n : mesh->nodes)
            before[n.id] = layout.position(n.id);
        const GraphSnapshotPtr grown
            = samplemesh::withService(*without(*mesh, "shop/ads@v1"), "shop", "fraud-check", "shop/checkout@v1");
        QVERIFY(layout.update(*reversed(*grown)));
        QVERIFY(!layout.contains("shop/ads@v1"));
        QVERIFY(layout.contains("shop/fraud-check@v1"));
        QVERIFY(layout.position("shop/fraud-check@v1").y() > before["shop/checkout@v1"].y());
        for (const auto &[id, pos] : before) {
            if (id != "shop/ads@v1")
                QCOMPARE(layout.position(id), pos);
        }
    }

    void relayoutForgetsUnpinnedPositions()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*mesh);
        layout.pin("shop/cart@v1", QPointF(1, 2));
        layout.relayout(*mesh);
        QCOMPARE(layout.position("shop/cart@v1"), QPointF(1, 2));
        QCOMPARE(layout.size(), mesh->nodes.size());
        QVERIFY(layout.position("external").y() < layout.position("shop/frontend@v1").y());
    }
};

QTEST_MAIN(TestGraphLayout)
#include "tst_graphlayout.moc"

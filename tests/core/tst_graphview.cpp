// Graph types and folded namespaces (graph/graphview.h): versions merged into their
// service, a namespace folded into one node, and the view still a graph the canvas and
// the exports can read (unique ids, sorted, every edge between two of its nodes).

#include "common/graphsamplemesh.h"
#include "graph/graphview.h"
#include "model/nodeid.h"

#include <QtTest>

#include <set>

using namespace meshscope;
using samplemesh::edge;
using samplemesh::node;

namespace {

GraphViewOptions services()
{
    GraphViewOptions o;
    o.type = GraphType::Services;
    return o;
}

GraphViewOptions collapsed(std::set<std::string> namespaces, GraphType type = GraphType::Workloads)
{
    GraphViewOptions o;
    o.type = type;
    o.collapsedNamespaces = std::move(namespaces);
    return o;
}

// What samplemesh::finish checks of its input, asked of a view.
void verifyIsGraph(const GraphSnapshot &s)
{
    for (size_t i = 1; i < s.nodes.size(); ++i)
        QVERIFY2(s.nodes[i - 1].id < s.nodes[i].id, s.nodes[i].id.c_str());
    for (size_t i = 1; i < s.edges.size(); ++i)
        QVERIFY2(s.edges[i - 1].id < s.edges[i].id, s.edges[i].id.c_str());
    for (const EdgeSnapshot &e : s.edges) {
        QVERIFY2(s.node(e.source) && s.node(e.target), e.id.c_str());
        QCOMPARE(e.id, edgeId(e.source, e.target));
    }
}

double rpsInto(const GraphSnapshot &s, const std::string &target, const std::string &skipSourceNs = {})
{
    double rps = 0;
    for (const EdgeSnapshot &e : s.edges) {
        const NodeSnapshot *from = s.node(e.source);
        if (e.target == target && (skipSourceNs.empty() || from->ns != skipSourceNs))
            rps += e.stats.rps;
    }
    return rps;
}

}  // namespace

class TestGraphView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaultOptionsReturnTheSameSnapshot()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        QCOMPARE(viewOfGraph(mesh, GraphViewOptions {}).get(), mesh.get());
        QCOMPARE(viewOfGraph(nullptr, services()), GraphSnapshotPtr());
        // Nothing to merge and no namespace of that name: no copy either.
        GraphSnapshot flat;
        flat.nodes.push_back(node("shop", "cart", {}, NodeKind::Service, 5));
        const GraphSnapshotPtr unversioned = samplemesh::finish(std::move(flat));
        QCOMPARE(viewOfGraph(unversioned, services()).get(), unversioned.get());
        QCOMPARE(viewOfGraph(unversioned, collapsed({"nowhere"})).get(), unversioned.get());
    }

    void emptySnapshot()
    {
        const auto empty = std::make_shared<const GraphSnapshot>();
        const GraphSnapshotPtr view = viewOfGraph(empty, collapsed({"shop"}, GraphType::Services));
        QVERIFY(view);
        QVERIFY(view->nodes.empty());
        QVERIFY(view->edges.empty());
    }

    void versionsMergeIntoTheirService()
    {
        GraphSnapshot s;
        s.timeMs = 1234;
        s.generation = 7;
        const NodeSnapshot caller = node("bookinfo", "productpage", "v1", NodeKind::Service, 120);
        NodeSnapshot v1 = node("bookinfo", "reviews", "v1", NodeKind::Service, 30, 0.0, 20);
        NodeSnapshot v2 = node("bookinfo", "reviews", "v2", NodeKind::Service, 10, 0.4, 90);
        v1.stats.health = Health::Healthy;
        s.nodes = {caller, v1, v2};
        s.edges = {edge(caller, v1, 30, 0.0, 20), edge(caller, v2, 10, 0.4, 90)};
        const GraphSnapshotPtr mesh = samplemesh::finish(std::move(s));

        const GraphSnapshotPtr view = viewOfGraph(mesh, services());
        verifyIsGraph(*view);
        QCOMPARE(view->timeMs, 1234);
        QCOMPARE(view->generation, uint64_t(7));
        QCOMPARE(view->nodes.size(), size_t(2));
        const NodeSnapshot *reviews = view->node("bookinfo/reviews");
        QVERIFY(reviews);
        QVERIFY(!view->node("bookinfo/reviews@v1"));
        QCOMPARE(reviews->name, std::string("reviews"));
        QCOMPARE(reviews->ns, std::string("bookinfo"));
        QVERIFY(reviews->version.empty());
        QCOMPARE(reviews->kind, NodeKind::Service);
        // Rates and counts add; the error rate is weighed by rate: (30*0 + 10*0.4) / 40.
        QCOMPARE(reviews->stats.rps, 40.0);
        QCOMPARE(reviews->stats.requests, v1.stats.requests + v2.stats.requests);
        QCOMPARE(reviews->stats.errorRate, 0.1);
        QCOMPARE(reviews->stats.p95Ms, 90.0);
        QVERIFY(!reviews->stats.health);  // a sum: HealthPolicy judges the numbers

        // The caller's two edges, to v1 and to v2, are one edge to the service.
        QCOMPARE(view->edges.size(), size_t(1));
        const EdgeSnapshot *e = view->edge("bookinfo/productpage->bookinfo/reviews");
        QVERIFY(e);
        QCOMPARE(e->stats.rps, 40.0);
        QCOMPARE(e->stats.requests, uint64_t(2400));
        QCOMPARE(e->stats.errorRate, 0.1);
        QCOMPARE(e->origins, std::vector<std::string> {"otlp"});
        // A node alone in its group keeps what the aggregator said of it, version gone.
        const NodeSnapshot *page = view->node("bookinfo/productpage");
        QVERIFY(page);
        QVERIFY(page->version.empty());
        QCOMPARE(page->stats.rps, 120.0);
    }

    void gatewayVersionsStayAGateway()
    {
        GraphSnapshot s;
        const NodeSnapshot client = node({}, "external", {}, NodeKind::External, 10);
        const NodeSnapshot a = node("istio-system", "ingress", "1.20", NodeKind::Gateway, 6);
        const NodeSnapshot b = node("istio-system", "ingress", "1.21", NodeKind::Gateway, 4);
        s.nodes = {client, a, b};
        s.edges = {edge(client, a, 6), edge(client, b, 4)};
        const GraphSnapshotPtr view = viewOfGraph(samplemesh::finish(std::move(s)), services());
        verifyIsGraph(*view);
        QCOMPARE(view->nodes.size(), size_t(2));
        QCOMPARE(view->node("istio-system/ingress")->kind, NodeKind::Gateway);
        QCOMPARE(view->node("external")->kind, NodeKind::External);
        QCOMPARE(view->edge("external->istio-system/ingress")->direction, Direction::NorthSouth);
    }

    void mtlsOfMergedEdges_data()
    {
        QTest::addColumn<int>("first");
        QTest::addColumn<int>("second");
        QTest::addColumn<int>("merged");
        QTest::newRow("both yes") << 1 << 1 << 1;
        QTest::newRow("yes and unknown") << 1 << -1 << -1;
        QTest::newRow("yes and no") << 1 << 0 << 0;
        QTest::newRow("no and unknown") << 0 << -1 << 0;
        QTest::newRow("both unknown") << -1 << -1 << -1;
    }

    void mtlsOfMergedEdges()
    {
        QFETCH(int, first);
        QFETCH(int, second);
        QFETCH(int, merged);
        GraphSnapshot s;
        const NodeSnapshot caller = node("shop", "frontend", "v1", NodeKind::Service, 10);
        const NodeSnapshot v1 = node("shop", "cart", "v1", NodeKind::Service, 5);
        const NodeSnapshot v2 = node("shop", "cart", "v2", NodeKind::Service, 5);
        EdgeSnapshot a = edge(caller, v1, 5), b = edge(caller, v2, 5);
        a.mtls = int8_t(first);
        b.mtls = int8_t(second);
        a.origins = {"otlp"};
        b.origins = {"als", "otlp"};
        b.protocol = Protocol::Grpc;
        b.stats.requests += 1;  // the busier part names the protocol
        s.nodes = {caller, v1, v2};
        s.edges = {a, b};
        const GraphSnapshotPtr view = viewOfGraph(samplemesh::finish(std::move(s)), services());
        const EdgeSnapshot *e = view->edge("shop/frontend->shop/cart");
        QVERIFY(e);
        QCOMPARE(int(e->mtls), merged);
        QCOMPARE(e->origins, (std::vector<std::string> {"als", "otlp"}));
        QCOMPARE(e->protocol, Protocol::Grpc);
    }

    void collapsedNamespaceKeepsTheTrafficEnteringIt()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        size_t shopNodes = 0;
        double entering = 0, leaving = 0;
        size_t crossing = 0;
        for (const NodeSnapshot &n : mesh->nodes)
            shopNodes += n.ns == "shop";
        for (const EdgeSnapshot &e : mesh->edges) {
            const bool from = mesh->node(e.source)->ns == "shop", to = mesh->node(e.target)->ns == "shop";
            entering += !from && to ? e.stats.rps : 0;
            leaving += from && !to ? e.stats.rps : 0;
            crossing += from != to;
        }
        QVERIFY(shopNodes > 3);
        QVERIFY(entering > 0);

        const GraphSnapshotPtr view = viewOfGraph(mesh, collapsed({"shop"}));
        verifyIsGraph(*view);
        const NodeSnapshot *shop = view->node("shop/*");
        QVERIFY(shop);
        QCOMPARE(namespaceOfNamespaceNodeId(shop->id), std::string_view("shop"));
        QCOMPARE(shop->kind, NodeKind::Other);
        QCOMPARE(shop->name, std::string("shop"));
        QCOMPARE(shop->ns, std::string("shop"));
        QCOMPARE(shop->foldedCount, uint64_t(shopNodes));
        QCOMPARE(view->nodes.size(), mesh->nodes.size() - shopNodes + 1);
        for (const NodeSnapshot &n : view->nodes)
            QVERIFY2(n.ns != "shop" || n.id == "shop/*", n.id.c_str());
        // No edge inside it; what enters and leaves it is all still there, merged per peer.
        QVERIFY(!view->edge("shop/*->shop/*"));
        size_t touching = 0;
        double out = 0;
        for (const EdgeSnapshot &e : view->edges) {
            touching += e.source == "shop/*" || e.target == "shop/*";
            out += e.source == "shop/*" ? e.stats.rps : 0;
        }
        QVERIFY(touching > 0);
        QVERIFY(touching < crossing);  // several nodes talked to the same peer
        QCOMPARE(rpsInto(*view, "shop/*"), entering);
        QCOMPARE(out, leaving);
        // The node served what entered it, not every hop inside.
        QCOMPARE(shop->stats.rps, entering);
        // The rest of the graph is untouched, the aggregator's verdicts included.
        QCOMPARE(view->node("bookinfo/reviews@v2")->stats.rps, mesh->node("bookinfo/reviews@v2")->stats.rps);
        const EdgeSnapshot *kept = view->edge("bookinfo/productpage@v1->bookinfo/details@v1");
        QVERIFY(kept);
    }

    void collapsedNamespacesAndServicesTogether()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        const GraphSnapshotPtr view = viewOfGraph(mesh, collapsed({"shop", "data"}, GraphType::Services));
        verifyIsGraph(*view);
        QVERIFY(view->node("shop/*"));
        QVERIFY(view->node("data/*"));
        QVERIFY(view->node("bookinfo/reviews"));
        std::set<std::string> ids;
        for (const NodeSnapshot &n : view->nodes) {
            QVERIFY2(n.id.find('@') == std::string::npos, n.id.c_str());
            QVERIFY(ids.insert(n.id).second);
        }
        // Folded namespaces talk to each other through one edge per direction.
        QVERIFY(view->edge("shop/*->data/*"));
    }

    void viewIdsOfTheAggregatorsIds()
    {
        GraphViewOptions o = collapsed({"shop"}, GraphType::Services);
        QCOMPARE(viewNodeId("bookinfo/reviews@v2", o), std::string("bookinfo/reviews"));
        QCOMPARE(viewNodeId("bookinfo/reviews", o), std::string("bookinfo/reviews"));
        QCOMPARE(viewNodeId("shop/cart@v1", o), std::string("shop/*"));
        QCOMPARE(viewNodeId("shop/*", o), std::string("shop/*"));
        QCOMPARE(viewNodeId("external", o), std::string("external"));
        QCOMPARE(viewNodeId("ext:api.stripe.com", o), std::string("ext:api.stripe.com"));
        QCOMPARE(viewNodeId("other", o), std::string("other"));
        QCOMPARE(viewNodeId("bookinfo/reviews@v2", GraphViewOptions {}), std::string("bookinfo/reviews@v2"));
        o.type = GraphType::Workloads;
        QCOMPARE(viewNodeId("bookinfo/reviews@v2", o), std::string("bookinfo/reviews@v2"));
        // Every node of a view is named by viewNodeId of the nodes it stands for.
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        const GraphViewOptions both = collapsed({"data"}, GraphType::Services);
        const GraphSnapshotPtr view = viewOfGraph(mesh, both);
        for (const NodeSnapshot &n : mesh->nodes)
            QVERIFY2(view->node(viewNodeId(n.id, both)), n.id.c_str());
        QVERIFY(namespaceOfNamespaceNodeId("shop/cart").empty());
        QVERIFY(namespaceOfNamespaceNodeId("a/b/*").empty());
        QVERIFY(namespaceOfNamespaceNodeId("/*").empty());
    }

    void largeSyntheticMeshStaysAGraph()
    {
        const GraphSnapshotPtr mesh = samplemesh::synthetic(2000, 8000, 3);
        const std::string ns = mesh->nodes[mesh->nodes.size() / 2].ns;
        const GraphSnapshotPtr view = viewOfGraph(mesh, collapsed({ns}, GraphType::Services));
        verifyIsGraph(*view);
        QVERIFY(view->nodes.size() < mesh->nodes.size());
        QVERIFY(view->node(namespaceNodeId(ns)));
    }
};

QTEST_GUILESS_MAIN(TestGraphView)
#include "tst_graphview.moc"

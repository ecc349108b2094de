// Graph types and folded namespaces in the real window, fed by a real aggregator: the
// services graph merges versions on the canvas, in Inspect and in live requests; a
// namespace folds into one node from a node's context menu and unfolds again; the
// selection follows; and the choice is the workspace's after a restart.

#include "canvas/graphcanvas.h"
#include "common/graphsamplemesh.h"
#include "common/spanfactory.h"
#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/models/statuscodesmodel.h"
#include "inspect/requestspanel.h"
#include "inspect/timeserieschart.h"
#include "mainwindow.h"

#include <QAction>
#include <QComboBox>
#include <QCoreApplication>
#include <QMenu>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

#include <memory>

using namespace meshscope;

namespace {

const QString kFrontend = QStringLiteral("shop/frontend@v1");
const QString kReviewsV1 = QStringLiteral("shop/reviews@v1");
const QString kReviewsV2 = QStringLiteral("shop/reviews@v2");
const QString kReviews = QStringLiteral("shop/reviews");
const QString kPayments = QStringLiteral("billing/payments@v1");

// Spans of `count` requests: external -> frontend v1 -> reviews (v1 and v2 in turn),
// and frontend -> billing's payments, as an instrumented mesh reports them.
class VersionedTraffic {
public:
    std::vector<Span> requests(int count)
    {
        std::vector<Span> out;
        for (int i = 0; i < count; ++i) {
            const TraceId trace = m_spans.nextTrace();
            const uint64_t start = uint64_t(GraphAggregator::wallNowMs()) * 1000000ull;
            auto call = [start](const char *service, const char *ns, const char *version, int ms) {
                return test::SpanFactory::Call {service, ns, version, start, ms};
            };
            const Span fe = m_spans.add(out, trace, 0, SpanKind::Server, call("frontend", "shop", "v1", 20));
            const Span toReviews
                = m_spans.add(out, trace, fe.spanId, SpanKind::Client, call("frontend", "shop", "v1", 10));
            m_spans.add(
                out, trace, toReviews.spanId, SpanKind::Server, call("reviews", "shop", i % 2 ? "v2" : "v1", 9));
            const Span toPay = m_spans.add(out, trace, fe.spanId, SpanKind::Client, call("frontend", "shop", "v1", 5));
            m_spans.add(out, trace, toPay.spanId, SpanKind::Server, call("payments", "billing", "v1", 4));
        }
        return out;
    }

private:
    test::SpanFactory m_spans {0x17};
};

QStringList shownNodes(const MainWindow &w)
{
    QStringList ids;
    for (const NodeSnapshot &n : w.canvas()->snapshot()->nodes)
        ids << QString::fromStdString(n.id);
    return ids;
}

// The action of the node's context menu named `name`, triggered as a click would.
bool triggerMenuAction(MainWindow &w, const QString &nodeId, const QString &name, QString *text = nullptr)
{
    const std::unique_ptr<QMenu> menu(w.nodeContextMenu(nodeId));
    auto *action = menu->findChild<QAction *>(name);
    if (!action)
        return false;
    if (text)
        *text = action->text();
    action->trigger();
    return true;
}

}  // namespace

class TestGraphTypes : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void init();
    void cleanup();
    void servicesGraphMergesVersions();
    void selectionFollowsTheGraphType();
    void liveRequestsOfAMergedService();
    void namespaceCollapsesFromTheContextMenu();
    void graphViewSurvivesARestart();
    void bigGraphsAreMergedOffTheGuiThread();

private:
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<MainWindow> m_window;
    VersionedTraffic m_traffic;
};

void TestGraphTypes::init()
{
    m_aggregator = std::make_unique<GraphAggregator>(AggregatorConfig {}, GraphAggregator::wallNowMs() - 60000);
    m_aggregator->ingestSpans(m_traffic.requests(40), GraphAggregator::wallNowMs());
    m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
    m_window->setPersistenceEnabled(false);
    m_window->resize(1400, 900);
    m_window->applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_VERIFY(!m_window->canvas()->nodeWidgetPosition(kReviewsV2).isNull());
}

void TestGraphTypes::cleanup()
{
    m_window.reset();
    m_aggregator.reset();
}

void TestGraphTypes::servicesGraphMergesVersions()
{
    MainWindow &w = *m_window;
    QVERIFY(shownNodes(w).contains(kReviewsV1));
    QCOMPARE(w.graphTypeCombo()->currentData().toInt(), int(GraphType::Workloads));

    w.servicesAction()->trigger();
    QCOMPARE(w.graphView().type, GraphType::Services);
    QCOMPARE(w.graphTypeCombo()->currentData().toInt(), int(GraphType::Services));
    const QStringList ids = shownNodes(w);
    QVERIFY2(ids.contains(kReviews), qPrintable(ids.join(QLatin1Char(' '))));
    QVERIFY(ids.contains(QStringLiteral("shop/frontend")));
    QVERIFY(ids.filter(QStringLiteral("@")).isEmpty());
    QTRY_VERIFY(!w.canvas()->nodeWidgetPosition(kReviews).isNull());
    QVERIFY(w.canvas()->nodeWidgetPosition(kReviewsV1).isNull());
    // The window's own graph, what find, Inspect and the exports read, is the same one.
    QCOMPARE(w.snapshot(), w.canvas()->snapshot());
    const NodeSnapshot *reviews = w.snapshot()->node(kReviews.toStdString());
    const GraphSnapshotPtr published = w.publishedSnapshot();
    QCOMPARE(reviews->stats.requests,
        published->node(kReviewsV1.toStdString())->stats.requests
            + published->node(kReviewsV2.toStdString())->stats.requests);
    QCOMPARE(w.snapshot()->edges.size(), size_t(3));  // external->frontend, ->reviews, ->payments
    QCOMPARE(w.canvas()->findNode(QStringLiteral("reviews")), kReviews);

    // The toolbar's combo chooses too, and the menu follows it.
    w.graphTypeCombo()->setCurrentIndex(w.graphTypeCombo()->findData(int(GraphType::Workloads)));
    QVERIFY(w.workloadsAction()->isChecked());
    QVERIFY(shownNodes(w).contains(kReviewsV2));
    QVERIFY(!shownNodes(w).contains(kReviews));
}

void TestGraphTypes::selectionFollowsTheGraphType()
{
    MainWindow &w = *m_window;
    QCOMPARE(w.selectNode(kReviewsV2), kReviewsV2);
    w.setGraphType(GraphType::Services);
    QCOMPARE(w.canvas()->selectedNode(), kReviews);
    QCOMPARE(w.inspectPanel()->currentNode(), kReviews);
    QCOMPARE(w.inspectPanel()->title(), QStringLiteral("reviews"));
    // Its status codes and charts are its versions' together (kept per workload).
    auto served = [this](const QString &id) {
        uint64_t n = 0;
        for (const auto &[code, count] : m_aggregator->nodeStatusCodes(id.toStdString()))
            n += count;
        return n;
    };
    const uint64_t both = served(kReviewsV1) + served(kReviewsV2);
    QVERIFY(served(kReviewsV1) > 0 && served(kReviewsV2) > 0);
    auto shownCodes = [&w] {
        uint64_t n = 0;
        for (const auto &[code, count] : w.inspectPanel()->statusCodesModel()->codes())
            n += count;
        return n;
    };
    QTRY_COMPARE(shownCodes(), both);
    // Once the second the requests came in is over, the chart draws them.
    auto charted = [&w] {
        double sum = 0;
        for (const QPointF &p : w.inspectPanel()->requestsChart()->points(0))
            sum += p.y();
        return sum;
    };
    // (Whether the second is still running by now depends on the machine's load, so
    // only the drawing after it is checked.)
    QTest::qWait(1100);
    w.applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
    QTRY_VERIFY(charted() > 0);
    // A version's id still finds its service while versions are merged.
    QCOMPARE(w.selectNode(kReviewsV1), kReviews);
    // Back to workloads: the service's first version.
    w.setGraphType(GraphType::Workloads);
    QCOMPARE(w.canvas()->selectedNode(), kReviewsV1);

    // An edge follows its ends.
    QVERIFY(w.selectEdge(kFrontend + QStringLiteral("->") + kReviewsV1));
    w.setGraphType(GraphType::Services);
    QCOMPARE(w.canvas()->selectedEdge(), QStringLiteral("shop/frontend->shop/reviews"));
    QCOMPARE(w.inspectPanel()->currentEdge(), QStringLiteral("shop/frontend->shop/reviews"));
}

void TestGraphTypes::liveRequestsOfAMergedService()
{
    MainWindow &w = *m_window;
    RequestsPanel *requests = w.requestsPanel();
    requests->setPollInterval(60000);  // the test polls
    w.selectNode(kReviewsV1);
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 20);  // every other request went to v1

    w.setGraphType(GraphType::Services);
    QCOMPARE(w.canvas()->selectedNode(), kReviews);
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 40);
    const QByteArray csv = requests->model()->toCsv();
    QVERIFY(csv.contains(kReviewsV1.toUtf8()));
    QVERIFY(csv.contains(kReviewsV2.toUtf8()));
    QVERIFY(!csv.contains(kPayments.toUtf8()));

    // A folded namespace's requests are every request to or from one of its nodes:
    // external -> frontend, frontend -> reviews and frontend -> payments.
    w.collapseNamespace(QStringLiteral("shop"));
    QVERIFY(w.selectNode(QStringLiteral("shop/*")) == QStringLiteral("shop/*"));
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 120);
    // Its edge out is the one request to billing per trace.
    QVERIFY(w.selectEdge(QStringLiteral("shop/*->billing/payments")));
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 40);
}

void TestGraphTypes::namespaceCollapsesFromTheContextMenu()
{
    MainWindow &w = *m_window;
    const QStringList before = shownNodes(w);
    const int shopNodes = int(before.filter(QStringLiteral("shop/")).size());
    QCOMPARE(shopNodes, 3);
    QVERIFY(!w.expandAllNamespacesAction()->isEnabled());

    QString text;
    QVERIFY(triggerMenuAction(w, kFrontend, QStringLiteral("collapseNamespaceAction"), &text));
    QCOMPARE(text, QStringLiteral("Collapse namespace shop"));
    QStringList after = shownNodes(w);
    QVERIFY2(after.contains(QStringLiteral("shop/*")), qPrintable(after.join(QLatin1Char(' '))));
    QCOMPARE(after.filter(QStringLiteral("shop/")).size(), 1);
    QCOMPARE(after.size(), before.size() - shopNodes + 1);
    QTRY_VERIFY(!w.canvas()->nodeWidgetPosition(QStringLiteral("shop/*")).isNull());
    const NodeSnapshot *shop = w.snapshot()->node("shop/*");
    QCOMPARE(shop->kind, NodeKind::Other);
    QCOMPARE(shop->foldedCount, uint64_t(shopNodes));
    QVERIFY(w.snapshot()->edge("external->shop/*"));
    QVERIFY(w.snapshot()->edge("shop/*->billing/payments@v1"));
    QVERIFY(w.expandAllNamespacesAction()->isEnabled());
    // A folded namespace offers no collapse, and a node outside it still does.
    {
        const std::unique_ptr<QMenu> menu(w.nodeContextMenu(QStringLiteral("shop/*")));
        QVERIFY(!menu->findChild<QAction *>(QStringLiteral("collapseNamespaceAction")));
    }

    QVERIFY(triggerMenuAction(w, kPayments, QStringLiteral("collapseNamespaceAction")));
    QCOMPARE(w.graphView().collapsedNamespaces, (std::set<std::string> {"billing", "shop"}));
    QVERIFY(w.snapshot()->edge("shop/*->billing/*"));

    QVERIFY(triggerMenuAction(w, QStringLiteral("shop/*"), QStringLiteral("expandNamespaceAction"), &text));
    QCOMPARE(text, QStringLiteral("Expand namespace shop"));
    QVERIFY(shownNodes(w).contains(kReviewsV1));
    QVERIFY(shownNodes(w).contains(QStringLiteral("billing/*")));

    w.expandAllNamespacesAction()->trigger();
    QCOMPARE(shownNodes(w), before);
    QVERIFY(!w.expandAllNamespacesAction()->isEnabled());
    // Back to the aggregator's graph: the window shows the published snapshot itself.
    QCOMPARE(w.snapshot(), w.publishedSnapshot());
}

void TestGraphTypes::graphViewSurvivesARestart()
{
    const QString workspace = QStringLiteral("tst-graphtypes-%1").arg(QCoreApplication::applicationPid());
    {
        MainWindow w(m_aggregator.get(), workspace);
        w.applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
        w.servicesAction()->trigger();
        QVERIFY(triggerMenuAction(w, QStringLiteral("billing/payments"), QStringLiteral("collapseNamespaceAction")));
        w.saveSettings();
    }
    {
        MainWindow w(m_aggregator.get(), workspace);
        w.restoreSettings();
        QCOMPARE(w.graphView().type, GraphType::Services);
        QCOMPARE(w.graphView().collapsedNamespaces, std::set<std::string> {"billing"});
        QVERIFY(w.servicesAction()->isChecked());
        QCOMPARE(w.graphTypeCombo()->currentData().toInt(), int(GraphType::Services));
        QVERIFY(w.expandAllNamespacesAction()->isEnabled());
        w.applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
        const QStringList ids = shownNodes(w);
        QVERIFY(ids.contains(kReviews));
        QVERIFY(ids.contains(QStringLiteral("billing/*")));
        QVERIFY(ids.filter(QStringLiteral("billing/payments")).isEmpty());
    }
    {
        // Another workspace starts with the aggregator's graph.
        MainWindow w(m_aggregator.get(), workspace + QStringLiteral("-other"));
        w.restoreSettings();
        QVERIFY(w.graphView().isDefault());
        QVERIFY(w.workloadsAction()->isChecked());
    }
    QSettings s(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
    s.remove(QStringLiteral("workspaces/") + workspace);
    s.remove(QStringLiteral("workspaces/") + workspace + QStringLiteral("-other"));
}

QTEST_MAIN(TestGraphTypes)
void TestGraphTypes::bigGraphsAreMergedOffTheGuiThread()
{
    // 3,000 nodes, every service with a version: taking the versions off is worked out on a pool thread,
    // and of the snapshots published meanwhile the newest is shown.
    MainWindow &w = *m_window;
    w.servicesAction()->trigger();
    const GraphSnapshotPtr big = samplemesh::synthetic(3000, 12000, 4);
    const GraphSnapshotPtr bigger = samplemesh::withService(*big, "team-1", "late", big->nodes[1].id);
    w.applySnapshot(big);
    QCOMPARE(w.publishedSnapshot(), big);
    QVERIFY(w.snapshot()->nodes.size() < 100);  // still the small mesh: the window did not wait
    w.applySnapshot(bigger);
    QTRY_VERIFY_WITH_TIMEOUT(w.snapshot() && w.snapshot()->node("team-1/late") != nullptr, 15000);
    QCOMPARE(w.canvas()->snapshot(), w.snapshot());
    size_t versioned = 0;
    for (const NodeSnapshot &n : w.snapshot()->nodes)
        versioned += n.id.find('@') != std::string::npos;
    QCOMPARE(versioned, size_t(0));
    QCOMPARE(w.snapshot()->nodes.size(), bigger->nodes.size());  // one version per generated service
}

#include "tst_graphtypes.moc"

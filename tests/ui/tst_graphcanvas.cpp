// The graph canvas offscreen: clicks on nodes, edges and empty space, find, filters,
// keyboard and wheel zoom, dragging and pins, stability across snapshots, the worker
// render actually reaching the screen, semantic zoom, animation and exports.

#include "canvas/canvastheme.h"
#include "canvas/graphcanvas.h"
#include "canvas/graphlayout.h"
#include "canvas/graphscene.h"
#include "common/graphsamplemesh.h"

#include <QApplication>
#include <QContextMenuEvent>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace meshscope;

namespace {

constexpr int kRenderTimeoutMs = 15000;

int countNear(const QImage &image, QColor colour, int tolerance = 14)
{
    const QImage img = image.convertToFormat(QImage::Format_RGB32);
    int n = 0;
    for (int y = 0; y < img.height(); ++y) {
        const QRgb *line = reinterpret_cast<const QRgb *>(img.constScanLine(y));
        for (int x = 0; x < img.width(); ++x) {
            if (std::abs(qRed(line[x]) - colour.red()) <= tolerance
                && std::abs(qGreen(line[x]) - colour.green()) <= tolerance
                && std::abs(qBlue(line[x]) - colour.blue()) <= tolerance)
                ++n;
        }
    }
    return n;
}

int countDifferent(const QImage &a, const QImage &b)
{
    const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
    if (x.size() != y.size())
        return x.width() * x.height();
    int n = 0;
    for (int r = 0; r < x.height(); ++r) {
        const QRgb *p = reinterpret_cast<const QRgb *>(x.constScanLine(r));
        const QRgb *q = reinterpret_cast<const QRgb *>(y.constScanLine(r));
        for (int c = 0; c < x.width(); ++c)
            n += p[c] != q[c];
    }
    return n;
}

void sendMouse(QWidget *w, QEvent::Type type, QPointF pos, Qt::MouseButtons buttons)
{
    QMouseEvent e(type, pos, w->mapToGlobal(pos), type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton, buttons,
        Qt::NoModifier);
    QApplication::sendEvent(w, &e);
}

}  // namespace

class TestGraphCanvas : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<GraphCanvas> m_canvas;

    GraphCanvas &shown(GraphSnapshotPtr snapshot, QSize size = QSize(1100, 760))
    {
        m_canvas = std::make_unique<GraphCanvas>();
        m_canvas->resize(size);
        m_canvas->setSnapshot(std::move(snapshot));
        m_canvas->show();
        if (!QTest::qWaitForWindowExposed(m_canvas.get()))
            qWarning("canvas not exposed");
        return *m_canvas;
    }

private Q_SLOTS:
    void cleanup() { m_canvas.reset(); }

    void clickingANodeSelectsIt()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        const QString id = QStringLiteral("shop/frontend@v1");
        const QPointF pos = c.nodeWidgetPosition(id);
        QVERIFY(!pos.isNull());
        QVERIFY(c.rect().contains(pos.toPoint()));
        QSignalSpy clicked(&c, &GraphCanvas::nodeClicked);
        QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, pos.toPoint());
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.at(0).at(0).toString(), id);
        QCOMPARE(c.selectedNode(), id);
        QVERIFY(c.selectedEdge().isEmpty());
    }

    void clickingAnEdgeMidpointSelectsTheEdge()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        const QString id = QStringLiteral("external->istio-system/istio-ingressgateway");
        const QPointF mid = c.edgeWidgetPosition(id);
        QVERIFY(!mid.isNull());
        QVERIFY(c.nodeAt(mid.toPoint()).isEmpty());
        QSignalSpy edgeClicked(&c, &GraphCanvas::edgeClicked);
        QSignalSpy nodeClicked(&c, &GraphCanvas::nodeClicked);
        QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, mid.toPoint());
        QCOMPARE(edgeClicked.count(), 1);
        QCOMPARE(edgeClicked.at(0).at(0).toString(), id);
        QCOMPARE(nodeClicked.count(), 0);
        QCOMPARE(c.selectedEdge(), id);
        QVERIFY(c.selectedNode().isEmpty());
    }

    void clickingEmptySpaceClearsTheSelection()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        c.selectNode(QStringLiteral("shop/cart@v1"));
        QCOMPARE(c.selectedNode(), QStringLiteral("shop/cart@v1"));
        QSignalSpy cleared(&c, &GraphCanvas::selectionCleared);
        QSignalSpy nodeClicked(&c, &GraphCanvas::nodeClicked);
        QSignalSpy edgeClicked(&c, &GraphCanvas::edgeClicked);
        QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, QPoint(c.width() - 6, 6));
        QCOMPARE(cleared.count(), 1);
        QCOMPARE(nodeClicked.count() + edgeClicked.count(), 0);
        QVERIFY(c.selectedNode().isEmpty());
    }

    void rightClickOnANodeAsksForItsMenu()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        const QString id = QStringLiteral("bookinfo/ratings@v1");
        const QPoint pos = c.nodeWidgetPosition(id).toPoint();
        QSignalSpy menu(&c, &GraphCanvas::nodeContextMenuRequested);
        QContextMenuEvent event(QContextMenuEvent::Mouse, pos, c.mapToGlobal(pos));
        QApplication::sendEvent(&c, &event);
        QCOMPARE(menu.count(), 1);
        QCOMPARE(menu.at(0).at(0).toString(), id);
        QCOMPARE(menu.at(0).at(1).toPoint(), c.mapToGlobal(pos));
    }

    void findSelectsCentresAndHighlights()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        QCOMPARE(c.findNode(QStringLiteral("front")), QStringLiteral("shop/frontend@v1"));
        QCOMPARE(c.selectedNode(), QStringLiteral("shop/frontend@v1"));
        const QPointF pos = c.nodeWidgetPosition(QStringLiteral("shop/frontend@v1"));
        QVERIFY(std::abs(pos.x() - c.width() / 2.0) < 2 && std::abs(pos.y() - c.height() / 2.0) < 2);
        // Case-insensitive, by id too; an exact name wins over a partial match.
        QCOMPARE(c.findNode(QStringLiteral("EXT:API.STRIPE")), QStringLiteral("ext:api.stripe.com"));
        QCOMPARE(c.findNode(QStringLiteral("cart")), QStringLiteral("shop/cart@v1"));
        QVERIFY(c.findNode(QStringLiteral("no-such-service")).isEmpty());
        QVERIFY(c.findNode(QString()).isEmpty());
    }

    void filtersHideWhatTheyShould()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        const QString ns = QStringLiteral("external->istio-system/istio-ingressgateway");
        const QString ew = QStringLiteral("shop/frontend@v1->shop/catalog@v2");
        const QString failing = QStringLiteral("shop/checkout@v1->shop/payment@v1");
        QVERIFY(c.isEdgeVisible(ns) && c.isEdgeVisible(ew) && c.isEdgeVisible(failing));
        QCOMPARE(c.namespaces(),
            (QStringList {QStringLiteral("bookinfo"), QStringLiteral("data"), QStringLiteral("identity"),
                QStringLiteral("istio-system"), QStringLiteral("shop")}));

        GraphCanvas::Filter northSouth;
        northSouth.eastWest = false;
        c.setFilter(northSouth);
        QVERIFY(c.isEdgeVisible(ns));
        QVERIFY(!c.isEdgeVisible(ew));
        QVERIFY(c.isNodeVisible(QStringLiteral("external")));
        QVERIFY(!c.isNodeVisible(QStringLiteral("shop/cart@v1")));  // east-west traffic only
        QVERIFY(c.nodeWidgetPosition(QStringLiteral("shop/cart@v1")).isNull());

        GraphCanvas::Filter eastWest;
        eastWest.northSouth = false;
        c.setFilter(eastWest);
        QVERIFY(!c.isEdgeVisible(ns));
        QVERIFY(c.isEdgeVisible(ew));
        QVERIFY(!c.isNodeVisible(QStringLiteral("external")));
        QVERIFY(c.isNodeVisible(QStringLiteral("shop/cart@v1")));

        GraphCanvas::Filter errors;
        errors.errorsOnly = true;
        c.setFilter(errors);
        QVERIFY(c.isEdgeVisible(failing));
        QVERIFY(!c.isEdgeVisible(ew));
        QVERIFY(c.isNodeVisible(QStringLiteral("shop/payment@v1")));
        QVERIFY(!c.isNodeVisible(QStringLiteral("shop/catalog@v2")));

        GraphCanvas::Filter bookinfo;
        bookinfo.ns = QStringLiteral("bookinfo");
        c.setFilter(bookinfo);
        QCOMPARE(c.filter().ns, QStringLiteral("bookinfo"));
        QVERIFY(c.isNodeVisible(QStringLiteral("bookinfo/productpage@v1")));
        QVERIFY(c.isNodeVisible(QStringLiteral("istio-system/istio-ingressgateway")));  // calls into bookinfo
        QVERIFY(!c.isNodeVisible(QStringLiteral("shop/cart@v1")));
        QVERIFY(!c.isNodeVisible(QStringLiteral("identity/auth@v1")));
        QVERIFY(!c.isEdgeVisible(ew));
        QVERIFY(c.isEdgeVisible(QStringLiteral("istio-system/istio-ingressgateway->bookinfo/productpage@v1")));

        // A hidden node cannot be clicked: the click lands on empty space.
        c.setFilter(northSouth);
        c.setFilter(GraphCanvas::Filter());
        QVERIFY(c.isNodeVisible(QStringLiteral("shop/cart@v1")) && c.isEdgeVisible(ew) && c.isEdgeVisible(ns));
    }

    void layoutRunsNorthToSouthOnScreen()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        auto y = [&](const char *id) { return c.nodeWidgetPosition(QString::fromLatin1(id)).y(); };
        QVERIFY(y("external") < y("istio-system/istio-ingressgateway"));
        QVERIFY(y("istio-system/istio-ingressgateway") < y("shop/frontend@v1"));
        QVERIFY(y("shop/frontend@v1") < y("shop/catalog@v2"));
        QVERIFY(y("shop/catalog@v2") < y("data/postgres"));
        QVERIFY(y("data/postgres") < y("ext:api.stripe.com"));
        QVERIFY(y("istio-system/istio-egressgateway") < y("ext:smtp.sendgrid.net"));
    }

    void newSnapshotsDoNotMoveExistingNodes()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphCanvas &c = shown(mesh);
        c.zoomBy(1.0, QPointF(100, 100));  // the user has looked around: no more auto-fit
        QHash<QString, QPointF> before;
        for (const NodeSnapshot &n : mesh->nodes)
            before.insert(QString::fromStdString(n.id), c.nodeWidgetPosition(QString::fromStdString(n.id)));
        c.setSnapshot(samplemesh::withService(*mesh, "shop", "fraud-check", "shop/checkout@v1"));
        c.setSnapshot(samplemesh::withService(*c.snapshot(), "data", "memcached", "shop/catalog@v2"));
        for (auto it = before.cbegin(); it != before.cend(); ++it)
            QCOMPARE(c.nodeWidgetPosition(it.key()), it.value());
        QVERIFY(c.isNodeVisible(QStringLiteral("shop/fraud-check@v1")));
        QVERIFY(c.isNodeVisible(QStringLiteral("data/memcached@v1")));
    }

    void draggedNodeStaysPinned()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphCanvas &c = shown(mesh);
        c.zoomBy(1.0, QPointF(100, 100));
        const QString id = QStringLiteral("shop/ads@v1");
        const QPointF start = c.nodeWidgetPosition(id);
        QSignalSpy pinned(&c, &GraphCanvas::pinnedPositionsChanged);
        QSignalSpy clicked(&c, &GraphCanvas::nodeClicked);
        sendMouse(&c, QEvent::MouseButtonPress, start, Qt::LeftButton);
        for (int i = 1; i <= 8; ++i)
            sendMouse(&c, QEvent::MouseMove, start + QPointF(10 * i, -6 * i), Qt::LeftButton);
        sendMouse(&c, QEvent::MouseButtonRelease, start + QPointF(80, -48), Qt::NoButton);
        QCOMPARE(pinned.count(), 1);
        QCOMPARE(clicked.count(), 0);  // a drag is not a click
        const QPointF moved = c.nodeWidgetPosition(id);
        QVERIFY(std::abs(moved.x() - (start.x() + 80)) < 0.5 && std::abs(moved.y() - (start.y() - 48)) < 0.5);
        QVERIFY(c.pinnedPositions().contains(id));

        // New snapshots (including a brand-new node) leave it where the user put it.
        c.setSnapshot(samplemesh::withService(*mesh, "shop", "fraud-check", "shop/checkout@v1"));
        c.setSnapshot(samplemesh::realistic());
        QCOMPARE(c.nodeWidgetPosition(id), moved);

        // Pins survive a round trip through persistence into a fresh canvas.
        const QHash<QString, QPointF> saved = c.pinnedPositions();
        GraphCanvas other;
        other.resize(400, 300);
        other.setPinnedPositions(saved);
        other.setSnapshot(mesh);
        QCOMPARE(other.pinnedPositions(), saved);
    }

    void dragOnEmptySpacePans()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        const QString id = QStringLiteral("shop/frontend@v1");
        const QPointF before = c.nodeWidgetPosition(id);
        const QPointF from(c.width() - 8, 8);
        sendMouse(&c, QEvent::MouseButtonPress, from, Qt::LeftButton);
        sendMouse(&c, QEvent::MouseMove, from + QPointF(-30, 20), Qt::LeftButton);
        sendMouse(&c, QEvent::MouseMove, from + QPointF(-60, 40), Qt::LeftButton);
        sendMouse(&c, QEvent::MouseButtonRelease, from + QPointF(-60, 40), Qt::NoButton);
        const QPointF after = c.nodeWidgetPosition(id);
        QCOMPARE(after, before + QPointF(-60, 40));
        QVERIFY(c.pinnedPositions().isEmpty());
    }

    void keyboardAndWheelZoom()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        const double fitted = c.zoom();
        QTest::keyClick(&c, Qt::Key_Plus);
        QVERIFY(c.zoom() > fitted * 1.2);
        QTest::keyClick(&c, Qt::Key_Minus);
        QTest::keyClick(&c, Qt::Key_Minus);
        QVERIFY(c.zoom() < fitted);
        QTest::keyClick(&c, Qt::Key_F);
        QVERIFY(std::abs(c.zoom() - fitted) < 1e-9);

        // The wheel zooms around the cursor: the node under it stays put.
        const QString id = QStringLiteral("shop/checkout@v1");
        const QPointF at = c.nodeWidgetPosition(id);
        QWheelEvent wheel(
            at, c.mapToGlobal(at), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(&c, &wheel);
        QVERIFY(c.zoom() > fitted * 1.3);
        const QPointF after = c.nodeWidgetPosition(id);
        QVERIFY(std::hypot(after.x() - at.x(), after.y() - at.y()) < 0.01);

        // Arrow keys pan.
        QTest::keyClick(&c, Qt::Key_Left);
        QCOMPARE(c.nodeWidgetPosition(id), after + QPointF(60, 0));
    }

    void workerRenderReachesTheScreen()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        c.setEdgeLabel(GraphCanvas::EdgeLabel::Rps);
        c.setLegendVisible(false);  // its colour swatches would pass this test on their own
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage image = c.grab().toImage();
        QCOMPARE(image.size(), c.size());
        const int background = countNear(image, canvas::background(), 2);
        const int failing = countNear(image, canvas::healthColor(Health::Failing));
        const int healthy = countNear(image, canvas::healthColor(Health::Healthy));
        const int degraded = countNear(image, canvas::healthColor(Health::Degraded));
        QVERIFY2(failing > 30, qPrintable(QString::number(failing)));
        QVERIFY2(healthy > 200, qPrintable(QString::number(healthy)));
        QVERIFY2(degraded > 30, qPrintable(QString::number(degraded)));
        QVERIFY(background > image.width() * image.height() / 3);
        QVERIFY(c.lastRenderMs() > 0);
        // MESHSCOPE_CANVAS_SCREENSHOT=file.png keeps a picture of the canvas as an operator sees it.
        const QString out = qEnvironmentVariable("MESHSCOPE_CANVAS_SCREENSHOT");
        if (!out.isEmpty()) {
            c.setLegendVisible(true);
            c.resize(1600, 900);
            c.fitToView();
            QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
            QVERIFY(c.grab().save(out));
        }
    }

    void selectionIsDrawnImmediately()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const int before = countNear(c.grab().toImage(), canvas::selection(), 6);
        c.selectNode(QStringLiteral("shop/frontend@v1"));
        const int after = countNear(c.grab().toImage(), canvas::selection(), 6);
        QVERIFY2(after > before + 50, qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(after)));
    }

    void edgeLabelsAppearWhenLegible()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        c.findNode(QStringLiteral("checkout"));  // zoomed in close enough to read
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage plain = c.grab().toImage();
        c.setEdgeLabel(GraphCanvas::EdgeLabel::P95);
        QCOMPARE(c.edgeLabel(), GraphCanvas::EdgeLabel::P95);
        QVERIFY(!c.isRenderUpToDate());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        QVERIFY(countDifferent(plain, c.grab().toImage()) > 200);
    }

    void farZoomCollapsesNamespaces()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        QVERIFY(!c.isCollapsed());
        c.zoomBy(0.08 / c.zoom(), QPointF(c.width() / 2.0, c.height() / 2.0));
        QVERIFY(c.isCollapsed());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        // Boxes, not nodes: a click where a node is does not select it.
        QSignalSpy clicked(&c, &GraphCanvas::nodeClicked);
        QTest::mouseClick(
            &c, Qt::LeftButton, Qt::NoModifier, c.nodeWidgetPosition(QStringLiteral("shop/frontend@v1")).toPoint());
        QCOMPARE(clicked.count(), 0);
        c.setSemanticZoomEnabled(false);
        QVERIFY(!c.isCollapsed());
    }

    void animationMovesDotsWithoutRerendering()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage still = c.grab().toImage();
        c.setAnimationEnabled(true);
        QVERIFY(c.animationEnabled());
        const QImage a = c.grab().toImage();
        QTest::qWait(250);
        const QImage b = c.grab().toImage();
        QVERIFY(countDifferent(still, a) > 50);  // dots drawn over the cached image
        QVERIFY(countDifferent(a, b) > 50);  // and moving
        QVERIFY(c.isRenderUpToDate());  // without asking the worker for anything
        c.setAnimationEnabled(false);
        QVERIFY(countDifferent(still, c.grab().toImage()) == 0);
    }

    void exportsRenderTheWholeGraph()
    {
        GraphCanvas &c = shown(samplemesh::realistic(), QSize(500, 400));
        c.findNode(QStringLiteral("redis"));  // the viewport shows only part of the graph
        const QImage image = c.renderImage(QSize(1600, 1000));
        QCOMPARE(image.size(), QSize(1600, 1000));
        QVERIFY(countNear(image, canvas::healthColor(Health::Failing)) > 30);
        QVERIFY(countNear(image, canvas::healthColor(Health::Healthy)) > 200);

        QTemporaryDir dir;
        const QString svg = dir.filePath(QStringLiteral("graph.svg"));
        QVERIFY(c.renderSvg(svg));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray content = f.readAll();
        QVERIFY(content.contains("<svg"));
        QVERIFY(content.contains("frontend"));
    }

    void largeMeshStaysClickable()
    {
        GraphCanvas &c = shown(samplemesh::synthetic(3000, 12000, 3));
        // So big a first layout runs in the background; meanwhile nothing is placed.
        QVERIFY(c.isLayoutPending());
        QVERIFY(c.nodeWidgetPosition(QStringLiteral("external")).isNull());
        c.setSnapshot(samplemesh::withService(*c.snapshot(), "team-1", "late-arrival", "external"));
        QTRY_VERIFY_WITH_TIMEOUT(!c.isLayoutPending(), kRenderTimeoutMs);
        QVERIFY(c.isNodeVisible(QStringLiteral("team-1/late-arrival@v1")));  // caught up with the newer snapshot
        QVERIFY(c.isCollapsed());  // fitted, 3,000 nodes are namespace boxes
        const QString id = c.findNode(QStringLiteral("svc-42"));
        QVERIFY(id.endsWith(QStringLiteral("/svc-42@v1")) || id.contains(QStringLiteral("svc-42")));
        QVERIFY(!c.isCollapsed());
        QSignalSpy clicked(&c, &GraphCanvas::nodeClicked);
        QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, c.nodeWidgetPosition(id).toPoint());
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.at(0).at(0).toString(), id);
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
    }

    void gridHitTestsMatchALinearScan()
    {
        const GraphSnapshotPtr mesh = samplemesh::synthetic(1500, 6000, 9);
        GraphLayout layout;
        layout.update(*mesh);
        const GraphScenePtr scene = GraphScene::build(mesh, layout, SceneFilter(), HealthPolicy());
        QVERIFY(!scene->hasGrid());
        // Probe near nodes and near edge midpoints, where the answers are interesting.
        std::vector<QPointF> probes;
        for (size_t i = 0; i < scene->nodes().size(); i += 7)
            probes.push_back(scene->nodes()[i].pos + QPointF(double(i % 23) - 11, double(i % 31) - 9));
        for (size_t k = 0; k < scene->edges().size(); k += 11) {
            const SceneEdge &e = scene->edges()[k];
            probes.push_back((e.p1 + e.p2) / 2 + QPointF(double(k % 7) - 3, double(k % 5) - 2));
        }
        std::vector<int> nodes, edges;
        for (const QPointF &p : probes) {
            nodes.push_back(scene->nodeAt(p, 4));
            edges.push_back(scene->edgeAt(p, 5));
        }
        scene->buildGrid();
        QVERIFY(scene->hasGrid());
        int hits = 0;
        for (size_t i = 0; i < probes.size(); ++i) {
            QCOMPARE(scene->nodeAt(probes[i], 4), nodes[i]);
            QCOMPARE(scene->edgeAt(probes[i], 5), edges[i]);
            hits += nodes[i] >= 0;
        }
        QVERIFY(hits > 100);  // the probes did hit things
    }

    void rebuiltScenesKeepTheirNamespaceBoxes()
    {
        // A snapshot that changes only rates reuses the previous scene's groups; the
        // namespace boxes must survive that (and a change of routing marks).
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*mesh);
        const GraphScenePtr first = GraphScene::build(mesh, layout, SceneFilter(), HealthPolicy());
        QVERIFY(first->namespaceCount() >= 4);
        const GraphScenePtr again = GraphScene::build(mesh, layout, SceneFilter(), HealthPolicy(), first.get(),
            std::make_shared<const RoutedServices>(
                std::vector<std::pair<std::string, std::string>> {{"shop/cart", "HTTPRoute shop/cart"}}));
        QCOMPARE(again->namespaceCount(), first->namespaceCount());
        QCOMPARE(again->routedNodeCount(), 1);
        QVERIFY(again->nodes()[size_t(again->findNode(QStringLiteral("shop/cart@v1")))].routed);
    }

    void routingBadgesMarkRoutedServices()
    {
        GraphCanvas &c = shown(samplemesh::realistic());
        c.setLegendVisible(false);  // its own badge sample would count too
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage plain = c.grab().toImage();
        const QString v1 = QStringLiteral("bookinfo/reviews@v1");
        const QString v2 = QStringLiteral("bookinfo/reviews@v2");
        const QString v3 = QStringLiteral("bookinfo/reviews@v3");
        auto badgePixels = [&](const QImage &image, const QString &id) {
            // Where the badge of this node is (or would be) drawn at the current view.
            const QRect spot
                = canvas::routingBadgeRect(c.nodeWidgetPosition(id), canvas::kNodeRadius * c.zoom()).toAlignedRect();
            return countNear(image.copy(spot), canvas::routingBadge(), 24);
        };
        QVERIFY(c.routedNodes().isEmpty());
        QCOMPARE(badgePixels(plain, v2), 0);

        // A backend named <service>-<version> marks that version's node only.
        c.setRoutedServices({{QStringLiteral("bookinfo/reviews-v2"), QStringLiteral("HTTPRoute bookinfo/reviews")}});
        QCOMPARE(c.routedNodes(), QStringList({v2}));
        QVERIFY(!c.isNodeRouted(v1));
        QVERIFY(!c.routingBadgeRect(v2).isNull());
        QVERIFY(c.routingBadgeRect(v1).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage marked = c.grab().toImage();
        const QRectF badge = c.routingBadgeRect(v2);
        const int inBadge = badgePixels(marked, v2);
        QVERIFY2(inBadge > badge.width() * badge.height() / 4, qPrintable(QString::number(inBadge)));
        QCOMPARE(badgePixels(marked, v1), 0);
        // Nothing else moved: the pixels that changed are all at the badge.
        const int changed = countDifferent(plain, marked);
        const QRect around = badge.adjusted(-3, -3, 3, 3).toAlignedRect();
        QVERIFY(changed > 0);
        QCOMPARE(countDifferent(plain.copy(around), marked.copy(around)), changed);

        // The tooltip says so, with the route; an unrouted node's does not.
        QVERIFY2(
            c.nodeToolTipText(v2).contains(QStringLiteral("has routing rules")), qPrintable(c.nodeToolTipText(v2)));
        QVERIFY(c.nodeToolTipText(v2).contains(QStringLiteral("HTTPRoute bookinfo/reviews")));
        QVERIFY(!c.nodeToolTipText(v1).contains(QStringLiteral("routing")));

        // The service itself (a hostname, or backends without versions) marks every version;
        // other namespaces, clients and external hosts stay unmarked.
        c.setRoutedServices({{QStringLiteral("bookinfo/reviews"), QString()},
            {QStringLiteral("other/ratings"), QString()}, {QStringLiteral("default/external"), QString()}});
        QCOMPARE(c.routedNodes(), QStringList({v1, v2, v3}));
        QVERIFY(!c.isNodeRouted(QStringLiteral("bookinfo/ratings@v1")));
        QVERIFY(!c.isNodeRouted(QStringLiteral("external")));

        // Cleared: the picture is the plain one again.
        c.setRoutedServices({});
        QVERIFY(c.routedNodes().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        QCOMPARE(countDifferent(plain, c.grab().toImage()), 0);
    }

    void emptyAndNullSnapshotsAreHarmless()
    {
        GraphCanvas &c = shown(nullptr);
        QVERIFY(c.namespaces().isEmpty());
        QVERIFY(c.findNode(QStringLiteral("x")).isEmpty());
        QVERIFY(c.nodeWidgetPosition(QStringLiteral("x")).isNull());
        c.fitToView();
        c.setSnapshot(std::make_shared<const GraphSnapshot>());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        QVERIFY(!c.grab().toImage().isNull());
        QVERIFY(!c.renderImage(QSize(100, 100)).isNull());
    }
};

QTEST_MAIN(TestGraphCanvas)
#include "tst_graphcanvas.moc"

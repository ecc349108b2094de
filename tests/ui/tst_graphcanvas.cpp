// The graph canvas offscreen: clicks on nodes, edges and empty space, find, filters,
// keyboard and wheel zoom, dragging and pins, stability across snapshots, the worker
// render actually reaching the screen, semantic zoom, animation and exports.

#include "canvas/canvasrenderer.h"
#include "canvas/canvastheme.h"
#include "canvas/graphcanvas.h"
#include "canvas/graphlayout.h"
#include "canvas/graphscene.h"
#include "common/graphsamplemesh.h"
#include "displayformat.h"

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

// Three services on one line, A -> B -> C with a direct A -> C running straight over
// B (pinned so, as a user's drag or a layered layout can put them), and optionally B -> A.
GraphSnapshotPtr inLine(bool reverse)
{
    GraphSnapshot s;
    const NodeSnapshot a = samplemesh::node("line", "a", "", NodeKind::Service, 10);
    const NodeSnapshot b = samplemesh::node("line", "b", "", NodeKind::Service, 10);
    const NodeSnapshot c = samplemesh::node("line", "c", "", NodeKind::Service, 10);
    s.nodes = {a, b, c};
    EdgeSnapshot ab = samplemesh::edge(a, b, 5), bc = samplemesh::edge(b, c, 5), ac = samplemesh::edge(a, c, 5);
    ab.mtls = 1;  // the source says mutual TLS
    bc.mtls = 0;  // the source says plaintext
    ac.mtls = -1;  // the source does not say
    s.edges = {ab, bc, ac};
    if (reverse)
        s.edges.push_back(samplemesh::edge(b, a, 5));
    return samplemesh::finish(std::move(s));
}

const QHash<QString, QPointF> kInLinePins = {{QStringLiteral("line/a"), QPointF(0, 0)},
    {QStringLiteral("line/b"), QPointF(320, 0)}, {QStringLiteral("line/c"), QPointF(640, 0)}};

double distanceToSegment(QPointF p, QPointF a, QPointF b)
{
    const QPointF ab = b - a;
    const double len2 = QPointF::dotProduct(ab, ab);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / len2, 0.0, 1.0) : 0.0;
    const QPointF d = p - (a + ab * t);
    return std::sqrt(QPointF::dotProduct(d, d));
}

int countInRect(const QImage &image, const QRectF &rect, QColor colour, int tolerance = 30)
{
    return countNear(image.copy(rect.toAlignedRect().intersected(image.rect())), colour, tolerance);
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

    void splitSharesAreWrittenOnTheirEdges()
    {
        // The shares of a split (routesplit.h) go on the edges into its backends even
        // with edge labels off, ahead of the rate labels when they are on, and only
        // where the graph is close enough to read them.
        GraphCanvas &c = shown(samplemesh::realistic());
        c.findNode(QStringLiteral("reviews"));
        const QString v1 = QStringLiteral("bookinfo/productpage@v1->bookinfo/reviews@v1");
        const QString v3 = QStringLiteral("bookinfo/productpage@v1->bookinfo/reviews@v3");
        QVERIFY(c.isEdgeVisible(v1) && c.isEdgeVisible(v3));
        QCOMPARE(c.edgeLabel(), GraphCanvas::EdgeLabel::None);
        QVERIFY(c.edgeLabelTexts().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage plain = c.grab().toImage();

        c.setEdgeNotes({{v1, {QStringLiteral("33.3 % \u00b7 cfg 50.0 %"), QStringLiteral("33.3 %"), true}},
            {v3, {QStringLiteral("33.3 % \u00b7 cfg 30.0 %"), QString(), false}}});
        QHash<QString, QString> texts = c.edgeLabelTexts();
        QCOMPARE(texts.size(), 2);
        QCOMPARE(texts.value(v1), QStringLiteral("33.3 % \u00b7 cfg 50.0 %"));
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const QImage noted = c.grab().toImage();
        const QRectF pill = c.edgeLabelRects().value(v1);
        QVERIFY(countDifferent(plain.copy(pill.toAlignedRect()), noted.copy(pill.toAlignedRect())) > 30);
        // The one that disagrees is framed in amber, the other in the routing colour.
        QVERIFY(countInRect(noted, pill, canvas::healthColor(Health::Degraded), 40) > 20);
        QVERIFY(countInRect(noted, c.edgeLabelRects().value(v3), canvas::routingBadge(), 40) > 20);

        c.setEdgeLabel(GraphCanvas::EdgeLabel::Rps);
        texts = c.edgeLabelTexts();
        QVERIFY(texts.size() > 2);  // every other edge's rate too
        QVERIFY2(texts.value(v1).endsWith(QStringLiteral(" rps \u00b7 33.3 % \u00b7 cfg 50.0 %")),
            qPrintable(texts.value(v1)));

        c.setEdgeLabel(GraphCanvas::EdgeLabel::None);
        // Zoomed out to where the whole note no longer fits, the short one shows.
        bool shortened = false;
        for (double z = 1.0; z > 0.44; z -= 0.05) {
            c.zoomBy(z / c.zoom(), c.edgeWidgetPosition(v1));
            const QString text = c.edgeLabelTexts().value(v1);
            QVERIFY2(text == QStringLiteral("33.3 % \u00b7 cfg 50.0 %") || text == QStringLiteral("33.3 %"),
                qPrintable(QString::number(z) + QLatin1Char(' ') + text));
            shortened |= text == QStringLiteral("33.3 %");
        }
        QVERIFY(shortened);
        c.zoomBy(canvas::kEdgeLabelScale * 0.9 / c.zoom(), QPointF(c.width() / 2.0, c.height() / 2.0));
        QVERIFY(c.edgeLabelTexts().isEmpty());  // too far out to read
        c.setEdgeNotes({});
        c.fitToView();
        QVERIFY(c.edgeLabelTexts().isEmpty());
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

    void farZoomShowsNamespaceCardsWithTotals()
    {
        // 1,600 nodes in 15 namespaces, as a 1,500-service mesh from Prometheus: at the
        // fit of a laptop and of a desktop screen, and zoomed out further, every group
        // is one card with its whole title, no two cards overlap, and the edges between
        // them carry the totals of the edges they stand for.
        const GraphSnapshotPtr mesh = samplemesh::synthetic(1600, 4500, 5);
        // Which far-view group each node belongs to, worked out from the snapshot.
        auto groupOf = [](const NodeSnapshot &n) -> QString {
            if (n.kind == NodeKind::External)
                return QStringLiteral("clients");
            if (n.kind == NodeKind::ExternalService)
                return QStringLiteral("external services");
            const QString ns = QString::fromStdString(n.ns);
            if (n.kind == NodeKind::Gateway)
                return ns
                    + (n.name.find("egress") != std::string::npos ? QStringLiteral(" egress")
                                                                  : QStringLiteral(" ingress"));
            return ns;
        };
        QSet<QString> groups;
        struct Totals {
            double rps = 0, requests = 0, errors = 0;
        };
        QHash<QString, Totals> between;
        for (const NodeSnapshot &n : mesh->nodes)
            groups.insert(groupOf(n));
        for (const EdgeSnapshot &e : mesh->edges) {
            const QString from = groupOf(*mesh->node(e.source)), to = groupOf(*mesh->node(e.target));
            if (from == to)
                continue;
            Totals &t = between[from + QStringLiteral(" -> ") + to];
            t.rps += e.stats.rps;
            t.requests += double(e.stats.requests);
            t.errors += double(e.stats.requests) * e.stats.errorRate;
        }
        QVERIFY(groups.size() >= 19);  // 15 namespaces, clients, ingress, egress, external services

        for (const QSize size : {QSize(1280, 800), QSize(1920, 1080)}) {
            GraphCanvas &c = shown(mesh, size);
            QTRY_VERIFY_WITH_TIMEOUT(!c.isLayoutPending(), kRenderTimeoutMs);
            c.fitToView();
            // A laptop's fit is far enough out for cards; a desktop's may show services.
            const bool fitCollapses = c.isCollapsed();
            if (size.width() == 1280)
                QVERIFY(fitCollapses);
            else if (!fitCollapses)
                c.zoomBy(canvas::kCollapseScale * 0.95 / c.zoom(), QPointF(c.width() / 2.0, c.height() / 2.0));
            for (const double zoomOut : {1.0, 0.6, 0.35}) {
                c.zoomBy(zoomOut, QPointF(c.width() / 2.0, c.height() / 2.0));
                QVERIFY(c.isCollapsed());
                const QHash<QString, QRectF> boxes = c.namespaceBoxRects();
                QCOMPARE(QSet<QString>(boxes.keyBegin(), boxes.keyEnd()), groups);
                for (auto i = boxes.begin(); i != boxes.end(); ++i) {
                    const QFontMetricsF title(CanvasRenderer::groupTitleFont(i->height()));
                    QVERIFY2(title.horizontalAdvance(i.key()) < i->width() - 12, qPrintable(i.key()));
                    if (zoomOut == 1.0 && fitCollapses)  // the fit shows every card whole
                        QVERIFY2(QRectF(c.rect()).contains(*i), qPrintable(i.key()));
                    for (auto j = std::next(i); j != boxes.end(); ++j)
                        QVERIFY2(!i->intersects(*j), qPrintable(i.key() + QStringLiteral(" / ") + j.key()));
                }
                const QList<GraphCanvas::NamespaceEdgeLabel> labels = c.namespaceEdgeLabels();
                if (zoomOut == 1.0)
                    QVERIFY2(labels.size() >= 20, qPrintable(QString::number(labels.size())));
                for (qsizetype k = 0; k < labels.size(); ++k) {
                    const GraphCanvas::NamespaceEdgeLabel &l = labels[k];
                    const QString pair = l.from + QStringLiteral(" -> ") + l.to;
                    QVERIFY2(between.contains(pair), qPrintable(pair));
                    const Totals &t = between[pair];
                    QString expected = display::rps(t.rps) + QStringLiteral(" rps");
                    if (t.errors > 0)
                        expected += QStringLiteral(" \u00b7 ") + display::percent(t.errors / t.requests)
                            + QStringLiteral(" err");
                    QCOMPARE(l.text, expected);
                    QVERIFY(QRectF(c.rect()).contains(l.pill));
                    for (const QRectF &box : boxes)
                        QVERIFY2(!box.intersects(l.pill), qPrintable(pair));
                    for (qsizetype m = k + 1; m < labels.size(); ++m)
                        QVERIFY(!labels[m].pill.intersects(l.pill));
                }
            }
            // The painted frame shows the cards (not a hairball of nodes).
            QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        }

        // Double-clicking a card opens its namespace.
        GraphCanvas &c = *m_canvas;
        c.fitToView();
        if (!c.isCollapsed())
            c.zoomBy(canvas::kCollapseScale * 0.95 / c.zoom(), QPointF(c.width() / 2.0, c.height() / 2.0));
        const QRectF team3 = c.namespaceBoxRects().value(QStringLiteral("team-3"));
        QVERIFY(!team3.isNull());
        QTest::mouseDClick(&c, Qt::LeftButton, Qt::NoModifier, team3.center().toPoint());
        QVERIFY(!c.isCollapsed());
        int shownTeam3 = 0, team3Nodes = 0;
        for (const NodeSnapshot &n : mesh->nodes) {
            if (n.ns != "team-3")
                continue;
            ++team3Nodes;
            shownTeam3 += QRectF(c.rect()).contains(c.nodeWidgetPosition(QString::fromStdString(n.id)));
        }
        QCOMPARE(shownTeam3, team3Nodes);
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

    void bigMeshRatesArriveFromAPoolThread()
    {
        // A big graph's rates-only snapshots are made into scenes off the GUI thread;
        // the canvas takes the snapshot at once and its scene follows.
        GraphCanvas &c = shown(samplemesh::synthetic(3000, 12000, 5));
        QTRY_VERIFY_WITH_TIMEOUT(!c.isLayoutPending(), kRenderTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        const GraphSnapshotPtr first = c.snapshot();
        const QString id = QString::fromStdString(first->nodes[7].id);
        QVERIFY(c.nodeToolTipText(id).contains(display::rps(first->nodes[7].stats.rps) + QStringLiteral(" rps")));
        for (int round = 1; round <= 3; ++round) {
            GraphSnapshot next = *first;
            for (NodeSnapshot &n : next.nodes)
                n.stats.rps = first->nodes[7].stats.rps * (round + 1) + 0.5;
            next.generation += uint64_t(round);
            const auto ptr = std::make_shared<const GraphSnapshot>(std::move(next));
            c.setSnapshot(ptr);
            QCOMPARE(c.snapshot(), GraphSnapshotPtr(ptr));
        }
        // Of the three, the newest shows.
        const QString expected = display::rps(first->nodes[7].stats.rps * 4 + 0.5) + QStringLiteral(" rps");
        QTRY_VERIFY_WITH_TIMEOUT(c.nodeToolTipText(id).contains(expected), kRenderTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        // A new node is no rates-only change: it is placed and shown at once.
        c.setSnapshot(samplemesh::withService(*c.snapshot(), "team-1", "late-arrival", "external"));
        QVERIFY(c.isNodeVisible(QStringLiteral("team-1/late-arrival@v1")));
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

    void collinearEdgesAreDrawnApartAndPickedAsDrawn()
    {
        m_canvas = std::make_unique<GraphCanvas>();
        m_canvas->resize(1100, 760);
        m_canvas->setPinnedPositions(kInLinePins);
        m_canvas->setSnapshot(inLine(false));
        m_canvas->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_canvas.get()));
        GraphCanvas &c = *m_canvas;
        c.fitToView();
        const QString ab = QStringLiteral("line/a->line/b"), bc = QStringLiteral("line/b->line/c"),
                      ac = QStringLiteral("line/a->line/c");
        const QPointF a = c.nodeWidgetPosition(QStringLiteral("line/a"));
        const QPointF b = c.nodeWidgetPosition(QStringLiteral("line/b"));
        const QPointF cc = c.nodeWidgetPosition(QStringLiteral("line/c"));
        QVERIFY(!a.isNull() && !b.isNull() && !cc.isNull());
        QVERIFY(std::abs(a.y() - b.y()) < 0.5 && std::abs(b.y() - cc.y()) < 0.5);  // really in line

        // The direct edge bends clear of B and of the path through it.
        const QPointF mid = c.edgeWidgetPosition(ac);
        QVERIFY(!mid.isNull());
        const double s = c.zoom();
        const double apart = std::min(distanceToSegment(mid, a, b), distanceToSegment(mid, b, cc));
        QVERIFY2(apart >= 20, qPrintable(QStringLiteral("only %1 px from the path through B").arg(apart)));
        QVERIFY(QLineF(mid, b).length() > canvas::kNodeRadius * s * 1.15 + 4);
        QVERIFY(c.nodeAt(mid.toPoint()).isEmpty());

        // Each edge is picked where it is drawn, and a click there selects it.
        for (const QString &id : {ab, bc, ac}) {
            const QPointF at = c.edgeWidgetPosition(id);
            QCOMPARE(c.edgeAt(at.toPoint()), id);
            QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, at.toPoint());
            QCOMPARE(c.selectedEdge(), id);
        }
        // On the straight line between A and C, where the direct edge no longer runs,
        // the picks are the edges through B.
        QCOMPARE(c.edgeAt(((a + b) / 2).toPoint()), ab);
        QCOMPARE(c.edgeAt(((b + cc) / 2).toPoint()), bc);

        // The drawn curve is where the pick says: accent pixels near its middle once selected.
        c.selectEdge(ac);
        const QImage shot = c.grab().toImage();
        QVERIFY(countInRect(shot, QRectF(mid - QPointF(6, 6), QSizeF(12, 12)), canvas::selection()) > 10);
        // ... and not along the straight line, where it used to hide the path through B.
        const double span = b.x() - a.x();
        QCOMPARE(countInRect(shot, QRectF(b.x() - span * 0.5, b.y() - 3, span * 0.25, 6), canvas::selection(), 10), 0);
    }

    void oppositeEdgesAreBothPickable()
    {
        m_canvas = std::make_unique<GraphCanvas>();
        m_canvas->resize(1100, 760);
        m_canvas->setPinnedPositions(kInLinePins);
        m_canvas->setSnapshot(inLine(true));
        m_canvas->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_canvas.get()));
        GraphCanvas &c = *m_canvas;
        c.fitToView();
        const QString ab = QStringLiteral("line/a->line/b"), ba = QStringLiteral("line/b->line/a");
        const QPointF m1 = c.edgeWidgetPosition(ab), m2 = c.edgeWidgetPosition(ba);
        QVERIFY(!m1.isNull() && !m2.isNull());
        QVERIFY2(QLineF(m1, m2).length() >= 16, qPrintable(QString::number(QLineF(m1, m2).length())));
        QCOMPARE(c.edgeAt(m1.toPoint()), ab);
        QCOMPARE(c.edgeAt(m2.toPoint()), ba);
        QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, m2.toPoint());
        QCOMPARE(c.selectedEdge(), ba);
        QTest::mouseClick(&c, Qt::LeftButton, Qt::NoModifier, m1.toPoint());
        QCOMPARE(c.selectedEdge(), ab);
    }

    void mtlsLockOnlyWhereTheSnapshotSaysSo()
    {
        m_canvas = std::make_unique<GraphCanvas>();
        m_canvas->resize(1100, 760);
        m_canvas->setPinnedPositions(kInLinePins);
        m_canvas->setSnapshot(inLine(false));
        m_canvas->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_canvas.get()));
        GraphCanvas &c = *m_canvas;
        c.setLegendVisible(false);  // its key shows a lock too
        c.fitToView();
        QVERIFY(c.zoom() >= canvas::kArrowScale);
        const QString ab = QStringLiteral("line/a->line/b"), bc = QStringLiteral("line/b->line/c"),
                      ac = QStringLiteral("line/a->line/c");
        const QRectF lock = c.edgeLockRect(ab);
        QVERIFY(!lock.isNull());
        QVERIFY(c.edgeLockRect(bc).isNull());  // plaintext
        QVERIFY(c.edgeLockRect(ac).isNull());  // unknown
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        QImage shot = c.grab().toImage();
        const int inLock = countInRect(shot, lock, canvas::mtlsLock(), 20);
        QVERIFY2(inLock >= 12, qPrintable(QString::number(inLock)));
        // Nowhere else: the plaintext and unknown edges carry none.
        QCOMPARE(countNear(shot, canvas::mtlsLock(), 20),
            countInRect(shot, lock.adjusted(-2, -2, 2, 2), canvas::mtlsLock(), 20));
        // Where B -> C would have its lock (the same place relative to its middle), nothing.
        const QRectF mirrored = lock.translated(c.edgeWidgetPosition(bc) - c.edgeWidgetPosition(ab));
        QCOMPARE(countInRect(shot, mirrored, canvas::mtlsLock(), 20), 0);

        // A snapshot without mTLS anywhere draws no lock at all.
        GraphSnapshot plain = *inLine(false);
        for (EdgeSnapshot &e : plain.edges)
            e.mtls = -1;
        c.setSnapshot(std::make_shared<const GraphSnapshot>(plain));
        QVERIFY(c.edgeLockRect(ab).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(c.isRenderUpToDate(), kRenderTimeoutMs);
        shot = c.grab().toImage();
        QCOMPARE(countNear(shot, canvas::mtlsLock(), 20), 0);
    }

    void pinnedNodeFarAwayStaysOutOfOtherNamespaceBoxes()
    {
        const GraphSnapshotPtr mesh = samplemesh::realistic();
        GraphLayout layout;
        layout.update(*mesh);
        const HealthPolicy policy;
        const GraphScenePtr before = GraphScene::build(mesh, layout, SceneFilter {}, policy);
        const int moved = before->findNode(QStringLiteral("shop/ads@v1"));
        QVERIFY(moved >= 0);
        const int own = before->nodes()[size_t(moved)].group;
        QVERIFY(before->groups()[size_t(own)].isNamespace);
        int other = -1;
        for (size_t g = 0; g < before->groups().size(); ++g) {
            if (int(g) != own && before->groups()[g].isNamespace && before->groups()[g].visibleCount > 0)
                other = int(g);
        }
        QVERIFY(other >= 0);
        auto frame = [](const QRectF &r) { return r.adjusted(-16, -30, 16, 8); };  // as drawn
        QVERIFY(!frame(before->groups()[size_t(own)].bounds).intersects(frame(before->groups()[size_t(other)].bounds)));

        // Pinned into the middle of another namespace, then laid out again.
        const QPointF far = before->groups()[size_t(other)].bounds.center();
        layout.pin(before->nodeData(moved).id, far);
        layout.relayout(*mesh);
        const GraphScenePtr after = GraphScene::build(mesh, layout, SceneFilter {}, policy, before.get());
        QCOMPARE(after->nodes()[size_t(moved)].pos, far);
        for (size_t g = 0; g < after->groups().size(); ++g) {
            if (int(g) != own && after->groups()[g].isNamespace && after->groups()[g].visibleCount > 0)
                QVERIFY2(!frame(after->groups()[size_t(own)].bounds).intersects(frame(after->groups()[g].bounds)),
                    qPrintable(after->groups()[g].name));
        }
        QVERIFY(after->nodes()[size_t(moved)].stray);
        QCOMPARE(after->strayNodes(), std::vector<int> {moved});
        QVERIFY(!after->groups()[size_t(own)].bounds.contains(far));

        // The same while dragging (a scene with one node moved).
        const GraphScenePtr dragged = before->withNodeAt(moved, far);
        QVERIFY(
            !frame(dragged->groups()[size_t(own)].bounds).intersects(frame(dragged->groups()[size_t(other)].bounds)));
        QVERIFY(dragged->nodes()[size_t(moved)].stray);

        // A pin a little way off inside room of its own still belongs to its box.
        const QPointF near = before->nodes()[size_t(moved)].pos + QPointF(0, 12);
        const GraphScenePtr nudged = before->withNodeAt(moved, near);
        QVERIFY(!nudged->nodes()[size_t(moved)].stray);
        QVERIFY(nudged->groups()[size_t(own)].bounds.contains(near));
    }

    void curvedEdgesAreIndexedAsDrawn()
    {
        // The grid's answers match a linear scan on a graph where many edges bend.
        const GraphSnapshotPtr mesh = samplemesh::synthetic(600, 2400, 7);
        GraphLayout layout;
        layout.update(*mesh);
        const GraphScenePtr scene = GraphScene::build(mesh, layout, SceneFilter {}, HealthPolicy {});
        int curved = 0;
        for (const SceneEdge &e : scene->edges())
            curved += e.curved;
        QVERIFY(curved > 10);
        std::vector<QPointF> probes;
        for (size_t k = 0; k < scene->edges().size(); k += 7) {
            const SceneEdge &e = scene->edges()[k];
            if (e.curved) {
                probes.push_back(edgePointAt(e, 0.5));
                probes.push_back(edgePointAt(e, 0.3));
            }
        }
        std::vector<int> linear;
        for (QPointF p : probes)
            linear.push_back(scene->edgeAt(p, 3));
        scene->buildGrid();
        QVERIFY(scene->hasGrid());
        for (size_t i = 0; i < probes.size(); ++i) {
            QVERIFY(linear[i] >= 0);
            QCOMPARE(scene->edgeAt(probes[i], 3), linear[i]);
        }
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

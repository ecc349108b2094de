// The route editor inside the dashboard window, against real peers.
//
// Graph marks: with the Bookinfo example routes open, exactly the services some rule
// routes to get a routing badge (the same ones the context menu's "Shift traffic..."
// finds a rule for), with the route in their tooltip; a route created from the graph
// adds a badge at that node's corner, Revert takes it away again.
//
// xDS end to end: MainWindow + RouteEditor + RoutingController hosting the control
// plane on 127.0.0.1:0 with a route file. gRPC's own xDS client (the helper program
// meshscope-test-xdsclient) calls two real Echo backends through xds:///echo.test:
// at 100/0 every call reaches A; the weights are changed in the editor's spin box and
// slider, applied with the Apply button and the review dialog's Apply, and the
// client's calls move to about 20/80; the route file and the history have the change;
// rolling it back from the History tab brings every call back to A.

#include "canvas/canvastheme.h"
#include "canvas/graphcanvas.h"
#include "common/graphsamplemesh.h"
#include "common/xdsecho.h"
#include "darktheme.h"
#include "graph/graphaggregator.h"
#include "mainwindow.h"
#include "routing/backendweightseditor.h"
#include "routing/models/routehistorymodel.h"
#include "routing/models/routetreemodel.h"
#include "routing/models/xdsclientsmodel.h"
#include "routing/routediffview.h"
#include "routing/routeeditor.h"
#include "routing/routeruleeditor.h"
#include "routing/routingcontroller.h"
#include "session/recordingreader.h"
#include "session/sessionrecorder.h"

#include "routing/xds/xdscontrolplane.h"
#include "routing/yaml/routeyaml.h"

#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace meshscope;
using meshscope::test::ackedEverything;
using meshscope::test::CallResult;
using meshscope::test::EchoBackend;
using meshscope::test::echoRouteYaml;
using meshscope::test::XdsClientProcess;

namespace {

constexpr int kRenderTimeoutMs = 15000;

routing::RouteSet loadExample(const char *name)
{
    const QString path = QFINDTESTDATA(QStringLiteral("../../examples/routes/") + QLatin1String(name));
    return routing::loadRouteFile(path.toStdString()).set;
}

int countNear(const QImage &image, QColor colour, int tolerance)
{
    const QImage img = image.convertToFormat(QImage::Format_RGB32);
    int n = 0;
    for (int y = 0; y < img.height(); ++y) {
        const QRgb *line = reinterpret_cast<const QRgb *>(img.constScanLine(y));
        for (int x = 0; x < img.width(); ++x) {
            n += std::abs(qRed(line[x]) - colour.red()) <= tolerance
                && std::abs(qGreen(line[x]) - colour.green()) <= tolerance
                && std::abs(qBlue(line[x]) - colour.blue()) <= tolerance;
        }
    }
    return n;
}

// Badge-coloured pixels where the canvas draws (or would draw) a node's routing badge,
// zoomed in on the node far enough for badges to be drawn.
int badgePixels(GraphCanvas *canvas, const QString &id)
{
    canvas->fitToView();
    if (canvas->zoom() < 0.8)
        canvas->zoomBy(0.8 / canvas->zoom(), canvas->nodeWidgetPosition(id));  // the node stays where it is
    if (!QTest::qWaitFor([canvas] { return canvas->isRenderUpToDate(); }, kRenderTimeoutMs))
        return -1;
    const QRect spot = canvas::routingBadgeRect(canvas->nodeWidgetPosition(id), canvas::kNodeRadius * canvas->zoom())
                           .toAlignedRect();
    return countNear(canvas->grab().toImage().copy(spot), canvas::routingBadge(), 24);
}

}  // namespace

class TestRouting : public QObject {
    Q_OBJECT

private:
    EchoBackend m_a {"A"};
    EchoBackend m_b {"B"};

    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<MainWindow> m_window;

    // The window as main.cpp builds it with a route editor, showing the Routes tab.
    RouteEditor *openWindow()
    {
        m_aggregator = std::make_unique<GraphAggregator>();
        m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
        m_window->setPersistenceEnabled(false);
        m_window->resize(1500, 950);
        auto *editor = new RouteEditor;
        m_window->setRouteEditor(editor);
        m_window->show();
        if (!QTest::qWaitForWindowExposed(m_window.get()))
            qWarning("window not exposed");
        auto *dock = m_window->findChild<QDockWidget *>(QStringLiteral("routesDock"));
        if (dock) {
            dock->show();
            dock->raise();
        }
        return editor;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        applyDarkTheme(*qApp);
        QVERIFY(m_a.start());
        QVERIFY(m_b.start());
    }

    void cleanup()
    {
        m_window.reset();
        m_aggregator.reset();
    }

    void cleanupTestCase()
    {
        m_a.stop();
        m_b.stop();
    }

    void graphMarksServicesWithRoutingRules()
    {
        RouteEditor *editor = openWindow();
        GraphCanvas *canvas = m_window->canvas();
        m_window->applySnapshot(samplemesh::realistic());
        QVERIFY(canvas->routedNodes().isEmpty());

        routing::RouteSet set = loadExample("bookinfo-reviews.yaml");
        const routing::RouteSet chaos = loadExample("ratings-chaos.yaml");
        set.routes.insert(set.routes.end(), chaos.routes.begin(), chaos.routes.end());
        set.endpointSlices.insert(set.endpointSlices.end(), chaos.endpointSlices.begin(), chaos.endpointSlices.end());
        QVERIFY(!set.routes.empty());
        editor->setApplied(set, 1);

        const QStringList routed = {QStringLiteral("bookinfo/ratings@v1"), QStringLiteral("bookinfo/reviews@v1"),
            QStringLiteral("bookinfo/reviews@v2"), QStringLiteral("bookinfo/reviews@v3")};
        QCOMPARE(canvas->routedNodes(), routed);
        // A badge means the graph's context menu finds a rule for the node, and only then.
        for (const QString &id : routed)
            QVERIFY2(editor->routesService(id), qPrintable(id));
        for (const QString &id : {QStringLiteral("shop/payment@v1"), QStringLiteral("bookinfo/productpage@v1")}) {
            QVERIFY(!editor->routesService(id));
            QVERIFY(!canvas->isNodeRouted(id));
        }
        const QString tip = canvas->nodeToolTipText(QStringLiteral("bookinfo/reviews@v1"));
        QVERIFY2(tip.contains(QStringLiteral("has routing rules")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("HTTPRoute bookinfo/reviews")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("canary")), qPrintable(tip));

        // Drawn at the node's corner.
        const QString reviews = QStringLiteral("bookinfo/reviews@v2");
        const QString payment = QStringLiteral("shop/payment@v1");
        QVERIFY(badgePixels(canvas, reviews) > 10);
        QCOMPARE(badgePixels(canvas, payment), 0);

        // "Shift traffic..." on an unrouted service offers to create a route; doing so badges it.
        editor->shiftTraffic(payment);
        auto *create = editor->findChild<QPushButton *>(QStringLiteral("routeNoticeAction"));
        QVERIFY(create && create->isVisible());
        QTest::mouseClick(create, Qt::LeftButton);
        QVERIFY(canvas->isNodeRouted(payment));
        QVERIFY(canvas->nodeToolTipText(payment).contains(QStringLiteral("HTTPRoute shop/payment")));
        QVERIFY(badgePixels(canvas, payment) > 10);

        // Revert drops the unapplied route, and the badge with it.
        auto *revert = editor->findChild<QPushButton *>(QStringLiteral("revertRouteButton"));
        QVERIFY(revert && revert->isEnabled());
        QTest::mouseClick(revert, Qt::LeftButton);
        QVERIFY(!canvas->isNodeRouted(payment));
        QCOMPARE(canvas->routedNodes(), routed);
        QCOMPARE(badgePixels(canvas, payment), 0);
        QVERIFY(badgePixels(canvas, reviews) > 10);
    }

    void splitSharesOnTheGraphSayWhetherTrafficFollows()
    {
        // A 50/50 split of echo between echo-a and echo-b, served by the window's control plane.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString routeFile = dir.filePath(QStringLiteral("echo.yaml"));
        {
            QFile f(routeFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(echoRouteYaml(m_a.port(), m_b.port(), 50, 50).toUtf8());
        }
        RouteEditor *editor = openWindow();
        RoutingController controller(
            editor, QStringLiteral("127.0.0.1:0"), routeFile, dir.filePath(QStringLiteral("history")));
        QString error;
        QVERIFY2(controller.start(&error), qPrintable(error));
        // What the graph measured: the caller sends `toA` of its requests to echo-a.
        auto measured = [](double toA) {
            GraphSnapshot s;
            const NodeSnapshot caller = samplemesh::node("default", "caller", "", NodeKind::Service, 20);
            const NodeSnapshot a = samplemesh::node("default", "echo-a", "", NodeKind::Service, 100 * toA);
            const NodeSnapshot b = samplemesh::node("default", "echo-b", "", NodeKind::Service, 100 * (1 - toA));
            s.nodes = {caller, a, b};
            s.edges = {samplemesh::edge(caller, a, 100 * toA), samplemesh::edge(caller, b, 100 * (1 - toA))};
            s.timeMs = GraphAggregator::wallNowMs();
            return samplemesh::finish(std::move(s));
        };
        auto *canvas = m_window->findChild<GraphCanvas *>();
        QVERIFY(canvas);
        const QString toA = QStringLiteral("default/caller->default/echo-a");
        const QString toB = QStringLiteral("default/caller->default/echo-b");
        m_window->applySnapshot(measured(0.88));
        // No data plane client yet: the edges say so, whatever the traffic.
        QCOMPARE(canvas->edgeNotes().value(toA).text, QStringLiteral("cfg 50.0 % \u00b7 no xDS client"));
        QVERIFY(canvas->edgeNotes().value(toA).warn);
        QCOMPARE(canvas->edgeNotes().size(), 2);

        // A real gRPC application takes the routes: now observed against configured.
        XdsClientProcess client;
        QVERIFY(client.start(controller.controlPlane()->port(), QStringLiteral("split-notes")));
        QVERIFY2(client.call(10).errors == 0, "the client's calls fail");
        QVERIFY(QTest::qWaitFor([&] { return ackedEverything(*controller.controlPlane(), "split-notes", 1); }, 10000));
        QTRY_COMPARE_WITH_TIMEOUT(
            canvas->edgeNotes().value(toA).text, QStringLiteral("88.0 % \u00b7 cfg 50.0 %"), 10000);
        QVERIFY(canvas->edgeNotes().value(toA).warn);  // 38 points off
        QCOMPARE(canvas->edgeNotes().value(toB).text, QStringLiteral("12.0 % \u00b7 cfg 50.0 %"));

        // Traffic follows the split: no warning, and the shares are on the graph.
        m_window->applySnapshot(measured(0.51));
        QCOMPARE(canvas->edgeNotes().value(toA).text, QStringLiteral("51.0 % \u00b7 cfg 50.0 %"));
        QVERIFY(!canvas->edgeNotes().value(toA).warn);
        canvas->fitToView();
        QTRY_VERIFY_WITH_TIMEOUT(
            canvas->edgeLabelTexts().value(toB) == QStringLiteral("49.0 rps \u00b7 49.0 % \u00b7 cfg 50.0 %"), 5000);

        client.stop();
        controller.stop();
    }

    void xdsWeightEditAppliedFromTheWindowMovesTraffic()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString routeFile = dir.filePath(QStringLiteral("echo.yaml"));
        // The operator's own file: a comment header and flow lists, which Apply and the
        // rollback must keep.
        const QByteArray written
            = "# echo: everything to A until B is proven\n" + echoRouteYaml(m_a.port(), m_b.port(), 100, 0).toUtf8();
        {
            QFile f(routeFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(written);
        }
        auto fileText = [&routeFile] {
            QFile f(routeFile);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };
        RouteEditor *editor = openWindow();
        RoutingController controller(
            editor, QStringLiteral("127.0.0.1:0"), routeFile, dir.filePath(QStringLiteral("history")));
        QString error;
        QVERIFY2(controller.start(&error), qPrintable(error));
        routing::XdsControlPlane *cp = controller.controlPlane();
        QVERIFY(cp);
        QCOMPARE(cp->version(), uint64_t(1));

        // A real gRPC application routed by meshscope: everything to A at 100/0.
        XdsClientProcess client;
        QVERIFY(client.start(cp->port(), QStringLiteral("gui-editor")));
        CallResult r = client.call(100);
        QVERIFY2(r.errors == 0, qPrintable(r.line));
        QCOMPARE(r.count("A"), 100);
        QVERIFY(QTest::qWaitFor([&] { return ackedEverything(*cp, "gui-editor", 1); }, 10000));
        // The editor's Clients tab follows the ACKs.
        QTRY_VERIFY_WITH_TIMEOUT(editor->clientsModel()->rowCount() == 1, 10000);

        // The operator opens the rule and sets A to 20 and B to 80.
        QVERIFY(editor->selectRule(0, 0));
        BackendWeightsEditor *be = editor->ruleEditor()->backendsEditor();
        QCOMPARE(be->count(), 2);
        QCOMPARE(be->nameBox(0)->currentText(), QStringLiteral("echo-a"));
        QSpinBox *spinA = be->weightSpin(0);
        spinA->setFocus();
        spinA->selectAll();
        QTest::keyClicks(spinA, QStringLiteral("20"));
        QCOMPARE(spinA->value(), 20);
        QCOMPARE(be->slider(0)->value(), 20);
        QSlider *sliderB = be->slider(1);
        sliderB->setFocus();
        sliderB->setValue(80);
        QCOMPARE(be->weightSpin(1)->value(), 80);
        QVERIFY(editor->hasChanges());
        QVERIFY2(editor->diffText().contains(QStringLiteral("weight 100 -> 20")), qPrintable(editor->diffText()));
        QVERIFY2(editor->diffText().contains(QStringLiteral("weight 0 -> 80")), qPrintable(editor->diffText()));
        QCOMPARE(cp->version(), uint64_t(1));  // nothing leaves before Apply

        // Apply, then the review dialog's Apply; a recording running meanwhile keeps the
        // change with its version, as the dashboard wires it.
        QSignalSpy finished(&controller, &RoutingController::applyFinished);
        QSignalSpy applied(&controller, &RoutingController::routesApplied);
        GraphAggregator behind;
        SessionRecorder recorder(behind);
        const QString recordingPath = dir.filePath(QStringLiteral("session.msrec"));
        std::string recordError;
        QVERIFY2(recorder.start(recordingPath.toStdString(), "{}", recordError), recordError.c_str());
        connect(&controller, &RoutingController::routesApplied, &controller,
            [&recorder](quint64 version, const QString &target, const QString &yaml) {
                recorder.recordRouteApply(
                    version, target.toStdString(), yaml.toStdString(), GraphAggregator::wallNowMs());
            });
        QVERIFY(editor->applyButton()->isVisible() && editor->applyButton()->isEnabled());
        QTest::mouseClick(editor->applyButton(), Qt::LeftButton);
        RouteDiffDialog *review = editor->reviewDialog();
        QVERIFY(review);
        QVERIFY(review->view()->toPlainText().contains(QStringLiteral("weight 100 -> 20")));
        // No client yet for this version? One is connected, so no caution; and the file
        // tab shows exactly the lines that will be written.
        QVERIFY(!review->findChild<QLabel *>(QStringLiteral("routeDiffCautions"))->isVisibleTo(review));
        QVERIFY(review->fileView());
        const QString fileDiff = review->fileView()->toPlainText();
        QVERIFY2(fileDiff.contains(QStringLiteral("--- a/echo.yaml")), qPrintable(fileDiff));
        QVERIFY2(fileDiff.contains(QStringLiteral("\n-      weight: 100\n")), qPrintable(fileDiff));
        QVERIFY2(fileDiff.contains(QStringLiteral("\n+      weight: 20\n")), qPrintable(fileDiff));
        QCOMPARE(
            fileDiff.count(QRegularExpression(QStringLiteral("^[-+][^-+]"), QRegularExpression::MultilineOption)), 4);
        QCOMPARE(cp->version(), uint64_t(1));
        QTest::mouseClick(review->applyButton(), Qt::LeftButton);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toBool(), true);
        QCOMPARE(cp->version(), uint64_t(2));
        QCOMPARE(applied.count(), 1);
        QCOMPARE(applied.at(0).at(0).toULongLong(), quint64(2));
        QVERIFY(applied.at(0).at(1).toString().startsWith(QStringLiteral("xds ")));
        QVERIFY2(applied.at(0).at(2).toString().contains(QStringLiteral("weight: 20")),
            qPrintable(applied.at(0).at(2).toString()));
        recorder.stop();
        {
            std::string why;
            const auto reader = RecordingReader::open(recordingPath.toStdString(), why);
            QVERIFY2(reader, why.c_str());
            std::vector<uint64_t> versions;
            RecordingReader::Callbacks cb;
            cb.routeApply = [&versions](uint64_t version, const std::string &, const std::string &yaml, int64_t) {
                if (yaml.find("weight: 80") != std::string::npos)
                    versions.push_back(version);
            };
            QVERIFY2(reader->replay(behind, reader->startMs(), reader->endMs(), cb, why), why.c_str());
            QCOMPARE(versions, std::vector<uint64_t>({2}));
        }
        QVERIFY(!editor->hasChanges());
        QCOMPARE(editor->appliedVersion(), quint64(2));

        // The route file and the history have it.
        const routing::RouteLoadResult saved = routing::loadRouteFile(routeFile.toStdString());
        QVERIFY(saved.ok());
        QCOMPARE(saved.set.routes.at(0).rules.at(0).backends.at(0).weight, 20);
        QCOMPARE(saved.set.routes.at(0).rules.at(0).backends.at(1).weight, 80);
        const QByteArray afterApply = fileText();
        QVERIFY(afterApply.startsWith("# echo: everything to A until B is proven\n"));
        QVERIFY(afterApply.contains("- addresses: [\"127.0.0.1\"]\n"));
        QCOMPARE(QByteArray(afterApply).replace("weight: 20\n", "weight: 100\n").replace("weight: 80\n", "weight: 0\n"),
            written);
        RouteHistoryModel *history = editor->historyModel();
        QCOMPARE(history->rowCount(), 1);
        QVERIFY(history->index(0, RouteHistoryModel::Target)
                    .data()
                    .toString()
                    .startsWith(QStringLiteral("xds 127.0.0.1:")));

        // The client takes version 2 and its calls follow the new weights.
        QVERIFY(QTest::qWaitFor([&] { return ackedEverything(*cp, "gui-editor", 2); }, 10000));
        client.call(20);  // lets B's subchannel connect; not counted
        r = client.call(500);
        QVERIFY2(r.errors == 0, qPrintable(r.line));
        QCOMPARE(r.count("A") + r.count("B"), 500);
        qInfo("after the edit in the window: %s", qPrintable(r.line));
        const double shareA = r.count("A") / 500.0;
        QVERIFY2(shareA > 0.14 && shareA < 0.26, qPrintable(r.line));
        QTRY_VERIFY_WITH_TIMEOUT(
            editor->clientsModel()->index(0, XdsClientsModel::Routes).data().toString() == QStringLiteral("✓ ACKed v2"),
            10000);

        // Rolled back from the History tab: 100/0 again, served as version 3.
        editor->showTab(RouteEditor::Tab::History);
        editor->historyView()->setCurrentIndex(history->index(0, 0));
        QVERIFY(editor->rollbackButton()->isEnabled());
        QTest::mouseClick(editor->rollbackButton(), Qt::LeftButton);
        // Through the same review as Apply: nothing is pushed until it is confirmed.
        QVERIFY(editor->reviewDialog());
        QCOMPARE(editor->reviewDialog()->windowTitle(), QStringLiteral("Review rollback of change #1"));
        QVERIFY(editor->reviewDialog()->view()->toPlainText().contains(QStringLiteral("weight")));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(cp->version(), uint64_t(2));
        QTest::mouseClick(editor->reviewDialog()->applyButton(), Qt::LeftButton);
        QCOMPARE(finished.count(), 2);
        QCOMPARE(fileText(), written);  // byte for byte, comment and flow lists included
        QCOMPARE(cp->version(), uint64_t(3));
        QCOMPARE(history->rowCount(), 2);
        QVERIFY(QTest::qWaitFor([&] { return ackedEverything(*cp, "gui-editor", 3); }, 10000));
        r = client.call(100);
        QVERIFY2(r.errors == 0, qPrintable(r.line));
        QCOMPARE(r.count("A"), 100);

        client.stop();
        controller.stop();
    }
};

QTEST_MAIN(TestRouting)
#include "tst_routing.moc"

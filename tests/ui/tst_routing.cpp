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
//
// A route change on the timeline: with history kept and the window following the
// routing controller (as the dashboard wires it), the client's calls at 100/0 and then
// at 20/80 reach the graph; the apply made in the editor is a marker on the timeline
// strip naming the version and the weight change, and a click on its flag diffs the
// minutes before against the ones after: the edge to echo-a changed (fewer requests per
// second), the one to echo-b added, drawn so on the canvas and listed in Changes.

#include "canvas/canvastheme.h"
#include "canvas/graphcanvas.h"
#include "common/graphsamplemesh.h"
#include "common/xdsecho.h"
#include "darktheme.h"
#include "graph/graphaggregator.h"
#include "graph/graphdiff.h"
#include "graph/graphhistory.h"
#include "mainwindow.h"
#include "model/observation.h"
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
#include "timeline/graphdiffpanel.h"
#include "timeline/timelinestrip.h"

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

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

using namespace meshscope;
using meshscope::test::ackedEverything;
using meshscope::test::CallResult;
using meshscope::test::describeClient;
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
    int64_t m_lastIngestMs = 0;  // when callAndIngest last fed the aggregator

    // The window as main.cpp builds it with a route editor, showing the Routes tab; with
    // an aggregator keeping history (config.keepHistory), it has the timeline strip.
    RouteEditor *openWindow(const AggregatorConfig &config = {})
    {
        m_aggregator = std::make_unique<GraphAggregator>(config);
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

    // The operator opens the echo route's rule and sets its two backends to weightA and
    // weightB: A's by typing into its spin box, B's with its slider.
    static void editWeights(RouteEditor *editor, int weightA, int weightB)
    {
        QVERIFY(editor->selectRule(0, 0));
        BackendWeightsEditor *be = editor->ruleEditor()->backendsEditor();
        QCOMPARE(be->count(), 2);
        QCOMPARE(be->nameBox(0)->currentText(), QStringLiteral("echo-a"));
        QSpinBox *spinA = be->weightSpin(0);
        spinA->setFocus();
        spinA->selectAll();
        QTest::keyClicks(spinA, QString::number(weightA));
        QCOMPARE(spinA->value(), weightA);
        QCOMPARE(be->slider(0)->value(), weightA);
        QSlider *sliderB = be->slider(1);
        sliderB->setFocus();
        sliderB->setValue(weightB);
        QCOMPARE(be->weightSpin(1)->value(), weightB);
    }

    // One batch of `n` calls, ingested when it returns. Without a mesh around them the
    // calls' own results stand in for the access logs the backends would send: each
    // answered call is one gRPC request from echo/echo-client to the backend that
    // answered, named as the route's backends. The window gets the aggregator's
    // snapshot afterwards, as the dashboard's publisher would hand it over.
    CallResult callAndIngest(XdsClientProcess &client, int n)
    {
        const CallResult r = client.call(n);
        const int64_t now = GraphAggregator::wallNowMs();
        std::vector<ObservedRequest> batch;
        for (const auto &[backend, service] : {std::pair {"A", "echo-a"}, std::pair {"B", "echo-b"}}) {
            for (int i = 0; i < r.count(backend); ++i) {
                ObservedRequest call;
                call.source.ns = "echo";
                call.source.name = "echo-client";
                call.target.ns = "default";
                call.target.name = service;
                call.event.protocol = Protocol::Grpc;
                call.event.grpcStatus = 0;
                call.event.timeMs = now;
                call.event.durationMs = 1;
                batch.push_back(std::move(call));
            }
        }
        m_aggregator->ingestRequests(std::move(batch), now, "als");
        m_lastIngestMs = now;
        m_window->applySnapshot(m_aggregator->snapshot(now));
        return r;
    }

    // A steady client: a batch of calls every ~200 ms until the wall clock reaches
    // untilMs, whatever the machine's load does to each batch. The counts and errors of
    // all the batches.
    CallResult callSteadily(XdsClientProcess &client, int64_t untilMs)
    {
        CallResult total;
        total.errors = 0;
        for (;;) {
            const CallResult r = callAndIngest(client, 10);
            if (r.errors != 0) {
                total.errors += std::max(1, r.errors);
                total.line = r.line;
            }
            for (auto it = r.counts.cbegin(); it != r.counts.cend(); ++it)
                total.counts[it.key()] += it.value();
            if (GraphAggregator::wallNowMs() >= untilMs)
                return total;
            QTest::qWait(200);
        }
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
        editWeights(editor, 20, 80);
        if (QTest::currentTestFailed())
            return;
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

    void routeApplyFromTheEditorIsDiffedOnTheTimeline()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString routeFile = dir.filePath(QStringLiteral("echo.yaml"));
        {
            QFile f(routeFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(echoRouteYaml(m_a.port(), m_b.port(), 100, 0).toUtf8());
        }
        AggregatorConfig config;
        config.keepHistory = true;
        config.windowSeconds = 30;
        RouteEditor *editor = openWindow(config);
        TimelineStrip *strip = m_window->timeline();
        QVERIFY(strip);
        RoutingController controller(
            editor, QStringLiteral("127.0.0.1:0"), routeFile, dir.filePath(QStringLiteral("history")));
        m_window->followRouting(&controller);  // as app/gui/main.cpp wires the dashboard
        QString error;
        QVERIFY2(controller.start(&error), qPrintable(error));
        routing::XdsControlPlane *cp = controller.controlPlane();
        QVERIFY(cp);

        // A few seconds of calls at 100/0: all to A.
        XdsClientProcess client;
        QVERIFY(client.start(cp->port(), QStringLiteral("gui-timeline")));
        const CallResult before = callSteadily(client, GraphAggregator::wallNowMs() + 3000);
        QVERIFY2(before.errors == 0, qPrintable(before.line));
        QVERIFY(before.count("A") > 0);
        QCOMPARE(before.count("B"), 0);
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*cp, "gui-timeline", 1); }, 10000),
            describeClient(*cp, "gui-timeline").constData());
        QVERIFY(strip->markers().empty());

        // 20/80, applied in the editor through the review.
        editWeights(editor, 20, 80);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(editor->applyButton()->isVisible() && editor->applyButton()->isEnabled());
        QTest::mouseClick(editor->applyButton(), Qt::LeftButton);
        QVERIFY(editor->reviewDialog());
        QTest::mouseClick(editor->reviewDialog()->applyButton(), Qt::LeftButton);
        QCOMPARE(cp->version(), uint64_t(2));

        // One flag on the strip, saying which version and what changed.
        std::vector<TimelineStrip::Marker> applies;
        std::copy_if(strip->markers().begin(), strip->markers().end(), std::back_inserter(applies),
            [](const TimelineStrip::Marker &m) { return m.kind == TimelineStrip::Marker::Kind::RouteApply; });
        QCOMPARE(applies.size(), size_t(1));
        const TimelineStrip::Marker marker = applies.front();
        QVERIFY2(marker.text.contains(QStringLiteral("Routes version 2 applied to xds 127.0.0.1:")),
            qPrintable(marker.text));
        QVERIFY2(marker.text.contains(QStringLiteral("weight: 20")), qPrintable(marker.text));
        QVERIFY2(marker.text.contains(QStringLiteral("weight: 80")), qPrintable(marker.text));

        // The client takes version 2; calls at 20/80 until the "after" of the change
        // (from a moment after it, MainWindow::kSettleAfterChangeMs) holds a few seconds.
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*cp, "gui-timeline", 2); }, 10000),
            describeClient(*cp, "gui-timeline").constData());
        callAndIngest(client, 20);  // lets B's subchannel connect; its calls count like the others
        const CallResult after = callSteadily(client, marker.ms + MainWindow::kSettleAfterChangeMs + 3000);
        // The history keeps only seconds with traffic: the last batch's is the one to wait for.
        const int64_t lastCallMs = m_lastIngestMs;
        QVERIFY2(after.errors == 0, qPrintable(after.line));
        QVERIFY2(after.count("B") > after.count("A"), qPrintable(after.line));
        qInfo("before the change A=%d B=%d; after it A=%d B=%d", before.count("A"), before.count("B"), after.count("A"),
            after.count("B"));
        // The history takes a second once it is two seconds old (late requests may still
        // come for it), and the diff compares only what it holds: wait until it has the
        // calls' last second and the moment after.
        QVERIFY(QTest::qWaitFor(
            [&] {
                const int64_t now = GraphAggregator::wallNowMs();
                m_window->applySnapshot(m_aggregator->snapshot(now));
                return now >= lastCallMs + 2500 && m_aggregator->history()->lastSecond() >= lastCallMs / 1000;
            },
            15000));

        // One click on the flag: the minutes before the change against the ones after.
        // "Before" starts no earlier than the history does, so its rates are per second
        // of traffic, comparable with the ones after.
        strip->refresh(GraphAggregator::wallNowMs());  // the axis moves with the clock
        const QPoint flag(strip->xAtMs(marker.ms), 6);
        QVERIFY(strip->routeFlagAt(flag));
        QTest::mouseClick(strip, Qt::LeftButton, {}, flag);
        QTRY_VERIFY_WITH_TIMEOUT(m_window->isDiffShown(), 10000);
        const std::shared_ptr<const GraphDiff> diff = m_window->shownDiff();
        QVERIFY(diff);
        const QString toA = QStringLiteral("echo/echo-client->default/echo-a");
        const QString toB = QStringLiteral("echo/echo-client->default/echo-b");
        auto edgeDiff = [&diff](const QString &id) -> const EdgeDiff * {
            for (const EdgeDiff &d : diff->edges) {
                if (d.edge().id == id.toStdString())
                    return &d;
            }
            return nullptr;
        };
        const EdgeDiff *a = edgeDiff(toA);
        QVERIFY(a && a->before && a->after);
        QCOMPARE(a->change, DiffChange::Changed);
        QVERIFY(a->moved & kDiffRps);
        QVERIFY2(a->before->stats.rps > a->after->stats.rps,
            qPrintable(
                QStringLiteral("A: %1 rps before, %2 after").arg(a->before->stats.rps).arg(a->after->stats.rps)));
        const EdgeDiff *b = edgeDiff(toB);
        QVERIFY(b && b->after);
        // Added, unless a few of B's calls came before the change.
        QVERIFY2(b->change == DiffChange::Added || b->change == DiffChange::Changed, diffChangeName(b->change));
        // Drawn on the canvas: A's edge as changed, B's as added (or changed).
        using Mark = GraphCanvas::DiffMark::Kind;
        GraphCanvas *canvas = m_window->canvas();
        QVERIFY(canvas->diffOverlayIds(Mark::Changed).contains(toA));
        QVERIFY(canvas->diffOverlayIds(b->change == DiffChange::Added ? Mark::Added : Mark::Changed).contains(toB));
        // And listed in the Changes panel.
        GraphDiffPanel *panel = m_window->diffPanel();
        QVERIFY(panel);
        QStringList listed;
        for (int row = 0; row < panel->rowCount(); ++row)
            listed << panel->idAt(row);
        QVERIFY2(listed.contains(toA) && listed.contains(toB), qPrintable(listed.join(QStringLiteral(", "))));

        client.stop();
        controller.stop();
    }
};

QTEST_MAIN(TestRouting)
#include "tst_routing.moc"

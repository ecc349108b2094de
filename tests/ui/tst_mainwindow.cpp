// The dashboard window fed known snapshots: clicking nodes and edges on the canvas
// fills the inspect panel with their numbers, find jumps, filters hide what they
// should, live requests arrive and pause, status and settings behave.

#include "canvas/graphcanvas.h"
#include "common/spanfactory.h"
#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/models/statuscodesmodel.h"
#include "inspect/requestspanel.h"
#include "inspect/timeserieschart.h"
#include "mainwindow.h"
#include "noticebar.h"
#include "sources/models/peerstablemodel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QCoreApplication>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

#include <memory>

using namespace meshscope;

namespace {

const QString kGateway = QStringLiteral("istio-system/istio-ingressgateway");
const QString kFrontend = QStringLiteral("shop/frontend");
const QString kBackend = QStringLiteral("shop/backend");
const QString kPayments = QStringLiteral("billing/payments");
const QString kFrontendToBackend = QStringLiteral("shop/frontend->shop/backend");
const QString kFrontendToPayments = QStringLiteral("shop/frontend->billing/payments");

// Builds the spans of `count` requests: external -> gateway -> frontend -> backend
// (every fifth answered 503) and frontend -> payments (all fine), as an
// instrumented mesh would report them.
class MeshTraffic {
public:
    std::vector<Span> requests(int count)
    {
        std::vector<Span> out;
        for (int i = 0; i < count; ++i) {
            const TraceId trace = m_spans.nextTrace();
            const uint64_t start = uint64_t(GraphAggregator::wallNowMs()) * 1000000ull;
            auto call = [start](const char *service, const char *ns, int ms, int status, const char *path = "") {
                return test::SpanFactory::Call {service, ns, "", start, ms, status, path};
            };
            const Span gw = m_spans.add(out, trace, 0, SpanKind::Server,
                call("istio-ingressgateway", "istio-system", 20, 200, "/api/items?token=abc"));
            const Span gwc = m_spans.add(
                out, trace, gw.spanId, SpanKind::Client, call("istio-ingressgateway", "istio-system", 19, 200));
            const Span fe = m_spans.add(
                out, trace, gwc.spanId, SpanKind::Server, call("frontend", "shop", 18, 200, "/api/items"));
            const int backendStatus = i % 5 == 0 ? 503 : 200;
            const Span fec
                = m_spans.add(out, trace, fe.spanId, SpanKind::Client, call("frontend", "shop", 10, backendStatus));
            m_spans.add(out, trace, fec.spanId, SpanKind::Server, call("backend", "shop", 9, backendStatus, "/items"));
            const Span fpc = m_spans.add(out, trace, fe.spanId, SpanKind::Client, call("frontend", "shop", 5, 200));
            m_spans.add(out, trace, fpc.spanId, SpanKind::Server, call("payments", "billing", 4, 200, "/charge"));
        }
        return out;
    }

private:
    test::SpanFactory m_spans {0x42};
};

}  // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void clickNodeShowsItsNumbers();
    void clickEdgeShowsItsNumbers();
    void findJumpsToNode();
    void filtersHideWhatTheyShould();
    void edgeLabelAndAnimationReachTheCanvas();
    void requestsArriveAndPause();
    void statusBarShowsCountersAndErrors();
    void exportWritesFiles();
    void settingsPersistPerWorkspace();

private:
    void feed(int requests);
    GraphSnapshotPtr snapshotNow();

    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<MainWindow> m_window;
    MeshTraffic m_traffic;
};

void TestMainWindow::initTestCase()
{
    // Settings go to a throwaway location, never the user's.
    QStandardPaths::setTestModeEnabled(true);
}

void TestMainWindow::init()
{
    // Started a minute ago, so rates are per second of a full window.
    m_aggregator = std::make_unique<GraphAggregator>(AggregatorConfig {}, GraphAggregator::wallNowMs() - 60000);
    m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
    m_window->setPersistenceEnabled(false);
    m_window->resize(1400, 900);
    feed(40);
    m_window->applySnapshot(snapshotNow());
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_VERIFY(!m_window->canvas()->nodeWidgetPosition(kFrontend).isNull());
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_aggregator.reset();
}

void TestMainWindow::feed(int requests)
{
    m_aggregator->ingestSpans(m_traffic.requests(requests), GraphAggregator::wallNowMs());
}

GraphSnapshotPtr TestMainWindow::snapshotNow() { return m_aggregator->snapshot(GraphAggregator::wallNowMs()); }

void TestMainWindow::clickNodeShowsItsNumbers()
{
    GraphCanvas *canvas = m_window->canvas();
    InspectPanel *panel = m_window->inspectPanel();
    QCOMPARE(panel->title(), QString());  // nothing selected yet

    const QPointF pos = canvas->nodeWidgetPosition(kFrontend);
    QTest::mouseClick(canvas, Qt::LeftButton, {}, pos.toPoint());
    QTRY_COMPARE(panel->currentNode(), kFrontend);
    QCOMPARE(panel->title(), QStringLiteral("frontend"));
    QVERIFY(panel->subtitle().contains(QLatin1String("shop")));

    const NodeSnapshot *n = m_window->snapshot()->node(kFrontend.toStdString());
    QVERIFY(n);
    QVERIFY(n->stats.requests > 0);
    QCOMPARE(panel->metricText(InspectPanel::Metric::Rps), display::rps(n->stats.rps));
    QCOMPARE(panel->metricText(InspectPanel::Metric::ErrorRate), display::percent(n->stats.errorRate));
    QCOMPARE(panel->metricText(InspectPanel::Metric::P95), display::millis(n->stats.p95Ms));
    QCOMPARE(panel->metricText(InspectPanel::Metric::P99), display::millis(n->stats.p99Ms));

    // The gateway calls it; it calls backend and payments.
    QAbstractItemModelTester inTester(panel->inboundProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester outTester(panel->outboundProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(panel->inboundModel()->rowCount(), 1);
    QCOMPARE(panel->inboundModel()->peers().first().id, kGateway);
    QCOMPARE(panel->outboundModel()->rowCount(), 2);
    QStringList outIds;
    for (const auto &p : panel->outboundModel()->peers())
        outIds << p.id;
    outIds.sort();
    QCOMPARE(outIds, QStringList({kPayments, kBackend}));

    // Series come from the aggregator, one point per completed second from where data
    // starts: all of it came this second, still filling, so at most one point, and no
    // zeros for the time before (more in tst_inspectcharts).
    QCOMPARE(panel->requestsChart()->seriesCount(), 1);
    QCOMPARE(panel->errorsChart()->seriesCount(), 2);
    QCOMPARE(panel->latencyChart()->seriesCount(), 3);
    QVERIFY(panel->requestsChart()->points(0).size() <= 1);
    for (const QPointF &p : panel->requestsChart()->points(0))
        QVERIFY(p.x() <= 0 && p.x() >= -60 && p.y() > 0);

    // The requests dock follows the selection.
    QTRY_VERIFY(m_window->requestsPanel()->model()->rowCount() > 0);
    auto *model = m_window->requestsPanel()->model();
    for (int r = 0; r < model->rowCount(); ++r) {
        const QString from = model->index(r, RequestsTableModel::From).data(Qt::ToolTipRole).toString();
        const QString to = model->index(r, RequestsTableModel::To).data(Qt::ToolTipRole).toString();
        QVERIFY2(from == kFrontend || to == kFrontend, qPrintable(from + QStringLiteral(" -> ") + to));
    }

    // Clicking empty canvas clears the selection.
    QTest::mouseClick(canvas, Qt::LeftButton, {}, QPoint(3, canvas->height() - 3));
    QTRY_COMPARE(panel->currentNode(), QString());
    QCOMPARE(panel->title(), QString());
}

void TestMainWindow::clickEdgeShowsItsNumbers()
{
    GraphCanvas *canvas = m_window->canvas();
    InspectPanel *panel = m_window->inspectPanel();
    const QPointF pos = canvas->edgeWidgetPosition(kFrontendToBackend);
    QVERIFY(!pos.isNull());
    QTest::mouseClick(canvas, Qt::LeftButton, {}, pos.toPoint());
    QTRY_COMPARE(panel->currentEdge(), kFrontendToBackend);
    QVERIFY2(panel->title().contains(QLatin1String("frontend")) && panel->title().contains(QLatin1String("backend")),
        qPrintable(panel->title()));
    QVERIFY(panel->subtitle().contains(QLatin1String("east-west")));

    const EdgeSnapshot *e = m_window->snapshot()->edge(kFrontendToBackend.toStdString());
    QVERIFY(e);
    QCOMPARE(panel->metricText(InspectPanel::Metric::Rps), display::rps(e->stats.rps));
    QCOMPARE(panel->metricText(InspectPanel::Metric::ErrorRate), display::percent(e->stats.errorRate));
    QCOMPARE(panel->metricText(InspectPanel::Metric::ErrorRate), QStringLiteral("20.0 %"));

    // Tables: the two endpoints; status codes with the 503s.
    QCOMPARE(panel->inboundModel()->rowCount(), 1);
    QCOMPARE(panel->inboundModel()->peers().first().id, kFrontend);
    QCOMPARE(panel->outboundModel()->rowCount(), 1);
    QCOMPARE(panel->outboundModel()->peers().first().id, kBackend);
    StatusCodesModel *codes = panel->statusCodesModel();
    QAbstractItemModelTester codesTester(codes, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QStringList labels;
    for (int r = 0; r < codes->rowCount(); ++r)
        labels << codes->index(r, StatusCodesModel::Code).data().toString();
    QCOMPARE(labels, QStringList({QStringLiteral("200 OK"), QStringLiteral("503 Service Unavailable")}));
    QCOMPARE(codes->index(1, StatusCodesModel::Count).data().toString(), QStringLiteral("8"));

    // Requests for just this edge.
    auto *model = m_window->requestsPanel()->model();
    QTRY_COMPARE(model->rowCount(), 40);
    for (int r = 0; r < model->rowCount(); ++r)
        QCOMPARE(model->index(r, RequestsTableModel::To).data(Qt::ToolTipRole).toString(), kBackend);
}

void TestMainWindow::findJumpsToNode()
{
    QLineEdit *find = m_window->findField();
    QVERIFY(!find->isVisible());
    QTest::keyClick(m_window.get(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(find->isVisible());
    QTRY_VERIFY(find->hasFocus());
    QTest::keyClicks(find, QStringLiteral("paym"));
    QTest::keyClick(find, Qt::Key_Return);
    QCOMPARE(m_window->canvas()->selectedNode(), kPayments);
    QTRY_COMPARE(m_window->inspectPanel()->title(), QStringLiteral("payments"));

    // No match: nothing changes, the field says so.
    find->clear();
    QTest::keyClicks(find, QStringLiteral("no-such-service"));
    QTest::keyClick(find, Qt::Key_Return);
    QCOMPARE(m_window->inspectPanel()->currentNode(), kPayments);
    QVERIFY(!find->styleSheet().isEmpty());

    QTest::keyClick(find, Qt::Key_Escape);
    QTRY_VERIFY(!find->isVisible());
}

void TestMainWindow::filtersHideWhatTheyShould()
{
    GraphCanvas *canvas = m_window->canvas();
    for (const QString &id : {kGateway, kFrontend, kBackend, kPayments, QStringLiteral("external")})
        QVERIFY2(canvas->isNodeVisible(id), qPrintable(id));

    m_window->errorsOnlyAction()->trigger();
    QVERIFY(canvas->filter().errorsOnly);
    QVERIFY(canvas->isEdgeVisible(kFrontendToBackend));
    QVERIFY(canvas->isNodeVisible(kBackend));
    QVERIFY(!canvas->isEdgeVisible(kFrontendToPayments));
    QVERIFY(!canvas->isNodeVisible(kPayments));
    m_window->errorsOnlyAction()->trigger();
    QVERIFY(canvas->isNodeVisible(kPayments));

    m_window->northSouthOnlyAction()->trigger();
    QVERIFY(!canvas->isEdgeVisible(kFrontendToBackend));
    QVERIFY(!canvas->isNodeVisible(kBackend));
    QVERIFY(canvas->isNodeVisible(QStringLiteral("external")));
    // East-west only excludes north-south only.
    m_window->eastWestOnlyAction()->trigger();
    QVERIFY(!m_window->northSouthOnlyAction()->isChecked());
    QVERIFY(canvas->isEdgeVisible(kFrontendToBackend));
    QVERIFY(!canvas->isNodeVisible(QStringLiteral("external")));
    m_window->eastWestOnlyAction()->trigger();
    QVERIFY(!m_window->eastWestOnlyAction()->isChecked());
    QVERIFY(canvas->isNodeVisible(QStringLiteral("external")));

    QComboBox *ns = m_window->namespaceCombo();
    QStringList names;
    for (int i = 0; i < ns->count(); ++i)
        names << ns->itemData(i).toString();
    QCOMPARE(names,
        QStringList({QString(), QStringLiteral("billing"), QStringLiteral("istio-system"), QStringLiteral("shop")}));
    ns->setCurrentIndex(ns->findData(QStringLiteral("billing")));
    QCOMPARE(canvas->filter().ns, QStringLiteral("billing"));
    QVERIFY(canvas->isNodeVisible(kPayments));
    QVERIFY(!canvas->isNodeVisible(kBackend));
    ns->setCurrentIndex(0);
    QVERIFY(canvas->isNodeVisible(kBackend));
}

void TestMainWindow::edgeLabelAndAnimationReachTheCanvas()
{
    QComboBox *labels = m_window->edgeLabelCombo();
    QCOMPARE(m_window->canvas()->edgeLabel(), GraphCanvas::EdgeLabel::Rps);
    labels->setCurrentIndex(labels->findData(int(GraphCanvas::EdgeLabel::P95)));
    QCOMPARE(m_window->canvas()->edgeLabel(), GraphCanvas::EdgeLabel::P95);
    labels->setCurrentIndex(labels->findData(int(GraphCanvas::EdgeLabel::None)));
    QCOMPARE(m_window->canvas()->edgeLabel(), GraphCanvas::EdgeLabel::None);

    const bool on = m_window->animationAction()->isChecked();
    m_window->animationAction()->trigger();
    QCOMPARE(m_window->canvas()->animationEnabled(), !on);
}

void TestMainWindow::requestsArriveAndPause()
{
    RequestsPanel *requests = m_window->requestsPanel();
    QAbstractItemModelTester tester(requests->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(requests->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    // Everything: 40 traces of 4 requests (external->gw, gw->fe, fe->be, fe->payments).
    QTRY_COMPARE(requests->model()->rowCount(), 160);
    // No query string with a token reaches the table.
    for (int r = 0; r < requests->model()->rowCount(); ++r)
        QVERIFY(
            !requests->model()->index(r, RequestsTableModel::Path).data().toString().contains(QLatin1String("abc")));

    feed(5);
    QTRY_COMPARE(requests->model()->rowCount(), 180);  // the ~4 Hz poll picks them up

    QTest::mouseClick(requests->pauseButton(), Qt::LeftButton);
    QVERIFY(requests->isPaused());
    feed(5);
    QTest::qWait(700);
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 180);

    QTest::mouseClick(requests->pauseButton(), Qt::LeftButton);
    QVERIFY(!requests->isPaused());
    QTRY_COMPARE(requests->model()->rowCount(), 200);  // resuming catches up

    // The text filter narrows the rows through the proxy.
    QTest::keyClicks(requests->filterEdit(), QStringLiteral("payments"));
    QCOMPARE(requests->proxy()->rowCount(), 50);
    requests->filterEdit()->clear();
    QCOMPARE(requests->proxy()->rowCount(), 200);
}

void TestMainWindow::statusBarShowsCountersAndErrors()
{
    QTRY_VERIFY(m_window->statusText().contains(QLatin1String("spans/s")));
    QVERIFY(m_window->statusText().contains(QLatin1String("0 rejected")));
    QVERIFY(m_window->statusText().contains(QStringLiteral("5 nodes · 4 edges")));

    m_aggregator->countExport(10, 3, {{"span without trace id", 3}});
    m_aggregator->countMalformed("malformed protobuf");
    m_window->applySnapshot(snapshotNow());
    QTRY_VERIFY(m_window->statusText().contains(QLatin1String("4 rejected")));
    auto *rejected = m_window->findChild<QWidget *>(QStringLiteral("statusRejected"));
    QVERIFY(rejected);
    QVERIFY(rejected->toolTip().contains(QLatin1String("span without trace id: 3")));
    QVERIFY(rejected->toolTip().contains(QLatin1String("malformed protobuf: 1")));

    m_window->setListenDescription(QStringLiteral("OTLP 127.0.0.1:4317"));
    QVERIFY(m_window->statusText().contains(QLatin1String("OTLP 127.0.0.1:4317")));
    QVERIFY(!m_window->noticeBar()->isVisible());
    m_window->reportSourceError(QStringLiteral("cannot listen for OTLP on 127.0.0.1:4317: address in use"));
    QVERIFY(m_window->statusText().contains(QLatin1String("address in use")));
    QVERIFY(m_window->noticeBar()->isVisible());
    QVERIFY(m_window->noticeBar()->text().contains(QLatin1String("address in use")));

    QVERIFY(!m_window->statusText().contains(QLatin1String("Demo mesh")));
    m_window->setDemoMode(true);
    QVERIFY(m_window->statusText().contains(QLatin1String("Demo mesh")));
}

void TestMainWindow::exportWritesFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    const QString json = dir.filePath(QStringLiteral("g.json"));
    QVERIFY2(m_window->exportGraph(MainWindow::ExportFormat::Json, json, &error), qPrintable(error));
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject doc = QJsonDocument::fromJson(f.readAll()).object();
    QCOMPARE(doc.value(QStringLiteral("nodes")).toArray().size(), 5);
    QCOMPARE(doc.value(QStringLiteral("edges")).toArray().size(), 4);

    const QString dot = dir.filePath(QStringLiteral("g.dot"));
    QVERIFY2(m_window->exportGraph(MainWindow::ExportFormat::Dot, dot, &error), qPrintable(error));
    QFile d(dot);
    QVERIFY(d.open(QIODevice::ReadOnly));
    QVERIFY(d.readAll().contains("digraph"));

    const QString png = dir.filePath(QStringLiteral("g.png"));
    QVERIFY2(m_window->exportGraph(MainWindow::ExportFormat::Png, png, &error), qPrintable(error));
    QVERIFY(!QImage(png).isNull());
    const QString svg = dir.filePath(QStringLiteral("g.svg"));
    QVERIFY2(m_window->exportGraph(MainWindow::ExportFormat::Svg, svg, &error), qPrintable(error));
    QVERIFY(QFileInfo(svg).size() > 100);

    QVERIFY(!m_window->exportGraph(
        MainWindow::ExportFormat::Json, dir.filePath(QStringLiteral("missing/dir/g.json")), &error));
    QVERIFY(!error.isEmpty());
}

void TestMainWindow::settingsPersistPerWorkspace()
{
    const QString workspace = QStringLiteral("tst-%1").arg(QCoreApplication::applicationPid());
    {
        MainWindow w(m_aggregator.get(), workspace);
        w.applySnapshot(snapshotNow());
        w.errorsOnlyAction()->trigger();
        w.northSouthOnlyAction()->trigger();
        w.edgeLabelCombo()->setCurrentIndex(w.edgeLabelCombo()->findData(int(GraphCanvas::EdgeLabel::ErrorRate)));
        w.namespaceCombo()->setCurrentIndex(w.namespaceCombo()->findData(QStringLiteral("shop")));
        w.canvas()->setPinnedPositions({{kFrontend, QPointF(12, 34)}});
        w.resize(1111, 777);
        w.saveSettings();
    }
    {
        MainWindow w(m_aggregator.get(), workspace);
        w.restoreSettings();
        QVERIFY(w.errorsOnlyAction()->isChecked());
        QVERIFY(w.northSouthOnlyAction()->isChecked());
        QCOMPARE(w.canvas()->filter().errorsOnly, true);
        QCOMPARE(w.canvas()->filter().eastWest, false);
        QCOMPARE(w.canvas()->filter().ns, QStringLiteral("shop"));
        QCOMPARE(w.namespaceCombo()->currentData().toString(), QStringLiteral("shop"));
        QCOMPARE(w.canvas()->edgeLabel(), GraphCanvas::EdgeLabel::ErrorRate);
        QCOMPARE(w.canvas()->pinnedPositions().value(kFrontend), QPointF(12, 34));
        QCOMPARE(w.size(), QSize(1111, 777));
    }
    {
        // Another workspace starts from the defaults.
        MainWindow w(m_aggregator.get(), workspace + QStringLiteral("-other"));
        w.restoreSettings();
        QVERIFY(!w.errorsOnlyAction()->isChecked());
        QVERIFY(w.canvas()->pinnedPositions().isEmpty());
    }
    QSettings s(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
    QVERIFY(s.childGroups().contains(QStringLiteral("workspaces")));
    s.remove(QStringLiteral("workspaces/") + workspace);
    s.remove(QStringLiteral("workspaces/") + workspace + QStringLiteral("-other"));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"

// Traces from the dashboard: every span a source delivers is kept in the trace store
// in front of the aggregator; a request row opens its trace (double-click, Enter or
// "Show trace"), Traces > Open trace by ID opens one by id, and an id the store does
// not hold, or text that is no id, says why instead of opening an empty window.
#include "canvas/graphcanvas.h"
#include "common/spanfactory.h"
#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"
#include "mainwindow.h"
#include "noticebar.h"
#include "traces/criticalpath.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"
#include "traces/traceview.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QMenuBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTest>

#include <memory>

using namespace meshscope;

namespace {

// frontend -> checkout -> (payments, slow and failing | inventory, fast) as client and
// server spans of one trace, starting at startMs. Returns the trace id.
TraceId addCheckout(std::vector<Span> &out, test::SpanFactory &spans, int64_t startMs)
{
    using Call = test::SpanFactory::Call;
    const TraceId trace = spans.nextTrace();
    const uint64_t t0 = uint64_t(startMs) * 1000000ull;
    const uint64_t ms = 1000000ull;
    const Span root = spans.add(out, trace, 0, SpanKind::Server, Call {"frontend", "shop", "", t0, 60, 200, "/buy"});
    const Span call
        = spans.add(out, trace, root.spanId, SpanKind::Client, Call {"frontend", "shop", "", t0 + ms, 55, 200, "/pay"});
    const Span checkout = spans.add(
        out, trace, call.spanId, SpanKind::Server, Call {"checkout", "shop", "", t0 + 2 * ms, 52, 200, "/pay"});
    const Span pay = spans.add(
        out, trace, checkout.spanId, SpanKind::Client, Call {"checkout", "shop", "", t0 + 3 * ms, 40, 503, "/charge"});
    spans.add(out, trace, pay.spanId, SpanKind::Server, Call {"payments", "shop", "", t0 + 4 * ms, 38, 503, "/charge"});
    const Span stock = spans.add(
        out, trace, checkout.spanId, SpanKind::Client, Call {"checkout", "shop", "", t0 + 3 * ms, 8, 200, "/stock"});
    spans.add(
        out, trace, stock.spanId, SpanKind::Server, Call {"inventory", "shop", "", t0 + 4 * ms, 6, 200, "/stock"});
    return trace;
}

}  // namespace

class TestTraceWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void requestRowOpensItsTrace();
    void openByIdAndReasonsWhenNot();
    void inspectTracesTabListsTracesThroughTheSelection();

private:
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<TraceStore> m_store;
    std::unique_ptr<TraceStoreSink> m_sink;
    std::unique_ptr<MainWindow> m_window;
    test::SpanFactory m_spans {0x7a};
};

void TestTraceWindow::initTestCase() { QStandardPaths::setTestModeEnabled(true); }

void TestTraceWindow::init()
{
    m_aggregator = std::make_unique<GraphAggregator>(AggregatorConfig {}, GraphAggregator::wallNowMs() - 60000);
    m_store = std::make_unique<TraceStore>();
    m_sink = std::make_unique<TraceStoreSink>(*m_store, *m_aggregator);
    m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
    m_window->setPersistenceEnabled(false);
    m_window->setTraceStore(m_store.get());
    m_window->resize(1280, 800);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestTraceWindow::cleanup()
{
    m_window.reset();
    m_sink.reset();
    m_store.reset();
    m_aggregator.reset();
}

void TestTraceWindow::requestRowOpensItsTrace()
{
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    const TraceId first = addCheckout(spans, m_spans, now - 3000);
    const TraceId second = addCheckout(spans, m_spans, now - 2000);
    m_sink->ingestSpans(std::move(spans), now);
    QCOMPARE(m_store->counters().spans, uint64_t(14));

    m_window->applySnapshot(m_aggregator->snapshot(now));
    GraphCanvas *canvas = m_window->canvas();
    QTRY_VERIFY(canvas->hasEdge(QStringLiteral("shop/checkout->shop/payments")));
    RequestsPanel *requests = m_window->requestsPanel();
    requests->pollNow();
    QVERIFY(requests->model()->rowCount() >= 4);
    // The row of the second trace's checkout -> payments request.
    const QString wanted = QString::fromStdString(traceIdHex(second));
    int row = -1;
    for (int r = 0; r < requests->proxy()->rowCount(); ++r) {
        const QModelIndex id = requests->proxy()->index(r, RequestsTableModel::TraceId);
        if (id.data().toString() == wanted
            && requests->proxy()
                   ->index(r, RequestsTableModel::To)
                   .data()
                   .toString()
                   .contains(QStringLiteral("payments")))
            row = r;
    }
    QVERIFY2(row >= 0, "no request row of the second trace");
    QSignalSpy asked(requests, &RequestsPanel::traceRequested);
    const QModelIndex cell = requests->proxy()->index(row, 0);
    requests->view()->setCurrentIndex(cell);
    QVERIFY(requests->showTraceAction()->isEnabled());
    Q_EMIT requests->view()->activated(cell);  // what a double-click or Enter does
    QCOMPARE(asked.count(), 1);
    QCOMPARE(asked.at(0).at(0).toString(), wanted);

    QTRY_VERIFY(m_window->findChild<TraceView *>() != nullptr);
    TraceView *view = m_window->findChild<TraceView *>();
    QAbstractItemModelTester tester(view->rowsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(view->property("traceId").toString(), wanted);
    QVERIFY(view->window()->isVisible());
    QVERIFY(view->window()->windowTitle().contains(QStringLiteral("frontend")));
    const TraceTree *tree = view->tree();
    QVERIFY(tree);
    QCOMPARE(int(tree->size()), 7);
    QCOMPARE(view->rowsModel()->rowCount(), 7);
    QCOMPARE(tree->errorCount, 2);  // the failing call, seen from both ends
    // The critical path runs through the slow, failing payment, not the fast stock call.
    bool viaPayments = false, viaInventory = false;
    for (uint32_t i : view->criticalPath().path) {
        viaPayments = viaPayments || tree->spans[i].service == "payments";
        viaInventory = viaInventory || tree->spans[i].service == "inventory";
    }
    QVERIFY(viaPayments);
    QVERIFY(!viaInventory);

    // Its path is drawn on the graph: every hop it took, the nodes it touched; the
    // window says so, and names nothing as missing (every call has its edge).
    QStringList edges = canvas->traceOverlayEdges();
    edges.sort();
    QCOMPARE(edges,
        QStringList({QStringLiteral("external->shop/frontend"), QStringLiteral("shop/checkout->shop/inventory"),
            QStringLiteral("shop/checkout->shop/payments"), QStringLiteral("shop/frontend->shop/checkout")}));
    QStringList nodes = canvas->traceOverlayNodes();
    nodes.sort();
    QCOMPARE(nodes,
        QStringList({QStringLiteral("external"), QStringLiteral("shop/checkout"), QStringLiteral("shop/frontend"),
            QStringLiteral("shop/inventory"), QStringLiteral("shop/payments")}));
    const QString note = view->window()->findChild<QLabel *>(QStringLiteral("traceGraphNote"))->text();
    QVERIFY2(note.contains(QStringLiteral("4 calls")) && !note.contains(QStringLiteral("Not on the graph")),
        qPrintable(note));

    // Asking again raises the same window; another trace gets its own.
    QVERIFY(m_window->openTrace(wanted) == view);
    QCOMPARE(m_window->findChildren<TraceView *>().size(), 1);
    TraceView *other = m_window->openTrace(QString::fromStdString(traceIdHex(first)));
    QVERIFY(other && other != view);
    QCOMPARE(m_window->findChildren<TraceView *>().size(), 2);
    // Looked at: the main window with the path drawn, at 1280x800.
    m_window->showTraceOnGraph(view);
    m_window->grab().save(QCoreApplication::applicationDirPath() + QStringLiteral("/tracewindow-graph.png"));
    view->window()->grab().save(QCoreApplication::applicationDirPath() + QStringLiteral("/tracewindow.png"));

    // The other trace was opened last, so the graph shows its path; closing both clears it.
    QVERIFY(m_window->showTraceOnGraph(view).contains(QStringLiteral("4 calls")));
    view->window()->close();
    other->window()->close();
    QTRY_VERIFY(canvas->traceOverlayEdges().isEmpty());
}

void TestTraceWindow::openByIdAndReasonsWhenNot()
{
    std::vector<Span> spans;
    const TraceId id = addCheckout(spans, m_spans, GraphAggregator::wallNowMs() - 1000);
    m_sink->ingestSpans(std::move(spans), GraphAggregator::wallNowMs());

    auto *byId = m_window->findChild<QAction *>(QStringLiteral("openTraceByIdAction"));
    QVERIFY(byId);
    QCOMPARE(byId->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_T));

    // Upper case and surrounding blanks, as pasted from elsewhere.
    const QString pasted = QStringLiteral("  %1 ").arg(QString::fromStdString(traceIdHex(id)).toUpper());
    TraceView *view = m_window->openTrace(pasted);
    QVERIFY(view);
    QCOMPARE(view->tree()->size(), size_t(7));
    view->window()->close();

    QVERIFY(!m_window->openTrace(QStringLiteral("not-a-trace")));
    QVERIFY2(m_window->noticeBar()->text().contains(QStringLiteral("is not a trace ID")),
        qPrintable(m_window->noticeBar()->text()));
    QVERIFY(!m_window->openTrace(QStringLiteral("0123456789abcdef0123456789abcdef")));
    QVERIFY2(m_window->noticeBar()->text().contains(QStringLiteral("No spans of trace 0123456789abcdef")),
        qPrintable(m_window->noticeBar()->text()));
    // Closing the window it opened is all that was left open: nothing came of the two refusals.
    QTRY_COMPARE(m_window->findChildren<TraceView *>().size(), 0);
}

void TestTraceWindow::inspectTracesTabListsTracesThroughTheSelection()
{
    // Three checkouts (the payment fails in each), and one trace that never reaches
    // payments, a minute earlier.
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    std::vector<TraceId> checkouts;
    for (int i = 0; i < 3; ++i)
        checkouts.push_back(addCheckout(spans, m_spans, now - 3000 + i * 500));
    const TraceId other = m_spans.nextTrace();
    m_spans.add(spans, other, 0, SpanKind::Server,
        test::SpanFactory::Call {"frontend", "shop", "", uint64_t(now - 60000) * 1000000ull, 400, 200, "/home"});
    m_sink->ingestSpans(std::move(spans), now);
    m_window->applySnapshot(m_aggregator->snapshot(now));

    InspectPanel *inspect = m_window->inspectPanel();
    QTableWidget *table = inspect->tracesTable();
    QVERIFY(table);
    auto idsShown = [table] {
        QStringList ids;
        for (int r = 0; r < table->rowCount(); ++r)
            ids << table->item(r, 0)->data(Qt::UserRole).toString();
        return ids;
    };
    auto hex = [](const TraceId &id) { return QString::fromStdString(traceIdHex(id)); };

    // A node: the traces with a span of its service, newest first.
    QCOMPARE(m_window->selectNode(QStringLiteral("shop/payments")), QStringLiteral("shop/payments"));
    inspect->refreshTraces();
    QCOMPARE(idsShown(), QStringList({hex(checkouts[2]), hex(checkouts[1]), hex(checkouts[0])}));
    QCOMPARE(table->item(0, 4)->text(), QStringLiteral("frontend: GET"));
    QCOMPARE(table->item(0, 3)->text(), QStringLiteral("2"));
    m_window->selectNode(QStringLiteral("shop/frontend"));
    inspect->refreshTraces();
    QCOMPARE(table->rowCount(), 4);
    // Slowest first: the 400 ms trace leads.
    inspect->tracesOrderBox()->setCurrentIndex(int(InspectPanel::TraceOrder::Slowest));
    QCOMPARE(table->item(0, 0)->data(Qt::UserRole).toString(), hex(other));
    // Failing: traces in which a span of this service failed. Frontend's never did;
    // payments' did in every checkout.
    inspect->tracesOrderBox()->setCurrentIndex(int(InspectPanel::TraceOrder::Failing));
    QCOMPARE(table->rowCount(), 0);
    QVERIFY(
        inspect->findChild<QLabel *>(QStringLiteral("tracesNote"))->text().contains(QStringLiteral("no kept trace")));
    m_window->selectNode(QStringLiteral("shop/payments"));
    inspect->refreshTraces();
    QCOMPARE(table->rowCount(), 3);
    QVERIFY(!idsShown().contains(hex(other)));

    // An edge: the caller's span with the callee's as its child.
    inspect->tracesOrderBox()->setCurrentIndex(int(InspectPanel::TraceOrder::Recent));
    QVERIFY(m_window->selectEdge(QStringLiteral("shop/checkout->shop/payments")));
    inspect->refreshTraces();
    QCOMPARE(table->rowCount(), 3);
    QVERIFY(m_window->selectEdge(QStringLiteral("shop/frontend->shop/checkout")));
    inspect->refreshTraces();
    QCOMPARE(table->rowCount(), 3);

    // Double-click opens the trace.
    QSignalSpy asked(inspect, &InspectPanel::traceRequested);
    Q_EMIT table->cellActivated(1, 2);
    QCOMPARE(asked.count(), 1);
    QCOMPARE(asked.at(0).at(0).toString(), hex(checkouts[1]));
    QTRY_VERIFY(m_window->findChild<TraceView *>() != nullptr);
    QCOMPARE(m_window->findChild<TraceView *>()->property("traceId").toString(), hex(checkouts[1]));
}

QTEST_MAIN(TestTraceWindow)
#include "tst_tracewindow.moc"

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
#include "traces/models/tracecomparemodel.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/models/tracesearchmodel.h"
#include "traces/tracecompareview.h"
#include "traces/tracesearchdialog.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"
#include "traces/traceview.h"
#include "traces/tracewindow.h"
#include <QTabBar>
#include <QTabWidget>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTest>

#include <memory>

using namespace meshscope;

namespace {

// Like test::addCheckout, but payments takes `paymentMs` and, with `fraudCheck`, checkout
// also asks a fraud service before paying.
TraceId addCheckoutVariant(
    std::vector<Span> &out, test::SpanFactory &spans, int64_t startMs, int paymentMs, bool fraudCheck)
{
    using Call = test::SpanFactory::Call;
    const TraceId trace = spans.nextTrace();
    const uint64_t t0 = uint64_t(startMs) * 1000000ull;
    const uint64_t ms = 1000000ull;
    const int total = paymentMs + 20;
    const Span root = spans.add(out, trace, 0, SpanKind::Server, Call {"frontend", "shop", "", t0, total, 200, "/buy"});
    const Span call = spans.add(
        out, trace, root.spanId, SpanKind::Client, Call {"frontend", "shop", "", t0 + ms, total - 5, 200, "/pay"});
    const Span checkout = spans.add(
        out, trace, call.spanId, SpanKind::Server, Call {"checkout", "shop", "", t0 + 2 * ms, total - 8, 200, "/pay"});
    if (fraudCheck) {
        const Span fraud = spans.add(out, trace, checkout.spanId, SpanKind::Client,
            Call {"checkout", "shop", "", t0 + 3 * ms, 4, 200, "/score"});
        out.back().peer = "fraud";  // server.address: both client calls are named "GET"
        spans.add(
            out, trace, fraud.spanId, SpanKind::Server, Call {"fraud", "shop", "", t0 + 3 * ms, 3, 200, "/score"});
    }
    const Span pay = spans.add(out, trace, checkout.spanId, SpanKind::Client,
        Call {"checkout", "shop", "", t0 + 8 * ms, paymentMs + 2, 200, "/charge"});
    out.back().peer = "payments";
    spans.add(out, trace, pay.spanId, SpanKind::Server,
        Call {"payments", "shop", "", t0 + 9 * ms, paymentMs, 200, "/charge"});
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
    void replayMovesAlongThePathInTimeOrder();
    void searchDialogOpensWhatItFinds();
    void compareListsTheAddedCallAndTheSlowerSpan();

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
    const TraceId first = test::addCheckout(spans, m_spans, now - 3000);
    const TraceId second = test::addCheckout(spans, m_spans, now - 2000);
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
    // Assembled off the GUI thread: the window is up first and says what it waits for.
    QTRY_VERIFY(view->hasTrace());
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
    QTRY_VERIFY(other->hasTrace());
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
    const TraceId id = test::addCheckout(spans, m_spans, GraphAggregator::wallNowMs() - 1000);
    m_sink->ingestSpans(std::move(spans), GraphAggregator::wallNowMs());

    auto *byId = m_window->findChild<QAction *>(QStringLiteral("openTraceByIdAction"));
    QVERIFY(byId);
    QCOMPARE(byId->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_T));

    // Upper case and surrounding blanks, as pasted from elsewhere.
    const QString pasted = QStringLiteral("  %1 ").arg(QString::fromStdString(traceIdHex(id)).toUpper());
    TraceView *view = m_window->openTrace(pasted);
    QVERIFY(view);
    QTRY_VERIFY(view->hasTrace());
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
        checkouts.push_back(test::addCheckout(spans, m_spans, now - 3000 + i * 500));
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
    // The tab searches off the GUI thread: ask, and wait for the answer.
    QSignalSpy answers(inspect, &InspectPanel::tracesListed);
    auto listed = [&answers, inspect] {
        answers.clear();
        inspect->refreshTraces();
        return answers.wait(5000);
    };
    auto settled = [&answers] { return !answers.isEmpty() || answers.wait(5000); };

    // A node: the traces with a span of its service, newest first.
    QCOMPARE(m_window->selectNode(QStringLiteral("shop/payments")), QStringLiteral("shop/payments"));
    QVERIFY(listed());
    QCOMPARE(idsShown(), QStringList({hex(checkouts[2]), hex(checkouts[1]), hex(checkouts[0])}));
    QCOMPARE(table->item(0, 4)->text(), QStringLiteral("frontend: GET"));
    QCOMPARE(table->item(0, 3)->text(), QStringLiteral("2"));
    m_window->selectNode(QStringLiteral("shop/frontend"));
    QVERIFY(listed());
    QCOMPARE(table->rowCount(), 4);
    // Slowest first: the 400 ms trace leads.
    answers.clear();
    inspect->tracesOrderBox()->setCurrentIndex(int(InspectPanel::TraceOrder::Slowest));
    QVERIFY(settled());
    QCOMPARE(table->item(0, 0)->data(Qt::UserRole).toString(), hex(other));
    // Failing: traces in which a span of this service failed. Frontend's never did;
    // payments' did in every checkout.
    answers.clear();
    inspect->tracesOrderBox()->setCurrentIndex(int(InspectPanel::TraceOrder::Failing));
    QVERIFY(settled());
    QCOMPARE(table->rowCount(), 0);
    QVERIFY(
        inspect->findChild<QLabel *>(QStringLiteral("tracesNote"))->text().contains(QStringLiteral("no kept trace")));
    m_window->selectNode(QStringLiteral("shop/payments"));
    QVERIFY(listed());
    QCOMPARE(table->rowCount(), 3);
    QVERIFY(!idsShown().contains(hex(other)));

    // An edge: the caller's span with the callee's as its child.
    inspect->tracesOrderBox()->setCurrentIndex(int(InspectPanel::TraceOrder::Recent));
    QVERIFY(m_window->selectEdge(QStringLiteral("shop/checkout->shop/payments")));
    QVERIFY(listed());
    QCOMPARE(table->rowCount(), 3);
    QVERIFY(m_window->selectEdge(QStringLiteral("shop/frontend->shop/checkout")));
    QVERIFY(listed());
    QCOMPARE(table->rowCount(), 3);

    // Double-click opens the trace.
    QSignalSpy asked(inspect, &InspectPanel::traceRequested);
    Q_EMIT table->cellActivated(1, 2);
    QCOMPARE(asked.count(), 1);
    QCOMPARE(asked.at(0).at(0).toString(), hex(checkouts[1]));
    QTRY_VERIFY(m_window->findChild<TraceView *>() != nullptr);
    QCOMPARE(m_window->findChild<TraceView *>()->property("traceId").toString(), hex(checkouts[1]));
}

void TestTraceWindow::replayMovesAlongThePathInTimeOrder()
{
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    const TraceId id = test::addCheckout(spans, m_spans, now - 2000);
    m_sink->ingestSpans(std::move(spans), now);
    m_window->applySnapshot(m_aggregator->snapshot(now));
    GraphCanvas *canvas = m_window->canvas();
    QTRY_VERIFY(canvas->hasEdge(QStringLiteral("shop/checkout->shop/payments")));
    TraceView *view = m_window->openTrace(QString::fromStdString(traceIdHex(id)));
    QVERIFY(view);
    QTRY_VERIFY(view->hasTrace());
    auto *window = qobject_cast<TraceWindow *>(view->window());
    QVERIFY(window);
    QVERIFY(window->replayButton()->isEnabled());

    // The calls light up in the order they started: the entry first, the two calls
    // checkout makes (which start together) last; never fewer than before.
    QTest::mouseClick(window->replayButton(), Qt::LeftButton);
    QVERIFY(m_window->isReplayingTrace());
    QCOMPARE(window->replayButton()->text(), QStringLiteral("■ Stop replay"));
    QVERIFY(m_window->replayedHops() <= 1);
    QStringList firstLit = canvas->traceOverlayEdges();
    QVERIFY(firstLit.size() <= 1);
    if (!firstLit.isEmpty())
        QCOMPARE(firstLit.front(), QStringLiteral("external->shop/frontend"));
    int seen = m_window->replayedHops();
    QList<int> steps {seen};
    while (m_window->isReplayingTrace()) {
        QTest::qWait(50);
        if (!m_window->isReplayingTrace())
            break;
        QVERIFY(m_window->replayedHops() >= seen);
        if (m_window->replayedHops() != seen)
            steps << m_window->replayedHops();
        seen = m_window->replayedHops();
        QVERIFY2(window->graphNote().startsWith(QStringLiteral("Replay: ")), qPrintable(window->graphNote()));
        if (seen == 2 && !QFile::exists(QCoreApplication::applicationDirPath() + QStringLiteral("/replay-mid.png")))
            m_window->grab().save(QCoreApplication::applicationDirPath() + QStringLiteral("/replay-mid.png"));
        QVERIFY(steps.size() < 20);
    }
    // Lit one after another, not all at once; at the end the whole path stays.
    QVERIFY2(steps.size() >= 2, qPrintable(QStringLiteral("%1 steps").arg(steps.size())));
    QCOMPARE(canvas->traceOverlayEdges().size(), 4);
    QCOMPARE(window->replayButton()->text(), QStringLiteral("▶ Replay on graph"));
    QVERIFY2(window->graphNote().startsWith(QStringLiteral("On the graph: 4 calls")), qPrintable(window->graphNote()));

    // Stopped half way, the whole path is drawn at once.
    m_window->replayTraceOnGraph(window);
    QVERIFY(m_window->isReplayingTrace());
    QTest::mouseClick(window->replayButton(), Qt::LeftButton);
    QVERIFY(!m_window->isReplayingTrace());
    QCOMPARE(canvas->traceOverlayEdges().size(), 4);
    // Closing the window during a replay ends it and clears the graph.
    m_window->replayTraceOnGraph(window);
    window->close();
    QTRY_VERIFY(!m_window->isReplayingTrace());
    QTRY_VERIFY(canvas->traceOverlayEdges().isEmpty());
}

void TestTraceWindow::searchDialogOpensWhatItFinds()
{
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    std::vector<TraceId> ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(test::addCheckout(spans, m_spans, now - 3000 + i * 500));
    m_sink->ingestSpans(std::move(spans), now);

    auto *action = m_window->findChild<QAction *>(QStringLiteral("searchTracesAction"));
    QVERIFY(action);
    QCOMPARE(action->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    action->trigger();
    auto *dialog = m_window->findChild<TraceSearchDialog *>();
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    // The dialog searches when it opens: every kept trace, newest first.
    QTRY_COMPARE(dialog->model()->rowCount(), 3);
    QCOMPARE(dialog->model()->traceIdAt(0), QString::fromStdString(traceIdHex(ids[2])));
    // Opening one of them opens its window, assembled from the store.
    const QModelIndex row = dialog->table()->model()->index(1, 0);
    dialog->table()->setCurrentIndex(row);
    Q_EMIT dialog->table()->activated(row);  // what a double-click or Enter does
    QTRY_VERIFY(m_window->findChild<TraceView *>() != nullptr);
    TraceView *view = m_window->findChild<TraceView *>();
    QTRY_VERIFY(view->hasTrace());
    QCOMPARE(view->property("traceId").toString(), dialog->model()->traceIdAt(1));
    // Asking again shows the same dialog.
    action->trigger();
    QCOMPARE(m_window->findChildren<TraceSearchDialog *>().size(), 1);
}

void TestTraceWindow::compareListsTheAddedCallAndTheSlowerSpan()
{
    // Five ordinary checkouts and one that called a fraud service first and waited
    // three times as long for payments.
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    for (int i = 0; i < 5; ++i)
        addCheckoutVariant(spans, m_spans, now - 10000 + i * 1000, 30 + i, false);
    const TraceId slow = addCheckoutVariant(spans, m_spans, now - 2000, 96, true);
    m_sink->ingestSpans(std::move(spans), now);

    TraceView *view = m_window->openTrace(QString::fromStdString(traceIdHex(slow)));
    QVERIFY(view);
    QTRY_VERIFY(view->hasTrace());
    auto *window = qobject_cast<TraceWindow *>(view->window());
    QVERIFY(window);
    QVERIFY(window->compareButton()->isEnabled());
    QVERIFY(!window->tabs()->tabBar()->isVisible());  // one tab until a comparison is asked for

    QSignalSpy ready(window, &TraceWindow::comparisonReady);
    window->findChild<QAction *>(QStringLiteral("compareWithTypicalAction"))->trigger();
    QVERIFY(ready.wait(5000));
    QCOMPARE(ready.at(0).at(0).toBool(), true);
    TraceCompareView *compare = window->compareView();
    QVERIFY(compare);
    QCOMPARE(window->tabs()->currentWidget()->objectName(), QStringLiteral("comparePage"));
    QAbstractItemModelTester tester(compare->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY2(compare->titleLabel()->text().contains(QStringLiteral("typical frontend: GET (medians of 5 traces)")),
        qPrintable(compare->titleLabel()->text()));

    // The added call: checkout's client call to fraud and fraud's own span, only in
    // this trace (B).
    const TraceComparison *c = compare->comparison();
    QVERIFY(c);
    QCOMPARE(c->callsAdded, 2u);
    QCOMPARE(c->callsMissing, 0u);
    QStringList added;
    for (int r = 0; r < compare->model()->rowCount(); ++r) {
        const QModelIndex cell = compare->model()->index(r, 0);
        if (cell.data(TraceCompareModel::KindRole).toInt() == int(CompareKind::OnlyInB))
            added << cell.data().toString();
    }
    QCOMPARE(added.size(), 2);
    QVERIFY2(added.join(QLatin1Char('|')).contains(QStringLiteral("fraud")), qPrintable(added.join(QLatin1Char('|'))));
    // The slower span: payments' own time grew most (typical 32 ms, this one 96 ms).
    const int slowest = c->slowestRow();
    QVERIFY(slowest >= 0);
    const CompareRow &row = c->rows[size_t(slowest)];
    QCOMPARE(row.service, std::string("payments"));
    QCOMPARE(row.durationA, uint64_t(32) * 1000000ull);
    QCOMPARE(row.durationB, uint64_t(96) * 1000000ull);
    QCOMPARE(row.deltaNs, int64_t(64) * 1000000);
    QVERIFY2(compare->totalsLabel()->text().contains(QStringLiteral("payments")),
        qPrintable(compare->totalsLabel()->text()));
    window->grab().save(QCoreApplication::applicationDirPath() + QStringLiteral("/tracewindow-compare.png"));

    // Activating the slower call of this trace shows it in the waterfall.
    QVERIFY(compare->selectRow(slowest));
    const int modelRow = compare->model()->rowOf(uint32_t(slowest));
    Q_EMIT compare->table()->activated(compare->model()->index(modelRow, 0));
    QCOMPARE(window->tabs()->currentWidget(), static_cast<QWidget *>(view));
    QVERIFY(view->selectedSpan() >= 0);
    QCOMPARE(view->tree()->spans[size_t(view->selectedSpan())].service, std::string("payments"));

    // Against another trace, and a trace that is not kept.
    window->compareWithTrace(QStringLiteral("0123456789abcdef0123456789abcdef"));
    QVERIFY(ready.wait(5000));
    QCOMPARE(ready.last().at(0).toBool(), false);
    QVERIFY2(window->compareNote().contains(QStringLiteral("No spans of trace 0123456789abcdef")),
        qPrintable(window->compareNote()));
}

QTEST_MAIN(TestTraceWindow)
#include "tst_tracewindow.moc"

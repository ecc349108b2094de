// Traces from the dashboard: every span a source delivers is kept in the trace store
// in front of the aggregator; a request row opens its trace (double-click, Enter or
// "Show trace"), Traces > Open trace by ID opens one by id, and an id the store does
// not hold, or text that is no id, says why instead of opening an empty window.
#include "common/spanfactory.h"
#include "graph/graphaggregator.h"
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
#include <QLabel>
#include <QMenuBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
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

    // Asking again raises the same window; another trace gets its own.
    QVERIFY(m_window->openTrace(wanted) == view);
    QCOMPARE(m_window->findChildren<TraceView *>().size(), 1);
    TraceView *other = m_window->openTrace(QString::fromStdString(traceIdHex(first)));
    QVERIFY(other && other != view);
    QCOMPARE(m_window->findChildren<TraceView *>().size(), 2);
    view->window()->close();
    other->window()->close();
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

QTEST_MAIN(TestTraceWindow)
#include "tst_tracewindow.moc"

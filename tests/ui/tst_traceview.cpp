// The trace view: rows in pre-order with their depth, collapsing and expanding through
// the model, the delegate's toggle and the keyboard, the critical-path filter, find by
// attribute value, the details pane, the clock-skew switch, a 100,000-span trace, and a
// screenshot of the whole view. Every model change runs under QAbstractItemModelTester.

#include "darktheme.h"
#include "traces/criticalpath.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/spandetails.h"
#include "traces/traceminimap.h"
#include "traces/traceview.h"
#include "traces/waterfalldelegate.h"
#include "traces/waterfallstyle.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSet>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QTreeWidget>

using namespace meshscope;

namespace {

constexpr uint64_t kT0 = 1700000000000000000ull;

uint64_t ms(double v) { return uint64_t(v * 1e6); }
// An absolute time `offsetMs` from kT0, which may lie before it.
uint64_t at(double offsetMs) { return uint64_t(int64_t(kT0) + int64_t(offsetMs * 1e6)); }

Span span(uint64_t id, uint64_t parent, const char *service, const char *name, double startMs, double endMs,
    std::vector<SpanAttribute> attributes = {})
{
    Span s;
    s.traceId = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    s.spanId = id;
    s.parentSpanId = parent;
    s.service = service;
    s.name = name;
    s.kind = parent == 0 ? SpanKind::Server : SpanKind::Internal;
    s.startNs = at(startMs);
    s.endNs = at(endMs);
    s.attributes = std::move(attributes);
    s.attributes.push_back({"host.id", std::string("host-") + service, true});
    s.attributes.push_back({"service.name", service, true});
    return s;
}

// frontend -> checkout -> {payment (slow), inventory (fast, parallel) -> failing query},
// plus an email span whose parent never arrived.
TraceTree shopTrace()
{
    std::vector<Span> spans;
    spans.push_back(span(1, 0, "frontend", "GET /checkout", 0, 100));
    spans.push_back(span(2, 1, "checkout", "POST /api/checkout", 5, 95));
    spans.push_back(span(3, 2, "payment", "charge", 10, 90, {{"payment.provider", "stripe-eu", false}}));
    spans.push_back(span(4, 2, "inventory", "reserve", 12, 30));
    Span failing = span(5, 4, "inventory", "SELECT stock", 14, 20, {{"db.statement", "SELECT * FROM stock", false}});
    failing.status = SpanStatus::Error;
    failing.statusMessage = "deadlock detected";
    spans.push_back(failing);
    spans.push_back(span(7, 99, "email", "send receipt", 40, 60));
    // Arrival order is not tree order.
    std::reverse(spans.begin(), spans.end());
    return buildTraceTree(std::move(spans));
}

std::vector<uint64_t> rowIds(const TraceRowsModel *m)
{
    std::vector<uint64_t> ids;
    for (int r = 0; r < m->rowCount(); ++r)
        ids.push_back(m->trace()->tree.spans[m->spanAt(r)].spanId);
    return ids;
}

int rowOfId(const TraceRowsModel *m, uint64_t id)
{
    for (int r = 0; r < m->rowCount(); ++r) {
        if (m->trace()->tree.spans[m->spanAt(r)].spanId == id)
            return r;
    }
    return -1;
}

int spanOfId(const TraceTree &tree, uint64_t id)
{
    for (size_t i = 0; i < tree.size(); ++i) {
        if (tree.spans[i].spanId == id)
            return int(i);
    }
    return -1;
}

// A fan-out trace of `count` spans: an 8-ary tree, children overlapping inside their
// parent, 40 services on 20 hosts, every 97th span a failed server span.
TraceTree bigTrace(size_t count)
{
    std::vector<Span> spans;
    spans.reserve(count);
    std::vector<std::pair<uint64_t, uint64_t>> time(count);
    time[0] = {kT0, kT0 + 2000000000ull};
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) {
            const size_t p = (i - 1) / 8;
            const uint64_t k = (i - 1) % 8;
            const uint64_t d = time[p].second - time[p].first;
            const uint64_t start = time[p].first + d * k / 8 + d / 100;
            time[i] = {start, start + d / 4};  // overlapping: some siblings are off the critical path
        }
        Span s;
        s.traceId[0] = 0x42;
        s.spanId = 0x1000 + i;
        s.parentSpanId = i == 0 ? 0 : 0x1000 + (i - 1) / 8;
        s.service = "service-" + std::to_string(i % 40);
        s.name = i % 3 ? "GET /api/v1/items/{id}" : "work";
        s.kind = SpanKind::Server;
        s.startNs = time[i].first;
        s.endNs = time[i].second;
        s.httpStatus = i % 97 == 0 && i > 0 ? 503 : 200;
        s.attributes = {{"host.id", "host-" + std::to_string(i % 20), true}, {"service.name", s.service, true},
            {"http.route", "/api/v1/items/{id}", false}, {"item.id", std::to_string(i * 7919 % 100003), false}};
        spans.push_back(std::move(s));
    }
    return buildTraceTree(std::move(spans));
}

// A believable checkout with parallel calls, a slow payment whose host clock runs
// 40 ms behind, a failing e-mail call and spans whose parent is missing.
TraceTree screenshotTrace()
{
    std::vector<Span> v;
    auto add = [&v](uint64_t id, uint64_t parent, const char *service, const char *name, double s, double e,
                   SpanKind kind, std::vector<SpanAttribute> attrs = {}) -> Span & {
        v.push_back(span(id, parent, service, name, s, e, std::move(attrs)));
        v.back().kind = kind;
        return v.back();
    };
    const double skew = -40;  // payment's host clock
    add(1, 0, "frontend", "GET /checkout", 0, 412, SpanKind::Server, {{"http.route", "/checkout", false}}).httpStatus
        = 200;
    add(2, 1, "frontend", "POST checkout", 3, 405, SpanKind::Client);
    add(3, 2, "checkout", "POST /api/checkout", 5, 403, SpanKind::Server, {{"order.id", "ord-20931", false}});
    add(4, 3, "checkout", "redis GET cart:{id}", 7, 11, SpanKind::Client);
    add(5, 3, "checkout", "GET inventory", 12, 58, SpanKind::Client);
    add(6, 5, "inventory", "GET /stock", 14, 56, SpanKind::Server);
    for (int k = 0; k < 5; ++k)
        add(30 + uint64_t(k), 6, "inventory", "SELECT stock WHERE sku = $1", 16 + k * 7.5, 21 + k * 7.5,
            SpanKind::Client, {{"db.system", "postgresql", false}});
    add(7, 3, "checkout", "GET pricing", 12, 40, SpanKind::Client);
    add(8, 7, "pricing", "GET /quote", 13, 38, SpanKind::Server);
    add(9, 8, "pricing", "currency.convert", 20, 31, SpanKind::Internal);
    add(10, 3, "checkout", "POST payment", 60, 380, SpanKind::Client);
    add(11, 10, "payment", "POST /charge", 62 + skew, 378 + skew, SpanKind::Server);
    add(12, 11, "payment", "fraud-check", 65 + skew, 120 + skew, SpanKind::Internal);
    add(13, 12, "fraud", "grpc Score", 67, 118, SpanKind::Server);
    add(14, 13, "fraud", "model.infer", 70, 112, SpanKind::Internal);
    add(15, 11, "payment", "POST stripe /v1/charges", 125 + skew, 370 + skew, SpanKind::Client,
        {{"payment.provider", "stripe-eu", false}, {"http.request.method", "POST", false}});
    add(16, 11, "payment", "INSERT ledger", 371 + skew, 376 + skew, SpanKind::Client,
        {{"db.system", "postgresql", false}});
    add(17, 3, "checkout", "publish order.created", 382, 390, SpanKind::Producer);
    Span &mail = add(18, 3, "checkout", "POST email", 391, 400, SpanKind::Client);
    mail.httpStatus = 503;
    Span &send = add(19, 18, "email", "POST /send", 392, 399, SpanKind::Server);
    send.status = SpanStatus::Error;
    send.statusMessage = "SMTP relay unavailable";
    add(20, 777, "recommendation", "GET /recs", 100, 180, SpanKind::Server);
    add(21, 20, "recommendation", "model.predict", 105, 170, SpanKind::Internal);
    for (auto &s : v) {
        // Resource hosts: payment's spans come from the skewed host.
        for (auto &a : s.attributes) {
            if (a.key == "host.id")
                a.value = "node-" + s.service;
        }
    }
    return buildTraceTree(std::move(v));
}

}  // namespace

class TestTraceView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void rowsInPreOrderWithDepth();
    void collapseHidesDescendantsExpandRestores();
    void toggleByMouseAndKeyboard();
    void criticalOnlyKeepsCriticalSpansAndAncestors();
    void findByAttributeExpandsCollapsedAncestor();
    void detailsShowAttributesAndStatusMessage();
    void skewSwitchMovesSkewedChild();
    void rulerTicksReadWell();
    void hundredThousandSpans();
    void screenshot();
};

void TestTraceView::initTestCase() { applyDarkTheme(*qApp); }

void TestTraceView::rowsInPreOrderWithDepth()
{
    TraceView view;
    QAbstractItemModelTester tester(view.rowsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setTrace(shopTrace());
    const TraceRowsModel *m = view.rowsModel();
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3, 4, 5, 0, 7}));
    const std::vector<int> depths = {0, 1, 2, 2, 3, 0, 1};
    for (int r = 0; r < m->rowCount(); ++r)
        QCOMPARE(m->index(r, 0).data(TraceRowsModel::DepthRole).toInt(), depths[size_t(r)]);
    QCOMPARE(m->index(1, TraceRowsModel::Name).data().toString(), QStringLiteral("checkout  POST /api/checkout"));
    QCOMPARE(m->index(5, TraceRowsModel::Name).data().toString(), QStringLiteral("(missing parent)"));
    QCOMPARE(m->index(2, TraceRowsModel::Duration).data().toString(), QStringLiteral("80.0 ms"));
    QVERIFY(m->index(4, 0).data(TraceRowsModel::ErrorRole).toBool());
    QVERIFY(!m->index(3, 0).data(TraceRowsModel::ErrorRole).toBool());
    QVERIFY(m->index(3, 0).data(TraceRowsModel::HasChildrenRole).toBool());
    QVERIFY(!m->index(2, 0).data(TraceRowsModel::HasChildrenRole).toBool());
    // Self time of checkout: 90 ms minus the union of its children (10..90) = 10 ms.
    QCOMPARE(m->index(1, 0).data(TraceRowsModel::SelfNsRole).toULongLong(), qulonglong(ms(10)));

    // Header: six received spans (the synthetic root is no span), five services, one
    // error, and the orphan explained.
    const QString stats = view.statsLabel()->text();
    QVERIFY2(stats.contains(QStringLiteral("Spans <b>6</b>")), qPrintable(stats));
    QVERIFY2(stats.contains(QStringLiteral("Services <b>5</b>")), qPrintable(stats));
    QVERIFY2(stats.contains(QStringLiteral(">1</b>")), qPrintable(stats));
    QVERIFY(view.titleLabel()->text().contains(QStringLiteral("GET /checkout")));
    QVERIFY(!view.problemsLabel()->isHidden());
    QVERIFY2(view.problemsLabel()->text().contains(QStringLiteral("synthetic root")),
        qPrintable(view.problemsLabel()->text()));
}

void TestTraceView::collapseHidesDescendantsExpandRestores()
{
    TraceView view;
    TraceRowsModel *m = view.rowsModel();
    QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setTrace(shopTrace());
    QSignalSpy removed(m, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(m, &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(m, &QAbstractItemModel::modelReset);
    const uint32_t checkout = m->spanAt(1);

    m->setExpanded(checkout, false);
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 0, 7}));
    QCOMPARE(removed.count(), 1);  // one removal for the whole subtree, no reset
    QCOMPARE(removed.at(0).at(1).toInt(), 2);
    QCOMPARE(removed.at(0).at(2).toInt(), 4);
    QVERIFY(!m->index(1, 0).data(TraceRowsModel::ExpandedRole).toBool());

    // Collapsing inside a collapsed subtree changes no rows, and is remembered.
    m->setExpanded(uint32_t(spanOfId(m->trace()->tree, 4)), false);  // inventory
    QCOMPARE(m->rowCount(), 4);
    m->setExpanded(checkout, true);
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3, 4, 0, 7}));
    QCOMPARE(inserted.count(), 1);
    m->setExpanded(uint32_t(spanOfId(m->trace()->tree, 4)), true);
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3, 4, 5, 0, 7}));

    m->collapseAll();
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 0, 7}));
    m->expandAll();
    QCOMPARE(m->rowCount(), 7);
    QCOMPARE(reset.count(), 2);
}

void TestTraceView::toggleByMouseAndKeyboard()
{
    TraceView view;
    QAbstractItemModelTester tester(view.rowsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(1280, 800);
    view.setTrace(shopTrace());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    TraceRowsModel *m = view.rowsModel();
    QTableView *table = view.table();

    // A click on checkout's toggle collapses it; a click beside it only selects.
    const QRect cell = table->visualRect(m->index(1, TraceRowsModel::Name));
    const QPoint toggle = WaterfallDelegate::toggleRect(cell, 1).center().toPoint();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, toggle);
    QCOMPARE(m->rowCount(), 4);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, toggle);
    QCOMPARE(m->rowCount(), 7);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, QPoint(cell.right() - 20, cell.center().y()));
    QCOMPARE(m->rowCount(), 7);
    QCOMPARE(view.selectedSpan(), int(m->spanAt(1)));

    // Left collapses, Left again goes to the parent; Right expands, Right again goes
    // to the first child.
    table->setFocus();
    QTest::keyClick(table, Qt::Key_Left);
    QCOMPARE(m->rowCount(), 4);
    QTest::keyClick(table, Qt::Key_Left);
    QCOMPARE(view.selectedSpan(), int(m->spanAt(0)));
    QTest::keyClick(table, Qt::Key_Down);
    QTest::keyClick(table, Qt::Key_Right);
    QCOMPARE(m->rowCount(), 7);
    QTest::keyClick(table, Qt::Key_Right);
    QCOMPARE(view.rowsModel()->trace()->tree.spans[size_t(view.selectedSpan())].spanId, uint64_t(3));
}

void TestTraceView::criticalOnlyKeepsCriticalSpansAndAncestors()
{
    TraceView view;
    TraceRowsModel *m = view.rowsModel();
    QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setTrace(shopTrace());
    // frontend -> checkout -> payment decide the end; inventory ran in parallel and
    // finished early. The orphan's own tree has its own path: email under the
    // synthetic root, which stays as its ancestor.
    const CriticalPathResult &cp = view.criticalPath();
    const TraceTree &tree = *view.tree();
    QVERIFY(cp.criticalNs[size_t(spanOfId(tree, 3))] > 0);
    QCOMPARE(cp.criticalNs[size_t(spanOfId(tree, 4))], uint64_t(0));

    view.criticalOnlyBox()->setChecked(true);
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3, 0, 7}));
    for (int r = 0; r < m->rowCount(); ++r) {
        const uint32_t s = m->spanAt(r);
        QVERIFY(cp.criticalNs[s] > 0 || m->hasVisibleChildren(s));
    }
    // checkout's toggle now stands for payment alone; collapsing it keeps working.
    m->setExpanded(uint32_t(spanOfId(tree, 2)), false);
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 0, 7}));
    m->setExpanded(uint32_t(spanOfId(tree, 2)), true);
    view.criticalOnlyBox()->setChecked(false);
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3, 4, 5, 0, 7}));
}

void TestTraceView::findByAttributeExpandsCollapsedAncestor()
{
    TraceView view;
    TraceRowsModel *m = view.rowsModel();
    QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(1280, 800);
    view.setTrace(shopTrace());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const TraceTree &tree = *view.tree();
    m->setExpanded(uint32_t(spanOfId(tree, 2)), false);
    QCOMPARE(rowOfId(m, 3), -1);

    // Ctrl+F in the table goes to the find field.
    view.table()->setFocus();
    QApplication::setActiveWindow(&view);
    QTest::keyClick(view.table(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(view.findEdit()->hasFocus());

    // "stripe" is only in payment's attribute value.
    QTest::keyClicks(view.findEdit(), QStringLiteral("STRIPE"));
    QTest::keyClick(view.findEdit(), Qt::Key_Return);
    QCOMPARE(view.findMatches().size(), size_t(1));
    QCOMPARE(view.findStatus()->text(), QStringLiteral("1 of 1"));
    const int row = rowOfId(m, 3);
    QVERIFY(row >= 0);
    QCOMPARE(view.selectedSpan(), spanOfId(tree, 3));
    QCOMPARE(m->index(row, 0).data(TraceRowsModel::MatchRole).toInt(), 2);
    QVERIFY(view.table()->viewport()->rect().intersects(view.table()->visualRect(m->index(row, 0))));

    // Several matches: Enter walks forward, Shift+Enter back, wrapping around.
    view.findEdit()->setText(QStringLiteral("inventory"));
    QTest::keyClick(view.findEdit(), Qt::Key_Return);
    QCOMPARE(view.findMatches().size(), size_t(2));
    QCOMPARE(view.findStatus()->text(), QStringLiteral("1 of 2"));
    QCOMPARE(tree.spans[size_t(view.selectedSpan())].spanId, uint64_t(4));
    QTest::keyClick(view.findEdit(), Qt::Key_Return);
    QCOMPARE(view.findStatus()->text(), QStringLiteral("2 of 2"));
    QCOMPARE(tree.spans[size_t(view.selectedSpan())].spanId, uint64_t(5));
    QTest::keyClick(view.findEdit(), Qt::Key_Return, Qt::ShiftModifier);
    QCOMPARE(view.findStatus()->text(), QStringLiteral("1 of 2"));
    view.findEdit()->setText(QStringLiteral("no-such-thing"));
    QTest::keyClick(view.findEdit(), Qt::Key_Return);
    QCOMPARE(view.findStatus()->text(), QStringLiteral("no matches"));
}

void TestTraceView::detailsShowAttributesAndStatusMessage()
{
    TraceView view;
    view.setTrace(shopTrace());
    QSignalSpy selected(&view, &TraceView::spanSelected);
    const int failing = spanOfId(*view.tree(), 5);
    QVERIFY(view.selectSpan(failing));
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.at(0).at(0).toInt(), failing);
    SpanDetails *d = view.details();
    QCOMPARE(d->fieldText(SpanDetails::Service), QStringLiteral("inventory"));
    QCOMPARE(d->fieldText(SpanDetails::StatusMessage), QStringLiteral("deadlock detected"));
    QVERIFY(d->fieldText(SpanDetails::Status).startsWith(QStringLiteral("Error")));
    QCOMPARE(d->fieldText(SpanDetails::Start), QStringLiteral("+14.0 ms from the trace's start"));
    QCOMPARE(d->fieldText(SpanDetails::SpanId), QString::fromStdString(spanIdHex(5)));
    QCOMPARE(d->fieldText(SpanDetails::ParentId), QString::fromStdString(spanIdHex(4)));
    QVERIFY(!d->isFieldShown(SpanDetails::ClockSkew));

    // Span attributes first, then resource attributes.
    QTreeWidget *attrs = d->attributesTree();
    QCOMPARE(attrs->topLevelItemCount(), 2);
    QVERIFY(attrs->topLevelItem(0)->text(0).startsWith(QStringLiteral("Span attributes")));
    QCOMPARE(attrs->topLevelItem(0)->child(0)->text(0), QStringLiteral("db.statement"));
    QCOMPARE(attrs->topLevelItem(0)->child(0)->text(1), QStringLiteral("SELECT * FROM stock"));
    QVERIFY(attrs->topLevelItem(1)->text(0).startsWith(QStringLiteral("Resource attributes")));
    QCOMPARE(attrs->topLevelItem(1)->child(0)->text(1), QStringLiteral("host-inventory"));

    // The orphan says what was repaired.
    QVERIFY(view.selectSpan(spanOfId(*view.tree(), 7)));
    QVERIFY(d->fieldText(SpanDetails::Flags).contains(QStringLiteral("orphan")));
    QSignalSpy graph(&view, &TraceView::openInGraphRequested);
    d->openInGraphButton()->click();
    QCOMPARE(graph.count(), 1);
}

void TestTraceView::skewSwitchMovesSkewedChild()
{
    // The database host's clock runs 50 ms behind: its span appears to start before
    // the call that made it.
    std::vector<Span> spans;
    spans.push_back(span(1, 0, "api", "GET /orders", 0, 100));
    spans.push_back(span(2, 1, "db", "SELECT orders", -50, -30));
    spans.push_back(span(3, 2, "db", "read index", -45, -35));
    TraceView view;
    TraceRowsModel *m = view.rowsModel();
    QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setTrace(buildTraceTree(std::move(spans)));
    QVERIFY(!view.skewBox()->isChecked());  // off by default: times as recorded
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3}));
    QCOMPARE(m->index(1, 0).data(TraceRowsModel::OffsetNsRole).toULongLong(), qulonglong(0));
    QCOMPARE(m->index(0, 0).data(TraceRowsModel::OffsetNsRole).toULongLong(), qulonglong(ms(50)));
    QVERIFY(view.selectSpan(1));
    QSignalSpy selected(&view, &TraceView::spanSelected);
    // After the first paint the switch says how many spans it would move.
    QTRY_VERIFY(view.skewBox()->text().contains(QStringLiteral("2 spans")));

    view.skewBox()->setChecked(true);
    // Centred in its 100 ms parent: starts at 40 ms, a shift of +90 ms; its child on the
    // same host follows.
    QCOMPARE(rowIds(m), (std::vector<uint64_t> {1, 2, 3}));
    QCOMPARE(m->index(1, 0).data(TraceRowsModel::OffsetNsRole).toULongLong(), qulonglong(ms(40)));
    QCOMPARE(m->index(1, 0).data(TraceRowsModel::SkewNsRole).toLongLong(), qlonglong(ms(90)));
    QCOMPARE(m->index(2, 0).data(TraceRowsModel::SkewNsRole).toLongLong(), qlonglong(ms(90)));
    QCOMPARE(m->index(0, 0).data(TraceRowsModel::SkewNsRole).toLongLong(), qlonglong(0));
    QVERIFY(m->index(1, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("shifted +90.0 ms")));
    // The selection follows the span and the details say what was done.
    QCOMPARE(view.selectedSpan(), 1);
    QCOMPARE(selected.count(), 1);
    QVERIFY(view.details()->isFieldShown(SpanDetails::ClockSkew));
    QVERIFY(view.details()->fieldText(SpanDetails::ClockSkew).contains(QStringLiteral("+90.0 ms")));
    QCOMPARE(view.details()->fieldText(SpanDetails::Start), QStringLiteral("+40.0 ms from the trace's start"));
    QVERIFY(view.problemsLabel()->text().contains(QStringLiteral("Clock skew adjusted: 2 spans")));

    view.skewBox()->setChecked(false);
    QCOMPARE(m->index(1, 0).data(TraceRowsModel::OffsetNsRole).toULongLong(), qulonglong(0));
    QCOMPARE(m->index(1, 0).data(TraceRowsModel::SkewNsRole).toLongLong(), qlonglong(0));
    QVERIFY(view.problemsLabel()->isHidden());
}

void TestTraceView::rulerTicksReadWell()
{
    auto labels = [](uint64_t totalNs, double width) {
        QStringList out;
        for (const waterfall::Tick &t : waterfall::rulerTicks(totalNs, width))
            out << t.label;
        return out;
    };
    // 412 ms over 420 px: a tick per 100 ms (84 px apart at least).
    QCOMPARE(labels(ms(412), 420),
        (QStringList {QStringLiteral("0"), QStringLiteral("100 ms"), QStringLiteral("200 ms"), QStringLiteral("300 ms"),
            QStringLiteral("400 ms")}));
    // Past a second the ruler reads in seconds, with the decimals the step needs.
    QCOMPARE(labels(ms(2360), 420).mid(0, 3),
        (QStringList {QStringLiteral("0"), QStringLiteral("0.5 s"), QStringLiteral("1.0 s")}));
    QCOMPARE(labels(ms(1.2), 420).mid(0, 2), (QStringList {QStringLiteral("0"), QStringLiteral("0.25 ms")}));
    QCOMPARE(labels(0, 420), QStringList {QStringLiteral("0")});
    QCOMPARE(waterfall::duration(850000), QStringLiteral("850 µs"));
    QCOMPARE(waterfall::shift(-int64_t(ms(3.2))), QStringLiteral("-3.2 ms"));
}

void TestTraceView::hundredThousandSpans()
{
    constexpr size_t kSpans = 100000;
    QElapsedTimer timer;
    timer.start();
    TraceTree tree = bigTrace(kSpans);
    const qint64 buildMs = timer.elapsed();
    QCOMPARE(tree.size(), kSpans);

    TraceView view;
    view.resize(1280, 800);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const int rendersBefore = view.minimap()->renderCount();
    timer.restart();
    view.setTrace(std::move(tree));
    const qint64 setMs = timer.elapsed();
    // The first paint: the view's delayed layout and posted updates, then a synchronous
    // repaint of everything in case the platform deferred it.
    QCoreApplication::processEvents();
    view.repaint();
    const qint64 loadMs = timer.elapsed();
    TraceRowsModel *m = view.rowsModel();
    QCOMPARE(m->rowCount(), int(kSpans));
    QCOMPARE(view.minimap()->renderCount(), rendersBefore + 1);

    // Scrolling paints only the rows in view; the minimap is not rendered again.
    QScrollBar *bar = view.table()->verticalScrollBar();
    QVERIFY(bar->maximum() > 99000 * 20);
    qint64 worstScrollUs = 0;
    for (int step = 0; step < 40; ++step) {
        bar->setValue(bar->maximum() / 40 * step);
        QElapsedTimer paint;
        paint.start();
        view.table()->viewport()->repaint();
        view.minimap()->repaint();
        worstScrollUs = std::max(worstScrollUs, paint.nsecsElapsed() / 1000);
    }
    QCOMPARE(view.minimap()->renderCount(), rendersBefore + 1);

    // Collapsing the root removes 99,999 rows in one step.
    timer.restart();
    m->setExpanded(0, false);
    const qint64 collapseMs = timer.elapsed();
    QCOMPARE(m->rowCount(), 1);
    m->setExpanded(0, true);
    QCOMPARE(m->rowCount(), int(kSpans));
    view.findEdit()->setText(QStringLiteral("4711"));
    timer.restart();
    view.findNext();
    const qint64 findMs = timer.elapsed();
    QVERIFY(!view.findMatches().empty());
    QCOMPARE(view.selectedSpan(), int(view.findMatches()[size_t(view.currentMatch())]));
    view.findEdit()->clear();
    timer.restart();
    view.criticalOnlyBox()->setChecked(true);
    const qint64 criticalMs = timer.elapsed();
    const int criticalRows = m->rowCount();
    QVERIFY(criticalRows > 1 && criticalRows < int(kSpans));
    view.criticalOnlyBox()->setChecked(false);
    view.selectSpan(0);
    QVERIFY(
        view.grab().save(QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("traceview-100k.png"))));
    qInfo("100,000 spans: buildTraceTree %lld ms; setTrace %lld ms; setTrace + first paint %lld ms; "
          "worst scroll paint %.1f ms; collapse root %lld ms; find %lld ms; critical only %lld ms (%d rows)",
        buildMs, setMs, loadMs, double(worstScrollUs) / 1000.0, collapseMs, findMs, criticalMs, criticalRows);
}

void TestTraceView::screenshot()
{
    TraceView view;
    view.resize(1280, 800);
    view.setTrace(screenshotTrace());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.skewBox()->setChecked(true);
    view.findEdit()->setText(QStringLiteral("stripe"));
    view.findNext();
    QTest::qWait(50);

    const QByteArray target = qgetenv("MESHSCOPE_TRACEVIEW_SCREENSHOT");
    const QString file = target.isEmpty()
        ? QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("traceview.png"))
        : QString::fromLocal8Bit(target);
    const QImage image = view.grab().toImage();
    QVERIFY(image.save(file));
    qInfo("screenshot: %s", qPrintable(file));
    QCOMPARE(image.size(), QSize(1280, 800) * image.devicePixelRatio());
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 5) {
        for (int x = 0; x < image.width(); x += 5)
            colours.insert(image.pixel(x, y));
    }
    QVERIFY(colours.size() > 60);
    // Dark theme: the table's background dominates.
    const QColor corner = image.pixelColor(image.width() / 2, image.height() - 8);
    QVERIFY2(corner.lightness() < 80, qPrintable(corner.name()));
}

QTEST_MAIN(TestTraceView)
#include "tst_traceview.moc"

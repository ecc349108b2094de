// The trace comparison view: the rows its model lists for an added call and a slower
// span, the header's totals, the "differences only" filter and its threshold, span
// activation per side, and a screenshot of a trace against the typical trace of its
// root. Every model change runs under QAbstractItemModelTester.

#include "common/printers.h"
#include "darktheme.h"
#include "traces/models/tracecomparemodel.h"
#include "traces/tracecompare.h"
#include "traces/tracecompareview.h"
#include "traces/waterfallstyle.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QSet>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>
#include <QTextDocument>

#include <cmath>

using namespace meshscope;

namespace {

constexpr uint64_t kT0 = 1700000000000000000ull;
constexpr uint64_t kMs = 1000000;

struct Call {
    uint64_t id = 0;
    uint64_t parent = 0;
    const char *service = "";
    const char *name = "";
    double startMs = 0;
    double endMs = 0;
    bool error = false;
};

TraceTree treeOf(const std::vector<Call> &calls, uint8_t tag = 1, uint64_t t0 = kT0)
{
    std::vector<Span> spans;
    for (const Call &c : calls) {
        Span s;
        s.traceId = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, tag};
        s.spanId = c.id;
        s.parentSpanId = c.parent;
        s.kind = c.parent == 0 ? SpanKind::Server : SpanKind::Client;
        s.service = c.service;
        s.name = c.name;
        s.startNs = t0 + uint64_t(std::llround(c.startMs * 1e6));
        s.endNs = t0 + uint64_t(std::llround(c.endMs * 1e6));
        s.status = c.error ? SpanStatus::Error : SpanStatus::Unset;
        spans.push_back(s);
    }
    return buildTraceTree(std::move(spans));
}

std::vector<Call> cartCalls()
{
    return {
        {1, 0, "frontend", "GET /cart", 0, 100},
        {2, 1, "cart", "GetCart", 5, 95},
        {3, 2, "redis", "GET", 10, 20},
        {4, 2, "pricing", "Quote", 25, 80},
    };
}

// The model row whose call is service: name, or -1.
int rowOf(const TraceCompareModel *m, const char *service, const char *name)
{
    for (int r = 0; r < m->rowCount(); ++r) {
        const CompareRow &row = m->rowAt(r);
        if (row.service == service && row.name == name)
            return r;
    }
    return -1;
}

QString plainText(const QLabel *label)
{
    QTextDocument doc;
    doc.setHtml(label->text());
    return doc.toPlainText();
}

QString cell(const TraceCompareModel *m, int row, int column, int role = Qt::DisplayRole)
{
    return m->data(m->index(row, column), role).toString();
}

}  // namespace

class TestTraceCompareView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void listsTheAddedCallAndTheSlowerSpan();
    void differencesOnlyHidesUnchangedCalls();
    void activationNamesTheSide();
    void selectRowTurnsTheFilterOff();
    void emptyView();
    void screenshot();
};

void TestTraceCompareView::initTestCase() { applyDarkTheme(*qApp); }

// "trace compare lists the added call and the slower span"
void TestTraceCompareView::listsTheAddedCallAndTheSlowerSpan()
{
    const TraceTree a = treeOf(cartCalls());
    std::vector<Call> calls = cartCalls();
    calls[3].endMs = 125;  // pricing Quote: 55 -> 100 ms
    calls[1].endMs = 140;
    calls[0].endMs = 145;
    calls.push_back({5, 2, "inventory", "Reserve", 126, 134});  // only in B
    const TraceTree b = treeOf(calls, 2);

    TraceCompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(1280, 600);
    view.setComparison(
        compareTraces(a, b), QStringLiteral("Trace 4bf92f35… (before)"), QStringLiteral("Trace 4bf92f35… (after)"));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const TraceCompareModel *m = view.model();
    QCOMPARE(view.table()->model(), m);
    QCOMPARE(m->rowCount(), 5);

    // The added call: only in B, under cart, after pricing.
    const int added = rowOf(m, "inventory", "Reserve");
    QCOMPARE(added, 4);
    QCOMPARE(m->data(m->index(added, 0), TraceCompareModel::KindRole).toInt(), int(CompareKind::OnlyInB));
    QCOMPARE(m->data(m->index(added, 0), TraceCompareModel::DepthRole).toInt(), 2);
    QCOMPARE(m->data(m->index(added, 0), TraceCompareModel::SpanARole).toInt(), -1);
    const int addedSpan = m->data(m->index(added, 0), TraceCompareModel::SpanBRole).toInt();
    QCOMPARE(b.spans[size_t(addedSpan)].spanId, uint64_t(5));
    QCOMPARE(cell(m, added, TraceCompareModel::Call), QStringLiteral("inventory: Reserve"));
    QCOMPARE(cell(m, added, TraceCompareModel::DurationA), QStringLiteral("—"));
    QCOMPARE(cell(m, added, TraceCompareModel::DurationB), QStringLiteral("8.0 ms"));
    QCOMPARE(cell(m, added, TraceCompareModel::Delta), QStringLiteral("added"));
    QCOMPARE(m->data(m->index(added, TraceCompareModel::Call), Qt::BackgroundRole).value<QColor>(),
        TraceCompareModel::addedColor());

    // The slower span with its delta, red.
    const int pricing = rowOf(m, "pricing", "Quote");
    QCOMPARE(pricing, 3);
    QCOMPARE(m->data(m->index(pricing, 0), TraceCompareModel::KindRole).toInt(), int(CompareKind::Both));
    QCOMPARE(m->data(m->index(pricing, 0), TraceCompareModel::DeltaNsRole).toLongLong(), qlonglong(45 * kMs));
    QCOMPARE(cell(m, pricing, TraceCompareModel::DurationA), QStringLiteral("55.0 ms"));
    QCOMPARE(cell(m, pricing, TraceCompareModel::DurationB), QStringLiteral("100 ms"));
    QCOMPARE(cell(m, pricing, TraceCompareModel::Delta), QStringLiteral("+45.0 ms"));
    QCOMPARE(cell(m, pricing, TraceCompareModel::DeltaPercent), QStringLiteral("+82 %"));
    QCOMPARE(m->data(m->index(pricing, TraceCompareModel::Delta), Qt::ForegroundRole).value<QColor>(),
        TraceCompareModel::slowerColor());
    QVERIFY(!m->data(m->index(pricing, TraceCompareModel::Call), Qt::BackgroundRole).isValid());
    // Redis did not change: grey, not green or red.
    const int redis = rowOf(m, "redis", "GET");
    QCOMPARE(cell(m, redis, TraceCompareModel::Delta), QStringLiteral("0"));
    QCOMPARE(m->data(m->index(redis, TraceCompareModel::Delta), Qt::ForegroundRole).value<QColor>(),
        waterfall::syntheticColor());

    // The header names both sides and gives the totals.
    const QString title = plainText(view.titleLabel());
    QVERIFY2(title.contains(QStringLiteral("Trace 4bf92f35… (before)")) && title.contains(QStringLiteral("(after)")),
        qPrintable(title));
    QVERIFY2(title.indexOf(QStringLiteral("(before)")) < title.indexOf(QStringLiteral("vs")), qPrintable(title));
    const QString totals = plainText(view.totalsLabel());
    QVERIFY2(totals.contains(QStringLiteral("Duration 100 ms → 145 ms (+45.0 ms, +45 %)")), qPrintable(totals));
    QVERIFY2(totals.contains(QStringLiteral("1 call added")), qPrintable(totals));
    QVERIFY2(totals.contains(QStringLiteral("0 calls missing")), qPrintable(totals));
    QVERIFY2(totals.contains(QStringLiteral("4 matched")), qPrintable(totals));
    QVERIFY2(totals.contains(QStringLiteral("Most own time added: pricing: Quote +45.0 ms")), qPrintable(totals));

    // The bar column's ruler spans the longer trace.
    QCOMPARE(m->axisNs(), 145 * kMs);
}

void TestTraceCompareView::differencesOnlyHidesUnchangedCalls()
{
    // B: redis unchanged, pricing +0.5 ms (under the 1 ms threshold), tax +3 ms under
    // pricing, a missing "audit" call at the top level.
    const TraceTree a = treeOf({
        {1, 0, "frontend", "GET /cart", 0, 100},
        {2, 1, "cart", "GetCart", 5, 95},
        {3, 2, "redis", "GET", 10, 20},
        {4, 2, "pricing", "Quote", 25, 80},
        {5, 4, "tax", "Compute", 30, 40},
        {6, 1, "audit", "Log", 96, 99},
    });
    const TraceTree b = treeOf({
        {1, 0, "frontend", "GET /cart", 0, 100},
        {2, 1, "cart", "GetCart", 5, 95},
        {3, 2, "redis", "GET", 10, 20},
        {4, 2, "pricing", "Quote", 25, 80.5},
        {5, 4, "tax", "Compute", 30, 43},
    });
    TraceCompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setComparison(compareTraces(a, b), QStringLiteral("A"), QStringLiteral("B"));
    TraceCompareModel *m = view.model();
    QCOMPARE(m->rowCount(), 6);
    QVERIFY(!view.differencesOnly());

    view.differencesOnlyBox()->setChecked(true);
    QVERIFY(m->differencesOnly());
    // Tax and audit differ; pricing and cart stay as tax's ancestors; redis goes.
    QStringList calls;
    for (int r = 0; r < m->rowCount(); ++r)
        calls << cell(m, r, TraceCompareModel::Call);
    QCOMPARE(calls,
        QStringList({QStringLiteral("frontend: GET /cart"), QStringLiteral("cart: GetCart"),
            QStringLiteral("pricing: Quote"), QStringLiteral("tax: Compute"), QStringLiteral("audit: Log")}));
    QVERIFY(!m->data(m->index(2, 0), TraceCompareModel::DifferentRole).toBool());
    QVERIFY(m->data(m->index(3, 0), TraceCompareModel::DifferentRole).toBool());
    QCOMPARE(m->data(m->index(4, 0), TraceCompareModel::KindRole).toInt(), int(CompareKind::OnlyInA));
    QCOMPARE(cell(m, 4, TraceCompareModel::Delta), QStringLiteral("missing"));
    QVERIFY(m->data(m->index(4, TraceCompareModel::Call), Qt::FontRole).value<QFont>().strikeOut());

    // A higher threshold: tax's +3 ms no longer counts; only the missing call and its root.
    view.thresholdBox()->setValue(5.0);
    QCOMPARE(m->minDeltaNs(), 5 * kMs);
    QCOMPARE(m->rowCount(), 2);
    QCOMPARE(cell(m, 1, TraceCompareModel::Call), QStringLiteral("audit: Log"));
    // The relative half: 0.5 ms on 55 ms is under 10 % even with no time threshold.
    view.thresholdBox()->setValue(0);
    QCOMPARE(rowOf(m, "pricing", "Quote"), 2);
    QVERIFY(!m->data(m->index(2, 0), TraceCompareModel::DifferentRole).toBool());
    QCOMPARE(rowOf(m, "redis", "GET"), -1);

    view.setDifferencesOnly(false);
    QCOMPARE(m->rowCount(), 6);
}

void TestTraceCompareView::activationNamesTheSide()
{
    std::vector<Call> calls = cartCalls();
    calls.push_back({5, 2, "inventory", "Reserve", 82, 90});
    const TraceTree a = treeOf(cartCalls());
    const TraceTree b = treeOf(calls, 2);
    TraceCompareView view;
    view.resize(1000, 400);
    view.setComparison(compareTraces(a, b), QStringLiteral("A"), QStringLiteral("B"));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy spy(&view, &TraceCompareView::spanActivated);
    TraceCompareModel *m = view.model();
    QTableView *table = view.table();

    const int pricing = rowOf(m, "pricing", "Quote");
    auto activate = [&](int row, int column) {
        table->setCurrentIndex(m->index(row, column));
        QTest::keyClick(table, Qt::Key_Return);
    };
    activate(pricing, TraceCompareModel::DurationA);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(0).toInt(), int(TraceCompareView::SideA));
    QCOMPARE(a.spans[size_t(spy.at(0).at(1).toInt())].spanId, uint64_t(4));
    activate(pricing, TraceCompareModel::Call);
    QCOMPARE(spy.at(1).at(0).toInt(), int(TraceCompareView::SideB));
    QCOMPARE(b.spans[size_t(spy.at(1).at(1).toInt())].spanId, uint64_t(4));
    // A call only in B is activated on B, whichever column.
    activate(rowOf(m, "inventory", "Reserve"), TraceCompareModel::DurationA);
    QCOMPARE(spy.at(2).at(0).toInt(), int(TraceCompareView::SideB));
    QCOMPARE(b.spans[size_t(spy.at(2).at(1).toInt())].spanId, uint64_t(5));
    QCOMPARE(view.selectedRow(), int(m->compareIndexAt(rowOf(m, "inventory", "Reserve"))));
}

void TestTraceCompareView::selectRowTurnsTheFilterOff()
{
    std::vector<Call> calls = cartCalls();
    calls[3].endMs = 125;
    const TraceComparison c = compareTraces(treeOf(cartCalls()), treeOf(calls, 2));
    TraceCompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setComparison(c, QStringLiteral("A"), QStringLiteral("B"));
    view.setDifferencesOnly(true);
    const int redis = 2;  // comparison row of redis GET, unchanged: filtered out
    QCOMPARE(c.rows[redis].service, std::string("redis"));
    QCOMPARE(view.model()->rowOf(redis), -1);
    QVERIFY(view.selectRow(redis));
    QVERIFY(!view.differencesOnly());
    QCOMPARE(view.selectedRow(), redis);
    // The selection survives switching the filter on when its row stays.
    QVERIFY(view.selectRow(c.slowestRow()));
    view.setDifferencesOnly(true);
    QCOMPARE(view.selectedRow(), c.slowestRow());
    QVERIFY(!view.selectRow(99));
}

void TestTraceCompareView::emptyView()
{
    TraceCompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(view.model()->rowCount(), 0);
    QVERIFY(!view.comparison());
    QVERIFY(plainText(view.titleLabel()).contains(QStringLiteral("No comparison")));
    view.setComparison(
        compareTraces(treeOf(cartCalls()), treeOf(cartCalls(), 2)), QStringLiteral("A"), QStringLiteral("B"));
    QCOMPARE(view.model()->rowCount(), 4);
    view.clear();
    QCOMPARE(view.model()->rowCount(), 0);
    QVERIFY(!view.comparison());
    QCOMPARE(view.selectedRow(), -1);
}

void TestTraceCompareView::screenshot()
{
    // A checkout as it usually goes (the typical trace of nine) against one slow
    // checkout: the charge retried after a slow first attempt, a cache lookup skipped,
    // a fraud check added, a failed inventory query, an orphaned email span.
    auto checkout = [](int variant, bool slow) {
        const double jitter = variant % 3;
        std::vector<Call> c = {
            {1, 0, "frontend", "GET /checkout", 0, 180 + jitter},
            {2, 1, "frontend", "render cart", 2, 8},
            {3, 1, "checkout", "POST /api/checkout", 10, 170 + jitter},
            {4, 3, "cart", "GetCart", 12, 30},
            {5, 4, "redis", "HGETALL cart:*", 14, 17},
            {6, 3, "pricing", "Quote", 32, 60 + jitter},
            {7, 6, "currency", "Convert", 34, 40},
            {8, 6, "tax", "Compute", 42, 55},
            {9, 3, "inventory", "Reserve", 62, 90},
            {10, 9, "postgres", "SELECT stock", 64, 70},
            {11, 9, "postgres", "UPDATE stock", 72, 86},
            {12, 3, "payment", "Charge", 92, 150 + jitter},
            {13, 12, "stripe", "POST /v1/charges", 95, 145 + jitter},
            {14, 3, "shipping", "Quote", 152, 165},
            {15, 1, "frontend", "render receipt", 172, 178},
            {16, 99, "email", "send receipt", 175, 185},
        };
        if (slow) {
            c[0].endMs = 410;
            c[2].endMs = 400;
            c.erase(c.begin() + 4);  // no redis lookup
            for (Call &x : c) {
                if (x.id == 9)
                    x.endMs = 112;
                if (x.id == 11) {
                    x.endMs = 108;
                    x.error = true;
                }
                if (x.id == 12) {
                    x.startMs = 130;
                    x.endMs = 360;
                }
                if (x.id == 13) {
                    x.startMs = 133;
                    x.endMs = 230;
                }
                if (x.id == 14) {
                    x.startMs = 362;
                    x.endMs = 380;
                }
                if (x.id == 15) {
                    x.startMs = 402;
                    x.endMs = 408;
                }
                if (x.id == 16) {
                    x.startMs = 404;
                    x.endMs = 415;
                }
            }
            c.push_back({20, 12, "stripe", "POST /v1/charges", 235, 355});  // the retry
            c.push_back({21, 3, "fraud", "Score", 114, 128});  // added
        }
        return c;
    };
    std::vector<TraceTree> usual;
    for (int i = 0; i < 9; ++i)
        usual.push_back(treeOf(checkout(i, false), uint8_t(10 + i), kT0 + uint64_t(i) * 1000 * kMs));
    const TraceTree typical = buildTypicalTrace(usual);
    const TraceTree slow = treeOf(checkout(0, true), 1);

    TraceCompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(1280, 640);
    view.setComparison(compareTraces(typical, slow),
        QStringLiteral("typical frontend: GET /checkout over %1 traces").arg(usual.size()),
        QStringLiteral("Trace 4bf92f35…"));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.selectRow(view.comparison()->slowestRow());
    QTest::qWait(50);

    const TraceComparison &c = *view.comparison();
    QCOMPARE(c.callsAdded, 2u);
    QCOMPARE(c.callsMissing, 1u);
    // The first charge attempt's own time grew most (it timed out before the retry).
    QCOMPARE(c.rows[size_t(c.slowestRow())].service, std::string("stripe"));
    QCOMPARE(c.rows[size_t(c.slowestRow())].occurrence, 0u);

    const QString file = QStringLiteral("/tmp/tracecompare.png");
    const QImage image = view.grab().toImage();
    QVERIFY(image.save(file));
    qInfo("screenshot: %s", qPrintable(file));
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 5) {
        for (int x = 0; x < image.width(); x += 5)
            colours.insert(image.pixel(x, y));
    }
    QVERIFY(colours.size() > 40);
    const QColor bottom = image.pixelColor(image.width() / 2, image.height() - 8);
    QVERIFY2(bottom.lightness() < 80, qPrintable(bottom.name()));

    // Differences only: the unchanged calls go, the selection stays.
    const int before = view.model()->rowCount();
    view.setDifferencesOnly(true);
    QVERIFY(view.model()->rowCount() < before);
    QCOMPARE(view.selectedRow(), c.slowestRow());
    QTest::qWait(50);
    QVERIFY(view.grab().save(QStringLiteral("/tmp/tracecompare-differences.png")));
}

QTEST_MAIN(TestTraceCompareView)
#include "tst_tracecompare.moc"

// Traces > Search traces: the dialog's filters against a store of generated traces,
// each answer checked against ground truth computed from the generated spans (and
// against TraceStore::search itself); the store's order behind the sortable columns,
// TraceQL, input that does not parse, opening a trace from a row or a plot point,
// stale searches dropped, the filters remembered only when asked to, and a look at it.
#include "darktheme.h"
#include "traces/models/tracesearchmodel.h"
#include "traces/traceql.h"
#include "traces/tracesearchdialog.h"
#include "traces/tracestore.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScatterSeries>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>

using namespace meshscope;

namespace {

// What the generator made, kept apart from the store: the ground truth.
struct GeneratedSpan {
    uint64_t id = 0;
    uint64_t parent = 0;
    std::string service;
    std::string name;
    bool error = false;
    std::map<std::string, std::string> attributes;  // span attributes
};

struct GeneratedTrace {
    TraceId id {};
    QString hex;
    uint64_t startNs = 0;
    uint64_t endNs = 0;
    std::vector<GeneratedSpan> spans;

    double durationMs() const { return double(endNs - startNs) / 1e6; }
    bool anySpan(const std::function<bool(const GeneratedSpan &)> &p) const
    {
        return std::any_of(spans.begin(), spans.end(), p);
    }
    const GeneratedSpan *span(uint64_t id) const
    {
        for (const GeneratedSpan &s : spans) {
            if (s.id == id)
                return &s;
        }
        return nullptr;
    }
    // { resource.service.name = "<service>" } >> { status = error }, by hand.
    bool errorBelow(const std::string &service) const
    {
        return anySpan([&](const GeneratedSpan &s) {
            if (!s.error)
                return false;
            for (const GeneratedSpan *a = span(s.parent); a; a = span(a->parent)) {
                if (a->service == service)
                    return true;
            }
            return false;
        });
    }
};

const std::vector<std::string> kServices = {"frontend", "checkout", "cart", "payments", "inventory", "search"};

// Sixty traces of 1 to 8 spans from a fixed seed. The first twenty started within the
// last 200 s, the rest 10 to 20 minutes ago (no start near a time range's edge).
std::vector<GeneratedTrace> generateTraces(TraceStore &store)
{
    std::mt19937 rng(20240607);
    auto pick = [&rng](int n) { return int(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
    const uint64_t nowNs = uint64_t(QDateTime::currentMSecsSinceEpoch()) * 1000000ull;
    const uint64_t ms = 1000000ull;
    std::vector<GeneratedTrace> out;
    uint64_t nextSpan = 1;
    for (int i = 0; i < 60; ++i) {
        GeneratedTrace t;
        for (int b = 0; b < 8; ++b)
            t.id[size_t(b)] = uint8_t((i + 1) >> (8 * b));
        t.id[14] = 0x5e;
        t.id[15] = 0xa1;
        t.hex = QString::fromStdString(traceIdHex(t.id));
        const uint64_t ago = i < 20 ? uint64_t(i) * 10 * 1000 * ms : (600 + uint64_t(i) * 10) * 1000 * ms;
        const uint64_t start = nowNs - ago;
        std::vector<Span> spans;
        const int count = 1 + pick(8);
        for (int k = 0; k < count; ++k) {
            Span s;
            s.traceId = t.id;
            s.spanId = nextSpan++;
            s.protocol = Protocol::Http;
            GeneratedSpan g;
            g.id = s.spanId;
            if (k == 0) {
                s.kind = SpanKind::Server;
                s.service = kServices[size_t(pick(2))];  // frontend or checkout at the edge
                s.name = "GET /" + std::to_string(pick(3));
                s.startNs = start;
                s.endNs = start + uint64_t(5 + pick(400)) * ms + uint64_t(i) * 1000;  // distinct durations
                s.attributes.push_back({"http.route", s.name.substr(4), false});
            } else {
                const Span &parent = spans[size_t(pick(k))];
                s.parentSpanId = parent.spanId;
                s.kind = SpanKind::Client;
                s.service = kServices[size_t(pick(int(kServices.size())))];
                s.name = "call " + std::to_string(pick(4));
                const uint64_t room = parent.endNs - parent.startNs;
                s.startNs = parent.startNs + uint64_t(pick(int(room / ms / 2 + 1))) * ms;
                // Children may outlive their parents: a trace lasts to its latest span end.
                s.endNs = s.startNs + uint64_t(1 + pick(300)) * ms;
            }
            if (pick(100) < 18)
                s.status = SpanStatus::Error;
            if (pick(3) == 0)
                s.attributes.push_back({"customer", pick(2) ? "gold" : "silver", false});
            if (pick(4) == 0)
                s.attributes.push_back({"plan", pick(2) ? "gold tier" : "free", false});
            s.attributes.push_back({"service.name", s.service, true});
            g.parent = s.parentSpanId;
            g.service = s.service;
            g.name = s.name;
            g.error = s.status == SpanStatus::Error;
            for (const SpanAttribute &a : s.attributes) {
                if (!a.resource)
                    g.attributes[a.key] = a.value;
            }
            t.startNs = k == 0 ? s.startNs : std::min(t.startNs, s.startNs);
            t.endNs = k == 0 ? s.endNs : std::max(t.endNs, s.endNs);
            t.spans.push_back(std::move(g));
            spans.push_back(std::move(s));
        }
        store.add(spans);
        out.push_back(std::move(t));
    }
    return out;
}

QStringList idsShown(const TraceSearchDialog &d)
{
    QStringList ids;
    for (int r = 0; r < d.model()->rowCount(); ++r)
        ids << d.model()->index(r, 0).data(TraceSearchModel::TraceIdRole).toString();
    return ids;
}

QStringList idsOf(const std::vector<TraceSummary> &found)
{
    QStringList ids;
    for (const TraceSummary &t : found)
        ids << QString::fromStdString(traceIdHex(t.traceId));
    return ids;
}

QStringList sortedList(QStringList l)
{
    l.sort();
    return l;
}

// The traces meeting `p`, newest first (the store's default order).
QStringList expectedIds(const std::vector<GeneratedTrace> &traces, const std::function<bool(const GeneratedTrace &)> &p)
{
    std::vector<const GeneratedTrace *> hits;
    for (const GeneratedTrace &t : traces) {
        if (p(t))
            hits.push_back(&t);
    }
    std::sort(hits.begin(), hits.end(), [](auto *a, auto *b) { return a->startNs > b->startNs; });
    QStringList ids;
    for (const GeneratedTrace *t : hits)
        ids << t->hex;
    return ids;
}

}  // namespace

class TestTraceSearchDialog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void opensWithTheNewestTraces();
    void serviceAndErrorsFilter();
    void attributesAndDurations();
    void timeRange();
    void sortingByDurationShowsTheSlowest();
    void localSortKeepsTheRowsFound();
    void traceQlAcrossSpans();
    void badTraceQlShowsItsErrorAndKeepsTheText();
    void badAttributesAndDurationsSayWhy();
    void enterInAFieldSearches();
    void staleSearchesAreDropped();
    void rowOpensItsTrace();
    void plotPointOpensItsTrace();
    void filtersPersistOnlyWhenEnabled();
    void modelPassesTheTester();
    void screenshot();

private:
    void searchAndWait();

    std::unique_ptr<TraceStore> m_store;
    std::vector<GeneratedTrace> m_traces;
    std::unique_ptr<TraceSearchDialog> m_dialog;
};

void TestTraceSearchDialog::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);  // QSettings land under ~/.qttest
    applyDarkTheme(*qApp);
}

void TestTraceSearchDialog::init()
{
    m_store = std::make_unique<TraceStore>();
    m_traces = generateTraces(*m_store);
    m_dialog = std::make_unique<TraceSearchDialog>(m_store.get());
    m_dialog->resize(1280, 800);
    m_dialog->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_dialog.get()));
    // Showing it searched for the newest traces; let that settle.
    QTRY_VERIFY(!m_dialog->isSearching());
}

void TestTraceSearchDialog::cleanup()
{
    m_dialog.reset();
    m_store.reset();
    m_traces.clear();
}

void TestTraceSearchDialog::searchAndWait()
{
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    QVERIFY2(m_dialog->search(), qPrintable(m_dialog->statusLabel()->text()));
    QVERIFY(m_dialog->statusLabel()->text().startsWith(QStringLiteral("Searching")));
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(0).toInt(), m_dialog->model()->rowCount());
}

void TestTraceSearchDialog::opensWithTheNewestTraces()
{
    const QStringList newest = expectedIds(m_traces, [](const GeneratedTrace &) { return true; });
    QCOMPARE(idsShown(*m_dialog), newest);  // 60 traces under the default limit of 100
    QCOMPARE(m_dialog->limitBox()->value(), 100);
    QCOMPARE(m_dialog->statusLabel()->text().section(QLatin1Char(' '), 0, 1), QStringLiteral("60 traces"));
    size_t spans = 0;
    for (const GeneratedTrace &t : m_traces)
        spans += t.spans.size();
    QVERIFY2(m_dialog->statusLabel()->text().contains(QStringLiteral("(%1 spans searched) in ").arg(spans)),
        qPrintable(m_dialog->statusLabel()->text()));
    // The service combo offers the services kept.
    QStringList offered;
    for (int i = 0; i < m_dialog->serviceEdit()->count(); ++i)
        offered << m_dialog->serviceEdit()->itemText(i);
    std::set<std::string> used;
    for (const GeneratedTrace &t : m_traces) {
        for (const GeneratedSpan &s : t.spans)
            used.insert(s.service);
    }
    QStringList expected;
    for (const std::string &s : used)
        expected << QString::fromStdString(s);
    QCOMPARE(offered, expected);
    QVERIFY(m_dialog->serviceEdit()->currentText().isEmpty());
    // Both series are plotted, one point per trace.
    QCOMPARE(m_dialog->okSeries()->count() + m_dialog->errorSeries()->count(), 60);
}

void TestTraceSearchDialog::serviceAndErrorsFilter()
{
    m_dialog->serviceEdit()->setEditText(QStringLiteral("payments"));
    m_dialog->errorsOnlyBox()->setChecked(true);
    searchAndWait();
    const QStringList expected = expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.anySpan([](const GeneratedSpan &s) { return s.service == "payments" && s.error; });
    });
    QVERIFY2(expected.size() >= 3, "the generator should make a few failing payments");
    QVERIFY(expected.size() < 60);
    QCOMPARE(idsShown(*m_dialog), expected);

    TraceFilter direct;
    direct.service = "payments";
    direct.errorsOnly = true;
    direct.limit = 100;
    QCOMPARE(idsShown(*m_dialog), idsOf(m_store->search(direct)));
    // Every row is an error row, drawn red, and every point sits in the error series.
    for (int r = 0; r < m_dialog->model()->rowCount(); ++r) {
        const QModelIndex i = m_dialog->model()->index(r, TraceSearchModel::Root);
        QVERIFY(i.data(TraceSearchModel::ErrorRole).toBool());
        const QColor fg = i.data(Qt::ForegroundRole).value<QColor>();
        QVERIFY2(fg.red() > 200 && fg.green() < 150, qPrintable(fg.name()));
    }
    QCOMPARE(m_dialog->errorSeries()->count(), int(expected.size()));
    QCOMPARE(m_dialog->okSeries()->count(), 0);
}

void TestTraceSearchDialog::attributesAndDurations()
{
    // A quoted value with a space, a bare key, a duration with a unit.
    m_dialog->attributesEdit()->setText(QStringLiteral("plan=\"gold tier\"  customer"));
    m_dialog->minDurationEdit()->setText(QStringLiteral("0.1s"));
    m_dialog->maxDurationEdit()->setText(QStringLiteral("350"));
    searchAndWait();
    const QStringList expected = expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.durationMs() >= 100 && t.durationMs() <= 350 && t.anySpan([](const GeneratedSpan &s) {
            const auto plan = s.attributes.find("plan");
            return plan != s.attributes.end() && plan->second == "gold tier" && s.attributes.count("customer");
        });
    });
    QVERIFY2(!expected.isEmpty(), "the generator should make such a trace");
    QCOMPARE(idsShown(*m_dialog), expected);
    QCOMPARE(m_dialog->attributesEdit()->text(), QStringLiteral("plan=\"gold tier\"  customer"));
}

void TestTraceSearchDialog::timeRange()
{
    m_dialog->timeRangeBox()->setCurrentIndex(int(TraceSearchDialog::TimeRange::Last5Minutes));
    QCOMPARE(m_dialog->timeRangeBox()->currentText(), QStringLiteral("Last 5 min"));
    searchAndWait();
    QCOMPARE(m_dialog->model()->rowCount(), 20);
    QCOMPARE(idsShown(*m_dialog), expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.startNs + 300ull * 1000000000ull >= uint64_t(QDateTime::currentMSecsSinceEpoch()) * 1000000ull;
    }));
    m_dialog->timeRangeBox()->setCurrentIndex(int(TraceSearchDialog::TimeRange::AllKept));
    searchAndWait();
    QCOMPARE(m_dialog->model()->rowCount(), 60);
}

void TestTraceSearchDialog::sortingByDurationShowsTheSlowest()
{
    m_dialog->limitBox()->setValue(5);
    searchAndWait();
    QCOMPARE(m_dialog->model()->rowCount(), 5);
    QVERIFY(m_dialog->statusLabel()->text().contains(QStringLiteral("limit reached: the 5 newest")));

    // A click on the Duration header searches again, slowest first.
    QHeaderView *header = m_dialog->table()->horizontalHeader();
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    const int column = TraceSearchModel::Duration;
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {},
        QPoint(header->sectionViewportPosition(column) + header->sectionSize(column) / 2, header->height() / 2));
    QCOMPARE(m_dialog->sortOrder(), TraceFilter::Sort::Duration);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(header->sortIndicatorSection(), column);
    QCOMPARE(header->sortIndicatorOrder(), Qt::DescendingOrder);

    std::vector<const GeneratedTrace *> slowest;
    for (const GeneratedTrace &t : m_traces)
        slowest.push_back(&t);
    // The store's order: slowest first, ties newest first.
    std::sort(slowest.begin(), slowest.end(), [](auto *a, auto *b) {
        return a->endNs - a->startNs != b->endNs - b->startNs ? a->endNs - a->startNs > b->endNs - b->startNs
                                                              : a->startNs > b->startNs;
    });
    QStringList expected;
    for (int i = 0; i < 5; ++i)
        expected << slowest[size_t(i)]->hex;
    QCOMPARE(idsShown(*m_dialog), expected);
    TraceFilter direct;
    direct.sort = TraceFilter::Sort::Duration;
    direct.limit = 5;
    QCOMPARE(idsShown(*m_dialog), idsOf(m_store->search(direct)));
    QVERIFY(m_dialog->statusLabel()->text().contains(QStringLiteral("limit reached: the 5 slowest")));

    // Clicking it again keeps the slowest first: the store only keeps the top.
    finished.clear();
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {},
        QPoint(header->sectionViewportPosition(column) + header->sectionSize(column) / 2, header->height() / 2));
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(header->sortIndicatorOrder(), Qt::DescendingOrder);
    QCOMPARE(idsShown(*m_dialog), expected);

    // Errors: the most failing first, ties newest first.
    m_dialog->setSortOrder(TraceFilter::Sort::Errors);
    finished.clear();
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(header->sortIndicatorSection(), int(TraceSearchModel::Errors));
    direct.sort = TraceFilter::Sort::Errors;
    QCOMPARE(idsShown(*m_dialog), idsOf(m_store->search(direct)));
    int most = 0;
    for (const GeneratedTrace &t : m_traces)
        most = std::max(most, int(std::count_if(t.spans.begin(), t.spans.end(), [](auto &s) { return s.error; })));
    QCOMPARE(m_dialog->model()->trace(0).errorCount, uint32_t(most));
}

void TestTraceSearchDialog::localSortKeepsTheRowsFound()
{
    m_dialog->limitBox()->setValue(10);
    searchAndWait();
    const QStringList found = sortedList(idsShown(*m_dialog));
    QHeaderView *header = m_dialog->table()->horizontalHeader();
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    header->setSortIndicator(TraceSearchModel::TraceIdColumn, Qt::AscendingOrder);
    QVERIFY(!m_dialog->isSearching());
    QCOMPARE(idsShown(*m_dialog), found);  // the same ten, by id
    header->setSortIndicator(TraceSearchModel::TraceIdColumn, Qt::DescendingOrder);
    QStringList reversed = found;
    std::reverse(reversed.begin(), reversed.end());
    QCOMPARE(idsShown(*m_dialog), reversed);
    QCOMPARE(finished.count(), 0);
    // A new search keeps the local order.
    searchAndWait();
    QCOMPARE(idsShown(*m_dialog), reversed);
}

void TestTraceSearchDialog::traceQlAcrossSpans()
{
    const QString query = QStringLiteral("{ resource.service.name = \"checkout\" } >> { status = error }");
    m_dialog->queryEdit()->setText(query);
    QVERIFY(m_dialog->queryErrorLabel()->isHidden());
    searchAndWait();
    const QStringList expected
        = expectedIds(m_traces, [](const GeneratedTrace &t) { return t.errorBelow("checkout"); });
    QVERIFY2(expected.size() >= 2, "the generator should make failures below checkout");
    QCOMPARE(idsShown(*m_dialog), expected);

    std::string error;
    const std::optional<TraceQlQuery> parsed = TraceQlQuery::parse(query.toStdString(), error);
    QVERIFY(parsed);
    TraceFilter direct;
    direct.query = &*parsed;
    direct.limit = 100;
    QCOMPARE(idsShown(*m_dialog), idsOf(m_store->search(direct)));

    // With the other filters (AND): only those whose root service is frontend... by a span.
    m_dialog->serviceEdit()->setEditText(QStringLiteral("frontend"));
    searchAndWait();
    QCOMPARE(idsShown(*m_dialog), expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.errorBelow("checkout") && t.anySpan([](const GeneratedSpan &s) { return s.service == "frontend"; });
    }));
    QCOMPARE(m_dialog->queryEdit()->text(), query);
}

void TestTraceSearchDialog::badTraceQlShowsItsErrorAndKeepsTheText()
{
    searchAndWait();
    const QStringList before = idsShown(*m_dialog);
    // Odd spacing on purpose: nothing may tidy it.
    const QString typed = QStringLiteral("{  resource.service.name = \"checkout\"   >> { status = error }");
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    m_dialog->queryEdit()->setText(typed);
    // Checked while typing already.
    QVERIFY(m_dialog->queryErrorLabel()->isVisible());
    const QString error = m_dialog->queryErrorLabel()->text();
    QVERIFY2(error.startsWith(QStringLiteral("TraceQL: column ")) && error.contains(QStringLiteral("'}'")),
        qPrintable(error));
    QVERIFY(!m_dialog->search());
    QVERIFY(!m_dialog->isSearching());
    QCOMPARE(m_dialog->queryEdit()->text(), typed);
    QCOMPARE(m_dialog->queryErrorLabel()->text(), error);
    QVERIFY2(m_dialog->statusLabel()->text().contains(QStringLiteral("TraceQL query does not parse")),
        qPrintable(m_dialog->statusLabel()->text()));
    QVERIFY(m_dialog->queryErrorLabel()->palette().color(QPalette::WindowText).red() > 200);
    QCOMPARE(m_dialog->queryEdit()->property("problem").toBool(), true);
    QTest::qWait(50);
    QCOMPARE(finished.count(), 0);
    QCOMPARE(idsShown(*m_dialog), before);  // the last results stay

    // A bad regex names itself.
    m_dialog->queryEdit()->setText(QStringLiteral("{ name =~ \"(unclosed\" }"));
    QVERIFY(!m_dialog->search());
    QVERIFY2(m_dialog->queryErrorLabel()->text().contains(QStringLiteral("bad regex")),
        qPrintable(m_dialog->queryErrorLabel()->text()));

    // Fixed, the error goes and the search runs.
    m_dialog->queryEdit()->setText(QStringLiteral("{ status = error }"));
    QVERIFY(m_dialog->queryErrorLabel()->isHidden());
    searchAndWait();
    QCOMPARE(m_dialog->queryEdit()->property("problem").toBool(), false);
    QCOMPARE(idsShown(*m_dialog), expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.anySpan([](const GeneratedSpan &s) { return s.error; });
    }));
}

void TestTraceSearchDialog::badAttributesAndDurationsSayWhy()
{
    struct Case {
        QLineEdit *field;
        QString text;
        QString says;
    };
    const std::vector<Case> cases = {
        {m_dialog->attributesEdit(), QStringLiteral("customer=gold =eu"), QStringLiteral("'=eu' has no key")},
        {m_dialog->attributesEdit(), QStringLiteral("customer="), QStringLiteral("'customer=' has no value")},
        {m_dialog->attributesEdit(), QStringLiteral("plan=\"gold tier"), QStringLiteral("never closed")},
        {m_dialog->attributesEdit(), QStringLiteral("plan=\"gold\"tier"), QStringLiteral("space after the closing")},
        {m_dialog->minDurationEdit(), QStringLiteral("12x"), QStringLiteral("Min duration: '12x' is not a duration")},
        {m_dialog->maxDurationEdit(), QStringLiteral("-3"), QStringLiteral("Max duration cannot be negative")},
    };
    for (const Case &c : cases) {
        c.field->setText(c.text);
        QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
        QVERIFY2(!m_dialog->search(), qPrintable(c.text));
        const QString status = m_dialog->statusLabel()->text();
        QVERIFY2(status.contains(c.says), qPrintable(c.text + QStringLiteral(" -> ") + status));
        QVERIFY(m_dialog->statusLabel()->palette().color(QPalette::WindowText).red() > 200);
        QCOMPARE(c.field->property("problem").toBool(), true);
        QCOMPARE(c.field->text(), c.text);
        QVERIFY(!m_dialog->isSearching());
        QCOMPARE(finished.count(), 0);
        c.field->clear();
    }
    m_dialog->minDurationEdit()->setText(QStringLiteral("300"));
    m_dialog->maxDurationEdit()->setText(QStringLiteral("200"));
    QVERIFY(!m_dialog->search());
    QVERIFY2(m_dialog->statusLabel()->text().contains(QStringLiteral("above max duration")),
        qPrintable(m_dialog->statusLabel()->text()));
    m_dialog->minDurationEdit()->clear();
    searchAndWait();
    QCOMPARE(m_dialog->minDurationEdit()->property("problem").toBool(), false);
    QCOMPARE(idsShown(*m_dialog), expectedIds(m_traces, [](const GeneratedTrace &t) { return t.durationMs() <= 200; }));
}

void TestTraceSearchDialog::enterInAFieldSearches()
{
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    QSignalSpy requested(m_dialog.get(), &TraceSearchDialog::traceRequested);
    m_dialog->operationEdit()->setFocus();
    QTest::keyClicks(m_dialog->operationEdit(), QStringLiteral("GET /1"));
    QTest::keyClick(m_dialog->operationEdit(), Qt::Key_Return);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(idsShown(*m_dialog), expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.anySpan([](const GeneratedSpan &s) { return s.name == "GET /1"; });
    }));
    // In the limit spin box and the service combo as well.
    m_dialog->limitBox()->setFocus();
    QTest::keyClick(m_dialog->limitBox(), Qt::Key_Return);
    QTRY_COMPARE(finished.count(), 2);
    m_dialog->serviceEdit()->setFocus();
    QTest::keyClick(m_dialog->serviceEdit(), Qt::Key_Enter);
    QTRY_COMPARE(finished.count(), 3);
    QCOMPARE(requested.count(), 0);
}

void TestTraceSearchDialog::staleSearchesAreDropped()
{
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    m_dialog->serviceEdit()->setEditText(QStringLiteral("cart"));
    QVERIFY(m_dialog->search());
    m_dialog->serviceEdit()->setEditText(QStringLiteral("inventory"));
    QVERIFY(m_dialog->search());
    QTRY_COMPARE(finished.count(), 1);
    QTest::qWait(100);
    QCOMPARE(finished.count(), 1);  // the first one never reported
    QCOMPARE(idsShown(*m_dialog), expectedIds(m_traces, [](const GeneratedTrace &t) {
        return t.anySpan([](const GeneratedSpan &s) { return s.service == "inventory"; });
    }));
    // A refused search also drops the one in flight: the error stays on screen.
    m_dialog->serviceEdit()->setEditText(QStringLiteral("cart"));
    QVERIFY(m_dialog->search());
    m_dialog->attributesEdit()->setText(QStringLiteral("=x"));
    QVERIFY(!m_dialog->search());
    QTest::qWait(100);
    QCOMPARE(finished.count(), 1);
    QVERIFY(m_dialog->statusLabel()->text().contains(QStringLiteral("has no key")));
}

void TestTraceSearchDialog::rowOpensItsTrace()
{
    searchAndWait();
    QSignalSpy requested(m_dialog.get(), &TraceSearchDialog::traceRequested);
    QTableView *table = m_dialog->table();
    const QModelIndex cell = m_dialog->model()->index(2, TraceSearchModel::Root);
    const QString id = cell.data(TraceSearchModel::TraceIdRole).toString();
    QCOMPARE(id, m_dialog->model()->index(2, TraceSearchModel::TraceIdColumn).data().toString());
    const QPoint at = table->visualRect(cell).center();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, at);
    QCOMPARE(requested.count(), 1);
    QCOMPARE(requested.at(0).at(0).toString(), id);

    // Enter on the current row opens it too, and does not search.
    QSignalSpy finished(m_dialog.get(), &TraceSearchDialog::searchFinished);
    table->setFocus();
    table->setCurrentIndex(m_dialog->model()->index(4, 0));
    QTest::keyClick(table, Qt::Key_Return);
    QCOMPARE(requested.count(), 2);
    QCOMPARE(requested.at(1).at(0).toString(), m_dialog->model()->traceIdAt(4));
    QVERIFY(!m_dialog->isSearching());
    QCOMPARE(finished.count(), 0);

    // The selected row's point is ringed on the plot.
    QPointF value;
    QVERIFY(m_dialog->pointOf(m_dialog->model()->traceIdAt(4), &value));
    QCOMPARE(m_dialog->highlightSeries()->count(), 1);
    QCOMPARE(m_dialog->highlightSeries()->at(0), value);
}

void TestTraceSearchDialog::plotPointOpensItsTrace()
{
    searchAndWait();
    QSignalSpy requested(m_dialog.get(), &TraceSearchDialog::traceRequested);
    // Every point maps back to its own trace.
    for (int r = 0; r < m_dialog->model()->rowCount(); ++r) {
        const QString id = m_dialog->model()->traceIdAt(r);
        QPointF value;
        QScatterSeries *series = m_dialog->pointOf(id, &value);
        QVERIFY(series);
        QCOMPARE(series == m_dialog->errorSeries(), m_dialog->model()->trace(r).errorCount > 0);
        QCOMPARE(value.y(), m_dialog->model()->trace(r).durationMs());
        QCOMPARE(m_dialog->traceIdAtPoint(series, value), id);
    }
    // The series reports a click on a point.
    const QString first = m_dialog->model()->traceIdAt(7);
    QPointF value;
    QScatterSeries *series = m_dialog->pointOf(first, &value);
    Q_EMIT series->clicked(value);
    QCOMPARE(requested.count(), 1);
    QCOMPARE(requested.at(0).at(0).toString(), first);
    QCOMPARE(m_dialog->table()->currentIndex().row(), m_dialog->model()->rowOf(first));

    // A real click on a point nobody shares.
    QChartView *view = m_dialog->chartView();
    QString lonely;
    QPoint at;
    for (int r = 0; r < m_dialog->model()->rowCount() && lonely.isEmpty(); ++r) {
        const QString id = m_dialog->model()->traceIdAt(r);
        QScatterSeries *s = m_dialog->pointOf(id, &value);
        const QPointF pos = view->chart()->mapToPosition(value, s);
        bool alone = true;
        for (int o = 0; o < m_dialog->model()->rowCount(); ++o) {
            QPointF other;
            QScatterSeries *os = m_dialog->pointOf(m_dialog->model()->traceIdAt(o), &other);
            const QPointF d = view->chart()->mapToPosition(other, os) - pos;
            alone = alone && (o == r || d.manhattanLength() > 24);
        }
        if (alone) {
            lonely = id;
            at = view->mapFromScene(view->chart()->mapToScene(pos));
        }
    }
    QVERIFY(!lonely.isEmpty());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QTRY_COMPARE(requested.count(), 2);
    QCOMPARE(requested.at(1).at(0).toString(), lonely);
}

void TestTraceSearchDialog::filtersPersistOnlyWhenEnabled()
{
    QSettings settings(QStringLiteral("meshscope"), QStringLiteral("meshscope"));
    settings.remove(QStringLiteral("traceSearch"));
    // Off by default: searching and closing write nothing.
    QVERIFY(!m_dialog->persistenceEnabled());
    m_dialog->operationEdit()->setText(QStringLiteral("GET /2"));
    searchAndWait();
    m_dialog->hide();
    settings.sync();
    QVERIFY(!settings.childGroups().contains(QStringLiteral("traceSearch")));

    m_dialog->setPersistenceEnabled(true);
    m_dialog->serviceEdit()->setEditText(QStringLiteral("checkout"));
    m_dialog->errorsOnlyBox()->setChecked(true);
    m_dialog->attributesEdit()->setText(QStringLiteral("plan=\"gold tier\""));
    m_dialog->minDurationEdit()->setText(QStringLiteral("10"));
    m_dialog->timeRangeBox()->setCurrentIndex(int(TraceSearchDialog::TimeRange::LastHour));
    m_dialog->limitBox()->setValue(42);
    const QString query = QStringLiteral("{ status = error }");
    m_dialog->queryEdit()->setText(query);
    m_dialog->setSortOrder(TraceFilter::Sort::Duration);  // searches, and so saves
    QTRY_VERIFY(!m_dialog->isSearching());

    TraceSearchDialog again(m_store.get());
    again.setPersistenceEnabled(true);
    QCOMPARE(again.serviceEdit()->currentText(), QStringLiteral("checkout"));
    QCOMPARE(again.operationEdit()->text(), QStringLiteral("GET /2"));
    QVERIFY(again.errorsOnlyBox()->isChecked());
    QCOMPARE(again.attributesEdit()->text(), QStringLiteral("plan=\"gold tier\""));
    QCOMPARE(again.minDurationEdit()->text(), QStringLiteral("10"));
    QVERIFY(again.maxDurationEdit()->text().isEmpty());
    QCOMPARE(again.timeRangeBox()->currentIndex(), int(TraceSearchDialog::TimeRange::LastHour));
    QCOMPARE(again.limitBox()->value(), 42);
    QCOMPARE(again.queryEdit()->text(), query);
    QCOMPARE(again.sortOrder(), TraceFilter::Sort::Duration);
    QCOMPARE(again.table()->horizontalHeader()->sortIndicatorSection(), int(TraceSearchModel::Duration));
    settings.remove(QStringLiteral("traceSearch"));
}

void TestTraceSearchDialog::modelPassesTheTester()
{
    TraceSearchModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    TraceFilter all;
    all.limit = 0;
    model.setTraces(m_store->search(all));
    QCOMPARE(model.rowCount(), 60);
    QCOMPARE(model.columnCount(), int(TraceSearchModel::ColumnCount));
    for (int c = 0; c < TraceSearchModel::ColumnCount; ++c) {
        model.sort(c, Qt::AscendingOrder);
        model.sort(c, Qt::DescendingOrder);
    }
    model.sort(TraceSearchModel::Duration, Qt::DescendingOrder);
    for (int r = 1; r < model.rowCount(); ++r)
        QVERIFY(model.trace(r - 1).durationMs() >= model.trace(r).durationMs());
    // Texts as the table shows them.
    const QModelIndex start = model.index(0, TraceSearchModel::Start);
    QCOMPARE(start.data().toString(),
        QDateTime::fromMSecsSinceEpoch(qint64(model.trace(0).startNs / 1000000))
            .toString(QStringLiteral("HH:mm:ss.zzz")));
    const QString root = model.index(0, TraceSearchModel::Root).data().toString();
    QCOMPARE(root, QString::fromStdString(model.trace(0).rootService + ": " + model.trace(0).rootOperation));
    QCOMPARE(int(model.index(0, TraceSearchModel::Duration).data(Qt::TextAlignmentRole).value<Qt::Alignment>()),
        int(Qt::AlignRight | Qt::AlignVCenter));
    QCOMPARE(model.rowOf(model.traceIdAt(13)), 13);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestTraceSearchDialog::screenshot()
{
    m_dialog->errorsOnlyBox()->setChecked(false);
    m_dialog->queryEdit()->setText(QStringLiteral("{ resource.service.name = \"checkout\" } >> { status = error"));
    QVERIFY(!m_dialog->search());
    m_dialog->queryEdit()->clear();
    m_dialog->attributesEdit()->setText(QStringLiteral("customer"));
    searchAndWait();
    m_dialog->table()->selectRow(3);
    m_dialog->queryEdit()->setText(QStringLiteral("{ resource.service.name = \"checkout\" } >> { status = error"));
    QApplication::processEvents();
    const QString out = qEnvironmentVariableIsSet("MESHSCOPE_SCREENSHOT_DIR")
        ? qEnvironmentVariable("MESHSCOPE_SCREENSHOT_DIR") + QStringLiteral("/tracesearch.png")
        : QStringLiteral("/tmp/tracesearch.png");
    QVERIFY(m_dialog->grab().save(out));
    // And on a small screen.
    m_dialog->resize(m_dialog->minimumSizeHint().expandedTo(QSize(900, 600)));
    QApplication::processEvents();
    QVERIFY(m_dialog->grab().save(QString(out).replace(QStringLiteral(".png"), QStringLiteral("-small.png"))));
}

QTEST_MAIN(TestTraceSearchDialog)
#include "tst_tracesearchdialog.moc"

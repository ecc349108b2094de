// Trace search over the TraceStore: each filter on its own, the Jaeger rule that one
// span must meet every span condition, duration over the whole trace, the time range,
// sort orders and the limit, and TraceQL queries evaluated over the compact storage.

#include "common/otlpbuilder.h"
#include "traces/traceql.h"
#include "traces/tracestore.h"

#include <QtTest>

#include <algorithm>

using namespace meshscope;
using namespace meshscope::test;

namespace {

Span span(uint64_t trace, uint64_t id, uint64_t parent, const std::string &service, const std::string &name,
    uint64_t startNs, double durationMs, std::vector<SpanAttribute> attributes = {})
{
    Span s
        = makeSpan(parent == 0 ? SpanKind::Server : SpanKind::Client, service, trace, id, parent, startNs, durationMs);
    s.name = name;
    s.attributes = std::move(attributes);
    s.attributes.push_back({"service.name", service, true});
    return s;
}

// Trace numbers of the results, in result order.
std::vector<uint64_t> traceNumbers(const std::vector<TraceSummary> &results)
{
    std::vector<uint64_t> out;
    for (const TraceSummary &s : results) {
        uint64_t n = 0;
        std::memcpy(&n, s.traceId.data() + 8, 8);
        out.push_back(n);
    }
    return out;
}

std::vector<uint64_t> sorted(std::vector<uint64_t> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

// Five traces, one second apart, each with something to find:
//  1: frontend -> cart (cart fails with status ERROR), 100 ms
//  2: frontend -> cart -> db, 30 ms, attributes split over two spans
//  3: frontend alone, 5 ms, http.route=/a on the span
//  4: checkout -> payment, payment a server span answering 503, 250 ms
//  5: frontend -> cart, 1 ms spans spread over 60 ms (the whole trace is long)
class Fixture {
public:
    Fixture()
    {
        const uint64_t t0 = kT0Ns;
        Span cartError = span(1, 12, 11, "cart", "POST /cart", t0 + 10 * kMsNs, 50);
        cartError.status = SpanStatus::Error;
        m_store.add({span(1, 11, 0, "frontend", "GET /", t0, 100, {{"http.route", "/", false}}), cartError});

        m_store.add({span(2, 21, 0, "frontend", "GET /cart", t0 + 1000 * kMsNs, 30,
                         {{"http.route", "/cart", false}, {"customer", "gold", false}}),
            span(2, 22, 21, "cart", "GET /cart", t0 + 1001 * kMsNs, 20, {{"region", "eu", false}}),
            span(2, 23, 22, "db", "SELECT", t0 + 1002 * kMsNs, 5, {{"db.system", "postgresql", false}})});

        m_store.add({span(3, 31, 0, "frontend", "GET /a", t0 + 2000 * kMsNs, 5, {{"http.route", "/a", false}})});

        Span payment = span(4, 42, 41, "payment", "POST /pay", t0 + 3010 * kMsNs, 200);
        payment.kind = SpanKind::Server;
        payment.httpStatus = 503;
        m_store.add({span(4, 41, 0, "checkout", "POST /checkout", t0 + 3000 * kMsNs, 250), payment});

        m_store.add({span(5, 51, 0, "frontend", "GET /slow", t0 + 4000 * kMsNs, 1),
            span(5, 52, 51, "cart", "GET /slow", t0 + 4059 * kMsNs, 1)});
    }

    std::vector<uint64_t> find(const TraceFilter &f) const { return traceNumbers(m_store.search(f)); }
    TraceStore m_store;
};

}  // namespace

class TestTraceSearch : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void noFilterListsNewestFirst();
    void byService();
    void byOperation();
    void errorsOnly();
    void byAttributeValueAndKey();
    void oneSpanMustMeetEverySpanCondition();
    void durationIsTheWholeTrace();
    void timeRangeOnTraceStart();
    void sortOrdersAndLimit();
    void summariesDescribeTheTrace();
    void unknownTextsMatchNothing();
    void traceQl_data();
    void traceQl();
    void traceQlTogetherWithFilters();
};

void TestTraceSearch::noFilterListsNewestFirst()
{
    Fixture f;
    QCOMPARE(f.find({}), (std::vector<uint64_t> {5, 4, 3, 2, 1}));
}

void TestTraceSearch::byService()
{
    Fixture f;
    TraceFilter q;
    q.service = "cart";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {5, 2, 1}));
    q.service = "db";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2}));
}

void TestTraceSearch::byOperation()
{
    Fixture f;
    TraceFilter q;
    q.operation = "GET /cart";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2}));
    q.service = "cart";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2}));
    q.service = "db";
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
}

void TestTraceSearch::errorsOnly()
{
    Fixture f;
    TraceFilter q;
    q.errorsOnly = true;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4, 1}));  // status ERROR, and a server 503
    q.service = "frontend";  // frontend's own spans did not fail
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    q.service = "payment";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4}));
}

void TestTraceSearch::byAttributeValueAndKey()
{
    Fixture f;
    TraceFilter q;
    q.attributes = {{"http.route", "/a"}};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {3}));
    q.attributes = {{"http.route", "/"}};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {1}));
    q.attributes.clear();
    q.attributeKeys = {"db.system"};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2}));
    q.attributeKeys = {"http.route"};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {3, 2, 1}));
    // Resource attributes count as well.
    q.attributeKeys.clear();
    q.attributes = {{"service.name", "payment"}};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4}));
}

void TestTraceSearch::oneSpanMustMeetEverySpanCondition()
{
    Fixture f;
    TraceFilter q;
    // customer=gold is on frontend's span, region=eu on cart's: no single span has both.
    q.attributes = {{"customer", "gold"}, {"region", "eu"}};
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    q.attributes = {{"customer", "gold"}, {"http.route", "/cart"}};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2}));
    q.attributes.clear();
    q.attributeKeys = {"customer", "region"};
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    // Service and attribute on different spans.
    q.attributeKeys.clear();
    q.service = "cart";
    q.attributes = {{"customer", "gold"}};
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    q.attributes = {{"region", "eu"}};
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2}));
    // Errors and operation on different spans of trace 1.
    q = {};
    q.errorsOnly = true;
    q.operation = "GET /";
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    q.operation = "POST /cart";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {1}));
}

void TestTraceSearch::durationIsTheWholeTrace()
{
    Fixture f;
    TraceFilter q;
    q.minDurationMs = 50;
    // Trace 5's spans last 1 ms each, but the trace lasts 60 ms.
    QCOMPARE(f.find(q), (std::vector<uint64_t> {5, 4, 1}));
    q.maxDurationMs = 100;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {5, 1}));
    q.minDurationMs.reset();
    q.maxDurationMs = 5;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {3}));
    // With a span condition, the duration is still the trace's.
    q = {};
    q.service = "cart";
    q.minDurationMs = 59;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {5, 1}));
}

void TestTraceSearch::timeRangeOnTraceStart()
{
    Fixture f;
    TraceFilter q;
    q.fromNs = kT0Ns + 1000 * kMsNs;
    q.toNs = kT0Ns + 3000 * kMsNs;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4, 3, 2}));
    q.toNs = kT0Ns + 2999 * kMsNs;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {3, 2}));
}

void TestTraceSearch::sortOrdersAndLimit()
{
    Fixture f;
    TraceFilter q;
    q.sort = TraceFilter::Sort::Duration;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4, 1, 5, 2, 3}));
    q.sort = TraceFilter::Sort::Spans;  // ties: newest first
    QCOMPARE(f.find(q), (std::vector<uint64_t> {2, 5, 4, 1, 3}));
    q.sort = TraceFilter::Sort::Errors;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4, 1, 5, 3, 2}));
    q.limit = 2;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4, 1}));
    q.sort = TraceFilter::Sort::Start;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {5, 4}));
    q.limit = 0;  // no limit
    QCOMPARE(f.find(q).size(), size_t(5));

    // Over many traces the limit keeps the best ones, not the first found.
    TraceStore store;
    for (uint64_t t = 1; t <= 500; ++t)
        store.add({span(t, 1, 0, "s", "op", kT0Ns + ((t * 7919) % 500) * kMsNs, double(t % 97))});
    TraceFilter top;
    top.limit = 3;
    top.sort = TraceFilter::Sort::Duration;
    const auto results = store.search(top);
    QCOMPARE(results.size(), size_t(3));
    for (const TraceSummary &s : results)
        QCOMPARE(s.durationMs(), 96.0);
    top.sort = TraceFilter::Sort::Start;
    QCOMPARE(store.search(top).front().startNs, kT0Ns + 499 * kMsNs);
}

void TestTraceSearch::summariesDescribeTheTrace()
{
    Fixture f;
    TraceFilter q;
    q.service = "payment";
    const auto results = f.m_store.search(q);
    QCOMPARE(results.size(), size_t(1));
    const TraceSummary &s = results[0];
    QCOMPARE(s.traceId, traceIdOf(4));
    QCOMPARE(s.rootService, std::string("checkout"));
    QCOMPARE(s.rootOperation, std::string("POST /checkout"));
    QCOMPARE(s.spanCount, 2u);
    QCOMPARE(s.errorCount, 1u);
    QCOMPARE(s.services, (std::vector<std::string> {"checkout", "payment"}));
    QCOMPARE(s.durationMs(), 250.0);
    QVERIFY(!s.truncated);
}

void TestTraceSearch::unknownTextsMatchNothing()
{
    Fixture f;
    TraceFilter q;
    q.service = "nobody";
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    q = {};
    q.attributes = {{"http.route", "/never"}};
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
    q = {};
    q.attributeKeys = {"no.such.key"};
    QCOMPARE(f.find(q), std::vector<uint64_t> {});
}

void TestTraceSearch::traceQl_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QList<quint64>>("traces");
    QTest::newRow("service and error on one span")
        << "{ resource.service.name = \"cart\" && status = error }" << QList<quint64> {1};
    QTest::newRow("descendant") << "{ resource.service.name = \"frontend\" } >> { status = error }"
                                << QList<quint64> {1};
    QTest::newRow("descendant two levels")
        << "{ resource.service.name = \"frontend\" } >> { span.db.system = \"postgresql\" }" << QList<quint64> {2};
    QTest::newRow("child, not grandchild")
        << "{ resource.service.name = \"frontend\" } > { span.db.system = \"postgresql\" }" << QList<quint64> {};
    QTest::newRow("both sets in the trace")
        << "{ span.customer = \"gold\" } && { span.region = \"eu\" }" << QList<quint64> {2};
    QTest::newRow("5xx server span is an error") << "{ status = error && kind = server }" << QList<quint64> {4};
    QTest::newRow("name") << "{ name = \"GET /slow\" }" << QList<quint64> {5};
    QTest::newRow("span duration") << "{ duration > 150ms }" << QList<quint64> {4};
    QTest::newRow("unknown service") << "{ resource.service.name = \"nobody\" }" << QList<quint64> {};
}

void TestTraceSearch::traceQl()
{
    QFETCH(QString, query);
    QFETCH(QList<quint64>, traces);
    std::string error;
    const auto parsed = TraceQlQuery::parse(query.toStdString(), error);
    QVERIFY2(parsed, error.c_str());
    Fixture f;
    TraceFilter q;
    q.query = &*parsed;
    q.limit = 0;
    std::vector<uint64_t> want(traces.begin(), traces.end());
    QCOMPARE(sorted(f.find(q)), sorted(want));
}

void TestTraceSearch::traceQlTogetherWithFilters()
{
    std::string error;
    const auto parsed = TraceQlQuery::parse("{ status = error }", error);
    QVERIFY2(parsed, error.c_str());
    Fixture f;
    TraceFilter q;
    q.query = &*parsed;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4, 1}));
    q.minDurationMs = 200;
    QCOMPARE(f.find(q), (std::vector<uint64_t> {4}));
    q.minDurationMs.reset();
    q.service = "frontend";
    QCOMPARE(f.find(q), (std::vector<uint64_t> {1}));
}

QTEST_GUILESS_MAIN(TestTraceSearch)
#include "tst_tracesearch.moc"

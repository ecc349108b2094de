// Trace comparison: alignment by call path and occurrence (identical traces, an added
// call, a missing call, repeated calls pairing in order, calls only in B placed among
// their siblings), latency deltas and the slowdown ranking, synthetic roots, and the
// typical trace (medians over odd and even counts, the at-least-half rule, gathering
// from the trace store, over 200 traces of ~300 spans).

#include "common/printers.h"
#include "traces/tracecompare.h"
#include "traces/tracestore.h"
#include "traces/tracetree.h"

#include <QStringList>
#include <QtTest>

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

TraceId traceId(uint32_t n)
{
    TraceId id {};
    for (int b = 0; b < 4; ++b)
        id[size_t(b)] = uint8_t(n >> (8 * b));
    id[15] = 0xc0;
    return id;
}

std::vector<Span> spansOf(const std::vector<Call> &calls, uint32_t trace = 1, uint64_t t0 = kT0)
{
    std::vector<Span> out;
    for (const Call &c : calls) {
        Span s;
        s.traceId = traceId(trace);
        s.spanId = c.id;
        s.parentSpanId = c.parent;
        s.kind = c.parent == 0 ? SpanKind::Server : SpanKind::Client;
        s.service = c.service;
        s.name = c.name;
        s.startNs = t0 + uint64_t(std::llround(c.startMs * 1e6));
        s.endNs = t0 + uint64_t(std::llround(c.endMs * 1e6));
        s.status = c.error ? SpanStatus::Error : SpanStatus::Unset;
        out.push_back(s);
    }
    return out;
}

TraceTree treeOf(const std::vector<Call> &calls, uint32_t trace = 1, uint64_t t0 = kT0)
{
    return buildTraceTree(spansOf(calls, trace, t0));
}

// One line per row: indent, "=" both / "-" only in A / "+" only in B, "service: name".
QStringList shape(const TraceComparison &c)
{
    QStringList out;
    for (const CompareRow &r : c.rows) {
        const char kind = r.kind == CompareKind::Both ? '=' : r.kind == CompareKind::OnlyInA ? '-' : '+';
        out << QString(r.depth * 2, QLatin1Char(' ')) + QLatin1Char(kind) + QLatin1Char(' ')
                + QString::fromStdString(r.service) + QStringLiteral(": ") + QString::fromStdString(r.name);
    }
    return out;
}

int rowOf(const TraceComparison &c, const char *service, const char *name, uint32_t occurrence = 0)
{
    for (size_t i = 0; i < c.rows.size(); ++i) {
        const CompareRow &r = c.rows[i];
        if (r.service == service && r.name == name && r.occurrence == occurrence)
            return int(i);
    }
    return -1;
}

// frontend GET /cart -> cart GetCart -> {redis GET, pricing Quote}
std::vector<Call> cartCalls()
{
    return {
        {1, 0, "frontend", "GET /cart", 0, 100},
        {2, 1, "cart", "GetCart", 5, 95},
        {3, 2, "redis", "GET", 10, 20},
        {4, 2, "pricing", "Quote", 25, 80},
    };
}

const Span *typicalSpan(const TraceTree &t, const char *service, const char *name)
{
    for (const Span &s : t.spans) {
        if (s.service == service && s.name == name)
            return &s;
    }
    return nullptr;
}

uint64_t offsetMsOf(const TraceTree &t, const Span &s) { return (s.startNs - t.startNs) / kMs; }

}  // namespace

class TestTraceCompare : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void clientCallsNamedAlikeAreToldApartByTheirPeer();
    void identicalTracesMatchEverywhere();
    void addedCallInB();
    void missingCallFromB();
    void repeatedCallsPairInOrder();
    void callOnlyInBSitsAmongItsSiblings();
    void slowerSpanGetsItsDelta();
    void syntheticRootsAlign();
    void emptyTraces();
    void typicalTraceMedians();
    void typicalTraceKeepsKeysInHalf();
    void typicalTraceRebuildsSyntheticRoot();
    void typicalTraceFromStore();
    void typicalTraceOfManyLargeTraces();
};

void TestTraceCompare::identicalTracesMatchEverywhere()
{
    const TraceTree a = treeOf(cartCalls(), 1);
    // Another trace of the same shape, another time and other span ids.
    std::vector<Call> calls = cartCalls();
    for (Call &c : calls) {
        c.id += 100;
        c.parent = c.parent ? c.parent + 100 : 0;
    }
    const TraceTree b = treeOf(calls, 2, kT0 + 5000 * kMs);
    const TraceComparison c = compareTraces(a, b);

    QCOMPARE(shape(c),
        QStringList({QStringLiteral("= frontend: GET /cart"), QStringLiteral("  = cart: GetCart"),
            QStringLiteral("    = redis: GET"), QStringLiteral("    = pricing: Quote")}));
    QCOMPARE(c.callsMatched, 4u);
    QCOMPARE(c.callsAdded, 0u);
    QCOMPARE(c.callsMissing, 0u);
    QCOMPARE(c.durationDeltaNs(), int64_t(0));
    QVERIFY(c.slowerBySelf.empty());
    QCOMPARE(c.slowestRow(), -1);
    for (const CompareRow &r : c.rows) {
        QCOMPARE(r.deltaNs, int64_t(0));
        QCOMPARE(r.selfDeltaNs, int64_t(0));
        QVERIFY(r.relativeDelta.has_value());
        QCOMPARE(*r.relativeDelta, 0.0);
        QCOMPARE(r.offsetA, r.offsetB);
        QCOMPARE(r.callsA, 1u);
        QCOMPARE(r.callsB, 1u);
        // Each row points at the same call on both sides.
        QCOMPARE(a.spans[size_t(r.spanA)].spanId + 100, b.spans[size_t(r.spanB)].spanId);
    }
    QCOMPARE(c.rows[3].parentRow, 1);
    QCOMPARE(c.rows[3].durationA, 55 * kMs);
    QCOMPARE(c.rows[1].selfA, 90 * kMs - 10 * kMs - 55 * kMs);
}

void TestTraceCompare::addedCallInB()
{
    const TraceTree a = treeOf(cartCalls());
    std::vector<Call> calls = cartCalls();
    calls.push_back({5, 2, "inventory", "Reserve", 82, 90});
    calls.push_back({6, 5, "postgres", "UPDATE stock", 83, 89});
    const TraceTree b = treeOf(calls);
    const TraceComparison c = compareTraces(a, b);

    QCOMPARE(shape(c),
        QStringList({QStringLiteral("= frontend: GET /cart"), QStringLiteral("  = cart: GetCart"),
            QStringLiteral("    = redis: GET"), QStringLiteral("    = pricing: Quote"),
            QStringLiteral("    + inventory: Reserve"), QStringLiteral("      + postgres: UPDATE stock")}));
    // The added subtree counts call by call.
    QCOMPARE(c.callsAdded, 2u);
    QCOMPARE(c.callsMissing, 0u);
    QCOMPARE(c.callsMatched, 4u);
    const CompareRow &added = c.rows[4];
    QCOMPARE(added.spanA, -1);
    QCOMPARE(b.spans[size_t(added.spanB)].spanId, uint64_t(5));
    QCOMPARE(added.durationA, uint64_t(0));
    QCOMPARE(added.durationB, 8 * kMs);
    QCOMPARE(added.deltaNs, int64_t(8 * kMs));
    QVERIFY(!added.relativeDelta.has_value());
    QCOMPARE(added.callsA, 0u);
    QCOMPARE(added.callsB, 1u);
    QCOMPARE(added.parentRow, 1);
    QCOMPARE(c.rows[5].parentRow, 4);
    // The parent lost self time to the new child: it is not reported as slower.
    QCOMPARE(c.rows[1].selfDeltaNs, -int64_t(8 * kMs));
}

void TestTraceCompare::missingCallFromB()
{
    std::vector<Call> calls = cartCalls();
    calls.erase(calls.begin() + 2);  // no redis GET in B
    const TraceComparison c = compareTraces(treeOf(cartCalls()), treeOf(calls));

    QCOMPARE(shape(c),
        QStringList({QStringLiteral("= frontend: GET /cart"), QStringLiteral("  = cart: GetCart"),
            QStringLiteral("    - redis: GET"), QStringLiteral("    = pricing: Quote")}));
    QCOMPARE(c.callsMissing, 1u);
    QCOMPARE(c.callsAdded, 0u);
    const CompareRow &missing = c.rows[2];
    QCOMPARE(missing.kind, CompareKind::OnlyInA);
    QCOMPARE(missing.spanB, -1);
    QCOMPARE(missing.durationA, 10 * kMs);
    QCOMPARE(missing.deltaNs, -int64_t(10 * kMs));
    QVERIFY(missing.spanA >= 0);
}

void TestTraceCompare::repeatedCallsPairInOrder()
{
    // A: three lookups of 4, 5, 6 ms; B: two lookups of 7 and 5 ms. Pairs are by
    // occurrence in start order (not by closest duration), and the third is missing.
    const TraceTree a = treeOf({
        {1, 0, "api", "GET /items", 0, 50},
        {2, 1, "db", "SELECT", 1, 5},
        {3, 1, "db", "SELECT", 10, 15},
        {4, 1, "db", "SELECT", 20, 26},
    });
    const TraceTree b = treeOf({
        {1, 0, "api", "GET /items", 0, 50},
        {4, 1, "db", "SELECT", 20, 25},  // arrival order does not matter, start order does
        {2, 1, "db", "SELECT", 1, 8},
    });
    const TraceComparison c = compareTraces(a, b);
    QCOMPARE(shape(c),
        QStringList({QStringLiteral("= api: GET /items"), QStringLiteral("  = db: SELECT"),
            QStringLiteral("  = db: SELECT"), QStringLiteral("  - db: SELECT")}));
    for (int i = 1; i <= 3; ++i) {
        QCOMPARE(c.rows[size_t(i)].occurrence, uint32_t(i - 1));
        QCOMPARE(c.rows[size_t(i)].callsA, 3u);
        QCOMPARE(c.rows[size_t(i)].callsB, 2u);
    }
    QCOMPARE(c.rows[1].durationA, 4 * kMs);
    QCOMPARE(c.rows[1].durationB, 7 * kMs);
    QCOMPARE(c.rows[1].deltaNs, int64_t(3 * kMs));
    QCOMPARE(b.spans[size_t(c.rows[1].spanB)].spanId, uint64_t(2));
    QCOMPARE(c.rows[2].durationA, 5 * kMs);
    QCOMPARE(c.rows[2].durationB, 5 * kMs);
    QCOMPARE(b.spans[size_t(c.rows[2].spanB)].spanId, uint64_t(4));
    QCOMPARE(a.spans[size_t(c.rows[3].spanA)].spanId, uint64_t(4));
    QCOMPARE(c.callsMissing, 1u);

    // The other way round, the third is added, and the B side knows A made two.
    const TraceComparison back = compareTraces(b, a);
    QCOMPARE(back.rows[3].kind, CompareKind::OnlyInB);
    QCOMPARE(back.rows[3].callsA, 2u);
    QCOMPARE(back.rows[3].callsB, 3u);
    QCOMPARE(back.callsAdded, 1u);
}

void TestTraceCompare::callOnlyInBSitsAmongItsSiblings()
{
    // B inserts "auth" between "a" and "b", and drops "c" after them: the added call
    // goes where B made it, the missing one where A made it.
    const TraceTree a = treeOf({
        {1, 0, "root", "r", 0, 100},
        {2, 1, "svc", "a", 10, 20},
        {3, 1, "svc", "b", 30, 40},
        {4, 1, "svc", "c", 50, 60},
    });
    const TraceTree b = treeOf({
        {1, 0, "root", "r", 0, 100},
        {2, 1, "svc", "auth", 1, 5},
        {3, 1, "svc", "a", 10, 20},
        {5, 1, "svc", "cache", 25, 28},
        {4, 1, "svc", "b", 30, 40},
    });
    QCOMPARE(shape(compareTraces(a, b)),
        QStringList({QStringLiteral("= root: r"), QStringLiteral("  + svc: auth"), QStringLiteral("  = svc: a"),
            QStringLiteral("  + svc: cache"), QStringLiteral("  = svc: b"), QStringLiteral("  - svc: c")}));
    // A call only in B before any pair goes after the calls only in A before that pair.
    const TraceTree m = treeOf({{1, 0, "root", "r", 0, 100}, {2, 1, "svc", "m", 1, 5}, {3, 1, "svc", "x", 10, 20}});
    const TraceTree n = treeOf({{1, 0, "root", "r", 0, 100}, {2, 1, "svc", "n", 1, 5}, {3, 1, "svc", "x", 10, 20}});
    QCOMPARE(shape(compareTraces(m, n)),
        QStringList({QStringLiteral("= root: r"), QStringLiteral("  - svc: m"), QStringLiteral("  + svc: n"),
            QStringLiteral("  = svc: x")}));
    // Different roots do not pair: A's whole tree shows as missing, then B's as added.
    const TraceTree other = treeOf({{1, 0, "root", "other", 0, 10}, {2, 1, "svc", "a", 1, 2}});
    const TraceComparison c = compareTraces(a, other);
    QCOMPARE(shape(c).mid(0, 1), QStringList({QStringLiteral("- root: r")}));
    QCOMPARE(c.callsMissing, 4u);
    QCOMPARE(c.callsAdded, 2u);
    QCOMPARE(c.rows[4].kind, CompareKind::OnlyInB);
    QCOMPARE(c.rows[5].depth, 1);
}

void TestTraceCompare::slowerSpanGetsItsDelta()
{
    const TraceTree a = treeOf(cartCalls());
    std::vector<Call> calls = cartCalls();
    calls[3].endMs = 125;  // pricing Quote: 55 -> 100 ms
    calls[1].endMs = 140;  // cart: 90 -> 135 ms
    calls[0].endMs = 145;  // frontend: 100 -> 145 ms
    calls[2].endMs = 15;  // redis: 10 -> 5 ms, faster
    const TraceTree b = treeOf(calls);
    const TraceComparison c = compareTraces(a, b);

    const int pricing = rowOf(c, "pricing", "Quote");
    QVERIFY(pricing >= 0);
    const CompareRow &r = c.rows[size_t(pricing)];
    QCOMPARE(r.kind, CompareKind::Both);
    QCOMPARE(r.durationA, 55 * kMs);
    QCOMPARE(r.durationB, 100 * kMs);
    QCOMPARE(r.deltaNs, int64_t(45 * kMs));
    QVERIFY(r.relativeDelta.has_value());
    QVERIFY(std::abs(*r.relativeDelta - 45.0 / 55.0) < 1e-9);

    const CompareRow &redis = c.rows[size_t(rowOf(c, "redis", "GET"))];
    QCOMPARE(redis.deltaNs, -int64_t(5 * kMs));
    QCOMPARE(*redis.relativeDelta, -0.5);

    QCOMPARE(c.durationA, 100 * kMs);
    QCOMPARE(c.durationB, 145 * kMs);
    QCOMPARE(c.durationDeltaNs(), int64_t(45 * kMs));
    // By own time, pricing is the culprit; by duration every ancestor grew as much.
    QCOMPARE(c.slowestRow(), pricing);
    QCOMPARE(c.rows[size_t(c.slowerBySelf.front())].selfDeltaNs, int64_t(45 * kMs));
    QCOMPARE(c.slowerByDuration.size(), size_t(3));
    QCOMPARE(c.rows[c.slowerByDuration[0]].deltaNs, int64_t(45 * kMs));
    QVERIFY(std::find(c.slowerByDuration.begin(), c.slowerByDuration.end(), uint32_t(rowOf(c, "redis", "GET")))
        == c.slowerByDuration.end());
    // Cart's own time grew by redis' 5 ms saved.
    const CompareRow &cart = c.rows[size_t(rowOf(c, "cart", "GetCart"))];
    QCOMPARE(cart.selfDeltaNs, int64_t(5 * kMs));
    QCOMPARE(c.slowerBySelf.size(), size_t(2));
    QCOMPARE(int(c.slowerBySelf[1]), rowOf(c, "cart", "GetCart"));

    // Errors are read with the one definition (isErrorSpan).
    calls[3].error = true;
    const TraceComparison failing = compareTraces(a, treeOf(calls));
    const CompareRow &fr = failing.rows[size_t(rowOf(failing, "pricing", "Quote"))];
    QVERIFY(!fr.errorA);
    QVERIFY(fr.errorB);
}

void TestTraceCompare::syntheticRootsAlign()
{
    // Both traces lost the parent of "email send"; B also lost the one of "audit log".
    const TraceTree a = treeOf({{1, 0, "frontend", "GET /", 0, 100}, {7, 99, "email", "send", 40, 60}});
    const TraceTree b = treeOf({
        {1, 0, "frontend", "GET /", 0, 100},
        {7, 98, "email", "send", 40, 70},
        {8, 97, "audit", "log", 50, 55},
    });
    QVERIFY(b.isSynthetic(b.roots.back()));
    const TraceComparison c = compareTraces(a, b);
    const QString missing = QString::fromLatin1(kSyntheticRootService);
    QCOMPARE(shape(c),
        QStringList(
            {QStringLiteral("= frontend: GET /"), QStringLiteral("= ") + missing + QStringLiteral(": ") + missing,
                QStringLiteral("  = email: send"), QStringLiteral("  + audit: log")}));
    QVERIFY(c.rows[1].synthetic);
    QVERIFY(!c.rows[0].synthetic);
    QCOMPARE(c.rows[2].deltaNs, int64_t(10 * kMs));
    // The synthetic root is not a call: neither counted nor ranked.
    QCOMPARE(c.callsMatched, 2u);
    QCOMPARE(c.callsAdded, 1u);
    QCOMPARE(int(c.slowerByDuration.size()), 1);
    QCOMPARE(c.slowerByDuration[0], 2u);

    // A received span that merely carries the synthetic root's name does not pair with it.
    const TraceTree named = treeOf({{1, 0, kSyntheticRootService, kSyntheticRootService, 0, 10}});
    const TraceTree orphan = treeOf({{7, 99, "email", "send", 0, 10}});
    const TraceComparison d = compareTraces(named, orphan);
    QCOMPARE(d.rows.size(), size_t(3));
    QCOMPARE(d.rows[0].kind, CompareKind::OnlyInA);
    QCOMPARE(d.rows[1].kind, CompareKind::OnlyInB);
    QVERIFY(d.rows[1].synthetic);
}

void TestTraceCompare::emptyTraces()
{
    const TraceComparison none = compareTraces(TraceTree {}, TraceTree {});
    QVERIFY(none.rows.empty());
    QCOMPARE(none.slowestRow(), -1);
    const TraceComparison oneSided = compareTraces(TraceTree {}, treeOf(cartCalls()));
    QCOMPARE(oneSided.callsAdded, 4u);
    QCOMPARE(oneSided.durationB, 100 * kMs);
    QVERIFY(!buildTypicalTrace({}).size());
}

void TestTraceCompare::typicalTraceMedians()
{
    // Odd count: three traces; the lookup takes 10, 30, 20 ms at offsets 2, 6, 4 ms.
    std::vector<TraceTree> odd;
    const double lookup[3][2] = {{2, 12}, {6, 36}, {4, 24}};
    for (int i = 0; i < 3; ++i) {
        odd.push_back(
            treeOf({{1, 0, "api", "GET /x", 0, 40.0 + i * 10}, {2, 1, "db", "lookup", lookup[i][0], lookup[i][1]}},
                uint32_t(i + 1), kT0 + uint64_t(i) * 1000 * kMs));
    }
    const TraceTree t = buildTypicalTrace(odd);
    QCOMPARE(t.size(), size_t(2));
    const Span *root = typicalSpan(t, "api", "GET /x");
    const Span *db = typicalSpan(t, "db", "lookup");
    QVERIFY(root && db);
    QCOMPARE(root->endNs - root->startNs, 50 * kMs);
    QCOMPARE(db->endNs - db->startNs, 20 * kMs);
    QCOMPARE(offsetMsOf(t, *db), uint64_t(4));
    QCOMPARE(db->parentSpanId, root->spanId);
    QCOMPARE(root->parentSpanId, uint64_t(0));
    QCOMPARE(t.depth[size_t(db - t.spans.data())], 1);
    QCOMPARE(db->kind, SpanKind::Client);
    QCOMPARE(db->attributes.size(), size_t(1));
    QCOMPARE(db->attributes[0].value, std::string("3"));

    // Even count: the mean of the middle two. Durations 10, 40, 20, 30 -> 25; offsets
    // 1, 7, 3, 5 -> 4.
    std::vector<TraceTree> even;
    const double call[4][2] = {{1, 11}, {7, 47}, {3, 23}, {5, 35}};
    for (int i = 0; i < 4; ++i) {
        even.push_back(treeOf(
            {{1, 0, "api", "GET /x", 0, 100}, {2, 1, "db", "lookup", call[i][0], call[i][1], i < 2}}, uint32_t(i + 1)));
    }
    const TraceTree e = buildTypicalTrace(even);
    const Span *edb = typicalSpan(e, "db", "lookup");
    QVERIFY(edb);
    QCOMPARE(edb->endNs - edb->startNs, 25 * kMs);
    QCOMPARE(offsetMsOf(e, *edb), uint64_t(4));
    // Two of four failed there: at least half, so the typical call is an error.
    QVERIFY(isErrorSpan(*edb));
    QVERIFY(!isErrorSpan(*typicalSpan(e, "api", "GET /x")));
    // Of the second (failed) and third (succeeded), one of two is still half.
    even.pop_back();
    even.erase(even.begin());
    QVERIFY(isErrorSpan(*typicalSpan(buildTypicalTrace(even), "db", "lookup")));
    even.erase(even.begin());  // the one that succeeded alone
    QVERIFY(!isErrorSpan(*typicalSpan(buildTypicalTrace(even), "db", "lookup")));
}

void TestTraceCompare::typicalTraceKeepsKeysInHalf()
{
    // Four traces: "cache" in one (dropped), "auth" in two (exactly half: kept), and the
    // second of a repeated "db query" in three (kept, as occurrence 1).
    std::vector<TraceTree> traces;
    for (uint32_t i = 0; i < 4; ++i) {
        std::vector<Call> calls = {{1, 0, "api", "GET", 0, 100}, {2, 1, "db", "query", 10, 20}};
        if (i == 0)
            calls.push_back({3, 1, "cache", "get", 5, 6});
        if (i < 2)
            calls.push_back({4, 1, "auth", "check", 1, 3});
        if (i < 3)
            calls.push_back({5, 1, "db", "query", 30, 40.0 + i});
        traces.push_back(treeOf(calls, i + 1));
    }
    const TraceTree t = buildTypicalTrace(traces);
    QVERIFY(!typicalSpan(t, "cache", "get"));
    QVERIFY(typicalSpan(t, "auth", "check"));
    QCOMPARE(t.size(), size_t(4));
    int queries = 0;
    for (const Span &s : t.spans)
        queries += s.name == "query" ? 1 : 0;
    QCOMPARE(queries, 2);
    // The second query's median over the three traces having it: 10, 11, 12 -> 11 ms.
    const TraceComparison c = compareTraces(traces[3], t);
    QCOMPARE(shape(c),
        QStringList({QStringLiteral("= api: GET"), QStringLiteral("  + auth: check"), QStringLiteral("  = db: query"),
            QStringLiteral("  + db: query")}));
    QCOMPARE(c.rows[3].durationB, 11 * kMs);
    QCOMPARE(c.rows[3].occurrence, 1u);
    QCOMPARE(c.rows[3].callsA, 1u);
    QCOMPARE(c.rows[3].callsB, 2u);
}

void TestTraceCompare::typicalTraceRebuildsSyntheticRoot()
{
    // Three traces whose "email send" lost its parent, one where it did not.
    std::vector<TraceTree> traces;
    for (uint32_t i = 0; i < 4; ++i) {
        if (i < 3)
            traces.push_back(treeOf({{1, 0, "web", "GET", 0, 50}, {7, 99, "email", "send", 20, 30.0 + i}}, i + 1));
        else
            traces.push_back(treeOf({{1, 0, "web", "GET", 0, 50}}, i + 1));
    }
    const TraceTree t = buildTypicalTrace(traces);
    QCOMPARE(t.size(), size_t(3));
    QCOMPARE(t.roots.size(), size_t(2));
    QVERIFY(t.isSynthetic(t.roots[1]));
    QVERIFY(t.problems.empty());
    const TraceComparison c = compareTraces(traces[0], t);
    QCOMPARE(c.callsAdded + c.callsMissing, 0u);
    QVERIFY(c.rows[1].synthetic);
    QCOMPARE(c.rows[2].kind, CompareKind::Both);
    QCOMPARE(c.rows[2].durationB, 11 * kMs);
}

void TestTraceCompare::typicalTraceFromStore()
{
    TraceStore store;
    // Five checkouts (root frontend GET /cart), the payment taking 10..50 ms.
    for (uint32_t i = 0; i < 5; ++i) {
        const uint64_t t0 = kT0 + uint64_t(i) * 1000 * kMs;
        store.add(spansOf(
            {{1, 0, "frontend", "GET /cart", 0, 100}, {2, 1, "payment", "charge", 5, 15.0 + 10 * i}}, i + 1, t0));
    }
    // A trace with the same span NOT at its root, and one with another root operation:
    // neither is a checkout.
    store.add(spansOf({{1, 0, "batch", "replay", 0, 900}, {2, 1, "frontend", "GET /cart", 1, 800},
                          {3, 2, "payment", "charge", 2, 700}},
        50, kT0 + 9000 * kMs));
    store.add(spansOf({{1, 0, "frontend", "GET /home", 0, 10}}, 51, kT0 + 9500 * kMs));

    // Excluding trace 5 (the slowest, 50 ms): the medians of 10, 20, 30, 40 -> 25.
    std::optional<TypicalTrace> typical = typicalTraceFor(store, "frontend", "GET /cart", traceId(5));
    QVERIFY(typical);
    QCOMPARE(typical->traceCount, 4u);
    const Span *payment = typicalSpan(typical->tree, "payment", "charge");
    QVERIFY(payment);
    QCOMPARE(payment->endNs - payment->startNs, 25 * kMs);
    QVERIFY(!typicalSpan(typical->tree, "batch", "replay"));

    // The newest ones first, up to the limit: traces 5 and 4 (50 and 40 ms) -> 45.
    typical = typicalTraceFor(store, "frontend", "GET /cart", TraceId {}, 2);
    QVERIFY(typical);
    QCOMPARE(typical->traceCount, 2u);
    payment = typicalSpan(typical->tree, "payment", "charge");
    QCOMPARE(payment->endNs - payment->startNs, 45 * kMs);

    // One of a kind: nothing to compare with once it is excluded.
    QVERIFY(!typicalTraceFor(store, "frontend", "GET /home", traceId(51)));
    QVERIFY(typicalTraceFor(store, "frontend", "GET /home", TraceId {}));
    QVERIFY(!typicalTraceFor(store, "nobody", "nothing", TraceId {}));
    QVERIFY(!typicalTraceFor(store, "frontend", "GET /cart", TraceId {}, 0));
}

void TestTraceCompare::typicalTraceOfManyLargeTraces()
{
    // 300 traces of ~300 spans (the typical trace is built from the newest 200): a root,
    // 12 services with 6 calls each, each call a few queries, some optional.
    TraceStore store;
    const char *services[] = {"cart", "pricing", "inventory", "auth", "users", "search", "reco", "ads", "email",
        "shipping", "tax", "currency"};
    for (uint32_t t = 0; t < 300; ++t) {
        std::vector<Call> calls;
        calls.push_back({1, 0, "frontend", "GET /checkout", 0, 500});
        uint64_t id = 2;
        for (int s = 0; s < 12; ++s) {
            for (int k = 0; k < 6; ++k) {
                const double start = 1 + s * 30 + k * 4;
                const uint64_t parent = id;
                calls.push_back({id++, 1, services[s], k % 2 ? "Get" : "List", start, start + 3 + (t % 7)});
                const int queries = 2 + int((t + uint32_t(s) + uint32_t(k)) % 3);
                for (int q = 0; q < queries; ++q)
                    calls.push_back({id++, parent, "postgres", "SELECT", start + 0.1 * q, start + 0.1 * q + 0.05});
            }
        }
        store.add(spansOf(calls, t + 1, kT0 + uint64_t(t) * 1000 * kMs));
    }
    const std::optional<TypicalTrace> typical = typicalTraceFor(store, "frontend", "GET /checkout", traceId(300));
    QVERIFY(typical);
    QCOMPARE(typical->traceCount, 200u);
    QVERIFY(typical->tree.size() > 250);

    const TraceTree one = buildTraceTree(*store.trace(traceId(300)));
    const TraceComparison c = compareTraces(one, typical->tree);
    QCOMPARE(c.callsMatched + c.callsMissing, uint32_t(one.size()));
    // How long it takes is bench_tracestore's to say.
}

// HTTP clients name their spans after the method alone ("GET"): the peer they name
// (server.address) tells the calls apart, so B skipping the first call is a missing
// call to that peer, not the second call taken for the first.
void TestTraceCompare::clientCallsNamedAlikeAreToldApartByTheirPeer()
{
    auto withPeers = [](std::vector<Span> spans) {
        for (Span &s : spans)
            if (s.name == "GET" && s.kind == SpanKind::Client)
                s.peer = s.spanId == 2 ? "fraud" : "payments";
        return spans;
    };
    const TraceTree a = buildTraceTree(withPeers(spansOf(
        {{1, 0, "checkout", "POST /pay", 0, 50}, {2, 1, "checkout", "GET", 1, 5}, {3, 2, "fraud", "GET /score", 2, 4},
            {4, 1, "checkout", "GET", 6, 40}, {5, 4, "payments", "GET /charge", 7, 39}})));
    const TraceTree b
        = buildTraceTree(withPeers(spansOf({{1, 0, "checkout", "POST /pay", 0, 90}, {4, 1, "checkout", "GET", 6, 80},
                                               {5, 4, "payments", "GET /charge", 7, 79}},
            2)));
    const TraceComparison c = compareTraces(a, b);
    QCOMPARE(shape(c),
        QStringList({QStringLiteral("= checkout: POST /pay"), QStringLiteral("  - checkout: GET → fraud"),
            QStringLiteral("    - fraud: GET /score"), QStringLiteral("  = checkout: GET → payments"),
            QStringLiteral("    = payments: GET /charge")}));
    QCOMPARE(c.callsMissing, 2u);
    QCOMPARE(c.rows[size_t(rowOf(c, "payments", "GET /charge"))].deltaNs, int64_t(40 * kMs));
}

QTEST_GUILESS_MAIN(TestTraceCompare)
#include "tst_tracecompare.moc"

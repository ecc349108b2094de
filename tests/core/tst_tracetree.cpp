// Trace trees: pre-order and sibling order from any arrival order, and the repairs a
// real trace needs (missing parents, parent cycles, duplicate ids, reversed clocks),
// each flagged on the span and described in words. Also the error rule and a chain too
// deep for any recursive walk.

#include "common/printers.h"
#include "traces/tracetree.h"

#include <QtTest>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>

using namespace meshscope;

namespace {

constexpr uint64_t kMs = 1000000;

Span span(uint64_t id, uint64_t parent, uint64_t startMs, uint64_t endMs, const char *service = "svc")
{
    Span s;
    s.traceId[0] = 0xAB;
    s.spanId = id;
    s.parentSpanId = parent;
    s.startNs = startMs * kMs;
    s.endNs = endMs * kMs;
    s.service = service;
    s.name = "op" + std::to_string(id);
    return s;
}

std::vector<uint64_t> idsOf(const TraceTree &t)
{
    std::vector<uint64_t> out;
    for (const Span &s : t.spans)
        out.push_back(s.spanId);
    return out;
}

int indexOf(const TraceTree &t, uint64_t id)
{
    for (size_t i = 0; i < t.size(); ++i) {
        if (t.spans[i].spanId == id && !t.isSynthetic(i))
            return int(i);
    }
    return -1;
}

bool anyProblemContains(const TraceTree &t, const std::string &text)
{
    return std::any_of(
        t.problems.begin(), t.problems.end(), [&](const std::string &p) { return p.find(text) != std::string::npos; });
}

// Every structural promise of TraceTree, checked from the parent relation alone.
void verifyLayout(const TraceTree &t)
{
    const size_t n = t.size();
    QCOMPARE(t.parent.size(), n);
    QCOMPARE(t.depth.size(), n);
    QCOMPARE(t.childBegin.size(), n);
    QCOMPARE(t.childEnd.size(), n);
    QCOMPARE(t.subtreeEnd.size(), n);
    QCOMPARE(t.flags.size(), n);
    size_t childCount = 0;
    std::vector<uint32_t> roots;
    for (size_t i = 0; i < n; ++i) {
        const int32_t p = t.parent[i];
        if (p < 0) {
            roots.push_back(uint32_t(i));
            QCOMPARE(t.depth[i], 0);
        } else {
            QVERIFY(size_t(p) < i);  // pre-order: parent first
            QCOMPARE(t.depth[i], t.depth[size_t(p)] + 1);
            QVERIFY(i < t.subtreeEnd[size_t(p)]);
        }
        QVERIFY(t.subtreeEnd[i] > i && t.subtreeEnd[i] <= n);
        if (t.childEnd[i] > t.childBegin[i])
            QCOMPARE(t.children[t.childBegin[i]], uint32_t(i + 1));
        for (uint32_t j = t.childBegin[i]; j < t.childEnd[i]; ++j) {
            const uint32_t c = t.children[j];
            QCOMPARE(t.parent[c], int32_t(i));
            if (j > t.childBegin[i])
                QVERIFY(t.spans[t.children[j - 1]].startNs <= t.spans[c].startNs);
            ++childCount;
        }
        // Everything in the subtree range descends from i.
        if (i + 1 < t.subtreeEnd[i])
            QVERIFY(t.parent[t.subtreeEnd[i] - 1] >= int32_t(i));
    }
    QCOMPARE(childCount + roots.size(), n);
    QCOMPARE(t.roots, roots);
    for (size_t r = 1; r < roots.size(); ++r)
        QVERIFY(t.spans[roots[r - 1]].startNs <= t.spans[roots[r]].startNs);
    for (size_t r = 0; r < roots.size(); ++r)
        QCOMPARE(size_t(t.subtreeEnd[roots[r]]), r + 1 < roots.size() ? size_t(roots[r + 1]) : n);
}

// A messy random trace: fan-out, orphans, duplicate ids, exact copies, reversed clocks.
std::vector<Span> messyTrace(std::mt19937_64 &rng, int n)
{
    std::vector<Span> spans;
    spans.push_back(span(1, 0, 1000, 2000));
    for (int i = 1; i < n; ++i) {
        const uint64_t parent = rng() % 10 == 0 ? 5000 + rng() % 3 : 1 + rng() % uint64_t(i);
        const uint64_t start = 1000 + rng() % 900;
        Span s = span(uint64_t(i + 1), parent, start, start + rng() % 100);
        s.service = "svc" + std::to_string(rng() % 4);
        if (rng() % 20 == 0)
            s.spanId = 1 + rng() % uint64_t(i);  // duplicate id
        if (rng() % 30 == 0)
            std::swap(s.startNs, s.endNs);
        spans.push_back(s);
        if (rng() % 25 == 0)
            spans.push_back(s);  // exact copy
    }
    return spans;
}

}  // namespace

class TestTraceTree : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void emptyTrace();
    void preOrderWithSiblingsByStart();
    void rootsSortByStart();
    void orphansWithoutRootHangUnderSyntheticRoot();
    void orphansBesideRealRootGetSyntheticSibling();
    void parentCycleIsBroken();
    void selfParentIsBroken();
    void cycleCutDoesNotDependOnArrival();
    void duplicateIdsKeptAndChildrenAttachToFirst();
    void exactCopiesDropped();
    void reversedTimesClamped();
    void chainOf200001Spans();
    void randomTracesKeepLayoutPromises();
    void anyArrivalOrderGivesSameTree();
    void resortAfterTimesChange();
    void errorSpans_data();
    void errorSpans();
    void errorCountSkipsSyntheticRoot();
    void spanIdHexIsSixteenDigits();
};

void TestTraceTree::emptyTrace()
{
    const TraceTree t = buildTraceTree({});
    QVERIFY(t.empty());
    QVERIFY(t.roots.empty());
    QVERIFY(t.problems.empty());
    QCOMPARE(t.errorCount, 0);
}

void TestTraceTree::preOrderWithSiblingsByStart()
{
    // 1 -> {2 @30, 3 @10, 4 @20}; 3 -> 5; 4 -> {6 @25, 7 @21}
    std::vector<Span> in = {span(6, 4, 25, 26), span(2, 1, 30, 40), span(5, 3, 11, 12), span(1, 0, 0, 100),
        span(7, 4, 21, 22), span(4, 1, 20, 28), span(3, 1, 10, 15)};
    const TraceTree t = buildTraceTree(in);
    QCOMPARE(idsOf(t), (std::vector<uint64_t> {1, 3, 5, 4, 7, 6, 2}));
    QCOMPARE(t.parent, (std::vector<int32_t> {-1, 0, 1, 0, 3, 3, 0}));
    QCOMPARE(t.depth, (std::vector<int32_t> {0, 1, 2, 1, 2, 2, 1}));
    QCOMPARE(t.subtreeEnd, (std::vector<uint32_t> {7, 3, 3, 6, 5, 6, 7}));
    QCOMPARE(t.roots, (std::vector<uint32_t> {0}));
    QCOMPARE(t.childEnd[0] - t.childBegin[0], 3u);
    QCOMPARE(t.children[t.childBegin[0] + 0], 1u);
    QCOMPARE(t.children[t.childBegin[0] + 1], 3u);
    QCOMPARE(t.children[t.childBegin[0] + 2], 6u);
    QCOMPARE(t.startNs, 0ull);
    QCOMPARE(t.endNs, 100 * kMs);
    QVERIFY(t.problems.empty());
    QVERIFY(std::all_of(t.flags.begin(), t.flags.end(), [](uint8_t f) { return f == 0; }));
    verifyLayout(t);
}

void TestTraceTree::rootsSortByStart()
{
    const TraceTree t = buildTraceTree({span(20, 0, 50, 60), span(10, 0, 5, 8), span(11, 10, 6, 7)});
    QCOMPARE(idsOf(t), (std::vector<uint64_t> {10, 11, 20}));
    QCOMPARE(t.roots, (std::vector<uint32_t> {0, 2}));
    QVERIFY(t.problems.empty());  // two real roots are not a repair
    verifyLayout(t);
}

void TestTraceTree::orphansWithoutRootHangUnderSyntheticRoot()
{
    // No root at all: 2 and 3 name parents that never arrived; 4 is 2's child.
    const TraceTree t = buildTraceTree({span(4, 2, 25, 30), span(2, 0x62, 20, 40), span(3, 0x63, 10, 50)});
    QCOMPARE(t.size(), size_t(4));
    QCOMPARE(t.roots.size(), size_t(1));
    QVERIFY(t.isSynthetic(0));
    QCOMPARE(t.spans[0].service, std::string(kSyntheticRootService));
    QCOMPARE(t.spans[0].spanId, 0ull);
    QCOMPARE(t.spans[0].traceId, t.spans[1].traceId);
    // It spans the orphans' extent.
    QCOMPARE(t.spans[0].startNs, 10 * kMs);
    QCOMPARE(t.spans[0].endNs, 50 * kMs);
    QCOMPARE(idsOf(t), (std::vector<uint64_t> {0, 3, 2, 4}));
    QCOMPARE(t.parent, (std::vector<int32_t> {-1, 0, 0, 2}));
    QVERIFY(t.flags[1] & SpanFlag::Orphan);
    QVERIFY(t.flags[2] & SpanFlag::Orphan);
    QVERIFY(!(t.flags[3] & SpanFlag::Orphan));  // its parent is here
    QCOMPARE(t.problems.size(), size_t(1));
    QCOMPARE(t.problems[0],
        "no root span; 2 spans whose parent is missing (parent id " + spanIdHex(0x62) + ", " + spanIdHex(0x63)
            + "): shown under a synthetic root");
    verifyLayout(t);
}

void TestTraceTree::orphansBesideRealRootGetSyntheticSibling()
{
    const TraceTree t
        = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 10, 20), span(5, 77, 30, 60), span(6, 5, 35, 40)});
    QCOMPARE(t.roots.size(), size_t(2));
    const uint32_t real = t.roots[0];
    const uint32_t synthetic = t.roots[1];
    QCOMPARE(t.spans[real].spanId, 1ull);
    QVERIFY(t.isSynthetic(synthetic));
    QCOMPARE(t.spans[synthetic].startNs, 30 * kMs);
    QCOMPARE(t.spans[synthetic].endNs, 60 * kMs);
    const int orphan = indexOf(t, 5);
    QCOMPARE(t.parent[size_t(orphan)], int32_t(synthetic));
    QCOMPARE(t.parent[size_t(indexOf(t, 6))], int32_t(orphan));
    QCOMPARE(t.parent[size_t(indexOf(t, 2))], int32_t(real));
    QCOMPARE(t.problems.size(), size_t(1));
    QVERIFY(anyProblemContains(t, "1 span whose parent is missing (parent id " + spanIdHex(77) + ")"));
    QVERIFY(anyProblemContains(t, "beside the root span"));
    QVERIFY(!anyProblemContains(t, "no root span"));
    verifyLayout(t);
}

void TestTraceTree::parentCycleIsBroken()
{
    // 0xf0 -> 0xf1 -> 0xf0, with 3 under 0xf1; a real root elsewhere.
    const TraceTree t = buildTraceTree(
        {span(1, 0, 0, 100), span(0xf1, 0xf0, 20, 30), span(0xf0, 0xf1, 10, 40), span(3, 0xf1, 22, 25)});
    QCOMPARE(t.size(), size_t(5));
    const int f0 = indexOf(t, 0xf0);
    const int f1 = indexOf(t, 0xf1);
    // The earlier-starting member is cut loose under the synthetic root.
    QVERIFY(t.flags[size_t(f0)] & SpanFlag::CycleBroken);
    QVERIFY(!(t.flags[size_t(f1)] & SpanFlag::CycleBroken));
    QVERIFY(t.isSynthetic(size_t(t.parent[size_t(f0)])));
    QCOMPARE(t.parent[size_t(f1)], int32_t(f0));
    QCOMPARE(t.parent[size_t(indexOf(t, 3))], int32_t(f1));
    QCOMPARE(t.problems.size(), size_t(1));
    QVERIFY(anyProblemContains(t, "parent cycle of 2 spans broken at span " + spanIdHex(0xf0) + " (svc op240)"));
    verifyLayout(t);
}

void TestTraceTree::selfParentIsBroken()
{
    const TraceTree t = buildTraceTree({span(5, 5, 0, 10), span(6, 5, 1, 2)});
    QCOMPARE(t.size(), size_t(3));
    QVERIFY(t.isSynthetic(0));
    QCOMPARE(t.spans[1].spanId, 5ull);
    QVERIFY(t.flags[1] & SpanFlag::CycleBroken);
    QCOMPARE(t.parent, (std::vector<int32_t> {-1, 0, 1}));
    QVERIFY(anyProblemContains(t, "parent cycle of 1 span broken at span " + spanIdHex(5)));
    verifyLayout(t);
}

void TestTraceTree::cycleCutDoesNotDependOnArrival()
{
    // A three-cycle 1 -> 2 -> 3 -> 1 with a tail 4 -> 1 and a second cycle 7 <-> 8.
    // Members 2 and 3 start at the same time: the tie is settled by content, not order.
    std::vector<Span> in = {span(1, 3, 20, 30), span(2, 1, 10, 40), span(3, 2, 10, 40), span(4, 1, 25, 26),
        span(7, 8, 50, 60), span(8, 7, 55, 56)};
    std::mt19937_64 rng(7);
    const TraceTree first = buildTraceTree(in);
    QCOMPARE(first.problems.size(), size_t(2));
    int broken = 0;
    for (uint8_t f : first.flags)
        broken += (f & SpanFlag::CycleBroken) ? 1 : 0;
    QCOMPARE(broken, 2);
    verifyLayout(first);
    for (int round = 0; round < 30; ++round) {
        std::shuffle(in.begin(), in.end(), rng);
        const TraceTree t = buildTraceTree(in);
        QCOMPARE(idsOf(t), idsOf(first));
        QCOMPARE(t.parent, first.parent);
        QCOMPARE(t.flags, first.flags);
        QCOMPARE(t.problems, first.problems);
    }
}

void TestTraceTree::duplicateIdsKeptAndChildrenAttachToFirst()
{
    // Two different spans claim id 7; the earlier one (canonical order) keeps the
    // children, the later is kept beside it with the flag.
    Span late = span(7, 1, 40, 60, "late");
    Span early = span(7, 1, 20, 30, "early");
    std::vector<Span> in = {span(1, 0, 0, 100), late, span(8, 7, 22, 25), early, span(9, 7, 45, 50)};
    const TraceTree t = buildTraceTree(in);
    QCOMPARE(t.size(), size_t(5));
    int earlyIdx = -1, lateIdx = -1;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t.spans[i].service == "early")
            earlyIdx = int(i);
        if (t.spans[i].service == "late")
            lateIdx = int(i);
    }
    QVERIFY(earlyIdx > 0 && lateIdx > 0);
    QCOMPARE(t.spans[size_t(lateIdx)].spanId, 7ull);  // not renamed
    QVERIFY(t.flags[size_t(lateIdx)] & SpanFlag::DuplicateId);
    QVERIFY(!(t.flags[size_t(earlyIdx)] & SpanFlag::DuplicateId));
    QCOMPARE(t.parent[size_t(indexOf(t, 8))], int32_t(earlyIdx));
    QCOMPARE(t.parent[size_t(indexOf(t, 9))], int32_t(earlyIdx));  // even though it sits in "late"
    QCOMPARE(t.childEnd[size_t(lateIdx)], t.childBegin[size_t(lateIdx)]);
    QCOMPARE(t.problems,
        (std::vector<std::string> {"1 duplicate span id (" + spanIdHex(7)
            + "): the spans sharing an id are all shown; children attach "
              "to the first"}));
    verifyLayout(t);

    std::reverse(in.begin(), in.end());
    const TraceTree again = buildTraceTree(in);
    QCOMPARE(idsOf(again), idsOf(t));
    QCOMPARE(again.parent, t.parent);
    QCOMPARE(again.flags, t.flags);
}

void TestTraceTree::exactCopiesDropped()
{
    Span child = span(2, 1, 10, 20);
    child.attributes = {{"http.route", "/a", false}, {"host.id", "h1", true}};
    Span differs = child;
    differs.attributes[0].value = "/b";  // same id and times, other content: a duplicate id, kept
    const TraceTree t = buildTraceTree({child, span(1, 0, 0, 100), child, child, differs});
    QCOMPARE(t.size(), size_t(3));
    QVERIFY(anyProblemContains(t, "2 exact copies of spans dropped"));
    QVERIFY(anyProblemContains(t, "1 duplicate span id (" + spanIdHex(2) + ")"));
    // "/a" sorts before "/b": the first keeps the id cleanly whatever the order.
    QCOMPARE(t.spans[1].attributes[0].value, std::string("/a"));
    QVERIFY(t.flags[2] & SpanFlag::DuplicateId);
    const TraceTree reversed = buildTraceTree({differs, child, span(1, 0, 0, 100), child});
    QCOMPARE(reversed.spans[1].attributes[0].value, std::string("/a"));
    QVERIFY(reversed.flags[2] & SpanFlag::DuplicateId);
}

void TestTraceTree::reversedTimesClamped()
{
    const TraceTree t = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 50, 40)});
    QCOMPARE(t.spans[1].startNs, 50 * kMs);
    QCOMPARE(t.spans[1].endNs, 50 * kMs);
    QVERIFY(t.flags[1] & SpanFlag::TimestampClamped);
    QVERIFY(!(t.flags[0] & SpanFlag::TimestampClamped));
    QVERIFY(anyProblemContains(t, "1 span ends before it starts: end set to start"));
}

void TestTraceTree::chainOf200001Spans()
{
    const uint64_t n = 200001;
    std::vector<Span> in;
    in.reserve(n);
    for (uint64_t i = 1; i <= n; ++i)
        in.push_back(span(i, i - 1, i, 2 * n + 10 - i));
    std::mt19937_64 rng(3);
    std::shuffle(in.begin(), in.end(), rng);
    const TraceTree t = buildTraceTree(std::move(in));
    QCOMPARE(t.size(), size_t(n));
    QVERIFY(t.problems.empty());
    for (uint64_t i = 0; i < n; ++i) {
        QCOMPARE(t.spans[i].spanId, i + 1);
        QCOMPARE(t.depth[i], int32_t(i));
        QCOMPARE(t.subtreeEnd[i], uint32_t(n));
    }
    verifyLayout(t);

    // Closing the chain into one cycle (the top's parent is the bottom) must not hang.
    std::vector<Span> ring;
    ring.reserve(n);
    for (uint64_t i = 1; i <= n; ++i)
        ring.push_back(span(i, i == 1 ? n : i - 1, i, 2 * n + 10 - i));
    const TraceTree r = buildTraceTree(std::move(ring));
    QCOMPARE(r.size(), size_t(n + 1));
    QVERIFY(r.flags[1] & SpanFlag::CycleBroken);
    QCOMPARE(r.spans[1].spanId, 1ull);  // started first
    QCOMPARE(r.depth[n], int32_t(n));
}

void TestTraceTree::randomTracesKeepLayoutPromises()
{
    std::mt19937_64 rng(11);
    for (int round = 0; round < 200; ++round) {
        const TraceTree t = buildTraceTree(messyTrace(rng, 1 + int(rng() % 300)));
        verifyLayout(t);
        if (QTest::currentTestFailed())
            QFAIL(qPrintable(QStringLiteral("round %1").arg(round)));
        int synthetic = 0;
        for (size_t i = 0; i < t.size(); ++i) {
            synthetic += t.isSynthetic(i) ? 1 : 0;
            const bool underSynthetic = t.parent[i] >= 0 && t.isSynthetic(size_t(t.parent[i]));
            QCOMPARE(underSynthetic, bool(t.flags[i] & (SpanFlag::Orphan | SpanFlag::CycleBroken)));
            QVERIFY(t.spans[i].startNs <= t.spans[i].endNs);
        }
        QVERIFY(synthetic <= 1);
    }
}

void TestTraceTree::anyArrivalOrderGivesSameTree()
{
    std::mt19937_64 rng(5);
    std::vector<Span> in = messyTrace(rng, 400);
    const TraceTree first = buildTraceTree(in);
    QVERIFY(first.problems.size() >= 3);  // orphans, duplicate ids, copies (and clamps)
    for (int round = 0; round < 20; ++round) {
        std::shuffle(in.begin(), in.end(), rng);
        const TraceTree t = buildTraceTree(in);
        QCOMPARE(t.spans, first.spans);
        QCOMPARE(t.parent, first.parent);
        QCOMPARE(t.flags, first.flags);
        QCOMPARE(t.problems, first.problems);
    }
}

void TestTraceTree::resortAfterTimesChange()
{
    TraceTree t = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 10, 20), span(3, 1, 30, 40), span(4, 3, 31, 32)});
    QCOMPARE(idsOf(t), (std::vector<uint64_t> {1, 2, 3, 4}));
    // Move 3's subtree before 2.
    t.spans[2].startNs = 1 * kMs;
    t.spans[3].startNs = 2 * kMs;
    t.spans[0].endNs = 200 * kMs;
    const std::vector<uint32_t> moved = resortTraceTree(t);
    QCOMPARE(idsOf(t), (std::vector<uint64_t> {1, 3, 4, 2}));
    QCOMPARE(moved, (std::vector<uint32_t> {0, 3, 1, 2}));
    QCOMPARE(t.parent, (std::vector<int32_t> {-1, 0, 1, 0}));
    QCOMPARE(t.endNs, 200 * kMs);
    verifyLayout(t);
}

void TestTraceTree::errorSpans_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("http");
    QTest::addColumn<int>("grpc");
    QTest::addColumn<bool>("error");
    const int server = int(SpanKind::Server), client = int(SpanKind::Client), internal = int(SpanKind::Internal);
    const int unset = int(SpanStatus::Unset), ok = int(SpanStatus::Ok), err = int(SpanStatus::Error);
    QTest::newRow("status error") << internal << err << -1 << -1 << true;
    QTest::newRow("plain") << server << unset << 200 << -1 << false;
    QTest::newRow("server 503") << server << unset << 503 << -1 << true;
    QTest::newRow("server 404") << server << unset << 404 << -1 << false;
    QTest::newRow("server 599") << server << unset << 599 << -1 << true;
    QTest::newRow("server 600") << server << unset << 600 << -1 << false;
    // The client's side of a failed call is not counted again: its server span is.
    QTest::newRow("client 404") << client << unset << 404 << -1 << false;
    QTest::newRow("client 500") << client << unset << 500 << -1 << false;
    QTest::newRow("internal 500") << internal << unset << 500 << -1 << false;
    // gRPC failures count through the status the SDK sets, not the code alone.
    QTest::newRow("grpc 14 server unset") << server << unset << 200 << 14 << false;
    QTest::newRow("grpc 14 server error") << server << err << -1 << 14 << true;
    QTest::newRow("status ok, server 500") << server << ok << 500 << -1 << true;
}

void TestTraceTree::errorSpans()
{
    QFETCH(int, kind);
    QFETCH(int, status);
    QFETCH(int, http);
    QFETCH(int, grpc);
    QFETCH(bool, error);
    Span s = span(1, 0, 0, 1);
    s.kind = SpanKind(kind);
    s.status = SpanStatus(status);
    s.httpStatus = http;
    s.grpcStatus = grpc;
    QCOMPARE(isErrorSpan(s), error);
}

void TestTraceTree::errorCountSkipsSyntheticRoot()
{
    Span bad = span(2, 99, 0, 10);
    bad.status = SpanStatus::Error;
    Span bad2 = span(3, 2, 1, 2);
    bad2.kind = SpanKind::Server;
    bad2.httpStatus = 502;
    const TraceTree t = buildTraceTree({bad, bad2, span(4, 2, 3, 4)});
    QCOMPARE(t.size(), size_t(4));
    QCOMPARE(t.errorCount, 2);
}

void TestTraceTree::spanIdHexIsSixteenDigits()
{
    // The decoder keeps the wire bytes in memory order; the text follows those bytes.
    auto fromWire = [](std::array<uint8_t, 8> bytes) {
        uint64_t id = 0;
        std::memcpy(&id, bytes.data(), 8);
        return id;
    };
    QCOMPARE(spanIdHex(0), std::string("0000000000000000"));
    QCOMPARE(spanIdHex(fromWire({0, 0, 0, 0, 0, 0, 0, 0xf0})), std::string("00000000000000f0"));
    QCOMPARE(spanIdHex(fromWire({0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10})), std::string("fedcba9876543210"));
}

QTEST_GUILESS_MAIN(TestTraceTree)
#include "tst_tracetree.moc"

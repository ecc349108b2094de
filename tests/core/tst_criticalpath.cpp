// Timing on a trace tree: the critical path (Jaeger UI's rules, hand-built cases with a
// known answer and random trees against a plain recursive reference), self time, and
// clock-skew adjustment (centring, async children, same host, inheritance, notes).

#include "common/printers.h"
#include "traces/clockskew.h"
#include "traces/criticalpath.h"
#include "traces/tracetree.h"

#include <QtTest>

#include <algorithm>
#include <functional>
#include <random>

using namespace meshscope;

namespace {

constexpr uint64_t kMs = 1000000;

Span span(uint64_t id, uint64_t parent, uint64_t startMs, uint64_t endMs, const char *service = "svc",
    const char *host = nullptr)
{
    Span s;
    s.spanId = id;
    s.parentSpanId = parent;
    s.startNs = startMs * kMs;
    s.endNs = endMs * kMs;
    s.service = service;
    s.name = "op" + std::to_string(id);
    if (host)
        s.attributes.push_back({"host.name", host, true});
    return s;
}

uint32_t at(const TraceTree &t, uint64_t id)
{
    for (size_t i = 0; i < t.size(); ++i) {
        if (t.spans[i].spanId == id && !t.isSynthetic(i))
            return uint32_t(i);
    }
    qFatal("span %llu not in tree", static_cast<unsigned long long>(id));
}

std::vector<uint64_t> pathIds(const TraceTree &t, const std::vector<uint32_t> &path)
{
    std::vector<uint64_t> out;
    for (uint32_t i : path)
        out.push_back(t.spans[i].spanId);
    return out;
}

// Sections as (span id, start ms, end ms) for compact expectations.
using Stretch = std::tuple<uint64_t, uint64_t, uint64_t>;
std::vector<Stretch> stretches(const TraceTree &t, const CriticalPathResult &r)
{
    std::vector<Stretch> out;
    for (const CriticalSection &s : r.sections)
        out.emplace_back(t.spans[s.span].spanId, s.startNs / kMs, s.endNs / kMs);
    return out;
}

// The reference: Jaeger's recursive formulation, written as plainly as possible and
// independently of the production code's sorted cursors.
struct Reference {
    const TraceTree &t;
    std::vector<std::vector<uint32_t>> kids;
    std::vector<uint64_t> cs, ce;
    std::vector<bool> kept, used, onPath;
    std::vector<uint64_t> critical;
    std::vector<CriticalSection> sections;

    explicit Reference(const TraceTree &tree)
        : t(tree)
        , kids(tree.size())
        , cs(tree.size())
        , ce(tree.size())
        , kept(tree.size(), false)
        , used(tree.size(), false)
        , onPath(tree.size(), false)
        , critical(tree.size(), 0)
    {
        for (size_t i = 0; i < t.size(); ++i) {
            if (t.parent[i] >= 0)
                kids[size_t(t.parent[i])].push_back(uint32_t(i));
        }
        for (size_t i = 0; i < t.size(); ++i) {
            if (t.parent[i] < 0) {
                cs[i] = t.spans[i].startNs;
                ce[i] = t.spans[i].endNs;
                kept[i] = true;
                sanitize(uint32_t(i));
            }
        }
        for (size_t i = 0; i < t.size(); ++i) {
            if (t.parent[i] < 0) {
                const size_t first = sections.size();
                walk(uint32_t(i), ce[i]);
                std::reverse(sections.begin() + std::ptrdiff_t(first), sections.end());
            }
        }
    }

    void sanitize(uint32_t p)
    {
        for (uint32_t c : kids[p]) {
            const Span &s = t.spans[c];
            if (s.endNs <= cs[p] || s.startNs >= ce[p])
                continue;
            cs[c] = std::max(s.startNs, cs[p]);
            ce[c] = std::min(s.endNs, ce[p]);
            kept[c] = true;
            sanitize(c);
        }
    }

    void section(uint32_t span, uint64_t from, uint64_t to)
    {
        if (to <= from)
            return;
        critical[span] += to - from;
        if (!sections.empty() && sections.back().span == span && sections.back().startNs == to)
            sections.back().startNs = from;
        else
            sections.push_back({span, from, to});
    }

    void walk(uint32_t node, uint64_t point)
    {
        onPath[node] = true;
        for (;;) {
            int best = -1;
            for (uint32_t c : kids[node]) {
                if (!kept[c] || used[c] || ce[c] > point)
                    continue;
                if (best < 0 || ce[c] > ce[size_t(best)] || (ce[c] == ce[size_t(best)] && c > uint32_t(best)))
                    best = int(c);
            }
            if (best < 0) {
                section(node, cs[node], point);
                return;
            }
            const uint32_t c = uint32_t(best);
            used[c] = true;
            section(node, ce[c], point);
            walk(c, ce[c]);
            point = cs[c];
        }
    }

    std::vector<uint32_t> path() const
    {
        std::vector<uint32_t> out;
        for (size_t i = 0; i < onPath.size(); ++i) {
            if (onPath[i])
                out.push_back(uint32_t(i));
        }
        return out;
    }

    // Self time by counting covered nanoseconds one by one (times are small here).
    uint64_t self(uint32_t i) const
    {
        const Span &s = t.spans[i];
        uint64_t free = 0;
        for (uint64_t x = s.startNs; x < s.endNs; ++x) {
            bool covered = false;
            for (uint32_t c : kids[i])
                covered = covered || (t.spans[c].startNs <= x && x < t.spans[c].endNs);
            free += covered ? 0 : 1;
        }
        return free;
    }
};

std::vector<Span> randomTrace(std::mt19937_64 &rng)
{
    const int n = 1 + int(rng() % 40);
    std::vector<Span> spans;
    std::vector<std::pair<uint64_t, uint64_t>> times;
    spans.push_back(span(1, 0, 0, 0));
    spans[0].startNs = 100;
    spans[0].endNs = 100 + rng() % 200;
    times.emplace_back(spans[0].startNs, spans[0].endNs);
    for (int i = 1; i < n; ++i) {
        const size_t p = rng() % size_t(i);
        const auto [ps, pe] = times[p];
        // Mostly inside the parent; sometimes overflowing it or wholly outside.
        const uint64_t start = ps + rng() % (pe - ps + 30) - std::min<uint64_t>(ps, rng() % 4 == 0 ? 20 : 0);
        const uint64_t end = start + (rng() % 5 == 0 ? 0 : rng() % 80);
        uint64_t parentId = p + 1;
        if (rng() % 15 == 0)
            parentId = 900 + rng() % 2;  // orphan: a second, synthetic root
        else if (rng() % 25 == 0)
            parentId = 0;  // another real root
        Span s = span(uint64_t(i + 1), parentId, 0, 0);
        s.startNs = start;
        s.endNs = end;
        spans.push_back(s);
        times.emplace_back(start, end);
    }
    std::shuffle(spans.begin(), spans.end(), rng);
    return spans;
}

ClockSkewResult skew(std::vector<Span> spans) { return adjustClockSkew(buildTraceTree(std::move(spans))); }

bool anyNoteContains(const ClockSkewResult &r, const std::string &text)
{
    return std::any_of(
        r.notes.begin(), r.notes.end(), [&](const std::string &n) { return n.find(text) != std::string::npos; });
}

}  // namespace

class TestCriticalPath : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void emptyTree();
    void sequentialChildren();
    void parallelChildren();
    void overlappingChildren();
    void backToBackChildren();
    void childOverflowingParentIsClamped();
    void childWhollyOutsideIsDropped();
    void equalEndsTakeLaterSibling();
    void nestedDescent();
    void eachRootHasItsPath();
    void selfTime();
    void randomTreesMatchReference();
    void chainOf200001Spans();
    void wideFanOut();

    void skewChildBeforeParentIsCentred();
    void skewChildLongerThanParentOnlyStartsWithParent();
    void skewChildInsideParentUntouched();
    void skewSameHostUntouched();
    void skewDescendantsInherit();
    void skewHostKeys();
    void skewResortsSiblings();
    void skewLeavesOrphansAndRoots();
    void skewNotesAreCapped();
    void skewOnDeepChain();
};

void TestCriticalPath::emptyTree()
{
    const CriticalPathResult r = computeCriticalPath(TraceTree {});
    QVERIFY(r.path.empty());
    QVERIFY(r.sections.empty());
}

void TestCriticalPath::sequentialChildren()
{
    const TraceTree t = buildTraceTree({span(3, 1, 50, 90), span(1, 0, 0, 100), span(2, 1, 10, 40)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 2, 3}));
    QCOMPARE(pathIds(t, criticalPath(t)), (std::vector<uint64_t> {1, 2, 3}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{1, 0, 10}, {2, 10, 40}, {1, 40, 50}, {3, 50, 90}, {1, 90, 100}}));
    QCOMPARE(r.criticalNs[at(t, 1)], 30 * kMs);
    QCOMPARE(r.criticalNs[at(t, 2)], 30 * kMs);
    QCOMPARE(r.criticalNs[at(t, 3)], 40 * kMs);
    QCOMPARE(r.selfNs[at(t, 1)], 30 * kMs);
}

void TestCriticalPath::parallelChildren()
{
    // Both start at 10; the one ending at 90 holds the parent up, the other never does.
    const TraceTree t = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 10, 60), span(3, 1, 10, 90)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 3}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{1, 0, 10}, {3, 10, 90}, {1, 90, 100}}));
    QCOMPARE(r.criticalNs[at(t, 2)], 0ull);
    QCOMPARE(r.selfNs[at(t, 1)], 20 * kMs);
    QCOMPARE(r.selfNs[at(t, 2)], 50 * kMs);
}

void TestCriticalPath::overlappingChildren()
{
    // From 100: C (ends 95); back at C's start 60, B ends 80 > 60 so it is skipped and A
    // (ends 50) is next. The parent owns 50..60 although B ran then: Jaeger's rule.
    const TraceTree t
        = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 10, 50), span(3, 1, 40, 80), span(4, 1, 60, 95)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 2, 4}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{1, 0, 10}, {2, 10, 50}, {1, 50, 60}, {4, 60, 95}, {1, 95, 100}}));
    QCOMPARE(r.criticalNs[at(t, 1)], 25 * kMs);
    QCOMPARE(r.selfNs[at(t, 1)], 15 * kMs);  // 0..10 and 95..100
    QCOMPARE(r.criticalNs[at(t, 3)], 0ull);
}

void TestCriticalPath::backToBackChildren()
{
    // A child that ends exactly where the next one starts is taken (end <= point).
    const TraceTree t = buildTraceTree({span(1, 0, 0, 30), span(2, 1, 0, 10), span(3, 1, 10, 20), span(4, 1, 20, 30)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 2, 3, 4}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{2, 0, 10}, {3, 10, 20}, {4, 20, 30}}));
    QCOMPARE(r.criticalNs[at(t, 1)], 0ull);
    QCOMPARE(r.selfNs[at(t, 1)], 0ull);
}

void TestCriticalPath::childOverflowingParentIsClamped()
{
    // 2 runs past its parent's end: clamped to 50..100. Its child 3 (120..140) then lies
    // wholly outside the clamped 2 and is dropped; 4 (90..130) is clamped to 90..100.
    const TraceTree t = buildTraceTree(
        {span(1, 0, 0, 100), span(2, 1, 50, 150), span(3, 2, 120, 140), span(4, 2, 90, 130), span(5, 1, 5, 20)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 5, 2, 4}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{1, 0, 5}, {5, 5, 20}, {1, 20, 50}, {2, 50, 90}, {4, 90, 100}}));
    QCOMPARE(r.criticalNs[at(t, 3)], 0ull);
    // Self time is the span's own: 2 is busy with children 90..140 of its 50..150.
    QCOMPARE(r.selfNs[at(t, 2)], 50 * kMs);
    QCOMPARE(r.selfNs[at(t, 1)], 35 * kMs);  // children 5..20 and 50..100 (clamped)
}

void TestCriticalPath::childWhollyOutsideIsDropped()
{
    // 2 ends where the parent starts, 3 starts where it ends: both outside. 4 starts
    // before the parent and is clamped to begin with it.
    const TraceTree t = buildTraceTree(
        {span(1, 0, 50, 100), span(2, 1, 0, 50), span(3, 1, 100, 150), span(4, 1, 40, 70), span(5, 3, 110, 120)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 4}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{4, 50, 70}, {1, 70, 100}}));
    QCOMPARE(r.criticalNs[at(t, 2)], 0ull);
    QCOMPARE(r.criticalNs[at(t, 3)], 0ull);
    QCOMPARE(r.criticalNs[at(t, 5)], 0ull);
    QCOMPARE(r.selfNs[at(t, 1)], 30 * kMs);
}

void TestCriticalPath::equalEndsTakeLaterSibling()
{
    const TraceTree t = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 10, 80), span(3, 1, 30, 80)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 3}));
    QCOMPARE(stretches(t, r), (std::vector<Stretch> {{1, 0, 30}, {3, 30, 80}, {1, 80, 100}}));
}

void TestCriticalPath::nestedDescent()
{
    const TraceTree t = buildTraceTree(
        {span(1, 0, 0, 100), span(2, 1, 0, 80), span(3, 2, 10, 30), span(4, 2, 40, 70), span(5, 4, 45, 50)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(pathIds(t, r.path), (std::vector<uint64_t> {1, 2, 3, 4, 5}));
    QCOMPARE(stretches(t, r),
        (std::vector<Stretch> {
            {2, 0, 10}, {3, 10, 30}, {2, 30, 40}, {4, 40, 45}, {5, 45, 50}, {4, 50, 70}, {2, 70, 80}, {1, 80, 100}}));
    QCOMPARE(r.criticalNs[at(t, 4)], 25 * kMs);
    QCOMPARE(r.selfNs[at(t, 4)], 25 * kMs);
}

void TestCriticalPath::eachRootHasItsPath()
{
    // A real root and, beside it, the synthetic root holding an orphan subtree.
    const TraceTree t = buildTraceTree(
        {span(1, 0, 0, 100), span(2, 1, 10, 90), span(7, 99, 20, 60), span(8, 7, 30, 50), span(9, 99, 70, 80)});
    QCOMPARE(t.roots.size(), size_t(2));
    const uint32_t synthetic = t.roots[1];
    QVERIFY(t.isSynthetic(synthetic));
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(r.path, (std::vector<uint32_t> {0, 1, synthetic, at(t, 7), at(t, 8), at(t, 9)}));
    QCOMPARE(stretches(t, r),
        (std::vector<Stretch> {{1, 0, 10}, {2, 10, 90}, {1, 90, 100},  // the real root, in time order
            {7, 20, 30}, {8, 30, 50}, {7, 50, 60}, {0, 60, 70}, {9, 70, 80}}));  // then the synthetic one
    QCOMPARE(r.criticalNs[synthetic], 10 * kMs);
}

void TestCriticalPath::selfTime()
{
    // Children 10..30, 20..40 (overlap), 60..70, 65..65 (empty), 90..120 (overflow).
    const TraceTree t = buildTraceTree({span(1, 0, 0, 100), span(2, 1, 10, 30), span(3, 1, 20, 40), span(4, 1, 60, 70),
        span(5, 1, 65, 65), span(6, 1, 90, 120), span(7, 6, 95, 96)});
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(r.selfNs[at(t, 1)], 100 * kMs - 30 * kMs - 10 * kMs - 10 * kMs);
    QCOMPARE(r.selfNs[at(t, 6)], 29 * kMs);
    QCOMPARE(r.selfNs[at(t, 7)], 1 * kMs);
    QCOMPARE(r.selfNs[at(t, 5)], 0ull);
}

void TestCriticalPath::randomTreesMatchReference()
{
    std::mt19937_64 rng(2024);
    for (int round = 0; round < 3000; ++round) {
        const TraceTree t = buildTraceTree(randomTrace(rng));
        const CriticalPathResult r = computeCriticalPath(t);
        const Reference ref(t);
        const QString where = QStringLiteral("round %1, %2 spans").arg(round).arg(t.size());
        QVERIFY2(r.path == ref.path(), qPrintable(where));
        QVERIFY2(r.criticalNs == ref.critical, qPrintable(where));
        QVERIFY2(r.sections == ref.sections, qPrintable(where));
        for (uint32_t i = 0; i < t.size(); ++i)
            QVERIFY2(r.selfNs[i] == ref.self(i), qPrintable(where));
        // Each root's sections tile the root exactly.
        for (uint32_t root : t.roots) {
            uint64_t sum = 0;
            for (uint32_t i = root; i < t.subtreeEnd[root]; ++i)
                sum += r.criticalNs[i];
            QVERIFY2(sum == t.durationNs(root), qPrintable(where));
        }
    }
}

void TestCriticalPath::chainOf200001Spans()
{
    const uint64_t n = 200001;
    std::vector<Span> in;
    in.reserve(n);
    for (uint64_t i = 1; i <= n; ++i)
        in.push_back(span(i, i - 1, i, 2 * n + 10 - i));
    std::mt19937_64 rng(9);
    std::shuffle(in.begin(), in.end(), rng);
    const TraceTree t = buildTraceTree(std::move(in));
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(r.path.size(), size_t(n));
    QCOMPARE(r.sections.size(), size_t(2 * n - 1));
    for (uint64_t i = 0; i + 1 < n; ++i) {
        QCOMPARE(r.criticalNs[i], 2 * kMs);  // 1 ms before its child, 1 ms after
        QCOMPARE(r.selfNs[i], 2 * kMs);
    }
    QCOMPARE(r.criticalNs[n - 1], t.durationNs(n - 1));
    QCOMPARE(r.sections.front().span, 0u);
    QCOMPARE(r.sections.back().span, 0u);
}

void TestCriticalPath::wideFanOut()
{
    // 100,000 children of one root, back to back: every one is on the path.
    const uint64_t n = 100000;
    std::vector<Span> in;
    in.push_back(span(1, 0, 0, n));
    for (uint64_t i = 0; i < n; ++i)
        in.push_back(span(i + 2, 1, i, i + 1));
    std::mt19937_64 rng(4);
    std::shuffle(in.begin(), in.end(), rng);
    const TraceTree t = buildTraceTree(std::move(in));
    const CriticalPathResult r = computeCriticalPath(t);
    QCOMPARE(r.path.size(), size_t(n + 1));
    QCOMPARE(r.criticalNs[0], 0ull);
    QCOMPARE(r.sections.size(), size_t(n));
}

void TestCriticalPath::skewChildBeforeParentIsCentred()
{
    // reviews (host a) 100..200 calls ratings (host b) whose clock is 70 ms behind.
    const ClockSkewResult s = skew({span(1, 0, 100, 200, "reviews", "a"), span(2, 1, 50, 90, "ratings", "b")});
    const uint32_t child = at(s.tree, 2);
    QCOMPARE(s.adjustmentNs[child], int64_t(80 * kMs));  // 100 + (100 - 40) / 2 - 50
    QCOMPARE(s.tree.spans[child].startNs, 130 * kMs);
    QCOMPARE(s.tree.spans[child].endNs, 170 * kMs);
    QCOMPARE(s.adjustmentNs[at(s.tree, 1)], int64_t(0));
    QCOMPARE(s.notes, (std::vector<std::string> {"ratings: shifted +80.0 ms into its parent reviews (clock skew)"}));

    // Ahead instead of behind: shifted back.
    const ClockSkewResult ahead = skew({span(1, 0, 100, 200, "reviews", "a"), span(2, 1, 190, 230, "ratings", "b")});
    QCOMPARE(ahead.adjustmentNs[at(ahead.tree, 2)], -int64_t(60 * kMs));
    QVERIFY(anyNoteContains(ahead, "ratings: shifted -60.0 ms"));
}

void TestCriticalPath::skewChildLongerThanParentOnlyStartsWithParent()
{
    // Longer than its parent (async work): only moved so it does not start earlier.
    const ClockSkewResult early = skew({span(1, 0, 100, 200, "web", "a"), span(2, 1, 80, 300, "worker", "b")});
    QCOMPARE(early.adjustmentNs[at(early.tree, 2)], int64_t(20 * kMs));
    QCOMPARE(early.tree.spans[at(early.tree, 2)].startNs, 100 * kMs);
    QCOMPARE(early.tree.spans[at(early.tree, 2)].endNs, 320 * kMs);
    QVERIFY(anyNoteContains(early, "worker: shifted +20.0 ms to start no earlier than its parent web"));

    const ClockSkewResult late = skew({span(1, 0, 100, 200, "web", "a"), span(2, 1, 150, 400, "worker", "b")});
    QCOMPARE(late.adjustmentNs[at(late.tree, 2)], int64_t(0));
    QVERIFY(late.notes.empty());
}

void TestCriticalPath::skewChildInsideParentUntouched()
{
    const ClockSkewResult s
        = skew({span(1, 0, 100, 200, "web", "a"), span(2, 1, 100, 200, "api", "b"), span(3, 1, 120, 150, "db", "c")});
    QCOMPARE(s.adjustmentNs, (std::vector<int64_t> {0, 0, 0}));
    QVERIFY(s.notes.empty());
    QCOMPARE(s.tree.spans[at(s.tree, 3)].startNs, 120 * kMs);
}

void TestCriticalPath::skewSameHostUntouched()
{
    // Same host, same clock: a child outside its parent is left as reported.
    const ClockSkewResult s = skew({span(1, 0, 100, 200, "web", "a"), span(2, 1, 50, 90, "cache", "a")});
    QCOMPARE(s.adjustmentNs[at(s.tree, 2)], int64_t(0));
    QCOMPARE(s.tree.spans[at(s.tree, 2)].startNs, 50 * kMs);
    QVERIFY(s.notes.empty());
}

void TestCriticalPath::skewDescendantsInherit()
{
    // ratings (host b) is shifted +80 ms; its children on host b move with it, even one
    // that already fitted; a grandchild on host c is judged against the moved parent.
    const ClockSkewResult s = skew({span(1, 0, 100, 200, "reviews", "a"), span(2, 1, 50, 90, "ratings", "b"),
        span(3, 2, 55, 60, "ratings", "b"), span(4, 3, 56, 58, "ratings", "b"), span(5, 3, 135, 139, "mysql", "c"),
        span(6, 1, 150, 160, "reviews", "a")});
    QCOMPARE(s.adjustmentNs[at(s.tree, 2)], int64_t(80 * kMs));
    QCOMPARE(s.adjustmentNs[at(s.tree, 3)], int64_t(80 * kMs));
    QCOMPARE(s.adjustmentNs[at(s.tree, 4)], int64_t(80 * kMs));
    QCOMPARE(s.tree.spans[at(s.tree, 4)].startNs, 136 * kMs);
    // mysql 135..139 fits inside the moved parent 135..140: untouched. Unmoved, it
    // would have been centred into 55..60.
    QCOMPARE(s.adjustmentNs[at(s.tree, 5)], int64_t(0));
    QCOMPARE(s.adjustmentNs[at(s.tree, 6)], int64_t(0));
    QCOMPARE(s.notes.size(), size_t(1));  // inheritance is not a new correction
}

void TestCriticalPath::skewHostKeys()
{
    Span s = span(1, 0, 0, 1, "web");
    QCOMPARE(spanHostKey(s), std::string("service:web"));
    s.attributes.push_back({"host.id", "span-level", false});  // a span attribute: not a host
    QCOMPARE(spanHostKey(s), std::string("service:web"));
    s.attributes.push_back({"host.name", "node-7", true});
    QCOMPARE(spanHostKey(s), std::string("node-7"));
    s.attributes.push_back({"host.ip", "10.0.0.7", true});
    QCOMPARE(spanHostKey(s), std::string("10.0.0.7"));
    s.attributes.push_back({"host.id", "i-0abc", true});
    QCOMPARE(spanHostKey(s), std::string("i-0abc"));

    // Without host attributes, two services count as two hosts; one service as one.
    const ClockSkewResult two = skew({span(1, 0, 100, 200, "web"), span(2, 1, 50, 90, "api")});
    QCOMPARE(two.adjustmentNs[1], int64_t(80 * kMs));
    const ClockSkewResult one = skew({span(1, 0, 100, 200, "web"), span(2, 1, 50, 90, "web")});
    QCOMPARE(one.adjustmentNs[1], int64_t(0));
}

void TestCriticalPath::skewResortsSiblings()
{
    // b's span arrives first by its clock but is moved after c's.
    const ClockSkewResult s = skew({span(1, 0, 100, 200, "web", "a"), span(2, 1, 10, 30, "b", "b"),
        span(3, 1, 110, 120, "c", "c"), span(4, 2, 12, 14, "b", "b")});
    QCOMPARE(s.tree.spans[1].spanId, 3ull);
    QCOMPARE(s.tree.spans[2].spanId, 2ull);
    QCOMPARE(s.tree.spans[3].spanId, 4ull);
    QCOMPARE(s.tree.parent, (std::vector<int32_t> {-1, 0, 0, 2}));
    QCOMPARE(s.adjustmentNs, (std::vector<int64_t> {0, 0, int64_t(130 * kMs), int64_t(130 * kMs)}));
    QCOMPARE(s.tree.startNs, 100 * kMs);
}

void TestCriticalPath::skewLeavesOrphansAndRoots()
{
    // The synthetic root has no clock: its orphans stay where they are.
    const ClockSkewResult s = skew({span(1, 0, 100, 200, "web", "a"), span(5, 77, 10, 20, "lost", "b"),
        span(6, 5, 5, 6, "found", "c"), span(9, 0, 300, 310, "other", "d")});
    QCOMPARE(s.adjustmentNs[at(s.tree, 1)], int64_t(0));
    QCOMPARE(s.adjustmentNs[at(s.tree, 5)], int64_t(0));
    QCOMPARE(s.adjustmentNs[at(s.tree, 9)], int64_t(0));
    // Below an orphan, skew is judged as anywhere else.
    QCOMPARE(s.adjustmentNs[at(s.tree, 6)], int64_t(kMs * 19 / 2));  // 10 + (10 - 1) / 2 - 5 ms
}

void TestCriticalPath::skewNotesAreCapped()
{
    std::vector<Span> in = {span(1, 0, 100, 200, "web", "a")};
    const std::string host = "h";
    for (uint64_t i = 0; i < kMaxClockSkewNotes + 5; ++i) {
        Span c = span(i + 2, 1, 10, 20, "api");
        c.attributes.push_back({"host.id", host + std::to_string(i), true});
        in.push_back(c);
    }
    const ClockSkewResult s = skew(in);
    QCOMPARE(s.notes.size(), kMaxClockSkewNotes + 1);
    QCOMPARE(s.notes.back(), std::string("... and 5 more spans shifted for clock skew"));
    for (uint32_t i = 1; i < s.tree.size(); ++i)
        QCOMPARE(s.adjustmentNs[i], int64_t(135 * kMs));  // 100 + (100 - 10) / 2 - 10 ms
}

void TestCriticalPath::skewOnDeepChain()
{
    // Alternating hosts down a 200,001-deep chain, each child reported 1 ms before its
    // parent and 2 ms shorter: every link is centred, one after the other, without
    // recursion, so each span ends up starting 1 ms after its parent.
    const uint64_t n = 200001;
    const uint64_t base = 1000000;
    std::vector<Span> in;
    in.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t start = base + n - i;
        in.push_back(span(i + 1, i, start, start + 4 * n - 2 * i, "svc", i % 2 ? "a" : "b"));
    }
    const ClockSkewResult s = skew(std::move(in));
    QCOMPARE(s.tree.size(), size_t(n));
    QCOMPARE(s.adjustmentNs[0], int64_t(0));
    for (uint64_t i = 0; i < n; ++i) {
        QCOMPARE(s.tree.depth[i], int32_t(i));
        QCOMPARE(s.tree.spans[i].startNs, (base + n + i) * kMs);
        if (i > 0)
            QCOMPARE(s.adjustmentNs[i], int64_t(2 * i * kMs));
    }
    QCOMPARE(s.notes.size(), kMaxClockSkewNotes + 1);
    QCOMPARE(s.notes.back(), std::string("... and 199900 more spans shifted for clock skew"));
}

QTEST_GUILESS_MAIN(TestCriticalPath)
#include "tst_criticalpath.moc"

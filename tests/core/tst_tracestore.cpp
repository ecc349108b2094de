// TraceStore: spans assembled per trace whatever the arrival order, every field and
// attribute given back as added, duplicates and spans past the per-trace cap counted
// and ignored, whole traces evicted oldest-first under the memory budget, and adding
// from several threads while searching.

#include "common/otlpbuilder.h"
#include "traces/tracestore.h"

#include <QtTest>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

using namespace meshscope;
using namespace meshscope::test;

namespace {

// A span as the decoder would give it: HTTP fields and a handful of attributes.
Span richSpan(uint64_t trace, uint64_t spanId, uint64_t parentId, const std::string &service, uint64_t startNs,
    double durationMs, int httpStatus = 200)
{
    Span s = makeSpan(
        parentId == 0 ? SpanKind::Server : SpanKind::Client, service, trace, spanId, parentId, startNs, durationMs);
    s.name = "GET /api/items/{id}";
    s.serviceNamespace = "shop";
    s.serviceVersion = "v1";
    s.method = "GET";
    s.path = "/api/items/" + std::to_string(spanId % 7);
    s.httpStatus = httpStatus;
    s.attributes = {
        {"http.method", "GET", false},
        {"http.route", "/api/items/{id}", false},
        {"http.status_code", std::to_string(httpStatus), false},
        {"service.name", service, true},
        {"host.name", "node-" + std::to_string(spanId % 3), true},
    };
    return s;
}

// A trace of n spans: span 1 the root, each next span a child of an earlier one.
std::vector<Span> makeTrace(uint64_t trace, size_t n, uint64_t startNs = kT0Ns)
{
    std::vector<Span> out;
    for (uint64_t i = 1; i <= n; ++i) {
        const uint64_t parent = i == 1 ? 0 : 1 + (i * 7919) % (i - 1);
        out.push_back(richSpan(trace, i, parent, "svc-" + std::to_string(i % 4), startNs + i * kMsNs, 5.0));
    }
    return out;
}

std::vector<Span> sortedById(std::vector<Span> spans)
{
    std::sort(spans.begin(), spans.end(), [](const Span &a, const Span &b) { return a.spanId < b.spanId; });
    return spans;
}

// Splits spans into batches of random sizes (1..max).
std::vector<std::vector<Span>> randomBatches(std::vector<Span> spans, std::mt19937_64 &rng, size_t max)
{
    std::vector<std::vector<Span>> out;
    size_t i = 0;
    while (i < spans.size()) {
        const size_t n = std::min(spans.size() - i, size_t(1 + rng() % max));
        out.emplace_back(spans.begin() + ptrdiff_t(i), spans.begin() + ptrdiff_t(i + n));
        i += n;
    }
    return out;
}

}  // namespace

class TestTraceStore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void queuedBatchesAreSeenByTheNextRead();
    void queueFromFourThreadsWhileReading();
    void everyFieldRoundTrips();
    void anyArrivalOrderGivesTheSameTrace();
    void halvesOfATraceInDifferentBatches();
    void rootIsTheSpanWithoutParent();
    void errorSpansCounted();
    void duplicatesCountedAndIgnored();
    void duplicatesInALargeTrace();
    void perTraceCapTruncates();
    void defaultCapOnA200001SpanTrace();
    void budgetEvictsOldestFirst();
    void loweringTheBudgetEvictsAtOnce();
    void evictedStringsGiveTheirMemoryBack();
    void concurrentAddWhileSearching();
};

void TestTraceStore::everyFieldRoundTrips()
{
    Span s = richSpan(1, 0x1234, 0x99, "frontend", kT0Ns, 12.5, 503);
    s.kind = SpanKind::Producer;
    s.status = SpanStatus::Ok;
    s.protocol = Protocol::Grpc;
    s.peer = "reviews";
    s.authority = "reviews:9080";
    s.grpcStatus = 14;
    s.requestBytes = 123;
    s.responseBytes = 456789;
    s.mtls = 1;
    s.databaseCall = true;
    s.statusMessage = "upstream connect error";
    s.attributes.push_back({"empty.value", "", false});
    s.attributes.push_back({"caf\xc3\xa9", std::string(1024, 'v'), false});
    Span bare = makeSpan(SpanKind::Internal, "", 1, 0x5678, 0, kT0Ns, 1);
    bare.name.clear();

    TraceStore store;
    store.add({s, bare});
    const auto trace = store.trace(traceIdOf(1));
    QVERIFY(trace);
    QCOMPARE(trace->size(), size_t(2));
    QVERIFY((*trace)[0] == s);
    QVERIFY((*trace)[1] == bare);
    QVERIFY(!store.trace(traceIdOf(2)));
    QVERIFY(!store.summary(traceIdOf(2)));
}

void TestTraceStore::anyArrivalOrderGivesTheSameTrace()
{
    const std::vector<Span> spans = makeTrace(7, 300);
    TraceStore inOrder;
    inOrder.add(spans);
    const auto reference = inOrder.summary(traceIdOf(7));
    QVERIFY(reference);

    std::mt19937_64 rng(1);
    for (int round = 0; round < 5; ++round) {
        std::vector<Span> shuffled = spans;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        TraceStore store;
        // Interleaved with another trace, as real batches are.
        const std::vector<Span> other = makeTrace(8, 40);
        auto batches = randomBatches(shuffled, rng, 50);
        for (size_t i = 0; i < batches.size(); ++i) {
            if (i < other.size())
                batches[i].push_back(other[i]);
            store.add(batches[i]);
        }
        const auto trace = store.trace(traceIdOf(7));
        QVERIFY(trace);
        QVERIFY(sortedById(*trace) == spans);
        const auto summary = store.summary(traceIdOf(7));
        QVERIFY(summary);
        QCOMPARE(summary->spanCount, reference->spanCount);
        QCOMPARE(summary->startNs, reference->startNs);
        QCOMPARE(summary->endNs, reference->endNs);
        QCOMPARE(summary->rootService, reference->rootService);
        QCOMPARE(summary->services, reference->services);
        QCOMPARE(store.counters().spans, uint64_t(300 + std::min<size_t>(40, batches.size())));
        QCOMPARE(store.counters().traces, uint64_t(2));
    }
}

void TestTraceStore::halvesOfATraceInDifferentBatches()
{
    const std::vector<Span> spans = makeTrace(3, 10, kT0Ns);
    TraceStore store;
    store.add(std::vector<Span>(spans.begin() + 5, spans.end()));
    auto summary = store.summary(traceIdOf(3));
    QVERIFY(summary);
    QCOMPARE(summary->spanCount, 5u);
    // Without its root yet, the earliest span stands in.
    QCOMPARE(summary->startNs, spans[5].startNs);

    store.add(std::vector<Span>(spans.begin(), spans.begin() + 5));
    summary = store.summary(traceIdOf(3));
    QCOMPARE(summary->spanCount, 10u);
    QCOMPARE(summary->startNs, spans[0].startNs);
    QCOMPARE(summary->endNs, spans[9].endNs);
    QCOMPARE(summary->rootService, spans[0].service);
    QCOMPARE(summary->rootOperation, spans[0].name);
    QCOMPARE(summary->services, (std::vector<std::string> {"svc-0", "svc-1", "svc-2", "svc-3"}));
    QCOMPARE(summary->durationMs(), double(spans[9].endNs - spans[0].startNs) / 1e6);
    QVERIFY(!summary->truncated);
    QCOMPARE(sortedById(*store.trace(traceIdOf(3))), spans);
}

void TestTraceStore::rootIsTheSpanWithoutParent()
{
    TraceStore store;
    // The parentless span starts later than a child whose clock runs early.
    store.add({serverSpan("child", 1, 2, 1, kT0Ns, 5)});
    QCOMPARE(store.summary(traceIdOf(1))->rootService, std::string("child"));
    store.add({serverSpan("root", 1, 1, 0, kT0Ns + kMsNs, 10)});
    QCOMPARE(store.summary(traceIdOf(1))->rootService, std::string("root"));
    store.add({serverSpan("early-child", 1, 3, 1, kT0Ns - kMsNs, 1)});
    QCOMPARE(store.summary(traceIdOf(1))->rootService, std::string("root"));
}

void TestTraceStore::errorSpansCounted()
{
    TraceStore store;
    Span statusError = clientSpan("a", 1, 1, 0, kT0Ns, 1);
    statusError.status = SpanStatus::Error;
    Span server503 = serverSpan("b", 1, 2, 1, kT0Ns, 1);
    server503.httpStatus = 503;
    Span client503 = clientSpan("c", 1, 3, 1, kT0Ns, 1);
    client503.httpStatus = 503;  // the server's side says so; a client 5xx alone is not counted
    Span server404 = serverSpan("d", 1, 4, 1, kT0Ns, 1);
    server404.httpStatus = 404;
    store.add({statusError, server503, client503, server404});
    QCOMPARE(store.summary(traceIdOf(1))->errorCount, 2u);
}

void TestTraceStore::duplicatesCountedAndIgnored()
{
    const std::vector<Span> spans = makeTrace(1, 10);
    TraceStore store;
    std::vector<Span> batch = spans;
    batch.push_back(spans[3]);  // in the same batch
    store.add(batch);
    Span changed = spans[4];
    changed.name = "a second version";  // same ids: still a duplicate, the first one stays
    store.add({spans[0], changed});
    const auto c = store.counters();
    QCOMPARE(c.spans, uint64_t(10));
    QCOMPARE(c.duplicateSpans, uint64_t(3));
    QCOMPARE(sortedById(*store.trace(traceIdOf(1))), spans);
    // The same span id in another trace is another span.
    store.add({richSpan(2, spans[0].spanId, 0, "x", kT0Ns, 1)});
    QCOMPARE(store.counters().spans, uint64_t(11));
}

void TestTraceStore::duplicatesInALargeTrace()
{
    // Past a few dozen spans the store keeps a span-id set instead of scanning.
    const std::vector<Span> spans = makeTrace(1, 5000);
    TraceStore store;
    std::mt19937_64 rng(5);
    for (const auto &b : randomBatches(spans, rng, 300))
        store.add(b);
    std::vector<Span> again;
    for (size_t i = 0; i < spans.size(); i += 10)
        again.push_back(spans[i]);
    store.add(again);
    QCOMPARE(store.counters().spans, uint64_t(5000));
    QCOMPARE(store.counters().duplicateSpans, uint64_t(again.size()));
}

void TestTraceStore::perTraceCapTruncates()
{
    TraceStoreLimits limits;
    limits.maxSpansPerTrace = 1000;
    TraceStore store(limits);
    const std::vector<Span> spans = makeTrace(1, 1500);
    std::mt19937_64 rng(2);
    for (const auto &b : randomBatches(spans, rng, 200))
        store.add(b);
    store.add(makeTrace(2, 10));
    const auto c = store.counters();
    QCOMPARE(c.spans, uint64_t(1010));
    QCOMPARE(c.droppedSpansOverCap, uint64_t(500));
    QCOMPARE(c.truncatedTraces, uint64_t(1));
    QVERIFY(store.isTruncated(traceIdOf(1)));
    QVERIFY(!store.isTruncated(traceIdOf(2)));
    QVERIFY(!store.isTruncated(traceIdOf(3)));
    QCOMPARE(store.trace(traceIdOf(1))->size(), size_t(1000));
    QVERIFY(store.summary(traceIdOf(1))->truncated);
    QCOMPARE(store.summary(traceIdOf(1))->spanCount, 1000u);
    // A duplicate of a kept span is a duplicate, not a span over the cap.
    store.add({spans[0]});
    QCOMPARE(store.counters().duplicateSpans, uint64_t(1));
    QCOMPARE(store.counters().droppedSpansOverCap, uint64_t(500));
}

void TestTraceStore::defaultCapOnA200001SpanTrace()
{
    TraceStore store;
    std::vector<Span> batch;
    const size_t total = 200001;
    for (uint64_t i = 1; i <= total; ++i) {
        Span s = serverSpan("svc-" + std::to_string(i % 50), 9, i, i == 1 ? 0 : i / 2, kT0Ns + i * 1000, 0.5);
        s.attributes = {{"http.route", "/r/" + std::to_string(i % 20), false}, {"service.name", s.service, true}};
        batch.push_back(std::move(s));
        if (batch.size() == 10000 || i == total) {
            store.add(batch);
            batch.clear();
        }
    }
    const auto c = store.counters();
    QCOMPARE(c.spans, uint64_t(200000));
    QCOMPARE(c.droppedSpansOverCap, uint64_t(1));
    QCOMPARE(c.truncatedTraces, uint64_t(1));
    QVERIFY(store.isTruncated(traceIdOf(9)));
    const auto summary = store.summary(traceIdOf(9));
    QCOMPARE(summary->spanCount, 200000u);
    QCOMPARE(summary->services.size(), size_t(50));
    QVERIFY(summary->truncated);
    QCOMPARE(store.trace(traceIdOf(9))->size(), size_t(200000));
}

void TestTraceStore::budgetEvictsOldestFirst()
{
    // Measure one 10-span trace, then allow about 20 of them.
    uint64_t perTrace = 0;
    {
        TraceStore probe;
        const uint64_t empty = probe.counters().bytes;
        for (uint64_t t = 1; t <= 100; ++t)
            probe.add(makeTrace(t, 10));
        perTrace = (probe.counters().bytes - empty) / 100;
    }
    TraceStoreLimits limits;
    limits.memoryBudgetBytes = 20 * perTrace + 64 * 1024;
    TraceStore store(limits);
    const uint64_t added = 200;
    for (uint64_t t = 1; t <= added; ++t) {
        // Start times run backwards: eviction follows arrival, not start time.
        store.add(makeTrace(t, 10, kT0Ns - t * 1000 * kMsNs));
        QVERIFY(store.counters().bytes <= limits.memoryBudgetBytes);
    }
    const auto c = store.counters();
    QVERIFY2(c.evictedTraces > 100, qPrintable(QString::number(c.evictedTraces)));
    QCOMPARE(c.traces + c.evictedTraces, added);
    QCOMPARE(c.spans + c.evictedSpans, added * 10);
    // The survivors are exactly the last arrivals.
    for (uint64_t t = 1; t <= added; ++t)
        QCOMPARE(bool(store.summary(traceIdOf(t))), t > c.evictedTraces);
    TraceFilter all;
    all.limit = 0;
    QCOMPARE(store.search(all).size(), size_t(c.traces));
}

void TestTraceStore::loweringTheBudgetEvictsAtOnce()
{
    TraceStore store;
    for (uint64_t t = 1; t <= 50; ++t)
        store.add(makeTrace(t, 10));
    QCOMPARE(store.counters().traces, uint64_t(50));
    TraceStoreLimits limits = store.limits();
    limits.memoryBudgetBytes = store.counters().bytes / 2;
    store.setLimits(limits);
    const auto c = store.counters();
    QVERIFY(c.bytes <= limits.memoryBudgetBytes);
    QVERIFY(c.evictedTraces > 0 && c.traces > 0);
    QVERIFY(!store.summary(traceIdOf(1)));
    QVERIFY(store.summary(traceIdOf(50)));
    limits.memoryBudgetBytes = 0;
    store.setLimits(limits);
    QCOMPARE(store.counters().traces, uint64_t(0));
    QCOMPARE(store.counters().spans, uint64_t(0));
}

void TestTraceStore::evictedStringsGiveTheirMemoryBack()
{
    // Every span carries a unique value (a request id): with the budget holding only a
    // few traces, the string table must shrink as traces go, or bytes would only grow.
    TraceStoreLimits limits;
    limits.memoryBudgetBytes = 2 * 1024 * 1024;
    TraceStore store(limits);
    for (uint64_t t = 1; t <= 3000; ++t) {
        std::vector<Span> spans = makeTrace(t, 10);
        for (Span &s : spans)
            s.attributes.push_back({"guid:x-request-id",
                "req-" + std::to_string(t) + "-" + std::to_string(s.spanId) + "-padding-past-the-small-string-buffer",
                false});
        store.add(spans);
    }
    const auto c = store.counters();
    QVERIFY(c.bytes <= limits.memoryBudgetBytes);
    QVERIFY2(c.traces > 500, qPrintable(QString::number(c.traces)));
    QCOMPARE(c.traces + c.evictedTraces, uint64_t(3000));
    // The newest survive intact.
    const auto last = store.trace(traceIdOf(3000));
    QVERIFY(last);
    QCOMPARE(last->size(), size_t(10));
    QVERIFY(last->front().attributes.back().value.starts_with("req-3000-"));
}

void TestTraceStore::concurrentAddWhileSearching()
{
    TraceStoreLimits limits;
    limits.memoryBudgetBytes = 8 * 1024 * 1024;  // small enough to evict while adding
    limits.maxSpansPerTrace = 30;
    TraceStore store(limits);
    const int kThreads = 4;
    const uint64_t kTracesPerThread = 2500;
    std::atomic<bool> done {false};
    std::atomic<uint64_t> sent {0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kThreads; ++w) {
        writers.emplace_back([&, w] {
            std::mt19937_64 rng {uint64_t(w)};
            for (uint64_t i = 0; i < kTracesPerThread; i += 10) {
                std::vector<Span> batch;
                for (uint64_t t = i; t < i + 10; ++t) {
                    // Every fifth trace is shared by two threads (so duplicates race),
                    // every 50th is oversized.
                    const uint64_t id = t % 5 == 0 ? t : uint64_t(w) * 1000000 + t;
                    const std::vector<Span> spans = makeTrace(id, t % 50 == 0 ? 40 : 10);
                    batch.insert(batch.end(), spans.begin(), spans.end());
                }
                std::shuffle(batch.begin(), batch.end(), rng);
                sent += batch.size();
                store.add(batch);
            }
        });
    }
    // QVERIFY belongs to the test's thread: the reader counts what it saw go wrong.
    std::atomic<int> readerFailures {0};
    std::atomic<int> searches {0};
    std::thread reader([&] {
        TraceFilter f;
        f.service = "svc-1";
        f.attributes = {{"http.method", "GET"}};
        f.minDurationMs = 1;
        while (!done) {
            for (const TraceSummary &s : store.search(f)) {
                const auto trace = store.trace(s.traceId);  // may be evicted in between
                if ((trace && trace->empty()) || s.spanCount == 0)
                    readerFailures++;
            }
            if (store.counters().bytes > limits.memoryBudgetBytes)
                readerFailures++;
            searches++;
        }
    });
    for (auto &t : writers)
        t.join();
    done = true;
    reader.join();
    QCOMPARE(readerFailures.load(), 0);
    QVERIFY(searches.load() > 0);
    const auto c = store.counters();
    QCOMPARE(c.spans + c.evictedSpans + c.duplicateSpans + c.droppedSpansOverCap, sent.load());
    QVERIFY(c.duplicateSpans > 0);
    QVERIFY(c.droppedSpansOverCap > 0);
    QVERIFY(c.evictedTraces > 0);
    TraceFilter all;
    all.limit = 0;
    QCOMPARE(store.search(all).size(), size_t(c.traces));
}

// queue() stores on the store's thread; a read made after queue() returned sees the
// batch all the same, in the order batches were given, and past maxQueuedSpans the
// caller stores them itself.
void TestTraceStore::queuedBatchesAreSeenByTheNextRead()
{
    const std::vector<Span> spans = makeTrace(1, 50);
    TraceStore store;
    store.queue(std::vector<Span>(spans.begin(), spans.begin() + 30));
    store.queue(std::vector<Span>(spans.begin() + 30, spans.end()));
    QCOMPARE(sortedById(*store.trace(traceIdOf(1))), spans);
    QCOMPARE(store.summary(traceIdOf(1))->spanCount, 50u);

    // A duplicate queued after the original: the first one stays, as with add().
    Span changed = spans[4];
    changed.name = "a second version";
    store.queue({changed});
    store.add({makeTrace(2, 3)});  // add() stores what is queued first
    QCOMPARE(store.counters().duplicateSpans, uint64_t(1));
    QCOMPARE(sortedById(*store.trace(traceIdOf(1))), spans);

    // With almost no room to queue, the caller stores: nothing is lost either way.
    TraceStoreLimits tight;
    tight.maxQueuedSpans = 10;
    TraceStore small(tight);
    for (uint64_t t = 1; t <= 20; ++t)
        small.queue(makeTrace(t, 7));
    QCOMPARE(small.counters().spans, uint64_t(140));
    TraceFilter all;
    all.limit = 0;
    QCOMPARE(small.search(all).size(), size_t(20));
}

void TestTraceStore::queueFromFourThreadsWhileReading()
{
    TraceStore store;
    std::atomic<bool> done {false};
    std::vector<std::thread> sources;
    for (uint64_t t = 0; t < 4; ++t) {
        sources.emplace_back([&store, t] {
            for (uint64_t i = 0; i < 200; ++i)
                store.queue(makeTrace(1 + t * 1000 + i, 10));
        });
    }
    std::thread reader([&store, &done] {
        TraceFilter recent;
        while (!done)
            store.search(recent);
    });
    for (std::thread &s : sources)
        s.join();
    done = true;
    reader.join();
    QCOMPARE(store.counters().spans, uint64_t(4 * 200 * 10));
    QCOMPARE(store.counters().traces, uint64_t(800));
}

QTEST_GUILESS_MAIN(TestTraceStore)
#include "tst_tracestore.moc"

// Trace store benchmark: 1,000,000 spans in 100,000 traces of 10 spans over 30
// services, with the attributes real SDKs send, arriving spread over consecutive
// batches as exporters send them. Prints add throughput, bytes per stored span (as
// the store accounts them and as malloc saw them) and search latencies (median of 20)
// against the DESIGN.md goals: search over 1M spans <= 20 ms, <= 300 bytes per span.
// Usage: bench_tracestore [--spans N]   (MESHSCOPE_BENCH_QUICK=1: 200,000 spans)

#include "traces/tracecompare.h"
#include "traces/traceql.h"
#include "traces/tracestore.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace meshscope;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kServices = 30;
constexpr int kSpansPerTrace = 10;
constexpr size_t kBatch = 1000;

TraceId traceIdOf(uint64_t n)
{
    TraceId id {};
    const uint64_t hi = 0x62656e6368747261ull;
    std::memcpy(id.data(), &hi, 8);
    std::memcpy(id.data() + 8, &n, 8);
    return id;
}

std::string service(int i) { return "svc-" + std::to_string(i); }

// Spans as the decoder yields them: graph fields, span attributes, resource attributes.
std::vector<Span> makeSpans(size_t totalSpans, uint64_t nowNs)
{
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latencyMs(3.0, 1.0);
    static const char *kRoutes[] = {"/api/items/{id}", "/api/cart", "/api/checkout", "/api/users/{id}", "/healthz",
        "/api/search", "/api/reviews/{id}", "/api/orders", "/api/orders/{id}", "/api/payments", "/login", "/logout",
        "/api/recommendations", "/api/inventory/{sku}", "/api/shipping", "/api/currency", "/api/ads", "/static/{file}",
        "/api/profile", "/api/notifications"};
    std::vector<Span> out;
    out.reserve(totalSpans);
    const size_t traces = totalSpans / kSpansPerTrace;
    for (size_t t = 0; t < traces; ++t) {
        const uint64_t start = nowNs - 3600ull * 1000000000ull + t * 30000000ull;  // a trace every 30 ms
        const double rootMs = latencyMs(rng);
        const bool failing = rng() % 100 < 3;
        int caller = int(rng() % kServices);
        for (int j = 0; j < kSpansPerTrace; ++j) {
            Span s;
            s.traceId = traceIdOf(t + 1);
            s.spanId = t * 16 + uint64_t(j) + 1;
            s.parentSpanId = j == 0 ? 0 : t * 16 + uint64_t((j - 1) / 2) + 1;
            const int svc = j == 0 ? caller : int((caller + j * 7) % kServices);
            s.kind = j == 0 || j % 2 == 0 ? SpanKind::Server : SpanKind::Client;
            s.service = service(svc);
            s.serviceNamespace = svc % 2 ? "shop" : "identity";
            s.serviceVersion = "v1";
            const char *route = kRoutes[rng() % std::size(kRoutes)];
            s.name = std::string(j % 3 ? "GET " : "POST ") + route;
            s.startNs = start + uint64_t(j) * 1000000ull;
            s.endNs = s.startNs + uint64_t(std::max(0.1, rootMs / (1 + j)) * 1e6);
            s.protocol = Protocol::Http;
            s.method = j % 3 ? "GET" : "POST";
            s.path = route;
            s.peer = service((svc + 1) % kServices);
            s.httpStatus = failing && j == kSpansPerTrace - 2 ? 503 : 200;
            s.status = s.httpStatus >= 500 ? SpanStatus::Error : SpanStatus::Unset;
            if (s.status == SpanStatus::Error)
                s.statusMessage = "upstream connect error or disconnect/reset before headers";
            s.attributes = {
                {"http.method", s.method, false},
                {"http.route", route, false},
                {"http.status_code", std::to_string(s.httpStatus), false},
                {"net.peer.name", s.peer, false},
                {"net.peer.port", "8080", false},
                {"service.name", s.service, true},
                {"service.namespace", s.serviceNamespace, true},
                {"service.version", "v1", true},
                {"host.name", "node-" + std::to_string(svc % 8), true},
                {"telemetry.sdk.language", "go", true},
            };
            out.push_back(std::move(s));
        }
    }
    return out;
}

// Exporters flush on their own clocks: a trace's spans reach the store over about
// three consecutive batches, interleaved with other traces.
std::vector<std::vector<Span>> makeBatches(std::vector<Span> spans)
{
    std::mt19937_64 rng(11);
    const size_t window = 3 * kBatch;
    for (size_t i = 0; i < spans.size(); i += window)
        std::shuffle(spans.begin() + ptrdiff_t(i), spans.begin() + ptrdiff_t(std::min(spans.size(), i + window)), rng);
    std::vector<std::vector<Span>> out;
    for (size_t i = 0; i < spans.size(); i += kBatch)
        out.emplace_back(std::make_move_iterator(spans.begin() + ptrdiff_t(i)),
            std::make_move_iterator(spans.begin() + ptrdiff_t(std::min(spans.size(), i + kBatch))));
    return out;
}

template <typename Fn>
double medianMs(Fn &&fn, size_t &results)
{
    std::vector<double> ms;
    for (int i = 0; i < 20; ++i) {
        const auto t0 = Clock::now();
        results = fn();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return (ms[9] + ms[10]) / 2;
}

size_t argValue(int argc, char **argv, const char *name, size_t fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return size_t(std::strtoull(argv[i + 1], nullptr, 10));
    }
    return fallback;
}

}  // namespace

int main(int argc, char **argv)
{
    const bool quick = std::getenv("MESHSCOPE_BENCH_QUICK") != nullptr;
    const size_t totalSpans = argValue(argc, argv, "--spans", quick ? 200000 : 1000000);
    const uint64_t nowNs = uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    const std::vector<std::vector<Span>> batches = makeBatches(makeSpans(totalSpans, nowNs));

    malloc_trim(0);
    const size_t heap0 = mallinfo2().uordblks;
    TraceStore store;
    const auto t0 = Clock::now();
    for (const auto &b : batches)
        store.add(b);
    const double addSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const size_t heap1 = mallinfo2().uordblks;
    const TraceStoreCounters c = store.counters();
    if (c.spans != totalSpans) {
        std::fprintf(stderr, "tracestore: stored %llu of %zu spans\n", (unsigned long long)c.spans, totalSpans);
        return 1;
    }

    size_t n = 0;
    TraceFilter byService;
    byService.service = "svc-3";
    byService.errorsOnly = true;
    byService.minDurationMs = 20;
    const double serviceMs = medianMs([&] { return store.search(byService).size(); }, n);
    const size_t serviceHits = n;

    TraceFilter byAttribute;
    byAttribute.attributes = {{"http.route", "/api/checkout"}};
    byAttribute.sort = TraceFilter::Sort::Duration;
    const double attributeMs = medianMs([&] { return store.search(byAttribute).size(); }, n);
    const size_t attributeHits = n;

    TraceFilter rare;
    rare.attributes = {{"http.status_code", "503"}, {"host.name", "node-5"}};
    const double rareMs = medianMs([&] { return store.search(rare).size(); }, n);
    const size_t rareHits = n;

    std::printf("tracestore: %zu spans: add %.2f M spans/s, %.0f B/span (malloc %.0f B/span), search "
                "service+errors+duration %.2f ms (budget 20 ms)\n",
        totalSpans, double(totalSpans) / addSeconds / 1e6, double(c.bytes) / double(c.spans),
        double(heap1 - heap0) / double(c.spans), serviceMs);
    std::printf("tracestore: search http.route=/api/checkout by duration %.2f ms; status_code=503 + host.name %.2f ms "
                "(%zu, %zu and %zu results of limit 20)\n",
        attributeMs, rareMs, serviceHits, attributeHits, rareHits);

    std::string error;
    const auto query = TraceQlQuery::parse(R"({ resource.service.name = "svc-3" } >> { status = error })", error);
    if (!query) {
        std::fprintf(stderr, "tracestore: TraceQL: %s\n", error.c_str());
        return 1;
    }
    TraceFilter byQuery;
    byQuery.query = &*query;
    const double queryMs = medianMs([&] { return store.search(byQuery).size(); }, n);
    std::printf(
        "tracestore: TraceQL { resource.service.name = \"svc-3\" } >> { status = error } %.2f ms (%zu results)\n",
        queryMs, n);

    // One trace materialized for the trace view.
    const auto t1 = Clock::now();
    const auto trace = store.trace(traceIdOf(totalSpans / kSpansPerTrace / 2));
    const double traceUs = std::chrono::duration<double, std::micro>(Clock::now() - t1).count();
    std::printf("tracestore: trace() of %zu spans %.1f us; goals: search <= 20 ms, <= 300 B/span\n",
        trace ? trace->size() : 0, traceUs);

    // Trace compare against the typical trace of its root operation: the median of up
    // to 200 stored traces of that operation, then the side-by-side rows.
    const TraceId compared = traceIdOf(totalSpans / kSpansPerTrace - 1);
    const std::optional<TraceSummary> root = store.summary(compared);
    if (!root) {
        std::fprintf(stderr, "tracestore: no trace to compare\n");
        return 1;
    }
    const auto t2 = Clock::now();
    const std::optional<TypicalTrace> typical
        = typicalTraceFor(store, root->rootService, root->rootOperation, compared);
    const double typicalMs = std::chrono::duration<double, std::milli>(Clock::now() - t2).count();
    if (!typical) {
        std::fprintf(
            stderr, "tracestore: no typical trace for %s %s\n", root->rootService.c_str(), root->rootOperation.c_str());
        return 1;
    }
    const TraceTree one = buildTraceTree(*store.trace(compared));
    const auto t3 = Clock::now();
    const TraceComparison comparison = compareTraces(one, typical->tree);
    const double compareMs = std::chrono::duration<double, std::milli>(Clock::now() - t3).count();
    std::printf(
        "tracestore: typical trace of %s over %u traces %.1f ms; compare %zu spans with it %.2f ms (%zu rows)\n",
        root->rootOperation.c_str(), typical->traceCount, typicalMs, one.size(), compareMs, comparison.rows.size());
    return 0;
}

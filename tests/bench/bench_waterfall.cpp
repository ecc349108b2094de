// Waterfall benchmark (meshscope-bench-needs-ui): a large trace handed to the trace view
// and painted for the first time, then scrolled from top to bottom a page at a time,
// each step painted before the next; prints the open time and the longest step (a GUI
// stall). Offscreen, at 1600x1000.
// Usage: bench_waterfall [--spans N]   (MESHSCOPE_BENCH_QUICK=1: 100k spans)

#include "traces/models/tracerowsmodel.h"
#include "traces/traceview.h"

#include <QApplication>
#include <QScrollBar>
#include <QTableView>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace meshscope;
using Clock = std::chrono::steady_clock;

namespace {

// A request fanning out through 40 services: client and server spans, some internal
// work, six attributes a span, in random arrival order.
std::vector<Span> makeTrace(size_t count)
{
    std::mt19937_64 rng(7);
    std::vector<Span> spans;
    spans.reserve(count);
    TraceId trace {};
    trace[0] = 0x5a;
    struct Open {
        uint64_t id, start, end;
        int depth;
    };
    std::vector<Open> queue {{1, 1700000000000000000ull, 1700000000000000000ull + 3000000000ull, 0}};
    uint64_t nextId = 2;
    auto emit = [&](uint64_t id, uint64_t parent, uint64_t start, uint64_t end, SpanKind kind) {
        Span s;
        s.traceId = trace;
        s.spanId = id;
        s.parentSpanId = parent;
        s.kind = kind;
        s.service = "service-" + std::to_string(rng() % 40);
        s.name = kind == SpanKind::Internal ? "work" : "GET /api/v1/items/{id}";
        s.startNs = start;
        s.endNs = end;
        s.httpStatus = rng() % 60 == 0 ? 503 : 200;
        s.status = s.httpStatus >= 500 ? SpanStatus::Error : SpanStatus::Unset;
        s.attributes = {{"host.id", "host-" + std::to_string(rng() % 20), true}, {"service.name", s.service, true},
            {"http.request.method", "GET", false}, {"http.route", "/api/v1/items/{id}", false},
            {"http.response.status_code", std::to_string(s.httpStatus), false}, {"net.peer.name", "peer", false}};
        spans.push_back(std::move(s));
    };
    emit(1, 0, queue[0].start, queue[0].end, SpanKind::Server);
    for (size_t q = 0; q < queue.size() && spans.size() < count; ++q) {
        const Open p = queue[q];
        const int fanOut = p.depth < 3 ? 14 : int(rng() % 5);
        const uint64_t d = p.end - p.start;
        for (int c = 0; c < fanOut && spans.size() < count; ++c) {
            const uint64_t start = p.start + rng() % (d / 2 + 1);
            const uint64_t end = std::min(p.end, start + d / uint64_t(3 + rng() % 5));
            const uint64_t id = nextId++;
            emit(id, p.id, start, end, rng() % 4 == 0 ? SpanKind::Internal : SpanKind::Client);
            queue.push_back({id, start, end, p.depth + 1});
        }
    }
    std::shuffle(spans.begin(), spans.end(), rng);
    return spans;
}

size_t argValue(int argc, char **argv, const char *name, size_t fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return size_t(std::strtoull(argv[i + 1], nullptr, 10));
    }
    return fallback;
}

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const size_t count = argValue(argc, argv, "--spans", 100000);
    TraceView view;
    view.resize(1600, 1000);
    view.show();
    QApplication::processEvents();

    // Open: assembled off the GUI thread in the dashboard (not timed here), then
    // WaterfallTrace::make (critical path, colours), the model, and the first paint.
    const TraceTree tree = buildTraceTree(makeTrace(count));
    const auto t0 = Clock::now();
    const std::shared_ptr<const WaterfallTrace> prepared = WaterfallTrace::make(tree);
    const double prepareMs = msSince(t0);
    const auto t1 = Clock::now();
    view.setTrace(prepared);
    view.repaint();
    QApplication::processEvents();
    const double showMs = msSince(t1);

    // Scroll top to bottom a page at a time, every step painted.
    QScrollBar *bar = view.table()->verticalScrollBar();
    std::vector<double> steps;
    const int page = std::max(1, bar->pageStep());
    for (int v = 0; v <= bar->maximum() && steps.size() < 400; v += std::max(page, bar->maximum() / 400)) {
        const auto t = Clock::now();
        bar->setValue(v);
        view.table()->viewport()->repaint();
        QApplication::processEvents();
        steps.push_back(msSince(t));
    }
    std::sort(steps.begin(), steps.end());
    const double worst = steps.empty() ? 0 : steps.back();
    const double p99 = steps.empty() ? 0 : steps[std::min(steps.size() - 1, steps.size() * 99 / 100)];
    std::printf("waterfall: %zu spans (%d rows): open %.1f ms (critical path and colours %.1f ms, model and first "
                "paint %.1f ms; budget 300 ms)\n",
        tree.size(), view.rowsModel()->rowCount(), prepareMs + showMs, prepareMs, showMs);
    std::printf("waterfall: scrolled in %zu painted steps: longest %.2f ms, p99 %.2f ms, median %.2f ms (budget: no "
                "step over 16 ms)\n",
        steps.size(), worst, p99, steps.empty() ? 0 : steps[steps.size() / 2]);
    return 0;
}

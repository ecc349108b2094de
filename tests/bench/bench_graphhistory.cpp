// Live history benchmark: an hour of a 5,000-node / 20,000-edge mesh where every edge
// carries traffic every second, handed to the history second by second as the
// aggregator does; then the graph of random past moments over a 60 s window, as the
// timeline scrubs to them. Baseline in the same run: copying the live snapshot of that
// mesh, which every view does on each publish.
// Usage: bench_graphhistory [--nodes N] [--edges N] [--seconds S] [--budget-mb MIB]
//   (MESHSCOPE_BENCH_QUICK=1: ten minutes of history)

#include "common/graphsamplemesh.h"
#include "graph/graphhistory.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

using namespace meshscope;
using Clock = std::chrono::steady_clock;

namespace {

size_t argValue(int argc, char **argv, const char *name, size_t fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return size_t(std::strtoull(argv[i + 1], nullptr, 10));
    }
    return fallback;
}

double peakRssMb()
{
    rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) * 1024.0 / 1e6;
}

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char **argv)
{
    const bool quick = std::getenv("MESHSCOPE_BENCH_QUICK") != nullptr;
    const int nodes = int(argValue(argc, argv, "--nodes", 5000));
    const int edges = int(argValue(argc, argv, "--edges", 20000));
    const int64_t seconds = int64_t(argValue(argc, argv, "--seconds", quick ? 600 : 3600));
    HistoryLimits limits;
    // The history's own budget, below the goal: the process around it needs some too.
    limits.maxBytes = argValue(argc, argv, "--budget-mb", 448) << 20;
    const GraphSnapshotPtr mesh = samplemesh::synthetic(nodes, edges, 1);
    std::printf(
        "graphhistory: %zu nodes / %zu edges, every edge busy every second, %lld s of history, budget %zu MiB\n",
        mesh->nodes.size(), mesh->edges.size(), (long long)seconds, limits.maxBytes >> 20);

    GraphHistory history(limits);
    std::unordered_map<std::string, uint32_t> itemOf;
    for (const NodeSnapshot &n : mesh->nodes)
        itemOf[n.id] = history.node(n.id, n.name, n.ns, n.version, n.kind);
    std::vector<uint32_t> edgeItems;
    for (const EdgeSnapshot &e : mesh->edges)
        edgeItems.push_back(history.edge(e.id, itemOf[e.source], itemOf[e.target], e.direction, e.protocol, e.mtls));

    std::mt19937 rng(9);
    const int64_t t0 = 1'700'000'000;
    double worstSecondMs = 0, totalFeedMs = 0;
    HistoryCounts c;
    for (int64_t s = 0; s < seconds; ++s) {
        const auto start = Clock::now();
        for (size_t i = 0; i < mesh->edges.size(); ++i) {
            const EdgeSnapshot &e = mesh->edges[i];
            c = HistoryCounts {};
            c.requests = 1 + uint32_t(e.stats.rps) + rng() % 3;
            c.errors = rng() % 50 == 0 ? 1 : 0;
            c.errors5xx = c.errors;
            c.bytes = c.requests * 800ull;
            const double p50 = std::max(1.0, e.stats.p50Ms);
            c.latency.add(p50, c.requests - c.requests / 4);
            c.latency.add(p50 * 1.6, c.requests / 4);
            history.add(t0 + s, edgeItems[i], GraphHistory::Series::Edge, c);
            history.add(t0 + s, itemOf[e.target], GraphHistory::Series::NodeIn, c);
        }
        history.closeFrame();
        const double ms = msSince(start);
        totalFeedMs += ms;
        worstSecondMs = std::max(worstSecondMs, ms);
    }
    std::printf("graphhistory: handing a second over            %8.2f ms on average, %.2f ms at worst "
                "(%lld seconds, coarsening included)\n",
        totalFeedMs / double(seconds), worstSecondMs, (long long)seconds);
    std::printf("graphhistory: memory                           %8.1f MB for %lld s (goal <= 500 MB for an hour), "
                "process peak %.1f MB; %zu frames, %llu coarsened, %llu dropped; 1 s resolution from %lld s back\n",
        double(history.bytes()) / 1e6, (long long)seconds, peakRssMb(), history.frames(),
        (unsigned long long)history.coarsenedFrames(), (unsigned long long)history.droppedFrames(), [&] {
            int64_t back = 0;
            while (back < seconds && history.resolutionAt(t0 + seconds - 1 - back) == 1)
                ++back;
            return (long long)back;
        }());

    // Baseline: one copy of the mesh's snapshot.
    double copyMs = 1e300;
    size_t sink = 0;
    for (int i = 0; i < 5; ++i) {
        const auto start = Clock::now();
        GraphSnapshot copy = *mesh;
        sink += copy.edges.size();
        copyMs = std::min(copyMs, msSince(start));
    }
    // Scrubbing: random moments, recent (1 s frames) and old (coarsened ones).
    const int rounds = quick ? 10 : 30;
    double worstScrubMs = 0, totalScrubMs = 0;
    size_t shownEdges = 0;
    for (int i = 0; i < rounds; ++i) {
        const int64_t at = t0 + 60 + int64_t(rng() % uint64_t(std::max<int64_t>(1, seconds - 60)));
        const auto start = Clock::now();
        GraphSnapshotPtr g = history.snapshotAt(at * 1000, 60);
        const double ms = msSince(start);
        shownEdges = std::max(shownEdges, g->edges.size());
        totalScrubMs += ms;
        worstScrubMs = std::max(worstScrubMs, ms);
    }
    std::printf("graphhistory: copy of the live snapshot (baseline) %6.2f ms\n", copyMs);
    std::printf(
        "graphhistory: graph of a past moment (60 s)    %8.2f ms on average, %.2f ms at worst (goal <= 100 ms), "
        "ratio to copy %.1f; %zu edges shown\n",
        totalScrubMs / rounds, worstScrubMs, (totalScrubMs / rounds) / copyMs, shownEdges);
    const auto start = Clock::now();
    const std::vector<SeriesPoint> strip = history.totals(t0, t0 + seconds, 5);
    std::printf("graphhistory: timeline strip of the whole span %8.2f ms, %zu points\n", msSince(start), strip.size());
    return shownEdges >= mesh->edges.size() / 2 && sink > 0 ? 0 : 1;
}

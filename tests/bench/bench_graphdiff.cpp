// Graph diff benchmark: two 5,000-node / 20,000-edge graphs (the second with traffic
// moved on a tenth of the edges, one edge in 200 gone and a service added), diffed and
// written as JSON, beside a plain copy of both graphs in the same run as the baseline.
// Usage: bench_graphdiff [--nodes N] [--edges N] [--rounds N]   (MESHSCOPE_BENCH_QUICK=1: fewer rounds)

#include "common/graphsamplemesh.h"
#include "graph/graphdiff.h"
#include "graph/graphexport.h"

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

template <typename F>
double bestMs(int rounds, F &&f)
{
    double best = 1e300;
    for (int i = 0; i < rounds; ++i) {
        const auto t0 = Clock::now();
        f();
        best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return best;
}

}  // namespace

int main(int argc, char **argv)
{
    const bool quick = std::getenv("MESHSCOPE_BENCH_QUICK") != nullptr;
    const int nodes = int(argValue(argc, argv, "--nodes", 5000));
    const int edges = int(argValue(argc, argv, "--edges", 20000));
    const int rounds = int(argValue(argc, argv, "--rounds", quick ? 5 : 20));

    const GraphSnapshotPtr before = samplemesh::synthetic(nodes, edges, 1);
    GraphSnapshot changed
        = *samplemesh::withService(*before, before->nodes.back().ns, "added-service", before->nodes.back().id, 7);
    std::mt19937 rng(5);
    size_t moved = 0;
    for (EdgeSnapshot &e : changed.edges) {
        if (rng() % 10 == 0) {
            e.stats.errorRate = std::min(1.0, e.stats.errorRate + 0.05);
            e.stats.rps *= 1.5;
            ++moved;
        }
    }
    size_t index = 0;
    std::erase_if(changed.edges, [&](const EdgeSnapshot &e) {
        return ++index % 200 == 0 && e.target.find("added-service") == std::string::npos;
    });
    const auto after = std::make_shared<const GraphSnapshot>(std::move(changed));
    std::printf("graphdiff: before %zu nodes / %zu edges, after %zu nodes / %zu edges (%zu edges' traffic moved)\n",
        before->nodes.size(), before->edges.size(), after->nodes.size(), after->edges.size(), moved);

    // Baseline: copying both graphs, the least any diff that keeps its inputs does.
    size_t sink = 0;
    const double copyMs = bestMs(rounds, [&] {
        GraphSnapshot a = *before;
        GraphSnapshot b = *after;
        sink += a.edges.size() + b.edges.size();
    });
    GraphDiff diff;
    const double diffMs = bestMs(rounds, [&] { diff = diffGraphs(before, after); });
    size_t jsonBytes = 0;
    const double jsonMs = bestMs(rounds, [&] { jsonBytes = size_t(graphDiffToJson(diff, false).size()); });
    std::printf("graphdiff: copy of both graphs (baseline) %8.2f ms\n", copyMs);
    std::printf("graphdiff: diff                          %8.2f ms (goal <= 50 ms), ratio to copy %.2f; "
                "%zu added, %zu removed, %zu changed, %zu same\n",
        diffMs, diffMs / copyMs, diff.count(DiffChange::Added), diff.count(DiffChange::Removed),
        diff.count(DiffChange::Changed), diff.count(DiffChange::Same));
    std::printf("graphdiff: diff as JSON                  %8.2f ms, %.1f MB (best of %d rounds each)\n", jsonMs,
        double(jsonBytes) / 1e6, rounds);
    const bool sane = diff.count(DiffChange::Added) >= 2 && diff.count(DiffChange::Removed) >= 90
        && diff.count(DiffChange::Changed) >= moved / 2 && sink > 0;
    return sane ? 0 : 1;
}

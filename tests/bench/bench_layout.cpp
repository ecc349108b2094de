// Layout benchmark (meshscope-bench-needs-ui): the first layered layout of a mesh,
// an incremental insert of one node, and a snapshot that changes only rates, at
// 1k/5k/10k nodes with 4x edges. The baseline printed beside the full layout is
// computeRanks() alone (the breadth-first layering every layered layout needs), so
// the ratio shows what ordering, columns and shelves add on top. Beside it, the graph
// views (graph/graphview.h) the window applies to every snapshot before layout: versions
// merged into services, and that with one namespace folded, at 5k and 20k nodes.
//
//   bench_layout [--quick]   (--quick or MESHSCOPE_BENCH_QUICK=1: 1k and 5k only)

#include "canvas/graphlayout.h"
#include "common/graphsamplemesh.h"
#include "graph/graphview.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace meshscope;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

template <typename F>
double timeMs(F &&f)
{
    QElapsedTimer t;
    t.start();
    f();
    return double(t.nsecsElapsed()) / 1e6;
}

void benchSize(int nodes)
{
    const GraphSnapshotPtr mesh = samplemesh::synthetic(nodes, nodes * 4, 5);
    const int repeats = nodes <= 1000 ? 7 : 3;

    std::vector<double> full, ranks;
    for (int i = 0; i < repeats; ++i) {
        GraphLayout layout;
        full.push_back(timeMs([&] { layout.update(*mesh); }));
        ranks.push_back(timeMs([&] { GraphLayout::computeRanks(*mesh); }));
    }

    // One new service called by an existing one, into a laid-out mesh.
    std::vector<double> insert, unchanged;
    const std::string caller = mesh->nodes[mesh->nodes.size() / 2].id;
    const std::string ns = mesh->nodes[mesh->nodes.size() / 2].ns;
    for (int i = 0; i < repeats; ++i) {
        GraphLayout layout;
        layout.update(*mesh);
        const GraphSnapshotPtr grown = samplemesh::withService(*mesh, ns, "new-service-" + std::to_string(i), caller);
        insert.push_back(timeMs([&] { layout.update(*grown); }));
        GraphSnapshot same = *grown;  // a fresh copy, as the aggregator publishes
        for (EdgeSnapshot &e : same.edges)
            e.stats.rps *= 1.01;
        unchanged.push_back(timeMs([&] { layout.update(same); }));
    }

    const double f = median(full), r = median(ranks);
    std::printf("layout %dn/%de: layered layout %.1f ms (ranks alone %.1f ms, ratio %.2f), insert one node %.2f ms, "
                "rates-only snapshot %.3f ms\n",
        nodes, nodes * 4, f, r, f / std::max(r, 1e-6), median(insert), median(unchanged));
    std::fflush(stdout);
}

void benchGraphView(int nodes)
{
    const GraphSnapshotPtr mesh = samplemesh::synthetic(nodes, nodes * 4, 5);
    GraphViewOptions services;
    services.type = GraphType::Services;
    GraphViewOptions folded = services;
    folded.collapsedNamespaces.insert(mesh->nodes[mesh->nodes.size() / 2].ns);
    // Each view replaces the one before, as in the window: the time includes freeing it.
    // The baseline is a plain copy of the snapshot: what any view that changes something
    // must at least spend, since the snapshot is immutable.
    std::vector<double> merged, collapsed, copied;
    GraphSnapshotPtr shown, shownFolded, copy;
    for (int i = 0; i < 7; ++i) {
        copied.push_back(timeMs([&] { copy = std::make_shared<const GraphSnapshot>(*mesh); }));
        merged.push_back(timeMs([&] { shown = viewOfGraph(mesh, services); }));
        collapsed.push_back(timeMs([&] { shownFolded = viewOfGraph(mesh, folded); }));
    }
    const size_t shownNodes = shown->nodes.size();
    const double base = std::max(median(copied), 1e-6);
    std::printf("graph view %dn/%de: services %.1f ms per transform (%zu nodes, ratio %.2f to a plain copy of "
                "%.1f ms), services with one namespace folded %.1f ms (ratio %.2f)\n",
        nodes, nodes * 4, median(merged), shownNodes, median(merged) / base, base, median(collapsed),
        median(collapsed) / base);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    bool quick = qEnvironmentVariableIntValue("MESHSCOPE_BENCH_QUICK") == 1;
    for (int i = 1; i < argc; ++i)
        quick |= QByteArray(argv[i]) == "--quick";
    std::printf("bench_layout: goals from DESIGN.md: layered layout of 1,000 nodes <= 300 ms, a node added <= 16 ms; "
                "a graph view of 20,000 nodes well under 50 ms\n");
    std::vector<int> sizes = {1000, 5000};
    if (!quick)
        sizes.push_back(10000);
    for (int n : sizes)
        benchSize(n);
    for (int n : {5000, 20000})
        benchGraphView(n);
    return 0;
}

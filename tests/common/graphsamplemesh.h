#pragma once
// Service meshes made by hand or by a seeded generator, shaped like what the
// aggregator publishes (ids "ns/name@version", "external", "ext:host"; sorted by id).
// For canvas tests, benchmarks, screenshots and an empty-looking first run.

#include "graph/graphsnapshot.h"

#include <cstdint>
#include <string>

namespace meshscope {

namespace samplemesh {

// Builders that fill ids, directions and request counts the way the aggregator does.
NodeSnapshot node(const std::string &ns, const std::string &name, const std::string &version, NodeKind kind,
    double rps = 0, double errorRate = 0, double p95Ms = 0);
EdgeSnapshot edge(const NodeSnapshot &from, const NodeSnapshot &to, double rps, double errorRate = 0, double p95Ms = 0);
// Sorts by id (GraphSnapshot::node() and ::edge() search that order) and wraps it.
GraphSnapshotPtr finish(GraphSnapshot &&snapshot);

// About 28 nodes in four namespaces with gateways, external services, one failing and
// one degraded path and an idle service: what a real small mesh looks like.
GraphSnapshotPtr realistic();

// `nodes` nodes and about `edges` edges over ~nodes/100 namespaces in call tiers, so
// the layered layout sees realistic depth; most calls stay in a namespace or go to a
// neighbouring one or a shared platform namespace. Same seed, same mesh.
GraphSnapshotPtr synthetic(int nodes, int edges, uint32_t seed = 1);

// A copy with one more service in `ns`, called by `callerId`.
GraphSnapshotPtr withService(const GraphSnapshot &base, const std::string &ns, const std::string &name,
    const std::string &callerId, double rps = 5);

}  // namespace samplemesh

}  // namespace meshscope

#pragma once
// The graph as the operator chose to look at it: one node per workload version (the
// aggregator's own graph), one per service, and namespaces folded into one node each.
// A pure transform of a snapshot into another snapshot of the same shape (sorted by
// id, unique ids, every edge between two of its nodes), so the canvas, Inspect, find
// and the exports all read the same graph without knowing how it was made.
//
// Graph types follow Kiali's. Kiali's "app" and "service" graphs coincide here: a
// node's name is the service's name (OTLP service.name, Istio's destination_service_name
// or app label), so merging versions gives the app graph and the service graph at once.
//
// A folded namespace is one node of kind Other, id "ns/*" (model/nodeid.h), name the
// namespace, foldedCount the nodes it stands for. Edges inside it vanish: their traffic
// is inside the node. Its own stats are the requests entering it from outside (a request
// passing through three of its services is one request to the namespace, not three);
// where none enter, the requests it sends out; where none of either, its nodes' sum.

#include "graph/graphsnapshot.h"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace meshscope {

enum class GraphType : uint8_t {
    Workloads,  // one node per service version, "ns/name@version" (the aggregator's graph)
    Services,  // the versions of a service merged into one node, "ns/name"
};

struct GraphViewOptions {
    GraphType type = GraphType::Workloads;
    std::set<std::string> collapsedNamespaces;

    bool isDefault() const { return type == GraphType::Workloads && collapsedNamespaces.empty(); }
    bool operator==(const GraphViewOptions &) const = default;
};

// The view of `snapshot` under `options`. Merged nodes and edges add their traffic with
// sumTrafficStats (so they carry no health verdict: HealthPolicy judges their numbers);
// an edge's mTLS is yes only if every part's is, no if any part's is, else unknown; its
// origins are the union, it is north-south if any part is, and its protocol is that of
// its busiest part. Returns `snapshot` itself, not a copy, when nothing would change
// (default options above all), and a null pointer for a null one.
GraphSnapshotPtr viewOfGraph(const GraphSnapshotPtr &snapshot, const GraphViewOptions &options);

// The id that the node `id` of the aggregator's graph has in the view: its own, its
// service's ("ns/name") or its namespace's ("ns/*"). What filters live requests (which
// carry the aggregator's ids) down to a node of the view.
std::string viewNodeId(std::string_view id, const GraphViewOptions &options);

}  // namespace meshscope

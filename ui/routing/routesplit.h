#pragma once
// Whether traffic follows a configured split: for the service a graph node names, each
// rule that splits traffic between backends serving it (routing::routingFor), the
// share each backend is configured to get (its weight over the rule's) beside the
// share of requests its workloads actually served in the snapshot's window. Shown in
// the Inspect panel under the headline, so after an Apply an operator sees whether the
// 49/51 took effect or the graph still says 88/12.

#include "graph/graphsnapshot.h"
#include "routing/routemodel.h"

#include <QString>

#include <optional>
#include <string>
#include <vector>

namespace meshscope {

struct BackendShare {
    std::string backend;  // as the rule names it, e.g. "reviews-v2"
    double configured = 0;  // 0..1
    double observedRps = 0;  // requests/s served by the workloads this backend names
    uint64_t observedRequests = 0;  // in the snapshot's window
    std::optional<double> observed;  // 0..1; none while nothing was served
};

struct RouteSplit {
    std::string route;  // "namespace/name"
    std::string rule;  // its name, or "rule N" (1-based) when unnamed
    std::vector<BackendShare> shares;
    // More than kSplitTolerance apart for some backend, on at least kSplitMinRequests.
    bool differs = false;
};

inline constexpr double kSplitTolerance = 0.10;
inline constexpr uint64_t kSplitMinRequests = 20;

// Splits (rules with two or more weighted backends) that route to the service `nodeId`
// names; empty for non-service nodes and services no such rule carries.
std::vector<RouteSplit> routeSplitsFor(
    const routing::RouteSet &set, const GraphSnapshot &snapshot, const std::string &nodeId);

// The share each caller's requests to a split's backends that one edge carries, beside
// the share the split sets for the backend it reaches: what the graph writes on the
// edges into a split's backends. For each service one split rule counts (the first
// that matches every request, else the first). Sorted by edge id.
struct EdgeSplitShare {
    std::string edge;  // edge id, caller -> a workload a backend names
    std::string backend;
    double configured = 0;  // 0..1
    std::optional<double> observed;  // 0..1 of this caller's requests to the split; none without any
    uint64_t callerRequests = 0;  // the caller's requests to the split's backends in the window
    // More than kSplitTolerance apart, on at least kSplitMinRequests of the caller's.
    bool differs = false;
};
std::vector<EdgeSplitShare> edgeSplitShares(const routing::RouteSet &set, const GraphSnapshot &snapshot);

// "49 % · cfg 50 %" (observed first, as the graph measures it), "cfg 50 % · no requests",
// and while no client is connected "cfg 50 % · no xDS client".
QString edgeSplitText(const EdgeSplitShare &share, bool clientConnected);
// Where that does not fit: the observed share alone ("49 %"), or "cfg 50 %".
QString edgeSplitShortText(const EdgeSplitShare &share, bool clientConnected);

// The Inspect panel's lines for these splits; `clientConnected` false adds that no
// data plane client takes the routes yet. Empty when there are no splits.
QString routeSplitText(const std::vector<RouteSplit> &splits, bool clientConnected);

}  // namespace meshscope

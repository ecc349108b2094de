#pragma once
// What a rollout reads from the graph: the canary's traffic over a step's hold, from the
// aggregator's history (every second kept, so a busy mesh does not push the canary's
// requests out as it would from the recent-requests buffer), and the split's shares
// since a route change, from the requests the graph paired since then.

#include "graph/graphaggregator.h"
#include "graph/graphhistory.h"
#include "rollout/rolloutrunner.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace meshscope::rollout {

// Whether a graph node (name, namespace, version) is backend `name` in namespace `ns`:
// the node of that name (any version), or the versioned workload the backend names the
// way a route does ("reviews-v2": service reviews, version v2). A node without a
// namespace, or a backend given none, matches by name alone.
bool isBackendNode(std::string_view name, std::string_view ns, std::string_view nodeName, std::string_view nodeNs,
    std::string_view version);

// What the backend `name` (a Service in namespace `ns`) served from fromMs to toMs: the
// nodes named so (all their versions), and the versioned workloads it names the way a
// route does ("reviews-v2": service reviews, version v2). A node without a namespace
// counts by name alone, as OpenTelemetry services often report none. The history holds
// seconds that are complete, about two seconds behind now.
GateReading readGate(
    const GraphHistory &history, const std::string &name, const std::string &ns, int64_t fromMs, int64_t toMs);

// How the requests the graph saw starting from fromMs split between the services they
// went to, among `services` (Service names): each one's count. Reads the aggregator's
// recent requests (its newest `max`).
std::map<std::string, uint64_t> requestsTo(
    const GraphAggregator &aggregator, const std::vector<std::string> &services, int64_t fromMs, int64_t toMs);

}  // namespace meshscope::rollout

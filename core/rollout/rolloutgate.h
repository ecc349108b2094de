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

namespace meshscope::rollout {

// The nodes of Service `name` (in namespace `ns`, or any namespace for a node that has
// none), all versions together: what they served from fromMs to toMs. The history
// holds seconds that are complete, about two seconds behind now.
GateReading readGate(
    const GraphHistory &history, const std::string &name, const std::string &ns, int64_t fromMs, int64_t toMs);

// How the requests the graph saw starting from fromMs split between the services they
// went to, among `services` (Service names): each one's count. Reads the aggregator's
// recent requests (its newest `max`).
std::map<std::string, uint64_t> requestsTo(
    const GraphAggregator &aggregator, const std::vector<std::string> &services, int64_t fromMs, int64_t toMs);

}  // namespace meshscope::rollout

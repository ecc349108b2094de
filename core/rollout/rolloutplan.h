#pragma once
// A health-gated rollout of one weighted rule: the steps (the canary backend's share,
// in percent), how long each is held, the gates a step must pass (error rate, p95/p99
// latency, a minimum of requests so that silence never passes) and what a failed gate
// does (roll back at once, to the last good step, or step by step; or pause for a
// decision). Also the route set of each step: the rule's other backends share what
// the canary does not take, in the proportions they had.

#include "routing/routemodel.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshscope::rollout {

enum class OnFailure {
    RollBackToOriginal,  // the weights from before the rollout, at once
    RollBackToLastGood,  // the weights of the last step that passed (the original if none)
    RollBackStepwise,  // back through the passed steps, one hold each, to the original
    Pause,  // stay, and wait for a decision
};

struct Gates {
    std::optional<double> maxErrorRate;  // fraction 0..1
    std::optional<double> maxP95Ms;
    std::optional<double> maxP99Ms;
    uint64_t minRequests = 20;  // the canary's, over the step's hold
};

struct RolloutPlan {
    std::string routeNamespace = "default";
    std::string routeName;
    int rule = 0;  // index into the route's rules
    std::string canary;  // the backend (Service name) the rollout moves traffic to
    std::vector<int> steps;  // canary share in percent, increasing, each 1..100
    int64_t holdMs = 30'000;
    Gates gates;
    OnFailure onFailure = OnFailure::RollBackToOriginal;
    // A step's first moments still carry calls routed by the weights before it: they
    // are left out of its gate reading.
    int64_t settleMs = 2'000;
    // No telemetry at all for this long pauses the rollout: it never advances blind.
    int64_t telemetryTimeoutMs = 10'000;
};

// One-line reasons for a plan that cannot run against `routes` (empty: it can).
std::vector<std::string> checkPlan(const RolloutPlan &plan, const routing::RouteSet &routes);

// The route set with the plan's rule sending `percent` % to the canary and the rest to
// the other backends in their original proportions (by the weights in `original`;
// equal shares when all of them were 0). Weights sum to 100. The canary is added to the
// rule when it is not there yet (port taken from the rule's first backend).
routing::RouteSet withCanaryShare(const routing::RouteSet &original, const RolloutPlan &plan, int percent);

// The canary's share in percent in `routes` (0 when absent or the rule has no weight).
int canaryShare(const routing::RouteSet &routes, const RolloutPlan &plan);

// "10,50,100" -> {10, 50, 100}; nullopt (and a reason) for anything else.
std::optional<std::vector<int>> parseSteps(const std::string &text, std::string *error);
// "10s", "500ms", "2m", "1m30s" -> milliseconds (Gateway API duration grammar).
std::optional<int64_t> parseHold(const std::string &text, std::string *error);
std::optional<OnFailure> parseOnFailure(const std::string &text);
std::string onFailureName(OnFailure f);  // "original", "last-good", "stepwise", "pause"

}  // namespace meshscope::rollout

#pragma once
// What every source says about a node or an edge: its kind, the direction of an
// edge, and traffic numbers over a window.

#include <cstdint>
#include <optional>
#include <vector>

namespace meshscope {

enum class NodeKind : uint8_t { External, Gateway, Service, ExternalService, Other };
enum class Direction : uint8_t { NorthSouth, EastWest };
// How a node or an edge is doing, judged from its error rates (graph/healthpolicy.h).
enum class Health : uint8_t { NoTraffic, Healthy, Degraded, Failing };

const char *nodeKindName(NodeKind k);  // "external", "gateway", "service", "external-service", "other"
const char *directionName(Direction d);  // "north_south", "east_west"

struct TrafficStats {
    uint64_t requests = 0;  // in the window
    double rps = 0;
    double errorRate = 0;  // fraction 0..1
    double rate5xx = 0;
    double rate4xx = 0;
    double p50Ms = 0, p95Ms = 0, p99Ms = 0;
    uint64_t bytes = 0;
    // The aggregator's verdict on these numbers, held steady over time (hysteresis and
    // a minimum of requests, see HealthPolicy). Empty where nobody tracked the item
    // over time (a sum of parts, a value just pulled): HealthPolicy::classify then
    // judges the numbers alone.
    std::optional<Health> health;
};

// Traffic of several parts taken together: counts and rates add, error rates are
// weighted by rate, and each percentile is bounded by the slowest part's (the
// percentiles of a sum are not sums).
TrafficStats sumTrafficStats(const std::vector<const TrafficStats *> &parts);

}  // namespace meshscope

#include "model/traffic.h"

#include <algorithm>

namespace meshscope {

TrafficStats sumTrafficStats(const std::vector<const TrafficStats *> &parts)
{
    TrafficStats sum;
    double errors = 0, e4xx = 0, e5xx = 0;
    for (const TrafficStats *t : parts) {
        sum.requests += t->requests;
        sum.rps += t->rps;
        sum.bytes += t->bytes;
        errors += t->errorRate * t->rps;
        e4xx += t->rate4xx * t->rps;
        e5xx += t->rate5xx * t->rps;
        sum.p50Ms = std::max(sum.p50Ms, t->p50Ms);
        sum.p95Ms = std::max(sum.p95Ms, t->p95Ms);
        sum.p99Ms = std::max(sum.p99Ms, t->p99Ms);
    }
    if (sum.rps > 0) {
        sum.errorRate = errors / sum.rps;
        sum.rate4xx = e4xx / sum.rps;
        sum.rate5xx = e5xx / sum.rps;
    }
    return sum;
}

const char *nodeKindName(NodeKind k)
{
    switch (k) {
    case NodeKind::External: return "external";
    case NodeKind::Gateway: return "gateway";
    case NodeKind::Service: return "service";
    case NodeKind::ExternalService: return "external-service";
    case NodeKind::Other: return "other";
    }
    return "service";
}

const char *directionName(Direction d) { return d == Direction::NorthSouth ? "north_south" : "east_west"; }

}  // namespace meshscope

#include "graph/healthpolicy.h"

namespace meshscope {

Health HealthPolicy::judge(const TrafficStats &s) const
{
    if (s.requests == 0)
        return Health::NoTraffic;
    if (s.requests < minRequests)
        return Health::Healthy;
    if (s.errorRate > errorFailing || s.rate4xx >= clientErrorFailing)
        return Health::Failing;
    if (s.errorRate >= errorDegraded || s.rate4xx >= clientErrorDegraded)
        return Health::Degraded;
    return Health::Healthy;
}

Health HealthPolicy::held(const TrafficStats &s) const
{
    if (s.requests < minRequests)
        return s.requests == 0 ? Health::NoTraffic : Health::Healthy;
    if (s.errorRate >= errorFailingExit || s.rate4xx >= clientErrorFailingExit)
        return Health::Failing;
    if (s.errorRate >= errorDegradedExit || s.rate4xx >= clientErrorDegradedExit)
        return Health::Degraded;
    return Health::Healthy;
}

Health HealthPolicy::track(HealthState &state, const TrafficStats &s, int64_t nowMs) const
{
    const Health now = judge(s);
    // Worse (or the same) shows at once; so does the end of all traffic, which needs
    // no confirming.
    if (now >= state.health || now == Health::NoTraffic || state.health == Health::NoTraffic) {
        state.health = now;
        state.betterSinceMs = -1;
        return now;
    }
    // Better: only once the numbers are past the leaving threshold, and stay past it.
    const Health floor = held(s);
    if (floor >= state.health) {
        state.betterSinceMs = -1;
        return state.health;
    }
    if (state.betterSinceMs < 0 || nowMs < state.betterSinceMs)
        state.betterSinceMs = nowMs;
    if (nowMs - state.betterSinceMs >= recoverMs) {
        state.health = floor;
        state.betterSinceMs = -1;
    }
    return state.health;
}

const char *healthName(Health h)
{
    switch (h) {
    case Health::NoTraffic: return "no traffic";
    case Health::Healthy: return "healthy";
    case Health::Degraded: return "degraded";
    case Health::Failing: return "failing";
    }
    return "healthy";
}

}  // namespace meshscope

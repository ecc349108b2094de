#pragma once
// Health of a node or edge from its error rates. Every threshold lives here, in one
// struct, so the canvas, the inspect panel and the aggregator judge alike:
//
//   state      enters when (Kiali's defaults)          leaves when, for recoverMs
//   Failing    errors > 10 %   or 4xx >= 20 %           errors < 7 %    and 4xx < 14 %
//   Degraded   errors >= 0.1 % or 4xx >= 10 %           errors < 0.05 % and 4xx < 7 %
//
// "errors" are 5xx, gRPC non-OK and span status ERROR. Nothing is called degraded or
// failing on fewer than minRequests requests in the window: 1 failure in 7 requests is
// no evidence of a 14 % error rate. A worse state shows at once; a better one only
// after the numbers stayed below the leaving threshold for recoverMs, so a stream whose
// error rate wanders around a threshold does not flip the badge every few seconds.

#include "graph/graphsnapshot.h"

#include <cstdint>

namespace meshscope {

// The memory that hysteresis needs: the state shown, and since when the numbers
// have been good enough to leave it (-1: they are not).
struct HealthState {
    Health health = Health::NoTraffic;
    int64_t betterSinceMs = -1;
};

struct HealthPolicy {
    // Entering a state.
    double errorDegraded = 0.001;  // >=
    double errorFailing = 0.10;  // >
    double clientErrorDegraded = 0.10;  // >=
    double clientErrorFailing = 0.20;  // >=
    // Leaving it: the rates must fall below these (<) ...
    // (at 7 req/s a 60 s window holds 420 requests, whose error rate wanders about
    // +-1.5 points around a true 10 %: the band is wider than that)
    double errorDegradedExit = 0.0005;
    double errorFailingExit = 0.07;
    double clientErrorDegradedExit = 0.07;
    double clientErrorFailingExit = 0.14;
    // ... and stay there this long.
    int64_t recoverMs = 30000;
    // Fewer requests than this in the window are too few to judge: they read healthy.
    uint64_t minRequests = 20;
    // Below this many requests, views show rates with the count behind them, and chart
    // points of error rates pool neighbouring steps until they hold minRequests.
    uint64_t smallSample = 100;

    // The verdict for `s`: the tracked one when the stats carry it, else judge(s).
    Health classify(const TrafficStats &s) const { return s.health ? *s.health : judge(s); }
    // From the numbers alone, with the entering thresholds and the minimum of requests.
    Health judge(const TrafficStats &s) const;
    // The verdict with hysteresis: `state` is what the previous call left (start with
    // HealthState{}), nowMs the time of `s`.
    Health track(HealthState &state, const TrafficStats &s, int64_t nowMs) const;

private:
    // The worst state whose leaving thresholds `s` has not yet crossed.
    Health held(const TrafficStats &s) const;
};

const char *healthName(Health h);

}  // namespace meshscope

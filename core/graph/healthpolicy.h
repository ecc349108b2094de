#pragma once
// Health of a node or edge from its error rates, with Kiali's default thresholds:
// 5xx degraded at >= 0.1 %, failing above 10 %; 4xx degraded at 10 %, failing at 20 %.

#include "graph/graphsnapshot.h"

namespace meshscope {

enum class Health : uint8_t { NoTraffic, Healthy, Degraded, Failing };

struct HealthPolicy {
    double errorDegraded = 0.001;
    double errorFailing = 0.10;
    double clientErrorDegraded = 0.10;
    double clientErrorFailing = 0.20;

    Health classify(const TrafficStats &s) const
    {
        if (s.requests == 0)
            return Health::NoTraffic;
        if (s.errorRate > errorFailing || s.rate4xx >= clientErrorFailing)
            return Health::Failing;
        if (s.errorRate >= errorDegraded || s.rate4xx >= clientErrorDegraded)
            return Health::Degraded;
        return Health::Healthy;
    }
};

const char *healthName(Health h);

}  // namespace meshscope

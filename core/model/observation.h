#pragma once
// What sources other than traces report: a request whose two ends a proxy already
// knows, and the aggregate of an edge a pull source computed over its own window.

#include "model/nodeid.h"
#include "model/requestevent.h"
#include "model/traffic.h"

#include <cstdint>

namespace meshscope {

// One request seen by a proxy or access log: both ends are already known.
struct ObservedRequest {
    NodeRef source;
    NodeRef target;
    RequestEvent event;  // sourceId/targetId/seq/origin are filled in by the aggregator
    bool operator==(const ObservedRequest &) const = default;
};

// Aggregates a pull source (Prometheus, Envoy admin) computed over its own window.
struct PulledEdge {
    NodeRef source;
    NodeRef target;
    Protocol protocol = Protocol::Unknown;
    TrafficStats stats;
    int8_t mtls = -1;
};

}  // namespace meshscope

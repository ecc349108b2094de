#pragma once
// Immutable picture of the service graph at one moment, published by the
// aggregator about ten times a second and shared read-only with every view.

#include "model/span.h"
#include "model/traffic.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace meshscope {

struct NodeSnapshot {
    std::string id;
    std::string name;
    std::string ns;
    std::string version;
    NodeKind kind = NodeKind::Service;
    TrafficStats stats;  // requests it served (for callers only: requests it sent)
    uint64_t foldedCount = 0;  // for the "other" node: how many nodes it stands for
};

struct EdgeSnapshot {
    std::string id;  // "source->target"
    std::string source;
    std::string target;
    Direction direction = Direction::EastWest;
    Protocol protocol = Protocol::Unknown;
    TrafficStats stats;
    int8_t mtls = -1;  // -1 unknown, 0 no, 1 yes
    std::vector<std::string> origins;  // sources that reported it
};

struct IngestCounters {
    uint64_t exportCalls = 0;
    uint64_t spansReceived = 0;
    uint64_t spansAccepted = 0;
    uint64_t spansRejected = 0;
    uint64_t malformedMessages = 0;
    uint64_t oversizedMessages = 0;
    uint64_t duplicateSpans = 0;  // span ids seen twice (resent exports), dropped
    uint64_t pairedRequests = 0;  // client and server halves matched
    uint64_t unpairedClients = 0;  // client halves whose partner never came (callee untraced)
    uint64_t unpairedServers = 0;  // server halves whose caller never came (counted from unknown)
    uint64_t fastTrackedClients = 0;  // client halves counted at once towards an untraced peer
    uint64_t lateServerHalves = 0;  // server halves of requests already counted that way
    uint64_t pendingHalves = 0;
    uint64_t requests = 0;
    uint64_t foldedNodes = 0;  // distinct names folded into "other" since start
    std::map<std::string, uint64_t> rejectionReasons;
};

struct GraphSnapshot {
    int64_t timeMs = 0;
    int windowSeconds = 60;
    uint64_t generation = 0;
    std::vector<NodeSnapshot> nodes;
    std::vector<EdgeSnapshot> edges;
    IngestCounters counters;

    const NodeSnapshot *node(const std::string &id) const;
    const EdgeSnapshot *edge(const std::string &id) const;
};

using GraphSnapshotPtr = std::shared_ptr<const GraphSnapshot>;

}  // namespace meshscope

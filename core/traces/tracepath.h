#pragma once
// The hops one trace took between services, as the graph draws them: a client (or
// producer) span of service A whose child server (or consumer) span belongs to B is
// one call A -> B, as the aggregator pairs them; a root server span is a call from
// "external". Hops come in the order they started, each with its time and whether the
// callee's span is on the critical path.

#include "traces/criticalpath.h"
#include "traces/tracetree.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshscope {

struct TraceHop {
    std::string source;  // graph node ids as the aggregator names them
    std::string target;
    uint64_t startOffsetNs = 0;  // from the trace's start
    uint64_t durationNs = 0;  // the caller's view of the call (its client span), else the callee's
    bool critical = false;  // the callee's span is on the critical path
    bool error = false;
    int32_t serverSpan = -1;  // index into the tree
};

struct TracePath {
    std::vector<TraceHop> hops;  // in start order
    std::vector<std::string> nodes;  // every node the trace touched, first touch first
    // Spans whose call has no other side to draw (a client span whose callee sent no
    // span: a database, an outside API): index into the tree and the peer it names.
    std::vector<std::pair<int32_t, std::string>> unpaired;
};

// The node id of the service that emitted `span` ("ns/name@version").
std::string spanNodeId(const Span &span);

TracePath tracePath(const TraceTree &tree, const CriticalPathResult &critical);

}  // namespace meshscope

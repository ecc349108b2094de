#include "rollout/rolloutgate.h"

#include "model/nodeid.h"
#include "model/traffic.h"

#include <algorithm>
#include <vector>

namespace meshscope::rollout {

namespace {

bool isService(const std::string &nodeName, const std::string &nodeNs, const std::string &name, const std::string &ns)
{
    return nodeName == name && (nodeNs.empty() || ns.empty() || nodeNs == ns);
}

}  // namespace

GateReading readGate(
    const GraphHistory &history, const std::string &name, const std::string &ns, int64_t fromMs, int64_t toMs)
{
    GateReading r;
    const int64_t last = history.lastSecond();
    if (last >= 0)
        r.lastTelemetryMs = (last + 1) * 1000;
    const int windowSeconds = int(std::max<int64_t>(1, (toMs - fromMs + 999) / 1000));
    const GraphSnapshotPtr snap = history.snapshotAt(toMs, windowSeconds);
    std::vector<const TrafficStats *> parts;
    for (const NodeSnapshot &n : snap->nodes) {
        if (isService(n.name, n.ns, name, ns))
            parts.push_back(&n.stats);
    }
    if (parts.empty())
        return r;
    const TrafficStats sum = sumTrafficStats(parts);
    r.requests = sum.requests;
    r.errorRate = sum.errorRate;
    r.p95Ms = sum.p95Ms;
    r.p99Ms = sum.p99Ms;
    return r;
}

std::map<std::string, uint64_t> requestsTo(
    const GraphAggregator &aggregator, const std::vector<std::string> &services, int64_t fromMs, int64_t toMs)
{
    std::map<std::string, uint64_t> counts;
    for (const std::string &s : services)
        counts[s] = 0;
    int64_t oldest = 0;
    for (const RequestEvent &e : aggregator.requestsBetween(fromMs, toMs, 100'000, &oldest)) {
        const NodeRef target = parseNodeId(e.targetId);
        if (const auto it = counts.find(target.name); it != counts.end())
            it->second++;
    }
    return counts;
}

}  // namespace meshscope::rollout

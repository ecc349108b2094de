#include "rollout/rolloutgate.h"

#include "model/nodeid.h"

namespace meshscope::rollout {

bool isBackendNode(std::string_view name, std::string_view ns, std::string_view nodeName, std::string_view nodeNs,
    std::string_view version)
{
    if (!nodeNs.empty() && !ns.empty() && nodeNs != ns)
        return false;
    if (nodeName == name)
        return true;
    return !version.empty() && name.size() == nodeName.size() + 1 + version.size()
        && name.substr(0, nodeName.size()) == nodeName && name[nodeName.size()] == '-'
        && name.substr(nodeName.size() + 1) == version;
}

GateReading readGate(
    const GraphHistory &history, const std::string &name, const std::string &ns, int64_t fromMs, int64_t toMs)
{
    GateReading r;
    const int64_t last = history.lastSecond();
    if (last >= 0)
        r.lastTelemetryMs = (last + 1) * 1000;
    auto isBackend = [&name, &ns](std::string_view nodeName, std::string_view nodeNs, std::string_view version) {
        return isBackendNode(name, ns, nodeName, nodeNs, version);
    };
    const HistoryCounts served = history.servedBy(isBackend, fromMs / 1000, toMs / 1000);
    r.requests = served.requests;
    r.errorRate = served.requests ? double(served.errors) / double(served.requests) : 0.0;
    r.p95Ms = served.latency.quantile(0.95);
    r.p99Ms = served.latency.quantile(0.99);
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

#include "traces/tracepath.h"

#include "model/nodeid.h"

#include <algorithm>

namespace meshscope {

std::string spanNodeId(const Span &span)
{
    return nodeId(NodeKind::Service, span.serviceNamespace, span.service, span.serviceVersion);
}

TracePath tracePath(const TraceTree &tree, const CriticalPathResult &critical)
{
    TracePath out;
    auto touch = [&out](const std::string &id) {
        if (std::find(out.nodes.begin(), out.nodes.end(), id) == out.nodes.end())
            out.nodes.push_back(id);
    };
    // Pre-order visits parents first, so nodes come in the order the trace reached them.
    for (size_t i = 0; i < tree.size(); ++i) {
        if (tree.isSynthetic(i))
            continue;
        const Span &s = tree.spans[i];
        const int32_t parent = tree.parent[i];
        const Span *caller = parent >= 0 && !tree.isSynthetic(size_t(parent)) ? &tree.spans[size_t(parent)] : nullptr;
        const bool onPath = critical.criticalNs.size() == tree.size() && critical.criticalNs[i] > 0;
        if (s.isServerSide()) {
            TraceHop hop;
            hop.target = spanNodeId(s);
            hop.serverSpan = int32_t(i);
            hop.startOffsetNs = s.startNs - tree.startNs;
            hop.durationNs = tree.durationNs(i);
            hop.critical = onPath;
            hop.error = isErrorSpan(s);
            if (!caller && parent < 0) {
                hop.source = std::string(kExternalNodeId);
            } else if (caller && caller->isClientSide() && caller->service != s.service) {
                hop.source = spanNodeId(*caller);
                hop.startOffsetNs = caller->startNs - tree.startNs;
                hop.durationNs = tree.durationNs(size_t(parent));
                hop.error = hop.error || isErrorSpan(*caller);
            } else {
                touch(hop.target);
                continue;  // a server span inside its own service, or under an orphan's stand-in
            }
            touch(hop.source);
            touch(hop.target);
            out.hops.push_back(std::move(hop));
            continue;
        }
        touch(spanNodeId(s));
        // A client span no server span answered: the callee sent no telemetry.
        if (s.isClientSide()) {
            const size_t first = tree.childBegin[i], last = tree.childEnd[i];
            bool answered = false;
            for (size_t k = first; k < last && !answered; ++k)
                answered = tree.spans[tree.children[k]].isServerSide();
            if (!answered)
                out.unpaired.emplace_back(int32_t(i), s.peer);
        }
    }
    std::stable_sort(out.hops.begin(), out.hops.end(),
        [](const TraceHop &a, const TraceHop &b) { return a.startOffsetNs < b.startOffsetNs; });
    return out;
}

}  // namespace meshscope

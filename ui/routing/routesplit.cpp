#include "routing/routesplit.h"

#include "displayformat.h"
#include "model/nodeid.h"
#include "routing/routeactions.h"

#include <QCoreApplication>

#include <cmath>

namespace meshscope {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("RouteSplit", text); }

}  // namespace

std::vector<RouteSplit> routeSplitsFor(
    const routing::RouteSet &set, const GraphSnapshot &snapshot, const std::string &nodeId)
{
    std::vector<RouteSplit> out;
    for (const routing::ServiceRouting &sr : routing::routingFor(set, nodeId)) {
        const routing::HttpRoute &route = set.routes[size_t(sr.route)];
        for (int r : sr.rules) {
            const routing::RouteRule &rule = route.rules[size_t(r)];
            int total = 0;
            for (const routing::BackendRef &b : rule.backends)
                total += std::max(0, b.weight);
            if (rule.backends.size() < 2 || total <= 0)
                continue;
            RouteSplit split;
            split.route = route.ns + "/" + route.name;
            split.rule = rule.name.empty() ? "rule " + std::to_string(r + 1) : rule.name;
            double servedRps = 0;
            uint64_t servedRequests = 0;
            for (const routing::BackendRef &b : rule.backends) {
                BackendShare share;
                share.backend = b.name;
                share.configured = double(std::max(0, b.weight)) / double(total);
                for (const NodeSnapshot &n : snapshot.nodes) {
                    if (n.kind != NodeKind::Service && n.kind != NodeKind::Gateway)
                        continue;
                    NodeRef ref;
                    ref.ns = n.ns;
                    ref.name = n.name;
                    ref.version = n.version;
                    // A versioned workload is served by the backend naming it (or its
                    // service); one without a version only by a backend of its exact name.
                    const bool serves = n.version.empty()
                        ? b.name == n.name && routing::backendNamespace(b, route.ns) == n.ns
                        : routing::backendMatches(b, route.ns, ref);
                    if (!serves)
                        continue;
                    share.observedRps += n.stats.rps;
                    share.observedRequests += n.stats.requests;
                }
                servedRps += share.observedRps;
                servedRequests += share.observedRequests;
                split.shares.push_back(share);
            }
            for (BackendShare &s : split.shares) {
                if (servedRps > 0)
                    s.observed = s.observedRps / servedRps;
                if (s.observed && servedRequests >= kSplitMinRequests
                    && std::fabs(*s.observed - s.configured) > kSplitTolerance)
                    split.differs = true;
            }
            out.push_back(std::move(split));
        }
    }
    return out;
}

QString routeSplitText(const std::vector<RouteSplit> &splits, bool clientConnected)
{
    if (splits.empty())
        return {};
    QStringList lines;
    for (const RouteSplit &s : splits) {
        lines << tr("Route split · %1, rule '%2' (configured · observed):")
                     .arg(QString::fromStdString(s.route), QString::fromStdString(s.rule));
        for (const BackendShare &b : s.shares) {
            lines << QStringLiteral("    %1   %2 · %3")
                         .arg(QString::fromStdString(b.backend), display::percent(b.configured),
                             b.observed
                                 ? tr("%1 (%2 req/s)").arg(display::percent(*b.observed), display::rps(b.observedRps))
                                 : tr("no requests"));
        }
        if (s.differs)
            lines << tr("▲ Traffic does not follow this split: observed is more than %1 points off.")
                         .arg(int(std::lround(kSplitTolerance * 100)));
    }
    if (!clientConnected)
        lines << tr("▲ No xDS client is connected: nothing follows these routes until one connects.");
    return lines.join(QLatin1Char('\n'));
}

}  // namespace meshscope

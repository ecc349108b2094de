#include "routing/routesplit.h"

#include "displayformat.h"
#include "model/nodeid.h"
#include "routing/routeactions.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>
#include <map>

namespace meshscope {

namespace {

QString tr(const char *text) { return QCoreApplication::translate("RouteSplit", text); }

// Whether a node's requests are served by this backend of a route in `routeNs`: a
// versioned workload by the backend naming it (or its service); one without a version
// only by a backend of its exact name, in its namespace (a service that reports none,
// as OpenTelemetry services often do, by its name alone, as the routing badge does).
bool serves(const routing::BackendRef &b, const std::string &routeNs, const NodeSnapshot &n)
{
    if (n.kind != NodeKind::Service && n.kind != NodeKind::Gateway)
        return false;
    if (n.version.empty())
        return b.name == n.name && (n.ns.empty() || routing::backendNamespace(b, routeNs) == n.ns);
    NodeRef ref;
    ref.ns = n.ns;
    ref.name = n.name;
    ref.version = n.version;
    return routing::backendMatches(b, routeNs, ref);
}

int weightTotal(const routing::RouteRule &rule)
{
    int total = 0;
    for (const routing::BackendRef &b : rule.backends)
        total += std::max(0, b.weight);
    return total;
}

bool isSplit(const routing::RouteRule &rule) { return rule.backends.size() >= 2 && weightTotal(rule) > 0; }

}  // namespace

std::vector<RouteSplit> routeSplitsFor(
    const routing::RouteSet &set, const GraphSnapshot &snapshot, const std::string &nodeId)
{
    std::vector<RouteSplit> out;
    for (const routing::ServiceRouting &sr : routing::routingFor(set, nodeId)) {
        const routing::HttpRoute &route = set.routes[size_t(sr.route)];
        for (int r : sr.rules) {
            const routing::RouteRule &rule = route.rules[size_t(r)];
            if (!isSplit(rule))
                continue;
            const int total = weightTotal(rule);
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
                    if (!serves(b, route.ns, n))
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

std::vector<EdgeSplitShare> edgeSplitShares(const routing::RouteSet &set, const GraphSnapshot &snapshot)
{
    // Which backend of which split serves each node: the first split rule of a route
    // that matches every request, else its first split rule; the first route wins.
    struct Served {
        const routing::HttpRoute *route = nullptr;
        const routing::RouteRule *rule = nullptr;
        const routing::BackendRef *backend = nullptr;
    };
    // Ten snapshots a second go through here: without a split, nothing to look at.
    const bool anySplit = std::any_of(set.routes.begin(), set.routes.end(),
        [](const routing::HttpRoute &route) { return std::any_of(route.rules.begin(), route.rules.end(), isSplit); });
    if (!anySplit)
        return {};
    std::vector<Served> servedBy(snapshot.nodes.size());
    for (const routing::HttpRoute &route : set.routes) {
        const routing::RouteRule *chosen = nullptr;
        for (const routing::RouteRule &rule : route.rules) {
            if (!isSplit(rule))
                continue;
            if (!chosen || (rule.matches.empty() && !chosen->matches.empty()))
                chosen = &rule;
        }
        if (!chosen)
            continue;
        for (size_t i = 0; i < snapshot.nodes.size(); ++i) {
            if (servedBy[i].rule)
                continue;
            for (const routing::BackendRef &b : chosen->backends) {
                if (serves(b, route.ns, snapshot.nodes[i])) {
                    servedBy[i] = {&route, chosen, &b};
                    break;
                }
            }
        }
    }
    // Each caller's requests to each split, then each edge's share of them.
    std::map<std::pair<std::string, const routing::RouteRule *>, std::pair<double, uint64_t>> callerTotals;
    std::vector<std::pair<const EdgeSnapshot *, const Served *>> into;
    for (const EdgeSnapshot &e : snapshot.edges) {
        const NodeSnapshot *target = snapshot.node(e.target);
        if (!target)
            continue;
        const Served &served = servedBy[size_t(target - snapshot.nodes.data())];
        if (!served.rule)
            continue;
        auto &[rps, requests] = callerTotals[{e.source, served.rule}];
        rps += e.stats.rps;
        requests += e.stats.requests;
        into.emplace_back(&e, &served);
    }
    std::vector<EdgeSplitShare> out;
    for (const auto &[e, served] : into) {
        EdgeSplitShare share;
        share.edge = e->id;
        share.backend = served->backend->name;
        share.configured = double(std::max(0, served->backend->weight)) / double(weightTotal(*served->rule));
        const auto &[rps, requests] = callerTotals[{e->source, served->rule}];
        share.callerRequests = requests;
        if (rps > 0)
            share.observed = e->stats.rps / rps;
        share.differs = share.observed && requests >= kSplitMinRequests
            && std::fabs(*share.observed - share.configured) > kSplitTolerance;
        out.push_back(std::move(share));
    }
    std::sort(out.begin(), out.end(), [](const EdgeSplitShare &a, const EdgeSplitShare &b) { return a.edge < b.edge; });
    return out;
}

QString edgeSplitText(const EdgeSplitShare &share, bool clientConnected)
{
    const QString configured = tr("cfg %1").arg(display::percent(share.configured));
    if (!clientConnected)
        return configured + QStringLiteral(" \u00b7 ") + tr("no xDS client");
    if (!share.observed)
        return configured + QStringLiteral(" \u00b7 ") + tr("no requests");
    return display::percent(*share.observed) + QStringLiteral(" \u00b7 ") + configured;
}

QString edgeSplitShortText(const EdgeSplitShare &share, bool clientConnected)
{
    if (!clientConnected || !share.observed)
        return tr("cfg %1").arg(display::percent(share.configured));
    return display::percent(*share.observed);
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

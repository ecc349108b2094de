#include "routing/routeactions.h"

#include <algorithm>

namespace meshscope::routing {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool servesAny(const RouteRule &rule, const std::string &routeNs, const NodeRef &service)
{
    return std::any_of(rule.backends.begin(), rule.backends.end(),
        [&](const BackendRef &b) { return backendMatches(b, routeNs, service); });
}

}  // namespace

std::optional<NodeRef> serviceOf(std::string_view serviceNodeId)
{
    // Ids typed or pasted by hand may carry blanks; the graph's never do.
    while (!serviceNodeId.empty() && isBlank(serviceNodeId.front()))
        serviceNodeId.remove_prefix(1);
    while (!serviceNodeId.empty() && isBlank(serviceNodeId.back()))
        serviceNodeId.remove_suffix(1);
    NodeRef ref = parseNodeId(serviceNodeId);
    if (ref.kind != NodeKind::Service || ref.name.empty())
        return std::nullopt;
    return ref;
}

std::string versionlessName(std::string_view backendName)
{
    const size_t dash = backendName.rfind('-');
    if (dash == std::string_view::npos || dash == 0)
        return {};
    const std::string_view v = backendName.substr(dash + 1);
    if (v.size() < 2 || v[0] != 'v' || !isDigit(v[1]))
        return {};
    for (const char c : v) {
        if (!(isDigit(c) || (c >= 'a' && c <= 'z')))
            return {};
    }
    return std::string(backendName.substr(0, dash));
}

bool backendMatches(const BackendRef &backend, const std::string &routeNs, const NodeRef &service)
{
    if (!service.ns.empty() && service.ns != backendNamespace(backend, routeNs))
        return false;
    if (backend.name == service.name)
        return true;
    if (!service.version.empty())
        return backend.name == service.name + '-' + service.version;
    return versionlessName(backend.name) == service.name;
}

bool hostnameMatches(const HttpRoute &route, const NodeRef &service)
{
    if (!service.ns.empty() && service.ns != route.ns)
        return false;
    const std::string prefix = service.name + '.';
    return std::any_of(route.hostnames.begin(), route.hostnames.end(),
        [&](const std::string &host) { return host == service.name || host.starts_with(prefix); });
}

std::optional<RuleLocation> findRuleFor(const RouteSet &set, std::string_view serviceNodeId)
{
    const std::optional<NodeRef> s = serviceOf(serviceNodeId);
    if (!s)
        return std::nullopt;
    std::optional<RuleLocation> best;
    int bestScore = -1;
    for (size_t i = 0; i < set.routes.size(); ++i) {
        const HttpRoute &r = set.routes[i];
        const bool host = hostnameMatches(r, *s);
        for (size_t k = 0; k < r.rules.size(); ++k) {
            int matching = 0;
            for (const BackendRef &b : r.rules[k].backends)
                matching += backendMatches(b, r.ns, *s) ? 1 : 0;
            if (matching == 0 && !host)
                continue;
            // Backends named after the service first; rules that split traffic before single-backend ones.
            const int score = matching * 4 + (r.rules[k].backends.size() >= 2 ? 2 : 0) + (host ? 1 : 0);
            if (score > bestScore) {
                bestScore = score;
                best = RuleLocation {int(i), int(k)};
            }
        }
    }
    return best;
}

bool routesService(const RouteSet &set, std::string_view serviceNodeId)
{
    return findRuleFor(set, serviceNodeId).has_value();
}

std::vector<ServiceRouting> routingFor(const RouteSet &set, std::string_view serviceNodeId)
{
    std::vector<ServiceRouting> out;
    const std::optional<NodeRef> s = serviceOf(serviceNodeId);
    if (!s)
        return out;
    for (size_t i = 0; i < set.routes.size(); ++i) {
        const HttpRoute &r = set.routes[i];
        const bool host = hostnameMatches(r, *s);
        ServiceRouting routing;
        routing.route = int(i);
        for (size_t k = 0; k < r.rules.size(); ++k) {
            if (host || servesAny(r.rules[k], r.ns, *s))
                routing.rules.push_back(int(k));
        }
        if (!routing.rules.empty())
            out.push_back(std::move(routing));
    }
    return out;
}

std::vector<std::string> routedServices(const RouteSet &set)
{
    std::vector<std::string> out;
    for (const HttpRoute &r : set.routes) {
        for (const std::string &h : r.hostnames) {
            // A dotted or wildcard hostname is not a name the graph shows for a service.
            if (h.find('.') == std::string::npos && h.find('*') == std::string::npos)
                out.push_back(r.ns + '/' + h);
        }
        for (const RouteRule &rule : r.rules) {
            for (const BackendRef &b : rule.backends) {
                const std::string ns = backendNamespace(b, r.ns);
                out.push_back(ns + '/' + b.name);
                // The graph may show the service without its version ("reviews" for reviews-v1).
                const std::string base = versionlessName(b.name);
                if (!base.empty())
                    out.push_back(ns + '/' + base);
            }
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<ShiftPair> shiftPairFor(const HttpRoute &route, const RouteRule &rule, std::string_view serviceNodeId)
{
    if (rule.backends.empty())
        return std::nullopt;
    const std::optional<NodeRef> s = serviceOf(serviceNodeId);
    const std::vector<BackendRef> &backends = rule.backends;
    int clicked = -1, heaviestOther = -1;
    int64_t total = 0;
    for (size_t i = 0; i < backends.size(); ++i) {
        total += std::max(0, backends[i].weight);
        if (clicked < 0 && s && backendMatches(backends[i], route.ns, *s))
            clicked = int(i);
    }
    for (size_t i = 0; i < backends.size(); ++i) {
        if (int(i) != clicked && (heaviestOther < 0 || backends[i].weight > backends[size_t(heaviestOther)].weight))
            heaviestOther = int(i);
    }
    if (clicked < 0 || heaviestOther < 0)
        return ShiftPair {backends.front().name, {}};
    const BackendRef &a = backends[size_t(clicked)];
    const BackendRef &b = backends[size_t(heaviestOther)];
    if (total > 0 && 2 * int64_t(a.weight) < total)
        return ShiftPair {b.name, a.name};
    return ShiftPair {a.name, b.name};
}

std::string uniqueRuleName(const HttpRoute &route, const std::string &base)
{
    std::string name = base;
    for (int n = 2;; ++n) {
        const bool taken
            = std::any_of(route.rules.begin(), route.rules.end(), [&](const RouteRule &x) { return x.name == name; });
        if (!taken)
            return name;
        name = base + '-' + std::to_string(n);
    }
}

RouteRule headerRouteFor(
    const HttpRoute &route, const RouteRule &source, std::string_view serviceNodeId, const HeaderRouteOptions &options)
{
    const std::optional<NodeRef> s = serviceOf(serviceNodeId);
    int pick = -1;
    for (size_t i = 0; i < source.backends.size(); ++i) {
        if (s && backendMatches(source.backends[i], route.ns, *s)
            && (pick < 0 || source.backends[i].weight < source.backends[size_t(pick)].weight))
            pick = int(i);
    }
    if (pick < 0 && !source.backends.empty())
        pick = 0;

    RouteRule nr;
    nr.name = uniqueRuleName(route, options.ruleName);
    RouteMatch m;
    m.path = PathMatch {};
    m.headers.push_back({options.header, StringMatchType::Exact, options.value});
    nr.matches.push_back(m);
    BackendRef b;
    if (pick >= 0) {
        b = source.backends[size_t(pick)];
        b.weight = 1;  // the only backend: all tagged requests go to it
    } else {
        b.name = s ? s->name : std::string();
    }
    nr.backends.push_back(b);
    nr.timeoutMs = source.timeoutMs;
    return nr;
}

FaultInjection starterFault()
{
    FaultInjection f;
    f.delayMs = 1000;
    f.delayPercent = 10;
    return f;
}

std::optional<HttpRoute> defaultRouteFor(const RouteSet &set, std::string_view serviceNodeId)
{
    const std::optional<NodeRef> s = serviceOf(serviceNodeId);
    if (!s)
        return std::nullopt;
    HttpRoute r;
    r.name = s->name;
    r.ns = s->ns.empty() ? std::string("default") : s->ns;
    r.hostnames.push_back(r.name);
    RouteRule rule;
    rule.name = "default";
    BackendRef b;
    b.name = s->version.empty() ? r.name : s->name + '-' + s->version;
    for (const EndpointSlice &slice : set.endpointSlices) {
        if (slice.serviceName == b.name && slice.ns == r.ns) {
            b.port = slice.port;
            break;
        }
    }
    rule.backends.push_back(b);
    r.rules.push_back(rule);
    return r;
}

}  // namespace meshscope::routing

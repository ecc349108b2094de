#include "routing/routeactions.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace meshscope::routing {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool servesAny(const RouteRule &rule, const std::string &routeNs, const NodeRef &service)
{
    return std::any_of(rule.backends.begin(), rule.backends.end(),
        [&](const BackendRef &b) { return backendMatches(b, routeNs, service); });
}

// Largest-remainder rounding of non-negative parts to whole percents adding up to `total`.
std::vector<int> apportion(const std::vector<double> &parts, int total)
{
    std::vector<int> out(parts.size(), 0);
    const double sum = std::accumulate(parts.begin(), parts.end(), 0.0);
    if (parts.empty() || sum <= 0)
        return out;
    std::vector<std::pair<double, size_t>> rest;
    int given = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
        const double exact = parts[i] * total / sum;
        out[i] = int(std::floor(exact));
        given += out[i];
        rest.push_back({exact - out[i], i});
    }
    // Stable: a tie goes to the earlier part.
    std::stable_sort(rest.begin(), rest.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    for (size_t k = 0; given < total && k < rest.size(); ++k, ++given)
        out[rest[k].second] += 1;
    return out;
}

// RFC 7230 token characters, as the validator checks header names.
bool isToken(const std::string &s)
{
    if (s.empty())
        return false;
    static const std::string extra = "!#$%&'*+-.^_`|~";
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || extra.find(c) != std::string::npos;
    });
}

std::string lower(std::string s)
{
    for (char &c : s)
        c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    return s;
}

std::string checkHeader(const std::string &name, StringMatchType type, const std::string &value)
{
    if (!isToken(name))
        return "'" + name + "' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
    if (value.empty())
        return "the header value is empty";
    if (type == StringMatchType::RegularExpression) {
        RE2::Options opts;
        opts.set_log_errors(false);  // the error is returned, not logged
        const RE2 re(value, opts);
        if (!re.ok())
            return "regex does not compile under RE2: " + re.error() + " (pattern '" + value + "')";
    }
    return {};
}

// The carrying rule's matches, each also requiring the header (an existing match on the
// same header is replaced). A rule without matches matches everything: one match, header only.
std::vector<RouteMatch> withHeader(
    const std::vector<RouteMatch> &matches, const std::string &name, StringMatchType type, const std::string &value)
{
    std::vector<RouteMatch> out = matches;
    if (out.empty()) {
        RouteMatch m;
        m.path = PathMatch {};
        out.push_back(m);
    }
    for (RouteMatch &m : out) {
        std::erase_if(m.headers, [&](const HeaderMatch &h) { return lower(h.name) == lower(name); });
        m.headers.push_back({name, type, value});
    }
    return out;
}

// A backend named `name` as the set already knows it (same port), else with the port
// of its EndpointSlice in the route's namespace.
BackendRef backendNamed(const RouteSet &set, const HttpRoute &route, const std::string &name)
{
    for (const HttpRoute &r : set.routes) {
        for (const RouteRule &rule : r.rules) {
            for (const BackendRef &b : rule.backends) {
                if (b.name == name && backendNamespace(b, r.ns) == route.ns) {
                    BackendRef out = b;
                    out.weight = 1;
                    return out;
                }
            }
        }
    }
    BackendRef b;
    b.name = name;
    for (const EndpointSlice &slice : set.endpointSlices) {
        if (slice.serviceName == name && slice.ns == route.ns) {
            b.port = slice.port;
            break;
        }
    }
    return b;
}

bool validLocation(const RouteSet &set, RuleLocation at)
{
    return at.route >= 0 && size_t(at.route) < set.routes.size() && at.rule >= 0
        && size_t(at.rule) < set.routes[size_t(at.route)].rules.size();
}

RouteEdit refused(std::string why)
{
    RouteEdit e;
    e.error = std::move(why);
    return e;
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

std::vector<int> percentagesOf(const RouteRule &rule)
{
    std::vector<double> parts;
    for (const BackendRef &b : rule.backends)
        parts.push_back(std::max(0, b.weight));
    if (std::accumulate(parts.begin(), parts.end(), 0.0) <= 0)
        return evenSplit(rule.backends.size());
    return apportion(parts, 100);
}

std::vector<int> evenSplit(size_t count) { return apportion(std::vector<double>(count, 1.0), 100); }

std::vector<int> rebalanced(std::vector<int> percents, size_t index, int percent)
{
    if (index >= percents.size())
        return percents;
    percent = std::clamp(percent, 0, 100);
    std::vector<double> others;
    for (size_t i = 0; i < percents.size(); ++i) {
        if (i != index)
            others.push_back(std::max(0, percents[i]));
    }
    if (others.empty())
        return {100};
    if (std::accumulate(others.begin(), others.end(), 0.0) <= 0)
        others.assign(others.size(), 1.0);
    const std::vector<int> rest = apportion(others, 100 - percent);
    for (size_t i = 0, k = 0; i < percents.size(); ++i)
        percents[i] = i == index ? percent : rest[k++];
    return percents;
}

std::string checkShares(const std::vector<BackendShare> &shares)
{
    if (shares.empty())
        return "no backends to share traffic between";
    int sum = 0;
    for (const BackendShare &s : shares) {
        if (s.backend.empty())
            return "a backend has no name";
        if (s.percent < 0 || s.percent > 100)
            return s.backend + ": " + std::to_string(s.percent) + " % is outside 0-100 %";
        sum += s.percent;
    }
    if (sum != 100)
        return "the shares add up to " + std::to_string(sum) + " %, not 100 %";
    return {};
}

RouteEdit shiftWeights(const RouteSet &set, RuleLocation at, const std::vector<BackendShare> &shares)
{
    if (!validLocation(set, at))
        return refused("no such rule");
    if (std::string why = checkShares(shares); !why.empty())
        return refused(why);
    RouteEdit e;
    e.set = set;
    e.at = at;
    HttpRoute &route = e.set.routes[size_t(at.route)];
    RouteRule &rule = route.rules[size_t(at.rule)];
    for (BackendRef &b : rule.backends)
        b.weight = 0;
    for (const BackendShare &s : shares) {
        auto it = std::find_if(
            rule.backends.begin(), rule.backends.end(), [&](const BackendRef &b) { return b.name == s.backend; });
        if (it == rule.backends.end()) {
            rule.backends.push_back(backendNamed(set, route, s.backend));
            it = rule.backends.end() - 1;
        }
        it->weight = s.percent;
    }
    return e;
}

std::string describeShift(const RouteRule &rule, const std::vector<BackendShare> &shares)
{
    const std::vector<int> before = percentagesOf(rule);
    std::vector<std::string> names;
    for (const BackendRef &b : rule.backends)
        names.push_back(b.name);
    for (const BackendShare &s : shares) {
        if (std::find(names.begin(), names.end(), s.backend) == names.end())
            names.push_back(s.backend);
    }
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
        const int was = i < before.size() ? before[i] : 0;
        int now = 0;
        for (const BackendShare &s : shares)
            now = s.backend == names[i] ? s.percent : now;
        out += (out.empty() ? "" : ", ") + names[i] + ' ' + std::to_string(was) + " %";
        if (now != was)
            out += " \u2192 " + std::to_string(now) + " %";
    }
    return out;
}

std::string checkHeaderRoute(const HeaderRouteChoice &choice)
{
    if (std::string why = checkHeader(choice.header, choice.type, choice.value); !why.empty())
        return why;
    if (choice.backend.empty())
        return "no backend chosen";
    return {};
}

RouteEdit addHeaderRoute(const RouteSet &set, RuleLocation carrying, const HeaderRouteChoice &choice)
{
    if (!validLocation(set, carrying))
        return refused("no such rule");
    if (std::string why = checkHeaderRoute(choice); !why.empty())
        return refused(why);
    RouteEdit e;
    e.set = set;
    HttpRoute &route = e.set.routes[size_t(carrying.route)];
    const RouteRule &source = route.rules[size_t(carrying.rule)];
    RouteRule nr;
    nr.name = uniqueRuleName(route, choice.ruleName.empty() ? std::string("header-route") : choice.ruleName);
    nr.matches = withHeader(source.matches, choice.header, choice.type, choice.value);
    nr.backends.push_back(backendNamed(set, route, choice.backend));
    nr.timeoutMs = source.timeoutMs;
    route.rules.insert(route.rules.begin() + carrying.rule, nr);
    e.at = carrying;
    return e;
}

bool faultNeedsOwnRule(const RouteRule &carrying, const std::string &backend)
{
    return std::any_of(carrying.backends.begin(), carrying.backends.end(),
        [&](const BackendRef &b) { return b.name != backend && b.weight > 0; });
}

std::string checkFault(const RouteRule &carrying, const FaultChoice &choice)
{
    if (!choice.abort && choice.delayMs <= 0)
        return "the delay must be more than 0 ms";
    if (choice.abort && (choice.httpStatus < 200 || choice.httpStatus > 599))
        return std::to_string(choice.httpStatus) + " is not an HTTP status data planes can answer (200-599)";
    if (!(choice.percent > 0 && choice.percent <= 100))
        return "the percentage must be more than 0 and at most 100";
    if (choice.scope == FaultScope::OneBackend) {
        if (std::none_of(carrying.backends.begin(), carrying.backends.end(),
                [&](const BackendRef &b) { return b.name == choice.backend; }))
            return "'" + choice.backend + "' is not a backend of this rule";
        if (faultNeedsOwnRule(carrying, choice.backend))
            return checkHeader(choice.header, choice.headerType, choice.headerValue);
    }
    return {};
}

RouteEdit injectFault(const RouteSet &set, RuleLocation carrying, const FaultChoice &choice)
{
    if (!validLocation(set, carrying))
        return refused("no such rule");
    const RouteRule &source = set.routes[size_t(carrying.route)].rules[size_t(carrying.rule)];
    if (std::string why = checkFault(source, choice); !why.empty())
        return refused(why);
    FaultInjection f;
    if (choice.abort) {
        f.abortHttpStatus = choice.httpStatus;
        f.abortPercent = choice.percent;
    } else {
        f.delayMs = choice.delayMs;
        f.delayPercent = choice.percent;
    }
    RouteEdit e;
    e.set = set;
    e.at = carrying;
    HttpRoute &route = e.set.routes[size_t(carrying.route)];
    if (choice.scope == FaultScope::WholeRule || !faultNeedsOwnRule(source, choice.backend)) {
        route.rules[size_t(carrying.rule)].fault = f;
        return e;
    }
    RouteRule nr;
    nr.name = uniqueRuleName(route, choice.ruleName.empty() ? std::string("fault") : choice.ruleName);
    nr.matches = withHeader(source.matches, choice.header, choice.headerType, choice.headerValue);
    for (const BackendRef &b : source.backends) {
        if (b.name == choice.backend) {
            nr.backends.push_back(b);
            nr.backends.back().weight = 1;
            break;
        }
    }
    nr.timeoutMs = source.timeoutMs;
    nr.backendTimeoutMs = source.backendTimeoutMs;
    nr.retry = source.retry;
    nr.requestHeaders = source.requestHeaders;
    nr.responseHeaders = source.responseHeaders;
    nr.fault = f;
    route.rules.insert(route.rules.begin() + carrying.rule, nr);
    return e;
}

}  // namespace meshscope::routing

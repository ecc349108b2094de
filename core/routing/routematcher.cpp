#include "routing/routematcher.h"

#include "routing/xds/xdstranslator.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace meshscope::routing {

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool endsWith(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string trimSlash(std::string s)
{
    while (s.size() > 1 && s.back() == '/')
        s.pop_back();
    return s;
}

// "host:port" -> "host", "[::1]:80" -> "::1"; a bare IPv6 address stays as it is.
std::string stripPort(const std::string &authority)
{
    if (startsWith(authority, "[")) {
        const size_t close = authority.find(']');
        return close == std::string::npos ? authority : authority.substr(1, close - 1);
    }
    const size_t colon = authority.find(':');
    if (colon == std::string::npos || authority.find(':', colon + 1) != std::string::npos)
        return authority;
    return authority.substr(0, colon);
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = char(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// %XX decoded (and '+' as a space in a query), as Go's net/url does for Caddy.
std::string percentDecode(std::string_view s, bool plusIsSpace)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
            out += char(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
            i += 2;
        } else {
            out += plusIsSpace && s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

// Caddy's CleanPath: path.Clean with repeated slashes merged, a trailing slash kept.
std::string cleanPath(const std::string &path)
{
    std::vector<std::string_view> segments;
    std::string_view rest(path);
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string_view seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        if (seg.empty() || seg == ".")
            continue;
        if (seg == "..") {
            if (!segments.empty())
                segments.pop_back();
            continue;
        }
        segments.push_back(seg);
    }
    std::string out;
    for (std::string_view seg : segments)
        out.append("/").append(seg);
    if (out.empty() || (path.size() > 1 && path.back() == '/'))
        out += '/';
    return out;
}

// "a=1&b=2" as (name, value) pairs in order; decoded for Caddy, raw for Envoy.
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query, bool decode)
{
    std::vector<std::pair<std::string, std::string>> out;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty())
            continue;
        const size_t eq = pair.find('=');
        const std::string_view name = pair.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        if (decode)
            out.emplace_back(percentDecode(name, true), percentDecode(value, true));
        else
            out.emplace_back(std::string(name), std::string(value));
    }
    return out;
}

const std::string *firstQueryValue(
    const std::vector<std::pair<std::string, std::string>> &query, const std::string &name)
{
    for (const auto &[n, v] : query) {
        if (n == name)
            return &v;
    }
    return nullptr;
}

// Envoy's (and gRFC A27's) virtual host domains: exact, "*.suffix", "prefix*", "*".
bool domainMatches(const std::string &domain, const std::string &authority)
{
    if (domain == "*" || domain == authority)
        return true;
    if (domain.size() > 1 && domain.front() == '*')
        return authority.size() > domain.size() - 1 && endsWith(authority, std::string_view(domain).substr(1));
    if (domain.size() > 1 && domain.back() == '*')
        return authority.size() > domain.size() - 1
            && startsWith(authority, std::string_view(domain).substr(0, domain.size() - 1));
    return false;
}

// Caddy's host matcher: case-insensitive; a '*' stands for exactly one label.
bool caddyHostMatches(const std::string &pattern, const std::string &host)
{
    if (pattern.find('*') == std::string::npos)
        return pattern == host;
    if (std::count(pattern.begin(), pattern.end(), '.') != std::count(host.begin(), host.end(), '.'))
        return false;
    size_t p = 0, h = 0;
    while (p <= pattern.size() && h <= host.size()) {
        const size_t pe = std::min(pattern.find('.', p), pattern.size());
        const size_t he = std::min(host.find('.', h), host.size());
        const std::string_view label = std::string_view(pattern).substr(p, pe - p);
        if (label != "*" && label != std::string_view(host).substr(h, he - h))
            return false;
        p = pe + 1;
        h = he + 1;
    }
    return true;
}

std::string backendLabel(const BackendRef &b, const std::string &routeNs)
{
    std::string label = backendNamespace(b, routeNs) == routeNs ? b.name : backendNamespace(b, routeNs) + '/' + b.name;
    if (b.port > 0)
        label += ':' + std::to_string(b.port);
    return label;
}

std::string percentText(double share)
{
    const double percent = share * 100;
    char buf[32];
    std::snprintf(buf, sizeof buf, std::fabs(percent - std::round(percent)) < 0.05 ? "%.0f%%" : "%.1f%%", percent);
    return buf;
}

const std::string kGrpcContentType = "application/grpc";

}  // namespace

struct RouteMatcher::CompiledMatch {
    // A header or query parameter condition.
    struct Condition {
        std::string name;
        std::string value;
        std::shared_ptr<const RE2> regex;  // null: exact
        bool holds(const std::string &text) const { return regex ? RE2::FullMatch(text, *regex) : text == value; }
    };
    enum class Path { Any, Exact, Prefix, SegmentPrefix, Regex } path = Path::Any;
    std::string pathValue;
    std::shared_ptr<const RE2> pathRegex;
    std::vector<Condition> headers;
    std::vector<Condition> query;
    std::string method;  // empty: any
    std::vector<std::string> hosts;  // Caddy's host matcher; empty: any host
    bool never = false;  // the data plane skips this match (or its regex does not compile)
};

struct RouteMatcher::CompiledRule {
    std::vector<CompiledMatch> matches;
    size_t decision = 0;  // index into m_rules
};

struct RouteMatcher::VirtualHost {
    std::vector<std::string> domains;
    std::vector<size_t> rules;  // indexes into m_compiled, in the order they are tried
};

namespace {

using Condition = RouteMatcher::CompiledMatch::Condition;

// What one match() reads of the request, normalised once for the data plane.
struct PreparedRequest {
    const RouteRequest *request = nullptr;
    std::string authority;  // lower case, port kept
    std::string host;  // lower case, port stripped
    std::string path;  // xDS: the path before '?'; Caddy: decoded and cleaned
    std::string caddyPath;  // Caddy's path matcher: cleaned, lower case, trailing dots and spaces trimmed
    std::vector<std::pair<std::string, std::string>> query;
};

PreparedRequest prepare(const RouteRequest &r, DataPlane plane)
{
    PreparedRequest p;
    p.request = &r;
    p.authority = lower(r.host);
    p.host = stripPort(p.authority);
    const size_t cut = r.path.find_first_of("?#");
    const std::string_view path = std::string_view(r.path).substr(0, cut);
    const std::string_view query = cut == std::string::npos || r.path[cut] == '#'
        ? std::string_view()
        : std::string_view(r.path).substr(cut + 1, r.path.find('#', cut) - cut - 1);
    const bool caddy = plane == DataPlane::Caddy;
    if (caddy) {
        p.path = cleanPath(percentDecode(path, false));
        std::string trimmed = lower(p.path);
        while (trimmed.size() > 1 && (trimmed.back() == '.' || trimmed.back() == ' '))
            trimmed.pop_back();
        p.caddyPath = std::move(trimmed);
    } else {
        p.path = std::string(path);
    }
    p.query = parseQuery(query, caddy);
    return p;
}

const std::string *headerValue(const PreparedRequest &p, const std::string &name, DataPlane plane)
{
    // gRPC's router reads no binary metadata and sees every call as application/grpc.
    if (plane == DataPlane::XdsGrpc && endsWith(name, "-bin"))
        return nullptr;
    if (plane == DataPlane::XdsGrpc && name == "content-type")
        return &kGrpcContentType;
    const auto it = p.request->headers.find(name);
    return it == p.request->headers.end() ? nullptr : &it->second;
}

bool pathHolds(const RouteMatcher::CompiledMatch &m, const PreparedRequest &p, DataPlane plane)
{
    using Path = RouteMatcher::CompiledMatch::Path;
    const std::string &path = plane == DataPlane::Caddy && m.path != Path::Regex ? p.caddyPath : p.path;
    switch (m.path) {
    case Path::Any: return true;
    case Path::Exact: return path == m.pathValue;
    case Path::Prefix: return startsWith(path, m.pathValue);
    case Path::SegmentPrefix:
        return path == m.pathValue || (startsWith(path, m.pathValue) && path[m.pathValue.size()] == '/');
    case Path::Regex: return RE2::FullMatch(path, *m.pathRegex);
    }
    return false;
}

bool queryHolds(const RouteMatcher::CompiledMatch &m, const PreparedRequest &p, DataPlane plane)
{
    if (m.query.empty())
        return true;
    // Caddy 2.6's query matcher takes the request when any one key's first value is listed.
    if (plane == DataPlane::Caddy) {
        return std::any_of(m.query.begin(), m.query.end(), [&](const Condition &c) {
            const std::string *v = firstQueryValue(p.query, c.name);
            return v && c.holds(*v);
        });
    }
    return std::all_of(m.query.begin(), m.query.end(), [&](const Condition &c) {
        const std::string *v = firstQueryValue(p.query, c.name);
        return v && c.holds(*v);
    });
}

bool holds(const RouteMatcher::CompiledMatch &m, const PreparedRequest &p, DataPlane plane)
{
    if (m.never || !pathHolds(m, p, plane))
        return false;
    if (!m.method.empty() && p.request->method != m.method)
        return false;
    for (const Condition &c : m.headers) {
        const std::string *v = headerValue(p, c.name, plane);
        if (!v || !c.holds(*v))
            return false;
    }
    return queryHolds(m, p, plane);
}

bool hostHolds(const RouteMatcher::CompiledMatch &m, const PreparedRequest &p)
{
    return m.hosts.empty() || std::any_of(m.hosts.begin(), m.hosts.end(), [&](const std::string &h) {
        return caddyHostMatches(h, p.host);
    });
}

}  // namespace

const char *noRouteReasonText(NoRouteReason reason)
{
    switch (reason) {
    case NoRouteReason::None: return "matched";
    case NoRouteReason::NoHost: return "no hostname matches";
    case NoRouteReason::NoRule: return "no rule matches";
    }
    return "";
}

std::string RouteDecision::ruleKey() const { return ruleName.empty() ? '#' + std::to_string(ruleIndex) : ruleName; }

std::string RouteDecision::describe() const
{
    if (!matched())
        return std::string("no route (") + noRouteReasonText(reason) + ')';
    std::string out = route + '#' + std::to_string(ruleIndex) + (ruleName.empty() ? "" : ' ' + ruleName) + " -> ";
    std::vector<const RoutedBackend *> active;
    for (const RoutedBackend &b : backends) {
        if (b.weight > 0)
            active.push_back(&b);
    }
    if (active.empty())
        return out + "no backend (HTTP 500)";
    for (size_t i = 0; i < active.size(); ++i) {
        out += (i ? ", " : "") + active[i]->label;
        if (active.size() > 1)
            out += ' ' + percentText(active[i]->share);
    }
    return out;
}

std::string RouteDecision::destinationKey() const
{
    if (!matched())
        return "-";
    std::string key = route + '\n' + ruleKey();
    for (const RoutedBackend &b : backends) {
        if (b.weight > 0)
            key += '\n' + b.label;
    }
    return key;
}

RouteMatcher::RouteMatcher(const RouteSet &set, DataPlane plane)
    : m_plane(plane)
{
    for (const HttpRoute &r : set.routes) {
        for (size_t i = 0; i < r.rules.size(); ++i)
            addRule(r, i);
    }
    if (m_plane == DataPlane::Caddy) {
        for (size_t i = 0; i < m_compiled.size(); ++i)
            m_fileOrder.push_back(i);
    } else {
        buildXdsHosts(set);
    }
}

RouteMatcher::~RouteMatcher() = default;
RouteMatcher::RouteMatcher(RouteMatcher &&) noexcept = default;
RouteMatcher &RouteMatcher::operator=(RouteMatcher &&) noexcept = default;

void RouteMatcher::addRule(const HttpRoute &route, size_t index)
{
    const RouteRule &rule = route.rules[index];
    RouteDecision d;
    d.reason = NoRouteReason::None;
    d.route = route.ns + '/' + route.name;
    d.ruleIndex = int(index);
    d.ruleName = rule.name;
    uint64_t total = 0;
    for (const BackendRef &b : rule.backends)
        total += uint64_t(std::max(0, b.weight));
    for (const BackendRef &b : rule.backends) {
        const int weight = std::max(0, b.weight);
        d.backends.push_back({backendLabel(b, route.ns), b.name, weight, total ? double(weight) / double(total) : 0});
    }
    CompiledRule compiled;
    compiled.decision = m_rules.size();
    m_rules.push_back(std::move(d));
    // Gateway API: a rule without matches matches every request (PathPrefix "/").
    static const RouteMatch matchAll;
    const size_t n = std::max<size_t>(1, rule.matches.size());
    for (size_t j = 0; j < n; ++j) {
        const std::string where = "HTTPRoute " + m_rules.back().route + ' '
            + (rule.name.empty() ? "rules[" + std::to_string(index) + ']' : rule.name) + " matches[" + std::to_string(j)
            + ']';
        compiled.matches.push_back(compile(route, rule.matches.empty() ? matchAll : rule.matches[j], where));
    }
    m_compiled.push_back(std::move(compiled));
}

namespace {

std::shared_ptr<const RE2> compileRegex(
    const std::string &pattern, const std::string &where, std::vector<std::string> *errors, bool *never)
{
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const RE2>(pattern, options);
    if (re->ok())
        return re;
    errors->push_back(where + ": regex does not compile under RE2: " + re->error() + " (pattern '" + pattern + "')");
    *never = true;
    return nullptr;
}

}  // namespace

RouteMatcher::CompiledMatch RouteMatcher::compile(const HttpRoute &route, const RouteMatch &m, const std::string &where)
{
    using Path = CompiledMatch::Path;
    const bool caddy = m_plane == DataPlane::Caddy, grpc = m_plane == DataPlane::XdsGrpc;
    CompiledMatch out;
    const PathMatch path = m.path.value_or(PathMatch {});
    switch (path.type) {
    case PathMatchType::Exact:
        out.path = Path::Exact;
        out.pathValue = caddy ? lower(path.value) : path.value;
        break;
    case PathMatchType::PathPrefix: {
        // As the translations write it: Caddy "/v1" + "/v1/*" (lower case), gRPC a
        // plain prefix as written, Envoy path_separated_prefix; "/" matches everything.
        const std::string base = trimSlash(path.value);
        if (caddy) {
            out.path = base == "/" || base.empty() ? Path::Any : Path::SegmentPrefix;
            out.pathValue = lower(base);
        } else if (grpc || base == "/" || base.empty()) {
            out.path = Path::Prefix;
            out.pathValue = path.value.empty() ? std::string("/") : path.value;
        } else {
            out.path = Path::SegmentPrefix;
            out.pathValue = base;
        }
        break;
    }
    case PathMatchType::RegularExpression:
        out.path = Path::Regex;
        out.pathRegex = compileRegex(path.value, where + ".path.value", &m_errors, &out.never);
        break;
    }
    std::set<std::string> seen;
    for (size_t k = 0; k < m.headers.size(); ++k) {
        const HeaderMatch &h = m.headers[k];
        const std::string name = lower(h.name);
        m_headerNames.insert(name);
        // Caddy's export writes only the first condition on a header name.
        if (!seen.insert(name).second && caddy)
            continue;
        Condition c {name, h.value, nullptr};
        if (h.type == StringMatchType::RegularExpression)
            c.regex = compileRegex(h.value, where + ".headers[" + std::to_string(k) + "].value", &m_errors, &out.never);
        out.headers.push_back(std::move(c));
    }
    seen.clear();
    for (size_t k = 0; k < m.queryParams.size(); ++k) {
        const QueryParamMatch &q = m.queryParams[k];
        if (caddy && (q.type == StringMatchType::RegularExpression || !seen.insert(q.name).second)) {
            out.never = out.never || q.type == StringMatchType::RegularExpression;  // refused for Caddy
            continue;
        }
        Condition c {q.name, q.value, nullptr};
        if (q.type == StringMatchType::RegularExpression)
            c.regex
                = compileRegex(q.value, where + ".queryParams[" + std::to_string(k) + "].value", &m_errors, &out.never);
        out.query.push_back(std::move(c));
    }
    // gRPC 1.51 ignores routes that match query parameters (gRFC A28) and never sees
    // ":method": the translation leaves POST out (every call is one), anything else
    // stays a header match no call can meet.
    if (grpc) {
        out.never = out.never || !m.queryParams.empty() || (!m.method.empty() && m.method != "POST");
        out.method.clear();
    } else {
        out.method = m.method;
    }
    if (caddy) {
        for (const std::string &h : route.hostnames)
            out.hosts.push_back(lower(h));
    }
    return out;
}

void RouteMatcher::buildXdsHosts(const RouteSet &set)
{
    // As translateToXds groups them: a listener per hostname (or "<name>.<ns>"), the
    // rules of every route served there in file order.
    size_t next = 0;
    std::vector<std::vector<const HttpRoute *>> routesOf;  // per m_hosts entry
    for (const HttpRoute &r : set.routes) {
        const size_t first = next;
        next += r.rules.size();
        for (const std::string &name : xdsListenerNames(r)) {
            const std::string key = lower(name);
            auto [it, fresh] = m_hostByName.emplace(key, m_hosts.size());
            if (fresh) {
                m_hosts.push_back({});
                routesOf.emplace_back();
            }
            auto &routes = routesOf[it->second];
            if (std::find(routes.begin(), routes.end(), &r) != routes.end())
                continue;
            routes.push_back(&r);
            for (size_t i = 0; i < r.rules.size(); ++i)
                m_hosts[it->second].rules.push_back(first + i);
        }
    }
    for (const auto &[name, index] : m_hostByName) {
        const auto &routes = routesOf[index];
        VirtualHost &vh = m_hosts[index];
        const bool catchAll
            = std::all_of(routes.begin(), routes.end(), [](const HttpRoute *r) { return r->hostnames.empty(); });
        if (catchAll) {
            vh.domains = {"*"};
        } else {
            vh.domains = {name};
            if (name.find('*') == std::string::npos)
                vh.domains.push_back(name + ":*");
        }
        if (startsWith(name, "*."))
            m_wildcardHosts.emplace_back(name.substr(1), index);
    }
    std::sort(m_wildcardHosts.begin(), m_wildcardHosts.end(),
        [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
}

RouteDecision RouteMatcher::match(const RouteRequest &request) const
{
    return m_plane == DataPlane::Caddy ? matchCaddy(request) : matchXds(request);
}

RouteDecision RouteMatcher::firstMatch(
    const std::vector<size_t> &rules, const RouteRequest &request, bool *hostSeen) const
{
    const PreparedRequest p = prepare(request, m_plane);
    for (size_t index : rules) {
        const CompiledRule &rule = m_compiled[index];
        for (size_t j = 0; j < rule.matches.size(); ++j) {
            const CompiledMatch &m = rule.matches[j];
            if (!hostHolds(m, p))
                continue;
            *hostSeen = true;
            if (holds(m, p, m_plane)) {
                RouteDecision d = m_rules[rule.decision];
                d.matchIndex = int(j);
                return d;
            }
        }
    }
    RouteDecision none;
    none.reason = *hostSeen ? NoRouteReason::NoRule : NoRouteReason::NoHost;
    return none;
}

RouteDecision RouteMatcher::matchXds(const RouteRequest &request) const
{
    // gRPC asks for the listener by its dial target, port and all; an Envoy serving
    // the hostname sees "host:port" and its virtual host's "host:*" domain takes it.
    const std::string authority = lower(request.host);
    const bool grpc = m_plane == DataPlane::XdsGrpc;
    const std::string host = grpc ? authority : stripPort(authority);
    const VirtualHost *vh = nullptr;
    if (const auto it = m_hostByName.find(host); it != m_hostByName.end())
        vh = &m_hosts[it->second];
    for (size_t i = 0; !vh && !grpc && i < m_wildcardHosts.size(); ++i) {
        const std::string &suffix = m_wildcardHosts[i].first;
        if (host.size() > suffix.size() && endsWith(host, suffix))
            vh = &m_hosts[m_wildcardHosts[i].second];
    }
    if (!vh || std::none_of(vh->domains.begin(), vh->domains.end(), [&](const std::string &d) {
            return domainMatches(d, authority);
        })) {
        return RouteDecision {};
    }
    bool hostSeen = false;
    return firstMatch(vh->rules, request, &hostSeen);
}

RouteDecision RouteMatcher::matchCaddy(const RouteRequest &request) const
{
    bool hostSeen = false;
    return firstMatch(m_fileOrder, request, &hostSeen);
}

}  // namespace meshscope::routing

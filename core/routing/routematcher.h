#pragma once
// Decides where one request goes under a RouteSet, the way the data plane meshscope
// writes the set to decides it, so a what-if on recorded traffic or a route check
// answers what the real proxy or gRPC client would do:
//  - xDS (gRPC 1.51, Envoy; and Generic, read as Envoy): the request's host names the
//    route configuration (a gRPC client dialing xds:///HOST asks for listener HOST;
//    a route without hostnames is served as "<name>.<namespace>"); Envoy also falls
//    back to the most specific wildcard hostname. Its one virtual host must then take
//    the authority (Envoy's domain rules: exact, "*.suffix", "prefix:*", "*"), and
//    its routes are tried in order: the rules of each route sharing the hostname, in
//    file order, one xDS route per match. PathPrefix is a plain prefix for gRPC
//    (xdstranslator.cpp writes `prefix`) and whole path segments for Envoy
//    (`path_separated_prefix`); paths compare without the query string; regexes are
//    RE2 full matches. gRPC skips routes that match query parameters, never sees
//    ":method" (so only POST, which the translation leaves out, can match), reads no
//    "-bin" header and always sees content-type "application/grpc".
//  - Caddy 2.6 (caddyexport.cpp): one flat list of every rule of every route in file
//    order, each match a matcher set with the route's hosts (a "*" stands for one
//    label); paths compare cleaned, percent-decoded and case-insensitively (Caddy's
//    path matcher), regexes against the cleaned path; only the first condition on a
//    header name counts; query values compare decoded and exactly.
// Built once per RouteSet (regexes compiled once), then match() is const and may be
// called from any number of threads.

#include "routing/routemodel.h"
#include "routing/routevalidator.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace meshscope::routing {

// One request as a data plane's router sees it.
struct RouteRequest {
    std::string host;  // the authority; a port is allowed
    std::string path;  // with the query string, if any
    std::string method;  // "GET"; gRPC calls are "POST"
    std::map<std::string, std::string> headers;  // lower-case names; gRPC: the call's metadata
    bool operator==(const RouteRequest &) const = default;
};

enum class NoRouteReason { None, NoHost, NoRule };

struct RoutedBackend {
    std::string label;  // "echo-b"; "ns/echo-b" from another namespace; ":port" when the reference names one
    std::string name;
    int weight = 0;
    double share = 0;  // weight / the rule's total; 0 when the total is 0
};

struct RouteDecision {
    NoRouteReason reason = NoRouteReason::NoHost;
    std::string route;  // "ns/name"
    int ruleIndex = -1;
    std::string ruleName;  // may be empty
    int matchIndex = -1;  // which `matches` entry took it (0 for a rule without matches)
    std::vector<RoutedBackend> backends;  // every backendRef of the rule, weight 0 included

    bool matched() const { return reason == NoRouteReason::None; }
    // How rules are told apart across two route sets: the name when the rule has one.
    std::string ruleKey() const;
    // "default/echo#1 main -> echo-a 80%, echo-b 20%", "no route (no rule matches)".
    std::string describe() const;
    // Route, rule and the backends with weight > 0: what "moved" compares.
    std::string destinationKey() const;
};

// "no hostname matches", "no rule matches".
const char *noRouteReasonText(NoRouteReason reason);

class RouteMatcher {
public:
    RouteMatcher(const RouteSet &set, DataPlane plane);
    ~RouteMatcher();
    RouteMatcher(RouteMatcher &&) noexcept;
    RouteMatcher &operator=(RouteMatcher &&) noexcept;

    RouteDecision match(const RouteRequest &request) const;

    DataPlane dataPlane() const { return m_plane; }
    // Every rule as a decision that took it (matchIndex -1), in file order.
    const std::vector<RouteDecision> &rules() const { return m_rules; }
    // The header names some match looks at (lower case): the headers a decision depends on.
    const std::set<std::string> &headerNames() const { return m_headerNames; }
    // Patterns RE2 refused ("HTTPRoute ns/name rules[1] matches[0]: ..."): they never
    // match. The validator reports them with their line; this is for callers that skip it.
    const std::vector<std::string> &errors() const { return m_errors; }

    struct CompiledMatch;
    struct CompiledRule;
    struct VirtualHost;

private:
    void addRule(const HttpRoute &route, size_t index);
    CompiledMatch compile(const HttpRoute &route, const RouteMatch &m, const std::string &where);
    void buildXdsHosts(const RouteSet &set);
    RouteDecision matchXds(const RouteRequest &request) const;
    RouteDecision matchCaddy(const RouteRequest &request) const;
    RouteDecision firstMatch(const std::vector<size_t> &rules, const RouteRequest &request, bool *hostSeen) const;

    DataPlane m_plane;
    std::vector<CompiledRule> m_compiled;
    std::vector<RouteDecision> m_rules;
    std::vector<VirtualHost> m_hosts;
    std::unordered_map<std::string, size_t> m_hostByName;  // xDS: listener name -> m_hosts index
    std::vector<std::pair<std::string, size_t>> m_wildcardHosts;  // "*.suffix" listeners, longest first
    std::vector<size_t> m_fileOrder;  // Caddy: every rule
    std::set<std::string> m_headerNames;
    std::vector<std::string> m_errors;
};

}  // namespace meshscope::routing

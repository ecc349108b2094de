#pragma once
// The routing rules behind the graph's service actions (shift traffic, add a header
// route, inject a fault, create a route): which rule carries a service the graph
// names, which backends a shift moves traffic between, and what a new header rule
// or default route holds. Plain functions on the route model, so the route editor
// keeps only selection, focus and notices, and a test needs no window.
//
// A service is given as the graph's node id ("ns/name", "name", "ns/name@version"),
// read with model's one id grammar. A backend serves it when it bears its name, or
// its name plus "-<version>" (the Istio version-subset convention, "reviews-v2").

#include "model/nodeid.h"
#include "routing/routemodel.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshscope::routing {

// The service a graph node id names. Nothing for the graph's non-service nodes
// ("external", "other", "ext:HOST") and for an empty name; surrounding blanks are ignored.
std::optional<NodeRef> serviceOf(std::string_view serviceNodeId);

// "reviews-v2" -> "reviews": the name without a version suffix (v, a digit, then
// [a-z0-9]*). Empty when the name has no such suffix.
std::string versionlessName(std::string_view backendName);

// Whether a backend of a route in `routeNs` serves `service`: same namespace (when the
// service names one) and the service's name, or name-version. Without a version, every
// versioned backend of the service serves it.
bool backendMatches(const BackendRef &backend, const std::string &routeNs, const NodeRef &service);
// Whether a route is reached by dialling the service: a hostname that is its name, or
// starts with "name." (reviews.bookinfo.svc.cluster.local).
bool hostnameMatches(const HttpRoute &route, const NodeRef &service);

// Indexes into RouteSet::routes and HttpRoute::rules.
struct RuleLocation {
    int route = -1;
    int rule = -1;
};

// The rule that best carries the service: most backends serving it first, then rules
// that split traffic (what a shift or a header route acts on), then rules of a route
// whose hostname is the service. The first such rule wins a tie. Nothing when no rule
// has a backend serving it and no route's hostname names it.
std::optional<RuleLocation> findRuleFor(const RouteSet &set, std::string_view serviceNodeId);
bool routesService(const RouteSet &set, std::string_view serviceNodeId);

// One route sending traffic to a service, and which of its rules do (in match order):
// every rule when the route's hostname names the service, else those with a backend
// serving it. What the graph's routing tooltip is written from.
struct ServiceRouting {
    int route = -1;
    std::vector<int> rules;
};
std::vector<ServiceRouting> routingFor(const RouteSet &set, std::string_view serviceNodeId);

// Every service some rule routes to, as "namespace/name", sorted: each backend, its
// versionless service for a versioned backend, and route hostnames that are plain
// service names (no dot, no wildcard). The graph badges these.
std::vector<std::string> routedServices(const RouteSet &set);

// The two backends a traffic shift starts with, by name. `to` is empty when the rule
// has no second backend (the editor then offers another service).
struct ShiftPair {
    std::string from;
    std::string to;
};
// The clicked service's backend and the heaviest other one. Traffic moves towards the
// clicked side when it has the smaller share (promoting a canary), else away from it.
// Without a backend serving the service, the rule's first backend. Nothing when the
// rule has no backends.
std::optional<ShiftPair> shiftPairFor(const HttpRoute &route, const RouteRule &rule, std::string_view serviceNodeId);

// A rule name not yet taken in the route: `base`, else base-2, base-3, ...
std::string uniqueRuleName(const HttpRoute &route, const std::string &base);

struct HeaderRouteOptions {
    std::string ruleName = "header-canary";  // made unique within the route
    std::string header = "x-canary";
    std::string value = "true";
};
// A rule sending requests tagged `header: value` (exact) to one backend of `source`: the
// lightest one serving the service (for a versionless name, the canary usually), else
// the first. It keeps the source's request timeout and matches every path. It belongs
// first in the route, so that no earlier catch-all rule shadows it.
RouteRule headerRouteFor(const HttpRoute &route, const RouteRule &source, std::string_view serviceNodeId,
    const HeaderRouteOptions &options = {});

// The fault a rule without one starts with: 1 s of delay for 10 % of requests, enough to
// see on the graph without taking the service down.
FaultInjection starterFault();

// A route for a service nothing routes to yet: named after the service, in its namespace
// ("default" when the id has none), hostname the service name, one rule "default" sending
// everything to it (name-version for a versioned id). The Service port is unknown, so
// the port of the first EndpointSlice of that backend in the namespace is offered.
// Nothing when the id names no service.
std::optional<HttpRoute> defaultRouteFor(const RouteSet &set, std::string_view serviceNodeId);

}  // namespace meshscope::routing

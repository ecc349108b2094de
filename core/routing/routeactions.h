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

// ---- The graph's wizards: what each dialog's choices make of the route set. ----

// A change one wizard makes: the whole edited set afterwards and the rule it added or
// changed, or why it was refused (then `set` is empty and `at` is unset).
struct RouteEdit {
    RouteSet set;
    RuleLocation at;
    std::string error;
    bool ok() const { return error.empty(); }
};

// One backend's share of a rule's traffic, in whole percent.
struct BackendShare {
    std::string backend;
    int percent = 0;
};

// Each backend's share of the rule's total weight, rounded so the shares add up to 100
// (largest remainder; a tie goes to the earlier backend). Equal shares when every weight is 0.
std::vector<int> percentagesOf(const RouteRule &rule);
// `count` shares adding up to 100, as equal as whole percents allow (the first ones get the rest).
std::vector<int> evenSplit(size_t count);
// Share `index` set to `percent` (clamped to 0..100); the others take up the rest in
// proportion to what they had (equally when they had nothing), so the sum stays 100.
std::vector<int> rebalanced(std::vector<int> percents, size_t index, int percent);
// Why the shares cannot be applied ("the shares add up to 90 %, not 100 %"), empty when they can.
std::string checkShares(const std::vector<BackendShare> &shares);
// The rule at `at` with weights equal to the shares (weight = percent, so the file
// reads as percentages). A backend the rule lacks is appended with the port another
// rule or an EndpointSlice gives it; a backend not named keeps weight 0.
RouteEdit shiftWeights(const RouteSet &set, RuleLocation at, const std::vector<BackendShare> &shares);
// What a shift changes, for a preview: "reviews-v1 80 % → 49 %, reviews-v2 20 % → 51 %"
// (unchanged backends are listed as "reviews-v3 0 %"). Percentages are each backend's
// share of the rule's traffic before and after.
std::string describeShift(const RouteRule &rule, const std::vector<BackendShare> &shares);

struct HeaderRouteChoice {
    std::string ruleName = "header-canary";  // made unique within the route
    std::string header = "x-canary";
    StringMatchType type = StringMatchType::Exact;
    std::string value = "true";
    std::string backend;  // the only backend of the new rule
};
// Why the choice cannot become a rule (header name not an RFC 7230 token, empty value,
// a regex RE2 refuses, with RE2's own reason, no backend), empty when it can.
std::string checkHeaderRoute(const HeaderRouteChoice &choice);
// Inserts, just before the rule at `carrying`, a rule sending requests that the carrying
// rule matches and that carry the header to the chosen backend only. Placed before it,
// the new rule wins for tagged requests; untagged ones reach the carrying rule as before.
RouteEdit addHeaderRoute(const RouteSet &set, RuleLocation carrying, const HeaderRouteChoice &choice);

// Data planes decide a fault before they pick a weighted backend, so a fault is always
// the whole rule's. To fault only one backend's traffic, that traffic must first get a
// rule of its own, and the only honest way to carve it out of a split is a header: a
// new rule for tagged requests that goes only to that backend and carries the fault.
enum class FaultScope { WholeRule, OneBackend };
struct FaultChoice {
    bool abort = false;  // false: delay
    int64_t delayMs = 1000;
    int httpStatus = 503;
    double percent = 10;
    FaultScope scope = FaultScope::WholeRule;
    std::string backend;  // OneBackend: the backend whose traffic is faulted
    // OneBackend on a rule with other backends: the header that tags the faulted requests.
    std::string header = "x-fault";
    StringMatchType headerType = StringMatchType::Exact;
    std::string headerValue = "true";
    std::string ruleName = "fault";  // made unique within the route
};
// Whether a OneBackend fault needs a rule of its own: the carrying rule sends traffic to
// some other backend too (else the whole rule's traffic is the backend's already).
bool faultNeedsOwnRule(const RouteRule &carrying, const std::string &backend);
// Why the choice cannot be applied (delay not positive, status outside 200-599,
// percentage outside (0, 100], unknown backend, a header check as above), empty when it can.
std::string checkFault(const RouteRule &carrying, const FaultChoice &choice);
// WholeRule, or OneBackend where the rule has only that backend: the fault is set on the
// carrying rule. OneBackend otherwise: a new rule before it, matching what it matches
// plus the header, sending only to the backend, with the fault; other backends' traffic
// and the carrying rule are left as they were.
RouteEdit injectFault(const RouteSet &set, RuleLocation carrying, const FaultChoice &choice);

}  // namespace meshscope::routing

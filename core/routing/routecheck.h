#pragma once
// Route checks: requests paired with the route, rule and backend each must reach,
// kept in a YAML file beside a route file and run in CI (`meshscope-cli routes
// check`), as Envoy's router check tool runs its tests. `routes whatif --save-cases`
// writes one from recorded traffic. The format (docs/routes.md "What-if and route
// checks"):
//   tests:
//   - name: canary header                # optional; default "tests[i]"
//     request: {host: echo.test, path: /echo.Echo/Call, method: POST, headers: {x-canary: "1"}}
//     expect: {route: default/echo, rule: canary, backend: echo-b}
// host and path are required, method defaults to GET; expect holds at least one of
// route ("ns/name", or "name" in any namespace), rule (its name or its index),
// backend (one of the rule's backends with weight > 0), backends (exactly the rule's
// backends with weight > 0), or `no_route: true` alone.

#include "routing/routematcher.h"

#include <optional>
#include <string>
#include <vector>

namespace meshscope::routing {

struct RouteCheckExpectation {
    bool noRoute = false;
    std::optional<std::string> route;
    std::optional<std::string> rule;
    std::optional<std::string> backend;
    std::optional<std::vector<std::string>> backends;
};

struct RouteCheckCase {
    std::string name;
    int line = 0;  // 1-based line of the case in its file; 0 when made, not read
    RouteRequest request;
    RouteCheckExpectation expect;
};

struct RouteCheckFile {
    std::vector<RouteCheckCase> cases;
    std::string error;  // "cases.yaml:12: tests[2].request: host is required"; empty when read
    bool ok() const { return error.empty(); }
};

RouteCheckFile parseRouteChecks(const std::string &text, const std::string &fileName);
RouteCheckFile loadRouteChecks(const std::string &path);

struct RouteCheckOutcome {
    bool passed = false;
    std::string expected;  // "route default/echo, rule canary, backend echo-b"
    std::string got;  // RouteDecision::describe()
};

RouteCheckOutcome runRouteCheck(const RouteCheckCase &check, const RouteMatcher &matcher);

// A case expecting what `decision` says about `request`, named after the request.
RouteCheckCase routeCheckFor(const RouteRequest &request, const RouteDecision &decision);
// The cases as a file parseRouteChecks() reads back; `comment` heads it ("# ..." lines).
std::string routeChecksYaml(const std::vector<RouteCheckCase> &cases, const std::string &comment = {});

}  // namespace meshscope::routing

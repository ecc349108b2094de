#pragma once
// Validates a RouteSet before anything leaves meshscope: regexes compile under RE2
// (the engine of Envoy and gRPC), weights are non-negative with a positive sum,
// names are unique, rules shadowed by an earlier rule are flagged, unknown backends
// are flagged, and what the target data plane cannot express is refused (or noted
// as converted) with the reason.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <vector>

namespace meshscope::routing {

enum class DataPlane {
    Generic,  // the model's own rules only
    XdsGrpc,  // gRPC 1.51's proxyless xDS client (PROTOCOLS.md "Quirks")
    Envoy,  // Envoy via the same xDS resources
    Caddy,  // Caddy 2.6 admin API
};

std::vector<RouteIssue> validateRoutes(const RouteSet &set, DataPlane target = DataPlane::Generic);
bool hasErrors(const std::vector<RouteIssue> &issues);

}  // namespace meshscope::routing

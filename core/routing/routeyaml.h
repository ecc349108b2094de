#pragma once
// Reads and writes route files: multi-document YAML holding HTTPRoute
// (gateway.networking.k8s.io/v1) and EndpointSlice (discovery.k8s.io/v1) documents.
// Parse errors name the file, document and line; unknown kinds are reported, not
// silently skipped.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <string>
#include <vector>

namespace meshscope::routing {

struct RouteLoadResult {
    RouteSet set;
    std::vector<RouteIssue> issues;  // parse problems (errors) and ignored documents (warnings)
    bool ok() const;                 // no issue of severity Error
};

RouteLoadResult loadRouteYaml(const std::string &text, const std::string &fileName);
RouteLoadResult loadRouteFile(const std::string &path);

// Normalized output: defaults made explicit, documents in a stable order.
std::string toYaml(const RouteSet &set);

}  // namespace meshscope::routing

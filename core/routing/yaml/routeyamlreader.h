#pragma once
// Reads route files: multi-document YAML holding HTTPRoute
// (gateway.networking.k8s.io/v1) and EndpointSlice (discovery.k8s.io/v1) documents.
// Parse errors name the file, document and line; unknown kinds are reported, not
// silently skipped. Every field read records its line (SourceRef::fieldLines), so
// the validator can point at it. Callers include routeyaml.h.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <string>
#include <vector>

namespace meshscope::routing {

struct RouteLoadResult {
    RouteSet set;
    std::vector<RouteIssue> issues;  // parse problems (errors) and ignored documents (warnings)
    bool ok() const;  // no issue of severity Error
};

RouteLoadResult loadRouteYaml(const std::string &text, const std::string &fileName);
RouteLoadResult loadRouteFile(const std::string &path);

}  // namespace meshscope::routing

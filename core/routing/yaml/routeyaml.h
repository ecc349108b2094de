#pragma once
// Reads and writes route files: multi-document YAML holding HTTPRoute
// (gateway.networking.k8s.io/v1) and EndpointSlice (discovery.k8s.io/v1) documents.
// Parse errors name the file, document and line; unknown kinds are reported, not
// silently skipped.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <cstdint>
#include <optional>
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
// (Added note: the order is the set's own, HTTPRoutes first; routes sharing a
// hostname are matched in that order, so it is never re-sorted.)
std::string toYaml(const RouteSet &set);

// Added: Gateway API Duration (GEP-2257: "10s", "500ms", "1h30m") <-> milliseconds.
// parseDuration returns nullopt for anything else (no decimals, no bare numbers).
std::optional<int64_t> parseDuration(const std::string &text);
std::string formatDuration(int64_t ms);  // largest units first: 90500 -> "1m30s500ms", 0 -> "0s"

// Added: true when this text written as a plain YAML scalar would read back as
// something other than the same string (empty, true/yes/on, null/~, numbers, 1:20).
// Emitters quote such strings so Kubernetes tooling sees strings too.
bool yamlNeedsQuotes(const std::string &text);

}  // namespace meshscope::routing

#pragma once
// Exports a RouteSet for other tools: Istio (networking.istio.io/v1beta1
// VirtualService per HTTPRoute plus DestinationRules for version subsets) or
// normalized Gateway API YAML (toYaml). What Istio cannot say is reported as an
// issue with the reason, never dropped silently. Mapping rules: docs/routes.md.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <string>
#include <vector>

namespace meshscope::routing {

enum class ExportFormat { Istio, GatewayApi };

struct ExportOptions {
    // A backend named "<service>-<version>" (version: v1, v2beta, ...) becomes Istio
    // host <service> with subset <version>, and a DestinationRule selects the subset
    // by the label below. Off: every backend is its own host, no DestinationRules.
    bool versionSubsets = true;
    std::string versionLabel = "version";
};

struct ExportResult {
    std::string yaml;
    std::vector<RouteIssue> issues;  // conversions (warnings) and what could not be exported (errors)
    bool ok() const;
};

ExportResult exportRoutes(const RouteSet &set, ExportFormat format, const ExportOptions &options = {});

// The Istio host/subset a backend maps to under `options` (exposed for tests and the GUI).
struct IstioDestination {
    std::string host;  // "reviews", or "reviews.other.svc.cluster.local" across namespaces
    std::string subset;  // empty: none
};
IstioDestination istioDestination(const BackendRef &backend, const std::string &routeNs, const ExportOptions &options);

// Istio durations are protobuf Durations: seconds with an "s" suffix ("0.5s", "10s").
std::string istioDuration(int64_t ms);

}  // namespace meshscope::routing

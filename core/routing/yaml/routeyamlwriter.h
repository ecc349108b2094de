#pragma once
// Writes route files: a RouteSet as multi-document YAML, HTTPRoute
// (gateway.networking.k8s.io/v1) then EndpointSlice (discovery.k8s.io/v1)
// documents, in the spelling routeyamlreader.cpp reads back to an equal set.
// Callers include routeyaml.h.

#include "routing/routemodel.h"

#include <string>

namespace meshscope::routing {

// Normalized output: defaults made explicit, documents in a stable order.
// (Added note: the order is the set's own, HTTPRoutes first; routes sharing a
// hostname are matched in that order, so it is never re-sorted.)
std::string toYaml(const RouteSet &set);

}  // namespace meshscope::routing

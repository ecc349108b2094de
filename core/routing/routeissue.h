#pragma once
// One problem found in a route file or refused by a data plane, naming the
// document, rule and field it concerns.

#include "routing/routemodel.h"

#include <string>

namespace meshscope::routing {

enum class Severity { Error, Warning };

struct RouteIssue {
    Severity severity = Severity::Error;
    std::string document;  // "HTTPRoute shop/reviews" or "EndpointSlice shop/reviews-v1"
    std::string rule;  // rule name, or "rules[2]"; empty for document-level issues
    std::string field;  // e.g. "matches[0].path.value", "backendRefs[1].weight"
    std::string message;
    SourceRef source;

    // "routes.yaml:14: HTTPRoute shop/reviews rules[1] matches[0].path.value: regex does not compile: ..."
    std::string toString() const;
};

}  // namespace meshscope::routing

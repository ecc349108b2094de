#pragma once
// Spans for the trace view from access-log requests that carry a trace context (the
// span fields of RequestEvent, set by the ALS decoder on one request per entry that
// logged a traceparent, b3 or x-b3-* header, or x-request-id when configured). Only the
// trace store gets them: the request already feeds the graph, so pairing the span too
// would count it twice.
//
// The span belongs to the Envoy's workload: a server span (inbound: the request's
// target) or a client span (outbound and gateways: its source). It is named like the
// spans of Envoy's own tracer under Istio, "<authority><path>" without the query
// ("reviews:9080/reviews/0"), the path alone when no authority was logged. Its
// status is ERROR when the graph counts the request as an error (5xx, gRPC non-OK, a
// failure response flag). Envoy's span ids are not logged, so the span is the child of
// the caller's span named by the header: the caller's and callee's Envoys log sibling
// spans under the calling application's span.

#include "model/observation.h"
#include "model/span.h"

#include <vector>

namespace meshscope {

// The value of the span attribute "meshscope.source" on every access-log span.
inline constexpr const char *kAccessLogSpanSource = "envoy access log";

// False (out untouched) when the request carries no span or an unusable trace id.
bool spanFromRequest(const ObservedRequest &request, Span &out);
// The spans of the requests that carry one, in order.
std::vector<Span> spansFromRequests(const std::vector<ObservedRequest> &requests);

}  // namespace meshscope

#include "routing/routemodel.h"

#include <cmath>

namespace meshscope::routing {

namespace {

// Percentages come back from YAML through decimal text (and mirror fractions
// through numerator/denominator), so exact double equality would be too strict.
bool samePercent(double a, double b) { return std::fabs(a - b) < 1e-9; }

}  // namespace

int SourceRef::lineOf(const std::string &field) const
{
    const auto it = fieldLines.find(field);
    return it != fieldLines.end() ? it->second : line;
}

const HttpRoute *RouteSet::route(const std::string &ns, const std::string &name) const
{
    for (const HttpRoute &r : routes) {
        if (r.ns == ns && r.name == name)
            return &r;
    }
    return nullptr;
}

std::vector<const EndpointSlice *> RouteSet::slicesFor(const BackendRef &backend, const std::string &routeNs) const
{
    const std::string ns = backendNamespace(backend, routeNs);
    std::vector<const EndpointSlice *> out;
    for (const EndpointSlice &s : endpointSlices) {
        if (s.serviceName == backend.name && s.ns == ns)
            out.push_back(&s);
    }
    return out;
}

std::string backendNamespace(const BackendRef &backend, const std::string &routeNs)
{
    return backend.ns.empty() ? routeNs : backend.ns;
}

int dialPort(const BackendRef &backend, const EndpointSlice &slice)
{
    return slice.port != 0 ? slice.port : backend.port;
}

bool operator==(const PathMatch &a, const PathMatch &b) { return a.type == b.type && a.value == b.value; }

bool operator==(const HeaderMatch &a, const HeaderMatch &b)
{
    return a.name == b.name && a.type == b.type && a.value == b.value;
}

bool operator==(const QueryParamMatch &a, const QueryParamMatch &b)
{
    return a.name == b.name && a.type == b.type && a.value == b.value;
}

bool operator==(const RouteMatch &a, const RouteMatch &b)
{
    return a.path == b.path && a.headers == b.headers && a.queryParams == b.queryParams && a.method == b.method;
}

bool operator==(const BackendRef &a, const BackendRef &b)
{
    return a.name == b.name && a.ns == b.ns && a.port == b.port && a.weight == b.weight;
}

bool operator==(const RetryPolicy &a, const RetryPolicy &b)
{
    return a.attempts == b.attempts && a.codes == b.codes && a.retryOn == b.retryOn
        && a.perTryTimeoutMs == b.perTryTimeoutMs && a.backoffMs == b.backoffMs;
}

bool operator==(const FaultInjection &a, const FaultInjection &b)
{
    return a.delayMs == b.delayMs && samePercent(a.delayPercent, b.delayPercent)
        && a.abortHttpStatus == b.abortHttpStatus && samePercent(a.abortPercent, b.abortPercent);
}

bool operator==(const HeaderModifier &a, const HeaderModifier &b)
{
    return a.set == b.set && a.add == b.add && a.remove == b.remove;
}

bool operator==(const RequestMirror &a, const RequestMirror &b)
{
    return a.backend == b.backend && samePercent(a.percent, b.percent);
}

bool operator==(const RouteRule &a, const RouteRule &b)
{
    return a.name == b.name && a.matches == b.matches && a.backends == b.backends && a.timeoutMs == b.timeoutMs
        && a.backendTimeoutMs == b.backendTimeoutMs && a.retry == b.retry && a.fault == b.fault && a.mirror == b.mirror
        && a.requestHeaders == b.requestHeaders && a.responseHeaders == b.responseHeaders;
}

bool operator==(const HttpRoute &a, const HttpRoute &b)
{
    return a.name == b.name && a.ns == b.ns && a.hostnames == b.hostnames && a.rules == b.rules;
}

bool operator==(const Endpoint &a, const Endpoint &b) { return a.address == b.address && a.ready == b.ready; }

bool operator==(const EndpointSlice &a, const EndpointSlice &b)
{
    return a.name == b.name && a.ns == b.ns && a.serviceName == b.serviceName && a.endpoints == b.endpoints
        && a.port == b.port && a.portName == b.portName;
}

bool operator==(const RouteSet &a, const RouteSet &b)
{
    return a.routes == b.routes && a.endpointSlices == b.endpointSlices;
}

}  // namespace meshscope::routing

#pragma once
// meshscope's backend-neutral routing model, shaped like the Kubernetes Gateway API
// HTTPRoute (gateway.networking.k8s.io/v1) plus EndpointSlice (discovery.k8s.io/v1)
// documents that give each backend's addresses. Retries, fault injection and
// mirroring percentages are documented extensions (see docs/routes.md).
// Plain values: every backend (xDS, Caddy, YAML export) reads the same structs.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshscope::routing {

// Where a document or field came from, so errors can name it.
struct SourceRef {
    std::string file;
    int documentIndex = -1;  // 0-based index of the YAML document in the file
    int line = 0;  // 1-based, 0 if unknown
    // Added: 1-based line of each field the loader read, keyed by the same field path
    // an issue names (relative to the rule for RouteRule, e.g. "matches[0].path.value";
    // relative to the document otherwise, e.g. "spec.hostnames[0]"). Lets the
    // validator point at the offending line rather than the rule's first line.
    std::map<std::string, int> fieldLines;

    // The field's line if the loader saw it, else the owner's line.
    int lineOf(const std::string &field) const;
};

enum class PathMatchType { Exact, PathPrefix, RegularExpression };
enum class StringMatchType { Exact, RegularExpression };

struct PathMatch {
    PathMatchType type = PathMatchType::PathPrefix;
    std::string value = "/";
};

struct HeaderMatch {
    std::string name;
    StringMatchType type = StringMatchType::Exact;
    std::string value;
};

struct QueryParamMatch {
    std::string name;
    StringMatchType type = StringMatchType::Exact;
    std::string value;
};

struct RouteMatch {
    std::optional<PathMatch> path;  // Gateway API default: PathPrefix "/"
    std::vector<HeaderMatch> headers;
    std::vector<QueryParamMatch> queryParams;
    std::string method;  // empty: any
};

struct BackendRef {
    std::string name;  // Service name; its EndpointSlices give addresses
    std::string ns;  // empty: the route's namespace
    int port = 0;
    int weight = 1;  // Gateway API default 1
};

struct RetryPolicy {
    int attempts = 0;  // extra attempts after the first
    std::vector<int> codes;  // HTTP status codes that are retried (Gateway API GEP-1731)
    std::vector<std::string> retryOn;  // Envoy/gRPC conditions, e.g. "5xx", "unavailable"
    std::optional<int64_t> perTryTimeoutMs;
    std::optional<int64_t> backoffMs;
};

struct FaultInjection {
    std::optional<int64_t> delayMs;
    double delayPercent = 100;
    std::optional<int> abortHttpStatus;
    double abortPercent = 100;
};

struct HeaderModifier {
    std::vector<std::pair<std::string, std::string>> set;
    std::vector<std::pair<std::string, std::string>> add;
    std::vector<std::string> remove;
    bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct RequestMirror {
    BackendRef backend;
    double percent = 100;
};

struct RouteRule {
    std::string name;  // optional in Gateway API; validation requires unique names where given
    std::vector<RouteMatch> matches;  // empty: match everything
    std::vector<BackendRef> backends;
    std::optional<int64_t> timeoutMs;  // timeouts.request
    std::optional<int64_t> backendTimeoutMs;  // timeouts.backendRequest
    std::optional<RetryPolicy> retry;
    std::optional<FaultInjection> fault;
    std::optional<RequestMirror> mirror;
    HeaderModifier requestHeaders;
    HeaderModifier responseHeaders;
    SourceRef source;
};

struct HttpRoute {
    std::string name;
    std::string ns = "default";
    std::vector<std::string> hostnames;
    std::vector<RouteRule> rules;
    SourceRef source;
};

struct Endpoint {
    std::string address;  // IP or hostname
    bool ready = true;
};

struct EndpointSlice {
    std::string name;
    std::string ns = "default";
    std::string serviceName;  // label kubernetes.io/service-name
    std::vector<Endpoint> endpoints;
    int port = 0;  // the slice's first port
    std::string portName;
    SourceRef source;
};

// Everything one route file (or one data plane) holds.
struct RouteSet {
    std::vector<HttpRoute> routes;
    std::vector<EndpointSlice> endpointSlices;

    const HttpRoute *route(const std::string &ns, const std::string &name) const;
    // Slices whose serviceName and namespace match the backend.
    std::vector<const EndpointSlice *> slicesFor(const BackendRef &backend, const std::string &routeNs) const;
};

bool operator==(const PathMatch &, const PathMatch &);
bool operator==(const HeaderMatch &, const HeaderMatch &);
bool operator==(const QueryParamMatch &, const QueryParamMatch &);
bool operator==(const RouteMatch &, const RouteMatch &);
bool operator==(const BackendRef &, const BackendRef &);

// Added: content equality for the remaining types. Where a value was read from
// (SourceRef) is ignored, so a set equals itself after a YAML round trip.
// Percentages compare with a tolerance of 1e-9.
bool operator==(const RetryPolicy &, const RetryPolicy &);
bool operator==(const FaultInjection &, const FaultInjection &);
bool operator==(const HeaderModifier &, const HeaderModifier &);
bool operator==(const RequestMirror &, const RequestMirror &);
bool operator==(const RouteRule &, const RouteRule &);
bool operator==(const HttpRoute &, const HttpRoute &);
bool operator==(const Endpoint &, const Endpoint &);
bool operator==(const EndpointSlice &, const EndpointSlice &);
bool operator==(const RouteSet &, const RouteSet &);

// Added: the namespace a backend lives in (its own, else the route's).
std::string backendNamespace(const BackendRef &backend, const std::string &routeNs);
// Added: the port a data plane dials for a backend served by this slice. The slice's
// port is the endpoints' (target) port and wins; a slice without ports (Kubernetes:
// "all ports") falls back to backendRefs[].port. 0 when neither is known.
int dialPort(const BackendRef &backend, const EndpointSlice &slice);

}  // namespace meshscope::routing

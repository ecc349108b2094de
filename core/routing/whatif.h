#pragma once
// What-if on recorded traffic: the requests of a recording or a live window replayed
// through two RouteMatchers, the routes in effect (current) and a proposed set, to say
// per rule and backend how many requests went where before and would go after, and
// which requests would change route.
//
// RequestCollector is the TelemetrySink the requests are gathered with. One request
// is counted once:
//  - a span stands for a request when it is a CLIENT or SERVER span with a path (gRPC:
//    from rpc.service/rpc.method when the path is empty);
//  - the CLIENT span is what the data plane routed (a proxyless gRPC client, or the
//    caller's sidecar), so a SERVER span whose parent is a collected CLIENT span of
//    the same trace is its other half and is skipped; a SERVER span alone stands for
//    its request;
//  - headers come from `http.request.header.<name>` and `rpc.grpc.request.metadata.<name>`
//    attributes (an array value counts by its first element);
//  - access-log requests (ObservedRequest) carry no headers and match without them;
//    one whose trace also holds a span request with the same method and path is
//    skipped, and so is a server-side entry when a client-side entry of the same
//    trace has the same method and path (the two sidecars logging one request).

#include "model/telemetrysink.h"
#include "routing/routematcher.h"

#include <QJsonObject>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace meshscope::routing {

// The request a span stands for, or nullopt when it stands for none (internal,
// messaging, database, no path).
std::optional<RouteRequest> requestOfSpan(const Span &span);
RouteRequest requestOfEvent(const RequestEvent &event);

class RequestCollector : public TelemetrySink {
public:
    struct Counts {
        uint64_t spans = 0;  // spans seen
        uint64_t spanRequests = 0;  // requests counted from spans
        uint64_t serverHalves = 0;  // SERVER spans skipped: their CLIENT span was counted
        uint64_t accessLogRequests = 0;  // counted from access logs
        uint64_t accessLogDuplicates = 0;  // access-log requests skipped as told already
    };

    RequestCollector();
    ~RequestCollector() override;

    // Any thread (receivers call from gRPC threads).
    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin) override;
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override;
    void setPulledEdges(const std::string &, std::vector<PulledEdge>, int64_t) override { }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
    void countMalformed(const std::string &) override { }
    void countOversized(const std::string &) override { }

    // Once the sources are done: every request once, in arrival order.
    std::vector<RouteRequest> requests(Counts *counts = nullptr) const;

private:
    struct Collected;
    mutable std::mutex m_mutex;
    std::vector<Collected> m_collected;
    uint64_t m_spans = 0;
};

// A request as it is grouped and listed: only the headers some rule reads.
struct DistinctRequest {
    RouteRequest request;
    uint64_t count = 0;
};

// Identical requests (host, method, path and the headers named) folded into one,
// in first-seen order: a decision depends on nothing else.
std::vector<DistinctRequest> distinctRequests(
    const std::vector<RouteRequest> &requests, const std::set<std::string> &headerNames);

struct WhatIfRow {
    std::string route;  // "ns/name"
    int rule = -1;  // index in the proposed set, else in the current one
    std::string ruleName;
    std::string backend;  // label; empty for a rule without backends
    int weightBefore = -1;  // -1: not in that set
    int weightAfter = -1;
    double before = 0;  // expected requests: count x the backend's share
    double after = 0;
};

struct MovedRequest {
    RouteRequest request;  // headers: those some rule reads
    uint64_t count = 0;
    std::string before;  // RouteDecision::describe()
    std::string after;
};

struct WhatIfReport {
    std::string dataPlane;  // "xds-grpc", "envoy", "caddy", "generic"
    uint64_t requests = 0;
    uint64_t distinct = 0;
    uint64_t unmatchedBefore = 0;
    uint64_t unmatchedAfter = 0;
    std::vector<WhatIfRow> rows;  // every (rule, backend) of either set
    uint64_t movedRequests = 0;  // requests whose route, rule or backend set changes
    uint64_t movedDistinct = 0;
    std::vector<MovedRequest> moved;  // the first `movedLimit` distinct ones
};

WhatIfReport runWhatIf(const std::vector<DistinctRequest> &requests, const RouteMatcher &current,
    const RouteMatcher &proposed, size_t movedLimit = 100);

// The names `--target` takes: "generic", "xds-grpc", "envoy", "caddy".
const char *dataPlaneName(DataPlane plane);

// docs/routes.md "What-if and route checks" describes both.
QJsonObject whatIfJson(const WhatIfReport &report);
std::string whatIfText(const WhatIfReport &report);

}  // namespace meshscope::routing

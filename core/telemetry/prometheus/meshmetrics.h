#pragma once
// Translation between Prometheus and meshscope's graph for Istio's standard metrics
// and Linkerd's proxy metrics: writes the PromQL for the graph at one instant over
// one window, and turns the vectors Prometheus answers into PulledEdges whose node
// ids match the ones OTLP traces produce (service "ns/name@version").
// Pure functions, no I/O and no Qt objects: they run on whichever thread calls them
// (PrometheusSource's worker thread, the CLI, tests).
//
// Istio: requests are counted as Kiali counts them, once each. Series reported by
// the destination proxy (reporter="destination", or "waypoint" in ambient mode) give
// every edge into a mesh workload, including callers without a proxy (source_workload
// "unknown" -> the external node). Series reported by the source proxy are used only
// where no destination proxy saw the request (destination_workload "unknown"): calls
// to services outside the mesh (external-service nodes) and requests that failed
// before reaching a workload.
// Linkerd: outbound proxy metrics (direction="outbound", dst_* labels) give the edges
// between meshed workloads and to outside hosts; inbound requests without mTLS
// identity (tls!="true") give the edges from callers outside the mesh.

#include "model/telemetrysink.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QString>

#include <cstdint>
#include <string>
#include <vector>

namespace meshscope {

enum class MeshKind : uint8_t { Auto, Istio, Linkerd };  // Auto: ask for both; a mesh that is absent answers nothing

// Narrows chart queries to the namespace of the node or edge being charted.
struct MeshFocus {
    enum class Side : uint8_t { Either, Source, Target };
    std::string ns;  // empty: no narrowing
    Side side = Side::Either;
};

struct MeshQueryOptions {
    MeshKind mesh = MeshKind::Auto;
    int windowSeconds = 60;  // range of increase()/rate(): the graph shows this window
    QString selector;  // extra label matchers for every selector, e.g. cluster="east"
    MeshFocus focus;
};

enum class MeshQueryKind : uint8_t {
    IstioRequests,
    IstioLatency,
    IstioBytes,
    LinkerdResponses,
    LinkerdLatency,
    LinkerdBytes
};

struct MeshQuery {
    MeshQueryKind kind;
    QString promql;
};

// Prometheus's answer to one MeshQuery: an instant vector, or a range matrix.
struct MeshAnswer {
    MeshQueryKind kind;
    std::vector<PromSample> samples;
};
struct MeshRangeAnswer {
    MeshQueryKind kind;
    std::vector<PromSeries> series;
};

// What a query for one node or edge measures (MeshMetrics::itemQuery).
enum class MeshRate : uint8_t {
    Requests,  // requests per second
    Errors,  // the share of requests that failed (HTTP 5xx, gRPC non-OK; Linkerd's "failure")
};

// One step of a chart: the node's or edge's numbers over the range ending then.
struct MeshChartPoint {
    int64_t timeSeconds = 0;
    TrafficStats stats;
};

class MeshMetrics {
public:
    // Synthetic labels the queries add to tell sub-results apart.
    static constexpr const char *kQuantileLabel = "meshscope_quantile";
    static constexpr const char *kMetricLabel = "meshscope_metric";

    // The instant (or range) queries for the graph: three per mesh.
    static std::vector<MeshQuery> graphQueries(const MeshQueryOptions &options);

    // Edges over a window of windowSeconds from the answers to graphQueries. Several
    // label sets that name the same two nodes are summed into one edge; its
    // percentiles are the largest of theirs (a bound: a percentile of a union never
    // exceeds the largest percentile of its parts). For TCP-only edges, requests and
    // rps count connections opened. Sorted by edge id.
    static std::vector<PulledEdge> buildEdges(const std::vector<MeshAnswer> &answers, int windowSeconds);

    // Chart history: slices range answers into instants on the grid start..end every
    // step, builds the graph at each with buildEdges and keeps the node or edge `id`
    // (node: what it served, or what it sent when it serves nothing; edge: "a->b").
    static std::vector<MeshChartPoint> chartSeries(const std::vector<MeshRangeAnswer> &answers, int rangeSeconds,
        int64_t start, int64_t end, int64_t step, const std::string &id);
    // The same for several nodes or edges taken together (a service's versions, a
    // collapsed namespace): each step is the sum of theirs, as the live charts sum.
    static std::vector<MeshChartPoint> chartSeries(const std::vector<MeshRangeAnswer> &answers, int rangeSeconds,
        int64_t start, int64_t end, int64_t step, const std::vector<std::string> &ids);
    // The namespace narrowing that covers every one of `ids` (none when they differ).
    static MeshFocus focusFor(const std::vector<std::string> &ids);

    // PromQL for a person to read or open elsewhere (Grafana): the request rate or the
    // error ratio of node or edge `id` over options.windowSeconds, in the labels the
    // graph queries read (Istio's for Auto). A node counts what it serves; the
    // "external" node what outside callers send. Empty for the folded "other" node.
    static QString itemQuery(const std::string &id, MeshRate rate, const MeshQueryOptions &options);

    // The graph id of a node as GraphAggregator names pulled nodes ("external",
    // "ext:host", "ns/name@version").
    // Names from labels are held to what OTLP and ALS accept for theirs.
    static constexpr size_t kMaxLabelNameBytes = 256;
    static std::string nodeId(const NodeRef &ref);
    // True when `id` is that node; a ref without version also matches the versioned
    // node that traces created for the same service ("shop/cart" matches "shop/cart@v2").
    static bool refMatchesId(const NodeRef &ref, const std::string &id);
    // Namespace narrowing for charting the node or edge `id`.
    static MeshFocus focusFor(const std::string &id);
    // A node's numbers from its edges, as GraphAggregator sums pulled-only nodes.
    static TrafficStats sumStats(const std::vector<const TrafficStats *> &parts);

    // Label mapping, exposed for tests.
    static NodeRef istioWorkload(const PromLabels &labels, bool source);
    static NodeRef linkerdSource(const PromLabels &labels);
    static NodeRef linkerdDestination(const PromLabels &labels);
};

}  // namespace meshscope

// Fuzz target for what meshscope reads from Prometheus (and Thanos, Mimir,
// VictoriaMetrics): the HTTP API's JSON envelope (PrometheusClient::parseReply), then
// the graph and chart building over whatever series it yields (MeshMetrics). The input
// is one response body. Properties checked on every input:
// - nothing crashes, whatever the body and the HTTP status;
// - the result is bounded by the body: no more samples, points or warnings than the
//   body has bytes, and a message no longer than the body plus a fixed frame;
// - a result is either an error with a message and no data, or no error;
// - buildEdges makes at most one edge per sample, with rates within 0..1, and
//   chartSeries exactly one point per step of the grid it was asked for.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/prometheus and mutations of it.

#include "fuzzproperty.h"

#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QByteArray>
#include <QString>

using namespace meshscope;

namespace {

constexpr const char *kFuzzTarget = "fuzz_prometheus";
constexpr MeshQueryKind kKinds[]
    = {MeshQueryKind::IstioRequests, MeshQueryKind::IstioLatency, MeshQueryKind::IstioBytes,
        MeshQueryKind::LinkerdResponses, MeshQueryKind::LinkerdLatency, MeshQueryKind::LinkerdBytes};

bool rateInRange(double r)
{
    return !(r < 0 || r > 1);  // NaN is not out of range: 0/0 of absurd counts
}

void checkEdges(const std::vector<PulledEdge> &edges, size_t samples)
{
    ASSERT_PROPERTY(edges.size() <= samples, "no more edges than samples");
    for (const PulledEdge &e : edges) {
        ASSERT_PROPERTY(rateInRange(e.stats.errorRate) && rateInRange(e.stats.rate5xx) && rateInRange(e.stats.rate4xx),
            "error rates within 0..1");
        ASSERT_PROPERTY(e.mtls >= -1 && e.mtls <= 1, "mtls is unknown, no or yes");
    }
}

// Every sample under every query kind: the labels decide which mesh a series is
// from, and the fuzzer writes the labels.
void buildGraph(const PromResult &r)
{
    std::vector<MeshAnswer> answers;
    for (MeshQueryKind kind : kKinds)
        answers.push_back(MeshAnswer {kind, r.vector});
    const std::vector<PulledEdge> edges = MeshMetrics::buildEdges(answers, 60);
    checkEdges(edges, r.vector.size() * std::size(kKinds));

    // Chart the first node the graph drew (or a fixed one), and its first edge.
    const std::string node
        = edges.empty() ? std::string("bookinfo/reviews") : MeshMetrics::nodeId(edges.front().target);
    const std::string edge = edges.empty() ? std::string("external->bookinfo/productpage")
                                           : MeshMetrics::nodeId(edges.front().source) + "->" + node;
    (void)MeshMetrics::focusFor(node);
    (void)MeshMetrics::focusFor(edge);
    if (r.matrix.empty())
        return;
    std::vector<MeshRangeAnswer> ranges;
    for (MeshQueryKind kind : kKinds)
        ranges.push_back(MeshRangeAnswer {kind, r.matrix});
    // A grid of 61 steps from the first point: it covers what the seeds' series hold,
    // and its size is not the fuzzer's to choose.
    double first = r.matrix.front().points.empty() ? 1700000000 : r.matrix.front().points.front().first;
    if (!(first > -1e15 && first < 1e15))
        first = 1700000000;
    const int64_t start = int64_t(first);
    constexpr int64_t kStep = 15, kSteps = 60;
    for (const std::string &id : {node, edge}) {
        const std::vector<MeshChartPoint> points
            = MeshMetrics::chartSeries(ranges, 60, start, start + kStep * kSteps, kStep, id);
        ASSERT_PROPERTY(points.size() == size_t(kSteps + 1), "one chart point per step of the grid");
        for (const MeshChartPoint &p : points)
            ASSERT_PROPERTY(rateInRange(p.stats.errorRate), "chart error rates within 0..1");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    const QByteArray body = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    static const QString where = QStringLiteral("http://127.0.0.1:9090");
    // What Prometheus answers with, and a proxy's errors without its envelope.
    for (int status : {200, 422, 503}) {
        const PromResult r = PrometheusClient::parseReply(body, status, where);
        ASSERT_PROPERTY(r.httpStatus == status, "the HTTP status is kept");
        ASSERT_PROPERTY(r.ok() == r.message.isEmpty(), "an error has a message, and only an error");
        ASSERT_PROPERTY(r.message.size() <= qsizetype(size) + 1024, "the message is bounded by the body");
        ASSERT_PROPERTY(size_t(r.warnings.size()) <= size, "no more warnings than bytes");
        if (!r.ok()) {
            ASSERT_PROPERTY(r.vector.empty() && r.matrix.empty(), "an error carries no data");
            continue;
        }
        size_t points = 0;
        for (const PromSeries &s : r.matrix)
            points += s.points.size();
        ASSERT_PROPERTY(r.vector.size() + r.matrix.size() + points <= size, "no more samples and points than bytes");
        (void)r.transient();
        if (status == 200)
            buildGraph(r);
    }
    return 0;
}

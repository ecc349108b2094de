#pragma once
// Pull source for Prometheus (or any store that answers its HTTP API) holding
// Istio's or Linkerd's standard metrics: polls on an interval, computes the graph
// at a query time over a window, hands it to GraphAggregator::setPulledEdges
// ("prometheus"), and reports its state: connecting, connected, retrying with
// back-off (1 s, 2 s, 4 s ... capped at 30 s) while Prometheus is unreachable, or
// failed when Prometheus refuses the queries. Also fetches query_range history of
// one node or edge for charts.
//
// Threading: as PulledSource: signals on the creating thread, network work on a
// worker thread that public methods only post to. fetchGraph is a blocking one-shot
// for the CLI.

#include "model/telemetrysink.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"
#include "telemetry/pulledsource.h"

#include <QMetaType>
#include <QString>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshscope {

struct PrometheusSourceConfig {
    PrometheusConfig server;  // URL, auth, per-request timeout
    MeshKind mesh = MeshKind::Auto;  // which metric families to ask for
    int windowSeconds = 60;  // the graph covers [time - window, time]
    std::optional<double> queryTime;  // unix seconds (--at); nullopt: now, at every poll
    int pollIntervalMs = 10000;  // start() polls at once, then at this interval
    QString selector;  // extra label matchers for every selector, e.g. cluster="east"
    int initialBackoffMs = 1000;
    int maxBackoffMs = 30000;
    // The name its edges carry in the graph ("sources" in the JSON). Each running
    // source needs its own: the aggregator replaces everything one origin reported.
    std::string origin = "prometheus";
};

class PrometheusSource : public PulledSource {
    Q_OBJECT
public:
    PrometheusSource(TelemetrySink &aggregator, PrometheusSourceConfig config, QObject *parent = nullptr);

    // Asks for the history of node or edge `id` ("ns/name@v", "a->b") over
    // [start, end] (unix seconds) every stepSeconds; each point covers
    // max(step, window) seconds. Answered by seriesReady or seriesFailed with the
    // returned request id. Needs start() first.
    quint64 requestSeries(const QString &id, double start, double end, double stepSeconds);
    // The history of several nodes or edges taken together (what `id` stands for in a
    // graph view: a service's versions, a collapsed namespace), answered under `id`.
    quint64 requestSeries(
        const QString &id, const std::vector<std::string> &members, double start, double end, double stepSeconds);

    const PrometheusSourceConfig &config() const { return m_config; }

    // One blocking graph computation (spins a local event loop on the calling
    // thread): for `meshscope-cli graph --prometheus`. On failure returns false with
    // a one-line reason that includes Prometheus's own message. queryTimeOut gets
    // the instant the graph was computed for.
    static bool fetchGraph(const PrometheusSourceConfig &config, std::vector<PulledEdge> *edges, QString *error,
        double *queryTimeOut = nullptr);

Q_SIGNALS:
    // A poll succeeded and the aggregator holds its edges; peerCertificate() is that
    // poll's.
    void graphUpdated(int edgeCount, double queryTime);
    void seriesReady(quint64 requestId, const QString &id, const std::vector<meshscope::MeshChartPoint> &points);
    void seriesFailed(quint64 requestId, const QString &id, const QString &error);

private:
    class Worker;
    PollLoop *makeLoop() override;

    TelemetrySink &m_aggregator;
    const PrometheusSourceConfig m_config;
    quint64 m_nextSeriesId = 0;
};

}  // namespace meshscope

Q_DECLARE_METATYPE(std::vector<meshscope::MeshChartPoint>)

#pragma once
// Pull source for Prometheus (or any store that answers its HTTP API) holding
// Istio's or Linkerd's standard metrics: polls on an interval, computes the graph
// at a query time over a window, hands it to GraphAggregator::setPulledEdges
// ("prometheus"), and reports its state: connecting, connected, retrying with
// back-off (1 s, 2 s, 4 s ... capped at 30 s) while Prometheus is unreachable, or
// failed when Prometheus refuses the queries. Also fetches query_range history of
// one node or edge for charts.
//
// Threading: the object itself lives on the thread that creates it (the GUI thread)
// and emits its signals there. All network work runs on a worker QThread with its
// own event loop; public methods only post to it, so the caller never waits for
// Prometheus (stop() and the destructor wait for the worker to abort its requests,
// which takes milliseconds). fetchGraph is a blocking one-shot for the CLI.

#include "model/telemetrysink.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QMetaType>
#include <QObject>
#include <QString>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

class QThread;

namespace meshscope {

struct PrometheusSourceConfig {
    PrometheusConfig server;             // URL, auth, per-request timeout
    MeshKind mesh = MeshKind::Auto;      // which metric families to ask for
    int windowSeconds = 60;              // the graph covers [time - window, time]
    std::optional<double> queryTime;     // unix seconds (--at); nullopt: now, at every poll
    int pollIntervalMs = 10000;
    QString selector;                    // extra label matchers for every selector, e.g. cluster="east"
    int initialBackoffMs = 1000;
    int maxBackoffMs = 30000;
    // The name its edges carry in the graph ("sources" in the JSON). Each running
    // source needs its own: the aggregator replaces everything one origin reported.
    std::string origin = "prometheus";
};

class PrometheusSource : public QObject {
    Q_OBJECT
public:
    enum class State { Stopped, Connecting, Connected, Retrying, Failed };
    Q_ENUM(State)

    PrometheusSource(TelemetrySink &aggregator, PrometheusSourceConfig config, QObject *parent = nullptr);
    ~PrometheusSource() override;

    // Starts the worker thread and polls at once, then every pollIntervalMs.
    void start();
    // Aborts what is in flight and stops the worker. The pulled edges stay in the
    // aggregator until the next setPulledEdges("prometheus", ...).
    void stop();
    bool running() const { return m_thread != nullptr; }
    // Polls now instead of waiting for the interval or the back-off.
    void pollNow();

    // Asks for the history of node or edge `id` ("ns/name@v", "a->b") over
    // [start, end] (unix seconds) every stepSeconds; each point covers
    // max(step, window) seconds. Answered by seriesReady or seriesFailed with the
    // returned request id. Needs start() first.
    quint64 requestSeries(const QString &id, double start, double end, double stepSeconds);

    State state() const { return m_state; }
    QString stateMessage() const { return m_message; }
    const PrometheusSourceConfig &config() const { return m_config; }
    static const char *stateName(State s);  // "stopped", "connecting", "connected", "retrying", "failed"
    // https: the certificate Prometheus presented with the latest successful poll
    // (null before one, or over http). Updated just before graphUpdated.
    PeerCertificate peerCertificate() const { return m_peerCertificate; }

    // One blocking graph computation (spins a local event loop on the calling
    // thread): for `meshscope-cli graph --prometheus`. On failure returns false with
    // a one-line reason that includes Prometheus's own message. queryTimeOut gets
    // the instant the graph was computed for.
    static bool fetchGraph(const PrometheusSourceConfig &config, std::vector<PulledEdge> *edges, QString *error,
                           double *queryTimeOut = nullptr);

Q_SIGNALS:
    // retryInMs > 0 only for Retrying: when the next attempt starts.
    void stateChanged(meshscope::PrometheusSource::State state, const QString &message, int retryInMs);
    // A poll succeeded and the aggregator holds its edges.
    void graphUpdated(int edgeCount, double queryTime);
    void seriesReady(quint64 requestId, const QString &id, const std::vector<meshscope::MeshChartPoint> &points);
    void seriesFailed(quint64 requestId, const QString &id, const QString &error);

private:
    class Worker;
    void setState(State state, const QString &message, int retryInMs);

    TelemetrySink &m_aggregator;
    const PrometheusSourceConfig m_config;
    QThread *m_thread = nullptr;
    Worker *m_worker = nullptr;
    State m_state = State::Stopped;
    QString m_message;
    quint64 m_nextSeriesId = 0;
    PeerCertificate m_peerCertificate;
};

}  // namespace meshscope

Q_DECLARE_METATYPE(std::vector<meshscope::MeshChartPoint>)

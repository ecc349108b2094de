#include "telemetry/prometheus/prometheussource.h"

#include "model/logging.h"
#include "net/httpexchange.h"
#include "telemetry/pollloop.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

namespace meshscope {

namespace {

double wallNowSeconds() { return double(QDateTime::currentMSecsSinceEpoch()) / 1000.0; }

QString formatTime(double unixSeconds)
{
    return QDateTime::fromMSecsSinceEpoch(int64_t(unixSeconds * 1000), Qt::UTC).toString(Qt::ISODate);
}

struct BatchOutcome {
    bool ok = true;
    bool transient = false;
    QString error;
    std::vector<PromResult> results;  // in the order the queries were given
};

// Sends every query of a batch at once (the client runs them side by side) and calls
// back once, on the client's thread, when all have answered. If the client is
// destroyed first, nothing is called.
void runBatch(PrometheusClient &client, const std::vector<QString> &queries,
    const std::function<void(PrometheusClient &, const QString &, PrometheusClient::Callback)> &issue,
    std::function<void(BatchOutcome)> done)
{
    struct State {
        std::vector<PromResult> results;
        size_t pending = 0;
        std::function<void(BatchOutcome)> done;
    };
    auto state = std::make_shared<State>();
    state->results.resize(queries.size());
    state->pending = queries.size();
    state->done = std::move(done);
    if (queries.empty()) {
        state->done(BatchOutcome {});
        return;
    }
    for (size_t i = 0; i < queries.size(); ++i) {
        issue(client, queries[i], [state, i](PromResult r) {
            state->results[i] = std::move(r);
            if (--state->pending > 0)
                return;
            BatchOutcome out;
            for (const PromResult &res : state->results) {
                if (!res.ok()) {
                    out.ok = false;
                    out.transient = res.transient();
                    out.error = res.message;
                    break;
                }
            }
            out.results = std::move(state->results);
            state->done(std::move(out));
        });
    }
}

std::vector<QString> promqlOf(const std::vector<MeshQuery> &queries)
{
    std::vector<QString> out;
    out.reserve(queries.size());
    for (const MeshQuery &q : queries)
        out.push_back(q.promql);
    return out;
}

MeshQueryOptions optionsOf(const PrometheusSourceConfig &c)
{
    MeshQueryOptions o;
    o.mesh = c.mesh;
    o.windowSeconds = c.windowSeconds;
    o.selector = c.selector;
    return o;
}

struct GraphOutcome {
    bool ok = false;
    bool transient = false;
    QString error;
    std::vector<PulledEdge> edges;
};

void fetchGraphAsync(
    PrometheusClient &client, const PrometheusSourceConfig &config, double at, std::function<void(GraphOutcome)> done)
{
    const std::vector<MeshQuery> queries = MeshMetrics::graphQueries(optionsOf(config));
    std::vector<MeshQueryKind> kinds;
    for (const MeshQuery &q : queries)
        kinds.push_back(q.kind);
    runBatch(
        client, promqlOf(queries),
        [at](PrometheusClient &c, const QString &q, PrometheusClient::Callback cb) { c.query(q, at, std::move(cb)); },
        [kinds, window = config.windowSeconds, done = std::move(done)](BatchOutcome b) {
            GraphOutcome g;
            g.ok = b.ok;
            g.transient = b.transient;
            g.error = b.error;
            if (b.ok) {
                std::vector<MeshAnswer> answers;
                for (size_t i = 0; i < b.results.size(); ++i)
                    answers.push_back(MeshAnswer {kinds[i], std::move(b.results[i].vector)});
                g.edges = MeshMetrics::buildEdges(answers, window);
            }
            done(std::move(g));
        });
}

}  // namespace

// Lives on the worker thread; owns the client there. Reports to the PrometheusSource
// by posting to the source's thread.
class PrometheusSource::Worker : public PollLoop {
public:
    Worker(PrometheusSource *owner, TelemetrySink &aggregator, const PrometheusSourceConfig &config)
        : PollLoop(owner, aggregator,
            // Numbers from before an outage would pass for current ones: once they are
            // older than the window they are withdrawn.
            {config.origin, config.pollIntervalMs, config.initialBackoffMs, config.maxBackoffMs,
                std::max<int64_t>(int64_t(config.windowSeconds) * 1000, 2 * int64_t(config.pollIntervalMs))})
        , m_source(owner)
        , m_config(config)
    {
    }

    void series(quint64 requestId, const QString &id, const std::vector<std::string> &members, double start, double end,
        double step)
    {
        if (!m_client)
            return;
        // Whole seconds on one grid, so Prometheus's timestamps land on our steps.
        const int64_t s = int64_t(std::floor(start));
        const int64_t st = std::max<int64_t>(1, std::llround(step));
        const int64_t e = s + std::max<int64_t>(0, int64_t(std::floor(end) - s) / st * st);
        const int range = int(std::max<int64_t>(st, m_config.windowSeconds));
        MeshQueryOptions o = optionsOf(m_config);
        o.windowSeconds = range;
        o.focus = MeshMetrics::focusFor(members);
        const std::vector<MeshQuery> queries = MeshMetrics::graphQueries(o);
        std::vector<MeshQueryKind> kinds;
        for (const MeshQuery &q : queries)
            kinds.push_back(q.kind);
        runBatch(
            *m_client, promqlOf(queries),
            [s, e, st](PrometheusClient &c, const QString &q, PrometheusClient::Callback cb) {
                c.queryRange(q, double(s), double(e), double(st), std::move(cb));
            },
            [this, requestId, id, kinds, range, s, e, st, members](BatchOutcome b) {
                if (!b.ok) {
                    post([o = m_source, requestId, id, error = b.error] {
                        Q_EMIT o->seriesFailed(requestId, id, error);
                    });
                    return;
                }
                std::vector<MeshRangeAnswer> answers;
                for (size_t i = 0; i < b.results.size(); ++i)
                    answers.push_back(MeshRangeAnswer {kinds[i], std::move(b.results[i].matrix)});
                auto points = MeshMetrics::chartSeries(answers, range, s, e, st, members);
                post([o = m_source, requestId, id, points = std::move(points)] {
                    Q_EMIT o->seriesReady(requestId, id, points);
                });
            });
    }

private:
    QString open() override
    {
        m_client = new PrometheusClient(m_config.server, this);
        return QStringLiteral("querying %1").arg(m_client->displayUrl());
    }

    void close() override
    {
        delete m_client;
        m_client = nullptr;
    }

    void fetch() override
    {
        const double at = m_config.queryTime.value_or(wallNowSeconds());
        fetchGraphAsync(*m_client, m_config, at, [this, at](GraphOutcome g) {
            if (g.ok)
                computed(std::move(g.edges), at);
            else
                failed(g.error, g.transient);
        });
    }

    void computed(std::vector<PulledEdge> edges, double at)
    {
        const int count = int(edges.size());
        succeeded(std::move(edges),
            QStringLiteral("%1 edges from %2 at %3 over %4 s")
                .arg(count)
                .arg(m_client->displayUrl(), formatTime(at))
                .arg(m_config.windowSeconds));
        post([o = m_source, count, at, cert = m_client->lastPeerCertificate()] {
            o->setPeerCertificate(cert);
            Q_EMIT o->graphUpdated(count, at);
        });
    }

    PrometheusSource *const m_source;
    const PrometheusSourceConfig m_config;
    PrometheusClient *m_client = nullptr;
};

PrometheusSource::PrometheusSource(TelemetrySink &aggregator, PrometheusSourceConfig config, QObject *parent)
    : PulledSource(lcPrometheus, QStringLiteral("prometheus-source"), QString::fromStdString(config.origin), parent)
    , m_aggregator(aggregator)
    , m_config(std::move(config))
{
    qRegisterMetaType<std::vector<meshscope::MeshChartPoint>>();
}

PollLoop *PrometheusSource::makeLoop() { return new Worker(this, m_aggregator, m_config); }

quint64 PrometheusSource::requestSeries(const QString &id, double start, double end, double stepSeconds)
{
    return requestSeries(id, {id.toStdString()}, start, end, stepSeconds);
}

quint64 PrometheusSource::requestSeries(
    const QString &id, const std::vector<std::string> &members, double start, double end, double stepSeconds)
{
    const quint64 requestId = ++m_nextSeriesId;
    if (!loop()) {
        QMetaObject::invokeMethod(
            this,
            [this, requestId, id] {
                Q_EMIT seriesFailed(requestId, id, QStringLiteral("the Prometheus source is not running"));
            },
            Qt::QueuedConnection);
        return requestId;
    }
    auto *w = static_cast<Worker *>(loop());  // makeLoop made it
    QMetaObject::invokeMethod(
        w,
        [w, requestId, id, members, start, end, stepSeconds] {
            w->series(requestId, id, members, start, end, stepSeconds);
        },
        Qt::QueuedConnection);
    return requestId;
}

bool PrometheusSource::fetchGraph(
    const PrometheusSourceConfig &config, std::vector<PulledEdge> *edges, QString *error, double *queryTimeOut)
{
    const double at = config.queryTime.value_or(wallNowSeconds());
    if (queryTimeOut)
        *queryTimeOut = at;
    GraphOutcome outcome = exchangeSync<GraphOutcome, PrometheusClient>(config.server,
        [&](PrometheusClient &client, auto done) { fetchGraphAsync(client, config, at, std::move(done)); });
    if (!outcome.ok) {
        if (error)
            *error = outcome.error;
        return false;
    }
    if (edges)
        *edges = std::move(outcome.edges);
    return true;
}

}  // namespace meshscope

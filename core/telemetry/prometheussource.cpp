#include "telemetry/prometheussource.h"

#include <QDateTime>
#include <QEventLoop>
#include <QPointer>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

namespace meshscope {

namespace {


double wallNowSeconds()
{
    return double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
}

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
        state->done(BatchOutcome{});
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

void fetchGraphAsync(PrometheusClient &client, const PrometheusSourceConfig &config, double at,
                     std::function<void(GraphOutcome)> done)
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
                    answers.push_back(MeshAnswer{kinds[i], std::move(b.results[i].vector)});
                g.edges = MeshMetrics::buildEdges(answers, window);
            }
            done(std::move(g));
        });
}

}  // namespace

// Lives on the worker thread; owns the client and timer there. Reports to the
// PrometheusSource by posting to the source's thread.
class PrometheusSource::Worker : public QObject {
public:
    Worker(PrometheusSource *owner, GraphAggregator &aggregator, const PrometheusSourceConfig &config)
        : m_owner(owner)
        , m_aggregator(aggregator)
        , m_config(config)
        , m_backoffMs(std::max(1, config.initialBackoffMs))
    {
    }

    // Worker thread: creates the client and timer there, then polls.
    void begin()
    {
        m_client = new PrometheusClient(m_config.server, this);
        m_timer = new QTimer(this);
        m_timer->setSingleShot(true);
        QObject::connect(m_timer, &QTimer::timeout, this, [this] { poll(); });
        report(State::Connecting, QStringLiteral("querying %1").arg(m_client->displayUrl()), 0);
        poll();
    }

    // Worker thread: aborts everything; callbacks of aborted requests never run.
    void shutdown()
    {
        delete m_timer;
        m_timer = nullptr;
        delete m_client;
        m_client = nullptr;
    }

    void pollNow()
    {
        if (!m_client)
            return;
        m_timer->stop();
        poll();
    }

    void series(quint64 requestId, const QString &id, double start, double end, double step)
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
        const std::string nodeOrEdge = id.toStdString();
        o.focus = MeshMetrics::focusFor(nodeOrEdge);
        const std::vector<MeshQuery> queries = MeshMetrics::graphQueries(o);
        std::vector<MeshQueryKind> kinds;
        for (const MeshQuery &q : queries)
            kinds.push_back(q.kind);
        runBatch(
            *m_client, promqlOf(queries),
            [s, e, st](PrometheusClient &c, const QString &q, PrometheusClient::Callback cb) {
                c.queryRange(q, double(s), double(e), double(st), std::move(cb));
            },
            [this, requestId, id, kinds, range, s, e, st, nodeOrEdge](BatchOutcome b) {
                if (!b.ok) {
                    post([requestId, id, error = b.error](PrometheusSource *o) { Q_EMIT o->seriesFailed(requestId, id, error); });
                    return;
                }
                std::vector<MeshRangeAnswer> answers;
                for (size_t i = 0; i < b.results.size(); ++i)
                    answers.push_back(MeshRangeAnswer{kinds[i], std::move(b.results[i].matrix)});
                auto points = MeshMetrics::chartSeries(answers, range, s, e, st, nodeOrEdge);
                post([requestId, id, points = std::move(points)](PrometheusSource *o) {
                    Q_EMIT o->seriesReady(requestId, id, points);
                });
            });
    }

private:
    void poll()
    {
        if (!m_client || m_inFlight)
            return;
        m_inFlight = true;
        const double at = m_config.queryTime.value_or(wallNowSeconds());
        fetchGraphAsync(*m_client, m_config, at, [this, at](GraphOutcome g) {
            m_inFlight = false;
            if (g.ok)
                succeeded(std::move(g.edges), at);
            else
                failed(g.error, g.transient);
        });
    }

    void succeeded(std::vector<PulledEdge> edges, double at)
    {
        const int count = int(edges.size());
        const int64_t nowMs = GraphAggregator::wallNowMs();
        m_aggregator.setPulledEdges(m_config.origin, std::move(edges), nowMs);
        m_lastSuccessMs = nowMs;
        m_holdsEdges = true;
        m_backoffMs = std::max(1, m_config.initialBackoffMs);
        if (m_state != State::Connected) {
            report(State::Connected,
                   QStringLiteral("%1 edges from %2 at %3 over %4 s")
                       .arg(count)
                       .arg(m_client->displayUrl(), formatTime(at))
                       .arg(m_config.windowSeconds),
                   0);
        }
        post([count, at, cert = m_client->lastPeerCertificate()](PrometheusSource *o) {
            o->m_peerCertificate = cert;
            Q_EMIT o->graphUpdated(count, at);
        });
        m_timer->start(std::max(100, m_config.pollIntervalMs));
    }

    void failed(const QString &error, bool transient)
    {
        // Numbers from before an outage would pass for current ones: once they are
        // older than the window they are withdrawn.
        const int64_t nowMs = GraphAggregator::wallNowMs();
        const int64_t staleMs = std::max<int64_t>(int64_t(m_config.windowSeconds) * 1000, 2 * int64_t(m_config.pollIntervalMs));
        if (m_holdsEdges && nowMs - m_lastSuccessMs > staleMs) {
            m_aggregator.setPulledEdges(m_config.origin, {}, nowMs);
            m_holdsEdges = false;
        }
        if (transient) {
            const int delay = m_backoffMs;
            m_backoffMs = std::min(std::max(1, m_config.maxBackoffMs), m_backoffMs * 2);
            report(State::Retrying, QStringLiteral("%1; retrying in %2 s").arg(error).arg(delay / 1000.0, 0, 'g', 3), delay);
            m_timer->start(delay);
        } else {
            // The server answered and said no (bad query, refused credentials): retrying
            // fast will not change that, so try again at the normal interval.
            m_backoffMs = std::max(1, m_config.initialBackoffMs);
            report(State::Failed, error, 0);
            m_timer->start(std::max(100, m_config.pollIntervalMs));
        }
    }

    void report(State state, const QString &message, int retryInMs)
    {
        m_state = state;
        post([state, message, retryInMs](PrometheusSource *o) { o->setState(state, message, retryInMs); });
    }

    // Runs fn on the owner's thread; dropped if the owner is gone.
    template <typename Fn>
    void post(Fn fn)
    {
        PrometheusSource *owner = m_owner;
        QMetaObject::invokeMethod(owner, [owner, fn = std::move(fn)] { fn(owner); }, Qt::QueuedConnection);
    }

    PrometheusSource *const m_owner;
    GraphAggregator &m_aggregator;
    const PrometheusSourceConfig m_config;
    PrometheusClient *m_client = nullptr;
    QTimer *m_timer = nullptr;
    bool m_inFlight = false;
    int m_backoffMs;
    int64_t m_lastSuccessMs = 0;
    bool m_holdsEdges = false;
    State m_state = State::Connecting;
};

PrometheusSource::PrometheusSource(GraphAggregator &aggregator, PrometheusSourceConfig config, QObject *parent)
    : QObject(parent)
    , m_aggregator(aggregator)
    , m_config(std::move(config))
{
    qRegisterMetaType<std::vector<meshscope::MeshChartPoint>>();
    qRegisterMetaType<meshscope::PrometheusSource::State>();
}

PrometheusSource::~PrometheusSource()
{
    stop();
}

const char *PrometheusSource::stateName(State s)
{
    switch (s) {
    case State::Stopped: return "stopped";
    case State::Connecting: return "connecting";
    case State::Connected: return "connected";
    case State::Retrying: return "retrying";
    case State::Failed: return "failed";
    }
    return "unknown";
}

void PrometheusSource::start()
{
    if (m_thread)
        return;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("prometheus-source"));
    m_worker = new Worker(this, m_aggregator, m_config);
    m_worker->moveToThread(m_thread);
    m_thread->start();
    Worker *w = m_worker;
    QMetaObject::invokeMethod(w, [w] { w->begin(); }, Qt::QueuedConnection);
}

void PrometheusSource::stop()
{
    if (!m_thread)
        return;
    Worker *w = m_worker;
    QMetaObject::invokeMethod(w, [w] { w->shutdown(); }, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    // The thread has ended, so the worker has no event loop left to race with.
    delete m_worker;
    m_worker = nullptr;
    delete m_thread;
    m_thread = nullptr;
    setState(State::Stopped, QString(), 0);
}

void PrometheusSource::pollNow()
{
    if (!m_worker)
        return;
    Worker *w = m_worker;
    QMetaObject::invokeMethod(w, [w] { w->pollNow(); }, Qt::QueuedConnection);
}

quint64 PrometheusSource::requestSeries(const QString &id, double start, double end, double stepSeconds)
{
    const quint64 requestId = ++m_nextSeriesId;
    if (!m_worker) {
        QMetaObject::invokeMethod(
            this, [this, requestId, id] { Q_EMIT seriesFailed(requestId, id, QStringLiteral("the Prometheus source is not running")); },
            Qt::QueuedConnection);
        return requestId;
    }
    Worker *w = m_worker;
    QMetaObject::invokeMethod(
        w, [w, requestId, id, start, end, stepSeconds] { w->series(requestId, id, start, end, stepSeconds); },
        Qt::QueuedConnection);
    return requestId;
}

void PrometheusSource::setState(State state, const QString &message, int retryInMs)
{
    if (state == m_state && message == m_message && retryInMs == 0)
        return;
    m_state = state;
    m_message = message;
    Q_EMIT stateChanged(state, message, retryInMs);
}

bool PrometheusSource::fetchGraph(const PrometheusSourceConfig &config, std::vector<PulledEdge> *edges, QString *error,
                                  double *queryTimeOut)
{
    PrometheusClient client(config.server);
    const double at = config.queryTime.value_or(wallNowSeconds());
    if (queryTimeOut)
        *queryTimeOut = at;
    QEventLoop loop;
    GraphOutcome outcome;
    bool done = false;
    fetchGraphAsync(client, config, at, [&](GraphOutcome g) {
        outcome = std::move(g);
        done = true;
        loop.quit();
    });
    if (!done)
        loop.exec(QEventLoop::ExcludeUserInputEvents);
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

#include "telemetry/envoyadminsource.h"

#include <QEventLoop>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <optional>

namespace meshscope {

namespace {


}  // namespace

// Lives on the worker thread; owns the client, the timer and the previous sample
// there. Reports to the EnvoyAdminSource by posting to the source's thread.
class EnvoyAdminSource::Worker : public QObject {
public:
    Worker(EnvoyAdminSource *owner, GraphAggregator &aggregator, const EnvoyAdminSourceConfig &config)
        : m_owner(owner)
        , m_aggregator(aggregator)
        , m_config(config)
        , m_backoffMs(std::max(1, config.initialBackoffMs))
    {
    }

    // Worker thread.
    void begin()
    {
        m_client = new EnvoyAdminClient(m_config.admin, this);
        m_timer = new QTimer(this);
        m_timer->setSingleShot(true);
        QObject::connect(m_timer, &QTimer::timeout, this, [this] { poll(); });
        report(State::Connecting, QStringLiteral("polling Envoy admin at %1").arg(m_client->displayUrl()), 0);
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

private:
    void poll()
    {
        if (!m_client || m_inFlight)
            return;
        m_inFlight = true;
        fetchEnvoyAdminSample(*m_client, [this](EnvoySampleOutcome o) {
            m_inFlight = false;
            if (o.ok)
                succeeded(std::move(o.sample));
            else
                failed(o.error, o.transient);
        });
    }

    void succeeded(EnvoyAdminSample sample)
    {
        // Before the state report, so that whoever reacts to "connected" sees it.
        post([certificate = sample.peerCertificate](EnvoyAdminSource *o) { o->m_peerCertificate = certificate; });
        EnvoyAdminView view = buildEnvoyAdminView(sample, m_previous ? &*m_previous : nullptr, m_config.proxyName,
                                                  EnvoyAdminSource::fallbackName(m_config.admin.url));
        m_previous = std::move(sample);
        const int count = int(view.edges.size());
        const double interval = view.intervalSeconds;
        const int64_t nowMs = GraphAggregator::wallNowMs();
        m_aggregator.setPulledEdges(m_config.origin, std::move(view.edges), nowMs);
        m_lastSuccessMs = nowMs;
        m_holdsEdges = true;
        m_backoffMs = std::max(1, m_config.initialBackoffMs);
        const QString proxyId = QString::fromStdString(view.proxyId);
        if (m_state != State::Connected) {
            report(State::Connected,
                   QStringLiteral("%1 upstreams with traffic, %2 clusters from %3 (%4)")
                       .arg(count)
                       .arg(view.clusters.size())
                       .arg(m_client->displayUrl(), proxyId),
                   0);
        }
        post([count, interval, proxyId, health = std::move(view.clusters)](EnvoyAdminSource *o) mutable {
            o->m_health = std::move(health);
            o->m_proxyId = proxyId;
            Q_EMIT o->graphUpdated(count, interval);
            Q_EMIT o->healthUpdated(proxyId, o->m_health);
        });
        m_timer->start(std::max(100, m_config.pollIntervalMs));
    }

    void failed(const QString &error, bool transient)
    {
        // Edges from before an outage would pass for current traffic: after a few
        // missed polls they are withdrawn, and so is the health view.
        const int64_t nowMs = GraphAggregator::wallNowMs();
        const int64_t staleMs = std::max<int64_t>(15000, 3 * int64_t(m_config.pollIntervalMs));
        if (m_holdsEdges && nowMs - m_lastSuccessMs > staleMs) {
            m_aggregator.setPulledEdges(m_config.origin, {}, nowMs);
            m_holdsEdges = false;
            post([](EnvoyAdminSource *o) {
                o->m_health.clear();
                Q_EMIT o->healthUpdated(o->m_proxyId, o->m_health);
            });
        }
        if (transient) {
            const int delay = m_backoffMs;
            m_backoffMs = std::min(std::max(1, m_config.maxBackoffMs), m_backoffMs * 2);
            report(State::Retrying, QStringLiteral("%1; retrying in %2 s").arg(error).arg(delay / 1000.0, 0, 'g', 3), delay);
            m_timer->start(delay);
        } else {
            // Envoy (or whatever answers there) said something that is not admin JSON:
            // retrying fast will not change that.
            m_backoffMs = std::max(1, m_config.initialBackoffMs);
            report(State::Failed, error, 0);
            m_timer->start(std::max(100, m_config.pollIntervalMs));
        }
    }

    void report(State state, const QString &message, int retryInMs)
    {
        m_state = state;
        post([state, message, retryInMs](EnvoyAdminSource *o) { o->setState(state, message, retryInMs); });
    }

    // Runs fn on the owner's thread.
    template <typename Fn>
    void post(Fn fn)
    {
        EnvoyAdminSource *owner = m_owner;
        QMetaObject::invokeMethod(owner, [owner, fn = std::move(fn)]() mutable { fn(owner); }, Qt::QueuedConnection);
    }

    EnvoyAdminSource *const m_owner;
    GraphAggregator &m_aggregator;
    const EnvoyAdminSourceConfig m_config;
    EnvoyAdminClient *m_client = nullptr;
    QTimer *m_timer = nullptr;
    bool m_inFlight = false;
    int m_backoffMs;
    int64_t m_lastSuccessMs = 0;
    bool m_holdsEdges = false;
    std::optional<EnvoyAdminSample> m_previous;
    State m_state = State::Connecting;
};

EnvoyAdminSource::EnvoyAdminSource(GraphAggregator &aggregator, EnvoyAdminSourceConfig config, QObject *parent)
    : QObject(parent)
    , m_aggregator(aggregator)
    , m_config(std::move(config))
{
    qRegisterMetaType<std::vector<meshscope::EnvoyClusterHealth>>();
    qRegisterMetaType<meshscope::EnvoyAdminSource::State>();
}

EnvoyAdminSource::~EnvoyAdminSource()
{
    stop();
}

const char *EnvoyAdminSource::stateName(State s)
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

QString EnvoyAdminSource::fallbackName(const QUrl &url)
{
    return QStringLiteral("envoy-%1:%2").arg(url.host()).arg(url.port(kEnvoyAdminDefaultPort));
}

void EnvoyAdminSource::start()
{
    if (m_thread)
        return;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("envoy-admin-source"));
    m_worker = new Worker(this, m_aggregator, m_config);
    m_worker->moveToThread(m_thread);
    m_thread->start();
    Worker *w = m_worker;
    QMetaObject::invokeMethod(w, [w] { w->begin(); }, Qt::QueuedConnection);
}

void EnvoyAdminSource::stop()
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

void EnvoyAdminSource::pollNow()
{
    if (!m_worker)
        return;
    Worker *w = m_worker;
    QMetaObject::invokeMethod(w, [w] { w->pollNow(); }, Qt::QueuedConnection);
}

void EnvoyAdminSource::setState(State state, const QString &message, int retryInMs)
{
    if (state == m_state && message == m_message && retryInMs == 0)
        return;
    m_state = state;
    m_message = message;
    Q_EMIT stateChanged(state, message, retryInMs);
}

bool EnvoyAdminSource::fetchSample(const EnvoyAdminConfig &config, EnvoyAdminSample *sample, QString *error)
{
    EnvoyAdminClient client(config);
    QEventLoop loop;
    EnvoySampleOutcome outcome;
    bool done = false;
    fetchEnvoyAdminSample(client, [&](EnvoySampleOutcome o) {
        outcome = std::move(o);
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
    if (sample)
        *sample = std::move(outcome.sample);
    return true;
}

bool EnvoyAdminSource::fetchView(const EnvoyAdminSourceConfig &config, int spacingMs, EnvoyAdminView *view, QString *error)
{
    EnvoyAdminSample first, second;
    if (!fetchSample(config.admin, &first, error))
        return false;
    if (spacingMs > 0) {
        QEventLoop wait;
        QTimer::singleShot(spacingMs, &wait, &QEventLoop::quit);
        wait.exec(QEventLoop::ExcludeUserInputEvents);
    }
    if (!fetchSample(config.admin, &second, error))
        return false;
    if (view)
        *view = buildEnvoyAdminView(second, &first, config.proxyName, fallbackName(config.admin.url));
    return true;
}

}  // namespace meshscope

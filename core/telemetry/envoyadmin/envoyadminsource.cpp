#include "telemetry/envoyadmin/envoyadminsource.h"

#include "model/logging.h"
#include "net/httpexchange.h"
#include "telemetry/envoyadmin/envoyadminclient.h"
#include "telemetry/pollloop.h"

#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <optional>

namespace meshscope {

// Lives on the worker thread; owns the client and the previous sample there. Reports
// to the EnvoyAdminSource by posting to the source's thread.
class EnvoyAdminSource::Worker : public PollLoop {
public:
    Worker(EnvoyAdminSource *owner, TelemetrySink &aggregator, const EnvoyAdminSourceConfig &config)
        : PollLoop(owner, aggregator,
            // Edges from before an outage would pass for current traffic: after a few
            // missed polls they are withdrawn, and so is the health view.
            {config.origin, config.pollIntervalMs, config.initialBackoffMs, config.maxBackoffMs,
                std::max<int64_t>(15000, 3 * int64_t(config.pollIntervalMs))})
        , m_source(owner)
        , m_config(config)
    {
    }

private:
    QString open() override
    {
        m_client = new EnvoyAdminClient(m_config.admin, this);
        return QStringLiteral("polling Envoy admin at %1").arg(m_client->displayUrl());
    }

    void close() override
    {
        delete m_client;
        m_client = nullptr;
    }

    void fetch() override
    {
        fetchEnvoyAdminSample(*m_client, [this](EnvoySampleOutcome o) {
            if (o.ok)
                sampled(std::move(o.sample));
            else
                failed(o.error, o.transient);
        });
    }

    void sampled(EnvoyAdminSample sample)
    {
        // Before the state report, so that whoever reacts to "connected" sees it.
        post([o = m_source, certificate = sample.peerCertificate] { o->setPeerCertificate(certificate); });
        EnvoyAdminView view = buildEnvoyAdminView(sample, m_previous ? &*m_previous : nullptr, m_config.proxyName,
            EnvoyAdminSource::fallbackName(m_config.admin.url));
        m_previous = std::move(sample);
        const int count = int(view.edges.size());
        const double interval = view.intervalSeconds;
        const QString proxyId = QString::fromStdString(view.proxyId);
        succeeded(std::move(view.edges),
            QStringLiteral("%1 upstreams with traffic, %2 clusters from %3 (%4)")
                .arg(count)
                .arg(view.clusters.size())
                .arg(m_client->displayUrl(), proxyId));
        post([o = m_source, count, interval, proxyId, health = std::move(view.clusters)]() mutable {
            o->m_health = std::move(health);
            o->m_proxyId = proxyId;
            Q_EMIT o->graphUpdated(count, interval);
            Q_EMIT o->healthUpdated(proxyId, o->m_health);
        });
    }

    void edgesWithdrawn() override
    {
        post([o = m_source] {
            o->m_health.clear();
            Q_EMIT o->healthUpdated(o->m_proxyId, o->m_health);
        });
    }

    EnvoyAdminSource *const m_source;
    const EnvoyAdminSourceConfig m_config;
    EnvoyAdminClient *m_client = nullptr;
    std::optional<EnvoyAdminSample> m_previous;
};

EnvoyAdminSource::EnvoyAdminSource(TelemetrySink &aggregator, EnvoyAdminSourceConfig config, QObject *parent)
    : PulledSource(lcEnvoyAdmin, QStringLiteral("envoy-admin-source"), QString::fromStdString(config.origin), parent)
    , m_aggregator(aggregator)
    , m_config(std::move(config))
{
    qRegisterMetaType<std::vector<meshscope::EnvoyClusterHealth>>();
}

PollLoop *EnvoyAdminSource::makeLoop() { return new Worker(this, m_aggregator, m_config); }

QString EnvoyAdminSource::fallbackName(const QUrl &url)
{
    return QStringLiteral("envoy-%1:%2").arg(url.host()).arg(url.port(kEnvoyAdminDefaultPort));
}

bool EnvoyAdminSource::fetchSample(const EnvoyAdminConfig &config, EnvoyAdminSample *sample, QString *error)
{
    EnvoySampleOutcome outcome = exchangeSync<EnvoySampleOutcome, EnvoyAdminClient>(
        config, [](EnvoyAdminClient &client, auto done) { fetchEnvoyAdminSample(client, std::move(done)); });
    if (!outcome.ok) {
        if (error)
            *error = outcome.error;
        return false;
    }
    if (sample)
        *sample = std::move(outcome.sample);
    return true;
}

bool EnvoyAdminSource::fetchView(
    const EnvoyAdminSourceConfig &config, int spacingMs, EnvoyAdminView *view, QString *error)
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

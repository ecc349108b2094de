#include "sources/sourcemanager.h"

#include "graph/graphaggregator.h"
#include "model/logging.h"
#include "sources/secretstore.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/envoyadmin/envoyadminsource.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "telemetry/prometheus/prometheussource.h"
#include "telemetry/pulledsource.h"

#include <QSettings>
#include <QTimer>
#include <QUrl>

#include <algorithm>

namespace meshscope {

namespace {

// A pulled source's test gives up after this long even if the source's own timeout
// is longer: the operator is waiting on the dialog.
constexpr int kTestTimeoutMs = 20000;

// A pulled source's state as the dialog and the status bar show it.
SourceManager::State fromPullState(PulledSource::State state)
{
    switch (state) {
    case PulledSource::State::Connecting: return SourceManager::State::Connecting;
    case PulledSource::State::Connected: return SourceManager::State::Connected;
    case PulledSource::State::Retrying: return SourceManager::State::Retrying;
    case PulledSource::State::Failed: return SourceManager::State::Failed;
    case PulledSource::State::Stopped: break;
    }
    return SourceManager::State::Disabled;
}

QString shortLabel(SourceSpec::Kind kind)
{
    return kind == SourceSpec::Kind::OtlpReceiver ? QStringLiteral("OTLP") : QStringLiteral("ALS");
}

QString tlsNote(const TlsServerOptions &tls)
{
    if (!tls.enabled())
        return {};
    return tls.requireClientCert ? QStringLiteral(" (mTLS: client certificates required)") : QStringLiteral(" (TLS)");
}

PrometheusSourceConfig prometheusConfig(const SourceSpec &spec)
{
    PrometheusSourceConfig c;
    c.server.url = QUrl::fromUserInput(spec.address);
    c.server.tls = spec.tlsClient;
    if (spec.auth == SourceSpec::Auth::Bearer) {
        c.server.bearerToken = spec.secret;
    } else if (spec.auth == SourceSpec::Auth::Basic) {
        c.server.username = spec.username;
        c.server.password = spec.secret;
    }
    c.mesh = spec.mesh;
    c.windowSeconds = spec.windowSeconds;
    c.selector = spec.selector;
    if (spec.pollIntervalMs > 0)
        c.pollIntervalMs = spec.pollIntervalMs;
    return c;
}

EnvoyAdminSourceConfig envoyAdminConfig(const SourceSpec &spec)
{
    EnvoyAdminSourceConfig c;
    c.admin.url = QUrl::fromUserInput(spec.address);
    c.admin.tls = spec.tlsClient;
    c.proxyName = spec.proxyName;
    if (spec.pollIntervalMs > 0)
        c.pollIntervalMs = spec.pollIntervalMs;
    return c;
}

// What only one kind of receiver takes from its spec.
void applyKindSettings(OtlpReceiverConfig &, const SourceSpec &) { }
void applyKindSettings(AlsReceiverConfig &config, const SourceSpec &spec)
{
    config.limits.requestIdTraces = spec.requestIdTraces;
}

// Binds a receiver of spec's kind delivering into `sink`; on success returns the bound address.
template <typename Receiver, typename Config>
std::unique_ptr<Receiver> startReceiver(TelemetrySink &sink, const SourceSpec &spec, QString *bound, QString *error)
{
    Config config;
    config.listenAddress = spec.address.toStdString();
    config.tls = spec.tlsServer;
    applyKindSettings(config, spec);
    auto receiver = std::make_unique<Receiver>(sink, config);
    std::string e;
    if (!receiver->start(&e)) {
        *error = QString::fromStdString(e);
        return nullptr;
    }
    *bound = QString::fromStdString(receiver->boundAddress());
    return receiver;
}

// A test answer from a pulled source's message: the retry note is the running
// source's business, not the test's.
QString withoutRetryNote(QString message)
{
    const qsizetype at = message.lastIndexOf(QLatin1String("; retrying in"));
    return at > 0 ? message.left(at) : message;
}

}  // namespace

struct SourceManager::Entry {
    SourceSpec spec;
    Status status;
    std::unique_ptr<OtlpReceiver> otlp;
    std::unique_ptr<AlsReceiver> als;
    std::unique_ptr<PrometheusSource> prometheus;
    std::unique_ptr<EnvoyAdminSource> envoyAdmin;
    std::string origin;  // pulled sources: the origin their edges were set under

    bool runs(const QObject *source) const
    {
        return source && (source == prometheus.get() || source == envoyAdmin.get());
    }
};

SourceManager::SourceManager(GraphAggregator &aggregator, QObject *parent)
    : QObject(parent)
    , m_aggregator(aggregator)
{
}

SourceManager::~SourceManager() { stopAll(); }

TelemetrySink &SourceManager::ingest() const { return m_ingest ? *m_ingest : m_aggregator; }

void SourceManager::setPersistence(const QString &workspace, SecretStore *secrets)
{
    m_workspace = workspace;
    m_secrets = secrets;
    m_persist = true;
}

SourceManager::Entry *SourceManager::find(const QString &id) const { return m_index.value(id, nullptr); }

QList<SourceSpec> SourceManager::specs() const
{
    QList<SourceSpec> out;
    for (const auto &e : m_entries)
        out << e->spec;
    return out;
}

SourceSpec SourceManager::spec(const QString &id) const
{
    const Entry *e = find(id);
    return e ? e->spec : SourceSpec {};
}

SourceManager::Status SourceManager::status(const QString &id) const
{
    const Entry *e = find(id);
    return e ? e->status : Status {};
}

const char *SourceManager::stateName(State state)
{
    switch (state) {
    case State::Disabled: return "off";
    case State::Waiting: return "waiting for the keychain";
    case State::Listening: return "listening";
    case State::Connecting: return "connecting";
    case State::Connected: return "connected";
    case State::Retrying: return "retrying";
    case State::Failed: return "failed";
    }
    return "";
}

void SourceManager::loadSaved()
{
    if (!m_persist)
        return;
    QSettings settings;
    const QList<SourceSpec> saved = loadSourceSpecs(settings, m_workspace);
    for (const SourceSpec &spec : saved) {
        if (find(spec.id))
            continue;
        auto entry = std::make_unique<Entry>();
        entry->spec = spec;
        Entry &e = *entry;
        m_index.insert(spec.id, entry.get());
        m_entries.push_back(std::move(entry));
        if (!spec.needsSecret() || !spec.enabled) {
            start(e);
            continue;
        }
        if (!m_secrets) {
            setStatus(
                spec.id, State::Failed, tr("its secret is not kept without a keychain; edit the source to enter it"));
            continue;
        }
        setStatus(spec.id, State::Waiting, tr("reading its secret from the keychain"));
        const QString id = spec.id;
        m_secrets->read(SecretStore::keyFor(m_workspace, id),
            [this, id](bool ok, bool found, const QString &secret, const QString &error) {
                Entry *entry = find(id);
                if (!entry || entry->status.state != State::Waiting)
                    return;  // removed or edited meanwhile
                if (!ok) {
                    const QString message
                        = tr("its secret could not be read: %1; edit the source to enter it again").arg(error);
                    setStatus(id, State::Failed, message);
                    Q_EMIT secretProblem(id, entry->spec.displayName() + QStringLiteral(": ") + message);
                    return;
                }
                if (!found) {
                    setStatus(id, State::Failed,
                        tr("no secret is stored for it in the keychain; edit the source to enter it"));
                    return;
                }
                entry->spec.secret = secret;
                start(*entry);
            });
    }
    Q_EMIT sourcesChanged();
}

QString SourceManager::upsert(const SourceSpec &input)
{
    SourceSpec spec = input;
    if (spec.id.isEmpty())
        spec.id = SourceSpec::newId();
    if (const QString error = spec.validate(); !error.isEmpty())
        return spec.displayName() + QStringLiteral(": ") + error;

    Entry *e = find(spec.id);
    const bool secretChanged = !e || e->spec.secret != spec.secret || e->spec.auth != spec.auth;
    if (e) {
        const bool restart = !e->spec.sameSettings(spec) || isBad(e->status.state) || e->status.state == State::Waiting;
        e->spec = spec;
        if (restart) {
            stop(*e);
            start(*e);
        } else {
            Q_EMIT statusChanged(spec.id);  // the name may have changed
        }
    } else {
        auto entry = std::make_unique<Entry>();
        entry->spec = spec;
        e = entry.get();
        m_index.insert(spec.id, e);
        m_entries.push_back(std::move(entry));
        start(*e);
    }

    if (m_persist && !spec.fromCommandLine) {
        save();
        if (m_secrets && secretChanged) {
            const QString id = spec.id;
            const QString key = SecretStore::keyFor(m_workspace, id);
            auto report = [this, id](bool ok, const QString &error) {
                if (!ok) {
                    const SourceSpec s = this->spec(id);
                    Q_EMIT secretProblem(id,
                        tr("%1: the secret was not saved (%2); it is used for this session only")
                            .arg(s.displayName(), error));
                }
            };
            if (spec.needsSecret())
                m_secrets->write(key, spec.secret, report);
            else
                m_secrets->remove(key, report);
        }
    }
    Q_EMIT sourcesChanged();
    return {};
}

void SourceManager::remove(const QString &id)
{
    Entry *e = find(id);
    if (!e)
        return;
    stop(*e);
    const bool wasSaved = !e->spec.fromCommandLine;
    m_index.remove(id);
    m_entries.erase(std::find_if(m_entries.begin(), m_entries.end(), [e](const auto &p) { return p.get() == e; }));
    if (m_persist && wasSaved) {
        save();
        if (m_secrets)
            m_secrets->remove(SecretStore::keyFor(m_workspace, id), [](bool, const QString &) {});
    }
    Q_EMIT sourcesChanged();
}

void SourceManager::setEnabled(const QString &id, bool enabled)
{
    Entry *e = find(id);
    if (!e || e->spec.enabled == enabled)
        return;
    SourceSpec spec = e->spec;
    spec.enabled = enabled;
    upsert(spec);
}

void SourceManager::stopAll()
{
    for (auto &e : m_entries)
        stop(*e);
}

void SourceManager::save() const
{
    QSettings settings;
    saveSourceSpecs(settings, m_workspace, specs());
}

PrometheusSource *SourceManager::prometheusSource(const std::string &origin) const
{
    for (const auto &e : m_entries) {
        if (e->prometheus && e->origin == origin)
            return e->prometheus.get();
    }
    return nullptr;
}

std::string SourceManager::originFor(const Entry &entry) const
{
    // The first source of a kind keeps the plain name ("prometheus"), as the CLI's
    // JSON has it; further ones add their own.
    for (const auto &other : m_entries) {
        if (other->spec.kind != entry.spec.kind)
            continue;
        if (other.get() == &entry)
            break;
        return QString(SourceSpec::kindKey(entry.spec.kind) + QLatin1Char(':') + entry.spec.displayName())
            .toStdString();
    }
    return SourceSpec::kindKey(entry.spec.kind).toStdString();
}

template <typename Source, typename Config>
void SourceManager::startPulled(Entry &e, std::unique_ptr<Source> &slot, Config config)
{
    const QString id = e.spec.id;
    config.origin = e.origin = originFor(e);
    slot = std::make_unique<Source>(ingest(), config);
    Source *source = slot.get();
    // The retry time is the source's own (when its timer fires), not the message's
    // "retrying in 4 s", which is stale a second later.
    connect(source, &PulledSource::stateChanged, this,
        [this, id, source](PulledSource::State s, const QString &message, int) {
            if (s != PulledSource::State::Stopped)
                setStatus(id, fromPullState(s), withoutRetryNote(message), source->nextRetryAt());
        });
    connect(source, &Source::graphUpdated, this, [this, id, source] {
        Entry *entry = find(id);
        if (!entry || !entry->runs(source)
            || entry->status.serverCertificate.sha256Fingerprint == source->peerCertificate().sha256Fingerprint)
            return;
        entry->status.serverCertificate = source->peerCertificate();
        Q_EMIT statusChanged(id);
    });
    setStatus(id, State::Connecting, tr("first poll of %1").arg(e.spec.address));
    source->start();
}

void SourceManager::start(Entry &e)
{
    const SourceSpec &spec = e.spec;
    const QString id = spec.id;
    e.status.boundAddress.clear();
    e.status.serverCertificate = {};
    if (!spec.enabled) {
        setStatus(id, State::Disabled, tr("switched off"));
        return;
    }
    if (const QString error = spec.validate(); !error.isEmpty()) {
        setStatus(id, State::Failed, error);
        return;
    }
    QString bound, error;
    switch (spec.kind) {
    case SourceSpec::Kind::OtlpReceiver:
        e.otlp = startReceiver<OtlpReceiver, OtlpReceiverConfig>(ingest(), spec, &bound, &error);
        break;
    case SourceSpec::Kind::AlsReceiver:
        e.als = startReceiver<AlsReceiver, AlsReceiverConfig>(ingest(), spec, &bound, &error);
        break;
    case SourceSpec::Kind::Prometheus: startPulled(e, e.prometheus, prometheusConfig(spec)); return;
    case SourceSpec::Kind::EnvoyAdmin:
        startPulled(e, e.envoyAdmin, envoyAdminConfig(spec));
        connect(e.envoyAdmin.get(), &EnvoyAdminSource::healthUpdated, this, &SourceManager::upstreamHealthUpdated);
        return;
    }
    if (bound.isEmpty()) {
        setStatus(id, State::Failed, error);
        return;
    }
    e.status.boundAddress = bound;
    setStatus(id, State::Listening, tr("listening on %1%2").arg(bound, tlsNote(spec.tlsServer)));
}

void SourceManager::stop(Entry &e)
{
    if (e.otlp)
        e.otlp->stop();
    if (e.als)
        e.als->stop();
    e.otlp.reset();
    e.als.reset();
    if (e.prometheus || e.envoyAdmin) {
        if (e.prometheus)
            e.prometheus->stop();
        if (e.envoyAdmin) {
            e.envoyAdmin->stop();
            if (!e.envoyAdmin->proxyNodeId().isEmpty())
                Q_EMIT upstreamHealthUpdated(e.envoyAdmin->proxyNodeId(), {});
        }
        e.prometheus.reset();
        e.envoyAdmin.reset();
        // A stopped source's edges would pass for current traffic.
        m_aggregator.setPulledEdges(e.origin, {}, GraphAggregator::wallNowMs());
    }
    e.status.boundAddress.clear();
}

void SourceManager::setStatus(const QString &id, State state, const QString &message, const QDateTime &nextRetryAt)
{
    Entry *e = find(id);
    if (!e)
        return;
    const bool wasBad = isBad(e->status.state);
    const QDateTime retryAt = state == State::Retrying ? nextRetryAt : QDateTime();
    if (e->status.state == state && e->status.message == message && e->status.nextRetryAt == retryAt)
        return;
    // Messages come from the sources and the keychain, which never quote a secret.
    qCDebug(lcSources).noquote().nospace() << e->spec.displayName() << ": " << stateName(e->status.state) << " -> "
                                           << stateName(state) << (message.isEmpty() ? "" : ": ") << message;
    e->status.state = state;
    e->status.message = message;
    e->status.nextRetryAt = retryAt;
    Q_EMIT statusChanged(id);
    if (isBad(state) && !wasBad)
        Q_EMIT sourceFailed(id, e->spec.displayName() + QStringLiteral(": ") + message);
}

std::vector<TlsPeer> SourceManager::tlsPeers(const QString &id) const
{
    const Entry *e = find(id);
    if (!e)
        return {};
    if (e->otlp)
        return e->otlp->tlsPeers();
    if (e->als)
        return e->als->tlsPeers();
    return {};
}

QString SourceManager::otlpAddress() const
{
    for (const auto &e : m_entries) {
        if (e->otlp && e->otlp->running())
            return e->status.boundAddress;
    }
    return {};
}

QString SourceManager::statusText(const QString &id, const QDateTime &now) const
{
    const Entry *e = find(id);
    if (!e)
        return {};
    if (e->spec.isReceiver() && e->status.state == State::Listening)
        return shortLabel(e->spec.kind) + QLatin1Char(' ') + e->status.boundAddress;
    if (e->status.state == State::Retrying && e->status.nextRetryAt.isValid())
        return e->spec.displayName() + QStringLiteral(": ") + retryCountdown(e->status.nextRetryAt, now);
    return e->spec.displayName() + QStringLiteral(": ") + QString::fromLatin1(stateName(e->status.state));
}

QString SourceManager::stateLine(const QString &id, const QDateTime &now) const
{
    const Entry *e = find(id);
    if (!e)
        return {};
    if (e->status.state != State::Retrying || !e->status.nextRetryAt.isValid())
        return e->status.message;
    const QString countdown = retryCountdown(e->status.nextRetryAt, now);
    return e->status.message.isEmpty() ? countdown : e->status.message + QStringLiteral("; ") + countdown;
}

QString SourceManager::retryCountdown(const QDateTime &at, const QDateTime &now)
{
    const qint64 ms = now.msecsTo(at);
    if (ms <= 0)
        return tr("retrying now");
    return tr("retrying in %1 s").arg((ms + 999) / 1000);
}

QString SourceManager::summary() const
{
    QStringList parts;
    for (const auto &e : m_entries) {
        if (e->status.state != State::Disabled)
            parts << statusText(e->spec.id);
    }
    return parts.join(QStringLiteral(" · "));
}

void SourceManager::test(const SourceSpec &spec, TestCallback done)
{
    auto answer = [this, done](TestResult r) {
        // Always asynchronous, so callers can treat every kind alike.
        QTimer::singleShot(0, this, [done, r] { done(r); });
    };
    if (const QString error = spec.validate(); !error.isEmpty()) {
        answer({false, error, {}});
        return;
    }
    if (spec.isReceiver()) {
        if (const Entry *running = find(spec.id);
            running && running->status.state == State::Listening && running->spec.sameSettings(spec)) {
            answer({true, tr("listening on %1%2").arg(running->status.boundAddress, tlsNote(spec.tlsServer)), {}});
            return;
        }
        // A throwaway aggregator: whatever arrives during the probe is not traffic.
        GraphAggregator scratch;
        QString bound, error;
        bool ok = false;
        if (spec.kind == SourceSpec::Kind::OtlpReceiver) {
            if (auto r = startReceiver<OtlpReceiver, OtlpReceiverConfig>(scratch, spec, &bound, &error)) {
                r->stop();
                ok = true;
            }
        } else if (auto r = startReceiver<AlsReceiver, AlsReceiverConfig>(scratch, spec, &bound, &error)) {
            r->stop();
            ok = true;
        }
        answer(ok ? TestResult {true, tr("can listen on %1%2").arg(spec.address, tlsNote(spec.tlsServer)), {}}
                  : TestResult {false, error, {}});
        return;
    }

    // A pulled source polls once into its own aggregator.
    if (spec.kind == SourceSpec::Kind::Prometheus)
        probePulled<PrometheusSource>(prometheusConfig(spec), std::move(done));
    else
        probePulled<EnvoyAdminSource>(envoyAdminConfig(spec), std::move(done));
}

template <typename Source, typename Config>
void SourceManager::probePulled(Config config, TestCallback done)
{
    // The first success or failure is the answer; the retry schedule is the running
    // source's business, not the test's.
    struct Probe {
        GraphAggregator aggregator;
        std::unique_ptr<Source> source;
        QTimer timer;
        bool answered = false;
        QString connectedMessage;
    };
    auto probe = std::make_shared<Probe>();
    auto finish = [this, probe, done](bool ok, const QString &message, const PeerCertificate &certificate) {
        if (probe->answered)
            return;
        probe->answered = true;
        probe->timer.stop();
        // The probe goes once its signal has returned (stop() waits for its worker);
        // dropping the source and the timer's connection frees the probe.
        QTimer::singleShot(0, this, [probe] {
            probe->timer.disconnect();
            probe->source.reset();
        });
        done({ok, message, certificate});
    };
    probe->timer.setSingleShot(true);
    connect(&probe->timer, &QTimer::timeout, this,
        [finish] { finish(false, tr("no answer within %1 s").arg(kTestTimeoutMs / 1000), {}); });
    probe->timer.start(kTestTimeoutMs);

    config.initialBackoffMs = config.maxBackoffMs = kTestTimeoutMs;
    probe->source = std::make_unique<Source>(probe->aggregator, config);
    Source *source = probe->source.get();
    connect(
        source, &PulledSource::stateChanged, this, [finish, probe](PulledSource::State s, const QString &message, int) {
            if (s == PulledSource::State::Connected)
                probe->connectedMessage = message;
            else if (s == PulledSource::State::Failed || s == PulledSource::State::Retrying)
                finish(false, withoutRetryNote(message), {});
        });
    connect(source, &Source::graphUpdated, this, [finish, probe, source] {
        finish(true, tr("connected: %1").arg(probe->connectedMessage), source->peerCertificate());
    });
    source->start();
}

}  // namespace meshscope

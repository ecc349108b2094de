#pragma once
// Runs the sources the operator connected: receivers (OTLP, Envoy access logs) bound
// on the GUI thread (a local bind, no waiting on a peer) and pulled sources
// (Prometheus, Envoy admin) that poll on their own worker threads. Keeps each one's
// state for the status bar and the connections dialog, restarts a source whose
// settings changed, tests a spec without touching the running set, and keeps the
// workspace's saved list in QSettings with secrets in the keychain.

#include "net/peercertificate.h"
#include "sources/sourcespec.h"
#include "telemetry/envoyadmin/envoyadmin.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

namespace meshscope {

class GraphAggregator;
class TelemetrySink;
class PrometheusSource;
class SecretStore;

class SourceManager : public QObject {
    Q_OBJECT
public:
    enum class State {
        Disabled,  // switched off by the operator
        Waiting,  // reading its secret from the keychain
        Listening,  // receiver bound
        Connecting,  // pulled source: first poll under way
        Connected,
        Retrying,  // pulled source unreachable, backing off
        Failed,  // will not work as configured (bind error, refused queries, bad TLS files)
    };
    Q_ENUM(State)

    struct Status {
        State state = State::Disabled;
        QString message;  // the latest one-line message (for Retrying: why, without when)
        QDateTime nextRetryAt;  // Retrying: when the source's next attempt starts; else null
        QString boundAddress;  // receivers: what was bound ("127.0.0.1:43817")
        PeerCertificate serverCertificate;  // pulled https sources: what the server presented
    };

    struct TestResult {
        bool ok = false;
        QString message;  // "connected: 12 edges" or the failure in one line
        PeerCertificate certificate;  // the server's, for https sources that answered
    };
    using TestCallback = std::function<void(const TestResult &)>;

    explicit SourceManager(GraphAggregator &aggregator, QObject *parent = nullptr);
    ~SourceManager() override;

    // Where sources deliver what they decode: the aggregator unless set (the dashboard
    // puts the trace store in front of it). Set before any source starts.
    void setIngestSink(TelemetrySink *sink) { m_ingest = sink; }

    // Where saved sources live: workspace settings, and the keychain for secrets
    // (null: secrets only for this session). Without this call nothing is saved.
    void setPersistence(const QString &workspace, SecretStore *secrets);
    // Adds the workspace's saved sources and starts them; one needing a secret
    // starts once the keychain answers.
    void loadSaved();

    QList<SourceSpec> specs() const;
    bool contains(const QString &id) const { return m_index.contains(id); }
    SourceSpec spec(const QString &id) const;
    Status status(const QString &id) const;
    // Adds a spec (a new id) or replaces the one with its id, restarting it when its
    // settings changed. Returns the validation error (nothing changes then) or "".
    // Saved sources are written to the workspace and their secret to the keychain.
    QString upsert(const SourceSpec &spec);
    void remove(const QString &id);
    void setEnabled(const QString &id, bool enabled);
    void stopAll();

    // Receivers: peers that presented certificates, newest first.
    std::vector<TlsPeer> tlsPeers(const QString &id) const;
    // The first running OTLP receiver's bound address, or "".
    QString otlpAddress() const;
    // The running Prometheus source whose edges carry graph origin `origin` (as in
    // EdgeSnapshot::origins), or null: the inspect panel asks it for chart history.
    PrometheusSource *prometheusSource(const std::string &origin) const;
    // One source for the status bar: "OTLP 127.0.0.1:4317", "Prometheus east: connected",
    // "Prometheus east: retrying in 7 s" (counted down to `now`).
    QString statusText(const QString &id, const QDateTime &now = QDateTime::currentDateTime()) const;
    // A source's message with its retry countdown at `now`: "connection refused;
    // retrying in 7 s". The status bar, the notice bar and the connections dialog all
    // say it this way, from the same state, so they never disagree.
    QString stateLine(const QString &id, const QDateTime &now = QDateTime::currentDateTime()) const;
    // "retrying in 7 s" until `at` (whole seconds, rounded up), then "retrying now".
    static QString retryCountdown(const QDateTime &at, const QDateTime &now);
    // Every source that is not switched off, joined: "OTLP 127.0.0.1:4317 · Prometheus east: connected".
    QString summary() const;
    static const char *stateName(State state);
    static bool isBad(State state) { return state == State::Failed || state == State::Retrying; }

    // Tries a spec without adding it: a receiver binds and lets go (or reports that
    // it is the running one), a pulled source polls once. Answers on this thread,
    // within the source's timeout; never blocks.
    void test(const SourceSpec &spec, TestCallback done);

Q_SIGNALS:
    void sourcesChanged();
    void statusChanged(const QString &id);
    // A source went from fine to failing (or retrying): message is its reason.
    void sourceFailed(const QString &id, const QString &message);
    // The keychain could not keep or give a secret; the source runs with it this
    // session (write) or waits for it to be entered again (read).
    void secretProblem(const QString &id, const QString &message);
    // An Envoy admin source's latest view of its proxy's upstreams (empty once the
    // source stops or loses the proxy).
    void upstreamHealthUpdated(const QString &proxyNodeId, const std::vector<meshscope::EnvoyClusterHealth> &clusters);

private:
    struct Entry;
    void start(Entry &entry);
    template <typename Source, typename Config>
    void startPulled(Entry &entry, std::unique_ptr<Source> &slot, Config config);
    template <typename Source, typename Config>
    void probePulled(Config config, TestCallback done);
    void stop(Entry &entry);
    void setStatus(const QString &id, State state, const QString &message, const QDateTime &nextRetryAt = {});
    void save() const;
    std::string originFor(const Entry &entry) const;
    Entry *find(const QString &id) const;

    GraphAggregator &m_aggregator;
    TelemetrySink *m_ingest = nullptr;
    TelemetrySink &ingest() const;
    std::vector<std::unique_ptr<Entry>> m_entries;  // in the order added
    QHash<QString, Entry *> m_index;
    QString m_workspace;
    SecretStore *m_secrets = nullptr;
    bool m_persist = false;
};

}  // namespace meshscope

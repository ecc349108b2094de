#pragma once
// The requests in flight of one HTTP client (PrometheusClient, EnvoyAdminClient,
// CaddyAdmin): each gets its own deadline, connect to last byte, and exactly one call
// of its handler when it ends, told whether the deadline ended it. The clients keep
// how they build requests and read answers; this is only the bookkeeping between.
//
// Threading: an HttpExchange belongs to its client's thread and calls back there;
// nothing blocks.

#include "net/tlsoptions.h"

#include <QEventLoop>
#include <QHash>
#include <QObject>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <utility>

class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;
class QUrl;

namespace meshscope {

// Bounds every exchange: a peer that answers without end, or sends meshscope around
// in circles or to another host, ends the exchange with a specific reason.
inline constexpr qint64 kDefaultMaxResponseBytes = 64ll * 1024 * 1024;  // Prometheus graph answers run to a few MB
inline constexpr int kMaxRedirects = 5;

// How an exchange ended, besides the reply itself.
struct HttpEnd {
    bool timedOut = false;  // the deadline passed first (connect to last byte)
    // Set when meshscope ended the exchange on a limit: the body passed maxResponseBytes,
    // or a redirect was refused (another origin, or too many). One line, names the limit.
    QString refused;
    QStringList redirects;  // the URLs followed, in order (secrets redacted)
    // The body, read as it arrived: Qt reads ahead only a small buffer, so a peer that
    // answers without end costs at most the limit, not the machine's memory.
    QByteArray body;
};

class HttpExchange : public QObject {
    Q_OBJECT
public:
    // Runs once per request. The reply is deleted after it returns: read it here.
    using Handler = std::function<void(QNetworkReply *reply, const HttpEnd &end)>;

    explicit HttpExchange(QObject *parent = nullptr);
    // Aborts requests still in flight; their handlers are not called.
    ~HttpExchange() override;

    // Send with this; it leaves deleting replies to the exchange.
    QNetworkAccessManager *network() const { return m_nam; }
    // Takes in a reply just sent: `handler` runs when it finishes, or when timeoutMs
    // (> 0) passes first, which aborts it and says timedOut. Never after abortAll().
    // A body past maxResponseBytes (announced or as it arrives) aborts it, and so does a
    // redirect to another origin or past the kMaxRedirects-th: credentials are never
    // sent to a host they were not meant for. `setting` names how the operator raises
    // the size limit, for the error.
    void track(QNetworkReply *reply, int timeoutMs, Handler handler, qint64 maxResponseBytes = kDefaultMaxResponseBytes,
        const QString &setting = {});
    // Aborts everything in flight without calling back.
    void abortAll();
    int inFlight() const { return int(m_pending.size()); }

private:
    void finished(QNetworkReply *reply);

    struct Pending {
        Handler handler;
        uint64_t id = 0;  // tells this request from a later one that reuses the reply's address
        HttpEnd end;
    };
    void refuse(QNetworkReply *reply, uint64_t id, QString why);
    void logOutcome(const QNetworkReply *reply, const HttpEnd &end);
    QString chainOf(const QNetworkReply *reply, const HttpEnd &end) const;
    QNetworkAccessManager *m_nam = nullptr;
    QHash<QNetworkReply *, Pending> m_pending;
    uint64_t m_nextId = 0;
    QHash<QString, QString> m_failing;  // redacted URL -> why it last failed (for the log)
};

// An http:// or https:// URL with a host: the only kind the clients send to.
bool isHttpUrl(const QUrl &url);

// For an https request: puts the TLS configuration built from `options` on it, kept on
// HTTP/1.1 (applyClientSslConfiguration). False with the reason when a file is
// unusable; then nothing should be sent. An http request is left alone.
bool prepareClientTls(QNetworkRequest *request, const TlsClientOptions &options, QString *error);

// Blocking, for the CLI and tests (never the GUI thread): makes a Client from `config`,
// lets `issue(client, callback)` start one exchange with it, spins a local event loop
// until the callback runs and returns what it was given.
template <typename Result, typename Client, typename Config, typename Issue>
Result exchangeSync(const Config &config, Issue issue)
{
    Client client(config);
    QEventLoop loop;
    Result out;
    bool done = false;
    issue(client, [&](Result r) {
        out = std::move(r);
        done = true;
        loop.quit();
    });
    if (!done)
        loop.exec(QEventLoop::ExcludeUserInputEvents);
    return out;
}

}  // namespace meshscope

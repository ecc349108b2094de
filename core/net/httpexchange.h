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

#include <cstdint>
#include <functional>
#include <utility>

class QNetworkAccessManager;
class QNetworkReply;
class QNetworkRequest;
class QUrl;

namespace meshscope {

class HttpExchange : public QObject {
    Q_OBJECT
public:
    // Runs once per request. The reply is deleted after it returns: read it here.
    using Handler = std::function<void(QNetworkReply *reply, bool timedOut)>;

    explicit HttpExchange(QObject *parent = nullptr);
    // Aborts requests still in flight; their handlers are not called.
    ~HttpExchange() override;

    // Send with this; it leaves deleting replies to the exchange.
    QNetworkAccessManager *network() const { return m_nam; }
    // Takes in a reply just sent: `handler` runs when it finishes, or when timeoutMs
    // (> 0) passes first, which aborts it and says timedOut. Never after abortAll().
    void track(QNetworkReply *reply, int timeoutMs, Handler handler);
    // Aborts everything in flight without calling back.
    void abortAll();
    int inFlight() const { return int(m_pending.size()); }

private:
    void finished(QNetworkReply *reply);

    struct Pending {
        Handler handler;
        uint64_t id = 0;  // tells this request from a later one that reuses the reply's address
        bool timedOut = false;
    };
    QNetworkAccessManager *m_nam = nullptr;
    QHash<QNetworkReply *, Pending> m_pending;
    uint64_t m_nextId = 0;
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

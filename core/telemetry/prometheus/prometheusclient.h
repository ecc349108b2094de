#pragma once
// Client for the Prometheus HTTP API (and the stores that answer the same API:
// Thanos, Mimir, VictoriaMetrics): instant queries (/api/v1/query) and range
// queries (/api/v1/query_range), bearer-token or basic auth, a per-request timeout,
// and errors that carry Prometheus's own message and the HTTP status.
//
// Threading: a PrometheusClient belongs to the thread that created it (for
// PrometheusSource, its worker thread, which runs an event loop) and calls its
// callbacks on that thread; nothing here blocks. querySync/queryRangeSync spin a
// local QEventLoop on the calling thread: for the CLI and tests, never the GUI thread.

#include "net/httpexchange.h"
#include "net/peercertificate.h"
#include "net/tlsoptions.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

class QNetworkReply;
class QSslConfiguration;

namespace meshscope {

class HttpExchange;

struct PrometheusConfig {
    QUrl url;  // base URL: http://127.0.0.1:9090, or with a path prefix (https://host/prometheus)
    QString bearerToken;  // sent as "Authorization: Bearer ..." when set
    QString username;  // basic auth when set; user:password in the URL works too
    QString password;
    int timeoutMs = 15000;  // whole request, connect to last byte; also sent as the query timeout
    qint64 maxResponseBytes = kDefaultMaxResponseBytes;  // a larger answer is refused as it arrives
    // https only: the CA that vouches for Prometheus (empty: the system's), a client
    // certificate for mTLS, or no verification at all (labs).
    TlsClientOptions tls;
};

using PromLabels = std::map<std::string, std::string>;

// One element of an instant vector.
struct PromSample {
    PromLabels labels;
    double time = 0;  // unix seconds
    double value = 0;  // NaN and +-Inf as Prometheus sent them
};

// One series of a range result (matrix).
struct PromSeries {
    PromLabels labels;
    std::vector<std::pair<double, double>> points;  // (unix seconds, value)
};

struct PromResult {
    enum class Error : uint8_t {
        None,
        Network,  // no HTTP answer: refused, reset, DNS
        Tls,  // the TLS handshake failed: untrusted, expired or misnamed certificate, client certificate
        Timeout,  // no complete answer within timeoutMs
        Prometheus,  // {"status":"error",...}: error/errorType are Prometheus's own
        Http,  // an HTTP error without a Prometheus envelope (proxy, wrong path)
        Decode,  // 2xx but not Prometheus API JSON
        Config,  // the request could not be made: not an http(s) URL, unusable TLS files
    };
    Error kind = Error::None;
    QString message;  // one line for people: what failed, where, and why
    QString errorType;  // Prometheus's errorType ("bad_data", "execution", "timeout", ...)
    QString error;  // Prometheus's error text, verbatim
    int httpStatus = 0;  // 0 when no HTTP response arrived
    QString resultType;  // "vector", "matrix", "scalar", "string"
    std::vector<PromSample> vector;  // vector results; a scalar becomes one unlabelled sample
    std::vector<PromSeries> matrix;
    QStringList warnings;
    PeerCertificate peerCertificate;  // https: the server's certificate, when an answer came

    bool ok() const { return kind == Error::None; }
    // Worth retrying soon with back-off: the server is down, slow or overloaded.
    // Bad queries and refused credentials are not.
    bool transient() const;
};

class PrometheusClient : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(PromResult)>;

    // Reads the TLS files of an https URL at once; a problem with them fails every
    // query with Error::Config and the reason.
    explicit PrometheusClient(PrometheusConfig config, QObject *parent = nullptr);
    // Aborts requests still in flight; their callbacks are not called.
    ~PrometheusClient() override;

    // Instant query at `time` (unix seconds; nullopt: the server's now).
    void query(const QString &promql, std::optional<double> time, Callback done);
    // Range query over [start, end] (unix seconds) every stepSeconds.
    void queryRange(const QString &promql, double start, double end, double stepSeconds, Callback done);
    // Aborts everything in flight without calling back.
    void abortAll();
    int inFlight() const;

    const PrometheusConfig &config() const { return m_config; }
    // The base URL without credentials, for messages.
    QString displayUrl() const;
    // https: the certificate the server presented with the latest answer (null before one).
    const PeerCertificate &lastPeerCertificate() const { return m_lastPeerCertificate; }

    // Blocking variants: spin a local event loop on the calling thread.
    static PromResult querySync(const PrometheusConfig &config, const QString &promql, std::optional<double> time);
    static PromResult queryRangeSync(
        const PrometheusConfig &config, const QString &promql, double start, double end, double stepSeconds);

    // Decodes one answer (body and HTTP status; 0 = none) into a result. Pure; public for tests.
    static PromResult parseReply(const QByteArray &body, int httpStatus, const QString &where);

private:
    void post(const QString &apiPath, const std::vector<std::pair<QString, QString>> &params, Callback done);
    void finish(QNetworkReply *reply, const HttpEnd &end, const Callback &done);

    PrometheusConfig m_config;
    HttpExchange *m_http = nullptr;
    QSslConfiguration *m_ssl = nullptr;  // built once from m_config.tls; null when it failed
    QString m_sslError;  // why it failed
    PeerCertificate m_lastPeerCertificate;
};

// "1700000000", "1700000000.5" (unix seconds), RFC 3339 ("2024-05-01T12:00:00Z",
// "2024-05-01T14:00:00.250+02:00") or "now". nullopt when it is none of those, and for
// an instant before 1970 in either spelling ("-1", "1969-12-31T23:59:59Z").
std::optional<double> parsePromTime(const QString &text);
// Prometheus durations ("60s", "5m", "1h30m", "1d", "500ms") or plain seconds ("60"),
// as whole seconds of at least 1. nullopt when invalid.
std::optional<int> parsePromDurationSeconds(const QString &text);

}  // namespace meshscope

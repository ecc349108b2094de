#pragma once
// The HTTP client for an Envoy admin interface and the fetch of one sample: /clusters,
// /stats and /server_info side by side, read with envoyadminparse.h. The only part of
// the Envoy admin source that touches the network.
//
// Threading: an EnvoyAdminClient belongs to the thread that created it and calls its
// callbacks there; nothing in it blocks.

#include "telemetry/envoyadmin/envoyadmin.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <cstdint>
#include <functional>

class QNetworkReply;

namespace meshscope {

class HttpExchange;

// The answer to one GET: the body, or why there is none.
struct EnvoyAdminReply {
    enum class Error : uint8_t {
        None,
        Network,  // no HTTP answer: refused, reset, DNS, TLS
        Timeout,  // no complete answer within timeoutMs
        Http,  // a non-2xx status
        Config,  // the request could not be made: not an http(s) URL, unusable TLS files
    };
    Error kind = Error::None;
    QString message;  // one line: what failed, where, why
    QString where;  // "/clusters?format=json from http://127.0.0.1:9901", for parse errors
    int httpStatus = 0;
    QByteArray body;
    PeerCertificate peerCertificate;  // https: the certificate the admin endpoint presented

    bool ok() const { return kind == Error::None; }
    // Worth retrying soon with back-off: the proxy is down, slow or overloaded.
    bool transient() const;
};

class EnvoyAdminClient : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(EnvoyAdminReply)>;

    explicit EnvoyAdminClient(EnvoyAdminConfig config, QObject *parent = nullptr);
    // Aborts requests still in flight; their callbacks are not called.
    ~EnvoyAdminClient() override;

    // GET <base>/<pathAndQuery>, e.g. "clusters?format=json".
    void get(const QString &pathAndQuery, Callback done);
    void abortAll();
    int inFlight() const;

    const EnvoyAdminConfig &config() const { return m_config; }
    QString displayUrl() const;  // without credentials

    // The requests a sample needs (server_info is optional).
    static QString clustersPath();  // "clusters?format=json"
    static QString statsPath();  // "stats?format=json&usedonly&filter=^cluster\."
    static QString serverInfoPath();  // "server_info"

private:
    void finish(QNetworkReply *reply, const HttpEnd &end, const QString &where, const Callback &done);

    EnvoyAdminConfig m_config;
    HttpExchange *m_http = nullptr;
};

struct EnvoySampleOutcome {
    bool ok = false;
    bool transient = false;
    QString error;
    EnvoyAdminSample sample;
};

// Fetches /clusters, /stats and /server_info side by side and parses them; calls back
// once on the client's thread (never if the client is destroyed first). A failing
// /server_info is not an error: the proxy's name then comes from the configuration.
void fetchEnvoyAdminSample(EnvoyAdminClient &client, std::function<void(EnvoySampleOutcome)> done);

}  // namespace meshscope

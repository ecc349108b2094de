#include "telemetry/envoyadmin/envoyadminclient.h"
#include "net/redact.h"

#include "net/httpexchange.h"
#include "telemetry/envoyadmin/envoyadminparse.h"

#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>

#include <chrono>
#include <memory>

namespace meshscope {

bool EnvoyAdminReply::transient() const
{
    switch (kind) {
    case Error::Network:
    case Error::Timeout: return true;
    case Error::Http:
        // 503 is what Envoy's admin (or a proxy in front of it) says while starting or draining.
        return httpStatus >= 500 || httpStatus == 429;
    default: return false;
    }
}

EnvoyAdminClient::EnvoyAdminClient(EnvoyAdminConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpExchange(this))
{
}

EnvoyAdminClient::~EnvoyAdminClient() { abortAll(); }

QString EnvoyAdminClient::displayUrl() const
{
    return redactUrl(m_config.url.adjusted(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash));
}

QString EnvoyAdminClient::clustersPath() { return QStringLiteral("clusters?format=json"); }

QString EnvoyAdminClient::statsPath()
{
    // Only cluster stats (the listener and server ones are not needed), and only those
    // ever written: a gateway with hundreds of idle clusters answers in a fraction of
    // the size. The filter is RE2 on Envoy's side: ^cluster\.
    return QStringLiteral("stats?format=json&usedonly&filter=%5Ecluster%5C.");
}

QString EnvoyAdminClient::serverInfoPath() { return QStringLiteral("server_info"); }

void EnvoyAdminClient::abortAll() { m_http->abortAll(); }

int EnvoyAdminClient::inFlight() const { return m_http->inFlight(); }

void EnvoyAdminClient::get(const QString &pathAndQuery, Callback done)
{
    const QString path = pathAndQuery.section(QLatin1Char('?'), 0, 0);
    const QString query = pathAndQuery.section(QLatin1Char('?'), 1);
    // Messages name the endpoint as an operator would type it, without the filter.
    const QString shown = QLatin1Char('/') + pathAndQuery.section(QLatin1Char('&'), 0, 0);
    EnvoyAdminReply early;
    early.where = QStringLiteral("%1 from %2").arg(shown, displayUrl());
    auto answerLater = [this, &done](EnvoyAdminReply r) {
        // Answered from the event loop like any other failure, never from inside the call.
        QTimer::singleShot(0, this, [done = std::move(done), r = std::move(r)] {
            if (done)
                done(r);
        });
    };

    QUrl url = m_config.url;
    if (!isHttpUrl(url)) {
        early.kind = EnvoyAdminReply::Error::Config;
        early.message = QStringLiteral("'%1' is not an Envoy admin URL (expected http://HOST:%2 or https://...)")
                            .arg(displayUrl())
                            .arg(kEnvoyAdminDefaultPort);
        answerLater(std::move(early));
        return;
    }
    url.setUserInfo(QString());
    QString base = url.path();
    if (!base.endsWith(QLatin1Char('/')))
        base += QLatin1Char('/');
    url.setPath(base + path);
    url.setQuery(query.isEmpty() ? QString() : query, QUrl::StrictMode);

    QNetworkRequest req(url);
    req.setRawHeader("Accept", "application/json");
    req.setRawHeader("User-Agent", "meshscope");
    QString tlsError;
    if (!prepareClientTls(&req, m_config.tls, &tlsError)) {
        early.kind = EnvoyAdminReply::Error::Config;
        early.message = QStringLiteral("TLS for Envoy admin at %1: %2").arg(displayUrl(), tlsError);
        answerLater(std::move(early));
        return;
    }

    QNetworkReply *reply = m_http->network()->get(req);
    if (url.scheme() == QLatin1String("https"))
        watchTlsErrors(reply, m_config.tls);
    m_http->track(
        reply, m_config.timeoutMs,
        [this, where = early.where, done = std::move(done)](
            QNetworkReply *r, const HttpEnd &end) { finish(r, end, where, done); },
        m_config.maxResponseBytes);
}

void EnvoyAdminClient::finish(QNetworkReply *reply, const HttpEnd &end, const QString &where, const Callback &done)
{
    EnvoyAdminReply r;
    r.where = where;
    r.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!end.refused.isEmpty()) {
        r.kind = EnvoyAdminReply::Error::Network;
        r.message = QStringLiteral("Envoy admin at %1: %2").arg(displayUrl(), end.refused);
    } else if (end.timedOut) {
        r.kind = EnvoyAdminReply::Error::Timeout;
        r.message
            = QStringLiteral("Envoy admin at %1 did not answer within %2 ms").arg(displayUrl()).arg(m_config.timeoutMs);
    } else if (r.httpStatus == 0 && reply->error() != QNetworkReply::NoError) {
        const QString tls = describeTlsFailure(reply, m_config.tls);
        r.kind = EnvoyAdminReply::Error::Network;
        r.message = QStringLiteral("cannot reach Envoy admin at %1: %2")
                        .arg(displayUrl(), tls.isEmpty() ? reply->errorString() : tls);
    } else {
        r.body = end.body;
        r.peerCertificate = fromQSslCertificate(reply->sslConfiguration().peerCertificate());
        if (r.httpStatus < 200 || r.httpStatus > 299) {
            r.kind = EnvoyAdminReply::Error::Http;
            r.message = QStringLiteral("HTTP %1 for %2").arg(r.httpStatus).arg(r.where);
            if (!r.body.trimmed().isEmpty())
                r.message += QStringLiteral(": ") + envoyAdminBodySnippet(r.body);
        }
    }
    if (done)
        done(std::move(r));
}

void fetchEnvoyAdminSample(EnvoyAdminClient &client, std::function<void(EnvoySampleOutcome)> done)
{
    struct State {
        EnvoyAdminReply clusters, stats, server;
        int64_t statsAtMs = 0;
        int pending = 3;
        std::function<void(EnvoySampleOutcome)> done;
    };
    auto state = std::make_shared<State>();
    state->done = std::move(done);
    auto finishOne = [state] {
        if (--state->pending > 0)
            return;
        EnvoySampleOutcome out;
        for (const EnvoyAdminReply *r : {&state->clusters, &state->stats}) {
            if (!r->ok()) {
                out.error = r->message;
                out.transient = r->transient();
                state->done(std::move(out));
                return;
            }
        }
        out.sample.monotonicMs = state->statsAtMs;
        out.sample.peerCertificate = state->clusters.peerCertificate;
        if (!parseEnvoyClusters(state->clusters.body, state->clusters.where, &out.sample.clusters, &out.error)
            || !parseEnvoyStats(state->stats.body, state->stats.where, &out.sample.stats, &out.error)) {
            state->done(std::move(out));
            return;
        }
        EnvoyServerInfo info;
        QString ignored;
        if (state->server.ok() && parseEnvoyServerInfo(state->server.body, state->server.where, &info, &ignored))
            out.sample.server = std::move(info);
        out.ok = true;
        state->done(std::move(out));
    };
    client.get(EnvoyAdminClient::clustersPath(), [state, finishOne](EnvoyAdminReply r) {
        state->clusters = std::move(r);
        finishOne();
    });
    client.get(EnvoyAdminClient::statsPath(), [state, finishOne](EnvoyAdminReply r) {
        state->statsAtMs
            = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
                  .count();
        state->stats = std::move(r);
        finishOne();
    });
    client.get(EnvoyAdminClient::serverInfoPath(), [state, finishOne](EnvoyAdminReply r) {
        state->server = std::move(r);
        finishOne();
    });
}

}  // namespace meshscope

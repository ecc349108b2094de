#include "net/httpexchange.h"

#include "model/logging.h"
#include "net/redact.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>
#include <QVariantHash>

namespace meshscope {

namespace {

QByteArray verbOf(const QNetworkReply *reply)
{
    switch (reply->operation()) {
    case QNetworkAccessManager::HeadOperation: return "HEAD";
    case QNetworkAccessManager::GetOperation: return "GET";
    case QNetworkAccessManager::PutOperation: return "PUT";
    case QNetworkAccessManager::PostOperation: return "POST";
    case QNetworkAccessManager::DeleteOperation: return "DELETE";
    case QNetworkAccessManager::CustomOperation:
        return reply->request().attribute(QNetworkRequest::CustomVerbAttribute).toByteArray();
    case QNetworkAccessManager::UnknownOperation: break;
    }
    return "?";
}

// Logs when requests to a URL start failing, fail for another reason, or are answered
// again: a peer that stays down is one line, not one per request or poll. The failures
// so far are kept on the exchange, by URL. Lines hold the verb, the URL with its
// secrets redacted and the status or network error; never headers (Authorization) or
// bodies.
void logOutcome(QObject *exchange, const QNetworkReply *reply, bool timedOut)
{
    if (!lcHttp().isDebugEnabled())
        return;
    static const char *const kFailing = "meshscope_failingUrls";
    const bool failed = timedOut || reply->error() != QNetworkReply::NoError;
    const QString url = redactUrl(reply->url());
    QVariantHash failing = exchange->property(kFailing).toHash();
    if (!failed) {
        if (failing.remove(url) == 0)
            return;
        qCDebug(lcHttp).noquote() << verbOf(reply) << url << "answered again";
    } else {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QString why = timedOut ? QStringLiteral("no complete answer before its deadline")
            : status != 0            ? QStringLiteral("HTTP %1").arg(status)
                                     : reply->errorString();
        if (failing.value(url).toString() == why)
            return;
        failing.insert(url, why);
        qCDebug(lcHttp).noquote() << verbOf(reply) << url << "failed:" << why;
    }
    exchange->setProperty(kFailing, failing);
}

}  // namespace

HttpExchange::HttpExchange(QObject *parent)
    : QObject(parent)
    , m_nam(new QNetworkAccessManager(this))
{
    m_nam->setAutoDeleteReplies(false);
}

HttpExchange::~HttpExchange()
{
    abortAll();
}

void HttpExchange::track(QNetworkReply *reply, int timeoutMs, Handler handler)
{
    const uint64_t id = ++m_nextId;
    m_pending.insert(reply, Pending { std::move(handler), id, false });
    connect(reply, &QNetworkReply::finished, this, [this, reply] { finished(reply); });
    if (timeoutMs > 0) {
        // Our own timer rather than setTransferTimeout: that one restarts on every
        // byte, and a timeout must be told apart from other aborts.
        QTimer::singleShot(timeoutMs, this, [this, reply, id] {
            auto it = m_pending.find(reply);
            if (it == m_pending.end() || it->id != id)
                return;
            it->timedOut = true;
            reply->abort();  // finishes it, and so calls the handler
        });
    }
}

void HttpExchange::finished(QNetworkReply *reply)
{
    auto it = m_pending.find(reply);
    if (it == m_pending.end())
        return;
    // Out of the table before the handler runs: it may send again, or end the client.
    Pending pending = std::move(it.value());
    m_pending.erase(it);
    reply->deleteLater();
    logOutcome(this, reply, pending.timedOut);
    if (pending.handler)
        pending.handler(reply, pending.timedOut);
}

void HttpExchange::abortAll()
{
    const auto replies = m_pending.keys();
    m_pending.clear();
    for (QNetworkReply *r : replies) {
        r->disconnect(this);
        r->abort();
        r->deleteLater();
    }
}

bool isHttpUrl(const QUrl &url)
{
    return url.isValid() && (url.scheme() == QLatin1String("http") || url.scheme() == QLatin1String("https"))
        && !url.host().isEmpty();
}

bool prepareClientTls(QNetworkRequest *request, const TlsClientOptions &options, QString *error)
{
    if (request->url().scheme() != QLatin1String("https"))
        return true;
    QSslConfiguration ssl;
    if (!makeClientSslConfiguration(options, &ssl, error))
        return false;
    applyClientSslConfiguration(request, ssl);
    return true;
}

}  // namespace meshscope

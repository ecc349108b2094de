#include "net/httpexchange.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

namespace meshscope {

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

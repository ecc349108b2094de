#include "net/httpexchange.h"

#include "model/logging.h"
#include "net/redact.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

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

}  // namespace

HttpExchange::HttpExchange(QObject *parent)
    : QObject(parent)
    , m_nam(new QNetworkAccessManager(this))
{
    m_nam->setAutoDeleteReplies(false);
    // Redirects: same origin only (Qt refuses the rest before sending anything), and
    // track() stops the chain past kMaxRedirects.
    m_nam->setRedirectPolicy(QNetworkRequest::SameOriginRedirectPolicy);
}

HttpExchange::~HttpExchange() { abortAll(); }

namespace {

QString sizeText(qint64 bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        return QStringLiteral("%1 MiB").arg(bytes / (1024 * 1024));
    return QStringLiteral("%1 bytes").arg(bytes);
}

// How far Qt's HTTP thread may read ahead of the exchange's own buffer.
constexpr qint64 kReadAheadBytes = 256 * 1024;

}  // namespace

void HttpExchange::track(
    QNetworkReply *reply, int timeoutMs, Handler handler, qint64 maxResponseBytes, const QString &setting)
{
    const uint64_t id = ++m_nextId;
    m_pending.insert(reply, Pending {std::move(handler), id, {}});
    connect(reply, &QNetworkReply::finished, this, [this, reply] { finished(reply); });
    const QString raise = setting.isEmpty() ? QString() : QStringLiteral(" (raise it with %1)").arg(setting);
    auto tooLarge = [this, reply, id, maxResponseBytes, raise](qint64 bytes, bool announced) {
        refuse(reply, id,
            QStringLiteral("the answer %1 %2, past the limit of %3%4")
                .arg(announced ? QStringLiteral("announced") : QStringLiteral("passed"), sizeText(bytes),
                    sizeText(maxResponseBytes), raise));
    };
    // The body is read as it arrives, into the exchange's own buffer, with Qt reading
    // ahead only kReadAheadBytes: the limit holds as the bytes come, not after.
    reply->setReadBufferSize(kReadAheadBytes);
    connect(reply, &QNetworkReply::readyRead, this, [this, reply, id, maxResponseBytes, tooLarge] {
        auto it = m_pending.find(reply);
        if (it == m_pending.end() || it->id != id || !it->end.refused.isEmpty())
            return;
        // Never more than one byte past the limit in our buffer, however much Qt read
        // ahead while the event loop was busy (a loaded machine batches readyRead).
        if (maxResponseBytes > 0)
            it->end.body += reply->read(maxResponseBytes + 1 - it->end.body.size());
        else
            it->end.body += reply->readAll();
        if (maxResponseBytes > 0 && it->end.body.size() > maxResponseBytes)
            tooLarge(it->end.body.size(), false);
    });
    // The announced length refuses before a byte of the body is read.
    if (maxResponseBytes > 0) {
        connect(reply, &QNetworkReply::metaDataChanged, this, [reply, maxResponseBytes, tooLarge] {
            const qint64 length = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
            if (length > maxResponseBytes)
                tooLarge(length, true);
        });
    }
    connect(reply, &QNetworkReply::redirected, this, [this, reply, id](const QUrl &to) {
        auto it = m_pending.find(reply);
        if (it == m_pending.end() || it->id != id)
            return;
        it->end.redirects << redactUrl(reply->request().url().resolved(to));
        if (it->end.redirects.size() > kMaxRedirects)
            refuse(reply, id,
                QStringLiteral("more than %1 redirects (%2)").arg(kMaxRedirects).arg(chainOf(reply, it->end)));
    });
    if (timeoutMs > 0) {
        // Our own timer rather than setTransferTimeout: that one restarts on every
        // byte, and a timeout must be told apart from other aborts.
        QTimer::singleShot(timeoutMs, this, [this, reply, id] {
            auto it = m_pending.find(reply);
            if (it == m_pending.end() || it->id != id)
                return;
            it->end.timedOut = true;
            reply->abort();  // finishes it, and so calls the handler
        });
    }
}

QString HttpExchange::chainOf(const QNetworkReply *reply, const HttpEnd &end) const
{
    return redactUrl(reply->request().url()) + QStringLiteral(" -> ") + end.redirects.join(QStringLiteral(" -> "));
}

void HttpExchange::finished(QNetworkReply *reply)
{
    auto it = m_pending.find(reply);
    if (it == m_pending.end())
        return;
    // Out of the table before the handler runs: it may send again, or end the client.
    Pending pending = std::move(it.value());
    m_pending.erase(it);
    if (reply->error() == QNetworkReply::InsecureRedirectError && pending.end.refused.isEmpty()) {
        // Qt refused to follow, before sending: name where it was asked to go.
        const QUrl to = QUrl::fromEncoded(reply->rawHeader("Location"));
        pending.end.redirects << redactUrl(reply->url().resolved(to));
        pending.end.refused = QStringLiteral("refused a redirect to another origin (%1): credentials stay with the "
                                             "host they were given for")
                                  .arg(chainOf(reply, pending.end));
    }
    if (pending.end.refused.isEmpty() && reply->isOpen())
        pending.end.body += reply->readAll();
    else
        pending.end.body.clear();
    reply->deleteLater();
    logOutcome(reply, pending.end);
    if (pending.handler)
        pending.handler(reply, pending.end);
}

void HttpExchange::refuse(QNetworkReply *reply, uint64_t id, QString why)
{
    auto it = m_pending.find(reply);
    if (it == m_pending.end() || it->id != id || !it->end.refused.isEmpty())
        return;
    it->end.refused = std::move(why);
    reply->abort();  // finishes it, and so calls the handler with the reason
}

// Logs when requests to a URL start failing, fail for another reason, or are answered
// again: a peer that stays down is one line, not one per request or poll. Lines hold
// the verb, the URL with its secrets redacted and the status, limit or network error;
// never headers (Authorization) or bodies.
void HttpExchange::logOutcome(const QNetworkReply *reply, const HttpEnd &end)
{
    if (!lcHttp().isDebugEnabled())
        return;
    const bool failed = end.timedOut || !end.refused.isEmpty() || reply->error() != QNetworkReply::NoError;
    const QString url = redactUrl(reply->url());
    if (!failed) {
        if (m_failing.remove(url) > 0)
            qCDebug(lcHttp).noquote() << verbOf(reply) << url << "answered again";
        return;
    }
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QString why = end.timedOut ? QStringLiteral("no complete answer before its deadline")
        : !end.refused.isEmpty()     ? end.refused
        : status != 0                ? QStringLiteral("HTTP %1").arg(status)
                                     : reply->errorString();
    if (m_failing.value(url) == why)
        return;
    m_failing.insert(url, why);
    qCDebug(lcHttp).noquote() << verbOf(reply) << url << "failed:" << why;
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

#include "routing/caddy/caddyadmin.h"

#include "model/logging.h"
#include "net/httpexchange.h"
#include "net/redact.h"
#include "routing/caddy/caddytranslator.h"
#include "routing/routevalidator.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QStringList>
#include <QTimer>

namespace meshscope::routing {

namespace {

constexpr int kCaddyAdminDefaultPort = 2019;

// Caddy's {"error": "..."} text, or the body itself when it is not that shape.
QString caddyErrorText(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    QString text = doc.isObject() ? doc.object().value(QLatin1String("error")).toString() : QString();
    if (text.isEmpty())
        text = QString::fromUtf8(body.trimmed());
    // On one line, control characters escaped, bounded: a 100 KB HTML page from a
    // proxy in front of Caddy shows as its first 300 characters and its size.
    text.replace(QLatin1Char('\n'), QLatin1Char(' '));
    text.replace(QLatin1Char('\r'), QLatin1Char(' '));
    return sanitizeRemoteText(text);
}

QString oneLineList(const std::vector<std::string> &items)
{
    if (items.empty())
        return {};
    QString s = QString::fromStdString(items.front());
    if (items.size() > 1)
        s += QStringLiteral(" (and %1 more)").arg(items.size() - 1);
    return s;
}

// `done`, after one line saying how a pull or an apply ended. Caddy's error text is
// the peer's own, so it is sanitized; no request or route body is ever printed.
CaddyAdmin::Callback logged(const QString &what, CaddyAdmin::Callback done)
{
    return [what, done = std::move(done)](CaddyResult r) {
        if (r.ok())
            qCDebug(lcCaddy).noquote() << what << "done:" << r.rawRoutes.size() << "routes"
                                       << (r.version.etag.isEmpty() ? QString()
                                                                    : QStringLiteral("ETag %1").arg(r.version.etag));
        else
            qCDebug(lcCaddy).noquote() << what << "failed:" << sanitizeRemoteText(r.message);
        if (done)
            done(std::move(r));
    };
}

}  // namespace

CaddyAdmin::CaddyAdmin(CaddyAdminConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpExchange(this))
{
}

CaddyAdmin::~CaddyAdmin() { abortAll(); }

QString CaddyAdmin::displayUrl() const
{
    return redactUrl(m_config.url.adjusted(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash));
}

QString CaddyAdmin::routesPath(const QString &server)
{
    return QStringLiteral("/config/apps/http/servers/%1/routes").arg(server);
}

QString CaddyAdmin::etagFor(const QString &path, const QByteArray &body)
{
    // Caddy 2.6 hashes the response body with FNV-1a (hash/fnv New32a) as it writes it.
    uint32_t h = 2166136261u;
    for (const char c : body) {
        h ^= uint8_t(c);
        h *= 16777619u;
    }
    return QStringLiteral("\"%1 %2\"").arg(path).arg(h, 8, 16, QLatin1Char('0'));
}

void CaddyAdmin::abortAll() { m_http->abortAll(); }

void CaddyAdmin::fail(CaddyResult::Error kind, const QString &message, Callback done)
{
    // Answered from the event loop like any other failure, never from inside the call.
    CaddyResult r;
    r.kind = kind;
    r.message = message;
    QTimer::singleShot(0, this, [done = std::move(done), r = std::move(r)] {
        if (done)
            done(r);
    });
}

void CaddyAdmin::request(
    const QByteArray &method, const QString &path, const QByteArray &body, const QString &ifMatch, Callback done)
{
    send(method, path, body, ifMatch, std::move(done));
}

void CaddyAdmin::send(
    const QByteArray &method, const QString &path, const QByteArray &body, const QString &ifMatch, Callback done)
{
    QUrl url = m_config.url;
    if (!isHttpUrl(url)) {
        fail(CaddyResult::Error::Config,
            QStringLiteral("'%1' is not a Caddy admin URL (expected http://HOST:PORT, e.g. http://127.0.0.1:2019)")
                .arg(displayUrl()),
            std::move(done));
        return;
    }
    const int port = url.port(kCaddyAdminDefaultPort);
    url.setPort(port);
    url.setUserInfo(QString());
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);

    QNetworkRequest req(url);
    // Caddy answers 403 unless Host is exactly its admin listen address, port included.
    const QString host
        = url.host().contains(QLatin1Char(':')) ? QLatin1Char('[') + url.host() + QLatin1Char(']') : url.host();
    req.setRawHeader("Host", (host + QLatin1Char(':') + QString::number(port)).toUtf8());
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    req.setRawHeader("Accept", "application/json");
    req.setRawHeader("User-Agent", "meshscope");
    if (!ifMatch.isEmpty())
        req.setRawHeader("If-Match", ifMatch.toUtf8());
    QString tlsError;
    if (!prepareClientTls(&req, m_config.tls, &tlsError)) {
        fail(CaddyResult::Error::Config, QStringLiteral("Caddy admin TLS: %1").arg(tlsError), std::move(done));
        return;
    }

    QNetworkReply *reply = m_http->network()->sendCustomRequest(req, method, body);
    if (url.scheme() == QLatin1String("https"))
        watchTlsErrors(reply, m_config.tls);
    m_http->track(
        reply, m_config.timeoutMs,
        [this, method, path, done = std::move(done)](
            QNetworkReply *r, const HttpEnd &end) { finish(r, end, method, path, done); },
        m_config.maxResponseBytes);
}

void CaddyAdmin::finish(
    QNetworkReply *reply, const HttpEnd &end, const QByteArray &method, const QString &path, const Callback &done)
{
    const QString where = displayUrl();
    CaddyResult r;
    r.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!end.refused.isEmpty()) {
        r.kind = CaddyResult::Error::Network;
        r.message = QStringLiteral("Caddy's admin API at %1: %2").arg(where, end.refused);
    } else if (end.timedOut) {
        r.kind = CaddyResult::Error::Timeout;
        r.message
            = QStringLiteral("Caddy's admin API at %1 did not answer within %2 ms").arg(where).arg(m_config.timeoutMs);
    } else if (r.httpStatus == 0) {
        const QString tls = describeTlsFailure(reply, m_config.tls);
        r.kind = CaddyResult::Error::Network;
        r.message = QStringLiteral("cannot reach Caddy's admin API at %1: %2")
                        .arg(where, tls.isEmpty() ? reply->errorString() : tls);
    } else {
        r.body = end.body;
        if (r.httpStatus >= 200 && r.httpStatus < 300) {
            if (method == "GET") {
                // Caddy 2.6.2 sends the Etag as a trailer, which Qt drops; a header wins.
                const QByteArray header = reply->rawHeader("Etag");
                r.version.etag = header.isEmpty() ? etagFor(path, r.body) : QString::fromUtf8(header);
            }
        } else {
            r.caddyError = caddyErrorText(r.body);
            if (r.httpStatus == 403 && r.caddyError.startsWith(QLatin1String("host not allowed"))) {
                r.kind = CaddyResult::Error::HostNotAllowed;
                r.message = QStringLiteral("Caddy's admin API at %1 answered 403 \"%2\": Caddy accepts only requests "
                                           "whose Host is its admin listen address (\"admin\": {\"listen\": ...}) "
                                           "or one of admin.origins; give exactly that address in the admin URL")
                                .arg(where, r.caddyError);
            } else if (r.httpStatus == 412) {
                r.kind = CaddyResult::Error::EtagMismatch;
                r.message = QStringLiteral("Caddy at %1 refused %2 %3 (HTTP 412): %4")
                                .arg(where, QString::fromLatin1(method), path, r.caddyError);
            } else {
                r.kind = CaddyResult::Error::Rejected;
                r.message = QStringLiteral("Caddy at %1 refused %2 %3 (HTTP %4): %5")
                                .arg(where, QString::fromLatin1(method), path)
                                .arg(r.httpStatus)
                                .arg(r.caddyError);
            }
        }
    }
    if (done)
        done(std::move(r));
}

void CaddyAdmin::pullRoutes(const QString &server, Callback done)
{
    done = logged(QStringLiteral("pull of server '%1' from %2").arg(server, displayUrl()), std::move(done));
    if (server.isEmpty() || server.contains(QLatin1Char('/'))) {
        fail(
            CaddyResult::Error::Config, QStringLiteral("'%1' is not a Caddy server name").arg(server), std::move(done));
        return;
    }
    send("GET", routesPath(server), {}, {}, [this, server, done = std::move(done)](CaddyResult r) mutable {
        if (r.kind == CaddyResult::Error::Rejected && r.httpStatus == 400
            && r.caddyError.startsWith(QLatin1String("invalid traversal path"))) {
            // Either the server or the whole HTTP app is missing: say which, and what exists.
            send("GET", QStringLiteral("/config/apps/http/servers"), {}, {},
                [this, server, done = std::move(done)](CaddyResult s) {
                    CaddyResult out;
                    out.kind = CaddyResult::Error::ServerNotFound;
                    QStringList names;
                    const QJsonDocument doc = QJsonDocument::fromJson(s.body);
                    if (s.ok() && doc.isObject())
                        names = doc.object().keys();
                    out.message = names.isEmpty()
                        ? QStringLiteral("Caddy at %1 has no HTTP server named '%2': it has no HTTP servers at all")
                              .arg(displayUrl(), server)
                        : QStringLiteral("Caddy at %1 has no HTTP server named '%2' (its servers: %3)")
                              .arg(displayUrl(), server, names.join(QStringLiteral(", ")));
                    if (done)
                        done(std::move(out));
                });
            return;
        }
        if (!r.ok()) {
            if (done)
                done(std::move(r));
            return;
        }
        const QByteArray trimmed = r.body.trimmed();
        if (trimmed == "null") {
            r.version.exists = false;
        } else {
            QJsonParseError perr {};
            const QJsonDocument doc = QJsonDocument::fromJson(r.body, &perr);
            if (perr.error != QJsonParseError::NoError || !doc.isArray()) {
                r.kind = CaddyResult::Error::Decode;
                r.message = QStringLiteral("Caddy at %1 answered GET %2 with something other than a routes array: %3")
                                .arg(displayUrl(), routesPath(server), QString::fromUtf8(trimmed.left(200)));
                if (done)
                    done(std::move(r));
                return;
            }
            r.rawRoutes = doc.array();
        }
        CaddyPullResult t = caddyRoutesToModel(r.rawRoutes, server.toStdString());
        r.notes = t.notes;
        if (!t.ok()) {
            r.kind = CaddyResult::Error::Untranslatable;
            r.errors = t.errors;
            r.message = QStringLiteral("cannot pull the routes of Caddy server '%1' at %2: %3")
                            .arg(server, displayUrl(), oneLineList(t.errors));
        } else {
            r.routes = std::move(t.set);
        }
        if (done)
            done(std::move(r));
    });
}

void CaddyAdmin::applyRoutes(
    const QString &server, const RouteSet &set, const CaddyRoutesVersion &version, Callback done)
{
    done = logged(QStringLiteral("apply to server '%1' at %2").arg(server, displayUrl()), std::move(done));
    if (version.etag.isEmpty()) {
        fail(CaddyResult::Error::Config,
            QStringLiteral("applying routes to Caddy needs the ETag of a pull of server '%1'").arg(server),
            std::move(done));
        return;
    }
    CaddyResult pre;
    pre.issues = validateRoutes(set, DataPlane::Caddy);
    if (hasErrors(pre.issues)) {
        std::vector<std::string> errors;
        for (const RouteIssue &i : pre.issues) {
            if (i.severity == Severity::Error)
                errors.push_back(i.toString());
        }
        pre.kind = CaddyResult::Error::Invalid;
        pre.errors = errors;
        pre.message = QStringLiteral("not applied to Caddy server '%1': %2 error(s) for Caddy 2.6.2: %3")
                          .arg(server)
                          .arg(errors.size())
                          .arg(oneLineList(errors));
    } else {
        CaddyPushResult t = modelToCaddyRoutes(set);
        pre.notes = t.notes;
        if (!t.ok()) {
            pre.kind = CaddyResult::Error::Invalid;
            pre.errors = t.errors;
            pre.message = QStringLiteral("not applied to Caddy server '%1': %2").arg(server, oneLineList(t.errors));
        } else {
            pre.rawRoutes = t.routes;
        }
    }
    if (!pre.ok()) {
        QTimer::singleShot(0, this, [done = std::move(done), pre = std::move(pre)] {
            if (done)
                done(pre);
        });
        return;
    }
    const QByteArray body = QJsonDocument(pre.rawRoutes).toJson(QJsonDocument::Compact);
    // PATCH replaces the existing array; PUT creates the key when the server had none.
    send(version.exists ? QByteArray("PATCH") : QByteArray("PUT"), routesPath(server), body, version.etag,
        [server, pre = std::move(pre), done = std::move(done)](CaddyResult r) {
            r.notes = pre.notes;
            r.issues = pre.issues;
            r.rawRoutes = pre.rawRoutes;
            if (r.kind == CaddyResult::Error::EtagMismatch)
                r.message = QStringLiteral("Caddy's routes for server %1 changed since they were read (ETag "
                                           "mismatch); pull again and reapply")
                                .arg(server);
            else if (r.kind == CaddyResult::Error::Rejected)
                r.message = QStringLiteral("Caddy refused the routes for server %1 and kept its config (HTTP %2): %3")
                                .arg(server)
                                .arg(r.httpStatus)
                                .arg(r.caddyError);
            if (done)
                done(std::move(r));
        });
}

CaddyResult CaddyAdmin::pullRoutesSync(const CaddyAdminConfig &config, const QString &server)
{
    return exchangeSync<CaddyResult, CaddyAdmin>(
        config, [&](CaddyAdmin &c, Callback cb) { c.pullRoutes(server, std::move(cb)); });
}

CaddyResult CaddyAdmin::applyRoutesSync(
    const CaddyAdminConfig &config, const QString &server, const RouteSet &set, const CaddyRoutesVersion &version)
{
    return exchangeSync<CaddyResult, CaddyAdmin>(
        config, [&](CaddyAdmin &c, Callback cb) { c.applyRoutes(server, set, version, std::move(cb)); });
}

CaddyResult CaddyAdmin::requestSync(const CaddyAdminConfig &config, const QByteArray &method, const QString &path,
    const QByteArray &body, const QString &ifMatch)
{
    return exchangeSync<CaddyResult, CaddyAdmin>(
        config, [&](CaddyAdmin &c, Callback cb) { c.request(method, path, body, ifMatch, std::move(cb)); });
}

}  // namespace meshscope::routing

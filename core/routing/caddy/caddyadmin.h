#pragma once
// Client for the Caddy 2 admin API that holds one HTTP server's routes: pull them
// (GET /config/apps/http/servers/<server>/routes, keeping the ETag) as meshscope's
// route model, and apply a route set back in ONE request that replaces the whole
// routes array with If-Match set to the pulled ETag. Caddy loads the new config or
// keeps the old one whole, and refuses with 412 when someone changed the routes since
// they were read, so a change is never half-applied nor applied over another's.
//
// Caddy 2.6.2 quirks handled here (PROTOCOLS.md section 8): the Host header must be
// the admin listen address; Content-Type must be application/json; the ETag of a GET
// arrives as an HTTP trailer, which QNetworkAccessManager drops, so it is computed
// from the body the same way Caddy does (FNV-1a, 32 bits, over the bytes it sent).
//
// Threading: a CaddyAdmin belongs to the thread that created it and calls back on
// that thread; nothing blocks. The *Sync functions spin a local QEventLoop: for the
// CLI and tests, never the GUI thread.

#include "net/httpexchange.h"
#include "net/tlsoptions.h"
#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <QByteArray>
#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QUrl>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

class QNetworkReply;

namespace meshscope {
class HttpExchange;
}

namespace meshscope::routing {

struct CaddyAdminConfig {
    QUrl url;  // the admin endpoint, e.g. http://127.0.0.1:2019 (no port: Caddy's default 2019)
    TlsClientOptions tls;  // for an https admin endpoint (Caddy's remote admin)
    int timeoutMs = 10000;  // per request, connect to last byte
    qint64 maxResponseBytes = kDefaultMaxResponseBytes;  // a larger answer is refused as it arrives
};

// The version of a server's routes that an apply must replace.
struct CaddyRoutesVersion {
    QString etag;  // "\"/config/apps/http/servers/<server>/routes <hash>\"", sent as If-Match
    bool exists = true;  // false: the server has no routes key yet (replaced with PUT, not PATCH)
};

struct CaddyResult {
    enum class Error : uint8_t {
        None,
        Config,  // the request could not be made: bad URL, unreadable TLS files
        Network,  // no HTTP answer: refused, reset, TLS
        Timeout,  // no complete answer within timeoutMs
        HostNotAllowed,  // 403: the Host header is not Caddy's admin listen address
        ServerNotFound,  // no HTTP server of that name
        EtagMismatch,  // 412: the routes changed since they were read
        Rejected,  // Caddy answered 4xx/5xx; caddyError holds its message
        Decode,  // 2xx but not the JSON expected
        Untranslatable,  // Caddy's routes hold something the route model cannot (pull refused)
        Invalid,  // the route set has errors for Caddy; nothing was sent
    };
    Error kind = Error::None;
    QString message;  // one line for people: what failed, where and why
    QString caddyError;  // Caddy's {"error": ...} text, verbatim
    int httpStatus = 0;  // 0 when no HTTP answer arrived

    QByteArray body;  // the raw answer (for a pull: the routes JSON exactly as sent)
    CaddyRoutesVersion version;  // pull: what an apply must replace
    QJsonArray rawRoutes;  // pull: the routes array as Caddy holds it
    RouteSet routes;  // pull: translated into the route model
    std::vector<std::string> notes;  // translation notes (pull and apply)
    std::vector<RouteIssue> issues;  // apply: RouteValidator's findings for Caddy
    std::vector<std::string> errors;  // Untranslatable/Invalid: each reason

    bool ok() const { return kind == Error::None; }
};

class CaddyAdmin : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(CaddyResult)>;

    explicit CaddyAdmin(CaddyAdminConfig config, QObject *parent = nullptr);
    // Aborts requests still in flight; their callbacks are not called.
    ~CaddyAdmin() override;

    // GET the server's routes, their ETag, and their translation into the model.
    void pullRoutes(const QString &server, Callback done);
    // Validates `set` for Caddy, translates it and replaces the server's whole routes
    // array in one request carrying If-Match: version.etag.
    void applyRoutes(const QString &server, const RouteSet &set, const CaddyRoutesVersion &version, Callback done);
    // One raw admin API request (GET/POST/PUT/PATCH/DELETE on /config/...). A GET's
    // result carries the ETag in version.etag. `ifMatch` is sent when not empty.
    void request(
        const QByteArray &method, const QString &path, const QByteArray &body, const QString &ifMatch, Callback done);

    void abortAll();
    const CaddyAdminConfig &config() const { return m_config; }
    // The admin URL for messages, without credentials.
    QString displayUrl() const;

    static CaddyResult pullRoutesSync(const CaddyAdminConfig &config, const QString &server);
    static CaddyResult applyRoutesSync(
        const CaddyAdminConfig &config, const QString &server, const RouteSet &set, const CaddyRoutesVersion &version);
    static CaddyResult requestSync(const CaddyAdminConfig &config, const QByteArray &method, const QString &path,
        const QByteArray &body = {}, const QString &ifMatch = {});

    // The ETag Caddy 2.6 gives a GET of `path` answering `body`: "\"<path> <fnv1a32 hex>\"".
    static QString etagFor(const QString &path, const QByteArray &body);
    // The admin API path of a server's routes.
    static QString routesPath(const QString &server);

private:
    void send(
        const QByteArray &method, const QString &path, const QByteArray &body, const QString &ifMatch, Callback done);
    void finish(
        QNetworkReply *reply, const HttpEnd &end, const QByteArray &method, const QString &path, const Callback &done);
    void fail(CaddyResult::Error kind, const QString &message, Callback done);

    CaddyAdminConfig m_config;
    HttpExchange *m_http = nullptr;
};

}  // namespace meshscope::routing

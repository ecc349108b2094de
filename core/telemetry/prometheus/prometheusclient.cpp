#include "telemetry/prometheus/prometheusclient.h"

#include "net/redact.h"

#include "net/httpexchange.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QTimer>

#include <cmath>
#include <limits>

namespace meshscope {

namespace {

// Prometheus writes sample values as strings, with its own spellings of the specials.
double parseValue(const QJsonValue &v, bool *ok)
{
    *ok = true;
    if (v.isDouble())
        return v.toDouble();
    const QString s = v.toString();
    if (s == QLatin1String("NaN"))
        return std::numeric_limits<double>::quiet_NaN();
    if (s == QLatin1String("+Inf") || s == QLatin1String("Inf"))
        return std::numeric_limits<double>::infinity();
    if (s == QLatin1String("-Inf"))
        return -std::numeric_limits<double>::infinity();
    return s.toDouble(ok);
}

bool parsePoint(const QJsonValue &v, double *time, double *value)
{
    const QJsonArray pair = v.toArray();
    if (pair.size() != 2 || !pair[0].isDouble())
        return false;
    bool ok = false;
    *time = pair[0].toDouble();
    *value = parseValue(pair[1], &ok);
    return ok;
}

PromLabels parseLabels(const QJsonObject &metric)
{
    PromLabels labels;
    for (auto it = metric.begin(); it != metric.end(); ++it)
        labels.emplace(it.key().toStdString(), it.value().toString().toStdString());
    return labels;
}

// What a server said, fit to quote: one line, control characters escaped, bounded.
QString snippet(const QByteArray &body) { return sanitizeRemoteText(QString::fromUtf8(body).simplified()); }

// VictoriaMetrics puts the whole query before its reason ("error when executing
// query=\"sum by (...)\" for (time=..., step=...): cannot parse ..."); meshscope's
// queries run to about 800 bytes, so the echo is cut to "query=..." to leave room for
// the reason within the bounded text.
QString withoutQueryEcho(QString error)
{
    static const QRegularExpression echo(QStringLiteral(R"(query="(?:[^"\\]|\\.)*")"));
    return error.replace(echo, QStringLiteral("query=..."));
}

QString formatNumber(double v) { return QString::number(v, 'f', 3); }

}  // namespace

bool PromResult::transient() const
{
    switch (kind) {
    case Error::Network:
    case Error::Timeout: return true;
    case Error::Prometheus:
    case Error::Http:
        // 5xx: server-side trouble (503 = query timeout or shutting down); 429: overloaded.
        return httpStatus >= 500 || httpStatus == 429 || errorType == QLatin1String("timeout")
            || errorType == QLatin1String("unavailable");
    default: return false;
    }
}

PrometheusClient::PrometheusClient(PrometheusConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    // Prometheus answers on one connection per query; the default of six parallel
    // connections per host lets a graph's queries run side by side.
    , m_http(new HttpExchange(this))
{
    if (m_config.url.scheme() == QLatin1String("https")) {
        QSslConfiguration ssl;
        if (makeClientSslConfiguration(m_config.tls, &ssl, &m_sslError))
            m_ssl = new QSslConfiguration(ssl);
    }
}

PrometheusClient::~PrometheusClient()
{
    abortAll();
    delete m_ssl;
}

QString PrometheusClient::displayUrl() const
{
    return redactUrl(m_config.url.adjusted(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash));
}

void PrometheusClient::abortAll() { m_http->abortAll(); }

int PrometheusClient::inFlight() const { return m_http->inFlight(); }

void PrometheusClient::query(const QString &promql, std::optional<double> time, Callback done)
{
    std::vector<std::pair<QString, QString>> params {{QStringLiteral("query"), promql}};
    if (time)
        params.emplace_back(QStringLiteral("time"), formatNumber(*time));
    post(QStringLiteral("api/v1/query"), params, std::move(done));
}

void PrometheusClient::queryRange(const QString &promql, double start, double end, double stepSeconds, Callback done)
{
    post(QStringLiteral("api/v1/query_range"),
        {{QStringLiteral("query"), promql}, {QStringLiteral("start"), formatNumber(start)},
            {QStringLiteral("end"), formatNumber(end)}, {QStringLiteral("step"), formatNumber(stepSeconds)}},
        std::move(done));
}

void PrometheusClient::post(
    const QString &apiPath, const std::vector<std::pair<QString, QString>> &params, Callback done)
{
    QUrl url = m_config.url;
    const bool badUrl = !isHttpUrl(url);
    if (badUrl || !m_sslError.isEmpty()) {
        // Answered from the event loop like any other failure, never from inside the call.
        PromResult r;
        r.kind = PromResult::Error::Config;
        r.message = badUrl ? QStringLiteral("'%1' is not a Prometheus URL (expected http://HOST:PORT or https://...)")
                                 .arg(displayUrl())
                           : QStringLiteral("TLS settings for Prometheus at %1: %2").arg(displayUrl(), m_sslError);
        QTimer::singleShot(0, this, [done = std::move(done), r = std::move(r)] {
            if (done)
                done(r);
        });
        return;
    }
    QString user = m_config.username, password = m_config.password;
    if (user.isEmpty() && !url.userName().isEmpty()) {
        user = url.userName();
        password = url.password();
    }
    url.setUserInfo(QString());
    QString path = url.path();
    if (!path.endsWith(QLatin1Char('/')))
        path += QLatin1Char('/');
    url.setPath(path + apiPath);

    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
    req.setRawHeader("Accept", "application/json");
    req.setRawHeader("User-Agent", "meshscope");
    if (!m_config.bearerToken.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + m_config.bearerToken.toUtf8());
    else if (!user.isEmpty())
        req.setRawHeader("Authorization", "Basic " + (user + QLatin1Char(':') + password).toUtf8().toBase64());
    if (m_ssl)
        applyClientSslConfiguration(&req, *m_ssl);

    // A form body rather than query-string parameters: graph queries run to a few
    // kilobytes. Every value is percent-encoded by hand because QUrlQuery leaves '+'
    // alone, which a form decoder reads as a space ("+Inf", "a + b").
    QByteArray body;
    auto add = [&body](const QString &k, const QString &v) {
        if (!body.isEmpty())
            body += '&';
        body += QUrl::toPercentEncoding(k) + '=' + QUrl::toPercentEncoding(v);
    };
    for (const auto &[k, v] : params)
        add(k, v);
    if (m_config.timeoutMs > 0)
        add(QStringLiteral("timeout"), QString::number(std::max(1, m_config.timeoutMs / 1000)) + QLatin1Char('s'));

    QNetworkReply *reply = m_http->network()->post(req, body);
    if (m_ssl)
        watchTlsErrors(reply, m_config.tls);
    m_http->track(
        reply, m_config.timeoutMs,
        [this, done = std::move(done)](QNetworkReply *r, const HttpEnd &end) { finish(r, end, done); },
        m_config.maxResponseBytes, QStringLiteral("--prometheus-max-response-bytes"));
}

void PrometheusClient::finish(QNetworkReply *reply, const HttpEnd &end, const Callback &done)
{
    const QString where = displayUrl();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    PromResult result;
    if (!end.refused.isEmpty()) {
        result.kind = PromResult::Error::Network;
        result.message = QStringLiteral("Prometheus at %1: %2").arg(where, end.refused);
    } else if (end.timedOut) {
        result.kind = PromResult::Error::Timeout;
        result.message
            = QStringLiteral("Prometheus at %1 did not answer within %2 ms").arg(where).arg(m_config.timeoutMs);
    } else if (status == 0 && reply->error() != QNetworkReply::NoError) {
        const QString tls = m_ssl ? describeTlsFailure(reply, m_config.tls) : QString();
        result.kind = tls.isEmpty() ? PromResult::Error::Network : PromResult::Error::Tls;
        result.message = QStringLiteral("cannot reach Prometheus at %1: %2")
                             .arg(where, tls.isEmpty() ? reply->errorString() : tls);
    } else {
        result = parseReply(end.body, status, where);
        if (m_ssl) {
            result.peerCertificate = fromQSslCertificate(reply->sslConfiguration().peerCertificate());
            if (!result.peerCertificate.isNull())
                m_lastPeerCertificate = result.peerCertificate;
        }
    }
    if (done)
        done(std::move(result));
}

PromResult PrometheusClient::parseReply(const QByteArray &body, int httpStatus, const QString &where)
{
    PromResult r;
    r.httpStatus = httpStatus;
    QJsonParseError perr {};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &perr);
    const QJsonObject env = doc.object();
    const QString status = env.value(QLatin1String("status")).toString();
    const bool envelope = perr.error == QJsonParseError::NoError && doc.isObject()
        && (status == QLatin1String("success") || status == QLatin1String("error"));
    if (!envelope) {
        if (httpStatus < 200 || httpStatus > 299) {
            r.kind = PromResult::Error::Http;
            r.message = QStringLiteral("HTTP %1 from %2").arg(httpStatus).arg(where);
            if (!body.trimmed().isEmpty())
                r.message += QStringLiteral(": ") + snippet(body);
        } else {
            r.kind = PromResult::Error::Decode;
            r.message = QStringLiteral("%1 did not answer with Prometheus API JSON: %2")
                            .arg(where, perr.error != QJsonParseError::NoError ? perr.errorString() : snippet(body));
        }
        return r;
    }
    for (const QJsonValue &w : env.value(QLatin1String("warnings")).toArray())
        r.warnings << w.toString();
    if (status == QLatin1String("error")) {
        r.kind = PromResult::Error::Prometheus;
        r.errorType = env.value(QLatin1String("errorType")).toString();
        r.error = snippet(withoutQueryEcho(env.value(QLatin1String("error")).toString()).toUtf8());
        r.message = QStringLiteral("Prometheus at %1 answered HTTP %2 (%3): %4")
                        .arg(where)
                        .arg(httpStatus)
                        .arg(r.errorType.isEmpty() ? QStringLiteral("error") : r.errorType, r.error);
        return r;
    }

    auto decodeError = [&](const QString &what) {
        r.kind = PromResult::Error::Decode;
        r.message = QStringLiteral("%1 sent a malformed result: %2").arg(where, what);
        r.vector.clear();
        r.matrix.clear();
        return r;
    };
    const QJsonObject data = env.value(QLatin1String("data")).toObject();
    r.resultType = data.value(QLatin1String("resultType")).toString();
    const QJsonValue result = data.value(QLatin1String("result"));
    if (r.resultType == QLatin1String("vector")) {
        const QJsonArray items = result.toArray();
        r.vector.reserve(size_t(items.size()));
        for (const QJsonValue &item : items) {
            const QJsonObject o = item.toObject();
            PromSample s;
            if (!parsePoint(o.value(QLatin1String("value")), &s.time, &s.value))
                return decodeError(QStringLiteral("vector element without a [time, value] pair"));
            s.labels = parseLabels(o.value(QLatin1String("metric")).toObject());
            r.vector.push_back(std::move(s));
        }
    } else if (r.resultType == QLatin1String("matrix")) {
        const QJsonArray items = result.toArray();
        r.matrix.reserve(size_t(items.size()));
        for (const QJsonValue &item : items) {
            const QJsonObject o = item.toObject();
            PromSeries s;
            s.labels = parseLabels(o.value(QLatin1String("metric")).toObject());
            const QJsonArray values = o.value(QLatin1String("values")).toArray();
            s.points.reserve(size_t(values.size()));
            for (const QJsonValue &v : values) {
                double t = 0, x = 0;
                if (!parsePoint(v, &t, &x))
                    return decodeError(QStringLiteral("matrix point without a [time, value] pair"));
                s.points.emplace_back(t, x);
            }
            r.matrix.push_back(std::move(s));
        }
    } else if (r.resultType == QLatin1String("scalar")) {
        PromSample s;
        if (!parsePoint(result, &s.time, &s.value))
            return decodeError(QStringLiteral("scalar without a [time, value] pair"));
        r.vector.push_back(std::move(s));
    } else if (r.resultType != QLatin1String("string")) {
        return decodeError(QStringLiteral("unknown resultType '%1'").arg(r.resultType));
    }
    return r;
}

PromResult PrometheusClient::querySync(
    const PrometheusConfig &config, const QString &promql, std::optional<double> time)
{
    return exchangeSync<PromResult, PrometheusClient>(
        config, [&](PrometheusClient &c, Callback cb) { c.query(promql, time, std::move(cb)); });
}

PromResult PrometheusClient::queryRangeSync(
    const PrometheusConfig &config, const QString &promql, double start, double end, double stepSeconds)
{
    return exchangeSync<PromResult, PrometheusClient>(config,
        [&](PrometheusClient &c, Callback cb) { c.queryRange(promql, start, end, stepSeconds, std::move(cb)); });
}

std::optional<double> parsePromTime(const QString &text)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return std::nullopt;
    if (t == QLatin1String("now"))
        return double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    bool ok = false;
    const double seconds = t.toDouble(&ok);
    if (ok)
        return std::isfinite(seconds) && seconds >= 0 ? std::optional<double>(seconds) : std::nullopt;
    // RFC 3339 needs a zone: a bare local time would mean different instants on
    // different machines.
    static const QRegularExpression rfc3339(
        QStringLiteral(R"(^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$)"));
    if (!rfc3339.match(t).hasMatch())
        return std::nullopt;
    QString iso = t;
    iso[10] = QLatin1Char('T');
    const QDateTime dt = QDateTime::fromString(iso, Qt::ISODateWithMs);
    if (!dt.isValid())
        return std::nullopt;
    // The same instant in either spelling: before 1970 is refused here as it is in seconds.
    const qint64 ms = dt.toMSecsSinceEpoch();
    if (ms < 0)
        return std::nullopt;
    return double(ms) / 1000.0;
}

std::optional<int> parsePromDurationSeconds(const QString &text)
{
    const QString t = text.trimmed();
    bool ok = false;
    const double plain = t.toDouble(&ok);
    if (ok)
        return plain >= 1 && plain <= 1e9 ? std::optional<int>(int(plain)) : std::nullopt;
    static const QRegularExpression part(QStringLiteral(R"((\d+)(ms|s|m|h|d|w|y))"));
    double seconds = 0;
    qsizetype pos = 0;
    auto it = part.globalMatch(t);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        if (m.capturedStart() != pos)
            return std::nullopt;
        pos = m.capturedEnd();
        const double n = m.captured(1).toDouble();
        const QString unit = m.captured(2);
        static const std::pair<const char *, double> kUnits[]
            = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}, {"y", 365 * 86400}};
        for (const auto &[name, factor] : kUnits) {
            if (unit == QLatin1String(name))
                seconds += n * factor;
        }
    }
    if (pos == 0 || pos != t.size() || seconds < 1 || seconds > 1e9)
        return std::nullopt;
    return int(seconds);
}

}  // namespace meshscope

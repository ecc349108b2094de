#include "displayformat.h"

#include <QLocale>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace meshscope::display {

QString rps(double value)
{
    if (value <= 0)
        return QStringLiteral("0");
    if (value < 10)
        return QString::number(value, 'f', 2);
    if (value < 1000)
        return QString::number(value, 'f', 1);
    return QLocale::c().toString(std::llround(value));
}

QString percent(double fraction)
{
    const double p = fraction * 100.0;
    if (p <= 0)
        return QStringLiteral("0 %");
    // Small but non-zero rates matter (Kiali's degraded threshold is 0.1 %).
    if (p < 0.01)
        return QStringLiteral("<0.01 %");
    if (p < 10)
        return QString::number(p, 'f', 2) + QStringLiteral(" %");
    return QString::number(p, 'f', 1) + QStringLiteral(" %");
}

QString millis(double ms)
{
    if (ms <= 0)
        return QStringLiteral("-");
    if (ms < 1)
        return QString::number(ms, 'f', 2) + QStringLiteral(" ms");
    if (ms < 100)
        return QString::number(ms, 'f', 1) + QStringLiteral(" ms");
    if (ms < 1000)
        return QString::number(ms, 'f', 0) + QStringLiteral(" ms");
    return QString::number(ms / 1000.0, 'f', 2) + QStringLiteral(" s");
}

double niceStep(double v)
{
    if (v <= 0)
        return 1;
    const double exp = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (v <= m * exp)
            return m * exp;
    }
    return 10 * exp;
}

QString clock(int64_t ms)
{
    const int64_t total = std::max<int64_t>(ms, 0) / 1000;
    const int64_t h = total / 3600, m = total / 60 % 60, sec = total % 60;
    const QString mmss = QStringLiteral("%1:%2")
                             .arg(h ? m : total / 60, h ? 2 : 1, 10, QLatin1Char('0'))
                             .arg(sec, 2, 10, QLatin1Char('0'));
    return h ? QStringLiteral("%1:%2").arg(h).arg(mmss) : mmss;
}

QString dataSize(uint64_t bytes)
{
    if (bytes < 1000)
        return quantity(qint64(bytes), QStringLiteral("byte"), QStringLiteral("bytes"));
    const char *units[] = {"kB", "MB", "GB", "TB"};
    double v = double(bytes) / 1000.0;
    int u = 0;
    while (v >= 1000.0 && u < 3) {
        v /= 1000.0;
        ++u;
    }
    return QString::number(v, 'f', v < 10 ? 2 : 1) + QLatin1Char(' ') + QLatin1String(units[u]);
}

QString quantity(qint64 n, const QString &singular, const QString &plural)
{
    return QString::number(n) + QLatin1Char(' ') + (n == 1 || n == -1 ? singular : plural);
}

QString count(uint64_t n)
{
    QLocale locale = QLocale::c();
    locale.setNumberOptions(QLocale::DefaultNumberOptions);
    return locale.toString(qulonglong(n));
}

QString grpcCodeName(int code)
{
    static const char *const names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    if (code >= 0 && code < int(std::size(names)))
        return QLatin1String(names[code]);
    return QStringLiteral("CODE");
}

namespace {

const char *httpReason(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return nullptr;
    }
}

}  // namespace

QString statusCode(int code)
{
    if (code >= 1000)
        return QStringLiteral("gRPC %1 (%2)").arg(grpcCodeName(code - 1000)).arg(code - 1000);
    if (code < 0)
        return QStringLiteral("no status");
    if (const char *reason = httpReason(code))
        return QString::number(code) + QLatin1Char(' ') + QLatin1String(reason);
    return QString::number(code);
}

QString requestStatus(int httpStatus, int grpcStatus)
{
    if (grpcStatus >= 0 && (httpStatus < 0 || httpStatus == 200))
        return grpcStatus == 0 ? QStringLiteral("gRPC OK") : QStringLiteral("gRPC %1").arg(grpcCodeName(grpcStatus));
    if (httpStatus >= 0)
        return QString::number(httpStatus);
    return QStringLiteral("-");
}

QString nodeLabel(const std::string &nodeId)
{
    QString id = QString::fromStdString(nodeId);
    if (id.startsWith(QLatin1String("ext:")))
        return id.mid(4);
    const qsizetype slash = id.indexOf(QLatin1Char('/'));
    if (slash >= 0)
        id = id.mid(slash + 1);
    return id;
}

QString redactPath(const std::string &path)
{
    QString p = QString::fromStdString(path);
    const qsizetype q = p.indexOf(QLatin1Char('?'));
    if (q < 0)
        return p;
    // Parameter names that carry credentials in the wild (OAuth, API gateways, signed URLs).
    static const QRegularExpression secret(
        QStringLiteral("(^|[&;?])[^=&;]*(token|key|password|passwd|pwd|secret|auth|session|signature|sig|code|"
                       "credential|jwt|sid)[^=&;]*="),
        QRegularExpression::CaseInsensitiveOption);
    if (secret.match(p, q).hasMatch())
        return p.left(q) + QStringLiteral("?…");
    return p;
}

QColor healthColor(Health health)
{
    switch (health) {
    case Health::Healthy: return QColor(0x3f, 0xb9, 0x50);
    case Health::Degraded: return QColor(0xd2, 0x99, 0x22);
    case Health::Failing: return QColor(0xf8, 0x51, 0x49);
    case Health::NoTraffic: break;
    }
    return QColor(0x8b, 0x94, 0x9e);
}

QString healthText(Health health) { return QLatin1String(healthName(health)); }

}  // namespace meshscope::display

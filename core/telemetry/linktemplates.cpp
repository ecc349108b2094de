#include "telemetry/linktemplates.h"

#include "model/nodeid.h"

#include <QRegularExpression>

namespace meshscope {

namespace {

bool isHex(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'f') || (u >= 'A' && u <= 'F');
}

// Characters a URL holds as written (RFC 3986 unreserved, sub-delims and the
// delimiters ":@/?#"); '[' and ']' only in the host, where they bracket IPv6.
bool keptAsWritten(char16_t c, bool inAuthority)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?':
    case '#': return true;
    case '[':
    case ']': return inAuthority;
    default: return false;
    }
}

QString jsonEscaped(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (const QChar c : value) {
        switch (c.unicode()) {
        case '"': out += QLatin1String("\\\""); break;
        case '\\': out += QLatin1String("\\\\"); break;
        case '\n': out += QLatin1String("\\n"); break;
        case '\r': out += QLatin1String("\\r"); break;
        case '\t': out += QLatin1String("\\t"); break;
        default:
            if (c.unicode() < 0x20)
                out += QStringLiteral("\\u%1").arg(int(c.unicode()), 4, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    return out;
}

QString linkName(LinkTemplate::Kind kind)
{
    return kind == LinkTemplate::Kind::Grafana ? QStringLiteral("The Grafana link") : QStringLiteral("The trace link");
}

// "{promql}, {from}, {to}, {namespace} and {service}"
QString placeholderList(LinkTemplate::Kind kind)
{
    QStringList names;
    for (const QString &p : LinkTemplate::placeholders(kind))
        names << QLatin1Char('{') + p + QLatin1Char('}');
    if (names.size() == 1)
        return names.front();
    const QString last = names.takeLast();
    return names.join(QStringLiteral(", ")) + QStringLiteral(" and ") + last;
}

}  // namespace

QStringList LinkTemplate::placeholders(Kind kind)
{
    if (kind == Kind::Grafana)
        return {QStringLiteral("promql"), QStringLiteral("from"), QStringLiteral("to"), QStringLiteral("namespace"),
            QStringLiteral("service")};
    return {QStringLiteral("trace_id")};
}

QString LinkTemplate::example(Kind kind)
{
    if (kind == Kind::Grafana)
        return QStringLiteral(
            R"(http://localhost:3000/explore?left={"queries":[{"refId":"A","expr":"{promql}"}],"range":{"from":"{from}","to":"{to}"}})");
    return QStringLiteral("http://localhost:16686/trace/{trace_id}");
}

QString LinkTemplate::validate(Kind kind, const QString &text)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return {};
    const QString name = linkName(kind);
    if (!t.startsWith(QLatin1String("http://"), Qt::CaseInsensitive)
        && !t.startsWith(QLatin1String("https://"), Qt::CaseInsensitive))
        return QStringLiteral("%1 must start with http:// or https://: it opens in the web browser.").arg(name);
    const QStringList known = placeholders(kind);
    if (!t.contains(QLatin1Char('{') + known.front() + QLatin1Char('}'))) {
        return kind == Kind::Grafana
            ? QStringLiteral("%1 must contain {promql}, where the node's or edge's query goes.").arg(name)
            : QStringLiteral("%1 must contain {trace_id}, where the trace ID goes.").arg(name);
    }
    static const QRegularExpression placeholder(QStringLiteral(R"(\{([A-Za-z_][A-Za-z0-9_]*)\})"));
    for (auto it = placeholder.globalMatch(t); it.hasNext();) {
        const QString found = it.next().captured(1);
        if (!known.contains(found))
            return QStringLiteral("%1 has {%2}, which meshscope does not fill in; it knows %3.")
                .arg(name, found, placeholderList(kind));
    }
    QHash<QString, QString> sample;
    for (const QString &p : known)
        sample.insert(p, QStringLiteral("x"));
    const QUrl url = expand(kind, t, sample);
    if (!url.isValid())
        return QStringLiteral("%1 is not a valid URL: %2").arg(name, url.errorString());
    if (url.host().isEmpty())
        return QStringLiteral("%1 needs a host after %2://, for example localhost:3000.").arg(name, url.scheme());
    return {};
}

QUrl LinkTemplate::expand(Kind kind, const QString &text, const QHash<QString, QString> &values)
{
    const QStringList known = placeholders(kind);
    const QString t = text.trimmed();
    const qsizetype schemeEnd = t.indexOf(QLatin1String("://"));
    const qsizetype authorityStart = schemeEnd < 0 ? t.size() : schemeEnd + 3;
    bool pastAuthority = schemeEnd < 0;
    bool inString = false;  // between double quotes, written as '"' or as "%22"
    QByteArray out;
    out.reserve(t.size() * 2);
    for (qsizetype i = 0; i < t.size();) {
        const QChar c = t[i];
        if (i >= authorityStart && !pastAuthority && (c == u'/' || c == u'?' || c == u'#'))
            pastAuthority = true;
        if (c == u'{') {
            const qsizetype close = t.indexOf(QLatin1Char('}'), i + 1);
            const QString name = close > i ? t.mid(i + 1, close - i - 1) : QString();
            if (close > i && known.contains(name)) {
                QString value = values.value(name);
                if (inString)
                    value = jsonEscaped(value);
                out += QUrl::toPercentEncoding(value);
                i = close + 1;
                continue;
            }
        }
        if (c == u'%' && i + 2 < t.size() && isHex(t[i + 1]) && isHex(t[i + 2])) {
            // Already encoded (a URL copied from the browser): kept as it is.
            const QString escape = t.mid(i, 3).toUpper();
            if (escape == QLatin1String("%22"))
                inString = !inString;
            out += escape.toLatin1();
            i += 3;
            continue;
        }
        if (c == u'"' && (i == 0 || t[i - 1] != u'\\'))
            inString = !inString;
        const bool pair = c.isHighSurrogate() && i + 1 < t.size() && t[i + 1].isLowSurrogate();
        const bool inAuthority = i >= authorityStart && !pastAuthority;
        if (!pair && keptAsWritten(c.unicode(), inAuthority))
            out += char(c.unicode());
        else
            out += QUrl::toPercentEncoding(t.mid(i, pair ? 2 : 1));
        i += pair ? 2 : 1;
    }
    return QUrl::fromEncoded(out, QUrl::StrictMode);
}

QHash<QString, QString> LinkTemplate::grafanaValues(
    const std::string &id, const QString &promql, qint64 fromMs, qint64 toMs)
{
    EdgeEnds ends;
    const NodeRef node = parseNodeId(parseEdgeId(id, &ends) ? ends.target : id);
    return {
        {QStringLiteral("promql"), promql},
        {QStringLiteral("from"), QString::number(fromMs)},
        {QStringLiteral("to"), QString::number(toMs)},
        {QStringLiteral("namespace"), QString::fromStdString(node.ns)},
        {QStringLiteral("service"), QString::fromStdString(node.name)},
    };
}

QHash<QString, QString> LinkTemplate::traceValues(const QString &traceId)
{
    return {{QStringLiteral("trace_id"), traceId}};
}

}  // namespace meshscope

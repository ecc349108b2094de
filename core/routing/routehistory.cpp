#include "routing/routehistory.h"

#include "net/redact.h"
#include "routing/routediff.h"
#include "routing/yaml/routeyaml.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLockFile>
#include <QStandardPaths>
#include <QUrl>

#include <unistd.h>

namespace meshscope::routing {

std::string defaultRouteHistoryDirectory()
{
    const QString dir
        = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/meshscope/history");
    return dir.toStdString();
}

namespace {

const char *const kFileName = "route-history.jsonl";
const char *const kLockName = "route-history.lock";

QString q(const std::string &s) { return QString::fromStdString(s); }

std::string s(const QJsonValue &v) { return v.toString().toStdString(); }

std::optional<HistoryEntry> parseLine(const QByteArray &line)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    if (!o.value(QLatin1String("id")).isDouble() || !o.value(QLatin1String("before")).isString()
        || !o.value(QLatin1String("after")).isString())
        return std::nullopt;
    HistoryEntry e;
    e.id = int64_t(o.value(QLatin1String("id")).toDouble());
    e.timeMs = int64_t(o.value(QLatin1String("time_ms")).toDouble());
    if (e.timeMs == 0) {
        const QDateTime t = QDateTime::fromString(o.value(QLatin1String("time")).toString(), Qt::ISODateWithMs);
        if (t.isValid())
            e.timeMs = t.toMSecsSinceEpoch();
    }
    e.target = s(o.value(QLatin1String("target")));
    e.diff = s(o.value(QLatin1String("diff")));
    for (const QJsonValue &v : o.value(QLatin1String("summary")).toArray())
        e.summary.push_back(s(v));
    e.beforeYaml = s(o.value(QLatin1String("before")));
    e.afterYaml = s(o.value(QLatin1String("after")));
    if (o.value(QLatin1String("rollback_of")).isDouble())
        e.rollbackOf = int64_t(o.value(QLatin1String("rollback_of")).toDouble());
    return e;
}

QByteArray toLine(const HistoryEntry &e)
{
    QJsonObject o;
    o.insert(QLatin1String("id"), double(e.id));
    o.insert(QLatin1String("time"), QDateTime::fromMSecsSinceEpoch(e.timeMs, Qt::UTC).toString(Qt::ISODateWithMs));
    o.insert(QLatin1String("time_ms"), double(e.timeMs));
    o.insert(QLatin1String("target"), q(e.target));
    if (e.rollbackOf)
        o.insert(QLatin1String("rollback_of"), double(*e.rollbackOf));
    QJsonArray summary;
    for (const std::string &line : e.summary)
        summary.append(q(line));
    o.insert(QLatin1String("summary"), summary);
    o.insert(QLatin1String("diff"), q(e.diff));
    o.insert(QLatin1String("before"), q(e.beforeYaml));
    o.insert(QLatin1String("after"), q(e.afterYaml));
    // Compact JSON never contains a raw newline (they are escaped in strings), so one
    // record is exactly one line.
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

}  // namespace

RouteHistory::RouteHistory(std::string directory)
    : m_directory(std::move(directory))
{
}

std::string RouteHistory::filePath() const
{
    return QDir(q(m_directory)).filePath(QLatin1String(kFileName)).toStdString();
}

std::vector<HistoryEntry> RouteHistory::list() const
{
    std::vector<HistoryEntry> out;
    m_skipped = 0;
    QFile f(q(filePath()));
    if (!f.exists())
        return out;
    if (!f.open(QIODevice::ReadOnly)) {
        m_error = "cannot read " + filePath() + ": " + f.errorString().toStdString();
        return out;
    }
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        if (line.isEmpty())
            continue;
        if (auto e = parseLine(line))
            out.push_back(std::move(*e));
        else
            ++m_skipped;
    }
    return out;
}

std::optional<HistoryEntry> RouteHistory::entry(int64_t id) const
{
    for (HistoryEntry &e : list()) {
        if (e.id == id)
            return std::move(e);
    }
    m_error = "no change with id " + std::to_string(id) + " in " + filePath();
    return std::nullopt;
}

std::optional<HistoryEntry> RouteHistory::record(const std::string &target, const RouteSet &before,
    const RouteSet &after, std::optional<int64_t> rollbackOf, int64_t timeMs)
{
    const QString dir = q(m_directory);
    if (!QDir().mkpath(dir)) {
        m_error = "cannot create history directory " + m_directory;
        return std::nullopt;
    }
    // The GUI and the CLI may append at the same moment; ids must stay unique.
    QLockFile lock(QDir(dir).filePath(QLatin1String(kLockName)));
    lock.setStaleLockTime(30000);
    if (!lock.tryLock(10000)) {
        m_error = "history is locked by another process: " + QDir(dir).filePath(QLatin1String(kLockName)).toStdString();
        return std::nullopt;
    }
    int64_t lastId = 0;
    for (const HistoryEntry &e : list())
        lastId = std::max(lastId, e.id);

    HistoryEntry e;
    e.id = lastId + 1;
    e.timeMs = timeMs != 0 ? timeMs : QDateTime::currentMSecsSinceEpoch();
    e.target = target;
    e.beforeYaml = toYaml(before);
    e.afterYaml = toYaml(after);
    e.diff = unifiedDiff(e.beforeYaml, e.afterYaml, "before", "after");
    e.summary = summarizeChanges(before, after);
    e.rollbackOf = rollbackOf;

    QFile f(q(filePath()));
    if (!f.open(QIODevice::ReadWrite | QIODevice::Append)) {
        m_error = "cannot write " + filePath() + ": " + f.errorString().toStdString();
        return std::nullopt;
    }
    QByteArray line = toLine(e);
    // A record cut short by a crash has no newline; start ours on a line of its own so
    // only the damaged record is lost.
    if (f.size() > 0) {
        QFile check(q(filePath()));
        if (check.open(QIODevice::ReadOnly) && check.seek(f.size() - 1) && check.read(1) != "\n")
            line.prepend('\n');
    }
    if (f.write(line) != line.size() || !f.flush()) {
        m_error = "cannot write " + filePath() + ": " + f.errorString().toStdString();
        return std::nullopt;
    }
    ::fsync(f.handle());
    return e;
}

std::optional<RouteSet> RouteHistory::rollback(int64_t id) const
{
    const auto e = entry(id);
    if (!e)
        return std::nullopt;
    RouteLoadResult r = loadRouteYaml(e->beforeYaml, "history change " + std::to_string(id) + " (before)");
    if (!r.ok()) {
        m_error = "the state before change " + std::to_string(id) + " no longer loads";
        for (const RouteIssue &i : r.issues) {
            if (i.severity == Severity::Error) {
                m_error += ": " + i.toString();
                break;
            }
        }
        return std::nullopt;
    }
    return std::move(r.set);
}

std::string caddyTargetKey(const std::string &adminUrl, const std::string &server)
{
    // Written as earlier versions wrote it (display form, no credentials, no trailing
    // slash), so their entries still match; secret query values are redacted too.
    const QUrl url(QString::fromStdString(adminUrl));
    const QString display = url.toDisplayString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
    return "caddy " + (url.hasQuery() ? redactUrl(QUrl(display)) : display).toStdString() + ' ' + server;
}

std::optional<CaddyTargetKey> parseCaddyTargetKey(const std::string &target)
{
    const QStringList parts = QString::fromStdString(target).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (parts.size() != 3 || parts[0] != QLatin1String("caddy"))
        return std::nullopt;
    return CaddyTargetKey {parts[1].toStdString(), parts[2].toStdString()};
}

bool isCaddyTargetKey(const std::string &target) { return target.rfind("caddy ", 0) == 0; }

std::string xdsTargetKey(const std::string &listenAddress) { return "xds " + listenAddress; }

}  // namespace meshscope::routing

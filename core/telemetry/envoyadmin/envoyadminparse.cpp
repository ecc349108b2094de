#include "telemetry/envoyadmin/envoyadminparse.h"

#include "net/redact.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>

namespace meshscope {

namespace {

QString jsonTypeName(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

// Parses the document; on a syntax error says where, in bytes, and what the body
// began with (an HTML help page, Envoy's plain-text /clusters, ...).
bool parseObject(
    const QByteArray &body, const QString &where, const char *expectation, QJsonObject *out, QString *error)
{
    QJsonParseError perr {};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &perr);
    if (perr.error != QJsonParseError::NoError) {
        *error = QStringLiteral("%1: not JSON (%2 at byte %3): %4")
                     .arg(where, perr.errorString())
                     .arg(perr.offset)
                     .arg(body.trimmed().isEmpty() ? QStringLiteral("empty body") : envoyAdminBodySnippet(body));
        return false;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("%1: expected %2 at byte 0, got %3")
                     .arg(where, QLatin1String(expectation),
                         doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a scalar"));
        return false;
    }
    *out = doc.object();
    return true;
}

// Walks proto JSON with a path for error messages ("cluster_statuses[1].name").
class Reader {
public:
    Reader(const QString &where, QString *error)
        : m_where(where)
        , m_error(error)
    {
    }

    bool fail(const QString &path, const QString &what)
    {
        if (m_error)
            *m_error = QStringLiteral("%1: %2 %3").arg(m_where, path, what);
        return false;
    }

    // An optional array field: absent or null is empty (proto JSON omits empty lists).
    bool array(const QJsonObject &o, const char *key, const QString &path, QJsonArray *out)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            *out = {};
            return true;
        }
        if (!v.isArray())
            return fail(path, QStringLiteral("is %1, not an array").arg(jsonTypeName(v)));
        *out = v.toArray();
        return true;
    }

    bool object(const QJsonValue &v, const QString &path, QJsonObject *out)
    {
        if (v.isUndefined() || v.isNull()) {
            *out = {};
            return true;
        }
        if (!v.isObject())
            return fail(path, QStringLiteral("is %1, not an object").arg(jsonTypeName(v)));
        *out = v.toObject();
        return true;
    }

    bool string(const QJsonObject &o, const char *key, const QString &path, QString *out)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            out->clear();
            return true;
        }
        if (!v.isString())
            return fail(path, QStringLiteral("is %1, not a string").arg(jsonTypeName(v)));
        *out = v.toString();
        return true;
    }

    bool boolean(const QJsonObject &o, const char *key, const QString &path, bool *out)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull()) {
            *out = false;
            return true;
        }
        if (!v.isBool())
            return fail(path, QStringLiteral("is %1, not a boolean").arg(jsonTypeName(v)));
        *out = v.toBool();
        return true;
    }

    // Proto JSON writes 64-bit integers as strings ("42") and 32-bit ones as numbers;
    // both are accepted for either.
    bool unsignedValue(const QJsonValue &v, const QString &path, uint64_t *out)
    {
        if (v.isUndefined() || v.isNull()) {
            *out = 0;
            return true;
        }
        if (v.isString()) {
            bool ok = false;
            const qulonglong n = v.toString().toULongLong(&ok);
            if (!ok)
                return fail(path, QStringLiteral("is \"%1\", not an unsigned integer").arg(v.toString().left(40)));
            *out = n;
            return true;
        }
        if (v.isDouble()) {
            const double d = v.toDouble();
            if (!(d >= 0) || d != std::floor(d) || d > 1.8446744073709552e19)
                return fail(path, QStringLiteral("is %1, not an unsigned integer").arg(d));
            // Qt keeps integers that fit in 64 bits exactly; toInteger reads them back.
            const qint64 i = v.toInteger(-1);
            *out = i >= 0 ? uint64_t(i) : uint64_t(d);
            return true;
        }
        return fail(path, QStringLiteral("is %1, not an unsigned integer").arg(jsonTypeName(v)));
    }

    bool number(const QJsonValue &v, const QString &path, double *out)
    {
        if (v.isDouble()) {
            *out = v.toDouble();
            return true;
        }
        if (v.isString()) {
            bool ok = false;
            *out = v.toString().toDouble(&ok);
            if (ok)
                return true;
        }
        return fail(path, QStringLiteral("is %1, not a number").arg(jsonTypeName(v)));
    }

private:
    QString m_where;
    QString *m_error;
};

QString idx(const QString &path, const char *key, qsizetype i)
{
    return QStringLiteral("%1%2%3[%4]")
        .arg(path, path.isEmpty() ? QString() : QStringLiteral("."), QLatin1String(key))
        .arg(i);
}

QString sub(const QString &path, const char *key) { return path + QLatin1Char('.') + QLatin1String(key); }

// envoy.config.core.v3.Address: socket_address, pipe or envoy_internal_address.
bool readAddress(Reader &r, const QJsonValue &v, const QString &path, QString *out)
{
    QJsonObject a;
    if (!r.object(v, path, &a))
        return false;
    QJsonObject sock;
    if (!r.object(a.value(QLatin1String("socket_address")), sub(path, "socket_address"), &sock))
        return false;
    if (!sock.isEmpty()) {
        QString host;
        if (!r.string(sock, "address", sub(path, "socket_address.address"), &host))
            return false;
        uint64_t port = 0;
        const QJsonValue pv = sock.value(QLatin1String("port_value"));
        if (!r.unsignedValue(pv, sub(path, "socket_address.port_value"), &port))
            return false;
        if (host.contains(QLatin1Char(':')))
            host = QLatin1Char('[') + host + QLatin1Char(']');
        *out = pv.isUndefined() ? host : host + QLatin1Char(':') + QString::number(port);
        return true;
    }
    QJsonObject pipe;
    if (!r.object(a.value(QLatin1String("pipe")), sub(path, "pipe"), &pipe))
        return false;
    if (!pipe.isEmpty()) {
        *out = QStringLiteral("unix:") + pipe.value(QLatin1String("path")).toString();
        return true;
    }
    QJsonObject internal;
    if (!r.object(a.value(QLatin1String("envoy_internal_address")), sub(path, "envoy_internal_address"), &internal))
        return false;
    if (!internal.isEmpty()) {
        *out = QStringLiteral("internal:") + internal.value(QLatin1String("server_listener_name")).toString();
        return true;
    }
    out->clear();
    return true;
}

QString edsStatusName(const QJsonValue &v)
{
    // Enums are written as names; a number is accepted for writers that do not.
    static const char *const kNames[] = {"", "HEALTHY", "UNHEALTHY", "DRAINING", "TIMEOUT", "DEGRADED"};
    if (v.isDouble()) {
        const int i = v.toInt(-1);
        return i >= 0 && i < int(std::size(kNames)) ? QLatin1String(kNames[i]) : QString::number(i);
    }
    const QString s = v.toString();
    return s == QLatin1String("UNKNOWN") ? QString() : s;
}

bool readHost(Reader &r, const QJsonValue &v, const QString &path, EnvoyHostStatus *h)
{
    QJsonObject o;
    if (!r.object(v, path, &o))
        return false;
    if (!readAddress(r, o.value(QLatin1String("address")), sub(path, "address"), &h->address))
        return false;
    if (!r.string(o, "hostname", sub(path, "hostname"), &h->hostname))
        return false;
    QJsonArray stats;
    if (!r.array(o, "stats", sub(path, "stats"), &stats))
        return false;
    for (qsizetype i = 0; i < stats.size(); ++i) {
        const QString sp = idx(path, "stats", i);
        QJsonObject s;
        if (!r.object(stats[i], sp, &s))
            return false;
        QString name;
        if (!r.string(s, "name", sub(sp, "name"), &name))
            return false;
        if (name.isEmpty())
            return r.fail(sp, QStringLiteral("has no name"));
        uint64_t value = 0;
        if (!r.unsignedValue(s.value(QLatin1String("value")), sub(sp, "value"), &value))
            return false;
        h->stats[name.toStdString()] = value;
    }
    QJsonObject hs;
    if (!r.object(o.value(QLatin1String("health_status")), sub(path, "health_status"), &hs))
        return false;
    const QString hp = sub(path, "health_status");
    if (!r.boolean(hs, "failed_active_health_check", sub(hp, "failed_active_health_check"), &h->failedActiveHealthCheck)
        || !r.boolean(hs, "failed_outlier_check", sub(hp, "failed_outlier_check"), &h->failedOutlierCheck)
        || !r.boolean(
            hs, "failed_active_degraded_check", sub(hp, "failed_active_degraded_check"), &h->failedActiveDegradedCheck)
        || !r.boolean(hs, "pending_dynamic_removal", sub(hp, "pending_dynamic_removal"), &h->pendingDynamicRemoval)
        || !r.boolean(hs, "pending_active_hc", sub(hp, "pending_active_hc"), &h->pendingActiveHc)
        || !r.boolean(hs, "excluded_via_immediate_hc_fail", sub(hp, "excluded_via_immediate_hc_fail"),
            &h->excludedViaImmediateHcFail)
        || !r.boolean(hs, "active_hc_timeout", sub(hp, "active_hc_timeout"), &h->activeHcTimeout))
        return false;
    const QJsonValue eds = hs.value(QLatin1String("eds_health_status"));
    if (!eds.isUndefined() && !eds.isNull() && !eds.isString() && !eds.isDouble())
        return r.fail(
            sub(hp, "eds_health_status"), QStringLiteral("is %1, not a HealthStatus name").arg(jsonTypeName(eds)));
    h->edsHealthStatus = edsStatusName(eds);

    QJsonObject sr;
    if (!r.object(o.value(QLatin1String("success_rate")), sub(path, "success_rate"), &sr))
        return false;
    if (sr.contains(QLatin1String("value"))) {
        double rate = 0;
        if (!r.number(sr.value(QLatin1String("value")), sub(path, "success_rate.value"), &rate))
            return false;
        if (rate >= 0)  // Envoy reports -1 when the interval had too few requests
            h->successRate = rate;
    } else if (o.contains(QLatin1String("success_rate"))) {
        h->successRate = 0.0;  // a Percent with its default value omitted
    }
    uint64_t n = 0;
    if (!r.unsignedValue(o.value(QLatin1String("weight")), sub(path, "weight"), &n))
        return false;
    h->weight = uint32_t(std::min<uint64_t>(n, UINT32_MAX));
    if (!r.unsignedValue(o.value(QLatin1String("priority")), sub(path, "priority"), &n))
        return false;
    h->priority = uint32_t(std::min<uint64_t>(n, UINT32_MAX));
    QJsonObject loc;
    if (!r.object(o.value(QLatin1String("locality")), sub(path, "locality"), &loc))
        return false;
    QStringList parts;
    for (const char *k : {"region", "zone", "sub_zone"}) {
        const QString p = loc.value(QLatin1String(k)).toString();
        if (!p.isEmpty())
            parts << p;
    }
    h->locality = parts.join(QLatin1Char('/'));
    return true;
}

}  // namespace

QString envoyAdminBodySnippet(const QByteArray &body)
{
    return sanitizeRemoteText(QString::fromUtf8(body).simplified(), 120);
}

bool parseEnvoyClusters(const QByteArray &body, const QString &where, EnvoyClusters *out, QString *error)
{
    QJsonObject root;
    if (!parseObject(body, where, "an object with cluster_statuses", &root, error))
        return false;
    Reader r(where, error);
    // Proto JSON omits an empty list, so a proxy without clusters answers {}. Any
    // other object without cluster_statuses is some other API.
    if (!root.isEmpty() && !root.contains(QLatin1String("cluster_statuses"))) {
        *error = QStringLiteral("%1: expected an object with cluster_statuses, got one with %2")
                     .arg(where, QStringList(root.keys().mid(0, 4)).join(QStringLiteral(", ")));
        return false;
    }
    QJsonArray clusters;
    if (!r.array(root, "cluster_statuses", QStringLiteral("cluster_statuses"), &clusters))
        return false;
    EnvoyClusters result;
    result.clusters.reserve(size_t(clusters.size()));
    for (qsizetype i = 0; i < clusters.size(); ++i) {
        const QString cp = idx(QString(), "cluster_statuses", i);
        QJsonObject c;
        if (!r.object(clusters[i], cp, &c))
            return false;
        EnvoyClusterStatus cs;
        if (!r.string(c, "name", sub(cp, "name"), &cs.name)
            || !r.string(c, "observability_name", sub(cp, "observability_name"), &cs.observabilityName)
            || !r.boolean(c, "added_via_api", sub(cp, "added_via_api"), &cs.addedViaApi))
            return false;
        if (cs.name.isEmpty())
            return r.fail(cp, QStringLiteral("has no name"));
        QJsonObject threshold;
        if (!r.object(c.value(QLatin1String("success_rate_ejection_threshold")),
                sub(cp, "success_rate_ejection_threshold"), &threshold))
            return false;
        if (threshold.contains(QLatin1String("value"))) {
            double t = 0;
            if (!r.number(
                    threshold.value(QLatin1String("value")), sub(cp, "success_rate_ejection_threshold.value"), &t))
                return false;
            if (t >= 0)
                cs.successRateEjectionThreshold = t;
        }
        QJsonArray hosts;
        if (!r.array(c, "host_statuses", sub(cp, "host_statuses"), &hosts))
            return false;
        cs.hosts.reserve(size_t(hosts.size()));
        for (qsizetype j = 0; j < hosts.size(); ++j) {
            EnvoyHostStatus h;
            if (!readHost(r, hosts[j], idx(cp, "host_statuses", j), &h))
                return false;
            cs.hosts.push_back(std::move(h));
        }
        result.clusters.push_back(std::move(cs));
    }
    *out = std::move(result);
    return true;
}

bool parseEnvoyStats(const QByteArray &body, const QString &where, EnvoyStats *out, QString *error)
{
    QJsonObject root;
    if (!parseObject(body, where, "an object with a stats array", &root, error))
        return false;
    Reader r(where, error);
    const QJsonValue statsValue = root.value(QLatin1String("stats"));
    if (!statsValue.isArray()) {
        *error = statsValue.isUndefined()
            ? QStringLiteral("%1: expected an object with a stats array, got one with %2")
                  .arg(where, QStringList(root.keys().mid(0, 4)).join(QStringLiteral(", ")))
            : QStringLiteral("%1: stats is %2, not an array").arg(where, jsonTypeName(statsValue));
        return false;
    }
    const QJsonArray stats = statsValue.toArray();
    EnvoyStats result;
    for (qsizetype i = 0; i < stats.size(); ++i) {
        const QString sp = idx(QString(), "stats", i);
        QJsonObject s;
        if (!r.object(stats[i], sp, &s))
            return false;
        if (s.contains(QLatin1String("histograms"))) {
            const QJsonValue hv = s.value(QLatin1String("histograms"));
            // histogram_buckets=... modes write an array of bucket lists: no quantiles there.
            if (hv.isArray())
                continue;
            QJsonObject h;
            if (!r.object(hv, sub(sp, "histograms"), &h))
                return false;
            QJsonArray supported, computed;
            if (!r.array(h, "supported_quantiles", sub(sp, "histograms.supported_quantiles"), &supported)
                || !r.array(h, "computed_quantiles", sub(sp, "histograms.computed_quantiles"), &computed))
                return false;
            result.supportedQuantiles.clear();
            for (qsizetype q = 0; q < supported.size(); ++q) {
                double v = 0;
                if (!r.number(supported[q], idx(sub(sp, "histograms"), "supported_quantiles", q), &v))
                    return false;
                result.supportedQuantiles.push_back(v);
            }
            for (qsizetype k = 0; k < computed.size(); ++k) {
                const QString hp = idx(sub(sp, "histograms"), "computed_quantiles", k);
                QJsonObject cq;
                if (!r.object(computed[k], hp, &cq))
                    return false;
                QString name;
                if (!r.string(cq, "name", sub(hp, "name"), &name))
                    return false;
                QJsonArray values;
                if (!r.array(cq, "values", sub(hp, "values"), &values))
                    return false;
                if (values.size() != supported.size())
                    return r.fail(sub(hp, "values"),
                        QStringLiteral("has %1 entries for %2 supported quantiles")
                            .arg(values.size())
                            .arg(supported.size()));
                EnvoyHistogram hist;
                for (qsizetype q = 0; q < values.size(); ++q) {
                    const QString vp = idx(hp, "values", q);
                    QJsonObject pair;
                    if (!r.object(values[q], vp, &pair))
                        return false;
                    for (const char *key : {"interval", "cumulative"}) {
                        const QJsonValue v = pair.value(QLatin1String(key));
                        std::optional<double> x;
                        if (!v.isNull() && !v.isUndefined()) {
                            double d = 0;
                            if (!r.number(v, sub(vp, key), &d))
                                return false;
                            x = d;
                        }
                        (key[0] == 'i' ? hist.interval : hist.cumulative).push_back(x);
                    }
                }
                result.histograms[name.toStdString()] = std::move(hist);
            }
            continue;
        }
        QString name;
        if (!r.string(s, "name", sub(sp, "name"), &name))
            return false;
        if (name.isEmpty())
            return r.fail(sp, QStringLiteral("has neither a name nor histograms"));
        const QJsonValue v = s.value(QLatin1String("value"));
        if (v.isString())
            continue;  // a text readout, not a number
        uint64_t value = 0;
        if (!r.unsignedValue(v, sub(sp, "value"), &value))
            return false;
        result.values[name.toStdString()] = value;
    }
    *out = std::move(result);
    return true;
}

bool parseEnvoyServerInfo(const QByteArray &body, const QString &where, EnvoyServerInfo *out, QString *error)
{
    QJsonObject root;
    if (!parseObject(body, where, "an object with node and state", &root, error))
        return false;
    Reader r(where, error);
    EnvoyServerInfo info;
    QJsonObject node, options;
    if (!r.string(root, "version", QStringLiteral("version"), &info.version)
        || !r.string(root, "state", QStringLiteral("state"), &info.state)
        || !r.object(root.value(QLatin1String("node")), QStringLiteral("node"), &node)
        || !r.object(
            root.value(QLatin1String("command_line_options")), QStringLiteral("command_line_options"), &options)
        || !r.string(node, "id", QStringLiteral("node.id"), &info.nodeId)
        || !r.string(node, "cluster", QStringLiteral("node.cluster"), &info.nodeCluster))
        return false;
    if (info.nodeId.isEmpty())
        info.nodeId = options.value(QLatin1String("service_node")).toString();
    if (info.nodeCluster.isEmpty())
        info.nodeCluster = options.value(QLatin1String("service_cluster")).toString();
    // google.protobuf.Duration: "12s", "12.500s".
    const QString uptime = root.value(QLatin1String("uptime_current_epoch")).toString();
    if (uptime.endsWith(QLatin1Char('s'))) {
        bool ok = false;
        const double s = QStringView(uptime).chopped(1).toDouble(&ok);
        if (ok && s >= 0)
            info.uptimeCurrentEpochSeconds = s;
    }
    if (info.version.isEmpty() && info.state.isEmpty() && node.isEmpty()) {
        *error = QStringLiteral("%1: expected an object with node and state, got one with %2")
                     .arg(where, QStringList(root.keys().mid(0, 4)).join(QStringLiteral(", ")));
        return false;
    }
    *out = std::move(info);
    return true;
}

}  // namespace meshscope

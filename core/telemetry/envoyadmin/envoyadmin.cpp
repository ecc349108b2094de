#include "telemetry/envoyadmin/envoyadmin.h"

#include "net/httpexchange.h"
#include "telemetry/prometheus/meshmetrics.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <unordered_map>

namespace meshscope {

namespace {

QString snippet(const QByteArray &body)
{
    QString s = QString::fromUtf8(body.left(120)).simplified();
    if (body.size() > 120)
        s += QStringLiteral("...");
    return s;
}

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
bool parseObject(const QByteArray &body, const QString &where, const char *expectation, QJsonObject *out,
                 QString *error)
{
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &perr);
    if (perr.error != QJsonParseError::NoError) {
        *error = QStringLiteral("%1: not JSON (%2 at byte %3): %4")
                     .arg(where, perr.errorString())
                     .arg(perr.offset)
                     .arg(body.trimmed().isEmpty() ? QStringLiteral("empty body") : snippet(body));
        return false;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("%1: expected %2 at byte 0, got %3")
                     .arg(where, QLatin1String(expectation), doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a scalar"));
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
    return QStringLiteral("%1%2%3[%4]").arg(path, path.isEmpty() ? QString() : QStringLiteral("."), QLatin1String(key)).arg(i);
}

QString sub(const QString &path, const char *key)
{
    return path + QLatin1Char('.') + QLatin1String(key);
}

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
        || !r.boolean(hs, "failed_active_degraded_check", sub(hp, "failed_active_degraded_check"), &h->failedActiveDegradedCheck)
        || !r.boolean(hs, "pending_dynamic_removal", sub(hp, "pending_dynamic_removal"), &h->pendingDynamicRemoval)
        || !r.boolean(hs, "pending_active_hc", sub(hp, "pending_active_hc"), &h->pendingActiveHc)
        || !r.boolean(hs, "excluded_via_immediate_hc_fail", sub(hp, "excluded_via_immediate_hc_fail"), &h->excludedViaImmediateHcFail)
        || !r.boolean(hs, "active_hc_timeout", sub(hp, "active_hc_timeout"), &h->activeHcTimeout))
        return false;
    const QJsonValue eds = hs.value(QLatin1String("eds_health_status"));
    if (!eds.isUndefined() && !eds.isNull() && !eds.isString() && !eds.isDouble())
        return r.fail(sub(hp, "eds_health_status"), QStringLiteral("is %1, not a HealthStatus name").arg(jsonTypeName(eds)));
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

bool isStatusCodeSuffix(const std::string &s, size_t from, char klass)
{
    return s.size() == from + 3 && s[from] == klass && std::isdigit(static_cast<unsigned char>(s[from + 1]))
        && std::isdigit(static_cast<unsigned char>(s[from + 2]));
}

}  // namespace

// --- parsed types ------------------------------------------------------------------

uint64_t EnvoyHostStatus::stat(const char *name) const
{
    auto it = stats.find(name);
    return it == stats.end() ? 0 : it->second;
}

std::optional<uint64_t> EnvoyStats::value(const std::string &name) const
{
    auto it = values.find(name);
    if (it == values.end())
        return std::nullopt;
    return it->second;
}

std::optional<double> EnvoyStats::quantile(const std::string &name, double q) const
{
    auto it = histograms.find(name);
    if (it == histograms.end())
        return std::nullopt;
    for (size_t i = 0; i < supportedQuantiles.size(); ++i) {
        if (std::abs(supportedQuantiles[i] - q) > 1e-9)
            continue;
        if (i < it->second.interval.size() && it->second.interval[i])
            return it->second.interval[i];
        if (i < it->second.cumulative.size() && it->second.cumulative[i])
            return it->second.cumulative[i];
        return std::nullopt;
    }
    return std::nullopt;
}

bool EnvoyAdminReply::transient() const
{
    switch (kind) {
    case Error::Network:
    case Error::Timeout:
        return true;
    case Error::Http:
        // 503 is what Envoy's admin (or a proxy in front of it) says while starting or draining.
        return httpStatus >= 500 || httpStatus == 429;
    default:
        return false;
    }
}

// --- parsers -----------------------------------------------------------------------

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
        if (!r.string(c, "name", sub(cp, "name"), &cs.name) || !r.string(c, "observability_name", sub(cp, "observability_name"), &cs.observabilityName)
            || !r.boolean(c, "added_via_api", sub(cp, "added_via_api"), &cs.addedViaApi))
            return false;
        if (cs.name.isEmpty())
            return r.fail(cp, QStringLiteral("has no name"));
        QJsonObject threshold;
        if (!r.object(c.value(QLatin1String("success_rate_ejection_threshold")), sub(cp, "success_rate_ejection_threshold"), &threshold))
            return false;
        if (threshold.contains(QLatin1String("value"))) {
            double t = 0;
            if (!r.number(threshold.value(QLatin1String("value")), sub(cp, "success_rate_ejection_threshold.value"), &t))
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
                    return r.fail(sub(hp, "values"), QStringLiteral("has %1 entries for %2 supported quantiles").arg(values.size()).arg(supported.size()));
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
        || !r.object(root.value(QLatin1String("command_line_options")), QStringLiteral("command_line_options"), &options)
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

// --- cluster names -----------------------------------------------------------------

EnvoyUpstream classifyEnvoyCluster(const QString &name)
{
    EnvoyUpstream u;
    static const char *const kInternal[] = {"xds-grpc", "xds_cluster", "sds-grpc", "agent", "prometheus_stats",
                                            "zipkin", "envoy_admin", "admin", "otel_collector"};
    for (const char *n : kInternal) {
        if (name == QLatin1String(n)) {
            u.role = EnvoyUpstream::Role::Internal;
            return u;
        }
    }
    if (name == QLatin1String("BlackHoleCluster")) {
        u.role = EnvoyUpstream::Role::Blackhole;
        return u;
    }
    if (name == QLatin1String("PassthroughCluster")) {
        u.role = EnvoyUpstream::Role::Passthrough;
        u.node.kind = NodeKind::ExternalService;
        u.node.name = "PassthroughCluster";
        return u;
    }
    if (name.startsWith(QLatin1String("InboundPassthroughCluster")) || name.startsWith(QLatin1String("inbound|"))
        || name.startsWith(QLatin1String("inbound-vip|")) || name.startsWith(QLatin1String("inbound_"))) {
        u.role = EnvoyUpstream::Role::Inbound;
        return u;
    }
    // Istio: direction|port|subset|host.
    const QStringList parts = name.split(QLatin1Char('|'));
    if (parts.size() == 4 && parts[0] == QLatin1String("outbound") && !parts[3].isEmpty()) {
        const QString &host = parts[3];
        const QStringList labels = host.split(QLatin1Char('.'));
        const qsizetype svc = labels.indexOf(QStringLiteral("svc"));
        if (svc == 2 && !labels[0].isEmpty() && !labels[1].isEmpty()) {
            u.node.kind = NodeKind::Service;
            u.node.name = labels[0].toStdString();
            u.node.ns = labels[1].toStdString();
            u.node.version = parts[2].toStdString();
        } else if (labels.size() == 1) {
            u.node.kind = NodeKind::Service;
            u.node.name = host.toStdString();
            u.node.version = parts[2].toStdString();
        } else {
            // A ServiceEntry host: a destination outside the mesh.
            u.node.kind = NodeKind::ExternalService;
            u.node.name = host.toStdString();
        }
        return u;
    }
    u.node.kind = NodeKind::Service;
    u.node.name = name.toStdString();
    return u;
}

const char *envoyUpstreamRoleName(EnvoyUpstream::Role role)
{
    switch (role) {
    case EnvoyUpstream::Role::Upstream: return "upstream";
    case EnvoyUpstream::Role::Passthrough: return "passthrough";
    case EnvoyUpstream::Role::Inbound: return "inbound";
    case EnvoyUpstream::Role::Internal: return "internal";
    case EnvoyUpstream::Role::Blackhole: return "blackhole";
    }
    return "upstream";
}

const char *envoyHostStateName(EnvoyHostState s)
{
    switch (s) {
    case EnvoyHostState::Healthy: return "healthy";
    case EnvoyHostState::Degraded: return "degraded";
    case EnvoyHostState::Unhealthy: return "unhealthy";
    }
    return "healthy";
}

NodeRef envoyProxyNode(const EnvoyServerInfo *server, const QString &configuredName, const QString &fallbackName)
{
    NodeRef ref;
    ref.kind = NodeKind::Service;
    ref.gateway = true;
    if (!configuredName.isEmpty()) {
        const qsizetype slash = configuredName.indexOf(QLatin1Char('/'));
        if (slash > 0) {
            ref.ns = configuredName.left(slash).toStdString();
            ref.name = configuredName.mid(slash + 1).toStdString();
        } else {
            ref.name = configuredName.toStdString();
        }
        return ref;
    }
    if (server) {
        // Istio: "router~10.1.2.3~istio-ingressgateway-5d8f-x.istio-system~istio-system.svc.cluster.local"
        // with node.cluster "istio-ingressgateway.istio-system".
        const QStringList id = server->nodeId.split(QLatin1Char('~'));
        if (id.size() == 4 && (id[0] == QLatin1String("router") || id[0] == QLatin1String("sidecar"))) {
            const QString ns = id[3].section(QLatin1Char('.'), 0, 0);
            QString name = server->nodeCluster;
            const QString suffix = QLatin1Char('.') + ns;
            if (name.isEmpty())
                name = id[2];
            if (!ns.isEmpty() && name.endsWith(suffix))
                name.chop(suffix.size());
            ref.ns = ns.toStdString();
            ref.name = name.toStdString();
            // A sidecar's outbound clusters are its service's calls: east-west, not a gateway's.
            ref.gateway = id[0] == QLatin1String("router");
            return ref;
        }
        if (!server->nodeCluster.isEmpty()) {
            ref.name = server->nodeCluster.toStdString();
            return ref;
        }
        if (!server->nodeId.isEmpty()) {
            ref.name = server->nodeId.toStdString();
            return ref;
        }
    }
    ref.name = fallbackName.toStdString();
    return ref;
}

// --- samples -> view ---------------------------------------------------------------

namespace {

// The counters of one cluster in one sample, from /stats when it has them, else
// summed from the hosts in /clusters (Istio keeps most cluster stats out of /stats
// unless told otherwise; the per-host ones are always there).
struct ClusterCounters {
    bool fromHosts = false;
    uint64_t rq = 0, e5xx = 0, e4xx = 0, cx = 0, bytes = 0;
};

uint64_t sumCodes(const EnvoyStats &stats, const std::string &prefix, char klass)
{
    // upstream_rq_5xx when Envoy keeps it, else the per-code counters (never both:
    // Envoy increments them together).
    if (auto v = stats.value(prefix + "upstream_rq_" + klass + "xx"))
        return *v;
    const std::string codes = prefix + "upstream_rq_";
    uint64_t sum = 0;
    for (auto it = stats.values.lower_bound(codes); it != stats.values.end() && it->first.compare(0, codes.size(), codes) == 0;
         ++it) {
        if (isStatusCodeSuffix(it->first, codes.size(), klass))
            sum += it->second;
    }
    return sum;
}

bool hasClusterCounters(const EnvoyStats &stats, const std::string &prefix)
{
    return stats.value(prefix + "upstream_rq_total") || stats.value(prefix + "upstream_cx_total");
}

ClusterCounters countersOf(const EnvoyStats &stats, const EnvoyClusterStatus &c, bool fromHosts)
{
    ClusterCounters k;
    k.fromHosts = fromHosts;
    if (fromHosts) {
        for (const EnvoyHostStatus &h : c.hosts) {
            k.rq += h.stat("rq_total");
            k.e5xx += h.stat("rq_error");
            k.cx += h.stat("cx_total");
        }
        return k;
    }
    const std::string prefix = "cluster." + c.statName().toStdString() + ".";
    k.rq = stats.value(prefix + "upstream_rq_total").value_or(0);
    k.e5xx = sumCodes(stats, prefix, '5');
    k.e4xx = sumCodes(stats, prefix, '4');
    k.cx = stats.value(prefix + "upstream_cx_total").value_or(0);
    k.bytes = stats.value(prefix + "upstream_cx_rx_bytes_total").value_or(0)
        + stats.value(prefix + "upstream_cx_tx_bytes_total").value_or(0);
    return k;
}

uint64_t delta(uint64_t cur, uint64_t prev, bool reset)
{
    return reset || cur < prev ? cur : cur - prev;
}

// Host counters are compared host by host: endpoints come and go between polls.
ClusterCounters hostDeltas(const EnvoyClusterStatus &cur, const EnvoyClusterStatus *prev, bool reset)
{
    ClusterCounters d;
    d.fromHosts = true;
    std::unordered_map<QString, const EnvoyHostStatus *> before;
    if (prev) {
        for (const EnvoyHostStatus &h : prev->hosts)
            before.emplace(h.address, &h);
    }
    for (const EnvoyHostStatus &h : cur.hosts) {
        auto it = before.find(h.address);
        const EnvoyHostStatus *p = it == before.end() ? nullptr : it->second;
        const bool r = reset || !p || h.stat("rq_total") < p->stat("rq_total") || h.stat("cx_total") < p->stat("cx_total");
        d.rq += delta(h.stat("rq_total"), p ? p->stat("rq_total") : 0, r);
        d.e5xx += delta(h.stat("rq_error"), p ? p->stat("rq_error") : 0, r);
        d.cx += delta(h.stat("cx_total"), p ? p->stat("cx_total") : 0, r);
    }
    return d;
}

struct EdgeAcc {
    NodeRef node;
    bool http = false;
    uint64_t rq = 0, e5xx = 0, e4xx = 0, cx = 0, bytes = 0;
    double p50 = 0, p95 = 0, p99 = 0;
};

EnvoyHostHealth hostHealth(const EnvoyHostStatus &h)
{
    EnvoyHostHealth out;
    out.address = h.address;
    out.hostname = h.hostname;
    out.locality = h.locality;
    out.edsHealthStatus = h.edsHealthStatus;
    out.outlierEjected = h.failedOutlierCheck;
    out.failedActiveHc = h.failedActiveHealthCheck;
    const std::pair<bool, const char *> flags[] = {
        {h.failedActiveHealthCheck, "failed_active_health_check"},
        {h.failedOutlierCheck, "failed_outlier_check"},
        {h.failedActiveDegradedCheck, "failed_active_degraded_check"},
        {h.pendingDynamicRemoval, "pending_dynamic_removal"},
        {h.pendingActiveHc, "pending_active_hc"},
        {h.excludedViaImmediateHcFail, "excluded_via_immediate_hc_fail"},
        {h.activeHcTimeout, "active_hc_timeout"},
    };
    for (const auto &[set, name] : flags) {
        if (set)
            out.flags << QLatin1String(name);
    }
    const QString eds = h.edsHealthStatus;
    if (!eds.isEmpty() && eds != QLatin1String("HEALTHY"))
        out.flags << QStringLiteral("eds_") + eds.toLower();
    // Envoy's own coarse health: any failure flag (or an EDS status other than healthy
    // or degraded) takes the host out of load balancing; a degraded one is used only
    // when too few healthy hosts remain. Pending flags alone change neither.
    const bool edsBad = eds == QLatin1String("UNHEALTHY") || eds == QLatin1String("DRAINING") || eds == QLatin1String("TIMEOUT");
    if (h.failedActiveHealthCheck || h.failedOutlierCheck || h.excludedViaImmediateHcFail || h.activeHcTimeout || edsBad)
        out.state = EnvoyHostState::Unhealthy;
    else if (h.failedActiveDegradedCheck || eds == QLatin1String("DEGRADED"))
        out.state = EnvoyHostState::Degraded;
    out.rqTotal = h.stat("rq_total");
    out.rqSuccess = h.stat("rq_success");
    out.rqError = h.stat("rq_error");
    out.rqTimeout = h.stat("rq_timeout");
    out.rqActive = h.stat("rq_active");
    out.cxActive = h.stat("cx_active");
    out.cxConnectFail = h.stat("cx_connect_fail");
    out.successRate = h.successRate;
    out.weight = h.weight;
    out.priority = h.priority;
    return out;
}

}  // namespace

EnvoyAdminView buildEnvoyAdminView(const EnvoyAdminSample &current, const EnvoyAdminSample *previous,
                                   const QString &configuredName, const QString &fallbackName)
{
    EnvoyAdminView view;
    view.proxy = envoyProxyNode(current.server ? &*current.server : nullptr, configuredName, fallbackName);
    view.proxyId = MeshMetrics::nodeId(view.proxy);
    if (previous)
        view.intervalSeconds = std::max(0.0, double(current.monotonicMs - previous->monotonicMs) / 1000.0);
    const bool haveRates = previous && view.intervalSeconds > 0;
    // A proxy whose uptime went down restarted: every counter starts again from zero.
    const bool restarted = previous && current.server && previous->server && current.server->uptimeCurrentEpochSeconds >= 0
        && previous->server->uptimeCurrentEpochSeconds >= 0
        && current.server->uptimeCurrentEpochSeconds < previous->server->uptimeCurrentEpochSeconds;
    view.counterReset = restarted;

    std::unordered_map<QString, const EnvoyClusterStatus *> before;
    if (previous) {
        for (const EnvoyClusterStatus &c : previous->clusters.clusters)
            before.emplace(c.name, &c);
    }
    std::vector<EdgeAcc> accs;
    std::unordered_map<std::string, size_t> accIndex;

    for (const EnvoyClusterStatus &c : current.clusters.clusters) {
        const EnvoyUpstream up = classifyEnvoyCluster(c.name);
        const std::string prefix = "cluster." + c.statName().toStdString() + ".";
        const bool fromHosts = !hasClusterCounters(current.stats, prefix);
        const ClusterCounters now = countersOf(current.stats, c, fromHosts);

        EnvoyClusterHealth health;
        health.cluster = c.name;
        health.role = QLatin1String(envoyUpstreamRoleName(up.role));
        health.addedViaApi = c.addedViaApi;
        health.countersFromHosts = fromHosts;
        health.rqTotal = now.rq;
        uint64_t hostCx = 0, hostRq = 0;
        for (const EnvoyHostStatus &h : c.hosts) {
            EnvoyHostHealth hh = hostHealth(h);
            health.hostsTotal++;
            health.healthy += hh.state == EnvoyHostState::Healthy;
            health.degraded += hh.state == EnvoyHostState::Degraded;
            health.unhealthy += hh.state == EnvoyHostState::Unhealthy;
            health.outlierEjected += hh.outlierEjected;
            health.failedActiveHc += hh.failedActiveHc;
            hostCx += hh.cxActive;
            hostRq += hh.rqActive;
            health.hosts.push_back(std::move(hh));
        }
        health.cxActive = current.stats.value(prefix + "upstream_cx_active").value_or(hostCx);
        health.rqActive = current.stats.value(prefix + "upstream_rq_active").value_or(hostRq);

        const bool onGraph = (up.role == EnvoyUpstream::Role::Upstream || up.role == EnvoyUpstream::Role::Passthrough)
            && (now.rq > 0 || now.cx > 0);
        if (up.role == EnvoyUpstream::Role::Upstream || up.role == EnvoyUpstream::Role::Passthrough)
            health.nodeId = MeshMetrics::nodeId(up.node);
        health.onGraph = onGraph;
        view.clusters.push_back(std::move(health));
        if (!onGraph)
            continue;

        ClusterCounters d;
        if (haveRates) {
            auto it = before.find(c.name);
            const EnvoyClusterStatus *prevCluster = it == before.end() ? nullptr : it->second;
            if (fromHosts) {
                d = hostDeltas(c, prevCluster, restarted);
            } else {
                // A cluster missing from the previous sample was added since: its counters started at zero.
                const ClusterCounters then = prevCluster ? countersOf(previous->stats, *prevCluster, false) : ClusterCounters{};
                const bool reset = restarted || now.rq < then.rq || now.cx < then.cx;
                if (reset && prevCluster)
                    view.counterReset = true;
                d.rq = delta(now.rq, then.rq, reset);
                d.e5xx = delta(now.e5xx, then.e5xx, reset);
                d.e4xx = delta(now.e4xx, then.e4xx, reset);
                d.cx = delta(now.cx, then.cx, reset);
                d.bytes = delta(now.bytes, then.bytes, reset);
            }
        }
        const std::string nodeId = MeshMetrics::nodeId(up.node);
        auto [slot, fresh] = accIndex.emplace(nodeId, accs.size());
        if (fresh) {
            accs.emplace_back();
            accs.back().node = up.node;
        }
        EdgeAcc &a = accs[slot->second];
        a.http = a.http || now.rq > 0;
        a.rq += d.rq;
        a.e5xx += d.e5xx;
        a.e4xx += d.e4xx;
        a.cx += d.cx;
        a.bytes += d.bytes;
        const std::string timeName = prefix + "upstream_rq_time";
        a.p50 = std::max(a.p50, current.stats.quantile(timeName, 50).value_or(0));
        a.p95 = std::max(a.p95, current.stats.quantile(timeName, 95).value_or(0));
        a.p99 = std::max(a.p99, current.stats.quantile(timeName, 99).value_or(0));
    }

    view.edges.reserve(accs.size());
    for (const EdgeAcc &a : accs) {
        PulledEdge e;
        e.source = view.proxy;
        e.target = a.node;
        e.protocol = a.http ? Protocol::Http : Protocol::Tcp;
        TrafficStats &s = e.stats;
        const uint64_t count = a.http ? a.rq : a.cx;
        s.requests = count;
        if (haveRates)
            s.rps = double(count) / view.intervalSeconds;
        if (a.http && a.rq > 0) {
            s.rate5xx = std::clamp(double(a.e5xx) / double(a.rq), 0.0, 1.0);
            s.rate4xx = std::clamp(double(a.e4xx) / double(a.rq), 0.0, 1.0);
            s.errorRate = s.rate5xx;
        }
        s.p50Ms = a.p50;
        s.p95Ms = a.p95;
        s.p99Ms = a.p99;
        s.bytes = a.bytes;
        view.edges.push_back(std::move(e));
    }
    return view;
}

QJsonArray envoyUpstreamHealthToJson(const std::vector<EnvoyClusterHealth> &clusters)
{
    QJsonArray out;
    for (const EnvoyClusterHealth &c : clusters) {
        QJsonArray hosts;
        for (const EnvoyHostHealth &h : c.hosts) {
            hosts.append(QJsonObject{
                {QStringLiteral("address"), h.address},
                {QStringLiteral("hostname"), h.hostname},
                {QStringLiteral("locality"), h.locality},
                {QStringLiteral("state"), QLatin1String(envoyHostStateName(h.state))},
                {QStringLiteral("flags"), QJsonArray::fromStringList(h.flags)},
                {QStringLiteral("eds_health_status"), h.edsHealthStatus.isEmpty() ? QStringLiteral("UNKNOWN") : h.edsHealthStatus},
                {QStringLiteral("outlier_ejected"), h.outlierEjected},
                {QStringLiteral("failed_active_hc"), h.failedActiveHc},
                {QStringLiteral("rq_total"), double(h.rqTotal)},
                {QStringLiteral("rq_success"), double(h.rqSuccess)},
                {QStringLiteral("rq_error"), double(h.rqError)},
                {QStringLiteral("rq_timeout"), double(h.rqTimeout)},
                {QStringLiteral("rq_active"), double(h.rqActive)},
                {QStringLiteral("cx_active"), double(h.cxActive)},
                {QStringLiteral("cx_connect_fail"), double(h.cxConnectFail)},
                {QStringLiteral("success_rate"), h.successRate ? QJsonValue(*h.successRate) : QJsonValue()},
                {QStringLiteral("weight"), double(h.weight)},
                {QStringLiteral("priority"), double(h.priority)},
            });
        }
        out.append(QJsonObject{
            {QStringLiteral("cluster"), c.cluster},
            {QStringLiteral("role"), c.role},
            {QStringLiteral("node"), c.nodeId.empty() ? QJsonValue() : QJsonValue(QString::fromStdString(c.nodeId))},
            {QStringLiteral("on_graph"), c.onGraph},
            {QStringLiteral("added_via_api"), c.addedViaApi},
            {QStringLiteral("hosts_total"), c.hostsTotal},
            {QStringLiteral("healthy"), c.healthy},
            {QStringLiteral("degraded"), c.degraded},
            {QStringLiteral("unhealthy"), c.unhealthy},
            {QStringLiteral("outlier_ejected"), c.outlierEjected},
            {QStringLiteral("failed_active_hc"), c.failedActiveHc},
            {QStringLiteral("rq_total"), double(c.rqTotal)},
            {QStringLiteral("cx_active"), double(c.cxActive)},
            {QStringLiteral("rq_active"), double(c.rqActive)},
            {QStringLiteral("counters_from"), c.countersFromHosts ? QStringLiteral("hosts") : QStringLiteral("cluster_stats")},
            {QStringLiteral("hosts"), hosts},
        });
    }
    return out;
}

// --- client ------------------------------------------------------------------------

EnvoyAdminClient::EnvoyAdminClient(EnvoyAdminConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_http(new HttpExchange(this))
{
}

EnvoyAdminClient::~EnvoyAdminClient()
{
    abortAll();
}

QString EnvoyAdminClient::displayUrl() const
{
    return m_config.url.toDisplayString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
}

QString EnvoyAdminClient::clustersPath()
{
    return QStringLiteral("clusters?format=json");
}

QString EnvoyAdminClient::statsPath()
{
    // Only cluster stats (the listener and server ones are not needed), and only those
    // ever written: a gateway with hundreds of idle clusters answers in a fraction of
    // the size. The filter is RE2 on Envoy's side: ^cluster\.
    return QStringLiteral("stats?format=json&usedonly&filter=%5Ecluster%5C.");
}

QString EnvoyAdminClient::serverInfoPath()
{
    return QStringLiteral("server_info");
}

void EnvoyAdminClient::abortAll()
{
    m_http->abortAll();
}

int EnvoyAdminClient::inFlight() const
{
    return m_http->inFlight();
}

void EnvoyAdminClient::get(const QString &pathAndQuery, Callback done)
{
    const QString path = pathAndQuery.section(QLatin1Char('?'), 0, 0);
    const QString query = pathAndQuery.section(QLatin1Char('?'), 1);
    // Messages name the endpoint as an operator would type it, without the filter.
    const QString shown = QLatin1Char('/') + pathAndQuery.section(QLatin1Char('&'), 0, 0);
    EnvoyAdminReply early;
    early.where = QStringLiteral("%1 from %2").arg(shown, displayUrl());
    auto answerLater = [this, &done](EnvoyAdminReply r) {
        // Answered from the event loop like any other failure, never from inside the call.
        QTimer::singleShot(0, this, [done = std::move(done), r = std::move(r)] {
            if (done)
                done(r);
        });
    };

    QUrl url = m_config.url;
    if (!isHttpUrl(url)) {
        early.kind = EnvoyAdminReply::Error::Config;
        early.message = QStringLiteral("'%1' is not an Envoy admin URL (expected http://HOST:%2 or https://...)")
                            .arg(displayUrl())
                            .arg(kEnvoyAdminDefaultPort);
        answerLater(std::move(early));
        return;
    }
    url.setUserInfo(QString());
    QString base = url.path();
    if (!base.endsWith(QLatin1Char('/')))
        base += QLatin1Char('/');
    url.setPath(base + path);
    url.setQuery(query.isEmpty() ? QString() : query, QUrl::StrictMode);

    QNetworkRequest req(url);
    req.setRawHeader("Accept", "application/json");
    req.setRawHeader("User-Agent", "meshscope");
    QString tlsError;
    if (!prepareClientTls(&req, m_config.tls, &tlsError)) {
        early.kind = EnvoyAdminReply::Error::Config;
        early.message = QStringLiteral("TLS for Envoy admin at %1: %2").arg(displayUrl(), tlsError);
        answerLater(std::move(early));
        return;
    }

    QNetworkReply *reply = m_http->network()->get(req);
    if (url.scheme() == QLatin1String("https"))
        watchTlsErrors(reply, m_config.tls);
    m_http->track(reply, m_config.timeoutMs,
        [this, where = early.where, done = std::move(done)](
            QNetworkReply *r, bool timedOut) { finish(r, timedOut, where, done); });
}

void EnvoyAdminClient::finish(QNetworkReply *reply, bool timedOut, const QString &where, const Callback &done)
{
    EnvoyAdminReply r;
    r.where = where;
    r.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (timedOut) {
        r.kind = EnvoyAdminReply::Error::Timeout;
        r.message = QStringLiteral("Envoy admin at %1 did not answer within %2 ms").arg(displayUrl()).arg(m_config.timeoutMs);
    } else if (r.httpStatus == 0 && reply->error() != QNetworkReply::NoError) {
        const QString tls = describeTlsFailure(reply, m_config.tls);
        r.kind = EnvoyAdminReply::Error::Network;
        r.message = QStringLiteral("cannot reach Envoy admin at %1: %2")
                        .arg(displayUrl(), tls.isEmpty() ? reply->errorString() : tls);
    } else {
        r.body = reply->readAll();
        r.peerCertificate = fromQSslCertificate(reply->sslConfiguration().peerCertificate());
        if (r.httpStatus < 200 || r.httpStatus > 299) {
            r.kind = EnvoyAdminReply::Error::Http;
            r.message = QStringLiteral("HTTP %1 for %2").arg(r.httpStatus).arg(r.where);
            if (!r.body.trimmed().isEmpty())
                r.message += QStringLiteral(": ") + snippet(r.body);
        }
    }
    if (done)
        done(std::move(r));
}

void fetchEnvoyAdminSample(EnvoyAdminClient &client, std::function<void(EnvoySampleOutcome)> done)
{
    struct State {
        EnvoyAdminReply clusters, stats, server;
        int64_t statsAtMs = 0;
        int pending = 3;
        std::function<void(EnvoySampleOutcome)> done;
    };
    auto state = std::make_shared<State>();
    state->done = std::move(done);
    auto finishOne = [state] {
        if (--state->pending > 0)
            return;
        EnvoySampleOutcome out;
        for (const EnvoyAdminReply *r : {&state->clusters, &state->stats}) {
            if (!r->ok()) {
                out.error = r->message;
                out.transient = r->transient();
                state->done(std::move(out));
                return;
            }
        }
        out.sample.monotonicMs = state->statsAtMs;
        out.sample.peerCertificate = state->clusters.peerCertificate;
        if (!parseEnvoyClusters(state->clusters.body, state->clusters.where, &out.sample.clusters, &out.error)
            || !parseEnvoyStats(state->stats.body, state->stats.where, &out.sample.stats, &out.error)) {
            state->done(std::move(out));
            return;
        }
        EnvoyServerInfo info;
        QString ignored;
        if (state->server.ok() && parseEnvoyServerInfo(state->server.body, state->server.where, &info, &ignored))
            out.sample.server = std::move(info);
        out.ok = true;
        state->done(std::move(out));
    };
    client.get(EnvoyAdminClient::clustersPath(), [state, finishOne](EnvoyAdminReply r) {
        state->clusters = std::move(r);
        finishOne();
    });
    client.get(EnvoyAdminClient::statsPath(), [state, finishOne](EnvoyAdminReply r) {
        state->statsAtMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
        state->stats = std::move(r);
        finishOne();
    });
    client.get(EnvoyAdminClient::serverInfoPath(), [state, finishOne](EnvoyAdminReply r) {
        state->server = std::move(r);
        finishOne();
    });
}

}  // namespace meshscope

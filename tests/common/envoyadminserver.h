#pragma once
// An HTTP peer that answers Envoy's admin paths (/clusters?format=json,
// /stats?format=json, /server_info). Debian packages no Envoy, so tests serve the
// documents of tests/data/envoy-admin (shaped as Envoy writes them), with counters
// that advance between polls.

#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

namespace meshscope::test {

inline const QString kProduct = QStringLiteral("outbound|9080||productpage.bookinfo.svc.cluster.local");
inline const QString kReviews = QStringLiteral("outbound|9080|v2|reviews.bookinfo.svc.cluster.local");
inline const QString kApi = QStringLiteral("outbound|443||api.example.com");

// Per step: what each counter grows by.
inline const std::map<QString, uint64_t> kStatSteps = {
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_total"), 50},
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_2xx"), 40},
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_200"), 40},
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_4xx"), 4},
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_404"), 4},
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_5xx"), 6},
    {QStringLiteral("cluster.") + kProduct + QStringLiteral(".upstream_rq_503"), 6},
    {QStringLiteral("cluster.") + kReviews + QStringLiteral(".upstream_rq_total"), 20},
    {QStringLiteral("cluster.") + kReviews + QStringLiteral(".upstream_rq_200"), 19},
    {QStringLiteral("cluster.") + kReviews + QStringLiteral(".upstream_rq_503"), 1},
    {QStringLiteral("cluster.outbound|27017||mongodb.bookinfo.svc.cluster.local.upstream_cx_total"), 3},
};
// api.example.com has no cluster stats: its host counters grow instead.
inline const std::map<QString, uint64_t> kApiHostSteps
    = {{QStringLiteral("rq_total"), 10}, {QStringLiteral("rq_error"), 1}};

inline QByteArray readData(const QString &name)
{
    QFile f(QFINDTESTDATA(QStringLiteral("../data/envoy-admin/") + name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open test data %s", qPrintable(name));
    return f.readAll();
}

inline int64_t steadyMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Answers GET /clusters?format=json, /stats?format=json and /server_info like Envoy's
// admin listener, one request per connection.
class AdminServer : public QTcpServer {
public:
    int fixedStep = -1;  // >= 0: every answer shows this step; -1: each endpoint advances per request
    int clustersStatus = 200;
    bool malformedStats = false;
    std::vector<int64_t> statsServedMs;  // steady clock
    QStringList statsQueries;

    AdminServer()
    {
        m_clusters = QJsonDocument::fromJson(readData(QStringLiteral("clusters.json"))).object();
        m_stats = QJsonDocument::fromJson(readData(QStringLiteral("stats.json"))).object();
        m_serverInfo = readData(QStringLiteral("server_info.json"));
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                connect(s, &QTcpSocket::readyRead, s, [this, s] {
                    QByteArray &buf = m_buffers[s];
                    buf += s->readAll();
                    if (!buf.contains("\r\n\r\n"))
                        return;
                    const QList<QByteArray> requestLine = buf.left(buf.indexOf("\r\n")).split(' ');
                    m_buffers.remove(s);
                    answer(s, requestLine.value(1));
                });
            }
        });
    }

    bool start(quint16 port = 0) { return listen(QHostAddress::LocalHost, port); }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(serverPort()); }

private:
    void answer(QTcpSocket *s, const QByteArray &target)
    {
        const QUrl u(QString::fromLatin1(target));
        const QString path = u.path();
        const QUrlQuery query(u);
        int status = 200;
        QByteArray body, type = "application/json";
        if (path == QLatin1String("/clusters")
            && query.queryItemValue(QStringLiteral("format")) == QLatin1String("json")) {
            status = clustersStatus;
            body = status == 200 ? clustersAt(step(m_clustersServed++)) : QByteArray("envoy admin: unavailable\n");
        } else if (path == QLatin1String("/stats")
            && query.queryItemValue(QStringLiteral("format")) == QLatin1String("json")) {
            statsQueries << u.query(QUrl::FullyDecoded);
            statsServedMs.push_back(steadyMs());
            body = malformedStats ? QByteArray(R"({"stats":[{"name":"cluster.a.upstream_rq_total","value":-5}]})")
                                  : statsAt(step(m_statsServed++));
        } else if (path == QLatin1String("/server_info")) {
            body = m_serverInfo;
        } else {
            status = 404;
            type = "text/plain";
            body = "invalid path. admin commands are:\n  /clusters: upstream cluster status\n";
        }
        const QByteArray reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Service Unavailable";
        s->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\nContent-Type: " + type
            + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        s->disconnectFromHost();
    }

    int step(int served) const { return fixedStep >= 0 ? fixedStep : served; }

    QByteArray statsAt(int step) const
    {
        QJsonObject root = m_stats;
        QJsonArray stats = root.value(QStringLiteral("stats")).toArray();
        for (qsizetype i = 0; i < stats.size(); ++i) {
            QJsonObject o = stats[i].toObject();
            auto it = kStatSteps.find(o.value(QStringLiteral("name")).toString());
            if (it == kStatSteps.end())
                continue;
            o.insert(QStringLiteral("value"), o.value(QStringLiteral("value")).toInteger() + qint64(it->second) * step);
            stats[i] = o;
        }
        root.insert(QStringLiteral("stats"), stats);
        return QJsonDocument(root).toJson();
    }

    QByteArray clustersAt(int step) const
    {
        QJsonObject root = m_clusters;
        QJsonArray clusters = root.value(QStringLiteral("cluster_statuses")).toArray();
        for (qsizetype i = 0; i < clusters.size(); ++i) {
            QJsonObject c = clusters[i].toObject();
            if (c.value(QStringLiteral("name")).toString() != kApi)
                continue;
            QJsonArray hosts = c.value(QStringLiteral("host_statuses")).toArray();
            QJsonObject h = hosts[0].toObject();
            QJsonArray hstats = h.value(QStringLiteral("stats")).toArray();
            for (qsizetype k = 0; k < hstats.size(); ++k) {
                QJsonObject st = hstats[k].toObject();
                auto it = kApiHostSteps.find(st.value(QStringLiteral("name")).toString());
                if (it == kApiHostSteps.end())
                    continue;
                // uint64 as a string, as Envoy's proto JSON writes it.
                const qulonglong base = st.value(QStringLiteral("value")).toString().toULongLong();
                st.insert(QStringLiteral("value"), QString::number(base + it->second * qulonglong(step)));
                hstats[k] = st;
            }
            h.insert(QStringLiteral("stats"), hstats);
            hosts[0] = h;
            c.insert(QStringLiteral("host_statuses"), hosts);
            clusters[i] = c;
        }
        root.insert(QStringLiteral("cluster_statuses"), clusters);
        return QJsonDocument(root).toJson();
    }

    QJsonObject m_clusters, m_stats;
    QByteArray m_serverInfo;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    int m_clustersServed = 0;
    int m_statsServed = 0;
};

}  // namespace meshscope::test

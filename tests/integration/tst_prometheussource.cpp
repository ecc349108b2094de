// PrometheusSource and PrometheusClient against a real Prometheus (Debian's
// prometheus and promtool). The test writes ten minutes of Istio- and Linkerd-shaped
// counters and histograms as OpenMetrics text, backfills them with
// `promtool tsdb create-blocks-from openmetrics`, serves them from a Prometheus on a
// free loopback port (with basic auth, from a web config), and checks that the graph
// matches the series edge by edge, that errors carry Prometheus's own message, that
// charts come from query_range, and that the source rides out a Prometheus restart.
// Mock servers only stand in for what Prometheus cannot be made to do: never answer,
// and show the headers it was sent.

#include "common/tlsprometheus.h"
#include "graph/graphaggregator.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMutex>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <memory>
#include <utility>

using namespace meshscope;
using meshscope::test::findTool;
using meshscope::test::freePort;
using meshscope::test::PrometheusProcess;

namespace {

constexpr int64_t kStepSeconds = 10;
constexpr int64_t kSpanSeconds = 600;
const QString kUser = QStringLiteral("meshscope");
const QString kPassword = QStringLiteral("mesh-pass");
// bcrypt (cost 4, libxcrypt) of kPassword, for Prometheus's web config.
const char *const kPasswordHash = "$2b$04$meshscopetestsaltsalteAZYufndAxEbhtH1FB1VSEs9CYsSdME2";

const std::vector<double> kIstioBuckets
    = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
const std::vector<double> kLinkerdBuckets = {1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000,
    3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000};

// Latency distribution of an edge's requests: (latency ms, fraction of requests).
using Dist = std::vector<std::pair<double, double>>;
const Dist kGatewayDist = {{20, 0.90}, {80, 0.08}, {400, 0.02}};
const Dist kReviewsDist = {{3, 0.50}, {30, 0.45}, {200, 0.05}};
const Dist kDetailsDist = {{7, 0.96}, {700, 0.04}};
const Dist kSlowDist = {{900, 1.0}};  // what source proxies report: must not be used
const Dist kEmojiDist = {{3, 0.60}, {15, 0.35}, {45, 0.05}};

double cumulative(const Dist &d, double le)
{
    double c = 0;
    for (const auto &[ms, f] : d) {
        if (ms <= le)
            c += f;
    }
    return c;
}

// histogram_quantile's answer for a distribution: linear inside the bucket.
double expectedQuantile(const std::vector<double> &bounds, const Dist &d, double q)
{
    double prevBound = 0, prevCum = 0;
    for (double b : bounds) {
        const double c = cumulative(d, b);
        if (c >= q)
            return prevBound + (b - prevBound) * (q - prevCum) / (c - prevCum);
        prevBound = b;
        prevCum = c;
    }
    return bounds.back();
}

// The bucket that holds the true quantile of the distribution: the resolution any
// histogram-based answer is bound to.
std::pair<double, double> quantileBucket(const std::vector<double> &bounds, const Dist &d, double q)
{
    double truth = 0, c = 0;
    for (const auto &[ms, f] : d) {
        c += f;
        if (c >= q - 1e-12) {
            truth = ms;
            break;
        }
    }
    double lower = 0;
    for (double b : bounds) {
        if (truth <= b)
            return {lower, b};
        lower = b;
    }
    return {lower, bounds.back()};
}

// OpenMetrics text with per-sample timestamps (seconds), one family at a time, for
// promtool's backfill. Counters rise linearly at their rate from 0 at `start`.
class OpenMetricsWriter {
public:
    OpenMetricsWriter(int64_t start, int64_t end)
        : m_start(start)
        , m_end(end)
    {
    }

    void counter(const QString &family, const QString &labels, double perSecond)
    {
        QStringList &lines = familyLines(family, QStringLiteral("counter"));
        for (int64_t t = m_start; t <= m_end; t += kStepSeconds)
            lines << QStringLiteral("%1_total{%2} %3 %4")
                         .arg(family, labels, num(perSecond * double(t - m_start)))
                         .arg(t);
    }

    void histogram(const QString &family, const QString &labels, double perSecond, const std::vector<double> &bounds,
        const Dist &dist)
    {
        QStringList &lines = familyLines(family, QStringLiteral("histogram"));
        double meanMs = 0;
        for (const auto &[ms, f] : dist)
            meanMs += ms * f;
        for (int64_t t = m_start; t <= m_end; t += kStepSeconds) {
            const double n = perSecond * double(t - m_start);
            for (double b : bounds) {
                lines << QStringLiteral("%1_bucket{%2,le=\"%3\"} %4 %5")
                             .arg(family, labels, num(b), num(n * cumulative(dist, b)))
                             .arg(t);
            }
            lines << QStringLiteral("%1_bucket{%2,le=\"+Inf\"} %3 %4").arg(family, labels, num(n)).arg(t);
            lines << QStringLiteral("%1_count{%2} %3 %4").arg(family, labels, num(n)).arg(t);
            lines << QStringLiteral("%1_sum{%2} %3 %4").arg(family, labels, num(n * meanMs)).arg(t);
        }
    }

    QByteArray text() const
    {
        QByteArray out;
        for (const auto &[name, family] : m_families) {
            out += "# TYPE " + name.toUtf8() + ' ' + family.first.toUtf8() + '\n';
            out += family.second.join(QLatin1Char('\n')).toUtf8() + '\n';
        }
        out += "# EOF\n";
        return out;
    }

private:
    static QString num(double v) { return QString::number(v, 'g', 15); }

    QStringList &familyLines(const QString &family, const QString &type)
    {
        auto &f = m_families[family];
        f.first = type;
        return f.second;
    }

    int64_t m_start, m_end;
    std::map<QString, std::pair<QString, QStringList>> m_families;
};

using Kv = std::initializer_list<std::pair<const char *, const char *>>;

QString join(const std::vector<std::pair<QString, QString>> &labels)
{
    QStringList parts;
    for (const auto &[k, v] : labels)
        parts << k + QStringLiteral("=\"") + v + QLatin1Char('"');
    return parts.join(QLatin1Char(','));
}

// An Istio workload as "namespace/workload/canonical-service/version", or "unknown".
QString istio(const char *reporter, const char *src, const char *dst, Kv extra)
{
    auto split = [](const char *spec) {
        if (QLatin1String(spec) == QLatin1String("unknown"))
            return QStringList {QStringLiteral("unknown"), QStringLiteral("unknown"), QStringLiteral("unknown"),
                QStringLiteral("unknown")};
        return QString::fromLatin1(spec).split(QLatin1Char('/'));
    };
    const QStringList s = split(src), d = split(dst);
    auto rev = [](const QString &v) { return v == QLatin1String("unknown") ? QStringLiteral("latest") : v; };
    std::vector<std::pair<QString, QString>> l = {
        {QStringLiteral("reporter"), QLatin1String(reporter)},
        {QStringLiteral("source_workload_namespace"), s[0]},
        {QStringLiteral("source_workload"), s[1]},
        {QStringLiteral("source_canonical_service"), s[2]},
        {QStringLiteral("source_canonical_revision"), rev(s[3])},
        {QStringLiteral("source_app"), s[2]},
        {QStringLiteral("source_version"), s[3]},
        {QStringLiteral("source_principal"),
            QStringLiteral("spiffe://cluster.local/ns/") + s[0] + QStringLiteral("/sa/") + s[2]},
        {QStringLiteral("source_cluster"), QStringLiteral("Kubernetes")},
        {QStringLiteral("destination_workload_namespace"), d[0]},
        {QStringLiteral("destination_workload"), d[1]},
        {QStringLiteral("destination_canonical_service"), d[2]},
        {QStringLiteral("destination_canonical_revision"), rev(d[3])},
        {QStringLiteral("destination_app"), d[2]},
        {QStringLiteral("destination_version"), d[3]},
        {QStringLiteral("destination_service"), d[2] + QLatin1Char('.') + d[0] + QStringLiteral(".svc.cluster.local")},
        {QStringLiteral("destination_service_name"), d[2]},
        {QStringLiteral("destination_service_namespace"), d[0]},
        {QStringLiteral("destination_cluster"), QStringLiteral("Kubernetes")},
        {QStringLiteral("request_protocol"), QStringLiteral("http")},
        {QStringLiteral("response_flags"), QStringLiteral("-")},
        {QStringLiteral("connection_security_policy"), QStringLiteral("mutual_tls")},
        // Istio exports it empty on plain HTTP; Prometheus drops it (PROTOCOLS.md, Quirks).
        {QStringLiteral("grpc_response_status"), QString()},
        {QStringLiteral("job"), QStringLiteral("envoy-stats")},
    };
    for (const auto &[k, v] : extra) {
        const QString key = QLatin1String(k);
        auto it = std::find_if(l.begin(), l.end(), [&](const auto &p) { return p.first == key; });
        if (it != l.end())
            it->second = QLatin1String(v);
        else
            l.emplace_back(key, QLatin1String(v));
    }
    return join(l);
}

QString linkerd(Kv kv)
{
    std::vector<std::pair<QString, QString>> l;
    for (const auto &[k, v] : kv)
        l.emplace_back(QLatin1String(k), QLatin1String(v));
    l.emplace_back(QStringLiteral("job"), QStringLiteral("linkerd-proxy"));
    return join(l);
}

constexpr const char *kGateway = "istio-system/istio-ingressgateway-7d9f/istio-ingressgateway/unknown";
constexpr const char *kProductpage = "bookinfo/productpage-v1/productpage/v1";
constexpr const char *kReviews = "bookinfo/reviews-v2/reviews/v2";
constexpr const char *kDetails = "bookinfo/details-v1/details/v1";
constexpr const char *kMongo = "bookinfo/mongodb-v1/mongodb/v1";

void writeIstio(OpenMetricsWriter &w)
{
    const QString req = QStringLiteral("istio_requests");
    const QString dur = QStringLiteral("istio_request_duration_milliseconds");
    for (const char *reporter : {"destination", "source"}) {
        // Every in-mesh request is seen by both proxies; only one report may count.
        const bool dest = QLatin1String(reporter) == QLatin1String("destination");
        w.counter(req, istio(reporter, kGateway, kProductpage, {{"response_code", "200"}}), 10);
        w.counter(
            req, istio(reporter, kGateway, kProductpage, {{"response_code", "503"}, {"response_flags", "URX"}}), 0.2);
        w.histogram(dur, istio(reporter, kGateway, kProductpage, {{"response_code", "200"}}), 10.2, kIstioBuckets,
            dest ? kGatewayDist : kSlowDist);
        w.counter(req, istio(reporter, kProductpage, kReviews, {{"response_code", "200"}}), 5);
        w.counter(req, istio(reporter, kProductpage, kReviews, {{"response_code", "404"}}), 0.5);
        w.counter(req, istio(reporter, kProductpage, kReviews, {{"response_code", "503"}}), 0.25);
        w.histogram(dur, istio(reporter, kProductpage, kReviews, {{"response_code", "200"}}), 5.75, kIstioBuckets,
            dest ? kReviewsDist : kSlowDist);
        const Kv grpcOk = {{"request_protocol", "grpc"}, {"response_code", "200"}, {"grpc_response_status", "0"},
            {"connection_security_policy", "none"}};
        const Kv grpcUnavailable = {{"request_protocol", "grpc"}, {"response_code", "200"},
            {"grpc_response_status", "14"}, {"connection_security_policy", "none"}};
        w.counter(req, istio(reporter, kProductpage, kDetails, grpcOk), 4);
        w.counter(req, istio(reporter, kProductpage, kDetails, grpcUnavailable), 1);
        w.histogram(
            dur, istio(reporter, kProductpage, kDetails, grpcOk), 5, kIstioBuckets, dest ? kDetailsDist : kSlowDist);
        const QString tcp = istio(reporter, kReviews, kMongo, {{"request_protocol", "tcp"}});
        w.counter(QStringLiteral("istio_tcp_sent_bytes"), tcp, 1000);
        w.counter(QStringLiteral("istio_tcp_received_bytes"), tcp, 500);
        w.counter(QStringLiteral("istio_tcp_connections_opened"), tcp, 0.1);
    }
    // A caller without a proxy: only the destination reports it.
    w.counter(req,
        istio(
            "destination", "unknown", kProductpage, {{"response_code", "200"}, {"connection_security_policy", "none"}}),
        2);
    // A ServiceEntry host outside the mesh: only the source reports it.
    w.counter(req,
        istio("source", kReviews, "unknown",
            {{"response_code", "200"}, {"destination_service", "api.ratings.example.com"},
                {"destination_service_name", "api.ratings.example.com"}, {"destination_service_namespace", "unknown"},
                {"connection_security_policy", "unknown"}}),
        3);
}

void writeLinkerd(OpenMetricsWriter &w)
{
    const QString resp = QStringLiteral("response");
    auto webTo = [](const char *dstDeployment, Kv extra) -> QString {
        std::vector<std::pair<const char *, const char *>> kv = {{"direction", "outbound"}, {"namespace", "emojivoto"},
            {"deployment", "web"}, {"pod", "web-5f86686c4d-58p7k"}, {"dst_namespace", "emojivoto"},
            {"dst_deployment", dstDeployment}, {"tls", "true"},
            {"dst_service", QLatin1String(dstDeployment) == QLatin1String("emoji") ? "emoji-svc" : "voting-svc"},
            {"authority",
                QLatin1String(dstDeployment) == QLatin1String("emoji")
                    ? "emoji-svc.emojivoto.svc.cluster.local:8080"
                    : "voting-svc.emojivoto.svc.cluster.local:8080"}};
        kv.insert(kv.end(), extra.begin(), extra.end());
        QStringList parts;
        for (const auto &[k, v] : kv)
            parts << QLatin1String(k) + QStringLiteral("=\"") + QLatin1String(v) + QLatin1Char('"');
        return parts.join(QLatin1Char(',')) + QStringLiteral(",job=\"linkerd-proxy\"");
    };
    w.counter(
        resp, webTo("emoji", {{"status_code", "200"}, {"grpc_status_code", "0"}, {"classification", "success"}}), 8);
    w.counter(
        resp, webTo("emoji", {{"status_code", "200"}, {"grpc_status_code", "2"}, {"classification", "failure"}}), 0.4);
    w.histogram(QStringLiteral("response_latency_ms"), webTo("emoji", {{"status_code", "200"}}), 8.4, kLinkerdBuckets,
        kEmojiDist);
    w.counter(resp, webTo("voting", {{"status_code", "200"}, {"classification", "success"}}), 3);
    w.counter(resp, webTo("voting", {{"status_code", "503"}, {"classification", "failure"}}), 0.3);
    w.counter(resp, webTo("voting", {{"status_code", "404"}, {"classification", "success"}}), 0.3);
    // The callee's view of meshed callers: their outbound series count these.
    w.counter(resp,
        linkerd({{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "emoji"}, {"tls", "true"},
            {"client_id", "web.emojivoto.serviceaccount.identity.linkerd.cluster.local"}, {"status_code", "200"},
            {"grpc_status_code", "0"}, {"classification", "success"}}),
        8);
    // A caller without a proxy (no identity).
    w.counter(resp,
        linkerd({{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "web"}, {"tls", "no_identity"},
            {"no_tls_reason", "not_provided_by_remote"}, {"status_code", "200"}, {"classification", "success"}}),
        1);
    w.counter(resp,
        linkerd({{"direction", "outbound"}, {"namespace", "linkerd-multicluster"}, {"deployment", "linkerd-gateway"},
            {"dst_namespace", "emojivoto"}, {"dst_deployment", "web"}, {"dst_service", "web-svc"},
            {"authority", "web-svc.emojivoto.svc.cluster.local:80"}, {"tls", "true"}, {"status_code", "200"},
            {"classification", "success"}}),
        0.5);
    // To a host outside the cluster: no dst_* labels.
    w.counter(resp,
        linkerd({{"direction", "outbound"}, {"namespace", "emojivoto"}, {"deployment", "web"},
            {"authority", "api.example.com:443"}, {"tls", "no_identity"},
            {"no_tls_reason", "not_provided_by_service_discovery"}, {"status_code", "200"},
            {"classification", "success"}}),
        1.5);
    const QString tcp = linkerd({{"direction", "outbound"}, {"peer", "dst"}, {"namespace", "emojivoto"},
        {"deployment", "vote-bot"}, {"dst_namespace", "db"}, {"dst_statefulset", "redis"}, {"tls", "true"}});
    w.counter(QStringLiteral("tcp_open"), tcp, 0.05);
    w.counter(QStringLiteral("tcp_read_bytes"), tcp, 200);
    w.counter(QStringLiteral("tcp_write_bytes"), tcp, 100);
}

const PulledEdge *findEdge(const std::vector<PulledEdge> &edges, const std::string &src, const std::string &dst)
{
    for (const PulledEdge &e : edges) {
        if (MeshMetrics::nodeId(e.source) == src && MeshMetrics::nodeId(e.target) == dst)
            return &e;
    }
    return nullptr;
}

QString describe(const std::vector<PulledEdge> &edges)
{
    QStringList out;
    for (const PulledEdge &e : edges) {
        out << QStringLiteral("%1->%2 rps=%3 err=%4 p95=%5 mtls=%6 proto=%7")
                   .arg(QString::fromStdString(MeshMetrics::nodeId(e.source)),
                       QString::fromStdString(MeshMetrics::nodeId(e.target)))
                   .arg(e.stats.rps)
                   .arg(e.stats.errorRate)
                   .arg(e.stats.p95Ms)
                   .arg(e.mtls)
                   .arg(QLatin1String(protocolName(e.protocol)));
    }
    return out.join(QLatin1String("\n  "));
}

bool near(double actual, double expected, double relative = 1e-6)
{
    return std::abs(actual - expected) <= std::max(1e-9, std::abs(expected) * relative);
}

#define VERIFY_NEAR(actual, expected, rel)                                                                             \
    QVERIFY2(near((actual), (expected), (rel)),                                                                        \
        qPrintable(QStringLiteral("%1 = %2, expected %3")                                                              \
                       .arg(QLatin1String(#actual))                                                                    \
                       .arg(actual, 0, 'g', 10)                                                                        \
                       .arg(expected, 0, 'g', 10)))

// Checks p50/p95/p99 against histogram_quantile's exact answer for the distribution,
// and that each lies in the bucket holding the true quantile.
void checkQuantiles(const TrafficStats &s, const std::vector<double> &bounds, const Dist &d)
{
    const std::pair<double, double> qs[] = {{0.5, s.p50Ms}, {0.95, s.p95Ms}, {0.99, s.p99Ms}};
    for (const auto &[q, got] : qs) {
        const double want = expectedQuantile(bounds, d, q);
        const auto [lo, hi] = quantileBucket(bounds, d, q);
        QVERIFY2(near(got, want, 0.01) && got >= lo && got <= hi,
            qPrintable(
                QStringLiteral("q%1 = %2, expected %3 in bucket (%4, %5]").arg(q).arg(got).arg(want).arg(lo).arg(hi)));
    }
}

// Answers one HTTP request with a Prometheus success envelope and keeps what it was sent.
class CaptureServer : public QTcpServer {
public:
    QByteArray request;
    bool answer = true;

    CaptureServer()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] {
                    request += s->readAll();
                    const int headerEnd = request.indexOf("\r\n\r\n");
                    if (headerEnd < 0 || !answer)
                        return;
                    int length = 0;
                    for (const QByteArray &line : request.left(headerEnd).split('\n')) {
                        if (line.toLower().startsWith("content-length:"))
                            length = line.mid(15).trimmed().toInt();
                    }
                    if (request.size() < headerEnd + 4 + length)
                        return;
                    const QByteArray body = R"({"status":"success","data":{"resultType":"vector","result":[]}})";
                    s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        + QByteArray::number(body.size()) + "\r\n\r\n" + body);
                });
            }
        });
    }
};

// Catches every log line while it exists, with the logging rules it was given. Lines
// come from worker threads too; everything but debug output still reaches QTest.
class LogCapture {
public:
    explicit LogCapture(const QString &rules)
    {
        s_current = this;
        QLoggingCategory::setFilterRules(rules);
        m_previous = qInstallMessageHandler(&LogCapture::handle);
    }
    ~LogCapture()
    {
        qInstallMessageHandler(m_previous);
        QLoggingCategory::setFilterRules(QString());
        s_current = nullptr;
    }

    // (category, message), in the order logged.
    std::vector<std::pair<QString, QString>> lines() const
    {
        QMutexLocker lock(&m_mutex);
        return m_lines;
    }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        LogCapture *self = s_current;
        if (!self)
            return;
        {
            QMutexLocker lock(&self->m_mutex);
            self->m_lines.emplace_back(QString::fromLatin1(context.category ? context.category : ""), message);
        }
        if (type != QtDebugMsg && self->m_previous)
            self->m_previous(type, context, message);
    }

    static inline LogCapture *s_current = nullptr;
    QtMessageHandler m_previous = nullptr;
    mutable QMutex m_mutex;
    std::vector<std::pair<QString, QString>> m_lines;
};

}  // namespace

class TestPrometheusSource : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void istioGraphMatchesSeries();
    void cliGraphFromPrometheus();
    void linkerdGraphMatchesSeries();
    void autoAsksBothAndDefaultsToNow();
    void promqlErrorsCarryPrometheusMessage();
    void credentialsAreChecked();
    void stateChangesAreLoggedWithoutSecrets();
    void networkFailuresAreExplained();
    void bearerTokenAndPathPrefix();
    void sourcePollsIntoAggregator();
    void chartsFromQueryRange();
    void backoffDoublesAndCaps();
    void restartMidRunRecovers();

private:
    PrometheusConfig server() const
    {
        PrometheusConfig c;
        c.url = m_url;
        c.username = kUser;
        c.password = kPassword;
        c.timeoutMs = 10000;
        return c;
    }
    PrometheusSourceConfig sourceConfig(MeshKind mesh) const
    {
        PrometheusSourceConfig c;
        c.server = server();
        c.mesh = mesh;
        c.windowSeconds = 60;
        c.queryTime = double(m_end);
        return c;
    }
    std::vector<PulledEdge> graph(MeshKind mesh)
    {
        std::vector<PulledEdge> edges;
        QString error;
        if (!PrometheusSource::fetchGraph(sourceConfig(mesh), &edges, &error))
            qWarning("fetchGraph: %s", qPrintable(error));
        return edges;
    }

    QTemporaryDir m_dir;
    PrometheusProcess m_process;
    QUrl m_url;
    int64_t m_end = 0;
};

void TestPrometheusSource::initTestCase()
{
    const QString prometheus = findTool("prometheus");
    MESHSCOPE_REQUIRE_PEER(!prometheus.isEmpty(), "prometheus");
    const QString promtool = findTool("promtool");
    QVERIFY2(!promtool.isEmpty(), "promtool is missing although prometheus is installed");
    QVERIFY(m_dir.isValid());

    // Ten minutes ending on a step boundary just before now: inside the retention
    // and the head's time range, and every query below can name its instant.
    const int64_t now = QDateTime::currentSecsSinceEpoch();
    m_end = now / kStepSeconds * kStepSeconds - kStepSeconds;
    OpenMetricsWriter writer(m_end - kSpanSeconds, m_end);
    writeIstio(writer);
    writeLinkerd(writer);
    const QString input = m_dir.filePath(QStringLiteral("series.om"));
    {
        QFile f(input);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(writer.text());
    }
    QProcess backfill;
    backfill.setProcessChannelMode(QProcess::MergedChannels);
    backfill.start(promtool,
        {QStringLiteral("tsdb"), QStringLiteral("create-blocks-from"), QStringLiteral("openmetrics"),
            QStringLiteral("-q"), input, m_dir.filePath(QStringLiteral("tsdb"))});
    QVERIFY(backfill.waitForFinished(60000));
    QVERIFY2(backfill.exitStatus() == QProcess::NormalExit && backfill.exitCode() == 0, backfill.readAll().constData());

    // No scrape targets: the backfilled blocks are all it serves.
    QString error;
    QVERIFY2(m_process.start(prometheus, m_dir.path(),
                 "basic_auth_users:\n  " + kUser.toUtf8() + ": " + QByteArray(kPasswordHash) + "\n", &error),
        qPrintable(error));
    m_url = m_process.url();
    QVERIFY2(m_process.waitReady(server(), 30000, &error),
        qPrintable(QStringLiteral("Prometheus did not become ready: %1\n%2").arg(error, m_process.logTail())));
}

void TestPrometheusSource::cleanupTestCase() { m_process.stop(); }

void TestPrometheusSource::istioGraphMatchesSeries()
{
    const std::vector<PulledEdge> edges = graph(MeshKind::Istio);
    QVERIFY2(edges.size() == 6, qPrintable(QStringLiteral("edges:\n  ") + describe(edges)));

    const PulledEdge *g = findEdge(edges, "istio-system/istio-ingressgateway", "bookinfo/productpage@v1");
    QVERIFY2(g, qPrintable(describe(edges)));
    VERIFY_NEAR(g->stats.rps, 10.2, 1e-6);  // the source-reported copies are not added
    QCOMPARE(g->stats.requests, uint64_t(612));
    VERIFY_NEAR(g->stats.errorRate, 0.2 / 10.2, 1e-6);
    VERIFY_NEAR(g->stats.rate5xx, 0.2 / 10.2, 1e-6);
    QCOMPARE(g->stats.rate4xx, 0.0);
    QCOMPARE(g->mtls, int8_t(1));
    QCOMPARE(g->protocol, Protocol::Http);
    QVERIFY(g->source.gateway);
    checkQuantiles(g->stats, kIstioBuckets, kGatewayDist);  // not the 900 ms the source proxy reported

    const PulledEdge *r = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/reviews@v2");
    QVERIFY(r);
    VERIFY_NEAR(r->stats.rps, 5.75, 1e-6);
    VERIFY_NEAR(r->stats.errorRate, 0.25 / 5.75, 1e-6);
    VERIFY_NEAR(r->stats.rate4xx, 0.5 / 5.75, 1e-6);
    VERIFY_NEAR(r->stats.rate5xx, 0.25 / 5.75, 1e-6);
    QCOMPARE(r->mtls, int8_t(1));
    checkQuantiles(r->stats, kIstioBuckets, kReviewsDist);

    const PulledEdge *d = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/details@v1");
    QVERIFY(d);
    QCOMPARE(d->protocol, Protocol::Grpc);
    VERIFY_NEAR(d->stats.rps, 5.0, 1e-6);
    VERIFY_NEAR(d->stats.errorRate, 0.2, 1e-6);  // grpc-status 14 under HTTP 200
    QCOMPARE(d->mtls, int8_t(0));
    checkQuantiles(d->stats, kIstioBuckets, kDetailsDist);

    const PulledEdge *x = findEdge(edges, "external", "bookinfo/productpage@v1");
    QVERIFY(x);
    QCOMPARE(x->source.kind, NodeKind::External);
    VERIFY_NEAR(x->stats.rps, 2.0, 1e-6);
    QCOMPARE(x->mtls, int8_t(0));

    const PulledEdge *out = findEdge(edges, "bookinfo/reviews@v2", "ext:api.ratings.example.com");
    QVERIFY(out);
    QCOMPARE(out->target.kind, NodeKind::ExternalService);
    VERIFY_NEAR(out->stats.rps, 3.0, 1e-6);
    QCOMPARE(out->mtls, int8_t(-1));

    const PulledEdge *t = findEdge(edges, "bookinfo/reviews@v2", "bookinfo/mongodb@v1");
    QVERIFY(t);
    QCOMPARE(t->protocol, Protocol::Tcp);
    QCOMPARE(t->stats.requests, uint64_t(6));  // connections opened
    QCOMPARE(t->stats.bytes, uint64_t(90000));
    QCOMPARE(t->mtls, int8_t(1));

    // In the aggregator: node kinds and north-south / east-west.
    GraphAggregator agg;
    const int64_t now = GraphAggregator::wallNowMs();
    agg.setPulledEdges("prometheus", edges, now);
    GraphSnapshotPtr snap = agg.snapshot(now);
    QCOMPARE(snap->node("istio-system/istio-ingressgateway")->kind, NodeKind::Gateway);
    QCOMPARE(snap->node("external")->kind, NodeKind::External);
    QCOMPARE(snap->node("ext:api.ratings.example.com")->kind, NodeKind::ExternalService);
    QCOMPARE(snap->node("bookinfo/reviews@v2")->kind, NodeKind::Service);
    QCOMPARE(
        snap->edge("istio-system/istio-ingressgateway->bookinfo/productpage@v1")->direction, Direction::NorthSouth);
    QCOMPARE(snap->edge("bookinfo/productpage@v1->bookinfo/reviews@v2")->direction, Direction::EastWest);
    VERIFY_NEAR(snap->node("bookinfo/productpage@v1")->stats.rps, 12.2, 1e-6);
}

// The command-line contract: meshscope-cli graph answers from one Prometheus query.
void TestPrometheusSource::cliGraphFromPrometheus()
{
    QProcess cli;
    cli.start(QStringLiteral(MESHSCOPE_CLI_PATH),
        {QStringLiteral("graph"), QStringLiteral("--prometheus"), m_url.toString(), QStringLiteral("--window"),
            QStringLiteral("60s"), QStringLiteral("--at"), QString::number(m_end), QStringLiteral("--mesh"),
            QStringLiteral("istio"), QStringLiteral("--prometheus-user"), kUser,
            QStringLiteral("--prometheus-password"), kPassword, QStringLiteral("--format"), QStringLiteral("json")});
    QVERIFY(cli.waitForFinished(30000));
    QCOMPARE(cli.exitCode(), 0);
    const QJsonObject graph = QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
    QJsonObject ingress;
    for (const QJsonValue &e : graph.value(QStringLiteral("edges")).toArray()) {
        const QJsonObject o = e.toObject();
        if (o.value(QStringLiteral("source")).toString() == QLatin1String("istio-system/istio-ingressgateway")
            && o.value(QStringLiteral("target")).toString() == QLatin1String("bookinfo/productpage@v1"))
            ingress = o;
    }
    QVERIFY2(!ingress.isEmpty(), cli.readAllStandardError().constData());
    VERIFY_NEAR(ingress.value(QStringLiteral("rps")).toDouble(), 10.2, 1e-3);
    QCOMPARE(ingress.value(QStringLiteral("direction")).toString(), QStringLiteral("north_south"));
    QCOMPARE(ingress.value(QStringLiteral("mtls")).toBool(), true);
    QCOMPARE(ingress.value(QStringLiteral("sources")).toArray().first().toString(), QStringLiteral("prometheus"));
    QCOMPARE(graph.value(QStringLiteral("edges")).toArray().size(), 6);

    // A PromQL-level failure reaches the operator as one line with Prometheus's words.
    QProcess bad;
    bad.start(QStringLiteral(MESHSCOPE_CLI_PATH),
        {QStringLiteral("graph"), QStringLiteral("--prometheus"), m_url.toString(), QStringLiteral("--mesh"),
            QStringLiteral("istio")});
    QVERIFY(bad.waitForFinished(30000));
    QVERIFY(bad.exitCode() != 0);
    QVERIFY2(bad.readAllStandardError().contains("401"), "missing credentials must be reported with the HTTP status");
}

void TestPrometheusSource::linkerdGraphMatchesSeries()
{
    const std::vector<PulledEdge> edges = graph(MeshKind::Linkerd);
    QVERIFY2(edges.size() == 6, qPrintable(QStringLiteral("edges:\n  ") + describe(edges)));

    const PulledEdge *e = findEdge(edges, "emojivoto/web", "emojivoto/emoji");
    QVERIFY2(e, qPrintable(describe(edges)));
    QCOMPARE(e->protocol, Protocol::Grpc);
    VERIFY_NEAR(e->stats.rps, 8.4, 1e-6);  // the callee's inbound copy is not added
    VERIFY_NEAR(e->stats.errorRate, 0.4 / 8.4, 1e-6);
    QCOMPARE(e->mtls, int8_t(1));
    checkQuantiles(e->stats, kLinkerdBuckets, kEmojiDist);

    const PulledEdge *v = findEdge(edges, "emojivoto/web", "emojivoto/voting");
    QVERIFY(v);
    QCOMPARE(v->protocol, Protocol::Http);
    VERIFY_NEAR(v->stats.rps, 3.6, 1e-6);
    VERIFY_NEAR(v->stats.errorRate, 0.3 / 3.6, 1e-6);
    VERIFY_NEAR(v->stats.rate5xx, 0.3 / 3.6, 1e-6);
    VERIFY_NEAR(v->stats.rate4xx, 0.3 / 3.6, 1e-6);

    const PulledEdge *x = findEdge(edges, "external", "emojivoto/web");
    QVERIFY(x);
    VERIFY_NEAR(x->stats.rps, 1.0, 1e-6);
    QCOMPARE(x->mtls, int8_t(0));

    const PulledEdge *g = findEdge(edges, "linkerd-multicluster/linkerd-gateway", "emojivoto/web");
    QVERIFY(g);
    QVERIFY(g->source.gateway);
    VERIFY_NEAR(g->stats.rps, 0.5, 1e-6);

    const PulledEdge *out = findEdge(edges, "emojivoto/web", "ext:api.example.com");
    QVERIFY(out);
    VERIFY_NEAR(out->stats.rps, 1.5, 1e-6);
    QCOMPARE(out->mtls, int8_t(0));

    const PulledEdge *t = findEdge(edges, "emojivoto/vote-bot", "db/redis");
    QVERIFY(t);
    QCOMPARE(t->protocol, Protocol::Tcp);
    QCOMPARE(t->stats.requests, uint64_t(3));
    QCOMPARE(t->stats.bytes, uint64_t(18000));
    QCOMPARE(t->mtls, int8_t(1));

    GraphAggregator agg;
    const int64_t now = GraphAggregator::wallNowMs();
    agg.setPulledEdges("prometheus", edges, now);
    GraphSnapshotPtr snap = agg.snapshot(now);
    QCOMPARE(snap->node("linkerd-multicluster/linkerd-gateway")->kind, NodeKind::Gateway);
    QCOMPARE(snap->edge("external->emojivoto/web")->direction, Direction::NorthSouth);
    QCOMPARE(snap->edge("emojivoto/web->emojivoto/emoji")->direction, Direction::EastWest);
}

void TestPrometheusSource::autoAsksBothAndDefaultsToNow()
{
    QCOMPARE(graph(MeshKind::Auto).size(), size_t(12));

    // Without --at the graph is for now; a five-minute window still covers the data.
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto);
    c.queryTime.reset();
    c.windowSeconds = *parsePromDurationSeconds(QStringLiteral("5m"));
    std::vector<PulledEdge> edges;
    QString error;
    double at = 0;
    QVERIFY2(PrometheusSource::fetchGraph(c, &edges, &error, &at), qPrintable(error));
    QVERIFY(std::abs(at - double(QDateTime::currentSecsSinceEpoch())) < 60);
    QCOMPARE(edges.size(), size_t(12));
    // RFC 3339 names the same instant as unix seconds.
    const QString rfc = QDateTime::fromSecsSinceEpoch(m_end, Qt::UTC).toString(Qt::ISODate);
    QCOMPARE(parsePromTime(rfc).value(), double(m_end));
}

void TestPrometheusSource::promqlErrorsCarryPrometheusMessage()
{
    const PromResult parse = PrometheusClient::querySync(server(), QStringLiteral("sum("), double(m_end));
    QCOMPARE(parse.kind, PromResult::Error::Prometheus);
    QCOMPARE(parse.httpStatus, 400);
    QCOMPARE(parse.errorType, QStringLiteral("bad_data"));
    QVERIFY2(
        parse.message.contains(QLatin1String("parse error: unclosed left parenthesis")), qPrintable(parse.message));
    QVERIFY(!parse.transient());

    const PromResult exec = PrometheusClient::querySync(server(),
        QStringLiteral(R"((vector(1) or label_replace(vector(1), "a", "x", "", "")) * on() vector(1))"), double(m_end));
    QCOMPARE(exec.kind, PromResult::Error::Prometheus);
    QCOMPARE(exec.httpStatus, 422);
    QVERIFY2(exec.message.contains(QLatin1String("(execution)")) && exec.message.contains(QLatin1String("group_left")),
        qPrintable(exec.message));

    // A bad extra selector: the source fails (no fast retries) with Prometheus's text.
    PrometheusSourceConfig c = sourceConfig(MeshKind::Istio);
    c.selector = QStringLiteral("cluster=~\"(\"");
    std::vector<PulledEdge> edges;
    QString error;
    QVERIFY(!PrometheusSource::fetchGraph(c, &edges, &error));
    QVERIFY2(error.contains(QLatin1String("error parsing regexp: missing closing )")), qPrintable(error));

    GraphAggregator agg;
    PrometheusSource source(agg, c);
    QSignalSpy states(&source, &PrometheusSource::stateChanged);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Failed, 10000);
    QVERIFY2(source.stateMessage().contains(QLatin1String("error parsing regexp")), qPrintable(source.stateMessage()));
    QVERIFY(source.stateMessage().contains(QLatin1String("HTTP 400 (bad_data)")));
    for (const QList<QVariant> &s : states)
        QVERIFY(s.at(0).value<PulledSource::State>() != PulledSource::State::Retrying);
}

void TestPrometheusSource::credentialsAreChecked()
{
    PrometheusConfig anonymous = server();
    anonymous.username.clear();
    const PromResult r = PrometheusClient::querySync(anonymous, QStringLiteral("vector(1)"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Http);
    QCOMPARE(r.httpStatus, 401);
    QVERIFY2(r.message.contains(QLatin1String("Unauthorized")), qPrintable(r.message));
    QVERIFY(!r.transient());

    // Credentials in the URL work as well.
    PrometheusConfig inUrl = anonymous;
    inUrl.url.setUserName(kUser);
    inUrl.url.setPassword(kPassword);
    const PromResult ok = PrometheusClient::querySync(inUrl, QStringLiteral("vector(1)"), std::nullopt);
    QVERIFY2(ok.ok(), qPrintable(ok.message));
    QCOMPARE(ok.vector.size(), size_t(1));
    // Messages name the server but never its credentials.
    const PromResult bad = PrometheusClient::querySync(inUrl, QStringLiteral("sum("), std::nullopt);
    QVERIFY(!bad.ok());
    QVERIFY2(bad.message.contains(m_url.toString()) && !bad.message.contains(kPassword), qPrintable(bad.message));

    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Istio);
    c.server = anonymous;
    PrometheusSource source(agg, c);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Failed, 10000);
    QVERIFY2(source.stateMessage().contains(QLatin1String("HTTP 401")), qPrintable(source.stateMessage()));
}

void TestPrometheusSource::stateChangesAreLoggedWithoutSecrets()
{
    // Every meshscope category on, so the HTTP layer's lines are checked as well.
    LogCapture log(QStringLiteral("meshscope.*.debug=true"));
    const QString token = QStringLiteral("tok-never-logged-5c1e9a");
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Istio);
    c.server.username.clear();
    c.server.password.clear();
    c.server.bearerToken = token;  // this Prometheus wants basic auth: HTTP 401
    {
        PrometheusSource source(agg, c);
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Failed, 10000);
        source.stop();
    }

    const auto lines = log.lines();
    QStringList prometheus;
    bool http = false;
    for (const auto &[category, message] : lines) {
        QVERIFY2(!message.contains(token) && !message.contains(QLatin1String("Authorization")),
            qPrintable(category + QStringLiteral(": ") + message));
        if (category == QLatin1String("meshscope.prometheus"))
            prometheus << message;
        http = http || category == QLatin1String("meshscope.http");
    }
    const QString all = prometheus.join(QLatin1Char('\n'));
    QVERIFY2(all.contains(QLatin1String("prometheus: stopped -> connecting: querying http://")), qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("connecting -> failed: ")) && all.contains(QLatin1String("HTTP 401")),
        qPrintable(all));
    QVERIFY2(all.contains(QLatin1String("failed -> stopped")), qPrintable(all));
    QVERIFY2(http, "the refused request was not logged under meshscope.http");
}

void TestPrometheusSource::networkFailuresAreExplained()
{
    // Nothing listens on the port.
    PrometheusConfig refused = server();
    refused.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freePort()));
    const PromResult r = PrometheusClient::querySync(refused, QStringLiteral("vector(1)"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Network);
    QVERIFY2(r.message.contains(QLatin1String("Connection refused")) && r.message.contains(refused.url.toString()),
        qPrintable(r.message));
    QVERIFY(r.transient());

    // Accepts and never answers (Prometheus itself cannot be made to do that).
    CaptureServer silent;
    silent.answer = false;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    PrometheusConfig slow = server();
    slow.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort()));
    slow.timeoutMs = 500;
    QElapsedTimer clock;
    clock.start();
    const PromResult t = PrometheusClient::querySync(slow, QStringLiteral("vector(1)"), std::nullopt);
    QCOMPARE(t.kind, PromResult::Error::Timeout);
    QVERIFY2(t.message.contains(QLatin1String("did not answer within 500 ms")), qPrintable(t.message));
    QVERIFY(clock.elapsed() < 5000);
    QVERIFY(t.transient());

    // The caller's thread does not wait for a slow Prometheus.
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Istio);
    c.server = slow;
    PrometheusSource source(agg, c);
    clock.restart();
    source.start();
    source.pollNow();
    source.requestSeries(QStringLiteral("bookinfo/reviews@v2"), double(m_end - 60), double(m_end), 30);
    QVERIFY2(clock.elapsed() < 200, qPrintable(QString::number(clock.elapsed())));
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Retrying, 5000);
    QVERIFY2(source.stateMessage().contains(QLatin1String("did not answer within 500 ms")),
        qPrintable(source.stateMessage()));

    // A wrong path prefix: Prometheus's own 404.
    PrometheusConfig wrongPath = server();
    wrongPath.url = QUrl(m_url.toString() + QStringLiteral("/nope"));
    const PromResult nf = PrometheusClient::querySync(wrongPath, QStringLiteral("vector(1)"), std::nullopt);
    QCOMPARE(nf.kind, PromResult::Error::Http);
    QCOMPARE(nf.httpStatus, 404);
    QVERIFY2(nf.message.contains(QLatin1String("page not found")), qPrintable(nf.message));
}

void TestPrometheusSource::bearerTokenAndPathPrefix()
{
    CaptureServer capture;
    QVERIFY(capture.listen(QHostAddress::LocalHost, 0));
    PrometheusConfig c;
    c.url = QUrl(QStringLiteral("http://127.0.0.1:%1/prom/").arg(capture.serverPort()));
    c.bearerToken = QStringLiteral("tok-123");
    const PromResult r = PrometheusClient::querySync(c, QStringLiteral(R"(1 + sum(x{le="+Inf"}))"), 1700000000.5);
    QVERIFY2(r.ok(), qPrintable(r.message));
    QCOMPARE(r.resultType, QStringLiteral("vector"));
    QVERIFY2(capture.request.startsWith("POST /prom/api/v1/query HTTP/1.1\r\n"), capture.request.constData());
    QVERIFY(capture.request.contains("Authorization: Bearer tok-123\r\n"));
    QVERIFY(capture.request.contains("Content-Type: application/x-www-form-urlencoded"));
    // '+' must be encoded, or a form decoder reads a space.
    QVERIFY2(
        capture.request.contains("query=1%20%2B%20sum%28x%7Ble%3D%22%2BInf%22%7D%29"), capture.request.constData());
    QVERIFY(capture.request.contains("&time=1700000000.500"));
}

void TestPrometheusSource::sourcePollsIntoAggregator()
{
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto);
    c.pollIntervalMs = 300;
    PrometheusSource source(agg, c);
    QSignalSpy updates(&source, &PrometheusSource::graphUpdated);
    QSignalSpy states(&source, &PrometheusSource::stateChanged);
    source.start();
    QTRY_VERIFY_WITH_TIMEOUT(updates.count() >= 2, 10000);
    QCOMPARE(source.state(), PulledSource::State::Connected);
    QCOMPARE(updates.at(0).at(0).toInt(), 12);
    QCOMPARE(updates.at(0).at(1).toDouble(), double(m_end));
    QCOMPARE(states.at(0).at(0).value<PulledSource::State>(), PulledSource::State::Connecting);
    QCOMPARE(states.at(1).at(0).value<PulledSource::State>(), PulledSource::State::Connected);

    GraphSnapshotPtr snap = agg.snapshot(GraphAggregator::wallNowMs());
    QCOMPARE(snap->edges.size(), size_t(12));
    const EdgeSnapshot *e = snap->edge("emojivoto/web->emojivoto/emoji");
    QVERIFY(e);
    QCOMPARE(e->origins, std::vector<std::string> {"prometheus"});
    VERIFY_NEAR(e->stats.rps, 8.4, 1e-6);
    source.stop();
    QCOMPARE(source.state(), PulledSource::State::Stopped);
}

void TestPrometheusSource::chartsFromQueryRange()
{
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto);
    c.pollIntervalMs = 60000;
    PrometheusSource source(agg, c);
    QSignalSpy ready(&source, &PrometheusSource::seriesReady);
    QSignalSpy failed(&source, &PrometheusSource::seriesFailed);
    source.start();
    const QString gwEdge = QStringLiteral("istio-system/istio-ingressgateway->bookinfo/productpage@v1");
    const quint64 a = source.requestSeries(gwEdge, double(m_end - 300), double(m_end), 60);
    const quint64 b
        = source.requestSeries(QStringLiteral("bookinfo/productpage@v1"), double(m_end - 300), double(m_end), 60);
    const quint64 l = source.requestSeries(
        QStringLiteral("emojivoto/web->emojivoto/emoji"), double(m_end - 120), double(m_end), 30);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() + failed.count() >= 3, 15000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(2).toString()));
    std::map<quint64, std::vector<MeshChartPoint>> byId;
    for (const QList<QVariant> &args : ready)
        byId[args.at(0).toULongLong()] = args.at(2).value<std::vector<MeshChartPoint>>();

    const auto &edge = byId[a];
    QCOMPARE(edge.size(), size_t(6));
    QCOMPARE(edge.front().timeSeconds, m_end - 300);
    QCOMPARE(edge.back().timeSeconds, m_end);
    for (const MeshChartPoint &p : edge) {
        VERIFY_NEAR(p.stats.rps, 10.2, 1e-6);
        VERIFY_NEAR(p.stats.errorRate, 0.2 / 10.2, 1e-6);
        VERIFY_NEAR(p.stats.p95Ms, expectedQuantile(kIstioBuckets, kGatewayDist, 0.95), 0.01);
    }
    const auto &node = byId[b];
    QCOMPARE(node.size(), size_t(6));
    VERIFY_NEAR(node.back().stats.rps, 12.2, 1e-6);  // from the gateway and from outside
    const auto &emoji = byId[l];
    QCOMPARE(emoji.size(), size_t(5));
    for (const MeshChartPoint &p : emoji)
        VERIFY_NEAR(p.stats.rps, 8.4, 1e-6);  // each point covers max(step, window) = 60 s
}

void TestPrometheusSource::backoffDoublesAndCaps()
{
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Istio);
    c.server.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freePort()));
    c.initialBackoffMs = 100;
    c.maxBackoffMs = 400;
    PrometheusSource source(agg, c);
    QSignalSpy states(&source, &PrometheusSource::stateChanged);
    source.start();
    auto delays = [&] {
        std::vector<int> out;
        for (const QList<QVariant> &s : states) {
            if (s.at(0).value<PulledSource::State>() == PulledSource::State::Retrying)
                out.push_back(s.at(2).toInt());
        }
        return out;
    };
    QTRY_VERIFY_WITH_TIMEOUT(delays().size() >= 5, 10000);
    const std::vector<int> d = delays();
    QCOMPARE(std::vector<int>(d.begin(), d.begin() + 5), (std::vector<int> {100, 200, 400, 400, 400}));
    QVERIFY2(source.stateMessage().contains(QLatin1String("Connection refused")), qPrintable(source.stateMessage()));
}

void TestPrometheusSource::restartMidRunRecovers()
{
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto);
    c.pollIntervalMs = 300;
    PrometheusSource source(agg, c);  // default back-off: 1 s, 2 s, 4 s ... 30 s
    QCOMPARE(c.initialBackoffMs, 1000);
    QCOMPARE(c.maxBackoffMs, 30000);
    QSignalSpy states(&source, &PrometheusSource::stateChanged);
    QSignalSpy updates(&source, &PrometheusSource::graphUpdated);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Connected, 10000);

    m_process.kill();
    auto retries = [&] {
        std::vector<std::pair<int, QString>> out;
        for (const QList<QVariant> &s : states) {
            if (s.at(0).value<PulledSource::State>() == PulledSource::State::Retrying)
                out.emplace_back(s.at(2).toInt(), s.at(1).toString());
        }
        return out;
    };
    // Outage reported, and a second attempt has failed too.
    QTRY_VERIFY_WITH_TIMEOUT(retries().size() >= 2, 10000);
    QCOMPARE(source.state(), PulledSource::State::Retrying);

    QString error;
    QVERIFY2(m_process.restart(&error), qPrintable(error));
    QVERIFY2(m_process.waitReady(server(), 30000, &error),
        qPrintable(QStringLiteral("Prometheus did not come back: %1\n%2").arg(error, m_process.logTail())));
    const qsizetype updatesBefore = updates.count();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Connected, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(updates.count() > updatesBefore, 5000);

    const auto r = retries();
    QVERIFY(r.size() >= 2);
    QCOMPARE(r[0].first, 1000);
    QCOMPARE(r[1].first, 2000);
    for (size_t i = 2; i < r.size(); ++i)
        QCOMPARE(r[i].first, std::min(30000, r[i - 1].first * 2));
    bool refused = false;
    for (const auto &[delay, message] : r)
        refused = refused || message.contains(QLatin1String("Connection refused"));
    QVERIFY2(refused, qPrintable(r.back().second));
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->edges.size(), size_t(12));
}

QTEST_GUILESS_MAIN(TestPrometheusSource)
#include "tst_prometheussource.moc"

// PrometheusSource against a real VictoriaMetrics (Debian's victoria-metrics), the
// Prometheus-API store users run at scale. The test starts it on a free loopback port
// with a temporary storage directory and basic auth, imports the Istio series and then
// the Linkerd series that tst_prometheussource backfills into Prometheus
// (common/meshseries.h) through /api/v1/import/prometheus, and checks that meshscope
// builds the same graph from it, edge by edge: against the graph computed from the
// series' rates and latency distributions, and against the graph a real Prometheus
// serving the same series gives (started here too when prometheus is installed).

#include "common/meshseries.h"
#include "common/tlsprometheus.h"
#include "graph/graphaggregator.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <map>
#include <memory>

using namespace meshscope;
using namespace meshscope::test;

namespace {

const QString kUser = QStringLiteral("meshscope");
const QString kPassword = QStringLiteral("vm-pass");
constexpr int kWindowSeconds = 60;

struct HttpAnswer {
    int status = 0;  // 0: no HTTP answer
    QByteArray body;
    QString error;
};

// One request with a deadline, on a local event loop.
HttpAnswer httpSync(const QByteArray &verb, const QUrl &url, const QByteArray &body, int timeoutMs)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(url);
    request.setTransferTimeout(timeoutMs);
    const QByteArray credentials = (kUser + QLatin1Char(':') + kPassword).toUtf8().toBase64();
    request.setRawHeader("Authorization", "Basic " + credentials);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("text/plain"));
    QNetworkReply *reply = nam.sendCustomRequest(request, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs + 1000, &loop, &QEventLoop::quit);  // the transfer timeout fires first
    loop.exec();
    HttpAnswer a;
    if (!reply->isFinished()) {
        reply->abort();
        a.error = QStringLiteral("no answer within %1 ms").arg(timeoutMs);
    } else {
        a.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        a.body = reply->readAll();
        if (reply->error() != QNetworkReply::NoError)
            a.error = reply->errorString();
    }
    delete reply;
    return a;
}

// victoria-metrics on a free loopback port, storing under a directory of the test's,
// with basic auth on every API.
class VictoriaMetricsProcess {
public:
    ~VictoriaMetricsProcess() { stop(); }

    bool start(const QString &binary, const QString &dir, QString *error)
    {
        m_dir = dir;
        QDir().mkpath(dir);
        m_port = freePort();
        if (m_port == 0) {
            *error = QStringLiteral("no free loopback port");
            return false;
        }
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setStandardOutputFile(logPath());
        m_process->start(binary,
            {QStringLiteral("-storageDataPath=") + dir + QStringLiteral("/data"),
                QStringLiteral("-httpListenAddr=127.0.0.1:%1").arg(m_port), QStringLiteral("-retentionPeriod=100y"),
                QStringLiteral("-httpAuth.username=") + kUser, QStringLiteral("-httpAuth.password=") + kPassword,
                QStringLiteral("-loggerLevel=WARN"),
                // The store is filled while it is queried: a cached answer from before an
                // import (the empty-store case) must not stand in for the data after it.
                QStringLiteral("-search.disableCache")});
        if (!m_process->waitForStarted(10000)) {
            *error = QStringLiteral("victoria-metrics did not start: ") + m_process->errorString();
            return false;
        }
        return true;
    }

    // Polls GET /health until it answers "OK".
    bool waitHealthy(int timeoutMs, QString *last)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            if (m_process->state() != QProcess::Running) {
                *last = QStringLiteral("victoria-metrics exited: ") + logTail();
                return false;
            }
            const HttpAnswer a = httpSync("GET", endpoint("/health"), {}, 2000);
            if (a.status == 200 && a.body.trimmed() == "OK")
                return true;
            *last = a.error.isEmpty() ? QStringLiteral("HTTP %1: %2").arg(a.status).arg(QString::fromUtf8(a.body))
                                      : a.error;
            QTest::qWait(100);
        }
        return false;
    }

    // Imports Prometheus text (timestamps in ms), then flushes it so that queries see
    // it at once.
    bool import(const QByteArray &prometheusText, QString *error)
    {
        const HttpAnswer in = httpSync("POST", endpoint("/api/v1/import/prometheus"), prometheusText, 60000);
        if (in.status != 204) {
            *error = QStringLiteral("import: HTTP %1 %2 %3").arg(in.status).arg(in.error, QString::fromUtf8(in.body));
            return false;
        }
        const HttpAnswer flush = httpSync("GET", endpoint("/internal/force_flush"), {}, 30000);
        if (flush.status != 200) {
            *error = QStringLiteral("force_flush: HTTP %1 %2").arg(flush.status).arg(flush.error);
            return false;
        }
        return true;
    }

    void stop()
    {
        if (!m_process)
            return;
        m_process->terminate();
        if (!m_process->waitForFinished(10000))
            m_process->kill();
        m_process->waitForFinished(5000);
        m_process.reset();
    }

    QString logTail(qsizetype bytes = 2000) const
    {
        const QByteArray log = readFile(logPath());
        return log.isEmpty() ? QStringLiteral("(nothing logged)") : QString::fromUtf8(log.right(bytes));
    }

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port)); }

private:
    QString logPath() const { return m_dir + QStringLiteral("/victoria-metrics.log"); }
    QUrl endpoint(const char *path) const { return QUrl(url().toString() + QLatin1String(path)); }

    std::unique_ptr<QProcess> m_process;
    QString m_dir;
    int m_port = 0;
};

// Concatenation, for the graph of both meshes.
std::vector<ExpectedEdge> operator+(std::vector<ExpectedEdge> a, const std::vector<ExpectedEdge> &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

class TestVictoriaMetrics : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void emptyStoreGivesEmptyGraph();
    void istioGraphMatchesPrometheus();
    void linkerdGraphMatchesPrometheus();
    void autoAsksBothAndDefaultsToNow();
    void sourcePollsIntoAggregator();
    void chartsFromQueryRange();
    void errorsCarryVictoriaMetricsMessage();

private:
    PrometheusConfig vmServer() const
    {
        PrometheusConfig c;
        c.url = m_vm.url();
        c.username = kUser;
        c.password = kPassword;
        c.timeoutMs = 10000;
        return c;
    }
    PrometheusSourceConfig sourceConfig(MeshKind mesh, const PrometheusConfig &server) const
    {
        PrometheusSourceConfig c;
        c.server = server;
        c.mesh = mesh;
        c.windowSeconds = kWindowSeconds;
        c.queryTime = double(m_end);
        return c;
    }
    bool graph(const PrometheusConfig &server, MeshKind mesh, std::vector<PulledEdge> *edges)
    {
        QString error;
        if (PrometheusSource::fetchGraph(sourceConfig(mesh, server), edges, &error))
            return true;
        qWarning("fetchGraph from %s: %s", qPrintable(server.url.toString()), qPrintable(error));
        return false;
    }
    // The graph from VictoriaMetrics against the expected one and, when Prometheus
    // runs, against Prometheus's.
    void compareWithPrometheus(MeshKind mesh, const std::vector<ExpectedEdge> &expected);
    std::vector<std::vector<MeshChartPoint>> charts(const PrometheusConfig &server);

    QTemporaryDir m_dir;
    VictoriaMetricsProcess m_vm;
    PrometheusProcess m_prometheus;  // the reference, serving the same series
    bool m_haveReference = false;
    int64_t m_end = 0;
};

void TestVictoriaMetrics::initTestCase()
{
    const QString vm = findTool("victoria-metrics");
    MESHSCOPE_REQUIRE_PEER(!vm.isEmpty(), "victoria-metrics");
    QVERIFY(m_dir.isValid());

    // Ten minutes ending on a step boundary a minute ago. VictoriaMetrics moves an
    // instant query closer to now than -search.latencyOffset (30 s by default) back to
    // that offset; queries at m_end stay clear of it, so both stores answer for the
    // same instant.
    const int64_t now = QDateTime::currentSecsSinceEpoch();
    m_end = now / kSeriesStepSeconds * kSeriesStepSeconds - 60;

    QString error;
    QVERIFY2(m_vm.start(vm, m_dir.filePath(QStringLiteral("vm")), &error), qPrintable(error));
    QVERIFY2(m_vm.waitHealthy(30000, &error),
        qPrintable(QStringLiteral("victoria-metrics did not become healthy: %1\n%2").arg(error, m_vm.logTail())));

    // The reference: Prometheus on the same series, backfilled, without auth.
    const QString prometheus = findTool("prometheus");
    const QString promtool = findTool("promtool");
    m_haveReference = !prometheus.isEmpty() && !promtool.isEmpty();
    if (!m_haveReference) {
        if (missingPeerFails())
            QFAIL("prometheus and promtool are not installed; CI compares VictoriaMetrics with a real Prometheus");
        qInfo("prometheus is not installed: VictoriaMetrics is checked against the expected graph only");
        return;
    }
    MeshSeriesWriter writer(m_end - kSeriesSpanSeconds, m_end);
    writeIstio(writer);
    writeLinkerd(writer);
    const QString promDir = m_dir.filePath(QStringLiteral("prometheus"));
    QVERIFY(QDir().mkpath(promDir));
    QVERIFY2(backfillOpenMetrics(promtool, writer.openMetrics(), promDir, promDir + QStringLiteral("/tsdb"), &error),
        qPrintable(error));
    QVERIFY2(m_prometheus.start(prometheus, promDir, "# no TLS, no auth\n", &error), qPrintable(error));
    PrometheusConfig reference;
    reference.url = m_prometheus.url();
    QVERIFY2(m_prometheus.waitReady(reference, 30000, &error),
        qPrintable(QStringLiteral("Prometheus did not become ready: %1\n%2").arg(error, m_prometheus.logTail())));
}

void TestVictoriaMetrics::cleanupTestCase()
{
    m_vm.stop();
    m_prometheus.stop();
}

void TestVictoriaMetrics::emptyStoreGivesEmptyGraph()
{
    // Nothing imported yet: an answer, with no edges.
    std::vector<PulledEdge> edges;
    QVERIFY(graph(vmServer(), MeshKind::Auto, &edges));
    QVERIFY2(edges.empty(), qPrintable(describe(edges)));
}

void TestVictoriaMetrics::compareWithPrometheus(MeshKind mesh, const std::vector<ExpectedEdge> &expected)
{
    // Series become searchable moments after the flush; on a busy machine (the TSan
    // run) that can take seconds, so the graph is asked again until it matches or 20 s
    // have passed.
    std::vector<PulledEdge> edges;
    QElapsedTimer waited;
    waited.start();
    for (;;) {
        edges.clear();
        QVERIFY(graph(vmServer(), mesh, &edges));
        if (graphMismatches(edges, expected).isEmpty() || waited.elapsed() > 20000)
            break;
        QTest::qWait(250);
    }
    const QStringList mismatches = graphMismatches(edges, expected);
    QVERIFY2(mismatches.isEmpty(),
        qPrintable(mismatches.join(QLatin1Char('\n')) + QStringLiteral("\nedges:\n  ") + describe(edges)));
    if (!m_haveReference)
        return;
    PrometheusConfig reference;
    reference.url = m_prometheus.url();
    std::vector<PulledEdge> fromPrometheus;
    QVERIFY(graph(reference, mesh, &fromPrometheus));
    const QStringList differences = graphDifferences(edges, fromPrometheus);
    QVERIFY2(differences.isEmpty(), qPrintable(differences.join(QLatin1Char('\n'))));
}

void TestVictoriaMetrics::istioGraphMatchesPrometheus()
{
    MeshSeriesWriter writer(m_end - kSeriesSpanSeconds, m_end);
    writeIstio(writer);
    QString error;
    QVERIFY2(m_vm.import(writer.prometheusText(), &error), qPrintable(error + QLatin1Char('\n') + m_vm.logTail()));

    compareWithPrometheus(MeshKind::Istio, expectedIstioGraph(kWindowSeconds));
    if (QTest::currentTestFailed())
        return;
    // Only Istio's series are in so far.
    std::vector<PulledEdge> linkerd;
    QVERIFY(graph(vmServer(), MeshKind::Linkerd, &linkerd));
    QVERIFY2(linkerd.empty(), qPrintable(describe(linkerd)));

    // In the aggregator: node kinds and north-south / east-west, as from Prometheus.
    std::vector<PulledEdge> edges;
    QVERIFY(graph(vmServer(), MeshKind::Istio, &edges));
    GraphAggregator agg;
    const int64_t now = GraphAggregator::wallNowMs();
    agg.setPulledEdges("prometheus", edges, now);
    GraphSnapshotPtr snap = agg.snapshot(now);
    QCOMPARE(snap->node("istio-system/istio-ingressgateway")->kind, NodeKind::Gateway);
    QCOMPARE(snap->node("external")->kind, NodeKind::External);
    QCOMPARE(snap->node("ext:api.ratings.example.com")->kind, NodeKind::ExternalService);
    QCOMPARE(
        snap->edge("istio-system/istio-ingressgateway->bookinfo/productpage@v1")->direction, Direction::NorthSouth);
    QCOMPARE(snap->edge("bookinfo/productpage@v1->bookinfo/reviews@v2")->direction, Direction::EastWest);
    VERIFY_NEAR(snap->node("bookinfo/productpage@v1")->stats.rps,
        rates::kGatewayOk + rates::kGateway503 + rates::kUnmeshedToProductpage, 1e-6);
}

void TestVictoriaMetrics::linkerdGraphMatchesPrometheus()
{
    MeshSeriesWriter writer(m_end - kSeriesSpanSeconds, m_end);
    writeLinkerd(writer);
    QString error;
    QVERIFY2(m_vm.import(writer.prometheusText(), &error), qPrintable(error + QLatin1Char('\n') + m_vm.logTail()));

    compareWithPrometheus(MeshKind::Linkerd, expectedLinkerdGraph(kWindowSeconds));
}

void TestVictoriaMetrics::autoAsksBothAndDefaultsToNow()
{
    compareWithPrometheus(MeshKind::Auto, expectedIstioGraph(kWindowSeconds) + expectedLinkerdGraph(kWindowSeconds));

    // Without a query time the graph is for now (VictoriaMetrics answers for 30 s
    // earlier); a five-minute window still covers the data.
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto, vmServer());
    c.queryTime.reset();
    c.windowSeconds = 300;
    std::vector<PulledEdge> edges;
    QString error;
    double at = 0;
    QVERIFY2(PrometheusSource::fetchGraph(c, &edges, &error, &at), qPrintable(error));
    QVERIFY(std::abs(at - double(QDateTime::currentSecsSinceEpoch())) < 60);
    QCOMPARE(edges.size(), size_t(12));
}

void TestVictoriaMetrics::sourcePollsIntoAggregator()
{
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto, vmServer());
    c.pollIntervalMs = 300;
    PrometheusSource source(agg, c);
    QSignalSpy updates(&source, &PrometheusSource::graphUpdated);
    source.start();
    QTRY_VERIFY_WITH_TIMEOUT(updates.count() >= 2, 10000);
    QCOMPARE(source.state(), PulledSource::State::Connected);
    QCOMPARE(updates.at(0).at(0).toInt(), 12);
    QCOMPARE(updates.at(0).at(1).toDouble(), double(m_end));

    GraphSnapshotPtr snap = agg.snapshot(GraphAggregator::wallNowMs());
    QCOMPARE(snap->edges.size(), size_t(12));
    const EdgeSnapshot *e = snap->edge("emojivoto/web->emojivoto/emoji");
    QVERIFY(e);
    QCOMPARE(e->origins, std::vector<std::string> {"prometheus"});
    VERIFY_NEAR(e->stats.rps, rates::kEmojiOk + rates::kEmojiFailed, 1e-6);
    source.stop();
    QCOMPARE(source.state(), PulledSource::State::Stopped);
}

// The points of three charts asked of one server, as the dashboard asks them: an
// edge and a node over five minutes every minute, an edge over two minutes every 30 s.
std::vector<std::vector<MeshChartPoint>> TestVictoriaMetrics::charts(const PrometheusConfig &server)
{
    GraphAggregator agg;
    PrometheusSourceConfig c = sourceConfig(MeshKind::Auto, server);
    c.pollIntervalMs = 60000;
    PrometheusSource source(agg, c);
    QSignalSpy ready(&source, &PrometheusSource::seriesReady);
    QSignalSpy failed(&source, &PrometheusSource::seriesFailed);
    source.start();
    const quint64 ids[] = {
        source.requestSeries(QStringLiteral("istio-system/istio-ingressgateway->bookinfo/productpage@v1"),
            double(m_end - 300), double(m_end), 60),
        source.requestSeries(QStringLiteral("bookinfo/productpage@v1"), double(m_end - 300), double(m_end), 60),
        source.requestSeries(QStringLiteral("emojivoto/web->emojivoto/emoji"), double(m_end - 120), double(m_end), 30),
    };
    QElapsedTimer clock;
    clock.start();
    while (ready.count() + failed.count() < 3 && clock.elapsed() < 15000)
        QTest::qWait(50);
    for (const QList<QVariant> &f : failed)
        qWarning("chart %s failed: %s", qPrintable(f.at(1).toString()), qPrintable(f.at(2).toString()));
    std::map<quint64, std::vector<MeshChartPoint>> byId;
    for (const QList<QVariant> &args : ready)
        byId[args.at(0).toULongLong()] = args.at(2).value<std::vector<MeshChartPoint>>();
    source.stop();
    return {byId[ids[0]], byId[ids[1]], byId[ids[2]]};
}

void TestVictoriaMetrics::chartsFromQueryRange()
{
    using namespace rates;
    const std::vector<std::vector<MeshChartPoint>> vm = charts(vmServer());
    const std::vector<MeshChartPoint> &edge = vm[0], &node = vm[1], &emoji = vm[2];
    QCOMPARE(edge.size(), size_t(6));
    QCOMPARE(edge.front().timeSeconds, m_end - 300);
    QCOMPARE(edge.back().timeSeconds, m_end);
    for (const MeshChartPoint &p : edge) {
        VERIFY_NEAR(p.stats.rps, kGatewayOk + kGateway503, 1e-6);
        VERIFY_NEAR(p.stats.errorRate, kGateway503 / (kGatewayOk + kGateway503), 1e-6);
        VERIFY_NEAR(p.stats.p95Ms, expectedQuantile(kIstioBuckets, kGatewayDist, 0.95), 0.01);
    }
    QCOMPARE(node.size(), size_t(6));
    // From the gateway and from outside.
    VERIFY_NEAR(node.back().stats.rps, kGatewayOk + kGateway503 + kUnmeshedToProductpage, 1e-6);
    QCOMPARE(emoji.size(), size_t(5));
    for (const MeshChartPoint &p : emoji)
        VERIFY_NEAR(p.stats.rps, kEmojiOk + kEmojiFailed, 1e-6);  // each point covers max(step, window) = 60 s

    // Point by point what Prometheus answers for the same charts.
    if (!m_haveReference)
        return;
    PrometheusConfig reference;
    reference.url = m_prometheus.url();
    const std::vector<std::vector<MeshChartPoint>> prom = charts(reference);
    for (size_t i = 0; i < vm.size(); ++i) {
        QCOMPARE(vm[i].size(), prom[i].size());
        for (size_t j = 0; j < vm[i].size(); ++j) {
            const MeshChartPoint &p = vm[i][j], &q = prom[i][j];
            QCOMPARE(p.timeSeconds, q.timeSeconds);
            QCOMPARE(p.stats.requests, q.stats.requests);
            VERIFY_NEAR(p.stats.rps, q.stats.rps, 1e-6);
            VERIFY_NEAR(p.stats.errorRate, q.stats.errorRate, 1e-6);
            VERIFY_NEAR(p.stats.rate4xx, q.stats.rate4xx, 1e-6);
            VERIFY_NEAR(p.stats.rate5xx, q.stats.rate5xx, 1e-6);
            VERIFY_NEAR(p.stats.p50Ms, q.stats.p50Ms, 1e-6);
            VERIFY_NEAR(p.stats.p95Ms, q.stats.p95Ms, 1e-6);
            VERIFY_NEAR(p.stats.p99Ms, q.stats.p99Ms, 1e-6);
        }
    }
}

void TestVictoriaMetrics::errorsCarryVictoriaMetricsMessage()
{
    // A bad query: VictoriaMetrics' own words and status (422), and no fast retries.
    const PromResult parse = PrometheusClient::querySync(vmServer(), QStringLiteral("sum("), double(m_end));
    QCOMPARE(parse.kind, PromResult::Error::Prometheus);
    QCOMPARE(parse.httpStatus, 422);
    QVERIFY2(parse.message.contains(QLatin1String("unexpected token")), qPrintable(parse.message));
    QVERIFY(!parse.transient());

    PrometheusSourceConfig c = sourceConfig(MeshKind::Istio, vmServer());
    c.selector = QStringLiteral("cluster=~\"(\"");
    GraphAggregator agg;
    PrometheusSource source(agg, c);
    QSignalSpy states(&source, &PrometheusSource::stateChanged);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Failed, 10000);
    for (const QList<QVariant> &s : states)
        QVERIFY(s.at(0).value<PulledSource::State>() != PulledSource::State::Retrying);
    const QString message = source.stateMessage();
    QVERIFY2(message.contains(QLatin1String("HTTP 422")) && message.contains(QLatin1String("error when executing")),
        qPrintable(message));
    // VictoriaMetrics puts the whole query (about 800 bytes) before its reason; the
    // client cuts that echo so the reason fits in the bounded error text.
    QVERIFY2(message.contains(QLatin1String("error parsing regexp: missing closing )")), qPrintable(message));

    // Without credentials: refused, and not retried either.
    PrometheusConfig anonymous = vmServer();
    anonymous.username.clear();
    anonymous.password.clear();
    const PromResult r = PrometheusClient::querySync(anonymous, QStringLiteral("vector(1)"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Http);
    QCOMPARE(r.httpStatus, 401);
    QVERIFY(!r.transient());
}

QTEST_GUILESS_MAIN(TestVictoriaMetrics)
#include "tst_victoriametrics.moc"

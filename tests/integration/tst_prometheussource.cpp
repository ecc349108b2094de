// PrometheusSource and PrometheusClient against a real Prometheus (Debian's
// prometheus and promtool). The test writes ten minutes of Istio- and Linkerd-shaped
// counters and histograms as OpenMetrics text (common/meshseries.h, shared with
// tst_victoriametrics), backfills them with
// `promtool tsdb create-blocks-from openmetrics`, serves them from a Prometheus on a
// free loopback port (with basic auth, from a web config), and checks that the graph
// matches the series edge by edge, that errors carry Prometheus's own message, that
// charts come from query_range, and that the source rides out a Prometheus restart.
// Mock servers only stand in for what Prometheus cannot be made to do: never answer,
// and show the headers it was sent.

#include "common/meshseries.h"
#include "common/tlsprometheus.h"
#include "graph/graphaggregator.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QDateTime>
#include <QElapsedTimer>
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
using namespace meshscope::test;

namespace {

const QString kUser = QStringLiteral("meshscope");
const QString kPassword = QStringLiteral("mesh-pass");
// bcrypt (cost 4, libxcrypt) of kPassword, for Prometheus's web config.
const char *const kPasswordHash = "$2b$04$meshscopetestsaltsalteAZYufndAxEbhtH1FB1VSEs9CYsSdME2";

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
    m_end = now / kSeriesStepSeconds * kSeriesStepSeconds - kSeriesStepSeconds;
    MeshSeriesWriter writer(m_end - kSeriesSpanSeconds, m_end);
    writeIstio(writer);
    writeLinkerd(writer);
    QString error;
    QVERIFY2(backfillOpenMetrics(
                 promtool, writer.openMetrics(), m_dir.path(), m_dir.filePath(QStringLiteral("tsdb")), &error),
        qPrintable(error));

    // No scrape targets: the backfilled blocks are all it serves.
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
    // Every edge and number as computed from the series (what tst_victoriametrics
    // holds VictoriaMetrics to as well); the checks below spell out the why.
    const QStringList mismatches = graphMismatches(edges, expectedIstioGraph(60));
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.join(QLatin1Char('\n'))));

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
    const QStringList mismatches = graphMismatches(edges, expectedLinkerdGraph(60));
    QVERIFY2(mismatches.isEmpty(), qPrintable(mismatches.join(QLatin1Char('\n'))));

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

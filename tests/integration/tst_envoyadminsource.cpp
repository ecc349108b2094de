// EnvoyAdminSource and `meshscope-cli graph --envoy-admin` against an HTTP peer that
// answers Envoy's admin paths. Debian packages no Envoy, so the peer is a small
// server in the test serving the documents of tests/data/envoy-admin (shaped as
// Envoy writes them) with counters the test advances between polls; it checks that
// edges and rates match the deltas served, that host health shows, that the source
// retries while the admin is down and recovers by itself, and that the CLI prints
// the edges and exits non-zero with one line for each kind of failure.

#include "common/envoyadminserver.h"
#include "common/testenv.h"
#include "graph/graphaggregator.h"
#include "telemetry/envoyadmin/envoyadminsource.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>
#include <QtTest>

#include <cmath>
#include <map>

using namespace meshscope;
using namespace meshscope::test;

namespace {

const EdgeSnapshot *findEdge(const GraphSnapshot &g, const std::string &id) { return g.edge(id); }

bool near(double actual, double expected, double relative)
{
    return std::abs(actual - expected) <= std::abs(expected) * relative;
}

struct CliRun {
    int exitCode = -1;
    QByteArray out, err;
};

// Runs the CLI without blocking this thread's event loop: the admin server lives on it.
CliRun runCli(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(MESHSCOPE_CLI_PATH), args);
    CliRun r;
    if (!p.waitForStarted(10000))
        return r;
    QElapsedTimer clock;
    clock.start();
    while (p.state() != QProcess::NotRunning && clock.elapsed() < 30000)
        QTest::qWait(20);
    if (p.state() != QProcess::NotRunning) {
        p.kill();
        p.waitForFinished(5000);
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

}  // namespace

class TestEnvoyAdminSource : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void edgesAndRatesMatchCounterDeltas();
    void hostHealthShows();
    void downRetriesThenRecovers();
    void errorsAreOneSpecificLine();
    void cliPrintsEdgesAndHealth();
    void cliFailuresExitNonZero();
};

void TestEnvoyAdminSource::edgesAndRatesMatchCounterDeltas()
{
    AdminServer server;
    server.fixedStep = 0;
    QVERIFY(server.start());
    GraphAggregator agg;
    EnvoyAdminSourceConfig c;
    c.admin.url = QUrl(server.url());
    c.pollIntervalMs = 60000;  // polls come from pollNow only
    EnvoyAdminSource source(agg, c);
    QSignalSpy updates(&source, &EnvoyAdminSource::graphUpdated);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(updates.count(), 1, 10000);
    QCOMPARE(source.state(), PulledSource::State::Connected);
    QCOMPARE(updates.at(0).at(1).toDouble(), 0.0);  // one sample: no rates yet
    // Only cluster stats, and only those Envoy ever wrote.
    QVERIFY2(server.statsQueries.value(0).contains(QLatin1String("filter=^cluster\\.")),
        qPrintable(server.statsQueries.value(0)));
    QVERIFY(server.statsQueries.value(0).contains(QLatin1String("usedonly")));

    QTest::qWait(700);
    server.fixedStep = 2;
    source.pollNow();
    QTRY_COMPARE_WITH_TIMEOUT(updates.count(), 2, 10000);
    QCOMPARE(server.statsServedMs.size(), size_t(2));
    const double servedApart = double(server.statsServedMs[1] - server.statsServedMs[0]) / 1000.0;
    const double interval = updates.at(1).at(1).toDouble();
    QVERIFY2(near(interval, servedApart, 0.05), qPrintable(QStringLiteral("%1 vs %2").arg(interval).arg(servedApart)));

    GraphSnapshotPtr g = agg.snapshot(GraphAggregator::wallNowMs());
    const std::string gw = "istio-system/istio-ingressgateway";
    const NodeSnapshot *gateway = g->node(gw);
    QVERIFY(gateway);
    QCOMPARE(gateway->kind, NodeKind::Gateway);
    QCOMPARE(g->edges.size(), size_t(5));

    const EdgeSnapshot *product = findEdge(*g, gw + "->bookinfo/productpage");
    QVERIFY(product);
    QCOMPARE(product->stats.requests, uint64_t(100));  // two steps of 50
    QVERIFY2(near(product->stats.rps, 100 / servedApart, 0.05), qPrintable(QString::number(product->stats.rps)));
    QCOMPARE(product->stats.errorRate, 0.12);
    QCOMPARE(product->stats.rate4xx, 0.08);
    QCOMPARE(product->stats.p95Ms, 55.0);
    QCOMPARE(product->direction, Direction::NorthSouth);
    QCOMPARE(product->origins, std::vector<std::string> {"envoy-admin"});

    const EdgeSnapshot *reviews = findEdge(*g, gw + "->bookinfo/reviews@v2");
    QVERIFY(reviews);
    QCOMPARE(reviews->stats.requests, uint64_t(40));
    QCOMPARE(reviews->stats.errorRate, 0.05);
    const EdgeSnapshot *api = findEdge(*g, gw + "->ext:api.example.com");
    QVERIFY(api);
    QCOMPARE(api->stats.requests, uint64_t(20));  // from host counters
    QCOMPARE(api->stats.errorRate, 0.1);
    const EdgeSnapshot *mongo = findEdge(*g, gw + "->bookinfo/mongodb");
    QVERIFY(mongo);
    QCOMPARE(mongo->protocol, Protocol::Tcp);
    QCOMPARE(mongo->stats.requests, uint64_t(6));
    QVERIFY(findEdge(*g, gw + "->backend_v1"));

    // Idle since: rates fall to zero, the edges stay.
    QTest::qWait(300);
    source.pollNow();
    QTRY_COMPARE_WITH_TIMEOUT(updates.count(), 3, 10000);
    g = agg.snapshot(GraphAggregator::wallNowMs());
    QCOMPARE(findEdge(*g, gw + "->bookinfo/productpage")->stats.rps, 0.0);
    source.stop();
    QCOMPARE(source.state(), PulledSource::State::Stopped);
}

void TestEnvoyAdminSource::hostHealthShows()
{
    AdminServer server;
    QVERIFY(server.start());
    GraphAggregator agg;
    EnvoyAdminSourceConfig c;
    c.admin.url = QUrl(server.url());
    c.proxyName = QStringLiteral("edge/front-proxy");
    EnvoyAdminSource source(agg, c);
    QSignalSpy health(&source, &EnvoyAdminSource::healthUpdated);
    source.start();
    QTRY_VERIFY_WITH_TIMEOUT(health.count() >= 1, 10000);
    QCOMPARE(health.at(0).at(0).toString(), QStringLiteral("edge/front-proxy"));
    QCOMPARE(source.proxyNodeId(), QStringLiteral("edge/front-proxy"));
    const std::vector<EnvoyClusterHealth> &view = source.upstreamHealth();
    QCOMPARE(view.size(), size_t(10));
    const EnvoyClusterHealth *product = nullptr, *reviews = nullptr;
    for (const EnvoyClusterHealth &h : view) {
        if (h.cluster == kProduct)
            product = &h;
        if (h.cluster == kReviews)
            reviews = &h;
    }
    QVERIFY(product && reviews);
    QCOMPARE(product->hostsTotal, 2);
    QCOMPARE(product->outlierEjected, 1);
    QCOMPARE(product->healthy, 1);
    QCOMPARE(product->hosts[1].address, QStringLiteral("10.244.0.12:9080"));
    QCOMPARE(product->hosts[1].state, EnvoyHostState::Unhealthy);
    QCOMPARE(product->hosts[1].successRate.value_or(-1), 65.0);
    QCOMPARE(reviews->failedActiveHc, 1);
    QCOMPARE(reviews->hosts[1].flags, QStringList {QStringLiteral("failed_active_health_check")});
    QCOMPARE(reviews->nodeId, std::string("bookinfo/reviews@v2"));
    GraphSnapshotPtr g = agg.snapshot(GraphAggregator::wallNowMs());
    QVERIFY(g->node("edge/front-proxy"));
    QCOMPARE(g->node("edge/front-proxy")->kind, NodeKind::Gateway);
}

void TestEnvoyAdminSource::downRetriesThenRecovers()
{
    AdminServer server;
    QVERIFY(server.start());
    const quint16 port = server.serverPort();
    GraphAggregator agg;
    EnvoyAdminSourceConfig c;
    c.admin.url = QUrl(server.url());
    c.pollIntervalMs = 200;
    c.initialBackoffMs = 200;
    c.maxBackoffMs = 400;
    EnvoyAdminSource source(agg, c);
    QSignalSpy updates(&source, &EnvoyAdminSource::graphUpdated);
    QSignalSpy states(&source, &EnvoyAdminSource::stateChanged);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Connected, 10000);

    server.close();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Retrying, 10000);
    QVERIFY2(source.stateMessage().contains(QStringLiteral("cannot reach Envoy admin at http://127.0.0.1:%1").arg(port))
            && source.stateMessage().contains(QLatin1String("Connection refused"))
            && source.stateMessage().contains(QLatin1String("retrying in")),
        qPrintable(source.stateMessage()));
    bool sawRetryDelay = false;
    for (const QList<QVariant> &s : states)
        sawRetryDelay = sawRetryDelay || s.at(2).toInt() > 0;
    QVERIFY(sawRetryDelay);

    const int before = int(updates.count());
    QVERIFY(server.start(port));
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Connected, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(updates.count() > before, 5000);
}

void TestEnvoyAdminSource::errorsAreOneSpecificLine()
{
    AdminServer server;
    QVERIFY(server.start());
    EnvoyAdminConfig c;
    c.url = QUrl(server.url());
    EnvoyAdminSample sample;
    QString error;

    server.clustersStatus = 503;
    QVERIFY(!EnvoyAdminSource::fetchSample(c, &sample, &error));
    QCOMPARE(error,
        QStringLiteral("HTTP 503 for /clusters?format=json from %1: envoy admin: unavailable").arg(server.url()));

    server.clustersStatus = 200;
    server.malformedStats = true;
    QVERIFY(!EnvoyAdminSource::fetchSample(c, &sample, &error));
    QCOMPARE(error,
        QStringLiteral("/stats?format=json from %1: stats[0].value is -5, not an unsigned integer").arg(server.url()));

    // A wrong path prefix: Envoy's own 404 page.
    c.url = QUrl(server.url() + QStringLiteral("/admin"));
    QVERIFY(!EnvoyAdminSource::fetchSample(c, &sample, &error));
    QVERIFY2(error.startsWith(
                 QStringLiteral("HTTP 404 for /clusters?format=json from %1/admin: invalid path.").arg(server.url())),
        qPrintable(error));

    c.url = QUrl(QStringLiteral("ftp://127.0.0.1:9901"));
    QVERIFY(!EnvoyAdminSource::fetchSample(c, &sample, &error));
    QVERIFY2(error.contains(QLatin1String("is not an Envoy admin URL")), qPrintable(error));

    // A failed poll that is not transient leaves the source Failed, not Retrying.
    server.malformedStats = true;
    GraphAggregator agg;
    EnvoyAdminSourceConfig sc;
    sc.admin.url = QUrl(server.url());
    EnvoyAdminSource source(agg, sc);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.state(), PulledSource::State::Failed, 10000);
    QVERIFY(source.stateMessage().contains(QLatin1String("not an unsigned integer")));
}

void TestEnvoyAdminSource::cliPrintsEdgesAndHealth()
{
    AdminServer server;  // each endpoint advances one step per request
    QVERIFY(server.start());
    const CliRun r = runCli({QStringLiteral("graph"), QStringLiteral("--envoy-admin"), server.url(),
        QStringLiteral("--duration"), QStringLiteral("1")});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QCOMPARE(server.statsServedMs.size(), size_t(2));
    const double apart = double(server.statsServedMs[1] - server.statsServedMs[0]) / 1000.0;
    QVERIFY2(apart >= 0.95 && apart < 3, qPrintable(QString::number(apart)));

    const QJsonObject graph = QJsonDocument::fromJson(r.out).object();
    const QString gw = QStringLiteral("istio-system/istio-ingressgateway");
    QMap<QString, QJsonObject> edges;
    for (const QJsonValue &e : graph.value(QStringLiteral("edges")).toArray()) {
        const QJsonObject o = e.toObject();
        QCOMPARE(o.value(QStringLiteral("source")).toString(), gw);
        edges.insert(o.value(QStringLiteral("target")).toString(), o);
    }
    QCOMPARE(edges.keys(),
        (QStringList {QStringLiteral("backend_v1"), QStringLiteral("bookinfo/mongodb"),
            QStringLiteral("bookinfo/productpage"), QStringLiteral("bookinfo/reviews@v2"),
            QStringLiteral("ext:api.example.com")}));
    const QJsonObject product = edges.value(QStringLiteral("bookinfo/productpage"));
    QCOMPARE(product.value(QStringLiteral("requests")).toDouble(), 50.0);
    QVERIFY2(near(product.value(QStringLiteral("rps")).toDouble(), 50 / apart, 0.05), r.out.constData());
    QCOMPARE(product.value(QStringLiteral("error_rate")).toDouble(), 0.12);
    QCOMPARE(product.value(QStringLiteral("rate_4xx")).toDouble(), 0.08);
    QCOMPARE(product.value(QStringLiteral("direction")).toString(), QStringLiteral("north_south"));
    QCOMPARE(product.value(QStringLiteral("sources")).toArray().first().toString(), QStringLiteral("envoy-admin"));
    QCOMPARE(edges.value(QStringLiteral("ext:api.example.com")).value(QStringLiteral("requests")).toDouble(), 10.0);

    QJsonArray health;
    for (const QJsonValue &n : graph.value(QStringLiteral("nodes")).toArray()) {
        if (n.toObject().value(QStringLiteral("id")).toString() == gw) {
            QCOMPARE(n.toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("gateway"));
            health = n.toObject().value(QStringLiteral("upstream_health")).toArray();
        }
    }
    QCOMPARE(health.size(), 10);
    const QJsonObject first = health[0].toObject();
    QCOMPARE(first.value(QStringLiteral("cluster")).toString(), kProduct);
    QCOMPARE(first.value(QStringLiteral("outlier_ejected")).toInt(), 1);
    QCOMPARE(health[1].toObject().value(QStringLiteral("failed_active_hc")).toInt(), 1);
    const QByteArray summary = QByteArray("5 edges from Envoy admin at ") + server.url().toUtf8();
    QVERIFY2(r.err.contains(summary), r.err.constData());

    // --envoy-admin-name names the gateway; dot output works too.
    AdminServer second;
    QVERIFY(second.start());
    const CliRun d = runCli({QStringLiteral("graph"), QStringLiteral("--envoy-admin"), second.url(),
        QStringLiteral("--envoy-admin-name"), QStringLiteral("edge/front-proxy"), QStringLiteral("--duration"),
        QStringLiteral("0.3"), QStringLiteral("--format"), QStringLiteral("dot")});
    QVERIFY2(d.exitCode == 0, d.err.constData());
    QVERIFY2(d.out.contains("\"edge/front-proxy\" -> \"bookinfo/productpage\""), d.out.constData());
    QVERIFY(d.out.contains("shape=hexagon"));
}

void TestEnvoyAdminSource::cliFailuresExitNonZero()
{
    const int port = freePort();
    const CliRun down = runCli(
        {QStringLiteral("graph"), QStringLiteral("--envoy-admin"), QStringLiteral("http://127.0.0.1:%1").arg(port)});
    QVERIFY(down.exitCode != 0 && down.exitCode != -1);
    QCOMPARE(QString::fromUtf8(down.err).trimmed(),
        QStringLiteral("meshscope-cli graph: cannot reach Envoy admin at http://127.0.0.1:%1: Connection refused")
            .arg(port));

    AdminServer server;
    QVERIFY(server.start());
    server.clustersStatus = 503;
    const CliRun http = runCli({QStringLiteral("graph"), QStringLiteral("--envoy-admin"), server.url()});
    QVERIFY(http.exitCode > 0);
    QVERIFY2(http.err.trimmed().split('\n').size() == 1 && http.err.contains("HTTP 503 for /clusters?format=json"),
        http.err.constData());

    server.clustersStatus = 200;
    server.malformedStats = true;
    const CliRun bad = runCli({QStringLiteral("graph"), QStringLiteral("--envoy-admin"), server.url()});
    QVERIFY(bad.exitCode > 0);
    QVERIFY2(
        bad.err.trimmed().split('\n').size() == 1 && bad.err.contains("stats[0].value is -5, not an unsigned integer"),
        bad.err.constData());

    const CliRun usage = runCli({QStringLiteral("graph"), QStringLiteral("--envoy-admin")});
    QCOMPARE(usage.exitCode, 2);
    QVERIFY(usage.err.contains("--envoy-admin needs a URL"));
    const CliRun tls = runCli({QStringLiteral("graph"), QStringLiteral("--envoy-admin"), server.url(),
        QStringLiteral("--envoy-admin-insecure-skip-verify")});
    QCOMPARE(tls.exitCode, 2);
    QVERIFY2(tls.err.contains("need an https:// --envoy-admin URL"), tls.err.constData());
}

QTEST_GUILESS_MAIN(TestEnvoyAdminSource)
#include "tst_envoyadminsource.moc"

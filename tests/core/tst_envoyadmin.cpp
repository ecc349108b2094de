// Parsers and graph building for the Envoy admin source: /clusters?format=json,
// /stats?format=json and /server_info as Envoy writes them (proto JSON with uint64
// as strings and default values omitted; tests/data/envoy-admin), Istio and plain
// cluster names, rates from counter deltas (including restarts), the health view,
// and one specific error line per kind of malformed document.

#include "telemetry/envoyadmin/envoyadmin.h"
#include "telemetry/envoyadmin/envoyadminparse.h"
#include "telemetry/envoyadmin/envoyadminview.h"
#include "telemetry/prometheus/meshmetrics.h"

#include <QFile>
#include <QJsonObject>
#include <QtTest>

using namespace meshscope;

namespace {

const QString kWhere = QStringLiteral("/clusters?format=json from http://127.0.0.1:9901");
const std::string kProduct = "cluster.outbound|9080||productpage.bookinfo.svc.cluster.local.";
const std::string kReviews = "cluster.outbound|9080|v2|reviews.bookinfo.svc.cluster.local.";
const std::string kMongo = "cluster.outbound|27017||mongodb.bookinfo.svc.cluster.local.";

QByteArray readData(const QString &name)
{
    const QString path = QFINDTESTDATA(QStringLiteral("../data/envoy-admin/") + name);
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open test data %s", qPrintable(name));
    return f.readAll();
}

EnvoyAdminSample loadSample(int64_t atMs)
{
    EnvoyAdminSample s;
    s.monotonicMs = atMs;
    QString error;
    EnvoyServerInfo info;
    if (!parseEnvoyClusters(readData(QStringLiteral("clusters.json")), kWhere, &s.clusters, &error)
        || !parseEnvoyStats(readData(QStringLiteral("stats.json")), kWhere, &s.stats, &error)
        || !parseEnvoyServerInfo(readData(QStringLiteral("server_info.json")), kWhere, &info, &error))
        qFatal("sample data does not parse: %s", qPrintable(error));
    s.server = info;
    return s;
}

EnvoyHostStatus *host(EnvoyAdminSample &s, const QString &cluster, const QString &address)
{
    for (EnvoyClusterStatus &c : s.clusters.clusters) {
        if (c.name != cluster)
            continue;
        for (EnvoyHostStatus &h : c.hosts) {
            if (h.address == address)
                return &h;
        }
    }
    return nullptr;
}

const EnvoyClusterStatus *cluster(const EnvoyClusters &all, const QString &name)
{
    for (const EnvoyClusterStatus &c : all.clusters) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

const PulledEdge *edgeTo(const EnvoyAdminView &v, const std::string &target)
{
    for (const PulledEdge &e : v.edges) {
        if (MeshMetrics::nodeId(e.target) == target)
            return &e;
    }
    return nullptr;
}

}  // namespace

class TestEnvoyAdmin : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesClustersWithMixedHealth();
    void parsesStatsAndQuantiles();
    void serverInfoNamesTheProxy();
    void classifiesClusterNames_data();
    void classifiesClusterNames();
    void malformedDocumentsGiveSpecificErrors_data();
    void malformedDocumentsGiveSpecificErrors();
    void ratesFromCounterDeltas();
    void firstSampleHasTopologyWithoutRates();
    void restartCountsFromZero();
    void healthViewAndJson();
};

void TestEnvoyAdmin::parsesClustersWithMixedHealth()
{
    EnvoyClusters c;
    QString error;
    QVERIFY2(parseEnvoyClusters(readData(QStringLiteral("clusters.json")), kWhere, &c, &error), qPrintable(error));
    QCOMPARE(c.clusters.size(), size_t(10));

    const EnvoyClusterStatus *product
        = cluster(c, QStringLiteral("outbound|9080||productpage.bookinfo.svc.cluster.local"));
    QVERIFY(product);
    QVERIFY(product->addedViaApi);
    QCOMPARE(product->successRateEjectionThreshold.value_or(-1), 84.5);
    QCOMPARE(product->hosts.size(), size_t(2));
    const EnvoyHostStatus &healthy = product->hosts[0];
    QCOMPARE(healthy.address, QStringLiteral("10.244.0.11:9080"));
    QCOMPARE(healthy.stat("rq_total"), uint64_t(600));  // "600" as a string
    QCOMPARE(healthy.stat("cx_connect_fail"), uint64_t(0));  // value omitted: zero
    QCOMPARE(healthy.stat("cx_active"), uint64_t(4));  // a GAUGE
    QCOMPARE(healthy.edsHealthStatus, QStringLiteral("HEALTHY"));
    QVERIFY(!healthy.failedOutlierCheck);
    QCOMPARE(healthy.successRate.value_or(-1), 99.5);
    QCOMPARE(healthy.locality, QStringLiteral("eu-west1/eu-west1-b"));
    QCOMPARE(healthy.weight, 1u);
    const EnvoyHostStatus &ejected = product->hosts[1];
    QVERIFY(ejected.failedOutlierCheck);
    QVERIFY(!ejected.failedActiveHealthCheck);
    QCOMPARE(ejected.successRate.value_or(-1), 65.0);
    QCOMPARE(ejected.stat("rq_error"), uint64_t(140));

    const EnvoyClusterStatus *reviews
        = cluster(c, QStringLiteral("outbound|9080|v2|reviews.bookinfo.svc.cluster.local"));
    QVERIFY(reviews);
    QVERIFY(reviews->hosts[1].failedActiveHealthCheck);
    QVERIFY(!reviews->hosts[1].successRate);

    const EnvoyClusterStatus *backend = cluster(c, QStringLiteral("backend_v1"));
    QVERIFY(backend && !backend->addedViaApi);
    QVERIFY(backend->hosts[0].failedActiveDegradedCheck);
    QCOMPARE(backend->hosts[0].weight, 3u);
    QCOMPARE(backend->hosts[0].priority, 1u);
    QCOMPARE(cluster(c, QStringLiteral("outbound|9080||ratings.bookinfo.svc.cluster.local"))->hosts[0].edsHealthStatus,
        QStringLiteral("DRAINING"));
    QCOMPARE(cluster(c, QStringLiteral("xds-grpc"))->hosts[0].address, QStringLiteral("unix:./etc/istio/proxy/XDS"));
    QVERIFY(cluster(c, QStringLiteral("BlackHoleCluster"))->hosts.empty());

    // A proxy without clusters: proto JSON leaves the empty list out.
    EnvoyClusters none;
    QVERIFY(parseEnvoyClusters("{}", kWhere, &none, &error));
    QVERIFY(none.clusters.empty());
    // uint64 beyond 2^53 survives as a string; IPv6 gets brackets.
    QVERIFY2(parseEnvoyClusters(R"({"cluster_statuses":[{"name":"big","host_statuses":[{"address":{"socket_address":
        {"address":"fd00::1","port_value":80}},"stats":[{"name":"rq_total","value":"18446744073709551615"}],
        "health_status":{"eds_health_status":2}}]}]})",
                 kWhere, &none, &error),
        qPrintable(error));
    QCOMPARE(none.clusters[0].hosts[0].stat("rq_total"), uint64_t(18446744073709551615ull));
    QCOMPARE(none.clusters[0].hosts[0].address, QStringLiteral("[fd00::1]:80"));
    QCOMPARE(none.clusters[0].hosts[0].edsHealthStatus, QStringLiteral("UNHEALTHY"));
}

void TestEnvoyAdmin::parsesStatsAndQuantiles()
{
    EnvoyStats s;
    QString error;
    QVERIFY2(parseEnvoyStats(readData(QStringLiteral("stats.json")), kWhere, &s, &error), qPrintable(error));
    QCOMPARE(s.value(kProduct + "upstream_rq_total").value_or(0), uint64_t(1000));
    QCOMPARE(s.value(kProduct + "upstream_rq_503").value_or(0), uint64_t(100));
    QCOMPARE(s.value(kReviews + "upstream_rq_active"), std::nullopt);  // usedonly: never written
    QCOMPARE(s.supportedQuantiles.size(), size_t(10));
    // The last interval's quantiles when it had samples...
    QCOMPARE(s.quantile(kProduct + "upstream_rq_time", 50).value_or(-1), 12.5);
    QCOMPARE(s.quantile(kProduct + "upstream_rq_time", 99).value_or(-1), 120.0);
    // ...else the cumulative ones.
    QCOMPARE(s.quantile(kReviews + "upstream_rq_time", 95).value_or(-1), 30.0);
    QCOMPARE(s.quantile(kMongo + "upstream_rq_time", 95), std::nullopt);

    // Text readouts are skipped, not errors; bucket-mode histograms are ignored.
    QVERIFY(parseEnvoyStats(R"({"stats":[{"name":"server.version","value":"1.28"},{"name":"a","value":3},
        {"histograms":[{"name":"h","buckets":[]}]}]})",
        kWhere, &s, &error));
    QCOMPARE(s.value("a").value_or(0), uint64_t(3));
    QVERIFY(!s.value("server.version"));
}

void TestEnvoyAdmin::serverInfoNamesTheProxy()
{
    EnvoyServerInfo info;
    QString error;
    QVERIFY2(
        parseEnvoyServerInfo(readData(QStringLiteral("server_info.json")), kWhere, &info, &error), qPrintable(error));
    QCOMPARE(info.state, QStringLiteral("LIVE"));
    QCOMPARE(info.nodeCluster, QStringLiteral("istio-ingressgateway.istio-system"));
    QCOMPARE(info.uptimeCurrentEpochSeconds, 3600.0);

    NodeRef gw = envoyProxyNode(&info, QString(), QStringLiteral("envoy-x"));
    QCOMPARE(gw.ns, std::string("istio-system"));
    QCOMPARE(gw.name, std::string("istio-ingressgateway"));
    QVERIFY(gw.gateway);

    EnvoyServerInfo sidecar = info;
    sidecar.nodeId = QStringLiteral("sidecar~10.244.0.21~reviews-v2-6b8c-1.bookinfo~bookinfo.svc.cluster.local");
    sidecar.nodeCluster = QStringLiteral("reviews.bookinfo");
    NodeRef sc = envoyProxyNode(&sidecar, QString(), QStringLiteral("envoy-x"));
    QCOMPARE(sc.name, std::string("reviews"));
    QCOMPARE(sc.ns, std::string("bookinfo"));
    QVERIFY(!sc.gateway);

    NodeRef configured = envoyProxyNode(&info, QStringLiteral("edge/front-proxy"), QStringLiteral("envoy-x"));
    QCOMPARE(configured.ns, std::string("edge"));
    QCOMPARE(configured.name, std::string("front-proxy"));
    QVERIFY(configured.gateway);

    EnvoyServerInfo plain;
    plain.nodeCluster = QStringLiteral("front-proxy");
    plain.nodeId = QStringLiteral("front-proxy-1");
    QCOMPARE(envoyProxyNode(&plain, QString(), QStringLiteral("envoy-x")).name, std::string("front-proxy"));
    QCOMPARE(envoyProxyNode(nullptr, QString(), QStringLiteral("envoy-127.0.0.1:9901")).name,
        std::string("envoy-127.0.0.1:9901"));
}

void TestEnvoyAdmin::classifiesClusterNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("role");
    QTest::addColumn<QString>("nodeId");
    QTest::addColumn<QString>("kind");
    auto row = [](const char *tag, const char *name, const char *role, const char *id, const char *kind) {
        QTest::newRow(tag) << QString::fromUtf8(name) << QString::fromUtf8(role) << QString::fromUtf8(id)
                           << QString::fromUtf8(kind);
    };
    row("istio service", "outbound|9080||reviews.default.svc.cluster.local", "upstream", "default/reviews", "service");
    row("istio subset", "outbound|9080|v2|reviews.default.svc.cluster.local", "upstream", "default/reviews@v2",
        "service");
    row("istio short host", "outbound|80||httpbin", "upstream", "httpbin", "service");
    row("service entry", "outbound|443||api.example.com", "upstream", "ext:api.example.com", "external-service");
    row("plain", "backend_v1", "upstream", "backend_v1", "service");
    row("inbound", "inbound|9080||", "inbound", "", "");
    row("inbound passthrough", "InboundPassthroughClusterIpv4", "inbound", "", "");
    row("passthrough", "PassthroughCluster", "passthrough", "ext:PassthroughCluster", "external-service");
    row("blackhole", "BlackHoleCluster", "blackhole", "", "");
    row("xds", "xds-grpc", "internal", "", "");
    row("sds", "sds-grpc", "internal", "", "");
    row("agent", "agent", "internal", "", "");
    row("prometheus", "prometheus_stats", "internal", "", "");
}

void TestEnvoyAdmin::classifiesClusterNames()
{
    QFETCH(QString, name);
    QFETCH(QString, role);
    QFETCH(QString, nodeId);
    QFETCH(QString, kind);
    const EnvoyUpstream u = classifyEnvoyCluster(name);
    QCOMPARE(QLatin1String(envoyUpstreamRoleName(u.role)), role);
    if (!nodeId.isEmpty()) {
        QCOMPARE(QString::fromStdString(MeshMetrics::nodeId(u.node)), nodeId);
        QCOMPARE(QLatin1String(nodeKindName(u.node.kind)), kind);
    }
}

void TestEnvoyAdmin::malformedDocumentsGiveSpecificErrors_data()
{
    QTest::addColumn<QString>("document");  // clusters, stats, server_info
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not json") << "clusters" << QByteArray(R"({"cluster_statuses": [ {"name": "a",})")
                              << "not JSON (object is missing after a comma at byte 37)";
    QTest::newRow("plain text clusters") << "clusters"
                                         << QByteArray("backend_v1::default_priority::max_connections::1024\n")
                                         << "not JSON (illegal value at byte 1): backend_v1::default_priority";
    QTest::newRow("empty body") << "stats" << QByteArray() << "empty body";
    QTest::newRow("array") << "clusters" << QByteArray("[]")
                           << "expected an object with cluster_statuses at byte 0, got an array";
    QTest::newRow("other api") << "clusters" << QByteArray(R"({"status":"success","data":{}})")
                               << "expected an object with cluster_statuses, got one with data, status";
    QTest::newRow("statuses not array") << "clusters" << QByteArray(R"({"cluster_statuses":{"name":"a"}})")
                                        << "cluster_statuses is an object, not an array";
    QTest::newRow("cluster without name")
        << "clusters" << QByteArray(R"({"cluster_statuses":[{"added_via_api":true}]})")
        << "cluster_statuses[0] has no name";
    QTest::newRow("uint64 not a number")
        << "clusters"
        << QByteArray(
               R"({"cluster_statuses":[{"name":"a","host_statuses":[{"stats":[{"name":"rq_total","value":"12x"}]}]}]})")
        << R"(cluster_statuses[0].host_statuses[0].stats[0].value is "12x", not an unsigned integer)";
    QTest::newRow("negative counter")
        << "clusters"
        << QByteArray(
               R"({"cluster_statuses":[{"name":"a","host_statuses":[{"stats":[{"name":"rq_total","value":-3}]}]}]})")
        << "cluster_statuses[0].host_statuses[0].stats[0].value is -3, not an unsigned integer";
    QTest::newRow("stat without name")
        << "clusters"
        << QByteArray(R"({"cluster_statuses":[{"name":"a","host_statuses":[{"stats":[{"value":"3"}]}]}]})")
        << "cluster_statuses[0].host_statuses[0].stats[0] has no name";
    QTest::newRow("health flag type")
        << "clusters"
        << QByteArray(
               R"({"cluster_statuses":[{"name":"a","host_statuses":[{"health_status":{"failed_outlier_check":"yes"}}]}]})")
        << "cluster_statuses[0].host_statuses[0].health_status.failed_outlier_check is a string, not a boolean";
    QTest::newRow("port type")
        << "clusters"
        << QByteArray(
               R"({"cluster_statuses":[{"name":"a","host_statuses":[{"address":{"socket_address":{"address":"h","port_value":"eighty"}}}]}]})")
        << R"(cluster_statuses[0].host_statuses[0].address.socket_address.port_value is "eighty", not an unsigned integer)";
    QTest::newRow("no stats array") << "stats" << QByteArray(R"({"clusters":[]})")
                                    << "expected an object with a stats array, got one with clusters";
    QTest::newRow("stat value object") << "stats" << QByteArray(R"({"stats":[{"name":"a","value":{}}]})")
                                       << "stats[0].value is an object, not an unsigned integer";
    QTest::newRow("stat entry empty") << "stats" << QByteArray(R"({"stats":[{"value":1}]})")
                                      << "stats[0] has neither a name nor histograms";
    QTest::newRow("quantile count")
        << "stats"
        << QByteArray(
               R"({"stats":[{"histograms":{"supported_quantiles":[50,95],"computed_quantiles":[{"name":"h","values":[{"interval":1,"cumulative":1}]}]}}]})")
        << "stats[0].histograms.computed_quantiles[0].values has 1 entries for 2 supported quantiles";
    QTest::newRow("quantile type")
        << "stats"
        << QByteArray(
               R"({"stats":[{"histograms":{"supported_quantiles":[50],"computed_quantiles":[{"name":"h","values":[{"interval":true,"cumulative":1}]}]}}]})")
        << "stats[0].histograms.computed_quantiles[0].values[0].interval is a boolean, not a number";
    QTest::newRow("server info other") << "server_info" << QByteArray(R"({"hello":"world"})")
                                       << "expected an object with node and state, got one with hello";
    QTest::newRow("server info node type")
        << "server_info" << QByteArray(R"({"state":"LIVE","node":"x"})") << "node is a string, not an object";
}

void TestEnvoyAdmin::malformedDocumentsGiveSpecificErrors()
{
    QFETCH(QString, document);
    QFETCH(QByteArray, body);
    QFETCH(QString, expected);
    const QString where = QStringLiteral("/%1?format=json from http://127.0.0.1:9901").arg(document);
    QString error;
    bool ok = true;
    if (document == QLatin1String("clusters")) {
        EnvoyClusters c;
        ok = parseEnvoyClusters(body, where, &c, &error);
    } else if (document == QLatin1String("stats")) {
        EnvoyStats s;
        ok = parseEnvoyStats(body, where, &s, &error);
    } else {
        EnvoyServerInfo i;
        ok = parseEnvoyServerInfo(body, where, &i, &error);
    }
    QVERIFY(!ok);
    QVERIFY2(error.startsWith(where + QStringLiteral(": ")), qPrintable(error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(!error.contains(QLatin1Char('\n')), "one line");
}

void TestEnvoyAdmin::ratesFromCounterDeltas()
{
    const EnvoyAdminSample first = loadSample(10000);
    EnvoyAdminSample second = loadSample(12500);  // 2.5 s later
    second.server->uptimeCurrentEpochSeconds = 3602.5;
    auto add = [&second](const std::string &name, uint64_t n) { second.stats.values[name] += n; };
    // productpage: 100 requests, 80 2xx, 5 404, 15 503 (class and per-code counters).
    add(kProduct + "upstream_rq_total", 100);
    add(kProduct + "upstream_rq_2xx", 80);
    add(kProduct + "upstream_rq_200", 80);
    add(kProduct + "upstream_rq_4xx", 5);
    add(kProduct + "upstream_rq_404", 5);
    add(kProduct + "upstream_rq_5xx", 15);
    add(kProduct + "upstream_rq_503", 15);
    add(kProduct + "upstream_cx_rx_bytes_total", 4000);
    add(kProduct + "upstream_cx_tx_bytes_total", 1000);
    // reviews has only per-code counters: 40 requests, 4 503 and 2 500.
    add(kReviews + "upstream_rq_total", 40);
    add(kReviews + "upstream_rq_200", 34);
    add(kReviews + "upstream_rq_503", 4);
    add(kReviews + "upstream_rq_500", 2);
    // mongodb is TCP: 10 new connections.
    add(kMongo + "upstream_cx_total", 10);
    // api.example.com has no cluster stats at all: its host's counters count.
    EnvoyHostStatus *api
        = host(second, QStringLiteral("outbound|443||api.example.com"), QStringLiteral("93.184.216.34:443"));
    QVERIFY(api);
    api->stats["rq_total"] += 25;
    api->stats["rq_error"] += 5;

    const EnvoyAdminView v = buildEnvoyAdminView(second, &first, QString(), QStringLiteral("envoy-x"));
    QCOMPARE(v.proxyId, std::string("istio-system/istio-ingressgateway"));
    QVERIFY(v.proxy.gateway);
    QCOMPARE(v.intervalSeconds, 2.5);
    QVERIFY(!v.counterReset);

    QStringList targets;
    for (const PulledEdge &e : v.edges) {
        targets << QString::fromStdString(MeshMetrics::nodeId(e.target));
        QCOMPARE(MeshMetrics::nodeId(e.source), std::string("istio-system/istio-ingressgateway"));
    }
    targets.sort();
    // Not ratings (never used), not the proxy's own plumbing, not the empty Passthrough/BlackHole.
    QCOMPARE(targets,
        (QStringList {QStringLiteral("backend_v1"), QStringLiteral("bookinfo/mongodb"),
            QStringLiteral("bookinfo/productpage"), QStringLiteral("bookinfo/reviews@v2"),
            QStringLiteral("ext:api.example.com")}));

    const PulledEdge *product = edgeTo(v, "bookinfo/productpage");
    QCOMPARE(product->stats.requests, uint64_t(100));
    QCOMPARE(product->stats.rps, 40.0);
    QCOMPARE(product->stats.errorRate, 0.15);
    QCOMPARE(product->stats.rate5xx, 0.15);
    QCOMPARE(product->stats.rate4xx, 0.05);
    QCOMPARE(product->stats.p50Ms, 12.5);
    QCOMPARE(product->stats.p95Ms, 55.0);
    QCOMPARE(product->stats.p99Ms, 120.0);
    QCOMPARE(product->stats.bytes, uint64_t(5000));
    QCOMPARE(product->protocol, Protocol::Http);

    const PulledEdge *reviews = edgeTo(v, "bookinfo/reviews@v2");
    QCOMPARE(reviews->stats.rps, 16.0);
    QCOMPARE(reviews->stats.errorRate, 0.15);
    QCOMPARE(reviews->stats.rate4xx, 0.0);
    QCOMPARE(reviews->stats.p95Ms, 30.0);

    const PulledEdge *mongo = edgeTo(v, "bookinfo/mongodb");
    QCOMPARE(mongo->protocol, Protocol::Tcp);
    QCOMPARE(mongo->stats.requests, uint64_t(10));
    QCOMPARE(mongo->stats.rps, 4.0);

    const PulledEdge *ext = edgeTo(v, "ext:api.example.com");
    QCOMPARE(ext->target.kind, NodeKind::ExternalService);
    QCOMPARE(ext->stats.rps, 10.0);
    QCOMPARE(ext->stats.errorRate, 0.2);

    const PulledEdge *backend = edgeTo(v, "backend_v1");
    QCOMPARE(backend->stats.requests, uint64_t(0));  // carried traffic once, idle now
    QCOMPARE(backend->stats.rps, 0.0);
}

void TestEnvoyAdmin::firstSampleHasTopologyWithoutRates()
{
    const EnvoyAdminView v = buildEnvoyAdminView(loadSample(1000), nullptr, QStringLiteral("front-proxy"), QString());
    QCOMPARE(v.proxyId, std::string("front-proxy"));
    QCOMPARE(v.intervalSeconds, 0.0);
    QCOMPARE(v.edges.size(), size_t(5));
    for (const PulledEdge &e : v.edges) {
        QCOMPARE(e.stats.rps, 0.0);
        QCOMPARE(e.stats.requests, uint64_t(0));
    }
}

void TestEnvoyAdmin::restartCountsFromZero()
{
    const EnvoyAdminSample before = loadSample(0);
    // The proxy restarted: uptime went down and every counter started again.
    EnvoyAdminSample after = loadSample(4000);
    after.server->uptimeCurrentEpochSeconds = 2;
    for (auto &[name, value] : after.stats.values)
        value = 0;
    after.stats.values[kProduct + "upstream_rq_total"] = 20;
    after.stats.values[kProduct + "upstream_rq_5xx"] = 2;
    const EnvoyAdminView v = buildEnvoyAdminView(after, &before, QString(), QString());
    QVERIFY(v.counterReset);
    const PulledEdge *product = edgeTo(v, "bookinfo/productpage");
    QVERIFY(product);
    QCOMPARE(product->stats.requests, uint64_t(20));
    QCOMPARE(product->stats.rps, 5.0);
    QCOMPARE(product->stats.errorRate, 0.1);

    // One cluster re-added via CDS (no uptime change): only its counters restart.
    EnvoyAdminSample readded = loadSample(4000);
    readded.stats.values[kReviews + "upstream_rq_total"] = 8;
    readded.stats.values[kReviews + "upstream_rq_503"] = 0;
    readded.stats.values[kReviews + "upstream_rq_500"] = 0;
    readded.stats.values[kReviews + "upstream_rq_200"] = 8;
    readded.stats.values[kProduct + "upstream_rq_total"] += 40;
    const EnvoyAdminView w = buildEnvoyAdminView(readded, &before, QString(), QString());
    QVERIFY(w.counterReset);
    QCOMPARE(edgeTo(w, "bookinfo/reviews@v2")->stats.requests, uint64_t(8));
    QCOMPARE(edgeTo(w, "bookinfo/reviews@v2")->stats.errorRate, 0.0);
    QCOMPARE(edgeTo(w, "bookinfo/productpage")->stats.requests, uint64_t(40));

    // Host counters (no cluster stats) are compared host by host: a host that left
    // does not make the sum go backwards into a bogus reset.
    EnvoyAdminSample a = loadSample(0), b = loadSample(1000);
    const QString api = QStringLiteral("outbound|443||api.example.com");
    EnvoyHostStatus extra = *host(a, api, QStringLiteral("93.184.216.34:443"));
    extra.address = QStringLiteral("93.184.216.35:443");
    extra.stats["rq_total"] = 500;
    for (EnvoyClusterStatus &c : a.clusters.clusters) {
        if (c.name == api)
            c.hosts.push_back(extra);
    }
    host(b, api, QStringLiteral("93.184.216.34:443"))->stats["rq_total"] += 7;
    QCOMPARE(
        edgeTo(buildEnvoyAdminView(b, &a, QString(), QString()), "ext:api.example.com")->stats.requests, uint64_t(7));
}

void TestEnvoyAdmin::healthViewAndJson()
{
    const EnvoyAdminView v = buildEnvoyAdminView(loadSample(1000), nullptr, QString(), QString());
    QCOMPARE(v.clusters.size(), size_t(10));
    auto find = [&v](const char *name) -> const EnvoyClusterHealth & {
        for (const EnvoyClusterHealth &c : v.clusters) {
            if (c.cluster == QLatin1String(name))
                return c;
        }
        qFatal("no cluster %s", name);
    };
    const EnvoyClusterHealth &product = find("outbound|9080||productpage.bookinfo.svc.cluster.local");
    QCOMPARE(product.nodeId, std::string("bookinfo/productpage"));
    QVERIFY(product.onGraph);
    QCOMPARE(product.hostsTotal, 2);
    QCOMPARE(product.healthy, 1);
    QCOMPARE(product.unhealthy, 1);
    QCOMPARE(product.outlierEjected, 1);
    QCOMPARE(product.failedActiveHc, 0);
    QCOMPARE(product.rqTotal, uint64_t(1000));
    QCOMPARE(product.cxActive, uint64_t(4));
    QVERIFY(!product.countersFromHosts);
    QCOMPARE(product.hosts[1].state, EnvoyHostState::Unhealthy);
    QCOMPARE(product.hosts[1].flags, QStringList {QStringLiteral("failed_outlier_check")});
    QCOMPARE(product.hosts[1].rqError, uint64_t(140));
    QCOMPARE(product.hosts[1].successRate.value_or(-1), 65.0);

    const EnvoyClusterHealth &reviews = find("outbound|9080|v2|reviews.bookinfo.svc.cluster.local");
    QCOMPARE(reviews.failedActiveHc, 1);
    QCOMPARE(reviews.healthy, 1);
    QCOMPARE(reviews.hosts[1].flags, QStringList {QStringLiteral("failed_active_health_check")});
    QCOMPARE(reviews.hosts[1].cxConnectFail, uint64_t(7));

    const EnvoyClusterHealth &backend = find("backend_v1");
    QCOMPARE(backend.degraded, 1);
    QCOMPARE(backend.hosts[0].state, EnvoyHostState::Degraded);

    const EnvoyClusterHealth &ratings = find("outbound|9080||ratings.bookinfo.svc.cluster.local");
    QVERIFY(!ratings.onGraph);
    QCOMPARE(ratings.unhealthy, 1);
    QCOMPARE(ratings.hosts[0].flags, QStringList {QStringLiteral("eds_draining")});

    const EnvoyClusterHealth &api = find("outbound|443||api.example.com");
    QVERIFY(api.countersFromHosts);
    QCOMPARE(api.rqTotal, uint64_t(80));

    const EnvoyClusterHealth &xds = find("xds-grpc");
    QCOMPARE(xds.role, QStringLiteral("internal"));
    QVERIFY(xds.nodeId.empty());
    QVERIFY(!xds.onGraph);

    const QJsonArray json = envoyUpstreamHealthToJson(v.clusters);
    QCOMPARE(json.size(), 10);
    const QJsonObject first = json[0].toObject();
    QCOMPARE(first.value(QStringLiteral("node")).toString(), QStringLiteral("bookinfo/productpage"));
    QCOMPARE(first.value(QStringLiteral("outlier_ejected")).toInt(), 1);
    const QJsonObject ejected = first.value(QStringLiteral("hosts")).toArray()[1].toObject();
    QCOMPARE(ejected.value(QStringLiteral("address")).toString(), QStringLiteral("10.244.0.12:9080"));
    QCOMPARE(ejected.value(QStringLiteral("state")).toString(), QStringLiteral("unhealthy"));
    QCOMPARE(ejected.value(QStringLiteral("success_rate")).toDouble(), 65.0);
    QCOMPARE(ejected.value(QStringLiteral("rq_total")).toDouble(), 400.0);
    QVERIFY(json[2]
                .toObject()
                .value(QStringLiteral("hosts"))
                .toArray()[0]
                .toObject()
                .value(QStringLiteral("success_rate"))
                .isNull());
}

QTEST_GUILESS_MAIN(TestEnvoyAdmin)
#include "tst_envoyadmin.moc"

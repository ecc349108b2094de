// MeshMetrics and the pure parts of PrometheusClient: PromQL for Istio and Linkerd,
// vectors shaped like Prometheus's answers turned into PulledEdges (Kiali's reporter
// rule, error classes, mTLS, external and gateway nodes, latency, TCP), chart slicing,
// API envelope decoding, and the --at / --window parsers.

#include "graph/graphaggregator.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace meshscope;

namespace {

using Kv = std::initializer_list<std::pair<const char *, const char *>>;

PromLabels labels(Kv kv)
{
    PromLabels l;
    for (const auto &[k, v] : kv)
        l[k] = v;
    return l;
}

// An Istio workload as "namespace/workload/canonical-service/version"; "unknown" for a
// peer without a proxy.
struct Workload {
    std::string ns, workload, service, version;
};

Workload wl(const char *spec)
{
    if (std::string(spec) == "unknown")
        return {"unknown", "unknown", "unknown", "unknown"};
    const QStringList p = QString::fromLatin1(spec).split(QLatin1Char('/'));
    return {p[0].toStdString(), p[1].toStdString(), p[2].toStdString(), p[3].toStdString()};
}

PromLabels istio(const char *reporter, const char *src, const char *dst, Kv extra = {})
{
    const Workload s = wl(src), d = wl(dst);
    PromLabels l;
    l["reporter"] = reporter;
    l["source_workload_namespace"] = s.ns;
    l["source_workload"] = s.workload;
    l["source_canonical_service"] = s.service;
    l["source_canonical_revision"] = s.version == "unknown" ? "latest" : s.version;
    l["source_app"] = s.service;
    l["source_version"] = s.version;
    l["destination_workload_namespace"] = d.ns;
    l["destination_workload"] = d.workload;
    l["destination_canonical_service"] = d.service;
    l["destination_canonical_revision"] = d.version == "unknown" ? "latest" : d.version;
    l["destination_app"] = d.service;
    l["destination_version"] = d.version;
    l["destination_service"] = d.service + "." + d.ns + ".svc.cluster.local";
    l["destination_service_name"] = d.service;
    l["destination_service_namespace"] = d.ns;
    l["request_protocol"] = "http";
    l["connection_security_policy"] = "mutual_tls";
    for (const auto &[k, v] : extra)
        l[k] = v;
    return l;
}

PromSample sample(PromLabels l, double v) { return PromSample {std::move(l), 1700000000, v}; }

PromSample quantile(PromLabels l, const char *q, double v)
{
    l[MeshMetrics::kQuantileLabel] = q;
    return sample(std::move(l), v);
}

PromSample metric(PromLabels l, const char *tag, double v)
{
    l[MeshMetrics::kMetricLabel] = tag;
    return sample(std::move(l), v);
}

const PulledEdge *findEdge(const std::vector<PulledEdge> &edges, const std::string &src, const std::string &dst)
{
    for (const PulledEdge &e : edges) {
        if (MeshMetrics::nodeId(e.source) == src && MeshMetrics::nodeId(e.target) == dst)
            return &e;
    }
    return nullptr;
}

QString edgeIds(const std::vector<PulledEdge> &edges)
{
    QStringList ids;
    for (const PulledEdge &e : edges)
        ids << QString::fromStdString(MeshMetrics::nodeId(e.source) + "->" + MeshMetrics::nodeId(e.target));
    return ids.join(QLatin1String(", "));
}

}  // namespace

class TestMeshMetrics : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesVectorMatrixAndScalar();
    void reportsPrometheusErrorsWithTheirText();
    void reportsNonPrometheusAnswers();
    void classifiesTransientErrors();
    void rejectsUrlsThatAreNotHttp();
    void parsesQueryTimes();
    void refusesTimesBefore1970();
    void parsesDurations();
    void writesIstioQueries();
    void writesLinkerdQueriesAndFocus();
    void istioCountsEachRequestOnce();
    void istioClassifiesErrors();
    void istioNamesNodesLikeTraces();
    void istioExternalAndGatewayNodes();
    void istioFailedRequestsBeforeAWorkload();
    void istioLatencyAndTcp();
    void linkerdEdges();
    void skipsNonFiniteValues();
    void chartSeriesSlicesRanges();
    void idsAndFocus();
    void aggregatorShowsPulledKinds();
    void hugeOrInvalidLabelNamesRefused();
};

void TestMeshMetrics::parsesVectorMatrixAndScalar()
{
    PromResult v = PrometheusClient::parseReply(
        R"({"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"a":"x","b":"y"},"value":[1700000000.5,"12.5"]},
            {"metric":{},"value":[1700000000.5,"NaN"]},
            {"metric":{"c":"z"},"value":[1700000000.5,"+Inf"]}]},"warnings":["careful"]})",
        200, QStringLiteral("http://p"));
    QVERIFY2(v.ok(), qPrintable(v.message));
    QCOMPARE(v.resultType, QStringLiteral("vector"));
    QCOMPARE(v.vector.size(), size_t(3));
    QCOMPARE(v.vector[0].labels.at("a"), std::string("x"));
    QCOMPARE(v.vector[0].labels.at("b"), std::string("y"));
    QCOMPARE(v.vector[0].time, 1700000000.5);
    QCOMPARE(v.vector[0].value, 12.5);
    QVERIFY(std::isnan(v.vector[1].value));
    QVERIFY(std::isinf(v.vector[2].value) && v.vector[2].value > 0);
    QCOMPARE(v.warnings, QStringList {QStringLiteral("careful")});

    PromResult m = PrometheusClient::parseReply(
        R"({"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"j"},"values":[[10,"1"],[20,"2"],[30,"-Inf"]]}]}})",
        200, QStringLiteral("http://p"));
    QVERIFY2(m.ok(), qPrintable(m.message));
    QCOMPARE(m.matrix.size(), size_t(1));
    QCOMPARE(m.matrix[0].points.size(), size_t(3));
    QCOMPARE(m.matrix[0].points[1].first, 20.0);
    QCOMPARE(m.matrix[0].points[1].second, 2.0);
    QVERIFY(std::isinf(m.matrix[0].points[2].second) && m.matrix[0].points[2].second < 0);

    PromResult s = PrometheusClient::parseReply(
        R"({"status":"success","data":{"resultType":"scalar","result":[5,"42"]}})", 200, QStringLiteral("http://p"));
    QVERIFY(s.ok());
    QCOMPARE(s.vector.size(), size_t(1));
    QCOMPARE(s.vector[0].value, 42.0);
    QVERIFY(s.vector[0].labels.empty());

    PromResult bad = PrometheusClient::parseReply(
        R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}})", 200,
        QStringLiteral("http://p"));
    QCOMPARE(bad.kind, PromResult::Error::Decode);
}

void TestMeshMetrics::reportsPrometheusErrorsWithTheirText()
{
    // Verbatim from Prometheus 2.42 for "sum(".
    const QByteArray body
        = R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})";
    PromResult r = PrometheusClient::parseReply(body, 400, QStringLiteral("http://127.0.0.1:9090"));
    QVERIFY(!r.ok());
    QCOMPARE(r.kind, PromResult::Error::Prometheus);
    QCOMPARE(r.httpStatus, 400);
    QCOMPARE(r.errorType, QStringLiteral("bad_data"));
    QCOMPARE(r.error, QStringLiteral("invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"));
    QVERIFY2(r.message.contains(QLatin1String("parse error: unclosed left parenthesis")), qPrintable(r.message));
    QVERIFY2(r.message.contains(QLatin1String("HTTP 400")), qPrintable(r.message));
    QVERIFY2(r.message.contains(QLatin1String("http://127.0.0.1:9090")), qPrintable(r.message));
    QVERIFY(!r.transient());

    PromResult t = PrometheusClient::parseReply(
        R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})", 503,
        QStringLiteral("http://p"));
    QCOMPARE(t.kind, PromResult::Error::Prometheus);
    QVERIFY(t.message.contains(QLatin1String("query timed out")));
    QVERIFY(t.transient());

    PromResult exec = PrometheusClient::parseReply(
        R"({"status":"error","errorType":"execution","error":"many-to-many matching not allowed"})", 422,
        QStringLiteral("http://p"));
    QVERIFY(exec.message.contains(QLatin1String("HTTP 422 (execution): many-to-many matching not allowed")));
}

void TestMeshMetrics::reportsNonPrometheusAnswers()
{
    PromResult proxy = PrometheusClient::parseReply(
        "<html><body>502 Bad Gateway</body></html>", 502, QStringLiteral("https://prom.example"));
    QCOMPARE(proxy.kind, PromResult::Error::Http);
    QVERIFY2(proxy.message.contains(QLatin1String("HTTP 502")), qPrintable(proxy.message));
    QVERIFY(proxy.message.contains(QLatin1String("502 Bad Gateway")));
    QVERIFY(proxy.transient());

    PromResult notFound = PrometheusClient::parseReply("404 page not found\n", 404, QStringLiteral("http://p/x"));
    QCOMPARE(notFound.kind, PromResult::Error::Http);
    QVERIFY(notFound.message.contains(QLatin1String("404 page not found")));
    QVERIFY(!notFound.transient());

    PromResult auth = PrometheusClient::parseReply("Unauthorized", 401, QStringLiteral("http://p"));
    QVERIFY(!auth.transient());

    PromResult junk = PrometheusClient::parseReply("hello", 200, QStringLiteral("http://p"));
    QCOMPARE(junk.kind, PromResult::Error::Decode);
    QVERIFY(!junk.message.isEmpty());
}

void TestMeshMetrics::classifiesTransientErrors()
{
    PromResult r;
    r.kind = PromResult::Error::Network;
    QVERIFY(r.transient());
    r.kind = PromResult::Error::Timeout;
    QVERIFY(r.transient());
    r.kind = PromResult::Error::Http;
    r.httpStatus = 429;
    QVERIFY(r.transient());
    r.httpStatus = 403;
    QVERIFY(!r.transient());
    r.kind = PromResult::Error::Decode;
    r.httpStatus = 200;
    QVERIFY(!r.transient());
}

void TestMeshMetrics::rejectsUrlsThatAreNotHttp()
{
    for (const char *url : {"localhost:9090", "ftp://host/", "", "http://"}) {
        PrometheusConfig c;
        c.url = QUrl(QLatin1String(url));
        const PromResult r = PrometheusClient::querySync(c, QStringLiteral("up"), std::nullopt);
        QCOMPARE(r.kind, PromResult::Error::Config);
        QVERIFY2(r.message.contains(QLatin1String("is not a Prometheus URL")), qPrintable(r.message));
        QVERIFY(!r.transient());
    }
}

void TestMeshMetrics::parsesQueryTimes()
{
    QCOMPARE(parsePromTime(QStringLiteral("1700000000")).value(), 1700000000.0);
    QCOMPARE(parsePromTime(QStringLiteral("1700000000.25")).value(), 1700000000.25);
    QCOMPARE(parsePromTime(QStringLiteral("2023-11-14T22:13:20Z")).value(), 1700000000.0);
    QCOMPARE(parsePromTime(QStringLiteral("2023-11-15T00:13:20+02:00")).value(), 1700000000.0);
    QCOMPARE(parsePromTime(QStringLiteral("2023-11-14T22:13:20.500Z")).value(), 1700000000.5);
    QCOMPARE(parsePromTime(QStringLiteral("2023-11-14 22:13:20Z")).value(), 1700000000.0);
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    QVERIFY(std::abs(parsePromTime(QStringLiteral("now")).value() - now) < 5);
    QVERIFY(!parsePromTime(QStringLiteral("2023-11-14T22:13:20")));  // no zone: ambiguous
    QVERIFY(!parsePromTime(QStringLiteral("yesterday")));
    QVERIFY(!parsePromTime(QStringLiteral("")));
    QVERIFY(!parsePromTime(QStringLiteral("-5")));
}

// One instant, one answer: RFC 3339 times before 1970 are refused like the negative
// unix seconds they stand for (found by the durations fuzzer,
// tests/fuzz/findings/durations-promtime-before-1970.txt).
void TestMeshMetrics::refusesTimesBefore1970()
{
    QVERIFY(!parsePromTime(QStringLiteral("-1")));
    QVERIFY(!parsePromTime(QStringLiteral("1969-12-31T23:59:59Z")));
    QVERIFY(!parsePromTime(QStringLiteral("1969-12-31T23:59:59.999Z")));
    QVERIFY(!parsePromTime(QStringLiteral("1099-05-01 12:00:00z")));
    QVERIFY(!parsePromTime(QStringLiteral("1970-01-01T01:00:00+02:00")));  // 23:00 the day before, in UTC
    QCOMPARE(parsePromTime(QStringLiteral("1970-01-01T00:00:00Z")).value_or(-1), 0.0);
    QCOMPARE(parsePromTime(QStringLiteral("1970-01-01T02:00:00+02:00")).value_or(-1), 0.0);
    QCOMPARE(parsePromTime(QStringLiteral("0")).value_or(-1), 0.0);
}

void TestMeshMetrics::parsesDurations()
{
    QCOMPARE(parsePromDurationSeconds(QStringLiteral("60s")).value(), 60);
    QCOMPARE(parsePromDurationSeconds(QStringLiteral("5m")).value(), 300);
    QCOMPARE(parsePromDurationSeconds(QStringLiteral("1h30m")).value(), 5400);
    QCOMPARE(parsePromDurationSeconds(QStringLiteral("1d")).value(), 86400);
    QCOMPARE(parsePromDurationSeconds(QStringLiteral("90")).value(), 90);
    QCOMPARE(parsePromDurationSeconds(QStringLiteral("1500ms")).value(), 1);
    QVERIFY(!parsePromDurationSeconds(QStringLiteral("0s")));
    QVERIFY(!parsePromDurationSeconds(QStringLiteral("500ms")));
    QVERIFY(!parsePromDurationSeconds(QStringLiteral("5x")));
    QVERIFY(!parsePromDurationSeconds(QStringLiteral("1m 5s")));
    QVERIFY(!parsePromDurationSeconds(QStringLiteral("s")));
    QVERIFY(!parsePromDurationSeconds(QString()));
}

void TestMeshMetrics::writesIstioQueries()
{
    MeshQueryOptions o;
    o.mesh = MeshKind::Istio;
    o.windowSeconds = 300;
    o.selector = QStringLiteral(R"({cluster="east"})");
    const auto qs = MeshMetrics::graphQueries(o);
    QCOMPARE(qs.size(), size_t(3));
    QCOMPARE(qs[0].kind, MeshQueryKind::IstioRequests);
    QCOMPARE(qs[1].kind, MeshQueryKind::IstioLatency);
    QCOMPARE(qs[2].kind, MeshQueryKind::IstioBytes);
    const QString &req = qs[0].promql;
    QVERIFY2(req.contains(QLatin1String(
                 R"(increase(istio_requests_total{reporter=~"destination|waypoint",cluster="east"}[300s]))")),
        qPrintable(req));
    QVERIFY2(
        req.contains(QLatin1String(
            R"(increase(istio_requests_total{reporter="source",destination_workload=~"unknown|",cluster="east"}[300s]))")),
        qPrintable(req));
    QVERIFY(req.startsWith(QLatin1String("sum by (reporter,source_workload_namespace,")));
    QVERIFY(req.contains(QLatin1String("response_code,grpc_response_status)")));
    QVERIFY(req.endsWith(QLatin1String("> 0")));
    const QString &lat = qs[1].promql;
    for (const char *q : {"0.5", "0.95", "0.99"}) {
        QVERIFY2(lat.contains(QStringLiteral("histogram_quantile(%1, sum by (le,reporter,").arg(QLatin1String(q))),
            qPrintable(lat));
        QVERIFY(lat.contains(QStringLiteral(R"("meshscope_quantile", "%1", "", "")").arg(QLatin1String(q))));
    }
    QVERIFY(lat.contains(QLatin1String("rate(istio_request_duration_milliseconds_bucket{")));
    const QString &bytes = qs[2].promql;
    for (const char *m :
        {"istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total", "istio_tcp_connections_opened_total"})
        QVERIFY2(bytes.contains(QLatin1String(m)), m);
    QVERIFY(!bytes.contains(QLatin1String("response_code")));
}

void TestMeshMetrics::writesLinkerdQueriesAndFocus()
{
    MeshQueryOptions o;
    o.mesh = MeshKind::Linkerd;
    const auto qs = MeshMetrics::graphQueries(o);
    QCOMPARE(qs.size(), size_t(3));
    QCOMPARE(qs[0].kind, MeshQueryKind::LinkerdResponses);
    QVERIFY2(qs[0].promql.contains(QLatin1String(R"(increase(response_total{direction="outbound"}[60s]))")),
        qPrintable(qs[0].promql));
    QVERIFY(qs[0].promql.contains(QLatin1String(R"(increase(response_total{direction="inbound",tls!="true"}[60s]))")));
    QVERIFY(qs[0].promql.contains(QLatin1String("dst_deployment")));
    QVERIFY(qs[0].promql.contains(QLatin1String("classification")));
    QVERIFY(qs[1].promql.contains(QLatin1String("response_latency_ms_bucket")));
    QVERIFY(qs[2].promql.contains(QLatin1String(R"(tcp_read_bytes_total{direction="outbound",peer="dst"})")));

    QCOMPARE(MeshMetrics::graphQueries({}).size(), size_t(6));  // Auto asks both meshes

    MeshQueryOptions f;
    f.mesh = MeshKind::Istio;
    f.focus = MeshMetrics::focusFor("bookinfo/reviews@v2");
    const QString q = MeshMetrics::graphQueries(f)[0].promql;
    QVERIFY2(q.contains(QLatin1String(R"(source_workload_namespace="bookinfo")")), qPrintable(q));
    QVERIFY(q.contains(QLatin1String(R"(destination_workload_namespace="bookinfo")")));
    QVERIFY(q.contains(QLatin1String(R"(destination_service_namespace="bookinfo")")));
    f.focus = MeshMetrics::focusFor("bookinfo/productpage@v1->ext:api.example.com");
    const QString e = MeshMetrics::graphQueries(f)[0].promql;
    QVERIFY(e.contains(QLatin1String(R"(source_workload_namespace="bookinfo")")));
    QVERIFY(!e.contains(QLatin1String(R"(destination_workload_namespace="bookinfo")")));
}

void TestMeshMetrics::istioCountsEachRequestOnce()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {
            sample(istio("destination", pp, rv, {{"response_code", "200"}}), 300),
            // The source proxy saw the same requests: they must not count twice.
            sample(istio("source", pp, rv, {{"response_code", "200"}}), 300),
        }};
    const auto edges = MeshMetrics::buildEdges({req}, 60);
    QCOMPARE(edges.size(), size_t(1));
    const PulledEdge *e = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/reviews@v2");
    QVERIFY2(e, qPrintable(edgeIds(edges)));
    QCOMPARE(e->stats.requests, uint64_t(300));
    QCOMPARE(e->stats.rps, 5.0);
    QCOMPARE(e->protocol, Protocol::Http);
    QCOMPARE(e->mtls, int8_t(1));
}

void TestMeshMetrics::istioClassifiesErrors()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    const char *dt = "bookinfo/details-v1/details/v1";
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {
            sample(istio("destination", pp, rv, {{"response_code", "200"}}), 100),
            sample(istio("destination", pp, rv, {{"response_code", "503"}}), 10),
            sample(istio("destination", pp, rv, {{"response_code", "404"}}), 20),
            sample(istio("destination", pp, rv, {{"response_code", "0"}}), 5),  // no response
            // gRPC: the status decides unless HTTP says 4xx/5xx.
            sample(istio("destination", pp, dt,
                       {{"request_protocol", "grpc"}, {"response_code", "200"}, {"grpc_response_status", "0"},
                           {"connection_security_policy", "none"}}),
                80),
            sample(istio("destination", pp, dt,
                       {{"request_protocol", "grpc"}, {"response_code", "200"}, {"grpc_response_status", "14"},
                           {"connection_security_policy", "none"}}),
                20),
        }};
    const auto edges = MeshMetrics::buildEdges({req}, 60);
    const PulledEdge *r = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/reviews@v2");
    QVERIFY2(r, qPrintable(edgeIds(edges)));
    QCOMPARE(r->stats.requests, uint64_t(135));
    QCOMPARE(r->stats.errorRate, 15.0 / 135.0);
    QCOMPARE(r->stats.rate5xx, 10.0 / 135.0);
    QCOMPARE(r->stats.rate4xx, 20.0 / 135.0);
    const PulledEdge *d = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/details@v1");
    QVERIFY(d);
    QCOMPARE(d->protocol, Protocol::Grpc);
    QCOMPARE(d->stats.errorRate, 0.2);
    QCOMPARE(d->stats.rate5xx, 0.0);
    QCOMPARE(d->mtls, int8_t(0));

    // Plaintext on part of an edge makes the whole edge not mTLS.
    MeshAnswer mixed {MeshQueryKind::IstioRequests,
        {sample(istio("destination", pp, rv, {{"response_code", "200"}}), 100),
            sample(
                istio("destination", pp, rv, {{"response_code", "200"}, {"connection_security_policy", "none"}}), 1)}};
    QCOMPARE(MeshMetrics::buildEdges({mixed}, 60).at(0).mtls, int8_t(0));
}

void TestMeshMetrics::istioNamesNodesLikeTraces()
{
    // Canonical service and the version label, as OTLP's service.name/service.version.
    NodeRef a = MeshMetrics::istioWorkload(istio("destination", "unknown", "shop/cart-v2-abc/cart/v2"), false);
    QCOMPARE(MeshMetrics::nodeId(a), std::string("shop/cart@v2"));
    QVERIFY(!a.gateway);
    // Without a canonical service: the app label, then the workload.
    PromLabels l = istio("destination", "unknown", "shop/cart-v2/cart/v2",
        {{"destination_canonical_service", "unknown"}, {"destination_app", "cartapp"}});
    QCOMPARE(MeshMetrics::nodeId(MeshMetrics::istioWorkload(l, false)), std::string("shop/cartapp@v2"));
    l["destination_app"] = "unknown";
    QCOMPARE(MeshMetrics::nodeId(MeshMetrics::istioWorkload(l, false)), std::string("shop/cart-v2@v2"));
    // No version label: the canonical revision, except Istio's default "latest".
    l = istio("destination", "unknown", "shop/cart/cart/unknown");
    QCOMPARE(MeshMetrics::nodeId(MeshMetrics::istioWorkload(l, false)), std::string("shop/cart"));
    l["destination_canonical_revision"] = "v3";
    QCOMPARE(MeshMetrics::nodeId(MeshMetrics::istioWorkload(l, false)), std::string("shop/cart@v3"));
    // Prometheus drops empty labels: an absent version is no version.
    l.erase("destination_version");
    l.erase("destination_canonical_revision");
    QCOMPARE(MeshMetrics::nodeId(MeshMetrics::istioWorkload(l, false)), std::string("shop/cart"));
}

void TestMeshMetrics::istioExternalAndGatewayNodes()
{
    const char *gw = "istio-system/istio-ingressgateway-5d/istio-ingressgateway/unknown";
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {
            sample(istio("destination", gw, pp, {{"response_code", "200"}}), 600),
            sample(
                istio("destination", "unknown", pp, {{"response_code", "200"}, {"connection_security_policy", "none"}}),
                120),
            // To a ServiceEntry host: only the source proxy reports it.
            sample(istio("source", rv, "unknown",
                       {{"response_code", "200"}, {"destination_service", "api.ratings.example.com"},
                           {"destination_service_name", "api.ratings.example.com"},
                           {"destination_service_namespace", "unknown"}, {"connection_security_policy", "unknown"}}),
                180),
            // Passthrough: the host is the better name.
            sample(istio("source", rv, "unknown",
                       {{"response_code", "200"}, {"destination_service", "10.0.0.7:5432"},
                           {"destination_service_name", "PassthroughCluster"}}),
                6),
        }};
    const auto edges = MeshMetrics::buildEdges({req}, 60);
    QCOMPARE(edges.size(), size_t(4));
    const PulledEdge *g = findEdge(edges, "istio-system/istio-ingressgateway", "bookinfo/productpage@v1");
    QVERIFY2(g, qPrintable(edgeIds(edges)));
    QVERIFY(g->source.gateway);
    QCOMPARE(g->stats.rps, 10.0);
    const PulledEdge *x = findEdge(edges, "external", "bookinfo/productpage@v1");
    QVERIFY(x);
    QCOMPARE(x->source.kind, NodeKind::External);
    QCOMPARE(x->mtls, int8_t(0));
    const PulledEdge *out = findEdge(edges, "bookinfo/reviews@v2", "ext:api.ratings.example.com");
    QVERIFY(out);
    QCOMPARE(out->target.kind, NodeKind::ExternalService);
    QCOMPARE(out->stats.rps, 3.0);
    QCOMPARE(out->mtls, int8_t(-1));
    QVERIFY(findEdge(edges, "bookinfo/reviews@v2", "ext:10.0.0.7:5432"));
}

void TestMeshMetrics::istioFailedRequestsBeforeAWorkload()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    // 503 "no healthy upstream": the source proxy reports it with no destination
    // workload, but the host belongs to a mesh service seen elsewhere.
    PromLabels failed = istio("source", pp, "unknown",
        {{"response_code", "503"}, {"response_flags", "UH"},
            {"destination_service", "reviews.bookinfo.svc.cluster.local"}, {"destination_service_name", "reviews"},
            {"destination_service_namespace", "bookinfo"}});
    failed.erase("destination_workload");  // also absent rather than "unknown"
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {sample(istio("destination", pp, rv, {{"response_code", "200"}}), 90), sample(failed, 10)}};
    const auto edges = MeshMetrics::buildEdges({req}, 60);
    QCOMPARE(edges.size(), size_t(1));
    const PulledEdge *e = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/reviews@v2");
    QVERIFY2(e, qPrintable(edgeIds(edges)));
    QCOMPARE(e->stats.requests, uint64_t(100));
    QCOMPARE(e->stats.rate5xx, 0.1);

    // Two versions behind the host: the failure goes to the service as a whole.
    MeshAnswer two {MeshQueryKind::IstioRequests,
        {sample(istio("destination", pp, rv, {{"response_code", "200"}}), 90),
            sample(istio("destination", pp, "bookinfo/reviews-v3/reviews/v3", {{"response_code", "200"}}), 90),
            sample(failed, 10)}};
    QVERIFY(findEdge(MeshMetrics::buildEdges({two}, 60), "bookinfo/productpage@v1", "bookinfo/reviews"));
}

void TestMeshMetrics::istioLatencyAndTcp()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    const char *db = "bookinfo/mongodb-v1/mongodb/v1";
    MeshAnswer req {
        MeshQueryKind::IstioRequests, {sample(istio("destination", pp, rv, {{"response_code", "200"}}), 60)}};
    PromLabels lat = istio("destination", pp, rv);
    lat.erase("connection_security_policy");
    PromLabels lat2 = lat;
    lat2["request_protocol"] = "grpc";
    MeshAnswer latency {MeshQueryKind::IstioLatency,
        {quantile(lat, "0.5", 12), quantile(lat, "0.95", 81.25), quantile(lat, "0.99", 240),
            quantile(lat2, "0.95", 95),  // same edge, other group: the larger wins
            quantile(istio("source", pp, rv), "0.95", 500),  // source-reported: ignored
            quantile(istio("destination", pp, db), "0.95", 7)}};  // no requests: no edge
    PromLabels tcp = istio("destination", rv, db);
    tcp.erase("request_protocol");
    MeshAnswer bytes {MeshQueryKind::IstioBytes,
        {metric(tcp, "tcp_sent", 60000), metric(tcp, "tcp_received", 30000), metric(tcp, "tcp_opened", 6),
            metric(istio("destination", pp, rv), "response_bytes", 1234),
            metric(istio("destination", pp, "shop/x/x/v1"), "request_bytes", 99)}};  // no such edge
    const auto edges = MeshMetrics::buildEdges({req, latency, bytes}, 60);
    QCOMPARE(edges.size(), size_t(2));
    const PulledEdge *e = findEdge(edges, "bookinfo/productpage@v1", "bookinfo/reviews@v2");
    QVERIFY2(e, qPrintable(edgeIds(edges)));
    QCOMPARE(e->stats.p50Ms, 12.0);
    QCOMPARE(e->stats.p95Ms, 95.0);
    QCOMPARE(e->stats.p99Ms, 240.0);
    QCOMPARE(e->stats.bytes, uint64_t(1234));
    QCOMPARE(e->protocol, Protocol::Http);
    const PulledEdge *t = findEdge(edges, "bookinfo/reviews@v2", "bookinfo/mongodb@v1");
    QVERIFY(t);
    QCOMPARE(t->protocol, Protocol::Tcp);
    QCOMPARE(t->stats.requests, uint64_t(6));
    QCOMPARE(t->stats.rps, 0.1);
    QCOMPARE(t->stats.bytes, uint64_t(90000));
    QCOMPARE(t->mtls, int8_t(1));
}

void TestMeshMetrics::linkerdEdges()
{
    auto out = [](Kv extra) {
        PromLabels l = labels({{"direction", "outbound"}, {"namespace", "emojivoto"}, {"deployment", "web"},
            {"dst_namespace", "emojivoto"}, {"dst_deployment", "emoji"}, {"dst_service", "emoji-svc"},
            {"authority", "emoji-svc.emojivoto.svc.cluster.local:8080"}, {"tls", "true"}});
        for (const auto &[k, v] : extra)
            l[k] = v;
        return l;
    };
    PromLabels ext = labels({{"direction", "outbound"}, {"namespace", "emojivoto"}, {"deployment", "web"},
        {"authority", "api.example.com:443"}, {"tls", "no_identity"}});
    PromLabels in
        = labels({{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "web"}, {"tls", "no_identity"}});
    PromLabels gw = labels({{"direction", "outbound"}, {"namespace", "linkerd-multicluster"},
        {"deployment", "linkerd-gateway"}, {"dst_namespace", "emojivoto"}, {"dst_deployment", "web"}, {"tls", "true"}});
    PromLabels gwOk = gw;
    gwOk["status_code"] = "200";
    gwOk["classification"] = "success";
    MeshAnswer resp {MeshQueryKind::LinkerdResponses,
        {
            sample(out({{"status_code", "200"}, {"grpc_status_code", "0"}, {"classification", "success"}}), 480),
            sample(out({{"status_code", "200"}, {"grpc_status_code", "2"}, {"classification", "failure"}}), 24),
            sample(out({{"status_code", "503"}, {"classification", "failure"}, {"dst_service", "emoji"}}), 6),
            sample(out({{"status_code", "404"}, {"classification", "success"}}), 30),
            sample(labels({{"direction", "outbound"}, {"namespace", "emojivoto"}, {"deployment", "web"},
                       {"authority", "api.example.com:443"}, {"tls", "no_identity"}, {"status_code", "200"},
                       {"classification", "success"}}),
                60),
            sample(labels({{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "web"},
                       {"tls", "no_identity"}, {"status_code", "200"}, {"classification", "success"}}),
                120),
            // Inbound from a meshed client: the client's outbound series counts it.
            sample(labels({{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "emoji"},
                       {"tls", "true"}, {"status_code", "200"}, {"classification", "success"}}),
                480),
            sample(gwOk, 30),
        }};
    PromLabels latLabels = out({});
    latLabels.erase("tls");
    MeshAnswer lat {MeshQueryKind::LinkerdLatency,
        {quantile(latLabels, "0.5", 4), quantile(latLabels, "0.95", 45), quantile(latLabels, "0.99", 90)}};
    MeshAnswer bytes {MeshQueryKind::LinkerdBytes,
        {metric(out({}), "tcp_read", 5000), metric(out({}), "tcp_write", 7000), metric(out({}), "tcp_opened", 2),
            metric(labels({{"direction", "outbound"}, {"namespace", "emojivoto"}, {"deployment", "vote-bot"},
                       {"dst_namespace", "db"}, {"dst_statefulset", "redis"}, {"tls", "true"}}),
                "tcp_opened", 3)}};
    const auto edges = MeshMetrics::buildEdges({resp, lat, bytes}, 60);
    const PulledEdge *e = findEdge(edges, "emojivoto/web", "emojivoto/emoji");
    QVERIFY2(e, qPrintable(edgeIds(edges)));
    QCOMPARE(e->stats.requests, uint64_t(540));
    QCOMPARE(e->stats.rps, 9.0);
    QCOMPARE(e->stats.errorRate, 30.0 / 540.0);
    QCOMPARE(e->stats.rate5xx, 6.0 / 540.0);
    QCOMPARE(e->stats.rate4xx, 30.0 / 540.0);
    QCOMPARE(e->protocol, Protocol::Grpc);
    QCOMPARE(e->mtls, int8_t(1));
    QCOMPARE(e->stats.p50Ms, 4.0);
    QCOMPARE(e->stats.p95Ms, 45.0);
    QCOMPARE(e->stats.p99Ms, 90.0);
    QCOMPARE(e->stats.bytes, uint64_t(12000));
    const PulledEdge *x = findEdge(edges, "emojivoto/web", "ext:api.example.com");
    QVERIFY(x);
    QCOMPARE(x->mtls, int8_t(0));
    QCOMPARE(x->protocol, Protocol::Http);
    const PulledEdge *i = findEdge(edges, "external", "emojivoto/web");
    QVERIFY(i);
    QCOMPARE(i->stats.rps, 2.0);
    QCOMPARE(i->mtls, int8_t(0));
    QVERIFY(!findEdge(edges, "external", "emojivoto/emoji"));
    const PulledEdge *g = findEdge(edges, "linkerd-multicluster/linkerd-gateway", "emojivoto/web");
    QVERIFY(g);
    QVERIFY(g->source.gateway);
    const PulledEdge *t = findEdge(edges, "emojivoto/vote-bot", "db/redis");
    QVERIFY(t);
    QCOMPARE(t->protocol, Protocol::Tcp);
    QCOMPARE(t->stats.requests, uint64_t(3));
    QCOMPARE(edges.size(), size_t(5));
}

void TestMeshMetrics::skipsNonFiniteValues()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    const double nan = std::numeric_limits<double>::quiet_NaN();
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {sample(istio("destination", pp, rv, {{"response_code", "200"}}), 60),
            sample(istio("destination", pp, rv, {{"response_code", "500"}}), nan),
            sample(
                istio("destination", pp, rv, {{"response_code", "500"}}), -std::numeric_limits<double>::infinity())}};
    MeshAnswer lat {MeshQueryKind::IstioLatency, {quantile(istio("destination", pp, rv), "0.95", nan)}};
    const auto edges = MeshMetrics::buildEdges({req, lat}, 60);
    QCOMPARE(edges.size(), size_t(1));
    QCOMPARE(edges[0].stats.requests, uint64_t(60));
    QCOMPARE(edges[0].stats.errorRate, 0.0);
    QCOMPARE(edges[0].stats.p95Ms, 0.0);
}

void TestMeshMetrics::chartSeriesSlicesRanges()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    const char *dt = "bookinfo/details-v1/details/v1";
    auto series = [](PromLabels l, std::vector<std::pair<double, double>> pts) {
        return PromSeries {std::move(l), std::move(pts)};
    };
    MeshRangeAnswer req {MeshQueryKind::IstioRequests,
        {series(istio("destination", pp, rv, {{"response_code", "200"}}), {{1000, 60}, {1060, 120}}),
            series(istio("destination", pp, rv, {{"response_code", "500"}}), {{1060, 30}}),
            series(istio("destination", pp, dt, {{"response_code", "200"}}), {{1000, 60}})}};
    PromLabels ql = istio("destination", pp, rv);
    ql[MeshMetrics::kQuantileLabel] = "0.95";
    MeshRangeAnswer lat {MeshQueryKind::IstioLatency, {series(ql, {{1060, 33}})}};
    const auto edge
        = MeshMetrics::chartSeries({req, lat}, 60, 1000, 1120, 60, "bookinfo/productpage@v1->bookinfo/reviews@v2");
    QCOMPARE(edge.size(), size_t(3));
    QCOMPARE(edge[0].timeSeconds, int64_t(1000));
    QCOMPARE(edge[0].stats.rps, 1.0);
    QCOMPARE(edge[1].stats.rps, 2.5);
    QCOMPARE(edge[1].stats.errorRate, 0.2);
    QCOMPARE(edge[1].stats.p95Ms, 33.0);
    QCOMPARE(edge[2].stats.rps, 0.0);  // nothing then: a zero, not a gap

    // A node: what it serves; a pure caller: what it sends. Versioned ids from traces match.
    const auto served = MeshMetrics::chartSeries({req}, 60, 1000, 1060, 60, "bookinfo/reviews@v2");
    QCOMPARE(served.size(), size_t(2));
    QCOMPARE(served[1].stats.rps, 2.5);
    const auto caller = MeshMetrics::chartSeries({req}, 60, 1000, 1060, 60, "bookinfo/productpage@v1");
    QCOMPARE(caller[0].stats.rps, 2.0);
    QCOMPARE(caller[1].stats.rps, 2.5);

    // Several items as one (a service's versions, a collapsed namespace): each step sums theirs.
    const std::vector<std::string> both {"bookinfo/reviews@v2", "bookinfo/details@v1"};
    const auto merged = MeshMetrics::chartSeries({req}, 60, 1000, 1060, 60, both);
    QCOMPARE(merged.size(), size_t(2));
    QCOMPARE(merged[0].stats.rps, 2.0);  // reviews 1 + details 1
    QCOMPARE(merged[1].stats.rps, 2.5);  // reviews 2.5 + details nothing
    QCOMPARE(merged[1].stats.requests, uint64_t(150));
    QVERIFY(merged[1].stats.errorRate > 0.19 && merged[1].stats.errorRate < 0.21);
    const auto edges = MeshMetrics::chartSeries({req}, 60, 1000, 1060, 60,
        std::vector<std::string> {
            "bookinfo/productpage@v1->bookinfo/reviews@v2", "bookinfo/productpage@v1->bookinfo/details@v1"});
    QCOMPARE(edges[0].stats.rps, 2.0);
    QCOMPARE(MeshMetrics::focusFor(both).ns, std::string("bookinfo"));
    QVERIFY(MeshMetrics::focusFor(std::vector<std::string> {"bookinfo/reviews@v2", "shop/cart"}).ns.empty());
}

void TestMeshMetrics::idsAndFocus()
{
    NodeRef s;
    s.ns = "shop";
    s.name = "cart";
    QCOMPARE(MeshMetrics::nodeId(s), std::string("shop/cart"));
    QVERIFY(MeshMetrics::refMatchesId(s, "shop/cart"));
    QVERIFY(MeshMetrics::refMatchesId(s, "shop/cart@v2"));
    QVERIFY(!MeshMetrics::refMatchesId(s, "shop/cartx"));
    QVERIFY(!MeshMetrics::refMatchesId(s, "shop/cart2@v2"));
    s.version = "v1";
    QVERIFY(!MeshMetrics::refMatchesId(s, "shop/cart@v2"));
    NodeRef x;
    x.kind = NodeKind::External;
    QCOMPARE(MeshMetrics::nodeId(x), std::string("external"));
    NodeRef es;
    es.kind = NodeKind::ExternalService;
    es.name = "api.example.com";
    QCOMPARE(MeshMetrics::nodeId(es), std::string("ext:api.example.com"));

    MeshFocus f = MeshMetrics::focusFor("shop/cart@v1");
    QCOMPARE(f.ns, std::string("shop"));
    QCOMPARE(f.side, MeshFocus::Side::Either);
    f = MeshMetrics::focusFor("external->shop/front");
    QCOMPARE(f.ns, std::string("shop"));
    QCOMPARE(f.side, MeshFocus::Side::Target);
    QVERIFY(MeshMetrics::focusFor("ext:api.example.com").ns.empty());

    TrafficStats a, b;
    a.rps = 3;
    a.errorRate = 0.5;
    a.p95Ms = 10;
    b.rps = 1;
    b.p95Ms = 40;
    const TrafficStats sum = MeshMetrics::sumStats({&a, &b});
    QCOMPARE(sum.rps, 4.0);
    QCOMPARE(sum.errorRate, 1.5 / 4.0);
    QCOMPARE(sum.p95Ms, 40.0);
}

void TestMeshMetrics::aggregatorShowsPulledKinds()
{
    const char *gw = "istio-system/istio-ingressgateway-5d/istio-ingressgateway/unknown";
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {sample(istio("destination", gw, pp, {{"response_code", "200"}}), 60),
            sample(istio("destination", pp, rv, {{"response_code", "200"}}), 60),
            sample(istio("destination", "unknown", pp, {{"response_code", "200"}}), 60)}};
    GraphAggregator agg;
    const int64_t now = GraphAggregator::wallNowMs();
    agg.setPulledEdges("prometheus", MeshMetrics::buildEdges({req}, 60), now);
    GraphSnapshotPtr snap = agg.snapshot(now);
    const NodeSnapshot *g = snap->node("istio-system/istio-ingressgateway");
    QVERIFY(g);
    QCOMPARE(g->kind, NodeKind::Gateway);
    QCOMPARE(snap->node("external")->kind, NodeKind::External);
    const EdgeSnapshot *ew = snap->edge("bookinfo/productpage@v1->bookinfo/reviews@v2");
    QVERIFY(ew);
    QCOMPARE(ew->direction, Direction::EastWest);
    QCOMPARE(ew->origins, std::vector<std::string> {"prometheus"});
    QCOMPARE(
        snap->edge("istio-system/istio-ingressgateway->bookinfo/productpage@v1")->direction, Direction::NorthSouth);
    QCOMPARE(snap->edge("external->bookinfo/productpage@v1")->direction, Direction::NorthSouth);
}

QTEST_GUILESS_MAIN(TestMeshMetrics)
// Names from labels are held to OTLP's and ALS's rules: a 1 MB label value or invalid
// UTF-8 never becomes a node; the other edges of the answer stay.
void TestMeshMetrics::hugeOrInvalidLabelNamesRefused()
{
    const char *pp = "bookinfo/productpage-v1/productpage/v1";
    const char *rv = "bookinfo/reviews-v2/reviews/v2";
    PromLabels huge = istio("destination", pp, rv, {{"response_code", "200"}});
    huge["destination_canonical_service"] = std::string(1024 * 1024, 'r');
    huge["destination_workload"] = std::string(1024 * 1024, 'w');
    huge["destination_service_name"] = std::string(1024 * 1024, 's');
    PromLabels invalid = istio("destination", pp, rv, {{"response_code", "200"}});
    invalid["destination_canonical_service"] = "ratings\xff";
    invalid["destination_workload"] = "ratings\xff-v1";
    invalid["destination_service_name"] = "ratings\xff";
    MeshAnswer req {MeshQueryKind::IstioRequests,
        {sample(huge, 10), sample(invalid, 10), sample(istio("destination", pp, rv, {{"response_code", "200"}}), 300)}};
    const auto edges = MeshMetrics::buildEdges({req}, 60);
    QCOMPARE(edges.size(), size_t(1));
    QVERIFY2(findEdge(edges, "bookinfo/productpage@v1", "bookinfo/reviews@v2"), qPrintable(edgeIds(edges)));
    for (const PulledEdge &e : edges)
        QVERIFY(MeshMetrics::nodeId(e.target).size() < 300);
}

#include "tst_meshmetrics.moc"

// Links out: a template filled in opens the URL meant (PromQL with quotes, braces,
// spaces and '+' survives a Grafana Explore JSON and a plain query parameter), bad
// templates are refused with the reason, and MeshMetrics::itemQuery writes a node's
// or edge's PromQL in the labels the graph queries read.

#include "telemetry/linktemplates.h"
#include "telemetry/prometheus/meshmetrics.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrlQuery>
#include <QtTest>

using namespace meshscope;

namespace {

using Kind = LinkTemplate::Kind;

const QString kPromQl = QStringLiteral(R"(sum(rate(istio_requests_total{reporter="destination",app="a b"}[1m])) + 1)");

QHash<QString, QString> grafana(const QString &promql, qint64 from = 1000, qint64 to = 61000)
{
    return LinkTemplate::grafanaValues("shop/cart@v2", promql, from, to);
}

}  // namespace

class TestLinkTemplates : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void grafanaExploreJson();
    void plainQueryParameter();
    void traceLink();
    void pathPlaceholders();
    void templateAlreadyEncoded();
    void validate_data();
    void validate();
    void itemQueries_data();
    void itemQueries();
};

void TestLinkTemplates::grafanaExploreJson()
{
    const QUrl url = LinkTemplate::expand(Kind::Grafana, LinkTemplate::example(Kind::Grafana), grafana(kPromQl));
    QVERIFY2(url.isValid(), qPrintable(url.errorString()));
    // The query is escaped for the JSON string it sits in, then percent-encoded whole;
    // the template's own JSON is encoded where a URL cannot hold it.
    const QString expr
        = QStringLiteral("sum%28rate%28istio_requests_total%7Breporter%3D%5C%22destination%5C%22%2Capp%3D"
                         "%5C%22a%20b%5C%22%7D%5B1m%5D%29%29%20%2B%201");
    const QString expected
        = QStringLiteral("http://localhost:3000/explore?left=%7B%22queries%22:%5B%7B%22refId%22:%22A%22,"
                         "%22expr%22:%22")
        + expr + QStringLiteral("%22%7D%5D,%22range%22:%7B%22from%22:%221000%22,%22to%22:%2261000%22%7D%7D");
    QCOMPARE(QString::fromLatin1(url.toEncoded()), expected);

    // What Grafana reads back: JSON whose expr is the query, character for character.
    const QString left = QUrlQuery(url).queryItemValue(QStringLiteral("left"), QUrl::FullyDecoded);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(left.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString() + QLatin1Char(' ') + left));
    QCOMPARE(
        doc.object()[QLatin1String("queries")].toArray().at(0).toObject()[QLatin1String("expr")].toString(), kPromQl);
    QCOMPARE(doc.object()[QLatin1String("range")].toObject()[QLatin1String("from")].toString(), QStringLiteral("1000"));
    QCOMPARE(doc.object()[QLatin1String("range")].toObject()[QLatin1String("to")].toString(), QStringLiteral("61000"));
}

void TestLinkTemplates::plainQueryParameter()
{
    // Outside quotes nothing is JSON-escaped; '+', '&' and '#' stay inside the value.
    const QString promql = QStringLiteral(R"(a{x="1"} + b & c # d)");
    const QUrl url = LinkTemplate::expand(
        Kind::Grafana, QStringLiteral("https://prom.example:9090/graph?g0.expr={promql}&g0.tab=0"), grafana(promql));
    QVERIFY2(url.isValid(), qPrintable(url.errorString()));
    QCOMPARE(QString::fromLatin1(url.toEncoded()),
        QStringLiteral(
            "https://prom.example:9090/graph?g0.expr=a%7Bx%3D%221%22%7D%20%2B%20b%20%26%20c%20%23%20d&g0.tab=0"));
    const QUrlQuery query(url);
    QCOMPARE(query.queryItemValue(QStringLiteral("g0.expr"), QUrl::FullyDecoded), promql);
    QCOMPARE(query.queryItemValue(QStringLiteral("g0.tab")), QStringLiteral("0"));
    QVERIFY(!url.hasFragment());
}

void TestLinkTemplates::traceLink()
{
    const QUrl url = LinkTemplate::expand(Kind::Trace, LinkTemplate::example(Kind::Trace),
        LinkTemplate::traceValues(QStringLiteral("4bf92f3577b34da6a3ce929d0e0e4736")));
    QCOMPARE(url.toEncoded(), QByteArray("http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"));
    // Tempo's Explore link carries it inside JSON, like Grafana's.
    const QUrl tempo = LinkTemplate::expand(Kind::Trace,
        QStringLiteral(R"(http://grafana:3000/explore?left={"queries":[{"query":"{trace_id}"}]})"),
        LinkTemplate::traceValues(QStringLiteral("abc123")));
    QCOMPARE(QUrlQuery(tempo).queryItemValue(QStringLiteral("left"), QUrl::FullyDecoded),
        QStringLiteral(R"({"queries":[{"query":"abc123"}]})"));
    // The Grafana placeholders mean nothing in a trace link and stay as written.
    const QUrl other = LinkTemplate::expand(Kind::Trace, QStringLiteral("http://j/trace/{trace_id}?s={service}"),
        LinkTemplate::traceValues(QStringLiteral("abc")));
    QCOMPARE(other.toEncoded(), QByteArray("http://j/trace/abc?s=%7Bservice%7D"));
}

void TestLinkTemplates::pathPlaceholders()
{
    // An edge names its destination; a value with '/' cannot break out of its path segment.
    const QHash<QString, QString> values
        = LinkTemplate::grafanaValues("shop/frontend->payments/card processor", QStringLiteral("up"), 5, 6);
    QCOMPARE(values.value(QStringLiteral("namespace")), QStringLiteral("payments"));
    QCOMPARE(values.value(QStringLiteral("service")), QStringLiteral("card processor"));
    const QUrl url = LinkTemplate::expand(
        Kind::Grafana, QStringLiteral("http://g/d/abc/{namespace}/{service}?q={promql}&from={from}&to={to}"), values);
    QCOMPARE(url.toEncoded(), QByteArray("http://g/d/abc/payments/card%20processor?q=up&from=5&to=6"));
    QCOMPARE(
        LinkTemplate::grafanaValues("ns/a%2Fb", {}, 0, 0).value(QStringLiteral("service")), QStringLiteral("a%2Fb"));
    const QUrl slash = LinkTemplate::expand(Kind::Grafana, QStringLiteral("http://g/{service}/x?q={promql}"),
        {{QStringLiteral("service"), QStringLiteral("a/b")}});
    QCOMPARE(slash.toEncoded(), QByteArray("http://g/a%2Fb/x?q="));
}

void TestLinkTemplates::templateAlreadyEncoded()
{
    // A URL copied from the browser is already encoded: kept, and its %22 quotes still
    // tell the placeholder it sits in a JSON string.
    const QUrl url = LinkTemplate::expand(Kind::Grafana,
        QStringLiteral("http://localhost:3000/explore?left=%7B%22queries%22:%5B%7B%22expr%22:%22{promql}%22%7D%5D%7D"),
        grafana(QStringLiteral(R"(up{job="x"})")));
    QCOMPARE(QUrlQuery(url).queryItemValue(QStringLiteral("left"), QUrl::FullyDecoded),
        QStringLiteral("{\"queries\":[{\"expr\":\"up{job=\\\"x\\\"}\"}]}"));
    // A lone '%' is encoded, not taken for an escape.
    const QUrl percent = LinkTemplate::expand(
        Kind::Grafana, QStringLiteral("http://g/x?a=100%&q={promql}"), grafana(QStringLiteral("1")));
    QCOMPARE(percent.toEncoded(), QByteArray("http://g/x?a=100%25&q=1"));
}

void TestLinkTemplates::validate_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("error");
    const int g = int(Kind::Grafana), t = int(Kind::Trace);
    QTest::newRow("empty means not set") << g << QStringLiteral("  ") << QString();
    QTest::newRow("grafana example") << g << LinkTemplate::example(Kind::Grafana) << QString();
    QTest::newRow("trace example") << t << LinkTemplate::example(Kind::Trace) << QString();
    QTest::newRow("https, ipv6 host") << t << QStringLiteral("https://[::1]:16686/trace/{trace_id}") << QString();
    QTest::newRow("no scheme") << g << QStringLiteral("localhost:3000/explore?q={promql}")
                               << QStringLiteral(
                                      "The Grafana link must start with http:// or https://: it opens in the "
                                      "web browser.");
    QTest::newRow("ftp") << t << QStringLiteral("ftp://jaeger/trace/{trace_id}")
                         << QStringLiteral("The trace link must start with http:// or https://: it opens in the web "
                                           "browser.");
    QTest::newRow("no promql") << g << QStringLiteral("http://localhost:3000/explore?from={from}")
                               << QStringLiteral("The Grafana link must contain {promql}, where the node's or edge's "
                                                 "query goes.");
    QTest::newRow("no trace id") << t << QStringLiteral("http://localhost:16686/search")
                                 << QStringLiteral("The trace link must contain {trace_id}, where the trace ID goes.");
    QTest::newRow("misspelt") << g << QStringLiteral("http://g/explore?q={promql}&ns={namspace}")
                              << QStringLiteral("The Grafana link has {namspace}, which meshscope does not fill in; it "
                                                "knows {promql}, {from}, {to}, {namespace} and {service}.");
    QTest::newRow("grafana placeholder in trace") << t << QStringLiteral("http://j/trace/{trace_id}?from={from}")
                                                  << QStringLiteral("The trace link has {from}, which meshscope does "
                                                                    "not fill in; it knows {trace_id}.");
    QTest::newRow("no host") << t << QStringLiteral("http:///trace/{trace_id}")
                             << QStringLiteral(
                                    "The trace link needs a host after http://, for example localhost:3000.");
    QTest::newRow("bad port") << g << QStringLiteral("http://localhost:30x0/explore?q={promql}")
                              << QStringLiteral("The Grafana link is not a valid URL: *");
}

void TestLinkTemplates::validate()
{
    QFETCH(int, kind);
    QFETCH(QString, text);
    QFETCH(QString, error);
    const QString actual = LinkTemplate::validate(Kind(kind), text);
    // '*': the rest is Qt's own wording.
    if (error.endsWith(QLatin1Char('*')))
        QVERIFY2(actual.startsWith(error.chopped(1)) && actual.size() > error.size(), qPrintable(actual));
    else
        QCOMPARE(actual, error);
}

void TestLinkTemplates::itemQueries_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<int>("mesh");
    QTest::addColumn<int>("rate");
    QTest::addColumn<QString>("selector");
    QTest::addColumn<int>("window");
    QTest::addColumn<QString>("promql");
    const int istio = int(MeshKind::Auto), linkerd = int(MeshKind::Linkerd);
    const int rps = int(MeshRate::Requests), errors = int(MeshRate::Errors);
    QTest::newRow("istio node") << QStringLiteral("shop/cart@v2") << istio << rps << QString() << 60
                                << QStringLiteral(R"(sum(rate(istio_requests_total{reporter=~"destination|waypoint",)"
                                                  R"(destination_workload_namespace="shop",destination_canonical_)"
                                                  R"(service="cart",destination_canonical_revision="v2"}[1m])))");
    QTest::newRow("istio edge errors")
        << QStringLiteral("shop/frontend->shop/cart") << int(MeshKind::Istio) << errors
        << QStringLiteral("{cluster=\"east\"}") << 90
        << QStringLiteral(R"(sum(rate(istio_requests_total{reporter=~"destination|waypoint",source_workload_namespace=)"
                          R"("shop",source_canonical_service="frontend",destination_workload_namespace="shop",)"
                          R"(destination_canonical_service="cart",cluster="east",response_code=~"5.."}[90s]) or )"
                          R"(rate(istio_requests_total{reporter=~"destination|waypoint",source_workload_namespace=)"
                          R"("shop",source_canonical_service="frontend",destination_workload_namespace="shop",)"
                          R"(destination_canonical_service="cart",cluster="east",grpc_response_status!~"0|"}[90s])) / )"
                          R"(sum(rate(istio_requests_total{reporter=~"destination|waypoint",source_workload_namespace=)"
                          R"("shop",source_canonical_service="frontend",destination_workload_namespace="shop",)"
                          R"(destination_canonical_service="cart",cluster="east"}[90s])))");
    QTest::newRow("istio from outside") << QStringLiteral("external->edge/gateway") << istio << rps << QString() << 3600
                                        << QStringLiteral(
                                               R"(sum(rate(istio_requests_total{reporter=~"destination|)"
                                               R"(waypoint",source_workload="unknown",destination_workload_)"
                                               R"(namespace="edge",destination_canonical_service="gateway"}[1h])))");
    QTest::newRow("istio external node") << QStringLiteral("external") << istio << rps << QString() << 60
                                         << QStringLiteral(R"(sum(rate(istio_requests_total{reporter=~"destination|)"
                                                           R"(waypoint",source_workload="unknown"}[1m])))");
    QTest::newRow("istio to outside") << QStringLiteral("shop/cart->ext:api.stripe.com") << istio << rps << QString()
                                      << 60
                                      << QStringLiteral(
                                             R"(sum(rate(istio_requests_total{reporter="source",destination_)"
                                             R"(workload=~"unknown|",source_workload_namespace="shop",)"
                                             R"(source_canonical_service="cart",destination_service=)"
                                             R"("api.stripe.com"}[1m])))");
    QTest::newRow("no namespace, quote in name") << QStringLiteral(R"(we"ird)") << istio << rps << QString() << 60
                                                 << QStringLiteral(R"(sum(rate(istio_requests_total{reporter=~")"
                                                                   R"(destination|waypoint",destination_canonical_)"
                                                                   R"(service="we\"ird"}[1m])))");
    QTest::newRow("folded") << QStringLiteral("other") << istio << rps << QString() << 60 << QString();
    QTest::newRow("edge into folded") << QStringLiteral("shop/a->other") << istio << rps << QString() << 60
                                      << QString();
    QTest::newRow("linkerd node errors")
        << QStringLiteral("shop/cart") << linkerd << errors << QString() << 60
        << QStringLiteral(R"(sum(rate(response_total{direction="inbound",namespace="shop",deployment="cart",)"
                          R"(classification="failure"}[1m])) / sum(rate(response_total{direction="inbound",)"
                          R"(namespace="shop",deployment="cart"}[1m])))");
    QTest::newRow("linkerd edge") << QStringLiteral("shop/frontend->shop/cart") << linkerd << rps << QString() << 60
                                  << QStringLiteral(R"(sum(rate(response_total{direction="outbound",namespace="shop",)"
                                                    R"(deployment="frontend",dst_namespace="shop",dst_deployment=)"
                                                    R"("cart"}[1m])))");
    QTest::newRow("linkerd from outside") << QStringLiteral("external->shop/web") << linkerd << rps << QString() << 60
                                          << QStringLiteral(R"(sum(rate(response_total{direction="inbound",tls!=)"
                                                            R"("true",namespace="shop",deployment="web"}[1m])))");
    QTest::newRow("linkerd to outside") << QStringLiteral("shop/cart->ext:api.stripe.com") << linkerd << rps
                                        << QString() << 60
                                        << QStringLiteral(R"(sum(rate(response_total{direction="outbound",namespace=)"
                                                          R"("shop",deployment="cart",authority=~"api\\.stripe\\.com)"
                                                          R"((:[0-9]+)?"}[1m])))");
}

void TestLinkTemplates::itemQueries()
{
    QFETCH(QString, id);
    QFETCH(int, mesh);
    QFETCH(int, rate);
    QFETCH(QString, selector);
    QFETCH(int, window);
    QFETCH(QString, promql);
    MeshQueryOptions options;
    options.mesh = MeshKind(mesh);
    options.selector = selector;
    options.windowSeconds = window;
    QCOMPARE(MeshMetrics::itemQuery(id.toStdString(), MeshRate(rate), options), promql);
}

QTEST_GUILESS_MAIN(TestLinkTemplates)
#include "tst_linktemplates.moc"

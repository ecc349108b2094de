// Caddy route JSON <-> route model: what a Caddy 2.6 server's routes array reads as
// (rules, hosts, path/header/query/method matches, backends and slices from the
// upstreams, retries, header changes, flattened subroutes), what the model writes
// back (matcher sets, reverse_proxy, round_robin for equal weights), that both
// directions round-trip, and that everything one side cannot express is refused
// with a message naming it rather than dropped.

#include "routing/caddy/caddytranslator.h"
#include "routing/routevalidator.h"
#include "routing/yaml/routeyaml.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace meshscope::routing;

// Declared ahead of the JSON and YAML fixtures: moc stops reading at raw string literals.
class TestCaddyTranslator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void pullsTheDocumentedRoute();
    void pullGroupsRoutesByHostAndSharesBackends();
    void pullFlattensSubroutes();
    void pullConvertsWildcardsAndRegexes();
    void pullRefusesWhatTheModelCannotHold_data();
    void pullRefusesWhatTheModelCannotHold();
    void pushWritesMatchersAndProxy();
    void roundTripModelCaddyModel();
    void roundTripCaddyModelCaddy();
    void weightsFollowTheValidator();
    void pushRefusals_data();
    void pushRefusals();
    void durations();
    void regexAnchoring();
    void regexUnwrappingInvertsWrapping();
    void zeroDurationsAreCaddysDefault();
    void headerOrderSurvivesPushAndPull();
    void matchEverythingAndPrefixSlashesSurvivePushAndPull();
    void emptyServer();
};

namespace {

QJsonArray json(const char *text)
{
    QJsonParseError err {};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(text), &err);
    if (err.error != QJsonParseError::NoError || !doc.isArray())
        qFatal("bad test JSON: %s", qPrintable(err.errorString()));
    return doc.array();
}

// Raw strings stay out of macro arguments: moc's preprocessor does not read them there.
QString raw(const char *text) { return QString::fromUtf8(text); }

QString compact(const QJsonArray &a) { return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact)); }

RouteSet yaml(const std::string &text)
{
    RouteLoadResult r = loadRouteYaml(text, "test.yaml");
    if (!r.ok()) {
        for (const RouteIssue &i : r.issues)
            qWarning("%s", i.toString().c_str());
        qFatal("bad test YAML");
    }
    return r.set;
}

bool anyContains(const std::vector<std::string> &lines, const std::string &needle)
{
    return std::any_of(
        lines.begin(), lines.end(), [&](const std::string &l) { return l.find(needle) != std::string::npos; });
}

QString joined(const std::vector<std::string> &lines)
{
    QString out;
    for (const std::string &l : lines)
        out += QString::fromStdString(l) + QLatin1Char('\n');
    return out;
}

// The route of PROTOCOLS.md section 8, without health checks.
const char kApiRoute[] = R"([
 {"@id":"api","match":[{"host":["api.local"],"path":["/v1/*"],"method":["GET","POST"],"header":{"X-Canary":["1"]}}],
  "handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:18081"},{"dial":"127.0.0.1:18082"}],
    "load_balancing":{"selection_policy":{"policy":"round_robin"},"retries":2,"try_duration":"2s"},
    "headers":{"request":{"set":{"X-Via":["tool"]}}}}],"terminal":true}])";

const char kEditableYaml[] = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  hostnames: [shop.test]
  rules:
  - name: checkout
    matches:
    - path: {type: PathPrefix, value: /checkout}
      headers: [{name: x-user, type: RegularExpression, value: 'u-\d+'}]
      queryParams: [{name: debug, value: "1"}]
      method: POST
    - path: {type: Exact, value: /pay}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-via, value: meshscope}], remove: [x-debug]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-served-by, value: caddy}]}
    backendRefs: [{name: checkout, weight: 1}]
    timeouts: {request: 10s, backendRequest: 2s}
    retry: {attempts: 3, backoff: 100ms}
  - name: catalog
    matches:
    - path: {type: RegularExpression, value: '/items/[0-9]+'}
    backendRefs: [{name: catalog-v1, weight: 50}, {name: catalog-v2, weight: 50}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: checkout, labels: {kubernetes.io/service-name: checkout}}
addressType: IPv4
ports: [{port: 9001}]
endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: catalog-v1, labels: {kubernetes.io/service-name: catalog-v1}}
addressType: IPv4
ports: [{port: 9002}]
endpoints: [{addresses: [10.0.1.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: catalog-v2, labels: {kubernetes.io/service-name: catalog-v2}}
addressType: IPv6
ports: [{port: 9003}]
endpoints: [{addresses: ['fd00::1']}]
)";

}  // namespace

void TestCaddyTranslator::pullsTheDocumentedRoute()
{
    const CaddyPullResult r = caddyRoutesToModel(json(kApiRoute), "srv0");
    QVERIFY2(r.ok(), qPrintable(joined(r.errors)));
    QCOMPARE(r.set.routes.size(), size_t(1));
    const HttpRoute &route = r.set.routes[0];
    QCOMPARE(route.name, std::string("api.local"));
    QCOMPARE(route.hostnames, std::vector<std::string> {"api.local"});
    QCOMPARE(route.rules.size(), size_t(1));
    const RouteRule &rule = route.rules[0];
    QCOMPARE(rule.name, std::string("api"));
    // Two methods are two alternatives of the same path and header.
    QCOMPARE(rule.matches.size(), size_t(2));
    QCOMPARE(rule.matches[0].method, std::string("GET"));
    QCOMPARE(rule.matches[1].method, std::string("POST"));
    for (const RouteMatch &m : rule.matches) {
        QVERIFY(m.path);
        QCOMPARE(int(m.path->type), int(PathMatchType::PathPrefix));
        QCOMPARE(m.path->value, std::string("/v1"));
        QCOMPARE(m.headers.size(), size_t(1));
        QCOMPARE(m.headers[0].name, std::string("X-Canary"));
        QCOMPARE(m.headers[0].value, std::string("1"));
    }
    QVERIFY(anyContains(r.notes, "path '/v1/*' is read as PathPrefix '/v1'"));
    QCOMPARE(rule.backends.size(), size_t(1));
    QCOMPARE(rule.backends[0].name, std::string("api"));
    QVERIFY(rule.retry);
    QCOMPARE(rule.retry->attempts, 2);
    QCOMPARE(rule.timeoutMs.value_or(-1), int64_t(2000));
    QCOMPARE(rule.requestHeaders.set.size(), size_t(1));
    QCOMPARE(rule.requestHeaders.set[0].first, std::string("X-Via"));
    QCOMPARE(rule.requestHeaders.set[0].second, std::string("tool"));
    // Two ports: one slice each, both serving backend "api".
    QCOMPARE(r.set.endpointSlices.size(), size_t(2));
    QCOMPARE(r.set.endpointSlices[0].serviceName, std::string("api"));
    QCOMPARE(r.set.endpointSlices[0].port, 18081);
    QCOMPARE(r.set.endpointSlices[1].port, 18082);
    QCOMPARE(r.set.endpointSlices[1].endpoints.at(0).address, std::string("127.0.0.1"));
    // What was pulled passes the Caddy target's own checks (a warning for the timeout).
    QVERIFY(!hasErrors(validateRoutes(r.set, DataPlane::Caddy)));
}

void TestCaddyTranslator::pullGroupsRoutesByHostAndSharesBackends()
{
    const CaddyPullResult r = caddyRoutesToModel(json(R"([
      {"match":[{"host":["a.test"],"path":["/x"]}],"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]},
      {"@id":"a-rest","match":[{"host":["a.test"]}],"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.2:80"}]}]},
      {"@id":"b","match":[{"host":["b.test"]}],"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]},
      {"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"[fd00::9]:8080"}]}]}
    ])"),
        "edge");
    QVERIFY2(r.ok(), qPrintable(joined(r.errors)));
    QCOMPARE(r.set.routes.size(), size_t(3));
    QCOMPARE(r.set.routes[0].name, std::string("a.test"));
    QCOMPARE(r.set.routes[0].rules.size(), size_t(2));
    QCOMPARE(r.set.routes[1].name, std::string("b.test"));
    QCOMPARE(r.set.routes[2].name, std::string("edge"));  // no host: named after the server
    QVERIFY(r.set.routes[2].hostnames.empty());
    // 10.0.0.1:80 is one upstream set used twice: one backend, named after the first user.
    const std::string first = r.set.routes[0].rules[0].backends[0].name;
    QCOMPARE(first, std::string("a.test"));
    QCOMPARE(r.set.routes[1].rules[0].backends[0].name, first);
    QCOMPARE(r.set.routes[0].rules[1].backends[0].name, std::string("a-rest"));
    QCOMPARE(r.set.endpointSlices.size(), size_t(3));
    QCOMPARE(r.set.endpointSlices[2].endpoints.at(0).address, std::string("fd00::9"));
    QCOMPARE(r.set.endpointSlices[2].port, 8080);
}

void TestCaddyTranslator::pullFlattensSubroutes()
{
    // The shape a Caddyfile site block produces.
    const CaddyPullResult r = caddyRoutesToModel(json(R"([
      {"match":[{"host":["shop.test"]}],"handle":[{"handler":"subroute","routes":[
         {"@id":"api","match":[{"path":["/api/*"]}],"handle":[{"handler":"headers","request":{"delete":["X-Debug"]}},
            {"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]},
         {"@id":"web","handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.2:80"}]}]}]}],"terminal":true}
    ])"),
        "srv0");
    QVERIFY2(r.ok(), qPrintable(joined(r.errors)));
    QCOMPARE(r.set.routes.size(), size_t(1));
    const HttpRoute &route = r.set.routes[0];
    QCOMPARE(route.hostnames, std::vector<std::string> {"shop.test"});
    QCOMPARE(route.rules.size(), size_t(2));
    QCOMPARE(route.rules[0].name, std::string("api"));
    QCOMPARE(route.rules[0].matches.at(0).path->value, std::string("/api"));
    QCOMPARE(route.rules[0].requestHeaders.remove, std::vector<std::string> {"X-Debug"});
    QCOMPARE(route.rules[1].name, std::string("web"));
    // Written back flat: the host on every route, in the same order.
    const CaddyPushResult back = modelToCaddyRoutes(r.set);
    QVERIFY2(back.ok(), qPrintable(joined(back.errors)));
    QCOMPARE(back.routes.size(), 2);
    QCOMPARE(
        back.routes[0].toObject().value(QLatin1String("match")).toArray()[0].toObject().value(QLatin1String("host")),
        QJsonValue(QJsonArray {QStringLiteral("shop.test")}));
    QCOMPARE(back.routes[1].toObject().value(QLatin1String("@id")).toString(), QStringLiteral("web"));

    // Both levels constraining the path cannot be one match.
    const CaddyPullResult nested = caddyRoutesToModel(json(R"([
      {"match":[{"path":["/a/*"]}],"handle":[{"handler":"subroute","routes":[
         {"match":[{"path":["/a/b"]}],"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]}]}]}])"),
        "srv0");
    QVERIFY(!nested.ok());
    QVERIFY2(anyContains(nested.errors, "both the subroute and the route around it match on 'path'"),
        qPrintable(joined(nested.errors)));
}

void TestCaddyTranslator::pullConvertsWildcardsAndRegexes()
{
    const CaddyPullResult r = caddyRoutesToModel(json(R"([
      {"match":[{"path":["/static*"],"header":{"X-Env":["*"],"X-Team":["pay*"]},"query":{"v":["2"]}}],
       "handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]},
      {"match":[{"path_regexp":{"pattern":"^(?:/u/[0-9]+)$"},"header_regexp":{"X-User":{"pattern":"^u-\\d+"}}}],
       "handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]},
      {"match":[{"path":["/exact","/docs","/docs/*"]}],
       "handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]}
    ])"),
        "srv0");
    QVERIFY2(r.ok(), qPrintable(joined(r.errors)));
    const auto &rules = r.set.routes.at(0).rules;
    QCOMPARE(rules.size(), size_t(3));
    const RouteMatch &m = rules[0].matches.at(0);
    QCOMPARE(int(m.path->type), int(PathMatchType::RegularExpression));
    QCOMPARE(m.path->value, std::string("/static.*"));
    QCOMPARE(m.headers.size(), size_t(2));
    for (const HeaderMatch &h : m.headers) {
        QCOMPARE(int(h.type), int(StringMatchType::RegularExpression));
        QVERIFY(h.name == "X-Env" ? h.value == ".*" : h.value == "pay.*");
    }
    QCOMPARE(m.queryParams.at(0).value, std::string("2"));
    const RouteMatch &re = rules[1].matches.at(0);
    QCOMPARE(re.path->value, std::string("/u/[0-9]+"));
    // An unanchored Caddy pattern searches; as a full match it needs ".*" around it.
    QCOMPARE(re.headers.at(0).value, std::string(".*(?:^u-\\d+).*"));
    // "/docs" next to "/docs/*" is Caddy's spelling of one Gateway API prefix.
    QCOMPARE(rules[2].matches.size(), size_t(2));
    QCOMPARE(int(rules[2].matches[0].path->type), int(PathMatchType::Exact));
    QCOMPARE(rules[2].matches[1].path->value, std::string("/docs"));
    QCOMPARE(int(rules[2].matches[1].path->type), int(PathMatchType::PathPrefix));
    QVERIFY(!anyContains(r.notes, "/docs/*"));
}

void TestCaddyTranslator::pullRefusesWhatTheModelCannotHold_data()
{
    QTest::addColumn<QString>("routes");
    QTest::addColumn<QString>("message");
    const QString proxy = raw(R"({"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]})");
    auto route = [&](const QString &rest) -> QString { return QStringLiteral("[{") + rest + QStringLiteral("}]"); };
    QTest::newRow("static_response") << route(raw(R"("handle":[{"handler":"static_response","body":"x"}])"))
                                     << QStringLiteral(
                                            "routes[0].handle[0]: handler 'static_response' has no equivalent");
    QTest::newRow("health checks") << route(QStringLiteral(
        R"("@id":"h","handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}],"health_checks":{"active":{"uri":"/healthz"}}}])"))
                                   << QStringLiteral("routes[0].handle[0] (@id 'h'): reverse_proxy field "
                                                     "'health_checks' has no equivalent");
    QTest::newRow("remote_ip matcher") << route(raw(R"("match":[{"remote_ip":{"ranges":["10.0.0.0/8"]}}],"handle":[)")
        + proxy + QStringLiteral("]")) << QStringLiteral("routes[0].match[0]: matcher 'remote_ip' has no equivalent");
    QTest::newRow("header twice in other case")
        << route(raw(R"("match":[{"header":{"X-A":["1"]},"header_regexp":{"x-a":{"pattern":"2"}}}],"handle":[)") + proxy
               + QStringLiteral("]"))
        << QStringLiteral("header 'x-a' is the same header as 'X-A' to Caddy, which requires both conditions");
    QTest::newRow("absent header") << route(raw(R"("match":[{"header":{"X-A":null}}],"handle":[)") + proxy
        + QStringLiteral("]")) << QStringLiteral("header matcher 'X-A' without values (the header must be absent)");
    QTest::newRow("query wildcard") << route(raw(R"("match":[{"query":{"q":["*"]}}],"handle":[)") + proxy
        + QStringLiteral("]")) << QStringLiteral("query matcher 'q' value '*' is a wildcard");
    QTest::newRow("ip_hash") << route(QStringLiteral(
        R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}],"load_balancing":{"selection_policy":{"policy":"ip_hash"}}}])"))
                             << QStringLiteral("selection policy 'ip_hash' has no equivalent");
    QTest::newRow("group") << route(raw(R"("group":"g","handle":[)") + proxy + QStringLiteral("]"))
                           << QStringLiteral("route field 'group' (mutually exclusive route groups)");
    QTest::newRow("handler after proxy") << route(raw(R"("handle":[)") + proxy + raw(R"(,{"handler":"headers"}])"))
                                         << QStringLiteral("handlers after reverse_proxy cannot be expressed");
    QTest::newRow("placeholder dial") << route(
        QStringLiteral(R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"{http.request.host}:80"}]}])"))
                                      << QStringLiteral("upstream dial '{http.request.host}:80' uses a placeholder");
    QTest::newRow("port range") << route(
        raw(R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80-81"}]}])"))
                                << QStringLiteral("has port '80-81', not one port number");
    QTest::newRow("hosts differ") << route(
        raw(R"("match":[{"host":["a.test"]},{"host":["b.test"]}],"handle":[)") + proxy + QStringLiteral("]"))
                                  << QStringLiteral("routes[0].match[1]: its host matcher differs");
    QTest::newRow("inner wildcard") << route(raw(R"("match":[{"path":["/a/*/b"]}],"handle":[)") + proxy
        + QStringLiteral("]")) << QStringLiteral("path pattern '/a/*/b' has a '*' inside it");
    QTest::newRow("header replace") << route(QStringLiteral(
        R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}],"headers":{"request":{"replace":{"X":[{"search":"a","replace":"b"}]}}}}])"))
                                    << QStringLiteral("request header operation 'replace' has no equivalent");
    QTest::newRow("no handler") << route(raw(R"("match":[{"path":["/x"]}])")) << QStringLiteral("has no handler");
}

void TestCaddyTranslator::pullRefusesWhatTheModelCannotHold()
{
    QFETCH(QString, routes);
    QFETCH(QString, message);
    const QJsonDocument doc = QJsonDocument::fromJson(routes.toUtf8());
    QVERIFY2(doc.isArray(), qPrintable(routes));
    const CaddyPullResult r = caddyRoutesToModel(doc.array(), "srv0");
    QVERIFY(!r.ok());
    QVERIFY2(anyContains(r.errors, message.toStdString()), qPrintable(joined(r.errors)));
    QVERIFY(r.set.routes.empty());
}

void TestCaddyTranslator::pushWritesMatchersAndProxy()
{
    const RouteSet set = yaml(kEditableYaml);
    QVERIFY(!hasErrors(validateRoutes(set, DataPlane::Caddy)));
    const CaddyPushResult r = modelToCaddyRoutes(set);
    QVERIFY2(r.ok(), qPrintable(joined(r.errors)));
    QCOMPARE(r.routes.size(), 2);
    const QJsonObject checkout = r.routes[0].toObject();
    QCOMPARE(checkout.value(QLatin1String("@id")).toString(), QStringLiteral("checkout"));
    const QJsonArray sets = checkout.value(QLatin1String("match")).toArray();
    QCOMPARE(sets.size(), 2);
    const QString want1 = raw(R"([{"header_regexp":{"x-user":{"pattern":"^(?:u-\\d+)$"}},"host":["shop.test"],)"
                              R"("method":["POST"],"path":["/checkout","/checkout/*"],"query":{"debug":["1"]}}])");
    QCOMPARE(compact(QJsonArray {sets[0]}), want1);
    const QString want2 = raw(R"([{"host":["shop.test"],"path":["/pay"]}])");
    QCOMPARE(compact(QJsonArray {sets[1]}), want2);
    const QJsonObject proxy = checkout.value(QLatin1String("handle")).toArray()[0].toObject();
    const QString want3 = raw(
        R"([{"handler":"reverse_proxy","headers":{"request":{"delete":["x-debug"],"set":{"x-via":["meshscope"]}},)"
        R"("response":{"add":{"x-served-by":["caddy"]}}},"load_balancing":{"retries":3,)"
        R"("selection_policy":{"policy":"round_robin"},"try_duration":"10s","try_interval":"100ms"},)"
        R"("transport":{"protocol":"http","response_header_timeout":"2s"},)"
        R"("upstreams":[{"dial":"10.0.0.1:9001"},{"dial":"10.0.0.2:9001"}]}])");
    QCOMPARE(compact(QJsonArray {proxy}), want3);
    QVERIFY(anyContains(r.notes, "timeouts.request 10s is written as load_balancing.try_duration"));
    const QJsonObject catalog = r.routes[1].toObject();
    const QString want4 = raw(R"([{"host":["shop.test"],"path_regexp":{"pattern":"^(?:/items/[0-9]+)$"}}])");
    QCOMPARE(compact(catalog.value(QLatin1String("match")).toArray()), want4);
    // Equal weights: one round-robin pool of every address, IPv6 in brackets.
    const QString want5
        = raw(R"([{"handler":"reverse_proxy","load_balancing":{"selection_policy":{"policy":"round_robin"}},)"
              R"("upstreams":[{"dial":"10.0.1.1:9002"},{"dial":"[fd00::1]:9003"}]}])");
    QCOMPARE(compact(catalog.value(QLatin1String("handle")).toArray()), want5);
}

void TestCaddyTranslator::roundTripModelCaddyModel()
{
    // A set written in the terms Caddy reads back the same way (perTryTimeout would
    // come back as backendRequest, equal backends as one, backends are named after
    // the rule, exact header conditions before regex ones): model -> Caddy -> model.
    const RouteSet set = yaml(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop.test}
spec:
  hostnames: [shop.test]
  rules:
  - name: checkout
    matches:
    - path: {type: PathPrefix, value: /checkout}
      headers: [{name: x-env, value: prod}, {name: x-user, type: RegularExpression, value: 'u-\d+'}]
      method: POST
    - path: {type: Exact, value: /pay}
      queryParams: [{name: debug, value: "1"}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-via, value: meshscope}], add: [{name: x-a, value: "1"}], remove: [x-debug]}
    backendRefs: [{name: checkout}]
    timeouts: {request: 10s, backendRequest: 2s}
    retry: {attempts: 3, backoff: 100ms}
  - name: rest
    backendRefs: [{name: rest}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: checkout, labels: {kubernetes.io/service-name: checkout}}
addressType: IPv4
ports: [{port: 9001}]
endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: rest, labels: {kubernetes.io/service-name: rest}}
addressType: IPv4
ports: [{port: 9002}]
endpoints: [{addresses: [10.0.1.1]}]
)");
    const CaddyPushResult pushed = modelToCaddyRoutes(set);
    QVERIFY2(pushed.ok(), qPrintable(joined(pushed.errors)));
    const CaddyPullResult pulled = caddyRoutesToModel(pushed.routes, "srv0");
    QVERIFY2(pulled.ok(), qPrintable(joined(pulled.errors)));
    QCOMPARE(QString::fromStdString(toYaml(pulled.set)), QString::fromStdString(toYaml(set)));
    QVERIFY(pulled.set == set);
}

void TestCaddyTranslator::roundTripCaddyModelCaddy()
{
    // Caddy JSON in the spelling meshscope writes comes back byte for byte.
    const char *original
        = R"([{"@id":"api","handle":[{"handler":"reverse_proxy","headers":{"request":{"set":{"X-Via":["tool"]}}},)"
          R"("load_balancing":{"retries":2,"selection_policy":{"policy":"round_robin"},"try_duration":"2s"},)"
          R"("upstreams":[{"dial":"127.0.0.1:18081"},{"dial":"127.0.0.1:18082"}]}],)"
          R"("match":[{"header":{"X-Canary":["1"]},"host":["api.local"],"method":["GET"],"path":["/v1","/v1/*"]}]},)"
          R"({"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"127.0.0.1:18083"}]}]}])";
    const CaddyPullResult pulled = caddyRoutesToModel(json(original), "srv0");
    QVERIFY2(pulled.ok(), qPrintable(joined(pulled.errors)));
    QVERIFY2(pulled.notes.empty(), qPrintable(joined(pulled.notes)));
    const CaddyPushResult pushed = modelToCaddyRoutes(pulled.set);
    QVERIFY2(pushed.ok(), qPrintable(joined(pushed.errors)));
    QCOMPARE(compact(pushed.routes), QString::fromUtf8(original));
}

void TestCaddyTranslator::weightsFollowTheValidator()
{
    const std::string slices = R"(
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: a, labels: {kubernetes.io/service-name: a}}
ports: [{port: 81}]
endpoints: [{addresses: [10.0.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: b, labels: {kubernetes.io/service-name: b}}
ports: [{port: 82}]
endpoints: [{addresses: [10.0.0.2]}, {addresses: [10.0.0.3]}]
)";
    auto route = [&](const std::string &backends) {
        return yaml("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n"
                    "  - backendRefs: "
            + backends + slices);
    };
    // 0-weight backends are left out, with a note; the validator accepts the rule.
    {
        const RouteSet set = route("[{name: a, weight: 1}, {name: b, weight: 0}]");
        QVERIFY(!hasErrors(validateRoutes(set, DataPlane::Caddy)));
        const CaddyPushResult r = modelToCaddyRoutes(set);
        QVERIFY2(r.ok(), qPrintable(joined(r.errors)));
        const QString want6 = raw(R"([{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:81"}]}])");
        QCOMPARE(compact(r.routes[0].toObject().value(QLatin1String("handle")).toArray()), want6);
        QVERIFY(anyContains(r.notes, "backend 'b' has weight 0 and is not written"));
    }
    // Unequal weights: both refuse, with the same reason.
    {
        const RouteSet set = route("[{name: a, weight: 80}, {name: b, weight: 20}]");
        const auto issues = validateRoutes(set, DataPlane::Caddy);
        QVERIFY(hasErrors(issues));
        const CaddyPushResult r = modelToCaddyRoutes(set);
        QVERIFY(!r.ok());
        const std::string reason
            = "refused for Caddy 2.6.2: it has no weighted round robin, so weights 80/20 cannot be "
              "expressed; use equal weights, or weight 0 for all but one backend";
        QVERIFY2(anyContains(r.errors, reason), qPrintable(joined(r.errors)));
        QVERIFY(std::any_of(issues.begin(), issues.end(), [&](const RouteIssue &i) { return i.message == reason; }));
        QVERIFY(r.routes.isEmpty());
    }
    // Equal weights over unequal address counts would not split evenly: both refuse.
    {
        const RouteSet set = route("[{name: a}, {name: b}]");
        const auto issues = validateRoutes(set, DataPlane::Caddy);
        QVERIFY(hasErrors(issues));
        const CaddyPushResult r = modelToCaddyRoutes(set);
        QVERIFY2(anyContains(r.errors, "equal weights split traffic by ready address count (a: 1, b: 2)"),
            qPrintable(joined(r.errors)));
    }
}

void TestCaddyTranslator::pushRefusals_data()
{
    QTest::addColumn<QString>("rule");
    QTest::addColumn<QString>("message");
    QTest::newRow("fault") << QStringLiteral(
        "  - backendRefs: [{name: a}]\n    filters:\n    - type: ExtensionRef\n      extensionRef: {group: "
        "meshscope.io, "
        "kind: FaultInjection, name: f}\n      meshscope.io/faultInjection: {abort: {httpStatus: 503}}\n")
                           << QStringLiteral("refused for Caddy 2.6.2: it has no fault injection handler");
    QTest::newRow("mirror") << QStringLiteral("  - backendRefs: [{name: a}]\n    filters:\n    - type: RequestMirror\n "
                                              "     requestMirror: {backendRef: {name: "
                                              "a}}\n")
                            << QStringLiteral("refused for Caddy 2.6.2: it cannot mirror requests");
    QTest::newRow("query regex") << QStringLiteral(
        "  - backendRefs: [{name: a}]\n    matches: [{queryParams: [{name: q, type: RegularExpression, value: "
        "'x.*'}]}]\n") << QStringLiteral("its query matcher compares exact values only (query parameter 'q')");
    QTest::newRow("star in exact path") << QStringLiteral(
        "  - backendRefs: [{name: a}]\n    matches: [{path: {type: Exact, value: '/a*'}}]\n")
                                        << QStringLiteral("its path matcher reads '*' as a wildcard");
    QTest::newRow("duplicate @id") << QStringLiteral(
        "  - name: same\n    backendRefs: [{name: a}]\n  - name: same\n    matches: [{path: {value: /b}}]\n    "
        "backendRefs: [{name: a}]\n")
                                   << QStringLiteral("Caddy addresses routes by '@id', which must be unique");
    QTest::newRow("unknown backend") << QStringLiteral("  - backendRefs: [{name: nowhere}]\n")
                                     << QStringLiteral("unknown backend 'nowhere'");
}

void TestCaddyTranslator::pushRefusals()
{
    QFETCH(QString, rule);
    QFETCH(QString, message);
    const std::string text
        = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n"
        + rule.toStdString()
        + "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: a, labels: "
          "{kubernetes.io/service-name: a}}\nports: [{port: 81}]\nendpoints: [{addresses: [10.0.0.1]}]\n";
    RouteLoadResult loaded = loadRouteYaml(text, "t.yaml");
    QVERIFY(loaded.ok());
    const CaddyPushResult r = modelToCaddyRoutes(loaded.set);
    QVERIFY(!r.ok());
    QVERIFY2(anyContains(r.errors, message.toStdString()), qPrintable(joined(r.errors)));
    QVERIFY(r.routes.isEmpty());
}

void TestCaddyTranslator::durations()
{
    QCOMPARE(parseCaddyDuration(QJsonValue(QStringLiteral("2s"))).value_or(-1), int64_t(2000));
    QCOMPARE(parseCaddyDuration(QJsonValue(QStringLiteral("1m30s"))).value_or(-1), int64_t(90000));
    QCOMPARE(parseCaddyDuration(QJsonValue(QStringLiteral("1.5s"))).value_or(-1), int64_t(1500));
    QCOMPARE(parseCaddyDuration(QJsonValue(QStringLiteral("250ms"))).value_or(-1), int64_t(250));
    QCOMPARE(parseCaddyDuration(QJsonValue(QStringLiteral("1d"))).value_or(-1), int64_t(86400000));
    QCOMPARE(parseCaddyDuration(QJsonValue(2e9)).value_or(-1), int64_t(2000));  // nanoseconds
    QVERIFY(!parseCaddyDuration(QJsonValue(QStringLiteral("1.5ms"))));
    QVERIFY(!parseCaddyDuration(QJsonValue(QStringLiteral("soon"))));
    QVERIFY(!parseCaddyDuration(QJsonValue(QStringLiteral("."))));
    QVERIFY(!parseCaddyDuration(QJsonValue(QStringLiteral("5"))));
    // Past Go's int64 nanoseconds Caddy refuses a duration; it never wraps negative here.
    QVERIFY(!parseCaddyDuration(QJsonValue(QStringLiteral("1m3030303030303030303030303030s"))));
    QVERIFY(!parseCaddyDuration(QJsonValue(QStringLiteral("300000000h"))));
    QVERIFY(!parseCaddyDuration(QJsonValue(1e30)));
    QCOMPARE(parseCaddyDuration(QJsonValue(QStringLiteral("2000000h"))).value_or(-1), int64_t(7'200'000'000'000));
}

void TestCaddyTranslator::regexAnchoring()
{
    QCOMPARE(caddyRegexToFullMatch("^(?:a|b)$"), std::string("a|b"));
    QCOMPARE(caddyRegexToFullMatch("^/v1/.*$"), std::string("/v1/.*"));
    QCOMPARE(caddyRegexToFullMatch("^a$|^b$"), std::string(".*(?:^a$|^b$).*"));
    QCOMPARE(caddyRegexToFullMatch("^(?:a)|(?:b)$"), std::string(".*(?:^(?:a)|(?:b)$).*"));
    QCOMPARE(caddyRegexToFullMatch("^a\\$"), std::string(".*(?:^a\\$).*"));
    QCOMPARE(caddyRegexToFullMatch("/api"), std::string(".*(?:/api).*"));
    QCOMPARE(fullMatchToCaddyRegex("a|b"), std::string("^(?:a|b)$"));
    QCOMPARE(caddyRegexToFullMatch(fullMatchToCaddyRegex("/x/[0-9]+")), std::string("/x/[0-9]+"));
}

// Unwrapping the anchors the push writes gives back exactly the pattern that was
// wrapped, whatever it holds: classes with ']' first or parentheses inside, escapes,
// \Q...\E, flags, named groups; a pattern RE2 refuses is written and read as it is
// (the validator refuses it). Found by the Caddy fuzzer:
// tests/fuzz/findings/caddytranslator-regex-class-paren.json.
void TestCaddyTranslator::regexUnwrappingInvertsWrapping()
{
    const char *const patterns[] = {"[])]", "[^])]", "[]a)]", "[]]", "[^]]", "[[:alpha:])]", "[[:^digit:](]", "[[]",
        "[[:]]", "[\\]()]", "\\)", "\\(", "\\\\", "a\\)b", "\\Q)(\\E", "(\\Q]\\E)*", "(a)(b)", "a|b", "(?:a)|(?:b)",
        "(?i)x", "(?i:x)|y", "(?P<n>a)?", "", "[(]", "\\pL+", "\\p{Greek}(x)", "\\x{29}", "(?:)", "^a$", "a$|^b",
        // RE2 refuses these, or (a \Q that runs to the end) they cannot be anchored: kept as written.
        ")))", "(", "((a)", "[", "[a", "a\\", "(?:a)(?:b", "a)(?:b", "[[:foo:]]", "\\Q)", "a\\Qb", "*a", "\xff"};
    for (const char *p : patterns) {
        const std::string x(p);
        QCOMPARE(caddyRegexToFullMatch(fullMatchToCaddyRegex(x)), x);
    }
    QCOMPARE(fullMatchToCaddyRegex("[])]"), std::string("^(?:[])])$"));
    QCOMPARE(fullMatchToCaddyRegex(")))"), std::string(")))"));
    QCOMPARE(caddyRegexToFullMatch(")))"), std::string(")))"));
    // Anchored patterns read by structure, not by counting characters.
    QCOMPARE(caddyRegexToFullMatch("^[])]$"), std::string("[])]"));
    QCOMPARE(caddyRegexToFullMatch("^(?:[(])$"), std::string("[(]"));
    QCOMPARE(caddyRegexToFullMatch("^(a|b)$"), std::string("(a|b)"));
    QCOMPARE(caddyRegexToFullMatch("^[|]$"), std::string("[|]"));
    QCOMPARE(caddyRegexToFullMatch("^\\Q|\\E$"), std::string("\\Q|\\E"));
    QCOMPARE(caddyRegexToFullMatch("^a|b$"), std::string(".*(?:^a|b$).*"));
    QCOMPARE(caddyRegexToFullMatch("^\\Qa$"), std::string("^\\Qa$"));  // the '$' is quoted: kept as written
    QCOMPARE(caddyRegexToFullMatch("^[$]"), std::string(".*(?:^[$]).*"));
    QCOMPARE(caddyRegexToFullMatch("^(?m)a$"), std::string(".*(?:^(?m)a$).*"));  // '$' ends a line, not the value
    QCOMPARE(caddyRegexToFullMatch("^*a$"), std::string(".*(?:^*a$).*"));  // "*a" alone does not compile

    // The fuzzer's input: pull, push and pull again give the same set and JSON.
    const CaddyPullResult pulled = caddyRoutesToModel(json(R"([{"match":[{"path_regexp":{"pattern":"^[])]$"}}],)"
                                                           R"("handle":[{"handler":"reverse_proxy",)"
                                                           R"("upstreams":[{"dial":"10.0.0.1:80"}]}]}])"),
        "srv0");
    QVERIFY2(pulled.ok(), qPrintable(joined(pulled.errors)));
    QCOMPARE(pulled.set.routes.at(0).rules.at(0).matches.at(0).path->value, std::string("[])]"));
    const CaddyPushResult pushed = modelToCaddyRoutes(pulled.set);
    QVERIFY2(pushed.ok(), qPrintable(joined(pushed.errors)));
    const CaddyPullResult again = caddyRoutesToModel(pushed.routes, "srv0");
    QVERIFY2(again.ok(), qPrintable(joined(again.errors)));
    QVERIFY(again.set == pulled.set);
    QCOMPARE(compact(modelToCaddyRoutes(again.set).routes), compact(pushed.routes));
}

// Caddy reads a duration of 0 as the field left out (Go's zero value: no response
// header timeout, the default try interval): the pull reads it as unset, which is what
// the push writes back (nothing), so pull -> push -> pull is a fixed point; a model's
// 0 ms is pushed as Caddy's default too. Found by the Caddy fuzzer:
// tests/fuzz/findings/caddytranslator-zero-duration.json.
void TestCaddyTranslator::zeroDurationsAreCaddysDefault()
{
    const CaddyPullResult pulled
        = caddyRoutesToModel(json(R"([{"handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}],)"
                                  R"("load_balancing":{"retries":2,"try_duration":"0s","try_interval":0},)"
                                  R"("transport":{"protocol":"http","response_header_timeout":"0s"}}]}])"),
            "srv0");
    QVERIFY2(pulled.ok(), qPrintable(joined(pulled.errors)));
    const RouteRule &rule = pulled.set.routes.at(0).rules.at(0);
    QVERIFY(!rule.backendTimeoutMs);
    QVERIFY(!rule.timeoutMs);
    QVERIFY(rule.retry);
    QCOMPARE(rule.retry->attempts, 2);
    QVERIFY(!rule.retry->backoffMs);
    QVERIFY2(anyContains(pulled.notes, "transport.response_header_timeout 0 is Caddy's default"),
        qPrintable(joined(pulled.notes)));
    const CaddyPushResult pushed = modelToCaddyRoutes(pulled.set);
    QVERIFY2(pushed.ok(), qPrintable(joined(pushed.errors)));
    QCOMPARE(compact(pushed.routes),
        raw(R"([{"handle":[{"handler":"reverse_proxy","load_balancing":{"retries":2},)"
            R"("upstreams":[{"dial":"10.0.0.1:80"}]}]}])"));
    const CaddyPullResult again = caddyRoutesToModel(pushed.routes, "srv0");
    QVERIFY2(again.ok(), qPrintable(joined(again.errors)));
    QVERIFY(again.set == pulled.set);

    // The other way: 0 ms in the model (Gateway API: no timeout; no backoff) is pushed as
    // Caddy's default, exactly as if it were unset, and pulls back as unset.
    const std::string slice = "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                              "metadata: {name: a, labels: {kubernetes.io/service-name: a}}\n"
                              "ports: [{port: 80}]\nendpoints: [{addresses: [10.0.0.1]}]\n";
    const std::string head
        = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n"
          "  - backendRefs: [{name: a}]\n";
    const RouteSet zero
        = yaml(head + "    timeouts: {backendRequest: 0s}\n    retry: {attempts: 2, backoff: 0s}\n" + slice);
    const RouteSet unset = yaml(head + "    retry: {attempts: 2}\n" + slice);
    const CaddyPushResult zeroPushed = modelToCaddyRoutes(zero);
    QVERIFY2(zeroPushed.ok(), qPrintable(joined(zeroPushed.errors)));
    QCOMPARE(compact(zeroPushed.routes), compact(modelToCaddyRoutes(unset).routes));
    const CaddyPullResult zeroPulled = caddyRoutesToModel(zeroPushed.routes, "srv0");
    QVERIFY2(zeroPulled.ok(), qPrintable(joined(zeroPulled.errors)));
    QVERIFY(!zeroPulled.set.routes.at(0).rules.at(0).backendTimeoutMs);
    QVERIFY(!zeroPulled.set.routes.at(0).rules.at(0).retry->backoffMs);
    QCOMPARE(compact(modelToCaddyRoutes(zeroPulled.set).routes), compact(zeroPushed.routes));
}

// A Caddy header matcher holds exact values and wildcards side by side; the push
// writes the wildcards to header_regexp. The pull puts exact conditions first and the
// regex ones after them in the order header_regexp comes back in, so a pulled set
// pushes and pulls back unchanged. Found by the Caddy fuzzer:
// tests/fuzz/findings/caddytranslator-header-order.json.
void TestCaddyTranslator::headerOrderSurvivesPushAndPull()
{
    const CaddyPullResult pulled
        = caddyRoutesToModel(json(R"([{"match":[{"header":{"X-Env":["pay*"],"X-Team":["core"],"X-Zone":["*"]},)"
                                  R"("header_regexp":{"X-A":{"pattern":"^a$"},"X-Trace":{"pattern":"^t-[0-9]+$"}}}],)"
                                  R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]}])"),
            "srv0");
    QVERIFY2(pulled.ok(), qPrintable(joined(pulled.errors)));
    const std::vector<HeaderMatch> &headers = pulled.set.routes.at(0).rules.at(0).matches.at(0).headers;
    QStringList order;
    for (const HeaderMatch &h : headers)
        order << QString::fromStdString(h.name + (h.type == StringMatchType::Exact ? " exact " : " regex ") + h.value);
    QCOMPARE(order.join(QLatin1String(", ")),
        QStringLiteral("X-Team exact core, X-A regex a, X-Env regex pay.*, X-Trace regex t-[0-9]+, X-Zone regex .*"));
    const CaddyPushResult pushed = modelToCaddyRoutes(pulled.set);
    QVERIFY2(pushed.ok(), qPrintable(joined(pushed.errors)));
    const CaddyPullResult again = caddyRoutesToModel(pushed.routes, "srv0");
    QVERIFY2(again.ok(), qPrintable(joined(again.errors)));
    QVERIFY(again.set == pulled.set);
    QCOMPARE(compact(modelToCaddyRoutes(again.set).routes), compact(pushed.routes));
}

// Found by longer runs of the Caddy fuzzer: without a host matcher, an alternative
// that matches every request ("/*" beside "/exact", an empty matcher set) is written
// back without "match", so the pull reads the rule as matching everything; and a
// prefix with trailing slashes ("/a//*") is read as the push spells it ("/a").
void TestCaddyTranslator::matchEverythingAndPrefixSlashesSurvivePushAndPull()
{
    const QString proxy = raw(R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}])");
    for (const QString &match :
        {raw(R"({"path":["/exact","/docs","/*"]})"), raw(R"({"path":["/x"]},{})"), raw(R"({"path":["///*"]})")}) {
        const QByteArray text
            = (QStringLiteral("[{\"match\":[") + match + QStringLiteral("],") + proxy + QStringLiteral("}]")).toUtf8();
        const CaddyPullResult pulled = caddyRoutesToModel(json(text.constData()), "srv0");
        QVERIFY2(pulled.ok(), qPrintable(joined(pulled.errors)));
        const std::vector<RouteMatch> &matches = pulled.set.routes.at(0).rules.at(0).matches;
        QCOMPARE(matches.size(), size_t(1));
        QVERIFY(matches[0].path && matches[0].path->type == PathMatchType::PathPrefix);
        QCOMPARE(matches[0].path->value, std::string("/"));
        const CaddyPushResult pushed = modelToCaddyRoutes(pulled.set);
        QVERIFY2(pushed.ok(), qPrintable(joined(pushed.errors)));
        QVERIFY(!pushed.routes.at(0).toObject().contains(QLatin1String("match")));
        const CaddyPullResult again = caddyRoutesToModel(pushed.routes, "srv0");
        QVERIFY(again.set == pulled.set);
    }
    const CaddyPullResult prefix
        = caddyRoutesToModel(json(R"([{"match":[{"host":["a.test"],"path":["/a//*"]}],)"
                                  R"("handle":[{"handler":"reverse_proxy","upstreams":[{"dial":"10.0.0.1:80"}]}]}])"),
            "srv0");
    QVERIFY2(prefix.ok(), qPrintable(joined(prefix.errors)));
    QCOMPARE(prefix.set.routes.at(0).rules.at(0).matches.at(0).path->value, std::string("/a"));
    QVERIFY2(anyContains(prefix.notes, "it is written back as '/a' and '/a/*'"), qPrintable(joined(prefix.notes)));
    const CaddyPullResult prefixAgain = caddyRoutesToModel(modelToCaddyRoutes(prefix.set).routes, "srv0");
    QVERIFY(prefixAgain.set == prefix.set);
}

void TestCaddyTranslator::emptyServer()
{
    // A server without routes (Caddy answers null, read as []) is an empty set, and back.
    const CaddyPullResult pulled = caddyRoutesToModel(QJsonArray(), "srv0");
    QVERIFY(pulled.ok());
    QVERIFY(pulled.set.routes.empty() && pulled.set.endpointSlices.empty());
    const CaddyPushResult pushed = modelToCaddyRoutes(RouteSet {});
    QVERIFY(pushed.ok());
    QVERIFY(pushed.routes.isEmpty());
}

QTEST_GUILESS_MAIN(TestCaddyTranslator)
#include "tst_caddytranslator.moc"

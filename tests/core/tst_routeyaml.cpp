// Route files: HTTPRoute and EndpointSlice YAML into the model and back. Checks field
// by field what the loader reads (defaults made explicit), that toYaml round-trips
// every field including meshscope's extensions, and that problems name the file,
// document, rule, field and line.

#include "routing/routevalidator.h"
#include "routing/yaml/routeyaml.h"

#include <QElapsedTimer>
#include <QFile>
#include <QtTest>

#include <tuple>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iterator>

using namespace meshscope::routing;

namespace {

std::string examplePath(const char *name)
{
    return QFINDTESTDATA(QStringLiteral("../../examples/routes/") + QLatin1String(name)).toStdString();
}

const RouteIssue *findIssue(const std::vector<RouteIssue> &issues, const std::string &field)
{
    for (const RouteIssue &i : issues) {
        if (i.field == field)
            return &i;
    }
    return nullptr;
}

QString allIssues(const std::vector<RouteIssue> &issues)
{
    QStringList out;
    for (const RouteIssue &i : issues)
        out << QString::fromStdString(i.toString());
    return out.join(QLatin1Char('\n'));
}

// Every field the model has, extensions included, with values that differ from the defaults.
const char *const kFull = R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
  namespace: prod
spec:
  hostnames: [shop.example.com, "*.shop.example.com"]
  rules:
  - name: api
    matches:
    - path: {type: RegularExpression, value: '^/api/v[0-9]+/.*$'}
      headers:
      - {name: x-canary, value: "true"}
      - {name: x-user, type: RegularExpression, value: 'a\d+'}
      queryParams:
      - {name: debug, value: "1"}
      method: POST
    - path: {type: Exact, value: /healthz}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-a, value: "1"}]
        add: [{name: x-b, value: two}]
        remove: [x-c]
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{name: x-served-by, value: meshscope}]
    - type: RequestMirror
      requestMirror:
        backendRef: {name: shadow, namespace: test, port: 8081}
        fraction: {numerator: 1, denominator: 8}
    - type: ExtensionRef
      extensionRef: {group: meshscope.io, kind: FaultInjection, name: chaos}
      meshscope.io/faultInjection:
        delay: {fixedDelay: 1500ms, percent: 12.5}
        abort: {httpStatus: 503, percent: 3}
    backendRefs:
    - {name: api-v1, port: 8080, weight: 7}
    - {name: api-v2, namespace: canary, port: 8080, weight: 3}
    timeouts: {request: 1m30s, backendRequest: 2s}
    retry:
      attempts: 3
      codes: [502, 503]
      backoff: 100ms
      meshscope.io/retryOn: 5xx,reset
      meshscope.io/perTryTimeout: 750ms
  - backendRefs:
    - name: web
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-v1-xyz
  namespace: prod
  labels: {kubernetes.io/service-name: api-v1}
addressType: IPv4
ports: [{name: http, port: 18080, protocol: TCP}]
endpoints:
- addresses: [127.0.0.1]
  conditions: {ready: true}
- addresses: [127.0.0.2]
  conditions: {ready: false}
- addresses: [127.0.0.3]
)";

}  // namespace

class TestRouteYaml : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void loadsExampleFieldByField();
    void loadsEveryFieldAndExtension();
    void defaultsMadeExplicit();
    void roundTripYamlModelYaml();
    void roundTripProgrammaticSet();
    void awkwardStringsStayStrings_data();
    void awkwardStringsStayStrings();
    void durations_data();
    void durations();
    void syntaxErrorNamesLine();
    void badValuesNameDocumentRuleFieldAndLine();
    void unsupportedFilterIsAnError();
    void unknownKindAndFieldsAreWarnings();
    void duplicateFiltersRefused();
    void sliceProblems();
    void missingFileIsAnError();
    void truncatedFilesNeverThrow();
    void aliasBombRefusedWithLine();
    void duplicateKeysRefusedWithBothLines();
    void parserThatStopsProgressingIsRefused();
    void invalidTextInNamesRefusedByValidate();
    void scalarsThatAreNotUtf8Refused();
    void durationsPastWhatFormatDurationWritesRefused();
    void rawControlCharactersRefused();
    void mirrorFractionsRoundTrip();
};

void TestRouteYaml::loadsExampleFieldByField()
{
    const RouteLoadResult r = loadRouteFile(examplePath("bookinfo-reviews.yaml"));
    QVERIFY2(r.ok(), qPrintable(allIssues(r.issues)));
    QVERIFY2(r.issues.empty(), qPrintable(allIssues(r.issues)));
    QCOMPARE(r.set.routes.size(), size_t(1));
    const HttpRoute &route = r.set.routes[0];
    QCOMPARE(route.name, std::string("reviews"));
    QCOMPARE(route.ns, std::string("bookinfo"));
    QCOMPARE(route.hostnames, std::vector<std::string> {"reviews"});
    QCOMPARE(route.source.line, 8);  // "apiVersion:" of the first document
    QCOMPARE(route.source.documentIndex, 0);
    QCOMPARE(route.rules.size(), size_t(2));

    const RouteRule &jason = route.rules[0];
    QCOMPARE(jason.name, std::string("jason"));
    QCOMPARE(jason.matches.size(), size_t(1));
    QVERIFY(jason.matches[0].path.has_value());
    QVERIFY(jason.matches[0].path->type == PathMatchType::PathPrefix);
    QCOMPARE(jason.matches[0].path->value, std::string("/reviews"));
    QCOMPARE(jason.matches[0].headers.size(), size_t(1));
    QCOMPARE(jason.matches[0].headers[0].name, std::string("end-user"));
    QCOMPARE(jason.matches[0].headers[0].value, std::string("jason"));
    QVERIFY(jason.matches[0].headers[0].type == StringMatchType::Exact);
    QCOMPARE(jason.backends.size(), size_t(1));
    QCOMPARE(jason.backends[0].name, std::string("reviews-v2"));
    QCOMPARE(jason.backends[0].port, 9080);
    QCOMPARE(jason.backends[0].weight, 1);  // Gateway API default
    QCOMPARE(jason.timeoutMs, std::optional<int64_t>(5000));
    QVERIFY(!jason.retry);
    QCOMPARE(jason.source.lineOf("matches[0].headers[0].value"), 25);

    const RouteRule &canary = route.rules[1];
    QCOMPARE(canary.name, std::string("canary"));
    QCOMPARE(canary.backends.size(), size_t(2));
    QCOMPARE(canary.backends[0].weight, 80);
    QCOMPARE(canary.backends[1].weight, 20);
    QCOMPARE(canary.timeoutMs, std::optional<int64_t>(10000));
    QCOMPARE(canary.backendTimeoutMs, std::optional<int64_t>(2000));
    QVERIFY(canary.retry);
    QCOMPARE(canary.retry->attempts, 2);
    QCOMPARE(canary.retry->codes, (std::vector<int> {502, 503}));
    QCOMPARE(canary.retry->backoffMs, std::optional<int64_t>(25));
    QCOMPARE(canary.retry->retryOn, (std::vector<std::string> {"connect-failure", "reset"}));

    QCOMPARE(r.set.endpointSlices.size(), size_t(2));
    const EndpointSlice &v1 = r.set.endpointSlices[0];
    QCOMPARE(v1.name, std::string("reviews-v1-a1"));
    QCOMPARE(v1.ns, std::string("bookinfo"));
    QCOMPARE(v1.serviceName, std::string("reviews-v1"));
    QCOMPARE(v1.port, 19081);
    QCOMPARE(v1.portName, std::string("http"));
    QCOMPARE(v1.endpoints.size(), size_t(1));
    QCOMPARE(v1.endpoints[0].address, std::string("127.0.0.1"));
    QVERIFY(v1.endpoints[0].ready);
    QCOMPARE(v1.source.documentIndex, 1);
    QCOMPARE(r.set.slicesFor(canary.backends[1], route.ns).size(), size_t(1));
    QCOMPARE(r.set.slicesFor(canary.backends[1], route.ns)[0]->name, std::string("reviews-v2-b2"));
}

void TestRouteYaml::loadsEveryFieldAndExtension()
{
    const RouteLoadResult r = loadRouteYaml(kFull, "full.yaml");
    QVERIFY2(r.issues.empty(), qPrintable(allIssues(r.issues)));
    QCOMPARE(r.set.routes.size(), size_t(1));
    const HttpRoute &route = r.set.routes[0];
    QCOMPARE(route.hostnames, (std::vector<std::string> {"shop.example.com", "*.shop.example.com"}));
    const RouteRule &api = route.rules[0];
    QCOMPARE(api.matches.size(), size_t(2));
    const RouteMatch &m = api.matches[0];
    QVERIFY(m.path->type == PathMatchType::RegularExpression);
    QCOMPARE(m.path->value, std::string("^/api/v[0-9]+/.*$"));
    QCOMPARE(m.headers.size(), size_t(2));
    QCOMPARE(m.headers[0].value, std::string("true"));  // quoted in YAML: a string
    QVERIFY(m.headers[1].type == StringMatchType::RegularExpression);
    QCOMPARE(m.headers[1].value, std::string("a\\d+"));
    QCOMPARE(m.queryParams.size(), size_t(1));
    QCOMPARE(m.queryParams[0].name, std::string("debug"));
    QCOMPARE(m.queryParams[0].value, std::string("1"));
    QCOMPARE(m.method, std::string("POST"));
    QVERIFY(api.matches[1].path->type == PathMatchType::Exact);

    QCOMPARE(api.requestHeaders.set, (std::vector<std::pair<std::string, std::string>> {{"x-a", "1"}}));
    QCOMPARE(api.requestHeaders.add, (std::vector<std::pair<std::string, std::string>> {{"x-b", "two"}}));
    QCOMPARE(api.requestHeaders.remove, std::vector<std::string> {"x-c"});
    QCOMPARE(
        api.responseHeaders.set, (std::vector<std::pair<std::string, std::string>> {{"x-served-by", "meshscope"}}));
    QVERIFY(api.mirror);
    QCOMPARE(api.mirror->backend.name, std::string("shadow"));
    QCOMPARE(api.mirror->backend.ns, std::string("test"));
    QCOMPARE(api.mirror->backend.port, 8081);
    QCOMPARE(api.mirror->percent, 12.5);
    QVERIFY(api.fault);
    QCOMPARE(api.fault->delayMs, std::optional<int64_t>(1500));
    QCOMPARE(api.fault->delayPercent, 12.5);
    QCOMPARE(api.fault->abortHttpStatus, std::optional<int>(503));
    QCOMPARE(api.fault->abortPercent, 3.0);
    QCOMPARE(api.backends[1].ns, std::string("canary"));
    QCOMPARE(api.timeoutMs, std::optional<int64_t>(90000));
    QCOMPARE(api.retry->attempts, 3);
    QCOMPARE(api.retry->retryOn, (std::vector<std::string> {"5xx", "reset"}));  // comma spelling accepted
    QCOMPARE(api.retry->perTryTimeoutMs, std::optional<int64_t>(750));
    QCOMPARE(api.retry->backoffMs, std::optional<int64_t>(100));

    const EndpointSlice &s = r.set.endpointSlices[0];
    QCOMPARE(s.endpoints.size(), size_t(3));
    QVERIFY(s.endpoints[0].ready);
    QVERIFY(!s.endpoints[1].ready);
    QVERIFY(s.endpoints[2].ready);  // no conditions: Kubernetes reads that as ready
}

void TestRouteYaml::defaultsMadeExplicit()
{
    const RouteLoadResult r = loadRouteYaml(kFull, "full.yaml");
    const RouteRule &web = r.set.routes[0].rules[1];
    QVERIFY(web.name.empty());
    // No matches: Gateway API's default, one PathPrefix "/" match, made explicit.
    QCOMPARE(web.matches.size(), size_t(1));
    QVERIFY(web.matches[0].path);
    QVERIFY(web.matches[0].path->type == PathMatchType::PathPrefix);
    QCOMPARE(web.matches[0].path->value, std::string("/"));
    QCOMPARE(web.backends[0].weight, 1);
    QCOMPARE(web.backends[0].port, 0);

    // toYaml writes the defaults out.
    const YAML::Node doc = YAML::LoadAll(toYaml(r.set))[0];
    const YAML::Node rule = doc["spec"]["rules"][1];
    QCOMPARE(rule["matches"][0]["path"]["type"].as<std::string>(), std::string("PathPrefix"));
    QCOMPARE(rule["matches"][0]["path"]["value"].as<std::string>(), std::string("/"));
    QCOMPARE(rule["backendRefs"][0]["weight"].as<int>(), 1);
    QVERIFY(!rule["name"]);
    QCOMPARE(doc["metadata"]["namespace"].as<std::string>(), std::string("prod"));

    // A route without metadata.namespace lands in "default" and says so on output.
    const RouteLoadResult d = loadRouteYaml("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                                            "metadata: {name: x}\nspec:\n  rules:\n  - backendRefs: [{name: a}]\n",
        "d.yaml");
    QVERIFY2(d.ok(), qPrintable(allIssues(d.issues)));
    QCOMPARE(d.set.routes[0].ns, std::string("default"));
    QVERIFY(toYaml(d.set).find("namespace: default") != std::string::npos);
}

void TestRouteYaml::roundTripYamlModelYaml()
{
    for (const std::string &text : {std::string(kFull),
             [] {
                 std::ifstream in(examplePath("bookinfo-reviews.yaml"));
                 return std::string(std::istreambuf_iterator<char>(in), {});
             }(),
             [] {
                 std::ifstream in(examplePath("ratings-chaos.yaml"));
                 return std::string(std::istreambuf_iterator<char>(in), {});
             }()}) {
        const RouteLoadResult first = loadRouteYaml(text, "a.yaml");
        QVERIFY2(first.ok(), qPrintable(allIssues(first.issues)));
        QVERIFY(!first.set.routes.empty());
        const std::string yaml = toYaml(first.set);
        const RouteLoadResult second = loadRouteYaml(yaml, "b.yaml");
        QVERIFY2(second.issues.empty(),
            qPrintable(allIssues(second.issues) + QLatin1Char('\n') + QString::fromStdString(yaml)));
        QVERIFY2(second.set == first.set, yaml.c_str());
        // Normalized output is a fixed point.
        QCOMPARE(toYaml(second.set), yaml);
    }
}

void TestRouteYaml::roundTripProgrammaticSet()
{
    // Built in code, with values YAML would mangle if written carelessly.
    RouteSet set;
    HttpRoute r;
    r.name = "odd";
    r.ns = "ns1";
    RouteRule rule;
    rule.name = "r1";
    rule.matches.push_back(RouteMatch {PathMatch {PathMatchType::Exact, "/a b"},
        {{"X-Num", StringMatchType::Exact, "007"}}, {{"q", StringMatchType::RegularExpression, "[a-z]+"}}, "GET"});
    rule.backends.push_back(BackendRef {"svc", "", 80, 0});
    rule.backends.push_back(BackendRef {"svc2", "other", 0, 5});
    FaultInjection f;
    f.abortHttpStatus = 418;
    f.abortPercent = 0.001;
    rule.fault = f;
    RequestMirror m;
    m.backend = BackendRef {"mirror", "", 0, 1};
    m.percent = 33.3333;
    rule.mirror = m;
    RetryPolicy p;
    p.attempts = 0;
    rule.retry = p;
    rule.backendTimeoutMs = 0;
    r.rules.push_back(rule);
    set.routes.push_back(r);
    EndpointSlice s;
    s.name = "svc-1";
    s.serviceName = "svc";
    s.endpoints = {{"::1", true}, {"fd00::1", false}};
    set.endpointSlices.push_back(s);

    const std::string yaml = toYaml(set);
    const RouteLoadResult back = loadRouteYaml(yaml, "p.yaml");
    QVERIFY2(back.ok(), qPrintable(allIssues(back.issues)));
    QVERIFY2(back.set == set, yaml.c_str());
    QVERIFY(yaml.find("addressType: IPv6") != std::string::npos);
    QCOMPARE(back.set.routes[0].rules[0].mirror->percent, 33.3333);
    QCOMPARE(back.set.routes[0].rules[0].matches[0].headers[0].value, std::string("007"));
    QCOMPARE(back.set.routes[0].rules[0].backendTimeoutMs, std::optional<int64_t>(0));
}

void TestRouteYaml::awkwardStringsStayStrings_data()
{
    QTest::addColumn<QString>("value");
    int row = 0;
    for (const char *v : {"true", "no", "null", "~", "123", "1e3", "0x1f", "1:20", ".inf", "", "*", "- x", "a: b", "#x",
             "it's", "tab\there", "line\nbreak", "ünïcode", "\"quoted\"", "[x]", "{y}", "@at", "GET\r\r\r", "cr\rlf",
             "trailing tab\t", "\x1b[2J", "del\x7f"})
        QTest::addRow("%d", row++) << QString::fromUtf8(v);
}

void TestRouteYaml::awkwardStringsStayStrings()
{
    QFETCH(QString, value);
    RouteSet set;
    HttpRoute r;
    r.name = "r";
    RouteRule rule;
    rule.matches.push_back(RouteMatch {PathMatch {}, {{"x-h", StringMatchType::Exact, value.toStdString()}}, {}, {}});
    rule.backends.push_back(BackendRef {"b", "", 0, 1});
    rule.requestHeaders.set.emplace_back("x-set", value.toStdString());
    r.rules.push_back(rule);
    set.routes.push_back(r);
    const std::string yaml = toYaml(set);
    // yaml-cpp itself must see a string scalar equal to the value.
    const YAML::Node doc = YAML::Load(yaml);
    const YAML::Node v = doc["spec"]["rules"][0]["matches"][0]["headers"][0]["value"];
    QCOMPARE(QString::fromStdString(v.Scalar()), value);
    QVERIFY2(v.Tag() == "!" || !yamlNeedsQuotes(v.Scalar()), yaml.c_str());  // quoted where it matters
    const RouteLoadResult back = loadRouteYaml(yaml, "s.yaml");
    QVERIFY2(back.set == set, yaml.c_str());
}

void TestRouteYaml::durations_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("ms");  // -1: invalid
    QTest::addColumn<QString>("normalized");
    QTest::newRow("seconds") << "10s" << qint64(10000) << "10s";
    QTest::newRow("millis") << "500ms" << qint64(500) << "500ms";
    QTest::newRow("compound") << "1h30m" << qint64(5400000) << "1h30m";
    QTest::newRow("all units") << "1h1m1s1ms" << qint64(3661001) << "1h1m1s1ms";
    QTest::newRow("overflowing unit") << "90s" << qint64(90000) << "1m30s";
    QTest::newRow("zero") << "0s" << qint64(0) << "0s";
    QTest::newRow("decimal") << "1.5s" << qint64(-1) << "";
    QTest::newRow("bare number") << "10" << qint64(-1) << "";
    QTest::newRow("repeated unit") << "1s2s" << qint64(-1) << "";
    QTest::newRow("six digits") << "100000s" << qint64(-1) << "";
    QTest::newRow("unknown unit") << "3d" << qint64(-1) << "";
    QTest::newRow("empty") << "" << qint64(-1) << "";
}

void TestRouteYaml::durations()
{
    QFETCH(QString, text);
    QFETCH(qint64, ms);
    QFETCH(QString, normalized);
    const auto parsed = parseDuration(text.toStdString());
    if (ms < 0) {
        QVERIFY(!parsed);
        return;
    }
    QVERIFY(parsed);
    QCOMPARE(qint64(*parsed), ms);
    QCOMPARE(QString::fromStdString(formatDuration(*parsed)), normalized);
}

void TestRouteYaml::syntaxErrorNamesLine()
{
    const std::string text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: [a, b\n";
    const RouteLoadResult r = loadRouteYaml(text, "broken.yaml");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), size_t(1));
    QCOMPARE(r.issues[0].source.file, std::string("broken.yaml"));
    QVERIFY(r.issues[0].source.line >= 4);
    QVERIFY2(r.issues[0].message.find("YAML syntax error") == 0, r.issues[0].message.c_str());
    QVERIFY(r.set.routes.empty());
}

void TestRouteYaml::badValuesNameDocumentRuleFieldAndLine()
{
    const std::string text = R"(apiVersion: gateway.networking.k8s.io/v1
kind: EndpointSlice
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec:
  rules:
  - name: first
    backendRefs: [{name: a}]
  - matches:
    - path: {type: Prefix, value: /x}
    backendRefs:
    - name: b
      weight: heavy
    timeouts: {request: 1.5s}
)";
    const RouteLoadResult r = loadRouteYaml(text, "routes.yaml");
    QVERIFY(!r.ok());

    const RouteIssue *type = findIssue(r.issues, "matches[0].path.type");
    QVERIFY2(type, qPrintable(allIssues(r.issues)));
    QCOMPARE(type->document, std::string("HTTPRoute shop/reviews"));
    QCOMPARE(type->rule, std::string("rules[1]"));
    QCOMPARE(type->source.line, 12);
    QCOMPARE(type->source.documentIndex, 1);
    QCOMPARE(type->message, std::string("'Prefix' is not a path match type (Exact, PathPrefix or RegularExpression)"));

    const RouteIssue *weight = findIssue(r.issues, "backendRefs[0].weight");
    QVERIFY(weight);
    QCOMPARE(weight->source.line, 15);
    QCOMPARE(weight->message, std::string("expected an integer, got 'heavy'"));
    QCOMPARE(weight->toString(),
        std::string(
            "routes.yaml:15: HTTPRoute shop/reviews rules[1] backendRefs[0].weight: expected an integer, got 'heavy'"));

    const RouteIssue *timeout = findIssue(r.issues, "timeouts.request");
    QVERIFY(timeout);
    QCOMPARE(timeout->source.line, 16);
    QVERIFY(timeout->message.find("'1.5s' is not a duration") == 0);

    // The first document lacks metadata: named by position, the error on its line.
    const RouteIssue *meta = findIssue(r.issues, "metadata.name");
    QVERIFY(meta);
    QCOMPARE(meta->document, std::string("EndpointSlice <unnamed>"));
    QCOMPARE(meta->source.line, 1);
    QCOMPARE(meta->source.documentIndex, 0);
}

void TestRouteYaml::unsupportedFilterIsAnError()
{
    const std::string text = R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - name: redirect
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https}
    - type: ExtensionRef
      extensionRef: {group: example.com, kind: Thing, name: t}
    backendRefs: [{name: a}]
)";
    const RouteLoadResult r = loadRouteYaml(text, "f.yaml");
    QVERIFY(!r.ok());
    const RouteIssue *redirect = findIssue(r.issues, "filters[0].type");
    QVERIFY(redirect);
    QCOMPARE(redirect->rule, std::string("redirect"));
    QCOMPARE(redirect->source.line, 8);
    QVERIFY2(redirect->message.find("filter type 'RequestRedirect' is not supported") == 0, redirect->message.c_str());
    const RouteIssue *ext = findIssue(r.issues, "filters[1].extensionRef");
    QVERIFY(ext);
    QVERIFY2(ext->message.find("extension 'example.com/Thing' is not supported") == 0, ext->message.c_str());
}

void TestRouteYaml::unknownKindAndFieldsAreWarnings()
{
    const std::string text = R"(apiVersion: v1
kind: Service
metadata: {name: s}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - backendRef: [{name: typo}]
    backendRefs: [{name: a}]
)";
    const RouteLoadResult r = loadRouteYaml(text, "w.yaml");
    QVERIFY2(r.ok(), qPrintable(allIssues(r.issues)));
    QCOMPARE(r.issues.size(), size_t(2));
    QCOMPARE(r.issues[0].severity, Severity::Warning);
    QCOMPARE(r.issues[0].field, std::string("kind"));
    QCOMPARE(r.issues[0].message, std::string("ignored: meshscope reads HTTPRoute and EndpointSlice documents"));
    QCOMPARE(r.issues[1].severity, Severity::Warning);
    QCOMPARE(r.issues[1].field, std::string("backendRef"));
    QCOMPARE(r.issues[1].message, std::string("unknown field ignored"));
    QCOMPARE(r.issues[1].source.line, 10);
    QVERIFY(r.issues[1].toString().find("w.yaml:10: warning: HTTPRoute default/r rules[0] backendRef:") == 0);
}

void TestRouteYaml::duplicateFiltersRefused()
{
    const std::string text = R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: m1}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: m2}}
    - type: RequestHeaderModifier
      requestHeaderModifier: {remove: [a]}
    - type: RequestHeaderModifier
      requestHeaderModifier: {remove: [b]}
    backendRefs: [{name: a}]
)";
    const RouteLoadResult r = loadRouteYaml(text, "d.yaml");
    QVERIFY(!r.ok());
    const RouteIssue *mirror = findIssue(r.issues, "filters[2].type");
    QVERIFY(!mirror);  // the third filter is fine
    QVERIFY(findIssue(r.issues, "filters[1].type"));
    QCOMPARE(findIssue(r.issues, "filters[1].type")->message,
        std::string("meshscope supports one RequestMirror filter per rule"));
    QCOMPARE(findIssue(r.issues, "filters[3].type")->message,
        std::string("only one RequestHeaderModifier filter is allowed per rule"));
    QCOMPARE(r.set.routes[0].rules[0].mirror->backend.name, std::string("m1"));
}

void TestRouteYaml::sliceProblems()
{
    const std::string text = R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s1}
addressType: IPv4
ports: [{port: 80}, {port: 81}]
endpoints:
- addresses: [reviews.local]
- addresses: [10.0.0.1, 10.0.0.2]
)";
    const RouteLoadResult r = loadRouteYaml(text, "s.yaml");
    QVERIFY(!r.ok());
    const RouteIssue *label = findIssue(r.issues, "metadata.labels.kubernetes.io/service-name");
    QVERIFY(label);
    QCOMPARE(label->severity, Severity::Error);
    const RouteIssue *addr = findIssue(r.issues, "endpoints[0].addresses[0]");
    QVERIFY(addr);
    QCOMPARE(addr->message, std::string("'reviews.local' is not an IPv4 address"));
    QCOMPARE(addr->source.line, 7);
    const RouteIssue *ports = findIssue(r.issues, "ports[1]");
    QVERIFY(ports);
    QCOMPARE(ports->severity, Severity::Warning);
    const RouteIssue *second = findIssue(r.issues, "endpoints[1].addresses[1]");
    QVERIFY(second);
    QCOMPARE(second->severity, Severity::Warning);
    QCOMPARE(r.set.endpointSlices[0].port, 80);

    // Without addressType the first address sets the slice's type, as toYaml writes it
    // (found by the route YAML fuzzer: a mixed slice loaded, and was written as FQDN).
    const std::string mixed = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                              "metadata: {name: s2, labels: {kubernetes.io/service-name: s}}\n"
                              "endpoints: [{addresses: [backend.local]}, {addresses: [10.0.0.2]}]\n";
    const RouteLoadResult m = loadRouteYaml(mixed, "m.yaml");
    QVERIFY(!m.ok());
    const RouteIssue *ip = findIssue(m.issues, "endpoints[1].addresses[0]");
    QVERIFY2(ip, qPrintable(allIssues(m.issues)));
    QCOMPARE(ip->message,
        std::string(
            "'10.0.0.2' is not an FQDN address (without addressType, the slice's first address sets its type)"));
    const RouteLoadResult same = loadRouteYaml("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
                                               "metadata: {name: s3, labels: {kubernetes.io/service-name: s}}\n"
                                               "endpoints: [{addresses: ['fd00::1']}, {addresses: ['fd00::2']}]\n",
        "v6.yaml");
    QVERIFY2(same.ok(), qPrintable(allIssues(same.issues)));
    QVERIFY(toYaml(same.set).find("addressType: IPv6") != std::string::npos);
}

void TestRouteYaml::missingFileIsAnError()
{
    const RouteLoadResult r = loadRouteFile("/nonexistent/routes.yaml");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues[0].toString(), std::string("/nonexistent/routes.yaml: cannot open file"));
}

void TestRouteYaml::truncatedFilesNeverThrow()
{
    // Every prefix of a real file: whatever loads must round-trip, and nothing throws
    // (a half-saved file in an editor is the common case, not an edge case).
    const std::string text = kFull;
    int loaded = 0;
    for (size_t n = 0; n <= text.size(); n += 3) {
        try {
            const RouteLoadResult r = loadRouteYaml(text.substr(0, n), "cut.yaml");
            if (!r.ok())
                continue;
            ++loaded;
            const RouteLoadResult back = loadRouteYaml(toYaml(r.set), "back.yaml");
            QVERIFY2(back.set == r.set, qPrintable(QString::number(n)));
        } catch (const std::exception &e) {
            QFAIL(qPrintable(QStringLiteral("threw at %1: %2").arg(n).arg(QString::fromUtf8(e.what()))));
        }
    }
    QVERIFY(loaded > 10);
}

// Aliases nested through rules -> matches -> headers: a 1 KB file whose nodes, with
// every alias expanded, run to 10^9. Refused at the alias that crosses the budget,
// before any node is built.
void TestRouteYaml::aliasBombRefusedWithLine()
{
    std::string text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
                       "x0: &a0 [{name: x-a, value: b}, {name: x-a, value: b}]\n";
    for (int i = 1; i <= 30; ++i) {
        const std::string prev = "*a" + std::to_string(i - 1);
        text += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev + ", " + prev + "]\n";
    }
    text += "spec:\n  rules:\n  - matches:\n    - headers: *a30\n";
    QVERIFY(text.size() < 2000);
    QElapsedTimer clock;
    clock.start();
    const RouteLoadResult r = loadRouteYaml(text, "bomb.yaml");
    QVERIFY(clock.elapsed() < 2000);
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), size_t(1));
    QVERIFY2(QString::fromStdString(r.issues[0].message).contains(QLatin1String("aliases expand past")),
        r.issues[0].message.c_str());
    QVERIFY(r.issues[0].source.line >= 20);  // the line of the alias that crossed it
    QVERIFY(r.set.routes.empty());
}

void TestRouteYaml::duplicateKeysRefusedWithBothLines()
{
    const std::string text = "apiVersion: gateway.networking.k8s.io/v1\n"
                             "kind: HTTPRoute\n"
                             "metadata:\n"
                             "  name: r\n"
                             "  namespace: shop\n"
                             "  name: q\n"
                             "spec: {rules: [{backendRefs: [{name: a, port: 80}]}]}\n";
    const RouteLoadResult r = loadRouteYaml(text, "dup.yaml");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), size_t(1));
    QCOMPARE(r.issues[0].source.line, 6);
    QCOMPARE(r.issues[0].message, std::string("duplicate key 'name' (first at line 4)"));
    // The same key in two different mappings is fine.
    const std::string fine = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
                             "spec: {rules: [{name: a, backendRefs: [{name: a, port: 80}]}]}\n";
    QVERIFY(loadRouteYaml(fine, "fine.yaml").ok());
}

// A broken file on which yaml-cpp 0.7's LoadAll returns empty documents forever (found
// by the route YAML fuzzer): refused with a bound instead of hanging.
void TestRouteYaml::parserThatStopsProgressingIsRefused()
{
    QFile f(QStringLiteral(MESHSCOPE_TEST_DATA_DIR "/routeyaml-parser-loop.yaml"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::string text = f.readAll().toStdString();
    QElapsedTimer clock;
    clock.start();
    const RouteLoadResult r = loadRouteYaml(text, "loop.yaml");
    QVERIFY(clock.elapsed() < 10000);
    QVERIFY(!r.ok());
    QVERIFY2(QString::fromStdString(r.issues.front().message).contains(QLatin1String("YAML documents")),
        r.issues.front().message.c_str());
}

void TestRouteYaml::invalidTextInNamesRefusedByValidate()
{
    RouteSet set;
    HttpRoute route;
    route.name = "r\xff";
    route.hostnames = {"shop.local", "evil\x1b[2J.local"};
    RouteRule rule;
    rule.name = "default";
    RouteMatch m;
    m.path = PathMatch {PathMatchType::PathPrefix, "/caf\xc3"};
    rule.matches.push_back(m);
    BackendRef b;
    b.name = "reviews";
    b.port = 80;
    rule.backends.push_back(b);
    route.rules.push_back(rule);
    set.routes.push_back(route);
    const std::vector<RouteIssue> issues = validateRoutes(set, DataPlane::Generic);
    QStringList fields;
    for (const RouteIssue &i : issues) {
        if (i.message.find("UTF-8") != std::string::npos || i.message.find("control character") != std::string::npos)
            fields << QString::fromStdString(i.field);
    }
    QVERIFY2(fields.contains(QLatin1String("metadata.name")), qPrintable(fields.join(QLatin1Char(' '))));
    QVERIFY2(fields.contains(QLatin1String("hostnames[1]")), qPrintable(fields.join(QLatin1Char(' '))));
    QVERIFY2(fields.contains(QLatin1String("matches[0].path.value")), qPrintable(fields.join(QLatin1Char(' '))));
    QVERIFY(hasErrors(issues));
}

// A YAML stream is Unicode: a scalar that is not UTF-8 (raw bytes, or a surrogate
// escape) is refused when the file is read, naming the line and the field, instead of
// being kept and later written back by toYaml as U+FFFD (found by the route YAML
// fuzzer, tests/fuzz/findings/routeyaml-not-utf8-rewritten.yaml).
void TestRouteYaml::scalarsThatAreNotUtf8Refused()
{
    const std::string head = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n";
    {
        const RouteLoadResult r
            = loadRouteYaml(head + "spec:\n  rules:\n  - backendRefs: [{name: \"a\xff\\tb\"}]\n", "bytes.yaml");
        QVERIFY(!r.ok());
        QCOMPARE(r.issues.size(), size_t(1));
        const RouteIssue &i = r.issues[0];
        QCOMPARE(i.source.file, std::string("bytes.yaml"));
        QCOMPARE(i.source.line, 6);
        QCOMPARE(i.source.documentIndex, 0);
        QCOMPARE(i.document, std::string("document 1"));
        QCOMPARE(i.field, std::string("spec.rules[0].backendRefs[0].name"));
        QCOMPARE(i.message, std::string("the value is not valid UTF-8 (a YAML file must be Unicode)"));
        QVERIFY(r.set.routes.empty());
    }
    {
        // A header modifier in a second document, plain (unquoted) style.
        const std::string text = "---\n" + head + "---\n" + head
            + "spec:\n  rules:\n  - filters:\n    - type: RequestHeaderModifier\n"
              "      requestHeaderModifier: {set: [{name: x-a, value: caf\xc3}]}\n"
              "    backendRefs: [{name: a}]\n";
        const RouteLoadResult r = loadRouteYaml(text, "two.yaml");
        QVERIFY(!r.ok());
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].source.line, 13);
        QCOMPARE(r.issues[0].source.documentIndex, 1);
        QCOMPARE(r.issues[0].document, std::string("document 2"));
        QCOMPARE(r.issues[0].field, std::string("spec.rules[0].filters[0].requestHeaderModifier.set[0].value"));
    }
    {
        // A key: its mapping is named.
        const RouteLoadResult r
            = loadRouteYaml(head + "spec: {rules: [{backendRefs: [{name: a}]}], \"k\xc0\": 1}\n", "key.yaml");
        QVERIFY(!r.ok());
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].field, std::string("spec"));
        QCOMPARE(r.issues[0].message, std::string("a key is not valid UTF-8 (a YAML file must be Unicode)"));
    }
    {
        // The bytes of a lone surrogate (CESU-8) are no character either; its escape
        // (backslash, u, D800) is a syntax error to yaml-cpp already.
        const RouteLoadResult r
            = loadRouteYaml(head + "spec: {rules: [{backendRefs: [{name: a\xed\xa0\x80}]}]}\n", "cesu.yaml");
        QVERIFY(!r.ok());
        QCOMPARE(r.issues[0].field, std::string("spec.rules[0].backendRefs[0].name"));
        QCOMPARE(r.issues[0].source.line, 4);
        QVERIFY(!loadRouteYaml(head + "spec: {rules: [{backendRefs: [{name: \"a\\ud800\"}]}]}\n", "escape.yaml").ok());
    }
    {
        // UTF-8, including escapes and control characters, loads and round-trips.
        const RouteLoadResult r = loadRouteYaml(
            head + "spec: {rules: [{name: \"caf\xc3\xa9\", backendRefs: [{name: \"a\\u00e9\\tb\\U0001F600\"}]}]}\n",
            "fine.yaml");
        QVERIFY2(r.ok(), qPrintable(allIssues(r.issues)));
        QCOMPARE(r.set.routes.at(0).rules.at(0).backends.at(0).name, std::string("a\xc3\xa9\tb\xf0\x9f\x98\x80"));
        const RouteLoadResult back = loadRouteYaml(toYaml(r.set), "back.yaml");
        QVERIFY2(back.ok(), qPrintable(allIssues(back.issues)));
        QVERIFY(back.set == r.set);
    }
}

// GEP-2257 allows five digits per unit, which "99999h59m599s" keeps, but its total
// (100000h9m59s) has six digits of hours in the only form formatDuration writes: every
// duration parseDuration accepts must be one toYaml can write back (found by the
// durations fuzzer, tests/fuzz/findings/durations-99999h59m599s.txt).
void TestRouteYaml::durationsPastWhatFormatDurationWritesRefused()
{
    const int64_t longest = ((99999LL * 60 + 59) * 60 + 59) * 1000 + 999;
    QCOMPARE(parseDuration("99999h59m59s999ms").value_or(-1), longest);
    QCOMPARE(formatDuration(longest), std::string("99999h59m59s999ms"));
    QCOMPARE(parseDuration("99998h119m58s1999ms").value_or(-1), longest);
    for (const char *text : {"99999h59m599s", "99999h60m", "99999h59m59s1000ms", "99999h99999m99999s99999ms"}) {
        QVERIFY2(!parseDuration(text), text);
    }
    const RouteLoadResult r = loadRouteYaml("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
                                            "metadata: {name: r}\nspec:\n  rules:\n  - backendRefs: [{name: a}]\n"
                                            "    timeouts: {request: 99999h59m599s}\n",
        "long.yaml");
    QVERIFY(!r.ok());
    const RouteIssue *i = findIssue(r.issues, "timeouts.request");
    QVERIFY2(i, qPrintable(allIssues(r.issues)));
    QCOMPARE(i->source.line, 7);
    QCOMPARE(i->message,
        std::string("'99999h59m599s' is longer than 99999h59m59s999ms, the longest duration a route file can hold"));
}

void TestRouteYaml::rawControlCharactersRefused()
{
    // A raw NUL or ESC is no YAML; yaml-cpp would read it into a value that the next
    // save writes differently. The same character as an escape loads and round-trips.
    const std::string head = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n";
    const std::string text = "# routes\n---\n" + head + "---\n" + head
        + std::string("spec:\n  rules:\n  - backendRefs: [{name: a, namespace: cad\0ry}]\n", 63);
    const RouteLoadResult r = loadRouteYaml(text, "nul.yaml");
    QVERIFY(!r.ok());
    QCOMPARE(r.issues.size(), size_t(1));
    QCOMPARE(r.issues[0].source.line, 12);
    QCOMPARE(r.issues[0].document, std::string("document 2"));
    QCOMPARE(r.issues[0].message,
        std::string("control character U+0000 in the file (YAML allows none but tab and line breaks; write it as an "
                    "escape in double quotes)"));
    const RouteLoadResult esc
        = loadRouteYaml(head + "spec:\n  rules:\n  - backendRefs: [{name: \"a\x1b[0m\"}]\n", "esc.yaml");
    QVERIFY(!esc.ok());
    QVERIFY(esc.issues.at(0).message.find("U+001B") != std::string::npos);

    const RouteLoadResult escaped
        = loadRouteYaml(head + "spec:\n  rules:\n  - backendRefs: [{name: \"a\\x1b\\x00b\"}]\n", "escaped.yaml");
    QVERIFY2(escaped.ok(), qPrintable(allIssues(escaped.issues)));
    QCOMPARE(escaped.set.routes.at(0).rules.at(0).backends.at(0).name, std::string("a\x1b\0b", 4));
    const RouteLoadResult again = loadRouteYaml(toYaml(escaped.set), "again.yaml");
    QVERIFY2(again.ok(), qPrintable(allIssues(again.issues)));
    QVERIFY(again.set == escaped.set);
}

void TestRouteYaml::mirrorFractionsRoundTrip()
{
    // A mirror share read from a fraction is written back as that fraction (1/7 was
    // written as 142857/1000000, which reads as another share).
    for (const auto &[num, den, written] :
        std::vector<std::tuple<int, int, std::string>> {{1, 7, "numerator: 1\n"}, {3, 9, "numerator: 1\n"},
            {2, 3, "numerator: 2\n"}, {1, 2147483647, "denominator: 2147483647\n"}, {1, 3, "denominator: 3\n"}}) {
        const std::string text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n"
                                 "spec:\n  rules:\n  - filters:\n    - type: RequestMirror\n      requestMirror:\n"
                                 "        backendRef: {name: shadow}\n        fraction: {numerator: "
            + std::to_string(num) + ", denominator: " + std::to_string(den) + "}\n    backendRefs: [{name: a}]\n";
        const RouteLoadResult r = loadRouteYaml(text, "m.yaml");
        QVERIFY2(r.ok(), qPrintable(allIssues(r.issues)));
        const std::string yaml = toYaml(r.set);
        QVERIFY2(yaml.find(written) != std::string::npos, yaml.c_str());
        const RouteLoadResult back = loadRouteYaml(yaml, "back.yaml");
        QVERIFY2(back.ok(), qPrintable(allIssues(back.issues)));
        QVERIFY2(back.set == r.set, yaml.c_str());
    }
    // A share that is no small fraction (set in the editor) still reads back near itself.
    RouteSet set;
    HttpRoute route;
    route.name = "r";
    RouteRule rule;
    rule.backends.push_back(BackendRef {"a", "", 0, 1});
    rule.mirror = RequestMirror {BackendRef {"shadow", "", 0, 1}, 33.3333};
    route.rules.push_back(rule);
    set.routes.push_back(route);
    const RouteLoadResult back = loadRouteYaml(toYaml(set), "near.yaml");
    QVERIFY2(back.ok(), qPrintable(allIssues(back.issues)));
    QCOMPARE(back.set.routes.at(0).rules.at(0).mirror->percent, 33.3333);
}

QTEST_GUILESS_MAIN(TestRouteYaml)
#include "tst_routeyaml.moc"

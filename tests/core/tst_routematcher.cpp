// RouteMatcher decides as the data planes meshscope writes to: paths (exact, prefix
// by segment or plainly, RE2 full match), headers, query parameters, methods, hosts and
// wildcards, rule order across routes, no-route reasons, weights; and, for xDS, the same
// first route the translated RouteConfiguration selects, for every data plane, on a
// table of edge cases.

#include "routing/routematcher.h"
#include "routing/xds/xdstranslator.h"
#include "routing/yaml/routeyaml.h"

#include <re2/re2.h>

#include <QtTest>

using namespace meshscope::routing;

namespace {

RouteSet load(const std::string &yaml)
{
    RouteLoadResult r = loadRouteYaml(yaml, "test.yaml");
    for (const RouteIssue &i : r.issues)
        qWarning("%s", i.toString().c_str());
    if (!r.ok())
        qFatal("test route YAML does not load");
    return r.set;
}

RouteRequest req(const std::string &host, const std::string &path, const std::string &method = "GET",
    std::map<std::string, std::string> headers = {})
{
    return {host, path, method, std::move(headers)};
}

// "ns/name#index" of the decision, or "none:<reason>".
std::string where(const RouteDecision &d)
{
    return d.matched() ? d.route + '#' + std::to_string(d.ruleIndex)
                       : std::string("none:") + noRouteReasonText(d.reason);
}

std::string where(const RouteMatcher &m, const RouteRequest &r) { return where(m.match(r)); }

// One hostname, a rule per kind of path match, then header, query and method rules.
const char *kShop = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: web}
spec:
  hostnames: [shop.test]
  rules:
    - name: exact
      matches: [{path: {type: Exact, value: /exact}}]
      backendRefs: [{name: a}]
    - name: prefix
      matches: [{path: {type: PathPrefix, value: /foo}}]
      backendRefs: [{name: a}]
    - name: regex
      matches: [{path: {type: RegularExpression, value: '/re/[0-9]+'}}]
      backendRefs: [{name: a}]
    - name: header
      matches:
        - path: {type: PathPrefix, value: /h}
          headers:
            - {name: X-Canary, value: "1"}
            - {name: x-user, type: RegularExpression, value: 'qa-\d+'}
      backendRefs: [{name: b}]
    - name: query
      matches: [{path: {type: PathPrefix, value: /q}, queryParams: [{name: debug, value: "1"}, {name: v, value: "2"}]}]
      backendRefs: [{name: b}]
    - name: method
      matches: [{path: {type: PathPrefix, value: /m}, method: DELETE}]
      backendRefs: [{name: b}]
)";

const char *kWeights = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: default}
spec:
  hostnames: [echo.test]
  rules:
    - name: split
      backendRefs:
        - {name: echo-a, weight: 3}
        - {name: echo-b, weight: 1}
        - {name: echo-c, namespace: other, port: 8080, weight: 0}
)";

// Two routes share a hostname (file order), a wildcard one and one without hostnames.
const char *kHosts = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: first, namespace: default}
spec:
  hostnames: [api.test]
  rules:
    - matches: [{path: {type: PathPrefix, value: /v1}}]
      backendRefs: [{name: one}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: second, namespace: default}
spec:
  hostnames: [api.test]
  rules:
    - backendRefs: [{name: two}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wild, namespace: default}
spec:
  hostnames: ['*.example.test']
  rules:
    - backendRefs: [{name: three}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: anyhost, namespace: tools}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /any}}]
      backendRefs: [{name: four}]
)";

// ---- an independent reading of the translated xDS RouteConfiguration ----

bool fullMatch(const std::string &text, const std::string &pattern)
{
    RE2 re(pattern);
    return re.ok() && RE2::FullMatch(text, re);
}

// What gRPC (grpc = true) or Envoy reads of a header by name.
std::optional<std::string> xdsHeader(const RouteRequest &r, const std::string &name, bool grpc)
{
    if (name == ":method")
        return grpc ? std::nullopt : std::optional<std::string>(r.method);
    if (grpc && name == "content-type")
        return std::string("application/grpc");
    if (grpc && name.size() > 4 && name.compare(name.size() - 4, 4, "-bin") == 0)
        return std::nullopt;
    const auto it = r.headers.find(name);
    return it == r.headers.end() ? std::nullopt : std::optional<std::string>(it->second);
}

bool xdsQueryHolds(const envoy::config::route::v3::RouteMatch &m, const std::string &query)
{
    for (const auto &q : m.query_parameters()) {
        std::optional<std::string> value;
        for (size_t start = 0; start <= query.size() && !value;) {
            const size_t end = std::min(query.find('&', start), query.size());
            const std::string pair = query.substr(start, end - start);
            const size_t eq = pair.find('=');
            if (pair.substr(0, eq) == q.name())
                value = eq == std::string::npos ? std::string() : pair.substr(eq + 1);
            start = end + 1;
        }
        const auto &sm = q.string_match();
        if (!value || (sm.has_safe_regex() ? !fullMatch(*value, sm.safe_regex().regex()) : *value != sm.exact()))
            return false;
    }
    return true;
}

bool xdsMatchHolds(const envoy::config::route::v3::RouteMatch &m, const RouteRequest &r, bool grpc)
{
    const std::string path = r.path.substr(0, r.path.find('?'));
    const std::string query = r.path.find('?') == std::string::npos ? "" : r.path.substr(r.path.find('?') + 1);
    if (grpc && m.query_parameters_size() > 0)
        return false;  // gRFC A28: routes matching query parameters are ignored
    bool pathOk = false;
    if (m.has_prefix())
        pathOk = path.rfind(m.prefix(), 0) == 0;
    else if (!m.path().empty())
        pathOk = path == m.path();
    else if (!m.path_separated_prefix().empty())
        pathOk = path == m.path_separated_prefix() || path.rfind(m.path_separated_prefix() + '/', 0) == 0;
    else if (m.has_safe_regex())
        pathOk = fullMatch(path, m.safe_regex().regex());
    if (!pathOk)
        return false;
    for (const auto &h : m.headers()) {
        const auto value = xdsHeader(r, h.name(), grpc);
        if (!value
            || (h.has_safe_regex_match() ? !fullMatch(*value, h.safe_regex_match().regex())
                                         : *value != h.exact_match()))
            return false;
    }
    return xdsQueryHolds(m, query);
}

// The name of the first xDS route of `listener` that takes the request, or "".
std::string firstXdsRoute(const XdsResourceSet &xds, const std::string &listener, const RouteRequest &r, bool grpc)
{
    for (const auto &rc : xds.routeConfigurations) {
        if (rc.name() != listener)
            continue;
        for (const auto &route : rc.virtual_hosts(0).routes()) {
            if (xdsMatchHolds(route.match(), r, grpc))
                return route.name();
        }
    }
    return {};
}

// The xDS route name the translator gives a decision: "ns/name/rule[/matches[j]]".
std::string xdsRouteName(const RouteSet &set, const RouteDecision &d)
{
    const auto slash = d.route.find('/');
    const HttpRoute *route = set.route(d.route.substr(0, slash), d.route.substr(slash + 1));
    std::string name = d.route + '/' + (d.ruleName.empty() ? "rules[" + std::to_string(d.ruleIndex) + ']' : d.ruleName);
    if (route->rules[size_t(d.ruleIndex)].matches.size() > 1)
        name += "/matches[" + std::to_string(d.matchIndex) + ']';
    return name;
}

}  // namespace

class TestRouteMatcher : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void pathKinds();
    void prefixBySegmentOrPlainly_data();
    void prefixBySegmentOrPlainly();
    void headers();
    void grpcReadsNoBinaryHeaderAndAlwaysGrpcContentType();
    void queryParameters();
    void methods();
    void hostsPerDataPlane();
    void ruleOrderAcrossRoutesSharingAHostname();
    void caddyIsOneListInFileOrder();
    void caddyPathsAreCleanedAndCaseInsensitive();
    void weightsAndDescriptions();
    void badRegexNeverMatchesAndIsNamed();
    void agreesWithTheTranslatedRouteConfiguration_data();
    void agreesWithTheTranslatedRouteConfiguration();
};

void TestRouteMatcher::pathKinds()
{
    const RouteMatcher m(load(kShop), DataPlane::Envoy);
    QCOMPARE(where(m, req("shop.test", "/exact")), std::string("web/shop#0"));
    QCOMPARE(where(m, req("shop.test", "/exact?x=1")), std::string("web/shop#0"));  // without the query string
    QCOMPARE(where(m, req("shop.test", "/exact/")), std::string("none:no rule matches"));
    QCOMPARE(where(m, req("shop.test", "/foo/bar")), std::string("web/shop#1"));
    QCOMPARE(where(m, req("shop.test", "/re/42")), std::string("web/shop#2"));
    QCOMPARE(where(m, req("shop.test", "/re/42x")), std::string("none:no rule matches"));  // full match only
    QCOMPARE(where(m, req("shop.test", "/x/re/42")), std::string("none:no rule matches"));
}

void TestRouteMatcher::prefixBySegmentOrPlainly_data()
{
    QTest::addColumn<int>("plane");
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("matches");
    const auto add = [](const char *name, DataPlane p, const char *path, bool m) {
        QTest::newRow(name) << int(p) << QString::fromLatin1(path) << m;
    };
    add("envoy /foo", DataPlane::Envoy, "/foo", true);
    add("envoy /foo/", DataPlane::Envoy, "/foo/", true);
    add("envoy /foo/x", DataPlane::Envoy, "/foo/x", true);
    add("envoy /foobar", DataPlane::Envoy, "/foobar", false);
    add("generic /foobar", DataPlane::Generic, "/foobar", false);
    add("caddy /foobar", DataPlane::Caddy, "/foobar", false);
    add("caddy /foo/x", DataPlane::Caddy, "/foo/x", true);
    // gRPC 1.51 has no path_separated_prefix: the translation writes a plain prefix.
    add("grpc /foobar", DataPlane::XdsGrpc, "/foobar", true);
    add("grpc /foo", DataPlane::XdsGrpc, "/foo", true);
    add("grpc /fo", DataPlane::XdsGrpc, "/fo", false);
}

void TestRouteMatcher::prefixBySegmentOrPlainly()
{
    QFETCH(int, plane);
    QFETCH(QString, path);
    QFETCH(bool, matches);
    const RouteMatcher m(load(kShop), DataPlane(plane));
    QCOMPARE(where(m, req("shop.test", path.toStdString())) == "web/shop#1", matches);
}

void TestRouteMatcher::headers()
{
    const RouteMatcher m(load(kShop), DataPlane::Envoy);
    QCOMPARE(
        where(m, req("shop.test", "/h", "GET", {{"x-canary", "1"}, {"x-user", "qa-7"}})), std::string("web/shop#3"));
    QCOMPARE(where(m, req("shop.test", "/h", "GET", {{"x-canary", "1"}, {"x-user", "qa-7x"}})),
        std::string("none:no rule matches"));
    QCOMPARE(where(m, req("shop.test", "/h", "GET", {{"x-canary", "2"}, {"x-user", "qa-7"}})),
        std::string("none:no rule matches"));
    QCOMPARE(where(m, req("shop.test", "/h", "GET", {{"x-canary", "1"}})), std::string("none:no rule matches"));
    QCOMPARE(m.headerNames(), (std::set<std::string> {"x-canary", "x-user"}));
}

void TestRouteMatcher::grpcReadsNoBinaryHeaderAndAlwaysGrpcContentType()
{
    const RouteSet set = load(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: g, namespace: default}
spec:
  hostnames: [g.test]
  rules:
    - name: bin
      matches: [{headers: [{name: x-token-bin, value: AAA}]}]
      backendRefs: [{name: a}]
    - name: type
      matches: [{headers: [{name: content-type, value: application/grpc}]}]
      backendRefs: [{name: b}]
)");
    const RouteRequest call
        = req("g.test", "/pkg.S/M", "POST", {{"x-token-bin", "AAA"}, {"content-type", "text/plain"}});
    QCOMPARE(where(RouteMatcher(set, DataPlane::XdsGrpc), call), std::string("default/g#1"));
    QCOMPARE(where(RouteMatcher(set, DataPlane::Envoy), call), std::string("default/g#0"));
}

void TestRouteMatcher::queryParameters()
{
    const RouteSet set = load(kShop);
    const RouteMatcher envoy(set, DataPlane::Envoy), grpc(set, DataPlane::XdsGrpc), caddy(set, DataPlane::Caddy);
    QCOMPARE(where(envoy, req("shop.test", "/q?debug=1&v=2")), std::string("web/shop#4"));
    // Envoy: every parameter, its first value; Caddy 2.6: any listed parameter.
    QCOMPARE(where(envoy, req("shop.test", "/q?debug=1&v=3")), std::string("none:no rule matches"));
    QCOMPARE(where(envoy, req("shop.test", "/q?v=2&debug=0&debug=1")), std::string("none:no rule matches"));
    QCOMPARE(where(caddy, req("shop.test", "/q?debug=1&v=3")), std::string("web/shop#4"));
    QCOMPARE(where(caddy, req("shop.test", "/q?debug=%31")), std::string("web/shop#4"));  // decoded
    QCOMPARE(where(envoy, req("shop.test", "/q?debug=%31&v=2")), std::string("none:no rule matches"));  // raw
    // gRPC 1.51 ignores routes that match query parameters.
    QCOMPARE(where(grpc, req("shop.test", "/q?debug=1&v=2")), std::string("none:no rule matches"));
}

void TestRouteMatcher::methods()
{
    const RouteSet set = load(kShop);
    QCOMPARE(where(RouteMatcher(set, DataPlane::Envoy), req("shop.test", "/m", "DELETE")), std::string("web/shop#5"));
    QCOMPARE(
        where(RouteMatcher(set, DataPlane::Envoy), req("shop.test", "/m", "GET")), std::string("none:no rule matches"));
    // gRPC never sees ":method": a DELETE match can meet no call.
    QCOMPARE(where(RouteMatcher(set, DataPlane::XdsGrpc), req("shop.test", "/m", "DELETE")),
        std::string("none:no rule matches"));
    const RouteSet post = load(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: p, namespace: default}
spec:
  hostnames: [p.test]
  rules:
    - matches: [{method: POST}]
      backendRefs: [{name: a}]
)");
    QCOMPARE(
        where(RouteMatcher(post, DataPlane::XdsGrpc), req("p.test", "/pkg.S/M", "POST")), std::string("default/p#0"));
}

void TestRouteMatcher::hostsPerDataPlane()
{
    const RouteSet set = load(kHosts);
    const RouteMatcher envoy(set, DataPlane::Envoy), grpc(set, DataPlane::XdsGrpc), caddy(set, DataPlane::Caddy);
    // Exact, any case, a port in the authority.
    QCOMPARE(where(envoy, req("API.test:8080", "/x")), std::string("default/second#0"));
    QCOMPARE(where(caddy, req("api.test:8080", "/x")), std::string("default/second#0"));
    // gRPC asks for the listener by its dial target, port included.
    QCOMPARE(where(grpc, req("api.test", "/x")), std::string("default/second#0"));
    QCOMPARE(where(grpc, req("api.test:8080", "/x")), std::string("none:no hostname matches"));
    // Wildcards: Envoy any number of labels (but no port, "*.x" has no "*.x:*" domain);
    // Caddy exactly one label; gRPC none (no listener has that name).
    QCOMPARE(where(envoy, req("a.b.example.test", "/")), std::string("default/wild#0"));
    QCOMPARE(where(envoy, req("a.example.test:80", "/")), std::string("none:no hostname matches"));
    QCOMPARE(where(caddy, req("a.example.test:80", "/")), std::string("default/wild#0"));
    QCOMPARE(where(caddy, req("a.b.example.test", "/any")), std::string("tools/anyhost#0"));
    QCOMPARE(where(grpc, req("a.example.test", "/")), std::string("none:no hostname matches"));
    QCOMPARE(where(envoy, req("example.test", "/")), std::string("none:no hostname matches"));
    // A route without hostnames is served as "<name>.<namespace>" over xDS; Caddy
    // writes no host matcher, so it takes every host.
    QCOMPARE(where(grpc, req("anyhost.tools", "/any")), std::string("tools/anyhost#0"));
    QCOMPARE(where(envoy, req("other.test", "/any")), std::string("none:no hostname matches"));
    QCOMPARE(where(caddy, req("other.test", "/any")), std::string("tools/anyhost#0"));
    QCOMPARE(where(caddy, req("other.test", "/x")), std::string("none:no rule matches"));
    QCOMPARE(where(caddy, req("api.test", "/nothing-here")), std::string("default/second#0"));
}

void TestRouteMatcher::ruleOrderAcrossRoutesSharingAHostname()
{
    const RouteMatcher m(load(kHosts), DataPlane::Envoy);
    QCOMPARE(where(m, req("api.test", "/v1/items")), std::string("default/first#0"));
    QCOMPARE(where(m, req("api.test", "/v2/items")), std::string("default/second#0"));
    // The first rule that matches wins, even when a later one is more specific.
    const RouteMatcher shop(load(kShop), DataPlane::Envoy);
    QCOMPARE(where(shop, req("shop.test", "/foo", "DELETE")), std::string("web/shop#1"));
}

void TestRouteMatcher::caddyIsOneListInFileOrder()
{
    // The hostless route comes first in the file: Caddy tries it first for every host,
    // while xDS serves api.test from its own route configuration.
    const RouteSet set = load(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: everything, namespace: default}
spec:
  rules:
    - backendRefs: [{name: catch}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: default}
spec:
  hostnames: [api.test]
  rules:
    - backendRefs: [{name: api}]
)");
    QCOMPARE(where(RouteMatcher(set, DataPlane::Caddy), req("api.test", "/")), std::string("default/everything#0"));
    QCOMPARE(where(RouteMatcher(set, DataPlane::Envoy), req("api.test", "/")), std::string("default/api#0"));
}

void TestRouteMatcher::caddyPathsAreCleanedAndCaseInsensitive()
{
    const RouteSet set = load(kShop);
    const RouteMatcher caddy(set, DataPlane::Caddy), envoy(set, DataPlane::Envoy);
    QCOMPARE(where(caddy, req("shop.test", "/EXACT")), std::string("web/shop#0"));
    QCOMPARE(where(envoy, req("shop.test", "/EXACT")), std::string("none:no rule matches"));
    QCOMPARE(where(caddy, req("shop.test", "//bar/../foo/x")), std::string("web/shop#1"));
    QCOMPARE(where(caddy, req("shop.test", "/%66oo/x")), std::string("web/shop#1"));
    QCOMPARE(where(envoy, req("shop.test", "/%66oo/x")), std::string("none:no rule matches"));
    // Regexes see the cleaned path with its case.
    QCOMPARE(where(caddy, req("shop.test", "/re//42")), std::string("web/shop#2"));
    QCOMPARE(where(caddy, req("shop.test", "/RE/42")), std::string("none:no rule matches"));
}

void TestRouteMatcher::weightsAndDescriptions()
{
    const RouteMatcher m(load(kWeights), DataPlane::Envoy);
    const RouteDecision d = m.match(req("echo.test", "/"));
    QVERIFY(d.matched());
    QCOMPARE(d.ruleName, std::string("split"));
    QCOMPARE(d.matchIndex, 0);
    QCOMPARE(d.backends.size(), size_t(3));
    QCOMPARE(d.backends[0].share, 0.75);
    QCOMPARE(d.backends[1].share, 0.25);
    QCOMPARE(d.backends[2].share, 0.0);
    QCOMPARE(d.backends[2].label, std::string("other/echo-c:8080"));
    QCOMPARE(d.describe(), std::string("default/echo#0 split -> echo-a 75%, echo-b 25%"));
    QCOMPARE(d.ruleKey(), std::string("split"));
    QCOMPARE(m.match(req("nowhere.test", "/")).describe(), std::string("no route (no hostname matches)"));
    QCOMPARE(m.rules().size(), size_t(1));
}

void TestRouteMatcher::badRegexNeverMatchesAndIsNamed()
{
    const RouteSet set = load(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad, namespace: default}
spec:
  hostnames: [bad.test]
  rules:
    - name: broken
      matches: [{path: {type: RegularExpression, value: '/(unclosed'}}]
      backendRefs: [{name: a}]
    - backendRefs: [{name: b}]
)");
    const RouteMatcher m(set, DataPlane::Envoy);
    QCOMPARE(where(m, req("bad.test", "/(unclosed")), std::string("default/bad#1"));
    QCOMPARE(m.errors().size(), size_t(1));
    QVERIFY2(m.errors()[0].find("HTTPRoute default/bad broken matches[0].path.value: regex does not compile")
            != std::string::npos,
        m.errors()[0].c_str());
}

void TestRouteMatcher::agreesWithTheTranslatedRouteConfiguration_data()
{
    QTest::addColumn<int>("plane");
    QTest::newRow("xds-grpc") << int(DataPlane::XdsGrpc);
    QTest::newRow("envoy") << int(DataPlane::Envoy);
}

// For each request of a table of edge cases, the first route of the translated
// RouteConfiguration (read independently above) is the rule the matcher names.
void TestRouteMatcher::agreesWithTheTranslatedRouteConfiguration()
{
    QFETCH(int, plane);
    const DataPlane p = DataPlane(plane);
    const RouteSet set = load(kShop);
    XdsTranslatorOptions options;
    options.target = p;
    const XdsResourceSet xds = translateToXds(set, options);
    const RouteMatcher m(set, p);
    const std::vector<RouteRequest> table = {req("shop.test", "/exact"), req("shop.test", "/exact/"),
        req("shop.test", "/exact?a=b"), req("shop.test", "/foo"), req("shop.test", "/foo/"),
        req("shop.test", "/foobar"), req("shop.test", "/fo"), req("shop.test", "/re/1"), req("shop.test", "/re/"),
        req("shop.test", "/h", "GET", {{"x-canary", "1"}, {"x-user", "qa-1"}}),
        req("shop.test", "/h", "GET", {{"x-canary", "1"}, {"x-user", "qa-"}}),
        req("shop.test", "/hx", "GET", {{"x-canary", "1"}, {"x-user", "qa-12"}}), req("shop.test", "/q?debug=1&v=2"),
        req("shop.test", "/q?v=2&debug=1"), req("shop.test", "/q?debug=1"), req("shop.test", "/m", "DELETE"),
        req("shop.test", "/m", "POST"), req("shop.test", "/mm", "DELETE")};
    for (const RouteRequest &r : table) {
        const RouteDecision d = m.match(r);
        const std::string expected = firstXdsRoute(xds, "shop.test", r, p == DataPlane::XdsGrpc);
        const std::string got = d.matched() ? xdsRouteName(set, d) : std::string();
        QVERIFY2(got == expected,
            qPrintable(QStringLiteral("%1 %2: matcher %3, xDS %4")
                           .arg(QString::fromStdString(r.method), QString::fromStdString(r.path),
                               QString::fromStdString(got), QString::fromStdString(expected))));
    }
}

QTEST_GUILESS_MAIN(TestRouteMatcher)
#include "tst_routematcher.moc"

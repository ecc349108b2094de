// Validation before anything leaves: each check with its exact message, the rule and
// field it names, the line it points at, and how its severity depends on the target
// data plane (PROTOCOLS.md "Quirks" for gRPC 1.51 and Caddy 2.6.2).

#include "routing/routevalidator.h"
#include "routing/yaml/routeyaml.h"

#include <QtTest>

#include <map>

using namespace meshscope::routing;

namespace {

QString describe(const std::vector<RouteIssue> &issues)
{
    QStringList out;
    for (const RouteIssue &i : issues)
        out << QString::fromStdString(i.toString());
    return out.join(QLatin1Char('\n'));
}

RouteSet load(const std::string &text)
{
    const RouteLoadResult r = loadRouteYaml(text, "t.yaml");
    if (!r.ok())
        qWarning("%s", qPrintable(describe(r.issues)));
    return r.set;
}

// Issues on one field, so each test asserts exactly what it is about.
std::vector<RouteIssue> on(const std::vector<RouteIssue> &issues, const std::string &field)
{
    std::vector<RouteIssue> out;
    for (const RouteIssue &i : issues) {
        if (i.field == field)
            out.push_back(i);
    }
    return out;
}

const char *const kSlices = R"(---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: a-1, labels: {kubernetes.io/service-name: a}}
addressType: IPv4
ports: [{port: 8080}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: b-1, labels: {kubernetes.io/service-name: b}}
addressType: IPv4
ports: [{port: 8081}]
endpoints: [{addresses: [127.0.0.2]}, {addresses: [127.0.0.3]}]
)";

// One route "r" in "default" whose rules are `rules` (indented as list items under spec.rules).
std::string route(const std::string &rules, const std::string &hostnames = "[r.example]")
{
    return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  hostnames: "
        + hostnames + "\n  rules:\n" + rules + kSlices;
}

}  // namespace

class TestRouteValidator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void examplesAreClean();
    void regexQuotesRe2();
    void weightsNegativeAndAllZero();
    void noBackends();
    void duplicateRouteAndRuleNames();
    void shadowedRules_data();
    void shadowedRules();
    void shadowedMatchOnly();
    void shadowAcrossRoutesSharingHostname();
    void unknownBackendSeverityDependsOnTarget();
    void xdsGrpcRefusals();
    void caddyWeights();
    void caddyRefusals();
    void envoyAcceptsEverything();
    void valueChecks();
    void hostnameChecks();
    void fqdnEndpointsRefusedForXds();
    void textInFiltersMirrorAndRetryChecked();
};

void TestRouteValidator::examplesAreClean()
{
    const RouteLoadResult r
        = loadRouteFile(QFINDTESTDATA(QStringLiteral("../../examples/routes/bookinfo-reviews.yaml")).toStdString());
    QVERIFY(r.ok());
    for (DataPlane t : {DataPlane::Generic, DataPlane::Envoy}) {
        const auto issues = validateRoutes(r.set, t);
        QVERIFY2(issues.empty(), qPrintable(describe(issues)));
    }
    QVERIFY(!hasErrors(validateRoutes(r.set, DataPlane::XdsGrpc)));
    QVERIFY(hasErrors(validateRoutes(r.set, DataPlane::Caddy)));  // 80/20 needs weighted round robin
}

void TestRouteValidator::regexQuotesRe2()
{
    const RouteSet set = load(route(R"(  - name: bad
    matches:
    - path: {type: RegularExpression, value: "/api/(v1"}
      headers: [{name: x-v, type: RegularExpression, value: "a**"}]
      queryParams: [{name: q, type: RegularExpression, value: "[z-a]"}]
    backendRefs: [{name: a}]
)"));
    const auto issues = validateRoutes(set);
    const auto path = on(issues, "matches[0].path.value");
    QCOMPARE(path.size(), size_t(1));
    QCOMPARE(path[0].severity, Severity::Error);
    QCOMPARE(path[0].rule, std::string("bad"));
    QCOMPARE(path[0].document, std::string("HTTPRoute default/r"));
    QCOMPARE(
        path[0].message, std::string("regex does not compile under RE2: missing ): /api/(v1 (pattern '/api/(v1')"));
    QCOMPARE(path[0].source.line, 9);
    QCOMPARE(path[0].toString(),
        std::string("t.yaml:9: HTTPRoute default/r rule 'bad' matches[0].path.value: regex does "
                    "not compile under RE2: missing ): /api/(v1 (pattern '/api/(v1')"));
    const auto header = on(issues, "matches[0].headers[0].value");
    QCOMPARE(header.size(), size_t(1));
    QCOMPARE(header[0].message,
        std::string("regex does not compile under RE2: bad repetition operator: ** (pattern 'a**')"));
    QCOMPARE(header[0].source.line, 10);
    const auto query = on(issues, "matches[0].queryParams[0].value");
    QCOMPARE(query.size(), size_t(1));
    QCOMPARE(query[0].message,
        std::string("regex does not compile under RE2: invalid character class range: z-a (pattern '[z-a]')"));
    // Valid RE2 that other engines reject or treat differently is fine.
    const RouteSet ok = load(route(R"(  - matches: [{path: {type: RegularExpression, value: '/(?i)api/\d+'}}]
    backendRefs: [{name: a}]
)"));
    QVERIFY2(validateRoutes(ok).empty(), qPrintable(describe(validateRoutes(ok))));
}

void TestRouteValidator::weightsNegativeAndAllZero()
{
    const RouteSet set = load(route(R"(  - name: neg
    matches: [{path: {value: /n}}]
    backendRefs:
    - {name: a, weight: -5}
    - {name: b, weight: 10}
  - name: zero
    matches: [{path: {value: /z}}]
    backendRefs:
    - {name: a, weight: 0}
    - {name: b, weight: 0}
  - name: fine
    matches: [{path: {value: /f}}]
    backendRefs:
    - {name: a, weight: 0}
    - {name: b, weight: 7}
)"));
    const auto issues = validateRoutes(set, DataPlane::XdsGrpc);
    const auto neg = on(issues, "backendRefs[0].weight");
    QCOMPARE(neg.size(), size_t(1));
    QCOMPARE(neg[0].rule, std::string("neg"));
    QCOMPARE(neg[0].message, std::string("weight -5 is negative"));
    QCOMPARE(neg[0].source.line, 10);
    const auto zero = on(issues, "backendRefs");
    QCOMPARE(zero.size(), size_t(1));
    QCOMPARE(zero[0].rule, std::string("zero"));
    QCOMPARE(zero[0].message, std::string("every backend has weight 0: no traffic would be routed"));
    QCOMPARE(zero[0].source.line, 14);  // the "backendRefs:" key
    // 0/7 sums to 7: gRPC gets total_weight = 7 from the translator, so no issue.
    QVERIFY2(issues.size() == 2, qPrintable(describe(issues)));

    RouteSet big = load(route("  - backendRefs: [{name: a, weight: 1000001}]\n"));
    const auto tooBig = on(validateRoutes(big), "backendRefs[0].weight");
    QCOMPARE(tooBig.size(), size_t(1));
    QCOMPARE(tooBig[0].message, std::string("weight 1000001 exceeds Gateway API's maximum of 1000000"));
}

void TestRouteValidator::noBackends()
{
    const RouteSet set = load(route("  - name: empty\n    matches: [{path: {value: /e}}]\n"));
    const auto issues = on(validateRoutes(set), "backendRefs");
    QCOMPARE(issues.size(), size_t(1));
    QCOMPARE(issues[0].message, std::string("no backendRefs: no traffic would be routed"));
}

void TestRouteValidator::duplicateRouteAndRuleNames()
{
    const std::string doc
        = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: n}\n"
          "spec:\n  rules:\n  - name: x\n    backendRefs: [{name: a}]\n"
          "  - name: x\n    matches: [{path: {value: /other}}]\n    backendRefs: [{name: a}]\n";
    const RouteSet set = load(doc + "---\n" + doc);
    const auto issues = validateRoutes(set);
    const auto dupRoute = on(issues, "metadata.name");
    QCOMPARE(dupRoute.size(), size_t(1));
    QCOMPARE(dupRoute[0].message, std::string("duplicate HTTPRoute n/r: first defined at t.yaml:1"));
    QCOMPARE(dupRoute[0].source.line, 14);  // the second copy's metadata.name
    QCOMPARE(dupRoute[0].source.documentIndex, 1);
    const auto dupRule = on(issues, "name");
    QCOMPARE(dupRule.size(), size_t(2));  // once in each copy
    QCOMPARE(dupRule[0].message, std::string("duplicate rule name 'x' (also rules[0])"));
    QCOMPARE(dupRule[0].source.line, 8);
    // Same name in different namespaces is no duplicate.
    RouteSet two = set;
    two.routes[1].ns = "other";
    QVERIFY(on(validateRoutes(two), "metadata.name").empty());
}

void TestRouteValidator::shadowedRules_data()
{
    QTest::addColumn<QString>("first");  // matches of rules[0], YAML flow
    QTest::addColumn<QString>("second");  // matches of rules[1]
    QTest::addColumn<bool>("shadowed");
    QTest::newRow("prefix / covers everything")
        << "[{path: {type: PathPrefix, value: /}}]"
        << "[{path: {type: Exact, value: /x}, headers: [{name: a, value: b}]}]" << true;
    QTest::newRow("no matches covers everything") << "[]"
                                                  << "[{path: {type: RegularExpression, value: /.*}}]" << true;
    QTest::newRow("same exact") << "[{path: {type: Exact, value: /a}}]"
                                << "[{path: {type: Exact, value: /a}}]" << true;
    QTest::newRow("other exact") << "[{path: {type: Exact, value: /a}}]"
                                 << "[{path: {type: Exact, value: /b}}]" << false;
    QTest::newRow("prefix covers deeper prefix") << "[{path: {value: /api}}]"
                                                 << "[{path: {value: /api/v1/}}]" << true;
    QTest::newRow("prefix covers its own exact") << "[{path: {value: /api/}}]"
                                                 << "[{path: {type: Exact, value: /api}}]" << true;
    QTest::newRow("prefix is per path element") << "[{path: {value: /api}}]"
                                                << "[{path: {value: /apis}}]" << false;
    QTest::newRow("header-constrained earlier rule") << "[{path: {value: /}, headers: [{name: x, value: 1}]}]"
                                                     << "[{path: {value: /a}}]" << false;
    QTest::newRow("subset of headers")
        << "[{path: {value: /a}, headers: [{name: X-Env, value: prod}]}]"
        << "[{path: {value: /a/b}, headers: [{name: x-env, value: prod}, {name: y, value: 2}]}]" << true;
    QTest::newRow("regex header covers exact") << "[{headers: [{name: v, type: RegularExpression, value: 'v[0-9]'}]}]"
                                               << "[{headers: [{name: v, value: v2}]}]" << true;
    QTest::newRow("regex header misses exact") << "[{headers: [{name: v, type: RegularExpression, value: 'v[0-9]'}]}]"
                                               << "[{headers: [{name: v, value: v10}]}]" << false;
    QTest::newRow("regex path covers exact") << "[{path: {type: RegularExpression, value: '/item/[0-9]+'}}]"
                                             << "[{path: {type: Exact, value: /item/42}}]" << true;
    QTest::newRow("method narrows") << "[{path: {value: /}, method: GET}]"
                                    << "[{path: {value: /a}}]" << false;
    QTest::newRow("same method") << "[{method: GET}]"
                                 << "[{path: {value: /a}, method: GET}]" << true;
    QTest::newRow("query params") << "[{queryParams: [{name: a, value: '1'}]}]"
                                  << "[{queryParams: [{name: a, value: '1'}, {name: b, value: '2'}]}]" << true;
    QTest::newRow("all matches must be covered") << "[{path: {value: /a}}]"
                                                 << "[{path: {value: /a}}, {path: {value: /b}}]" << false;
}

void TestRouteValidator::shadowedRules()
{
    QFETCH(QString, first);
    QFETCH(QString, second);
    QFETCH(bool, shadowed);
    const RouteSet set = load(route("  - name: early\n    matches: " + first.toStdString()
        + "\n    backendRefs: [{name: a}]\n  - name: late\n    matches: " + second.toStdString()
        + "\n    backendRefs: [{name: b}]\n"));
    QCOMPARE(set.routes.size(), size_t(1));
    const auto issues = validateRoutes(set);
    const auto s = on(issues, "matches");
    QCOMPARE(s.size(), size_t(shadowed ? 1 : 0));
    if (shadowed) {
        QCOMPARE(s[0].severity, Severity::Warning);
        QCOMPARE(s[0].rule, std::string("late"));
        QCOMPARE(s[0].message,
            std::string("shadowed by rule 'early' (rules[0]): every request this rule matches is taken "
                        "by that earlier rule first"));
        QCOMPARE(s[0].source.line, 11);  // "matches:" of the later rule
    }
    QVERIFY2(!hasErrors(issues), qPrintable(describe(issues)));
}

void TestRouteValidator::shadowedMatchOnly()
{
    const RouteSet set = load(route(R"(  - matches: [{path: {type: Exact, value: /a}}]
    backendRefs: [{name: a}]
  - matches: [{path: {value: /b}}, {path: {type: Exact, value: /a}}]
    backendRefs: [{name: b}]
)"));
    const auto issues = validateRoutes(set);
    QVERIFY(on(issues, "matches").empty());
    const auto m = on(issues, "matches[1]");
    QCOMPARE(m.size(), size_t(1));
    QCOMPARE(m[0].rule, std::string("rules[1]"));
    QCOMPARE(m[0].message, std::string("never used: rules[0] matches every request this match would"));
}

void TestRouteValidator::shadowAcrossRoutesSharingHostname()
{
    const std::string catchAll
        = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: all}\n"
          "spec:\n  hostnames: [shop]\n  rules:\n  - name: everything\n    backendRefs: [{name: a}]\n";
    const std::string later
        = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: api}\n"
          "spec:\n  hostnames: [HOSTS]\n  rules:\n  - name: api\n    matches: [{path: {value: /api}}]\n"
          "    backendRefs: [{name: b}]\n";
    auto with = [&](const std::string &hosts) {
        std::string l = later;
        l.replace(l.find("HOSTS"), 5, hosts);
        return load(catchAll + "---\n" + l + kSlices);
    };
    const auto same = on(validateRoutes(with("shop")), "matches");
    QCOMPARE(same.size(), size_t(1));
    QCOMPARE(same[0].document, std::string("HTTPRoute default/api"));
    QCOMPARE(same[0].message,
        std::string("shadowed by rule 'everything' (rules[0]) of HTTPRoute default/all: every "
                    "request this rule matches is taken by that earlier rule first"));
    // Served on another hostname as well, the rule still applies there.
    QVERIFY(on(validateRoutes(with("shop, admin")), "matches").empty());
    QVERIFY(on(validateRoutes(with("admin")), "matches").empty());
}

void TestRouteValidator::unknownBackendSeverityDependsOnTarget()
{
    const RouteSet set = load(route(R"(  - name: r1
    backendRefs: [{name: ghost, port: 80}, {name: a, namespace: elsewhere}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: phantom}}
)"));
    const auto generic = validateRoutes(set, DataPlane::Generic);
    const auto ghost = on(generic, "backendRefs[0].name");
    QCOMPARE(ghost.size(), size_t(1));
    QCOMPARE(ghost[0].severity, Severity::Warning);
    QCOMPARE(ghost[0].message,
        std::string("unknown backend 'ghost': no EndpointSlice labelled "
                    "kubernetes.io/service-name=ghost in namespace default"));
    QCOMPARE(ghost[0].source.line, 8);
    // The slice for "a" is in "default", not "elsewhere".
    QCOMPARE(on(generic, "backendRefs[1].name").size(), size_t(1));
    QCOMPARE(on(generic, "filters[0].requestMirror.backendRef.name").size(), size_t(1));
    QVERIFY(!hasErrors(generic));

    for (DataPlane t : {DataPlane::Envoy, DataPlane::XdsGrpc, DataPlane::Caddy}) {
        const auto issues = validateRoutes(set, t);
        const auto g = on(issues, "backendRefs[0].name");
        QCOMPARE(g.size(), size_t(1));
        QCOMPARE(g[0].severity, Severity::Error);
        QVERIFY2(g[0].message.find("would have no address to send to") != std::string::npos, g[0].message.c_str());
    }
}

void TestRouteValidator::xdsGrpcRefusals()
{
    const RouteSet set = load(route(R"(  - name: q
    matches: [{path: {value: /q}, queryParams: [{name: debug, value: '1'}], method: GET}]
    backendRefs: [{name: a}]
  - name: chaos
    matches: [{path: {value: /c}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: meshscope.io, kind: FaultInjection, name: f}
      meshscope.io/faultInjection: {abort: {httpStatus: 503, percent: 5}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: b}, percent: 10}
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-a, value: '1'}]}
    backendRefs: [{name: a}]
    retry: {attempts: 7, codes: [503], meshscope.io/retryOn: [unavailable, 5xx]}
)"));
    const auto issues = validateRoutes(set, DataPlane::XdsGrpc);
    const auto query = on(issues, "matches[0].queryParams");
    QCOMPARE(query.size(), size_t(1));
    QCOMPARE(query[0].severity, Severity::Error);
    QCOMPARE(query[0].rule, std::string("q"));
    QVERIFY2(query[0].message.find("gRFC A28") != std::string::npos, query[0].message.c_str());
    QCOMPARE(on(issues, "matches[0].method")[0].severity, Severity::Warning);

    // gRPC injects faults itself (gRFC A33): not refused, but the abort status is
    // reported as the gRPC status the client turns it into.
    QVERIFY(on(issues, "filters[0].meshscope.io/faultInjection").empty());
    const auto fault = on(issues, "filters[0].meshscope.io/faultInjection.abort.httpStatus");
    QCOMPARE(fault.size(), size_t(1));
    QCOMPARE(fault[0].severity, Severity::Warning);
    QCOMPARE(fault[0].message,
        std::string("converted for gRPC 1.51 (xds-grpc): calls fail with gRPC status UNAVAILABLE (14), not HTTP 503"));
    const auto mirror = on(issues, "filters[1].requestMirror");
    QCOMPARE(mirror.size(), size_t(1));
    QCOMPARE(mirror[0].severity, Severity::Error);
    QCOMPARE(mirror[0].message,
        std::string("refused for gRPC 1.51 (xds-grpc): gRPC clients do not mirror requests "
                    "(request_mirror_policies are ignored)"));
    const auto headers = on(issues, "filters[2].requestHeaderModifier");
    QCOMPARE(headers.size(), size_t(1));
    QCOMPARE(headers[0].severity, Severity::Warning);
    QCOMPARE(on(issues, "retry.meshscope.io/retryOn[1]").size(), size_t(1));  // 5xx ignored by gRPC
    QCOMPARE(on(issues, "retry.meshscope.io/retryOn[0]").size(), size_t(0));  // unavailable is honoured
    QCOMPARE(on(issues, "retry.codes")[0].severity, Severity::Warning);
    QCOMPARE(on(issues, "retry.attempts")[0].message,
        std::string("gRPC caps a call at 5 attempts, so at most 4 retries happen"));

    // Generic: none of those are problems.
    QVERIFY2(!hasErrors(validateRoutes(set, DataPlane::Generic)), qPrintable(describe(validateRoutes(set))));
}

void TestRouteValidator::caddyWeights()
{
    auto caddy = [](const std::string &backends) {
        return on(validateRoutes(load(route("  - backendRefs: " + backends + "\n")), DataPlane::Caddy), "backendRefs");
    };
    const auto uneven = caddy("[{name: a, weight: 80}, {name: b, weight: 20}]");
    QCOMPARE(uneven.size(), size_t(1));
    QCOMPARE(uneven[0].severity, Severity::Error);
    QCOMPARE(uneven[0].message,
        std::string("refused for Caddy 2.6.2: it has no weighted round robin, so weights 80/20 "
                    "cannot be expressed; use equal weights, or weight 0 for all but one backend"));
    QVERIFY(caddy("[{name: a, weight: 100}, {name: b, weight: 0}]").empty());
    QVERIFY(caddy("[{name: a, weight: 5}]").empty());
    // Equal weights over 1 and 2 addresses would split 1:2.
    const auto counts = caddy("[{name: a, weight: 1}, {name: b, weight: 1}]");
    QCOMPARE(counts.size(), size_t(1));
    QVERIFY2(counts[0].message.find("(a: 1, b: 2)") != std::string::npos, counts[0].message.c_str());
    QVERIFY(caddy("[{name: b, weight: 3}, {name: b, port: 9, weight: 3}]").empty());
}

void TestRouteValidator::caddyRefusals()
{
    const RouteSet set
        = load(route(R"(  - matches: [{path: {type: Exact, value: '/a*'}, headers: [{name: x, value: 'v*'}],
                 queryParams: [{name: q, type: RegularExpression, value: 'x+'}]}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: meshscope.io, kind: FaultInjection, name: f}
      meshscope.io/faultInjection: {delay: {fixedDelay: 1s}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: b}}
    backendRefs: [{name: a}]
)"));
    const auto issues = validateRoutes(set, DataPlane::Caddy);
    QCOMPARE(on(issues, "matches[0].path.value")[0].severity, Severity::Error);
    QCOMPARE(on(issues, "matches[0].headers[0].value")[0].severity, Severity::Error);
    QCOMPARE(on(issues, "matches[0].queryParams[0].type")[0].message,
        std::string("refused for Caddy 2.6.2: its query matcher compares exact values only"));
    QCOMPARE(on(issues, "filters[0].meshscope.io/faultInjection")[0].message,
        std::string("refused for Caddy 2.6.2: it has no fault injection handler"));
    QCOMPARE(on(issues, "filters[1].requestMirror")[0].message,
        std::string("refused for Caddy 2.6.2: it cannot mirror requests"));
}

void TestRouteValidator::envoyAcceptsEverything()
{
    const RouteLoadResult r
        = loadRouteFile(QFINDTESTDATA(QStringLiteral("../../examples/routes/ratings-chaos.yaml")).toStdString());
    QVERIFY(r.ok());
    const auto envoy = validateRoutes(r.set, DataPlane::Envoy);
    QVERIFY2(envoy.empty(), qPrintable(describe(envoy)));
    QVERIFY(hasErrors(validateRoutes(r.set, DataPlane::XdsGrpc)));
    QVERIFY(hasErrors(validateRoutes(r.set, DataPlane::Caddy)));
}

void TestRouteValidator::valueChecks()
{
    const RouteSet set = load(route(R"(  - name: v
    matches: [{path: {type: Exact, value: nope}, method: FETCH, headers: [{name: 'bad header', value: x}]}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: meshscope.io, kind: FaultInjection, name: f}
      meshscope.io/faultInjection: {abort: {httpStatus: 700}}
    backendRefs: [{name: a}]
    timeouts: {request: 1s, backendRequest: 2s}
    retry: {attempts: 1, codes: [200]}
)"));
    const auto issues = validateRoutes(set);
    QCOMPARE(on(issues, "matches[0].path.value")[0].message, std::string("'nope' must start with '/'"));
    QCOMPARE(on(issues, "matches[0].method")[0].message,
        std::string("'FETCH' is not an HTTP method (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH)"));
    QCOMPARE(
        on(issues, "matches[0].headers[0].name")[0].message, std::string("'bad header' is not a valid header name"));
    QCOMPARE(on(issues, "filters[0].meshscope.io/faultInjection.abort.httpStatus")[0].message,
        std::string("700 is not an HTTP status data planes can answer (200-599)"));
    QCOMPARE(
        on(issues, "timeouts.backendRequest")[0].message, std::string("2000 ms exceeds timeouts.request (1000 ms)"));
    QCOMPARE(on(issues, "timeouts.backendRequest")[0].source.line, 14);
    QCOMPARE(on(issues, "retry.codes[0]")[0].message, std::string("200 is not a retriable status (400-599)"));
}

void TestRouteValidator::hostnameChecks()
{
    const auto issues = validateRoutes(load(route("  - backendRefs: [{name: a}]\n",
        "[ok.example, '*.wild.example', "
        "10.0.0.1, 'Upper.Case', 'a:80']")));
    QVERIFY(on(issues, "spec.hostnames[0]").empty());
    QVERIFY(on(issues, "spec.hostnames[1]").empty());
    QCOMPARE(on(issues, "spec.hostnames[2]")[0].message,
        std::string("'10.0.0.1' is an IP address; Gateway API hostnames are names"));
    QCOMPARE(on(issues, "spec.hostnames[3]").size(), size_t(1));
    QCOMPARE(on(issues, "spec.hostnames[4]").size(), size_t(1));
    QCOMPARE(on(issues, "spec.hostnames[4]")[0].source.line, 5);
}

void TestRouteValidator::fqdnEndpointsRefusedForXds()
{
    const std::string text = route("  - backendRefs: [{name: dns}]\n") + R"(---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-1, labels: {kubernetes.io/service-name: dns}}
addressType: FQDN
endpoints: [{addresses: [backend.internal]}]
)";
    const RouteSet set = load(text);
    const auto xds = validateRoutes(set, DataPlane::XdsGrpc);
    const auto addr = on(xds, "endpoints[0].addresses[0]");
    QCOMPARE(addr.size(), size_t(1));
    QCOMPARE(addr[0].document, std::string("EndpointSlice default/dns-1"));
    QCOMPARE(addr[0].message,
        std::string("refused for gRPC 1.51 (xds-grpc): EDS carries IP addresses, and "
                    "'backend.internal' is a hostname"));
    // No port anywhere: nothing to dial.
    QCOMPARE(on(xds, "backendRefs[0].port")[0].message,
        std::string("no port to dial: EndpointSlice default/dns-1 lists no ports and the reference sets none"));
    const auto caddy = validateRoutes(set, DataPlane::Caddy);
    QVERIFY(on(caddy, "endpoints[0].addresses[0]").empty());  // Caddy dials names
}

// Header modifiers, the mirror's backend and the retry conditions reach proto3 string
// fields in xDS (HeaderValue, RequestMirrorPolicy.cluster, RetryPolicy.retry_on): text
// that is not UTF-8, or holds a control character, is refused there too (found by the
// route YAML fuzzer, tests/fuzz/findings/routeyaml-*-not-utf8.yaml).
void TestRouteValidator::textInFiltersMirrorAndRetryChecked()
{
    RouteSet set;
    HttpRoute route;
    route.name = "r";
    route.ns = "shop";
    RouteRule rule;
    rule.requestHeaders.set = {{"x-a", "caf\xc3"}};
    rule.requestHeaders.add = {{"x-\xff", "1"}};
    rule.requestHeaders.remove = {"x-\xc0\xaf"};
    rule.responseHeaders.set = {{"x-b", "evil\x1b[2J"}};
    rule.responseHeaders.add = {{"x-c", "fine"}};
    RequestMirror mirror;
    mirror.backend.name = "m\x7f";
    mirror.backend.ns = "ns\xed\xa0\x80";
    rule.mirror = mirror;
    RetryPolicy retry;
    retry.attempts = 2;
    retry.retryOn = {"5xx", "caf\xc3"};
    rule.retry = retry;
    BackendRef b;
    b.name = "a";
    b.port = 80;
    rule.backends.push_back(b);
    route.rules.push_back(rule);
    set.routes.push_back(route);

    for (DataPlane plane : {DataPlane::Generic, DataPlane::Envoy, DataPlane::XdsGrpc, DataPlane::Caddy}) {
        const auto issues = validateRoutes(set, plane);
        std::map<std::string, std::string> text;  // field -> message, for the text problems only
        for (const RouteIssue &i : issues) {
            if (i.message.rfind("the value ", 0) == 0) {
                QCOMPARE(i.severity, Severity::Error);
                QCOMPARE(i.rule, std::string("rules[0]"));
                text[i.field] = i.message;
            }
        }
        const std::map<std::string, std::string> want = {
            {"filters[0].requestHeaderModifier.set[0].value", "the value is not valid UTF-8"},
            {"filters[0].requestHeaderModifier.add[0].name", "the value is not valid UTF-8"},
            {"filters[0].requestHeaderModifier.remove[0]", "the value is not valid UTF-8"},
            {"filters[1].responseHeaderModifier.set[0].value", "the value holds a control character"},
            {"filters[2].requestMirror.backendRef.name", "the value holds a control character"},
            {"filters[2].requestMirror.backendRef.namespace", "the value is not valid UTF-8"},
            {"retry.meshscope.io/retryOn[1]", "the value is not valid UTF-8"},
        };
        QStringList got;
        for (const auto &[field, message] : text)
            got << QString::fromStdString(field + ": " + message);
        QVERIFY2(text == want, qPrintable(got.join(QLatin1Char('\n'))));
    }
}

QTEST_GUILESS_MAIN(TestRouteValidator)
#include "tst_routevalidator.moc"

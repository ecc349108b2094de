// Export: Istio VirtualService/DestinationRule YAML and normalized Gateway API YAML.
// The output is parsed back with yaml-cpp and checked field by field, including the
// conversions (PathPrefix element semantics, weights to percentages, subsets).

#include "routing/routeexport.h"
#include "routing/yaml/routeyaml.h"

#include <QtTest>

#include <yaml-cpp/yaml.h>

using namespace meshscope::routing;

namespace {

RouteSet loadExample(const char *name)
{
    const RouteLoadResult r
        = loadRouteFile(QFINDTESTDATA(QStringLiteral("../../examples/routes/") + QLatin1String(name)).toStdString());
    if (!r.ok())
        qWarning("example %s does not load", name);
    return r.set;
}

std::vector<YAML::Node> docsOfKind(const std::string &yaml, const std::string &kind)
{
    std::vector<YAML::Node> out;
    for (const YAML::Node &d : YAML::LoadAll(yaml)) {
        if (d["kind"] && d["kind"].as<std::string>() == kind)
            out.push_back(d);
    }
    return out;
}

std::string str(const YAML::Node &n) { return n ? n.as<std::string>() : std::string("<missing>"); }

}  // namespace

class TestRouteExport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void istioBookinfo();
    void istioExtensions();
    void istioPathPrefixIsPerElement();
    void istioWeightsRoundedToPercent();
    void istioWithoutSubsets();
    void istioCrossNamespaceHost();
    void istioDropsWhatItCannotSay();
    void istioDurations();
    void gatewayApiIsNormalizedYaml();
};

void TestRouteExport::istioBookinfo()
{
    const ExportResult r = exportRoutes(loadExample("bookinfo-reviews.yaml"), ExportFormat::Istio);
    QVERIFY(r.ok());
    const auto vss = docsOfKind(r.yaml, "VirtualService");
    QCOMPARE(vss.size(), size_t(1));
    const YAML::Node vs = vss[0];
    QCOMPARE(str(vs["apiVersion"]), std::string("networking.istio.io/v1beta1"));
    QCOMPARE(str(vs["metadata"]["name"]), std::string("reviews"));
    QCOMPARE(str(vs["metadata"]["namespace"]), std::string("bookinfo"));
    QCOMPARE(vs["spec"]["hosts"].size(), size_t(1));
    QCOMPARE(str(vs["spec"]["hosts"][0]), std::string("reviews"));
    const YAML::Node http = vs["spec"]["http"];
    QCOMPARE(http.size(), size_t(2));

    // Rule "jason": header match, prefix /reviews split into exact + prefix "/reviews/".
    const YAML::Node jason = http[0];
    QCOMPARE(str(jason["name"]), std::string("jason"));
    QCOMPARE(jason["match"].size(), size_t(2));
    QCOMPARE(str(jason["match"][0]["uri"]["exact"]), std::string("/reviews"));
    QCOMPARE(str(jason["match"][1]["uri"]["prefix"]), std::string("/reviews/"));
    for (int k = 0; k < 2; ++k)
        QCOMPARE(str(jason["match"][k]["headers"]["end-user"]["exact"]), std::string("jason"));
    QCOMPARE(jason["route"].size(), size_t(1));
    QCOMPARE(str(jason["route"][0]["destination"]["host"]), std::string("reviews"));
    QCOMPARE(str(jason["route"][0]["destination"]["subset"]), std::string("v2"));
    QCOMPARE(jason["route"][0]["destination"]["port"]["number"].as<int>(), 9080);
    QVERIFY(!jason["route"][0]["weight"]);  // a single destination takes everything
    QCOMPARE(str(jason["timeout"]), std::string("5s"));
    QVERIFY(!jason["retries"]);

    // Rule "canary": 80/20 with retries.
    const YAML::Node canary = http[1];
    QCOMPARE(str(canary["match"][0]["uri"]["prefix"]), std::string("/"));
    QCOMPARE(canary["match"].size(), size_t(1));
    QCOMPARE(str(canary["route"][0]["destination"]["subset"]), std::string("v1"));
    QCOMPARE(canary["route"][0]["weight"].as<int>(), 80);
    QCOMPARE(str(canary["route"][1]["destination"]["subset"]), std::string("v2"));
    QCOMPARE(canary["route"][1]["weight"].as<int>(), 20);
    QCOMPARE(str(canary["timeout"]), std::string("10s"));
    QCOMPARE(canary["retries"]["attempts"].as<int>(), 2);
    QCOMPARE(str(canary["retries"]["perTryTimeout"]), std::string("2s"));  // timeouts.backendRequest
    QCOMPARE(str(canary["retries"]["retryOn"]), std::string("connect-failure,reset,502,503"));

    const auto drs = docsOfKind(r.yaml, "DestinationRule");
    QCOMPARE(drs.size(), size_t(1));
    const YAML::Node dr = drs[0];
    QCOMPARE(str(dr["metadata"]["name"]), std::string("reviews"));
    QCOMPARE(str(dr["metadata"]["namespace"]), std::string("bookinfo"));
    QCOMPARE(str(dr["spec"]["host"]), std::string("reviews"));
    QCOMPARE(dr["spec"]["subsets"].size(), size_t(2));
    QCOMPARE(str(dr["spec"]["subsets"][0]["name"]), std::string("v1"));
    QCOMPARE(str(dr["spec"]["subsets"][0]["labels"]["version"]), std::string("v1"));
    QCOMPARE(str(dr["spec"]["subsets"][1]["name"]), std::string("v2"));
    // EndpointSlices have no Istio counterpart: Kubernetes provides them.
    QVERIFY(docsOfKind(r.yaml, "EndpointSlice").empty());
    // backoff has no Istio field: reported, not silently dropped.
    QCOMPARE(r.issues.size(), size_t(1));
    QCOMPARE(r.issues[0].field, std::string("retry.backoff"));
    QCOMPARE(r.issues[0].severity, Severity::Warning);
}

void TestRouteExport::istioExtensions()
{
    const ExportResult r = exportRoutes(loadExample("ratings-chaos.yaml"), ExportFormat::Istio);
    QVERIFY(r.ok());
    const YAML::Node http = docsOfKind(r.yaml, "VirtualService")[0]["spec"]["http"];
    const YAML::Node chaos = http[0];
    QCOMPARE(str(chaos["match"][0]["uri"]["regex"]), std::string("/ratings/[0-9]+"));
    QCOMPARE(chaos["fault"]["delay"]["percentage"]["value"].as<double>(), 50.0);
    QCOMPARE(str(chaos["fault"]["delay"]["fixedDelay"]), std::string("7s"));
    QCOMPARE(chaos["fault"]["abort"]["percentage"]["value"].as<double>(), 10.0);
    QCOMPARE(chaos["fault"]["abort"]["httpStatus"].as<int>(), 503);
    QCOMPARE(str(chaos["route"][0]["destination"]["subset"]), std::string("v1"));

    const YAML::Node def = http[1];
    QCOMPARE(str(def["mirror"]["host"]), std::string("ratings-shadow"));
    QVERIFY(!def["mirror"]["subset"]);
    QCOMPARE(def["mirror"]["port"]["number"].as<int>(), 9080);
    QCOMPARE(def["mirrorPercentage"]["value"].as<double>(), 10.0);
    QCOMPARE(str(def["headers"]["request"]["set"]["x-meshscope-route"]), std::string("ratings-default"));
    QCOMPARE(def["headers"]["request"]["remove"].size(), size_t(1));
    QCOMPARE(str(def["headers"]["request"]["remove"][0]), std::string("x-debug"));

    const auto drs = docsOfKind(r.yaml, "DestinationRule");
    QCOMPARE(drs.size(), size_t(1));
    QCOMPARE(str(drs[0]["spec"]["host"]), std::string("ratings"));
    QCOMPARE(drs[0]["spec"]["subsets"].size(), size_t(1));
}

void TestRouteExport::istioPathPrefixIsPerElement()
{
    const RouteSet set = loadRouteYaml(R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api}
spec:
  hostnames: [api]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /v1/}
      method: GET
      queryParams: [{name: pretty, value: 'true'}]
      headers: [{name: X-Tenant, type: RegularExpression, value: 't-.*'}]
    - path: {type: Exact, value: /health}
    backendRefs: [{name: api}]
)",
        "p.yaml")
                             .set;
    const ExportResult r = exportRoutes(set, ExportFormat::Istio);
    QVERIFY(r.ok());
    const YAML::Node match = docsOfKind(r.yaml, "VirtualService")[0]["spec"]["http"][0]["match"];
    QCOMPARE(match.size(), size_t(3));
    QCOMPARE(str(match[0]["uri"]["exact"]), std::string("/v1"));
    QCOMPARE(str(match[1]["uri"]["prefix"]), std::string("/v1/"));
    for (int k = 0; k < 2; ++k) {
        QCOMPARE(str(match[k]["method"]["exact"]), std::string("GET"));
        QCOMPARE(str(match[k]["queryParams"]["pretty"]["exact"]), std::string("true"));
        QCOMPARE(str(match[k]["headers"]["x-tenant"]["regex"]), std::string("t-.*"));  // Istio wants lowercase names
    }
    QCOMPARE(str(match[2]["uri"]["exact"]), std::string("/health"));
    QVERIFY(!match[2]["method"]);
    // No versioned backend, no DestinationRule.
    QVERIFY(docsOfKind(r.yaml, "DestinationRule").empty());
}

void TestRouteExport::istioWeightsRoundedToPercent()
{
    const RouteSet set = loadRouteYaml(R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: w}
spec:
  hostnames: [w]
  rules:
  - name: thirds
    backendRefs: [{name: a-v1, weight: 1}, {name: a-v2, weight: 1}, {name: a-v3, weight: 1}]
  - name: sevens
    matches: [{path: {value: /s}}]
    backendRefs: [{name: a-v1, weight: 7}, {name: a-v2, weight: 3}]
)",
        "w.yaml")
                             .set;
    const ExportResult r = exportRoutes(set, ExportFormat::Istio);
    const YAML::Node http = docsOfKind(r.yaml, "VirtualService")[0]["spec"]["http"];
    QCOMPARE(http[0]["route"][0]["weight"].as<int>(), 34);
    QCOMPARE(http[0]["route"][1]["weight"].as<int>(), 33);
    QCOMPARE(http[0]["route"][2]["weight"].as<int>(), 33);
    QCOMPARE(http[1]["route"][0]["weight"].as<int>(), 70);
    QCOMPARE(http[1]["route"][1]["weight"].as<int>(), 30);
    // 1/1/1 is not exact in percent: said so, with both spellings. 7/3 is exact.
    QCOMPARE(r.issues.size(), size_t(1));
    QCOMPARE(r.issues[0].rule, std::string("thirds"));
    QCOMPARE(r.issues[0].message, std::string("converted: weights 1/1/1 rounded to Istio percentages 34/33/33"));
    QCOMPARE(docsOfKind(r.yaml, "DestinationRule")[0]["spec"]["subsets"].size(), size_t(3));
}

void TestRouteExport::istioWithoutSubsets()
{
    ExportOptions o;
    o.versionSubsets = false;
    const ExportResult r = exportRoutes(loadExample("bookinfo-reviews.yaml"), ExportFormat::Istio, o);
    const YAML::Node canary = docsOfKind(r.yaml, "VirtualService")[0]["spec"]["http"][1];
    QCOMPARE(str(canary["route"][0]["destination"]["host"]), std::string("reviews-v1"));
    QVERIFY(!canary["route"][0]["destination"]["subset"]);
    QVERIFY(docsOfKind(r.yaml, "DestinationRule").empty());

    ExportOptions label;
    label.versionLabel = "app.kubernetes.io/version";
    const ExportResult l = exportRoutes(loadExample("bookinfo-reviews.yaml"), ExportFormat::Istio, label);
    QCOMPARE(str(docsOfKind(l.yaml, "DestinationRule")[0]["spec"]["subsets"][0]["labels"]["app.kubernetes.io/version"]),
        std::string("v1"));
}

void TestRouteExport::istioCrossNamespaceHost()
{
    ExportOptions o;
    BackendRef b {"reviews-v3", "other", 0, 1};
    const IstioDestination d = istioDestination(b, "bookinfo", o);
    QCOMPARE(d.host, std::string("reviews.other.svc.cluster.local"));
    QCOMPARE(d.subset, std::string("v3"));
    b.ns = "bookinfo";
    QCOMPARE(istioDestination(b, "bookinfo", o).host, std::string("reviews"));
    // Only a "-v<digit>..." suffix is a version.
    QCOMPARE(istioDestination(BackendRef {"web-vault", "", 0, 1}, "x", o).subset, std::string());
    QCOMPARE(istioDestination(BackendRef {"api-v2beta1", "", 0, 1}, "x", o).subset, std::string("v2beta1"));
}

void TestRouteExport::istioDropsWhatItCannotSay()
{
    const RouteSet set = loadRouteYaml(R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: nohost}
spec:
  rules:
  - name: t
    backendRefs: [{name: a}]
    timeouts: {backendRequest: 3s}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {add: [{name: x-a, value: '1'}, {name: X-A, value: '2'}]}
)",
        "d.yaml")
                             .set;
    const ExportResult r = exportRoutes(set, ExportFormat::Istio);
    QVERIFY(r.ok());
    const YAML::Node vs = docsOfKind(r.yaml, "VirtualService")[0];
    QCOMPARE(str(vs["spec"]["hosts"][0]), std::string("nohost"));
    QVERIFY(!vs["spec"]["http"][0]["retries"]);
    QCOMPARE(str(vs["spec"]["http"][0]["headers"]["request"]["add"]["x-a"]), std::string("1"));
    QStringList fields;
    for (const RouteIssue &i : r.issues)
        fields << QString::fromStdString(i.field);
    QCOMPARE(fields,
        (QStringList {QStringLiteral("spec.hostnames"), QStringLiteral("timeouts.backendRequest"),
            QStringLiteral("filters.requestHeaderModifier.add")}));
}

void TestRouteExport::istioDurations()
{
    QCOMPARE(istioDuration(10000), std::string("10s"));
    QCOMPARE(istioDuration(1500), std::string("1.5s"));
    QCOMPARE(istioDuration(25), std::string("0.025s"));
    QCOMPARE(istioDuration(90000), std::string("90s"));
    QCOMPARE(istioDuration(0), std::string("0s"));
}

void TestRouteExport::gatewayApiIsNormalizedYaml()
{
    const RouteSet set = loadExample("bookinfo-reviews.yaml");
    const ExportResult r = exportRoutes(set, ExportFormat::GatewayApi);
    QVERIFY(r.ok());
    QCOMPARE(r.yaml, toYaml(set));
    const auto routes = docsOfKind(r.yaml, "HTTPRoute");
    QCOMPARE(routes.size(), size_t(1));
    QCOMPARE(str(routes[0]["apiVersion"]), std::string("gateway.networking.k8s.io/v1"));
    const YAML::Node canary = routes[0]["spec"]["rules"][1];
    QCOMPARE(str(canary["name"]), std::string("canary"));
    QCOMPARE(canary["backendRefs"][1]["weight"].as<int>(), 20);
    QCOMPARE(str(canary["timeouts"]["backendRequest"]), std::string("2s"));
    QCOMPARE(canary["retry"]["codes"][1].as<int>(), 503);
    QCOMPARE(str(canary["retry"]["meshscope.io/retryOn"][0]), std::string("connect-failure"));
    const auto slices = docsOfKind(r.yaml, "EndpointSlice");
    QCOMPARE(slices.size(), size_t(2));
    QCOMPARE(str(slices[0]["metadata"]["labels"]["kubernetes.io/service-name"]), std::string("reviews-v1"));
    QCOMPARE(slices[0]["ports"][0]["port"].as<int>(), 19081);
    QCOMPARE(slices[0]["endpoints"][0]["conditions"]["ready"].as<bool>(), true);
}

QTEST_GUILESS_MAIN(TestRouteExport)
#include "tst_routeexport.moc"

// RouteSet -> xDS resources: one API listener per hostname (HCM + RDS over ADS +
// router filter last), route configurations in rule order with exactly the fields
// gRPC 1.51 accepts (total_weight, deprecated header matchers, RE2 regexes),
// EDS clusters named after backends and endpoints from EndpointSlices; faults as the
// fault filter before the router plus a per-route HTTPFault, mirrors for Envoy only.

#include "routing/xds/xdstranslator.h"

#include "common/printers.h"
#include "envoy/extensions/filters/http/fault/v3/fault.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

#include <QtTest>

using namespace meshscope::routing;

namespace route = envoy::config::route::v3;
namespace hcm = envoy::extensions::filters::network::http_connection_manager::v3;
namespace fault = envoy::extensions::filters::http::fault::v3;
using envoy::type::v3::FractionalPercent;

namespace {

BackendRef backend(const std::string &name, int port, int weight = 1)
{
    BackendRef b;
    b.name = name;
    b.port = port;
    b.weight = weight;
    return b;
}

EndpointSlice slice(const std::string &name, const std::string &service, int port, std::vector<Endpoint> endpoints)
{
    EndpointSlice s;
    s.name = name;
    s.serviceName = service;
    s.port = port;
    s.endpoints = std::move(endpoints);
    return s;
}

// reviews.shop.test: a canary rule (header + regex path, timeout, retries), then a
// 7/3 split; the slices give reviews-v1 two endpoints and reviews-v2 one.
RouteSet reviewsSet()
{
    HttpRoute r;
    r.name = "reviews";
    r.ns = "shop";
    r.hostnames = {"reviews.shop.test"};

    RouteRule canary;
    canary.name = "canary";
    RouteMatch m;
    m.path = PathMatch {PathMatchType::RegularExpression, "/reviews\\.v1\\.Reviews/(Get|List)"};
    m.headers = {{"X-Canary", StringMatchType::Exact, "1"}, {"x-user", StringMatchType::RegularExpression, "qa-.*"}};
    canary.matches = {m};
    canary.backends = {backend("reviews-v2", 9080)};
    canary.timeoutMs = 2500;
    RetryPolicy retry;
    retry.attempts = 3;
    retry.retryOn = {"unavailable", "cancelled"};
    retry.perTryTimeoutMs = 800;
    retry.backoffMs = 25;
    canary.retry = retry;
    r.rules.push_back(canary);

    RouteRule split;
    RouteMatch exact;
    exact.path = PathMatch {PathMatchType::Exact, "/reviews.v1.Reviews/Get"};
    exact.method = "POST";
    RouteMatch prefix;
    prefix.path = PathMatch {PathMatchType::PathPrefix, "/reviews.v1.Reviews"};
    split.matches = {exact, prefix};
    split.backends = {backend("reviews-v1", 9080, 7), backend("reviews-v2", 9080, 3)};
    r.rules.push_back(split);

    RouteSet set;
    set.routes.push_back(r);
    set.endpointSlices.push_back(
        slice("reviews-v1-abc", "reviews-v1", 9081, {{"10.0.0.1", true}, {"10.0.0.2", false}}));
    set.endpointSlices.push_back(slice("reviews-v2-def", "reviews-v2", 0, {{"10.0.0.3", true}}));
    for (EndpointSlice &s : set.endpointSlices)
        s.ns = "shop";
    return set;
}

hcm::HttpConnectionManager managerOf(const envoy::config::listener::v3::Listener &l)
{
    hcm::HttpConnectionManager manager;
    l.api_listener().api_listener().UnpackTo(&manager);
    return manager;
}

std::vector<std::string> filterNames(const hcm::HttpConnectionManager &manager)
{
    std::vector<std::string> names;
    for (const hcm::HttpFilter &f : manager.http_filters())
        names.push_back(f.name());
    return names;
}

bool hasNote(const XdsResourceSet &out, const std::string &part)
{
    return std::any_of(
        out.notes.begin(), out.notes.end(), [&](const std::string &n) { return n.find(part) != std::string::npos; });
}

template <class T>
const T *byName(const std::vector<T> &all, const std::string &name)
{
    for (const T &x : all) {
        if (x.name() == name)
            return &x;
    }
    return nullptr;
}

}  // namespace

class TestXdsTranslator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void listenerIsApiListenerWithRdsAndRouterLast()
    {
        const XdsResourceSet out = translateToXds(reviewsSet());
        QCOMPARE(out.listeners.size(), size_t(1));
        const auto &l = out.listeners[0];
        QCOMPARE(l.name(), std::string("reviews.shop.test"));
        QVERIFY(l.has_api_listener());
        QCOMPARE(l.api_listener().api_listener().type_url(), std::string(kXdsHttpConnectionManagerType));
        hcm::HttpConnectionManager manager;
        QVERIFY(l.api_listener().api_listener().UnpackTo(&manager));
        QVERIFY(manager.has_rds());
        QVERIFY(manager.rds().config_source().has_ads());
        QCOMPARE(int(manager.rds().config_source().resource_api_version()), int(envoy::config::core::v3::V3));
        QCOMPARE(manager.rds().route_config_name(), std::string("reviews.shop.test"));
        QVERIFY(manager.http_filters_size() >= 1);
        const hcm::HttpFilter &last = manager.http_filters(manager.http_filters_size() - 1);
        QCOMPARE(last.name(), std::string(kXdsRouterFilterName));
        QCOMPARE(last.typed_config().type_url(),
            std::string("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"));
    }

    void routeConfigurationKeepsRuleOrderOneRoutePerMatch()
    {
        const XdsResourceSet out = translateToXds(reviewsSet());
        QCOMPARE(out.routeConfigurations.size(), size_t(1));
        const route::RouteConfiguration &rc = out.routeConfigurations[0];
        QCOMPARE(rc.name(), std::string("reviews.shop.test"));
        QCOMPARE(rc.virtual_hosts_size(), 1);
        const route::VirtualHost &vh = rc.virtual_hosts(0);
        QCOMPARE(vh.domains_size(), 2);
        QCOMPARE(vh.domains(0), std::string("reviews.shop.test"));
        QCOMPARE(vh.domains(1), std::string("reviews.shop.test:*"));
        QCOMPARE(vh.routes_size(), 3);  // canary, then the split rule's two matches
        QCOMPARE(vh.routes(0).name(), std::string("shop/reviews/canary"));
        QCOMPARE(vh.routes(1).name(), std::string("shop/reviews/rules[1]/matches[0]"));
        QCOMPARE(vh.routes(2).name(), std::string("shop/reviews/rules[1]/matches[1]"));
    }

    void matchesUseWhatGrpc151Accepts()
    {
        const route::VirtualHost vh = translateToXds(reviewsSet()).routeConfigurations[0].virtual_hosts(0);
        const route::RouteMatch &canary = vh.routes(0).match();
        QVERIFY(canary.has_safe_regex());
        QVERIFY(canary.safe_regex().has_google_re2());
        QCOMPARE(canary.safe_regex().regex(), std::string("/reviews\\.v1\\.Reviews/(Get|List)"));
        QCOMPARE(canary.headers_size(), 2);
        QCOMPARE(canary.headers(0).name(), std::string("x-canary"));  // lower-cased
        QCOMPARE(int(canary.headers(0).header_match_specifier_case()), int(route::HeaderMatcher::kExactMatch));
        QCOMPARE(canary.headers(0).exact_match(), std::string("1"));
        QCOMPARE(int(canary.headers(1).header_match_specifier_case()), int(route::HeaderMatcher::kSafeRegexMatch));
        QVERIFY(canary.headers(1).safe_regex_match().has_google_re2());
        QCOMPARE(canary.headers(1).safe_regex_match().regex(), std::string("qa-.*"));

        // gRPC calls are all POSTs and gRPC cannot see ":method": the match is implied.
        const route::RouteMatch &exact = vh.routes(1).match();
        QCOMPARE(exact.path(), std::string("/reviews.v1.Reviews/Get"));
        QCOMPARE(exact.headers_size(), 0);
        QCOMPARE(vh.routes(2).match().prefix(), std::string("/reviews.v1.Reviews"));
        // Envoy sees the method as the ":method" header.
        XdsTranslatorOptions envoy;
        envoy.target = DataPlane::Envoy;
        const route::RouteMatch forEnvoy
            = translateToXds(reviewsSet(), envoy).routeConfigurations[0].virtual_hosts(0).routes(1).match();
        QCOMPARE(forEnvoy.headers_size(), 1);
        QCOMPARE(forEnvoy.headers(0).name(), std::string(":method"));
        QCOMPARE(forEnvoy.headers(0).exact_match(), std::string("POST"));

        // No route anywhere uses string_match (13), which gRPC 1.51 NACKs.
        for (const route::Route &r : vh.routes()) {
            for (const route::HeaderMatcher &h : r.match().headers())
                QVERIFY(!h.has_string_match());
        }
    }

    void envoyTargetUsesSegmentPrefixes()
    {
        XdsTranslatorOptions options;
        options.target = DataPlane::Envoy;
        RouteSet set = reviewsSet();
        set.routes[0].rules[1].matches[1].path->value = "/api/v1/";
        const route::VirtualHost vh = translateToXds(set, options).routeConfigurations[0].virtual_hosts(0);
        QCOMPARE(vh.routes(2).match().path_separated_prefix(), std::string("/api/v1"));
    }

    void weightedClustersAlwaysCarryTotalWeight()
    {
        const route::VirtualHost vh = translateToXds(reviewsSet()).routeConfigurations[0].virtual_hosts(0);
        QCOMPARE(vh.routes(0).route().cluster(), std::string("shop/reviews-v2:9080"));
        const route::WeightedCluster &wc = vh.routes(1).route().weighted_clusters();
        QCOMPARE(wc.clusters_size(), 2);
        QCOMPARE(wc.clusters(0).name(), std::string("shop/reviews-v1:9080"));
        QCOMPARE(wc.clusters(0).weight().value(), 7u);
        QCOMPARE(wc.clusters(1).name(), std::string("shop/reviews-v2:9080"));
        QCOMPARE(wc.clusters(1).weight().value(), 3u);
        QVERIFY(wc.has_total_weight());
        QCOMPARE(wc.total_weight().value(), 10u);

        // 100/0 keeps the zero-weight cluster (explicitly 0) and totals 100.
        RouteSet set = reviewsSet();
        set.routes[0].rules[1].backends[0].weight = 100;
        set.routes[0].rules[1].backends[1].weight = 0;
        const route::WeightedCluster wc2
            = translateToXds(set).routeConfigurations[0].virtual_hosts(0).routes(1).route().weighted_clusters();
        QVERIFY(wc2.clusters(1).has_weight());
        QCOMPARE(wc2.clusters(1).weight().value(), 0u);
        QCOMPARE(wc2.total_weight().value(), 100u);
    }

    void timeoutsAndRetries()
    {
        const route::RouteAction a
            = translateToXds(reviewsSet()).routeConfigurations[0].virtual_hosts(0).routes(0).route();
        QCOMPARE(a.timeout().seconds(), int64_t(2));
        QCOMPARE(a.timeout().nanos(), 500'000'000);
        QCOMPARE(a.max_stream_duration().max_stream_duration().seconds(), int64_t(2));
        QCOMPARE(a.max_stream_duration().max_stream_duration().nanos(), 500'000'000);
        QVERIFY(a.has_retry_policy());
        QCOMPARE(a.retry_policy().retry_on(), std::string("unavailable,cancelled"));
        QCOMPARE(a.retry_policy().num_retries().value(), 3u);
        QCOMPARE(a.retry_policy().per_try_timeout().nanos(), 800'000'000);
        QCOMPARE(a.retry_policy().retry_back_off().base_interval().nanos(), 25'000'000);
        QCOMPARE(a.retry_policy().retry_back_off().max_interval().nanos(), 250'000'000);

        // HTTP status codes become retriable-status-codes; no retries, no policy; a
        // backend timeout without retries bounds the single attempt.
        RouteSet set = reviewsSet();
        RouteRule &rule = set.routes[0].rules[0];
        rule.retry->retryOn.clear();
        rule.retry->codes = {503};
        route::RouteAction b = translateToXds(set).routeConfigurations[0].virtual_hosts(0).routes(0).route();
        QCOMPARE(b.retry_policy().retry_on(), std::string("retriable-status-codes"));
        QCOMPARE(b.retry_policy().retriable_status_codes_size(), 1);
        QCOMPARE(b.retry_policy().retriable_status_codes(0), 503u);
        rule.retry.reset();
        rule.backendTimeoutMs = 1000;
        b = translateToXds(set).routeConfigurations[0].virtual_hosts(0).routes(0).route();
        QVERIFY(!b.has_retry_policy());
        QCOMPARE(b.timeout().seconds(), int64_t(1));
        QCOMPARE(b.timeout().nanos(), 0);
    }

    void clustersAreEdsOverAdsNamedAfterBackends()
    {
        const XdsResourceSet out = translateToXds(reviewsSet());
        QCOMPARE(out.clusters.size(), size_t(2));  // reviews-v2 is used twice, listed once
        const auto *c = byName(out.clusters, "shop/reviews-v1:9080");
        QVERIFY(c);
        QCOMPARE(int(c->type()), int(envoy::config::cluster::v3::Cluster::EDS));
        QVERIFY(c->eds_cluster_config().eds_config().has_ads());
        QCOMPARE(int(c->eds_cluster_config().eds_config().resource_api_version()), int(envoy::config::core::v3::V3));
        QCOMPARE(c->eds_cluster_config().service_name(), std::string("shop/reviews-v1:9080"));
        QCOMPARE(int(c->lb_policy()), int(envoy::config::cluster::v3::Cluster::ROUND_ROBIN));
        QCOMPARE(c->connect_timeout().seconds(), int64_t(5));
        QVERIFY(byName(out.clusters, "shop/reviews-v2:9080"));
    }

    void endpointsComeFromSlices()
    {
        const XdsResourceSet out = translateToXds(reviewsSet());
        QCOMPARE(out.loadAssignments.size(), size_t(2));
        const auto &v1 = out.loadAssignments[0];
        QCOMPARE(v1.cluster_name(), std::string("shop/reviews-v1:9080"));
        QCOMPARE(v1.endpoints_size(), 1);
        const auto &loc = v1.endpoints(0);
        QVERIFY(loc.has_locality());
        QCOMPARE(loc.load_balancing_weight().value(), 1u);
        QCOMPARE(loc.lb_endpoints_size(), 2);
        // The slice's own port (the target port) is what is dialled.
        QCOMPARE(loc.lb_endpoints(0).endpoint().address().socket_address().address(), std::string("10.0.0.1"));
        QCOMPARE(loc.lb_endpoints(0).endpoint().address().socket_address().port_value(), 9081u);
        QCOMPARE(int(loc.lb_endpoints(0).health_status()), int(envoy::config::core::v3::HEALTHY));
        QCOMPARE(int(loc.lb_endpoints(1).health_status()), int(envoy::config::core::v3::UNHEALTHY));
        // A slice without a port falls back to the backend reference's.
        const auto &v2 = out.loadAssignments[1];
        QCOMPARE(v2.cluster_name(), std::string("shop/reviews-v2:9080"));
        QCOMPARE(v2.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().port_value(), 9080u);
    }

    void sharedHostnamesAndRoutesWithoutHostnames()
    {
        RouteSet set = reviewsSet();
        HttpRoute second;
        second.name = "reviews-extra";
        second.ns = "shop";
        second.hostnames = {"reviews.shop.test", "*.shop.test"};
        RouteRule rule;
        rule.backends = {backend("reviews-v1", 9080)};
        second.rules = {rule};
        set.routes.push_back(second);
        HttpRoute anyHost;
        anyHost.name = "fallback";
        anyHost.ns = "shop";
        anyHost.rules = {rule};
        set.routes.push_back(anyHost);

        const XdsResourceSet out = translateToXds(set);
        QCOMPARE(out.listeners.size(), size_t(3));
        QCOMPARE(out.listeners[0].name(), std::string("reviews.shop.test"));
        QCOMPARE(out.listeners[1].name(), std::string("*.shop.test"));
        QCOMPARE(out.listeners[2].name(), std::string("fallback.shop"));
        // Rules of both routes, in file order, under the shared hostname.
        QCOMPARE(out.routeConfigurations[0].virtual_hosts(0).routes_size(), 4);
        QCOMPARE(
            out.routeConfigurations[0].virtual_hosts(0).routes(3).name(), std::string("shop/reviews-extra/rules[0]"));
        // A wildcard domain can hold one '*' only (Envoy); a catch-all route matches any authority.
        QCOMPARE(out.routeConfigurations[1].virtual_hosts(0).domains_size(), 1);
        QCOMPARE(out.routeConfigurations[2].virtual_hosts(0).domains_size(), 1);
        QCOMPARE(out.routeConfigurations[2].virtual_hosts(0).domains(0), std::string("*"));
        QCOMPARE(out.routeConfigurations[2].virtual_hosts(0).routes(0).match().prefix(), std::string("/"));
    }

    void whatCannotBeExpressedIsNoted()
    {
        RouteSet set = reviewsSet();
        RouteRule &rule = set.routes[0].rules[1];
        rule.requestHeaders.set = {{"X-Env", "canary"}};
        rule.requestHeaders.remove = {"X-Debug"};
        RouteRule empty;
        empty.name = "nobody";
        set.routes[0].rules.push_back(empty);

        const XdsResourceSet out = translateToXds(set);
        QVERIFY2(hasNote(out, "HTTPRoute shop/reviews rules[1]: proxyless gRPC ignores route header changes"),
            out.notes.empty() ? "no notes" : out.notes.front().c_str());
        const route::VirtualHost &vh = out.routeConfigurations[0].virtual_hosts(0);
        // Header changes are still written, for Envoy.
        QCOMPARE(vh.routes(1).request_headers_to_add_size(), 1);
        QCOMPARE(vh.routes(1).request_headers_to_add(0).header().key(), std::string("x-env"));
        QCOMPARE(int(vh.routes(1).request_headers_to_add(0).append_action()),
            int(envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD));
        QCOMPARE(vh.routes(1).request_headers_to_remove(0), std::string("x-debug"));
        // A rule without backends answers 500 itself (Gateway API).
        QCOMPARE(vh.routes(3).direct_response().status(), 500u);
    }

    // A rule with faults: the listener's HCM runs the fault filter (empty) before the
    // router, and every xDS route of that rule carries its own HTTPFault; other
    // routes and listeners are untouched. The same for both targets.
    void faultFilterBeforeRouterAndPerRouteFault_data()
    {
        QTest::addColumn<int>("target");
        QTest::newRow("xds-grpc") << int(DataPlane::XdsGrpc);
        QTest::newRow("envoy") << int(DataPlane::Envoy);
    }
    void faultFilterBeforeRouterAndPerRouteFault()
    {
        QFETCH(int, target);
        XdsTranslatorOptions options;
        options.target = DataPlane(target);
        RouteSet set = reviewsSet();
        FaultInjection f;
        f.delayMs = 1250;
        f.delayPercent = 12.5;
        f.abortHttpStatus = 503;
        f.abortPercent = 100;
        set.routes[0].rules[1].fault = f;
        HttpRoute other;  // another hostname, no faults
        other.name = "ratings";
        other.ns = "shop";
        other.hostnames = {"ratings.shop.test"};
        other.rules = {set.routes[0].rules[0]};
        set.routes.push_back(other);

        const XdsResourceSet out = translateToXds(set, options);
        QVERIFY2(!hasNote(out, "fault"), out.notes.empty() ? "" : out.notes.front().c_str());
        QCOMPARE(out.listeners.size(), size_t(2));
        const hcm::HttpConnectionManager manager = managerOf(out.listeners[0]);
        QCOMPARE(
            filterNames(manager), (std::vector<std::string> {"envoy.filters.http.fault", "envoy.filters.http.router"}));
        QCOMPARE(manager.http_filters(0).typed_config().type_url(),
            std::string("type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"));
        fault::HTTPFault listenerFault;
        QVERIFY(manager.http_filters(0).typed_config().UnpackTo(&listenerFault));
        QCOMPARE(listenerFault.ByteSizeLong(), size_t(0));  // empty: routes without faults inject nothing
        // The listener without faults keeps the router alone.
        QCOMPARE(filterNames(managerOf(out.listeners[1])), std::vector<std::string> {"envoy.filters.http.router"});

        const route::VirtualHost &vh = out.routeConfigurations[0].virtual_hosts(0);
        QCOMPARE(vh.routes_size(), 3);
        QVERIFY(vh.routes(0).typed_per_filter_config().empty());  // the canary rule has no fault
        for (int i : {1, 2}) {  // both matches of the faulty rule
            const auto &perFilter = vh.routes(i).typed_per_filter_config();
            QCOMPARE(perFilter.size(), size_t(1));
            QVERIFY(perFilter.count("envoy.filters.http.fault"));
            const google::protobuf::Any &any = perFilter.at("envoy.filters.http.fault");
            QCOMPARE(
                any.type_url(), std::string("type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"));
            fault::HTTPFault config;
            QVERIFY(any.UnpackTo(&config));
            QVERIFY(config.delay().has_fixed_delay());
            QCOMPARE(config.delay().fixed_delay().seconds(), int64_t(1));
            QCOMPARE(config.delay().fixed_delay().nanos(), 250'000'000);
            QCOMPARE(config.delay().percentage().numerator(), 125000u);
            QCOMPARE(int(config.delay().percentage().denominator()), int(FractionalPercent::MILLION));
            QCOMPARE(int(config.abort().error_type_case()), int(fault::FaultAbort::kHttpStatus));
            QCOMPARE(config.abort().http_status(), 503u);
            QCOMPARE(config.abort().percentage().numerator(), 100u);
            QCOMPARE(int(config.abort().percentage().denominator()), int(FractionalPercent::HUNDRED));
        }
        QVERIFY(out.routeConfigurations[1].virtual_hosts(0).routes(0).typed_per_filter_config().empty());
    }

    void faultWithOnlyDelayOrAbort()
    {
        RouteSet set = reviewsSet();
        FaultInjection abortOnly;
        abortOnly.abortHttpStatus = 404;
        abortOnly.abortPercent = 0.5;
        set.routes[0].rules[0].fault = abortOnly;
        FaultInjection zeroDelay;
        zeroDelay.delayMs = 0;
        set.routes[0].rules[1].fault = zeroDelay;

        const XdsResourceSet out = translateToXds(set);
        const route::VirtualHost &vh = out.routeConfigurations[0].virtual_hosts(0);
        fault::HTTPFault config;
        QVERIFY(vh.routes(0).typed_per_filter_config().at("envoy.filters.http.fault").UnpackTo(&config));
        QVERIFY(!config.has_delay());
        QCOMPARE(config.abort().http_status(), 404u);
        QCOMPARE(config.abort().percentage().numerator(), 5000u);
        QCOMPARE(int(config.abort().percentage().denominator()), int(FractionalPercent::MILLION));
        // Envoy refuses a zero fixed_delay: nothing is sent for that rule, and it says so.
        QVERIFY(vh.routes(1).typed_per_filter_config().empty());
        QVERIFY(hasNote(out, "HTTPRoute shop/reviews rules[1]: a fault delay of 0 ms delays nothing; delay not sent"));
        QCOMPARE(filterNames(managerOf(out.listeners[0])),
            (std::vector<std::string> {"envoy.filters.http.fault", "envoy.filters.http.router"}));
    }

    void percentagesBecomeFractions_data()
    {
        QTest::addColumn<double>("percent");
        QTest::addColumn<uint>("numerator");
        QTest::addColumn<int>("denominator");
        QTest::newRow("100") << 100.0 << 100u << int(FractionalPercent::HUNDRED);
        QTest::newRow("0") << 0.0 << 0u << int(FractionalPercent::HUNDRED);
        QTest::newRow("5") << 5.0 << 5u << int(FractionalPercent::HUNDRED);
        QTest::newRow("12.5") << 12.5 << 125000u << int(FractionalPercent::MILLION);
        QTest::newRow("0.0001") << 0.0001 << 1u << int(FractionalPercent::MILLION);
        QTest::newRow("33.3333") << 33.3333 << 333333u << int(FractionalPercent::MILLION);
        QTest::newRow("99.99") << 99.99 << 999900u << int(FractionalPercent::MILLION);
        QTest::newRow("above 100 is capped") << 150.0 << 100u << int(FractionalPercent::HUNDRED);
        QTest::newRow("negative is 0") << -3.0 << 0u << int(FractionalPercent::HUNDRED);
    }
    void percentagesBecomeFractions()
    {
        QFETCH(double, percent);
        QFETCH(uint, numerator);
        QFETCH(int, denominator);
        const FractionalPercent f = xdsFractionalPercent(percent);
        QCOMPARE(f.numerator(), numerator);
        QCOMPARE(int(f.denominator()), denominator);
    }

    // Envoy mirrors (a share as runtime_fraction.default_value, all of it without
    // one); proxyless gRPC does not, so it gets neither the policy nor the cluster.
    void mirroringPerTarget()
    {
        RouteSet set = reviewsSet();
        RequestMirror all;
        all.backend = backend("reviews-shadow", 9080);
        set.routes[0].rules[0].mirror = all;
        RequestMirror some = all;
        some.percent = 12.5;
        set.routes[0].rules[1].mirror = some;
        set.endpointSlices.push_back(slice("reviews-shadow-1", "reviews-shadow", 9080, {{"10.0.0.9", true}}));
        set.endpointSlices.back().ns = "shop";

        XdsTranslatorOptions envoyOptions;
        envoyOptions.target = DataPlane::Envoy;
        const XdsResourceSet envoy = translateToXds(set, envoyOptions);
        QVERIFY(!hasNote(envoy, "mirror"));
        const route::VirtualHost &vh = envoy.routeConfigurations[0].virtual_hosts(0);
        QCOMPARE(vh.routes(0).route().request_mirror_policies_size(), 1);
        const auto &full = vh.routes(0).route().request_mirror_policies(0);
        QCOMPARE(full.cluster(), std::string("shop/reviews-shadow:9080"));
        QVERIFY(!full.has_runtime_fraction());  // every request
        for (int i : {1, 2}) {
            QCOMPARE(vh.routes(i).route().request_mirror_policies_size(), 1);
            const auto &share = vh.routes(i).route().request_mirror_policies(0);
            QCOMPARE(share.cluster(), std::string("shop/reviews-shadow:9080"));
            QCOMPARE(share.runtime_fraction().default_value().numerator(), 125000u);
            QCOMPARE(int(share.runtime_fraction().default_value().denominator()), int(FractionalPercent::MILLION));
            QVERIFY(share.runtime_fraction().runtime_key().empty());
        }
        QVERIFY(byName(envoy.clusters, "shop/reviews-shadow:9080"));
        QCOMPARE(envoy.loadAssignments.size(), envoy.clusters.size());

        const XdsResourceSet grpc = translateToXds(set);
        const route::VirtualHost &gvh = grpc.routeConfigurations[0].virtual_hosts(0);
        for (int i : {0, 1, 2})
            QCOMPARE(gvh.routes(i).route().request_mirror_policies_size(), 0);
        QVERIFY(!byName(grpc.clusters, "shop/reviews-shadow:9080"));
        QVERIFY(hasNote(grpc, "HTTPRoute shop/reviews canary: proxyless gRPC does not mirror requests"));
        QVERIFY(hasNote(grpc, "HTTPRoute shop/reviews rules[1]: proxyless gRPC does not mirror requests"));
    }

    void typeNames()
    {
        QCOMPARE(xdsTypeShortName(kXdsListenerType), std::string("LDS"));
        QCOMPARE(xdsTypeShortName(kXdsRouteConfigurationType), std::string("RDS"));
        QCOMPARE(xdsTypeShortName(kXdsClusterType), std::string("CDS"));
        QCOMPARE(xdsTypeShortName(kXdsClusterLoadAssignmentType), std::string("EDS"));
        // The Any type URLs are what the generated messages pack to.
        google::protobuf::Any any;
        any.PackFrom(envoy::config::route::v3::RouteConfiguration());
        QCOMPARE(any.type_url(), std::string(kXdsRouteConfigurationType));
        any.PackFrom(envoy::config::endpoint::v3::ClusterLoadAssignment());
        QCOMPARE(any.type_url(), std::string(kXdsClusterLoadAssignmentType));
    }
};

QTEST_GUILESS_MAIN(TestXdsTranslator)
#include "tst_xdstranslator.moc"

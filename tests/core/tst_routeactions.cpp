// The routing rules behind the graph's service actions, without a window: which
// backends and hostnames serve a node the graph names, which rule is picked for it,
// which pair of backends a traffic shift starts with, and what a new header rule or
// default route holds.

#include "routing/routeactions.h"

#include <QtTest>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

BackendRef backend(const std::string &name, int weight = 1, int port = 9080, const std::string &ns = {})
{
    BackendRef b;
    b.name = name;
    b.ns = ns;
    b.port = port;
    b.weight = weight;
    return b;
}

RouteRule rule(const std::string &name, std::vector<BackendRef> backends)
{
    RouteRule r;
    r.name = name;
    r.backends = std::move(backends);
    return r;
}

// Bookinfo's reviews: a single-backend rule for one user first, then the 80/20 canary
// split; ratings is reached by hostname only (its backend carries no version suffix).
RouteSet bookinfo()
{
    RouteSet set;
    HttpRoute reviews;
    reviews.name = "reviews";
    reviews.ns = "bookinfo";
    reviews.hostnames = {"reviews.bookinfo.svc.cluster.local"};
    RouteRule jason = rule("jason", {backend("reviews-v2")});
    RouteMatch m;
    m.headers.push_back({"end-user", StringMatchType::Exact, "jason"});
    jason.matches.push_back(m);
    reviews.rules.push_back(jason);
    RouteRule canary = rule("canary", {backend("reviews-v1", 80), backend("reviews-v2", 20)});
    canary.timeoutMs = 1500;
    reviews.rules.push_back(canary);
    set.routes.push_back(reviews);

    HttpRoute ratings;
    ratings.name = "ratings";
    ratings.ns = "bookinfo";
    ratings.hostnames = {"ratings", "*.example.com"};
    ratings.rules.push_back(rule({}, {backend("ratings-stable")}));
    ratings.rules.push_back(rule("mirror", {backend("ratings-stable")}));
    set.routes.push_back(ratings);
    return set;
}

NodeRef service(std::string_view id)
{
    const std::optional<NodeRef> s = serviceOf(id);
    return s ? *s : NodeRef {};
}

}  // namespace

class TestRouteActions : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void serviceIds();
    void versionSuffix();
    void backendMatching();
    void hostnameMatching();
    void bestRule();
    void routingOfService();
    void routedServiceNames();
    void shiftPair();
    void uniqueNames();
    void headerRoute();
    void faultDefaults();
    void defaultRoute();
    void percentages();
    void shiftToShares();
    void headerRouteChoice();
    void faultWholeRule();
    void faultOneBackend();
};

void TestRouteActions::serviceIds()
{
    const std::optional<NodeRef> s = serviceOf("bookinfo/reviews@v2");
    QVERIFY(s);
    QCOMPARE(s->ns, std::string("bookinfo"));
    QCOMPARE(s->name, std::string("reviews"));
    QCOMPARE(s->version, std::string("v2"));

    const std::optional<NodeRef> padded = serviceOf("  reviews\t");
    QVERIFY(padded);
    QCOMPARE(padded->name, std::string("reviews"));
    QVERIFY(padded->ns.empty());
    QVERIFY(padded->version.empty());

    // The graph's other nodes are not services, even where a backend could bear the name.
    QVERIFY(!serviceOf("external"));
    QVERIFY(!serviceOf("other"));
    QVERIFY(!serviceOf("ext:api.stripe.com"));
    QVERIFY(!serviceOf(""));
    QVERIFY(!serviceOf("bookinfo/"));
}

void TestRouteActions::versionSuffix()
{
    QCOMPARE(versionlessName("reviews-v2"), std::string("reviews"));
    QCOMPARE(versionlessName("my-shop-v10beta"), std::string("my-shop"));
    QCOMPARE(versionlessName("reviews-canary"), std::string());
    QCOMPARE(versionlessName("reviews-V2"), std::string());
    QCOMPARE(versionlessName("reviews-v"), std::string());
    QCOMPARE(versionlessName("reviews-vx"), std::string());
    QCOMPARE(versionlessName("reviews-v2-"), std::string());
    QCOMPARE(versionlessName("reviews-v2_a"), std::string());
    QCOMPARE(versionlessName("-v1"), std::string());
    QCOMPARE(versionlessName("reviews"), std::string());
}

void TestRouteActions::backendMatching()
{
    const std::string ns = "bookinfo";
    // A version picks the backend named name-version.
    QVERIFY(backendMatches(backend("reviews-v2"), ns, service("reviews@v2")));
    QVERIFY(backendMatches(backend("reviews-v2"), ns, service("bookinfo/reviews@v2")));
    QVERIFY(!backendMatches(backend("reviews-v1"), ns, service("bookinfo/reviews@v2")));
    // A backend bearing the plain name serves every version of it.
    QVERIFY(backendMatches(backend("reviews"), ns, service("bookinfo/reviews@v2")));
    // Without a version, any versioned backend of the service, but not lookalikes.
    QVERIFY(backendMatches(backend("reviews-v1"), ns, service("reviews")));
    QVERIFY(!backendMatches(backend("reviews-canary"), ns, service("reviews")));
    QVERIFY(!backendMatches(backend("reviewsx-v1"), ns, service("reviews")));
    // Namespaces: the backend's own, else the route's, must be the one named.
    QVERIFY(!backendMatches(backend("reviews-v1"), ns, service("shop/reviews")));
    QVERIFY(!backendMatches(backend("reviews-v1"), ns, service("shop/reviews@v1")));
    QVERIFY(backendMatches(backend("reviews-v1", 1, 9080, "shop"), ns, service("shop/reviews@v1")));
    QVERIFY(!backendMatches(backend("reviews-v1", 1, 9080, "shop"), ns, service("bookinfo/reviews@v1")));
}

void TestRouteActions::hostnameMatching()
{
    const RouteSet set = bookinfo();
    const HttpRoute &reviews = set.routes[0];
    const HttpRoute &ratings = set.routes[1];
    QVERIFY(hostnameMatches(reviews, service("reviews")));
    QVERIFY(hostnameMatches(reviews, service("bookinfo/reviews@v3")));
    QVERIFY(!hostnameMatches(reviews, service("shop/reviews")));
    QVERIFY(!hostnameMatches(reviews, service("review")));  // a prefix is not the name
    QVERIFY(hostnameMatches(ratings, service("bookinfo/ratings")));
    QVERIFY(!hostnameMatches(ratings, service("ratingsx")));
    QVERIFY(!hostnameMatches(ratings, service("example")));
}

void TestRouteActions::bestRule()
{
    const RouteSet set = bookinfo();

    // The split rule wins over the earlier single-backend rule, for either version.
    for (const char *id : {"bookinfo/reviews@v2", "bookinfo/reviews@v1", "reviews", "reviews-v2"}) {
        const std::optional<RuleLocation> at = findRuleFor(set, id);
        QVERIFY2(at, id);
        QCOMPARE(at->route, 0);
        QCOMPARE(at->rule, 1);
    }

    // Reached by hostname only: the first of equally good rules.
    const std::optional<RuleLocation> ratings = findRuleFor(set, "bookinfo/ratings@v1");
    QVERIFY(ratings);
    QCOMPARE(ratings->route, 1);
    QCOMPARE(ratings->rule, 0);

    // More backends serving the service win over fewer.
    RouteSet more = set;
    more.routes[0].rules.push_back(rule("all", {backend("reviews-v1"), backend("reviews-v2"), backend("reviews-v3")}));
    const std::optional<RuleLocation> all = findRuleFor(more, "reviews");
    QVERIFY(all);
    QCOMPARE(all->rule, 2);
    // ... but for one version the first split still wins the tie.
    QCOMPARE(findRuleFor(more, "reviews@v2")->rule, 1);

    // Between equal rules, one whose route's hostname is the service wins, wherever it is.
    RouteSet hostLast = set;
    HttpRoute split;
    split.name = "reviews-split";
    split.ns = "bookinfo";
    split.rules.push_back(hostLast.routes[0].rules[1]);
    hostLast.routes.insert(hostLast.routes.begin(), split);
    const std::optional<RuleLocation> byHost = findRuleFor(hostLast, "bookinfo/reviews@v2");
    QVERIFY(byHost);
    QCOMPARE(byHost->route, 1);
    QCOMPARE(byHost->rule, 1);
    hostLast.routes[1].hostnames.clear();
    QCOMPARE(findRuleFor(hostLast, "bookinfo/reviews@v2")->route, 0);

    QVERIFY(!findRuleFor(set, "shop/reviews"));
    QVERIFY(!findRuleFor(set, "bookinfo/details"));
    // A version no backend has is still reached by the route's hostname.
    const std::optional<RuleLocation> v9 = findRuleFor(set, "reviews@v9");
    QVERIFY(v9);
    QCOMPARE(v9->route, 0);
    QCOMPARE(v9->rule, 1);
    QVERIFY(routesService(set, "bookinfo/reviews@v2"));
    QVERIFY(!routesService(set, "bookinfo/productpage@v1"));

    // Non-service nodes never pick a rule, even a backend with that name.
    RouteSet odd = set;
    odd.routes[0].rules.push_back(rule("odd", {backend("external")}));
    QVERIFY(!routesService(odd, "external"));
    QVERIFY(!routesService(RouteSet {}, "reviews"));
}

void TestRouteActions::routingOfService()
{
    const RouteSet set = bookinfo();

    // Hostname match: every rule of the route.
    std::vector<ServiceRouting> r = routingFor(set, "bookinfo/reviews");
    QCOMPARE(r.size(), size_t(1));
    QCOMPARE(r[0].route, 0);
    QCOMPARE(r[0].rules, (std::vector<int> {0, 1}));

    // A route whose hostname is not the service lists only rules with a serving backend.
    RouteSet gateway = set;
    HttpRoute edge;
    edge.name = "edge";
    edge.ns = "bookinfo";
    edge.hostnames = {"shop.example.com"};
    edge.rules.push_back(rule("static", {backend("static-v1")}));
    edge.rules.push_back(rule("reviews-v1-only", {backend("reviews-v1")}));
    edge.rules.push_back(rule("reviews-v2-only", {backend("reviews-v2")}));
    gateway.routes.push_back(edge);
    r = routingFor(gateway, "bookinfo/reviews@v1");
    QCOMPARE(r.size(), size_t(2));
    QCOMPARE(r[0].route, 0);
    QCOMPARE(r[1].route, 2);
    QCOMPARE(r[1].rules, std::vector<int> {1});

    QVERIFY(routingFor(set, "bookinfo/details").empty());
    QVERIFY(routingFor(set, "shop/reviews").empty());
    QVERIFY(routingFor(set, "external").empty());
}

void TestRouteActions::routedServiceNames()
{
    RouteSet set = bookinfo();
    set.routes[0].rules[0].backends.push_back(backend("details-v1", 0, 9080, "shop"));
    const std::vector<std::string> routed = routedServices(set);
    const std::vector<std::string> expected = {"bookinfo/ratings", "bookinfo/ratings-stable", "bookinfo/reviews",
        "bookinfo/reviews-v1", "bookinfo/reviews-v2", "shop/details", "shop/details-v1"};
    QCOMPARE(routed, expected);  // sorted, each once; no dotted or wildcard hostnames
}

void TestRouteActions::shiftPair()
{
    const RouteSet set = bookinfo();
    const HttpRoute &reviews = set.routes[0];
    const RouteRule &canary = reviews.rules[1];

    // Clicking the canary (the smaller share): traffic moves from the main backend to it.
    std::optional<ShiftPair> p = shiftPairFor(reviews, canary, "bookinfo/reviews@v2");
    QVERIFY(p);
    QCOMPARE(p->from, std::string("reviews-v1"));
    QCOMPARE(p->to, std::string("reviews-v2"));

    // Clicking the main backend: traffic moves away from it.
    p = shiftPairFor(reviews, canary, "bookinfo/reviews@v1");
    QVERIFY(p);
    QCOMPARE(p->from, std::string("reviews-v1"));
    QCOMPARE(p->to, std::string("reviews-v2"));

    // Three backends: the other side is the heaviest of the rest.
    const RouteRule three
        = rule("three", {backend("reviews-v1", 10), backend("reviews-v2", 60), backend("reviews-v3", 30)});
    p = shiftPairFor(reviews, three, "reviews@v3");
    QCOMPARE(p->from, std::string("reviews-v2"));
    QCOMPARE(p->to, std::string("reviews-v3"));
    p = shiftPairFor(reviews, three, "reviews@v2");
    QCOMPARE(p->from, std::string("reviews-v2"));
    QCOMPARE(p->to, std::string("reviews-v3"));

    // Exactly half is not the smaller share: it moves away.
    const RouteRule even = rule("even", {backend("reviews-v1", 50), backend("reviews-v2", 50)});
    p = shiftPairFor(reviews, even, "reviews@v2");
    QCOMPARE(p->from, std::string("reviews-v2"));
    QCOMPARE(p->to, std::string("reviews-v1"));
    // No weight at all: away from the clicked one too.
    const RouteRule none = rule("none", {backend("reviews-v1", 0), backend("reviews-v2", 0)});
    p = shiftPairFor(reviews, none, "reviews@v2");
    QCOMPARE(p->from, std::string("reviews-v2"));
    QCOMPARE(p->to, std::string("reviews-v1"));

    // One backend, or none serving the service: the first, with nothing to shift to yet.
    const RouteRule single = rule("single", {backend("ratings-v1")});
    p = shiftPairFor(reviews, single, "ratings@v1");
    QVERIFY(p);
    QCOMPARE(p->from, std::string("ratings-v1"));
    QVERIFY(p->to.empty());
    p = shiftPairFor(reviews, canary, "bookinfo/details");
    QCOMPARE(p->from, std::string("reviews-v1"));
    QVERIFY(p->to.empty());

    QVERIFY(!shiftPairFor(reviews, rule("empty", {}), "reviews"));
}

void TestRouteActions::uniqueNames()
{
    HttpRoute r = bookinfo().routes[0];
    QCOMPARE(uniqueRuleName(r, "header-canary"), std::string("header-canary"));
    QCOMPARE(uniqueRuleName(r, "canary"), std::string("canary-2"));
    r.rules.push_back(rule("header-canary", {}));
    QCOMPARE(uniqueRuleName(r, "header-canary"), std::string("header-canary-2"));
    r.rules.push_back(rule("header-canary-2", {}));
    QCOMPARE(uniqueRuleName(r, "header-canary"), std::string("header-canary-3"));
}

void TestRouteActions::headerRoute()
{
    RouteSet set = bookinfo();
    HttpRoute &reviews = set.routes[0];
    const RouteRule &canary = reviews.rules[1];

    // A plain service name: the lightest backend serving it, with the whole share.
    RouteRule hr = headerRouteFor(reviews, canary, "bookinfo/reviews");
    QCOMPARE(hr.name, std::string("header-canary"));
    QCOMPARE(hr.matches.size(), size_t(1));
    QVERIFY(hr.matches[0].path);
    QVERIFY(hr.matches[0].path->type == PathMatchType::PathPrefix);
    QCOMPARE(hr.matches[0].path->value, std::string("/"));
    QCOMPARE(hr.matches[0].headers.size(), size_t(1));
    QCOMPARE(hr.matches[0].headers[0].name, std::string("x-canary"));
    QVERIFY(hr.matches[0].headers[0].type == StringMatchType::Exact);
    QCOMPARE(hr.matches[0].headers[0].value, std::string("true"));
    QCOMPARE(hr.backends.size(), size_t(1));
    QCOMPARE(hr.backends[0].name, std::string("reviews-v2"));
    QCOMPARE(hr.backends[0].weight, 1);
    QCOMPARE(hr.backends[0].port, 9080);
    QCOMPARE(hr.timeoutMs, std::optional<int64_t>(1500));

    // The version the graph named, even when it is the heavy one.
    hr = headerRouteFor(reviews, canary, "bookinfo/reviews@v1");
    QCOMPARE(hr.backends[0].name, std::string("reviews-v1"));
    QCOMPARE(hr.backends[0].weight, 1);

    // A second header route gets its own name.
    reviews.rules.insert(reviews.rules.begin(), hr);
    hr = headerRouteFor(reviews, reviews.rules[2], "reviews", {"header-canary", "x-beta", "1"});
    QCOMPARE(hr.name, std::string("header-canary-2"));
    QCOMPARE(hr.matches[0].headers[0].name, std::string("x-beta"));
    QCOMPARE(hr.matches[0].headers[0].value, std::string("1"));

    // Nothing serving the service: the rule's first backend; no backends: the service itself.
    hr = headerRouteFor(reviews, rule("other", {backend("static-v1", 5), backend("static-v2", 1)}), "reviews");
    QCOMPARE(hr.backends[0].name, std::string("static-v1"));
    hr = headerRouteFor(reviews, rule("empty", {}), "bookinfo/details@v1");
    QCOMPARE(hr.backends.size(), size_t(1));
    QCOMPARE(hr.backends[0].name, std::string("details"));
    QCOMPARE(hr.backends[0].port, 0);
    QVERIFY(!hr.timeoutMs);
}

void TestRouteActions::faultDefaults()
{
    const FaultInjection f = starterFault();
    QCOMPARE(f.delayMs, std::optional<int64_t>(1000));
    QCOMPARE(f.delayPercent, 10.0);
    QVERIFY(!f.abortHttpStatus);
}

void TestRouteActions::defaultRoute()
{
    RouteSet set = bookinfo();
    EndpointSlice elsewhere;
    elsewhere.name = "details-v1-shop";
    elsewhere.ns = "shop";
    elsewhere.serviceName = "details-v1";
    elsewhere.port = 1234;
    set.endpointSlices.push_back(elsewhere);
    EndpointSlice slice;
    slice.name = "details-v1-abcde";
    slice.ns = "bookinfo";
    slice.serviceName = "details-v1";
    slice.port = 9080;
    set.endpointSlices.push_back(slice);

    std::optional<HttpRoute> r = defaultRouteFor(set, "bookinfo/details@v1");
    QVERIFY(r);
    QCOMPARE(r->name, std::string("details"));
    QCOMPARE(r->ns, std::string("bookinfo"));
    QCOMPARE(r->hostnames, std::vector<std::string> {"details"});
    QCOMPARE(r->rules.size(), size_t(1));
    QCOMPARE(r->rules[0].name, std::string("default"));
    QVERIFY(r->rules[0].matches.empty());
    QCOMPARE(r->rules[0].backends.size(), size_t(1));
    QCOMPARE(r->rules[0].backends[0].name, std::string("details-v1"));
    QCOMPARE(r->rules[0].backends[0].port, 9080);  // the slice in the route's namespace
    QCOMPARE(r->rules[0].backends[0].weight, 1);
    // Once added, the service is routed.
    set.routes.push_back(*r);
    QVERIFY(routesService(set, "bookinfo/details@v1"));

    // No namespace in the id: "default", where no slice serves it, so no port.
    r = defaultRouteFor(set, "details@v1");
    QVERIFY(r);
    QCOMPARE(r->ns, std::string("default"));
    QCOMPARE(r->rules[0].backends[0].name, std::string("details-v1"));
    QCOMPARE(r->rules[0].backends[0].port, 0);

    // No version: the backend is the service itself.
    r = defaultRouteFor(set, "shop/payment");
    QCOMPARE(r->rules[0].backends[0].name, std::string("payment"));

    QVERIFY(!defaultRouteFor(set, "external"));
    QVERIFY(!defaultRouteFor(set, ""));
}

void TestRouteActions::percentages()
{
    const RouteSet set = bookinfo();
    QCOMPARE(percentagesOf(set.routes[0].rules[1]), (std::vector<int> {80, 20}));
    // Thirds round so they add up to 100; the tie goes to the first.
    QCOMPARE(
        percentagesOf(rule("r", {backend("a", 1), backend("b", 1), backend("c", 1)})), (std::vector<int> {34, 33, 33}));
    QCOMPARE(percentagesOf(rule("r", {backend("a", 0), backend("b", 0)})), (std::vector<int> {50, 50}));
    QCOMPARE(percentagesOf(rule("r", {backend("a", 2), backend("b", 998)})), (std::vector<int> {0, 100}));
    QCOMPARE(evenSplit(3), (std::vector<int> {34, 33, 33}));
    QCOMPARE(evenSplit(1), (std::vector<int> {100}));

    // One share moves; the rest take up the difference in proportion, still 100 in all.
    QCOMPARE(rebalanced({80, 20}, 1, 51), (std::vector<int> {49, 51}));
    QCOMPARE(rebalanced({50, 30, 20}, 0, 0), (std::vector<int> {0, 60, 40}));
    QCOMPARE(rebalanced({100, 0, 0}, 0, 40), (std::vector<int> {40, 30, 30}));
    QCOMPARE(rebalanced({60, 40}, 0, 150), (std::vector<int> {100, 0}));
    QCOMPARE(rebalanced({60, 40}, 5, 10), (std::vector<int> {60, 40}));

    QVERIFY(checkShares({{"a", 60}, {"b", 40}}).empty());
    QCOMPARE(checkShares({{"a", 60}, {"b", 30}}), std::string("the shares add up to 90 %, not 100 %"));
    QVERIFY(!checkShares({{"a", 120}, {"b", -20}}).empty());
    QVERIFY(!checkShares({}).empty());
}

void TestRouteActions::shiftToShares()
{
    RouteSet set = bookinfo();
    EndpointSlice slice;
    slice.ns = "bookinfo";
    slice.serviceName = "reviews-v3";
    slice.port = 9443;
    set.endpointSlices.push_back(slice);
    const RuleLocation canary {0, 1};

    const RouteRule &before = set.routes[0].rules[1];
    QCOMPARE(describeShift(before, {{"reviews-v1", 49}, {"reviews-v2", 51}}),
        std::string("reviews-v1 80 % \u2192 49 %, reviews-v2 20 % \u2192 51 %"));
    QCOMPARE(describeShift(before, {{"reviews-v1", 80}, {"reviews-v2", 20}}),
        std::string("reviews-v1 80 %, reviews-v2 20 %"));

    RouteEdit e = shiftWeights(set, canary, {{"reviews-v1", 49}, {"reviews-v2", 51}});
    QVERIFY2(e.ok(), e.error.c_str());
    QCOMPARE(e.at.route, 0);
    QCOMPARE(e.at.rule, 1);
    QCOMPARE(e.set.routes[0].rules[1].backends[0].weight, 49);
    QCOMPARE(e.set.routes[0].rules[1].backends[1].weight, 51);
    // Nothing else moved: the jason rule and ratings are as they were.
    QVERIFY(e.set.routes[0].rules[0] == set.routes[0].rules[0]);
    QVERIFY(e.set.routes[1] == set.routes[1]);

    // A backend the rule lacks is added with its slice's port; an unnamed one drops to 0.
    e = shiftWeights(set, canary, {{"reviews-v1", 90}, {"reviews-v3", 10}});
    QVERIFY2(e.ok(), e.error.c_str());
    const RouteRule &r = e.set.routes[0].rules[1];
    QCOMPARE(r.backends.size(), size_t(3));
    QCOMPARE(r.backends[1].weight, 0);
    QCOMPARE(r.backends[2].name, std::string("reviews-v3"));
    QCOMPARE(r.backends[2].port, 9443);
    QCOMPARE(r.backends[2].weight, 10);
    QCOMPARE(describeShift(before, {{"reviews-v1", 90}, {"reviews-v3", 10}}),
        std::string("reviews-v1 80 % \u2192 90 %, reviews-v2 20 % \u2192 0 %, reviews-v3 0 % \u2192 10 %"));

    // Refused: not 100 %, or no such rule. The set is not returned.
    e = shiftWeights(set, canary, {{"reviews-v1", 50}, {"reviews-v2", 20}});
    QVERIFY(!e.ok());
    QVERIFY(e.set.routes.empty());
    QVERIFY(!shiftWeights(set, RuleLocation {0, 7}, {{"reviews-v1", 100}}).ok());
}

void TestRouteActions::headerRouteChoice()
{
    const RouteSet set = bookinfo();
    HeaderRouteChoice c;
    c.backend = "reviews-v2";
    QVERIFY(checkHeaderRoute(c).empty());

    RouteEdit e = addHeaderRoute(set, RuleLocation {0, 1}, c);
    QVERIFY2(e.ok(), e.error.c_str());
    const std::vector<RouteRule> &rules = e.set.routes[0].rules;
    QCOMPARE(rules.size(), size_t(3));
    // Just before the carrying rule (after jason), which keeps its place and content.
    QCOMPARE(e.at.rule, 1);
    QCOMPARE(rules[0].name, std::string("jason"));
    QCOMPARE(rules[1].name, std::string("header-canary"));
    QVERIFY(rules[2] == set.routes[0].rules[1]);
    QCOMPARE(rules[1].backends.size(), size_t(1));
    QCOMPARE(rules[1].backends[0].name, std::string("reviews-v2"));
    QCOMPARE(rules[1].backends[0].port, 9080);
    QCOMPARE(rules[1].timeoutMs, std::optional<int64_t>(1500));
    QCOMPARE(rules[1].matches.size(), size_t(1));
    QCOMPARE(rules[1].matches[0].headers.size(), size_t(1));
    QCOMPARE(rules[1].matches[0].headers[0].name, std::string("x-canary"));
    QCOMPARE(rules[1].matches[0].headers[0].value, std::string("true"));

    // Before jason: the new rule keeps jason's header match and adds its own, a regex.
    c.header = "x-user-group";
    c.type = StringMatchType::RegularExpression;
    c.value = "beta|internal";
    e = addHeaderRoute(set, RuleLocation {0, 0}, c);
    QVERIFY2(e.ok(), e.error.c_str());
    const RouteRule &first = e.set.routes[0].rules[0];
    QCOMPARE(first.matches[0].headers.size(), size_t(2));
    QCOMPARE(first.matches[0].headers[0].name, std::string("end-user"));
    QCOMPARE(first.matches[0].headers[1].type, StringMatchType::RegularExpression);

    // Refused with a specific reason.
    c.value = "(beta";
    QVERIFY(
        QString::fromStdString(checkHeaderRoute(c)).startsWith(QStringLiteral("regex does not compile under RE2: ")));
    QVERIFY(!addHeaderRoute(set, RuleLocation {0, 1}, c).ok());
    c.type = StringMatchType::Exact;  // the same text is fine as an exact value
    QVERIFY(checkHeaderRoute(c).empty());
    c.header = "x canary";
    QVERIFY(QString::fromStdString(checkHeaderRoute(c)).contains(QStringLiteral("not a valid header name")));
    c.header = "x-canary";
    c.value.clear();
    QCOMPARE(checkHeaderRoute(c), std::string("the header value is empty"));
    c.value = "1";
    c.backend.clear();
    QCOMPARE(checkHeaderRoute(c), std::string("no backend chosen"));
}

void TestRouteActions::faultWholeRule()
{
    const RouteSet set = bookinfo();
    FaultChoice c;
    c.delayMs = 750;
    c.percent = 25;
    RouteEdit e = injectFault(set, RuleLocation {0, 1}, c);
    QVERIFY2(e.ok(), e.error.c_str());
    QCOMPARE(e.set.routes[0].rules.size(), size_t(2));
    const RouteRule &r = e.set.routes[0].rules[1];
    QVERIFY(r.fault);
    QCOMPARE(r.fault->delayMs, std::optional<int64_t>(750));
    QCOMPARE(r.fault->delayPercent, 25.0);
    QVERIFY(!r.fault->abortHttpStatus);
    QVERIFY(r.backends == set.routes[0].rules[1].backends);

    c.abort = true;
    c.httpStatus = 503;
    e = injectFault(set, RuleLocation {0, 1}, c);
    QCOMPARE(e.set.routes[0].rules[1].fault->abortHttpStatus, std::optional<int>(503));
    QVERIFY(!e.set.routes[0].rules[1].fault->delayMs);

    c.httpStatus = 700;
    QVERIFY(QString::fromStdString(injectFault(set, RuleLocation {0, 1}, c).error).contains(QStringLiteral("200-599")));
    c.httpStatus = 503;
    c.percent = 0;
    QVERIFY(!injectFault(set, RuleLocation {0, 1}, c).ok());
    c.abort = false;
    c.percent = 10;
    c.delayMs = 0;
    QVERIFY(!injectFault(set, RuleLocation {0, 1}, c).ok());
}

void TestRouteActions::faultOneBackend()
{
    const RouteSet set = bookinfo();
    FaultChoice c;
    c.scope = FaultScope::OneBackend;
    c.backend = "reviews-v2";
    c.abort = true;
    c.httpStatus = 500;
    c.percent = 50;
    QVERIFY(faultNeedsOwnRule(set.routes[0].rules[1], "reviews-v2"));
    QVERIFY(!faultNeedsOwnRule(set.routes[0].rules[0], "reviews-v2"));

    RouteEdit e = injectFault(set, RuleLocation {0, 1}, c);
    QVERIFY2(e.ok(), e.error.c_str());
    const std::vector<RouteRule> &rules = e.set.routes[0].rules;
    QCOMPARE(rules.size(), size_t(3));
    // The split rule, reviews-v1's only way in, is untouched: no fault, 80/20 as before.
    QVERIFY(rules[2] == set.routes[0].rules[1]);
    QVERIFY(!rules[2].fault);
    // The new rule, before it: tagged requests only, to reviews-v2 only, faulted.
    QCOMPARE(e.at.rule, 1);
    const RouteRule &f = rules[1];
    QCOMPARE(f.name, std::string("fault"));
    QCOMPARE(f.backends.size(), size_t(1));
    QCOMPARE(f.backends[0].name, std::string("reviews-v2"));
    QVERIFY(f.fault);
    QCOMPARE(f.fault->abortHttpStatus, std::optional<int>(500));
    QCOMPARE(f.fault->abortPercent, 50.0);
    QCOMPARE(f.matches.size(), size_t(1));
    QCOMPARE(f.matches[0].headers.size(), size_t(1));
    QCOMPARE(f.matches[0].headers[0].name, std::string("x-fault"));
    QCOMPARE(f.timeoutMs, std::optional<int64_t>(1500));
    // No other rule got a fault.
    for (size_t i = 0; i < rules.size(); ++i)
        QCOMPARE(bool(rules[i].fault), i == 1);

    // A backend that is the rule's only one: the rule's own fault is already only its traffic.
    e = injectFault(set, RuleLocation {0, 0}, c);
    QVERIFY2(e.ok(), e.error.c_str());
    QCOMPARE(e.set.routes[0].rules.size(), size_t(2));
    QVERIFY(e.set.routes[0].rules[0].fault);

    // The tag is checked like a header route's; a backend the rule lacks is refused.
    c.headerType = StringMatchType::RegularExpression;
    c.headerValue = "[";
    QVERIFY(QString::fromStdString(injectFault(set, RuleLocation {0, 1}, c).error)
                .startsWith(QStringLiteral("regex does not compile under RE2")));
    c.headerType = StringMatchType::Exact;
    c.backend = "ratings-stable";
    QVERIFY(!injectFault(set, RuleLocation {0, 1}, c).ok());
}

QTEST_GUILESS_MAIN(TestRouteActions)
#include "tst_routeactions.moc"

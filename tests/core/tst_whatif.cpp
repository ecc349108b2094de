// What-if on recorded traffic: spans and access-log requests become requests once
// each (a CLIENT span and its SERVER child are one request; an access log that a span
// already tells is not counted again), identical requests fold together, and the
// report counts per rule and backend before and after, lists the moved requests
// (capped) and writes the JSON docs/routes.md describes.

#include "routing/whatif.h"
#include "routing/yaml/routeyaml.h"

#include <QJsonArray>
#include <QtTest>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

RouteSet loadFile(const char *name)
{
    const std::string path = std::string(MESHSCOPE_TEST_DATA_DIR) + "/routes-check/" + name;
    RouteLoadResult r = loadRouteFile(path);
    if (!r.ok())
        qFatal("%s does not load", path.c_str());
    return r.set;
}

TraceId trace(uint8_t n)
{
    TraceId id {};
    id[0] = n;
    return id;
}

// A gRPC call to echo.test as the test peers report it: no path, rpc.* attributes.
Span grpcSpan(SpanKind kind, uint8_t traceN, uint64_t id, uint64_t parent, const char *canary = nullptr)
{
    Span s;
    s.traceId = trace(traceN);
    s.spanId = id;
    s.parentSpanId = parent;
    s.kind = kind;
    s.protocol = Protocol::Grpc;
    s.authority = "echo.test";
    s.attributes = {{"rpc.system", "grpc"}, {"rpc.service", "meshscope.test.Echo"}, {"rpc.method", "Call"}};
    if (canary)
        s.attributes.push_back({"rpc.grpc.request.metadata.x-canary", canary});
    return s;
}

ObservedRequest accessLog(const char *traceHex, SpanKind kind, const char *path = "/meshscope.test.Echo/Call")
{
    ObservedRequest o;
    o.event.traceId = traceHex;
    o.event.spanKind = kind;
    o.event.method = "POST";
    o.event.path = path;
    o.event.authority = "echo.test";
    o.event.protocol = Protocol::Grpc;
    return o;
}

std::string hex(uint8_t n) { return traceIdHex(trace(n)); }

const WhatIfRow *row(const WhatIfReport &r, const std::string &rule, const std::string &backend)
{
    for (const WhatIfRow &row : r.rows) {
        if ((row.ruleName == rule || '#' + std::to_string(row.rule) == rule) && row.backend == backend)
            return &row;
    }
    return nullptr;
}

}  // namespace

class TestWhatIf : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void httpSpanBecomesARequest();
    void grpcSpanPathFromRpcAttributes();
    void spansThatAreNoRequest();
    void clientAndServerHalvesCountOnce();
    void accessLogsToldByASpanAreNotCountedAgain();
    void distinctRequestsKeepOnlyHeadersRulesRead();
    void countsBeforeAndAfter();
    void movedListIsCapped();
    void jsonShape();
    void textTable();
};

void TestWhatIf::httpSpanBecomesARequest()
{
    Span s;
    s.kind = SpanKind::Client;
    s.method = "GET";
    s.path = "/cart";
    s.authority = "shop.test:8080";
    s.attributes = {{"url.query", "page=2"}, {"http.request.header.X-Canary", "[\"1\",\"2\"]"},
        {"http.request.header.x-user", "qa-1"}, {"http.request.header.x-res", "r", true}};
    const auto r = requestOfSpan(s);
    QVERIFY(r);
    QCOMPARE(r->host, std::string("shop.test:8080"));
    QCOMPARE(r->path, std::string("/cart?page=2"));
    QCOMPARE(r->method, std::string("GET"));
    // Names lower-cased, an array by its first element, resource attributes ignored.
    QCOMPARE(r->headers, (std::map<std::string, std::string> {{"x-canary", "1"}, {"x-user", "qa-1"}}));
}

void TestWhatIf::grpcSpanPathFromRpcAttributes()
{
    const auto r = requestOfSpan(grpcSpan(SpanKind::Client, 1, 1, 0, "1"));
    QVERIFY(r);
    QCOMPARE(r->path, std::string("/meshscope.test.Echo/Call"));
    QCOMPARE(r->method, std::string("POST"));
    QCOMPARE(r->headers.at("x-canary"), std::string("1"));
    Span peerOnly = grpcSpan(SpanKind::Client, 1, 2, 0);
    peerOnly.authority.clear();
    peerOnly.peer = "echo.peer";
    QCOMPARE(requestOfSpan(peerOnly)->host, std::string("echo.peer"));
}

void TestWhatIf::spansThatAreNoRequest()
{
    Span internal = grpcSpan(SpanKind::Internal, 1, 1, 0);
    QVERIFY(!requestOfSpan(internal));
    Span db;
    db.kind = SpanKind::Client;
    db.databaseCall = true;
    QVERIFY(!requestOfSpan(db));  // no path
}

void TestWhatIf::clientAndServerHalvesCountOnce()
{
    RequestCollector c;
    // Trace 1: client 10 and its server child 11, delivered in separate batches and
    // server first; trace 2: a server span alone; trace 3: a server span whose parent
    // (id 10, as in trace 1) is no client span of its own trace.
    c.ingestSpans({grpcSpan(SpanKind::Server, 1, 11, 10)}, 0, "otlp");
    c.ingestSpans({grpcSpan(SpanKind::Client, 1, 10, 0, "1"), grpcSpan(SpanKind::Server, 2, 20, 99),
                      grpcSpan(SpanKind::Server, 3, 30, 10)},
        0, "otlp");
    RequestCollector::Counts counts;
    const std::vector<RouteRequest> requests = c.requests(&counts);
    QCOMPARE(requests.size(), size_t(3));
    QCOMPARE(counts.spans, uint64_t(4));
    QCOMPARE(counts.spanRequests, uint64_t(3));
    QCOMPARE(counts.serverHalves, uint64_t(1));
    // The client half is the one kept: it carries the metadata the client sent.
    QCOMPARE(requests[0].headers.at("x-canary"), std::string("1"));
}

void TestWhatIf::accessLogsToldByASpanAreNotCountedAgain()
{
    RequestCollector c;
    c.ingestSpans({grpcSpan(SpanKind::Client, 1, 10, 0)}, 0, "otlp");
    c.ingestRequests({accessLog(hex(1).c_str(), SpanKind::Server),  // the span's request
                         accessLog(hex(2).c_str(), SpanKind::Client),  // both sidecars of one request
                         accessLog(hex(2).c_str(), SpanKind::Server),
                         accessLog(hex(2).c_str(), SpanKind::Server, "/other"),  // another request of trace 2
                         accessLog("", SpanKind::Server), accessLog("", SpanKind::Server)},  // no trace: each counts
        0, "als");
    RequestCollector::Counts counts;
    const auto requests = c.requests(&counts);
    QCOMPARE(counts.spanRequests, uint64_t(1));
    QCOMPARE(counts.accessLogRequests, uint64_t(4));
    QCOMPARE(counts.accessLogDuplicates, uint64_t(2));
    QCOMPARE(requests.size(), size_t(5));
    QVERIFY(requests[1].headers.empty());  // access logs carry no headers
}

void TestWhatIf::distinctRequestsKeepOnlyHeadersRulesRead()
{
    const std::vector<RouteRequest> requests = {
        {"echo.test", "/a", "GET", {{"x-canary", "1"}, {"x-request-id", "a"}}},
        {"echo.test", "/a", "GET", {{"x-canary", "1"}, {"x-request-id", "b"}}},
        {"echo.test", "/a", "GET", {{"x-canary", "2"}}},
        {"echo.test", "/a", "POST", {}},
    };
    const auto distinct = distinctRequests(requests, {"x-canary"});
    QCOMPARE(distinct.size(), size_t(3));
    QCOMPARE(distinct[0].count, uint64_t(2));
    QCOMPARE(distinct[0].request.headers, (std::map<std::string, std::string> {{"x-canary", "1"}}));
    QCOMPARE(distinct[2].request.method, std::string("POST"));
}

// 6 calls with x-canary: 1 and 10 without: all to echo-a now; the proposal sends the
// canaries to echo-b and splits the rest 3:1.
void TestWhatIf::countsBeforeAndAfter()
{
    const RouteMatcher current(loadFile("echo-current.yaml"), DataPlane::XdsGrpc);
    const RouteMatcher proposed(loadFile("echo-proposed.yaml"), DataPlane::XdsGrpc);
    std::vector<RouteRequest> requests(6, {"echo.test", "/meshscope.test.Echo/Call", "POST", {{"x-canary", "1"}}});
    requests.insert(requests.end(), 10, {"echo.test", "/meshscope.test.Echo/Call", "POST", {}});
    requests.push_back({"other.test", "/meshscope.test.Echo/Call", "POST", {}});
    const WhatIfReport r = runWhatIf(distinctRequests(requests, proposed.headerNames()), current, proposed);
    QCOMPARE(r.dataPlane, std::string("xds-grpc"));
    QCOMPARE(r.requests, uint64_t(17));
    QCOMPARE(r.distinct, uint64_t(3));
    QCOMPARE(r.unmatchedBefore, uint64_t(1));
    QCOMPARE(r.unmatchedAfter, uint64_t(1));
    QVERIFY(row(r, "main", "echo-a") && row(r, "main", "echo-b") && row(r, "canary", "echo-b"));
    QCOMPARE(row(r, "main", "echo-a")->before, 16.0);
    QCOMPARE(row(r, "main", "echo-a")->after, 7.5);
    QCOMPARE(row(r, "main", "echo-b")->before, 0.0);
    QCOMPARE(row(r, "main", "echo-b")->after, 2.5);
    QCOMPARE(row(r, "canary", "echo-b")->after, 6.0);
    QCOMPARE(row(r, "main", "echo-a")->weightBefore, 1);
    QCOMPARE(row(r, "main", "echo-a")->weightAfter, 3);
    QCOMPARE(row(r, "main", "echo-b")->weightBefore, -1);  // not in the current set
    QCOMPARE(row(r, "canary", "echo-b")->rule, 0);
    // Every matched request moves: the canaries to another rule, the rest to another
    // backend set; the request nobody routes stays where it was.
    QCOMPARE(r.movedRequests, uint64_t(16));
    QCOMPARE(r.movedDistinct, uint64_t(2));
    QCOMPARE(r.moved[0].count, uint64_t(6));
    QCOMPARE(r.moved[0].before, std::string("default/echo#0 main -> echo-a"));
    QCOMPARE(r.moved[0].after, std::string("default/echo#0 canary -> echo-b"));
    QCOMPARE(r.moved[1].after, std::string("default/echo#1 main -> echo-a 75%, echo-b 25%"));
}

void TestWhatIf::movedListIsCapped()
{
    const RouteMatcher current(loadFile("echo-current.yaml"), DataPlane::Envoy);
    const RouteMatcher proposed(loadFile("echo-proposed.yaml"), DataPlane::Envoy);
    std::vector<DistinctRequest> requests;
    for (int i = 0; i < 5; ++i)
        requests.push_back({{"echo.test", "/p" + std::to_string(i), "GET", {}}, 1});
    const WhatIfReport r = runWhatIf(requests, current, proposed, 2);
    QCOMPARE(r.movedDistinct, uint64_t(5));
    QCOMPARE(r.moved.size(), size_t(2));
    QVERIFY(whatIfText(r).find("... and 3 more") != std::string::npos);
}

void TestWhatIf::jsonShape()
{
    const RouteMatcher current(loadFile("echo-current.yaml"), DataPlane::Envoy);
    const RouteMatcher proposed(loadFile("echo-proposed.yaml"), DataPlane::Envoy);
    const std::vector<DistinctRequest> requests = {
        {{"echo.test", "/meshscope.test.Echo/Call", "POST", {{"x-canary", "1"}}}, 3},
        {{"echo.test", "/meshscope.test.Echo/Call", "POST", {}}, 3},
    };
    const QJsonObject o = whatIfJson(runWhatIf(requests, current, proposed));
    QCOMPARE(o.value(QStringLiteral("data_plane")).toString(), QStringLiteral("envoy"));
    QCOMPARE(o.value(QStringLiteral("requests")).toInt(), 6);
    QCOMPARE(o.value(QStringLiteral("distinct_requests")).toInt(), 2);
    QCOMPARE(o.value(QStringLiteral("unmatched_before")).toInt(), 0);
    QCOMPARE(o.value(QStringLiteral("unmatched_after")).toInt(), 0);
    const QJsonArray rules = o.value(QStringLiteral("rules")).toArray();
    QCOMPARE(rules.size(), 3);  // canary/echo-b, main/echo-a, main/echo-b
    const QJsonObject mainB = rules.at(2).toObject();
    QCOMPARE(mainB.value(QStringLiteral("route")).toString(), QStringLiteral("default/echo"));
    QCOMPARE(mainB.value(QStringLiteral("rule")).toInt(), 1);
    QCOMPARE(mainB.value(QStringLiteral("rule_name")).toString(), QStringLiteral("main"));
    QCOMPARE(mainB.value(QStringLiteral("backend")).toString(), QStringLiteral("echo-b"));
    QVERIFY(mainB.value(QStringLiteral("weight_before")).isNull());
    QCOMPARE(mainB.value(QStringLiteral("weight_after")).toInt(), 1);
    QCOMPARE(mainB.value(QStringLiteral("before")).toDouble(), 0.0);
    QCOMPARE(mainB.value(QStringLiteral("after")).toDouble(), 0.75);
    QCOMPARE(mainB.value(QStringLiteral("after_rounded")).toInt(), 1);
    const QJsonObject moved = o.value(QStringLiteral("moved")).toObject();
    QCOMPARE(moved.value(QStringLiteral("count")).toInt(), 6);
    QCOMPARE(moved.value(QStringLiteral("distinct")).toInt(), 2);
    const QJsonObject first = moved.value(QStringLiteral("requests")).toArray().at(0).toObject();
    QCOMPARE(first.value(QStringLiteral("host")).toString(), QStringLiteral("echo.test"));
    QCOMPARE(first.value(QStringLiteral("method")).toString(), QStringLiteral("POST"));
    QCOMPARE(first.value(QStringLiteral("path")).toString(), QStringLiteral("/meshscope.test.Echo/Call"));
    QCOMPARE(first.value(QStringLiteral("headers")).toObject().value(QStringLiteral("x-canary")).toString(),
        QStringLiteral("1"));
    QCOMPARE(first.value(QStringLiteral("count")).toInt(), 3);
    QCOMPARE(first.value(QStringLiteral("before")).toString(), QStringLiteral("default/echo#0 main -> echo-a"));
    QCOMPARE(first.value(QStringLiteral("after")).toString(), QStringLiteral("default/echo#0 canary -> echo-b"));
}

void TestWhatIf::textTable()
{
    const RouteMatcher current(loadFile("echo-current.yaml"), DataPlane::Envoy);
    const RouteMatcher proposed(loadFile("echo-proposed.yaml"), DataPlane::Envoy);
    const std::vector<DistinctRequest> requests = {{{"echo.test", "/x", "GET", {}}, 4}};
    const std::string text = whatIfText(runWhatIf(requests, current, proposed));
    QVERIFY2(text.find("envoy: 4 requests (1 distinct); no route: 0 before, 0 after") == 0, text.c_str());
    QVERIFY2(text.find("default/echo  #1 main    echo-a   1 -> 3       4      3") != std::string::npos, text.c_str());
    QVERIFY2(text.find("4 x GET echo.test /x") != std::string::npos, text.c_str());
}

QTEST_GUILESS_MAIN(TestWhatIf)
#include "tst_whatif.moc"

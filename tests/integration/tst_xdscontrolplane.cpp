// XdsControlPlane against the real peer: gRPC's own xDS client (Debian's libgrpc 1.51)
// in a helper process dials xds:///echo.test through meshscope to two real Echo
// backends (A and B on loopback) and counts who answered. Weights move traffic, a
// header match sends tagged calls to B, a route configuration the client refuses shows
// up as a NACK with its reason while the last accepted one keeps routing. The ADS
// protocol itself (versions, nonces, ACK/NACK, stale requests, named subscriptions)
// is checked with the generated ADS client. Faults pushed as the fault filter plus a
// per-route HTTPFault are injected by the real client (gRFC A33): aborts fail calls
// with the mapped gRPC status before they reach a backend, delays hold calls, shares
// abort about that share, and removing the fault restores normal calls. Finally
// `meshscope-cli xds serve` serves a route file, refuses an invalid edit and pushes a
// valid one.

#include "common/printers.h"
#include "common/xdsecho.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "net/redact.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/xds/xdstranslator.h"

#include <grpcpp/grpcpp.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

using namespace meshscope::routing;
using meshscope::test::ackedEverything;
using meshscope::test::CallResult;
using meshscope::test::clientStatus;
using meshscope::test::describeClient;
using meshscope::test::EchoBackend;
using meshscope::test::echoRouteYaml;
using meshscope::test::XdsClientProcess;
namespace discovery = envoy::service::discovery::v3;

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

namespace {

const std::string kTarget = "echo.test";

// Collects control plane events from gRPC threads.
struct EventLog {
    std::mutex mutex;
    std::vector<XdsClientEvent> events;

    std::function<void(const XdsClientEvent &)> callback()
    {
        return [this](const XdsClientEvent &e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        };
    }
    bool has(XdsClientEvent::Kind kind, const std::string &nodeId, std::string_view typeUrl = {})
    {
        std::lock_guard lock(mutex);
        for (const XdsClientEvent &e : events) {
            if (e.kind == kind && e.nodeId == nodeId && (typeUrl.empty() || e.typeUrl == typeUrl))
                return true;
        }
        return false;
    }
};

}  // namespace

class TestXdsControlPlane : public QObject {
    Q_OBJECT

private:
    EchoBackend m_a {"A"};
    EchoBackend m_b {"B"};

    // HTTPRoute default/echo for echo.test: optionally a canary rule (x-canary: 1 on
    // a regex path, with timeout and retries) to B, then A/B weighted.
    RouteSet echoRoutes(int weightA, int weightB, bool canary = false) const
    {
        HttpRoute r;
        r.name = "echo";
        r.hostnames = {kTarget};
        if (canary) {
            RouteRule rule;
            rule.name = "canary";
            RouteMatch m;
            m.path = PathMatch {PathMatchType::RegularExpression, "/meshscope\\.test\\.Echo/.*"};
            m.headers = {{"x-canary", StringMatchType::Exact, "1"}};
            m.method = "POST";
            rule.matches = {m};
            BackendRef b;
            b.name = "echo-b";
            rule.backends = {b};
            rule.timeoutMs = 5000;
            RetryPolicy retry;
            retry.attempts = 2;
            retry.retryOn = {"unavailable"};
            rule.retry = retry;
            r.rules.push_back(rule);
        }
        RouteRule main;
        main.name = "main";
        BackendRef a, b;
        a.name = "echo-a";
        a.weight = weightA;
        b.name = "echo-b";
        b.weight = weightB;
        main.backends = {a, b};
        r.rules.push_back(main);

        RouteSet set;
        set.routes.push_back(r);
        for (const auto &[service, port] : {std::pair {"echo-a", m_a.port()}, std::pair {"echo-b", m_b.port()}}) {
            EndpointSlice s;
            s.name = std::string(service) + "-1";
            s.serviceName = service;
            s.port = port;
            s.endpoints = {{"127.0.0.1", true}};
            set.endpointSlices.push_back(s);
        }
        return set;
    }

    QString routeYaml(int weightA, int weightB, const QString &pathRegex = {}) const
    {
        return echoRouteYaml(m_a.port(), m_b.port(), weightA, weightB, pathRegex);
    }

    std::unique_ptr<XdsControlPlane> startControlPlane(EventLog *log = nullptr)
    {
        XdsControlPlaneConfig config;
        config.listenAddress = "127.0.0.1:0";
        auto cp = std::make_unique<XdsControlPlane>(config);
        if (log)
            cp->setEventCallback(log->callback());
        std::string error;
        if (!cp->start(&error)) {
            qWarning("%s", error.c_str());
            return nullptr;
        }
        return cp;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_a.start());
        QVERIFY(m_b.start());
    }

    void cleanupTestCase()
    {
        m_a.stop();
        m_b.stop();
    }

    void weightsMoveTraffic()
    {
        EventLog log;
        auto cp = startControlPlane(&log);
        QVERIFY(cp);
        QCOMPARE(cp->setRouteSet(echoRoutes(100, 0)), uint64_t(1));

        XdsClientProcess client;
        QVERIFY(client.start(cp->port(), QStringLiteral("weights")));
        CallResult r = client.call(100);
        QVERIFY2(r.errors == 0, qPrintable(r.line));
        QCOMPARE(r.count("A"), 100);

        // The client is tracked: node, user agent, and an ACK of version 1 per type.
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*cp, "weights", 1); }, 10000),
            describeClient(*cp, "weights").constData());
        const auto st = clientStatus(*cp, "weights");
        QCOMPARE(st->nodeCluster, std::string("test"));
        QVERIFY2(st->userAgentName.find("gRPC") != std::string::npos, st->userAgentName.c_str());
        QVERIFY(!st->peer.empty());
        QCOMPARE(st->type(kXdsListenerType)->resourceNames, std::vector<std::string> {kTarget});
        QCOMPARE(st->type(kXdsRouteConfigurationType)->resourceNames, std::vector<std::string> {kTarget});
        QVERIFY(log.has(XdsClientEvent::Kind::Connected, "weights"));
        QVERIFY(log.has(XdsClientEvent::Kind::Acked, "weights", kXdsRouteConfigurationType));

        // The edit is pushed to the connected client, which moves to 20/80.
        QCOMPARE(cp->setRouteSet(echoRoutes(20, 80)), uint64_t(2));
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*cp, "weights", 2); }, 10000),
            describeClient(*cp, "weights").constData());
        client.call(20);  // lets B's subchannel connect; not counted
        r = client.call(500);
        QVERIFY2(r.errors == 0, qPrintable(r.line));
        QCOMPARE(r.count("A") + r.count("B"), 500);
        qInfo("after the 20/80 edit: %s", qPrintable(r.line));
        const double shareA = r.count("A") / 500.0;
        QVERIFY2(shareA > 0.14 && shareA < 0.26, qPrintable(r.line));

        client.stop();
        QVERIFY(QTest::qWaitFor([&] { return !clientStatus(*cp, "weights")->connected; }, 10000));
        QVERIFY(clientStatus(*cp, "weights")->disconnectedAtMs > 0);
        QVERIFY(log.has(XdsClientEvent::Kind::Disconnected, "weights"));
    }

    void headerMatchSendsCanaryToB()
    {
        auto cp = startControlPlane();
        QVERIFY(cp);
        cp->setRouteSet(echoRoutes(100, 0, true));
        XdsClientProcess client;
        QVERIFY(client.start(cp->port(), QStringLiteral("canary")));
        CallResult tagged = client.call(100, QStringLiteral("x-canary=1"));
        QVERIFY2(tagged.errors == 0, qPrintable(tagged.line));
        QCOMPARE(tagged.count("B"), 100);
        CallResult plain = client.call(100);
        QVERIFY2(plain.errors == 0, qPrintable(plain.line));
        QCOMPARE(plain.count("A"), 100);
        CallResult other = client.call(50, QStringLiteral("x-canary=2"));
        QCOMPARE(other.count("A"), 50);
    }

    void nackIsRecordedAndLastGoodConfigKeepsRouting()
    {
        EventLog log;
        auto cp = startControlPlane(&log);
        QVERIFY(cp);
        const uint64_t good = cp->setRouteSet(echoRoutes(100, 0, true));
        XdsClientProcess client;
        QVERIFY(client.start(cp->port(), QStringLiteral("nack")));
        QCOMPARE(client.call(10, QStringLiteral("x-canary=1")).count("B"), 10);
        QVERIFY(QTest::qWaitFor([&] { return ackedEverything(*cp, "nack", good); }, 10000));

        // HeaderMatcher.string_match (13) is valid xDS that gRPC 1.51 refuses.
        XdsResourceSet bad = translateToXds(echoRoutes(0, 100, true));
        auto *header = bad.routeConfigurations.at(0)
                           .mutable_virtual_hosts(0)
                           ->mutable_routes(0)
                           ->mutable_match()
                           ->mutable_headers(0);
        header->mutable_string_match()->set_exact("1");
        const uint64_t rejected = cp->setResources(bad);
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         const auto c = clientStatus(*cp, "nack");
                         return c && c->type(kXdsRouteConfigurationType)->nackedVersion == std::to_string(rejected);
                     },
                     10000),
            describeClient(*cp, "nack").constData());
        const auto st = clientStatus(*cp, "nack");
        const XdsTypeStatus *rds = st->type(kXdsRouteConfigurationType);
        QVERIFY(rds->rejected);
        qInfo("gRPC refused version %s: %s", rds->nackedVersion.c_str(), rds->nackMessage.c_str());
        QCOMPARE(rds->nackCode, 3);  // INVALID_ARGUMENT
        QVERIFY2(rds->nackMessage.find("Invalid route header matcher specified") != std::string::npos,
            rds->nackMessage.c_str());
        QCOMPARE(rds->ackedVersion, std::to_string(good));
        QVERIFY(rds->nackCount >= 1);
        QVERIFY(log.has(XdsClientEvent::Kind::Nacked, "nack", kXdsRouteConfigurationType));

        // The client keeps the route configuration it accepted: canary to B, the rest
        // to A (the refused one would have sent everything to B).
        CallResult plain = client.call(50);
        QVERIFY2(plain.errors == 0, qPrintable(plain.line));
        QCOMPARE(plain.count("A"), 50);
        QCOMPARE(client.call(20, QStringLiteral("x-canary=1")).count("B"), 20);

        // A good version clears the rejection.
        const uint64_t fixed = cp->setRouteSet(echoRoutes(0, 100, true));
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*cp, "nack", fixed); }, 10000),
            describeClient(*cp, "nack").constData());
        QVERIFY(!clientStatus(*cp, "nack")->type(kXdsRouteConfigurationType)->rejected);
        QCOMPARE(client.call(50).count("B"), 50);
    }

    // The ADS protocol as seen by the generated client: every response a fresh nonce,
    // versions per push, ACK/NACK recorded by nonce, stale nonces ignored, named
    // subscriptions answered with what exists.
    // gRPC 1.51 reads the fault filter and the per-route HTTPFault itself (gRFC A33,
    // on by default: no GRPC_XDS_EXPERIMENTAL_FAULT_INJECTION switch exists in 1.51).
    void faultsTakeEffectInTheGrpcClient()
    {
        auto cp = startControlPlane();
        QVERIFY(cp);
        uint64_t version = cp->setRouteSet(echoRoutes(100, 0, true));
        XdsClientProcess client;
        QVERIFY(client.start(cp->port(), QStringLiteral("faults")));
        CallResult r = client.call(20);
        QVERIFY2(r.errors == 0 && r.count("A") == 20, qPrintable(r.line));

        // Pushes `set` with `fault` on the rule named `ruleName` (none: no fault),
        // and waits for the client to ACK it and for one call to show `applied`.
        auto push = [&](std::optional<FaultInjection> fault, const std::string &ruleName,
                        const std::function<bool()> &applied) -> bool {
            RouteSet set = echoRoutes(100, 0, true);
            for (RouteRule &rule : set.routes[0].rules) {
                if (rule.name == ruleName)
                    rule.fault = fault;
            }
            version = cp->setRouteSet(set);
            if (!QTest::qWaitFor([&] { return ackedEverything(*cp, "faults", version); }, 10000)) {
                qWarning("%s", describeClient(*cp, "faults").constData());
                return false;
            }
            // The ACK goes out when the resource is parsed; the channel applies it just
            // after, so a call or two may still see the previous version.
            return QTest::qWaitFor(applied, 10000);
        };
        auto timedCalls = [&](int n, qint64 *elapsedMs, const QString &header = {}) {
            QElapsedTimer timer;
            timer.start();
            CallResult result = client.call(n, header);
            *elapsedMs = timer.elapsed();
            return result;
        };

        // Abort 100% with HTTP 503: every call fails with UNAVAILABLE (14), the HTTP
        // to gRPC mapping, and none reaches a backend.
        FaultInjection abort503;
        abort503.abortHttpStatus = 503;
        QVERIFY(push(abort503, "main", [&] { return client.call(1).errors == 1; }));
        int reachedBefore = m_a.calls() + m_b.calls();
        r = client.call(30);
        QVERIFY2(r.errors == 30, qPrintable(r.line));
        QVERIFY2(r.lastError.startsWith(QLatin1String("14 ")), qPrintable(r.line));
        qInfo("abort 503 at 100%%: %s", qPrintable(r.line));
        QCOMPARE(m_a.calls() + m_b.calls(), reachedBefore);
        // Only the rule with the fault aborts: the canary rule still routes to B.
        r = client.call(10, QStringLiteral("x-canary=1"));
        QVERIFY2(r.errors == 0 && r.count("B") == 10, qPrintable(r.line));

        // HTTP 404 becomes UNIMPLEMENTED (12): the status comes from the pushed config.
        FaultInjection abort404;
        abort404.abortHttpStatus = 404;
        QVERIFY(push(abort404, "main", [&] { return client.call(1).lastError.startsWith(QLatin1String("12 ")); }));
        r = client.call(10);
        QVERIFY2(r.errors == 10 && r.lastError.startsWith(QLatin1String("12 ")), qPrintable(r.line));

        // A share sent over MILLION (12.5% -> 125000/1000000) aborts about that share
        // of 800 calls (mean 100, standard deviation 9.4).
        FaultInjection someAborts;
        someAborts.abortHttpStatus = 503;
        someAborts.abortPercent = 12.5;
        QVERIFY(push(someAborts, "main", [&] { return client.call(1).errors == 0; }));
        r = client.call(800);
        qInfo("abort 503 at 12.5%%: %s", qPrintable(r.line));
        QVERIFY2(r.errors >= 55 && r.errors <= 145, qPrintable(r.line));
        QCOMPARE(r.count("A") + r.errors, 800);

        // A fixed 300 ms delay at 100% holds every call at least that long; the
        // canary rule, without a fault, stays fast.
        FaultInjection delay;
        delay.delayMs = 300;
        qint64 elapsed = 0;
        QVERIFY(push(delay, "main", [&] {
            timedCalls(1, &elapsed);
            return elapsed >= 300;
        }));
        r = timedCalls(5, &elapsed);
        qInfo("5 calls with a 300 ms delay took %lld ms", elapsed);
        QVERIFY2(r.errors == 0 && r.count("A") == 5, qPrintable(r.line));
        QVERIFY2(elapsed >= 5 * 300, qPrintable(QString::number(elapsed)));
        r = timedCalls(5, &elapsed, QStringLiteral("x-canary=1"));
        QVERIFY2(r.errors == 0 && r.count("B") == 5, qPrintable(r.line));
        QVERIFY2(elapsed < 5 * 300, qPrintable(QString::number(elapsed)));

        // Without the fault (and without the fault filter) calls are normal again.
        QVERIFY(push(std::nullopt, "main", [&] {
            const CallResult one = timedCalls(1, &elapsed);
            return one.errors == 0 && elapsed < 300;
        }));
        r = timedCalls(10, &elapsed);
        QVERIFY2(r.errors == 0 && r.count("A") == 10, qPrintable(r.line));
        QVERIFY2(elapsed < 10 * 300, qPrintable(QString::number(elapsed)));
        const auto st = clientStatus(*cp, "faults");
        QCOMPARE(st->type(kXdsListenerType)->nackCount, uint64_t(0));
        QCOMPARE(st->type(kXdsRouteConfigurationType)->nackCount, uint64_t(0));
    }

    // A hostile client: escape sequences in its node id, 64 KiB NACK texts, and
    // thousands of invented type URLs on one stream. What it said is stored escaped and
    // bounded, and the invented types cost no state.
    void hostileClientIsBoundedAndEscaped()
    {
        auto cp = startControlPlane();
        QVERIFY(cp);
        cp->setRouteSet(echoRoutes(100, 0));
        auto channel = grpc::CreateChannel(cp->boundAddress(), grpc::InsecureChannelCredentials());
        auto stub = discovery::AggregatedDiscoveryService::NewStub(channel);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        auto stream = stub->StreamAggregatedResources(&context);
        const std::string evilId = "evil\x1b]0;owned\x07\x1b[2J" + std::string(5000, 'x');
        discovery::DiscoveryRequest lds;
        lds.set_type_url(std::string(kXdsListenerType));
        lds.mutable_node()->set_id(evilId);
        QVERIFY(stream->Write(lds));
        discovery::DiscoveryResponse r1;
        QVERIFY(stream->Read(&r1));
        for (int i = 0; i < 3000; ++i) {
            discovery::DiscoveryRequest junk;
            junk.set_type_url("type.googleapis.com/made.up.Type" + std::to_string(i));
            junk.add_resource_names(std::string(1000, 'n'));
            QVERIFY(stream->Write(junk));
        }
        discovery::DiscoveryRequest nack;
        nack.set_type_url(std::string(kXdsListenerType));
        nack.set_response_nonce(r1.nonce());
        nack.set_version_info("0");
        nack.mutable_error_detail()->set_code(3);
        nack.mutable_error_detail()->set_message("\x1b[31mrefused\x1b[0m\n" + std::string(64 * 1024, 'y'));
        QVERIFY(stream->Write(nack));
        const std::string storedId = meshscope::sanitizeRemoteText(evilId, 256);
        QVERIFY(QTest::qWaitFor(
            [&] {
                const auto c = clientStatus(*cp, storedId);
                return c && c->type(kXdsListenerType) && c->type(kXdsListenerType)->nackCount == 1;
            },
            10000));
        const auto st = clientStatus(*cp, storedId);
        QVERIFY(st->nodeId.find('\x1b') == std::string::npos);
        QVERIFY(st->nodeId.find("\\x1b]0;owned") != std::string::npos);
        QVERIFY(st->nodeId.size() < 300);
        const XdsTypeStatus *t = st->type(kXdsListenerType);
        QVERIFY(t->nackMessage.find('\x1b') == std::string::npos);
        QVERIFY2(t->nackMessage.size() < 400, t->nackMessage.c_str());
        QVERIFY2(t->nackMessage.find("refused\\x1b[0m ... (65553 bytes)") != std::string::npos, t->nackMessage.c_str());
        QVERIFY(st->types.size() <= 4);  // none of the 3,000 invented types
        stream->WritesDone();
        context.TryCancel();
    }

    void adsProtocolSemantics()
    {
        auto cp = startControlPlane();
        QVERIFY(cp);
        cp->setRouteSet(echoRoutes(100, 0));
        auto channel = grpc::CreateChannel(cp->boundAddress(), grpc::InsecureChannelCredentials());
        auto stub = discovery::AggregatedDiscoveryService::NewStub(channel);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        auto stream = stub->StreamAggregatedResources(&context);

        auto request = [](std::string_view type, std::vector<std::string> names, const std::string &version,
                           const std::string &nonce) {
            discovery::DiscoveryRequest r;
            r.set_type_url(std::string(type));
            for (const auto &n : names)
                r.add_resource_names(n);
            r.set_version_info(version);
            r.set_response_nonce(nonce);
            return r;
        };
        discovery::DiscoveryRequest lds = request(kXdsListenerType, {}, "", "");
        lds.mutable_node()->set_id("raw");
        lds.mutable_node()->set_cluster("tests");
        lds.mutable_node()->set_user_agent_name("meshscope test");
        QVERIFY(stream->Write(lds));
        discovery::DiscoveryResponse r1;
        QVERIFY(stream->Read(&r1));
        QCOMPARE(r1.type_url(), std::string(kXdsListenerType));
        QCOMPARE(r1.version_info(), std::string("1"));
        QCOMPARE(r1.control_plane().identifier(), std::string("meshscope"));
        QCOMPARE(r1.resources_size(), 1);  // wildcard: all listeners
        QVERIFY(!r1.nonce().empty());

        QVERIFY(stream->Write(request(kXdsRouteConfigurationType, {kTarget}, "", "")));
        discovery::DiscoveryResponse r2;
        QVERIFY(stream->Read(&r2));
        QCOMPARE(r2.type_url(), std::string(kXdsRouteConfigurationType));
        QCOMPARE(r2.resources_size(), 1);
        QVERIFY(r2.nonce() != r1.nonce());

        // ACKs are not answered; the next thing read must be the push of version 2.
        QVERIFY(stream->Write(request(kXdsListenerType, {}, "1", r1.nonce())));
        QVERIFY(stream->Write(request(kXdsRouteConfigurationType, {kTarget}, "1", r2.nonce())));
        QVERIFY(QTest::qWaitFor(
            [&] {
                const auto c = clientStatus(*cp, "raw");
                return c && c->type(kXdsRouteConfigurationType)
                    && c->type(kXdsRouteConfigurationType)->ackedVersion == "1";
            },
            5000));
        cp->setRouteSet(echoRoutes(50, 50));
        discovery::DiscoveryResponse r3, r4;
        QVERIFY(stream->Read(&r3));
        QVERIFY(stream->Read(&r4));
        QCOMPARE(r3.type_url(), std::string(kXdsListenerType));  // listeners before routes
        QCOMPARE(r4.type_url(), std::string(kXdsRouteConfigurationType));
        QCOMPARE(r3.version_info(), std::string("2"));
        QCOMPARE(r4.version_info(), std::string("2"));

        // A NACK quoting an old nonce is stale and ignored; one quoting the latest is
        // recorded with its reason, against the version it rejected.
        discovery::DiscoveryRequest stale = request(kXdsListenerType, {}, "1", r1.nonce());
        stale.mutable_error_detail()->set_code(3);
        stale.mutable_error_detail()->set_message("stale");
        QVERIFY(stream->Write(stale));
        discovery::DiscoveryRequest nack = request(kXdsRouteConfigurationType, {kTarget}, "1", r4.nonce());
        nack.mutable_error_detail()->set_code(3);
        nack.mutable_error_detail()->set_message("route configuration refused");
        QVERIFY(stream->Write(nack));
        QVERIFY(stream->Write(request(kXdsListenerType, {}, "2", r3.nonce())));

        // Named EDS subscription: only what exists is sent.
        QVERIFY(stream->Write(request(kXdsClusterLoadAssignmentType, {"default/echo-a", "default/nope"}, "", "")));
        discovery::DiscoveryResponse r5;
        QVERIFY(stream->Read(&r5));
        QCOMPARE(r5.type_url(), std::string(kXdsClusterLoadAssignmentType));
        QCOMPARE(r5.resources_size(), 1);
        envoy::config::endpoint::v3::ClusterLoadAssignment cla;
        QVERIFY(r5.resources(0).UnpackTo(&cla));
        QCOMPARE(cla.cluster_name(), std::string("default/echo-a"));

        const auto st = clientStatus(*cp, "raw");
        QVERIFY(st);
        QCOMPARE(st->nodeCluster, std::string("tests"));
        QCOMPARE(st->userAgentName, std::string("meshscope test"));
        const XdsTypeStatus *ldsStatus = st->type(kXdsListenerType);
        QVERIFY(ldsStatus->wildcard);
        QVERIFY(!ldsStatus->rejected);
        QCOMPARE(ldsStatus->nackCount, uint64_t(0));
        QCOMPARE(ldsStatus->ackedVersion, std::string("2"));
        const XdsTypeStatus *rds = st->type(kXdsRouteConfigurationType);
        QVERIFY(rds->rejected);
        QCOMPARE(rds->nackedVersion, std::string("2"));
        QCOMPARE(rds->ackedVersion, std::string("1"));
        QCOMPARE(rds->nackMessage, std::string("route configuration refused"));
        QCOMPARE(st->type(kXdsClusterLoadAssignmentType)->resourceNames,
            (std::vector<std::string> {"default/echo-a", "default/nope"}));

        stream->WritesDone();
        QVERIFY(stream->Finish().ok());
        QVERIFY(QTest::qWaitFor([&] { return !clientStatus(*cp, "raw")->connected; }, 5000));
    }

    // Many versions pushed at once, from two threads, while three clients are
    // connected: writes coalesce, and every client ends on the last version.
    void rapidPushesConvergeOnEveryClient()
    {
        auto cp = startControlPlane();
        QVERIFY(cp);
        cp->setRouteSet(echoRoutes(100, 0));
        std::vector<std::unique_ptr<XdsClientProcess>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(std::make_unique<XdsClientProcess>());
            QVERIFY(clients.back()->start(cp->port(), QStringLiteral("burst-%1").arg(i)));
            QCOMPARE(clients.back()->call(5).count("A"), 5);
        }
        std::thread other([&] {
            for (int i = 0; i < 20; ++i)
                cp->setRouteSet(echoRoutes(100, 0, i % 2 == 0));
        });
        for (int i = 0; i < 20; ++i)
            cp->setRouteSet(echoRoutes(50, 50));
        other.join();
        const uint64_t last = cp->setRouteSet(echoRoutes(0, 100));
        QCOMPARE(last, uint64_t(42));
        for (int i = 0; i < 3; ++i) {
            const std::string node = "burst-" + std::to_string(i);
            QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*cp, node, last); }, 15000),
                describeClient(*cp, node).constData());
            QCOMPARE(clients[size_t(i)]->call(20).count("B"), 20);
        }
    }

    void addressInUseIsAnError()
    {
        auto cp = startControlPlane();
        QVERIFY(cp);
        XdsControlPlaneConfig config;
        config.listenAddress = cp->boundAddress();
        XdsControlPlane second(config);
        std::string error;
        QVERIFY(!second.start(&error));
        QVERIFY2(error.find("cannot listen for xDS clients on") == 0, error.c_str());
    }

    void cliServesWatchesAndRefusesInvalidEdits()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("routes.yaml"));
        auto writeInPlace = [&](const QString &text) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(text.toUtf8());
        };
        writeInPlace(routeYaml(100, 0));

        QProcess cli;
        cli.setProcessChannelMode(QProcess::MergedChannels);
        cli.start(QString::fromUtf8(MESHSCOPE_CLI_PATH),
            {QStringLiteral("xds"), QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--routes"), path});
        QByteArray output;
        // Waits for a line matching `pattern` printed after `from` bytes of output.
        auto waitFor = [&](const QString &pattern, qsizetype from, int timeoutMs = 15000) -> QRegularExpressionMatch {
            const QRegularExpression re(pattern, QRegularExpression::MultilineOption);
            QElapsedTimer timer;
            timer.start();
            while (timer.elapsed() < timeoutMs) {
                output += cli.readAll();
                const auto m = re.match(QString::fromUtf8(output.mid(from)));
                if (m.hasMatch())
                    return m;
                if (cli.state() == QProcess::NotRunning)
                    break;
                cli.waitForReadyRead(100);
            }
            return {};
        };
        const auto listening = waitFor(QStringLiteral("listening for xDS clients on 127\\.0\\.0\\.1:(\\d+)"), 0);
        QVERIFY2(listening.hasMatch(), output.constData());
        QVERIFY2(waitFor(QStringLiteral("^pushed version 1\\b"), 0).hasMatch(), output.constData());

        XdsClientProcess client;
        QVERIFY(client.start(listening.captured(1).toInt(), QStringLiteral("cli-client")));
        QCOMPARE(client.call(50).count("A"), 50);
        QVERIFY2(waitFor(QStringLiteral("client cli-client.*ACK RDS version 1"), 0).hasMatch(), output.constData());

        // An edit with a regex RE2 cannot compile is refused; version 1 stays served.
        qsizetype mark = output.size();
        writeInPlace(routeYaml(0, 100, QStringLiteral("/meshscope.test.Echo/(")));
        QVERIFY2(waitFor(QStringLiteral("refused"), mark).hasMatch(), output.constData());
        QVERIFY2(waitFor(QStringLiteral("still serving version 1"), mark).hasMatch(), output.constData());
        qInfo("the CLI said: %s", output.mid(mark).trimmed().constData());
        QVERIFY2(!output.mid(mark).contains("pushed version 2"), output.constData());
        QCOMPARE(client.call(50).count("A"), 50);

        // A valid edit, saved the way editors do (a new file renamed over the old),
        // is pushed and routes.
        mark = output.size();
        {
            QSaveFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(routeYaml(0, 100).toUtf8());
            QVERIFY(f.commit());
        }
        QVERIFY2(waitFor(QStringLiteral("^pushed version 2\\b"), mark).hasMatch(), output.constData());
        QVERIFY2(waitFor(QStringLiteral("client cli-client.*ACK RDS version 2"), mark).hasMatch(), output.constData());
        QCOMPARE(client.call(50).count("B"), 50);

        // The replaced file is still watched: a second in-place edit is pushed too.
        mark = output.size();
        writeInPlace(routeYaml(100, 0));
        QVERIFY2(waitFor(QStringLiteral("^pushed version 3\\b"), mark).hasMatch(), output.constData());
        QVERIFY2(waitFor(QStringLiteral("client cli-client.*ACK RDS version 3"), mark).hasMatch(), output.constData());
        QCOMPARE(client.call(50).count("A"), 50);

        client.stop();
        QVERIFY2(waitFor(QStringLiteral("client cli-client.*disconnected"), 0).hasMatch(), output.constData());
        cli.terminate();  // SIGTERM
        QVERIFY(cli.waitForFinished(10000));
        QCOMPARE(cli.exitStatus(), QProcess::NormalExit);
        QCOMPARE(cli.exitCode(), 0);
    }

    void cliRefusesToStartOnInvalidFileOrOptions()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("routes.yaml"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(routeYaml(100, 0, QStringLiteral("(")).toUtf8());
        f.close();
        const QString cliPath = QString::fromUtf8(MESHSCOPE_CLI_PATH);

        QProcess p;
        p.start(cliPath,
            {QStringLiteral("xds"), QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--routes"), path});
        QVERIFY(p.waitForFinished(15000));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(p.readAllStandardError().contains("regex"), "the reason names the regex");

        p.start(cliPath,
            {QStringLiteral("xds"), QStringLiteral("serve"), QStringLiteral("--listen"),
                QStringLiteral("127.0.0.1:0")});
        QVERIFY(p.waitForFinished(15000));
        QCOMPARE(p.exitCode(), 2);
        const QByteArray err = p.readAllStandardError();
        QVERIFY2(err.contains("--routes"), err.constData());

        p.start(cliPath,
            {QStringLiteral("xds"), QStringLiteral("serve"), QStringLiteral("--listen"),
                QStringLiteral("256.0.0.1:bad"), QStringLiteral("--routes"),
                dir.filePath(QStringLiteral("missing.yaml"))});
        QVERIFY(p.waitForFinished(15000));
        QVERIFY(p.exitCode() != 0);
    }
};

QTEST_GUILESS_MAIN(TestXdsControlPlane)
#include "tst_xdscontrolplane.moc"

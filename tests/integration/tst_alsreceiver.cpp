// AlsReceiver over real loopback gRPC: the generated AccessLogService client streams
// an identifier and HTTP and TCP entries in several messages, as Envoy does; streams
// are cut mid-way, stopped by the server, and sent what no Envoy would (junk bytes
// through a generic client, messages over the size limit). Whatever was received is
// kept, every rejection is counted, and the receiver keeps serving.

#include "common/alsbuilder.h"
#include "common/printers.h"
#include "envoy/service/accesslog/v3/als.grpc.pb.h"
#include "graph/graphaggregator.h"
#include "telemetry/als/alsreceiver.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <QTcpServer>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <tuple>

using namespace meshscope;
using namespace meshscope::test;

namespace als = envoy::service::accesslog::v3;
namespace alog = envoy::data::accesslog::v3;

namespace {

constexpr const char *kGatewayId
    = "router~10.1.2.3~istio-ingressgateway-7d9f-abc.istio-system~istio-system.svc.cluster.local";
constexpr const char *kReviewsId = "sidecar~10.1.2.5~reviews-v2-545db77b95-8nk9c.bookinfo~bookinfo.svc.cluster.local";
constexpr const char *kProductpage = "outbound|9080||productpage.bookinfo.svc.cluster.local";

void setCommon(alog::AccessLogCommon *c, const std::string &cluster, double durationMs)
{
    setStart(c, GraphAggregator::wallNowMs() - 500);
    setDuration(c->mutable_duration(), durationMs);
    c->set_upstream_cluster(cluster);
}

alog::HTTPAccessLogEntry &addHttp(als::StreamAccessLogsMessage &m, const std::string &cluster,
    envoy::config::core::v3::RequestMethod method, const std::string &path, int status)
{
    alog::HTTPAccessLogEntry *e = m.mutable_http_logs()->add_log_entry();
    setCommon(e->mutable_common_properties(), cluster, 12);
    e->mutable_request()->set_request_method(method);
    e->mutable_request()->set_path(path);
    e->mutable_request()->set_authority("shop.example.com");
    e->mutable_response()->mutable_response_code()->set_value(uint32_t(status));
    return *e;
}

void addTcp(als::StreamAccessLogsMessage &m, const std::string &cluster, uint64_t received, uint64_t sent)
{
    alog::TCPAccessLogEntry *e = m.mutable_tcp_logs()->add_log_entry();
    setCommon(e->mutable_common_properties(), cluster, 800);
    e->mutable_connection_properties()->set_received_bytes(received);
    e->mutable_connection_properties()->set_sent_bytes(sent);
}

// Polls until the condition holds: the receiver works on gRPC's threads.
bool waitFor(const std::function<bool()> &condition, int timeoutMs = 10000)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// One receiver on a free loopback port, its aggregator, and clients for it.
class Harness {
public:
    explicit Harness(size_t maxMessageBytes = 16u * 1024 * 1024)
    {
        AlsReceiverConfig rc;
        rc.listenAddress = "127.0.0.1:0";
        rc.maxMessageBytes = maxMessageBytes;
        m_receiver = std::make_unique<AlsReceiver>(m_agg, rc);
    }

    bool start(std::string *error)
    {
        if (!m_receiver->start(error))
            return false;
        m_channel = grpc::CreateChannel(m_receiver->boundAddress(), grpc::InsecureChannelCredentials());
        m_stub = als::AccessLogService::NewStub(m_channel);
        m_generic = std::make_unique<grpc::GenericStub>(m_channel);
        return true;
    }

    // A whole stream, as Envoy sends it: the messages, then half-close.
    grpc::Status stream(const std::vector<als::StreamAccessLogsMessage> &messages)
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        als::StreamAccessLogsResponse response;
        auto writer = m_stub->StreamAccessLogs(&ctx, &response);
        for (const auto &m : messages) {
            if (!writer->Write(m))
                break;  // the server ended the stream: Finish says why
        }
        writer->WritesDone();
        return writer->Finish();
    }

    // Raw bytes on the stream method, bypassing the client's serializer.
    grpc::Status rawStream(const std::vector<std::string> &messages)
    {
        return rawAlsStream(*m_generic, messages, std::chrono::system_clock::now() + std::chrono::seconds(20));
    }

    GraphSnapshotPtr snapshot() { return m_agg.snapshot(GraphAggregator::wallNowMs()); }
    GraphAggregator &aggregator() { return m_agg; }
    AlsReceiver &receiver() { return *m_receiver; }
    als::AccessLogService::Stub &stub() { return *m_stub; }

private:
    GraphAggregator m_agg;
    std::unique_ptr<AlsReceiver> m_receiver;
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<als::AccessLogService::Stub> m_stub;
    std::unique_ptr<grpc::GenericStub> m_generic;
};

// A one-message stream from a canary sidecar: proof that the receiver still serves.
als::StreamAccessLogsMessage canaryMessage(int n)
{
    als::StreamAccessLogsMessage m;
    identify(m, "sidecar~10.9.9.9~canary-7d9f8c6b5-abcde.probe~probe.svc.cluster.local", "canary.probe");
    addHttp(m, "outbound|80||healthz.probe.svc.cluster.local", envoy::config::core::v3::GET,
        "/healthz/" + std::to_string(n), 200);
    return m;
}

}  // namespace

class TestAlsReceiver : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void gatewayAndSidecarStreams();
    void streamCutMidwayLosesNothingReceived();
    void malformedBytesCountedAndServingGoesOn();
    void oversizedMessageRejected();
    void entriesWithoutIdentifier();
    void addressInUse();
    void stopEndsOpenStreams();
    void tracedEntriesBecomeStoredSpans();

private:
    void expectStillServing(Harness &h, int n);
};

void TestAlsReceiver::expectStillServing(Harness &h, int n)
{
    const uint64_t before = h.receiver().counters().messages;
    const grpc::Status st = h.stream({canaryMessage(n)});
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(h.receiver().counters().messages, before + 1);
    GraphSnapshotPtr snap = h.snapshot();
    QVERIFY2(snap->edge("probe/canary->probe/healthz"), qPrintable(edgeList(*snap)));
}

void TestAlsReceiver::gatewayAndSidecarStreams()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    QVERIFY(h.receiver().port() > 0);
    QVERIFY(h.receiver().running());

    using envoy::config::core::v3::GET;
    using envoy::config::core::v3::POST;
    // The gateway's stream: identifier and HTTP entries, more HTTP entries, TCP entries.
    std::vector<als::StreamAccessLogsMessage> gw(3);
    identify(gw[0], kGatewayId, "istio-ingressgateway.istio-system");
    addHttp(gw[0], kProductpage, GET, "/productpage", 200);
    addHttp(gw[0], kProductpage, GET, "/productpage", 200);
    addHttp(gw[0], kProductpage, GET, "/productpage", 503)
        .mutable_common_properties()
        ->mutable_response_flags()
        ->set_upstream_connection_failure(true);
    addHttp(gw[1], kProductpage, POST, "/login", 200);
    addHttp(gw[1], kProductpage, GET, "/static/app.js", 404);
    addTcp(gw[2], "outbound|5432||postgres.db.svc.cluster.local", 1000, 2000);
    addTcp(gw[2], "outbound|5432||postgres.db.svc.cluster.local", 500, 500);
    // A sidecar's stream, open at the same time: its later message has no identifier
    // and must still be attributed to the sidecar, not to the gateway.
    std::vector<als::StreamAccessLogsMessage> sc(2);
    identify(sc[0], kReviewsId, "reviews.bookinfo");
    addHttp(sc[0], "outbound|9080||ratings.bookinfo.svc.cluster.local", GET, "/ratings/0", 200);
    addHttp(sc[0], "outbound|9080||ratings.bookinfo.svc.cluster.local", GET, "/ratings/1", 200);
    addTcp(sc[1], "outbound|6379||redis.cache.svc.cluster.local", 40, 60);

    grpc::ClientContext gwCtx, scCtx;
    gwCtx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    scCtx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    als::StreamAccessLogsResponse gwResp, scResp;
    auto gwWriter = h.stub().StreamAccessLogs(&gwCtx, &gwResp);
    auto scWriter = h.stub().StreamAccessLogs(&scCtx, &scResp);
    // Interleaved, each message read before the next is sent, so the test is exact.
    const std::vector<
        std::pair<grpc::ClientWriter<als::StreamAccessLogsMessage> *, const als::StreamAccessLogsMessage *>>
        order = {{gwWriter.get(), &gw[0]}, {scWriter.get(), &sc[0]}, {gwWriter.get(), &gw[1]}, {scWriter.get(), &sc[1]},
            {gwWriter.get(), &gw[2]}};
    uint64_t sent = 0;
    for (const auto &[writer, message] : order) {
        QVERIFY(writer->Write(*message));
        ++sent;
        QVERIFY(waitFor([&] { return h.receiver().counters().messages == sent; }));
    }
    QCOMPARE(h.receiver().counters().streamsActive, uint64_t(2));
    QVERIFY(gwWriter->WritesDone());
    QVERIFY(scWriter->WritesDone());
    const grpc::Status gwStatus = gwWriter->Finish();
    const grpc::Status scStatus = scWriter->Finish();
    QVERIFY2(gwStatus.ok(), gwStatus.error_message().c_str());
    QVERIFY2(scStatus.ok(), scStatus.error_message().c_str());

    GraphSnapshotPtr snap = h.snapshot();
    const EdgeSnapshot *in = snap->edge("external->istio-system/istio-ingressgateway");
    const EdgeSnapshot *toProductpage = snap->edge("istio-system/istio-ingressgateway->bookinfo/productpage");
    const EdgeSnapshot *toDb = snap->edge("istio-system/istio-ingressgateway->db/postgres");
    const EdgeSnapshot *toRatings = snap->edge("bookinfo/reviews@v2->bookinfo/ratings");
    const EdgeSnapshot *toRedis = snap->edge("bookinfo/reviews@v2->cache/redis");
    QVERIFY2(in && toProductpage && toDb && toRatings && toRedis, qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edges.size(), size_t(5));
    QCOMPARE(in->stats.requests, uint64_t(7));
    QCOMPARE(toProductpage->stats.requests, uint64_t(5));
    QCOMPARE(toProductpage->stats.errorRate, 0.2);
    QCOMPARE(toProductpage->stats.rate4xx, 0.2);
    QCOMPARE(directionName(toProductpage->direction), "north_south");
    QCOMPARE(protocolName(toProductpage->protocol), "http");
    QCOMPARE(toDb->stats.requests, uint64_t(2));
    QCOMPARE(toDb->stats.bytes, uint64_t(4000));
    QCOMPARE(protocolName(toDb->protocol), "tcp");
    QCOMPARE(toRatings->stats.requests, uint64_t(2));
    QCOMPARE(directionName(toRatings->direction), "east_west");
    QCOMPARE(toRedis->stats.requests, uint64_t(1));
    QCOMPARE(protocolName(toRedis->protocol), "tcp");
    QCOMPARE(nodeKindName(snap->node("istio-system/istio-ingressgateway")->kind), "gateway");
    QCOMPARE(nodeKindName(snap->node("bookinfo/productpage")->kind), "service");
    QCOMPARE(nodeKindName(snap->node("external")->kind), "external");
    QVERIFY(in->origins == std::vector<std::string> {"als"});

    const IngestCounters &c = snap->counters;
    QCOMPARE(c.exportCalls, uint64_t(5));  // one per message
    QCOMPARE(c.spansReceived, uint64_t(10));  // entries
    QCOMPARE(c.spansRejected, uint64_t(0));
    QCOMPARE(c.malformedMessages, uint64_t(0));
    QCOMPARE(c.requests, uint64_t(7 * 2 + 3));  // a gateway entry is two requests
    QVERIFY(c.rejectionReasons.empty());

    // The live requests table: the gateway's entries in the order they were sent.
    std::vector<RequestEvent> entering;
    for (RequestEvent &ev : h.aggregator().recentRequests(0, 100)) {
        QCOMPARE(ev.origin, std::string("als"));
        if (ev.sourceId == "external")
            entering.push_back(std::move(ev));
    }
    QCOMPARE(entering.size(), size_t(7));
    const std::vector<std::tuple<const char *, const char *, int>> expected
        = {{"GET", "/productpage", 200}, {"GET", "/productpage", 200}, {"GET", "/productpage", 503},
            {"POST", "/login", 200}, {"GET", "/static/app.js", 404}};
    for (size_t i = 0; i < expected.size(); ++i) {
        QCOMPARE(entering[i].method, std::string(std::get<0>(expected[i])));
        QCOMPARE(entering[i].path, std::string(std::get<1>(expected[i])));
        QCOMPARE(entering[i].httpStatus, std::get<2>(expected[i]));
        QCOMPARE(entering[i].error, std::get<2>(expected[i]) == 503);
        QCOMPARE(entering[i].authority, std::string("shop.example.com"));
        QCOMPARE(entering[i].protocol, Protocol::Http);
    }
    QCOMPARE(entering[5].protocol, Protocol::Tcp);
    QCOMPARE(entering[5].bytes, int64_t(3000));
    QCOMPARE(entering[5].httpStatus, -1);

    QVERIFY(waitFor([&] { return h.receiver().counters().streamsActive == 0; }));
    const AlsReceiverCounters rc = h.receiver().counters();
    QCOMPARE(rc.streamsOpened, uint64_t(2));
    QCOMPARE(rc.streamsCut, uint64_t(0));
    QCOMPARE(rc.messages, uint64_t(5));
    QCOMPARE(rc.httpEntries, uint64_t(7));
    QCOMPARE(rc.tcpEntries, uint64_t(3));
    QCOMPARE(rc.requests, uint64_t(17));
    QCOMPARE(rc.rejectedEntries, uint64_t(0));
}

void TestAlsReceiver::streamCutMidwayLosesNothingReceived()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());

    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    als::StreamAccessLogsResponse resp;
    auto writer = h.stub().StreamAccessLogs(&ctx, &resp);
    als::StreamAccessLogsMessage first, second;
    identify(first, kGatewayId, "istio-ingressgateway.istio-system");
    addHttp(first, kProductpage, envoy::config::core::v3::GET, "/a", 200);
    addHttp(first, kProductpage, envoy::config::core::v3::GET, "/b", 200);
    addHttp(second, kProductpage, envoy::config::core::v3::GET, "/c", 500);
    addHttp(second, kProductpage, envoy::config::core::v3::GET, "/d", 200);
    QVERIFY(writer->Write(first));
    QVERIFY(writer->Write(second));
    // Once the receiver has read both, the client goes away without half-closing.
    QVERIFY(waitFor([&] { return h.receiver().counters().messages == 2; }));
    ctx.TryCancel();
    const grpc::Status st = writer->Finish();
    QCOMPARE(int(st.error_code()), int(grpc::StatusCode::CANCELLED));
    QVERIFY(waitFor([&] { return h.receiver().counters().streamsActive == 0; }));
    QCOMPARE(h.receiver().counters().streamsCut, uint64_t(1));

    GraphSnapshotPtr snap = h.snapshot();
    const EdgeSnapshot *in = snap->edge("external->istio-system/istio-ingressgateway");
    QVERIFY2(in, qPrintable(edgeList(*snap)));
    QCOMPARE(in->stats.requests, uint64_t(4));
    QCOMPARE(in->stats.errorRate, 0.25);
    QStringList paths;
    for (const RequestEvent &ev : h.aggregator().recentRequests(0, 100)) {
        if (ev.sourceId == "external")
            paths << QString::fromStdString(ev.path);
    }
    QCOMPARE(
        paths, QStringList({QStringLiteral("/a"), QStringLiteral("/b"), QStringLiteral("/c"), QStringLiteral("/d")}));

    expectStillServing(h, 1);
}

void TestAlsReceiver::malformedBytesCountedAndServingGoesOn()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());

    const std::string junk("\x0a\xff\xff\xff\x7f\x01\x02\x03 not a protobuf message");
    const grpc::Status st = h.rawStream({junk});
    QCOMPARE(int(st.error_code()), int(grpc::StatusCode::INVALID_ARGUMENT));
    QVERIFY2(QByteArray::fromStdString(st.error_message()).contains("malformed"), st.error_message().c_str());
    GraphSnapshotPtr snap = h.snapshot();
    QCOMPARE(snap->counters.malformedMessages, uint64_t(1));
    QCOMPARE(snap->counters.rejectionReasons.at("malformed access log message"), uint64_t(1));
    QCOMPARE(snap->counters.spansReceived, uint64_t(0));
    QVERIFY(snap->edges.empty());
    QCOMPARE(h.receiver().counters().malformedMessages, uint64_t(1));

    // A good message, then junk on the same stream: the good one is kept.
    als::StreamAccessLogsMessage good;
    identify(good, kGatewayId, "istio-ingressgateway.istio-system");
    addHttp(good, kProductpage, envoy::config::core::v3::GET, "/kept", 200);
    const grpc::Status st2 = h.rawStream({good.SerializeAsString(), junk, good.SerializeAsString()});
    QCOMPARE(int(st2.error_code()), int(grpc::StatusCode::INVALID_ARGUMENT));
    snap = h.snapshot();
    QCOMPARE(snap->counters.malformedMessages, uint64_t(2));
    QVERIFY2(snap->edge("external->istio-system/istio-ingressgateway"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edge("external->istio-system/istio-ingressgateway")->stats.requests, uint64_t(1));

    // Well-formed bytes on the raw path are accepted: it was the content that was refused.
    const grpc::Status ok = h.rawStream({canaryMessage(7).SerializeAsString()});
    QVERIFY2(ok.ok(), ok.error_message().c_str());
    expectStillServing(h, 2);
    QCOMPARE(h.snapshot()->counters.malformedMessages, uint64_t(2));
}

void TestAlsReceiver::oversizedMessageRejected()
{
    constexpr size_t kLimit = 64 * 1024;
    Harness h(kLimit);
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());

    std::vector<als::StreamAccessLogsMessage> messages(2);
    identify(messages[0], kGatewayId, "istio-ingressgateway.istio-system");
    addHttp(messages[0], kProductpage, envoy::config::core::v3::GET, "/before", 200);
    // About 100 KiB of otherwise valid entries.
    for (int i = 0; messages[1].ByteSizeLong() < 100 * 1024; ++i)
        addHttp(messages[1], kProductpage, envoy::config::core::v3::GET, "/big/" + std::string(900, 'q'), 200);
    const size_t size = messages[1].ByteSizeLong();
    QVERIFY(size > kLimit && size < 2 * kLimit);

    const grpc::Status st = h.stream(messages);
    QCOMPARE(int(st.error_code()), int(grpc::StatusCode::RESOURCE_EXHAUSTED));
    QVERIFY2(QByteArray::fromStdString(st.error_message()).contains(QByteArray::number(qulonglong(kLimit))),
        st.error_message().c_str());
    GraphSnapshotPtr snap = h.snapshot();
    QCOMPARE(snap->counters.oversizedMessages, uint64_t(1));
    QCOMPARE(snap->counters.spansReceived, uint64_t(1));  // the message before it was kept
    QCOMPARE(snap->edge("external->istio-system/istio-ingressgateway")->stats.requests, uint64_t(1));

    // Far over the limit (where gRPC itself would refuse) is refused and counted too.
    const grpc::Status far = h.rawStream({std::string(300 * 1024, 'x')});
    QCOMPARE(int(far.error_code()), int(grpc::StatusCode::RESOURCE_EXHAUSTED));
    QCOMPARE(h.snapshot()->counters.oversizedMessages, uint64_t(2));
    QCOMPARE(h.receiver().counters().oversizedMessages, uint64_t(2));
    QCOMPARE(h.snapshot()->counters.malformedMessages, uint64_t(0));

    expectStillServing(h, 3);
}

void TestAlsReceiver::entriesWithoutIdentifier()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    als::StreamAccessLogsMessage anonymous;
    addHttp(anonymous, "outbound|9080||reviews.bookinfo.svc.cluster.local", envoy::config::core::v3::GET, "/r", 200);
    addHttp(anonymous, "outbound|9080||reviews.bookinfo.svc.cluster.local", envoy::config::core::v3::GET, "/r", 200);
    const grpc::Status st = h.stream({anonymous});
    QVERIFY2(st.ok(), st.error_message().c_str());
    GraphSnapshotPtr snap = h.snapshot();
    QVERIFY2(snap->edge("unknown->bookinfo/reviews"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edge("unknown->bookinfo/reviews")->stats.requests, uint64_t(2));
    QCOMPARE(snap->counters.rejectionReasons.at(AlsDecoder::kNoIdentifierReason), uint64_t(2));
}

void TestAlsReceiver::addressInUse()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    GraphAggregator agg;
    AlsReceiverConfig rc;
    rc.listenAddress = "127.0.0.1:" + std::to_string(squatter.serverPort());
    AlsReceiver rx(agg, rc);
    std::string error;
    QVERIFY(!rx.start(&error));
    QVERIFY(!rx.running());
    QVERIFY2(QByteArray::fromStdString(error).contains(QByteArray::fromStdString(rc.listenAddress)), error.c_str());
    QVERIFY(error.find('\n') == std::string::npos);

    // Two receivers on one port would each see a random part of the streams.
    Harness first;
    QVERIFY2(first.start(&error), error.c_str());
    AlsReceiverConfig same;
    same.listenAddress = first.receiver().boundAddress();
    AlsReceiver second(agg, same);
    QVERIFY2(!second.start(&error), "a second receiver bound the same port");
}

void TestAlsReceiver::stopEndsOpenStreams()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    als::StreamAccessLogsResponse resp;
    auto writer = h.stub().StreamAccessLogs(&ctx, &resp);
    QVERIFY(writer->Write(canaryMessage(4)));
    QVERIFY(waitFor([&] { return h.receiver().counters().messages == 1; }));

    // Envoy never half-closes: stop() must not wait for it.
    const auto t0 = std::chrono::steady_clock::now();
    h.receiver().stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    QVERIFY2(took < std::chrono::seconds(3), "stop() waited for the open stream");
    QVERIFY(!h.receiver().running());
    QCOMPARE(h.receiver().counters().streamsActive, uint64_t(0));
    const grpc::Status st = writer->Finish();
    QVERIFY(!st.ok());
    QVERIFY(h.snapshot()->edge("probe/canary->probe/healthz"));  // what was read stays
}

void TestAlsReceiver::tracedEntriesBecomeStoredSpans()
{
    // The application's chain: receiver -> trace store sink -> aggregator. An entry with
    // a traceparent is a span in the store and one request in the graph; with
    // requestIdTraces configured, an entry with only x-request-id joins a trace too.
    GraphAggregator agg;
    TraceStore store;
    TraceStoreSink sink(store, agg);
    AlsReceiverConfig rc;
    rc.listenAddress = "127.0.0.1:0";
    rc.limits.requestIdTraces = true;
    AlsReceiver rx(sink, rc);
    std::string error;
    QVERIFY2(rx.start(&error), error.c_str());
    auto stub
        = als::AccessLogService::NewStub(grpc::CreateChannel(rx.boundAddress(), grpc::InsecureChannelCredentials()));

    als::StreamAccessLogsMessage first;
    identify(first, kReviewsId, "reviews.bookinfo");
    auto &traced = addHttp(
        first, "outbound|9080||ratings.bookinfo.svc.cluster.local", envoy::config::core::v3::GET, "/ratings/0", 503);
    auto *h = traced.mutable_request()->add_request_headers();
    h->set_key("traceparent");
    h->set_value("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    traced.mutable_common_properties()->set_stream_id("stream-1");
    als::StreamAccessLogsMessage second;  // same stream: no identifier
    auto &byRequestId = addHttp(
        second, "outbound|9080||details.bookinfo.svc.cluster.local", envoy::config::core::v3::GET, "/details/0", 200);
    byRequestId.mutable_request()->set_request_id("9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f");

    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    als::StreamAccessLogsResponse response;
    auto writer = stub->StreamAccessLogs(&ctx, &response);
    QVERIFY(writer->Write(first));
    QVERIFY(writer->Write(second));
    writer->WritesDone();
    const grpc::Status st = writer->Finish();
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(waitFor([&] { return rx.counters().messages == 2; }));

    QCOMPARE(store.counters().spans, uint64_t(2));
    TraceId w3c {};
    const uint8_t w3cBytes[16]
        = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    std::copy(std::begin(w3cBytes), std::end(w3cBytes), w3c.begin());
    const std::optional<std::vector<Span>> trace = store.trace(w3c);
    QVERIFY(trace && trace->size() == 1);
    const Span &s = trace->front();
    QCOMPARE(s.kind, SpanKind::Client);
    QCOMPARE(s.service, std::string("reviews"));
    QCOMPARE(s.serviceNamespace, std::string("bookinfo"));
    QCOMPARE(s.peer, std::string("ratings"));
    QCOMPARE(spanIdHex(s.parentSpanId), std::string("00f067aa0ba902b7"));
    QCOMPARE(s.name, std::string("shop.example.com/ratings/0"));
    QCOMPARE(s.httpStatus, 503);
    QCOMPARE(s.status, SpanStatus::Error);
    QCOMPARE(s.durationMs(), 12.0);

    const std::vector<TraceSummary> all = store.search({});
    QCOMPARE(all.size(), size_t(2));
    const bool requestIdTrace = std::any_of(all.begin(), all.end(),
        [](const TraceSummary &t) { return traceIdHex(t.traceId) == "9f1c2d3e4b5a4c6d8e7f0a1b2c3d4e5f"; });
    QVERIFY(requestIdTrace);

    // The graph counted each request once, from the requests alone.
    GraphSnapshotPtr snap = agg.snapshot(GraphAggregator::wallNowMs());
    QVERIFY2(snap->edge("bookinfo/reviews@v2->bookinfo/ratings"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edge("bookinfo/reviews@v2->bookinfo/ratings")->stats.requests, uint64_t(1));
    QCOMPARE(snap->edge("bookinfo/reviews@v2->bookinfo/details")->stats.requests, uint64_t(1));
    QCOMPARE(snap->edges.size(), size_t(2));
    rx.stop();
}

QTEST_GUILESS_MAIN(TestAlsReceiver)
#include "tst_alsreceiver.moc"

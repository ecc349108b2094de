// OtlpReceiver over real loopback gRPC: a generated TraceService client sends
// exports whose client and server halves are split across calls, and a generic
// client sends what no well-behaved exporter would (junk bytes, oversized messages,
// batches with bad spans). After every bad call the receiver keeps serving.

#include "common/otlpbuilder.h"
#include "graph/graphaggregator.h"
#include "net/grpclistener.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "telemetry/otlp/otlpreceiver.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <QTcpServer>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <vector>

using namespace meshscope;
using namespace meshscope::test;

namespace collector = opentelemetry::proto::collector::trace::v1;

namespace {

constexpr const char *kExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

uint64_t wallNowNs()
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// One receiver on a free loopback port, its aggregator, and clients for it.
class Harness {
public:
    explicit Harness(AggregatorConfig aggConfig = {}, size_t maxMessageBytes = 16u * 1024 * 1024)
        : m_agg(aggConfig)
    {
        OtlpReceiverConfig rc;
        rc.listenAddress = "127.0.0.1:0";
        rc.maxMessageBytes = maxMessageBytes;
        m_receiver = std::make_unique<OtlpReceiver>(m_agg, rc);
    }

    bool start(std::string *error)
    {
        if (!m_receiver->start(error))
            return false;
        m_channel = grpc::CreateChannel(m_receiver->boundAddress(), grpc::InsecureChannelCredentials());
        m_stub = collector::TraceService::NewStub(m_channel);
        m_generic = std::make_unique<grpc::GenericStub>(m_channel);
        return true;
    }

    grpc::Status exportRequest(
        const collector::ExportTraceServiceRequest &req, collector::ExportTraceServiceResponse *resp = nullptr)
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        collector::ExportTraceServiceResponse local;
        return m_stub->Export(&ctx, req, resp ? resp : &local);
    }

    // Sends raw bytes on the Export method, bypassing the client's serializer.
    grpc::Status exportRaw(const std::string &bytes, grpc::ByteBuffer *response)
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        grpc::Slice slice(bytes);
        const grpc::ByteBuffer request(&slice, 1);
        std::promise<grpc::Status> done;
        m_generic->UnaryCall(&ctx, kExportMethod, grpc::StubOptions(), &request, response,
            [&done](grpc::Status s) { done.set_value(std::move(s)); });
        return done.get_future().get();
    }

    // Sends `total` bytes of 'x' on the Export method without holding them: every
    // slice of the request points at one shared static block.
    grpc::Status exportHuge(size_t total, std::chrono::seconds deadline = std::chrono::seconds(60))
    {
        static const std::string block(1 << 20, 'x');
        std::vector<grpc::Slice> slices;
        for (size_t sent = 0; sent < total; sent += block.size())
            slices.emplace_back(block.data(), std::min(block.size(), total - sent), grpc::Slice::STATIC_SLICE);
        const grpc::ByteBuffer request(slices.data(), slices.size());
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + deadline);
        grpc::ByteBuffer response;
        std::promise<grpc::Status> done;
        m_generic->UnaryCall(&ctx, kExportMethod, grpc::StubOptions(), &request, &response,
            [&done](grpc::Status s) { done.set_value(std::move(s)); });
        return done.get_future().get();
    }

    GraphSnapshotPtr snapshot() { return m_agg.snapshot(GraphAggregator::wallNowMs()); }

    GraphAggregator &aggregator() { return m_agg; }
    OtlpReceiver &receiver() { return *m_receiver; }

private:
    GraphAggregator m_agg;
    std::unique_ptr<OtlpReceiver> m_receiver;
    std::shared_ptr<grpc::Channel> m_channel;
    std::unique_ptr<collector::TraceService::Stub> m_stub;
    std::unique_ptr<grpc::GenericStub> m_generic;
};

// A single root request into "canary": proof that the receiver still serves.
collector::ExportTraceServiceRequest canaryRequest(uint64_t spanId)
{
    ExportBuilder b;
    b.resource("canary", "probe", "v1");
    b.span(SpanKind::Server, 0xca0000 + spanId, spanId, 0, wallNowNs() - 10 * kMsNs, 2 * kMsNs, "GET /healthz");
    return b.request();
}

}  // namespace

class TestOtlpReceiver : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void halvesSplitAcrossExports();
    void malformedBytesRejected();
    void oversizedMessageRejected();
    void messageFarOverLimitRejectedAndCounted();
    void hugeExportsCostTheQuotaNotTheirSize();
    void partialSuccessForBadSpans();
    void addressInUseByOtherSocket();
    void addressInUseByAnotherReceiver();
    void stoppedReceiverAnswersNothing();

private:
    void expectStillServing(Harness &h, uint64_t spanId);
};

void TestOtlpReceiver::expectStillServing(Harness &h, uint64_t spanId)
{
    const uint64_t before = h.snapshot()->counters.spansAccepted;
    collector::ExportTraceServiceResponse resp;
    const grpc::Status st = h.exportRequest(canaryRequest(spanId), &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(!resp.has_partial_success() || resp.partial_success().rejected_spans() == 0);
    GraphSnapshotPtr snap = h.snapshot();
    QCOMPARE(snap->counters.spansAccepted, before + 1);
    QVERIFY2(snap->edge("external->probe/canary@v1"), qPrintable(edgeList(*snap)));
}

void TestOtlpReceiver::halvesSplitAcrossExports()
{
    AggregatorConfig cfg;
    cfg.pairingTtlMs = 60000;  // nothing may expire on its own during the test
    Harness h(cfg);
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    QVERIFY(h.receiver().port() > 0);

    // 20 requests through external -> gateway -> frontend -> reviews -> postgres.
    // Export 1: the gateway's spans and, before their callers, reviews' server spans.
    // Export 2: frontend's spans (server half of gateway->frontend, client half of
    //           frontend->reviews). Export 3: reviews' calls to the database, whose
    //           callee is not instrumented.
    constexpr int kRequests = 20;
    const uint64_t t = wallNowNs() - 2000 * kMsNs;
    ExportBuilder e1, e2, e3;
    e1.resource("istio-ingressgateway", "istio-system", "v1");
    for (int i = 0; i < kRequests; ++i) {
        const uint64_t base = 0x100000 + uint64_t(i) * 0x10, trace = 500 + uint64_t(i);
        auto &root = e1.span(SpanKind::Server, trace, base + 1, 0, t, 30 * kMsNs, "ingress");
        setAttr(root, "http.method", "GET");
        setIntAttr(root, "http.status_code", 200);
        auto &out = e1.span(SpanKind::Client, trace, base + 2, base + 1, t + kMsNs, 28 * kMsNs, "egress frontend");
        setAttr(out, "upstream_cluster", "outbound|80||frontend.shop.svc.cluster.local");
    }
    e1.resource("reviews", "shop", "v1");
    for (int i = 0; i < kRequests; ++i) {
        const uint64_t base = 0x100000 + uint64_t(i) * 0x10, trace = 500 + uint64_t(i);
        auto &s = e1.span(SpanKind::Server, trace, base + 5, base + 4, t + 3 * kMsNs, 10 * kMsNs, "Reviews/Get");
        setAttr(s, "rpc.system", "grpc");
        setIntAttr(s, "rpc.grpc.status_code", i % 10 == 0 ? 14 : 0);  // 2 of 20 fail
    }
    e2.resource("frontend", "shop", "v1");
    for (int i = 0; i < kRequests; ++i) {
        const uint64_t base = 0x100000 + uint64_t(i) * 0x10, trace = 500 + uint64_t(i);
        auto &s = e2.span(SpanKind::Server, trace, base + 3, base + 2, t + 2 * kMsNs, 25 * kMsNs, "GET /");
        setAttr(s, "http.request.method", "GET");
        setAttr(s, "http.response.status_code", i % 5 == 0 ? "503" : "200");  // 4 of 20 fail, as Envoy says it
        auto &c = e2.span(SpanKind::Client, trace, base + 4, base + 3, t + 3 * kMsNs, 12 * kMsNs, "Reviews/Get");
        setAttr(c, "rpc.system", "grpc");
    }
    e3.resource("reviews", "shop", "v1");
    for (int i = 0; i < kRequests; ++i) {
        const uint64_t base = 0x100000 + uint64_t(i) * 0x10, trace = 500 + uint64_t(i);
        auto &db = e3.span(SpanKind::Client, trace, base + 6, base + 5, t + 4 * kMsNs, 3 * kMsNs, "SELECT");
        setAttr(db, "db.system", "postgresql");
        setAttr(db, "peer.service", "postgres");
    }

    collector::ExportTraceServiceResponse resp;
    grpc::Status st = h.exportRequest(e1.request(), &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(!resp.has_partial_success());
    GraphSnapshotPtr snap = h.snapshot();
    QVERIFY2(snap->edge("external->istio-system/istio-ingressgateway@v1"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edges.size(), size_t(1));  // everything else waits for its partner
    QCOMPARE(snap->edge("external->istio-system/istio-ingressgateway@v1")->stats.requests, uint64_t(kRequests));

    st = h.exportRequest(e2.request(), &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    snap = h.snapshot();
    QCOMPARE(snap->edges.size(), size_t(3));
    const EdgeSnapshot *gwFront = snap->edge("istio-system/istio-ingressgateway@v1->shop/frontend@v1");
    QVERIFY2(gwFront, qPrintable(edgeList(*snap)));
    QCOMPARE(gwFront->stats.requests, uint64_t(kRequests));
    QCOMPARE(directionName(gwFront->direction), "north_south");
    QCOMPARE(gwFront->stats.errorRate, 4.0 / kRequests);
    QCOMPARE(protocolName(gwFront->protocol), "http");
    const EdgeSnapshot *frontReviews = snap->edge("shop/frontend@v1->shop/reviews@v1");
    QVERIFY2(frontReviews, qPrintable(edgeList(*snap)));
    QCOMPARE(frontReviews->stats.requests, uint64_t(kRequests));
    QCOMPARE(directionName(frontReviews->direction), "east_west");
    QCOMPARE(frontReviews->stats.errorRate, 2.0 / kRequests);
    QCOMPARE(protocolName(frontReviews->protocol), "grpc");
    // Latency of the edge is the caller's: 12 ms, not the callee's 10 ms.
    QVERIFY2(qAbs(frontReviews->stats.p50Ms - 12.0) <= 0.12, qPrintable(QString::number(frontReviews->stats.p50Ms)));

    st = h.exportRequest(e3.request(), &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    // Database calls have no server half to wait for: they count as they arrive.
    snap = h.snapshot();
    QCOMPARE(snap->edges.size(), size_t(4));
    QCOMPARE(snap->counters.pendingHalves, uint64_t(0));
    const EdgeSnapshot *db = snap->edge("shop/reviews@v1->ext:postgres");
    QVERIFY2(db, qPrintable(edgeList(*snap)));
    QCOMPARE(db->stats.requests, uint64_t(kRequests));
    QCOMPARE(directionName(db->direction), "north_south");
    QCOMPARE(db->stats.errorRate, 0.0);

    QCOMPARE(nodeKindName(snap->node("istio-system/istio-ingressgateway@v1")->kind), "gateway");
    QCOMPARE(nodeKindName(snap->node("shop/frontend@v1")->kind), "service");
    QCOMPARE(nodeKindName(snap->node("ext:postgres")->kind), "external-service");

    const IngestCounters &c = snap->counters;
    QCOMPARE(c.exportCalls, uint64_t(3));
    QCOMPARE(c.spansReceived, uint64_t(6 * kRequests));
    QCOMPARE(c.spansAccepted, uint64_t(6 * kRequests));
    QCOMPARE(c.spansRejected, uint64_t(0));
    QCOMPARE(c.malformedMessages, uint64_t(0));
    QCOMPARE(c.requests, uint64_t(4 * kRequests));
    QCOMPARE(c.duplicateSpans, uint64_t(0));
}

void TestOtlpReceiver::malformedBytesRejected()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());

    grpc::ByteBuffer response;
    const grpc::Status st = h.exportRaw(junkBytes(), &response);
    QCOMPARE(int(st.error_code()), int(grpc::StatusCode::INVALID_ARGUMENT));
    QVERIFY2(QByteArray::fromStdString(st.error_message()).contains("malformed"), st.error_message().c_str());

    GraphSnapshotPtr snap = h.snapshot();
    QCOMPARE(snap->counters.malformedMessages, uint64_t(1));
    QCOMPARE(snap->counters.spansReceived, uint64_t(0));
    QCOMPARE(snap->counters.rejectionReasons.at("malformed protobuf"), uint64_t(1));
    QVERIFY(snap->edges.empty());

    expectStillServing(h, 1);

    // Well-formed bytes on the same raw path are accepted: it is the content, not
    // the generic client, that was refused.
    ExportBuilder b;
    b.resource("raw-sender");
    b.span(SpanKind::Server, 77, 77, 0, wallNowNs() - kMsNs * 5, kMsNs);
    const grpc::Status ok = h.exportRaw(b.serialized(), &response);
    QVERIFY2(ok.ok(), ok.error_message().c_str());
    QVERIFY(h.snapshot()->edge("external->raw-sender"));
    QCOMPARE(h.snapshot()->counters.malformedMessages, uint64_t(1));
}

void TestOtlpReceiver::oversizedMessageRejected()
{
    constexpr size_t kLimit = 64 * 1024;
    Harness h({}, kLimit);
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());

    // About 100 KiB of otherwise valid spans.
    ExportBuilder b;
    b.resource("chatty", "shop", "v1");
    const uint64_t t = wallNowNs() - 100 * kMsNs;
    for (uint64_t i = 1; b.request().ByteSizeLong() < 100 * 1024; ++i)
        setAttr(b.span(SpanKind::Server, i, i, 0, t, kMsNs), "http.url", "https://x.example/" + std::string(900, 'q'));
    const size_t size = b.request().ByteSizeLong();
    QVERIFY(size > kLimit && size < 2 * kLimit);

    const grpc::Status st = h.exportRequest(b.request());
    QCOMPARE(int(st.error_code()), int(grpc::StatusCode::RESOURCE_EXHAUSTED));
    QVERIFY2(QByteArray::fromStdString(st.error_message()).contains(QByteArray::number(qulonglong(kLimit))),
        st.error_message().c_str());

    GraphSnapshotPtr snap = h.snapshot();
    QCOMPARE(snap->counters.oversizedMessages, uint64_t(1));
    QCOMPARE(snap->counters.spansReceived, uint64_t(0));
    QVERIFY(snap->edges.empty());

    expectStillServing(h, 2);
}

void TestOtlpReceiver::messageFarOverLimitRejectedAndCounted()
{
    // Oversized messages each get a counted, visible rejection, however large they are.
    constexpr size_t kLimit = 64 * 1024;
    Harness h({}, kLimit);
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    const std::string huge(300 * 1024, 'x');
    grpc::ByteBuffer response;
    const grpc::Status st = h.exportRaw(huge, &response);
    QCOMPARE(int(st.error_code()), int(grpc::StatusCode::RESOURCE_EXHAUSTED));
    expectStillServing(h, 3);
    QCOMPARE(h.snapshot()->counters.oversizedMessages, uint64_t(1));
}

// The peak resident size of this process since the last resetPeakRss(), in bytes.
qint64 peakRssBytes()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong() * 1024;
    }
    return -1;
}

bool resetPeakRss()
{
    QFile refs(QStringLiteral("/proc/self/clear_refs"));
    return refs.open(QIODevice::WriteOnly) && refs.write("5") == 1;
}

void TestOtlpReceiver::hugeExportsCostTheQuotaNotTheirSize()
{
    // gRPC 1.51 reads a whole message before anyone can refuse it, so the listener's
    // memory quota is what keeps four concurrent 1 GiB exports from being held: gRPC
    // resets their streams once the quota is spent, and the process grows by the quota
    // at most (without it, by 4 GiB).
    constexpr size_t kLimit = 64 * 1024;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    // Under a sanitizer gRPC moves bytes some 20 times slower (a 32 MiB export ran past
    // a minute on a busy CI machine) and shadow memory makes RSS say nothing of the
    // quota: one 8 MiB export (128 times the limit), refused, and serving goes on.
    constexpr bool kMeasure = false;
    constexpr size_t kHuge = size_t(8) << 20;
    constexpr int kSenders = 1;
    constexpr int kDeadlineSeconds = 300;
#else
    constexpr bool kMeasure = true;
    constexpr size_t kHuge = size_t(1) << 30;
    constexpr int kSenders = 4;
    constexpr int kDeadlineSeconds = 60;
#endif
    Harness h({}, kLimit);
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    expectStillServing(h, 4);
    QVERIFY2(resetPeakRss(), "cannot reset the peak RSS through /proc/self/clear_refs");
    const qint64 before = peakRssBytes();
    std::vector<std::future<grpc::Status>> senders;
    const std::chrono::seconds deadline(kDeadlineSeconds);
    for (int i = 0; i < kSenders; ++i)
        senders.push_back(std::async(std::launch::async, [&h, deadline] { return h.exportHuge(kHuge, deadline); }));
    for (auto &s : senders) {
        const grpc::Status st = s.get();
        QCOMPARE(int(st.error_code()), int(grpc::StatusCode::RESOURCE_EXHAUSTED));
    }
    const qint64 grown = peakRssBytes() - before;
    qInfo("peak RSS grew by %lld MiB while %d exports of %zu MiB were refused", grown >> 20, kSenders, kHuge >> 20);
    if (!kMeasure) {
        expectStillServing(h, 5);
        return;
    }
    // The quota, plus what gRPC holds outside it (frames being parsed, per-stream
    // buffers): measured 130-195 MiB; without the quota, over 4 GiB.
    QVERIFY2(grown < qint64(2 * receiverMemoryQuota(kLimit)),
        qPrintable(QStringLiteral("peak RSS grew by %1 MiB").arg(grown >> 20)));
    expectStillServing(h, 5);
}

void TestOtlpReceiver::partialSuccessForBadSpans()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());

    ExportBuilder b;
    b.resource("orders", "shop", "v3");
    const uint64_t t = wallNowNs() - 50 * kMsNs;
    for (uint64_t i = 1; i <= 10; ++i)
        b.span(SpanKind::Server, 900 + i, 0x9000 + i, 0, t, 4 * kMsNs, "POST /orders");
    auto *spans = b.request().mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans();
    spans->Mutable(2)->set_span_id("short");  // wrong id length
    spans->Mutable(5)->set_start_time_unix_nano(7'258'118'400ull * 1'000'000'000ull);  // year 2200
    spans->Mutable(5)->set_end_time_unix_nano(7'258'118'401ull * 1'000'000'000ull);
    spans->Mutable(8)->set_name("POST /caf\xc3");  // invalid UTF-8

    collector::ExportTraceServiceResponse resp;
    const grpc::Status st = h.exportRequest(b.request(), &resp);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(resp.has_partial_success());
    QCOMPARE(resp.partial_success().rejected_spans(), int64_t(3));
    const QString msg = QString::fromStdString(resp.partial_success().error_message());
    QVERIFY2(msg.contains(QLatin1String("span_id is not 8 bytes")), qPrintable(msg));
    QVERIFY2(msg.contains(QLatin1String("start timestamp too far from now")), qPrintable(msg));
    QVERIFY2(msg.contains(QLatin1String("invalid UTF-8 in span name")), qPrintable(msg));
    QVERIFY2(msg.startsWith(QLatin1String("3 of 10 spans rejected")), qPrintable(msg));

    GraphSnapshotPtr snap = h.snapshot();
    QCOMPARE(snap->counters.spansReceived, uint64_t(10));
    QCOMPARE(snap->counters.spansRejected, uint64_t(3));
    QCOMPARE(snap->counters.spansAccepted, uint64_t(7));
    QCOMPARE(snap->counters.rejectionReasons.at("span_id is not 8 bytes"), uint64_t(1));
    // The seven good spans made it into the graph.
    QVERIFY2(snap->edge("external->shop/orders@v3"), qPrintable(edgeList(*snap)));
    QCOMPARE(snap->edge("external->shop/orders@v3")->stats.requests, uint64_t(7));

    expectStillServing(h, 4);
}

void TestOtlpReceiver::addressInUseByOtherSocket()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    GraphAggregator agg;
    OtlpReceiverConfig rc;
    rc.listenAddress = "127.0.0.1:" + std::to_string(squatter.serverPort());
    OtlpReceiver rx(agg, rc);
    std::string error;
    QVERIFY(!rx.start(&error));
    QVERIFY(!rx.running());
    QVERIFY2(QByteArray::fromStdString(error).contains(QByteArray::fromStdString(rc.listenAddress)), error.c_str());
    QVERIFY(error.find('\n') == std::string::npos);
}

void TestOtlpReceiver::addressInUseByAnotherReceiver()
{
    // Two meshscope instances on one port would each see a random half of the
    // traffic; the second must refuse to start instead.
    Harness first;
    std::string error;
    QVERIFY2(first.start(&error), error.c_str());
    GraphAggregator agg;
    OtlpReceiverConfig rc;
    rc.listenAddress = first.receiver().boundAddress();
    OtlpReceiver second(agg, rc);
    const bool started = second.start(&error);
    QVERIFY2(!started,
        qPrintable(QStringLiteral("second receiver also bound %1").arg(QString::fromStdString(rc.listenAddress))));
}

void TestOtlpReceiver::stoppedReceiverAnswersNothing()
{
    Harness h;
    std::string error;
    QVERIFY2(h.start(&error), error.c_str());
    expectStillServing(h, 5);
    const int port = h.receiver().port();
    h.receiver().stop();
    QVERIFY(!h.receiver().running());
    // A stopped receiver answers nothing.
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    auto stub = collector::TraceService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    collector::ExportTraceServiceResponse resp;
    QVERIFY(!stub->Export(&ctx, canaryRequest(6), &resp).ok());
}

QTEST_GUILESS_MAIN(TestOtlpReceiver)
#include "tst_otlpreceiver.moc"

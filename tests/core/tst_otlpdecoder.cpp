// OtlpDecoder: good spans of every kind and every attribute spelling the decoder
// reads; bad input of every kind, each rejected with its own counted reason while
// the rest of the batch is kept; and unbounded service cardinality through the
// aggregator.

#include "common/otlpbuilder.h"
#include "graph/graphaggregator.h"
#include "model/text.h"
#include "telemetry/otlp/otlpdecoder.h"

#include <QtTest>

#include <functional>

using namespace meshscope;
using namespace meshscope::test;

namespace {

// A span that the decoder must accept, a second before "now".
otlp::trace::v1::Span &goodSpan(ExportBuilder &b, uint64_t spanId, SpanKind kind = SpanKind::Server)
{
    return b.span(kind, 1, spanId, 0, kT0Ns - 1000 * kMsNs, 20 * kMsNs, "GET /");
}

// Field by field, so that a mismatch says where it is.
QString spanDifference(const Span &a, const Span &b)
{
    QStringList d;
    auto check = [&d](const char *what, bool same) {
        if (!same)
            d << QLatin1String(what);
    };
    check("traceId", a.traceId == b.traceId);
    check("spanId", a.spanId == b.spanId);
    check("parentSpanId", a.parentSpanId == b.parentSpanId);
    check("kind", a.kind == b.kind);
    check("status", a.status == b.status);
    check("protocol", a.protocol == b.protocol);
    check("service", a.service == b.service);
    check("serviceNamespace", a.serviceNamespace == b.serviceNamespace);
    check("serviceVersion", a.serviceVersion == b.serviceVersion);
    check("name", a.name == b.name);
    check("startNs", a.startNs == b.startNs);
    check("endNs", a.endNs == b.endNs);
    check("peer", a.peer == b.peer);
    check("method", a.method == b.method);
    check("path", a.path == b.path);
    check("authority", a.authority == b.authority);
    check("httpStatus", a.httpStatus == b.httpStatus);
    check("grpcStatus", a.grpcStatus == b.grpcStatus);
    check("requestBytes", a.requestBytes == b.requestBytes);
    check("responseBytes", a.responseBytes == b.responseBytes);
    check("mtls", a.mtls == b.mtls);
    check("databaseCall", a.databaseCall == b.databaseCall);
    check("statusMessage", a.statusMessage == b.statusMessage);
    check("attributes", a.attributes == b.attributes);
    return d.join(QLatin1String(", "));
}

// Empty when the message path and the wire path (what the receiver runs) agree.
QString resultDifference(const DecodeResult &msg, const DecodeResult &wire)
{
    if (msg.malformed != wire.malformed)
        return QStringLiteral("malformed differs");
    if (msg.received != wire.received || msg.rejected != wire.rejected)
        return QStringLiteral("counts differ: %1/%2 vs %3/%4")
            .arg(msg.received)
            .arg(msg.rejected)
            .arg(wire.received)
            .arg(wire.rejected);
    if (msg.droppedAttributes != wire.droppedAttributes)
        return QStringLiteral("dropped attributes differ");
    if (msg.reasons != wire.reasons)
        return QStringLiteral("reasons differ: '%1' vs '%2'")
            .arg(QString::fromStdString(msg.summary()), QString::fromStdString(wire.summary()));
    if (msg.spans.size() != wire.spans.size())
        return QStringLiteral("span counts differ");
    for (size_t i = 0; i < msg.spans.size(); ++i) {
        if (const QString d = spanDifference(msg.spans[i], wire.spans[i]); !d.isEmpty())
            return QStringLiteral("span %1 differs in %2").arg(i).arg(d);
    }
    return {};
}

// Decodes the request both from the message and from its serialized bytes, and
// records in *mismatch any way the two disagree.
DecodeResult decodeBoth(const ExportBuilder::Request &req, const DecodeLimits &limits, QString *mismatch)
{
    const OtlpDecoder decoder(limits);
    DecodeResult msg = decoder.decode(req, kT0Ns);
    const std::string bytes = req.SerializeAsString();
    const DecodeResult wire = decoder.decodeBytes(bytes.data(), bytes.size(), kT0Ns);
    *mismatch = resultDifference(msg, wire);
    return msg;
}

// Every decode in these tests goes through both paths and must agree.
#define DECODE_BOTH(result, builder, limits)                                                                           \
    QString result##Mismatch;                                                                                          \
    const DecodeResult result = decodeBoth((builder).request(), (limits), &result##Mismatch);                          \
    QVERIFY2(result##Mismatch.isEmpty(), qPrintable(QLatin1String("wire path: ") + result##Mismatch))

QString reasonsOf(const DecodeResult &r) { return QString::fromStdString(r.summary()); }

// 2200-01-01T00:00:00Z and a second after 1970-01-01T00:00:00Z.
constexpr uint64_t kYear2200Ns = 7'258'118'400ull * 1'000'000'000ull;
constexpr uint64_t k1970Ns = 1'000'000'000ull;

using SpanMutator = std::function<void(otlp::trace::v1::Span &)>;
using ResourceMutator = std::function<void(otlp::resource::v1::Resource &)>;

}  // namespace

Q_DECLARE_METATYPE(SpanMutator)
Q_DECLARE_METATYPE(ResourceMutator)

class TestOtlpDecoder : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void goodSpanOfEachKind();
    void namespaceFromKubernetesAttribute();
    void attributeSpellings_data();
    void attributeSpellings();
    void grpcProtocolAndPath();
    void statusCodeFromSpanStatus();
    void longValuesAreTruncatedNotRejected();
    void malformedBytes();
    void validBytesDecode();
    void wireFieldOrderDuplicatesAndUnknownFields();
    void badSpanRejectedRestSurvives_data();
    void badSpanRejectedRestSurvives();
    void badResourceRejectsItsSpansOnly_data();
    void badResourceRejectsItsSpansOnly();
    void everyReasonCountedInOneBatch();
    void limitsAreConfigurable();
    void utf8Validation_data();
    void utf8Validation();
    void hundredThousandServicesFold();
    void attributesAndStatusMessage();
    void attributeBounds();
    void repeatedArrayFieldsMergeOnTheWire();
};

void TestOtlpDecoder::goodSpanOfEachKind()
{
    ExportBuilder b;
    b.resource("frontend", "shop", "v1");
    const SpanKind kinds[] = {SpanKind::Server, SpanKind::Client, SpanKind::Producer, SpanKind::Consumer,
        SpanKind::Internal, SpanKind::Unspecified};
    uint64_t id = 0x100;
    for (SpanKind k : kinds) {
        b.span(k, 42, id, id == 0x100 ? 0 : 0x100, kT0Ns - 5000 * kMsNs, 7 * kMsNs, "op");
        ++id;
    }
    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.received, uint64_t(6));
    QCOMPARE(r.rejected, uint64_t(0));
    QVERIFY(r.reasons.empty());
    QVERIFY(!r.malformed);
    QVERIFY(r.summary().empty());
    QCOMPARE(r.spans.size(), size_t(6));
    for (size_t i = 0; i < r.spans.size(); ++i) {
        const Span &s = r.spans[i];
        QCOMPARE(int(s.kind), int(kinds[i]));
        QCOMPARE(s.service, std::string("frontend"));
        QCOMPARE(s.serviceNamespace, std::string("shop"));
        QCOMPARE(s.serviceVersion, std::string("v1"));
        QCOMPARE(s.name, std::string("op"));
        QVERIFY(s.traceId == traceIdOf(42));
        QCOMPARE(s.spanId, uint64_t(0x100 + i));
        QCOMPARE(s.parentSpanId, i == 0 ? uint64_t(0) : uint64_t(0x100));
        QCOMPARE(s.startNs, kT0Ns - 5000 * kMsNs);
        QCOMPARE(s.durationMs(), 7.0);
        QCOMPARE(s.status, SpanStatus::Unset);
    }
    QVERIFY(r.spans[1].isClientSide() && r.spans[2].isClientSide());
    QVERIFY(r.spans[0].isServerSide() && r.spans[3].isServerSide());
    QVERIFY(!r.spans[4].isClientSide() && !r.spans[4].isServerSide());
}

void TestOtlpDecoder::namespaceFromKubernetesAttribute()
{
    ExportBuilder b;
    b.resource("reviews", "bookinfo", "v2", "k8s.namespace.name");
    goodSpan(b, 1);
    // Both present: the OpenTelemetry service.namespace wins.
    b.resource("ratings", "from-service-ns", "v1");
    addAttr(b.request().mutable_resource_spans(1)->mutable_resource()->mutable_attributes(), "k8s.namespace.name",
        "from-k8s");
    goodSpan(b, 2);
    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.spans.size(), size_t(2));
    QCOMPARE(r.spans[0].serviceNamespace, std::string("bookinfo"));
    QCOMPARE(r.spans[0].serviceVersion, std::string("v2"));
    QCOMPARE(r.spans[1].serviceNamespace, std::string("from-service-ns"));
}

void TestOtlpDecoder::attributeSpellings_data()
{
    QTest::addColumn<SpanMutator>("set");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");

    auto str = [](const char *k, const char *v) { return SpanMutator([=](auto &s) { setAttr(s, k, v); }); };
    auto num = [](const char *k, int64_t v) { return SpanMutator([=](auto &s) { setIntAttr(s, k, v); }); };

    // HTTP status, the current and the older name, as SDKs (int) and Envoy (string) send it.
    QTest::newRow("http.response.status_code int") << num("http.response.status_code", 404) << "http"
                                                   << "404";
    QTest::newRow("http.status_code int (old)") << num("http.status_code", 503) << "http"
                                                << "503";
    QTest::newRow("http.status_code string (Envoy)") << str("http.status_code", "503") << "http"
                                                     << "503";
    QTest::newRow("http.response.status_code string") << str("http.response.status_code", "201") << "http"
                                                      << "201";
    QTest::newRow("status code not a number") << str("http.status_code", "5xx") << "http"
                                              << "-1";
    QTest::newRow("status code out of range") << num("http.status_code", 42) << "http"
                                              << "-1";
    QTest::newRow("status code with junk after it") << str("http.status_code", "200ms") << "http"
                                                    << "-1";
    QTest::newRow("status code as double") << SpanMutator([](auto &s) {
        auto *kv = s.add_attributes();
        kv->set_key("http.status_code");
        kv->mutable_value()->set_double_value(502.0);
    }) << "http"
                                           << "502";

    // Method, both names.
    QTest::newRow("http.request.method") << str("http.request.method", "POST") << "method"
                                         << "POST";
    QTest::newRow("http.method (old)") << str("http.method", "DELETE") << "method"
                                       << "DELETE";

    // gRPC status in every form: int, Envoy's string number, the code's name.
    QTest::newRow("rpc.grpc.status_code int") << num("rpc.grpc.status_code", 14) << "grpc"
                                              << "14";
    QTest::newRow("grpc.status_code string (Envoy)") << str("grpc.status_code", "4") << "grpc"
                                                     << "4";
    QTest::newRow("grpc.status_code name") << str("grpc.status_code", "UNAVAILABLE") << "grpc"
                                           << "14";
    QTest::newRow("rpc.grpc.status_code OK") << num("rpc.grpc.status_code", 0) << "grpc"
                                             << "0";
    QTest::newRow("grpc status out of range") << num("rpc.grpc.status_code", 99) << "grpc"
                                              << "-1";

    // Peer names, in both spellings.
    QTest::newRow("peer.service") << str("peer.service", "reviews") << "peer"
                                  << "reviews";
    QTest::newRow("service.peer.name") << str("service.peer.name", "ratings") << "peer"
                                       << "ratings";
    QTest::newRow("server.address") << str("server.address", "db.internal") << "peer"
                                    << "db.internal";
    QTest::newRow("net.peer.name (old)") << str("net.peer.name", "cache") << "peer"
                                         << "cache";
    QTest::newRow("db.system alone") << str("db.system", "postgresql") << "peer"
                                     << "postgresql";

    // Paths from every attribute that carries one.
    QTest::newRow("url.path") << str("url.path", "/api/v1/cart") << "path"
                              << "/api/v1/cart";
    QTest::newRow("http.target (old)") << str("http.target", "/cart?id=3") << "path"
                                       << "/cart?id=3";
    QTest::newRow("http.url (old, full URL)") << str("http.url", "https://shop.example:8443/checkout?x=1") << "path"
                                              << "/checkout?x=1";
    QTest::newRow("url.full without path") << str("url.full", "https://shop.example") << "path"
                                           << "/";
    QTest::newRow("http.route") << str("http.route", "/users/{id}") << "path"
                                << "/users/{id}";

    // Sizes, as ints and as Envoy's strings.
    QTest::newRow("http.request.body.size") << num("http.request.body.size", 1234) << "requestBytes"
                                            << "1234";
    QTest::newRow("request_size string (Envoy)") << str("request_size", "77") << "requestBytes"
                                                 << "77";
    QTest::newRow("http.response_content_length (old)") << num("http.response_content_length", 4096) << "responseBytes"
                                                        << "4096";

    // Istio's mTLS tag and Envoy's error flag.
    QTest::newRow("connection_security_policy mutual_tls") << str("connection_security_policy", "mutual_tls") << "mtls"
                                                           << "1";
    QTest::newRow("connection_security_policy none") << str("connection_security_policy", "none") << "mtls"
                                                     << "0";
    QTest::newRow("no security policy") << SpanMutator([](auto &) {}) << "mtls"
                                        << "-1";
    QTest::newRow("error=true (Envoy)") << str("error", "true") << "status"
                                        << "error";
    QTest::newRow("error bool") << SpanMutator([](auto &s) {
        auto *kv = s.add_attributes();
        kv->set_key("error");
        kv->mutable_value()->set_bool_value(true);
    }) << "status"
                                << "error";
    QTest::newRow("error=false") << str("error", "false") << "status"
                                 << "unset";

    // Authority.
    QTest::newRow("http.host") << str("http.host", "shop.example") << "authority"
                               << "shop.example";
}

void TestOtlpDecoder::attributeSpellings()
{
    QFETCH(SpanMutator, set);
    QFETCH(QString, field);
    QFETCH(QString, expected);

    ExportBuilder b;
    b.resource("frontend");
    set(goodSpan(b, 1, SpanKind::Client));
    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.rejected, uint64_t(0));
    QCOMPARE(r.spans.size(), size_t(1));
    const Span &s = r.spans[0];

    QString got;
    if (field == QLatin1String("http"))
        got = QString::number(s.httpStatus);
    else if (field == QLatin1String("grpc"))
        got = QString::number(s.grpcStatus);
    else if (field == QLatin1String("method"))
        got = QString::fromStdString(s.method);
    else if (field == QLatin1String("peer"))
        got = QString::fromStdString(s.peer);
    else if (field == QLatin1String("path"))
        got = QString::fromStdString(s.path);
    else if (field == QLatin1String("authority"))
        got = QString::fromStdString(s.authority);
    else if (field == QLatin1String("requestBytes"))
        got = QString::number(s.requestBytes);
    else if (field == QLatin1String("responseBytes"))
        got = QString::number(s.responseBytes);
    else if (field == QLatin1String("mtls"))
        got = QString::number(s.mtls);
    else if (field == QLatin1String("status"))
        got = s.status == SpanStatus::Error ? QStringLiteral("error")
            : s.status == SpanStatus::Ok    ? QStringLiteral("ok")
                                            : QStringLiteral("unset");
    else
        QFAIL("unknown field");
    QCOMPARE(got, expected);

    // Any HTTP attribute makes it an HTTP span, any gRPC one a gRPC span.
    if (field == QLatin1String("http") || field == QLatin1String("method"))
        QCOMPARE(protocolName(s.protocol), "http");
    if (field == QLatin1String("grpc"))
        QCOMPARE(protocolName(s.protocol), "grpc");
}

void TestOtlpDecoder::grpcProtocolAndPath()
{
    ExportBuilder b;
    b.resource("checkout");
    auto &s = goodSpan(b, 1, SpanKind::Client);
    setAttr(s, "rpc.system", "grpc");
    setAttr(s, "rpc.service", "shop.Payments");
    setAttr(s, "rpc.method", "Charge");
    auto &envoy = goodSpan(b, 2, SpanKind::Server);
    setAttr(envoy, "grpc.path", "/shop.Payments/Refund");
    setAttr(envoy, "http.method", "POST");
    setAttr(envoy, "grpc.status_code", "0");
    auto &db = goodSpan(b, 3, SpanKind::Client);
    setAttr(db, "db.system", "postgresql");
    setAttr(db, "server.address", "orders-db");
    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.spans.size(), size_t(3));
    QCOMPARE(protocolName(r.spans[0].protocol), "grpc");
    QCOMPARE(r.spans[0].path, std::string("/shop.Payments/Charge"));
    // gRPC wins over HTTP: gRPC runs over HTTP/2 and Envoy tags both.
    QCOMPARE(protocolName(r.spans[1].protocol), "grpc");
    QCOMPARE(r.spans[1].path, std::string("/shop.Payments/Refund"));
    QCOMPARE(r.spans[1].grpcStatus, 0);
    QCOMPARE(protocolName(r.spans[2].protocol), "tcp");
    QCOMPARE(r.spans[2].peer, std::string("orders-db"));  // server.address beats db.system
}

void TestOtlpDecoder::statusCodeFromSpanStatus()
{
    ExportBuilder b;
    b.resource("frontend");
    goodSpan(b, 1).mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_ERROR);
    goodSpan(b, 2).mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_OK);
    goodSpan(b, 3);
    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.spans.size(), size_t(3));
    QCOMPARE(r.spans[0].status, SpanStatus::Error);
    QCOMPARE(r.spans[1].status, SpanStatus::Ok);
    QCOMPARE(r.spans[2].status, SpanStatus::Unset);
}

void TestOtlpDecoder::longValuesAreTruncatedNotRejected()
{
    ExportBuilder b;
    b.resource("frontend");
    auto &s = goodSpan(b, 1, SpanKind::Server);
    setAttr(s, "url.path", "/" + std::string(5000, 'a'));
    setAttr(s, "http.request.method", std::string(40, 'M'));
    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.rejected, uint64_t(0));
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].path.size(), DecodeLimits().maxValueBytes);
    QCOMPARE(r.spans[0].method.size(), size_t(32));
}

void TestOtlpDecoder::malformedBytes()
{
    const OtlpDecoder decoder;
    const std::string junk = junkBytes();
    DecodeResult r = decoder.decodeBytes(junk.data(), junk.size(), kT0Ns);
    QVERIFY(r.malformed);
    QVERIFY(r.spans.empty());
    QCOMPARE(r.summary(), std::string("malformed ExportTraceServiceRequest"));

    // A valid message cut off in the middle of a span.
    ExportBuilder b;
    b.resource("frontend");
    for (uint64_t i = 1; i <= 4; ++i)
        goodSpan(b, i);
    const std::string whole = b.serialized();
    r = decoder.decodeBytes(whole.data(), whole.size() - 17, kT0Ns);
    QVERIFY(r.malformed);
    QVERIFY(r.spans.empty());

    // A lone invalid wire type.
    const char badWireType[] = {0x0f, 0x01};
    QVERIFY(decoder.decodeBytes(badWireType, sizeof badWireType, kT0Ns).malformed);
}

void TestOtlpDecoder::validBytesDecode()
{
    ExportBuilder b;
    b.resource("frontend", "shop", "v1");
    for (uint64_t i = 1; i <= 4; ++i)
        goodSpan(b, i);
    const std::string bytes = b.serialized();
    const DecodeResult r = OtlpDecoder().decodeBytes(bytes.data(), bytes.size(), kT0Ns);
    QVERIFY(!r.malformed);
    QCOMPARE(r.received, uint64_t(4));
    QCOMPARE(r.spans.size(), size_t(4));
    QCOMPARE(r.spans[3].spanId, uint64_t(4));
    // An empty message is a valid, empty export.
    const DecodeResult empty = OtlpDecoder().decodeBytes("", 0, kT0Ns);
    QVERIFY(!empty.malformed);
    QCOMPARE(empty.received, uint64_t(0));
}

void TestOtlpDecoder::wireFieldOrderDuplicatesAndUnknownFields()
{
    // What protobuf accepts and the wire path must read the same way: a resource
    // after its spans, a field sent twice (the last one wins), unknown fields.
    ExportBuilder b;
    b.resource("frontend", "shop", "v1");
    auto &s = goodSpan(b, 0x11, SpanKind::Client);
    setAttr(s, "peer.service", "reviews");
    setIntAttr(s, "http.status_code", 200);
    std::string spanBytes = s.SerializeAsString();
    spanBytes += std::string("\x12\x08", 2) + id8(0x22);  // span_id again: 0x22 wins
    spanBytes += std::string("\xa0\x06\x05", 3);  // unknown varint field 100
    spanBytes += std::string("\xaa\x06\x03", 3) + "abc";  // unknown bytes field 101
    spanBytes += std::string("\x4a\x1a", 2);  // a second http.status_code: 503 wins
    {
        otlp::common::v1::KeyValue kv;
        kv.set_key("http.status_code");
        kv.mutable_value()->set_int_value(503);
        const std::string kvBytes = kv.SerializeAsString();
        spanBytes.back() = char(kvBytes.size());
        spanBytes += kvBytes;
    }
    QVERIFY(s.ParseFromString(spanBytes));  // unknown fields are kept and re-sent

    // The ResourceSpans with its scope_spans (field 2) before its resource (field 1).
    auto *rs = b.request().mutable_resource_spans(0);
    std::string rsBytes;
    {
        otlp::trace::v1::ResourceSpans spansOnly;
        *spansOnly.mutable_scope_spans() = rs->scope_spans();
        otlp::trace::v1::ResourceSpans resourceOnly;
        *resourceOnly.mutable_resource() = rs->resource();
        rsBytes = spansOnly.SerializeAsString() + resourceOnly.SerializeAsString();
    }
    std::string length;
    for (size_t n = rsBytes.size();; n >>= 7) {
        length += char((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        if (n <= 0x7f)
            break;
    }
    const std::string wire = std::string("\x0a", 1) + length + rsBytes;

    ExportBuilder::Request parsed;
    QVERIFY(parsed.ParseFromString(wire));
    const OtlpDecoder decoder;
    const DecodeResult msg = decoder.decode(parsed, kT0Ns);
    const DecodeResult fromWire = decoder.decodeBytes(wire.data(), wire.size(), kT0Ns);
    QVERIFY2(resultDifference(msg, fromWire).isEmpty(), qPrintable(resultDifference(msg, fromWire)));
    QCOMPARE(fromWire.spans.size(), size_t(1));
    const Span &out = fromWire.spans[0];
    QCOMPARE(out.spanId, uint64_t(0x22));
    QCOMPARE(out.httpStatus, 503);
    QCOMPARE(out.peer, std::string("reviews"));
    QCOMPARE(out.service, std::string("frontend"));
    QCOMPARE(out.serviceNamespace, std::string("shop"));
}

void TestOtlpDecoder::badSpanRejectedRestSurvives_data()
{
    QTest::addColumn<SpanMutator>("breakIt");
    QTest::addColumn<QString>("reason");

    QTest::newRow("trace_id 15 bytes") << SpanMutator([](auto &s) { s.set_trace_id(std::string(15, '\x01')); })
                                       << "trace_id is not 16 bytes";
    QTest::newRow("trace_id missing") << SpanMutator([](auto &s) { s.clear_trace_id(); }) << "trace_id is not 16 bytes";
    QTest::newRow("trace_id 32 hex chars")
        << SpanMutator([](auto &s) { s.set_trace_id("0123456789abcdef0123456789abcdef"); })
        << "trace_id is not 16 bytes";
    QTest::newRow("span_id 7 bytes") << SpanMutator([](auto &s) { s.set_span_id(std::string(7, '\x01')); })
                                     << "span_id is not 8 bytes";
    QTest::newRow("span_id 9 bytes") << SpanMutator([](auto &s) { s.set_span_id(std::string(9, '\x01')); })
                                     << "span_id is not 8 bytes";
    QTest::newRow("parent_span_id 4 bytes")
        << SpanMutator([](auto &s) { s.set_parent_span_id("\x01\x02\x03\x04"); }) << "parent_span_id is not 8 bytes";
    QTest::newRow("all-zero trace_id") << SpanMutator([](auto &s) { s.set_trace_id(std::string(16, '\0')); })
                                       << "all-zero trace_id or span_id";
    QTest::newRow("all-zero span_id") << SpanMutator([](auto &s) { s.set_span_id(std::string(8, '\0')); })
                                      << "all-zero trace_id or span_id";
    QTest::newRow("zero start") << SpanMutator([](auto &s) { s.set_start_time_unix_nano(0); })
                                << "missing start or end timestamp";
    QTest::newRow("zero end") << SpanMutator([](auto &s) { s.set_end_time_unix_nano(0); })
                              << "missing start or end timestamp";
    QTest::newRow("end before start") << SpanMutator([](auto &s) {
        s.set_end_time_unix_nano(s.start_time_unix_nano() - 1);
    }) << "end timestamp before start timestamp";
    QTest::newRow("year 2200") << SpanMutator([](auto &s) {
        s.set_start_time_unix_nano(kYear2200Ns);
        s.set_end_time_unix_nano(kYear2200Ns + 5 * kMsNs);
    }) << "start timestamp too far from now";
    QTest::newRow("1970") << SpanMutator([](auto &s) {
        s.set_start_time_unix_nano(k1970Ns);
        s.set_end_time_unix_nano(k1970Ns + 5 * kMsNs);
    }) << "start timestamp too far from now";
    QTest::newRow("uint64 max end") << SpanMutator([](auto &s) { s.set_end_time_unix_nano(UINT64_MAX); })
                                    << "span duration over the limit";
    QTest::newRow("25 hour span") << SpanMutator([](auto &s) {
        s.set_end_time_unix_nano(s.start_time_unix_nano() + 25ull * 3600 * 1000 * kMsNs);
    }) << "span duration over the limit";
    QTest::newRow("invalid UTF-8 in span name")
        << SpanMutator([](auto &s) { s.set_name("GET /caf\xc3"); }) << "invalid UTF-8 in span name";
    QTest::newRow("overlong span name") << SpanMutator([](auto &s) { s.set_name(std::string(257, 'n')); })
                                        << "span name too long";
    QTest::newRow("invalid UTF-8 in peer.service")
        << SpanMutator([](auto &s) { setAttr(s, "peer.service", "rev\xffiews"); })
        << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in url.path")
        << SpanMutator([](auto &s) { setAttr(s, "url.path", "/\xed\xa0\x80"); }) << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in http.method")
        << SpanMutator([](auto &s) { setAttr(s, "http.method", "G\xc0\xafT"); }) << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in http.host")
        << SpanMutator([](auto &s) { setAttr(s, "http.host", "\x80host"); }) << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in any attribute")
        << SpanMutator([](auto &s) { setAttr(s, "user_agent", "curl\xff"); }) << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in an attribute key")
        << SpanMutator([](auto &s) { setAttr(s, "ke\xc0y", "v"); }) << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in an array element") << SpanMutator([](auto &s) {
        auto *kv = s.add_attributes();
        kv->set_key("http.request.header.accept");
        kv->mutable_value()->mutable_array_value()->add_values()->set_string_value("text/\xed\xa0\x80");
    }) << "invalid UTF-8 in span attributes";
    QTest::newRow("invalid UTF-8 in status message")
        << SpanMutator([](auto &s) { s.mutable_status()->set_message("bad \xff"); })
        << "invalid UTF-8 in status message";
    QTest::newRow("overlong peer name") << SpanMutator([](auto &s) {
        setAttr(s, "server.address", std::string(300, 'p'));
    }) << "peer name too long";
}

void TestOtlpDecoder::badSpanRejectedRestSurvives()
{
    QFETCH(SpanMutator, breakIt);
    QFETCH(QString, reason);

    ExportBuilder b;
    b.resource("frontend", "shop", "v1");
    goodSpan(b, 1);
    breakIt(goodSpan(b, 2, SpanKind::Client));
    goodSpan(b, 3);
    b.resource("reviews", "shop", "v1");
    goodSpan(b, 4);

    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.received, uint64_t(4));
    QCOMPARE(r.rejected, uint64_t(1));
    QVERIFY(!r.malformed);
    QCOMPARE(r.reasons.size(), size_t(1));
    QCOMPARE(QString::fromStdString(r.reasons.begin()->first), reason);
    QCOMPARE(r.reasons.begin()->second, uint64_t(1));
    // The neighbours, before and after and in another resource, all survive intact.
    QCOMPARE(r.spans.size(), size_t(3));
    QCOMPARE(r.spans[0].spanId, uint64_t(1));
    QCOMPARE(r.spans[1].spanId, uint64_t(3));
    QCOMPARE(r.spans[2].spanId, uint64_t(4));
    QCOMPARE(r.spans[1].service, std::string("frontend"));
    QCOMPARE(r.spans[2].service, std::string("reviews"));
    // The one-line summary for partial_success names the reason.
    QVERIFY2(reasonsOf(r).startsWith(QLatin1String("1 of 4 spans rejected: ")), qPrintable(reasonsOf(r)));
    QVERIFY2(reasonsOf(r).contains(reason + QLatin1String(" (1)")), qPrintable(reasonsOf(r)));
}

void TestOtlpDecoder::badResourceRejectsItsSpansOnly_data()
{
    QTest::addColumn<ResourceMutator>("breakIt");
    QTest::addColumn<QString>("reason");

    auto setKey = [](const char *key, std::string value) {
        return ResourceMutator([key, value](otlp::resource::v1::Resource &res) {
            for (auto &kv : *res.mutable_attributes()) {
                if (kv.key() == key) {
                    kv.mutable_value()->set_string_value(value);
                    return;
                }
            }
            addAttr(res.mutable_attributes(), key, value);
        });
    };
    QTest::newRow("invalid UTF-8 in service.name")
        << setKey("service.name", "pay\xffments") << "invalid UTF-8 in resource service.name/namespace/version";
    QTest::newRow("truncated UTF-8 in service.name")
        << setKey("service.name", "caf\xc3") << "invalid UTF-8 in resource service.name/namespace/version";
    QTest::newRow("invalid UTF-8 in namespace")
        << setKey("service.namespace", "sh\xf8op") << "invalid UTF-8 in resource service.name/namespace/version";
    QTest::newRow("invalid UTF-8 in version")
        << setKey("service.version", "v\xe2\x82") << "invalid UTF-8 in resource service.name/namespace/version";
    QTest::newRow("overlong service.name")
        << setKey("service.name", std::string(257, 's')) << "resource service.name/namespace/version too long";
    QTest::newRow("invalid UTF-8 in another resource attribute")
        << setKey("host.name", "node\xff") << "invalid UTF-8 in resource attributes";
    QTest::newRow("overlong k8s namespace")
        << setKey("k8s.namespace.name", std::string(1000, 'k')) << "resource service.name/namespace/version too long";
}

void TestOtlpDecoder::badResourceRejectsItsSpansOnly()
{
    QFETCH(ResourceMutator, breakIt);
    QFETCH(QString, reason);

    ExportBuilder b;
    b.resource("frontend", "shop", "v1");
    goodSpan(b, 1);
    b.resource("payments", {}, "v1");
    breakIt(*b.request().mutable_resource_spans(1)->mutable_resource());
    goodSpan(b, 2);
    goodSpan(b, 3, SpanKind::Client);
    b.resource("reviews", "shop", "v1");
    goodSpan(b, 4);

    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.received, uint64_t(4));
    QCOMPARE(r.rejected, uint64_t(2));
    QCOMPARE(r.reasons.size(), size_t(1));
    QCOMPARE(QString::fromStdString(r.reasons.begin()->first), reason);
    QCOMPARE(r.reasons.begin()->second, uint64_t(2));
    QCOMPARE(r.spans.size(), size_t(2));
    QCOMPARE(r.spans[0].service, std::string("frontend"));
    QCOMPARE(r.spans[1].service, std::string("reviews"));
    QVERIFY2(reasonsOf(r).contains(reason), qPrintable(reasonsOf(r)));
}

void TestOtlpDecoder::everyReasonCountedInOneBatch()
{
    ExportBuilder b;
    b.resource("frontend");
    goodSpan(b, 1);
    goodSpan(b, 2).set_span_id("short");
    goodSpan(b, 3).set_span_id("tiny");
    goodSpan(b, 4).set_start_time_unix_nano(0);
    goodSpan(b, 5);
    auto &future = goodSpan(b, 6);
    future.set_start_time_unix_nano(kYear2200Ns);
    future.set_end_time_unix_nano(kYear2200Ns + 1);
    goodSpan(b, 7).set_name("\xff");
    goodSpan(b, 8);

    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.received, uint64_t(8));
    QCOMPARE(r.rejected, uint64_t(5));
    QCOMPARE(r.spans.size(), size_t(3));
    const std::map<std::string, uint64_t> want = {
        {"span_id is not 8 bytes", 2},
        {"missing start or end timestamp", 1},
        {"start timestamp too far from now", 1},
        {"invalid UTF-8 in span name", 1},
    };
    QCOMPARE(r.reasons, want);
    QCOMPARE(r.summary(),
        std::string("5 of 8 spans rejected: invalid UTF-8 in span name (1); "
                    "missing start or end timestamp (1); span_id is not 8 bytes (2); "
                    "start timestamp too far from now (1)"));
}

void TestOtlpDecoder::limitsAreConfigurable()
{
    DecodeLimits tight;
    tight.maxNameBytes = 8;
    tight.maxClockSkewNs = 60ull * 1000 * kMsNs;  // a minute
    tight.maxValueBytes = 4;
    ExportBuilder b;
    b.resource("frontend");  // exactly 8 bytes: allowed
    goodSpan(b, 1).set_name("123456789");
    auto &skewed = goodSpan(b, 2);
    skewed.set_start_time_unix_nano(kT0Ns + 61ull * 1000 * kMsNs);
    skewed.set_end_time_unix_nano(kT0Ns + 62ull * 1000 * kMsNs);
    setAttr(goodSpan(b, 3), "url.path", "/abcdef");
    b.resource("frontend9");
    goodSpan(b, 4);
    DECODE_BOTH(r, b, tight);
    QCOMPARE(r.received, uint64_t(4));
    QCOMPARE(r.spans.size(), size_t(1));
    QCOMPARE(r.spans[0].spanId, uint64_t(3));
    QCOMPARE(r.spans[0].path, std::string("/abc"));
    QCOMPARE(r.reasons.at("span name too long"), uint64_t(1));
    QCOMPARE(r.reasons.at("start timestamp too far from now"), uint64_t(1));
    QCOMPARE(r.reasons.at("resource service.name/namespace/version too long"), uint64_t(1));

    // With the default limits all four are fine.
    DECODE_BOTH(loose, b, DecodeLimits());
    QCOMPARE(loose.rejected, uint64_t(0));
}

void TestOtlpDecoder::utf8Validation_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("valid");
    QTest::newRow("empty") << QByteArray() << true;
    QTest::newRow("ascii") << QByteArray("reviews-v2") << true;
    QTest::newRow("2-byte") << QByteArray("caf\xc3\xa9") << true;
    QTest::newRow("3-byte") << QByteArray("\xe4\xb8\xad\xe6\x96\x87") << true;
    QTest::newRow("4-byte") << QByteArray("\xf0\x9f\x98\x80") << true;
    QTest::newRow("U+10FFFF") << QByteArray("\xf4\x8f\xbf\xbf") << true;
    QTest::newRow("lone continuation") << QByteArray("a\x80") << false;
    QTest::newRow("truncated 2-byte at end") << QByteArray("caf\xc3") << false;
    QTest::newRow("truncated 4-byte") << QByteArray("\xf0\x9f\x98") << false;
    QTest::newRow("overlong slash") << QByteArray("\xc0\xaf") << false;
    QTest::newRow("overlong 3-byte") << QByteArray("\xe0\x80\xaf") << false;
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << false;
    QTest::newRow("past U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << false;
    QTest::newRow("0xff") << QByteArray("\xff") << false;
    QTest::newRow("5-byte form") << QByteArray("\xf8\x88\x80\x80\x80") << false;
    QTest::newRow("bad continuation") << QByteArray("\xc3\x28") << false;
}

void TestOtlpDecoder::utf8Validation()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, valid);
    QCOMPARE(isValidUtf8(std::string_view(bytes.constData(), size_t(bytes.size()))), valid);
}

void TestOtlpDecoder::hundredThousandServicesFold()
{
    // Unbounded cardinality (a service name per pod, per request id...) must not
    // grow the graph: past maxNodes, every new name folds into "other", and the
    // number of distinct folded names is reported.
    constexpr int kServices = 100000;
    constexpr size_t kMaxNodes = 1000;
    AggregatorConfig cfg;
    cfg.maxNodes = kMaxNodes;
    cfg.recentRequestCapacity = 100;
    GraphAggregator agg(cfg, kT0Ms);
    const OtlpDecoder decoder;

    auto sendAll = [&](uint64_t idBase) {
        constexpr int kBatch = 10000;
        for (int start = 0; start < kServices; start += kBatch) {
            ExportBuilder b;
            for (int i = start; i < start + kBatch; ++i) {
                b.resource("svc-" + std::to_string(i), "load", "v1");
                b.span(SpanKind::Server, uint64_t(i) + 1, idBase + uint64_t(i), 0, kT0Ns - 1000 * kMsNs, kMsNs);
            }
            // Through the wire path, as the receiver decodes.
            const std::string bytes = b.serialized();
            DecodeResult r = decoder.decodeBytes(bytes.data(), bytes.size(), kT0Ns);
            QCOMPARE(r.rejected, uint64_t(0));
            QCOMPARE(r.spans.size(), size_t(kBatch));
            agg.ingestSpans(std::move(r.spans), kT0Ms);
        }
    };
    sendAll(1);
    GraphSnapshotPtr snap = agg.snapshot(kT0Ms + 500);
    QCOMPARE(snap->nodes.size(), kMaxNodes + 2);  // + external, other
    const uint64_t expectedFolded = uint64_t(kServices) - kMaxNodes;
    QCOMPARE(snap->counters.foldedNodes, expectedFolded);
    const NodeSnapshot *other = snap->node("other");
    QVERIFY(other);
    QCOMPARE(other->foldedCount, expectedFolded);
    QCOMPARE(snap->edges.size(), kMaxNodes + 1);
    QCOMPARE(snap->edge("external->other")->stats.requests, expectedFolded);
    uint64_t total = 0;
    for (const EdgeSnapshot &e : snap->edges)
        total += e.stats.requests;
    QCOMPARE(total, uint64_t(kServices));
    // The first names seen are the ones kept.
    QVERIFY(snap->node("load/svc-0@v1"));
    QVERIFY(snap->node("load/svc-999@v1"));
    QVERIFY(!snap->node("load/svc-1000@v1"));

    // The same names again: more traffic, but no more distinct folded names.
    sendAll(1000001);
    snap = agg.snapshot(kT0Ms + 900);
    QCOMPARE(snap->nodes.size(), kMaxNodes + 2);
    QCOMPARE(snap->counters.foldedNodes, expectedFolded);
    QCOMPARE(snap->node("other")->foldedCount, expectedFolded);
    QCOMPARE(snap->edge("external->other")->stats.requests, 2 * expectedFolded);
    QCOMPARE(snap->counters.requests, uint64_t(2 * kServices));
}

void TestOtlpDecoder::attributesAndStatusMessage()
{
    ExportBuilder b;
    b.resource("frontend", "shop", "v1");
    auto *res = b.request().mutable_resource_spans(0)->mutable_resource()->mutable_attributes();
    addIntAttr(res, "process.pid", 4242);
    auto &s = goodSpan(b, 1, SpanKind::Server);
    setAttr(s, "http.route", "/api/items/{id}");
    setIntAttr(s, "http.status_code", 503);
    auto add = [&s](const char *key) {
        auto *kv = s.add_attributes();
        kv->set_key(key);
        return kv->mutable_value();
    };
    add("sampling.ratio")->set_double_value(0.25);
    add("cache.hit")->set_bool_value(false);
    add("negative")->set_int_value(-7);
    auto *array = add("http.request.header.accept")->mutable_array_value();
    array->add_values()->set_string_value("text/\"html\"");
    array->add_values()->set_int_value(3);
    array->add_values()->set_bool_value(true);
    array->add_values();  // no value set
    auto *kvlist = add("nested")->mutable_kvlist_value();
    auto *entry = kvlist->add_values();
    entry->set_key("inner");
    entry->mutable_value()->mutable_array_value()->add_values()->set_double_value(1.5);
    add("payload")->set_bytes_value(std::string("\x00\x01\xfe", 3));
    add("unset");
    s.mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_ERROR);
    s.mutable_status()->set_message("upstream connect error");
    goodSpan(b, 2, SpanKind::Client);  // no attributes of its own

    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.spans.size(), size_t(2));
    QCOMPARE(r.droppedAttributes, uint64_t(0));
    const std::vector<SpanAttribute> resource = {
        {"service.name", "frontend", true},
        {"service.namespace", "shop", true},
        {"service.version", "v1", true},
        {"process.pid", "4242", true},
    };
    std::vector<SpanAttribute> expected = {
        {"http.route", "/api/items/{id}", false},
        {"http.status_code", "503", false},
        {"sampling.ratio", "0.25", false},
        {"cache.hit", "false", false},
        {"negative", "-7", false},
        {"http.request.header.accept", R"(["text/\"html\"",3,true,null])", false},
        {"nested", R"({"inner":[1.5]})", false},
        {"payload", "AAH+", false},
        {"unset", "", false},
    };
    expected.insert(expected.end(), resource.begin(), resource.end());
    const Span &out = r.spans[0];
    QCOMPARE(out.attributes.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        QCOMPARE(out.attributes[i].key, expected[i].key);
        QCOMPARE(out.attributes[i].value, expected[i].value);
        QCOMPARE(out.attributes[i].resource, expected[i].resource);
    }
    QCOMPARE(out.statusMessage, std::string("upstream connect error"));
    QCOMPARE(out.httpStatus, 503);  // the graph still reads its own fields
    QVERIFY(r.spans[1].attributes == resource);
    QVERIFY(r.spans[1].statusMessage.empty());
}

void TestOtlpDecoder::attributeBounds()
{
    ExportBuilder b;
    b.resource("frontend");
    auto &s = goodSpan(b, 1);
    setAttr(s, std::string(129, 'k'), "dropped: a cut key would name another attribute");
    setAttr(s, std::string(128, 'k'), "kept");
    setAttr(s, "long", std::string(2000, 'v'));
    // 'a' and then two-byte characters: byte 1024 is the middle of one.
    std::string accents = "a";
    for (int i = 0; i < 600; ++i)
        accents += "\xc3\xa9";
    setAttr(s, "accents", accents);
    for (int i = 0; i < 70; ++i)
        setIntAttr(s, "attr." + std::to_string(i), i);
    s.mutable_status()->set_message(std::string(3000, 'm'));
    auto *big = s.add_attributes();
    big->set_key("big.array");
    for (int i = 0; i < 1000; ++i)
        big->mutable_value()->mutable_array_value()->add_values()->set_string_value("element");

    DECODE_BOTH(r, b, DecodeLimits());
    QCOMPARE(r.rejected, uint64_t(0));
    const Span &out = r.spans.at(0);
    const size_t own = std::count_if(
        out.attributes.begin(), out.attributes.end(), [](const SpanAttribute &a) { return !a.resource; });
    QCOMPARE(own, size_t(64));
    // 75 span attributes: one key too long, then 64 kept, then the rest.
    QCOMPARE(r.droppedAttributes, uint64_t(75 - 64));
    QCOMPARE(out.attributes[0].key, std::string(128, 'k'));
    QCOMPARE(out.attributes[1].value.size(), size_t(1024));
    QCOMPARE(out.attributes[2].value.size(), size_t(1023));
    QVERIFY(isValidUtf8(out.attributes[2].value));
    QCOMPARE(out.attributes[63].key, std::string("attr.60"));
    QCOMPARE(out.statusMessage.size(), size_t(1024));
    QCOMPARE(out.attributes.back().key, std::string("service.name"));

    // Tighter limits, and a long array cut at the value limit.
    DecodeLimits tight;
    tight.maxAttributes = 2;
    tight.maxAttributeValueBytes = 50;
    ExportBuilder b2;
    b2.resource("frontend", "shop", "v1");
    auto &s2 = goodSpan(b2, 1);
    *s2.add_attributes() = *big;
    setAttr(s2, "second", "x");
    setAttr(s2, "third", "y");
    DECODE_BOTH(r2, b2, tight);
    const Span &out2 = r2.spans.at(0);
    QCOMPARE(out2.attributes.size(), size_t(4));  // two of the span's, two of the resource's
    QCOMPARE(out2.attributes[0].value.size(), size_t(50));
    QVERIFY(out2.attributes[0].value.starts_with("[\"element\",\"element\""));
    QCOMPARE(r2.droppedAttributes, uint64_t(1 + 1));  // "third", and service.version
}

void TestOtlpDecoder::repeatedArrayFieldsMergeOnTheWire()
{
    // protobuf merges a message field sent twice; for an array that appends the
    // elements. A string sent in between resets the oneof. Such bytes only come from
    // hand-made wire data: protobuf itself never writes them.
    auto varint = [](size_t n) {
        std::string out;
        for (;; n >>= 7) {
            out += char((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
            if (n <= 0x7f)
                return out;
        }
    };
    auto field = [&](char tag, const std::string &bytes) { return std::string(1, tag) + varint(bytes.size()) + bytes; };
    otlp::common::v1::AnyValue first, second, text;
    first.mutable_array_value()->add_values()->set_string_value("a");
    second.mutable_array_value()->add_values()->set_int_value(2);
    text.set_string_value("reset");
    auto keyValue = [&](const char *key, std::vector<const otlp::common::v1::AnyValue *> values) {
        otlp::common::v1::KeyValue kv;
        kv.set_key(key);
        std::string out = kv.SerializeAsString();
        for (const auto *v : values)
            out += field('\x12', v->SerializeAsString());  // KeyValue.value, field 2
        return out;
    };

    ExportBuilder b;
    b.resource("frontend");
    std::string spanBytes = goodSpan(b, 1).SerializeAsString();
    spanBytes += field('\x4a', keyValue("merged", {&first, &second}));  // Span.attributes, field 9
    spanBytes += field('\x4a', keyValue("reset", {&first, &text}));
    spanBytes += field('\x4a', keyValue("again", {&first, &text, &second}));
    const std::string resource = b.request().resource_spans(0).resource().SerializeAsString();
    const std::string resourceSpans = field('\x0a', resource) + field('\x12', field('\x12', spanBytes));
    const std::string wire = field('\x0a', resourceSpans);

    ExportBuilder::Request parsed;
    QVERIFY(parsed.ParseFromString(wire));
    const OtlpDecoder decoder;
    const DecodeResult msg = decoder.decode(parsed, kT0Ns);
    const DecodeResult fromWire = decoder.decodeBytes(wire.data(), wire.size(), kT0Ns);
    QVERIFY2(resultDifference(msg, fromWire).isEmpty(), qPrintable(resultDifference(msg, fromWire)));
    const auto &attrs = fromWire.spans.at(0).attributes;
    QCOMPARE(attrs.at(0).value, std::string(R"(["a",2])"));
    QCOMPARE(attrs.at(1).value, std::string("reset"));
    QCOMPARE(attrs.at(2).value, std::string("[2]"));
}

QTEST_GUILESS_MAIN(TestOtlpDecoder)
#include "tst_otlpdecoder.moc"

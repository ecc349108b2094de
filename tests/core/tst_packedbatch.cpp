// The recording's packed batches: what the writer thread encodes from them parses as
// the msrec messages holding exactly the spans and requests that were packed, and is
// byte for byte what protobuf's own serializer writes for those messages.

#include "common/printers.h"
#include "meshscope/recording.pb.h"
#include "session/packedbatch.h"
#include "session/recordingcodec.h"

#include <QtTest>

#include <limits>
#include <random>

using namespace meshscope;

namespace {

std::string randomBytes(std::mt19937_64 &rng, size_t maxLength)
{
    std::string s(size_t(rng() % (maxLength + 1)), '\0');
    for (char &c : s)
        c = static_cast<char>(rng() & 0xFF);  // not valid UTF-8, NULs included: bytes are kept as they are
    return s;
}

// Every field drawn from its whole range, with its default (left out of the wire) often.
Span randomSpan(std::mt19937_64 &rng)
{
    auto maybe = [&](auto value, auto fallback) { return rng() % 3 == 0 ? fallback : value; };
    Span s;
    for (auto &b : s.traceId)
        b = static_cast<uint8_t>(rng() % 4 == 0 ? 0 : rng());
    s.spanId = maybe(rng(), uint64_t(0));
    s.parentSpanId = maybe(rng(), uint64_t(0));
    s.kind = static_cast<SpanKind>(rng() % 6);
    s.status = static_cast<SpanStatus>(rng() % 3);
    s.protocol = static_cast<Protocol>(rng() % 4);
    s.service = randomBytes(rng, 12);
    s.serviceNamespace = randomBytes(rng, 8);
    s.serviceVersion = randomBytes(rng, 4);
    s.name = randomBytes(rng, 40);
    s.startNs = maybe(rng(), uint64_t(0));
    s.endNs = maybe(rng(), uint64_t(0));
    s.peer = randomBytes(rng, 10);
    s.method = randomBytes(rng, 6);
    s.path = randomBytes(rng, 300);  // past 127 bytes: two-byte lengths
    s.authority = randomBytes(rng, 10);
    s.httpStatus = maybe(int(rng() % 700) - 1, std::numeric_limits<int>::min());
    s.grpcStatus = maybe(int(rng() % 20) - 1, std::numeric_limits<int>::max());
    s.requestBytes = maybe(int64_t(rng()), int64_t(-1));
    s.responseBytes = maybe(int64_t(rng() % 100000), std::numeric_limits<int64_t>::min());
    s.mtls = static_cast<int8_t>(int(rng() % 3) - 1);
    s.databaseCall = rng() % 2 == 0;
    s.statusMessage = randomBytes(rng, 20);
    const size_t attributes = rng() % 12;
    for (size_t i = 0; i < attributes; ++i)
        s.attributes.push_back({randomBytes(rng, 16), randomBytes(rng, 200), rng() % 2 == 0});
    return s;
}

NodeRef randomNode(std::mt19937_64 &rng)
{
    NodeRef n;
    n.kind = static_cast<NodeKind>(rng() % 4);
    n.gateway = rng() % 2 == 0;
    n.ns = randomBytes(rng, 8);
    n.name = randomBytes(rng, 12);
    n.version = randomBytes(rng, 3);
    return n;
}

ObservedRequest randomRequest(std::mt19937_64 &rng)
{
    ObservedRequest r;
    r.source = randomNode(rng);
    r.target = randomNode(rng);
    RequestEvent &e = r.event;
    e.seq = rng() % 2 ? rng() : 0;
    e.timeMs = rng() % 3 == 0 ? -int64_t(rng() % 1000) : int64_t(rng() % 2'000'000'000'000);
    e.sourceId = randomBytes(rng, 20);
    e.targetId = randomBytes(rng, 20);
    e.protocol = static_cast<Protocol>(rng() % 4);
    e.method = randomBytes(rng, 6);
    e.path = randomBytes(rng, 200);
    e.authority = randomBytes(rng, 12);
    e.httpStatus = int(rng() % 600) - 1;
    e.grpcStatus = int(rng() % 18) - 1;
    e.error = rng() % 2 == 0;
    e.durationMs = rng() % 4 == 0 ? 0.0 : double(rng() % 100000) / 7.0;
    e.bytes = rng() % 3 == 0 ? -1 : int64_t(rng() % 1'000'000);
    e.mtls = static_cast<int8_t>(int(rng() % 3) - 1);
    e.traceId = randomBytes(rng, 32);
    e.origin = randomBytes(rng, 5);
    e.spanId = rng() % 2 ? rng() : 0;
    e.parentSpanId = rng() % 2 ? rng() : 0;
    e.startNs = rng() % 2 ? rng() : 0;
    e.spanKind = static_cast<SpanKind>(rng() % 6);
    e.upstreamCluster = randomBytes(rng, 30);
    e.responseFlags = randomBytes(rng, 4);
    return r;
}

}  // namespace

class TestPackedBatch : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void spansEncodeAsProtobufWould()
    {
        std::mt19937_64 rng(7);
        for (int round = 0; round < 50; ++round) {
            std::vector<Span> spans;
            const size_t n = round == 0 ? 1 : rng() % 200;
            for (size_t i = 0; i < n; ++i)
                spans.push_back(randomSpan(rng));
            const PackedBatch packed = PackedBatch::fromSpans(spans);
            QCOMPARE(packed.count(), uint32_t(spans.size()));

            std::string wire;
            QVERIFY(packed.encodeSpans(wire));
            msrec::SpanBatch parsed;
            QVERIFY(parsed.ParseFromString(wire));
            QCOMPARE(parsed.spans_size(), int(spans.size()));
            for (int i = 0; i < parsed.spans_size(); ++i)
                QVERIFY2(recordingcodec::fromProto(parsed.spans(i)) == spans[size_t(i)],
                    qPrintable(QStringLiteral("span %1 of round %2").arg(i).arg(round)));
            // The same bytes protobuf writes: defaults left out, fields in number order.
            QCOMPARE(wire, parsed.SerializeAsString());
        }
    }

    void requestsEncodeAsProtobufWould()
    {
        std::mt19937_64 rng(11);
        for (int round = 0; round < 50; ++round) {
            std::vector<ObservedRequest> requests;
            const size_t n = round == 0 ? 1 : rng() % 200;
            for (size_t i = 0; i < n; ++i)
                requests.push_back(randomRequest(rng));
            const PackedBatch packed = PackedBatch::fromRequests(requests);

            std::string wire;
            QVERIFY(packed.encodeRequests(wire));
            msrec::RequestBatch parsed;
            QVERIFY(parsed.ParseFromString(wire));
            QCOMPARE(parsed.requests_size(), int(requests.size()));
            for (int i = 0; i < parsed.requests_size(); ++i) {
                QVERIFY2(recordingcodec::fromProto(parsed.requests(i)) == requests[size_t(i)],
                    qPrintable(QStringLiteral("request %1 of round %2").arg(i).arg(round)));
            }
            QCOMPARE(wire, parsed.SerializeAsString());
        }
    }

    // The encoder appends: a batch body follows whatever the writer already holds.
    void encodingAppends()
    {
        std::mt19937_64 rng(3);
        const std::vector<Span> spans {randomSpan(rng), randomSpan(rng)};
        std::string alone;
        QVERIFY(PackedBatch::fromSpans(spans).encodeSpans(alone));
        std::string after = "prefix";
        QVERIFY(PackedBatch::fromSpans(spans).encodeSpans(after));
        QCOMPARE(after, "prefix" + alone);
    }

    void emptyBatchEncodesToNothing()
    {
        std::string wire;
        QVERIFY(PackedBatch::fromSpans({}).encodeSpans(wire));
        QVERIFY(PackedBatch::fromRequests({}).encodeRequests(wire));
        QVERIFY(wire.empty());
    }
};

QTEST_GUILESS_MAIN(TestPackedBatch)
#include "tst_packedbatch.moc"

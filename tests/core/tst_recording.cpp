// Recordings (.msrec): every event kind and every Span field survive a round trip; a
// time range reads only the blocks it overlaps, and a whole replay each block once,
// saying how far it got after each; files cut short, missing their index,
// damaged in the middle, from a newer meshscope or no recording at all are read as far
// as they can be and say what is wrong.

#include "common/printers.h"
#include "session/crc32.h"
#include "session/recording.h"
#include "session/recordingcodec.h"
#include "session/recordingformat.h"
#include "traces/accesslogspans.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"

#include <QDateTime>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

using namespace meshscope;

namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;

// One call a sink or the replay callbacks received, in order.
struct Call {
    enum Kind { Spans, Requests, Pulled, State, Route } kind = Spans;
    int64_t ms = 0;
    std::string origin;
    std::vector<Span> spans;
    std::vector<ObservedRequest> requests;
    std::vector<PulledEdge> edges;
    std::string text;  // source state or routes YAML
    uint64_t version = 0;
};

class CaptureSink : public TelemetrySink {
public:
    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin) override
    {
        Call c;
        c.kind = Call::Spans;
        c.ms = nowMs;
        c.origin = origin;
        c.spans = std::move(spans);
        add(std::move(c));
    }
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override
    {
        Call c;
        c.kind = Call::Requests;
        c.ms = nowMs;
        c.origin = origin;
        c.requests = std::move(requests);
        add(std::move(c));
    }
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) override
    {
        Call c;
        c.kind = Call::Pulled;
        c.ms = nowMs;
        c.origin = origin;
        c.edges = std::move(edges);
        add(std::move(c));
    }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { ++counts; }
    void countMalformed(const std::string &) override { ++counts; }
    void countOversized(const std::string &) override { ++counts; }

    RecordingReader::Callbacks callbacks()
    {
        RecordingReader::Callbacks cb;
        cb.sourceState = [this](const std::string &origin, const std::string &state, int64_t ms) {
            Call c;
            c.kind = Call::State;
            c.ms = ms;
            c.origin = origin;
            c.text = state;
            add(std::move(c));
        };
        cb.routeApply = [this](uint64_t version, const std::string &backend, const std::string &yaml, int64_t ms) {
            Call c;
            c.kind = Call::Route;
            c.ms = ms;
            c.origin = backend;
            c.text = yaml;
            c.version = version;
            add(std::move(c));
        };
        return cb;
    }

    size_t spanCount() const
    {
        std::lock_guard lock(m_mutex);
        size_t n = 0;
        for (const Call &c : calls)
            n += c.spans.size();
        return n;
    }

    std::vector<Call> calls;
    std::atomic<int> counts {0};

private:
    void add(Call &&c)
    {
        std::lock_guard lock(m_mutex);
        calls.push_back(std::move(c));
    }
    mutable std::mutex m_mutex;
};

// Every field away from its default, and different per `i`, so a field the format
// forgets fails the comparison.
Span fullSpan(uint64_t i)
{
    Span s;
    for (size_t k = 0; k < s.traceId.size(); ++k)
        s.traceId[k] = uint8_t(i * 31 + k + 1);
    s.spanId = 0xF000'0000'0000'0000ull + i;
    s.parentSpanId = 0x0ABC'0000'0000'0000ull + i;
    s.kind = SpanKind(1 + i % 5);
    s.status = SpanStatus(1 + i % 2);
    s.protocol = Protocol(1 + i % 3);
    s.service = "svc-" + std::to_string(i % 7);
    s.serviceNamespace = "shop";
    s.serviceVersion = "v" + std::to_string(i % 3 + 1);
    s.name = "GET /items/{id}";
    s.startNs = uint64_t(kT0Ms) * 1'000'000 + i * 1000;
    s.endNs = s.startNs + 12'345'678;
    s.peer = "reviews";
    s.method = "GET";
    s.path = "/items/" + std::to_string(i);
    s.authority = "shop.example:8080";
    s.httpStatus = 200 + int(i % 4) * 100;
    s.grpcStatus = int(i % 17);
    s.requestBytes = int64_t(1000 + i);
    s.responseBytes = int64_t(1) << 40;
    s.mtls = int8_t(i % 2);
    s.databaseCall = true;
    s.statusMessage = "upstream reset: é ✓";
    s.attributes = {{"http.route", "/items/{id}", false}, {"k8s.pod.name", "shop-7f9", true}, {"empty", "", false},
        {std::string("bin\0ary", 7), std::string("\x01\xff", 2), true}};
    return s;
}

NodeRef node(NodeKind kind, const char *ns, const char *name, const char *version, bool gateway)
{
    return NodeRef {kind, ns, name, version, gateway};
}

ObservedRequest fullRequest(int i)
{
    ObservedRequest r;
    r.source = node(NodeKind::Gateway, "edge", "ingress", "v2", true);
    r.target = node(NodeKind::ExternalService, "", "api.stripe.com", "", false);
    RequestEvent &e = r.event;
    e.seq = 77 + uint64_t(i);
    e.timeMs = kT0Ms + i;
    e.sourceId = "edge/ingress@v2";
    e.targetId = "ext:api.stripe.com";
    e.protocol = Protocol::Grpc;
    e.method = "POST";
    e.path = "/charge";
    e.authority = "api.stripe.com";
    e.httpStatus = 503;
    e.grpcStatus = 14;
    e.error = true;
    e.durationMs = 12.75;
    e.bytes = 4096;
    e.mtls = 1;
    e.traceId = "0af7651916cd43dd8448eb211c80319c";
    e.origin = "als";
    return r;
}

PulledEdge fullEdge(bool withHealth)
{
    PulledEdge p;
    p.source = node(NodeKind::Service, "shop", "frontend", "v1", false);
    p.target = node(NodeKind::Other, "", "other", "", false);
    p.protocol = Protocol::Http;
    p.mtls = 0;
    TrafficStats &t = p.stats;
    t.requests = 1234;
    t.rps = 20.5;
    t.errorRate = 0.125;
    t.rate5xx = 0.1;
    t.rate4xx = 0.025;
    t.p50Ms = 3.5;
    t.p95Ms = 40.25;
    t.p99Ms = 99.0;
    t.bytes = 1ull << 33;
    if (withHealth)
        t.health = Health::Degraded;
    return p;
}

bool sameEdge(const PulledEdge &a, const PulledEdge &b)
{
    const TrafficStats &x = a.stats;
    const TrafficStats &y = b.stats;
    return a.source == b.source && a.target == b.target && a.protocol == b.protocol && a.mtls == b.mtls
        && x.requests == y.requests && x.rps == y.rps && x.errorRate == y.errorRate && x.rate5xx == y.rate5xx
        && x.rate4xx == y.rate4xx && x.p50Ms == y.p50Ms && x.p95Ms == y.p95Ms && x.p99Ms == y.p99Ms
        && x.bytes == y.bytes && x.health == y.health;
}

RecordingOptions fastOptions()
{
    RecordingOptions o;
    o.flushIntervalMs = 20;
    return o;
}

// One small span batch per `stepMs` of session time: `count` events in all.
void writeSpanEvents(RecordingWriter &w, int count, int64_t stepMs, int spansPerEvent = 2)
{
    for (int i = 0; i < count; ++i) {
        std::vector<Span> spans;
        for (int k = 0; k < spansPerEvent; ++k)
            spans.push_back(fullSpan(uint64_t(i * spansPerEvent + k)));
        w.ingestSpans(std::move(spans), kT0Ms + i * stepMs, "otlp");
    }
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

void writeBytes(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

uint64_t indexOffsetOf(const QByteArray &file)
{
    const auto *end = reinterpret_cast<const unsigned char *>(file.constData()) + file.size();
    return msrecformat::getU64(end - msrecformat::kTrailerSize);
}

// A file's index block, frame included, as the writer wrote it.
QByteArray indexFrameOf(const QByteArray &file)
{
    const qsizetype at = qsizetype(indexOffsetOf(file));
    return file.mid(at, file.size() - qsizetype(msrecformat::kTrailerSize) - at);
}

// An index block for `index`, framed as the writer frames one.
QByteArray indexFrameFor(const msrec::RecordingIndex &index)
{
    const std::string raw = index.SerializeAsString();
    std::string compressed(ZSTD_compressBound(raw.size()), '\0');
    const size_t n = ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(), 3);
    compressed.resize(ZSTD_isError(n) ? 0 : n);
    msrecformat::Frame frame;
    frame.compressedLength = uint32_t(compressed.size());
    frame.rawLength = uint32_t(raw.size());
    frame.crc = crc32Of(compressed.data(), compressed.size());
    frame.type = msrecformat::BlockType::Index;
    unsigned char head[msrecformat::kFrameSize];
    msrecformat::encodeFrame(frame, head);
    return QByteArray(reinterpret_cast<const char *>(head), sizeof head) + QByteArray::fromStdString(compressed);
}

// The index a reader found, re-encoded.
msrec::RecordingIndex indexOf(const RecordingReader &r)
{
    msrec::RecordingIndex index;
    for (const RecordingReader::BlockInfo &b : r.blocks()) {
        msrec::BlockIndexEntry *e = index.add_blocks();
        e->set_offset(b.offset);
        e->set_frame_length(b.frameLength);
        e->set_first_ms(b.firstMs);
        e->set_last_ms(b.lastMs);
        e->set_event_count(b.events);
        e->set_span_count(b.spans);
        e->set_request_count(b.requests);
        e->set_raw_length(b.rawLength);
    }
    index.set_start_ms(r.startMs());
    index.set_end_ms(r.endMs());
    return index;
}

// `file`'s blocks with `indexFrame` in place of its index block and a valid trailer
// pointing at it: a closed file whose index is intact, whatever it says.
QByteArray withIndex(const QByteArray &file, const QByteArray &indexFrame)
{
    const uint64_t indexOffset = indexOffsetOf(file);
    QByteArray out = file.left(qsizetype(indexOffset)) + indexFrame;
    unsigned char trailer[msrecformat::kTrailerSize];
    msrecformat::putU64(trailer, indexOffset);
    msrecformat::putU32(trailer + 8, crc32Of(trailer, 8));
    msrecformat::putU32(trailer + 12, msrecformat::kTrailerMagic);
    out.append(reinterpret_cast<const char *>(trailer), sizeof trailer);
    return out;
}

std::string grouped(uint64_t v)
{
    std::string d = std::to_string(v);
    for (int i = int(d.size()) - 3; i > 0; i -= 3)
        d.insert(size_t(i), 1, ',');
    return d;
}

std::string clockTime(int64_t ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")).toStdString();
}

bool anyProblemContains(const RecordingReader &r, const std::string &text)
{
    for (const std::string &p : r.problems())
        if (p.find(text) != std::string::npos)
            return true;
    return false;
}

QString problemList(const RecordingReader &r)
{
    QStringList out;
    for (const std::string &p : r.problems())
        out << QString::fromStdString(p);
    return out.join(QLatin1String(" | "));
}

std::vector<uint64_t> replayedSpanIds(RecordingReader &r, int64_t from = INT64_MIN, int64_t to = INT64_MAX)
{
    CaptureSink sink;
    std::string error;
    if (!r.replay(sink, from, to, sink.callbacks(), error))
        return {};
    std::vector<uint64_t> ids;
    for (const Call &c : sink.calls)
        for (const Span &s : c.spans)
            ids.push_back(s.spanId);
    return ids;
}

}  // namespace

class TestRecording : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void crc32IsZlibs();
    void roundTripEveryEventAndField();
    void manyBlocks();
    void smallRawSizeCutsBlocks();
    void rangeReadsOnlyOverlappingBlocks();
    void afterBlockFollowsEachBlockOnce();
    void truncatedInLastBlockReadsCompleteBlocks();
    void missingTrailerFallsBackToScan();
    void indexNotMatchingBlocksRebuilt();
    void indexEntryOffItsBlockRebuilt_data();
    void indexEntryOffItsBlockRebuilt();
    void liveFileReadableWhileWriting();
    void futureVersionRefused();
    void corruptBlockSkipped();
    void corruptBlockFoundByScan();
    void damagedFrameResynchronises();
    void notARecording_data();
    void notARecording();
    void zeroLengthFile();
    void writeAfterClose();
    void concurrentIngestFromFourThreads();
    void diskFullIsReported();
    void accessLogSpanFieldsRoundTrip();

private:
    QString path(const char *name) const { return m_dir.filePath(QLatin1String(name)); }
    std::string spath(const char *name) const { return path(name).toStdString(); }
    QTemporaryDir m_dir;
};

void TestRecording::init() { QVERIFY(m_dir.isValid()); }

void TestRecording::crc32IsZlibs()
{
    // The check value of CRC-32/ISO-HDLC, as zlib, gzip and PNG compute it: the format
    // promises that checksum, so other tools can verify blocks.
    QCOMPARE(crc32Of("123456789", 9), 0xCBF43926u);
    QCOMPARE(crc32Of("", 0), 0u);
    // Continuing over pieces of any length gives the checksum of the whole.
    const std::string text = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox";
    for (size_t cut = 0; cut <= text.size(); ++cut)
        QCOMPARE(crc32Update(crc32Of(text.data(), cut), text.data() + cut, text.size() - cut),
            crc32Of(text.data(), text.size()));
    QCOMPARE(crc32Of(text.data(), 43), 0x414FA339u);  // "The quick brown fox jumps over the lazy dog"
}

void TestRecording::roundTripEveryEventAndField()
{
    CaptureSink inner;
    std::string error;
    auto w = RecordingWriter::create(spath("all.msrec"), &inner, error, R"({"sources":["otlp","als"]})");
    QVERIFY2(w, error.c_str());

    std::vector<Span> spans {fullSpan(1), fullSpan(2), Span {}};
    std::vector<ObservedRequest> requests {fullRequest(0), fullRequest(1), ObservedRequest {}};
    std::vector<PulledEdge> edges {fullEdge(true), fullEdge(false)};
    const std::string yaml = "routes:\n  - match: /api\n    backend: api:8080\n";
    w->ingestSpans(std::vector<Span>(spans), kT0Ms, "otlp");
    w->ingestRequests(std::vector<ObservedRequest>(requests), kT0Ms + 1, "als");
    w->setPulledEdges("prometheus", edges, kT0Ms + 2);
    w->setPulledEdges("envoy-admin", {}, kT0Ms + 3);  // an empty pull still replaces the last
    w->recordSourceState("prometheus", "error: connection refused", kT0Ms + 4);
    w->recordRouteApply(42, "xds", yaml, kT0Ms + 5);
    w->countMalformed("bad");
    w->countOversized("big");
    w->countExport(1, 0, {});
    QCOMPARE(inner.calls.size(), size_t(4));  // the sink calls went through
    QCOMPARE(inner.counts.load(), 3);
    QCOMPARE(inner.calls[0].spans, spans);
    w->close();
    QVERIFY2(w->lastError().empty(), w->lastError().c_str());
    QCOMPARE(w->durationMs(), int64_t(5));
    QCOMPARE(w->bytesWritten(), uint64_t(QFileInfo(path("all.msrec")).size()));

    auto r = RecordingReader::open(spath("all.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY2(r->problems().empty(), qPrintable(problemList(*r)));
    QVERIFY(r->openedFromIndex());
    QCOMPARE(r->formatVersion(), 1);
    QCOMPARE(r->headerJson(), std::string(R"({"sources":["otlp","als"]})"));
    QVERIFY(!r->meshscopeVersion().empty());
    QCOMPARE(r->startMs(), kT0Ms);
    QCOMPARE(r->endMs(), kT0Ms + 5);

    CaptureSink out;
    QVERIFY2(r->replay(out, INT64_MIN, INT64_MAX, out.callbacks(), error), error.c_str());
    QCOMPARE(out.calls.size(), size_t(6));
    const auto &c = out.calls;
    QCOMPARE(int(c[0].kind), int(Call::Spans));
    QCOMPARE(c[0].ms, kT0Ms);
    QCOMPARE(c[0].origin, std::string("otlp"));
    QCOMPARE(c[0].spans.size(), spans.size());
    for (size_t i = 0; i < spans.size(); ++i)
        QVERIFY2(c[0].spans[i] == spans[i], qPrintable(QStringLiteral("span %1 differs").arg(i)));

    QCOMPARE(int(c[1].kind), int(Call::Requests));
    QCOMPARE(c[1].origin, std::string("als"));
    QCOMPARE(c[1].requests.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i)
        QVERIFY2(c[1].requests[i] == requests[i], qPrintable(QStringLiteral("request %1").arg(i)));

    QCOMPARE(int(c[2].kind), int(Call::Pulled));
    QCOMPARE(c[2].origin, std::string("prometheus"));
    QCOMPARE(c[2].ms, kT0Ms + 2);
    QCOMPARE(c[2].edges.size(), size_t(2));
    QVERIFY(sameEdge(c[2].edges[0], edges[0]));
    QVERIFY(sameEdge(c[2].edges[1], edges[1]));
    QVERIFY(!c[2].edges[1].stats.health.has_value());
    QCOMPARE(int(c[3].kind), int(Call::Pulled));
    QCOMPARE(c[3].origin, std::string("envoy-admin"));
    QVERIFY(c[3].edges.empty());

    QCOMPARE(int(c[4].kind), int(Call::State));
    QCOMPARE(c[4].origin, std::string("prometheus"));
    QCOMPARE(c[4].text, std::string("error: connection refused"));
    QCOMPARE(c[4].ms, kT0Ms + 4);
    QCOMPARE(int(c[5].kind), int(Call::Route));
    QCOMPARE(c[5].version, uint64_t(42));
    QCOMPARE(c[5].origin, std::string("xds"));
    QCOMPARE(c[5].text, yaml);
    QCOMPARE(c[5].ms, kT0Ms + 5);
}

void TestRecording::manyBlocks()
{
    std::string error;
    auto w = RecordingWriter::create(spath("many.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 600, 100);  // 60 s of session time
    w->close();

    auto r = RecordingReader::open(spath("many.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(r->openedFromIndex());
    QVERIFY2(r->blockCount() >= 60, qPrintable(QString::number(r->blockCount())));
    uint32_t spans = 0;
    for (const auto &b : r->blocks()) {
        QVERIFY(b.lastMs - b.firstMs < 1000);  // one block covers at most a second
        spans += b.spans;
    }
    QCOMPARE(spans, uint32_t(1200));
    const std::vector<uint64_t> ids = replayedSpanIds(*r);
    QCOMPARE(ids.size(), size_t(1200));
    for (size_t i = 0; i < ids.size(); ++i)
        QCOMPARE(ids[i], fullSpan(i).spanId);  // in time order
}

void TestRecording::smallRawSizeCutsBlocks()
{
    RecordingOptions o = fastOptions();
    o.maxBlockRawBytes = 4000;
    std::string error;
    auto w = RecordingWriter::create(spath("small.msrec"), nullptr, error, {}, o);
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 200, 1, 4);  // all within 200 ms: only the size cuts blocks
    w->close();
    auto r = RecordingReader::open(spath("small.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY2(r->blockCount() >= 20, qPrintable(QString::number(r->blockCount())));
    for (const auto &b : r->blocks())
        QVERIFY(b.rawLength <= 4000 + 64);  // the summary fields come on top of the events
    QCOMPARE(replayedSpanIds(*r).size(), size_t(800));
}

void TestRecording::rangeReadsOnlyOverlappingBlocks()
{
    std::string error;
    auto w = RecordingWriter::create(spath("range.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 1000, 100, 1);  // 100 s
    w->close();

    auto r = RecordingReader::open(spath("range.msrec"), error);
    QVERIFY2(r, error.c_str());
    QCOMPARE(r->blocksDecompressed(), uint64_t(0));  // opening reads the index only
    const int64_t from = kT0Ms + 50'050;
    const int64_t to = kT0Ms + 52'450;
    size_t overlapping = 0;
    for (const auto &b : r->blocks())
        overlapping += (b.lastMs >= from && b.firstMs <= to) ? 1 : 0;
    QVERIFY(overlapping >= 3 && overlapping < r->blockCount() / 10);

    const std::vector<uint64_t> ids = replayedSpanIds(*r, from, to);
    QCOMPARE(r->blocksDecompressed(), uint64_t(overlapping));
    // Events at 50.1 s .. 52.4 s, both ends inclusive.
    QCOMPARE(ids.size(), size_t(24));
    QCOMPARE(ids.front(), fullSpan(501).spanId);
    QCOMPARE(ids.back(), fullSpan(524).spanId);
    QCOMPARE(replayedSpanIds(*r, to + 1, to + 49).size(), size_t(0));
}

void TestRecording::afterBlockFollowsEachBlockOnce()
{
    // Times that run back a little now and then, so blocks overlap in time.
    std::string error;
    auto w = RecordingWriter::create(spath("steps.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    for (int i = 0; i < 400; ++i)
        w->ingestSpans({fullSpan(uint64_t(i))}, kT0Ms + i * 50 + (i % 4) * 120, "otlp");  // 20 s
    w->close();
    auto r = RecordingReader::open(spath("steps.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY2(r->blockCount() >= 10, qPrintable(QString::number(r->blockCount())));
    bool overlap = false;
    for (size_t i = 1; i < r->blockCount(); ++i)
        overlap = overlap || r->blocks()[i].firstMs <= r->blocks()[i - 1].lastMs;
    QVERIFY(overlap);

    CaptureSink whole;
    QVERIFY2(r->replay(whole, r->startMs(), r->endMs(), whole.callbacks(), error), error.c_str());
    QCOMPARE(whole.spanCount(), size_t(400));
    auto sameCalls = [](const std::vector<Call> &a, const std::vector<Call> &b, size_t n) {
        for (size_t i = 0; i < n; ++i) {
            if (a[i].ms != b[i].ms || a[i].spans.size() != 1 || b[i].spans.size() != 1
                || a[i].spans[0].spanId != b[i].spans[0].spanId)
                return false;
        }
        return true;
    };

    // Each block read once, each followed by the call; the events come as without it.
    CaptureSink stepped;
    RecordingReader::Callbacks cb = stepped.callbacks();
    std::vector<int64_t> reached;
    std::vector<size_t> deliveredBy;  // calls the sink had at each afterBlock
    cb.afterBlock = [&](int64_t deliveredMs) {
        reached.push_back(deliveredMs);
        deliveredBy.push_back(stepped.calls.size());
        return true;
    };
    uint64_t before = r->blocksDecompressed();
    QVERIFY2(r->replay(stepped, r->startMs(), r->endMs(), cb, error), error.c_str());
    QCOMPARE(r->blocksDecompressed() - before, uint64_t(r->blockCount()));
    QCOMPARE(reached.size(), r->blockCount());
    QCOMPARE(reached.back(), r->endMs());
    QCOMPARE(stepped.calls.size(), whole.calls.size());
    QVERIFY(sameCalls(stepped.calls, whole.calls, whole.calls.size()));
    for (size_t k = 0; k < reached.size(); ++k) {
        QVERIFY(k == 0 || reached[k] >= reached[k - 1]);
        // Every event up to reached[k] is out, and none past it.
        const size_t n = deliveredBy[k];
        QVERIFY(n == 0 || stepped.calls[n - 1].ms <= reached[k]);
        QVERIFY(n == stepped.calls.size() || stepped.calls[n].ms > reached[k]);
    }

    // Replaying 5 s ranges one after the other gives the same, but reads the blocks
    // straddling a range's edge twice.
    CaptureSink sliced;
    before = r->blocksDecompressed();
    for (int64_t from = r->startMs(); from <= r->endMs(); from += 5000)
        QVERIFY(r->replay(sliced, from, std::min(r->endMs(), from + 4999), sliced.callbacks(), error));
    QVERIFY(r->blocksDecompressed() - before > uint64_t(r->blockCount()));
    QCOMPARE(sliced.calls.size(), whole.calls.size());
    QVERIFY(sameCalls(sliced.calls, whole.calls, whole.calls.size()));

    // False stops the replay after that block, with no error.
    CaptureSink stopped;
    cb = stopped.callbacks();
    int blocks = 0;
    int64_t stoppedAt = 0;
    cb.afterBlock = [&](int64_t deliveredMs) {
        stoppedAt = deliveredMs;
        return ++blocks < 3;
    };
    before = r->blocksDecompressed();
    QVERIFY(r->replay(stopped, r->startMs(), r->endMs(), cb, error));
    QVERIFY(error.empty());
    QCOMPARE(blocks, 3);
    QCOMPARE(r->blocksDecompressed() - before, uint64_t(3));
    QCOMPARE(stopped.calls.size(), deliveredBy[2]);
    QVERIFY(sameCalls(stopped.calls, whole.calls, stopped.calls.size()));
    QCOMPARE(stoppedAt, reached[2]);
}

void TestRecording::truncatedInLastBlockReadsCompleteBlocks()
{
    std::string error;
    auto w = RecordingWriter::create(spath("full.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 50, 200);  // 10 s: about 10 blocks
    w->close();
    const QByteArray file = readAll(path("full.msrec"));
    auto r = RecordingReader::open(spath("full.msrec"), error);
    QVERIFY2(r, error.c_str());
    const auto blocks = r->blocks();
    QVERIFY(blocks.size() >= 5);
    const auto &last = blocks.back();
    int64_t readUpTo = 0;
    uint32_t spansBefore = 0;
    for (size_t i = 0; i + 1 < blocks.size(); ++i) {
        readUpTo = std::max(readUpTo, blocks[i].lastMs);
        spansBefore += blocks[i].spans;
    }

    // Every cut inside the last events block: the blocks before it are read, and the
    // message says how much was lost and up to when the recording reads.
    for (uint64_t cut = last.offset + 1; cut < last.offset + last.frameLength; ++cut) {
        writeBytes(path("cut.msrec"), file.left(qsizetype(cut)));
        auto c = RecordingReader::open(spath("cut.msrec"), error);
        QVERIFY2(c, error.c_str());
        QCOMPARE(c->blockCount(), blocks.size() - 1);
        const std::string expected = "recording ends early: the last " + grouped(cut - last.offset)
            + " bytes are an incomplete block; read up to " + clockTime(readUpTo);
        QVERIFY2(anyProblemContains(*c, expected),
            qPrintable(problemList(*c) + QLatin1String(" / wanted: ") + QString::fromStdString(expected)));
        if (cut % 37 == 0 || cut + 1 == last.offset + last.frameLength)
            QCOMPARE(replayedSpanIds(*c).size(), size_t(spansBefore));
    }
    // Cut exactly between blocks: nothing is incomplete, but the index is missing.
    writeBytes(path("cut.msrec"), file.left(qsizetype(last.offset)));
    auto c = RecordingReader::open(spath("cut.msrec"), error);
    QVERIFY2(c, error.c_str());
    QCOMPARE(c->blockCount(), blocks.size() - 1);
    QVERIFY2(anyProblemContains(*c, "recording was not closed"), qPrintable(problemList(*c)));

    // Cut inside the index: every events block is still read.
    const uint64_t indexOffset = indexOffsetOf(file);
    writeBytes(path("cut.msrec"), file.left(qsizetype(indexOffset + 5)));
    c = RecordingReader::open(spath("cut.msrec"), error);
    QVERIFY2(c, error.c_str());
    QCOMPARE(c->blockCount(), blocks.size());
    QVERIFY(anyProblemContains(*c, "the last 5 bytes are an incomplete block"));

    // Header only: opens, with nothing to read.
    writeBytes(path("cut.msrec"), file.left(qsizetype(blocks.front().offset + 3)));
    c = RecordingReader::open(spath("cut.msrec"), error);
    QVERIFY2(c, error.c_str());
    QCOMPARE(c->blockCount(), size_t(0));
    QVERIFY2(anyProblemContains(*c, "there is no complete block to read"), qPrintable(problemList(*c)));
}

void TestRecording::missingTrailerFallsBackToScan()
{
    std::string error;
    auto w = RecordingWriter::create(spath("closed.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 100, 100);
    w->close();
    const QByteArray file = readAll(path("closed.msrec"));
    auto closed = RecordingReader::open(spath("closed.msrec"), error);
    QVERIFY2(closed, error.c_str());

    writeBytes(path("noindex.msrec"), file.left(qsizetype(indexOffsetOf(file))));
    auto r = RecordingReader::open(spath("noindex.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(!r->openedFromIndex());
    QCOMPARE(r->blockCount(), closed->blockCount());
    for (size_t i = 0; i < r->blockCount(); ++i) {
        const auto &a = r->blocks()[i];
        const auto &b = closed->blocks()[i];
        QCOMPARE(a.offset, b.offset);
        QCOMPARE(a.firstMs, b.firstMs);
        QCOMPARE(a.lastMs, b.lastMs);
        QCOMPARE(a.spans, b.spans);
        QCOMPARE(a.events, b.events);
    }
    QCOMPARE(r->startMs(), closed->startMs());
    QCOMPARE(r->endMs(), closed->endMs());
    QVERIFY2(anyProblemContains(*r, "recording was not closed (it has no index)"), qPrintable(problemList(*r)));
    QCOMPARE(replayedSpanIds(*r), replayedSpanIds(*closed));

    // A damaged trailer is no trailer: scanned, and said so.
    QByteArray bad = file;
    bad[bad.size() - 10] = char(bad[bad.size() - 10] ^ 0x5a);
    writeBytes(path("badtrailer.msrec"), bad);
    r = RecordingReader::open(spath("badtrailer.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(!r->openedFromIndex());
    QCOMPARE(r->blockCount(), closed->blockCount());
    QVERIFY2(anyProblemContains(*r, "index is damaged"), qPrintable(problemList(*r)));
}

// Another recording's index, intact and lying inside this file's blocks: the blocks
// are found by the scan, and the message says where the index first went wrong.
void TestRecording::indexNotMatchingBlocksRebuilt()
{
    std::string error;
    auto wa = RecordingWriter::create(spath("a.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(wa, error.c_str());
    writeSpanEvents(*wa, 100, 100);  // 10 s: about 10 blocks
    wa->close();
    RecordingOptions small = fastOptions();
    small.maxBlockRawBytes = 4000;
    auto wb = RecordingWriter::create(spath("b.msrec"), nullptr, error, {}, small);
    QVERIFY2(wb, error.c_str());
    writeSpanEvents(*wb, 20, 1, 4);  // smaller blocks, and fewer bytes than a.msrec's
    wb->close();
    const QByteArray a = readAll(path("a.msrec"));
    const QByteArray b = readAll(path("b.msrec"));
    auto ra = RecordingReader::open(spath("a.msrec"), error);
    QVERIFY2(ra, error.c_str());
    auto rb = RecordingReader::open(spath("b.msrec"), error);
    QVERIFY2(rb, error.c_str());
    // b's index passes every check that does not look at the blocks: its entries lie
    // inside a's blocks, and its first lands on a's first frame, of another length.
    const auto &firstA = ra->blocks().front();
    const auto &firstB = rb->blocks().front();
    QVERIFY(rb->blockCount() >= 3 && rb->blockCount() != ra->blockCount());
    QVERIFY(rb->blocks().back().offset + rb->blocks().back().frameLength <= indexOffsetOf(a));
    QCOMPARE(firstB.offset, firstA.offset);
    QVERIFY(firstB.frameLength != firstA.frameLength);

    writeBytes(path("foreign.msrec"), withIndex(a, indexFrameOf(b)));
    auto r = RecordingReader::open(spath("foreign.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(!r->openedFromIndex());
    QCOMPARE(r->blockCount(), ra->blockCount());
    const std::string expected = "the recording's index does not match its blocks (block 1 of "
        + grouped(rb->blockCount()) + " at offset " + grouped(firstA.offset) + ": the index gives "
        + grouped(firstB.frameLength) + " bytes, the block there has " + grouped(firstA.frameLength)
        + "): its blocks were found by reading the whole file";
    QCOMPARE(r->problems(), std::vector<std::string> {expected});
    const std::vector<uint64_t> ids = replayedSpanIds(*r);
    QCOMPARE(ids.size(), size_t(200));
    QCOMPARE(ids, replayedSpanIds(*ra));
    QCOMPARE(r->problems().size(), size_t(1));
}

void TestRecording::indexEntryOffItsBlockRebuilt_data()
{
    QTest::addColumn<int>("change");
    QTest::addColumn<QString>("why");
    QTest::newRow("offset a few bytes on") << 0 << QStringLiteral("no block starts there");
    QTest::newRow("frame length") << 1 << QStringLiteral("the index gives %1 bytes, the block there has %2");
    QTest::newRow("raw length") << 2 << QStringLiteral("the index gives %1 bytes decompressed, the block there %2");
    QTest::newRow("the block before again") << 3 << QStringLiteral("it overlaps the block before it");
}

// One entry of the file's own index wrong, the rest right: still rebuilt by the scan.
void TestRecording::indexEntryOffItsBlockRebuilt()
{
    QFETCH(int, change);
    QFETCH(QString, why);
    std::string error;
    auto w = RecordingWriter::create(spath("own.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 100, 100);
    w->close();
    const QByteArray file = readAll(path("own.msrec"));
    auto good = RecordingReader::open(spath("own.msrec"), error);
    QVERIFY2(good, error.c_str());
    QVERIFY(good->openedFromIndex() && good->blockCount() >= 5);

    // As it comes out of the writer, re-encoded: still opened from the index.
    msrec::RecordingIndex index = indexOf(*good);
    writeBytes(path("same.msrec"), withIndex(file, indexFrameFor(index)));
    auto same = RecordingReader::open(spath("same.msrec"), error);
    QVERIFY2(same, error.c_str());
    QVERIFY2(same->openedFromIndex(), qPrintable(problemList(*same)));
    QVERIFY(same->problems().empty());

    const int k = int(good->blockCount() / 2);
    const auto &victim = good->blocks()[size_t(k)];
    msrec::BlockIndexEntry &e = *index.mutable_blocks(k);
    switch (change) {
    case 0: e.set_offset(e.offset() + 3); break;
    case 1:
        e.set_frame_length(e.frame_length() + 1);
        why = why.arg(QString::fromStdString(grouped(victim.frameLength + 1)),
            QString::fromStdString(grouped(victim.frameLength)));
        break;
    case 2:
        e.set_raw_length(e.raw_length() + 1);
        why = why.arg(
            QString::fromStdString(grouped(victim.rawLength + 1)), QString::fromStdString(grouped(victim.rawLength)));
        break;
    case 3: e = index.blocks(k - 1); break;
    }
    writeBytes(path("shifted.msrec"), withIndex(file, indexFrameFor(index)));
    auto r = RecordingReader::open(spath("shifted.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(!r->openedFromIndex());
    QCOMPARE(r->blockCount(), good->blockCount());
    const std::string expected = "the recording's index does not match its blocks (block " + std::to_string(k + 1)
        + " of " + grouped(good->blockCount()) + " at offset " + grouped(e.offset()) + ": " + why.toStdString()
        + "): its blocks were found by reading the whole file";
    QCOMPARE(r->problems(), std::vector<std::string> {expected});
    QCOMPARE(replayedSpanIds(*r), replayedSpanIds(*good));
}

void TestRecording::liveFileReadableWhileWriting()
{
    std::string error;
    auto w = RecordingWriter::create(spath("live.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 30, 100);
    QTRY_VERIFY(w->blocksWritten() >= 3 && w->pendingBytes() == 0);
    QTest::qWait(60);  // the last open block is written once it is older than the flush interval
    auto r = RecordingReader::open(spath("live.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(r->blockCount() >= 3);
    QCOMPARE(r->blockCount(), size_t(w->blocksWritten()));
    QVERIFY(anyProblemContains(*r, "not closed"));
    QCOMPARE(replayedSpanIds(*r).size(), size_t(60));
    w->close();
}

void TestRecording::futureVersionRefused()
{
    std::string error;
    auto w = RecordingWriter::create(spath("v1.msrec"), nullptr, error);
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 3, 10);
    w->close();
    QByteArray file = readAll(path("v1.msrec"));
    QCOMPARE(file.left(6), QByteArray("MSREC\0", 6));
    QCOMPARE(int(file[6]), 1);
    file[6] = 2;
    writeBytes(path("v2.msrec"), file);
    auto r = RecordingReader::open(spath("v2.msrec"), error);
    QVERIFY(!r);
    QCOMPARE(error, std::string("recording format 2 is newer than this meshscope reads (1): update meshscope"));
}

void TestRecording::corruptBlockSkipped()
{
    std::string error;
    auto w = RecordingWriter::create(spath("ok.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 100, 100);
    w->close();
    auto good = RecordingReader::open(spath("ok.msrec"), error);
    QVERIFY2(good, error.c_str());
    const size_t mid = good->blockCount() / 2;
    const auto victim = good->blocks()[mid];

    QByteArray file = readAll(path("ok.msrec"));
    const qsizetype at = qsizetype(victim.offset + victim.frameLength - 3);
    file[at] = char(file[at] ^ 0xff);
    writeBytes(path("bad.msrec"), file);
    auto r = RecordingReader::open(spath("bad.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(r->problems().empty());  // the index does not look inside blocks
    const std::vector<uint64_t> ids = replayedSpanIds(*r);
    QCOMPARE(ids.size(), size_t(200 - victim.spans));
    const std::string expected
        = "block at offset " + grouped(victim.offset) + " is corrupt (checksum mismatch): skipped";
    QCOMPARE(r->problems(), std::vector<std::string> {expected});
    // The blocks on both sides were read in full.
    QCOMPARE(ids.front(), fullSpan(0).spanId);
    QCOMPARE(ids.back(), fullSpan(199).spanId);
    // A second replay does not repeat the message.
    replayedSpanIds(*r);
    QCOMPARE(r->problems().size(), size_t(1));
}

void TestRecording::corruptBlockFoundByScan()
{
    std::string error;
    auto w = RecordingWriter::create(spath("ok2.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 100, 100);
    w->close();
    QByteArray file = readAll(path("ok2.msrec"));
    auto good = RecordingReader::open(spath("ok2.msrec"), error);
    QVERIFY2(good, error.c_str());
    const auto victim = good->blocks()[good->blockCount() / 2];
    file.truncate(qsizetype(indexOffsetOf(file)));
    const qsizetype at = qsizetype(victim.offset + msrecformat::kFrameSize + 2);
    file[at] = char(file[at] ^ 0x01);
    writeBytes(path("bad2.msrec"), file);

    auto r = RecordingReader::open(spath("bad2.msrec"), error);
    QVERIFY2(r, error.c_str());
    QCOMPARE(r->blockCount(), good->blockCount() - 1);
    QVERIFY2(anyProblemContains(*r, "block at offset " + grouped(victim.offset) + " is corrupt (checksum mismatch)"),
        qPrintable(problemList(*r)));
    QCOMPARE(replayedSpanIds(*r).size(), size_t(200 - victim.spans));
}

void TestRecording::damagedFrameResynchronises()
{
    std::string error;
    auto w = RecordingWriter::create(spath("ok3.msrec"), nullptr, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 100, 100);
    w->close();
    QByteArray file = readAll(path("ok3.msrec"));
    auto good = RecordingReader::open(spath("ok3.msrec"), error);
    QVERIFY2(good, error.c_str());
    const auto victim = good->blocks()[good->blockCount() / 2];
    file.truncate(qsizetype(indexOffsetOf(file)));

    // A wrong magic: the scan looks for the next intact frame.
    QByteArray badMagic = file;
    badMagic[qsizetype(victim.offset)] = 'X';
    writeBytes(path("bad3.msrec"), badMagic);
    auto r = RecordingReader::open(spath("bad3.msrec"), error);
    QVERIFY2(r, error.c_str());
    QCOMPARE(r->blockCount(), good->blockCount() - 1);
    QVERIFY2(anyProblemContains(*r,
                 "unreadable data at offset " + grouped(victim.offset) + " (" + grouped(victim.frameLength)
                     + " bytes): skipped"),
        qPrintable(problemList(*r)));

    // A length running past the end is corruption, not truncation, when intact blocks follow.
    QByteArray badLength = file;
    badLength[qsizetype(victim.offset + 6)] = char(0x3f);  // ~4 MB: past the end of this file
    writeBytes(path("bad4.msrec"), badLength);
    r = RecordingReader::open(spath("bad4.msrec"), error);
    QVERIFY2(r, error.c_str());
    QCOMPARE(r->blockCount(), good->blockCount() - 1);
    QVERIFY2(anyProblemContains(*r, "block at offset " + grouped(victim.offset) + " is corrupt"),
        qPrintable(problemList(*r)));
    QVERIFY(!anyProblemContains(*r, "ends early"));
    QCOMPARE(replayedSpanIds(*r).size(), size_t(200 - victim.spans));
}

void TestRecording::notARecording_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("message");
    QTest::newRow("text") << QByteArray("hello, world\n") << QStringLiteral("is not a meshscope recording");
    QTest::newRow("png") << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)
                         << QStringLiteral("is not a meshscope recording");
    QTest::newRow("short") << QByteArray("MSR") << QStringLiteral("is not a meshscope recording");
    QTest::newRow("magic only") << QByteArray("MSREC\0", 6) << QStringLiteral("ends inside its header");
    QTest::newRow("header cut") << QByteArray("MSREC\0\1\0\0\0\0\0\0\0\0\0\0\0\xff\0\0\0zz", 24)
                                << QStringLiteral("ends inside its header");
    QTest::newRow("version 0") << QByteArray("MSREC\0\0\0\0\0", 10) << QStringLiteral("format version 0");
}

void TestRecording::notARecording()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, message);
    writeBytes(path("other.bin"), bytes);
    std::string error;
    auto r = RecordingReader::open(spath("other.bin"), error);
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(error).contains(message), error.c_str());

    error.clear();
    QVERIFY(!RecordingReader::open(spath("missing.msrec"), error));
    QVERIFY2(error.find("cannot open recording") != std::string::npos, error.c_str());
    error.clear();
    QVERIFY(!RecordingReader::open(m_dir.path().toStdString(), error));
    QVERIFY2(error.find("not a file") != std::string::npos, error.c_str());
}

void TestRecording::zeroLengthFile()
{
    writeBytes(path("empty.msrec"), {});
    std::string error;
    QVERIFY(!RecordingReader::open(spath("empty.msrec"), error));
    QVERIFY2(error.find("is empty (0 bytes): not a meshscope recording") != std::string::npos, error.c_str());

    // A recording closed with nothing in it is a valid, empty recording.
    auto w = RecordingWriter::create(spath("none.msrec"), nullptr, error);
    QVERIFY2(w, error.c_str());
    w->close();
    auto r = RecordingReader::open(spath("none.msrec"), error);
    QVERIFY2(r, error.c_str());
    QCOMPARE(r->blockCount(), size_t(0));
    QVERIFY(r->problems().empty());
    QCOMPARE(r->startMs(), r->createdMs());
    QCOMPARE(replayedSpanIds(*r).size(), size_t(0));
}

void TestRecording::writeAfterClose()
{
    CaptureSink inner;
    std::string error;
    auto w = RecordingWriter::create(spath("after.msrec"), &inner, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    writeSpanEvents(*w, 5, 10);
    w->close();
    QVERIFY(w->isClosed());
    const qint64 size = QFileInfo(path("after.msrec")).size();
    QCOMPARE(uint64_t(size), w->bytesWritten());

    writeSpanEvents(*w, 5, 10);
    w->ingestRequests({fullRequest(0)}, kT0Ms, "als");
    w->setPulledEdges("prometheus", {fullEdge(true)}, kT0Ms);
    w->recordSourceState("prometheus", "up", kT0Ms);
    w->recordRouteApply(1, "caddy", "x", kT0Ms);
    w->close();  // twice is fine
    QCOMPARE(inner.calls.size(), size_t(12));  // still forwarded
    QCOMPARE(QFileInfo(path("after.msrec")).size(), size);
    QVERIFY(w->lastError().empty());

    auto r = RecordingReader::open(spath("after.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(r->problems().empty());
    QCOMPARE(replayedSpanIds(*r).size(), size_t(10));
}

void TestRecording::concurrentIngestFromFourThreads()
{
    CaptureSink inner;
    std::string error;
    RecordingOptions o = fastOptions();
    o.maxBlockRawBytes = 64 * 1024;  // many blocks while the threads run
    auto w = RecordingWriter::create(spath("threads.msrec"), &inner, error, {}, o);
    QVERIFY2(w, error.c_str());
    constexpr int kThreads = 4;
    constexpr int kCalls = 1500;
    constexpr int kPerCall = 4;
    std::atomic<int64_t> clock {kT0Ms};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kCalls; ++i) {
                std::vector<Span> spans;
                for (int k = 0; k < kPerCall; ++k) {
                    Span s = fullSpan(uint64_t(k));
                    s.spanId = (uint64_t(t) << 32) | uint64_t(i * kPerCall + k);
                    spans.push_back(std::move(s));
                }
                w->ingestSpans(std::move(spans), clock.fetch_add(1), "otlp");
                if (i % 100 == 0)
                    w->recordSourceState("src-" + std::to_string(t), "up", clock.load());
            }
        });
    }
    for (auto &th : threads)
        th.join();
    w->close();
    QVERIFY2(w->lastError().empty(), w->lastError().c_str());
    QCOMPARE(w->eventsDropped(), uint64_t(0));
    QCOMPARE(inner.spanCount(), size_t(kThreads * kCalls * kPerCall));

    auto r = RecordingReader::open(spath("threads.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(r->blockCount() > 4);
    CaptureSink out;
    QVERIFY2(r->replay(out, INT64_MIN, INT64_MAX, out.callbacks(), error), error.c_str());
    std::set<uint64_t> ids;
    int64_t previous = INT64_MIN;
    size_t states = 0;
    for (const Call &c : out.calls) {
        QVERIFY(c.ms >= previous);  // replayed in time order across blocks
        previous = c.ms;
        states += c.kind == Call::State ? 1 : 0;
        for (const Span &s : c.spans)
            ids.insert(s.spanId);
    }
    QCOMPARE(ids.size(), size_t(kThreads * kCalls * kPerCall));
    QCOMPARE(states, size_t(kThreads * kCalls / 100));
}

void TestRecording::diskFullIsReported()
{
    CaptureSink inner;
    std::string error;
    auto w = RecordingWriter::create(spath("full-disk.msrec"), &inner, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    // A file size limit stands in for a full disk: write() fails with EFBIG once the
    // file reaches it (SIGXFSZ ignored, as it would kill the process).
    rlimit old {};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
    auto *oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = old;
    limited.rlim_cur = rlim_t(w->bytesWritten() + 2000);
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &limited), 0);
    writeSpanEvents(*w, 200, 100, 4);
    QTRY_VERIFY(!w->lastError().empty());
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, oldHandler);

    QVERIFY2(w->lastError().find("recording stopped") != std::string::npos, w->lastError().c_str());
    writeSpanEvents(*w, 10, 100);  // ingest goes on regardless
    QCOMPARE(inner.spanCount(), size_t(200 * 4 + 10 * 2));
    w->close();

    // What did reach the disk reads as a recording cut short.
    auto r = RecordingReader::open(spath("full-disk.msrec"), error);
    QVERIFY2(r, error.c_str());
    QVERIFY(!r->openedFromIndex());
    QVERIFY(!r->problems().empty());
}

void TestRecording::accessLogSpanFieldsRoundTrip()
{
    // An access-log request that stands for a span (model/requestevent.h) keeps every
    // span field through a recording, so a replay through a TraceStoreSink gives the
    // trace view the same span the live session showed.
    ObservedRequest traced = fullRequest(3);
    traced.event.spanId = 0xFEDC'BA98'7654'3210ull;
    traced.event.parentSpanId = 0x0123'4567'89AB'CDEFull;
    traced.event.startNs = uint64_t(kT0Ms) * 1'000'000 + 123'456;
    traced.event.spanKind = SpanKind::Server;
    traced.event.upstreamCluster = "inbound|9080||";
    traced.event.responseFlags = "UF,URX";
    ObservedRequest traceOnly = fullRequest(4);  // a gateway's entering copy: trace id, no span
    const std::vector<ObservedRequest> requests {traced, traceOnly};

    CaptureSink inner;
    std::string error;
    auto w = RecordingWriter::create(spath("spans.msrec"), &inner, error, {}, fastOptions());
    QVERIFY2(w, error.c_str());
    w->ingestRequests(std::vector<ObservedRequest>(requests), kT0Ms, "als");
    w->close();
    QVERIFY2(w->lastError().empty(), w->lastError().c_str());

    auto r = RecordingReader::open(spath("spans.msrec"), error);
    QVERIFY2(r, error.c_str());
    CaptureSink out;
    QVERIFY2(r->replay(out, INT64_MIN, INT64_MAX, out.callbacks(), error), error.c_str());
    QCOMPARE(out.calls.size(), size_t(1));
    const std::vector<ObservedRequest> &back = out.calls[0].requests;
    QCOMPARE(back.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
        const RequestEvent &x = back[i].event, &y = requests[i].event;
        QVERIFY2(back[i] == requests[i], qPrintable(QStringLiteral("request %1").arg(i)));
        QCOMPARE(x.spanId, y.spanId);
        QCOMPARE(x.parentSpanId, y.parentSpanId);
        QCOMPARE(x.startNs, y.startNs);
        QCOMPARE(x.spanKind, y.spanKind);
        QCOMPARE(x.upstreamCluster, y.upstreamCluster);
        QCOMPARE(x.responseFlags, y.responseFlags);
    }

    // Replayed through the trace store's sink: the span is back, the graph gets requests only.
    TraceStore store;
    CaptureSink graph;
    TraceStoreSink sink(store, graph);
    QVERIFY2(r->replay(sink, INT64_MIN, INT64_MAX, {}, error), error.c_str());
    QCOMPARE(store.counters().spans, uint64_t(1));
    const std::vector<Span> live = spansFromRequests(requests);
    QCOMPARE(live.size(), size_t(1));
    const std::optional<std::vector<Span>> trace = store.trace(live[0].traceId);
    QVERIFY(trace && trace->size() == 1);
    QVERIFY(trace->at(0) == live[0]);
    QCOMPARE(graph.spanCount(), size_t(0));
    QCOMPARE(graph.calls.size(), size_t(1));
    QCOMPARE(graph.calls[0].requests.size(), size_t(2));

    // A request of an older recording, written before these fields: no span, and an
    // unknown span kind from a newer writer reads as unspecified.
    msrec::ObservedRequest old;
    old.mutable_event()->set_time_ms(kT0Ms);
    old.mutable_event()->set_trace_id("0af7651916cd43dd8448eb211c80319c");
    old.mutable_event()->set_origin("als");
    msrec::ObservedRequest parsed;
    QVERIFY(parsed.ParseFromString(old.SerializeAsString()));
    const ObservedRequest fromOld = recordingcodec::fromProto(parsed);
    QCOMPARE(fromOld.event.traceId, std::string("0af7651916cd43dd8448eb211c80319c"));
    QCOMPARE(fromOld.event.spanId, uint64_t(0));
    QCOMPARE(fromOld.event.parentSpanId, uint64_t(0));
    QCOMPARE(fromOld.event.startNs, uint64_t(0));
    QCOMPARE(fromOld.event.spanKind, SpanKind::Unspecified);
    QVERIFY(fromOld.event.upstreamCluster.empty() && fromOld.event.responseFlags.empty());
    QVERIFY(spansFromRequests({fromOld}).empty());
    parsed.mutable_event()->set_span_kind(99);
    QCOMPARE(recordingcodec::fromProto(parsed).event.spanKind, SpanKind::Unspecified);
}

QTEST_GUILESS_MAIN(TestRecording)

#include "tst_recording.moc"

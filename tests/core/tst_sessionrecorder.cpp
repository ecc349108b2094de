// The GUI's recorder in the ingest path: everything reaches the sink behind it whether
// or not a recording runs; a recording holds what arrived between start and stop and
// is a complete, indexed file once stopped; starting and stopping while sources
// deliver from several threads loses nothing and never mixes two recordings.
#include "model/telemetrysink.h"
#include "session/recordingreader.h"
#include "session/sessionrecorder.h"

#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using namespace meshscope;

namespace {

// Counts what reaches it; thread-safe.
class CountingSink : public TelemetrySink {
public:
    void ingestSpans(std::vector<Span> &&spans, int64_t, const char *) override { spansSeen += spans.size(); }
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t, const char *) override
    {
        requestsSeen += requests.size();
    }
    void setPulledEdges(const std::string &, std::vector<PulledEdge> edges, int64_t) override { pulls += edges.size(); }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { ++exports; }
    void countMalformed(const std::string &) override { ++malformed; }
    void countOversized(const std::string &) override { }
    std::atomic<uint64_t> spansSeen {0}, requestsSeen {0}, pulls {0}, exports {0}, malformed {0};
};

std::vector<Span> batch(uint64_t firstId, int n, int64_t ms)
{
    std::vector<Span> out(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        Span &s = out[size_t(i)];
        s.traceId[0] = 1;
        s.traceId[15] = uint8_t(firstId);
        s.spanId = firstId + uint64_t(i) + 1;
        s.service = "checkout";
        s.name = "GET /cart";
        s.kind = SpanKind::Server;
        s.startNs = uint64_t(ms) * 1000000ull;
        s.endNs = s.startNs + 5000000ull;
    }
    return out;
}

// Spans a recording holds, replayed whole.
uint64_t spansIn(const QString &path, std::string *why)
{
    const auto reader = RecordingReader::open(path.toStdString(), *why);
    if (!reader)
        return UINT64_MAX;
    CountingSink sink;
    if (!reader->replay(sink, reader->startMs(), reader->endMs(), {}, *why))
        return UINT64_MAX;
    return sink.spansSeen;
}

}  // namespace

class TestSessionRecorder : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void forwardsWithAndWithoutRecording();
    void refusesASecondRecordingAndBadPaths();
    void startStopWhileFourThreadsIngest();

private:
    QTemporaryDir m_dir;
};

void TestSessionRecorder::forwardsWithAndWithoutRecording()
{
    CountingSink next;
    SessionRecorder recorder(next);
    const int64_t t0 = 1'760'000'000'000;
    recorder.ingestSpans(batch(0, 10, t0), t0);  // before: not recorded
    QVERIFY(!recorder.isRecording());
    QVERIFY(!recorder.status().recording);

    const QString path = m_dir.filePath(QStringLiteral("a.msrec"));
    std::string error;
    QVERIFY2(recorder.start(path.toStdString(), R"({"program":"test"})", error), error.c_str());
    QVERIFY(recorder.isRecording());
    recorder.ingestSpans(batch(100, 7, t0 + 1000), t0 + 1000);
    ObservedRequest r;
    r.event.timeMs = t0 + 1500;
    recorder.ingestRequests({r, r}, t0 + 1500, "als");
    recorder.setPulledEdges("prometheus", {PulledEdge {}}, t0 + 2000);
    recorder.recordSourceState("cmdline-otlp", "Running", t0 + 2100);
    recorder.countMalformed("bad bytes");  // bookkeeping is only forwarded
    const SessionRecorder::Status during = recorder.status();
    QVERIFY(during.recording);
    QCOMPARE(during.path, path.toStdString());

    const SessionRecorder::Status done = recorder.stop();
    QVERIFY(!done.recording);
    QVERIFY(done.bytesWritten > 0);
    QCOMPARE(done.durationMs, int64_t(1100));
    QVERIFY(done.lastError.empty());
    QVERIFY(!recorder.isRecording());
    recorder.ingestSpans(batch(200, 3, t0 + 3000), t0 + 3000);  // after: not recorded

    // The sink behind saw everything, recorded or not.
    QCOMPARE(uint64_t(next.spansSeen), uint64_t(20));
    QCOMPARE(uint64_t(next.requestsSeen), uint64_t(2));
    QCOMPARE(uint64_t(next.pulls), uint64_t(1));
    QCOMPARE(uint64_t(next.malformed), uint64_t(1));
    // The file: exactly what arrived while recording, and closed with its index.
    std::string why;
    const auto reader = RecordingReader::open(path.toStdString(), why);
    QVERIFY2(reader, why.c_str());
    QVERIFY(reader->openedFromIndex());
    QCOMPARE(reader->headerJson(), std::string(R"({"program":"test"})"));
    CountingSink replayed;
    std::vector<std::string> states;
    RecordingReader::Callbacks cb;
    cb.sourceState = [&states](const std::string &origin, const std::string &state, int64_t) {
        states.push_back(origin + "=" + state);
    };
    QVERIFY(reader->replay(replayed, reader->startMs(), reader->endMs(), cb, why));
    QCOMPARE(uint64_t(replayed.spansSeen), uint64_t(7));
    QCOMPARE(uint64_t(replayed.requestsSeen), uint64_t(2));
    QCOMPARE(uint64_t(replayed.pulls), uint64_t(1));
    QCOMPARE(states, std::vector<std::string>({"cmdline-otlp=Running"}));
    // Stopping twice is harmless.
    QVERIFY(recorder.stop().path.empty());
}

void TestSessionRecorder::refusesASecondRecordingAndBadPaths()
{
    CountingSink next;
    SessionRecorder recorder(next);
    std::string error;
    QVERIFY(!recorder.start(m_dir.filePath(QStringLiteral("no/such/dir/x.msrec")).toStdString(), "{}", error));
    QVERIFY2(error.find("no/such/dir") != std::string::npos, error.c_str());
    QVERIFY(!recorder.isRecording());
    const std::string first = m_dir.filePath(QStringLiteral("first.msrec")).toStdString();
    QVERIFY2(recorder.start(first, "{}", error), error.c_str());
    error.clear();
    QVERIFY(!recorder.start(m_dir.filePath(QStringLiteral("second.msrec")).toStdString(), "{}", error));
    QVERIFY2(error.find("already running") != std::string::npos && error.find("first.msrec") != std::string::npos,
        error.c_str());
    QCOMPARE(recorder.status().path, first);  // the running one is untouched
    QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("second.msrec"))));
}

void TestSessionRecorder::startStopWhileFourThreadsIngest()
{
    CountingSink next;
    SessionRecorder recorder(next);
    std::atomic<bool> done {false};
    std::atomic<uint64_t> sent {0};
    const int64_t t0 = 1'760'000'000'000;
    std::vector<std::thread> sources;
    for (int t = 0; t < 4; ++t) {
        sources.emplace_back([&, t] {
            int64_t ms = t0;
            for (uint64_t i = 0; !done; ++i) {
                recorder.ingestSpans(batch(uint64_t(t) << 40 | i << 8, 5, ms), ms);
                sent += 5;
                ++ms;
            }
        });
    }
    QStringList files;
    for (int round = 0; round < 5; ++round) {
        const QString path = m_dir.filePath(QStringLiteral("round-%1.msrec").arg(round));
        std::string error;
        QVERIFY2(recorder.start(path.toStdString(), "{}", error), error.c_str());
        files << path;
        QTest::qWait(30);
        recorder.stop();
        QTest::qWait(10);
    }
    done = true;
    for (std::thread &t : sources)
        t.join();
    // Nothing lost on the way to the sink behind, whatever the recorder did.
    QCOMPARE(uint64_t(next.spansSeen), uint64_t(sent));
    // Each file is complete and holds spans; together no more than were sent.
    uint64_t recorded = 0;
    for (const QString &f : files) {
        std::string why;
        const uint64_t n = spansIn(f, &why);
        QVERIFY2(n != UINT64_MAX, why.c_str());
        QVERIFY(n > 0);
        recorded += n;
    }
    QVERIFY(recorded <= sent);
}

QTEST_GUILESS_MAIN(TestSessionRecorder)
#include "tst_sessionrecorder.moc"

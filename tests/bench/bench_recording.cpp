// Recording benchmark: how fast the writer turns spans into a .msrec file (and how
// little the ingest side pays), then how fast a large recording opens and how long
// its last minute takes to replay.
// Usage: bench_recording   (MESHSCOPE_BENCH_QUICK=1: 200k spans, a 100 MB recording)

#include "session/recording.h"

#include <QTemporaryDir>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace meshscope;
using Clock = std::chrono::steady_clock;

namespace {

// What the writer forwards to when nothing is behind it: the cost measured is the
// recording's alone.
class NullSink : public TelemetrySink {
public:
    void ingestSpans(std::vector<Span> &&spans, int64_t, const char *) override { m_spans += spans.size(); }
    void ingestRequests(std::vector<ObservedRequest> &&, int64_t, const char *) override { }
    void setPulledEdges(const std::string &, std::vector<PulledEdge>, int64_t) override { }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
    void countMalformed(const std::string &) override { }
    void countOversized(const std::string &) override { }
    uint64_t spans() const { return m_spans; }

private:
    uint64_t m_spans = 0;
};

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU time rather than wall time: benches share machines with builds, and the writer
// thread's cost is what a session pays whatever else runs.
double cpuSeconds(clockid_t clock)
{
    timespec ts {};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}
double threadCpu() { return cpuSeconds(CLOCK_THREAD_CPUTIME_ID); }
double processCpu() { return cpuSeconds(CLOCK_PROCESS_CPUTIME_ID); }

// Spans shaped like an instrumented HTTP service's: random ids and durations, a
// handful of services and routes, ten attributes (resource and span).
class SpanSource {
public:
    std::vector<Span> batch(size_t n, int64_t nowMs)
    {
        static const char *const kRoutes[] = {"/api/orders/{id}", "/api/cart", "/api/items", "/login", "/checkout",
            "/api/reviews/{id}", "/healthz", "/api/search"};
        static const char *const kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
        std::vector<Span> out;
        out.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            Span s;
            for (auto &b : s.traceId)
                b = uint8_t(m_rng());
            s.spanId = m_rng();
            s.parentSpanId = (m_rng() % 4) ? m_rng() : 0;
            s.kind = (m_rng() % 2) ? SpanKind::Server : SpanKind::Client;
            s.protocol = Protocol::Http;
            const int svc = int(m_rng() % 24);
            s.service = "svc-" + std::to_string(svc);
            s.serviceNamespace = svc % 2 ? "shop" : "identity";
            s.serviceVersion = "v" + std::to_string(1 + svc % 3);
            const char *route = kRoutes[m_rng() % std::size(kRoutes)];
            s.method = kMethods[m_rng() % std::size(kMethods)];
            s.name = s.method + " " + route;
            s.startNs = uint64_t(nowMs) * 1'000'000 - (m_rng() % 1'000'000'000);
            s.endNs = s.startNs + 100'000 + m_rng() % 50'000'000;
            s.peer = "svc-" + std::to_string((svc + 1) % 24);
            s.path = route;
            if (const size_t brace = s.path.find('{'); brace != std::string::npos)
                s.path = s.path.substr(0, brace) + std::to_string(m_rng() % 100'000);
            s.authority = s.peer + ".svc.cluster.local:8080";
            const bool failed = m_rng() % 50 == 0;
            s.httpStatus = failed ? 503 : 200;
            s.status = failed ? SpanStatus::Error : SpanStatus::Unset;
            if (failed)
                s.statusMessage = "upstream connect error or disconnect/reset before headers";
            s.requestBytes = int64_t(m_rng() % 2000);
            s.responseBytes = int64_t(m_rng() % 20000);
            s.mtls = 1;
            s.attributes = {{"service.name", s.service, true}, {"service.namespace", s.serviceNamespace, true},
                {"service.version", s.serviceVersion, true}, {"telemetry.sdk.language", "go", true},
                {"k8s.pod.name", s.service + "-7f9c8d" + std::to_string(svc * 7 % 10) + "-x2k4p", true},
                {"http.request.method", s.method, false}, {"http.route", route, false},
                {"http.response.status_code", std::to_string(s.httpStatus), false},
                {"server.address", s.authority, false},
                {"user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) meshscope-load/1.0", false}};
            out.push_back(std::move(s));
        }
        return out;
    }

private:
    std::mt19937_64 m_rng {42};
};

// Writes batches of 100 spans, 3,000 spans per second of session time, until `done`
// says stop; waits while the writer is far behind, so the figure is what it sustains.
struct WriteResult {
    uint64_t spans = 0;
    double seconds = 0;
    double ingestSeconds = 0;  // CPU time spent inside the ingest calls
    double writerCpuSeconds = 0;  // CPU time of every thread but the producer's
    int64_t sessionMs = 0;
};

template <typename Done>
WriteResult writeSpans(RecordingWriter &w, SpanSource &source, int64_t t0Ms, Done done)
{
    constexpr size_t kBatch = 100;
    constexpr int64_t kBatchStepMs = 1000 * int64_t(kBatch) / 3000;
    WriteResult r;
    const auto start = Clock::now();
    const double processStart = processCpu();
    const double producerStart = threadCpu();
    int64_t now = t0Ms;
    while (!done(r.spans)) {
        std::vector<Span> batch = source.batch(kBatch, now);
        const double before = threadCpu();
        w.ingestSpans(std::move(batch), now, "otlp");
        r.ingestSeconds += threadCpu() - before;
        r.spans += kBatch;
        now += kBatchStepMs;
        while (w.pendingBytes() > (size_t(64) << 20))
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    w.close();
    r.seconds = secondsSince(start);
    r.writerCpuSeconds = (processCpu() - processStart) - (threadCpu() - producerStart);
    r.sessionMs = now - t0Ms;
    return r;
}

}  // namespace

int main()
{
    const bool quick = std::getenv("MESHSCOPE_BENCH_QUICK") != nullptr;
    const uint64_t throughputSpans = quick ? 200'000 : 2'000'000;
    const uint64_t largeBytes = quick ? (uint64_t(100) << 20) : (uint64_t(1) << 30);
    const int64_t t0Ms = 1'700'000'000'000;

    QTemporaryDir dir;
    if (!dir.isValid()) {
        std::fprintf(stderr, "recording: no temporary directory\n");
        return 1;
    }
    SpanSource source;
    NullSink sink;
    std::string error;

    // 1. Write throughput.
    {
        const std::string path = dir.filePath(QStringLiteral("throughput.msrec")).toStdString();
        auto w = RecordingWriter::create(path, &sink, error);
        if (!w) {
            std::fprintf(stderr, "recording: %s\n", error.c_str());
            return 1;
        }
        const WriteResult r = writeSpans(*w, source, t0Ms, [&](uint64_t n) { return n >= throughputSpans; });
        const double mb = double(w->bytesWritten()) / 1e6;
        std::printf("recording: wrote %llu spans (%.0f s of session), %.1f bytes per span on disk, %llu blocks\n",
            static_cast<unsigned long long>(r.spans), double(r.sessionMs) / 1000,
            double(w->bytesWritten()) / double(r.spans), static_cast<unsigned long long>(w->blocksWritten()));
        std::printf("recording: writer thread %.0f spans per CPU-second, %.1f MB/s to disk per CPU-second "
                    "(wall %.2f s for the run)\n",
            double(r.spans) / r.writerCpuSeconds, mb / r.writerCpuSeconds, r.seconds);
        std::printf("recording: ingest side pays %.2f us CPU per span (pack + queue); %llu events dropped%s\n",
            r.ingestSeconds / double(r.spans) * 1e6, static_cast<unsigned long long>(w->eventsDropped()),
            w->lastError().empty() ? "" : (", error: " + w->lastError()).c_str());
    }

    // 2. A large recording: open through the index, replay the last minute.
    {
        const std::string path = dir.filePath(QStringLiteral("large.msrec")).toStdString();
        auto w = RecordingWriter::create(path, &sink, error);
        if (!w) {
            std::fprintf(stderr, "recording: %s\n", error.c_str());
            return 1;
        }
        const WriteResult r = writeSpans(*w, source, t0Ms, [&](uint64_t) { return w->bytesWritten() >= largeBytes; });
        std::printf("recording: made a %.2f GB recording: %llu spans, %.0f min of session, in %.1f s\n",
            double(w->bytesWritten()) / 1e9, static_cast<unsigned long long>(r.spans), double(r.sessionMs) / 60'000,
            r.seconds);

        // The file was just written, so it is in the page cache: this measures the
        // reader, not the disk.
        const auto openStart = Clock::now();
        auto reader = RecordingReader::open(path, error);
        const double openMs = secondsSince(openStart) * 1000;
        if (!reader) {
            std::fprintf(stderr, "recording: %s\n", error.c_str());
            return 1;
        }
        NullSink replayed;
        const auto replayStart = Clock::now();
        if (!reader->replay(replayed, reader->endMs() - 60'000, reader->endMs(), {}, error)) {
            std::fprintf(stderr, "recording: %s\n", error.c_str());
            return 1;
        }
        const double replayMs = secondsSince(replayStart) * 1000;
        std::printf("recording: open %.2f GB: %.1f ms (%s, %zu blocks); last 60 s replayed in %.0f ms "
                    "(%llu blocks, %llu spans) (budget 2 s)\n",
            double(reader->fileSize()) / 1e9, openMs, reader->openedFromIndex() ? "index" : "scan",
            reader->blockCount(), replayMs, static_cast<unsigned long long>(reader->blocksDecompressed()),
            static_cast<unsigned long long>(replayed.spans()));
        std::printf("recording: goal open <= 100 ms and last minute <= 2 s\n");
        if (!reader->problems().empty())
            std::printf("recording: problems: %s\n", reader->problems().front().c_str());

        // The same file as a crash leaves it: no index, so open walks every block.
        uint64_t blocksEnd = 0;
        for (const auto &b : reader->blocks())
            blocksEnd = std::max(blocksEnd, b.offset + b.frameLength);
        reader.reset();
        if (::truncate(path.c_str(), off_t(blocksEnd)) == 0) {
            const auto scanStart = Clock::now();
            auto scanned = RecordingReader::open(path, error);
            const double scanMs = secondsSince(scanStart) * 1000;
            if (scanned)
                std::printf("recording: open without index (as after a crash): %.0f ms (scan, %zu blocks)\n", scanMs,
                    scanned->blockCount());
        }
    }
    return 0;
}

// Time-travel benchmark (meshscope-bench-needs-ui): a one-hour recording of the demo mesh
// at 500 spans/s, opened as File > Open recording does, then the timeline's two goals,
// each measured on the window at 1920x1080 until the canvas has painted the moment:
//   scrubbing to a random moment shows its graph in <= 100 ms;
//   playing at 60x shows >= 30 frames a second (and advances ~60 s of session per second).
// Both with the window a click on the timeline uses (a recording's: all of it before the
// moment) and with a 60 s one (a range chosen on the strip). The spans are the demo's own
// (app/demo/demoscenario), turned into OTLP and decoded as the receiver does.
// Like the other benches it judges nothing in its exit code: PASS/FAIL are printed;
// non-zero means it could not measure (no recording, no frame painted).
// Usage: bench_timeline [--minutes M] [--rate SPANS_PER_S] [--scrubs N] [--play-seconds S]
//   (MESHSCOPE_BENCH_QUICK=1: a ten-minute recording, 20 scrubs, 3 s of play)

#include "canvas/graphcanvas.h"
#include "demootlp.h"
#include "demoscenario.h"
#include "mainwindow.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "recordingsession.h"
#include "session/recordingwriter.h"
#include "telemetry/otlp/otlpdecoder.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QEventLoop>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <google/protobuf/arena.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace meshscope;
using Clock = std::chrono::steady_clock;
namespace otlp = opentelemetry::proto;

namespace {

const QSize kScreen(1920, 1080);
constexpr double kScrubGoalMs = 100;
constexpr double kPlayGoalFps = 30;

double argValue(int argc, char **argv, const char *name, double fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return std::strtod(argv[i + 1], nullptr);
    }
    return fallback;
}

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double peakRssMb()
{
    rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) * 1024.0 / 1e6;
}

const char *verdict(bool met) { return met ? "PASS" : "FAIL"; }

// ---- the recording ----------------------------------------------------------------

struct Recording {
    int64_t startMs = 0;
    int64_t endMs = 0;
    uint64_t spans = 0;
    uint64_t requests = 0;
    uint64_t rejected = 0;
    double spansPerRequest = 0;
    uint64_t bytes = 0;
    double seconds = 0;
};

// The demo's traffic over `seconds` of session time, Poisson arrivals as meshscope-demo
// makes them at the rate that gives `spansPerSecond`. Every 250 ms of session time the
// spans that have ended go, one resource per service, through the OTLP decoder into the
// writer, as the receiver hands them on.
bool writeDemoRecording(const std::string &path, int64_t seconds, double spansPerSecond, Recording &out)
{
    const auto wallStart = Clock::now();
    constexpr uint64_t kStartNs = 1'704'110'400'000'000'000ull;  // 2024-01-01 12:00:00 UTC
    constexpr uint64_t kTickNs = 250'000'000ull;
    const uint64_t endNs = kStartNs + uint64_t(seconds) * 1'000'000'000ull;

    demo::DemoScenario scenario(1, kStartNs);
    {
        // How many spans a request makes, from a scenario of its own.
        demo::DemoScenario probe(1, kStartNs);
        std::mt19937_64 rng(99);
        std::vector<demo::DemoSpan> spans;
        constexpr int kProbes = 4000;
        for (int i = 0; i < kProbes; ++i)
            probe.generateRequest(rng, kStartNs + uint64_t(i) * 15'000'000ull, spans);
        out.spansPerRequest = double(spans.size()) / kProbes;
    }
    std::mt19937_64 rng(1);
    std::exponential_distribution<double> gapS(spansPerSecond / out.spansPerRequest);
    auto gapNs = [&] { return uint64_t(gapS(rng) * 1e9); };

    std::string error;
    auto writer = RecordingWriter::create(path, nullptr, error);
    if (!writer) {
        std::fprintf(stderr, "timeline: %s\n", error.c_str());
        return false;
    }
    std::vector<otlp::trace::v1::ResourceSpans> resources(scenario.services().size());
    for (size_t i = 0; i < resources.size(); ++i) {
        const demo::ServiceInfo &s = scenario.services()[i];
        demo::fillOtlpResource(s, &resources[i]);
    }

    const OtlpDecoder decoder;
    std::vector<demo::DemoSpan> pending;  // not ended yet
    std::vector<std::vector<demo::DemoSpan *>> byService(resources.size());
    uint64_t nextArrival = kStartNs + gapNs();
    google::protobuf::ArenaOptions arenaOptions;
    arenaOptions.start_block_size = 256 * 1024;
    arenaOptions.max_block_size = 4 * 1024 * 1024;
    for (uint64_t tick = kStartNs + kTickNs; tick <= endNs || !pending.empty(); tick += kTickNs) {
        while (nextArrival < tick && nextArrival < endNs) {
            scenario.generateRequest(rng, nextArrival, pending);
            ++out.requests;
            nextArrival += gapNs();
        }
        // Spans are exported once ended; the rest wait for a later tick.
        const auto ended = std::partition(pending.begin(), pending.end(),
            [tick, endNs](const demo::DemoSpan &s) { return s.endNs <= tick || tick > endNs + 5'000'000'000ull; });
        if (ended == pending.begin())
            continue;
        for (auto &list : byService)
            list.clear();
        for (auto it = pending.begin(); it != ended; ++it)
            byService[it->service].push_back(&*it);
        google::protobuf::Arena arena(arenaOptions);
        auto *request
            = google::protobuf::Arena::CreateMessage<otlp::collector::trace::v1::ExportTraceServiceRequest>(&arena);
        for (size_t i = 0; i < byService.size(); ++i) {
            if (byService[i].empty())
                continue;
            auto *rs = request->add_resource_spans();
            rs->CopyFrom(resources[i]);
            auto *spans = rs->mutable_scope_spans(0)->mutable_spans();
            spans->Reserve(int(byService[i].size()));
            for (demo::DemoSpan *s : byService[i])
                demo::fillOtlpSpan(*s, spans->Add());
        }
        pending.erase(pending.begin(), ended);
        DecodeResult decoded = decoder.decode(*request, tick);
        out.spans += decoded.spans.size();
        out.rejected += decoded.rejected;
        writer->ingestSpans(std::move(decoded.spans), int64_t(tick / 1'000'000), "otlp");
        // The writer compresses on its own thread: do not run ahead of it without bound.
        while (writer->pendingBytes() > (size_t(64) << 20))
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    writer->close();
    if (!writer->lastError().empty()) {
        std::fprintf(stderr, "timeline: %s\n", writer->lastError().c_str());
        return false;
    }
    out.startMs = int64_t(kStartNs / 1'000'000);
    out.endMs = out.startMs + writer->durationMs();
    out.bytes = writer->bytesWritten();
    out.seconds = msSince(wallStart) / 1000;
    return writer->eventsDropped() == 0;
}

// ---- what the canvas shows --------------------------------------------------------

// Watches the canvas's paints: a frame is a paint of a graph not painted before, from
// the worker's image of that very graph (not the previous image at a new graph). When a
// moment is awaited, its frame ends the wait once painted and flushed.
class FrameWatch : public QObject {
public:
    explicit FrameWatch(MainWindow *window)
        : m_window(window)
        , m_canvas(window->canvas())
    {
        m_canvas->installEventFilter(this);
    }

    int frames = 0;  // new graphs painted
    int latestFrames = 0;  // of which the moment asked for last

    // Runs the event loop until the graph of `ms` is painted; its time in ms, or a
    // negative number after timeoutMs.
    double awaitMoment(int64_t ms, Clock::time_point since, int timeoutMs = 10000)
    {
        m_since = since;
        if (frameOf(ms))
            return msSince(since);
        m_awaited = ms;
        m_doneMs = -1;
        ++m_wait;
        QEventLoop loop;
        m_loop = &loop;
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        loop.exec();
        m_loop = nullptr;
        m_awaited.reset();
        return m_doneMs;
    }

    // The moment is already on the canvas (asked for twice).
    bool frameOf(int64_t ms) const
    {
        return m_window->isPastShown() && m_window->viewedMs() == ms && m_canvas->snapshot() == m_window->snapshot()
            && m_canvas->isRenderUpToDate() && m_painted == m_canvas->snapshot();
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (watched == m_canvas && event->type() == QEvent::Paint)
            onPaint();
        return false;
    }

private:
    void onPaint()
    {
        GraphSnapshotPtr shown = m_canvas->snapshot();
        if (!shown || !m_canvas->isRenderUpToDate() || shown == m_painted || !m_window->isViewingPast())
            return;
        m_painted = shown;
        ++frames;
        const bool latest = m_window->isPastShown() && m_window->snapshot() == shown;
        if (latest)
            ++latestFrames;
        if (latest && m_awaited && m_window->viewedMs() == *m_awaited && m_loop) {
            // Queued: it runs once this paint and the backing store's flush are done.
            QMetaObject::invokeMethod(
                this,
                [this, wait = m_wait] {
                    if (wait != m_wait || !m_loop)
                        return;  // that wait timed out already
                    m_doneMs = msSince(m_since);
                    m_loop->quit();
                },
                Qt::QueuedConnection);
            m_awaited.reset();
        }
    }

    MainWindow *m_window;
    GraphCanvas *m_canvas;
    GraphSnapshotPtr m_painted;
    std::optional<int64_t> m_awaited;
    QEventLoop *m_loop = nullptr;
    uint64_t m_wait = 0;
    Clock::time_point m_since;
    double m_doneMs = -1;
};

struct ScrubResult {
    double avgMs = 0, p95Ms = 0, worstMs = 0;
    int worstRound = 0;  // 1-based: the first comes right after the open
    int timeouts = 0;
    size_t maxEdges = 0;
};

ScrubResult scrub(MainWindow *window, FrameWatch &watch, const Recording &rec, int rounds, int windowSeconds)
{
    std::mt19937_64 rng(7);
    std::vector<double> ms;
    ScrubResult r;
    for (int i = 0; i < rounds; ++i) {
        const int64_t at = rec.startMs + 1000 + int64_t(rng() % uint64_t(rec.endMs - rec.startMs - 1000));
        const auto start = Clock::now();
        window->goToMoment(at, windowSeconds);
        const double took = watch.awaitMoment(at, start);
        if (took < 0) {
            ++r.timeouts;
            continue;
        }
        ms.push_back(took);
        if (took > r.worstMs) {
            r.worstMs = took;
            r.worstRound = i + 1;
        }
        r.maxEdges = std::max(r.maxEdges, window->snapshot() ? window->snapshot()->edges.size() : 0);
    }
    if (ms.empty())
        return r;
    double total = 0;
    for (double m : ms)
        total += m;
    r.avgMs = total / double(ms.size());
    std::sort(ms.begin(), ms.end());
    r.p95Ms = ms[std::min(ms.size() - 1, size_t(std::ceil(0.95 * double(ms.size()))) - 1)];
    return r;
}

struct PlayResult {
    double fps = 0;
    double latestFps = 0;
    double sessionSecondsPerSecond = 0;
    double wallSeconds = 0;
    int frames = 0;
    bool stillPlaying = false;
    bool started = false;
};

PlayResult play(MainWindow *window, FrameWatch &watch, const Recording &rec, int windowSeconds, int wallMs)
{
    PlayResult r;
    const int64_t from = rec.startMs + 5 * 60'000;
    window->goToMoment(from, windowSeconds);
    r.started = watch.awaitMoment(from, Clock::now()) >= 0;
    const int framesBefore = watch.frames, latestBefore = watch.latestFrames;
    const int64_t viewedBefore = window->viewedMs().value_or(from);
    QElapsedTimer wall;
    wall.start();
    window->playHistory(60);
    QEventLoop loop;
    QTimer::singleShot(wallMs, &loop, &QEventLoop::quit);
    loop.exec();
    r.wallSeconds = double(wall.nsecsElapsed()) / 1e9;
    r.stillPlaying = window->playSpeed() == 60;
    const int64_t viewedAfter = window->viewedMs().value_or(viewedBefore);
    window->playHistory(0);
    r.frames = watch.frames - framesBefore;
    r.fps = r.frames / r.wallSeconds;
    r.latestFps = (watch.latestFrames - latestBefore) / r.wallSeconds;
    r.sessionSecondsPerSecond = double(viewedAfter - viewedBefore) / 1000.0 / r.wallSeconds;
    return r;
}

}  // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);  // the window's settings stay out of the user's
    const bool quick = qEnvironmentVariableIntValue("MESHSCOPE_BENCH_QUICK") == 1;
    const double minutes = argValue(argc, argv, "--minutes", quick ? 10 : 60);
    const double rate = argValue(argc, argv, "--rate", 500);
    const int scrubs = int(argValue(argc, argv, "--scrubs", quick ? 20 : 50));
    const int playMs = int(argValue(argc, argv, "--play-seconds", quick ? 3 : 10) * 1000);
    const int64_t seconds = int64_t(minutes * 60);
    if (seconds < 7 * 60) {
        std::fprintf(stderr, "timeline: --minutes must be at least 7 (play starts 5 min in)\n");
        return 2;
    }
    std::printf("timeline: the demo mesh at %.0f spans/s for %.0f min%s, %dx%d offscreen, software rasterizer\n", rate,
        minutes, quick ? " (MESHSCOPE_BENCH_QUICK: a shorter recording than the goal's hour)" : "", kScreen.width(),
        kScreen.height());

    QTemporaryDir dir;
    if (!dir.isValid()) {
        std::fprintf(stderr, "timeline: no temporary directory\n");
        return 1;
    }
    const QString path = dir.filePath(QStringLiteral("demo-hour.msrec"));
    Recording rec;
    if (!writeDemoRecording(path.toStdString(), seconds, rate, rec))
        return 1;
    std::printf("timeline: wrote %llu spans (%llu requests, %.1f spans each; %.0f spans/s of session), "
                "%.1f MB, in %.1f s; %llu rejected by the decoder\n",
        (unsigned long long)rec.spans, (unsigned long long)rec.requests, rec.spansPerRequest,
        double(rec.spans) / (double(rec.endMs - rec.startMs) / 1000), double(rec.bytes) / 1e6, rec.seconds,
        (unsigned long long)rec.rejected);
    std::fflush(stdout);

    // Open it as File > Open recording does, and read it all.
    const auto openStart = Clock::now();
    QString error;
    MainWindow *window = RecordingSession::open(path, &error);
    if (!window) {
        std::fprintf(stderr, "timeline: %s\n", qPrintable(error));
        return 1;
    }
    window->resize(kScreen);
    window->show();
    RecordingSession *session = RecordingSession::of(window);
    if (!QTest::qWaitFor([&] { return session->isFinished(); }, 600'000)) {
        std::fprintf(stderr, "timeline: the recording was not read in 10 min\n");
        return 1;
    }
    const double openMs = msSince(openStart);
    GraphCanvas *canvas = window->canvas();
    if (!QTest::qWaitFor(
            [&] { return canvas->snapshot() == window->snapshot() && canvas->isRenderUpToDate(); }, 10000)) {
        std::fprintf(stderr, "timeline: the canvas did not render the recording's graph\n");
        return 1;
    }
    const double shownMs = msSince(openStart);
    const GraphSnapshotPtr whole = window->snapshot();
    std::printf("timeline: opened and read in %.2f s (%.0f spans/s), the whole recording's graph painted at %.2f s: "
                "%zu nodes, %zu edges; process peak %.0f MB\n",
        openMs / 1000, double(rec.spans) / (openMs / 1000), shownMs / 1000, whole ? whole->nodes.size() : 0,
        whole ? whole->edges.size() : 0, peakRssMb());
    std::fflush(stdout);

    FrameWatch watch(window);
    bool measured = true;
    bool allMet = true;

    // Scrubbing: a click on the strip keeps the window (for a recording all of it before
    // the moment); a range chosen on it gives its own.
    struct Window {
        int seconds;
        const char *what;
    };
    const Window windows[] = {{0, "recording's window"}, {60, "60 s window"}};
    for (const Window &w : windows) {
        const ScrubResult r = scrub(window, watch, rec, scrubs, w.seconds);
        const bool met = r.timeouts == 0 && r.worstMs <= kScrubGoalMs;
        allMet &= met;
        measured &= r.timeouts < scrubs;
        std::printf("timeline: scrub, %-18s %8.1f ms avg, %.1f ms p95, %.1f ms worst (#%d) over %d moments "
                    "(%d timed out), up to %zu edges; goal <= %.0f ms: %s\n",
            w.what, r.avgMs, r.p95Ms, r.worstMs, r.worstRound, scrubs, r.timeouts, r.maxEdges, kScrubGoalMs,
            verdict(met));
        std::fflush(stdout);
    }

    // Playing at 60x from five minutes in.
    for (const Window &w : windows) {
        const PlayResult r = play(window, watch, rec, w.seconds, playMs);
        const bool met = r.started && r.fps >= kPlayGoalFps;
        allMet &= met;
        measured &= r.started;
        std::printf("timeline: play 60x, %-16s %8.1f frames/s (%d new graphs painted in %.1f s; %.1f/s of the "
                    "moment asked last), %.1f s of session per second%s; goal >= %.0f fps: %s\n",
            w.what, r.fps, r.frames, r.wallSeconds, r.latestFps, r.sessionSecondsPerSecond,
            r.stillPlaying ? "" : " (playing had stopped)", kPlayGoalFps, verdict(met));
        std::fflush(stdout);
    }
    std::printf("timeline: goals %s; process peak %.0f MB\n", allMet ? "met" : "NOT met", peakRssMb());

    window->closeWithoutAsking();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return measured ? 0 : 1;
}

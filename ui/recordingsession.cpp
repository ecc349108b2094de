#include "recordingsession.h"

#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "mainwindow.h"
#include "noticebar.h"
#include "routing/routediff.h"
#include "session/recordingreader.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"

#include <QDateTime>
#include <QFileInfo>
#include <QMetaObject>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

namespace meshscope {

namespace {

// Session time replayed between checks for progress: a slice is the blocks read until
// they cover this much, so it ends where a block does and no block is read twice.
constexpr int64_t kSliceMs = 5000;
constexpr auto kProgressEvery = std::chrono::milliseconds(250);  // wall time between partial graphs
const char *const kSessionProperty = "meshscopeRecordingSession";
const QString kReadingKey = QStringLiteral("recording-reading");

QString utcTime(int64_t ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

}  // namespace

MainWindow *RecordingSession::open(const QString &path, QString *error)
{
    std::string why;
    std::unique_ptr<RecordingReader> reader = RecordingReader::open(path.toStdString(), why);
    if (!reader) {
        if (error)
            *error = QString::fromStdString(why);
        return nullptr;
    }
    auto *session = new RecordingSession(path, std::move(reader));
    session->start();
    return session->m_window;
}

RecordingSession::RecordingSession(QString path, std::unique_ptr<RecordingReader> reader)
    : m_path(std::move(path))
    , m_reader(std::move(reader))
{
    // The graph covers the whole recording, as `meshscope-cli graph --from` answers by default.
    AggregatorConfig config;
    const int64_t spanMs = m_reader->endMs() - m_reader->startMs();
    config.windowSeconds = int(std::clamp<int64_t>((spanMs + 999) / 1000 + 1, 1, 24 * 3600));
    // Every second of the file, for the timeline: scrubbing and diffs read it, not the file.
    config.keepHistory = true;
    config.history.spanSeconds = config.windowSeconds + 2;
    // Pairing is judged by the recording's clock, which a replay runs far faster than.
    m_aggregator = std::make_unique<GraphAggregator>(config, m_reader->startMs());
    // Calls whose caller's half came before the recording began are no calls from outside.
    m_aggregator->setReplayStart(m_reader->startMs());
    m_traces = std::make_unique<TraceStore>();
    m_ingest = std::make_unique<TraceStoreSink>(*m_traces, *m_aggregator);

    // A workspace of its own, never saved: opening a recording changes nothing of the
    // live window's layout or sources.
    auto *window = new MainWindow(m_aggregator.get(), QStringLiteral("recording"));
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->setPersistenceEnabled(false);
    window->setTraceStore(m_traces.get());
    window->setRecordingDescription(description());
    window->setTimelineEnd(m_reader->endMs());
    window->setRecordingFile(m_path, m_reader->startMs(), m_reader->endMs());
    window->setWindowTitle(tr("%1 — recording — meshscope").arg(QFileInfo(m_path).fileName()));
    setParent(window);  // ends with the window
    window->setProperty(kSessionProperty, QVariant::fromValue(static_cast<QObject *>(this)));
    m_window = window;
}

RecordingSession::~RecordingSession()
{
    m_cancel = true;
    if (m_thread.joinable())
        m_thread.join();
}

RecordingSession *RecordingSession::of(const MainWindow *window)
{
    return window ? qobject_cast<RecordingSession *>(window->property(kSessionProperty).value<QObject *>()) : nullptr;
}

QString RecordingSession::description() const
{
    const int64_t start = m_reader->startMs(), end = m_reader->endMs();
    QString text = tr("%1 · %2 – %3 UTC (%4) · %5")
                       .arg(QFileInfo(m_path).fileName(), utcTime(start), utcTime(end).mid(11),
                           display::clock(end - start), display::dataSize(m_reader->fileSize()));
    if (!m_routeChanges.isEmpty())
        text += QStringLiteral(" · ")
            + display::quantity(m_routeChanges.size(), tr("route change"), tr("route changes"));
    if (!m_problems.isEmpty())
        text += QStringLiteral(" · ") + display::quantity(m_problems.size(), tr("problem"), tr("problems"));
    return text;
}

void RecordingSession::start()
{
    m_window->noticeBar()->setStanding(kReadingKey, tr("Reading %1…").arg(QFileInfo(m_path).fileName()));
    m_thread = std::thread([this] { replay(); });
}

// Reading thread: replays the file, one block after the other, into the aggregator
// and the trace store (both thread-safe), handing the GUI a graph now and then (at
// the end of a slice) and one at the end; a cancel stops it after the block at hand.
void RecordingSession::replay()
{
    const int64_t start = m_reader->startMs(), end = m_reader->endMs();
    std::string error;
    QStringList routeChanges;
    RecordingReader::Callbacks callbacks;
    // Each target's routes as last applied: a marker shows what changed since.
    std::map<std::string, std::string> applied;
    callbacks.routeApply = [this, &routeChanges, &applied](
                               uint64_t version, const std::string &target, const std::string &yaml, int64_t ms) {
        const QString to = QString::fromStdString(target);
        routeChanges << tr("version %1 to %2 at %3 UTC").arg(version).arg(to, utcTime(ms).mid(11));
        std::string &before = applied[target];
        const QString summary
            = before.empty() ? QString() : QString::fromStdString(routing::briefUnifiedDiff(before, yaml)).trimmed();
        before = yaml;
        QMetaObject::invokeMethod(
            this,
            [this, version, to, summary, ms] {
                if (m_window)
                    m_window->markRouteApply(version, to, summary, ms);
            },
            Qt::QueuedConnection);
    };
    // "retrying: connection refused" as SessionRecorder wrote it: a timeline marker.
    callbacks.sourceState = [this](const std::string &origin, const std::string &state, int64_t ms) {
        const QString text = QString::fromStdString(state);
        const qsizetype colon = text.indexOf(QStringLiteral(": "));
        const QString word = colon < 0 ? text : text.left(colon);
        const QString message = colon < 0 ? QString() : text.mid(colon + 2);
        const QString id = QString::fromStdString(origin);
        QMetaObject::invokeMethod(
            this,
            [this, id, word, message, ms] {
                if (m_window)
                    m_window->markSourceEvent(id, word, message, ms);
            },
            Qt::QueuedConnection);
    };
    auto lastShown = std::chrono::steady_clock::now();
    int64_t sliceFrom = start;
    // `to`: every event up to it is in the aggregator.
    callbacks.afterBlock = [&](int64_t to) {
        if (m_cancel)
            return false;
        if (to - sliceFrom + 1 < kSliceMs)
            return true;
        sliceFrom = to + 1;
        if (std::chrono::steady_clock::now() - lastShown >= kProgressEvery && to < end) {
            lastShown = std::chrono::steady_clock::now();
            GraphSnapshotPtr partial = m_aggregator->snapshot(to);
            QMetaObject::invokeMethod(
                this, [this, to, partial] { showProgress(to, partial); }, Qt::QueuedConnection);
        }
        return true;
    };
    m_reader->replay(*m_ingest, start, end, callbacks, error);
    if (m_cancel)
        return;
    // As `meshscope-cli graph --from` does: a callee's half still waiting for its
    // caller at the end was cut off by the recording's end, not called from outside.
    m_aggregator->flushPending(end, SpanPairer::LoneServers::Drop);
    GraphSnapshotPtr last = m_aggregator->snapshot(end);
    m_aggregator->closeHistory(end);
    QStringList problems;
    for (const std::string &p : m_reader->problems())
        problems << QString::fromStdString(p);
    const QString why = QString::fromStdString(error);
    QMetaObject::invokeMethod(
        this, [this, last, problems, routeChanges, why] { finish(last, problems, routeChanges, why); },
        Qt::QueuedConnection);
}

void RecordingSession::showProgress(int64_t reachedMs, GraphSnapshotPtr snapshot)
{
    if (!m_window || m_finished)
        return;
    const int64_t start = m_reader->startMs(), end = m_reader->endMs();
    const int percent = end > start ? int((reachedMs - start) * 100 / (end - start)) : 100;
    m_window->noticeBar()->setStanding(kReadingKey,
        tr("Reading %1: %2 % (%3 of %4)")
            .arg(QFileInfo(m_path).fileName())
            .arg(percent)
            .arg(display::clock(reachedMs - start), display::clock(end - start)));
    m_window->applySnapshot(std::move(snapshot));
}

void RecordingSession::finish(GraphSnapshotPtr snapshot, QStringList problems, QStringList routeChanges, QString error)
{
    if (m_thread.joinable())
        m_thread.join();
    m_finished = true;
    m_problems = std::move(problems);
    m_routeChanges = std::move(routeChanges);
    if (!error.isEmpty())
        m_problems << tr("reading stopped: %1").arg(error);
    if (!m_window)
        return;
    m_window->noticeBar()->clearStanding(kReadingKey);
    m_window->applySnapshot(std::move(snapshot));
    m_window->setRecordingDescription(description(), m_routeChanges);
    if (!m_problems.isEmpty())
        m_window->noticeBar()->showNotice(
            tr("%1: %2 (the rest of the recording is shown)")
                .arg(QFileInfo(m_path).fileName(), m_problems.join(QStringLiteral("; "))));
    Q_EMIT finished();
}

}  // namespace meshscope

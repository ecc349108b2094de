// Recordings in the dashboard: File > Record writes what the sources deliver to a
// .msrec file while a red indicator counts its duration and size; File > Open
// recording shows a file in a window of its own whose graph, requests and traces all
// come from the file; a file that is no recording says why and opens nothing.
#include "canvas/graphcanvas.h"
#include "common/spanfactory.h"
#include "graph/graphaggregator.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"
#include "mainwindow.h"
#include "noticebar.h"
#include "recordingsession.h"
#include "session/exportclipdialog.h"
#include "session/recordingreader.h"
#include "session/recordingwriter.h"
#include "session/sessionrecorder.h"
#include "timeline/graphdiffpanel.h"
#include "timeline/timelinestrip.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"
#include "traces/traceview.h"

#include <QAction>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace meshscope;

namespace {

QLabel *label(MainWindow *w, const char *name) { return w->findChild<QLabel *>(QLatin1String(name)); }

}  // namespace

class TestRecordingWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void recordThenOpen();
    void notARecordingSaysWhy();
    void closingWhileReadingStopsTheReading();
    void timelineCoversTheWholeRecording();
    void comparedWithAnotherRecording();

private:
    QString recordSample(int traces, std::vector<TraceId> *ids = nullptr);
    // A minute of frontend's calls, one batch a second: `calls` of (from, to, status).
    QString writeCalls(const QString &name, const std::vector<std::tuple<const char *, const char *, int>> &calls);

    QTemporaryDir m_dir;
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<TraceStore> m_store;
    std::unique_ptr<TraceStoreSink> m_keep;
    std::unique_ptr<SessionRecorder> m_recorder;
    std::unique_ptr<MainWindow> m_window;
    test::SpanFactory m_spans {0x5e};
};

void TestRecordingWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void TestRecordingWindow::init()
{
    m_aggregator = std::make_unique<GraphAggregator>(AggregatorConfig {}, GraphAggregator::wallNowMs() - 60000);
    m_store = std::make_unique<TraceStore>();
    m_keep = std::make_unique<TraceStoreSink>(*m_store, *m_aggregator);
    m_recorder = std::make_unique<SessionRecorder>(*m_keep);
    m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
    m_window->setPersistenceEnabled(false);
    m_window->setTraceStore(m_store.get());
    m_window->setSessionRecorder(m_recorder.get());
    m_window->resize(1280, 800);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestRecordingWindow::cleanup()
{
    // Recording windows opened by a test (deleting one also deletes its trace windows).
    QList<QPointer<MainWindow>> opened;
    for (QWidget *w : QApplication::topLevelWidgets())
        if (auto *other = qobject_cast<MainWindow *>(w); other && other != m_window.get())
            opened << other;
    for (const QPointer<MainWindow> &w : opened)
        delete w.data();
    m_window.reset();
    m_recorder.reset();
    m_keep.reset();
    m_store.reset();
    m_aggregator.reset();
}

// Records `traces` checkout traces, one every 100 ms of session time, through the
// window's Record action. The ids go to `ids`.
QString TestRecordingWindow::recordSample(int traces, std::vector<TraceId> *ids)
{
    static int n = 0;
    const QString path = m_dir.filePath(QStringLiteral("session-%1.msrec").arg(++n));
    if (!m_window->startRecording(path))
        return {};
    const int64_t now = GraphAggregator::wallNowMs();
    for (int i = 0; i < traces; ++i) {
        std::vector<Span> spans;
        const int64_t at = now - 5000 + i * 100;
        const TraceId id
            = test::addCheckout(spans, m_spans, at, {.paymentStatus = i % 4 == 0 ? 503 : 200, .inventory = false});
        if (ids)
            ids->push_back(id);
        m_recorder->ingestSpans(std::move(spans), at + 70);
        if (i == traces / 2)
            m_recorder->recordRouteApply(7, "xds 127.0.0.1:18000", "routes: []\n", at + 80);
    }
    return path;
}

void TestRecordingWindow::recordThenOpen()
{
    auto *record = m_window->findChild<QAction *>(QStringLiteral("recordAction"));
    QVERIFY(record);
    QLabel *indicator = label(m_window.get(), "statusRecording");
    QVERIFY(indicator && indicator->isHidden());

    std::vector<TraceId> ids;
    const QString path = recordSample(20, &ids);
    QVERIFY(!path.isEmpty());
    QVERIFY(m_window->isRecording());
    QVERIFY(!indicator->isHidden());
    QVERIFY2(indicator->text().startsWith(QStringLiteral("● REC 0:0")), qPrintable(indicator->text()));
    QCOMPARE(record->text(), QStringLiteral("Stop &recording"));
    // The live window kept everything while recording.
    QCOMPARE(m_store->counters().spans, uint64_t(100));
    // A second recording cannot start while one runs.
    QString error;
    QVERIFY(!m_window->startRecording(m_dir.filePath(QStringLiteral("second.msrec")), &error));
    QVERIFY2(error.contains(QStringLiteral("already running")), qPrintable(error));

    // Clicking the indicator stops it, and the notice says where the file is.
    QTest::mouseClick(indicator, Qt::LeftButton);
    QVERIFY(!m_window->isRecording());
    QVERIFY(indicator->isHidden());
    QCOMPARE(record->text(), QStringLiteral("&Record…"));
    QVERIFY2(
        m_window->noticeBar()->text().contains(QStringLiteral("Recorded")), qPrintable(m_window->noticeBar()->text()));
    QVERIFY(m_window->noticeBar()->text().contains(QDir::toNativeSeparators(path)));
    std::string why;
    const auto reader = RecordingReader::open(path.toStdString(), why);
    QVERIFY2(reader, why.c_str());
    QVERIFY(reader->openedFromIndex());  // closed properly: index and trailer written

    // Spans after the stop go on to the live window only.
    std::vector<Span> later;
    test::addCheckout(later, m_spans, GraphAggregator::wallNowMs(), {.paymentStatus = 200, .inventory = false});
    m_recorder->ingestSpans(std::move(later), GraphAggregator::wallNowMs());
    QCOMPARE(m_store->counters().spans, uint64_t(105));

    // File > Open recording: a window of its own, filled from the file.
    QPointer<MainWindow> opened = m_window->openRecording(path);
    QVERIFY(opened);
    QVERIFY(opened != m_window.get());
    RecordingSession *session = RecordingSession::of(opened);
    QVERIFY(session);
    QTRY_VERIFY(session->isFinished());
    QVERIFY(!opened->findChild<QAction *>(QStringLiteral("recordAction")));  // nothing to record there
    const QString status = opened->statusText();
    QVERIFY2(status.contains(QStringLiteral("Recording")) && status.contains(QFileInfo(path).fileName()),
        qPrintable(status));
    // The route change made while recording is there, with its version.
    QVERIFY2(status.contains(QStringLiteral("1 route change")), qPrintable(status));
    QCOMPARE(session->routeChanges().size(), 1);
    QVERIFY2(session->routeChanges().front().startsWith(QStringLiteral("version 7 to xds 127.0.0.1:18000 at ")),
        qPrintable(session->routeChanges().front()));
    if (auto *guide = opened->findChild<QWidget *>(QStringLiteral("emptyGuide")))
        QVERIFY(guide->isHidden());

    // The graph: the same services and calls as the live one, the failures counted.
    QTRY_VERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/checkout->shop/payments")));
    QVERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/frontend->shop/checkout")));
    const GraphSnapshotPtr snap = opened->publishedSnapshot();
    QVERIFY(snap);
    const auto edge = std::find_if(snap->edges.begin(), snap->edges.end(),
        [](const EdgeSnapshot &e) { return e.id == "shop/checkout->shop/payments"; });
    QVERIFY(edge != snap->edges.end());
    QCOMPARE(edge->stats.requests, uint64_t(20));
    QCOMPARE(edge->stats.errorRate, 0.25);

    // The requests table lists the recorded requests: three calls a trace, the
    // outside world's into frontend included.
    RequestsPanel *requests = opened->requestsPanel();
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 60);

    // And a trace opens from the recording's own store, whole.
    TraceView *view = opened->openTrace(QString::fromStdString(traceIdHex(ids[3])));
    QVERIFY(view);
    QTRY_VERIFY(view->hasTrace());
    QCOMPARE(int(view->tree()->size()), 5);
    QVERIFY(!m_window->findChild<TraceView *>());  // in the recording's window, not the live one
}

void TestRecordingWindow::notARecordingSaysWhy()
{
    const QString path = m_dir.filePath(QStringLiteral("notes.msrec"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("these are not the blocks you are looking for\n");
    f.close();
    const int windows = int(QApplication::topLevelWidgets().size());
    QVERIFY(!m_window->openRecording(path));
    QCOMPARE(int(QApplication::topLevelWidgets().size()), windows);
    const QString notice = m_window->noticeBar()->text();
    QVERIFY2(notice.startsWith(QStringLiteral("Cannot open"))
            && notice.contains(QStringLiteral("not a meshscope recording")),
        qPrintable(notice));
    QVERIFY(!m_window->openRecording(m_dir.filePath(QStringLiteral("missing.msrec"))));
    QVERIFY2(m_window->noticeBar()->text().contains(QStringLiteral("missing.msrec")),
        qPrintable(m_window->noticeBar()->text()));
}

void TestRecordingWindow::closingWhileReadingStopsTheReading()
{
    const QString path = recordSample(400);
    QVERIFY(m_window->stopRecording());
    QPointer<MainWindow> opened = m_window->openRecording(path);
    QVERIFY(opened);
    QPointer<RecordingSession> session = RecordingSession::of(opened);
    QVERIFY(session);
    opened->close();  // deletes the window and its session, joining the reading thread
    QTRY_VERIFY(!opened);
    QVERIFY(!session);
}

// The recording's window has the timeline too, over the whole file (its "now" is the
// recording's end): a moment before a service existed shows the graph without it, a
// moment inside a source's outage says so, the route change and the outage are
// markers, playing stops at the end, and "Whole recording" shows all of it again.
void TestRecordingWindow::timelineCoversTheWholeRecording()
{
    const QString path = m_dir.filePath(QStringLiteral("timeline.msrec"));
    const int64_t start = 1'700'000'000'000;  // 2023-11-14 22:13:20 UTC
    {
        std::string error;
        auto w = RecordingWriter::create(path.toStdString(), nullptr, error);
        QVERIFY2(w, error.c_str());
        // Three minutes: frontend -> checkout all along, frontend -> recommendations
        // from +100 s; the access-log source down from +40 s to +60 s.
        for (int64_t t = start; t < start + 180'000; t += 1000) {
            std::vector<ObservedRequest> batch;
            for (int i = 0; i < 4; ++i)
                batch.push_back(test::shopCall("frontend", "checkout", 200));
            if (t >= start + 100'000)
                batch.push_back(test::shopCall("frontend", "recommendations", 200));
            w->ingestRequests(std::move(batch), t + 10, "als");
            if (t == start + 40'000)
                w->recordSourceState("als", "retrying: connection refused", t + 20);
            if (t == start + 60'000)
                w->recordSourceState("als", "connected", t + 20);
            if (t == start + 100'000)
                w->recordRouteApply(3, "xds 127.0.0.1:18000", "routes: [reco]\n", t + 5);
        }
        w->close();
    }
    QPointer<MainWindow> opened = m_window->openRecording(path);
    QVERIFY(opened);
    RecordingSession *session = RecordingSession::of(opened);
    QTRY_VERIFY(session->isFinished());
    QTRY_VERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/frontend->shop/recommendations")));

    TimelineStrip *strip = opened->timeline();
    QVERIFY(strip);
    QVERIFY(strip->isVisible());
    QCOMPARE(opened->timelineNowMs(), start + 179'010);
    strip->refresh(opened->timelineNowMs());
    QVERIFY2(strip->startMs() <= start, qPrintable(QString::number(strip->startMs() - start)));
    uint64_t requests = 0;
    for (const SeriesPoint &p : strip->points())
        requests += p.requests;
    QCOMPARE(requests, uint64_t(180 * 4 + 80));  // every second of the file, the last ones too
    QTRY_COMPARE(strip->markers().size(), size_t(3));
    std::vector<TimelineStrip::Marker::Kind> kinds;
    for (const TimelineStrip::Marker &m : strip->markers())
        kinds.push_back(m.kind);
    QVERIFY(std::count(kinds.begin(), kinds.end(), TimelineStrip::Marker::Kind::SourceDown) == 1);
    QVERIFY(std::count(kinds.begin(), kinds.end(), TimelineStrip::Marker::Kind::SourceUp) == 1);
    QVERIFY(std::count(kinds.begin(), kinds.end(), TimelineStrip::Marker::Kind::RouteApply) == 1);

    // Inside the outage, before recommendations existed.
    opened->goToMoment(start + 50'000, 10);
    QTRY_VERIFY(opened->isPastShown());
    QVERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/frontend->shop/checkout")));
    QVERIFY(!opened->canvas()->hasEdge(QStringLiteral("shop/frontend->shop/recommendations")));
    QVERIFY2(opened->pastBannerText().contains(QStringLiteral("als down: connection refused")),
        qPrintable(opened->pastBannerText()));
    // After it, with recommendations.
    opened->goToMoment(start + 150'000, 10);
    QTRY_VERIFY(opened->isPastShown());
    QVERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/frontend->shop/recommendations")));
    QVERIFY2(!opened->pastBannerText().contains(QStringLiteral("down")), qPrintable(opened->pastBannerText()));

    // Playing at 60x from ten seconds before the end stops at the end, still viewing it.
    opened->goToMoment(start + 170'000, 10);
    opened->playHistory(60);
    QTRY_COMPARE(opened->playSpeed(), 0);
    QVERIFY(opened->isViewingPast());
    QCOMPARE(*opened->viewedMs(), opened->timelineNowMs());

    // File › Export clip starts at the range viewed; a live window has no such entry.
    QVERIFY(!m_window->findChild<QAction *>(QStringLiteral("exportClipAction")));
    auto *clipAction = opened->findChild<QAction *>(QStringLiteral("exportClipAction"));
    QVERIFY(clipAction);
    QVERIFY(opened->findChild<QMenu *>(QStringLiteral("fileMenu"))->actions().contains(clipAction));
    opened->goToMoment(start + 120'000, 30);
    clipAction->trigger();
    auto *clip = opened->findChild<ExportClipDialog *>();
    QVERIFY(clip);
    QCOMPARE(clip->fromMs(), start + 90'000);
    QCOMPARE(clip->toMs(), start + 120'000);
    clip->close();

    // The way back is to the whole recording.
    auto *whole = opened->findChild<QPushButton *>(QStringLiteral("backToLive"));
    QVERIFY(whole);
    QCOMPARE(whole->text(), QStringLiteral("Whole recording"));
    QTest::mouseClick(whole, Qt::LeftButton);
    QVERIFY(!opened->isViewingPast());
    QVERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/frontend->shop/recommendations")));
}

QString TestRecordingWindow::writeCalls(
    const QString &name, const std::vector<std::tuple<const char *, const char *, int>> &calls)
{
    const QString path = m_dir.filePath(name);
    std::string error;
    auto w = RecordingWriter::create(path.toStdString(), nullptr, error);
    if (!w)
        return {};
    const int64_t start = 1'700'000'000'000;
    for (int64_t t = start; t < start + 60'000; t += 1000) {
        std::vector<ObservedRequest> batch;
        for (const auto &[from, to, status] : calls)
            batch.push_back(test::shopCall(from, to, status));
        w->ingestRequests(std::move(batch), t + 10, "als");
    }
    w->close();
    return path;
}

// File › Compare with recording: the window's recording is "after", the other one
// "before"; recordings of two different meshes say so.
void TestRecordingWindow::comparedWithAnotherRecording()
{
    const QString before = writeCalls(QStringLiteral("before.msrec"),
        {{"frontend", "checkout", 200}, {"frontend", "checkout", 200}, {"checkout", "payments", 200}});
    const QString after = writeCalls(QStringLiteral("after.msrec"),
        {{"frontend", "checkout", 200}, {"frontend", "checkout", 503}, {"frontend", "recommendations", 200}});
    const QString other = writeCalls(QStringLiteral("other.msrec"), {{"web", "db", 200}});
    QPointer<MainWindow> opened = m_window->openRecording(after);
    QVERIFY(opened);
    QTRY_VERIFY(RecordingSession::of(opened)->isFinished());
    QVERIFY(opened->findChild<QAction *>(QStringLiteral("compareRecordingAction")));

    opened->compareWithRecording(before);
    QTRY_VERIFY(opened->isDiffShown());
    const std::shared_ptr<const GraphDiff> diff = opened->shownDiff();
    auto changeOf = [&diff](const std::string &id) -> std::optional<DiffChange> {
        for (const EdgeDiff &e : diff->edges) {
            if (e.edge().id == id)
                return e.change;
        }
        return std::nullopt;
    };
    QCOMPARE(changeOf("shop/frontend->shop/recommendations"), std::optional(DiffChange::Added));
    QCOMPARE(changeOf("shop/checkout->shop/payments"), std::optional(DiffChange::Removed));
    QCOMPARE(changeOf("shop/frontend->shop/checkout"), std::optional(DiffChange::Changed));  // half failing now
    QVERIFY(opened->canvas()->hasEdge(QStringLiteral("shop/checkout->shop/payments")));  // drawn, dashed
    QVERIFY(opened->canvas()
                ->diffOverlayIds(GraphCanvas::DiffMark::Kind::Removed)
                .contains(QStringLiteral("shop/checkout->shop/payments")));
    QVERIFY2(
        opened->diffPanel()->summaryText().startsWith(QStringLiteral("Before before.msrec → after this recording")),
        qPrintable(opened->diffPanel()->summaryText()));

    // Another mesh: everything added or removed, and a notice says why.
    opened->compareWithRecording(other);
    QTRY_VERIFY(opened->shownDiff() != diff);
    QVERIFY2(opened->diffPanel()->summaryText().contains(QStringLiteral("no service in common")),
        qPrintable(opened->diffPanel()->summaryText()));
    QCOMPARE(opened->shownDiff()->count(DiffChange::Changed), size_t(0));

    // Not a recording: said, and the diff shown stays.
    const QString bogus = m_dir.filePath(QStringLiteral("bogus.msrec"));
    QFile f(bogus);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a recording");
    f.close();
    const auto shown = opened->shownDiff();
    opened->compareWithRecording(bogus);
    QTRY_VERIFY(opened->noticeBar()->text().contains(QStringLiteral("Cannot compare with bogus.msrec")));
    QCOMPARE(opened->shownDiff(), shown);
}

QTEST_MAIN(TestRecordingWindow)
#include "tst_recordingwindow.moc"

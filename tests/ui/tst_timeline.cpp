// Time travel in the dashboard, offscreen: the timeline strip under the canvas draws
// the session's seconds; going to a moment before a service existed shows the graph
// without it (with the numbers of then, and a banner that says which moment), the
// strip's keys step a second or a minute, playing moves forward, back to live shows
// the newest graph again; route applies and source outages are markers.

#include "canvas/graphcanvas.h"
#include "common/spanfactory.h"
#include "graph/graphaggregator.h"
#include "graph/windowstats.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"
#include "mainwindow.h"
#include "timeline/graphdiffpanel.h"
#include "timeline/timelinestrip.h"
#include "traces/models/tracesearchmodel.h"
#include "traces/tracesearchdialog.h"
#include "traces/tracestore.h"

#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace meshscope;

namespace {

const QString kCheckout = QStringLiteral("shop/frontend->shop/checkout");
const QString kReco = QStringLiteral("shop/frontend->shop/recommendations");

}  // namespace

class TestTimeline : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        AggregatorConfig config;
        config.keepHistory = true;
        config.windowSeconds = 30;
        // The newest 1,000 requests: the last ~170 s of the session's (5 or 6 a second).
        config.recentRequestCapacity = 1000;
        // The session began five minutes ago: frontend -> checkout all along,
        // frontend -> recommendations only in the last two minutes, errors from then on.
        const int64_t now = GraphAggregator::wallNowMs();
        m_startMs = now - 300'000;
        m_aggregator = std::make_unique<GraphAggregator>(config, m_startMs);
        for (int64_t t = m_startMs; t < now - 1000; t += 1000) {
            std::vector<ObservedRequest> batch;
            const bool late = t >= now - 120'000;
            for (int i = 0; i < 5; ++i)
                batch.push_back(test::shopCall("frontend", "checkout", late && i == 0 ? 503 : 200));
            if (late)
                batch.push_back(test::shopCall("frontend", "recommendations", 200));
            for (ObservedRequest &r : batch)
                r.event.timeMs = t;
            m_aggregator->ingestRequests(std::move(batch), t + 10, "als");
            m_aggregator->snapshot(t + 999);
        }
        m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("tst_timeline"));
        m_window->setPersistenceEnabled(false);
        m_window->resize(1280, 800);
        m_window->show();
        m_window->applySnapshot(m_aggregator->snapshot(now));
        QTRY_VERIFY(m_window->canvas()->hasEdge(kReco));
    }
    void cleanup()
    {
        m_window.reset();
        m_aggregator.reset();
    }

    void stripDrawsTheSession()
    {
        TimelineStrip *strip = m_window->timeline();
        QVERIFY(strip);
        QVERIFY(strip->isVisible());
        strip->refresh(GraphAggregator::wallNowMs());
        QVERIFY(strip->startMs() <= m_startMs + 1000);
        uint32_t requests = 0, errors = 0;
        for (const SeriesPoint &p : strip->points()) {
            requests += p.requests;
            errors += p.errors;
        }
        // About 298 seconds of 5 calls, 118 of them with one more call and one error.
        QVERIFY2(requests >= 290 * 5 && requests <= 300 * 6, qPrintable(QString::number(requests)));
        QVERIFY2(errors >= 110 && errors <= 120, qPrintable(QString::number(errors)));
        const QImage shot = m_window->grab().toImage();
        QVERIFY(!shot.isNull());
    }

    void goingBackShowsTheGraphOfThen()
    {
        const int64_t then = m_startMs + 60'000;
        m_window->goToMoment(then);
        QVERIFY(m_window->isViewingPast());
        QCOMPARE(m_window->viewedWindowSeconds(), 30);
        QTRY_VERIFY(m_window->isPastShown());
        QVERIFY(!m_window->canvas()->hasEdge(kReco));
        QVERIFY(m_window->canvas()->hasEdge(kCheckout));
        const EdgeSnapshot *e = m_window->snapshot()->edge(kCheckout.toStdString());
        QVERIFY(e);
        QCOMPARE(e->stats.errorRate, 0.0);
        QCOMPARE(e->stats.rps, 5.0);
        auto *banner = m_window->findChild<QFrame *>(QStringLiteral("pastBanner"));
        QVERIFY(banner && banner->isVisible());
        QVERIFY2(m_window->pastBannerText().contains(
                     QDateTime::fromMSecsSinceEpoch(then).toString(QStringLiteral("HH:mm:ss"))),
            qPrintable(m_window->pastBannerText()));
        QVERIFY(m_window->pastBannerText().contains(QLatin1String("30 seconds")));

        // Live snapshots wait while the past is shown.
        m_window->applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
        QVERIFY(!m_window->canvas()->hasEdge(kReco));

        // A range: the last minute, errors and all.
        const int64_t now = GraphAggregator::wallNowMs();
        Q_EMIT m_window->timeline()->rangeChosen(now - 62'000, now - 2'000);
        QTRY_VERIFY(m_window->isPastShown());
        QCOMPARE(m_window->viewedWindowSeconds(), 60);
        QVERIFY(m_window->canvas()->hasEdge(kReco));
        const EdgeSnapshot *late = m_window->snapshot()->edge(kCheckout.toStdString());
        QVERIFY(late);
        QVERIFY2(std::abs(late->stats.errorRate - 0.2) < 0.01, qPrintable(QString::number(late->stats.errorRate)));

        // Back to live: the newest graph, no banner.
        auto *live = banner->findChild<QPushButton *>(QStringLiteral("backToLive"));
        QVERIFY(live);
        QTest::mouseClick(live, Qt::LeftButton);
        QVERIFY(!m_window->isViewingPast());
        QVERIFY(!banner->isVisible());
        QVERIFY(m_window->canvas()->hasEdge(kReco));
        QVERIFY(m_window->pastBannerText().isEmpty());
    }

    void keysStepSecondsAndMinutes()
    {
        TimelineStrip *strip = m_window->timeline();
        const int64_t then = m_startMs + 200'000;
        m_window->goToMoment(then);
        strip->setFocus();
        QTest::keyClick(strip, Qt::Key_Left);
        QCOMPARE(*m_window->viewedMs(), then - 1000);
        QTest::keyClick(strip, Qt::Key_Right, Qt::ShiftModifier);
        QCOMPARE(*m_window->viewedMs(), then + 59'000);
        QTest::keyClick(strip, Qt::Key_Left, Qt::ShiftModifier);
        QCOMPARE(*m_window->viewedMs(), then - 1000);
        QTRY_VERIFY(m_window->isPastShown());
        QTest::keyClick(strip, Qt::Key_End);
        QVERIFY(!m_window->isViewingPast());
        // Stepping right while live stays live.
        QTest::keyClick(strip, Qt::Key_Right);
        QVERIFY(!m_window->isViewingPast());
    }

    void clickingTheStripGoesThere()
    {
        TimelineStrip *strip = m_window->timeline();
        strip->refresh(GraphAggregator::wallNowMs());
        const int x = strip->xAtMs(m_startMs + 30'000);
        QTest::mouseClick(strip, Qt::LeftButton, {}, QPoint(x, strip->height() / 2));
        QVERIFY(m_window->isViewingPast());
        QVERIFY2(std::abs(*m_window->viewedMs() - (m_startMs + 30'000)) <= (strip->endMs() - strip->startMs()) / 100,
            qPrintable(QString::number(*m_window->viewedMs() - m_startMs)));
        QTRY_VERIFY(m_window->isPastShown());
        QVERIFY(!m_window->canvas()->hasEdge(kReco));
    }

    void playingMovesForward()
    {
        m_window->goToMoment(m_startMs + 100'000);
        m_window->playHistory(60);
        QCOMPARE(m_window->playSpeed(), 60);
        QTRY_VERIFY(*m_window->viewedMs() >= m_startMs + 100'000 + 12'000);  // 0.2 s of wall time
        m_window->playHistory(0);
        const int64_t stopped = *m_window->viewedMs();
        QTest::qWait(300);
        QCOMPARE(*m_window->viewedMs(), stopped);
        // At 60x from two seconds before now, it reaches live and stops there.
        m_window->goToMoment(GraphAggregator::wallNowMs() - 3000);
        m_window->playHistory(60);
        QTRY_VERIFY(!m_window->isViewingPast());
        QCOMPARE(m_window->playSpeed(), 0);
    }

    void routeAppliesAreMarkers()
    {
        TimelineStrip *strip = m_window->timeline();
        const int64_t at = m_startMs + 150'000;
        m_window->markRouteApply(
            7, QStringLiteral("xDS 127.0.0.1:18000"), QStringLiteral("-  weight: 90\n+  weight: 50"), at);
        QCOMPARE(strip->markers().size(), size_t(1));
        strip->refresh(GraphAggregator::wallNowMs());
        const std::vector<TimelineStrip::Marker> near = strip->markersNear(strip->xAtMs(at));
        QCOMPARE(near.size(), size_t(1));
        QVERIFY(near[0].text.contains(QLatin1String("version 7")));
        QVERIFY(near[0].text.contains(QLatin1String("+  weight: 50")));
        QVERIFY(strip->markersNear(strip->xAtMs(at) + 40).empty());
    }

    void outagesShowAtTheirMoments()
    {
        TimelineStrip *strip = m_window->timeline();
        const int64_t down = m_startMs + 60'000, up = m_startMs + 90'000;
        m_window->markSourceEvent(
            QStringLiteral("prometheus"), QStringLiteral("retrying"), QStringLiteral("connection refused"), down);
        m_window->markSourceEvent(QStringLiteral("prometheus"), QStringLiteral("retrying"), QString(), down + 5000);
        m_window->markSourceEvent(QStringLiteral("prometheus"), QStringLiteral("connected"), QString(), up);
        QCOMPARE(strip->markers().size(), size_t(2));  // changes only
        QCOMPARE(m_window->sourcesDownAt(down - 1), QStringList());
        QCOMPARE(m_window->sourcesDownAt(down + 10'000),
            QStringList {QStringLiteral("prometheus down: connection refused")});
        QCOMPARE(m_window->sourcesDownAt(up), QStringList());
        m_window->goToMoment(down + 10'000);
        QVERIFY2(m_window->pastBannerText().contains(QStringLiteral("⚠ prometheus down: connection refused")),
            qPrintable(m_window->pastBannerText()));
        m_window->goToMoment(up + 10'000);
        QVERIFY(!m_window->pastBannerText().contains(QStringLiteral("down")));
        // A source that was only ever up is no event.
        m_window->markSourceEvent(QStringLiteral("otlp"), QStringLiteral("listening"), QString(), up);
        QCOMPARE(strip->markers().size(), size_t(2));
    }

    // Two ranges of the history compared: recommendations came, checkout's calls began
    // to fail. The canvas draws both graphs with the changes marked and labelled; the
    // Changes dock lists them biggest first, sorts, exports and takes new thresholds.
    void diffOfTwoRanges()
    {
        const int64_t now = GraphAggregator::wallNowMs();
        m_window->compareRanges(m_startMs + 10'000, m_startMs + 100'000, now - 100'000, now - 10'000);
        QTRY_VERIFY(m_window->isDiffShown());
        const std::shared_ptr<const GraphDiff> diff = m_window->shownDiff();
        const QString recoNode = QStringLiteral("shop/recommendations");
        GraphCanvas *canvas = m_window->canvas();
        QCOMPARE(canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Added), (QStringList {kReco, recoNode}));
        QVERIFY(canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Removed).isEmpty());
        QVERIFY2(canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Changed).contains(kCheckout),
            qPrintable(canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Changed).join(u',')));
        const EdgeSnapshot *checkout = diff->after->edge(kCheckout.toStdString());
        QVERIFY(checkout);
        QCOMPARE(checkout->stats.errorRate, 0.2);  // one call in five failing
        canvas->fitToView();
        const auto labels = canvas->diffLabels();
        QVERIFY2(labels.value(kCheckout).second.contains(QStringLiteral("+20.0 pts err")),
            qPrintable(labels.value(kCheckout).second));
        QVERIFY(!labels.value(kCheckout).first.isEmpty());
        // The banner and the strip say which ranges.
        QVERIFY2(m_window->findChild<QLabel *>(QStringLiteral("pastLabel"))
                     ->text()
                     .startsWith(QStringLiteral("Diff: before ")),
            qPrintable(m_window->findChild<QLabel *>(QStringLiteral("pastLabel"))->text()));

        // The table: the changes only, biggest first.
        GraphDiffPanel *panel = m_window->diffPanel();
        QVERIFY(panel && m_window->diffDock()->isVisible());
        QVERIFY2(panel->summaryText().contains(QStringLiteral("2 added, 0 removed")), qPrintable(panel->summaryText()));
        const int rows = panel->rowCount();
        QCOMPARE(size_t(rows), diff->count(DiffChange::Added) + diff->count(DiffChange::Changed));
        QStringList ids;
        for (int r = 0; r < rows; ++r)
            ids << panel->idAt(r);
        QVERIFY(ids.contains(kReco) && ids.contains(recoNode) && ids.contains(kCheckout));
        QVERIFY(!ids.contains(QStringLiteral("external")));
        // Sorted by the change in errors, largest first: checkout's edge or node leads.
        panel->table()->sortByColumn(3, Qt::DescendingOrder);
        QVERIFY2(panel->idAt(0).contains(QStringLiteral("checkout")), qPrintable(panel->idAt(0)));
        panel->setShowUnchanged(true);
        QCOMPARE(size_t(panel->rowCount()), diff->nodes.size() + diff->edges.size());
        panel->setShowUnchanged(false);
        // A row selects its item on the canvas.
        panel->table()->selectRow(ids.indexOf(kReco));
        QCOMPARE(canvas->selectedEdge(), kReco);

        // Exported, it is the CLI's JSON.
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("diff.json"));
        QString error;
        QVERIFY2(panel->exportJson(file, &error), qPrintable(error));
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject json = QJsonDocument::fromJson(f.readAll()).object();
        bool recoAdded = false;
        for (const QJsonValue &n : json.value(QStringLiteral("nodes")).toArray())
            recoAdded = recoAdded
                || (n[QStringLiteral("id")].toString() == recoNode
                    && n[QStringLiteral("change")].toString() == QStringLiteral("added"));
        QVERIFY(recoAdded);

        // Thresholds: 30 points of error rate before it counts: checkout's edge is the same.
        panel->findChild<QDoubleSpinBox *>(QStringLiteral("diffErrorPoints"))->setValue(30);
        QVERIFY(!canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Changed).contains(kCheckout));
        QCOMPARE(GraphDiffPanel::savedThresholds().errorRatePoints, 0.30);
        panel->findChild<QDoubleSpinBox *>(QStringLiteral("diffErrorPoints"))->setValue(2);
        QVERIFY(canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Changed).contains(kCheckout));

        // Live snapshots wait while it shows; closing it shows the newest graph again.
        m_window->applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
        QVERIFY(m_window->isDiffShown());
        QTest::mouseClick(panel->findChild<QPushButton *>(QStringLiteral("diffClose")), Qt::LeftButton);
        QVERIFY(!m_window->isDiffShown());
        QVERIFY(canvas->diffOverlayIds(GraphCanvas::DiffMark::Kind::Added).isEmpty());
        QVERIFY(canvas->hasEdge(kReco));
    }

    // One click on a route apply's flag: the two minutes before it against the ones after.
    void oneClickDiffAtARouteApply()
    {
        const int64_t now = GraphAggregator::wallNowMs();
        const int64_t at = m_startMs + 180'000;  // when recommendations came and errors began
        m_window->markRouteApply(4, QStringLiteral("xds 127.0.0.1:18000"), QString(), at);
        TimelineStrip *strip = m_window->timeline();
        strip->refresh(now);  // the strip's axis moves with the clock: where the flag is now
        const QPoint flag(strip->xAtMs(at), 6);
        QVERIFY(strip->routeFlagAt(flag));
        QVERIFY(!strip->routeFlagAt(QPoint(strip->xAtMs(at) + 30, 6)));
        QTest::mouseClick(strip, Qt::LeftButton, {}, flag);
        QTRY_VERIFY(m_window->isDiffShown());
        QVERIFY(m_window->canvas()->diffOverlayIds(GraphCanvas::DiffMark::Kind::Added).contains(kReco));
        QVERIFY(!m_window->isViewingPast());  // the click diffed; it did not go to the moment
        // A change too recent to have an "after" says so and shows nothing new.
        m_window->closeDiff();
        m_window->compareAroundChange(GraphAggregator::wallNowMs() - 500);
        QVERIFY(!m_window->isDiffShown());
        // Going to a moment closes a diff.
        strip->refresh(GraphAggregator::wallNowMs());
        QTest::mouseClick(strip, Qt::LeftButton, {}, QPoint(strip->xAtMs(at), 6));
        QTRY_VERIFY(m_window->isDiffShown());
        m_window->goToMoment(m_startMs + 60'000);
        QVERIFY(!m_window->isDiffShown());
    }

    // The requests table and the trace search follow the moment viewed, and come back to
    // live with the graph.
    void panelsFollowTheMoment()
    {
        RequestsPanel *requests = m_window->requestsPanel();
        const int64_t now = GraphAggregator::wallNowMs();
        const int64_t end = m_startMs + 290'000;  // the requests at whole seconds from m_startMs
        m_window->goToMoment(end, 20);
        QTRY_VERIFY(m_window->isPastShown());
        // A moment after the graph: the requests follow it within a quarter second.
        QTRY_COMPARE(requests->moment(), std::optional(std::make_pair(end - 20'000, end)));
        requests->pollNow();
        // 21 whole seconds of 6 calls, each started in the moment's range.
        QCOMPARE(requests->model()->rowCount(), 21 * 6);
        QVERIFY(requests->hintText().isEmpty());
        QVERIFY2(m_window->requestsDock()->windowTitle().startsWith(QStringLiteral("Requests at ")),
            qPrintable(m_window->requestsDock()->windowTitle()));
        // Further back than the newest 1,000 requests reach: said, not shown empty.
        m_window->goToMoment(m_startMs + 60'000, 20);
        QTRY_VERIFY(m_window->isPastShown());
        QTRY_COMPARE(requests->moment(), std::optional(std::make_pair(m_startMs + 40'000, m_startMs + 60'000)));
        requests->pollNow();
        QCOMPARE(requests->model()->rowCount(), 0);
        QVERIFY2(requests->hintText().contains(QStringLiteral("None of this moment's requests is still held")),
            qPrintable(requests->hintText()));

        // The trace search offers the moment viewed, and searches it.
        TraceStore store;
        test::SpanFactory spans {0x7e};
        std::vector<Span> batch;
        const TraceId then = test::addCheckout(batch, spans, m_startMs + 50'000);
        test::addCheckout(batch, spans, now - 5000);
        store.add(batch);
        m_window->setTraceStore(&store);
        TraceSearchDialog *search = m_window->openTraceSearch();
        QVERIFY(search);
        QVERIFY2(search->timeRangeBox()->currentText().startsWith(QStringLiteral("At the moment viewed")),
            qPrintable(search->timeRangeBox()->currentText()));
        QSignalSpy finished(search, &TraceSearchDialog::searchFinished);
        QVERIFY(search->search());
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(search->model()->rowCount(), 1);
        QCOMPARE(search->model()->index(0, 0).data(TraceSearchModel::TraceIdRole).toString(),
            QString::fromStdString(traceIdHex(then)));

        // Back to live: the live flow, and the time range as it was.
        m_window->backToLive();
        requests->pollNow();
        QCOMPARE(requests->model()->rowCount(), 1000);
        QCOMPARE(m_window->requestsDock()->windowTitle(), QStringLiteral("Live requests"));
        QCOMPARE(search->timeRangeBox()->findText(QStringLiteral("At the moment viewed"), Qt::MatchStartsWith), -1);
        QCOMPARE(search->timeRangeBox()->currentData().toInt(), 0);  // all kept
        search->close();
        m_window->setTraceStore(nullptr);
    }

    void withoutHistoryThereIsNoStrip()
    {
        GraphAggregator plain;
        MainWindow window(&plain, QStringLiteral("tst_timeline_plain"));
        window.setPersistenceEnabled(false);
        QVERIFY(!window.timeline());
        window.goToMoment(GraphAggregator::wallNowMs() - 10'000);
        QVERIFY(!window.isViewingPast());
    }

private:
    int64_t m_startMs = 0;
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(TestTimeline)
#include "tst_timeline.moc"

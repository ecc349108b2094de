// The inspect panel's charts: the window picker sets the step and is remembered,
// series start where data starts, p95 and p99 both show and every legend entry is
// whole, small samples are said to be small, the health badge shows the aggregator's
// steady verdict, and for what Prometheus reports the query_range follows the picker.

#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/timeserieschart.h"
#include "sources/sourcemanager.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QChart>
#include <QComboBox>
#include <QGraphicsTextItem>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

#include <memory>

using namespace meshscope;

namespace {

const QString kEdge = QStringLiteral("shop/frontend->shop/checkout");

ObservedRequest request(int httpStatus = 200, double ms = 12, const char *target = "checkout")
{
    ObservedRequest r;
    r.source.name = "frontend";
    r.source.ns = "shop";
    r.target.name = target;
    r.target.ns = "shop";
    r.event.protocol = Protocol::Http;
    r.event.httpStatus = httpStatus;
    r.event.error = httpStatus >= 500;
    r.event.durationMs = ms;
    return r;
}

QSettings settings() { return QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope")); }

void pick(QComboBox *picker, int seconds)
{
    const int index = picker->findData(seconds);
    QVERIFY2(index >= 0, qPrintable(QString::number(seconds)));
    picker->setCurrentIndex(index);
    Q_EMIT picker->activated(index);  // as a click on the entry does
}

// The texts a chart's legend draws, as laid out now (QtCharts elides with "...").
QStringList legendTexts(TimeSeriesChart *chart)
{
    QStringList out;
    QList<QGraphicsItem *> todo = chart->chart()->legend()->childItems();
    while (!todo.isEmpty()) {
        QGraphicsItem *item = todo.takeFirst();
        if (!item->isVisible())
            continue;
        if (auto *text = dynamic_cast<QGraphicsTextItem *>(item))
            out << text->toPlainText();
        todo += item->childItems();
    }
    return out;
}

}  // namespace

class TestInspectCharts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void pickerSetsStepAndPersists_data();
    void pickerSetsStepAndPersists();
    void customWindows();
    void noPointsBeforeData();
    void p95AndP99BothShowAndLegendIsWhole();
    void smallSamplesAreMarked();
    void badgeShowsTrackedHealth();
    void prometheusRangeFollowsPicker();
};

void TestInspectCharts::initTestCase()
{
    // Settings go to a throwaway location, never the user's.
    QStandardPaths::setTestModeEnabled(true);
}

void TestInspectCharts::init() { settings().remove(InspectPanel::chartWindowSettingsKey()); }

void TestInspectCharts::pickerSetsStepAndPersists_data()
{
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("step");
    QTest::newRow("1 min") << 60 << 1;
    QTest::newRow("5 min") << 300 << 5;
    QTest::newRow("15 min") << 900 << 15;
    QTest::newRow("1 h") << 3600 << 30;
}

void TestInspectCharts::pickerSetsStepAndPersists()
{
    QFETCH(int, window);
    QFETCH(int, step);
    const int64_t now = GraphAggregator::wallNowMs();
    GraphAggregator agg({}, now - 120'000);
    for (int64_t t = now - 100'000; t < now; t += 500) {
        agg.ingestRequests({request()}, t, "als");
        agg.snapshot(t + 1);
    }
    {
        InspectPanel panel(&agg);
        panel.setSnapshot(agg.snapshot(now));
        panel.showEdge(kEdge);
        QCOMPARE(panel.chartWindowSeconds(), 60);  // nothing saved yet
        pick(panel.chartWindowPicker(), window);
        QCOMPARE(panel.chartWindowSeconds(), window);
        QCOMPARE(panel.chartStepSeconds(), step);
        QCOMPARE(panel.requestsChart()->windowSeconds(), window);
        QVERIFY2(panel.chartNote().startsWith(
                     step == 1 ? QStringLiteral("1 s steps") : QStringLiteral("%1 s steps").arg(step)),
            qPrintable(panel.chartNote()));
        // Points sit one step apart.
        const QList<QPointF> pts = panel.requestsChart()->points(0);
        QVERIFY(pts.size() >= 2);
        for (qsizetype i = 1; i < pts.size(); ++i)
            QCOMPARE(pts[i].x() - pts[i - 1].x(), double(step));
        QCOMPARE(settings().value(InspectPanel::chartWindowSettingsKey()).toInt(), window);
    }
    // A new panel (the next start) opens with it.
    InspectPanel again(&agg);
    QCOMPARE(again.chartWindowSeconds(), window);
    QCOMPARE(again.chartWindowPicker()->currentData().toInt(), window);

    // Screenshots ignore and keep what the user chose.
    InspectPanel shot(&agg);
    shot.setPersistenceEnabled(false);
    QCOMPARE(shot.chartWindowSeconds(), 60);
    pick(shot.chartWindowPicker(), 900);
    QCOMPARE(settings().value(InspectPanel::chartWindowSettingsKey()).toInt(), window);
}

void TestInspectCharts::customWindows()
{
    QCOMPARE(InspectPanel::parseDuration(QStringLiteral("6h")), 21600);
    QCOMPARE(InspectPanel::parseDuration(QStringLiteral("90m")), 5400);
    QCOMPARE(InspectPanel::parseDuration(QStringLiteral("1h30m")), 5400);
    QCOMPARE(InspectPanel::parseDuration(QStringLiteral("2 d")), 172800);
    QCOMPARE(InspectPanel::parseDuration(QStringLiteral("45s")), 45);
    QCOMPARE(InspectPanel::parseDuration(QStringLiteral("soon")), 0);
    QCOMPARE(InspectPanel::parseDuration(QString()), 0);

    GraphAggregator agg;
    InspectPanel panel(&agg);
    panel.setChartWindowSeconds(2 * 86400);
    QCOMPARE(panel.chartWindowPicker()->currentText(), QStringLiteral("2 d"));
    QCOMPARE(settings().value(InspectPanel::chartWindowSettingsKey()).toInt(), 2 * 86400);
    InspectPanel again(&agg);
    QCOMPARE(again.chartWindowSeconds(), 2 * 86400);
    // Choices in order of length, custom ones among them, "Custom…" last.
    QComboBox *picker = again.chartWindowPicker();
    QList<int> order;
    for (int i = 0; i < picker->count(); ++i)
        order << picker->itemData(i).toInt();
    QCOMPARE(order, QList<int>({60, 300, 900, 3600, 21600, 86400, 2 * 86400, 0}));
    QCOMPARE(picker->itemText(picker->count() - 1), QStringLiteral("Custom…"));
}

void TestInspectCharts::noPointsBeforeData()
{
    // Watching for ten minutes; the edge's traffic began 45 s ago (so that a whole step
    // of the 1 h window's 30 s has completed, wherever the clock falls).
    const int64_t now = GraphAggregator::wallNowMs();
    GraphAggregator agg({}, now - 600'000);
    for (int64_t t = now - 600'000; t < now - 45'000; t += 1000)
        agg.snapshot(t);
    for (int64_t t = now - 45'000; t < now; t += 200) {
        agg.ingestRequests({request()}, t, "als");
        if (t % 1000 < 200)
            agg.snapshot(t);
    }
    InspectPanel panel(&agg);
    panel.setSnapshot(agg.snapshot(now));
    panel.showEdge(kEdge);
    for (int window : {60, 300, 900, 3600}) {
        panel.setChartWindowSeconds(window);
        const int step = panel.chartStepSeconds();
        const QList<QPointF> rps = panel.requestsChart()->points(0);
        QVERIFY2(!rps.isEmpty(), qPrintable(QString::number(window)));
        // Nothing before the step holding the first request; no zero drawn there.
        QVERIFY2(rps.first().x() >= -45 - step, qPrintable(QStringLiteral("%1: %2").arg(window).arg(rps.first().x())));
        QVERIFY2(rps.first().y() > 0, qPrintable(QString::number(window)));
        QVERIFY(rps.last().x() <= 0);
        QVERIFY2(panel.chartNote().contains(QLatin1String("data since")), qPrintable(panel.chartNote()));
        // The axis still spans the whole window: the empty part reads as "no data".
        QCOMPARE(panel.requestsChart()->windowSeconds(), window);
    }
    QCOMPARE(panel.requestsChart()->axisLabelFormat(), QStringLiteral("%d min"));
}

void TestInspectCharts::p95AndP99BothShowAndLegendIsWhole()
{
    GraphAggregator agg;
    InspectPanel panel(&agg);
    TimeSeriesChart *latency = panel.latencyChart();
    const QList<QAbstractSeries *> series = latency->chart()->series();
    QCOMPARE(series.size(), 3);
    auto pen = [&](int i) { return static_cast<QLineSeries *>(series[i])->pen(); };
    // p95 and p99: different colours, and p99 (drawn last) dashed so that p95 shows
    // through where they are the same.
    QVERIFY(pen(1).color() != pen(2).color());
    QCOMPARE(pen(1).style(), Qt::SolidLine);
    QVERIFY(pen(2).style() != Qt::SolidLine);
    QCOMPARE(series[1]->name(), QStringLiteral("p95"));
    QCOMPARE(series[2]->name(), QStringLiteral("p99"));

    // At its minimum width, every legend entry of every chart is shown whole.
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    for (TimeSeriesChart *chart : {panel.errorsChart(), panel.latencyChart()}) {
        chart->setFixedWidth(chart->minimumSizeHint().width());
        chart->grab();  // lays the chart out at that size
        QCoreApplication::processEvents();
        const QStringList texts = legendTexts(chart);
        QStringList names;
        for (QLegendMarker *m : chart->chart()->legend()->markers()) {
            QVERIFY(m->isVisible());
            names << m->label();
        }
        QCOMPARE(names.size(), chart->seriesCount());
        for (const QString &name : std::as_const(names))
            QVERIFY2(
                texts.contains(name), qPrintable(chart->title() + QStringLiteral(": ") + texts.join(QLatin1Char('|'))));
        for (const QString &t : texts)
            QVERIFY2(!t.contains(QLatin1String("...")) && !t.contains(QChar(0x2026)), qPrintable(t));
    }
}

void TestInspectCharts::smallSamplesAreMarked()
{
    // 7 requests a second for 20 s, one of them failing each second (14 % of a second).
    const int64_t now = GraphAggregator::wallNowMs() / 1000 * 1000;
    GraphAggregator agg({}, now - 60'000);
    for (int64_t s = 20; s > 0; --s) {
        for (int i = 0; i < 7; ++i)
            agg.ingestRequests({request(i == 0 ? 503 : 200)}, now - s * 1000 + i * 100, "als");
        agg.snapshot(now - s * 1000 + 900);
    }
    InspectPanel panel(&agg);
    panel.setSnapshot(agg.snapshot(now));
    panel.showEdge(kEdge);

    // Every error-rate point stands on at least 20 requests: the first ones pooled
    // three seconds (21), never a lone second of 7.
    const QList<QPointF> rps = panel.requestsChart()->points(0);
    const QList<QPointF> errors = panel.errorsChart()->points(0);
    const QList<quint64> n = panel.errorsChart()->samples(0);
    QCOMPARE(rps.size(), 20);
    QCOMPARE(errors.size(), 18);  // the first two seconds hold 7 and 14 requests
    QCOMPARE(n.size(), errors.size());
    for (qsizetype i = 0; i < n.size(); ++i) {
        QVERIFY(n[i] >= 20);
        QVERIFY2(qAbs(errors[i].y() - 100.0 / 7) < 0.01, qPrintable(QString::number(errors[i].y())));
    }
    // Tooltips say how many requests a point stands on.
    QVERIFY2(panel.requestsChart()->pointToolTip(0, rps.last().x()).contains(QLatin1String("from 7 requests")),
        qPrintable(panel.requestsChart()->pointToolTip(0, rps.last().x())));
    QVERIFY(panel.errorsChart()->pointToolTip(0, errors.last().x()).contains(QLatin1String("from 21 requests")));
    // 140 requests: enough to judge, and the headline says how many.
    QVERIFY2(panel.sampleNote().contains(QLatin1String("140 requests")), qPrintable(panel.sampleNote()));

    // A lone edge with 7 requests, all failing: too few to call it failing, and said so.
    for (int i = 0; i < 7; ++i)
        agg.ingestRequests({request(503, 12, "payments")}, now - 2000 + i * 100, "als");
    panel.setSnapshot(agg.snapshot(now));
    panel.showEdge(QStringLiteral("shop/frontend->shop/payments"));
    QVERIFY2(panel.sampleNote().startsWith(QLatin1String("Only 7 requests")), qPrintable(panel.sampleNote()));
    QCOMPARE(panel.findChild<QLabel *>(QStringLiteral("inspectHealth"))->text(), QStringLiteral("HEALTHY"));
    QVERIFY(panel.healthToolTip().contains(QLatin1String("too few")));
    QVERIFY(panel.errorsChart()->points(0).isEmpty());  // no error rate claimed from 7 requests
}

void TestInspectCharts::badgeShowsTrackedHealth()
{
    // Failing at 15 %, then 8 %: below the entering threshold, above the leaving one.
    const int64_t now = GraphAggregator::wallNowMs();
    GraphAggregator agg({}, now - 120'000);
    auto second = [&](int64_t at, int failing) {
        for (int i = 0; i < 100; ++i)
            agg.ingestRequests({request(i < failing ? 503 : 200)}, at + i, "als");
    };
    second(now - 20'000, 15);
    agg.snapshot(now - 19'000);
    second(now - 10'000, 1);
    const GraphSnapshotPtr snap = agg.snapshot(now);
    const EdgeSnapshot *e = snap->edge(kEdge.toStdString());
    QVERIFY(e);
    QCOMPARE(HealthPolicy {}.judge(e->stats), Health::Degraded);  // 8 % alone
    QCOMPARE(*e->stats.health, Health::Failing);  // held
    InspectPanel panel(&agg);
    panel.setSnapshot(snap);
    panel.showEdge(kEdge);
    QCOMPARE(panel.findChild<QLabel *>(QStringLiteral("inspectHealth"))->text(), QStringLiteral("FAILING"));
    QVERIFY2(panel.healthToolTip().contains(QLatin1String("Still failing")), qPrintable(panel.healthToolTip()));
}

void TestInspectCharts::prometheusRangeFollowsPicker()
{
    // A Prometheus source that is running (nothing answers at its address: its own
    // polls fail, which does not matter here) and an edge that only it reports.
    GraphAggregator agg;
    SourceManager sources(agg);
    SourceSpec spec;
    spec.id = SourceSpec::newId();
    spec.kind = SourceSpec::Kind::Prometheus;
    spec.address = QStringLiteral("http://127.0.0.1:9");
    QCOMPARE(sources.upsert(spec), QString());
    PrometheusSource *source = sources.prometheusSource("prometheus");
    QVERIFY(source);
    PulledEdge pulled;
    pulled.source.ns = "shop";
    pulled.source.name = "frontend";
    pulled.target.ns = "shop";
    pulled.target.name = "checkout";
    pulled.stats.requests = 600;
    pulled.stats.rps = 10;
    agg.setPulledEdges("prometheus", {pulled}, GraphAggregator::wallNowMs());
    const GraphSnapshotPtr snap = agg.snapshot(GraphAggregator::wallNowMs());
    QVERIFY(snap->edge(kEdge.toStdString()));

    InspectPanel panel(&agg);
    panel.setSourceManager(&sources);
    panel.setSnapshot(snap);
    panel.showEdge(kEdge);
    QVERIFY(panel.chartsFromPrometheus());
    InspectPanel::HistoryRequest asked = panel.lastHistoryRequest();
    QCOMPARE(asked.id, kEdge);
    QCOMPARE(asked.origin, QStringLiteral("prometheus"));
    QCOMPARE(asked.end - asked.start, 60.0);
    QCOMPARE(asked.step, 1);

    // The picker's ranges, live-sized and past the live hour, go to Prometheus as asked.
    const struct {
        int window, step;
    } cases[] = {{3600, 30}, {21600, 300}, {86400, 900}, {2 * 86400, 1800}};
    for (const auto &c : cases) {
        panel.setChartWindowSeconds(c.window);
        asked = panel.lastHistoryRequest();
        QCOMPARE(asked.end - asked.start, double(c.window));
        QCOMPARE(asked.step, c.step);
        QCOMPARE(panel.chartStepSeconds(), c.step);
        QCOMPARE(panel.requestsChart()->windowSeconds(), c.window);
        QVERIFY2(
            panel.chartNote().startsWith(QLatin1String("From Prometheus (prometheus)")), qPrintable(panel.chartNote()));
    }

    // Its answer is drawn from where data begins: the empty steps before are no zeros.
    std::vector<MeshChartPoint> points;
    const int64_t end = int64_t(asked.end);
    for (int64_t t = int64_t(asked.start); t <= end; t += asked.step) {
        MeshChartPoint p;
        p.timeSeconds = t;
        if (t >= end - 10 * asked.step) {
            p.stats.requests = 3000;
            p.stats.rps = 5;
            p.stats.errorRate = 0.02;
            p.stats.p50Ms = 8;
            p.stats.p95Ms = 30;
            p.stats.p99Ms = 60;
        }
        points.push_back(p);
    }
    Q_EMIT source->seriesReady(asked.requestId, kEdge, points);
    const QList<QPointF> rps = panel.requestsChart()->points(0);
    QCOMPARE(rps.size(), 11);
    for (const QPointF &p : rps)
        QCOMPARE(p.y(), 5.0);
    QCOMPARE(panel.errorsChart()->points(0).size(), 11);
    QCOMPARE(panel.errorsChart()->points(0).first().y(), 2.0);
    QCOMPARE(panel.latencyChart()->points(2).first().y(), 60.0);
    // An answer to an older question is dropped.
    Q_EMIT source->seriesReady(asked.requestId - 1, kEdge, {});
    QCOMPARE(panel.requestsChart()->points(0).size(), 11);
    sources.stopAll();
}

QTEST_MAIN(TestInspectCharts)
#include "tst_inspectcharts.moc"

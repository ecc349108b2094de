// Closing the loop in the dashboard, against real peers: gRPC's own xDS client (the
// meshscope-test-xdsclient helper) calls xds:///echo.test through the window's control
// plane (RoutingController) to two real Echo backends; the client and both backends
// are instrumented and export their spans over OTLP to a receiver feeding the window's
// aggregator, as an instrumented mesh feeds the dashboard.
//
// - An apply made in the editor: the services it changes get "routes v2 applied … ago"
//   above their nodes, and the split's edges show the new shares (counted from the
//   requests sent since the apply) within two seconds.
// - "Roll out…" on the rule: the dialog's plan runs, each step is a route-history entry
//   and a timeline marker, the panel and the canary's node follow it, Apply is held;
//   a healthy canary is promoted to 100 %, one failing 30 % of its calls is rolled back
//   at its first gate and every later call reaches the stable backend.
// - Closing the window pauses a running rollout where it stands.
// - The dialog refuses what cannot run: decreasing steps, no gate, a step Caddy 2.6.2
//   cannot express.

#include "canvas/graphcanvas.h"
#include "common/xdsecho.h"
#include "darktheme.h"
#include "graph/graphaggregator.h"
#include "mainwindow.h"
#include "routing/rolloutcontroller.h"
#include "routing/rolloutdialog.h"
#include "routing/rolloutpanel.h"
#include "routing/routediffview.h"
#include "routing/routeeditor.h"
#include "routing/routingcontroller.h"
#include "routing/whatifview.h"
#include "routing/yaml/routeyaml.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "timeline/timelinestrip.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>

using namespace meshscope;
using meshscope::test::CallResult;
using meshscope::test::EchoBackend;
using meshscope::test::echoRouteYaml;
using meshscope::test::XdsClientProcess;

namespace {

// The observed share a split note writes first ("78 % · cfg 80 %"), or -1.
int observedPercent(const QString &note)
{
    static const QRegularExpression re(QStringLiteral("^(\\d+(?:\\.\\d+)?) %"));
    const auto m = re.match(note);
    return m.hasMatch() ? int(std::lround(m.captured(1).toDouble())) : -1;
}

}  // namespace

class TestRolloutGui : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<TraceStore> m_store;
    std::unique_ptr<TraceStoreSink> m_keep;
    std::unique_ptr<OtlpReceiver> m_receiver;
    std::unique_ptr<EchoBackend> m_a, m_b;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<RoutingController> m_routing;
    std::unique_ptr<XdsClientProcess> m_client;
    QTimer m_publisher;
    RouteEditor *m_editor = nullptr;

    // Everything up and the client calling at about 100 a second; the canary (echo-b)
    // fails `failure` of its calls.
    void bringUp(double failure = 0, int weightB = 0)
    {
        AggregatorConfig config;
        config.keepHistory = true;
        config.windowSeconds = 30;
        m_aggregator = std::make_unique<GraphAggregator>(config);
        OtlpReceiverConfig rc;
        rc.listenAddress = "127.0.0.1:0";
        // As the dashboard keeps every span in a trace store on the way to the graph.
        m_store = std::make_unique<TraceStore>();
        m_keep = std::make_unique<TraceStoreSink>(*m_store, *m_aggregator);
        m_receiver = std::make_unique<OtlpReceiver>(*m_keep, rc);
        std::string error;
        QVERIFY2(m_receiver->start(&error), error.c_str());
        const std::string otlp = m_receiver->boundAddress();
        m_a = std::make_unique<EchoBackend>("echo-a");
        m_b = std::make_unique<EchoBackend>("echo-b");
        m_a->exportTo(otlp);
        m_b->exportTo(otlp);
        m_b->setFailureFraction(failure);
        QVERIFY(m_a->start() && m_b->start());
        const QString routeFile
            = m_dir.filePath(QStringLiteral("echo-%1.yaml").arg(QLatin1String(QTest::currentTestFunction())));
        QFile f(routeFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(echoRouteYaml(m_a->port(), m_b->port(), 100 - weightB, weightB).toUtf8());
        f.close();

        m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
        m_window->setPersistenceEnabled(false);
        m_window->resize(1500, 950);
        m_editor = new RouteEditor;
        m_window->setRouteEditor(m_editor);
        m_window->setTraceStore(m_store.get());
        m_routing = std::make_unique<RoutingController>(m_editor, QStringLiteral("127.0.0.1:0"), routeFile,
            m_dir.filePath(QStringLiteral("history-%1").arg(QLatin1String(QTest::currentTestFunction()))));
        m_window->followRouting(m_routing.get());
        QString why;
        QVERIFY2(m_routing->start(&why), qPrintable(why));
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        if (auto *dock = m_window->findChild<QDockWidget *>(QStringLiteral("routesDock")))
            dock->raise();
        // As the dashboard's publisher hands snapshots over, ten times a second.
        m_publisher.setInterval(100);
        connect(&m_publisher, &QTimer::timeout, this,
            [this] { m_window->applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs())); });
        m_publisher.start();

        m_client = std::make_unique<XdsClientProcess>();
        m_client->exportTo(QString::fromStdString(otlp));
        QVERIFY(m_client->start(m_routing->controlPlane()->port(), QStringLiteral("gui-rollout")));
        QVERIFY(m_client->spin(100));
        // The graph has the client's calls to echo-a.
        QTRY_VERIFY_WITH_TIMEOUT(m_window->publishedSnapshot() && m_window->publishedSnapshot()->node("echo-a"), 15000);
    }

    QStringList noteTexts() const
    {
        QStringList out;
        const auto notes = m_window->canvas()->nodeNotes();
        for (auto it = notes.cbegin(); it != notes.cend(); ++it)
            out << it.key() + QStringLiteral(": ") + it->text;
        out.sort();
        return out;
    }

    // Roll out… on the echo route's rule: fills in the dialog and starts it.
    void startRollout(const QString &steps, const QString &hold)
    {
        QVERIFY(m_editor->selectRule(0, 0));
        QVERIFY2(m_editor->rolloutButton()->isEnabled(), qPrintable(m_editor->rolloutButton()->toolTip()));
        QTest::mouseClick(m_editor->rolloutButton(), Qt::LeftButton);
        RolloutDialog *dialog = m_window->rolloutDialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->canaryBox()->currentData().toString(), QStringLiteral("echo-b"));  // the lightest
        dialog->stepsEdit()->setText(steps);
        dialog->holdEdit()->setText(hold);
        dialog->maxErrorRateCheck()->setChecked(true);
        dialog->maxErrorRateBox()->setValue(5);
        dialog->minRequestsBox()->setValue(10);
        dialog->onFailureBox()->setCurrentIndex(0);
        QVERIFY2(dialog->startButton()->isEnabled(), qPrintable(dialog->problems().join(QLatin1Char('\n'))));
        QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
        QVERIFY(m_window->rolloutController()->running());
    }

    size_t routeMarkers() const
    {
        size_t n = 0;
        for (const TimelineStrip::Marker &m : m_window->timeline()->markers())
            n += m.kind == TimelineStrip::Marker::Kind::RouteApply ? 1 : 0;
        return n;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        applyDarkTheme(*qApp);
        QVERIFY(m_dir.isValid());
    }

    void cleanup()
    {
        m_publisher.stop();
        disconnect(&m_publisher, nullptr, this, nullptr);
        if (m_client)
            m_client->stop();
        m_client.reset();
        m_window.reset();
        m_routing.reset();
        if (m_receiver)
            m_receiver->stop();
        m_receiver.reset();
        if (m_a)
            m_a->stop();
        if (m_b)
            m_b->stop();
        m_keep.reset();
        m_store.reset();
        m_aggregator.reset();
    }

    void applyShowsTheNewSharesWithinSeconds()
    {
        bringUp();
        if (QTest::currentTestFailed())
            return;
        routing::RouteSet next = m_editor->appliedSet();
        next.routes[0].rules[0].backends[0].weight = 20;
        next.routes[0].rules[0].backends[1].weight = 80;
        QElapsedTimer timer;
        timer.start();
        QVERIFY(m_routing->apply(next));
        // The services the change touches say so above their nodes.
        QTRY_VERIFY_WITH_TIMEOUT(
            noteTexts().join(QLatin1Char('\n')).contains(QLatin1String("echo-b: routes v2 applied")), 5000);
        QVERIFY2(noteTexts().join(QLatin1Char('\n')).contains(QLatin1String("echo-a: routes v2 applied")),
            qPrintable(noteTexts().join(QLatin1Char('\n'))));
        // The split's edges carry the new shares as soon as the calls do.
        auto shares = [this] {
            QString a, b;
            const auto notes = m_window->canvas()->edgeNotes();
            for (auto it = notes.cbegin(); it != notes.cend(); ++it) {
                if (it.key().endsWith(QLatin1String("->echo-a")))
                    a = it->text;
                else if (it.key().endsWith(QLatin1String("->echo-b")))
                    b = it->text;
            }
            return std::pair {a, b};
        };
        auto near = [&] {
            const auto [a, b] = shares();
            return std::abs(observedPercent(a) - 20) <= 5 && std::abs(observedPercent(b) - 80) <= 5;
        };
        const bool reached = QTest::qWaitFor(near, 10000);
        QVERIFY2(reached,
            qPrintable(shares().first + QStringLiteral(" | ") + shares().second + QStringLiteral(" | ")
                + m_window->canvas()->edgeNotes().keys().join(QLatin1Char(','))));
        const qint64 took = timer.elapsed();
        qInfo("apply -> the graph's shares within 5 points of 20/80: %lld ms (%s | %s)", took,
            qPrintable(shares().first), qPrintable(shares().second));
        QVERIFY2(shares().second.contains(QLatin1String("cfg 80.0 %")), qPrintable(shares().second));
        QVERIFY2(took <= 2000, qPrintable(QStringLiteral("%1 ms").arg(took)));
        // Not a lucky first few calls: a second later, with ten times the calls, it holds.
        QTest::qWait(1000);
        QVERIFY2(near(), qPrintable(shares().first + QStringLiteral(" | ") + shares().second));
    }

    void healthyRolloutFromTheEditorIsPromoted()
    {
        bringUp();
        if (QTest::currentTestFailed())
            return;
        startRollout(QStringLiteral("30,100"), QStringLiteral("4s"));
        if (QTest::currentTestFailed())
            return;
        RolloutController *rollout = m_window->rolloutController();
        // Apply is held while the rollout moves the routes, and the canary's node says where it is.
        QVERIFY(!m_editor->applyLock().isEmpty());
        QVERIFY(!m_editor->rolloutButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(
            noteTexts().join(QLatin1Char('\n')).contains(QStringLiteral("echo-b: rollout 30 % · step 1/2")), 10000);
        QVERIFY(rollout->panel()->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(rollout->runner()->finished(), 60000);
        QCOMPARE(rollout->runner()->state(), rollout::RolloutState::Promoted);
        QVERIFY2(rollout->panel()->headlineText().contains(QLatin1String("promoted: 100 %")),
            qPrintable(rollout->panel()->headlineText()));
        QVERIFY(rollout->panel()->dismissButton()->isVisible());
        for (const rollout::StepRecord &s : rollout->runner()->steps()) {
            QCOMPARE(s.verdict, rollout::Verdict::Passed);
            QVERIFY(s.reading.requests >= 10);
        }
        // Each step was an apply: a history entry and a marker; Apply is free again.
        QCOMPARE(routeMarkers(), size_t(2));
        QCOMPARE(m_editor->appliedSet().routes[0].rules[0].backends[1].weight, 100);
        QVERIFY(m_editor->applyLock().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(
            noteTexts().join(QLatin1Char('\n')).contains(QLatin1String("echo-b: rollout promoted")), 5000);
        const CallResult after = m_client->stopSpinning();
        QVERIFY2(after.errors == 0, qPrintable(after.line));
        const CallResult last = m_client->call(30);
        QVERIFY2(last.count("echo-b") == 30, qPrintable(last.line));
    }

    void failingCanaryIsRolledBackAtItsFirstGate()
    {
        bringUp(0.3);
        if (QTest::currentTestFailed())
            return;
        startRollout(QStringLiteral("20,60,100"), QStringLiteral("6s"));
        if (QTest::currentTestFailed())
            return;
        RolloutController *rollout = m_window->rolloutController();
        QTRY_VERIFY_WITH_TIMEOUT(rollout->runner()->finished(), 60000);
        QCOMPARE(rollout->runner()->state(), rollout::RolloutState::RolledBack);
        QCOMPARE(rollout->runner()->steps().front().verdict, rollout::Verdict::Failed);
        QVERIFY2(rollout->panel()->detailText().contains(QLatin1String("error rate")),
            qPrintable(rollout->panel()->detailText()));
        QCOMPARE(m_editor->appliedSet().routes[0].rules[0].backends[1].weight, 0);
        QTRY_VERIFY_WITH_TIMEOUT(
            noteTexts().join(QLatin1Char('\n')).contains(QStringLiteral("echo-b: rollout rolled back · 0 %")), 5000);
        m_client->stopSpinning();
        const int canaryCalls = m_b->calls();
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         return test::ackedEverything(
                             *m_routing->controlPlane(), "gui-rollout", m_routing->controlPlane()->version());
                     },
                     10000),
            test::describeClient(*m_routing->controlPlane(), "gui-rollout").constData());
        const CallResult last = m_client->call(50);
        QVERIFY2(last.count("echo-a") == 50 && last.errors == 0, qPrintable(last.line));
        QCOMPARE(m_b->calls(), canaryCalls);
    }

    void closingTheWindowPausesTheRollout()
    {
        bringUp();
        if (QTest::currentTestFailed())
            return;
        startRollout(QStringLiteral("25,100"), QStringLiteral("5m"));
        if (QTest::currentTestFailed())
            return;
        RolloutController *rollout = m_window->rolloutController();
        QTRY_COMPARE_WITH_TIMEOUT(rollout->runner()->state(), rollout::RolloutState::Holding, 10000);
        m_window->close();
        QCOMPARE(rollout->runner()->state(), rollout::RolloutState::Paused);
        QVERIFY2(QString::fromStdString(rollout->runner()->reason()).contains(QLatin1String("the window was closed")),
            rollout->runner()->reason().c_str());
        // Where it stands: 25 % is served, and the route file has it for the next start.
        QCOMPARE(rollout->runner()->currentWeight(), 25);
        const routing::RouteLoadResult file = routing::loadRouteFile(
            m_dir.filePath(QStringLiteral("echo-closingTheWindowPausesTheRollout.yaml")).toStdString());
        QVERIFY(file.ok());
        QCOMPARE(file.set.routes[0].rules[0].backends[1].weight, 25);
    }

    void reviewReplaysRecentTrafficThroughTheEdits()
    {
        bringUp(0, 10);  // echo-b has a tenth of the calls: a node on the graph
        if (QTest::currentTestFailed())
            return;
        // Beside the steady calls, 30 from beta users.
        const CallResult beta = m_client->call(30, QStringLiteral("x-user=beta"));
        QVERIFY2(beta.count("echo-a") + beta.count("echo-b") == 30, qPrintable(beta.line));
        QTest::qWait(1500);  // their spans reach the store
        // The edit: beta users to echo-b, before the main rule.
        routing::RouteSet proposed = m_editor->appliedSet();
        routing::RouteRule betaRule;
        betaRule.name = "beta";
        routing::RouteMatch match;
        match.headers.push_back({"x-user", routing::StringMatchType::Exact, "beta"});
        betaRule.matches.push_back(match);
        betaRule.backends.push_back({"echo-b", "", 0, 1});
        proposed.routes[0].rules.insert(proposed.routes[0].rules.begin(), betaRule);
        m_editor->setEdited(proposed);
        QVERIFY2(m_editor->applyButton()->isEnabled(), qPrintable(m_editor->applyButton()->toolTip()));
        QTest::mouseClick(m_editor->applyButton(), Qt::LeftButton);
        RouteDiffDialog *review = m_editor->reviewDialog();
        QVERIFY(review);
        auto *view = review->findChild<WhatIfView *>();
        QVERIFY(view);
        QTRY_VERIFY_WITH_TIMEOUT(view->summaryText().startsWith(QLatin1String("Replayed")), 15000);
        QVERIFY2(
            view->summaryText().contains(QLatin1String("; 30 would change route")), qPrintable(view->summaryText()));
        QCOMPARE(view->movedTable()->rowCount(), 1);
        QCOMPARE(view->movedTable()->item(0, 0)->text(), QStringLiteral("30"));
        QVERIFY2(view->movedTable()->item(0, 3)->text().contains(QLatin1String("x-user: beta")),
            qPrintable(view->movedTable()->item(0, 3)->text()));
        // The graph projects it on both backends: echo-b would serve the beta calls, of
        // which it has a tenth now (27 more), and echo-a 27 fewer.
        QTRY_VERIFY_WITH_TIMEOUT(noteTexts().join(QLatin1Char('\n')).contains(QLatin1String("echo-b: what-if")), 5000);
        static const QRegularExpression projected(QStringLiteral("(echo-[ab]): what-if: (\\d+) → (\\d+) req"));
        QMap<QString, int> delta;
        for (const QString &line : noteTexts()) {
            const auto m = projected.match(line);
            if (m.hasMatch())
                delta[m.captured(1)] = m.captured(3).toInt() - m.captured(2).toInt();
        }
        const QByteArray notes = noteTexts().join(QLatin1Char('\n')).toUtf8();
        QVERIFY2(std::abs(delta.value(QStringLiteral("echo-b")) - 27) <= 1, notes.constData());
        QVERIFY2(std::abs(delta.value(QStringLiteral("echo-a")) + 27) <= 1, notes.constData());
        // Applied for real, the beta calls do go there.
        QTest::mouseClick(review->applyButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor(
            [&] { return test::ackedEverything(*m_routing->controlPlane(), "gui-rollout", 2); }, 10000));
        const CallResult after = m_client->call(30, QStringLiteral("x-user=beta"));
        QVERIFY2(after.count("echo-b") == 30, qPrintable(after.line));
        QTRY_VERIFY_WITH_TIMEOUT(!noteTexts().join(QLatin1Char('\n')).contains(QLatin1String("what-if")), 5000);
    }

    void dialogRefusesWhatCannotRun()
    {
        const routing::RouteSet set
            = routing::loadRouteYaml(echoRouteYaml(9001, 9002, 100, 0).toStdString(), "echo.yaml").set;
        RolloutDialog xds(set, 0, 0, routing::DataPlane::XdsGrpc);
        xds.stepsEdit()->setText(QStringLiteral("50,10"));
        QVERIFY(!xds.startButton()->isEnabled());
        QVERIFY2(xds.problems().join(QLatin1Char('\n')).contains(QLatin1String("steps must increase (50 then 10)")),
            qPrintable(xds.problems().join(QLatin1Char('\n'))));
        xds.stepsEdit()->setText(QStringLiteral("10,50,100"));
        xds.maxErrorRateCheck()->setChecked(false);
        QVERIFY(!xds.startButton()->isEnabled());
        QVERIFY(xds.problems().join(QLatin1Char('\n')).contains(QLatin1String("at least one gate")));
        xds.maxErrorRateCheck()->setChecked(true);
        xds.holdEdit()->setText(QStringLiteral("soon"));
        QVERIFY(xds.problems().join(QLatin1Char('\n')).contains(QLatin1String("not a duration")));
        xds.holdEdit()->setText(QStringLiteral("30s"));
        QVERIFY2(xds.startButton()->isEnabled(), qPrintable(xds.problems().join(QLatin1Char('\n'))));
        const rollout::RolloutPlan plan = xds.plan();
        QCOMPARE(plan.steps, (std::vector<int> {10, 50, 100}));
        QCOMPARE(plan.holdMs, int64_t(30'000));
        QCOMPARE(plan.canary, std::string("echo-b"));
        QVERIFY(plan.gates.maxErrorRate && std::abs(*plan.gates.maxErrorRate - 0.05) < 1e-9);
        // Caddy 2.6.2 has no weighted round robin: 10 % cannot be served, 50 and 100 can.
        RolloutDialog caddy(set, 0, 0, routing::DataPlane::Caddy);
        caddy.stepsEdit()->setText(QStringLiteral("10,100"));
        QVERIFY(!caddy.startButton()->isEnabled());
        QVERIFY2(caddy.problems().join(QLatin1Char('\n')).contains(QLatin1String("Step 10 %")),
            qPrintable(caddy.problems().join(QLatin1Char('\n'))));
        caddy.stepsEdit()->setText(QStringLiteral("50,100"));
        QVERIFY2(caddy.startButton()->isEnabled(), qPrintable(caddy.problems().join(QLatin1Char('\n'))));
    }
};

QTEST_MAIN(TestRolloutGui)
#include "tst_rolloutgui.moc"

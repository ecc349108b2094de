// `meshscope-cli rollout` against real peers: gRPC's own xDS client (Debian's libgrpc
// 1.51, in the helper process) calls xds:///echo.test through meshscope's control plane
// to two real Echo backends; the client and both backends are instrumented and export
// their spans over OTLP to the rollout's own receiver, so the gates read what the calls
// really did. A healthy canary is promoted to 100 %; a canary failing 30 % of its calls
// is rolled back at the first gate and every later call goes to the stable backend; a
// canary that serves calls but reports nothing never passes a gate.

#include "common/cliprocess.h"
#include "common/testenv.h"
#include "common/xdsecho.h"
#include "routing/routehistory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using meshscope::test::CallResult;
using meshscope::test::EchoBackend;
using meshscope::test::echoRouteYaml;
using meshscope::test::XdsClientProcess;

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

namespace {

struct Canary {
    double failureFraction = 0;
    bool instrumented = true;
};

// One rollout: the backends, the CLI serving xDS and receiving OTLP, the client spinning.
class RolloutRun {
public:
    explicit RolloutRun(Canary canary)
    {
        m_otlpPort = meshscope::test::freePort();
        m_xdsPort = meshscope::test::freePort();
        const std::string otlp = "127.0.0.1:" + std::to_string(m_otlpPort);
        a.exportTo(otlp);
        if (canary.instrumented)
            b.exportTo(otlp);
        b.setFailureFraction(canary.failureFraction);
    }
    ~RolloutRun()
    {
        client.stop();
        if (cli.state() != QProcess::NotRunning) {
            cli.kill();
            cli.waitForFinished(5000);
        }
        a.stop();
        b.stop();
    }

    // Starts everything and waits for the CLI to finish; its exit status.
    int run(const QStringList &planArgs)
    {
        if (!a.start() || !b.start() || !m_dir.isValid())
            return -1;
        const QString routes = m_dir.filePath(QStringLiteral("routes.yaml"));
        meshscope::test::writeFile(routes, echoRouteYaml(a.port(), b.port(), 100, 0).toUtf8());
        QStringList args {QStringLiteral("rollout"), QStringLiteral("--xds-listen"),
            QStringLiteral("127.0.0.1:%1").arg(m_xdsPort), QStringLiteral("--otlp-listen"),
            QStringLiteral("127.0.0.1:%1").arg(m_otlpPort), QStringLiteral("--routes"), routes,
            QStringLiteral("--route"), QStringLiteral("default/echo"), QStringLiteral("--rule"), QStringLiteral("main"),
            QStringLiteral("--to"), QStringLiteral("echo-b"), QStringLiteral("--dir"), historyDir(),
            QStringLiteral("--format"), QStringLiteral("json")};
        cli.start(QStringLiteral(MESHSCOPE_CLI_PATH), args + planArgs);
        if (!meshscope::test::waitForListeningPort(cli, &stderrText))
            return -2;
        client.exportTo(QStringLiteral("127.0.0.1:%1").arg(m_otlpPort));
        if (!client.start(m_xdsPort, QStringLiteral("rollout-client")) || !client.spin(100))
            return -3;
        cli.setReadChannel(QProcess::StandardOutput);
        cli.waitForFinished(120000);
        spun = client.stopSpinning();
        stderrText += cli.readAllStandardError();
        stdoutText = cli.readAllStandardOutput();
        result = QJsonDocument::fromJson(stdoutText).object();
        qInfo("rollout: %s", stdoutText.trimmed().constData());
        return cli.state() == QProcess::NotRunning ? cli.exitCode() : -4;
    }

    QString historyDir() const { return m_dir.filePath(QStringLiteral("history")); }
    QJsonArray steps() const { return result.value(QStringLiteral("steps")).toArray(); }
    QByteArray describe() const
    {
        return "stdout: " + stdoutText + "\nstderr: " + stderrText + "\nspun: " + spun.line.toUtf8();
    }

    EchoBackend a {"echo-a"};
    EchoBackend b {"echo-b"};
    XdsClientProcess client;
    QProcess cli;
    QByteArray stderrText;
    QByteArray stdoutText;
    QJsonObject result;
    CallResult spun;

private:
    QTemporaryDir m_dir;
    int m_otlpPort = 0;
    int m_xdsPort = 0;
};

const QStringList kGates {QStringLiteral("--hold"), QStringLiteral("4s"), QStringLiteral("--settle"),
    QStringLiteral("1s"), QStringLiteral("--max-error-rate"), QStringLiteral("0.05"), QStringLiteral("--min-requests"),
    QStringLiteral("10")};

}  // namespace

class TestRollout : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void healthyCanaryIsPromoted()
    {
        RolloutRun r({});
        const int status = r.run(QStringList {QStringLiteral("--steps"), QStringLiteral("20,60,100")} + kGates);
        QVERIFY2(status == 0, r.describe());
        QCOMPARE(r.result.value(QStringLiteral("result")).toString(), QStringLiteral("promoted"));
        QCOMPARE(r.result.value(QStringLiteral("weight")).toInt(), 100);
        const QJsonArray steps = r.steps();
        QCOMPARE(steps.size(), 3);
        int previous = 0;
        for (const QJsonValue &v : steps) {
            const QJsonObject s = v.toObject();
            QVERIFY2(s.value(QStringLiteral("verdict")).toString() == QLatin1String("passed"), r.describe());
            QVERIFY2(s.value(QStringLiteral("requests")).toInt() >= 10, r.describe());
            QVERIFY(s.value(QStringLiteral("error_rate")).toDouble() <= 0.05);
            QVERIFY(s.value(QStringLiteral("p95_ms")).toDouble() > 0);
            QVERIFY(s.value(QStringLiteral("weight")).toInt() > previous);
            previous = s.value(QStringLiteral("weight")).toInt();
            QVERIFY(s.value(QStringLiteral("started_unix")).toDouble() > 1.7e9);
        }
        // Every call from now on goes to the canary, and every step is a route-history entry.
        const CallResult after = r.client.call(50);
        QVERIFY2(after.count("echo-b") == 50, qPrintable(after.line));
        meshscope::routing::RouteHistory history(r.historyDir().toStdString());
        const auto entries = history.list();
        QCOMPARE(entries.size(), size_t(3));
        QCOMPARE(r.result.value(QStringLiteral("history")).toArray().size(), 3);
        QVERIFY(entries.back().afterYaml.find("weight: 100") != std::string::npos);
        QVERIFY(entries.front().target.rfind("xds 127.0.0.1:", 0) == 0);
    }

    void failingCanaryRollsBackAtTheFirstGate()
    {
        RolloutRun r({0.3, true});
        const int status = r.run(QStringList {QStringLiteral("--steps"), QStringLiteral("10,50,100")} + kGates);
        QVERIFY2(status == 3, r.describe());
        QCOMPARE(r.result.value(QStringLiteral("result")).toString(), QStringLiteral("rolled_back"));
        const QJsonArray steps = r.steps();
        QVERIFY2(steps.size() == 2, r.describe());
        const QJsonObject first = steps[0].toObject();
        QCOMPARE(first.value(QStringLiteral("weight")).toInt(), 10);
        QCOMPARE(first.value(QStringLiteral("verdict")).toString(), QStringLiteral("failed"));
        const double errorRate = first.value(QStringLiteral("error_rate")).toDouble();
        QVERIFY2(errorRate > 0.15 && errorRate < 0.45, r.describe());
        QCOMPARE(steps[1].toObject().value(QStringLiteral("verdict")).toString(), QStringLiteral("rollback"));
        QCOMPARE(steps[1].toObject().value(QStringLiteral("weight")).toInt(), 0);
        QVERIFY(r.result.value(QStringLiteral("reason")).toString().contains(QLatin1String("error rate")));
        // The control plane is gone, and the client keeps the rolled-back routes: all stable.
        const int canaryCalls = r.b.calls();
        const CallResult after = r.client.call(100);
        QVERIFY2(after.count("echo-a") == 100 && after.errors == 0, qPrintable(after.line));
        QCOMPARE(r.b.calls(), canaryCalls);
    }

    void silentCanaryNeverPasses()
    {
        RolloutRun r({0, false});
        const int status = r.run(QStringList {QStringLiteral("--steps"), QStringLiteral("50,100")} + kGates);
        QVERIFY2(status == 3, r.describe());
        const QJsonObject first = r.steps()[0].toObject();
        QCOMPARE(first.value(QStringLiteral("verdict")).toString(), QStringLiteral("too_few_requests"));
        QCOMPARE(first.value(QStringLiteral("requests")).toInt(), 0);
        // It was called, it just said nothing: silence is not health.
        QVERIFY2(r.b.calls() > 20, r.describe());
        QVERIFY2(r.spun.count("echo-b") > 20, qPrintable(r.spun.line));
        const CallResult after = r.client.call(40);
        QVERIFY2(after.count("echo-a") == 40, qPrintable(after.line));
    }

    void badPlansAreRefusedBeforeAnythingIsServed_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("no gate") << QStringList {QStringLiteral("--steps"), QStringLiteral("50")}
                                 << "give at least one gate";
        QTest::newRow("steps") << QStringList {QStringLiteral("--steps"), QStringLiteral("50,10"),
            QStringLiteral("--max-error-rate"), QStringLiteral("0.1")}
                               << "steps must increase (50 then 10)";
        QTest::newRow("hold") << QStringList {QStringLiteral("--hold"), QStringLiteral("10"),
            QStringLiteral("--max-error-rate"), QStringLiteral("0.1")}
                              << "not a duration";
        QTest::newRow("on-failure") << QStringList {QStringLiteral("--on-failure"), QStringLiteral("undo"),
            QStringLiteral("--max-error-rate"), QStringLiteral("0.1")}
                                    << "--on-failure needs";
    }
    void badPlansAreRefusedBeforeAnythingIsServed()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const QString routes = dir.filePath(QStringLiteral("routes.yaml"));
        meshscope::test::writeFile(routes, echoRouteYaml(1, 2, 100, 0).toUtf8());
        QProcess cli;
        cli.start(QStringLiteral(MESHSCOPE_CLI_PATH),
            QStringList {QStringLiteral("rollout"), QStringLiteral("--xds-listen"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--routes"), routes, QStringLiteral("--route"), QStringLiteral("echo"),
                QStringLiteral("--rule"), QStringLiteral("0"), QStringLiteral("--to"), QStringLiteral("echo-b")}
                + args);
        QVERIFY(cli.waitForFinished(20000));
        const QString err = QString::fromUtf8(cli.readAllStandardError());
        QVERIFY2(cli.exitCode() != 0 && cli.exitCode() != 3, qPrintable(err));
        QVERIFY2(err.contains(message), qPrintable(err));
        QVERIFY(!err.contains(QLatin1String("listening")));
    }

    void unknownRuleIsNamed()
    {
        QTemporaryDir dir;
        const QString routes = dir.filePath(QStringLiteral("routes.yaml"));
        meshscope::test::writeFile(routes, echoRouteYaml(1, 2, 100, 0).toUtf8());
        QProcess cli;
        cli.start(QStringLiteral(MESHSCOPE_CLI_PATH),
            {QStringLiteral("rollout"), QStringLiteral("--xds-listen"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--routes"), routes, QStringLiteral("--route"), QStringLiteral("echo"),
                QStringLiteral("--rule"), QStringLiteral("canary"), QStringLiteral("--to"), QStringLiteral("echo-b"),
                QStringLiteral("--max-error-rate"), QStringLiteral("0.1")});
        QVERIFY(cli.waitForFinished(20000));
        const QString err = QString::fromUtf8(cli.readAllStandardError());
        QCOMPARE(cli.exitCode(), 1);
        QVERIFY2(err.contains(QLatin1String("route echo has no rule named 'canary'")), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestRollout)
#include "tst_rollout.moc"

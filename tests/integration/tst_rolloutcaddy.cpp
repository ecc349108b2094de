// `meshscope-cli rollout --caddy-admin` against a real Caddy (Debian's caddy 2.6.2) the
// test starts on loopback ports: its server "main" proxies host echo.test to the HTTP
// upstream echo-a, and the rollout moves the route's rule to echo-b (two HttpEcho
// upstreams, common/httpecho.h). A steady stream of requests goes through Caddy while
// it runs; the upstreams export a span per request over OTLP to the rollout's own
// receiver, so the gates read what Caddy really sent where. Caddy 2.6.2 has no
// weighted round robin, so the steps are 50 % (equal weights: round robin over both)
// and 100 %. A healthy echo-b is promoted and then answers every request; an echo-b
// failing 30 % is rolled back at the first gate and no later request reaches it; an
// echo-b that says nothing never passes a gate; and a plan with a step Caddy cannot
// express (10 %) is refused before Caddy is touched.

#include "common/cliprocess.h"
#include "common/echoroutes.h"
#include "common/httpecho.h"
#include "common/testcaddy.h"
#include "common/testenv.h"
#include "routing/caddy/caddyadmin.h"
#include "routing/routehistory.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using meshscope::test::HttpCounts;
using meshscope::test::HttpEcho;
using meshscope::test::HttpTraffic;
using meshscope::test::TestCaddy;

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

namespace {

const std::string kHost = "echo.test";

// HTTPRoute default/echo for echo.test: rule "main" splits between echo-a and echo-b,
// each one address (127.0.0.1) at its HttpEcho port.
QString routeYaml(int portA, int portB, int weightA, int weightB)
{
    return meshscope::test::echoRouteYaml(portA, portB, weightA, weightB, {}, QStringLiteral("http"));
}

// An upstream's address as Caddy's routes JSON names it.
QByteArray dial(const HttpEcho &upstream) { return "127.0.0.1:" + QByteArray::number(upstream.port()); }

struct Setup {
    double canaryFailureFraction = 0;
    bool canaryInstrumented = true;
    bool telemetry = true;  // false: neither upstream exports anything
};

// One rollout: Caddy proxying echo.test to echo-a, both upstreams, the CLI, the traffic.
class CaddyRollout {
public:
    explicit CaddyRollout(Setup setup)
    {
        m_otlpPort = meshscope::test::freePort();
        const std::string otlp = "127.0.0.1:" + std::to_string(m_otlpPort);
        if (setup.telemetry) {
            a.exportTo(otlp);
            if (setup.canaryInstrumented)
                b.exportTo(otlp);
        }
        b.setFailureFraction(setup.canaryFailureFraction);
    }
    ~CaddyRollout()
    {
        if (traffic)
            traffic->stop();
        if (cli.state() != QProcess::NotRunning) {
            cli.kill();
            cli.waitForFinished(5000);
        }
        caddy.stop();
        a.stop();
        b.stop();
    }

    // The upstreams, and Caddy with server main's one route sending echo.test to echo-a
    // (written as Caddy's own JSON, not by meshscope). Nothing is requested through it
    // here: an instrumented upstream would export before the rollout's receiver listens.
    bool setUp(QString *error)
    {
        if (!m_dir.isValid() || !a.start() || !b.start()) {
            *error = QStringLiteral("no temporary directory or no loopback port for the upstreams");
            return false;
        }
        if (!caddy.start(m_dir.path(), {}, error))
            return false;
        const QByteArray routes = QStringLiteral(R"([{"@id": "main", "match": [{"host": ["echo.test"]}],
            "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:%1"}]}]}])")
                                      .arg(a.port())
                                      .toUtf8();
        const meshscope::routing::CaddyResult set = meshscope::routing::CaddyAdmin::requestSync(
            caddy.admin(), "PATCH", meshscope::routing::CaddyAdmin::routesPath(QStringLiteral("main")), routes);
        if (!set.ok()) {
            *error = set.message;
            return false;
        }
        m_routesFile = m_dir.filePath(QStringLiteral("routes.yaml"));
        return meshscope::test::writeFile(m_routesFile, routeYaml(a.port(), b.port(), 100, 0).toUtf8());
    }

    // Writes another route file (the default one has echo-a 100, echo-b 0).
    void setRouteWeights(int weightA, int weightB)
    {
        meshscope::test::writeFile(m_routesFile, routeYaml(a.port(), b.port(), weightA, weightB).toUtf8());
    }

    QStringList args(const QStringList &planArgs) const
    {
        return QStringList {QStringLiteral("rollout"), QStringLiteral("--caddy-admin"), caddy.adminUrl(),
                   QStringLiteral("--server"), QStringLiteral("main"), QStringLiteral("--otlp-listen"),
                   QStringLiteral("127.0.0.1:%1").arg(m_otlpPort), QStringLiteral("--routes"), m_routesFile,
                   QStringLiteral("--route"), QStringLiteral("default/echo"), QStringLiteral("--rule"),
                   QStringLiteral("main"), QStringLiteral("--to"), QStringLiteral("echo-b"), QStringLiteral("--dir"),
                   historyDir(), QStringLiteral("--format"), QStringLiteral("json")}
        + planArgs;
    }

    // Starts the CLI, sends traffic through Caddy once it listens, waits for it to
    // finish; its exit status (negative: it did not get that far).
    int run(const QStringList &planArgs)
    {
        cli.start(QStringLiteral(MESHSCOPE_CLI_PATH), args(planArgs));
        if (!meshscope::test::waitForListeningPort(cli, &stderrText))
            return -1;
        traffic = std::make_unique<HttpTraffic>(caddy.mainPort(), kHost, 100);
        traffic->start();
        cli.waitForFinished(120000);
        during = traffic->stop();
        stderrText += cli.readAllStandardError();
        stdoutText = cli.readAllStandardOutput();
        result = QJsonDocument::fromJson(stdoutText).object();
        qInfo("rollout: %s", stdoutText.trimmed().constData());
        qInfo("traffic during the rollout: %s; echo-a served %d, echo-b served %d (%d answered 503)",
            during.line().c_str(), a.requests(), b.requests(), b.failed());
        return cli.state() == QProcess::NotRunning && cli.exitStatus() == QProcess::NormalExit ? cli.exitCode() : -2;
    }

    // `n` requests through Caddy now, one at a time.
    static HttpCounts requests(int port, int n)
    {
        HttpCounts c;
        for (int i = 0; i < n; ++i) {
            const meshscope::test::HttpAnswer answer = meshscope::test::httpGet(port, kHost);
            c.total++;
            if (answer.status == 0) {
                c.unanswered++;
            } else {
                c.bodies[answer.body]++;
                c.statuses[answer.status]++;
            }
        }
        return c;
    }
    HttpCounts requests(int n) const { return requests(caddy.mainPort(), n); }

    QString historyDir() const { return m_dir.filePath(QStringLiteral("history")); }
    QString targetKey() const { return QStringLiteral("caddy %1 main").arg(caddy.adminUrl()); }
    QJsonArray steps() const { return result.value(QStringLiteral("steps")).toArray(); }
    QByteArray describe() const
    {
        return "stdout: " + stdoutText + "\nstderr: " + stderrText
            + "\ntraffic: " + QByteArray::fromStdString(during.line());
    }

    // Every route-history entry is for this Caddy's server main; their count.
    size_t checkHistory(QByteArray *problem) const
    {
        meshscope::routing::RouteHistory history(historyDir().toStdString());
        const auto entries = history.list();
        for (const auto &e : entries) {
            if (e.target != targetKey().toStdString())
                *problem += "entry " + QByteArray::number(qint64(e.id)) + " is for '"
                    + QByteArray::fromStdString(e.target) + "', not '" + targetKey().toUtf8() + "'\n";
        }
        return entries.size();
    }

    HttpEcho a {"echo-a"};
    HttpEcho b {"echo-b"};
    TestCaddy caddy;
    QProcess cli;
    std::unique_ptr<HttpTraffic> traffic;
    HttpCounts during;
    QByteArray stderrText;
    QByteArray stdoutText;
    QJsonObject result;

private:
    QTemporaryDir m_dir;
    QString m_routesFile;
    int m_otlpPort = 0;
};

const QStringList kGates {QStringLiteral("--hold"), QStringLiteral("4s"), QStringLiteral("--settle"),
    QStringLiteral("1s"), QStringLiteral("--max-error-rate"), QStringLiteral("0.05"), QStringLiteral("--min-requests"),
    QStringLiteral("10")};
const QStringList kCaddySteps {QStringLiteral("--steps"), QStringLiteral("50,100")};

}  // namespace

class TestRolloutCaddy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // As TestCaddy looks for it.
        MESHSCOPE_REQUIRE_PEER(!QStandardPaths::findExecutable(QStringLiteral("caddy")).isEmpty(), "caddy");
    }

    void healthyCanaryIsPromoted()
    {
        CaddyRollout r({});
        QString error;
        QVERIFY2(r.setUp(&error), qPrintable(error));
        const int status = r.run(kCaddySteps + kGates);
        QVERIFY2(status == 0, r.describe());
        QCOMPARE(r.result.value(QStringLiteral("result")).toString(), QStringLiteral("promoted"));
        QCOMPARE(r.result.value(QStringLiteral("weight")).toInt(), 100);
        QCOMPARE(r.result.value(QStringLiteral("route")).toString(), QStringLiteral("default/echo"));
        const QJsonArray steps = r.steps();
        QVERIFY2(steps.size() == 2, r.describe());
        for (int i = 0; i < 2; ++i) {
            const QJsonObject s = steps[i].toObject();
            QCOMPARE(s.value(QStringLiteral("weight")).toInt(), i == 0 ? 50 : 100);
            QVERIFY2(s.value(QStringLiteral("verdict")).toString() == QLatin1String("passed"), r.describe());
            QVERIFY2(s.value(QStringLiteral("requests")).toInt() >= 10, r.describe());
            QCOMPARE(s.value(QStringLiteral("error_rate")).toDouble(), 0.0);
            QVERIFY(s.value(QStringLiteral("p95_ms")).toDouble() > 0);
            QVERIFY(s.value(QStringLiteral("started_unix")).toDouble() > 1.7e9);
        }
        // At 50 % Caddy's round robin took turns: echo-a answered too while it lasted.
        QVERIFY2(r.during.count("echo-a") > 20 && r.during.count("echo-b") > 20, r.describe());
        QCOMPARE(r.during.statuses.count(503), size_t(0));

        // Caddy now sends every request to echo-b, and only to it.
        const int servedByA = r.a.requests();
        const HttpCounts after = r.requests(50);
        QVERIFY2(after.count("echo-b") == 50 && after.statuses.at(200) == 50, after.line().c_str());
        QCOMPARE(r.a.requests(), servedByA);
        const QByteArray routes = r.caddy.routesBody();
        QVERIFY2(routes.contains(dial(r.b)), routes.constData());
        QVERIFY2(!routes.contains(dial(r.a)), routes.constData());

        // Each step is an entry in the route history, for this Caddy's server main.
        QByteArray problem;
        QCOMPARE(r.checkHistory(&problem), size_t(2));
        QVERIFY2(problem.isEmpty(), problem.constData());
        QCOMPARE(r.result.value(QStringLiteral("history")).toArray().size(), 2);
        const auto entries = meshscope::routing::RouteHistory(r.historyDir().toStdString()).list();
        QVERIFY(entries.back().afterYaml.find("weight: 100") != std::string::npos);
    }

    void failingCanaryRollsBackAtTheFirstGate()
    {
        CaddyRollout r({0.3, true, true});
        QString error;
        QVERIFY2(r.setUp(&error), qPrintable(error));
        const int status = r.run(kCaddySteps + kGates);
        QVERIFY2(status == 3, r.describe());
        QCOMPARE(r.result.value(QStringLiteral("result")).toString(), QStringLiteral("rolled_back"));
        QCOMPARE(r.result.value(QStringLiteral("weight")).toInt(), 0);
        const QJsonArray steps = r.steps();
        QVERIFY2(steps.size() == 2, r.describe());
        const QJsonObject first = steps[0].toObject();
        QCOMPARE(first.value(QStringLiteral("weight")).toInt(), 50);
        QCOMPARE(first.value(QStringLiteral("verdict")).toString(), QStringLiteral("failed"));
        QVERIFY2(first.value(QStringLiteral("requests")).toInt() >= 10, r.describe());
        const double errorRate = first.value(QStringLiteral("error_rate")).toDouble();
        QVERIFY2(errorRate > 0.2 && errorRate < 0.4, r.describe());
        QCOMPARE(steps[1].toObject().value(QStringLiteral("verdict")).toString(), QStringLiteral("rollback"));
        QCOMPARE(steps[1].toObject().value(QStringLiteral("weight")).toInt(), 0);
        QVERIFY(r.result.value(QStringLiteral("reason")).toString().contains(QLatin1String("error rate")));
        // The 503s the clients got were echo-b's, passed on by Caddy.
        QVERIFY2(r.during.statuses.count(503) && r.during.statuses.at(503) > 0, r.describe());
        QVERIFY2(r.b.failed() > 0 && r.b.failed() <= r.b.requests(), r.describe());

        // Every later request goes to echo-a, and none reaches echo-b.
        const int servedByB = r.b.requests();
        const HttpCounts after = r.requests(100);
        QVERIFY2(after.count("echo-a") == 100 && after.statuses.at(200) == 100, after.line().c_str());
        QCOMPARE(r.b.requests(), servedByB);
        const QByteArray routes = r.caddy.routesBody();
        QVERIFY2(!routes.contains(dial(r.b)), routes.constData());

        // The step and the rollback, each in the route history.
        QByteArray problem;
        QCOMPARE(r.checkHistory(&problem), size_t(2));
        QVERIFY2(problem.isEmpty(), problem.constData());
        const auto entries = meshscope::routing::RouteHistory(r.historyDir().toStdString()).list();
        QVERIFY(entries.back().afterYaml.find("weight: 100") != std::string::npos);
    }

    void silentCanaryNeverPasses()
    {
        CaddyRollout r({0, false, true});
        QString error;
        QVERIFY2(r.setUp(&error), qPrintable(error));
        const int status = r.run(kCaddySteps + kGates);
        QVERIFY2(status == 3, r.describe());
        QCOMPARE(r.result.value(QStringLiteral("result")).toString(), QStringLiteral("rolled_back"));
        const QJsonObject first = r.steps()[0].toObject();
        QCOMPARE(first.value(QStringLiteral("weight")).toInt(), 50);
        QCOMPARE(first.value(QStringLiteral("verdict")).toString(), QStringLiteral("too_few_requests"));
        QCOMPARE(first.value(QStringLiteral("requests")).toInt(), 0);
        // It was sent requests and answered them, it just said nothing: silence is not health.
        QVERIFY2(r.b.requests() > 20, r.describe());
        QVERIFY2(r.during.count("echo-b") > 20, r.describe());
        const int servedByB = r.b.requests();
        const HttpCounts after = r.requests(40);
        QVERIFY2(after.count("echo-a") == 40, after.line().c_str());
        QCOMPARE(r.b.requests(), servedByB);
        QByteArray problem;
        QCOMPARE(r.checkHistory(&problem), size_t(2));
        QVERIFY2(problem.isEmpty(), problem.constData());
    }

    void inexpressiblePlanIsRefusedUpFront_data()
    {
        QTest::addColumn<int>("weightA");
        QTest::addColumn<int>("weightB");
        QTest::addColumn<QString>("steps");
        QTest::addColumn<QStringList>("messages");
        QTest::newRow("step 10 %") << 100 << 0 << QStringLiteral("10,100")
                                   << QStringList {QStringLiteral("step 10 % cannot be expressed on Caddy 2.6.2: "
                                                                  "it has no weighted round robin, so weights 90/10 "
                                                                  "cannot be expressed"),
                                          QStringLiteral("nothing was changed")};
        QTest::newRow("step 75 % after 50 %")
            << 100 << 0 << QStringLiteral("50,75,100")
            << QStringList {QStringLiteral("step 75 % cannot be expressed on Caddy 2.6.2"),
                   QStringLiteral("weights 25/75 cannot be expressed")};
        // The weights a rollback would restore must be expressible too.
        QTest::newRow("rollback target 90/10")
            << 90 << 10 << QStringLiteral("50,100")
            << QStringList {QStringLiteral("the weights before the rollout (10 % to echo-b), which a rollback "
                                           "restores, cannot be expressed on Caddy 2.6.2"),
                   QStringLiteral("weights 90/10 cannot be expressed")};
    }
    void inexpressiblePlanIsRefusedUpFront()
    {
        QFETCH(int, weightA);
        QFETCH(int, weightB);
        QFETCH(QString, steps);
        QFETCH(QStringList, messages);
        CaddyRollout r({0, false, false});
        QString error;
        QVERIFY2(r.setUp(&error), qPrintable(error));
        r.setRouteWeights(weightA, weightB);
        QCOMPARE(QByteArray::fromStdString(CaddyRollout::requests(r.caddy.mainPort(), 1).line()),
            QByteArray("total=1 echo-a=1 status200=1 unanswered=0"));
        const QByteArray before = r.caddy.routesBody();
        QVERIFY(before.contains(dial(r.a)));

        r.cli.start(
            QStringLiteral(MESHSCOPE_CLI_PATH), r.args(QStringList {QStringLiteral("--steps"), steps} + kGates));
        QVERIFY(r.cli.waitForFinished(30000));
        const QString err = QString::fromUtf8(r.cli.readAllStandardError());
        qInfo("refused: %s", qPrintable(err.trimmed()));
        QVERIFY2(r.cli.exitCode() == 1, qPrintable(err));
        for (const QString &m : messages)
            QVERIFY2(err.contains(m), qPrintable(err));
        QVERIFY2(!err.contains(QLatin1String("listening")), qPrintable(err));
        QVERIFY(r.cli.readAllStandardOutput().isEmpty());
        // Caddy was not touched: the same routes, byte for byte, still to echo-a; nothing recorded.
        QCOMPARE(r.caddy.routesBody(), before);
        QCOMPARE(r.requests(5).count("echo-a"), 5);
        QCOMPARE(r.b.requests(), 0);
        QVERIFY(!QFile::exists(r.historyDir() + QStringLiteral("/route-history.jsonl")));
    }
};

QTEST_GUILESS_MAIN(TestRolloutCaddy)
#include "tst_rolloutcaddy.moc"

// `meshscope-cli routes whatif` against real peers: what it predicts is what the real
// data plane then does. gRPC's own xDS client (Debian's libgrpc 1.51, in the helper
// process) calls xds:///echo.test through meshscope's control plane, serving CURRENT
// (every call to echo-a), to two real Echo backends with a known mix of metadata headers
// (37 x-user=beta, 23 x-user=alpha, 15 x-tier=gold, 9 x-tier=golden, 16 without); the
// client and both backends export their spans over OTLP to `meshscope-cli record`.
// whatif on that recording with PROPOSED (CURRENT plus an exact x-user header rule and a
// regex x-tier header rule, both to echo-b, before "main") says per rule and backend how
// many calls went where and would go, and which calls move. A second client makes the
// same mix under CURRENT, PROPOSED is pushed to it, and it makes the mix again: whatif's
// "before" counts are the recorded run's, its "after" counts per backend and per rule are
// exactly where the calls really went (client and backend counters agree), the requests
// it lists as moved are exactly the header groups that really changed backend, with
// their recorded counts (x-tier=golden, which the regex matches only in part, stays, as
// RE2 full matches in gRPC), and no call is counted twice for its client and server
// spans. The route checks whatif saves name the rule and the backend each group really
// reached, pass against PROPOSED (exit 0) and fail against CURRENT (exit 1).

#include "common/cliprocess.h"
#include "common/testenv.h"
#include "common/xdsecho.h"
#include "routing/routecheck.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/yaml/routeyaml.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

using meshscope::test::ackedEverything;
using meshscope::test::CallResult;
using meshscope::test::describeClient;
using meshscope::test::EchoBackend;
using meshscope::test::echoRouteYaml;
using meshscope::test::XdsClientProcess;
using namespace meshscope::routing;

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

namespace {

// One header group of the mix: `count` calls with metadata key=value (none when empty).
struct Group {
    QString key;
    QString value;
    int count = 0;
    QString header() const { return key.isEmpty() ? QString() : key + QLatin1Char('=') + value; }
    QString label() const { return key.isEmpty() ? QStringLiteral("(no header)") : header(); }
    bool is(const char *k, const char *v) const { return key == QLatin1String(k) && value == QLatin1String(v); }
    // The rule of PROPOSED that takes these calls.
    QString proposedRule() const
    {
        return is("x-user", "beta") ? QStringLiteral("beta-users")
            : is("x-tier", "gold")  ? QStringLiteral("gold-tier")
                                    : QStringLiteral("main");
    }
};

// 100 calls. PROPOSED sends x-user=beta (exact) and x-tier=gold (regex gold|platinum)
// to echo-b; x-tier=golden only partly matches the regex and stays on echo-a, as do
// x-user=alpha and the calls without a header.
const QList<Group> kMix {
    {QStringLiteral("x-user"), QStringLiteral("beta"), 37},
    {QStringLiteral("x-user"), QStringLiteral("alpha"), 23},
    {QStringLiteral("x-tier"), QStringLiteral("gold"), 15},
    {QStringLiteral("x-tier"), QStringLiteral("golden"), 9},
    {{}, {}, 16},
};
constexpr int kCalls = 100;

const QString kProposedRules = QStringLiteral("  - name: beta-users\n"
                                              "    matches:\n"
                                              "    - headers:\n"
                                              "      - name: x-user\n"
                                              "        type: Exact\n"
                                              "        value: beta\n"
                                              "    backendRefs:\n"
                                              "    - name: echo-b\n"
                                              "  - name: gold-tier\n"
                                              "    matches:\n"
                                              "    - headers:\n"
                                              "      - name: x-tier\n"
                                              "        type: RegularExpression\n"
                                              "        value: \"gold|platinum\"\n"
                                              "    backendRefs:\n"
                                              "    - name: echo-b\n");

struct Run {
    int status = -1;
    QByteArray out;
    QByteArray err;
    QByteArray describe() const
    {
        return "exit " + QByteArray::number(status) + "\nstdout: " + out + "\nstderr: " + err;
    }
};

Run cli(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(MESHSCOPE_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished(5000);
        r.err = "timed out: " + args.join(QLatin1Char(' ')).toUtf8();
        return r;
    }
    r.status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// What one group's calls got, and what all of them got together.
struct MixResult {
    QMap<QString, CallResult> byGroup;  // Group::label()
    QMap<QString, int> total;  // backend -> calls
    int errors = 0;
    QByteArray describe() const
    {
        QByteArray out;
        for (auto it = byGroup.begin(); it != byGroup.end(); ++it)
            out += it.key().toUtf8() + ": " + it.value().line.toUtf8() + "\n";
        return out;
    }
    // The one backend every call of the group reached; empty when they were split or failed.
    QString backendOf(const Group &g) const
    {
        const CallResult r = byGroup.value(g.label());
        return r.errors == 0 && r.counts.size() == 1 && r.counts.first() == g.count ? r.counts.firstKey() : QString();
    }
};

// The mix, interleaved: rounds of up to 8 calls per group until every group is done.
MixResult callMix(XdsClientProcess &client)
{
    MixResult m;
    QMap<QString, int> left;
    for (const Group &g : kMix)
        left[g.label()] = g.count;
    for (bool more = true; more;) {
        more = false;
        for (const Group &g : kMix) {
            const int n = std::min(8, left[g.label()]);
            if (n == 0)
                continue;
            left[g.label()] -= n;
            more = more || left[g.label()] > 0;
            const CallResult r = client.call(n, g.header());
            CallResult &sum = m.byGroup[g.label()];
            sum.line += (sum.line.isEmpty() ? QString() : QStringLiteral(" | ")) + r.line;
            sum.errors = std::max(sum.errors, 0) + (r.errors < 0 ? n : r.errors);
            for (auto it = r.counts.begin(); it != r.counts.end(); ++it) {
                sum.counts[it.key()] += it.value();
                m.total[it.key()] += it.value();
            }
            m.errors += r.errors < 0 ? n : r.errors;
        }
    }
    return m;
}

// CURRENT with kProposedRules before its "main" rule.
QString routesWithProposal(const QString &current)
{
    const QString main = QStringLiteral("  - name: main\n");
    return current.count(main) == 1 ? QString(current).replace(main, kProposedRules + main) : QString();
}

// Sums of a whatif report's rows: per backend, and per "rule/backend".
struct Rows {
    QMap<QString, double> beforeByBackend, afterByBackend;
    QMap<QString, double> beforeByRule, afterByRule;
    bool integral = true;  // every count a whole number (no weighted split between 0 and 100)
};

Rows sumRows(const QJsonObject &report)
{
    Rows r;
    for (const QJsonValue &v : report.value(QStringLiteral("rules")).toArray()) {
        const QJsonObject row = v.toObject();
        const QString backend = row.value(QStringLiteral("backend")).toString(QStringLiteral("(none)"));
        const QString rule = row.value(QStringLiteral("rule_name")).toString() + QLatin1Char('/') + backend;
        const double before = row.value(QStringLiteral("before")).toDouble();
        const double after = row.value(QStringLiteral("after")).toDouble();
        r.integral = r.integral && before == std::round(before) && after == std::round(after);
        r.beforeByBackend[backend] += before;
        r.afterByBackend[backend] += after;
        r.beforeByRule[rule] += before;
        r.afterByRule[rule] += after;
    }
    return r;
}

QString headersText(const QJsonObject &headers)
{
    QStringList parts;
    for (auto it = headers.begin(); it != headers.end(); ++it)
        parts << it.key() + QLatin1Char('=') + it.value().toString();
    return parts.join(QLatin1Char(','));
}

}  // namespace

class TestWhatIf : public QObject {
    Q_OBJECT

private:
    EchoBackend m_a {"echo-a"};
    EchoBackend m_b {"echo-b"};
    QTemporaryDir m_dir;
    std::unique_ptr<XdsControlPlane> m_cp;
    QString m_current, m_proposed, m_recording;
    RouteSet m_proposedSet;
    MixResult m_recorded;  // what the recorded calls got under CURRENT
    MixResult m_live;  // what the same mix got once PROPOSED was applied
    QJsonObject m_report;  // whatif --format json

    QString path(const char *name) const { return m_dir.filePath(QLatin1String(name)); }

    QStringList whatIfArgs(const char *target) const
    {
        return {QStringLiteral("routes"), QStringLiteral("whatif"), QStringLiteral("--routes"), m_proposed,
            QStringLiteral("--from"), m_recording, QStringLiteral("--current"), m_current, QStringLiteral("--target"),
            QLatin1String(target), QStringLiteral("--format"), QStringLiteral("json")};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        XdsControlPlaneConfig config;
        config.listenAddress = "127.0.0.1:0";
        m_cp = std::make_unique<XdsControlPlane>(config);
        std::string error;
        QVERIFY2(m_cp->start(&error), error.c_str());
    }

    void cleanupTestCase()
    {
        if (m_cp)
            m_cp->stop();
        m_a.stop();
        m_b.stop();
    }

    // Real calls through CURRENT, recorded by `meshscope-cli record` from the client's
    // and the backends' own spans.
    void recordTheMix()
    {
        m_recording = path("mix.msrec");
        QProcess record;
        record.start(QStringLiteral(MESHSCOPE_CLI_PATH),
            {QStringLiteral("record"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"),
                QStringLiteral("--duration"), QStringLiteral("600"), QStringLiteral("--out"), m_recording});
        const auto stopRecord = qScopeGuard([&record] {
            if (record.state() != QProcess::NotRunning) {
                record.kill();
                record.waitForFinished(5000);
            }
        });
        QByteArray recordErr;
        const int otlpPort = meshscope::test::waitForListeningPort(record, &recordErr);
        QVERIFY2(otlpPort > 0, recordErr.constData());
        const QString otlp = QStringLiteral("127.0.0.1:%1").arg(otlpPort);

        m_a.exportTo(otlp.toStdString());
        m_b.exportTo(otlp.toStdString());
        QVERIFY(m_a.start());
        QVERIFY(m_b.start());
        m_current = path("current.yaml");
        m_proposed = path("proposed.yaml");
        const QString currentYaml = echoRouteYaml(m_a.port(), m_b.port(), 100, 0);
        QVERIFY(meshscope::test::writeFile(m_current, currentYaml.toUtf8()));
        const QString proposedYaml = routesWithProposal(currentYaml);
        QVERIFY(!proposedYaml.isEmpty());
        QVERIFY(meshscope::test::writeFile(m_proposed, proposedYaml.toUtf8()));
        const RouteLoadResult current = loadRouteFile(m_current.toStdString());
        const RouteLoadResult proposed = loadRouteFile(m_proposed.toStdString());
        QVERIFY(current.ok());
        QVERIFY(proposed.ok());
        m_proposedSet = proposed.set;
        QCOMPARE(m_cp->setRouteSet(current.set), uint64_t(1));

        {
            XdsClientProcess client;
            client.exportTo(otlp);
            QVERIFY(client.start(m_cp->port(), QStringLiteral("whatif-recorded")));
            m_recorded = callMix(client);
            QVERIFY2(m_recorded.errors == 0, m_recorded.describe().constData());
            QVERIFY2(m_recorded.total.value(QStringLiteral("echo-a")) == kCalls, m_recorded.describe().constData());
            QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*m_cp, "whatif-recorded", 1); }, 20000),
                describeClient(*m_cp, "whatif-recorded").constData());
            // Quitting the helper flushes its exporter: every CLIENT span has been
            // acknowledged by the recorder once it has exited.
            client.stop();
        }
        QCOMPARE(m_a.calls(), kCalls);
        QCOMPARE(m_b.calls(), 0);
        // The backends' exporters send what they hold every 100 ms; their SERVER spans
        // only show that whatif does not count a call twice, so a late one costs nothing.
        QTest::qWait(2000);
        record.terminate();
        QVERIFY2(record.waitForFinished(30000), "meshscope-cli record did not stop on SIGTERM");
        recordErr += record.readAllStandardError();
        QVERIFY2(record.exitStatus() == QProcess::NormalExit && record.exitCode() == 0, recordErr.constData());
        QVERIFY2(QFileInfo(m_recording).size() > 0, recordErr.constData());
        qInfo("recorded: %s", m_recorded.describe().replace('\n', "; ").constData());
    }

    // whatif on the recording: before as recorded, after as PROPOSED would route.
    void whatIfOnTheRecording()
    {
        QVERIFY(QFileInfo(m_recording).size() > 0);
        const Run run = cli(whatIfArgs("xds-grpc"));
        QVERIFY2(run.status == 0, run.describe().constData());
        QJsonParseError parseError;
        m_report = QJsonDocument::fromJson(run.out, &parseError).object();
        QVERIFY2(parseError.error == QJsonParseError::NoError, run.describe().constData());
        qInfo("whatif: %s", run.out.trimmed().constData());

        // Every recorded call once: 100 CLIENT spans; the SERVER spans that arrived were
        // each paired with theirs and not counted again.
        static const QRegularExpression counted(QStringLiteral(
            "(\\d+) requests \\((\\d+) from (\\d+) spans, (\\d+) from access logs\\); not counted again: (\\d+) "
            "server halves"));
        const auto m = counted.match(QString::fromUtf8(run.err));
        QVERIFY2(m.hasMatch(), run.err.constData());
        const int requests = m.captured(1).toInt(), spanRequests = m.captured(2).toInt();
        const int spans = m.captured(3).toInt(), serverHalves = m.captured(5).toInt();
        qInfo("%d requests from %d spans, %d server halves", requests, spans, serverHalves);
        QCOMPARE(requests, kCalls);
        QCOMPARE(spanRequests, kCalls);
        QCOMPARE(m.captured(4).toInt(), 0);
        QVERIFY2(serverHalves > 0 && serverHalves <= kCalls, run.err.constData());
        QCOMPARE(spans, kCalls + serverHalves);

        QCOMPARE(m_report.value(QStringLiteral("data_plane")).toString(), QStringLiteral("xds-grpc"));
        QCOMPARE(m_report.value(QStringLiteral("requests")).toInt(), kCalls);
        // Distinct by the headers some rule reads: the five groups.
        QCOMPARE(m_report.value(QStringLiteral("distinct_requests")).toInt(), int(kMix.size()));
        QCOMPARE(m_report.value(QStringLiteral("unmatched_before")).toInt(), 0);
        QCOMPARE(m_report.value(QStringLiteral("unmatched_after")).toInt(), 0);

        // "before" is the recorded run, backend by backend.
        const Rows rows = sumRows(m_report);
        QVERIFY(rows.integral);
        QCOMPARE(rows.beforeByBackend.value(QStringLiteral("echo-a")),
            double(m_recorded.total.value(QStringLiteral("echo-a"))));
        QCOMPARE(rows.beforeByBackend.value(QStringLiteral("echo-b")),
            double(m_recorded.total.value(QStringLiteral("echo-b"))));
        QCOMPARE(rows.beforeByRule.value(QStringLiteral("main/echo-a")), double(kCalls));

        // The default target (generic, matched as Envoy) says the same of these calls.
        const Run generic = cli(whatIfArgs("generic"));
        QVERIFY2(generic.status == 0, generic.describe().constData());
        QJsonObject genericReport = QJsonDocument::fromJson(generic.out).object();
        QCOMPARE(genericReport.take(QStringLiteral("data_plane")).toString(), QStringLiteral("generic"));
        QJsonObject grpcReport = m_report;
        grpcReport.remove(QStringLiteral("data_plane"));
        QCOMPARE(genericReport, grpcReport);
    }

    // PROPOSED pushed to a live gRPC client: the calls go where whatif said.
    void dataPlaneDoesWhatWhatIfSaid()
    {
        QVERIFY(!m_report.isEmpty());
        XdsClientProcess client;
        QVERIFY(client.start(m_cp->port(), QStringLiteral("whatif-live")));
        // Under CURRENT, as recorded.
        const MixResult before = callMix(client);
        QVERIFY2(before.errors == 0, before.describe().constData());
        QCOMPARE(before.total, m_recorded.total);
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*m_cp, "whatif-live", 1); }, 20000),
            describeClient(*m_cp, "whatif-live").constData());

        // Apply PROPOSED; once the client has ACKed it, wait for the first beta call on
        // echo-b (the channel takes the new routes just after the ACK).
        QCOMPARE(m_cp->setRouteSet(m_proposedSet), uint64_t(2));
        QVERIFY2(QTest::qWaitFor([&] { return ackedEverything(*m_cp, "whatif-live", 2); }, 30000),
            describeClient(*m_cp, "whatif-live").constData());
        CallResult probe;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         probe = client.call(1, QStringLiteral("x-user=beta"));
                         return probe.count("echo-b") == 1;
                     },
                     30000),
            qPrintable(probe.line));

        const int aBefore = m_a.calls(), bBefore = m_b.calls();
        const MixResult after = m_live = callMix(client);
        qInfo("after the push: %s", after.describe().replace('\n', "; ").constData());
        QVERIFY2(after.errors == 0, after.describe().constData());
        // The backends saw the calls the client counted.
        QCOMPARE(m_a.calls() - aBefore, after.total.value(QStringLiteral("echo-a")));
        QCOMPARE(m_b.calls() - bBefore, after.total.value(QStringLiteral("echo-b")));

        // whatif's "after", per backend and per rule, is where the calls went.
        const Rows rows = sumRows(m_report);
        QVERIFY(rows.integral);
        QCOMPARE(
            rows.afterByBackend.value(QStringLiteral("echo-a")), double(after.total.value(QStringLiteral("echo-a"))));
        QCOMPARE(
            rows.afterByBackend.value(QStringLiteral("echo-b")), double(after.total.value(QStringLiteral("echo-b"))));
        QCOMPARE(
            rows.afterByBackend.value(QStringLiteral("echo-a")) + rows.afterByBackend.value(QStringLiteral("echo-b")),
            double(kCalls));
        QMap<QString, double> realByRule;  // which rule took each group, from the groups' real backends
        for (const Group &g : kMix) {
            const QString backend = after.backendOf(g);
            QVERIFY2(!backend.isEmpty(), after.describe().constData());
            realByRule[g.proposedRule() + QLatin1Char('/') + backend] += g.count;
        }
        for (auto it = realByRule.begin(); it != realByRule.end(); ++it)
            QVERIFY2(rows.afterByRule.value(it.key()) == it.value(),
                qPrintable(it.key()
                    + QStringLiteral(": whatif %1, real %2").arg(rows.afterByRule.value(it.key())).arg(it.value())));
        double predicted = 0;
        for (double v : rows.afterByRule)
            predicted += v;
        QCOMPARE(predicted, double(kCalls));

        // Moved: exactly the header groups whose calls really changed backend, each
        // with its recorded count.
        QMap<QString, int> reallyMoved;
        for (const Group &g : kMix) {
            const QString was = before.backendOf(g), now = after.backendOf(g);
            QVERIFY2(!was.isEmpty(), before.describe().constData());
            if (was != now)
                reallyMoved[g.header()] = g.count;
        }
        QMap<QString, int> whatIfMoved;
        const QJsonObject moved = m_report.value(QStringLiteral("moved")).toObject();
        for (const QJsonValue &v : moved.value(QStringLiteral("requests")).toArray()) {
            const QJsonObject r = v.toObject();
            QCOMPARE(r.value(QStringLiteral("host")).toString(), QStringLiteral("echo.test"));
            QCOMPARE(r.value(QStringLiteral("path")).toString(), QStringLiteral("/meshscope.test.Echo/Call"));
            QVERIFY2(r.value(QStringLiteral("after")).toString().endsWith(QLatin1String("-> echo-b")),
                qPrintable(r.value(QStringLiteral("after")).toString()));
            whatIfMoved[headersText(r.value(QStringLiteral("headers")).toObject())]
                = r.value(QStringLiteral("count")).toInt();
        }
        QCOMPARE(whatIfMoved, reallyMoved);
        const QMap<QString, int> expectedMoved {
            {QStringLiteral("x-user=beta"), 37}, {QStringLiteral("x-tier=gold"), 15}};
        QCOMPARE(reallyMoved, expectedMoved);
        QCOMPARE(moved.value(QStringLiteral("count")).toInt(), 52);
        QCOMPARE(moved.value(QStringLiteral("distinct")).toInt(), 2);
        QCOMPARE(after.total.value(QStringLiteral("echo-b")), 52);
        QCOMPARE(after.total.value(QStringLiteral("echo-a")), 48);
        client.stop();
    }

    // --save-cases writes a route check per distinct request: they pass against
    // PROPOSED, each names the backend its group really reached, and CURRENT fails them.
    void savedCasesCheckTheProposal()
    {
        QVERIFY(!m_live.byGroup.isEmpty());
        const QString cases = path("cases.yaml");
        const Run save = cli(whatIfArgs("xds-grpc") + QStringList {QStringLiteral("--save-cases"), cases});
        QVERIFY2(save.status == 0, save.describe().constData());
        QVERIFY2(save.err.contains("wrote 5 route checks"), save.err.constData());

        const RouteCheckFile file = loadRouteChecks(cases.toStdString());
        QVERIFY2(file.ok(), file.error.c_str());
        QCOMPARE(file.cases.size(), size_t(kMix.size()));
        for (const Group &g : kMix) {
            std::map<std::string, std::string> headers;
            if (!g.key.isEmpty())
                headers[g.key.toStdString()] = g.value.toStdString();
            const auto c = std::find_if(file.cases.begin(), file.cases.end(),
                [&](const RouteCheckCase &c) { return c.request.headers == headers; });
            QVERIFY2(c != file.cases.end(), qPrintable(g.label()));
            QCOMPARE(c->request.host, std::string("echo.test"));
            QCOMPARE(c->request.method, std::string("POST"));
            QCOMPARE(QString::fromStdString(c->expect.rule.value_or(std::string())), g.proposedRule());
            QCOMPARE(QString::fromStdString(c->expect.backend.value_or(std::string())), m_live.backendOf(g));
        }

        const QStringList check {QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--cases"), cases,
            QStringLiteral("--target"), QStringLiteral("xds-grpc"), QStringLiteral("--routes")};
        const Run pass = cli(check + QStringList {m_proposed});
        QVERIFY2(pass.status == 0, pass.describe().constData());
        QVERIFY2(pass.out.contains("5 cases: 5 passed, 0 failed (xds-grpc)"), pass.out.constData());
        const Run fail = cli(check + QStringList {m_current});
        QVERIFY2(fail.status == 1, fail.describe().constData());
        // The two groups PROPOSED moves fail; the other three still pass.
        QVERIFY2(fail.out.contains("5 cases: 3 passed, 2 failed (xds-grpc)"), fail.out.constData());
        QStringList failed;
        for (const QByteArray &line : fail.out.split('\n')) {
            if (line.startsWith("FAIL"))
                failed << QString::fromUtf8(line);
        }
        QCOMPARE(failed.size(), 2);
        QVERIFY2(failed.filter(QStringLiteral("x-user=beta")).size() == 1, fail.out.constData());
        QVERIFY2(failed.filter(QStringLiteral("x-tier=gold ")).size() == 1, fail.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestWhatIf)
#include "tst_whatif.moc"

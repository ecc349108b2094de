// `meshscope-cli routes check` and `routes whatif` run as a user runs them: the real
// binary on the route files and cases in tests/data/routes-check and on recordings the
// test writes. check exits 0 when every case passes, 1 on a mismatch (naming expected
// and got), 2 on bad input with the file and line; whatif answers from the routes last
// applied in the recording, and what it saves with --save-cases passes check.

#include "common/cliprocess.h"
#include "session/recording.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

using namespace meshscope;

namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;

using Run = test::ProgramRun;

Run cli(const QStringList &args) { return test::runProgram(QString::fromUtf8(MESHSCOPE_CLI_PATH), args); }

QString data(const char *name)
{
    return QStringLiteral(MESHSCOPE_TEST_DATA_DIR "/routes-check/") + QString::fromLatin1(name);
}

std::string fileText(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

// One echo.test call as the test peers report it: the client's span and the server's.
std::vector<Span> call(uint8_t n, bool canary, int64_t ms)
{
    Span client;
    client.traceId[0] = n;
    client.traceId[1] = 0x7e;
    client.spanId = 100 + n;
    client.kind = SpanKind::Client;
    client.protocol = Protocol::Grpc;
    client.service = "caller";
    client.name = "meshscope.test.Echo/Call";
    client.authority = "echo.test";
    client.startNs = uint64_t(ms) * 1000000ull;
    client.endNs = client.startNs + 2000000ull;
    client.attributes = {{"rpc.system", "grpc"}, {"rpc.service", "meshscope.test.Echo"}, {"rpc.method", "Call"}};
    if (canary)
        client.attributes.push_back({"rpc.grpc.request.metadata.x-canary", "1"});
    Span server = client;
    server.spanId = 200 + n;
    server.parentSpanId = client.spanId;
    server.kind = SpanKind::Server;
    server.service = canary ? "echo-b" : "echo-a";
    return {client, server};
}

}  // namespace

class TestRoutesCheck : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void checkPasses();
    void checkFailsNamingExpectedAndGot();
    void badInput_data();
    void badInput();
    void whatIfUsesTheRoutesLastAppliedInTheRecording();
    void whatIfTextTable();
    void whatIfNeedsCurrentRoutesFromSomewhere();
    void savedCasesPassCheck();

private:
    QString path(const char *name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    QString write(const char *name, const char *text) const;
    QTemporaryDir m_dir;
    QString m_recording;  // with route applies
    QString m_bare;  // without
};

QString TestRoutesCheck::write(const char *name, const char *text) const
{
    QFile f(path(name));
    if (!f.open(QIODevice::WriteOnly) || f.write(text) < 0)
        qFatal("cannot write %s", name);
    return f.fileName();
}

// 16 calls over 8 seconds, 6 of them canaries; the proposal is applied first (version
// 6), then rolled back to echo-current.yaml (version 7): what the calls were routed by.
void TestRoutesCheck::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_recording = path("echo.msrec");
    m_bare = path("bare.msrec");
    for (const QString &file : {m_recording, m_bare}) {
        std::string error;
        auto w = RecordingWriter::create(file.toStdString(), nullptr, error, R"({"program":"test"})");
        QVERIFY2(w, error.c_str());
        if (file == m_recording) {
            w->recordRouteApply(6, "xds 127.0.0.1:18000", fileText(data("echo-proposed.yaml")), kT0Ms);
            w->recordRouteApply(7, "xds 127.0.0.1:18000", fileText(data("echo-current.yaml")), kT0Ms + 100);
        }
        for (uint8_t i = 0; i < 16; ++i) {
            const int64_t ms = kT0Ms + 200 + i * 500;
            w->ingestSpans(call(i + 1, i % 8 < 3, ms), ms, "otlp");
        }
        w->close();
        QVERIFY(w->lastError().empty());
    }
}

void TestRoutesCheck::checkPasses()
{
    for (const char *target : {"xds-grpc", "envoy", "generic"}) {
        const Run r = cli({QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--routes"),
            data("echo-proposed.yaml"), QStringLiteral("--cases"), data("echo-cases.yaml"), QStringLiteral("--target"),
            QString::fromLatin1(target)});
        QVERIFY2(r.status == 0, qPrintable(r.out + r.err));
        QCOMPARE(r.out.count(QStringLiteral("ok    ")), 4);
        QVERIFY2(r.out.contains(QStringLiteral("4 cases: 4 passed, 0 failed (%1)").arg(QLatin1String(target))),
            qPrintable(r.out));
    }
}

void TestRoutesCheck::checkFailsNamingExpectedAndGot()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--routes"),
        data("echo-proposed.yaml"), QStringLiteral("--cases"), data("echo-cases-failing.yaml")});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.out.contains(QStringLiteral("ok    plain call\n")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("FAIL  canary call still on echo-a (line 6): expected route default/echo, "
                                           "backend echo-a; got default/echo#0 canary -> echo-b\n")),
        qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("FAIL  only echo-a behind main (line 13): expected backends [echo-a]; got "
                                           "default/echo#1 main -> echo-a 75%, echo-b 25%\n")),
        qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("3 cases: 1 passed, 2 failed")), qPrintable(r.out));
}

void TestRoutesCheck::badInput_data()
{
    QTest::addColumn<QString>("routes");
    QTest::addColumn<QString>("cases");
    QTest::addColumn<QString>("reason");
    const QString proposed = data("echo-proposed.yaml");
    QTest::newRow("case without host") << proposed << data("cases-without-host.yaml")
                                       << QStringLiteral(
                                              "cases-without-host.yaml:8: tests[1].request: host is required");
    QTest::newRow("yaml syntax") << proposed << write("syntax.yaml", "tests:\n  - name: a\n    request: {host: x\n")
                                 << QStringLiteral("syntax.yaml:4: YAML syntax error");
    QTest::newRow("unknown field") << proposed
                                   << write("typo.yaml",
                                          "tests:\n  - name: a\n    request: {host: x, path: /}\n"
                                          "    expect: {backendd: echo-a}\n")
                                   << QStringLiteral("typo.yaml:4: tests[0].expect: unknown field 'backendd'");
    QTest::newRow("nothing expected") << proposed
                                      << write("empty-expect.yaml",
                                             "tests:\n  - request: {host: x, path: /}\n    expect: {}\n")
                                      << QStringLiteral("tests[0].expect: say what to expect");
    QTest::newRow("no cases") << proposed << write("none.yaml", "tests: []\n")
                              << QStringLiteral("none.yaml holds no cases");
    QTest::newRow("unreadable cases") << proposed << path("missing.yaml")
                                      << QStringLiteral("missing.yaml: cannot read the file");
    QTest::newRow("bad regex in the routes")
        << write("bad-regex.yaml",
               "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: echo}\nspec:\n"
               "  hostnames: [echo.test]\n  rules:\n    - name: broken\n      matches:\n"
               "        - path: {type: RegularExpression, value: '/(x'}\n      backendRefs: [{name: echo-a}]\n")
        << data("echo-cases.yaml")
        << QStringLiteral(
               "bad-regex.yaml:9: HTTPRoute default/echo rule 'broken' matches[0].path.value: regex does not "
               "compile under RE2");
}

void TestRoutesCheck::badInput()
{
    QFETCH(QString, routes);
    QFETCH(QString, cases);
    QFETCH(QString, reason);
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--routes"), routes,
        QStringLiteral("--cases"), cases});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains(reason), qPrintable(r.err));
    QVERIFY2(!r.out.contains(QStringLiteral("ok ")), qPrintable(r.out));
}

void TestRoutesCheck::whatIfUsesTheRoutesLastAppliedInTheRecording()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("whatif"), QStringLiteral("--routes"),
        data("echo-proposed.yaml"), QStringLiteral("--from"), m_recording, QStringLiteral("--target"),
        QStringLiteral("xds-grpc"), QStringLiteral("--format"), QStringLiteral("json")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QVERIFY2(
        r.err.contains(QStringLiteral("current routes: version 7 applied to xds 127.0.0.1:18000")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("16 requests (16 from 32 spans, 0 from access logs); not counted again: 16 "
                                           "server halves")),
        qPrintable(r.err));
    QJsonParseError error {};
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(o.value(QStringLiteral("requests")).toInt(), 16);
    QCOMPARE(o.value(QStringLiteral("distinct_requests")).toInt(), 2);
    QCOMPARE(o.value(QStringLiteral("unmatched_before")).toInt(), 0);
    double canaryAfter = -1, mainABefore = -1, mainAAfter = -1;
    for (const QJsonValue &v : o.value(QStringLiteral("rules")).toArray()) {
        const QJsonObject row = v.toObject();
        const QString key = row.value(QStringLiteral("rule_name")).toString() + QLatin1Char('/')
            + row.value(QStringLiteral("backend")).toString();
        if (key == QLatin1String("canary/echo-b"))
            canaryAfter = row.value(QStringLiteral("after")).toDouble();
        if (key == QLatin1String("main/echo-a")) {
            mainABefore = row.value(QStringLiteral("before")).toDouble();
            mainAAfter = row.value(QStringLiteral("after")).toDouble();
        }
    }
    QCOMPARE(canaryAfter, 6.0);
    QCOMPARE(mainABefore, 16.0);  // version 7, not version 6
    QCOMPARE(mainAAfter, 7.5);
    QCOMPARE(o.value(QStringLiteral("moved")).toObject().value(QStringLiteral("count")).toInt(), 16);
}

void TestRoutesCheck::whatIfTextTable()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("whatif"), QStringLiteral("--routes"),
        data("echo-proposed.yaml"), QStringLiteral("--current"), data("echo-current.yaml"), QStringLiteral("--from"),
        m_bare, QStringLiteral("--target"), QStringLiteral("envoy")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QVERIFY2(r.out.startsWith(QStringLiteral("envoy: 16 requests (2 distinct); no route: 0 before, 0 after\n")),
        qPrintable(r.out));
    QVERIFY2(
        r.out.contains(QStringLiteral("ROUTE         RULE       BACKEND  WEIGHT  BEFORE  AFTER")), qPrintable(r.out));
    QVERIFY2(
        r.out.contains(QStringLiteral("6 x POST echo.test /meshscope.test.Echo/Call [x-canary=1]")), qPrintable(r.out));
}

void TestRoutesCheck::whatIfNeedsCurrentRoutesFromSomewhere()
{
    const QStringList base {
        QStringLiteral("routes"), QStringLiteral("whatif"), QStringLiteral("--routes"), data("echo-proposed.yaml")};
    Run r = cli(base + QStringList {QStringLiteral("--from"), m_bare});
    QCOMPARE(r.status, 2);
    QVERIFY2(
        r.err.contains(QStringLiteral("holds no route apply, so the routes in effect are unknown; give --current F")),
        qPrintable(r.err));
    r = cli(base + QStringList {QStringLiteral("--duration"), QStringLiteral("1")});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains(QStringLiteral("routes whatif on live sources needs --current F")), qPrintable(r.err));
    r = cli(base + QStringList {QStringLiteral("--from"), write("not-a-recording.msrec", "hello")});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains(QStringLiteral("meshscope-cli routes: ")), qPrintable(r.err));
    r = cli(base
        + QStringList {
            QStringLiteral("--from"), m_bare, QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0")});
    QCOMPARE(r.status, 2);
    QVERIFY2(
        r.err.contains(QStringLiteral("--from reads a recording; --otlp-listen is a live source")), qPrintable(r.err));
    r = cli({QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--routes"), data("echo-proposed.yaml"),
        QStringLiteral("--cases"), data("echo-cases.yaml"), QStringLiteral("--from"), m_bare});
    QCOMPARE(r.status, 2);
    QVERIFY2(r.err.contains(QStringLiteral("'--from' is not an option of 'routes check'")), qPrintable(r.err));
}

void TestRoutesCheck::savedCasesPassCheck()
{
    const QString cases = path("saved-cases.yaml");
    Run r = cli({QStringLiteral("routes"), QStringLiteral("whatif"), QStringLiteral("--routes"),
        data("echo-proposed.yaml"), QStringLiteral("--from"), m_recording, QStringLiteral("--save-cases"), cases});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("wrote 2 route checks to %1").arg(cases)), qPrintable(r.err));
    r = cli({QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--routes"), data("echo-proposed.yaml"),
        QStringLiteral("--cases"), cases});
    QVERIFY2(r.status == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains(QStringLiteral("2 cases: 2 passed, 0 failed")), qPrintable(r.out));
    // The routes in effect route the canaries elsewhere: the saved cases catch it.
    r = cli({QStringLiteral("routes"), QStringLiteral("check"), QStringLiteral("--routes"), data("echo-current.yaml"),
        QStringLiteral("--cases"), cases});
    QCOMPARE(r.status, 1);
    QVERIFY2(r.out.contains(QStringLiteral("2 cases: 0 passed, 2 failed")), qPrintable(r.out));
}

QTEST_GUILESS_MAIN(TestRoutesCheck)
#include "tst_routescheck.moc"

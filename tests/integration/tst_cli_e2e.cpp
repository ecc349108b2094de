// End to end through the shipped executables: meshscope-cli listens for OTLP,
// meshscope-demo sends its scenario's traffic to it, and the graph JSON the CLI
// prints is checked edge by edge. Also the CLI's documented failure contract:
// a bad option or an address that cannot be bound exits non-zero with one line.

#include "common/cliprocess.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QtTest>

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif
#ifndef MESHSCOPE_DEMO_PATH
#error "MESHSCOPE_DEMO_PATH must name the meshscope-demo binary"
#endif

namespace {

QString cliPath() { return QString::fromUtf8(MESHSCOPE_CLI_PATH); }

QString demoPath() { return QString::fromUtf8(MESHSCOPE_DEMO_PATH); }

struct Graph {
    QJsonArray nodes;
    QJsonArray edges;

    QJsonObject node(const QString &id) const
    {
        for (const QJsonValue &v : nodes) {
            if (v.toObject().value(QLatin1String("id")).toString() == id)
                return v.toObject();
        }
        return {};
    }
    QJsonObject edge(const QString &source, const QString &target) const
    {
        for (const QJsonValue &v : edges) {
            const QJsonObject e = v.toObject();
            if (e.value(QLatin1String("source")).toString() == source
                && e.value(QLatin1String("target")).toString() == target)
                return e;
        }
        return {};
    }
    QString describeEdges() const
    {
        QStringList out;
        for (const QJsonValue &v : edges) {
            const QJsonObject e = v.toObject();
            out << e.value(QLatin1String("source")).toString() + QLatin1String("->")
                    + e.value(QLatin1String("target")).toString() + QLatin1Char(' ')
                    + e.value(QLatin1String("direction")).toString() + QLatin1Char(' ')
                    + QString::number(e.value(QLatin1String("requests")).toDouble());
        }
        return out.join(QLatin1String("\n  "));
    }
};

QString str(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toString(); }

double num(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toDouble(); }

bool isOneLine(const QByteArray &text)
{
    const QByteArray t = text.trimmed();
    return !t.isEmpty() && !t.contains('\n');
}

}  // namespace

class TestCliEndToEnd : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void bogusOptionFailsWithOneLine();
    void addressInUseFailsWithOneLine();
    void addressInUseByAnotherCli();
    void dotFormatWithoutTraffic();
    void demoTrafficEndToEnd();
};

void TestCliEndToEnd::initTestCase()
{
    QVERIFY2(QFileInfo(cliPath()).isExecutable(), qPrintable(cliPath()));
    QVERIFY2(QFileInfo(demoPath()).isExecutable(), qPrintable(demoPath()));
}

void TestCliEndToEnd::bogusOptionFailsWithOneLine()
{
    QProcess p;
    p.start(cliPath(), {QStringLiteral("graph"), QStringLiteral("--bogus")});
    QVERIFY(p.waitForFinished(15000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QVERIFY(p.exitCode() != 0);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(isOneLine(err), err.constData());
    QVERIFY2(err.contains("--bogus"), err.constData());
    QVERIFY(p.readAllStandardOutput().isEmpty());
}

void TestCliEndToEnd::addressInUseFailsWithOneLine()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    const QString addr = QStringLiteral("127.0.0.1:%1").arg(squatter.serverPort());
    QProcess p;
    QElapsedTimer timer;
    timer.start();
    p.start(cliPath(),
        {QStringLiteral("graph"), QStringLiteral("--otlp-listen"), addr, QStringLiteral("--duration"),
            QStringLiteral("20")});
    QVERIFY(p.waitForFinished(15000));
    // It gave up at once rather than running for its duration.
    QVERIFY(timer.elapsed() < 15000);
    QVERIFY(p.exitCode() != 0);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(isOneLine(err), err.constData());
    QVERIFY2(err.contains(addr.toUtf8()), err.constData());
    QVERIFY(p.readAllStandardOutput().isEmpty());
}

void TestCliEndToEnd::addressInUseByAnotherCli()
{
    // A second meshscope-cli on the port of a running one must not share it.
    QProcess first;
    first.start(cliPath(),
        {QStringLiteral("graph"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--duration"), QStringLiteral("10")});
    QVERIFY(first.waitForStarted());
    // Whatever the outcome, the first one does not outlive the test.
    const auto stopFirst = qScopeGuard([&first] {
        first.kill();
        first.waitForFinished(5000);
    });
    QByteArray firstErr;
    const int port = meshscope::test::waitForListeningPort(first, &firstErr);
    QVERIFY2(port > 0, firstErr.constData());

    QProcess second;
    second.start(cliPath(),
        {QStringLiteral("graph"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:%1").arg(port),
            QStringLiteral("--duration"), QStringLiteral("2")});
    QVERIFY(second.waitForFinished(15000));
    const QByteArray err = second.readAllStandardError();
    QVERIFY2(second.exitCode() != 0,
        qPrintable(QStringLiteral("second meshscope-cli bound port %1 too: %2")
                       .arg(port)
                       .arg(QString::fromUtf8(err.trimmed()))));
    QVERIFY2(isOneLine(err), err.constData());
}

void TestCliEndToEnd::dotFormatWithoutTraffic()
{
    QProcess p;
    p.start(cliPath(),
        {QStringLiteral("graph"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--duration"), QStringLiteral("0.5"), QStringLiteral("--format"), QStringLiteral("dot")});
    QVERIFY(p.waitForFinished(15000));
    QCOMPARE(p.exitCode(), 0);
    const QByteArray out = p.readAllStandardOutput();
    QVERIFY2(out.startsWith("digraph"), out.constData());
    QVERIFY(out.trimmed().endsWith('}'));
    QVERIFY(!out.contains("->"));
}

void TestCliEndToEnd::demoTrafficEndToEnd()
{
    QProcess cli;
    cli.start(cliPath(),
        {QStringLiteral("graph"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--duration"), QStringLiteral("8"), QStringLiteral("--format"), QStringLiteral("json")});
    QVERIFY(cli.waitForStarted());
    QByteArray cliErr;
    const int port = meshscope::test::waitForListeningPort(cli, &cliErr);
    QVERIFY2(port > 0, cliErr.constData());

    QProcess demo;
    demo.setProcessChannelMode(QProcess::MergedChannels);
    demo.start(demoPath(),
        {QStringLiteral("--target"), QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--duration"),
            QStringLiteral("5"), QStringLiteral("--rate"), QStringLiteral("80"), QStringLiteral("--seed"),
            QStringLiteral("7")});
    QVERIFY(demo.waitForStarted());
    QVERIFY2(demo.waitForFinished(60000), "meshscope-demo did not finish");
    const QByteArray demoOut = demo.readAll();
    QCOMPARE(demo.exitStatus(), QProcess::NormalExit);
    QVERIFY2(demo.exitCode() == 0, demoOut.constData());

    QVERIFY2(cli.waitForFinished(60000), "meshscope-cli did not finish");
    cliErr += cli.readAllStandardError();
    QVERIFY2(cli.exitCode() == 0, cliErr.constData());
    const QByteArray json = cli.readAllStandardOutput();
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &perr);
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    Graph g {
        doc.object().value(QLatin1String("nodes")).toArray(), doc.object().value(QLatin1String("edges")).toArray()};
    const QByteArray context = "edges:\n  " + g.describeEdges().toUtf8() + "\ncli stderr: " + cliErr
        + "\ndemo output: " + demoOut.left(2000);
    QVERIFY2(!g.edges.isEmpty(), context.constData());

    const QString gw = QStringLiteral("istio-system/istio-ingressgateway@v1");
    const QString frontend = QStringLiteral("shop/frontend@v1");

    // North: outside world into the ingress gateway, and the gateway into the mesh.
    const QJsonObject inbound = g.edge(QStringLiteral("external"), gw);
    QVERIFY2(!inbound.isEmpty(), context.constData());
    QCOMPARE(str(inbound, "direction"), QStringLiteral("north_south"));
    QVERIFY(num(inbound, "requests") > 0);
    const QJsonObject toFrontend = g.edge(gw, frontend);
    QVERIFY2(!toFrontend.isEmpty(), context.constData());
    QCOMPARE(str(toFrontend, "direction"), QStringLiteral("north_south"));

    // East-west: frontend calls at least one service in its own namespace.
    int eastWestFromFrontend = 0;
    for (const QJsonValue &v : g.edges) {
        const QJsonObject e = v.toObject();
        if (str(e, "source") == frontend && str(e, "target").startsWith(QLatin1String("shop/"))) {
            QCOMPARE(str(e, "direction"), QStringLiteral("east_west"));
            ++eastWestFromFrontend;
        }
    }
    QVERIFY2(eastWestFromFrontend > 0, context.constData());

    // South: the database and the payment provider, outside the mesh.
    bool sawPostgres = false, sawProvider = false;
    for (const QJsonValue &v : g.edges) {
        const QJsonObject e = v.toObject();
        if (str(e, "target") == QLatin1String("ext:postgres")) {
            sawPostgres = true;
            QCOMPARE(str(e, "direction"), QStringLiteral("north_south"));
        }
        if (str(e, "target") == QLatin1String("ext:api.payments-provider.example")) {
            sawProvider = true;
            QCOMPARE(str(e, "direction"), QStringLiteral("north_south"));
        }
    }
    QVERIFY2(sawPostgres, context.constData());
    QVERIFY2(sawProvider, context.constData());
    QCOMPARE(str(g.node(QStringLiteral("ext:postgres")), "kind"), QStringLiteral("external-service"));

    // Canary: reviews v1 and v2 both serve, v1 most of the traffic.
    const QJsonObject v1 = g.node(QStringLiteral("shop/reviews@v1"));
    const QJsonObject v2 = g.node(QStringLiteral("shop/reviews@v2"));
    QVERIFY2(!v1.isEmpty() && !v2.isEmpty(), context.constData());
    QVERIFY(num(v2, "requests") > 0);
    QVERIFY2(num(v1, "requests") > num(v2, "requests"),
        qPrintable(QStringLiteral("reviews v1 %1, v2 %2").arg(num(v1, "requests")).arg(num(v2, "requests"))));

    // Payments fails a little: its inbound error rate, over all its versions.
    double payRequests = 0, payErrors = 0;
    for (const QJsonValue &v : g.nodes) {
        const QJsonObject n = v.toObject();
        if (str(n, "name") == QLatin1String("payments") && str(n, "kind") != QLatin1String("external-service")) {
            payRequests += num(n, "requests");
            payErrors += num(n, "requests") * num(n, "error_rate");
        }
    }
    QVERIFY2(payRequests > 0, context.constData());
    const double payRate = payErrors / payRequests;
    QVERIFY2(payRate >= 0.01 && payRate <= 0.15, qPrintable(QStringLiteral("payments error rate %1").arg(payRate)));

    // Both Istio gateways are shown as gateways.
    QStringList istioGateways;
    for (const QJsonValue &v : g.nodes) {
        const QJsonObject n = v.toObject();
        const QString name = str(n, "name");
        if (name.startsWith(QLatin1String("istio-")) && name.contains(QLatin1String("gateway"))) {
            istioGateways << name;
            QCOMPARE(str(n, "kind"), QStringLiteral("gateway"));
        }
    }
    istioGateways.removeDuplicates();
    QVERIFY2(istioGateways.size() >= 2, qPrintable(istioGateways.join(QLatin1Char(','))));
    QVERIFY(istioGateways.contains(QLatin1String("istio-ingressgateway")));

    // Every edge names nodes that are in the document, and rates are fractions.
    QSet<QString> ids;
    for (const QJsonValue &v : g.nodes)
        ids.insert(str(v.toObject(), "id"));
    for (const QJsonValue &v : g.edges) {
        const QJsonObject e = v.toObject();
        QVERIFY(ids.contains(str(e, "source")));
        QVERIFY(ids.contains(str(e, "target")));
        QVERIFY(num(e, "error_rate") >= 0 && num(e, "error_rate") <= 1);
    }
}

QTEST_GUILESS_MAIN(TestCliEndToEnd)
#include "tst_cli_e2e.moc"

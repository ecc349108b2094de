// The Caddy backend against a real Caddy (Debian's caddy 2.6.2) started by the test
// on loopback ports: one config holds the admin endpoint, the server "main" whose
// routes meshscope manages, and two more servers answering "A" and "B" as upstreams.
// Through meshscope-cli: pull prints YAML naming upstream A; a dry run prints the
// diff and changes nothing; apply makes a request through Caddy reach B and records
// the change; rollback brings A back. Through the API: a stale ETag is refused with
// the documented message, and invalid routes (one the validator catches, one only
// Caddy rejects) leave Caddy's config byte-identical.

#include "common/testcaddy.h"
#include "routing/caddy/caddyadmin.h"
#include "routing/yaml/routeyaml.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

using namespace meshscope::routing;
using meshscope::test::TestCaddy;

class TestCaddyAdmin : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void pullPrintsYamlNamingUpstreamA();
    void unknownServerIsNamed();
    void dryRunPrintsDiffAndChangesNothing();
    void applyReachesTheNewUpstream();
    void staleEtagIsRefused();
    void invalidRoutesLeaveConfigUnchanged();
    void rollbackRestoresA();
    void fileWithoutEtagNeedsForce();
    void pulledFileKeepsSecretsOut();
    void hostNotAllowedIsExplained();

private:
    struct Run {
        int code = -1;
        QString out;
        QString err;
    };
    Run cli(const QStringList &args);
    // One request to server "main" for host shop.test; the body names the upstream.
    QByteArray throughCaddy() const { return m_caddy.request("shop.test"); }
    QByteArray routesBody() const { return m_caddy.routesBody(); }
    QString path(const char *name) const { return m_dir.filePath(QLatin1String(name)); }

    QTemporaryDir m_dir;
    TestCaddy m_caddy;
    CaddyAdminConfig m_admin;
    QString m_adminUrl;
    int m_portA = 0, m_portB = 0;
};

namespace {

QString text(const char *s) { return QString::fromUtf8(s); }

}  // namespace

TestCaddyAdmin::Run TestCaddyAdmin::cli(const QStringList &args)
{
    QProcess p;
    p.start(QString::fromUtf8(MESHSCOPE_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(30000)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("meshscope-cli did not finish");
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

void TestCaddyAdmin::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString error;
    QVERIFY2(m_caddy.start(
                 m_dir.path(), {{QStringLiteral("shop"), QStringLiteral("shop.test"), TestCaddy::Upstream::A}}, &error),
        qPrintable(error));
    m_admin = m_caddy.admin();
    m_adminUrl = m_caddy.adminUrl();
    m_portA = m_caddy.portA();
    m_portB = m_caddy.portB();
}

void TestCaddyAdmin::cleanupTestCase() { m_caddy.stop(); }

void TestCaddyAdmin::pullPrintsYamlNamingUpstreamA()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("pull"), QStringLiteral("--caddy-admin"), m_adminUrl,
        QStringLiteral("--server"), QStringLiteral("main")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains(text("kind: HTTPRoute")));
    QVERIFY(r.out.contains(text("- shop.test")));
    QVERIFY(r.out.contains(text("name: shop")));
    QVERIFY2(r.out.contains(QStringLiteral("port: %1").arg(m_portA)), qPrintable(r.out));
    QVERIFY(!r.out.contains(QStringLiteral("port: %1").arg(m_portB)));
    // The ETag it was read at, as Caddy computes it for the body it serves now.
    const QString etag = CaddyAdmin::etagFor(CaddyAdmin::routesPath(QStringLiteral("main")), routesBody());
    QVERIFY2(r.out.contains(text("# meshscope.io/caddy-etag: ") + etag), qPrintable(r.out));
    QFile f(path("pulled.yaml"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(r.out.toUtf8());
    f.close();
    // What was printed loads as a route file equal to the API's own pull.
    const RouteLoadResult loaded = loadRouteFile(path("pulled.yaml").toStdString());
    QVERIFY(loaded.ok());
    const CaddyResult api = CaddyAdmin::pullRoutesSync(m_admin, QStringLiteral("main"));
    QVERIFY2(api.ok(), qPrintable(api.message));
    QVERIFY(api.routes == loaded.set);
    QCOMPARE(api.version.etag, etag);
}

void TestCaddyAdmin::unknownServerIsNamed()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("pull"), QStringLiteral("--caddy-admin"), m_adminUrl,
        QStringLiteral("--server"), QStringLiteral("nosuch")});
    QCOMPARE(r.code, 1);
    QVERIFY2(
        r.err.contains(
            QStringLiteral("Caddy at %1 has no HTTP server named 'nosuch' (its servers: a, b, main)").arg(m_adminUrl)),
        qPrintable(r.err));
    QCOMPARE(r.err.trimmed().count(QLatin1Char('\n')), 0);
}

void TestCaddyAdmin::dryRunPrintsDiffAndChangesNothing()
{
    QFile in(path("pulled.yaml"));
    QVERIFY(in.open(QIODevice::ReadOnly));
    QString yaml = QString::fromUtf8(in.readAll());
    yaml.replace(QStringLiteral("port: %1").arg(m_portA), QStringLiteral("port: %1").arg(m_portB));
    QFile out(path("edited.yaml"));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(yaml.toUtf8());
    out.close();

    const QByteArray before = routesBody();
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("apply"), QStringLiteral("--caddy-admin"), m_adminUrl,
        QStringLiteral("--server"), QStringLiteral("main"), QStringLiteral("--file"), path("edited.yaml"),
        QStringLiteral("--dir"), path("history"), QStringLiteral("--dry-run")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral("EndpointSlice default/shop: port %1 -> %2").arg(m_portA).arg(m_portB)),
        qPrintable(r.out));
    QVERIFY(r.out.contains(QStringLiteral("-  - port: %1").arg(m_portA)));
    QVERIFY(r.out.contains(QStringLiteral("+  - port: %1").arg(m_portB)));
    QVERIFY(r.out.contains(text("dry run: Caddy server 'main' not changed")));
    QCOMPARE(routesBody(), before);
    QCOMPARE(throughCaddy(), QByteArray("A"));
    QVERIFY(!QFile::exists(path("history/route-history.jsonl")));
}

void TestCaddyAdmin::applyReachesTheNewUpstream()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("apply"), QStringLiteral("--caddy-admin"), m_adminUrl,
        QStringLiteral("--server"), QStringLiteral("main"), QStringLiteral("--file"), path("edited.yaml"),
        QStringLiteral("--dir"), path("history")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out.contains(text("applied to Caddy server 'main' as change 1")));
    QCOMPARE(throughCaddy(), QByteArray("B"));
    QVERIFY(routesBody().contains(QStringLiteral("127.0.0.1:%1").arg(m_portB).toUtf8()));

    const Run h = cli({QStringLiteral("routes"), QStringLiteral("history"), QStringLiteral("--dir"), path("history")});
    QCOMPARE(h.code, 0);
    QVERIFY2(h.out.contains(QStringLiteral("caddy %1 main").arg(m_adminUrl)), qPrintable(h.out));
    QVERIFY(h.out.contains(QStringLiteral("port %1 -> %2").arg(m_portA).arg(m_portB)));

    // Applying the same file again changes nothing and records nothing.
    const Run again = cli({QStringLiteral("routes"), QStringLiteral("apply"), QStringLiteral("--caddy-admin"),
        m_adminUrl, QStringLiteral("--server"), QStringLiteral("main"), QStringLiteral("--file"), path("edited.yaml"),
        QStringLiteral("--dir"), path("history")});
    QCOMPARE(again.code, 0);
    QVERIFY(again.out.contains(text("no change")));
}

void TestCaddyAdmin::staleEtagIsRefused()
{
    const QString server = QStringLiteral("main");
    const CaddyResult pulled = CaddyAdmin::pullRoutesSync(m_admin, server);
    QVERIFY2(pulled.ok(), qPrintable(pulled.message));

    // Someone else changes the routes between our pull and our apply.
    const CaddyResult underneath = CaddyAdmin::requestSync(
        m_admin, "PUT", CaddyAdmin::routesPath(server) + QStringLiteral("/0/terminal"), QByteArrayLiteral("true"));
    QVERIFY2(underneath.ok(), qPrintable(underneath.message));
    const QByteArray changed = routesBody();
    QVERIFY(changed != pulled.body);

    RouteSet next = pulled.routes;
    QVERIFY(!next.endpointSlices.empty());
    next.endpointSlices[0].port = m_portA;
    const CaddyResult r = CaddyAdmin::applyRoutesSync(m_admin, server, next, pulled.version);
    QCOMPARE(int(r.kind), int(CaddyResult::Error::EtagMismatch));
    QCOMPARE(r.httpStatus, 412);
    QCOMPARE(r.message,
        text("Caddy's routes for server main changed since they were read (ETag mismatch); pull again and reapply"));
    QCOMPARE(routesBody(), changed);
    QCOMPARE(throughCaddy(), QByteArray("B"));

    // The CLI refuses the same way with a file pulled before the change.
    const Run cliRun = cli({QStringLiteral("routes"), QStringLiteral("apply"), QStringLiteral("--caddy-admin"),
        m_adminUrl, QStringLiteral("--server"), server, QStringLiteral("--file"), path("pulled.yaml"),
        QStringLiteral("--dir"), path("history")});
    QCOMPARE(cliRun.code, 1);
    QVERIFY2(cliRun.err.contains(r.message), qPrintable(cliRun.err));
    QCOMPARE(routesBody(), changed);
}

void TestCaddyAdmin::invalidRoutesLeaveConfigUnchanged()
{
    const QString server = QStringLiteral("main");
    const QByteArray before = routesBody();
    const CaddyResult pulled = CaddyAdmin::pullRoutesSync(m_admin, server);
    QVERIFY2(pulled.ok(), qPrintable(pulled.message));
    QVERIFY(!pulled.routes.routes.empty());

    // A regex RE2 cannot compile: refused before anything is sent.
    RouteSet badRegex = pulled.routes;
    badRegex.routes[0].rules[0].matches.at(0).path = PathMatch {PathMatchType::RegularExpression, "/api/(v1"};
    const CaddyResult r1 = CaddyAdmin::applyRoutesSync(m_admin, server, badRegex, pulled.version);
    QCOMPARE(int(r1.kind), int(CaddyResult::Error::Invalid));
    QVERIFY2(
        r1.message.contains(text("regex does not compile under RE2: missing ): /api/(v1")), qPrintable(r1.message));
    QCOMPARE(r1.httpStatus, 0);
    QCOMPARE(routesBody(), before);

    // RE2 accepts \C (any byte); Go's regexp, which Caddy uses, does not. Caddy
    // refuses the whole array and keeps its old config.
    RouteSet caddyRejects = pulled.routes;
    caddyRejects.routes[0].rules[0].matches.at(0).path = PathMatch {PathMatchType::RegularExpression, "/x\\C"};
    const CaddyResult r2 = CaddyAdmin::applyRoutesSync(m_admin, server, caddyRejects, pulled.version);
    QCOMPARE(int(r2.kind), int(CaddyResult::Error::Rejected));
    QVERIFY(r2.httpStatus >= 400);
    QVERIFY2(r2.message.startsWith(text("Caddy refused the routes for server main and kept its config (HTTP ")),
        qPrintable(r2.message));
    QVERIFY2(r2.caddyError.contains(text("invalid escape sequence")), qPrintable(r2.caddyError));
    QVERIFY(r2.message.contains(r2.caddyError));
    QVERIFY(!r2.message.contains(QLatin1Char('\n')));
    QCOMPARE(routesBody(), before);
    QCOMPARE(throughCaddy(), QByteArray("B"));

    // The CLI with an invalid file: one-line reason per issue, exit 1, nothing changed.
    QFile in(path("edited.yaml"));
    QVERIFY(in.open(QIODevice::ReadOnly));
    QString yaml = QString::fromUtf8(in.readAll());
    yaml.replace(
        text("type: PathPrefix\n            value: /"), text("type: RegularExpression\n            value: '/api/(v1'"));
    QVERIFY(yaml.contains(text("/api/(v1")));
    QFile out(path("invalid.yaml"));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(yaml.toUtf8());
    out.close();
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("apply"), QStringLiteral("--caddy-admin"), m_adminUrl,
        QStringLiteral("--server"), server, QStringLiteral("--file"), path("invalid.yaml"), QStringLiteral("--dir"),
        path("history")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(text("regex does not compile under RE2")), qPrintable(r.err));
    QVERIFY(r.err.contains(text("not applied")));
    QCOMPARE(routesBody(), before);
}

void TestCaddyAdmin::rollbackRestoresA()
{
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("rollback"), QStringLiteral("--dir"), path("history"),
        QStringLiteral("--id"), QStringLiteral("1")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(
        r.out.contains(text("rolled back change 1 on Caddy server 'main'; recorded as change 2")), qPrintable(r.out));
    QCOMPARE(throughCaddy(), QByteArray("A"));
    const CaddyResult now = CaddyAdmin::pullRoutesSync(m_admin, QStringLiteral("main"));
    QVERIFY2(now.ok(), qPrintable(now.message));
    QCOMPARE(now.routes.endpointSlices.at(0).port, m_portA);

    const Run h = cli({QStringLiteral("routes"), QStringLiteral("history"), QStringLiteral("--dir"), path("history")});
    QVERIFY2(h.out.contains(text("(rollback of 1)")), qPrintable(h.out));
}

void TestCaddyAdmin::fileWithoutEtagNeedsForce()
{
    // A pulled file whose ETag line was deleted: applying it against a pull made now
    // would overwrite whatever changed since, unseen, so it takes --force.
    const Run pulled = cli({QStringLiteral("routes"), QStringLiteral("pull"), QStringLiteral("--caddy-admin"),
        m_adminUrl, QStringLiteral("--server"), QStringLiteral("main")});
    QVERIFY2(pulled.code == 0, qPrintable(pulled.err));
    QStringList lines;
    for (const QString &line : pulled.out.split(QLatin1Char('\n'))) {
        if (!line.startsWith(text("# meshscope.io/caddy-etag:")))
            lines << line;
    }
    QCOMPARE(lines.size(), pulled.out.split(QLatin1Char('\n')).size() - 1);
    QString yaml = lines.join(QLatin1Char('\n'));
    QVERIFY(yaml.contains(QStringLiteral("port: %1").arg(m_portA)));
    yaml.replace(QStringLiteral("port: %1").arg(m_portA), QStringLiteral("port: %1").arg(m_portB));
    QFile out(path("no-etag.yaml"));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(yaml.toUtf8());
    out.close();

    const QByteArray before = routesBody();
    const QStringList apply = {QStringLiteral("routes"), QStringLiteral("apply"), QStringLiteral("--caddy-admin"),
        m_adminUrl, QStringLiteral("--server"), QStringLiteral("main"), QStringLiteral("--file"), path("no-etag.yaml"),
        QStringLiteral("--dir"), path("history-force")};
    const Run refused = cli(apply);
    QCOMPARE(refused.code, 1);
    QVERIFY2(
        refused.err.contains(
            QStringLiteral("not applied: %1 carries no '# meshscope.io/caddy-etag:' line").arg(path("no-etag.yaml"))),
        qPrintable(refused.err));
    QVERIFY2(refused.err.contains(text("--force")), qPrintable(refused.err));
    QCOMPARE(routesBody(), before);
    QCOMPARE(throughCaddy(), QByteArray("A"));
    QVERIFY(!QFile::exists(path("history-force/route-history.jsonl")));

    // A dry run says the same as a warning and still shows the diff.
    const Run dry = cli(apply + QStringList {QStringLiteral("--dry-run")});
    QCOMPARE(dry.code, 0);
    QVERIFY2(dry.err.contains(text("warning: ")) && dry.err.contains(text("--force")), qPrintable(dry.err));
    QVERIFY(dry.out.contains(QStringLiteral("+  - port: %1").arg(m_portB)));

    const Run forced = cli(apply + QStringList {QStringLiteral("--force")});
    QVERIFY2(forced.code == 0, qPrintable(forced.err));
    QVERIFY(forced.out.contains(text("applied to Caddy server 'main' as change 1")));
    QCOMPARE(throughCaddy(), QByteArray("B"));
}

void TestCaddyAdmin::pulledFileKeepsSecretsOut()
{
    // Caddy ignores the query; the pulled file's header must not carry its secret.
    const QString url = m_adminUrl + QStringLiteral("/?api_key=s3cret-value&x=1");
    const Run r = cli({QStringLiteral("routes"), QStringLiteral("pull"), QStringLiteral("--caddy-admin"), url,
        QStringLiteral("--server"), QStringLiteral("main"), QStringLiteral("--output"), path("secret.yaml")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QFile f(path("secret.yaml"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray written = f.readAll();
    QVERIFY2(!written.contains("s3cret-value"), written.constData());
    QVERIFY2(written.contains("api_key=***"), written.constData());
    QVERIFY(!r.err.contains(text("s3cret-value")));
}

void TestCaddyAdmin::hostNotAllowedIsExplained()
{
    // Last: this replaces the whole config. With admin.origins set, Caddy accepts
    // only those Host values and answers 403 to the address we dial.
    const QString admin = m_admin.url.authority();
    const QByteArray config = QStringLiteral(R"({"admin": {"listen": "%1", "origins": ["meshscope.invalid:1"],
        "config": {"persist": false}}})")
                                  .arg(admin)
                                  .toUtf8();
    const CaddyResult loaded = CaddyAdmin::requestSync(m_admin, "POST", QStringLiteral("/load"), config);
    QVERIFY2(loaded.ok(), qPrintable(loaded.message));
    CaddyResult r;
    QElapsedTimer t;
    t.start();
    do {
        r = CaddyAdmin::pullRoutesSync(m_admin, QStringLiteral("main"));
        if (r.kind != CaddyResult::Error::HostNotAllowed)
            QTest::qWait(100);
    } while (r.kind != CaddyResult::Error::HostNotAllowed && t.elapsed() < 10000);
    QCOMPARE(int(r.kind), int(CaddyResult::Error::HostNotAllowed));
    QCOMPARE(r.httpStatus, 403);
    QVERIFY2(
        r.message.contains(QStringLiteral("answered 403 \"host not allowed: %1\"").arg(admin)), qPrintable(r.message));
    QVERIFY(r.message.contains(text("admin listen address")));
}

QTEST_GUILESS_MAIN(TestCaddyAdmin)
#include "tst_caddyadmin.moc"

// The programs' shared command line (app/common): every source and TLS flag reaches
// its field, a bad value or combination fails with one specific line, --log refuses
// an unknown category, and --help lists every flag the parser takes.

#include "commandline.h"
#include "model/logging.h"
#include "sourceoptions.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace meshscope;

namespace {

constexpr SourceFlags kAll = SourceFlag::Receivers | SourceFlag::ReceiverTls | SourceFlag::MessageLimit
    | SourceFlag::Prometheus | SourceFlag::PrometheusQuery | SourceFlag::EnvoyAdmin;

// Parses args as a program taking every source family does; the reason on failure.
QString parseSources(const QStringList &args, SourceOptions *out, SourceFlags flags = kAll)
{
    CommandLine commandLine(QStringLiteral("meshscope-test"), QStringLiteral("usage: meshscope-test [options]"));
    SourceOptions::declare(commandLine, flags);
    if (!commandLine.parse(args))
        return commandLine.error();
    return out->read(commandLine, flags);
}

}  // namespace

class TestAppOptions : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void defaultsWhenNothingIsGiven();
    void everyFlagReachesItsField();
    void equalsAndSpaceReadAlike();
    void requestIdTracesGoWithTheAccessLogReceiver();
    void badValuesGiveSpecificErrors_data();
    void badValuesGiveSpecificErrors();
    void familiesNotDeclaredAreUnknown();
    void logEnablesCategoriesAndRefusesUnknownOnes();
    void helpListsEveryFlag();
    void helpAndVersion();
    void subcommandsKeepTheirArguments();
    void tlsClientFamilyStandsAlone();

private:
    QString pem(const char *name) const { return m_dir.filePath(QLatin1String(name)); }

    QTemporaryDir m_dir;
};

void TestAppOptions::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // Only existence and readability are checked when the flags are read.
    for (const char *name : {"ca.pem", "cert.pem", "key.pem", "client-ca.pem"}) {
        QFile f(pem(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("-----BEGIN CERTIFICATE-----\n");
    }
}

void TestAppOptions::cleanup() { QLoggingCategory::setFilterRules(QString()); }

void TestAppOptions::defaultsWhenNothingIsGiven()
{
    SourceOptions o;
    QCOMPARE(parseSources({}, &o), QString());
    QCOMPARE(o.otlpListen, QStringLiteral("127.0.0.1:4317"));
    QVERIFY(!o.otlpListenGiven);
    QVERIFY(o.alsListen.isEmpty());
    QVERIFY(!o.alsRequestIdTraces);
    QCOMPARE(o.maxMessageBytes, size_t(16u * 1024 * 1024));
    QVERIFY(!o.receiverTls.enabled());
    QVERIFY(o.prometheusUrl.isEmpty());
    QCOMPARE(o.mesh, MeshKind::Auto);
    QVERIFY(!o.prometheusAt);
    QCOMPARE(o.prometheusTimeoutMs, PrometheusConfig {}.timeoutMs);
    QVERIFY(o.envoyAdminUrl.isEmpty());
}

void TestAppOptions::everyFlagReachesItsField()
{
    SourceOptions o;
    const QStringList args = {
        QStringLiteral("--otlp-listen"),
        QStringLiteral("0.0.0.0:14317"),
        QStringLiteral("--als-listen"),
        QStringLiteral("127.0.0.1:0"),
        QStringLiteral("--als-request-id-traces"),
        QStringLiteral("--max-message-bytes"),
        QStringLiteral("4096"),
        QStringLiteral("--tls-cert"),
        pem("cert.pem"),
        QStringLiteral("--tls-key"),
        pem("key.pem"),
        QStringLiteral("--tls-client-ca"),
        pem("client-ca.pem"),
        QStringLiteral("--tls-require-client-cert"),
        QStringLiteral("--prometheus"),
        QStringLiteral("https://prom.test:9090/prometheus"),
        QStringLiteral("--prometheus-user"),
        QStringLiteral("alice"),
        QStringLiteral("--prometheus-password"),
        QStringLiteral("s3cret"),
        QStringLiteral("--mesh"),
        QStringLiteral("linkerd"),
        QStringLiteral("--at"),
        QStringLiteral("1700000000"),
        QStringLiteral("--prometheus-timeout-ms"),
        QStringLiteral("2500"),
        QStringLiteral("--prometheus-ca"),
        pem("ca.pem"),
        QStringLiteral("--prometheus-cert"),
        pem("cert.pem"),
        QStringLiteral("--prometheus-key"),
        pem("key.pem"),
        QStringLiteral("--envoy-admin"),
        QStringLiteral("https://127.0.0.1:9901"),
        QStringLiteral("--envoy-admin-name"),
        QStringLiteral("istio-system/ingress"),
        QStringLiteral("--envoy-admin-insecure-skip-verify"),
    };
    QCOMPARE(parseSources(args, &o), QString());
    QCOMPARE(o.otlpListen, QStringLiteral("0.0.0.0:14317"));
    QVERIFY(o.otlpListenGiven);
    QCOMPARE(o.alsListen, QStringLiteral("127.0.0.1:0"));
    QVERIFY(o.alsRequestIdTraces);
    QCOMPARE(o.maxMessageBytes, size_t(4096));
    QCOMPARE(o.receiverTls.certFile, pem("cert.pem"));
    QCOMPARE(o.receiverTls.keyFile, pem("key.pem"));
    QCOMPARE(o.receiverTls.clientCaFile, pem("client-ca.pem"));
    QVERIFY(o.receiverTls.requireClientCert);
    QCOMPARE(o.prometheusUrl, QStringLiteral("https://prom.test:9090/prometheus"));
    QCOMPARE(o.prometheusUser, QStringLiteral("alice"));
    QCOMPARE(o.prometheusPassword, QStringLiteral("s3cret"));
    QCOMPARE(o.mesh, MeshKind::Linkerd);
    QCOMPARE(o.prometheusAt.value_or(0), 1700000000.0);
    QCOMPARE(o.prometheusTimeoutMs, 2500);
    QCOMPARE(o.prometheusTls.caFile, pem("ca.pem"));
    QCOMPARE(o.prometheusTls.certFile, pem("cert.pem"));
    QCOMPARE(o.prometheusTls.keyFile, pem("key.pem"));
    QVERIFY(!o.prometheusTls.insecureSkipVerify);
    QCOMPARE(o.envoyAdminUrl, QStringLiteral("https://127.0.0.1:9901"));
    QCOMPARE(o.envoyAdminName, QStringLiteral("istio-system/ingress"));
    QVERIFY(o.envoyAdminTls.insecureSkipVerify);

    // What the CLI hands to the sources.
    const PrometheusSourceConfig p = o.prometheusConfig();
    QCOMPARE(p.server.url, QUrl(QStringLiteral("https://prom.test:9090/prometheus")));
    QCOMPARE(p.server.username, QStringLiteral("alice"));
    QCOMPARE(p.server.password, QStringLiteral("s3cret"));
    QCOMPARE(p.server.timeoutMs, 2500);
    QCOMPARE(p.server.tls.caFile, pem("ca.pem"));
    QCOMPARE(p.mesh, MeshKind::Linkerd);
    QCOMPARE(p.queryTime.value_or(0), 1700000000.0);
    const EnvoyAdminSourceConfig e = o.envoyAdminConfig();
    QCOMPARE(e.admin.url, QUrl(QStringLiteral("https://127.0.0.1:9901")));
    QCOMPARE(e.proxyName, QStringLiteral("istio-system/ingress"));
    QVERIFY(e.admin.tls.insecureSkipVerify);

    // A token instead of a user; a bare HOST:PORT is an http URL; RFC 3339 for --at.
    SourceOptions t;
    QCOMPARE(parseSources({QStringLiteral("--prometheus"), QStringLiteral("127.0.0.1:9090"),
                              QStringLiteral("--prometheus-token"), QStringLiteral("tok"), QStringLiteral("--mesh"),
                              QStringLiteral("istio"), QStringLiteral("--at"), QStringLiteral("2023-11-14T22:13:20Z")},
                 &t),
        QString());
    QCOMPARE(t.prometheusUrl, QStringLiteral("http://127.0.0.1:9090"));
    QCOMPARE(t.prometheusToken, QStringLiteral("tok"));
    QCOMPARE(t.prometheusConfig().server.bearerToken, QStringLiteral("tok"));
    QCOMPARE(t.mesh, MeshKind::Istio);
    QCOMPARE(t.prometheusAt.value_or(0), 1700000000.0);
}

void TestAppOptions::equalsAndSpaceReadAlike()
{
    SourceOptions spaced, joined;
    QCOMPARE(
        parseSources({QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--prometheus"),
                         QStringLiteral("https://p:9090"), QStringLiteral("--prometheus-ca"), pem("ca.pem")},
            &spaced),
        QString());
    QCOMPARE(parseSources({QStringLiteral("--otlp-listen=127.0.0.1:0"), QStringLiteral("--prometheus=https://p:9090"),
                              QStringLiteral("--prometheus-ca=") + pem("ca.pem")},
                 &joined),
        QString());
    QCOMPARE(joined.otlpListen, spaced.otlpListen);
    QCOMPARE(joined.prometheusUrl, spaced.prometheusUrl);
    QCOMPARE(joined.prometheusTls.caFile, spaced.prometheusTls.caFile);
}

void TestAppOptions::requestIdTracesGoWithTheAccessLogReceiver()
{
    // A switch of the access-log receiver: before or after --als-listen, never alone.
    for (const QStringList &args : {QStringList {QStringLiteral("--als-listen"), QStringLiteral("127.0.0.1:9001"),
                                        QStringLiteral("--als-request-id-traces")},
             QStringList {QStringLiteral("--als-request-id-traces"), QStringLiteral("--als-listen=127.0.0.1:9001")}}) {
        SourceOptions o;
        QCOMPARE(parseSources(args, &o), QString());
        QCOMPARE(o.alsListen, QStringLiteral("127.0.0.1:9001"));
        QVERIFY(o.alsRequestIdTraces);
    }
    SourceOptions off;
    QCOMPARE(parseSources({QStringLiteral("--als-listen"), QStringLiteral("127.0.0.1:9001")}, &off), QString());
    QVERIFY(!off.alsRequestIdTraces);
    SourceOptions alone;
    QCOMPARE(parseSources({QStringLiteral("--als-request-id-traces")}, &alone),
        QStringLiteral("--als-request-id-traces needs --als-listen"));
}

void TestAppOptions::badValuesGiveSpecificErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("reason");
    const QString missing = m_dir.filePath(QStringLiteral("missing.pem"));
    auto row = [](const char *name, const QStringList &args, const QString &reason) {
        QTest::newRow(name) << args << reason;
    };
    row("unknown option", {QStringLiteral("--bogus")}, QStringLiteral("unknown option '--bogus' (see --help)"));
    row("switch with a value", {QStringLiteral("--tls-require-client-cert=yes")},
        QStringLiteral("--tls-require-client-cert takes no value"));
    row("stray argument", {QStringLiteral("graph.json")},
        QStringLiteral("unexpected argument 'graph.json' (see --help)"));
    row("value missing at the end", {QStringLiteral("--otlp-listen")},
        QStringLiteral("--otlp-listen needs an address (HOST:PORT)"));
    row("empty value", {QStringLiteral("--prometheus=")},
        QStringLiteral("--prometheus needs a URL such as http://127.0.0.1:9090"));
    row("value forgotten before the next option",
        {QStringLiteral("--tls-cert"), QStringLiteral("--tls-key"), pem("key.pem")},
        QStringLiteral("--tls-cert needs a PEM file"));
    row("not HOST:PORT", {QStringLiteral("--als-listen"), QStringLiteral("nohost")},
        QStringLiteral("--als-listen 'nohost' is not HOST:PORT"));
    row("request-id traces without a receiver", {QStringLiteral("--als-request-id-traces")},
        QStringLiteral("--als-request-id-traces needs --als-listen"));
    row("request-id traces with only OTLP",
        {QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--als-request-id-traces")},
        QStringLiteral("--als-request-id-traces needs --als-listen"));
    row("request-id traces take no value", {QStringLiteral("--als-request-id-traces=yes")},
        QStringLiteral("--als-request-id-traces takes no value"));
    row("port out of range", {QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:70000")},
        QStringLiteral("--otlp-listen '127.0.0.1:70000' is not HOST:PORT"));
    row("message limit too small", {QStringLiteral("--max-message-bytes"), QStringLiteral("100")},
        QStringLiteral("--max-message-bytes needs a number of at least 1024"));
    row("not a URL", {QStringLiteral("--envoy-admin"), QStringLiteral("ftp://x:1")},
        QStringLiteral("--envoy-admin 'ftp://x:1' is not a URL (http://HOST:PORT or https://HOST:PORT)"));
    row("unknown mesh",
        {QStringLiteral("--prometheus"), QStringLiteral("http://p:9090"), QStringLiteral("--mesh"),
            QStringLiteral("consul")},
        QStringLiteral("--mesh needs istio, linkerd or auto, not 'consul'"));
    row("bad time",
        {QStringLiteral("--prometheus"), QStringLiteral("http://p:9090"), QStringLiteral("--at"),
            QStringLiteral("yesterday")},
        QStringLiteral("--at needs unix seconds or an RFC 3339 time, at or after 1970"));
    row("time before 1970",
        {QStringLiteral("--prometheus"), QStringLiteral("http://p:9090"), QStringLiteral("--at"),
            QStringLiteral("1969-12-31T23:59:59Z")},
        QStringLiteral("--at needs unix seconds or an RFC 3339 time, at or after 1970"));
    row("timeout too short",
        {QStringLiteral("--prometheus"), QStringLiteral("http://p:9090"), QStringLiteral("--prometheus-timeout-ms"),
            QStringLiteral("5")},
        QStringLiteral("--prometheus-timeout-ms needs at least 100"));
    row("token and user",
        {QStringLiteral("--prometheus"), QStringLiteral("http://p:9090"), QStringLiteral("--prometheus-token"),
            QStringLiteral("t"), QStringLiteral("--prometheus-user"), QStringLiteral("u")},
        QStringLiteral("give --prometheus-token or --prometheus-user, not both"));
    row("password without user",
        {QStringLiteral("--prometheus"), QStringLiteral("http://p:9090"), QStringLiteral("--prometheus-password"),
            QStringLiteral("p")},
        QStringLiteral("--prometheus-password needs --prometheus-user"));
    row("mesh without prometheus", {QStringLiteral("--mesh"), QStringLiteral("istio")},
        QStringLiteral("--mesh needs --prometheus"));
    row("name without envoy admin", {QStringLiteral("--envoy-admin-name"), QStringLiteral("gw")},
        QStringLiteral("--envoy-admin-name needs --envoy-admin"));
    row("missing PEM file", {QStringLiteral("--tls-cert"), missing, QStringLiteral("--tls-key"), pem("key.pem")},
        QStringLiteral("--tls-cert '%1': no such file").arg(missing));
    row("a directory for a PEM file", {QStringLiteral("--prometheus-ca"), m_dir.path()},
        QStringLiteral("--prometheus-ca '%1': not a file").arg(m_dir.path()));
    row("key without certificate", {QStringLiteral("--tls-key"), pem("key.pem")},
        QStringLiteral("--tls-key needs --tls-cert"));
    row("client CA is not required",
        {QStringLiteral("--tls-cert"), pem("cert.pem"), QStringLiteral("--tls-key"), pem("key.pem"),
            QStringLiteral("--tls-require-client-cert")},
        QStringLiteral("--tls-require-client-cert needs --tls-client-ca"));
    row("client certificate without key",
        {QStringLiteral("--prometheus"), QStringLiteral("https://p:9090"), QStringLiteral("--prometheus-cert"),
            pem("cert.pem")},
        QStringLiteral("--prometheus-cert needs --prometheus-key"));
    row("CA and no verification",
        {QStringLiteral("--envoy-admin"), QStringLiteral("https://e:9901"), QStringLiteral("--envoy-admin-ca"),
            pem("ca.pem"), QStringLiteral("--envoy-admin-insecure-skip-verify")},
        QStringLiteral("--envoy-admin-ca and --envoy-admin-insecure-skip-verify contradict each other"));
    row("client TLS without its source", {QStringLiteral("--prometheus-ca"), pem("ca.pem")},
        QStringLiteral("--prometheus-ca/-cert/-key/-insecure-skip-verify need --prometheus"));
    row("client TLS over http",
        {QStringLiteral("--envoy-admin"), QStringLiteral("http://e:9901"),
            QStringLiteral("--envoy-admin-insecure-skip-verify")},
        QStringLiteral("--envoy-admin-ca/-cert/-key/-insecure-skip-verify need an https:// --envoy-admin URL"));
}

void TestAppOptions::badValuesGiveSpecificErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, reason);
    SourceOptions o;
    QCOMPARE(parseSources(args, &o), reason);
}

void TestAppOptions::familiesNotDeclaredAreUnknown()
{
    SourceOptions o;
    const SourceFlags receiversOnly = SourceFlag::Receivers | SourceFlag::ReceiverTls;
    QCOMPARE(
        parseSources({QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0")}, &o, receiversOnly), QString());
    QCOMPARE(parseSources({QStringLiteral("--at"), QStringLiteral("0")}, &o, receiversOnly),
        QStringLiteral("unknown option '--at' (see --help)"));
    QCOMPARE(parseSources({QStringLiteral("--max-message-bytes"), QStringLiteral("4096")}, &o,
                 SourceFlag::Receivers | SourceFlag::Prometheus),
        QStringLiteral("unknown option '--max-message-bytes' (see --help)"));
}

void TestAppOptions::logEnablesCategoriesAndRefusesUnknownOnes()
{
    QVERIFY(!lcOtlp().isDebugEnabled());
    CommandLine commandLine(QStringLiteral("meshscope-test"), QStringLiteral("usage: meshscope-test"));
    QVERIFY2(commandLine.parse({QStringLiteral("--log"), QStringLiteral("otlp"), QStringLiteral("--log=xds")}),
        qPrintable(commandLine.error()));
    QVERIFY(lcOtlp().isDebugEnabled());
    QVERIFY(lcXds().isDebugEnabled());
    QVERIFY(!lcCaddy().isDebugEnabled());

    QVERIFY(!commandLine.parse({QStringLiteral("--log"), QStringLiteral("otlp,nosuch")}));
    QVERIFY2(commandLine.error().startsWith(QLatin1String("--log: unknown log category 'nosuch'")),
        qPrintable(commandLine.error()));
    QVERIFY(!commandLine.error().contains(QLatin1Char('\n')));

    QVERIFY(!commandLine.parse({QStringLiteral("--log")}));
    QVERIFY2(commandLine.error().startsWith(QLatin1String("--log needs a category: otlp, als,")),
        qPrintable(commandLine.error()));

    QVERIFY(commandLine.parse({QStringLiteral("--log"), QStringLiteral("all")}));
    QVERIFY(lcCanvas().isDebugEnabled());
}

void TestAppOptions::helpListsEveryFlag()
{
    CommandLine commandLine(QStringLiteral("meshscope-test"), QStringLiteral("usage: meshscope-test [options]"),
        QStringLiteral("What it is for."));
    SourceOptions::declare(commandLine, kAll);
    commandLine.addGroup(QStringLiteral("Caddy"), tlsClientFlags(QStringLiteral("caddy"), QStringLiteral("Caddy")));
    const QString help = commandLine.helpText();
    const QStringList names = commandLine.optionNames();
    for (const char *name : {"otlp-listen", "als-listen", "als-request-id-traces", "max-message-bytes", "tls-cert",
             "tls-key", "tls-client-ca", "tls-require-client-cert", "prometheus", "prometheus-token", "prometheus-user",
             "prometheus-password", "mesh", "at", "prometheus-timeout-ms", "prometheus-ca", "prometheus-cert",
             "prometheus-key", "prometheus-insecure-skip-verify", "envoy-admin", "envoy-admin-name", "envoy-admin-ca",
             "envoy-admin-cert", "envoy-admin-key", "envoy-admin-insecure-skip-verify", "caddy-ca", "caddy-cert",
             "caddy-key", "caddy-insecure-skip-verify", "help", "version", "log"}) {
        QVERIFY2(names.contains(QLatin1String(name)), name);
    }
    // Every flag the parser takes is in the help, as "--name" at the start of its row.
    for (const QString &name : names) {
        const QString row = QStringLiteral("\n  ")
            + (name == QLatin1String("help") ? QStringLiteral("-h, ") : QString()) + QStringLiteral("--") + name
            + QLatin1Char(' ');
        QVERIFY2(
            help.contains(row) || help.contains(QStringLiteral("\n  --") + name + QLatin1Char('\n')), qPrintable(name));
    }
    QVERIFY(help.startsWith(QLatin1String("usage: meshscope-test [options]\n\nWhat it is for.\n")));
    for (const char *heading :
        {"\nReceivers (pushed to meshscope over gRPC):\n", "\nReceiver TLS (for --otlp-listen and --als-listen):\n",
            "\nPrometheus (pulled):\n", "\nEnvoy admin (pulled):\n", "\nCaddy:\n", "\nGeneral:\n"})
        QVERIFY2(help.contains(QLatin1String(heading)), heading);
    QVERIFY(help.indexOf(QLatin1String("\nGeneral:\n")) > help.indexOf(QLatin1String("\nCaddy:\n")));
    QVERIFY(help.contains(QLatin1String("--otlp-listen ADDR")));
    QVERIFY(help.contains(QLatin1String("--mesh istio|linkerd|auto")));
    for (const QString &line : help.split(QLatin1Char('\n')))
        QVERIFY2(line.size() <= 100, qPrintable(line));
    QVERIFY(!commandLine.helpText(CommandLine::Sections::WithoutGeneral).contains(QLatin1String("General:")));
}

void TestAppOptions::helpAndVersion()
{
    CommandLine commandLine(QStringLiteral("meshscope-test"), QStringLiteral("usage: meshscope-test"));
    QVERIFY(commandLine.parse({QStringLiteral("-h")}));
    QVERIFY(commandLine.helpRequested());
    QVERIFY(commandLine.parse({QStringLiteral("--help")}));
    QVERIFY(commandLine.helpRequested());
    QVERIFY(commandLine.parse({QStringLiteral("--version")}));
    QVERIFY(commandLine.versionRequested());
    QVERIFY(!commandLine.helpRequested());
    QVERIFY(!appVersion().isEmpty());
    QCOMPARE(commandLine.versionText(), QStringLiteral("meshscope-test ") + appVersion());
}

void TestAppOptions::subcommandsKeepTheirArguments()
{
    CommandLine commandLine(QStringLiteral("meshscope-test"), QStringLiteral("usage: meshscope-test COMMAND"));
    commandLine.setSubcommandMode();
    QVERIFY2(commandLine.parse({QStringLiteral("--log"), QStringLiteral("graph"), QStringLiteral("graph"),
                 QStringLiteral("--duration"), QStringLiteral("1"), QStringLiteral("--bogus")}),
        qPrintable(commandLine.error()));
    QCOMPARE(commandLine.subcommand(), QStringLiteral("graph"));
    QCOMPARE(commandLine.subcommandArguments(),
        (QStringList {QStringLiteral("--log"), QStringLiteral("graph"), QStringLiteral("--duration"),
            QStringLiteral("1"), QStringLiteral("--bogus")}));
    QVERIFY(!commandLine.parse({QStringLiteral("--duration"), QStringLiteral("1"), QStringLiteral("graph")}));
    QCOMPARE(commandLine.error(), QStringLiteral("unknown option '--duration' (see --help)"));
    QVERIFY(commandLine.parse({}));
    QVERIFY(commandLine.subcommand().isEmpty());
}

void TestAppOptions::tlsClientFamilyStandsAlone()
{
    CommandLine commandLine(QStringLiteral("meshscope-test"), QStringLiteral("usage: meshscope-test"));
    commandLine.addGroup(QStringLiteral("Caddy TLS"), tlsClientFlags(QStringLiteral("caddy"), QStringLiteral("Caddy")));
    commandLine.addGroup(QStringLiteral("TLS"), tlsServerFlags());
    QVERIFY(commandLine.parse({QStringLiteral("--caddy-cert"), pem("cert.pem"), QStringLiteral("--caddy-key"),
        pem("key.pem"), QStringLiteral("--tls-cert"), pem("cert.pem"), QStringLiteral("--tls-key"), pem("key.pem")}));
    TlsClientOptions client;
    QCOMPARE(readTlsClientFlags(commandLine, QStringLiteral("caddy"), &client), QString());
    QCOMPARE(client.certFile, pem("cert.pem"));
    QCOMPARE(client.keyFile, pem("key.pem"));
    TlsServerOptions server;
    QCOMPARE(readTlsServerFlags(commandLine, &server), QString());
    QVERIFY(server.enabled());
    QVERIFY(!server.requireClientCert);
    QVERIFY(isHostPort(QStringLiteral("[::1]:0")));
    QVERIFY(!isHostPort(QStringLiteral(":4317")));
    QVERIFY(!isHostPort(QStringLiteral("host:")));
}

QTEST_GUILESS_MAIN(TestAppOptions)
#include "tst_appoptions.moc"

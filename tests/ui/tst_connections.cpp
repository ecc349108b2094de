// The connections dialog and what stands behind it:
// - SourceSpec: saved per workspace in QSettings, never with its secret; each bad
//   input gets its own message.
// - SourceManager: receivers bind (and a taken port fails with the reason), sources
//   restart when edited, tests never touch what runs, removing frees the port.
// - SecretStore against a real Secret Service: gnome-keyring-daemon on a private
//   D-Bus session bus started by the test.
// - The dialog against a real Prometheus (Debian's prometheus) serving https with
//   mTLS: Test shows the server certificate and warns that it expires within days; a
//   wrong CA gets the specific TLS reason; Save starts the source and the status bar
//   reports it.
// - Envoy access-log sources: the x-request-id switch shows for them alone, is saved,
//   restarts the receiver when changed, and decides whether an entry with nothing but
//   a request id becomes a span.

#include "common/alsbuilder.h"
#include "common/envoyadminserver.h"
#include "common/otlpbuilder.h"
#include "common/testpki.h"
#include "common/tlsprometheus.h"
#include "darktheme.h"
#include "envoy/service/accesslog/v3/als.grpc.pb.h"
#include "graph/graphaggregator.h"
#include "inspect/inspectpanel.h"
#include "inspect/models/upstreamhealthmodel.h"
#include "mainwindow.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "sources/connectionsdialog.h"
#include "sources/secretstore.h"
#include "sources/sourcemanager.h"
#include "sources/sourcespec.h"
#include "timeline/timelinestrip.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"

#include <grpcpp/grpcpp.h>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTreeWidget>

#include <memory>

using namespace meshscope;
using namespace meshscope::test;

namespace {

SourceSpec receiverSpec(SourceSpec::Kind kind, const QString &address)
{
    SourceSpec s;
    s.id = SourceSpec::newId();
    s.kind = kind;
    s.address = address;
    return s;
}

int portOf(const QString &hostPort) { return hostPort.mid(hostPort.lastIndexOf(QLatin1Char(':')) + 1).toInt(); }

bool canBind(int port)
{
    QTcpServer s;
    return s.listen(QHostAddress::LocalHost, quint16(port));
}

// One Envoy sidecar's stream with one HTTP entry that carries no trace header, only
// Envoy's request id; the stream's status.
grpc::Status sendRequestIdEntry(const QString &address, const std::string &requestId)
{
    namespace als = envoy::service::accesslog::v3;
    als::StreamAccessLogsMessage m;
    identify(m, "sidecar~10.1.2.5~reviews-v2-545db77b95-8nk9c.bookinfo~bookinfo.svc.cluster.local", "reviews.bookinfo");
    auto *e = m.mutable_http_logs()->add_log_entry();
    setStart(e->mutable_common_properties(), GraphAggregator::wallNowMs() - 500);
    setDuration(e->mutable_common_properties()->mutable_duration(), 12);
    e->mutable_common_properties()->set_upstream_cluster("outbound|9080||details.bookinfo.svc.cluster.local");
    e->mutable_request()->set_request_method(envoy::config::core::v3::GET);
    e->mutable_request()->set_path("/details/0");
    e->mutable_request()->set_request_id(requestId);
    e->mutable_response()->mutable_response_code()->set_value(200);
    auto stub = als::AccessLogService::NewStub(
        grpc::CreateChannel(address.toStdString(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    als::StreamAccessLogsResponse response;
    auto writer = stub->StreamAccessLogs(&ctx, &response);
    writer->Write(m);
    writer->WritesDone();
    return writer->Finish();
}

uint64_t requestsOn(GraphAggregator &aggregator, const char *edge)
{
    const GraphSnapshotPtr snap = aggregator.snapshot(GraphAggregator::wallNowMs());
    const auto *e = snap->edge(edge);
    return e ? e->stats.requests : 0;
}

// A private session bus with gnome-keyring-daemon's Secret Service on it, unlocked,
// keeping its keyrings in `dir`.
class PrivateKeyring {
public:
    ~PrivateKeyring()
    {
        if (m_busPid > 0)
            QProcess::execute(QStringLiteral("kill"), {QString::number(m_busPid)});
    }

    bool start(const QString &dir, QString *error)
    {
        const QString dbus = findTool("dbus-daemon");
        const QString keyring = findTool("gnome-keyring-daemon");
        if (dbus.isEmpty() || keyring.isEmpty()) {
            *error = QStringLiteral("dbus-daemon and gnome-keyring-daemon are needed (scripts/install-deps.sh)");
            return false;
        }
        QProcess bus;
        bus.start(dbus,
            {QStringLiteral("--session"), QStringLiteral("--fork"), QStringLiteral("--nopidfile"),
                QStringLiteral("--print-address=1"), QStringLiteral("--print-pid=1")});
        if (!bus.waitForFinished(10000) || bus.exitCode() != 0) {
            *error = QStringLiteral("dbus-daemon failed: ") + QString::fromUtf8(bus.readAllStandardError());
            return false;
        }
        const QStringList lines
            = QString::fromUtf8(bus.readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        if (lines.size() < 2) {
            *error = QStringLiteral("dbus-daemon printed no address");
            return false;
        }
        m_address = lines[0].trimmed();
        m_busPid = lines[1].trimmed().toLongLong();
        // QtKeychain connects to the session bus on first use, which is after this.
        qputenv("DBUS_SESSION_BUS_ADDRESS", m_address.toUtf8());

        QDir().mkpath(dir + QStringLiteral("/data"));
        QDir().mkpath(dir + QStringLiteral("/run"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_address);
        env.insert(QStringLiteral("HOME"), dir);
        env.insert(QStringLiteral("XDG_DATA_HOME"), dir + QStringLiteral("/data"));
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), dir + QStringLiteral("/run"));
        QProcess daemon;
        daemon.setProcessEnvironment(env);
        // --unlock reads the login keyring's password from stdin and creates it unlocked.
        daemon.start(keyring, {QStringLiteral("--unlock"), QStringLiteral("--components=secrets")});
        if (!daemon.waitForStarted(10000)) {
            *error = QStringLiteral("gnome-keyring-daemon did not start");
            return false;
        }
        daemon.write("meshscope-test");
        daemon.closeWriteChannel();
        if (!daemon.waitForFinished(15000)) {
            *error = QStringLiteral("gnome-keyring-daemon did not daemonize");
            return false;
        }
        return true;
    }

    // What secret-tool (libsecret's own client) finds for QtKeychain's attributes.
    QString lookup(const QString &service, const QString &key) const
    {
        QProcess tool;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_address);
        tool.setProcessEnvironment(env);
        tool.start(findTool("secret-tool"),
            {QStringLiteral("lookup"), QStringLiteral("user"), key, QStringLiteral("server"), service});
        tool.waitForFinished(10000);
        return QString::fromUtf8(tool.readAllStandardOutput());
    }

private:
    QString m_address;
    qint64 m_busPid = 0;
};

}  // namespace

class TestConnections : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void specsPersistWithoutSecrets();
    void badSpecsGetSpecificErrors();
    void receiversBindAndReportConflicts();
    void savedSourcesComeBack();
    void secretsLiveInTheKeychain();
    void dialogTestsAndSavesTlsSource();
    void envoyAdminHealthInInspect();
    void receiverShowsClientCertificates();
    void accessLogRequestIdTraces();

private:
    QString pem(const char *name) const { return m_pki->pem(QLatin1String(name)); }
    QString key(const char *name) const { return m_pki->key(QLatin1String(name)); }

    QTemporaryDir m_dir;
    std::unique_ptr<TestPki> m_pki;
    std::unique_ptr<PrivateKeyring> m_keyring;
    TlsPrometheus m_prom;
    QString m_keyringError;
};

void TestConnections::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("meshscope-test"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_connections"));
    QSettings().clear();
    QVERIFY(m_dir.isValid());
    applyDarkTheme(*qApp);  // as the dashboard looks, for the screenshots

    m_keyring = std::make_unique<PrivateKeyring>();
    if (!m_keyring->start(m_dir.filePath(QStringLiteral("keyring")), &m_keyringError))
        m_keyring.reset();

    m_pki = std::make_unique<TestPki>(m_dir.path());
    auto check = [this](bool ok) {
        if (!ok)
            qWarning("%s", qPrintable(m_pki->lastError()));
        return ok;
    };
    QVERIFY(check(m_pki->makeCa(QStringLiteral("ca"), QStringLiteral("monitoring CA"))));
    QVERIFY(check(m_pki->makeCa(QStringLiteral("other-ca"), QStringLiteral("someone else's CA"))));
    // A server certificate with five days left: the dialog must warn about it.
    QVERIFY(check(m_pki->makeLeaf(QStringLiteral("prometheus"), QStringLiteral("ca"),
        QStringLiteral("/O=monitoring/CN=prometheus.test"),
        QStringLiteral("DNS:prometheus.test,IP:127.0.0.1,URI:spiffe://mesh.test/ns/monitoring/sa/prometheus"), 5)));
    QVERIFY(check(m_pki->makeLeaf(QStringLiteral("client"), QStringLiteral("ca"), QStringLiteral("/CN=meshscope"),
        QStringLiteral("DNS:meshscope.test"), 90)));
    // A workload SVID with ten days left, as a mesh issues them.
    QVERIFY(check(m_pki->makeLeaf(QStringLiteral("workload"), QStringLiteral("ca"), QStringLiteral("/O=shop"),
        QStringLiteral("URI:spiffe://mesh.test/ns/shop/sa/checkout"), 10)));

    const QString binary = findTool("prometheus");
    QVERIFY2(!binary.isEmpty(), "prometheus is not installed (scripts/install-deps.sh installs it)");
    QString error;
    QVERIFY2(m_prom.start(binary, m_dir.filePath(QStringLiteral("prom")), pem("prometheus"), key("prometheus"),
                 pem("ca"), &error),
        qPrintable(error));
    PrometheusConfig ready;
    ready.url = m_prom.url();
    ready.tls.caFile = pem("ca");
    ready.tls.certFile = pem("client");
    ready.tls.keyFile = key("client");
    QVERIFY2(m_prom.waitReady(ready, 30000, &error), qPrintable(error));
}

void TestConnections::cleanupTestCase()
{
    m_prom.stop();
    QSettings().clear();
}

void TestConnections::specsPersistWithoutSecrets()
{
    const QString file = m_dir.filePath(QStringLiteral("specs.ini"));
    SourceSpec prom;
    prom.id = SourceSpec::newId();
    prom.kind = SourceSpec::Kind::Prometheus;
    prom.name = QStringLiteral("prod east");
    prom.address = QStringLiteral("https://prometheus.test:9090/prom");
    prom.auth = SourceSpec::Auth::Basic;
    prom.username = QStringLiteral("grafana");
    prom.secret = QStringLiteral("hunter2-very-secret");
    prom.mesh = MeshKind::Linkerd;
    prom.windowSeconds = 120;
    prom.selector = QStringLiteral("cluster=\"east\"");
    prom.pollIntervalMs = 15000;
    prom.tlsClient.caFile = QStringLiteral("/etc/ssl/ca.pem");
    prom.tlsClient.certFile = QStringLiteral("/etc/ssl/client.pem");
    prom.tlsClient.keyFile = QStringLiteral("/etc/ssl/client.key");
    SourceSpec otlp = receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("0.0.0.0:4317"));
    otlp.enabled = false;
    otlp.tlsServer.certFile = QStringLiteral("/etc/ssl/otlp.pem");
    otlp.tlsServer.keyFile = QStringLiteral("/etc/ssl/otlp.key");
    otlp.tlsServer.clientCaFile = QStringLiteral("/etc/ssl/mesh-ca.pem");
    otlp.tlsServer.requireClientCert = true;
    SourceSpec envoy;
    envoy.id = SourceSpec::newId();
    envoy.kind = SourceSpec::Kind::EnvoyAdmin;
    envoy.address = QStringLiteral("http://10.0.0.7:15000");
    envoy.proxyName = QStringLiteral("istio-system/istio-ingressgateway");
    SourceSpec fromCli = receiverSpec(SourceSpec::Kind::AlsReceiver, QStringLiteral("127.0.0.1:9001"));
    fromCli.fromCommandLine = true;
    {
        QSettings s(file, QSettings::IniFormat);
        saveSourceSpecs(s, QStringLiteral("team/a"), {prom, otlp, fromCli, envoy});
    }
    QFile raw(file);
    QVERIFY(raw.open(QIODevice::ReadOnly));
    const QByteArray bytes = raw.readAll();
    QVERIFY(!bytes.contains("hunter2"));  // secrets go to the keychain only
    QVERIFY(!bytes.contains("127.0.0.1:9001"));  // command-line sources are not saved
    QVERIFY(bytes.contains("prod east"));

    QSettings s(file, QSettings::IniFormat);
    const QList<SourceSpec> back = loadSourceSpecs(s, QStringLiteral("team/a"));
    QCOMPARE(back.size(), 3);
    SourceSpec expectedProm = prom;
    expectedProm.secret.clear();
    QVERIFY(back[0].sameSettings(expectedProm));
    QCOMPARE(back[0].name, prom.name);
    QVERIFY(back[1].sameSettings(otlp));
    QVERIFY(back[2].sameSettings(envoy));
    QVERIFY(loadSourceSpecs(s, QStringLiteral("other")).isEmpty());
}

void TestConnections::badSpecsGetSpecificErrors()
{
    auto error = [](SourceSpec s) { return s.validate(); };
    SourceSpec prom;
    prom.kind = SourceSpec::Kind::Prometheus;
    prom.address = QStringLiteral("prometheus:9090");
    QVERIFY2(error(prom).contains(QLatin1String("must start with http:// or https://")), qPrintable(error(prom)));
    prom.address = QStringLiteral("http://127.0.0.1:9090");
    QCOMPARE(error(prom), QString());
    prom.tlsClient.caFile = pem("ca");
    QVERIFY(error(prom).contains(QLatin1String("need an https:// address")));
    prom.address = QStringLiteral("https://127.0.0.1:9090");
    QCOMPARE(error(prom), QString());
    prom.tlsClient.certFile = pem("client");
    QVERIFY(error(prom).contains(QLatin1String("client certificate and its key go together")));
    prom.tlsClient.keyFile = m_dir.filePath(QStringLiteral("missing.key"));
    QVERIFY(
        error(prom).contains(QLatin1String("client key: '")) && error(prom).contains(QLatin1String("does not exist")));
    prom.tlsClient = {};
    prom.auth = SourceSpec::Auth::Basic;
    QVERIFY(error(prom).contains(QLatin1String("basic authentication needs a user name")));

    SourceSpec otlp = receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("localhost"));
    QVERIFY(error(otlp).contains(QLatin1String("'localhost' is not HOST:PORT")));
    otlp.address = QStringLiteral("127.0.0.1:0");
    otlp.tlsServer.requireClientCert = true;
    otlp.tlsServer.certFile = pem("prometheus");
    otlp.tlsServer.keyFile = key("prometheus");
    QVERIFY(error(otlp).contains(QLatin1String("needs the CA that signs them")));

    // The manager refuses what does not validate, and changes nothing.
    GraphAggregator aggregator;
    SourceManager manager(aggregator);
    QVERIFY(manager.upsert(otlp).contains(QLatin1String("needs the CA that signs them")));
    QVERIFY(manager.specs().isEmpty());
}

void TestConnections::receiversBindAndReportConflicts()
{
    GraphAggregator aggregator;
    SourceManager manager(aggregator);
    QSignalSpy failed(&manager, &SourceManager::sourceFailed);

    SourceSpec otlp = receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("127.0.0.1:0"));
    QCOMPARE(manager.upsert(otlp), QString());
    const SourceManager::Status st = manager.status(otlp.id);
    QCOMPARE(st.state, SourceManager::State::Listening);
    const int port = portOf(st.boundAddress);
    QVERIFY(port > 0);
    QVERIFY(!canBind(port));
    QCOMPARE(manager.otlpAddress(), st.boundAddress);
    QVERIFY(manager.summary().contains(QStringLiteral("OTLP 127.0.0.1:%1").arg(port)));

    // A second receiver on the same port fails with gRPC's reason and says so once.
    SourceSpec als = receiverSpec(SourceSpec::Kind::AlsReceiver, st.boundAddress);
    QCOMPARE(manager.upsert(als), QString());
    QCOMPARE(manager.status(als.id).state, SourceManager::State::Failed);
    QVERIFY2(manager.status(als.id).message.contains(st.boundAddress), qPrintable(manager.status(als.id).message));
    QCOMPARE(failed.size(), 1);

    // Testing a spec does not disturb what runs: the running one reports itself, a
    // clash is reported, a free port is bound and released.
    auto runTest = [&manager](const SourceSpec &spec) {
        SourceManager::TestResult result;
        bool answered = false;
        manager.test(spec, [&](const SourceManager::TestResult &r) {
            result = r;
            answered = true;
        });
        if (!QTest::qWaitFor([&] { return answered; }, 10000))
            result.message = QStringLiteral("no answer");
        return result;
    };
    SourceSpec running = manager.spec(otlp.id);
    SourceManager::TestResult r = runTest(running);
    QVERIFY2(r.ok && r.message.contains(QLatin1String("listening on")), qPrintable(r.message));
    SourceSpec clash = receiverSpec(SourceSpec::Kind::AlsReceiver, st.boundAddress);
    r = runTest(clash);
    QVERIFY2(!r.ok && r.message.contains(st.boundAddress), qPrintable(r.message));
    const int freePortNumber = freePort();
    r = runTest(receiverSpec(SourceSpec::Kind::AlsReceiver, QStringLiteral("127.0.0.1:%1").arg(freePortNumber)));
    QVERIFY2(r.ok, qPrintable(r.message));
    QVERIFY(canBind(freePortNumber));
    QCOMPARE(manager.status(otlp.id).state, SourceManager::State::Listening);

    // Switching off and removing release the port; switching on binds again.
    manager.setEnabled(otlp.id, false);
    QCOMPARE(manager.status(otlp.id).state, SourceManager::State::Disabled);
    QVERIFY(canBind(port));
    SourceSpec fixed = manager.spec(otlp.id);
    fixed.enabled = true;
    fixed.address = QStringLiteral("127.0.0.1:%1").arg(port);
    QCOMPARE(manager.upsert(fixed), QString());
    QCOMPARE(manager.status(otlp.id).state, SourceManager::State::Listening);
    QVERIFY(!canBind(port));
    manager.remove(otlp.id);
    QVERIFY(!manager.contains(otlp.id));
    QVERIFY(canBind(port));
}

void TestConnections::savedSourcesComeBack()
{
    QSettings().clear();
    const int port = freePort();
    SourceSpec saved = receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("127.0.0.1:%1").arg(port));
    saved.name = QStringLiteral("collector");
    SourceSpec token;
    token.id = SourceSpec::newId();
    token.kind = SourceSpec::Kind::Prometheus;
    token.address = m_prom.url().toString();
    token.auth = SourceSpec::Auth::Bearer;
    token.secret = QStringLiteral("t0ken");
    {
        GraphAggregator aggregator;
        SourceManager manager(aggregator);
        manager.setPersistence(QStringLiteral("ws1"), nullptr);  // no keychain
        QCOMPARE(manager.upsert(saved), QString());
        QCOMPARE(manager.upsert(token), QString());
        SourceSpec cli = receiverSpec(SourceSpec::Kind::AlsReceiver, QStringLiteral("127.0.0.1:0"));
        cli.fromCommandLine = true;
        QCOMPARE(manager.upsert(cli), QString());
    }
    QVERIFY(canBind(port));  // the manager stopped everything when it went

    GraphAggregator aggregator;
    SourceManager manager(aggregator);
    manager.setPersistence(QStringLiteral("ws1"), nullptr);
    manager.loadSaved();
    QCOMPARE(manager.specs().size(), 2);  // not the command-line one
    QCOMPARE(manager.status(saved.id).state, SourceManager::State::Listening);
    QCOMPARE(manager.spec(saved.id).name, QStringLiteral("collector"));
    // Without a keychain the token was never kept: the source says what to do.
    QCOMPARE(manager.status(token.id).state, SourceManager::State::Failed);
    QVERIFY(manager.status(token.id).message.contains(QLatin1String("edit the source to enter it")));

    SourceManager other(aggregator);
    other.setPersistence(QStringLiteral("ws2"), nullptr);
    other.loadSaved();
    QVERIFY(other.specs().isEmpty());  // workspaces keep their own sources
}

void TestConnections::secretsLiveInTheKeychain()
{
    QVERIFY2(m_keyring, qPrintable(m_keyringError));
    SecretStore store(QStringLiteral("meshscope-test"));
    const QString entry = SecretStore::keyFor(QStringLiteral("ws3"), QStringLiteral("abc"));
    bool done = false, ok = false, found = true;
    QString secret, error;
    store.write(entry, QStringLiteral("s3cr3t token"), [&](bool k, const QString &e) {
        ok = k;
        error = e;
        done = true;
    });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 15000));
    QVERIFY2(ok, qPrintable(error));
    // libsecret's own client finds it where QtKeychain put it.
    QCOMPARE(m_keyring->lookup(QStringLiteral("meshscope-test"), entry), QStringLiteral("s3cr3t token"));

    done = false;
    SecretStore fresh(QStringLiteral("meshscope-test"));
    fresh.read(entry, [&](bool k, bool f, const QString &s, const QString &e) {
        ok = k;
        found = f;
        secret = s;
        error = e;
        done = true;
    });
    QVERIFY(QTest::qWaitFor([&] { return done; }, 15000));
    QVERIFY2(ok && found, qPrintable(error));
    QCOMPARE(secret, QStringLiteral("s3cr3t token"));

    // Through the manager: a saved Prometheus source with a bearer token comes back
    // with its token from the keychain, and the settings never hold it.
    QSettings().clear();
    SourceSpec prom;
    prom.id = SourceSpec::newId();
    prom.kind = SourceSpec::Kind::Prometheus;
    prom.address = m_prom.url().toString();
    prom.tlsClient.caFile = pem("ca");
    prom.tlsClient.certFile = pem("client");
    prom.tlsClient.keyFile = key("client");
    prom.auth = SourceSpec::Auth::Bearer;
    prom.secret = QStringLiteral("bearer-from-keychain");
    {
        GraphAggregator aggregator;
        SecretStore secrets;
        SourceManager manager(aggregator);
        manager.setPersistence(QStringLiteral("ws3"), &secrets);
        QSignalSpy problems(&manager, &SourceManager::secretProblem);
        QCOMPARE(manager.upsert(prom), QString());
        QTRY_COMPARE_WITH_TIMEOUT(
            m_keyring->lookup(QStringLiteral("meshscope"), SecretStore::keyFor(QStringLiteral("ws3"), prom.id)),
            QStringLiteral("bearer-from-keychain"), 15000);
        QCOMPARE(problems.size(), 0);
    }
    QSettings settings;
    settings.sync();
    QFile raw(settings.fileName());
    QVERIFY(raw.open(QIODevice::ReadOnly));
    QVERIFY(!raw.readAll().contains("bearer-from-keychain"));

    GraphAggregator aggregator;
    SecretStore secrets;
    SourceManager manager(aggregator);
    manager.setPersistence(QStringLiteral("ws3"), &secrets);
    manager.loadSaved();
    QTRY_COMPARE_WITH_TIMEOUT(manager.spec(prom.id).secret, QStringLiteral("bearer-from-keychain"), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(manager.status(prom.id).state, SourceManager::State::Connected, 20000);

    // Removing the source removes its keychain entry.
    manager.remove(prom.id);
    QTRY_COMPARE_WITH_TIMEOUT(
        m_keyring->lookup(QStringLiteral("meshscope"), SecretStore::keyFor(QStringLiteral("ws3"), prom.id)), QString(),
        15000);
}

void TestConnections::dialogTestsAndSavesTlsSource()
{
    QSettings().clear();
    AggregatorConfig keep;
    keep.keepHistory = true;  // the timeline marks the certificate warning
    GraphAggregator aggregator(keep);
    MainWindow window(&aggregator, QStringLiteral("dialog"));
    window.setPersistenceEnabled(false);
    SourceManager manager(aggregator);
    window.setSourceManager(&manager);
    window.resize(1400, 900);
    window.show();
    QCOMPARE(manager.upsert(receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("127.0.0.1:0"))), QString());

    ConnectionsDialog *dialog = window.openConnections();
    QVERIFY(dialog);
    QCOMPARE(dialog->list()->topLevelItemCount(), 1);
    QCOMPARE(dialog->list()->topLevelItem(0)->text(3), QStringLiteral("listening"));

    QPointer<SourceEditorDialog> editor = dialog->addSource(SourceSpec::Kind::Prometheus);
    editor->show();
    auto field = [editor](const char *name) { return editor->findChild<QLineEdit *>(QLatin1String(name)); };
    field("name")->setText(QStringLiteral("monitoring"));
    field("address")->setText(m_prom.url().toString());
    field("caFile")->setText(pem("other-ca"));
    field("certFile")->setText(pem("client"));
    field("keyFile")->setText(key("client"));

    // A CA that did not sign Prometheus's certificate: the specific TLS reason.
    QSignalSpy tested(editor, &SourceEditorDialog::testFinished);
    QTest::mouseClick(editor->findChild<QPushButton *>(QStringLiteral("testButton")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(tested.size(), 1, 25000);
    QCOMPARE(tested.at(0).at(0).toBool(), false);
    QVERIFY2(
        editor->testResult().contains(QLatin1String("is not signed by the CA in")), qPrintable(editor->testResult()));
    QVERIFY(!manager.contains(editor->spec().id));  // a test adds nothing

    // The right CA: OK, with the certificate's subject, SPIFFE id and the expiry warning.
    field("caFile")->setText(pem("ca"));
    QTest::mouseClick(editor->findChild<QPushButton *>(QStringLiteral("testButton")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(tested.size(), 2, 25000);
    QVERIFY2(tested.at(1).at(0).toBool(), qPrintable(editor->testResult()));
    const QString result = editor->testResult();
    QVERIFY2(result.contains(QLatin1String("CN=prometheus.test")), qPrintable(result));
    QVERIFY2(result.contains(QLatin1String("spiffe://mesh.test/ns/monitoring/sa/prometheus")), qPrintable(result));
    QVERIFY2(result.contains(QLatin1String("expires soon")), qPrintable(result));
    const QString shown = editor->findChild<QTextBrowser *>(QStringLiteral("testResult"))->toPlainText();
    QVERIFY2(shown.contains(QLatin1String("renew it")), qPrintable(shown));

    if (const QByteArray dir = qgetenv("MESHSCOPE_SCREENSHOT_DIR"); !dir.isEmpty())
        editor->grab().save(QString::fromUtf8(dir) + QStringLiteral("/source-editor.png"));

    // A bad address keeps the editor open with the reason.
    field("address")->setText(QStringLiteral("prometheus.test:9090"));
    editor->findChild<QDialogButtonBox *>(QStringLiteral("buttons"))->button(QDialogButtonBox::Save)->click();
    QVERIFY(editor->isVisible());
    const QString refused = editor->findChild<QLabel *>(QStringLiteral("error"))->text();
    QVERIFY2(refused.contains(QLatin1String("must start with http://")), qPrintable(refused));

    // Save starts it; the list, the details and the status bar follow.
    const QString id = editor->spec().id;
    field("address")->setText(m_prom.url().toString());
    editor->findChild<QDialogButtonBox *>(QStringLiteral("buttons"))->button(QDialogButtonBox::Save)->click();
    QTRY_VERIFY(!editor);  // closed and deleted
    QVERIFY(manager.contains(id));
    QTRY_COMPARE_WITH_TIMEOUT(manager.status(id).state, SourceManager::State::Connected, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!manager.status(id).serverCertificate.isNull(), 20000);
    QCOMPARE(dialog->list()->topLevelItemCount(), 2);
    dialog->selectSource(id);
    QTRY_VERIFY(dialog->details()->toPlainText().contains(QLatin1String("Server certificate")));
    QVERIFY(dialog->details()->toPlainText().contains(QLatin1String("renew it")));
    QTRY_VERIFY2(window.statusText().contains(QStringLiteral("monitoring: connected · certificate expires in")),
        qPrintable(window.statusText()));
    // And the timeline has it, once, however often the source reports.
    auto certificateMarkers = [&window] {
        return std::count_if(window.timeline()->markers().begin(), window.timeline()->markers().end(),
            [](const TimelineStrip::Marker &m) { return m.kind == TimelineStrip::Marker::Kind::CertificateWarning; });
    };
    QTRY_COMPARE(certificateMarkers(), 1);
    const auto markers = window.timeline()->markers();
    const auto cert = std::find_if(markers.begin(), markers.end(),
        [](const TimelineStrip::Marker &m) { return m.kind == TimelineStrip::Marker::Kind::CertificateWarning; });
    QVERIFY2(cert->text.startsWith(QStringLiteral("monitoring: certificate "))
            && cert->text.contains(QStringLiteral("expires soon")),
        qPrintable(cert->text));
    QTest::qWait(300);
    QCOMPARE(certificateMarkers(), 1);

    if (const QByteArray dir = qgetenv("MESHSCOPE_SCREENSHOT_DIR"); !dir.isEmpty()) {
        dialog->grab().save(QString::fromUtf8(dir) + QStringLiteral("/connections.png"));
        window.grab().save(QString::fromUtf8(dir) + QStringLiteral("/connections-window.png"));
    }

    // Switching it off from the dialog stops it and withdraws its edges.
    dialog->findChild<QPushButton *>(QStringLiteral("toggleSource"))->click();
    QCOMPARE(manager.status(id).state, SourceManager::State::Disabled);
    QVERIFY(!window.statusText().contains(QLatin1String("monitoring:")));
}

void TestConnections::envoyAdminHealthInInspect()
{
    AdminServer server;
    QVERIFY(server.start());
    GraphAggregator aggregator;
    MainWindow window(&aggregator, QStringLiteral("health"));
    window.setPersistenceEnabled(false);
    SourceManager manager(aggregator);
    window.setSourceManager(&manager);
    SourceSpec envoy;
    envoy.id = SourceSpec::newId();
    envoy.kind = SourceSpec::Kind::EnvoyAdmin;
    envoy.address = server.url();
    envoy.proxyName = QStringLiteral("edge/front-proxy");
    envoy.pollIntervalMs = 500;
    QCOMPARE(manager.upsert(envoy), QString());

    InspectPanel *inspect = window.inspectPanel();
    inspect->showNode(QStringLiteral("edge/front-proxy"));
    QTRY_VERIFY_WITH_TIMEOUT(inspect->upstreamTabShown(), 10000);
    UpstreamHealthModel *model = inspect->upstreamModel();
    // Upstreams only: the served /clusters also holds inbound and internal clusters.
    QVERIFY(model->rowCount() >= 3);
    bool sawEjected = false, sawFailedHc = false;
    for (int r = 0; r < model->rowCount(); ++r) {
        const QString name = model->index(r, UpstreamHealthModel::Cluster).data().toString();
        const QString ejected = model->index(r, UpstreamHealthModel::Ejected).data().toString();
        QVERIFY2(!name.startsWith(QLatin1String("inbound|")), qPrintable(name));
        if (model->index(r, UpstreamHealthModel::Cluster).data(UpstreamHealthModel::NodeIdRole).toString()
            == QLatin1String("bookinfo/reviews@v2")) {
            sawFailedHc = ejected.contains(QLatin1String("1 failed HC"));
            QVERIFY(model->index(r, 0)
                        .data(Qt::ToolTipRole)
                        .toString()
                        .contains(QLatin1String("failed_active_health_check")));
        }
        if (model->index(r, UpstreamHealthModel::Hosts).data().toString() == QLatin1String("1 / 2")
            && ejected == QLatin1String("1"))
            sawEjected = true;
    }
    QVERIFY(sawEjected);
    QVERIFY(sawFailedHc);
    QVERIFY(model->troubledCount() >= 2);

    // Another node has no such tab; removing the source withdraws it.
    inspect->showNode(QStringLiteral("bookinfo/reviews@v2"));
    QVERIFY(!inspect->upstreamTabShown());
    inspect->showNode(QStringLiteral("edge/front-proxy"));
    QVERIFY(inspect->upstreamTabShown());
    manager.remove(envoy.id);
    QVERIFY(!inspect->upstreamTabShown());
}

void TestConnections::receiverShowsClientCertificates()
{
    GraphAggregator aggregator;
    SourceManager manager(aggregator);
    SourceSpec otlp = receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("127.0.0.1:0"));
    otlp.name = QStringLiteral("mesh collector");
    otlp.tlsServer.certFile = pem("prometheus");  // names 127.0.0.1 and prometheus.test
    otlp.tlsServer.keyFile = key("prometheus");
    otlp.tlsServer.clientCaFile = pem("ca");
    otlp.tlsServer.requireClientCert = true;
    QCOMPARE(manager.upsert(otlp), QString());
    const SourceManager::Status st = manager.status(otlp.id);
    QCOMPARE(st.state, SourceManager::State::Listening);
    QVERIFY2(st.message.contains(QLatin1String("mTLS")), qPrintable(st.message));

    // gRPC's own SSL client exports one span presenting the workload's SVID.
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = readFile(pem("ca")).toStdString();
    o.pem_cert_chain = readFile(pem("workload")).toStdString();
    o.pem_private_key = readFile(key("workload")).toStdString();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("prometheus.test");
    auto stub = opentelemetry::proto::collector::trace::v1::TraceService::NewStub(
        grpc::CreateCustomChannel(st.boundAddress.toStdString(), grpc::SslCredentials(o), args));
    ExportBuilder b;
    b.resource("checkout", "shop", "v1");
    b.span(SpanKind::Server, 1, 16, 0, uint64_t(QDateTime::currentMSecsSinceEpoch()) * 1000000ull, 3000000ull,
        "POST /pay");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
    const grpc::Status status = stub->Export(&ctx, b.request(), &response);
    QVERIFY2(status.ok(), status.error_message().c_str());

    QTRY_COMPARE(manager.tlsPeers(otlp.id).size(), size_t(1));
    ConnectionsDialog dialog(&manager);
    dialog.selectSource(otlp.id);
    const QString details = dialog.details()->toPlainText();
    QVERIFY2(details.contains(QLatin1String("Clients seen (1)")), qPrintable(details));
    QVERIFY2(details.contains(QLatin1String("spiffe://mesh.test/ns/shop/sa/checkout")), qPrintable(details));
    QVERIFY2(details.contains(QLatin1String("renew it")), qPrintable(details));  // ten days left
    QVERIFY(details.contains(QLatin1String("CN=monitoring CA")));
}

void TestConnections::accessLogRequestIdTraces()
{
    QSettings().clear();
    GraphAggregator aggregator;
    TraceStore store;
    TraceStoreSink sink(store, aggregator);
    SourceManager manager(aggregator);
    manager.setIngestSink(&sink);

    // The switch is offered for access-log sources alone.
    ConnectionsDialog dialog(&manager);
    for (SourceSpec::Kind kind : {SourceSpec::Kind::OtlpReceiver, SourceSpec::Kind::Prometheus,
             SourceSpec::Kind::EnvoyAdmin, SourceSpec::Kind::AlsReceiver}) {
        SourceEditorDialog *editor = dialog.addSource(kind);
        const bool offered = editor->findChild<QCheckBox *>(QStringLiteral("requestIdTraces")) != nullptr;
        QCOMPARE(offered, kind == SourceSpec::Kind::AlsReceiver);
        QVERIFY(!editor->spec().requestIdTraces);
        delete editor;
    }

    // Off (the default): an entry with only x-request-id is counted on the graph, and
    // is no span.
    SourceSpec als = receiverSpec(SourceSpec::Kind::AlsReceiver, QStringLiteral("127.0.0.1:0"));
    QCOMPARE(manager.upsert(als), QString());
    QCOMPARE(manager.status(als.id).state, SourceManager::State::Listening);
    dialog.selectSource(als.id);
    QVERIFY2(dialog.details()->toPlainText().contains(QLatin1String("x-request-id is not used")),
        qPrintable(dialog.details()->toPlainText()));
    const char *edge = "bookinfo/reviews@v2->bookinfo/details";
    grpc::Status st = sendRequestIdEntry(manager.status(als.id).boundAddress, "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f");
    QVERIFY2(st.ok(), st.error_message().c_str());
    QTRY_COMPARE(requestsOn(aggregator, edge), uint64_t(1));
    QCOMPARE(store.counters().spans, uint64_t(0));

    // Switched on in the editor: a settings change, so the receiver restarts with it.
    QPointer<SourceEditorDialog> editor = dialog.editSelected();
    editor->show();
    auto *box = editor->findChild<QCheckBox *>(QStringLiteral("requestIdTraces"));
    QVERIFY(box && box->isVisibleTo(editor) && !box->isChecked());
    QVERIFY(!box->toolTip().isEmpty());
    box->setChecked(true);
    QVERIFY(editor->spec().requestIdTraces);
    QVERIFY(!editor->spec().sameSettings(manager.spec(als.id)));
    editor->findChild<QDialogButtonBox *>(QStringLiteral("buttons"))->button(QDialogButtonBox::Save)->click();
    QTRY_VERIFY(!editor);
    QVERIFY(manager.spec(als.id).requestIdTraces);
    QCOMPARE(manager.status(als.id).state, SourceManager::State::Listening);
    QVERIFY(dialog.details()->toPlainText().contains(QLatin1String("join traces by their x-request-id")));
    st = sendRequestIdEntry(manager.status(als.id).boundAddress, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    QVERIFY2(st.ok(), st.error_message().c_str());
    QTRY_COMPARE(requestsOn(aggregator, edge), uint64_t(2));
    QCOMPARE(store.counters().spans, uint64_t(1));
    const std::vector<TraceSummary> traces = store.search({});
    QCOMPARE(traces.size(), size_t(1));
    QCOMPARE(traceIdHex(traces.front().traceId), std::string("0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"));

    // Saved with the workspace and read back; for other kinds it is not written.
    const QString file = m_dir.filePath(QStringLiteral("request-id.ini"));
    SourceSpec plain = receiverSpec(SourceSpec::Kind::AlsReceiver, QStringLiteral("127.0.0.1:9001"));
    SourceSpec otlp = receiverSpec(SourceSpec::Kind::OtlpReceiver, QStringLiteral("127.0.0.1:4317"));
    {
        QSettings s(file, QSettings::IniFormat);
        saveSourceSpecs(s, QStringLiteral("rid"), {manager.spec(als.id), plain, otlp});
    }
    QSettings s(file, QSettings::IniFormat);
    const QList<SourceSpec> back = loadSourceSpecs(s, QStringLiteral("rid"));
    QCOMPARE(back.size(), 3);
    QVERIFY(back[0].requestIdTraces);
    QVERIFY(back[0].sameSettings(manager.spec(als.id)));
    QVERIFY(!back[1].requestIdTraces);
    QVERIFY(back[1].sameSettings(plain));
    QVERIFY(back[2].sameSettings(otlp));
    SourceSpec flipped = back[0];
    flipped.requestIdTraces = false;
    QVERIFY(!flipped.sameSettings(back[0]));
    s.beginGroup(workspaceGroup(QStringLiteral("rid")));
    QCOMPARE(s.beginReadArray(QStringLiteral("sources")), 3);
    s.setArrayIndex(2);
    QVERIFY(!s.contains(QStringLiteral("requestIdTraces")));
    s.endArray();
    s.endGroup();
}

QTEST_MAIN(TestConnections)
#include "tst_connections.moc"

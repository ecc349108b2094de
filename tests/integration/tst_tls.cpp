// TLS and mTLS end to end, with certificates the test makes with the `openssl`
// command line:
// - PrometheusClient against a real Prometheus (Debian's prometheus 2.42) serving
//   https from a web config that requires and verifies client certificates; the
//   right CA and client certificate work and the server's certificate is reported,
//   while a wrong CA, an expired server certificate, a misnamed one, a missing client
//   certificate and one from another CA each fail with their own message. The same
//   through meshscope-cli's --prometheus-* flags.
// - OtlpReceiver (and the access-log receiver and xDS control plane) serving TLS
//   with required client certificates, against gRPC's own SSL client: a client with
//   a SPIFFE certificate exports and is reported with subject, SPIFFE id and expiry;
//   one whose certificate ends within 14 days is flagged; clients without a
//   certificate, with one from another CA, or trusting the wrong CA are refused.

#include "common/otlpbuilder.h"
#include "common/testpki.h"
#include "common/tlsprometheus.h"
#include "envoy/service/accesslog/v3/als.grpc.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "graph/graphaggregator.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "routing/xds/xdscontrolplane.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <grpcpp/grpcpp.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <memory>

using namespace meshscope;
using namespace meshscope::test;

namespace collector = opentelemetry::proto::collector::trace::v1;
namespace als = envoy::service::accesslog::v3;
namespace discovery = envoy::service::discovery::v3;

namespace {

uint64_t wallNowNs()
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

ExportBuilder::Request spanRequest(uint64_t base, int spans)
{
    ExportBuilder b;
    b.resource("checkout", "shop", "v1");
    const uint64_t t = wallNowNs() - 20 * kMsNs;
    for (int i = 0; i < spans; ++i)
        b.span(SpanKind::Server, base + uint64_t(i), base * 16 + uint64_t(i), 0, t, 3 * kMsNs, "POST /checkout");
    return b.request();
}

}  // namespace

class TestTls : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void prometheusMutualTls();
    void prometheusWrongCa();
    void prometheusMissingClientCertificate();
    void prometheusClientCertificateFromOtherCa();
    void prometheusExpiredServerCertificate();
    void prometheusHostnameMismatch();
    void prometheusUnusableTlsFiles();
    void cliPrometheusTlsFlags();

    void otlpMutualTls();
    void otlpFlagsClientCertificateExpiringSoon();
    void otlpRefusesClientWithoutCertificate();
    void otlpRefusesClientCertificateFromOtherCa();
    void otlpClientTrustingWrongCaFails();
    void otlpServerTlsWithoutClientCertificates();
    void listenerRejectsUnusableFiles();
    void alsAndXdsRecordTlsPeers();
    void cliReceiverTlsFlags();
    void cliXdsServeTls();

private:
    QString pem(const char *name) const { return m_pki->pem(QLatin1String(name)); }
    QString key(const char *name) const { return m_pki->key(QLatin1String(name)); }

    PrometheusConfig promConfig(const TlsPrometheus &p, const char *ca, const char *client) const
    {
        PrometheusConfig c;
        c.url = p.url();
        c.timeoutMs = 10000;
        if (ca)
            c.tls.caFile = pem(ca);
        if (client) {
            c.tls.certFile = pem(client);
            c.tls.keyFile = key(client);
        }
        return c;
    }

    TlsServerOptions receiverTls(bool require = true) const
    {
        TlsServerOptions t;
        t.certFile = pem("otlp-server");
        t.keyFile = key("otlp-server");
        t.clientCaFile = pem("ca");
        t.requireClientCert = require;
        return t;
    }

    // An OTLP receiver on a free loopback port, serving TLS as `tls` says.
    static OtlpReceiverConfig otlpConfig(const TlsServerOptions &tls)
    {
        OtlpReceiverConfig rc;
        rc.listenAddress = "127.0.0.1:0";
        rc.tls = tls;
        return rc;
    }

    // gRPC's SSL client: trusts `ca`, presents `client` (none when null), and checks
    // the server's name against otlp.test.
    std::shared_ptr<grpc::Channel> channel(const std::string &address, const char *ca, const char *client) const
    {
        grpc::SslCredentialsOptions o;
        o.pem_root_certs = readFile(pem(ca)).toStdString();
        if (client) {
            o.pem_cert_chain = readFile(pem(client)).toStdString();
            o.pem_private_key = readFile(key(client)).toStdString();
        }
        grpc::ChannelArguments args;
        args.SetSslTargetNameOverride("otlp.test");
        // A fresh connection per channel: each test's handshake is its own.
        args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
        return grpc::CreateCustomChannel(address, grpc::SslCredentials(o), args);
    }

    static grpc::Status exportOnce(const std::shared_ptr<grpc::Channel> &ch, const ExportBuilder::Request &req)
    {
        auto stub = collector::TraceService::NewStub(ch);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        collector::ExportTraceServiceResponse resp;
        return stub->Export(&ctx, req, &resp);
    }

    static const TlsPeer *findSpiffe(const std::vector<TlsPeer> &peers, const QString &spiffe)
    {
        for (const TlsPeer &p : peers) {
            if (p.certificate.spiffeId() == spiffe)
                return &p;
        }
        return nullptr;
    }

    QTemporaryDir m_dir;
    std::unique_ptr<TestPki> m_pki;
    QString m_prometheusBinary;
    TlsPrometheus m_prom;  // valid certificate
    TlsPrometheus m_expiredProm;  // certificate that ended on 2020-02-01
};

void TestTls::initTestCase()
{
    QVERIFY2(!TestPki::opensslPath().isEmpty(), "the openssl command is not installed");
    QVERIFY(m_dir.isValid());
    m_pki = std::make_unique<TestPki>(m_dir.path());
    TestPki &pki = *m_pki;
    const auto check = [&pki](bool ok) {
        if (!ok)
            qWarning("%s", qPrintable(pki.lastError()));
        return ok;
    };
    QVERIFY(check(pki.makeCa(QStringLiteral("ca"), QStringLiteral("meshscope test CA"))));
    QVERIFY(check(pki.makeCa(QStringLiteral("other-ca"), QStringLiteral("other CA"))));
    QVERIFY(check(pki.makeLeaf(QStringLiteral("prometheus"), QStringLiteral("ca"),
        QStringLiteral("/O=monitoring/CN=prometheus.test"), QStringLiteral("DNS:prometheus.test,IP:127.0.0.1"), 90)));
    QVERIFY(check(pki.makeLeafWithDates(QStringLiteral("prometheus-expired"), QStringLiteral("ca"),
        QStringLiteral("/CN=prometheus.test"), QStringLiteral("DNS:prometheus.test,IP:127.0.0.1"),
        QStringLiteral("20200101000000Z"), QStringLiteral("20200201000000Z"))));
    QVERIFY(check(pki.makeLeaf(QStringLiteral("meshscope"), QStringLiteral("ca"),
        QStringLiteral("/O=meshscope/CN=meshscope-client"),
        QStringLiteral("URI:spiffe://meshscope.test/ns/observability/sa/meshscope"), 90)));
    QVERIFY(check(pki.makeLeaf(QStringLiteral("intruder"), QStringLiteral("other-ca"), QStringLiteral("/CN=intruder"),
        QStringLiteral("URI:spiffe://elsewhere.test/ns/x/sa/intruder"), 90)));
    QVERIFY(check(pki.makeLeaf(QStringLiteral("otlp-server"), QStringLiteral("ca"), QStringLiteral("/CN=otlp.test"),
        QStringLiteral("DNS:otlp.test,IP:127.0.0.1"), 90)));
    QVERIFY(check(pki.makeLeaf(QStringLiteral("checkout"), QStringLiteral("ca"), QStringLiteral("/O=shop/CN=checkout"),
        QStringLiteral("DNS:checkout.shop.svc,URI:spiffe://meshscope.test/ns/shop/sa/checkout"), 90)));
    QVERIFY(check(pki.makeLeaf(QStringLiteral("cart"), QStringLiteral("ca"), QStringLiteral("/O=shop/CN=cart"),
        QStringLiteral("URI:spiffe://meshscope.test/ns/shop/sa/cart"), 5)));

    m_prometheusBinary = findTool("prometheus");
    if (m_prometheusBinary.isEmpty())
        return;  // the Prometheus tests skip, saying why; the gRPC ones still run
    QString error;
    QVERIFY2(m_prom.start(m_prometheusBinary, m_dir.filePath(QStringLiteral("prom")), pem("prometheus"),
                 key("prometheus"), pem("ca"), &error),
        qPrintable(error));
    QVERIFY2(m_expiredProm.start(m_prometheusBinary, m_dir.filePath(QStringLiteral("prom-expired")),
                 pem("prometheus-expired"), key("prometheus-expired"), pem("ca"), &error),
        qPrintable(error));
    QVERIFY2(m_prom.waitReady(promConfig(m_prom, "ca", "meshscope"), 30000, &error),
        qPrintable(QStringLiteral("Prometheus did not become ready: ") + error));
    PrometheusConfig lax = promConfig(m_expiredProm, nullptr, "meshscope");
    lax.tls.insecureSkipVerify = true;
    QVERIFY2(m_expiredProm.waitReady(lax, 30000, &error),
        qPrintable(QStringLiteral("Prometheus with the expired certificate did not become ready: ") + error));
}

void TestTls::cleanupTestCase()
{
    m_prom.stop();
    m_expiredProm.stop();
}

void TestTls::prometheusMutualTls()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    const PromResult r
        = PrometheusClient::querySync(promConfig(m_prom, "ca", "meshscope"), QStringLiteral("vector(7)"), std::nullopt);
    QVERIFY2(r.ok(), qPrintable(r.message));
    QCOMPARE(r.httpStatus, 200);
    QCOMPARE(r.resultType, QStringLiteral("vector"));
    QCOMPARE(r.vector.size(), size_t(1));
    QCOMPARE(r.vector[0].value, 7.0);

    const PeerCertificate &c = r.peerCertificate;
    QVERIFY(!c.isNull());
    QCOMPARE(c.subject, QStringLiteral("CN=prometheus.test,O=monitoring"));
    QCOMPARE(c.issuer, QStringLiteral("CN=meshscope test CA,O=meshscope tests"));
    QCOMPARE(c.dnsNames, QStringList {QStringLiteral("prometheus.test")});
    QCOMPARE(c.ipAddresses, QStringList {QStringLiteral("127.0.0.1")});
    QCOMPARE(c.sha256Fingerprint, parsePeerCertificatePem(readFile(pem("prometheus"))).sha256Fingerprint);

    // A long-lived client keeps the certificate of its latest answer.
    PrometheusClient client(promConfig(m_prom, "ca", "meshscope"));
    QVERIFY(client.lastPeerCertificate().isNull());
    bool done = false;
    PromResult async;
    client.query(QStringLiteral("up"), std::nullopt, [&](PromResult res) {
        async = std::move(res);
        done = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 15000);
    QVERIFY2(async.ok(), qPrintable(async.message));
    QCOMPARE(client.lastPeerCertificate().subject, QStringLiteral("CN=prometheus.test,O=monitoring"));
    QVERIFY(!client.lastPeerCertificate().expiresSoon(QDateTime::currentDateTimeUtc()));
}

void TestTls::prometheusWrongCa()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    const PromResult r
        = PrometheusClient::querySync(promConfig(m_prom, "other-ca", "meshscope"), QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Tls);
    const QString expected = QStringLiteral("TLS: the certificate of %1 is not signed by the CA in 'other-ca.pem' "
                                            "(issuer: CN=meshscope test CA,O=meshscope tests; ")
                                 .arg(m_prom.hostPort());
    QVERIFY2(r.message.contains(expected), qPrintable(r.message));
    QVERIFY2(r.message.startsWith(QStringLiteral("cannot reach Prometheus at https://%1: ").arg(m_prom.hostPort())),
        qPrintable(r.message));
    QVERIFY(!r.transient());
}

void TestTls::prometheusMissingClientCertificate()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    const PromResult r
        = PrometheusClient::querySync(promConfig(m_prom, "ca", nullptr), QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Tls);
    QVERIFY2(r.message.endsWith(
                 QStringLiteral("TLS: %1 requires a client certificate; none was configured").arg(m_prom.hostPort())),
        qPrintable(r.message));
}

void TestTls::prometheusClientCertificateFromOtherCa()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    const PromResult r
        = PrometheusClient::querySync(promConfig(m_prom, "ca", "intruder"), QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Tls);
    QVERIFY2(r.message.contains(
                 QStringLiteral("TLS: %1 rejected the client certificate 'intruder.pem' (").arg(m_prom.hostPort())),
        qPrintable(r.message));
    // Our own certificate has run out: the server only says "bad certificate", and
    // meshscope names the reason it can see.
    const PromResult expired = PrometheusClient::querySync(
        promConfig(m_prom, "ca", "prometheus-expired"), QStringLiteral("1"), std::nullopt);
    QCOMPARE(expired.kind, PromResult::Error::Tls);
    QVERIFY2(
        expired.message.endsWith(QStringLiteral("TLS: %1 rejected the client certificate 'prometheus-expired.pem', "
                                                "which expired on 2020-02-01")
                                     .arg(m_prom.hostPort())),
        qPrintable(expired.message));
}

void TestTls::prometheusExpiredServerCertificate()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    const PromResult r
        = PrometheusClient::querySync(promConfig(m_expiredProm, "ca", "meshscope"), QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Tls);
    QVERIFY2(r.message.endsWith(
                 QStringLiteral("TLS: the certificate of %1 expired on 2020-02-01").arg(m_expiredProm.hostPort())),
        qPrintable(r.message));

    // Skipping verification (a lab) gets through, and the certificate shows as expired.
    PrometheusConfig lax = promConfig(m_expiredProm, nullptr, "meshscope");
    lax.tls.insecureSkipVerify = true;
    const PromResult ok = PrometheusClient::querySync(lax, QStringLiteral("1"), std::nullopt);
    QVERIFY2(ok.ok(), qPrintable(ok.message));
    QVERIFY(ok.peerCertificate.expired(QDateTime::currentDateTimeUtc()));
    QVERIFY2(
        ok.peerCertificate.summary(QDateTime::currentDateTimeUtc()).endsWith(QLatin1String("EXPIRED on 2020-02-01")),
        qPrintable(ok.peerCertificate.summary(QDateTime::currentDateTimeUtc())));
}

void TestTls::prometheusHostnameMismatch()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    // The certificate names prometheus.test and 127.0.0.1, not localhost.
    PrometheusConfig c = promConfig(m_prom, "ca", "meshscope");
    c.url = m_prom.url(QStringLiteral("localhost"));
    const PromResult r = PrometheusClient::querySync(c, QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Tls);
    QVERIFY2(r.message.endsWith(QStringLiteral("TLS: the certificate of localhost:%1 is for DNS:prometheus.test, "
                                               "IP:127.0.0.1, not localhost")
                                    .arg(m_prom.port())),
        qPrintable(r.message));
}

void TestTls::prometheusUnusableTlsFiles()
{
    PrometheusConfig c;
    c.url = QUrl(QStringLiteral("https://127.0.0.1:%1").arg(m_prom.port() ? m_prom.port() : 9));
    c.tls.caFile = m_dir.filePath(QStringLiteral("missing-ca.pem"));
    PromResult r = PrometheusClient::querySync(c, QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Config);
    QVERIFY2(r.message.contains(QStringLiteral("cannot read CA file '%1'").arg(c.tls.caFile)), qPrintable(r.message));

    c.tls.caFile = pem("ca");
    c.tls.certFile = pem("meshscope");
    c.tls.keyFile = pem("meshscope");  // a certificate where the key should be
    r = PrometheusClient::querySync(c, QStringLiteral("1"), std::nullopt);
    QCOMPARE(r.kind, PromResult::Error::Config);
    QVERIFY2(r.message.contains(QStringLiteral("no unencrypted RSA or EC private key in '%1'").arg(pem("meshscope"))),
        qPrintable(r.message));
}

void TestTls::cliPrometheusTlsFlags()
{
    MESHSCOPE_REQUIRE_PEER(!m_prometheusBinary.isEmpty(), "prometheus");
    const QString url = m_prom.url().toString();
    auto run = [](const QStringList &args, QByteArray *out, QByteArray *err) {
        QProcess p;
        p.start(QStringLiteral(MESHSCOPE_CLI_PATH), args);
        if (!p.waitForFinished(30000))
            return -1;
        *out = p.readAllStandardOutput();
        *err = p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    QByteArray out, err;
    int code = run({QStringLiteral("graph"), QStringLiteral("--prometheus"), url, QStringLiteral("--prometheus-ca"),
                       pem("ca"), QStringLiteral("--prometheus-cert"), pem("meshscope"),
                       QStringLiteral("--prometheus-key"), key("meshscope")},
        &out, &err);
    QVERIFY2(code == 0, err.constData());
    QVERIFY2(out.startsWith("{\"edges\":") || out.startsWith("{"), out.constData());
    QVERIFY2(err.contains("0 edges from Prometheus"), err.constData());

    code = run({QStringLiteral("graph"), QStringLiteral("--prometheus"), url, QStringLiteral("--prometheus-ca"),
                   pem("other-ca"), QStringLiteral("--prometheus-cert"), pem("meshscope"),
                   QStringLiteral("--prometheus-key"), key("meshscope")},
        &out, &err);
    QCOMPARE(code, 1);
    QVERIFY2(err.contains(QStringLiteral("TLS: the certificate of %1 is not signed by the CA in 'other-ca.pem'")
                              .arg(m_prom.hostPort())
                              .toUtf8()),
        err.constData());

    code = run(
        {QStringLiteral("graph"), QStringLiteral("--prometheus"), url, QStringLiteral("--prometheus-ca"), pem("ca")},
        &out, &err);
    QCOMPARE(code, 1);
    QVERIFY2(err.contains(QStringLiteral("TLS: %1 requires a client certificate; none was configured")
                              .arg(m_prom.hostPort())
                              .toUtf8()),
        err.constData());

    const QString missing = m_dir.filePath(QStringLiteral("nope.pem"));
    code = run(
        {QStringLiteral("graph"), QStringLiteral("--prometheus"), url, QStringLiteral("--prometheus-ca"), missing},
        &out, &err);
    QCOMPARE(code, 2);
    QCOMPARE(QString::fromUtf8(err).trimmed(),
        QStringLiteral("meshscope-cli graph: --prometheus-ca '%1': no such file").arg(missing));

    code = run({QStringLiteral("graph"), QStringLiteral("--prometheus"), url, QStringLiteral("--prometheus-cert"),
                   pem("meshscope")},
        &out, &err);
    QCOMPARE(code, 2);
    QCOMPARE(QString::fromUtf8(err).trimmed(),
        QStringLiteral("meshscope-cli graph: --prometheus-cert needs --prometheus-key"));
}

void TestTls::otlpMutualTls()
{
    GraphAggregator agg;
    OtlpReceiver receiver(agg, otlpConfig(receiverTls()));
    std::string error;
    QVERIFY2(receiver.start(&error), error.c_str());
    QVERIFY(receiver.tlsPeers().empty());

    const grpc::Status st = exportOnce(channel(receiver.boundAddress(), "ca", "checkout"), spanRequest(1000, 5));
    QVERIFY2(st.ok(), st.error_message().c_str());
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->counters.spansReceived, uint64_t(5));

    const std::vector<TlsPeer> peers = receiver.tlsPeers();
    QCOMPARE(peers.size(), size_t(1));
    const TlsPeer &p = peers[0];
    QVERIFY2(QString::fromStdString(p.address).startsWith(QLatin1String("ipv4:127.0.0.1:")), p.address.c_str());
    QCOMPARE(p.calls, uint64_t(1));
    QCOMPARE(p.certificate.subject, QStringLiteral("CN=checkout,O=shop"));
    QCOMPARE(p.certificate.spiffeId(), QStringLiteral("spiffe://meshscope.test/ns/shop/sa/checkout"));
    QCOMPARE(p.certificate.dnsNames, QStringList {QStringLiteral("checkout.shop.svc")});
    QCOMPARE(p.certificate.issuer, QStringLiteral("CN=meshscope test CA,O=meshscope tests"));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(qAbs(now.addDays(90).secsTo(p.certificate.notAfter)) < 600);
    QVERIFY(!p.certificate.expiresSoon(now));
    QVERIFY(!p.certificate.expired(now));
    QCOMPARE(p.certificate.sha256Fingerprint, parsePeerCertificatePem(readFile(pem("checkout"))).sha256Fingerprint);

    // More calls on the same connection refresh the entry instead of adding one.
    auto ch = channel(receiver.boundAddress(), "ca", "checkout");
    QVERIFY(exportOnce(ch, spanRequest(2000, 1)).ok());
    QVERIFY(exportOnce(ch, spanRequest(3000, 1)).ok());
    const std::vector<TlsPeer> after = receiver.tlsPeers();
    QCOMPARE(after.size(), size_t(2));  // the second channel is a second connection
    QCOMPARE(after[0].calls, uint64_t(2));
    QVERIFY(after[0].address != p.address);
    receiver.stop();
}

void TestTls::otlpFlagsClientCertificateExpiringSoon()
{
    GraphAggregator agg;
    OtlpReceiver receiver(agg, otlpConfig(receiverTls()));
    std::string error;
    QVERIFY2(receiver.start(&error), error.c_str());
    QVERIFY(exportOnce(channel(receiver.boundAddress(), "ca", "checkout"), spanRequest(4000, 1)).ok());
    QVERIFY(exportOnce(channel(receiver.boundAddress(), "ca", "cart"), spanRequest(5000, 1)).ok());

    const std::vector<TlsPeer> peers = receiver.tlsPeers();
    QCOMPARE(peers.size(), size_t(2));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const TlsPeer *cart = findSpiffe(peers, QStringLiteral("spiffe://meshscope.test/ns/shop/sa/cart"));
    const TlsPeer *checkout = findSpiffe(peers, QStringLiteral("spiffe://meshscope.test/ns/shop/sa/checkout"));
    QVERIFY(cart && checkout);
    QVERIFY(cart->certificate.expiresSoon(now));
    QCOMPARE(cart->certificate.daysLeft(now), qint64(4));
    QVERIFY2(cart->certificate.summary(now).contains(QLatin1String("expires soon")),
        qPrintable(cart->certificate.summary(now)));
    QVERIFY(!checkout->certificate.expiresSoon(now));
    QVERIFY(!checkout->certificate.summary(now).contains(QLatin1String("expires soon")));
}

void TestTls::otlpRefusesClientWithoutCertificate()
{
    GraphAggregator agg;
    OtlpReceiver receiver(agg, otlpConfig(receiverTls()));
    std::string error;
    QVERIFY2(receiver.start(&error), error.c_str());
    const grpc::Status st = exportOnce(channel(receiver.boundAddress(), "ca", nullptr), spanRequest(6000, 3));
    QVERIFY(!st.ok());
    QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->counters.spansReceived, uint64_t(0));
    QVERIFY(receiver.tlsPeers().empty());
    // The receiver still serves clients that have one.
    QVERIFY(exportOnce(channel(receiver.boundAddress(), "ca", "checkout"), spanRequest(6100, 1)).ok());
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->counters.spansReceived, uint64_t(1));
}

void TestTls::otlpRefusesClientCertificateFromOtherCa()
{
    GraphAggregator agg;
    OtlpReceiver receiver(agg, otlpConfig(receiverTls()));
    std::string error;
    QVERIFY2(receiver.start(&error), error.c_str());
    const grpc::Status st = exportOnce(channel(receiver.boundAddress(), "ca", "intruder"), spanRequest(7000, 3));
    QVERIFY(!st.ok());
    QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->counters.spansReceived, uint64_t(0));
    QVERIFY(receiver.tlsPeers().empty());
}

void TestTls::otlpClientTrustingWrongCaFails()
{
    GraphAggregator agg;
    OtlpReceiver receiver(agg, otlpConfig(receiverTls()));
    std::string error;
    QVERIFY2(receiver.start(&error), error.c_str());
    // The client has a good certificate but does not trust the receiver's.
    const grpc::Status st = exportOnce(channel(receiver.boundAddress(), "other-ca", "checkout"), spanRequest(8000, 3));
    QVERIFY(!st.ok());
    QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->counters.spansReceived, uint64_t(0));
    QVERIFY(receiver.tlsPeers().empty());
}

void TestTls::otlpServerTlsWithoutClientCertificates()
{
    // Server TLS only: clients need no certificate; one that sends a certificate
    // signed by the client CA is still identified.
    GraphAggregator agg;
    OtlpReceiver receiver(agg, otlpConfig(receiverTls(false)));
    std::string error;
    QVERIFY2(receiver.start(&error), error.c_str());
    QVERIFY(exportOnce(channel(receiver.boundAddress(), "ca", nullptr), spanRequest(9000, 2)).ok());
    QVERIFY(receiver.tlsPeers().empty());
    QVERIFY(exportOnce(channel(receiver.boundAddress(), "ca", "checkout"), spanRequest(9100, 2)).ok());
    QCOMPARE(receiver.tlsPeers().size(), size_t(1));
    QCOMPARE(agg.snapshot(GraphAggregator::wallNowMs())->counters.spansReceived, uint64_t(4));
    // A plaintext client cannot talk to a TLS receiver.
    auto plain = grpc::CreateChannel(receiver.boundAddress(), grpc::InsecureChannelCredentials());
    QVERIFY(!exportOnce(plain, spanRequest(9200, 1)).ok());
}

void TestTls::listenerRejectsUnusableFiles()
{
    GraphAggregator agg;
    auto startWith = [&agg](const TlsServerOptions &tls) {
        OtlpReceiver receiver(agg, otlpConfig(tls));
        std::string error;
        const bool ok = receiver.start(&error);
        return ok ? std::string("started") : error;
    };
    TlsServerOptions t = receiverTls();
    t.certFile = m_dir.filePath(QStringLiteral("no-such-cert.pem"));
    QCOMPARE(startWith(t),
        "cannot listen for OTLP on 127.0.0.1:0: cannot read TLS certificate file '" + t.certFile.toStdString()
            + "': No such file or directory");
    t = receiverTls();
    t.keyFile = key("checkout");  // another certificate's key
    QCOMPARE(startWith(t),
        "cannot listen for OTLP on 127.0.0.1:0: TLS key '" + t.keyFile.toStdString()
            + "' does not match the certificate '" + t.certFile.toStdString() + "'");
    t = receiverTls();
    t.keyFile = pem("otlp-server");
    QCOMPARE(startWith(t),
        "cannot listen for OTLP on 127.0.0.1:0: no unencrypted PEM private key in TLS key file '"
            + t.keyFile.toStdString() + "'");
    t = receiverTls();
    t.certFile = key("otlp-server");
    QCOMPARE(startWith(t),
        "cannot listen for OTLP on 127.0.0.1:0: no PEM certificate in TLS certificate file '" + t.certFile.toStdString()
            + "'");
    t = receiverTls();
    t.clientCaFile.clear();
    QCOMPARE(startWith(t),
        std::string("cannot listen for OTLP on 127.0.0.1:0: requiring client certificates needs a client CA file"));
    QCOMPARE(startWith(receiverTls()), std::string("started"));
}

void TestTls::alsAndXdsRecordTlsPeers()
{
    GraphAggregator agg;
    AlsReceiverConfig ac;
    ac.listenAddress = "127.0.0.1:0";
    ac.tls = receiverTls();
    AlsReceiver alsReceiver(agg, ac);
    std::string error;
    QVERIFY2(alsReceiver.start(&error), error.c_str());
    {
        auto stub = als::AccessLogService::NewStub(channel(alsReceiver.boundAddress(), "ca", "checkout"));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        als::StreamAccessLogsResponse resp;
        auto writer = stub->StreamAccessLogs(&ctx, &resp);
        als::StreamAccessLogsMessage m;
        m.mutable_identifier()->mutable_node()->set_id("sidecar~10.0.0.1~checkout-1.shop~shop.svc.cluster.local");
        QVERIFY(writer->Write(m));
        QVERIFY(writer->WritesDone());
        const grpc::Status st = writer->Finish();
        QVERIFY2(st.ok(), st.error_message().c_str());
    }
    QCOMPARE(alsReceiver.tlsPeers().size(), size_t(1));
    QCOMPARE(alsReceiver.tlsPeers()[0].certificate.spiffeId(),
        QStringLiteral("spiffe://meshscope.test/ns/shop/sa/checkout"));
    {
        auto stub = als::AccessLogService::NewStub(channel(alsReceiver.boundAddress(), "ca", nullptr));
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        als::StreamAccessLogsResponse resp;
        auto writer = stub->StreamAccessLogs(&ctx, &resp);
        writer->WritesDone();
        QCOMPARE(writer->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
    }
    QCOMPARE(alsReceiver.counters().streamsOpened, uint64_t(1));
    alsReceiver.stop();

    routing::XdsControlPlaneConfig xc;
    xc.listenAddress = "127.0.0.1:0";
    xc.tls = receiverTls();
    routing::XdsControlPlane controlPlane(xc);
    QVERIFY2(controlPlane.start(&error), error.c_str());
    auto stub = discovery::AggregatedDiscoveryService::NewStub(channel(controlPlane.boundAddress(), "ca", "cart"));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub->StreamAggregatedResources(&ctx);
    discovery::DiscoveryRequest req;
    req.mutable_node()->set_id("meshscope-test");
    req.set_type_url("type.googleapis.com/envoy.config.listener.v3.Listener");
    QVERIFY(stream->Write(req));
    QTRY_COMPARE_WITH_TIMEOUT(controlPlane.tlsPeers().size(), size_t(1), 10000);
    const TlsPeer peer = controlPlane.tlsPeers()[0];
    QCOMPARE(peer.certificate.spiffeId(), QStringLiteral("spiffe://meshscope.test/ns/shop/sa/cart"));
    QVERIFY(peer.certificate.expiresSoon(QDateTime::currentDateTimeUtc()));
    const std::vector<routing::XdsClientStatus> clients = controlPlane.clients();
    QCOMPARE(clients.size(), size_t(1));
    QCOMPARE(clients[0].peer, peer.address);
    ctx.TryCancel();
    stream->Finish();
    controlPlane.stop();
}

void TestTls::cliReceiverTlsFlags()
{
    auto runBad = [](const QStringList &args) {
        QProcess p;
        p.start(QStringLiteral(MESHSCOPE_CLI_PATH), args);
        p.waitForFinished(30000);
        return std::make_pair(p.exitCode(), QString::fromUtf8(p.readAllStandardError()).trimmed());
    };
    const QString missing = m_dir.filePath(QStringLiteral("absent.pem"));
    auto r = runBad({QStringLiteral("graph"), QStringLiteral("--tls-cert"), missing, QStringLiteral("--tls-key"),
        key("otlp-server")});
    QCOMPARE(r.first, 2);
    QCOMPARE(r.second, QStringLiteral("meshscope-cli graph: --tls-cert '%1': no such file").arg(missing));
    r = runBad({QStringLiteral("graph"), QStringLiteral("--tls-cert"), pem("otlp-server"), QStringLiteral("--tls-key"),
        key("otlp-server"), QStringLiteral("--tls-require-client-cert")});
    QCOMPARE(r.first, 2);
    QCOMPARE(r.second, QStringLiteral("meshscope-cli graph: --tls-require-client-cert needs --tls-client-ca"));
    r = runBad({QStringLiteral("xds"), QStringLiteral("serve"), QStringLiteral("--routes"), missing,
        QStringLiteral("--tls-key"), key("otlp-server")});
    QCOMPARE(r.first, 2);
    QCOMPARE(r.second, QStringLiteral("meshscope-cli xds: --tls-key needs --tls-cert"));

    // A TLS OTLP receiver in the CLI: an mTLS client's spans arrive and the peer's
    // certificate is reported when the command ends.
    QProcess cli;
    cli.start(QStringLiteral(MESHSCOPE_CLI_PATH),
        {QStringLiteral("graph"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--duration"), QStringLiteral("4"), QStringLiteral("--tls-cert"), pem("otlp-server"),
            QStringLiteral("--tls-key"), key("otlp-server"), QStringLiteral("--tls-client-ca"), pem("ca"),
            QStringLiteral("--tls-require-client-cert")});
    QVERIFY(cli.waitForStarted(10000));
    QByteArray err;
    QElapsedTimer clock;
    clock.start();
    const QByteArray marker = "listening for OTLP on ";
    while (!(err.contains(marker) && err.indexOf('\n', err.indexOf(marker)) >= 0) && clock.elapsed() < 15000) {
        cli.waitForReadyRead(200);
        err += cli.readAllStandardError();
    }
    const qsizetype at = err.indexOf(marker);
    QVERIFY2(at >= 0, err.constData());
    QVERIFY2(err.contains("(TLS, client certificates required)"), err.constData());
    const QByteArray address = err.mid(at + marker.size()).split(' ').first().trimmed();
    QVERIFY(exportOnce(channel(address.toStdString(), "ca", "cart"), spanRequest(10000, 2)).ok());
    QVERIFY(!exportOnce(channel(address.toStdString(), "ca", nullptr), spanRequest(11000, 2)).ok());
    QVERIFY(cli.waitForFinished(20000));
    err += cli.readAllStandardError();
    QCOMPARE(cli.exitCode(), 0);
    QVERIFY2(err.contains("spans received") && err.contains(" 2 spans received"), err.constData());
    QVERIFY2(err.contains("OTLP TLS peer ipv4:127.0.0.1:"), err.constData());
    QVERIFY2(err.contains("CN=cart,O=shop (spiffe://meshscope.test/ns/shop/sa/cart), issued by CN=meshscope test CA"),
        err.constData());
    QVERIFY2(err.contains("expires soon"), err.constData());
}

void TestTls::cliXdsServeTls()
{
    const QString routes = m_dir.filePath(QStringLiteral("routes.yaml"));
    QVERIFY(writeFile(routes,
        "apiVersion: gateway.networking.k8s.io/v1\n"
        "kind: HTTPRoute\n"
        "metadata:\n  name: echo\n  namespace: default\n"
        "spec:\n  hostnames: [\"echo.test\"]\n"
        "  rules:\n  - name: main\n    backendRefs:\n    - name: echo-a\n"
        "---\n"
        "apiVersion: discovery.k8s.io/v1\n"
        "kind: EndpointSlice\n"
        "metadata:\n  name: echo-a-1\n  namespace: default\n"
        "  labels:\n    kubernetes.io/service-name: echo-a\n"
        "addressType: IPv4\n"
        "ports:\n- name: grpc\n  port: 9\n  protocol: TCP\n"
        "endpoints:\n- addresses: [\"127.0.0.1\"]\n  conditions:\n    ready: true\n"));
    QProcess cli;
    cli.setProcessChannelMode(QProcess::MergedChannels);
    cli.start(QStringLiteral(MESHSCOPE_CLI_PATH),
        {QStringLiteral("xds"), QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--routes"), routes, QStringLiteral("--tls-cert"), pem("otlp-server"),
            QStringLiteral("--tls-key"), key("otlp-server"), QStringLiteral("--tls-client-ca"), pem("ca"),
            QStringLiteral("--tls-require-client-cert")});
    QByteArray output;
    auto waitFor = [&](const QString &pattern) {
        const QRegularExpression re(pattern, QRegularExpression::MultilineOption);
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 15000) {
            output += cli.readAll();
            const auto m = re.match(QString::fromUtf8(output));
            if (m.hasMatch() || cli.state() == QProcess::NotRunning)
                return m;
            cli.waitForReadyRead(100);
        }
        return QRegularExpressionMatch();
    };
    const auto listening = waitFor(
        QStringLiteral("listening for xDS clients on (127\\.0\\.0\\.1:\\d+) over TLS, client certificates required"));
    QVERIFY2(listening.hasMatch(), output.constData());

    auto stub
        = discovery::AggregatedDiscoveryService::NewStub(channel(listening.captured(1).toStdString(), "ca", "cart"));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto stream = stub->StreamAggregatedResources(&ctx);
    discovery::DiscoveryRequest req;
    req.mutable_node()->set_id("tls-client");
    req.set_type_url("type.googleapis.com/envoy.config.listener.v3.Listener");
    req.add_resource_names("echo.test");
    QVERIFY(stream->Write(req));
    discovery::DiscoveryResponse resp;
    QVERIFY(stream->Read(&resp));  // served over mTLS
    QCOMPARE(resp.resources_size(), 1);
    const auto connected
        = waitFor(QStringLiteral("client tls-client connected from ipv4:127\\.0\\.0\\.1:\\d+.*, certificate "
                                 "CN=cart,O=shop \\(spiffe://meshscope\\.test/ns/shop/sa/cart\\).*expires soon"));
    QVERIFY2(connected.hasMatch(), output.constData());
    ctx.TryCancel();
    stream->Finish();
    cli.terminate();
    QVERIFY(cli.waitForFinished(10000));
}

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"

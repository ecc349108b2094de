// PeerCertificate parsing and TlsPeerLog, on certificates the test makes with the
// `openssl` command line: subject, issuer, every kind of SAN (DNS, IPv4, IPv6, SPIFFE
// URI), exact validity dates from `openssl ca`, the 14-day warning, and the
// one-line summary; the same answers through QSslCertificate.

#include "common/testpki.h"
#include "net/peercertificate.h"

#include <QSslCertificate>
#include <QTemporaryDir>
#include <QtTest>

#include <thread>

using namespace meshscope;
using namespace meshscope::test;

class TestPeerCertificate : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void parsesSubjectIssuerAndSans();
    void exactDatesAndExpiry();
    void expiresSoonWithinFourteenDays();
    void sameThroughQSslCertificate();
    void rejectsWhatIsNotACertificate();
    void peerLogKeepsNewestAndIsBounded();

private:
    QByteArray read(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    QTemporaryDir m_dir;
    std::unique_ptr<TestPki> m_pki;
};

void TestPeerCertificate::initTestCase()
{
    if (TestPki::opensslPath().isEmpty())
        QFAIL("the openssl command is not installed");
    QVERIFY(m_dir.isValid());
    m_pki = std::make_unique<TestPki>(m_dir.path());
    QVERIFY2(m_pki->makeCa(QStringLiteral("ca"), QStringLiteral("meshscope test CA")), qPrintable(m_pki->lastError()));
    QVERIFY2(m_pki->makeLeaf(QStringLiteral("checkout"), QStringLiteral("ca"), QStringLiteral("/O=shop/CN=checkout"),
                 QStringLiteral("DNS:checkout.shop.svc,DNS:checkout.test,IP:127.0.0.1,IP:::1,"
                                "URI:https://meshscope.test/about,URI:spiffe://meshscope.test/ns/shop/sa/checkout"),
                 90),
        qPrintable(m_pki->lastError()));
    QVERIFY2(m_pki->makeLeaf(QStringLiteral("short"), QStringLiteral("ca"), QStringLiteral("/CN=short-lived"),
                 QStringLiteral("URI:spiffe://meshscope.test/ns/shop/sa/cart"), 5),
        qPrintable(m_pki->lastError()));
    QVERIFY2(m_pki->makeLeafWithDates(QStringLiteral("old"), QStringLiteral("ca"), QStringLiteral("/CN=old-service"),
                 QStringLiteral("DNS:old.test"), QStringLiteral("20200101000000Z"), QStringLiteral("20200201000000Z")),
        qPrintable(m_pki->lastError()));
}

void TestPeerCertificate::parsesSubjectIssuerAndSans()
{
    QString error;
    const PeerCertificate c = parsePeerCertificatePem(read(m_pki->pem(QStringLiteral("checkout"))), &error);
    QVERIFY2(!c.isNull(), qPrintable(error));
    QCOMPARE(c.subject, QStringLiteral("CN=checkout,O=shop"));
    QCOMPARE(c.commonName, QStringLiteral("checkout"));
    QCOMPARE(c.issuer, QStringLiteral("CN=meshscope test CA,O=meshscope tests"));
    QCOMPARE(c.dnsNames, (QStringList {QStringLiteral("checkout.shop.svc"), QStringLiteral("checkout.test")}));
    QCOMPARE(c.ipAddresses, (QStringList {QStringLiteral("127.0.0.1"), QStringLiteral("::1")}));
    QCOMPARE(c.uris,
        (QStringList {QStringLiteral("https://meshscope.test/about"),
            QStringLiteral("spiffe://meshscope.test/ns/shop/sa/checkout")}));
    // The SPIFFE id is the spiffe:// URI, not merely the first URI.
    QCOMPARE(c.spiffeId(), QStringLiteral("spiffe://meshscope.test/ns/shop/sa/checkout"));
    QCOMPARE(c.serialNumber, QStringLiteral("65"));  // -set_serial 101
    QCOMPARE(c.sha256Fingerprint.count(QLatin1Char(':')), qsizetype(31));
    QCOMPARE(c.sanText(),
        QStringLiteral("DNS:checkout.shop.svc, DNS:checkout.test, IP:127.0.0.1, IP:::1, "
                       "URI:https://meshscope.test/about, URI:spiffe://meshscope.test/ns/shop/sa/checkout"));

    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(qAbs(now.secsTo(c.notBefore)) < 300);
    QVERIFY(qAbs(now.addDays(90).secsTo(c.notAfter)) < 300);
    QCOMPARE(c.notAfter.timeSpec(), Qt::UTC);
    QCOMPARE(c.daysLeft(now), qint64(89));  // just under 90 whole days
    QVERIFY(!c.expired(now));
    QVERIFY(!c.expiresSoon(now));
    const QString summary = c.summary(now);
    QVERIFY2(summary.startsWith(QLatin1String("CN=checkout,O=shop (spiffe://meshscope.test/ns/shop/sa/checkout), "
                                              "issued by CN=meshscope test CA,O=meshscope tests, expires ")),
        qPrintable(summary));
    QVERIFY2(summary.endsWith(QLatin1String("(89 days left)")), qPrintable(summary));
}

void TestPeerCertificate::exactDatesAndExpiry()
{
    const PeerCertificate c = parsePeerCertificatePem(read(m_pki->pem(QStringLiteral("old"))));
    QVERIFY(!c.isNull());
    QCOMPARE(c.notBefore, QDateTime(QDate(2020, 1, 1), QTime(0, 0), Qt::UTC));
    QCOMPARE(c.notAfter, QDateTime(QDate(2020, 2, 1), QTime(0, 0), Qt::UTC));
    QCOMPARE(c.dnsNames, QStringList {QStringLiteral("old.test")});
    QVERIFY(c.spiffeId().isEmpty());

    const QDateTime inside(QDate(2020, 1, 20), QTime(12, 0), Qt::UTC);
    QVERIFY(!c.expired(inside));
    QVERIFY(c.expiresSoon(inside));  // 11.5 days left
    QCOMPARE(c.daysLeft(inside), qint64(11));
    QVERIFY(c.notYetValid(QDateTime(QDate(2019, 12, 31), QTime(23, 0), Qt::UTC)));

    const QDateTime hourAfter(QDate(2020, 2, 1), QTime(1, 0), Qt::UTC);
    QVERIFY(c.expired(hourAfter));
    QVERIFY(!c.expiresSoon(hourAfter));  // expired is its own, louder state
    QCOMPARE(c.daysLeft(hourAfter), qint64(-1));
    const QString summary = c.summary(QDateTime::currentDateTimeUtc());
    QVERIFY2(summary.endsWith(QLatin1String(", EXPIRED on 2020-02-01")), qPrintable(summary));
    QVERIFY2(summary.startsWith(QLatin1String("CN=old-service (DNS:old.test), issued by CN=meshscope test CA")),
        qPrintable(summary));
}

void TestPeerCertificate::expiresSoonWithinFourteenDays()
{
    const PeerCertificate c = parsePeerCertificatePem(read(m_pki->pem(QStringLiteral("short"))));
    QVERIFY(!c.isNull());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(c.expiresSoon(now));
    QVERIFY(!c.expired(now));
    QCOMPARE(c.daysLeft(now), qint64(4));
    QVERIFY(c.subject == QStringLiteral("CN=short-lived"));
    QVERIFY(c.commonName == QStringLiteral("short-lived"));
    QCOMPARE(c.spiffeId(), QStringLiteral("spiffe://meshscope.test/ns/shop/sa/cart"));
    QVERIFY2(c.summary(now).endsWith(QLatin1String("(4 days left, expires soon)")), qPrintable(c.summary(now)));
    // 14 days is the line: 15 days before the end it is not flagged yet.
    QVERIFY(!c.expiresSoon(c.notAfter.addDays(-15)));
    QVERIFY(c.expiresSoon(c.notAfter.addDays(-14).addSecs(1)));
}

void TestPeerCertificate::sameThroughQSslCertificate()
{
    const QByteArray pem = read(m_pki->pem(QStringLiteral("checkout")));
    const QList<QSslCertificate> certs = QSslCertificate::fromData(pem, QSsl::Pem);
    QCOMPARE(certs.size(), 1);
    const PeerCertificate viaQt = fromQSslCertificate(certs.first());
    const PeerCertificate direct = parsePeerCertificatePem(pem);
    QCOMPARE(viaQt.subject, direct.subject);
    QCOMPARE(viaQt.uris, direct.uris);
    QCOMPARE(viaQt.ipAddresses, direct.ipAddresses);
    QCOMPARE(viaQt.notAfter, direct.notAfter);
    QCOMPARE(viaQt.sha256Fingerprint, QString::fromLatin1(certs.first().digest(QCryptographicHash::Sha256).toHex(':')));
    QVERIFY(fromQSslCertificate(QSslCertificate()).isNull());
}

void TestPeerCertificate::rejectsWhatIsNotACertificate()
{
    QString error;
    QVERIFY(parsePeerCertificatePem("hello", &error).isNull());
    QCOMPARE(error, QStringLiteral("no PEM certificate found"));
    QVERIFY(parsePeerCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &error).isNull());
    QCOMPARE(error, QStringLiteral("the PEM certificate does not parse"));
    // A key is not a certificate.
    QVERIFY(parsePeerCertificatePem(read(m_pki->key(QStringLiteral("short"))), &error).isNull());
    QVERIFY(PeerCertificate().summary(QDateTime::currentDateTimeUtc()) == QStringLiteral("no certificate"));
}

void TestPeerCertificate::peerLogKeepsNewestAndIsBounded()
{
    const std::string a = read(m_pki->pem(QStringLiteral("checkout"))).toStdString();
    const std::string b = read(m_pki->pem(QStringLiteral("short"))).toStdString();
    TlsPeerLog log(2);
    log.record("ipv4:127.0.0.1:1001", a);
    QTest::qWait(5);
    log.record("ipv4:127.0.0.1:1002", b);
    QTest::qWait(5);
    log.record("ipv4:127.0.0.1:1001", a);  // seen again: one entry, newest
    std::vector<TlsPeer> peers = log.peers();
    QCOMPARE(peers.size(), size_t(2));
    QCOMPARE(peers[0].address, std::string("ipv4:127.0.0.1:1001"));
    QCOMPARE(peers[0].calls, uint64_t(2));
    QVERIFY(peers[0].lastSeen > peers[0].firstSeen);
    QCOMPARE(peers[0].certificate.commonName, QStringLiteral("checkout"));
    QCOMPARE(peers[1].certificate.spiffeId(), QStringLiteral("spiffe://meshscope.test/ns/shop/sa/cart"));

    QTest::qWait(5);
    log.record("ipv4:127.0.0.1:1003", b);  // over capacity: the least recently seen (1002) goes
    peers = log.peers();
    QCOMPARE(peers.size(), size_t(2));
    QCOMPARE(peers[0].address, std::string("ipv4:127.0.0.1:1003"));
    QCOMPARE(peers[1].address, std::string("ipv4:127.0.0.1:1001"));

    // A connection that now shows another certificate is recorded with the new one.
    log.record("ipv4:127.0.0.1:1001", b);
    peers = log.peers();
    QCOMPARE(peers.size(), size_t(2));
    QCOMPARE(peers[0].certificate.commonName, QStringLiteral("short-lived"));
    QCOMPARE(peers[0].calls, uint64_t(1));

    // Many threads at once (gRPC's callback threads do this).
    TlsPeerLog shared(64);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&shared, &a, t] {
            for (int i = 0; i < 200; ++i)
                shared.record("ipv4:10.0.0." + std::to_string(t) + ":" + std::to_string(i % 8), a);
        });
    }
    for (auto &th : threads)
        th.join();
    peers = shared.peers();
    QCOMPARE(peers.size(), size_t(32));
    uint64_t calls = 0;
    for (const TlsPeer &p : peers)
        calls += p.calls;
    QCOMPARE(calls, uint64_t(800));
}

QTEST_GUILESS_MAIN(TestPeerCertificate)
#include "tst_peercertificate.moc"

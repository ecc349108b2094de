// Secrets in URLs and text from remote peers, as they reach errors, logs, files and
// the terminal: redacted, escaped and bounded.

#include "net/redact.h"

#include <QtTest>

using namespace meshscope;

class TestRedact : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void secretQueryKeys_data();
    void secretQueryKeys();
    void urlsLoseSecrets_data();
    void urlsLoseSecrets();
    void remoteTextEscapesControls();
    void remoteTextIsBounded();
    void remoteTextKeepsUnicode();
};

void TestRedact::secretQueryKeys_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<bool>("secret");
    QTest::newRow("token") << QStringLiteral("token") << true;
    QTest::newRow("TOKEN") << QStringLiteral("TOKEN") << true;
    QTest::newRow("api_key") << QStringLiteral("api_key") << true;
    QTest::newRow("x-api-key") << QStringLiteral("x-api-key") << true;
    QTest::newRow("refresh_token") << QStringLiteral("refresh_token") << true;
    QTest::newRow("sig") << QStringLiteral("sig") << true;
    QTest::newRow("password") << QStringLiteral("password") << true;
    QTest::newRow("monkey") << QStringLiteral("monkey") << false;
    QTest::newRow("query") << QStringLiteral("query") << false;
    QTest::newRow("step") << QStringLiteral("step") << false;
}

void TestRedact::secretQueryKeys()
{
    QFETCH(QString, key);
    QFETCH(bool, secret);
    QCOMPARE(isSecretQueryKey(key), secret);
}

void TestRedact::urlsLoseSecrets_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("redacted");
    QTest::newRow("plain") << QStringLiteral("http://127.0.0.1:9090/api/v1/query?query=up")
                           << QStringLiteral("http://127.0.0.1:9090/api/v1/query?query=up");
    QTest::newRow("token") << QStringLiteral("https://prom.example:9090/?token=s3cr3t&step=30")
                           << QStringLiteral("https://prom.example:9090/?token=***&step=30");
    QTest::newRow("api_key and sig") << QStringLiteral("http://h/x?api_key=abc&a=1&sig=zz")
                                     << QStringLiteral("http://h/x?api_key=***&a=1&sig=***");
    QTest::newRow("userinfo") << QStringLiteral("http://admin:hunter2@caddy.local:2019/config/")
                              << QStringLiteral("http://***@caddy.local:2019/config/");
    QTest::newRow("encoded key") << QStringLiteral("http://h/?access%5Ftoken=abc")
                                 << QStringLiteral("http://h/?access_token=***");
}

void TestRedact::urlsLoseSecrets()
{
    QFETCH(QString, url);
    QFETCH(QString, redacted);
    QCOMPARE(redactUrl(url), redacted);
    QVERIFY(!redactUrl(url).contains(QLatin1String("s3cr3t")));
    QVERIFY(!redactUrl(url).contains(QLatin1String("hunter2")));
}

void TestRedact::remoteTextEscapesControls()
{
    QCOMPARE(sanitizeRemoteText(std::string_view("bad \x1b[31mred\x1b[0m\x07 done")),
        std::string("bad \\x1b[31mred\\x1b[0m\\x07 done"));
    // Only the first line: a peer cannot forge further log lines.
    QCOMPARE(sanitizeRemoteText(std::string_view("first\nFAKE: second line")), std::string("first ... (23 bytes)"));
    QCOMPARE(sanitizeRemoteText(std::string_view("trailing newline\n")), std::string("trailing newline"));
    // Invalid UTF-8 and C1 controls are escaped byte by byte.
    QCOMPARE(sanitizeRemoteText(std::string_view("a\xff"
                                                 "b\xc2\x9b"
                                                 "c")),
        std::string("a\\xffb\\xc2\\x9bc"));
}

void TestRedact::remoteTextIsBounded()
{
    const std::string page(100 * 1024, 'x');
    const std::string out = sanitizeRemoteText(page);
    QVERIFY(out.size() < 340);
    QVERIFY(out.starts_with(std::string(kRemoteTextMax, 'x')));
    QVERIFY(out.ends_with(" ... (102400 bytes)"));
    QCOMPARE(sanitizeRemoteText(std::string_view("short"), 3), std::string("sho ... (5 bytes)"));
}

void TestRedact::remoteTextKeepsUnicode()
{
    const QString text = QStringLiteral("upstream «reviews» überlastet");
    QCOMPARE(sanitizeRemoteText(text), text);
}

QTEST_GUILESS_MAIN(TestRedact)
#include "tst_redact.moc"

// The HTTP clients (Prometheus, Envoy admin, Caddy's admin API) against hostile or
// broken peers that no real server can be made to be: answers without end, redirects
// to another host, redirect loops. Each peer is a small loopback server written here,
// bounded in time and bytes.

#include "net/httpexchange.h"
#include "routing/caddy/caddyadmin.h"
#include "telemetry/envoyadmin/envoyadminclient.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <functional>
#include <memory>

using namespace meshscope;

namespace {

// Answers every request with what `respond` writes; remembers the raw requests.
class HostileServer : public QTcpServer {
public:
    using Respond = std::function<void(QTcpSocket *socket, const QByteArray &request)>;

    explicit HostileServer(Respond respond)
        : m_respond(std::move(respond))
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] {
                    QByteArray &buf = m_buffers[s];
                    buf += s->readAll();
                    // One whole request (headers and Content-Length body) at a time.
                    for (;;) {
                        const qsizetype end = buf.indexOf("\r\n\r\n");
                        if (end < 0)
                            return;
                        const QByteArray head = buf.left(end);
                        qsizetype length = 0;
                        for (const QByteArray &line : head.split('\n')) {
                            if (line.toLower().startsWith("content-length:"))
                                length = line.mid(15).trimmed().toLongLong();
                        }
                        if (buf.size() < end + 4 + length)
                            return;
                        const QByteArray request = buf.left(end + 4 + length);
                        buf.remove(0, end + 4 + length);
                        requests << head;
                        m_respond(s, request);
                    }
                });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
        listen(QHostAddress::LocalHost, 0);
    }

    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(serverPort()); }
    QByteArrayList requests;

private:
    Respond m_respond;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

// Streams `total` bytes of a valid-looking JSON array in chunks, without a length.
void streamEndlessJson(QTcpSocket *s, qint64 total)
{
    s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const QByteArray piece = QByteArray("[") + QByteArray(64 * 1024 - 2, ' ') + "]";
    auto sent = std::make_shared<qint64>(0);
    auto pump = std::make_shared<std::function<void()>>();
    *pump = [s, piece, total, sent, pump] {
        if (s->state() != QAbstractSocket::ConnectedState || *sent >= total)
            return;
        s->write(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
        *sent += piece.size();
        QTimer::singleShot(0, s, *pump);
    };
    (*pump)();
}

void redirectTo(QTcpSocket *s, const QString &location)
{
    s->write("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location.toUtf8()
        + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s->disconnectFromHost();
}

}  // namespace

class TestHostileHttp : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void prometheusEndlessBodyRefusedAtLimit();
    void prometheusAnnouncedHugeBodyRefusedBeforeReading();
    void caddyEndlessRoutesRefusedAtLimit();
    void credentialsNeverFollowRedirectToAnotherOrigin();
    void redirectLoopEndsAfterFiveWithChain();
    void sameOriginRedirectFollowed();
    void secretsInUrlNeverInErrors();
    void serverErrorTextEscapedAndBounded();
};

void TestHostileHttp::prometheusEndlessBodyRefusedAtLimit()
{
    HostileServer peer([](QTcpSocket *s, const QByteArray &) { streamEndlessJson(s, 256ll * 1024 * 1024); });
    PrometheusConfig c;
    c.url = QUrl(peer.url());
    c.maxResponseBytes = 1024 * 1024;
    c.timeoutMs = 20000;
    QElapsedTimer clock;
    clock.start();
    const PromResult r = PrometheusClient::querySync(c, QStringLiteral("up"), std::nullopt);
    QVERIFY(!r.ok());
    QVERIFY2(r.message.contains(QLatin1String("past the limit of 1 MiB")), qPrintable(r.message));
    QVERIFY2(r.message.contains(QLatin1String("--prometheus-max-response-bytes")), qPrintable(r.message));
    QVERIFY(clock.elapsed() < 15000);
    // Counted as it arrived: refused long before the peer's 256 MiB were all read.
    QVERIFY2(r.message.contains(QLatin1String("passed ")), qPrintable(r.message));
    const qint64 passed = r.message.section(QLatin1String("passed "), 1).section(QLatin1Char(' '), 0, 0).toLongLong();
    QVERIFY2(passed > 1024 * 1024 && passed < 128ll * 1024 * 1024, qPrintable(r.message));
}

void TestHostileHttp::prometheusAnnouncedHugeBodyRefusedBeforeReading()
{
    HostileServer peer([](QTcpSocket *s, const QByteArray &) {
        s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 524288000\r\n\r\n[");
    });
    PrometheusConfig c;
    c.url = QUrl(peer.url());
    const PromResult r = PrometheusClient::querySync(c, QStringLiteral("up"), std::nullopt);
    QVERIFY(!r.ok());
    QVERIFY2(r.message.contains(QLatin1String("announced 500 MiB, past the limit of 64 MiB")), qPrintable(r.message));
}

void TestHostileHttp::caddyEndlessRoutesRefusedAtLimit()
{
    HostileServer peer([](QTcpSocket *s, const QByteArray &) { streamEndlessJson(s, 64ll * 1024 * 1024); });
    routing::CaddyAdminConfig c;
    c.url = QUrl(peer.url());
    c.maxResponseBytes = 2 * 1024 * 1024;
    const routing::CaddyResult r = routing::CaddyAdmin::pullRoutesSync(c, QStringLiteral("main"));
    QVERIFY(!r.ok());
    QVERIFY2(r.message.contains(QLatin1String("past the limit of 2 MiB")), qPrintable(r.message));
}

void TestHostileHttp::credentialsNeverFollowRedirectToAnotherOrigin()
{
    HostileServer elsewhere(
        [](QTcpSocket *s, const QByteArray &) { s->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"); });
    HostileServer peer([&elsewhere](QTcpSocket *s, const QByteArray &) {
        redirectTo(s, elsewhere.url() + QStringLiteral("/api/v1/query"));
    });
    for (const bool bearer : {true, false}) {
        PrometheusConfig c;
        c.url = QUrl(peer.url());
        if (bearer) {
            c.bearerToken = QStringLiteral("s3cr3t-token");
        } else {
            c.username = QStringLiteral("meshscope");
            c.password = QStringLiteral("s3cr3t-pass");
        }
        const PromResult r = PrometheusClient::querySync(c, QStringLiteral("up"), std::nullopt);
        QVERIFY(!r.ok());
        QVERIFY2(r.message.contains(QLatin1String("refused a redirect to another origin")), qPrintable(r.message));
        QVERIFY2(r.message.contains(elsewhere.url()), qPrintable(r.message));  // names the chain
    }
    QCOMPARE(peer.requests.size(), 2);
    QVERIFY(peer.requests[0].contains("Authorization: Bearer"));
    QVERIFY(elsewhere.requests.isEmpty());  // nothing, let alone a credential, reached it
}

void TestHostileHttp::redirectLoopEndsAfterFiveWithChain()
{
    HostileServer *self = nullptr;
    HostileServer peer([&self](QTcpSocket *s, const QByteArray &request) {
        // /a -> /aa -> /aaa ...: a loop that never repeats a URL.
        const QByteArray path = request.split(' ').value(1);
        redirectTo(s, self->url() + QString::fromLatin1(path) + QStringLiteral("a"));
    });
    self = &peer;
    routing::CaddyAdminConfig c;
    c.url = QUrl(peer.url());
    const routing::CaddyResult r = routing::CaddyAdmin::pullRoutesSync(c, QStringLiteral("main"));
    QVERIFY2(r.message.contains(QLatin1String("more than 5 redirects")), qPrintable(r.message));
    QVERIFY2(r.message.contains(QLatin1String("/routesaaaaa")), qPrintable(r.message));  // the chain
    // The first request, five redirects followed, and the sixth stopped as Qt starts it
    // (Qt may resend one on a connection the peer closed): the chain ends there instead
    // of at Qt's own limit of 50.
    QVERIFY2(peer.requests.size() <= 10, qPrintable(QString::number(peer.requests.size())));
}

void TestHostileHttp::sameOriginRedirectFollowed()
{
    HostileServer peer([](QTcpSocket *s, const QByteArray &request) {
        if (request.contains("/prometheus/api/v1/query")) {
            const QByteArray body = R"({"status":"success","data":{"resultType":"vector","result":[]}})";
            s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + QByteArray::number(body.size()) + "\r\n\r\n" + body);
            return;
        }
        const QByteArray path = request.split(' ').value(1);
        s->write("HTTP/1.1 307 Temporary Redirect\r\nLocation: /prometheus" + path + "\r\nContent-Length: 0\r\n\r\n");
    });
    PrometheusConfig c;
    c.url = QUrl(peer.url());
    c.bearerToken = QStringLiteral("t");
    const PromResult r = PrometheusClient::querySync(c, QStringLiteral("up"), std::nullopt);
    QVERIFY2(r.ok(), qPrintable(r.message));
    QVERIFY(peer.requests.size() >= 2);
    QVERIFY(peer.requests.last().contains("/prometheus/api/v1/query"));
    QVERIFY(peer.requests.last().contains("Authorization: Bearer t"));  // same origin keeps its credentials
}

void TestHostileHttp::secretsInUrlNeverInErrors()
{
    PrometheusConfig c;
    c.url = QUrl(QStringLiteral("http://user:hunter2@127.0.0.1:1/?token=s3cr3t"));
    c.timeoutMs = 3000;
    const PromResult r = PrometheusClient::querySync(c, QStringLiteral("up"), std::nullopt);
    QVERIFY(!r.ok());
    QVERIFY2(!r.message.contains(QLatin1String("s3cr3t")) && !r.message.contains(QLatin1String("hunter2")),
        qPrintable(r.message));
    QVERIFY2(r.message.contains(QLatin1String("token=***")), qPrintable(r.message));
}

// What a peer says in an error reaches the terminal, logs and labels: escaped and cut.
void TestHostileHttp::serverErrorTextEscapedAndBounded()
{
    HostileServer prometheus([](QTcpSocket *s, const QByteArray &) {
        const QByteArray body = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"\\u001b]0;owned\\u0007"
                                "\\u001b[2Jgone\"}";
        s->write("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    });
    PrometheusConfig pc;
    pc.url = QUrl(prometheus.url());
    const PromResult pr = PrometheusClient::querySync(pc, QStringLiteral("up"), std::nullopt);
    QVERIFY(!pr.ok());
    QVERIFY2(!pr.message.contains(QChar(0x1b)) && !pr.message.contains(QChar(0x07)), qPrintable(pr.message));
    QVERIFY2(pr.message.contains(QLatin1String("\\x1b]0;owned\\x07\\x1b[2Jgone")), qPrintable(pr.message));

    HostileServer caddy([](QTcpSocket *s, const QByteArray &) {
        const QByteArray page = "<html>\n" + QByteArray(100 * 1024, 'x') + "\n</html>";
        s->write("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: "
            + QByteArray::number(page.size()) + "\r\n\r\n" + page);
    });
    routing::CaddyAdminConfig cc;
    cc.url = QUrl(caddy.url());
    const routing::CaddyResult cr = routing::CaddyAdmin::pullRoutesSync(cc, QStringLiteral("main"));
    QVERIFY(!cr.ok());
    QVERIFY2(cr.message.size() < 1000, qPrintable(cr.message.left(200)));
    QVERIFY2(cr.message.contains(QLatin1String("(102415 bytes)")), qPrintable(cr.message.right(100)));
}

QTEST_GUILESS_MAIN(TestHostileHttp)
#include "tst_hostilehttp.moc"

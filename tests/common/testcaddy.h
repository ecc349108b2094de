#pragma once
// A real Caddy (Debian's caddy 2.6.2) for the Caddy routing tests, started on loopback
// ports of its own: Debian's caddy service may hold :80 and :2019. One config holds
// the admin endpoint, the server "main" whose routes meshscope manages, and servers
// "a" and "b" answering "A" and "B" as upstreams; each route of "main" matches one
// host and proxies to A or B. Header-only: every test executable includes it on its own.

#include "common/testenv.h"
#include "routing/caddy/caddyadmin.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QList>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QStringList>
#include <QTest>
#include <QTimer>
#include <QUrl>

namespace meshscope::test {

class TestCaddy {
public:
    enum class Upstream { A, B };
    // A route of server "main": requests for `host` go to `upstream`.
    struct Route {
        QString id;
        QString host;
        Upstream upstream;
    };

    ~TestCaddy() { stop(); }

    // Writes <dir>/caddy.json, starts Caddy with its state under `dir`, and waits until
    // the admin API answers and every route reaches its upstream.
    bool start(const QString &dir, const QList<Route> &routes, QString *error)
    {
        const QString caddy = QStandardPaths::findExecutable(QStringLiteral("caddy"));
        if (caddy.isEmpty()) {
            *error
                = QStringLiteral("caddy is not installed (Debian package caddy; scripts/install-deps.sh installs it)");
            return false;
        }
        const int adminPort = freePort();
        m_mainPort = freePort();
        m_portA = freePort();
        m_portB = freePort();
        if (!adminPort || !m_mainPort || !m_portA || !m_portB) {
            *error = QStringLiteral("no free loopback port for Caddy");
            return false;
        }
        QStringList mainRoutes;
        for (const Route &r : routes) {
            mainRoutes << QStringLiteral(R"(
     {"@id": "%1", "match": [{"host": ["%2"]}],
      "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:%3"}]}]})")
                              .arg(r.id, r.host)
                              .arg(r.upstream == Upstream::B ? m_portB : m_portA);
        }
        const QString config = QStringLiteral(R"({
 "admin": {"listen": "127.0.0.1:%1", "config": {"persist": false}},
 "apps": {"http": {"servers": {
   "main": {"listen": ["127.0.0.1:%2"], "automatic_https": {"disable": true}, "routes": [%5]},
   "a": {"listen": ["127.0.0.1:%3"], "automatic_https": {"disable": true},
         "routes": [{"handle": [{"handler": "static_response", "body": "A"}]}]},
   "b": {"listen": ["127.0.0.1:%4"], "automatic_https": {"disable": true},
         "routes": [{"handle": [{"handler": "static_response", "body": "B"}]}]}
 }}}})")
                                   .arg(adminPort)
                                   .arg(m_mainPort)
                                   .arg(m_portA)
                                   .arg(m_portB)
                                   .arg(mainRoutes.join(QLatin1Char(',')));
        const QString configFile = dir + QStringLiteral("/caddy.json");
        if (!writeFile(configFile, config.toUtf8())) {
            *error = QStringLiteral("cannot write ") + configFile;
            return false;
        }

        // Caddy keeps state under HOME/XDG directories; keep it inside the test's directory.
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), dir);
        env.insert(QStringLiteral("XDG_DATA_HOME"), dir + QStringLiteral("/data"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir + QStringLiteral("/config"));
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(caddy, {QStringLiteral("run"), QStringLiteral("--config"), configFile});
        if (!m_process.waitForStarted(10000)) {
            *error = m_process.errorString();
            return false;
        }

        m_admin.url = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(adminPort));
        m_admin.timeoutMs = 5000;
        QElapsedTimer t;
        t.start();
        bool up = false;
        while (!up && t.elapsed() < 15000 && m_process.state() == QProcess::Running) {
            up = routing::CaddyAdmin::requestSync(m_admin, "GET", QStringLiteral("/config/")).ok();
            for (const Route &r : routes)
                up = up && request(r.host.toUtf8()) == (r.upstream == Upstream::B ? "B" : "A");
            if (!up)
                QTest::qWait(100);
        }
        if (!up)
            *error = QStringLiteral("caddy did not come up: ") + QString::fromUtf8(m_process.readAll());
        return up;
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    // One request to server "main" for `host`; the body names the upstream that answered.
    QByteArray request(const QByteArray &host) const
    {
        QNetworkAccessManager nam;
        nam.setProxy(QNetworkProxy::NoProxy);
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(m_mainPort)));
        req.setRawHeader("Host", host);
        QNetworkReply *reply = nam.get(req);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        loop.exec();
        const QByteArray body = reply->isFinished() ? reply->readAll() : QByteArrayLiteral("<no answer>");
        delete reply;
        return body;
    }

    // Server main's routes exactly as Caddy serves them.
    QByteArray routesBody() const
    {
        const routing::CaddyResult r
            = routing::CaddyAdmin::requestSync(m_admin, "GET", routing::CaddyAdmin::routesPath(QStringLiteral("main")));
        if (!r.ok())
            qWarning("GET routes failed: %s", qPrintable(r.message));
        return r.body;
    }

    const routing::CaddyAdminConfig &admin() const { return m_admin; }
    QString adminUrl() const { return m_admin.url.toString(); }
    // Server "main"'s port, for clients of the test's own (threads that cannot use request()).
    int mainPort() const { return m_mainPort; }
    int portA() const { return m_portA; }
    int portB() const { return m_portB; }

private:
    QProcess m_process;
    routing::CaddyAdminConfig m_admin;
    int m_mainPort = 0, m_portA = 0, m_portB = 0;
};

}  // namespace meshscope::test

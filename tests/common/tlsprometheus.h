#pragma once
// A real Prometheus (Debian's prometheus) serving https for the TLS tests, and the
// small file and port helpers they share.

#include "telemetry/prometheusclient.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTest>
#include <QUrl>

#include <memory>
#include <optional>

namespace meshscope::test {

inline int freePort()
{
    QTcpServer s;
    if (!s.listen(QHostAddress::LocalHost, 0))
        return 0;
    return s.serverPort();
}

inline QString findTool(const char *name)
{
    const QString found = QStandardPaths::findExecutable(QLatin1String(name));
    if (!found.isEmpty())
        return found;
    const QString usr = QStringLiteral("/usr/bin/") + QLatin1String(name);
    return QFile::exists(usr) ? usr : QString();
}

inline bool writeFile(const QString &path, const QByteArray &data)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

inline QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A Prometheus serving https with the given certificate, requiring client
// certificates signed by `clientCa`. No scrape targets: it answers PromQL on an
// empty TSDB, which is all the TLS tests need.
class TlsPrometheus {
public:
    ~TlsPrometheus() { stop(); }

    bool start(const QString &binary, const QString &dir, const QString &cert, const QString &key,
               const QString &clientCa, QString *error)
    {
        QDir().mkpath(dir);
        m_dir = dir;
        m_port = freePort();
        const QByteArray web = "tls_server_config:\n"
                               "  cert_file: " + cert.toUtf8() + "\n"
                               "  key_file: " + key.toUtf8() + "\n"
                               "  client_auth_type: RequireAndVerifyClientCert\n"
                               "  client_ca_file: " + clientCa.toUtf8() + "\n";
        if (m_port == 0 || !writeFile(dir + QStringLiteral("/web.yml"), web)
            || !writeFile(dir + QStringLiteral("/prometheus.yml"), "global:\n  scrape_interval: 15s\n")) {
            *error = QStringLiteral("cannot prepare Prometheus in ") + dir;
            return false;
        }
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setStandardOutputFile(dir + QStringLiteral("/prometheus.log"));
        m_process->start(binary, {QStringLiteral("--config.file=") + dir + QStringLiteral("/prometheus.yml"),
                                  QStringLiteral("--web.config.file=") + dir + QStringLiteral("/web.yml"),
                                  QStringLiteral("--storage.tsdb.path=") + dir + QStringLiteral("/tsdb"),
                                  QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(m_port),
                                  QStringLiteral("--log.level=warn")});
        if (!m_process->waitForStarted(10000)) {
            *error = QStringLiteral("prometheus did not start: ") + m_process->errorString();
            return false;
        }
        return true;
    }

    // Polls with a configuration that must work until Prometheus answers.
    bool waitReady(const PrometheusConfig &config, int timeoutMs, QString *last)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            if (m_process->state() != QProcess::Running) {
                *last = QStringLiteral("prometheus exited: ") + QString::fromUtf8(readFile(m_dir + QStringLiteral("/prometheus.log")));
                return false;
            }
            const PromResult r = PrometheusClient::querySync(config, QStringLiteral("1"), std::nullopt);
            if (r.ok())
                return true;
            *last = r.message;
            QTest::qWait(200);
        }
        return false;
    }

    void stop()
    {
        if (!m_process)
            return;
        m_process->terminate();
        if (!m_process->waitForFinished(10000))
            m_process->kill();
        m_process->waitForFinished(5000);
        m_process.reset();
    }

    int port() const { return m_port; }
    QString hostPort() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }
    QUrl url(const QString &host = QStringLiteral("127.0.0.1")) const
    {
        return QUrl(QStringLiteral("https://%1:%2").arg(host).arg(m_port));
    }

private:
    std::unique_ptr<QProcess> m_process;
    QString m_dir;
    int m_port = 0;
};

}  // namespace meshscope::test

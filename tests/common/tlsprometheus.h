#pragma once
// A real Prometheus (Debian's prometheus) on a free loopback port for the tests that
// query one: PrometheusProcess serves plain http behind the web config a test gives
// (basic auth, say), TlsPrometheus serves https requiring client certificates.

#include "common/testenv.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>
#include <QUrl>

#include <memory>
#include <optional>

namespace meshscope::test {

// Prometheus with no scrape targets: it answers PromQL from whatever TSDB is in
// <dir>/tsdb, empty or blocks a test backfilled there before start().
class PrometheusProcess {
public:
    ~PrometheusProcess() { stop(); }

    // Writes prometheus.yml and web.yml (`webConfig`) into `dir` and starts Prometheus
    // on a free port.
    bool start(const QString &binary, const QString &dir, const QByteArray &webConfig, QString *error)
    {
        QDir().mkpath(dir);
        m_binary = binary;
        m_dir = dir;
        m_port = freePort();
        if (m_port == 0 || !writeFile(dir + QStringLiteral("/web.yml"), webConfig)
            || !writeFile(dir + QStringLiteral("/prometheus.yml"), "global:\n  scrape_interval: 15s\n")) {
            *error = QStringLiteral("cannot prepare Prometheus in ") + dir;
            return false;
        }
        return launch(QIODevice::Truncate, error);
    }

    // After kill() or stop(): the same port, files and TSDB; the log goes on.
    bool restart(QString *error) { return launch(QIODevice::Append, error); }

    // Polls with a configuration that must work until Prometheus answers (its API
    // answers 503 until the TSDB is open).
    bool waitReady(const PrometheusConfig &config, int timeoutMs, QString *last)
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < timeoutMs) {
            if (m_process->state() != QProcess::Running) {
                *last = QStringLiteral("prometheus exited: ") + logTail();
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

    // SIGKILL: an outage as abrupt as it gets.
    void kill()
    {
        if (!m_process)
            return;
        m_process->kill();
        m_process->waitForFinished(10000);
        m_process.reset();
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

    // The end of what Prometheus logged, for failure messages.
    QString logTail(qsizetype bytes = 2000) const
    {
        QFile f(m_dir + QStringLiteral("/prometheus.log"));
        if (!f.open(QIODevice::ReadOnly))
            return QStringLiteral("(no prometheus.log)");
        return QString::fromUtf8(f.readAll().right(bytes));
    }

    int port() const { return m_port; }
    QString hostPort() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }
    QUrl url(const QString &host = QStringLiteral("127.0.0.1")) const
    {
        return QUrl(QStringLiteral("%1://%2:%3")
                        .arg(m_https ? QStringLiteral("https") : QStringLiteral("http"), host)
                        .arg(m_port));
    }

protected:
    bool m_https = false;

private:
    bool launch(QIODevice::OpenModeFlag logMode, QString *error)
    {
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setStandardOutputFile(m_dir + QStringLiteral("/prometheus.log"), logMode);
        m_process->start(m_binary,
            {QStringLiteral("--config.file=") + m_dir + QStringLiteral("/prometheus.yml"),
                QStringLiteral("--web.config.file=") + m_dir + QStringLiteral("/web.yml"),
                QStringLiteral("--storage.tsdb.path=") + m_dir + QStringLiteral("/tsdb"),
                QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(m_port), QStringLiteral("--log.level=warn")});
        if (!m_process->waitForStarted(10000)) {
            *error = QStringLiteral("prometheus did not start: ") + m_process->errorString();
            return false;
        }
        return true;
    }

    std::unique_ptr<QProcess> m_process;
    QString m_binary;
    QString m_dir;
    int m_port = 0;
};

// Serving https with the given certificate, requiring client certificates signed by
// `clientCa`. On an empty TSDB, which is all the TLS tests need.
class TlsPrometheus : public PrometheusProcess {
public:
    bool start(const QString &binary, const QString &dir, const QString &cert, const QString &key,
        const QString &clientCa, QString *error)
    {
        m_https = true;
        const QByteArray web = "tls_server_config:\n"
                               "  cert_file: "
            + cert.toUtf8()
            + "\n"
              "  key_file: "
            + key.toUtf8()
            + "\n"
              "  client_auth_type: RequireAndVerifyClientCert\n"
              "  client_ca_file: "
            + clientCa.toUtf8() + "\n";
        return PrometheusProcess::start(binary, dir, web, error);
    }
};

}  // namespace meshscope::test

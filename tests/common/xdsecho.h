#pragma once
// Real peers for the xDS tests: Echo backends (gRPC servers on loopback that answer
// with their own name) and the helper process holding gRPC's own xDS client
// (meshscope-test-xdsclient, its path in MESHSCOPE_XDSCLIENT_PATH), which dials
// xds:///<target> with a bootstrap naming meshscope's control plane and counts which
// backend answered each call. Needs the meshscope_test_echo_proto library.

#include "echo.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QElapsedTimer>
#include <QMap>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QString>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#ifndef MESHSCOPE_XDSCLIENT_PATH
#error "MESHSCOPE_XDSCLIENT_PATH must name the meshscope-test-xdsclient binary"
#endif

namespace meshscope::test {

// A real gRPC backend answering every Echo/Call with its own name.
class EchoBackend final : public Echo::Service {
public:
    explicit EchoBackend(std::string name)
        : m_name(std::move(name))
    {
    }
    bool start()
    {
        grpc::ServerBuilder builder;
        builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &m_port);
        builder.RegisterService(this);
        m_server = builder.BuildAndStart();
        return m_server && m_port > 0;
    }
    void stop()
    {
        if (m_server)
            m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
        m_server.reset();
    }
    int port() const { return m_port; }

    grpc::Status Call(grpc::ServerContext *, const EchoRequest *request, EchoReply *reply) override
    {
        m_calls++;
        reply->set_backend(m_name);
        reply->set_text(request->text());
        return grpc::Status::OK;
    }
    // Calls that reached this backend.
    int calls() const { return m_calls.load(); }

private:
    std::atomic<int> m_calls{0};
    std::string m_name;
    int m_port = 0;
    std::unique_ptr<grpc::Server> m_server;
};

struct CallResult {
    QMap<QString, int> counts;
    int errors = -1;  // -1: no answer from the helper
    QString lastError;
    QString line;
    int count(const char *backend) const { return counts.value(QLatin1String(backend)); }
};

// The helper process holding one gRPC xDS client (node id given), as a real proxyless
// gRPC application would.
class XdsClientProcess {
public:
    explicit XdsClientProcess(std::string target = "echo.test")
        : m_target(std::move(target))
    {
    }
    ~XdsClientProcess() { stop(); }

    bool start(int xdsPort, const QString &nodeId)
    {
        const QString bootstrap = QStringLiteral(
                                      "{\"xds_servers\":[{\"server_uri\":\"127.0.0.1:%1\",\"channel_creds\":[{\"type\":\"insecure\"}],"
                                      "\"server_features\":[\"xds_v3\"]}],\"node\":{\"id\":\"%2\",\"cluster\":\"test\"}}")
                                      .arg(xdsPort)
                                      .arg(nodeId);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("GRPC_XDS_BOOTSTRAP"));
        env.insert(QStringLiteral("GRPC_XDS_BOOTSTRAP_CONFIG"), bootstrap);
        // An idle gRPC client reads its xDS stream only when the channel's backup
        // poller runs (every 5 s by default): poll often so pushes land quickly.
        env.insert(QStringLiteral("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS"), QStringLiteral("100"));
        if (!env.contains(QStringLiteral("MESHSCOPE_GRPC_LOG")))
            env.insert(QStringLiteral("GRPC_VERBOSITY"), QStringLiteral("NONE"));
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(QString::fromUtf8(MESHSCOPE_XDSCLIENT_PATH), {QString::fromStdString("xds:///" + m_target)});
        if (!m_process.waitForStarted(10000))
            return false;
        return readLine(10000).startsWith(QLatin1String("ready"));
    }

    // N calls, with one "key=value" metadata entry if given.
    CallResult call(int n, const QString &header = {})
    {
        CallResult r;
        m_process.write(QStringLiteral("call %1 %2\n").arg(n).arg(header).toUtf8());
        r.line = readLine(120000);
        static const QRegularExpression re(QStringLiteral("^result(.*) errors=(\\d+) last_error=(.*)$"));
        const auto m = re.match(r.line);
        if (!m.hasMatch())
            return r;
        for (const QString &pair : m.captured(1).split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
            const auto kv = pair.split(QLatin1Char('='));
            r.counts[kv.value(0)] = kv.value(1).toInt();
        }
        r.errors = m.captured(2).toInt();
        r.lastError = m.captured(3);
        return r;
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.write("quit\n");
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(2000);
        }
    }

private:
    QString readLine(int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (!m_process.canReadLine() && timer.elapsed() < timeoutMs && m_process.state() == QProcess::Running)
            m_process.waitForReadyRead(100);
        return QString::fromUtf8(m_process.readLine()).trimmed();
    }

    std::string m_target;
    QProcess m_process;
};

}  // namespace meshscope::test

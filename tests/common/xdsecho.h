#pragma once
// Real peers for the xDS tests: Echo backends (gRPC servers on loopback that answer
// with their own name) and the helper process holding gRPC's own xDS client
// (meshscope-test-xdsclient, its path in MESHSCOPE_XDSCLIENT_PATH), which dials
// xds:///<target> with a bootstrap naming meshscope's control plane and counts which
// backend answered each call. Needs the meshscope_test_echo_proto library. Also what
// the tests read of meshscope's control plane, and the route file they serve.

#include "common/echoroutes.h"
#include "common/otlpexport.h"
#include "echo.grpc.pb.h"
#include "routing/xds/xdscontrolplane.h"

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
#include <optional>
#include <string>

#ifndef MESHSCOPE_XDSCLIENT_PATH
#error "MESHSCOPE_XDSCLIENT_PATH must name the meshscope-test-xdsclient binary"
#endif

namespace meshscope::test {

// A real gRPC backend answering every Echo/Call with its own name. Instrumented on
// request (exportTo): every call it serves is a SERVER span of service <name>, child of
// the caller's span named in "traceparent", exported over OTLP. It can be told to fail
// a share of its calls (UNAVAILABLE, as an overloaded canary answers).
class EchoBackend final : public Echo::Service {
public:
    explicit EchoBackend(std::string name)
        : m_name(std::move(name))
    {
    }
    // Before start(): export spans to the OTLP receiver at `endpoint` (host:port).
    void exportTo(const std::string &endpoint) { m_exporter = std::make_unique<OtlpSpanExporter>(endpoint, m_name); }
    // Fails `fraction` of the calls, spread evenly (0.3: 3 calls in every 10).
    void setFailureFraction(double fraction) { m_failureFraction = fraction; }
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

    grpc::Status Call(grpc::ServerContext *context, const EchoRequest *request, EchoReply *reply) override
    {
        const int n = ++m_calls;
        const double f = m_failureFraction.load();
        const bool fail = int(n * f) > int((n - 1) * f);
        ExportedSpan span;
        span.startNs = nowNs();
        reply->set_backend(m_name);
        reply->set_text(request->text());
        const grpc::Status status
            = fail ? grpc::Status(grpc::StatusCode::UNAVAILABLE, m_name + " is failing") : grpc::Status::OK;
        if (m_exporter) {
            TraceContext parent;
            const auto &metadata = context->client_metadata();
            if (const auto it = metadata.find("traceparent"); it != metadata.end())
                parent = parseTraceparent(std::string(it->second.data(), it->second.size()));
            span.context = m_exporter->newContext(parent);
            span.parentSpanId = parent.spanId;
            span.endNs = nowNs();
            describeGrpcCall(span, "meshscope.test.Echo", "Call", int(status.error_code()));
            m_exporter->add(std::move(span));
        }
        return status;
    }
    // Calls that reached this backend.
    int calls() const { return m_calls.load(); }

private:
    std::atomic<int> m_calls {0};
    std::atomic<double> m_failureFraction {0};
    std::string m_name;
    int m_port = 0;
    std::unique_ptr<OtlpSpanExporter> m_exporter;
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

    // Before start(): export a CLIENT span per call to this OTLP receiver (host:port).
    void exportTo(const QString &endpoint) { m_otlpEndpoint = endpoint; }

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
        if (!m_otlpEndpoint.isEmpty())
            env.insert(QStringLiteral("MESHSCOPE_OTLP_ENDPOINT"), m_otlpEndpoint);
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
        m_process.write(QStringLiteral("call %1 %2\n").arg(n).arg(header).toUtf8());
        return parseResult(readLine(120000));
    }

    // Calls in the background at about `rate` a second until stopSpinning(), which
    // returns what those calls got.
    bool spin(double rate)
    {
        m_process.write(QStringLiteral("spin %1\n").arg(rate).toUtf8());
        return readLine(10000) == QLatin1String("spinning");
    }
    CallResult stopSpinning()
    {
        m_process.write("stop\n");
        return parseResult(readLine(30000));
    }

    static CallResult parseResult(const QString &line)
    {
        CallResult r;
        r.line = line;
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
    QString m_otlpEndpoint;
    QProcess m_process;
};

inline std::optional<routing::XdsClientStatus> clientStatus(
    const routing::XdsControlPlane &cp, const std::string &nodeId)
{
    for (const routing::XdsClientStatus &c : cp.clients()) {
        if (c.nodeId == nodeId)
            return c;
    }
    return std::nullopt;
}

// True once the client with this node id has ACKed `version` for all four types.
inline bool ackedEverything(const routing::XdsControlPlane &cp, const std::string &nodeId, uint64_t version)
{
    const auto c = clientStatus(cp, nodeId);
    if (!c || !c->connected)
        return false;
    for (std::string_view type : {routing::kXdsListenerType, routing::kXdsRouteConfigurationType,
             routing::kXdsClusterType, routing::kXdsClusterLoadAssignmentType}) {
        const routing::XdsTypeStatus *t = c->type(type);
        if (!t || t->ackedVersion != std::to_string(version))
            return false;
    }
    return true;
}

// What the control plane knows of a client, for a failure message.
inline QByteArray describeClient(const routing::XdsControlPlane &cp, const std::string &nodeId)
{
    const auto c = clientStatus(cp, nodeId);
    if (!c)
        return "client " + QByteArray::fromStdString(nodeId) + " never connected";
    QByteArray out = "client " + QByteArray::fromStdString(nodeId) + (c->connected ? " connected" : " disconnected");
    for (const routing::XdsTypeStatus &t : c->types) {
        out += "; " + QByteArray::fromStdString(routing::xdsTypeShortName(t.typeUrl)) + " sent="
            + QByteArray::fromStdString(t.sentVersion) + " acked=" + QByteArray::fromStdString(t.ackedVersion);
        if (t.nackCount)
            out += " nacked=" + QByteArray::fromStdString(t.nackedVersion) + " ("
                + QByteArray::fromStdString(t.nackMessage) + ")";
    }
    return out;
}

}  // namespace meshscope::test

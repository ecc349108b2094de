#include "xdscommand.h"

#include "routing/routevalidator.h"
#include "routing/yaml/routeyaml.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/xds/xdstranslator.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

namespace meshscope::cli {

namespace {

using namespace meshscope::routing;

std::atomic<bool> g_interrupted{false};

void usage(FILE *to)
{
    std::fprintf(to,
                 "usage: meshscope-cli xds serve --routes FILE [--listen ADDR] [--target xds-grpc|envoy]\n"
                 "                               [--tls-cert F --tls-key F [--tls-client-ca F] [--tls-require-client-cert]]\n"
                 "  Serves FILE (HTTPRoute + EndpointSlice YAML) over ADS on ADDR (default 127.0.0.1:18000).\n"
                 "  A hostname h is served as listener h: gRPC clients dial xds:///h. Saved edits are\n"
                 "  validated for --target (default xds-grpc) and pushed; invalid edits are refused.\n");
}

struct XdsOptions {
    QString listen = QStringLiteral("127.0.0.1:18000");
    QString routes;
    DataPlane target = DataPlane::XdsGrpc;
    meshscope::TlsServerOptions tls;
};

// Returns an empty string on success, else a one-line reason.
QString parse(const QStringList &args, XdsOptions &o)
{
    for (int i = 0; i < args.size(); ++i) {
        const QString &a = args[i];
        auto value = [&](QString *out) -> bool {
            if (i + 1 >= args.size())
                return false;
            *out = args[++i];
            return true;
        };
        QString v;
        QString tlsError;
        if (takeTlsServerFlag(args, &i, &o.tls, &tlsError)) {
            if (!tlsError.isEmpty())
                return tlsError;
            continue;
        }
        if (a == QLatin1String("--listen")) {
            if (!value(&o.listen) || !o.listen.contains(QLatin1Char(':')))
                return QStringLiteral("--listen needs an address (HOST:PORT)");
        } else if (a == QLatin1String("--routes")) {
            if (!value(&o.routes) || o.routes.isEmpty())
                return QStringLiteral("--routes needs a route file");
        } else if (a == QLatin1String("--target")) {
            if (!value(&v))
                return QStringLiteral("--target needs xds-grpc or envoy");
            if (v == QLatin1String("xds-grpc"))
                o.target = DataPlane::XdsGrpc;
            else if (v == QLatin1String("envoy"))
                o.target = DataPlane::Envoy;
            else
                return QStringLiteral("--target needs xds-grpc or envoy, not '%1'").arg(v);
        } else {
            return QStringLiteral("unknown option '%1'").arg(a);
        }
    }
    if (o.routes.isEmpty())
        return QStringLiteral("--routes FILE is required");
    return checkTlsServerFlags(o.tls);
}

void printLine(FILE *to, const std::string &line)
{
    std::fprintf(to, "%s\n", line.c_str());
    std::fflush(to);
}

// Every byte of every resource: two translations serve the same thing exactly when
// these are equal (no map fields, so serialization is stable).
std::string fingerprint(const XdsResourceSet &r)
{
    std::string out;
    for (const auto &m : r.listeners)
        out += m.SerializeAsString();
    for (const auto &m : r.routeConfigurations)
        out += m.SerializeAsString();
    for (const auto &m : r.clusters)
        out += m.SerializeAsString();
    for (const auto &m : r.loadAssignments)
        out += m.SerializeAsString();
    return out;
}

std::string summary(const XdsResourceSet &r)
{
    std::string listeners;
    for (const auto &l : r.listeners)
        listeners += (listeners.empty() ? "" : ", ") + l.name();
    size_t endpoints = 0;
    for (const auto &cla : r.loadAssignments) {
        for (const auto &locality : cla.endpoints())
            endpoints += size_t(locality.lb_endpoints_size());
    }
    return "listeners " + (listeners.empty() ? std::string("(none)") : listeners) + "; "
        + std::to_string(r.clusters.size()) + " clusters, " + std::to_string(endpoints) + " endpoints";
}

// Keeps the route file served: reads it when it changes, validates, pushes or refuses.
// Lives on the main thread; QFileSystemWatcher and QTimer call back there.
class RouteFileServer {
public:
    RouteFileServer(XdsControlPlane &controlPlane, const QString &path, DataPlane target)
        : m_controlPlane(controlPlane)
        , m_path(QFileInfo(path).absoluteFilePath())
    {
        m_options.target = target;
        // Editors save in bursts (truncate, write, rename): wait for the burst to end.
        m_debounce.setSingleShot(true);
        m_debounce.setInterval(150);
        QObject::connect(&m_debounce, &QTimer::timeout, [this] { reload(); });
        QObject::connect(&m_watcher, &QFileSystemWatcher::fileChanged, [this] { m_debounce.start(); });
        // An editor that saves by writing a new file and renaming it over the old one
        // ends the watch on the file; the directory's change brings it back.
        QObject::connect(&m_watcher, &QFileSystemWatcher::directoryChanged, [this] { m_debounce.start(); });
    }

    // Loads and serves the file once; false (reasons printed) when there is nothing valid to serve.
    bool loadInitial()
    {
        QFile f(m_path);
        if (!f.open(QIODevice::ReadOnly)) {
            printLine(stderr, "meshscope-cli xds: cannot read " + m_path.toStdString() + ": "
                          + f.errorString().toStdString());
            return false;
        }
        m_lastBytes = f.readAll();
        return apply(m_lastBytes, true);
    }

    void watch()
    {
        m_watcher.addPath(m_path);
        m_watcher.addPath(QFileInfo(m_path).absolutePath());
    }

private:
    void reload()
    {
        if (QFileInfo::exists(m_path) && !m_watcher.files().contains(m_path))
            m_watcher.addPath(m_path);
        QFile f(m_path);
        if (!f.open(QIODevice::ReadOnly))
            return;  // mid-replace: the directory watch fires again when it is back
        const QByteArray bytes = f.readAll();
        if (bytes == m_lastBytes)
            return;  // another file in the directory changed, or a save without changes
        m_lastBytes = bytes;
        apply(bytes, false);
    }

    bool apply(const QByteArray &bytes, bool initial)
    {
        const std::string file = m_path.toStdString();
        RouteLoadResult loaded = loadRouteYaml(bytes.toStdString(), file);
        std::vector<RouteIssue> issues = loaded.issues;
        if (loaded.ok()) {
            std::vector<RouteIssue> more = validateRoutes(loaded.set, m_options.target);
            issues.insert(issues.end(), more.begin(), more.end());
        }
        size_t errors = 0;
        for (const RouteIssue &i : issues)
            errors += i.severity == Severity::Error ? 1 : 0;
        std::string why = std::to_string(errors) + (errors == 1 ? " error" : " errors");
        if (errors == 0 && loaded.set.routes.empty()) {
            // Most likely a save caught half-way; serving nothing would cut every client off.
            why = "no HTTPRoute in the file";
            errors = 1;
        }
        for (const RouteIssue &i : issues)
            printLine(stderr, "  " + i.toString());
        if (errors > 0) {
            if (initial)
                printLine(stderr, "meshscope-cli xds: " + file + " is not valid (" + why + "); nothing to serve");
            else
                printLine(stderr, "meshscope-cli xds: refused " + file + " (" + why + "); still serving version "
                              + std::to_string(m_controlPlane.version()));
            return false;
        }
        XdsResourceSet resources = translateToXds(loaded.set, m_options);
        const std::string print = fingerprint(resources);
        if (!initial && print == m_fingerprint) {
            printLine(stdout, "meshscope-cli xds: " + file + " changed, but not what is served; still serving version "
                          + std::to_string(m_controlPlane.version()));
            return true;
        }
        for (const std::string &n : resources.notes)
            printLine(stderr, "  note: " + n);
        m_fingerprint = print;
        const uint64_t version = m_controlPlane.setResources(resources);
        printLine(stdout, "pushed version " + std::to_string(version) + ": " + summary(resources));
        return true;
    }

    XdsControlPlane &m_controlPlane;
    const QString m_path;
    XdsTranslatorOptions m_options;
    QFileSystemWatcher m_watcher;
    QTimer m_debounce;
    QByteArray m_lastBytes;
    std::string m_fingerprint;
};

// One line per client event. Runs on the main thread (posted from gRPC's).
void printEvent(const XdsControlPlane &controlPlane, const XdsClientEvent &e)
{
    const std::string who = "client " + (e.nodeId.empty() ? std::string("(no node id)") : e.nodeId);
    switch (e.kind) {
    case XdsClientEvent::Kind::Connected: {
        std::string detail = "from " + e.peer;
        for (const XdsClientStatus &c : controlPlane.clients()) {
            if (c.id != e.clientId)
                continue;
            if (!c.nodeCluster.empty())
                detail += ", cluster " + c.nodeCluster;
            if (!c.userAgentName.empty())
                detail += ", " + c.userAgentName + (c.userAgentVersion.empty() ? "" : " " + c.userAgentVersion);
        }
        // With mTLS: the identity the client proved, and whether its certificate runs out soon.
        for (const meshscope::TlsPeer &p : controlPlane.tlsPeers()) {
            if (p.address == e.peer)
                detail += ", certificate " + p.certificate.summary(QDateTime::currentDateTimeUtc()).toStdString();
        }
        printLine(stdout, who + " connected " + detail);
        break;
    }
    case XdsClientEvent::Kind::Disconnected:
        printLine(stdout, who + " disconnected");
        break;
    case XdsClientEvent::Kind::Acked:
        printLine(stdout, who + ": ACK " + xdsTypeShortName(e.typeUrl) + " version " + e.version);
        break;
    case XdsClientEvent::Kind::Nacked:
        printLine(stdout, who + ": NACK " + xdsTypeShortName(e.typeUrl) + " version " + e.version + " (code "
                      + std::to_string(e.code) + "): " + e.message);
        break;
    }
}

}  // namespace

int runXdsCommand(QCoreApplication &app, const QStringList &args)
{
    if (args.isEmpty() || args.first() == QLatin1String("--help") || args.first() == QLatin1String("-h")) {
        usage(args.isEmpty() ? stderr : stdout);
        return args.isEmpty() ? 2 : 0;
    }
    if (args.first() != QLatin1String("serve")) {
        std::fprintf(stderr, "meshscope-cli xds: unknown subcommand '%s'\n", qPrintable(args.first()));
        usage(stderr);
        return 2;
    }
    XdsOptions opts;
    if (const QString err = parse(args.mid(1), opts); !err.isEmpty()) {
        std::fprintf(stderr, "meshscope-cli xds: %s\n", qPrintable(err));
        return 2;
    }

    XdsControlPlaneConfig config;
    config.listenAddress = opts.listen.toStdString();
    config.tls = opts.tls;
    XdsControlPlane controlPlane(config);
    // Runs on a gRPC thread: hand the event to the main thread, which prints it.
    controlPlane.setEventCallback([&app, &controlPlane](const XdsClientEvent &e) {
        QMetaObject::invokeMethod(
            &app, [&controlPlane, e] { printEvent(controlPlane, e); }, Qt::QueuedConnection);
    });

    RouteFileServer server(controlPlane, opts.routes, opts.target);
    if (!server.loadInitial())
        return 1;
    std::string error;
    if (!controlPlane.start(&error)) {
        std::fprintf(stderr, "meshscope-cli xds: %s\n", error.c_str());
        return 1;
    }
    server.watch();
    printLine(stdout, "meshscope-cli: listening for xDS clients on " + controlPlane.boundAddress()
                  + (!opts.tls.enabled()            ? ""
                         : opts.tls.requireClientCert ? " over TLS, client certificates required"
                                                      : " over TLS")
                  + " (routes from "
                  + QFileInfo(opts.routes).absoluteFilePath().toStdString() + ")");

    std::signal(SIGINT, [](int) { g_interrupted = true; });
    std::signal(SIGTERM, [](int) { g_interrupted = true; });
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &app, [&] {
        if (g_interrupted)
            app.quit();
    });
    poll.start(50);
    app.exec();
    controlPlane.stop();
    return 0;
}

}  // namespace meshscope::cli

#include "xdscommand.h"

#include "commandline.h"
#include "routing/routevalidator.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/xds/xdstranslator.h"
#include "routing/yaml/routeyaml.h"
#include "sourceoptions.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

namespace meshscope::cli {

namespace {

using namespace meshscope::routing;

// `xds serve`'s option table: parsing and --help both come from it.
std::unique_ptr<CommandLine> serveCommandLine()
{
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli xds serve --routes FILE [--listen ADDR] [--target xds-grpc|envoy]\n"
                       "                               [--tls-cert F --tls-key F [--tls-client-ca F] ...]"),
        QStringLiteral("Serves FILE (HTTPRoute + EndpointSlice YAML) to xDS clients over ADS. A hostname h is served\n"
                       "as listener h: gRPC clients dial xds:///h. Saved edits are validated for --target and pushed;\n"
                       "an invalid edit is refused and the last good version stays served."));
    commandLine->addGroup(QStringLiteral("Control plane"),
        {
            {{QStringLiteral("routes")}, QStringLiteral("FILE"),
                QStringLiteral("route file to serve and watch (required)"),
                QStringLiteral("--routes needs a route file")},
            {{QStringLiteral("listen")}, QStringLiteral("ADDR"),
                QStringLiteral("address to serve ADS on (default 127.0.0.1:18000)"),
                QStringLiteral("--listen needs an address (HOST:PORT)")},
            {{QStringLiteral("target")}, QStringLiteral("xds-grpc|envoy"),
                QStringLiteral("the clients the routes are validated for (default xds-grpc)"),
                QStringLiteral("--target needs xds-grpc or envoy")},
        });
    commandLine->addGroup(QStringLiteral("TLS (for the control plane)"), tlsServerFlags());
    return commandLine;
}

struct XdsOptions {
    QString listen = QStringLiteral("127.0.0.1:18000");
    QString routes;
    DataPlane target = DataPlane::XdsGrpc;
    meshscope::TlsServerOptions tls;
    bool help = false;
    bool version = false;
};

// args: what follows `xds serve`. Returns an empty string on success, else a one-line reason.
QString parse(const QStringList &args, XdsOptions &o)
{
    const std::unique_ptr<CommandLine> commandLine = serveCommandLine();
    bool stop = false;
    if (QString e = commandLine->parseCommand(args, &o.help, &o.version, &stop); !e.isEmpty() || stop)
        return e;
    const CommandLine &cl = *commandLine;
    if (cl.isSet(QStringLiteral("listen"))) {
        o.listen = cl.value(QStringLiteral("listen"));
        if (!isHostPort(o.listen))
            return QStringLiteral("--listen '%1' is not HOST:PORT").arg(o.listen);
    }
    o.routes = cl.value(QStringLiteral("routes"));
    if (cl.isSet(QStringLiteral("target"))) {
        const QString v = cl.value(QStringLiteral("target"));
        if (v == QLatin1String("xds-grpc"))
            o.target = DataPlane::XdsGrpc;
        else if (v == QLatin1String("envoy"))
            o.target = DataPlane::Envoy;
        else
            return QStringLiteral("--target needs xds-grpc or envoy, not '%1'").arg(v);
    }
    if (o.routes.isEmpty())
        return QStringLiteral("--routes FILE is required");
    return readTlsServerFlags(cl, &o.tls);
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
            printLine(stderr,
                "meshscope-cli xds: cannot read " + m_path.toStdString() + ": " + f.errorString().toStdString());
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
                printLine(stderr,
                    "meshscope-cli xds: refused " + file + " (" + why + "); still serving version "
                        + std::to_string(m_controlPlane.version()));
            return false;
        }
        XdsResourceSet resources = translateToXds(loaded.set, m_options);
        const std::string print = fingerprint(resources);
        if (!initial && print == m_fingerprint) {
            printLine(stdout,
                "meshscope-cli xds: " + file + " changed, but not what is served; still serving version "
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
// Lets through at most kEventLinesPerSecond event lines a second; at the start of the
// next second it says how many it held back. Main thread only.
class EventLineLimiter {
public:
    static constexpr int kEventLinesPerSecond = 20;

    bool admit()
    {
        const int64_t second = QDateTime::currentMSecsSinceEpoch() / 1000;
        if (second != m_second) {
            if (m_suppressed > 0)
                printLine(
                    stdout, "(" + std::to_string(m_suppressed) + " more client events in the last second, not shown)");
            m_second = second;
            m_shown = 0;
            m_suppressed = 0;
        }
        if (m_shown < kEventLinesPerSecond) {
            ++m_shown;
            return true;
        }
        ++m_suppressed;
        return false;
    }

private:
    int64_t m_second = 0;
    int m_shown = 0;
    uint64_t m_suppressed = 0;
};

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
    case XdsClientEvent::Kind::Disconnected: printLine(stdout, who + " disconnected"); break;
    case XdsClientEvent::Kind::Acked:
        printLine(stdout, who + ": ACK " + xdsTypeShortName(e.typeUrl) + " version " + e.version);
        break;
    case XdsClientEvent::Kind::Nacked:
        printLine(stdout,
            who + ": NACK " + xdsTypeShortName(e.typeUrl) + " version " + e.version + " (code " + std::to_string(e.code)
                + "): " + e.message);
        break;
    }
}

}  // namespace

QString xdsCommandHelp(CommandLine::Sections sections) { return serveCommandLine()->helpText(sections); }

int runXdsCommand(QCoreApplication &app, const QStringList &args)
{
    auto fail = [](const QString &reason) {
        std::fprintf(stderr, "meshscope-cli xds: %s\n", qPrintable(reason));
        return 2;
    };
    // `xds [--log ...] serve [options]`: the general options may come before `serve`.
    CommandLine command(QStringLiteral("meshscope-cli"), QStringLiteral("usage: meshscope-cli xds serve [options]"));
    command.setSubcommandMode();
    if (!command.parse(args))
        return fail(command.error());
    if (command.helpRequested()) {
        std::fputs(qPrintable(xdsCommandHelp()), stdout);
        return 0;
    }
    if (command.versionRequested()) {
        std::printf("%s\n", qPrintable(command.versionText()));
        return 0;
    }
    if (command.subcommand().isEmpty()) {
        std::fputs(qPrintable(xdsCommandHelp()), stderr);
        return 2;
    }
    if (command.subcommand() != QLatin1String("serve"))
        return fail(
            QStringLiteral("unknown subcommand '%1' (xds serve is the one; see xds --help)").arg(command.subcommand()));
    XdsOptions opts;
    if (const QString err = parse(command.subcommandArguments(), opts); !err.isEmpty())
        return fail(err);
    if (opts.help) {
        std::fputs(qPrintable(xdsCommandHelp()), stdout);
        return 0;
    }
    if (opts.version) {
        std::printf("%s\n", qPrintable(command.versionText()));
        return 0;
    }

    XdsControlPlaneConfig config;
    config.listenAddress = opts.listen.toStdString();
    config.tls = opts.tls;
    XdsControlPlane controlPlane(config);
    // Runs on a gRPC thread: hand the event to the main thread, which prints it.
    // Runs on a gRPC thread: hand the event to the main thread, which prints it, at
    // most kEventLinesPerSecond a second: 2,000 NACKs from one client cannot flood the
    // terminal; what was held back is counted in one line.
    auto limiter = std::make_shared<EventLineLimiter>();
    controlPlane.setEventCallback([&app, &controlPlane, limiter](const XdsClientEvent &e) {
        QMetaObject::invokeMethod(
            &app,
            [&controlPlane, e, limiter] {
                if (limiter->admit())
                    printEvent(controlPlane, e);
            },
            Qt::QueuedConnection);
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
    printLine(stdout,
        "meshscope-cli: listening for xDS clients on " + controlPlane.boundAddress()
            + (!opts.tls.enabled()               ? ""
                    : opts.tls.requireClientCert ? " over TLS, client certificates required"
                                                 : " over TLS")
            + " (routes from " + QFileInfo(opts.routes).absoluteFilePath().toStdString() + ")");

    runUntilInterrupted(app);
    controlPlane.stop();
    return 0;
}

}  // namespace meshscope::cli

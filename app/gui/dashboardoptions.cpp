#include "dashboardoptions.h"

#include "commandline.h"

#include <QUrl>

#include <cstring>
#include <memory>

namespace meshscope {

namespace {

// Options QGuiApplication itself consumes (-platform offscreen, -style Fusion, ...):
// they reach main() too and must not be refused as unknown.
int qtOptionArity(const QString &a)
{
    static const char *const withValue[]
        = {"-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-style", "-stylesheet", "-display",
            "-geometry", "-qwindowgeometry", "-qwindowtitle", "-qwindowicon", "-session", "-name", "-title"};
    static const char *const flags[] = {"-reverse", "-nograb", "-dograb", "-sync", "-widgetcount", "-qmljsdebugger"};
    for (const char *o : withValue) {
        if (a == QLatin1String(o))
            return 1;
    }
    for (const char *o : flags) {
        if (a == QLatin1String(o) || (a.startsWith(QLatin1String(o)) && a.at(qsizetype(strlen(o))) == QLatin1Char('=')))
            return 0;
    }
    return -1;
}

QStringList withoutQtOptions(const QStringList &args)
{
    QStringList kept;
    for (qsizetype i = 0; i < args.size(); ++i) {
        if (const int arity = qtOptionArity(args[i]); arity >= 0)
            i += arity;
        else
            kept << args[i];
    }
    return kept;
}

QString usageLine()
{
    return QStringLiteral(
        "usage: meshscope [--demo] [--otlp-listen ADDR] [--als-listen ADDR [--als-request-id-traces]]\n"
        "                 [--prometheus URL] [--envoy-admin URL]\n"
        "                 [--xds-listen ADDR [--routes FILE] | --caddy-admin URL --caddy-server NAME]\n"
        "                 [--workspace NAME] [--screenshot FILE --screenshot-after-ms N [--screenshot-select NODE]]");
}

// The dashboard's option table, its own groups first, then the shared source groups:
// parsing and --help both come from it.
std::unique_ptr<CommandLine> dashboardCommandLine()
{
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope"), usageLine());
    commandLine->addGroup(QStringLiteral("Dashboard"),
        {
            {{QStringLiteral("demo")}, {},
                QStringLiteral("start a demo mesh (meshscope-demo) against an ephemeral OTLP receiver"), {}},
            {{QStringLiteral("workspace")}, QStringLiteral("NAME"),
                QStringLiteral(
                    "settings workspace: layout, filters, pinned nodes, saved sources (default \"default\")"),
                QStringLiteral("--workspace needs a name")},
        },
        QStringLiteral("Sources > Connections... adds, tests and saves sources per workspace; secrets go to the "
                       "keychain.\nSources given here run for this session only."));
    QList<CommandLineOption> routeEditor = {
        {{QStringLiteral("xds-listen")}, QStringLiteral("ADDR"),
            QStringLiteral("host the xDS control plane (ADS) here and open the route editor"),
            QStringLiteral("--xds-listen needs an address (HOST:PORT)")},
        {{QStringLiteral("routes")}, QStringLiteral("FILE"),
            QStringLiteral("route file (HTTPRoute/EndpointSlice YAML) the control plane serves and Apply saves"),
            QStringLiteral("--routes needs a route file")},
        {{QStringLiteral("caddy-admin")}, QStringLiteral("URL"),
            QStringLiteral("edit a Caddy server's routes through its admin API (e.g. http://127.0.0.1:2019); "
                           "Apply replaces them with If-Match"),
            QStringLiteral("--caddy-admin needs a URL such as http://127.0.0.1:2019")},
        {{QStringLiteral("caddy-server")}, QStringLiteral("NAME"),
            QStringLiteral("that Caddy HTTP server (apps.http.servers.NAME)"),
            QStringLiteral("--caddy-server needs the name of a Caddy HTTP server (apps.http.servers.NAME)")},
    };
    routeEditor << tlsClientFlags(QStringLiteral("caddy"), QStringLiteral("the Caddy admin endpoint"));
    commandLine->addGroup(QStringLiteral("Route editor"), routeEditor);
    commandLine->addGroup(QStringLiteral("Screenshot"),
        {
            {{QStringLiteral("screenshot")}, QStringLiteral("FILE"),
                QStringLiteral("after --screenshot-after-ms, save the window as PNG and exit"),
                QStringLiteral("--screenshot needs a file name")},
            {{QStringLiteral("screenshot-after-ms")}, QStringLiteral("N"),
                QStringLiteral("how long to run before the screenshot"),
                QStringLiteral("--screenshot-after-ms needs a non-negative number of milliseconds")},
            {{QStringLiteral("screenshot-select")}, QStringLiteral("NODE"),
                QStringLiteral("select this node (id or name) before the screenshot"),
                QStringLiteral("--screenshot-select needs a node id or name")},
        });
    SourceOptions::declare(*commandLine, DashboardOptions::kSources);
    return commandLine;
}

// What only the dashboard checks: its own flags and how they combine.
QString readDashboardFlags(const CommandLine &commandLine, DashboardOptions &o)
{
    auto given = [&commandLine](const char *name) { return commandLine.isSet(QLatin1String(name)); };
    auto value = [&commandLine](const char *name) { return commandLine.value(QLatin1String(name)); };
    o.demo = given("demo");
    if (given("workspace"))
        o.workspace = value("workspace");
    o.screenshotFile = value("screenshot");
    o.screenshotSelect = value("screenshot-select");
    if (given("screenshot-after-ms")) {
        bool ok = false;
        o.screenshotAfterMs = value("screenshot-after-ms").toInt(&ok);
        if (!ok || o.screenshotAfterMs < 0)
            return QStringLiteral("--screenshot-after-ms needs a non-negative number of milliseconds");
    }
    if (given("xds-listen")) {
        o.xdsListen = value("xds-listen");
        if (!isHostPort(o.xdsListen))
            return QStringLiteral("--xds-listen '%1' is not HOST:PORT").arg(o.xdsListen);
    }
    o.routesFile = value("routes");
    if (given("caddy-admin")) {
        const QString v = value("caddy-admin");
        const QUrl url(v.contains(QLatin1String("://")) ? v : QStringLiteral("http://") + v);
        if (!url.isValid() || url.host().isEmpty()
            || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            return QStringLiteral("--caddy-admin '%1' is not an admin URL (e.g. http://127.0.0.1:2019)").arg(v);
        o.caddyAdminUrl = url.toString();
    }
    o.caddyServer = value("caddy-server");
    if (o.caddyServer.contains(QLatin1Char('/')))
        return QStringLiteral("--caddy-server needs the name of a Caddy HTTP server (apps.http.servers.NAME)");

    if (o.screenshotFile.isEmpty() != (o.screenshotAfterMs < 0))
        return QStringLiteral("--screenshot and --screenshot-after-ms go together");
    if (!o.screenshotSelect.isEmpty() && o.screenshotFile.isEmpty())
        return QStringLiteral("--screenshot-select needs --screenshot");
    if (!o.routesFile.isEmpty() && o.xdsListen.isEmpty())
        return QStringLiteral("--routes needs --xds-listen (the control plane that serves them)");
    if (!o.caddyServer.isEmpty() && o.caddyAdminUrl.isEmpty())
        return QStringLiteral("--caddy-server needs --caddy-admin URL (the Caddy admin endpoint)");
    if (!o.caddyAdminUrl.isEmpty() && o.caddyServer.isEmpty())
        return QStringLiteral("--caddy-admin needs --caddy-server NAME (the HTTP server under apps.http.servers)");
    if (!o.caddyAdminUrl.isEmpty() && !o.xdsListen.isEmpty())
        return QStringLiteral("--caddy-admin and --xds-listen each open the route editor on one target; give one");
    if (const QString e = readTlsClientFlags(commandLine, QStringLiteral("caddy"), &o.caddyTls); !e.isEmpty())
        return e;
    // Unlike the pulled sources' TLS flags, these need only --caddy-admin: with an
    // http:// admin endpoint they go unused.
    if (o.caddyTls.customized() && o.caddyAdminUrl.isEmpty())
        return QStringLiteral("--caddy-ca/-cert/-key/-insecure-skip-verify need --caddy-admin");
    return {};
}

}  // namespace

QString DashboardOptions::usage() { return dashboardCommandLine()->helpText(); }

QString DashboardOptions::parse(const QStringList &args, DashboardOptions *out)
{
    const std::unique_ptr<CommandLine> commandLine = dashboardCommandLine();
    if (!commandLine->parse(withoutQtOptions(args)))
        return commandLine->error();
    DashboardOptions o;
    o.help = commandLine->helpRequested();
    o.version = commandLine->versionRequested();
    if (o.help || o.version) {
        // Asked what the flags are: how the others combine does not matter yet.
        if (out)
            *out = o;
        return {};
    }
    if (const QString e = readDashboardFlags(*commandLine, o); !e.isEmpty())
        return e;
    if (const QString e = o.read(*commandLine, kSources); !e.isEmpty())
        return e;
    if (out)
        *out = o;
    return {};
}

}  // namespace meshscope

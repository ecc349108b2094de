#include "dashboardoptions.h"

#include <cstring>

namespace meshscope {

namespace {

bool looksLikeHostPort(const QString &addr)
{
    const qsizetype colon = addr.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0 || colon == addr.size() - 1)
        return false;
    bool ok = false;
    const int port = addr.mid(colon + 1).toInt(&ok);
    return ok && port >= 0 && port <= 65535;
}

// Options QGuiApplication itself consumes (-platform offscreen, -style Fusion, ...):
// they reach main() too and must not be refused as unknown.
int qtOptionArity(const QString &a)
{
    static const char *const withValue[] = {"-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-style",
                                            "-stylesheet", "-display", "-geometry", "-qwindowgeometry",
                                            "-qwindowtitle", "-qwindowicon", "-session", "-name", "-title"};
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

}  // namespace

QString DashboardOptions::usage()
{
    return QStringLiteral(
        "usage: meshscope [--demo] [--otlp-listen ADDR] [--als-listen ADDR] [--prometheus URL] [--envoy-admin URL]\n"
        "                 [--xds-listen ADDR [--routes FILE]] [--workspace NAME]\n"
        "                 [--screenshot FILE --screenshot-after-ms N [--screenshot-select NODE]]\n"
        "\n"
        "  --demo                  start a demo mesh (meshscope-demo) against an ephemeral receiver\n"
        "  --otlp-listen ADDR      OTLP/gRPC trace receiver address (default 127.0.0.1:4317)\n"
        "  --als-listen ADDR       Envoy access-log service (gRPC) receiver address\n"
        "  --prometheus URL        Prometheus (or Thanos/Mimir/VictoriaMetrics) with Istio or Linkerd metrics\n"
        "  --prometheus-token T    bearer token for --prometheus\n"
        "  --envoy-admin URL       Envoy admin endpoint (http://HOST:9901): upstream edges and health\n"
        "  --envoy-admin-name N    the proxy's node name when /server_info gives none\n"
        "  --xds-listen ADDR       host the xDS control plane here and open the route editor\n"
        "  --routes FILE           route file (HTTPRoute/EndpointSlice YAML) served and saved on Apply\n"
        "  --workspace NAME        settings workspace: layout, filters, pinned nodes (default \"default\")\n"
        "  --screenshot FILE       after --screenshot-after-ms N, save the window as PNG and exit\n"
        "  --screenshot-select ID  select this node (id or name) before the screenshot\n");
}

QString DashboardOptions::parse(const QStringList &args, DashboardOptions *out)
{
    DashboardOptions o;
    for (qsizetype i = 0; i < args.size(); ++i) {
        QString a = args[i];
        QString inlineValue;
        bool hasInline = false;
        // Accept both "--opt value" and "--opt=value".
        if (a.startsWith(QLatin1String("--")) && a.contains(QLatin1Char('='))) {
            const qsizetype eq = a.indexOf(QLatin1Char('='));
            inlineValue = a.mid(eq + 1);
            a = a.left(eq);
            hasInline = true;
        }
        auto value = [&](QString *v) -> bool {
            if (hasInline) {
                *v = inlineValue;
                return !v->isEmpty();
            }
            if (i + 1 >= args.size())
                return false;
            *v = args[++i];
            return !v->isEmpty();
        };
        QString v;
        if (const int arity = qtOptionArity(a); arity >= 0) {
            i += arity;
        } else if (a == QLatin1String("--help") || a == QLatin1String("-h")) {
            o.help = true;
        } else if (a == QLatin1String("--demo")) {
            o.demo = true;
        } else if (a == QLatin1String("--otlp-listen")) {
            if (!value(&v))
                return QStringLiteral("--otlp-listen needs an address (HOST:PORT)");
            if (!looksLikeHostPort(v))
                return QStringLiteral("--otlp-listen '%1' is not HOST:PORT").arg(v);
            o.otlpListen = v;
            o.otlpListenGiven = true;
        } else if (a == QLatin1String("--workspace")) {
            if (!value(&v))
                return QStringLiteral("--workspace needs a name");
            o.workspace = v;
        } else if (a == QLatin1String("--screenshot")) {
            if (!value(&v))
                return QStringLiteral("--screenshot needs a file name");
            o.screenshotFile = v;
        } else if (a == QLatin1String("--screenshot-after-ms")) {
            bool ok = false;
            if (!value(&v) || (o.screenshotAfterMs = v.toInt(&ok), !ok) || o.screenshotAfterMs < 0)
                return QStringLiteral("--screenshot-after-ms needs a non-negative number of milliseconds");
        } else if (a == QLatin1String("--screenshot-select")) {
            if (!value(&v))
                return QStringLiteral("--screenshot-select needs a node id or name");
            o.screenshotSelect = v;
        } else if (a == QLatin1String("--als-listen")) {
            if (!value(&v) || !looksLikeHostPort(v))
                return QStringLiteral("--als-listen needs an address (HOST:PORT)");
            o.alsListen = v;
        } else if (a == QLatin1String("--prometheus")) {
            if (!value(&v))
                return QStringLiteral("--prometheus needs a URL such as http://127.0.0.1:9090");
            o.prometheusUrl = v;
        } else if (a == QLatin1String("--prometheus-token")) {
            if (!value(&v))
                return QStringLiteral("--prometheus-token needs a token");
            o.prometheusToken = v;
        } else if (a == QLatin1String("--envoy-admin")) {
            if (!value(&v))
                return QStringLiteral("--envoy-admin needs a URL such as http://127.0.0.1:9901");
            o.envoyAdminUrl = v;
        } else if (a == QLatin1String("--envoy-admin-name")) {
            if (!value(&v))
                return QStringLiteral("--envoy-admin-name needs a name");
            o.envoyAdminName = v;
        } else if (a == QLatin1String("--xds-listen")) {
            if (!value(&v) || !looksLikeHostPort(v))
                return QStringLiteral("--xds-listen needs an address (HOST:PORT)");
            o.xdsListen = v;
        } else if (a == QLatin1String("--routes")) {
            if (!value(&v))
                return QStringLiteral("--routes needs a route file");
            o.routesFile = v;
        } else {
            return QStringLiteral("unknown option '%1' (see --help)").arg(args[i]);
        }
    }
    if (o.screenshotFile.isEmpty() != (o.screenshotAfterMs < 0))
        return QStringLiteral("--screenshot and --screenshot-after-ms go together");
    if (!o.screenshotSelect.isEmpty() && o.screenshotFile.isEmpty())
        return QStringLiteral("--screenshot-select needs --screenshot");
    if (!o.routesFile.isEmpty() && o.xdsListen.isEmpty())
        return QStringLiteral("--routes needs --xds-listen (the control plane that serves them)");
    if (out)
        *out = o;
    return {};
}

}  // namespace meshscope

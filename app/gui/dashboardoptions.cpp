#include "dashboardoptions.h"

#include "sources/sourcespec.h"

#include <QUrl>

#include <cstring>

namespace meshscope {

namespace {

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
        "  --prometheus-ca F, --prometheus-cert F, --prometheus-key F, --prometheus-insecure-skip-verify\n"
        "                          https: CA to verify Prometheus with, client certificate and key (mTLS)\n"
        "  --envoy-admin URL       Envoy admin endpoint (http://HOST:9901): upstream edges and health\n"
        "  --envoy-admin-name N    the proxy's node name when /server_info gives none\n"
        "  --envoy-admin-ca F, --envoy-admin-cert F, --envoy-admin-key F, --envoy-admin-insecure-skip-verify\n"
        "  --tls-cert F --tls-key F [--tls-client-ca F] [--tls-require-client-cert]\n"
        "                          serve the OTLP and access-log receivers over TLS (mTLS with a client CA)\n"
        "  Sources > Connections... adds, tests and saves sources per workspace; secrets go to the keychain.\n"
        "  --xds-listen ADDR       host the xDS control plane here and open the route editor\n"
        "  --routes FILE           route file (HTTPRoute/EndpointSlice YAML) served and saved on Apply\n"
        "  --caddy-admin URL --caddy-server NAME\n"
        "                          open the route editor on a Caddy server's routes (admin API, e.g.\n"
        "                          http://127.0.0.1:2019); Apply replaces them with If-Match\n"
        "  --caddy-ca F, --caddy-cert F, --caddy-key F, --caddy-insecure-skip-verify\n"
        "                          https admin endpoint: CA, client certificate and key (mTLS)\n"
        "  --workspace NAME        settings workspace: layout, filters, pinned nodes (default \"default\")\n"
        "  --screenshot FILE       after --screenshot-after-ms N, save the window as PNG and exit\n"
        "  --screenshot-select ID  select this node (id or name) before the screenshot\n");
}

QString DashboardOptions::parse(const QStringList &raw, DashboardOptions *out)
{
    DashboardOptions o;
    // Accept both "--opt value" and "--opt=value".
    QStringList words;
    for (const QString &a : raw) {
        const qsizetype eq = a.indexOf(QLatin1Char('='));
        if (a.startsWith(QLatin1String("--")) && eq > 2)
            words << a.left(eq) << a.mid(eq + 1);
        else
            words << a;
    }
    const QStringList &args = words;
    for (int i = 0; i < int(args.size()); ++i) {
        const QString a = args[i];
        auto value = [&](QString *v) -> bool {
            if (i + 1 >= int(args.size()))
                return false;
            *v = args[++i];
            return !v->isEmpty();
        };
        QString v, tlsError;
        if (takeTlsServerFlag(args, &i, &o.receiverTls, &tlsError)
            || takeTlsClientFlag(args, &i, QStringLiteral("--prometheus"), &o.prometheusTls, &tlsError)
            || takeTlsClientFlag(args, &i, QStringLiteral("--envoy-admin"), &o.envoyAdminTls, &tlsError)
            || takeTlsClientFlag(args, &i, QStringLiteral("--caddy"), &o.caddyTls, &tlsError)) {
            if (!tlsError.isEmpty())
                return tlsError;
        } else if (const int arity = qtOptionArity(a); arity >= 0) {
            i += arity;
        } else if (a == QLatin1String("--help") || a == QLatin1String("-h")) {
            o.help = true;
        } else if (a == QLatin1String("--demo")) {
            o.demo = true;
        } else if (a == QLatin1String("--otlp-listen")) {
            if (!value(&v))
                return QStringLiteral("--otlp-listen needs an address (HOST:PORT)");
            if (!SourceSpec::isHostPort(v))
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
            if (!value(&v) || !SourceSpec::isHostPort(v))
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
            if (!value(&v) || !SourceSpec::isHostPort(v))
                return QStringLiteral("--xds-listen needs an address (HOST:PORT)");
            o.xdsListen = v;
        } else if (a == QLatin1String("--caddy-admin")) {
            if (!value(&v))
                return QStringLiteral("--caddy-admin needs a URL such as http://127.0.0.1:2019");
            const QUrl url(v.contains(QLatin1String("://")) ? v : QStringLiteral("http://") + v);
            if (!url.isValid() || url.host().isEmpty()
                || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
                return QStringLiteral("--caddy-admin '%1' is not an admin URL (e.g. http://127.0.0.1:2019)").arg(v);
            o.caddyAdminUrl = url.toString();
        } else if (a == QLatin1String("--caddy-server")) {
            if (!value(&v) || v.contains(QLatin1Char('/')))
                return QStringLiteral("--caddy-server needs the name of a Caddy HTTP server (apps.http.servers.NAME)");
            o.caddyServer = v;
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
    if (!o.caddyServer.isEmpty() && o.caddyAdminUrl.isEmpty())
        return QStringLiteral("--caddy-server needs --caddy-admin URL (the Caddy admin endpoint)");
    if (!o.caddyAdminUrl.isEmpty() && o.caddyServer.isEmpty())
        return QStringLiteral("--caddy-admin needs --caddy-server NAME (the HTTP server under apps.http.servers)");
    if (!o.caddyAdminUrl.isEmpty() && !o.xdsListen.isEmpty())
        return QStringLiteral("--caddy-admin and --xds-listen each open the route editor on one target; give one");
    if (const QString e = checkTlsClientFlags(o.caddyTls, QStringLiteral("--caddy")); !e.isEmpty())
        return e;
    if (o.caddyTls.customized() && o.caddyAdminUrl.isEmpty())
        return QStringLiteral("--caddy-ca/-cert/-key/-insecure-skip-verify need --caddy-admin");
    for (const QString &e : {checkTlsServerFlags(o.receiverTls),
                             checkTlsClientFlags(o.prometheusTls, QStringLiteral("--prometheus")),
                             checkTlsClientFlags(o.envoyAdminTls, QStringLiteral("--envoy-admin"))}) {
        if (!e.isEmpty())
            return e;
    }
    if (o.prometheusTls.customized() && o.prometheusUrl.isEmpty())
        return QStringLiteral("--prometheus-ca/-cert/-key/-insecure-skip-verify need --prometheus");
    if (o.envoyAdminTls.customized() && o.envoyAdminUrl.isEmpty())
        return QStringLiteral("--envoy-admin-ca/-cert/-key/-insecure-skip-verify need --envoy-admin");
    if (out)
        *out = o;
    return {};
}

}  // namespace meshscope

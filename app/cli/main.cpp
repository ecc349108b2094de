// meshscope-cli: the headless front end. It uses only meshscope_core.

#include "graphcommand.h"
#include "routescommand.h"
#include "xdscommand.h"

#include <QCoreApplication>

#include <cstdio>
#include <cstring>

namespace {
void usage(FILE *to)
{
    std::fprintf(to,
                 "usage: meshscope-cli graph [--otlp-listen ADDR] [--als-listen ADDR] [--duration SECONDS] [--format json|dot]\n"
                 "                           [--window SECONDS] [--node-limit N] [--gateway NAME]...\n"
                 "                           [--pairing-ttl-ms MS] [--max-message-bytes N]\n"
                 "                           [--prometheus URL [--at TIME] [--mesh istio|linkerd|auto]\n"
                 "                            [--prometheus-token T | --prometheus-user U --prometheus-password P]\n"
                 "                            [--prometheus-ca F] [--prometheus-cert F --prometheus-key F]\n"
                 "                            [--prometheus-insecure-skip-verify]]\n"
                 "                           [--tls-cert F --tls-key F [--tls-client-ca F] [--tls-require-client-cert]]\n"
                 "                           [--envoy-admin URL [--envoy-admin-name NAME|NAMESPACE/NAME]\n"
                 "                            [--envoy-admin-ca F] [--envoy-admin-cert F --envoy-admin-key F]\n"
                 "                            [--envoy-admin-insecure-skip-verify]]\n"
                 "  --tls-* serve the OTLP and access-log receivers over TLS (PEM files); with --tls-client-ca,\n"
                 "  clients are asked for a certificate signed by it, and --tls-require-client-cert refuses those without.\n"
                 "  --window takes 60s, 5m, 1h; --at takes unix seconds or RFC 3339 (default now).\n"
                 "  With --prometheus and no live option, the graph is answered from one query.\n"
                 "  --envoy-admin polls Envoy's admin (default port 9901): /clusters, /stats, /server_info. Rates come\n"
                 "  from two samples taken --duration seconds apart (2 s when --duration is not given); with\n"
                 "  --envoy-admin, --duration alone starts no receivers. The proxy's node carries \"upstream_health\".\n"
                 "       meshscope-cli routes validate|export|diff|pull|apply|history|rollback ...  (routes --help)\n"
                 "       meshscope-cli xds serve --routes FILE [--listen ADDR] [--target xds-grpc|envoy] [--tls-...]  (xds --help)\n");
}
}  // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("meshscope-cli"));
    QCoreApplication::setOrganizationName(QStringLiteral("meshscope"));
    QStringList args = QCoreApplication::arguments();
    args.removeFirst();
    if (args.isEmpty() || args.first() == QLatin1String("--help") || args.first() == QLatin1String("-h")) {
        usage(args.isEmpty() ? stderr : stdout);
        return args.isEmpty() ? 2 : 0;
    }
    const QString command = args.takeFirst();
    if (command == QLatin1String("graph"))
        return meshscope::cli::runGraphCommand(app, args);
    if (command == QLatin1String("routes"))
        return meshscope::cli::runRoutesCommand(app, args);
    if (command == QLatin1String("xds"))
        return meshscope::cli::runXdsCommand(app, args);
    std::fprintf(stderr, "meshscope-cli: unknown command '%s'\n", qPrintable(command));
    usage(stderr);
    return 2;
}

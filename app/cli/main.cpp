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
                 "                            [--prometheus-token T | --prometheus-user U --prometheus-password P]]\n"
                 "  --window takes 60s, 5m, 1h; --at takes unix seconds or RFC 3339 (default now).\n"
                 "  With --prometheus and no live option, the graph is answered from one query.\n"
                 "       meshscope-cli routes validate|export|diff|apply|history|rollback ...  (routes --help)\n"
                 "       meshscope-cli xds serve --routes FILE [--listen ADDR] [--target xds-grpc|envoy]  (xds --help)\n");
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

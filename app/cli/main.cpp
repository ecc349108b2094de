// meshscope-cli: the headless front end. It uses only meshscope_core.

#include "clipcommand.h"
#include "commandline.h"
#include "diffcommand.h"
#include "graphcommand.h"
#include "rolloutcommand.h"
#include "routescommand.h"
#include "tracescommand.h"
#include "xdscommand.h"

#include <QCoreApplication>

#include <cstdio>

namespace {

// The command list and the general options, then each command's own help, all from
// the tables the commands parse with.
QString help(const meshscope::CommandLine &commandLine)
{
    using namespace meshscope::cli;
    const QString rule = QStringLiteral("\n") + QString(100, QLatin1Char('-')) + QStringLiteral("\n");
    const auto sections = meshscope::CommandLine::Sections::WithoutGeneral;  // listed once, at the top
    return commandLine.helpText() + rule + graphCommandHelp(sections) + rule + tracesCommandHelp(sections) + rule
        + traceCommandHelp(sections) + rule + recordCommandHelp(sections) + rule + diffCommandHelp(sections) + rule
        + clipCommandHelp(sections) + rule + routesCommandHelp(sections) + rule + rolloutCommandHelp(sections) + rule
        + xdsCommandHelp(sections);
}

}  // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("meshscope-cli"));
    QCoreApplication::setOrganizationName(QStringLiteral("meshscope"));
    QCoreApplication::setApplicationVersion(meshscope::appVersion());
    QStringList args = QCoreApplication::arguments();
    args.removeFirst();

    meshscope::CommandLine commandLine(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli [--log CATEGORY] COMMAND [options]"),
        QStringLiteral("Commands:\n"
                       "  graph     listen to the sources for a while (or read a recording), then print the graph\n"
                       "  traces    search the traces of a recording or of a live listen\n"
                       "  trace     print one trace with its critical path\n"
                       "  record    record what the sources deliver to a .msrec file\n"
                       "  diff      what changed in the graph between two recordings, or two ranges of one\n"
                       "  clip      write a time range of a recording as its own, secrets removed, to share it\n"
                       "  routes    validate, export, diff, apply, pull, history, rollback: route files and Caddy\n"
                       "  rollout   move a weighted rule to a backend in health-gated steps, rolling back when a gate "
                       "breaks\n"
                       "  xds       xds serve: serve a route file to xDS clients (gRPC proxyless, Envoy)\n"
                       "`meshscope-cli COMMAND --help` prints one command's options, `meshscope-cli --help` all "
                       "of them."));
    commandLine.setSubcommandMode();
    if (!commandLine.parse(args)) {
        std::fprintf(stderr, "meshscope-cli: %s\n", qPrintable(commandLine.error()));
        return 2;
    }
    if (commandLine.helpRequested()) {
        std::fputs(qPrintable(help(commandLine)), stdout);
        return 0;
    }
    if (commandLine.versionRequested()) {
        std::printf("%s\n", qPrintable(commandLine.versionText()));
        return 0;
    }
    const QString command = commandLine.subcommand();
    if (command.isEmpty()) {
        std::fputs(qPrintable(commandLine.helpText()), stderr);
        return 2;
    }
    const QStringList rest = commandLine.subcommandArguments();
    if (command == QLatin1String("graph"))
        return meshscope::cli::runGraphCommand(app, rest);
    if (command == QLatin1String("traces"))
        return meshscope::cli::runTracesCommand(app, rest);
    if (command == QLatin1String("trace"))
        return meshscope::cli::runTraceCommand(app, rest);
    if (command == QLatin1String("record"))
        return meshscope::cli::runRecordCommand(app, rest);
    if (command == QLatin1String("diff"))
        return meshscope::cli::runDiffCommand(rest);
    if (command == QLatin1String("clip"))
        return meshscope::cli::runClipCommand(rest);
    if (command == QLatin1String("routes"))
        return meshscope::cli::runRoutesCommand(app, rest);
    if (command == QLatin1String("rollout"))
        return meshscope::cli::runRolloutCommand(app, rest);
    if (command == QLatin1String("xds"))
        return meshscope::cli::runXdsCommand(app, rest);
    std::fprintf(stderr,
        "meshscope-cli: unknown command '%s' (graph, traces, trace, record, diff, clip, routes, rollout or xds; see "
        "--help)\n",
        qPrintable(command));
    return 2;
}

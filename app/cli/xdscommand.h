#pragma once
// `meshscope-cli xds serve`: serves a route file to xDS clients (proxyless gRPC,
// Envoy) over ADS and watches it. A saved edit is validated and pushed as a new
// version; an invalid one is refused with its issues and the last good version stays
// served. Client connects, ACKs and NACKs are printed one line each.

#include "commandline.h"

#include <QString>
#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

// args: what follows `xds` on the command line. Returns the exit status.
int runXdsCommand(QCoreApplication &app, const QStringList &args);
// `meshscope-cli xds --help`, from the table the command parses with.
QString xdsCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

#pragma once
// `meshscope-cli routes ...`: check, export, apply and undo route files without the
// GUI, and pull/apply the routes of a Caddy server. Subcommands: validate, export,
// diff, pull, apply, history, rollback (see routesForms()).

#include "commandline.h"

#include <QString>
#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

// args: what follows `routes` on the command line. Returns the exit status.
int runRoutesCommand(QCoreApplication &app, const QStringList &args);
// `meshscope-cli routes --help`, from the table the command parses with.
QString routesCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

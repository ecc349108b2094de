#pragma once
// `meshscope-cli graph`: listen to the configured sources for a while, then print
// the graph seen in that time as JSON or DOT.

#include "commandline.h"

#include <QString>
#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

// args: what follows `graph` on the command line. Returns the exit status.
int runGraphCommand(QCoreApplication &app, const QStringList &args);
// `meshscope-cli graph --help`, from the table the command parses with.
QString graphCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

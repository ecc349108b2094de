#pragma once
// `meshscope-cli diff`: what changed in the service graph between two recordings, or
// between two time ranges of one, as JSON or DOT.

#include "commandline.h"

#include <QString>
#include <QStringList>

namespace meshscope::cli {

// args: what follows `diff` on the command line. Returns the exit status.
int runDiffCommand(const QStringList &args);
QString diffCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

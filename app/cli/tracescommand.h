#pragma once
// `meshscope-cli record`, `traces` and `trace`: record a session to a .msrec file;
// search the traces of a recording or of a live listen; print one trace with its
// critical path. The JSON they print is a contract (core/traces/tracejson.h).

#include "commandline.h"

#include <QString>
#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

// args: what follows the command's name. Each returns the exit status.
int runRecordCommand(QCoreApplication &app, const QStringList &args);
int runTracesCommand(QCoreApplication &app, const QStringList &args);
int runTraceCommand(QCoreApplication &app, const QStringList &args);

QString recordCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);
QString tracesCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);
QString traceCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

#pragma once
// `meshscope-cli clip`: a time range of a recording written as a .msrec of its own,
// with query-string values, URL userinfo and secret headers and attributes removed,
// to hand an incident to someone else (core/session/clipexport.h).

#include "commandline.h"

#include <QString>
#include <QStringList>

namespace meshscope::cli {

// args: what follows `clip` on the command line. Returns the exit status: 0 written,
// 1 the recording could not be read or the clip not written, 2 a usage mistake (a bad
// option or range, the output being the recording itself).
int runClipCommand(const QStringList &args);
QString clipCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

#pragma once
// `meshscope-cli routes ...`: check, export, apply and undo route files without the
// GUI, and pull/apply the routes of a Caddy server. Subcommands: validate, export,
// diff, pull, apply, history, rollback (see kUsage).

#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

int runRoutesCommand(QCoreApplication &app, const QStringList &args);

}  // namespace meshscope::cli

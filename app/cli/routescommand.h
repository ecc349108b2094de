#pragma once
// `meshscope-cli routes ...`: check, export, apply and undo route files without the
// GUI. Subcommands: validate, export, diff, apply, history, rollback (see usage()).

#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

int runRoutesCommand(QCoreApplication &app, const QStringList &args);

}  // namespace meshscope::cli

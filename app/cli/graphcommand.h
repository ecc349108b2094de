#pragma once
// `meshscope-cli graph`: listen to the configured sources for a while, then print
// the graph seen in that time as JSON or DOT.

#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

int runGraphCommand(QCoreApplication &app, const QStringList &args);

}  // namespace meshscope::cli

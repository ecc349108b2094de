#pragma once
// `meshscope-cli rollout`: a health-gated rollout of one weighted rule. It serves the
// routes to xDS clients (as `xds serve` does) or applies them to a Caddy server, moves
// the rule's traffic to a canary backend step by step, reads the canary's error rate,
// latency and request count from the telemetry the sources deliver, and promotes it,
// rolls it back or pauses. Exit status: 0 promoted, 3 rolled back, 4 paused, 1 a
// failure on the way (the target unreachable at the start), 2 bad options.

#include "commandline.h"

#include <QString>
#include <QStringList>

class QCoreApplication;

namespace meshscope::cli {

int runRolloutCommand(QCoreApplication &app, const QStringList &args);
QString rolloutCommandHelp(CommandLine::Sections sections = CommandLine::Sections::All);

}  // namespace meshscope::cli

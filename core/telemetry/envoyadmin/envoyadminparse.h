#pragma once
// Readers for the three Envoy admin documents the source polls, as Envoy writes them:
// proto JSON with 64-bit integers as strings and default values left out. Pure: they
// touch no network and can run on any thread.

#include "telemetry/envoyadmin/envoyadmin.h"

#include <QByteArray>
#include <QString>

namespace meshscope {

// Each returns false with one line naming the document, the address and what was
// wrong ("/clusters?format=json from http://...: cluster_statuses[1].host_statuses[0]
// .stats[2].value is \"x\", not an unsigned integer"). `where` comes from
// EnvoyAdminReply::where (envoyadminclient.h).
bool parseEnvoyClusters(const QByteArray &body, const QString &where, EnvoyClusters *out, QString *error);
bool parseEnvoyStats(const QByteArray &body, const QString &where, EnvoyStats *out, QString *error);
bool parseEnvoyServerInfo(const QByteArray &body, const QString &where, EnvoyServerInfo *out, QString *error);

// The start of a body on one line (at most 120 bytes), for messages about what an
// answer held instead of what was expected.
QString envoyAdminBodySnippet(const QByteArray &body);

}  // namespace meshscope

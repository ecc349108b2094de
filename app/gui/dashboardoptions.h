#pragma once
// The dashboard's command line: the shared source and TLS flags (SourceOptions) plus
// what only the dashboard has: the demo mesh, the route editor's target (--xds-listen
// ADDR [--routes FILE], or --caddy-admin URL --caddy-server NAME), the settings
// workspace and unattended screenshots. `meshscope --help` prints all of it.

#include "sourceoptions.h"

#include <QString>
#include <QStringList>

namespace meshscope {

// Derives from SourceOptions so the sources read the same here as in meshscope-cli,
// field for field (opts.otlpListen, opts.prometheusTls, ...).
struct DashboardOptions : SourceOptions {
    bool demo = false;
    bool help = false;
    bool version = false;
    QString xdsListen;  // empty: no control plane, no route editor
    QString routesFile;  // route file the control plane serves and the editor saves to
    QString caddyAdminUrl;  // empty: no Caddy target; else the route editor edits a Caddy server's routes
    QString caddyServer;  // that server's name (apps.http.servers.<name>)
    TlsClientOptions caddyTls;  // for an https admin endpoint
    QString workspace = QStringLiteral("default");
    QString screenshotFile;
    int screenshotAfterMs = -1;
    QString screenshotSelect;  // node id (or name) to select before the shot

    // The source families the dashboard can run (no one-off Prometheus query, no
    // message limit: its receivers use the defaults).
    static constexpr SourceFlags kSources
        = SourceFlag::Receivers | SourceFlag::ReceiverTls | SourceFlag::Prometheus | SourceFlag::EnvoyAdmin;

    // args without the program name; Qt's own (-platform offscreen, -style ...) are
    // passed over. Returns an empty string on success, else a one-line reason for
    // stderr (the caller exits with status 2). --log takes effect here.
    static QString parse(const QStringList &args, DashboardOptions *out);
    static QString usage();  // the --help text
};

}  // namespace meshscope

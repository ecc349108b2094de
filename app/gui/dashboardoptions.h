#pragma once
// The GUI's command line: `meshscope [--demo] [--otlp-listen ADDR] [--als-listen ADDR]
// [--prometheus URL [--prometheus-ca F ...]] [--envoy-admin URL] [--tls-cert F --tls-key F ...] [--xds-listen ADDR [--routes FILE]]
// [--caddy-admin URL --caddy-server NAME [--caddy-ca F ...]] [--workspace NAME]
// [--screenshot FILE --screenshot-after-ms N [--screenshot-select NODE]]`.

#include "net/tlsoptions.h"

#include <QString>
#include <QStringList>

namespace meshscope {

struct DashboardOptions {
    bool demo = false;
    bool help = false;
    QString otlpListen = QStringLiteral("127.0.0.1:4317");
    bool otlpListenGiven = false;
    QString alsListen;      // empty: no Envoy access-log receiver
    QString prometheusUrl;  // empty: no Prometheus source
    QString prometheusToken;
    TlsClientOptions prometheusTls;
    TlsServerOptions receiverTls;  // OTLP and access-log receivers
    TlsClientOptions envoyAdminTls;
    QString envoyAdminUrl;   // empty: no Envoy admin source
    QString envoyAdminName;  // the proxy's node name when /server_info gives none
    QString xdsListen;       // empty: no control plane, no route editor
    QString routesFile;      // route file the control plane serves and the editor saves to
    QString caddyAdminUrl;   // empty: no Caddy target; else the route editor edits a Caddy server's routes
    QString caddyServer;     // that server's name (apps.http.servers.<name>)
    TlsClientOptions caddyTls;  // for an https admin endpoint
    QString workspace = QStringLiteral("default");
    QString screenshotFile;
    int screenshotAfterMs = -1;
    QString screenshotSelect;  // node id (or name) to select before the shot

    // args without the program name. Returns an empty string on success, else a
    // one-line reason for stderr (the caller exits with status 2).
    static QString parse(const QStringList &args, DashboardOptions *out);
    static QString usage();
};

}  // namespace meshscope

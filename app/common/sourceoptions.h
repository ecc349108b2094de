#pragma once
// The flags that name meshscope's sources and their TLS, declared and read in one
// place: the dashboard and `meshscope-cli graph` take the same --otlp-listen,
// --prometheus-ca or --tls-require-client-cert, checked the same way and explained by
// the same help lines. A program picks the families it can honour (SourceFlags),
// declares them on its CommandLine, parses, then reads them into a SourceOptions.

#include "commandline.h"

#include "net/tlsoptions.h"
#include "telemetry/envoyadmin/envoyadminsource.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QFlags>
#include <QString>

#include <cstddef>
#include <optional>

namespace meshscope {

enum class SourceFlag : unsigned {
    Receivers = 0x01,  // --otlp-listen ADDR, --als-listen ADDR, --als-request-id-traces
    ReceiverTls = 0x02,  // --tls-cert F, --tls-key F, --tls-client-ca F, --tls-require-client-cert
    MessageLimit = 0x04,  // --max-message-bytes N
    Prometheus = 0x08,  // --prometheus URL, -token, -user, -password, --mesh, -ca, -cert, -key, -insecure-skip-verify
    PrometheusQuery = 0x10,  // --at TIME, --prometheus-timeout-ms MS: for a one-off query
    EnvoyAdmin = 0x20,  // --envoy-admin URL, -name, -ca, -cert, -key, -insecure-skip-verify
};
Q_DECLARE_FLAGS(SourceFlags, SourceFlag)
Q_DECLARE_OPERATORS_FOR_FLAGS(SourceFlags)

// What the source flags said, as plain values; the defaults are what an absent flag means.
struct SourceOptions {
    // Receivers: traces and access logs pushed to meshscope over gRPC.
    QString otlpListen = QStringLiteral("127.0.0.1:4317");
    bool otlpListenGiven = false;
    QString alsListen;  // empty: no access-log receiver
    bool alsRequestIdTraces = false;  // x-request-id as the trace id of entries without a trace context
    TlsServerOptions receiverTls;  // for both receivers
    size_t maxMessageBytes = 16u * 1024 * 1024;

    // Prometheus (or Thanos, Mimir, VictoriaMetrics) holding Istio or Linkerd metrics.
    QString prometheusUrl;  // with http:// added when no scheme was given; empty: no Prometheus
    QString prometheusToken;
    QString prometheusUser;
    QString prometheusPassword;
    TlsClientOptions prometheusTls;
    MeshKind mesh = MeshKind::Auto;
    std::optional<double> prometheusAt;  // unix seconds; nullopt: now
    int prometheusTimeoutMs = PrometheusConfig {}.timeoutMs;
    qint64 prometheusMaxResponseBytes = PrometheusConfig {}.maxResponseBytes;

    // An Envoy proxy's admin endpoint.
    QString envoyAdminUrl;  // with http:// added when no scheme was given; empty: none
    QString envoyAdminName;  // the proxy's node name when /server_info gives none
    TlsClientOptions envoyAdminTls;

    PrometheusSourceConfig prometheusConfig() const;
    EnvoyAdminSourceConfig envoyAdminConfig() const;

    // Adds a help group per family in `flags`.
    static void declare(CommandLine &commandLine, SourceFlags flags);
    // After commandLine.parse() succeeded: takes in the families in `flags` (the same as
    // declared) and checks them and their combinations. Empty, or a one-line reason.
    QString read(const CommandLine &commandLine, SourceFlags flags);
};

// The TLS flag families alone, for a program whose TLS belongs to something else (the
// xDS control plane, a Caddy admin endpoint). A server's: --tls-cert, --tls-key,
// --tls-client-ca, --tls-require-client-cert. A client's, for prefix "caddy":
// --caddy-ca, --caddy-cert, --caddy-key, --caddy-insecure-skip-verify; `peer` names
// the server in their help ("the Caddy admin endpoint").
QList<CommandLineOption> tlsServerFlags();
QList<CommandLineOption> tlsClientFlags(const QString &prefix, const QString &peer);
// Read after parse(): every file must exist and be readable, and the flags must make
// sense together (checkTlsServerFlags, checkTlsClientFlags). Empty, or a one-line reason.
QString readTlsServerFlags(const CommandLine &commandLine, TlsServerOptions *out);
QString readTlsClientFlags(const CommandLine &commandLine, const QString &prefix, TlsClientOptions *out);

// "HOST:PORT" with a port from 0 (any free one) to 65535, as the receivers bind it.
bool isHostPort(const QString &address);

}  // namespace meshscope

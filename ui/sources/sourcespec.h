#pragma once
// What the operator connected meshscope to: one SourceSpec per receiver (OTLP, Envoy
// access logs) or pulled source (Prometheus, Envoy admin). Saved per workspace in
// QSettings, without secrets: a bearer token or password lives in the desktop
// keychain (SecretStore) under the source's id, never in the settings file.

#include "net/tlsoptions.h"
#include "telemetry/prometheus/meshmetrics.h"

#include <QList>
#include <QString>

class QSettings;

namespace meshscope {

struct SourceSpec {
    enum class Kind { OtlpReceiver, AlsReceiver, Prometheus, EnvoyAdmin };
    enum class Auth { None, Bearer, Basic };

    QString id;  // stable (a UUID): the keychain key and the status bar's handle
    Kind kind = Kind::Prometheus;
    QString name;  // what the status bar and the dialog call it; empty: the kind's label
    QString address;  // http(s) URL for pulled sources, HOST:PORT to listen on for receivers
    bool enabled = true;
    bool fromCommandLine = false;  // given on the command line: runs this session, never saved

    // Pulled sources.
    TlsClientOptions tlsClient;
    Auth auth = Auth::None;  // Prometheus only
    QString username;  // Basic
    QString secret;  // bearer token or password; kept in memory and the keychain only
    int pollIntervalMs = 0;  // 0: the source's default
    // Prometheus.
    MeshKind mesh = MeshKind::Auto;
    int windowSeconds = 60;
    QString selector;  // extra label matchers, e.g. cluster="east"
    // Envoy admin.
    QString proxyName;

    // Receivers.
    TlsServerOptions tlsServer;
    // Envoy access logs: x-request-id as the trace id of entries without a trace context
    // (AlsDecodeLimits::requestIdTraces).
    bool requestIdTraces = false;

    bool isReceiver() const { return kind == Kind::OtlpReceiver || kind == Kind::AlsReceiver; }
    bool needsSecret() const { return kind == Kind::Prometheus && auth != Auth::None; }
    QString displayName() const;  // name, else "Prometheus 10.0.0.5:9090"
    // One line naming the first thing that is wrong ("address: 'x' is not HOST:PORT"),
    // or empty. TLS files are checked for existence here; their contents when used.
    QString validate() const;
    // Same source, same settings (secret included): a running source need not restart.
    bool sameSettings(const SourceSpec &other) const;

    static QString kindLabel(Kind kind);  // "Prometheus", "Envoy admin", "OTLP receiver", "Envoy access logs"
    static QString kindKey(Kind kind);  // "prometheus", "envoy-admin", "otlp", "als" (settings)
    static bool kindFromKey(const QString &key, Kind *kind);
    static QString defaultAddress(Kind kind);  // what the dialog proposes for a new source
    static QString newId();
    static bool isHostPort(const QString &address);  // "HOST:PORT", port 0..65535
};

// A workspace's settings group: "workspaces/<name>", slashes in the name made '_' so
// that it stays one level deep.
QString workspaceGroup(const QString &workspace);

// QSettings layout: workspaces/<workspace>/sources/<i>/{id,kind,name,...}. Sources
// from the command line are skipped; secrets are never written.
QList<SourceSpec> loadSourceSpecs(QSettings &settings, const QString &workspace);
void saveSourceSpecs(QSettings &settings, const QString &workspace, const QList<SourceSpec> &specs);

}  // namespace meshscope

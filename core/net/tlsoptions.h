#pragma once
// TLS settings shared by every meshscope connection: the HTTP clients that pull
// (Prometheus, Envoy admin, Caddy admin) and the gRPC receivers that listen (OTLP,
// Envoy access logs, xDS). Paths name PEM files; nothing here is read until a
// connection is made, so a bad path is reported by the connection that needs it.

#include <QList>
#include <QString>
#include <QStringList>

class QNetworkReply;
class QNetworkRequest;
class QSslConfiguration;
class QSslError;

namespace meshscope {

// A client's side: which CA vouches for the server, and an optional client
// certificate for mTLS.
struct TlsClientOptions {
    QString caFile;  // PEM bundle the server's chain must lead to; empty: the system's CAs
    QString certFile;  // client certificate (PEM) presented when the server asks
    QString keyFile;  // its private key (PEM, unencrypted)
    bool insecureSkipVerify = false;  // accept any server certificate (labs only; shown as a warning)

    bool customized() const { return !caFile.isEmpty() || !certFile.isEmpty() || insecureSkipVerify; }
};

// A receiver's side: its own certificate, and whether clients must present one
// signed by clientCaFile.
struct TlsServerOptions {
    QString certFile;  // server certificate chain (PEM); empty: plaintext
    QString keyFile;  // its private key (PEM)
    QString clientCaFile;  // CA that client certificates must lead to
    bool requireClientCert = false;

    bool enabled() const { return !certFile.isEmpty(); }
};

// Builds the QSslConfiguration a QNetworkRequest to an https URL should carry.
// Returns false with a one-line reason ("cannot read CA file 'x': ...", "no
// certificate in 'y'", "private key in 'z' does not match the certificate") when a
// file is missing or unusable; nothing is sent then.
bool makeClientSslConfiguration(const TlsClientOptions &options, QSslConfiguration *out, QString *error);

// Puts `ssl` on `request` and keeps it on HTTP/1.1, where a TLS alert the server
// sends after the handshake (a refused client certificate) is reported as such.
void applyClientSslConfiguration(QNetworkRequest *request, const QSslConfiguration &ssl);

// Call right after sending `reply` with that configuration: keeps the certificate
// errors the reply reports (QNetworkReply forgets them once it has finished) so that
// describeTlsFailure can name them, and ignores them when insecureSkipVerify is set.
void watchTlsErrors(QNetworkReply *reply, const TlsClientOptions &options);

// One specific line for a request that failed in TLS, or an empty string when the
// failure was something else (refused, reset, timeout, HTTP) or the URL is not https:
//   "TLS: the certificate of 127.0.0.1:9443 is not signed by the CA in 'ca.pem' (issuer: CN=other CA)"
//   "TLS: the certificate of 127.0.0.1:9443 expired on 2020-02-01"
//   "TLS: the certificate of localhost:9443 is for DNS:prometheus.test, IP:127.0.0.1, not localhost"
//   "TLS: 127.0.0.1:9443 requires a client certificate; none was configured"
//   "TLS: 127.0.0.1:9443 rejected the client certificate 'client.pem' (...)"
// The reply must have been watched with watchTlsErrors.
QString describeTlsFailure(QNetworkReply *reply, const TlsClientOptions &options);
// The same from the parts: the server's "host:port", the certificate errors seen and
// the reply's error string.
QString describeTlsFailure(const QString &hostPort, const TlsClientOptions &options, const QList<QSslError> &sslErrors,
    const QString &errorString);

// The command-line flags that set these, spelled alike by every program:
//   receivers: --tls-cert F --tls-key F [--tls-client-ca F] [--tls-require-client-cert]
//   clients:   <prefix>-ca F, <prefix>-cert F, <prefix>-key F, <prefix>-insecure-skip-verify
//              (prefix "--prometheus" gives --prometheus-ca and so on)
// Once they are read, the combinations that make no sense ("--tls-key needs
// --tls-cert"). Empty when fine.
QString checkTlsServerFlags(const TlsServerOptions &options);
QString checkTlsClientFlags(const TlsClientOptions &options, const QString &prefix);

}  // namespace meshscope

#include "net/tlsoptions.h"

#include "net/peercertificate.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslKey>
#include <QSslSocket>
#include <QUrl>
#include <QVariant>

namespace meshscope {

namespace {

bool readFile(const QString &path, const char *what, QByteArray *out, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1 file '%2': %3").arg(QLatin1String(what), path, f.errorString());
        return false;
    }
    *out = f.readAll();
    return true;
}

}  // namespace

bool makeClientSslConfiguration(const TlsClientOptions &options, QSslConfiguration *out, QString *error)
{
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    if (!options.caFile.isEmpty()) {
        QByteArray pem;
        if (!readFile(options.caFile, "CA", &pem, error))
            return false;
        const QList<QSslCertificate> cas = QSslCertificate::fromData(pem, QSsl::Pem);
        if (cas.isEmpty()) {
            *error = QStringLiteral("no PEM certificate in CA file '%1'").arg(options.caFile);
            return false;
        }
        // The chosen CA replaces the system store: a server vouched for only by a
        // public CA is not the one the operator pinned.
        ssl.setCaCertificates(cas);
    }
    if (!options.certFile.isEmpty() || !options.keyFile.isEmpty()) {
        if (options.certFile.isEmpty() || options.keyFile.isEmpty()) {
            *error = QStringLiteral("a client certificate needs both a certificate file and a key file");
            return false;
        }
        QByteArray certPem, keyPem;
        if (!readFile(options.certFile, "client certificate", &certPem, error)
            || !readFile(options.keyFile, "client key", &keyPem, error))
            return false;
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certPem, QSsl::Pem);
        if (chain.isEmpty()) {
            *error = QStringLiteral("no PEM certificate in client certificate file '%1'").arg(options.certFile);
            return false;
        }
        QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull())
            key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
        if (key.isNull()) {
            *error = QStringLiteral("no unencrypted RSA or EC private key in '%1'").arg(options.keyFile);
            return false;
        }
        ssl.setLocalCertificateChain(chain);
        ssl.setPrivateKey(key);
    }
    if (options.insecureSkipVerify)
        ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    *out = ssl;
    return true;
}

namespace {

constexpr const char *kSslErrorsProperty = "meshscopeSslErrors";

QString fileName(const QString &path) { return QFileInfo(path).fileName(); }

// The part of OpenSSL's error text after the routine, e.g.
// "error:0A000412:SSL routines::sslv3 alert bad certificate" -> "sslv3 alert bad certificate".
QString opensslReason(const QString &errorString)
{
    const qsizetype at = errorString.lastIndexOf(QLatin1String("::"));
    return at >= 0 ? errorString.mid(at + 2).trimmed() : errorString.trimmed();
}

bool isUntrusted(QSslError::SslError e)
{
    switch (e) {
    case QSslError::UnableToGetIssuerCertificate:
    case QSslError::UnableToGetLocalIssuerCertificate:
    case QSslError::UnableToVerifyFirstCertificate:
    case QSslError::SelfSignedCertificate:
    case QSslError::SelfSignedCertificateInChain:
    case QSslError::CertificateUntrusted:
    case QSslError::CertificateSignatureFailed:
    case QSslError::UnableToDecryptCertificateSignature:
    case QSslError::InvalidCaCertificate:
    case QSslError::PathLengthExceeded:
    case QSslError::InvalidPurpose:
    case QSslError::CertificateRejected: return true;
    default: return false;
    }
}

}  // namespace

void applyClientSslConfiguration(QNetworkRequest *request, const QSslConfiguration &ssl)
{
    request->setSslConfiguration(ssl);
    // HTTP/1.1 only. A TLS 1.3 server refuses a missing or unacceptable client
    // certificate with an alert after the client has finished its handshake; Qt 6.4's
    // HTTP/2 layer turns that into a bare "Connection closed", while over HTTP/1.1 the
    // alert ("certificate required") reaches the reply and describeTlsFailure can
    // name the problem. Query and admin APIs gain little from HTTP/2.
    request->setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
}

void watchTlsErrors(QNetworkReply *reply, const TlsClientOptions &options)
{
    const bool ignore = options.insecureSkipVerify;
    // Runs on the reply's thread, before finished().
    QObject::connect(reply, &QNetworkReply::sslErrors, reply, [reply, ignore](const QList<QSslError> &errors) {
        QList<QSslError> all = reply->property(kSslErrorsProperty).value<QList<QSslError>>();
        all += errors;
        reply->setProperty(kSslErrorsProperty, QVariant::fromValue(all));
        if (ignore)
            reply->ignoreSslErrors();
    });
}

QString describeTlsFailure(QNetworkReply *reply, const TlsClientOptions &options)
{
    if (!reply || reply->error() == QNetworkReply::NoError || reply->url().scheme() != QLatin1String("https"))
        return {};
    const QUrl url = reply->url();
    const QString hostPort
        = url.host() + QLatin1Char(':') + QString::number(url.port(url.scheme() == QLatin1String("https") ? 443 : 80));
    const QList<QSslError> errors = reply->property(kSslErrorsProperty).value<QList<QSslError>>();
    if (errors.isEmpty() && reply->error() != QNetworkReply::SslHandshakeFailedError
        && !reply->errorString().contains(QLatin1String("alert"), Qt::CaseInsensitive))
        return {};
    return describeTlsFailure(hostPort, options, errors, reply->errorString());
}

QString describeTlsFailure(const QString &hostPort, const TlsClientOptions &options, const QList<QSslError> &sslErrors,
    const QString &errorString)
{
    // The server's certificate, as the verification saw it (the leaf comes first).
    if (!options.insecureSkipVerify) {
        for (const QSslError &e : sslErrors) {
            if (!isUntrusted(e.error()))
                continue;
            const PeerCertificate cert = fromQSslCertificate(e.certificate());
            const QString trusted = options.caFile.isEmpty()
                ? QStringLiteral("a CA this system trusts")
                : QStringLiteral("the CA in '%1'").arg(fileName(options.caFile));
            QString detail = e.errorString();
            if (!cert.isNull())
                detail = QStringLiteral("issuer: %1; %2").arg(cert.issuer, detail);
            return QStringLiteral("TLS: the certificate of %1 is not signed by %2 (%3)").arg(hostPort, trusted, detail);
        }
        for (const QSslError &e : sslErrors) {
            const QSslCertificate cert = e.certificate();
            if (e.error() == QSslError::CertificateExpired) {
                return QStringLiteral("TLS: the certificate of %1 expired on %2")
                    .arg(hostPort, cert.expiryDate().toUTC().toString(QStringLiteral("yyyy-MM-dd")));
            }
            if (e.error() == QSslError::CertificateNotYetValid) {
                return QStringLiteral("TLS: the certificate of %1 is not valid before %2")
                    .arg(hostPort, cert.effectiveDate().toUTC().toString(QStringLiteral("yyyy-MM-dd")));
            }
        }
        for (const QSslError &e : sslErrors) {
            if (e.error() != QSslError::HostNameMismatch)
                continue;
            const PeerCertificate cert = fromQSslCertificate(e.certificate());
            QString names = cert.sanText();
            if (names.isEmpty())
                names = cert.commonName.isEmpty() ? QStringLiteral("no name") : QStringLiteral("CN=") + cert.commonName;
            const QString host = hostPort.left(hostPort.lastIndexOf(QLatin1Char(':')));
            return QStringLiteral("TLS: the certificate of %1 is for %2, not %3").arg(hostPort, names, host);
        }
        if (!sslErrors.isEmpty()) {
            return QStringLiteral("TLS: the certificate of %1 was refused: %2")
                .arg(hostPort, sslErrors.first().errorString());
        }
    }

    // The server refused us: OpenSSL names the TLS alert it sent. TLS 1.3 servers
    // send "certificate required" when none came; TLS 1.2 ones "bad certificate" or
    // "handshake failure", which also cover a certificate they did not like.
    const QString reason = opensslReason(errorString);
    const QString lower = reason.toLower();
    const bool sentCert = !options.certFile.isEmpty();
    if (lower.contains(QLatin1String("alert certificate required")))
        return QStringLiteral("TLS: %1 requires a client certificate; none was configured").arg(hostPort);
    const bool certAlert = lower.contains(QLatin1String("alert bad certificate"))
        || lower.contains(QLatin1String("alert unknown ca"))
        || lower.contains(QLatin1String("alert certificate unknown"))
        || lower.contains(QLatin1String("alert certificate expired"))
        || lower.contains(QLatin1String("alert certificate revoked"))
        || lower.contains(QLatin1String("alert unsupported certificate"))
        || lower.contains(QLatin1String("alert access denied"));
    if (certAlert || lower.contains(QLatin1String("alert handshake failure"))) {
        if (!sentCert && certAlert)
            return QStringLiteral("TLS: %1 requires a client certificate; none was configured").arg(hostPort);
        if (sentCert && certAlert) {
            // The server does not say why; an expired certificate of ours is the
            // one reason we can see for ourselves.
            QFile f(options.certFile);
            const PeerCertificate own
                = f.open(QIODevice::ReadOnly) ? parsePeerCertificatePem(f.readAll()) : PeerCertificate {};
            if (own.expired(QDateTime::currentDateTimeUtc())) {
                return QStringLiteral("TLS: %1 rejected the client certificate '%2', which expired on %3")
                    .arg(hostPort, fileName(options.certFile), own.notAfter.toString(QStringLiteral("yyyy-MM-dd")));
            }
            return QStringLiteral("TLS: %1 rejected the client certificate '%2' (%3)")
                .arg(hostPort, fileName(options.certFile), reason);
        }
        return QStringLiteral("TLS: handshake with %1 failed (%2)").arg(hostPort, reason);
    }
    if (lower.contains(QLatin1String("wrong version number"))
        || lower.contains(QLatin1String("packet length too long")))
        return QStringLiteral("TLS: %1 does not speak TLS (is it plain http?)").arg(hostPort);
    if (lower.contains(QLatin1String("alert")) || lower.contains(QLatin1String("ssl"))
        || lower.contains(QLatin1String("tls")))
        return QStringLiteral("TLS: handshake with %1 failed (%2)").arg(hostPort, reason);
    return {};
}

QString checkTlsServerFlags(const TlsServerOptions &options)
{
    if (!options.keyFile.isEmpty() && options.certFile.isEmpty())
        return QStringLiteral("--tls-key needs --tls-cert");
    if (!options.certFile.isEmpty() && options.keyFile.isEmpty())
        return QStringLiteral("--tls-cert needs --tls-key");
    if (!options.clientCaFile.isEmpty() && options.certFile.isEmpty())
        return QStringLiteral("--tls-client-ca needs --tls-cert and --tls-key");
    if (options.requireClientCert && options.clientCaFile.isEmpty())
        return QStringLiteral("--tls-require-client-cert needs --tls-client-ca");
    return {};
}

QString checkTlsClientFlags(const TlsClientOptions &options, const QString &prefix)
{
    if (!options.keyFile.isEmpty() && options.certFile.isEmpty())
        return QStringLiteral("%1-key needs %1-cert").arg(prefix);
    if (!options.certFile.isEmpty() && options.keyFile.isEmpty())
        return QStringLiteral("%1-cert needs %1-key").arg(prefix);
    if (options.insecureSkipVerify && !options.caFile.isEmpty())
        return QStringLiteral("%1-ca and %1-insecure-skip-verify contradict each other").arg(prefix);
    return {};
}

}  // namespace meshscope

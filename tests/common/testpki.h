#pragma once
// A throw-away PKI for TLS tests, made by the `openssl` command line (OpenSSL 3.0)
// in a directory the test owns: CAs from `openssl req -x509`, leaf certificates
// signed with `openssl x509 -req -extfile` (SANs and extended key usage in the
// extension file), and certificates with chosen validity dates from `openssl ca`
// (3.0's x509 has no -not_before/-not_after). Keys are P-256 and unencrypted.
// Header-only: every test executable includes it on its own.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>

namespace meshscope::test {

class TestPki {
public:
    explicit TestPki(QString dir)
        : m_dir(std::move(dir))
    {
    }

    static QString opensslPath()
    {
        const QString found = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        return found.isEmpty() && QFile::exists(QStringLiteral("/usr/bin/openssl")) ? QStringLiteral("/usr/bin/openssl")
                                                                                    : found;
    }

    QString pem(const QString &name) const { return m_dir + QLatin1Char('/') + name + QStringLiteral(".pem"); }
    QString key(const QString &name) const { return m_dir + QLatin1Char('/') + name + QStringLiteral(".key"); }
    QString lastError() const { return m_error; }

    // name.pem / name.key: a self-signed CA.
    bool makeCa(const QString &name, const QString &commonName)
    {
        return run({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
            QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
            QStringLiteral("-keyout"), key(name), QStringLiteral("-out"), pem(name), QStringLiteral("-days"),
            QStringLiteral("365"), QStringLiteral("-subj"), QStringLiteral("/O=meshscope tests/CN=") + commonName});
    }

    // name.pem / name.key signed by CA `ca`, valid from now for `days` days. `sans` is
    // an OpenSSL subjectAltName value ("DNS:a.test,IP:127.0.0.1,URI:spiffe://td/x").
    bool makeLeaf(const QString &name, const QString &ca, const QString &subject, const QString &sans, int days)
    {
        if (!makeCsr(name, subject) || !writeExtensions(name, sans))
            return false;
        return run({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), csr(name),
            QStringLiteral("-CA"), pem(ca), QStringLiteral("-CAkey"), key(ca), QStringLiteral("-set_serial"),
            QString::number(++m_serial), QStringLiteral("-days"), QString::number(days), QStringLiteral("-extfile"),
            ext(name), QStringLiteral("-out"), pem(name)});
    }

    // Like makeLeaf, valid from `start` to `end` exactly ("20200101000000Z").
    bool makeLeafWithDates(const QString &name, const QString &ca, const QString &subject, const QString &sans,
        const QString &start, const QString &end)
    {
        if (!makeCsr(name, subject) || !writeExtensions(name, sans))
            return false;
        const QString caDir = m_dir + QStringLiteral("/ca-") + ca;
        QDir().mkpath(caDir + QStringLiteral("/newcerts"));
        if (!QFile::exists(caDir + QStringLiteral("/index.txt"))) {
            if (!write(caDir + QStringLiteral("/index.txt"), {}) || !write(caDir + QStringLiteral("/serial"), "1000\n"))
                return false;
        }
        const QByteArray config = "[ ca ]\ndefault_ca = test_ca\n"
                                  "[ test_ca ]\n"
                                  "database = "
            + caDir.toUtf8()
            + "/index.txt\n"
              "new_certs_dir = "
            + caDir.toUtf8()
            + "/newcerts\n"
              "serial = "
            + caDir.toUtf8()
            + "/serial\n"
              "certificate = "
            + pem(ca).toUtf8()
            + "\n"
              "private_key = "
            + key(ca).toUtf8()
            + "\n"
              "default_md = sha256\n"
              "policy = any_name\n"
              "unique_subject = no\n"
              "[ any_name ]\ncommonName = supplied\norganizationName = optional\n";
        const QString configFile = caDir + QStringLiteral("/ca.cnf");
        if (!write(configFile, config))
            return false;
        return run({QStringLiteral("ca"), QStringLiteral("-config"), configFile, QStringLiteral("-batch"),
            QStringLiteral("-notext"), QStringLiteral("-startdate"), start, QStringLiteral("-enddate"), end,
            QStringLiteral("-extfile"), ext(name), QStringLiteral("-in"), csr(name), QStringLiteral("-out"),
            pem(name)});
    }

private:
    QString csr(const QString &name) const { return m_dir + QLatin1Char('/') + name + QStringLiteral(".csr"); }
    QString ext(const QString &name) const { return m_dir + QLatin1Char('/') + name + QStringLiteral(".ext"); }

    bool makeCsr(const QString &name, const QString &subject)
    {
        return run({QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"), QStringLiteral("ec"),
            QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
            QStringLiteral("-keyout"), key(name), QStringLiteral("-out"), csr(name), QStringLiteral("-subj"), subject});
    }

    // Both usages: the same leaf may serve (Prometheus, OTLP) or be a client (mTLS).
    bool writeExtensions(const QString &name, const QString &sans)
    {
        QByteArray text = "basicConstraints = CA:FALSE\n"
                          "keyUsage = critical, digitalSignature, keyEncipherment\n"
                          "extendedKeyUsage = serverAuth, clientAuth\n";
        if (!sans.isEmpty())
            text += "subjectAltName = " + sans.toUtf8() + "\n";
        return write(ext(name), text);
    }

    bool write(const QString &path, const QByteArray &data)
    {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size()) {
            m_error = QStringLiteral("cannot write %1").arg(path);
            return false;
        }
        return true;
    }

    bool run(const QStringList &args)
    {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(opensslPath(), args);
        if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
            m_error = QStringLiteral("openssl %1 failed: %2")
                          .arg(args.join(QLatin1Char(' ')), QString::fromLocal8Bit(p.readAll()).trimmed());
            return false;
        }
        return true;
    }

    QString m_dir;
    QString m_error;
    int m_serial = 100;
};

}  // namespace meshscope::test

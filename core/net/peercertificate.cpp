#include "net/peercertificate.h"

#include <QHostAddress>
#include <QSslCertificate>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>

namespace meshscope {

namespace {

template <typename T, void (*Free)(T *)>
struct OsslDeleter {
    void operator()(T *p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO, BIO_free_all>>;

QString nameText(const X509_NAME *name)
{
    if (!name)
        return {};
    BioPtr bio(BIO_new(BIO_s_mem()));
    // RFC 2253 puts the most specific part (CN) first; keep UTF-8 as it is.
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return QString::fromUtf8(data, qsizetype(len));
}

QString commonNameOf(const X509_NAME *name)
{
    const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0)
        return {};
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, s);
    if (len < 0)
        return {};
    const QString out = QString::fromUtf8(reinterpret_cast<const char *>(utf8), len);
    OPENSSL_free(utf8);
    return out;
}

QDateTime timeOf(const ASN1_TIME *t)
{
    std::tm tm {};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return {};
    return QDateTime(
        QDate(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), QTime(tm.tm_hour, tm.tm_min, tm.tm_sec), Qt::UTC);
}

QString ia5Text(const ASN1_IA5STRING *s)
{
    return QString::fromLatin1(reinterpret_cast<const char *>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
}

PeerCertificate fromX509(X509 *x)
{
    PeerCertificate c;
    c.subject = nameText(X509_get_subject_name(x));
    c.issuer = nameText(X509_get_issuer_name(x));
    c.commonName = commonNameOf(X509_get_subject_name(x));
    c.notBefore = timeOf(X509_get0_notBefore(x));
    c.notAfter = timeOf(X509_get0_notAfter(x));

    if (BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)) {
        if (char *hex = BN_bn2hex(bn)) {
            c.serialNumber = QString::fromLatin1(hex).toLower();
            OPENSSL_free(hex);
        }
        BN_free(bn);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdLen = 0;
    if (X509_digest(x, EVP_sha256(), md, &mdLen) == 1)
        c.sha256Fingerprint
            = QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(md), int(mdLen)).toHex(':'));

    auto *names = static_cast<GENERAL_NAMES *>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
    if (names) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
            const GENERAL_NAME *n = sk_GENERAL_NAME_value(names, i);
            switch (n->type) {
            case GEN_DNS: c.dnsNames << ia5Text(n->d.dNSName); break;
            case GEN_URI: c.uris << ia5Text(n->d.uniformResourceIdentifier); break;
            case GEN_IPADD: {
                const ASN1_OCTET_STRING *ip = n->d.iPAddress;
                const unsigned char *b = ASN1_STRING_get0_data(ip);
                QHostAddress addr;
                if (ASN1_STRING_length(ip) == 4)
                    addr.setAddress(quint32(b[0]) << 24 | quint32(b[1]) << 16 | quint32(b[2]) << 8 | quint32(b[3]));
                else if (ASN1_STRING_length(ip) == 16)
                    addr.setAddress(b);
                if (!addr.isNull())
                    c.ipAddresses << addr.toString();
                break;
            }
            default: break;
            }
        }
        GENERAL_NAMES_free(names);
    }
    return c;
}

}  // namespace

QString PeerCertificate::spiffeId() const
{
    for (const QString &u : uris) {
        if (u.startsWith(QLatin1String("spiffe://"), Qt::CaseInsensitive))
            return u;
    }
    return {};
}

qint64 PeerCertificate::daysLeft(const QDateTime &now) const
{
    if (isNull())
        return 0;
    const qint64 secs = now.secsTo(notAfter);
    // Floor, so that a certificate expired an hour ago has -1 days left, not 0.
    return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

bool PeerCertificate::expired(const QDateTime &now) const { return !isNull() && now > notAfter; }

bool PeerCertificate::notYetValid(const QDateTime &now) const { return notBefore.isValid() && now < notBefore; }

bool PeerCertificate::expiresSoon(const QDateTime &now) const
{
    return !isNull() && !expired(now) && now.secsTo(notAfter) < qint64(kExpiresSoonDays) * 86400;
}

QString PeerCertificate::sanText() const
{
    QStringList parts;
    for (const QString &d : dnsNames)
        parts << QStringLiteral("DNS:") + d;
    for (const QString &ip : ipAddresses)
        parts << QStringLiteral("IP:") + ip;
    for (const QString &u : uris)
        parts << QStringLiteral("URI:") + u;
    return parts.join(QLatin1String(", "));
}

QString PeerCertificate::summary(const QDateTime &now) const
{
    if (isNull())
        return QStringLiteral("no certificate");
    QString line = subject.isEmpty() ? QStringLiteral("(empty subject)") : subject;
    const QString spiffe = spiffeId();
    if (!spiffe.isEmpty())
        line += QStringLiteral(" (") + spiffe + QLatin1Char(')');
    else if (!dnsNames.isEmpty())
        line += QStringLiteral(" (DNS:") + dnsNames.first() + QLatin1Char(')');
    line += QStringLiteral(", issued by ") + issuer;
    const QString end = notAfter.toString(QStringLiteral("yyyy-MM-dd"));
    const qint64 days = daysLeft(now);
    if (expired(now))
        line += QStringLiteral(", EXPIRED on %1").arg(end);
    else if (notYetValid(now))
        line += QStringLiteral(", NOT VALID before %1").arg(notBefore.toString(QStringLiteral("yyyy-MM-dd")));
    else if (expiresSoon(now))
        line += QStringLiteral(", expires %1 (%2 %3 left, expires soon)")
                    .arg(end)
                    .arg(days)
                    .arg(days == 1 ? QStringLiteral("day") : QStringLiteral("days"));
    else
        line += QStringLiteral(", expires %1 (%2 days left)").arg(end).arg(days);
    return line;
}

PeerCertificate parsePeerCertificatePem(const QByteArray &pem, QString *error)
{
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x) {
        if (error)
            *error = pem.contains("-----BEGIN CERTIFICATE-----") ? QStringLiteral("the PEM certificate does not parse")
                                                                 : QStringLiteral("no PEM certificate found");
        return {};
    }
    return fromX509(x.get());
}

PeerCertificate fromQSslCertificate(const QSslCertificate &certificate)
{
    if (certificate.isNull())
        return {};
    const QByteArray der = certificate.toDer();
    const unsigned char *p = reinterpret_cast<const unsigned char *>(der.constData());
    X509Ptr x(d2i_X509(nullptr, &p, long(der.size())));
    return x ? fromX509(x.get()) : PeerCertificate {};
}

TlsPeerLog::TlsPeerLog(size_t capacity)
    : m_capacity(std::max<size_t>(1, capacity))
{
}

void TlsPeerLog::record(const std::string &address, const std::string &pem)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    {
        std::lock_guard lock(m_mutex);
        for (Entry &e : m_entries) {
            if (e.peer.address == address && e.pem == pem) {
                e.peer.lastSeen = now;
                e.peer.calls++;
                return;
            }
        }
    }
    // Parsed outside the lock: a new connection must not hold up the others.
    Entry entry;
    entry.pem = pem;
    entry.peer.address = address;
    entry.peer.certificate = parsePeerCertificatePem(QByteArray::fromStdString(pem));
    entry.peer.firstSeen = entry.peer.lastSeen = now;
    entry.peer.calls = 1;
    std::lock_guard lock(m_mutex);
    for (Entry &e : m_entries) {
        if (e.peer.address == address && e.pem == pem) {  // recorded meanwhile by another call
            e.peer.lastSeen = now;
            e.peer.calls++;
            return;
        }
    }
    // Same address with a new certificate (a rotated client that kept its
    // connection): the newer one replaces it.
    m_entries.erase(
        std::remove_if(m_entries.begin(), m_entries.end(), [&](const Entry &e) { return e.peer.address == address; }),
        m_entries.end());
    if (m_entries.size() >= m_capacity) {
        auto oldest = std::min_element(m_entries.begin(), m_entries.end(),
            [](const Entry &a, const Entry &b) { return a.peer.lastSeen < b.peer.lastSeen; });
        m_entries.erase(oldest);
    }
    m_entries.push_back(std::move(entry));
}

std::vector<TlsPeer> TlsPeerLog::peers() const
{
    std::vector<TlsPeer> out;
    {
        std::lock_guard lock(m_mutex);
        out.reserve(m_entries.size());
        for (const Entry &e : m_entries)
            out.push_back(e.peer);
    }
    std::stable_sort(
        out.begin(), out.end(), [](const TlsPeer &a, const TlsPeer &b) { return a.lastSeen > b.lastSeen; });
    return out;
}

void TlsPeerLog::clear()
{
    std::lock_guard lock(m_mutex);
    m_entries.clear();
}

}  // namespace meshscope

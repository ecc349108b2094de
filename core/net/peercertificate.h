#pragma once
// What meshscope shows about the certificate at the other end of a TLS connection:
// subject, issuer, SANs (DNS, IP and URI, so that SPIFFE identities such as
// spiffe://cluster.local/ns/default/sa/reviews are visible), validity and how soon it
// runs out. Parsed with OpenSSL because QSslCertificate has no URI SANs.
//
// TlsPeerLog keeps the certificates that recent peers of one receiver presented; gRPC
// threads record into it, any thread reads it.

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

class QSslCertificate;

namespace meshscope {

struct PeerCertificate {
    // A certificate within this many days of its end is flagged (the usual renewal
    // margin: cert-manager renews at 2/3 of the lifetime, ACME clients 30 days before).
    static constexpr int kExpiresSoonDays = 14;

    QString subject;  // RFC 2253 ("CN=reviews,O=bookinfo")
    QString issuer;
    QString commonName;  // of the subject; may be empty (SPIFFE SVIDs often have none)
    QStringList dnsNames;
    QStringList ipAddresses;
    QStringList uris;
    QDateTime notBefore;  // UTC
    QDateTime notAfter;  // UTC
    QString serialNumber;  // hex
    QString sha256Fingerprint;  // hex, colon-separated

    bool isNull() const { return !notAfter.isValid(); }
    // The first spiffe:// URI SAN (an SVID carries exactly one), or empty.
    QString spiffeId() const;
    // Whole days from now until notAfter; negative once expired.
    qint64 daysLeft(const QDateTime &now) const;
    bool expired(const QDateTime &now) const;
    bool notYetValid(const QDateTime &now) const;
    // Still valid but ends within kExpiresSoonDays.
    bool expiresSoon(const QDateTime &now) const;
    // "DNS:a, IP:127.0.0.1, URI:spiffe://..." ("" when there are none).
    QString sanText() const;
    // One line for status bars and tooltips:
    // "CN=reviews (spiffe://cluster.local/ns/default/sa/reviews), issued by CN=mesh CA,
    //  expires 2026-12-01 (9 days left, expires soon)".
    QString summary(const QDateTime &now) const;
};

// Parses the first PEM certificate in `pem`. A null PeerCertificate, and a one-line
// reason in *error, when there is none or it does not parse.
PeerCertificate parsePeerCertificatePem(const QByteArray &pem, QString *error = nullptr);
PeerCertificate fromQSslCertificate(const QSslCertificate &certificate);

// One peer of a TLS receiver and the certificate it presented last.
struct TlsPeer {
    std::string address;  // gRPC's peer string: "ipv4:127.0.0.1:50412"
    PeerCertificate certificate;
    QDateTime firstSeen;  // UTC
    QDateTime lastSeen;  // UTC
    uint64_t calls = 0;  // calls or streams seen with this certificate
};

// The most recent TLS peers of one receiver, bounded (the least recently seen peer
// is forgotten first). Thread-safe: gRPC threads record, any thread reads.
class TlsPeerLog {
public:
    explicit TlsPeerLog(size_t capacity = 64);

    // Records that `address` presented `pem` (the leaf certificate, PEM). Parsing
    // happens once per new certificate; a repeat only refreshes lastSeen.
    void record(const std::string &address, const std::string &pem);
    // Newest first.
    std::vector<TlsPeer> peers() const;
    void clear();

private:
    struct Entry {
        TlsPeer peer;
        std::string pem;
    };
    size_t m_capacity;
    mutable std::mutex m_mutex;
    std::vector<Entry> m_entries;
};

}  // namespace meshscope

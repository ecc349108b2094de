// Fuzz target for parsePeerCertificatePem: the certificate a TLS peer presented, or a
// PEM file someone pointed meshscope at, read with OpenSSL. Properties checked on every
// input:
// - parsing never crashes;
// - it either fails with a reason, or yields a certificate with a SHA-256 fingerprint
//   (32 bytes as colon-separated hex) and no reason;
// - parsing is a function of the bytes: the same input gives the same fields;
// - the text it yields is bounded by the input (no field longer than a few times it);
// - everything shown about a certificate works on whatever was parsed: SANs, the
//   SPIFFE id, validity and the one-line summary at several instants.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/peercertificate and mutations of it.

#include "fuzzproperty.h"

#include "net/peercertificate.h"

#include <QByteArray>
#include <QDateTime>

using namespace meshscope;

namespace {

constexpr const char *kFuzzTarget = "fuzz_peercertificate";

bool sameCertificate(const PeerCertificate &a, const PeerCertificate &b)
{
    return a.subject == b.subject && a.issuer == b.issuer && a.commonName == b.commonName && a.dnsNames == b.dnsNames
        && a.ipAddresses == b.ipAddresses && a.uris == b.uris && a.notBefore == b.notBefore && a.notAfter == b.notAfter
        && a.serialNumber == b.serialNumber && a.sha256Fingerprint == b.sha256Fingerprint;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    const QByteArray pem = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const PeerCertificate c = parsePeerCertificatePem(pem, &error);
    if (c.sha256Fingerprint.isEmpty()) {
        ASSERT_PROPERTY(!error.isEmpty() && c.isNull(), "a certificate that does not parse comes with a reason");
        return 0;
    }
    ASSERT_PROPERTY(error.isEmpty(), "a parsed certificate comes without a reason");
    ASSERT_PROPERTY(c.sha256Fingerprint.size() == 32 * 3 - 1 && c.sha256Fingerprint.count(QLatin1Char(':')) == 31,
        "the fingerprint is 32 bytes of colon-separated hex");

    QString again;
    ASSERT_PROPERTY(sameCertificate(parsePeerCertificatePem(pem, &again), c) && again.isEmpty(),
        "the same bytes parse to the same certificate");

    // DER inside base64 is 3/4 of the PEM; a name printed per RFC 2253 escapes each
    // byte in at most a few characters. Eight times the input is a generous bound
    // that an unbounded expansion still breaks.
    const qsizetype bound = 8 * qsizetype(size) + 64;
    qsizetype sans = 0;
    for (const QStringList *list : {&c.dnsNames, &c.ipAddresses, &c.uris}) {
        for (const QString &s : *list)
            sans += s.size();
    }
    ASSERT_PROPERTY(c.subject.size() <= bound && c.issuer.size() <= bound && c.commonName.size() <= bound
            && c.serialNumber.size() <= bound && sans <= bound,
        "the text of a certificate is bounded by its bytes");

    (void)c.spiffeId();
    (void)c.sanText();
    const QDateTime instants[]
        = {QDateTime(QDate(2020, 1, 20), QTime(12, 0), Qt::UTC), QDateTime(QDate(2026, 11, 22), QTime(0, 0), Qt::UTC),
            c.notBefore, c.notAfter, c.notAfter.isValid() ? c.notAfter.addDays(-14) : QDateTime()};
    for (const QDateTime &now : instants) {
        if (!now.isValid())
            continue;
        ASSERT_PROPERTY(!(c.expired(now) && c.expiresSoon(now)), "an expired certificate is not also expiring soon");
        ASSERT_PROPERTY(!c.summary(now).isEmpty(), "a certificate has a summary");
        (void)c.daysLeft(now);
        (void)c.notYetValid(now);
    }
    return 0;
}

#pragma once
// What meshscope says about remote peers and URLs, made safe to print or store:
// secrets in URLs are redacted, and text a peer sent (error bodies, NACK details,
// node ids) is stripped of terminal control sequences and bounded. Every error,
// log line, history entry and file header that quotes a URL or a peer goes through
// these functions.

#include <QString>
#include <QUrl>

#include <cstddef>
#include <string>
#include <string_view>

namespace meshscope {

// Query keys whose values are secrets wherever they appear (case-insensitive; a key
// that ends in one of them, like "x-api-key" or "refresh_token", counts too).
bool isSecretQueryKey(QStringView key);

// The URL with userinfo removed ("user:pass@" -> "***@") and the values of secret
// query keys replaced by "***". Everything else is kept as written.
QString redactUrl(const QUrl &url);
QString redactUrl(const QString &url);

// Text from a remote peer, fit for a terminal, a log, a file or a label: the first
// line only, control characters (ESC, BEL, CR, ...) and invalid UTF-8 escaped as
// \xNN, at most `maxChars` characters, then " ... (N bytes)" saying how much there was.
inline constexpr size_t kRemoteTextMax = 300;
std::string sanitizeRemoteText(std::string_view text, size_t maxChars = kRemoteTextMax);
QString sanitizeRemoteText(const QString &text, size_t maxChars = kRemoteTextMax);

}  // namespace meshscope

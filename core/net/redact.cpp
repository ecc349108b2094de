#include "net/redact.h"

#include "model/text.h"

#include <QUrlQuery>

#include <array>

namespace meshscope {

namespace {

constexpr std::array<std::string_view, 14> kSecretKeys = {"token", "access_token", "id_token", "api_key", "apikey",
    "api-key", "key", "password", "passwd", "secret", "sig", "signature", "auth", "credential"};

bool endsWithInsensitive(QStringView s, std::string_view suffix)
{
    if (size_t(s.size()) < suffix.size())
        return false;
    const QStringView tail = s.right(qsizetype(suffix.size()));
    return tail.compare(QLatin1String(suffix.data(), qsizetype(suffix.size())), Qt::CaseInsensitive) == 0;
}

}  // namespace

bool isSecretQueryKey(QStringView key)
{
    for (std::string_view secret : kSecretKeys) {
        if (!endsWithInsensitive(key, secret))
            continue;
        // The whole key, or a suffix after a separator ("x-api-key", "refresh_token"),
        // not any word that happens to end so ("monkey").
        const qsizetype before = key.size() - qsizetype(secret.size());
        if (before == 0 || key[before - 1] == QLatin1Char('_') || key[before - 1] == QLatin1Char('-')
            || key[before - 1] == QLatin1Char('.'))
            return true;
    }
    return false;
}

QString redactUrl(const QUrl &input)
{
    if (!input.isValid())
        return QStringLiteral("(invalid URL)");
    QUrl url = input;
    const bool hadUserInfo = !url.userInfo().isEmpty();
    url.setUserInfo(QString());
    if (url.hasQuery()) {
        QUrlQuery query(url);
        QList<QPair<QString, QString>> items = query.queryItems(QUrl::FullyEncoded);
        for (auto &[key, value] : items) {
            if (isSecretQueryKey(QUrl::fromPercentEncoding(key.toUtf8())))
                value = QStringLiteral("***");
        }
        query.setQueryItems(items);
        url.setQuery(query);
    }
    QString out = url.toString(QUrl::FullyEncoded);
    if (hadUserInfo) {
        const qsizetype scheme = out.indexOf(QLatin1String("://"));
        if (scheme >= 0)
            out.insert(scheme + 3, QStringLiteral("***@"));
    }
    return out;
}

QString redactUrl(const QString &url) { return redactUrl(QUrl(url)); }

std::string sanitizeRemoteText(std::string_view text, size_t maxChars)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string_view line = text;
    // Leading blank lines say nothing; the first line with text is the message.
    while (!line.empty() && (line.front() == '\n' || line.front() == '\r'))
        line.remove_prefix(1);
    if (const size_t nl = line.find_first_of("\r\n"); nl != std::string_view::npos)
        line = line.substr(0, nl);
    std::string out;
    out.reserve(std::min(line.size(), maxChars) + 24);
    size_t chars = 0;
    size_t i = 0;
    while (i < line.size() && chars < maxChars) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c < 0x20 || c == 0x7f) {
            out.append("\\x").push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
            ++i;
            ++chars;
            continue;
        }
        if (c < 0x80) {
            out.push_back(char(c));
            ++i;
            ++chars;
            continue;
        }
        // A whole UTF-8 sequence, or its first byte escaped when it is not valid.
        const size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        const std::string_view seq = line.substr(i, len);
        // C1 controls (U+0080..U+009F) act as escapes on some terminals.
        const bool c1 = len == 2 && seq.size() == 2 && c == 0xC2 && static_cast<unsigned char>(seq[1]) < 0xA0;
        if (len > 1 && seq.size() == len && isValidUtf8(seq) && !c1) {
            out.append(seq);
            i += len;
        } else {
            out.append("\\x").push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
            ++i;
        }
        ++chars;
    }
    const std::string_view rest = text.substr(size_t(line.data() - text.data()) + i);
    if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos)
        out.append(" ... (").append(std::to_string(text.size())).append(" bytes)");
    return out;
}

QString sanitizeRemoteText(const QString &text, size_t maxChars)
{
    return QString::fromStdString(sanitizeRemoteText(text.toStdString(), maxChars));
}

}  // namespace meshscope

#include "session/clipscrubber.h"

#include "net/redact.h"

#include <QJsonArray>
#include <QJsonObject>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace meshscope {

namespace {

constexpr size_t npos = std::string::npos;

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

bool iequals(std::string_view a, std::string_view b) { return a.size() == b.size() && lower(a) == lower(b); }

// Parts of names that mark a secret wherever they appear in the name.
constexpr std::array<std::string_view, 16> kSecretParts
    = {"authorization", "cookie", "password", "passwd", "secret", "credential", "api-key", "api_key", "apikey",
        "private-key", "private_key", "privatekey", "sessionid", "session-id", "session_id", "sessid"};

// Span attributes that carry one header or gRPC metadata entry each, named after it.
constexpr std::array<std::string_view, 6> kHeaderAttributePrefixes = {"http.request.header.", "http.response.header.",
    "rpc.grpc.request.metadata.", "rpc.grpc.response.metadata.", "rpc.request.metadata.", "rpc.response.metadata."};

constexpr std::array<std::string_view, 9> kUrlAttributes = {"http.url", "url.full", "http.target", "url.path",
    "http.route", "url.original", "url.template", "http.request.url", "http.uri"};
constexpr std::array<std::string_view, 3> kQueryAttributes = {"url.query", "http.query", "url.fragment"};

// Words that come before the credential in an Authorization value ("Bearer abc").
constexpr std::array<std::string_view, 11> kAuthSchemes = {
    "bearer", "basic", "digest", "token", "negotiate", "bot", "apikey", "aws4-hmac-sha256", "hoba", "mutual", "ntlm"};

bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

// Where a URL inside free text ends.
bool isTextDelimiter(char c)
{
    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '"':
    case '\'':
    case '<':
    case '>':
    case '`':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '|': return true;
    default: return false;
    }
}

bool isUrlAttribute(const std::string &key)
{
    if (std::find(kUrlAttributes.begin(), kUrlAttributes.end(), key) != kUrlAttributes.end())
        return true;
    for (std::string_view end : {".url", "_url", ".uri", "_uri"})
        if (key.ends_with(end))
            return true;
    return false;
}

bool replaceWithRedacted(std::string &value)
{
    if (value.empty() || value == kRedactedValue)
        return false;
    value = kRedactedValue;
    return true;
}

}  // namespace

ClipScrubber::ClipScrubber(std::vector<std::string> extraSecretNames)
{
    for (const std::string &name : extraSecretNames)
        if (!name.empty())
            m_extra.push_back(lower(name));
}

bool ClipScrubber::isSecretName(std::string_view name) const { return isSecretName(name, true); }

bool ClipScrubber::isSecretName(std::string_view name, bool bareKeyIsSecret) const
{
    if (name.empty())
        return false;
    const std::string n = lower(name);
    if (std::find(m_extra.begin(), m_extra.end(), n) != m_extra.end())
        return true;
    for (std::string_view part : kSecretParts)
        if (n.find(part) != npos)
            return true;
    // "token", "x-auth-token", "tokenId", but not a count of them ("gen_ai.usage.input_tokens").
    for (size_t at = n.find("token"); at != npos; at = n.find("token", at + 1))
        if (at + 5 >= n.size() || n[at + 5] != 's')
            return true;
    // Attributes like "cache.key" or "messaging.kafka.message.key" name a lookup key,
    // not an API key; as a query or header name, "key" is one.
    const size_t dot = n.rfind('.');
    if (!bareKeyIsSecret && std::string_view(n).substr(dot == npos ? 0 : dot + 1) == "key")
        return false;
    return isSecretQueryKey(QString::fromUtf8(name.data(), qsizetype(name.size())));
}

bool ClipScrubber::isSecretAttribute(std::string_view key) const
{
    const std::string k = lower(key);
    for (std::string_view prefix : kHeaderAttributePrefixes)
        if (k.starts_with(prefix))
            return isSecretName(key.substr(prefix.size()), true);
    return isSecretName(key, false);
}

size_t ClipScrubber::pairs(std::string &part, std::string_view separators) const
{
    size_t n = 0;
    std::string out;
    out.reserve(part.size());
    for (size_t i = 0; i <= part.size();) {
        size_t j = part.find_first_of(separators, i);
        if (j == npos)
            j = part.size();
        const std::string_view item = std::string_view(part).substr(i, j - i);
        const size_t eq = item.find('=');
        // A bare item ("?debug") is a key without a value: kept.
        if (eq != npos && eq + 1 < item.size() && item.substr(eq + 1) != kRedactedValue) {
            out.append(item.substr(0, eq + 1)).append(kRedactedValue);
            ++n;
        } else {
            out.append(item);
        }
        if (j < part.size())
            out.push_back(part[j]);
        i = j + 1;
    }
    if (n)
        part = std::move(out);
    return n;
}

size_t ClipScrubber::authority(std::string &s) const
{
    const size_t at = s.rfind('@');
    if (at == npos || at == 0 || s.compare(0, at, kRedactedValue) == 0)
        return 0;
    s.replace(0, at, kRedactedValue);
    return 1;
}

size_t ClipScrubber::query(std::string &s) const { return pairs(s, "&;"); }

size_t ClipScrubber::url(std::string &s) const
{
    size_t n = 0;
    size_t pathStart = 0;
    size_t authStart = npos;
    if (const size_t scheme = s.find("://"); scheme != npos)
        authStart = scheme + 3;
    else if (s.starts_with("//"))
        authStart = 2;
    if (authStart != npos) {
        size_t authEnd = s.find_first_of("/?#", authStart);
        if (authEnd == npos)
            authEnd = s.size();
        std::string auth = s.substr(authStart, authEnd - authStart);
        if (const size_t k = authority(auth)) {
            s.replace(authStart, authEnd - authStart, auth);
            authEnd = authStart + auth.size();
            n += k;
        }
        pathStart = authEnd;
    }
    const size_t hash = s.find('#', pathStart);
    size_t q = s.find('?', pathStart);
    if (q > hash)
        q = npos;  // a '?' in the fragment is part of it
    const size_t pathEnd = std::min({q, hash, s.size()});
    std::string path = s.substr(pathStart, pathEnd - pathStart);
    std::string queryPart = q == npos ? std::string() : s.substr(q + 1, std::min(hash, s.size()) - q - 1);
    std::string fragment = hash == npos ? std::string() : s.substr(hash + 1);

    // Path parameters (";jsessionid=..."): every segment's parameters, never its name.
    size_t k = 0;
    std::string newPath;
    for (size_t i = 0; i <= path.size();) {
        size_t j = path.find('/', i);
        if (j == npos)
            j = path.size();
        std::string segment = path.substr(i, j - i);
        if (const size_t semi = segment.find(';'); semi != npos) {
            std::string params = segment.substr(semi + 1);
            if (const size_t m = pairs(params, ";")) {
                segment = segment.substr(0, semi + 1) + params;
                k += m;
            }
        }
        newPath += segment;
        if (j < path.size())
            newPath.push_back('/');
        i = j + 1;
    }
    k += pairs(queryPart, "&;");
    // OAuth's implicit flow hands tokens over in the fragment ("#access_token=...").
    k += pairs(fragment, "&;");
    if (k == 0)
        return n;
    std::string out = s.substr(0, pathStart) + newPath;
    if (q != npos)
        out.append("?").append(queryPart);
    if (hash != npos)
        out.append("#").append(fragment);
    s = std::move(out);
    return n + k;
}

size_t ClipScrubber::text(std::string &s) const
{
    if (s.find_first_of("?:=@#;/") == npos)
        return 0;
    size_t n = 0;
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (isTextDelimiter(s[i])) {
            out.push_back(s[i++]);
            continue;
        }
        size_t j = i;
        while (j < s.size() && !isTextDelimiter(s[j]))
            ++j;
        std::string token = s.substr(i, j - i);
        const size_t q = token.find('?');
        const bool urlLike = token.find("://") != npos || token.starts_with('/') || (q != npos && token.find('/') < q);
        if (urlLike)
            n += url(token);
        out += token;
        i = j;
    }
    if (n)
        s = std::move(out);
    return n + secretPairs(s);
}

size_t ClipScrubber::secretPairs(std::string &s) const
{
    size_t n = 0;
    std::string out;
    size_t copied = 0;  // s[0, copied) is in `out`
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c != '=' && c != ':')
            continue;
        // The name before it, maybe quoted as in JSON.
        size_t end = i;
        const bool quoted = end > 0 && (s[end - 1] == '"' || s[end - 1] == '\'');
        if (quoted)
            --end;
        size_t begin = end;
        while (begin > 0 && isNameChar(s[begin - 1]))
            --begin;
        if (begin == end)
            continue;
        if (quoted && (begin == 0 || s[begin - 1] != s[end]))
            continue;
        // "name: value" needs the space: "http://", "12:00:03" and "host:443" are no pairs.
        const bool headerLine = c == ':' && !quoted;
        if (headerLine && (i + 1 >= s.size() || s[i + 1] != ' '))
            continue;
        const std::string_view name = std::string_view(s).substr(begin, end - begin);
        if (!isSecretName(name, false))
            continue;

        size_t v = i + 1;
        while (v < s.size() && (s[v] == ' ' || s[v] == '\t'))
            ++v;
        size_t vEnd = npos;
        if (v < s.size() && (s[v] == '"' || s[v] == '\'')) {
            const size_t close = s.find(s[v], v + 1);
            ++v;
            vEnd = close == npos ? s.size() : close;
        } else if (headerLine && (name.find('-') != npos || lower(name).find("authorization") != npos)) {
            // A header as a line of text ("Cookie: a=1; b=2"): its value runs to the line's end.
            vEnd = s.find_first_of("\r\n", v);
        } else {
            vEnd = s.find_first_of(" \t\r\n;&,\"'<>)]}", v);
            if (vEnd == npos)
                vEnd = s.size();
            // "authorization=Bearer abc": the credential is the word after the scheme.
            const std::string_view word = std::string_view(s).substr(v, vEnd - v);
            const bool scheme
                = std::any_of(kAuthSchemes.begin(), kAuthSchemes.end(), [&](auto w) { return iequals(w, word); });
            if (scheme && vEnd + 1 < s.size() && s[vEnd] == ' ') {
                vEnd = s.find_first_of(" \t\r\n;&,\"'<>)]}", vEnd + 1);
            }
        }
        if (vEnd == npos)
            vEnd = s.size();
        if (vEnd <= v || s.compare(v, vEnd - v, kRedactedValue) == 0)
            continue;
        out.append(s, copied, v - copied).append(kRedactedValue);
        copied = vEnd;
        ++n;
        i = vEnd - 1;
    }
    if (!n)
        return 0;
    out.append(s, copied);
    s = std::move(out);
    return n;
}

ClipScrubber::AttributeKind ClipScrubber::attributeKind(const std::string &key) const
{
    if (const auto it = m_attributeKinds.find(key); it != m_attributeKinds.end())
        return it->second;
    AttributeKind kind = AttributeKind::Text;
    const std::string k = lower(key);
    if (isSecretAttribute(key))
        kind = AttributeKind::Secret;
    else if (std::find(kQueryAttributes.begin(), kQueryAttributes.end(), k) != kQueryAttributes.end())
        kind = AttributeKind::Query;
    else if (isUrlAttribute(k))
        kind = AttributeKind::Url;
    // Spans repeat a few dozen keys; a source minting keys without end gets no cache.
    if (m_attributeKinds.size() < kMaxCachedAttributeKeys)
        m_attributeKinds.emplace(key, kind);
    return kind;
}

size_t ClipScrubber::span(Span &s) const
{
    size_t n = text(s.name) + url(s.path) + authority(s.authority) + authority(s.peer) + text(s.statusMessage);
    for (SpanAttribute &a : s.attributes) {
        switch (attributeKind(a.key)) {
        case AttributeKind::Secret: n += replaceWithRedacted(a.value); break;
        case AttributeKind::Query: n += query(a.value); break;
        case AttributeKind::Url: n += url(a.value); break;
        case AttributeKind::Text: n += text(a.value); break;
        }
    }
    return n;
}

size_t ClipScrubber::request(RequestEvent &r) const { return url(r.path) + authority(r.authority); }

namespace {

// Replaces, in place, the value of every {name: SECRET, value: ...} map under `node`.
size_t scrubYaml(YAML::Node node, const ClipScrubber &scrubber)
{
    size_t n = 0;
    if (node.IsMap()) {
        YAML::Node name, value;
        for (auto it = node.begin(); it != node.end(); ++it) {
            if (!it->first.IsScalar())
                continue;
            if (it->first.Scalar() == "name")
                name = it->second;
            else if (it->first.Scalar() == "value")
                value = it->second;
        }
        if (name && value && name.IsScalar() && scrubber.isSecretName(name.Scalar())
            && !(value.IsScalar() && value.Scalar() == kRedactedValue)) {
            value = std::string(kRedactedValue);
            ++n;
        }
        for (auto it = node.begin(); it != node.end(); ++it)
            n += scrubYaml(it->second, scrubber);
    } else if (node.IsSequence()) {
        for (auto it = node.begin(); it != node.end(); ++it)
            n += scrubYaml(*it, scrubber);
    }
    return n;
}

}  // namespace

size_t ClipScrubber::routesYaml(std::string &yaml) const
{
    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(yaml);
    } catch (const YAML::Exception &) {
        if (yaml.empty())
            return 0;
        yaml = "# The routes applied here were left out of this clip: they could not be read\n"
               "# to remove secret header values.\n";
        return 1;
    }
    size_t n = 0;
    for (YAML::Node &doc : docs)
        n += scrubYaml(doc, *this);
    if (n == 0)
        return 0;  // the text as it was applied, comments and layout included
    std::string out;
    for (size_t i = 0; i < docs.size(); ++i) {
        YAML::Emitter e;
        e << docs[i];
        if (i > 0)
            out += "---\n";
        out += e.c_str();
        out += '\n';
    }
    yaml = std::move(out);
    return n;
}

size_t ClipScrubber::json(QJsonValue &value) const
{
    size_t n = 0;
    if (value.isObject()) {
        QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            QJsonValue child = it.value();
            if (isSecretName(it.key().toStdString()) && !child.isNull()) {
                const QString redacted = QString::fromUtf8(kRedactedValue.data(), qsizetype(kRedactedValue.size()));
                if (child != QJsonValue(redacted)) {
                    it.value() = redacted;
                    ++n;
                }
            } else if (const size_t k = json(child)) {
                it.value() = child;
                n += k;
            }
        }
        if (n)
            value = object;
    } else if (value.isArray()) {
        QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            QJsonValue child = array.at(i);
            if (const size_t k = json(child)) {
                array.replace(i, child);
                n += k;
            }
        }
        if (n)
            value = array;
    } else if (value.isString()) {
        std::string s = value.toString().toStdString();
        if ((n = text(s)))
            value = QString::fromStdString(s);
    }
    return n;
}

}  // namespace meshscope

#pragma once
// What a clip of a recording (clipexport.h) leaves out so it can be handed to someone
// else: the values of query strings, user names and passwords in URLs, and the values
// of headers, attributes and settings whose names look secret (Authorization, Cookie,
// x-api-key, *token*, *secret*, *password*...). Each becomes "***"; the names, and
// everything that says what happened (services, paths, statuses, timings), are kept.
//
// Values are scrubbed where they sit: a URL attribute as one URL, a status message or
// an error as text with URLs and "password=..." pairs in it. A secret written anywhere
// else (inside a path segment, in a SQL statement) is not recognised.

#include "model/observation.h"
#include "model/span.h"

#include <QJsonValue>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace meshscope {

inline constexpr std::string_view kRedactedValue = "***";

// One export's scrubber: not for several threads at once (span() keeps a cache of
// the attribute keys it has judged).
class ClipScrubber {
public:
    // `extraSecretNames`: more header, query or attribute names whose values are secret
    // (an organisation's own "x-internal-sig"), matched whole, case-insensitively.
    explicit ClipScrubber(std::vector<std::string> extraSecretNames = {});

    // A header, query or YAML name whose value is a secret.
    bool isSecretName(std::string_view name) const;
    // A span attribute whose value is a secret: a header or gRPC metadata attribute of
    // a secret header (http.request.header.authorization), or a secret-looking name.
    bool isSecretAttribute(std::string_view key) const;

    // Each scrubs `s` in place and returns how many values it replaced.
    // A URL or request target ("/a;jsessionid=1?q=1#t=2"): userinfo, every query and
    // fragment value, path parameters.
    size_t url(std::string &s) const;
    // A query string on its own ("a=1&b=2", url.query).
    size_t query(std::string &s) const;
    // "user:pass@host:443" -> "***@host:443".
    size_t authority(std::string &s) const;
    // Free text (a status message, an error, a span name): the URLs in it, and values
    // written after a secret name ("password=...", "Authorization: Bearer ...",
    // "\"token\": \"...\"").
    size_t text(std::string &s) const;

    size_t span(Span &s) const;
    size_t request(RequestEvent &r) const;
    // Route YAML stays as it was, except the values of name/value pairs with a secret
    // name: header and query matches, header modifiers. YAML that cannot be read is
    // replaced by a comment saying so, since nothing in it could be checked.
    size_t routesYaml(std::string &yaml) const;
    // A JSON value (a recording's header): secret-named members become "***", strings
    // are scrubbed as text.
    size_t json(QJsonValue &value) const;

private:
    enum class AttributeKind : uint8_t { Secret, Query, Url, Text };
    static constexpr size_t kMaxCachedAttributeKeys = 4096;
    AttributeKind attributeKind(const std::string &key) const;
    bool isSecretName(std::string_view name, bool bareKeyIsSecret) const;
    size_t pairs(std::string &part, std::string_view separators) const;
    size_t secretPairs(std::string &s) const;

    std::vector<std::string> m_extra;  // lowercase
    mutable std::unordered_map<std::string, AttributeKind> m_attributeKinds;  // what span() found for each key
};

}  // namespace meshscope

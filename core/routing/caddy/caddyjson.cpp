#include "routing/caddy/caddyjson.h"

#include "routing/yaml/gatewayduration.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace meshscope::routing {

namespace caddyjson {

QString qs(const std::string &s) { return QString::fromStdString(s); }

std::string ss(const QString &s) { return s.toStdString(); }

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

bool isIpv6(const std::string &s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string goDuration(int64_t ms)
{
    // Go's time.ParseDuration reads "1m30s500ms" as written by formatDuration.
    return formatDuration(ms);
}

}  // namespace caddyjson

namespace {

// True when `s` is "(?:...)" with the first parenthesis closing at the very end.
bool isOneGroup(const std::string &s)
{
    if (s.size() < 4 || s.compare(0, 3, "(?:") != 0 || s.back() != ')')
        return false;
    int depth = 0;
    bool inClass = false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') {
            ++i;
            continue;
        }
        if (inClass) {
            inClass = c != ']';
            continue;
        }
        if (c == '[')
            inClass = true;
        else if (c == '(')
            ++depth;
        else if (c == ')' && --depth == 0)
            return i == s.size() - 1;
    }
    return false;
}

// Whether the final character of `s` is escaped by an odd run of backslashes.
bool endsEscaped(const std::string &s)
{
    size_t n = 0;
    for (size_t i = s.size() - 1; i > 0 && s[i - 1] == '\\'; --i)
        ++n;
    return n % 2 == 1;
}

}  // namespace

namespace {
// The longest duration Go can hold (math.MaxInt64 ns), in ms.
constexpr double kMaxGoDurationMs = 9223372036854.775807;
}  // namespace

std::optional<int64_t> parseCaddyDuration(const QJsonValue &value)
{
    if (value.isDouble()) {
        // Caddy reads a bare number as nanoseconds.
        const double ns = value.toDouble();
        if (!(ns >= 0) || ns > kMaxGoDurationMs * 1e6 || std::fmod(ns, 1e6) != 0)
            return std::nullopt;
        return int64_t(ns / 1e6);
    }
    if (!value.isString())
        return std::nullopt;
    const std::string text = caddyjson::ss(value.toString());
    if (text.empty())
        return std::nullopt;
    static const std::pair<const char *, double> units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
        {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
    double total = 0;
    size_t i = 0;
    if (text == "0")
        return 0;
    while (i < text.size()) {
        const size_t start = i;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            ++i;
        const std::string number = text.substr(start, i - start);
        if (number.find_first_of("0123456789") == std::string::npos)
            return std::nullopt;
        const double n = std::strtod(number.c_str(), nullptr);
        bool matched = false;
        for (const auto &[unit, factor] : units) {
            const size_t len = std::char_traits<char>::length(unit);
            // "m" must not take the "m" of "ms".
            if (text.compare(i, len, unit) == 0
                && !(len == 1 && unit[0] == 'm' && i + 1 < text.size() && text[i + 1] == 's')) {
                total += n * factor;
                i += len;
                matched = true;
                break;
            }
        }
        if (!matched)
            return std::nullopt;
    }
    // Go's durations are int64 nanoseconds: past about 292 years Caddy refuses them,
    // and so does meshscope, rather than wrap to a negative number.
    if (!std::isfinite(total) || total > kMaxGoDurationMs)
        return std::nullopt;
    const double rounded = std::round(total);
    if (std::fabs(total - rounded) > 1e-6)
        return std::nullopt;
    return int64_t(rounded);
}

std::string caddyRegexToFullMatch(const std::string &pattern)
{
    if (pattern.size() >= 2 && pattern.front() == '^' && pattern.back() == '$' && !endsEscaped(pattern)) {
        const std::string inner = pattern.substr(1, pattern.size() - 2);
        if (isOneGroup(inner))
            return inner.substr(3, inner.size() - 4);
        if (inner.find('|') == std::string::npos)
            return inner;
    }
    return ".*(?:" + pattern + ").*";
}

std::string fullMatchToCaddyRegex(const std::string &pattern) { return "^(?:" + pattern + ")$"; }

}  // namespace meshscope::routing

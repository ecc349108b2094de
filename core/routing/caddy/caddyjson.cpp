#include "routing/caddy/caddyjson.h"

#include "routing/yaml/gatewayduration.h"

#include <re2/re2.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

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

// Whether RE2 (with meshscope's options, as the validator compiles) takes the pattern.
bool compiles(const std::string &pattern)
{
    RE2::Options options;
    options.set_log_errors(false);
    return RE2(pattern, options).ok();
}

// What RE2's parser (Perl-like syntax) reads as structure in a pattern, skipping what
// it reads as literal text: escapes ("\)"), character classes, where ']' first
// ("[])]", "[^]]") and "[:alpha:]" do not close them, and \Q...\E. Only meaningful for
// a pattern that compiles.
struct RegexToken {
    size_t pos;
    char kind;  // '(' a group opens, ')' one closes, '|', '^', '$', 'f' flags "(?i)", 'm' flags with m
};

struct RegexShape {
    std::vector<RegexToken> tokens;
    bool endsQuoted = false;  // a \Q runs to the end: the pattern cannot be wrapped
};

// The index just past the escape at p[i] == '\\', as RE2 reads it: "\x{5D}", "\x5D",
// "\123" (octal), "\p{Greek}", "\pL", else the backslash and one character.
size_t escapeEnd(const std::string &p, size_t i)
{
    const size_t n = p.size();
    if (i + 1 >= n)
        return n;
    const char c = p[i + 1];
    size_t j = i + 2;
    auto braced = [&]() { return j < n && p[j] == '{' ? std::min(p.find('}', j), n - 1) + 1 : j; };
    if (c >= '0' && c <= '7') {
        for (int k = 0; k < 2 && j < n && p[j] >= '0' && p[j] <= '7'; ++k)
            ++j;
        return j;
    }
    if (c == 'x')
        return j < n && p[j] == '{' ? braced() : std::min(j + 2, n);
    if (c == 'p' || c == 'P')
        return j < n && p[j] == '{' ? braced() : std::min(j + 1, n);
    return j;
}

// The index just past one character of a class, or a range of two ("a-z", "+-[",
// where the '[' is the range's end, not a class name).
size_t classItemEnd(const std::string &p, size_t i)
{
    auto character = [&](size_t k) { return p[k] == '\\' ? escapeEnd(p, k) : k + 1; };
    i = character(i);
    if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']')
        i = character(i + 1);
    return i;
}

// The index just past the class that opens at p[i] == '[' (RE2's ParseCharClass).
size_t classEnd(const std::string &p, size_t i)
{
    const size_t n = p.size();
    ++i;
    if (i < n && p[i] == '^')
        ++i;
    bool first = true;  // ']' first is a literal
    while (i < n && (p[i] != ']' || first)) {
        first = false;
        if (p[i] == '[' && n - i > 2 && p[i + 1] == ':') {
            // "[:alpha:]" when a ":]" follows anywhere; else '[' is a literal.
            const size_t close = p.find(":]", i + 2);
            if (close != std::string::npos) {
                i = close + 2;
                continue;
            }
        }
        if (p[i] == '\\' && n - i > 2 && (p[i + 1] == 'p' || p[i + 1] == 'P')) {
            i = escapeEnd(p, i);  // "\p{Greek}": a class of its own, never a range's end
            continue;
        }
        if (p[i] == '\\' && n - i >= 2 && std::string_view("dDsSwW").find(p[i + 1]) != std::string_view::npos) {
            i += 2;  // "\d": likewise
            continue;
        }
        i = classItemEnd(p, i);
    }
    return std::min(i + 1, n);
}

RegexShape regexShape(const std::string &p)
{
    RegexShape shape;
    size_t i = 0;
    while (i < p.size()) {
        const char c = p[i];
        if (c == '\\') {
            if (p.compare(i, 2, "\\Q") == 0) {
                const size_t end = p.find("\\E", i + 2);
                shape.endsQuoted = end == std::string::npos;
                i = shape.endsQuoted ? p.size() : end + 2;
            } else {
                i = escapeEnd(p, i);
            }
        } else if (c == '[') {
            i = classEnd(p, i);
        } else if (c == '(' && p.compare(i, 3, "(?P") == 0) {
            shape.tokens.push_back({i, '('});  // "(?P<name>"
            const size_t close = p.find('>', i);
            i = close == std::string::npos ? p.size() : close + 1;
        } else if (c == '(' && p.compare(i, 2, "(?") == 0) {
            // "(?flags:" opens a group, "(?flags)" only sets flags for the rest of the group.
            const size_t end = std::min(p.find_first_of(":)", i + 2), p.size());
            const bool group = end < p.size() && p[end] == ':';
            const bool m = p.find('m', i + 2) < end;
            shape.tokens.push_back({i, group ? '(' : m ? 'm' : 'f'});
            i = end + 1;
        } else {
            if (c == '(' || c == ')' || c == '|' || c == '^' || c == '$')
                shape.tokens.push_back({i, c});
            ++i;
        }
    }
    return shape;
}

// The token index of the ')' that closes the group opening at tokens[open], or npos.
size_t closingToken(const std::vector<RegexToken> &tokens, size_t open)
{
    int depth = 0;
    for (size_t k = open; k < tokens.size(); ++k) {
        if (tokens[k].kind == '(')
            ++depth;
        else if (tokens[k].kind == ')' && --depth == 0)
            return k;
    }
    return std::string::npos;
}

// Whether any of the tokens between first and last (exclusive), outside groups, is
// `kind`s: a '|' or flags that change what the final '$' means.
bool atTopLevel(const std::vector<RegexToken> &tokens, size_t first, size_t last, const char *kinds)
{
    int depth = 0;
    for (size_t k = first + 1; k < last; ++k) {
        const char kind = tokens[k].kind;
        if (kind == '(')
            ++depth;
        else if (kind == ')')
            --depth;
        else if (depth == 0 && std::strchr(kinds, kind))
            return true;
    }
    return false;
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
    // What fullMatchToCaddyRegex writes as it is comes back as it is: a pattern RE2
    // refuses (the validator refuses it, and so does Caddy), or one whose \Q runs to
    // its end, which would take the anchors in as literal text.
    if (!compiles(pattern))
        return pattern;
    const RegexShape shape = regexShape(pattern);
    if (shape.endsQuoted)
        return pattern;
    const std::vector<RegexToken> &t = shape.tokens;
    const size_t last = pattern.size() - 1;
    if (t.size() >= 2 && t.front().kind == '^' && t.front().pos == 0 && t.back().kind == '$' && t.back().pos == last) {
        // "^(?:x)$", the group closing just before the '$': x.
        if (pattern.compare(1, 3, "(?:") == 0 && t[1].pos == 1) {
            const size_t close = closingToken(t, 1);
            if (close != std::string::npos && t[close].pos == last - 1) {
                std::string inner = pattern.substr(4, pattern.size() - 6);
                if (compiles(inner))
                    return inner;
            }
        }
        // "^x$" means x matched whole unless x has a '|' of its own or sets m (where
        // '$' would end any line), or x alone does not compile ("^*$").
        if (!atTopLevel(t, 0, t.size() - 1, "|m")) {
            std::string inner = pattern.substr(1, pattern.size() - 2);
            if (compiles(inner))
                return inner;
        }
    }
    return ".*(?:" + pattern + ").*";
}

std::string fullMatchToCaddyRegex(const std::string &pattern)
{
    const std::string anchored = "^(?:" + pattern + ")$";
    // A pattern RE2 refuses stays as written, so that Caddy refuses it too rather than
    // a wrapper hiding it, and so that the pull gives it back unchanged.
    if (!compiles(pattern) || !compiles(anchored))
        return pattern;
    return anchored;
}

}  // namespace meshscope::routing

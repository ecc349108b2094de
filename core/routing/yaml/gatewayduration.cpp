#include "routing/yaml/gatewayduration.h"

#include <set>

namespace meshscope::routing {

namespace {

// GEP-2257's form, whatever the total.
std::optional<int64_t> parseGepDuration(const std::string &text)
{
    // GEP-2257: ^([0-9]{1,5}(h|m|s|ms)){1,4}$, each unit at most once.
    if (text.empty())
        return std::nullopt;
    int64_t total = 0;
    size_t i = 0;
    int parts = 0;
    std::set<std::string> seen;
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size() && text[j] >= '0' && text[j] <= '9')
            ++j;
        if (j == i || j - i > 5)
            return std::nullopt;
        const int64_t n = std::stoll(text.substr(i, j - i));
        std::string unit;
        if (text.compare(j, 2, "ms") == 0)
            unit = "ms";
        else if (j < text.size() && (text[j] == 'h' || text[j] == 'm' || text[j] == 's'))
            unit = std::string(1, text[j]);
        else
            return std::nullopt;
        if (!seen.insert(unit).second || ++parts > 4)
            return std::nullopt;
        const int64_t scale = unit == "h" ? 3600000 : unit == "m" ? 60000 : unit == "s" ? 1000 : 1;
        total += n * scale;
        i = j + unit.size();
    }
    return total;
}

}  // namespace

std::optional<int64_t> parseDuration(const std::string &text)
{
    const std::optional<int64_t> ms = parseGepDuration(text);
    return ms && *ms <= kMaxDurationMs ? ms : std::nullopt;
}

bool durationTooLong(const std::string &text)
{
    const std::optional<int64_t> ms = parseGepDuration(text);
    return ms && *ms > kMaxDurationMs;
}

std::string formatDuration(int64_t ms)
{
    if (ms <= 0)
        return "0s";
    std::string out;
    const int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
    if (h)
        out += std::to_string(h) + 'h';
    if (m)
        out += std::to_string(m) + 'm';
    if (s)
        out += std::to_string(s) + 's';
    if (rest)
        out += std::to_string(rest) + "ms";
    return out;
}

}  // namespace meshscope::routing

#pragma once
// Gateway API Duration (GEP-2257: "10s", "500ms", "1h30m") <-> milliseconds: the
// spelling route files use for timeouts, backoff and fault delays. The reader and the
// writer of route YAML share it, and so do the diff, the Caddy translator and the
// route editor, which show durations the way the file spells them.

#include <cstdint>
#include <optional>
#include <string>

namespace meshscope::routing {

// The longest duration a route file holds: "99999h59m59s999ms", the most formatDuration
// writes within GEP-2257's five digits per unit.
inline constexpr int64_t kMaxDurationMs = ((99999LL * 60 + 59) * 60 + 59) * 1000 + 999;

// parseDuration returns nullopt for anything else (no decimals, no bare numbers), and
// for a total past kMaxDurationMs ("99999h59m600s": five digits per unit, but
// formatDuration would write 100000h), so that every duration it accepts round-trips.
std::optional<int64_t> parseDuration(const std::string &text);
// Whether `text` is refused only for its total: GEP-2257's form, longer than kMaxDurationMs.
bool durationTooLong(const std::string &text);
std::string formatDuration(int64_t ms);  // largest units first: 90500 -> "1m30s500ms", 0 -> "0s"

}  // namespace meshscope::routing

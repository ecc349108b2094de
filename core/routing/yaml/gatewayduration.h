#pragma once
// Gateway API Duration (GEP-2257: "10s", "500ms", "1h30m") <-> milliseconds: the
// spelling route files use for timeouts, backoff and fault delays. The reader and the
// writer of route YAML share it, and so do the diff, the Caddy translator and the
// route editor, which show durations the way the file spells them.

#include <cstdint>
#include <optional>
#include <string>

namespace meshscope::routing {

// parseDuration returns nullopt for anything else (no decimals, no bare numbers).
std::optional<int64_t> parseDuration(const std::string &text);
std::string formatDuration(int64_t ms);  // largest units first: 90500 -> "1m30s500ms", 0 -> "0s"

}  // namespace meshscope::routing

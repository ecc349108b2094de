#pragma once
// RouteHistory: the append-only record of every route change meshscope applied,
// kept as JSON lines in <directory>/route-history.jsonl so the GUI, the CLI and a
// later run all see the same history. Each line holds id, time, target, the unified
// diff, a structural summary, and the whole normalized YAML before and after, so any
// change can be rolled back even when the target has since changed again.
// Appends from several processes are serialized with a lock file.

#include "routing/routemodel.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshscope::routing {

struct HistoryEntry {
    int64_t id = 0;  // 1, 2, 3, ... in the order changes were applied
    int64_t timeMs = 0;  // Unix time in milliseconds (the file also has RFC 3339 "time")
    std::string target;  // where it was applied, e.g. "xds 127.0.0.1:18000", "file:/abs/routes.yaml"
    std::string diff;  // unifiedDiff(before, after)
    std::vector<std::string> summary;  // summarizeChanges(before, after)
    std::string beforeYaml;  // toYaml(before)
    std::string afterYaml;  // toYaml(after)
    std::optional<int64_t> rollbackOf;  // set when this change undid change N
};

// Where the dashboard and meshscope-cli keep their shared history unless told
// otherwise: <XDG data>/meshscope/history, so a change applied from one can be rolled
// back from the other.
std::string defaultRouteHistoryDirectory();

class RouteHistory {
public:
    // The directory is created on the first record() if it does not exist.
    explicit RouteHistory(std::string directory);

    const std::string &directory() const { return m_directory; }
    std::string filePath() const;

    // Appends one change and returns it with its id and time; nullopt (and error())
    // when the file cannot be written. `timeMs` 0 means now.
    std::optional<HistoryEntry> record(const std::string &target, const RouteSet &before, const RouteSet &after,
        std::optional<int64_t> rollbackOf = std::nullopt, int64_t timeMs = 0);

    // Every entry, oldest first, read from disk each call (another process may have
    // appended). Lines that do not parse (a write cut short) are skipped and counted.
    std::vector<HistoryEntry> list() const;
    std::optional<HistoryEntry> entry(int64_t id) const;
    int skippedLines() const { return m_skipped; }

    // The route set to apply to get back to the state just before change `id` (its
    // "before"). nullopt (and error()) for an unknown id or a record that no longer loads.
    std::optional<RouteSet> rollback(int64_t id) const;

    const std::string &error() const { return m_error; }

private:
    std::string m_directory;
    mutable std::string m_error;
    mutable int m_skipped = 0;
};

// The one grammar of the target a history entry was applied to, so that the dashboard
// and meshscope-cli read each other's entries (and roll them back):
//   "caddy <admin URL> <server>"  (the URL without credentials or secret query values)
//   "xds <listen address>"
struct CaddyTargetKey {
    std::string adminUrl;
    std::string server;
};
std::string caddyTargetKey(const std::string &adminUrl, const std::string &server);
std::optional<CaddyTargetKey> parseCaddyTargetKey(const std::string &target);
bool isCaddyTargetKey(const std::string &target);
std::string xdsTargetKey(const std::string &listenAddress);

}  // namespace meshscope::routing

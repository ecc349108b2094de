#pragma once
// What the graph says right after routes are applied: the services the change touches
// get a note ("routes v7 applied 3 s ago") for the first minute, and the shares on a
// split's edges are counted from the requests that started after the apply, so they
// follow the new weights as soon as traffic carries them instead of after a whole
// window of the old ones. Also the place a rollout's progress shows on its canary.

#include "canvas/edgenote.h"
#include "graph/graphaggregator.h"
#include "graph/graphsnapshot.h"

#include <QHash>
#include <QString>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace meshscope {

class AppliedRoutes {
public:
    // How long after an apply its note stays on the services.
    static constexpr int64_t kNoteMs = 60'000;

    // Routes `yaml` replaced `previousYaml` (either may be empty) as version `version` at `ms`.
    void applied(uint64_t version, const QString &yaml, const QString &previousYaml, int64_t ms);
    // The latest apply's time while its note shows, else nullopt.
    std::optional<int64_t> recentApplyMs(int64_t nowMs) const;
    const std::set<std::string> &services() const { return m_services; }  // "namespace/name"

    // A rollout's line on its canary, shown instead of the apply's (empty: none).
    void setRolloutNote(const std::string &service, const NodeNote &note);

    // What-if while a change is reviewed: requests per backend (by name) before and
    // after; empty removes them.
    void setProjected(std::map<std::string, std::pair<double, double>> byBackend)
    {
        m_projected = std::move(byBackend);
    }

    // The notes for the nodes of `shown`, by node id: a rollout's first, then what-if's,
    // then the latest apply's.
    QHash<QString, NodeNote> nodeNotes(const GraphSnapshot &shown, int64_t nowMs) const;

private:
    uint64_t m_version = 0;
    int64_t m_ms = 0;
    std::set<std::string> m_services;
    std::map<std::string, std::pair<double, double>> m_projected;
    std::string m_rolloutService;
    NodeNote m_rolloutNote;
};

// `snapshot` with each edge's request count (and rate) replaced by the requests the
// graph paired that started from fromMs to nowMs: the split's shares since an apply.
GraphSnapshot requestsSince(
    const GraphSnapshot &snapshot, const GraphAggregator &aggregator, int64_t fromMs, int64_t nowMs);

// "3 s ago", "1 min ago"
QString agoText(int64_t ms);

}  // namespace meshscope

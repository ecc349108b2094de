#pragma once
// What changed between two route sets, for people: a unified line diff of their
// normalized YAML (toYaml), and a structural summary with one line per change,
// e.g. "HTTPRoute bookinfo/reviews: rule 'canary' backend reviews-v2 weight 0 -> 20".

#include "routing/routemodel.h"

#include <set>
#include <string>
#include <vector>

namespace meshscope::routing {

// GNU-style unified diff ("--- a", "+++ b", "@@ -l,n +l,n @@") with `context`
// unchanged lines around each change. Empty when the texts are equal.
std::string unifiedDiff(const std::string &before, const std::string &after, const std::string &beforeName = "before",
    const std::string &afterName = "after", int context = 3);

// unifiedDiff cut to its first `maxLines` lines, then "… N more lines": what a
// tooltip or a timeline marker shows of a route change.
std::string briefUnifiedDiff(const std::string &before, const std::string &after, size_t maxLines = 24);

// One line per change, in document order; empty when nothing changed. Routes and
// slices are matched by namespace/name, rules by name (by position when unnamed),
// backends by namespace/name/port.
std::vector<std::string> summarizeChanges(const RouteSet &before, const RouteSet &after);

struct RouteDiff {
    std::string unified;
    std::vector<std::string> summary;
    bool empty() const { return unified.empty() && summary.empty(); }
};

// The services ("namespace/name") an apply affects: every backend of a rule that was
// added, removed or changed in any way (rules matched by position within a route), and
// of routes added or removed. Empty when nothing changed.
std::set<std::string> changedBackends(const RouteSet &before, const RouteSet &after);

// Both views at once: unified over toYaml(before) and toYaml(after).
RouteDiff diffRouteSets(const RouteSet &before, const RouteSet &after);

}  // namespace meshscope::routing

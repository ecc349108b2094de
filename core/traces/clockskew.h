#pragma once
// Clock-skew adjustment of one trace, as Jaeger's query service did it
// (adjuster/clockskew.go): spans on another host than their parent are shifted so that
// they fit inside the parent, assuming network time is split evenly between request and
// response. Jaeger switched it off by default because users could not see what it did,
// so here every shift is reported per span and in words, and applying it is the caller's
// switch.

#include "traces/tracetree.h"

#include <cstdint>
#include <string>
#include <vector>

namespace meshscope {

// The adjusted trace and what was done to it.
struct ClockSkewResult {
    TraceTree tree;  // times shifted, siblings re-sorted by the new start times
    std::vector<int64_t> adjustmentNs;  // per span of `tree`: shift applied to start and end
    // One line per span whose host's clock was corrected against its parent's, e.g.
    // "ratings: shifted +3.2 ms into its parent reviews (clock skew)"; at most
    // kMaxClockSkewNotes lines, then one line counting the rest.
    std::vector<std::string> notes;
};

inline constexpr size_t kMaxClockSkewNotes = 100;

// The clock a span's times come from: the resource attribute host.id, else host.ip,
// else host.name. A span with none of them counts as running on a host of its own
// service ("service:<name>"): the services of one mesh rarely share a host, and
// treating them as one clock would hide exactly the skew between them.
std::string spanHostKey(const Span &span);

// Walks the tree from its roots. A span on the same host as its parent inherits the
// parent's shift. A span on another host (with its parent's times already adjusted):
// if it is longer than the parent (async work), it is only moved so that it does not
// start before the parent; if it already lies inside the parent, it stays; otherwise it
// is centred in the parent: shift = parentStart + (parentDuration - duration) / 2 - start.
// Roots and spans directly under the synthetic root are not shifted (there is no parent
// clock to compare with). One pass in pre-order, no recursion.
ClockSkewResult adjustClockSkew(TraceTree tree);

}  // namespace meshscope

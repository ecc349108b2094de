#include "traces/criticalpath.h"

#include <algorithm>

namespace meshscope {

CriticalPathResult computeCriticalPath(const TraceTree &tree)
{
    const uint32_t n = uint32_t(tree.size());
    CriticalPathResult r;
    r.selfNs.assign(n, 0);
    r.criticalNs.assign(n, 0);
    if (n == 0)
        return r;

    // Intervals as the walk sees them: clamped into the (clamped) parent, or dropped.
    // Pre-order puts every parent before its children, so one pass suffices.
    std::vector<uint64_t> cs(n), ce(n);
    std::vector<uint8_t> kept(n, 0);
    for (uint32_t i = 0; i < n; ++i) {
        const Span &s = tree.spans[i];
        const int32_t p = tree.parent[i];
        if (p < 0) {
            cs[i] = s.startNs;
            ce[i] = s.endNs;
            kept[i] = 1;
            continue;
        }
        const uint32_t q = uint32_t(p);
        if (!kept[q] || s.endNs <= cs[q] || s.startNs >= ce[q])
            continue;
        cs[i] = std::max(s.startNs, cs[q]);
        ce[i] = std::min(s.endNs, ce[q]);
        kept[i] = 1;
    }

    // Children of each span by clamped end, latest first (later sibling first on ties):
    // the walk only moves back in time, so one cursor per span visits each child once.
    std::vector<uint32_t> byEnd(tree.children);
    for (uint32_t i = 0; i < n; ++i) {
        if (tree.childEnd[i] - tree.childBegin[i] > 1)
            std::sort(byEnd.begin() + tree.childBegin[i], byEnd.begin() + tree.childEnd[i],
                [&ce](uint32_t a, uint32_t b) { return ce[a] != ce[b] ? ce[a] > ce[b] : a > b; });
    }

    struct Frame {
        uint32_t span;
        uint32_t cursor;  // into byEnd
        uint64_t point;  // the walk's current time in this span
    };
    std::vector<Frame> stack;
    std::vector<uint8_t> onPath(n, 0);
    auto addSection = [&r](uint32_t span, uint64_t from, uint64_t to) {
        if (to <= from)
            return;
        r.criticalNs[span] += to - from;
        // Sections arrive newest first, so a touching one of the same span is the last.
        if (!r.sections.empty() && r.sections.back().span == span && r.sections.back().startNs == to)
            r.sections.back().startNs = from;
        else
            r.sections.push_back({span, from, to});
    };
    for (uint32_t root : tree.roots) {
        const size_t firstSection = r.sections.size();
        onPath[root] = 1;
        stack.push_back({root, tree.childBegin[root], ce[root]});
        while (!stack.empty()) {
            Frame &f = stack.back();
            const uint32_t last = tree.childEnd[f.span];
            while (f.cursor < last && (!kept[byEnd[f.cursor]] || ce[byEnd[f.cursor]] > f.point))
                ++f.cursor;
            if (f.cursor == last) {
                addSection(f.span, cs[f.span], f.point);
                stack.pop_back();
                continue;
            }
            const uint32_t child = byEnd[f.cursor++];
            addSection(f.span, ce[child], f.point);
            f.point = cs[child];
            onPath[child] = 1;
            stack.push_back({child, tree.childBegin[child], ce[child]});  // invalidates f
        }
        std::reverse(r.sections.begin() + std::ptrdiff_t(firstSection), r.sections.end());
    }
    for (uint32_t i = 0; i < n; ++i) {
        if (onPath[i])
            r.path.push_back(i);
    }

    // Self time: children come by start, so their clamped intervals merge in one sweep.
    for (uint32_t i = 0; i < n; ++i) {
        const uint64_t from = tree.spans[i].startNs;
        const uint64_t to = tree.spans[i].endNs;
        uint64_t covered = 0, runStart = 0, runEnd = 0;
        bool inRun = false;
        for (uint32_t j = tree.childBegin[i]; j < tree.childEnd[i]; ++j) {
            const Span &c = tree.spans[tree.children[j]];
            const uint64_t s = std::max(c.startNs, from);
            const uint64_t e = std::min(c.endNs, to);
            if (e <= s)
                continue;
            if (inRun && s <= runEnd) {
                runEnd = std::max(runEnd, e);
                continue;
            }
            if (inRun)
                covered += runEnd - runStart;
            runStart = s;
            runEnd = e;
            inRun = true;
        }
        if (inRun)
            covered += runEnd - runStart;
        r.selfNs[i] = (to - from) - covered;
    }
    return r;
}

std::vector<uint32_t> criticalPath(const TraceTree &tree) { return computeCriticalPath(tree).path; }

}  // namespace meshscope

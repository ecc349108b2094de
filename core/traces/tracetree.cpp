#include "traces/tracetree.h"

#include <algorithm>
#include <tuple>

namespace meshscope {

namespace {

constexpr int32_t kNoParent = -1;
constexpr int32_t kUnderSynthetic = -2;  // while building: hangs under the synthetic root
constexpr size_t kIdsNamed = 3;  // ids quoted in one problem message
constexpr size_t kCyclesNamed = 5;  // cycles described one by one

// Every field of Span but those the caller already compared (id, start, end), so that
// exact copies sort next to each other and ties never depend on arrival order.
bool canonicalLess(const Span &a, const Span &b)
{
    auto head = [](const Span &s) {
        return std::tie(s.parentSpanId, s.traceId, s.kind, s.status, s.protocol, s.service, s.serviceNamespace,
            s.serviceVersion, s.name, s.peer, s.method, s.path, s.authority, s.httpStatus, s.grpcStatus, s.requestBytes,
            s.responseBytes, s.mtls, s.databaseCall, s.statusMessage);
    };
    if (head(a) != head(b))
        return head(a) < head(b);
    return std::lexicographical_compare(a.attributes.begin(), a.attributes.end(), b.attributes.begin(),
        b.attributes.end(), [](const SpanAttribute &x, const SpanAttribute &y) {
            return std::tie(x.key, x.value, x.resource) < std::tie(y.key, y.value, y.resource);
        });
}

std::string idList(const std::vector<uint64_t> &ids)
{
    std::string out;
    for (size_t i = 0; i < ids.size() && i < kIdsNamed; ++i) {
        if (i)
            out += ", ";
        out += spanIdHex(ids[i]);
    }
    if (ids.size() > kIdsNamed)
        out += ", ...";
    return out;
}

std::string plural(size_t n, const char *one, const char *many)
{
    return std::to_string(n) + ' ' + (n == 1 ? one : many);
}

using KeyIndex = std::pair<uint64_t, uint32_t>;

// Stable LSD radix sort on the key, a byte at a time, skipping bytes that no two keys
// differ in (timestamps of one trace share their high bytes). Several times faster than
// std::sort on 100,000 keys, and stability lets two passes sort by two keys.
void radixSort(std::vector<KeyIndex> &v, std::vector<KeyIndex> &scratch)
{
    uint64_t any = 0, all = ~uint64_t(0);
    for (const KeyIndex &e : v) {
        any |= e.first;
        all &= e.first;
    }
    const uint64_t varying = any ^ all;
    scratch.resize(v.size());
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if (((varying >> shift) & 0xFF) == 0)
            continue;
        size_t bucket[257] = {};
        for (const KeyIndex &e : v)
            ++bucket[((e.first >> shift) & 0xFF) + 1];
        for (int b = 1; b < 257; ++b)
            bucket[b] += bucket[b - 1];
        for (const KeyIndex &e : v)
            scratch[bucket[(e.first >> shift) & 0xFF]++] = e;
        v.swap(scratch);
    }
}

// Pre-order of a forest given by parent links, siblings by (start, end, node), without
// recursion. Returns the nodes in pre-order.
std::vector<uint32_t> preOrder(
    const std::vector<int32_t> &parent, const std::vector<uint64_t> &start, const std::vector<uint64_t> &end)
{
    const uint32_t n = uint32_t(parent.size());
    // By (start, end, node): stable passes by end, then by start.
    std::vector<KeyIndex> keys(n), scratch;
    for (uint32_t i = 0; i < n; ++i)
        keys[i] = {end[i], i};
    radixSort(keys, scratch);
    for (KeyIndex &k : keys)
        k.first = start[k.second];
    radixSort(keys, scratch);

    // Children grouped by parent (bucket n holds the roots); filling in sorted order
    // leaves each group in sibling order.
    std::vector<uint32_t> begin(n + 3, 0);
    for (uint32_t i = 0; i < n; ++i)
        ++begin[(parent[i] < 0 ? n : uint32_t(parent[i])) + 2];
    for (uint32_t b = 2; b < n + 3; ++b)
        begin[b] += begin[b - 1];
    std::vector<uint32_t> grouped(n);
    for (const KeyIndex &k : keys)
        grouped[begin[(parent[k.second] < 0 ? n : uint32_t(parent[k.second])) + 1]++] = k.second;
    // Now group g is grouped[begin[g] .. begin[g + 1]).

    std::vector<uint32_t> order;
    order.reserve(n);
    std::vector<uint32_t> stack;
    for (uint32_t j = begin[n + 1]; j > begin[n]; --j)
        stack.push_back(grouped[j - 1]);
    while (!stack.empty()) {
        const uint32_t v = stack.back();
        stack.pop_back();
        order.push_back(v);
        for (uint32_t j = begin[v + 1]; j > begin[v]; --j)
            stack.push_back(grouped[j - 1]);
    }
    return order;
}

// Puts a[src[i]] at a[i] for a permutation src, moving each element once: spans are
// 400 bytes, and a second array of them costs more in page faults than the moves.
// Following a cycle, the next sources are known in advance, so they are prefetched a
// few steps ahead (this halves the time on a 100,000-span trace).
void permuteInPlace(std::vector<Span> &a, const std::vector<uint32_t> &src)
{
    constexpr int kAhead = 4;
    auto prefetch = [&a](uint32_t x) {
        const char *p = reinterpret_cast<const char *>(&a[x]);
        for (size_t off = 0; off < sizeof(Span); off += 64)
            __builtin_prefetch(p + off, 1);
    };
    std::vector<uint8_t> done(a.size(), 0);
    for (uint32_t i = 0; i < uint32_t(a.size()); ++i) {
        if (done[i] || src[i] == i) {
            done[i] = 1;
            continue;
        }
        uint32_t ahead = i;
        for (int d = 0; d < kAhead; ++d) {
            ahead = src[ahead];
            prefetch(ahead);
        }
        Span held = std::move(a[i]);
        uint32_t j = i;
        for (;;) {
            done[j] = 1;
            ahead = src[ahead];
            prefetch(ahead);
            const uint32_t k = src[j];
            if (k == i) {
                a[j] = std::move(held);
                break;
            }
            a[j] = std::move(a[k]);
            j = k;
        }
    }
}

// Fills depth, children, subtreeEnd, roots and the time extent from parent (already in
// pre-order) and the spans' times, given in any order: reading them from the spans
// again would stream the whole 400-byte-per-span array once more.
void deriveLayout(TraceTree &t, const std::vector<uint64_t> &start, const std::vector<uint64_t> &end)
{
    const uint32_t n = uint32_t(t.spans.size());
    t.depth.assign(n, 0);
    t.childBegin.assign(n, 0);
    t.childEnd.assign(n, 0);
    t.children.assign(n, 0);
    t.subtreeEnd.resize(n);
    t.roots.clear();
    for (uint32_t i = 0; i < n; ++i) {
        const int32_t p = t.parent[i];
        if (p < 0) {
            t.roots.push_back(i);
        } else {
            t.depth[i] = t.depth[uint32_t(p)] + 1;
            ++t.childEnd[uint32_t(p)];  // a count for now
        }
    }
    uint32_t next = 0;
    for (uint32_t i = 0; i < n; ++i) {
        t.childBegin[i] = next;
        next += t.childEnd[i];
        t.childEnd[i] = t.childBegin[i];
    }
    for (uint32_t i = 0; i < n; ++i) {
        if (t.parent[i] >= 0)
            t.children[t.childEnd[uint32_t(t.parent[i])]++] = i;
    }
    t.children.resize(next);
    for (uint32_t i = 0; i < n; ++i)
        t.subtreeEnd[i] = i + 1;
    for (uint32_t i = n; i-- > 0;) {
        if (t.parent[i] >= 0)
            t.subtreeEnd[uint32_t(t.parent[i])] = std::max(t.subtreeEnd[uint32_t(t.parent[i])], t.subtreeEnd[i]);
    }
    t.startNs = start.empty() ? 0 : *std::min_element(start.begin(), start.end());
    t.endNs = end.empty() ? 0 : *std::max_element(end.begin(), end.end());
}

}  // namespace

TraceTree buildTraceTree(std::vector<Span> spans)
{
    TraceTree tree;
    if (spans.empty())
        return tree;

    // One sequential pass copies what the assembly reads into a compact array; the
    // 400-byte spans are touched again only to break ties and to be moved into place.
    struct Times {
        uint64_t id, parentId, start, end;
    };
    const uint32_t count = uint32_t(spans.size());
    std::vector<Times> in(count);
    std::vector<uint8_t> inputFlags(count, 0);
    for (uint32_t i = 0; i < count; ++i) {
        Span &s = spans[i];
        if (s.endNs < s.startNs) {
            s.endNs = s.startNs;
            inputFlags[i] |= SpanFlag::TimestampClamped;
        }
        in[i] = {s.spanId, s.parentSpanId, s.startNs, s.endNs};
    }

    // Canonical order: what decides duplicates and ties must not be the arrival order.
    std::vector<KeyIndex> keys(count);
    {
        std::vector<KeyIndex> scratch;
        for (uint32_t i = 0; i < count; ++i)
            keys[i] = {in[i].id, i};
        radixSort(keys, scratch);
    }
    auto sameTimes = [&in](uint32_t a, uint32_t b) { return in[a].start == in[b].start && in[a].end == in[b].end; };
    for (uint32_t k = 0; k + 1 < count;) {
        uint32_t last = k + 1;
        while (last < count && keys[last].first == keys[k].first)
            ++last;
        if (last - k > 1) {  // one id, several spans: order them by content
            std::sort(keys.begin() + k, keys.begin() + last, [&](const KeyIndex &a, const KeyIndex &b) {
                if (a.second == b.second)
                    return false;
                if (!sameTimes(a.second, b.second))
                    return std::tie(in[a.second].start, in[a.second].end)
                        < std::tie(in[b.second].start, in[b.second].end);
                return canonicalLess(spans[a.second], spans[b.second]);
            });
        }
        k = last;
    }

    // Nodes are the kept spans in canonical order; node m (if made) is the synthetic root.
    std::vector<uint32_t> input;  // node -> index into spans
    input.reserve(count);
    size_t copiesDropped = 0;
    for (uint32_t k = 0; k < count; ++k) {
        const uint32_t i = keys[k].second;
        if (k && keys[k - 1].first == keys[k].first && sameTimes(i, input.back()) && spans[i] == spans[input.back()]) {
            ++copiesDropped;
            continue;
        }
        input.push_back(i);
    }
    keys.clear();
    keys.shrink_to_fit();

    const uint32_t m = uint32_t(input.size());
    std::vector<uint64_t> start(m + 1), end(m + 1);
    std::vector<uint8_t> flags(m + 1, 0);
    size_t clamped = 0;
    for (uint32_t v = 0; v < m; ++v) {
        start[v] = in[input[v]].start;
        end[v] = in[input[v]].end;
        flags[v] = inputFlags[input[v]];
        clamped += (flags[v] & SpanFlag::TimestampClamped) ? 1 : 0;
    }
    std::vector<uint64_t> duplicatedIds;
    for (uint32_t v = 1; v < m; ++v) {
        if (in[input[v]].id == in[input[v - 1]].id) {
            flags[v] |= SpanFlag::DuplicateId;
            if (duplicatedIds.empty() || duplicatedIds.back() != in[input[v]].id)
                duplicatedIds.push_back(in[input[v]].id);
        }
    }

    // Parent links through an open-addressing table from id to its first node (a binary
    // search per span cost more than the rest of this pass together); a missing parent
    // hangs the span under the synthetic root.
    uint32_t bits = 1;
    while ((1u << bits) < 2 * m)
        ++bits;
    const uint64_t mask = (uint64_t(1) << bits) - 1;
    auto slotOf = [bits](uint64_t id) { return (id * 0x9E3779B97F4A7C15ull) >> (64 - bits); };
    std::vector<std::pair<uint64_t, uint32_t>> table(size_t(1) << bits, {0, 0});  // node + 1, 0 = empty
    for (uint32_t v = 0; v < m; ++v) {
        const uint64_t id = in[input[v]].id;
        uint64_t slot = slotOf(id);
        while (table[slot].second != 0 && table[slot].first != id)
            slot = (slot + 1) & mask;
        if (table[slot].second == 0)
            table[slot] = {id, v + 1};
    }
    std::vector<int32_t> parent(m + 1, kNoParent);
    std::vector<uint64_t> missingParents;
    size_t orphans = 0;
    size_t realRoots = 0;
    for (uint32_t v = 0; v < m; ++v) {
        const uint64_t pid = in[input[v]].parentId;
        if (pid == 0) {
            ++realRoots;
            continue;
        }
        uint64_t slot = slotOf(pid);
        while (table[slot].second != 0 && table[slot].first != pid)
            slot = (slot + 1) & mask;
        if (table[slot].second == 0) {
            parent[v] = kUnderSynthetic;
            flags[v] |= SpanFlag::Orphan;
            missingParents.push_back(pid);
            ++orphans;
        } else {
            parent[v] = int32_t(table[slot].second - 1);
        }
    }
    table.clear();
    table.shrink_to_fit();

    // Parent cycles: walk up from every node not yet settled; meeting a node of the
    // current walk again closes a cycle. Each node is walked once.
    std::vector<std::string> cycleProblems;
    size_t cycles = 0;
    {
        std::vector<uint8_t> state(m, 0);  // 0 unseen, 1 on the current walk, 2 settled
        std::vector<uint32_t> walk;
        for (uint32_t v0 = 0; v0 < m; ++v0) {
            if (state[v0])
                continue;
            walk.clear();
            int32_t cur = int32_t(v0);
            while (cur >= 0 && state[uint32_t(cur)] == 0) {
                state[uint32_t(cur)] = 1;
                walk.push_back(uint32_t(cur));
                cur = parent[uint32_t(cur)];
            }
            if (cur >= 0 && state[uint32_t(cur)] == 1) {
                const auto from = std::find(walk.begin(), walk.end(), uint32_t(cur));
                uint32_t cut = *from;
                for (auto it = from; it != walk.end(); ++it) {
                    const uint64_t s = start[*it];
                    const uint64_t best = start[cut];
                    if (s < best || (s == best && *it < cut))
                        cut = *it;
                }
                parent[cut] = kUnderSynthetic;
                flags[cut] |= SpanFlag::CycleBroken;
                if (++cycles <= kCyclesNamed) {
                    const Span &s = spans[input[cut]];
                    cycleProblems.push_back("parent cycle of " + plural(size_t(walk.end() - from), "span", "spans")
                        + " broken at span " + spanIdHex(s.spanId) + " (" + s.service + ' ' + s.name
                        + "): shown under a synthetic root");
                }
            }
            for (uint32_t w : walk)
                state[w] = 2;
        }
    }

    const bool synthetic = orphans > 0 || cycles > 0;
    const uint32_t nodes = m + (synthetic ? 1 : 0);
    parent.resize(nodes);
    flags.resize(nodes);
    start.resize(nodes);
    end.resize(nodes);
    Span root;
    if (synthetic) {
        bool first = true;
        for (uint32_t v = 0; v < m; ++v) {
            if (parent[v] != kUnderSynthetic)
                continue;
            parent[v] = int32_t(m);
            root.startNs = first ? start[v] : std::min(root.startNs, start[v]);
            root.endNs = first ? end[v] : std::max(root.endNs, end[v]);
            first = false;
        }
        root.traceId = spans[input[0]].traceId;
        root.kind = SpanKind::Internal;
        root.service = kSyntheticRootService;
        root.name = kSyntheticRootService;
        parent[m] = kNoParent;
        flags[m] = SpanFlag::SyntheticRoot;
        start[m] = root.startNs;
        end[m] = root.endNs;
    }

    const std::vector<uint32_t> order = preOrder(parent, start, end);
    std::vector<int32_t> position(nodes);
    for (uint32_t i = 0; i < nodes; ++i)
        position[order[i]] = int32_t(i);

    // The spans are laid out in the input vector itself: a dropped copy's slot (or one
    // more at the end) takes the synthetic root, the other dropped copies go last.
    std::vector<uint8_t> used(spans.size(), 0);
    for (uint32_t v = 0; v < m; ++v)
        used[input[v]] = 1;
    std::vector<uint32_t> spare;
    for (uint32_t k = 0; k < uint32_t(spans.size()); ++k) {
        if (!used[k])
            spare.push_back(k);
    }
    uint32_t rootSlot = 0;
    if (synthetic) {
        if (spare.empty()) {
            spare.push_back(uint32_t(spans.size()));
            spans.emplace_back();
        }
        rootSlot = spare.back();
        spare.pop_back();
        spans[rootSlot] = std::move(root);
    }
    std::vector<uint32_t> src(spans.size());
    for (uint32_t i = 0; i < nodes; ++i)
        src[i] = order[i] == m ? rootSlot : input[order[i]];
    for (size_t k = 0; k < spare.size(); ++k)
        src[nodes + k] = spare[k];
    permuteInPlace(spans, src);
    spans.resize(nodes);
    tree.spans = std::move(spans);

    tree.parent.resize(nodes);
    tree.flags.resize(nodes);
    for (uint32_t i = 0; i < nodes; ++i) {
        const uint32_t v = order[i];
        tree.parent[i] = parent[v] < 0 ? kNoParent : position[uint32_t(parent[v])];
        tree.flags[i] = flags[v];
        if (v != m && isErrorSpan(tree.spans[i]))
            ++tree.errorCount;
    }
    deriveLayout(tree, start, end);

    if (orphans > 0) {
        std::sort(missingParents.begin(), missingParents.end());
        missingParents.erase(std::unique(missingParents.begin(), missingParents.end()), missingParents.end());
        tree.problems.push_back(std::string(realRoots == 0 ? "no root span; " : "")
            + plural(orphans, "span whose parent is", "spans whose parent is") + " missing (parent id "
            + idList(missingParents) + "): shown under a synthetic root"
            + (realRoots > 0 ? " beside the root span" : ""));
    }
    tree.problems.insert(tree.problems.end(), cycleProblems.begin(), cycleProblems.end());
    if (cycles > kCyclesNamed)
        tree.problems.push_back(plural(cycles - kCyclesNamed, "more parent cycle", "more parent cycles") + " broken");
    if (!duplicatedIds.empty())
        tree.problems.push_back(plural(duplicatedIds.size(), "duplicate span id", "duplicate span ids") + " ("
            + idList(duplicatedIds) + "): the spans sharing an id are all shown; children attach to the first");
    if (copiesDropped > 0)
        tree.problems.push_back(plural(copiesDropped, "exact copy of a span", "exact copies of spans") + " dropped");
    if (clamped > 0)
        tree.problems.push_back(plural(clamped, "span ends", "spans end") + " before it starts: end set to start");
    return tree;
}

std::vector<uint32_t> resortTraceTree(TraceTree &tree)
{
    const uint32_t n = uint32_t(tree.spans.size());
    std::vector<uint64_t> start(n), end(n);
    for (uint32_t i = 0; i < n; ++i) {
        start[i] = tree.spans[i].startNs;
        end[i] = tree.spans[i].endNs;
    }
    const std::vector<uint32_t> order = preOrder(tree.parent, start, end);
    std::vector<uint32_t> position(n);
    for (uint32_t i = 0; i < n; ++i)
        position[order[i]] = i;

    bool moved = false;
    for (uint32_t i = 0; i < n && !moved; ++i)
        moved = order[i] != i;
    if (moved) {
        std::vector<int32_t> parent(n);
        std::vector<uint8_t> flags(n);
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t v = order[i];
            parent[i] = tree.parent[v] < 0 ? kNoParent : int32_t(position[uint32_t(tree.parent[v])]);
            flags[i] = tree.flags[v];
        }
        permuteInPlace(tree.spans, order);
        tree.parent = std::move(parent);
        tree.flags = std::move(flags);
    }
    deriveLayout(tree, start, end);
    return position;
}

}  // namespace meshscope

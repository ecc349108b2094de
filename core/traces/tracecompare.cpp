#include "traces/tracecompare.h"

#include "traces/criticalpath.h"
#include "traces/tracestore.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

namespace meshscope {

namespace {

constexpr uint32_t kTopLevel = std::numeric_limits<uint32_t>::max();  // the parent path of a root
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// Interns the keys of both (or all) trees being aligned, so a key is an integer and the
// same key is the same integer on every side.
class KeyTable {
public:
    // (synthetic, service, name, callee): a received span named like the synthetic root
    // stays apart, and client calls named alike ("GET", as HTTP clients name them) to
    // different services are different calls.
    uint32_t nameId(const Span &s, bool synthetic, const std::string &callee)
    {
        m_scratch.clear();
        m_scratch += synthetic ? '\1' : '\0';
        m_scratch += s.service;
        m_scratch += '\0';
        m_scratch += s.name;
        m_scratch += '\0';
        m_scratch += callee;
        auto it = m_names.find(m_scratch);
        if (it != m_names.end())
            return it->second;
        const uint32_t id = uint32_t(m_names.size());
        m_names.emplace(m_scratch, id);
        return id;
    }
    size_t nameCount() const { return m_names.size(); }

    uint32_t pathId(uint32_t parentPath, uint32_t name, uint32_t occurrence)
    {
        const PathKey key {parentPath, name, occurrence};
        auto [it, inserted] = m_paths.try_emplace(key, uint32_t(m_pathKeys.size()));
        if (inserted)
            m_pathKeys.push_back(key);
        return it->second;
    }
    uint32_t findPath(uint32_t parentPath, uint32_t name, uint32_t occurrence) const
    {
        auto it = m_paths.find(PathKey {parentPath, name, occurrence});
        return it == m_paths.end() ? kNone : it->second;
    }
    size_t pathCount() const { return m_pathKeys.size(); }
    uint32_t parentOf(uint32_t path) const { return m_pathKeys[path].parent; }

private:
    struct PathKey {
        uint32_t parent, name, occurrence;
        bool operator==(const PathKey &) const = default;
    };
    struct PathHash {
        size_t operator()(const PathKey &k) const
        {
            uint64_t h = (uint64_t(k.parent) << 32 | k.name) * 0x9E3779B97F4A7C15ull;
            h ^= (h >> 29) + uint64_t(k.occurrence) * 0xBF58476D1CE4E5B9ull;
            return size_t(h ^ (h >> 32));
        }
    };
    std::unordered_map<std::string, uint32_t> m_names;
    std::unordered_map<PathKey, uint32_t, PathHash> m_paths;
    std::vector<PathKey> m_pathKeys;
    std::string m_scratch;
};

// Per span of one tree: its key, its path key, its place among its siblings.
struct Labels {
    std::vector<uint32_t> name;
    std::vector<uint32_t> path;
    std::vector<uint32_t> occurrence;  // among same-key siblings, in sibling (start) order
    std::vector<uint32_t> sameKey;  // how many siblings (itself included) share its key
    std::vector<uint32_t> rank;  // position among all its siblings
};

std::span<const uint32_t> childrenOf(const TraceTree &t, int32_t span)
{
    if (span < 0)
        return t.roots;
    return std::span<const uint32_t>(t.children)
        .subspan(t.childBegin[size_t(span)], t.childEnd[size_t(span)] - t.childBegin[size_t(span)]);
}

// Whom a client (or producer) span calls, as it names it (server.address, peer.service):
// empty for other spans. Its children do not say it: they differ between the traces
// compared, which must not make the same call two calls.
const std::string &calleeOf(const TraceTree &t, size_t i)
{
    static const std::string none;
    const Span &s = t.spans[i];
    return s.isClientSide() ? s.peer : none;
}

Labels label(const TraceTree &t, KeyTable &keys)
{
    const size_t n = t.size();
    Labels l;
    l.name.resize(n);
    l.path.resize(n);
    l.occurrence.resize(n);
    l.sameKey.resize(n);
    l.rank.resize(n);
    for (size_t i = 0; i < n; ++i)
        l.name[i] = keys.nameId(t.spans[i], t.isSynthetic(i), calleeOf(t, i));
    std::vector<uint32_t> counter(keys.nameCount(), 0);
    auto group = [&](std::span<const uint32_t> siblings, uint32_t parentPath) {
        uint32_t rank = 0;
        for (uint32_t c : siblings) {
            l.occurrence[c] = counter[l.name[c]]++;
            l.rank[c] = rank++;
        }
        for (uint32_t c : siblings) {
            l.sameKey[c] = counter[l.name[c]];
            l.path[c] = keys.pathId(parentPath, l.name[c], l.occurrence[c]);
        }
        for (uint32_t c : siblings)
            counter[l.name[c]] = 0;
    };
    // Pre-order: a span's path is known before its children's are computed.
    group(t.roots, kTopLevel);
    for (size_t i = 0; i < n; ++i)
        group(childrenOf(t, int32_t(i)), l.path[i]);
    return l;
}

struct Side {
    const TraceTree &tree;
    Labels labels;
    std::vector<int32_t> byPath;  // path id -> span index, -1
    std::vector<uint64_t> selfNs;
};

// The same-key sibling count on a side that lacks this very call, but may have others
// with its key (a third call where that side made two).
uint32_t callsOnOtherSide(const Side &other, const KeyTable &keys, uint32_t path, uint32_t name)
{
    const uint32_t first = keys.findPath(keys.parentOf(path), name, 0);
    if (first == kNone || first >= other.byPath.size() || other.byPath[first] < 0)
        return 0;
    return other.labels.sameKey[size_t(other.byPath[first])];
}

}  // namespace

TraceComparison compareTraces(const TraceTree &a, const TraceTree &b)
{
    KeyTable keys;
    Side sa {a, label(a, keys), {}, computeCriticalPath(a).selfNs};
    Side sb {b, label(b, keys), {}, computeCriticalPath(b).selfNs};
    for (Side *s : {&sa, &sb}) {
        s->byPath.assign(keys.pathCount(), -1);
        for (size_t i = 0; i < s->tree.size(); ++i)
            s->byPath[s->labels.path[i]] = int32_t(i);
    }

    TraceComparison out;
    out.durationA = a.endNs - a.startNs;
    out.durationB = b.endNs - b.startNs;
    out.rows.reserve(std::max(a.size(), b.size()));

    struct Item {
        int32_t a, b, depth, parentRow;
    };
    struct Ordered {
        int64_t primary;
        int32_t secondary;
        int64_t tertiary;
        int32_t a, b;
    };
    std::vector<Item> stack;
    std::vector<Ordered> merged;
    // The children of a paired (or one-sided) parent, in display order, pushed reversed.
    auto pushChildren = [&](int32_t pa, int32_t pb, bool hasA, bool hasB, int32_t depth, int32_t parentRow) {
        merged.clear();
        if (hasA) {
            for (uint32_t c : childrenOf(a, pa)) {
                const int32_t other = sb.byPath[sa.labels.path[c]];
                merged.push_back({int64_t(sa.labels.rank[c]), 0, other < 0 ? 0 : int64_t(sb.labels.rank[size_t(other)]),
                    int32_t(c), other});
            }
        }
        if (hasB) {
            // A call only in B goes right after the A side of the paired call B made
            // before it; before any pair, right before the first pair (after the calls
            // only in A that precede it); with no pair at all, after all of A's calls.
            const std::span<const uint32_t> kids = childrenOf(b, pb);
            int64_t firstPaired = std::numeric_limits<int64_t>::max();
            for (uint32_t c : kids) {
                const int32_t other = sa.byPath[sb.labels.path[c]];
                if (other >= 0) {
                    firstPaired = int64_t(sa.labels.rank[size_t(other)]);
                    break;
                }
            }
            int64_t after = -1;
            for (uint32_t c : kids) {
                const int32_t other = sa.byPath[sb.labels.path[c]];
                if (other >= 0)
                    after = int64_t(sa.labels.rank[size_t(other)]);
                else if (after >= 0)
                    merged.push_back({after, 1, int64_t(sb.labels.rank[c]), -1, int32_t(c)});
                else
                    merged.push_back({firstPaired, -1, int64_t(sb.labels.rank[c]), -1, int32_t(c)});
            }
        }
        std::sort(merged.begin(), merged.end(), [](const Ordered &x, const Ordered &y) {
            return std::tie(x.primary, x.secondary, x.tertiary) < std::tie(y.primary, y.secondary, y.tertiary);
        });
        for (auto it = merged.rbegin(); it != merged.rend(); ++it)
            stack.push_back({it->a, it->b, depth, parentRow});
    };

    pushChildren(-1, -1, true, true, 0, -1);
    while (!stack.empty()) {
        const Item item = stack.back();
        stack.pop_back();
        CompareRow row;
        row.depth = item.depth;
        row.parentRow = item.parentRow;
        const bool hasA = item.a >= 0, hasB = item.b >= 0;
        row.kind = hasA && hasB ? CompareKind::Both : hasA ? CompareKind::OnlyInA : CompareKind::OnlyInB;
        const size_t ia = size_t(item.a), ib = size_t(item.b);
        const Span &s = hasA ? a.spans[ia] : b.spans[ib];
        row.service = s.service;
        row.name = s.name;
        if (const std::string &callee = calleeOf(hasA ? a : b, hasA ? ia : ib); !callee.empty())
            row.name += " → " + callee;
        row.synthetic = hasA ? a.isSynthetic(ia) : b.isSynthetic(ib);
        const uint32_t path = hasA ? sa.labels.path[ia] : sb.labels.path[ib];
        const uint32_t name = hasA ? sa.labels.name[ia] : sb.labels.name[ib];
        row.occurrence = hasA ? sa.labels.occurrence[ia] : sb.labels.occurrence[ib];
        if (hasA) {
            row.spanA = item.a;
            row.callsA = sa.labels.sameKey[ia];
            row.durationA = a.durationNs(ia);
            row.selfA = sa.selfNs[ia];
            row.offsetA = a.spans[ia].startNs - a.startNs;
            row.errorA = !row.synthetic && isErrorSpan(a.spans[ia]);
        } else {
            row.callsA = callsOnOtherSide(sa, keys, path, name);
        }
        if (hasB) {
            row.spanB = item.b;
            row.callsB = sb.labels.sameKey[ib];
            row.durationB = b.durationNs(ib);
            row.selfB = sb.selfNs[ib];
            row.offsetB = b.spans[ib].startNs - b.startNs;
            row.errorB = !row.synthetic && isErrorSpan(b.spans[ib]);
        } else {
            row.callsB = callsOnOtherSide(sb, keys, path, name);
        }
        row.deltaNs = int64_t(row.durationB) - int64_t(row.durationA);
        row.selfDeltaNs = int64_t(row.selfB) - int64_t(row.selfA);
        if (hasA && hasB && row.durationA > 0)
            row.relativeDelta = double(row.deltaNs) / double(row.durationA);

        const int32_t index = int32_t(out.rows.size());
        out.rows.push_back(std::move(row));
        pushChildren(item.a, item.b, hasA, hasB, item.depth + 1, index);
    }

    for (uint32_t i = 0; i < out.rows.size(); ++i) {
        const CompareRow &r = out.rows[i];
        if (r.synthetic)
            continue;
        switch (r.kind) {
        case CompareKind::Both:
            ++out.callsMatched;
            if (r.selfDeltaNs > 0)
                out.slowerBySelf.push_back(i);
            if (r.deltaNs > 0)
                out.slowerByDuration.push_back(i);
            break;
        case CompareKind::OnlyInA: ++out.callsMissing; break;
        case CompareKind::OnlyInB: ++out.callsAdded; break;
        }
    }
    std::stable_sort(out.slowerBySelf.begin(), out.slowerBySelf.end(),
        [&](uint32_t x, uint32_t y) { return out.rows[x].selfDeltaNs > out.rows[y].selfDeltaNs; });
    std::stable_sort(out.slowerByDuration.begin(), out.slowerByDuration.end(),
        [&](uint32_t x, uint32_t y) { return out.rows[x].deltaNs > out.rows[y].deltaNs; });
    return out;
}

namespace {

// The typical trace, fed one tree at a time so that gathering 200 traces holds one of
// them at once: per span a 32-byte sample, per key what its span will say.
class TypicalTraceBuilder {
public:
    void add(const TraceTree &t)
    {
        const Labels l = label(t, m_keys);
        for (uint32_t i = 0; i < t.size(); ++i) {
            const uint32_t path = l.path[i];
            if (path == m_prototypes.size()) {
                const Span &s = t.spans[i];
                m_prototypes.push_back(
                    {s.service, s.serviceNamespace, s.name, s.peer, s.kind, s.protocol, t.isSynthetic(i)});
            }
            m_samples.push_back({path, m_traces, t.spans[i].startNs - t.startNs, t.durationNs(i),
                !t.isSynthetic(i) && isErrorSpan(t.spans[i])});
        }
        ++m_traces;
    }

    TraceTree build()
    {
        if (m_traces == 0)
            return {};
        // Grouped by path: a path is at most once in a trace, so a group's size is the
        // number of traces having that key.
        std::sort(m_samples.begin(), m_samples.end(),
            [](const Sample &x, const Sample &y) { return std::tie(x.path, x.trace) < std::tie(y.path, y.trace); });
        const size_t needed = (size_t(m_traces) + 1) / 2;  // at least half
        std::vector<Span> spans;
        std::vector<uint64_t> offsets, durations;
        for (size_t g = 0; g < m_samples.size();) {
            size_t end = g;
            while (end < m_samples.size() && m_samples[end].path == m_samples[g].path)
                ++end;
            const size_t count = end - g;
            const uint32_t path = m_samples[g].path;
            const Prototype &proto = m_prototypes[path];
            // A synthetic root is left out: its children then have a parent that is not
            // there, and buildTraceTree hangs them under a new synthetic root.
            if (count >= needed && !proto.synthetic) {
                offsets.clear();
                durations.clear();
                size_t errors = 0;
                for (size_t k = g; k < end; ++k) {
                    offsets.push_back(m_samples[k].offsetNs);
                    durations.push_back(m_samples[k].durationNs);
                    errors += m_samples[k].error ? 1 : 0;
                }
                const uint32_t parentPath = m_keys.parentOf(path);
                Span s;
                s.spanId = uint64_t(path) + 1;
                s.parentSpanId = parentPath == kTopLevel ? 0 : uint64_t(parentPath) + 1;
                s.kind = proto.kind;
                s.protocol = proto.protocol;
                s.service = proto.service;
                s.serviceNamespace = proto.serviceNamespace;
                s.name = proto.name;
                s.peer = proto.peer;
                s.startNs = median(offsets);
                s.endNs = s.startNs + median(durations);
                s.status = errors * 2 >= count ? SpanStatus::Error : SpanStatus::Ok;
                s.attributes.push_back({"meshscope.typical.traces", std::to_string(count), false});
                spans.push_back(std::move(s));
            }
            g = end;
        }
        TraceTree tree = buildTraceTree(std::move(spans));
        tree.problems.clear();  // the missing parents are the synthetic roots left out on purpose
        return tree;
    }

    uint32_t traceCount() const { return m_traces; }

private:
    struct Sample {
        uint32_t path, trace;
        uint64_t offsetNs, durationNs;
        bool error;
    };
    // What the typical span of a key says besides times: from the first trace having it.
    struct Prototype {
        std::string service, serviceNamespace, name, peer;  // peer: the callee when no child says it
        SpanKind kind;
        Protocol protocol;
        bool synthetic;
    };

    // The mean of the middle two for an even count.
    static uint64_t median(std::vector<uint64_t> &v)
    {
        const size_t mid = v.size() / 2;
        std::nth_element(v.begin(), v.begin() + ptrdiff_t(mid), v.end());
        const uint64_t upper = v[mid];
        if (v.size() % 2 == 1)
            return upper;
        const uint64_t lower = *std::max_element(v.begin(), v.begin() + ptrdiff_t(mid));
        return lower + (upper - lower) / 2;
    }

    KeyTable m_keys;
    std::vector<Sample> m_samples;
    std::vector<Prototype> m_prototypes;  // per path id
    uint32_t m_traces = 0;
};

}  // namespace

TraceTree buildTypicalTrace(std::span<const TraceTree> traces)
{
    TypicalTraceBuilder builder;
    for (const TraceTree &t : traces)
        builder.add(t);
    return builder.build();
}

std::optional<TypicalTrace> typicalTraceFor(const TraceStore &store, const std::string &rootService,
    const std::string &rootOperation, const TraceId &exclude, size_t maxTraces)
{
    if (maxTraces == 0)
        return std::nullopt;
    // The search finds traces with such a span anywhere; most have it as their root, so
    // ask for a few more than needed, and for more only when too few had that root.
    TraceFilter filter;
    filter.service = rootService;
    filter.operation = rootOperation;
    filter.sort = TraceFilter::Sort::Start;
    uint64_t limit = uint64_t(maxTraces) + 1;
    std::vector<TraceId> ids;
    for (;;) {
        filter.limit = limit > std::numeric_limits<uint32_t>::max() ? 0 : uint32_t(limit);
        const std::vector<TraceSummary> found = store.search(filter);
        ids.clear();
        for (const TraceSummary &s : found) {
            if (s.traceId != exclude && s.rootService == rootService && s.rootOperation == rootOperation) {
                ids.push_back(s.traceId);
                if (ids.size() == maxTraces)
                    break;
            }
        }
        if (ids.size() == maxTraces || filter.limit == 0 || found.size() < filter.limit)
            break;
        limit *= 4;
    }

    TypicalTraceBuilder builder;
    for (const TraceId &id : ids) {
        std::optional<std::vector<Span>> spans = store.trace(id);
        if (spans && !spans->empty())  // evicted since the search: skipped
            builder.add(buildTraceTree(std::move(*spans)));
    }
    if (builder.traceCount() == 0)
        return std::nullopt;
    TypicalTrace out;
    out.traceCount = builder.traceCount();
    out.tree = builder.build();
    return out;
}

}  // namespace meshscope

#include "graph/graphhistory.h"

#include "model/varint.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

namespace meshscope {

// ---- coarse latency ---------------------------------------------------------------

namespace {

constexpr double kFirstBound = 0.1;  // ms: upper bound of bucket 0
constexpr double kGrowth = 1.25;

}  // namespace

int CoarseLatency::bucketFor(double ms)
{
    if (!(ms > kFirstBound))
        return 0;
    const int b = int(std::ceil(std::log(ms / kFirstBound) / std::log(kGrowth)));
    return std::clamp(b, 0, kBuckets - 1);
}

double CoarseLatency::lowerBound(int bucket) { return bucket <= 0 ? 0.0 : upperBound(bucket - 1); }

double CoarseLatency::upperBound(int bucket) { return kFirstBound * std::pow(kGrowth, bucket); }

void CoarseLatency::merge(const CoarseLatency &other)
{
    for (size_t i = 0; i < m_counts.size(); ++i)
        m_counts[i] += other.m_counts[i];
}

uint64_t CoarseLatency::count() const
{
    uint64_t n = 0;
    for (uint32_t c : m_counts)
        n += c;
    return n;
}

double CoarseLatency::quantile(double q) const
{
    const uint64_t total = count();
    if (total == 0)
        return 0.0;
    const double rank = std::clamp(q, 0.0, 1.0) * double(total);
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        const uint32_t c = m_counts[size_t(i)];
        if (c == 0)
            continue;
        if (double(seen + c) >= rank) {
            // Linear within the bucket; the last one has no upper bound worth
            // interpolating to, so it answers its lower bound.
            if (i == kBuckets - 1)
                return lowerBound(i);
            const double within = std::clamp((rank - double(seen)) / double(c), 0.0, 1.0);
            return lowerBound(i) + (upperBound(i) - lowerBound(i)) * within;
        }
        seen += c;
    }
    return lowerBound(kBuckets - 1);
}

void HistoryCounts::merge(const HistoryCounts &o)
{
    requests += o.requests;
    errors += o.errors;
    errors5xx += o.errors5xx;
    errors4xx += o.errors4xx;
    bytes += o.bytes;
    latency.merge(o.latency);
}

// ---- frames -----------------------------------------------------------------------
//
// A frame's data is its records one after another, each:
//   varint (item << 2 | series)  varint requests  varint errors  varint errors5xx
//   varint errors4xx  varint bytes  byte n  n x (byte bucket, varint count)
// A busy edge's second is about 15 bytes.

namespace {

class Reader {
public:
    explicit Reader(const std::string &s)
        : m_p(reinterpret_cast<const unsigned char *>(s.data()))
        , m_end(m_p + s.size())
    {
    }
    bool atEnd() const { return m_p >= m_end; }
    // Frames are written whole: a varint cut short (only damage does that) gives the
    // bits read.
    uint64_t varint()
    {
        uint64_t v = 0;
        readVarint(m_p, m_end, v);
        return v;
    }
    unsigned char byte() { return m_p < m_end ? *m_p++ : 0; }

private:
    const unsigned char *m_p;
    const unsigned char *m_end;
};

void encode(std::string &out, uint64_t key, const HistoryCounts &c)
{
    appendVarint(out, key);
    appendVarint(out, c.requests);
    appendVarint(out, c.errors);
    appendVarint(out, c.errors5xx);
    appendVarint(out, c.errors4xx);
    appendVarint(out, c.bytes);
    const size_t countAt = out.size();
    out.push_back(0);
    unsigned char n = 0;
    for (int i = 0; i < CoarseLatency::kBuckets; ++i) {
        if (const uint32_t b = c.latency.bucket(i)) {
            out.push_back(static_cast<char>(i));
            appendVarint(out, b);
            ++n;
        }
    }
    out[countAt] = static_cast<char>(n);
}

constexpr uint64_t keyOf(uint32_t item, GraphHistory::Series s) { return (uint64_t(item) << 2) | uint64_t(s); }

// Records of frames added up per key, in first-seen order. Keys are dense (item
// numbers times four), so a plain table finds a key's sum; records are added straight
// into it as they are read.
// Adds one record's counts (after its key) to *c; skips them when c is null.
void readCounts(Reader &r, HistoryCounts *c)
{
    HistoryCounts skipped;
    HistoryCounts &to = c ? *c : skipped;
    to.requests += uint32_t(r.varint());
    to.errors += uint32_t(r.varint());
    to.errors5xx += uint32_t(r.varint());
    to.errors4xx += uint32_t(r.varint());
    to.bytes += r.varint();
    const unsigned n = r.byte();
    for (unsigned i = 0; i < n; ++i) {
        const int bucket = std::min<int>(r.byte(), CoarseLatency::kBuckets - 1);
        const auto count = uint32_t(r.varint());
        if (c)
            to.latency.addToBucket(bucket, count);
    }
}

class Accumulator {
public:
    explicit Accumulator(size_t items)
        : m_slot(items * 4, -1)
    {
    }
    void add(const std::string &data)
    {
        Reader r(data);
        while (!r.atEnd()) {
            HistoryCounts &c = slotFor(r.varint());
            readCounts(r, &c);
        }
    }
    const std::vector<std::pair<uint64_t, HistoryCounts>> &items() const { return m_items; }

private:
    HistoryCounts &slotFor(uint64_t key)
    {
        if (key >= m_slot.size())
            m_slot.resize(size_t(key) + 1, -1);  // only a damaged frame: items are known
        int32_t &slot = m_slot[size_t(key)];
        if (slot < 0) {
            slot = int32_t(m_items.size());
            m_items.emplace_back(key, HistoryCounts {});
        }
        return m_items[size_t(slot)].second;
    }

    std::vector<int32_t> m_slot;
    std::vector<std::pair<uint64_t, HistoryCounts>> m_items;
};

TrafficStats statsOf(const HistoryCounts &c, double seconds)
{
    TrafficStats s;
    s.requests = c.requests;
    s.rps = double(c.requests) / seconds;
    if (c.requests > 0) {
        s.errorRate = double(c.errors) / double(c.requests);
        s.rate5xx = double(c.errors5xx) / double(c.requests);
        s.rate4xx = double(c.errors4xx) / double(c.requests);
    }
    s.p50Ms = c.latency.quantile(0.50);
    s.p95Ms = c.latency.quantile(0.95);
    s.p99Ms = c.latency.quantile(0.99);
    s.bytes = c.bytes;
    return s;
}

}  // namespace

// ---- the history --------------------------------------------------------------------

GraphHistory::GraphHistory(HistoryLimits limits)
    : m_limits(limits)
{
}

uint32_t GraphHistory::intern(std::string_view id, Item &&item)
{
    std::lock_guard lock(m_mutex);
    const auto it = m_index.find(std::string(id));
    if (it != m_index.end()) {
        Item &known = m_items[it->second];
        // What may change while an item lives: how it is classified and spoken to.
        known.kind = item.kind;
        known.direction = item.direction;
        known.protocol = item.protocol;
        known.mtls = item.mtls;
        return it->second;
    }
    const auto index = uint32_t(m_items.size());
    item.id = std::string(id);
    m_itemBytes += sizeof(Item) + item.id.capacity() + item.name.capacity() + item.ns.capacity()
        + item.version.capacity() + 2 * item.id.size() + 48;  // and the index entry
    m_index.emplace(item.id, index);
    m_items.push_back(std::move(item));
    return index;
}

uint32_t GraphHistory::node(
    std::string_view id, std::string_view name, std::string_view ns, std::string_view version, NodeKind kind)
{
    Item item;
    item.name = std::string(name);
    item.ns = std::string(ns);
    item.version = std::string(version);
    item.kind = kind;
    return intern(id, std::move(item));
}

uint32_t GraphHistory::edge(
    std::string_view id, uint32_t sourceNode, uint32_t targetNode, Direction direction, Protocol protocol, int8_t mtls)
{
    Item item;
    item.isEdge = true;
    item.source = sourceNode;
    item.target = targetNode;
    item.direction = direction;
    item.protocol = protocol;
    item.mtls = mtls;
    return intern(id, std::move(item));
}

size_t GraphHistory::frameBytes(const Frame &f) const { return sizeof(Frame) + f.data.capacity(); }

void GraphHistory::update(uint32_t item, NodeKind kind, Direction direction, Protocol protocol, int8_t mtls)
{
    std::lock_guard lock(m_mutex);
    if (item >= m_items.size())
        return;
    Item &i = m_items[item];
    i.kind = kind;
    i.direction = direction;
    i.protocol = protocol;
    i.mtls = mtls;
}

void GraphHistory::add(int64_t second, uint32_t item, Series series, const HistoryCounts &counts)
{
    std::lock_guard lock(m_mutex);
    if (item >= m_items.size() || counts.requests == 0)
        return;
    if (m_open && second != m_frames.back().second)
        closeFrameLocked();
    if (!m_open) {
        if (!m_frames.empty() && second <= m_frames.back().second + m_frames.back().span - 1)
            return;  // a second already closed
        m_frames.push_back(Frame {second, 1, 0, 0, {}});
        m_open = true;
    }
    Frame &f = m_frames.back();
    encode(f.data, keyOf(item, series), counts);
    if (series == Series::Edge) {
        f.requests += counts.requests;
        f.errors += counts.errors;
    }
}

void GraphHistory::closeFrame()
{
    std::lock_guard lock(m_mutex);
    closeFrameLocked();
}

void GraphHistory::closeFrameLocked()
{
    if (!m_open)
        return;
    m_open = false;
    Frame &f = m_frames.back();
    f.data.shrink_to_fit();
    m_bytes += frameBytes(f);
    enforceBudget();
}

void GraphHistory::coarsen(size_t first, size_t count, int span)
{
    Accumulator acc(m_items.size());
    Frame merged;
    merged.second = m_frames[first].second - m_frames[first].second % span;
    merged.span = span;
    for (size_t i = first; i < first + count; ++i) {
        const Frame &f = m_frames[i];
        acc.add(f.data);
        merged.requests += f.requests;
        merged.errors += f.errors;
        m_bytes -= frameBytes(f);
    }
    for (const auto &[key, c] : acc.items())
        encode(merged.data, key, c);
    merged.data.shrink_to_fit();
    m_bytes += frameBytes(merged);
    m_frames.erase(m_frames.begin() + ptrdiff_t(first + 1), m_frames.begin() + ptrdiff_t(first + count));
    m_frames[first] = std::move(merged);
    m_coarsened += count;
}

void GraphHistory::enforceBudget()
{
    // Older than the span: gone.
    const size_t closed = m_frames.size() - (m_open ? 1 : 0);
    if (closed > 0) {
        const int64_t newest = m_frames[closed - 1].second;
        while (m_frames.size() > (m_open ? 1u : 0u)
            && m_frames.front().second + m_frames.front().span <= newest - m_limits.spanSeconds) {
            m_bytes -= frameBytes(m_frames.front());
            m_frames.pop_front();
            ++m_dropped;
        }
    }
    // Over the budget: the oldest frames coarsened, a step at a time, 1 s -> 10 s -> 60 s;
    // the newest minute always stays at full resolution.
    for (int span : {10, 60}) {
        const int finer = span == 10 ? 1 : 10;
        size_t i = 0;
        while (m_bytes + m_itemBytes > m_limits.maxBytes && i < m_frames.size()) {
            const Frame &f = m_frames[i];
            if (f.span != finer) {
                ++i;
                continue;
            }
            const int64_t start = f.second - f.second % span;
            size_t j = i;
            while (j < m_frames.size() && m_frames[j].span == finer && m_frames[j].second < start + span)
                ++j;
            // Only whole, closed groups well behind the newest frame.
            const bool closedGroup = j < m_frames.size() - (m_open ? 1 : 0);
            if (!closedGroup || m_frames.back().second - start < 60 + span)
                break;
            coarsen(i, j - i, span);
            ++i;
        }
    }
    while (m_bytes + m_itemBytes > m_limits.maxBytes && m_frames.size() > 1 + (m_open ? 1u : 0u)) {
        m_bytes -= frameBytes(m_frames.front());
        m_frames.pop_front();
        ++m_dropped;
    }
}

HistoryCounts GraphHistory::servedBy(const NodePredicate &which, int64_t fromSecond, int64_t toSecond) const
{
    std::lock_guard lock(m_mutex);
    std::unordered_set<uint64_t> keys;
    for (size_t i = 0; i < m_items.size(); ++i) {
        const Item &item = m_items[i];
        if (!item.isEdge && which(item.name, item.ns, item.version))
            keys.insert(keyOf(uint32_t(i), Series::NodeIn));
    }
    HistoryCounts total;
    if (keys.empty())
        return total;
    for (const Frame &f : m_frames) {
        const int64_t middle = f.second + f.span / 2;
        if (middle < fromSecond)
            continue;
        if (middle > toSecond)
            break;
        Reader r(f.data);
        while (!r.atEnd()) {
            const uint64_t key = r.varint();
            readCounts(r, keys.count(key) ? &total : nullptr);
        }
    }
    return total;
}

GraphSnapshotPtr GraphHistory::snapshotAt(int64_t atMs, int windowSeconds, const HealthPolicy &health) const
{
    std::lock_guard lock(m_mutex);
    auto snap = std::make_shared<GraphSnapshot>();
    snap->timeMs = atMs;
    snap->windowSeconds = std::max(1, windowSeconds);
    const int64_t atSecond = atMs / 1000;
    const int64_t fromSecond = atSecond - snap->windowSeconds + 1;
    Accumulator acc(m_items.size());
    int64_t firstSeen = -1;
    for (const Frame &f : m_frames) {
        const int64_t middle = f.second + f.span / 2;
        if (middle < fromSecond)
            continue;
        if (middle > atSecond)
            break;
        if (firstSeen < 0)
            firstSeen = f.second;
        acc.add(f.data);
    }
    if (firstSeen < 0)
        return snap;
    // As the live graph: a window reaching back before the first data divides by the
    // time since, so a fresh start does not read as a slow one.
    const int64_t historyStart = m_frames.front().second;
    const double seconds
        = double(std::clamp<int64_t>(atSecond - std::max(fromSecond, historyStart) + 1, 1, snap->windowSeconds));

    std::unordered_map<uint32_t, std::pair<const HistoryCounts *, const HistoryCounts *>> nodes;  // in, out
    for (const auto &[key, c] : acc.items()) {
        const auto item = uint32_t(key >> 2);
        const auto series = Series(key & 3);
        if (series == Series::Edge) {
            const Item &e = m_items[item];
            EdgeSnapshot es;
            es.id = e.id;
            es.source = m_items[e.source].id;
            es.target = m_items[e.target].id;
            es.direction = e.direction;
            es.protocol = e.protocol;
            es.mtls = e.mtls;
            es.stats = statsOf(c, seconds);
            es.stats.health = health.judge(es.stats);
            snap->edges.push_back(std::move(es));
            nodes.try_emplace(e.source);
            nodes.try_emplace(e.target);
        } else {
            auto &slot = nodes[item];
            (series == Series::NodeIn ? slot.first : slot.second) = &c;
        }
    }
    for (const auto &[index, counts] : nodes) {
        const Item &n = m_items[index];
        NodeSnapshot ns;
        ns.id = n.id;
        ns.name = n.name;
        ns.ns = n.ns;
        ns.version = n.version;
        ns.kind = n.kind;
        // As the live graph: what it served, or for callers that serve nothing what they sent.
        if (const HistoryCounts *c = counts.first ? counts.first : counts.second) {
            ns.stats = statsOf(*c, seconds);
            ns.stats.health = health.judge(ns.stats);
        }
        snap->nodes.push_back(std::move(ns));
    }
    auto byId = [](const auto &a, const auto &b) { return a.id < b.id; };
    std::sort(snap->nodes.begin(), snap->nodes.end(), byId);
    std::sort(snap->edges.begin(), snap->edges.end(), byId);
    return snap;
}

std::vector<SeriesPoint> GraphHistory::totals(int64_t fromSecond, int64_t toSecond, int stepSeconds) const
{
    std::lock_guard lock(m_mutex);
    std::vector<SeriesPoint> out;
    const int step = std::max(1, stepSeconds);
    for (const Frame &f : m_frames) {
        if (f.second + f.span <= fromSecond)
            continue;
        if (f.second > toSecond)
            break;
        const int64_t start = f.second - ((f.second % step) + step) % step;
        if (out.empty() || out.back().second != start) {
            SeriesPoint p;
            p.second = start;
            p.seconds = std::max(step, f.span);
            out.push_back(p);
        }
        out.back().requests += uint32_t(f.requests);
        out.back().errors += uint32_t(f.errors);
    }
    return out;
}

int64_t GraphHistory::firstSecond() const
{
    std::lock_guard lock(m_mutex);
    return m_frames.empty() ? -1 : m_frames.front().second;
}

int64_t GraphHistory::lastSecond() const
{
    std::lock_guard lock(m_mutex);
    return lastSecondLocked();
}

size_t GraphHistory::bytes() const
{
    std::lock_guard lock(m_mutex);
    return m_bytes + m_itemBytes;
}

size_t GraphHistory::frames() const
{
    std::lock_guard lock(m_mutex);
    return m_frames.size();
}

int64_t GraphHistory::lastSecondLocked() const
{
    const size_t closed = m_frames.size() - (m_open ? 1 : 0);
    return closed == 0 ? -1 : m_frames[closed - 1].second + m_frames[closed - 1].span - 1;
}

int GraphHistory::resolutionAt(int64_t second) const
{
    std::lock_guard lock(m_mutex);
    if (m_frames.empty() || second < m_frames.front().second || second > lastSecondLocked())
        return 0;
    // The frame holding it, or the last one before it (a quiet second between frames
    // of that resolution).
    int span = m_frames.front().span;
    for (const Frame &f : m_frames) {
        if (f.second > second)
            break;
        span = f.span;
    }
    return span;
}

}  // namespace meshscope

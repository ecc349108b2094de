#include "traces/tracestore.h"

#include "traces/traceql.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace meshscope {

namespace {

uint64_t mix64(uint64_t x)
{
    // splitmix64's finalizer: ids are dense small integers, bloom bits need them spread.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

constexpr uint32_t kNotFound = UINT32_MAX;

// Interned strings with reference counts, so that values that die with evicted traces
// (request ids, paths with ids in them) give their memory back. Id 0 is the empty
// string and is never counted. Open addressing with linear probing over ids; deletion
// shifts back instead of leaving tombstones, so lookups never slow down with churn.
class StringTable {
public:
    StringTable()
    {
        m_entries.emplace_back();
        m_index.assign(1024, kEmptySlot);
    }

    // Adds a reference to s and returns its id.
    uint32_t intern(std::string_view s)
    {
        if (s.empty())
            return 0;
        const uint32_t h = hashOf(s);
        size_t i = h & mask();
        for (; m_index[i] != kEmptySlot; i = (i + 1) & mask()) {
            Entry &e = m_entries[m_index[i]];
            if (e.hash == h && e.text == s) {
                ++e.refs;
                return m_index[i];
            }
        }
        uint32_t id;
        if (!m_free.empty()) {
            id = m_free.back();
            m_free.pop_back();
        } else {
            id = uint32_t(m_entries.size());
            m_entries.emplace_back();
        }
        Entry &e = m_entries[id];
        e.text.assign(s);
        e.hash = h;
        e.refs = 1;
        m_heapBytes += heapOf(e.text);
        m_index[i] = id;
        if (++m_used * 2 > m_index.size())
            rehash(m_index.size() * 2);
        return id;
    }

    // One more reference to an id already held.
    void addRef(uint32_t id)
    {
        if (id != 0)
            ++m_entries[id].refs;
    }

    void release(uint32_t id)
    {
        if (id == 0 || --m_entries[id].refs != 0)
            return;
        Entry &e = m_entries[id];
        size_t i = e.hash & mask();
        while (m_index[i] != id)
            i = (i + 1) & mask();
        // Backward-shift deletion: move later members of the probe run into the hole.
        for (size_t j = (i + 1) & mask(); m_index[j] != kEmptySlot; j = (j + 1) & mask()) {
            const size_t home = m_entries[m_index[j]].hash & mask();
            const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
            if (movable) {
                m_index[i] = m_index[j];
                i = j;
            }
        }
        m_index[i] = kEmptySlot;
        --m_used;
        m_heapBytes -= heapOf(e.text);
        std::string().swap(e.text);
        m_free.push_back(id);
    }

    // The id of s, or kNotFound; the empty string is 0.
    uint32_t find(std::string_view s) const
    {
        if (s.empty())
            return 0;
        const uint32_t h = hashOf(s);
        for (size_t i = h & mask(); m_index[i] != kEmptySlot; i = (i + 1) & mask()) {
            const Entry &e = m_entries[m_index[i]];
            if (e.hash == h && e.text == s)
                return m_index[i];
        }
        return kNotFound;
    }

    std::string_view text(uint32_t id) const { return m_entries[id].text; }
    size_t size() const { return m_used; }

    uint64_t bytes() const
    {
        return m_entries.capacity() * sizeof(Entry) + m_index.capacity() * sizeof(uint32_t)
            + m_free.capacity() * sizeof(uint32_t) + m_heapBytes;
    }

private:
    struct Entry {
        std::string text;
        uint32_t refs = 0;
        uint32_t hash = 0;
    };
    static constexpr uint32_t kEmptySlot = 0;  // id 0 (the empty string) is never in the index

    static uint32_t hashOf(std::string_view s)
    {
        return uint32_t(std::hash<std::string_view>()(s) * 0x9e3779b97f4a7c15ull >> 32);
    }
    // What a string holds beyond its own object: small strings live inside it.
    static size_t heapOf(const std::string &s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }
    size_t mask() const { return m_index.size() - 1; }

    void rehash(size_t capacity)
    {
        std::vector<uint32_t> index(capacity, kEmptySlot);
        const size_t m = capacity - 1;
        for (uint32_t id : m_index) {
            if (id == kEmptySlot)
                continue;
            size_t i = m_entries[id].hash & m;
            while (index[i] != kEmptySlot)
                i = (i + 1) & m;
            index[i] = id;
        }
        m_index.swap(index);
    }

    std::vector<Entry> m_entries;
    std::vector<uint32_t> m_index;
    std::vector<uint32_t> m_free;
    size_t m_used = 0;
    uint64_t m_heapBytes = 0;
};

// Span ids of one large trace, for duplicate detection without scanning it. Small
// traces are scanned instead: a set for every 10-span trace would cost more than it saves.
class SpanIdSet {
public:
    explicit SpanIdSet(size_t expected) { m_slots.assign(capacityFor(expected), 0); }
    // False when the id was already present.
    bool insert(uint64_t id)
    {
        if (id == 0) {
            const bool fresh = !m_hasZero;
            m_hasZero = true;
            return fresh;
        }
        if ((m_used + 1) * 2 > m_slots.size())
            grow();
        return place(m_slots, id);
    }
    size_t bytes() const { return sizeof(*this) + m_slots.capacity() * sizeof(uint64_t); }

private:
    static size_t capacityFor(size_t n)
    {
        size_t c = 64;
        while (c < n * 2)
            c *= 2;
        return c;
    }
    bool place(std::vector<uint64_t> &slots, uint64_t id)
    {
        const size_t m = slots.size() - 1;
        for (size_t i = mix64(id) & m;; i = (i + 1) & m) {
            if (slots[i] == id)
                return false;
            if (slots[i] == 0) {
                slots[i] = id;
                ++m_used;
                return true;
            }
        }
    }
    void grow()
    {
        std::vector<uint64_t> slots(m_slots.size() * 2, 0);
        m_used = 0;
        for (uint64_t id : m_slots) {
            if (id != 0)
                place(slots, id);
        }
        m_slots.swap(slots);
    }
    std::vector<uint64_t> m_slots;
    size_t m_used = 0;
    bool m_hasZero = false;
};

constexpr uint32_t kResourceBit = 0x80000000u;  // in AttrRef::key: a resource attribute
constexpr size_t kSmallTrace = 32;  // up to this many spans, duplicates are found by scanning

// One attribute: interned key (with kResourceBit) and value.
struct AttrRef {
    uint32_t key;
    uint32_t value;
};

enum SpanBits : uint8_t { kErrorSpan = 1, kDatabaseCall = 2 };

// One stored span: everything of a Span but its attributes, which are a range of the
// trace's AttrRefs, and its strings, which are ids into the StringTable.
struct StoredSpan {
    uint64_t spanId;
    uint64_t parentSpanId;
    uint64_t startNs;
    uint64_t endNs;
    int64_t requestBytes;
    int64_t responseBytes;
    uint32_t service, serviceNamespace, serviceVersion, name;
    uint32_t peer, method, path, authority, statusMessage;
    uint32_t attrBegin;
    uint16_t attrCount;
    int16_t httpStatus;
    int16_t grpcStatus;
    int8_t mtls;
    SpanKind kind;
    SpanStatus status;
    Protocol protocol;
    uint8_t bits;
};

// The per-trace fields search scans, contiguous for all traces so a scan of 100,000
// traces reads a few megabytes and nothing else.
struct TraceHot {
    uint64_t startNs = UINT64_MAX;
    uint64_t endNs = 0;
    uint32_t spanCount = 0;
    uint32_t errorCount = 0;
    uint64_t serviceMask = 0;  // bit per service id (hashed): a fast "has service" test
    std::array<uint64_t, 4> attrBloom {};  // attribute keys and key=value pairs (2 bits each)
    bool live = false;
    bool truncated = false;
};

// The rest of a trace.
struct TraceCold {
    TraceId id {};
    std::vector<StoredSpan> spans;
    std::vector<AttrRef> attrs;
    std::vector<uint32_t> services;  // distinct service ids, in arrival order
    std::unique_ptr<SpanIdSet> spanIds;  // only past kSmallTrace spans
    uint32_t root = kNotFound;  // index in spans
    bool rootHasNoParent = false;
    uint32_t pendingSpans = 0, pendingAttrs = 0;  // of the batch being added, for one reserve
    uint64_t touchedBatch = 0;
    uint64_t accountedBytes = 0;
};

struct TraceIdHash {
    size_t operator()(const TraceId &id) const
    {
        uint64_t a, b;
        std::memcpy(&a, id.data(), 8);
        std::memcpy(&b, id.data() + 8, 8);
        return size_t(mix64(a ^ (b * 0x9e3779b97f4a7c15ull)));
    }
};

uint64_t bitOf(uint64_t x) { return 1ull << (mix64(x) & 63); }

void bloomAdd(std::array<uint64_t, 4> &bloom, uint64_t x)
{
    const uint64_t h = mix64(x);
    bloom[(h >> 6) & 3] |= 1ull << (h & 63);
    bloom[(h >> 14) & 3] |= 1ull << ((h >> 8) & 63);
}

bool bloomHas(const std::array<uint64_t, 4> &bloom, uint64_t x)
{
    const uint64_t h = mix64(x);
    return (bloom[(h >> 6) & 3] >> (h & 63) & 1) && (bloom[(h >> 14) & 3] >> ((h >> 8) & 63) & 1);
}

uint64_t keyItem(uint32_t key) { return uint64_t(key & ~kResourceBit); }
uint64_t pairItem(uint32_t key, uint32_t value)
{
    return (uint64_t(value) << 32 | (key & ~kResourceBit)) ^ (1ull << 63);
}

// An unordered_map node with a cached hash, plus its bucket, plus malloc's header.
constexpr uint64_t kIndexEntryBytes = 64;

}  // namespace

class TraceStore::Impl {
public:
    explicit Impl(TraceStoreLimits limits)
        : m_limits(limits)
        , m_maxQueued(limits.maxQueuedSpans)
    {
    }
    ~Impl()
    {
        {
            std::lock_guard lock(m_queueMutex);
            m_stopping = true;
        }
        m_queueWake.notify_all();
        if (m_worker.joinable())
            m_worker.join();
    }

    // The queue of batches given to queue(), stored by the worker thread or by the
    // first reader that finds it non-empty. Batches are taken out only while m_mutex is
    // held exclusively, so they are stored in the order they were queued.
    void enqueue(std::vector<Span> &&spans);
    void storeQueuedLocked();  // m_mutex held exclusively
    void catchUp()  // before a read: store what is queued
    {
        if (m_queuedSpans.load(std::memory_order_acquire) == 0)
            return;
        std::unique_lock lock(m_mutex);
        storeQueuedLocked();
    }
    void runWorker();

    void add(const std::vector<Span> &spans);
    std::vector<Span> materialize(const TraceCold &t) const;
    TraceSummary summarize(uint32_t slot) const;
    std::vector<TraceSummary> search(const TraceFilter &filter) const;
    void evictOverBudget();
    const uint32_t *slotOf(const TraceId &id) const
    {
        auto it = m_index.find(id);
        return it == m_index.end() ? nullptr : &it->second;
    }

    mutable std::shared_mutex m_mutex;
    TraceStoreLimits m_limits;
    TraceStoreCounters m_counters;
    StringTable m_strings;
    std::vector<TraceHot> m_hot;  // by slot
    std::vector<TraceCold> m_cold;  // by slot
    std::vector<uint32_t> m_freeSlots;
    std::unordered_map<TraceId, uint32_t, TraceIdHash> m_index;
    std::deque<uint32_t> m_arrival;  // slots, oldest first-seen first
    uint64_t m_batch = 0;
    uint64_t m_traceBytes = 0;  // everything but the string table

    std::mutex m_queueMutex;  // taken after m_mutex where both are held
    std::condition_variable m_queueWake;
    std::deque<std::vector<Span>> m_queue;
    // Batches stored, handed back to be freed by the next queue() caller: a span's
    // strings are freed on the thread that allocated them (the decoder's), where malloc
    // is fast, instead of on the store's thread.
    std::vector<std::vector<Span>> m_spent;
    std::atomic<size_t> m_queuedSpans {0};
    std::atomic<size_t> m_maxQueued;  // m_limits.maxQueuedSpans, read without m_mutex
    bool m_stopping = false;
    std::thread m_worker;  // started by the first queue()

private:
    uint32_t slotFor(const TraceId &id);
    uint64_t bytesOf(uint32_t slot) const;
    bool isDuplicate(TraceCold &t, uint64_t spanId);
    void store(uint32_t slot, const Span &s);
    void evict(uint32_t slot);
    // Interns s, reusing the id of the previous span's same field when the text is
    // equal: spans of one batch repeat their service, keys and most values.
    uint32_t internCached(std::string_view s, uint32_t &cached)
    {
        // A freed id reads as the empty string, so a non-empty match proves it live.
        if (s.empty())
            return 0;
        if (cached != kNotFound && m_strings.text(cached) == s) {
            m_strings.addRef(cached);
            return cached;
        }
        cached = m_strings.intern(s);
        return cached;
    }
    struct Cache {
        uint32_t service = kNotFound, ns = kNotFound, version = kNotFound, name = kNotFound, peer = kNotFound,
                 method = kNotFound, path = kNotFound, authority = kNotFound, message = kNotFound;
        std::vector<AttrRef> attrs;  // by position in the previous span
    } m_cache;
};

uint32_t TraceStore::Impl::slotFor(const TraceId &id)
{
    auto [it, inserted] = m_index.try_emplace(id, 0);
    if (!inserted)
        return it->second;
    uint32_t slot;
    if (!m_freeSlots.empty()) {
        slot = m_freeSlots.back();
        m_freeSlots.pop_back();
    } else {
        slot = uint32_t(m_hot.size());
        m_hot.emplace_back();
        m_cold.emplace_back();
    }
    it->second = slot;
    m_hot[slot] = TraceHot {};
    m_hot[slot].live = true;
    m_cold[slot] = TraceCold {};
    m_cold[slot].id = id;
    m_arrival.push_back(slot);
    m_counters.traces++;
    return slot;
}

uint64_t TraceStore::Impl::bytesOf(uint32_t slot) const
{
    const TraceCold &t = m_cold[slot];
    return sizeof(TraceHot) + sizeof(TraceCold) + kIndexEntryBytes + sizeof(uint32_t)  // + its arrival entry
        + t.spans.capacity() * sizeof(StoredSpan) + t.attrs.capacity() * sizeof(AttrRef)
        + t.services.capacity() * sizeof(uint32_t) + (t.spanIds ? t.spanIds->bytes() : 0);
}

bool TraceStore::Impl::isDuplicate(TraceCold &t, uint64_t spanId)
{
    if (t.spanIds)
        return !t.spanIds->insert(spanId);
    for (const StoredSpan &s : t.spans) {
        if (s.spanId == spanId)
            return true;
    }
    if (t.spans.size() + 1 > kSmallTrace) {
        t.spanIds = std::make_unique<SpanIdSet>(t.spans.size() * 2);
        for (const StoredSpan &s : t.spans)
            t.spanIds->insert(s.spanId);
        t.spanIds->insert(spanId);
    }
    return false;
}

void TraceStore::Impl::store(uint32_t slot, const Span &s)
{
    TraceHot &hot = m_hot[slot];
    TraceCold &t = m_cold[slot];
    StoredSpan &o = t.spans.emplace_back();
    o.spanId = s.spanId;
    o.parentSpanId = s.parentSpanId;
    o.startNs = s.startNs;
    o.endNs = s.endNs;
    o.requestBytes = s.requestBytes;
    o.responseBytes = s.responseBytes;
    o.service = internCached(s.service, m_cache.service);
    o.serviceNamespace = internCached(s.serviceNamespace, m_cache.ns);
    o.serviceVersion = internCached(s.serviceVersion, m_cache.version);
    o.name = internCached(s.name, m_cache.name);
    o.peer = internCached(s.peer, m_cache.peer);
    o.method = internCached(s.method, m_cache.method);
    o.path = internCached(s.path, m_cache.path);
    o.authority = internCached(s.authority, m_cache.authority);
    o.statusMessage = internCached(s.statusMessage, m_cache.message);
    o.httpStatus = int16_t(std::clamp(s.httpStatus, -32768, 32767));
    o.grpcStatus = int16_t(std::clamp(s.grpcStatus, -32768, 32767));
    o.mtls = s.mtls;
    o.kind = s.kind;
    o.status = s.status;
    o.protocol = s.protocol;
    const bool error = isErrorSpan(s);
    o.bits = uint8_t((error ? kErrorSpan : 0) | (s.databaseCall ? kDatabaseCall : 0));

    // Attributes past what a record can count are dropped; decoders keep far fewer.
    const size_t n = std::min<size_t>(s.attributes.size(), UINT16_MAX);
    o.attrBegin = uint32_t(t.attrs.size());
    o.attrCount = uint16_t(n);
    if (m_cache.attrs.size() < n)
        m_cache.attrs.resize(n, AttrRef {kNotFound, kNotFound});
    for (size_t i = 0; i < n; ++i) {
        const SpanAttribute &a = s.attributes[i];
        AttrRef &c = m_cache.attrs[i];
        uint32_t cachedKey = c.key == kNotFound ? kNotFound : c.key & ~kResourceBit;
        const uint32_t key = internCached(a.key, cachedKey);
        const uint32_t value = internCached(a.value, c.value);
        c.key = key;
        const AttrRef ref {key | (a.resource ? kResourceBit : 0), value};
        t.attrs.push_back(ref);
        bloomAdd(hot.attrBloom, keyItem(ref.key));
        bloomAdd(hot.attrBloom, pairItem(ref.key, ref.value));
    }

    const uint32_t index = uint32_t(t.spans.size() - 1);
    hot.startNs = std::min(hot.startNs, s.startNs);
    hot.endNs = std::max(hot.endNs, s.endNs);
    hot.spanCount++;
    hot.errorCount += error ? 1 : 0;
    const uint64_t bit = bitOf(o.service);
    if (!(hot.serviceMask & bit) || std::find(t.services.begin(), t.services.end(), o.service) == t.services.end())
        t.services.push_back(o.service);
    hot.serviceMask |= bit;

    // The root: a span without parent (the earliest if several), else the earliest span.
    const bool noParent = s.parentSpanId == 0;
    if (t.root == kNotFound || (noParent && !t.rootHasNoParent)
        || (noParent == t.rootHasNoParent && s.startNs < t.spans[t.root].startNs)) {
        t.root = index;
        t.rootHasNoParent = noParent;
    }
    m_counters.spans++;
}

void TraceStore::Impl::add(const std::vector<Span> &spans)
{
    // Pass 1: find or make each span's trace and count what the batch brings it, so
    // each trace grows once per batch to the size it needs.
    const uint64_t batch = ++m_batch;
    std::vector<uint32_t> slots(spans.size());
    std::vector<uint32_t> touched;
    const TraceId *lastId = nullptr;
    uint32_t lastSlot = 0;
    for (size_t i = 0; i < spans.size(); ++i) {
        const Span &s = spans[i];
        if (!lastId || *lastId != s.traceId) {
            lastSlot = slotFor(s.traceId);
            lastId = &s.traceId;
        }
        slots[i] = lastSlot;
        TraceCold &t = m_cold[lastSlot];
        if (t.touchedBatch != batch) {
            t.touchedBatch = batch;
            t.pendingSpans = t.pendingAttrs = 0;
            touched.push_back(lastSlot);
        }
        t.pendingSpans++;
        t.pendingAttrs += uint32_t(std::min<size_t>(s.attributes.size(), UINT16_MAX));
    }
    for (uint32_t slot : touched) {
        TraceCold &t = m_cold[slot];
        const size_t cap = m_limits.maxSpansPerTrace;
        const size_t wantSpans = std::min(t.spans.size() + t.pendingSpans, std::max(cap, t.spans.size()));
        // Exactly what is needed, but at least half again, so a trace trickling in one
        // span per batch still grows geometrically.
        if (wantSpans > t.spans.capacity())
            t.spans.reserve(std::max(wantSpans, t.spans.capacity() + t.spans.capacity() / 2));
        const size_t wantAttrs = t.attrs.size() + t.pendingAttrs;
        if (wantAttrs > t.attrs.capacity())
            t.attrs.reserve(std::max(wantAttrs, t.attrs.capacity() + t.attrs.capacity() / 2));
    }

    // Pass 2: store.
    for (size_t i = 0; i < spans.size(); ++i) {
        const uint32_t slot = slots[i];
        TraceCold &t = m_cold[slot];
        if (isDuplicate(t, spans[i].spanId)) {
            m_counters.duplicateSpans++;
            continue;
        }
        if (t.spans.size() >= m_limits.maxSpansPerTrace) {
            m_counters.droppedSpansOverCap++;
            if (!m_hot[slot].truncated) {
                m_hot[slot].truncated = true;
                m_counters.truncatedTraces++;
            }
            continue;
        }
        store(slot, spans[i]);
    }

    for (uint32_t slot : touched) {
        TraceCold &t = m_cold[slot];
        const uint64_t now = bytesOf(slot);
        m_traceBytes = m_traceBytes - t.accountedBytes + now;
        t.accountedBytes = now;
    }
    evictOverBudget();
}

void TraceStore::Impl::enqueue(std::vector<Span> &&spans)
{
    const size_t n = spans.size();
    if (n == 0)
        return;
    if (m_queuedSpans.load(std::memory_order_relaxed) + n > m_maxQueued.load(std::memory_order_relaxed)) {
        // The worker is behind: this caller does the storing, the queue first.
        std::unique_lock lock(m_mutex);
        storeQueuedLocked();
        add(spans);
        return;
    }
    std::vector<std::vector<Span>> spent;
    {
        std::lock_guard lock(m_queueMutex);
        if (!m_worker.joinable())
            m_worker = std::thread([this] { runWorker(); });
        m_queue.push_back(std::move(spans));
        m_queuedSpans.fetch_add(n, std::memory_order_release);
        spent.swap(m_spent);
    }
    m_queueWake.notify_one();
    // `spent` goes out of scope here, on the caller's thread, outside the locks.
}

void TraceStore::Impl::storeQueuedLocked()
{
    for (;;) {
        std::deque<std::vector<Span>> batches;
        {
            std::lock_guard lock(m_queueMutex);
            batches.swap(m_queue);
        }
        if (batches.empty())
            return;
        for (const std::vector<Span> &b : batches) {
            add(b);
            m_queuedSpans.fetch_sub(b.size(), std::memory_order_release);
        }
        std::lock_guard lock(m_queueMutex);
        for (std::vector<Span> &b : batches)
            m_spent.push_back(std::move(b));
    }
}

// The store's own thread: stores queued batches as they come.
void TraceStore::Impl::runWorker()
{
    for (;;) {
        {
            std::unique_lock lock(m_queueMutex);
            m_queueWake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping)
                return;
        }
        std::unique_lock lock(m_mutex);
        storeQueuedLocked();
    }
}

void TraceStore::Impl::evict(uint32_t slot)
{
    TraceCold &t = m_cold[slot];
    for (const StoredSpan &s : t.spans) {
        for (uint32_t id : {s.service, s.serviceNamespace, s.serviceVersion, s.name, s.peer, s.method, s.path,
                 s.authority, s.statusMessage})
            m_strings.release(id);
    }
    for (const AttrRef &a : t.attrs) {
        m_strings.release(a.key & ~kResourceBit);
        m_strings.release(a.value);
    }
    m_counters.evictedTraces++;
    m_counters.evictedSpans += t.spans.size();
    m_counters.spans -= t.spans.size();
    m_counters.traces--;
    m_traceBytes -= t.accountedBytes;
    m_index.erase(t.id);
    m_hot[slot] = TraceHot {};
    m_cold[slot] = TraceCold {};
    m_freeSlots.push_back(slot);
}

void TraceStore::Impl::evictOverBudget()
{
    while (!m_arrival.empty() && m_traceBytes + m_strings.bytes() > m_limits.memoryBudgetBytes) {
        const uint32_t slot = m_arrival.front();
        m_arrival.pop_front();
        evict(slot);
    }
    m_counters.bytes = m_traceBytes + m_strings.bytes();
}

std::vector<Span> TraceStore::Impl::materialize(const TraceCold &t) const
{
    std::vector<Span> out(t.spans.size());
    for (size_t i = 0; i < t.spans.size(); ++i) {
        const StoredSpan &s = t.spans[i];
        Span &o = out[i];
        o.traceId = t.id;
        o.spanId = s.spanId;
        o.parentSpanId = s.parentSpanId;
        o.kind = s.kind;
        o.status = s.status;
        o.protocol = s.protocol;
        o.service = m_strings.text(s.service);
        o.serviceNamespace = m_strings.text(s.serviceNamespace);
        o.serviceVersion = m_strings.text(s.serviceVersion);
        o.name = m_strings.text(s.name);
        o.startNs = s.startNs;
        o.endNs = s.endNs;
        o.peer = m_strings.text(s.peer);
        o.method = m_strings.text(s.method);
        o.path = m_strings.text(s.path);
        o.authority = m_strings.text(s.authority);
        o.httpStatus = s.httpStatus;
        o.grpcStatus = s.grpcStatus;
        o.requestBytes = s.requestBytes;
        o.responseBytes = s.responseBytes;
        o.mtls = s.mtls;
        o.databaseCall = s.bits & kDatabaseCall;
        o.statusMessage = m_strings.text(s.statusMessage);
        o.attributes.resize(s.attrCount);
        for (size_t a = 0; a < s.attrCount; ++a) {
            const AttrRef &r = t.attrs[s.attrBegin + a];
            o.attributes[a].key = m_strings.text(r.key & ~kResourceBit);
            o.attributes[a].value = m_strings.text(r.value);
            o.attributes[a].resource = r.key & kResourceBit;
        }
    }
    return out;
}

TraceSummary TraceStore::Impl::summarize(uint32_t slot) const
{
    const TraceHot &hot = m_hot[slot];
    const TraceCold &t = m_cold[slot];
    TraceSummary out;
    out.traceId = t.id;
    if (t.root != kNotFound) {
        out.rootService = m_strings.text(t.spans[t.root].service);
        out.rootOperation = m_strings.text(t.spans[t.root].name);
    }
    out.startNs = hot.spanCount ? hot.startNs : 0;
    out.endNs = hot.endNs;
    out.spanCount = hot.spanCount;
    out.errorCount = hot.errorCount;
    out.truncated = hot.truncated;
    out.services.reserve(t.services.size());
    for (uint32_t id : t.services)
        out.services.emplace_back(m_strings.text(id));
    std::sort(out.services.begin(), out.services.end());
    return out;
}

namespace {

// TraceQL's view of one stored trace; parents are resolved once per trace.
class StoredTraceSpans final : public TraceQlSpans {
public:
    explicit StoredTraceSpans(const StringTable &strings)
        : m_strings(strings)
    {
    }

    void reset(const TraceCold &t)
    {
        m_trace = &t;
        const size_t n = t.spans.size();
        m_byId.resize(n);
        for (size_t i = 0; i < n; ++i)
            m_byId[i] = {t.spans[i].spanId, uint32_t(i)};
        std::sort(m_byId.begin(), m_byId.end());
        m_parents.resize(n);
        for (size_t i = 0; i < n; ++i) {
            const uint64_t parent = t.spans[i].parentSpanId;
            m_parents[i] = -1;
            if (parent == 0)
                continue;
            auto it = std::lower_bound(m_byId.begin(), m_byId.end(), std::pair<uint64_t, uint32_t>(parent, 0));
            if (it != m_byId.end() && it->first == parent && it->second != i)
                m_parents[i] = int32_t(it->second);
        }
    }

    size_t spanCount() const override { return m_trace->spans.size(); }
    int32_t parentOf(size_t i) const override { return m_parents[i]; }
    std::string_view name(size_t i) const override { return m_strings.text(m_trace->spans[i].name); }
    std::string_view service(size_t i) const override { return m_strings.text(m_trace->spans[i].service); }
    SpanKind kind(size_t i) const override { return m_trace->spans[i].kind; }
    SpanStatus status(size_t i) const override
    {
        const StoredSpan &s = m_trace->spans[i];
        return s.bits & kErrorSpan ? SpanStatus::Error : s.status;
    }
    uint64_t durationNs(size_t i) const override
    {
        const StoredSpan &s = m_trace->spans[i];
        return s.endNs > s.startNs ? s.endNs - s.startNs : 0;
    }
    std::optional<std::string_view> attribute(size_t i, std::string_view key, bool resource) const override
    {
        const StoredSpan &s = m_trace->spans[i];
        if (resource && key == "service.name")
            return m_strings.text(s.service);
        // The query asks the same few keys of every span: remember the last lookup.
        if (key != m_lastKey) {
            m_lastKey.assign(key);
            m_lastKeyId = m_strings.find(key);
        }
        if (m_lastKeyId == kNotFound)
            return std::nullopt;
        const uint32_t want = m_lastKeyId | (resource ? kResourceBit : 0);
        for (size_t a = s.attrBegin; a < size_t(s.attrBegin) + s.attrCount; ++a) {
            if (m_trace->attrs[a].key == want)
                return m_strings.text(m_trace->attrs[a].value);
        }
        return std::nullopt;
    }

private:
    const StringTable &m_strings;
    const TraceCold *m_trace = nullptr;
    std::vector<std::pair<uint64_t, uint32_t>> m_byId;
    std::vector<int32_t> m_parents;
    mutable std::string m_lastKey;
    mutable uint32_t m_lastKeyId = kNotFound;
};

}  // namespace

std::vector<TraceSummary> TraceStore::Impl::search(const TraceFilter &filter) const
{
    // Resolve every text of the filter to its string id once; a text the store has
    // never seen cannot match anything.
    struct Wanted {
        uint32_t service = 0, operation = 0;
        std::vector<AttrRef> pairs;
        std::vector<uint32_t> keys;
        std::vector<uint32_t> traceServices, spanNames;  // TraceQL's hints
        uint64_t serviceMask = 0;
    } want;
    auto resolve = [this](const std::string &text, uint32_t &id) {
        id = m_strings.find(text);
        return id != kNotFound;
    };
    if (!resolve(filter.service, want.service) || !resolve(filter.operation, want.operation))
        return {};
    if (want.service)
        want.serviceMask |= bitOf(want.service);
    for (const auto &[key, value] : filter.attributes) {
        AttrRef r;
        if (!resolve(key, r.key) || !resolve(value, r.value) || r.key == 0)
            return {};
        want.pairs.push_back(r);
    }
    for (const std::string &key : filter.attributeKeys) {
        uint32_t id;
        if (!resolve(key, id) || id == 0)
            return {};
        want.keys.push_back(id);
    }
    if (filter.query) {
        for (const std::string &service : filter.query->requiredServices()) {
            uint32_t id;
            if (!resolve(service, id))
                return {};
            want.traceServices.push_back(id);
            want.serviceMask |= bitOf(id);
        }
        for (const std::string &name : filter.query->requiredNames()) {
            uint32_t id;
            if (!resolve(name, id))
                return {};
            want.spanNames.push_back(id);
        }
    }
    const bool spanConditions = filter.hasSpanConditions();

    auto spanMatches = [&](const TraceCold &t, const StoredSpan &s) {
        if (!filter.service.empty() && s.service != want.service)
            return false;
        if (!filter.operation.empty() && s.name != want.operation)
            return false;
        if (filter.errorsOnly && !(s.bits & kErrorSpan))
            return false;
        const AttrRef *begin = t.attrs.data() + s.attrBegin, *end = begin + s.attrCount;
        for (const AttrRef &p : want.pairs) {
            if (std::none_of(begin, end,
                    [&](const AttrRef &a) { return (a.key & ~kResourceBit) == p.key && a.value == p.value; }))
                return false;
        }
        for (uint32_t k : want.keys) {
            if (std::none_of(begin, end, [&](const AttrRef &a) { return (a.key & ~kResourceBit) == k; }))
                return false;
        }
        return true;
    };

    std::vector<std::pair<TraceRank, uint32_t>> found;
    StoredTraceSpans adapter(m_strings);
    for (uint32_t slot = 0; slot < m_hot.size(); ++slot) {
        const TraceHot &hot = m_hot[slot];
        if (!hot.live || hot.spanCount == 0 || !filter.acceptsTrace(hot.startNs, hot.endNs))
            continue;
        if (filter.errorsOnly && hot.errorCount == 0)
            continue;
        if ((hot.serviceMask & want.serviceMask) != want.serviceMask)
            continue;
        bool maybe = true;
        for (const AttrRef &p : want.pairs)
            maybe = maybe && bloomHas(hot.attrBloom, pairItem(p.key, p.value));
        for (uint32_t k : want.keys)
            maybe = maybe && bloomHas(hot.attrBloom, keyItem(k));
        if (!maybe)
            continue;

        const TraceCold &t = m_cold[slot];
        if (spanConditions
            && std::none_of(t.spans.begin(), t.spans.end(), [&](const StoredSpan &s) { return spanMatches(t, s); }))
            continue;
        if (filter.query) {
            bool hinted = true;
            for (uint32_t id : want.traceServices)
                hinted = hinted && std::find(t.services.begin(), t.services.end(), id) != t.services.end();
            for (uint32_t id : want.spanNames) {
                hinted = hinted
                    && std::any_of(t.spans.begin(), t.spans.end(), [id](const StoredSpan &s) { return s.name == id; });
            }
            if (!hinted)
                continue;
            adapter.reset(t);
            if (!filter.query->matches(adapter))
                continue;
        }
        const uint64_t duration = hot.endNs > hot.startNs ? hot.endNs - hot.startNs : 0;
        found.push_back({TraceRank {hot.startNs, duration, hot.spanCount, hot.errorCount, slot}, slot});
    }

    auto before = [&filter](const auto &a, const auto &b) { return ranksBefore(filter.sort, a.first, b.first); };
    const size_t n = filter.limit == 0 ? found.size() : std::min<size_t>(filter.limit, found.size());
    std::partial_sort(found.begin(), found.begin() + ptrdiff_t(n), found.end(), before);
    std::vector<TraceSummary> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i)
        out.push_back(summarize(found[i].second));
    return out;
}

TraceStore::TraceStore(TraceStoreLimits limits)
    : m_impl(std::make_unique<Impl>(limits))
{
    m_impl->m_counters.bytes = m_impl->m_strings.bytes();
}

TraceStore::~TraceStore() = default;

void TraceStore::add(const std::vector<Span> &spans)
{
    // Runs on the ingest thread that decoded the batch; after what was queued before it.
    std::unique_lock lock(m_impl->m_mutex);
    m_impl->storeQueuedLocked();
    m_impl->add(spans);
}

void TraceStore::queue(std::vector<Span> &&spans) { m_impl->enqueue(std::move(spans)); }

std::optional<std::vector<Span>> TraceStore::trace(const TraceId &id) const
{
    m_impl->catchUp();
    std::shared_lock lock(m_impl->m_mutex);
    const uint32_t *slot = m_impl->slotOf(id);
    if (!slot)
        return std::nullopt;
    return m_impl->materialize(m_impl->m_cold[*slot]);
}

bool TraceStore::isTruncated(const TraceId &id) const
{
    m_impl->catchUp();
    std::shared_lock lock(m_impl->m_mutex);
    const uint32_t *slot = m_impl->slotOf(id);
    return slot && m_impl->m_hot[*slot].truncated;
}

std::optional<TraceSummary> TraceStore::summary(const TraceId &id) const
{
    m_impl->catchUp();
    std::shared_lock lock(m_impl->m_mutex);
    const uint32_t *slot = m_impl->slotOf(id);
    if (!slot)
        return std::nullopt;
    return m_impl->summarize(*slot);
}

std::vector<TraceSummary> TraceStore::search(const TraceFilter &filter) const
{
    m_impl->catchUp();
    std::shared_lock lock(m_impl->m_mutex);
    return m_impl->search(filter);
}

TraceStoreCounters TraceStore::counters() const
{
    m_impl->catchUp();
    std::shared_lock lock(m_impl->m_mutex);
    return m_impl->m_counters;
}

TraceStoreLimits TraceStore::limits() const
{
    std::shared_lock lock(m_impl->m_mutex);
    return m_impl->m_limits;
}

void TraceStore::setLimits(TraceStoreLimits limits)
{
    std::unique_lock lock(m_impl->m_mutex);
    m_impl->storeQueuedLocked();
    m_impl->m_limits = limits;
    m_impl->m_maxQueued = limits.maxQueuedSpans;
    m_impl->evictOverBudget();
}

}  // namespace meshscope

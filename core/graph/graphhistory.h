#pragma once
// The live session's past: every node's and edge's traffic second by second, so the
// graph of any moment of the last hour (any window ending then) can be shown again, and
// two moments compared (graph/graphdiff.h). The aggregator hands over each completed
// second; the history keeps it as one compact frame of varint records, only for items
// that had traffic. Bounded by a memory budget: past it the oldest frames are coarsened
// (ten 1 s frames into one 10 s frame, then six of those into a minute), and frames
// older than the span are dropped. Pull sources are not kept here: Prometheus and
// Envoy admin keep their own history. Thread-safe.

#include "graph/graphsnapshot.h"
#include "graph/healthpolicy.h"
#include "graph/windowstats.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace meshscope {

// An item-second's latencies at coarse resolution: 64 buckets growing by 25 % from
// 0.1 ms (the first holds everything below, the last everything from ~100 s on).
// Percentiles are interpolated within their bucket, as Prometheus' histogram_quantile
// does, so they are within the bucket's 25 % and usually much closer.
class CoarseLatency {
public:
    static constexpr int kBuckets = 64;
    static int bucketFor(double ms);
    static double lowerBound(int bucket);  // ms; 0 for the first
    static double upperBound(int bucket);

    void add(double ms, uint32_t count = 1) { m_counts[size_t(bucketFor(ms))] += count; }
    void addToBucket(int bucket, uint32_t count) { m_counts[size_t(bucket)] += count; }
    void merge(const CoarseLatency &other);
    uint64_t count() const;
    double quantile(double q) const;  // 0 when empty
    uint32_t bucket(int i) const { return m_counts[size_t(i)]; }

private:
    std::array<uint32_t, kBuckets> m_counts {};
};

// One item's traffic over one frame.
struct HistoryCounts {
    uint32_t requests = 0;
    uint32_t errors = 0;
    uint32_t errors5xx = 0;
    uint32_t errors4xx = 0;
    uint64_t bytes = 0;
    CoarseLatency latency;

    void merge(const HistoryCounts &other);
};

struct HistoryLimits {
    size_t maxBytes = size_t(448)
        << 20;  // an hour of 5,000 nodes / 20,000 edges, each busy every second, at 1 s for the last ~10 min
    int spanSeconds = kLiveHistorySeconds;
};

class GraphHistory {
public:
    explicit GraphHistory(HistoryLimits limits = {});

    // What an item is, given with each second it appears in (a kind, a protocol or mTLS
    // may change); returns its number for add(). Node ids are the graph's.
    uint32_t node(
        std::string_view id, std::string_view name, std::string_view ns, std::string_view version, NodeKind kind);
    uint32_t edge(std::string_view id, uint32_t sourceNode, uint32_t targetNode, Direction direction, Protocol protocol,
        int8_t mtls);

    // What may change while an item lives, by its number: cheaper than node()/edge().
    void update(uint32_t item, NodeKind kind, Direction direction, Protocol protocol, int8_t mtls);

    enum class Series : uint8_t { Edge, NodeIn, NodeOut };  // what a node served, what it sent
    // Seconds come in increasing order: add() with a second after the open frame's
    // closes it (and enforces the budget); one earlier than that is ignored.
    void add(int64_t second, uint32_t item, Series series, const HistoryCounts &counts);
    // Closes the open frame: what add() of a later second would do.
    void closeFrame();

    // The graph as the live view showed it at atMs over the windowSeconds before (nodes
    // and edges sorted by id, health judged from the numbers alone). Frames coarsened
    // past the budget count whole when their middle is inside the window. Empty outside
    // the history.
    GraphSnapshotPtr snapshotAt(int64_t atMs, int windowSeconds, const HealthPolicy &health = {}) const;

    // What the nodes `which` accepts (by name, namespace, version) served from
    // fromSecond to toSecond (inclusive), together. Reads only their records (a
    // rollout's gate each second, not a whole graph).
    using NodePredicate = std::function<bool(std::string_view name, std::string_view ns, std::string_view version)>;
    HistoryCounts servedBy(const NodePredicate &which, int64_t fromSecond, int64_t toSecond) const;

    // The whole graph's requests and errors (over edges) per step from fromSecond to
    // toSecond (inclusive), for a timeline strip; steps without frames are left out.
    std::vector<SeriesPoint> totals(int64_t fromSecond, int64_t toSecond, int stepSeconds) const;

    int64_t firstSecond() const;  // -1: empty
    int64_t lastSecond() const;  // of the newest closed frame; -1: empty
    // 1, 10 or 60: the resolution kept at `second` (0: not in the history).
    int resolutionAt(int64_t second) const;
    size_t bytes() const;  // frames and what the items are
    size_t frames() const;
    uint64_t coarsenedFrames() const { return m_coarsened; }  // since start
    uint64_t droppedFrames() const { return m_dropped; }
    const HistoryLimits &limits() const { return m_limits; }

private:
    struct Item {
        bool isEdge = false;
        std::string id, name, ns, version;
        NodeKind kind = NodeKind::Service;
        uint32_t source = 0, target = 0;
        Direction direction = Direction::EastWest;
        Protocol protocol = Protocol::Unknown;
        int8_t mtls = -1;
    };
    struct Frame {
        int64_t second = 0;
        int span = 1;
        uint64_t requests = 0;  // over edges, for totals()
        uint64_t errors = 0;
        std::string data;  // records: see graphhistory.cpp
    };
    uint32_t intern(std::string_view id, Item &&item);
    void closeFrameLocked();
    int64_t lastSecondLocked() const;
    void enforceBudget();
    void coarsen(size_t first, size_t count, int span);
    size_t frameBytes(const Frame &f) const;

    const HistoryLimits m_limits;
    mutable std::mutex m_mutex;  // every public method takes it: the GUI reads while ingest writes
    std::vector<Item> m_items;
    std::unordered_map<std::string, uint32_t> m_index;
    size_t m_itemBytes = 0;
    std::deque<Frame> m_frames;  // oldest first; the last may be open
    bool m_open = false;
    size_t m_bytes = 0;
    std::atomic<uint64_t> m_coarsened {0};
    std::atomic<uint64_t> m_dropped {0};
};

}  // namespace meshscope

#pragma once
// Owns the live service graph: turns spans into requests (via SpanPairer), keeps
// per-node and per-edge sliding windows, classifies nodes and edges, bounds the
// number of nodes, and produces immutable GraphSnapshots. Every public method is
// thread-safe: receivers call ingest from gRPC threads, the publisher snapshots
// from its own thread, and views ask for series of the one item they show.

#include "graph/graphhistory.h"
#include "graph/graphsnapshot.h"
#include "graph/healthpolicy.h"
#include "graph/spanpairer.h"
#include "graph/windowstats.h"
#include "model/clock.h"
#include "model/observation.h"
#include "model/requestevent.h"
#include "model/telemetrysink.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace meshscope {

struct AggregatorConfig {
    int windowSeconds = 60;
    int64_t pairingTtlMs = 10000;
    size_t maxNodes = 10000;  // past this, new nodes fold into "other"
    std::vector<std::string> gatewayNames;  // services always shown as gateways
    bool gatewaysByName = true;  // names with a "gateway", "ingress" or "egress" word are gateways
    size_t recentRequestCapacity = 20000;
    HealthPolicy health;  // snapshots carry each item's verdict under it (TrafficStats::health)
    // Keep every completed second of every node and edge (graph/graphhistory.h), so the
    // graph of a past moment can be shown again.
    bool keepHistory = false;
    HistoryLimits history;
};

class GraphAggregator final : public TelemetrySink {
public:
    explicit GraphAggregator(AggregatorConfig config = {}, int64_t startMs = wallNowMs());
    ~GraphAggregator() override;
    GraphAggregator(const GraphAggregator &) = delete;
    GraphAggregator &operator=(const GraphAggregator &) = delete;

    static int64_t wallNowMs() { return meshscope::wallNowMs(); }

    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin = "otlp") override;
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override;
    // Replaces everything the pull source `origin` reported before. Pulled edges are
    // merged into snapshots: an edge also seen live keeps its live numbers and lists
    // both sources; an edge only the pull source knows shows the pulled numbers.
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) override;
    // Bookkeeping reported by receivers and decoders.
    void countExport(
        uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons) override;
    void countMalformed(const std::string &reason) override;
    void countOversized(const std::string &reason) override;

    // Resolves halves whose pairing time-to-live ran out.
    void expire(int64_t nowMs);
    // Resolves every waiting half at once (end of a capture); see SpanPairer::flush.
    void flushPending(int64_t nowMs, SpanPairer::LoneServers lone = SpanPairer::LoneServers::FromOutside);
    // A replay of a recording that starts at startMs: lone server halves its start may
    // have cut from their callers are left out (SpanPairer::setCutBefore).
    void setReplayStart(int64_t startMs);

    GraphSnapshotPtr snapshot(int64_t nowMs);

    // Chart points of a node (what it served, or what it sent when it serves nothing)
    // or an edge over the windowSeconds before nowMs (0: the aggregation window) at
    // stepSeconds (0: chartStep(windowSeconds)); see WindowStats::series. Empty for
    // items only pull sources report.
    std::vector<SeriesPoint> nodeSeries(
        const std::string &nodeId, int64_t nowMs, int windowSeconds = 0, int stepSeconds = 0) const;
    std::vector<SeriesPoint> edgeSeries(
        const std::string &edgeId, int64_t nowMs, int windowSeconds = 0, int stepSeconds = 0) const;
    // The step live charts of windowSeconds are drawn at (windows past kLiveHistorySeconds
    // are cut to it).
    int chartStep(int windowSeconds) const { return WindowStats::stepFor(windowSeconds, m_config.windowSeconds); }
    int64_t startMs() const { return m_startMs; }
    std::vector<std::pair<int, uint64_t>> nodeStatusCodes(const std::string &nodeId) const;
    std::vector<std::pair<int, uint64_t>> edgeStatusCodes(const std::string &edgeId) const;
    // Requests with seq > afterSeq, oldest first, at most max.
    std::vector<RequestEvent> recentRequests(uint64_t afterSeq, size_t max) const;
    // Those recent requests that started within [fromMs, toMs], oldest first, at most
    // the newest `max`; `oldestMs` gets the start of the oldest request held (INT64_MAX
    // when none is), so a caller can say how far back the buffer reaches.
    std::vector<RequestEvent> requestsBetween(int64_t fromMs, int64_t toMs, size_t max, int64_t *oldestMs) const;

    const AggregatorConfig &config() const { return m_config; }
    // The seconds kept so far (null unless config.keepHistory); thread-safe on its own,
    // so reading the past never holds up ingest for long.
    const GraphHistory *history() const { return m_history.get(); }
    // Hands the history every second up to nowMs's, the last two included (which
    // snapshot() leaves for late arrivals): for a replay that has reached its end.
    void closeHistory(int64_t nowMs);

private:
    struct Node;
    struct Edge;
    Node *serviceNode(const Span &s);
    Node *nodeFor(NodeKind kind, const std::string &ns, const std::string &name, const std::string &version);
    Node *peerNode(const Span &client);
    Node *nodeForRef(const NodeRef &ref);
    void recordEvent(Node *src, Node *dst, RequestEvent &&ev, int64_t nowMs, unsigned originBit);
    void mergePulled(GraphSnapshot &snap) const;
    Edge *edgeFor(Node *src, Node *dst);
    void record(PairedRequest &&r, int64_t nowMs, unsigned originBit);
    void recordAll(std::vector<PairedRequest> &pairs, int64_t nowMs, unsigned originBit);
    NodeKind effectiveKind(const Node &n) const;
    void prune(int64_t nowSecond);
    void captureHistory(int64_t nowSecond, int64_t lastSecond);
    Direction directionOf(const Edge &e) const;
    TrafficStats statsOf(const WindowStats &w, double elapsedSeconds) const;
    void judgeHealth(GraphSnapshot &snap, int64_t nowMs);
    std::vector<SeriesPoint> seriesOf(const WindowStats &w, int64_t nowMs, int windowSeconds, int stepSeconds) const;

    const AggregatorConfig m_config;
    const int64_t m_startMs;
    mutable std::mutex m_mutex;
    SpanPairer m_pairer;
    std::unordered_map<std::string, std::unique_ptr<Node>> m_nodes;
    std::unordered_map<std::string, std::vector<Node *>> m_servicesByName;
    std::unordered_map<std::string, std::unique_ptr<Edge>> m_edges;
    std::unordered_set<std::string> m_foldedNames;
    uint64_t m_foldedTotal = 0;
    size_t m_ordinaryNodes = 0;
    Node *m_external = nullptr;
    Node *m_other = nullptr;
    std::deque<RequestEvent> m_recent;
    uint64_t m_nextSeq = 1;
    IngestCounters m_counters;
    uint64_t m_generation = 0;
    int64_t m_lastPruneSecond = 0;
    std::unique_ptr<GraphHistory> m_history;
    int64_t m_historyNext = -1;  // the next second to hand to m_history
    std::string m_keyBuffer;
    std::vector<PairedRequest> m_scratch;
    std::map<std::string, std::vector<PulledEdge>> m_pulled;
    // Health memory of what only pull sources report (live items keep theirs inside),
    // with the judging round that last saw each.
    struct PulledHealth {
        HealthState state;
        uint64_t round = 0;
    };
    std::unordered_map<std::string, PulledHealth> m_pulledHealth;
    uint64_t m_healthRound = 0;
};

}  // namespace meshscope

#pragma once
// Sliding-window traffic statistics of one node or edge: one bucket per second in a
// ring, plus running window totals that are updated as requests arrive and as
// buckets age out, so a snapshot never has to re-add the whole window. Beside the
// ring, a coarser chart history reaches back an hour (see series()).

#include "graph/latencyhistogram.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace meshscope {

struct WindowTotals {
    uint64_t requests = 0;
    uint64_t errors = 0;  // 5xx, gRPC non-OK, span status ERROR
    uint64_t errors5xx = 0;
    uint64_t errors4xx = 0;
    uint64_t bytes = 0;
};

// One chart step.
struct SeriesPoint {
    int64_t second = 0;  // unix seconds: where the step starts
    int seconds = 1;  // how much time the counts cover: the step, less where watching began inside it
    uint32_t requests = 0;
    uint32_t errors = 0;
    uint32_t errors5xx = 0;
    uint32_t errors4xx = 0;
    double p50 = 0, p95 = 0, p99 = 0;  // 0 without requests
};

// Chart windows and their steps. Any window gets a step from 1, 5, 15, 30 s, 1, 2, 5,
// 10, 15, 30 min, 1, 2, 3, 6, 12 h, 1 d: the smallest that draws at most 120 points
// (1 min -> 1 s, 5 min -> 5 s, 15 min -> 15 s, 1 h -> 30 s, 6 h -> 5 min, 24 h -> 15 min).
int chartStepSeconds(int windowSeconds);
// How far back live history reaches (pull sources such as Prometheus keep their own).
inline constexpr int kLiveHistorySeconds = 3600;

// Series of several items at the same window and step taken together (a service's
// versions, a folded namespace's nodes): per step, counts add and each percentile is
// the slowest part's, as sumTrafficStats does for totals. Ordered by time.
std::vector<SeriesPoint> sumSeries(const std::vector<std::vector<SeriesPoint>> &parts);
// Status-code counts of several items added per code, ordered by code.
std::vector<std::pair<int, uint64_t>> sumStatusCodes(const std::vector<std::vector<std::pair<int, uint64_t>>> &parts);

class WindowStats {
public:
    explicit WindowStats(int windowSeconds = 60);

    // status: HTTP code or -1; grpcStatus: gRPC code or -1.
    void record(int64_t second, double durationMs, bool error, int httpStatus, int grpcStatus, int64_t bytes);
    // Drops buckets that left the window ending at nowSecond (inclusive), after
    // adding the steps that completed to the chart history.
    void advance(int64_t nowSecond);

    const WindowTotals &totals() const { return m_totals; }
    // One second still in the ring: its counts and latencies; false when it had no
    // requests (or has left the ring).
    bool secondAt(int64_t second, WindowTotals &totals, const LatencyHistogram *&latency) const;
    const LatencyHistogram &histogram() const { return m_hist; }
    bool idle() const { return m_totals.requests == 0; }
    int64_t lastSecond() const { return m_lastSecond; }
    int64_t firstSecond() const { return m_firstSecond; }  // of the first request recorded; -1: none

    // The step to chart `windowSeconds` at: chartStepSeconds, or the next coarser step
    // whose history reaches that far back (the per-second ring reaches ringSeconds).
    static int stepFor(int windowSeconds, int ringSeconds);
    // Chart points: the completed steps of stepSeconds (1, or a history step: 5, 15, 30)
    // that lie within the windowSeconds before nowSecond, oldest first, starting with
    // the step of the first request recorded: time before data has no points, so
    // nothing reads as "0 req/s" for a time nobody watched. Steps that began before
    // observedFromSecond (when watching began) cover only the time since.
    std::vector<SeriesPoint> series(
        int64_t nowSecond, int windowSeconds, int stepSeconds, int64_t observedFromSecond = 0) const;
    // Counts per status code in the window: HTTP codes as-is, gRPC codes as 1000 + code.
    std::vector<std::pair<int, uint64_t>> statusCodes() const;

private:
    struct Bucket {
        int64_t second = -1;
        uint32_t requests = 0, errors = 0, errors5xx = 0, errors4xx = 0;
        uint64_t bytes = 0;
        LatencyHistogram hist;
        std::vector<std::pair<int, uint32_t>> codes;
    };
    // A completed chart step, kept only when it had requests: 40 bytes.
    struct Step {
        int64_t second = 0;
        uint32_t requests = 0, errors = 0, errors5xx = 0, errors4xx = 0;
        float p50 = 0, p95 = 0, p99 = 0;
    };
    // The chart history at one step: steps are built from the per-second ring once
    // they are complete and dropped once older than `span`.
    struct History {
        int step = 0;
        int span = 0;
        int64_t next = -1;  // start of the next step to build
        std::vector<Step> steps;  // oldest first
    };
    void retire(Bucket &b);
    void buildSteps(int64_t nowSecond);
    void buildStep(History &h, int64_t start);
    const History *historyFor(int stepSeconds) const;

    int m_window;
    std::vector<Bucket> m_ring;
    WindowTotals m_totals;
    LatencyHistogram m_hist;
    int64_t m_lastSecond = -1;
    int64_t m_firstSecond = -1;
    std::vector<History> m_history;
};

}  // namespace meshscope

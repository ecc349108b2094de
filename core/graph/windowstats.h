#pragma once
// Sliding-window traffic statistics of one node or edge: one bucket per second in a
// ring, plus running window totals that are updated as requests arrive and as
// buckets age out, so a snapshot never has to re-add the whole window.

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

struct SeriesPoint {
    int64_t second = 0;  // unix seconds
    uint32_t requests = 0;
    uint32_t errors = 0;
    uint32_t errors5xx = 0;
    uint32_t errors4xx = 0;
    double p50 = 0, p95 = 0, p99 = 0;
};

class WindowStats {
public:
    explicit WindowStats(int windowSeconds = 60);

    // status: HTTP code or -1; grpcStatus: gRPC code or -1.
    void record(int64_t second, double durationMs, bool error, int httpStatus, int grpcStatus, int64_t bytes);
    // Drops buckets that left the window ending at nowSecond (inclusive).
    void advance(int64_t nowSecond);

    const WindowTotals &totals() const { return m_totals; }
    const LatencyHistogram &histogram() const { return m_hist; }
    bool idle() const { return m_totals.requests == 0; }
    int64_t lastSecond() const { return m_lastSecond; }

    std::vector<SeriesPoint> series(int64_t nowSecond) const;
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
    void retire(Bucket &b);

    int m_window;
    std::vector<Bucket> m_ring;
    WindowTotals m_totals;
    LatencyHistogram m_hist;
    int64_t m_lastSecond = -1;
};

}  // namespace meshscope

#include "graph/windowstats.h"

#include <algorithm>
#include <map>

namespace meshscope {

WindowStats::WindowStats(int windowSeconds)
    : m_window(std::max(1, windowSeconds))
    , m_ring(size_t(m_window))
{
}

void WindowStats::retire(Bucket &b)
{
    if (b.second < 0)
        return;
    m_totals.requests -= b.requests;
    m_totals.errors -= b.errors;
    m_totals.errors5xx -= b.errors5xx;
    m_totals.errors4xx -= b.errors4xx;
    m_totals.bytes -= b.bytes;
    m_hist.subtract(b.hist);
    b = Bucket {};
}

void WindowStats::record(int64_t second, double durationMs, bool error, int httpStatus, int grpcStatus, int64_t bytes)
{
    if (second < 0 || (m_lastSecond >= 0 && second <= m_lastSecond - m_window))
        return;  // older than the window: nothing left to count it in
    Bucket &b = m_ring[size_t(second % m_window)];
    if (b.second != second) {
        if (b.second > second)
            return;
        retire(b);
        b.second = second;
    }
    m_lastSecond = std::max(m_lastSecond, second);

    const bool is5xx = httpStatus >= 500 && httpStatus <= 599;
    const bool is4xx = httpStatus >= 400 && httpStatus <= 499;
    b.requests++;
    m_totals.requests++;
    if (error) {
        b.errors++;
        m_totals.errors++;
    }
    if (is5xx) {
        b.errors5xx++;
        m_totals.errors5xx++;
    }
    if (is4xx) {
        b.errors4xx++;
        m_totals.errors4xx++;
    }
    if (bytes > 0) {
        b.bytes += uint64_t(bytes);
        m_totals.bytes += uint64_t(bytes);
    }
    b.hist.add(durationMs);
    m_hist.add(durationMs);

    const int code = grpcStatus >= 0 ? 1000 + grpcStatus : httpStatus;
    if (code >= 0) {
        auto it = std::find_if(b.codes.begin(), b.codes.end(), [code](const auto &p) { return p.first == code; });
        if (it == b.codes.end())
            b.codes.emplace_back(code, 1);
        else
            it->second++;
    }
}

void WindowStats::advance(int64_t nowSecond)
{
    if (m_lastSecond < 0)
        return;
    const int64_t oldestKept = nowSecond - m_window + 1;
    for (Bucket &b : m_ring) {
        if (b.second >= 0 && b.second < oldestKept)
            retire(b);
    }
}

std::vector<SeriesPoint> WindowStats::series(int64_t nowSecond) const
{
    std::vector<SeriesPoint> out;
    out.reserve(size_t(m_window));
    for (int64_t s = nowSecond - m_window + 1; s <= nowSecond; ++s) {
        SeriesPoint p;
        p.second = s;
        const Bucket &b = m_ring[size_t(((s % m_window) + m_window) % m_window)];
        if (b.second == s) {
            p.requests = b.requests;
            p.errors = b.errors;
            p.errors5xx = b.errors5xx;
            p.errors4xx = b.errors4xx;
            p.p50 = b.hist.quantile(0.50);
            p.p95 = b.hist.quantile(0.95);
            p.p99 = b.hist.quantile(0.99);
        }
        out.push_back(p);
    }
    return out;
}

std::vector<std::pair<int, uint64_t>> WindowStats::statusCodes() const
{
    std::map<int, uint64_t> merged;
    for (const Bucket &b : m_ring) {
        if (b.second < 0)
            continue;
        for (const auto &[code, n] : b.codes)
            merged[code] += n;
    }
    return {merged.begin(), merged.end()};
}

}  // namespace meshscope

#include "graph/latencyhistogram.h"

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {
constexpr double kGamma = (1.0 + LatencyHistogram::kRelativeAccuracy) / (1.0 - LatencyHistogram::kRelativeAccuracy);
const double kInvLogGamma = 1.0 / std::log(kGamma);
constexpr double kMinValueMs = 0.001;  // 1 microsecond; anything faster shares the first bucket
constexpr int kMaxIndex = 2000;  // about 1e17 ms: absurd durations are clamped, not stored
}  // namespace

int LatencyHistogram::indexFor(double valueMs)
{
    if (!(valueMs > kMinValueMs))  // also catches NaN
        return 0;
    const int idx = int(std::ceil(std::log(valueMs / kMinValueMs) * kInvLogGamma));
    return std::clamp(idx, 0, kMaxIndex);
}

double LatencyHistogram::valueFor(int index)
{
    // Midpoint (in relative terms) of (gamma^(i-1), gamma^i]: within a of both ends.
    return kMinValueMs * 2.0 * std::pow(kGamma, index) / (kGamma + 1.0);
}

void LatencyHistogram::ensureRange(int lo, int hi)
{
    if (m_counts.empty()) {
        m_offset = lo;
        m_counts.assign(size_t(hi - lo + 1), 0);
        return;
    }
    const int curHi = m_offset + int(m_counts.size()) - 1;
    if (lo < m_offset) {
        m_counts.insert(m_counts.begin(), size_t(m_offset - lo), 0);
        m_offset = lo;
    }
    if (hi > curHi)
        m_counts.resize(m_counts.size() + size_t(hi - curHi), 0);
}

void LatencyHistogram::add(double valueMs, uint32_t count)
{
    const int idx = indexFor(valueMs);
    ensureRange(idx, idx);
    m_counts[size_t(idx - m_offset)] += count;
    m_total += count;
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    if (other.m_counts.empty())
        return;
    ensureRange(other.m_offset, other.m_offset + int(other.m_counts.size()) - 1);
    const size_t shift = size_t(other.m_offset - m_offset);
    for (size_t i = 0; i < other.m_counts.size(); ++i)
        m_counts[shift + i] += other.m_counts[i];
    m_total += other.m_total;
}

void LatencyHistogram::subtract(const LatencyHistogram &other)
{
    if (other.m_counts.empty() || m_counts.empty())
        return;
    for (size_t i = 0; i < other.m_counts.size(); ++i) {
        const int idx = other.m_offset + int(i);
        const int local = idx - m_offset;
        if (local < 0 || local >= int(m_counts.size()))
            continue;
        const uint32_t take = std::min(m_counts[size_t(local)], other.m_counts[i]);
        m_counts[size_t(local)] -= take;
        m_total -= take;
    }
    if (m_total == 0) {
        clear();
        return;
    }
    // Trim empty buckets at both ends so the dense range tracks recent latencies.
    size_t first = 0;
    while (first < m_counts.size() && m_counts[first] == 0)
        ++first;
    size_t last = m_counts.size();
    while (last > first && m_counts[last - 1] == 0)
        --last;
    if (first > 0 || last < m_counts.size()) {
        m_counts = std::vector<uint32_t>(m_counts.begin() + long(first), m_counts.begin() + long(last));
        m_offset += int(first);
    }
}

void LatencyHistogram::clear()
{
    m_counts.clear();
    m_offset = 0;
    m_total = 0;
}

double LatencyHistogram::quantile(double q) const
{
    if (m_total == 0)
        return 0.0;
    q = std::clamp(q, 0.0, 1.0);
    uint64_t rank = uint64_t(std::ceil(q * double(m_total)));
    rank = std::clamp<uint64_t>(rank, 1, m_total);
    uint64_t seen = 0;
    for (size_t i = 0; i < m_counts.size(); ++i) {
        seen += m_counts[i];
        if (seen >= rank)
            return valueFor(m_offset + int(i));
    }
    return valueFor(m_offset + int(m_counts.size()) - 1);
}

}  // namespace meshscope

#pragma once
// Log-bucketed latency histogram (DDSketch-style) with a bounded relative error.
// Buckets grow by gamma = (1+a)/(1-a) with a = 1 %, so any quantile it reports is
// within 1 % of a value in the same bucket; counts are kept in one dense range of
// bucket indexes, which stays small because one edge's latencies span few decades.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace meshscope {

class LatencyHistogram {
public:
    static constexpr double kRelativeAccuracy = 0.01;

    void add(double valueMs, uint32_t count = 1);
    void merge(const LatencyHistogram &other);
    void subtract(const LatencyHistogram &other);
    void clear();

    uint64_t count() const { return m_total; }
    bool empty() const { return m_total == 0; }
    // Value at rank ceil(q * count) (1-based) of the sorted samples, approximated.
    double quantile(double q) const;

    static int indexFor(double valueMs);
    static double valueFor(int index);

    // f(valueMs, count) for every bucket holding samples, smallest first.
    template <typename F>
    void forEachBucket(F &&f) const
    {
        for (size_t i = 0; i < m_counts.size(); ++i) {
            if (m_counts[i] != 0)
                f(valueFor(m_offset + int(i)), m_counts[i]);
        }
    }

private:
    void ensureRange(int lo, int hi);

    int m_offset = 0;  // bucket index of m_counts[0]
    std::vector<uint32_t> m_counts;
    uint64_t m_total = 0;
};

}  // namespace meshscope

#include "graph/windowstats.h"

#include <algorithm>
#include <iterator>
#include <map>

namespace meshscope {

namespace {

// The chart history past the per-second ring: one per step a chart window up to an
// hour is drawn at (chartStepSeconds), each reaching back that window.
//
// Memory is bounded: a kept step is 40 bytes, and a history keeps at most span/step + 1
// of them, only for steps that had requests: 61 + 61 + 121 = 243 steps, under 10 KB per
// WindowStats (vector capacity included) after an hour of steady traffic, against the
// ring's 60 buckets that carry a latency histogram each (about 1-2 KB apiece for
// latencies spanning two decades). The aggregator keeps one WindowStats per edge and two
// per node, and drops them with the item once its window is empty: 1,000 busy services
// with 3,000 edges hold at most 5,000 x 10 KB = 50 MB of history.
struct HistorySpec {
    int step;
    int span;
};
constexpr HistorySpec kHistory[] = {{5, 300}, {15, 900}, {30, kLiveHistorySeconds}};

// A step is built once this many seconds have passed after its end: requests are
// counted in the second they arrive, and a batch stamped just before a second ended
// may take the lock just after.
constexpr int kLateSeconds = 1;

int64_t floorTo(int64_t second, int step) { return second - (((second % step) + step) % step); }

int64_t ceilTo(int64_t second, int step) { return floorTo(second + step - 1, step); }

}  // namespace

std::vector<SeriesPoint> sumSeries(const std::vector<std::vector<SeriesPoint>> &parts)
{
    std::map<int64_t, SeriesPoint> bySecond;
    for (const std::vector<SeriesPoint> &part : parts) {
        for (const SeriesPoint &p : part) {
            auto [it, fresh] = bySecond.try_emplace(p.second, p);
            if (fresh)
                continue;
            SeriesPoint &sum = it->second;
            sum.seconds = std::max(sum.seconds, p.seconds);
            sum.requests += p.requests;
            sum.errors += p.errors;
            sum.errors5xx += p.errors5xx;
            sum.errors4xx += p.errors4xx;
            sum.p50 = std::max(sum.p50, p.p50);
            sum.p95 = std::max(sum.p95, p.p95);
            sum.p99 = std::max(sum.p99, p.p99);
        }
    }
    std::vector<SeriesPoint> out;
    out.reserve(bySecond.size());
    for (const auto &[second, p] : bySecond)
        out.push_back(p);
    return out;
}

std::vector<std::pair<int, uint64_t>> sumStatusCodes(const std::vector<std::vector<std::pair<int, uint64_t>>> &parts)
{
    std::map<int, uint64_t> byCode;
    for (const auto &part : parts) {
        for (const auto &[code, count] : part)
            byCode[code] += count;
    }
    return {byCode.begin(), byCode.end()};
}

int chartStepSeconds(int windowSeconds)
{
    static constexpr int kSteps[]
        = {1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
    constexpr int kMaxPoints = 120;
    for (int step : kSteps) {
        if (int64_t(step) * kMaxPoints >= int64_t(windowSeconds))
            return step;
    }
    return kSteps[std::size(kSteps) - 1];
}

WindowStats::WindowStats(int windowSeconds)
    : m_window(std::max(1, windowSeconds))
    , m_ring(size_t(m_window))
{
    for (const HistorySpec &h : kHistory) {
        // Steps are built from the ring, which has to still hold a step when it is due.
        if (h.step + kLateSeconds <= m_window)
            m_history.push_back(History {h.step, h.span, -1, {}});
    }
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
    if (second > m_lastSecond && m_lastSecond >= 0)
        buildSteps(second);  // before this second takes the ring slot of an older one
    if (m_firstSecond < 0 || second < m_firstSecond)
        m_firstSecond = second;
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

bool WindowStats::secondAt(int64_t second, WindowTotals &totals, const LatencyHistogram *&latency) const
{
    if (second < 0)
        return false;
    const Bucket &b = m_ring[size_t(second % m_window)];
    if (b.second != second || b.requests == 0)
        return false;
    totals.requests = b.requests;
    totals.errors = b.errors;
    totals.errors5xx = b.errors5xx;
    totals.errors4xx = b.errors4xx;
    totals.bytes = b.bytes;
    latency = &b.hist;
    return true;
}

void WindowStats::advance(int64_t nowSecond)
{
    if (m_lastSecond < 0)
        return;
    buildSteps(nowSecond);
    const int64_t oldestKept = nowSecond - m_window + 1;
    for (Bucket &b : m_ring) {
        if (b.second >= 0 && b.second < oldestKept)
            retire(b);
    }
}

void WindowStats::buildSteps(int64_t nowSecond)
{
    if (m_firstSecond < 0)
        return;
    for (History &h : m_history) {
        if (h.next < 0)
            h.next = floorTo(m_firstSecond, h.step);
        // Seconds older than the ring holds had nothing (steps are built before their
        // seconds leave it), so skip their steps at once after a quiet spell.
        h.next = std::max(h.next, floorTo(m_lastSecond - m_window + 1, h.step));
        const int64_t lastDue = nowSecond - kLateSeconds - h.step;  // start of the latest complete step
        for (; h.next <= lastDue; h.next += h.step) {
            if (h.next > m_lastSecond) {
                h.next = floorTo(lastDue, h.step) + h.step;  // nothing recorded since
                break;
            }
            buildStep(h, h.next);
        }
        const int64_t oldest = nowSecond - h.span - h.step;
        auto keep
            = std::find_if(h.steps.begin(), h.steps.end(), [oldest](const Step &st) { return st.second >= oldest; });
        h.steps.erase(h.steps.begin(), keep);
    }
}

void WindowStats::buildStep(History &h, int64_t start)
{
    Step st;
    st.second = start;
    LatencyHistogram merged;
    for (int64_t s = start; s < start + h.step; ++s) {
        const Bucket &b = m_ring[size_t(((s % m_window) + m_window) % m_window)];
        if (b.second != s || b.requests == 0)
            continue;
        st.requests += b.requests;
        st.errors += b.errors;
        st.errors5xx += b.errors5xx;
        st.errors4xx += b.errors4xx;
        merged.merge(b.hist);
    }
    if (st.requests == 0)
        return;
    st.p50 = float(merged.quantile(0.50));
    st.p95 = float(merged.quantile(0.95));
    st.p99 = float(merged.quantile(0.99));
    h.steps.push_back(st);
}

const WindowStats::History *WindowStats::historyFor(int stepSeconds) const
{
    auto it = std::find_if(
        m_history.begin(), m_history.end(), [stepSeconds](const History &h) { return h.step == stepSeconds; });
    return it == m_history.end() ? nullptr : &*it;
}

int WindowStats::stepFor(int windowSeconds, int ringSeconds)
{
    const int want = chartStepSeconds(windowSeconds);
    const int reach = std::min(windowSeconds, kLiveHistorySeconds);
    if (want <= 1 && reach <= ringSeconds)
        return 1;
    int coarsest = 1;
    for (const HistorySpec &h : kHistory) {
        if (h.step + kLateSeconds > ringSeconds)
            continue;  // not kept with so short a ring
        coarsest = h.step;
        if (h.step >= want && h.span >= reach)
            return h.step;
    }
    return coarsest;
}

std::vector<SeriesPoint> WindowStats::series(
    int64_t nowSecond, int windowSeconds, int stepSeconds, int64_t observedFromSecond) const
{
    std::vector<SeriesPoint> out;
    if (m_firstSecond < 0 || windowSeconds <= 0)
        return out;
    if (stepSeconds <= 1) {
        // Straight from the ring; the current second is still filling and stays out.
        const int64_t from = std::max(m_firstSecond, nowSecond - std::min(windowSeconds, m_window - 1));
        for (int64_t s = from; s < nowSecond; ++s) {
            SeriesPoint p;
            p.second = s;
            const Bucket &b = m_ring[size_t(((s % m_window) + m_window) % m_window)];
            if (b.second == s && b.requests > 0) {
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
    const History *h = historyFor(stepSeconds);
    if (!h || h->next < 0)
        return out;
    const int step = h->step;
    const int64_t from = std::max(floorTo(m_firstSecond, step), ceilTo(nowSecond - windowSeconds, step));
    const int64_t to = std::min(h->next - step, floorTo(nowSecond, step) - step);  // last complete, built step
    auto kept = std::lower_bound(
        h->steps.begin(), h->steps.end(), from, [](const Step &st, int64_t second) { return st.second < second; });
    for (int64_t s = from; s <= to; s += step) {
        SeriesPoint p;
        p.second = s;
        p.seconds = int(std::max<int64_t>(1, step - std::max<int64_t>(0, observedFromSecond - s)));
        if (kept != h->steps.end() && kept->second == s) {
            p.requests = kept->requests;
            p.errors = kept->errors;
            p.errors5xx = kept->errors5xx;
            p.errors4xx = kept->errors4xx;
            p.p50 = kept->p50;
            p.p95 = kept->p95;
            p.p99 = kept->p99;
            ++kept;
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

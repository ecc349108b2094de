#pragma once
// Sends the demo's spans to an OTLP/gRPC receiver the way instrumented services do:
// a span is exported only once it has ended, each service keeps its own batch that is
// flushed on its own timer (or when full), and exports run asynchronously with a
// deadline, so the halves of one request arrive in different calls and out of order.
// Failed exports are counted and dropped, not retried: the data is synthetic, and
// fresh spans matter more than stale ones once the receiver is back.

#include "demoscenario.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace grpc {
class Channel;
}

namespace meshscope::demo {

struct SenderOptions {
    std::string target;
    std::chrono::milliseconds exportDeadline {3000};
    size_t maxBatchSpans = 512;  // a service's batch is exported early when this full
    size_t maxRequestSpans = 2048;  // batches flushed together share an Export up to this
    size_t maxInFlight = 128;  // beyond this, batches are dropped, as SDK queues do
    std::chrono::milliseconds minFlushInterval {200};
    std::chrono::milliseconds maxFlushInterval {800};
    std::chrono::seconds noteInterval {5};
};

struct SenderStats {
    uint64_t spansSent = 0;  // in exports the receiver accepted
    uint64_t exports = 0;  // accepted Export calls
    uint64_t failedExports = 0;
    uint64_t spansFailed = 0;  // in failed exports
    uint64_t spansDropped = 0;  // never sent: too many exports in flight
    uint64_t spansRejected = 0;  // the receiver's partial_success.rejected_spans
};

class DemoSender {
public:
    DemoSender(const DemoScenario &scenario, SenderOptions options, uint64_t seed, uint64_t nowNs);
    ~DemoSender();
    DemoSender(const DemoSender &) = delete;
    DemoSender &operator=(const DemoSender &) = delete;

    // Takes the spans of new requests; each waits until its end time has passed.
    void add(std::vector<DemoSpan> &spans);
    // Buffers the spans that have ended by nowNs and exports the batches that are due.
    // Returns when it next has something to do.
    uint64_t poll(uint64_t nowNs);
    size_t pendingSpans() const { return m_pending.size(); }
    // Exports everything held, even spans that have not ended yet, and waits up to
    // wait for the exports in flight; the rest are cancelled.
    void finish(uint64_t nowNs, std::chrono::milliseconds wait);

    SenderStats stats() const;

private:
    struct Batch;
    struct Call;

    void takeEnded(uint64_t nowNs);
    void exportDue(uint64_t nowNs, bool everything);
    void startExport(std::unique_ptr<Call> call);
    void finished(Call *call, bool ok, const std::string &reason, int64_t rejected);
    void note(const std::string &line, bool force);

    const DemoScenario &m_scenario;
    SenderOptions m_options;
    std::shared_ptr<grpc::Channel> m_channel;
    class StubHolder;
    std::unique_ptr<StubHolder> m_stub;
    std::mt19937_64 m_rng;  // flush timing only, so it does not disturb the scenario's
    std::vector<Batch> m_batches;  // one per service
    // Spans that have not ended yet: a heap of (end, slot), earliest end first, so
    // the heap moves small pairs rather than whole spans.
    std::vector<std::pair<uint64_t, uint32_t>> m_pending;
    std::vector<DemoSpan> m_slots;
    std::vector<uint32_t> m_freeSlots;

    mutable std::mutex m_mutex;  // guards what gRPC's callback threads touch
    std::condition_variable m_idle;
    std::unordered_set<Call *> m_inFlight;
    SenderStats m_stats;
    std::chrono::steady_clock::time_point m_lastNote {};
    bool m_failing = false;
};

}  // namespace meshscope::demo

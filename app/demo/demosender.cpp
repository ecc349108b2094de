#include "demosender.h"

#include "demootlp.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>

namespace meshscope::demo {

namespace otlp = opentelemetry::proto;
using otlp::collector::trace::v1::ExportTraceServiceRequest;
using otlp::collector::trace::v1::ExportTraceServiceResponse;
using otlp::collector::trace::v1::TraceService;

namespace {

// Earliest end on top of the heap.
bool endsLater(const std::pair<uint64_t, uint32_t> &a, const std::pair<uint64_t, uint32_t> &b)
{
    return a.first > b.first;
}

const char *grpcCodeName(grpc::StatusCode code)
{
    static constexpr const char *names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    const int i = int(code);
    return i >= 0 && i < int(std::size(names)) ? names[i] : "UNKNOWN";
}

}  // namespace

class DemoSender::StubHolder {
public:
    explicit StubHolder(std::shared_ptr<grpc::Channel> channel)
        : m_stub(TraceService::NewStub(std::move(channel)))
    {
    }
    TraceService::Stub &stub() { return *m_stub; }

private:
    std::unique_ptr<TraceService::Stub> m_stub;
};

// One service's SDK batch. Spans stay in the demo's own form until exported, so
// that the protobuf is built in one go on the export's arena.
struct DemoSender::Batch {
    otlp::trace::v1::ResourceSpans resource;  // resource and scope, no spans
    std::vector<DemoSpan> spans;
    uint64_t intervalNs = 0;
    uint64_t nextFlushNs = 0;
};

// One Export in flight; gRPC's callback owns it until it completes. The request
// lives on an arena: building and freeing a few thousand spans' attributes one
// malloc at a time would cost more than everything else the demo does.
struct DemoSender::Call {
    Call()
        : arena(arenaOptions())
        , request(google::protobuf::Arena::CreateMessage<ExportTraceServiceRequest>(&arena))
    {
    }
    static google::protobuf::ArenaOptions arenaOptions()
    {
        google::protobuf::ArenaOptions o;
        o.start_block_size = 64 * 1024;
        o.max_block_size = 1024 * 1024;
        return o;
    }

    google::protobuf::Arena arena;
    ExportTraceServiceRequest *request;
    ExportTraceServiceResponse response;
    grpc::ClientContext context;
    size_t spans = 0;
};

DemoSender::DemoSender(const DemoScenario &scenario, SenderOptions options, uint64_t seed, uint64_t nowNs)
    : m_scenario(scenario)
    , m_options(std::move(options))
    , m_rng(seed ^ 0x5851f42d4c957f2dull)
{
    grpc::ChannelArguments args;
    // gRPC's default reconnect backoff grows to two minutes; a receiver started after
    // the demo should see spans within a couple of seconds.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    m_channel = grpc::CreateCustomChannel(m_options.target, grpc::InsecureChannelCredentials(), args);
    m_stub = std::make_unique<StubHolder>(m_channel);

    std::uniform_int_distribution<int64_t> interval(
        m_options.minFlushInterval.count(), m_options.maxFlushInterval.count());
    m_batches.resize(m_scenario.services().size());
    for (size_t i = 0; i < m_batches.size(); ++i) {
        const ServiceInfo &s = m_scenario.services()[i];
        Batch &b = m_batches[i];
        fillOtlpResource(s, &b.resource);
        b.intervalNs = uint64_t(interval(m_rng)) * 1000000u;
        // Services started at different times, so their timers are out of phase.
        b.nextFlushNs = nowNs + std::uniform_int_distribution<uint64_t>(0, b.intervalNs)(m_rng);
    }
}

DemoSender::~DemoSender()
{
    // Callbacks reference this object: none may be left running.
    std::unique_lock lock(m_mutex);
    for (Call *c : m_inFlight)
        c->context.TryCancel();
    m_idle.wait(lock, [this] { return m_inFlight.empty(); });
}

void DemoSender::add(std::vector<DemoSpan> &spans)
{
    for (DemoSpan &s : spans) {
        uint32_t slot;
        if (!m_freeSlots.empty()) {
            slot = m_freeSlots.back();
            m_freeSlots.pop_back();
            m_slots[slot] = std::move(s);
        } else {
            slot = uint32_t(m_slots.size());
            m_slots.push_back(std::move(s));
        }
        m_pending.emplace_back(m_slots[slot].endNs, slot);
        std::push_heap(m_pending.begin(), m_pending.end(), endsLater);
    }
    spans.clear();
}

void DemoSender::takeEnded(uint64_t nowNs)
{
    while (!m_pending.empty() && m_pending.front().first <= nowNs) {
        std::pop_heap(m_pending.begin(), m_pending.end(), endsLater);
        const uint32_t slot = m_pending.back().second;
        m_pending.pop_back();
        DemoSpan &span = m_slots[slot];
        m_batches[span.service].spans.push_back(std::move(span));
        m_freeSlots.push_back(slot);
    }
}

uint64_t DemoSender::poll(uint64_t nowNs)
{
    takeEnded(nowNs);
    exportDue(nowNs, false);
    uint64_t next = UINT64_MAX;
    for (const Batch &b : m_batches)
        next = std::min(next, b.nextFlushNs);
    return next;
}

void DemoSender::exportDue(uint64_t nowNs, bool everything)
{
    std::uniform_real_distribution<double> jitter(0.9, 1.1);
    std::unique_ptr<Call> call;  // made only when something is due: it allocates its arena
    for (Batch &b : m_batches) {
        const bool timer = b.nextFlushNs <= nowNs;
        if (timer)
            b.nextFlushNs = nowNs + uint64_t(double(b.intervalNs) * jitter(m_rng));
        if (b.spans.empty() || !(everything || timer || b.spans.size() >= m_options.maxBatchSpans))
            continue;
        if (!call)
            call = std::make_unique<Call>();
        auto *rs = call->request->add_resource_spans();
        rs->CopyFrom(b.resource);
        auto *out = rs->mutable_scope_spans(0)->mutable_spans();
        out->Reserve(int(b.spans.size()));
        for (DemoSpan &span : b.spans)
            fillOtlpSpan(span, out->Add());
        call->spans += b.spans.size();
        b.spans.clear();
        if (call->spans >= m_options.maxRequestSpans)
            startExport(std::move(call));
    }
    if (call)
        startExport(std::move(call));
}

void DemoSender::startExport(std::unique_ptr<Call> call)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_inFlight.size() >= m_options.maxInFlight) {
            m_stats.spansDropped += call->spans;
            return;
        }
        m_inFlight.insert(call.get());
    }
    call->context.set_deadline(std::chrono::system_clock::now() + m_options.exportDeadline);
    Call *raw = call.release();
    // The callback may run on this thread before Export returns, so no lock is held here.
    m_stub->stub().async()->Export(&raw->context, raw->request, &raw->response, [this, raw](grpc::Status status) {
        std::string reason;
        if (!status.ok()) {
            reason = std::string(grpcCodeName(status.error_code())) + ": " + status.error_message();
            std::replace(reason.begin(), reason.end(), '\n', ' ');
        }
        const int64_t rejected
            = status.ok() && raw->response.has_partial_success() ? raw->response.partial_success().rejected_spans() : 0;
        finished(raw, status.ok(), reason, rejected);
    });
}

void DemoSender::finished(Call *call, bool ok, const std::string &reason, int64_t rejected)
{
    // Everything under the lock, notifying included: once the waiter in finish() or
    // the destructor sees the set empty it may destroy this object.
    std::lock_guard lock(m_mutex);
    m_inFlight.erase(call);
    if (ok) {
        m_stats.exports++;
        m_stats.spansSent += call->spans;
        m_stats.spansRejected += uint64_t(std::max<int64_t>(0, rejected));
        if (m_failing) {
            m_failing = false;
            note("exporting to " + m_options.target + " again", true);
        }
    } else {
        m_stats.failedExports++;
        m_stats.spansFailed += call->spans;
        note("export to " + m_options.target + " failed (" + reason + "); retrying", !m_failing);
        m_failing = true;
    }
    delete call;
    m_idle.notify_all();
}

// Called with m_mutex held. At most one line every few seconds, so a receiver that is
// down does not flood the terminal.
void DemoSender::note(const std::string &line, bool force)
{
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - m_lastNote < m_options.noteInterval)
        return;
    m_lastNote = now;
    std::fprintf(stderr, "meshscope-demo: %s\n", line.c_str());
}

void DemoSender::finish(uint64_t nowNs, std::chrono::milliseconds wait)
{
    takeEnded(UINT64_MAX);
    exportDue(nowNs, true);

    std::unique_lock lock(m_mutex);
    if (!m_idle.wait_for(lock, wait, [this] { return m_inFlight.empty(); })) {
        for (Call *c : m_inFlight)
            c->context.TryCancel();
        m_idle.wait(lock, [this] { return m_inFlight.empty(); });
    }
}

SenderStats DemoSender::stats() const
{
    std::lock_guard lock(m_mutex);
    return m_stats;
}

}  // namespace meshscope::demo

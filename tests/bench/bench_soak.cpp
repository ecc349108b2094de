// Soak benchmark: the three gRPC listeners (OTLP traces, Envoy access logs, xDS ADS)
// in one process, the receivers feeding a real GraphAggregator polled by a
// SnapshotPublisher as the app does, under a bounded mix of valid and hostile load
// for ten minutes. Resident memory, threads and open file descriptors are measured
// with the load paused and settled after a warm-up and again at the end (and under
// load every minute): flat is the goal, and growth past a generous bound fails the
// run, as do receivers that stop serving or take what they must refuse.
// Usage: bench_soak [--seconds N] [--warmup N] [--report-every N] [--scale X]
//   (MESHSCOPE_SOAK_SECONDS=N; MESHSCOPE_BENCH_QUICK=1: a 20 s run, 5 s warm-up)

#include "common/alsbuilder.h"
#include "common/otlpbuilder.h"
#include "envoy/service/accesslog/v3/als.grpc.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "graph/graphaggregator.h"
#include "graph/snapshotpublisher.h"
#include "net/grpclogging.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/xds/xdstranslator.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/otlp/otlpreceiver.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <QCoreApplication>
#include <QThread>

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace meshscope;
namespace otlp = opentelemetry::proto;
namespace als = envoy::service::accesslog::v3;
namespace alog = envoy::data::accesslog::v3;
namespace discovery = envoy::service::discovery::v3;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char *kExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
// Both receivers are configured with this limit (meshscope-cli --max-message-bytes);
// the oversize load goes a quarter above it.
constexpr size_t kMaxMessageBytes = 1u << 20;
constexpr auto kCallDeadline = 20s;

// Pass/fail bounds, end (settled) against start (settled).
constexpr double kRssRatioBound = 1.5;
constexpr double kRssSlackMb = 50;
constexpr int kThreadSlack = 4;
constexpr int kFdSlack = 8;

// ---- process figures ---------------------------------------------------------------

struct ProcessFigures {
    double rssMb = 0;
    double peakRssMb = 0;
    int threads = 0;
    int fds = 0;
};

ProcessFigures processFigures()
{
    ProcessFigures f;
    if (FILE *status = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, status)) {
            if (std::strncmp(line, "VmRSS:", 6) == 0)
                f.rssMb = double(std::strtoll(line + 6, nullptr, 10)) / 1024.0;
            else if (std::strncmp(line, "VmHWM:", 6) == 0)
                f.peakRssMb = double(std::strtoll(line + 6, nullptr, 10)) / 1024.0;
            else if (std::strncmp(line, "Threads:", 8) == 0)
                f.threads = int(std::strtol(line + 8, nullptr, 10));
        }
        std::fclose(status);
    }
    if (DIR *dir = opendir("/proc/self/fd")) {
        int n = 0;
        while (const dirent *e = readdir(dir)) {
            if (e->d_name[0] != '.')
                ++n;
        }
        closedir(dir);
        f.fds = n - 1;  // the directory being read
    }
    return f;
}

double cpuSeconds()
{
    rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

uint64_t wallNowNs() { return uint64_t(GraphAggregator::wallNowMs()) * 1'000'000ull; }

// ---- outcome counters ---------------------------------------------------------------

const char *statusName(int code)
{
    static const char *const names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    return code >= 0 && code < 17 ? names[code] : "?";
}

enum class Expect { Ok, Refused, Either };

// One kind of load: calls (or streams, or sessions) the receiver accepted or refused,
// the ones that went against what the receiver must do, and the status codes seen.
struct Tally {
    Tally(const char *n, Expect e)
        : name(n)
        , expect(e)
    {
    }
    const char *name;
    Expect expect;
    std::atomic<uint64_t> accepted {0}, refused {0}, unexpected {0};
    std::array<std::atomic<uint64_t>, 17> codes {};

    void record(const grpc::Status &st, Expect e)
    {
        const int code = int(st.error_code());
        if (code >= 0 && code < 17)
            codes[size_t(code)]++;
        (st.ok() ? accepted : refused)++;
        if ((e == Expect::Ok && !st.ok()) || (e == Expect::Refused && st.ok()))
            unexpected++;
    }
    void record(const grpc::Status &st) { record(st, expect); }
    uint64_t total() const { return accepted + refused; }
};

struct Tallies {
    Tally otlpValid {"otlp valid exports", Expect::Ok};
    Tally otlpHostile {"otlp bad UTF-8/absurd names", Expect::Ok};  // partly accepted
    Tally otlpJunk {"otlp garbage bytes", Expect::Refused};
    Tally otlpOversize {"otlp oversize (1.25 MiB)", Expect::Refused};
    Tally alsValid {"als valid streams", Expect::Ok};
    Tally alsHostile {"als absurd-content streams", Expect::Ok};  // entries rejected, stream kept
    Tally alsJunk {"als garbage streams", Expect::Refused};
    Tally alsOversize {"als oversize streams", Expect::Refused};
    Tally alsIdle {"als idle streams dropped", Expect::Ok};
    Tally xdsChurn {"xds churn sessions", Expect::Ok};
    Tally xdsSteady {"xds steady responses", Expect::Ok};

    std::vector<Tally *> all()
    {
        return {&otlpValid, &otlpHostile, &otlpJunk, &otlpOversize, &alsValid, &alsHostile, &alsJunk, &alsOversize,
            &alsIdle, &xdsChurn, &xdsSteady};
    }
};

struct XdsEventCounts {
    std::atomic<uint64_t> connected {0}, disconnected {0}, acked {0}, nacked {0};
};

// ---- pacing and pausing -------------------------------------------------------------

// A fixed rate, with no catch-up burst after falling behind.
class Pacer {
public:
    explicit Pacer(double perSecond)
        : m_interval(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / perSecond)))
    {
        reset();
    }
    void reset() { m_next = Clock::now(); }
    void wait()
    {
        m_next += m_interval;
        const auto now = Clock::now();
        if (m_next < now - 1s)
            m_next = now;
        std::this_thread::sleep_until(m_next);
    }

private:
    Clock::duration m_interval;
    Clock::time_point m_next;
};

// Workers run until the controller pauses them; a worker then closes what it holds
// open and parks until the load resumes (or the run ends).
class LoadGate {
public:
    void setWorkers(int n) { m_workers = n; }
    bool pauseRequested() const { return m_pause.load(std::memory_order_acquire); }

    // Called by a worker with nothing open. False when the run is over.
    bool park()
    {
        std::unique_lock lock(m_mutex);
        ++m_parked;
        m_cv.notify_all();
        m_cv.wait(lock, [&] { return !m_pause.load() || m_stopping; });
        --m_parked;
        return !m_stopping;
    }
    // True once every worker has parked.
    bool pause(std::chrono::seconds timeout, const std::function<void()> &interrupt)
    {
        {
            std::lock_guard lock(m_mutex);
            m_pause = true;
        }
        interrupt();
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, timeout, [&] { return m_parked == m_workers; });
    }
    void resume()
    {
        std::lock_guard lock(m_mutex);
        m_pause = false;
        m_cv.notify_all();
    }
    void stop()
    {
        std::lock_guard lock(m_mutex);
        m_pause = true;
        m_stopping = true;
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::atomic<bool> m_pause {false};
    bool m_stopping = false;
    int m_parked = 0;
    int m_workers = 0;
};

// Long-lived streams blocked in a read: a pause cancels them.
class CancelRegistry {
public:
    explicit CancelRegistry(const LoadGate &gate)
        : m_gate(gate)
    {
    }
    // False when a pause is already under way: the caller must not start its stream.
    bool add(grpc::ClientContext *ctx)
    {
        std::lock_guard lock(m_mutex);
        if (m_gate.pauseRequested())
            return false;
        m_contexts.insert(ctx);
        return true;
    }
    void remove(grpc::ClientContext *ctx)
    {
        std::lock_guard lock(m_mutex);
        m_contexts.erase(ctx);
    }
    void cancelAll()
    {
        std::lock_guard lock(m_mutex);
        for (grpc::ClientContext *ctx : m_contexts)
            ctx->TryCancel();
    }

private:
    const LoadGate &m_gate;
    std::mutex m_mutex;
    std::set<grpc::ClientContext *> m_contexts;
};

// ---- gRPC client helpers ------------------------------------------------------------

// A channel with its own TCP connection, closed when the channel goes.
std::shared_ptr<grpc::Channel> freshChannel(const std::string &address)
{
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::chrono::system_clock::time_point deadlineIn(std::chrono::seconds s)
{
    return std::chrono::system_clock::now() + s;
}

// Raw bytes on OTLP Export, bypassing the client's serializer.
grpc::Status exportRaw(grpc::GenericStub &stub, const std::string &bytes, grpc::ByteBuffer *response)
{
    grpc::ClientContext ctx;
    ctx.set_deadline(deadlineIn(kCallDeadline));
    grpc::Slice slice(bytes);
    const grpc::ByteBuffer request(&slice, 1);
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, kExportMethod, grpc::StubOptions(), &request, response,
        [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
}

// The typed messages of one access-log stream, then half-close.
grpc::Status alsStream(als::AccessLogService::Stub &stub, const std::vector<als::StreamAccessLogsMessage> &messages)
{
    grpc::ClientContext ctx;
    ctx.set_deadline(deadlineIn(kCallDeadline));
    als::StreamAccessLogsResponse response;
    auto writer = stub.StreamAccessLogs(&ctx, &response);
    for (const auto &m : messages) {
        if (!writer->Write(m))
            break;  // the server ended the stream: Finish says why
    }
    writer->WritesDone();
    return writer->Finish();
}

// Replaces every occurrence of a marker with bytes of the same length (padded with
// 'x'): invalid UTF-8 goes into serialized protobuf without the serializer's
// complaint, and the length prefixes stay right.
std::string patched(std::string bytes, const std::string &marker, std::string replacement)
{
    replacement.resize(marker.size(), 'x');
    for (size_t at = bytes.find(marker); at != std::string::npos; at = bytes.find(marker, at + marker.size()))
        bytes.replace(at, marker.size(), replacement);
    return bytes;
}

// ---- OTLP load ----------------------------------------------------------------------

constexpr int kServices = 24;

std::string serviceName(int i) { return "svc-" + std::to_string(i); }

// An SDK-shaped export: `pairs` requests, each a client span in one service and the
// server span in another, with HTTP attributes; about 3% are 503s.
otlp::collector::trace::v1::ExportTraceServiceRequest validExport(std::mt19937_64 &rng, uint64_t &nextId, int pairs)
{
    test::ExportBuilder b;
    const uint64_t now = wallNowNs();
    for (int i = 0; i < pairs; ++i) {
        const int a = int(rng() % kServices), c = int(rng() % kServices);
        const uint64_t trace = nextId++, clientId = nextId++, serverId = nextId++;
        const uint64_t start = now - 500 * test::kMsNs - rng() % (200 * test::kMsNs);
        const uint64_t dur = (1 + rng() % 40) * test::kMsNs;
        const int status = rng() % 100 < 3 ? 503 : 200;
        b.resource(serviceName(a), a % 2 ? "shop" : "identity", "v1");
        auto &client = b.span(SpanKind::Client, trace, clientId, 0, start, dur, "HTTP GET");
        test::setAttr(client, "http.request.method", "GET");
        test::setAttr(client, "server.address", serviceName(c));
        test::setIntAttr(client, "server.port", 8080);
        test::setIntAttr(client, "http.response.status_code", status);
        b.resource(serviceName(c), c % 2 ? "shop" : "identity", "v1");
        auto &server = b.span(SpanKind::Server, trace, serverId, clientId, start + test::kMsNs / 10,
            dur - test::kMsNs / 5, "GET /api/items/{id}");
        test::setAttr(server, "http.request.method", "GET");
        test::setAttr(server, "url.path", "/api/items/" + std::to_string(rng() % 1000));
        test::setIntAttr(server, "http.response.status_code", status);
        if (status >= 500)
            server.mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_ERROR);
    }
    return b.request();
}

// One ordinary span (accepted) and many a receiver must refuse or bound: invalid
// UTF-8 in span and service names, a 20 KiB service name, a 4 KiB span name, absurd
// timestamps, short ids, a 64 KiB path; plus a service named with terminal escapes
// and a bidi override that is new on every export (accepted: a new node each time,
// which the aggregator's window must let go again).
std::string hostileExport(std::mt19937_64 &rng, uint64_t &nextId, uint64_t n)
{
    const std::string badSpanName = "@@BADSPANNAME@@", badService = "@@BADSERVICE@@";
    const uint64_t now = wallNowNs();
    const uint64_t start = now - 100 * test::kMsNs;
    test::ExportBuilder b;
    b.resource(serviceName(int(rng() % kServices)), "shop", "v1");
    b.span(SpanKind::Server, nextId, nextId + 1, 0, start, 2 * test::kMsNs, "GET /healthz");
    nextId += 2;
    b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs, badSpanName);
    nextId += 2;
    b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs, std::string(4096, 'n'));
    nextId += 2;
    b.span(SpanKind::Server, nextId, nextId + 1, 0, uint64_t(16'725'225'600) * 1'000'000'000ull, test::kMsNs);
    nextId += 2;  // the year 2500
    auto &backwards = b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs);
    backwards.set_end_time_unix_nano(start - test::kMsNs);
    nextId += 2;
    auto &shortId = b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs);
    shortId.set_trace_id("abc");
    nextId += 2;
    auto &longPath = b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs, "GET /long");
    test::setAttr(longPath, "url.path", "/" + std::string(64 * 1024, 'p'));
    nextId += 2;
    b.resource(badService, "shop", "v1");
    b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs);
    nextId += 2;
    b.resource(std::string(20 * 1024, 'A'), "shop", "v1");
    b.span(SpanKind::Server, nextId, nextId + 1, 0, start, test::kMsNs);
    nextId += 2;
    b.resource("\x1b]0;owned\x07\x1b[2J\xe2\x80\xae"
               "evil-"
            + std::to_string(n),
        "\x1b[31mns", "v\x01");
    auto &evil = b.span(SpanKind::Client, nextId, nextId + 1, 0, start, test::kMsNs, "\x1b[5mGET");
    test::setAttr(evil, "server.address", "h-" + std::to_string(n % 97) + ".\x1b[1mexample");
    nextId += 2;
    std::string bytes = b.serialized();
    bytes = patched(std::move(bytes), badSpanName, "POST /caf\xc3");
    bytes = patched(std::move(bytes), badService,
        "pay\xff\xfe"
        "ment");
    return bytes;
}

// Bytes that are no ExportTraceServiceRequest (or, for random bytes, rarely one).
std::string junkExport(std::mt19937_64 &rng, uint64_t n, const std::string &validBytes, Expect *expect)
{
    *expect = Expect::Either;
    switch (n % 4) {
    case 0: *expect = Expect::Refused; return test::junkBytes();
    case 1: {
        std::string out(256 + rng() % 4096, '\0');
        for (char &c : out)
            c = char(rng());
        return out;
    }
    case 2: return validBytes.substr(0, validBytes.size() / 2 + 1);  // cut mid-field
    default:
        // A length-delimited field claiming 2 GiB, then a few bytes.
        *expect = Expect::Refused;
        return std::string("\x0a\xff\xff\xff\xff\x07", 6) + std::string(64, 'z');
    }
}

// ---- access-log load ----------------------------------------------------------------

const char *const kPods[] = {"productpage-v1-6b746f74dc-9stvs.bookinfo", "reviews-v1-545db77b95-8nk9c.bookinfo",
    "reviews-v2-7bf8c9648f-2xq8w.bookinfo", "reviews-v3-84779c7bbc-wl7t5.bookinfo",
    "ratings-v1-b6994bb9-kc6mv.bookinfo", "details-v1-79f774bdb9-6jl84.bookinfo"};
const char *const kUpstreams[]
    = {"outbound|9080||productpage.bookinfo.svc.cluster.local", "outbound|9080||reviews.bookinfo.svc.cluster.local",
        "outbound|9080||ratings.bookinfo.svc.cluster.local", "outbound|9080||details.bookinfo.svc.cluster.local"};

void setCommon(alog::AccessLogCommon *c, const std::string &cluster, double durationMs)
{
    test::setStart(c, GraphAggregator::wallNowMs() - 500);
    test::setDuration(c->mutable_duration(), durationMs);
    c->set_upstream_cluster(cluster);
}

// A message from one sidecar: `entries` HTTP entries, or (tcp) as many TCP entries
// (a message holds one kind); the first message of a stream carries the identifier.
als::StreamAccessLogsMessage alsMessage(std::mt19937_64 &rng, int pod, bool identify, int entries, bool tcp = false)
{
    als::StreamAccessLogsMessage m;
    if (identify) {
        const std::string podName = kPods[pod];
        test::identify(m, "sidecar~10.1.2." + std::to_string(pod + 10) + "~" + podName + "~bookinfo.svc.cluster.local",
            podName.substr(0, podName.find('-')) + ".bookinfo");
    }
    for (int i = 0; i < entries; ++i) {
        if (tcp) {
            alog::TCPAccessLogEntry *t = m.mutable_tcp_logs()->add_log_entry();
            setCommon(t->mutable_common_properties(), kUpstreams[rng() % 4], 800);
            t->mutable_connection_properties()->set_received_bytes(rng() % 100000);
            t->mutable_connection_properties()->set_sent_bytes(rng() % 100000);
            continue;
        }
        alog::HTTPAccessLogEntry *e = m.mutable_http_logs()->add_log_entry();
        setCommon(e->mutable_common_properties(), kUpstreams[rng() % 4], double(1 + rng() % 50));
        e->mutable_request()->set_request_method(envoy::config::core::v3::GET);
        e->mutable_request()->set_path("/api/v1/items/" + std::to_string(rng() % 1000));
        e->mutable_request()->set_authority("bookinfo.example.com");
        e->mutable_response()->mutable_response_code()->set_value(rng() % 100 < 3 ? 503u : 200u);
    }
    return m;
}

// Well-formed protobuf no Envoy would send: a 10 KiB node id full of terminal
// escapes, absurd durations and start times, impossible status codes, 64 KiB paths.
als::StreamAccessLogsMessage alsHostileMessage(std::mt19937_64 &rng, uint64_t n)
{
    als::StreamAccessLogsMessage m;
    test::identify(m, "sidecar~\x1b]0;owned\x07~" + std::string(10 * 1024, 'x') + "~evil", "\x1b[2J");
    for (int i = 0; i < 6; ++i) {
        alog::HTTPAccessLogEntry *e = m.mutable_http_logs()->add_log_entry();
        setCommon(e->mutable_common_properties(), kUpstreams[rng() % 4], 5);
        switch (i) {
        case 0: test::setDuration(e->mutable_common_properties()->mutable_duration(), 1e12); break;
        case 1: test::setStart(e->mutable_common_properties(), 16'725'225'600'000); break;
        case 2: e->mutable_response()->mutable_response_code()->set_value(99999); break;
        case 3: e->mutable_request()->set_path("/" + std::string(64 * 1024, 'p')); break;
        case 4: e->mutable_common_properties()->set_upstream_cluster(std::string(5000, 'c')); break;
        default:
            e->mutable_request()->set_authority("\x1b[1mevil-" + std::to_string(n) + ".example");
            e->mutable_common_properties()->set_upstream_cluster(
                "outbound|80||\x1b[31mevil-" + std::to_string(n) + ".ns.svc.cluster.local");
            break;
        }
    }
    return m;
}

// ---- xDS ----------------------------------------------------------------------------

const std::string kXdsTarget = "echo.test";

routing::RouteSet echoRoutes(int weightA)
{
    routing::HttpRoute r;
    r.name = "echo";
    r.hostnames = {kXdsTarget};
    routing::RouteRule main;
    main.name = "main";
    routing::BackendRef a, b;
    a.name = "echo-a";
    a.weight = weightA;
    b.name = "echo-b";
    b.weight = 100 - weightA;
    main.backends = {a, b};
    r.rules.push_back(main);
    routing::RouteSet set;
    set.routes.push_back(r);
    for (const auto &[service, port] : {std::pair {"echo-a", 50051}, std::pair {"echo-b", 50052}}) {
        routing::EndpointSlice s;
        s.name = std::string(service) + "-1";
        s.serviceName = service;
        s.port = port;
        s.endpoints = {{"127.0.0.1", true}};
        set.endpointSlices.push_back(s);
    }
    return set;
}

// What a client subscribes to, per type: LDS and CDS everything, RDS and EDS by name.
const std::vector<std::pair<std::string, std::vector<std::string>>> &subscriptions()
{
    static const std::vector<std::pair<std::string, std::vector<std::string>>> subs = {
        {std::string(routing::kXdsListenerType), {}},
        {std::string(routing::kXdsClusterType), {}},
        {std::string(routing::kXdsRouteConfigurationType), {kXdsTarget}},
        {std::string(routing::kXdsClusterLoadAssignmentType), {"default/echo-a", "default/echo-b", "default/nope"}},
    };
    return subs;
}

discovery::DiscoveryRequest xdsRequest(const std::string &type, const std::vector<std::string> &names,
    const std::string &version = {}, const std::string &nonce = {})
{
    discovery::DiscoveryRequest r;
    r.set_type_url(type);
    for (const std::string &n : names)
        r.add_resource_names(n);
    r.set_version_info(version);
    r.set_response_nonce(nonce);
    return r;
}

// One short-lived hostile client on its own connection: subscribes to all four
// types, ACKs two, NACKs two with long texts full of escapes, asks for 200 invented
// type URLs, and leaves in one of four ways (graceful, cancelled, half-closed and
// cancelled, or cancelled before reading anything).
void xdsChurnSession(const std::string &address, uint64_t n, Tally &tally)
{
    auto channel = freshChannel(address);
    auto stub = discovery::AggregatedDiscoveryService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(deadlineIn(10s));
    auto stream = stub->StreamAggregatedResources(&ctx);
    bool wrote = true;
    for (const auto &[type, names] : subscriptions()) {
        discovery::DiscoveryRequest r = xdsRequest(type, names);
        if (type == routing::kXdsListenerType) {
            auto *node = r.mutable_node();
            switch (n % 3) {
            case 0: node->set_id("churn-" + std::to_string(n)); break;
            case 1: node->set_id("churn\x1b]0;owned\x07\x1b[2J-" + std::to_string(n)); break;
            default: node->set_id("churn-" + std::to_string(n) + std::string(5000, 'x')); break;
            }
            node->set_cluster("\x1b[31mchurn");
            node->set_user_agent_name("meshscope soak \x1b[1m");
        }
        wrote = wrote && stream->Write(r);
    }
    const int mode = int(n % 4);
    if (mode == 3) {
        ctx.TryCancel();
        stream->Finish();
        tally.record(grpc::Status::OK);  // left before reading: nothing to judge
        return;
    }
    std::map<std::string, discovery::DiscoveryResponse> latest;
    discovery::DiscoveryResponse resp;
    for (int reads = 0; wrote && latest.size() < 4 && reads < 8 && stream->Read(&resp); ++reads)
        latest[resp.type_url()] = resp;
    const bool complete = latest.size() == 4;
    int nacks = 0;
    for (const auto &[type, names] : subscriptions()) {
        const auto it = latest.find(type);
        if (it == latest.end())
            continue;
        discovery::DiscoveryRequest r = xdsRequest(type, names, it->second.version_info(), it->second.nonce());
        if (type == routing::kXdsRouteConfigurationType || type == routing::kXdsClusterLoadAssignmentType) {
            r.set_version_info("");
            r.mutable_error_detail()->set_code(3);
            r.mutable_error_detail()->set_message(nacks++ == 0
                    ? "\x1b[31mrefused\x1b[0m\n" + std::string(64 * 1024, 'y') + "\x1b]0;owned\x07"
                    : "\x1b[2Jno such cluster " + std::to_string(n));
        }
        stream->Write(r);
    }
    for (int i = 0; i < 200; ++i) {
        discovery::DiscoveryRequest junk = xdsRequest(
            "type.googleapis.com/made.up.Type" + std::to_string(n) + "." + std::to_string(i), {std::string(100, 'n')});
        if (!stream->Write(junk))
            break;
    }
    grpc::Status st;
    switch (mode) {
    case 0:
        stream->WritesDone();
        while (stream->Read(&resp)) { }
        st = stream->Finish();
        break;
    case 1:
        ctx.TryCancel();
        stream->Finish();
        break;
    default:
        stream->WritesDone();
        ctx.TryCancel();
        stream->Finish();
        break;
    }
    if (!complete)
        tally.record(grpc::Status(grpc::StatusCode::UNAVAILABLE, "fewer than four responses"));
    else
        tally.record(st.ok() || mode != 0 ? grpc::Status::OK : st);
}

// ---- the workers --------------------------------------------------------------------

struct Rates {
    double otlpValid = 100;  // exports a second, 40 spans each
    double otlpHostile = 40;  // 3 in 8 bad UTF-8/absurd names, the rest garbage bytes
    double oversize = 2.5;  // 4 in 5 OTLP, 1 in 5 access logs
    double als = 32;  // streams: 5 in 8 valid, 1 in 8 absurd content, 2 in 8 garbage
    double alsIdle = 5;  // idle streams opened (and dropped after 1-6 s)
    double xdsChurn = 4;  // short-lived hostile xDS clients
    int xdsSteadyClients = 3;
    int otlpPairsPerExport = 20;
};

// What every worker shares.
struct Load {
    std::string otlpAddress, alsAddress, xdsAddress;
    Rates rates;
    Tallies tallies;
    LoadGate gate;
    CancelRegistry steadyStreams {gate};
};

// Runs body(i) at `rate` until paused; `cleanup` closes what the worker holds open
// before it parks. Returns when the run is over.
void runPaced(
    Load &load, double rate, const std::function<void(uint64_t)> &body, const std::function<void()> &cleanup = {})
{
    Pacer pacer(rate);
    for (uint64_t i = 0;; ++i) {
        if (load.gate.pauseRequested()) {
            if (cleanup)
                cleanup();
            if (!load.gate.park())
                return;
            pacer.reset();
        }
        body(i);
        pacer.wait();
    }
}

void otlpValidWorker(Load &load)
{
    auto stub = otlp::collector::trace::v1::TraceService::NewStub(freshChannel(load.otlpAddress));
    std::mt19937_64 rng(1);
    uint64_t nextId = 1ull << 40;
    runPaced(load, load.rates.otlpValid, [&](uint64_t) {
        const auto req = validExport(rng, nextId, load.rates.otlpPairsPerExport);
        grpc::ClientContext ctx;
        ctx.set_deadline(deadlineIn(kCallDeadline));
        otlp::collector::trace::v1::ExportTraceServiceResponse resp;
        const grpc::Status st = stub->Export(&ctx, req, &resp);
        load.tallies.otlpValid.record(st);
        if (st.ok() && resp.partial_success().rejected_spans() != 0)
            load.tallies.otlpValid.unexpected++;
    });
}

// Hostile content and garbage bytes, raw; every 50th call on a new connection.
void otlpHostileWorker(Load &load)
{
    std::shared_ptr<grpc::Channel> channel = freshChannel(load.otlpAddress);
    auto stub = std::make_unique<grpc::GenericStub>(channel);
    std::mt19937_64 rng(2);
    uint64_t nextId = 2ull << 40;
    const std::string validBytes = validExport(rng, nextId, 4).SerializeAsString();
    runPaced(load, load.rates.otlpHostile, [&](uint64_t i) {
        if (i % 50 == 49) {
            stub.reset();
            channel = freshChannel(load.otlpAddress);
            stub = std::make_unique<grpc::GenericStub>(channel);
        }
        grpc::ByteBuffer response;
        if (i % 8 == 0 || i % 8 == 3 || i % 8 == 6) {
            const grpc::Status st = exportRaw(*stub, hostileExport(rng, nextId, i), &response);
            load.tallies.otlpHostile.record(st);
            otlp::collector::trace::v1::ExportTraceServiceResponse resp;
            grpc::Slice slice;
            if (st.ok()
                && (!response.DumpToSingleSlice(&slice).ok() || !resp.ParseFromArray(slice.begin(), int(slice.size()))
                    || resp.partial_success().rejected_spans() == 0))
                load.tallies.otlpHostile.unexpected++;  // every such export holds spans to refuse
        } else {
            Expect expect = Expect::Either;
            const std::string junk = junkExport(rng, i, validBytes, &expect);
            load.tallies.otlpJunk.record(exportRaw(*stub, junk, &response), expect);
        }
    });
}

// Over the receivers' limit: OTLP exports of spans with a huge attribute, and access
// logs with a huge path, each a quarter over.
void oversizeWorker(Load &load)
{
    auto channel = freshChannel(load.otlpAddress);
    grpc::GenericStub otlpStub(channel);
    auto alsStub = als::AccessLogService::NewStub(freshChannel(load.alsAddress));
    std::mt19937_64 rng(4);
    const size_t target = kMaxMessageBytes + kMaxMessageBytes / 4;
    std::string otlpBytes;
    {
        test::ExportBuilder b;
        b.resource("chatty", "shop", "v1");
        auto &s = b.span(SpanKind::Server, 7, 7, 0, wallNowNs(), test::kMsNs, "GET /");
        test::setAttr(s, "url.path", "/" + std::string(target, 'q'));
        otlpBytes = b.serialized();
    }
    als::StreamAccessLogsMessage alsBig = alsMessage(rng, 1, true, 1);
    alsBig.mutable_http_logs()->mutable_log_entry(0)->mutable_request()->set_path("/" + std::string(target, 'q'));
    runPaced(load, load.rates.oversize, [&](uint64_t i) {
        if (i % 5 == 4) {
            load.tallies.alsOversize.record(alsStream(*alsStub, {alsBig}));
        } else {
            grpc::ByteBuffer response;
            load.tallies.otlpOversize.record(exportRaw(otlpStub, otlpBytes, &response));
        }
    });
}

// Access-log streams: valid ones as Envoy sends them (an identifier, three messages,
// half-close), absurd-content ones, and garbage through a raw stream.
void alsWorker(Load &load)
{
    auto channel = freshChannel(load.alsAddress);
    auto stub = als::AccessLogService::NewStub(channel);
    grpc::GenericStub generic(channel);
    std::mt19937_64 rng(5);
    const std::string validBytes = alsMessage(rng, 0, true, 3).SerializeAsString();
    runPaced(load, load.rates.als, [&](uint64_t i) {
        switch (i % 8) {
        case 0: load.tallies.alsHostile.record(alsStream(*stub, {alsHostileMessage(rng, i)})); break;
        case 1:
        case 5: {
            std::vector<std::string> messages;
            Expect expect = Expect::Refused;
            switch ((i / 8) % 4) {
            case 0: messages = {test::junkBytes()}; break;
            case 1: messages = {validBytes, test::junkBytes(), validBytes}; break;
            case 2: {
                std::string random(256 + rng() % 4096, '\0');
                for (char &c : random)
                    c = char(rng());
                messages = {random};
                expect = Expect::Either;
                break;
            }
            default:
                messages = {validBytes.substr(0, validBytes.size() / 2 + 1)};
                expect = Expect::Either;
                break;
            }
            load.tallies.alsJunk.record(test::rawAlsStream(generic, messages, deadlineIn(kCallDeadline)), expect);
            break;
        }
        default: {
            const int pod = int(rng() % std::size(kPods));
            load.tallies.alsValid.record(alsStream(*stub,
                {alsMessage(rng, pod, true, 12), alsMessage(rng, pod, false, 12),
                    alsMessage(rng, pod, false, 3, true)}));
            break;
        }
        }
    });
}

// Streams opened and left idle (empty, identifier only, or one message in), then
// cut by the client after 1-6 s; every 10th on a connection of its own that closes
// with it.
void alsIdleWorker(Load &load)
{
    struct IdleStream {
        std::shared_ptr<grpc::Channel> channel;
        std::unique_ptr<als::AccessLogService::Stub> stub;
        grpc::ClientContext ctx;
        als::StreamAccessLogsResponse response;
        std::unique_ptr<grpc::ClientWriter<als::StreamAccessLogsMessage>> writer;
        Clock::time_point dropAt;
    };
    auto shared = als::AccessLogService::NewStub(freshChannel(load.alsAddress));
    std::mt19937_64 rng(6);
    std::vector<std::unique_ptr<IdleStream>> held;
    auto drop = [&](IdleStream &s) {
        s.ctx.TryCancel();
        const grpc::Status st = s.writer->Finish();
        // Cut by us, as planned; anything else ended an idle stream the receiver should have kept.
        load.tallies.alsIdle.record(st.error_code() == grpc::StatusCode::CANCELLED ? grpc::Status::OK : st);
    };
    auto dropAll = [&] {
        for (auto &s : held)
            drop(*s);
        held.clear();
    };
    runPaced(
        load, load.rates.alsIdle,
        [&](uint64_t i) {
            const auto now = Clock::now();
            for (auto it = held.begin(); it != held.end();) {
                if ((*it)->dropAt <= now) {
                    drop(**it);
                    it = held.erase(it);
                } else {
                    ++it;
                }
            }
            auto s = std::make_unique<IdleStream>();
            if (i % 10 == 9) {
                s->channel = freshChannel(load.alsAddress);
                s->stub = als::AccessLogService::NewStub(s->channel);
            }
            s->ctx.set_deadline(deadlineIn(60s));
            s->writer = (s->stub ? *s->stub : *shared).StreamAccessLogs(&s->ctx, &s->response);
            const int pod = int(rng() % std::size(kPods));
            if (i % 3 == 1) {
                als::StreamAccessLogsMessage id;
                test::identify(id, std::string("sidecar~10.9.9.9~idle-") + kPods[pod], "idle");
                s->writer->Write(id);
            } else if (i % 3 == 2) {
                s->writer->Write(alsMessage(rng, pod, true, 2));
            }
            s->dropAt = now + std::chrono::milliseconds(1000 + rng() % 5000);
            held.push_back(std::move(s));
        },
        dropAll);
}

void xdsChurnWorker(Load &load)
{
    runPaced(
        load, load.rates.xdsChurn, [&](uint64_t i) { xdsChurnSession(load.xdsAddress, i, load.tallies.xdsChurn); });
}

// A well-behaved client that stays: subscribes to all four types and ACKs every
// push (NACKs one in ten), reconnecting every 20-60 s.
void xdsSteadyWorker(Load &load, int index)
{
    std::mt19937_64 rng(100 + uint64_t(index));
    for (;;) {
        if (load.gate.pauseRequested()) {
            if (!load.gate.park())
                return;
            continue;
        }
        auto stub = discovery::AggregatedDiscoveryService::NewStub(freshChannel(load.xdsAddress));
        grpc::ClientContext ctx;
        ctx.set_deadline(deadlineIn(std::chrono::seconds(20 + rng() % 40)));
        if (!load.steadyStreams.add(&ctx))
            continue;
        auto stream = stub->StreamAggregatedResources(&ctx);
        for (const auto &[type, names] : subscriptions()) {
            discovery::DiscoveryRequest r = xdsRequest(type, names);
            if (type == routing::kXdsListenerType) {
                r.mutable_node()->set_id("steady-" + std::to_string(index));
                r.mutable_node()->set_cluster("soak");
            }
            stream->Write(r);
        }
        discovery::DiscoveryResponse resp;
        while (stream->Read(&resp)) {
            const auto sub = std::find_if(subscriptions().begin(), subscriptions().end(),
                [&](const auto &s) { return s.first == resp.type_url(); });
            discovery::DiscoveryRequest ack
                = xdsRequest(resp.type_url(), sub == subscriptions().end() ? std::vector<std::string> {} : sub->second,
                    resp.version_info(), resp.nonce());
            if (rng() % 10 == 0) {
                ack.set_version_info("");
                ack.mutable_error_detail()->set_code(3);
                ack.mutable_error_detail()->set_message(
                    "steady client refuses version " + resp.version_info() + " \x1b[1m(soak)\x1b[0m");
            }
            load.tallies.xdsSteady.record(grpc::Status::OK);
            if (!stream->Write(ack))
                break;
        }
        load.steadyStreams.remove(&ctx);
        stream->Finish();
    }
}

// ---- after the soak: do the receivers still serve? ----------------------------------

bool otlpServes(const std::string &address)
{
    auto stub = otlp::collector::trace::v1::TraceService::NewStub(freshChannel(address));
    std::mt19937_64 rng(7);
    uint64_t nextId = 7ull << 40;
    grpc::ClientContext ctx;
    ctx.set_deadline(deadlineIn(10s));
    otlp::collector::trace::v1::ExportTraceServiceResponse resp;
    return stub->Export(&ctx, validExport(rng, nextId, 2), &resp).ok() && resp.partial_success().rejected_spans() == 0;
}

bool alsServes(const std::string &address)
{
    auto stub = als::AccessLogService::NewStub(freshChannel(address));
    std::mt19937_64 rng(8);
    return alsStream(*stub, {alsMessage(rng, 2, true, 2)}).ok();
}

bool xdsServes(const std::string &address)
{
    auto stub = discovery::AggregatedDiscoveryService::NewStub(freshChannel(address));
    grpc::ClientContext ctx;
    ctx.set_deadline(deadlineIn(10s));
    auto stream = stub->StreamAggregatedResources(&ctx);
    discovery::DiscoveryRequest lds = xdsRequest(std::string(routing::kXdsListenerType), {});
    lds.mutable_node()->set_id("after-soak");
    discovery::DiscoveryResponse resp;
    const bool ok = stream->Write(lds) && stream->Read(&resp) && resp.type_url() == routing::kXdsListenerType
        && resp.resources_size() > 0;
    ctx.TryCancel();
    stream->Finish();
    return ok;
}

double argDouble(int argc, char **argv, const char *name, double fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return std::strtod(argv[i + 1], nullptr);
    }
    return fallback;
}

}  // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    quietGrpcLogging();
    const bool quick = std::getenv("MESHSCOPE_BENCH_QUICK") != nullptr;
    double seconds = quick ? 20 : 600;
    if (const char *env = std::getenv("MESHSCOPE_SOAK_SECONDS"))
        seconds = std::strtod(env, nullptr);
    seconds = argDouble(argc, argv, "--seconds", seconds);
    const int totalSeconds = std::max(8, int(seconds));
    // The start figures come once the aggregator's 60 s window has filled (in a full
    // run): before that, growth is the window filling, not a leak.
    const int warmupSeconds = std::clamp(
        int(argDouble(argc, argv, "--warmup", quick ? 5 : AggregatorConfig().windowSeconds + 5)), 1, totalSeconds / 2);
    const int reportEvery = std::max(1, int(argDouble(argc, argv, "--report-every", quick ? 5 : 10)));
    const double scale = std::max(0.01, argDouble(argc, argv, "--scale", 1.0));

    // The receivers and the aggregator, wired as meshscope-cli and the dashboard wire
    // them; a publisher snapshots at 10 Hz (which also expires and prunes).
    GraphAggregator aggregator;
    OtlpReceiverConfig oc;
    oc.listenAddress = "127.0.0.1:0";
    oc.maxMessageBytes = kMaxMessageBytes;
    OtlpReceiver otlpReceiver(aggregator, oc);
    AlsReceiverConfig ac;
    ac.listenAddress = "127.0.0.1:0";
    ac.maxMessageBytes = kMaxMessageBytes;
    AlsReceiver alsReceiver(aggregator, ac);
    routing::XdsControlPlaneConfig xc;
    xc.listenAddress = "127.0.0.1:0";
    routing::XdsControlPlane controlPlane(xc);
    XdsEventCounts xdsEvents;
    controlPlane.setEventCallback([&xdsEvents](const routing::XdsClientEvent &e) {
        switch (e.kind) {
        case routing::XdsClientEvent::Kind::Connected: xdsEvents.connected++; break;
        case routing::XdsClientEvent::Kind::Disconnected: xdsEvents.disconnected++; break;
        case routing::XdsClientEvent::Kind::Acked: xdsEvents.acked++; break;
        case routing::XdsClientEvent::Kind::Nacked: xdsEvents.nacked++; break;
        }
    });
    controlPlane.setRouteSet(echoRoutes(50));
    std::string error;
    if (!otlpReceiver.start(&error) || !alsReceiver.start(&error) || !controlPlane.start(&error)) {
        std::fprintf(stderr, "soak: %s\n", error.c_str());
        return 1;
    }
    QThread publisherThread;
    SnapshotPublisher publisher(aggregator, 100);
    publisher.moveToThread(&publisherThread);
    QObject::connect(&publisherThread, &QThread::started, &publisher, &SnapshotPublisher::start);
    publisherThread.start();

    Load load;
    load.otlpAddress = otlpReceiver.boundAddress();
    load.alsAddress = alsReceiver.boundAddress();
    load.xdsAddress = controlPlane.boundAddress();
    Rates &r = load.rates;
    for (double *rate : {&r.otlpValid, &r.otlpHostile, &r.oversize, &r.als, &r.alsIdle, &r.xdsChurn})
        *rate *= scale;
    std::printf("soak: %d s of load; figures with the load paused and settled after %d s and at the end; "
                "receivers limited to %zu bytes a message\n",
        totalSeconds, warmupSeconds, kMaxMessageBytes);
    std::printf("soak: OTLP per second: %.0f valid exports (%d spans each), %.1f with bad UTF-8/absurd names, "
                "%.1f garbage, %.1f oversize\n",
        r.otlpValid, r.otlpPairsPerExport * 2, r.otlpHostile * 3 / 8, r.otlpHostile * 5 / 8, r.oversize * 4 / 5);
    std::printf("soak: access logs per second: %.1f valid streams (3 messages, 24 HTTP and 3 TCP entries), %.1f "
                "absurd-content, "
                "%.1f garbage, %.1f oversize, %.1f idle streams opened and cut after 1-6 s\n",
        r.als * 5 / 8, r.als / 8, r.als * 2 / 8, r.oversize / 5, r.alsIdle);
    std::printf("soak: xDS: %.1f churning clients a second (subscribe, NACK 64 KiB with escapes, 200 invented type "
                "URLs, leave), %d steady clients ACKing, a push every 5 s\n",
        r.xdsChurn, r.xdsSteadyClients);
    std::fflush(stdout);

    std::vector<std::thread> workers;
    load.gate.setWorkers(6 + r.xdsSteadyClients);
    workers.emplace_back(otlpValidWorker, std::ref(load));
    workers.emplace_back(otlpHostileWorker, std::ref(load));
    workers.emplace_back(oversizeWorker, std::ref(load));
    workers.emplace_back(alsWorker, std::ref(load));
    workers.emplace_back(alsIdleWorker, std::ref(load));
    workers.emplace_back(xdsChurnWorker, std::ref(load));
    for (int i = 0; i < r.xdsSteadyClients; ++i)
        workers.emplace_back(xdsSteadyWorker, std::ref(load), i);

    Tallies &t = load.tallies;
    const std::vector<Tally *> otlpTallies = {&t.otlpValid, &t.otlpHostile, &t.otlpJunk, &t.otlpOversize};
    const std::vector<Tally *> alsTallies = {&t.alsValid, &t.alsHostile, &t.alsJunk, &t.alsOversize};
    auto sum = [](const std::vector<Tally *> &ts, bool accepted) {
        uint64_t n = 0;
        for (const Tally *x : ts)
            n += accepted ? x->accepted.load() : x->refused.load();
        return n;
    };
    auto connectedXdsClients = [&] {
        size_t n = 0;
        for (const routing::XdsClientStatus &c : controlPlane.clients())
            n += c.connected ? 1 : 0;
        return n;
    };
    auto snapshot = [&] {
        GraphSnapshotPtr snap = publisher.latest();
        return snap ? snap : aggregator.snapshot(GraphAggregator::wallNowMs());
    };
    auto printFigures = [&](const char *label, int at, const ProcessFigures &f) {
        GraphSnapshotPtr snap = snapshot();
        std::printf("soak: %-26s t=%4d s  RSS %7.1f MB  threads %3d  fds %4d  graph %5zu nodes %5zu edges\n", label, at,
            f.rssMb, f.threads, f.fds, snap->nodes.size(), snap->edges.size());
        std::fflush(stdout);
    };
    // Parks every worker (its streams closed), waits for the receivers to see every
    // stream end, and gives connections and threads a moment to go.
    auto pauseAndSettle = [&](const char *when) {
        const bool parked = load.gate.pause(30s, [&] { load.steadyStreams.cancelAll(); });
        const auto until = Clock::now() + 15s;
        bool quiet = false;
        while (!quiet && Clock::now() < until) {
            quiet = alsReceiver.counters().streamsActive == 0 && connectedXdsClients() == 0;
            if (!quiet)
                std::this_thread::sleep_for(100ms);
        }
        std::this_thread::sleep_for(2s);
        if (!parked || !quiet)
            std::printf("soak: %s: load did not settle (%s; %llu access-log streams and %zu xDS clients still open)\n",
                when, parked ? "workers parked" : "workers still busy",
                (unsigned long long)alsReceiver.counters().streamsActive, connectedXdsClients());
        return parked && quiet;
    };

    // The load, second by second.
    ProcessFigures start;
    bool settledStart = true;
    uint64_t minValidPerSecond = UINT64_MAX, maxValidPerSecond = 0, secondsWithoutValid = 0;
    uint64_t lastValid = 0;
    struct Mark {
        Clock::time_point at;
        double cpu;
        uint64_t otlpOk, otlpRefused, spans, alsOk, alsRefused, churn, acks, nacks;
    };
    auto mark = [&] {
        return Mark {Clock::now(), cpuSeconds(), sum(otlpTallies, true), sum(otlpTallies, false),
            snapshot()->counters.spansAccepted, sum(alsTallies, true), sum(alsTallies, false), t.xdsChurn.total(),
            xdsEvents.acked.load(), xdsEvents.nacked.load()};
    };
    Mark previous = mark();
    auto next = Clock::now();
    int weightA = 50;
    for (int second = 1; second <= totalSeconds; ++second) {
        next += 1s;
        std::this_thread::sleep_until(next);
        const uint64_t valid = t.otlpValid.accepted.load();
        if (second > 1) {
            minValidPerSecond = std::min(minValidPerSecond, valid - lastValid);
            maxValidPerSecond = std::max(maxValidPerSecond, valid - lastValid);
            secondsWithoutValid += valid == lastValid ? 1 : 0;
        }
        lastValid = valid;
        if (second % 5 == 0) {
            weightA = weightA >= 90 ? 10 : weightA + 10;
            controlPlane.setRouteSet(echoRoutes(weightA));
        }
        if (second % reportEvery == 0) {
            const Mark now = mark();
            const double s = std::chrono::duration<double>(now.at - previous.at).count();
            auto per = [s](uint64_t a, uint64_t b) { return double(a - b) / s; };
            std::printf("soak: t=%4d s  OTLP %5.1f ok/s %5.1f refused/s %6.0f spans/s | access logs %5.1f ok/s %5.1f "
                        "refused/s %3llu open | xDS %4.1f sessions/s %3zu connected %5.1f ACKs/s %5.1f NACKs/s | "
                        "CPU %3.0f%%\n",
                second, per(now.otlpOk, previous.otlpOk), per(now.otlpRefused, previous.otlpRefused),
                per(now.spans, previous.spans), per(now.alsOk, previous.alsOk),
                per(now.alsRefused, previous.alsRefused), (unsigned long long)alsReceiver.counters().streamsActive,
                per(now.churn, previous.churn), connectedXdsClients(), per(now.acks, previous.acks),
                per(now.nacks, previous.nacks), 100.0 * (now.cpu - previous.cpu) / s);
            std::fflush(stdout);
            previous = now;
        }
        if (second == warmupSeconds) {
            settledStart = pauseAndSettle("start");
            start = processFigures();
            printFigures("start (paused, settled)", second, start);
            load.gate.resume();
            next = Clock::now();
            previous = mark();
            lastValid = t.otlpValid.accepted.load();
        } else if (second % 60 == 0 && second < totalSeconds) {
            printFigures("under load", second, processFigures());
        }
    }
    const bool settledEnd = pauseAndSettle("end");
    const ProcessFigures end = processFigures();
    printFigures("end (paused, settled)", totalSeconds, end);

    // Still serving, after all that?
    const bool otlpOk = otlpServes(load.otlpAddress), alsOk = alsServes(load.alsAddress),
               xdsOk = xdsServes(load.xdsAddress);

    load.gate.stop();
    for (std::thread &w : workers)
        w.join();
    QMetaObject::invokeMethod(&publisher, &SnapshotPublisher::stop, Qt::BlockingQueuedConnection);
    publisherThread.quit();
    publisherThread.wait();
    const AlsReceiverCounters alsCounters = alsReceiver.counters();
    const size_t xdsClientsKept = controlPlane.clients().size();
    otlpReceiver.stop();
    alsReceiver.stop();
    controlPlane.stop();

    std::printf("soak: per kind of load: accepted / refused / against what the receiver must do\n");
    for (Tally *x : t.all()) {
        std::string codes;
        for (size_t c = 0; c < x->codes.size(); ++c) {
            if (x->codes[c] > 0)
                codes += std::string(codes.empty() ? "" : ", ") + statusName(int(c)) + " "
                    + std::to_string(x->codes[c].load());
        }
        std::printf("soak:   %-29s %8llu %8llu %6llu   (%s)\n", x->name, (unsigned long long)x->accepted.load(),
            (unsigned long long)x->refused.load(), (unsigned long long)x->unexpected.load(), codes.c_str());
    }
    GraphSnapshotPtr snap = aggregator.snapshot(GraphAggregator::wallNowMs());
    const IngestCounters &c = snap->counters;
    std::printf("soak: aggregator: %llu spans received, %llu accepted, %llu rejected; %llu malformed and %llu "
                "oversized messages; %llu requests; %llu names folded into other\n",
        (unsigned long long)c.spansReceived, (unsigned long long)c.spansAccepted, (unsigned long long)c.spansRejected,
        (unsigned long long)c.malformedMessages, (unsigned long long)c.oversizedMessages,
        (unsigned long long)c.requests, (unsigned long long)c.foldedNodes);
    std::printf("soak: access-log receiver: %llu streams opened, %llu cut, %llu messages, %llu malformed, %llu "
                "oversized, %llu entries rejected\n",
        (unsigned long long)alsCounters.streamsOpened, (unsigned long long)alsCounters.streamsCut,
        (unsigned long long)alsCounters.messages, (unsigned long long)alsCounters.malformedMessages,
        (unsigned long long)alsCounters.oversizedMessages, (unsigned long long)alsCounters.rejectedEntries);
    std::printf("soak: xDS control plane: %llu connects, %llu disconnects, %llu ACKs, %llu NACKs; %zu clients "
                "remembered\n",
        (unsigned long long)xdsEvents.connected.load(), (unsigned long long)xdsEvents.disconnected.load(),
        (unsigned long long)xdsEvents.acked.load(), (unsigned long long)xdsEvents.nacked.load(), xdsClientsKept);
    std::printf("soak: valid OTLP exports accepted per second: min %llu, max %llu, %llu seconds with none\n",
        (unsigned long long)(minValidPerSecond == UINT64_MAX ? 0 : minValidPerSecond),
        (unsigned long long)maxValidPerSecond, (unsigned long long)secondsWithoutValid);
    std::printf("soak: still serving after the soak: OTLP %s, access logs %s, xDS %s\n", otlpOk ? "yes" : "NO",
        alsOk ? "yes" : "NO", xdsOk ? "yes" : "NO");

    const double rssRatio = start.rssMb > 0 ? end.rssMb / start.rssMb : 0;
    const int threadDelta = end.threads - start.threads, fdDelta = end.fds - start.fds;
    std::printf("soak: end/start RSS %.2f (%.1f -> %.1f MB, peak %.1f MB), threads %+d (%d -> %d), fds %+d (%d -> "
                "%d); goal flat, fails past %.1fx + %.0f MB, %+d threads, %+d fds\n",
        rssRatio, start.rssMb, end.rssMb, end.peakRssMb, threadDelta, start.threads, end.threads, fdDelta, start.fds,
        end.fds, kRssRatioBound, kRssSlackMb, kThreadSlack, kFdSlack);

    std::vector<std::string> failures;
    if (end.rssMb > start.rssMb * kRssRatioBound + kRssSlackMb)
        failures.push_back("RSS grew past the bound");
    if (threadDelta > kThreadSlack)
        failures.push_back("threads grew");
    if (fdDelta > kFdSlack)
        failures.push_back("file descriptors grew");
    if (!settledStart || !settledEnd)
        failures.push_back("the load did not settle");
    if (!otlpOk || !alsOk || !xdsOk)
        failures.push_back("a receiver stopped serving");
    for (Tally *x : t.all()) {
        const uint64_t bad = x->unexpected.load();
        // Taking what must be refused is never right; the odd failed valid call under
        // a loaded machine is tolerated up to 1%.
        if ((x->expect == Expect::Refused && bad > 0) || (x->expect != Expect::Refused && bad * 100 > x->total()))
            failures.push_back(std::string(x->name) + ": " + std::to_string(bad) + " against expectation");
    }
    if (t.otlpValid.accepted == 0 || t.alsValid.accepted == 0 || t.xdsChurn.accepted == 0)
        failures.push_back("no valid load got through");
    if (failures.empty()) {
        std::printf("soak: PASS\n");
        return 0;
    }
    std::string why;
    for (const std::string &f : failures)
        why += (why.empty() ? "" : "; ") + f;
    std::printf("soak: FAIL: %s\n", why.c_str());
    return 1;
}

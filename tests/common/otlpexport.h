#pragma once
// The instrumentation of the test peers: a small OpenTelemetry span exporter that
// sends OTLP/gRPC ExportTraceServiceRequest batches (opentelemetry.proto.collector.
// trace.v1.TraceService/Export) to meshscope's receiver, as an SDK's batch processor
// does: spans queue up and a background thread exports them every 100 ms. Also the
// W3C trace context the peers pass along in the call's metadata ("traceparent"), so a
// caller's CLIENT span and the callee's SERVER span belong to one trace.
// Qt-free, so the xDS client helper process can use it too.

#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace meshscope::test {

struct TraceContext {
    std::array<uint8_t, 16> traceId {};
    uint64_t spanId = 0;
    bool valid() const { return spanId != 0; }
};

inline std::string hexBytes(const uint8_t *bytes, size_t n)
{
    static const char *digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        out += digits[bytes[i] >> 4];
        out += digits[bytes[i] & 15];
    }
    return out;
}

inline std::array<uint8_t, 8> spanIdBytes(uint64_t id)
{
    std::array<uint8_t, 8> b {};
    for (int i = 7; i >= 0; --i, id >>= 8)
        b[size_t(i)] = uint8_t(id & 0xff);
    return b;
}

// "00-<trace id>-<span id>-01"
inline std::string traceparent(const TraceContext &c)
{
    const auto span = spanIdBytes(c.spanId);
    return "00-" + hexBytes(c.traceId.data(), 16) + "-" + hexBytes(span.data(), 8) + "-01";
}

inline TraceContext parseTraceparent(const std::string &header)
{
    TraceContext c;
    if (header.size() != 55 || header[2] != '-' || header[35] != '-' || header[52] != '-')
        return c;
    auto nibble = [](char ch) { return ch <= '9' ? ch - '0' : ch - 'a' + 10; };
    for (size_t i = 0; i < 16; ++i)
        c.traceId[i] = uint8_t(nibble(header[3 + 2 * i]) << 4 | nibble(header[4 + 2 * i]));
    for (size_t i = 0; i < 8; ++i)
        c.spanId = c.spanId << 8 | uint64_t(nibble(header[36 + 2 * i]) << 4 | nibble(header[37 + 2 * i]));
    return c;
}

struct ExportedSpan {
    TraceContext context;  // the span's own trace and span id
    uint64_t parentSpanId = 0;
    opentelemetry::proto::trace::v1::Span::SpanKind kind = opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER;
    std::string name;
    uint64_t startNs = 0;
    uint64_t endNs = 0;
    bool error = false;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::vector<std::pair<std::string, int64_t>> intAttributes;
};

inline uint64_t nowNs()
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

class OtlpSpanExporter {
public:
    // endpoint "127.0.0.1:4317"; every span carries resource attribute service.name.
    OtlpSpanExporter(const std::string &endpoint, std::string serviceName)
        : m_service(std::move(serviceName))
        , m_stub(opentelemetry::proto::collector::trace::v1::TraceService::NewStub(
              grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())))
        , m_thread([this] { run(); })
    {
    }
    ~OtlpSpanExporter()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    OtlpSpanExporter(const OtlpSpanExporter &) = delete;
    OtlpSpanExporter &operator=(const OtlpSpanExporter &) = delete;

    TraceContext newContext(const TraceContext &parent = {})
    {
        std::lock_guard lock(m_mutex);
        TraceContext c;
        if (parent.valid()) {
            c.traceId = parent.traceId;
        } else {
            for (uint8_t &b : c.traceId)
                b = uint8_t(m_random());
        }
        while (c.spanId == 0)
            c.spanId = m_random();
        return c;
    }

    void add(ExportedSpan span)
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(span));
    }
    uint64_t exported() const { return m_exported.load(); }
    uint64_t failedExports() const { return m_failed.load(); }

private:
    void run()
    {
        std::unique_lock lock(m_mutex);
        while (true) {
            m_wake.wait_for(lock, std::chrono::milliseconds(100), [this] { return m_stop; });
            std::vector<ExportedSpan> batch;
            batch.swap(m_queue);
            const bool stop = m_stop;
            lock.unlock();
            if (!batch.empty())
                send(batch);
            if (stop)
                return;
            lock.lock();
        }
    }

    void send(const std::vector<ExportedSpan> &batch)
    {
        namespace v1 = opentelemetry::proto;
        v1::collector::trace::v1::ExportTraceServiceRequest request;
        auto *rs = request.add_resource_spans();
        auto *attr = rs->mutable_resource()->add_attributes();
        attr->set_key("service.name");
        attr->mutable_value()->set_string_value(m_service);
        auto *scope = rs->add_scope_spans();
        scope->mutable_scope()->set_name("meshscope-test");
        for (const ExportedSpan &s : batch) {
            v1::trace::v1::Span *out = scope->add_spans();
            out->set_trace_id(s.context.traceId.data(), 16);
            const auto id = spanIdBytes(s.context.spanId);
            out->set_span_id(id.data(), 8);
            if (s.parentSpanId) {
                const auto parent = spanIdBytes(s.parentSpanId);
                out->set_parent_span_id(parent.data(), 8);
            }
            out->set_kind(s.kind);
            out->set_name(s.name);
            out->set_start_time_unix_nano(s.startNs);
            out->set_end_time_unix_nano(s.endNs);
            out->mutable_status()->set_code(
                s.error ? v1::trace::v1::Status::STATUS_CODE_ERROR : v1::trace::v1::Status::STATUS_CODE_OK);
            for (const auto &[key, value] : s.attributes) {
                auto *a = out->add_attributes();
                a->set_key(key);
                a->mutable_value()->set_string_value(value);
            }
            for (const auto &[key, value] : s.intAttributes) {
                auto *a = out->add_attributes();
                a->set_key(key);
                a->mutable_value()->set_int_value(value);
            }
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        v1::collector::trace::v1::ExportTraceServiceResponse response;
        if (m_stub->Export(&context, request, &response).ok())
            m_exported += batch.size();
        else
            m_failed++;
    }

    std::string m_service;
    std::unique_ptr<opentelemetry::proto::collector::trace::v1::TraceService::Stub> m_stub;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<ExportedSpan> m_queue;
    bool m_stop = false;
    std::mt19937_64 m_random {std::random_device {}()};
    std::atomic<uint64_t> m_exported {0};
    std::atomic<uint64_t> m_failed {0};
    std::thread m_thread;  // last: starts once everything above is ready
};

// The attributes of a gRPC call's span (OpenTelemetry semantic conventions).
inline void describeGrpcCall(ExportedSpan &span, const std::string &service, const std::string &method, int status)
{
    span.name = service + "/" + method;
    span.attributes = {{"rpc.system", "grpc"}, {"rpc.service", service}, {"rpc.method", method}};
    span.intAttributes = {{"rpc.grpc.status_code", status}};
    span.error = status != 0;
}

}  // namespace meshscope::test

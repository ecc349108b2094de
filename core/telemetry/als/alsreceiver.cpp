#include "telemetry/als/alsreceiver.h"

#include "envoy/service/accesslog/v3/als.grpc.pb.h"
#include "model/clock.h"
#include "model/logging.h"
#include "model/telemetrysink.h"
#include "net/grpclistener.h"
#include "net/grpclogging.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <climits>

namespace meshscope {

namespace als = envoy::service::accesslog::v3;

struct AlsReceiver::AtomicCounters {
    std::atomic<uint64_t> streamsOpened {0}, streamsActive {0}, streamsCut {0}, messages {0}, httpEntries {0},
        tcpEntries {0}, rejectedEntries {0}, requests {0}, malformedMessages {0}, oversizedMessages {0};
};

// The raw-bytes flavour of the generated service: meshscope parses each message
// itself so that malformed and oversized ones are counted and answered clearly.
class AlsReceiver::Service final
    : public als::AccessLogService::WithRawCallbackMethod_StreamAccessLogs<als::AccessLogService::Service> {
public:
    Service(TelemetrySink &aggregator, const AlsReceiverConfig &config, AtomicCounters &counters, TlsPeerLog &tlsPeers)
        : m_aggregator(aggregator)
        , m_config(config)
        , m_counters(counters)
        , m_tlsPeers(tlsPeers)
        , m_decoder(config.limits)
    {
    }

    // Runs on a gRPC callback thread when a client opens a stream.
    grpc::ServerReadReactor<grpc::ByteBuffer> *StreamAccessLogs(
        grpc::CallbackServerContext *context, grpc::ByteBuffer *response) override;

    // Decodes and ingests one message of a stream whose identity so far is `identity`.
    // Runs on a gRPC callback thread; reads of one stream never overlap.
    grpc::Status handle(const grpc::ByteBuffer &message, AlsNodeIdentity &identity)
    {
        const size_t size = message.Length();
        if (size > m_config.maxMessageBytes) {
            m_counters.oversizedMessages++;
            m_aggregator.countOversized("access log message over the size limit");
            return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                "access log message of " + std::to_string(size) + " bytes exceeds the limit of "
                    + std::to_string(m_config.maxMessageBytes) + " bytes"};
        }
        grpc::Slice slice;
        if (size > 0 && !message.DumpToSingleSlice(&slice).ok()) {
            m_aggregator.countMalformed("unreadable access log message buffer");
            return {grpc::StatusCode::INTERNAL, "could not read the access log message"};
        }
        const int64_t nowMs = wallNowMs();
        AlsDecodeResult result = m_decoder.decodeBytes(slice.begin(), slice.size(), identity, nowMs);
        if (result.malformed) {
            m_counters.malformedMessages++;
            m_aggregator.countMalformed("malformed access log message");
            return {grpc::StatusCode::INVALID_ARGUMENT,
                "malformed StreamAccessLogsMessage (" + std::to_string(size) + " bytes could not be parsed)"};
        }
        if (result.identity)
            identity = std::move(*result.identity);
        m_counters.messages++;
        m_counters.httpEntries += result.httpEntries;
        m_counters.tcpEntries += result.tcpEntries;
        m_counters.rejectedEntries += result.rejected;
        m_counters.requests += result.requests.size();
        m_aggregator.countExport(result.received, result.rejected, result.reasons);
        if (!result.requests.empty())
            m_aggregator.ingestRequests(std::move(result.requests), nowMs, "als");
        return grpc::Status::OK;
    }

    AtomicCounters &counters() { return m_counters; }
    bool tls() const { return m_config.tls.enabled(); }
    TlsPeerLog &tlsPeers() { return m_tlsPeers; }

private:
    TelemetrySink &m_aggregator;
    const AlsReceiverConfig &m_config;
    AtomicCounters &m_counters;
    TlsPeerLog &m_tlsPeers;
    AlsDecoder m_decoder;
};

// One access-log stream: reads a message, ingests it, reads the next, until the
// client half-closes or the stream is cut. Deletes itself when gRPC is done with it.
// Its callbacks run on gRPC callback threads, one at a time.
class AlsReceiver::StreamReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
public:
    StreamReactor(Service &service, grpc::CallbackServerContext *context, grpc::ByteBuffer *response)
        : m_service(service)
        , m_context(context)
        , m_response(response)
    {
        m_service.counters().streamsOpened++;
        m_service.counters().streamsActive++;
        StartRead(&m_message);
    }

    void OnReadDone(bool ok) override
    {
        if (!ok) {
            // The client half-closed, or the stream was cut: everything read so far
            // is already in the aggregator. Envoy expects an empty response.
            const std::string bytes = als::StreamAccessLogsResponse().SerializeAsString();
            grpc::Slice out(bytes);
            *m_response = grpc::ByteBuffer(&out, 1);
            Finish(grpc::Status::OK);
            return;
        }
        const grpc::Status status = m_service.handle(m_message, m_identity);
        m_message.Clear();
        if (!status.ok()) {
            // The sender is broken or over the limit: end this stream (Envoy opens a
            // new one, with its identifier, for the next entries).
            Finish(status);
            return;
        }
        StartRead(&m_message);
    }

    void OnDone() override
    {
        if (m_context->IsCancelled())
            m_service.counters().streamsCut++;
        m_service.counters().streamsActive--;
        delete this;
    }

private:
    Service &m_service;
    grpc::CallbackServerContext *m_context;
    grpc::ByteBuffer *m_response;
    grpc::ByteBuffer m_message;
    AlsNodeIdentity m_identity;  // known once the first message's identifier arrived
};

grpc::ServerReadReactor<grpc::ByteBuffer> *AlsReceiver::Service::StreamAccessLogs(
    grpc::CallbackServerContext *context, grpc::ByteBuffer *response)
{
    if (tls())
        recordTlsPeer(m_tlsPeers, *context);
    return new StreamReactor(*this, context, response);
}

AlsReceiver::AlsReceiver(TelemetrySink &aggregator, AlsReceiverConfig config)
    : m_aggregator(aggregator)
    , m_config(std::move(config))
    , m_counters(std::make_unique<AtomicCounters>())
{
}

AlsReceiver::~AlsReceiver() { stop(); }

bool AlsReceiver::start(std::string *error)
{
    if (m_server)
        return true;
    m_service = std::make_unique<Service>(m_aggregator, m_config, *m_counters, m_tlsPeers);
    GrpcListenOptions options;
    options.unlimitedMessageSize = true;
    options.memoryQuotaBytes = receiverMemoryQuota(m_config.maxMessageBytes);
    options.tls = m_config.tls;
    m_server = startGrpcListener(m_service.get(), m_config.listenAddress, "Envoy access logs", options, &m_port, error);
    if (!m_server) {
        qCDebug(lcAls).noquote() << "cannot listen on" << QString::fromStdString(m_config.listenAddress) << "-"
                                 << (error ? QString::fromStdString(*error) : QString());
        m_service.reset();
        return false;
    }
    qCDebug(lcAls).noquote() << "listening on" << QString::fromStdString(boundAddress())
                             << (m_config.tls.enabled() ? "(TLS)" : "(plaintext)");
    return true;
}

void AlsReceiver::stop()
{
    if (m_server)
        qCDebug(lcAls).noquote() << "stopped listening on" << QString::fromStdString(boundAddress()) << "after"
                                 << m_counters->streamsOpened.load() << "streams";
    stopGrpcListener(m_server);
    m_service.reset();
}

std::string AlsReceiver::boundAddress() const { return boundAddressOf(m_config.listenAddress, m_port); }

AlsReceiverCounters AlsReceiver::counters() const
{
    const AtomicCounters &c = *m_counters;
    AlsReceiverCounters out;
    out.streamsOpened = c.streamsOpened;
    out.streamsActive = c.streamsActive;
    out.streamsCut = c.streamsCut;
    out.messages = c.messages;
    out.httpEntries = c.httpEntries;
    out.tcpEntries = c.tcpEntries;
    out.rejectedEntries = c.rejectedEntries;
    out.requests = c.requests;
    out.malformedMessages = c.malformedMessages;
    out.oversizedMessages = c.oversizedMessages;
    return out;
}

}  // namespace meshscope

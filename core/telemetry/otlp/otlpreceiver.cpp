#include "telemetry/otlp/otlpreceiver.h"

#include "model/clock.h"
#include "model/logging.h"
#include "model/telemetrysink.h"
#include "net/grpclistener.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <climits>
#include <cstdlib>

namespace meshscope {

namespace collector = opentelemetry::proto::collector::trace::v1;

namespace {
uint64_t wallNowNs()
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}
}  // namespace

// The raw-bytes flavour of the generated service: meshscope parses the request
// itself so that malformed and oversized messages are counted and answered clearly.
class OtlpReceiver::Service final
    : public collector::TraceService::WithRawCallbackMethod_Export<collector::TraceService::Service> {
public:
    Service(TelemetrySink &aggregator, const OtlpReceiverConfig &config, TlsPeerLog &tlsPeers)
        : m_aggregator(aggregator)
        , m_config(config)
        , m_tlsPeers(tlsPeers)
        , m_decoder(config.limits)
    {
    }

    // Runs on a gRPC callback thread.
    grpc::ServerUnaryReactor *Export(
        grpc::CallbackServerContext *context, const grpc::ByteBuffer *request, grpc::ByteBuffer *response) override
    {
        grpc::ServerUnaryReactor *reactor = context->DefaultReactor();
        if (m_config.tls.enabled())
            recordTlsPeer(m_tlsPeers, *context);
        reactor->Finish(handle(*request, response));
        return reactor;
    }

private:
    grpc::Status handle(const grpc::ByteBuffer &request, grpc::ByteBuffer *response)
    {
        const size_t size = request.Length();
        if (size > m_config.maxMessageBytes) {
            const std::string why = "export message of " + std::to_string(size) + " bytes exceeds the limit of "
                + std::to_string(m_config.maxMessageBytes) + " bytes";
            m_aggregator.countOversized("message over the size limit");
            return {grpc::StatusCode::RESOURCE_EXHAUSTED, why};
        }
        grpc::Slice slice;
        if (!request.DumpToSingleSlice(&slice).ok()) {
            m_aggregator.countMalformed("unreadable request buffer");
            return {grpc::StatusCode::INTERNAL, "could not read the request"};
        }
        DecodeResult result = m_decoder.decodeBytes(slice.begin(), slice.size(), wallNowNs());
        if (result.malformed) {
            m_aggregator.countMalformed("malformed protobuf");
            return {grpc::StatusCode::INVALID_ARGUMENT,
                "malformed ExportTraceServiceRequest (" + std::to_string(size) + " bytes could not be parsed)"};
        }
        const uint64_t received = result.received, rejected = result.rejected;
        m_aggregator.countExport(received, rejected, result.reasons);
        if (!result.spans.empty())
            m_aggregator.ingestSpans(std::move(result.spans), wallNowMs(), "otlp");

        collector::ExportTraceServiceResponse resp;
        if (rejected > 0) {
            resp.mutable_partial_success()->set_rejected_spans(int64_t(rejected));
            resp.mutable_partial_success()->set_error_message(result.summary());
        }
        const std::string bytes = resp.SerializeAsString();
        grpc::Slice out(bytes);
        *response = grpc::ByteBuffer(&out, 1);
        return grpc::Status::OK;
    }

    TelemetrySink &m_aggregator;
    const OtlpReceiverConfig &m_config;
    TlsPeerLog &m_tlsPeers;
    OtlpDecoder m_decoder;
};

OtlpReceiver::OtlpReceiver(TelemetrySink &aggregator, OtlpReceiverConfig config)
    : m_aggregator(aggregator)
    , m_config(std::move(config))
{
}

OtlpReceiver::~OtlpReceiver() { stop(); }

bool OtlpReceiver::start(std::string *error)
{
    if (m_server)
        return true;
    m_service = std::make_unique<Service>(m_aggregator, m_config, m_tlsPeers);
    GrpcListenOptions options;
    options.unlimitedMessageSize = true;
    options.memoryQuotaBytes = receiverMemoryQuota(m_config.maxMessageBytes);
    options.tls = m_config.tls;
    m_server = startGrpcListener(m_service.get(), m_config.listenAddress, "OTLP", options, &m_port, error);
    if (!m_server) {
        qCDebug(lcOtlp).noquote() << "cannot listen on" << QString::fromStdString(m_config.listenAddress) << "-"
                                  << (error ? QString::fromStdString(*error) : QString());
        m_service.reset();
        return false;
    }
    qCDebug(lcOtlp).noquote() << "listening on" << QString::fromStdString(boundAddress())
                              << (m_config.tls.enabled() ? "(TLS)" : "(plaintext)");
    return true;
}

void OtlpReceiver::stop()
{
    if (m_server)
        qCDebug(lcOtlp).noquote() << "stopped listening on" << QString::fromStdString(boundAddress());
    stopGrpcListener(m_server);
    m_service.reset();
}

std::string OtlpReceiver::boundAddress() const { return boundAddressOf(m_config.listenAddress, m_port); }

}  // namespace meshscope

#include "telemetry/otlpreceiver.h"

#include "graph/graphaggregator.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <climits>
#include <cstdlib>

namespace meshscope {

namespace collector = opentelemetry::proto::collector::trace::v1;

namespace {
uint64_t wallNowNs()
{
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
}
}  // namespace

// The raw-bytes flavour of the generated service: meshscope parses the request
// itself so that malformed and oversized messages are counted and answered clearly.
class OtlpReceiver::Service final : public collector::TraceService::WithRawCallbackMethod_Export<collector::TraceService::Service> {
public:
    Service(GraphAggregator &aggregator, const OtlpReceiverConfig &config)
        : m_aggregator(aggregator)
        , m_config(config)
        , m_decoder(config.limits)
    {
    }

    // Runs on a gRPC callback thread.
    grpc::ServerUnaryReactor *Export(grpc::CallbackServerContext *context, const grpc::ByteBuffer *request,
                                     grpc::ByteBuffer *response) override
    {
        grpc::ServerUnaryReactor *reactor = context->DefaultReactor();
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
            m_aggregator.ingestSpans(std::move(result.spans), GraphAggregator::wallNowMs(), "otlp");

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

    GraphAggregator &m_aggregator;
    const OtlpReceiverConfig &m_config;
    OtlpDecoder m_decoder;
};

OtlpReceiver::OtlpReceiver(GraphAggregator &aggregator, OtlpReceiverConfig config)
    : m_aggregator(aggregator)
    , m_config(std::move(config))
{
}

OtlpReceiver::~OtlpReceiver()
{
    stop();
}

bool OtlpReceiver::start(std::string *error)
{
    quietGrpcLogging();
    if (m_server)
        return true;
    m_service = std::make_unique<Service>(m_aggregator, m_config);
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddListeningPort(m_config.listenAddress, grpc::InsecureServerCredentials(), &selected);
    builder.RegisterService(m_service.get());
    // gRPC 1.51 holds a whole message in memory before its own size check, and a
    // message it refuses never reaches meshscope to be counted. So gRPC takes any
    // size it can (up to 2 GiB) and meshscope refuses, and counts, everything over
    // the configured limit.
    builder.SetMaxReceiveMessageSize(INT_MAX);
    // Without this, gRPC lets a second server bind the same port (SO_REUSEPORT) and
    // the kernel splits traffic between them: an address in use must be an error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    m_server = builder.BuildAndStart();
    if (!m_server || selected == 0) {
        m_server.reset();
        m_service.reset();
        if (error)
            *error = "cannot listen for OTLP on " + m_config.listenAddress
                + ": address invalid, in use or not available";
        return false;
    }
    m_port = selected;
    return true;
}

void OtlpReceiver::stop()
{
    if (m_server) {
        m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
        m_server->Wait();
        m_server.reset();
    }
    m_service.reset();
}

std::string OtlpReceiver::boundAddress() const
{
    const std::string &a = m_config.listenAddress;
    const auto colon = a.rfind(':');
    return (colon == std::string::npos ? a : a.substr(0, colon)) + ":" + std::to_string(m_port);
}

void quietGrpcLogging()
{
    static const bool once = [] {
        if (!std::getenv("MESHSCOPE_GRPC_LOG"))
            gpr_set_log_function([](gpr_log_func_args *) {});
        return true;
    }();
    (void)once;
}

}  // namespace meshscope

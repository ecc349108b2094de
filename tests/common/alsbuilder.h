#pragma once
// Test helpers for Envoy access-log service messages, the parts the decoder and the
// receiver tests build alike: the node an Envoy identifies itself as, and an entry's
// start time and duration; and a client that sends raw bytes as a stream's messages.
// Header-only: every test executable includes it on its own.

#include "envoy/service/accesslog/v3/als.pb.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace meshscope::test {

inline void setDuration(google::protobuf::Duration *d, double ms)
{
    d->set_seconds(int64_t(ms / 1000));
    d->set_nanos(int32_t((ms - double(d->seconds()) * 1000) * 1e6));
}

inline void setStart(envoy::data::accesslog::v3::AccessLogCommon *c, int64_t ms)
{
    c->mutable_start_time()->set_seconds(ms / 1000);
    c->mutable_start_time()->set_nanos(int32_t(ms % 1000) * 1'000'000);
}

inline void identify(
    envoy::service::accesslog::v3::StreamAccessLogsMessage &m, const std::string &nodeId, const std::string &cluster)
{
    m.mutable_identifier()->mutable_node()->set_id(nodeId);
    m.mutable_identifier()->mutable_node()->set_cluster(cluster);
}

inline constexpr const char *kAlsStreamMethod = "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs";

// Raw bytes as the messages of one access-log stream (bypassing the client's
// serializer), then half-close; the stream's status.
inline grpc::Status rawAlsStream(
    grpc::GenericStub &stub, const std::vector<std::string> &messages, std::chrono::system_clock::time_point deadline)
{
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    grpc::CompletionQueue cq;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(&ctx, kAlsStreamMethod, &cq);
    void *tag = nullptr;
    bool ok = false;
    auto step = [&](intptr_t id) {
        const bool got = cq.Next(&tag, &ok);
        return got && tag == reinterpret_cast<void *>(id) && ok;
    };
    call->StartCall(reinterpret_cast<void *>(1));
    bool open = step(1);
    for (const std::string &bytes : messages) {
        if (!open)
            break;
        grpc::Slice slice(bytes);
        const grpc::ByteBuffer buffer(&slice, 1);
        call->Write(buffer, reinterpret_cast<void *>(2));
        open = step(2);
    }
    call->WritesDone(reinterpret_cast<void *>(3));
    step(3);
    // The status comes after the (empty) response message, which must be read first.
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void *>(5));
    step(5);
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void *>(4));
    step(4);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) { }
    return status;
}

}  // namespace meshscope::test

#include "telemetry/grpclistener.h"

#include "telemetry/otlpreceiver.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <climits>

namespace meshscope {

std::unique_ptr<grpc::Server> startGrpcListener(grpc::Service *service, const std::string &address,
                                                const std::string &what, const GrpcListenOptions &options, int *port,
                                                std::string *error)
{
    quietGrpcLogging();
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected);
    builder.RegisterService(service);
    if (options.unlimitedMessageSize)
        builder.SetMaxReceiveMessageSize(INT_MAX);
    // Without this, gRPC lets a second server bind the same port (SO_REUSEPORT) and
    // the kernel splits traffic between them: an address in use must be an error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || selected == 0) {
        if (error)
            *error = "cannot listen for " + what + " on " + address + ": address invalid, in use or not available";
        return nullptr;
    }
    *port = selected;
    return server;
}

void stopGrpcListener(std::unique_ptr<grpc::Server> &server)
{
    if (!server)
        return;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    server->Wait();
    server.reset();
}

std::string boundAddressOf(const std::string &listenAddress, int port)
{
    const auto colon = listenAddress.rfind(':');
    return (colon == std::string::npos ? listenAddress : listenAddress.substr(0, colon)) + ":" + std::to_string(port);
}

}  // namespace meshscope

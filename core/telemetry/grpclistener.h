#pragma once
// Starting and stopping a gRPC server the way every meshscope listener does (OTLP,
// Envoy access logs, xDS): one service on one address, a port already in use is an
// error rather than shared, and bind failures come back as one line.

#include <memory>
#include <string>

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace meshscope {

struct GrpcListenOptions {
    // Receivers take any message size from gRPC and refuse over-limit ones themselves,
    // so that each refusal is counted (gRPC 1.51 reads a whole message before its own
    // size check anyway, and one it refuses never reaches meshscope).
    bool unlimitedMessageSize = false;
};

// Returns the running server and the bound port, or null and "cannot listen for
// <what> on <address>: ..." in *error.
std::unique_ptr<grpc::Server> startGrpcListener(grpc::Service *service, const std::string &address,
                                                const std::string &what, const GrpcListenOptions &options, int *port,
                                                std::string *error);
// Long-lived streams (access logs, xDS) are cancelled after a short grace period.
void stopGrpcListener(std::unique_ptr<grpc::Server> &server);
// "127.0.0.1:0" and the port chosen -> "127.0.0.1:43817".
std::string boundAddressOf(const std::string &listenAddress, int port);

}  // namespace meshscope

#pragma once
// Starting and stopping a gRPC server the way every meshscope listener does (OTLP,
// Envoy access logs, xDS): one service on one address, a port already in use is an
// error rather than shared, and bind failures come back as one line. With TLS
// options it serves TLS (and mTLS), and receivers record the certificates their
// peers present.

#include "net/peercertificate.h"
#include "net/tlsoptions.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>

namespace grpc {
class Server;
class ServerContextBase;
class Service;
}  // namespace grpc

namespace meshscope {

// The quota of a receiver that takes messages of up to `maxMessageBytes`: four of them
// in flight at once, and never less than 128 MiB.
inline size_t receiverMemoryQuota(size_t maxMessageBytes) { return std::max(size_t(128) << 20, 4 * maxMessageBytes); }

struct GrpcListenOptions {
    // Receivers take any message size from gRPC and refuse over-limit ones themselves,
    // so that each refusal is counted (gRPC 1.51 reads a whole message before its own
    // size check anyway, and one it refuses never reaches meshscope).
    bool unlimitedMessageSize = false;
    // What gRPC may hold for this listener's calls, in bytes (0: no quota of its own).
    // gRPC reads a message whole before anyone can refuse it; past the quota it resets
    // the stream instead (the sender sees RESOURCE_EXHAUSTED, "RST_STREAM with error
    // code 11"), so a sender of 1 GiB messages costs the quota, not the message.
    size_t memoryQuotaBytes = 0;
    // Serve TLS when tls.enabled(): the certificate and key are checked before binding
    // (an unreadable or mismatched file fails the start with its name). With a client
    // CA, clients are asked for a certificate signed by it; with requireClientCert, a
    // client without one is refused in the handshake.
    TlsServerOptions tls;
};

// Returns the running server and the bound port, or null and "cannot listen for
// <what> on <address>: ..." in *error.
std::unique_ptr<grpc::Server> startGrpcListener(grpc::Service *service, const std::string &address,
    const std::string &what, const GrpcListenOptions &options, int *port, std::string *error);
// Records the certificate the peer of `context` presented (gRPC's "x509_pem_cert"
// auth property) into `log`. No-op for plaintext calls and peers without a certificate.
// Runs on the gRPC thread serving the call.
void recordTlsPeer(TlsPeerLog &log, const grpc::ServerContextBase &context);
// Long-lived streams (access logs, xDS) are cancelled after a short grace period.
void stopGrpcListener(std::unique_ptr<grpc::Server> &server);
// "127.0.0.1:0" and the port chosen -> "127.0.0.1:43817".
std::string boundAddressOf(const std::string &listenAddress, int port);

}  // namespace meshscope

#pragma once
// OTLP/gRPC trace receiver: serves opentelemetry.proto.collector.trace.v1.TraceService
// /Export on a configurable address and hands decoded spans to the aggregator.
// Runs entirely on gRPC's own threads; nothing here touches Qt objects.

#include "net/peercertificate.h"
#include "net/tlsoptions.h"
#include "telemetry/otlp/otlpdecoder.h"

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

namespace grpc {
class Server;
}

namespace meshscope {

class TelemetrySink;

struct OtlpReceiverConfig {
    std::string listenAddress = "127.0.0.1:4317";  // port 0 picks a free port
    size_t maxMessageBytes = 16u * 1024 * 1024;  // larger exports get RESOURCE_EXHAUSTED
    DecodeLimits limits;
    TlsServerOptions tls;  // certFile set: serve TLS (and mTLS with a client CA)
};

class OtlpReceiver {
public:
    OtlpReceiver(TelemetrySink &aggregator, OtlpReceiverConfig config = {});
    ~OtlpReceiver();
    OtlpReceiver(const OtlpReceiver &) = delete;
    OtlpReceiver &operator=(const OtlpReceiver &) = delete;

    // Binds and starts serving. On failure returns false and a one-line reason.
    bool start(std::string *error);
    void stop();
    bool running() const { return m_server != nullptr; }

    int port() const { return m_port; }
    // The address actually bound, with the chosen port ("127.0.0.1:43817").
    std::string boundAddress() const;
    const OtlpReceiverConfig &config() const { return m_config; }
    // With TLS: the recent peers and the certificates they presented, newest first.
    // Any thread.
    std::vector<TlsPeer> tlsPeers() const { return m_tlsPeers.peers(); }

private:
    class Service;
    TelemetrySink &m_aggregator;
    OtlpReceiverConfig m_config;
    std::unique_ptr<Service> m_service;
    std::unique_ptr<grpc::Server> m_server;
    int m_port = 0;
    TlsPeerLog m_tlsPeers;
};

}  // namespace meshscope

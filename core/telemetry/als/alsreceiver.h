#pragma once
// Envoy access-log service receiver: serves envoy.service.accesslog.v3.AccessLogService
// /StreamAccessLogs (a client stream) on a configurable address. Every stream
// remembers the node identity of its first message; each message is decoded and
// handed to the aggregator as soon as it is read, so a stream cut mid-way loses
// nothing already received. Runs entirely on gRPC's own threads; nothing here touches
// Qt objects.

#include "net/peercertificate.h"
#include "net/tlsoptions.h"
#include "telemetry/als/alsdecoder.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace grpc {
class Server;
}

namespace meshscope {

class TelemetrySink;

struct AlsReceiverConfig {
    std::string listenAddress = "127.0.0.1:0";  // port 0 picks a free port
    size_t maxMessageBytes = 16u * 1024 * 1024;  // a larger message ends its stream with RESOURCE_EXHAUSTED
    AlsDecodeLimits limits;
    TlsServerOptions tls;  // certFile set: serve TLS (and mTLS with a client CA)
};

// Totals since start(), readable from any thread.
struct AlsReceiverCounters {
    uint64_t streamsOpened = 0;
    uint64_t streamsActive = 0;
    uint64_t streamsCut = 0;  // ended by the client's cancellation or a broken connection
    uint64_t messages = 0;  // messages read and decoded (malformed and oversized excluded)
    uint64_t httpEntries = 0;
    uint64_t tcpEntries = 0;
    uint64_t rejectedEntries = 0;
    uint64_t requests = 0;  // ObservedRequests handed to the aggregator
    uint64_t malformedMessages = 0;
    uint64_t oversizedMessages = 0;
};

class AlsReceiver {
public:
    AlsReceiver(TelemetrySink &aggregator, AlsReceiverConfig config = {});
    ~AlsReceiver();
    AlsReceiver(const AlsReceiver &) = delete;
    AlsReceiver &operator=(const AlsReceiver &) = delete;

    // Binds and starts serving. On failure returns false and a one-line reason.
    bool start(std::string *error);
    // Ends open streams (after at most half a second) and stops listening.
    void stop();
    bool running() const { return m_server != nullptr; }

    int port() const { return m_port; }
    // The address actually bound, with the chosen port ("127.0.0.1:43817").
    std::string boundAddress() const;
    const AlsReceiverConfig &config() const { return m_config; }
    AlsReceiverCounters counters() const;
    // With TLS: the recent peers (one per stream's connection) and the certificates
    // they presented, newest first. Any thread.
    std::vector<TlsPeer> tlsPeers() const { return m_tlsPeers.peers(); }

private:
    class Service;
    class StreamReactor;
    struct AtomicCounters;
    TelemetrySink &m_aggregator;
    AlsReceiverConfig m_config;
    std::unique_ptr<AtomicCounters> m_counters;
    std::unique_ptr<Service> m_service;
    std::unique_ptr<grpc::Server> m_server;
    int m_port = 0;
    TlsPeerLog m_tlsPeers;
};

}  // namespace meshscope

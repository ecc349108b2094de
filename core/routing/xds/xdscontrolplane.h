#pragma once
// xDS control plane: serves envoy.service.discovery.v3.AggregatedDiscoveryService
// /StreamAggregatedResources (ADS, state of the world, v3) from the route model, to
// proxyless gRPC clients (xds:///<hostname>) and Envoys alike.
//
// Each response carries, for one type URL, every requested resource (LDS/CDS: the
// named ones, or all of them for a wildcard request; RDS/EDS: the named ones), the
// current version ("1", "2", ... one per setRouteSet/setResources) and a fresh nonce.
// A request that quotes the nonce of the latest response ACKs it, or NACKs it when it
// carries error_detail; requests quoting an older nonce are stale and ignored, as the
// xDS protocol says. Every connected client is tracked: its node, what it ACKed and
// what it NACKed and why, per type.
//
// Threads: streams run on gRPC's callback threads; setRouteSet, setResources and the
// getters may be called from any thread. The event callback runs on a gRPC thread
// with no lock held: copy what it needs and post it (Qt: a queued invokeMethod).

#include "net/peercertificate.h"
#include "net/tlsoptions.h"
#include "routing/routemodel.h"
#include "routing/xds/xdstranslator.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grpc {
class Server;
}

namespace meshscope::routing {

struct XdsControlPlaneConfig {
    std::string listenAddress = "127.0.0.1:18000";  // port 0 picks a free port
    std::string identifier = "meshscope";  // DiscoveryResponse.control_plane.identifier
    size_t maxDisconnectedClients = 64;  // the oldest disconnected clients are forgotten first
    TlsServerOptions tls;  // certFile set: serve TLS (and mTLS with a client CA)
};

// One type URL of one client's stream.
struct XdsTypeStatus {
    std::string typeUrl;
    bool wildcard = false;  // LDS/CDS asked for everything
    std::vector<std::string> resourceNames;  // what it subscribed to, sorted
    std::string sentVersion;  // of the latest response ("" before any)
    std::string sentNonce;
    int64_t sentAtMs = 0;  // wall clock, ms since the epoch
    std::string ackedVersion;  // the last version it accepted
    int64_t ackedAtMs = 0;
    bool rejected = false;  // the latest response was NACKed (cleared by an ACK)
    std::string nackedVersion;  // the last version it rejected, and why:
    int nackCode = 0;  // google.rpc.Status code (gRPC sends 3, INVALID_ARGUMENT)
    std::string nackMessage;
    int64_t nackedAtMs = 0;
    uint64_t nackCount = 0;
};

struct XdsClientStatus {
    uint64_t id = 0;  // one per stream, never reused
    std::string nodeId;
    std::string nodeCluster;
    std::string userAgentName;  // "gRPC C-core linux"
    std::string userAgentVersion;  // "C-core 29.0.0"
    std::string peer;  // "ipv4:127.0.0.1:50412"
    bool connected = true;
    int64_t connectedAtMs = 0;
    int64_t disconnectedAtMs = 0;
    std::vector<XdsTypeStatus> types;  // in the order the client first asked for them

    const XdsTypeStatus *type(std::string_view typeUrl) const;
};

struct XdsClientEvent {
    enum class Kind { Connected, Disconnected, Acked, Nacked };
    Kind kind = Kind::Connected;
    uint64_t clientId = 0;
    std::string nodeId;
    std::string peer;
    std::string typeUrl;  // Acked, Nacked
    std::string version;  // the version ACKed or NACKed
    int code = 0;  // Nacked
    std::string message;  // Nacked: the client's reason
};

class XdsControlPlane {
public:
    explicit XdsControlPlane(XdsControlPlaneConfig config = {});
    ~XdsControlPlane();
    XdsControlPlane(const XdsControlPlane &) = delete;
    XdsControlPlane &operator=(const XdsControlPlane &) = delete;

    // Binds and starts serving. On failure returns false and a one-line reason.
    bool start(std::string *error);
    // Ends open streams (after at most half a second) and stops listening.
    void stop();
    bool running() const { return m_server != nullptr; }
    int port() const { return m_port; }
    // The address actually bound, with the chosen port ("127.0.0.1:43817").
    std::string boundAddress() const;

    // Serves the translation of `set` and pushes it to every connected client.
    // May be called before start(). Returns the new version number.
    uint64_t setRouteSet(const RouteSet &set, const XdsTranslatorOptions &options = {});
    // Serves exactly these resources: a translation adjusted by hand, or (in tests)
    // one a client is expected to refuse. Returns the new version number.
    uint64_t setResources(const XdsResourceSet &resources);
    // The version being served; 0 until the first setRouteSet/setResources.
    uint64_t version() const;

    // Connected clients, then the most recently disconnected ones.
    std::vector<XdsClientStatus> clients() const;
    // With TLS: the certificates clients presented, newest first; TlsPeer::address
    // matches XdsClientStatus::peer.
    std::vector<TlsPeer> tlsPeers() const;
    // Called on a gRPC thread for every connect, disconnect, ACK and NACK.
    void setEventCallback(std::function<void(const XdsClientEvent &)> callback);

private:
    struct Shared;
    class Service;
    class Stream;
    std::shared_ptr<Shared> m_shared;
    XdsControlPlaneConfig m_config;
    std::unique_ptr<Service> m_service;
    std::unique_ptr<grpc::Server> m_server;
    int m_port = 0;
};

}  // namespace meshscope::routing

#include "routing/xds/xdscontrolplane.h"

#include "net/grpclistener.h"

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "model/clock.h"
#include "model/logging.h"
#include "net/grpclogging.h"
#include "net/redact.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

namespace meshscope::routing {

namespace discovery = envoy::service::discovery::v3;

namespace {

// A client's own words (node id, cluster, user agent, resource names) past this are
// cut; a request naming more resources than this is ignored.
constexpr size_t kMaxClientText = 256;
constexpr size_t kMaxResourceNames = 10000;

// What is being served: every resource packed once, by type URL and name.
struct Snapshot {
    uint64_t version = 0;
    std::string versionInfo;
    std::map<std::string, std::map<std::string, google::protobuf::Any>, std::less<>> byType;
};

template <class Message>
void addAll(Snapshot &snap, std::string_view typeUrl, const std::vector<Message> &resources)
{
    auto &byName = snap.byType[std::string(typeUrl)];
    for (const Message &m : resources) {
        // The first of two resources with one name wins, as the translator orders them.
        if (byName.count(m.name()))
            continue;
        byName[m.name()].PackFrom(m);
    }
}

// ClusterLoadAssignment names itself with cluster_name.
void addAll(Snapshot &snap, std::string_view typeUrl,
    const std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment> &resources)
{
    auto &byName = snap.byType[std::string(typeUrl)];
    for (const auto &m : resources) {
        if (!byName.count(m.cluster_name()))
            byName[m.cluster_name()].PackFrom(m);
    }
}

// One line per client event: a stream's start and end, and each ACK or NACK of a
// pushed version (never per request). Node ids and NACK details are the client's own
// text, so they are sanitized before they reach a terminal.
void logClientEvent(const XdsClientEvent &e)
{
    const QString client = QStringLiteral("client %1 (node '%2')")
                               .arg(e.clientId)
                               .arg(QString::fromStdString(sanitizeRemoteText(e.nodeId)));
    const QString type = QString::fromStdString(e.typeUrl).section(QLatin1Char('/'), -1);
    switch (e.kind) {
    case XdsClientEvent::Kind::Connected:
        qCDebug(lcXds).noquote() << client << "connected from" << QString::fromStdString(e.peer);
        break;
    case XdsClientEvent::Kind::Acked:
        qCDebug(lcXds).noquote() << client << "ACKed" << type << "version" << QString::fromStdString(e.version);
        break;
    case XdsClientEvent::Kind::Nacked:
        qCDebug(lcXds).noquote() << client << "NACKed" << type << "version" << QString::fromStdString(e.version)
                                 << QStringLiteral("(code %1):").arg(e.code)
                                 << QString::fromStdString(sanitizeRemoteText(e.message));
        break;
    case XdsClientEvent::Kind::Disconnected:
        qCDebug(lcXds).noquote() << client << "disconnected from" << QString::fromStdString(e.peer);
        break;
    }
}

// Responses are written in this order when several types are due, so that a client
// learns of new clusters and endpoints before the routes that send traffic there
// (the make-before-break order the xDS protocol recommends for ADS).
int typeRank(std::string_view typeUrl)
{
    if (typeUrl == kXdsClusterType)
        return 0;
    if (typeUrl == kXdsClusterLoadAssignmentType)
        return 1;
    if (typeUrl == kXdsListenerType)
        return 2;
    if (typeUrl == kXdsRouteConfigurationType)
        return 3;
    return 4;
}

}  // namespace

const XdsTypeStatus *XdsClientStatus::type(std::string_view typeUrl) const
{
    for (const XdsTypeStatus &t : types) {
        if (t.typeUrl == typeUrl)
            return &t;
    }
    return nullptr;
}

// State shared by the control plane and its streams; streams keep it alive until
// gRPC is done with them.
struct XdsControlPlane::Shared {
    // One client stream. It stays in the registry after the stream ends so that the
    // status of disconnected clients remains visible. Everything here is guarded by
    // `mutex`; lock order is registryMutex before a client's mutex, never the reverse.
    struct Client {
        std::mutex mutex;
        XdsClientStatus status;
        bool nodeSeen = false;
        uint64_t unknownTypeRequests = 0;  // requests for types meshscope does not serve, ignored
        std::set<std::string> due;  // type URLs owed a response
        Stream *stream = nullptr;  // null once gRPC is done with the stream
        bool writing = false;  // a StartWrite of `outgoing` is in flight
        bool finishing = false;  // the read side ended: Finish once no write is in flight
        bool finished = false;  // Finish was called
        bool broken = false;  // a write failed: send nothing more
        discovery::DiscoveryResponse outgoing;
    };

    std::string identifier;
    size_t maxDisconnected = 64;
    bool tls = false;
    TlsPeerLog tlsPeers;
    std::atomic<uint64_t> lastNonce {0};
    std::atomic<uint64_t> lastClientId {0};

    mutable std::mutex snapshotMutex;
    std::shared_ptr<const Snapshot> snapshot;

    mutable std::mutex registryMutex;
    std::vector<std::shared_ptr<Client>> clients;  // in connect order

    std::mutex callbackMutex;
    std::shared_ptr<const std::function<void(const XdsClientEvent &)>> callback;

    // The version each client's ACK was last logged for, by (client id, type URL).
    std::mutex logMutex;
    std::map<std::pair<uint64_t, std::string>, std::string> loggedAcks;

    std::shared_ptr<const Snapshot> currentSnapshot() const
    {
        std::lock_guard lock(snapshotMutex);
        return snapshot;
    }

    // Runs the event callback, with no lock held, on the calling (gRPC) thread.
    void emit(const std::vector<XdsClientEvent> &events)
    {
        if (events.empty())
            return;
        for (const XdsClientEvent &e : events) {
            if (worthLogging(e))
                logClientEvent(e);
        }
        std::shared_ptr<const std::function<void(const XdsClientEvent &)>> cb;
        {
            std::lock_guard lock(callbackMutex);
            cb = callback;
        }
        if (!cb || !*cb)
            return;
        for (const XdsClientEvent &e : events)
            (*cb)(e);
    }

    // A client ACKs every response, and a response may repeat a version the client
    // already holds (its resource names changed): only the first ACK of a version is
    // news. Any thread; takes logMutex only.
    bool worthLogging(const XdsClientEvent &e)
    {
        if (!lcXds().isDebugEnabled())
            return false;
        std::lock_guard lock(logMutex);
        switch (e.kind) {
        case XdsClientEvent::Kind::Acked: {
            std::string &last = loggedAcks[{e.clientId, e.typeUrl}];
            if (last == e.version)
                return false;
            last = e.version;
            return true;
        }
        case XdsClientEvent::Kind::Nacked: loggedAcks.erase({e.clientId, e.typeUrl}); return true;
        case XdsClientEvent::Kind::Disconnected:
            for (auto it = loggedAcks.lower_bound({e.clientId, std::string()});
                 it != loggedAcks.end() && it->first.first == e.clientId;)
                it = loggedAcks.erase(it);
            return true;
        case XdsClientEvent::Kind::Connected: return true;
        }
        return true;
    }

    // Builds the next due response into client.outgoing. Called with client.mutex held.
    bool prepareNext(Client &client)
    {
        const std::shared_ptr<const Snapshot> snap = currentSnapshot();
        if (!snap || client.due.empty())
            return false;  // nothing to serve yet: setResources marks the types due again
        const std::string typeUrl
            = *std::min_element(client.due.begin(), client.due.end(), [](const auto &a, const auto &b) {
                  return std::make_pair(typeRank(a), a) < std::make_pair(typeRank(b), b);
              });
        client.due.erase(typeUrl);
        XdsTypeStatus *t = nullptr;
        for (XdsTypeStatus &candidate : client.status.types) {
            if (candidate.typeUrl == typeUrl)
                t = &candidate;
        }
        if (!t)
            return false;
        discovery::DiscoveryResponse &r = client.outgoing;
        r.Clear();
        r.set_version_info(snap->versionInfo);
        r.set_type_url(typeUrl);
        r.set_nonce(std::to_string(++lastNonce));
        r.mutable_control_plane()->set_identifier(identifier);
        // State of the world: every requested resource that exists, in every response.
        if (const auto it = snap->byType.find(typeUrl); it != snap->byType.end()) {
            if (t->wildcard) {
                for (const auto &[name, any] : it->second)
                    *r.add_resources() = any;
            } else {
                for (const std::string &name : t->resourceNames) {
                    if (const auto found = it->second.find(name); found != it->second.end())
                        *r.add_resources() = found->second;
                }
            }
        }
        t->sentVersion = snap->versionInfo;
        t->sentNonce = r.nonce();
        t->sentAtMs = wallNowMs();
        return true;
    }

    // Starts writing the next due response unless a write is in flight (its
    // OnWriteDone comes back here). Any thread; call with no lock held.
    void pump(Client &client);

    // Marks every subscribed type of every connected client due and starts writing.
    void pushAll()
    {
        std::vector<std::shared_ptr<Client>> targets;
        {
            std::lock_guard lock(registryMutex);
            targets = clients;
        }
        for (const auto &c : targets) {
            {
                std::lock_guard lock(c->mutex);
                if (!c->stream)
                    continue;
                for (const XdsTypeStatus &t : c->status.types) {
                    if (t.wildcard || !t.resourceNames.empty())
                        c->due.insert(t.typeUrl);
                }
            }
            pump(*c);
        }
    }
};

// One ADS stream. gRPC runs its reactions on callback threads, a read and a write
// possibly at once; the client record's mutex orders them. Deletes itself in OnDone.
class XdsControlPlane::Stream final
    : public grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse> {
public:
    Stream(std::shared_ptr<Shared> shared, grpc::CallbackServerContext *context)
        : m_shared(std::move(shared))
        , m_client(std::make_shared<Shared::Client>())
    {
        m_client->status.id = ++m_shared->lastClientId;
        m_client->status.peer = context->peer();
        if (m_shared->tls)
            recordTlsPeer(m_shared->tlsPeers, *context);
        m_client->status.connectedAtMs = wallNowMs();
        m_client->stream = this;
        {
            std::lock_guard lock(m_shared->registryMutex);
            m_shared->clients.push_back(m_client);
        }
        StartRead(&m_request);
    }

    void OnReadDone(bool ok) override
    {
        if (!ok) {
            // The client closed the stream, or it broke: end it once no write is in flight.
            bool finishNow = false;
            {
                std::lock_guard lock(m_client->mutex);
                m_client->finishing = true;
                if (!m_client->writing && !m_client->finished)
                    finishNow = m_client->finished = true;
            }
            if (finishNow)
                Finish(grpc::Status::OK);
            return;
        }
        std::vector<XdsClientEvent> events;
        {
            std::lock_guard lock(m_client->mutex);
            handle(m_request, events);
        }
        m_request.Clear();
        m_shared->emit(events);
        m_shared->pump(*m_client);
        StartRead(&m_request);
    }

    void OnWriteDone(bool ok) override
    {
        bool finishNow = false;
        {
            std::lock_guard lock(m_client->mutex);
            m_client->writing = false;
            if (!ok)
                m_client->broken = true;
            if (m_client->finishing && !m_client->finished)
                finishNow = m_client->finished = true;
        }
        if (finishNow) {
            Finish(grpc::Status::OK);
            return;
        }
        m_shared->pump(*m_client);
    }

    void OnDone() override
    {
        XdsClientEvent event;
        event.kind = XdsClientEvent::Kind::Disconnected;
        {
            std::lock_guard registry(m_shared->registryMutex);
            {
                std::lock_guard lock(m_client->mutex);
                m_client->stream = nullptr;
                m_client->status.connected = false;
                m_client->status.disconnectedAtMs = wallNowMs();
                event.clientId = m_client->status.id;
                event.nodeId = m_client->status.nodeId;
                event.peer = m_client->status.peer;
            }
            forgetOldClients();
        }
        m_shared->emit({event});
        delete this;
    }

private:
    // Records one request and decides whether it is owed a response. Called with the
    // client's mutex held.
    void handle(const discovery::DiscoveryRequest &req, std::vector<XdsClientEvent> &events)
    {
        XdsClientStatus &st = m_client->status;
        if (req.has_node() && !m_client->nodeSeen) {
            // gRPC sends the node on the first request of a stream only.
            m_client->nodeSeen = true;
            // What a client says of itself reaches logs, the terminal and the GUI:
            // escaped and bounded here, once.
            st.nodeId = sanitizeRemoteText(req.node().id(), kMaxClientText);
            st.nodeCluster = sanitizeRemoteText(req.node().cluster(), kMaxClientText);
            st.userAgentName = sanitizeRemoteText(req.node().user_agent_name(), kMaxClientText);
            st.userAgentVersion = sanitizeRemoteText(req.node().user_agent_version(), kMaxClientText);
            events.push_back(event(XdsClientEvent::Kind::Connected, {}, {}));
        }
        const std::string &typeUrl = req.type_url();
        if (typeUrl.empty())
            return;  // ADS needs the type on every request
        // Only the four types meshscope serves get state: a client inventing type URLs
        // (100k of them on one stream) costs nothing.
        if (typeUrl != kXdsListenerType && typeUrl != kXdsRouteConfigurationType && typeUrl != kXdsClusterType
            && typeUrl != kXdsClusterLoadAssignmentType) {
            m_client->unknownTypeRequests++;
            return;
        }
        XdsTypeStatus *t = nullptr;
        for (XdsTypeStatus &candidate : st.types) {
            if (candidate.typeUrl == typeUrl)
                t = &candidate;
        }
        if (!t) {
            st.types.push_back({});
            t = &st.types.back();
            t->typeUrl = typeUrl;
        }
        const std::string &nonce = req.response_nonce();
        const bool answersLatest = !nonce.empty() && nonce == t->sentNonce;
        // A nonce older than the latest response: the client has not seen that response
        // yet and will answer it; this request is stale (xDS protocol: ignore it). A
        // nonce for a type never answered on this stream counts as a first request.
        if (!nonce.empty() && !t->sentNonce.empty() && !answersLatest)
            return;

        if (req.resource_names_size() > int(kMaxResourceNames)) {
            m_client->unknownTypeRequests++;
            return;  // far more than any real client subscribes to
        }
        std::vector<std::string> names;
        names.reserve(size_t(req.resource_names_size()));
        for (const std::string &n : req.resource_names()) {
            if (n.size() <= kMaxClientText)
                names.push_back(n);
        }
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        const auto star = std::find(names.begin(), names.end(), "*");
        bool wildcard = star != names.end();
        if (wildcard)
            names.erase(star);
        // An empty LDS/CDS list is the legacy wildcard; for RDS/EDS it subscribes to nothing.
        if (names.empty() && (typeUrl == kXdsListenerType || typeUrl == kXdsClusterType))
            wildcard = true;
        const bool changed = !answersLatest || wildcard != t->wildcard || names != t->resourceNames;
        t->wildcard = wildcard;
        t->resourceNames = std::move(names);

        if (answersLatest) {
            if (req.has_error_detail()) {
                t->rejected = true;
                t->nackedVersion = t->sentVersion;
                t->nackCode = req.error_detail().code();
                t->nackMessage = sanitizeRemoteText(req.error_detail().message());
                t->nackedAtMs = wallNowMs();
                t->nackCount++;
                events.push_back(event(XdsClientEvent::Kind::Nacked, typeUrl, t->nackedVersion));
                events.back().code = t->nackCode;
                events.back().message = t->nackMessage;
            } else {
                t->rejected = false;
                t->ackedVersion = t->sentVersion;
                t->ackedAtMs = wallNowMs();
                events.push_back(event(XdsClientEvent::Kind::Acked, typeUrl, t->ackedVersion));
            }
        }
        // A NACK is not answered with the same resources again: they would be refused
        // again. The next setResources/setRouteSet pushes a new version.
        if (changed && (t->wildcard || !t->resourceNames.empty() || answersLatest))
            m_client->due.insert(typeUrl);
    }

    XdsClientEvent event(XdsClientEvent::Kind kind, const std::string &typeUrl, const std::string &version) const
    {
        XdsClientEvent e;
        e.kind = kind;
        e.clientId = m_client->status.id;
        e.nodeId = m_client->status.nodeId;
        e.peer = m_client->status.peer;
        e.typeUrl = typeUrl;
        e.version = version;
        return e;
    }

    // Keeps the newest disconnected clients only. Called with registryMutex held.
    void forgetOldClients()
    {
        auto &all = m_shared->clients;
        size_t disconnected = 0;
        for (const auto &c : all) {
            std::lock_guard lock(c->mutex);
            disconnected += c->status.connected ? 0 : 1;
        }
        for (auto it = all.begin(); it != all.end() && disconnected > m_shared->maxDisconnected;) {
            bool gone = false;
            {
                std::lock_guard lock((*it)->mutex);
                gone = !(*it)->status.connected;
            }
            if (gone) {
                it = all.erase(it);
                --disconnected;
            } else {
                ++it;
            }
        }
    }

    std::shared_ptr<Shared> m_shared;
    std::shared_ptr<Shared::Client> m_client;
    discovery::DiscoveryRequest m_request;
};

void XdsControlPlane::Shared::pump(Client &client)
{
    Stream *stream = nullptr;
    {
        std::lock_guard lock(client.mutex);
        if (!client.stream || client.writing || client.finishing || client.broken)
            return;
        if (!prepareNext(client))
            return;
        // While `writing` is set the stream cannot finish, so it outlives this call.
        client.writing = true;
        stream = client.stream;
    }
    // Outside the lock: gRPC may run OnWriteDone inline, which locks it again.
    stream->StartWrite(&client.outgoing);
}

class XdsControlPlane::Service final : public discovery::AggregatedDiscoveryService::CallbackService {
public:
    explicit Service(std::shared_ptr<Shared> shared)
        : m_shared(std::move(shared))
    {
    }

    // Runs on a gRPC callback thread when a client opens a stream.
    grpc::ServerBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse> *StreamAggregatedResources(
        grpc::CallbackServerContext *context) override
    {
        return new Stream(m_shared, context);
    }

private:
    std::shared_ptr<Shared> m_shared;
};

XdsControlPlane::XdsControlPlane(XdsControlPlaneConfig config)
    : m_shared(std::make_shared<Shared>())
    , m_config(std::move(config))
{
    m_shared->identifier = m_config.identifier;
    m_shared->maxDisconnected = m_config.maxDisconnectedClients;
    m_shared->tls = m_config.tls.enabled();
}

XdsControlPlane::~XdsControlPlane() { stop(); }

bool XdsControlPlane::start(std::string *error)
{
    if (m_server)
        return true;
    m_service = std::make_unique<Service>(m_shared);
    GrpcListenOptions options;
    options.unlimitedMessageSize = false;
    options.tls = m_config.tls;
    m_server = startGrpcListener(m_service.get(), m_config.listenAddress, "xDS clients", options, &m_port, error);
    if (!m_server) {
        qCDebug(lcXds).noquote() << "cannot listen on" << QString::fromStdString(m_config.listenAddress) << "-"
                                 << (error ? QString::fromStdString(*error) : QString());
        m_service.reset();
        return false;
    }
    qCDebug(lcXds).noquote() << "serving ADS on" << QString::fromStdString(boundAddress())
                             << (m_config.tls.enabled() ? "(TLS)" : "(plaintext)");
    return true;
}

void XdsControlPlane::stop()
{
    if (m_server)
        qCDebug(lcXds).noquote() << "stopped serving ADS on" << QString::fromStdString(boundAddress());
    stopGrpcListener(m_server);
    m_service.reset();
}

std::string XdsControlPlane::boundAddress() const { return boundAddressOf(m_config.listenAddress, m_port); }

uint64_t XdsControlPlane::setRouteSet(const RouteSet &set, const XdsTranslatorOptions &options)
{
    return setResources(translateToXds(set, options));
}

uint64_t XdsControlPlane::setResources(const XdsResourceSet &resources)
{
    auto snap = std::make_shared<Snapshot>();
    addAll(*snap, kXdsListenerType, resources.listeners);
    addAll(*snap, kXdsRouteConfigurationType, resources.routeConfigurations);
    addAll(*snap, kXdsClusterType, resources.clusters);
    addAll(*snap, kXdsClusterLoadAssignmentType, resources.loadAssignments);
    uint64_t version = 0;
    {
        std::lock_guard lock(m_shared->snapshotMutex);
        version = (m_shared->snapshot ? m_shared->snapshot->version : 0) + 1;
        snap->version = version;
        snap->versionInfo = std::to_string(version);
        m_shared->snapshot = std::move(snap);
    }
    m_shared->pushAll();
    return version;
}

uint64_t XdsControlPlane::version() const
{
    const auto snap = m_shared->currentSnapshot();
    return snap ? snap->version : 0;
}

std::vector<XdsClientStatus> XdsControlPlane::clients() const
{
    std::vector<std::shared_ptr<Shared::Client>> all;
    {
        std::lock_guard lock(m_shared->registryMutex);
        all = m_shared->clients;
    }
    std::vector<XdsClientStatus> connected, disconnected;
    for (const auto &c : all) {
        std::lock_guard lock(c->mutex);
        (c->status.connected ? connected : disconnected).push_back(c->status);
    }
    std::stable_sort(disconnected.begin(), disconnected.end(),
        [](const XdsClientStatus &a, const XdsClientStatus &b) { return a.disconnectedAtMs > b.disconnectedAtMs; });
    connected.insert(
        connected.end(), std::make_move_iterator(disconnected.begin()), std::make_move_iterator(disconnected.end()));
    return connected;
}

std::vector<TlsPeer> XdsControlPlane::tlsPeers() const { return m_shared->tlsPeers.peers(); }

void XdsControlPlane::setEventCallback(std::function<void(const XdsClientEvent &)> callback)
{
    auto cb = std::make_shared<const std::function<void(const XdsClientEvent &)>>(std::move(callback));
    std::lock_guard lock(m_shared->callbackMutex);
    m_shared->callback = std::move(cb);
}

}  // namespace meshscope::routing

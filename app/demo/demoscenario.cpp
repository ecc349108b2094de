#include "demoscenario.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <utility>

namespace meshscope::demo {

namespace {

// Indices into m_services; the order of the table in the constructor.
enum Svc : size_t {
    IngressGateway,
    EgressGateway,
    Frontend,
    Catalog,
    Cart,
    Checkout,
    Payments,
    ReviewsV1,
    ReviewsV2,
    Ratings,
    Recommendations,
    Search,
    Inventory,
    Shipping,
    Auth,
    Users,
    Notifications,
    ServiceCount
};

constexpr uint64_t kNsPerMs = 1000000;
constexpr uint64_t kNsPerSecond = 1000000000;
constexpr uint64_t kSlowPeriodS = 60;
constexpr uint64_t kSlowStartS = 30;  // late enough that short test runs see the normal mesh
constexpr uint64_t kSlowLengthS = 10;
constexpr double kSlowFactor = 10.0;

constexpr int kGrpcOk = 0;
constexpr int kGrpcInternal = 13;
constexpr int kGrpcUnavailable = 14;

// What a callee answered. grpc < 0: the hop is plain HTTP.
struct Response {
    int http = 200;
    int grpc = -1;

    bool isGrpc() const { return grpc >= 0; }
    bool failed() const { return http >= 500 || grpc > kGrpcOk; }
};

class Trace;
class Handler;
using HandlerFn = void (*)(Handler &);

// One operation a service serves, and how it is reached.
struct Endpoint {
    size_t service = 0;
    bool grpc = false;
    std::string_view method;  // HTTP method, or the gRPC method name
    std::string_view route;  // HTTP route template, or the gRPC service name
    std::string path;  // concrete HTTP path; unused for gRPC
    HandlerFn handler = nullptr;
    int port = 8080;
    std::string_view host = {};  // what the caller dials, when not the callee's cluster name
};

// Request-wide facts the handlers share.
struct RequestContext {
    const Endpoint *upstream = nullptr;  // where the ingress gateway routes this request
    int productId = 0;
    int userId = 0;
    bool loggedIn = false;
};

// One server span while its handler runs: a cursor in time, and what the handler
// has decided about its own answer.
class Handler {
public:
    Handler(Trace &trace, size_t service, uint64_t spanId, uint64_t startNs)
        : m_trace(trace)
        , m_service(service)
        , m_spanId(spanId)
        , m_now(startNs)
    {
    }

    uint64_t now() const { return m_now; }
    RequestContext &request();
    bool chance(double p);

    // Spends local time (CPU, locks, serialisation) with a lognormal spread.
    void work(double medianMs, double sigma = 0.5);
    // Calls another service; on a failed answer the caller fails too with
    // probability propagate (0: it degrades gracefully, 1: it cannot do without).
    Response call(Endpoint endpoint, double propagate);
    // A call to a database outside the mesh: only this client span exists.
    void query(std::string_view operation, std::string_view table, std::string_view statement, double medianMs);
    // An HTTPS call to an API outside the cluster: only this client span exists.
    void callOutside(std::string_view host, std::string_view method, std::string_view path, double medianMs);

    // Branches start together (a few microseconds apart); the handler continues once
    // the slowest one is done.
    template <typename... Branch>
    void parallel(Branch &&...branches)
    {
        const uint64_t start = m_now;
        uint64_t end = start;
        uint64_t stagger = 0;
        ((m_now = start + stagger, branches(), end = std::max(end, m_now), stagger += 15000), ...);
        m_now = end;
    }

    // A proxy answers with whatever the upstream answered.
    void forward(Response r) { m_forwarded = r; }
    void failWith(Response r) { m_failure = r; }

    std::optional<Response> m_forwarded;
    std::optional<Response> m_failure;

private:
    Trace &m_trace;
    size_t m_service;
    uint64_t m_spanId;
    uint64_t m_now;
};

// Builds the spans of one request.
class Trace {
public:
    Trace(const DemoScenario &scenario, std::mt19937_64 &rng, uint64_t startNs, std::vector<DemoSpan> &out,
        DemoScenario::FaultBudget &paymentsUnavailable, DemoScenario::FaultBudget &cartNotFound)
        : m_scenario(scenario)
        , m_rng(rng)
        , m_out(out)
        , m_slowInventory(scenario.inventorySlowAt(startNs))
        , m_paymentsUnavailable(paymentsUnavailable)
        , m_cartNotFound(cartNotFound)
    {
        do {
            const uint64_t hi = rng(), lo = rng();
            for (int i = 0; i < 8; ++i) {
                m_traceId[size_t(i)] = uint8_t(hi >> (56 - 8 * i));
                m_traceId[size_t(8 + i)] = uint8_t(lo >> (56 - 8 * i));
            }
        } while (std::all_of(m_traceId.begin(), m_traceId.end(), [](uint8_t b) { return b == 0; }));
    }

    RequestContext &request() { return m_request; }

    uint64_t newSpanId()
    {
        uint64_t id = 0;
        while (id == 0)
            id = m_rng();
        return id;
    }

    bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(m_rng) < p; }

    uint64_t lognormalNs(double medianMs, double sigma)
    {
        std::lognormal_distribution<double> d(std::log(medianMs), sigma);
        return uint64_t(d(m_rng) * double(kNsPerMs));
    }

    // Sidecar to sidecar, one direction.
    uint64_t networkNs() { return lognormalNs(0.25, 0.5); }

    double slowdownFor(size_t service) const { return service == Inventory && m_slowInventory ? kSlowFactor : 1.0; }

    // Runs the callee's handler and records its SERVER span; returns when it answered.
    std::pair<uint64_t, Response> serve(const Endpoint &ep, uint64_t parentSpanId, uint64_t startNs, bool fromOutside);

    DemoSpan &emit(size_t service, DemoSpanKind kind, std::string name, uint64_t parent, uint64_t spanId,
        uint64_t startNs, uint64_t endNs)
    {
        DemoSpan &s = m_out.emplace_back();
        s.service = service;
        s.traceId = m_traceId;
        s.spanId = spanId;
        s.parentSpanId = parent;
        s.kind = kind;
        s.name = std::move(name);
        s.startNs = startNs;
        s.endNs = std::max(endNs, startNs + 1000);
        s.attributes.reserve(10);
        return s;
    }

    const DemoScenario &scenario() const { return m_scenario; }
    bool paymentsUnavailable() { return m_paymentsUnavailable.trip(m_rng, 0.05); }
    bool cartNotFound() { return m_cartNotFound.trip(m_rng, 0.02); }

private:
    const DemoScenario &m_scenario;
    std::mt19937_64 &m_rng;
    std::vector<DemoSpan> &m_out;
    std::array<uint8_t, 16> m_traceId {};
    bool m_slowInventory;
    DemoScenario::FaultBudget &m_paymentsUnavailable;
    DemoScenario::FaultBudget &m_cartNotFound;
    RequestContext m_request;
};

RequestContext &Handler::request() { return m_trace.request(); }

bool Handler::chance(double p) { return m_trace.chance(p); }

void Handler::work(double medianMs, double sigma)
{
    m_now += uint64_t(double(m_trace.lognormalNs(medianMs, sigma)) * m_trace.slowdownFor(m_service));
}

std::string spanNameOf(const Endpoint &ep)
{
    std::string name;
    if (ep.grpc)
        name.append(ep.route).append("/").append(ep.method);
    else
        name.append(ep.method).append(" ").append(ep.route);
    return name;
}

// OpenTelemetry's rules: a server span is an error only when the fault is its own
// (5xx; gRPC codes that mean a server fault), a client span on any 4xx/5xx or non-OK.
bool isErrorFor(DemoSpanKind kind, const Response &r)
{
    if (r.isGrpc()) {
        if (kind == DemoSpanKind::Client)
            return r.grpc != kGrpcOk;
        switch (r.grpc) {
        case 2:
        case 4:
        case 12:
        case 13:
        case 14:
        case 15: return true;
        default: return false;
        }
    }
    return r.http >= 500 || (kind == DemoSpanKind::Client && r.http >= 400);
}

constexpr std::string_view kGrpcCodeNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

void setStatus(DemoSpan &s, const Response &r)
{
    s.error = isErrorFor(s.kind, r);
    if (!s.error)
        return;
    if (r.isGrpc()) {
        s.statusMessage = kGrpcCodeNames[size_t(r.grpc)];
        if (r.http == 503)
            s.statusMessage += ": service unavailable (load shedding)";
    }
    // HTTP status descriptions stay empty, as the semantic conventions ask.
}

void addProtocolAttributes(DemoSpan &s, const Endpoint &ep, const Response &r)
{
    if (ep.grpc) {
        s.attributes.push_back(DemoAttribute::lit("rpc.system", "grpc"));
        s.attributes.push_back(DemoAttribute::lit("rpc.service", ep.route));
        s.attributes.push_back(DemoAttribute::lit("rpc.method", ep.method));
        s.attributes.push_back(DemoAttribute::num("rpc.grpc.status_code", r.grpc));
        // A 503 from the mesh (load shedding, no healthy upstream) reaches gRPC clients
        // as UNAVAILABLE; Envoy-based telemetry reports both codes.
        if (r.http != 200)
            s.attributes.push_back(DemoAttribute::num("http.response.status_code", r.http));
        s.attributes.push_back(DemoAttribute::lit("network.protocol.version", "2"));
    } else {
        s.attributes.push_back(DemoAttribute::lit("http.request.method", ep.method));
        s.attributes.push_back(DemoAttribute::str("url.path", ep.path));
        s.attributes.push_back(DemoAttribute::lit("http.route", ep.route));
        s.attributes.push_back(DemoAttribute::num("http.response.status_code", r.http));
        s.attributes.push_back(DemoAttribute::lit("network.protocol.version", "1.1"));
    }
}

std::pair<uint64_t, Response> Trace::serve(
    const Endpoint &ep, uint64_t parentSpanId, uint64_t startNs, bool fromOutside)
{
    const uint64_t spanId = newSpanId();
    Handler h(*this, ep.service, spanId, startNs);

    // Faults decided up front fail fast, the way an overloaded or missing backend does.
    std::optional<Response> fault;
    if (ep.service == Payments && paymentsUnavailable()) {
        fault = ep.grpc ? Response {503, kGrpcUnavailable} : Response {503, -1};
    } else if (ep.service == Cart && cartNotFound()) {
        fault = Response {404, -1};  // the shopper's cart expired
    }

    if (fault) {
        h.work(0.3, 0.4);
    } else {
        h.work(0.05, 0.3);  // request decoding, before the handler proper
        ep.handler(h);
    }

    Response r;
    if (ep.grpc)
        r.grpc = kGrpcOk;
    if (fault)
        r = *fault;
    else if (h.m_forwarded)
        r = *h.m_forwarded;
    else if (h.m_failure)
        r = ep.grpc ? Response {200, kGrpcInternal} : *h.m_failure;

    DemoSpan &s = emit(ep.service, DemoSpanKind::Server, spanNameOf(ep), parentSpanId, spanId, startNs, h.now());
    addProtocolAttributes(s, ep, r);
    if (!ep.grpc)
        s.attributes.push_back(DemoAttribute::lit("url.scheme", fromOutside ? "https" : "http"));
    if (fromOutside) {
        s.attributes.push_back(DemoAttribute::lit("server.address", "shop.example.com"));
        s.attributes.push_back(DemoAttribute::str(
            "client.address", "203.0.113." + std::to_string(std::uniform_int_distribution<int>(1, 254)(m_rng))));
        s.attributes.push_back(DemoAttribute::lit("user_agent.original",
            chance(0.7) ? "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" : "ShopApp/3.2 (Android 14)"));
    } else {
        s.attributes.push_back(DemoAttribute::lit("connection_security_policy", "mutual_tls"));
    }
    if (!ep.grpc) {
        std::uniform_int_distribution<int> body(200, 6000);
        s.attributes.push_back(DemoAttribute::num("http.response.body.size", r.http < 300 ? body(m_rng) : 120));
    }
    setStatus(s, r);
    return {h.now(), r};
}

Response Handler::call(Endpoint ep, double propagate)
{
    const uint64_t clientId = m_trace.newSpanId();
    const uint64_t start = m_now;
    const auto [serverEnd, r] = m_trace.serve(ep, clientId, start + m_trace.networkNs(), false);
    const uint64_t end = serverEnd + m_trace.networkNs();

    const std::string_view host = ep.host.empty() ? m_trace.scenario().services()[ep.service].host : ep.host;
    DemoSpan &s = m_trace.emit(m_service, DemoSpanKind::Client, spanNameOf(ep), m_spanId, clientId, start, end);
    addProtocolAttributes(s, ep, r);
    s.attributes.push_back(DemoAttribute::lit("server.address", host));
    s.attributes.push_back(DemoAttribute::num("server.port", ep.port));
    if (!ep.grpc)
        s.attributes.push_back(
            DemoAttribute::str("url.full", "http://" + std::string(host) + ":" + std::to_string(ep.port) + ep.path));
    setStatus(s, r);

    m_now = end;
    if (r.failed() && chance(propagate) && !m_failure)
        m_failure = Response {500, -1};
    return r;
}

void Handler::query(std::string_view operation, std::string_view table, std::string_view statement, double medianMs)
{
    const uint64_t start = m_now;
    const uint64_t end = start + uint64_t(double(m_trace.lognormalNs(medianMs, 0.6)) * m_trace.slowdownFor(m_service));
    DemoSpan &s = m_trace.emit(m_service, DemoSpanKind::Client, std::string(operation) + " " + std::string(table),
        m_spanId, m_trace.newSpanId(), start, end);
    s.attributes.push_back(DemoAttribute::lit("db.system", "postgresql"));
    s.attributes.push_back(DemoAttribute::lit("db.namespace", m_trace.scenario().services()[m_service].name));
    s.attributes.push_back(DemoAttribute::lit("db.operation.name", operation));
    s.attributes.push_back(DemoAttribute::lit("db.collection.name", table));
    s.attributes.push_back(DemoAttribute::lit("db.query.text", statement));
    s.attributes.push_back(DemoAttribute::lit("peer.service", "postgres"));
    s.attributes.push_back(DemoAttribute::lit("server.address", "postgres.data.svc"));
    s.attributes.push_back(DemoAttribute::num("server.port", 5432));
    m_now = end;
}

void Handler::callOutside(std::string_view host, std::string_view method, std::string_view path, double medianMs)
{
    const uint64_t start = m_now;
    const uint64_t end = start + m_trace.lognormalNs(medianMs, 0.35);
    DemoSpan &s
        = m_trace.emit(m_service, DemoSpanKind::Client, std::string(method), m_spanId, m_trace.newSpanId(), start, end);
    s.attributes.push_back(DemoAttribute::lit("http.request.method", method));
    s.attributes.push_back(DemoAttribute::str("url.full", "https://" + std::string(host) + std::string(path)));
    s.attributes.push_back(DemoAttribute::lit("server.address", host));
    s.attributes.push_back(DemoAttribute::num("server.port", 443));
    s.attributes.push_back(DemoAttribute::num("http.response.status_code", 200));
    s.attributes.push_back(DemoAttribute::lit("network.protocol.version", "1.1"));
    m_now = end;
}

// ---- What each service does. ----

Endpoint http(size_t service, std::string_view method, std::string_view route, std::string path, HandlerFn fn)
{
    return Endpoint {service, false, method, route, std::move(path), fn, 8080};
}

Endpoint grpc(size_t service, std::string_view rpcService, std::string_view rpcMethod, HandlerFn fn)
{
    return Endpoint {service, true, rpcMethod, rpcService, {}, fn, 50051};
}

std::string productPath(Handler &h, std::string_view prefix)
{
    return std::string(prefix) + std::to_string(h.request().productId);
}

void usersGet(Handler &h)
{
    h.work(0.4);
    h.query("SELECT", "users", "SELECT id, name, email FROM users WHERE id = $1", 0.9);
    h.work(0.2);
}

Endpoint usersEndpoint(Handler &h)
{
    return http(Users, "GET", "/api/users/{id}", "/api/users/u-" + std::to_string(h.request().userId), usersGet);
}

void authVerify(Handler &h)
{
    h.work(0.5);  // JWT signature check
    if (h.chance(0.25))  // session cache miss
        h.call(usersEndpoint(h), 1.0);
}

void authenticate(Handler &h) { h.call(grpc(Auth, "identity.v1.AuthService", "Verify", authVerify), 1.0); }

void inventoryStock(Handler &h)
{
    h.work(0.3);
    h.query("SELECT", "stock", "SELECT quantity FROM stock WHERE product_id = $1", 0.8);
}

void inventoryReserve(Handler &h)
{
    h.work(0.4);
    h.query("UPDATE", "stock", "UPDATE stock SET reserved = reserved + $2 WHERE product_id = $1", 1.5);
}

Endpoint stockEndpoint(Handler &h)
{
    return http(Inventory, "GET", "/api/stock/{productId}", productPath(h, "/api/stock/"), inventoryStock);
}

void catalogProduct(Handler &h)
{
    h.work(0.4);
    h.query("SELECT", "products", "SELECT * FROM products WHERE id = $1", 1.2);
    if (h.chance(0.4))
        h.call(stockEndpoint(h), 0.0);  // availability badge only
    h.work(0.2);
}

void catalogList(Handler &h)
{
    h.work(0.5);
    h.query("SELECT", "products", "SELECT * FROM products ORDER BY rank LIMIT $1", 2.0);
    h.work(0.4);
}

void catalogBatch(Handler &h)
{
    h.work(0.4);
    h.query("SELECT", "products", "SELECT * FROM products WHERE id = ANY($1)", 1.6);
}

void ratingsGet(Handler &h) { h.work(0.8); }

void reviewsV1(Handler &h) { h.work(4.0); }

void reviewsV2(Handler &h)
{
    // The canary shows star ratings, so it calls ratings the old version never did.
    h.work(3.0);
    h.call(http(Ratings, "GET", "/api/ratings/{productId}", productPath(h, "/api/ratings/"), ratingsGet), 0.5);
    h.work(2.0);
}

Endpoint reviewsEndpoint(Handler &h)
{
    // The VirtualService splits reviews 80/20 between v1 and the v2 canary.
    const bool canary = h.chance(0.2);
    return http(canary ? ReviewsV2 : ReviewsV1, "GET", "/api/reviews/{productId}", productPath(h, "/api/reviews/"),
        canary ? reviewsV2 : reviewsV1);
}

void recommendationsList(Handler &h)
{
    h.work(4.0, 0.6);
    h.call(grpc(Catalog, "shop.v1.ProductCatalogService", "ListProducts", catalogList), 1.0);
    h.work(1.5, 0.6);
}

Endpoint recommendationsEndpoint()
{
    return grpc(Recommendations, "shop.v1.RecommendationService", "ListRecommendations", recommendationsList);
}

void searchQuery(Handler &h)
{
    h.work(7.0, 0.7);
    h.call(http(Catalog, "POST", "/api/products/batch", "/api/products/batch", catalogBatch), 1.0);
    h.work(0.5);
}

void cartGet(Handler &h) { h.work(0.8); }

void cartAdd(Handler &h)
{
    h.work(0.6);
    h.call(stockEndpoint(h), 1.0);
    h.work(0.6);
}

void shippingQuote(Handler &h) { h.work(1.5); }

void shippingShip(Handler &h) { h.work(2.5); }

void egressForward(Handler &h)
{
    h.work(0.08, 0.3);
    h.callOutside("api.payments-provider.example", "POST", "/v1/charges", 90.0);
    h.work(0.05, 0.3);
}

void paymentsCharge(Handler &h)
{
    h.work(2.0);
    // Istio routes the provider's hostname through the egress gateway; the payments
    // span names the provider, the server half is the gateway's.
    Endpoint provider = http(EgressGateway, "POST", "/v1/charges", "/v1/charges", egressForward);
    provider.host = "api.payments-provider.example";
    provider.port = 80;  // plain HTTP: the egress gateway originates TLS
    const auto r = h.call(provider, 1.0);
    if (!r.failed())
        h.work(1.0);
}

void notificationsSend(Handler &h)
{
    h.work(1.5);
    h.call(usersEndpoint(h), 0.0);
    h.work(2.0, 0.7);  // template rendering
}

void checkoutPlace(Handler &h)
{
    h.work(1.0);
    h.call(http(Cart, "GET", "/api/cart/{userId}", "/api/cart/u-" + std::to_string(h.request().userId), cartGet), 1.0);
    if (h.m_failure)
        return;
    h.parallel(
        [&] { h.call(http(Inventory, "POST", "/api/stock/reserve", "/api/stock/reserve", inventoryReserve), 1.0); },
        [&] { h.call(grpc(Shipping, "shop.v1.ShippingService", "GetQuote", shippingQuote), 1.0); });
    if (h.m_failure)
        return;
    const Endpoint charge = grpc(Payments, "shop.v1.PaymentService", "Charge", paymentsCharge);
    auto r = h.call(charge, 0.0);
    if (r.failed() && h.chance(0.5)) {
        h.work(20.0, 0.3);  // client-side retry backoff
        r = h.call(charge, 0.0);
    }
    if (r.failed()) {
        h.failWith(Response {502, -1});
        return;
    }
    h.query("INSERT", "orders", "INSERT INTO orders (user_id, total) VALUES ($1, $2)", 1.5);
    h.call(grpc(Shipping, "shop.v1.ShippingService", "ShipOrder", shippingShip), 0.0);
    h.call(http(Notifications, "POST", "/api/notifications", "/api/notifications", notificationsSend), 0.0);
    h.work(0.5);
}

void checkoutOrders(Handler &h)
{
    h.work(0.6);
    h.query("SELECT", "orders", "SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC", 1.8);
}

// Frontend pages, one per route reachable through the ingress gateway.

void pageProduct(Handler &h)
{
    h.work(1.0, 0.6);
    h.parallel(
        [&] {
            h.call(http(Catalog, "GET", "/api/products/{id}", productPath(h, "/api/products/"), catalogProduct), 1.0);
        },
        [&] { h.call(reviewsEndpoint(h), 0.0); }, [&] { h.call(recommendationsEndpoint(), 0.0); });
    h.work(2.0, 0.6);  // server-side rendering
}

void pageHome(Handler &h)
{
    h.work(0.8, 0.6);
    if (h.request().loggedIn)
        authenticate(h);
    h.parallel([&] { h.call(http(Catalog, "GET", "/api/products", "/api/products", catalogList), 1.0); },
        [&] { h.call(recommendationsEndpoint(), 0.0); },
        [&] {
            if (h.request().loggedIn)
                h.call(http(Cart, "GET", "/api/cart/{userId}", "/api/cart/u-" + std::to_string(h.request().userId),
                           cartGet),
                    0.0);
        });
    h.work(2.5, 0.6);
}

void pageSearch(Handler &h)
{
    h.work(0.6);
    h.call(http(Search, "GET", "/api/search", "/api/search", searchQuery), 1.0);
    h.work(1.5, 0.6);
}

void pageCartAdd(Handler &h)
{
    h.work(0.5);
    authenticate(h);
    if (h.m_failure)
        return;
    h.call(http(Cart, "POST", "/api/cart/{userId}/items",
               "/api/cart/u-" + std::to_string(h.request().userId) + "/items", cartAdd),
        1.0);
    h.work(0.8);
}

void pageCheckout(Handler &h)
{
    h.work(0.7);
    authenticate(h);
    if (h.m_failure)
        return;
    h.call(http(Checkout, "POST", "/api/checkout", "/api/checkout", checkoutPlace), 1.0);
    h.work(1.5);
}

void pageAccount(Handler &h)
{
    h.work(0.6);
    authenticate(h);
    if (h.m_failure)
        return;
    h.parallel([&] { h.call(usersEndpoint(h), 1.0); },
        [&] { h.call(http(Checkout, "GET", "/api/orders", "/api/orders", checkoutOrders), 0.0); });
    h.work(1.8, 0.6);
}

struct Page {
    double weight;
    std::string_view method;
    std::string_view route;
    std::string_view pathPrefix;  // the product id is appended when the route has one
    HandlerFn fn;
    bool needsLogin;
};

constexpr Page kPages[] = {
    {0.35, "GET", "/products/{id}", "/products/", pageProduct, false},
    {0.20, "GET", "/", "/", pageHome, false},
    {0.15, "GET", "/search", "/search", pageSearch, false},
    {0.12, "POST", "/cart", "/cart", pageCartAdd, true},
    {0.08, "POST", "/checkout", "/checkout", pageCheckout, true},
    {0.10, "GET", "/account", "/account", pageAccount, true},
};

// The ingress gateway answers with whatever the frontend answered.
void ingressProxy(Handler &h)
{
    h.work(0.1, 0.3);
    h.forward(h.call(*h.request().upstream, 1.0));
}

}  // namespace

DemoScenario::DemoScenario(uint64_t seed, uint64_t originNs)
    : m_originNs(originNs)
{
    struct Row {
        Svc id;
        const char *name, *ns, *version, *language;
    };
    static constexpr Row rows[] = {
        {IngressGateway, "istio-ingressgateway", "istio-system", "v1", "cpp"},
        {EgressGateway, "istio-egressgateway", "istio-system", "v1", "cpp"},
        {Frontend, "frontend", "shop", "v1", "nodejs"},
        {Catalog, "catalog", "shop", "v1", "go"},
        {Cart, "cart", "shop", "v1", "dotnet"},
        {Checkout, "checkout", "shop", "v1", "go"},
        {Payments, "payments", "shop", "v1", "java"},
        {ReviewsV1, "reviews", "shop", "v1", "java"},
        {ReviewsV2, "reviews", "shop", "v2", "java"},
        {Ratings, "ratings", "shop", "v1", "nodejs"},
        {Recommendations, "recommendations", "shop", "v1", "python"},
        {Search, "search", "shop", "v1", "rust"},
        {Inventory, "inventory", "shop", "v1", "go"},
        {Shipping, "shipping", "shop", "v1", "go"},
        {Auth, "auth", "identity", "v1", "go"},
        {Users, "users", "identity", "v1", "java"},
        {Notifications, "notifications", "ops", "v1", "python"},
    };
    static_assert(std::size(rows) == ServiceCount);

    // Pod names look like Kubernetes' (deployment-replicaset-pod suffixes) and stay
    // the same for a seed.
    std::mt19937_64 names(seed ^ 0x9e3779b97f4a7c15ull);
    auto suffix = [&names](int length) {
        static constexpr char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
        std::string s;
        for (int i = 0; i < length; ++i)
            s.push_back(alphabet[names() % (sizeof(alphabet) - 1)]);
        return s;
    };
    m_services.resize(ServiceCount);
    for (const Row &r : rows) {
        ServiceInfo &s = m_services[r.id];
        s = ServiceInfo {r.name, r.ns, r.version, r.language, {}, {}};
        s.podName = s.name + "-" + s.version + "-" + suffix(10) + "-" + suffix(5);
        s.host = s.name + "." + s.ns + ".svc.cluster.local";
    }
}

bool DemoScenario::inventorySlowAt(uint64_t timeNs) const
{
    const uint64_t second = (timeNs > m_originNs ? timeNs - m_originNs : 0) / kNsPerSecond;
    const uint64_t phase = second % kSlowPeriodS;
    return phase >= kSlowStartS && phase < kSlowStartS + kSlowLengthS;
}

bool DemoScenario::FaultBudget::trip(std::mt19937_64 &rng, double rate)
{
    level += std::uniform_real_distribution<double>(0.0, 2.0 * rate)(rng);
    if (level < 1.0)
        return false;
    level -= 1.0;
    return true;
}

void DemoScenario::generateRequest(std::mt19937_64 &rng, uint64_t startNs, std::vector<DemoSpan> &out)
{
    Trace trace(*this, rng, startNs, out, m_paymentsUnavailable, m_cartNotFound);

    double total = 0;
    for (const Page &p : kPages)
        total += p.weight;
    double pick = std::uniform_real_distribution<double>(0.0, total)(rng);
    const Page *page = &kPages[std::size(kPages) - 1];
    for (const Page &p : kPages) {
        if (pick < p.weight) {
            page = &p;
            break;
        }
        pick -= p.weight;
    }

    RequestContext &ctx = trace.request();
    // A few products are far more popular than the rest.
    ctx.productId = 1000 + int(std::min(499.0, std::exponential_distribution<double>(1.0 / 60.0)(rng)));
    ctx.userId = std::uniform_int_distribution<int>(10000, 99999)(rng);
    ctx.loggedIn = page->needsLogin || trace.chance(0.5);

    std::string path(page->pathPrefix);
    if (page->route.find('{') != std::string_view::npos)
        path += std::to_string(ctx.productId);

    const Endpoint frontend = http(Frontend, page->method, page->route, path, page->fn);
    ctx.upstream = &frontend;
    const Endpoint gateway {IngressGateway, false, page->method, page->route, path, ingressProxy, 443};
    trace.serve(gateway, 0, startNs, true);
}

}  // namespace meshscope::demo

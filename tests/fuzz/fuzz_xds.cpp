// Fuzz target for the xDS side of the control plane. XdsControlPlane handles a
// DiscoveryRequest inside its private stream class (no public function parses one), so
// this covers what is reachable from outside: the protobuf parse of the request bytes
// a client sends, and translateToXds on route sets built from the same bytes (names
// from a small vocabulary or raw bytes, weights, ports, durations and percentages at
// and past their limits). Properties checked on every input:
// - nothing crashes or throws;
// - a request protobuf accepts serializes back to an equal request, and the string
//   fields the control plane keys its client list by (type URL, nonce, version,
//   resource names, NACK message) are valid UTF-8;
// - for any route set, for gRPC and for Envoy: one route configuration per listener,
//   one load assignment per cluster, every cluster a route names is served; for a set
//   validateRoutes passes, weights add up exactly and every resource parses back
//   (xdsresourcecheck.h).
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/xds and mutations of it.

#include "fuzzproperty.h"
#include "xdsresourcecheck.h"

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "model/text.h"
#include "routing/routevalidator.h"
#include "routing/xds/xdstranslator.h"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>

#include <climits>
#include <cmath>
#include <limits>
#include <string>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

constexpr const char *kFuzzTarget = "fuzz_xds";

// Reads values off the fuzz bytes, zeros once they run out (like libFuzzer's
// FuzzedDataProvider, which g++ builds do not have).
class ByteReader {
public:
    ByteReader(const uint8_t *data, size_t size)
        : m_data(data)
        , m_size(size)
    {
    }

    uint8_t byte() { return m_pos < m_size ? m_data[m_pos++] : 0; }
    size_t upTo(size_t n) { return byte() % (n + 1); }
    bool flag() { return byte() & 1; }

    // Mostly words route files use, so that names meet (a backend and its slice);
    // sometimes raw bytes, which need not be UTF-8.
    std::string text()
    {
        static const char *const kWords[] = {
            "reviews",
            "ratings",
            "reviews-v1",
            "bookinfo",
            "default",
            "shop",
            "api.example.com",
            "*.example.com",
            "reviews.bookinfo.svc.cluster.local",
            "/",
            "/api",
            "/api/",
            "/pkg.Service/Method",
            "",
            "x-user",
            "X-Canary",
            "GET",
            "POST",
            "^/v[0-9]+$",
            "(",
            "a|b",
            "10.0.0.1",
            "fd00::1",
            "Reviews",
            "a..b",
            "*",
            "5xx",
            "unavailable",
            "retriable-status-codes",
            ":authority",
            "\xc3\xa9t\xc3\xa9",
        };
        const uint8_t b = byte();
        if (b < 224)
            return kWords[b % std::size(kWords)];
        std::string raw;
        for (size_t n = upTo(12); n > 0; --n)
            raw.push_back(char(byte()));
        return raw;
    }

    int weight()
    {
        static const int kWeights[] = {1, 0, 50, 80, 20, 1000000, 1000001, -1, INT_MAX};
        return kWeights[upTo(std::size(kWeights) - 1)];
    }

    int port()
    {
        static const int kPorts[] = {0, 80, 9080, 65535, 65536, -1, 443};
        return kPorts[upTo(std::size(kPorts) - 1)];
    }

    // Within what a route file can spell (GEP-2257: at most 99999 of each unit), and 0.
    int64_t durationMs()
    {
        static const int64_t kDurations[] = {0, 1, 100, 1500, 10000, 3600000, 359996400000ll + 5999940000ll};
        return kDurations[upTo(std::size(kDurations) - 1)];
    }

    double percent()
    {
        static const double kPercents[]
            = {100, 0, 50, 12.5, 0.0001, 99.99999, 150, -1, std::numeric_limits<double>::quiet_NaN()};
        return kPercents[upTo(std::size(kPercents) - 1)];
    }

private:
    const uint8_t *m_data;
    size_t m_size;
    size_t m_pos = 0;
};

template <typename T>
std::optional<T> maybe(ByteReader &in, T value)
{
    return in.flag() ? std::optional<T>(value) : std::nullopt;
}

RouteMatch match(ByteReader &in)
{
    RouteMatch m;
    if (in.flag()) {
        PathMatch p;
        p.type = PathMatchType(in.upTo(2));
        p.value = in.text();
        m.path = p;
    }
    for (size_t n = in.upTo(2); n > 0; --n)
        m.headers.push_back({in.text(), StringMatchType(in.upTo(1)), in.text()});
    for (size_t n = in.upTo(1); n > 0; --n)
        m.queryParams.push_back({in.text(), StringMatchType(in.upTo(1)), in.text()});
    if (in.flag())
        m.method = in.text();
    return m;
}

BackendRef backend(ByteReader &in)
{
    BackendRef b;
    b.name = in.text();
    if (in.flag())
        b.ns = in.text();
    b.port = in.port();
    b.weight = in.weight();
    return b;
}

HeaderModifier headers(ByteReader &in)
{
    HeaderModifier h;
    for (size_t n = in.upTo(1); n > 0; --n)
        h.set.push_back({in.text(), in.text()});  // braces: read left to right
    for (size_t n = in.upTo(1); n > 0; --n)
        h.add.push_back({in.text(), in.text()});
    for (size_t n = in.upTo(1); n > 0; --n)
        h.remove.push_back(in.text());
    return h;
}

RouteRule rule(ByteReader &in)
{
    RouteRule r;
    if (in.flag())
        r.name = in.text();
    for (size_t n = in.upTo(3); n > 0; --n)
        r.matches.push_back(match(in));
    for (size_t n = in.upTo(3); n > 0; --n)
        r.backends.push_back(backend(in));
    r.timeoutMs = maybe(in, in.durationMs());
    r.backendTimeoutMs = maybe(in, in.durationMs());
    if (in.flag()) {
        RetryPolicy p;
        p.attempts = int(in.upTo(4)) - 1;
        for (size_t n = in.upTo(2); n > 0; --n)
            p.codes.push_back(in.flag() ? 503 : int(in.byte()) * 4);
        for (size_t n = in.upTo(2); n > 0; --n)
            p.retryOn.push_back(in.text());
        p.perTryTimeoutMs = maybe(in, in.durationMs());
        p.backoffMs = maybe(in, in.durationMs());
        r.retry = p;
    }
    if (in.flag()) {
        FaultInjection f;
        f.delayMs = maybe(in, in.durationMs());
        f.delayPercent = in.percent();
        f.abortHttpStatus = maybe(in, in.flag() ? 503 : int(in.byte()) * 3);
        f.abortPercent = in.percent();
        r.fault = f;
    }
    if (in.flag())
        r.mirror = RequestMirror {backend(in), in.percent()};
    if (in.flag())
        r.requestHeaders = headers(in);
    if (in.flag())
        r.responseHeaders = headers(in);
    return r;
}

RouteSet routeSet(ByteReader &in)
{
    RouteSet set;
    for (size_t n = in.upTo(3); n > 0; --n) {
        HttpRoute r;
        r.name = in.text();
        r.ns = in.flag() ? in.text() : std::string("default");
        for (size_t h = in.upTo(2); h > 0; --h)
            r.hostnames.push_back(in.text());
        for (size_t k = in.upTo(3); k > 0; --k)
            r.rules.push_back(rule(in));
        set.routes.push_back(std::move(r));
    }
    for (size_t n = in.upTo(3); n > 0; --n) {
        EndpointSlice s;
        s.name = in.text();
        s.ns = in.flag() ? in.text() : std::string("default");
        s.serviceName = in.text();
        s.port = in.port();
        for (size_t e = in.upTo(3); e > 0; --e)
            s.endpoints.push_back({in.text(), in.flag()});
        set.endpointSlices.push_back(std::move(s));
    }
    return set;
}

void checkRequest(const uint8_t *data, size_t size)
{
    envoy::service::discovery::v3::DiscoveryRequest req;
    if (!req.ParseFromArray(data, int(size)))
        return;
    envoy::service::discovery::v3::DiscoveryRequest back;
    ASSERT_PROPERTY(back.ParseFromString(req.SerializeAsString()), "an accepted request serializes back");
    ASSERT_PROPERTY(google::protobuf::util::MessageDifferencer::Equals(req, back),
        "an accepted request serializes back to an equal one");
    // The node's fields are bytes in meshscope's proto subset (gRPC and Envoy send
    // whatever they were configured with); the ones the control plane keys its
    // tables by are strings, which must be UTF-8 once accepted.
    ASSERT_PROPERTY(isValidUtf8(req.type_url()) && isValidUtf8(req.response_nonce()) && isValidUtf8(req.version_info())
            && isValidUtf8(req.error_detail().message()),
        "the type URL, nonce, version and NACK message of an accepted request are UTF-8");
    for (const std::string &name : req.resource_names())
        ASSERT_PROPERTY(isValidUtf8(name), "resource names are UTF-8");
    const std::string shortName = xdsTypeShortName(req.type_url());
    ASSERT_PROPERTY(
        shortName.size() == 3 || shortName == req.type_url(), "a type URL is LDS, RDS, CDS or EDS, or itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    // protobuf logs every string field that is not UTF-8; at fuzzing rates that would be
    // most of the output and much of the time.
    static const google::protobuf::LogSilencer quiet;
    checkRequest(data, size);

    ByteReader in(data, size);
    const RouteSet set = routeSet(in);
    for (DataPlane plane : {DataPlane::XdsGrpc, DataPlane::Envoy}) {
        XdsTranslatorOptions options;
        options.target = plane;
        const bool validated = !hasErrors(validateRoutes(set, plane));
        fuzz::checkXdsResources(kFuzzTarget, set, translateToXds(set, options), validated);
    }
    return 0;
}

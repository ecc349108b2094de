#pragma once
// Ten minutes of Istio- and Linkerd-shaped counters and histograms, as the tests that
// query a Prometheus-API store write them (OpenMetrics for promtool's backfill, the
// Prometheus text format for VictoriaMetrics' import), and the graph meshscope must
// build from them, edge by edge, computed from the same rates and distributions.
// Header-only: every test executable includes it on its own.

#include "common/testenv.h"
#include "model/observation.h"
#include "model/span.h"
#include "telemetry/prometheus/meshmetrics.h"

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace meshscope::test {

inline constexpr int64_t kSeriesStepSeconds = 10;
inline constexpr int64_t kSeriesSpanSeconds = 600;

inline const std::vector<double> kIstioBuckets
    = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
inline const std::vector<double> kLinkerdBuckets = {1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000,
    2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000};

// Latency distribution of an edge's requests: (latency ms, fraction of requests).
using Dist = std::vector<std::pair<double, double>>;
inline const Dist kGatewayDist = {{20, 0.90}, {80, 0.08}, {400, 0.02}};
inline const Dist kReviewsDist = {{3, 0.50}, {30, 0.45}, {200, 0.05}};
inline const Dist kDetailsDist = {{7, 0.96}, {700, 0.04}};
inline const Dist kSlowDist = {{900, 1.0}};  // what source proxies report: must not be used
inline const Dist kEmojiDist = {{3, 0.60}, {15, 0.35}, {45, 0.05}};

// Per second, of every series writeIstio and writeLinkerd write: requests, bytes or
// connections. The expected graphs below are computed from these.
namespace rates {
// Istio, reported alike by both proxies of an in-mesh call.
inline constexpr double kGatewayOk = 10, kGateway503 = 0.2;
inline constexpr double kReviewsOk = 5, kReviews404 = 0.5, kReviews503 = 0.25;
inline constexpr double kDetailsGrpcOk = 4, kDetailsGrpcUnavailable = 1;  // gRPC status 14 under HTTP 200
inline constexpr double kMongoSentBytes = 1000, kMongoReceivedBytes = 500, kMongoOpened = 0.1;
inline constexpr double kUnmeshedToProductpage = 2;  // only the destination reports it
inline constexpr double kReviewsToServiceEntry = 3;  // only the source reports it
// Linkerd: outbound from web unless said otherwise.
inline constexpr double kEmojiOk = 8, kEmojiFailed = 0.4;
inline constexpr double kVotingOk = 3, kVoting503 = 0.3, kVoting404 = 0.3;
inline constexpr double kEmojiInboundFromWeb = kEmojiOk;  // the callee's copy: not added
inline constexpr double kUnmeshedToWeb = 1;
inline constexpr double kGatewayToWeb = 0.5;
inline constexpr double kWebToExternalHost = 1.5;
inline constexpr double kRedisOpened = 0.05, kRedisReadBytes = 200, kRedisWriteBytes = 100;
}  // namespace rates

inline double cumulative(const Dist &d, double le)
{
    double c = 0;
    for (const auto &[ms, f] : d) {
        if (ms <= le)
            c += f;
    }
    return c;
}

// histogram_quantile's answer for a distribution: linear inside the bucket.
inline double expectedQuantile(const std::vector<double> &bounds, const Dist &d, double q)
{
    double prevBound = 0, prevCum = 0;
    for (double b : bounds) {
        const double c = cumulative(d, b);
        if (c >= q)
            return prevBound + (b - prevBound) * (q - prevCum) / (c - prevCum);
        prevBound = b;
        prevCum = c;
    }
    return bounds.back();
}

// The bucket that holds the true quantile of the distribution: the resolution any
// histogram-based answer is bound to.
inline std::pair<double, double> quantileBucket(const std::vector<double> &bounds, const Dist &d, double q)
{
    double truth = 0, c = 0;
    for (const auto &[ms, f] : d) {
        c += f;
        if (c >= q - 1e-12) {
            truth = ms;
            break;
        }
    }
    double lower = 0;
    for (double b : bounds) {
        if (truth <= b)
            return {lower, b};
        lower = b;
    }
    return {lower, bounds.back()};
}

// Samples every kSeriesStepSeconds from `start` to `end`, one family at a time.
// Counters rise linearly at their rate from 0 at `start`.
class MeshSeriesWriter {
public:
    MeshSeriesWriter(int64_t start, int64_t end)
        : m_start(start)
        , m_end(end)
    {
    }

    void counter(const QString &family, const QString &labels, double perSecond)
    {
        Family &f = familyOf(family, QStringLiteral("counter"));
        for (int64_t t = m_start; t <= m_end; t += kSeriesStepSeconds)
            f.samples.push_back(
                {QStringLiteral("%1_total{%2} %3").arg(family, labels, num(perSecond * elapsed(t))), t});
    }

    void histogram(const QString &family, const QString &labels, double perSecond, const std::vector<double> &bounds,
        const Dist &dist)
    {
        Family &f = familyOf(family, QStringLiteral("histogram"));
        double meanMs = 0;
        for (const auto &[ms, share] : dist)
            meanMs += ms * share;
        for (int64_t t = m_start; t <= m_end; t += kSeriesStepSeconds) {
            const double n = perSecond * elapsed(t);
            for (double b : bounds) {
                f.samples.push_back({QStringLiteral("%1_bucket{%2,le=\"%3\"} %4")
                                         .arg(family, labels, num(b), num(n * cumulative(dist, b))),
                    t});
            }
            f.samples.push_back({QStringLiteral("%1_bucket{%2,le=\"+Inf\"} %3").arg(family, labels, num(n)), t});
            f.samples.push_back({QStringLiteral("%1_count{%2} %3").arg(family, labels, num(n)), t});
            f.samples.push_back({QStringLiteral("%1_sum{%2} %3").arg(family, labels, num(n * meanMs)), t});
        }
    }

    // OpenMetrics with timestamps in seconds, for `promtool tsdb create-blocks-from
    // openmetrics`.
    QByteArray openMetrics() const
    {
        QByteArray out;
        for (const auto &[name, family] : m_families) {
            out += "# TYPE " + name.toUtf8() + ' ' + family.type.toUtf8() + '\n';
            for (const Sample &s : family.samples)
                out += s.text.toUtf8() + ' ' + QByteArray::number(qint64(s.t)) + '\n';
        }
        out += "# EOF\n";
        return out;
    }

    // The Prometheus text exposition format with timestamps in milliseconds, as
    // VictoriaMetrics' /api/v1/import/prometheus takes it.
    QByteArray prometheusText() const
    {
        QByteArray out;
        for (const auto &[name, family] : m_families) {
            for (const Sample &s : family.samples)
                out += s.text.toUtf8() + ' ' + QByteArray::number(qint64(s.t) * 1000) + '\n';
        }
        return out;
    }

private:
    struct Sample {
        QString text;  // name{labels} value
        int64_t t;
    };
    struct Family {
        QString type;
        std::vector<Sample> samples;
    };

    static QString num(double v) { return QString::number(v, 'g', 15); }
    double elapsed(int64_t t) const { return double(t - m_start); }

    Family &familyOf(const QString &family, const QString &type)
    {
        Family &f = m_families[family];
        f.type = type;
        return f;
    }

    int64_t m_start, m_end;
    std::map<QString, Family> m_families;
};

using Kv = std::initializer_list<std::pair<const char *, const char *>>;

inline QString joinLabels(const std::vector<std::pair<QString, QString>> &labels)
{
    QStringList parts;
    for (const auto &[k, v] : labels)
        parts << k + QStringLiteral("=\"") + v + QLatin1Char('"');
    return parts.join(QLatin1Char(','));
}

// An Istio workload as "namespace/workload/canonical-service/version", or "unknown".
inline QString istioLabels(const char *reporter, const char *src, const char *dst, Kv extra)
{
    auto split = [](const char *spec) {
        if (QLatin1String(spec) == QLatin1String("unknown"))
            return QStringList {QStringLiteral("unknown"), QStringLiteral("unknown"), QStringLiteral("unknown"),
                QStringLiteral("unknown")};
        return QString::fromLatin1(spec).split(QLatin1Char('/'));
    };
    const QStringList s = split(src), d = split(dst);
    auto rev = [](const QString &v) { return v == QLatin1String("unknown") ? QStringLiteral("latest") : v; };
    std::vector<std::pair<QString, QString>> l = {
        {QStringLiteral("reporter"), QLatin1String(reporter)},
        {QStringLiteral("source_workload_namespace"), s[0]},
        {QStringLiteral("source_workload"), s[1]},
        {QStringLiteral("source_canonical_service"), s[2]},
        {QStringLiteral("source_canonical_revision"), rev(s[3])},
        {QStringLiteral("source_app"), s[2]},
        {QStringLiteral("source_version"), s[3]},
        {QStringLiteral("source_principal"),
            QStringLiteral("spiffe://cluster.local/ns/") + s[0] + QStringLiteral("/sa/") + s[2]},
        {QStringLiteral("source_cluster"), QStringLiteral("Kubernetes")},
        {QStringLiteral("destination_workload_namespace"), d[0]},
        {QStringLiteral("destination_workload"), d[1]},
        {QStringLiteral("destination_canonical_service"), d[2]},
        {QStringLiteral("destination_canonical_revision"), rev(d[3])},
        {QStringLiteral("destination_app"), d[2]},
        {QStringLiteral("destination_version"), d[3]},
        {QStringLiteral("destination_service"), d[2] + QLatin1Char('.') + d[0] + QStringLiteral(".svc.cluster.local")},
        {QStringLiteral("destination_service_name"), d[2]},
        {QStringLiteral("destination_service_namespace"), d[0]},
        {QStringLiteral("destination_cluster"), QStringLiteral("Kubernetes")},
        {QStringLiteral("request_protocol"), QStringLiteral("http")},
        {QStringLiteral("response_flags"), QStringLiteral("-")},
        {QStringLiteral("connection_security_policy"), QStringLiteral("mutual_tls")},
        // Istio exports it empty on plain HTTP; the stores drop it (PROTOCOLS.md, Quirks).
        {QStringLiteral("grpc_response_status"), QString()},
        {QStringLiteral("job"), QStringLiteral("envoy-stats")},
    };
    for (const auto &[k, v] : extra) {
        const QString key = QLatin1String(k);
        auto it = std::find_if(l.begin(), l.end(), [&](const auto &p) { return p.first == key; });
        if (it != l.end())
            it->second = QLatin1String(v);
        else
            l.emplace_back(key, QLatin1String(v));
    }
    return joinLabels(l);
}

inline QString linkerdLabels(Kv kv)
{
    std::vector<std::pair<QString, QString>> l;
    for (const auto &[k, v] : kv)
        l.emplace_back(QLatin1String(k), QLatin1String(v));
    l.emplace_back(QStringLiteral("job"), QStringLiteral("linkerd-proxy"));
    return joinLabels(l);
}

inline constexpr const char *kIstioGateway = "istio-system/istio-ingressgateway-7d9f/istio-ingressgateway/unknown";
inline constexpr const char *kIstioProductpage = "bookinfo/productpage-v1/productpage/v1";
inline constexpr const char *kIstioReviews = "bookinfo/reviews-v2/reviews/v2";
inline constexpr const char *kIstioDetails = "bookinfo/details-v1/details/v1";
inline constexpr const char *kIstioMongo = "bookinfo/mongodb-v1/mongodb/v1";

// Bookinfo behind an ingress gateway: HTTP, gRPC, TCP, a caller without a proxy and a
// ServiceEntry host, each in-mesh call reported by both proxies.
inline void writeIstio(MeshSeriesWriter &w)
{
    using namespace rates;
    const QString req = QStringLiteral("istio_requests");
    const QString dur = QStringLiteral("istio_request_duration_milliseconds");
    for (const char *reporter : {"destination", "source"}) {
        // Every in-mesh request is seen by both proxies; only one report may count.
        const bool dest = QLatin1String(reporter) == QLatin1String("destination");
        w.counter(req, istioLabels(reporter, kIstioGateway, kIstioProductpage, {{"response_code", "200"}}), kGatewayOk);
        w.counter(req,
            istioLabels(
                reporter, kIstioGateway, kIstioProductpage, {{"response_code", "503"}, {"response_flags", "URX"}}),
            kGateway503);
        w.histogram(dur, istioLabels(reporter, kIstioGateway, kIstioProductpage, {{"response_code", "200"}}),
            kGatewayOk + kGateway503, kIstioBuckets, dest ? kGatewayDist : kSlowDist);
        w.counter(req, istioLabels(reporter, kIstioProductpage, kIstioReviews, {{"response_code", "200"}}), kReviewsOk);
        w.counter(
            req, istioLabels(reporter, kIstioProductpage, kIstioReviews, {{"response_code", "404"}}), kReviews404);
        w.counter(
            req, istioLabels(reporter, kIstioProductpage, kIstioReviews, {{"response_code", "503"}}), kReviews503);
        w.histogram(dur, istioLabels(reporter, kIstioProductpage, kIstioReviews, {{"response_code", "200"}}),
            kReviewsOk + kReviews404 + kReviews503, kIstioBuckets, dest ? kReviewsDist : kSlowDist);
        const Kv grpcOk = {{"request_protocol", "grpc"}, {"response_code", "200"}, {"grpc_response_status", "0"},
            {"connection_security_policy", "none"}};
        const Kv grpcUnavailable = {{"request_protocol", "grpc"}, {"response_code", "200"},
            {"grpc_response_status", "14"}, {"connection_security_policy", "none"}};
        w.counter(req, istioLabels(reporter, kIstioProductpage, kIstioDetails, grpcOk), kDetailsGrpcOk);
        w.counter(
            req, istioLabels(reporter, kIstioProductpage, kIstioDetails, grpcUnavailable), kDetailsGrpcUnavailable);
        w.histogram(dur, istioLabels(reporter, kIstioProductpage, kIstioDetails, grpcOk),
            kDetailsGrpcOk + kDetailsGrpcUnavailable, kIstioBuckets, dest ? kDetailsDist : kSlowDist);
        const QString tcp = istioLabels(reporter, kIstioReviews, kIstioMongo, {{"request_protocol", "tcp"}});
        w.counter(QStringLiteral("istio_tcp_sent_bytes"), tcp, kMongoSentBytes);
        w.counter(QStringLiteral("istio_tcp_received_bytes"), tcp, kMongoReceivedBytes);
        w.counter(QStringLiteral("istio_tcp_connections_opened"), tcp, kMongoOpened);
    }
    // A caller without a proxy: only the destination reports it.
    w.counter(req,
        istioLabels("destination", "unknown", kIstioProductpage,
            {{"response_code", "200"}, {"connection_security_policy", "none"}}),
        kUnmeshedToProductpage);
    // A ServiceEntry host outside the mesh: only the source reports it.
    w.counter(req,
        istioLabels("source", kIstioReviews, "unknown",
            {{"response_code", "200"}, {"destination_service", "api.ratings.example.com"},
                {"destination_service_name", "api.ratings.example.com"}, {"destination_service_namespace", "unknown"},
                {"connection_security_policy", "unknown"}}),
        kReviewsToServiceEntry);
}

// Emojivoto: gRPC and HTTP from web, the callee's inbound copy, a caller without a
// proxy, a multicluster gateway, a host outside the cluster and a TCP peer.
inline void writeLinkerd(MeshSeriesWriter &w)
{
    using namespace rates;
    const QString resp = QStringLiteral("response");
    auto webTo = [](const char *dstDeployment, Kv extra) -> QString {
        std::vector<std::pair<const char *, const char *>> kv = {{"direction", "outbound"}, {"namespace", "emojivoto"},
            {"deployment", "web"}, {"pod", "web-5f86686c4d-58p7k"}, {"dst_namespace", "emojivoto"},
            {"dst_deployment", dstDeployment}, {"tls", "true"},
            {"dst_service", QLatin1String(dstDeployment) == QLatin1String("emoji") ? "emoji-svc" : "voting-svc"},
            {"authority",
                QLatin1String(dstDeployment) == QLatin1String("emoji")
                    ? "emoji-svc.emojivoto.svc.cluster.local:8080"
                    : "voting-svc.emojivoto.svc.cluster.local:8080"}};
        kv.insert(kv.end(), extra.begin(), extra.end());
        QStringList parts;
        for (const auto &[k, v] : kv)
            parts << QLatin1String(k) + QStringLiteral("=\"") + QLatin1String(v) + QLatin1Char('"');
        return parts.join(QLatin1Char(',')) + QStringLiteral(",job=\"linkerd-proxy\"");
    };
    w.counter(resp, webTo("emoji", {{"status_code", "200"}, {"grpc_status_code", "0"}, {"classification", "success"}}),
        kEmojiOk);
    w.counter(resp, webTo("emoji", {{"status_code", "200"}, {"grpc_status_code", "2"}, {"classification", "failure"}}),
        kEmojiFailed);
    w.histogram(QStringLiteral("response_latency_ms"), webTo("emoji", {{"status_code", "200"}}),
        kEmojiOk + kEmojiFailed, kLinkerdBuckets, kEmojiDist);
    w.counter(resp, webTo("voting", {{"status_code", "200"}, {"classification", "success"}}), kVotingOk);
    w.counter(resp, webTo("voting", {{"status_code", "503"}, {"classification", "failure"}}), kVoting503);
    w.counter(resp, webTo("voting", {{"status_code", "404"}, {"classification", "success"}}), kVoting404);
    // The callee's view of meshed callers: their outbound series count these.
    w.counter(resp,
        linkerdLabels({{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "emoji"}, {"tls", "true"},
            {"client_id", "web.emojivoto.serviceaccount.identity.linkerd.cluster.local"}, {"status_code", "200"},
            {"grpc_status_code", "0"}, {"classification", "success"}}),
        kEmojiInboundFromWeb);
    // A caller without a proxy (no identity).
    w.counter(resp,
        linkerdLabels(
            {{"direction", "inbound"}, {"namespace", "emojivoto"}, {"deployment", "web"}, {"tls", "no_identity"},
                {"no_tls_reason", "not_provided_by_remote"}, {"status_code", "200"}, {"classification", "success"}}),
        kUnmeshedToWeb);
    w.counter(resp,
        linkerdLabels({{"direction", "outbound"}, {"namespace", "linkerd-multicluster"},
            {"deployment", "linkerd-gateway"}, {"dst_namespace", "emojivoto"}, {"dst_deployment", "web"},
            {"dst_service", "web-svc"}, {"authority", "web-svc.emojivoto.svc.cluster.local:80"}, {"tls", "true"},
            {"status_code", "200"}, {"classification", "success"}}),
        kGatewayToWeb);
    // To a host outside the cluster: no dst_* labels.
    w.counter(resp,
        linkerdLabels({{"direction", "outbound"}, {"namespace", "emojivoto"}, {"deployment", "web"},
            {"authority", "api.example.com:443"}, {"tls", "no_identity"},
            {"no_tls_reason", "not_provided_by_service_discovery"}, {"status_code", "200"},
            {"classification", "success"}}),
        kWebToExternalHost);
    const QString tcp = linkerdLabels({{"direction", "outbound"}, {"peer", "dst"}, {"namespace", "emojivoto"},
        {"deployment", "vote-bot"}, {"dst_namespace", "db"}, {"dst_statefulset", "redis"}, {"tls", "true"}});
    w.counter(QStringLiteral("tcp_open"), tcp, kRedisOpened);
    w.counter(QStringLiteral("tcp_read_bytes"), tcp, kRedisReadBytes);
    w.counter(QStringLiteral("tcp_write_bytes"), tcp, kRedisWriteBytes);
}

// ---- the graph the series must give -------------------------------------------------

// One edge as meshscope must build it from the series over a window.
struct ExpectedEdge {
    std::string source, target;  // node ids
    Protocol protocol = Protocol::Http;
    double rps = 0;  // requests per second; connections per second for TCP
    double errorRate = 0, rate4xx = 0, rate5xx = 0;
    int8_t mtls = -1;
    double windowSeconds = 0;
    double bytesPerSecond = 0;
    // The destination's latency histogram, when the edge has one; the quantiles are 0
    // otherwise.
    const std::vector<double> *buckets = nullptr;
    const Dist *latency = nullptr;
    NodeKind sourceKind = NodeKind::Service, targetKind = NodeKind::Service;
    bool sourceGateway = false;

    uint64_t requests() const { return uint64_t(std::llround(rps * windowSeconds)); }
    uint64_t bytes() const { return uint64_t(std::llround(bytesPerSecond * windowSeconds)); }
};

inline std::vector<ExpectedEdge> expectedIstioGraph(int windowSeconds)
{
    using namespace rates;
    const double w = windowSeconds;
    std::vector<ExpectedEdge> out;
    {
        const double all = kGatewayOk + kGateway503;
        ExpectedEdge e {"istio-system/istio-ingressgateway", "bookinfo/productpage@v1"};
        e.rps = all;  // the source-reported copies are not added
        e.errorRate = e.rate5xx = kGateway503 / all;
        e.mtls = 1;
        e.buckets = &kIstioBuckets;
        e.latency = &kGatewayDist;  // not the 900 ms the source proxy reported
        e.sourceGateway = true;
        out.push_back(e);
    }
    {
        const double all = kReviewsOk + kReviews404 + kReviews503;
        ExpectedEdge e {"bookinfo/productpage@v1", "bookinfo/reviews@v2"};
        e.rps = all;
        e.errorRate = e.rate5xx = kReviews503 / all;  // a 404 is the caller's error, not the service's
        e.rate4xx = kReviews404 / all;
        e.mtls = 1;
        e.buckets = &kIstioBuckets;
        e.latency = &kReviewsDist;
        out.push_back(e);
    }
    {
        const double all = kDetailsGrpcOk + kDetailsGrpcUnavailable;
        ExpectedEdge e {"bookinfo/productpage@v1", "bookinfo/details@v1", Protocol::Grpc};
        e.rps = all;
        e.errorRate = kDetailsGrpcUnavailable / all;  // grpc-status 14 under HTTP 200
        e.mtls = 0;
        e.buckets = &kIstioBuckets;
        e.latency = &kDetailsDist;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"external", "bookinfo/productpage@v1"};
        e.rps = kUnmeshedToProductpage;
        e.mtls = 0;
        e.sourceKind = NodeKind::External;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"bookinfo/reviews@v2", "ext:api.ratings.example.com"};
        e.rps = kReviewsToServiceEntry;
        e.mtls = -1;  // connection_security_policy "unknown"
        e.targetKind = NodeKind::ExternalService;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"bookinfo/reviews@v2", "bookinfo/mongodb@v1", Protocol::Tcp};
        e.rps = kMongoOpened;
        e.bytesPerSecond = kMongoSentBytes + kMongoReceivedBytes;
        e.mtls = 1;
        out.push_back(e);
    }
    for (ExpectedEdge &e : out)
        e.windowSeconds = w;
    return out;
}

inline std::vector<ExpectedEdge> expectedLinkerdGraph(int windowSeconds)
{
    using namespace rates;
    std::vector<ExpectedEdge> out;
    {
        const double all = kEmojiOk + kEmojiFailed;
        ExpectedEdge e {"emojivoto/web", "emojivoto/emoji", Protocol::Grpc};
        e.rps = all;  // the callee's inbound copy is not added
        e.errorRate = kEmojiFailed / all;
        e.mtls = 1;
        e.buckets = &kLinkerdBuckets;
        e.latency = &kEmojiDist;
        out.push_back(e);
    }
    {
        const double all = kVotingOk + kVoting503 + kVoting404;
        ExpectedEdge e {"emojivoto/web", "emojivoto/voting"};
        e.rps = all;
        e.errorRate = e.rate5xx = kVoting503 / all;  // Linkerd classifies the 404 a success
        e.rate4xx = kVoting404 / all;
        e.mtls = 1;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"external", "emojivoto/web"};
        e.rps = kUnmeshedToWeb;
        e.mtls = 0;
        e.sourceKind = NodeKind::External;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"linkerd-multicluster/linkerd-gateway", "emojivoto/web"};
        e.rps = kGatewayToWeb;
        e.mtls = 1;
        e.sourceGateway = true;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"emojivoto/web", "ext:api.example.com"};
        e.rps = kWebToExternalHost;
        e.mtls = 0;
        e.targetKind = NodeKind::ExternalService;
        out.push_back(e);
    }
    {
        ExpectedEdge e {"emojivoto/vote-bot", "db/redis", Protocol::Tcp};
        e.rps = kRedisOpened;
        e.bytesPerSecond = kRedisReadBytes + kRedisWriteBytes;
        e.mtls = 1;
        out.push_back(e);
    }
    for (ExpectedEdge &e : out)
        e.windowSeconds = windowSeconds;
    return out;
}

// ---- comparing graphs ----------------------------------------------------------------

inline bool near(double actual, double expected, double relative = 1e-6)
{
    return std::abs(actual - expected) <= std::max(1e-9, std::abs(expected) * relative);
}

#define VERIFY_NEAR(actual, expected, rel)                                                                             \
    QVERIFY2(::meshscope::test::near((actual), (expected), (rel)),                                                     \
        qPrintable(QStringLiteral("%1 = %2, expected %3")                                                              \
                       .arg(QLatin1String(#actual))                                                                    \
                       .arg(actual, 0, 'g', 10)                                                                        \
                       .arg(expected, 0, 'g', 10)))

inline std::string edgeKey(const PulledEdge &e)
{
    return MeshMetrics::nodeId(e.source) + "->" + MeshMetrics::nodeId(e.target);
}

inline const PulledEdge *findEdge(const std::vector<PulledEdge> &edges, const std::string &src, const std::string &dst)
{
    for (const PulledEdge &e : edges) {
        if (MeshMetrics::nodeId(e.source) == src && MeshMetrics::nodeId(e.target) == dst)
            return &e;
    }
    return nullptr;
}

inline QString describe(const PulledEdge &e)
{
    return QStringLiteral("%1 %2 requests=%3 rps=%4 err=%5 4xx=%6 5xx=%7 p50/95/99=%8/%9/%10 bytes=%11 mtls=%12")
        .arg(QString::fromStdString(edgeKey(e)), QLatin1String(protocolName(e.protocol)))
        .arg(e.stats.requests)
        .arg(e.stats.rps, 0, 'g', 10)
        .arg(e.stats.errorRate, 0, 'g', 10)
        .arg(e.stats.rate4xx, 0, 'g', 10)
        .arg(e.stats.rate5xx, 0, 'g', 10)
        .arg(e.stats.p50Ms, 0, 'g', 10)
        .arg(e.stats.p95Ms, 0, 'g', 10)
        .arg(e.stats.p99Ms, 0, 'g', 10)
        .arg(e.stats.bytes)
        .arg(e.mtls);
}

inline QString describe(const std::vector<PulledEdge> &edges)
{
    QStringList out;
    for (const PulledEdge &e : edges)
        out << describe(e);
    return out.join(QLatin1String("\n  "));
}

// Checks p50/p95/p99 against histogram_quantile's exact answer for the distribution,
// and that each lies in the bucket holding the true quantile.
inline void checkQuantiles(const TrafficStats &s, const std::vector<double> &bounds, const Dist &d)
{
    const std::pair<double, double> qs[] = {{0.5, s.p50Ms}, {0.95, s.p95Ms}, {0.99, s.p99Ms}};
    for (const auto &[q, got] : qs) {
        const double want = expectedQuantile(bounds, d, q);
        const auto [lo, hi] = quantileBucket(bounds, d, q);
        QVERIFY2(near(got, want, 0.01) && got >= lo && got <= hi,
            qPrintable(
                QStringLiteral("q%1 = %2, expected %3 in bucket (%4, %5]").arg(q).arg(got).arg(want).arg(lo).arg(hi)));
    }
}

// What differs between the graph and the expected one, one line each; empty if
// nothing. Every expected edge must be there with every number, and no other edge.
inline QStringList graphMismatches(const std::vector<PulledEdge> &edges, const std::vector<ExpectedEdge> &expected)
{
    QStringList out;
    auto num = [&](const std::string &edge, const char *what, double got, double want, double rel) {
        if (!near(got, want, rel))
            out << QStringLiteral("%1: %2 = %3, expected %4")
                       .arg(QString::fromStdString(edge), QLatin1String(what))
                       .arg(got, 0, 'g', 10)
                       .arg(want, 0, 'g', 10);
    };
    for (const ExpectedEdge &x : expected) {
        const std::string key = x.source + "->" + x.target;
        const PulledEdge *e = findEdge(edges, x.source, x.target);
        if (!e) {
            out << QStringLiteral("%1: missing").arg(QString::fromStdString(key));
            continue;
        }
        if (e->protocol != x.protocol)
            out << QStringLiteral("%1: protocol %2, expected %3")
                       .arg(QString::fromStdString(key), QLatin1String(protocolName(e->protocol)),
                           QLatin1String(protocolName(x.protocol)));
        num(key, "rps", e->stats.rps, x.rps, 1e-6);
        num(key, "requests", double(e->stats.requests), double(x.requests()), 0);
        num(key, "error rate", e->stats.errorRate, x.errorRate, 1e-6);
        num(key, "4xx rate", e->stats.rate4xx, x.rate4xx, 1e-6);
        num(key, "5xx rate", e->stats.rate5xx, x.rate5xx, 1e-6);
        num(key, "bytes", double(e->stats.bytes), double(x.bytes()), 0);
        if (e->mtls != x.mtls)
            out << QStringLiteral("%1: mtls %2, expected %3").arg(QString::fromStdString(key)).arg(e->mtls).arg(x.mtls);
        if (e->source.kind != x.sourceKind || e->target.kind != x.targetKind)
            out << QStringLiteral("%1: node kinds %2, %3, expected %4, %5")
                       .arg(QString::fromStdString(key))
                       .arg(int(e->source.kind))
                       .arg(int(e->target.kind))
                       .arg(int(x.sourceKind))
                       .arg(int(x.targetKind));
        if (e->source.gateway != x.sourceGateway)
            out << QStringLiteral("%1: source gateway %2, expected %3")
                       .arg(QString::fromStdString(key))
                       .arg(e->source.gateway)
                       .arg(x.sourceGateway);
        const std::pair<double, double> qs[] = {{0.5, e->stats.p50Ms}, {0.95, e->stats.p95Ms}, {0.99, e->stats.p99Ms}};
        for (const auto &[q, got] : qs) {
            const QString what = QStringLiteral("p%1").arg(q * 100);
            if (!x.latency) {
                num(key, qPrintable(what), got, 0, 0);
                continue;
            }
            const double want = expectedQuantile(*x.buckets, *x.latency, q);
            const auto [lo, hi] = quantileBucket(*x.buckets, *x.latency, q);
            if (!near(got, want, 0.01) || got < lo || got > hi)
                out << QStringLiteral("%1: %2 = %3, expected %4 in bucket (%5, %6]")
                           .arg(QString::fromStdString(key), what)
                           .arg(got)
                           .arg(want)
                           .arg(lo)
                           .arg(hi);
        }
    }
    for (const PulledEdge &e : edges) {
        const std::string key = edgeKey(e);
        if (std::none_of(expected.begin(), expected.end(),
                [&](const ExpectedEdge &x) { return x.source + "->" + x.target == key; }))
            out << QStringLiteral("unexpected edge %1").arg(describe(e));
    }
    return out;
}

// What differs between two graphs built from the same series by two stores, edge by
// edge: the same edges, with every number equal up to floating-point noise.
inline QStringList graphDifferences(const std::vector<PulledEdge> &got, const std::vector<PulledEdge> &reference)
{
    QStringList out;
    auto same = [](const PulledEdge &a, const PulledEdge &b) {
        const TrafficStats &s = a.stats, &t = b.stats;
        return a.protocol == b.protocol && a.mtls == b.mtls && a.source.kind == b.source.kind
            && a.target.kind == b.target.kind && a.source.gateway == b.source.gateway
            && a.target.gateway == b.target.gateway && s.requests == t.requests && s.bytes == t.bytes
            && near(s.rps, t.rps) && near(s.errorRate, t.errorRate) && near(s.rate4xx, t.rate4xx)
            && near(s.rate5xx, t.rate5xx) && near(s.p50Ms, t.p50Ms) && near(s.p95Ms, t.p95Ms) && near(s.p99Ms, t.p99Ms);
    };
    for (const PulledEdge &r : reference) {
        const PulledEdge *e = findEdge(got, MeshMetrics::nodeId(r.source), MeshMetrics::nodeId(r.target));
        if (!e)
            out << QStringLiteral("missing %1").arg(describe(r));
        else if (!same(*e, r))
            out << QStringLiteral("%1\n    reference %2").arg(describe(*e), describe(r));
    }
    for (const PulledEdge &e : got) {
        if (!findEdge(reference, MeshMetrics::nodeId(e.source), MeshMetrics::nodeId(e.target)))
            out << QStringLiteral("not in the reference: %1").arg(describe(e));
    }
    if (got.size() != reference.size())
        out << QStringLiteral("%1 edges, the reference has %2").arg(got.size()).arg(reference.size());
    return out;
}

// Backfills OpenMetrics text into the TSDB directory `tsdb` with promtool (given a
// minute at most), writing the text to `workDir` on the way.
inline bool backfillOpenMetrics(
    const QString &promtool, const QByteArray &openMetrics, const QString &workDir, const QString &tsdb, QString *error)
{
    const QString input = workDir + QStringLiteral("/series.om");
    if (!writeFile(input, openMetrics)) {
        *error = QStringLiteral("cannot write ") + input;
        return false;
    }
    QProcess backfill;
    backfill.setProcessChannelMode(QProcess::MergedChannels);
    backfill.start(promtool,
        {QStringLiteral("tsdb"), QStringLiteral("create-blocks-from"), QStringLiteral("openmetrics"),
            QStringLiteral("-q"), input, tsdb});
    if (!backfill.waitForFinished(60000)) {
        backfill.kill();
        backfill.waitForFinished(5000);
        *error = QStringLiteral("promtool did not finish within 60 s");
        return false;
    }
    if (backfill.exitStatus() != QProcess::NormalExit || backfill.exitCode() != 0) {
        *error = QStringLiteral("promtool failed: ") + QString::fromUtf8(backfill.readAll());
        return false;
    }
    return true;
}

}  // namespace meshscope::test

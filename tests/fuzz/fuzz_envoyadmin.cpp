// Fuzz target for the Envoy admin readers (envoyadminparse.h): /clusters?format=json,
// /stats?format=json and /server_info, then what the source builds from them
// (envoyadminview.h: cluster names to graph nodes, the proxy's own node, the edges
// and health view of one sample and of two). The input is one response body, given
// to all three readers. Properties checked on every input:
// - nothing crashes;
// - a reader that refuses the body says why, starting with where the body came from;
// - what a reader accepts is bounded by the body: no more clusters, hosts, stats or
//   histograms than it has bytes;
// - the view has one health entry per cluster, one edge at most per cluster, host
//   counts that add up, and rates within 0..1, with or without a previous sample.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/envoyadmin and mutations of it.

#include "fuzzproperty.h"

#include "telemetry/envoyadmin/envoyadminparse.h"
#include "telemetry/envoyadmin/envoyadminview.h"

#include <QByteArray>
#include <QString>

using namespace meshscope;

namespace {

constexpr const char *kFuzzTarget = "fuzz_envoyadmin";

bool rateInRange(double r) { return !(r < 0 || r > 1); }

void checkView(const EnvoyAdminView &view, const EnvoyAdminSample &sample)
{
    ASSERT_PROPERTY(view.clusters.size() == sample.clusters.clusters.size(), "one health entry per cluster");
    ASSERT_PROPERTY(view.edges.size() <= sample.clusters.clusters.size(), "at most one edge per cluster");
    for (const EnvoyClusterHealth &c : view.clusters) {
        ASSERT_PROPERTY(c.hostsTotal == int(c.hosts.size()), "hostsTotal counts the hosts");
        ASSERT_PROPERTY(
            c.healthy + c.degraded + c.unhealthy == c.hostsTotal, "every host is healthy, degraded or unhealthy");
        ASSERT_PROPERTY(c.outlierEjected <= c.hostsTotal && c.failedActiveHc <= c.hostsTotal,
            "no more ejected or failing hosts than hosts");
    }
    for (const PulledEdge &e : view.edges) {
        ASSERT_PROPERTY(rateInRange(e.stats.errorRate) && rateInRange(e.stats.rate5xx) && rateInRange(e.stats.rate4xx),
            "error rates within 0..1");
        ASSERT_PROPERTY(!(e.stats.rps < 0), "rates are never negative");
    }
    (void)envoyUpstreamHealthToJson(view.clusters);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    const QByteArray body = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    static const QString where = QStringLiteral("/clusters?format=json from http://127.0.0.1:9901");

    EnvoyAdminSample sample;
    sample.monotonicMs = 20'000;
    QString error;
    if (parseEnvoyClusters(body, where, &sample.clusters, &error)) {
        size_t hosts = 0;
        for (const EnvoyClusterStatus &c : sample.clusters.clusters)
            hosts += c.hosts.size();
        ASSERT_PROPERTY(sample.clusters.clusters.size() + hosts <= size, "no more clusters and hosts than bytes");
    } else {
        ASSERT_PROPERTY(error.startsWith(where), "a refused /clusters says where it came from");
        sample.clusters = {};
    }
    error.clear();
    if (parseEnvoyStats(body, where, &sample.stats, &error)) {
        ASSERT_PROPERTY(
            sample.stats.values.size() + sample.stats.histograms.size() + sample.stats.supportedQuantiles.size()
                <= size,
            "no more stats than bytes");
        for (const auto &[name, h] : sample.stats.histograms) {
            for (double q : {0.0, 50.0, 99.9, 100.0})
                (void)sample.stats.quantile(name, q);
        }
    } else {
        ASSERT_PROPERTY(error.startsWith(where), "a refused /stats says where it came from");
        sample.stats = {};
    }
    error.clear();
    EnvoyServerInfo server;
    if (parseEnvoyServerInfo(body, where, &server, &error))
        sample.server = server;
    else
        ASSERT_PROPERTY(error.startsWith(where), "a refused /server_info says where it came from");

    // The names the view reads: cluster names, and a configured proxy name.
    if (size <= 4096) {
        const QString text = QString::fromUtf8(body);
        (void)classifyEnvoyCluster(text);
        (void)envoyProxyNode(nullptr, text, QStringLiteral("envoy"));
    }
    (void)envoyProxyNode(sample.server ? &*sample.server : nullptr, QString(), QStringLiteral("envoy"));

    // One sample, the same sample twice (no traffic in between), and a first sample
    // after an empty one (everything is new).
    checkView(buildEnvoyAdminView(sample, nullptr, QString(), QStringLiteral("envoy")), sample);
    EnvoyAdminSample before = sample;
    before.monotonicMs = 10'000;
    checkView(buildEnvoyAdminView(sample, &before, QString(), QStringLiteral("envoy")), sample);
    EnvoyAdminSample empty;
    empty.monotonicMs = 10'000;
    checkView(
        buildEnvoyAdminView(sample, &empty, QStringLiteral("istio-system/gateway"), QStringLiteral("envoy")), sample);
    return 0;
}

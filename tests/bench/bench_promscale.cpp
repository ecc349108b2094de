// Prometheus scale benchmark: the graph of 1,500 services / 4,500 edges from Istio's
// standard metrics in a real Prometheus (Debian's prometheus; the series backfilled
// with promtool), answered the way `meshscope-cli graph --prometheus URL --window 5m
// --at T` answers it (PrometheusSource::fetchGraph: the queries side by side, JSON
// decoding, graph building), beside the same queries sent straight to Prometheus's
// HTTP API, side by side as well, with nothing done to the answers but reading them.
// Prints the median of each over several runs and their ratio.
// Goal (DESIGN.md): meshscope within 1.25x of the time Prometheus spends on the queries.
// Usage: bench_promscale [--quick] [--services N] [--edges N] [--runs N] [--keep DIR]
//        (MESHSCOPE_BENCH_QUICK=1 or --quick: 300 services / 900 edges)

#include "common/meshseries.h"
#include "common/tlsprometheus.h"
#include "telemetry/prometheus/meshmetrics.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace meshscope;
using namespace meshscope::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kNamespaces = 15;
constexpr int kWindowSeconds = 300;  // --window 5m
constexpr int64_t kStepSeconds = 30;  // a common Istio scrape interval
constexpr int64_t kSpanSeconds = kWindowSeconds + kStepSeconds;  // the window, and one sample before it

// One series of the generated set: its "{labels}" and how fast it grows.
struct Series {
    const char *family;  // "istio_requests" (a counter) or the duration histogram
    QByteArray labels;  // without braces
    double perSecond;
    const Dist *dist = nullptr;  // histograms only
};

struct MeshSet {
    std::vector<Series> series;
    std::map<std::string, double> edgeRps;  // "src->dst" node ids: the rps the graph must show
    std::set<std::string> nodes;
};

QByteArray spec(int service, int services)
{
    const int perNs = std::max(1, services / kNamespaces);
    const int ns = std::min(kNamespaces - 1, service / perNs);
    return QStringLiteral("ns-%1/svc-%2-v1-7d9f/svc-%2/v1")
        .arg(ns, 2, 10, QLatin1Char('0'))
        .arg(service, 4, 10, QLatin1Char('0'))
        .toLatin1();
}

std::string nodeOf(const QByteArray &spec)
{
    const QList<QByteArray> p = spec.split('/');
    return p[0].toStdString() + '/' + p[2].toStdString() + '@' + p[3].toStdString();
}

// Services in kNamespaces namespaces; a ring through every service so each is on the
// graph, then random distinct edges (fixed seed) up to `edges`. Every edge has a 200
// series and a latency histogram; some are gRPC (some failing with status 14 under
// HTTP 200), some HTTP ones also answer 503 or 404. Reported by the destination proxy.
MeshSet generate(int services, int edges)
{
    static const Dist *const kDists[] = {&kGatewayDist, &kReviewsDist, &kDetailsDist, &kEmojiDist};
    std::mt19937_64 rng(1500);
    std::set<std::pair<int, int>> pairs;
    for (int i = 0; i < services && int(pairs.size()) < edges; ++i)
        pairs.emplace(i, (i + 1) % services);
    std::uniform_int_distribution<int> pick(0, services - 1);
    while (int(pairs.size()) < edges) {
        const int a = pick(rng), b = pick(rng);
        if (a != b)
            pairs.emplace(a, b);
    }
    MeshSet set;
    const char *req = "istio_requests";
    const char *dur = "istio_request_duration_milliseconds";
    for (const auto &[a, b] : pairs) {
        const QByteArray src = spec(a, services), dst = spec(b, services);
        const double ok = 0.5 + double(rng() % 200) / 10.0;
        const unsigned kind = unsigned(rng() % 100);
        const Dist *dist = kDists[rng() % std::size(kDists)];
        double all = ok;
        if (kind < 15) {
            const Kv grpcOk = {{"request_protocol", "grpc"}, {"response_code", "200"}, {"grpc_response_status", "0"}};
            set.series.push_back(
                {req, istioLabels("destination", src.constData(), dst.constData(), grpcOk).toLatin1(), ok});
            if (kind < 8) {
                const double failed = ok * 0.05;
                all += failed;
                set.series.push_back({req,
                    istioLabels("destination", src.constData(), dst.constData(),
                        {{"request_protocol", "grpc"}, {"response_code", "200"}, {"grpc_response_status", "14"}})
                        .toLatin1(),
                    failed});
            }
            set.series.push_back(
                {dur, istioLabels("destination", src.constData(), dst.constData(), grpcOk).toLatin1(), all, dist});
        } else {
            const QByteArray okLabels
                = istioLabels("destination", src.constData(), dst.constData(), {{"response_code", "200"}}).toLatin1();
            set.series.push_back({req, okLabels, ok});
            if (kind < 40) {
                const double e503 = ok * 0.02;
                all += e503;
                set.series.push_back({req,
                    istioLabels("destination", src.constData(), dst.constData(),
                        {{"response_code", "503"}, {"response_flags", "URX"}})
                        .toLatin1(),
                    e503});
            }
            if (kind >= 85) {
                const double e404 = ok * 0.05;
                all += e404;
                set.series.push_back({req,
                    istioLabels("destination", src.constData(), dst.constData(), {{"response_code", "404"}}).toLatin1(),
                    e404});
            }
            set.series.push_back({dur, okLabels, all, dist});
        }
        const std::string from = nodeOf(src), to = nodeOf(dst);
        set.edgeRps[from + "->" + to] = all;
        set.nodes.insert(from);
        set.nodes.insert(to);
    }
    return set;
}

void appendNumber(QByteArray &out, double v) { out += QByteArray::number(v, 'g', 15); }

// OpenMetrics for promtool, as MeshSeriesWriter writes it (one family at a time,
// counters rising linearly from 0 at `start`), without keeping each line as a QString:
// the full set is about a gigabyte of text.
QByteArray openMetrics(const MeshSet &set, int64_t start, int64_t end)
{
    QByteArray out;
    for (const char *family : {"istio_request_duration_milliseconds", "istio_requests"}) {
        const bool histogram = std::strcmp(family, "istio_requests") != 0;
        out += QByteArray("# TYPE ") + family + (histogram ? " histogram\n" : " counter\n");
        for (const Series &s : set.series) {
            if (std::strcmp(s.family, family) != 0)
                continue;
            const QByteArray head = QByteArray(family) + (histogram ? "_bucket{" : "_total{") + s.labels;
            double meanMs = 0;
            if (s.dist) {
                for (const auto &[ms, share] : *s.dist)
                    meanMs += ms * share;
            }
            for (int64_t t = start; t <= end; t += kStepSeconds) {
                const double n = s.perSecond * double(t - start);
                const QByteArray ts = ' ' + QByteArray::number(qint64(t)) + '\n';
                if (!histogram) {
                    out += head + "} ";
                    appendNumber(out, n);
                    out += ts;
                    continue;
                }
                for (double b : kIstioBuckets) {
                    out += head + ",le=\"";
                    appendNumber(out, b);
                    out += "\"} ";
                    appendNumber(out, n * cumulative(*s.dist, b));
                    out += ts;
                }
                out += head + ",le=\"+Inf\"} ";
                appendNumber(out, n);
                out += ts;
                out += QByteArray(family) + "_count{" + s.labels + "} ";
                appendNumber(out, n);
                out += ts;
                out += QByteArray(family) + "_sum{" + s.labels + "} ";
                appendNumber(out, n * meanMs);
                out += ts;
            }
        }
    }
    out += "# EOF\n";
    return out;
}

// What fetchGraph's client sends: a form body per query.
QByteArray formBody(const QString &promql, double at, int timeoutMs)
{
    return "query=" + QUrl::toPercentEncoding(promql) + "&time=" + QUrl::toPercentEncoding(QString::number(at, 'f', 3))
        + "&timeout=" + QUrl::toPercentEncoding(QString::number(std::max(1, timeoutMs / 1000)) + QLatin1Char('s'));
}

// The answers to one batch: each body, and when it had been read (seconds after the
// batch was sent).
struct RawAnswers {
    bool ok = true;
    std::vector<QByteArray> bodies;
    std::vector<double> seconds;
    qint64 bytes = 0;
};

// The baseline: every query posted at once on one network manager, as PrometheusClient
// posts them; done when the last answer has been read.
RawAnswers rawQueries(const QUrl &base, const std::vector<MeshQuery> &queries, double at, int timeoutMs)
{
    QNetworkAccessManager nam;
    QEventLoop loop;
    RawAnswers out;
    out.bodies.resize(queries.size());
    out.seconds.resize(queries.size());
    size_t pending = queries.size();
    QUrl url = base;
    url.setPath(QStringLiteral("/api/v1/query"));
    const auto t0 = Clock::now();
    for (size_t i = 0; i < queries.size(); ++i) {
        QNetworkRequest req(url);
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
        req.setRawHeader("Accept", "application/json");
        QNetworkReply *reply = nam.post(req, formBody(queries[i].promql, at, timeoutMs));
        QObject::connect(reply, &QNetworkReply::finished, &loop, [&, reply, i] {
            out.bodies[i] = reply->readAll();
            out.seconds[i] = std::chrono::duration<double>(Clock::now() - t0).count();
            out.bytes += out.bodies[i].size();
            out.ok &= reply->error() == QNetworkReply::NoError && out.bodies[i].startsWith("{\"status\":\"success\"");
            reply->deleteLater();
            if (--pending == 0)
                loop.quit();
        });
    }
    loop.exec();
    return out;
}

const char *kindName(MeshQueryKind k)
{
    switch (k) {
    case MeshQueryKind::IstioRequests: return "istio requests";
    case MeshQueryKind::IstioLatency: return "istio latency";
    case MeshQueryKind::IstioBytes: return "istio bytes";
    case MeshQueryKind::LinkerdResponses: return "linkerd responses";
    case MeshQueryKind::LinkerdLatency: return "linkerd latency";
    case MeshQueryKind::LinkerdBytes: return "linkerd bytes";
    }
    return "?";
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int argValue(int argc, char **argv, const char *name, int fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return std::atoi(argv[i + 1]);
    }
    return fallback;
}

QString argText(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return QString::fromLocal8Bit(argv[i + 1]);
    }
    return QString();
}

bool hasFlag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return true;
    }
    return false;
}

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens, also into a log
    const bool quick = std::getenv("MESHSCOPE_BENCH_QUICK") != nullptr || hasFlag(argc, argv, "--quick");
    const int services = argValue(argc, argv, "--services", quick ? 300 : 1500);
    const int edgeCount = argValue(argc, argv, "--edges", quick ? 900 : 4500);
    const int runs = std::max(1, argValue(argc, argv, "--runs", quick ? 5 : 7));
    if (services < 2 || edgeCount < services || edgeCount > services * (services - 1)) {
        std::fprintf(stderr, "promscale: need 2 <= services <= edges <= services * (services - 1)\n");
        return 2;
    }

    const QString prometheus = findTool("prometheus");
    const QString promtool = findTool("promtool");
    if (prometheus.isEmpty() || promtool.isEmpty()) {
        std::fprintf(stderr, "promscale: prometheus and promtool are needed (scripts/install-deps.sh)\n");
        return missingPeerFails() ? 1 : 0;
    }
    // --keep DIR: the TSDB stays in DIR, and a later run of the same size serves it
    // again instead of generating and backfilling (for profiling meshscope's side).
    const QString keep = argText(argc, argv, "--keep");
    QTemporaryDir temp;
    const QString dir = keep.isEmpty() ? temp.path() : QDir(keep).absolutePath();
    if (dir.isEmpty() || !QDir().mkpath(dir))
        return 1;
    const QString datasetFile = dir + QStringLiteral("/dataset");
    const QList<QByteArray> kept = readFile(datasetFile).trimmed().split(' ');
    const bool reuse = !keep.isEmpty() && kept.size() == 3 && kept[0].toInt() == services
        && kept[1].toInt() == edgeCount && QDir(dir + QStringLiteral("/tsdb")).exists();

    // The window ends on a step just before now: inside the head's time range.
    const int64_t now = QDateTime::currentSecsSinceEpoch();
    const int64_t end = reuse ? kept[2].toLongLong() : now / kStepSeconds * kStepSeconds - kStepSeconds;
    auto t0 = Clock::now();
    const MeshSet set = generate(services, edgeCount);
    size_t seriesCount = 0;
    for (const Series &s : set.series)
        seriesCount += s.dist ? kIstioBuckets.size() + 3 : 1;
    const size_t samples = seriesCount * size_t(kSpanSeconds / kStepSeconds + 1);
    QString error;
    if (reuse) {
        std::printf("promscale: %d services in %d namespaces, %d edges: %zu series, %zu samples, kept in %s\n",
            services, kNamespaces, edgeCount, seriesCount, samples, qPrintable(dir));
    } else {
        QDir(dir + QStringLiteral("/tsdb")).removeRecursively();
        const QByteArray text = openMetrics(set, end - kSpanSeconds, end);
        std::printf("promscale: %d services in %d namespaces, %d edges: %zu series, %zu samples (%.0f MB "
                    "OpenMetrics), generated in %.1f s\n",
            services, kNamespaces, edgeCount, seriesCount, samples, double(text.size()) / 1e6, secondsSince(t0));
        t0 = Clock::now();
        if (!backfillOpenMetrics(promtool, text, dir, dir + QStringLiteral("/tsdb"), &error)) {
            std::fprintf(stderr, "promscale: %s\n", qPrintable(error));
            return 1;
        }
        QFile::remove(dir + QStringLiteral("/series.om"));
        writeFile(datasetFile,
            QByteArray::number(services) + ' ' + QByteArray::number(edgeCount) + ' ' + QByteArray::number(qint64(end))
                + '\n');
        std::printf("promscale: promtool backfill %.1f s\n", secondsSince(t0));
    }

    t0 = Clock::now();
    PrometheusProcess process;
    PrometheusConfig server;
    if (!process.start(prometheus, dir, QByteArray(), &error)) {
        std::fprintf(stderr, "promscale: %s\n", qPrintable(error));
        return 1;
    }
    server.url = process.url();
    server.timeoutMs = 120000;
    if (!process.waitReady(server, 60000, &error)) {
        std::fprintf(stderr, "promscale: Prometheus did not become ready: %s\n%s\n", qPrintable(error),
            qPrintable(process.logTail()));
        return 1;
    }
    std::printf("promscale: Prometheus ready in %.1f s\n", secondsSince(t0));

    PrometheusSourceConfig config;  // as `meshscope-cli graph --prometheus URL --window 5m --at T`
    config.server = server;
    config.windowSeconds = kWindowSeconds;
    config.queryTime = double(end);
    MeshQueryOptions options;
    options.mesh = config.mesh;
    options.windowSeconds = config.windowSeconds;
    const std::vector<MeshQuery> queries = MeshMetrics::graphQueries(options);

    // Alternating, after one warm-up of each, so both see the same caches and load.
    std::vector<double> direct, graph;
    std::vector<std::vector<double>> perQuery(queries.size());
    std::vector<PulledEdge> edges;
    RawAnswers raw;
    auto direct1 = [&](double *seconds) {
        t0 = Clock::now();
        raw = rawQueries(server.url, queries, double(end), server.timeoutMs);
        *seconds = secondsSince(t0);
        if (!raw.ok)
            std::fprintf(stderr, "promscale: a query failed\n%s\n", qPrintable(process.logTail()));
        return raw.ok;
    };
    auto graph1 = [&](double *seconds) {
        t0 = Clock::now();
        edges.clear();
        const bool ok = PrometheusSource::fetchGraph(config, &edges, &error);
        *seconds = secondsSince(t0);
        if (!ok)
            std::fprintf(stderr, "promscale: fetchGraph: %s\n", qPrintable(error));
        return ok;
    };
    // Taking turns at going first, so neither always follows the other's garbage.
    for (int i = 0; i <= runs; ++i) {
        double d = 0, g = 0;
        const bool ok = i % 2 ? direct1(&d) && graph1(&g) : graph1(&g) && direct1(&d);
        if (!ok)
            return 1;
        if (i == 0)
            continue;
        for (size_t q = 0; q < queries.size(); ++q)
            perQuery[q].push_back(raw.seconds[q]);
        direct.push_back(d);
        graph.push_back(g);
    }

    // The graph must be the generated one: every node and edge, each edge's rate.
    std::set<std::string> nodes;
    size_t wrong = 0, withoutLatency = 0;
    for (const PulledEdge &e : edges) {
        const std::string from = MeshMetrics::nodeId(e.source), to = MeshMetrics::nodeId(e.target);
        nodes.insert(from);
        nodes.insert(to);
        const auto it = set.edgeRps.find(from + "->" + to);
        if (it == set.edgeRps.end() || !near(e.stats.rps, it->second, 1e-6)) {
            if (wrong++ < 5)
                std::fprintf(stderr, "promscale: unexpected %s\n", qPrintable(describe(e)));
        }
        if (!(e.stats.p50Ms > 0))
            ++withoutLatency;
    }

    // meshscope's own work on the same answers, without the network: what it adds
    // after the last answer arrives is at most this.
    std::vector<double> decode, build;
    for (int i = 0; i < 3; ++i) {
        t0 = Clock::now();
        std::vector<MeshAnswer> answers;
        for (size_t q = 0; q < queries.size(); ++q)
            answers.push_back({queries[q].kind, PrometheusClient::parseReply(raw.bodies[q], 200, QString()).vector});
        decode.push_back(secondsSince(t0));
        t0 = Clock::now();
        const size_t built = MeshMetrics::buildEdges(answers, kWindowSeconds).size();
        build.push_back(secondsSince(t0));
        if (built != edges.size())
            return 1;
    }

    const double d = median(direct), g = median(graph);
    std::printf("promscale: %zu queries, %.1f MB of JSON per graph, median of %d runs after a warm-up\n",
        queries.size(), double(raw.bytes) / 1e6, runs);
    for (size_t q = 0; q < queries.size(); ++q)
        std::printf("promscale:   %-18s answered in %7.3f s (%.1f MB)\n", kindName(queries[q].kind),
            median(perQuery[q]), double(raw.bodies[q].size()) / 1e6);
    std::printf("promscale: Prometheus alone (queries side by side, body read)  %7.3f s (fastest %.3f s)\n", d,
        *std::min_element(direct.begin(), direct.end()));
    std::printf("promscale: meshscope graph (fetchGraph: query, decode, build)  %7.3f s (fastest %.3f s), ratio %.2f\n",
        g, *std::min_element(graph.begin(), graph.end()), g / d);
    std::printf("promscale: meshscope's own work on those answers: decode %.3f s, build %.3f s (one core)\n",
        median(decode), median(build));
    std::printf("promscale: graph %zu nodes, %zu edges (generated %zu, %zu); %zu edges wrong, %zu without latency\n",
        nodes.size(), edges.size(), set.nodes.size(), set.edgeRps.size(), wrong, withoutLatency);
    std::printf("promscale: goal ratio <= 1.25\n");
    const bool ok = !edges.empty() && edges.size() == set.edgeRps.size() && nodes == set.nodes && wrong == 0
        && withoutLatency == 0;
    if (!ok)
        std::fprintf(stderr, "promscale: the graph is not the generated one\n");
    return ok ? 0 : 1;
}

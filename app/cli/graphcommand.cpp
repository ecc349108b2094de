#include "graphcommand.h"

#include "commandline.h"
#include "graph/graphaggregator.h"
#include "graph/graphexport.h"
#include "livesession.h"
#include "recordinggraph.h"
#include "session/recordingreader.h"
#include "sourceoptions.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/envoyadmin/envoyadminsource.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "telemetry/prometheus/prometheusclient.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <QUrl>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

namespace meshscope::cli {

namespace {

constexpr SourceFlags kSources = SourceFlag::Receivers | SourceFlag::ReceiverTls | SourceFlag::MessageLimit
    | SourceFlag::Prometheus | SourceFlag::PrometheusQuery | SourceFlag::EnvoyAdmin;

struct GraphOptions {
    SourceOptions sources;
    bool listenRequested = false;  // a live option (--otlp-listen, --als-listen, --duration) was given
    double durationSeconds = 10;
    QString format = QStringLiteral("json");
    AggregatorConfig aggregator;
    std::optional<int> windowSeconds;  // --window: the aggregator's sliding window and the Prometheus query's range
    bool liveListenerGiven = false;  // --otlp-listen or --als-listen
    bool durationGiven = false;
    bool help = false;
    bool version = false;
    QString from;  // --from: a recording instead of live sources
    QString at;  // --at: with --from, the moment in the recording (read once it is open)
};

// The command's option table: parsing and --help both come from it.
std::unique_ptr<CommandLine> graphCommandLine()
{
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli graph [--otlp-listen ADDR] [--als-listen ADDR] [--duration SECONDS]\n"
                       "                           [--format json|dot] [--window DURATION] [options]\n"
                       "       meshscope-cli graph --prometheus URL [--at TIME] [--mesh istio|linkerd|auto] [options]\n"
                       "       meshscope-cli graph --envoy-admin URL [--duration SECONDS] [options]\n"
                       "       meshscope-cli graph --from FILE [--at TIME] [--window DURATION] [--format json|dot]"),
        QStringLiteral(
            "Listens to the sources for a while, then prints the graph seen in that time as JSON or DOT.\n"
            "With --prometheus and no live option, the graph is answered from one query.\n"
            "--envoy-admin polls Envoy's admin (/clusters, /stats, /server_info). Rates come from two samples\n"
            "taken --duration seconds apart (2 s when --duration is not given); with --envoy-admin, --duration\n"
            "alone starts no receivers. The proxy's node carries \"upstream_health\".\n"
            "--from replays a recording (meshscope-cli record, File > Record): the graph as it was at --at (default:\n"
            "the recording's end) over --window (default: the whole recording)."));
    commandLine->addGroup(QStringLiteral("Graph"),
        {
            {{QStringLiteral("duration")}, QStringLiteral("SECONDS"),
                QStringLiteral("listen this long, then print the graph (default 10)"),
                QStringLiteral("--duration needs a positive number of seconds")},
            {{QStringLiteral("from")}, QStringLiteral("FILE"),
                QStringLiteral("the graph from a recording instead of live sources"),
                QStringLiteral("--from needs a recording file")},
            {{QStringLiteral("format")}, QStringLiteral("json|dot"), QStringLiteral("output format (default json)"),
                QStringLiteral("--format must be json or dot")},
            {{QStringLiteral("window")}, QStringLiteral("DURATION"),
                QStringLiteral("sliding window of the rates, and the range of a Prometheus query: 60s, 5m, 1h "
                               "(default 60s, at most 24h)"),
                QStringLiteral("--window needs a duration such as 60s, 5m or 1h (at most 24h)")},
            {{QStringLiteral("node-limit")}, QStringLiteral("N"),
                QStringLiteral("past this many nodes, the rest fold into \"other\""),
                QStringLiteral("--node-limit needs a positive number")},
            {{QStringLiteral("gateway")}, QStringLiteral("NAME"),
                QStringLiteral("treat this service as a gateway (repeatable)"),
                QStringLiteral("--gateway needs a service name")},
            {{QStringLiteral("pairing-ttl-ms")}, QStringLiteral("MS"),
                QStringLiteral("how long a client or server half waits for its other half"),
                QStringLiteral("--pairing-ttl-ms needs a non-negative number")},
        });
    SourceOptions::declare(*commandLine, kSources);
    return commandLine;
}

// Returns an empty string on success, else a one-line reason.
QString parse(const QStringList &args, GraphOptions &o)
{
    const std::unique_ptr<CommandLine> commandLine = graphCommandLine();
    bool stop = false;
    if (QString e = commandLine->parseCommand(args, &o.help, &o.version, &stop); !e.isEmpty() || stop)
        return e;
    const CommandLine &cl = *commandLine;
    auto given = [&cl](const char *name) { return cl.isSet(QLatin1String(name)); };
    auto value = [&cl](const char *name) { return cl.value(QLatin1String(name)); };
    o.liveListenerGiven = given("otlp-listen") || given("als-listen");
    o.durationGiven = given("duration");
    o.listenRequested = o.liveListenerGiven || o.durationGiven;
    bool ok = true;
    if (o.durationGiven) {
        o.durationSeconds = value("duration").toDouble(&ok);
        if (!ok || o.durationSeconds <= 0)
            return QStringLiteral("--duration needs a positive number of seconds");
    }
    if (given("format")) {
        o.format = value("format");
        if (o.format != QLatin1String("json") && o.format != QLatin1String("dot"))
            return QStringLiteral("--format must be json or dot");
    }
    if (given("window")) {
        const std::optional<int> w = parsePromDurationSeconds(value("window"));
        if (!w || *w > 24 * 3600)
            return QStringLiteral("--window needs a duration such as 60s, 5m or 1h (at most 24h)");
        o.windowSeconds = w;
        o.aggregator.windowSeconds = *w;
    }
    if (given("node-limit")) {
        const qlonglong n = value("node-limit").toLongLong(&ok);
        if (!ok || n < 1)
            return QStringLiteral("--node-limit needs a positive number");
        o.aggregator.maxNodes = size_t(n);
    }
    for (const QString &g : cl.values(QStringLiteral("gateway")))
        o.aggregator.gatewayNames.push_back(g.toStdString());
    if (given("from")) {
        o.from = value("from");
        for (const char *live :
            {"otlp-listen", "als-listen", "als-request-id-traces", "prometheus", "envoy-admin", "duration"}) {
            if (given(live))
                return QStringLiteral("--from reads a recording; --%1 is for live sources").arg(QLatin1String(live));
        }
        if (given("at"))
            o.at = value("at");
        return {};
    }
    if (given("pairing-ttl-ms")) {
        const qlonglong n = value("pairing-ttl-ms").toLongLong(&ok);
        if (!ok || n < 0)
            return QStringLiteral("--pairing-ttl-ms needs a non-negative number");
        o.aggregator.pairingTtlMs = n;
    }
    return o.sources.read(cl, kSources);
}

// The graph as it was at --at over --window, from the events a recording holds.
int graphFromRecording(GraphOptions &opts)
{
    std::string why;
    const std::unique_ptr<RecordingReader> reader = RecordingReader::open(opts.from.toStdString(), why);
    if (!reader) {
        std::fprintf(stderr, "meshscope-cli graph: %s\n", why.c_str());
        return 1;
    }
    const int64_t startMs = reader->startMs(), endMs = reader->endMs();
    int64_t atMs = endMs;
    if (!opts.at.isEmpty()) {
        const std::optional<int64_t> at = parseRecordingTime(opts.at, startMs);
        if (!at) {
            std::fprintf(stderr,
                "meshscope-cli graph: --at needs unix seconds, an RFC 3339 time or an offset from the recording's "
                "start (+90s)\n");
            return 2;
        }
        atMs = *at;
    }
    if (atMs < startMs || atMs > endMs + 1000) {
        std::fprintf(stderr, "meshscope-cli graph: --at is outside the recording (%s)\n",
            qPrintable(recordingSpanText(*reader)));
        return 2;
    }
    const int64_t fromMs = opts.windowSeconds ? std::max(startMs, atMs - int64_t(*opts.windowSeconds) * 1000) : startMs;
    GraphSnapshotPtr snap = graphOfRecording(*reader, fromMs, atMs, opts.aggregator, why);
    if (!snap) {
        std::fprintf(stderr, "meshscope-cli graph: %s\n", why.c_str());
        return 1;
    }
    for (const std::string &p : reader->problems())
        std::fprintf(stderr, "meshscope-cli graph: %s: %s\n", qPrintable(opts.from), p.c_str());
    const QByteArray out = opts.format == QLatin1String("dot") ? graphToDot(*snap) : graphToJson(*snap);
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    std::fflush(stdout);
    std::fprintf(stderr, "meshscope-cli graph: %zu nodes, %zu edges at %s over %d s of %s\n", snap->nodes.size(),
        snap->edges.size(), qPrintable(QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC).toString(Qt::ISODateWithMs)),
        snap->windowSeconds, qPrintable(opts.from));
    return 0;
}

}  // namespace

QString graphCommandHelp(CommandLine::Sections sections) { return graphCommandLine()->helpText(sections); }

int runGraphCommand(QCoreApplication &app, const QStringList &args)
{
    GraphOptions opts;
    if (const QString err = parse(args, opts); !err.isEmpty()) {
        std::fprintf(stderr, "meshscope-cli graph: %s\n", qPrintable(err));
        return 2;
    }
    if (opts.help) {
        std::fputs(qPrintable(graphCommandHelp()), stdout);
        return 0;
    }
    if (opts.version) {
        std::printf("meshscope-cli %s\n", qPrintable(appVersion()));
        return 0;
    }
    if (!opts.from.isEmpty())
        return graphFromRecording(opts);
    PrometheusSourceConfig prometheus = opts.sources.prometheusConfig();
    if (opts.windowSeconds)
        prometheus.windowSeconds = *opts.windowSeconds;
    const EnvoyAdminSourceConfig envoy = opts.sources.envoyAdminConfig();
    const TlsServerOptions &receiverTls = opts.sources.receiverTls;
    GraphAggregator aggregator(opts.aggregator);
    const bool usePrometheus = !opts.sources.prometheusUrl.isEmpty();
    // Prometheus alone answers from one query time; with live sources it is merged in at the end.
    auto pullPrometheus = [&]() -> bool {
        std::vector<PulledEdge> edges;
        QString err;
        double at = 0;
        if (!PrometheusSource::fetchGraph(prometheus, &edges, &err, &at)) {
            std::fprintf(stderr, "meshscope-cli graph: %s\n", qPrintable(err));
            return false;
        }
        std::fprintf(stderr, "meshscope-cli: %zu edges from Prometheus at %.3f over %d s\n", edges.size(), at,
            prometheus.windowSeconds);
        aggregator.setPulledEdges("prometheus", std::move(edges), GraphAggregator::wallNowMs());
        return true;
    };
    // Envoy admin rates need two samples: one now, one at the end (of --duration, or
    // after kEnvoySpacingMs when nothing listens live).
    const bool useEnvoy = !opts.sources.envoyAdminUrl.isEmpty();
    const bool live = opts.listenRequested && (opts.liveListenerGiven || !useEnvoy);
    EnvoyAdminSample envoyFirst;
    EnvoyAdminView envoyView;
    auto sampleEnvoy = [&](EnvoyAdminSample *sample) -> bool {
        QString err;
        if (!EnvoyAdminSource::fetchSample(envoy.admin, sample, &err)) {
            std::fprintf(stderr, "meshscope-cli graph: %s\n", qPrintable(err));
            return false;
        }
        return true;
    };
    auto finishEnvoy = [&]() -> bool {
        EnvoyAdminSample second;
        if (!sampleEnvoy(&second))
            return false;
        envoyView = buildEnvoyAdminView(
            second, &envoyFirst, envoy.proxyName, EnvoyAdminSource::fallbackName(envoy.admin.url));
        std::fprintf(stderr, "meshscope-cli: %zu edges from Envoy admin at %s (%s) over %.2f s\n",
            envoyView.edges.size(), qPrintable(envoy.admin.url.toDisplayString(QUrl::RemoveUserInfo)),
            envoyView.proxyId.c_str(), envoyView.intervalSeconds);
        aggregator.setPulledEdges("envoy-admin", std::move(envoyView.edges), GraphAggregator::wallNowMs());
        return true;
    };
    // The graph contract, plus the health of the proxy's upstreams on its node.
    auto render = [&](const GraphSnapshot &snap) -> QByteArray {
        if (opts.format == QLatin1String("dot"))
            return graphToDot(snap);
        const QByteArray json = graphToJson(snap);
        if (!useEnvoy)
            return json;
        QJsonObject root = QJsonDocument::fromJson(json).object();
        QJsonArray nodes = root.value(QStringLiteral("nodes")).toArray();
        for (qsizetype i = 0; i < nodes.size(); ++i) {
            QJsonObject n = nodes[i].toObject();
            if (n.value(QStringLiteral("id")).toString() != QString::fromStdString(envoyView.proxyId))
                continue;
            n.insert(QStringLiteral("upstream_health"), envoyUpstreamHealthToJson(envoyView.clusters));
            nodes[i] = n;
        }
        root.insert(QStringLiteral("nodes"), nodes);
        return QJsonDocument(root).toJson(QJsonDocument::Indented);
    };
    if ((usePrometheus || useEnvoy) && !live) {
        constexpr int kEnvoySpacingMs = 2000;
        if (useEnvoy && !sampleEnvoy(&envoyFirst))
            return 1;
        QElapsedTimer sinceFirst;
        sinceFirst.start();
        if (usePrometheus && !pullPrometheus())
            return 1;
        if (useEnvoy) {
            const int spacingMs = opts.durationGiven ? int(opts.durationSeconds * 1000) : kEnvoySpacingMs;
            QEventLoop wait;
            QTimer::singleShot(std::max<qint64>(0, spacingMs - sinceFirst.elapsed()), &wait, &QEventLoop::quit);
            wait.exec();
            if (!finishEnvoy())
                return 1;
        }
        GraphSnapshotPtr snap = aggregator.snapshot(GraphAggregator::wallNowMs());
        const QByteArray out = render(*snap);
        std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
        std::fflush(stdout);
        return 0;
    }
    OtlpReceiverConfig rc;
    rc.listenAddress = opts.sources.otlpListen.toStdString();
    rc.maxMessageBytes = opts.sources.maxMessageBytes;
    rc.tls = receiverTls;
    OtlpReceiver receiver(aggregator, rc);
    std::string error;
    if (!receiver.start(&error)) {
        std::fprintf(stderr, "meshscope-cli graph: %s\n", error.c_str());
        return 1;
    }
    const char *tlsNote = !receiverTls.enabled() ? ""
        : receiverTls.requireClientCert          ? " (TLS, client certificates required)"
                                                 : " (TLS)";
    std::fprintf(stderr, "meshscope-cli: listening for OTLP on %s%s\n", receiver.boundAddress().c_str(), tlsNote);
    std::unique_ptr<AlsReceiver> als;
    if (!opts.sources.alsListen.isEmpty()) {
        AlsReceiverConfig ac;
        ac.listenAddress = opts.sources.alsListen.toStdString();
        ac.maxMessageBytes = opts.sources.maxMessageBytes;
        ac.tls = receiverTls;
        ac.limits.requestIdTraces = opts.sources.alsRequestIdTraces;
        als = std::make_unique<AlsReceiver>(aggregator, ac);
        if (!als->start(&error)) {
            std::fprintf(stderr, "meshscope-cli graph: %s\n", error.c_str());
            return 1;
        }
        std::fprintf(
            stderr, "meshscope-cli: listening for Envoy access logs on %s%s\n", als->boundAddress().c_str(), tlsNote);
    }
    if (useEnvoy && !sampleEnvoy(&envoyFirst))
        return 1;
    std::fflush(stderr);

    runUntilInterrupted(app, int(opts.durationSeconds * 1000));

    receiver.stop();
    if (als)
        als->stop();
    // Who connected with which certificate, one line per peer: the operator sees
    // identities and certificates about to run out.
    auto printPeers = [](const char *what, const std::vector<TlsPeer> &peers) {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (const TlsPeer &p : peers)
            std::fprintf(stderr, "meshscope-cli: %s TLS peer %s: %s\n", what, p.address.c_str(),
                qPrintable(p.certificate.summary(now)));
    };
    printPeers("OTLP", receiver.tlsPeers());
    if (als)
        printPeers("access-log", als->tlsPeers());
    const int64_t now = GraphAggregator::wallNowMs();
    aggregator.flushPending(now);
    if (usePrometheus && !pullPrometheus())
        return 1;
    if (useEnvoy && !finishEnvoy())
        return 1;
    GraphSnapshotPtr snap = aggregator.snapshot(now);
    const QByteArray out = render(*snap);
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    std::fflush(stdout);
    const IngestCounters &c = snap->counters;
    std::fprintf(stderr,
        "meshscope-cli: %llu spans received, %llu rejected, %llu malformed and %llu oversized messages, "
        "%zu nodes, %zu edges\n",
        (unsigned long long)c.spansReceived, (unsigned long long)c.spansRejected,
        (unsigned long long)c.malformedMessages, (unsigned long long)c.oversizedMessages, snap->nodes.size(),
        snap->edges.size());
    return 0;
}

}  // namespace meshscope::cli

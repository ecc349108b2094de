#include "graphcommand.h"

#include "graph/graphaggregator.h"
#include "graph/graphexport.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/envoyadmin/envoyadminsource.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "telemetry/prometheus/prometheusclient.h"
#include "telemetry/prometheus/prometheussource.h"
#include "net/tlsoptions.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <QUrl>

#include <atomic>
#include <memory>
#include <csignal>
#include <cstdio>

namespace meshscope::cli {

namespace {

std::atomic<bool> g_interrupted{false};

struct GraphOptions {
    QString otlpListen = QStringLiteral("127.0.0.1:4317");
    QString alsListen;  // empty: no access-log receiver
    bool listenRequested = false;  // a live option (--otlp-listen, --als-listen, --duration) was given
    PrometheusSourceConfig prometheus;  // url empty: no Prometheus
    double durationSeconds = 10;
    QString format = QStringLiteral("json");
    AggregatorConfig aggregator;
    size_t maxMessageBytes = 16u * 1024 * 1024;
    TlsServerOptions receiverTls;  // --tls-*: for --otlp-listen and --als-listen
    EnvoyAdminSourceConfig envoy;  // admin.url empty: no Envoy admin
    bool liveListenerGiven = false;  // --otlp-listen or --als-listen
    bool durationGiven = false;
};

// Returns an empty string on success, else a one-line reason.
QString parse(const QStringList &args, GraphOptions &o)
{
    for (int i = 0; i < args.size(); ++i) {
        const QString &a = args[i];
        auto value = [&](QString *out) -> bool {
            if (i + 1 >= args.size())
                return false;
            *out = args[++i];
            return true;
        };
        QString v;
        bool ok = true;
        QString tlsError;
        if (takeTlsServerFlag(args, &i, &o.receiverTls, &tlsError)
            || takeTlsClientFlag(args, &i, QStringLiteral("--prometheus"), &o.prometheus.server.tls, &tlsError)
            || takeTlsClientFlag(args, &i, QStringLiteral("--envoy-admin"), &o.envoy.admin.tls, &tlsError)) {
            if (!tlsError.isEmpty())
                return tlsError;
            continue;
        }
        if (a == QLatin1String("--otlp-listen") || a == QLatin1String("--als-listen") || a == QLatin1String("--duration"))
            o.listenRequested = true;
        o.liveListenerGiven = o.liveListenerGiven || a == QLatin1String("--otlp-listen") || a == QLatin1String("--als-listen");
        o.durationGiven = o.durationGiven || a == QLatin1String("--duration");
        if (a == QLatin1String("--otlp-listen")) {
            if (!value(&o.otlpListen) || o.otlpListen.isEmpty())
                return QStringLiteral("--otlp-listen needs an address (HOST:PORT)");
            if (!o.otlpListen.contains(QLatin1Char(':')))
                return QStringLiteral("--otlp-listen '%1' is not HOST:PORT").arg(o.otlpListen);
        } else if (a == QLatin1String("--als-listen")) {
            if (!value(&o.alsListen) || !o.alsListen.contains(QLatin1Char(':')))
                return QStringLiteral("--als-listen needs an address (HOST:PORT)");
        } else if (a == QLatin1String("--duration")) {
            if (!value(&v) || (o.durationSeconds = v.toDouble(&ok), !ok) || o.durationSeconds <= 0)
                return QStringLiteral("--duration needs a positive number of seconds");
        } else if (a == QLatin1String("--format")) {
            if (!value(&o.format) || (o.format != QLatin1String("json") && o.format != QLatin1String("dot")))
                return QStringLiteral("--format must be json or dot");
        } else if (a == QLatin1String("--window")) {
            std::optional<int> w;
            if (!value(&v) || !(w = parsePromDurationSeconds(v)) || *w > 24 * 3600)
                return QStringLiteral("--window needs a duration such as 60s, 5m or 1h (at most 24h)");
            o.aggregator.windowSeconds = *w;
            o.prometheus.windowSeconds = *w;
        } else if (a == QLatin1String("--prometheus")) {
            if (!value(&v) || v.isEmpty())
                return QStringLiteral("--prometheus needs a URL such as http://127.0.0.1:9090");
            o.prometheus.server.url = QUrl::fromUserInput(v);
            if (!o.prometheus.server.url.isValid())
                return QStringLiteral("--prometheus '%1' is not a URL").arg(v);
        } else if (a == QLatin1String("--at")) {
            std::optional<double> t;
            if (!value(&v) || !(t = parsePromTime(v)))
                return QStringLiteral("--at needs unix seconds or an RFC 3339 time");
            o.prometheus.queryTime = *t;
        } else if (a == QLatin1String("--mesh")) {
            if (!value(&v))
                return QStringLiteral("--mesh needs istio, linkerd or auto");
            if (v == QLatin1String("istio"))
                o.prometheus.mesh = MeshKind::Istio;
            else if (v == QLatin1String("linkerd"))
                o.prometheus.mesh = MeshKind::Linkerd;
            else if (v == QLatin1String("auto"))
                o.prometheus.mesh = MeshKind::Auto;
            else
                return QStringLiteral("--mesh needs istio, linkerd or auto");
        } else if (a == QLatin1String("--prometheus-token")) {
            if (!value(&o.prometheus.server.bearerToken))
                return QStringLiteral("--prometheus-token needs a token");
        } else if (a == QLatin1String("--prometheus-user")) {
            if (!value(&o.prometheus.server.username))
                return QStringLiteral("--prometheus-user needs a name");
        } else if (a == QLatin1String("--prometheus-password")) {
            if (!value(&o.prometheus.server.password))
                return QStringLiteral("--prometheus-password needs a password");
        } else if (a == QLatin1String("--prometheus-timeout-ms")) {
            int t = 0;
            if (!value(&v) || (t = v.toInt(&ok), !ok) || t < 100)
                return QStringLiteral("--prometheus-timeout-ms needs at least 100");
            o.prometheus.server.timeoutMs = t;
        } else if (a == QLatin1String("--envoy-admin")) {
            if (!value(&v) || v.isEmpty())
                return QStringLiteral("--envoy-admin needs a URL such as http://127.0.0.1:9901");
            o.envoy.admin.url = QUrl::fromUserInput(v);
            if (!o.envoy.admin.url.isValid() || o.envoy.admin.url.host().isEmpty())
                return QStringLiteral("--envoy-admin '%1' is not a URL").arg(v);
        } else if (a == QLatin1String("--envoy-admin-name")) {
            if (!value(&o.envoy.proxyName) || o.envoy.proxyName.isEmpty())
                return QStringLiteral("--envoy-admin-name needs a name (NAME or NAMESPACE/NAME)");
        } else if (a == QLatin1String("--node-limit")) {
            long long n = 0;
            if (!value(&v) || (n = v.toLongLong(&ok), !ok) || n < 1)
                return QStringLiteral("--node-limit needs a positive number");
            o.aggregator.maxNodes = size_t(n);
        } else if (a == QLatin1String("--gateway")) {
            if (!value(&v) || v.isEmpty())
                return QStringLiteral("--gateway needs a service name");
            o.aggregator.gatewayNames.push_back(v.toStdString());
        } else if (a == QLatin1String("--pairing-ttl-ms")) {
            long long n = 0;
            if (!value(&v) || (n = v.toLongLong(&ok), !ok) || n < 0)
                return QStringLiteral("--pairing-ttl-ms needs a non-negative number");
            o.aggregator.pairingTtlMs = n;
        } else if (a == QLatin1String("--max-message-bytes")) {
            long long n = 0;
            if (!value(&v) || (n = v.toLongLong(&ok), !ok) || n < 1024)
                return QStringLiteral("--max-message-bytes needs a number of at least 1024");
            o.maxMessageBytes = size_t(n);
        } else {
            return QStringLiteral("unknown option '%1'").arg(a);
        }
    }
    if (QString e = checkTlsServerFlags(o.receiverTls); !e.isEmpty())
        return e;
    if (QString e = checkTlsClientFlags(o.prometheus.server.tls, QStringLiteral("--prometheus")); !e.isEmpty())
        return e;
    if (o.prometheus.server.tls.customized() && o.prometheus.server.url.scheme() != QLatin1String("https"))
        return QStringLiteral("--prometheus-ca/-cert/-key/-insecure-skip-verify need an https:// --prometheus URL");
    if (QString e = checkTlsClientFlags(o.envoy.admin.tls, QStringLiteral("--envoy-admin")); !e.isEmpty())
        return e;
    if (o.envoy.admin.tls.customized() && o.envoy.admin.url.scheme() != QLatin1String("https"))
        return QStringLiteral("--envoy-admin-ca/-cert/-key/-insecure-skip-verify need an https:// --envoy-admin URL");
    return {};
}

}  // namespace

int runGraphCommand(QCoreApplication &app, const QStringList &args)
{
    GraphOptions opts;
    if (const QString err = parse(args, opts); !err.isEmpty()) {
        std::fprintf(stderr, "meshscope-cli graph: %s\n", qPrintable(err));
        return 2;
    }
    GraphAggregator aggregator(opts.aggregator);
    const bool usePrometheus = !opts.prometheus.server.url.isEmpty();
    // Prometheus alone answers from one query time; with live sources it is merged in at the end.
    auto pullPrometheus = [&]() -> bool {
        std::vector<PulledEdge> edges;
        QString err;
        double at = 0;
        if (!PrometheusSource::fetchGraph(opts.prometheus, &edges, &err, &at)) {
            std::fprintf(stderr, "meshscope-cli graph: %s\n", qPrintable(err));
            return false;
        }
        std::fprintf(stderr, "meshscope-cli: %zu edges from Prometheus at %.3f over %d s\n", edges.size(), at,
                     opts.prometheus.windowSeconds);
        aggregator.setPulledEdges("prometheus", std::move(edges), GraphAggregator::wallNowMs());
        return true;
    };
    // Envoy admin rates need two samples: one now, one at the end (of --duration, or
    // after kEnvoySpacingMs when nothing listens live).
    const bool useEnvoy = !opts.envoy.admin.url.isEmpty();
    const bool live = opts.listenRequested && (opts.liveListenerGiven || !useEnvoy);
    EnvoyAdminSample envoyFirst;
    EnvoyAdminView envoyView;
    auto sampleEnvoy = [&](EnvoyAdminSample *sample) -> bool {
        QString err;
        if (!EnvoyAdminSource::fetchSample(opts.envoy.admin, sample, &err)) {
            std::fprintf(stderr, "meshscope-cli graph: %s\n", qPrintable(err));
            return false;
        }
        return true;
    };
    auto finishEnvoy = [&]() -> bool {
        EnvoyAdminSample second;
        if (!sampleEnvoy(&second))
            return false;
        envoyView = buildEnvoyAdminView(second, &envoyFirst, opts.envoy.proxyName,
                                        EnvoyAdminSource::fallbackName(opts.envoy.admin.url));
        std::fprintf(stderr, "meshscope-cli: %zu edges from Envoy admin at %s (%s) over %.2f s\n", envoyView.edges.size(),
                     qPrintable(opts.envoy.admin.url.toDisplayString(QUrl::RemoveUserInfo)), envoyView.proxyId.c_str(),
                     envoyView.intervalSeconds);
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
    rc.listenAddress = opts.otlpListen.toStdString();
    rc.maxMessageBytes = opts.maxMessageBytes;
    rc.tls = opts.receiverTls;
    OtlpReceiver receiver(aggregator, rc);
    std::string error;
    if (!receiver.start(&error)) {
        std::fprintf(stderr, "meshscope-cli graph: %s\n", error.c_str());
        return 1;
    }
    const char *tlsNote = !opts.receiverTls.enabled()   ? ""
        : opts.receiverTls.requireClientCert             ? " (TLS, client certificates required)"
                                                         : " (TLS)";
    std::fprintf(stderr, "meshscope-cli: listening for OTLP on %s%s\n", receiver.boundAddress().c_str(), tlsNote);
    std::unique_ptr<AlsReceiver> als;
    if (!opts.alsListen.isEmpty()) {
        AlsReceiverConfig ac;
        ac.listenAddress = opts.alsListen.toStdString();
        ac.maxMessageBytes = opts.maxMessageBytes;
        ac.tls = opts.receiverTls;
        als = std::make_unique<AlsReceiver>(aggregator, ac);
        if (!als->start(&error)) {
            std::fprintf(stderr, "meshscope-cli graph: %s\n", error.c_str());
            return 1;
        }
        std::fprintf(stderr, "meshscope-cli: listening for Envoy access logs on %s%s\n", als->boundAddress().c_str(), tlsNote);
    }
    if (useEnvoy && !sampleEnvoy(&envoyFirst))
        return 1;
    std::fflush(stderr);

    std::signal(SIGINT, [](int) { g_interrupted = true; });
    std::signal(SIGTERM, [](int) { g_interrupted = true; });
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &app, [&] {
        if (g_interrupted)
            app.quit();
    });
    poll.start(50);
    QTimer::singleShot(int(opts.durationSeconds * 1000), &app, &QCoreApplication::quit);
    app.exec();

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

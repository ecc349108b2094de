#include "livesession.h"

#include "session/recordingreader.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/envoyadmin/envoyadminsource.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QCoreApplication>

#include <cstdio>
#include <memory>

namespace meshscope::cli {

bool listenToSources(QCoreApplication &app, const SourceOptions &options, TelemetrySink &sink, int durationMs,
    const char *command, QString *error)
{
    OtlpReceiverConfig rc;
    rc.listenAddress = options.otlpListen.toStdString();
    rc.maxMessageBytes = options.maxMessageBytes;
    rc.tls = options.receiverTls;
    OtlpReceiver otlp(sink, rc);
    std::string why;
    if (!otlp.start(&why)) {
        *error = QString::fromStdString(why);
        return false;
    }
    std::fprintf(stderr, "meshscope-cli %s: listening for OTLP on %s\n", command, otlp.boundAddress().c_str());
    std::unique_ptr<AlsReceiver> als;
    if (!options.alsListen.isEmpty()) {
        AlsReceiverConfig ac;
        ac.listenAddress = options.alsListen.toStdString();
        ac.maxMessageBytes = options.maxMessageBytes;
        ac.tls = options.receiverTls;
        ac.limits.requestIdTraces = options.alsRequestIdTraces;
        als = std::make_unique<AlsReceiver>(sink, ac);
        if (!als->start(&why)) {
            *error = QString::fromStdString(why);
            return false;
        }
        std::fprintf(
            stderr, "meshscope-cli %s: listening for Envoy access logs on %s\n", command, als->boundAddress().c_str());
    }
    // Pulled sources poll on their own threads for as long as the listen lasts.
    std::unique_ptr<PrometheusSource> prometheus;
    if (!options.prometheusUrl.isEmpty()) {
        prometheus = std::make_unique<PrometheusSource>(sink, options.prometheusConfig());
        prometheus->start();
        std::fprintf(stderr, "meshscope-cli %s: polling Prometheus at %s\n", command,
            qPrintable(options.prometheusConfig().server.url.toDisplayString(QUrl::RemoveUserInfo)));
    }
    std::unique_ptr<EnvoyAdminSource> envoy;
    if (!options.envoyAdminUrl.isEmpty()) {
        envoy = std::make_unique<EnvoyAdminSource>(sink, options.envoyAdminConfig());
        envoy->start();
        std::fprintf(stderr, "meshscope-cli %s: polling Envoy admin at %s\n", command,
            qPrintable(options.envoyAdminConfig().admin.url.toDisplayString(QUrl::RemoveUserInfo)));
    }
    std::fflush(stderr);
    runUntilInterrupted(app, durationMs);
    if (envoy)
        envoy->stop();
    if (prometheus)
        prometheus->stop();
    otlp.stop();
    if (als)
        als->stop();
    return true;
}

bool replayRecording(const QString &path, TelemetrySink &sink, const char *command, QString *error)
{
    std::string why;
    const std::unique_ptr<RecordingReader> reader = RecordingReader::open(path.toStdString(), why);
    if (!reader) {
        *error = QString::fromStdString(why);
        return false;
    }
    if (!reader->replay(sink, reader->startMs(), reader->endMs(), {}, why)) {
        *error = QString::fromStdString(why);
        return false;
    }
    for (const std::string &p : reader->problems())
        std::fprintf(stderr, "meshscope-cli %s: %s: %s\n", command, qPrintable(path), p.c_str());
    return true;
}

}  // namespace meshscope::cli

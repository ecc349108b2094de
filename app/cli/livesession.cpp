#include "livesession.h"

#include "session/recordingreader.h"
#include "telemetry/als/alsreceiver.h"
#include "telemetry/envoyadmin/envoyadminsource.h"
#include "telemetry/otlp/otlpreceiver.h"
#include "telemetry/prometheus/prometheussource.h"

#include <QCoreApplication>
#include <QFileInfo>

#include <cstdio>
#include <memory>

namespace meshscope::cli {

struct LiveSources::Running {
    std::unique_ptr<OtlpReceiver> otlp;
    std::unique_ptr<AlsReceiver> als;
    std::unique_ptr<PrometheusSource> prometheus;
    std::unique_ptr<EnvoyAdminSource> envoy;
};

LiveSources::LiveSources(const SourceOptions &options, TelemetrySink &sink, const char *command)
    : m_options(options)
    , m_sink(sink)
    , m_command(command)
{
}

LiveSources::~LiveSources()
{
    if (!m_running)
        return;
    // Pulled sources first, then the receivers.
    if (m_running->envoy)
        m_running->envoy->stop();
    if (m_running->prometheus)
        m_running->prometheus->stop();
    if (m_running->otlp)
        m_running->otlp->stop();
    if (m_running->als)
        m_running->als->stop();
}

std::string LiveSources::otlpAddress() const
{
    return m_running && m_running->otlp ? m_running->otlp->boundAddress() : std::string();
}

bool LiveSources::start(QString *error)
{
    m_running = std::make_unique<Running>();
    Running &r = *m_running;
    const SourceOptions &options = m_options;
    OtlpReceiverConfig rc;
    rc.listenAddress = options.otlpListen.toStdString();
    rc.maxMessageBytes = options.maxMessageBytes;
    rc.tls = options.receiverTls;
    r.otlp = std::make_unique<OtlpReceiver>(m_sink, rc);
    std::string why;
    if (!r.otlp->start(&why)) {
        *error = QString::fromStdString(why);
        return false;
    }
    std::fprintf(stderr, "meshscope-cli %s: listening for OTLP on %s\n", m_command, r.otlp->boundAddress().c_str());
    if (!options.alsListen.isEmpty()) {
        AlsReceiverConfig ac;
        ac.listenAddress = options.alsListen.toStdString();
        ac.maxMessageBytes = options.maxMessageBytes;
        ac.tls = options.receiverTls;
        ac.limits.requestIdTraces = options.alsRequestIdTraces;
        r.als = std::make_unique<AlsReceiver>(m_sink, ac);
        if (!r.als->start(&why)) {
            *error = QString::fromStdString(why);
            return false;
        }
        std::fprintf(stderr, "meshscope-cli %s: listening for Envoy access logs on %s\n", m_command,
            r.als->boundAddress().c_str());
    }
    // Pulled sources poll on their own threads for as long as the listen lasts.
    if (!options.prometheusUrl.isEmpty()) {
        r.prometheus = std::make_unique<PrometheusSource>(m_sink, options.prometheusConfig());
        r.prometheus->start();
        std::fprintf(stderr, "meshscope-cli %s: polling Prometheus at %s\n", m_command,
            qPrintable(options.prometheusConfig().server.url.toDisplayString(QUrl::RemoveUserInfo)));
    }
    if (!options.envoyAdminUrl.isEmpty()) {
        r.envoy = std::make_unique<EnvoyAdminSource>(m_sink, options.envoyAdminConfig());
        r.envoy->start();
        std::fprintf(stderr, "meshscope-cli %s: polling Envoy admin at %s\n", m_command,
            qPrintable(options.envoyAdminConfig().admin.url.toDisplayString(QUrl::RemoveUserInfo)));
    }
    std::fflush(stderr);
    return true;
}

bool listenToSources(QCoreApplication &app, const SourceOptions &options, TelemetrySink &sink, int durationMs,
    const char *command, QString *error)
{
    LiveSources sources(options, sink, command);
    if (!sources.start(error))
        return false;
    runUntilInterrupted(app, durationMs);
    return true;
}

bool replayRecording(const QString &path, TelemetrySink &sink, const char *command, QString *error,
    const RecordingReader::Callbacks &callbacks)
{
    std::string why;
    const std::unique_ptr<RecordingReader> reader = RecordingReader::open(path.toStdString(), why);
    if (!reader) {
        *error = QString::fromStdString(why);
        return false;
    }
    if (!reader->replay(sink, reader->startMs(), reader->endMs(), callbacks, why)) {
        *error = QString::fromStdString(why);
        return false;
    }
    for (const std::string &p : reader->problems())
        std::fprintf(stderr, "meshscope-cli %s: %s: %s\n", command, qPrintable(path), p.c_str());
    return true;
}

CommandLineOption durationOption()
{
    return {{QStringLiteral("duration")}, QStringLiteral("SECONDS"), QStringLiteral("listen this long, then answer"),
        QStringLiteral("--duration needs a positive number of seconds")};
}

CommandLineOption fromOption()
{
    return {{QStringLiteral("from")}, QStringLiteral("FILE"),
        QStringLiteral("answer from a recording (meshscope-cli record, File > Record) instead of live sources"),
        QStringLiteral("--from needs a recording file")};
}

QString readTelemetryInput(const CommandLine &cl, SourceFlags flags, TelemetryInput &in, const char *command)
{
    const bool from = cl.isSet(QStringLiteral("from"));
    const bool duration = cl.isSet(QStringLiteral("duration"));
    if (from && duration)
        return QStringLiteral("--from reads a recording; --duration listens live: give one of them");
    if (!from && !duration)
        return QStringLiteral("give --from FILE (a recording) or --duration SECONDS (listen live) to %1")
            .arg(QLatin1String(command));
    if (from) {
        in.from = cl.value(QStringLiteral("from"));
        const QStringList declared = cl.optionNames();
        for (const QString &live :
            {QStringLiteral("otlp-listen"), QStringLiteral("als-listen"), QStringLiteral("als-request-id-traces"),
                QStringLiteral("prometheus"), QStringLiteral("envoy-admin")}) {
            if (declared.contains(live) && cl.isSet(live))
                return QStringLiteral("--from reads a recording; --%1 is a live source").arg(live);
        }
        if (!QFileInfo(in.from).isFile())
            return QStringLiteral("--from: no such file: %1").arg(in.from);
        return {};
    }
    bool ok = false;
    in.durationSeconds = cl.value(QStringLiteral("duration")).toDouble(&ok);
    if (!ok || in.durationSeconds <= 0)
        return QStringLiteral("--duration needs a positive number of seconds");
    return in.sources.read(cl, flags);
}

bool feedFromInput(QCoreApplication &app, const TelemetryInput &in, TelemetrySink &sink, const char *command,
    QString *error, const RecordingReader::Callbacks &callbacks)
{
    return in.from.isEmpty() ? listenToSources(app, in.sources, sink, int(in.durationSeconds * 1000), command, error)
                             : replayRecording(in.from, sink, command, error, callbacks);
}

}  // namespace meshscope::cli

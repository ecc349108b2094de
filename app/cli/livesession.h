#pragma once
// What `record`, `traces` and `trace` share: listening to the live sources for a
// while (OTLP and access-log receivers, Prometheus and Envoy admin polled), everything
// delivered into one sink; and replaying a recording into a sink instead.

#include "sourceoptions.h"

#include "model/telemetrysink.h"
#include "session/recordingreader.h"

#include <QString>

#include <memory>
#include <string>

class QCoreApplication;

namespace meshscope::cli {

// The sources `options` name, delivering into `sink` for as long as it lives.
class LiveSources {
public:
    LiveSources(const SourceOptions &options, TelemetrySink &sink, const char *command);
    ~LiveSources();
    LiveSources(const LiveSources &) = delete;
    LiveSources &operator=(const LiveSources &) = delete;
    // Starts them (progress lines on stderr); false with a one-line reason when one cannot start.
    bool start(QString *error);
    // The OTLP receiver's address as bound (its port chosen when 0 was asked for).
    std::string otlpAddress() const;

private:
    struct Running;
    const SourceOptions &m_options;
    TelemetrySink &m_sink;
    const char *m_command;
    std::unique_ptr<Running> m_running;
};

// Starts the sources `options` name, delivering into `sink`, runs until durationMs
// passes (or SIGINT/TERM), stops them. False with a one-line reason when one cannot
// start. `command` prefixes the progress lines on stderr.
bool listenToSources(QCoreApplication &app, const SourceOptions &options, TelemetrySink &sink, int durationMs,
    const char *command, QString *error);

// Replays the whole recording at `path` into `sink`, the events without a sink call
// (route applies, source states) into `callbacks`. False with a one-line reason when
// it cannot be read; what the reader found wrong but read past goes to stderr.
bool replayRecording(const QString &path, TelemetrySink &sink, const char *command, QString *error,
    const RecordingReader::Callbacks &callbacks = {});

// `--from FILE` and `--duration SECONDS`: what `traces`, `trace` and `routes whatif`
// answer from, a recording or the live sources for a while.
CommandLineOption fromOption();
CommandLineOption durationOption();

struct TelemetryInput {
    QString from;  // a recording; empty: listen live
    SourceOptions sources;
    double durationSeconds = 0;
};

// After the parse: --from (no live flag beside it; the file must exist) or --duration
// with the live flags of `flags`. Empty, or a one-line reason.
QString readTelemetryInput(const CommandLine &cl, SourceFlags flags, TelemetryInput &in, const char *command);
// Replays the recording, or listens for the duration, into `sink`.
bool feedFromInput(QCoreApplication &app, const TelemetryInput &in, TelemetrySink &sink, const char *command,
    QString *error, const RecordingReader::Callbacks &callbacks = {});

// A sink that keeps nothing: for a trace store fed without a graph.
class DiscardingSink : public TelemetrySink {
public:
    void ingestSpans(std::vector<Span> &&, int64_t, const char *) override { }
    void ingestRequests(std::vector<ObservedRequest> &&, int64_t, const char *) override { }
    void setPulledEdges(const std::string &, std::vector<PulledEdge>, int64_t) override { }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
    void countMalformed(const std::string &) override { }
    void countOversized(const std::string &) override { }
};

}  // namespace meshscope::cli

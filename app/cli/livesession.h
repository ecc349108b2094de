#pragma once
// What `record`, `traces` and `trace` share: listening to the live sources for a
// while (OTLP and access-log receivers, Prometheus and Envoy admin polled), everything
// delivered into one sink; and replaying a recording into a sink instead.

#include "sourceoptions.h"

#include "model/telemetrysink.h"

#include <QString>

class QCoreApplication;

namespace meshscope::cli {

// Starts the sources `options` name, delivering into `sink`, runs until durationMs
// passes (or SIGINT/TERM), stops them. False with a one-line reason when one cannot
// start. `command` prefixes the progress lines on stderr.
bool listenToSources(QCoreApplication &app, const SourceOptions &options, TelemetrySink &sink, int durationMs,
    const char *command, QString *error);

// Replays the whole recording at `path` into `sink`. False with a one-line reason when
// it cannot be read; what the reader found wrong but read past goes to stderr.
bool replayRecording(const QString &path, TelemetrySink &sink, const char *command, QString *error);

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

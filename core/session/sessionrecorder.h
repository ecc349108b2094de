#pragma once
// The GUI's recorder: sits in the ingest path (sources -> recorder -> trace store ->
// aggregator) and forwards everything, and while a recording runs also appends it to
// a .msrec file (File > Record). Starting and stopping never pause ingest: a call in
// flight finishes on the writer it began with, and closing the file (index, trailer)
// happens after the switch, outside the path.

#include "model/telemetrysink.h"
#include "session/recordingwriter.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace meshscope {

class SessionRecorder : public TelemetrySink {
public:
    explicit SessionRecorder(TelemetrySink &next);
    ~SessionRecorder() override;  // stops a running recording (the file stays readable)

    // What the recording indicator shows. Any thread.
    struct Status {
        bool recording = false;
        std::string path;
        uint64_t bytesWritten = 0;
        int64_t durationMs = 0;  // session time recorded so far
        uint64_t eventsDropped = 0;
        std::string lastError;  // e.g. the disk filled: the file holds what was written before
    };

    // Starts recording to `path` (created or truncated). False with `error` when the file
    // cannot be created or a recording already runs.
    bool start(const std::string &path, const std::string &headerJson, std::string &error);
    // Ends the recording: pending events, the index and the trailer are written. Returns
    // the final status (recording false). No-op when none runs.
    Status stop();
    Status status() const;
    bool isRecording() const;

    // Events with no TelemetrySink call, recorded only while a recording runs.
    void recordSourceState(const std::string &origin, const std::string &state, int64_t nowMs);
    void recordRouteApply(uint64_t version, const std::string &backend, const std::string &routesYaml, int64_t nowMs);

    // TelemetrySink: to the recording (which hands on to `next`) or straight to `next`.
    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin = "otlp") override;
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override;
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) override;
    void countExport(
        uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons) override;
    void countMalformed(const std::string &reason) override;
    void countOversized(const std::string &reason) override;

private:
    // The sink of this call: the running writer (kept alive by the returned pointer) or next.
    std::shared_ptr<RecordingWriter> writer() const;
    static Status statusOf(const RecordingWriter &w, bool recording);

    TelemetrySink &m_next;
    mutable std::mutex m_mutex;  // guards m_writer's pointer, never held across a call
    std::shared_ptr<RecordingWriter> m_writer;
};

}  // namespace meshscope

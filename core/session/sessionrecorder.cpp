#include "session/sessionrecorder.h"

namespace meshscope {

SessionRecorder::SessionRecorder(TelemetrySink &next)
    : m_next(next)
{
}

SessionRecorder::~SessionRecorder() { stop(); }

bool SessionRecorder::start(const std::string &path, const std::string &headerJson, std::string &error)
{
    std::lock_guard lock(m_mutex);
    if (m_writer) {
        error = "a recording is already running (to " + m_writer->path() + ")";
        return false;
    }
    std::unique_ptr<RecordingWriter> w = RecordingWriter::create(path, &m_next, error, headerJson);
    if (!w)
        return false;
    m_writer = std::move(w);
    return true;
}

SessionRecorder::Status SessionRecorder::stop()
{
    std::shared_ptr<RecordingWriter> w;
    {
        std::lock_guard lock(m_mutex);
        w.swap(m_writer);
    }
    if (!w)
        return {};
    // Calls that picked the writer up before the swap still finish on it, and
    // RecordingWriter forwards calls after close(), so nothing is lost either way.
    w->close();
    return statusOf(*w, false);
}

SessionRecorder::Status SessionRecorder::status() const
{
    const std::shared_ptr<RecordingWriter> w = writer();
    return w ? statusOf(*w, true) : Status {};
}

bool SessionRecorder::isRecording() const { return bool(writer()); }

SessionRecorder::Status SessionRecorder::statusOf(const RecordingWriter &w, bool recording)
{
    Status s;
    s.recording = recording;
    s.path = w.path();
    s.bytesWritten = w.bytesWritten();
    s.durationMs = w.durationMs();
    s.eventsDropped = w.eventsDropped();
    s.lastError = w.lastError();
    return s;
}

std::shared_ptr<RecordingWriter> SessionRecorder::writer() const
{
    std::lock_guard lock(m_mutex);
    return m_writer;
}

void SessionRecorder::recordSourceState(const std::string &origin, const std::string &state, int64_t nowMs)
{
    if (const std::shared_ptr<RecordingWriter> w = writer())
        w->recordSourceState(origin, state, nowMs);
}

void SessionRecorder::recordRouteApply(
    uint64_t version, const std::string &backend, const std::string &routesYaml, int64_t nowMs)
{
    if (const std::shared_ptr<RecordingWriter> w = writer())
        w->recordRouteApply(version, backend, routesYaml, nowMs);
}

void SessionRecorder::ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin)
{
    if (const std::shared_ptr<RecordingWriter> w = writer())
        w->ingestSpans(std::move(spans), nowMs, origin);
    else
        m_next.ingestSpans(std::move(spans), nowMs, origin);
}

void SessionRecorder::ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin)
{
    if (const std::shared_ptr<RecordingWriter> w = writer())
        w->ingestRequests(std::move(requests), nowMs, origin);
    else
        m_next.ingestRequests(std::move(requests), nowMs, origin);
}

void SessionRecorder::setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs)
{
    if (const std::shared_ptr<RecordingWriter> w = writer())
        w->setPulledEdges(origin, std::move(edges), nowMs);
    else
        m_next.setPulledEdges(origin, std::move(edges), nowMs);
}

void SessionRecorder::countExport(
    uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons)
{
    m_next.countExport(spansReceived, spansRejected, reasons);
}

void SessionRecorder::countMalformed(const std::string &reason) { m_next.countMalformed(reason); }

void SessionRecorder::countOversized(const std::string &reason) { m_next.countOversized(reason); }

}  // namespace meshscope

#pragma once
// Records a session to a .msrec file while it runs: a TelemetrySink that hands every
// call on to the sink behind it (the aggregator, the trace store) and appends a copy
// to the recording. Callers only pack their values into one flat buffer
// (packedbatch.h) and queue it under a short lock; a background thread converts them
// to protobuf, compresses and writes a block about once a second, so a slow disk never
// holds up ingest. See recordingformat.h.

#include "model/telemetrysink.h"
#include "session/recordingformat.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace meshscope {

struct RecordingOptions {
    int64_t blockDurationMs = msrecformat::kBlockDurationMs;  // session time one block covers at most
    size_t maxBlockRawBytes = msrecformat::kBlockRawBytes;  // a block is cut early past this raw size
    int flushIntervalMs = 1000;  // wall time between writes: what a crash can lose
    int compressionLevel = 1;  // zstd
    // Past this much unwritten data (a disk far slower than ingest) events are dropped
    // and counted rather than memory growing without bound.
    size_t maxPendingBytes = size_t(512) << 20;
};

class RecordingWriter : public TelemetrySink {
public:
    // Creates (truncates) `path` and writes the file header. `inner` may be null (record
    // only). Null with `error` set when the file cannot be created.
    static std::unique_ptr<RecordingWriter> create(const std::string &path, TelemetrySink *inner, std::string &error,
        std::string headerJson = {}, const RecordingOptions &options = {});
    ~RecordingWriter() override;  // closes

    RecordingWriter(const RecordingWriter &) = delete;
    RecordingWriter &operator=(const RecordingWriter &) = delete;

    // TelemetrySink: forwarded to `inner` and recorded (the counters are only forwarded).
    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin = "otlp") override;
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override;
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) override;
    void countExport(
        uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons) override;
    void countMalformed(const std::string &reason) override;
    void countOversized(const std::string &reason) override;

    void recordSourceState(const std::string &origin, const std::string &state, int64_t nowMs);
    void recordRouteApply(uint64_t version, const std::string &backend, const std::string &routesYaml, int64_t nowMs);

    // Writes what is pending, the index and the trailer, and closes the file. Calls
    // after this are still forwarded but no longer recorded. Safe to call twice.
    void close();
    bool isClosed() const;

    // For the GUI's recording indicator; callable from any thread.
    uint64_t bytesWritten() const { return m_bytesWritten.load(std::memory_order_relaxed); }
    int64_t durationMs() const;
    // Data accepted but not yet written, and events given up on (see maxPendingBytes).
    size_t pendingBytes() const;
    uint64_t eventsDropped() const { return m_eventsDropped.load(std::memory_order_relaxed); }
    uint64_t blocksWritten() const { return m_blocksWritten.load(std::memory_order_relaxed); }
    // Empty while all is well; else why recording stopped or lost data (disk full).
    std::string lastError() const;
    const std::string &path() const { return m_path; }

private:
    struct PendingEvent;  // a copied call, waiting for the writer thread
    struct IndexEntry;
    RecordingWriter(std::string path, int fd, TelemetrySink *inner, const RecordingOptions &options);

    void append(PendingEvent &&event, size_t approxBytes);
    void run();  // the writer thread
    void writeEvents(std::vector<PendingEvent> &events);
    void finishBlock();
    bool writeFrame(uint8_t type, const std::string &raw, uint64_t *offset, uint64_t *frameLength);
    bool writeAll(const void *data, size_t size);
    void setError(const std::string &message);

    const std::string m_path;
    const int m_fd;
    TelemetrySink *const m_inner;
    const RecordingOptions m_options;

    // Shared between callers and the writer thread.
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<PendingEvent> m_pending;
    size_t m_pendingBytes = 0;
    bool m_closing = false;
    bool m_closed = false;
    int64_t m_firstMs = 0;
    int64_t m_lastMs = 0;
    bool m_anyEvent = false;
    std::string m_lastError;
    // Read without the lock on the hot path, so a closed or failed writer copies nothing.
    std::atomic<bool> m_recording {true};

    std::atomic<uint64_t> m_bytesWritten {0};
    std::atomic<uint64_t> m_eventsDropped {0};
    std::atomic<uint64_t> m_blocksWritten {0};

    // Writer thread only (and close() once the thread has ended).
    struct BlockBuilder;
    std::unique_ptr<BlockBuilder> m_block;
    std::vector<IndexEntry> m_index;
    uint64_t m_fileOffset = 0;
    bool m_writeFailed = false;

    std::mutex m_closeMutex;  // serialises close() against itself
    std::thread m_thread;
};

}  // namespace meshscope

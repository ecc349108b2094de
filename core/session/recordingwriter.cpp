#include "session/recordingwriter.h"

#include "meshscope/recording.pb.h"
#include "meshscope_version.h"
#include "model/clock.h"
#include "model/varint.h"
#include "session/crc32.h"
#include "session/packedbatch.h"
#include "session/recordingcodec.h"
#include "session/recordingformat.h"

#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <variant>

namespace meshscope {

namespace fmt = msrecformat;

struct RecordingWriter::PendingEvent {
    struct SourceState {
        std::string state;
    };
    struct RouteApply {
        uint64_t version = 0;
        std::string backend;
        std::string yaml;
    };
    struct Spans {
        PackedBatch batch;
    };
    struct Requests {
        PackedBatch batch;
    };
    int64_t timeMs = 0;
    std::string origin;
    std::variant<Spans, Requests, std::vector<PulledEdge>, SourceState, RouteApply> payload;
};

struct RecordingWriter::IndexEntry {
    uint64_t offset = 0;
    uint64_t frameLength = 0;
    uint32_t rawLength = 0;
    int64_t firstMs = 0;
    int64_t lastMs = 0;
    uint32_t events = 0;
    uint32_t spans = 0;
    uint32_t requests = 0;
};

// The block being filled on the writer thread: events already serialised, so its raw
// size is exact and the cut at maxBlockRawBytes is where the options say.
struct RecordingWriter::BlockBuilder {
    std::string events;
    int64_t startMs = 0;  // first event's time: the session-time cut counts from here
    int64_t firstMs = 0;
    int64_t lastMs = 0;
    uint32_t eventCount = 0;
    uint32_t spanCount = 0;
    uint32_t requestCount = 0;
    std::chrono::steady_clock::time_point openedAt;

    // Reused from event to event.
    msrec::Event scratch;  // the rare events: pulls, source states, route applies
    std::string batchBytes;  // spans and requests: written straight in wire format
    std::string eventBytes;
    std::string frameBuffer;
    ZSTD_CCtx *cctx = nullptr;

    ~BlockBuilder() { ZSTD_freeCCtx(cctx); }
};

namespace {

// What a pull costs in memory while it waits; only to bound the pending batch.
size_t approxBytes(const NodeRef &r) { return r.ns.size() + r.name.size() + r.version.size(); }

size_t approxBytes(const std::vector<PulledEdge> &edges)
{
    size_t n = 64;
    for (const PulledEdge &e : edges)
        n += sizeof(PulledEdge) + approxBytes(e.source) + approxBytes(e.target);
    return n;
}

std::string errnoText(int err) { return std::strerror(err); }

}  // namespace

std::unique_ptr<RecordingWriter> RecordingWriter::create(const std::string &path, TelemetrySink *inner,
    std::string &error, std::string headerJson, const RecordingOptions &options)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot create recording " + path + ": " + errnoText(errno);
        return nullptr;
    }
    std::unique_ptr<RecordingWriter> w(new RecordingWriter(path, fd, inner, options));

    const int64_t created = wallNowMs();
    msrec::FileHeader header;
    header.set_meshscope_version(MESHSCOPE_VERSION_STRING);
    header.set_created_ms(created);
    header.set_header_json(std::move(headerJson));
    const std::string headerBytes = header.SerializeAsString();

    std::string bytes(fmt::kFileMagic);
    unsigned char fixed[4 + 8 + 4];
    fmt::putU32(fixed, fmt::kFormatVersion);
    fmt::putU64(fixed + 4, static_cast<uint64_t>(created));
    fmt::putU32(fixed + 12, static_cast<uint32_t>(headerBytes.size()));
    bytes.append(reinterpret_cast<const char *>(fixed), sizeof fixed);
    bytes += headerBytes;
    if (!w->writeAll(bytes.data(), bytes.size())) {
        error = w->lastError();
        w->m_recording = false;
        return nullptr;  // the destructor closes the descriptor; no thread runs yet
    }
    w->m_thread = std::thread([raw = w.get()] { raw->run(); });
    return w;
}

RecordingWriter::RecordingWriter(std::string path, int fd, TelemetrySink *inner, const RecordingOptions &options)
    : m_path(std::move(path))
    , m_fd(fd)
    , m_inner(inner)
    , m_options(options)
    , m_block(std::make_unique<BlockBuilder>())
{
    m_block->cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(m_block->cctx, ZSTD_c_compressionLevel, m_options.compressionLevel);
    // A checksum inside the zstd frame as well: the CRC guards the bytes on disk, this
    // one the decompression.
    ZSTD_CCtx_setParameter(m_block->cctx, ZSTD_c_checksumFlag, 1);
}

RecordingWriter::~RecordingWriter()
{
    if (m_thread.joinable())
        close();
    else if (m_fd >= 0 && !m_closed)
        ::close(m_fd);
}

void RecordingWriter::ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin)
{
    if (m_recording.load(std::memory_order_relaxed) && !spans.empty()) {
        // The inner sink consumes the batch, so the recording keeps its own copy.
        PendingEvent e;
        e.timeMs = nowMs;
        e.origin = origin ? origin : "";
        PackedBatch packed = PackedBatch::fromSpans(spans);
        const size_t bytes = 64 + packed.bytes();
        e.payload = PendingEvent::Spans {std::move(packed)};
        append(std::move(e), bytes);
    }
    if (m_inner)
        m_inner->ingestSpans(std::move(spans), nowMs, origin);
}

void RecordingWriter::ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin)
{
    if (m_recording.load(std::memory_order_relaxed) && !requests.empty()) {
        PendingEvent e;
        e.timeMs = nowMs;
        e.origin = origin ? origin : "";
        PackedBatch packed = PackedBatch::fromRequests(requests);
        const size_t bytes = 64 + packed.bytes();
        e.payload = PendingEvent::Requests {std::move(packed)};
        append(std::move(e), bytes);
    }
    if (m_inner)
        m_inner->ingestRequests(std::move(requests), nowMs, origin);
}

void RecordingWriter::setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs)
{
    // Recorded even when empty: an empty pull replaces what the source said before.
    if (m_recording.load(std::memory_order_relaxed)) {
        PendingEvent e;
        e.timeMs = nowMs;
        e.origin = origin;
        const size_t bytes = approxBytes(edges);
        e.payload = edges;
        append(std::move(e), bytes);
    }
    if (m_inner)
        m_inner->setPulledEdges(origin, std::move(edges), nowMs);
}

void RecordingWriter::countExport(
    uint64_t spansReceived, uint64_t spansRejected, const std::map<std::string, uint64_t> &reasons)
{
    if (m_inner)
        m_inner->countExport(spansReceived, spansRejected, reasons);
}

void RecordingWriter::countMalformed(const std::string &reason)
{
    if (m_inner)
        m_inner->countMalformed(reason);
}

void RecordingWriter::countOversized(const std::string &reason)
{
    if (m_inner)
        m_inner->countOversized(reason);
}

void RecordingWriter::recordSourceState(const std::string &origin, const std::string &state, int64_t nowMs)
{
    if (!m_recording.load(std::memory_order_relaxed))
        return;
    PendingEvent e;
    e.timeMs = nowMs;
    e.origin = origin;
    e.payload = PendingEvent::SourceState {state};
    append(std::move(e), 64 + origin.size() + state.size());
}

void RecordingWriter::recordRouteApply(
    uint64_t version, const std::string &backend, const std::string &routesYaml, int64_t nowMs)
{
    if (!m_recording.load(std::memory_order_relaxed))
        return;
    PendingEvent e;
    e.timeMs = nowMs;
    e.origin = backend;
    e.payload = PendingEvent::RouteApply {version, backend, routesYaml};
    append(std::move(e), 64 + backend.size() + routesYaml.size());
}

void RecordingWriter::append(PendingEvent &&event, size_t approxBytes)
{
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_closing || !m_recording.load(std::memory_order_relaxed))
            return;
        if (m_pendingBytes + approxBytes > m_options.maxPendingBytes) {
            m_eventsDropped.fetch_add(1, std::memory_order_relaxed);
            if (m_lastError.empty())
                m_lastError = "recording falls behind (the disk is slower than ingest): events dropped";
            return;
        }
        if (!m_anyEvent) {
            m_firstMs = m_lastMs = event.timeMs;
            m_anyEvent = true;
        } else {
            m_firstMs = std::min(m_firstMs, event.timeMs);
            m_lastMs = std::max(m_lastMs, event.timeMs);
        }
        m_pending.push_back(std::move(event));
        const size_t before = m_pendingBytes;
        m_pendingBytes += approxBytes;
        // Wake the writer once per block's worth, not on every call past the mark.
        wake = before < m_options.maxBlockRawBytes && m_pendingBytes >= m_options.maxBlockRawBytes;
    }
    if (wake)
        m_wake.notify_one();
}

// Runs on the writer thread: takes the pending batch about once a second (sooner
// when a block's worth is waiting) and writes it.
void RecordingWriter::run()
{
    const auto interval = std::chrono::milliseconds(std::max(1, m_options.flushIntervalMs));
    for (;;) {
        std::vector<PendingEvent> batch;
        bool closing = false;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait_for(
                lock, interval, [this] { return m_closing || m_pendingBytes >= m_options.maxBlockRawBytes; });
            batch.swap(m_pending);
            m_pendingBytes = 0;
            closing = m_closing;
        }
        if (!m_writeFailed)
            writeEvents(batch);
        // A block stays open across batches while it is young, so blocks follow session
        // seconds rather than the writer's wake-ups; what a crash loses stays ~1-2 s.
        const auto age = std::chrono::steady_clock::now() - m_block->openedAt;
        if (m_block->eventCount > 0 && (closing || age >= interval / 2) && !m_writeFailed)
            finishBlock();
        if (closing)
            return;
    }
}

void RecordingWriter::writeEvents(std::vector<PendingEvent> &events)
{
    BlockBuilder &b = *m_block;
    const int64_t duration = std::max<int64_t>(1, m_options.blockDurationMs);
    const size_t maxRaw = std::clamp<size_t>(m_options.maxBlockRawBytes, 1, fmt::kMaxBlockBytes / 2);
    for (PendingEvent &pe : events) {
        uint32_t spans = 0;
        uint32_t requests = 0;
        b.eventBytes.clear();
        if (std::holds_alternative<PendingEvent::Spans>(pe.payload)
            || std::holds_alternative<PendingEvent::Requests>(pe.payload)) {
            // The bulk of a recording: the packed batch becomes the Event's SpanBatch or
            // RequestBatch without a protobuf message per span.
            b.batchBytes.clear();
            bool encoded = false;
            uint32_t field = 0;
            if (auto *v = std::get_if<PendingEvent::Spans>(&pe.payload)) {
                encoded = v->batch.encodeSpans(b.batchBytes);
                spans = v->batch.count();
                field = 3;  // Event.spans
            } else if (auto *r = std::get_if<PendingEvent::Requests>(&pe.payload)) {
                encoded = r->batch.encodeRequests(b.batchBytes);
                requests = r->batch.count();
                field = 4;  // Event.requests
            }
            if (!encoded) {
                // Only a bug in PackedBatch gets here; keep recording, but say it.
                std::lock_guard lock(m_mutex);
                m_eventsDropped.fetch_add(1, std::memory_order_relaxed);
                m_lastError = "recording: an ingest batch could not be encoded and was left out";
                continue;
            }
            // Event fields 1 (time_ms) and 2 (origin), as protobuf writes them: left out
            // when they hold their default.
            if (pe.timeMs != 0) {
                b.eventBytes.push_back(static_cast<char>(1 << 3));
                appendVarint(b.eventBytes, static_cast<uint64_t>(pe.timeMs));
            }
            if (!pe.origin.empty()) {
                b.eventBytes.push_back(static_cast<char>((2 << 3) | 2));
                appendVarint(b.eventBytes, pe.origin.size());
                b.eventBytes += pe.origin;
            }
            b.eventBytes.push_back(static_cast<char>((field << 3) | 2));
            appendVarint(b.eventBytes, b.batchBytes.size());
            b.eventBytes += b.batchBytes;
        } else {
            msrec::Event &ev = b.scratch;
            ev.Clear();
            ev.set_time_ms(pe.timeMs);
            ev.set_origin(pe.origin);
            if (auto *p = std::get_if<std::vector<PulledEdge>>(&pe.payload)) {
                auto *out = ev.mutable_pulled_edges()->mutable_edges();
                for (const PulledEdge &e : *p)
                    recordingcodec::toProto(e, out->Add());
            } else if (auto *st = std::get_if<PendingEvent::SourceState>(&pe.payload)) {
                ev.mutable_source_state()->set_state(st->state);
            } else if (auto *a = std::get_if<PendingEvent::RouteApply>(&pe.payload)) {
                auto *out = ev.mutable_route_apply();
                out->set_version(a->version);
                out->set_backend(a->backend);
                out->set_routes_yaml(a->yaml);
            }
            ev.SerializeToString(&b.eventBytes);
        }
        const int64_t t = pe.timeMs;
        pe = PendingEvent {};  // frees the copy now rather than with the whole batch

        const size_t add = 1 + varintSize(b.eventBytes.size()) + b.eventBytes.size();
        if (b.eventCount > 0
            && (t - b.startMs >= duration || t <= b.startMs - duration || b.events.size() + add > maxRaw)) {
            finishBlock();
            if (m_writeFailed)
                return;
        }
        if (b.eventCount == 0) {
            b.startMs = b.firstMs = b.lastMs = t;
            b.openedAt = std::chrono::steady_clock::now();
        }
        b.firstMs = std::min(b.firstMs, t);
        b.lastMs = std::max(b.lastMs, t);
        b.events.push_back(static_cast<char>((3 << 3) | 2));  // RecordingBlock.events, length-delimited
        appendVarint(b.events, b.eventBytes.size());
        b.events += b.eventBytes;
        ++b.eventCount;
        b.spanCount += spans;
        b.requestCount += requests;
    }
}

void RecordingWriter::finishBlock()
{
    BlockBuilder &b = *m_block;
    if (b.eventCount == 0)
        return;
    // The summary fields go first (see recordingformat.h): a scan without the index
    // reads them from the first decompressed bytes.
    std::string raw;
    raw.reserve(b.events.size() + 48);
    raw.push_back(static_cast<char>(1 << 3));
    appendVarint(raw, static_cast<uint64_t>(b.firstMs));
    raw.push_back(static_cast<char>(2 << 3));
    appendVarint(raw, static_cast<uint64_t>(b.lastMs));
    raw.push_back(static_cast<char>(4 << 3));
    appendVarint(raw, b.eventCount);
    raw.push_back(static_cast<char>(5 << 3));
    appendVarint(raw, b.spanCount);
    raw.push_back(static_cast<char>(6 << 3));
    appendVarint(raw, b.requestCount);
    raw += b.events;

    IndexEntry entry;
    entry.rawLength = static_cast<uint32_t>(raw.size());
    entry.firstMs = b.firstMs;
    entry.lastMs = b.lastMs;
    entry.events = b.eventCount;
    entry.spans = b.spanCount;
    entry.requests = b.requestCount;
    b.events.clear();
    b.eventCount = b.spanCount = b.requestCount = 0;
    if (writeFrame(static_cast<uint8_t>(fmt::BlockType::Events), raw, &entry.offset, &entry.frameLength)) {
        m_index.push_back(entry);
        m_blocksWritten.fetch_add(1, std::memory_order_relaxed);
    }
}

bool RecordingWriter::writeFrame(uint8_t type, const std::string &raw, uint64_t *offset, uint64_t *frameLength)
{
    BlockBuilder &b = *m_block;
    const size_t bound = ZSTD_compressBound(raw.size());
    b.frameBuffer.resize(fmt::kFrameSize + bound);
    auto *out = reinterpret_cast<unsigned char *>(b.frameBuffer.data());
    const size_t compressed = ZSTD_compress2(b.cctx, out + fmt::kFrameSize, bound, raw.data(), raw.size());
    if (ZSTD_isError(compressed)) {
        setError(std::string("recording: compression failed: ") + ZSTD_getErrorName(compressed));
        return false;
    }
    fmt::Frame frame;
    frame.compressedLength = static_cast<uint32_t>(compressed);
    frame.rawLength = static_cast<uint32_t>(raw.size());
    frame.crc = crc32Of(out + fmt::kFrameSize, compressed);
    frame.type = static_cast<fmt::BlockType>(type);
    fmt::encodeFrame(frame, out);
    *offset = m_fileOffset;
    *frameLength = fmt::kFrameSize + compressed;
    return writeAll(out, fmt::kFrameSize + compressed);
}

bool RecordingWriter::writeAll(const void *data, size_t size)
{
    const auto *p = static_cast<const char *>(data);
    while (size > 0) {
        const ssize_t n = ::write(m_fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            setError("writing recording " + m_path + " failed: " + errnoText(n < 0 ? errno : ENOSPC)
                + "; recording stopped");
            return false;
        }
        p += n;
        size -= size_t(n);
        m_fileOffset += uint64_t(n);
        m_bytesWritten.fetch_add(uint64_t(n), std::memory_order_relaxed);
    }
    return true;
}

void RecordingWriter::setError(const std::string &message)
{
    m_writeFailed = true;
    std::lock_guard lock(m_mutex);
    m_recording = false;
    // A write error outranks an earlier "falls behind": it is why nothing more is kept.
    m_lastError = message;
    m_pending.clear();
    m_pendingBytes = 0;
}

void RecordingWriter::close()
{
    std::lock_guard closeLock(m_closeMutex);
    {
        std::lock_guard lock(m_mutex);
        if (m_closed || m_closing)
            return;
        m_closing = true;
        m_recording = false;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();

    if (!m_writeFailed) {
        msrec::RecordingIndex index;
        for (const IndexEntry &e : m_index) {
            msrec::BlockIndexEntry *pe = index.add_blocks();
            pe->set_offset(e.offset);
            pe->set_frame_length(e.frameLength);
            pe->set_first_ms(e.firstMs);
            pe->set_last_ms(e.lastMs);
            pe->set_event_count(e.events);
            pe->set_span_count(e.spans);
            pe->set_request_count(e.requests);
            pe->set_raw_length(e.rawLength);
            if (index.blocks_size() == 1) {
                index.set_start_ms(e.firstMs);
                index.set_end_ms(e.lastMs);
            }
            index.set_start_ms(std::min(index.start_ms(), e.firstMs));
            index.set_end_ms(std::max(index.end_ms(), e.lastMs));
        }
        uint64_t indexOffset = 0;
        uint64_t indexLength = 0;
        if (writeFrame(
                static_cast<uint8_t>(fmt::BlockType::Index), index.SerializeAsString(), &indexOffset, &indexLength)) {
            unsigned char trailer[fmt::kTrailerSize];
            fmt::putU64(trailer, indexOffset);
            fmt::putU32(trailer + 8, crc32Of(trailer, 8));
            fmt::putU32(trailer + 12, fmt::kTrailerMagic);
            writeAll(trailer, sizeof trailer);
        }
    }
    if (::close(m_fd) != 0 && !m_writeFailed)
        setError("closing recording " + m_path + " failed: " + errnoText(errno));
    std::lock_guard lock(m_mutex);
    m_closed = true;
}

bool RecordingWriter::isClosed() const
{
    std::lock_guard lock(m_mutex);
    return m_closed;
}

int64_t RecordingWriter::durationMs() const
{
    std::lock_guard lock(m_mutex);
    return m_anyEvent ? m_lastMs - m_firstMs : 0;
}

size_t RecordingWriter::pendingBytes() const
{
    std::lock_guard lock(m_mutex);
    return m_pendingBytes;
}

std::string RecordingWriter::lastError() const
{
    std::lock_guard lock(m_mutex);
    return m_lastError;
}

}  // namespace meshscope

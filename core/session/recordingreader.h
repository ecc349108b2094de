#pragma once
// Reads a .msrec recording (recordingformat.h): opens it through the index at its end
// (no scan, so a large file opens at once), or by walking its blocks when the writer
// never closed it or its index does not match its blocks, and replays a time range into
// a TelemetrySink exactly as the live sources would have delivered it. What could not
// be read is said in problems(), each with where and how much, and the rest is still
// read.
// One thread at a time per reader; open several readers for parallel reads.

#include "model/telemetrysink.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace meshscope {

class RecordingReader {
public:
    // One events block, as the index (or the scan) describes it.
    struct BlockInfo {
        uint64_t offset = 0;  // of the frame
        uint64_t frameLength = 0;  // frame header + compressed payload
        uint32_t rawLength = 0;
        int64_t firstMs = 0;
        int64_t lastMs = 0;
        uint32_t events = 0;
        uint32_t spans = 0;
        uint32_t requests = 0;
    };

    // The events that have no TelemetrySink call, and the replay's progress. Any may be
    // empty.
    struct Callbacks {
        std::function<void(const std::string &origin, const std::string &state, int64_t ms)> sourceState;
        std::function<void(uint64_t version, const std::string &backend, const std::string &yaml, int64_t ms)>
            routeApply;
        // Called after each block replay() reads (each read once, in time order), once every
        // event of the range up to `deliveredMs` (inclusive) has been delivered; events
        // delivered later are later than it. After the last block it is the range's end.
        // Lets one replay of a whole file show progress between blocks; returning false
        // stops the replay there (replay() then returns true).
        std::function<bool(int64_t deliveredMs)> afterBlock;
    };

    // Null with a message for the user when `path` is no readable recording (missing,
    // empty, not a recording, a newer format, header cut short).
    static std::unique_ptr<RecordingReader> open(const std::string &path, std::string &error);
    ~RecordingReader();

    RecordingReader(const RecordingReader &) = delete;
    RecordingReader &operator=(const RecordingReader &) = delete;

    int formatVersion() const { return m_formatVersion; }
    // Time range of the events (receive time, ms since the epoch); the creation time
    // when the recording holds none.
    int64_t startMs() const { return m_startMs; }
    int64_t endMs() const { return m_endMs; }
    int64_t createdMs() const { return m_createdMs; }
    std::string headerJson() const { return m_headerJson; }
    std::string meshscopeVersion() const { return m_meshscopeVersion; }
    uint64_t fileSize() const { return m_fileSize; }

    // Truncated tail, missing index, corrupt blocks skipped (found at open or by replay).
    std::vector<std::string> problems() const;
    size_t blockCount() const { return m_blocks.size(); }
    const std::vector<BlockInfo> &blocks() const { return m_blocks; }
    bool openedFromIndex() const { return m_fromIndex; }
    // Blocks decompressed so far, by replay and by the scan; tests check that a range
    // read touches only the blocks it needs.
    uint64_t blocksDecompressed() const { return m_blocksDecompressed.load(std::memory_order_relaxed); }

    // Replays the events whose time lies in [fromMs, toMs], in time order: spans through
    // ingestSpans with their receive time as nowMs, requests through ingestRequests,
    // pulls through setPulledEdges, the rest through `cb`. Only blocks overlapping the
    // range are read, each once (cb.afterBlock follows each). Corrupt blocks are skipped
    // and added to problems(); false with `error` only when reading the file fails.
    bool replay(TelemetrySink &sink, int64_t fromMs, int64_t toMs, const Callbacks &cb, std::string &error);

private:
    struct DecodedEvent;
    RecordingReader(std::string path, int fd, uint64_t size);

    bool readHeader(std::string &error);
    bool loadIndex();
    bool indexMatchesBlocks(const std::vector<BlockInfo> &blocks);
    void scan();
    bool readAt(uint64_t offset, void *data, size_t size) const;
    // Offset of the next intact frame at or after `from`, or UINT64_MAX.
    uint64_t findNextFrame(uint64_t from) const;
    bool summarise(const std::string &compressed, uint32_t rawLength, BlockInfo &info);
    enum class BlockRead { Ok, Corrupt, IoError };
    BlockRead readBlock(const BlockInfo &block, std::string &raw, std::string &error);
    void addProblem(std::string message);
    void addBlockProblem(uint64_t offset, const std::string &what);

    const std::string m_path;
    const int m_fd;
    const uint64_t m_fileSize;
    int m_formatVersion = 0;
    int64_t m_createdMs = 0;
    int64_t m_startMs = 0;
    int64_t m_endMs = 0;
    std::string m_headerJson;
    std::string m_meshscopeVersion;
    uint64_t m_dataStart = 0;
    bool m_fromIndex = false;
    std::vector<BlockInfo> m_blocks;

    mutable std::mutex m_problemsMutex;
    std::vector<std::string> m_problems;
    std::set<uint64_t> m_reportedBlocks;  // so a replay does not repeat a block's problem
    std::atomic<uint64_t> m_blocksDecompressed {0};
};

}  // namespace meshscope

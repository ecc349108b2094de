#include "session/clipexport.h"

#include "session/clipscrubber.h"
#include "session/recordingreader.h"
#include "session/recordingwriter.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace meshscope {

namespace {

namespace fs = std::filesystem;

// Unwritten clip data past which reading waits for the writer: the reader decodes far
// faster than zstd compresses, and the writer drops events rather than grow without bound.
constexpr size_t kMaxPendingBytes = size_t(16) << 20;

std::string utc(int64_t ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toStdString();
}

ClipResult failure(ClipResult::Error error, std::string message)
{
    ClipResult r;
    r.error = error;
    r.message = std::move(message);
    return r;
}

// The clip under its temporary name, removed unless it was renamed into place.
struct TemporaryFile {
    std::string path;
    ~TemporaryFile()
    {
        if (!path.empty())
            ::unlink(path.c_str());
    }
};

// The writer names the file it writes; the user knows the one they asked for.
std::string mentioning(std::string message, const std::string &tempPath, const std::string &outPath)
{
    for (size_t at = message.find(tempPath); at != std::string::npos; at = message.find(tempPath, at + outPath.size()))
        message.replace(at, tempPath.size(), outPath);
    return message;
}

bool syncFile(const std::string &path, int flags)
{
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

// Runs on the thread calling exportClip: each batch is scrubbed, counted and recorded.
class ScrubbingSink : public TelemetrySink {
public:
    ScrubbingSink(RecordingWriter &writer, const ClipScrubber &scrubber, ClipResult &result)
        : m_writer(writer)
        , m_scrubber(scrubber)
        , m_result(result)
    {
    }

    void ingestSpans(std::vector<Span> &&spans, int64_t nowMs, const char *origin) override
    {
        for (Span &s : spans)
            m_result.valuesRedacted += m_scrubber.span(s);
        m_result.spans += spans.size();
        ++m_result.events;
        const std::string from = scrubbed(origin);
        m_writer.ingestSpans(std::move(spans), nowMs, from.c_str());
    }
    void ingestRequests(std::vector<ObservedRequest> &&requests, int64_t nowMs, const char *origin) override
    {
        for (ObservedRequest &r : requests)
            m_result.valuesRedacted += m_scrubber.request(r.event);
        m_result.requests += requests.size();
        ++m_result.events;
        const std::string from = scrubbed(origin);
        m_writer.ingestRequests(std::move(requests), nowMs, from.c_str());
    }
    void setPulledEdges(const std::string &origin, std::vector<PulledEdge> edges, int64_t nowMs) override
    {
        ++m_result.pulls;
        ++m_result.events;
        m_writer.setPulledEdges(scrubbed(origin.c_str()), std::move(edges), nowMs);
    }
    void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
    void countMalformed(const std::string &) override { }
    void countOversized(const std::string &) override { }

    std::string scrubbed(const char *text)
    {
        std::string s = text ? text : "";
        m_result.valuesRedacted += m_scrubber.text(s);
        return s;
    }

private:
    RecordingWriter &m_writer;
    const ClipScrubber &m_scrubber;
    ClipResult &m_result;
};

// The clip's header: where it was cut from, and the source's own header, scrubbed.
std::string clipHeader(const RecordingReader &reader, const std::string &inPath, const ClipResult &range,
    const ClipOptions &options, const ClipScrubber &scrubber, uint64_t &redacted)
{
    const QJsonObject clip {
        {QStringLiteral("file"), QString::fromStdString(fs::path(inPath).filename().string())},
        {QStringLiteral("from"), QString::fromStdString(utc(range.fromMs))},
        {QStringLiteral("to"), QString::fromStdString(utc(range.toMs))},
        {QStringLiteral("from_ms"), qint64(range.fromMs)},
        {QStringLiteral("to_ms"), qint64(range.toMs)},
        {QStringLiteral("source_created_ms"), qint64(reader.createdMs())},
        {QStringLiteral("source_meshscope_version"), QString::fromStdString(reader.meshscopeVersion())},
        {QStringLiteral("redacted"),
            QStringLiteral("query-string and fragment values, URL userinfo, and the values of secret-named "
                           "headers, attributes and route matches")},
    };
    QJsonObject header {
        {QStringLiteral("program"), QString::fromStdString(options.program)}, {QStringLiteral("clip"), clip}};
    const std::string source = reader.headerJson();
    QJsonParseError parseError {};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(source), &parseError);
    if (parseError.error == QJsonParseError::NoError && (doc.isObject() || doc.isArray())) {
        QJsonValue value = doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
        redacted += scrubber.json(value);
        header.insert(QStringLiteral("source_header"), value);
    } else if (!source.empty()) {
        std::string text = source;
        redacted += scrubber.text(text);
        header.insert(QStringLiteral("source_header_text"), QString::fromStdString(text));
    }
    return QJsonDocument(header).toJson(QJsonDocument::Compact).toStdString();
}

}  // namespace

ClipResult exportClip(const std::string &inPath, int64_t fromMs, int64_t toMs, const std::string &outPath,
    const ClipOptions &options, std::function<bool(double progress)> progress)
{
    using Error = ClipResult::Error;
    if (outPath.empty())
        return failure(Error::CannotWrite, "no file to write the clip to");
    if (toMs < fromMs)
        return failure(Error::BadRange, "the range ends (" + utc(toMs) + ") before it starts (" + utc(fromMs) + ")");
    if (toMs == fromMs)
        return failure(Error::BadRange, "the range is empty: it starts and ends at " + utc(fromMs));

    std::string why;
    const std::unique_ptr<RecordingReader> reader = RecordingReader::open(inPath, why);
    if (!reader)
        return failure(Error::CannotRead, why);

    std::error_code ec;
    if (fs::exists(outPath, ec)) {
        if (fs::equivalent(inPath, outPath, ec))
            return failure(
                Error::SameFile, "the clip cannot be written over the recording it is cut from (" + outPath + ")");
        if (fs::is_directory(outPath, ec))
            return failure(Error::CannotWrite, "cannot write the clip to " + outPath + ": it is a directory");
    }

    const int64_t start = reader->startMs(), end = reader->endMs();
    if (toMs < start || fromMs > end)
        return failure(Error::BadRange,
            utc(fromMs) + " to " + utc(toMs) + " is outside the recording (" + utc(start) + " to " + utc(end) + ")");
    ClipResult r;
    r.fromMs = std::max(fromMs, start);
    r.toMs = std::min(toMs, end);
    const auto &blocks = reader->blocks();
    if (std::none_of(blocks.begin(), blocks.end(),
            [&r](const RecordingReader::BlockInfo &b) { return b.lastMs >= r.fromMs && b.firstMs <= r.toMs; }))
        return failure(Error::NoEvents,
            "the recording holds no events from " + utc(r.fromMs) + " to " + utc(r.toMs) + ": nothing to clip");

    // Beside the output, so the rename at the end replaces it in one step.
    const fs::path out(outPath);
    const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
    std::string name = (dir / ("." + out.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        return failure(Error::CannotWrite, "cannot write the clip to " + outPath + ": " + std::strerror(errno));
    ::fchmod(fd, 0644);  // mkstemp's 0600 would keep a colleague's copy from being read by others
    ::close(fd);
    TemporaryFile temp {name};

    const ClipScrubber scrubber(options.extraSecretNames);
    uint64_t headerRedacted = 0;
    const std::string header = clipHeader(*reader, inPath, r, options, scrubber, headerRedacted);
    RecordingOptions writerOptions;
    writerOptions.compressionLevel = options.compressionLevel;
    const std::unique_ptr<RecordingWriter> writer
        = RecordingWriter::create(temp.path, nullptr, why, header, writerOptions);
    if (!writer)
        return failure(Error::CannotWrite, mentioning(why, temp.path, outPath));

    ScrubbingSink sink(*writer, scrubber, r);
    bool cancelled = false;
    RecordingReader::Callbacks cb;
    cb.sourceState = [&](const std::string &origin, const std::string &state, int64_t ms) {
        std::string text = state;
        r.valuesRedacted += scrubber.text(text);
        writer->recordSourceState(sink.scrubbed(origin.c_str()), text, ms);
        ++r.sourceStates;
        ++r.events;
    };
    cb.routeApply = [&](uint64_t version, const std::string &backend, const std::string &yaml, int64_t ms) {
        std::string routes = yaml;
        r.valuesRedacted += scrubber.routesYaml(routes);
        writer->recordRouteApply(version, sink.scrubbed(backend.c_str()), routes, ms);
        ++r.routeApplies;
        ++r.events;
    };
    const double span = double(std::max<int64_t>(1, r.toMs - r.fromMs));
    cb.afterBlock = [&](int64_t deliveredMs) {
        const double done = std::clamp(double(deliveredMs - r.fromMs) / span, 0.0, 1.0);
        auto goOn = [&] {
            if (progress && !progress(done))
                cancelled = true;
            return !cancelled;
        };
        // Asked again while waiting for a slow disk, so a cancel is heard at once.
        for (int waited = 0; writer->pendingBytes() > kMaxPendingBytes && writer->lastError().empty(); ++waited) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            if (waited % 25 == 24 && !goOn())
                return false;
        }
        if (!writer->lastError().empty())
            return false;  // the disk filled: reading on would only be thrown away
        return goOn();
    };
    const bool read = reader->replay(sink, r.fromMs, r.toMs, cb, why);
    writer->close();
    r.problems = reader->problems();
    if (!read)
        return failure(Error::CannotRead, "reading " + inPath + " failed: " + why);
    if (const std::string e = writer->lastError(); !e.empty())
        return failure(Error::CannotWrite, mentioning(e, temp.path, outPath));
    if (writer->eventsDropped() > 0)
        return failure(Error::CannotWrite, "the clip lost events while it was written; nothing was kept");
    if (cancelled)
        return failure(Error::Cancelled, "the export was cancelled; nothing was written");
    if (r.events == 0)
        return failure(Error::NoEvents,
            "the recording holds no events from " + utc(r.fromMs) + " to " + utc(r.toMs) + ": nothing to clip");

    if (!syncFile(temp.path, O_RDONLY))
        return failure(Error::CannotWrite, "cannot write the clip to " + outPath + ": " + std::strerror(errno));
    if (::rename(temp.path.c_str(), outPath.c_str()) != 0)
        return failure(Error::CannotWrite, "cannot write the clip to " + outPath + ": " + std::strerror(errno));
    temp.path.clear();
    syncFile(dir.string(), O_RDONLY | O_DIRECTORY);  // the rename itself, on a crash; best effort
    r.valuesRedacted += headerRedacted;
    r.bytes = writer->bytesWritten();
    if (progress)
        progress(1.0);
    return r;
}

}  // namespace meshscope

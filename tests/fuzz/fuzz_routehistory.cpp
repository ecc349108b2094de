// Fuzz target for the route history reader (RouteHistory::list): route-history.jsonl
// as another process, a crash mid-write or a hand edit may have left it. The input is
// the whole file; it is written into a temporary directory and read back. Properties
// checked on every input:
// - reading never crashes or throws;
// - every non-empty line is either an entry or skipped and counted:
//   entries + skippedLines() == non-empty lines;
// - looking entries up and rolling them back never crashes, and entry(id) finds an
//   entry with that id;
// - appending a change to the damaged file keeps everything that was readable: the
//   entries read before, the same skipped count, and the new entry last with an id
//   above all others (the record starts on a line of its own after a cut-short one).
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/routehistory and mutations of it.

#include "fuzzproperty.h"

#include "routing/routehistory.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QList>
#include <QTemporaryDir>

#include <algorithm>
#include <climits>
#include <cmath>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

constexpr const char *kFuzzTarget = "fuzz_routehistory";

// One directory for the whole run: creating one per input would cost more than the
// read being tested. On tmpfs where there is one: record() fsyncs, which on a disk
// makes the run ten times slower.
QString tempRoot()
{
    const QFileInfo shm(QStringLiteral("/dev/shm"));
    return shm.isDir() && shm.isWritable() ? shm.filePath() : QDir::tempPath();
}

const QTemporaryDir &runDirectory()
{
    static const QTemporaryDir dir(tempRoot() + QStringLiteral("/meshscope-fuzz-XXXXXX"));
    if (!dir.isValid())
        fuzz::propertyBroken(kFuzzTarget, "cannot create a temporary directory (harness)", __FILE__, __LINE__);
    return dir;
}

qsizetype nonEmptyLines(const QByteArray &file)
{
    qsizetype n = 0;
    for (const QByteArray &line : file.split('\n'))
        n += line.trimmed().isEmpty() ? 0 : 1;
    return n;
}

bool sameEntry(const HistoryEntry &a, const HistoryEntry &b)
{
    return a.id == b.id && a.timeMs == b.timeMs && a.target == b.target && a.diff == b.diff && a.summary == b.summary
        && a.beforeYaml == b.beforeYaml && a.afterYaml == b.afterYaml && a.rollbackOf == b.rollbackOf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    const QByteArray file(reinterpret_cast<const char *>(data), qsizetype(size));
    RouteHistory history(runDirectory().path().toStdString());
    {
        QFile f(QString::fromStdString(history.filePath()));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(file) != file.size())
            fuzz::propertyBroken(kFuzzTarget, "cannot write the history file (harness)", __FILE__, __LINE__);
    }

    const std::vector<HistoryEntry> entries = history.list();
    const int skipped = history.skippedLines();
    ASSERT_PROPERTY(qsizetype(entries.size()) + skipped == nonEmptyLines(file),
        "every non-empty line is an entry or a counted skip");

    // Lookups and rollbacks of a few entries: each loads its "before" YAML.
    for (size_t i = 0; i < entries.size() && i < 3; ++i) {
        const auto found = history.entry(entries[i].id);
        ASSERT_PROPERTY(found && found->id == entries[i].id, "entry(id) finds an entry with that id");
        (void)history.rollback(entries[i].id);
    }

    // Appending: ids near the int64 edge make the next id meaningless, so only files
    // whose ids leave room are appended to (the reader is what is fuzzed here).
    const bool roomForId
        = std::all_of(entries.begin(), entries.end(), [](const HistoryEntry &e) { return e.id < (int64_t(1) << 53); });
    if (!roomForId || size > 64 * 1024)
        return 0;
    const auto recorded = history.record("fuzz", RouteSet {}, RouteSet {}, std::nullopt, 1'700'000'000'000);
    ASSERT_PROPERTY(recorded.has_value(), "a change can be appended to a damaged history");
    const std::vector<HistoryEntry> after = history.list();
    ASSERT_PROPERTY(after.size() == entries.size() + 1 && history.skippedLines() == skipped,
        "appending keeps every readable entry and damages none");
    for (size_t i = 0; i < entries.size(); ++i)
        ASSERT_PROPERTY(sameEntry(after[i], entries[i]), "appending leaves earlier entries as they were");
    ASSERT_PROPERTY(after.back().id == recorded->id, "the appended entry comes last");
    for (const HistoryEntry &e : entries)
        ASSERT_PROPERTY(recorded->id > e.id, "the appended entry's id is above every other");
    return 0;
}

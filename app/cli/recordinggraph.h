#pragma once
// The graph a recording holds for a time range, as `graph --from` and `diff` answer
// it, and the times those commands take on a recording.

#include "graph/graphaggregator.h"
#include "graph/graphsnapshot.h"

#include <QString>

#include <cstdint>
#include <optional>
#include <string>

namespace meshscope {
class RecordingReader;
}

namespace meshscope::cli {

// The graph the recording's events from `fromMs` to `toMs` make, seen at `toMs` over
// that whole range (config.windowSeconds is set from it). Calls cut by the range's end
// count as the live graph would count them; a callee's half waiting for its caller is
// not taken for an outside call. Null with `why` set when the file cannot be read.
GraphSnapshotPtr graphOfRecording(
    RecordingReader &reader, int64_t fromMs, int64_t toMs, AggregatorConfig config, std::string &why);

// A moment in a recording: unix seconds, an RFC 3339 time with its zone, or an offset
// from the recording's start ("+90s", "+5m", "+1h30m"). Milliseconds since the epoch;
// nullopt when the text is none of these.
std::optional<int64_t> parseRecordingTime(const QString &text, int64_t startMs);

// "2026-12-07T10:42:05.000Z to 2026-12-07T10:52:05.000Z": a recording's span, for errors.
QString recordingSpanText(const RecordingReader &reader);

struct TimeRange {
    int64_t fromMs = 0;
    int64_t toMs = 0;
};
// "T1/T2" with both ends inside the recording and T1 before T2; else nullopt with a
// one-line reason in `why` naming `option`.
std::optional<TimeRange> parseRecordingRange(
    const QString &text, const RecordingReader &reader, const QString &option, QString &why);

}  // namespace meshscope::cli

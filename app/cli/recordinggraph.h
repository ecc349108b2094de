#pragma once
// The times `graph --from`, `diff` and `clip` take on a recording (the graph of a range
// is replay/recordedgraph.h's).

#include "replay/recordedgraph.h"  // graphOfRecording

#include <QString>

#include <cstdint>
#include <optional>
#include <string>

namespace meshscope {
class RecordingReader;
}

namespace meshscope::cli {

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

#include "recordinggraph.h"

#include "session/recordingreader.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QDateTime>

#include <algorithm>

namespace meshscope::cli {

std::optional<int64_t> parseRecordingTime(const QString &text, int64_t startMs)
{
    const QString t = text.trimmed();
    if (t.startsWith(QLatin1Char('+'))) {
        const QString offset = t.mid(1);
        if (offset == QLatin1String("0") || offset == QLatin1String("0s"))
            return startMs;
        const std::optional<int> seconds = parsePromDurationSeconds(offset);
        if (!seconds)
            return std::nullopt;
        return startMs + int64_t(*seconds) * 1000;
    }
    if (t == QLatin1String("now"))
        return std::nullopt;  // a recording has no "now"
    const std::optional<double> seconds = parsePromTime(t);
    if (!seconds)
        return std::nullopt;
    return int64_t(*seconds * 1000.0 + 0.5);
}

QString recordingSpanText(const RecordingReader &reader)
{
    auto utc = [](int64_t ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs); };
    return utc(reader.startMs()) + QStringLiteral(" to ") + utc(reader.endMs());
}

std::optional<TimeRange> parseRecordingRange(
    const QString &text, const RecordingReader &reader, const QString &option, QString &why)
{
    const QStringList ends = text.split(QLatin1Char('/'));
    if (ends.size() != 2) {
        why = QStringLiteral("%1 needs a range FROM/TO, each unix seconds, RFC 3339 or +OFFSET (like +90s/+5m)")
                  .arg(option);
        return std::nullopt;
    }
    TimeRange r;
    for (int i = 0; i < 2; ++i) {
        const std::optional<int64_t> ms = parseRecordingTime(ends[i], reader.startMs());
        if (!ms) {
            why = QStringLiteral("%1: '%2' is not a time (unix seconds, RFC 3339 or +OFFSET like +90s)")
                      .arg(option, ends[i].trimmed());
            return std::nullopt;
        }
        (i == 0 ? r.fromMs : r.toMs) = *ms;
    }
    if (r.toMs <= r.fromMs) {
        why = QStringLiteral("%1: the range ends before it starts (%2)").arg(option, text.trimmed());
        return std::nullopt;
    }
    // The end may fall in the recording's last second: its events are stamped to the ms.
    if (r.fromMs < reader.startMs() - 1000 || r.toMs > reader.endMs() + 1000 || r.fromMs > reader.endMs()
        || r.toMs < reader.startMs()) {
        why = QStringLiteral("%1 (%2) is outside the recording (%3)")
                  .arg(option, text.trimmed(), recordingSpanText(reader));
        return std::nullopt;
    }
    return r;
}

}  // namespace meshscope::cli

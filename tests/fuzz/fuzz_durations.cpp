// Fuzz target for the duration and time parsers, each given the whole input as text:
// parseDuration (route files, GEP-2257), parseCaddyDuration (Caddy's Go durations, as
// text and, where the input is a JSON number, as nanoseconds), parsePromTime and
// parsePromDurationSeconds (--at and --window). Properties checked on every input:
// - no parser crashes;
// - what a parser accepts is in its documented range: durations in milliseconds are
//   never negative (route file ones at most kMaxDurationMs), Prometheus windows are
//   whole seconds from 1 to 1e9, times are finite and not before 1970;
// - round trip: an accepted value written back by the formatter meshscope uses for
//   that format (formatDuration for route files, the Caddy exporter's goDuration) or,
//   where the parser has none, in the parser's own plain spelling (seconds for
//   Prometheus, RFC 3339 UTC for times), parses again to the same value.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/durations and mutations of it.

#include "fuzzproperty.h"

#include "routing/caddy/caddytranslator.h"
#include "routing/yaml/routeyaml.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QString>

#include <cmath>
#include <string>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

constexpr const char *kFuzzTarget = "fuzz_durations";

void checkGatewayDuration(const std::string &text)
{
    const std::optional<int64_t> ms = parseDuration(text);
    if (!ms)
        return;
    ASSERT_PROPERTY(*ms >= 0 && *ms <= kMaxDurationMs, "a route file duration is in [0, kMaxDurationMs]");
    const std::string written = formatDuration(*ms);
    const std::optional<int64_t> back = parseDuration(written);
    ASSERT_PROPERTY(back.has_value(), "what formatDuration writes, parseDuration reads");
    ASSERT_PROPERTY(*back == *ms, "round trip parseDuration -> formatDuration -> parseDuration keeps the value");
}

void checkCaddyDuration(const QJsonValue &value)
{
    const std::optional<int64_t> ms = parseCaddyDuration(value);
    if (!ms)
        return;
    ASSERT_PROPERTY(*ms >= 0, "a Caddy duration is never negative");
    const std::string written = caddyjson::goDuration(*ms);
    const std::optional<int64_t> back = parseCaddyDuration(QJsonValue(QString::fromStdString(written)));
    ASSERT_PROPERTY(back.has_value(), "what the Caddy exporter writes, parseCaddyDuration reads");
    ASSERT_PROPERTY(*back == *ms, "round trip parseCaddyDuration -> goDuration -> parseCaddyDuration keeps the value");
}

void checkPromTime(const QString &text)
{
    const std::optional<double> t = parsePromTime(text);
    if (!t)
        return;
    ASSERT_PROPERTY(std::isfinite(*t) && *t >= 0, "a Prometheus time is finite and not before 1970");
    if (text.trimmed() == QLatin1String("now"))
        return;  // the clock moves on between two calls
    // Unix seconds as the query parameter spells them, to the last bit.
    const std::optional<double> seconds = parsePromTime(QString::number(*t, 'g', 17));
    ASSERT_PROPERTY(seconds && *seconds == *t, "round trip parsePromTime -> seconds -> parsePromTime keeps the value");
    // RFC 3339 in UTC keeps milliseconds, which is all an RFC 3339 input can carry.
    // Only where the time is exactly what a millisecond RFC 3339 input would give.
    const double ms = std::round(*t * 1000);
    if (ms / 1000.0 == *t && ms < 253402300799000.0) {  // before year 10000: four-digit years only
        const QString iso = QDateTime::fromMSecsSinceEpoch(qint64(ms), Qt::UTC).toString(Qt::ISODateWithMs);
        const std::optional<double> rfc = parsePromTime(iso);
        ASSERT_PROPERTY(rfc && *rfc == *t, "round trip parsePromTime -> RFC 3339 -> parsePromTime keeps the value");
    }
}

void checkPromDuration(const QString &text)
{
    const std::optional<int> s = parsePromDurationSeconds(text);
    if (!s)
        return;
    ASSERT_PROPERTY(*s >= 1 && *s <= 1000000000, "a Prometheus window is 1 to 1e9 whole seconds");
    const std::optional<int> plain = parsePromDurationSeconds(QString::number(*s));
    const std::optional<int> unit = parsePromDurationSeconds(QString::number(*s) + QLatin1Char('s'));
    ASSERT_PROPERTY(plain && *plain == *s && unit && *unit == *s,
        "round trip parsePromDurationSeconds -> \"<n>\" and \"<n>s\" -> parse keeps the value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // Durations are short; a long input only repeats units the parsers refuse anyway.
    if (size > 4096)
        return 0;
    const std::string text(reinterpret_cast<const char *>(data), size);
    const QString qtext = QString::fromUtf8(text.data(), qsizetype(text.size()));

    checkGatewayDuration(text);
    checkCaddyDuration(QJsonValue(qtext));
    // Caddy also takes a bare JSON number, as nanoseconds.
    const QJsonDocument number = QJsonDocument::fromJson("[" + QByteArray(text.data(), qsizetype(size)) + "]");
    if (number.isArray() && number.array().size() == 1 && number.array().at(0).isDouble())
        checkCaddyDuration(number.array().at(0));
    checkPromTime(qtext);
    checkPromDuration(qtext);
    return 0;
}

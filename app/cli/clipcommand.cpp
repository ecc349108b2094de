#include "clipcommand.h"

#include "recordinggraph.h"
#include "session/clipexport.h"
#include "session/recordingreader.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <memory>
#include <optional>

namespace meshscope::cli {

namespace {

std::unique_ptr<CommandLine> clipCommandLine()
{
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli clip --from FILE --range T1/T2 --out OUT.msrec [--format text|json] "
                       "[--redact-key NAME]..."),
        QStringLiteral(
            "Writes the events of a time range of a recording to a recording of its own, to hand an incident to\n"
            "someone else. Query-string values, user names and passwords in URLs, and the values of secret-looking\n"
            "headers, attributes and route header matches (authorization, cookie, x-api-key, *token*, *secret*,\n"
            "*password*...) become ***; names, paths, statuses and timings are kept. A TIME is unix seconds, an\n"
            "RFC 3339 time with its zone, or an offset from the recording's start: +90s, +5m, +1h30m. OUT is\n"
            "written whole or not at all."));
    commandLine->addGroup(QStringLiteral("Clip"),
        {
            {{QStringLiteral("from")}, QStringLiteral("FILE"), QStringLiteral("the recording to cut from"),
                QStringLiteral("--from needs a recording file")},
            {{QStringLiteral("range")}, QStringLiteral("T1/T2"), QStringLiteral("the time range to keep"),
                QStringLiteral("--range needs a range such as +60s/+120s")},
            {{QStringLiteral("out")}, QStringLiteral("OUT"), QStringLiteral("the clip to write (.msrec)"),
                QStringLiteral("--out needs a file name")},
            {{QStringLiteral("format")}, QStringLiteral("text|json"),
                QStringLiteral("the summary printed (default text, one line)"),
                QStringLiteral("--format must be text or json")},
            {{QStringLiteral("redact-key")}, QStringLiteral("NAME"),
                QStringLiteral("one more header, query or attribute name whose values are removed (repeatable)"),
                QStringLiteral("--redact-key needs a name")},
        });
    return commandLine;
}

QString utc(int64_t ms) { return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs); }

QByteArray summaryJson(const ClipResult &r, const QString &from, const QString &out)
{
    QJsonArray problems;
    for (const std::string &p : r.problems)
        problems.append(QString::fromStdString(p));
    const QJsonObject o {
        {QStringLiteral("out"), out},
        {QStringLiteral("source"), from},
        {QStringLiteral("from"), utc(r.fromMs)},
        {QStringLiteral("to"), utc(r.toMs)},
        {QStringLiteral("from_ms"), qint64(r.fromMs)},
        {QStringLiteral("to_ms"), qint64(r.toMs)},
        {QStringLiteral("events"), qint64(r.events)},
        {QStringLiteral("spans"), qint64(r.spans)},
        {QStringLiteral("requests"), qint64(r.requests)},
        {QStringLiteral("pulls"), qint64(r.pulls)},
        {QStringLiteral("source_states"), qint64(r.sourceStates)},
        {QStringLiteral("route_applies"), qint64(r.routeApplies)},
        {QStringLiteral("values_redacted"), qint64(r.valuesRedacted)},
        {QStringLiteral("bytes"), qint64(r.bytes)},
        {QStringLiteral("problems"), problems},
    };
    return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

QString summaryLine(const ClipResult &r, const QString &out)
{
    return QStringLiteral("wrote %1: %2 events (%3 spans, %4 requests, %5 route applies, %6 source states, %7 pulls) "
                          "from %8 to %9, %10 bytes; %11 values redacted\n")
        .arg(out)
        .arg(r.events)
        .arg(r.spans)
        .arg(r.requests)
        .arg(r.routeApplies)
        .arg(r.sourceStates)
        .arg(r.pulls)
        .arg(utc(r.fromMs), utc(r.toMs))
        .arg(r.bytes)
        .arg(r.valuesRedacted);
}

}  // namespace

QString clipCommandHelp(CommandLine::Sections sections) { return clipCommandLine()->helpText(sections); }

int runClipCommand(const QStringList &args)
{
    const std::unique_ptr<CommandLine> commandLine = clipCommandLine();
    if (const std::optional<int> exit = commandLine->parseCommandOrExit(args, "clip", clipCommandHelp()))
        return *exit;
    const CommandLine &cl = *commandLine;
    auto given = [&cl](const char *name) { return cl.isSet(QLatin1String(name)); };
    auto value = [&cl](const char *name) { return cl.value(QLatin1String(name)); };
    auto fail = [](const QString &why, int status) {
        std::fprintf(stderr, "meshscope-cli clip: %s\n", qPrintable(why));
        return status;
    };
    if (!given("from"))
        return fail(QStringLiteral("--from is required (the recording to cut from)"), 2);
    if (!given("range"))
        return fail(QStringLiteral("--range is required (T1/T2, such as +60s/+120s)"), 2);
    if (!given("out"))
        return fail(QStringLiteral("--out is required (the clip to write)"), 2);
    const QString format = given("format") ? value("format") : QStringLiteral("text");
    if (format != QLatin1String("text") && format != QLatin1String("json"))
        return fail(QStringLiteral("--format must be text or json"), 2);

    const QString from = value("from");
    const QString out = value("out");
    std::string why;
    std::optional<TimeRange> range;
    {
        const std::unique_ptr<RecordingReader> reader = RecordingReader::open(from.toStdString(), why);
        if (!reader)
            return fail(QString::fromStdString(why), 1);
        QString bad;
        range = parseRecordingRange(value("range"), *reader, QStringLiteral("--range"), bad);
        if (!range)
            return fail(bad, 2);
    }
    ClipOptions options;
    options.program = "meshscope-cli clip";
    for (const QString &name : cl.values(QStringLiteral("redact-key")))
        options.extraSecretNames.push_back(name.toStdString());
    const ClipResult r = exportClip(from.toStdString(), range->fromMs, range->toMs, out.toStdString(), options);
    for (const std::string &p : r.problems)
        std::fprintf(stderr, "meshscope-cli clip: %s: %s\n", qPrintable(from), p.c_str());
    if (!r.ok()) {
        const bool usage = r.error == ClipResult::Error::BadRange || r.error == ClipResult::Error::SameFile;
        return fail(QString::fromStdString(r.message), usage ? 2 : 1);
    }
    const QByteArray text = format == QLatin1String("json") ? summaryJson(r, from, out) : summaryLine(r, out).toUtf8();
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    std::fflush(stdout);
    return 0;
}

}  // namespace meshscope::cli

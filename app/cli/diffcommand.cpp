#include "diffcommand.h"

#include "graph/graphdiff.h"
#include "graph/graphexport.h"
#include "recordinggraph.h"
#include "session/recordingreader.h"
#include "telemetry/prometheus/prometheusclient.h"

#include <QCoreApplication>

#include <cstdio>
#include <memory>
#include <optional>

namespace meshscope::cli {

namespace {

std::unique_ptr<CommandLine> diffCommandLine()
{
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli diff --from NEW.msrec --against OLD.msrec [--format json|dot] [options]\n"
                       "       meshscope-cli diff --from FILE --before T1/T2 --after T3/T4 [--format json|dot] "
                       "[options]"),
        QStringLiteral(
            "Prints what changed in the service graph: every node and edge added, removed, changed or the same,\n"
            "with its numbers before and after. Two recordings are compared whole (--against is \"before\");\n"
            "one recording, range against range. A TIME is unix seconds, an RFC 3339 time with its zone, or an\n"
            "offset from the recording's start: +90s, +5m, +1h30m. A change counts when the error rate moves by\n"
            "--min-error-change points, or rps or p95 by --min-rps-change / --min-p95-change percent, or an\n"
            "edge's share of a traffic split by --min-share-change points."));
    commandLine->addGroup(QStringLiteral("Diff"),
        {
            {{QStringLiteral("from")}, QStringLiteral("FILE"),
                QStringLiteral("the recording (\"after\" when --against is given)"),
                QStringLiteral("--from needs a recording file")},
            {{QStringLiteral("against")}, QStringLiteral("OLD"),
                QStringLiteral("the recording to compare with (\"before\")"),
                QStringLiteral("--against needs a recording file")},
            {{QStringLiteral("before")}, QStringLiteral("T1/T2"), QStringLiteral("\"before\": a range of --from"),
                QStringLiteral("--before needs a range such as +0s/+60s")},
            {{QStringLiteral("after")}, QStringLiteral("T3/T4"), QStringLiteral("\"after\": a range of --from"),
                QStringLiteral("--after needs a range such as +60s/+120s")},
            {{QStringLiteral("format")}, QStringLiteral("json|dot"), QStringLiteral("output format (default json)"),
                QStringLiteral("--format must be json or dot")},
            {{QStringLiteral("min-error-change")}, QStringLiteral("POINTS"),
                QStringLiteral("error-rate move that counts, in percentage points (default 2)"),
                QStringLiteral("--min-error-change needs a number of percentage points")},
            {{QStringLiteral("min-rps-change")}, QStringLiteral("PERCENT"),
                QStringLiteral("rps move that counts (default 25)"),
                QStringLiteral("--min-rps-change needs a percentage")},
            {{QStringLiteral("min-p95-change")}, QStringLiteral("PERCENT"),
                QStringLiteral("p95 latency move that counts (default 25)"),
                QStringLiteral("--min-p95-change needs a percentage")},
            {{QStringLiteral("min-share-change")}, QStringLiteral("POINTS"),
                QStringLiteral("move of an edge's share of its split that counts, in points (default 5)"),
                QStringLiteral("--min-share-change needs a number of percentage points")},
        });
    return commandLine;
}

std::unique_ptr<RecordingReader> openRecording(const QString &path)
{
    std::string why;
    std::unique_ptr<RecordingReader> reader = RecordingReader::open(path.toStdString(), why);
    if (!reader)
        std::fprintf(stderr, "meshscope-cli diff: %s\n", why.c_str());
    return reader;
}

GraphSnapshotPtr graphOf(RecordingReader &reader, const QString &path, TimeRange range)
{
    std::string why;
    GraphSnapshotPtr g = graphOfRecording(reader, range.fromMs, range.toMs, AggregatorConfig {}, why);
    if (!g) {
        std::fprintf(stderr, "meshscope-cli diff: %s\n", why.c_str());
        return nullptr;
    }
    for (const std::string &p : reader.problems())
        std::fprintf(stderr, "meshscope-cli diff: %s: %s\n", qPrintable(path), p.c_str());
    return g;
}

}  // namespace

QString diffCommandHelp(CommandLine::Sections sections) { return diffCommandLine()->helpText(sections); }

int runDiffCommand(const QStringList &args)
{
    const std::unique_ptr<CommandLine> commandLine = diffCommandLine();
    if (const std::optional<int> exit = commandLine->parseCommandOrExit(args, "diff", diffCommandHelp()))
        return *exit;
    const CommandLine &cl = *commandLine;
    auto given = [&cl](const char *name) { return cl.isSet(QLatin1String(name)); };
    auto value = [&cl](const char *name) { return cl.value(QLatin1String(name)); };
    auto fail = [](const QString &why) {
        std::fprintf(stderr, "meshscope-cli diff: %s\n", qPrintable(why));
        return 2;
    };
    if (!given("from"))
        return fail(QStringLiteral("--from is required (a recording)"));
    const bool twoFiles = given("against");
    const bool ranges = given("before") || given("after");
    if (twoFiles && ranges)
        return fail(QStringLiteral("give --against OLD.msrec, or --before and --after ranges of --from, not both"));
    if (!twoFiles && !(given("before") && given("after")))
        return fail(QStringLiteral("say what to compare: --against OLD.msrec, or both --before T1/T2 and --after "
                                   "T3/T4"));
    const QString format = given("format") ? value("format") : QStringLiteral("json");
    if (format != QLatin1String("json") && format != QLatin1String("dot"))
        return fail(QStringLiteral("--format must be json or dot"));
    DiffThresholds thresholds;
    for (const auto &[name, field, scale] : {std::tuple {"min-error-change", &thresholds.errorRatePoints, 100.0},
             std::tuple {"min-rps-change", &thresholds.rpsRelative, 100.0},
             std::tuple {"min-p95-change", &thresholds.p95Relative, 100.0},
             std::tuple {"min-share-change", &thresholds.sharePoints, 100.0}}) {
        if (!given(name))
            continue;
        bool ok = false;
        const double v = value(name).toDouble(&ok);
        if (!ok || !(v > 0) || v > 1e6)
            return fail(QStringLiteral("--%1 needs a positive number").arg(QLatin1String(name)));
        *field = v / scale;
    }

    const QString fromPath = value("from");
    const std::unique_ptr<RecordingReader> from = openRecording(fromPath);
    if (!from)
        return 1;
    GraphSnapshotPtr before, after;
    if (twoFiles) {
        const QString againstPath = value("against");
        const std::unique_ptr<RecordingReader> against = openRecording(againstPath);
        if (!against)
            return 1;
        before = graphOf(*against, againstPath, {against->startMs(), against->endMs()});
        after = graphOf(*from, fromPath, {from->startMs(), from->endMs()});
    } else {
        QString why;
        const std::optional<TimeRange> b = parseRecordingRange(value("before"), *from, QStringLiteral("--before"), why);
        if (!b)
            return fail(why);
        const std::optional<TimeRange> a = parseRecordingRange(value("after"), *from, QStringLiteral("--after"), why);
        if (!a)
            return fail(why);
        before = graphOf(*from, fromPath, *b);
        after = graphOf(*from, fromPath, *a);
    }
    if (!before || !after)
        return 1;
    const GraphDiff diff = diffGraphs(before, after, thresholds);
    const QByteArray out = format == QLatin1String("dot") ? graphDiffToDot(diff) : graphDiffToJson(diff);
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    std::fflush(stdout);
    for (const std::string &n : diff.notices)
        std::fprintf(stderr, "meshscope-cli diff: %s\n", n.c_str());
    std::fprintf(stderr, "meshscope-cli diff: %zu added, %zu removed, %zu changed, %zu the same\n",
        diff.count(DiffChange::Added), diff.count(DiffChange::Removed), diff.count(DiffChange::Changed),
        diff.count(DiffChange::Same));
    return 0;
}

}  // namespace meshscope::cli

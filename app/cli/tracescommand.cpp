#include "tracescommand.h"

#include "livesession.h"
#include "sourceoptions.h"

#include "session/recordingwriter.h"
#include "traces/clockskew.h"
#include "traces/criticalpath.h"
#include "traces/tracejson.h"
#include "traces/traceql.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"
#include "traces/tracetree.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <memory>

namespace meshscope::cli {

namespace {

constexpr SourceFlags kSources = SourceFlag::Receivers | SourceFlag::ReceiverTls | SourceFlag::MessageLimit
    | SourceFlag::Prometheus | SourceFlag::EnvoyAdmin;

const QString kSourcesUsage = QStringLiteral("(--from FILE | [--otlp-listen ADDR] [--als-listen ADDR] --duration S)");

// Fills the store from the source; false (message printed) when it cannot.
bool loadSpans(QCoreApplication &app, const TelemetryInput &in, TraceStore &store, const char *command)
{
    DiscardingSink nothing;
    TraceStoreSink sink(store, nothing);
    QString error;
    if (!feedFromInput(app, in, sink, command, &error)) {
        std::fprintf(stderr, "meshscope-cli %s: %s\n", command, qPrintable(error));
        return false;
    }
    const TraceStoreCounters c = store.counters();
    std::fprintf(stderr, "meshscope-cli %s: %llu spans in %llu traces%s\n", command, (unsigned long long)c.spans,
        (unsigned long long)c.traces,
        c.evictedTraces ? qPrintable(
            QStringLiteral(" (%1 oldest traces evicted by the memory budget)").arg(qulonglong(c.evictedTraces)))
                        : "");
    return true;
}

void printOut(const QByteArray &out)
{
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    std::fflush(stdout);
}

// The parse common to the three commands: --help and --version answered, errors printed.
// Returns -1 to go on, else the exit status.
int parseCommon(CommandLine &cl, const QStringList &args, const char *command)
{
    return cl.parseCommandOrExit(args, command).value_or(-1);
}

int fail(const char *command, const QString &why)
{
    std::fprintf(stderr, "meshscope-cli %s: %s\n", command, qPrintable(why));
    return 2;
}

std::unique_ptr<CommandLine> recordCommandLine()
{
    auto cl = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli record [--otlp-listen ADDR] [--als-listen ADDR] [--prometheus URL]\n"
                       "                            [--envoy-admin URL] --duration SECONDS --out FILE"),
        QStringLiteral("Listens to the sources and writes everything they deliver (spans, access-log requests,\n"
                       "pulled metrics) to a recording: zstd-compressed blocks, about one a second, and an index\n"
                       "at the end. `traces`, `trace` and `graph` answer from it with --from FILE."));
    cl->addGroup(QStringLiteral("Record"),
        {durationOption(),
            {{QStringLiteral("out")}, QStringLiteral("FILE"), QStringLiteral("the recording to write (.msrec)"),
                QStringLiteral("--out needs a file to write")}});
    SourceOptions::declare(*cl, kSources);
    return cl;
}

void addFilterOptions(CommandLine &cl)
{
    cl.addGroup(QStringLiteral("Search"),
        {
            {{QStringLiteral("service")}, QStringLiteral("NAME"), QStringLiteral("a span of this service"),
                QStringLiteral("--service needs a service name")},
            {{QStringLiteral("operation")}, QStringLiteral("NAME"), QStringLiteral("... with this span name"),
                QStringLiteral("--operation needs a span name")},
            {{QStringLiteral("errors")}, {}, QStringLiteral("... that is an error (status ERROR, or HTTP 5xx served)")},
            {{QStringLiteral("attr")}, QStringLiteral("KEY=VALUE"),
                QStringLiteral("... with this attribute (span or resource); KEY alone: the key is set (repeatable)"),
                QStringLiteral("--attr needs KEY=VALUE or KEY")},
            {{QStringLiteral("min-duration")}, QStringLiteral("MS"),
                QStringLiteral("the whole trace lasted at least this long"),
                QStringLiteral("--min-duration needs milliseconds")},
            {{QStringLiteral("max-duration")}, QStringLiteral("MS"),
                QStringLiteral("the whole trace lasted at most this long"),
                QStringLiteral("--max-duration needs milliseconds")},
            {{QStringLiteral("query")}, QStringLiteral("TRACEQL"),
                QStringLiteral("TraceQL across spans: { resource.service.name = \"a\" } >> { status = error }"),
                QStringLiteral("--query needs a TraceQL query")},
            {{QStringLiteral("limit")}, QStringLiteral("N"), QStringLiteral("at most N traces (default 20)"),
                QStringLiteral("--limit needs a positive number")},
            {{QStringLiteral("sort")}, QStringLiteral("start|duration|spans|errors"),
                QStringLiteral("newest, longest, largest or most failing first (default start)"),
                QStringLiteral("--sort must be start, duration, spans or errors")},
            {{QStringLiteral("format")}, QStringLiteral("json|table"), QStringLiteral("output (default json)"),
                QStringLiteral("--format must be json or table")},
        });
}

std::unique_ptr<CommandLine> tracesCommandLine()
{
    auto cl = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli traces ") + kSourcesUsage
            + QStringLiteral("\n                            [--service NAME] [--operation NAME] [--errors] "
                             "[--attr KEY=VALUE]...\n"
                             "                            [--min-duration MS] [--max-duration MS] [--query TRACEQL]\n"
                             "                            [--limit N] [--sort start|duration|spans|errors] "
                             "[--format json|table]"),
        QStringLiteral("Searches the traces of a recording, or of what the live sources deliver in --duration.\n"
                       "Span conditions (service, operation, errors, attributes) must hold on one span; durations\n"
                       "apply to the whole trace. Prints {\"traces\":[...]} as JSON, or a table."));
    cl->addGroup(QStringLiteral("Spans from"), {fromOption(), durationOption()});
    addFilterOptions(*cl);
    SourceOptions::declare(*cl, kSources);
    return cl;
}

std::unique_ptr<CommandLine> traceCommandLine()
{
    auto cl = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral("usage: meshscope-cli trace ") + kSourcesUsage
            + QStringLiteral(" TRACE_ID\n                           [--format json|text] [--adjust-skew]"),
        QStringLiteral("Prints one trace: its spans in tree order with depth, self time and time on the critical\n"
                       "path, and the critical path (Jaeger's: from the root, the last-finishing child first)."));
    cl->addGroup(QStringLiteral("Spans from"), {fromOption(), durationOption()});
    cl->addGroup(QStringLiteral("Trace"),
        {
            {{QStringLiteral("format")}, QStringLiteral("json|text"), QStringLiteral("output (default json)"),
                QStringLiteral("--format must be json or text")},
            {{QStringLiteral("adjust-skew")}, {},
                QStringLiteral("shift spans of hosts whose clocks disagree into their parents (Jaeger's adjuster)")},
        });
    cl->allowPositional(1);
    SourceOptions::declare(*cl, kSources);
    return cl;
}

}  // namespace

QString recordCommandHelp(CommandLine::Sections s) { return recordCommandLine()->helpText(s); }
QString tracesCommandHelp(CommandLine::Sections s) { return tracesCommandLine()->helpText(s); }
QString traceCommandHelp(CommandLine::Sections s) { return traceCommandLine()->helpText(s); }

int runRecordCommand(QCoreApplication &app, const QStringList &args)
{
    const char *command = "record";
    const std::unique_ptr<CommandLine> cl = recordCommandLine();
    if (const int rc = parseCommon(*cl, args, command); rc >= 0)
        return rc;
    if (!cl->isSet(QStringLiteral("out")))
        return fail(command, QStringLiteral("--out FILE is required"));
    if (!cl->isSet(QStringLiteral("duration")))
        return fail(command, QStringLiteral("--duration SECONDS is required"));
    bool ok = false;
    const double seconds = cl->value(QStringLiteral("duration")).toDouble(&ok);
    if (!ok || seconds <= 0)
        return fail(command, QStringLiteral("--duration needs a positive number of seconds"));
    SourceOptions sources;
    if (const QString e = sources.read(*cl, kSources); !e.isEmpty())
        return fail(command, e);
    const QString out = cl->value(QStringLiteral("out"));
    const QJsonObject header {
        {QStringLiteral("program"), QStringLiteral("meshscope-cli record")}, {QStringLiteral("version"), appVersion()}};
    std::string error;
    DiscardingSink nothing;
    const std::unique_ptr<RecordingWriter> writer = RecordingWriter::create(
        out.toStdString(), &nothing, error, QJsonDocument(header).toJson(QJsonDocument::Compact).toStdString());
    if (!writer) {
        std::fprintf(stderr, "meshscope-cli record: %s\n", error.c_str());
        return 1;
    }
    QString why;
    if (!listenToSources(app, sources, *writer, int(seconds * 1000), command, &why)) {
        writer->close();
        std::fprintf(stderr, "meshscope-cli record: %s\n", qPrintable(why));
        return 1;
    }
    writer->close();
    if (const std::string e = writer->lastError(); !e.empty()) {
        std::fprintf(stderr, "meshscope-cli record: %s\n", e.c_str());
        return 1;
    }
    std::fprintf(stderr, "meshscope-cli record: wrote %s: %llu bytes in %llu blocks%s\n", qPrintable(out),
        (unsigned long long)writer->bytesWritten(), (unsigned long long)writer->blocksWritten(),
        writer->eventsDropped()
            ? qPrintable(QStringLiteral(", %1 events dropped (disk too slow)").arg(qulonglong(writer->eventsDropped())))
            : "");
    return 0;
}

int runTracesCommand(QCoreApplication &app, const QStringList &args)
{
    const char *command = "traces";
    const std::unique_ptr<CommandLine> cl = tracesCommandLine();
    if (const int rc = parseCommon(*cl, args, command); rc >= 0)
        return rc;
    TelemetryInput source;
    if (const QString e = readTelemetryInput(*cl, kSources, source, command); !e.isEmpty())
        return fail(command, e);
    TraceFilter filter;
    filter.service = cl->value(QStringLiteral("service")).toStdString();
    filter.operation = cl->value(QStringLiteral("operation")).toStdString();
    filter.errorsOnly = cl->isSet(QStringLiteral("errors"));
    for (const QString &a : cl->values(QStringLiteral("attr"))) {
        const qsizetype eq = a.indexOf(QLatin1Char('='));
        if (eq == 0)
            return fail(command, QStringLiteral("--attr needs KEY=VALUE or KEY, not '%1'").arg(a));
        if (eq < 0)
            filter.attributeKeys.push_back(a.toStdString());
        else
            filter.attributes.emplace_back(a.left(eq).toStdString(), a.mid(eq + 1).toStdString());
    }
    bool ok = true;
    for (const char *name : {"min-duration", "max-duration"}) {
        if (!cl->isSet(QLatin1String(name)))
            continue;
        const double ms = cl->value(QLatin1String(name)).toDouble(&ok);
        if (!ok || ms < 0)
            return fail(command, QStringLiteral("--%1 needs milliseconds (a number >= 0)").arg(QLatin1String(name)));
        (name[1] == 'i' ? filter.minDurationMs : filter.maxDurationMs) = ms;
    }
    if (cl->isSet(QStringLiteral("limit"))) {
        const qlonglong n = cl->value(QStringLiteral("limit")).toLongLong(&ok);
        if (!ok || n < 1 || n > 1000000)
            return fail(command, QStringLiteral("--limit needs a number from 1 to 1000000"));
        filter.limit = uint32_t(n);
    }
    if (cl->isSet(QStringLiteral("sort"))) {
        const QString s = cl->value(QStringLiteral("sort"));
        if (s == QLatin1String("start"))
            filter.sort = TraceFilter::Sort::Start;
        else if (s == QLatin1String("duration"))
            filter.sort = TraceFilter::Sort::Duration;
        else if (s == QLatin1String("spans"))
            filter.sort = TraceFilter::Sort::Spans;
        else if (s == QLatin1String("errors"))
            filter.sort = TraceFilter::Sort::Errors;
        else
            return fail(command, QStringLiteral("--sort must be start, duration, spans or errors"));
    }
    const QString format
        = cl->isSet(QStringLiteral("format")) ? cl->value(QStringLiteral("format")) : QStringLiteral("json");
    if (format != QLatin1String("json") && format != QLatin1String("table"))
        return fail(command, QStringLiteral("--format must be json or table"));
    std::optional<TraceQlQuery> query;
    if (cl->isSet(QStringLiteral("query"))) {
        std::string error;
        query = TraceQlQuery::parse(cl->value(QStringLiteral("query")).toStdString(), error);
        if (!query)
            return fail(command, QStringLiteral("--query: %1").arg(QString::fromStdString(error)));
        filter.query = &*query;
    }
    TraceStore store;
    if (!loadSpans(app, source, store, command))
        return 1;
    const std::vector<TraceSummary> found = store.search(filter);
    printOut(format == QLatin1String("table") ? traceSummariesToTable(found) : traceSummariesToJson(found));
    return 0;
}

int runTraceCommand(QCoreApplication &app, const QStringList &args)
{
    const char *command = "trace";
    const std::unique_ptr<CommandLine> cl = traceCommandLine();
    if (const int rc = parseCommon(*cl, args, command); rc >= 0)
        return rc;
    const QStringList positional = cl->positionalArguments();
    if (positional.isEmpty())
        return fail(command, QStringLiteral("give the TRACE_ID to print (32 hex digits)"));
    const std::optional<TraceId> id = parseTraceIdHex(positional.first().toStdString());
    if (!id)
        return fail(command,
            QStringLiteral("'%1' is not a trace id: 32 hex digits, as in 4bf92f3577b34da6a3ce929d0e0e4736")
                .arg(positional.first()));
    TelemetryInput source;
    if (const QString e = readTelemetryInput(*cl, kSources, source, command); !e.isEmpty())
        return fail(command, e);
    const QString format
        = cl->isSet(QStringLiteral("format")) ? cl->value(QStringLiteral("format")) : QStringLiteral("json");
    if (format != QLatin1String("json") && format != QLatin1String("text"))
        return fail(command, QStringLiteral("--format must be json or text"));
    TraceStore store;
    if (!loadSpans(app, source, store, command))
        return 1;
    std::optional<std::vector<Span>> spans = store.trace(*id);
    if (!spans || spans->empty()) {
        std::fprintf(stderr, "meshscope-cli trace: no trace %s in %s\n", traceIdHex(*id).c_str(),
            source.from.isEmpty() ? "what the sources delivered" : qPrintable(source.from));
        return 1;
    }
    TraceTree tree = buildTraceTree(std::move(*spans));
    tree.truncated = store.isTruncated(*id);
    if (cl->isSet(QStringLiteral("adjust-skew"))) {
        ClockSkewResult adjusted = adjustClockSkew(std::move(tree));
        for (const std::string &note : adjusted.notes)
            std::fprintf(stderr, "meshscope-cli trace: %s\n", note.c_str());
        tree = std::move(adjusted.tree);
    }
    const CriticalPathResult critical = computeCriticalPath(tree);
    printOut(format == QLatin1String("text") ? traceToText(tree, critical) : traceToJson(tree, critical));
    return 0;
}

}  // namespace meshscope::cli

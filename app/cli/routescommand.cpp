#include "routescommand.h"

#include "routing/routediff.h"
#include "routing/routeexport.h"
#include "routing/routehistory.h"
#include "routing/routevalidator.h"
#include "routing/routeyaml.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QSaveFile>

#include <cstdio>
#include <map>
#include <optional>

namespace meshscope::cli {

namespace {

using namespace meshscope::routing;

const char kUsage[]
    = "usage: meshscope-cli routes validate --file F [--target generic|xds-grpc|envoy|caddy]\n"
      "       meshscope-cli routes export --format istio|gateway-api --file F [--out FILE]\n"
      "                                   [--no-subsets] [--version-label LABEL]\n"
      "       meshscope-cli routes diff --file NEW --against OLD\n"
      "       meshscope-cli routes apply --file NEW --to F --dir D [--target generic|xds-grpc|envoy|caddy]\n"
      "       meshscope-cli routes history --dir D [--id N]\n"
      "       meshscope-cli routes rollback --dir D --id N --file F\n"
      "  validate prints every issue and exits 1 if any is an error.\n"
      "  apply validates NEW, writes it to F and records the change in the history in D;\n"
      "  rollback rewrites F with the routes as they were before change N, and records that too.\n";

// Which options each subcommand takes; those ending in '!' are required.
const std::map<QString, QStringList> &subcommands()
{
    static const std::map<QString, QStringList> m = {
        { QStringLiteral("validate"), { QStringLiteral("--file!"), QStringLiteral("--target") } },
        { QStringLiteral("export"),
            { QStringLiteral("--format!"), QStringLiteral("--file!"), QStringLiteral("--out"),
                QStringLiteral("--no-subsets"), QStringLiteral("--version-label") } },
        { QStringLiteral("diff"), { QStringLiteral("--file!"), QStringLiteral("--against!") } },
        { QStringLiteral("apply"),
            { QStringLiteral("--file!"), QStringLiteral("--to!"), QStringLiteral("--dir!"),
                QStringLiteral("--target") } },
        { QStringLiteral("history"), { QStringLiteral("--dir!"), QStringLiteral("--id") } },
        { QStringLiteral("rollback"),
            { QStringLiteral("--dir!"), QStringLiteral("--id!"), QStringLiteral("--file!") } },
    };
    return m;
}

bool isFlag(const QString &opt)
{
    return opt == QLatin1String("--no-subsets");
}

int fail(const QString &reason)
{
    std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(reason));
    return 2;
}

void printIssues(const std::vector<RouteIssue> &issues, FILE *to)
{
    for (const RouteIssue &i : issues)
        std::fprintf(to, "%s\n", i.toString().c_str());
}

int countOf(const std::vector<RouteIssue> &issues, Severity s)
{
    int n = 0;
    for (const RouteIssue &i : issues)
        n += i.severity == s ? 1 : 0;
    return n;
}

std::optional<DataPlane> parseTarget(const QString &t)
{
    if (t.isEmpty() || t == QLatin1String("generic"))
        return DataPlane::Generic;
    if (t == QLatin1String("xds-grpc"))
        return DataPlane::XdsGrpc;
    if (t == QLatin1String("envoy"))
        return DataPlane::Envoy;
    if (t == QLatin1String("caddy"))
        return DataPlane::Caddy;
    return std::nullopt;
}

bool writeFile(const QString &path, const std::string &text, QString *error)
{
    // All or nothing: a reader never sees half a route file.
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(text.data(), qint64(text.size())) != qint64(text.size())
        || !f.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

// Loads a route file; prints its issues to stderr. nullopt when it has errors.
std::optional<RouteSet> loadOrReport(const QString &path)
{
    RouteLoadResult r = loadRouteFile(path.toStdString());
    printIssues(r.issues, stderr);
    if (!r.ok())
        return std::nullopt;
    return std::move(r.set);
}

int validate(const std::map<QString, QString> &o)
{
    const auto target = parseTarget(o.count(QStringLiteral("--target")) ? o.at(QStringLiteral("--target")) : QString());
    if (!target)
        return fail(QStringLiteral("--target must be generic, xds-grpc, envoy or caddy"));
    const QString file = o.at(QStringLiteral("--file"));
    const RouteLoadResult loaded = loadRouteFile(file.toStdString());
    std::vector<RouteIssue> issues = loaded.issues;
    const std::vector<RouteIssue> more = validateRoutes(loaded.set, *target);
    issues.insert(issues.end(), more.begin(), more.end());
    printIssues(issues, stdout);
    const int errors = countOf(issues, Severity::Error), warnings = countOf(issues, Severity::Warning);
    std::fprintf(stderr, "%s: %d error(s), %d warning(s)\n", qPrintable(file), errors, warnings);
    return errors > 0 ? 1 : 0;
}

int exportRoutesCommand(const std::map<QString, QString> &o)
{
    const QString format = o.at(QStringLiteral("--format"));
    ExportFormat fmt;
    if (format == QLatin1String("istio"))
        fmt = ExportFormat::Istio;
    else if (format == QLatin1String("gateway-api"))
        fmt = ExportFormat::GatewayApi;
    else
        return fail(QStringLiteral("--format must be istio or gateway-api"));
    ExportOptions options;
    options.versionSubsets = !o.count(QStringLiteral("--no-subsets"));
    if (o.count(QStringLiteral("--version-label")))
        options.versionLabel = o.at(QStringLiteral("--version-label")).toStdString();
    const auto set = loadOrReport(o.at(QStringLiteral("--file")));
    if (!set)
        return 1;
    // Nothing leaves unvalidated: an export is as much a way out as an apply.
    const std::vector<RouteIssue> issues = validateRoutes(*set, DataPlane::Generic);
    printIssues(issues, stderr);
    if (hasErrors(issues))
        return 1;
    const ExportResult result = exportRoutes(*set, fmt, options);
    printIssues(result.issues, stderr);
    if (!result.ok())
        return 1;
    if (o.count(QStringLiteral("--out"))) {
        QString error;
        if (!writeFile(o.at(QStringLiteral("--out")), result.yaml, &error)) {
            std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(error));
            return 1;
        }
    } else {
        std::fwrite(result.yaml.data(), 1, result.yaml.size(), stdout);
    }
    return 0;
}

int diff(const std::map<QString, QString> &o)
{
    const auto after = loadOrReport(o.at(QStringLiteral("--file")));
    const auto before = loadOrReport(o.at(QStringLiteral("--against")));
    if (!after || !before)
        return 1;
    const std::vector<std::string> summary = summarizeChanges(*before, *after);
    for (const std::string &line : summary)
        std::printf("%s\n", line.c_str());
    const std::string u = unifiedDiff(toYaml(*before), toYaml(*after), o.at(QStringLiteral("--against")).toStdString(),
        o.at(QStringLiteral("--file")).toStdString());
    if (!u.empty())
        std::printf("\n%s", u.c_str());
    return summary.empty() && u.empty() ? 0 : 1;
}

std::string fileTarget(const QString &path)
{
    return "file:" + QFileInfo(path).absoluteFilePath().toStdString();
}

// The routes a file holds now; an absent file holds none. nullopt if it does not load.
std::optional<RouteSet> currentContents(const QString &path)
{
    if (!QFileInfo::exists(path))
        return RouteSet {};
    const RouteLoadResult r = loadRouteFile(path.toStdString());
    if (!r.ok()) {
        printIssues(r.issues, stderr);
        return std::nullopt;
    }
    return r.set;
}

void printSummary(const std::vector<std::string> &summary)
{
    for (const std::string &line : summary)
        std::printf("  %s\n", line.c_str());
}

int apply(const std::map<QString, QString> &o)
{
    const auto target = parseTarget(o.count(QStringLiteral("--target")) ? o.at(QStringLiteral("--target")) : QString());
    if (!target)
        return fail(QStringLiteral("--target must be generic, xds-grpc, envoy or caddy"));
    const auto next = loadOrReport(o.at(QStringLiteral("--file")));
    if (!next)
        return 1;
    const std::vector<RouteIssue> issues = validateRoutes(*next, *target);
    printIssues(issues, stderr);
    if (hasErrors(issues)) {
        std::fprintf(
            stderr, "meshscope-cli routes: not applied: %s has errors\n", qPrintable(o.at(QStringLiteral("--file"))));
        return 1;
    }
    const QString to = o.at(QStringLiteral("--to"));
    const auto current = currentContents(to);
    if (!current) {
        std::fprintf(stderr, "meshscope-cli routes: %s does not load; fix or remove it first\n", qPrintable(to));
        return 1;
    }
    if (*current == *next) {
        std::printf("no change: %s already holds these routes\n", qPrintable(to));
        return 0;
    }
    QString error;
    if (!writeFile(to, toYaml(*next), &error)) {
        std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(error));
        return 1;
    }
    RouteHistory history(o.at(QStringLiteral("--dir")).toStdString());
    const auto e = history.record(fileTarget(to), *current, *next);
    if (!e) {
        std::fprintf(stderr, "meshscope-cli routes: applied, but not recorded: %s\n", history.error().c_str());
        return 1;
    }
    std::printf("applied to %s as change %lld\n", qPrintable(to), static_cast<long long>(e->id));
    printSummary(e->summary);
    return 0;
}

std::optional<int64_t> parseId(const QString &s)
{
    bool ok = false;
    const qlonglong id = s.toLongLong(&ok);
    if (!ok || id <= 0)
        return std::nullopt;
    return int64_t(id);
}

std::string timeText(int64_t ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate).toStdString();
}

int history(const std::map<QString, QString> &o)
{
    RouteHistory h(o.at(QStringLiteral("--dir")).toStdString());
    if (o.count(QStringLiteral("--id"))) {
        const auto id = parseId(o.at(QStringLiteral("--id")));
        if (!id)
            return fail(QStringLiteral("--id needs a positive change number"));
        const auto e = h.entry(*id);
        if (!e) {
            std::fprintf(stderr, "meshscope-cli routes: %s\n", h.error().c_str());
            return 1;
        }
        std::printf(
            "change %lld  %s  %s\n", static_cast<long long>(e->id), timeText(e->timeMs).c_str(), e->target.c_str());
        if (e->rollbackOf)
            std::printf("rollback of change %lld\n", static_cast<long long>(*e->rollbackOf));
        printSummary(e->summary);
        std::printf("\n%s", e->diff.c_str());
        return 0;
    }
    const std::vector<HistoryEntry> entries = h.list();
    if (h.skippedLines() > 0)
        std::fprintf(
            stderr, "meshscope-cli routes: %d damaged line(s) in %s skipped\n", h.skippedLines(), h.filePath().c_str());
    if (entries.empty())
        std::fprintf(stderr, "no changes recorded in %s\n", qPrintable(o.at(QStringLiteral("--dir"))));
    for (const HistoryEntry &e : entries) {
        std::printf("%lld  %s  %s%s\n", static_cast<long long>(e.id), timeText(e.timeMs).c_str(), e.target.c_str(),
            e.rollbackOf ? (" (rollback of " + std::to_string(*e.rollbackOf) + ")").c_str() : "");
        printSummary(e.summary);
    }
    return 0;
}

int rollback(const std::map<QString, QString> &o)
{
    const auto id = parseId(o.at(QStringLiteral("--id")));
    if (!id)
        return fail(QStringLiteral("--id needs a positive change number"));
    RouteHistory h(o.at(QStringLiteral("--dir")).toStdString());
    const auto restored = h.rollback(*id);
    if (!restored) {
        std::fprintf(stderr, "meshscope-cli routes: %s\n", h.error().c_str());
        return 1;
    }
    const QString file = o.at(QStringLiteral("--file"));
    const auto current = currentContents(file);
    if (!current) {
        std::fprintf(
            stderr, "meshscope-cli routes: %s does not load; fix or remove it before rolling back\n", qPrintable(file));
        return 1;
    }
    printIssues(validateRoutes(*restored, DataPlane::Generic), stderr);
    QString error;
    if (!writeFile(file, toYaml(*restored), &error)) {
        std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(error));
        return 1;
    }
    const auto e = h.record(fileTarget(file), *current, *restored, *id);
    if (!e) {
        std::fprintf(stderr, "meshscope-cli routes: rolled back, but not recorded: %s\n", h.error().c_str());
        return 1;
    }
    std::printf("rolled back change %lld: wrote %s; recorded as change %lld\n", static_cast<long long>(*id),
        qPrintable(file), static_cast<long long>(e->id));
    printSummary(e->summary);
    return 0;
}

}  // namespace

int runRoutesCommand(QCoreApplication &app, const QStringList &args)
{
    Q_UNUSED(app);
    if (args.isEmpty() || args.first() == QLatin1String("--help") || args.first() == QLatin1String("-h")) {
        std::fputs(kUsage, args.isEmpty() ? stderr : stdout);
        return args.isEmpty() ? 2 : 0;
    }
    const QString sub = args.first();
    const auto it = subcommands().find(sub);
    if (it == subcommands().end()) {
        std::fprintf(stderr, "meshscope-cli routes: unknown subcommand '%s'\n%s", qPrintable(sub), kUsage);
        return 2;
    }
    std::map<QString, QString> options;
    for (int i = 1; i < args.size(); ++i) {
        const QString &a = args[i];
        const bool known = it->second.contains(a) || it->second.contains(a + QLatin1Char('!'));
        if (!known)
            return fail(QStringLiteral("'%1' is not an option of 'routes %2'").arg(a, sub));
        if (isFlag(a)) {
            options[a] = QString();
            continue;
        }
        if (i + 1 >= args.size() || args[i + 1].startsWith(QLatin1String("--")))
            return fail(QStringLiteral("%1 needs a value").arg(a));
        options[a] = args[++i];
    }
    for (const QString &opt : it->second) {
        if (opt.endsWith(QLatin1Char('!')) && !options.count(opt.chopped(1)))
            return fail(QStringLiteral("routes %1 needs %2").arg(sub, opt.chopped(1)));
    }
    if (sub == QLatin1String("validate"))
        return validate(options);
    if (sub == QLatin1String("export"))
        return exportRoutesCommand(options);
    if (sub == QLatin1String("diff"))
        return diff(options);
    if (sub == QLatin1String("apply"))
        return apply(options);
    if (sub == QLatin1String("history"))
        return history(options);
    return rollback(options);
}

}  // namespace meshscope::cli

#include "routescommand.h"

#include "commandline.h"
#include "livesession.h"
#include "net/redact.h"
#include "routing/caddy/caddyadmin.h"
#include "routing/caddy/caddytranslator.h"
#include "routing/routecheck.h"
#include "routing/routediff.h"
#include "routing/routeexport.h"
#include "routing/routehistory.h"
#include "routing/routematcher.h"
#include "routing/routevalidator.h"
#include "routing/whatif.h"
#include "routing/yaml/routeyaml.h"
#include "sourceoptions.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QUrl>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>

namespace meshscope::cli {

namespace {

using namespace meshscope::routing;

// The subcommands and their forms: which options each takes, '!' marking the required
// ones. kCaddyTls stands for the four --caddy-* TLS flags, kLiveSources for the flags
// of the live sources whatif listens to (kSources). A subcommand may have several
// forms (apply to a file or to Caddy); it takes the options of all of them and
// requires those every form requires; the code below checks the rest.
const QString kCaddyTls = QStringLiteral("caddy-tls");
const QString kLiveSources = QStringLiteral("live-sources");
// Only the pushed sources carry requests; pulled metrics do not.
constexpr SourceFlags kSources = SourceFlag::Receivers | SourceFlag::ReceiverTls | SourceFlag::MessageLimit;

struct RoutesForm {
    QString subcommand;
    QStringList options;
};

const QList<RoutesForm> &routesForms()
{
    static const QList<RoutesForm> forms = {
        {QStringLiteral("validate"), {QStringLiteral("file!"), QStringLiteral("target")}},
        {QStringLiteral("export"),
            {QStringLiteral("format!"), QStringLiteral("file!"), QStringLiteral("out"), QStringLiteral("no-subsets"),
                QStringLiteral("version-label")}},
        {QStringLiteral("diff"), {QStringLiteral("file!"), QStringLiteral("against!")}},
        {QStringLiteral("apply"),
            {QStringLiteral("file!"), QStringLiteral("to!"), QStringLiteral("dir!"), QStringLiteral("target"),
                QStringLiteral("dry-run")}},
        {QStringLiteral("pull"),
            {QStringLiteral("caddy-admin!"), QStringLiteral("server!"), QStringLiteral("output"), kCaddyTls}},
        {QStringLiteral("apply"),
            {QStringLiteral("caddy-admin!"), QStringLiteral("server!"), QStringLiteral("file!"), QStringLiteral("dir"),
                QStringLiteral("dry-run"), QStringLiteral("force"), kCaddyTls}},
        {QStringLiteral("history"), {QStringLiteral("dir!"), QStringLiteral("id")}},
        {QStringLiteral("rollback"), {QStringLiteral("dir!"), QStringLiteral("id!"), QStringLiteral("file")}},
        {QStringLiteral("rollback"),
            {QStringLiteral("dir!"), QStringLiteral("id!"), QStringLiteral("caddy-admin!"), QStringLiteral("server!"),
                kCaddyTls}},
        {QStringLiteral("whatif"),
            {QStringLiteral("routes!"), QStringLiteral("from!"), QStringLiteral("current"), QStringLiteral("target"),
                QStringLiteral("format"), QStringLiteral("save-cases")}},
        {QStringLiteral("whatif"),
            {QStringLiteral("routes!"), QStringLiteral("duration!"), kLiveSources, QStringLiteral("current!"),
                QStringLiteral("target"), QStringLiteral("format"), QStringLiteral("save-cases")}},
        {QStringLiteral("check"), {QStringLiteral("routes!"), QStringLiteral("cases!"), QStringLiteral("target")}},
    };
    return forms;
}

QList<CommandLineOption> caddyTlsFlags()
{
    return tlsClientFlags(QStringLiteral("caddy"), QStringLiteral("the Caddy admin endpoint"));
}

// Every option of `routes` but the TLS ones, each once, in help's groups.
const QList<std::pair<QString, QList<CommandLineOption>>> &routesOptionGroups()
{
    static const QList<std::pair<QString, QList<CommandLineOption>>> groups = {
        {QStringLiteral("Route files"),
            {
                {{QStringLiteral("file")}, QStringLiteral("F"),
                    QStringLiteral("the route file (HTTPRoute/EndpointSlice YAML) to check, export, compare or apply; "
                                   "for rollback, the file to restore"),
                    {}},
                {{QStringLiteral("target")}, QStringLiteral("generic|xds-grpc|envoy|caddy"),
                    QStringLiteral("the data plane the routes must work on, and whose matching whatif and check "
                                   "follow (default generic, matched as Envoy does)"),
                    {}},
                {{QStringLiteral("format")}, QStringLiteral("FORMAT"),
                    QStringLiteral("export: istio or gateway-api; whatif: text (default) or json"), {}},
                {{QStringLiteral("out")}, QStringLiteral("FILE"),
                    QStringLiteral("write the export here, not to stdout"), {}},
                {{QStringLiteral("no-subsets")}, {},
                    QStringLiteral("export every backend as its own host, without version subsets"), {}},
                {{QStringLiteral("version-label")}, QStringLiteral("LABEL"),
                    QStringLiteral("the pod label that carries the version (default version)"), {}},
                {{QStringLiteral("against")}, QStringLiteral("OLD"), QStringLiteral("the route file to compare with"),
                    {}},
                {{QStringLiteral("to")}, QStringLiteral("F"), QStringLiteral("the route file apply replaces"), {}},
                {{QStringLiteral("dry-run")}, {}, QStringLiteral("print what would change and stop"), {}},
            }},
        {QStringLiteral("What-if and checks"),
            {
                {{QStringLiteral("routes")}, QStringLiteral("F"),
                    QStringLiteral("whatif: the proposed route file; check: the route file the cases run against"), {}},
                {{QStringLiteral("current")}, QStringLiteral("F"),
                    QStringLiteral("the routes in effect, compared with --routes (with --from, default: the routes "
                                   "last applied in the recording)"),
                    {}},
                fromOption(),
                durationOption(),
                {{QStringLiteral("save-cases")}, QStringLiteral("F"),
                    QStringLiteral("also write each distinct request as a route check expecting what --routes does"),
                    {}},
                {{QStringLiteral("cases")}, QStringLiteral("F"),
                    QStringLiteral("the route checks to run (YAML: tests: [{name, request, expect}])"), {}},
            }},
        {QStringLiteral("History"),
            {
                {{QStringLiteral("dir")}, QStringLiteral("D"),
                    QStringLiteral("history directory (apply --caddy-admin: default ~/.local/share/meshscope/history)"),
                    {}},
                {{QStringLiteral("id")}, QStringLiteral("N"), QStringLiteral("a change number from the history"), {}},
            }},
        {QStringLiteral("Caddy"),
            {
                {{QStringLiteral("caddy-admin")}, QStringLiteral("URL"),
                    QStringLiteral("Caddy's admin endpoint, as its \"admin\": {\"listen\"} says "
                                   "(e.g. http://127.0.0.1:2019)"),
                    {}},
                {{QStringLiteral("server")}, QStringLiteral("NAME"),
                    QStringLiteral("the Caddy HTTP server whose routes to pull or replace (apps.http.servers.NAME)"),
                    {}},
                {{QStringLiteral("output")}, QStringLiteral("F"),
                    QStringLiteral("write the pulled routes here, not to stdout"), {}},
                {{QStringLiteral("force")}, {},
                    QStringLiteral("apply a file that carries no ETag (not pulled, or its ETag line deleted): "
                                   "Caddy's routes are replaced whatever they are now"),
                    {}},
            }},
    };
    return groups;
}

const CommandLineOption *routesOption(const QString &name)
{
    for (const auto &group : routesOptionGroups()) {
        for (const CommandLineOption &o : group.second) {
            if (o.names.last() == name)
                return &o;
        }
    }
    return nullptr;
}

// "meshscope-cli routes apply --file F --to F --dir D [--target T] [--dry-run]", wrapped.
QString synopsis(const RoutesForm &form)
{
    const QString head = QStringLiteral("meshscope-cli routes ") + form.subcommand;
    QStringList words;
    for (QString name : form.options) {
        const bool required = name.endsWith(QLatin1Char('!'));
        if (required)
            name.chop(1);
        QString word;
        if (name == kCaddyTls) {
            word = QStringLiteral("[Caddy TLS]");
        } else if (name == kLiveSources) {
            word = QStringLiteral("[live sources]");
        } else {
            const CommandLineOption *o = routesOption(name);
            Q_ASSERT(o);
            word = QStringLiteral("--") + name;
            if (!o->valueName.isEmpty())
                word += QLatin1Char(' ') + o->valueName;
            if (!required)
                word = QLatin1Char('[') + word + QLatin1Char(']');
        }
        words << word;
    }
    // Continuation lines start under the first option.
    constexpr qsizetype kWidth = 100;
    const qsizetype margin = qsizetype(sizeof("usage: ") - 1) + head.size();
    QString out = head;
    qsizetype column = margin;
    for (const QString &w : std::as_const(words)) {
        if (column + 1 + w.size() > kWidth) {
            out += QLatin1Char('\n') + QString(margin, QLatin1Char(' '));
            column = margin;
        }
        out += QLatin1Char(' ') + w;
        column += 1 + w.size();
    }
    return out;
}

// The table `routes` parses with and prints as help: every form's synopsis, then
// every option under its group.
std::unique_ptr<CommandLine> routesCommandLine()
{
    QStringList usage;
    for (const RoutesForm &form : routesForms())
        usage << (usage.isEmpty() ? QStringLiteral("usage: ") : QStringLiteral("       ")) + synopsis(form);
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"), usage.join(QLatin1Char('\n')),
        QStringLiteral(
            "validate prints every issue and exits 1 if any is an error.\n"
            "apply validates the file, prints what changes, writes it to --to and records the change in the history\n"
            "in --dir; --dry-run stops after printing.\n"
            "pull prints the routes of Caddy's HTTP server NAME as HTTPRoute/EndpointSlice YAML, headed by the ETag\n"
            "it was read at. apply --caddy-admin validates the file for Caddy, prints the diff against the server's\n"
            "current routes and replaces them in one request with If-Match: that ETag, so routes changed since the\n"
            "pull are refused, not overwritten. A file without that ETag is refused unless --force is given.\n"
            "rollback re-applies the routes as they were before change N, to the target N was applied to (or the\n"
            "one given), and records that too.\n"
            "whatif replays the requests of a recording (--from) or of the live sources (--duration) through the\n"
            "routes in effect (--current) and the proposed ones (--routes), and prints per rule and backend how\n"
            "many requests went where and would go, and the requests that would change route. check runs route\n"
            "checks (--cases) against --routes: exit 0 when all pass, 1 on a mismatch, 2 on bad input."));
    for (const auto &[heading, options] : routesOptionGroups())
        commandLine->addGroup(heading, options);
    SourceOptions::declare(*commandLine, kSources);
    commandLine->addGroup(QStringLiteral("Caddy TLS (https admin endpoints)"), caddyTlsFlags());
    return commandLine;
}

// The names of a flag family that routesForms() names by one word (kCaddyTls, kLiveSources).
QStringList familyFlagNames(const QString &family)
{
    QStringList names;
    if (family == kCaddyTls) {
        for (const CommandLineOption &o : caddyTlsFlags())
            names << o.names.last();
        return names;
    }
    // The source flags are whatever SourceOptions declares beyond the general options.
    const CommandLine bare(QStringLiteral("meshscope-cli"), {});
    CommandLine withSources(QStringLiteral("meshscope-cli"), {});
    SourceOptions::declare(withSources, kSources);
    names = withSources.optionNames();
    const QStringList general = bare.optionNames();
    names.removeIf([&general](const QString &n) { return general.contains(n); });
    return names;
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

std::string fileTarget(const QString &path) { return "file:" + QFileInfo(path).absoluteFilePath().toStdString(); }

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

void printDiff(const RouteDiff &d)
{
    for (const std::string &line : d.summary)
        std::printf("%s\n", line.c_str());
    if (!d.unified.empty())
        std::printf("\n%s", d.unified.c_str());
}

// ---- Caddy targets ----

const char kEtagMarker[] = "# meshscope.io/caddy-etag: ";

std::string caddyTarget(const CaddyAdminConfig &config, const QString &server)
{
    return caddyTargetKey(config.url.toString().toStdString(), server.toStdString());
}

struct CaddyTarget {
    CaddyAdminConfig config;
    QString server;
};

// --caddy-admin, --server and the TLS flags; nullopt (reason printed) when incomplete.
std::optional<CaddyTarget> caddyOptions(const std::map<QString, QString> &o, const TlsClientOptions &tls)
{
    if (!o.count(QStringLiteral("--server"))) {
        fail(QStringLiteral("--caddy-admin needs --server NAME (the HTTP server under apps.http.servers)"));
        return std::nullopt;
    }
    CaddyTarget t;
    const QString url = o.at(QStringLiteral("--caddy-admin"));
    t.config.url = QUrl(url.contains(QLatin1String("://")) ? url : QStringLiteral("http://") + url);
    if (!t.config.url.isValid() || t.config.url.host().isEmpty()
        || (t.config.url.scheme() != QLatin1String("http") && t.config.url.scheme() != QLatin1String("https"))) {
        fail(QStringLiteral("--caddy-admin '%1' is not an admin URL (e.g. http://127.0.0.1:2019)").arg(url));
        return std::nullopt;
    }
    t.config.tls = tls;
    t.server = o.at(QStringLiteral("--server"));
    return t;
}

std::optional<CaddyTarget> parseCaddyTarget(const std::string &target)
{
    const std::optional<CaddyTargetKey> key = parseCaddyTargetKey(target);
    if (!key)
        return std::nullopt;
    CaddyTarget t;
    t.config.url = QUrl(QString::fromStdString(key->adminUrl));
    t.server = QString::fromStdString(key->server);
    return t;
}

QString defaultHistoryDir() { return QString::fromStdString(defaultRouteHistoryDirectory()); }

void printNotes(const std::vector<std::string> &notes)
{
    for (const std::string &n : notes)
        std::fprintf(stderr, "note: %s\n", n.c_str());
}

// Prints why a Caddy request failed, every reason on its own line after the first.
int caddyFailure(const CaddyResult &r)
{
    std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(r.message));
    if (r.errors.size() > 1) {
        for (const std::string &e : r.errors)
            std::fprintf(stderr, "  %s\n", e.c_str());
    }
    return 1;
}

// The ETag a pulled file was read at ("" when it carries none).
QString etagInFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        if (line.startsWith(kEtagMarker))
            return QString::fromUtf8(line.mid(int(sizeof(kEtagMarker)) - 1)).trimmed();
    }
    return {};
}

int pull(const std::map<QString, QString> &o, const TlsClientOptions &tls)
{
    const auto t = caddyOptions(o, tls);
    if (!t)
        return 2;
    const CaddyResult r = CaddyAdmin::pullRoutesSync(t->config, t->server);
    printNotes(r.notes);
    if (!r.ok())
        return caddyFailure(r);
    // Secrets in the admin URL (userinfo, ?token=...) stay out of the file.
    const QString url = redactUrl(t->config.url.adjusted(QUrl::StripTrailingSlash));
    std::string text = "# Routes of Caddy server '" + t->server.toStdString() + "' at " + url.toStdString()
        + ", pulled by meshscope-cli.\n# Apply an edited copy with: meshscope-cli routes apply --caddy-admin "
        + url.toStdString() + " --server " + t->server.toStdString()
        + " --file F\n# The ETag below makes that apply refuse if the routes change meanwhile.\n" + kEtagMarker
        + r.version.etag.toStdString() + "\n" + toYaml(r.routes);
    if (o.count(QStringLiteral("--output"))) {
        QString error;
        if (!writeFile(o.at(QStringLiteral("--output")), text, &error)) {
            std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(error));
            return 1;
        }
        std::fprintf(stderr, "wrote %zu route(s) and %zu endpoint slice(s) of Caddy server '%s' to %s\n",
            r.routes.routes.size(), r.routes.endpointSlices.size(), qPrintable(t->server),
            qPrintable(o.at(QStringLiteral("--output"))));
    } else {
        std::fwrite(text.data(), 1, text.size(), stdout);
    }
    return 0;
}

// Replaces a Caddy server's routes with `next`: pull (for the diff and the ETag),
// print the diff, apply with If-Match, record. `ifMatch` empty: the ETag just pulled.
int applyToCaddy(const CaddyTarget &t, const RouteSet &next, const QString &ifMatch, bool dryRun,
    const QString &historyDir, std::optional<int64_t> rollbackOf)
{
    const CaddyResult current = CaddyAdmin::pullRoutesSync(t.config, t.server);
    if (!current.ok()) {
        printNotes(current.notes);
        return caddyFailure(current);
    }
    const std::vector<RouteIssue> issues = validateRoutes(next, DataPlane::Caddy);
    printIssues(issues, stderr);
    if (hasErrors(issues)) {
        std::fprintf(stderr,
            "meshscope-cli routes: not applied: the routes have errors for Caddy 2.6.2; Caddy server "
            "'%s' is unchanged\n",
            qPrintable(t.server));
        return 1;
    }
    const RouteDiff d = diffRouteSets(current.routes, next);
    // Caddy keeps no route or backend names, so a file can differ from the pull in
    // names alone; what counts is the routes array Caddy would get.
    const CaddyPushResult pushed = modelToCaddyRoutes(next);
    if (d.empty() || (pushed.ok() && current.version.exists && pushed.routes == current.rawRoutes)) {
        std::printf("no change: Caddy server '%s' already has these routes\n", qPrintable(t.server));
        return 0;
    }
    printDiff(d);
    const bool stale = !ifMatch.isEmpty() && ifMatch != current.version.etag;
    if (dryRun) {
        if (stale)
            std::fprintf(stderr,
                "warning: Caddy's routes for server %s changed since the file was pulled (ETag "
                "mismatch); apply would be refused; pull again and reapply\n",
                qPrintable(t.server));
        std::printf("dry run: Caddy server '%s' not changed\n", qPrintable(t.server));
        return 0;
    }
    CaddyRoutesVersion version = current.version;
    if (!ifMatch.isEmpty())
        version.etag = ifMatch;
    const CaddyResult applied = CaddyAdmin::applyRoutesSync(t.config, t.server, next, version);
    printNotes(applied.notes);
    if (!applied.ok())
        return caddyFailure(applied);
    RouteHistory history(historyDir.toStdString());
    const auto e = history.record(caddyTarget(t.config, t.server), current.routes, next, rollbackOf);
    if (!e) {
        std::fprintf(stderr, "meshscope-cli routes: applied, but not recorded: %s\n", history.error().c_str());
        return 1;
    }
    if (rollbackOf)
        std::printf("rolled back change %lld on Caddy server '%s'; recorded as change %lld\n",
            static_cast<long long>(*rollbackOf), qPrintable(t.server), static_cast<long long>(e->id));
    else
        std::printf(
            "applied to Caddy server '%s' as change %lld\n", qPrintable(t.server), static_cast<long long>(e->id));
    return 0;
}

int applyCaddy(const std::map<QString, QString> &o, const TlsClientOptions &tls)
{
    if (o.count(QStringLiteral("--to")))
        return fail(QStringLiteral("give either --to F or --caddy-admin URL, not both"));
    if (o.count(QStringLiteral("--target")) && o.at(QStringLiteral("--target")) != QLatin1String("caddy"))
        return fail(QStringLiteral("--caddy-admin applies to Caddy; --target can only be caddy"));
    const auto t = caddyOptions(o, tls);
    if (!t)
        return 2;
    const QString file = o.at(QStringLiteral("--file"));
    const auto next = loadOrReport(file);
    if (!next)
        return 1;
    const QString etag = etagInFile(file);
    const QString expected = CaddyAdmin::routesPath(t->server);
    if (!etag.isEmpty() && !etag.startsWith(QLatin1Char('"') + expected + QLatin1Char(' ')))
        return fail(
            QStringLiteral("%1 was pulled from %2, not from server '%3' (%4)").arg(file, etag, t->server, expected));
    const bool dryRun = o.count(QStringLiteral("--dry-run")) > 0;
    if (etag.isEmpty() && !o.count(QStringLiteral("--force"))) {
        // Applying against the ETag of a pull made now would overwrite whatever changed
        // since the file was written, unseen.
        const QString why = QStringLiteral(
            "%1 carries no '%2' line (it was not pulled, or the line was deleted), so whether Caddy server '%3' "
            "changed since cannot be checked; pull again (routes pull --output F) and edit that, or give --force "
            "to replace the routes whatever they are now")
                                .arg(file, QString::fromLatin1(kEtagMarker).trimmed(), t->server);
        if (!dryRun) {
            std::fprintf(stderr, "meshscope-cli routes: not applied: %s\n", qPrintable(why));
            return 1;
        }
        std::fprintf(stderr, "warning: %s\n", qPrintable(why));
    }
    const QString dir = o.count(QStringLiteral("--dir")) ? o.at(QStringLiteral("--dir")) : defaultHistoryDir();
    return applyToCaddy(*t, *next, etag, dryRun, dir, std::nullopt);
}

int applyFile(const std::map<QString, QString> &o)
{
    if (!o.count(QStringLiteral("--to")))
        return fail(QStringLiteral("routes apply needs --to F (a route file) or --caddy-admin URL --server NAME"));
    if (!o.count(QStringLiteral("--dir")))
        return fail(QStringLiteral("routes apply --to needs --dir D for the history"));
    if (o.count(QStringLiteral("--server")))
        return fail(QStringLiteral("--server names a Caddy server; it needs --caddy-admin URL"));
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
    if (o.count(QStringLiteral("--dry-run"))) {
        printDiff(diffRouteSets(*current, *next));
        std::printf("dry run: %s not changed\n", qPrintable(to));
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

int applyRoutes(const std::map<QString, QString> &o, const TlsClientOptions &tls)
{
    return o.count(QStringLiteral("--caddy-admin")) ? applyCaddy(o, tls) : applyFile(o);
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

int rollback(const std::map<QString, QString> &o, const TlsClientOptions &tls)
{
    const auto id = parseId(o.at(QStringLiteral("--id")));
    if (!id)
        return fail(QStringLiteral("--id needs a positive change number"));
    if (o.count(QStringLiteral("--file")) && o.count(QStringLiteral("--caddy-admin")))
        return fail(QStringLiteral("give either --file F or --caddy-admin URL, not both"));
    RouteHistory h(o.at(QStringLiteral("--dir")).toStdString());
    const auto restored = h.rollback(*id);
    if (!restored) {
        std::fprintf(stderr, "meshscope-cli routes: %s\n", h.error().c_str());
        return 1;
    }
    // Where to: the target given, else the one change N was applied to.
    std::optional<CaddyTarget> caddy;
    QString file;
    if (o.count(QStringLiteral("--caddy-admin"))) {
        caddy = caddyOptions(o, tls);
        if (!caddy)
            return 2;
    } else if (o.count(QStringLiteral("--file"))) {
        file = o.at(QStringLiteral("--file"));
    } else {
        const auto entry = h.entry(*id);
        const std::string target = entry ? entry->target : std::string();
        if (target.rfind("file:", 0) == 0) {
            file = QString::fromStdString(target.substr(5));
        } else if (const auto t = parseCaddyTarget(target)) {
            caddy = t;
        } else {
            return fail(QStringLiteral("change %1 was applied to '%2', which rollback cannot reach; give --file F "
                                       "or --caddy-admin URL --server NAME")
                            .arg(*id)
                            .arg(QString::fromStdString(target)));
        }
    }
    if (caddy)
        return applyToCaddy(*caddy, *restored, QString(), false, o.at(QStringLiteral("--dir")), *id);
    const auto current = currentContents(file);
    if (!current) {
        std::fprintf(
            stderr, "meshscope-cli routes: %s does not load; fix or remove it before rolling back\n", qPrintable(file));
        return 1;
    }
    printIssues(validateRoutes(*restored, DataPlane::Generic), stderr);
    // The file keeps its comments and layout; only the nodes the rollback changes change.
    std::string text;
    if (QFile in(file); in.open(QIODevice::ReadOnly)) {
        const RouteFileEdit edit = editRouteFile(in.readAll().toStdString(), *restored, file.toStdString());
        for (const std::string &note : edit.rewritten)
            std::fprintf(stderr, "meshscope-cli routes: %s: %s\n", qPrintable(file), note.c_str());
        text = edit.text;
    } else {
        text = toYaml(*restored);
    }
    QString error;
    if (!writeFile(file, text, &error)) {
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

// ---- whatif and check ----

QString optionOr(const std::map<QString, QString> &o, const char *name, const QString &fallback = {})
{
    const auto it = o.find(QLatin1String(name));
    return it == o.end() ? fallback : it->second;
}

// A route file that loads and validates for `target`; issues go to stderr.
std::optional<RouteSet> loadValidated(const QString &path, DataPlane target)
{
    auto set = loadOrReport(path);
    if (!set)
        return std::nullopt;
    const std::vector<RouteIssue> issues = validateRoutes(*set, target);
    printIssues(issues, stderr);
    if (hasErrors(issues)) {
        fail(QStringLiteral("%1 has errors for %2").arg(path, QLatin1String(dataPlaneName(target))));
        return std::nullopt;
    }
    return set;
}

// Regexes the matcher could not compile never match; say so (the validator names the line).
void noteMatcherErrors(const RouteMatcher &m, const QString &file)
{
    for (const std::string &e : m.errors())
        std::fprintf(stderr, "meshscope-cli routes: %s: %s\n", qPrintable(file), e.c_str());
}

struct AppliedRoutes {
    uint64_t version = 0;
    std::string target;
    std::string yaml;
    int64_t ms = 0;
};

// The routes last applied inside the recording: what its requests were routed by.
std::optional<RouteSet> appliedInRecording(const std::optional<AppliedRoutes> &applied, const QString &recording)
{
    if (!applied) {
        fail(QStringLiteral("%1 holds no route apply, so the routes in effect are unknown; give --current F")
                 .arg(recording));
        return std::nullopt;
    }
    const std::string label = recording.toStdString() + " (routes version " + std::to_string(applied->version)
        + " applied to " + applied->target + ")";
    RouteLoadResult r = loadRouteYaml(applied->yaml, label);
    printIssues(r.issues, stderr);
    if (!r.ok()) {
        fail(QStringLiteral("the routes last applied in %1 do not load; give --current F").arg(recording));
        return std::nullopt;
    }
    std::fprintf(stderr, "meshscope-cli routes whatif: current routes: version %llu applied to %s at %s\n",
        static_cast<unsigned long long>(applied->version), applied->target.c_str(), timeText(applied->ms).c_str());
    return std::move(r.set);
}

void printRequestCounts(const RequestCollector::Counts &c)
{
    std::fprintf(stderr,
        "meshscope-cli routes whatif: %llu requests (%llu from %llu spans, %llu from access logs); not counted "
        "again: %llu server halves of client spans, %llu access-log entries\n",
        static_cast<unsigned long long>(c.spanRequests + c.accessLogRequests),
        static_cast<unsigned long long>(c.spanRequests), static_cast<unsigned long long>(c.spans),
        static_cast<unsigned long long>(c.accessLogRequests), static_cast<unsigned long long>(c.serverHalves),
        static_cast<unsigned long long>(c.accessLogDuplicates));
}

// Each distinct request once, expecting what `proposed` does with it.
bool saveCases(const QString &path, const std::vector<DistinctRequest> &requests, const RouteMatcher &proposed,
    const std::map<QString, QString> &o)
{
    std::vector<RouteCheckCase> cases;
    for (const DistinctRequest &r : requests)
        cases.push_back(routeCheckFor(r.request, proposed.match(r.request)));
    const std::string routes = optionOr(o, "--routes").toStdString(), plane = dataPlaneName(proposed.dataPlane());
    const std::string comment = "Route checks from meshscope-cli routes whatif: each distinct request seen once,\n"
                                "expecting what "
        + routes + " does on " + plane + ".\nRun: meshscope-cli routes check --routes " + routes + " --cases "
        + path.toStdString() + " --target " + plane;
    QString error;
    if (!writeFile(path, routeChecksYaml(cases, comment), &error)) {
        std::fprintf(stderr, "meshscope-cli routes: %s\n", qPrintable(error));
        return false;
    }
    std::fprintf(stderr, "meshscope-cli routes whatif: wrote %zu route checks to %s\n", cases.size(), qPrintable(path));
    return true;
}

// Bad input (options, files, an unreadable recording) is exit status 2, as for check.
int whatIf(QCoreApplication &app, const CommandLine &cl, const std::map<QString, QString> &o)
{
    const char *command = "routes whatif";
    const auto target = parseTarget(optionOr(o, "--target"));
    if (!target)
        return fail(QStringLiteral("--target must be generic, xds-grpc, envoy or caddy"));
    const QString format = optionOr(o, "--format", QStringLiteral("text"));
    if (format != QLatin1String("text") && format != QLatin1String("json"))
        return fail(QStringLiteral("routes whatif --format must be text or json"));
    TelemetryInput input;
    if (const QString e = readTelemetryInput(cl, kSources, input, command); !e.isEmpty())
        return fail(e);
    if (input.from.isEmpty() && !o.count(QStringLiteral("--current")))
        return fail(QStringLiteral("routes whatif on live sources needs --current F: the routes in effect"));
    const auto proposed = loadValidated(o.at(QStringLiteral("--routes")), *target);
    std::optional<RouteSet> current;
    if (o.count(QStringLiteral("--current")))
        current = loadOrReport(o.at(QStringLiteral("--current")));
    if (!proposed || (o.count(QStringLiteral("--current")) && !current))
        return 2;

    RequestCollector collector;
    std::optional<AppliedRoutes> applied;
    RecordingReader::Callbacks callbacks;
    callbacks.routeApply = [&applied](uint64_t version, const std::string &to, const std::string &yaml, int64_t ms) {
        applied = AppliedRoutes {version, to, yaml, ms};
    };
    if (QString error; !feedFromInput(app, input, collector, command, &error, callbacks))
        return fail(error);
    if (!current && !(current = appliedInRecording(applied, input.from)))
        return 2;

    RequestCollector::Counts counts;
    const std::vector<RouteRequest> requests = collector.requests(&counts);
    printRequestCounts(counts);
    const RouteMatcher before(*current, *target), after(*proposed, *target);
    noteMatcherErrors(before, optionOr(o, "--current", input.from));
    std::set<std::string> headerNames = before.headerNames();
    headerNames.insert(after.headerNames().begin(), after.headerNames().end());
    const std::vector<DistinctRequest> distinct = distinctRequests(requests, headerNames);
    const WhatIfReport report = runWhatIf(distinct, before, after);
    if (format == QLatin1String("json"))
        std::printf("%s\n", QJsonDocument(whatIfJson(report)).toJson(QJsonDocument::Compact).constData());
    else
        std::fputs(whatIfText(report).c_str(), stdout);
    std::fflush(stdout);
    if (o.count(QStringLiteral("--save-cases")) && !saveCases(o.at(QStringLiteral("--save-cases")), distinct, after, o))
        return 2;
    return 0;
}

int check(const std::map<QString, QString> &o)
{
    const auto target = parseTarget(optionOr(o, "--target"));
    if (!target)
        return fail(QStringLiteral("--target must be generic, xds-grpc, envoy or caddy"));
    const auto routes = loadValidated(o.at(QStringLiteral("--routes")), *target);
    if (!routes)
        return 2;
    const RouteCheckFile file = loadRouteChecks(o.at(QStringLiteral("--cases")).toStdString());
    if (!file.ok())
        return fail(QString::fromStdString(file.error));
    if (file.cases.empty())
        return fail(QStringLiteral("%1 holds no cases under 'tests'").arg(o.at(QStringLiteral("--cases"))));
    const RouteMatcher matcher(*routes, *target);
    noteMatcherErrors(matcher, o.at(QStringLiteral("--routes")));
    size_t failed = 0;
    for (const RouteCheckCase &c : file.cases) {
        const RouteCheckOutcome r = runRouteCheck(c, matcher);
        failed += r.passed ? 0 : 1;
        if (r.passed)
            std::printf("ok    %s\n", c.name.c_str());
        else
            std::printf(
                "FAIL  %s (line %d): expected %s; got %s\n", c.name.c_str(), c.line, r.expected.c_str(), r.got.c_str());
    }
    std::printf("%zu cases: %zu passed, %zu failed (%s)\n", file.cases.size(), file.cases.size() - failed, failed,
        dataPlaneName(*target));
    return failed ? 1 : 0;
}

}  // namespace

QString routesCommandHelp(CommandLine::Sections sections) { return routesCommandLine()->helpText(sections); }

int runRoutesCommand(QCoreApplication &app, const QStringList &args)
{
    // `routes [--log ...] SUBCOMMAND [options]`: the general options may come first.
    CommandLine command(
        QStringLiteral("meshscope-cli"), QStringLiteral("usage: meshscope-cli routes SUBCOMMAND [options]"));
    command.setSubcommandMode();
    if (!command.parse(args))
        return fail(command.error());
    if (command.helpRequested()) {
        std::fputs(qPrintable(routesCommandHelp()), stdout);
        return 0;
    }
    if (command.versionRequested()) {
        std::printf("%s\n", qPrintable(command.versionText()));
        return 0;
    }
    const QString sub = command.subcommand();
    if (sub.isEmpty()) {
        std::fputs(qPrintable(routesCommandHelp()), stderr);
        return 2;
    }
    QStringList allowed;
    std::optional<QStringList> required;  // what every form of `sub` requires
    for (const RoutesForm &form : routesForms()) {
        if (form.subcommand != sub)
            continue;
        QStringList requiredHere;
        for (QString name : form.options) {
            if (name.endsWith(QLatin1Char('!'))) {
                name.chop(1);
                requiredHere << name;
            }
            if (!allowed.contains(name))
                allowed << name;
        }
        if (!required)
            required = requiredHere;
        else
            required->removeIf([&requiredHere](const QString &name) { return !requiredHere.contains(name); });
    }
    if (!required)
        return fail(QStringLiteral("unknown subcommand '%1' (see routes --help)").arg(sub));

    const std::unique_ptr<CommandLine> commandLine = routesCommandLine();
    const CommandLine &cl = *commandLine;
    if (!commandLine->parse(command.subcommandArguments()))
        return fail(cl.error());
    if (cl.helpRequested()) {
        std::fputs(qPrintable(cl.helpText()), stdout);
        return 0;
    }
    if (cl.versionRequested()) {
        std::printf("%s\n", qPrintable(cl.versionText()));
        return 0;
    }
    // The table holds every subcommand's options; each takes only its own.
    std::map<QString, QString> options;
    for (const auto &group : routesOptionGroups()) {
        for (const CommandLineOption &o : group.second) {
            const QString name = o.names.last();
            if (!cl.isSet(name))
                continue;
            if (!allowed.contains(name))
                return fail(QStringLiteral("'--%1' is not an option of 'routes %2'").arg(name, sub));
            options[QStringLiteral("--") + name] = cl.value(name);
        }
    }
    for (const QString &family : {kCaddyTls, kLiveSources}) {
        for (const QString &name : familyFlagNames(family)) {
            if (cl.isSet(name) && !allowed.contains(family))
                return fail(QStringLiteral("'--%1' is not an option of 'routes %2'").arg(name, sub));
        }
    }
    for (const QString &name : std::as_const(*required)) {
        if (!options.count(QStringLiteral("--") + name))
            return fail(QStringLiteral("routes %1 needs --%2").arg(sub, name));
    }
    TlsClientOptions caddyTls;
    if (const QString e = readTlsClientFlags(cl, QStringLiteral("caddy"), &caddyTls); !e.isEmpty())
        return fail(e);

    if (sub == QLatin1String("validate"))
        return validate(options);
    if (sub == QLatin1String("export"))
        return exportRoutesCommand(options);
    if (sub == QLatin1String("diff"))
        return diff(options);
    if (sub == QLatin1String("apply"))
        return applyRoutes(options, caddyTls);
    if (sub == QLatin1String("history"))
        return history(options);
    if (sub == QLatin1String("pull"))
        return pull(options, caddyTls);
    if (sub == QLatin1String("whatif"))
        return whatIf(app, cl, options);
    if (sub == QLatin1String("check"))
        return check(options);
    return rollback(options, caddyTls);
}

}  // namespace meshscope::cli

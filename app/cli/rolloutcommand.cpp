#include "rolloutcommand.h"

#include "commandline.h"
#include "graph/graphaggregator.h"
#include "livesession.h"
#include "model/clock.h"
#include "rollout/rolloutgate.h"
#include "rollout/rolloutplan.h"
#include "rollout/rolloutrunner.h"
#include "rollout/xdsackwait.h"
#include "routing/caddy/caddyadmin.h"
#include "routing/caddy/caddytranslator.h"
#include "routing/routehistory.h"
#include "routing/routevalidator.h"
#include "routing/xds/xdscontrolplane.h"
#include "routing/yaml/routeyaml.h"
#include "sourceoptions.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

namespace meshscope::cli {

namespace {

using namespace meshscope::rollout;
using namespace meshscope::routing;

constexpr SourceFlags kSources = SourceFlag::Receivers | SourceFlag::ReceiverTls | SourceFlag::MessageLimit
    | SourceFlag::Prometheus | SourceFlag::EnvoyAdmin;
// How long a push waits for every connected xDS client to acknowledge it.
constexpr int kAckTimeoutMs = 10'000;

std::unique_ptr<CommandLine> rolloutCommandLine()
{
    auto commandLine = std::make_unique<CommandLine>(QStringLiteral("meshscope-cli"),
        QStringLiteral(
            "usage: meshscope-cli rollout (--xds-listen ADDR | --caddy-admin URL --server NAME) --routes FILE\n"
            "                             --route NAME --rule N --to BACKEND --steps 10,50,100 --hold 10s\n"
            "                             [--max-error-rate F] [--max-p95-ms MS] [--max-p99-ms MS] [--min-requests N]\n"
            "                             [--on-failure original|last-good|stepwise|pause] [SOURCES...] [--format "
            "json]"),
        QStringLiteral(
            "Moves rule N of route NAME to BACKEND in steps: pushes each step's weights (the rule's other backends\n"
            "share the rest as they did), holds it, and reads BACKEND's error rate, latency and request count from\n"
            "the telemetry the sources deliver. A step passes when its gates hold and BACKEND served at least\n"
            "--min-requests requests; a broken gate rolls back (or pauses, with --on-failure pause). Telemetry\n"
            "silent for --telemetry-timeout pauses it, and so does Ctrl-C: it never advances blind.\n"
            "Exit status: 0 promoted, 3 rolled back, 4 paused, 1 failed, 2 bad options."));
    commandLine->addGroup(QStringLiteral("Plan"),
        {
            {{QStringLiteral("routes")}, QStringLiteral("FILE"),
                QStringLiteral("the routes (HTTPRoute + EndpointSlice YAML) the rollout starts from (required)"),
                QStringLiteral("--routes needs a route file")},
            {{QStringLiteral("route")}, QStringLiteral("NAME"),
                QStringLiteral("the HTTPRoute, NAME or NAMESPACE/NAME (required)"),
                QStringLiteral("--route needs a route name")},
            {{QStringLiteral("rule")}, QStringLiteral("N"),
                QStringLiteral("the weighted rule: its index from 0 (rules[N]) or its name (required)"),
                QStringLiteral("--rule needs a rule index or name")},
            {{QStringLiteral("to")}, QStringLiteral("BACKEND"),
                QStringLiteral("the backend (Service) traffic moves to (required)"),
                QStringLiteral("--to needs a backend name")},
            {{QStringLiteral("steps")}, QStringLiteral("LIST"),
                QStringLiteral("BACKEND's share at each step in percent, increasing (default 10,50,100)"),
                QStringLiteral("--steps needs percentages such as 5,25,50,100")},
            {{QStringLiteral("hold")}, QStringLiteral("DURATION"),
                QStringLiteral("how long each step is held before its gates decide (default 30s)"),
                QStringLiteral("--hold needs a duration such as 30s")},
            {{QStringLiteral("on-failure")}, QStringLiteral("HOW"),
                QStringLiteral("a broken gate: original (default: the weights before the rollout), last-good, "
                               "stepwise (back through the passed steps) or pause"),
                QStringLiteral("--on-failure needs original, last-good, stepwise or pause")},
            {{QStringLiteral("dir")}, QStringLiteral("DIR"),
                QStringLiteral("the route history each step is recorded in (default: the one the dashboard uses)"),
                QStringLiteral("--dir needs a directory")},
            {{QStringLiteral("format")}, QStringLiteral("text|json"),
                QStringLiteral("the result on stdout (default text; progress goes to stderr)"),
                QStringLiteral("--format needs text or json")},
        });
    commandLine->addGroup(QStringLiteral("Gates (each step, over BACKEND's requests)"),
        {
            {{QStringLiteral("max-error-rate")}, QStringLiteral("F"),
                QStringLiteral("the highest error rate that passes, a fraction (0.05: 5 %)"),
                QStringLiteral("--max-error-rate needs a fraction such as 0.05")},
            {{QStringLiteral("max-p95-ms")}, QStringLiteral("MS"),
                QStringLiteral("the highest p95 latency that passes"),
                QStringLiteral("--max-p95-ms needs milliseconds")},
            {{QStringLiteral("max-p99-ms")}, QStringLiteral("MS"),
                QStringLiteral("the highest p99 latency that passes"),
                QStringLiteral("--max-p99-ms needs milliseconds")},
            {{QStringLiteral("min-requests")}, QStringLiteral("N"),
                QStringLiteral("fewer requests in a step's hold never pass (default 20)"),
                QStringLiteral("--min-requests needs a number")},
            {{QStringLiteral("settle")}, QStringLiteral("DURATION"),
                QStringLiteral("the start of each hold left out of its gate, while calls routed before drain "
                               "(default 2s)"),
                QStringLiteral("--settle needs a duration")},
            {{QStringLiteral("telemetry-timeout")}, QStringLiteral("DURATION"),
                QStringLiteral("no telemetry for this long pauses the rollout (default 10s)"),
                QStringLiteral("--telemetry-timeout needs a duration")},
        });
    commandLine->addGroup(QStringLiteral("Data plane"),
        {
            {{QStringLiteral("xds-listen")}, QStringLiteral("ADDR"),
                QStringLiteral("serve the routes to xDS clients on ADDR (as xds serve does)"),
                QStringLiteral("--xds-listen needs an address (HOST:PORT)")},
            {{QStringLiteral("caddy-admin")}, QStringLiteral("URL"),
                QStringLiteral("apply the routes to a Caddy server through its admin API"),
                QStringLiteral("--caddy-admin needs a URL")},
            {{QStringLiteral("server")}, QStringLiteral("NAME"),
                QStringLiteral("the Caddy HTTP server (apps.http.servers.NAME)"),
                QStringLiteral("--server needs a server name")},
        });
    commandLine->addGroup(QStringLiteral("Caddy TLS (https admin endpoints)"),
        tlsClientFlags(QStringLiteral("caddy"), QStringLiteral("the Caddy admin endpoint")));
    SourceOptions::declare(*commandLine, kSources);
    return commandLine;
}

struct RolloutOptions {
    QString routesFile;
    QString route;
    QString rule;
    RolloutPlan plan;
    QString xdsListen;
    CaddyAdminConfig caddy;
    QString server;
    QString historyDir = QString::fromStdString(defaultRouteHistoryDirectory());
    bool json = false;
    SourceOptions sources;
};

QString durationOption(const CommandLine &cl, const QString &name, int64_t *out)
{
    if (!cl.isSet(name))
        return {};
    std::string error;
    const auto ms = parseHold(cl.value(name).toStdString(), &error);
    if (!ms)
        return QStringLiteral("--%1: %2").arg(name, QString::fromStdString(error));
    *out = *ms;
    return {};
}

QString numberOption(const CommandLine &cl, const QString &name, std::optional<double> *out)
{
    if (!cl.isSet(name))
        return {};
    bool ok = false;
    const double v = cl.value(name).toDouble(&ok);
    if (!ok || v < 0)
        return QStringLiteral("--%1 '%2' is not a number from 0 up").arg(name, cl.value(name));
    *out = v;
    return {};
}

QString readPlanOptions(const CommandLine &cl, RolloutOptions &o)
{
    o.routesFile = cl.value(QStringLiteral("routes"));
    o.route = cl.value(QStringLiteral("route"));
    o.rule = cl.value(QStringLiteral("rule"));
    o.plan.canary = cl.value(QStringLiteral("to")).toStdString();
    for (const char *required : {"routes", "route", "rule", "to"}) {
        if (!cl.isSet(QLatin1String(required)))
            return QStringLiteral("--%1 is required").arg(QLatin1String(required));
    }
    std::string error;
    if (cl.isSet(QStringLiteral("steps"))) {
        const auto steps = parseSteps(cl.value(QStringLiteral("steps")).toStdString(), &error);
        if (!steps)
            return QStringLiteral("--steps: %1").arg(QString::fromStdString(error));
        o.plan.steps = *steps;
    } else {
        o.plan.steps = {10, 50, 100};
    }
    if (cl.isSet(QStringLiteral("on-failure"))) {
        const auto f = parseOnFailure(cl.value(QStringLiteral("on-failure")).toStdString());
        if (!f)
            return QStringLiteral("--on-failure needs original, last-good, stepwise or pause, not '%1'")
                .arg(cl.value(QStringLiteral("on-failure")));
        o.plan.onFailure = *f;
    }
    for (const auto &[name, field] :
        {std::pair {QStringLiteral("hold"), &o.plan.holdMs}, std::pair {QStringLiteral("settle"), &o.plan.settleMs},
            std::pair {QStringLiteral("telemetry-timeout"), &o.plan.telemetryTimeoutMs}}) {
        if (QString e = durationOption(cl, name, field); !e.isEmpty())
            return e;
    }
    for (const auto &[name, field] : {std::pair {QStringLiteral("max-error-rate"), &o.plan.gates.maxErrorRate},
             std::pair {QStringLiteral("max-p95-ms"), &o.plan.gates.maxP95Ms},
             std::pair {QStringLiteral("max-p99-ms"), &o.plan.gates.maxP99Ms}}) {
        if (QString e = numberOption(cl, name, field); !e.isEmpty())
            return e;
    }
    if (cl.isSet(QStringLiteral("min-requests"))) {
        bool ok = false;
        o.plan.gates.minRequests = cl.value(QStringLiteral("min-requests")).toULongLong(&ok);
        if (!ok)
            return QStringLiteral("--min-requests '%1' is not a count").arg(cl.value(QStringLiteral("min-requests")));
    }
    if (!o.plan.gates.maxErrorRate && !o.plan.gates.maxP95Ms && !o.plan.gates.maxP99Ms)
        return QStringLiteral("give at least one gate: --max-error-rate, --max-p95-ms or --max-p99-ms");
    if (cl.isSet(QStringLiteral("dir")))
        o.historyDir = cl.value(QStringLiteral("dir"));
    return {};
}

QString readTargetOptions(const CommandLine &cl, RolloutOptions &o)
{
    const bool xds = cl.isSet(QStringLiteral("xds-listen"));
    const bool caddy = cl.isSet(QStringLiteral("caddy-admin"));
    if (xds == caddy)
        return QStringLiteral("give one data plane: --xds-listen ADDR or --caddy-admin URL --server NAME");
    if (xds) {
        o.xdsListen = cl.value(QStringLiteral("xds-listen"));
        if (!isHostPort(o.xdsListen))
            return QStringLiteral("--xds-listen '%1' is not HOST:PORT").arg(o.xdsListen);
        return {};
    }
    const QString url = cl.value(QStringLiteral("caddy-admin"));
    o.caddy.url = QUrl(url.contains(QLatin1String("://")) ? url : QStringLiteral("http://") + url);
    if (!o.caddy.url.isValid() || o.caddy.url.host().isEmpty())
        return QStringLiteral("--caddy-admin '%1' is not an admin URL (e.g. http://127.0.0.1:2019)").arg(url);
    if (!cl.isSet(QStringLiteral("server")))
        return QStringLiteral("--caddy-admin needs --server NAME (the HTTP server under apps.http.servers)");
    o.server = cl.value(QStringLiteral("server"));
    return readTlsClientFlags(cl, QStringLiteral("caddy"), &o.caddy.tls);
}

QString parse(const QStringList &args, RolloutOptions &o, bool *stop)
{
    const std::unique_ptr<CommandLine> commandLine = rolloutCommandLine();
    bool help = false;
    bool version = false;
    if (QString e = commandLine->parseCommand(args, &help, &version, stop); !e.isEmpty() || *stop) {
        if (help)
            std::fputs(qPrintable(commandLine->helpText()), stdout);
        else if (version)
            std::printf("%s\n", qPrintable(commandLine->versionText()));
        return e;
    }
    const CommandLine &cl = *commandLine;
    if (cl.isSet(QStringLiteral("format"))) {
        const QString f = cl.value(QStringLiteral("format"));
        if (f != QLatin1String("json") && f != QLatin1String("text"))
            return QStringLiteral("--format needs text or json, not '%1'").arg(f);
        o.json = f == QLatin1String("json");
    }
    if (QString e = readPlanOptions(cl, o); !e.isEmpty())
        return e;
    if (QString e = readTargetOptions(cl, o); !e.isEmpty())
        return e;
    return o.sources.read(cl, kSources);
}

// --route and --rule against the routes: the plan's route namespace, name and rule index.
QString resolveRule(const RouteSet &routes, const RolloutOptions &o, RolloutPlan &plan)
{
    const qsizetype slash = o.route.indexOf(QLatin1Char('/'));
    const std::string name = (slash < 0 ? o.route : o.route.mid(slash + 1)).toStdString();
    const std::string ns = slash < 0 ? std::string() : o.route.left(slash).toStdString();
    const HttpRoute *found = nullptr;
    for (const HttpRoute &r : routes.routes) {
        if (r.name == name && (ns.empty() || r.ns == ns)) {
            if (found)
                return QStringLiteral("more than one route is named %1: give NAMESPACE/NAME").arg(o.route);
            found = &r;
        }
    }
    if (!found)
        return QStringLiteral("%1 has no route %2").arg(o.routesFile, o.route);
    plan.routeNamespace = found->ns;
    plan.routeName = found->name;
    bool isIndex = false;
    const int index = o.rule.toInt(&isIndex);
    if (isIndex) {
        plan.rule = index;
        return {};
    }
    for (size_t i = 0; i < found->rules.size(); ++i) {
        if (found->rules[i].name == o.rule.toStdString()) {
            plan.rule = int(i);
            return {};
        }
    }
    return QStringLiteral("route %1 has no rule named '%2'").arg(o.route, o.rule);
}

void progress(const std::string &line)
{
    std::fprintf(stderr, "meshscope-cli rollout: %s\n", line.c_str());
    std::fflush(stderr);
}

// Pushes to a Caddy server: pulls (for the ETag, and to see whether someone else
// changed the routes since the last step), then replaces the routes with If-Match.
class CaddyPush {
public:
    CaddyPush(const CaddyAdminConfig &config, QString server)
        : m_admin(config)
        , m_server(std::move(server))
    {
    }

    void push(const RouteSet &routes, RolloutRunner::PushDone done)
    {
        m_admin.pullRoutes(m_server, [this, routes, done](CaddyResult pulled) {
            if (!pulled.ok()) {
                done(false, pulled.message.toStdString());
                return;
            }
            if (m_lastPushed && modelToCaddyRoutes(*m_lastPushed).routes != pulled.rawRoutes) {
                done(false,
                    "Caddy server '" + m_server.toStdString()
                        + "' routes were changed by someone else since the last step; not overwritten");
                return;
            }
            m_admin.applyRoutes(m_server, routes, pulled.version, [this, routes, done](CaddyResult applied) {
                if (!applied.ok()) {
                    done(false, applied.message.toStdString());
                    return;
                }
                m_lastPushed = routes;
                done(true, {});
            });
        });
    }

private:
    CaddyAdmin m_admin;
    QString m_server;
    std::optional<RouteSet> m_lastPushed;
};

std::atomic<bool> g_interrupted {false};

QJsonObject resultJson(const RolloutRunner &runner, const std::vector<int64_t> &historyIds)
{
    const RolloutPlan &plan = runner.plan();
    QJsonArray steps;
    for (const StepRecord &s : runner.steps()) {
        QJsonObject o;
        o[QStringLiteral("weight")] = s.weight;
        o[QStringLiteral("started_unix")] = s.startedMs > 0 ? QJsonValue(double(s.startedMs) / 1000.0) : QJsonValue();
        o[QStringLiteral("error_rate")] = s.reading.errorRate;
        o[QStringLiteral("p95_ms")] = s.reading.p95Ms;
        o[QStringLiteral("p99_ms")] = s.reading.p99Ms;
        o[QStringLiteral("requests")] = qint64(s.reading.requests);
        o[QStringLiteral("verdict")] = QString::fromStdString(verdictName(s.verdict));
        if (!s.reason.empty())
            o[QStringLiteral("reason")] = QString::fromStdString(s.reason);
        steps.append(o);
    }
    QJsonArray history;
    for (int64_t id : historyIds)
        history.append(qint64(id));
    const RolloutState state = runner.state();
    const QString result = state == RolloutState::Promoted ? QStringLiteral("promoted")
        : state == RolloutState::RolledBack                ? QStringLiteral("rolled_back")
                                                           : QStringLiteral("paused");
    return QJsonObject {
        {QStringLiteral("result"), result},
        {QStringLiteral("reason"), QString::fromStdString(runner.reason())},
        {QStringLiteral("route"), QString::fromStdString(plan.routeNamespace + "/" + plan.routeName)},
        {QStringLiteral("rule"), plan.rule},
        {QStringLiteral("backend"), QString::fromStdString(plan.canary)},
        {QStringLiteral("weight"), runner.currentWeight()},
        {QStringLiteral("steps"), steps},
        {QStringLiteral("history"), history},
    };
}

void printText(const RolloutRunner &runner)
{
    const RolloutState state = runner.state();
    std::printf("%s: %s\n",
        stateName(state == RolloutState::Promoted || state == RolloutState::RolledBack ? state : RolloutState::Paused)
            .c_str(),
        runner.reason().c_str());
    for (const StepRecord &s : runner.steps()) {
        std::printf("  %3d %%  %-16s  %6llu requests  error rate %5.1f %%  p95 %7.1f ms  %s\n", s.weight,
            verdictName(s.verdict).c_str(), static_cast<unsigned long long>(s.reading.requests),
            s.reading.errorRate * 100, s.reading.p95Ms, s.reason.c_str());
    }
}

std::string stepLine(const RolloutRunner &runner)
{
    const StepRecord &s = runner.steps().back();
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s at %d %%: %llu requests, error rate %.1f %%, p95 %.1f ms%s%s",
        verdictName(s.verdict).c_str(), s.weight, static_cast<unsigned long long>(s.reading.requests),
        s.reading.errorRate * 100, s.reading.p95Ms, s.reason.empty() ? "" : "; ", s.reason.c_str());
    return buf;
}

// Every route set the rollout may push, validated for the data plane before anything
// is changed; prints the issues of the first that has errors and returns why (empty:
// all can be pushed). The routes at 100 % first: what is wrong at every weight is said
// as before. Then each step: Caddy 2.6.2 has no weighted round robin, so with two
// backends it takes 50 % (equal weights) and 100 %, and a step such as 10 % is refused
// here rather than when the rollout reaches it. On Caddy also the routes a rollback
// restores (the file's own weights).
QString checkDataPlane(const RouteSet &original, const RolloutPlan &plan, DataPlane dataPlane)
{
    auto print = [](const std::vector<RouteIssue> &issues) {
        for (const RouteIssue &i : issues)
            std::fprintf(stderr, "%s\n", i.toString().c_str());
    };
    const QString planeName
        = dataPlane == DataPlane::Caddy ? QStringLiteral("Caddy 2.6.2") : QStringLiteral("gRPC 1.51 (xds-grpc)");
    // The first error without its "refused for Caddy 2.6.2: ", which the reason already says.
    auto firstError = [&planeName](const std::vector<RouteIssue> &issues) {
        for (const RouteIssue &i : issues) {
            if (i.severity != Severity::Error)
                continue;
            QString message = QString::fromStdString(i.message);
            const QString refused = QStringLiteral("refused for %1: ").arg(planeName);
            return message.startsWith(refused) ? message.mid(refused.size()) : message;
        }
        return QString();
    };
    const std::vector<RouteIssue> full = validateRoutes(withCanaryShare(original, plan, 100), dataPlane);
    if (hasErrors(full)) {
        print(full);
        return QStringLiteral("the routes have errors for this data plane; nothing was changed");
    }
    for (int weight : plan.steps) {
        if (weight == 100)
            continue;
        const std::vector<RouteIssue> issues = validateRoutes(withCanaryShare(original, plan, weight), dataPlane);
        if (hasErrors(issues)) {
            print(issues);
            return QStringLiteral("step %1 % cannot be expressed on %2: %3; nothing was changed")
                .arg(weight)
                .arg(planeName, firstError(issues));
        }
    }
    if (dataPlane == DataPlane::Caddy) {
        const std::vector<RouteIssue> issues = validateRoutes(original, dataPlane);
        if (hasErrors(issues)) {
            print(issues);
            return QStringLiteral("the weights before the rollout (%1 % to %2), which a rollback restores, cannot be "
                                  "expressed on %3: %4; nothing was changed")
                .arg(canaryShare(original, plan))
                .arg(QString::fromStdString(plan.canary), planeName, firstError(issues));
        }
    }
    return {};
}

// The whole run: serve or pull, start the sources, step, print the result.
class RolloutRun {
public:
    RolloutRun(QCoreApplication &app, RolloutOptions options)
        : m_app(app)
        , m_o(std::move(options))
        , m_history(m_o.historyDir.toStdString())
    {
        AggregatorConfig config;
        config.keepHistory = true;
        m_aggregator = std::make_unique<GraphAggregator>(config);
    }

    int run()
    {
        RouteLoadResult loaded = loadRouteFile(m_o.routesFile.toStdString());
        for (const RouteIssue &i : loaded.issues)
            std::fprintf(stderr, "%s\n", i.toString().c_str());
        if (!loaded.ok())
            return 1;
        RolloutPlan plan = m_o.plan;
        if (QString e = resolveRule(loaded.set, m_o, plan); !e.isEmpty())
            return fail(e);
        if (const auto problems = checkPlan(plan, loaded.set); !problems.empty())
            return fail(QString::fromStdString(problems.front()));
        const DataPlane dataPlane = m_o.xdsListen.isEmpty() ? DataPlane::Caddy : DataPlane::XdsGrpc;
        if (QString e = checkDataPlane(loaded.set, plan, dataPlane); !e.isEmpty())
            return fail(e);
        if (!startTarget(loaded.set))
            return 1;
        LiveSources sources(m_o.sources, *m_aggregator, "rollout");
        QString error;
        if (!sources.start(&error))
            return fail(error);
        startRunner(plan, loaded.set);
        std::signal(SIGINT, [](int) { g_interrupted = true; });
        std::signal(SIGTERM, [](int) { g_interrupted = true; });
        QTimer tick;
        QObject::connect(&tick, &QTimer::timeout, [this] { onTick(); });
        tick.start(250);
        m_app.exec();
        if (m_cp)
            m_cp->stop();
        if (m_o.json)
            std::printf(
                "%s\n", QJsonDocument(resultJson(*m_runner, m_historyIds)).toJson(QJsonDocument::Compact).constData());
        else
            printText(*m_runner);
        switch (m_runner->state()) {
        case RolloutState::Promoted: return 0;
        case RolloutState::RolledBack: return 3;
        default: return 4;
        }
    }

private:
    int fail(const QString &reason)
    {
        std::fprintf(stderr, "meshscope-cli rollout: %s\n", qPrintable(reason));
        return 1;
    }

    bool startTarget(const RouteSet &original)
    {
        if (!m_o.xdsListen.isEmpty()) {
            XdsControlPlaneConfig config;
            config.listenAddress = m_o.xdsListen.toStdString();
            m_cp = std::make_unique<XdsControlPlane>(config);
            m_cp->setRouteSet(original);
            std::string error;
            if (!m_cp->start(&error)) {
                fail(QString::fromStdString(error));
                return false;
            }
            m_targetKey = xdsTargetKey(m_cp->boundAddress());
            progress("serving the routes to xDS clients on " + m_cp->boundAddress());
            m_lastApplied = original;
            return true;
        }
        const CaddyResult pulled = CaddyAdmin::pullRoutesSync(m_o.caddy, m_o.server);
        if (!pulled.ok()) {
            fail(pulled.message);
            return false;
        }
        m_targetKey = caddyTargetKey(m_o.caddy.url.toString().toStdString(), m_o.server.toStdString());
        m_caddy = std::make_unique<CaddyPush>(m_o.caddy, m_o.server);
        m_lastApplied = pulled.routes;
        progress("applying to Caddy server '" + m_o.server.toStdString() + "' at "
            + m_o.caddy.url.toDisplayString(QUrl::RemoveUserInfo).toStdString());
        return true;
    }

    void startRunner(const RolloutPlan &plan, const RouteSet &original)
    {
        auto push = [this](const RouteSet &routes, const std::string &why, RolloutRunner::PushDone done) {
            progress(why);
            auto recorded = [this, routes, done](bool ok, const std::string &error) {
                if (ok)
                    record(routes);
                done(ok, error);
            };
            if (m_cp)
                awaitXdsAcks(*m_cp, m_cp->setRouteSet(routes), kAckTimeoutMs, &m_app, recorded);
            else
                m_caddy->push(routes, recorded);
        };
        auto read = [this, canary = plan.canary, ns = plan.routeNamespace](
                        int64_t from, int64_t to) { return readGate(*m_aggregator->history(), canary, ns, from, to); };
        m_runner = std::make_unique<RolloutRunner>(plan, original, push, read, [] { return wallNowMs(); });
        m_runner->setChangeCallback([this] { onChange(); });
        m_runner->start();
    }

    void record(const RouteSet &routes)
    {
        const auto e = m_history.record(m_targetKey, m_lastApplied, routes);
        if (e)
            m_historyIds.push_back(e->id);
        else
            progress("applied, but not recorded in the route history: " + m_history.error());
        m_lastApplied = routes;
    }

    void onChange()
    {
        const RolloutState state = m_runner->state();
        if (!m_runner->steps().empty() && m_runner->steps().back().verdict != Verdict::Holding
            && m_runner->steps().back().verdict != Verdict::RollBack)
            progress(stepLine(*m_runner));
        if (state == RolloutState::Paused || m_runner->finished())
            progress(stateName(state) + ": " + m_runner->reason());
        if (state == RolloutState::Paused)
            m_pausedAtMs = wallNowMs();
        if (m_runner->finished())
            QTimer::singleShot(0, &m_app, &QCoreApplication::quit);
    }

    void onTick()
    {
        // The graph's history takes each second as it completes.
        m_aggregator->snapshot(wallNowMs());
        if (g_interrupted) {
            m_runner->pause("interrupted; the data plane keeps " + std::to_string(m_runner->currentWeight()) + " %");
            m_app.quit();
            return;
        }
        m_runner->tick();
        // Paused for a decision: that is the result. Paused for lost telemetry: wait a
        // while for it to come back.
        if (m_runner->state() == RolloutState::Paused) {
            const int64_t patience = std::max<int64_t>(60'000, 3 * m_o.plan.holdMs);
            const bool waitingForTelemetry = m_runner->pausedForTelemetry() && wallNowMs() - m_pausedAtMs < patience;
            if (!waitingForTelemetry)
                m_app.quit();
        }
    }

    QCoreApplication &m_app;
    RolloutOptions m_o;
    RouteHistory m_history;
    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<XdsControlPlane> m_cp;
    std::unique_ptr<CaddyPush> m_caddy;
    std::unique_ptr<RolloutRunner> m_runner;
    std::string m_targetKey;
    RouteSet m_lastApplied;
    std::vector<int64_t> m_historyIds;
    int64_t m_pausedAtMs = 0;
};

}  // namespace

QString rolloutCommandHelp(CommandLine::Sections sections) { return rolloutCommandLine()->helpText(sections); }

int runRolloutCommand(QCoreApplication &app, const QStringList &args)
{
    RolloutOptions options;
    bool stop = false;
    if (const QString e = parse(args, options, &stop); !e.isEmpty()) {
        std::fprintf(stderr, "meshscope-cli rollout: %s\n", qPrintable(e));
        return 2;
    }
    if (stop)
        return 0;
    RolloutRun run(app, std::move(options));
    return run.run();
}

}  // namespace meshscope::cli

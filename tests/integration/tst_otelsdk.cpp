// meshscope's trace store, search, critical path and graph against a real OpenTelemetry
// SDK: the OpenTelemetry JS SDK (tests/fixtures/otel-js, pinned versions installed by
// `npm ci`) traces five Node HTTP services with its HTTP instrumentation and exports every
// span by OTLP/gRPC to `meshscope-cli record`, and also, as ground truth, as JSON lines
// written from the SDK's own finished spans. Every answer of `meshscope-cli traces`,
// `trace` and `graph` on the recording is checked against what the truth implies; the
// critical path against an independent implementation of Jaeger UI's algorithm.
// Skips without node/npm on a developer's machine; fails without them in CI.

#include "common/cliprocess.h"
#include "common/testenv.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif
#ifndef MESHSCOPE_OTELJS_SOURCE_DIR
#error "MESHSCOPE_OTELJS_SOURCE_DIR must name tests/fixtures/otel-js"
#endif
#ifndef MESHSCOPE_OTELJS_INSTALL_DIR
#error "MESHSCOPE_OTELJS_INSTALL_DIR must name where npm ci installs the fixture's packages"
#endif
#ifndef MESHSCOPE_CMAKE_COMMAND
#error "MESHSCOPE_CMAKE_COMMAND must name cmake (to run the fixture's setup.cmake)"
#endif

using namespace meshscope::test;

namespace {

constexpr int kRequests = 40;
constexpr double kMsTolerance = 0.0015;  // durations are printed rounded to 0.001 ms

QString cliPath() { return QString::fromUtf8(MESHSCOPE_CLI_PATH); }
QString fixtureSourceDir() { return QString::fromUtf8(MESHSCOPE_OTELJS_SOURCE_DIR); }
QString fixtureInstallDir() { return QString::fromUtf8(MESHSCOPE_OTELJS_INSTALL_DIR); }

QString str(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toString(); }
double num(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toDouble(); }
qint64 integer(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)).toInteger(-1); }

double nsToMs(uint64_t ns) { return double(ns) / 1e6; }

// One span as the SDK finished it (a line of the truth file).
struct TruthSpan {
    QString traceId, spanId, parentSpanId, name, kind, service, status;
    uint64_t startNs = 0, endNs = 0;
    int httpStatus = 0;
    QJsonObject attributes;

    // meshscope's (and the brief's) rule: status ERROR, or an HTTP server span with a 5xx.
    bool isError() const
    {
        return status == QLatin1String("error")
            || (kind == QLatin1String("server") && httpStatus >= 500 && httpStatus <= 599);
    }
    uint64_t durationNs() const { return endNs - startNs; }
};

// One trace of the truth, with its tree.
struct TruthTrace {
    QString id;
    std::vector<TruthSpan> spans;
    std::vector<int> parent;  // index, -1 for the root
    std::vector<std::vector<int>> children;  // sibling order: start, then end
    int root = -1;

    uint64_t startNs() const
    {
        uint64_t s = UINT64_MAX;
        for (const TruthSpan &x : spans)
            s = std::min(s, x.startNs);
        return s;
    }
    uint64_t endNs() const
    {
        uint64_t e = 0;
        for (const TruthSpan &x : spans)
            e = std::max(e, x.endNs);
        return e;
    }
    uint64_t durationNs() const { return endNs() - startNs(); }
    int errorCount() const
    {
        return int(std::count_if(spans.begin(), spans.end(), [](const TruthSpan &s) { return s.isError(); }));
    }
    int depth(int i) const
    {
        int d = 0;
        for (int p = parent[size_t(i)]; p >= 0; p = parent[size_t(p)])
            ++d;
        return d;
    }
    bool hasAncestor(int i, int ancestor) const
    {
        for (int p = parent[size_t(i)]; p >= 0; p = parent[size_t(p)]) {
            if (p == ancestor)
                return true;
        }
        return false;
    }
    // Pre-order, siblings by start time then end time: the order `trace` prints.
    void preOrder(int i, std::vector<int> &out) const
    {
        out.push_back(i);
        for (int c : children[size_t(i)])
            preOrder(c, out);
    }
};

// ---- the reference critical path (Jaeger UI's algorithm, written out recursively) ----

struct Interval {
    uint64_t start = 0, end = 0;
};

struct CriticalReference {
    QSet<int> onPath;  // every span the walk descended into
    std::map<int, uint64_t> criticalNs;  // time each span owns on the path
};

// `span` runs over `iv` (already clamped to its parent). Its children are clamped to
// `iv`, those wholly outside dropped. From the end of `iv`, the child with the latest end
// at or before the current point (ties: the later sibling) is taken; the span owns the
// time from that end to the point, the walk descends into the child, and the point moves
// to the child's start. What is left at the front is the span's.
void walkCritical(const TruthTrace &t, int span, Interval iv, CriticalReference &out)
{
    out.onPath.insert(span);
    struct Child {
        int index;
        Interval iv;
        bool taken;
    };
    std::vector<Child> kids;
    for (int c : t.children[size_t(span)]) {
        const TruthSpan &s = t.spans[size_t(c)];
        if (s.endNs <= iv.start || s.startNs >= iv.end)
            continue;
        kids.push_back({c, {std::max(s.startNs, iv.start), std::min(s.endNs, iv.end)}, false});
    }
    uint64_t point = iv.end;
    for (;;) {
        Child *next = nullptr;
        for (Child &k : kids) {
            if (!k.taken && k.iv.end <= point && (!next || k.iv.end >= next->iv.end))
                next = &k;
        }
        if (!next) {
            out.criticalNs[span] += point - iv.start;
            return;
        }
        out.criticalNs[span] += point - next->iv.end;
        next->taken = true;
        walkCritical(t, next->index, next->iv, out);
        point = next->iv.start;
    }
}

// A span's time not covered by the union of its children (clamped to it).
uint64_t selfTimeNs(const TruthTrace &t, int span)
{
    const TruthSpan &s = t.spans[size_t(span)];
    std::vector<Interval> ivs;
    for (int c : t.children[size_t(span)]) {
        const TruthSpan &k = t.spans[size_t(c)];
        const uint64_t a = std::max(k.startNs, s.startNs), b = std::min(k.endNs, s.endNs);
        if (a < b)
            ivs.push_back({a, b});
    }
    std::sort(ivs.begin(), ivs.end(), [](const Interval &x, const Interval &y) { return x.start < y.start; });
    uint64_t covered = 0, reach = s.startNs;
    for (const Interval &iv : ivs) {
        const uint64_t a = std::max(iv.start, reach);
        if (iv.end > a) {
            covered += iv.end - a;
            reach = iv.end;
        }
    }
    return s.durationNs() - covered;
}

// ---- running things ----

struct Run {
    int exitCode = -1;
    QByteArray out, err;
    QString describe(const QStringList &args) const
    {
        return QStringLiteral("meshscope-cli %1\nexit %2\nstderr: %3\nstdout: %4")
            .arg(args.join(QLatin1Char(' ')))
            .arg(exitCode)
            .arg(QString::fromUtf8(err.trimmed()), QString::fromUtf8(out.left(3000)));
    }
};

Run runCli(const QStringList &args)
{
    QProcess p;
    p.start(cliPath(), args);
    Run r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished(5000);
        r.err = "did not finish in 120 s";
        return r;
    }
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

QStringList sorted(QStringList l)
{
    l.sort();
    return l;
}

QStringList sorted(const QSet<QString> &s) { return sorted(QStringList(s.begin(), s.end())); }

}  // namespace

class TestOtelSdk : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void traceSummariesMatchTruth();
    void defaultLimitAndSort();
    void everyTraceMatchesTruth();
    void searchMatchesTruth_data();
    void searchMatchesTruth();
    void durationSearchMatchesTruth();
    void graphHasTheCalls();
    void diffOfTwoRecordingsNamesTheChanges();
    void diffOfRangesAndBadInput();

private:
    // Records what services.js (run with `driverArgs`) sends into `recording`, the
    // ground truth going to `truthFile`; empty when all went well, else why not.
    QString recordServices(
        const QString &recording, const QString &truthFile, const QStringList &driverArgs, QByteArray *driverOutput);
    // The trace ids `traces --from recording ARGS` prints, in order (fails the test on error).
    std::optional<QStringList> searchIds(const QStringList &args, QJsonArray *traces = nullptr);
    QSet<QString> truthIdsWhere(const std::function<bool(const TruthTrace &)> &pred) const;

    QTemporaryDir m_dir;
    QString m_node;
    QString m_modules;
    QString m_recording;
    QByteArray m_driverOutput;
    std::map<QString, TruthTrace> m_truth;
    QString m_statusKey;  // the HTTP status attribute this SDK version writes
};

QString TestOtelSdk::recordServices(
    const QString &recording, const QString &truthFile, const QStringList &driverArgs, QByteArray *driverOutput)
{
    // meshscope-cli records whatever arrives; the services export to it and exit once
    // every OTLP export was acknowledged; then the recording is closed by SIGTERM.
    QProcess record;
    record.start(cliPath(),
        {QStringLiteral("record"), QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"),
            QStringLiteral("--duration"), QStringLiteral("240"), QStringLiteral("--out"), recording});
    if (!record.waitForStarted())
        return QStringLiteral("meshscope-cli record did not start");
    const auto stopRecord = qScopeGuard([&record] {
        if (record.state() != QProcess::NotRunning) {
            record.kill();
            record.waitForFinished(5000);
        }
    });
    QByteArray recordErr;
    const int port = meshscope::test::waitForListeningPort(record, &recordErr);
    if (port <= 0)
        return QString::fromUtf8(recordErr);

    QProcess driver;
    driver.setProcessChannelMode(QProcess::MergedChannels);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // The script stays in the source tree; its packages are in the build tree.
    env.insert(QStringLiteral("NODE_PATH"), m_modules);
    for (const QString &k : env.keys()) {
        if (k.startsWith(QLatin1String("OTEL_")))
            env.remove(k);  // no outside SDK configuration
    }
    driver.setProcessEnvironment(env);
    driver.start(m_node,
        QStringList {fixtureSourceDir() + QStringLiteral("/services.js"), QStringLiteral("--otlp"),
            QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("--truth"), truthFile,
            QStringLiteral("--requests"), QString::number(kRequests)}
            + driverArgs);
    if (!driver.waitForStarted())
        return QStringLiteral("services.js did not start");
    if (!driver.waitForFinished(180000)) {
        driver.kill();
        driver.waitForFinished(5000);
        return QStringLiteral("services.js did not finish in 180 s: ") + QString::fromUtf8(driver.readAll());
    }
    *driverOutput = driver.readAll();
    if (driver.exitStatus() != QProcess::NormalExit || driver.exitCode() != 0)
        return QString::fromUtf8(*driverOutput);
    if (record.state() != QProcess::Running)
        return QStringLiteral("record stopped before the services were done: ")
            + QString::fromUtf8(recordErr + record.readAllStandardError());
    record.terminate();
    if (!record.waitForFinished(30000))
        return QStringLiteral("meshscope-cli record did not stop on SIGTERM");
    recordErr += record.readAllStandardError();
    if (record.exitStatus() != QProcess::NormalExit || record.exitCode() != 0 || QFileInfo(recording).size() == 0)
        return QString::fromUtf8(recordErr);
    return {};
}

void TestOtelSdk::initTestCase()
{
    QVERIFY2(QFileInfo(cliPath()).isExecutable(), qPrintable(cliPath()));
    QVERIFY(m_dir.isValid());
    const QString node = findTool("node").isEmpty() ? findTool("nodejs") : findTool("node");
    const QString npm = findTool("npm");
    MESHSCOPE_REQUIRE_PEER(!node.isEmpty() && !npm.isEmpty(), "node and npm (Debian's nodejs and npm)");

    // ctest's setup test installs the packages; a direct run installs them itself.
    const QString modules = fixtureInstallDir() + QStringLiteral("/node_modules");
    if (!QFileInfo::exists(modules + QStringLiteral("/.meshscope-package-lock.json"))) {
        QProcess setup;
        setup.setProcessChannelMode(QProcess::MergedChannels);
        setup.start(QString::fromUtf8(MESHSCOPE_CMAKE_COMMAND),
            {QStringLiteral("-DSOURCE_DIR=") + fixtureSourceDir(),
                QStringLiteral("-DINSTALL_DIR=") + fixtureInstallDir(), QStringLiteral("-P"),
                fixtureSourceDir() + QStringLiteral("/setup.cmake")});
        QVERIFY(setup.waitForFinished(600000));
        QVERIFY2(setup.exitCode() == 0, setup.readAll().constData());
    }
    QVERIFY2(QFileInfo::exists(modules + QStringLiteral("/@opentelemetry/sdk-trace-node")), qPrintable(modules));

    m_node = node;
    m_modules = modules;
    m_recording = m_dir.filePath(QStringLiteral("otel.msrec"));
    const QString truthFile = m_dir.filePath(QStringLiteral("truth.jsonl"));
    const QString error = recordServices(m_recording, truthFile, {}, &m_driverOutput);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    // The ground truth.
    const QByteArray truth = readFile(truthFile);
    QVERIFY2(!truth.isEmpty(), m_driverOutput.constData());
    bool sawNewKey = false, sawOldKey = false;
    for (const QByteArray &line : truth.split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        QJsonParseError perr;
        const QJsonObject o = QJsonDocument::fromJson(line, &perr).object();
        QVERIFY2(perr.error == QJsonParseError::NoError, line.constData());
        TruthSpan s;
        s.traceId = str(o, "trace_id");
        s.spanId = str(o, "span_id");
        s.parentSpanId = str(o, "parent_span_id");
        s.name = str(o, "name");
        s.kind = str(o, "kind");
        s.service = str(o, "service");
        s.status = str(o, "status");
        bool ok1 = false, ok2 = false;
        s.startNs = str(o, "start_unix_nano").toULongLong(&ok1);
        s.endNs = str(o, "end_unix_nano").toULongLong(&ok2);
        QVERIFY2(ok1 && ok2 && s.endNs >= s.startNs, line.constData());
        s.httpStatus = int(num(o, "http_status"));
        s.attributes = o.value(QLatin1String("attributes")).toObject();
        sawNewKey |= s.attributes.contains(QLatin1String("http.response.status_code"));
        sawOldKey |= s.attributes.contains(QLatin1String("http.status_code"));
        QCOMPARE(s.traceId.size(), 32);
        QCOMPARE(s.spanId.size(), 16);
        TruthTrace &t = m_truth[s.traceId];
        t.id = s.traceId;
        t.spans.push_back(s);
    }
    QVERIFY2(sawNewKey || sawOldKey, "the SDK wrote no HTTP status attribute");
    m_statusKey = sawNewKey ? QStringLiteral("http.response.status_code") : QStringLiteral("http.status_code");

    // Trees: one root per trace, every parent present.
    for (auto &[id, t] : m_truth) {
        std::map<QString, int> byId;
        for (size_t i = 0; i < t.spans.size(); ++i)
            byId[t.spans[i].spanId] = int(i);
        QCOMPARE(byId.size(), t.spans.size());
        t.parent.assign(t.spans.size(), -1);
        t.children.assign(t.spans.size(), {});
        for (size_t i = 0; i < t.spans.size(); ++i) {
            const QString &p = t.spans[i].parentSpanId;
            if (p.isEmpty()) {
                QVERIFY2(t.root < 0, qPrintable(QStringLiteral("two roots in trace ") + id));
                t.root = int(i);
                continue;
            }
            const auto it = byId.find(p);
            QVERIFY2(it != byId.end(), qPrintable(QStringLiteral("missing parent %1 in trace %2").arg(p, id)));
            t.parent[i] = it->second;
            t.children[size_t(it->second)].push_back(int(i));
        }
        QVERIFY2(t.root >= 0, qPrintable(QStringLiteral("no root in trace ") + id));
        for (std::vector<int> &kids : t.children) {
            std::sort(kids.begin(), kids.end(), [&t](int a, int b) {
                const TruthSpan &x = t.spans[size_t(a)], &y = t.spans[size_t(b)];
                return x.startNs != y.startNs ? x.startNs < y.startNs : x.endNs < y.endNs;
            });
        }
    }

    // The services did what they were written to do: every request is a trace, every
    // fifth failed in payment, the others went on to shipping.
    QCOMPARE(int(m_truth.size()), kRequests);
    int failed = 0;
    for (const auto &[id, t] : m_truth) {
        const TruthSpan &root = t.spans[size_t(t.root)];
        QCOMPARE(root.service, QStringLiteral("frontend"));
        QCOMPARE(root.kind, QStringLiteral("server"));
        const bool payFailed = std::any_of(t.spans.begin(), t.spans.end(), [](const TruthSpan &s) {
            return s.service == QLatin1String("payment") && s.kind == QLatin1String("server") && s.httpStatus == 503;
        });
        failed += payFailed ? 1 : 0;
        // Each service: a server span; frontend 1 client call, checkout 2 or 3.
        QCOMPARE(int(t.spans.size()), payFailed ? 7 : 9);
    }
    QCOMPARE(failed, kRequests / 5);
}

QSet<QString> TestOtelSdk::truthIdsWhere(const std::function<bool(const TruthTrace &)> &pred) const
{
    QSet<QString> out;
    for (const auto &[id, t] : m_truth) {
        if (pred(t))
            out.insert(id);
    }
    return out;
}

std::optional<QStringList> TestOtelSdk::searchIds(const QStringList &extra, QJsonArray *tracesOut)
{
    const QStringList args = QStringList {QStringLiteral("traces"), QStringLiteral("--from"), m_recording} + extra;
    const Run r = runCli(args);
    if (r.exitCode != 0) {
        qWarning("%s", qPrintable(r.describe(args)));
        return std::nullopt;
    }
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(r.out, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.object().value(QLatin1String("traces")).isArray()) {
        qWarning("not {\"traces\":[...]}: %s", qPrintable(r.describe(args)));
        return std::nullopt;
    }
    const QJsonArray traces = doc.object().value(QLatin1String("traces")).toArray();
    QStringList ids;
    for (const QJsonValue &v : traces)
        ids << str(v.toObject(), "trace_id");
    if (tracesOut)
        *tracesOut = traces;
    return ids;
}

void TestOtelSdk::traceSummariesMatchTruth()
{
    QJsonArray traces;
    const auto ids = searchIds({QStringLiteral("--limit"), QStringLiteral("1000")}, &traces);
    QVERIFY(ids);
    QCOMPARE(sorted(*ids), sorted(truthIdsWhere([](const TruthTrace &) { return true; })));
    for (const QJsonValue &v : traces) {
        const QJsonObject o = v.toObject();
        const TruthTrace &t = m_truth.at(str(o, "trace_id"));
        const TruthSpan &root = t.spans[size_t(t.root)];
        const QByteArray ctx = "trace " + t.id.toUtf8() + ": " + QJsonDocument(o).toJson(QJsonDocument::Compact);
        QVERIFY2(integer(o, "span_count") == qint64(t.spans.size()), ctx.constData());
        QVERIFY2(integer(o, "error_count") == t.errorCount(), ctx.constData());
        QVERIFY2(str(o, "root_service") == root.service, ctx.constData());
        QVERIFY2(str(o, "root_operation") == root.name, ctx.constData());
        QVERIFY2(o.value(QLatin1String("start_unix_nano")).isDouble(), ctx.constData());
        QVERIFY2(integer(o, "start_unix_nano") == qint64(t.startNs()),
            qPrintable(QStringLiteral("%1\nexpected start %2").arg(QString::fromUtf8(ctx)).arg(t.startNs())));
        QVERIFY2(std::abs(num(o, "duration_ms") - nsToMs(t.durationNs())) <= kMsTolerance,
            qPrintable(QStringLiteral("%1\nexpected duration %2 ms")
                           .arg(QString::fromUtf8(ctx))
                           .arg(nsToMs(t.durationNs()), 0, 'f', 6)));
        QSet<QString> services;
        for (const TruthSpan &s : t.spans)
            services.insert(s.service);
        QStringList got;
        for (const QJsonValue &s : o.value(QLatin1String("services")).toArray())
            got << s.toString();
        QVERIFY2(sorted(got) == sorted(services), ctx.constData());
        QVERIFY2(!o.value(QLatin1String("truncated")).toBool(), ctx.constData());
    }
}

void TestOtelSdk::defaultLimitAndSort()
{
    // Default: the 20 newest, newest first.
    std::vector<const TruthTrace *> byStart;
    for (const auto &[id, t] : m_truth)
        byStart.push_back(&t);
    std::sort(byStart.begin(), byStart.end(),
        [](const TruthTrace *a, const TruthTrace *b) { return a->startNs() > b->startNs(); });
    QStringList newest;
    for (size_t i = 0; i < 20; ++i)
        newest << byStart[i]->id;
    const auto ids = searchIds({});
    QVERIFY(ids);
    QCOMPARE(*ids, newest);

    // --sort duration: longest first.
    std::vector<const TruthTrace *> byDuration = byStart;
    std::stable_sort(byDuration.begin(), byDuration.end(),
        [](const TruthTrace *a, const TruthTrace *b) { return a->durationNs() > b->durationNs(); });
    QStringList longest;
    for (const TruthTrace *t : byDuration)
        longest << t->id;
    const auto byDur = searchIds(
        {QStringLiteral("--sort"), QStringLiteral("duration"), QStringLiteral("--limit"), QStringLiteral("1000")});
    QVERIFY(byDur);
    QCOMPARE(*byDur, longest);
}

void TestOtelSdk::everyTraceMatchesTruth()
{
    for (const auto &[id, t] : m_truth) {
        const QStringList args {QStringLiteral("trace"), QStringLiteral("--from"), m_recording, id};
        const Run r = runCli(args);
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe(args)));
        QJsonParseError perr;
        const QJsonObject doc = QJsonDocument::fromJson(r.out, &perr).object();
        QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(r.describe(args)));
        const QByteArray ctx = "trace " + id.toUtf8() + ": " + r.out.left(6000);
        QVERIFY2(str(doc, "trace_id") == id, ctx.constData());
        QVERIFY2(std::abs(num(doc, "duration_ms") - nsToMs(t.durationNs())) <= kMsTolerance, ctx.constData());
        QVERIFY2(!doc.contains(QLatin1String("problems")), ctx.constData());
        const QJsonArray spans = doc.value(QLatin1String("spans")).toArray();
        QVERIFY2(spans.size() == qsizetype(t.spans.size()), ctx.constData());

        std::vector<int> order;
        t.preOrder(t.root, order);
        CriticalReference critical;
        const TruthSpan &root = t.spans[size_t(t.root)];
        walkCritical(t, t.root, {root.startNs, root.endNs}, critical);

        QStringList gotOrder, wantOrder;
        for (qsizetype i = 0; i < spans.size(); ++i) {
            const QJsonObject o = spans.at(i).toObject();
            gotOrder << str(o, "span_id");
            const int ti = order[size_t(i)];
            const TruthSpan &s = t.spans[size_t(ti)];
            wantOrder << s.spanId;
            if (str(o, "span_id") != s.spanId)
                continue;  // the order is compared below, with both lists
            const QString what = QStringLiteral("trace %1 span %2 (%3 %4): %5")
                                     .arg(id, s.spanId, s.service, s.name,
                                         QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
            QVERIFY2(str(o, "parent_span_id") == s.parentSpanId, qPrintable(what));
            QVERIFY2(str(o, "service") == s.service, qPrintable(what));
            QVERIFY2(str(o, "name") == s.name, qPrintable(what));
            QVERIFY2(str(o, "kind") == s.kind, qPrintable(what));
            QVERIFY2(integer(o, "start_unix_nano") == qint64(s.startNs),
                qPrintable(what + QStringLiteral("\nexpected start %1").arg(s.startNs)));
            QVERIFY2(std::abs(num(o, "duration_ms") - nsToMs(s.durationNs())) <= kMsTolerance,
                qPrintable(what + QStringLiteral("\nexpected duration %1 ms").arg(nsToMs(s.durationNs()), 0, 'f', 6)));
            const QString status = s.isError() ? QStringLiteral("error") : s.status;
            QVERIFY2(str(o, "status") == status, qPrintable(what + QStringLiteral("\nexpected status ") + status));
            QVERIFY2(integer(o, "depth") == t.depth(ti), qPrintable(what));
            QVERIFY2(std::abs(num(o, "self_ms") - nsToMs(selfTimeNs(t, ti))) <= kMsTolerance,
                qPrintable(what + QStringLiteral("\nexpected self %1 ms").arg(nsToMs(selfTimeNs(t, ti)), 0, 'f', 6)));
            const uint64_t crit = critical.criticalNs.count(ti) ? critical.criticalNs.at(ti) : 0;
            QVERIFY2(std::abs(num(o, "critical_ms") - nsToMs(crit)) <= kMsTolerance,
                qPrintable(what + QStringLiteral("\nexpected critical %1 ms").arg(nsToMs(crit), 0, 'f', 6)));
        }
        QVERIFY2(gotOrder == wantOrder,
            qPrintable(QStringLiteral("trace %1: span order\n got %2\nwant %3")
                           .arg(id, gotOrder.join(QLatin1Char(' ')), wantOrder.join(QLatin1Char(' ')))));

        // The critical path: the spans the walk descended into, in the printed order.
        QStringList wantPath;
        for (int i : order) {
            if (critical.onPath.contains(i))
                wantPath << t.spans[size_t(i)].spanId;
        }
        QStringList gotPath;
        for (const QJsonValue &v : doc.value(QLatin1String("critical_path")).toArray())
            gotPath << v.toString();
        QVERIFY2(gotPath == wantPath,
            qPrintable(
                QStringLiteral("trace %1: critical path\n got %2\nwant %3\n%4")
                    .arg(id, gotPath.join(QLatin1Char(' ')), wantPath.join(QLatin1Char(' ')), QString::fromUtf8(ctx))));
        // The root's self time is its duration less what its children cover.
        QVERIFY2(std::abs(num(spans.at(0).toObject(), "self_ms") - nsToMs(selfTimeNs(t, t.root))) <= kMsTolerance,
            ctx.constData());
    }
}

void TestOtelSdk::searchMatchesTruth_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("expected");
    const auto ids
        = [this](const std::function<bool(const TruthTrace &)> &pred) { return sorted(truthIdsWhere(pred)); };
    const auto anySpan = [](const TruthTrace &t, const std::function<bool(const TruthSpan &)> &pred) {
        return std::any_of(t.spans.begin(), t.spans.end(), pred);
    };
    const QString limit = QStringLiteral("--limit"), all = QStringLiteral("1000");

    const QStringList payErrors = ids([&](const TruthTrace &t) {
        return anySpan(t, [](const TruthSpan &s) { return s.service == QLatin1String("payment") && s.isError(); });
    });
    QVERIFY(!payErrors.isEmpty());
    QTest::newRow("payment errors") << QStringList {QStringLiteral("--service"), QStringLiteral("payment"),
        QStringLiteral("--errors"), limit, all}
                                    << payErrors;

    QTest::newRow("any error") << QStringList {QStringLiteral("--errors"), limit, all}
                               << ids([&](const TruthTrace &t) { return t.errorCount() > 0; });

    const QString key = m_statusKey;
    QTest::newRow("attr 503") << QStringList {QStringLiteral("--attr"), key + QStringLiteral("=503"), limit,
        all} << ids([&](const TruthTrace &t) {
        return anySpan(t, [&](const TruthSpan &s) { return s.attributes.value(key).toInteger() == 503; });
    });
    QTest::newRow("attr 503 on payment") << QStringList {QStringLiteral("--service"), QStringLiteral("payment"),
        QStringLiteral("--attr"), key + QStringLiteral("=503"), limit,
        all} << ids([&](const TruthTrace &t) {
        return anySpan(t, [&](const TruthSpan &s) {
            return s.service == QLatin1String("payment") && s.attributes.value(key).toInteger() == 503;
        });
    });
    QTest::newRow("shipping operation") << QStringList {QStringLiteral("--service"), QStringLiteral("shipping"),
        QStringLiteral("--operation"), QStringLiteral("GET /ship"), limit,
        all} << ids([&](const TruthTrace &t) {
        return anySpan(t, [](const TruthSpan &s) {
            return s.service == QLatin1String("shipping") && s.name == QLatin1String("GET /ship");
        });
    });

    QTest::newRow("checkout >> error") << QStringList {QStringLiteral("--query"),
        QStringLiteral("{ resource.service.name = \"checkout\" } >> { status = error }"), limit, all}
                                       << ids([](const TruthTrace &t) {
                                              for (size_t a = 0; a < t.spans.size(); ++a) {
                                                  if (t.spans[a].service != QLatin1String("checkout"))
                                                      continue;
                                                  for (size_t b = 0; b < t.spans.size(); ++b) {
                                                      if (t.spans[b].isError() && t.hasAncestor(int(b), int(a)))
                                                          return true;
                                                  }
                                              }
                                              return false;
                                          });
    QTest::newRow("name && shipping") << QStringList {QStringLiteral("--query"),
        QStringLiteral("{ name = \"GET /pay\" } && { resource.service.name = \"shipping\" }"), limit,
        all} << ids([&](const TruthTrace &t) {
        return anySpan(t, [](const TruthSpan &s) { return s.name == QLatin1String("GET /pay"); })
            && anySpan(t, [](const TruthSpan &s) { return s.service == QLatin1String("shipping"); });
    });
    QTest::newRow("payment 503 in one span") << QStringList {QStringLiteral("--query"),
        QStringLiteral("{ resource.service.name = \"payment\" && span.%1 = 503 }").arg(key), limit,
        all} << ids([&](const TruthTrace &t) {
        return anySpan(t, [&](const TruthSpan &s) {
            return s.service == QLatin1String("payment") && s.attributes.value(key).toInteger() == 503;
        });
    });
    QTest::newRow("checkout > payment") << QStringList {QStringLiteral("--query"),
        QStringLiteral("{ resource.service.name = \"checkout\" && kind = client } > "
                       "{ resource.service.name = \"payment\" && kind = server }"),
        limit, all} << ids([](const TruthTrace &t) {
        for (size_t b = 0; b < t.spans.size(); ++b) {
            const int a = t.parent[b];
            if (a >= 0 && t.spans[b].service == QLatin1String("payment") && t.spans[b].kind == QLatin1String("server")
                && t.spans[size_t(a)].service == QLatin1String("checkout")
                && t.spans[size_t(a)].kind == QLatin1String("client"))
                return true;
        }
        return false;
    });
}

void TestOtelSdk::searchMatchesTruth()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, expected);
    const auto ids = searchIds(args);
    QVERIFY(ids);
    QCOMPARE(sorted(*ids), expected);
}

void TestOtelSdk::durationSearchMatchesTruth()
{
    // A bound in the middle of the widest gap between trace durations: the traces on
    // either side of it are known exactly whatever the machine's timing was.
    std::vector<uint64_t> durations;
    for (const auto &[id, t] : m_truth)
        durations.push_back(t.durationNs());
    std::sort(durations.begin(), durations.end());
    uint64_t gap = 0, bound = 0;
    for (size_t i = 1; i < durations.size(); ++i) {
        if (durations[i] - durations[i - 1] > gap) {
            gap = durations[i] - durations[i - 1];
            bound = durations[i - 1] + gap / 2;
        }
    }
    QVERIFY2(gap > 10000, "all traces lasted the same");  // 0.01 ms: far from rounding
    const double boundMs = nsToMs(bound);
    const QString arg = QString::number(boundMs, 'f', 4);
    const double parsed = arg.toDouble();
    const auto longer = [&](const TruthTrace &t) { return nsToMs(t.durationNs()) >= parsed; };

    const auto slow
        = searchIds({QStringLiteral("--min-duration"), arg, QStringLiteral("--limit"), QStringLiteral("1000")});
    QVERIFY(slow);
    QCOMPARE(sorted(*slow), sorted(truthIdsWhere(longer)));
    const auto fast
        = searchIds({QStringLiteral("--max-duration"), arg, QStringLiteral("--limit"), QStringLiteral("1000")});
    QVERIFY(fast);
    QCOMPARE(sorted(*fast), sorted(truthIdsWhere([&](const TruthTrace &t) { return !longer(t); })));
    QVERIFY(!slow->isEmpty() && !fast->isEmpty());
}

void TestOtelSdk::graphHasTheCalls()
{
    const QStringList args {QStringLiteral("graph"), QStringLiteral("--from"), m_recording, QStringLiteral("--format"),
        QStringLiteral("json")};
    const Run r = runCli(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe(args)));
    QJsonParseError perr;
    const QJsonObject doc = QJsonDocument::fromJson(r.out, &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(r.describe(args)));
    const QJsonArray nodes = doc.value(QLatin1String("nodes")).toArray();
    const QJsonArray edges = doc.value(QLatin1String("edges")).toArray();

    // Node ids by service name (an id is "name", or "namespace/name@version").
    const QStringList services {QStringLiteral("frontend"), QStringLiteral("checkout"), QStringLiteral("payment"),
        QStringLiteral("inventory"), QStringLiteral("shipping")};
    QMap<QString, QString> idOf;
    for (const QJsonValue &v : nodes) {
        const QJsonObject n = v.toObject();
        if (services.contains(str(n, "name")))
            idOf.insert(str(n, "name"), str(n, "id"));
    }
    QVERIFY2(idOf.size() == services.size(), qPrintable(r.describe(args)));

    // Calls per edge from the truth: client spans and the service of their server child.
    std::map<std::pair<QString, QString>, int> calls, failures;
    for (const auto &[id, t] : m_truth) {
        for (size_t b = 0; b < t.spans.size(); ++b) {
            const int a = t.parent[b];
            if (a < 0 || t.spans[size_t(a)].service == t.spans[b].service)
                continue;
            const auto edge = std::make_pair(t.spans[size_t(a)].service, t.spans[b].service);
            ++calls[edge];
            failures[edge] += t.spans[b].isError() ? 1 : 0;
        }
    }
    const std::map<std::pair<QString, QString>, int> want {
        {{QStringLiteral("frontend"), QStringLiteral("checkout")}, 0},
        {{QStringLiteral("checkout"), QStringLiteral("payment")}, 0},
        {{QStringLiteral("checkout"), QStringLiteral("inventory")}, 0},
        {{QStringLiteral("checkout"), QStringLiteral("shipping")}, 0}};
    QCOMPARE(int(calls.size()), int(want.size()));

    QStringList described;
    for (const QJsonValue &v : edges) {
        const QJsonObject e = v.toObject();
        described << str(e, "source") + QLatin1String("->") + str(e, "target") + QLatin1Char(' ')
                + QString::number(num(e, "requests")) + QLatin1Char(' ') + QString::number(num(e, "error_rate"));
    }
    const QByteArray ctx = "edges:\n  " + described.join(QLatin1String("\n  ")).toUtf8();
    for (const auto &[edge, unused] : want) {
        Q_UNUSED(unused);
        QVERIFY2(calls.count(edge), "the truth lacks a call");
        QJsonObject found;
        for (const QJsonValue &v : edges) {
            const QJsonObject e = v.toObject();
            if (str(e, "source") == idOf.value(edge.first) && str(e, "target") == idOf.value(edge.second))
                found = e;
        }
        QVERIFY2(!found.isEmpty(),
            qPrintable(QStringLiteral("no edge %1 -> %2\n").arg(edge.first, edge.second) + QString::fromUtf8(ctx)));
        // Over the whole recording: every call the truth has.
        QVERIFY2(num(found, "requests") == double(calls[edge]),
            qPrintable(QStringLiteral("%1 -> %2: %3 requests, truth %4\n")
                           .arg(edge.first, edge.second)
                           .arg(num(found, "requests"))
                           .arg(calls[edge])
                + QString::fromUtf8(ctx)));
        const double wantRate = double(failures[edge]) / double(calls[edge]);
        QVERIFY2(std::abs(num(found, "error_rate") - wantRate) < 1e-6,
            qPrintable(QStringLiteral("%1 -> %2: error rate %3, truth %4/%5\n")
                           .arg(edge.first, edge.second)
                           .arg(num(found, "error_rate"))
                           .arg(failures[edge])
                           .arg(calls[edge])
                + QString::fromUtf8(ctx)));
    }
    // No call between the services that the truth does not have.
    for (const QJsonValue &v : edges) {
        const QJsonObject e = v.toObject();
        const QString from = idOf.key(str(e, "source")), to = idOf.key(str(e, "target"));
        if (from.isEmpty() || to.isEmpty())
            continue;
        QVERIFY2(want.count({from, to}), ctx.constData());
    }
}

// A second recording of the same mesh, with one more service (frontend also calls
// recommendations) and payment failing every second request instead of every fifth:
// the diff names exactly the added service and its edge, the error rate that moved,
// and calls nothing else changed. Rates and p95 depend on this machine's speed from
// run to run, so only the error rate (and the share of a split) is judged here.
void TestOtelSdk::diffOfTwoRecordingsNamesTheChanges()
{
    const QString second = m_dir.filePath(QStringLiteral("otel-second.msrec"));
    QByteArray driverOutput;
    const QString error = recordServices(second, m_dir.filePath(QStringLiteral("truth-second.jsonl")),
        {QStringLiteral("--fail-every"), QStringLiteral("2"), QStringLiteral("--with-recommendations")}, &driverOutput);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    const QStringList args {QStringLiteral("diff"), QStringLiteral("--from"), second, QStringLiteral("--against"),
        m_recording, QStringLiteral("--min-rps-change"), QStringLiteral("100000"), QStringLiteral("--min-p95-change"),
        QStringLiteral("100000")};
    const Run r = runCli(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe(args)));
    QJsonParseError perr;
    const QJsonObject doc = QJsonDocument::fromJson(r.out, &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(r.describe(args)));

    QMap<QString, QString> nameOf;  // node id -> service name
    QStringList added, removed;
    for (const QJsonValue &v : doc.value(QLatin1String("nodes")).toArray()) {
        const QJsonObject n = v.toObject();
        nameOf.insert(str(n, "id"), str(n, "name"));
        if (str(n, "change") == QLatin1String("added"))
            added << str(n, "name");
        if (str(n, "change") == QLatin1String("removed"))
            removed << str(n, "name");
    }
    QCOMPARE(added, QStringList {QStringLiteral("recommendations")});
    QVERIFY2(removed.isEmpty(), qPrintable(removed.join(QLatin1Char(','))));

    std::map<std::pair<QString, QString>, QJsonObject> edges;
    for (const QJsonValue &v : doc.value(QLatin1String("edges")).toArray()) {
        const QJsonObject e = v.toObject();
        edges[{nameOf.value(str(e, "source")), nameOf.value(str(e, "target"))}] = e;
    }
    auto changeOf = [&](const char *from, const char *to) {
        const auto it = edges.find({QLatin1String(from), QLatin1String(to)});
        return it == edges.end() ? QStringLiteral("(no edge)") : str(it->second, "change");
    };
    QCOMPARE(changeOf("frontend", "recommendations"), QStringLiteral("added"));
    // payment fails on 20 of 40 requests instead of 8: +30 points on checkout -> payment.
    QCOMPARE(changeOf("checkout", "payment"), QStringLiteral("changed"));
    const QJsonObject pay = edges[{QStringLiteral("checkout"), QStringLiteral("payment")}];
    const double before = pay.value(QLatin1String("before")).toObject().value(QLatin1String("error_rate")).toDouble();
    const double after = pay.value(QLatin1String("after")).toObject().value(QLatin1String("error_rate")).toDouble();
    QVERIFY2(std::abs(before - 0.2) < 0.01 && std::abs(after - 0.5) < 0.01,
        qPrintable(QStringLiteral("error rate %1 -> %2; ").arg(before).arg(after) + r.describe(args)));
    QCOMPARE(pay.value(QLatin1String("moved")).toArray(), QJsonArray {QStringLiteral("error_rate")});
    // The failures reach frontend through checkout's 502s.
    QCOMPARE(changeOf("frontend", "checkout"), QStringLiteral("changed"));
    // Inventory never fails, and shipping's calls (fewer of them) never fail either.
    QCOMPARE(changeOf("checkout", "inventory"), QStringLiteral("same"));
    QCOMPARE(changeOf("checkout", "shipping"), QStringLiteral("same"));
    QVERIFY2(r.err.contains("2 added, 0 removed"), r.err.constData());
}

// Ranges of one recording: the same range twice is all "same"; reversed ranges, times
// outside the recording, text that is no time and half-given options are refused with
// a one-line reason and exit 2, printing nothing on stdout.
void TestOtelSdk::diffOfRangesAndBadInput()
{
    const QStringList same {QStringLiteral("diff"), QStringLiteral("--from"), m_recording, QStringLiteral("--before"),
        QStringLiteral("+0s/+1h"), QStringLiteral("--after"), QStringLiteral("+0s/+1h")};
    // +1h is past the end of this short recording: refused.
    Run r = runCli(same);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("is outside the recording"), qPrintable(r.describe(same)));
    QVERIFY(r.out.isEmpty());

    const QString start = QStringLiteral("+0s");
    const QStringList ok {QStringLiteral("diff"), QStringLiteral("--from"), m_recording, QStringLiteral("--before"),
        start + QStringLiteral("/+2s"), QStringLiteral("--after"), start + QStringLiteral("/+2s"),
        QStringLiteral("--format"), QStringLiteral("json")};
    r = runCli(ok);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe(ok)));
    const QJsonObject counts = QJsonDocument::fromJson(r.out).object().value(QLatin1String("counts")).toObject();
    QCOMPARE(counts.value(QLatin1String("added")).toInt(), 0);
    QCOMPARE(counts.value(QLatin1String("removed")).toInt(), 0);
    QCOMPARE(counts.value(QLatin1String("changed")).toInt(), 0);
    QVERIFY2(counts.value(QLatin1String("same")).toInt() >= 5, qPrintable(r.describe(ok)));

    const std::vector<std::pair<QStringList, const char *>> bad {
        {{QStringLiteral("--before"), QStringLiteral("+2s/+1s"), QStringLiteral("--after"), QStringLiteral("+0s/+1s")},
            "--before: the range ends before it starts"},
        {{QStringLiteral("--before"), QStringLiteral("soon/+1s"), QStringLiteral("--after"), QStringLiteral("+0s/+1s")},
            "--before: 'soon' is not a time"},
        {{QStringLiteral("--before"), QStringLiteral("+0s"), QStringLiteral("--after"), QStringLiteral("+0s/+1s")},
            "--before needs a range FROM/TO"},
        {{QStringLiteral("--before"), QStringLiteral("+0s/+1s"), QStringLiteral("--after"),
             QStringLiteral("1000000000/1000000001")},
            "--after (1000000000/1000000001) is outside the recording"},
        {{QStringLiteral("--before"), QStringLiteral("+0s/+1s")}, "say what to compare"},
        {{QStringLiteral("--against"), m_recording, QStringLiteral("--before"), QStringLiteral("+0s/+1s")}, "not both"},
        {{QStringLiteral("--against"), m_recording, QStringLiteral("--min-error-change"), QStringLiteral("-1")},
            "--min-error-change needs a positive number"},
        {{QStringLiteral("--against"), m_recording, QStringLiteral("--format"), QStringLiteral("svg")},
            "--format must be json or dot"},
    };
    for (const auto &[extra, reason] : bad) {
        const QStringList args = QStringList {QStringLiteral("diff"), QStringLiteral("--from"), m_recording} + extra;
        r = runCli(args);
        QVERIFY2(r.exitCode == 2 && r.err.contains(reason) && r.out.isEmpty(), qPrintable(r.describe(args)));
        QCOMPARE(r.err.count('\n'), 1);
    }
    const QStringList missing {QStringLiteral("diff"), QStringLiteral("--from"), m_recording,
        QStringLiteral("--against"), m_dir.filePath(QStringLiteral("no-such.msrec"))};
    r = runCli(missing);
    QVERIFY2(r.exitCode == 1 && r.err.contains("no-such.msrec"), qPrintable(r.describe(missing)));
}

QTEST_GUILESS_MAIN(TestOtelSdk)
#include "tst_otelsdk.moc"

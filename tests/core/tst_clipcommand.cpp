// `meshscope-cli clip` run as a user runs it: the real binary on a real recording, with
// ranges written every way the other recording commands take them, its one-line and
// JSON summaries, and a one-line reason with exit status 2 (usage) or 1 (files) when
// it refuses, leaving no file behind.

#include "common/cliprocess.h"
#include "session/recording.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#ifndef MESHSCOPE_CLI_PATH
#error "MESHSCOPE_CLI_PATH must name the meshscope-cli binary"
#endif

using namespace meshscope;

namespace {

constexpr int64_t kT0Ms = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

using Run = test::ProgramRun;

Run cli(const QStringList &args) { return test::runProgram(QString::fromUtf8(MESHSCOPE_CLI_PATH), args); }

}  // namespace

class TestClipCommand : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void writesTheRangeAndSaysSoInOneLine();
    void jsonSummary();
    void rangeAsUnixSecondsAndRfc3339();
    void redactKeyAddsNames();
    void refusals_data();
    void refusals();
    void helpListsTheCommand();

private:
    QString path(const char *name) const { return m_dir.filePath(QString::fromLatin1(name)); }
    QTemporaryDir m_dir;
    QString m_recording;
};

// Ten seconds, a span batch every 500 ms, each span's URL carrying a token.
void TestClipCommand::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_recording = path("incident.msrec");
    std::string error;
    auto w = RecordingWriter::create(m_recording.toStdString(), nullptr, error, R"({"program":"test"})");
    QVERIFY2(w, error.c_str());
    for (int i = 0; i < 20; ++i) {
        const int64_t ms = kT0Ms + i * 500;
        Span s;
        s.traceId[0] = uint8_t(i + 1);
        s.spanId = uint64_t(i + 1);
        s.kind = SpanKind::Server;
        s.service = "cart";
        s.name = "GET";
        s.startNs = uint64_t(ms) * 1000000ull;
        s.endNs = s.startNs + 1000000ull;
        s.path = "/cart?token=TOKEN-SECRET&page=2";
        s.attributes = {{"http.request.header.x-internal-check", "CUSTOM-SECRET"}};
        w->ingestSpans({s}, ms, "otlp");
    }
    w->close();
    QVERIFY(w->lastError().empty());
}

void TestClipCommand::writesTheRangeAndSaysSoInOneLine()
{
    const QString out = path("clip.msrec");
    const Run r = cli({QStringLiteral("clip"), QStringLiteral("--from"), m_recording, QStringLiteral("--range"),
        QStringLiteral("+3s/+6s"), QStringLiteral("--out"), out});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QVERIFY2(r.err.isEmpty(), qPrintable(r.err));
    QCOMPARE(r.out.count(QLatin1Char('\n')), 1);
    QVERIFY2(r.out.startsWith(QStringLiteral("wrote %1: 7 events (7 spans, 0 requests").arg(out)), qPrintable(r.out));
    QVERIFY2(
        r.out.contains(QStringLiteral("from 2023-11-14T22:13:23.000Z to 2023-11-14T22:13:26.000Z")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("%1 bytes").arg(QFileInfo(out).size())), qPrintable(r.out));

    std::string why;
    const std::unique_ptr<RecordingReader> clip = RecordingReader::open(out.toStdString(), why);
    QVERIFY2(clip, why.c_str());
    QCOMPARE(clip->startMs(), kT0Ms + 3000);
    QCOMPARE(clip->endMs(), kT0Ms + 6000);
}

void TestClipCommand::jsonSummary()
{
    const QString out = path("clip.json.msrec");
    const Run r = cli({QStringLiteral("clip"), QStringLiteral("--from"), m_recording, QStringLiteral("--range"),
        QStringLiteral("+0s/+2s"), QStringLiteral("--out"), out, QStringLiteral("--format"), QStringLiteral("json")});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QJsonParseError error {};
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(o.value(QStringLiteral("out")).toString(), out);
    QCOMPARE(o.value(QStringLiteral("source")).toString(), m_recording);
    QCOMPARE(o.value(QStringLiteral("from_ms")).toInteger(), kT0Ms);
    QCOMPARE(o.value(QStringLiteral("to_ms")).toInteger(), kT0Ms + 2000);
    QCOMPARE(o.value(QStringLiteral("events")).toInt(), 5);
    QCOMPARE(o.value(QStringLiteral("spans")).toInt(), 5);
    QCOMPARE(o.value(QStringLiteral("requests")).toInt(), 0);
    QCOMPARE(o.value(QStringLiteral("values_redacted")).toInt(), 5 * 2);  // token and page of each path
    QCOMPARE(o.value(QStringLiteral("bytes")).toInteger(), QFileInfo(out).size());
    QVERIFY(o.value(QStringLiteral("problems")).toArray().isEmpty());
}

void TestClipCommand::rangeAsUnixSecondsAndRfc3339()
{
    const QString out = path("clip.times.msrec");
    const Run r = cli({QStringLiteral("clip"), QStringLiteral("--from"), m_recording, QStringLiteral("--range"),
        QStringLiteral("1700000003/2023-11-14T22:13:26Z"), QStringLiteral("--out"), out});
    QVERIFY2(r.status == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains(QStringLiteral(": 7 events (7 spans")), qPrintable(r.out));
}

void TestClipCommand::redactKeyAddsNames()
{
    auto clipText = [this](const QString &out, const QStringList &extra) {
        const Run r = cli(QStringList {QStringLiteral("clip"), QStringLiteral("--from"), m_recording,
                              QStringLiteral("--range"), QStringLiteral("+0s/+1s"), QStringLiteral("--out"), out}
            + extra);
        std::string why, text;
        const std::unique_ptr<RecordingReader> clip = RecordingReader::open(out.toStdString(), why);
        if (r.status != 0 || !clip)
            return std::string("failed: ") + r.err.toStdString();
        struct Sink : TelemetrySink {
            std::string *text;
            void ingestSpans(std::vector<Span> &&spans, int64_t, const char *) override
            {
                for (const Span &s : spans)
                    for (const SpanAttribute &a : s.attributes)
                        *text += a.key + "=" + a.value + "\n";
            }
            void ingestRequests(std::vector<ObservedRequest> &&, int64_t, const char *) override { }
            void setPulledEdges(const std::string &, std::vector<PulledEdge>, int64_t) override { }
            void countExport(uint64_t, uint64_t, const std::map<std::string, uint64_t> &) override { }
            void countMalformed(const std::string &) override { }
            void countOversized(const std::string &) override { }
        } sink;
        sink.text = &text;
        clip->replay(sink, clip->startMs(), clip->endMs(), {}, why);
        return text;
    };
    const std::string plain = clipText(path("plain.msrec"), {});
    QVERIFY2(plain.find("x-internal-check=CUSTOM-SECRET") != std::string::npos, plain.c_str());
    const std::string redacted = clipText(path("custom.msrec"),
        {QStringLiteral("--redact-key"), QStringLiteral("X-Internal-Check"), QStringLiteral("--redact-key"),
            QStringLiteral("other")});
    QVERIFY2(redacted.find("x-internal-check=***") != std::string::npos, redacted.c_str());
    QVERIFY2(redacted.find("CUSTOM-SECRET") == std::string::npos, redacted.c_str());
}

void TestClipCommand::refusals_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");
    auto args = [](std::initializer_list<const char *> list) {
        QStringList a {QStringLiteral("clip")};
        for (const char *s : list)
            a << QString::fromUtf8(s);
        return a;
    };
    QTest::newRow("reversed") << args({"--from", "@REC@", "--range", "+6s/+3s", "--out", "@OUT@"}) << 2
                              << QStringLiteral("--range: the range ends before it starts (+6s/+3s)");
    QTest::newRow("empty") << args({"--from", "@REC@", "--range", "+3s/+3s", "--out", "@OUT@"}) << 2
                           << QStringLiteral("the range ends before it starts");
    QTest::newRow("outside") << args({"--from", "@REC@", "--range", "+1h/+2h", "--out", "@OUT@"}) << 2
                             << QStringLiteral("is outside the recording (2023-11-14T22:13:20.000Z to");
    QTest::newRow("not a time") << args({"--from", "@REC@", "--range", "soon/later", "--out", "@OUT@"}) << 2
                                << QStringLiteral("'soon' is not a time");
    QTest::newRow("no out") << args({"--from", "@REC@", "--range", "+1s/+2s"}) << 2
                            << QStringLiteral("--out is required");
    QTest::newRow("no range") << args({"--from", "@REC@", "--out", "@OUT@"}) << 2
                              << QStringLiteral("--range is required");
    QTest::newRow("bad format") << args({"--from", "@REC@", "--range", "+1s/+2s", "--out", "@OUT@", "--format", "dot"})
                                << 2 << QStringLiteral("--format must be text or json");
    QTest::newRow("over itself") << args({"--from", "@REC@", "--range", "+1s/+2s", "--out", "@REC@"}) << 2
                                 << QStringLiteral("cannot be written over the recording it is cut from");
    QTest::newRow("no such folder") << args({"--from", "@REC@", "--range", "+1s/+2s", "--out", "@DIR@/no/c.msrec"}) << 1
                                    << QStringLiteral("No such file or directory");
    QTest::newRow("no recording") << args({"--from", "@DIR@/absent.msrec", "--range", "+1s/+2s", "--out", "@OUT@"}) << 1
                                  << QStringLiteral("absent.msrec");
    QTest::newRow("unknown option") << args({"--from", "@REC@", "--range", "+1s/+2s", "--out", "@OUT@", "--fast"}) << 2
                                    << QStringLiteral("--fast");
}

void TestClipCommand::refusals()
{
    QFETCH(QStringList, args);
    QFETCH(int, status);
    QFETCH(QString, reason);
    const QString out = path("refused.msrec");
    for (QString &a : args)
        a.replace(QStringLiteral("@REC@"), m_recording)
            .replace(QStringLiteral("@OUT@"), out)
            .replace(QStringLiteral("@DIR@"), m_dir.path());
    const QStringList before = QDir(m_dir.path()).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
    const Run r = cli(args);
    QCOMPARE(r.status, status);
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.startsWith(QStringLiteral("meshscope-cli clip: ")), qPrintable(r.err));
    QCOMPARE(r.err.count(QLatin1Char('\n')), 1);
    QVERIFY2(r.err.contains(reason), qPrintable(r.err));
    QCOMPARE(QDir(m_dir.path()).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot), before);
}

void TestClipCommand::helpListsTheCommand()
{
    const Run all = cli({QStringLiteral("--help")});
    QCOMPARE(all.status, 0);
    QVERIFY(all.out.contains(QStringLiteral("  clip  ")));
    QVERIFY(all.out.contains(QStringLiteral("usage: meshscope-cli clip --from FILE --range T1/T2 --out OUT.msrec")));
    const Run one = cli({QStringLiteral("clip"), QStringLiteral("--help")});
    QCOMPARE(one.status, 0);
    QVERIFY(one.out.contains(QStringLiteral("--redact-key")));
}

QTEST_GUILESS_MAIN(TestClipCommand)
#include "tst_clipcommand.moc"

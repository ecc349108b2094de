// Graph exports read by the programs they are written for: the DOT file is rendered
// by Debian's Graphviz (`dot -Tsvg`), and the text Graphviz draws is what the names
// and namespaces say, split at the right place, with quotes and backslashes intact.

#include "common/testenv.h"
#include "graph/graphexport.h"

#include <QProcess>
#include <QRegularExpression>
#include <QXmlStreamReader>
#include <QtTest>

using namespace meshscope;

namespace {

NodeSnapshot node(
    const std::string &id, const std::string &name, const std::string &ns, const std::string &version, NodeKind kind)
{
    NodeSnapshot n;
    n.id = id;
    n.name = name;
    n.ns = ns;
    n.version = version;
    n.kind = kind;
    return n;
}

EdgeSnapshot edge(const std::string &from, const std::string &to, double rps, double errorRate, double p95Ms)
{
    EdgeSnapshot e;
    e.id = from + "->" + to;
    e.source = from;
    e.target = to;
    e.direction = Direction::EastWest;
    e.stats.rps = rps;
    e.stats.errorRate = errorRate;
    e.stats.p95Ms = p95Ms;
    return e;
}

// The text of every <text> element of an SVG, in document order.
QStringList svgTexts(const QByteArray &svg)
{
    QStringList out;
    QXmlStreamReader xml(svg);
    while (!xml.atEnd()) {
        if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("text"))
            out << xml.readElementText(QXmlStreamReader::IncludeChildElements);
    }
    if (xml.hasError())
        qWarning("SVG does not parse: %s", qPrintable(xml.errorString()));
    return out;
}

}  // namespace

class TestGraphExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dotRendersLabelsWithRealLineBreaks();
    void dotEscapesQuotesAndBackslashes();
};

void TestGraphExport::dotRendersLabelsWithRealLineBreaks()
{
    const QString dot = test::findTool("dot");
    MESHSCOPE_REQUIRE_PEER(!dot.isEmpty(), "graphviz (dot)");

    GraphSnapshot s;
    s.nodes.push_back(node("external", "external", "", "", NodeKind::External));
    s.nodes.push_back(node("identity/auth@v1", "auth", "identity", "v1", NodeKind::Service));
    s.nodes.push_back(node("ext:api.example.com", "api.example.com", "", "", NodeKind::ExternalService));
    s.edges.push_back(edge("external", "identity/auth@v1", 12.25, 0.5, 41));
    s.edges.push_back(edge("identity/auth@v1", "ext:api.example.com", 3, 0, 120));
    const QByteArray source = graphToDot(s);

    QProcess p;
    p.start(dot, {QStringLiteral("-Tsvg")});
    QVERIFY(p.waitForStarted());
    p.write(source);
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(30000));
    const QByteArray warnings = p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, warnings.constData());
    QVERIFY2(warnings.isEmpty(), warnings.constData());
    const QStringList texts = svgTexts(p.readAllStandardOutput());

    // "auth v1" over "identity": two lines, as two text elements, no "\n" anywhere.
    const qsizetype name = texts.indexOf(QStringLiteral("auth v1"));
    QVERIFY2(name >= 0, qPrintable(texts.join(QLatin1String(" | "))));
    QCOMPARE(texts.value(name + 1), QStringLiteral("identity"));
    for (const QString &t : texts)
        QVERIFY2(!t.contains(QLatin1Char('\\')), qPrintable(t));
    QVERIFY(texts.contains(QStringLiteral("external")));
    QVERIFY(texts.contains(QStringLiteral("api.example.com")));
    QVERIFY2(texts.contains(QStringLiteral("12.2 rps, 50.0% err, p95 41 ms"))
            || texts.contains(QStringLiteral("12.3 rps, 50.0% err, p95 41 ms")),
        qPrintable(texts.join(QLatin1String(" | "))));
    QVERIFY(texts.contains(QStringLiteral("3.0 rps, 0.0% err, p95 120 ms")));
}

void TestGraphExport::dotEscapesQuotesAndBackslashes()
{
    const QString dot = test::findTool("dot");
    MESHSCOPE_REQUIRE_PEER(!dot.isEmpty(), "graphviz (dot)");

    // Names come from telemetry: anything printable may be in them, and a label
    // escape Graphviz would expand ("\N" is the node's id, "\l" a left-justified
    // break) must reach the drawing as the characters the service sent.
    GraphSnapshot s;
    s.nodes.push_back(node("ns/we\"ird\\N@v\\l", "we\"ird\\N", "ns\\n", "v\\l", NodeKind::Service));
    s.nodes.push_back(node("ns/plain", "plain", "ns", "", NodeKind::Gateway));
    s.edges.push_back(edge("ns/plain", "ns/we\"ird\\N@v\\l", 1, 0, 2));
    const QByteArray source = graphToDot(s);

    QProcess p;
    p.start(dot, {QStringLiteral("-Tsvg")});
    QVERIFY(p.waitForStarted());
    p.write(source);
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(30000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const QStringList texts = svgTexts(p.readAllStandardOutput());
    const qsizetype name = texts.indexOf(QStringLiteral("we\"ird\\N v\\l"));
    QVERIFY2(name >= 0, qPrintable(texts.join(QLatin1String(" | "))));
    QCOMPARE(texts.value(name + 1), QStringLiteral("ns\\n"));
    // Both nodes and the edge between them: the quoted ids matched up.
    QVERIFY(texts.contains(QStringLiteral("plain")));
    QCOMPARE(texts.filter(QRegularExpression(QStringLiteral("^1\\.0 rps"))).size(), 1);
}

QTEST_GUILESS_MAIN(TestGraphExport)
#include "tst_graphexport.moc"

// What leaves the dashboard, read back by other programs: the SVG with every edge
// label (parsed as XML), the requests table as CSV (read by Python's csv module, an
// independent RFC 4180 reader), and "copy as curl" (run by the real curl against a
// local server, which sees the request the row describes).

#include "canvas/graphcanvas.h"
#include "canvas/graphscene.h"
#include "common/graphsamplemesh.h"
#include "common/testenv.h"
#include "displayformat.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QProcess>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include <map>

using namespace meshscope;

namespace {

QStringList svgTexts(const QByteArray &svg)
{
    QStringList out;
    QXmlStreamReader xml(svg);
    while (!xml.atEnd()) {
        if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("text"))
            out << xml.readElementText(QXmlStreamReader::IncludeChildElements).trimmed();
    }
    if (xml.hasError())
        qWarning("SVG does not parse: %s", qPrintable(xml.errorString()));
    return out;
}

RequestEvent request(uint64_t seq, int64_t timeMs, const std::string &path, const std::string &authority = {})
{
    RequestEvent e;
    e.seq = seq;
    e.timeMs = timeMs;
    e.sourceId = "shop/frontend@v1";
    e.targetId = "shop/reviews@v2";
    e.protocol = Protocol::Http;
    e.method = "GET";
    e.path = path;
    e.authority = authority;
    e.httpStatus = 200;
    e.durationMs = 12.5;
    e.traceId = "0af7651916cd43dd8448eb211c80319c";
    return e;
}

// Rows as Python's csv module reads the file (header included).
QList<QStringList> readWithPython(const QString &python, const QString &file)
{
    QProcess p;
    p.start(python,
        {QStringLiteral("-c"),
            QStringLiteral("import csv, json, sys\n"
                           "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
                           "    print(json.dumps(list(csv.reader(f, strict=True))))\n"),
            file});
    if (!p.waitForFinished(30000) || p.exitCode() != 0) {
        qWarning("python3: %s", p.readAllStandardError().constData());
        return {};
    }
    QList<QStringList> rows;
    for (const QJsonValue &row : QJsonDocument::fromJson(p.readAllStandardOutput()).array()) {
        QStringList cells;
        for (const QJsonValue &cell : row.toArray())
            cells << cell.toString();
        rows << cells;
    }
    return rows;
}

}  // namespace

class TestExports : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void svgHasEveryEdgeLabel();
    void requestsCsvRoundTrips();
    void requestsCsvHoldsTheShownRows();
    void copyAsCurlText();
    void copyAsCurlRunsTheRequest();
};

void TestExports::svgHasEveryEdgeLabel()
{
    const GraphSnapshotPtr snapshot = samplemesh::realistic();
    GraphCanvas canvas;
    canvas.resize(1100, 760);
    canvas.setSnapshot(snapshot);
    canvas.show();
    QVERIFY(QTest::qWaitForWindowExposed(&canvas));
    canvas.fitToView();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    const struct {
        GraphCanvas::EdgeLabel kind;
        QString (*text)(const EdgeSnapshot &);
    } kinds[] = {
        {GraphCanvas::EdgeLabel::Rps,
            [](const EdgeSnapshot &e) -> QString { return display::rps(e.stats.rps) + QStringLiteral(" rps"); }},
        {GraphCanvas::EdgeLabel::P95,
            [](const EdgeSnapshot &e) -> QString {
                return e.stats.p95Ms > 0 ? display::millis(e.stats.p95Ms) : QString();
            }},
    };
    for (const auto &kind : kinds) {
        canvas.setEdgeLabel(kind.kind);
        const QString file = dir.filePath(QStringLiteral("graph.svg"));
        QVERIFY(canvas.renderSvg(file));
        QStringList texts = svgTexts(test::readFile(file));
        QVERIFY(!texts.isEmpty());
        // Each edge's label once, wherever the edge is short or the screen would leave
        // it out (the external -> ingress edge is both).
        std::map<QString, int> expected;
        for (const EdgeSnapshot &e : snapshot->edges) {
            const QString t = kind.text(e);
            if (!t.isEmpty())
                ++expected[t];
        }
        QVERIFY(expected.size() > 5);
        for (const auto &[text, count] : expected)
            QVERIFY2(texts.count(text) >= count,
                qPrintable(QStringLiteral("%1: %2 of %3 in the SVG").arg(text).arg(texts.count(text)).arg(count)));
        if (kind.kind == GraphCanvas::EdgeLabel::Rps)
            QVERIFY(texts.contains(QStringLiteral("420.0 rps")));  // external -> istio-ingressgateway
        // Every node's name too, whole.
        for (const NodeSnapshot &n : snapshot->nodes) {
            const QString name = QString::fromStdString(n.name);
            QVERIFY2(std::any_of(texts.begin(), texts.end(), [&name](const QString &t) { return t.startsWith(name); }),
                qPrintable(name));
        }
    }
}

void TestExports::requestsCsvRoundTrips()
{
    const QString python = test::findTool("python3");
    MESHSCOPE_REQUIRE_PEER(!python.isEmpty(), "python3 (its csv module reads the export)");

    RequestsTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const int64_t t0 = 1700000000123;
    RequestEvent tricky = request(1, t0, "/search?q=\"red, blue\"&page=2", "shop.example.com:8443");
    tricky.method = "POST";
    tricky.durationMs = 1234.5;
    RequestEvent formula = request(2, t0 + 5, "/a\nb", "x");
    formula.sourceId = "=HYPERLINK(\"http://evil\")";
    formula.protocol = Protocol::Grpc;
    formula.httpStatus = -1;
    formula.grpcStatus = 14;
    formula.error = true;
    RequestEvent secret = request(3, t0 + 9, "/login?user=bob&token=s3cr3t");
    model.append({secret, formula, tricky});

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("requests.csv"));
    QVERIFY(test::writeFile(file, model.toCsv()));
    QVERIFY(!test::readFile(file).contains("s3cr3t"));
    const QList<QStringList> rows = readWithPython(python, file);
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows[0],
        QStringList({QStringLiteral("Time"), QStringLiteral("From"), QStringLiteral("To"), QStringLiteral("Method"),
            QStringLiteral("Authority"), QStringLiteral("Path"), QStringLiteral("Status"),
            QStringLiteral("Duration (ms)"), QStringLiteral("Protocol"), QStringLiteral("Trace ID")}));
    QCOMPARE(rows[1],
        QStringList({QStringLiteral("2023-11-14T22:13:20.123Z"), QStringLiteral("shop/frontend@v1"),
            QStringLiteral("shop/reviews@v2"), QStringLiteral("POST"), QStringLiteral("shop.example.com:8443"),
            QStringLiteral("/search?q=\"red, blue\"&page=2"), QStringLiteral("200"), QStringLiteral("1234.500"),
            QStringLiteral("http"), QStringLiteral("0af7651916cd43dd8448eb211c80319c")}));
    // A node id a spreadsheet would run is kept as text; a line break stays in its cell.
    QCOMPARE(rows[2].value(1), QStringLiteral("'=HYPERLINK(\"http://evil\")"));
    QCOMPARE(rows[2].value(5), QStringLiteral("/a\nb"));
    QCOMPARE(rows[2].value(6), QStringLiteral("gRPC UNAVAILABLE"));
    QCOMPARE(rows[2].value(8), QStringLiteral("grpc"));
    QCOMPARE(rows[3].value(0), QStringLiteral("2023-11-14T22:13:20.132Z"));
    QCOMPARE(rows[3].value(5), QStringLiteral("/login?…"));
    QCOMPARE(rows[3].value(4), QString());
}

void TestExports::requestsCsvHoldsTheShownRows()
{
    RequestsPanel panel(nullptr);
    const int64_t t0 = 1700000000000;
    panel.model()->append({request(1, t0, "/items/1"), request(2, t0 + 1, "/cart"), request(3, t0 + 2, "/items/2")});
    panel.filterEdit()->setText(QStringLiteral("items"));
    QCOMPARE(panel.proxy()->rowCount(), 2);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("shown.csv"));
    QString error;
    QVERIFY2(panel.exportCsv(file, &error), qPrintable(error));
    const QList<QByteArray> lines = test::readFile(file).split('\n');
    QCOMPARE(lines.size(), 4);  // header, two rows, and the empty rest after the last CRLF
    QVERIFY(lines[1].contains(",/items/1,"));
    QVERIFY(lines[2].contains(",/items/2,"));
    QVERIFY(lines[1].endsWith('\r'));
    QVERIFY(!panel.exportCsv(dir.filePath(QStringLiteral("missing/dir/x.csv")), &error));
    QVERIFY(!error.isEmpty());
}

void TestExports::copyAsCurlText()
{
    RequestsPanel panel(nullptr);
    RequestsTableModel *model = panel.model();
    const int64_t t0 = 1700000000000;
    RequestEvent post = request(1, t0, "/api/orders?id=7", "shop.example.com:443");
    post.method = "POST";
    RequestEvent noAuthority = request(2, t0 + 1, "/reviews/1");
    RequestEvent secret = request(3, t0 + 2, "/login?user=bob&token=s3cr3t", "auth.local:8080");
    RequestEvent quote = request(4, t0 + 3, "/it's", "a.local");
    quote.method = "HEAD";
    RequestEvent grpc = request(5, t0 + 4, "/shop.Cart/Add", "cart:50051");
    grpc.protocol = Protocol::Grpc;
    model->append({post, noAuthority, secret, quote, grpc});

    QCOMPARE(model->curlCommand(0), QStringLiteral("curl -X 'POST' 'https://shop.example.com:443/api/orders?id=7'"));
    QCOMPARE(model->curlCommand(1),
        QStringLiteral("# no authority was recorded: reviews.shop is the destination service's name\n"
                       "curl 'http://reviews.shop/reviews/1'"));
    const QString redacted = model->curlCommand(2);
    QVERIFY2(
        !redacted.contains(QLatin1String("s3cr3t")) && !redacted.contains(QLatin1String("bob")), qPrintable(redacted));
    QVERIFY2(redacted.endsWith(QStringLiteral("curl 'http://auth.local:8080/login?…'")), qPrintable(redacted));
    QCOMPARE(model->curlCommand(3), QStringLiteral("curl --head 'http://a.local/it'\\''s'"));
    QCOMPARE(model->curlCommand(4), QString());
    QVERIFY(!model->isHttp(4));

    // From the table: the current row, through the action (as the context menu and Ctrl+Shift+C).
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.view()->setCurrentIndex(panel.proxy()->index(0, RequestsTableModel::Path));
    QVERIFY(panel.copyCurlAction()->isEnabled());
    QApplication::clipboard()->clear();
    panel.copyCurlAction()->trigger();
    QCOMPARE(QApplication::clipboard()->text(), model->curlCommand(0));
    panel.view()->setCurrentIndex(panel.proxy()->index(4, RequestsTableModel::Path));
    QVERIFY(!panel.copyCurlAction()->isEnabled());
    QCOMPARE(panel.currentRowCurl(), QString());
}

void TestExports::copyAsCurlRunsTheRequest()
{
    const QString curl = test::findTool("curl");
    MESHSCOPE_REQUIRE_PEER(!curl.isEmpty(), "curl");
    const QString sh = test::findTool("sh");
    QVERIFY(!sh.isEmpty());

    // A server that answers 204 and keeps what it was sent.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QByteArray received;
    connect(&server, &QTcpServer::newConnection, this, [&server, &received] {
        QTcpSocket *socket = server.nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [socket, &received] {
            received += socket->readAll();
            if (received.contains("\r\n\r\n")) {
                socket->write("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                socket->disconnectFromHost();
            }
        });
    });

    RequestsTableModel model;
    RequestEvent e = request(1, 1700000000000, "/api/orders?id=7&sort=new",
        QStringLiteral("127.0.0.1:%1").arg(server.serverPort()).toStdString());
    e.method = "DELETE";
    model.append({e});
    QProcess p;
    p.start(sh, {QStringLiteral("-c"), model.curlCommand(0) + QStringLiteral(" --silent --show-error --max-time 10")});
    QVERIFY(p.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(p.state() == QProcess::NotRunning, 15000);
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    QVERIFY2(received.startsWith("DELETE /api/orders?id=7&sort=new HTTP/1.1\r\n"), received.constData());
    QVERIFY2(received.contains(QStringLiteral("\r\nHost: 127.0.0.1:%1\r\n").arg(server.serverPort()).toLatin1()),
        received.constData());
}

QTEST_MAIN(TestExports)
#include "tst_exports.moc"

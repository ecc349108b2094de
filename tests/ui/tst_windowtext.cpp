// Words that stay true: the notice bar and the status bar say the same thing from the
// sources' current state, and a retry countdown is the source's real next attempt; the
// notice bar lies over the canvas without moving it; a requests filter that hides
// everything says so; requests are in the order they started; the empty window says
// where to send telemetry; Help has the guide, the shortcuts and the versions.

#include "canvas/graphcanvas.h"
#include "common/spanfactory.h"
#include "common/testenv.h"
#include "dashboardoptions.h"
#include "graph/graphaggregator.h"
#include "inspect/models/requeststablemodel.h"
#include "inspect/requestspanel.h"
#include "mainwindow.h"
#include "noticebar.h"
#include "sources/connectionsdialog.h"
#include "sources/sourcemanager.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTest>
#include <QTextBrowser>
#include <QTextDocumentFragment>

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>
#include <openssl/crypto.h>
#include <yaml-cpp/yaml.h>

#include <memory>

using namespace meshscope;

namespace {

// One request A -> B as the paired client and server spans of a trace, started at startMs.
void addRequest(std::vector<Span> &out, test::SpanFactory &spans, const char *from, const char *to, int64_t startMs,
    const char *path)
{
    const TraceId trace = spans.nextTrace();
    const uint64_t start = uint64_t(startMs) * 1000000ull;
    const Span client
        = spans.add(out, trace, 0, SpanKind::Client, test::SpanFactory::Call {from, "shop", "", start, 5, 200, path});
    spans.add(
        out, trace, client.spanId, SpanKind::Server, test::SpanFactory::Call {to, "shop", "", start, 5, 200, path});
}

QString labelText(const QWidget *root, const char *name)
{
    const auto *l = root->findChild<QLabel *>(QLatin1String(name));
    return l && !l->isHidden() ? l->text() : QString();
}

// The "retrying in N s" count in text, or -1.
int countdownIn(const QString &text)
{
    const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("retrying in (\\d+) s")).match(text);
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

}  // namespace

class TestWindowText : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void noticeBarOverlaysWithoutMovingTheCanvas();
    void retryCountdownIsTheSourcesNextAttempt();
    void filterThatHidesEverythingSaysSo();
    void requestsAreInStartOrder();
    void emptyWindowSaysWhereToSendTelemetry();
    void helpHasGuideShortcutsAndVersions();

private:
    void showWindow();
    void feed(std::vector<Span> spans);

    std::unique_ptr<GraphAggregator> m_aggregator;
    std::unique_ptr<MainWindow> m_window;
    test::SpanFactory m_spans {0x77};
};

void TestWindowText::initTestCase() { QStandardPaths::setTestModeEnabled(true); }

void TestWindowText::init()
{
    m_aggregator = std::make_unique<GraphAggregator>(AggregatorConfig {}, GraphAggregator::wallNowMs() - 60000);
    m_window = std::make_unique<MainWindow>(m_aggregator.get(), QStringLiteral("test"));
    m_window->setPersistenceEnabled(false);
    m_window->resize(1400, 900);
}

void TestWindowText::cleanup()
{
    m_window.reset();
    m_aggregator.reset();
}

void TestWindowText::showWindow()
{
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestWindowText::feed(std::vector<Span> spans)
{
    m_aggregator->ingestSpans(std::move(spans), GraphAggregator::wallNowMs());
    m_window->applySnapshot(m_aggregator->snapshot(GraphAggregator::wallNowMs()));
}

void TestWindowText::noticeBarOverlaysWithoutMovingTheCanvas()
{
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    for (int i = 0; i < 20; ++i)
        addRequest(spans, m_spans, "frontend", "backend", now - 1000 + i, "/items");
    feed(spans);
    showWindow();
    GraphCanvas *canvas = m_window->canvas();
    QTRY_VERIFY(!canvas->nodeWidgetPosition(QStringLiteral("shop/backend")).isNull());
    canvas->fitToView();
    const QRect geometry = canvas->geometry();
    const QTransform view = canvas->viewTransform();
    const double zoom = canvas->zoom();

    NoticeBar *notice = m_window->noticeBar();
    QVERIFY(notice->isHidden());
    m_window->reportSourceError(QStringLiteral("cannot listen for OTLP on 127.0.0.1:4317: address in use"));
    m_window->reportSourceError(QStringLiteral("demo mesh not started: meshscope-demo is not installed"));
    QVERIFY(notice->isVisible());
    QCoreApplication::processEvents();
    QCOMPARE(canvas->geometry(), geometry);
    QCOMPARE(canvas->viewTransform(), view);
    QCOMPARE(canvas->zoom(), zoom);
    // It lies over the top of the canvas, as wide as it, both lines readable.
    QCOMPARE(notice->parentWidget(), canvas->parentWidget());
    QCOMPARE(notice->geometry().top(), canvas->geometry().top());
    QCOMPARE(notice->width(), canvas->width());
    QVERIFY(notice->height() >= 2 * notice->fontMetrics().height());
    QCOMPARE(notice->text().count(QLatin1Char('\n')), 1);

    // Resizing the window keeps it over the top edge at the new width.
    m_window->resize(1200, 800);
    QTRY_COMPARE(notice->width(), canvas->width());

    notice->dismiss();
    QVERIFY(notice->isHidden());
    QCOMPARE(canvas->geometry().top(), geometry.top());
    QCOMPARE(canvas->zoom(), zoom);
}

void TestWindowText::retryCountdownIsTheSourcesNextAttempt()
{
    // A Prometheus nobody answers for: connection refused, retried with back-off 1, 2, 4 s.
    const int port = test::freePort();
    QVERIFY(port > 0);
    SourceManager sources(*m_aggregator);
    m_window->setSourceManager(&sources);
    showWindow();
    SourceSpec prom;
    prom.id = SourceSpec::newId();
    prom.kind = SourceSpec::Kind::Prometheus;
    prom.name = QStringLiteral("east");
    prom.address = QStringLiteral("http://127.0.0.1:%1").arg(port);
    QCOMPARE(sources.upsert(prom), QString());

    // Wait for a back-off long enough to watch it count down.
    QTRY_VERIFY_WITH_TIMEOUT(sources.status(prom.id).state == SourceManager::State::Retrying
            && QDateTime::currentDateTime().msecsTo(sources.status(prom.id).nextRetryAt) > 2500,
        15000);
    const QDateTime retryAt = sources.status(prom.id).nextRetryAt;
    QVERIFY(!sources.status(prom.id).message.contains(QLatin1String("retrying")));

    auto check = [&](const char *when) {
        // The window refreshes twice a second: what it shows was true at most ~0.6 s ago
        // (1.2 s allowed, for a busy machine).
        QTest::qWait(700);
        const QDateTime now = QDateTime::currentDateTime();
        if (sources.status(prom.id).nextRetryAt != retryAt)
            return false;  // the attempt came; the caller's window has passed
        const int latest = int((now.msecsTo(retryAt) + 999) / 1000);
        const int earliest = int((now.addMSecs(-1200).msecsTo(retryAt) + 999) / 1000);
        const QString banner = m_window->noticeBar()->text();
        const QString status = m_window->statusText();
        const int shown = countdownIn(banner);
        if (!(shown >= latest && shown <= earliest))
            qWarning("%s: banner says %d s, the attempt is %d..%d s away: %s", when, shown, latest, earliest,
                qPrintable(banner));
        [&] {
            QVERIFY2(shown >= latest && shown <= earliest, qPrintable(banner));
            // One line, said the same way in the banner, the status bar's error field and its sources field.
            QVERIFY2(banner.startsWith(QStringLiteral("east: ")), qPrintable(banner));
            QVERIFY2(status.contains(banner), qPrintable(status));
            QVERIFY2(status.contains(QStringLiteral("east: retrying in %1 s").arg(shown)), qPrintable(status));
        }();
        return true;
    };
    QVERIFY(check("first look"));
    if (QTest::currentTestFailed())
        return;
    const int first = countdownIn(m_window->noticeBar()->text());
    QTest::qWait(1000);
    if (check("a second later")) {
        if (QTest::currentTestFailed())
            return;
        QVERIFY(countdownIn(m_window->noticeBar()->text()) < first);
    }

    // The dialog says it the same way.
    ConnectionsDialog *dialog = m_window->openConnections();
    dialog->selectSource(prom.id);
    const auto *details = dialog->findChild<QTextBrowser *>();
    QVERIFY(details);
    QTRY_VERIFY2(countdownIn(details->toPlainText()) >= 0, qPrintable(details->toPlainText()));

    // A source that is gone is no longer a problem anywhere.
    sources.remove(prom.id);
    QTRY_VERIFY(m_window->noticeBar()->isHidden());
    QVERIFY2(!m_window->statusText().contains(QLatin1String("east")), qPrintable(m_window->statusText()));
}

void TestWindowText::filterThatHidesEverythingSaysSo()
{
    std::vector<Span> spans;
    const int64_t now = GraphAggregator::wallNowMs();
    for (int i = 0; i < 30; ++i)
        addRequest(spans, m_spans, "frontend", i % 3 ? "backend" : "payments", now - 2000 + i, "/items");
    feed(spans);
    showWindow();
    RequestsPanel *requests = m_window->requestsPanel();
    requests->pollNow();
    QCOMPARE(requests->model()->rowCount(), 30);
    QCOMPARE(requests->filterHint(), QString());

    requests->filterEdit()->setText(QStringLiteral("payments"));
    QCOMPARE(requests->proxy()->rowCount(), 10);
    QCOMPARE(requests->filterHint(), QString());

    // Carried to a node whose requests it all hides: the count says "0 of 20", and why.
    m_window->selectNode(QStringLiteral("shop/backend"));
    QTRY_COMPARE(requests->model()->rowCount(), 20);
    QCOMPARE(requests->proxy()->rowCount(), 0);
    QCOMPARE(labelText(requests, "requestsCount"), QStringLiteral("0 of 20 requests"));
    const QString hint = labelText(requests, "requestsFilterHint");
    QVERIFY2(hint.contains(QStringLiteral("the filter “payments” hides all 20 requests")), qPrintable(hint));
    QVERIFY(hint.contains(QLatin1String("Clear filter")));

    // Its link clears the filter.
    auto *label = requests->findChild<QLabel *>(QStringLiteral("requestsFilterHint"));
    Q_EMIT label->linkActivated(QStringLiteral("clear"));
    QCOMPARE(requests->filterEdit()->text(), QString());
    QCOMPARE(requests->proxy()->rowCount(), 20);
    QVERIFY(label->isHidden());
}

void TestWindowText::requestsAreInStartOrder()
{
    showWindow();
    RequestsPanel *requests = m_window->requestsPanel();
    QAbstractItemModelTester tester(requests->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    // Spans are reported when requests end, in batches, out of order: three batches
    // whose start times interleave, the last one starting before the others.
    const int64_t now = GraphAggregator::wallNowMs();
    for (int64_t base : {now - 3000, now - 3500, now - 5000}) {
        std::vector<Span> spans;
        for (int i = 4; i >= 0; --i)
            addRequest(spans, m_spans, "frontend", "backend", base + i * 400, "/items");
        feed(spans);
        requests->pollNow();
    }
    RequestsTableModel *model = requests->model();
    QCOMPARE(model->rowCount(), 15);
    for (int r = 1; r < model->rowCount(); ++r) {
        const qlonglong a = model->index(r - 1, 0).data(RequestsTableModel::TimeMsRole).toLongLong();
        const qlonglong b = model->index(r, 0).data(RequestsTableModel::TimeMsRole).toLongLong();
        QVERIFY2(a <= b,
            qPrintable(QStringLiteral("row %1 starts at %2, before row %3 at %4").arg(r).arg(b).arg(r - 1).arg(a)));
        QVERIFY(model->index(r - 1, RequestsTableModel::Time).data().toString()
            <= model->index(r, RequestsTableModel::Time).data().toString());
    }
    QCOMPARE(model->index(0, 0).data(RequestsTableModel::TimeMsRole).toLongLong(), now - 5000);
    QCOMPARE(model->index(14, 0).data(RequestsTableModel::TimeMsRole).toLongLong(), now - 3000 + 1600);
}

void TestWindowText::emptyWindowSaysWhereToSendTelemetry()
{
    SourceManager sources(*m_aggregator);
    SourceSpec otlp;
    otlp.id = SourceSpec::newId();
    otlp.kind = SourceSpec::Kind::OtlpReceiver;
    otlp.address = QStringLiteral("127.0.0.1:0");
    QCOMPARE(sources.upsert(otlp), QString());
    const QString address = sources.status(otlp.id).boundAddress;
    QVERIFY(address.startsWith(QLatin1String("127.0.0.1:")));
    m_window->setSourceManager(&sources);
    showWindow();

    QVERIFY(m_window->emptyGuide()->isVisible());
    const QString text = m_window->emptyGuideText();
    QVERIFY2(text.contains(QStringLiteral("listens for OpenTelemetry traces (OTLP over gRPC) on ") + address),
        qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("OTEL_EXPORTER_OTLP_ENDPOINT=http://") + address), qPrintable(text));
    QVERIFY(text.contains(QLatin1String("meshscope --demo")));
    QVERIFY(text.contains(QStringLiteral("Sources › Connections")));
    // The Collector snippet is YAML that says what the Collector needs.
    const QString snippet = m_window->collectorSnippet();
    QVERIFY(text.contains(snippet.trimmed()));
    const YAML::Node yaml = YAML::Load(snippet.toStdString());
    const YAML::Node exporter = yaml["exporters"]["otlp/meshscope"];
    QCOMPARE(QString::fromStdString(exporter["endpoint"].as<std::string>()), address);
    QVERIFY(exporter["tls"]["insecure"].as<bool>());
    QCOMPARE(QString::fromStdString(yaml["service"]["pipelines"]["traces"]["exporters"][0].as<std::string>()),
        QStringLiteral("otlp/meshscope"));
    // It lies over the canvas, inside it.
    QVERIFY(m_window->canvas()->geometry().contains(m_window->emptyGuide()->geometry()));

    // Without a receiver it says so instead of giving an address.
    sources.setEnabled(otlp.id, false);
    QVERIFY2(m_window->emptyGuideText().contains(QLatin1String("No OTLP receiver is listening")),
        qPrintable(m_window->emptyGuideText()));
    QCOMPARE(m_window->collectorSnippet(), QString());
    sources.setEnabled(otlp.id, true);

    // Traffic takes it away.
    std::vector<Span> spans;
    addRequest(spans, m_spans, "frontend", "backend", GraphAggregator::wallNowMs() - 100, "/items");
    feed(spans);
    QVERIFY(m_window->emptyGuide()->isHidden());
    QCOMPARE(m_window->emptyGuideText(), QString());
    sources.stopAll();
}

void TestWindowText::helpHasGuideShortcutsAndVersions()
{
    showWindow();
    // The guide: docs/guide.md, from the resources, rendered.
    m_window->guideAction()->trigger();
    auto *guide = m_window->findChild<QDialog *>(QStringLiteral("guideDialog"));
    QVERIFY(guide && guide->isVisible());
    const auto *browser = guide->findChild<QTextBrowser *>(QStringLiteral("guideBrowser"));
    QVERIFY(browser);
    const QString rendered = browser->toPlainText();
    QVERIFY2(rendered.startsWith(QLatin1String("meshscope user guide")), qPrintable(rendered.left(200)));
    QVERIFY(!rendered.contains(QLatin1String("## ")));  // markdown rendered, not shown
    QFile resource(QStringLiteral(":/meshscope/guide.md"));
    QVERIFY(resource.open(QIODevice::ReadOnly));
    const QByteArray markdown = resource.readAll();
    const QString source = QFileInfo(QStringLiteral(__FILE__)).absolutePath() + QStringLiteral("/../../docs/guide.md");
    QCOMPARE(markdown, test::readFile(source));
    // Every dashboard option it names is one `meshscope --help` lists. A paragraph or
    // list item about meshscope-cli names the CLI's options instead.
    const QString usage = DashboardOptions::usage();
    const QStringList blocks
        = QString::fromUtf8(markdown).split(QRegularExpression(QStringLiteral("\\n\\s*\\n|\\n(?=\\s*- )")));
    QVERIFY(blocks.size() > 50);
    for (const QString &block : blocks) {
        if (block.contains(QLatin1String("meshscope-cli")))
            continue;
        auto it = QRegularExpression(QStringLiteral("(--[a-z][a-z-]+)")).globalMatch(block);
        while (it.hasNext()) {
            const QString option = it.next().captured(1);
            QVERIFY2(usage.contains(option + QLatin1Char(' ')) || usage.contains(option + QLatin1Char('\n'))
                    || usage.contains(option + QLatin1Char(']')),
                qPrintable(option));
        }
    }

    // The shortcut sheet opens with Ctrl+? and lists what the window really binds.
    QTest::keyClick(m_window.get(), Qt::Key_Question, Qt::ControlModifier);
    auto *sheet = m_window->findChild<QDialog *>(QStringLiteral("shortcutsDialog"));
    QVERIFY(sheet && sheet->isVisible());
    const auto *table = sheet->findChild<QTableWidget *>(QStringLiteral("shortcutsTable"));
    QVERIFY(table);
    QHash<QString, QString> rows;
    for (int r = 0; r < table->rowCount(); ++r) {
        if (table->item(r, 1))
            rows.insert(table->item(r, 1)->text(), table->item(r, 0)->text());
    }
    QCOMPARE(rows.value(QStringLiteral("Find")), m_window->findAction()->shortcut().toString(QKeySequence::NativeText));
    QCOMPARE(rows.value(QStringLiteral("Fit")), QStringLiteral("F"));
    QCOMPARE(rows.value(QStringLiteral("User guide")),
        QKeySequence(QKeySequence::HelpContents).toString(QKeySequence::NativeText));
    QVERIFY(rows.value(QStringLiteral("Keyboard shortcuts"))
                .contains(QKeySequence(Qt::CTRL | Qt::Key_Question).toString(QKeySequence::NativeText)));
    QCOMPARE(rows.value(QStringLiteral("Copy as curl")),
        QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C).toString(QKeySequence::NativeText));
    QVERIFY(rows.contains(QStringLiteral("Clear the selection")));

    // About names the four libraries with the versions this process runs.
    m_window->aboutAction()->trigger();
    auto *about = m_window->findChild<QMessageBox *>(QStringLiteral("aboutDialog"));
    QVERIFY(about && about->isVisible());
    const QString text = QTextDocumentFragment::fromHtml(about->text()).toPlainText();
    const QString expected[][2] = {
        {QStringLiteral("Qt"), QString::fromLatin1(qVersion())},
        {QStringLiteral("gRPC"), QString::fromStdString(grpc::Version())},
        {QStringLiteral("protobuf"),
            QString::fromStdString(google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION))},
        {QStringLiteral("OpenSSL"), QString::fromLatin1(OpenSSL_version(OPENSSL_VERSION_STRING))},
    };
    for (const auto &[name, version] : expected) {
        QVERIFY(!version.isEmpty());
        QVERIFY2(QRegularExpression(QStringLiteral("\\b%1\\s+%2\\b")
                                        .arg(QRegularExpression::escape(name), QRegularExpression::escape(version)))
                     .match(text)
                     .hasMatch(),
            qPrintable(text));
    }
}

QTEST_MAIN(TestWindowText)
#include "tst_windowtext.moc"

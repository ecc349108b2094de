// The shipped `meshscope` executable end to end: `--demo --screenshot` starts the
// demo mesh against its own receiver, and the PNG it writes must show a live graph
// (many pixels in health colours on the canvas) at the window's size. Also checks
// that options this build lacks are refused with a one-line reason and status 2.

#include "displayformat.h"

#include <QFileInfo>
#include <QHostAddress>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace meshscope;

namespace {

QProcessEnvironment offscreenEnvironment(const QString &home)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    // Settings and runtime files of the child stay in the test's directory.
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
    env.insert(QStringLiteral("XDG_RUNTIME_DIR"), home);
    return env;
}

bool near(QRgb px, const QColor &c, int tolerance)
{
    const int dr = qRed(px) - c.red(), dg = qGreen(px) - c.green(), db = qBlue(px) - c.blue();
    return dr * dr + dg * dg + db * db <= tolerance * tolerance;
}

}  // namespace

class TestScreenshot : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void demoScreenshotShowsALiveGraph();
    void badSourceOptionsAreRefused();
    void unwritableScreenshotFails();
    void busyPortKeepsRunningAndSaysSo();
};

void TestScreenshot::initTestCase()
{
    QVERIFY2(QFileInfo(QStringLiteral(MESHSCOPE_BIN)).isExecutable(), MESHSCOPE_BIN " is not built");
    QVERIFY2(QFileInfo(QStringLiteral(MESHSCOPE_DEMO_BIN)).isExecutable(), MESHSCOPE_DEMO_BIN " is not built");
}

void TestScreenshot::demoScreenshotShowsALiveGraph()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("out.png"));
    QProcess p;
    p.setProcessEnvironment(offscreenEnvironment(dir.path()));
    p.start(QStringLiteral(MESHSCOPE_BIN),
        {QStringLiteral("--demo"), QStringLiteral("--screenshot"), out, QStringLiteral("--screenshot-after-ms"),
            QStringLiteral("5000"), QStringLiteral("--screenshot-select"), QStringLiteral("frontend")});
    QVERIFY2(p.waitForFinished(60000), "meshscope did not exit after its screenshot");
    const QString stdoutText = QString::fromLocal8Bit(p.readAllStandardOutput());
    const QString stderrText = QString::fromLocal8Bit(p.readAllStandardError());
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(stderrText));

    // It says which size it wrote; the PNG must be that, the whole window.
    const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("\\((\\d+)x(\\d+)\\)")).match(stdoutText);
    QVERIFY2(m.hasMatch(), qPrintable(stdoutText));
    const QSize windowSize(m.captured(1).toInt(), m.captured(2).toInt());
    QCOMPARE(windowSize, QSize(1600, 1000));
    QImage image(out);
    QVERIFY2(!image.isNull(), "the screenshot is not a readable PNG");
    QCOMPARE(image.size(), windowSize);
    image = image.convertToFormat(QImage::Format_RGB32);

    // The canvas takes the upper left of the default layout (inspect dock on the
    // right, live requests below). A live demo mesh paints its nodes and edges there
    // in health colours; an empty or frozen canvas does not.
    const QRect canvasArea(0, int(image.height() * 0.07), int(image.width() * 0.55), int(image.height() * 0.5));
    const QColor healthy = display::healthColor(Health::Healthy);
    const QColor degraded = display::healthColor(Health::Degraded);
    const QColor failing = display::healthColor(Health::Failing);
    int coloured = 0, healthyPx = 0;
    for (int y = canvasArea.top(); y <= canvasArea.bottom(); ++y) {
        const QRgb *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = canvasArea.left(); x <= canvasArea.right(); ++x) {
            const QRgb px = line[x];
            const bool h = near(px, healthy, 60);
            healthyPx += h;
            coloured += h || near(px, degraded, 60) || near(px, failing, 60);
        }
    }
    qInfo("canvas area: %d pixels in health colours (%d healthy)", coloured, healthyPx);
    QVERIFY2(coloured > 400, qPrintable(QStringLiteral("only %1 health-coloured pixels on the canvas").arg(coloured)));
    QVERIFY2(healthyPx > 200, qPrintable(QStringLiteral("only %1 healthy-green pixels on the canvas").arg(healthyPx)));

    // The status bar area is not the canvas' dark background only: text was drawn.
    int bright = 0;
    for (int y = image.height() - 20; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x)
            bright += qGray(image.pixel(x, y)) > 150;
    }
    QVERIFY(bright > 100);
}

void TestScreenshot::badSourceOptionsAreRefused()
{
    QTemporaryDir dir;
    // Malformed source options stop the program with one line before any window opens.
    const QList<QStringList> bad = {{QStringLiteral("--xds-listen"), QStringLiteral("nohost")},
        {QStringLiteral("--routes"), QStringLiteral("r.yaml")}, {QStringLiteral("--envoy-admin")}};
    for (const QStringList &args : bad) {
        const QString opt = args.first();
        QProcess p;
        p.setProcessEnvironment(offscreenEnvironment(dir.path()));
        p.start(QStringLiteral(MESHSCOPE_BIN), args);
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), 2);
        const QString err = QString::fromLocal8Bit(p.readAllStandardError()).trimmed();
        QVERIFY2(err.contains(opt) && err.count(QLatin1Char('\n')) == 0, qPrintable(err));
    }
}

void TestScreenshot::unwritableScreenshotFails()
{
    QTemporaryDir dir;
    QProcess p;
    p.setProcessEnvironment(offscreenEnvironment(dir.path()));
    // Port 0 keeps this run clear of anything listening on 4317.
    p.start(QStringLiteral(MESHSCOPE_BIN),
        {QStringLiteral("--otlp-listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--screenshot"),
            dir.filePath(QStringLiteral("no/such/dir/out.png")), QStringLiteral("--screenshot-after-ms"),
            QStringLiteral("200")});
    QVERIFY(p.waitForFinished(30000));
    QVERIFY(p.exitCode() != 0);
    QVERIFY(QString::fromLocal8Bit(p.readAllStandardError()).contains(QLatin1String("cannot write")));
}

void TestScreenshot::busyPortKeepsRunningAndSaysSo()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    const QString addr = QStringLiteral("127.0.0.1:%1").arg(squatter.serverPort());
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("busy.png"));
    QProcess p;
    p.setProcessEnvironment(offscreenEnvironment(dir.path()));
    p.start(QStringLiteral(MESHSCOPE_BIN),
        {QStringLiteral("--otlp-listen"), addr, QStringLiteral("--screenshot"), out,
            QStringLiteral("--screenshot-after-ms"), QStringLiteral("800")});
    QVERIFY(p.waitForFinished(30000));
    // The dashboard stays up (and so can take its screenshot) and names the problem.
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(
        QString::fromLocal8Bit(p.readAllStandardError()).contains(QStringLiteral("cannot listen for OTLP on ") + addr));
    QVERIFY(!QImage(out).isNull());
}

QTEST_MAIN(TestScreenshot)
#include "tst_screenshot.moc"

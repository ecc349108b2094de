// meshscope: the desktop dashboard. Wires a receiver, the shared aggregator, the
// snapshot publisher thread and the main window together; all the parts live in
// meshscope_core and meshscope_ui.

#include "darktheme.h"
#include "dashboardoptions.h"
#include "demoprocess.h"
#include "graph/graphaggregator.h"
#include "graphcanvas.h"
#include "mainwindow.h"
#include "publisherthread.h"
#include "telemetry/alsreceiver.h"
#include "telemetry/otlpreceiver.h"
#include "telemetry/prometheussource.h"

#include <QApplication>
#include <QTimer>
#include <QUrl>

#include <atomic>
#include <csignal>
#include <memory>
#include <cstdio>

// packaging/CMakeLists.txt passes the project version; a bare compile still works.
#ifndef MESHSCOPE_VERSION_STRING
#define MESHSCOPE_VERSION_STRING "unknown"
#endif

namespace {

std::atomic<bool> g_interrupted{false};

constexpr int kDemoRate = 40;
const QSize kScreenshotSize(1600, 1000);

}  // namespace

int main(int argc, char **argv)
{
    using namespace meshscope;
    // Options first: a bad command line must fail with a one-line reason even where
    // no display is available to create the application on.
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    DashboardOptions opts;
    if (const QString err = DashboardOptions::parse(args, &opts); !err.isEmpty()) {
        std::fprintf(stderr, "meshscope: %s\n", qPrintable(err));
        return 2;
    }
    if (opts.help) {
        std::fputs(qPrintable(DashboardOptions::usage()), stdout);
        return 0;
    }

    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("meshscope"));
    QCoreApplication::setApplicationName(QStringLiteral("meshscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MESHSCOPE_VERSION_STRING));
    QGuiApplication::setDesktopFileName(QStringLiteral("meshscope"));
    applyDarkTheme(app);

    GraphAggregator aggregator;
    OtlpReceiverConfig receiverConfig;
    // The demo gets an ephemeral port so it never collides with a real collector on 4317.
    receiverConfig.listenAddress = (opts.demo && !opts.otlpListenGiven ? QStringLiteral("127.0.0.1:0") : opts.otlpListen).toStdString();
    OtlpReceiver receiver(aggregator, receiverConfig);

    const bool screenshot = !opts.screenshotFile.isEmpty();
    MainWindow window(&aggregator, opts.workspace);
    window.setDemoMode(opts.demo);
    if (screenshot) {
        // Screenshots are reproducible: a fixed size and none of the user's saved layout.
        window.setPersistenceEnabled(false);
        window.resize(kScreenshotSize);
    } else {
        window.restoreSettings();
    }

    // Binding happens once, before the event loop; from then on gRPC's threads do the network work.
    std::string bindError;
    if (receiver.start(&bindError)) {
        std::fprintf(stderr, "meshscope: listening for OTLP on %s\n", receiver.boundAddress().c_str());
    } else {
        std::fprintf(stderr, "meshscope: %s\n", bindError.c_str());
        window.reportSourceError(QString::fromStdString(bindError));
    }

    QStringList listening;
    if (receiver.running())
        listening << QStringLiteral("OTLP %1").arg(QString::fromStdString(receiver.boundAddress()));
    std::unique_ptr<AlsReceiver> als;
    if (!opts.alsListen.isEmpty()) {
        AlsReceiverConfig ac;
        ac.listenAddress = opts.alsListen.toStdString();
        als = std::make_unique<AlsReceiver>(aggregator, ac);
        std::string alsError;
        if (als->start(&alsError)) {
            listening << QStringLiteral("ALS %1").arg(QString::fromStdString(als->boundAddress()));
            std::fprintf(stderr, "meshscope: listening for Envoy access logs on %s\n", als->boundAddress().c_str());
        } else {
            std::fprintf(stderr, "meshscope: %s\n", alsError.c_str());
            window.reportSourceError(QString::fromStdString(alsError));
        }
    }
    window.setListenDescription(listening.join(QLatin1String(" · ")));

    // Prometheus polls on its own worker thread; its state shows in the status bar.
    std::unique_ptr<PrometheusSource> prometheus;
    if (!opts.prometheusUrl.isEmpty()) {
        PrometheusSourceConfig pc;
        pc.server.url = QUrl::fromUserInput(opts.prometheusUrl);
        pc.server.bearerToken = opts.prometheusToken;
        prometheus = std::make_unique<PrometheusSource>(aggregator, pc);
        QObject::connect(prometheus.get(), &PrometheusSource::stateChanged, &window,
                         [&window, listening, last = PrometheusSource::State::Stopped](
                             PrometheusSource::State state, const QString &message, int) mutable {
                             QStringList parts = listening;
                             parts << QStringLiteral("Prometheus: %1").arg(QString::fromLatin1(PrometheusSource::stateName(state)));
                             window.setListenDescription(parts.join(QLatin1String(" · ")));
                             const bool bad = state == PrometheusSource::State::Failed || state == PrometheusSource::State::Retrying;
                             const bool wasBad = last == PrometheusSource::State::Failed || last == PrometheusSource::State::Retrying;
                             if (bad && !wasBad)
                                 window.reportSourceError(message);
                             last = state;
                         });
        prometheus->start();
    }

    PublisherThread publisher(aggregator);
    QObject::connect(&publisher, &PublisherThread::snapshotReady, &window, &MainWindow::applySnapshot);
    publisher.start();

    DemoProcess demo;
    QObject::connect(&demo, &DemoProcess::failed, &window, &MainWindow::reportSourceError);
    if (opts.demo) {
        if (!receiver.running())
            window.reportSourceError(QObject::tr("demo mesh not started: the receiver is not listening"));
        else if (!demo.start(QString::fromStdString(receiver.boundAddress()), kDemoRate))
            window.reportSourceError(demo.error());
    }

    if (screenshot) {
        const int after = opts.screenshotAfterMs;
        // Select (and frame the graph) a little before the shot, so the panel has filled
        // in and the canvas has painted the selection by then.
        const int selectAt = after >= 3000 ? after - 2000 : after / 2;
        QTimer::singleShot(selectAt, &window, [&window, &opts] {
            if (!opts.screenshotSelect.isEmpty() && window.selectNode(opts.screenshotSelect).isEmpty())
                std::fprintf(stderr, "meshscope: --screenshot-select: no node matches '%s'\n",
                             qPrintable(opts.screenshotSelect));
            window.canvas()->fitToView();
        });
        QTimer::singleShot(after, &window, [&window, &opts] {
            QString error;
            if (!window.saveScreenshot(opts.screenshotFile, &error)) {
                std::fprintf(stderr, "meshscope: %s\n", qPrintable(error));
                QCoreApplication::exit(1);
                return;
            }
            const QSize size = window.grab().size();
            std::fprintf(stdout, "meshscope: wrote %s (%dx%d)\n", qPrintable(opts.screenshotFile), size.width(),
                         size.height());
            std::fflush(stdout);
            QCoreApplication::exit(0);
        });
    }

    // Ctrl+C or a service manager's TERM ends the session cleanly (the demo child included).
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    std::signal(SIGTERM, [](int) { g_interrupted = true; });
    QTimer signalPoll;
    QObject::connect(&signalPoll, &QTimer::timeout, &app, [&window] {
        if (g_interrupted)
            window.close();
    });
    signalPoll.start(100);
    QObject::connect(&app, &QApplication::lastWindowClosed, &app, &QCoreApplication::quit);

    window.show();
    const int rc = app.exec();

    demo.stop();
    if (prometheus)
        prometheus->stop();
    publisher.stop();
    receiver.stop();
    if (als)
        als->stop();
    return rc;
}

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
#include "routeeditor.h"
#include "routingcontroller.h"
#include "telemetry/envoyadminsource.h"
#include "telemetry/alsreceiver.h"
#include "telemetry/otlpreceiver.h"
#include "telemetry/prometheussource.h"

#include <QApplication>
#include <QStandardPaths>
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
    window.setListenDescription(listening.join(QStringLiteral(" · ")));

    // Pulled sources poll on their own worker threads; their states show in the status bar.
    QStringList pulledStates;
    auto showSourceState = [&window, &listening, &pulledStates](int slot, const QString &label, const char *state,
                                                               bool bad, bool wasBad, const QString &message) {
        pulledStates[slot] = QStringLiteral("%1: %2").arg(label, QString::fromLatin1(state));
        window.setListenDescription((listening + pulledStates).join(QStringLiteral(" · ")));
        if (bad && !wasBad)
            window.reportSourceError(message);
    };
    std::unique_ptr<PrometheusSource> prometheus;
    if (!opts.prometheusUrl.isEmpty()) {
        PrometheusSourceConfig pc;
        pc.server.url = QUrl::fromUserInput(opts.prometheusUrl);
        pc.server.bearerToken = opts.prometheusToken;
        prometheus = std::make_unique<PrometheusSource>(aggregator, pc);
        const int slot = int(pulledStates.size());
        pulledStates << QString();
        QObject::connect(prometheus.get(), &PrometheusSource::stateChanged, &window,
                         [showSourceState, slot, last = PrometheusSource::State::Stopped](
                             PrometheusSource::State state, const QString &message, int) mutable {
                             auto isBad = [](PrometheusSource::State s) {
                                 return s == PrometheusSource::State::Failed || s == PrometheusSource::State::Retrying;
                             };
                             showSourceState(slot, QStringLiteral("Prometheus"), PrometheusSource::stateName(state),
                                             isBad(state), isBad(last), message);
                             last = state;
                         });
        prometheus->start();
    }
    std::unique_ptr<EnvoyAdminSource> envoyAdmin;
    if (!opts.envoyAdminUrl.isEmpty()) {
        EnvoyAdminSourceConfig ec;
        ec.admin.url = QUrl::fromUserInput(opts.envoyAdminUrl);
        ec.proxyName = opts.envoyAdminName;
        envoyAdmin = std::make_unique<EnvoyAdminSource>(aggregator, ec);
        const int slot = int(pulledStates.size());
        pulledStates << QString();
        QObject::connect(envoyAdmin.get(), &EnvoyAdminSource::stateChanged, &window,
                         [showSourceState, slot, last = EnvoyAdminSource::State::Stopped](
                             EnvoyAdminSource::State state, const QString &message, int) mutable {
                             auto isBad = [](EnvoyAdminSource::State s) {
                                 return s == EnvoyAdminSource::State::Failed || s == EnvoyAdminSource::State::Retrying;
                             };
                             showSourceState(slot, QStringLiteral("Envoy admin"), EnvoyAdminSource::stateName(state),
                                             isBad(state), isBad(last), message);
                             last = state;
                         });
        envoyAdmin->start();
    }

    // The control plane and its route editor, when meshscope serves routes itself.
    std::unique_ptr<RoutingController> routing;
    if (!opts.xdsListen.isEmpty()) {
        auto *editor = new RouteEditor;
        window.setRouteEditor(editor);
        const QString historyDir =
            QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/history");
        routing = std::make_unique<RoutingController>(editor, opts.xdsListen, opts.routesFile, historyDir);
        QString routingError;
        if (routing->start(&routingError)) {
            listening << QStringLiteral("xDS %1").arg(routing->boundAddress());
            window.setListenDescription((listening + pulledStates).join(QStringLiteral(" · ")));
            std::fprintf(stderr, "meshscope: serving xDS on %s\n", qPrintable(routing->boundAddress()));
        } else {
            std::fprintf(stderr, "meshscope: %s\n", qPrintable(routingError));
            window.reportSourceError(routingError);
        }
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
    if (envoyAdmin)
        envoyAdmin->stop();
    if (routing)
        routing->stop();
    publisher.stop();
    receiver.stop();
    if (als)
        als->stop();
    return rc;
}

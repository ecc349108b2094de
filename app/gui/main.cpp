// meshscope: the desktop dashboard. Wires the sources, the shared aggregator, the
// snapshot publisher thread and the main window together; all the parts live in
// meshscope_core and meshscope_ui.

#include "canvas/graphcanvas.h"
#include "commandline.h"
#include "darktheme.h"
#include "dashboardoptions.h"
#include "demoprocess.h"
#include "englishplurals.h"
#include "graph/graphaggregator.h"
#include "mainwindow.h"
#include "publisherthread.h"
#include "routing/routeeditor.h"
#include "routing/routehistory.h"
#include "routing/routingcontroller.h"
#include "session/sessionrecorder.h"
#include "sources/secretstore.h"
#include "sources/sourcemanager.h"
#include "traces/tracestore.h"
#include "traces/tracestoresink.h"

#include <QApplication>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>

namespace {

std::atomic<bool> g_interrupted {false};

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
    if (opts.version) {
        std::printf("meshscope %s\n", qPrintable(appVersion()));
        return 0;
    }

    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("meshscope"));
    QCoreApplication::setApplicationName(QStringLiteral("meshscope"));
    QCoreApplication::setApplicationVersion(appVersion());
    QGuiApplication::setDesktopFileName(QStringLiteral("meshscope"));
    applyDarkTheme(app);
    EnglishPlurals plurals;
    QCoreApplication::installTranslator(&plurals);

    // The dashboard keeps the last hour, second by second, for the timeline.
    AggregatorConfig aggregatorConfig;
    aggregatorConfig.keepHistory = true;
    GraphAggregator aggregator(aggregatorConfig);
    const bool screenshot = !opts.screenshotFile.isEmpty();
    MainWindow window(&aggregator, opts.workspace);
    window.setDemoMode(opts.demo);
    if (screenshot) {
        // Screenshots are reproducible: a fixed size and none of the user's saved layout or sources.
        window.setPersistenceEnabled(false);
        window.resize(kScreenshotSize);
    } else {
        window.restoreSettings();
    }

    // Every source, from the command line or saved in the workspace, runs through one
    // manager: receivers bind here, before the event loop; pulled sources poll on their
    // own threads. Their states show in the status bar and in Sources > Connections.
    SecretStore secrets;
    // Every span is kept for the trace view: sources deliver to the recorder (which
    // also writes to a file while File > Record runs), then to the store, which hands
    // each batch on to the aggregator.
    TraceStore traces;
    TraceStoreSink keep(traces, aggregator);
    SessionRecorder ingest(keep);
    SourceManager sources(aggregator);
    sources.setIngestSink(&ingest);
    window.setSourceManager(&sources);
    window.setTraceStore(&traces);
    window.setSessionRecorder(&ingest);
    // A recording also says when sources came, failed and recovered.
    QObject::connect(&sources, &SourceManager::statusChanged, &window, [&sources, &ingest](const QString &id) {
        if (!ingest.isRecording())
            return;
        const SourceManager::Status s = sources.status(id);
        // By the name the status bar shows, which the recording's timeline marks.
        const QString name = sources.contains(id) ? sources.spec(id).displayName() : id;
        ingest.recordSourceState(name.toStdString(),
            std::string(SourceManager::stateName(s.state))
                + (s.message.isEmpty() ? "" : ": " + s.message.toStdString()),
            GraphAggregator::wallNowMs());
    });
    if (!screenshot) {
        sources.setPersistence(opts.workspace, &secrets);
        sources.loadSaved();
    }
    const QList<SourceSpec> saved = sources.specs();
    const bool savedOtlp = std::any_of(saved.begin(), saved.end(),
        [](const SourceSpec &s) { return s.kind == SourceSpec::Kind::OtlpReceiver && s.enabled; });
    // Command-line sources run for this session only, with fixed ids so a restart
    // of the same command line refers to the same sources.
    auto addFromCommandLine = [&](const QString &id, SourceSpec::Kind kind, const QString &address,
                                  const std::function<void(SourceSpec &)> &settings) {
        SourceSpec spec;
        spec.id = id;
        spec.kind = kind;
        spec.address = address;
        spec.fromCommandLine = true;
        settings(spec);
        if (const QString error = sources.upsert(spec); !error.isEmpty()) {
            std::fprintf(stderr, "meshscope: %s\n", qPrintable(error));
            window.reportSourceError(error);
        } else if (spec.isReceiver()) {
            std::fprintf(stderr, "meshscope: %s: %s\n", qPrintable(SourceSpec::kindLabel(spec.kind)),
                qPrintable(sources.status(spec.id).message));
        }
    };
    auto receiverTls = [&opts](SourceSpec &s) { s.tlsServer = opts.receiverTls; };
    // The demo gets an ephemeral port so it never collides with a real collector on 4317;
    // a workspace that saved its own OTLP receiver does without the default one.
    const QString cliOtlpId = QStringLiteral("cmdline-otlp");
    if (opts.demo || opts.otlpListenGiven || !savedOtlp)
        addFromCommandLine(cliOtlpId, SourceSpec::Kind::OtlpReceiver,
            opts.demo && !opts.otlpListenGiven ? QStringLiteral("127.0.0.1:0") : opts.otlpListen, receiverTls);
    if (!opts.alsListen.isEmpty()) {
        addFromCommandLine(
            QStringLiteral("cmdline-als"), SourceSpec::Kind::AlsReceiver, opts.alsListen, [&opts](SourceSpec &s) {
                s.tlsServer = opts.receiverTls;
                s.requestIdTraces = opts.alsRequestIdTraces;
            });
    }
    if (!opts.prometheusUrl.isEmpty()) {
        addFromCommandLine(QStringLiteral("cmdline-prometheus"), SourceSpec::Kind::Prometheus, opts.prometheusUrl,
            [&opts](SourceSpec &s) {
                s.tlsClient = opts.prometheusTls;
                s.mesh = opts.mesh;
                if (!opts.prometheusToken.isEmpty()) {
                    s.auth = SourceSpec::Auth::Bearer;
                    s.secret = opts.prometheusToken;
                } else if (!opts.prometheusUser.isEmpty()) {
                    s.auth = SourceSpec::Auth::Basic;
                    s.username = opts.prometheusUser;
                    s.secret = opts.prometheusPassword;
                }
            });
    }
    if (!opts.envoyAdminUrl.isEmpty()) {
        addFromCommandLine(QStringLiteral("cmdline-envoy-admin"), SourceSpec::Kind::EnvoyAdmin, opts.envoyAdminUrl,
            [&opts](SourceSpec &s) {
                s.tlsClient = opts.envoyAdminTls;
                s.proxyName = opts.envoyAdminName;
            });
    }
    QStringList listening;

    // The route editor and its target: meshscope's own xDS control plane, or a Caddy
    // server's routes behind its admin API (pulled and applied without blocking).
    std::unique_ptr<RoutingController> routing;
    if (!opts.xdsListen.isEmpty() || !opts.caddyAdminUrl.isEmpty()) {
        auto *editor = new RouteEditor;
        window.setRouteEditor(editor);
        const QString historyDir = QString::fromStdString(routing::defaultRouteHistoryDirectory());
        if (!opts.caddyAdminUrl.isEmpty()) {
            routing::CaddyAdminConfig caddy;
            caddy.url = QUrl(opts.caddyAdminUrl);
            caddy.tls = opts.caddyTls;
            routing = std::make_unique<RoutingController>(editor, caddy, opts.caddyServer, historyDir);
        } else {
            routing = std::make_unique<RoutingController>(editor, opts.xdsListen, opts.routesFile, historyDir);
        }
        // A recording keeps every route change that took effect, with its version; the
        // window's timeline marks it.
        QObject::connect(routing.get(), &RoutingController::routesApplied, &window,
            [&ingest](quint64 version, const QString &target, const QString &yaml) {
                ingest.recordRouteApply(
                    version, target.toStdString(), yaml.toStdString(), GraphAggregator::wallNowMs());
            });
        window.followRouting(routing.get());
        QString routingError;
        if (!routing->start(&routingError)) {
            std::fprintf(stderr, "meshscope: %s\n", qPrintable(routingError));
            window.reportSourceError(routingError);
        } else if (routing->kind() == RoutingController::Kind::Caddy) {
            std::fprintf(stderr, "meshscope: editing the routes of Caddy server '%s' at %s\n",
                qPrintable(opts.caddyServer), qPrintable(routing->caddyAdmin()->displayUrl()));
            listening << QStringLiteral("Caddy %1 at %2").arg(opts.caddyServer, routing->caddyAdmin()->displayUrl());
            window.setListenDescription(listening.join(QStringLiteral(" · ")));
        } else {
            listening << QStringLiteral("xDS %1").arg(routing->boundAddress());
            window.setListenDescription(listening.join(QStringLiteral(" · ")));
            std::fprintf(stderr, "meshscope: serving xDS on %s\n", qPrintable(routing->boundAddress()));
        }
        // Opened to edit routes: the editor comes first unless there is a demo mesh to inspect.
        if (!opts.demo)
            window.raiseRouteEditor();
    }

    PublisherThread publisher(aggregator);
    QObject::connect(&publisher, &PublisherThread::snapshotReady, &window, &MainWindow::applySnapshot);
    publisher.start();

    DemoProcess demo;
    QObject::connect(&demo, &DemoProcess::failed, &window, &MainWindow::reportSourceError);
    if (opts.demo) {
        const QString demoTarget = sources.status(cliOtlpId).boundAddress;
        if (demoTarget.isEmpty())
            window.reportSourceError(QObject::tr("demo mesh not started: the receiver is not listening"));
        else if (!demo.start(demoTarget, kDemoRate))
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
            std::fprintf(
                stdout, "meshscope: wrote %s (%dx%d)\n", qPrintable(opts.screenshotFile), size.width(), size.height());
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
            window.closeWithoutAsking();  // no question a terminal or service manager cannot answer
    });
    signalPoll.start(100);
    QObject::connect(&app, &QApplication::lastWindowClosed, &app, &QCoreApplication::quit);

    window.show();
    const int rc = app.exec();

    demo.stop();
    sources.stopAll();
    if (routing)
        routing->stop();
    publisher.stop();
    return rc;
}

#include "mainwindow.h"

#include "model/nodeid.h"

#include "canvas/graphcanvas.h"
#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "graph/graphexport.h"
#include "inspect/inspectpanel.h"
#include "inspect/requestspanel.h"
#include "noticebar.h"
#include "routing/routeeditor.h"
#include "sources/connectionsdialog.h"
#include "sources/sourcemanager.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QImageWriter>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QSettings>
#include <QShortcut>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTextDocumentFragment>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

// meshscope_ui is a static library, so its resources (the icon) are registered by
// hand, once, before the first window needs them. Q_INIT_RESOURCE must be called
// outside any namespace.
static void initUiResources()
{
    static const bool once = [] {
        Q_INIT_RESOURCE(meshscope);
        return true;
    }();
    Q_UNUSED(once);
}

namespace meshscope {

namespace {

constexpr int kStatusRefreshMs = 500;
constexpr int kDefaultInspectWidth = 470;
constexpr int kDefaultRequestsHeight = 250;

QSettings workspaceSettings() { return QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope")); }

QString exportSuffix(MainWindow::ExportFormat f)
{
    switch (f) {
    case MainWindow::ExportFormat::Png: return QStringLiteral("png");
    case MainWindow::ExportFormat::Svg: return QStringLiteral("svg");
    case MainWindow::ExportFormat::Json: return QStringLiteral("json");
    case MainWindow::ExportFormat::Dot: return QStringLiteral("dot");
    }
    return {};
}

bool writeFile(const QString &fileName, const QByteArray &bytes, QString *error)
{
    QSaveFile f(fileName);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(fileName, f.errorString());
        return false;
    }
    return true;
}

}  // namespace

MainWindow::MainWindow(GraphAggregator *aggregator, const QString &workspace, QWidget *parent)
    : QMainWindow(parent)
    , m_aggregator(aggregator)
    , m_workspace(workspace.isEmpty() ? QStringLiteral("default") : workspace)
    , m_canvas(new GraphCanvas)
    , m_notice(new NoticeBar)
    , m_inspect(new InspectPanel(aggregator))
    , m_requests(new RequestsPanel(aggregator))
    , m_statusTimer(new QTimer(this))
    , m_saveTimer(new QTimer(this))
{
    initUiResources();
    setObjectName(QStringLiteral("meshscopeMainWindow"));
    setWindowTitle(m_workspace == QLatin1String("default") ? tr("meshscope") : tr("meshscope — %1").arg(m_workspace));
    setWindowIcon(QIcon(QStringLiteral(":/meshscope/icon.svg")));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::TopRightCorner, Qt::RightDockWidgetArea);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_notice);
    m_canvas->setObjectName(QStringLiteral("graphCanvas"));
    layout->addWidget(m_canvas, 1);
    setCentralWidget(central);

    buildActions();
    buildToolBar();
    buildMenus();
    buildDocks();
    buildStatusBar();

    connect(m_canvas, &GraphCanvas::nodeClicked, this, &MainWindow::onNodeClicked);
    connect(m_canvas, &GraphCanvas::edgeClicked, this, &MainWindow::onEdgeClicked);
    connect(m_canvas, &GraphCanvas::selectionCleared, this, &MainWindow::onSelectionCleared);
    connect(m_canvas, &GraphCanvas::nodeContextMenuRequested, this, &MainWindow::onNodeContextMenu);
    connect(m_canvas, &GraphCanvas::pinnedPositionsChanged, this, &MainWindow::scheduleSave);
    connect(m_inspect, &InspectPanel::nodeActivated, this, [this](const QString &id) { selectNode(id); });

    m_statusTimer->setInterval(kStatusRefreshMs);
    connect(m_statusTimer, &QTimer::timeout, this, &MainWindow::refreshStatus);
    m_statusTimer->start();
    // Dragging a node emits a burst of changes; write settings once it settles.
    m_saveTimer->setSingleShot(true);
    m_saveTimer->setInterval(1000);
    connect(m_saveTimer, &QTimer::timeout, this, &MainWindow::saveSettings);

    resize(1440, 900);
    resizeDocks({m_inspectDock}, {kDefaultInspectWidth}, Qt::Horizontal);
    resizeDocks({m_requestsDock}, {kDefaultRequestsHeight}, Qt::Vertical);
    refreshStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    m_fitAction = new QAction(tr("Fit"), this);
    m_fitAction->setObjectName(QStringLiteral("fitAction"));
    m_fitAction->setToolTip(tr("Fit the whole graph in view (F)"));
    m_fitAction->setShortcut(QKeySequence(Qt::Key_F));
    connect(m_fitAction, &QAction::triggered, m_canvas, &GraphCanvas::fitToView);
    m_relayoutAction = new QAction(tr("Re-layout"), this);
    m_relayoutAction->setObjectName(QStringLiteral("relayoutAction"));
    m_relayoutAction->setToolTip(tr("Lay the graph out afresh; dragged nodes stay where they are (Ctrl+L)"));
    m_relayoutAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(m_relayoutAction, &QAction::triggered, this, [this] {
        m_canvas->relayout();
        m_canvas->fitToView();
    });

    m_findAction = new QAction(tr("Find"), this);
    m_findAction->setObjectName(QStringLiteral("findAction"));
    m_findAction->setShortcut(QKeySequence::Find);
    m_findAction->setToolTip(tr("Find a service by name or id (Ctrl+F)"));
    connect(m_findAction, &QAction::triggered, this, &MainWindow::openFind);

    // North-south only and east-west only exclude each other, but both may be off.
    auto *direction = new QActionGroup(this);
    direction->setExclusionPolicy(QActionGroup::ExclusionPolicy::ExclusiveOptional);
    m_northSouthOnly = new QAction(tr("North-south"), direction);
    m_northSouthOnly->setObjectName(QStringLiteral("northSouthOnlyAction"));
    m_northSouthOnly->setCheckable(true);
    m_northSouthOnly->setToolTip(tr("Only traffic entering or leaving the mesh (gateways, external)"));
    m_eastWestOnly = new QAction(tr("East-west"), direction);
    m_eastWestOnly->setObjectName(QStringLiteral("eastWestOnlyAction"));
    m_eastWestOnly->setCheckable(true);
    m_eastWestOnly->setToolTip(tr("Only service-to-service traffic inside the mesh"));
    m_errorsOnly = new QAction(tr("Errors only"), this);
    m_errorsOnly->setObjectName(QStringLiteral("errorsOnlyAction"));
    m_errorsOnly->setCheckable(true);
    m_errorsOnly->setToolTip(tr("Only nodes and edges with errors, and their endpoints"));
    for (QAction *a : {m_northSouthOnly, m_eastWestOnly, m_errorsOnly})
        connect(a, &QAction::toggled, this, &MainWindow::applyFilter);

    m_animation = new QAction(tr("Animate"), this);
    m_animation->setObjectName(QStringLiteral("animationAction"));
    m_animation->setCheckable(true);
    m_animation->setChecked(m_canvas->animationEnabled());
    m_animation->setToolTip(tr("Animate traffic along the edges"));
    connect(m_animation, &QAction::toggled, this, [this](bool on) {
        m_canvas->setAnimationEnabled(on);
        scheduleSave();
    });

    m_exportPng = new QAction(tr("Image (PNG)…"), this);
    m_exportSvg = new QAction(tr("Vector image (SVG)…"), this);
    m_exportJson = new QAction(tr("Graph as JSON…"), this);
    m_exportDot = new QAction(tr("Graph as Graphviz DOT…"), this);
    connect(m_exportPng, &QAction::triggered, this, [this] { exportWithDialog(ExportFormat::Png); });
    connect(m_exportSvg, &QAction::triggered, this, [this] { exportWithDialog(ExportFormat::Svg); });
    connect(m_exportJson, &QAction::triggered, this, [this] { exportWithDialog(ExportFormat::Json); });
    connect(m_exportDot, &QAction::triggered, this, [this] { exportWithDialog(ExportFormat::Dot); });
}

void MainWindow::buildToolBar()
{
    QToolBar *bar = addToolBar(tr("Graph"));
    bar->setObjectName(QStringLiteral("graphToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    bar->addAction(m_fitAction);
    bar->addAction(m_relayoutAction);
    bar->addAction(m_findAction);
    bar->addSeparator();

    auto *filterLabel = new QLabel(tr("Show:"), bar);
    filterLabel->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(filterLabel);
    bar->addAction(m_northSouthOnly);
    bar->addAction(m_eastWestOnly);
    bar->addAction(m_errorsOnly);
    m_namespaceCombo = new QComboBox(bar);
    m_namespaceCombo->setObjectName(QStringLiteral("namespaceCombo"));
    m_namespaceCombo->setToolTip(tr("Show one namespace (and what it talks to)"));
    m_namespaceCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_namespaceCombo->setMinimumContentsLength(14);
    m_namespaceCombo->addItem(tr("All namespaces"), QString());
    // Programmatic refills run under a QSignalBlocker, so this fires for user choices only.
    connect(m_namespaceCombo, &QComboBox::currentIndexChanged, this, [this] {
        m_savedNamespace = m_namespaceCombo->currentData().toString();
        applyFilter();
    });
    bar->addWidget(m_namespaceCombo);
    bar->addSeparator();

    auto *labelLabel = new QLabel(tr("Edge labels:"), bar);
    labelLabel->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(labelLabel);
    m_edgeLabelCombo = new QComboBox(bar);
    m_edgeLabelCombo->setObjectName(QStringLiteral("edgeLabelCombo"));
    m_edgeLabelCombo->setToolTip(tr("What the edges say"));
    m_edgeLabelCombo->addItem(tr("Requests/s"), int(GraphCanvas::EdgeLabel::Rps));
    m_edgeLabelCombo->addItem(tr("Error %"), int(GraphCanvas::EdgeLabel::ErrorRate));
    m_edgeLabelCombo->addItem(tr("p95 latency"), int(GraphCanvas::EdgeLabel::P95));
    m_edgeLabelCombo->addItem(tr("None"), int(GraphCanvas::EdgeLabel::None));
    // Request rates on the edges are what an operator reads first (Kiali's default too).
    m_canvas->setEdgeLabel(GraphCanvas::EdgeLabel::Rps);
    m_edgeLabelCombo->setCurrentIndex(m_edgeLabelCombo->findData(int(GraphCanvas::EdgeLabel::Rps)));
    connect(m_edgeLabelCombo, &QComboBox::currentIndexChanged, this, [this] {
        m_canvas->setEdgeLabel(GraphCanvas::EdgeLabel(m_edgeLabelCombo->currentData().toInt()));
        scheduleSave();
    });
    bar->addWidget(m_edgeLabelCombo);
    bar->addAction(m_animation);
    bar->addSeparator();

    auto *exportButton = new QToolButton(bar);
    exportButton->setObjectName(QStringLiteral("exportButton"));
    exportButton->setText(tr("Export ▾"));
    exportButton->setToolTip(tr("Save the graph as an image or as data"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(exportButton);
    menu->addAction(m_exportPng);
    menu->addAction(m_exportSvg);
    menu->addSeparator();
    menu->addAction(m_exportJson);
    menu->addAction(m_exportDot);
    exportButton->setMenu(menu);
    bar->addWidget(exportButton);

    // The find field lives at the end so that opening it does not shift other buttons.
    m_findEdit = new QLineEdit(bar);
    m_findEdit->setObjectName(QStringLiteral("findField"));
    m_findEdit->setPlaceholderText(tr("Find service… (Enter jumps, Esc closes)"));
    m_findEdit->setClearButtonEnabled(true);
    m_findEdit->setFixedWidth(280);
    connect(m_findEdit, &QLineEdit::returnPressed, this, &MainWindow::runFind);
    connect(m_findEdit, &QLineEdit::textEdited, this, [this] { m_findEdit->setStyleSheet(QString()); });
    auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), m_findEdit, nullptr, nullptr, Qt::WidgetShortcut);
    connect(escape, &QShortcut::activated, this, [this] {
        m_findFieldAction->setVisible(false);
        m_canvas->setFocus();
    });
    auto *spacer = new QWidget(bar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    m_findFieldAction = bar->addWidget(m_findEdit);
    m_findFieldAction->setVisible(false);
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QMenu *exportMenu = file->addMenu(tr("&Export"));
    exportMenu->addAction(m_exportPng);
    exportMenu->addAction(m_exportSvg);
    exportMenu->addSeparator();
    exportMenu->addAction(m_exportJson);
    exportMenu->addAction(m_exportDot);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_fitAction);
    view->addAction(m_relayoutAction);
    view->addAction(m_findAction);
    view->addSeparator();
    view->addAction(m_northSouthOnly);
    view->addAction(m_eastWestOnly);
    view->addAction(m_errorsOnly);
    view->addAction(m_animation);
    view->setObjectName(QStringLiteral("viewMenu"));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->setObjectName(QStringLiteral("helpMenu"));
    help->addAction(tr("&About meshscope"), this, [this] {
        QMessageBox::about(this, tr("About meshscope"),
            tr("<b>meshscope</b> %1<br>Traffic inspection and topology for service meshes "
               "and API gateways.")
                .arg(QCoreApplication::applicationVersion()));
    });
}

void MainWindow::buildDocks()
{
    m_inspectDock = new QDockWidget(tr("Inspect"), this);
    m_inspectDock->setObjectName(QStringLiteral("inspectDock"));
    m_inspectDock->setFeatures(
        QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetFloatable);
    m_inspect->setObjectName(QStringLiteral("inspectPanel"));
    m_inspectDock->setWidget(m_inspect);
    addDockWidget(Qt::RightDockWidgetArea, m_inspectDock);

    m_requestsDock = new QDockWidget(tr("Live requests"), this);
    m_requestsDock->setObjectName(QStringLiteral("requestsDock"));
    m_requestsDock->setFeatures(m_inspectDock->features());
    m_requests->setObjectName(QStringLiteral("requestsPanel"));
    m_requestsDock->setWidget(m_requests);
    addDockWidget(Qt::BottomDockWidgetArea, m_requestsDock);

    if (QMenu *view = menuBar()->findChild<QMenu *>(QStringLiteral("viewMenu"))) {
        view->addSeparator();
        view->addAction(m_inspectDock->toggleViewAction());
        view->addAction(m_requestsDock->toggleViewAction());
    }
}

void MainWindow::setRouteEditor(RouteEditor *editor)
{
    if (m_routesDock || !editor)
        return;
    m_routeEditor = editor;
    m_routesDock = new QDockWidget(tr("Routes"), this);
    m_routesDock->setObjectName(QStringLiteral("routesDock"));
    m_routesDock->setFeatures(m_inspectDock->features());
    editor->setObjectName(QStringLiteral("routeEditor"));
    m_routesDock->setWidget(editor);
    addDockWidget(Qt::RightDockWidgetArea, m_routesDock);
    tabifyDockWidget(m_inspectDock, m_routesDock);
    m_inspectDock->raise();
    if (QMenu *view = menuBar()->findChild<QMenu *>(QStringLiteral("viewMenu")))
        view->addAction(m_routesDock->toggleViewAction());
    // The graph badges every service some rule routes to, as the edited routes stand.
    auto markRouted = [this] {
        QHash<QString, QString> routed;
        for (const QString &service : m_routeEditor->routedServices())
            routed.insert(service, m_routeEditor->routingSummary(service));
        m_canvas->setRoutedServices(routed);
    };
    connect(editor, &RouteEditor::routedServicesChanged, this, markRouted);
    connect(editor, &RouteEditor::editedChanged, this, markRouted);  // rule names and targets in the tooltip
    markRouted();
}

void MainWindow::buildStatusBar()
{
    auto make = [this](const QString &name) {
        auto *l = new QLabel(this);
        l->setObjectName(name);
        return l;
    };
    m_listenLabel = make(QStringLiteral("statusListen"));
    m_demoLabel = make(QStringLiteral("statusDemo"));
    m_demoLabel->setText(tr("Demo mesh"));
    m_demoLabel->setStyleSheet(QStringLiteral("QLabel { color: #0d1117; background: #58a6ff; border-radius: 3px;"
                                              " padding: 0 6px; font-weight: bold; }"));
    m_demoLabel->setToolTip(tr("Traffic comes from the built-in demo generator (meshscope-demo)"));
    m_demoLabel->hide();
    m_errorLabel = make(QStringLiteral("statusSourceError"));
    m_errorLabel->setStyleSheet(QStringLiteral("QLabel { color: #f85149; }"));
    m_errorLabel->hide();
    m_rateLabel = make(QStringLiteral("statusRate"));
    m_rateLabel->setToolTip(tr("Spans received per second, all sources"));
    m_graphLabel = make(QStringLiteral("statusGraph"));
    m_rejectLabel = make(QStringLiteral("statusRejected"));
    m_foldedLabel = make(QStringLiteral("statusFolded"));
    m_foldedLabel->setStyleSheet(QStringLiteral("QLabel { color: #d29922; }"));
    m_foldedLabel->hide();

    statusBar()->setSizeGripEnabled(true);
    statusBar()->addWidget(m_demoLabel);
    statusBar()->addWidget(m_listenLabel);
    statusBar()->addWidget(m_errorLabel, 1);
    statusBar()->addPermanentWidget(m_foldedLabel);
    statusBar()->addPermanentWidget(m_rejectLabel);
    statusBar()->addPermanentWidget(m_graphLabel);
    statusBar()->addPermanentWidget(m_rateLabel);
    m_listenLabel->setText(tr("No sources"));
}

void MainWindow::raiseRouteEditor()
{
    if (m_routesDock)
        m_routesDock->raise();
}

void MainWindow::setSourceManager(SourceManager *manager)
{
    if (m_sources || !manager)
        return;
    m_sources = manager;
    auto *menu = new QMenu(tr("&Sources"), this);
    menu->setObjectName(QStringLiteral("sourcesMenu"));
    QAction *connections = menu->addAction(tr("&Connections…"), this, [this] { openConnections(); });
    connections->setObjectName(QStringLiteral("connectionsAction"));
    connections->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    if (QMenu *help = menuBar()->findChild<QMenu *>(QStringLiteral("helpMenu")))
        menuBar()->insertMenu(help->menuAction(), menu);
    else
        menuBar()->addMenu(menu);

    m_sourcesLabel = new QLabel(this);
    m_sourcesLabel->setObjectName(QStringLiteral("statusSources"));
    m_sourcesLabel->setTextFormat(Qt::RichText);
    connect(m_sourcesLabel, &QLabel::linkActivated, this, [this](const QString &link) {
        ConnectionsDialog *d = openConnections();
        if (link.startsWith(QLatin1String("source:")))
            d->selectSource(link.mid(7));
    });
    statusBar()->insertWidget(1, m_sourcesLabel);
    if (m_listenLabel->text() == tr("No sources"))
        m_listenLabel->hide();
    connect(manager, &SourceManager::sourcesChanged, this, &MainWindow::refreshSources);
    connect(manager, &SourceManager::statusChanged, this, &MainWindow::refreshSources);
    connect(manager, &SourceManager::sourceFailed, this,
        [this](const QString &, const QString &message) { reportSourceError(message); });
    connect(manager, &SourceManager::secretProblem, this,
        [this](const QString &, const QString &message) { reportSourceError(message); });
    connect(manager, &SourceManager::upstreamHealthUpdated, m_inspect, &InspectPanel::setUpstreamHealth);
    refreshSources();
}

ConnectionsDialog *MainWindow::openConnections()
{
    if (!m_sources)
        return nullptr;
    if (!m_connections)
        m_connections = new ConnectionsDialog(m_sources, this);
    m_connections->show();
    m_connections->raise();
    m_connections->activateWindow();
    return m_connections;
}

void MainWindow::refreshSources()
{
    if (!m_sourcesLabel)
        return;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList parts, tips;
    for (const SourceSpec &s : m_sources->specs()) {
        const SourceManager::Status st = m_sources->status(s.id);
        if (st.state == SourceManager::State::Disabled)
            continue;
        const QString color = sourceColor(st, now);
        QString text = m_sources->statusText(s.id);
        QString tip = s.displayName() + QStringLiteral(": ") + st.message;
        if (!st.serverCertificate.isNull()) {
            tip += QStringLiteral("\n    ") + st.serverCertificate.summary(now);
            if (st.serverCertificate.expired(now))
                text += tr(" · certificate expired");
            else if (st.serverCertificate.expiresSoon(now))
                text += tr(" · certificate expires in %1")
                            .arg(display::quantity(st.serverCertificate.daysLeft(now), tr("day"), tr("days")));
        }
        parts << QStringLiteral("<a href='source:%1' style='color:palette(window-text); text-decoration:none'>"
                                "<span style='color:%2'>●</span> %3</a>")
                     .arg(s.id, color, text.toHtmlEscaped());
        tips << tip;
    }
    if (parts.isEmpty())
        parts << tr("No sources · <a href='add' style='color:#58a6ff'>Connect…</a>");
    m_sourcesLabel->setText(parts.join(QStringLiteral(" &nbsp;")));
    m_sourcesLabel->setToolTip(tips.isEmpty() ? tr("Sources > Connections… adds one") : tips.join(QLatin1Char('\n')));
}

void MainWindow::setListenDescription(const QString &text)
{
    m_listenLabel->show();
    m_listenLabel->setText(QStringLiteral("<span style='color:#3fb950'>●</span> %1").arg(text.toHtmlEscaped()));
    m_listenLabel->setToolTip(tr("Receiving on %1").arg(text));
}

void MainWindow::reportSourceError(const QString &text)
{
    m_sourceErrors.append(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss ")) + text);
    while (m_sourceErrors.size() > 20)
        m_sourceErrors.removeFirst();
    m_errorLabel->setText(QStringLiteral("⚠ ") + text);
    m_errorLabel->setToolTip(m_sourceErrors.join(QLatin1Char('\n')));
    m_errorLabel->show();
    m_notice->showNotice(text);
}

void MainWindow::setDemoMode(bool demo) { m_demoLabel->setVisible(demo); }

void MainWindow::setPersistenceEnabled(bool on) { m_persist = on; }

QString MainWindow::statusText() const
{
    QStringList parts;
    for (QLabel *l : {m_demoLabel, m_sourcesLabel, m_listenLabel, m_errorLabel, m_foldedLabel, m_rejectLabel,
             m_graphLabel, m_rateLabel}) {
        if (l && !l->isHidden())
            parts << QTextDocumentFragment::fromHtml(l->text()).toPlainText();
    }
    return parts.join(QStringLiteral(" | "));
}

void MainWindow::applySnapshot(GraphSnapshotPtr snapshot)
{
    if (!snapshot)
        return;
    const bool first = !m_snapshot;
    m_snapshot = snapshot;
    m_canvas->setSnapshot(snapshot);
    // A live graph is discovered a few services at a time; laying out each arrival
    // stably would freeze the first, partial picture. So while the graph settles,
    // every change of its shape is laid out afresh (pinned nodes stay put).
    const int64_t now = GraphAggregator::wallNowMs();
    if (m_settleUntilMs == 0 && !snapshot->nodes.empty())
        m_settleUntilMs = now + kSettleMs;
    const std::pair<size_t, size_t> shape {snapshot->nodes.size(), snapshot->edges.size()};
    if (now < m_settleUntilMs && shape != m_settleShape && !m_canvas->isLayoutPending()) {
        m_settleShape = shape;
        m_canvas->relayout();
        m_canvas->fitToView();
    }
    m_inspect->setSnapshot(snapshot);
    refreshNamespaces();
    if (first)
        refreshStatus();
}

void MainWindow::refreshNamespaces()
{
    QStringList names = m_canvas->namespaces();
    // A namespace restored from settings stays selectable before its traffic shows up.
    if (!m_savedNamespace.isEmpty() && !names.contains(m_savedNamespace)) {
        names.append(m_savedNamespace);
        names.sort();
    }
    QStringList current;
    for (int i = 1; i < m_namespaceCombo->count(); ++i)
        current << m_namespaceCombo->itemData(i).toString();
    if (current == names)
        return;
    const QSignalBlocker block(m_namespaceCombo);
    while (m_namespaceCombo->count() > 1)
        m_namespaceCombo->removeItem(1);
    for (const QString &n : std::as_const(names))
        m_namespaceCombo->addItem(n, n);
    const int idx = m_namespaceCombo->findData(m_savedNamespace);
    m_namespaceCombo->setCurrentIndex(idx < 0 ? 0 : idx);
}

void MainWindow::applyFilter()
{
    GraphCanvas::Filter f;
    f.northSouth = !m_eastWestOnly->isChecked();
    f.eastWest = !m_northSouthOnly->isChecked();
    f.errorsOnly = m_errorsOnly->isChecked();
    f.ns = m_namespaceCombo->currentData().toString();
    m_canvas->setFilter(f);
    scheduleSave();
}

void MainWindow::refreshStatus()
{
    if (!m_snapshot) {
        m_rateLabel->setText(tr("0 spans/s in"));
        m_graphLabel->setText(tr("waiting for traffic"));
        m_rejectLabel->setText(tr("0 rejected"));
        return;
    }
    const GraphSnapshot &s = *m_snapshot;
    const IngestCounters &c = s.counters;
    if (m_rateSampleMs < 0 || s.timeMs < m_rateSampleMs) {
        m_rateSampleMs = s.timeMs;
        m_rateSampleSpans = c.spansReceived;
    } else if (s.timeMs - m_rateSampleMs >= 1000) {
        const double seconds = double(s.timeMs - m_rateSampleMs) / 1000.0;
        m_spansPerSecond = double(c.spansReceived - std::min(c.spansReceived, m_rateSampleSpans)) / seconds;
        m_rateSampleMs = s.timeMs;
        m_rateSampleSpans = c.spansReceived;
    }
    m_rateLabel->setText(tr("%1 spans/s in").arg(display::rps(m_spansPerSecond)));
    m_rateLabel->setToolTip(
        tr("Spans received per second, all sources\n%1 spans received, %2 accepted, %3 requests")
            .arg(display::count(c.spansReceived), display::count(c.spansAccepted), display::count(c.requests)));
    m_graphLabel->setText(tr("%1 nodes · %2 edges").arg(s.nodes.size()).arg(s.edges.size()));

    const uint64_t rejected = c.spansRejected + c.malformedMessages + c.oversizedMessages;
    m_rejectLabel->setText(tr("%1 rejected").arg(display::count(rejected)));
    m_rejectLabel->setStyleSheet(rejected ? QStringLiteral("QLabel { color: #d29922; }") : QString());
    QStringList why;
    why << tr("Rejected input (counted, never silently dropped):");
    why << tr("%1 spans rejected, %2 malformed messages, %3 oversized messages")
               .arg(display::count(c.spansRejected), display::count(c.malformedMessages),
                   display::count(c.oversizedMessages));
    for (const auto &[reason, n] : c.rejectionReasons)
        why << QStringLiteral("  %1: %2").arg(QString::fromStdString(reason), display::count(n));
    m_rejectLabel->setToolTip(why.join(QLatin1Char('\n')));

    m_foldedLabel->setVisible(c.foldedNodes > 0);
    if (c.foldedNodes > 0) {
        m_foldedLabel->setText(tr("%1 nodes folded into \"other\"").arg(display::count(c.foldedNodes)));
        m_foldedLabel->setToolTip(tr("Past the node limit new services are counted in the \"other\" node"));
    }
}

void MainWindow::openFind()
{
    m_findFieldAction->setVisible(true);
    m_findEdit->setFocus(Qt::ShortcutFocusReason);
    m_findEdit->selectAll();
}

void MainWindow::runFind()
{
    const QString text = m_findEdit->text().trimmed();
    if (text.isEmpty())
        return;
    const QString id = m_canvas->findNode(text);
    if (id.isEmpty()) {
        m_findEdit->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid #f85149; }"));
        statusBar()->showMessage(tr("No service matches \"%1\"").arg(text), 4000);
        return;
    }
    m_findEdit->setStyleSheet(QString());
    onNodeClicked(id);
}

QString MainWindow::selectNode(const QString &idOrText)
{
    // An id, else an exact name, selects without moving the view; anything else is
    // a search, which also centres the match.
    QString id;
    if (m_snapshot) {
        const std::string wanted = idOrText.toStdString();
        if (m_snapshot->node(wanted)) {
            id = idOrText;
        } else {
            for (const NodeSnapshot &n : m_snapshot->nodes) {
                if (QString::fromStdString(n.name).compare(idOrText, Qt::CaseInsensitive) == 0) {
                    id = QString::fromStdString(n.id);
                    break;
                }
            }
        }
    }
    if (!id.isEmpty())
        m_canvas->selectNode(id);
    else
        id = m_canvas->findNode(idOrText);
    if (!id.isEmpty())
        onNodeClicked(id);
    return id;
}

bool MainWindow::selectEdge(const QString &id)
{
    if (!m_snapshot || !m_snapshot->edge(id.toStdString()))
        return false;
    m_canvas->selectEdge(id);
    onEdgeClicked(id);
    return true;
}

void MainWindow::onNodeClicked(const QString &id)
{
    m_inspect->showNode(id);
    const NodeSnapshot *n = m_snapshot ? m_snapshot->node(id.toStdString()) : nullptr;
    m_requests->showNode(id, n ? QString::fromStdString(n->name) : display::nodeLabel(id.toStdString()));
    m_inspectDock->show();
}

void MainWindow::onEdgeClicked(const QString &id)
{
    m_inspect->showEdge(id);
    const EdgeSnapshot *e = m_snapshot ? m_snapshot->edge(id.toStdString()) : nullptr;
    QString source, target;
    if (e) {
        source = QString::fromStdString(e->source);
        target = QString::fromStdString(e->target);
    } else {
        EdgeEnds ends;
        if (parseEdgeId(id.toStdString(), &ends)) {
            source = QString::fromStdString(ends.source);
            target = QString::fromStdString(ends.target);
        } else {
            source = id;
        }
    }
    auto label = [this](const QString &nodeId) {
        const NodeSnapshot *n = m_snapshot ? m_snapshot->node(nodeId.toStdString()) : nullptr;
        return n ? QString::fromStdString(n->name) : display::nodeLabel(nodeId.toStdString());
    };
    m_requests->showEdge(source, target, label(source) + QStringLiteral(" → ") + label(target));
    m_inspectDock->show();
}

void MainWindow::onSelectionCleared()
{
    m_inspect->clear();
    m_requests->showAll();
}

void MainWindow::onNodeContextMenu(const QString &id, const QPoint &globalPos)
{
    QMenu menu(this);
    menu.addAction(tr("Inspect"), this, [this, id] { selectNode(id); });
    menu.addAction(tr("Copy node id"), this, [id] { QApplication::clipboard()->setText(id); });
    QHash<QString, QPointF> pinned = m_canvas->pinnedPositions();
    if (pinned.contains(id)) {
        menu.addAction(tr("Unpin position"), this, [this, id] {
            QHash<QString, QPointF> p = m_canvas->pinnedPositions();
            p.remove(id);
            m_canvas->setPinnedPositions(p);
            scheduleSave();
        });
    }
    if (!pinned.isEmpty()) {
        menu.addAction(tr("Unpin all nodes"), this, [this] {
            m_canvas->setPinnedPositions({});
            scheduleSave();
        });
    }
    if (m_routeEditor) {
        // The editor finds the route whose backends serve this node (or offers to create one).
        auto routeAction = [this, &menu, id](const QString &text, void (RouteEditor::*slot)(const QString &)) {
            menu.addAction(text, this, [this, id, slot] {
                m_routesDock->show();
                m_routesDock->raise();
                (m_routeEditor->*slot)(id);
            });
        };
        menu.addSeparator();
        routeAction(tr("Shift traffic..."), &RouteEditor::shiftTraffic);
        routeAction(tr("Add header route..."), &RouteEditor::addHeaderRoute);
        routeAction(tr("Inject fault..."), &RouteEditor::injectFault);
    }
    menu.exec(globalPos);
}

bool MainWindow::exportGraph(ExportFormat format, const QString &fileName, QString *error) const
{
    switch (format) {
    case ExportFormat::Png: {
        // The whole graph, at least twice the on-screen size so it stays legible when zoomed.
        const QSize size = (m_canvas->size() * 2).expandedTo(QSize(1600, 1000));
        const QImage image = m_canvas->renderImage(size);
        QImageWriter writer(fileName, "png");
        if (image.isNull() || !writer.write(image)) {
            if (error)
                *error = image.isNull() ? QStringLiteral("the graph could not be rendered")
                                        : QStringLiteral("cannot write %1: %2").arg(fileName, writer.errorString());
            return false;
        }
        return true;
    }
    case ExportFormat::Svg:
        if (!m_canvas->renderSvg(fileName)) {
            if (error)
                *error = QStringLiteral("cannot write %1").arg(fileName);
            return false;
        }
        return true;
    case ExportFormat::Json:
    case ExportFormat::Dot: {
        const GraphSnapshot empty;
        const GraphSnapshot &s = m_snapshot ? *m_snapshot : empty;
        return writeFile(fileName, format == ExportFormat::Json ? graphToJson(s) : graphToDot(s), error);
    }
    }
    return false;
}

void MainWindow::exportWithDialog(ExportFormat format)
{
    static const char *const filters[]
        = {"PNG image (*.png)", "SVG image (*.svg)", "Graph JSON (*.json)", "Graphviz DOT (*.dot *.gv)"};
    const QString suffix = exportSuffix(format);
    QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (dir.isEmpty())
        dir = QDir::homePath();
    const QString suggested = dir
        + QStringLiteral("/meshscope-%1-%2.%3")
              .arg(m_workspace, QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")), suffix);
    QString fileName
        = QFileDialog::getSaveFileName(this, tr("Export graph"), suggested, QLatin1String(filters[int(format)]));
    if (fileName.isEmpty())
        return;
    if (QFileInfo(fileName).suffix().isEmpty())
        fileName += QLatin1Char('.') + suffix;
    QString error;
    if (!exportGraph(format, fileName, &error)) {
        QMessageBox::warning(this, tr("Export failed"), error);
        return;
    }
    statusBar()->showMessage(tr("Exported to %1").arg(QDir::toNativeSeparators(fileName)), 5000);
}

bool MainWindow::saveScreenshot(const QString &fileName, QString *error)
{
    m_inspect->refresh();
    m_requests->pollNow();
    // Charts lay their axes out on the next turn of the event loop; let that happen
    // so the shot does not catch a half-updated axis.
    QCoreApplication::sendPostedEvents();
    QCoreApplication::processEvents();
    const QImage image = grab().toImage();
    QImageWriter writer(fileName, "png");
    if (image.isNull() || !writer.write(image)) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(fileName, writer.errorString());
        return false;
    }
    return true;
}

QString MainWindow::settingsGroup() const
{
    // Slashes would nest groups; a workspace is one level below "workspaces".
    QString name = m_workspace;
    name.replace(QLatin1Char('/'), QLatin1Char('_')).replace(QLatin1Char('\\'), QLatin1Char('_'));
    return QStringLiteral("workspaces/") + name;
}

void MainWindow::scheduleSave()
{
    if (m_persist)
        m_saveTimer->start();
}

void MainWindow::saveSettings() const
{
    if (!m_persist)
        return;
    QSettings s = workspaceSettings();
    s.beginGroup(settingsGroup());
    s.setValue(QStringLiteral("geometry"), saveGeometry());
    s.setValue(QStringLiteral("windowState"), saveState());
    s.setValue(QStringLiteral("filter/northSouthOnly"), m_northSouthOnly->isChecked());
    s.setValue(QStringLiteral("filter/eastWestOnly"), m_eastWestOnly->isChecked());
    s.setValue(QStringLiteral("filter/errorsOnly"), m_errorsOnly->isChecked());
    s.setValue(QStringLiteral("filter/namespace"), m_namespaceCombo->currentData().toString());
    s.setValue(QStringLiteral("edgeLabel"), m_edgeLabelCombo->currentData().toInt());
    s.setValue(QStringLiteral("animation"), m_animation->isChecked());
    QVariantMap pinned;
    const QHash<QString, QPointF> positions = m_canvas->pinnedPositions();
    for (auto it = positions.begin(); it != positions.end(); ++it)
        pinned.insert(it.key(), it.value());
    s.setValue(QStringLiteral("pinnedPositions"), pinned);
    s.endGroup();
}

void MainWindow::restoreSettings()
{
    if (!m_persist)
        return;
    QSettings s = workspaceSettings();
    s.beginGroup(settingsGroup());
    if (s.contains(QStringLiteral("geometry")))
        restoreGeometry(s.value(QStringLiteral("geometry")).toByteArray());
    if (s.contains(QStringLiteral("windowState")))
        restoreState(s.value(QStringLiteral("windowState")).toByteArray());
    {
        // Restoring fires toggled(); apply the filter once at the end instead.
        const QSignalBlocker b1(m_northSouthOnly), b2(m_eastWestOnly), b3(m_errorsOnly);
        m_northSouthOnly->setChecked(s.value(QStringLiteral("filter/northSouthOnly"), false).toBool());
        m_eastWestOnly->setChecked(
            !m_northSouthOnly->isChecked() && s.value(QStringLiteral("filter/eastWestOnly"), false).toBool());
        m_errorsOnly->setChecked(s.value(QStringLiteral("filter/errorsOnly"), false).toBool());
    }
    m_savedNamespace = s.value(QStringLiteral("filter/namespace")).toString();
    refreshNamespaces();
    if (s.contains(QStringLiteral("edgeLabel"))) {
        const int idx = m_edgeLabelCombo->findData(s.value(QStringLiteral("edgeLabel")).toInt());
        if (idx >= 0)
            m_edgeLabelCombo->setCurrentIndex(idx);
    }
    if (s.contains(QStringLiteral("animation")))
        m_animation->setChecked(s.value(QStringLiteral("animation")).toBool());
    QHash<QString, QPointF> pinned;
    const QVariantMap map = s.value(QStringLiteral("pinnedPositions")).toMap();
    for (auto it = map.begin(); it != map.end(); ++it)
        pinned.insert(it.key(), it.value().toPointF());
    if (!pinned.isEmpty())
        m_canvas->setPinnedPositions(pinned);
    s.endGroup();
    applyFilter();
    m_saveTimer->stop();  // nothing changed yet
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_saveTimer->stop();
    saveSettings();
    QMainWindow::closeEvent(event);
}

}  // namespace meshscope

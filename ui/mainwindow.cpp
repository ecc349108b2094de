#include "mainwindow.h"

#include "model/nodeid.h"

#include "backgroundjobs.h"
#include "canvas/graphcanvas.h"
#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "graph/graphexport.h"
#include "inspect/inspectpanel.h"
#include "inspect/linksdialog.h"
#include "inspect/requestspanel.h"
#include "net/libraryversions.h"
#include "noticebar.h"
#include "recordingsession.h"
#include "replay/recordedgraph.h"
#include "routing/models/xdsclientsmodel.h"
#include "routing/rolloutcontroller.h"
#include "routing/rolloutdialog.h"
#include "routing/routeactions.h"
#include "routing/routediff.h"
#include "routing/routediffview.h"
#include "routing/routeeditor.h"
#include "routing/routesplit.h"
#include "routing/routingcontroller.h"
#include "routing/whatifview.h"
#include "session/exportclipdialog.h"
#include "session/recordingreader.h"
#include "session/sessionrecorder.h"
#include "sources/connectionsdialog.h"
#include "sources/sourcemanager.h"
#include "timeline/graphdiffpanel.h"
#include "timeline/timelinestrip.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/tracejson.h"
#include "traces/tracepath.h"
#include "traces/tracesearchdialog.h"
#include "traces/tracestore.h"
#include "traces/tracetree.h"
#include "traces/traceview.h"
#include "traces/tracewindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageWriter>
#include <QInputDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSet>
#include <QSettings>
#include <QShortcut>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTableWidget>
#include <QTextBrowser>
#include <QTextDocumentFragment>
#include <QThreadPool>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include <map>
#include <memory>
#include <mutex>

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

// The open trace placed on the graph as shown: each call on its edge, in start order.
struct MainWindow::PlacedHop {
    GraphCanvas::TraceHopMark mark;
    uint64_t startNs = 0, endNs = 0;  // from the trace's start
    QString source, target;  // nodes as shown
};

struct MainWindow::TraceOnGraph {
    std::vector<PlacedHop> hops;
    QStringList nodes;  // every node the trace touched, first touch first
    QStringList missing;  // calls the graph has no edge for, in words
    uint64_t durationNs = 0;
};

struct MainWindow::TraceReplay {
    QPointer<TraceWindow> window;
    TraceOnGraph drawn;
    qint64 wallMs = 0;  // how long the whole replay takes
    QElapsedTimer clock;
    int shownHops = 0;
};

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

    // The canvas fills the centre alone; the notice bar and the empty-window guide lie
    // over it, so neither ever resizes it or moves its view.
    m_canvasArea = new QWidget(this);
    m_canvasArea->setObjectName(QStringLiteral("canvasArea"));
    auto *layout = new QVBoxLayout(m_canvasArea);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_canvas->setObjectName(QStringLiteral("graphCanvas"));
    layout->addWidget(m_canvas, 1);
    setCentralWidget(m_canvasArea);
    buildTimeline();
    buildEmptyGuide();
    m_notice->overlay(m_canvasArea);
    m_canvasArea->installEventFilter(this);
    m_notice->installEventFilter(this);

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
    applyDefaultDockSizes();
    refreshStatus();
}

MainWindow::~MainWindow()
{
    // A graph view still being worked out must not post to a destroyed window.
    if (m_viewJob) {
        std::lock_guard lock(m_viewJob->mutex);
        m_viewJob->cancelled = true;
    }
    // Trace windows go first, while the canvas they draw on is still here; the search
    // dialog too, while the trace store its search may still read is (a recording's
    // store goes with the window's other children).
    for (TraceView *view : findChildren<TraceView *>())
        delete view->window();
    delete m_traceSearch;
}

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

    // Graph types as Kiali has them; a service's versions are one node in the second.
    auto *graphType = new QActionGroup(this);
    m_workloadsAction = new QAction(tr("Workloads"), graphType);
    m_workloadsAction->setObjectName(QStringLiteral("workloadsGraphAction"));
    m_workloadsAction->setCheckable(true);
    m_workloadsAction->setChecked(true);
    m_workloadsAction->setToolTip(tr("One node per service version"));
    m_servicesAction = new QAction(tr("Services (versions merged)"), graphType);
    m_servicesAction->setObjectName(QStringLiteral("servicesGraphAction"));
    m_servicesAction->setCheckable(true);
    m_servicesAction->setToolTip(tr("One node per service, its versions' traffic added up"));
    connect(m_workloadsAction, &QAction::triggered, this, [this] { setGraphType(GraphType::Workloads); });
    connect(m_servicesAction, &QAction::triggered, this, [this] { setGraphType(GraphType::Services); });
    m_expandAllAction = new QAction(tr("Expand all namespaces"), this);
    m_expandAllAction->setObjectName(QStringLiteral("expandAllNamespacesAction"));
    m_expandAllAction->setToolTip(tr("Show every node of the namespaces folded into one"));
    m_expandAllAction->setEnabled(false);
    connect(m_expandAllAction, &QAction::triggered, this, &MainWindow::expandAllNamespaces);

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
    // Re-layout keeps dragged nodes; its menu also offers forgetting them (and their saved pins).
    auto *unpinAll = new QAction(tr("Re-layout and unpin all nodes"), this);
    unpinAll->setObjectName(QStringLiteral("relayoutUnpinAllAction"));
    unpinAll->setToolTip(tr("Lay the graph out afresh and forget every dragged position"));
    connect(unpinAll, &QAction::triggered, this, [this] {
        m_canvas->relayoutAndUnpinAll();  // pinnedPositionsChanged() saves the empty pins
        m_canvas->fitToView();
    });
    auto *relayoutButton = new QToolButton(bar);
    relayoutButton->setObjectName(QStringLiteral("relayoutButton"));
    relayoutButton->setDefaultAction(m_relayoutAction);
    relayoutButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    relayoutButton->setPopupMode(QToolButton::MenuButtonPopup);
    auto *relayoutMenu = new QMenu(relayoutButton);
    relayoutMenu->addAction(unpinAll);
    relayoutButton->setMenu(relayoutMenu);
    bar->addWidget(relayoutButton);
    bar->addAction(m_findAction);
    bar->addSeparator();

    auto *graphLabel = new QLabel(tr("Graph:"), bar);
    graphLabel->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(graphLabel);
    m_graphTypeCombo = new QComboBox(bar);
    m_graphTypeCombo->setObjectName(QStringLiteral("graphTypeCombo"));
    m_graphTypeCombo->setToolTip(tr("Workloads: one node per service version; Services: versions merged"));
    m_graphTypeCombo->addItem(tr("Workloads"), int(GraphType::Workloads));
    m_graphTypeCombo->addItem(tr("Services"), int(GraphType::Services));
    // setGraphView() updates it under a QSignalBlocker, so this fires for user choices only.
    connect(m_graphTypeCombo, &QComboBox::currentIndexChanged, this,
        [this] { setGraphType(GraphType(m_graphTypeCombo->currentData().toInt())); });
    bar->addWidget(m_graphTypeCombo);
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
    file->setObjectName(QStringLiteral("fileMenu"));
    QAction *openRec = file->addAction(tr("&Open recording…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open recording"),
            QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation),
            tr("meshscope recordings (*.msrec);;All files (*)"));
        if (!path.isEmpty())
            openRecording(path);
    });
    openRec->setObjectName(QStringLiteral("openRecordingAction"));
    openRec->setShortcut(QKeySequence::Open);
    QAction *compareRec = file->addAction(tr("Compare with recording…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Compare with recording"),
            QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation),
            tr("meshscope recordings (*.msrec);;All files (*)"));
        if (!path.isEmpty())
            compareWithRecording(path);
    });
    compareRec->setObjectName(QStringLiteral("compareRecordingAction"));
    compareRec->setToolTip(tr("What changed between a recording (before) and the graph shown (after)"));
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
    view->addSeparator();
    view->addSection(tr("Graph type"));
    view->addAction(m_workloadsAction);
    view->addAction(m_servicesAction);
    view->addAction(m_expandAllAction);
    view->setObjectName(QStringLiteral("viewMenu"));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->setObjectName(QStringLiteral("helpMenu"));
    m_guideAction = help->addAction(tr("&User guide"), this, [this] { openGuide(); });
    m_guideAction->setObjectName(QStringLiteral("guideAction"));
    m_guideAction->setShortcut(QKeySequence::HelpContents);
    m_shortcutsAction = help->addAction(tr("&Keyboard shortcuts"), this, [this] { openShortcuts(); });
    m_shortcutsAction->setObjectName(QStringLiteral("shortcutsAction"));
    // Ctrl+? as most desktop programs have it; Ctrl+/ is the same keys without Shift.
    m_shortcutsAction->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::Key_Question), QKeySequence(Qt::CTRL | Qt::Key_Slash)});
    help->addSeparator();
    m_aboutAction = help->addAction(tr("&About meshscope"), this, [this] { openAbout(); });
    m_aboutAction->setObjectName(QStringLiteral("aboutAction"));
}

QDialog *MainWindow::openGuide()
{
    if (!m_guide) {
        m_guide = new QDialog(this);
        m_guide->setObjectName(QStringLiteral("guideDialog"));
        m_guide->setWindowTitle(tr("meshscope user guide"));
        auto *browser = new QTextBrowser(m_guide);
        browser->setObjectName(QStringLiteral("guideBrowser"));
        // Links out open in the desktop's browser; the guide has no pages of its own to follow.
        browser->setOpenLinks(false);
        connect(browser, &QTextBrowser::anchorClicked, this, [browser](const QUrl &url) {
            if (url.scheme().startsWith(QLatin1String("http")))
                QDesktopServices::openUrl(url);
            else if (url.hasFragment())
                browser->scrollToAnchor(url.fragment());
        });
        QFile f(QStringLiteral(":/meshscope/guide.md"));
        const QString markdown = f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll())
                                                             : tr("# The user guide is missing from this build");
        browser->document()->setDocumentMargin(16);
        browser->setMarkdown(markdown);
        auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, m_guide);
        connect(buttons, &QDialogButtonBox::rejected, m_guide, &QDialog::close);
        auto *v = new QVBoxLayout(m_guide);
        v->addWidget(browser, 1);
        v->addWidget(buttons);
        m_guide->resize(760, 680);
    }
    m_guide->show();
    m_guide->raise();
    m_guide->activateWindow();
    return m_guide;
}

QDialog *MainWindow::openShortcuts()
{
    // Built afresh each time from the actions as they stand, so it cannot go stale.
    delete m_shortcuts;
    m_shortcuts = new QDialog(this);
    m_shortcuts->setObjectName(QStringLiteral("shortcutsDialog"));
    m_shortcuts->setWindowTitle(tr("Keyboard shortcuts"));
    struct Entry {
        QString keys, what;
    };
    QList<std::pair<QString, QList<Entry>>> sections;
    auto plain = [](QString text) {
        text.remove(QLatin1Char('&'));
        text.remove(QStringLiteral("…"));
        text.remove(QStringLiteral("..."));
        return text.trimmed();
    };
    auto fromActions = [&plain](const QList<QAction *> &actions) {
        QList<Entry> out;
        QSet<QString> seen;
        for (const QAction *a : actions) {
            if (a->shortcuts().isEmpty())
                continue;
            const QString what = plain(a->text().isEmpty() ? a->toolTip() : a->text());
            if (what.isEmpty())
                continue;
            QStringList keys;
            for (const QKeySequence &k : a->shortcuts())
                keys << k.toString(QKeySequence::NativeText);
            const QString joined = keys.join(QStringLiteral(" or "));
            if (seen.contains(joined + what))
                continue;
            seen.insert(joined + what);
            out.push_back({joined, what});
        }
        return out;
    };
    QList<QAction *> windowActions;
    for (QMenu *menu : menuBar()->findChildren<QMenu *>()) {
        for (QAction *a : menu->actions())
            windowActions << a;
    }
    sections.push_back({tr("Window"), fromActions(windowActions)});
    // The canvas reads these keys itself (GraphCanvas::keyPressEvent) and the mouse as below.
    sections.push_back({tr("Graph (click the canvas first)"),
        {
            {QStringLiteral("+  /  −"), tr("Zoom in / out")},
            {QStringLiteral("0"), tr("Zoom to 100 %")},
            {tr("Arrow keys"), tr("Pan (with Shift: four times as far)")},
            {QStringLiteral("Esc"), tr("Clear the selection")},
            {tr("Wheel"), tr("Zoom at the pointer")},
            {tr("Drag empty space"), tr("Pan")},
            {tr("Drag a node"), tr("Move it; it stays there (pinned) across updates and restarts")},
            {tr("Double-click empty space"), tr("Fit the graph in view")},
            {tr("Right-click a node"), tr("Inspect, copy its id, unpin, routing actions")},
        }});
    sections.push_back({tr("Live requests (click the table first)"), fromActions(m_requests->actions())});
    if (m_routeEditor)
        sections.push_back({tr("Routes"),
            {{QKeySequence(Qt::CTRL | Qt::Key_Return).toString(QKeySequence::NativeText),
                tr("Review and apply the edited routes")}}});

    auto *table = new QTableWidget(m_shortcuts);
    table->setObjectName(QStringLiteral("shortcutsTable"));
    table->setColumnCount(2);
    table->setHorizontalHeaderLabels({tr("Keys"), tr("Does")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::NoSelection);
    table->setShowGrid(false);
    table->setFocusPolicy(Qt::NoFocus);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
    for (const auto &[title, entries] : sections) {
        if (entries.isEmpty())
            continue;
        const int header = table->rowCount();
        table->insertRow(header);
        auto *t = new QTableWidgetItem(title);
        QFont bold = t->font();
        bold.setBold(true);
        t->setFont(bold);
        table->setItem(header, 0, t);
        table->setSpan(header, 0, 1, 2);
        for (const Entry &e : entries) {
            const int row = table->rowCount();
            table->insertRow(row);
            table->setItem(row, 0, new QTableWidgetItem(e.keys));
            table->setItem(row, 1, new QTableWidgetItem(e.what));
        }
    }
    table->resizeColumnToContents(0);
    table->horizontalHeader()->setStretchLastSection(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, m_shortcuts);
    connect(buttons, &QDialogButtonBox::rejected, m_shortcuts, &QDialog::close);
    auto *v = new QVBoxLayout(m_shortcuts);
    v->addWidget(table, 1);
    v->addWidget(buttons);
    m_shortcuts->resize(620, 600);
    m_shortcuts->show();
    m_shortcuts->raise();
    m_shortcuts->activateWindow();
    return m_shortcuts;
}

QString MainWindow::aboutText()
{
    QString versions;
    for (const LibraryVersion &v : libraryVersions())
        versions += QStringLiteral("<tr><td>%1</td><td>&nbsp;&nbsp;%2</td></tr>")
                        .arg(v.name.toHtmlEscaped(), v.version.toHtmlEscaped());
    return tr("<p><b>meshscope</b> %1</p>"
              "<p>Traffic inspection and topology for service meshes and API gateways: the live service "
              "graph from OpenTelemetry traces, Envoy access logs, Prometheus and Envoy admin, and a route "
              "editor for xDS and Caddy.</p>"
              "<p>Running with:</p><table>%2</table>"
              "<p>Help › User guide (F1) explains the window; <code>meshscope --help</code> the command line.</p>")
        .arg(QCoreApplication::applicationVersion().toHtmlEscaped(), versions);
}

QMessageBox *MainWindow::openAbout()
{
    if (!m_about) {
        m_about = new QMessageBox(QMessageBox::NoIcon, tr("About meshscope"), aboutText(), QMessageBox::Ok, this);
        m_about->setObjectName(QStringLiteral("aboutDialog"));
        m_about->setTextFormat(Qt::RichText);
        m_about->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_about->setIconPixmap(windowIcon().pixmap(64, 64));
        m_about->setModal(false);
    }
    m_about->show();
    m_about->raise();
    m_about->activateWindow();
    return m_about;
}

void MainWindow::buildDocks()
{
    m_inspectDock = new QDockWidget(tr("Inspect"), this);
    m_inspectDock->setObjectName(QStringLiteral("inspectDock"));
    m_inspectDock->setFeatures(
        QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetFloatable);
    m_inspect->setObjectName(QStringLiteral("inspectPanel"));
    // A merged service or a folded namespace is charted from what it stands for.
    m_inspect->setMembersProvider([this](const std::string &id, bool isEdge) {
        std::vector<std::string> members;
        if (!m_published || m_view == GraphViewOptions())
            return members;
        if (isEdge) {
            // Compared end by end, the source first: most edges fail there, and no edge
            // id is built for them (this runs on every refresh, over every edge).
            EdgeEnds ends;
            if (!parseEdgeId(id, &ends))
                return members;
            for (const EdgeSnapshot &e : m_published->edges) {
                if (viewNodeId(e.source, m_view) == ends.source && viewNodeId(e.target, m_view) == ends.target)
                    members.push_back(e.id);
            }
        } else {
            for (const NodeSnapshot &n : m_published->nodes) {
                if (viewNodeId(n.id, m_view) == id)
                    members.push_back(n.id);
            }
        }
        return members;
    });
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
    // Below Inspect, not tabbed with it: clicking a service shows its numbers and its
    // routes at once. A layout saved with this dock in it puts it back where it was.
    if (!restoreDockWidget(m_routesDock)) {
        addDockWidget(Qt::RightDockWidgetArea, m_routesDock);
        if (!m_inspectDock->isFloating() && dockWidgetArea(m_inspectDock) == Qt::RightDockWidgetArea)
            splitDockWidget(m_inspectDock, m_routesDock, Qt::Vertical);
    }
    if (m_defaultDockSizes)
        applyDefaultDockSizes();
    if (QMenu *view = menuBar()->findChild<QMenu *>(QStringLiteral("viewMenu")))
        view->addAction(m_routesDock->toggleViewAction());
    // The graph badges every service some rule routes to, as the edited routes stand.
    auto markRouted = [this] {
        QHash<QString, QString> routed;
        for (const QString &service : m_routeEditor->routedServices())
            routed.insert(service, m_routeEditor->routingSummary(service));
        m_canvas->setRoutedServices(routed);
    };
    // Inspect says whether the served split is what traffic does.
    // Splits are between versions, so their shares are read off the published graph,
    // where versions are nodes of their own whatever the graph type shown.
    m_inspect->setRouteSplitProvider([this, editor](const std::string &nodeId, const GraphSnapshot &shown) {
        const GraphSnapshot &snapshot = m_published ? *m_published : shown;
        return routeSplitText(routeSplitsFor(editor->appliedSet(), snapshot, nodeId), routesReachDataPlane());
    });
    connect(editor, &RouteEditor::routedServicesChanged, this, markRouted);
    connect(editor, &RouteEditor::editedChanged, this, markRouted);  // rule names and targets in the tooltip
    markRouted();
    // The review before an apply replays the last minute's traffic through the edits.
    connect(editor, &RouteEditor::reviewOpened, this, &MainWindow::showWhatIf);
    // The edges into a split's backends carry its shares, as served and as observed.
    connect(editor, &RouteEditor::editedChanged, this, &MainWindow::updateSplitNotes);
    QAbstractItemModel *clients = editor->clientsModel();
    connect(clients, &QAbstractItemModel::dataChanged, this, &MainWindow::updateSplitNotes);
    connect(clients, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateSplitNotes);
    connect(clients, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateSplitNotes);
    connect(clients, &QAbstractItemModel::modelReset, this, &MainWindow::updateSplitNotes);
    updateSplitNotes();
}

bool MainWindow::routesReachDataPlane() const
{
    if (!m_routeEditor)
        return false;
    if (m_routeEditor->dataPlane() == routing::DataPlane::Caddy)
        return true;
    const auto &clients = m_routeEditor->clientsModel()->clients();
    return std::any_of(clients.begin(), clients.end(), [](const routing::XdsClientStatus &c) { return c.connected; });
}

void MainWindow::updateSplitNotesForSnapshot()
{
    // Right after an apply the shares are counted from the recent requests, which costs
    // more than reading the snapshot: four times a second is enough for the eye.
    const int64_t now = GraphAggregator::wallNowMs();
    if (m_appliedRoutes.recentApplyMs(now) && now - m_splitNotesMs < 250)
        return;
    updateSplitNotes();
}

void MainWindow::updateSplitNotes()
{
    m_splitNotesMs = GraphAggregator::wallNowMs();
    QHash<QString, EdgeNote> notes;
    if (m_routeEditor && m_published) {
        const bool reached = routesReachDataPlane();
        // Right after an apply the shares count only the requests sent since, so they
        // show the new weights as soon as traffic carries them.
        const int64_t now = GraphAggregator::wallNowMs();
        const std::optional<int64_t> applied = m_appliedRoutes.recentApplyMs(now);
        const bool sinceApply = applied && now - *applied < int64_t(m_published->windowSeconds) * 1000;
        const GraphSnapshot counted
            = sinceApply ? requestsSince(*m_published, *m_aggregator, *applied, now) : GraphSnapshot();
        // Read off the published graph, where versions are nodes of their own; edges a
        // merged graph type does not show are simply not found by the canvas.
        for (const EdgeSplitShare &share :
            edgeSplitShares(m_routeEditor->appliedSet(), sinceApply ? counted : *m_published))
            notes.insert(QString::fromStdString(share.edge),
                {edgeSplitText(share, reached), edgeSplitShortText(share, reached), share.differs || !reached});
    }
    m_canvas->setEdgeNotes(notes);
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
    // Takes the room the status bar has; a long line never widens the window.
    m_errorLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_errorLabel->setTextFormat(Qt::PlainText);
    m_errorLabel->installEventFilter(this);
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
    if (!m_routesDock)
        return;
    m_routesDock->show();
    m_routesDock->raise();
}

void MainWindow::applyDefaultDockSizes()
{
    // Under a third of the width on the right (Inspect over Routes), a quarter of the
    // height for live requests: at 1280x800 the canvas keeps about 880x450, and the
    // empty Inspect panel does not take more room than the charts it will hold need.
    const int right = std::clamp(width() * 30 / 100, 380, 620);
    resizeDocks({m_inspectDock}, {right}, Qt::Horizontal);
    resizeDocks({m_requestsDock}, {std::clamp(height() * 27 / 100, 170, 280)}, Qt::Vertical);
    if (m_routesDock && dockWidgetArea(m_routesDock) == dockWidgetArea(m_inspectDock)
        && tabifiedDockWidgets(m_routesDock).isEmpty()) {
        const int column = std::max(300, height() - 120);
        resizeDocks({m_inspectDock, m_routesDock}, {column * 7 / 20, column * 13 / 20}, Qt::Vertical);
    }
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    // Sized for the size the window really opens at (a test's, a small screen's).
    if (!m_shownOnce && m_defaultDockSizes)
        applyDefaultDockSizes();
    m_shownOnce = true;
}

void MainWindow::setTraceStore(TraceStore *store)
{
    if (m_traceStore || !store)
        return;
    m_traceStore = store;
    m_traceJobs = std::make_unique<BackgroundJobs>(this);
    connect(m_requests, &RequestsPanel::traceRequested, this, [this](const QString &id) { openTrace(id); });
    m_inspect->setTraceStore(store);
    connect(m_inspect, &InspectPanel::traceRequested, this, [this](const QString &id) { openTrace(id); });
    auto *menu = new QMenu(tr("&Traces"), this);
    menu->setObjectName(QStringLiteral("tracesMenu"));
    QAction *search = menu->addAction(tr("&Search traces…"), this, [this] { openTraceSearch(); });
    search->setObjectName(QStringLiteral("searchTracesAction"));
    search->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    QAction *byId = menu->addAction(tr("Open trace by &ID…"), this, [this] { openTraceById(); });
    byId->setObjectName(QStringLiteral("openTraceByIdAction"));
    byId->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    if (QMenu *help = menuBar()->findChild<QMenu *>(QStringLiteral("helpMenu")))
        menuBar()->insertMenu(help->menuAction(), menu);
    else
        menuBar()->addMenu(menu);
}

TraceSearchDialog *MainWindow::openTraceSearch()
{
    if (!m_traceStore)
        return nullptr;
    if (!m_traceSearch) {
        m_traceSearch = new TraceSearchDialog(m_traceStore, this);
        m_traceSearch->setObjectName(QStringLiteral("traceSearchDialog"));
        m_traceSearch->setPersistenceEnabled(m_persist);
        connect(m_traceSearch, &TraceSearchDialog::traceRequested, this, [this](const QString &id) { openTrace(id); });
        const QRect area = geometry();
        m_traceSearch->resize(std::max(900, area.width() * 3 / 4), std::max(600, area.height() * 85 / 100));
        if (m_pastMs)  // opened at a past moment: its traces first
            m_traceSearch->setMoment(std::make_pair(*m_pastMs - int64_t(m_pastWindow) * 1000, *m_pastMs));
    }
    m_traceSearch->show();
    m_traceSearch->raise();
    m_traceSearch->activateWindow();
    return m_traceSearch;
}

void MainWindow::openTraceById()
{
    if (!m_traceStore)
        return;
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Open trace"),
        tr("Trace ID (32 hex digits, as Jaeger, Tempo and the requests table show it):"), QLineEdit::Normal,
        QApplication::clipboard()->text().trimmed().left(64), &ok);
    if (ok && !text.trimmed().isEmpty())
        openTrace(text.trimmed());
}

TraceView *MainWindow::openTrace(const QString &idText)
{
    if (!m_traceStore)
        return nullptr;
    const std::optional<TraceId> id = parseTraceIdHex(idText.trimmed().toStdString());
    if (!id) {
        m_notice->showNotice(
            tr("'%1' is not a trace ID: 32 hex digits, as in 4bf92f3577b34da6a3ce929d0e0e4736").arg(idText.left(80)));
        return nullptr;
    }
    // One window per trace: asking again brings it forward.
    for (TraceWindow *open : findChildren<TraceWindow *>()) {
        if (open->traceId() == *id) {
            open->show();
            open->raise();
            open->activateWindow();
            return open->view();
        }
    }
    std::optional<std::vector<Span>> spans = m_traceStore->trace(*id);
    if (!spans || spans->empty()) {
        const TraceStoreCounters c = m_traceStore->counters();
        m_notice->showNotice(tr("No spans of trace %1 are kept: they arrived before meshscope started, have not "
                                "arrived yet, or were evicted to stay in the memory budget (%2 traces evicted so "
                                "far).")
                                 .arg(QString::fromStdString(traceIdHex(*id)))
                                 .arg(c.evictedTraces));
        return nullptr;
    }
    const bool truncated = m_traceStore->isTruncated(*id);
    auto *window = new TraceWindow(*id, spans->size(), m_traceStore, this);
    TraceView *view = window->view();
    connect(window, &TraceWindow::showOnGraphRequested, this, [this, view] {
        stopTraceReplay();
        showTraceOnGraph(view);
    });
    connect(window, &TraceWindow::replayRequested, this, [this, window] { replayTraceOnGraph(window); });
    connect(window, &TraceWindow::replayStopRequested, this, [this] { stopTraceReplay(true); });
    connect(window, &QObject::destroyed, this, [this, view] {
        if (m_traceOnGraph == view) {
            m_traceOnGraph = nullptr;
            stopTraceReplay();
            m_canvas->clearTraceOverlay();
        }
    });
    // Assembled off the GUI thread (a 100,000-span trace takes a noticeable moment); the
    // window is up at once and says what it waits for.
    const QPointer<TraceWindow> target(window);
    m_traceJobs->run<std::shared_ptr<const WaterfallTrace>>(
        [spans = std::move(*spans), truncated]() mutable {
            TraceTree tree = buildTraceTree(std::move(spans));
            tree.truncated = truncated;
            return WaterfallTrace::make(std::move(tree));
        },
        [this, target](std::shared_ptr<const WaterfallTrace> trace) {
            if (!target)
                return;
            target->setTrace(std::move(trace));
            stopTraceReplay();
            showTraceOnGraph(target->view());
        },
        BackgroundJobs::Older::Kept);
    // Most of the main window, offset so both stay in reach.
    const QRect area = geometry();
    window->resize(std::max(900, area.width() * 9 / 10), std::max(560, area.height() * 85 / 100));
    window->move(area.topLeft() + QPoint(area.width() / 20, area.height() / 20));
    window->show();
    return view;
}

bool MainWindow::isReplayingTrace() const { return bool(m_replay); }

int MainWindow::replayedHops() const { return m_replay ? m_replay->shownHops : -1; }

MainWindow::TraceOnGraph MainWindow::traceOnGraph(const TraceView *view) const
{
    TraceOnGraph out;
    const TraceTree *tree = view ? view->tree() : nullptr;
    if (!tree)
        return out;
    const TracePath path = tracePath(*tree, view->criticalPath());
    auto shown = [this](const std::string &id) { return QString::fromStdString(viewNodeId(id, m_view)); };
    int number = 0;
    for (const TraceHop &hop : path.hops) {
        ++number;
        const QString source = shown(hop.source), target = shown(hop.target);
        if (source == target)
            continue;  // inside one node of this view (a folded namespace, merged versions)
        const QString id = QString::fromStdString(edgeId(source.toStdString(), target.toStdString()));
        if (!m_canvas->hasEdge(id)) {
            out.missing << tr("%1 → %2").arg(display::nodeLabel(hop.source), display::nodeLabel(hop.target));
            continue;
        }
        out.hops.push_back(
            {{id, QStringLiteral("%1 · %2").arg(number).arg(display::millis(double(hop.durationNs) / 1e6)),
                 hop.critical, hop.error},
                hop.startOffsetNs, hop.startOffsetNs + hop.durationNs, source, target});
    }
    // Calls whose callee sent no span (a database, an outside API) end at the node the
    // graph made from the peer's name, when it has one by that name.
    for (const auto &[span, peer] : path.unpaired) {
        const Span &s = tree->spans[size_t(span)];
        std::string host = peer;
        if (const size_t colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
            host.resize(colon);
        const QString source = shown(spanNodeId(s));
        const QString target = shown(nodeId(NodeKind::ExternalService, {}, host.empty() ? "unknown" : host, {}));
        const QString id = QString::fromStdString(edgeId(source.toStdString(), target.toStdString()));
        const uint64_t offset = s.startNs - tree->startNs;
        if (m_canvas->hasEdge(id))
            out.hops.push_back({{id, display::millis(tree->durationNs(size_t(span)) / 1e6), false, isErrorSpan(s)},
                offset, offset + tree->durationNs(size_t(span)), source, target});
        else
            out.missing << tr("%1 (%2 → %3)")
                               .arg(QString::fromStdString(s.name), display::nodeLabel(spanNodeId(s)),
                                   QString::fromStdString(peer.empty() ? std::string("?") : peer));
    }
    std::stable_sort(
        out.hops.begin(), out.hops.end(), [](const PlacedHop &a, const PlacedHop &b) { return a.startNs < b.startNs; });
    for (const std::string &n : path.nodes)
        out.nodes << shown(n);
    out.nodes.removeDuplicates();
    out.durationNs = tree->endNs - tree->startNs;
    return out;
}

QString MainWindow::showTraceOnGraph(TraceView *view)
{
    if (!view || !view->tree())
        return {};
    m_traceOnGraph = view;
    const TraceOnGraph drawn = traceOnGraph(view);
    std::vector<GraphCanvas::TraceHopMark> marks;
    for (const PlacedHop &hop : drawn.hops)
        marks.push_back(hop.mark);
    m_canvas->setTraceOverlay(marks, drawn.nodes);
    QString note
        = tr("On the graph: %1 of this trace, numbered in the order they started; the critical path in orange, "
             "failed calls in red.")
              .arg(display::quantity(qint64(marks.size()), tr("call"), tr("calls")));
    if (!drawn.missing.isEmpty())
        note += QLatin1Char(' ') + tr("Not on the graph: %1.").arg(drawn.missing.mid(0, 8).join(QStringLiteral(", ")))
            + (drawn.missing.size() > 8 ? tr(" and %1 more").arg(drawn.missing.size() - 8) : QString());
    if (auto *window = qobject_cast<TraceWindow *>(view->window()))
        window->setGraphNote(note);
    return note;
}

void MainWindow::replayTraceOnGraph(TraceWindow *window)
{
    stopTraceReplay();
    if (!window || !window->view()->tree())
        return;
    m_traceOnGraph = window->view();
    m_replay = std::make_unique<TraceReplay>();
    m_replay->window = window;
    m_replay->drawn = traceOnGraph(window->view());
    // A few seconds whatever the trace's length: long enough to follow each call, short
    // enough to watch again. Time runs evenly, so calls that overlap light up together.
    const qint64 hops = qint64(m_replay->drawn.hops.size());
    m_replay->wallMs = std::clamp<qint64>(hops * 700, 3000, 10000);
    m_replay->clock.start();
    if (!m_replayTimer) {
        m_replayTimer = new QTimer(this);
        m_replayTimer->setInterval(40);
        connect(m_replayTimer, &QTimer::timeout, this, &MainWindow::advanceTraceReplay);
    }
    window->setReplaying(true);
    m_replayTimer->start();
    advanceTraceReplay();
}

void MainWindow::advanceTraceReplay()
{
    if (!m_replay || !m_replay->window) {
        stopTraceReplay();
        return;
    }
    const TraceOnGraph &d = m_replay->drawn;
    const double fraction = std::min(1.0, double(m_replay->clock.elapsed()) / double(m_replay->wallMs));
    const uint64_t now = uint64_t(fraction * double(d.durationNs));
    std::vector<GraphCanvas::TraceHopMark> marks;
    QStringList nodes;
    int running = 0;
    for (const PlacedHop &hop : d.hops) {
        if (hop.startNs > now && fraction < 1.0)
            continue;
        GraphCanvas::TraceHopMark mark = hop.mark;
        if (hop.endNs > now && fraction < 1.0) {
            mark.label = QStringLiteral("▶ ") + mark.label;  // in flight
            ++running;
        }
        marks.push_back(mark);
        nodes << hop.source << hop.target;
    }
    nodes.removeDuplicates();
    m_canvas->setTraceOverlay(marks, nodes);
    m_replay->shownHops = int(marks.size());
    m_replay->window->setGraphNote(
        tr("Replay: %1 of %2 · %3 of %4 started, %5 in flight")
            .arg(display::millis(double(now) / 1e6), display::millis(double(d.durationNs) / 1e6))
            .arg(marks.size())
            .arg(display::quantity(qint64(d.hops.size()), tr("call"), tr("calls")))
            .arg(running));
    if (fraction >= 1.0)
        stopTraceReplay(true);
}

void MainWindow::stopTraceReplay(bool showWhole)
{
    if (!m_replay)
        return;
    std::unique_ptr<TraceReplay> replay = std::move(m_replay);
    m_replayTimer->stop();
    if (replay->window) {
        replay->window->setReplaying(false);
        if (showWhole)
            showTraceOnGraph(replay->window->view());
    }
}

void MainWindow::setSourceManager(SourceManager *manager)
{
    if (m_sources || !manager)
        return;
    m_sources = manager;
    m_inspect->setSourceManager(manager);  // Prometheus chart history
    auto *menu = new QMenu(tr("&Sources"), this);
    menu->setObjectName(QStringLiteral("sourcesMenu"));
    QAction *connections = menu->addAction(tr("&Connections…"), this, [this] { openConnections(); });
    connections->setObjectName(QStringLiteral("connectionsAction"));
    connections->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    // Links out (Grafana, Jaeger/Tempo), kept per workspace.
    QAction *links = menu->addAction(tr("&Links to Grafana and Jaeger…"), this, [this] {
        auto *dialog = new LinksDialog(m_inspect->linkTemplates(), this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &LinksDialog::templatesAccepted, this, [this](const LinkTemplates &links) {
            m_inspect->setLinkTemplates(links);
            m_requests->setLinkTemplates(links);
            if (m_persist) {
                QSettings s = workspaceSettings();
                saveLinkTemplates(s, m_workspace, links);
            }
        });
        dialog->open();
    });
    links->setObjectName(QStringLiteral("linksAction"));
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
    connect(manager, &SourceManager::statusChanged, this, &MainWindow::markSourceState);
    // A source's problem is shown from its current state (refreshProblems); what
    // happened when goes to the error label's tooltip.
    connect(manager, &SourceManager::sourceFailed, this, [this](const QString &, const QString &message) {
        m_sourceErrors.append(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss ")) + message);
        while (m_sourceErrors.size() > 20)
            m_sourceErrors.removeFirst();
        refreshProblems();
    });
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
    refreshProblems();
    refreshEmptyGuide();
    if (!m_sourcesLabel)
        return;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QStringList parts, tips;
    for (const SourceSpec &s : m_sources->specs()) {
        const SourceManager::Status st = m_sources->status(s.id);
        if (st.state == SourceManager::State::Disabled)
            continue;
        const QString color = sourceColor(st, now);
        QString text = m_sources->statusText(s.id, now);
        QString tip = s.displayName() + QStringLiteral(": ") + m_sources->stateLine(s.id, now);
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
    m_lastError = text;
    m_notice->showNotice(text);
    refreshProblems();
}

void MainWindow::refreshProblems()
{
    // The notice bar and the status bar say the same thing, from the sources' state as
    // it is now: a retrying source counts down to its real next attempt, and a source
    // that recovered is no longer mentioned.
    const QDateTime now = QDateTime::currentDateTime();
    QStringList problems, keys;
    if (m_sources) {
        for (const SourceSpec &s : m_sources->specs()) {
            const SourceManager::Status st = m_sources->status(s.id);
            if (!SourceManager::isBad(st.state))
                continue;
            const QString line = s.displayName() + QStringLiteral(": ") + m_sources->stateLine(s.id, now);
            const QString key = QStringLiteral("source:") + s.id;
            m_notice->setStanding(key, line);
            problems << line;
            keys << key;
        }
    }
    for (const QString &key : m_notice->standingKeys()) {
        if (!keys.contains(key))
            m_notice->clearStanding(key);
    }
    QString text;
    if (!problems.isEmpty())
        text = problems.first() + (problems.size() > 1 ? tr(" (and %1 more)").arg(problems.size() - 1) : QString());
    else
        text = m_lastError;
    m_errorLabel->setVisible(!text.isEmpty());
    m_errorText = text.isEmpty() ? QString() : QStringLiteral("⚠ ") + text;
    elideErrorLabel();
    QStringList tip = problems.isEmpty() && !text.isEmpty() ? QStringList {text} : problems;
    if (!m_sourceErrors.isEmpty())
        tip << QString() << tr("Earlier:") << m_sourceErrors;
    m_errorLabel->setToolTip(tip.join(QLatin1Char('\n')).trimmed());
}

void MainWindow::elideErrorLabel()
{
    // Elided in the middle, so the end of the line (a retry countdown) stays in view
    // however narrow the window; the tooltip has it whole.
    const int width = m_errorLabel->contentsRect().width() - 2 * m_errorLabel->margin()
        - m_errorLabel->fontMetrics().averageCharWidth();
    const QString shown
        = width > 20 ? m_errorLabel->fontMetrics().elidedText(m_errorText, Qt::ElideMiddle, width) : m_errorText;
    if (m_errorLabel->text() != shown)
        m_errorLabel->setText(shown);
}

void MainWindow::setDemoMode(bool demo)
{
    m_demoLabel->setVisible(demo);
    m_demoMode = demo;
    refreshEmptyGuide();
}

void MainWindow::setSessionRecorder(SessionRecorder *recorder)
{
    if (m_recorder || !recorder)
        return;
    m_recorder = recorder;
    m_recordAction = new QAction(tr("&Record…"), this);
    m_recordAction->setObjectName(QStringLiteral("recordAction"));
    m_recordAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_recordAction->setToolTip(tr("Record everything the sources deliver to a file that File › Open recording "
                                  "and meshscope-cli --from read back"));
    connect(m_recordAction, &QAction::triggered, this, [this] {
        if (isRecording())
            stopRecording();
        else
            chooseRecordingFile();
    });
    if (auto *file = menuBar()->findChild<QMenu *>(QStringLiteral("fileMenu")))
        file->insertAction(file->actions().value(1), m_recordAction);
    m_recordLabel = new QLabel(this);
    m_recordLabel->setObjectName(QStringLiteral("statusRecording"));
    m_recordLabel->setTextFormat(Qt::RichText);
    m_recordLabel->setStyleSheet(QStringLiteral("QLabel { color: #ffffff; background: #b62324; border-radius: 3px;"
                                                " padding: 0 6px; font-weight: bold; }"));
    m_recordLabel->setCursor(Qt::PointingHandCursor);
    m_recordLabel->installEventFilter(this);
    m_recordLabel->hide();
    statusBar()->insertWidget(0, m_recordLabel);
    m_recordTimer = new QTimer(this);
    m_recordTimer->setInterval(1000);
    connect(m_recordTimer, &QTimer::timeout, this, &MainWindow::updateRecordIndicator);
}

void MainWindow::chooseRecordingFile()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString suggested
        = QDir(dir).filePath(QStringLiteral("meshscope-%1.msrec")
                                 .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Record to"), suggested, tr("meshscope recordings (*.msrec);;All files (*)"));
    if (!path.isEmpty())
        startRecording(path);
}

bool MainWindow::startRecording(const QString &path, QString *error)
{
    if (!m_recorder) {
        if (error)
            *error = tr("this window has no recorder");
        return false;
    }
    const QJsonObject header {{QStringLiteral("program"), QStringLiteral("meshscope")},
        {QStringLiteral("version"), QCoreApplication::applicationVersion()},
        {QStringLiteral("workspace"), m_workspace}};
    std::string why;
    if (!m_recorder->start(
            path.toStdString(), QJsonDocument(header).toJson(QJsonDocument::Compact).toStdString(), why)) {
        const QString message = tr("Cannot record to %1: %2").arg(path, QString::fromStdString(why));
        m_notice->showNotice(message);
        if (error)
            *error = message;
        return false;
    }
    m_recordStartedMs = QDateTime::currentMSecsSinceEpoch();
    m_recordAction->setText(tr("Stop &recording"));
    m_recordLabel->setToolTip(tr("Recording to %1. Click to stop.").arg(QDir::toNativeSeparators(path)));
    m_recordLabel->show();
    m_recordTimer->start();
    updateRecordIndicator();
    return true;
}

bool MainWindow::stopRecording()
{
    if (!m_recorder || !m_recorder->isRecording())
        return false;
    const SessionRecorder::Status done = m_recorder->stop();
    m_recordTimer->stop();
    m_recordLabel->hide();
    m_recordAction->setText(tr("&Record…"));
    const QString path = QDir::toNativeSeparators(QString::fromStdString(done.path));
    QString text = tr("Recorded %1 (%2) to %3.")
                       .arg(display::clock(QDateTime::currentMSecsSinceEpoch() - m_recordStartedMs),
                           display::dataSize(done.bytesWritten), path);
    if (!done.lastError.empty())
        text += QLatin1Char(' ')
            + tr("It holds what was written before this went wrong: %1.").arg(QString::fromStdString(done.lastError));
    else if (done.eventsDropped > 0)
        text += QLatin1Char(' ')
            + tr("%1 were left out because the disk could not keep up.")
                  .arg(display::quantity(qint64(done.eventsDropped), tr("event"), tr("events")));
    m_notice->showNotice(text);
    return true;
}

bool MainWindow::isRecording() const { return m_recorder && m_recorder->isRecording(); }

void MainWindow::updateRecordIndicator()
{
    if (!m_recorder)
        return;
    const SessionRecorder::Status s = m_recorder->status();
    if (!s.recording)
        return;
    m_recordLabel->setText(QStringLiteral("● REC %1 · %2")
                               .arg(display::clock(QDateTime::currentMSecsSinceEpoch() - m_recordStartedMs),
                                   display::dataSize(s.bytesWritten)));
    if (!s.lastError.empty())
        m_notice->setStanding(
            QStringLiteral("recording"), tr("Recording is failing: %1").arg(QString::fromStdString(s.lastError)));
}

MainWindow *MainWindow::openRecording(const QString &path)
{
    QString error;
    MainWindow *window = RecordingSession::open(path, &error);
    if (!window) {
        m_notice->showNotice(tr("Cannot open %1: %2").arg(QDir::toNativeSeparators(path), error));
        return nullptr;
    }
    window->resize(size());
    window->move(pos() + QPoint(40, 40));
    window->show();
    return window;
}

void MainWindow::setRecordingDescription(const QString &text, const QStringList &details)
{
    m_showsRecording = true;
    m_demoLabel->setText(tr("Recording"));
    m_demoLabel->setToolTip(tr("Everything in this window comes from a recording (File › Open recording)"));
    m_demoLabel->setStyleSheet(QStringLiteral("QLabel { color: #0d1117; background: #d2a8ff; border-radius: 3px;"
                                              " padding: 0 6px; font-weight: bold; }"));
    m_demoLabel->show();
    m_listenLabel->show();
    m_listenLabel->setText(text.toHtmlEscaped());
    m_listenLabel->setToolTip(details.isEmpty() ? text : text + QLatin1Char('\n') + details.join(QLatin1Char('\n')));
    refreshEmptyGuide();
}

void MainWindow::setRecordingFile(const QString &path, int64_t startMs, int64_t endMs)
{
    m_recordingPath = path;
    m_recordingStartMs = startMs;
    m_recordingEndMs = endMs;
    if (m_exportClipAction)
        return;
    m_exportClipAction = new QAction(tr("Export &clip…"), this);
    m_exportClipAction->setObjectName(QStringLiteral("exportClipAction"));
    m_exportClipAction->setToolTip(tr("Write a time range of this recording as a recording of its own, with secrets "
                                      "and query values removed, to hand to a colleague"));
    connect(m_exportClipAction, &QAction::triggered, this, &MainWindow::exportClip);
    if (auto *file = menuBar()->findChild<QMenu *>(QStringLiteral("fileMenu"))) {
        QAction *open = file->findChild<QAction *>(QStringLiteral("openRecordingAction"));
        const qsizetype at = file->actions().indexOf(open);
        file->insertAction(file->actions().value(at + 1), m_exportClipAction);
    }
}

QWidget *MainWindow::exportClip()
{
    if (m_recordingPath.isEmpty())
        return nullptr;
    // The range the timeline shows, else the whole recording.
    int64_t from = 0, to = 0;
    if (m_timeline) {
        if (const std::optional<TimelineStrip::Range> viewed = m_timeline->viewedRange()) {
            from = viewed->fromMs;
            to = viewed->toMs;
        }
    }
    return ExportClipDialog::run(this, m_recordingPath, m_recordingStartMs, m_recordingEndMs, from, to);
}

void MainWindow::setPersistenceEnabled(bool on)
{
    m_persist = on;
    m_inspect->setPersistenceEnabled(on);  // the chart window picker
}

namespace {

// Where the running OTLP receiver can be reached, and how it wants to be spoken to.
struct OtlpEndpoint {
    QString address;  // as a client on this machine dials it: "127.0.0.1:4317"
    bool allInterfaces = false;  // bound to 0.0.0.0 or [::]
    bool tls = false;
    bool clientCertificate = false;  // mTLS required
};

OtlpEndpoint otlpEndpoint(const SourceManager *sources)
{
    OtlpEndpoint out;
    if (!sources)
        return out;
    for (const SourceSpec &s : sources->specs()) {
        const SourceManager::Status st = sources->status(s.id);
        if (s.kind != SourceSpec::Kind::OtlpReceiver || st.state != SourceManager::State::Listening)
            continue;
        out.address = st.boundAddress;
        for (const char *wildcard : {"0.0.0.0:", "[::]:"}) {
            if (out.address.startsWith(QLatin1String(wildcard))) {
                out.address = QStringLiteral("127.0.0.1:") + out.address.mid(qsizetype(qstrlen(wildcard)));
                out.allInterfaces = true;
            }
        }
        out.tls = s.tlsServer.enabled();
        out.clientCertificate = s.tlsServer.requireClientCert;
        break;
    }
    return out;
}

}  // namespace

QString MainWindow::collectorSnippet() const
{
    const OtlpEndpoint otlp = otlpEndpoint(m_sources);
    if (otlp.address.isEmpty())
        return {};
    QString tls;
    if (!otlp.tls) {
        tls = QStringLiteral("    tls:\n      insecure: true\n");
    } else {
        tls = QStringLiteral("    tls:\n      ca_file: /path/to/ca.pem   # the CA of meshscope's --tls-cert\n");
        if (otlp.clientCertificate)
            tls += QStringLiteral("      cert_file: /path/to/client.pem  # meshscope requires a client certificate\n"
                                  "      key_file: /path/to/client-key.pem\n");
    }
    return QStringLiteral("exporters:\n  otlp/meshscope:\n    endpoint: %1\n").arg(otlp.address) + tls
        + QStringLiteral(
            "service:\n  pipelines:\n    traces:\n      exporters: [otlp/meshscope]  # beside your others\n");
}

void MainWindow::buildEmptyGuide()
{
    m_emptyGuide = new QFrame(m_canvasArea);
    m_emptyGuide->setObjectName(QStringLiteral("emptyGuide"));
    m_emptyGuide->setStyleSheet(QStringLiteral(
        "#emptyGuide { background: #161b22; border: 1px solid #30363d; border-radius: 8px; }"
        "#emptyGuide QLabel { color: #c9d1d9; }"
        "#emptyGuide QPlainTextEdit { background: #0d1117; color: #c9d1d9; border: 1px solid #30363d; }"));
    auto *title = new QLabel(tr("Waiting for telemetry"), m_emptyGuide);
    QFont f = title->font();
    f.setPointSizeF(f.pointSizeF() * 1.35);
    f.setBold(true);
    title->setFont(f);
    auto makeText = [this](const QString &name) {
        auto *label = new QLabel(m_emptyGuide);
        label->setObjectName(name);
        label->setWordWrap(true);
        label->setTextFormat(Qt::RichText);
        label->setTextInteractionFlags(Qt::TextBrowserInteraction);
        connect(label, &QLabel::linkActivated, this, [this](const QString &link) {
            if (link == QLatin1String("connections"))
                openConnections();
            else if (link == QLatin1String("guide"))
                openGuide();
        });
        return label;
    };
    m_emptyGuideText = makeText(QStringLiteral("emptyGuideText"));
    m_emptyGuideFooter = makeText(QStringLiteral("emptyGuideFooter"));
    m_emptyGuideSnippet = new QPlainTextEdit(m_emptyGuide);
    m_emptyGuideSnippet->setObjectName(QStringLiteral("emptyGuideSnippet"));
    m_emptyGuideSnippet->setReadOnly(true);
    m_emptyGuideSnippet->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_emptyGuideSnippet->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_emptyGuideSnippet->setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_emptyGuideSnippet->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    auto *copy = new QPushButton(tr("Copy snippet"), m_emptyGuide);
    copy->setObjectName(QStringLiteral("copySnippetButton"));
    connect(copy, &QPushButton::clicked, this,
        [this] { QApplication::clipboard()->setText(m_emptyGuideSnippet->toPlainText()); });
    m_emptyGuideSnippetRow = new QWidget(m_emptyGuide);
    auto *row = new QVBoxLayout(m_emptyGuideSnippetRow);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_emptyGuideSnippet);
    row->addWidget(copy, 0, Qt::AlignRight);
    auto *v = new QVBoxLayout(m_emptyGuide);
    v->setContentsMargins(22, 18, 22, 18);
    v->setSpacing(10);
    v->addWidget(title);
    v->addWidget(m_emptyGuideText);
    v->addWidget(m_emptyGuideSnippetRow);
    v->addWidget(m_emptyGuideFooter);
    refreshEmptyGuide();
}

void MainWindow::refreshEmptyGuide()
{
    if (!m_emptyGuide)
        return;
    // The demo's traffic arrives within a second; the guide is for a window left waiting.
    const bool empty = !m_snapshot || m_snapshot->nodes.empty();
    const bool show = empty && !m_demoMode && !m_showsRecording;
    if (!show) {
        m_emptyGuide->hide();
        return;
    }
    const OtlpEndpoint otlp = otlpEndpoint(m_sources);
    const QString code = QStringLiteral("<code style='color:#e6edf3'>%1</code>");
    QString html;
    if (otlp.address.isEmpty()) {
        html = tr("<p>No OTLP receiver is listening, so no traces can arrive (the status bar says why). "
                  "Start meshscope with <code>--otlp-listen 127.0.0.1:4317</code>, or add a receiver in "
                  "<a href='connections' style='color:#58a6ff'>Sources › Connections…</a>.</p>");
    } else {
        const QString scheme = otlp.tls ? QStringLiteral("https") : QStringLiteral("http");
        html = tr("<p>meshscope listens for OpenTelemetry traces (OTLP over gRPC%1) on <b>%2</b>%3. Services "
                  "appear here as soon as spans arrive.</p>")
                   .arg(otlp.tls ? tr(", TLS") : QString(), otlp.address.toHtmlEscaped(),
                       otlp.allInterfaces ? tr(" (all interfaces: other machines use this one's address)") : QString());
        html += tr("<p>From an application's OpenTelemetry SDK:<br>%1<br>%2</p>")
                    .arg(code.arg(QStringLiteral("OTEL_EXPORTER_OTLP_ENDPOINT=%1://%2").arg(scheme, otlp.address)),
                        code.arg(QStringLiteral("OTEL_EXPORTER_OTLP_PROTOCOL=grpc")));
        html += tr("<p>From an OpenTelemetry Collector, add this exporter to its traces pipeline:</p>");
    }
    // Called twice a second: only what changed is touched, so a selection in the
    // snippet survives.
    const QString snippet = collectorSnippet();
    const bool changed
        = m_emptyGuide->isHidden() || m_emptyGuideText->text() != html || m_emptyGuideSnippet->toPlainText() != snippet;
    if (!changed)
        return;
    m_emptyGuideText->setText(html);
    m_emptyGuideFooter->setText(
        tr("<p style='color:#8b949e'>No mesh at hand? <code>meshscope --demo</code> starts one. Prometheus "
           "(Istio, Linkerd) and Envoy admin: <a href='connections' style='color:#58a6ff'>Sources › "
           "Connections…</a>. More in the <a href='guide' style='color:#58a6ff'>user guide</a> (F1).</p>"));
    if (m_emptyGuideSnippet->toPlainText() != snippet)
        m_emptyGuideSnippet->setPlainText(snippet);
    const QFontMetrics fm(m_emptyGuideSnippet->font());
    m_emptyGuideSnippetHeight = fm.lineSpacing() * int(snippet.count(QLatin1Char('\n'))) + 16;
    m_emptyGuideSnippetRow->setVisible(!snippet.isEmpty());
    m_emptyGuide->show();
    m_emptyGuide->raise();
    m_notice->raise();
    placeEmptyGuide();
}

void MainWindow::placeEmptyGuide()
{
    if (!m_emptyGuide || m_emptyGuide->isHidden())
        return;
    // Centred in what the notice bar leaves of the canvas; short of height, the snippet
    // scrolls (down to four lines) before anything is cut off.
    QRect area = m_canvasArea->rect().adjusted(0, 8, 0, -8);
    if (!m_notice->isHidden())
        area.setTop(m_notice->geometry().bottom() + 8);
    const int width = std::min(640, area.width() - 32);
    QLayout *l = m_emptyGuide->layout();
    auto naturalHeight = [&] {
        l->invalidate();
        return l->hasHeightForWidth() ? l->totalHeightForWidth(width) : l->totalSizeHint().height();
    };
    m_emptyGuideSnippet->setFixedHeight(m_emptyGuideSnippetHeight);
    int height = naturalHeight();
    if (height > area.height() && !m_emptyGuideSnippetRow->isHidden()) {
        const int minimum = m_emptyGuideSnippet->fontMetrics().lineSpacing() * 4 + 16;
        m_emptyGuideSnippet->setFixedHeight(std::max(minimum, m_emptyGuideSnippetHeight - (height - area.height())));
        height = naturalHeight();
    }
    height = std::min(height, area.height());
    m_emptyGuide->setGeometry(QStyle::alignedRect(Qt::LeftToRight, Qt::AlignCenter, QSize(width, height), area));
}

QString MainWindow::emptyGuideText() const
{
    if (!m_emptyGuide || m_emptyGuide->isHidden())
        return {};
    QString text = QTextDocumentFragment::fromHtml(m_emptyGuideText->text()).toPlainText();
    if (!m_emptyGuideSnippetRow->isHidden())
        text += QLatin1Char('\n') + m_emptyGuideSnippet->toPlainText();
    return text + QLatin1Char('\n') + QTextDocumentFragment::fromHtml(m_emptyGuideFooter->text()).toPlainText();
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    // The guide keeps clear of the notice bar as it comes, goes and wraps.
    const bool noticeMoved = watched == m_notice
        && (event->type() == QEvent::Show || event->type() == QEvent::Hide || event->type() == QEvent::Resize);
    if ((watched == m_canvasArea && event->type() == QEvent::Resize) || noticeMoved)
        placeEmptyGuide();
    if ((watched == m_canvas && event->type() == QEvent::Resize) || noticeMoved)
        placePastBanner();
    if (watched == m_errorLabel && event->type() == QEvent::Resize)
        elideErrorLabel();
    if (watched == m_recordLabel && event->type() == QEvent::MouseButtonRelease) {
        stopRecording();
        return true;
    }
    return QMainWindow::eventFilter(watched, event);
}

QString MainWindow::statusText() const
{
    QStringList parts;
    for (QLabel *l : {m_recordLabel, m_demoLabel, m_sourcesLabel, m_listenLabel, m_errorLabel, m_foldedLabel,
             m_rejectLabel, m_graphLabel, m_rateLabel}) {
        if (l == m_errorLabel && !l->isHidden())
            parts << m_errorText;  // whole, as its tooltip has it; the label may elide it
        else if (l && !l->isHidden())
            parts << QTextDocumentFragment::fromHtml(l->text()).toPlainText();
    }
    return parts.join(QStringLiteral(" | "));
}

// ---- time travel ----------------------------------------------------------------

void MainWindow::buildTimeline()
{
    const GraphHistory *history = m_aggregator ? m_aggregator->history() : nullptr;
    if (!history)
        return;  // the aggregator keeps no past: no strip
    m_historyJobs = std::make_unique<BackgroundJobs>(this);
    m_timeline = new TimelineStrip(m_canvasArea);
    m_timeline->setHistory(history);
    m_canvasArea->layout()->addWidget(m_timeline);
    connect(m_timeline, &TimelineStrip::momentChosen, this, [this](int64_t ms) { goToMoment(ms, m_pastWindow); });
    connect(m_timeline, &TimelineStrip::rangeChosen, this,
        [this](int64_t fromMs, int64_t toMs) { goToMoment(toMs, int(std::max<int64_t>(1, (toMs - fromMs) / 1000))); });
    connect(m_timeline, &TimelineStrip::liveChosen, this, &MainWindow::backToLive);
    connect(m_timeline, &TimelineStrip::routeChangeChosen, this, &MainWindow::compareAroundChange);
    connect(m_timeline, &TimelineStrip::compareChosen, this, &MainWindow::compareRanges);
    m_timelineTimer = new QTimer(this);
    m_timelineTimer->setInterval(1000);
    connect(m_timelineTimer, &QTimer::timeout, this,
        [this] { m_timeline->refresh(m_pastMs && m_playSpeed == 0 ? m_timeline->endMs() : timelineNowMs()); });
    m_timelineTimer->start();
    m_timeline->refresh(timelineNowMs());

    // Over the canvas's top edge while a moment is viewed: which, and the way back.
    m_pastBanner = new QFrame(m_canvas);
    m_pastBanner->setObjectName(QStringLiteral("pastBanner"));
    m_pastBanner->setAutoFillBackground(true);
    m_pastBanner->setFrameShape(QFrame::StyledPanel);
    QPalette pal = m_pastBanner->palette();
    pal.setColor(QPalette::Window, QColor(QStringLiteral("#4a3b00")));
    pal.setColor(QPalette::WindowText, QColor(QStringLiteral("#ffe08a")));
    m_pastBanner->setPalette(pal);
    auto *row = new QHBoxLayout(m_pastBanner);
    row->setContentsMargins(10, 4, 6, 4);
    m_pastLabel = new QLabel(m_pastBanner);
    m_pastLabel->setObjectName(QStringLiteral("pastLabel"));
    row->addWidget(m_pastLabel);
    for (int speed : {1, 10, 60}) {
        auto *play = new QPushButton(tr("▶ %1×").arg(speed), m_pastBanner);
        play->setObjectName(QStringLiteral("play%1x").arg(speed));
        play->setToolTip(tr("Play from this moment at %1× speed").arg(speed));
        connect(play, &QPushButton::clicked, this, [this, speed] { playHistory(m_playSpeed == speed ? 0 : speed); });
        row->addWidget(play);
    }
    auto *live = new QPushButton(tr("Back to live"), m_pastBanner);
    live->setObjectName(QStringLiteral("backToLive"));
    live->setToolTip(tr("Show the live graph again (End in the timeline)"));
    connect(live, &QPushButton::clicked, this, &MainWindow::backToLive);
    row->addWidget(live);
    m_pastBanner->hide();
    m_canvas->installEventFilter(this);

    // Playing shows a frame every 25 ms (40 per second) at most, at the moment the wall
    // time since play began says (times the speed), so late ticks never slow it down; a
    // tick that comes while the last frame is still being worked out waits for it.
    m_panelsTimer = new QTimer(this);
    m_panelsTimer->setSingleShot(true);
    m_panelsTimer->setInterval(250);
    connect(m_panelsTimer, &QTimer::timeout, this, &MainWindow::followMomentInPanels);

    m_playTimer = new QTimer(this);
    m_playTimer->setTimerType(Qt::PreciseTimer);
    m_playTimer->setInterval(25);
    connect(m_playTimer, &QTimer::timeout, this, [this] {
        if (!m_pastMs) {
            playHistory(0);
            return;
        }
        if (!isPastShown())
            return;
        const int64_t next = m_playFromMs + int64_t(m_playSpeed) * m_playClock.elapsed();
        if (m_timelineEndMs && next >= *m_timelineEndMs) {
            goToMoment(*m_timelineEndMs, m_pastWindow);  // a recording's end: stay there
            playHistory(0);
            return;
        }
        if (!m_timelineEndMs && next >= GraphAggregator::wallNowMs() - 2000) {
            backToLive();  // caught up: the last seconds are still being counted
            return;
        }
        goToMoment(next, m_pastWindow);
    });
}

void MainWindow::goToMoment(int64_t ms, int windowSeconds)
{
    if (!m_timeline)
        return;
    if (m_diff)
        closeDiff();
    m_pastMs = ms;
    m_pastWindow = windowSeconds > 0 ? windowSeconds : m_aggregator->config().windowSeconds;
    m_timeline->setViewed(ms, m_pastWindow);
    m_pastLabel->setText(pastBannerText());
    m_pastBanner->show();
    m_pastBanner->raise();
    placePastBanner();
    showPastMoment();
}

void MainWindow::showPastMoment()
{
    const GraphHistory *history = m_aggregator->history();
    const int64_t ms = *m_pastMs;
    const int window = m_pastWindow;
    const HealthPolicy health = m_aggregator->config().health;
    // Tens of milliseconds for a big mesh: off the GUI thread; a newer moment replaces it.
    m_historyJobs->run<GraphSnapshotPtr>(
        [history, ms, window, health] { return history->snapshotAt(ms, window, health); },
        [this, ms](GraphSnapshotPtr past) {
            if (!m_pastMs)
                return;
            m_pastSnapshot = std::move(past);
            m_pastShownMs = ms;
            showSnapshot(viewOfGraph(m_pastSnapshot, m_view));
            // The requests and traces follow a quarter second later, at most four times
            // a second: reading them must not hold up the graph of the moment.
            if (!m_panelsTimer->isActive())
                m_panelsTimer->start();
        });
}

// The requests table and the trace search show the moment viewed, or live again. While
// playing, at most twice a second: reading the recent requests costs milliseconds.
void MainWindow::followMomentInPanels()
{
    std::optional<std::pair<int64_t, int64_t>> range;
    if (m_pastMs)
        range = std::make_pair(*m_pastMs - int64_t(m_pastWindow) * 1000, *m_pastMs);
    m_panelsTimer->stop();
    m_requests->setMoment(range);
    m_requestsDock->setWindowTitle(range
            ? tr("Requests at %1")
                  .arg(QDateTime::fromMSecsSinceEpoch(range->second).toString(QStringLiteral("HH:mm:ss")))
            : tr("Live requests"));
    if (m_traceSearch)
        m_traceSearch->setMoment(range);
}

void MainWindow::backToLive()
{
    if (m_diff)
        closeDiff();
    if (!m_timeline || !m_pastMs)
        return;
    m_historyJobs->cancel();
    m_pastMs.reset();
    m_pastSnapshot.reset();
    m_pastShownMs = -1;
    playHistory(0);
    m_pastBanner->hide();
    m_timeline->setViewed(std::nullopt);
    m_timeline->refresh(timelineNowMs());
    followMomentInPanels();
    if (m_published)
        showSnapshot(viewOfGraph(m_published, m_view));
}

bool MainWindow::isPastShown() const { return m_pastMs && m_pastShownMs == *m_pastMs; }

void MainWindow::playHistory(int speed)
{
    if (!m_playTimer)
        return;
    m_playSpeed = m_pastMs ? speed : 0;
    if (m_playSpeed > 0) {
        m_playFromMs = *m_pastMs;
        m_playClock.start();
        m_playTimer->start();
    } else {
        m_playTimer->stop();
    }
    for (int s : {1, 10, 60}) {
        if (auto *b = m_pastBanner->findChild<QPushButton *>(QStringLiteral("play%1x").arg(s)))
            b->setText(m_playSpeed == s ? tr("❚❚ %1×").arg(s) : tr("▶ %1×").arg(s));
    }
}

QString MainWindow::pastBannerText() const
{
    if (!m_pastMs)
        return {};
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(*m_pastMs);
    QString text = tr("Viewing %1 — the %2 before it")
                       .arg(at.toString(QStringLiteral("HH:mm:ss")),
                           display::quantity(m_pastWindow, tr("second"), tr("seconds")));
    // What the sources were doing then: a gap in the graph may be an outage, not calm.
    for (const QString &down : sourcesDownAt(*m_pastMs))
        text += QStringLiteral("\n⚠ ") + down;
    return text;
}

void MainWindow::placePastBanner()
{
    if (!m_pastBanner || m_pastBanner->isHidden())
        return;
    m_pastBanner->adjustSize();
    const QSize s = m_pastBanner->sizeHint();
    // Top left, below the notice bar when one shows: clear of the outside world at the
    // top centre of the layout, the legend and the canvas's labels in the lower corners.
    const int top = m_notice->isVisible() ? m_notice->geometry().bottom() + 8 : 10;
    m_pastBanner->setGeometry(10, top, std::min(s.width(), m_canvas->width() - 20), s.height());
}

void MainWindow::markRouteApply(uint64_t version, const QString &target, const QString &summary, int64_t ms)
{
    if (!m_timeline)
        return;
    TimelineStrip::Marker m;
    m.kind = TimelineStrip::Marker::Kind::RouteApply;
    m.ms = ms;
    m.subject = target;
    m.text = tr("Routes version %1 applied to %2").arg(version).arg(target)
        + (summary.isEmpty() ? QString() : QStringLiteral("\n") + summary);
    m_timeline->addMarker(m);
}

void MainWindow::followRouting(RoutingController *controller)
{
    connect(controller, &RoutingController::routesApplied, this,
        [this](quint64 version, const QString &target, const QString &yaml, const QString &previous) {
            const QString summary = previous.isEmpty()
                ? QString()
                : QString::fromStdString(routing::briefUnifiedDiff(previous.toStdString(), yaml.toStdString()))
                      .trimmed();
            const int64_t now = GraphAggregator::wallNowMs();
            markRouteApply(version, target, summary, now);
            m_appliedRoutes.applied(version, yaml, previous, now);
            if (!m_appliedTimer) {
                m_appliedTimer = new QTimer(this);
                m_appliedTimer->setInterval(1000);
                connect(m_appliedTimer, &QTimer::timeout, this, [this] {
                    updateNodeNotes();
                    updateSplitNotes();
                    if (!m_appliedRoutes.recentApplyMs(GraphAggregator::wallNowMs()))
                        m_appliedTimer->stop();
                });
            }
            m_appliedTimer->start();
            updateNodeNotes();
            updateSplitNotes();
        });
    if (m_rollout || !m_routeEditor)
        return;
    m_rollout = new RolloutController(controller, m_routeEditor, m_aggregator, this);
    connect(m_routeEditor, &RouteEditor::rolloutRequested, this, &MainWindow::openRolloutDialog);
    connect(m_rollout, &RolloutController::changed, this, [this] {
        m_appliedRoutes.setRolloutNote(m_rollout->canaryService(), m_rollout->canaryNote());
        updateNodeNotes();
    });
}

RolloutDialog *MainWindow::rolloutDialog() const { return m_rolloutDialog; }

void MainWindow::showWhatIf(
    RouteDiffDialog *dialog, const routing::RouteSet &current, const routing::RouteSet &proposed)
{
    if (!m_traceStore || !dialog)
        return;
    auto *view = new WhatIfView;
    dialog->addPage(view, tr("What-if"));
    const int64_t now = GraphAggregator::wallNowMs();
    const int windowSeconds = m_published ? m_published->windowSeconds : 60;
    view->setPending(tr("Replaying the last %1 s of traffic through the edits…").arg(windowSeconds));
    if (!m_whatIfJobs)
        m_whatIfJobs = std::make_unique<BackgroundJobs>(this);
    struct Result {
        routing::WhatIfReport report;
        uint64_t traces = 0;
    };
    const TraceStore *store = m_traceStore;
    const routing::DataPlane plane = m_routeEditor->dataPlane();
    QPointer<WhatIfView> page(view);
    m_whatIfJobs->run<std::shared_ptr<Result>>(
        [store, current, proposed, plane, now, windowSeconds] {
            auto r = std::make_shared<Result>();
            const uint64_t toNs = uint64_t(now) * 1'000'000ull;
            const uint64_t fromNs = toNs - uint64_t(windowSeconds) * 1'000'000'000ull;
            r->report = whatIfOnRecentTraffic(*store, fromNs, toNs, current, proposed, plane, 20000, &r->traces);
            return r;
        },
        [this, page, windowSeconds](std::shared_ptr<Result> r) {
            if (!page)
                return;
            page->setReport(
                r->report, tr("the last %1 s (%2 traces)").arg(windowSeconds).arg(display::count(r->traces)));
            m_appliedRoutes.setProjected(whatIfByBackend(r->report));
            updateNodeNotes();
        });
    connect(dialog, &QDialog::finished, this, [this] {
        m_appliedRoutes.setProjected({});
        updateNodeNotes();
    });
}

void MainWindow::openRolloutDialog(int route, int rule)
{
    if (!m_rollout || m_rolloutDialog)
        return;
    m_rolloutDialog = new RolloutDialog(m_routeEditor->appliedSet(), route, rule, m_routeEditor->dataPlane(), this);
    m_rolloutDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_rolloutDialog, &QDialog::accepted, this, [this, dialog = m_rolloutDialog] {
        QString error;
        if (!m_rollout->start(dialog->plan(), &error))
            m_routeEditor->reportApplyError(tr("The rollout did not start: %1").arg(error));
    });
    m_rolloutDialog->open();
}

void MainWindow::updateNodeNotes()
{
    if (m_pastMs || m_diff || !m_snapshot) {
        m_canvas->setNodeNotes({});
        return;
    }
    m_canvas->setNodeNotes(m_appliedRoutes.nodeNotes(*m_snapshot, GraphAggregator::wallNowMs()));
}

void MainWindow::markSourceState(const QString &id)
{
    if (!m_timeline || !m_sources)
        return;
    const SourceManager::Status s = m_sources->status(id);
    // Marked by the name the status bar shows ("monitoring"), as a recording keeps it.
    const QString name = m_sources->contains(id) ? m_sources->spec(id).displayName() : id;
    markSourceEvent(
        name, QString::fromLatin1(SourceManager::stateName(s.state)), s.message, GraphAggregator::wallNowMs());
    // A server certificate expired or about to: once per certificate.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const PeerCertificate &cert = s.serverCertificate;
    if (!cert.isNull() && (cert.expired(now) || cert.expiresSoon(now))
        && m_certificatesMarked.value(id) != cert.sha256Fingerprint) {
        m_certificatesMarked.insert(id, cert.sha256Fingerprint);
        TimelineStrip::Marker m;
        m.kind = TimelineStrip::Marker::Kind::CertificateWarning;
        m.ms = GraphAggregator::wallNowMs();
        m.subject = name;
        m.text = tr("%1: certificate %2").arg(name, cert.summary(now));
        m_timeline->addMarker(m);
    }
}

void MainWindow::markSourceEvent(const QString &id, const QString &state, const QString &message, int64_t ms)
{
    if (!m_timeline)
        return;
    // SourceManager::stateName's words, as live sources report them and recordings keep them.
    const bool down = state == QLatin1String("retrying") || state == QLatin1String("failed");
    const bool up = state == QLatin1String("listening") || state == QLatin1String("connected");
    if (!down && !up)
        return;
    const int now = down ? 1 : 2;
    const int before = m_sourceStates.value(id, 0);
    m_sourceStates.insert(id, now);
    if (now == before || (before == 0 && up))
        return;  // only changes: a source that came up once is no event
    TimelineStrip::Marker m;
    m.kind = down ? TimelineStrip::Marker::Kind::SourceDown : TimelineStrip::Marker::Kind::SourceUp;
    m.ms = ms;
    m.subject = id;
    m.text = (down ? tr("%1 down") : tr("%1 back")).arg(id) + (message.isEmpty() ? QString() : tr(": %1").arg(message));
    m_timeline->addMarker(m);
}

QStringList MainWindow::sourcesDownAt(int64_t ms) const
{
    if (!m_timeline)
        return {};
    // The last outage marker at or before the moment decides, per source.
    std::map<QString, const TimelineStrip::Marker *> last;
    for (const TimelineStrip::Marker &m : m_timeline->markers()) {
        if (m.ms > ms || m.subject.isEmpty()
            || (m.kind != TimelineStrip::Marker::Kind::SourceDown && m.kind != TimelineStrip::Marker::Kind::SourceUp))
            continue;
        const TimelineStrip::Marker *&seen = last[m.subject];
        if (!seen || seen->ms <= m.ms)
            seen = &m;
    }
    QStringList down;
    for (const auto &[id, m] : last) {
        if (m->kind == TimelineStrip::Marker::Kind::SourceDown)
            down << m->text;
    }
    return down;
}

void MainWindow::setTimelineEnd(int64_t endMs)
{
    m_timelineEndMs = endMs;
    if (auto *live = m_pastBanner ? m_pastBanner->findChild<QPushButton *>(QStringLiteral("backToLive")) : nullptr) {
        live->setText(tr("Whole recording"));
        live->setToolTip(tr("Show the graph of the whole recording again (End in the timeline)"));
    }
    if (m_timeline) {
        m_timeline->setFixedEnd(true);
        m_timeline->refresh(timelineNowMs());
    }
}

int64_t MainWindow::timelineNowMs() const { return m_timelineEndMs ? *m_timelineEndMs : GraphAggregator::wallNowMs(); }

GraphSnapshotPtr MainWindow::shownBase() const
{
    if (m_diffUnion)
        return m_diffUnion;
    return m_pastMs ? m_pastSnapshot : m_published;
}

// ---- graph diff -----------------------------------------------------------------

namespace {

QString rangeText(int64_t fromMs, int64_t toMs)
{
    auto t
        = [](int64_t ms) -> QString { return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")); };
    return t(fromMs) + QStringLiteral("–") + t(toMs);
}

}  // namespace

void MainWindow::compareRanges(int64_t beforeFromMs, int64_t beforeToMs, int64_t afterFromMs, int64_t afterToMs)
{
    const GraphHistory *history = m_aggregator ? m_aggregator->history() : nullptr;
    if (!history || !m_historyJobs)
        return;
    if (beforeToMs <= beforeFromMs || afterToMs <= afterFromMs) {
        m_notice->showNotice(tr("A diff needs two ranges that each last a while: pick them again"));
        return;
    }
    playHistory(0);
    m_timeline->setDiffRanges(
        TimelineStrip::Range {beforeFromMs, beforeToMs}, TimelineStrip::Range {afterFromMs, afterToMs});
    const HealthPolicy health = m_aggregator->config().health;
    const DiffThresholds thresholds = GraphDiffPanel::savedThresholds();
    auto seconds = [](int64_t from, int64_t to) { return int(std::max<int64_t>(1, (to - from + 999) / 1000)); };
    const int beforeWindow = seconds(beforeFromMs, beforeToMs), afterWindow = seconds(afterFromMs, afterToMs);
    const QString before = rangeText(beforeFromMs, beforeToMs), after = rangeText(afterFromMs, afterToMs);
    // Two moments' graphs and their diff: tens of milliseconds for a big mesh, off the GUI thread.
    m_historyJobs->run<std::shared_ptr<GraphDiff>>(
        [=] {
            return std::make_shared<GraphDiff>(diffGraphs(history->snapshotAt(beforeToMs, beforeWindow, health),
                history->snapshotAt(afterToMs, afterWindow, health), thresholds));
        },
        [this, before, after](std::shared_ptr<GraphDiff> diff) { showDiff(std::move(*diff), before, after); });
}

void MainWindow::compareAroundChange(int64_t ms)
{
    if (!m_timeline)
        return;
    // What the history holds: up to two seconds ago live (the last ones are still
    // being counted), to its end for a recording.
    const int64_t last = m_timelineEndMs ? *m_timelineEndMs : timelineNowMs() - 2000;
    const int64_t afterFrom = ms + kSettleAfterChangeMs;
    const int64_t afterTo = std::min(afterFrom + kAroundChangeMs, last);
    if (afterTo - afterFrom < 1000) {
        m_notice->showNotice(tr("The route change is too recent to compare: wait a few seconds for traffic after it"));
        return;
    }
    // "Before" ends with the second before the change's: that second holds both.
    compareRanges(std::max(m_timeline->startMs(), ms - kAroundChangeMs), ms - 1000, afterFrom, afterTo);
}

void MainWindow::compareWithRecording(const QString &path)
{
    // "after" is what the window shows now: a recording's whole graph, or the live one.
    const GraphSnapshotPtr after = m_pastMs && m_pastSnapshot ? m_pastSnapshot : m_published;
    const QString afterText = m_showsRecording ? tr("this recording")
        : m_pastMs                             ? pastBannerText().section(QLatin1Char('\n'), 0, 0)
                                               : tr("live");
    if (!after) {
        m_notice->showNotice(tr("Nothing to compare yet: the graph is empty"));
        return;
    }
    const DiffThresholds thresholds = GraphDiffPanel::savedThresholds();
    const AggregatorConfig config = m_aggregator ? m_aggregator->config() : AggregatorConfig {};
    struct Outcome {
        std::shared_ptr<GraphDiff> diff;
        QString error;
    };
    m_notice->setStanding(QStringLiteral("compare-recording"), tr("Reading %1…").arg(QFileInfo(path).fileName()));
    if (!m_compareJobs)
        m_compareJobs = std::make_unique<BackgroundJobs>(this);  // its own: a scrub must not cancel it
    m_compareJobs->run<Outcome>(
        [path, after, thresholds, config] {
            Outcome out;
            std::string why;
            std::unique_ptr<RecordingReader> reader = RecordingReader::open(path.toStdString(), why);
            if (!reader) {
                out.error = QString::fromStdString(why);
                return out;
            }
            AggregatorConfig whole = config;
            whole.keepHistory = false;
            GraphSnapshotPtr before = graphOfRecording(*reader, reader->startMs(), reader->endMs(), whole, why);
            if (!before) {
                out.error = QString::fromStdString(why);
                return out;
            }
            out.diff = std::make_shared<GraphDiff>(diffGraphs(before, after, thresholds));
            return out;
        },
        [this, path, afterText](Outcome out) {
            m_notice->clearStanding(QStringLiteral("compare-recording"));
            if (!out.diff) {
                m_notice->showNotice(tr("Cannot compare with %1: %2").arg(QFileInfo(path).fileName(), out.error));
                return;
            }
            showDiff(std::move(*out.diff), QFileInfo(path).fileName(), afterText);
        });
}

void MainWindow::showDiff(GraphDiff diff, const QString &before, const QString &after)
{
    if (!m_diffPanel) {
        m_diffPanel = new GraphDiffPanel(this);
        m_diffPanel->setObjectName(QStringLiteral("diffPanel"));
        m_diffDock = new QDockWidget(tr("Changes"), this);
        m_diffDock->setObjectName(QStringLiteral("diffDock"));
        m_diffDock->setFeatures(m_inspectDock->features());
        m_diffDock->setWidget(m_diffPanel);
        if (!restoreDockWidget(m_diffDock)) {
            addDockWidget(Qt::BottomDockWidgetArea, m_diffDock);
            if (!m_requestsDock->isFloating() && dockWidgetArea(m_requestsDock) == Qt::BottomDockWidgetArea)
                tabifyDockWidget(m_requestsDock, m_diffDock);
        }
        connect(m_diffPanel, &GraphDiffPanel::closeRequested, this, [this] {
            closeDiff();
            if (m_pastMs)
                showPastMoment();
        });
        connect(m_diffPanel, &GraphDiffPanel::itemChosen, this, [this](const QString &id, bool edge) {
            if (edge)
                m_canvas->selectEdge(id);
            else
                m_canvas->selectNode(id);
        });
        // New thresholds judge the same two graphs again (a diff costs milliseconds).
        connect(m_diffPanel, &GraphDiffPanel::thresholdsChanged, this, [this](const DiffThresholds &t) {
            if (m_diff)
                showDiff(diffGraphs(m_diff->before, m_diff->after, t), m_diffBeforeText, m_diffAfterText);
        });
    }
    playHistory(0);
    m_diff = std::make_shared<const GraphDiff>(std::move(diff));
    m_diffUnion = unionSnapshot(*m_diff);
    m_diffBeforeText = before;
    m_diffAfterText = after;
    m_diffPanel->setDiff(m_diff, before, after);
    m_diffDock->show();
    m_diffDock->raise();
    showDiffOnCanvas();
    if (m_pastBanner) {
        m_pastLabel->setText(tr("Diff: before %1 → after %2 · %3 added, %4 removed, %5 changed")
                                 .arg(before, after)
                                 .arg(m_diff->count(DiffChange::Added))
                                 .arg(m_diff->count(DiffChange::Removed))
                                 .arg(m_diff->count(DiffChange::Changed)));
        for (int s : {1, 10, 60}) {
            if (auto *b = m_pastBanner->findChild<QPushButton *>(QStringLiteral("play%1x").arg(s)))
                b->hide();
        }
        m_pastBanner->show();
        m_pastBanner->raise();
        placePastBanner();
    }
}

void MainWindow::showDiffOnCanvas()
{
    std::vector<GraphCanvas::DiffMark> marks;
    auto kindOf = [](DiffChange c) {
        return c == DiffChange::Added  ? GraphCanvas::DiffMark::Kind::Added
            : c == DiffChange::Removed ? GraphCanvas::DiffMark::Kind::Removed
                                       : GraphCanvas::DiffMark::Kind::Changed;
    };
    for (const NodeDiff &d : m_diff->nodes) {
        if (d.change != DiffChange::Same)
            marks.push_back({QString::fromStdString(d.node().id), false, kindOf(d.change), {}});
    }
    for (const EdgeDiff &d : m_diff->edges) {
        if (d.change == DiffChange::Same)
            continue;
        QString label;
        if (d.change == DiffChange::Changed)
            label = QString::fromStdString(
                diffDeltaText(d.before->stats, d.after->stats, d.moved, d.shareBefore, d.shareAfter));
        marks.push_back({QString::fromStdString(d.edge().id), true, kindOf(d.change), label});
    }
    showSnapshot(viewOfGraph(m_diffUnion, m_view));
    m_canvas->setDiffOverlay(marks);
}

void MainWindow::closeDiff()
{
    if (!m_diff)
        return;
    m_diff.reset();
    m_diffUnion.reset();
    m_canvas->clearDiffOverlay();
    if (m_timeline)
        m_timeline->setDiffRanges(std::nullopt, std::nullopt);
    if (m_diffPanel)
        m_diffPanel->setDiff(nullptr, {}, {});
    if (m_pastBanner) {
        for (int s : {1, 10, 60}) {
            if (auto *b = m_pastBanner->findChild<QPushButton *>(QStringLiteral("play%1x").arg(s)))
                b->show();
        }
        if (m_pastMs)
            m_pastLabel->setText(pastBannerText());
        else
            m_pastBanner->hide();
    }
    // The canvas goes back to what it showed: the moment viewed, or the newest graph.
    if (m_pastMs && m_pastSnapshot)
        showSnapshot(viewOfGraph(m_pastSnapshot, m_view));
    else if (!m_pastMs && m_published)
        showSnapshot(viewOfGraph(m_published, m_view));
}

void MainWindow::applySnapshot(GraphSnapshotPtr snapshot)
{
    if (!snapshot)
        return;
    m_published = snapshot;
    if (m_pastMs || m_diff)
        return;  // the canvas shows a past moment or a diff; live snapshots wait for "back to live"
    if (m_viewJob)
        return;  // the view being worked out starts again from the newest when it lands
    if (m_view == GraphViewOptions() || snapshot->nodes.size() < kViewOffThreadNodes) {
        showSnapshot(viewOfGraph(snapshot, m_view));
        if (m_routeEditor)
            updateSplitNotesForSnapshot();
        return;
    }
    // Merging a big graph takes longer than a frame: on a pool thread, so the window
    // stays live; snapshots published meanwhile are skipped for the newest.
    auto job = std::make_shared<ViewJob>();
    m_viewJob = job;
    QThreadPool::globalInstance()->start([this, job, snapshot, view = m_view] {
        GraphSnapshotPtr shown = viewOfGraph(snapshot, view);
        std::lock_guard lock(job->mutex);
        if (job->cancelled)
            return;
        QMetaObject::invokeMethod(
            this,
            [this, job, snapshot, view, shown] {
                if (job != m_viewJob)
                    return;
                m_viewJob.reset();
                if (view == m_view)
                    showSnapshot(shown);
                if (m_routeEditor)
                    updateSplitNotesForSnapshot();
                if (m_published != snapshot)
                    applySnapshot(m_published);
            },
            Qt::QueuedConnection);
    });
}

void MainWindow::showSnapshot(GraphSnapshotPtr snapshot)
{
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
    updateNodeNotes();
    refreshNamespaces();
    if (first)
        refreshStatus();
    if (m_emptyGuide->isHidden() == snapshot->nodes.empty())
        refreshEmptyGuide();
}

void MainWindow::setGraphType(GraphType type)
{
    GraphViewOptions view = m_view;
    view.type = type;
    setGraphView(view);
}

void MainWindow::collapseNamespace(const QString &ns)
{
    if (ns.isEmpty())
        return;
    GraphViewOptions view = m_view;
    view.collapsedNamespaces.insert(ns.toStdString());
    setGraphView(view);
}

void MainWindow::expandNamespace(const QString &ns)
{
    GraphViewOptions view = m_view;
    view.collapsedNamespaces.erase(ns.toStdString());
    setGraphView(view);
}

void MainWindow::expandAllNamespaces()
{
    GraphViewOptions view = m_view;
    view.collapsedNamespaces.clear();
    setGraphView(view);
}

void MainWindow::setGraphView(const GraphViewOptions &view)
{
    if (view == m_view)
        return;
    const GraphViewOptions before = m_view;
    const QString selectedNode = m_canvas->selectedNode();
    const QString selectedEdge = m_canvas->selectedEdge();
    m_view = view;
    {
        const QSignalBlocker block(m_graphTypeCombo);
        m_graphTypeCombo->setCurrentIndex(m_graphTypeCombo->findData(int(view.type)));
    }
    (view.type == GraphType::Services ? m_servicesAction : m_workloadsAction)->setChecked(true);
    m_expandAllAction->setEnabled(!view.collapsedNamespaces.empty());
    m_requests->setGraphView(view);
    scheduleSave();
    const GraphSnapshotPtr base = shownBase();
    if (!base)
        return;
    showSnapshot(viewOfGraph(base, m_view));
    // Another graph type changes most nodes: lay it out afresh (pinned nodes stay). A
    // namespace folded or unfolded changes a few, which the stable layout places.
    if (view.type != before.type) {
        m_canvas->relayout();
        m_canvas->fitToView();
    }
    bool selected = selectedNode.isEmpty() && selectedEdge.isEmpty();
    if (!selectedNode.isEmpty()) {
        const QString id = nodeInView(selectedNode, before);
        selected = !id.isEmpty() && !selectNode(id).isEmpty();
    } else if (EdgeEnds ends; !selectedEdge.isEmpty() && parseEdgeId(selectedEdge.toStdString(), &ends)) {
        selected = selectEdge(
            QString::fromStdString(edgeId(viewNodeId(ends.source, m_view), viewNodeId(ends.target, m_view))));
    }
    if (!selected) {
        m_canvas->clearSelection();
        onSelectionCleared();
    }
}

QString MainWindow::nodeInView(const QString &id, const GraphViewOptions &shownBefore) const
{
    // The node itself, else what it was merged or folded into, else (a service shown
    // by version again) its first version. A namespace unfolded has no one successor.
    const std::string old = id.toStdString();
    if (!m_snapshot)
        return {};
    if (m_snapshot->node(old))
        return id;
    if (const std::string merged = viewNodeId(old, m_view); m_snapshot->node(merged))
        return QString::fromStdString(merged);
    if (!namespaceOfNamespaceNodeId(old).empty())
        return {};
    for (const NodeSnapshot &n : m_snapshot->nodes) {
        if (viewNodeId(n.id, shownBefore) == old)
            return QString::fromStdString(n.id);
    }
    return {};
}

QMenu *MainWindow::nodeContextMenu(const QString &id)
{
    auto *menu = new QMenu(this);
    menu->addAction(tr("Inspect"), this, [this, id] { selectNode(id); });
    menu->addAction(tr("Copy node id"), this, [id] { QApplication::clipboard()->setText(id); });
    const std::string nodeId = id.toStdString();
    const std::string folded(namespaceOfNamespaceNodeId(nodeId));
    const NodeSnapshot *node = m_snapshot ? m_snapshot->node(nodeId) : nullptr;
    if (!folded.empty() && m_view.collapsedNamespaces.count(folded)) {
        const QString ns = QString::fromStdString(folded);
        QAction *expand = menu->addAction(tr("Expand namespace %1").arg(ns), this, [this, ns] { expandNamespace(ns); });
        expand->setObjectName(QStringLiteral("expandNamespaceAction"));
    } else if (node && !node->ns.empty()) {
        const QString ns = QString::fromStdString(node->ns);
        QAction *collapse
            = menu->addAction(tr("Collapse namespace %1").arg(ns), this, [this, ns] { collapseNamespace(ns); });
        collapse->setObjectName(QStringLiteral("collapseNamespaceAction"));
    }
    QHash<QString, QPointF> pinned = m_canvas->pinnedPositions();
    if (pinned.contains(id)) {
        menu->addAction(tr("Unpin position"), this, [this, id] {
            QHash<QString, QPointF> p = m_canvas->pinnedPositions();
            p.remove(id);
            m_canvas->setPinnedPositions(p);
            scheduleSave();
        });
    }
    if (!pinned.isEmpty()) {
        menu->addAction(tr("Unpin all nodes"), this, [this] {
            m_canvas->setPinnedPositions({});
            scheduleSave();
        });
    }
    // A folded namespace is no service a route could send traffic to.
    if (m_routeEditor && folded.empty()) {
        // The editor finds the route whose backends serve this node (or offers to create one).
        auto routeAction = [this, menu, id](const QString &text, void (RouteEditor::*slot)(const QString &)) {
            menu->addAction(text, this, [this, id, slot] {
                m_routesDock->show();
                m_routesDock->raise();
                (m_routeEditor->*slot)(id);
            });
        };
        menu->addSeparator();
        routeAction(tr("Shift traffic..."), &RouteEditor::shiftTraffic);
        routeAction(tr("Add header route..."), &RouteEditor::addHeaderRoute);
        routeAction(tr("Inject fault..."), &RouteEditor::injectFault);
    }
    return menu;
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
    // A retrying source's countdown moves on even when nothing is reported.
    refreshSources();
    if (!m_snapshot) {
        m_rateLabel->setText(tr("0 spans/s in"));
        m_graphLabel->setText(tr("waiting for traffic"));
        m_rejectLabel->setText(tr("0 rejected"));
        return;
    }
    // What arrives is live even while the canvas shows a past moment.
    const GraphSnapshot &s = m_published ? *m_published : *m_snapshot;
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
    m_graphLabel->setText(tr("%1 nodes · %2 edges").arg(m_snapshot->nodes.size()).arg(m_snapshot->edges.size()));

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
        } else if (const std::string shown = viewNodeId(wanted, m_view); m_snapshot->node(shown)) {
            id = QString::fromStdString(shown);  // a version's id while services are shown, say
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
    focusRoutesFor(id);
}

void MainWindow::focusRoutesFor(const QString &nodeId)
{
    // The rule "Shift traffic..." would edit, selected quietly: no notice when none
    // routes to the node, and the keyboard stays where it was (on the canvas).
    if (!m_routeEditor || !m_routesDock->isVisible())
        return;
    if (const auto at = routing::findRuleFor(m_routeEditor->editedSet(), nodeId.toStdString()))
        m_routeEditor->selectRule(at->route, at->rule);
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
    const std::unique_ptr<QMenu> menu(nodeContextMenu(id));
    menu->exec(globalPos);
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
    s.setValue(QStringLiteral("windowState"), saveState(kDockStateVersion));
    s.setValue(QStringLiteral("filter/northSouthOnly"), m_northSouthOnly->isChecked());
    s.setValue(QStringLiteral("filter/eastWestOnly"), m_eastWestOnly->isChecked());
    s.setValue(QStringLiteral("filter/errorsOnly"), m_errorsOnly->isChecked());
    s.setValue(QStringLiteral("filter/namespace"), m_namespaceCombo->currentData().toString());
    s.setValue(QStringLiteral("edgeLabel"), m_edgeLabelCombo->currentData().toInt());
    s.setValue(QStringLiteral("animation"), m_animation->isChecked());
    s.setValue(QStringLiteral("graph/type"),
        m_view.type == GraphType::Services ? QStringLiteral("services") : QStringLiteral("workloads"));
    QStringList collapsed;
    for (const std::string &ns : m_view.collapsedNamespaces)
        collapsed << QString::fromStdString(ns);
    s.setValue(QStringLiteral("graph/collapsedNamespaces"), collapsed);
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
    // A layout saved by an older version (Routes tabbed with Inspect) is refused and
    // the docks get the default sizes for this window instead.
    if (s.contains(QStringLiteral("windowState"))
        && restoreState(s.value(QStringLiteral("windowState")).toByteArray(), kDockStateVersion))
        m_defaultDockSizes = false;
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
    GraphViewOptions view;
    if (s.value(QStringLiteral("graph/type")).toString() == QLatin1String("services"))
        view.type = GraphType::Services;
    for (const QString &ns : s.value(QStringLiteral("graph/collapsedNamespaces")).toStringList()) {
        if (!ns.isEmpty())
            view.collapsedNamespaces.insert(ns.toStdString());
    }
    setGraphView(view);
    QHash<QString, QPointF> pinned;
    const QVariantMap map = s.value(QStringLiteral("pinnedPositions")).toMap();
    for (auto it = map.begin(); it != map.end(); ++it)
        pinned.insert(it.key(), it.value().toPointF());
    if (!pinned.isEmpty())
        m_canvas->setPinnedPositions(pinned);
    s.endGroup();
    const LinkTemplates links = loadLinkTemplates(s, m_workspace);
    m_inspect->setLinkTemplates(links);
    m_requests->setLinkTemplates(links);
    applyFilter();
    m_saveTimer->stop();  // nothing changed yet
}

void MainWindow::closeWithoutAsking()
{
    m_closeWithoutAsking = true;
    close();
}

MainWindow::CloseAnswer MainWindow::askAboutUnappliedRoutes()
{
    const int changes = std::max(1, int(m_routeEditor->pendingDiff().summary.size()));
    const QString question = tr("The routes have %n unapplied change(s). Quit and discard them?", nullptr, changes);
    if (m_closeQuestion)
        return m_closeQuestion(question);
    QMessageBox box(QMessageBox::Warning, tr("Unapplied route changes"), question, QMessageBox::NoButton, this);
    box.setObjectName(QStringLiteral("unappliedRoutesQuestion"));
    box.setInformativeText(tr("The data plane keeps serving the routes last applied."));
    QPushButton *discard = box.addButton(tr("&Discard and Quit"), QMessageBox::DestructiveRole);
    QPushButton *review = box.addButton(tr("&Review…"), QMessageBox::ActionRole);
    QPushButton *cancel = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(cancel);
    box.setEscapeButton(cancel);
    box.exec();
    if (box.clickedButton() == discard)
        return CloseAnswer::Discard;
    return box.clickedButton() == review ? CloseAnswer::Review : CloseAnswer::Cancel;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!m_closeWithoutAsking && m_routeEditor && m_routeEditor->hasChanges()) {
        const CloseAnswer answer = askAboutUnappliedRoutes();
        if (answer != CloseAnswer::Discard) {
            event->ignore();
            if (answer == CloseAnswer::Review) {
                raiseRouteEditor();
                m_routeEditor->showTab(RouteEditor::Tab::Changes);
                m_routeEditor->reviewAndApply();  // does nothing while errors block Apply
            }
            return;
        }
    }
    // A rollout never advances blind: closing the window holds it where it is (the
    // data plane keeps the step's weights, and the route history has them).
    if (m_rollout && m_rollout->running())
        m_rollout->pause(tr("the window was closed"));
    m_saveTimer->stop();
    saveSettings();
    QMainWindow::closeEvent(event);
}

}  // namespace meshscope

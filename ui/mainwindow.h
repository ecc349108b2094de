#pragma once
// The dashboard window: the graph canvas in the centre, the inspect panel docked on
// the right, live requests docked at the bottom, a toolbar for finding, filtering,
// labelling and exporting, and a status bar that says what meshscope listens on and
// how much arrives. It only reads snapshots (applySnapshot) and asks the aggregator
// for the one item it inspects; it never touches a socket. Every snapshot is shown
// through the graph view the user chose (graph type, folded namespaces; graph/graphview.h),
// so the canvas, Inspect, find, live requests and exports all see one graph. Layout,
// filters, the graph view and pinned node positions persist per workspace
// (restoreSettings() after construction).
// Problems show in the notice bar over the canvas and in the status bar, both written
// from the sources' current state; an empty window says where to send telemetry; Help
// has the user guide (docs/guide.md), the shortcut sheet and About.

#include "graph/graphdiff.h"
#include "graph/graphsnapshot.h"
#include "graph/graphview.h"
#include "routing/appliedroutes.h"
#include "routing/routemodel.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

QT_BEGIN_NAMESPACE
class QAction;
class QComboBox;
class QDialog;
class QDockWidget;
class QFrame;
class QLabel;
class QLineEdit;
class QMenu;
class QMessageBox;
class QPlainTextEdit;
class QTimer;
QT_END_NAMESPACE

namespace meshscope {

class RolloutController;
class RouteDiffDialog;
class RolloutDialog;

class GraphAggregator;
class GraphCanvas;
class InspectPanel;
class NoticeBar;
class RequestsPanel;
class RouteEditor;
class ConnectionsDialog;
class SessionRecorder;
class SourceManager;
class TraceStore;
class TraceView;
class TraceWindow;
class TraceSearchDialog;
class TimelineStrip;
class RoutingController;
class GraphDiffPanel;
class BackgroundJobs;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum class ExportFormat { Png, Svg, Json, Dot };

    explicit MainWindow(
        GraphAggregator *aggregator, const QString &workspace = QStringLiteral("default"), QWidget *parent = nullptr);
    ~MainWindow() override;

    // What the receivers listen on, e.g. "OTLP 127.0.0.1:4317".
    void setListenDescription(const QString &text);
    // A source failed (bind error, demo generator gone): status bar and a notice.
    void reportSourceError(const QString &text);
    void setDemoMode(bool demo);
    // Docks the route editor below the inspect panel (when meshscope hosts a control
    // plane), so a service's details and its routes show together; selecting a service
    // selects the rule routing to it, and its context menu gets the traffic actions.
    void setRouteEditor(RouteEditor *editor);
    RouteEditor *routeEditor() const { return m_routeEditor; }
    void raiseRouteEditor();  // shows the Routes dock (and brings it forward if tabbed)

    // Closing with unapplied route edits asks first: discard them and close, review
    // them (the window stays open), or cancel. How it asks can be replaced (tests
    // answer without a dialog); the default is a message box.
    enum class CloseAnswer { Discard, Review, Cancel };
    using CloseQuestion = std::function<CloseAnswer(const QString &question)>;
    void setCloseQuestion(CloseQuestion question) { m_closeQuestion = std::move(question); }
    // Closes without asking (Ctrl+C or TERM from a terminal or service manager).
    void closeWithoutAsking();

    QDockWidget *inspectDock() const { return m_inspectDock; }
    QDockWidget *requestsDock() const { return m_requestsDock; }
    QDockWidget *routesDock() const { return m_routesDock; }
    // The sources the status bar reports on, one coloured state each, and that
    // Sources > Connections... edits.
    void setSourceManager(SourceManager *manager);
    // Shows (creating on first use) the connections dialog, non-modal.
    ConnectionsDialog *openConnections();
    // The spans sources deliver are kept here: a request row's trace opens from it
    // (double-click, "Show trace"), and Traces > Open trace by ID (Ctrl+T).
    void setTraceStore(TraceStore *store);
    // Opens the trace in its own window (one per trace; opening it again raises it).
    // Null, with the reason in the notice bar, when the store does not hold it.
    TraceView *openTrace(const QString &idText);
    // Asks for a trace id (Ctrl+T), then openTrace.
    void openTraceById();
    // Traces > Search traces (Ctrl+Shift+F): one non-modal search dialog per window,
    // whose results open with openTrace.
    TraceSearchDialog *openTraceSearch();
    // Draws the trace `view` shows over the graph (its hops numbered, the critical
    // path's bright) and says in its window which calls the graph has no edge for.
    // Returns that sentence.
    QString showTraceOnGraph(TraceView *view);
    // Plays the trace of `window` on the graph in time order: each call lights up when
    // it starts (marked in flight until it ends), over a few seconds; at the end the
    // whole path stays, as showTraceOnGraph draws it. Showing or opening another trace
    // stops it; so does the window's stop button (showing the whole path).
    void replayTraceOnGraph(TraceWindow *window);
    void stopTraceReplay(bool showWhole = false);
    bool isReplayingTrace() const;
    int replayedHops() const;  // calls lit so far by the running replay, -1 when none runs
    // File > Record: what the sources deliver also goes to a .msrec file while a
    // recording runs, with a red indicator (duration, size) in the status bar that
    // stops it when clicked. Without a recorder the menu has no Record entry.
    void setSessionRecorder(SessionRecorder *recorder);
    // Starts recording to `path`; false with the reason (also shown) when it cannot.
    bool startRecording(const QString &path, QString *error = nullptr);
    // Ends the recording; the file is complete and can be opened. False if none ran.
    bool stopRecording();
    bool isRecording() const;
    // File > Open recording: shows a recording in a window of its own (see
    // RecordingSession). Null, with the reason in the notice bar, when it cannot.
    MainWindow *openRecording(const QString &path);
    // This window shows a recording, not live sources: the status bar says which, and
    // the "waiting for telemetry" guide never shows.
    // `details` (route changes, ...) go to the tooltip, a line each.
    void setRecordingDescription(const QString &text, const QStringList &details = {});
    // Settings are not read or written when off (screenshots, tests).
    void setPersistenceEnabled(bool on);

    // Selects a node by id, or else by the first node whose id or name contains text.
    // Returns the selected node id, or an empty string.
    QString selectNode(const QString &idOrText);
    bool selectEdge(const QString &id);

    bool exportGraph(ExportFormat format, const QString &fileName, QString *error = nullptr) const;
    bool saveScreenshot(const QString &fileName, QString *error = nullptr);

    void saveSettings() const;
    void restoreSettings();

    // Time travel, when the aggregator keeps history (AggregatorConfig::keepHistory):
    // the timeline strip under the canvas, and the graph of a past moment over a window
    // (0: the aggregator's). While a moment is viewed the canvas and Inspect show it, a
    // banner over the canvas says which and leads back to live, and published
    // snapshots wait. The graph of the moment is worked out off the GUI thread.
    TimelineStrip *timeline() const { return m_timeline; }
    void goToMoment(int64_t ms, int windowSeconds = 0);
    void backToLive();
    bool isViewingPast() const { return m_pastMs.has_value(); }
    std::optional<int64_t> viewedMs() const { return m_pastMs; }
    int viewedWindowSeconds() const { return m_pastWindow; }
    // Plays from the moment viewed at 1x, 10x or 60x (0 stops); live again at the end.
    void playHistory(int speed);
    int playSpeed() const { return m_playSpeed; }
    QString pastBannerText() const;  // "" while live
    // True once the graph of the moment asked for last is on the canvas.
    bool isPastShown() const;
    // A route change that took effect: a marker on the timeline (its diff on hover).
    void markRouteApply(uint64_t version, const QString &target, const QString &summary, int64_t ms);
    // Every route change `controller` makes take effect becomes such a marker, its
    // summary the diff from the routes it replaced.
    // It also makes "Roll out…" in the route editor run health-gated rollouts through it.
    void followRouting(RoutingController *controller);
    RolloutController *rolloutController() const { return m_rollout; }
    // The Roll out dialog while it is open (it opens window-modal, not blocking).
    RolloutDialog *rolloutDialog() const;
    // A source's state (SourceManager::stateName's words) at `ms`: going down or coming
    // back is a timeline marker, and a moment inside an outage says so in the banner.
    void markSourceEvent(const QString &id, const QString &state, const QString &message, int64_t ms);
    // The sources down at `ms`, as their outage markers say ("prometheus down: ...").
    QStringList sourcesDownAt(int64_t ms) const;
    // A recording's window: the timeline ends at the recording's end (not at the wall
    // clock), playing stops there and "back to live" shows the whole recording.
    void setTimelineEnd(int64_t endMs);
    // The recording a window shows (RecordingSession): File › Export clip writes a range
    // of it (the one viewed on the timeline, else all of it) with the secrets removed.
    void setRecordingFile(const QString &path, int64_t startMs, int64_t endMs);
    QWidget *exportClip();  // the dialog it opened, or null in a live window
    int64_t timelineNowMs() const;

    // Graph diff: the graph of one range of the history against another's, drawn on the
    // canvas (both graphs at once, graph/graphdiff.h unionSnapshot: added, removed and
    // changed items marked) and listed, biggest change first, in the Changes dock.
    // Worked out off the GUI thread; while it shows, live snapshots wait. Going to a
    // moment or back to live closes it.
    void compareRanges(int64_t beforeFromMs, int64_t beforeToMs, int64_t afterFromMs, int64_t afterToMs);
    // The minutes before a route change against the ones after it (a click on its flag).
    void compareAroundChange(int64_t ms);
    static constexpr int64_t kAroundChangeMs = 120'000;
    static constexpr int64_t kSettleAfterChangeMs = 2'000;  // after a change, before "after" starts
    // The graph shown now (a recording window's: the whole recording) against the whole of
    // another recording, read off the GUI thread (File › Compare with recording).
    void compareWithRecording(const QString &path);
    void showDiff(GraphDiff diff, const QString &before, const QString &after);
    void closeDiff();
    bool isDiffShown() const { return m_diff != nullptr; }
    std::shared_ptr<const GraphDiff> shownDiff() const { return m_diff; }
    GraphDiffPanel *diffPanel() const { return m_diffPanel; }
    QDockWidget *diffDock() const { return m_diffDock; }

    // The graph as shown (the aggregator's, through the graph view) and as published.
    GraphSnapshotPtr snapshot() const { return m_snapshot; }
    GraphSnapshotPtr publishedSnapshot() const { return m_published; }

    // Graph type and folded namespaces: View menu, the toolbar's graph combo and a
    // node's context menu set them. Changing them re-shows the latest snapshot at once
    // and keeps the selection where it still has a node (a version's becomes its
    // service's; a service's its first version's).
    const GraphViewOptions &graphView() const { return m_view; }
    void setGraphView(const GraphViewOptions &view);
    void setGraphType(GraphType type);
    void collapseNamespace(const QString &ns);
    void expandNamespace(const QString &ns);
    void expandAllNamespaces();
    QComboBox *graphTypeCombo() const { return m_graphTypeCombo; }
    QAction *workloadsAction() const { return m_workloadsAction; }
    QAction *servicesAction() const { return m_servicesAction; }
    QAction *expandAllNamespacesAction() const { return m_expandAllAction; }
    // The menu a right-click on node `id` opens; the caller owns it.
    QMenu *nodeContextMenu(const QString &id);
    GraphCanvas *canvas() const { return m_canvas; }
    InspectPanel *inspectPanel() const { return m_inspect; }
    RequestsPanel *requestsPanel() const { return m_requests; }
    NoticeBar *noticeBar() const { return m_notice; }
    QLineEdit *findField() const { return m_findEdit; }
    QComboBox *namespaceCombo() const { return m_namespaceCombo; }
    QComboBox *edgeLabelCombo() const { return m_edgeLabelCombo; }
    QAction *fitAction() const { return m_fitAction; }
    QAction *findAction() const { return m_findAction; }
    QAction *northSouthOnlyAction() const { return m_northSouthOnly; }
    QAction *eastWestOnlyAction() const { return m_eastWestOnly; }
    QAction *errorsOnlyAction() const { return m_errorsOnly; }
    QAction *animationAction() const { return m_animation; }
    QString statusText() const;  // all status bar fields, for tests

    // The card over an empty canvas: where to send telemetry (the OTLP address, an
    // OpenTelemetry Collector exporter snippet), or how to start the demo.
    QFrame *emptyGuide() const { return m_emptyGuide; }
    QString emptyGuideText() const;  // its words and snippet as plain text
    QString collectorSnippet() const;  // the exporter YAML for the OTLP receiver running now

    // Help: the user guide (docs/guide.md rendered from the resources), the keyboard
    // shortcuts (generated from the actions, so it lists what really works) and About
    // (with the versions of Qt, gRPC, protobuf and OpenSSL). Each opens non-modal.
    QDialog *openGuide();
    QDialog *openShortcuts();
    QMessageBox *openAbout();
    QAction *guideAction() const { return m_guideAction; }
    QAction *shortcutsAction() const { return m_shortcutsAction; }
    QAction *aboutAction() const { return m_aboutAction; }
    static QString aboutText();

public Q_SLOTS:
    // Called (queued) for every published snapshot; GUI thread.
    void applySnapshot(meshscope::GraphSnapshotPtr snapshot);

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void buildActions();
    void buildToolBar();
    void buildMenus();
    void buildDocks();
    void buildStatusBar();
    // Whether applied routes reach a data plane: Caddy, or a connected xDS client.
    bool routesReachDataPlane() const;
    // The split shares written on the graph's edges (GraphCanvas::setEdgeNotes).
    void updateSplitNotes();
    // updateSplitNotes for a published snapshot: at most four times a second after an apply.
    void updateSplitNotesForSnapshot();
    void updateNodeNotes();
    void openRolloutDialog(int route, int rule);
    // The review's What-if page and the graph's projected requests per backend.
    void showWhatIf(RouteDiffDialog *dialog, const routing::RouteSet &current, const routing::RouteSet &proposed);
    void openFind();
    void runFind();
    void applyFilter();
    void refreshNamespaces();
    void refreshStatus();
    void onNodeClicked(const QString &id);
    void onEdgeClicked(const QString &id);
    void onSelectionCleared();
    void onNodeContextMenu(const QString &id, const QPoint &globalPos);
    void showSnapshot(GraphSnapshotPtr view);
    void buildTimeline();
    void showPastMoment();
    void placePastBanner();
    void markSourceState(const QString &id);
    QString nodeInView(const QString &id, const GraphViewOptions &shownBefore) const;
    void focusRoutesFor(const QString &nodeId);
    CloseAnswer askAboutUnappliedRoutes();
    // Dock sizes in proportion to the window, for a window with no saved layout.
    void applyDefaultDockSizes();
    void exportWithDialog(ExportFormat format);
    void scheduleSave();
    void refreshSources();
    void refreshProblems();
    void elideErrorLabel();
    void buildEmptyGuide();
    void refreshEmptyGuide();
    void placeEmptyGuide();
    QString settingsGroup() const;

    // saveState()'s version. 2: Routes below Inspect, no longer tabbed with it; older
    // saved layouts are ignored so they cannot bring the tabs back.
    static constexpr int kDockStateVersion = 2;
    bool m_defaultDockSizes = true;  // no saved layout was restored: size docks on first show
    bool m_shownOnce = false;
    bool m_closeWithoutAsking = false;
    CloseQuestion m_closeQuestion;

    GraphAggregator *m_aggregator;
    QString m_workspace;
    bool m_persist = true;
    GraphSnapshotPtr m_published;  // as the aggregator published it
    GraphSnapshotPtr m_snapshot;  // m_published through m_view
    GraphViewOptions m_view;
    // Graphs this big get their view (merged versions, folded namespaces) on a pool thread.
    static constexpr size_t kViewOffThreadNodes = 2000;
    struct ViewJob {
        std::mutex mutex;
        bool cancelled = false;
    };
    std::shared_ptr<ViewJob> m_viewJob;
    static constexpr int64_t kSettleMs = 15000;
    int64_t m_settleUntilMs = 0;  // wall time until which shape changes are laid out afresh
    std::pair<size_t, size_t> m_settleShape {0, 0};
    QAction *m_relayoutAction = nullptr;

    QWidget *m_canvasArea = nullptr;  // the canvas, with the notice bar and the empty guide over it
    GraphCanvas *m_canvas;
    NoticeBar *m_notice;
    QFrame *m_emptyGuide = nullptr;
    QLabel *m_emptyGuideText = nullptr;
    QLabel *m_emptyGuideFooter = nullptr;
    QPlainTextEdit *m_emptyGuideSnippet = nullptr;
    QWidget *m_emptyGuideSnippetRow = nullptr;
    int m_emptyGuideSnippetHeight = 0;  // the whole snippet, when there is room
    bool m_demoMode = false;
    bool m_showsRecording = false;  // a recording's window (setRecordingDescription)
    SessionRecorder *m_recorder = nullptr;
    QAction *m_recordAction = nullptr;
    QLabel *m_recordLabel = nullptr;  // the red indicator while recording
    QTimer *m_recordTimer = nullptr;
    qint64 m_recordStartedMs = 0;
    void updateRecordIndicator();
    void chooseRecordingFile();
    InspectPanel *m_inspect;
    RequestsPanel *m_requests;
    TraceStore *m_traceStore = nullptr;
    TraceView *m_traceOnGraph = nullptr;  // whose path the canvas draws
    struct PlacedHop;
    struct TraceOnGraph;
    struct TraceReplay;
    TraceOnGraph traceOnGraph(const TraceView *view) const;
    void advanceTraceReplay();
    std::unique_ptr<TraceReplay> m_replay;
    QTimer *m_replayTimer = nullptr;
    std::unique_ptr<BackgroundJobs> m_traceJobs;  // traces assembled for their windows
    // Time travel.
    TimelineStrip *m_timeline = nullptr;
    QFrame *m_pastBanner = nullptr;
    QLabel *m_pastLabel = nullptr;
    QTimer *m_timelineTimer = nullptr;
    QTimer *m_playTimer = nullptr;
    std::optional<int64_t> m_pastMs;
    int m_pastWindow = 0;
    int m_playSpeed = 0;
    QElapsedTimer m_playClock;  // wall time since play began
    int64_t m_playFromMs = 0;  // the moment play began at
    GraphSnapshotPtr m_pastSnapshot;  // the graph of m_pastMs, once worked out
    int64_t m_pastShownMs = -1;  // the moment m_pastSnapshot is of
    QHash<QString, int> m_sourceStates;  // last state each source was marked in
    QHash<QString, QString> m_certificatesMarked;  // source -> fingerprint of the certificate warned of
    std::optional<int64_t> m_timelineEndMs;  // a recording's end; the wall clock when unset
    QString m_recordingPath;  // the recording shown, if any
    int64_t m_recordingStartMs = 0, m_recordingEndMs = 0;
    QAction *m_exportClipAction = nullptr;
    std::unique_ptr<BackgroundJobs> m_historyJobs;
    std::unique_ptr<BackgroundJobs> m_compareJobs;  // reading a recording to compare with
    std::shared_ptr<const GraphDiff> m_diff;  // the diff shown, or null
    GraphSnapshotPtr m_diffUnion;  // what the canvas draws it on
    QString m_diffBeforeText, m_diffAfterText;
    GraphDiffPanel *m_diffPanel = nullptr;
    QDockWidget *m_diffDock = nullptr;
    void showDiffOnCanvas();
    void followMomentInPanels();
    QTimer *m_panelsTimer = nullptr;  // the requests and traces follow the moment when it fires
    // The latest route apply's notes on its services and its shares since (and a
    // rollout's progress); refreshed each second while shown.
    AppliedRoutes m_appliedRoutes;
    RolloutController *m_rollout = nullptr;
    std::unique_ptr<BackgroundJobs> m_whatIfJobs;
    QPointer<RolloutDialog> m_rolloutDialog;
    QTimer *m_appliedTimer = nullptr;
    int64_t m_splitNotesMs = 0;  // when the split notes were last worked out
    // The graph the canvas shows before the view is applied: a diff's, a past moment's
    // or the newest published.
    GraphSnapshotPtr shownBase() const;
    TraceSearchDialog *m_traceSearch = nullptr;
    QDockWidget *m_inspectDock = nullptr;
    QDockWidget *m_requestsDock = nullptr;
    RouteEditor *m_routeEditor = nullptr;
    QDockWidget *m_routesDock = nullptr;
    SourceManager *m_sources = nullptr;
    ConnectionsDialog *m_connections = nullptr;
    QLabel *m_sourcesLabel = nullptr;

    QAction *m_fitAction = nullptr;
    QAction *m_findAction = nullptr;
    QAction *m_findFieldAction = nullptr;
    QAction *m_northSouthOnly = nullptr;
    QAction *m_eastWestOnly = nullptr;
    QAction *m_errorsOnly = nullptr;
    QAction *m_animation = nullptr;
    QAction *m_exportPng = nullptr;
    QAction *m_exportSvg = nullptr;
    QAction *m_exportJson = nullptr;
    QAction *m_exportDot = nullptr;
    QAction *m_guideAction = nullptr;
    QAction *m_shortcutsAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QDialog *m_guide = nullptr;
    QDialog *m_shortcuts = nullptr;
    QMessageBox *m_about = nullptr;
    QLineEdit *m_findEdit = nullptr;
    QComboBox *m_namespaceCombo = nullptr;
    QComboBox *m_edgeLabelCombo = nullptr;
    QComboBox *m_graphTypeCombo = nullptr;
    QAction *m_workloadsAction = nullptr;
    QAction *m_servicesAction = nullptr;
    QAction *m_expandAllAction = nullptr;
    QString m_savedNamespace;

    QLabel *m_listenLabel = nullptr;
    QLabel *m_demoLabel = nullptr;
    QLabel *m_rateLabel = nullptr;
    QLabel *m_graphLabel = nullptr;
    QLabel *m_rejectLabel = nullptr;
    QLabel *m_foldedLabel = nullptr;
    QLabel *m_errorLabel = nullptr;
    QStringList m_sourceErrors;  // history for the error label's tooltip, newest last
    QString m_lastError;  // the latest one-off error (not a source's standing problem)
    QString m_errorText;  // what the error label says, before eliding
    QTimer *m_statusTimer;
    QTimer *m_saveTimer;

    // Spans/s from counter deltas between samples at least a second apart.
    int64_t m_rateSampleMs = -1;
    uint64_t m_rateSampleSpans = 0;
    double m_spansPerSecond = 0;
};

}  // namespace meshscope

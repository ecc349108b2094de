#pragma once
// The route editor dock: edit a copy of the routes a data plane serves, see what is
// wrong as you type, review the diff, apply, and watch each client ACK or NACK it.
//
// Left, the routes per target (the name a client dials) -> HTTPRoute -> rules in
// match order, reorderable. Right, the selected rule: matches, weighted backends
// with a traffic-shift helper, timeouts, retries, fault injection. Below, tabs for
// problems (RouteValidator for the chosen data plane, live), the pending change
// (RouteDiff, monospaced and coloured), the xDS clients and the change history.
//
// The editor never talks to a data plane itself: Apply (after the diff review)
// emits applyRequested(set); the owner pushes it and calls setApplied(set, version).
// Clients and history are fed by the owner (setClients, setHistory); a rollback is
// asked for with rollbackRequested(id), the owner answers with reviewRollback(id,
// set), and the same review then emits rollbackConfirmed(set, id). When the routes
// live in a file, the owner's setFilePreview() lets both reviews show the whole-file
// diff that will be written. The graph's context menu calls
// shiftTraffic / addHeaderRoute / injectFault with a service as the graph names it.

#include "routing/routediff.h"
#include "routing/routediffview.h"
#include "routing/routehistory.h"
#include "routing/routeissue.h"
#include "routing/routemodel.h"
#include "routing/routevalidator.h"
#include "routing/xds/xdscontrolplane.h"

#include <QMetaType>
#include <QPointer>
#include <QSet>
#include <QString>
#include <QWidget>

#include <functional>
#include <vector>

QT_BEGIN_NAMESPACE
class QComboBox;
class QLabel;
class QLayout;
class QLineEdit;
class QListWidget;
class QPushButton;
class QScrollArea;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QToolButton;
class QTreeView;
QT_END_NAMESPACE

namespace meshscope {

class RouteDiffDialog;
class RouteDiffView;
class RouteHistoryModel;
class RouteRuleEditor;
class RouteTreeModel;
class RouteWizard;
class XdsClientsModel;

// What applying a route set writes to the route file: its name, the unified diff of
// the whole file, and what could not be kept as written (empty when all was).
struct RouteFilePreview {
    QString fileName;
    QString diff;
    QStringList notes;
};

class RouteEditor : public QWidget {
    Q_OBJECT
public:
    enum class Tab { Problems, Changes, Clients, History };

    explicit RouteEditor(QWidget *parent = nullptr);
    ~RouteEditor() override;

    // What the data plane now serves, and its version (XdsControlPlane::version()).
    // Without unapplied edits the edited copy becomes this set; with edits, they are
    // kept and the diff is taken against the new set (a notice says so).
    void setApplied(const routing::RouteSet &set, quint64 version = 0);
    // Replaces the edited copy (e.g. a route file opened for editing), keeping the applied one.
    void setEdited(const routing::RouteSet &set);
    const routing::RouteSet &appliedSet() const { return m_applied; }
    const routing::RouteSet &editedSet() const;
    quint64 appliedVersion() const { return m_version; }
    bool hasChanges() const;

    // The data plane validation is for (default: gRPC's proxyless xDS client).
    void setDataPlane(routing::DataPlane plane);
    routing::DataPlane dataPlane() const { return m_plane; }
    // Where Apply sends the change, for the review dialog ("xDS 127.0.0.1:18000").
    void setTargetDescription(const QString &text);
    // How the reviews learn what a route set would write to the route file.
    void setFilePreview(std::function<RouteFilePreview(const routing::RouteSet &)> preview);

    // Validator issues of the edited set, and text the rule editor could not read.
    const std::vector<routing::RouteIssue> &issues() const { return m_issues; }
    QStringList inputErrors() const;
    bool canApply() const;
    routing::RouteDiff pendingDiff() const { return m_diff; }
    QString diffText() const;  // what the Changes tab shows

    // Selection (route index into editedSet().routes, rule index within it).
    bool selectRule(int route, int rule);
    int currentRoute() const { return m_route; }
    int currentRule() const { return m_rule; }
    bool moveCurrentRule(int delta);  // -1 up, +1 down

    // Services some rule routes to, as "namespace/name" (backends, and for backends
    // named <service>-<version> also "namespace/<service>"), plus route hostnames that
    // are plain service names. routesService() accepts the forms the graph shows:
    // "ns/name", "name", "ns/name@version".
    QSet<QString> routedServices() const { return m_routed; }
    bool routesService(const QString &service) const;
    // One line for the graph's tooltip on `service` (a form routesService() accepts):
    // the routes sending traffic to it and the targets clients dial, e.g.
    // "HTTPRoute bookinfo/reviews (2 rules: jason, canary) · target reviews". Empty when none.
    QString routingSummary(const QString &service) const;

    // The review dialog while it is open (nullptr otherwise).
    RouteDiffDialog *reviewDialog() const { return m_review; }
    // The graph action's wizard while it is open (nullptr otherwise).
    RouteWizard *wizard() const;
    QString noticeText() const;

    RouteTreeModel *treeModel() const { return m_tree; }
    QTreeView *treeView() const { return m_treeView; }
    RouteRuleEditor *ruleEditor() const { return m_ruleEditor; }
    XdsClientsModel *clientsModel() const { return m_clients; }
    RouteHistoryModel *historyModel() const { return m_history; }
    QTableView *clientsView() const { return m_clientsView; }
    QTableView *historyView() const { return m_historyView; }
    QListWidget *problemsList() const { return m_problems; }
    RouteDiffView *changesView() const { return m_changes; }
    QPushButton *applyButton() const { return m_apply; }
    QPushButton *rollbackButton() const { return m_rollback; }
    // "Roll out…": the selected rule's traffic moved to one backend in health-gated steps
    // (rolloutRequested); enabled for an applied rule with two or more backends.
    QPushButton *rolloutButton() const { return m_rolloutButton; }
    // Holds Apply and Roll out while something else moves the routes (a rollout), with
    // the reason their tooltips give; an empty reason releases them.
    void setApplyLock(const QString &reason);
    QString applyLock() const { return m_applyLock; }
    // A widget under the header's buttons (a rollout's progress).
    void addHeaderWidget(QWidget *widget);
    QComboBox *dataPlaneBox() const { return m_planeBox; }
    QTabWidget *tabs() const { return m_tabs; }
    void showTab(Tab tab);

public Q_SLOTS:
    // Latest client states (XdsControlPlane::clients()); GUI thread.
    void setClients(std::vector<meshscope::routing::XdsClientStatus> clients);
    // Every history entry, oldest first (RouteHistory::list()).
    void setHistory(std::vector<meshscope::routing::HistoryEntry> entries);
    // The owner could not apply (validation by the data plane, config changed underneath).
    void reportApplyError(const QString &message);
    // The same with a button on the notice (e.g. "Pull again" after a stale ETag), and
    // optionally a second one (e.g. "Replace theirs…").
    void reportApplyError(const QString &message, const QString &actionText, std::function<void()> action,
        const QString &secondText = {}, std::function<void()> second = {});
    // Something about the target that is not an apply (its routes could not be read),
    // optionally with a button that acts on it.
    void reportTargetProblem(const QString &message, const QString &actionText = {}, std::function<void()> action = {});

    // From the graph's context menu; `service` as the graph names it. Each selects the
    // rule routing to the service (and offers to create a route when none does), then
    // opens its wizard (wizard()); the wizard's OK puts the change into the edited
    // routes and opens the same review as Apply. Cancel changes nothing.
    void shiftTraffic(const QString &service);
    void addHeaderRoute(const QString &service);
    void injectFault(const QString &service);
    // A route for a service nothing routes to yet: hostname = the service name, one
    // rule sending everything to it. Returns the new route's index.
    int createRouteFor(const QString &service);

    // Opens the diff review; its Apply emits applyRequested(). Does nothing while Apply is disabled.
    void reviewAndApply();
    // Opens the same review for rolling back change `entryId` to `set` (the routes as
    // they were before it); its Roll back emits rollbackConfirmed().
    void reviewRollback(qint64 entryId, const meshscope::routing::RouteSet &set);

    // Drops all unapplied edits.
    void revert();

Q_SIGNALS:
    void applyRequested(const meshscope::routing::RouteSet &set);
    void rollbackRequested(qint64 entryId);
    // The review before an apply of `proposed` over `current` opened (pages may be added).
    void reviewOpened(meshscope::RouteDiffDialog *dialog, const meshscope::routing::RouteSet &current,
        const meshscope::routing::RouteSet &proposed);
    // Roll out… on rule `rule` of route `route` (indexes into appliedSet()).
    void rolloutRequested(int route, int rule);
    void rollbackConfirmed(const meshscope::routing::RouteSet &set, qint64 entryId);
    void routedServicesChanged();
    // The edited set changed (any edit, revert, or a new applied set taken over).
    void editedChanged();

private:
    QWidget *buildHeader();
    QWidget *buildTreePane();
    QWidget *buildDetailPane();
    QWidget *buildTabs();
    void loadSelection();
    void onTreeSelection();
    void onRuleEdited();
    void revalidate();
    void choosePlane();
    void refreshProblems();
    void refreshStatus();
    void refreshRolloutButton();
    void refreshRouted();
    void restoreSelection(int route, int rule);
    void addRule();
    void removeCurrentRule();
    void showNotice(const QString &text, const QString &actionText = {}, std::function<void()> action = {},
        const QString &secondText = {}, std::function<void()> second = {});
    void hideNotice();
    QStringList knownServices() const;
    // The review of going from the applied routes to `set`; nullptr when one is open.
    RouteDiffDialog *openReview(const routing::RouteDiff &diff, const routing::RouteSet &set);
    // Calls `then` with the rule that best carries `service` (routing::findRuleFor), else
    // offers to create a route for it and calls `then` on that route's rule.
    void withRuleFor(const QString &service, const QString &what, std::function<void(int, int)> then);
    // Shows a wizard; its OK takes its edit into the edited routes and opens the review.
    void openWizard(RouteWizard *wizard);

    routing::RouteSet m_applied;
    quint64 m_version = 0;
    bool m_hasApplied = false;
    routing::DataPlane m_plane = routing::DataPlane::XdsGrpc;
    // Until the operator picks a plane, meshscope picks it: the connected clients' kind,
    // else the plane the routes are written for. m_planeReason says which, in the UI.
    bool m_planeChosen = false;
    QString m_planeReason;
    QString m_targetDescription;
    std::vector<routing::RouteIssue> m_issues;
    routing::RouteDiff m_diff;
    QSet<QString> m_routed;
    int m_route = -1;
    int m_rule = -1;
    bool m_loadingSelection = false;
    std::function<void()> m_noticeAction;
    std::function<void()> m_noticeSecondAction;
    bool m_noticeIsServedChange = false;  // the notice says the served routes changed under the edits
    QPointer<RouteDiffDialog> m_review;
    QPointer<RouteWizard> m_wizard;
    std::function<RouteFilePreview(const routing::RouteSet &)> m_filePreview;

    RouteTreeModel *m_tree;
    XdsClientsModel *m_clients;
    RouteHistoryModel *m_history;

    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QComboBox *m_planeBox = nullptr;
    QPushButton *m_revert = nullptr;
    QPushButton *m_apply = nullptr;
    QPushButton *m_rolloutButton = nullptr;
    QLayout *m_headerLayout = nullptr;
    QString m_applyLock;  // why Apply and Roll out are held (a rollout runs); empty: they are not
    QWidget *m_notice = nullptr;
    QLabel *m_noticeLabel = nullptr;
    QPushButton *m_noticeButton = nullptr;
    QPushButton *m_noticeSecondButton = nullptr;
    QTreeView *m_treeView = nullptr;
    QToolButton *m_up = nullptr;
    QToolButton *m_down = nullptr;
    QToolButton *m_addRule = nullptr;
    QToolButton *m_removeRule = nullptr;
    QStackedWidget *m_detail = nullptr;
    QLabel *m_placeholder = nullptr;
    QWidget *m_routePage = nullptr;
    QLabel *m_routeTitle = nullptr;
    QLabel *m_routeInfo = nullptr;
    QLineEdit *m_hostnames = nullptr;
    QScrollArea *m_ruleScroll = nullptr;
    RouteRuleEditor *m_ruleEditor = nullptr;
    QTabWidget *m_tabs = nullptr;
    QListWidget *m_problems = nullptr;
    RouteDiffView *m_changes = nullptr;
    QLabel *m_clientsSummary = nullptr;
    QTableView *m_clientsView = nullptr;
    QTableView *m_historyView = nullptr;
    RouteDiffView *m_historyDiff = nullptr;
    QPushButton *m_rollback = nullptr;
};

}  // namespace meshscope

Q_DECLARE_METATYPE(meshscope::routing::RouteSet)

#pragma once
// The route set being edited, as a tree: targets (the names clients dial, e.g.
// xds:///reviews, which are the routes' hostnames) -> HTTPRoutes served under that
// name -> their rules in match order. The model owns the edited RouteSet; the route
// editor changes rules through it so every view of a rule (a route with two hostnames
// shows under two targets) stays in step. Rules can be moved within their route,
// by call or by drag and drop; validation issues are shown as a coloured dot and a
// tooltip on the rule (or route) they concern.

#include "routing/routeissue.h"
#include "routing/routemodel.h"

#include <QAbstractItemModel>
#include <QIcon>
#include <QString>

#include <vector>

namespace meshscope {

class RouteTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum class Kind { Target, Route, Rule };
    enum Column { Name, Match, Backends, ColumnCount };
    enum Role {
        KindRole = Qt::UserRole + 1,  // int(Kind)
        RouteIndexRole,  // index into routeSet().routes (routes and rules)
        RuleIndexRole,  // index into the route's rules (rules)
        TargetRole,  // the target name this row is listed under
        SeverityRole,  // 0 no issue, 1 warning, 2 error (worst of the row's issues)
    };

    explicit RouteTreeModel(QObject *parent = nullptr);

    void setRouteSet(routing::RouteSet set);
    const routing::RouteSet &routeSet() const { return m_set; }

    const routing::HttpRoute *route(int route) const;
    const routing::RouteRule *rule(int route, int rule) const;

    // Replaces one rule's content; every row showing it reports dataChanged.
    void setRule(int route, int rule, routing::RouteRule value);
    // Replaces a route's hostnames (the tree regroups: a model reset).
    void setHostnames(int route, std::vector<std::string> hostnames);
    // Moves a rule within its route (first match wins, so order is meaning). Persistent
    // indexes follow the rules; returns false for an index out of range.
    bool moveRule(int route, int from, int to);
    // Inserts a rule at `position` (clamped) and returns its index. Model reset.
    int insertRule(int route, int position, routing::RouteRule value);
    bool removeRule(int route, int rule);
    // Appends a route and returns its index. Model reset.
    int addRoute(routing::HttpRoute route);

    // The first row showing this route / rule (under `target` when given and listed there).
    QModelIndex indexOfRoute(int route) const;
    QModelIndex indexOfRule(int route, int rule, const QString &target = {}) const;
    QStringList targets() const;

    // Issues from RouteValidator for the whole set; rows show the worst severity.
    void setIssues(std::vector<routing::RouteIssue> issues);
    const std::vector<routing::RouteIssue> &issues() const { return m_issues; }
    // The issues of one rule (route-level issues when rule < 0). Issues name a rule by
    // its name, or "rules[i]" when unnamed.
    std::vector<routing::RouteIssue> issuesFor(int route, int rule) const;
    // Where an issue points: the route and rule index, or -1.
    std::pair<int, int> locate(const routing::RouteIssue &issue) const;

    // One line for people: "PathPrefix /reviews, end-user = jason" / "reviews-v1 80 %, reviews-v2 20 %".
    static QString matchSummary(const routing::RouteRule &rule);
    static QString backendSummary(const routing::RouteRule &rule);
    static QString ruleLabel(const routing::RouteRule &rule, int index);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    // Drag and drop: a rule can be dropped onto another rule of the same route (it
    // takes that rule's place) or between the route's rules.
    Qt::DropActions supportedDropActions() const override;
    Qt::DropActions supportedDragActions() const override;
    QStringList mimeTypes() const override;
    QMimeData *mimeData(const QModelIndexList &indexes) const override;
    bool canDropMimeData(
        const QMimeData *data, Qt::DropAction action, int row, int column, const QModelIndex &parent) const override;
    bool dropMimeData(
        const QMimeData *data, Qt::DropAction action, int row, int column, const QModelIndex &parent) override;

Q_SIGNALS:
    // After every moveRule(), including one made by a drop.
    void ruleMoved(int route, int from, int to);

private:
    struct Target {
        QString name;
        std::vector<int> routes;  // indexes into m_set.routes, in file order
    };
    struct Address {
        Kind kind = Kind::Target;
        int target = -1;
        int routeRow = -1;  // row of the route under its target
        int rule = -1;
    };
    Address address(const QModelIndex &index) const;
    int routeIndexAt(int target, int routeRow) const;
    void rebuildTargets();
    int severityOf(int route, int rule) const;  // rule < 0: the route and all its rules
    bool dropTarget(const QMimeData *data, int row, const QModelIndex &parent, int *route, int *from, int *to) const;
    QIcon severityIcon(int severity) const;

    routing::RouteSet m_set;
    std::vector<Target> m_targets;
    std::vector<routing::RouteIssue> m_issues;
    // [route][rule + 1] worst severity; slot 0 holds route-level issues.
    std::vector<std::vector<int>> m_severity;
    QIcon m_warningIcon;
    QIcon m_errorIcon;
};

}  // namespace meshscope

#include "routing/models/routetreemodel.h"

#include "routing/xds/xdstranslator.h"

#include <QDataStream>
#include <QFont>
#include <QIODevice>
#include <QMimeData>
#include <QPainter>
#include <QPixmap>

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {

const QString kRuleMime = QStringLiteral("application/x-meshscope-route-rule");

// Internal ids say where a row sits: 0 for targets; 1 + target for routes; for rules
// ((target + 1) << 24) | (routeRow + 1). Plain numbers rather than pointers, so a
// rebuilt grouping never leaves a view holding a dangling pointer.
constexpr quintptr kShift = 24;
constexpr quintptr kMask = (quintptr(1) << kShift) - 1;

QString qs(const std::string &s) { return QString::fromStdString(s); }

QString pathTypeShort(routing::PathMatchType t)
{
    switch (t) {
    case routing::PathMatchType::Exact: return QStringLiteral("=");
    case routing::PathMatchType::PathPrefix: return QString();
    case routing::PathMatchType::RegularExpression: return QStringLiteral("~");
    }
    return QString();
}

QString stringMatchText(const std::string &name, routing::StringMatchType type, const std::string &value)
{
    return qs(name)
        + (type == routing::StringMatchType::RegularExpression ? QStringLiteral(" ~ ") : QStringLiteral("="))
        + qs(value);
}

QString routeKey(const routing::HttpRoute &r) { return qs(r.ns) + QLatin1Char('/') + qs(r.name); }

}  // namespace

RouteTreeModel::RouteTreeModel(QObject *parent)
    : QAbstractItemModel(parent)
{
    m_warningIcon = severityIcon(1);
    m_errorIcon = severityIcon(2);
}

QIcon RouteTreeModel::severityIcon(int severity) const
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(severity >= 2 ? QColor(0xf8, 0x51, 0x49) : QColor(0xd2, 0x99, 0x22));
    p.drawEllipse(QRectF(2, 2, 8, 8));
    p.end();
    return QIcon(pm);
}

void RouteTreeModel::setRouteSet(routing::RouteSet set)
{
    beginResetModel();
    m_set = std::move(set);
    m_issues.clear();
    rebuildTargets();
    endResetModel();
}

void RouteTreeModel::rebuildTargets()
{
    m_targets.clear();
    for (size_t i = 0; i < m_set.routes.size(); ++i) {
        for (const std::string &name : routing::xdsListenerNames(m_set.routes[i])) {
            const QString n = qs(name);
            auto it = std::find_if(m_targets.begin(), m_targets.end(), [&](const Target &t) { return t.name == n; });
            if (it == m_targets.end()) {
                m_targets.push_back({n, {}});
                it = m_targets.end() - 1;
            }
            if (std::find(it->routes.begin(), it->routes.end(), int(i)) == it->routes.end())
                it->routes.push_back(int(i));
        }
    }
    m_severity.assign(m_set.routes.size(), {});
    for (size_t i = 0; i < m_set.routes.size(); ++i)
        m_severity[i].assign(m_set.routes[i].rules.size() + 1, 0);
    for (const routing::RouteIssue &issue : m_issues) {
        const auto [route, rule] = locate(issue);
        if (route < 0 || size_t(route) >= m_severity.size() || rule + 1 >= int(m_severity[size_t(route)].size()))
            continue;
        int &slot = m_severity[size_t(route)][size_t(rule + 1)];
        slot = std::max(slot, issue.severity == routing::Severity::Error ? 2 : 1);
    }
}

const routing::HttpRoute *RouteTreeModel::route(int route) const
{
    return route >= 0 && size_t(route) < m_set.routes.size() ? &m_set.routes[size_t(route)] : nullptr;
}

const routing::RouteRule *RouteTreeModel::rule(int route, int rule) const
{
    const routing::HttpRoute *r = this->route(route);
    return r && rule >= 0 && size_t(rule) < r->rules.size() ? &r->rules[size_t(rule)] : nullptr;
}

void RouteTreeModel::setRule(int route, int rule, routing::RouteRule value)
{
    if (!this->rule(route, rule))
        return;
    m_set.routes[size_t(route)].rules[size_t(rule)] = std::move(value);
    for (size_t t = 0; t < m_targets.size(); ++t) {
        const QModelIndex idx = indexOfRule(route, rule, m_targets[t].name);
        if (idx.isValid() && idx.data(TargetRole).toString() == m_targets[t].name)
            Q_EMIT dataChanged(idx.siblingAtColumn(0), idx.siblingAtColumn(ColumnCount - 1));
    }
}

void RouteTreeModel::setHostnames(int route, std::vector<std::string> hostnames)
{
    if (!this->route(route))
        return;
    beginResetModel();
    m_set.routes[size_t(route)].hostnames = std::move(hostnames);
    rebuildTargets();
    endResetModel();
}

bool RouteTreeModel::moveRule(int route, int from, int to)
{
    const routing::HttpRoute *r = this->route(route);
    if (!r || from < 0 || to < 0 || size_t(from) >= r->rules.size() || size_t(to) >= r->rules.size())
        return false;
    if (from == to)
        return true;
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::NoLayoutChangeHint);
    const QModelIndexList before = persistentIndexList();
    std::vector<routing::RouteRule> &rules = m_set.routes[size_t(route)].rules;
    if (from < to)
        std::rotate(rules.begin() + from, rules.begin() + from + 1, rules.begin() + to + 1);
    else
        std::rotate(rules.begin() + to, rules.begin() + from, rules.begin() + from + 1);
    std::vector<int> &sev = m_severity[size_t(route)];
    if (from < to)
        std::rotate(sev.begin() + from + 1, sev.begin() + from + 2, sev.begin() + to + 2);
    else
        std::rotate(sev.begin() + to + 1, sev.begin() + from + 1, sev.begin() + from + 2);
    // Where each old rule position ends up.
    const auto moved = [&](int k) {
        if (k == from)
            return to;
        if (from < to && k > from && k <= to)
            return k - 1;
        if (to < from && k >= to && k < from)
            return k + 1;
        return k;
    };
    QModelIndexList after;
    after.reserve(before.size());
    for (const QModelIndex &idx : before) {
        const Address a = address(idx);
        if (a.kind == Kind::Rule && routeIndexAt(a.target, a.routeRow) == route)
            after.append(createIndex(moved(idx.row()), idx.column(), idx.internalId()));
        else
            after.append(idx);
    }
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged({}, QAbstractItemModel::NoLayoutChangeHint);
    Q_EMIT ruleMoved(route, from, to);
    return true;
}

int RouteTreeModel::insertRule(int route, int position, routing::RouteRule value)
{
    if (!this->route(route))
        return -1;
    beginResetModel();
    std::vector<routing::RouteRule> &rules = m_set.routes[size_t(route)].rules;
    position = std::clamp(position, 0, int(rules.size()));
    rules.insert(rules.begin() + position, std::move(value));
    rebuildTargets();
    endResetModel();
    return position;
}

bool RouteTreeModel::removeRule(int route, int rule)
{
    if (!this->rule(route, rule))
        return false;
    beginResetModel();
    std::vector<routing::RouteRule> &rules = m_set.routes[size_t(route)].rules;
    rules.erase(rules.begin() + rule);
    rebuildTargets();
    endResetModel();
    return true;
}

int RouteTreeModel::addRoute(routing::HttpRoute route)
{
    beginResetModel();
    m_set.routes.push_back(std::move(route));
    rebuildTargets();
    endResetModel();
    return int(m_set.routes.size()) - 1;
}

QStringList RouteTreeModel::targets() const
{
    QStringList out;
    for (const Target &t : m_targets)
        out.append(t.name);
    return out;
}

QModelIndex RouteTreeModel::indexOfRoute(int route) const
{
    for (size_t t = 0; t < m_targets.size(); ++t) {
        const auto &rs = m_targets[t].routes;
        const auto it = std::find(rs.begin(), rs.end(), route);
        if (it != rs.end())
            return createIndex(int(it - rs.begin()), 0, quintptr(t + 1));
    }
    return {};
}

QModelIndex RouteTreeModel::indexOfRule(int route, int rule, const QString &target) const
{
    if (!this->rule(route, rule))
        return {};
    QModelIndex first;
    for (size_t t = 0; t < m_targets.size(); ++t) {
        const auto &rs = m_targets[t].routes;
        const auto it = std::find(rs.begin(), rs.end(), route);
        if (it == rs.end())
            continue;
        const QModelIndex idx = createIndex(rule, 0, ((quintptr(t) + 1) << kShift) | quintptr(it - rs.begin() + 1));
        if (target.isEmpty() || m_targets[t].name == target)
            return idx;
        if (!first.isValid())
            first = idx;
    }
    return first;
}

void RouteTreeModel::setIssues(std::vector<routing::RouteIssue> issues)
{
    m_issues = std::move(issues);
    std::vector<std::vector<int>> old = m_severity;
    rebuildTargets();
    if (old == m_severity)
        return;
    // Only decorations and tooltips change: report every row of column 0.
    for (int t = 0; t < rowCount(); ++t) {
        const QModelIndex ti = index(t, 0);
        Q_EMIT dataChanged(ti, ti, {Qt::DecorationRole, Qt::ToolTipRole, SeverityRole});
        for (int r = 0; r < rowCount(ti); ++r) {
            const QModelIndex ri = index(r, 0, ti);
            Q_EMIT dataChanged(ri, ri, {Qt::DecorationRole, Qt::ToolTipRole, SeverityRole});
            const int n = rowCount(ri);
            if (n > 0)
                Q_EMIT dataChanged(
                    index(0, 0, ri), index(n - 1, 0, ri), {Qt::DecorationRole, Qt::ToolTipRole, SeverityRole});
        }
    }
}

std::pair<int, int> RouteTreeModel::locate(const routing::RouteIssue &issue) const
{
    for (size_t i = 0; i < m_set.routes.size(); ++i) {
        const routing::HttpRoute &r = m_set.routes[i];
        if (issue.document != "HTTPRoute " + r.ns + '/' + r.name)
            continue;
        if (issue.rule.empty())
            return {int(i), -1};
        for (size_t k = 0; k < r.rules.size(); ++k) {
            if (ruleLabel(r.rules[k], int(k)).toStdString() == issue.rule)
                return {int(i), int(k)};
        }
        return {int(i), -1};
    }
    return {-1, -1};
}

std::vector<routing::RouteIssue> RouteTreeModel::issuesFor(int route, int rule) const
{
    std::vector<routing::RouteIssue> out;
    for (const routing::RouteIssue &issue : m_issues) {
        const auto at = locate(issue);
        if (at.first == route && at.second == rule)
            out.push_back(issue);
    }
    return out;
}

int RouteTreeModel::severityOf(int route, int rule) const
{
    if (route < 0 || size_t(route) >= m_severity.size())
        return 0;
    const std::vector<int> &s = m_severity[size_t(route)];
    if (rule >= 0)
        return size_t(rule + 1) < s.size() ? s[size_t(rule + 1)] : 0;
    return s.empty() ? 0 : *std::max_element(s.begin(), s.end());
}

QString RouteTreeModel::ruleLabel(const routing::RouteRule &rule, int index)
{
    return rule.name.empty() ? QStringLiteral("rules[%1]").arg(index) : qs(rule.name);
}

QString RouteTreeModel::matchSummary(const routing::RouteRule &rule)
{
    if (rule.matches.empty())
        return tr("everything");
    QStringList alternatives;
    for (const routing::RouteMatch &m : rule.matches) {
        QStringList parts;
        if (!m.method.empty())
            parts << qs(m.method);
        const routing::PathMatch path = m.path.value_or(routing::PathMatch {});
        if (!(path.type == routing::PathMatchType::PathPrefix && path.value == "/")
            || (m.headers.empty() && m.queryParams.empty()))
            parts << pathTypeShort(path.type) + qs(path.value);
        for (const routing::HeaderMatch &h : m.headers)
            parts << stringMatchText(h.name, h.type, h.value);
        for (const routing::QueryParamMatch &q : m.queryParams)
            parts << QStringLiteral("?") + stringMatchText(q.name, q.type, q.value);
        alternatives << parts.join(QStringLiteral(" "));
    }
    return alternatives.join(QStringLiteral("  |  "));
}

QString RouteTreeModel::backendSummary(const routing::RouteRule &rule)
{
    if (rule.backends.empty())
        return tr("no backends");
    int64_t total = 0;
    for (const routing::BackendRef &b : rule.backends)
        total += std::max(0, b.weight);
    if (rule.backends.size() == 1)
        return qs(rule.backends.front().name);
    QStringList parts;
    for (const routing::BackendRef &b : rule.backends) {
        const double pct = total > 0 ? 100.0 * std::max(0, b.weight) / double(total) : 0;
        parts << QStringLiteral("%1 %2%").arg(qs(b.name)).arg(std::round(pct * 10) / 10);
    }
    return parts.join(QStringLiteral(" · "));
}

RouteTreeModel::Address RouteTreeModel::address(const QModelIndex &index) const
{
    Address a;
    if (!index.isValid())
        return a;
    const quintptr id = index.internalId();
    if (id == 0) {
        a.kind = Kind::Target;
        a.target = index.row();
    } else if ((id >> kShift) == 0) {
        a.kind = Kind::Route;
        a.target = int(id - 1);
        a.routeRow = index.row();
    } else {
        a.kind = Kind::Rule;
        a.target = int((id >> kShift) - 1);
        a.routeRow = int((id & kMask) - 1);
        a.rule = index.row();
    }
    return a;
}

int RouteTreeModel::routeIndexAt(int target, int routeRow) const
{
    if (target < 0 || size_t(target) >= m_targets.size())
        return -1;
    const auto &rs = m_targets[size_t(target)].routes;
    return routeRow >= 0 && size_t(routeRow) < rs.size() ? rs[size_t(routeRow)] : -1;
}

QModelIndex RouteTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount || row >= rowCount(parent))
        return {};
    if (!parent.isValid())
        return createIndex(row, column, quintptr(0));
    const Address p = address(parent);
    if (p.kind == Kind::Target)
        return createIndex(row, column, quintptr(p.target + 1));
    if (p.kind == Kind::Route)
        return createIndex(row, column, ((quintptr(p.target) + 1) << kShift) | quintptr(p.routeRow + 1));
    return {};
}

QModelIndex RouteTreeModel::parent(const QModelIndex &child) const
{
    const Address a = address(child);
    if (!child.isValid() || a.kind == Kind::Target)
        return {};
    if (a.kind == Kind::Route)
        return createIndex(a.target, 0, quintptr(0));
    return createIndex(a.routeRow, 0, quintptr(a.target + 1));
}

int RouteTreeModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_targets.size());
    if (parent.column() != 0)
        return 0;
    const Address a = address(parent);
    if (a.kind == Kind::Target)
        return a.target < int(m_targets.size()) ? int(m_targets[size_t(a.target)].routes.size()) : 0;
    if (a.kind == Kind::Route) {
        const routing::HttpRoute *r = route(routeIndexAt(a.target, a.routeRow));
        return r ? int(r->rules.size()) : 0;
    }
    return 0;
}

int RouteTreeModel::columnCount(const QModelIndex &) const { return ColumnCount; }

QVariant RouteTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return {};
    const Address a = address(index);
    if (a.target < 0 || size_t(a.target) >= m_targets.size())
        return {};
    const Target &target = m_targets[size_t(a.target)];
    const int routeIdx = a.kind == Kind::Target ? -1 : routeIndexAt(a.target, a.routeRow);
    const routing::HttpRoute *r = route(routeIdx);
    const routing::RouteRule *ru = a.kind == Kind::Rule ? rule(routeIdx, a.rule) : nullptr;
    if (a.kind != Kind::Target && !r)
        return {};
    if (a.kind == Kind::Rule && !ru)
        return {};

    switch (role) {
    case KindRole: return int(a.kind);
    case RouteIndexRole: return routeIdx;
    case RuleIndexRole: return a.rule;
    case TargetRole: return target.name;
    case SeverityRole: {
        if (a.kind == Kind::Target) {
            int worst = 0;
            for (int ri : target.routes)
                worst = std::max(worst, severityOf(ri, -1));
            return worst;
        }
        return severityOf(routeIdx, a.rule);
    }
    default: break;
    }

    if (role == Qt::DisplayRole) {
        switch (a.kind) {
        case Kind::Target:
            if (index.column() == Name)
                return target.name;
            if (index.column() == Backends)
                return tr("%n route(s)", nullptr, int(target.routes.size()));
            return {};
        case Kind::Route:
            if (index.column() == Name)
                return routeKey(*r);
            if (index.column() == Backends)
                return tr("%n rule(s)", nullptr, int(r->rules.size()));
            return {};
        case Kind::Rule:
            if (index.column() == Name)
                return QStringLiteral("%1. %2").arg(a.rule + 1).arg(ruleLabel(*ru, a.rule));
            if (index.column() == Match)
                return matchSummary(*ru);
            return backendSummary(*ru);
        }
    }
    if (role == Qt::DecorationRole && index.column() == Name) {
        const int sev = data(index, SeverityRole).toInt();
        return sev == 2 ? QVariant(m_errorIcon) : sev == 1 ? QVariant(m_warningIcon) : QVariant();
    }
    if (role == Qt::FontRole && a.kind == Kind::Target && index.column() == Name) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::ForegroundRole && index.column() != Name)
        return QColor(0x8b, 0x94, 0x9e);
    if (role == Qt::ToolTipRole) {
        QString tip;
        if (a.kind == Kind::Target) {
            tip = tr("<b>%1</b><br>gRPC clients dial <tt>xds:///%1</tt>; an Envoy's RDS asks for route configuration "
                     "'%1'. Routes sharing this name are tried in file order, first match wins.")
                      .arg(target.name.toHtmlEscaped());
        } else if (a.kind == Kind::Route) {
            QStringList hosts;
            for (const std::string &h : r->hostnames)
                hosts << qs(h);
            tip = tr("<b>HTTPRoute %1</b><br>hostnames: %2")
                      .arg(routeKey(*r).toHtmlEscaped(),
                          hosts.isEmpty() ? tr("none (served as %1)").arg(target.name)
                                          : hosts.join(QStringLiteral(", ")));
        } else {
            tip = tr(
                "<b>Rule %1</b> of %2 (first match wins; drag or Alt+Up/Down to reorder)<br>match: %3<br>backends: %4")
                      .arg(ruleLabel(*ru, a.rule).toHtmlEscaped(), routeKey(*r).toHtmlEscaped(),
                          matchSummary(*ru).toHtmlEscaped(), backendSummary(*ru).toHtmlEscaped());
        }
        const std::vector<routing::RouteIssue> own
            = a.kind == Kind::Target ? std::vector<routing::RouteIssue> {} : issuesFor(routeIdx, a.rule);
        for (const routing::RouteIssue &issue : own) {
            tip += QStringLiteral("<br><span style='color:%1'>%2%3: %4</span>")
                       .arg(issue.severity == routing::Severity::Error ? QStringLiteral("#ff7b72")
                                                                       : QStringLiteral("#e3b341"),
                           issue.severity == routing::Severity::Error ? tr("error ") : tr("warning "),
                           qs(issue.field).toHtmlEscaped(), qs(issue.message).toHtmlEscaped());
        }
        return tip;
    }
    return {};
}

QVariant RouteTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Target / route / rule");
    case Match: return tr("Match");
    case Backends: return tr("Backends");
    default: return {};
    }
}

Qt::ItemFlags RouteTreeModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    const Address a = address(index);
    if (a.kind == Kind::Rule)
        f |= Qt::ItemIsDragEnabled | Qt::ItemIsDropEnabled;
    else if (a.kind == Kind::Route)
        f |= Qt::ItemIsDropEnabled;
    if (a.kind != Kind::Rule)
        f &= ~Qt::ItemNeverHasChildren;
    else
        f |= Qt::ItemNeverHasChildren;
    return f;
}

Qt::DropActions RouteTreeModel::supportedDropActions() const { return Qt::MoveAction; }

Qt::DropActions RouteTreeModel::supportedDragActions() const { return Qt::MoveAction; }

QStringList RouteTreeModel::mimeTypes() const { return {kRuleMime}; }

QMimeData *RouteTreeModel::mimeData(const QModelIndexList &indexes) const
{
    for (const QModelIndex &idx : indexes) {
        const Address a = address(idx);
        if (a.kind != Kind::Rule)
            continue;
        auto *mime = new QMimeData;
        QByteArray bytes;
        QDataStream out(&bytes, QIODevice::WriteOnly);
        out << qint32(routeIndexAt(a.target, a.routeRow)) << qint32(a.rule);
        mime->setData(kRuleMime, bytes);
        return mime;
    }
    return nullptr;
}

bool RouteTreeModel::dropTarget(
    const QMimeData *data, int row, const QModelIndex &parent, int *route, int *from, int *to) const
{
    if (!data || !data->hasFormat(kRuleMime))
        return false;
    QDataStream in(data->data(kRuleMime));
    qint32 srcRoute = -1, srcRule = -1;
    in >> srcRoute >> srcRule;
    if (!rule(srcRoute, srcRule))
        return false;
    const Address p = address(parent);
    if (!parent.isValid())
        return false;
    int dest = -1;
    int destRoute = -1;
    if (p.kind == Kind::Rule) {
        // Dropped onto a rule: take its place.
        destRoute = routeIndexAt(p.target, p.routeRow);
        dest = parent.row();
    } else if (p.kind == Kind::Route) {
        destRoute = routeIndexAt(p.target, p.routeRow);
        const int n = int(m_set.routes[size_t(destRoute)].rules.size());
        const int at = row < 0 ? n : std::min(row, n);
        // Between rules: the gap index, adjusted for the rule leaving its old place.
        dest = at > srcRule ? at - 1 : at;
        dest = std::clamp(dest, 0, n - 1);
    }
    if (destRoute != srcRoute || dest < 0)
        return false;
    *route = srcRoute;
    *from = srcRule;
    *to = dest;
    return true;
}

bool RouteTreeModel::canDropMimeData(
    const QMimeData *data, Qt::DropAction action, int row, int, const QModelIndex &parent) const
{
    int route = 0, from = 0, to = 0;
    return action == Qt::MoveAction && dropTarget(data, row, parent, &route, &from, &to);
}

bool RouteTreeModel::dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int, const QModelIndex &parent)
{
    int route = 0, from = 0, to = 0;
    if (action != Qt::MoveAction || !dropTarget(data, row, parent, &route, &from, &to))
        return false;
    // The move is done here; the view's follow-up removeRows() is not implemented
    // (returns false), so nothing is deleted after the drop.
    return moveRule(route, from, to);
}

}  // namespace meshscope

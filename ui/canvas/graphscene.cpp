#include "canvas/graphscene.h"

#include "canvas/canvastheme.h"
#include "canvas/graphlayout.h"
#include "canvas/graphspatialgrid.h"

#include <QLineF>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace meshscope {

namespace {

using canvas::kLabelDepth;
using canvas::kLabelHalfWidth;

bool hasErrors(const TrafficStats &s, const HealthPolicy &policy)
{
    return s.errorRate > 0 || policy.classify(s) >= Health::Degraded;
}

uint64_t nextSceneId()
{
    static std::atomic<uint64_t> ids {0};
    return ++ids;
}

QRectF nodeFootprint(QPointF pos)
{
    const double r = canvas::kNodeRadius;
    return QRectF(pos.x() - kLabelHalfWidth, pos.y() - r - 6, 2 * kLabelHalfWidth, 2 * r + 6 + kLabelDepth);
}

// The frame drawn around a group's bounds (CanvasRenderer pads them the same way).
QRectF groupFrame(const QRectF &bounds) { return bounds.adjusted(-16, -30, 16, 8); }

double distanceToSegment(QPointF p, QPointF a, QPointF b)
{
    const QPointF ab = b - a;
    const double len2 = QPointF::dotProduct(ab, ab);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, ab) / len2, 0.0, 1.0) : 0.0;
    const QPointF d = p - (a + ab * t);
    return std::sqrt(QPointF::dotProduct(d, d));
}

}  // namespace

RoutedServices::RoutedServices(const std::vector<std::pair<std::string, std::string>> &services)
{
    for (const auto &[key, description] : services) {
        m_byKey.emplace(key, description);
        const size_t slash = key.find('/');
        m_byName.emplace(slash == std::string::npos ? key : key.substr(slash + 1), key);
    }
}

const std::string *RoutedServices::byName(const std::string &name) const
{
    const auto it = m_byName.find(name);
    if (it == m_byName.end())
        return nullptr;
    const auto k = m_byKey.find(it->second);
    return k == m_byKey.end() ? nullptr : &k->second;
}

const std::string *RoutedServices::match(const NodeSnapshot &node) const
{
    if (m_byKey.empty() || (node.kind != NodeKind::Service && node.kind != NodeKind::Gateway))
        return nullptr;
    // A version is a backend "<name>-<version>" (the Istio subset convention) first.
    if (node.ns.empty()) {
        const std::string *d = node.version.empty() ? nullptr : byName(node.name + '-' + node.version);
        return d ? d : byName(node.name);
    }
    const std::string key = node.ns + '/' + node.name;
    if (!node.version.empty()) {
        if (const auto it = m_byKey.find(key + '-' + node.version); it != m_byKey.end())
            return &it->second;
    }
    const auto it = m_byKey.find(key);
    return it == m_byKey.end() ? nullptr : &it->second;
}

GraphScene::~GraphScene() = default;

// Node centres binned in square cells twice the clearance an edge keeps from a node,
// so every node near a segment is in the 3x3 cells around some sample along it.
struct GraphScene::NodeBins {
    QPointF origin;
    double cell = 1;
    int cols = 0;
    int rows = 0;
    std::vector<int> start, items;

    NodeBins(const std::vector<SceneNode> &nodes, double minCell)
    {
        if (nodes.empty())
            return;
        double x0 = std::numeric_limits<double>::max(), y0 = x0, x1 = -x0, y1 = -x0;
        for (const SceneNode &n : nodes) {
            x0 = std::min(x0, n.pos.x());
            y0 = std::min(y0, n.pos.y());
            x1 = std::max(x1, n.pos.x());
            y1 = std::max(y1, n.pos.y());
        }
        origin = QPointF(x0, y0);
        // A node dragged far away must not blow the grid up: at most ~1000 cells a side.
        cell = std::max({minCell, (x1 - x0) / 1000.0, (y1 - y0) / 1000.0});
        cols = int((x1 - x0) / cell) + 1;
        rows = int((y1 - y0) / cell) + 1;
        start.assign(size_t(cols) * size_t(rows) + 1, 0);
        std::vector<int> cellOf(nodes.size());
        for (size_t i = 0; i < nodes.size(); ++i) {
            cellOf[i] = at(nodes[i].pos);
            ++start[size_t(cellOf[i]) + 1];
        }
        for (size_t c = 1; c < start.size(); ++c)
            start[c] += start[c - 1];
        items.resize(nodes.size());
        std::vector<int> fill(start.begin(), start.end() - 1);
        for (size_t i = 0; i < nodes.size(); ++i)
            items[size_t(fill[size_t(cellOf[i])]++)] = int(i);
    }
    int colOf(double x) const { return std::clamp(int((x - origin.x()) / cell), 0, cols - 1); }
    int rowOf(double y) const { return std::clamp(int((y - origin.y()) / cell), 0, rows - 1); }
    int at(QPointF p) const { return rowOf(p.y()) * cols + colOf(p.x()); }
    // f(node) for the nodes binned in the 3x3 cells around p.
    template <typename F>
    void around(QPointF p, F &&f) const
    {
        if (cols == 0)
            return;
        const int c = colOf(p.x()), r = rowOf(p.y());
        for (int rr = std::max(0, r - 1); rr <= std::min(rows - 1, r + 1); ++rr) {
            for (int cc = std::max(0, c - 1); cc <= std::min(cols - 1, c + 1); ++cc) {
                const size_t cellIndex = size_t(rr) * size_t(cols) + size_t(cc);
                for (int k = start[cellIndex]; k < start[cellIndex + 1]; ++k)
                    f(items[size_t(k)]);
            }
        }
    }
};

namespace {

constexpr double kReverseOffset = 5.0;  // each of a pair of opposite edges moves this far to its right
constexpr double kEdgeClearance = canvas::kNodeRadius + 14;  // an edge passing closer to a node bends

}  // namespace

void GraphScene::trimEdge(SceneEdge &e, const SceneNode &a, const SceneNode &b, bool offset, double bend)
{
    QPointF from = a.pos, to = b.pos;
    const QPointF d = to - from;
    const double len = std::sqrt(QPointF::dotProduct(d, d));
    e.curved = false;
    if (len < 1e-6) {
        e.p1 = e.p2 = e.ctrl = from;
        return;
    }
    const QPointF u = d / len;
    const QPointF n(-u.y(), u.x());
    if (offset) {
        // A pair of opposite edges is drawn side by side, each on its own right.
        from += n * kReverseOffset;
        to += n * kReverseOffset;
    }
    const double ia = canvas::edgeInset(a.kind), ib = canvas::edgeInset(b.kind);
    if (ia + ib >= len) {
        e.p1 = e.p2 = e.ctrl = (from + to) / 2;
        return;
    }
    if (bend == 0) {
        e.p1 = from + u * ia;
        e.p2 = to - u * ib;
        e.ctrl = (e.p1 + e.p2) / 2;
        return;
    }
    // The ends leave the node borders towards the control point, as the curve does.
    e.curved = true;
    e.ctrl = (from + to) / 2 + n * bend;
    const QPointF ca = e.ctrl - from, cb = e.ctrl - to;
    e.p1 = from + ca / std::sqrt(QPointF::dotProduct(ca, ca)) * ia;
    e.p2 = to + cb / std::sqrt(QPointF::dotProduct(cb, cb)) * ib;
}

double GraphScene::bendFor(size_t k) const
{
    const SceneEdge &e = m_edges[k];
    if (e.source == e.target)
        return 0;
    const QPointF a = m_nodes[size_t(e.source)].pos, b = m_nodes[size_t(e.target)].pos;
    const QPointF d = b - a;
    const double len = std::sqrt(QPointF::dotProduct(d, d));
    if (len < 1e-6)
        return 0;
    const QPointF u = d / len, n(-u.y(), u.x());
    const bool reverse = m_hasReverse[k];
    const QPointF a0 = a + n * (reverse ? kReverseOffset : 0.0);
    // Third nodes the straight line would run over: (position along 0..1, signed
    // distance to the line, + on the edge's right).
    struct Obstacle {
        int node;
        double t, s;
    };
    std::vector<Obstacle> hits;
    if (m_bins) {
        const double margin = canvas::kNodeRadius;
        auto consider = [&](int j) {
            if (j == e.source || j == e.target)
                return;
            const QPointF p = m_nodes[size_t(j)].pos - a0;
            const double along = QPointF::dotProduct(p, u);
            const double s = QPointF::dotProduct(p, n);
            if (along < margin || along > len - margin || std::abs(s) >= kEdgeClearance)
                return;
            for (const Obstacle &h : hits) {
                if (h.node == j)
                    return;
            }
            hits.push_back({j, along / len, s});
        };
        const int steps = std::max(1, int(std::ceil(len / m_bins->cell)));
        for (int i = 0; i <= steps; ++i)
            m_bins->around(a0 + d * (double(i) / steps), consider);
    }
    // Opposite edges bow apart a little so the pair reads as two arrows.
    const double bow = reverse ? std::clamp(0.12 * len, 10.0, 28.0) : 0.0;
    if (hits.empty())
        return bow;
    // Away from the nearest node. One exactly in line is passed above, where its name
    // label is not; one of a pair of opposite edges keeps to its own right instead.
    const Obstacle *nearest = &hits.front();
    for (const Obstacle &h : hits) {
        if (std::abs(h.s) < std::abs(nearest->s))
            nearest = &h;
    }
    double side = nearest->s > 0 ? -1.0 : 1.0;
    if (std::abs(nearest->s) < 1.0)
        side = reverse || n.y() <= 0 ? 1.0 : -1.0;
    // Passing under a node means passing its label too.
    const double clearance = kEdgeClearance + (side * n.y() > 0 ? canvas::kLabelDepth * side * n.y() : 0.0);
    // A quadratic curve whose control point is h off the middle of the chord is
    // 2t(1-t)h off it at t: bend enough to clear every node in the way.
    double h = bow;
    for (const Obstacle &o : hits)
        h = std::max(h, (clearance + side * o.s) / (2 * o.t * (1 - o.t)));
    return side * std::min(h, 0.6 * len);
}

void GraphScene::placeEdge(size_t k)
{
    SceneEdge &e = m_edges[k];
    trimEdge(e, m_nodes[size_t(e.source)], m_nodes[size_t(e.target)], m_hasReverse[k], bendFor(k));
}

void GraphScene::placeEdges()
{
    m_bins = std::make_shared<const NodeBins>(m_nodes, 2 * kEdgeClearance);
    for (size_t k = 0; k < m_edges.size(); ++k)
        placeEdge(k);
}

bool GraphScene::sameTopology(const GraphSnapshot &s) const
{
    const GraphSnapshot &p = *m_snapshot;
    if (p.nodes.size() != s.nodes.size() || p.edges.size() != s.edges.size() || m_edges.size() != s.edges.size())
        return false;
    for (size_t i = 0; i < s.nodes.size(); ++i) {
        const NodeSnapshot &a = p.nodes[i], &b = s.nodes[i];
        if (a.kind != b.kind || a.id != b.id || a.ns != b.ns)
            return false;
    }
    for (size_t j = 0; j < s.edges.size(); ++j) {
        if (p.edges[j].source != s.edges[j].source || p.edges[j].target != s.edges[j].target)
            return false;
    }
    return true;
}

std::shared_ptr<const GraphScene> GraphScene::build(GraphSnapshotPtr snapshot, const GraphLayout &layout,
    const SceneFilter &filter, const HealthPolicy &policy, const GraphScene *previous, RoutedServicesPtr routed)
{
    return make(std::move(snapshot), &layout, layout.version(), filter, policy, previous, std::move(routed));
}

std::shared_ptr<const GraphScene> GraphScene::withRates(const GraphScene &previous, GraphSnapshotPtr snapshot,
    const SceneFilter &filter, const HealthPolicy &policy, RoutedServicesPtr routed)
{
    if (!snapshot || !previous.sameTopology(*snapshot))
        return nullptr;
    return make(std::move(snapshot), nullptr, previous.m_layoutVersion, filter, policy, &previous, std::move(routed));
}

std::shared_ptr<const GraphScene> GraphScene::make(GraphSnapshotPtr snapshot, const GraphLayout *layout,
    uint64_t layoutVersion, const SceneFilter &filter, const HealthPolicy &policy, const GraphScene *previous,
    RoutedServicesPtr routed)
{
    std::shared_ptr<GraphScene> scene(new GraphScene);
    if (!snapshot)
        snapshot = std::make_shared<const GraphSnapshot>();
    scene->m_snapshot = snapshot;
    scene->m_policy = policy;
    const GraphSnapshot &s = *snapshot;

    const size_t n = s.nodes.size();
    // Most snapshots (ten a second) differ from the last only in rates: then the
    // indices, incidences and groups carry over, and positions too if the layout
    // did not move. Only what depends on rates is recomputed.
    const bool reuse = previous && previous->sameTopology(s);
    const bool samePositions = reuse && previous->m_layoutVersion == layoutVersion;
    if (!samePositions && !layout)
        return nullptr;  // withRates() checked the topology: not reached
    scene->m_layoutVersion = layoutVersion;
    if (reuse) {
        scene->m_nodes = previous->m_nodes;
        scene->m_edges = previous->m_edges;
        scene->m_hasReverse = previous->m_hasReverse;
        scene->m_incidentStart = previous->m_incidentStart;
        scene->m_incident = previous->m_incident;
        scene->m_gatewayEgress = previous->m_gatewayEgress;
        scene->m_groups = previous->m_groups;
        scene->m_namespaceCount = previous->m_namespaceCount;  // assignGroups() recounts when positions move
        for (size_t i = 0; i < n; ++i) {
            SceneNode &node = scene->m_nodes[i];
            node.health = policy.classify(s.nodes[i].stats);
            if (!samePositions) {
                node.pos = layout->position(s.nodes[i].id);
                node.pinned = !layout->pinned().empty() && layout->pinned().count(s.nodes[i].id) > 0;
            }
        }
        for (size_t k = 0; k < scene->m_edges.size(); ++k) {
            SceneEdge &e = scene->m_edges[k];
            const EdgeSnapshot &src = s.edges[size_t(e.snap)];
            e.width = float(canvas::edgeWidth(src.stats.rps));
            e.direction = src.direction;
            e.health = policy.classify(src.stats);
        }
        if (!samePositions)
            scene->placeEdges();
        if (samePositions) {  // same geometry, same index (visibility is checked per query)
            scene->m_grid.grid = previous->grid();
            scene->m_bins = previous->m_bins;
        }
        if (!samePositions) {
            for (size_t i = 0; i < n; ++i) {
                if (s.nodes[i].kind == NodeKind::Gateway)
                    scene->m_gatewayEgress[i] = layout->rankOf(s.nodes[i].id) >= GraphLayout::kEgressRank;
            }
            scene->assignGroups();
        }
    } else {
        scene->buildTopology(*layout, policy);
    }

    // Routing marks change with the topology or the routes only, not with the rates.
    const bool sameMarks = reuse && previous->m_routed == routed;
    scene->m_routed = std::move(routed);
    if (sameMarks) {
        scene->m_routedNodes = previous->m_routedNodes;
    } else {
        scene->m_routedNodes = 0;
        for (size_t i = 0; i < n; ++i) {
            SceneNode &node = scene->m_nodes[i];
            node.routed = scene->m_routed && scene->m_routed->match(s.nodes[i]) != nullptr;
            scene->m_routedNodes += node.routed ? 1 : 0;
        }
    }

    // Filter: an edge passes on its own merits; a node shows when it passes itself or
    // when a visible edge needs it as an endpoint (as Kiali shows a namespace's callers).
    const bool bothDirections = filter.northSouth && filter.eastWest;
    std::vector<char> allowedEdge(n, 0);
    for (SceneEdge &e : scene->m_edges) {
        const EdgeSnapshot &src = s.edges[size_t(e.snap)];
        const bool dirOk = src.direction == Direction::NorthSouth ? filter.northSouth : filter.eastWest;
        if (dirOk) {
            allowedEdge[size_t(e.source)] = 1;
            allowedEdge[size_t(e.target)] = 1;
        }
        const bool errOk = !filter.errorsOnly || hasErrors(src.stats, policy);
        const bool nsOk = filter.ns.empty() || s.nodes[size_t(e.source)].ns == filter.ns
            || s.nodes[size_t(e.target)].ns == filter.ns;
        e.visible = dirOk && errOk && nsOk;
    }
    std::vector<char> endpoint(n, 0);
    for (const SceneEdge &e : scene->m_edges) {
        if (e.visible) {
            endpoint[size_t(e.source)] = 1;
            endpoint[size_t(e.target)] = 1;
        }
    }
    for (size_t i = 0; i < n; ++i) {
        const NodeSnapshot &src = s.nodes[i];
        const bool self = (filter.ns.empty() || src.ns == filter.ns)
            && (!filter.errorsOnly || hasErrors(src.stats, policy)) && (bothDirections || allowedEdge[i]);
        scene->m_nodes[i].visible = self || endpoint[i];
    }

    scene->aggregateGroups(policy);
    scene->m_id = nextSceneId();
    return scene;
}

void GraphScene::buildTopology(const GraphLayout &layout, const HealthPolicy &policy)
{
    const GraphSnapshot &s = *m_snapshot;
    const size_t n = s.nodes.size();
    m_nodes.resize(n);
    std::unordered_map<std::string_view, int> index;
    index.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        const NodeSnapshot &src = s.nodes[i];
        SceneNode &node = m_nodes[i];
        node.snap = int(i);
        node.pos = layout.position(src.id);
        node.pinned = !layout.pinned().empty() && layout.pinned().count(src.id) > 0;
        node.kind = src.kind;
        node.health = policy.classify(src.stats);
        index.emplace(src.id, int(i));
    }

    m_edges.reserve(s.edges.size());
    std::unordered_set<uint64_t> pairs;
    pairs.reserve(s.edges.size() * 2);
    auto pairKey = [](int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); };
    for (size_t j = 0; j < s.edges.size(); ++j) {
        const EdgeSnapshot &src = s.edges[j];
        auto a = index.find(src.source);
        auto b = index.find(src.target);
        if (a == index.end() || b == index.end())
            continue;  // an edge naming a node the snapshot lacks is not drawable
        SceneEdge e;
        e.snap = int(j);
        e.source = a->second;
        e.target = b->second;
        e.width = float(canvas::edgeWidth(src.stats.rps));
        e.direction = src.direction;
        e.health = policy.classify(src.stats);
        m_edges.push_back(e);
        pairs.insert(pairKey(e.source, e.target));
    }
    m_hasReverse.resize(m_edges.size());
    for (size_t k = 0; k < m_edges.size(); ++k) {
        const SceneEdge &e = m_edges[k];
        m_hasReverse[k] = e.source != e.target && pairs.count(pairKey(e.target, e.source));
    }
    placeEdges();

    // Incident edges per node (for dragging and highlighting).
    m_incidentStart.assign(n + 1, 0);
    for (const SceneEdge &e : m_edges) {
        ++m_incidentStart[size_t(e.source) + 1];
        if (e.target != e.source)
            ++m_incidentStart[size_t(e.target) + 1];
    }
    for (size_t i = 0; i < n; ++i)
        m_incidentStart[i + 1] += m_incidentStart[i];
    m_incident.resize(size_t(m_incidentStart[n]));
    std::vector<int> fill(m_incidentStart.begin(), m_incidentStart.end() - 1);
    for (size_t k = 0; k < m_edges.size(); ++k) {
        const SceneEdge &e = m_edges[k];
        m_incident[size_t(fill[size_t(e.source)]++)] = int(k);
        if (e.target != e.source)
            m_incident[size_t(fill[size_t(e.target)]++)] = int(k);
    }

    m_gatewayEgress.assign(n, 0);
    for (size_t i = 0; i < n; ++i) {
        if (s.nodes[i].kind == NodeKind::Gateway)
            m_gatewayEgress[i] = layout.rankOf(s.nodes[i].id) >= GraphLayout::kEgressRank;
    }
    assignGroups();
}

void GraphScene::assignGroups()
{
    const GraphSnapshot &s = *m_snapshot;
    m_groups.clear();
    m_namespaceCount = 0;
    std::unordered_map<std::string, int> byKey;
    for (SceneNode &node : m_nodes) {
        const NodeSnapshot &src = s.nodes[size_t(node.snap)];
        std::string key;
        QString name;
        const bool isNs = !src.ns.empty() && src.kind != NodeKind::Gateway;
        if (isNs) {
            key = src.ns;
            name = QString::fromStdString(src.ns);
        } else if (src.kind == NodeKind::Gateway) {
            // Gateways live in the free layers at the top and bottom, so a namespace
            // box around them would span the whole graph: ingress and egress gateways
            // get a group each instead.
            const bool egress = m_gatewayEgress[size_t(node.snap)];
            key = src.ns
                + (egress ? "\x01"
                            "egress"
                          : "\x01"
                            "ingress");
            name = (src.ns.empty() ? QString() : QString::fromStdString(src.ns) + QLatin1Char(' '))
                + (egress ? QStringLiteral("egress") : QStringLiteral("ingress"));
        } else {
            // Nodes outside any namespace gather by kind, so clients and external
            // services each get a box of their own in the far view.
            switch (src.kind) {
            case NodeKind::External:
                key = "\x01"
                      "clients";
                name = QStringLiteral("clients");
                break;
            case NodeKind::ExternalService:
                key = "\x01"
                      "external";
                name = QStringLiteral("external services");
                break;
            case NodeKind::Other:
                key = "\x01"
                      "other";
                name = QStringLiteral("other");
                break;
            default:
                key = "\x01"
                      "none";
                name = QStringLiteral("no namespace");
                break;
            }
        }
        auto [it, inserted] = byKey.emplace(std::move(key), int(m_groups.size()));
        if (inserted) {
            SceneGroup g;
            g.name = name;
            g.isNamespace = isNs;
            m_groups.push_back(g);
        }
        node.group = it->second;
    }
    for (const SceneGroup &g : m_groups)
        m_namespaceCount += g.isNamespace;
}

void GraphScene::aggregateGroups(const HealthPolicy &policy)
{
    const GraphSnapshot &s = *m_snapshot;
    m_groupEdges.clear();
    m_visibleBounds = QRectF();
    m_visibleNodes = 0;
    m_visibleEdges = 0;
    struct Totals {
        double requests = 0, errors = 0, clientErrors = 0;
    };
    std::vector<Totals> totals(m_groups.size());
    for (SceneGroup &g : m_groups) {
        g.bounds = QRectF();
        g.nodeCount = g.visibleCount = g.failing = g.degraded = 0;
        g.rps = 0;
    }
    // Boxes first from the nodes the layout placed; then each pinned node joins its
    // box unless that would stretch the box over another group's (namespace boxes
    // never overlap). Such a node is drawn outside, linked to its box.
    std::vector<int> pinnedNodes;
    m_strays.clear();
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        SceneNode &node = m_nodes[i];
        const NodeSnapshot &src = s.nodes[size_t(node.snap)];
        SceneGroup &g = m_groups[size_t(node.group)];
        node.stray = false;
        ++g.nodeCount;
        if (!node.visible)
            continue;
        ++g.visibleCount;
        ++m_visibleNodes;
        g.failing += node.health == Health::Failing;
        g.degraded += node.health == Health::Degraded;
        const QRectF fp = nodeFootprint(node.pos);
        m_visibleBounds = m_visibleBounds.isNull() ? fp : m_visibleBounds.united(fp);
        if (node.pinned)
            pinnedNodes.push_back(int(i));
        else
            g.bounds = g.bounds.isNull() ? fp : g.bounds.united(fp);
        g.rps += src.stats.rps;
        Totals &t = totals[size_t(node.group)];
        const double req = double(src.stats.requests);
        t.requests += req;
        t.errors += req * src.stats.errorRate;
        t.clientErrors += req * src.stats.rate4xx;
    }
    for (int i : pinnedNodes) {
        SceneNode &node = m_nodes[size_t(i)];
        SceneGroup &g = m_groups[size_t(node.group)];
        const QRectF fp = nodeFootprint(node.pos);
        if (g.bounds.isNull()) {
            g.bounds = fp;  // a group of pinned nodes only: the first one anchors it
            continue;
        }
        const QRectF grown = g.bounds.united(fp);
        if (grown == g.bounds)
            continue;
        const QRectF drawn = groupFrame(grown);
        bool overlaps = false;
        for (const SceneGroup &other : m_groups) {
            if (&other == &g || other.bounds.isNull() || !(g.isNamespace || other.isNamespace))
                continue;
            // Only overlaps the node would add count: the layout's own are not its doing.
            const QRectF theirs = groupFrame(other.bounds);
            if (drawn.intersects(theirs) && !groupFrame(g.bounds).intersects(theirs)) {
                overlaps = true;
                break;
            }
        }
        if (overlaps) {
            node.stray = true;
            m_strays.push_back(i);
        } else
            g.bounds = grown;
    }
    auto classify = [&policy](double requests, double errors, double clientErrors) {
        TrafficStats st;
        st.requests = uint64_t(std::llround(requests));
        st.errorRate = requests > 0 ? errors / requests : 0;
        st.rate4xx = requests > 0 ? clientErrors / requests : 0;
        return policy.classify(st);
    };
    for (size_t g = 0; g < m_groups.size(); ++g)
        m_groups[g].health = classify(totals[g].requests, totals[g].errors, totals[g].clientErrors);

    std::unordered_map<uint64_t, int> byPair;
    std::vector<Totals> edgeTotals;
    for (const SceneEdge &e : m_edges) {
        if (!e.visible)
            continue;
        ++m_visibleEdges;
        const int a = m_nodes[size_t(e.source)].group, b = m_nodes[size_t(e.target)].group;
        if (a == b)
            continue;
        const uint64_t key = (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
        auto [it, inserted] = byPair.emplace(key, int(m_groupEdges.size()));
        if (inserted) {
            SceneGroupEdge ge;
            ge.from = a;
            ge.to = b;
            m_groupEdges.push_back(ge);
            edgeTotals.emplace_back();
        }
        const EdgeSnapshot &src = s.edges[size_t(e.snap)];
        SceneGroupEdge &ge = m_groupEdges[size_t(it->second)];
        ge.rps += src.stats.rps;
        ++ge.edgeCount;
        ge.northSouth |= src.direction == Direction::NorthSouth;
        Totals &t = edgeTotals[size_t(it->second)];
        const double req = double(src.stats.requests);
        t.requests += req;
        t.errors += req * src.stats.errorRate;
        t.clientErrors += req * src.stats.rate4xx;
    }
    for (size_t k = 0; k < m_groupEdges.size(); ++k) {
        SceneGroupEdge &ge = m_groupEdges[k];
        ge.hasReverse = byPair.count((uint64_t(uint32_t(ge.to)) << 32) | uint32_t(ge.from)) > 0;
        const Totals &t = edgeTotals[k];
        m_groupEdges[k].health = classify(t.requests, t.errors, t.clientErrors);
        m_groupEdges[k].errorRate = t.requests > 0 ? t.errors / t.requests : 0;
    }
}

std::shared_ptr<const GraphScene> GraphScene::withNodeAt(int node, QPointF pos) const
{
    std::shared_ptr<GraphScene> scene(new GraphScene(*this));
    scene->m_nodes[size_t(node)].pos = pos;
    scene->m_nodes[size_t(node)].pinned = true;  // a dragged node is pinned from its first move
    // Other nodes stay where the bins put them, and the moved one is an end of every
    // edge bent again here, so the bins still serve.
    for (const int *k = incidentBegin(node); k != incidentEnd(node); ++k)
        scene->placeEdge(size_t(*k));
    scene->aggregateGroups(m_policy);
    scene->m_id = nextSceneId();
    return scene;
}

QString GraphScene::nodeId(int node) const
{
    return node < 0 || size_t(node) >= m_nodes.size() ? QString() : QString::fromStdString(nodeData(node).id);
}

QString GraphScene::edgeId(int edge) const
{
    return edge < 0 || size_t(edge) >= m_edges.size() ? QString() : QString::fromStdString(edgeData(edge).id);
}

int GraphScene::findNode(const QString &id) const
{
    if (id.isEmpty())
        return -1;
    const std::string key = id.toStdString();
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        if (nodeData(int(i)).id == key)
            return int(i);
    }
    return -1;
}

int GraphScene::findEdge(const QString &id) const
{
    if (id.isEmpty())
        return -1;
    const std::string key = id.toStdString();
    for (size_t k = 0; k < m_edges.size(); ++k) {
        if (edgeData(int(k)).id == key)
            return int(k);
    }
    return -1;
}

std::shared_ptr<const GraphSpatialGrid> GraphScene::grid() const
{
    std::lock_guard lock(m_grid.mutex);
    return m_grid.grid;
}

bool GraphScene::hasGrid() const { return grid() != nullptr; }

void GraphScene::buildGrid() const
{
    if (hasGrid())
        return;
    auto built = std::make_shared<const GraphSpatialGrid>(m_nodes, m_edges);
    std::lock_guard lock(m_grid.mutex);
    if (!m_grid.grid)
        m_grid.grid = std::move(built);
}

int GraphScene::nodeAt(QPointF p, double slack) const
{
    const double r = canvas::kNodeRadius * 1.15 + slack;
    int best = -1;
    double bestDist = std::numeric_limits<double>::max();
    auto consider = [&](int i) {
        const SceneNode &node = m_nodes[size_t(i)];
        if (!node.visible)
            return;
        const QPointF d = p - node.pos;
        const double dist = std::sqrt(QPointF::dotProduct(d, d));
        // The shape, or the label under it.
        const bool onShape = dist <= r;
        const bool onLabel
            = std::abs(d.x()) <= kLabelHalfWidth * 0.9 && d.y() > 0 && d.y() <= canvas::kNodeRadius + kLabelDepth;
        if ((onShape || onLabel) && dist < bestDist) {
            bestDist = dist;
            best = i;
        }
    };
    if (const auto g = grid()) {
        const QRectF area(p.x() - kLabelHalfWidth - slack, p.y() - kLabelDepth - r, 2 * (kLabelHalfWidth + slack),
            kLabelDepth + 2 * r);
        g->forNodes(area, consider);
    } else {
        for (size_t i = 0; i < m_nodes.size(); ++i)
            consider(int(i));
    }
    return best;
}

int GraphScene::edgeAt(QPointF p, double tolerance) const
{
    int best = -1;
    double bestDist = std::numeric_limits<double>::max();
    auto consider = [&](int k) {
        const SceneEdge &e = m_edges[size_t(k)];
        if (!e.visible)
            return;
        double dist = 0;
        if (e.curved) {
            // The same pieces the renderer draws.
            dist = std::numeric_limits<double>::max();
            QPointF prev = e.p1;
            for (int j = 1; j <= kCurveSegments; ++j) {
                const QPointF next = edgePointAt(e, double(j) / kCurveSegments);
                dist = std::min(dist, distanceToSegment(p, prev, next));
                prev = next;
            }
        } else {
            dist = distanceToSegment(p, e.p1, e.p2);
        }
        if (dist <= tolerance + e.width / 2 && dist < bestDist) {
            bestDist = dist;
            best = k;
        }
    };
    if (const auto g = grid()) {
        const QRectF area(p.x() - tolerance - 8, p.y() - tolerance - 8, 2 * tolerance + 16, 2 * tolerance + 16);
        g->forEdges(area, consider);
    } else {
        for (size_t k = 0; k < m_edges.size(); ++k)
            consider(int(k));
    }
    return best;
}

}  // namespace meshscope

#pragma once
// The drawable model of one snapshot: nodes at their layout positions with health,
// edges trimmed to node borders with width and style (bent, once per layout, where a
// straight line would run over a third node or its opposite edge), visibility after the filter,
// and namespace groups (boxes, and aggregated edges for the collapsed far view).
// Built on the GUI thread, then immutable and shared with the render worker, so no
// lock is ever held while painting. Strings stay in the snapshot and are turned
// into QStrings only for what is actually labelled.

#include "graph/graphsnapshot.h"
#include "graph/healthpolicy.h"

#include <QPointF>
#include <QRectF>
#include <QString>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace meshscope {

class GraphLayout;
class GraphSpatialGrid;

struct SceneFilter {
    bool northSouth = true;
    bool eastWest = true;
    bool errorsOnly = false;
    std::string ns;  // empty: every namespace
};

struct SceneNode {
    int snap = -1;  // index into snapshot->nodes
    int group = -1;
    QPointF pos;
    NodeKind kind = NodeKind::Service;
    Health health = Health::NoTraffic;
    bool visible = true;
    bool routed = false;  // some routing rule sends traffic to it (drawn with a badge)
    bool pinned = false;  // the user placed it
    // Pinned where its group's box would have to stretch over another group: drawn
    // outside the box, with a dashed link back to it.
    bool stray = false;
};

// Services that have routing rules, keyed as the route editor names them
// ("namespace/name", RouteEditor::routedServices()), each with a line for the node's
// tooltip. A node "ns/name@v2" is routed when "ns/name-v2" or "ns/name" is listed; a
// node without a namespace when the name is listed in any namespace.
class RoutedServices {
public:
    RoutedServices() = default;
    explicit RoutedServices(const std::vector<std::pair<std::string, std::string>> &services);

    // The description of the service routing `node`, or nullptr. Only services and
    // gateways are matched: clients and external hosts have no routes of their own.
    const std::string *match(const NodeSnapshot &node) const;
    bool empty() const { return m_byKey.empty(); }
    size_t size() const { return m_byKey.size(); }

private:
    const std::string *byName(const std::string &name) const;

    std::unordered_map<std::string, std::string> m_byKey;  // "ns/name" -> description
    std::unordered_map<std::string, std::string> m_byName;  // "name" -> first "ns/name" with it
};
using RoutedServicesPtr = std::shared_ptr<const RoutedServices>;

struct SceneEdge {
    int snap = -1;  // index into snapshot->edges
    int source = -1;
    int target = -1;
    QPointF p1, p2;  // trimmed at the node borders
    // Curved edges are the quadratic Bezier p1, ctrl, p2: an edge that would run over a
    // third node, or one of a pair of opposite edges. Decided once per layout.
    QPointF ctrl;
    bool curved = false;
    float width = 1;  // graph units, by rps
    Direction direction = Direction::EastWest;
    Health health = Health::NoTraffic;
    bool visible = true;
};

// Curved edges are drawn, hit-tested and indexed as this many straight pieces.
inline constexpr int kCurveSegments = 12;

// The point at t (0 at p1, 1 at p2) along an edge as it is drawn.
inline QPointF edgePointAt(const SceneEdge &e, double t)
{
    if (!e.curved)
        return e.p1 + (e.p2 - e.p1) * t;
    const double u = 1 - t;
    return e.p1 * (u * u) + e.ctrl * (2 * u * t) + e.p2 * (t * t);
}
// Bounds of an edge as drawn (the curve lies inside the triangle of its points).
inline QRectF edgeBounds(const SceneEdge &e)
{
    double x0 = std::min(e.p1.x(), e.p2.x()), x1 = std::max(e.p1.x(), e.p2.x());
    double y0 = std::min(e.p1.y(), e.p2.y()), y1 = std::max(e.p1.y(), e.p2.y());
    if (e.curved) {
        x0 = std::min(x0, e.ctrl.x());
        x1 = std::max(x1, e.ctrl.x());
        y0 = std::min(y0, e.ctrl.y());
        y1 = std::max(y1, e.ctrl.y());
    }
    return QRectF(QPointF(x0, y0), QPointF(x1, y1));
}

// A namespace, or the pseudo-group of clients / external services outside any.
struct SceneGroup {
    QString name;
    bool isNamespace = true;
    QRectF bounds;  // of its visible nodes, padded for labels
    int nodeCount = 0;
    int visibleCount = 0;
    int failing = 0;  // visible nodes by health
    int degraded = 0;
    double rps = 0;
    Health health = Health::NoTraffic;
};

struct SceneGroupEdge {
    int from = -1;
    int to = -1;
    double rps = 0;
    int edgeCount = 0;
    double errorRate = 0;  // of the requests on its edges
    Health health = Health::NoTraffic;
    bool northSouth = false;
    bool hasReverse = false;  // to -> from exists too (the two are drawn side by side)
};

class GraphScene {
public:
    // previous (optional): the scene this one replaces; what did not change is copied.
    // routed (optional): services with routing rules, marked on their nodes.
    static std::shared_ptr<const GraphScene> build(GraphSnapshotPtr snapshot, const GraphLayout &layout,
        const SceneFilter &filter, const HealthPolicy &policy, const GraphScene *previous = nullptr,
        RoutedServicesPtr routed = nullptr);
    // The same scene with `snapshot`'s rates, where its nodes, edges and positions are
    // `previous`'s: no layout is read, so a pool thread can make it (a big graph's ten
    // snapshots a second). Null when the snapshot names other nodes or edges.
    static std::shared_ptr<const GraphScene> withRates(const GraphScene &previous, GraphSnapshotPtr snapshot,
        const SceneFilter &filter, const HealthPolicy &policy, RoutedServicesPtr routed = nullptr);
    uint64_t layoutVersion() const { return m_layoutVersion; }
    // The same scene with one node moved (dragging): positions and incident edges only.
    std::shared_ptr<const GraphScene> withNodeAt(int node, QPointF pos) const;

    ~GraphScene();

    const GraphSnapshot &snapshot() const { return *m_snapshot; }
    const std::vector<SceneNode> &nodes() const { return m_nodes; }
    const std::vector<SceneEdge> &edges() const { return m_edges; }
    const std::vector<SceneGroup> &groups() const { return m_groups; }
    const std::vector<SceneGroupEdge> &groupEdges() const { return m_groupEdges; }
    // Visible pinned nodes drawn outside their group's box (SceneNode::stray).
    const std::vector<int> &strayNodes() const { return m_strays; }
    // Edges touching a node (indices into edges()).
    const int *incidentBegin(int node) const { return m_incident.data() + m_incidentStart[size_t(node)]; }
    const int *incidentEnd(int node) const { return m_incident.data() + m_incidentStart[size_t(node) + 1]; }

    const NodeSnapshot &nodeData(int node) const { return m_snapshot->nodes[size_t(m_nodes[size_t(node)].snap)]; }
    const EdgeSnapshot &edgeData(int edge) const { return m_snapshot->edges[size_t(m_edges[size_t(edge)].snap)]; }
    QString nodeId(int node) const;
    QString edgeId(int edge) const;
    int findNode(const QString &id) const;  // -1 if absent
    int findEdge(const QString &id) const;

    // Bounds of the visible nodes including their labels (graph units); empty if none.
    QRectF visibleBounds() const { return m_visibleBounds; }
    int visibleNodeCount() const { return m_visibleNodes; }
    int visibleEdgeCount() const { return m_visibleEdges; }
    int namespaceCount() const { return m_namespaceCount; }
    // What the routed marks were computed from (null: none), and how many nodes carry one.
    const RoutedServices *routedServices() const { return m_routed.get(); }
    int routedNodeCount() const { return m_routedNodes; }
    // Whether the far view should show namespace boxes instead of nodes.
    bool canCollapse() const { return m_groups.size() >= 2; }
    // Unique per scene, so the canvas can tell whether the worker already has this one.
    uint64_t id() const { return m_id; }

    // Hit-testing: through the uniform grid once it is built, by a linear scan before.
    int nodeAt(QPointF graphPos, double slack) const;
    int edgeAt(QPointF graphPos, double tolerance) const;
    // Builds the grid index (tens of milliseconds for a big graph): call on a pool
    // thread; the scene is immutable otherwise, so this is the only write.
    void buildGrid() const;
    bool hasGrid() const;

private:
    GraphScene() = default;
    // build() and withRates(): `layout` may be null only where `previous` has this
    // topology and was placed by layout `layoutVersion`.
    static std::shared_ptr<const GraphScene> make(GraphSnapshotPtr snapshot, const GraphLayout *layout,
        uint64_t layoutVersion, const SceneFilter &filter, const HealthPolicy &policy, const GraphScene *previous,
        RoutedServicesPtr routed);
    bool sameTopology(const GraphSnapshot &s) const;  // same nodes, kinds, namespaces and edge ends
    void buildTopology(const GraphLayout &layout, const HealthPolicy &policy);
    void assignGroups();
    void aggregateGroups(const HealthPolicy &policy);  // counts, bounds, health, edges between groups
    std::shared_ptr<const GraphSpatialGrid> grid() const;
    // bend: how far the control point sits off the chord's middle, + to the edge's right.
    static void trimEdge(SceneEdge &e, const SceneNode &a, const SceneNode &b, bool offset, double bend);
    // Trims every edge and bends those that would run over a third node, and each of a
    // pair of opposite edges. Once per layout change, never per frame.
    void placeEdges();
    void placeEdge(size_t k);
    double bendFor(size_t k) const;
    struct NodeBins;

    GraphSnapshotPtr m_snapshot;
    std::vector<SceneNode> m_nodes;
    std::vector<SceneEdge> m_edges;
    std::vector<char> m_hasReverse;  // per edge: b->a exists too (drawn side by side)
    std::shared_ptr<const NodeBins> m_bins;  // node centres at layout time, for bending edges
    std::vector<char> m_gatewayEgress;  // per node: a gateway the layout ranks as egress
    std::vector<SceneGroup> m_groups;
    std::vector<SceneGroupEdge> m_groupEdges;
    std::vector<int> m_strays;
    std::vector<int> m_incidentStart;
    std::vector<int> m_incident;
    HealthPolicy m_policy;
    QRectF m_visibleBounds;
    int m_visibleNodes = 0;
    int m_visibleEdges = 0;
    int m_namespaceCount = 0;
    RoutedServicesPtr m_routed;
    int m_routedNodes = 0;
    uint64_t m_id = 0;
    uint64_t m_layoutVersion = 0;
    // Set once by buildGrid() on a pool thread, read by hit-tests on the GUI thread.
    // Copies of a scene (a moved node) start without one.
    struct GridSlot {
        GridSlot() = default;
        GridSlot(const GridSlot &) { }
        GridSlot &operator=(const GridSlot &) { return *this; }
        mutable std::mutex mutex;
        mutable std::shared_ptr<const GraphSpatialGrid> grid;
    };
    GridSlot m_grid;
};

using GraphScenePtr = std::shared_ptr<const GraphScene>;

}  // namespace meshscope

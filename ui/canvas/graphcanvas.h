#pragma once
// The live service-graph canvas. Paints core GraphSnapshots with batched, culled,
// level-of-detail drawing; the expensive full render runs on a worker thread into a
// cached image that pan and zoom reuse until the fresh one arrives. Layout is
// layered (north at the top) and stable; dragged nodes are pinned.
//
// Interface used by the main window and tests. GUI thread only.

#include "canvas/edgenote.h"
#include "graph/graphsnapshot.h"

#include <QHash>
#include <QImage>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <QTransform>
#include <QWidget>

#include <memory>

namespace meshscope {

class GraphCanvas : public QWidget {
    Q_OBJECT
public:
    enum class EdgeLabel { None, Rps, ErrorRate, P95 };
    struct Filter {
        bool northSouth = true;
        bool eastWest = true;
        bool errorsOnly = false;  // only edges/nodes with errors (and their endpoints)
        QString ns;  // empty: every namespace
    };

    explicit GraphCanvas(QWidget *parent = nullptr);
    ~GraphCanvas() override;

    void setSnapshot(GraphSnapshotPtr snapshot);
    GraphSnapshotPtr snapshot() const;

    void setEdgeLabel(EdgeLabel label);
    EdgeLabel edgeLabel() const;
    void setAnimationEnabled(bool on);
    bool animationEnabled() const;
    void setFilter(const Filter &filter);
    Filter filter() const;
    QStringList namespaces() const;  // seen in the current snapshot, sorted

    // Selects, centres and highlights the first node whose id or name contains text
    // (case-insensitive). Returns the node id, or an empty string when none matches.
    QString findNode(const QString &text);
    void fitToView();
    void zoomBy(double factor, QPointF anchorWidgetPos);
    double zoom() const;

    void selectNode(const QString &id);
    void selectEdge(const QString &id);
    void clearSelection();
    QString selectedNode() const;
    QString selectedEdge() const;

    // Widget coordinates of a node's centre (for tests and context menus); null QPointF if absent/hidden.
    QPointF nodeWidgetPosition(const QString &id) const;
    // Widget coordinates of an edge's midpoint; null if absent/hidden.
    QPointF edgeWidgetPosition(const QString &id) const;
    bool isNodeVisible(const QString &id) const;  // present and not filtered out
    bool isEdgeVisible(const QString &id) const;

    // Positions the user dragged (graph coordinates), for persistence per workspace.
    QHash<QString, QPointF> pinnedPositions() const;
    void setPinnedPositions(const QHash<QString, QPointF> &positions);

    // Export of the whole graph (not just the viewport).
    QImage renderImage(const QSize &size) const;
    bool renderSvg(const QString &fileName) const;

    // Additions (not used by the main window's original contract).
    // True once the image on screen was rendered from the current scene and view.
    bool isRenderUpToDate() const;
    // A first layout of a very large graph runs in the background; until it lands the
    // canvas shows a notice and node positions are null.
    bool isLayoutPending() const;
    double lastRenderMs() const;  // of the newest worker render shown
    // Forgets unpinned positions and lays the current snapshot out afresh.
    void relayout();
    // The same, forgetting the pins too (pinnedPositionsChanged() tells the owner to
    // save that).
    void relayoutAndUnpinAll();
    // Far zoom collapses namespaces into boxes (on by default).
    void setSemanticZoomEnabled(bool on);
    bool isCollapsed() const;
    void setLegendVisible(bool on);
    // The legend sits in the bottom-left corner; a click folds it into a small chip and
    // opens it again. Until the user clicks, it starts folded where the full legend
    // would fill most of the canvas. Fit to view keeps the graph above it.
    void setLegendCollapsed(bool collapsed);
    bool isLegendCollapsed() const;
    QRectF legendRect() const;  // widget coordinates; null when hidden
    // The node name labels as drawn at the current view, widget coordinates, by node
    // id; empty when zoomed out too far for labels.
    QHash<QString, QRectF> nodeLabelRects() const;
    // The text of each node's name label as drawn now (elided where room is short).
    QHash<QString, QString> nodeLabelTexts() const;
    // Each labelled edge's label pill as drawn now (widget coordinates), by edge id.
    QHash<QString, QRectF> edgeLabelRects() const;
    // And the text of each of those labels.
    QHash<QString, QString> edgeLabelTexts() const;
    // One trace's path drawn over the graph: each hop's edge in order, numbered, with
    // its time; the critical path's hops bright, the others quieter; the nodes ringed.
    struct TraceHopMark {
        QString edgeId;  // an edge of the graph as shown
        QString label;  // "1 · 12.3 ms"
        bool critical = false;
        bool error = false;
    };
    void setTraceOverlay(const std::vector<TraceHopMark> &hops, const QStringList &nodes);
    void clearTraceOverlay() { setTraceOverlay({}, {}); }
    // The overlay's hops and nodes that the graph has (the others are not drawn).
    QStringList traceOverlayEdges() const;
    QStringList traceOverlayNodes() const;
    // A diff of two moments drawn over the graph (which should be the union of both,
    // graph/graphdiff.h unionSnapshot): added nodes and edges green, removed ones grey
    // and dashed, changed ones orange with their deltas ("+12 rps · err +3.1 pts") as
    // labels. Items the graph does not have are not drawn.
    struct DiffMark {
        enum class Kind { Added, Removed, Changed };
        QString id;  // a node's or an edge's
        bool edge = false;
        Kind kind = Kind::Changed;
        QString label;  // what moved, for changed items
    };
    void setDiffOverlay(const std::vector<DiffMark> &marks);
    void clearDiffOverlay() { setDiffOverlay({}); }
    // The overlay's items of one kind that the graph has, sorted ids (nodes and edges).
    QStringList diffOverlayIds(DiffMark::Kind kind) const;
    // Each changed edge's delta label as drawn now (widget coordinates) and its text.
    QHash<QString, QPair<QRectF, QString>> diffLabels() const;

    bool hasEdge(const QString &id) const;
    bool hasNode(const QString &id) const;

    // Words written on edges whatever the label kind (a split's observed and configured
    // shares), by edge id; shown from kEdgeLabelScale in, ahead of the rate labels.
    void setEdgeNotes(const QHash<QString, EdgeNote> &notes);
    QHash<QString, EdgeNote> edgeNotes() const;
    // Notes above nodes by node id (a route apply, a rollout's step), drawn at any zoom
    // short of the namespace cards; an empty hash removes them.
    void setNodeNotes(const QHash<QString, NodeNote> &notes);
    QHash<QString, NodeNote> nodeNotes() const;
    // Each drawn note's pill (widget coordinates) by node id; empty on the namespace cards.
    QHash<QString, QRectF> nodeNoteRects() const;
    // The far view's namespace cards as drawn now (widget coordinates), by name
    // ("team-1", "clients", "istio-system ingress"); empty unless collapsed.
    QHash<QString, QRectF> namespaceBoxRects() const;
    // The totals drawn on the edges between those cards.
    struct NamespaceEdgeLabel {
        QString from, to, text;
        QRectF pill;
    };
    QList<NamespaceEdgeLabel> namespaceEdgeLabels() const;
    // Shows one namespace (a far-view card's name) close enough to see its services;
    // what a double-click on its card does. False if there is no such group.
    bool zoomToNamespace(const QString &name);
    QString nodeAt(const QPoint &widgetPos) const;  // id of the node under a point, or empty
    // Id of the edge under a point as it is drawn (curves included), or empty.
    QString edgeAt(const QPoint &widgetPos) const;
    // Widget rectangle of the padlock drawn beside an edge the source reports as mutual
    // TLS; null when it has none (unknown or plaintext) or it is not drawn at this zoom.
    QRectF edgeLockRect(const QString &id) const;
    QTransform viewTransform() const;  // graph coordinates -> widget coordinates

    // Services that have routing rules, keyed "namespace/name" as the route editor names
    // them (RouteEditor::routedServices()), each with a line for its node's tooltip
    // (RouteEditor::routingSummary()). Their nodes get a routing badge; an empty hash
    // removes every badge. Nodes match by namespace and name ("ns/name@v2" also as
    // "ns/name-v2"); a node without a namespace by name alone.
    void setRoutedServices(const QHash<QString, QString> &services);
    QHash<QString, QString> routedServices() const;
    bool isNodeRouted(const QString &id) const;
    QStringList routedNodes() const;  // ids of the nodes with a badge, sorted
    // Widget rectangle of a node's routing badge; null when it has none or it is not drawn
    // (hidden, or zoomed out too far).
    QRectF routingBadgeRect(const QString &id) const;
    // What hovering the node shows (rich text); empty for an unknown id.
    QString nodeToolTipText(const QString &id) const;

Q_SIGNALS:
    void nodeClicked(const QString &id);
    void edgeClicked(const QString &id);
    void selectionCleared();
    void nodeContextMenuRequested(const QString &id, const QPoint &globalPos);
    void pinnedPositionsChanged();

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

}  // namespace meshscope

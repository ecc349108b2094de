#pragma once
// Paints a GraphScene at one view: background grid, namespace boxes, edges grouped by
// style (health x direction x width), arrowheads, nodes stamped from pre-rendered
// sprites, labels; level of detail by zoom (hairlines and squares far away, namespace
// boxes with aggregated edges farther still), everything culled against the viewport.
// Into a 32-bit image, edges and arrowheads go through CanvasLineRasterizer; onto
// any other device (SVG export, a widget) each style is one QPainter::drawLines.
// One instance per thread: it keeps sprites and scratch buffers between renders.

#include "canvas/canvasviewtransform.h"
#include "canvas/edgenote.h"
#include "canvas/graphscene.h"

#include <QFont>
#include <QImage>
#include <QLineF>
#include <QSize>
#include <QString>

#include <array>
#include <vector>

QT_BEGIN_NAMESPACE
class QPainter;
QT_END_NAMESPACE

namespace meshscope {

enum class EdgeLabelKind : uint8_t { None, Rps, ErrorRate, P95 };

struct RenderOptions {
    ViewTransform view;
    QSize size;  // logical pixels
    qreal devicePixelRatio = 1.0;
    EdgeLabelKind edgeLabel = EdgeLabelKind::None;
    bool semanticZoom = true;  // collapse namespaces into boxes when far away
    bool vector = false;  // painting into SVG: real paths, no raster sprites
    bool background = true;
    EdgeNotesPtr edgeNotes;  // null: none

    bool sameOutput(const RenderOptions &o) const
    {
        return view == o.view && size == o.size && devicePixelRatio == o.devicePixelRatio && edgeLabel == o.edgeLabel
            && semanticZoom == o.semanticZoom && edgeNotes == o.edgeNotes;
    }
    bool hasEdgeNotes() const { return edgeNotes && !edgeNotes->empty(); }
};

struct RenderStats {
    int nodes = 0;
    int edges = 0;
    int labels = 0;
    bool collapsed = false;
    double ms = 0;
};

class CanvasRenderer {
public:
    CanvasRenderer();
    ~CanvasRenderer();

    // A fresh opaque image of options.size (times the pixel ratio).
    QImage render(const GraphScene &scene, const RenderOptions &options, RenderStats *stats = nullptr);
    void paint(QPainter &p, const GraphScene &scene, const RenderOptions &options, RenderStats *stats = nullptr);

    static bool collapsedAt(const GraphScene &scene, double scale, bool semanticZoom);
    // Background and grid for `area` (logical pixels) at a view; cheap enough for paintEvent.
    static void paintBackground(QPainter &p, const ViewTransform &view, const QRectF &area);
    // The legend panel (node shapes, NS/EW, health colours, and the routing badge
    // when `routing`) as an image.
    static QImage legendImage(qreal devicePixelRatio, bool routing = false);
    // The legend folded away: a small "Legend" chip that opens it again.
    static QImage legendChipImage(qreal devicePixelRatio);

    // A node's name label as painted: its text and the pill behind it (logical pixels).
    struct NodeLabel {
        int node = -1;  // index into scene.nodes()
        QPointF namePos, subPos;
        QString name, sub;
        QRectF pill;
    };
    // The visible nodes a render at `options` draws (the viewport with a margin).
    static void culledNodes(const GraphScene &scene, const RenderOptions &options, std::vector<int> &out);
    // Labels of `nodes` at `options`; none when zoomed out too far for labels.
    static std::vector<NodeLabel> layoutNodeLabels(
        const GraphScene &scene, const RenderOptions &options, const std::vector<int> &nodes);

    // An edge's rate label as painted: its text and pill (logical pixels).
    struct EdgeLabel {
        int edge = -1;  // index into scene.edges()
        QString text;
        QRectF pill;
        bool noted = false;  // carries the edge's note (options.edgeNotes)
        bool warn = false;
    };
    // The visible edges a render at `options` draws (crossing the viewport).
    static void culledEdges(const GraphScene &scene, const RenderOptions &options, std::vector<int> &out);
    // Labels of `edges` at `options`, noted edges first and then the busiest, each at
    // the first spot along its edge (the middle, then either side of it) where the pill
    // covers no node, no node label (`nodeLabels`, as layoutNodeLabels gives them for
    // `nodes`) and no label placed before it; an edge with no such spot gets none. A
    // noted edge's label is its note, after its number when edge labels are on. None
    // when zoomed out past kEdgeLabelScale, or when edge labels are off and nothing is noted.
    static std::vector<EdgeLabel> layoutEdgeLabels(const GraphScene &scene, const RenderOptions &options,
        const std::vector<int> &edges, const std::vector<int> &nodes, const std::vector<NodeLabel> &nodeLabels);

    // Where the padlock of an edge reported as mutual TLS is drawn at a view (logical
    // pixels), beside the middle of the edge as drawn; null when it has none or it is
    // not drawn there (hidden, too short, or zoomed out too far). `labelled`: edge
    // labels are drawn too, so the lock stands further off to clear their pills.
    static QRectF lockRect(const GraphScene &scene, int edge, const ViewTransform &view, bool labelled);

    // Screen rectangles of the namespace boxes in the collapsed view, one per
    // scene.groups() entry (null where the group shows nothing). Each box is a card
    // centred where the layout put the group's nodes, wide enough for its whole title
    // and its size line; a card that overlaps one of a larger group moves the least
    // distance that clears every card placed before it, so no two overlap.
    static std::vector<QRectF> groupBoxes(const GraphScene &scene, const ViewTransform &view);
    // The title font of a box of that height.
    static QFont groupTitleFont(double boxHeight);

    // A namespace-to-namespace edge's label in the collapsed view: the totals of the
    // edges it stands for ("1.2k rps", and their error share when there are errors).
    struct GroupEdgeLabel {
        int groupEdge = -1;  // index into scene.groupEdges()
        QString text;
        QRectF pill;
    };
    // The segment a group edge is drawn along between two boxes (null if too short).
    static QLineF groupEdgeLine(const GraphScene &scene, int groupEdge, const std::vector<QRectF> &boxes);
    // Labels of the group edges, busiest first, each where its pill covers no box and
    // no label placed before it (along the edge: the middle, then either side).
    static std::vector<GroupEdgeLabel> layoutGroupEdgeLabels(
        const GraphScene &scene, const std::vector<QRectF> &boxes, const QRectF &viewport);
    static QString groupEdgeLabelText(const SceneGroupEdge &edge);

private:
    void paintExpanded(
        QPainter &p, const GraphScene &scene, const RenderOptions &o, const QRectF &viewport, RenderStats &stats);
    void paintCollapsed(
        QPainter &p, const GraphScene &scene, const RenderOptions &o, const QRectF &viewport, RenderStats &stats);
    void paintNodeLabels(QPainter &p, const RenderOptions &o, const std::vector<NodeLabel> &labels, RenderStats &stats);
    void paintEdgeLabels(QPainter &p, const GraphScene &scene, const RenderOptions &o,
        const std::vector<NodeLabel> &nodeLabels, RenderStats &stats);
    const QImage &sprite(NodeKind kind, Health health, double radius, qreal dpr);
    void paintLocks(QPainter &p, const GraphScene &scene, const RenderOptions &o);

    std::array<QImage, 20> m_sprites;
    double m_spriteRadius = -1;
    qreal m_spriteDpr = -1;
    QImage m_lockSprite;
    double m_lockSide = -1;
    // Scratch buffers kept between renders so a frame allocates almost nothing.
    std::vector<std::vector<QLineF>> m_buckets;
    std::vector<int> m_visibleEdges;
    std::vector<int> m_visibleNodes;
};

}  // namespace meshscope

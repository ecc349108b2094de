#pragma once
// Paints a GraphScene at one view: background grid, namespace boxes, edges grouped by
// style (health x direction x width), arrowheads, nodes stamped from pre-rendered
// sprites, labels; level of detail by zoom (hairlines and squares far away, namespace
// boxes with aggregated edges farther still), everything culled against the viewport.
// Into a 32-bit image, edges and arrowheads go through CanvasLineRasterizer; onto
// any other device (SVG export, a widget) each style is one QPainter::drawLines.
// One instance per thread: it keeps sprites and scratch buffers between renders.

#include "canvas/canvasviewtransform.h"
#include "canvas/graphscene.h"

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

    bool sameOutput(const RenderOptions &o) const
    {
        return view == o.view && size == o.size && devicePixelRatio == o.devicePixelRatio && edgeLabel == o.edgeLabel
            && semanticZoom == o.semanticZoom;
    }
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
    };
    // The visible edges a render at `options` draws (crossing the viewport).
    static void culledEdges(const GraphScene &scene, const RenderOptions &options, std::vector<int> &out);
    // Labels of `edges` at `options`, busiest first, each at the first spot along its
    // edge (the middle, then either side of it) where the pill covers no node, no
    // node label (`nodeLabels`, as layoutNodeLabels gives them for `nodes`) and no
    // label placed before it; an edge with no such spot gets none. None when edge
    // labels are off or zoomed out past kEdgeLabelScale.
    static std::vector<EdgeLabel> layoutEdgeLabels(const GraphScene &scene, const RenderOptions &options,
        const std::vector<int> &edges, const std::vector<int> &nodes, const std::vector<NodeLabel> &nodeLabels);

    // Where the padlock of an edge reported as mutual TLS is drawn at a view (logical
    // pixels), beside the middle of the edge as drawn; null when it has none or it is
    // not drawn there (hidden, too short, or zoomed out too far). `labelled`: edge
    // labels are drawn too, so the lock stands further off to clear their pills.
    static QRectF lockRect(const GraphScene &scene, int edge, const ViewTransform &view, bool labelled);

    // Screen rectangle of a namespace box in the collapsed view.
    static QRectF groupBox(const SceneGroup &group, const ViewTransform &view);

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

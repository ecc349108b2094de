#include "canvas/canvasrenderer.h"

#include "canvas/canvaslinerasterizer.h"
#include "canvas/canvastheme.h"
#include "displayformat.h"

#include <QElapsedTimer>
#include <QFontMetricsF>
#include <QHash>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_set>

namespace meshscope {

namespace {

using namespace canvas;

constexpr int kWidthBuckets = 24;  // half-pixel steps from 1 px
constexpr int kHealthCount = 4;  // Health values are 0..3, drawn in that order (errors on top)
// After the styled buckets come faint hairline buckets for edges just passing through.
constexpr size_t kContextBuckets = size_t(kWidthBuckets) * kHealthCount * 2;

int bucketIndex(int widthBucket, Health h, Direction d) { return ((widthBucket * kHealthCount) + int(h)) * 2 + int(d); }

QPen edgePen(QColor colour, double width, bool dashed, bool cosmetic)
{
    QPen pen(colour);
    pen.setCapStyle(Qt::FlatCap);
    if (cosmetic) {
        // Width-1 cosmetic pens take the raster engine's fast line path, dashes included.
        pen.setCosmetic(true);
        pen.setWidthF(1.0);
    } else {
        pen.setWidthF(width);
    }
    if (dashed) {
        // Dash lengths are in pen widths; keep them about 7/4 px on screen however wide.
        const double w = cosmetic ? 1.0 : std::max(1.0, width);
        pen.setDashPattern({std::max(1.6, 7.0 / w), std::max(1.2, 4.5 / w)});
    }
    return pen;
}

// Where the segment from a box's centre towards `to` leaves the box.
QPointF boxExit(const QRectF &box, QPointF to)
{
    const QPointF c = box.center();
    const QPointF d = to - c;
    const double tx = std::abs(d.x()) > 1e-9 ? box.width() / 2 / std::abs(d.x()) : 1e9;
    const double ty = std::abs(d.y()) > 1e-9 ? box.height() / 2 / std::abs(d.y()) : 1e9;
    return c + d * std::min({tx, ty, 1.0});
}

void addArrow(QPainterPath &path, QPointF tip, QPointF unit, double length)
{
    const QPointF n(-unit.y(), unit.x());
    const QPointF base = tip - unit * length;
    path.moveTo(tip);
    path.lineTo(base + n * (length * 0.46));
    path.lineTo(base - n * (length * 0.46));
    path.closeSubpath();
}

// Where an edge's arrowhead goes on screen: the tip, the direction it points (the
// curve's tangent there), and the chord's length (arrows only on edges long enough).
struct EdgeTip {
    QPointF at, unit;
    double length = 0;
};
EdgeTip edgeTip(const SceneEdge &e, const ViewTransform &view)
{
    EdgeTip tip;
    tip.at = view.map(e.p2);
    const QPointF chord = tip.at - view.map(e.p1);
    tip.length = std::sqrt(QPointF::dotProduct(chord, chord));
    const QPointF d = e.curved ? tip.at - view.map(e.ctrl) : chord;
    const double len = std::sqrt(QPointF::dotProduct(d, d));
    tip.unit = len > 1e-9 ? d / len : QPointF(1, 0);
    return tip;
}

// The image under the painter when edges can be rasterized into it directly: an
// unshared 32-bit image painted without a world transform (not SVG, not a widget).
QImage *directTarget(QPainter &p, const RenderOptions &o)
{
    if (o.vector || !p.device() || p.device()->devType() != QInternal::Image || !p.worldTransform().isIdentity())
        return nullptr;
    auto *image = static_cast<QImage *>(p.device());
    return CanvasLineRasterizer::supports(*image) && image->isDetached() ? image : nullptr;
}

QString nodeTitle(const NodeSnapshot &n)
{
    QString name = QString::fromStdString(n.name.empty() ? n.id : n.name);
    // Versions of one service are separate nodes; the version tells them apart at a glance.
    if (!n.version.empty())
        name += QLatin1Char(' ') + QString::fromStdString(n.version);
    if (n.kind == NodeKind::Other && n.foldedCount > 0)
        name += QStringLiteral(" (") + QString::number(n.foldedCount) + QLatin1Char(')');
    return name;
}

QString nodeSubtitle(const NodeSnapshot &n)
{
    QStringList parts;
    if (!n.ns.empty())
        parts << QString::fromStdString(n.ns);
    if (parts.isEmpty()) {
        switch (n.kind) {
        case NodeKind::External: parts << QStringLiteral("outside the mesh"); break;
        case NodeKind::ExternalService: parts << QStringLiteral("external"); break;
        case NodeKind::Other: parts << QStringLiteral("folded nodes"); break;
        default: break;
        }
    }
    return parts.join(QStringLiteral(" \u00b7 "));
}

}  // namespace

CanvasRenderer::CanvasRenderer() = default;
CanvasRenderer::~CanvasRenderer() = default;

bool CanvasRenderer::collapsedAt(const GraphScene &scene, double scale, bool semanticZoom)
{
    return semanticZoom && scale < kCollapseScale && scene.canCollapse();
}

QImage CanvasRenderer::render(const GraphScene &scene, const RenderOptions &o, RenderStats *stats)
{
    QElapsedTimer timer;
    timer.start();
    const QSize device = (QSizeF(o.size) * o.devicePixelRatio).toSize();
    QImage image(
        device.expandedTo(QSize(1, 1)), o.background ? QImage::Format_RGB32 : QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(o.devicePixelRatio);
    if (!o.background)
        image.fill(Qt::transparent);
    {
        QPainter p(&image);
        paint(p, scene, o, stats);
    }
    if (stats)
        stats->ms = double(timer.nsecsElapsed()) / 1e6;
    return image;
}

void CanvasRenderer::paint(QPainter &p, const GraphScene &scene, const RenderOptions &o, RenderStats *statsOut)
{
    RenderStats stats;
    const QRectF viewport(QPointF(0, 0), QSizeF(o.size));
    if (o.background)
        paintBackground(p, o.view, viewport);
    stats.collapsed = collapsedAt(scene, o.view.scale, o.semanticZoom);
    if (stats.collapsed)
        paintCollapsed(p, scene, o, viewport, stats);
    else
        paintExpanded(p, scene, o, viewport, stats);
    if (statsOut) {
        stats.ms = statsOut->ms;
        *statsOut = stats;
    }
}

void CanvasRenderer::paintBackground(QPainter &p, const ViewTransform &view, const QRectF &area)
{
    p.fillRect(area, background());
    // A quiet grid whose pitch stays between ~26 and ~130 px at any zoom.
    double step = 100;
    while (step * view.scale < 26)
        step *= 5;
    while (step * view.scale > 130)
        step /= 5;
    const QRectF g = view.unmap(area);
    const long long c0 = (long long)std::floor(g.left() / step), c1 = (long long)std::ceil(g.right() / step);
    const long long r0 = (long long)std::floor(g.top() / step), r1 = (long long)std::ceil(g.bottom() / step);
    if (c1 - c0 > 400 || r1 - r0 > 400)
        return;
    std::vector<QLineF> minor, major;
    for (long long c = c0; c <= c1; ++c) {
        const double x = std::round(view.map(QPointF(double(c) * step, 0)).x()) + 0.5;
        (c % 5 == 0 ? major : minor).emplace_back(x, area.top(), x, area.bottom());
    }
    for (long long r = r0; r <= r1; ++r) {
        const double y = std::round(view.map(QPointF(0, double(r) * step)).y()) + 0.5;
        (r % 5 == 0 ? major : minor).emplace_back(area.left(), y, area.right(), y);
    }
    p.save();
    p.setRenderHint(QPainter::Antialiasing, false);
    QPen pen(gridLine());
    pen.setCosmetic(true);
    p.setPen(pen);
    p.drawLines(minor.data(), int(minor.size()));
    pen.setColor(gridLineMajor());
    p.setPen(pen);
    p.drawLines(major.data(), int(major.size()));
    p.restore();
}

const QImage &CanvasRenderer::sprite(NodeKind kind, Health health, double radius, qreal dpr)
{
    if (radius != m_spriteRadius || dpr != m_spriteDpr) {
        for (QImage &img : m_sprites)
            img = QImage();
        m_spriteRadius = radius;
        m_spriteDpr = dpr;
    }
    QImage &img = m_sprites[size_t(kind) * kHealthCount + size_t(health)];
    if (img.isNull()) {
        const int side = int(std::ceil(radius * 2.6 + 4));
        img = QImage(QSize(side, side) * dpr, QImage::Format_ARGB32_Premultiplied);
        img.setDevicePixelRatio(dpr);
        img.fill(Qt::transparent);
        QPainter sp(&img);
        sp.setRenderHint(QPainter::Antialiasing, true);
        drawNodeShape(sp, kind, health, QPointF(side / 2.0, side / 2.0), radius);
    }
    return img;
}

void CanvasRenderer::paintExpanded(
    QPainter &p, const GraphScene &scene, const RenderOptions &o, const QRectF &viewport, RenderStats &stats)
{
    const double s = o.view.scale;
    const bool far = s < kFarScale && !o.vector;
    const std::vector<SceneNode> &nodes = scene.nodes();
    const std::vector<SceneEdge> &edges = scene.edges();

    // Namespace boxes behind everything.
    if (scene.namespaceCount() > 0) {
        p.setRenderHint(QPainter::Antialiasing, true);
        const bool labels = s >= 0.22;
        const QFont font = labelFont(std::clamp(11.0 * s, 9.0, 16.0), true);
        const QFontMetricsF fm(font);
        p.setFont(font);
        const double radius = std::clamp(10 * s, 2.0, 12.0);
        for (const SceneGroup &g : scene.groups()) {
            if (!g.isNamespace || g.visibleCount == 0)
                continue;
            const QRectF r = o.view.map(g.bounds.adjusted(-16, -30, 16, 8));
            if (!r.intersects(viewport))
                continue;
            p.setPen(QPen(namespaceBorder(), 1));
            p.setBrush(namespaceFill());
            p.drawRoundedRect(r, radius, radius);
            if (labels && r.width() > 40) {
                p.setPen(namespaceText());
                const QString text = fm.elidedText(g.name, Qt::ElideRight, r.width() - 16 * std::min(s, 1.0));
                p.drawText(QPointF(r.left() + 9 * std::min(s, 1.0) + 2, r.top() + 6 * s + fm.ascent()), text);
            }
        }
        // A node pinned outside its namespace's box keeps a dashed line to the box.
        QPen link(namespaceText(), 1, Qt::DashLine);
        link.setCosmetic(true);
        p.setPen(link);
        p.setBrush(Qt::NoBrush);
        for (int i : scene.strayNodes()) {
            const SceneNode &n = nodes[size_t(i)];
            const SceneGroup &g = scene.groups()[size_t(n.group)];
            if (!g.isNamespace || g.bounds.isNull())
                continue;
            const QRectF box = g.bounds.adjusted(-16, -30, 16, 8);
            const QPointF onBox(
                std::clamp(n.pos.x(), box.left(), box.right()), std::clamp(n.pos.y(), box.top(), box.bottom()));
            const QLineF line(o.view.map(onBox), o.view.map(n.pos));
            if (QRectF(line.p1(), line.p2()).normalized().adjusted(-1, -1, 1, 1).intersects(viewport))
                p.drawLine(line);
        }
    }

    // Edges, bucketed by pen so each style is one drawLines call.
    const bool arrows = s >= kArrowScale && !far;
    auto arrowLength = [s](double w) { return std::clamp((7.0 + 1.1 * w) * s, 4.5, 20.0); };
    const size_t bucketCount = kContextBuckets + kHealthCount * 2;
    if (m_buckets.size() != bucketCount)
        m_buckets.resize(bucketCount);
    for (auto &b : m_buckets)
        b.clear();
    culledEdges(scene, o, m_visibleEdges);
    for (int k : m_visibleEdges) {
        const SceneEdge &e = edges[size_t(k)];
        const QPointF a = o.view.map(e.p1);
        QPointF b = o.view.map(e.p2);
        // An edge passing through with both ends off screen is context, not the
        // subject: a hairline, so long through-traffic does not bury what is in view.
        const bool passing = !far && !viewport.contains(a) && !viewport.contains(b);
        const double px = far || passing ? 1.0 : std::max(1.0, e.width * s);
        const int wb = far ? 0 : std::min(kWidthBuckets - 1, int(std::lround(px * 2)) - 2);
        std::vector<QLineF> &bucket = passing ? m_buckets[kContextBuckets + size_t(e.health) * 2 + size_t(e.direction)]
                                              : m_buckets[size_t(bucketIndex(wb, e.health, e.direction))];
        if (arrows && !passing) {
            // Stop the line under the arrowhead so a thick line does not poke past the tip.
            const EdgeTip tip = edgeTip(e, o.view);
            const double al = arrowLength(e.width);
            if (tip.length > al * 1.5)
                b -= tip.unit * (al * 0.8);
        }
        if (!e.curved || far) {
            // Far away a bend is a few pixels of a hairline: not worth its pieces.
            bucket.emplace_back(a, b);
            continue;
        }
        // As few pieces as keep within half a pixel of the true curve (a piece of a
        // parabola bowing h px strays about h / (2 n^2) from its chord), up to
        // kCurveSegments (the hit-test's) close up.
        const QPointF bow = e.ctrl - (e.p1 + e.p2) / 2;
        const double bowPx = std::sqrt(QPointF::dotProduct(bow, bow)) * s;
        const int pieces = std::clamp(int(std::ceil(std::sqrt(bowPx))), 2, kCurveSegments);
        QPointF prev = a;
        for (int j = 1; j < pieces; ++j) {
            const QPointF next = o.view.map(edgePointAt(e, double(j) / pieces));
            bucket.emplace_back(prev, next);
            prev = next;
        }
        bucket.emplace_back(prev, b);
    }
    QImage *direct = directTarget(p, o);
    const double dpr = o.devicePixelRatio;
    // Edges and arrowheads go into one batch for the direct rasterizer (drawn tile by
    // tile), or through QPainter for other devices; either way style by style.
    std::optional<CanvasLineRasterizer> raster;
    if (direct)
        raster.emplace(*direct);
    p.setRenderHint(QPainter::Antialiasing, !far);
    p.setBrush(Qt::NoBrush);
    for (int h = 0; h < kHealthCount; ++h) {
        for (int d = 0; d < 2; ++d) {
            const std::vector<QLineF> &lines = m_buckets[kContextBuckets + size_t(h) * 2 + size_t(d)];
            if (lines.empty())
                continue;
            QColor colour = edgeColor(Health(h));
            colour.setAlphaF(colour.alphaF() * 0.5f);
            const bool dashed = Direction(d) == Direction::NorthSouth;
            if (raster) {
                CanvasLineRasterizer::Style style;
                style.colour = colour;
                if (dashed) {
                    style.dash = 7 * dpr;
                    style.gap = 4.5 * dpr;
                }
                const int ink = raster->addStyle(style);
                for (const QLineF &l : lines)
                    raster->addLine(ink, l.p1() * dpr, l.p2() * dpr, dpr, dpr);
            } else {
                p.setPen(edgePen(colour, 1.0, dashed, !o.vector));
                p.drawLines(lines.data(), int(lines.size()));
            }
        }
    }
    for (int h = 0; h < kHealthCount; ++h) {
        const QColor colour = edgeColor(Health(h));
        for (int wb = 0; wb < kWidthBuckets; ++wb) {
            for (int d = 0; d < 2; ++d) {
                const std::vector<QLineF> &lines = m_buckets[size_t(bucketIndex(wb, Health(h), Direction(d)))];
                if (lines.empty())
                    continue;
                const double width = 1.0 + wb * 0.5;
                const bool dashed = Direction(d) == Direction::NorthSouth;
                if (raster) {
                    CanvasLineRasterizer::Style style;
                    style.colour = colour;
                    style.antialias = !far;
                    if (dashed) {
                        style.dash = 7 * dpr;
                        style.gap = 4.5 * dpr;
                    }
                    const int ink = raster->addStyle(style);
                    for (const QLineF &l : lines)
                        raster->addLine(ink, l.p1() * dpr, l.p2() * dpr, width * dpr, width * dpr);
                } else {
                    p.setPen(edgePen(colour, width, dashed, width <= 1.0 && !o.vector));
                    p.drawLines(lines.data(), int(lines.size()));
                }
            }
        }
    }
    stats.edges = int(m_visibleEdges.size());

    if (arrows && raster) {
        // An arrowhead is a line whose width tapers from its base to nothing at the tip.
        std::array<int, kHealthCount> inks;
        for (int h = 0; h < kHealthCount; ++h) {
            CanvasLineRasterizer::Style style;
            style.colour = edgeColor(Health(h));
            style.colour.setAlpha(std::min(255, style.colour.alpha() + 40));
            inks[size_t(h)] = raster->addStyle(style);
        }
        for (int k : m_visibleEdges) {
            const SceneEdge &e = edges[size_t(k)];
            const EdgeTip tip = edgeTip(e, o.view);
            const double al = arrowLength(e.width);
            if (tip.length < al * 1.5)
                continue;
            raster->addLine(inks[size_t(e.health)], (tip.at - tip.unit * al) * dpr, tip.at * dpr, al * 0.92 * dpr, 0);
        }
    } else if (arrows) {
        std::array<QPainterPath, kHealthCount> heads;
        for (int k : m_visibleEdges) {
            const SceneEdge &e = edges[size_t(k)];
            const EdgeTip tip = edgeTip(e, o.view);
            const double al = arrowLength(e.width);
            if (tip.length < al * 1.5)
                continue;
            addArrow(heads[size_t(e.health)], tip.at, tip.unit, al);
        }
        p.setPen(Qt::NoPen);
        p.setRenderHint(QPainter::Antialiasing, true);
        for (int h = 0; h < kHealthCount; ++h) {
            if (heads[size_t(h)].isEmpty())
                continue;
            QColor c = edgeColor(Health(h));
            c.setAlpha(std::min(255, c.alpha() + 40));
            p.setBrush(c);
            p.drawPath(heads[size_t(h)]);
        }
    }
    if (raster)
        raster->draw();
    if (arrows)
        paintLocks(p, scene, o);

    // Nodes.
    culledNodes(scene, o, m_visibleNodes);
    stats.nodes = int(m_visibleNodes.size());
    if (far) {
        const double side = std::max(2.5, 2 * kNodeRadius * s * 0.9);
        std::array<std::vector<QRectF>, kHealthCount> squares;
        for (int i : m_visibleNodes) {
            const QPointF c = o.view.map(nodes[size_t(i)].pos);
            squares[size_t(nodes[size_t(i)].health)].emplace_back(c.x() - side / 2, c.y() - side / 2, side, side);
        }
        p.setRenderHint(QPainter::Antialiasing, false);
        p.setPen(Qt::NoPen);
        for (int h = 0; h < kHealthCount; ++h) {
            if (squares[size_t(h)].empty())
                continue;
            p.setBrush(healthColor(Health(h)));
            p.drawRects(squares[size_t(h)].data(), int(squares[size_t(h)].size()));
        }
    } else if (o.vector) {
        p.setRenderHint(QPainter::Antialiasing, true);
        for (int i : m_visibleNodes) {
            const SceneNode &n = nodes[size_t(i)];
            drawNodeShape(p, n.kind, n.health, o.view.map(n.pos), kNodeRadius * s);
        }
    } else {
        // Shapes are stamped from sprites rendered once per zoom level: a blit per node
        // instead of an antialiased path fill per node.
        const qreal dpr = o.devicePixelRatio;
        for (int i : m_visibleNodes) {
            const SceneNode &n = nodes[size_t(i)];
            const QImage &img = sprite(n.kind, n.health, kNodeRadius * s, dpr);
            const double half = img.width() / dpr / 2;
            const QPointF c = o.view.map(n.pos);
            p.drawImage(QPointF(std::round((c.x() - half) * dpr) / dpr, std::round((c.y() - half) * dpr) / dpr), img);
        }
    }
    // Routing badges on services that have routing rules; too small to read far away.
    if (!far && scene.routedNodeCount() > 0) {
        p.setRenderHint(QPainter::Antialiasing, true);
        for (int i : m_visibleNodes) {
            const SceneNode &n = nodes[size_t(i)];
            if (n.routed)
                drawRoutingBadge(p, o.view.map(n.pos), kNodeRadius * s);
        }
    }

    const std::vector<NodeLabel> nodeLabels
        = s >= kLabelScale ? layoutNodeLabels(scene, o, m_visibleNodes) : std::vector<NodeLabel>();
    if (!nodeLabels.empty())
        paintNodeLabels(p, o, nodeLabels, stats);
    if ((o.edgeLabel != EdgeLabelKind::None || o.hasEdgeNotes()) && s >= kEdgeLabelScale)
        paintEdgeLabels(p, scene, o, nodeLabels, stats);
}

QRectF CanvasRenderer::lockRect(const GraphScene &scene, int edge, const ViewTransform &view, bool labelled)
{
    if (edge < 0 || size_t(edge) >= scene.edges().size() || view.scale < kArrowScale)
        return {};
    const SceneEdge &e = scene.edges()[size_t(edge)];
    if (!e.visible || scene.edgeData(edge).mtls != 1)
        return {};
    const QPointF a = view.map(e.p1), b = view.map(e.p2);
    const QPointF d = b - a;
    const double len = std::sqrt(QPointF::dotProduct(d, d));
    const double side = std::clamp(12.0 * view.scale, 8.0, 14.0);
    if (len < side * 4)
        return {};
    // Beside the middle, on the edge's right: for a pair of opposite edges that is the
    // outer side, so the two locks never sit on each other's line.
    const QPointF n(-d.y() / len, d.x() / len);
    const double off = side * 0.6 + e.width * view.scale / 2 + (labelled ? 14 : 3);
    const QPointF centre = view.map(edgePointAt(e, 0.5)) + n * off;
    return canvas::lockRect(centre, side);
}

void CanvasRenderer::paintLocks(QPainter &p, const GraphScene &scene, const RenderOptions &o)
{
    const qreal dpr = o.devicePixelRatio;
    const double side = std::clamp(12.0 * o.view.scale, 8.0, 14.0);
    if (!o.vector && (m_lockSide != side || m_lockSprite.devicePixelRatio() != dpr)) {
        const QRectF r = canvas::lockRect(QPointF(), side).adjusted(-2, -2, 2, 2);
        m_lockSprite = QImage((r.size() * dpr).toSize(), QImage::Format_ARGB32_Premultiplied);
        m_lockSprite.setDevicePixelRatio(dpr);
        m_lockSprite.fill(Qt::transparent);
        QPainter sp(&m_lockSprite);
        drawLock(sp, -r.topLeft(), side);
        m_lockSide = side;
    }
    const bool labelled = o.edgeLabel != EdgeLabelKind::None && o.view.scale >= kEdgeLabelScale;
    int drawn = 0;
    for (int k : m_visibleEdges) {
        if (scene.edgeData(k).mtls != 1)
            continue;
        const QRectF r = lockRect(scene, k, o.view, labelled);
        if (r.isNull())
            continue;
        if (o.vector) {
            drawLock(p, r.center(), side);
        } else {
            const QPointF at = r.center() - QPointF(m_lockSprite.width(), m_lockSprite.height()) / dpr / 2;
            p.drawImage(QPointF(std::round(at.x() * dpr) / dpr, std::round(at.y() * dpr) / dpr), m_lockSprite);
        }
        if (++drawn >= 4000)
            break;  // beyond that many they are texture, not information
    }
}

void CanvasRenderer::culledNodes(const GraphScene &scene, const RenderOptions &o, std::vector<int> &out)
{
    const QRectF graphView = o.view.unmap(QRectF(QPointF(0, 0), QSizeF(o.size)));
    const double s = o.view.scale;
    const double nodeMargin = kNodeRadius * 1.3 + (s >= kLabelScale ? kLabelHalfWidth : 0);
    const QRectF nodeView = graphView.adjusted(-nodeMargin, -nodeMargin - kLabelDepth, nodeMargin, nodeMargin);
    out.clear();
    const auto &nodes = scene.nodes();
    for (size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].visible && nodeView.contains(nodes[i].pos))
            out.push_back(int(i));
    }
}

std::vector<CanvasRenderer::NodeLabel> CanvasRenderer::layoutNodeLabels(
    const GraphScene &scene, const RenderOptions &o, const std::vector<int> &visible)
{
    std::vector<NodeLabel> labels;
    if (visible.size() > 3000 || o.view.scale < kLabelScale || collapsedAt(scene, o.view.scale, o.semanticZoom))
        return labels;  // cannot be read anyway, and would cost more than the rest of the frame
    const double s = o.view.scale;
    const bool detail = s >= kDetailScale;
    const QFont nameFont = labelFont(std::max(11.5 * s, kMinLabelPx), true);
    const QFont subFont = labelFont(std::max(9.5 * s, kMinLabelPx - 1));
    const QFontMetricsF fmName(nameFont), fmSub(subFont);
    // Room for each label: up to its nearest neighbours in the same row (their labels
    // are centred too), so sparse rows (gateways, external services) keep full names.
    std::vector<double> room(visible.size(), 0);
    {
        std::vector<int> byRow(visible.size());
        for (size_t k = 0; k < visible.size(); ++k)
            byRow[k] = int(k);
        auto posOf = [&](int k) { return scene.nodes()[size_t(visible[size_t(k)])].pos; };
        std::sort(byRow.begin(), byRow.end(), [&](int a, int b) {
            const QPointF pa = posOf(a), pb = posOf(b);
            return pa.y() != pb.y() ? pa.y() < pb.y() : pa.x() < pb.x();
        });
        const double cap = 230 * std::max(1.0, s);
        for (size_t k = 0; k < byRow.size(); ++k) {
            const QPointF p0 = posOf(byRow[k]);
            double gap = cap / s;
            if (k > 0 && std::abs(posOf(byRow[k - 1]).y() - p0.y()) < kNodeRadius)
                gap = std::min(gap, p0.x() - posOf(byRow[k - 1]).x());
            if (k + 1 < byRow.size() && std::abs(posOf(byRow[k + 1]).y() - p0.y()) < kNodeRadius)
                gap = std::min(gap, posOf(byRow[k + 1]).x() - p0.x());
            room[size_t(byRow[k])] = std::max(24.0, std::min(cap, gap * s - 8));
        }
    }

    // Names more than one visible node bears (reviews v1, reviews v2): their labels keep
    // the version, or two nodes would read the same.
    QHash<QString, int> nameCount;
    for (int i : visible)
        ++nameCount[QString::fromStdString(scene.nodeData(i).name)];

    labels.reserve(visible.size());
    for (size_t k = 0; k < visible.size(); ++k) {
        const int i = visible[k];
        const double maxWidth = room[k];
        const SceneNode &n = scene.nodes()[size_t(i)];
        const NodeSnapshot &data = scene.nodeData(i);
        const QPointF c = o.view.map(n.pos);
        NodeLabel l;
        l.node = i;
        l.name = nodeTitle(data);
        double wn = fmName.horizontalAdvance(l.name);
        const QString name = QString::fromStdString(data.name);
        if (wn > maxWidth && !data.version.empty() && nameCount.value(name) > 1) {
            // Short of room beside another version of the same service: the middle of
            // the name goes, the version stays ("rev…s v2").
            l.name = fmName.elidedText(l.name, Qt::ElideMiddle, maxWidth);
            wn = fmName.horizontalAdvance(l.name);
        } else if (wn > maxWidth && !data.version.empty()) {
            // Short of room the version goes first: the name matters more.
            l.name = name;
            wn = fmName.horizontalAdvance(l.name);
        }
        if (wn > maxWidth) {
            l.name = fmName.elidedText(l.name, Qt::ElideRight, maxWidth);
            wn = fmName.horizontalAdvance(l.name);
        }
        double ws = 0;
        if (detail) {
            l.sub = nodeSubtitle(data);
            ws = fmSub.horizontalAdvance(l.sub);
            if (ws > maxWidth) {
                l.sub = fmSub.elidedText(l.sub, Qt::ElideRight, maxWidth);
                ws = fmSub.horizontalAdvance(l.sub);
            }
        }
        const double pad = std::max(1.0, s);
        const double top = c.y() + kNodeRadius * s * 1.12 + 3 * pad;
        const double h = fmName.height() + (detail && !l.sub.isEmpty() ? fmSub.height() : 0) + 2 * pad;
        const double w = std::max(wn, ws) + 8 * pad;
        l.pill = QRectF(c.x() - w / 2, top, w, h);
        l.namePos = QPointF(c.x() - wn / 2, top + pad + fmName.ascent());
        l.subPos = QPointF(c.x() - ws / 2, top + pad + fmName.height() + fmSub.ascent());
        labels.push_back(std::move(l));
    }
    return labels;
}

void CanvasRenderer::paintNodeLabels(
    QPainter &p, const RenderOptions &o, const std::vector<NodeLabel> &labels, RenderStats &stats)
{
    const double s = o.view.scale;
    const bool detail = s >= kDetailScale;
    const QFont nameFont = labelFont(std::max(11.5 * s, kMinLabelPx), true);
    const QFont subFont = labelFont(std::max(9.5 * s, kMinLabelPx - 1));
    // Grouped by font and colour so the painter switches state three times, not 3n.
    p.setPen(Qt::NoPen);
    p.setBrush(labelBackground());
    p.setRenderHint(QPainter::Antialiasing, labels.size() < 600);
    const double radius = 3 * std::max(1.0, s);
    for (const NodeLabel &l : labels)
        p.drawRoundedRect(l.pill, radius, radius);
    p.setRenderHint(QPainter::TextAntialiasing, true);
    p.setFont(nameFont);
    p.setPen(text());
    for (const NodeLabel &l : labels)
        p.drawText(l.namePos, l.name);
    if (detail) {
        p.setFont(subFont);
        p.setPen(textMuted());
        for (const NodeLabel &l : labels) {
            if (!l.sub.isEmpty())
                p.drawText(l.subPos, l.sub);
        }
    }
    stats.labels += int(labels.size());
}

void CanvasRenderer::culledEdges(const GraphScene &scene, const RenderOptions &o, std::vector<int> &out)
{
    // Edges whose drawn shape may cross the viewport (with a margin for arrowheads).
    const QRectF graphView = o.view.unmap(QRectF(QPointF(0, 0), QSizeF(o.size)));
    const double margin = 12 / o.view.scale;
    const double gl = graphView.left() - margin, gr = graphView.right() + margin;
    const double gt = graphView.top() - margin, gb = graphView.bottom() + margin;
    out.clear();
    const auto &edges = scene.edges();
    for (size_t k = 0; k < edges.size(); ++k) {
        const SceneEdge &e = edges[k];
        if (!e.visible)
            continue;
        const QRectF eb = e.curved ? edgeBounds(e) : QRectF();
        if (e.curved ? (eb.right() < gl || eb.left() > gr || eb.bottom() < gt || eb.top() > gb)
                     : (std::max(e.p1.x(), e.p2.x()) < gl || std::min(e.p1.x(), e.p2.x()) > gr
                         || std::max(e.p1.y(), e.p2.y()) < gt || std::min(e.p1.y(), e.p2.y()) > gb))
            continue;
        out.push_back(int(k));
    }
}

std::vector<CanvasRenderer::EdgeLabel> CanvasRenderer::layoutEdgeLabels(const GraphScene &scene, const RenderOptions &o,
    const std::vector<int> &visible, const std::vector<int> &nodes, const std::vector<NodeLabel> &nodeLabels)
{
    std::vector<EdgeLabel> out;
    const double s = o.view.scale;
    if ((o.edgeLabel == EdgeLabelKind::None && !o.hasEdgeNotes()) || s < kEdgeLabelScale)
        return out;
    struct Candidate {
        int edge;
        double rps;
        const EdgeNote *note;
    };
    std::vector<Candidate> candidates;
    for (int k : visible) {
        const EdgeNote *note = nullptr;
        if (o.edgeNotes) {
            const auto it = o.edgeNotes->find(k);
            note = it == o.edgeNotes->end() ? nullptr : &it->second;
        }
        if (o.edgeLabel == EdgeLabelKind::None && !note)
            continue;
        const SceneEdge &e = scene.edges()[size_t(k)];
        const QPointF d = o.view.map(e.p2) - o.view.map(e.p1);
        if (QPointF::dotProduct(d, d) < 85.0 * 85.0)
            continue;  // no room for a label beside the arrowhead
        candidates.push_back({k, scene.edgeData(k).stats.rps, note});
    }
    // Noted edges first, then the busiest: where labels compete for room, the split's
    // shares and then the heavier edge's number show.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate &x, const Candidate &y) {
        if ((x.note != nullptr) != (y.note != nullptr))
            return x.note != nullptr;
        return x.rps != y.rps ? x.rps > y.rps : x.edge < y.edge;
    });
    // What a label must not cover: nodes (with a little air) and node labels.
    std::vector<QRectF> taken;
    taken.reserve(nodes.size() + nodeLabels.size() + candidates.size());
    const double nodeHalf = kNodeRadius * s * 1.15 + 2;
    for (int n : nodes) {
        const QPointF c = o.view.map(scene.nodes()[size_t(n)].pos);
        taken.emplace_back(c.x() - nodeHalf, c.y() - nodeHalf, 2 * nodeHalf, 2 * nodeHalf);
    }
    for (const NodeLabel &l : nodeLabels)
        taken.push_back(l.pill);
    const QFontMetricsF fm(labelFont(std::clamp(10.0 * s, 9.5, 13.0)));
    const double h = fm.height() + 2;
    for (const Candidate &c : candidates) {
        if (out.size() >= size_t(kMaxEdgeLabels))
            break;  // more labels than this are noise
        const EdgeSnapshot &data = scene.edgeData(c.edge);
        QString text;
        switch (o.edgeLabel) {
        case EdgeLabelKind::Rps: text = display::rps(data.stats.rps) + QStringLiteral(" rps"); break;
        case EdgeLabelKind::ErrorRate:
            if (data.stats.errorRate > 0)
                text = display::percent(data.stats.errorRate);
            break;
        case EdgeLabelKind::P95:
            if (data.stats.p95Ms > 0)
                text = display::millis(data.stats.p95Ms);
            break;
        case EdgeLabelKind::None: break;
        }
        // A noted edge short of room for its number and its note keeps the note.
        QStringList texts;
        if (c.note) {
            if (!text.isEmpty())
                texts << text + QStringLiteral(" \u00b7 ") + c.note->text;
            texts << c.note->text;
            if (!c.note->shortText.isEmpty())
                texts << c.note->shortText;
        } else if (!text.isEmpty()) {
            texts << text;
        }
        const SceneEdge &e = scene.edges()[size_t(c.edge)];
        bool placed = false;
        for (qsizetype i = 0; i < texts.size() && !placed; ++i) {
            const double w = fm.horizontalAdvance(texts[i]) + 8;
            for (double t : {0.5, 0.4, 0.6, 0.3, 0.7}) {
                const QPointF at = o.view.map(edgePointAt(e, t));
                const QRectF pill(at.x() - w / 2, at.y() - h / 2, w, h);
                const QRectF air = pill.adjusted(-2, -2, 2, 2);
                if (std::any_of(taken.begin(), taken.end(), [&air](const QRectF &r) { return r.intersects(air); }))
                    continue;
                out.push_back({c.edge, texts[i], pill, c.note != nullptr, c.note && c.note->warn});
                taken.push_back(pill);
                placed = true;
                break;
            }
        }
    }
    return out;
}

void CanvasRenderer::paintEdgeLabels(QPainter &p, const GraphScene &scene, const RenderOptions &o,
    const std::vector<NodeLabel> &nodeLabels, RenderStats &stats)
{
    const std::vector<EdgeLabel> labels = layoutEdgeLabels(scene, o, m_visibleEdges, m_visibleNodes, nodeLabels);
    if (labels.empty())
        return;
    const QFont font = labelFont(std::clamp(10.0 * o.view.scale, 9.5, 13.0));
    const QFontMetricsF fm(font);
    p.setFont(font);
    p.setRenderHint(QPainter::Antialiasing, true);
    const QColor plain(0xc9, 0xd1, 0xd9);
    for (const EdgeLabel &l : labels) {
        const Health health = scene.edges()[size_t(l.edge)].health;
        // A split's shares in the routing colour, framed in amber when they disagree.
        p.setPen(QPen(l.warn ? healthColor(Health::Degraded) : l.noted ? routingBadge() : QColor(0x30, 0x36, 0x3d), 1));
        p.setBrush(QColor(0x16, 0x1b, 0x22, 235));
        p.drawRoundedRect(l.pill, 3, 3);
        p.setPen(l.warn                                                   ? healthColor(Health::Degraded)
                : l.noted                                                 ? routingBadge()
                : health == Health::Failing || health == Health::Degraded ? healthColor(health)
                                                                          : plain);
        p.drawText(QPointF(l.pill.left() + 4, l.pill.top() + 1 + fm.ascent()), l.text);
        ++stats.labels;
    }
}

namespace {

constexpr double kBoxGap = 8;  // between two namespace boxes, at least
// Namespace cards in the far view: title, size and rate, what is failing.
constexpr double kGroupCardHeight = 58;
constexpr double kGroupCardMinWidth = 120;

QString groupSizeLine(const SceneGroup &group)
{
    const bool one = group.visibleCount == 1;
    const QString what = group.isNamespace ? (one ? QStringLiteral(" service") : QStringLiteral(" services"))
                                           : (one ? QStringLiteral(" node") : QStringLiteral(" nodes"));
    return QString::number(group.visibleCount) + what + QStringLiteral(" \u00b7 ") + display::rps(group.rps)
        + QStringLiteral(" rps");
}

QFont groupInfoFont(const QFont &title) { return labelFont(title.pixelSize() - 2); }

bool clearOf(const QRectF &r, const std::vector<QRectF> &placed)
{
    const QRectF grown = r.adjusted(-kBoxGap, -kBoxGap, kBoxGap, kBoxGap);
    return std::none_of(placed.begin(), placed.end(), [&](const QRectF &p) { return grown.intersects(p); });
}

// The box of r's size nearest to r that clears every placed box: its left taken from
// r's or flush beside a placed box, its top likewise; inside `hull` where that can be.
QRectF nearestClear(const QRectF &r, const std::vector<QRectF> &placed, const QRectF &hull)
{
    constexpr double kPast = kBoxGap + 0.5;
    std::vector<double> xs {r.left()}, ys {r.top()};
    for (const QRectF &p : placed) {
        xs.push_back(p.right() + kPast);
        xs.push_back(p.left() - kPast - r.width());
        ys.push_back(p.bottom() + kPast);
        ys.push_back(p.top() - kPast - r.height());
    }
    auto nearest = [](std::vector<double> &v, double to) {
        std::sort(v.begin(), v.end(), [to](double a, double b) { return std::abs(a - to) < std::abs(b - to); });
        v.resize(std::min<size_t>(v.size(), 32));
    };
    nearest(xs, r.left());
    nearest(ys, r.top());
    QRectF best;
    double bestDistance = std::numeric_limits<double>::infinity();
    for (double x : xs) {
        for (double y : ys) {
            const QRectF candidate(x, y, r.width(), r.height());
            // Leaving the hull costs more than any move inside it.
            const double d = std::hypot(x - r.left(), y - r.top()) + (hull.contains(candidate) ? 0 : 1e6);
            if (d >= bestDistance)
                continue;
            if (clearOf(candidate, placed)) {
                best = candidate;
                bestDistance = d;
            }
        }
    }
    if (best.isNull()) {  // hemmed in on every side: below all of them
        double bottom = r.top();
        for (const QRectF &p : placed)
            bottom = std::max(bottom, p.bottom() + kPast);
        best = QRectF(r.left(), bottom, r.width(), r.height());
    }
    return best;
}

}  // namespace

QFont CanvasRenderer::groupTitleFont(double boxHeight)
{
    return labelFont(std::clamp(boxHeight / 4.5, 9.5, 13.0), true);
}

std::vector<QRectF> CanvasRenderer::groupBoxes(const GraphScene &scene, const ViewTransform &view)
{
    const std::vector<SceneGroup> &groups = scene.groups();
    std::vector<QRectF> boxes(groups.size());
    std::vector<size_t> order;
    for (size_t g = 0; g < groups.size(); ++g) {
        const SceneGroup &group = groups[g];
        if (group.visibleCount == 0 || group.bounds.isNull())
            continue;
        // A card at the middle of the group's nodes, as wide as its title and size line.
        const QFont titleFont = groupTitleFont(kGroupCardHeight);
        const QFontMetricsF fmTitle(titleFont), fmInfo(groupInfoFont(titleFont));
        const double w = std::max({kGroupCardMinWidth, fmTitle.horizontalAdvance(group.name) + 24,
            fmInfo.horizontalAdvance(groupSizeLine(group)) + 24});
        const QPointF c = view.map(group.bounds.center());
        const QRectF r(c.x() - w / 2, c.y() - kGroupCardHeight / 2, w, kGroupCardHeight);
        boxes[g] = r;
        order.push_back(g);
    }
    // Largest namespaces first: they stay put, smaller ones give way.
    std::stable_sort(order.begin(), order.end(),
        [&](size_t a, size_t b) { return groups[a].visibleCount > groups[b].visibleCount; });
    // Cards that give way stay among the others, so a fitted view still shows them.
    QRectF hull;
    for (size_t g : order)
        hull = hull.united(boxes[g]);
    std::vector<QRectF> placed;
    placed.reserve(order.size());
    for (size_t g : order) {
        if (!clearOf(boxes[g], placed))
            boxes[g] = nearestClear(boxes[g], placed, hull);
        placed.push_back(boxes[g]);
    }
    return boxes;
}

QLineF CanvasRenderer::groupEdgeLine(const GraphScene &scene, int groupEdge, const std::vector<QRectF> &boxes)
{
    const SceneGroupEdge &ge = scene.groupEdges()[size_t(groupEdge)];
    const QRectF &ra = boxes[size_t(ge.from)], &rb = boxes[size_t(ge.to)];
    if (ra.isNull() || rb.isNull())
        return {};
    QPointF ca = ra.center(), cb = rb.center();
    const QPointF d = cb - ca;
    const double len = std::sqrt(QPointF::dotProduct(d, d));
    if (len < 1)
        return {};
    if (ge.hasReverse) {  // side by side with the edge coming back
        const QPointF n(-d.y() / len, d.x() / len);
        ca += n * 4;
        cb += n * 4;
    }
    const QLineF line(boxExit(ra, cb), boxExit(rb, ca));
    return line.length() < 24 ? QLineF() : line;
}

QString CanvasRenderer::groupEdgeLabelText(const SceneGroupEdge &edge)
{
    QString text = display::rps(edge.rps) + QStringLiteral(" rps");
    if (edge.errorRate > 0)
        text += QStringLiteral(" \u00b7 ") + display::percent(edge.errorRate) + QStringLiteral(" err");
    return text;
}

static QFont groupEdgeLabelFont() { return labelFont(10.5); }

std::vector<CanvasRenderer::GroupEdgeLabel> CanvasRenderer::layoutGroupEdgeLabels(
    const GraphScene &scene, const std::vector<QRectF> &boxes, const QRectF &viewport)
{
    const std::vector<SceneGroupEdge> &edges = scene.groupEdges();
    std::vector<int> order;
    for (size_t k = 0; k < edges.size(); ++k)
        order.push_back(int(k));
    std::stable_sort(
        order.begin(), order.end(), [&](int a, int b) { return edges[size_t(a)].rps > edges[size_t(b)].rps; });
    const QFontMetricsF fm(groupEdgeLabelFont());
    std::vector<QRectF> taken;
    for (const QRectF &b : boxes) {
        if (!b.isNull())
            taken.push_back(b.adjusted(-2, -2, 2, 2));
    }
    std::vector<GroupEdgeLabel> labels;
    for (int k : order) {
        const QLineF line = groupEdgeLine(scene, k, boxes);
        if (line.isNull())
            continue;
        GroupEdgeLabel label;
        label.groupEdge = k;
        label.text = groupEdgeLabelText(edges[size_t(k)]);
        const QSizeF size(fm.horizontalAdvance(label.text) + 8, fm.height() + 2);
        if (line.length() < size.width() * 0.6)
            continue;
        for (double t : {0.5, 0.38, 0.62, 0.26, 0.74}) {
            const QPointF c = line.pointAt(t);
            const QRectF pill(c - QPointF(size.width() / 2, size.height() / 2), size);
            if (!viewport.contains(pill))
                continue;
            if (std::any_of(taken.begin(), taken.end(), [&](const QRectF &r) { return r.intersects(pill); }))
                continue;
            label.pill = pill;
            break;
        }
        if (label.pill.isNull())
            continue;
        taken.push_back(label.pill.adjusted(-2, -1, 2, 1));
        labels.push_back(std::move(label));
    }
    return labels;
}

void CanvasRenderer::paintCollapsed(
    QPainter &p, const GraphScene &scene, const RenderOptions &o, const QRectF &viewport, RenderStats &stats)
{
    const std::vector<SceneGroup> &groups = scene.groups();
    const std::vector<QRectF> boxes = groupBoxes(scene, o.view);
    p.setRenderHint(QPainter::Antialiasing, true);

    QImage *direct = directTarget(p, o);
    const double dpr = o.devicePixelRatio;
    std::optional<CanvasLineRasterizer> raster;
    std::array<int, kHealthCount * 2> inks {};
    if (direct) {
        raster.emplace(*direct);
        for (int h = 0; h < kHealthCount; ++h) {
            for (int d = 0; d < 2; ++d) {
                CanvasLineRasterizer::Style style;
                style.colour = edgeColor(Health(h));
                if (d) {
                    style.dash = 8 * dpr;
                    style.gap = 5 * dpr;
                }
                inks[size_t(h * 2 + d)] = raster->addStyle(style);
            }
        }
    }
    std::array<QPainterPath, kHealthCount> heads;
    const std::vector<SceneGroupEdge> &groupEdges = scene.groupEdges();
    for (size_t k = 0; k < groupEdges.size(); ++k) {
        const SceneGroupEdge &ge = groupEdges[k];
        const QLineF line = groupEdgeLine(scene, int(k), boxes);
        if (line.isNull())
            continue;
        const QPointF a = line.p1(), b = line.p2();
        if (!QRectF(a, b).normalized().adjusted(-10, -10, 10, 10).intersects(viewport))
            continue;
        const double width = std::clamp(1.2 + 1.1 * std::log10(1 + ge.rps), 1.2, 7.0);
        const double al = 7 + width * 1.3;
        const QPointF ab = b - a;
        const double abLen = line.length();
        if (abLen < al * 1.2)
            continue;
        const QPointF end = b - ab / abLen * (al * 0.8);
        if (raster) {
            raster->addLine(inks[size_t(int(ge.health) * 2 + (ge.northSouth ? 1 : 0))], a * dpr, end * dpr, width * dpr,
                width * dpr);
            raster->addLine(inks[size_t(int(ge.health) * 2)], (b - ab / abLen * al) * dpr, b * dpr, al * 0.92 * dpr, 0);
        } else {
            p.setPen(edgePen(edgeColor(ge.health), width, ge.northSouth, false));
            p.drawLine(a, end);
            addArrow(heads[size_t(ge.health)], b, ab / abLen, al);
        }
        ++stats.edges;
    }
    if (raster)
        raster->draw();
    p.setPen(Qt::NoPen);
    for (int h = 0; h < kHealthCount; ++h) {
        if (!heads[size_t(h)].isEmpty()) {
            p.setBrush(edgeColor(Health(h)));
            p.drawPath(heads[size_t(h)]);
        }
    }

    for (size_t g = 0; g < groups.size(); ++g) {
        const SceneGroup &group = groups[g];
        const QRectF &r = boxes[g];
        if (r.isNull() || !r.intersects(viewport))
            continue;
        ++stats.nodes;
        QPen border(group.isNamespace ? healthColor(group.health) : textMuted(), group.isNamespace ? 1.6 : 1.2);
        if (!group.isNamespace)
            border.setStyle(Qt::DashLine);
        p.setPen(border);
        p.setBrush(QColor(0x22, 0x28, 0x30, 240));
        p.drawRoundedRect(r, 8, 8);

        // As many lines as the box holds: name, size and rate, then what is failing.
        const QFont nameFont = groupTitleFont(r.height()), infoFont = groupInfoFont(nameFont);
        const QFontMetricsF fmName(nameFont), fmInfo(infoFont);
        QStringList lines = {groupSizeLine(group)};
        Health alertHealth = Health::Healthy;
        if (group.failing > 0) {
            lines << QString::number(group.failing) + QStringLiteral(" failing");
            alertHealth = Health::Failing;
        } else if (group.degraded > 0) {
            lines << QString::number(group.degraded) + QStringLiteral(" degraded");
            alertHealth = Health::Degraded;
        }
        const int room = int((r.height() - 8 - fmName.height()) / fmInfo.height());
        while (int(lines.size()) > std::max(0, room))
            lines.removeLast();
        const double blockH = fmName.height() + lines.size() * fmInfo.height();
        double y = r.center().y() - blockH / 2;
        const double width = r.width() - 12;
        p.setFont(nameFont);
        p.setPen(text());
        const QString name = fmName.elidedText(group.name, Qt::ElideRight, width);
        p.drawText(QPointF(r.center().x() - fmName.horizontalAdvance(name) / 2, y + fmName.ascent()), name);
        y += fmName.height();
        p.setFont(infoFont);
        for (qsizetype k = 0; k < lines.size(); ++k) {
            p.setPen(k == 0 ? textMuted() : healthColor(alertHealth));
            const QString line = fmInfo.elidedText(lines[k], Qt::ElideRight, width);
            p.drawText(QPointF(r.center().x() - fmInfo.horizontalAdvance(line) / 2, y + fmInfo.ascent()), line);
            y += fmInfo.height();
        }
    }

    // The totals on the edges between boxes, where there is room.
    const QFont font = groupEdgeLabelFont();
    const QFontMetricsF fm(font);
    p.setFont(font);
    const QColor plain(0xc9, 0xd1, 0xd9);
    for (const GroupEdgeLabel &l : layoutGroupEdgeLabels(scene, boxes, viewport)) {
        const Health health = groupEdges[size_t(l.groupEdge)].health;
        p.setPen(QPen(QColor(0x30, 0x36, 0x3d), 1));
        p.setBrush(QColor(0x16, 0x1b, 0x22, 235));
        p.drawRoundedRect(l.pill, 3, 3);
        p.setPen(health == Health::Failing || health == Health::Degraded ? healthColor(health) : plain);
        p.drawText(QPointF(l.pill.left() + 4, l.pill.top() + 1 + fm.ascent()), l.text);
        ++stats.labels;
    }
}

// A legend's backing image: transparent, inside the rounded dark frame both the
// legend and its folded chip have.
static QImage framedLegendImage(const QSizeF &size, qreal dpr)
{
    QImage img((size * dpr).toSize(), QImage::Format_ARGB32_Premultiplied);
    img.setDevicePixelRatio(dpr);
    img.fill(Qt::transparent);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(QColor(0x30, 0x36, 0x3d), 1));
    p.setBrush(QColor(0x16, 0x1b, 0x22, 232));
    p.drawRoundedRect(QRectF(QPointF(0.5, 0.5), size - QSizeF(1, 1)), 6, 6);
    return img;
}

QImage CanvasRenderer::legendChipImage(qreal dpr)
{
    const QFont font = labelFont(11);
    const QFontMetricsF fm(font);
    const QString text = QStringLiteral("Legend \u25b8");
    const QSizeF size(std::ceil(fm.horizontalAdvance(text) + 20), std::ceil(fm.height() + 10));
    QImage img = framedLegendImage(size, dpr);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setFont(font);
    p.setPen(textMuted());
    p.drawText(QRectF(QPointF(0, 0), size), Qt::AlignCenter, text);
    return img;
}

QImage CanvasRenderer::legendImage(qreal dpr, bool routing)
{
    const QFont font = labelFont(11);
    const QFontMetricsF fm(font);
    const double pad = 10, rowH = 22, shapeR = 7, gap = 6, itemGap = 16;

    struct Item {
        int type;  // 0 node shape, 1 edge sample, 2 health dot, 3 routing badge, 4 mTLS lock
        int value;
        QString text;
    };
    std::vector<Item> row1 = {
        {0, int(NodeKind::External), kindTitle(NodeKind::External)},
        {0, int(NodeKind::Gateway), kindTitle(NodeKind::Gateway)},
        {0, int(NodeKind::Service), kindTitle(NodeKind::Service)},
        {0, int(NodeKind::ExternalService), kindTitle(NodeKind::ExternalService)},
        {0, int(NodeKind::Other), kindTitle(NodeKind::Other)},
    };
    if (routing)
        row1.push_back({3, 0, QStringLiteral("routing rules")});
    const std::vector<Item> row2 = {
        {1, int(Direction::EastWest), QStringLiteral("east-west")},
        {1, int(Direction::NorthSouth), QStringLiteral("north-south")},
        {2, int(Health::Healthy), display::healthText(Health::Healthy)},
        {2, int(Health::Degraded), display::healthText(Health::Degraded)},
        {2, int(Health::Failing), display::healthText(Health::Failing)},
        {2, int(Health::NoTraffic), display::healthText(Health::NoTraffic)},
        {4, 0, QStringLiteral("mTLS")},
    };
    auto itemWidth = [&](const Item &it) {
        const double glyph = it.type == 1 ? 24 : (it.type == 0 || it.type == 3 ? 2 * shapeR : (it.type == 4 ? 10 : 9));
        return glyph + gap + fm.horizontalAdvance(it.text);
    };
    auto rowWidth = [&](const std::vector<Item> &row) {
        double w = 0;
        for (const Item &it : row)
            w += itemWidth(it) + itemGap;
        return w - itemGap;
    };
    const QSizeF size(std::ceil(std::max(rowWidth(row1), rowWidth(row2)) + 2 * pad), 2 * rowH + 2 * pad - 4);
    QImage img = framedLegendImage(size, dpr);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setFont(font);
    const QColor sample(0x9a, 0xa4, 0xae);
    auto drawRow = [&](const std::vector<Item> &row, double cy) {
        double x = pad;
        for (const Item &it : row) {
            double glyph = 0;
            switch (it.type) {
            case 0: {
                // Neutral colours: the legend explains shapes, health has its own row.
                drawNodeShape(p, NodeKind(it.value), Health::NoTraffic, QPointF(x + shapeR, cy), shapeR);
                glyph = 2 * shapeR;
                break;
            }
            case 1:
                p.setPen(edgePen(sample, 2.0, Direction(it.value) == Direction::NorthSouth, false));
                p.drawLine(QPointF(x, cy), QPointF(x + 24, cy));
                glyph = 24;
                break;
            case 2:
                p.setPen(Qt::NoPen);
                p.setBrush(healthColor(Health(it.value)));
                p.drawEllipse(QPointF(x + 4.5, cy), 4.5, 4.5);
                glyph = 9;
                break;
            case 3: {
                // The badge alone, at the size it has on a node at zoom 1.
                const QRectF badge = routingBadgeRect(QPointF(), kNodeRadius);
                drawRoutingBadge(p, QPointF(x + shapeR, cy) - badge.center(), kNodeRadius);
                glyph = 2 * shapeR;
                break;
            }
            case 4:
                drawLock(p, QPointF(x + 5, cy), 12);
                glyph = 10;
                break;
            }
            p.setPen(textMuted());
            p.drawText(QPointF(x + glyph + gap, cy - fm.height() / 2 + fm.ascent()), it.text);
            x += itemWidth(it) + itemGap;
        }
    };
    drawRow(row1, pad + rowH / 2 - 2);
    drawRow(row2, pad + rowH * 1.5 - 2);
    return img;
}

}  // namespace meshscope

#include "canvas/graphspatialgrid.h"

#include "canvas/graphscene.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace meshscope {

namespace {

// Counting sort of (cell, item) pairs into compressed rows.
void compress(
    int cells, const std::vector<std::pair<int, int>> &pairs, std::vector<int> &start, std::vector<int> &items)
{
    start.assign(size_t(cells) + 1, 0);
    for (const auto &[cell, item] : pairs)
        ++start[size_t(cell) + 1];
    for (int c = 0; c < cells; ++c)
        start[size_t(c) + 1] += start[size_t(c)];
    items.resize(pairs.size());
    std::vector<int> fill(start.begin(), start.end() - 1);
    for (const auto &[cell, item] : pairs)
        items[size_t(fill[size_t(cell)]++)] = item;
}

}  // namespace

void GraphSpatialGrid::Cells::init(const QRectF &area, double size)
{
    bounds = area;
    cell = size;
    cols = int(std::ceil(area.width() / size)) + 1;
    rows = int(std::ceil(area.height() / size)) + 1;
}

int GraphSpatialGrid::Cells::col(double x) const
{
    return std::clamp(int(std::floor((x - bounds.left()) / cell)), 0, cols - 1);
}

int GraphSpatialGrid::Cells::row(double y) const
{
    return std::clamp(int(std::floor((y - bounds.top()) / cell)), 0, rows - 1);
}

GraphSpatialGrid::GraphSpatialGrid(const std::vector<SceneNode> &nodes, const std::vector<SceneEdge> &edges)
{
    if (nodes.empty())
        return;
    double x0 = std::numeric_limits<double>::max(), y0 = x0;
    double x1 = -x0, y1 = -x0;
    for (const SceneNode &n : nodes) {
        x0 = std::min(x0, n.pos.x());
        y0 = std::min(y0, n.pos.y());
        x1 = std::max(x1, n.pos.x());
        y1 = std::max(y1, n.pos.y());
    }
    const QRectF area = QRectF(QPointF(x0, y0), QPointF(x1, y1)).adjusted(-1, -1, 1, 1);
    const double extent = std::max(area.width(), area.height());

    // Nodes: about a node slot per cell, never more than ~40k cells.
    m_nodes.init(area, std::max(90.0, extent / 200.0));
    std::vector<std::pair<int, int>> pairs;
    pairs.reserve(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i)
        pairs.emplace_back(m_nodes.at(m_nodes.col(nodes[i].pos.x()), m_nodes.row(nodes[i].pos.y())), int(i));
    compress(m_nodes.cols * m_nodes.rows, pairs, m_nodes.start, m_nodes.items);

    // Edges: cells large enough that an edge crosses a few of them on average (a
    // query then checks a few hundred candidates at most), walked with Amanatides & Woo.
    double total = 0;
    for (const SceneEdge &e : edges)
        total += std::hypot(e.p2.x() - e.p1.x(), e.p2.y() - e.p1.y());
    const double edgeCell
        = std::max({90.0, extent / 200.0, edges.empty() ? 0.0 : total / (4.0 * double(edges.size()))});
    m_edges.init(area, edgeCell);
    pairs.clear();
    pairs.reserve(edges.size() * 6);
    const Cells &g = m_edges;
    auto file = [&](QPointF p1, QPointF p2, int item) {
        const double ax = (p1.x() - g.bounds.left()) / g.cell, ay = (p1.y() - g.bounds.top()) / g.cell;
        const double bx = (p2.x() - g.bounds.left()) / g.cell, by = (p2.y() - g.bounds.top()) / g.cell;
        int cx = std::clamp(int(std::floor(ax)), 0, g.cols - 1), cy = std::clamp(int(std::floor(ay)), 0, g.rows - 1);
        const int ex = std::clamp(int(std::floor(bx)), 0, g.cols - 1),
                  ey = std::clamp(int(std::floor(by)), 0, g.rows - 1);
        const double dx = bx - ax, dy = by - ay;
        const int sx = dx > 0 ? 1 : -1, sy = dy > 0 ? 1 : -1;
        const double inf = std::numeric_limits<double>::infinity();
        double tMaxX = dx != 0 ? ((cx + (sx > 0 ? 1 : 0)) - ax) / dx : inf;
        double tMaxY = dy != 0 ? ((cy + (sy > 0 ? 1 : 0)) - ay) / dy : inf;
        const double tDx = dx != 0 ? std::abs(1 / dx) : inf;
        const double tDy = dy != 0 ? std::abs(1 / dy) : inf;
        for (int guard = g.cols + g.rows + 2; guard > 0; --guard) {
            const int cell = g.at(cx, cy);
            // Consecutive pieces of a curve share cells: file each cell once in a row.
            if (pairs.empty() || pairs.back().first != cell || pairs.back().second != item)
                pairs.emplace_back(cell, item);
            if (cx == ex && cy == ey)
                break;
            if (tMaxX < tMaxY) {
                tMaxX += tDx;
                cx = std::clamp(cx + sx, 0, g.cols - 1);
            } else {
                tMaxY += tDy;
                cy = std::clamp(cy + sy, 0, g.rows - 1);
            }
        }
    };
    for (size_t i = 0; i < edges.size(); ++i) {
        const SceneEdge &e = edges[i];
        if (!e.curved) {
            file(e.p1, e.p2, int(i));
            continue;
        }
        // A curve is filed piece by piece, as it is drawn and hit-tested.
        QPointF prev = e.p1;
        for (int j = 1; j <= kCurveSegments; ++j) {
            const QPointF next = edgePointAt(e, double(j) / kCurveSegments);
            file(prev, next, int(i));
            prev = next;
        }
    }
    compress(m_edges.cols * m_edges.rows, pairs, m_edges.start, m_edges.items);
}

}  // namespace meshscope

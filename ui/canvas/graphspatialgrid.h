#pragma once
// Uniform grids over the graph for hit-testing: every node is filed in the cell of
// its centre, every edge in each cell its drawn shape crosses (a curve piece by
// piece). A click then looks at a handful of cells instead of 20,000 edges. Edges get coarser cells than nodes, sized
// from their total length, so long edges do not make the index explode. Immutable
// once built; built on a pool thread.

#include <QPointF>
#include <QRectF>

#include <vector>

namespace meshscope {

struct SceneNode;
struct SceneEdge;

class GraphSpatialGrid {
public:
    GraphSpatialGrid(const std::vector<SceneNode> &nodes, const std::vector<SceneEdge> &edges);

    // Calls f(index) for every node / edge filed in a cell that `area` touches;
    // an index may come more than once.
    template <typename F>
    void forNodes(const QRectF &area, F &&f) const
    {
        m_nodes.visit(area, f);
    }
    template <typename F>
    void forEdges(const QRectF &area, F &&f) const
    {
        m_edges.visit(area, f);
    }

private:
    struct Cells {
        QRectF bounds;
        double cell = 1;
        int cols = 0;
        int rows = 0;
        std::vector<int> start, items;  // compressed rows: items of cell c are items[start[c]..start[c+1])

        void init(const QRectF &area, double size);
        int col(double x) const;
        int row(double y) const;
        int at(int c, int r) const { return r * cols + c; }
        template <typename F>
        void visit(const QRectF &area, F &f) const
        {
            if (cols == 0)
                return;
            const int c0 = col(area.left()), c1 = col(area.right());
            const int r0 = row(area.top()), r1 = row(area.bottom());
            for (int r = r0; r <= r1; ++r) {
                for (int c = c0; c <= c1; ++c) {
                    const int cell = at(c, r);
                    for (int k = start[size_t(cell)]; k < start[size_t(cell) + 1]; ++k)
                        f(items[size_t(k)]);
                }
            }
        }
    };

    Cells m_nodes;
    Cells m_edges;
};

}  // namespace meshscope

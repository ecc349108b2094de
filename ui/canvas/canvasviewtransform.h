#pragma once
// Maps graph coordinates to widget coordinates for the canvas: uniform scale plus
// offset. A value type, so the GUI thread and the render worker each hold their own.

#include <QPointF>
#include <QRectF>
#include <QTransform>

namespace meshscope {

struct ViewTransform {
    double scale = 1.0;
    QPointF offset;  // widget position of the graph origin

    QPointF map(QPointF g) const { return g * scale + offset; }
    QPointF unmap(QPointF w) const { return (w - offset) / scale; }
    QRectF map(const QRectF &g) const { return QRectF(map(g.topLeft()), g.size() * scale); }
    QRectF unmap(const QRectF &w) const { return QRectF(unmap(w.topLeft()), w.size() / scale); }

    // Where something drawn at `from` lands when the view is now `this`: used to
    // reuse an image rendered at an older view while the fresh one is on its way.
    QTransform deltaFrom(const ViewTransform &from) const
    {
        const double k = scale / from.scale;
        const QPointF d = offset - from.offset * k;
        return QTransform(k, 0, 0, k, d.x(), d.y());
    }

    bool operator==(const ViewTransform &o) const { return scale == o.scale && offset == o.offset; }
    bool operator!=(const ViewTransform &o) const { return !(*this == o); }
};

}  // namespace meshscope

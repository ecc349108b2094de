#pragma once
// The trace waterfall's visual vocabulary: service colours, the time axis (padding,
// nice ruler ticks), duration text and the small glyphs (toggle, error, clock skew).
// Shared by the row delegate, the ruler header and the minimap so bars, ticks and the
// overview always line up and agree on colour.

#include <QColor>
#include <QRectF>
#include <QString>

#include <cstdint>
#include <vector>

QT_BEGIN_NAMESPACE
class QHeaderView;
class QPainter;
class QTableView;
QT_END_NAMESPACE

namespace meshscope {

namespace waterfall {

// Every row is this tall: uniform rows let the view skip per-row size queries.
inline constexpr int kRowHeight = 22;
// Room left and right of the time axis inside the bar column, so a bar starting at 0
// or ending at the trace's end does not touch the column's edge.
inline constexpr int kAxisPadding = 8;
// Horizontal step per tree level in the name column.
inline constexpr int kIndent = 14;

// The n-th colour of a palette picked for a dark background; services take colours in
// order of first appearance in the trace, so the first dozen are all distinct.
QColor serviceColor(int n);
QColor errorColor();
QColor skewColor();
QColor findColor();
QColor currentFindColor();
QColor gridColor();
QColor syntheticColor();

// "0", "850 µs", "12.3 ms", "1.35 s", "2 min 5 s".
QString duration(uint64_t ns);
// A clock shift with its sign: "+3.2 ms", "-850 µs".
QString shift(int64_t ns);

// The pixel range of the time axis inside a bar-column cell (padding removed).
inline QRectF axisRect(const QRectF &cell) { return cell.adjusted(kAxisPadding, 0, -kAxisPadding, 0); }
// X of a time offset (ns from the trace's start) on an axis `axis` spanning `totalNs`.
inline double xAt(const QRectF &axis, uint64_t offsetNs, uint64_t totalNs)
{
    return totalNs == 0 ? axis.left() : axis.left() + axis.width() * (double(offsetNs) / double(totalNs));
}

struct Tick {
    uint64_t offsetNs = 0;
    QString label;
};
// Ruler ticks at a 1-2-2.5-5 step so labels are at least `minSpacingPx` apart on an
// axis `widthPx` wide showing `totalNs`; always starts with 0.
std::vector<Tick> rulerTicks(uint64_t totalNs, double widthPx, double minSpacingPx = 84);

// The expand/collapse triangle (pointing right when collapsed, down when expanded).
void paintToggle(QPainter *p, const QRectF &r, bool expanded, const QColor &color);
// A red disc with "!" for spans that failed.
void paintErrorGlyph(QPainter *p, const QRectF &r);
// A small clock face for spans moved by the clock-skew adjustment.
void paintClockGlyph(QPainter *p, const QRectF &r);

// A table of trace rows as the waterfall and the comparison draw them: uniform rows,
// whole-row single selection, no grid or editing, the timeline header's sections
// resizable by hand.
void setUpRowsTable(QTableView *table, QHeaderView *header);

}  // namespace waterfall

}  // namespace meshscope

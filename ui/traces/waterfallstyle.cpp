#include "traces/waterfallstyle.h"

#include <QHeaderView>
#include <QPainter>
#include <QPainterPath>
#include <QTableView>

#include <array>
#include <cmath>

namespace meshscope {

namespace waterfall {

QColor serviceColor(int n)
{
    // Mid-bright, mutually distinct hues that stay readable as text on #14181e and
    // keep a dark line or white label visible on top of them. Red is left out: it
    // means error.
    static const std::array<QRgb, 18> palette = {0x4c9aff, 0x3fb950, 0xd29922, 0xbc8cff, 0x39c5cf, 0xf778ba, 0xa5d6ff,
        0x7ee787, 0xe3b341, 0x8b8cf8, 0x56d4bc, 0xdb61a2, 0x79c0ff, 0xb4d455, 0xffa657, 0xd2a8ff, 0x2dba9e, 0xc69026};
    return QColor::fromRgb(palette[size_t(n < 0 ? 0 : n) % palette.size()]);
}

QColor errorColor() { return QColor(0xf8, 0x51, 0x49); }
QColor skewColor() { return QColor(0xe3, 0xb3, 0x41); }
QColor findColor() { return QColor(0xd2, 0x99, 0x22, 60); }
QColor currentFindColor() { return QColor(0xd2, 0x99, 0x22, 130); }
QColor gridColor() { return QColor(0x2a, 0x30, 0x38); }
QColor syntheticColor() { return QColor(0x8b, 0x94, 0x9e); }

QString duration(uint64_t ns)
{
    const double v = double(ns);
    if (ns == 0)
        return QStringLiteral("0");
    if (ns < 1000)
        return QString::number(ns) + QStringLiteral(" ns");
    if (ns < 1000000)
        return QString::number(v / 1e3, 'f', v < 1e4 ? 1 : 0) + QStringLiteral(" µs");
    if (ns < 1000000000)
        return QString::number(v / 1e6, 'f', v < 1e8 ? 1 : 0) + QStringLiteral(" ms");
    if (ns < 60 * 1000000000ull)
        return QString::number(v / 1e9, 'f', 2) + QStringLiteral(" s");
    const uint64_t seconds = ns / 1000000000ull;
    return QString::number(seconds / 60) + QStringLiteral(" min ") + QString::number(seconds % 60)
        + QStringLiteral(" s");
}

QString shift(int64_t ns)
{
    const uint64_t magnitude = ns < 0 ? uint64_t(-(ns + 1)) + 1 : uint64_t(ns);
    return (ns < 0 ? QStringLiteral("-") : QStringLiteral("+")) + duration(magnitude);
}

std::vector<Tick> rulerTicks(uint64_t totalNs, double widthPx, double minSpacingPx)
{
    std::vector<Tick> ticks;
    if (totalNs == 0 || widthPx <= 1) {
        ticks.push_back({0, QStringLiteral("0")});
        return ticks;
    }
    // The smallest 1-2-2.5-5 step whose ticks are at least minSpacingPx apart.
    const double minStep = double(totalNs) * minSpacingPx / widthPx;
    double decade = std::pow(10.0, std::floor(std::log10(std::max(minStep, 1.0))));
    double step = decade;
    for (;;) {
        bool found = false;
        for (double m : {1.0, 2.0, 2.5, 5.0}) {
            if (decade * m >= minStep) {
                step = decade * m;
                found = true;
                break;
            }
        }
        if (found)
            break;
        decade *= 10;
    }
    const uint64_t stepNs = std::max<uint64_t>(1, uint64_t(std::llround(step)));
    // One unit for the whole ruler, the one the trace's length reads best in ("1.5 s",
    // not "1500 ms"), with as many decimals as the step needs.
    double unit = 1;
    QString suffix = QStringLiteral(" ns");
    if (totalNs >= 1000000000ull) {
        unit = 1e9;
        suffix = QStringLiteral(" s");
    } else if (totalNs >= 1000000ull) {
        unit = 1e6;
        suffix = QStringLiteral(" ms");
    } else if (totalNs >= 1000ull) {
        unit = 1e3;
        suffix = QStringLiteral(" µs");
    }
    int decimals = 0;
    for (double scaled = double(stepNs) / unit; decimals < 3 && std::fabs(scaled - std::round(scaled)) > 1e-9;
         scaled *= 10)
        ++decimals;
    for (uint64_t t = 0; t <= totalNs; t += stepNs) {
        ticks.push_back({t, t == 0 ? QStringLiteral("0") : QString::number(double(t) / unit, 'f', decimals) + suffix});
        if (ticks.size() > 1000)
            break;
    }
    return ticks;
}

void paintToggle(QPainter *p, const QRectF &r, bool expanded, const QColor &color)
{
    const QPointF c = r.center();
    const double s = std::min(r.width(), r.height()) * 0.28;
    QPainterPath path;
    if (expanded) {
        path.moveTo(c.x() - s, c.y() - s * 0.6);
        path.lineTo(c.x() + s, c.y() - s * 0.6);
        path.lineTo(c.x(), c.y() + s * 0.8);
    } else {
        path.moveTo(c.x() - s * 0.6, c.y() - s);
        path.lineTo(c.x() + s * 0.8, c.y());
        path.lineTo(c.x() - s * 0.6, c.y() + s);
    }
    path.closeSubpath();
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(Qt::NoPen);
    p->setBrush(color);
    p->drawPath(path);
    p->restore();
}

void paintErrorGlyph(QPainter *p, const QRectF &r)
{
    const double d = std::min(r.width(), r.height());
    const QRectF disc(r.center().x() - d / 2, r.center().y() - d / 2, d, d);
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(Qt::NoPen);
    p->setBrush(errorColor());
    p->drawEllipse(disc);
    // The "!" drawn as shapes: a font glyph would depend on the font's metrics.
    p->setBrush(QColor(0x14, 0x18, 0x1e));
    const double w = d * 0.16;
    p->drawRoundedRect(QRectF(disc.center().x() - w / 2, disc.top() + d * 0.2, w, d * 0.38), w / 2, w / 2);
    p->drawEllipse(QPointF(disc.center().x(), disc.top() + d * 0.75), w * 0.6, w * 0.6);
    p->restore();
}

void paintClockGlyph(QPainter *p, const QRectF &r)
{
    const double d = std::min(r.width(), r.height()) - 1;
    const QRectF face(r.center().x() - d / 2, r.center().y() - d / 2, d, d);
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    QPen pen(skewColor(), 1.3);
    pen.setCapStyle(Qt::RoundCap);
    p->setPen(pen);
    p->setBrush(Qt::NoBrush);
    p->drawEllipse(face);
    const QPointF c = face.center();
    p->drawLine(c, QPointF(c.x(), face.top() + d * 0.22));
    p->drawLine(c, QPointF(c.x() + d * 0.25, c.y()));
    p->restore();
}

void setUpRowsTable(QTableView *table, QHeaderView *header)
{
    table->setHorizontalHeader(header);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setShowGrid(false);
    table->setWordWrap(false);
    table->setAlternatingRowColors(true);
    table->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    table->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    table->setCornerButtonEnabled(false);
    QHeaderView *rows = table->verticalHeader();
    rows->hide();
    rows->setMinimumSectionSize(kRowHeight);
    rows->setDefaultSectionSize(kRowHeight);
    rows->setSectionResizeMode(QHeaderView::Fixed);
    header->setHighlightSections(false);
    header->setSectionsMovable(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
}

}  // namespace waterfall

}  // namespace meshscope

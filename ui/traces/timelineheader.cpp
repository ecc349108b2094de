#include "traces/timelineheader.h"

#include "traces/waterfallstyle.h"

#include <QPainter>
#include <QStyleOptionHeader>

namespace meshscope {

TimelineHeader::TimelineHeader(int timelineColumn, QWidget *parent)
    : QHeaderView(Qt::Horizontal, parent)
    , m_timelineColumn(timelineColumn)
{
}

void TimelineHeader::setTotalNs(uint64_t totalNs)
{
    m_totalNs = totalNs;
    viewport()->update();
}

void TimelineHeader::paintSection(QPainter *painter, const QRect &rect, int logicalIndex) const
{
    if (logicalIndex != m_timelineColumn) {
        QHeaderView::paintSection(painter, rect, logicalIndex);
        return;
    }
    // The section's frame and background without its title; the ruler replaces it.
    QStyleOptionHeader opt;
    initStyleOption(&opt);
    opt.rect = rect;
    opt.section = logicalIndex;
    opt.text.clear();
    opt.position = QStyleOptionHeader::End;
    style()->drawControl(QStyle::CE_Header, &opt, painter, this);

    const QRectF axis = waterfall::axisRect(rect);
    painter->save();
    painter->setClipRect(rect);
    const QColor tickColor = palette().color(QPalette::PlaceholderText);
    const QFontMetrics fm = fontMetrics();
    for (const waterfall::Tick &tick : waterfall::rulerTicks(m_totalNs, axis.width())) {
        const int x = int(waterfall::xAt(axis, tick.offsetNs, m_totalNs));
        painter->setPen(tickColor);
        painter->drawLine(x, rect.bottom() - 6, x, rect.bottom());
        // A label would run past the column's end: the last tick keeps its line only.
        const int w = fm.horizontalAdvance(tick.label);
        if (x + 3 + w > rect.right() - 2)
            continue;
        painter->setPen(palette().color(QPalette::ButtonText));
        painter->drawText(
            QRect(x + 3, rect.top(), w + 2, rect.height() - 3), Qt::AlignLeft | Qt::AlignVCenter, tick.label);
    }
    painter->restore();
}

}  // namespace meshscope

#include "traces/waterfalldelegate.h"

#include "traces/models/tracerowsmodel.h"

#include <QApplication>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>

namespace meshscope {

namespace {

constexpr int kLeftMargin = 6;  // after the service colour strip
constexpr int kGlyph = 12;
constexpr int kBarHeight = 10;

int indentFor(const QRect &cell, int depth)
{
    // Past a few dozen levels, indenting further would push every name out of the
    // column; the details pane still gives the depth.
    return std::min(depth * waterfall::kIndent, std::max(0, cell.width() - 170));
}

}  // namespace

WaterfallDelegate::WaterfallDelegate(TraceRowsModel *model, QObject *parent)
    : QStyledItemDelegate(parent)
    , m_model(model)
{
}

QRectF WaterfallDelegate::toggleRect(const QRect &cell, int depth)
{
    return QRectF(cell.left() + kLeftMargin + indentFor(cell, depth), cell.top(), 14, cell.height());
}

QSize WaterfallDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    s.setHeight(waterfall::kRowHeight);
    return s;
}

const std::vector<waterfall::Tick> &WaterfallDelegate::ticksFor(uint64_t totalNs, double widthPx) const
{
    if (totalNs != m_ticksTotalNs || widthPx != m_ticksWidth) {
        m_ticks = waterfall::rulerTicks(totalNs, widthPx);
        m_ticksTotalNs = totalNs;
        m_ticksWidth = widthPx;
    }
    return m_ticks;
}

void WaterfallDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const int column = index.column();
    if (column != TraceRowsModel::Name && column != TraceRowsModel::Timeline) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    // Background, selection, find highlight and focus as the style draws them; the
    // content is ours.
    QStyleOptionViewItem opt(option);
    initStyleOption(&opt, index);
    opt.text.clear();
    const QWidget *widget = opt.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

    const uint32_t span = m_model->spanAt(index.row());
    painter->save();
    painter->setClipRect(opt.rect);
    if (column == TraceRowsModel::Name)
        paintName(painter, opt, span);
    else
        paintBar(painter, opt, span);
    painter->restore();
}

void WaterfallDelegate::paintName(QPainter *p, const QStyleOptionViewItem &opt, uint32_t span) const
{
    const WaterfallTrace &t = *m_model->trace();
    const QRect r = opt.rect;
    const bool selected = opt.state & QStyle::State_Selected;
    const QColor serviceColor = t.serviceColors[t.serviceOf[span]];
    p->fillRect(QRect(r.left(), r.top() + 1, 3, r.height() - 2), serviceColor);

    const QRectF toggle = toggleRect(r, t.tree.depth[span]);
    if (m_model->hasVisibleChildren(span))
        waterfall::paintToggle(p, toggle, m_model->isExpanded(span), opt.palette.color(QPalette::Text));
    double x = toggle.right() + 2;
    const double glyphTop = r.top() + (r.height() - kGlyph) / 2.0;
    if (t.error[span]) {
        waterfall::paintErrorGlyph(p, QRectF(x, glyphTop, kGlyph, kGlyph));
        x += kGlyph + 4;
    }
    if (t.skew(span) != 0) {
        waterfall::paintClockGlyph(p, QRectF(x, glyphTop, kGlyph, kGlyph));
        x += kGlyph + 4;
    }

    const QFontMetrics &fm = opt.fontMetrics;
    const int right = r.right() - 4;
    const QRect textRect(int(x), r.top(), std::max(0, right - int(x)), r.height());
    if (textRect.width() <= 0)
        return;
    const QColor textColor = opt.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
    if (t.tree.isSynthetic(span)) {
        QFont italic = opt.font;
        italic.setItalic(true);
        p->setFont(italic);
        p->setPen(waterfall::syntheticColor());
        p->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter,
            QFontMetrics(italic).elidedText(tr("(missing parent)"), Qt::ElideRight, textRect.width()));
        return;
    }
    const QString &service = t.services[t.serviceOf[span]];
    const int serviceWidth = fm.horizontalAdvance(service);
    p->setPen(selected ? textColor : serviceColor);
    if (serviceWidth >= textRect.width()) {
        p->drawText(
            textRect, Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(service, Qt::ElideRight, textRect.width()));
        return;
    }
    p->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter, service);
    const int gap = fm.horizontalAdvance(QLatin1Char(' ')) * 2;
    const QRect opRect = textRect.adjusted(serviceWidth + gap, 0, 0, 0);
    if (opRect.width() <= 0)
        return;
    p->setPen(textColor);
    const QString operation = QString::fromStdString(t.tree.spans[span].name);
    p->drawText(opRect, Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(operation, Qt::ElideRight, opRect.width()));
}

void WaterfallDelegate::paintBar(QPainter *p, const QStyleOptionViewItem &opt, uint32_t span) const
{
    const WaterfallTrace &t = *m_model->trace();
    const QRectF axis = waterfall::axisRect(opt.rect);
    const uint64_t total = t.durationNs();

    p->setPen(waterfall::gridColor());
    for (const waterfall::Tick &tick : ticksFor(total, axis.width())) {
        if (tick.offsetNs == 0)
            continue;
        const int x = int(waterfall::xAt(axis, tick.offsetNs, total));
        p->drawLine(x, opt.rect.top(), x, opt.rect.bottom());
    }

    const Span &s = t.tree.spans[span];
    const uint64_t offset = t.offsetNs(span);
    double x0 = waterfall::xAt(axis, offset, total);
    double x1 = waterfall::xAt(axis, offset + (s.endNs - s.startNs), total);
    if (x1 - x0 < 2)
        x1 = x0 + 2;  // a zero-length span still shows where it happened
    const double top = opt.rect.top() + (opt.rect.height() - kBarHeight) / 2.0;
    const QRectF bar(x0, top, x1 - x0, kBarHeight);
    const QColor color = t.serviceColors[t.serviceOf[span]];

    // The recorded (pre-adjustment) position as a dashed line under the bar: visible
    // where the shift happened, without boxing in the duration label.
    if (const int64_t shift = t.skew(span)) {
        const int64_t before = int64_t(offset) - shift;
        const double g0 = waterfall::xAt(axis, uint64_t(std::max<int64_t>(0, before)), total);
        QPen pen(waterfall::skewColor(), 1.5, Qt::DashLine);
        p->setPen(pen);
        const double y = top + kBarHeight + 2.5;
        p->drawLine(QPointF(g0, y), QPointF(g0 + (x1 - x0), y));
    }

    // The whole bar dimmed, then the stretches on the critical path at full colour:
    // the eye follows the bright chain down the waterfall.
    QColor dim = color;
    dim.setAlpha(95);
    p->fillRect(bar, dim);
    for (uint32_t k = t.sectionBegin[span]; k < t.sectionBegin[span + 1]; ++k) {
        const CriticalSection &c = t.sectionsBySpan[k];
        const double c0 = waterfall::xAt(axis, c.startNs - t.tree.startNs, total);
        const double c1 = std::max(c0 + 1, waterfall::xAt(axis, c.endNs - t.tree.startNs, total));
        p->fillRect(QRectF(c0, top, c1 - c0, kBarHeight), color);
    }
    if (t.error[span]) {
        p->setPen(QPen(waterfall::errorColor(), 1.5));
        p->setBrush(Qt::NoBrush);
        p->drawRect(bar.adjusted(0.75, 0.75, -0.75, -0.75));
    }

    // The duration beside the bar: right of it when it fits, else left of it, else not
    // at all (the Duration column has it) rather than clipped into a fragment.
    const QString label = waterfall::duration(s.endNs - s.startNs);
    const QFontMetrics &fm = opt.fontMetrics;
    const int glyph = t.error[span] ? kGlyph + 4 : 0;
    const int width = fm.horizontalAdvance(label) + glyph;
    double lx = x1 + 5;
    if (lx + width > opt.rect.right() - 2) {
        lx = x0 - 5 - width;
        if (lx < opt.rect.left() + 2)
            return;
    }
    if (t.error[span]) {
        waterfall::paintErrorGlyph(p, QRectF(lx, opt.rect.top() + (opt.rect.height() - kGlyph) / 2.0, kGlyph, kGlyph));
        lx += glyph;
    }
    const bool selected = opt.state & QStyle::State_Selected;
    p->setPen(opt.palette.color(selected ? QPalette::HighlightedText : QPalette::PlaceholderText));
    p->drawText(
        QRectF(lx, opt.rect.top(), width - glyph + 2, opt.rect.height()), Qt::AlignLeft | Qt::AlignVCenter, label);
}

bool WaterfallDelegate::editorEvent(
    QEvent *event, QAbstractItemModel *model, const QStyleOptionViewItem &option, const QModelIndex &index)
{
    // On release, as check boxes do: that is when the view hands mouse events to the delegate.
    if (index.column() == TraceRowsModel::Name && event->type() == QEvent::MouseButtonRelease) {
        auto *mouse = static_cast<QMouseEvent *>(event);
        const uint32_t span = m_model->spanAt(index.row());
        if (mouse->button() == Qt::LeftButton && m_model->hasVisibleChildren(span)
            && toggleRect(option.rect, m_model->trace()->tree.depth[span])
                   .adjusted(-3, 0, 3, 0)
                   .contains(mouse->position())) {
            m_model->toggle(index.row());
            return true;
        }
    }
    return QStyledItemDelegate::editorEvent(event, model, option, index);
}

}  // namespace meshscope

#pragma once
// Paints the waterfall's rows: the name column (tree indent, expand/collapse toggle,
// error and clock-skew glyphs, the service in its colour, then the operation) and the
// bar column (tick grid, the span's bar on the trace's time axis with its critical
// stretches at full colour over a dimmed bar, a red outline for errors, the pre-skew
// position as a dashed line under the bar, and the duration beside the bar). Reads the model's
// snapshot directly rather than through QVariant roles: it runs for every visible cell
// on every scroll step. Other columns paint as plain text.

#include <QStyledItemDelegate>

#include <vector>

#include "traces/waterfallstyle.h"

namespace meshscope {

class TraceRowsModel;

class WaterfallDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit WaterfallDelegate(TraceRowsModel *model, QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    bool editorEvent(QEvent *event, QAbstractItemModel *model, const QStyleOptionViewItem &option,
        const QModelIndex &index) override;

    // Where the toggle of a row with this depth sits in a name cell.
    static QRectF toggleRect(const QRect &cell, int depth);

private:
    void paintName(QPainter *p, const QStyleOptionViewItem &opt, uint32_t span) const;
    void paintBar(QPainter *p, const QStyleOptionViewItem &opt, uint32_t span) const;
    const std::vector<waterfall::Tick> &ticksFor(uint64_t totalNs, double widthPx) const;

    TraceRowsModel *m_model;
    // The grid's ticks for the last axis width: the same for every row of a paint.
    mutable std::vector<waterfall::Tick> m_ticks;
    mutable uint64_t m_ticksTotalNs = 0;
    mutable double m_ticksWidth = -1;
};

}  // namespace meshscope

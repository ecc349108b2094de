#pragma once
// The waterfall table's column header; over the bar column it draws the time ruler
// (0, 25 ms, 50 ms ...) on the same axis as the bars below, so ticks line up with the
// grid the delegate draws and follow the column when it is resized.

#include <QHeaderView>

#include <cstdint>

namespace meshscope {

class TimelineHeader : public QHeaderView {
    Q_OBJECT
public:
    explicit TimelineHeader(int timelineColumn, QWidget *parent = nullptr);

    void setTotalNs(uint64_t totalNs);
    uint64_t totalNs() const { return m_totalNs; }

protected:
    void paintSection(QPainter *painter, const QRect &rect, int logicalIndex) const override;

private:
    int m_timelineColumn;
    uint64_t m_totalNs = 0;
};

}  // namespace meshscope

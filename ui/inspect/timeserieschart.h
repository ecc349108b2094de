#pragma once
// A compact QtCharts line chart over the aggregation window for the inspect panel:
// x is seconds relative to now (-60 ... 0), y one value axis. Series are updated in place with
// QXYSeries::replace and the axes rescaled once per refresh, so a live update never
// rebuilds the chart and never flickers.

#include <QChartView>
#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>

QT_BEGIN_NAMESPACE
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace meshscope {

class TimeSeriesChart : public QChartView {
    Q_OBJECT
public:
    explicit TimeSeriesChart(const QString &title, const QString &unit, QWidget *parent = nullptr);

    // Returns the index of the new series.
    int addSeries(const QString &name, const QColor &color);
    // points: x in seconds relative to now (negative), y in the chart's unit.
    void setPoints(int series, const QList<QPointF> &points);
    void setWindow(int seconds);
    void clearPoints();
    // Recomputes the y axis from the data currently shown (call after setPoints).
    void rescale();

    int seriesCount() const { return int(m_series.size()); }
    QList<QPointF> points(int series) const;
    QString title() const { return m_title; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

private:
    QString m_title;
    QString m_unit;
    QValueAxis *m_x;
    QValueAxis *m_y;
    QList<QLineSeries *> m_series;
};

}  // namespace meshscope

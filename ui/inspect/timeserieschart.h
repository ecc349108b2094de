#pragma once
// A compact QtCharts line chart over the chart window for the inspect panel: x is
// time relative to now (-window ... 0), labelled in seconds, minutes, hours or days
// as the window calls for; y one value axis. Series are updated in place with
// QXYSeries::replace and the axes rescaled once per refresh, so a live update never
// rebuilds the chart and never flickers. Each point may carry the number of requests
// behind it, which its tooltip shows; the legend is kept wide enough that no entry is
// cut short.

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

    // Returns the index of the new series. A dashed line stays readable where it runs
    // on top of a solid one (p99 over p95 when both are the slowest request).
    int addSeries(const QString &name, const QColor &color, Qt::PenStyle style = Qt::SolidLine);
    // points: x in seconds relative to now (<= 0), y in the chart's unit. samples, when
    // given, are the requests behind each point (tooltips say "of 42 requests").
    void setPoints(int series, const QList<QPointF> &points, const QList<quint64> &samples = {});
    // The x axis spans the last `seconds`.
    void setWindow(int seconds);
    void clearPoints();
    // Recomputes the y axis from the data currently shown (call after setPoints).
    void rescale();

    int seriesCount() const { return int(m_series.size()); }
    // In seconds relative to now, as given to setPoints.
    QList<QPointF> points(int series) const;
    QList<quint64> samples(int series) const;
    QString title() const { return m_title; }
    int windowSeconds() const { return m_windowSeconds; }
    QString axisLabelFormat() const;
    // The tooltip of the point of `series` nearest to x (seconds): value, time, sample.
    QString pointToolTip(int series, double x) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

private:
    QString m_title;
    QString m_unit;
    QValueAxis *m_x;
    QValueAxis *m_y;
    QList<QLineSeries *> m_series;
    QList<QList<quint64>> m_samples;
    int m_windowSeconds = 60;
    double m_xUnit = 1;  // seconds per x-axis unit
    QString m_xUnitName;
};

}  // namespace meshscope

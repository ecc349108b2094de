#include "inspect/timeserieschart.h"

#include <QApplication>
#include <QChart>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPalette>
#include <QPen>
#include <QValueAxis>

#include <cmath>

namespace meshscope {

namespace {

// 1, 2, 5 x 10^n: tick steps an operator reads at a glance.
double niceStep(double v)
{
    if (v <= 0)
        return 1;
    const double exp = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (v <= m * exp)
            return m * exp;
    }
    return 10 * exp;
}

}  // namespace

TimeSeriesChart::TimeSeriesChart(const QString &title, const QString &unit, QWidget *parent)
    : QChartView(parent)
    , m_title(title)
    , m_unit(unit)
    , m_x(new QValueAxis)
    , m_y(new QValueAxis)
{
    const QPalette pal = palette();
    const QColor background = pal.color(QPalette::Base);
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = pal.color(QPalette::Mid);
    grid.setAlpha(110);

    auto *chart = new QChart;
    chart->setBackgroundBrush(background);
    chart->setBackgroundRoundness(3);
    chart->setPlotAreaBackgroundVisible(false);
    chart->setMargins(QMargins(4, 2, 8, 2));
    chart->layout()->setContentsMargins(0, 0, 0, 0);
    // Live refreshes must not replay an animation each second.
    chart->setAnimationOptions(QChart::NoAnimation);

    QFont titleFont = font();
    titleFont.setBold(true);
    chart->setTitleFont(titleFont);
    chart->setTitleBrush(text);
    chart->setTitle(unit.isEmpty() ? title : QStringLiteral("%1 (%2)").arg(title, unit));

    QFont axisFont = font();
    axisFont.setPointSizeF(std::max(7.0, axisFont.pointSizeF() - 1));
    for (QAbstractAxis *axis : {static_cast<QAbstractAxis *>(m_x), static_cast<QAbstractAxis *>(m_y)}) {
        axis->setLabelsFont(axisFont);
        axis->setLabelsColor(text);
        axis->setGridLineColor(grid);
        axis->setLinePenColor(pal.color(QPalette::Mid));
        axis->setMinorGridLineVisible(false);
    }
    // Relative time reads faster than clock times when the question is "since when".
    m_x->setLabelFormat(QStringLiteral("%d s"));
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(0);
    m_x->setTickInterval(15);
    m_y->setTickType(QValueAxis::TicksDynamic);
    m_y->setTickAnchor(0);
    m_y->setLabelFormat(QStringLiteral("%g"));
    m_y->setRange(0, 1);
    m_y->setTickInterval(0.25);
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);

    QLegend *legend = chart->legend();
    legend->setAlignment(Qt::AlignTop);
    legend->setFont(axisFont);
    legend->setLabelColor(text);
    legend->setMarkerShape(QLegend::MarkerShapeFromSeries);
    legend->setVisible(true);

    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setFrameShape(QFrame::NoFrame);
    setBackgroundBrush(background);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setWindow(60);
}

int TimeSeriesChart::addSeries(const QString &name, const QColor &color)
{
    auto *series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(1.6);
    series->setPen(pen);
    chart()->addSeries(series);
    series->attachAxis(m_x);
    series->attachAxis(m_y);
    m_series.append(series);
    // One series is named by the chart title already; a legend only helps from two on.
    chart()->legend()->setVisible(m_series.size() > 1);
    return int(m_series.size()) - 1;
}

void TimeSeriesChart::setPoints(int series, const QList<QPointF> &points)
{
    if (series < 0 || series >= m_series.size())
        return;
    m_series[series]->replace(points);
}

void TimeSeriesChart::setWindow(int seconds)
{
    m_x->setRange(-seconds, 0);
    m_x->setTickInterval(seconds > 120 ? 60 : seconds > 30 ? 15 : 5);
}

void TimeSeriesChart::clearPoints()
{
    for (QLineSeries *s : std::as_const(m_series))
        s->clear();
    m_y->setRange(0, 1);
    m_y->setTickInterval(0.25);
}

void TimeSeriesChart::rescale()
{
    double top = 0;
    for (const QLineSeries *s : std::as_const(m_series)) {
        const QList<QPointF> pts = s->points();
        for (const QPointF &p : pts)
            top = std::max(top, p.y());
    }
    // About four gridlines, with headroom above the peak so the line never runs
    // along the frame; an empty chart still shows a 0..1 scale.
    const double step = top > 0 ? niceStep(top * 1.1 / 4.0) : 0.25;
    const double max = std::max(step, std::ceil(top * 1.1 / step) * step);
    if (m_y->max() != max || m_y->min() != 0 || m_y->tickInterval() != step) {
        m_y->setRange(0, max);
        m_y->setTickInterval(step);
    }
}

QList<QPointF> TimeSeriesChart::points(int series) const
{
    return series >= 0 && series < m_series.size() ? m_series[series]->points() : QList<QPointF> {};
}

QSize TimeSeriesChart::sizeHint() const { return {360, 165}; }

QSize TimeSeriesChart::minimumSizeHint() const { return {220, 140}; }

}  // namespace meshscope

#include "inspect/timeserieschart.h"

#include "displayformat.h"

#include <QApplication>
#include <QChart>
#include <QCursor>
#include <QFontMetrics>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPalette>
#include <QPen>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {

// The x axis unit for a window, and a tick interval in that unit giving 4 to 6 ticks.
struct TimeScale {
    double unitSeconds;
    const char *format;
    double tick;
};

TimeScale timeScaleFor(int seconds)
{
    auto ticks = [](double span, std::initializer_list<double> steps) {
        for (double st : steps) {
            if (span / st <= 6)
                return st;
        }
        return span / 4;
    };
    if (seconds <= 180)
        return {1, "%d s", ticks(seconds, {5, 10, 15, 30, 60})};
    if (seconds <= 3 * 3600)
        return {60, "%d min", ticks(seconds / 60.0, {1, 2, 5, 10, 15, 30, 60})};
    if (seconds <= 3 * 86400)
        return {3600, "%d h", ticks(seconds / 3600.0, {1, 2, 3, 6, 12, 24})};
    return {86400, "%d d", ticks(seconds / 86400.0, {1, 2, 7, 14, 30})};
}

QString relativeTime(double seconds)
{
    const double ago = -seconds;
    if (ago < 1)
        return QObject::tr("now");
    if (ago < 120)
        return QObject::tr("%1 s ago").arg(std::lround(ago));
    if (ago < 2 * 3600)
        return QObject::tr("%1 min ago").arg(QString::number(ago / 60.0, 'f', ago < 600 ? 1 : 0));
    return QObject::tr("%1 h ago").arg(QString::number(ago / 3600.0, 'f', 1));
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
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(0);
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
    legend->setShowToolTips(true);
    legend->setVisible(true);

    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setFrameShape(QFrame::NoFrame);
    setBackgroundBrush(background);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setWindow(60);
}

int TimeSeriesChart::addSeries(const QString &name, const QColor &color, Qt::PenStyle style)
{
    auto *series = new QLineSeries;
    series->setName(name);
    QPen pen(color);
    pen.setWidthF(1.6);
    pen.setStyle(style);
    if (style != Qt::SolidLine)
        pen.setDashPattern({4, 3});  // dashes long enough to read their colour, gaps to see through
    series->setPen(pen);
    series->setMarkerSize(5);
    chart()->addSeries(series);
    series->attachAxis(m_x);
    series->attachAxis(m_y);
    m_series.append(series);
    m_samples.append(QList<quint64> {});
    const int index = int(m_series.size()) - 1;
    connect(series, &QLineSeries::hovered, this, [this, index](const QPointF &point, bool state) {
        if (!state) {
            QToolTip::hideText();
            return;
        }
        QToolTip::showText(QCursor::pos(), pointToolTip(index, point.x() * m_xUnit), this);
    });
    // One series is named by the chart title already; a legend only helps from two on.
    chart()->legend()->setVisible(m_series.size() > 1);
    updateGeometry();
    return index;
}

void TimeSeriesChart::setPoints(int series, const QList<QPointF> &points, const QList<quint64> &samples)
{
    if (series < 0 || series >= m_series.size())
        return;
    QList<QPointF> scaled;
    scaled.reserve(points.size());
    for (const QPointF &p : points)
        scaled.append({p.x() / m_xUnit, p.y()});
    // A lone point (the first step with data, a sparse series) is no line: mark it.
    m_series[series]->setPointsVisible(scaled.size() < 3);
    m_series[series]->replace(scaled);
    m_samples[series] = samples.size() == points.size() ? samples : QList<quint64> {};
}

void TimeSeriesChart::setWindow(int seconds)
{
    seconds = std::max(1, seconds);
    const TimeScale scale = timeScaleFor(seconds);
    if (seconds == m_windowSeconds && scale.unitSeconds == m_xUnit && !m_xUnitName.isEmpty())
        return;
    // Points already shown keep their time when the unit changes.
    const double oldUnit = m_xUnit;
    m_windowSeconds = seconds;
    m_xUnit = scale.unitSeconds;
    m_xUnitName = QLatin1String(scale.format);
    if (oldUnit != m_xUnit) {
        for (QLineSeries *s : std::as_const(m_series)) {
            QList<QPointF> pts = s->points();
            for (QPointF &p : pts)
                p.setX(p.x() * oldUnit / m_xUnit);
            s->replace(pts);
        }
    }
    m_x->setLabelFormat(m_xUnitName);
    m_x->setRange(-seconds / m_xUnit, 0);
    m_x->setTickInterval(scale.tick);
}

QString TimeSeriesChart::axisLabelFormat() const { return m_x->labelFormat(); }

void TimeSeriesChart::clearPoints()
{
    for (QLineSeries *s : std::as_const(m_series))
        s->clear();
    for (QList<quint64> &s : m_samples)
        s.clear();
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
    const double step = top > 0 ? display::niceStep(top * 1.1 / 4.0) : 0.25;
    const double max = std::max(step, std::ceil(top * 1.1 / step) * step);
    if (m_y->max() != max || m_y->min() != 0 || m_y->tickInterval() != step) {
        m_y->setRange(0, max);
        m_y->setTickInterval(step);
    }
}

QList<QPointF> TimeSeriesChart::points(int series) const
{
    if (series < 0 || series >= m_series.size())
        return {};
    QList<QPointF> pts = m_series[series]->points();
    for (QPointF &p : pts)
        p.setX(p.x() * m_xUnit);
    return pts;
}

QList<quint64> TimeSeriesChart::samples(int series) const
{
    return series >= 0 && series < m_samples.size() ? m_samples[series] : QList<quint64> {};
}

QString TimeSeriesChart::pointToolTip(int series, double x) const
{
    const QList<QPointF> pts = points(series);
    if (pts.isEmpty())
        return {};
    qsizetype best = 0;
    for (qsizetype i = 1; i < pts.size(); ++i) {
        if (std::abs(pts[i].x() - x) < std::abs(pts[best].x() - x))
            best = i;
    }
    const double y = pts[best].y();
    const QString value = y >= 100 || y == std::floor(y) ? QString::number(y, 'f', 0) : QString::number(y, 'g', 3);
    QString tip
        = QStringLiteral("%1: %2 %3, %4").arg(m_series[series]->name(), value, m_unit, relativeTime(pts[best].x()));
    const QList<quint64> &n = m_samples[series];
    if (best < n.size())
        tip += QLatin1Char('\n') + tr("from %1").arg(display::quantity(qint64(n[best]), tr("request"), tr("requests")));
    return tip;
}

QSize TimeSeriesChart::sizeHint() const { return {360, 165}; }

QSize TimeSeriesChart::minimumSizeHint() const
{
    // Wide enough for every legend entry in full: marker, label and spacing each.
    int legend = 0;
    if (m_series.size() > 1) {
        const QFontMetrics fm(chart()->legend()->font());
        for (const QLineSeries *s : std::as_const(m_series))
            legend += fm.horizontalAdvance(s->name()) + fm.height() + 24;
        legend += 24;
    }
    return {std::max(220, legend), 140};
}

}  // namespace meshscope

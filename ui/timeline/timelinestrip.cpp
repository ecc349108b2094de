#include "timeline/timelinestrip.h"

#include "displayformat.h"
#include "graph/graphhistory.h"
#include "graph/windowstats.h"

#include <QContextMenuEvent>
#include <QDateTime>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {

constexpr int kSteps[] = {1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600};
constexpr int kMarginLeft = 8;
constexpr int kMarginRight = 8;
constexpr int kAxisHeight = 14;

QString timeOfDay(int64_t ms) { return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")); }

}  // namespace

struct TimelineStrip::Points {
    std::vector<SeriesPoint> points;
};

TimelineStrip::TimelineStrip(QWidget *parent)
    : QWidget(parent)
    , m_points(std::make_unique<Points>())
{
    setObjectName(QStringLiteral("timelineStrip"));
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("The session's requests per second and error rate. Click to see the graph at that moment, drag to "
                  "see a range; Left/Right step a second (Shift: a minute), End goes back to live."));
}

TimelineStrip::~TimelineStrip() = default;

void TimelineStrip::setHistory(const GraphHistory *history)
{
    m_history = history;
    update();
}

void TimelineStrip::addMarker(const Marker &marker)
{
    m_markers.push_back(marker);
    update();
}

std::vector<TimelineStrip::Marker> TimelineStrip::markersNear(int x, int px) const
{
    std::vector<std::pair<int, Marker>> near;
    for (const Marker &m : m_markers) {
        const int d = std::abs(xAtMs(m.ms) - x);
        if (d <= px)
            near.emplace_back(d, m);
    }
    std::stable_sort(near.begin(), near.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    std::vector<Marker> out;
    for (auto &[d, m] : near)
        out.push_back(std::move(m));
    return out;
}

const std::vector<SeriesPoint> &TimelineStrip::points() const { return m_points->points; }

void TimelineStrip::setFixedEnd(bool fixed)
{
    m_fixedEnd = fixed;
    update();
}

void TimelineStrip::setPickedBefore(std::optional<Range> before)
{
    m_pickedBefore = before;
    update();
}

void TimelineStrip::setDiffRanges(std::optional<Range> before, std::optional<Range> after)
{
    m_diffBefore = before;
    m_diffAfter = after;
    update();
}

std::optional<TimelineStrip::Range> TimelineStrip::viewedRange() const
{
    if (!m_viewedMs)
        return std::nullopt;
    return Range {*m_viewedMs - int64_t(std::max(1, m_viewedWindow)) * 1000, *m_viewedMs};
}

std::optional<TimelineStrip::Marker> TimelineStrip::routeFlagAt(QPoint pos) const
{
    if (pos.y() > plotRect().top() + 10)
        return std::nullopt;
    for (const Marker &m : markersNear(pos.x(), 6)) {
        if (m.kind == Marker::Kind::RouteApply)
            return m;
    }
    return std::nullopt;
}

void TimelineStrip::refresh(int64_t nowMs)
{
    m_endMs = nowMs;
    const int64_t first = m_history ? m_history->firstSecond() : -1;
    m_startMs = first >= 0 ? std::min(first * 1000, nowMs - 60'000) : nowMs - 60'000;
    // Bars of at least 3 px: the finest step that fits.
    const double spanSeconds = double(m_endMs - m_startMs) / 1000.0;
    const int columns = std::max(1, plotRect().width() / 3);
    m_step = kSteps[std::size(kSteps) - 1];
    for (int s : kSteps) {
        if (spanSeconds / s <= columns) {
            m_step = s;
            break;
        }
    }
    m_points->points
        = m_history ? m_history->totals(m_startMs / 1000, m_endMs / 1000, m_step) : std::vector<SeriesPoint> {};
    update();
}

void TimelineStrip::setViewed(std::optional<int64_t> ms, int windowSeconds)
{
    m_viewedMs = ms;
    m_viewedWindow = windowSeconds;
    update();
}

QRect TimelineStrip::plotRect() const
{
    return QRect(
        kMarginLeft, 4, std::max(1, width() - kMarginLeft - kMarginRight), std::max(1, height() - 8 - kAxisHeight));
}

int64_t TimelineStrip::msAtX(int x) const
{
    const QRect r = plotRect();
    const double f = std::clamp(double(x - r.left()) / std::max(1, r.width()), 0.0, 1.0);
    return m_startMs + int64_t(std::llround(f * double(m_endMs - m_startMs)));
}

int TimelineStrip::xAtMs(int64_t ms) const
{
    const QRect r = plotRect();
    const double span = double(std::max<int64_t>(1, m_endMs - m_startMs));
    return r.left() + int(std::lround(double(ms - m_startMs) / span * r.width()));
}

QSize TimelineStrip::sizeHint() const { return QSize(600, 72); }

QSize TimelineStrip::minimumSizeHint() const { return QSize(120, 56); }

void TimelineStrip::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    const QRect r = plotRect();
    const QColor text = palette().color(QPalette::Text);
    const QColor faint = palette().color(QPalette::PlaceholderText);
    const QColor bars(QStringLiteral("#4c8bd6"));
    const QColor errors(QStringLiteral("#e5534b"));

    // A selected range, then the bars.
    if (m_viewedMs && m_viewedWindow > 1) {
        const int x0 = xAtMs(*m_viewedMs - int64_t(m_viewedWindow) * 1000);
        p.fillRect(QRect(QPoint(x0, r.top()), QPoint(xAtMs(*m_viewedMs), r.bottom())), QColor(255, 200, 60, 40));
    }
    auto band = [&](const std::optional<Range> &range, QColor fill, const QString &word) {
        if (!range)
            return;
        const QRect box(QPoint(xAtMs(range->fromMs), r.top()),
            QPoint(std::max(xAtMs(range->fromMs) + 1, xAtMs(range->toMs)), r.bottom()));
        p.fillRect(box, fill);
        QColor edge = fill;
        edge.setAlpha(220);
        p.setPen(edge);
        p.drawText(box.adjusted(3, 8, 0, 0), Qt::AlignLeft | Qt::AlignTop, word);
    };
    band(m_diffBefore ? m_diffBefore : m_pickedBefore, QColor(90, 160, 255, 55), tr("before"));
    band(m_diffAfter, QColor(240, 136, 62, 55), tr("after"));
    if (m_dragFromX) {
        const int a = std::min(*m_dragFromX, m_dragToX), b = std::max(*m_dragFromX, m_dragToX);
        p.fillRect(QRect(QPoint(a, r.top()), QPoint(b, r.bottom())), QColor(255, 200, 60, 70));
    }
    const std::vector<SeriesPoint> &pts = m_points->points;
    double maxRps = 0;
    for (const SeriesPoint &pt : pts)
        maxRps = std::max(maxRps, double(pt.requests) / std::max(1, pt.seconds));
    const double top = maxRps > 0 ? display::niceStep(maxRps) : 1.0;
    // The error rate on its own scale, so a few percent still shows as a line that moves.
    double maxRate = 0;
    for (const SeriesPoint &pt : pts)
        maxRate = std::max(maxRate, pt.requests ? double(pt.errors) / pt.requests : 0.0);
    const double rateTop = std::min(1.0, display::niceStep(std::max(maxRate, 0.01)));
    const int barWidth = std::max(1, xAtMs(m_startMs + int64_t(m_step) * 1000) - xAtMs(m_startMs) - 1);
    QPainterPath errorLine;
    bool lineStarted = false;
    for (const SeriesPoint &pt : pts) {
        const int x = xAtMs(pt.second * 1000);
        const double rps = double(pt.requests) / std::max(1, pt.seconds);
        const int h = int(std::lround(rps / top * r.height()));
        p.fillRect(QRect(x, r.bottom() - h + 1, barWidth, h), bars);
        const double rate = pt.requests ? double(pt.errors) / pt.requests : 0.0;
        const QPointF at(x + barWidth / 2.0, r.bottom() - rate / rateTop * r.height());
        if (!lineStarted) {
            errorLine.moveTo(at);
            lineStarted = true;
        } else {
            errorLine.lineTo(at);
        }
        if (rate >= kSpikeErrorRate && pt.requests >= 20)
            p.fillRect(QRect(x, r.top(), std::max(2, barWidth), 4), errors);
    }
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(errors, 1.5));
    p.drawPath(errorLine);
    p.setRenderHint(QPainter::Antialiasing, false);

    // Markers: route applies in yellow, outages in red, recoveries in green, certificate
    // warnings in violet.
    for (const Marker &m : m_markers) {
        if (m.ms < m_startMs || m.ms > m_endMs)
            continue;
        const QColor c = m.kind == Marker::Kind::RouteApply ? QColor(QStringLiteral("#e0b400"))
            : m.kind == Marker::Kind::SourceDown            ? errors
            : m.kind == Marker::Kind::CertificateWarning    ? QColor(QStringLiteral("#d2a8ff"))
                                                            : QColor(QStringLiteral("#3fb950"));
        const int x = xAtMs(m.ms);
        p.setPen(QPen(c, 2));
        p.drawLine(x, r.top(), x, r.bottom());
        QPolygon flag;
        flag << QPoint(x - 4, r.top()) << QPoint(x + 4, r.top()) << QPoint(x, r.top() + 6);
        p.setBrush(c);
        p.drawPolygon(flag);
    }

    // The moment shown, or "live" at the right edge.
    p.setPen(QPen(m_viewedMs ? QColor(QStringLiteral("#ffc83c")) : faint, m_viewedMs ? 2 : 1));
    const int cursor = m_viewedMs ? xAtMs(*m_viewedMs) : r.right();
    p.drawLine(cursor, r.top() - 2, cursor, r.bottom() + 2);

    // Axis: start, the peak rate, and end times.
    p.setPen(text);
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    const QRect axis(r.left(), r.bottom() + 2, r.width(), kAxisHeight);
    p.drawText(axis, Qt::AlignLeft | Qt::AlignVCenter, timeOfDay(m_startMs));
    p.drawText(axis, Qt::AlignRight | Qt::AlignVCenter, m_viewedMs || m_fixedEnd ? timeOfDay(m_endMs) : tr("live"));
    p.drawText(axis, Qt::AlignHCenter | Qt::AlignVCenter,
        tr("%1 req/s at the top · errors in red, %2 at the top · %3 s steps")
            .arg(display::rps(top), display::percent(rateTop))
            .arg(m_step));
    if (hasFocus()) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 1));
        p.setBrush(Qt::NoBrush);
        p.drawRect(rect().adjusted(0, 0, -1, -1));
    }
}

void TimelineStrip::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mousePressEvent(event);
    if (const std::optional<Marker> flag = routeFlagAt(event->position().toPoint())) {
        Q_EMIT routeChangeChosen(flag->ms);  // one click: what the change did
        return;
    }
    m_dragFromX = int(event->position().x());
    m_dragToX = *m_dragFromX;
}

void TimelineStrip::mouseMoveEvent(QMouseEvent *event)
{
    if (!m_dragFromX)
        return;
    m_dragToX = int(event->position().x());
    update();
}

void TimelineStrip::mouseReleaseEvent(QMouseEvent *event)
{
    if (!m_dragFromX || event->button() != Qt::LeftButton)
        return;
    const int from = *m_dragFromX;
    const int to = int(event->position().x());
    m_dragFromX.reset();
    update();
    if (std::abs(to - from) < 4) {
        // At the right edge: back to live.
        if (to >= plotRect().right() - 2)
            Q_EMIT liveChosen();
        else
            Q_EMIT momentChosen(msAtX(to));
        return;
    }
    const int64_t a = msAtX(std::min(from, to)), b = msAtX(std::max(from, to));
    Q_EMIT rangeChosen(a, b);
}

void TimelineStrip::step(int64_t deltaMs)
{
    const int64_t from = m_viewedMs.value_or(m_endMs);
    const int64_t to = std::clamp(from + deltaMs, m_startMs, m_endMs);
    if (!m_viewedMs && deltaMs > 0)
        return;  // already live
    if (to >= m_endMs && deltaMs > 0)
        Q_EMIT liveChosen();
    else
        Q_EMIT momentChosen(to);
}

void TimelineStrip::keyPressEvent(QKeyEvent *event)
{
    const int64_t unit = event->modifiers() & Qt::ShiftModifier ? 60'000 : 1'000;
    switch (event->key()) {
    case Qt::Key_Left: step(-unit); return;
    case Qt::Key_Right: step(unit); return;
    case Qt::Key_End:
    case Qt::Key_Escape: Q_EMIT liveChosen(); return;
    default: QWidget::keyPressEvent(event);
    }
}

bool TimelineStrip::event(QEvent *event)
{
    if (event->type() != QEvent::ToolTip)
        return QWidget::event(event);
    auto *help = static_cast<QHelpEvent *>(event);
    const int x = help->pos().x();
    QStringList lines;
    for (const Marker &m : markersNear(x))
        lines << timeOfDay(m.ms) + QStringLiteral("  ") + m.text;
    if (routeFlagAt(help->pos()))
        lines << tr("Click the flag to compare the minutes before this change with the ones after it");
    if (lines.isEmpty()) {
        const int64_t ms = msAtX(x);
        for (const SeriesPoint &pt : m_points->points) {
            if (ms >= pt.second * 1000 && ms < (pt.second + std::max(m_step, pt.seconds)) * 1000) {
                lines << tr("%1: %2 req/s, %3 errors")
                             .arg(timeOfDay(pt.second * 1000),
                                 display::rps(double(pt.requests) / std::max(1, pt.seconds)),
                                 display::percent(pt.requests ? double(pt.errors) / pt.requests : 0.0));
                break;
            }
        }
    }
    if (lines.isEmpty())
        QToolTip::showText(help->globalPos(), toolTip(), this);
    else
        QToolTip::showText(help->globalPos(), lines.join(QLatin1Char('\n')), this);
    return true;
}

void TimelineStrip::contextMenuEvent(QContextMenuEvent *event)
{
    // The range to use: the one viewed, else the viewed window's length ending here.
    const std::optional<Range> viewed = viewedRange();
    const int64_t at = msAtX(event->pos().x());
    const int64_t length = viewed ? viewed->toMs - viewed->fromMs : 60'000;
    const Range here = viewed && at >= viewed->fromMs && at <= viewed->toMs ? *viewed : Range {at - length, at};
    auto span = [](const Range &r) -> QString { return timeOfDay(r.fromMs) + QStringLiteral("–") + timeOfDay(r.toMs); };
    QMenu menu(this);
    if (const std::optional<Marker> flag = routeFlagAt(event->pos())) {
        menu.addAction(
            tr("What changed at this route apply"), this, [this, ms = flag->ms] { Q_EMIT routeChangeChosen(ms); });
        menu.addSeparator();
    }
    menu.addAction(tr("Use %1 as “before”").arg(span(here)), this, [this, here] { setPickedBefore(here); });
    QAction *compare
        = menu.addAction(m_pickedBefore ? tr("Compare %1 with “before” (%2)").arg(span(here), span(*m_pickedBefore))
                                        : tr("Compare with “before” (pick one first)"),
            this, [this, here] {
                if (m_pickedBefore)
                    Q_EMIT compareChosen(m_pickedBefore->fromMs, m_pickedBefore->toMs, here.fromMs, here.toMs);
            });
    compare->setEnabled(m_pickedBefore.has_value());
    if (m_pickedBefore)
        menu.addAction(tr("Forget “before”"), this, [this] { setPickedBefore(std::nullopt); });
    menu.exec(event->globalPos());
}

}  // namespace meshscope

#include "traces/traceminimap.h"

#include "traces/models/tracerowsmodel.h"
#include "traces/waterfallstyle.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {

// Up to this many rows each row is drawn in its service colour; above, rows share
// pixel lines and a density map says more than overdrawn colours would.
constexpr int kColourRows = 4000;

const QColor kBackground(0x11, 0x15, 0x1a);

}  // namespace

TraceMinimap::TraceMinimap(TraceRowsModel *model, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
{
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Overview of all rows; click or drag to scroll"));
    connect(model, &QAbstractItemModel::modelReset, this, &TraceMinimap::invalidate);
    connect(model, &QAbstractItemModel::rowsInserted, this, &TraceMinimap::invalidate);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &TraceMinimap::invalidate);
}

QSize TraceMinimap::sizeHint() const { return {400, 46}; }
QSize TraceMinimap::minimumSizeHint() const { return {100, 30}; }

void TraceMinimap::invalidate()
{
    m_dirty = true;
    update();
}

void TraceMinimap::setWindow(int firstRow, int rowCount)
{
    if (firstRow == m_firstRow && rowCount == m_windowRows)
        return;
    m_firstRow = firstRow;
    m_windowRows = rowCount;
    update();
}

QRect TraceMinimap::stripRect() const { return rect().adjusted(1, 1, -1, -1); }

void TraceMinimap::render()
{
    ++m_renders;
    const QRect strip = stripRect();
    const qreal dpr = devicePixelRatioF();
    m_image = QImage(strip.size() * dpr, QImage::Format_ARGB32_Premultiplied);
    m_image.setDevicePixelRatio(dpr);
    m_image.fill(kBackground);
    m_dirty = false;
    const WaterfallTrace *t = m_model->trace();
    const int rows = m_model->rowCount();
    if (!t || rows == 0 || m_image.isNull())
        return;
    const int w = m_image.width();
    const int h = m_image.height();
    const int pad = int(4 * dpr);
    const double axisWidth = std::max(1, w - 2 * pad);
    const uint64_t total = t->durationNs();
    auto xOf
        = [&](uint64_t offset) { return total == 0 ? pad : pad + int(axisWidth * (double(offset) / double(total))); };

    if (rows <= kColourRows) {
        QPainter p(&m_image);
        p.scale(1 / dpr, 1 / dpr);  // draw in device pixels
        for (int row = 0; row < rows; ++row) {
            const uint32_t span = m_model->spanAt(row);
            const int y0 = int(int64_t(row) * h / rows);
            const int y1 = int(int64_t(row + 1) * h / rows);
            const int bh = std::max(1, std::min(y1 - y0 - (y1 - y0 > 2 ? 1 : 0), int(6 * dpr)));
            const int x0 = xOf(t->offsetNs(span));
            const int x1 = std::max(x0 + 1, xOf(t->offsetNs(span) + t->tree.durationNs(span)));
            p.fillRect(QRect(x0, y0, x1 - x0, bh),
                t->error[span] ? waterfall::errorColor() : t->serviceColors[t->serviceOf[span]]);
        }
        return;
    }

    // Density map: per pixel line, a difference array of bar coverage (and of error
    // bars), then one prefix sum per line. O(rows + pixels), whatever the bars' widths.
    const size_t stride = size_t(w) + 1;
    std::vector<int32_t> cover(stride * size_t(h), 0), errors(stride * size_t(h), 0);
    for (int row = 0; row < rows; ++row) {
        const uint32_t span = m_model->spanAt(row);
        const size_t y = size_t(int64_t(row) * h / rows);
        const int x0 = std::clamp(xOf(t->offsetNs(span)), 0, w - 1);
        const int x1 = std::clamp(xOf(t->offsetNs(span) + t->tree.durationNs(span)), x0 + 1, w);
        cover[y * stride + size_t(x0)] += 1;
        cover[y * stride + size_t(x1)] -= 1;
        if (t->error[span]) {
            errors[y * stride + size_t(x0)] += 1;
            errors[y * stride + size_t(x1)] -= 1;
        }
    }
    // Prefix sums in place, then a log scale against the busiest pixel: a few short
    // spans must still show beside a column that every row crosses.
    int32_t busiest = 1;
    for (int y = 0; y < h; ++y) {
        int32_t c = 0, e = 0;
        for (int x = 0; x < w; ++x) {
            const size_t i = size_t(y) * stride + size_t(x);
            c += cover[i];
            e += errors[i];
            cover[i] = c;
            errors[i] = e;
            busiest = std::max(busiest, c);
        }
    }
    const double scale = 1.0 / std::log1p(double(busiest));
    const QColor accent = waterfall::serviceColor(0);
    const QColor red = waterfall::errorColor();
    auto mix = [](const QColor &a, const QColor &b, double f) {
        return qRgb(int(a.red() + (b.red() - a.red()) * f), int(a.green() + (b.green() - a.green()) * f),
            int(a.blue() + (b.blue() - a.blue()) * f));
    };
    for (int y = 0; y < h; ++y) {
        auto *line = reinterpret_cast<QRgb *>(m_image.scanLine(y));
        for (int x = 0; x < w; ++x) {
            const size_t i = size_t(y) * stride + size_t(x);
            if (cover[i] <= 0)
                continue;
            const double f = 0.45 + 0.55 * std::log1p(double(cover[i])) * scale;
            line[x] = mix(kBackground, errors[i] > 0 ? red : accent, f);
        }
    }
}

void TraceMinimap::paintEvent(QPaintEvent *)
{
    const QRect strip = stripRect();
    if (m_dirty || m_image.size() != strip.size() * devicePixelRatioF())
        render();
    QPainter p(this);
    p.setPen(QColor(0x30, 0x36, 0x3d));
    p.setBrush(Qt::NoBrush);
    p.drawRect(rect().adjusted(0, 0, -1, -1));
    p.drawImage(strip.topLeft(), m_image);

    const int rows = m_model->rowCount();
    if (rows == 0)
        return;
    const int h = strip.height();
    int y0 = strip.top() + int(int64_t(m_firstRow) * h / rows);
    int y1 = strip.top() + int(int64_t(std::min(rows, m_firstRow + m_windowRows)) * h / rows);
    if (y1 - y0 < 3) {
        y1 = std::min(strip.bottom() + 1, y0 + 3);
        y0 = y1 - 3;
    }
    // Shade what the table does not show rather than tint what it does: the rows in
    // view keep their colours.
    const QColor shade(0, 0, 0, 60);
    p.fillRect(QRect(strip.left(), strip.top(), strip.width(), y0 - strip.top()), shade);
    p.fillRect(QRect(strip.left(), y1, strip.width(), strip.bottom() + 1 - y1), shade);
    p.setPen(QColor(0x58, 0xa6, 0xff));
    p.drawRect(QRect(strip.left(), y0, strip.width() - 1, std::max(1, y1 - y0 - 1)));
}

void TraceMinimap::requestAt(int y)
{
    const int rows = m_model->rowCount();
    const QRect strip = stripRect();
    if (rows == 0 || strip.height() <= 0)
        return;
    const int row = int(int64_t(std::clamp(y - strip.top(), 0, strip.height() - 1)) * rows / strip.height());
    Q_EMIT rowRequested(row);
}

void TraceMinimap::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        requestAt(int(event->position().y()));
}

void TraceMinimap::mouseMoveEvent(QMouseEvent *event)
{
    if (event->buttons() & Qt::LeftButton)
        requestAt(int(event->position().y()));
}

}  // namespace meshscope

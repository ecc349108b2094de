#include "canvas/canvaslinerasterizer.h"

#include <QImage>

#include <algorithm>
#include <cmath>

namespace meshscope {

namespace {

constexpr int kTile = 128;  // 64 KB of RGB32: stays in L2 while its lines are drawn

// Multiplies all four 8-bit channels of x by a/255 (two channels per operation).
inline uint32_t byteMul(uint32_t x, uint32_t a)
{
    uint32_t t = (x & 0xff00ff) * a;
    t = (t + ((t >> 8) & 0xff00ff) + 0x800080) >> 8;
    t &= 0xff00ff;
    x = ((x >> 8) & 0xff00ff) * a;
    x = (x + ((x >> 8) & 0xff00ff) + 0x800080);
    x &= 0xff00ff00;
    return x | t;
}

// std::floor is a libm call without SSE4.1; this is the inner loop's hottest operation.
inline int fastFloor(double v)
{
    const int i = int(v);
    return i - (double(i) > v);
}

}  // namespace

CanvasLineRasterizer::CanvasLineRasterizer(QImage &image)
{
    if (!supports(image))
        return;
    m_bits = image.bits();
    m_stride = image.bytesPerLine();
    m_width = image.width();
    m_height = image.height();
}

bool CanvasLineRasterizer::supports(const QImage &image)
{
    return !image.isNull()
        && (image.format() == QImage::Format_RGB32 || image.format() == QImage::Format_ARGB32_Premultiplied);
}

int CanvasLineRasterizer::addStyle(const Style &style)
{
    Ink ink;
    ink.colour = qPremultiply(style.colour.rgba());
    ink.inverse = 255 - (ink.colour >> 24);
    ink.antialias = style.antialias;
    const bool dashed = style.dash > 0 && style.gap > 0;
    ink.dash = dashed ? style.dash : 0;
    ink.gap = dashed ? style.gap : 0;
    m_inks.push_back(ink);
    return int(m_inks.size()) - 1;
}

void CanvasLineRasterizer::addLine(int style, QPointF a, QPointF b, double widthA, double widthB)
{
    if (!m_bits || style < 0 || size_t(style) >= m_inks.size())
        return;
    m_lines.push_back({float(a.x()), float(a.y()), float(b.x()), float(b.y()), float(widthA), float(widthB), style});
}

void CanvasLineRasterizer::draw()
{
    if (!m_bits || m_lines.empty()) {
        m_lines.clear();
        return;
    }
    // Bin every line into the tiles its (widened) footprint touches, row band by row band.
    const int cols = (m_width + kTile - 1) / kTile, rows = (m_height + kTile - 1) / kTile;
    std::vector<std::vector<int>> bins(size_t(cols) * size_t(rows));
    for (size_t k = 0; k < m_lines.size(); ++k) {
        const Line &l = m_lines[k];
        const double hw = 0.75 * std::max(l.wa, l.wb) + 1.5;  // half width, worst angle
        const double dx = double(l.bx) - l.ax, dy = double(l.by) - l.ay;
        const int r0 = std::max(0, int(std::floor((std::min(l.ay, l.by) - hw) / kTile)));
        const int r1 = std::min(rows - 1, int(std::floor((std::max(l.ay, l.by) + hw) / kTile)));
        for (int r = r0; r <= r1; ++r) {
            const double top = r * kTile - hw, bottom = (r + 1) * kTile + hw;
            double t0 = 0, t1 = 1;
            if (std::abs(dy) > 1e-9) {
                const double ta = (top - l.ay) / dy, tb = (bottom - l.ay) / dy;
                t0 = std::max(0.0, std::min(ta, tb));
                t1 = std::min(1.0, std::max(ta, tb));
                if (t0 > t1)
                    continue;
            }
            const double xa = l.ax + dx * t0, xb = l.ax + dx * t1;
            const int c0 = std::max(0, int(std::floor((std::min(xa, xb) - hw) / kTile)));
            const int c1 = std::min(cols - 1, int(std::floor((std::max(xa, xb) + hw) / kTile)));
            for (int c = c0; c <= c1; ++c)
                bins[size_t(r) * size_t(cols) + size_t(c)].push_back(int(k));
        }
    }
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            const Clip clip {
                c * kTile, r * kTile, std::min(m_width, (c + 1) * kTile) - 1, std::min(m_height, (r + 1) * kTile) - 1};
            for (int k : bins[size_t(r) * size_t(cols) + size_t(c)]) {
                const Line &l = m_lines[size_t(k)];
                rasterize(l, m_inks[size_t(l.style)], clip);
            }
        }
    }
    m_lines.clear();
}

void CanvasLineRasterizer::rasterize(const Line &l, const Ink &ink, const Clip &clip)
{
    const double dx = double(l.bx) - l.ax, dy = double(l.by) - l.ay;
    const double len = std::sqrt(dx * dx + dy * dy);
    if (len < 1e-3)
        return;
    // Work in (u, v) = (major, minor) axis coordinates so one loop serves both.
    const bool xMajor = std::abs(dx) >= std::abs(dy);
    double u0 = xMajor ? l.ax : l.ay, v0 = xMajor ? l.ay : l.ax;
    double u1 = xMajor ? l.bx : l.by, v1 = xMajor ? l.by : l.bx;
    double w0 = l.wa, w1 = l.wb;
    // Dashes are measured from the line's own start, whichever way it is walked.
    const bool reversed = u0 > u1;
    if (reversed) {
        std::swap(u0, u1);
        std::swap(v0, v1);
        std::swap(w0, w1);
    }
    const double du = u1 - u0;
    if (du < 1e-6)
        return;
    const int majorLo = xMajor ? clip.x0 : clip.y0, majorHi = xMajor ? clip.x1 : clip.y1;
    const int minorLo = xMajor ? clip.y0 : clip.x0, minorHi = xMajor ? clip.y1 : clip.x1;
    const double slope = (v1 - v0) / du;
    const double secant = len / du;  // 1/cos of the angle to the major axis
    const double hMax = 0.5 * std::max(std::max(w0, w1), 1.0) * secant + 1;

    // Columns whose pixel centres lie on the line, and only those whose span can
    // reach the clip (a long edge often crosses just a corner of it).
    double first = std::max(std::ceil(u0 - 0.5), double(majorLo));
    double last = std::min(std::floor(u1 - 0.5), double(majorHi));
    if (std::abs(slope) > 1e-12) {
        const double ua = u0 + (minorLo - hMax - v0) / slope, ub = u0 + (minorHi + 1 + hMax - v0) / slope;
        first = std::max(first, std::floor(std::min(ua, ub)));
        last = std::min(last, std::ceil(std::max(ua, ub)));
    } else if (v0 + hMax < minorLo || v0 - hMax > minorHi + 1) {
        return;
    }
    if (first > last)
        return;

    const bool dashed = ink.dash > 0;
    const double period = ink.dash + ink.gap;
    const double dw = (w1 - w0) / du;
    const uint32_t colour = ink.colour, inverse = ink.inverse;
    auto pixel = [&](int i, int j) -> uint32_t & {
        return xMajor ? reinterpret_cast<uint32_t *>(m_bits + j * m_stride)[i]
                      : reinterpret_cast<uint32_t *>(m_bits + i * m_stride)[j];
    };
    auto put = [&](int i, int j, double cover) {
        if (j < minorLo || j > minorHi || cover <= 0)
            return;
        const uint32_t c = uint32_t(std::min(255.0, cover * 255.0 + 0.5));
        if (c == 0)
            return;
        uint32_t &p = pixel(i, j);
        const uint32_t s = c >= 255 ? colour : byteMul(colour, c);
        p = s + byteMul(p, 255 - (s >> 24));
        ++m_pixels;
    };
    // Walked incrementally: centre, width and distance along the line per column.
    const double start = int(first) + 0.5 - u0;
    double vc = v0 + slope * start;
    double w = w0 + dw * start;
    double along = (reversed ? du - start : start) * secant;
    const double alongStep = reversed ? -secant : secant;
    for (int i = int(first); i <= int(last); ++i, vc += slope, w += dw, along += alongStep) {
        if (dashed && std::fmod(std::max(along, 0.0), period) >= ink.dash)
            continue;
        if (w <= 0)
            continue;
        if (!ink.antialias) {
            int jLo, jHi;
            if (w <= 1.0) {
                jLo = jHi = fastFloor(vc);
            } else {
                const double h = 0.5 * w * secant;
                jLo = fastFloor(vc - h + 0.5);
                jHi = std::max(jLo, fastFloor(vc + h + 0.5) - 1);
            }
            jLo = std::max(jLo, minorLo);
            jHi = std::min(jHi, minorHi);
            for (int j = jLo; j <= jHi; ++j) {
                uint32_t &p = pixel(i, j);
                p = colour + byteMul(p, inverse);
            }
            if (jHi >= jLo)
                m_pixels += uint64_t(jHi - jLo + 1);
            continue;
        }
        // The line covers [lo, hi] of this column: the end pixels get their overlap,
        // the ones between are fully covered. A line thinner than a pixel keeps a
        // pixel's extent and fades instead.
        const double extent = std::max(w, 1.0) * secant;
        const double fade = std::min(w, 1.0);
        const double lo = vc - extent / 2, hi = vc + extent / 2;
        const int jLo = fastFloor(lo), jHi = fastFloor(hi);
        if (jLo == jHi) {
            put(i, jLo, (hi - lo) * fade);
            continue;
        }
        put(i, jLo, (jLo + 1 - lo) * fade);
        put(i, jHi, (hi - jHi) * fade);
        const int from = std::max(jLo + 1, minorLo), to = std::min(jHi - 1, minorHi);
        if (from > to)
            continue;
        if (fade < 1.0) {
            for (int j = from; j <= to; ++j)
                put(i, j, fade);
            continue;
        }
        for (int j = from; j <= to; ++j) {
            uint32_t &p = pixel(i, j);
            p = colour + byteMul(p, inverse);
        }
        m_pixels += uint64_t(to - from + 1);
    }
}

}  // namespace meshscope

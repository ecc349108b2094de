#pragma once
// Draws a batch of straight lines straight into a 32-bit image buffer: the canvas's
// edges and arrowheads. Qt's raster engine strokes every line into a polygon,
// scan-converts it and blends span by span; for tens of thousands of long edges that
// is most of a frame. Here each line is walked along its major axis and every column
// (or row) gets one short span whose end pixels carry fractional coverage, which is
// exact for the body of a straight line of any width and angle (Wu's method,
// generalised to width). Widths may vary linearly along a line, so an arrowhead is a
// line tapering to zero. Source-over blending, optional dashes.
//
// Long lines wander over the whole 8 MB frame and miss the cache and TLB on almost
// every pixel, so the batch is binned into 128x128 tiles and drawn tile by tile; each
// pixel still sees its lines in the order they were added.
//
// Works on Format_RGB32 and Format_ARGB32_Premultiplied, in device pixels.

#include <QColor>
#include <QPointF>

#include <cstdint>
#include <vector>

QT_BEGIN_NAMESPACE
class QImage;
QT_END_NAMESPACE

namespace meshscope {

class CanvasLineRasterizer {
public:
    struct Style {
        QColor colour;
        bool antialias = true;
        double dash = 0;  // pixels on, 0 for a solid line
        double gap = 0;  // pixels off
    };

    // The image must stay alive and unshared until draw() returns.
    explicit CanvasLineRasterizer(QImage &image);
    static bool supports(const QImage &image);

    int addStyle(const Style &style);
    // A line whose width goes from widthA at a to widthB at b (pixels).
    void addLine(int style, QPointF a, QPointF b, double widthA, double widthB);
    // Rasterizes everything added so far, then starts an empty batch.
    void draw();

    uint64_t pixelsTouched() const { return m_pixels; }
    size_t size() const { return m_lines.size(); }

private:
    struct Line {
        float ax, ay, bx, by, wa, wb;
        int style;
    };
    struct Ink {
        uint32_t colour;  // premultiplied ARGB
        uint32_t inverse;  // 255 - its alpha
        bool antialias;
        double dash, gap;
    };
    struct Clip {
        int x0, y0, x1, y1;  // inclusive pixel bounds
    };
    void rasterize(const Line &line, const Ink &ink, const Clip &clip);

    uchar *m_bits = nullptr;
    qsizetype m_stride = 0;
    int m_width = 0;
    int m_height = 0;
    std::vector<Ink> m_inks;
    std::vector<Line> m_lines;
    uint64_t m_pixels = 0;
};

}  // namespace meshscope

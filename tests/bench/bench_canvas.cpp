// Graph canvas benchmark (meshscope-bench-needs-ui): frames per second while panning and
// zooming, the longest GUI-thread stall, and the worker's full redraw, each beside a
// bare QPainter::drawLines of the same edges measured in the same run.
//
//   bench_canvas [--quick] [--size N]...   sizes 1k/5k/10k/20k nodes with 4x edges (--quick
//                                 or MESHSCOPE_BENCH_QUICK=1: 1k and 5k only; --size: just N)
//   MESHSCOPE_BENCH_SCREENSHOTS=dir   also saves what the canvas showed, per size and view

#include "canvas/graphcanvas.h"
#include "canvas/graphlayout.h"
#include "common/graphsamplemesh.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QPainter>
#include <QSemaphore>
#include <QTest>
#include <QThreadPool>
#include <QWheelEvent>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace meshscope;

namespace {

const QSize kScreen(1920, 1080);

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

bool waitRendered(GraphCanvas &c)
{
    return QTest::qWaitFor([&] { return c.isRenderUpToDate(); }, 60000);
}

// The worker's time for a full render of the viewport at the current view (median of 3;
// the view is nudged each time so the worker really renders again).
double fullRedraw(GraphCanvas &c)
{
    std::vector<double> ms;
    const QPointF centre(kScreen.width() / 2.0, kScreen.height() / 2.0);
    for (int i = 0; i < 3; ++i) {
        c.zoomBy(i % 2 ? 1.0 / 1.0005 : 1.0005, centre);
        waitRendered(c);
        ms.push_back(c.lastRenderMs());
    }
    return median(ms);
}

// The same edges as straight antialiased 2 px lines, one drawLines call, into an image
// of the same size: what "just draw the lines" costs on this machine. `onPoolThread`
// paints from a global-pool thread, where Qt fills serially (one core, as the canvas's
// worker does); otherwise from the calling thread, where Qt 6.4 hands large fills to
// that pool and waits.
double bareDrawLines(const GraphSnapshot &s, const GraphLayout &layout, const QTransform &view, bool onPoolThread)
{
    std::vector<QLineF> lines;
    lines.reserve(s.edges.size());
    for (const EdgeSnapshot &e : s.edges)
        lines.emplace_back(view.map(layout.position(e.source)), view.map(layout.position(e.target)));
    auto once = [&lines] {
        QImage image(kScreen, QImage::Format_RGB32);
        image.fill(QColor(0x1b, 0x1f, 0x24));
        QElapsedTimer t;
        t.start();
        QPainter p(&image);
        p.setRenderHint(QPainter::Antialiasing, true);
        p.setPen(QPen(QColor(0x4d, 0x9f, 0x63), 2.0));
        p.drawLines(lines.data(), int(lines.size()));
        p.end();
        return double(t.nsecsElapsed()) / 1e6;
    };
    std::vector<double> ms;
    for (int i = 0; i < 3; ++i) {
        if (onPoolThread) {
            QSemaphore done;
            double elapsed = 0;
            QThreadPool::globalInstance()->start([&] {
                elapsed = once();
                done.release();
            });
            done.acquire();
            ms.push_back(elapsed);
        } else {
            ms.push_back(once());
        }
    }
    return median(ms);
}

struct Interaction {
    double fps = 0;
    double maxStallMs = 0;
    int frames = 0;
};

// A user session in miniature: zoom in from the fitted view with the wheel, pan with the
// keyboard, zoom back out, pan back. Each step is the event, a synchronous repaint and
// whatever the event loop has (worker images arriving); its duration is GUI-thread time.
Interaction interact(GraphCanvas &c)
{
    Interaction r;
    double total = 0;
    const QPointF at(kScreen.width() * 0.45, kScreen.height() * 0.55);
    const int phaseLength = 16;
    for (int i = 0; i < phaseLength * 8; ++i) {
        const int phase = (i / phaseLength) % 4;
        QElapsedTimer t;
        t.start();
        if (phase == 0 || phase == 2) {
            const int delta = phase == 0 ? 120 : -120;
            QWheelEvent wheel(at, c.mapToGlobal(at), QPoint(), QPoint(0, delta), Qt::NoButton, Qt::NoModifier,
                Qt::NoScrollPhase, false);
            QApplication::sendEvent(&c, &wheel);
        } else {
            QTest::keyClick(&c, phase == 1 ? Qt::Key_Left : Qt::Key_Right);
        }
        c.repaint();
        QCoreApplication::processEvents();
        const double ms = double(t.nsecsElapsed()) / 1e6;
        total += ms;
        r.maxStallMs = std::max(r.maxStallMs, ms);
        ++r.frames;
    }
    r.fps = r.frames / (total / 1000.0);
    return r;
}

void screenshot(GraphCanvas &c, const QString &dir, const QString &name)
{
    if (!dir.isEmpty())
        c.grab().save(QDir(dir).filePath(name));
}

void benchSize(int nodes, const QString &shots)
{
    const int edges = nodes * 4;
    const GraphSnapshotPtr snap = samplemesh::synthetic(nodes, edges, 11);
    GraphLayout layout;  // the canvas's layout is deterministic: this one matches it
    layout.update(*snap);

    GraphCanvas c;
    c.resize(kScreen);
    c.setEdgeLabel(GraphCanvas::EdgeLabel::Rps);
    QElapsedTimer t;
    t.start();
    c.setSnapshot(snap);
    const double firstSnapshotMs = double(t.nsecsElapsed()) / 1e6;
    c.show();
    if (!QTest::qWaitForWindowExposed(&c))
        std::fprintf(stderr, "canvas not exposed\n");
    if (!QTest::qWaitFor([&] { return !c.isLayoutPending(); }, 60000))
        std::fprintf(stderr, "layout did not finish\n");
    const double layoutReadyMs = double(t.nsecsElapsed()) / 1e6;
    waitRendered(c);

    // Stats-only update, as the aggregator publishes ten times a second.
    GraphSnapshot next = *snap;
    for (EdgeSnapshot &e : next.edges)
        e.stats.rps *= 1.1;
    next.generation += 1;
    t.restart();
    c.setSnapshot(std::make_shared<const GraphSnapshot>(std::move(next)));
    const double updateMs = double(t.nsecsElapsed()) / 1e6;
    waitRendered(c);

    const double fitMs = fullRedraw(c);
    screenshot(c, shots, QStringLiteral("canvas-%1-fit.png").arg(nodes));
    const bool collapsedAtFit = c.isCollapsed();

    // Worst case: semantic zoom off, every node and edge of the fitted graph on screen.
    c.setSemanticZoomEnabled(false);
    const double everyEdgeMs = fullRedraw(c);
    const double everyEdgeBare = bareDrawLines(*snap, layout, c.viewTransform(), true);
    const double everyEdgeBareGui = bareDrawLines(*snap, layout, c.viewTransform(), false);
    screenshot(c, shots, QStringLiteral("canvas-%1-every-edge.png").arg(nodes));
    c.setSemanticZoomEnabled(true);

    // Close up: labels, arrowheads, thick edges.
    c.zoomBy(0.6 / c.zoom(), QPointF(kScreen.width() / 2.0, kScreen.height() / 2.0));
    const double closeMs = fullRedraw(c);
    // Right after a snapshot that adds a node, hit-tests scan linearly while the grid
    // index is built on a pool thread; then they go through the grid.
    c.setSnapshot(samplemesh::withService(*snap, snap->nodes[1].ns, "one-more", snap->nodes[1].id));
    auto probe = [&c] {
        QElapsedTimer probeTimer;
        probeTimer.start();
        for (int i = 0; i < 100; ++i)
            c.nodeAt(QPoint(kScreen.width() * (i % 10 + 1) / 11, kScreen.height() * (i / 10 + 1) / 11));
        return double(probeTimer.nsecsElapsed()) / 1e3 / 100;
    };
    const double linearUs = probe();
    QTest::qWait(300);
    const double hitUs = probe();
    const double closeBare = bareDrawLines(*snap, layout, c.viewTransform(), true);
    screenshot(c, shots, QStringLiteral("canvas-%1-zoom60.png").arg(nodes));

    c.fitToView();
    waitRendered(c);
    const Interaction semantic = interact(c);
    c.fitToView();
    c.setSemanticZoomEnabled(false);
    waitRendered(c);
    const Interaction detailed = interact(c);
    c.setSemanticZoomEnabled(true);
    const double maxStall = std::max({semantic.maxStallMs, detailed.maxStallMs, updateMs});

    std::printf("canvas %dn/%de: pan/zoom %.1f fps, max GUI stall %.1f ms, full redraw %.0f ms "
                "(bare drawLines %.0f ms, ratio %.2f)\n",
        nodes, edges, std::min(semantic.fps, detailed.fps), maxStall, everyEdgeMs, everyEdgeBare,
        everyEdgeMs / everyEdgeBare);
    std::printf("  pan/zoom: %.1f fps (max %.1f ms) with namespace collapse, %.1f fps (max %.1f ms) with every edge "
                "drawn; %d frames each\n",
        semantic.fps, semantic.maxStallMs, detailed.fps, detailed.maxStallMs, semantic.frames);
    std::printf("  full redraw: fitted %.1f ms (%s), every edge at fit %.1f ms (bare %.1f, ratio %.2f), "
                "zoom 60%% %.1f ms (bare %.1f, ratio %.2f)\n",
        fitMs, collapsedAtFit ? "namespace boxes" : "nodes", everyEdgeMs, everyEdgeBare, everyEdgeMs / everyEdgeBare,
        closeMs, closeBare, closeMs / closeBare);
    std::printf("  bare drawLines = one AA 2 px drawLines from a pool thread (one core); from the GUI thread, "
                "where Qt hands fills to its pool: %.1f ms\n",
        everyEdgeBareGui);
    std::printf("  GUI thread: first snapshot %.1f ms (%s; on screen after %.0f ms), snapshot update (rates only) "
                "%.1f ms, hit-test %.1f us before the grid index lands, %.1f us after\n",
        firstSnapshotMs, nodes >= 2000 ? "layout runs in the background" : "layout + scene", layoutReadyMs, updateMs,
        linearUs, hitUs);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    bool quick = qEnvironmentVariableIntValue("MESHSCOPE_BENCH_QUICK") == 1;
    std::vector<int> sizes;
    for (int i = 1; i < argc; ++i) {
        quick |= QByteArray(argv[i]) == "--quick";
        if (QByteArray(argv[i]) == "--size" && i + 1 < argc)
            sizes.push_back(QByteArray(argv[++i]).toInt());
    }
    if (sizes.empty())
        sizes = quick ? std::vector<int> {1000, 5000} : std::vector<int> {1000, 5000, 10000, 20000};
    QStringList names;
    for (int n : sizes)
        names << QString::number(n / 1000) + QLatin1Char('k');
    const QString shots = qEnvironmentVariable("MESHSCOPE_BENCH_SCREENSHOTS");
    std::printf("bench_canvas: %dx%d offscreen, software rasterizer, sizes %s\n", kScreen.width(), kScreen.height(),
        qPrintable(names.join(QLatin1Char('/'))));
    for (int n : sizes)
        benchSize(n, shots);
    return 0;
}

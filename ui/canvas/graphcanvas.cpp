#include "canvas/graphcanvas.h"

#include "canvas/canvasrenderer.h"
#include "canvas/canvasrenderworker.h"
#include "canvas/canvastheme.h"
#include "canvas/canvasviewtransform.h"
#include "canvas/graphlayout.h"
#include "canvas/graphscene.h"
#include "displayformat.h"
#include "model/logging.h"

#include <QContextMenuEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>
#include <QSvgGenerator>
#include <QThreadPool>
#include <QTimer>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>

namespace meshscope {

namespace {

constexpr double kMinZoom = 0.01;
constexpr double kMaxZoom = 4.0;
constexpr double kMaxFitZoom = 1.2;  // a tiny graph is not blown up beyond legibility
// How far a label at its minimum font size may reach below a node's footprint.
constexpr double kLabelOverhang = 10;
constexpr int kAnimationIntervalMs = 33;
constexpr int kMaxAnimatedEdges = 3000;
// A first layout of this many nodes runs on a pool thread (it takes ~50-250 ms).
constexpr size_t kBackgroundLayoutNodes = 2000;

EdgeLabelKind labelKind(GraphCanvas::EdgeLabel l)
{
    switch (l) {
    case GraphCanvas::EdgeLabel::Rps: return EdgeLabelKind::Rps;
    case GraphCanvas::EdgeLabel::ErrorRate: return EdgeLabelKind::ErrorRate;
    case GraphCanvas::EdgeLabel::P95: return EdgeLabelKind::P95;
    case GraphCanvas::EdgeLabel::None: break;
    }
    return EdgeLabelKind::None;
}

uint32_t mix(uint32_t x)
{
    // A small integer hash, so each edge's dots get a stable phase of their own.
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

QPixmap dotPixmap(QColor colour)
{
    QPixmap pm(12, 12);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing, true);
    QColor halo = colour;
    halo.setAlpha(70);
    p.setPen(Qt::NoPen);
    p.setBrush(halo);
    p.drawEllipse(QPointF(6, 6), 5.5, 5.5);
    p.setBrush(colour);
    p.drawEllipse(QPointF(6, 6), 3.0, 3.0);
    return pm;
}

}  // namespace

// Drops the last GUI-thread references to an old snapshot and scene on a pool thread.
void retire(GraphSnapshotPtr snapshot, GraphScenePtr scene)
{
    if (!snapshot && !scene)
        return;
    QThreadPool::globalInstance()->start([snapshot = std::move(snapshot), scene = std::move(scene)]() mutable {
        scene.reset();
        snapshot.reset();
    });
}

struct GraphCanvas::Private {
    explicit Private(GraphCanvas *canvas)
        : q(canvas)
    {
    }

    GraphCanvas *q;
    GraphSnapshotPtr snapshot;
    GraphLayout layout;
    HealthPolicy policy;
    GraphScenePtr scene;
    Filter filter;
    EdgeLabel edgeLabel = EdgeLabel::None;
    ViewTransform view;
    bool autoFit = true;  // until the user pans or zooms, the graph is kept in view
    bool semanticZoom = true;
    bool legendVisible = true;

    QString selectedNode;
    QString selectedEdge;
    QString foundNode;
    std::vector<GraphCanvas::TraceHopMark> traceHops;
    QStringList traceNodes;
    std::vector<GraphCanvas::DiffMark> diffMarks;
    QHash<QString, NodeNote> nodeNotes;

    // Worker rendering: the newest image and the newest request.
    std::unique_ptr<CanvasRenderWorker> worker;
    uint64_t nextJobId = 0;
    uint64_t requestedJobId = 0;
    uint64_t requestedSceneKey = 0;
    RenderOptions requestedOptions;
    QImage cache;
    RenderOptions cacheOptions;
    uint64_t cacheJobId = 0;
    RenderStats lastStats;
    CanvasRenderer guiRenderer;  // for exports and a hidden widget's grab()

    // Mouse interaction.
    enum class Press { None, Background, Node, Edge };
    Press press = Press::None;
    QPointF pressPos;
    ViewTransform pressView;
    QString pressNodeId;
    QString pressEdgeId;
    QPointF grabOffset;  // node centre minus the grab point, graph units
    bool dragging = false;

    // A first layout running in the background; the shared state lets the destructor
    // tell it not to post to a canvas that is gone.
    struct LayoutJob {
        std::mutex mutex;
        bool cancelled = false;
    };
    std::shared_ptr<LayoutJob> layoutJob;
    // A big graph's rates-only snapshot made into a scene on a pool thread.
    std::shared_ptr<LayoutJob> ratesJob;

    bool animation = false;
    QTimer animationTimer;
    QElapsedTimer animationClock;
    QPixmap dot, errorDot;

    QImage legendFull, legendChip;  // cached at legendDpr, the full one with legendRouting
    qreal legendDpr = 0;
    bool legendRouting = false;
    std::optional<bool> legendFoldChoice;  // the user's click; until then, by room

    void refreshLegendImages()
    {
        const qreal dpr = q->devicePixelRatioF();
        const bool routing = scene && scene->routedNodeCount() > 0;
        if (legendFull.isNull() || legendDpr != dpr || legendRouting != routing) {
            legendFull = CanvasRenderer::legendImage(dpr, routing);
            legendChip = CanvasRenderer::legendChipImage(dpr);
            legendDpr = dpr;
            legendRouting = routing;
        }
    }

    // Folded by the user's choice, else when the full legend would fill most of the
    // canvas width (a small screen with every dock open) or an eighth of its height.
    bool legendCollapsed()
    {
        if (legendFoldChoice)
            return *legendFoldChoice;
        refreshLegendImages();
        const QSizeF full = legendFull.deviceIndependentSize();
        return full.width() > q->width() * 0.6 || full.height() * 8 > q->height();
    }

    const QImage &legendImage()
    {
        const bool folded = legendCollapsed();
        return folded ? legendChip : legendFull;
    }

    // Widget rectangle of the legend (or its chip), bottom left; null when hidden.
    QRectF legendRect()
    {
        if (!legendVisible)
            return {};
        const QSizeF size = legendImage().deviceIndependentSize();
        return QRectF(QPointF(12, q->height() - size.height() - 12), size);
    }

    // Services with routing rules (RouteEditor::routedServices()) and their tooltip lines.
    QHash<QString, QString> routedInput;
    RoutedServicesPtr routed;
    // Notes on edges by id (setEdgeNotes), and the same by index into the scene.
    QHash<QString, EdgeNote> notesInput;
    EdgeNotesPtr notes;

    SceneFilter sceneFilter() const
    {
        SceneFilter f;
        f.northSouth = filter.northSouth;
        f.eastWest = filter.eastWest;
        f.errorsOnly = filter.errorsOnly;
        f.ns = filter.ns.toStdString();
        return f;
    }

    RenderOptions currentOptions() const
    {
        RenderOptions o;
        o.view = view;
        o.size = q->size();
        o.devicePixelRatio = q->devicePixelRatioF();
        o.edgeLabel = labelKind(edgeLabel);
        o.semanticZoom = semanticZoom;
        o.edgeNotes = notes;
        return o;
    }

    void resolveNotes()
    {
        if (notesInput.isEmpty() || !scene) {
            notes.reset();
            return;
        }
        std::unordered_map<std::string, const EdgeNote *> byId;
        for (auto it = notesInput.cbegin(); it != notesInput.cend(); ++it)
            byId.emplace(it.key().toStdString(), &it.value());
        auto resolved = std::make_shared<EdgeNotes>();
        for (size_t k = 0; k < scene->edges().size(); ++k) {
            const auto it = byId.find(scene->edgeData(int(k)).id);
            if (it != byId.end())
                resolved->emplace(int(k), *it->second);
        }
        notes = std::move(resolved);
    }

    // Whether a snapshot is best made into a scene off the GUI thread: a big graph whose
    // nodes the layout already placed, so only its rates (or edges) can have changed.
    bool ratesOffThread() const
    {
        return snapshot && scene && snapshot->nodes.size() >= kBackgroundLayoutNodes
            && scene->layoutVersion() == layout.version();
    }

    void startRatesJob()
    {
        if (ratesJob)
            return;  // the running one starts again from the newest snapshot when it lands
        auto job = std::make_shared<LayoutJob>();
        ratesJob = job;
        GraphCanvas *canvas = q;
        QThreadPool::globalInstance()->start(
            [job, from = scene, snap = snapshot, f = sceneFilter(), pol = policy, r = routed, canvas] {
                // Pool thread.
                GraphScenePtr made = GraphScene::withRates(*from, snap, f, pol, r);
                std::lock_guard lock(job->mutex);
                if (job->cancelled)
                    return;
                QMetaObject::invokeMethod(
                    canvas, [canvas, job, from, made] { canvas->d->finishRatesJob(job, from, made); },
                    Qt::QueuedConnection);
            });
    }

    void finishRatesJob(const std::shared_ptr<LayoutJob> &job, const GraphScenePtr &from, const GraphScenePtr &made)
    {
        // GUI thread.
        if (job != ratesJob)
            return;
        ratesJob.reset();
        // Unless something rebuilt the scene meanwhile (then this one is stale):
        if (scene == from) {
            if (made)
                scene = made;  // same nodes and edges: the resolved notes and the selection hold
            else
                rebuildScene();  // other edges between the same nodes
        }
        if (scene && &scene->snapshot() != snapshot.get()) {
            if (ratesOffThread())
                startRatesJob();
            else
                rebuildScene();
        }
        retire(nullptr, from == scene ? nullptr : from);
        changed();
    }

    bool collapsed() const { return scene && CanvasRenderer::collapsedAt(*scene, view.scale, semanticZoom); }

    void rebuildScene()
    {
        const QRectF before = scene ? scene->visibleBounds() : QRectF();
        scene = GraphScene::build(snapshot, layout, sceneFilter(), policy, scene.get(), routed);
        resolveNotes();
        // The hit-test index is built off the GUI thread; clicks scan linearly until it lands.
        if (!scene->hasGrid() && !scene->nodes().empty())
            QThreadPool::globalInstance()->start([built = scene] { built->buildGrid(); });
        if (autoFit && scene->visibleBounds() != before)
            fit();
    }

    void requestRender()
    {
        // Hidden canvases do not render; showEvent asks again.
        if (!scene || !q->isVisible() || q->width() <= 0 || q->height() <= 0)
            return;
        const RenderOptions o = currentOptions();
        if (requestedJobId != 0 && requestedSceneKey == scene->id() && requestedOptions.sameOutput(o))
            return;
        CanvasRenderWorker::Job job;
        job.id = ++nextJobId;
        job.scene = scene;
        job.options = o;
        requestedJobId = job.id;
        requestedSceneKey = scene->id();
        requestedOptions = o;
        worker->request(std::move(job));
    }

    void applyResult(const CanvasRenderWorker::Result &r)
    {
        // GUI thread. Results come in order; anything older than what is shown is stale.
        if (r.id <= cacheJobId)
            return;
        cache = r.image;
        cacheOptions = r.options;
        cacheJobId = r.id;
        lastStats = r.stats;
        q->update();
    }

    void changed()
    {
        requestRender();
        q->update();
    }

    void startBackgroundLayout()
    {
        auto job = std::make_shared<LayoutJob>();
        layoutJob = job;
        GraphLayout copy = layout;  // carries the pins
        GraphSnapshotPtr snap = snapshot;
        GraphCanvas *canvas = q;
        QThreadPool::globalInstance()->start([job, copy = std::move(copy), snap, canvas]() mutable {
            // Pool thread.
            QElapsedTimer clock;
            clock.start();
            copy.update(*snap);
            qCDebug(lcCanvas) << "first layout of" << snap->nodes.size()
                              << "nodes in the background:" << clock.elapsed() << "ms";
            auto result = std::make_shared<GraphLayout>(std::move(copy));
            std::lock_guard lock(job->mutex);
            if (job->cancelled)
                return;
            QMetaObject::invokeMethod(
                canvas, [canvas, job, result] { canvas->d->finishBackgroundLayout(job, result); },
                Qt::QueuedConnection);
        });
    }

    void finishBackgroundLayout(const std::shared_ptr<LayoutJob> &job, const std::shared_ptr<GraphLayout> &result)
    {
        // GUI thread.
        if (job != layoutJob)
            return;
        layoutJob.reset();
        result->setPinned(layout.pinned());  // pins set while it ran win
        layout = std::move(*result);
        if (snapshot)
            layout.update(*snapshot);  // catch up with snapshots that arrived meanwhile
        rebuildScene();
        changed();
    }

    QRectF fitArea()
    {
        // Leave the band along the bottom to the legend, and a little more: at small
        // zooms labels keep a minimum font size and reach below a node's footprint.
        const QRectF legendBox = legendRect();
        const double bottom = legendBox.isNull() ? 24 : q->height() - legendBox.top() + kLabelOverhang;
        return QRectF(24, 24, std::max(1, q->width() - 48), std::max(1.0, q->height() - 24 - bottom));
    }

    void fit()
    {
        const QRectF b = scene ? scene->visibleBounds() : QRectF();
        fitRect(b);
        // Namespace cards reach past the nodes they stand for: fit the cards instead.
        QRectF area = fitArea();
        for (int round = 0; round < 3 && collapsed(); ++round) {
            QRectF cards;
            for (const QRectF &r : CanvasRenderer::groupBoxes(*scene, view))
                cards = r.isNull() ? cards : cards.united(r);
            const QRectF target = fitArea();
            if (cards.isNull() || target.contains(cards))
                break;
            area.adjust(std::max(0.0, target.left() - cards.left()), std::max(0.0, target.top() - cards.top()),
                -std::max(0.0, cards.right() - target.right()), -std::max(0.0, cards.bottom() - target.bottom()));
            if (area.width() < 40 || area.height() < 40)
                break;
            fitRect(b, kMinZoom, area);
        }
    }

    // Shows `b` (graph units) whole, at no less than `minScale`.
    void fitRect(const QRectF &b, double minScale = kMinZoom, QRectF area = QRectF())
    {
        if (area.isNull())
            area = fitArea();
        if (b.isNull() || b.isEmpty()) {
            view.scale = 1.0;
            view.offset = area.center();
            return;
        }
        const double s = std::clamp(
            std::min(area.width() / b.width(), area.height() / b.height()), minScale, std::max(minScale, kMaxFitZoom));
        view.scale = s;
        view.offset = area.center() - b.center() * s;
    }

    // The far view's namespace card under a widget point: an index into scene->groups(), or -1.
    int groupIndexAt(QPointF pos) const
    {
        if (!scene || !collapsed())
            return -1;
        const std::vector<QRectF> boxes = CanvasRenderer::groupBoxes(*scene, view);
        for (size_t g = 0; g < boxes.size(); ++g) {
            if (!boxes[g].isNull() && boxes[g].contains(pos))
                return int(g);
        }
        return -1;
    }

    void zoomAt(double factor, QPointF anchor)
    {
        const double s = std::clamp(view.scale * factor, kMinZoom, kMaxZoom);
        const QPointF g = view.unmap(anchor);
        view.scale = s;
        view.offset = anchor - g * s;
        autoFit = false;
        changed();
    }

    void panBy(QPointF delta)
    {
        view.offset += delta;
        autoFit = false;
        changed();
    }

    int nodeIndexAt(QPointF widgetPos) const
    {
        if (!scene || collapsed())
            return -1;
        return scene->nodeAt(view.unmap(widgetPos), 4.0 / view.scale);
    }

    int edgeIndexAt(QPointF widgetPos) const
    {
        if (!scene || collapsed())
            return -1;
        return scene->edgeAt(view.unmap(widgetPos), 5.0 / view.scale);
    }

    void paintOverlays(QPainter &p);
    void paintSelection(QPainter &p);
    void paintEdgeMark(QPainter &p, const SceneEdge &e, QColor c, double extra, bool dashed = false);
    // A label pill at an edge's middle (where a curve bends).
    QRectF edgePillRect(const SceneEdge &e, const QString &text, const QFontMetricsF &fm) const;
    void paintTraceOverlay(QPainter &p);
    void paintNodeNotes(QPainter &p);
    // Where a node's note is drawn: a pill centred above the node.
    QRectF nodeNoteRect(const SceneNode &n, const QString &text, const QFontMetricsF &fm, const QRectF &label) const;
    void paintDiffOverlay(QPainter &p);
    void paintAnimation(QPainter &p);
    void paintHud(QPainter &p);
    QString nodeToolTip(int node) const;
    QString edgeToolTip(int edge) const;
    void updateAnimationTimer()
    {
        if (animation && q->isVisible()) {
            if (!animationTimer.isActive())
                animationTimer.start();
        } else {
            animationTimer.stop();
        }
    }
};

GraphCanvas::GraphCanvas(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>(this))
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(200, 150);
    setCursor(Qt::OpenHandCursor);
    d->scene = GraphScene::build(nullptr, d->layout, d->sceneFilter(), d->policy);
    d->dot = dotPixmap(QColor(0xdc, 0xe6, 0xf0));
    d->errorDot = dotPixmap(QColor(0xff, 0x5c, 0x52));
    d->animationTimer.setInterval(kAnimationIntervalMs);
    d->animationTimer.setTimerType(Qt::PreciseTimer);
    connect(&d->animationTimer, &QTimer::timeout, this, [this] { update(); });
    d->animationClock.start();
    d->worker = std::make_unique<CanvasRenderWorker>([this](CanvasRenderWorker::Result &&r) {
        // Worker thread: hand the image over by value to the GUI thread.
        const CanvasRenderWorker::Result result = std::move(r);
        QMetaObject::invokeMethod(
            this, [this, result] { d->applyResult(result); }, Qt::QueuedConnection);
    });
}

GraphCanvas::~GraphCanvas()
{
    // Stop the workers first: they must not post to a half-destroyed canvas.
    for (const std::shared_ptr<Private::LayoutJob> &job : {d->layoutJob, d->ratesJob}) {
        if (job) {
            std::lock_guard lock(job->mutex);
            job->cancelled = true;
        }
    }
    d->worker.reset();
}

void GraphCanvas::setSnapshot(GraphSnapshotPtr snapshot)
{
    GraphSnapshotPtr oldSnapshot = std::move(d->snapshot);
    GraphScenePtr oldScene = d->scene;
    d->snapshot = std::move(snapshot);
    if (d->layoutJob) {
        // The first layout is still running; it catches up with this snapshot when it lands.
        retire(std::move(oldSnapshot), nullptr);
        return;
    }
    if (d->snapshot && d->layout.size() == 0 && d->snapshot->nodes.size() >= kBackgroundLayoutNodes) {
        d->startBackgroundLayout();
        retire(std::move(oldSnapshot), nullptr);
        update();
        return;
    }
    if (d->snapshot)
        d->layout.update(*d->snapshot);
    if (d->ratesOffThread()) {
        // Ten snapshots a second of a big graph: the GUI thread does not wait for them.
        retire(std::move(oldSnapshot), nullptr);
        d->startRatesJob();
        return;
    }
    d->rebuildScene();
    // Freeing a big snapshot (tens of thousands of strings) takes milliseconds: the
    // previous snapshot and scene are let go on a pool thread rather than here.
    retire(std::move(oldSnapshot), std::move(oldScene));
    if (!d->selectedEdge.isEmpty() && d->scene->findEdge(d->selectedEdge) < 0)
        d->selectedEdge.clear();
    d->changed();
}

GraphSnapshotPtr GraphCanvas::snapshot() const { return d->snapshot; }

void GraphCanvas::setEdgeLabel(EdgeLabel label)
{
    if (d->edgeLabel == label)
        return;
    d->edgeLabel = label;
    d->changed();
}

GraphCanvas::EdgeLabel GraphCanvas::edgeLabel() const { return d->edgeLabel; }

void GraphCanvas::setAnimationEnabled(bool on)
{
    d->animation = on;
    d->updateAnimationTimer();
    update();
}

bool GraphCanvas::animationEnabled() const { return d->animation; }

void GraphCanvas::setFilter(const Filter &filter)
{
    d->filter = filter;
    d->rebuildScene();
    d->changed();
}

GraphCanvas::Filter GraphCanvas::filter() const { return d->filter; }

QStringList GraphCanvas::namespaces() const
{
    std::set<std::string> names;
    if (d->snapshot) {
        for (const NodeSnapshot &n : d->snapshot->nodes) {
            if (!n.ns.empty())
                names.insert(n.ns);
        }
    }
    QStringList out;
    for (const std::string &n : names)
        out << QString::fromStdString(n);
    return out;
}

QString GraphCanvas::findNode(const QString &text)
{
    const QString needle = text.trimmed();
    if (needle.isEmpty() || !d->scene)
        return QString();
    const GraphScene &scene = *d->scene;
    int found = -1;
    for (size_t i = 0; i < scene.nodes().size(); ++i) {
        if (!scene.nodes()[i].visible)
            continue;
        const NodeSnapshot &n = scene.nodeData(int(i));
        const QString name = QString::fromStdString(n.name);
        // An exact name beats a partial match anywhere else.
        if (name.compare(needle, Qt::CaseInsensitive) == 0) {
            found = int(i);
            break;
        }
        if (found < 0
            && (name.contains(needle, Qt::CaseInsensitive)
                || QString::fromStdString(n.id).contains(needle, Qt::CaseInsensitive)))
            found = int(i);
    }
    if (found < 0)
        return QString();
    const QString id = scene.nodeId(found);
    d->selectedNode = id;
    d->selectedEdge.clear();
    d->foundNode = id;
    // Centre it, close enough to read its name.
    if (d->view.scale < canvas::kDetailScale)
        d->view.scale = 0.9;
    d->view.offset = QRectF(rect()).center() - scene.nodes()[size_t(found)].pos * d->view.scale;
    d->autoFit = false;
    d->changed();
    return id;
}

void GraphCanvas::fitToView()
{
    d->autoFit = true;
    d->fit();
    d->changed();
}

void GraphCanvas::zoomBy(double factor, QPointF anchorWidgetPos)
{
    if (factor > 0)
        d->zoomAt(factor, anchorWidgetPos);
}

double GraphCanvas::zoom() const { return d->view.scale; }

void GraphCanvas::selectNode(const QString &id)
{
    d->selectedNode = id;
    d->selectedEdge.clear();
    if (id != d->foundNode)
        d->foundNode.clear();
    update();
}

void GraphCanvas::selectEdge(const QString &id)
{
    d->selectedEdge = id;
    d->selectedNode.clear();
    d->foundNode.clear();
    update();
}

void GraphCanvas::clearSelection()
{
    d->selectedNode.clear();
    d->selectedEdge.clear();
    d->foundNode.clear();
    update();
}

QString GraphCanvas::selectedNode() const { return d->selectedNode; }

QString GraphCanvas::selectedEdge() const { return d->selectedEdge; }

QPointF GraphCanvas::nodeWidgetPosition(const QString &id) const
{
    const int i = d->scene ? d->scene->findNode(id) : -1;
    if (i < 0 || !d->scene->nodes()[size_t(i)].visible)
        return QPointF();
    return d->view.map(d->scene->nodes()[size_t(i)].pos);
}

QPointF GraphCanvas::edgeWidgetPosition(const QString &id) const
{
    const int k = d->scene ? d->scene->findEdge(id) : -1;
    if (k < 0 || !d->scene->edges()[size_t(k)].visible)
        return QPointF();
    return d->view.map(edgePointAt(d->scene->edges()[size_t(k)], 0.5));
}

bool GraphCanvas::isNodeVisible(const QString &id) const
{
    const int i = d->scene ? d->scene->findNode(id) : -1;
    return i >= 0 && d->scene->nodes()[size_t(i)].visible;
}

bool GraphCanvas::isEdgeVisible(const QString &id) const
{
    const int k = d->scene ? d->scene->findEdge(id) : -1;
    return k >= 0 && d->scene->edges()[size_t(k)].visible;
}

QHash<QString, QPointF> GraphCanvas::pinnedPositions() const
{
    QHash<QString, QPointF> out;
    for (const auto &[id, pos] : d->layout.pinned())
        out.insert(QString::fromStdString(id), pos);
    return out;
}

void GraphCanvas::setPinnedPositions(const QHash<QString, QPointF> &positions)
{
    std::unordered_map<std::string, QPointF> pins;
    for (auto it = positions.cbegin(); it != positions.cend(); ++it)
        pins.emplace(it.key().toStdString(), it.value());
    d->layout.setPinned(pins);
    d->rebuildScene();
    d->changed();
}

QImage GraphCanvas::renderImage(const QSize &size) const
{
    QImage blank(size.expandedTo(QSize(1, 1)), QImage::Format_RGB32);
    blank.fill(canvas::background());
    if (!d->scene || d->scene->visibleBounds().isNull())
        return blank;
    const QRectF b = d->scene->visibleBounds();
    const QImage legend = CanvasRenderer::legendImage(1.0, d->scene->routedNodeCount() > 0);
    const QRectF area(24, 24, std::max(1, size.width() - 48),
        std::max(1, size.height() - 48 - (d->legendVisible ? legend.height() + 12 : 0)));
    RenderOptions o;
    o.size = size;
    o.view.scale = std::min(area.width() / b.width(), area.height() / b.height());
    o.view.offset = area.center() - b.center() * o.view.scale;
    o.edgeLabel = labelKind(d->edgeLabel);
    o.semanticZoom = d->semanticZoom;
    QImage image = d->guiRenderer.render(*d->scene, o);
    if (d->legendVisible) {
        QPainter p(&image);
        p.drawImage(QPointF(12, size.height() - legend.height() - 12), legend);
    }
    return image;
}

namespace {

// What an edge's label says for `kind` ("" when it has nothing to say: no errors, no latency).
QString edgeLabelText(const EdgeSnapshot &e, EdgeLabelKind kind)
{
    switch (kind) {
    case EdgeLabelKind::Rps: return display::rps(e.stats.rps) + QStringLiteral(" rps");
    case EdgeLabelKind::ErrorRate: return e.stats.errorRate > 0 ? display::percent(e.stats.errorRate) : QString();
    case EdgeLabelKind::P95: return e.stats.p95Ms > 0 ? display::millis(e.stats.p95Ms) : QString();
    case EdgeLabelKind::None: break;
    }
    return {};
}

double overlapArea(const QRectF &a, const QRectF &b)
{
    const QRectF i = a.intersected(b);
    return i.isValid() ? i.width() * i.height() : 0.0;
}

// Every visible edge's label, for a vector export. The screen leaves labels out where
// an edge is too short or too many would be noise; a file the reader zooms into has
// room for all of them. Each pill goes to the first spot along its edge (middle
// first, then towards the ends, then beside the line) that covers no node, no node
// name and no other label; where none is free, to the spot that covers least.
void paintAllEdgeLabels(QPainter &p, const GraphScene &scene, const RenderOptions &o)
{
    std::vector<QRectF> taken;  // node shapes, node names, placed labels (device units)
    const QFontMetricsF nameMetrics(canvas::labelFont(std::max(11.5 * o.view.scale, canvas::kMinLabelPx), true));
    for (size_t i = 0; i < scene.nodes().size(); ++i) {
        const SceneNode &n = scene.nodes()[i];
        if (!n.visible)
            continue;
        const QPointF c = o.view.map(n.pos);
        const double r = canvas::kNodeRadius * o.view.scale * 1.15;
        taken.emplace_back(c.x() - r, c.y() - r, 2 * r, 2 * r);
        const double w = std::min(2 * canvas::kLabelHalfWidth * o.view.scale,
            nameMetrics.horizontalAdvance(QString::fromStdString(scene.nodeData(int(i)).name)) + 8);
        taken.emplace_back(c.x() - w / 2, c.y() + r, w, canvas::kLabelDepth * o.view.scale);
    }

    std::vector<int> order;
    for (size_t k = 0; k < scene.edges().size(); ++k) {
        if (scene.edges()[k].visible)
            order.push_back(int(k));
    }
    // The busiest edges choose first.
    std::stable_sort(order.begin(), order.end(),
        [&scene](int a, int b) { return scene.edgeData(a).stats.rps > scene.edgeData(b).stats.rps; });

    const QFont font = canvas::labelFont(std::clamp(10.0 * o.view.scale, 9.5, 13.0));
    const QFontMetricsF fm(font);
    p.setFont(font);
    p.setRenderHint(QPainter::Antialiasing, true);
    const QColor plain(0xc9, 0xd1, 0xd9);
    static constexpr double kAlong[] = {0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85};
    for (int k : order) {
        const QString label = edgeLabelText(scene.edgeData(k), o.edgeLabel);
        if (label.isEmpty())
            continue;
        const SceneEdge &e = scene.edges()[size_t(k)];
        const QPointF a = o.view.map(e.p1), b = o.view.map(e.p2);
        const QPointF d = b - a;
        const double length = std::hypot(d.x(), d.y());
        const QPointF normal = length > 0 ? QPointF(-d.y() / length, d.x() / length) : QPointF(0, 1);
        const double w = fm.horizontalAdvance(label) + 8;
        const double h = fm.height() + 2;
        QRectF best;
        double bestCost = -1;
        for (const double side : {0.0, 1.0, -1.0, 2.0, -2.0}) {
            for (const double t : kAlong) {
                const QPointF at = o.view.map(edgePointAt(e, t)) + normal * (side * (h + 2));
                const QRectF pill(at.x() - w / 2, at.y() - h / 2, w, h);
                double cost = 0;
                const QRectF room = pill.adjusted(-3, -3, 3, 3);  // a little air around each label
                for (const QRectF &r : taken)
                    cost += overlapArea(room, r);
                if (bestCost < 0 || cost < bestCost) {
                    best = pill;
                    bestCost = cost;
                }
                if (cost == 0)
                    break;
            }
            if (bestCost == 0)
                break;
        }
        taken.push_back(best);
        const Health health = e.health;
        p.setPen(QPen(QColor(0x30, 0x36, 0x3d), 1));
        p.setBrush(QColor(0x16, 0x1b, 0x22, 235));
        p.drawRoundedRect(best, 3, 3);
        p.setPen(health == Health::Failing || health == Health::Degraded ? canvas::healthColor(health) : plain);
        p.drawText(QPointF(best.left() + 4, best.top() + 1 + fm.ascent()), label);
    }
}

}  // namespace

bool GraphCanvas::renderSvg(const QString &fileName) const
{
    if (!d->scene)
        return false;
    QRectF b = d->scene->visibleBounds();
    if (b.isNull())
        b = QRectF(0, 0, 400, 300);
    const double margin = 40;
    const QSize size(int(std::ceil(b.width() + 2 * margin)), int(std::ceil(b.height() + 2 * margin)));
    QSvgGenerator generator;
    generator.setFileName(fileName);
    generator.setSize(size);
    generator.setViewBox(QRect(QPoint(0, 0), size));
    generator.setTitle(QStringLiteral("meshscope service graph"));
    generator.setDescription(QStringLiteral("Exported by meshscope"));
    RenderOptions o;
    o.size = size;
    o.view.scale = 1.0;
    o.view.offset = QPointF(margin, margin) - b.topLeft();
    o.semanticZoom = false;  // a vector export has every detail; the reader zooms
    o.vector = true;
    QPainter p;
    if (!p.begin(&generator))
        return false;
    // The renderer draws the graph; the edge labels, all of them, are placed here.
    d->guiRenderer.paint(p, *d->scene, o);
    o.edgeLabel = labelKind(d->edgeLabel);
    paintAllEdgeLabels(p, *d->scene, o);
    if (!p.end())
        return false;
    return QFile::exists(fileName);
}

// Additions beyond the interface the main window uses.

bool GraphCanvas::isLayoutPending() const { return d->layoutJob != nullptr; }

bool GraphCanvas::isRenderUpToDate() const
{
    if (d->layoutJob)
        return false;
    if (!d->scene)
        return true;
    return d->cacheJobId != 0 && d->cacheJobId == d->requestedJobId && d->requestedSceneKey == d->scene->id()
        && d->requestedOptions.sameOutput(d->currentOptions());
}

double GraphCanvas::lastRenderMs() const { return d->lastStats.ms; }

void GraphCanvas::relayoutAndUnpinAll()
{
    // A first layout still on its way takes the (now empty) pins when it lands.
    const bool hadPins = !d->layout.pinned().empty();
    d->layout.setPinned({});
    relayout();
    if (hadPins)
        Q_EMIT pinnedPositionsChanged();
}

void GraphCanvas::relayout()
{
    if (d->layoutJob)
        return;  // the first layout is on its way
    if (d->snapshot) {
        QElapsedTimer clock;
        clock.start();
        d->layout.relayout(*d->snapshot);
        qCDebug(lcCanvas) << "re-layout of" << d->snapshot->nodes.size() << "nodes:" << clock.elapsed() << "ms";
    }
    d->rebuildScene();
    d->changed();
}

void GraphCanvas::setSemanticZoomEnabled(bool on)
{
    d->semanticZoom = on;
    d->changed();
}

bool GraphCanvas::isCollapsed() const { return d->collapsed(); }

void GraphCanvas::setLegendVisible(bool on)
{
    d->legendVisible = on;
    if (d->autoFit)
        d->fit();
    d->changed();
}

void GraphCanvas::setLegendCollapsed(bool collapsed)
{
    d->legendFoldChoice = collapsed;
    if (d->autoFit)
        d->fit();
    d->changed();
}

bool GraphCanvas::isLegendCollapsed() const { return d->legendCollapsed(); }

QRectF GraphCanvas::legendRect() const { return d->legendRect(); }

// The node labels a render at the current view draws.
static std::vector<CanvasRenderer::NodeLabel> labelsAtView(const GraphScene *scene, const RenderOptions &o)
{
    if (!scene)
        return {};
    std::vector<int> nodes;
    CanvasRenderer::culledNodes(*scene, o, nodes);
    return CanvasRenderer::layoutNodeLabels(*scene, o, nodes);
}

QHash<QString, QRectF> GraphCanvas::nodeLabelRects() const
{
    QHash<QString, QRectF> out;
    for (const CanvasRenderer::NodeLabel &l : labelsAtView(d->scene.get(), d->currentOptions()))
        out.insert(d->scene->nodeId(l.node), l.pill);
    return out;
}

QHash<QString, QString> GraphCanvas::nodeLabelTexts() const
{
    QHash<QString, QString> out;
    for (const CanvasRenderer::NodeLabel &l : labelsAtView(d->scene.get(), d->currentOptions()))
        out.insert(d->scene->nodeId(l.node), l.name);
    return out;
}

// The edge labels a render at the current view draws; none in the far view.
static std::vector<CanvasRenderer::EdgeLabel> edgeLabelsAtView(const GraphScene *scene, const RenderOptions &o)
{
    if (!scene || CanvasRenderer::collapsedAt(*scene, o.view.scale, o.semanticZoom))
        return {};
    std::vector<int> nodes, edges;
    CanvasRenderer::culledNodes(*scene, o, nodes);
    CanvasRenderer::culledEdges(*scene, o, edges);
    const std::vector<CanvasRenderer::NodeLabel> nodeLabels = o.view.scale >= canvas::kLabelScale
        ? CanvasRenderer::layoutNodeLabels(*scene, o, nodes)
        : std::vector<CanvasRenderer::NodeLabel>();
    return CanvasRenderer::layoutEdgeLabels(*scene, o, edges, nodes, nodeLabels);
}

QHash<QString, QRectF> GraphCanvas::edgeLabelRects() const
{
    QHash<QString, QRectF> out;
    for (const CanvasRenderer::EdgeLabel &l : edgeLabelsAtView(d->scene.get(), d->currentOptions()))
        out.insert(d->scene->edgeId(l.edge), l.pill);
    return out;
}

QHash<QString, QString> GraphCanvas::edgeLabelTexts() const
{
    QHash<QString, QString> out;
    for (const CanvasRenderer::EdgeLabel &l : edgeLabelsAtView(d->scene.get(), d->currentOptions()))
        out.insert(d->scene->edgeId(l.edge), l.text);
    return out;
}

QHash<QString, QRectF> GraphCanvas::namespaceBoxRects() const
{
    QHash<QString, QRectF> out;
    if (!d->scene || !d->collapsed())
        return out;
    const std::vector<QRectF> boxes = CanvasRenderer::groupBoxes(*d->scene, d->view);
    for (size_t g = 0; g < boxes.size(); ++g) {
        if (!boxes[g].isNull())
            out.insert(d->scene->groups()[g].name, boxes[g]);
    }
    return out;
}

QList<GraphCanvas::NamespaceEdgeLabel> GraphCanvas::namespaceEdgeLabels() const
{
    QList<NamespaceEdgeLabel> out;
    if (!d->scene || !d->collapsed())
        return out;
    const std::vector<QRectF> boxes = CanvasRenderer::groupBoxes(*d->scene, d->view);
    const auto &groups = d->scene->groups();
    for (const CanvasRenderer::GroupEdgeLabel &l :
        CanvasRenderer::layoutGroupEdgeLabels(*d->scene, boxes, QRectF(rect()))) {
        const SceneGroupEdge &ge = d->scene->groupEdges()[size_t(l.groupEdge)];
        out.append({groups[size_t(ge.from)].name, groups[size_t(ge.to)].name, l.text, l.pill});
    }
    return out;
}

bool GraphCanvas::zoomToNamespace(const QString &name)
{
    if (!d->scene)
        return false;
    for (const SceneGroup &g : d->scene->groups()) {
        if (g.name == name && !g.bounds.isNull()) {
            // Close enough to see its services, never so far out that it folds again.
            d->fitRect(g.bounds, canvas::kCollapseScale * 1.1);
            d->autoFit = false;
            d->changed();
            return true;
        }
    }
    return false;
}

QString GraphCanvas::nodeAt(const QPoint &widgetPos) const
{
    const int i = d->nodeIndexAt(widgetPos);
    return i < 0 ? QString() : d->scene->nodeId(i);
}

QString GraphCanvas::edgeAt(const QPoint &widgetPos) const
{
    const int k = d->edgeIndexAt(widgetPos);
    return k < 0 ? QString() : d->scene->edgeId(k);
}

QRectF GraphCanvas::edgeLockRect(const QString &id) const
{
    if (!d->scene || d->collapsed())
        return QRectF();
    const bool labelled = d->edgeLabel != EdgeLabel::None && d->view.scale >= canvas::kEdgeLabelScale;
    return CanvasRenderer::lockRect(*d->scene, d->scene->findEdge(id), d->view, labelled);
}

QTransform GraphCanvas::viewTransform() const
{
    return QTransform(d->view.scale, 0, 0, d->view.scale, d->view.offset.x(), d->view.offset.y());
}

void GraphCanvas::setRoutedServices(const QHash<QString, QString> &services)
{
    if (services == d->routedInput)
        return;
    d->routedInput = services;
    if (services.isEmpty()) {
        d->routed.reset();
    } else {
        std::vector<std::pair<std::string, std::string>> list;
        list.reserve(size_t(services.size()));
        for (auto it = services.cbegin(); it != services.cend(); ++it)
            list.emplace_back(it.key().toStdString(), it.value().toStdString());
        // Sorted, so a bare name shared by two namespaces always describes the same one.
        std::sort(list.begin(), list.end());
        d->routed = std::make_shared<const RoutedServices>(list);
    }
    if (d->layoutJob)
        return;  // the first layout's scene picks the marks up when it lands
    d->rebuildScene();
    d->changed();
}

QHash<QString, QString> GraphCanvas::routedServices() const { return d->routedInput; }

void GraphCanvas::setTraceOverlay(const std::vector<TraceHopMark> &hops, const QStringList &nodes)
{
    d->traceHops = hops;
    d->traceNodes = nodes;
    update();
}

QStringList GraphCanvas::traceOverlayEdges() const
{
    QStringList out;
    for (const TraceHopMark &h : d->traceHops) {
        if (hasEdge(h.edgeId) && !out.contains(h.edgeId))
            out << h.edgeId;
    }
    return out;
}

QStringList GraphCanvas::traceOverlayNodes() const
{
    QStringList out;
    for (const QString &id : std::as_const(d->traceNodes)) {
        if (hasNode(id))
            out << id;
    }
    return out;
}

void GraphCanvas::setDiffOverlay(const std::vector<DiffMark> &marks)
{
    d->diffMarks = marks;
    update();
}

void GraphCanvas::setNodeNotes(const QHash<QString, NodeNote> &notes)
{
    if (notes == d->nodeNotes)
        return;
    d->nodeNotes = notes;
    update();
}

QHash<QString, NodeNote> GraphCanvas::nodeNotes() const { return d->nodeNotes; }

QHash<QString, QRectF> GraphCanvas::nodeNoteRects() const
{
    QHash<QString, QRectF> out;
    if (!d->scene || d->collapsed())
        return out;
    const QFontMetricsF fm(canvas::labelFont(10, true));
    const QHash<QString, QRectF> labels = nodeLabelRects();
    for (auto it = d->nodeNotes.cbegin(); it != d->nodeNotes.cend(); ++it) {
        const int i = d->scene->findNode(it.key());
        if (i >= 0 && d->scene->nodes()[size_t(i)].visible)
            out.insert(it.key(), d->nodeNoteRect(d->scene->nodes()[size_t(i)], it->text, fm, labels.value(it.key())));
    }
    return out;
}

QStringList GraphCanvas::diffOverlayIds(DiffMark::Kind kind) const
{
    QStringList out;
    for (const DiffMark &m : d->diffMarks) {
        if (m.kind == kind && (m.edge ? hasEdge(m.id) : hasNode(m.id)))
            out << m.id;
    }
    out.sort();
    return out;
}

QHash<QString, QPair<QRectF, QString>> GraphCanvas::diffLabels() const
{
    QHash<QString, QPair<QRectF, QString>> out;
    if (!d->scene || d->collapsed() || d->view.scale < canvas::kEdgeLabelScale)
        return out;
    const QFontMetricsF fm(canvas::labelFont(10, true));
    for (const DiffMark &m : d->diffMarks) {
        const int k = m.edge && !m.label.isEmpty() ? d->scene->findEdge(m.id) : -1;
        if (k >= 0 && d->scene->edges()[size_t(k)].visible)
            out.insert(m.id, {d->edgePillRect(d->scene->edges()[size_t(k)], m.label, fm), m.label});
    }
    return out;
}

bool GraphCanvas::hasEdge(const QString &id) const { return d->scene && d->scene->findEdge(id) >= 0; }
bool GraphCanvas::hasNode(const QString &id) const { return d->scene && d->scene->findNode(id) >= 0; }

void GraphCanvas::setEdgeNotes(const QHash<QString, EdgeNote> &notes)
{
    const bool same = notes.size() == d->notesInput.size()
        && std::all_of(notes.keyValueBegin(), notes.keyValueEnd(), [this](const auto &kv) {
               const auto it = d->notesInput.constFind(kv.first);
               return it != d->notesInput.constEnd() && it->text == kv.second.text
                   && it->shortText == kv.second.shortText && it->warn == kv.second.warn;
           });
    if (same)
        return;
    d->notesInput = notes;
    d->resolveNotes();
    d->changed();
}

QHash<QString, EdgeNote> GraphCanvas::edgeNotes() const { return d->notesInput; }

bool GraphCanvas::isNodeRouted(const QString &id) const
{
    const int i = d->scene ? d->scene->findNode(id) : -1;
    return i >= 0 && d->scene->nodes()[size_t(i)].routed;
}

QStringList GraphCanvas::routedNodes() const
{
    QStringList out;
    if (d->scene) {
        for (size_t i = 0; i < d->scene->nodes().size(); ++i) {
            if (d->scene->nodes()[i].routed)
                out << d->scene->nodeId(int(i));
        }
    }
    out.sort();
    return out;
}

QRectF GraphCanvas::routingBadgeRect(const QString &id) const
{
    const int i = d->scene ? d->scene->findNode(id) : -1;
    if (i < 0 || !d->scene->nodes()[size_t(i)].visible || !d->scene->nodes()[size_t(i)].routed || d->collapsed()
        || d->view.scale < canvas::kFarScale)
        return QRectF();
    return canvas::routingBadgeRect(d->view.map(d->scene->nodes()[size_t(i)].pos), canvas::kNodeRadius * d->view.scale);
}

QString GraphCanvas::nodeToolTipText(const QString &id) const
{
    const int i = d->scene ? d->scene->findNode(id) : -1;
    return i < 0 ? QString() : d->nodeToolTip(i);
}

// Painting.

void GraphCanvas::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QRectF area = rect();
    if (!d->cache.isNull() && isVisible()) {
        const QTransform delta = d->view.deltaFrom(d->cacheOptions.view);
        const bool exact = delta.isIdentity() && d->cacheOptions.size == size();
        if (!exact) {
            // The last image at a newer view: paint what it does not cover, then reuse it.
            CanvasRenderer::paintBackground(p, d->view, area);
            p.setTransform(delta);
        }
        p.drawImage(QPointF(0, 0), d->cache);
        p.resetTransform();
    } else if (d->scene && !isVisible()) {
        // grab() of a hidden canvas: nothing will come from the worker, paint here.
        RenderOptions o = d->currentOptions();
        d->guiRenderer.paint(p, *d->scene, o);
    } else {
        CanvasRenderer::paintBackground(p, d->view, area);
    }
    d->paintOverlays(p);
}

void GraphCanvas::Private::paintOverlays(QPainter &p)
{
    if (scene && !collapsed()) {
        paintDiffOverlay(p);
        paintSelection(p);
        paintTraceOverlay(p);
        paintNodeNotes(p);
        if (animation)
            paintAnimation(p);
    }
    if (layoutJob) {
        p.setFont(canvas::labelFont(15, true));
        p.setPen(canvas::textMuted());
        p.drawText(q->rect(), Qt::AlignCenter,
            QStringLiteral("Laying out ") + display::count(snapshot ? snapshot->nodes.size() : 0)
                + QStringLiteral(" nodes\u2026"));
    } else if (!scene || scene->nodes().empty()) {
        p.setRenderHint(QPainter::TextAntialiasing, true);
        p.setFont(canvas::labelFont(15, true));
        p.setPen(canvas::textMuted());
        QRectF r = q->rect();
        r.setHeight(r.height() - 20);
        p.drawText(r, Qt::AlignCenter, QStringLiteral("Waiting for traffic"));
        p.setFont(canvas::labelFont(11.5));
        p.drawText(
            r.translated(0, 26), Qt::AlignCenter, QStringLiteral("Services appear here as soon as telemetry arrives"));
    } else if (scene->visibleNodeCount() == 0) {
        p.setFont(canvas::labelFont(13, true));
        p.setPen(canvas::textMuted());
        p.drawText(q->rect(), Qt::AlignCenter, QStringLiteral("Nothing matches the current filter"));
    }
    if (legendVisible) {
        const QRectF box = legendRect();
        p.drawImage(box.topLeft(), legendImage());
    }
    paintHud(p);
}

// An edge drawn over the picture in colour c, `extra` pixels wider than itself.
void GraphCanvas::Private::paintEdgeMark(QPainter &p, const SceneEdge &e, QColor c, double extra, bool dashed)
{
    const double s = view.scale;
    const QPointF a = view.map(e.p1), b = view.map(e.p2);
    const QPointF dlt = b - (e.curved ? view.map(e.ctrl) : a);
    const double len = std::sqrt(QPointF::dotProduct(dlt, dlt));
    if (len < 1)
        return;
    const QPointF u = dlt / len;  // direction at the tip
    const double al = std::clamp((7.0 + 1.1 * e.width) * s, 6.0, 20.0);
    QPen pen(c, std::max(1.5, e.width * s) + extra,
        dashed || e.direction == Direction::NorthSouth ? Qt::DashLine : Qt::SolidLine, Qt::FlatCap);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    if (e.curved) {
        QPainterPath path(a);
        path.quadTo(view.map(e.ctrl), b - u * (al * 0.8));
        p.drawPath(path);
    } else {
        p.drawLine(a, b - u * (al * 0.8));
    }
    const QPointF n(-u.y(), u.x());
    QPolygonF head;
    head << b << b - u * al + n * (al * 0.46) << b - u * al - n * (al * 0.46);
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawPolygon(head);
}

void GraphCanvas::Private::paintTraceOverlay(QPainter &p)
{
    if (traceHops.empty() && traceNodes.isEmpty())
        return;
    p.setRenderHint(QPainter::Antialiasing, true);
    const QColor critical(0xff, 0xa6, 0x57), other(0x79, 0xc0, 0xff), failed(0xff, 0x7b, 0x72);
    for (const QString &id : std::as_const(traceNodes)) {
        const int i = scene->findNode(id);
        if (i < 0 || !scene->nodes()[size_t(i)].visible)
            continue;
        const double r = std::max(6.0, canvas::kNodeRadius * view.scale * 1.6);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(other, 2));
        p.drawEllipse(view.map(scene->nodes()[size_t(i)].pos), r, r);
    }
    // Quiet hops first, so the critical path's lie on top.
    for (int pass = 0; pass < 2; ++pass) {
        for (const GraphCanvas::TraceHopMark &h : traceHops) {
            if (h.critical != (pass == 1))
                continue;
            const int k = scene->findEdge(h.edgeId);
            if (k >= 0 && scene->edges()[size_t(k)].visible)
                paintEdgeMark(p, scene->edges()[size_t(k)],
                    h.error          ? failed
                        : h.critical ? critical
                                     : other,
                    h.critical ? 3.0 : 1.0);
        }
    }
    // Labels where the edge bends (or its middle), one per edge: a call made twice
    // lists both numbers.
    QHash<int, QStringList> labels;
    QHash<int, bool> labelCritical;
    for (const GraphCanvas::TraceHopMark &h : traceHops) {
        const int k = scene->findEdge(h.edgeId);
        if (k < 0 || !scene->edges()[size_t(k)].visible)
            continue;
        labels[k] << h.label;
        labelCritical[k] = labelCritical.value(k) || h.critical;
    }
    p.setFont(canvas::labelFont(10.5, true));
    const QFontMetricsF fm(p.font());
    for (auto it = labels.cbegin(); it != labels.cend(); ++it) {
        const SceneEdge &e = scene->edges()[size_t(it.key())];
        QString text = it.value().mid(0, 3).join(QStringLiteral("  "));
        if (it.value().size() > 3)
            text += QStringLiteral("  +%1").arg(it.value().size() - 3);
        const QRectF box = edgePillRect(e, text, fm);
        p.setPen(QPen(labelCritical.value(it.key()) ? critical : other, 1));
        p.setBrush(QColor(0x0d, 0x11, 0x17, 235));
        p.drawRoundedRect(box, 4, 4);
        p.setPen(labelCritical.value(it.key()) ? critical : other);
        p.drawText(box, Qt::AlignCenter, text);
    }
}

QRectF GraphCanvas::Private::edgePillRect(const SceneEdge &e, const QString &text, const QFontMetricsF &fm) const
{
    const QPointF mid = e.curved ? view.map((e.p1 + e.p2) / 4 + e.ctrl / 2) : view.map((e.p1 + e.p2) / 2);
    const double w = fm.horizontalAdvance(text);
    return QRectF(mid.x() - w / 2 - 5, mid.y() - fm.height() / 2 - 2, w + 10, fm.height() + 4);
}

void GraphCanvas::Private::paintDiffOverlay(QPainter &p)
{
    if (diffMarks.empty())
        return;
    using Kind = GraphCanvas::DiffMark::Kind;
    p.setRenderHint(QPainter::Antialiasing, true);
    auto colourOf = [](Kind k) {
        return k == Kind::Added  ? canvas::diffAdded()
            : k == Kind::Removed ? canvas::diffRemoved()
                                 : canvas::diffChanged();
    };
    // Edges, then rings round the nodes, then the labels on top of both.
    for (const GraphCanvas::DiffMark &m : diffMarks) {
        if (!m.edge)
            continue;
        const int k = scene->findEdge(m.id);
        if (k >= 0 && scene->edges()[size_t(k)].visible)
            paintEdgeMark(p, scene->edges()[size_t(k)], colourOf(m.kind), m.kind == Kind::Changed ? 1.0 : 0.5,
                m.kind == Kind::Removed);
    }
    for (const GraphCanvas::DiffMark &m : diffMarks) {
        if (m.edge)
            continue;
        const int i = scene->findNode(m.id);
        if (i < 0 || !scene->nodes()[size_t(i)].visible)
            continue;
        const double r = std::max(6.0, canvas::kNodeRadius * view.scale * 1.3);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(colourOf(m.kind), 2.5, m.kind == Kind::Removed ? Qt::DashLine : Qt::SolidLine));
        p.drawEllipse(view.map(scene->nodes()[size_t(i)].pos), r, r);
    }
    if (view.scale < canvas::kEdgeLabelScale)
        return;  // too far out for words: the colours say it
    p.setFont(canvas::labelFont(10, true));
    const QFontMetricsF fm(p.font());
    for (const GraphCanvas::DiffMark &m : diffMarks) {
        if (!m.edge || m.label.isEmpty())
            continue;
        const int k = scene->findEdge(m.id);
        if (k < 0 || !scene->edges()[size_t(k)].visible)
            continue;
        const QRectF box = edgePillRect(scene->edges()[size_t(k)], m.label, fm);
        p.setPen(QPen(colourOf(m.kind), 1));
        p.setBrush(QColor(0x0d, 0x11, 0x17, 235));
        p.drawRoundedRect(box, 4, 4);
        p.setPen(colourOf(m.kind));
        p.drawText(box, Qt::AlignCenter, m.label);
    }
}

QRectF GraphCanvas::Private::nodeNoteRect(
    const SceneNode &n, const QString &text, const QFontMetricsF &fm, const QRectF &label) const
{
    // Under the node's name (edges into a node mostly come from above, where their
    // labels are), or under the node where no name is drawn.
    const QPointF c = view.map(n.pos);
    const double r = std::max(6.0, canvas::kNodeRadius * view.scale * 1.12);
    const QSizeF size(fm.horizontalAdvance(text) + 12, fm.height() + 4);
    const double top = label.isValid() ? label.bottom() + 2 : c.y() + r + 4;
    return QRectF(QPointF(c.x() - size.width() / 2, top), size);
}

void GraphCanvas::Private::paintNodeNotes(QPainter &p)
{
    if (nodeNotes.isEmpty())
        return;  // few and telling: drawn at any zoom short of the namespace cards
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setFont(canvas::labelFont(10, true));
    const QFontMetricsF fm(p.font());
    const QHash<QString, QRectF> labels = q->nodeLabelRects();
    for (auto it = nodeNotes.cbegin(); it != nodeNotes.cend(); ++it) {
        const int i = scene->findNode(it.key());
        if (i < 0 || !scene->nodes()[size_t(i)].visible)
            continue;
        const QColor tone = it->tone == NodeNote::Tone::Good ? canvas::healthColor(Health::Healthy)
            : it->tone == NodeNote::Tone::Bad                ? canvas::healthColor(Health::Failing)
                                                             : canvas::routingBadge();
        const QRectF box = nodeNoteRect(scene->nodes()[size_t(i)], it->text, fm, labels.value(it.key()));
        p.setPen(QPen(tone, 1));
        p.setBrush(QColor(0x0d, 0x11, 0x17, 235));
        p.drawRoundedRect(box, 4, 4);
        p.setPen(tone);
        p.drawText(box, Qt::AlignCenter, it->text);
    }
}

void GraphCanvas::Private::paintSelection(QPainter &p)
{
    const double s = view.scale;
    p.setRenderHint(QPainter::Antialiasing, true);
    const QColor sel = canvas::selection();
    auto drawEdge = [&](const SceneEdge &e, QColor c, double extra) { paintEdgeMark(p, e, c, extra); };

    const int node = selectedNode.isEmpty() ? -1 : scene->findNode(selectedNode);
    if (node >= 0 && scene->nodes()[size_t(node)].visible) {
        // The selected node's traffic, in the accent colour.
        QColor c = sel;
        c.setAlpha(150);
        int drawn = 0;
        for (const int *k = scene->incidentBegin(node); k != scene->incidentEnd(node) && drawn < 2000; ++k, ++drawn) {
            const SceneEdge &e = scene->edges()[size_t(*k)];
            if (e.visible)
                drawEdge(e, c, 0.5);
        }
    }
    const int edge = selectedEdge.isEmpty() ? -1 : scene->findEdge(selectedEdge);
    if (edge >= 0 && scene->edges()[size_t(edge)].visible)
        drawEdge(scene->edges()[size_t(edge)], sel, 1.5);

    auto ring = [&](int i, QColor c, double factor, bool dashed) {
        const SceneNode &n = scene->nodes()[size_t(i)];
        if (!n.visible)
            return;
        const QPointF centre = view.map(n.pos);
        const double r = std::max(5.0, canvas::kNodeRadius * s * factor);
        QColor glow = c;
        glow.setAlpha(60);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(glow, 6));
        p.drawEllipse(centre, r, r);
        p.setPen(QPen(c, 2, dashed ? Qt::DashLine : Qt::SolidLine));
        p.drawEllipse(centre, r, r);
    };
    if (node >= 0)
        ring(node, sel, 1.42, false);
    const int found = foundNode.isEmpty() ? -1 : scene->findNode(foundNode);
    if (found >= 0)
        ring(found, canvas::findHighlight(), 1.85, true);
}

void GraphCanvas::Private::paintAnimation(QPainter &p)
{
    const double s = view.scale;
    if (s < 0.2)
        return;
    const double t = double(animationClock.elapsed()) / 1000.0;
    const QRectF g = view.unmap(QRectF(q->rect()));
    std::vector<QPainter::PixmapFragment> normal, errors;
    const double dotScale = std::clamp(s, 0.55, 1.3);
    int edgesAnimated = 0;
    const std::vector<SceneEdge> &edges = scene->edges();
    for (size_t k = 0; k < edges.size() && edgesAnimated < kMaxAnimatedEdges; ++k) {
        const SceneEdge &e = edges[k];
        if (!e.visible || e.health == Health::NoTraffic)
            continue;
        if (!edgeBounds(e).intersects(g.adjusted(-1, -1, 1, 1)))
            continue;
        const TrafficStats &st = scene->edgeData(int(k)).stats;
        const QPointF a = view.map(e.p1), b = view.map(e.p2);
        const QPointF dlt = b - a;
        const double len = std::sqrt(QPointF::dotProduct(dlt, dlt));
        if (len < 30)
            continue;
        ++edgesAnimated;
        // Busier edges carry more dots, faster; a share of them red for the error rate.
        const double lg = std::log10(1.0 + st.rps);
        const int count = std::clamp(int(1 + lg * 1.6 * std::min(1.0, len / 300)), 1, 8);
        const double period = std::clamp(2.8 - 0.45 * lg, 0.7, 2.8) * std::max(0.6, len / 350);
        const uint32_t h = mix(uint32_t(k) * 2654435761U);
        const double phase = (h % 1000) / 1000.0;
        // Red dots in proportion to the error rate, made visible from 1 % on; a dot
        // keeps its colour for a whole trip so the picture does not flicker.
        const double redShare = st.errorRate >= 0.01 ? std::clamp(st.errorRate * 3, 1.0 / count, 1.0) : st.errorRate;
        for (int j = 0; j < count; ++j) {
            const double trip = t / period + double(j) / count + phase;
            const double f = trip - std::floor(trip);
            const QPointF at = e.curved ? view.map(edgePointAt(e, f)) : a + dlt * f;
            const uint32_t dotHash = mix(h + uint32_t(j) * 977U + uint32_t(std::floor(trip)) * 7919U);
            const bool red
                = st.errorRate > 0 && (j == 0 && st.errorRate >= 0.01 ? true : (dotHash % 10000) < redShare * 10000);
            (red ? errors : normal)
                .push_back(QPainter::PixmapFragment::create(at, QRectF(0, 0, 12, 12), dotScale, dotScale));
        }
    }
    if (!normal.empty())
        p.drawPixmapFragments(normal.data(), int(normal.size()), dot);
    if (!errors.empty())
        p.drawPixmapFragments(errors.data(), int(errors.size()), errorDot);
}

void GraphCanvas::Private::paintHud(QPainter &p)
{
    if (!scene || scene->nodes().empty())
        return;
    QString text = QString::number(scene->visibleNodeCount()) + QStringLiteral(" nodes \u00b7 ")
        + QString::number(scene->visibleEdgeCount()) + QStringLiteral(" edges \u00b7 ")
        + QString::number(int(std::lround(view.scale * 100))) + QStringLiteral(" %");
    if (collapsed())
        text = QStringLiteral("namespaces \u2014 zoom in for services \u00b7 ") + text;
    const QFont font = canvas::labelFont(11);
    const QFontMetricsF fm(font);
    p.setFont(font);
    p.setPen(canvas::textMuted());
    const double x = q->width() - fm.horizontalAdvance(text) - 14;
    double y = q->height() - 14 - fm.descent();
    // In a narrow canvas the legend reaches this corner: the counts go above it.
    if (const QRectF box = legendRect(); !box.isNull() && x < box.right() + 8)
        y = box.top() - 6 - fm.descent();
    p.drawText(QPointF(x, y), text);
}

QString GraphCanvas::Private::nodeToolTip(int i) const
{
    const NodeSnapshot &n = scene->nodeData(i);
    const Health h = scene->nodes()[size_t(i)].health;
    QString where;
    if (!n.ns.empty())
        where = QString::fromStdString(n.ns);
    if (!n.version.empty())
        where += (where.isEmpty() ? QString() : QStringLiteral(" \u00b7 ")) + QString::fromStdString(n.version);
    QString tip = QStringLiteral("<b>") + QString::fromStdString(n.name).toHtmlEscaped() + QStringLiteral("</b>");
    if (!where.isEmpty())
        tip += QStringLiteral("<br>") + where.toHtmlEscaped();
    tip += QStringLiteral("<br>") + canvas::kindTitle(n.kind) + QStringLiteral(" \u00b7 ") + display::healthText(h);
    tip += QStringLiteral("<br>") + display::rps(n.stats.rps) + QStringLiteral(" rps \u00b7 ")
        + display::percent(n.stats.errorRate) + QStringLiteral(" errors \u00b7 p95 ") + display::millis(n.stats.p95Ms);
    if (scene->nodes()[size_t(i)].routed && scene->routedServices()) {
        const std::string *how = scene->routedServices()->match(n);
        tip += QStringLiteral("<br><span style='color:%1'>\u2442 has routing rules</span>")
                   .arg(canvas::routingBadge().name());
        if (how && !how->empty())
            tip += QStringLiteral(": ") + QString::fromStdString(*how).toHtmlEscaped();
    }
    return tip;
}

QString GraphCanvas::Private::edgeToolTip(int k) const
{
    const EdgeSnapshot &e = scene->edgeData(k);
    const SceneEdge &se = scene->edges()[size_t(k)];
    QString tip = QStringLiteral("<b>") + QString::fromStdString(scene->nodeData(se.source).name).toHtmlEscaped()
        + QStringLiteral(" \u2192 ") + QString::fromStdString(scene->nodeData(se.target).name).toHtmlEscaped()
        + QStringLiteral("</b><br>")
        + (e.direction == Direction::NorthSouth ? QStringLiteral("north-south") : QStringLiteral("east-west"))
        + QStringLiteral(" \u00b7 ") + QString::fromLatin1(protocolName(e.protocol));
    if (e.mtls >= 0)
        tip += e.mtls ? QStringLiteral(" \u00b7 mTLS") : QStringLiteral(" \u00b7 plaintext");
    tip += QStringLiteral("<br>") + display::rps(e.stats.rps) + QStringLiteral(" rps \u00b7 ")
        + display::percent(e.stats.errorRate) + QStringLiteral(" errors \u00b7 p95 ") + display::millis(e.stats.p95Ms);
    return tip;
}

// Events.

void GraphCanvas::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    if (d->autoFit)
        d->fit();
    d->requestRender();
}

void GraphCanvas::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    d->requestRender();
    d->updateAnimationTimer();
}

void GraphCanvas::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    d->updateAnimationTimer();
}

bool GraphCanvas::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip && d->legendRect().contains(static_cast<QHelpEvent *>(event)->pos())) {
        auto *help = static_cast<QHelpEvent *>(event);
        QToolTip::showText(help->globalPos(),
            d->legendCollapsed() ? QStringLiteral("Show the legend: node shapes, edge styles, health colours")
                                 : QStringLiteral("Fold the legend away"),
            this);
        return true;
    }
    if (event->type() == QEvent::ToolTip && d->scene) {
        auto *help = static_cast<QHelpEvent *>(event);
        const int node = d->nodeIndexAt(help->pos());
        const int edge = node < 0 ? d->edgeIndexAt(help->pos()) : -1;
        if (node >= 0)
            QToolTip::showText(help->globalPos(), d->nodeToolTip(node), this);
        else if (edge >= 0)
            QToolTip::showText(help->globalPos(), d->edgeToolTip(edge), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

void GraphCanvas::mousePressEvent(QMouseEvent *event)
{
    setFocus(Qt::MouseFocusReason);
    if (event->button() != Qt::LeftButton) {
        QWidget::mousePressEvent(event);
        return;
    }
    d->pressPos = event->position();
    d->pressView = d->view;
    d->dragging = false;
    d->pressNodeId.clear();
    d->pressEdgeId.clear();
    if (d->legendRect().contains(event->position())) {
        d->press = Private::Press::None;
        setLegendCollapsed(!d->legendCollapsed());
        return;
    }
    const int node = d->nodeIndexAt(event->position());
    if (node >= 0) {
        d->press = Private::Press::Node;
        d->pressNodeId = d->scene->nodeId(node);
        d->grabOffset = d->scene->nodes()[size_t(node)].pos - d->view.unmap(event->position());
        return;
    }
    const int edge = d->edgeIndexAt(event->position());
    if (edge >= 0) {
        d->press = Private::Press::Edge;
        d->pressEdgeId = d->scene->edgeId(edge);
        return;
    }
    d->press = Private::Press::Background;
}

void GraphCanvas::mouseMoveEvent(QMouseEvent *event)
{
    if (d->press == Private::Press::None) {
        // Hovering: show what a click would do.
        const bool hit = d->legendRect().contains(event->position()) || d->nodeIndexAt(event->position()) >= 0
            || d->edgeIndexAt(event->position()) >= 0;
        setCursor(hit ? Qt::PointingHandCursor : Qt::OpenHandCursor);
        return;
    }
    const QPointF moved = event->position() - d->pressPos;
    if (!d->dragging && std::abs(moved.x()) + std::abs(moved.y()) >= 3)
        d->dragging = true;
    if (!d->dragging)
        return;
    if (d->press == Private::Press::Node) {
        const int node = d->scene->findNode(d->pressNodeId);
        if (node < 0)
            return;
        const QPointF pos = d->view.unmap(event->position()) + d->grabOffset;
        // Pinned from the first move, so a snapshot arriving mid-drag keeps it under the cursor.
        d->layout.pin(d->pressNodeId.toStdString(), pos);
        d->scene = d->scene->withNodeAt(node, pos);
        setCursor(Qt::ClosedHandCursor);
        d->changed();
    } else {
        setCursor(Qt::ClosedHandCursor);
        d->view.offset = d->pressView.offset + moved;
        d->autoFit = false;
        d->changed();
    }
}

void GraphCanvas::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton) {
        QWidget::mouseReleaseEvent(event);
        return;
    }
    const Private::Press press = d->press;
    const bool dragged = d->dragging;
    d->press = Private::Press::None;
    d->dragging = false;
    setCursor(Qt::OpenHandCursor);
    switch (press) {
    case Private::Press::Node:
        if (dragged) {
            d->rebuildScene();
            d->changed();
            Q_EMIT pinnedPositionsChanged();
        } else {
            d->selectedNode = d->pressNodeId;
            d->selectedEdge.clear();
            if (d->foundNode != d->selectedNode)
                d->foundNode.clear();
            update();
            Q_EMIT nodeClicked(d->pressNodeId);
        }
        break;
    case Private::Press::Edge:
        if (!dragged) {
            d->selectedEdge = d->pressEdgeId;
            d->selectedNode.clear();
            d->foundNode.clear();
            update();
            Q_EMIT edgeClicked(d->pressEdgeId);
        }
        break;
    case Private::Press::Background:
        if (!dragged) {
            d->selectedNode.clear();
            d->selectedEdge.clear();
            d->foundNode.clear();
            update();
            Q_EMIT selectionCleared();
        }
        break;
    case Private::Press::None: break;
    }
}

void GraphCanvas::mouseDoubleClickEvent(QMouseEvent *event)
{
    // Double-click on a namespace card opens that namespace; on empty space it fits
    // the graph, as in most diagram tools.
    if (event->button() == Qt::LeftButton) {
        const int g = d->groupIndexAt(event->position());
        if (g >= 0) {
            zoomToNamespace(d->scene->groups()[size_t(g)].name);
            return;
        }
    }
    if (event->button() == Qt::LeftButton && d->nodeIndexAt(event->position()) < 0
        && d->edgeIndexAt(event->position()) < 0)
        fitToView();
    else
        QWidget::mouseDoubleClickEvent(event);
}

void GraphCanvas::wheelEvent(QWheelEvent *event)
{
    double steps = event->angleDelta().y();
    if (steps == 0)
        steps = event->pixelDelta().y() * 2;
    if (steps == 0) {
        event->ignore();
        return;
    }
    d->zoomAt(std::pow(1.0015, steps), event->position());
    event->accept();
}

void GraphCanvas::keyPressEvent(QKeyEvent *event)
{
    const QPointF centre = QRectF(rect()).center();
    const double step = event->modifiers() & Qt::ShiftModifier ? 240 : 60;
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: d->zoomAt(1.25, centre); break;
    case Qt::Key_Minus:
    case Qt::Key_Underscore: d->zoomAt(0.8, centre); break;
    case Qt::Key_0: d->zoomAt(1.0 / d->view.scale, centre); break;
    case Qt::Key_Left: d->panBy(QPointF(step, 0)); break;
    case Qt::Key_Right: d->panBy(QPointF(-step, 0)); break;
    case Qt::Key_Up: d->panBy(QPointF(0, step)); break;
    case Qt::Key_Down: d->panBy(QPointF(0, -step)); break;
    case Qt::Key_F: fitToView(); break;
    case Qt::Key_Escape:
        if (!d->selectedNode.isEmpty() || !d->selectedEdge.isEmpty()) {
            clearSelection();
            Q_EMIT selectionCleared();
        }
        break;
    default: QWidget::keyPressEvent(event); return;
    }
    event->accept();
}

void GraphCanvas::contextMenuEvent(QContextMenuEvent *event)
{
    const int node = d->nodeIndexAt(event->pos());
    if (node < 0) {
        event->ignore();
        return;
    }
    const QString id = d->scene->nodeId(node);
    d->selectedNode = id;
    d->selectedEdge.clear();
    update();
    Q_EMIT nodeContextMenuRequested(id, event->globalPos());
    event->accept();
}

}  // namespace meshscope

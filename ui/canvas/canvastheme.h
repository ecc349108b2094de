#pragma once
// The canvas's visual vocabulary: colours, node shapes by kind, edge widths and
// fonts. Shared by the worker renderer, the live overlays and the legend so the
// three always agree. Every function is safe to call from any thread.

#include "graph/healthpolicy.h"

#include <QColor>
#include <QFont>
#include <QPainterPath>
#include <QPointF>
#include <QRectF>

QT_BEGIN_NAMESPACE
class QPainter;
QT_END_NAMESPACE

namespace meshscope {

namespace canvas {

// Radius of a node shape in graph units; zoom 1 draws it at this many pixels.
inline constexpr double kNodeRadius = 21.0;
// Half the width a node's label may take, and how far below the shape it reaches.
inline constexpr double kLabelHalfWidth = 78.0;
inline constexpr double kLabelDepth = 36.0;
// Below this zoom, namespaces collapse into boxes (a node would be ~3 px wide).
inline constexpr double kCollapseScale = 0.14;
// Below this zoom nodes are plain squares and edges hairlines without antialiasing.
inline constexpr double kFarScale = 0.3;
// Names are drawn from this zoom on (never smaller than kMinLabelPx, elided to the
// room between neighbours); the second label line from kDetailScale.
inline constexpr double kLabelScale = 0.36;
inline constexpr double kDetailScale = 0.62;
inline constexpr double kMinLabelPx = 9.5;
inline constexpr double kArrowScale = 0.4;
// Edge labels from the zoom node names show at (a fitted mesh of a few dozen services
// opens above it), placed where they cover no node or label, at most this many.
inline constexpr double kEdgeLabelScale = kLabelScale;
inline constexpr int kMaxEdgeLabels = 220;

QColor background();
QColor gridLine();
QColor gridLineMajor();
QColor namespaceFill();
QColor namespaceBorder();
QColor namespaceText();
QColor text();
QColor textMuted();
QColor labelBackground();
QColor selection();
QColor findHighlight();
// The badge on services that have routing rules.
QColor routingBadge();
// A graph diff: what is new, gone, or moved past a threshold.
QColor diffAdded();
QColor diffRemoved();
QColor diffChanged();

QColor healthColor(Health h);
// Edges are quieter than nodes: healthy traffic should not shout.
QColor edgeColor(Health h);
// Fill of a node shape: the dark surface with a hint of its health colour.
QColor nodeFill(Health h);

// Width in graph units by request rate on a log scale: 1 px idle .. 8 px at 10k rps.
double edgeWidth(double rps);
// Distance from a node's centre at which its edges stop (so arrowheads meet the border).
double edgeInset(NodeKind kind);

// Shapes at unit radius, centred on the origin.
const QPainterPath &nodeOutline(NodeKind kind);
const QPainterPath &nodeGlyph(NodeKind kind);  // inner lines, stroked
QString kindTitle(NodeKind kind);  // "service", "gateway", ... for legends and tooltips

// Draws one node shape with antialiasing at `centre` (device units), radius in pixels.
void drawNodeShape(QPainter &p, NodeKind kind, Health health, QPointF centre, double radius);

// The routing badge of a node drawn at `centre` with `radius` pixels: a small disc on
// its upper-right rim holding a forking-arrow glyph (traffic split by rules).
QRectF routingBadgeRect(QPointF centre, double radius);
void drawRoutingBadge(QPainter &p, QPointF centre, double radius);

// The padlock beside an edge whose traffic the source reports as mutual TLS. `side`
// is the glyph's height in pixels, centred on `centre`.
QColor mtlsLock();
QRectF lockRect(QPointF centre, double side);
void drawLock(QPainter &p, QPointF centre, double side);

QFont labelFont(double pixelSize, bool bold = false);

}  // namespace canvas

}  // namespace meshscope

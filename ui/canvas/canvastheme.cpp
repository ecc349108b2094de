#include "canvas/canvastheme.h"

#include "displayformat.h"

#include <QPainter>
#include <QTransform>

#include <algorithm>
#include <array>
#include <cmath>

namespace meshscope {

namespace canvas {

QColor background() { return QColor(0x1b, 0x1f, 0x24); }
QColor gridLine() { return QColor(0x21, 0x26, 0x2d); }
QColor gridLineMajor() { return QColor(0x25, 0x2b, 0x33); }
QColor namespaceFill() { return QColor(0x22, 0x28, 0x30, 150); }
QColor namespaceBorder() { return QColor(0x33, 0x3b, 0x46); }
QColor namespaceText() { return QColor(0x7d, 0x87, 0x93); }
QColor text() { return QColor(0xe6, 0xed, 0xf3); }
QColor textMuted() { return QColor(0x8b, 0x94, 0x9e); }
QColor labelBackground() { return QColor(0x1b, 0x1f, 0x24, 215); }
QColor selection() { return QColor(0x58, 0xa6, 0xff); }
QColor findHighlight() { return QColor(0xe3, 0xb3, 0x41); }
// Violet: apart from the health colours, the selection blue and the find gold.
QColor routingBadge() { return QColor(0xa3, 0x71, 0xf7); }
// Teal, apart from the health greens; grey for what is gone; orange for what moved.
QColor diffAdded() { return QColor(0x2d, 0xd4, 0xbf); }
QColor diffRemoved() { return QColor(0x8b, 0x94, 0x9e); }
QColor diffChanged() { return QColor(0xf0, 0x88, 0x3e); }

// Teal: apart from the health colours, the selection blue and the routing violet.
QColor mtlsLock() { return QColor(0x3f, 0xd0, 0xc9); }

QColor healthColor(Health h) { return display::healthColor(h); }

QColor edgeColor(Health h)
{
    QColor c = healthColor(h);
    switch (h) {
    case Health::Healthy:
        // A calmer, slightly desaturated green so that red and amber stand out.
        c = QColor(0x4d, 0x9f, 0x63);
        c.setAlpha(200);
        break;
    case Health::NoTraffic:
        c = QColor(0x6e, 0x76, 0x81);
        c.setAlpha(170);
        break;
    case Health::Degraded: c.setAlpha(230); break;
    case Health::Failing: break;
    }
    return c;
}

QColor nodeFill(Health h)
{
    const QColor base(0x23, 0x29, 0x31);
    const QColor tint = healthColor(h);
    const double k = h == Health::NoTraffic ? 0.06 : 0.16;
    return QColor::fromRgbF(float(base.redF() * (1 - k) + tint.redF() * k),
        float(base.greenF() * (1 - k) + tint.greenF() * k), float(base.blueF() * (1 - k) + tint.blueF() * k));
}

double edgeWidth(double rps) { return std::clamp(1.0 + 1.75 * std::log10(1.0 + std::max(0.0, rps)), 1.0, 8.0); }

double edgeInset(NodeKind kind)
{
    switch (kind) {
    case NodeKind::Gateway: return kNodeRadius * 1.08 + 3;
    case NodeKind::External: return kNodeRadius * 1.02 + 3;
    default: return kNodeRadius + 3;
    }
}

namespace {

struct Shapes {
    std::array<QPainterPath, 5> outline;
    std::array<QPainterPath, 5> glyph;

    Shapes()
    {
        // Service: a circle with a small core.
        QPainterPath service;
        service.addEllipse(QPointF(0, 0), 1.0, 1.0);
        outline[size_t(NodeKind::Service)] = service;
        QPainterPath core;
        core.addEllipse(QPointF(0, 0), 0.3, 0.3);
        glyph[size_t(NodeKind::Service)] = core;

        // Gateway: a hexagon with a chevron showing traffic passing through.
        QPainterPath hex;
        for (int i = 0; i < 6; ++i) {
            const double a = M_PI / 3 * i;
            const QPointF pt(1.12 * std::cos(a), 1.12 * std::sin(a));
            if (i == 0)
                hex.moveTo(pt);
            else
                hex.lineTo(pt);
        }
        hex.closeSubpath();
        outline[size_t(NodeKind::Gateway)] = hex;
        QPainterPath chevron;
        chevron.moveTo(-0.42, -0.18);
        chevron.lineTo(0, 0.22);
        chevron.lineTo(0.42, -0.18);
        glyph[size_t(NodeKind::Gateway)] = chevron;

        // External clients: a cloud.
        QPainterPath cloud;
        cloud.setFillRule(Qt::WindingFill);
        cloud.addEllipse(QPointF(-0.5, 0.14), 0.46, 0.46);
        cloud.addEllipse(QPointF(0.06, -0.2), 0.6, 0.6);
        cloud.addEllipse(QPointF(0.58, 0.16), 0.44, 0.44);
        cloud.addRoundedRect(QRectF(-0.96, 0.05, 1.98, 0.55), 0.27, 0.27);
        outline[size_t(NodeKind::External)] = cloud.simplified();

        // External services: a database-like cylinder.
        QPainterPath cyl;
        const QRectF top(-0.82, -1.0, 1.64, 0.56);
        const QRectF bottom(-0.82, 0.44, 1.64, 0.56);
        cyl.moveTo(-0.82, -0.72);
        cyl.arcTo(top, 180, -180);
        cyl.lineTo(0.82, 0.72);
        cyl.arcTo(bottom, 0, -180);
        cyl.closeSubpath();
        outline[size_t(NodeKind::ExternalService)] = cyl;
        QPainterPath rims;
        rims.arcMoveTo(top, 180);
        rims.arcTo(top, 180, 180);
        const QRectF middle(-0.82, -0.28, 1.64, 0.56);
        rims.arcMoveTo(middle, 180);
        rims.arcTo(middle, 180, 180);
        glyph[size_t(NodeKind::ExternalService)] = rims;

        // Other (folded nodes): a stack of cards.
        QPainterPath stack;
        stack.setFillRule(Qt::WindingFill);
        const QRectF card(-0.86, -0.5, 1.44, 1.2);
        for (int i = 2; i >= 0; --i)
            stack.addRoundedRect(card.translated(0.14 * i, -0.2 * i), 0.18, 0.18);
        outline[size_t(NodeKind::Other)] = stack.simplified();
        QPainterPath edges;
        edges.addRoundedRect(card, 0.18, 0.18);
        edges.addRoundedRect(card.translated(0.14, -0.2), 0.18, 0.18);
        glyph[size_t(NodeKind::Other)] = edges;
    }
};

const Shapes &shapes()
{
    static const Shapes s;  // thread-safe initialisation; read-only afterwards
    return s;
}

}  // namespace

const QPainterPath &nodeOutline(NodeKind kind) { return shapes().outline[size_t(kind)]; }

const QPainterPath &nodeGlyph(NodeKind kind) { return shapes().glyph[size_t(kind)]; }

QString kindTitle(NodeKind kind)
{
    switch (kind) {
    case NodeKind::External: return QStringLiteral("client");
    case NodeKind::Gateway: return QStringLiteral("gateway");
    case NodeKind::Service: return QStringLiteral("service");
    case NodeKind::ExternalService: return QStringLiteral("external service");
    case NodeKind::Other: return QStringLiteral("other");
    }
    return QString();
}

void drawNodeShape(QPainter &p, NodeKind kind, Health health, QPointF centre, double radius)
{
    const QColor stroke = healthColor(health);
    QTransform t;
    t.translate(centre.x(), centre.y());
    t.scale(radius, radius);
    const QPainterPath outline = t.map(nodeOutline(kind));
    p.setPen(QPen(stroke, std::max(1.0, radius * 0.1), Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    p.setBrush(nodeFill(health));
    p.drawPath(outline);
    const QPainterPath glyph = t.map(nodeGlyph(kind));
    if (kind == NodeKind::Service) {
        p.setPen(Qt::NoPen);
        p.setBrush(stroke);
        p.drawPath(glyph);
    } else {
        QColor soft = stroke;
        soft.setAlphaF(0.65f);
        p.setPen(QPen(soft, std::max(0.8, radius * 0.07), Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        p.setBrush(Qt::NoBrush);
        p.drawPath(glyph);
    }
}

QRectF routingBadgeRect(QPointF centre, double radius)
{
    const double r = std::clamp(radius * 0.36, 4.5, 11.0);
    const QPointF c = centre + QPointF(radius * 0.78, -radius * 0.78);
    return QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r);
}

void drawRoutingBadge(QPainter &p, QPointF centre, double radius)
{
    const QRectF box = routingBadgeRect(centre, radius);
    const double r = box.width() / 2;
    const QPointF c = box.center();
    // A ring of the background colour sets the disc off the node's outline.
    p.setPen(QPen(background(), std::max(1.2, r * 0.24)));
    p.setBrush(routingBadge());
    p.drawEllipse(c, r, r);
    if (r < 5)
        return;
    QPainterPath fork;
    fork.moveTo(c + QPointF(-0.58 * r, 0));
    fork.lineTo(c + QPointF(-0.08 * r, 0));
    fork.lineTo(c + QPointF(0.5 * r, -0.44 * r));
    fork.moveTo(c + QPointF(-0.08 * r, 0));
    fork.lineTo(c + QPointF(0.5 * r, 0.44 * r));
    p.setPen(QPen(QColor(0xff, 0xff, 0xff), std::max(1.1, r * 0.2), Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    p.setBrush(Qt::NoBrush);
    p.drawPath(fork);
}

QFont labelFont(double pixelSize, bool bold)
{
    QFont f;
    f.setPixelSize(std::max(1, int(std::lround(pixelSize))));
    if (bold)
        f.setWeight(QFont::DemiBold);
    return f;
}

QRectF lockRect(QPointF centre, double side)
{
    const double w = side * 0.8;
    return QRectF(centre.x() - w / 2, centre.y() - side / 2, w, side);
}

void drawLock(QPainter &p, QPointF centre, double side)
{
    const QRectF r = lockRect(centre, side);
    const double stroke = std::max(1.2, side * 0.14);
    // Shackle: an arch over the body; body: a filled rounded block on the lower half.
    const QRectF body(r.left(), r.top() + side * 0.42, r.width(), side * 0.58);
    const double sw = r.width() * 0.62;
    const QRectF arch(centre.x() - sw / 2, r.top() + stroke / 2, sw, side * 0.7);
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(mtlsLock(), stroke, Qt::SolidLine, Qt::FlatCap));
    p.drawArc(arch, 0, 180 * 16);
    p.drawLine(QPointF(arch.left(), arch.center().y()), QPointF(arch.left(), body.top()));
    p.drawLine(QPointF(arch.right(), arch.center().y()), QPointF(arch.right(), body.top()));
    p.setPen(QPen(background(), 1));
    p.setBrush(mtlsLock());
    p.drawRoundedRect(body, side * 0.1, side * 0.1);
    p.restore();
}

}  // namespace canvas

}  // namespace meshscope

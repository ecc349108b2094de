#include "traces/tracecompareview.h"

#include "displayformat.h"
#include "traces/models/tracecomparemodel.h"
#include "traces/timelineheader.h"
#include "traces/waterfallstyle.h"

#include <QApplication>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

constexpr double kMinRelative = 0.1;  // the percent half of the "differences only" threshold
constexpr int kStrip = 3;  // the service colour strip at a call's left edge
constexpr int kGutter = 14;  // the "+" / "−" of added and missing calls
constexpr int kGlyph = 12;
constexpr int kBarHeight = 7;
constexpr int kBarGap = 2;

int indentFor(const QRect &cell, int depth)
{
    // Deep trees would push every name out of the column; the tooltip has the depth.
    return std::min(depth * waterfall::kIndent, std::max(0, cell.width() - 200));
}

// Paints the Call column (diff gutter, indent, error glyph, service in its colour, the
// operation, a repeat count) and the Timeline column (A's and B's bars on the shared
// axis). Reads the model's snapshot directly: it runs for every visible cell. Other
// columns paint as plain text from the model's roles.
class CompareDelegate : public QStyledItemDelegate {
public:
    CompareDelegate(TraceCompareModel *model, QObject *parent)
        : QStyledItemDelegate(parent)
        , m_model(model)
    {
    }

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QSize s = QStyledItemDelegate::sizeHint(option, index);
        s.setHeight(waterfall::kRowHeight);
        return s;
    }

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        const int column = index.column();
        if (column != TraceCompareModel::Call && column != TraceCompareModel::Timeline) {
            QStyledItemDelegate::paint(painter, option, index);
            return;
        }
        // Background (the added / missing tint), selection and focus as the style draws
        // them; the content is ours.
        QStyleOptionViewItem opt(option);
        initStyleOption(&opt, index);
        opt.text.clear();
        const QWidget *widget = opt.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

        const uint32_t row = m_model->compareIndexAt(index.row());
        painter->save();
        painter->setClipRect(opt.rect);
        if (column == TraceCompareModel::Call)
            paintCall(painter, opt, row);
        else
            paintBars(painter, opt, row);
        painter->restore();
    }

private:
    void paintCall(QPainter *p, const QStyleOptionViewItem &opt, uint32_t i) const
    {
        const CompareRow &row = m_model->comparison()->rows[i];
        const QRect r = opt.rect;
        const bool selected = opt.state & QStyle::State_Selected;
        const QColor serviceColor = m_model->serviceColor(i);
        p->fillRect(QRect(r.left(), r.top() + 1, kStrip, r.height() - 2), serviceColor);

        // A diff gutter, so added and missing read without relying on the tint alone.
        QFont font = opt.font;
        if (row.kind != CompareKind::Both) {
            QFont bold = font;
            bold.setBold(true);
            p->setFont(bold);
            p->setPen(
                row.kind == CompareKind::OnlyInB ? TraceCompareModel::fasterColor() : TraceCompareModel::slowerColor());
            p->drawText(QRect(r.left() + kStrip + 2, r.top(), kGutter - 2, r.height()), Qt::AlignCenter,
                row.kind == CompareKind::OnlyInB ? QStringLiteral("+") : QStringLiteral("−"));
        }

        double x = r.left() + kStrip + kGutter + indentFor(r, row.depth);
        const double glyphTop = r.top() + (r.height() - kGlyph) / 2.0;
        if (row.errorA || row.errorB) {
            waterfall::paintErrorGlyph(p, QRectF(x, glyphTop, kGlyph, kGlyph));
            x += kGlyph + 4;
        }

        // The repeat count at the cell's right: "×3", or "×2 → 3" when the sides differ.
        int right = r.right() - 4;
        if (row.callsA > 1 || row.callsB > 1) {
            const QString repeat = row.callsA == row.callsB || row.callsA == 0 || row.callsB == 0
                ? QStringLiteral("×%1").arg(std::max(row.callsA, row.callsB))
                : QStringLiteral("×%1 → %2").arg(row.callsA).arg(row.callsB);
            const int w = opt.fontMetrics.horizontalAdvance(repeat);
            if (right - w > x + 60) {
                p->setFont(font);
                p->setPen(opt.palette.color(selected ? QPalette::HighlightedText : QPalette::PlaceholderText));
                p->drawText(QRect(right - w, r.top(), w, r.height()), Qt::AlignRight | Qt::AlignVCenter, repeat);
                right -= w + 8;
            }
        }

        const QRect textRect(int(x), r.top(), std::max(0, right - int(x)), r.height());
        if (textRect.width() <= 0)
            return;
        const bool missing = row.kind == CompareKind::OnlyInA;
        font.setStrikeOut(missing);
        QColor textColor = opt.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
        QColor nameColor = selected ? textColor : serviceColor;
        if (missing && !selected) {
            // Dimmed: the call is not in B, the trace the comparison is about.
            textColor = textColor.darker(135);
            nameColor = nameColor.darker(135);
        }
        if (row.synthetic) {
            font.setItalic(true);
            p->setFont(font);
            p->setPen(selected ? textColor : waterfall::syntheticColor());
            p->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter,
                QFontMetrics(font).elidedText(QCoreApplication::translate("TraceCompareView", "(missing parent)"),
                    Qt::ElideRight, textRect.width()));
            return;
        }
        p->setFont(font);
        const QFontMetrics fm(font);
        const QString service = QString::fromStdString(row.service);
        const int serviceWidth = fm.horizontalAdvance(service);
        p->setPen(nameColor);
        if (serviceWidth >= textRect.width()) {
            p->drawText(
                textRect, Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(service, Qt::ElideRight, textRect.width()));
            return;
        }
        p->drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter, service);
        const QRect opRect = textRect.adjusted(serviceWidth + fm.horizontalAdvance(QLatin1Char(' ')) * 2, 0, 0, 0);
        if (opRect.width() <= 0)
            return;
        p->setPen(textColor);
        p->drawText(opRect, Qt::AlignLeft | Qt::AlignVCenter,
            fm.elidedText(QString::fromStdString(row.name), Qt::ElideRight, opRect.width()));
    }

    void paintBars(QPainter *p, const QStyleOptionViewItem &opt, uint32_t i) const
    {
        const CompareRow &row = m_model->comparison()->rows[i];
        const QRectF axis = waterfall::axisRect(opt.rect);
        const uint64_t total = m_model->axisNs();

        p->setPen(waterfall::gridColor());
        if (total != m_ticksTotal || axis.width() != m_ticksWidth) {
            m_ticks = waterfall::rulerTicks(total, axis.width());
            m_ticksTotal = total;
            m_ticksWidth = axis.width();
        }
        for (const waterfall::Tick &tick : m_ticks) {
            if (tick.offsetNs == 0)
                continue;
            const int x = int(waterfall::xAt(axis, tick.offsetNs, total));
            p->drawLine(x, opt.rect.top(), x, opt.rect.bottom());
        }

        const QColor color = m_model->serviceColor(i);
        const double top = opt.rect.top() + (opt.rect.height() - 2 * kBarHeight - kBarGap) / 2.0;
        auto bar = [&](uint64_t offset, uint64_t duration, double y, bool dim, bool error) {
            const double x0 = waterfall::xAt(axis, offset, total);
            // A zero-length span still shows where it happened.
            const double x1 = std::max(x0 + 2, waterfall::xAt(axis, offset + duration, total));
            const QRectF r(x0, y, x1 - x0, kBarHeight);
            QColor fill = color;
            if (dim)
                fill.setAlpha(120);
            p->fillRect(r, fill);
            if (error) {
                p->setPen(QPen(waterfall::errorColor(), 1.5));
                p->setBrush(Qt::NoBrush);
                p->drawRect(r.adjusted(0.75, 0.75, -0.75, -0.75));
            }
        };
        // A above (dim: the reference), B below at full colour.
        if (row.spanA >= 0)
            bar(row.offsetA, row.durationA, top, true, row.errorA);
        if (row.spanB >= 0)
            bar(row.offsetB, row.durationB, top + kBarHeight + kBarGap, false, row.errorB);
    }

    TraceCompareModel *m_model;
    mutable std::vector<waterfall::Tick> m_ticks;
    mutable uint64_t m_ticksTotal = 0;
    mutable double m_ticksWidth = -1;
};

// "10 %": the threshold is a round number, display::percent would write "10.0 %".
QString roundPercent(double fraction) { return QString::number(fraction * 100.0, 'g', 3) + QStringLiteral(" %"); }

QString coloured(const QString &html, const QColor &color)
{
    return QStringLiteral("<span style=\"color:%1\">%2</span>").arg(color.name(), html);
}

}  // namespace

TraceCompareView::TraceCompareView(QWidget *parent)
    : QWidget(parent)
    , m_model(new TraceCompareModel(this))
{
    setObjectName(QStringLiteral("traceCompareView"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->setSpacing(5);

    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("compareTitle"));
    m_title->setTextFormat(Qt::RichText);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.2);
    m_title->setFont(titleFont);
    layout->addWidget(m_title);

    m_totals = new QLabel(this);
    m_totals->setObjectName(QStringLiteral("compareTotals"));
    m_totals->setTextFormat(Qt::RichText);
    m_totals->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_totals->setWordWrap(true);
    layout->addWidget(m_totals);

    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    m_differencesOnly = new QCheckBox(tr("Differences only"), this);
    m_differencesOnly->setObjectName(QStringLiteral("compareDifferencesOnly"));
    m_differencesOnly->setToolTip(tr("Hide calls that both traces made and whose duration changed less than the "
                                     "threshold; their parents stay for context"));
    auto *thresholdLabel = new QLabel(tr("Changed by at least"), this);
    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setObjectName(QStringLiteral("compareThreshold"));
    m_threshold->setRange(0, 600000);
    m_threshold->setDecimals(1);
    m_threshold->setSingleStep(0.5);
    m_threshold->setValue(double(m_model->minDeltaNs()) / 1e6);
    m_threshold->setSuffix(QStringLiteral(" ms"));
    m_threshold->setToolTip(tr("A call counts as changed when its duration moved by at least this much and by at "
                               "least %1 of its duration in A; smaller changes stay grey")
                                .arg(roundPercent(kMinRelative)));
    thresholdLabel->setBuddy(m_threshold);
    auto *relativeLabel = new QLabel(tr("and %1").arg(roundPercent(kMinRelative)), this);
    m_legend = new QLabel(this);
    m_legend->setObjectName(QStringLiteral("compareLegend"));
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setText(tr("Bars: upper (dim) = A, lower = B, on one time axis")
        + QStringLiteral("&nbsp;&nbsp;·&nbsp;&nbsp;")
        + coloured(QStringLiteral("+ ") + tr("added in B"), TraceCompareModel::fasterColor())
        + QStringLiteral("&nbsp;&nbsp;")
        + coloured(QStringLiteral("− ") + tr("missing"), TraceCompareModel::slowerColor()));
    m_legend->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(m_differencesOnly);
    bar->addSpacing(10);
    bar->addWidget(thresholdLabel);
    bar->addWidget(m_threshold);
    bar->addWidget(relativeLabel);
    bar->addStretch(1);
    bar->addWidget(m_legend);
    layout->addLayout(bar);

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("compareTable"));
    m_header = new TimelineHeader(TraceCompareModel::Timeline, m_table);
    waterfall::setUpRowsTable(m_table, m_header);
    m_table->setModel(m_model);
    m_table->setItemDelegate(new CompareDelegate(m_model, m_table));
    m_header->setMinimumSectionSize(50);
    m_header->setStretchLastSection(true);
    m_header->resizeSection(TraceCompareModel::Call, 360);
    m_header->resizeSection(TraceCompareModel::DurationA, 80);
    m_header->resizeSection(TraceCompareModel::DurationB, 80);
    m_header->resizeSection(TraceCompareModel::Delta, 86);
    m_header->resizeSection(TraceCompareModel::DeltaPercent, 70);
    m_header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    layout->addWidget(m_table, 1);

    connect(m_differencesOnly, &QCheckBox::toggled, this, [this](bool on) {
        const int selected = selectedRow();
        m_model->setDifferencesOnly(on);
        if (selected >= 0) {
            const int row = m_model->rowOf(uint32_t(selected));
            if (row >= 0) {
                m_table->setCurrentIndex(m_model->index(row, TraceCompareModel::Call));
                m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
            }
        }
    });
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this, &TraceCompareView::applyThreshold);
    connect(m_table, &QTableView::activated, this, &TraceCompareView::onActivated);

    updateHeader({}, {});
}

TraceCompareView::~TraceCompareView() = default;

const TraceComparison *TraceCompareView::comparison() const { return m_model->comparison(); }

void TraceCompareView::setComparison(TraceComparison comparison, QString leftTitle, QString rightTitle)
{
    m_model->setComparison(std::make_shared<const TraceComparison>(std::move(comparison)));
    m_header->setTotalNs(m_model->axisNs());
    m_header->viewport()->update();
    updateHeader(leftTitle, rightTitle);
}

void TraceCompareView::clear()
{
    m_model->setComparison(nullptr);
    m_header->setTotalNs(0);
    updateHeader({}, {});
}

void TraceCompareView::setDifferencesOnly(bool on) { m_differencesOnly->setChecked(on); }

bool TraceCompareView::differencesOnly() const { return m_differencesOnly->isChecked(); }

int TraceCompareView::selectedRow() const
{
    const QModelIndex current = m_table->currentIndex();
    return current.isValid() ? int(m_model->compareIndexAt(current.row())) : -1;
}

bool TraceCompareView::selectRow(int compareIndex)
{
    const TraceComparison *c = m_model->comparison();
    if (!c || compareIndex < 0 || size_t(compareIndex) >= c->rows.size())
        return false;
    if (m_model->rowOf(uint32_t(compareIndex)) < 0)
        m_differencesOnly->setChecked(false);
    const int row = m_model->rowOf(uint32_t(compareIndex));
    m_table->setCurrentIndex(m_model->index(row, TraceCompareModel::Call));
    m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
    return true;
}

void TraceCompareView::applyThreshold()
{
    m_model->setThreshold(uint64_t(std::max(0.0, m_threshold->value()) * 1e6 + 0.5), kMinRelative);
}

void TraceCompareView::onActivated(const QModelIndex &index)
{
    if (!index.isValid())
        return;
    const CompareRow &row = m_model->rowAt(index.row());
    if (row.synthetic)
        return;  // no received span to show
    const int column = index.column();
    if (column == TraceCompareModel::DurationA && row.spanA >= 0)
        Q_EMIT spanActivated(SideA, row.spanA);
    else if (column == TraceCompareModel::DurationB && row.spanB >= 0)
        Q_EMIT spanActivated(SideB, row.spanB);
    else if (row.spanB >= 0)
        Q_EMIT spanActivated(SideB, row.spanB);
    else
        Q_EMIT spanActivated(SideA, row.spanA);
}

void TraceCompareView::updateHeader(const QString &leftTitle, const QString &rightTitle)
{
    const TraceComparison *c = m_model->comparison();
    if (!c) {
        m_title->setText(tr("<b>No comparison</b>"));
        m_totals->setText(tr("Compare a trace with another one, or with the typical trace of its root operation."));
        return;
    }
    const QString badge
        = QStringLiteral("<span style=\"background-color:#30363d; color:#e6edf3\"><b>&nbsp;%1&nbsp;</b></span>&nbsp;");
    m_title->setText(badge.arg(QStringLiteral("A")) + leftTitle.toHtmlEscaped()
        + QStringLiteral("&nbsp;&nbsp;<span style=\"color:#8b949e\">vs</span>&nbsp;&nbsp;")
        + badge.arg(QStringLiteral("B")) + rightTitle.toHtmlEscaped());

    const QString sep = QStringLiteral("&nbsp;&nbsp;·&nbsp;&nbsp;");
    const int64_t delta = c->durationDeltaNs();
    QString change = TraceCompareModel::signedDuration(delta);
    if (c->durationA > 0)
        change += QStringLiteral(", ") + TraceCompareModel::signedPercent(double(delta) / double(c->durationA));
    const QColor changeColor = delta > 0 ? TraceCompareModel::slowerColor()
        : delta < 0                      ? TraceCompareModel::fasterColor()
                                         : waterfall::syntheticColor();
    QString text
        = tr("Duration <b>%1</b> → <b>%2</b>").arg(waterfall::duration(c->durationA), waterfall::duration(c->durationB))
        + QLatin1Char(' ') + coloured(QStringLiteral("(") + change + QLatin1Char(')'), changeColor);

    const QString added = display::quantity(c->callsAdded, tr("call added"), tr("calls added"));
    const QString missing = display::quantity(c->callsMissing, tr("call missing"), tr("calls missing"));
    text += sep
        + (c->callsAdded > 0
                ? coloured(QStringLiteral("<b>") + added + QStringLiteral("</b>"), TraceCompareModel::fasterColor())
                : added);
    text += sep
        + (c->callsMissing > 0
                ? coloured(QStringLiteral("<b>") + missing + QStringLiteral("</b>"), TraceCompareModel::slowerColor())
                : missing);
    text += sep + tr("%1 matched").arg(display::count(c->callsMatched));
    if (const int32_t slowest = c->slowestRow(); slowest >= 0) {
        const CompareRow &row = c->rows[size_t(slowest)];
        text += sep
            + tr("Most own time added: <b>%1: %2</b> %3")
                  .arg(QString::fromStdString(row.service).toHtmlEscaped(),
                      QString::fromStdString(row.name).toHtmlEscaped(),
                      coloured(TraceCompareModel::signedDuration(row.selfDeltaNs), TraceCompareModel::slowerColor()));
    }
    m_totals->setText(text);
}

}  // namespace meshscope

#include "traces/spandetails.h"

#include "displayformat.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/waterfallstyle.h"

#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace meshscope {

namespace {

QString kindName(SpanKind kind)
{
    switch (kind) {
    case SpanKind::Internal: return SpanDetails::tr("internal");
    case SpanKind::Server: return SpanDetails::tr("server");
    case SpanKind::Client: return SpanDetails::tr("client");
    case SpanKind::Producer: return SpanDetails::tr("producer");
    case SpanKind::Consumer: return SpanDetails::tr("consumer");
    case SpanKind::Unspecified: break;
    }
    return SpanDetails::tr("unspecified");
}

QString statusText(const Span &s, bool error)
{
    QString text;
    switch (s.status) {
    case SpanStatus::Ok: text = SpanDetails::tr("OK"); break;
    case SpanStatus::Error: text = SpanDetails::tr("Error"); break;
    case SpanStatus::Unset:
        // OpenTelemetry derives the error from the protocol status: say so, or the
        // red glyph would contradict "unset".
        text = error ? SpanDetails::tr("Error (status unset; from the response code)") : SpanDetails::tr("Unset");
        break;
    }
    QStringList codes;
    if (s.httpStatus >= 0)
        codes << SpanDetails::tr("HTTP %1").arg(display::statusCode(s.httpStatus));
    if (s.grpcStatus >= 0)
        codes << SpanDetails::tr("gRPC %1 (%2)").arg(display::grpcCodeName(s.grpcStatus)).arg(s.grpcStatus);
    if (!codes.isEmpty())
        text += QStringLiteral(" · ") + codes.join(QStringLiteral(" · "));
    return text;
}

}  // namespace

SpanDetails::SpanDetails(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 8);
    layout->setSpacing(6);

    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::RichText);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    m_title->setFont(titleFont);
    layout->addWidget(m_title);

    m_placeholder = new QLabel(tr("Select a span to see its details."), this);
    m_placeholder->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_placeholder);

    m_body = new QWidget(this);
    auto *bodyLayout = new QVBoxLayout(m_body);
    bodyLayout->setContentsMargins(0, 0, 0, 0);
    bodyLayout->setSpacing(6);
    m_form = new QFormLayout;
    m_form->setLabelAlignment(Qt::AlignRight | Qt::AlignTop);
    m_form->setHorizontalSpacing(10);
    m_form->setVerticalSpacing(3);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const QString labels[FieldCount] = {tr("Service"), tr("Operation"), tr("Kind"), tr("Status"), tr("Message"),
        tr("Request"), tr("Start"), tr("Duration"), tr("Self time"), tr("Critical time"), tr("Depth"), tr("Span id"),
        tr("Parent id"), tr("Clock skew"), tr("Repaired")};
    for (int f = 0; f < FieldCount; ++f) {
        auto *value = new QLabel(m_body);
        value->setWordWrap(true);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        value->setTextFormat(Qt::PlainText);
        value->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        auto *label = new QLabel(labels[f], m_body);
        label->setForegroundRole(QPalette::PlaceholderText);
        m_form->addRow(label, value);
        m_values[size_t(f)] = value;
    }
    for (Field f : {SpanId, ParentId}) {
        m_values[size_t(f)]->setFont(QFont(QStringLiteral("monospace")));
    }
    m_values[StatusMessage]->setStyleSheet(QStringLiteral("color: #ff7b72;"));
    m_values[ClockSkew]->setStyleSheet(QStringLiteral("color: #e3b341;"));
    bodyLayout->addLayout(m_form);

    m_attributes = new QTreeWidget(m_body);
    m_attributes->setColumnCount(2);
    m_attributes->setHeaderLabels({tr("Attribute"), tr("Value")});
    m_attributes->setRootIsDecorated(false);
    m_attributes->setUniformRowHeights(true);
    m_attributes->setAlternatingRowColors(true);
    m_attributes->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_attributes->header()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_attributes->header()->resizeSection(0, 170);
    m_attributes->header()->setStretchLastSection(true);
    m_attributes->setTextElideMode(Qt::ElideMiddle);
    bodyLayout->addWidget(m_attributes, 1);

    m_openInGraph = new QPushButton(tr("Show service in graph"), m_body);
    m_openInGraph->setToolTip(tr("Select this span's service on the mesh graph"));
    connect(m_openInGraph, &QPushButton::clicked, this, &SpanDetails::openInGraphRequested);
    bodyLayout->addWidget(m_openInGraph, 0, Qt::AlignLeft);
    layout->addWidget(m_body, 1);
    clear();
}

void SpanDetails::clear()
{
    m_title->setText(tr("<b>Span details</b>"));
    m_placeholder->show();
    m_body->hide();
    for (QLabel *value : m_values)
        value->clear();
    m_attributes->clear();
}

void SpanDetails::setField(Field field, const QString &text)
{
    m_values[size_t(field)]->setText(text);
    m_form->setRowVisible(int(field), !text.isEmpty());
}

QString SpanDetails::fieldText(Field field) const { return m_values[size_t(field)]->text(); }

bool SpanDetails::isFieldShown(Field field) const { return !m_values[size_t(field)]->text().isEmpty(); }

void SpanDetails::showSpan(const WaterfallTrace &trace, uint32_t span)
{
    const TraceTree &tree = trace.tree;
    const Span &s = tree.spans[span];
    const bool synthetic = tree.isSynthetic(span);
    const QString service = trace.services[trace.serviceOf[span]];
    const QString operation = QString::fromStdString(s.name);
    m_title->setText(QStringLiteral("<span style=\"color:%1\"><b>%2</b></span>&nbsp;&nbsp;%3")
                         .arg(trace.serviceColors[trace.serviceOf[span]].name(), service.toHtmlEscaped(),
                             operation.toHtmlEscaped()));
    m_placeholder->hide();
    m_body->show();

    setField(Service, synthetic ? tr("(missing parent)") : service);
    setField(Operation, synthetic ? tr("Stand-in for the parents missing from the trace") : operation);
    setField(Kind, synthetic ? QString() : kindName(s.kind));
    setField(Status, synthetic ? QString() : statusText(s, trace.error[span]));
    setField(StatusMessage, QString::fromStdString(s.statusMessage));
    setField(Request,
        s.path.empty() && s.method.empty()
            ? QString()
            : QString::fromStdString(s.method) + QLatin1Char(' ') + display::redactPath(s.path));
    setField(Start, tr("+%1 from the trace's start").arg(waterfall::duration(trace.offsetNs(span))));
    setField(Duration, waterfall::duration(tree.durationNs(span)));
    setField(SelfTime, waterfall::duration(trace.critical.selfNs[span]));
    const uint64_t critical = trace.critical.criticalNs[span];
    const uint64_t duration = tree.durationNs(span);
    setField(CriticalTime,
        critical == 0 ? tr("not on the critical path")
                      : tr("%1 (%2 % of the span)")
                            .arg(waterfall::duration(critical))
                            .arg(duration ? QString::number(100.0 * double(critical) / double(duration), 'f', 0)
                                          : QStringLiteral("100")));
    setField(Depth, QString::number(tree.depth[span]));
    setField(SpanId, synthetic ? QString() : QString::fromStdString(spanIdHex(s.spanId)));
    setField(ParentId,
        s.parentSpanId == 0 ? (synthetic ? QString() : tr("none (root span)"))
                            : QString::fromStdString(spanIdHex(s.parentSpanId)));
    const int64_t shift = trace.skew(span);
    setField(ClockSkew,
        shift == 0
            ? QString()
            : tr("shifted %1 to fit its parent (clock-skew adjustment); recorded start was +%2")
                  .arg(waterfall::shift(shift),
                      waterfall::duration(uint64_t(std::max<int64_t>(0, int64_t(trace.offsetNs(span)) - shift)))));

    QStringList flags;
    const uint8_t f = tree.flags[span];
    if (f & SpanFlag::Orphan)
        flags << tr("orphan: its parent is not in the trace, shown under the synthetic root");
    if (f & SpanFlag::CycleBroken)
        flags << tr("its parent chain looped back to it; the link to its parent was cut");
    if (f & SpanFlag::DuplicateId)
        flags << tr("another span has the same id; children attach to that one");
    if (f & SpanFlag::TimestampClamped)
        flags << tr("it ended before it started; its end was set to its start");
    if (f & SpanFlag::SyntheticRoot)
        flags << tr("not a received span");
    setField(Flags, flags.join(QLatin1Char('\n')));

    // Span attributes first (what this operation did), then the resource's (who ran it).
    m_attributes->clear();
    for (bool resource : {false, true}) {
        QList<QTreeWidgetItem *> items;
        for (const SpanAttribute &a : s.attributes) {
            if (a.resource != resource)
                continue;
            auto *item = new QTreeWidgetItem({QString::fromStdString(a.key), QString::fromStdString(a.value)});
            item->setToolTip(1, item->text(1));
            items << item;
        }
        if (items.isEmpty())
            continue;
        auto *group = new QTreeWidgetItem(
            m_attributes, {(resource ? tr("Resource attributes (%1)") : tr("Span attributes (%1)")).arg(items.size())});
        group->setFirstColumnSpanned(true);
        QFont bold = group->font(0);
        bold.setBold(true);
        group->setFont(0, bold);
        group->setForeground(0, palette().color(QPalette::PlaceholderText));
        group->setFlags(Qt::ItemIsEnabled);
        group->addChildren(items);
        group->setExpanded(true);
    }
    m_attributes->setRootIsDecorated(false);
    m_openInGraph->setEnabled(!synthetic);
}

}  // namespace meshscope

#include "inspect/requestspanel.h"

#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "inspect/models/requeststablemodel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {
constexpr int kPollMs = 250;
constexpr int kRows = 5000;
}  // namespace

RequestsPanel::RequestsPanel(GraphAggregator *aggregator, QWidget *parent)
    : QWidget(parent)
    , m_aggregator(aggregator)
    , m_model(new RequestsTableModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_view(new QTableView(this))
    , m_scope(new QLabel(this))
    , m_count(new QLabel(this))
    , m_filter(new QLineEdit(this))
    , m_pause(new QToolButton(this))
    , m_timer(new QTimer(this))
{
    m_model->setCapacity(kRows);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_scope->setObjectName(QStringLiteral("requestsScope"));
    m_count->setObjectName(QStringLiteral("requestsCount"));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    m_filter->setObjectName(QStringLiteral("requestsFilter"));
    m_filter->setPlaceholderText(tr("Filter rows (path, status, trace id…)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMaximumWidth(320);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_filter, &QLineEdit::textChanged, this, &RequestsPanel::updateCount);

    m_pause->setObjectName(QStringLiteral("requestsPause"));
    m_pause->setCheckable(true);
    m_pause->setText(tr("Pause"));
    m_pause->setToolTip(tr("Stop adding requests to the table; resuming catches up"));
    m_pause->setToolButtonStyle(Qt::ToolButtonTextOnly);
    connect(m_pause, &QToolButton::toggled, this, [this](bool on) {
        m_pause->setText(on ? tr("Resume") : tr("Pause"));
        if (!on)
            pollNow();
        updateCount();
    });
    auto *clear = new QToolButton(this);
    clear->setText(tr("Clear"));
    clear->setToolTip(tr("Empty the table; new requests keep arriving"));
    connect(clear, &QToolButton::clicked, this, [this] {
        m_model->clear();
        updateCount();
    });

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(8, 4, 8, 2);
    bar->addWidget(m_scope);
    bar->addSpacing(12);
    bar->addWidget(m_count);
    bar->addStretch(1);
    bar->addWidget(m_filter);
    bar->addWidget(m_pause);
    bar->addWidget(clear);

    m_view->setObjectName(QStringLiteral("requestsTable"));
    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->setShowGrid(false);
    m_view->setWordWrap(false);
    m_view->setTextElideMode(Qt::ElideMiddle);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 4);
    QHeaderView *h = m_view->horizontalHeader();
    h->setHighlightSections(false);
    h->setStretchLastSection(false);
    // Fixed widths: measuring 5,000 rows per flush (ResizeToContents) would be the slow part.
    const int cw = m_view->fontMetrics().averageCharWidth();
    const int widths[] = {14, 18, 18, 8, 34, 14, 10, 8, 34};
    for (int c = 0; c < RequestsTableModel::ColumnCount; ++c)
        h->resizeSection(c, widths[c] * cw + 12);
    h->setSectionResizeMode(RequestsTableModel::Path, QHeaderView::Stretch);

    auto *v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    v->addLayout(bar);
    v->addWidget(m_view);

    m_timer->setInterval(kPollMs);
    connect(m_timer, &QTimer::timeout, this, &RequestsPanel::pollNow);
    m_timer->start();
    rescope(tr("All traffic"));
}

void RequestsPanel::showAll()
{
    m_scopeNode.clear();
    m_scopeSource.clear();
    m_scopeTarget.clear();
    rescope(tr("All traffic"));
}

void RequestsPanel::showNode(const QString &nodeId, const QString &label)
{
    m_scopeNode = nodeId.toStdString();
    m_scopeSource.clear();
    m_scopeTarget.clear();
    rescope(tr("Requests to and from %1").arg(label));
}

void RequestsPanel::showEdge(const QString &sourceId, const QString &targetId, const QString &label)
{
    m_scopeNode.clear();
    m_scopeSource = sourceId.toStdString();
    m_scopeTarget = targetId.toStdString();
    rescope(tr("Requests on %1").arg(label));
}

void RequestsPanel::rescope(const QString &label)
{
    m_scope->setText(QStringLiteral("<b>%1</b>").arg(label.toHtmlEscaped()));
    m_model->clear();
    // Start again from everything the aggregator still holds, so a new selection
    // shows its recent history at once instead of an empty table.
    m_lastSeq = 0;
    pollNow();
    updateCount();
}

bool RequestsPanel::inScope(const RequestEvent &e) const
{
    if (!m_scopeNode.empty())
        return e.sourceId == m_scopeNode || e.targetId == m_scopeNode;
    if (!m_scopeSource.empty())
        return e.sourceId == m_scopeSource && e.targetId == m_scopeTarget;
    return true;
}

void RequestsPanel::setPaused(bool paused) { m_pause->setChecked(paused); }

bool RequestsPanel::isPaused() const { return m_pause->isChecked(); }

void RequestsPanel::setPollInterval(int ms) { m_timer->setInterval(ms); }

void RequestsPanel::pollNow()
{
    if (!m_aggregator || isPaused())
        return;
    // The first poll of a scope reads the whole recent buffer since matching rows may be sparse.
    const size_t max
        = m_lastSeq == 0 ? std::max<size_t>(m_aggregator->config().recentRequestCapacity, kRows) : size_t(kRows) * 4;
    std::vector<RequestEvent> events = m_aggregator->recentRequests(m_lastSeq, max);
    if (events.empty())
        return;
    m_lastSeq = events.back().seq;
    if (!m_scopeNode.empty() || !m_scopeSource.empty())
        events.erase(
            std::remove_if(events.begin(), events.end(), [this](const RequestEvent &e) { return !inScope(e); }),
            events.end());
    if (events.empty())
        return;
    QScrollBar *bar = m_view->verticalScrollBar();
    const bool follow = bar->value() >= bar->maximum() - 2;
    m_model->append(events);
    if (follow)
        m_view->scrollToBottom();
    updateCount();
}

void RequestsPanel::updateCount()
{
    const int shown = m_proxy->rowCount();
    const int total = m_model->rowCount();
    QString text = shown == total ? display::quantity(total, tr("request"), tr("requests"))
                                  : tr("%1 of %2 requests").arg(shown).arg(total);
    if (isPaused())
        text += tr("  ·  paused");
    m_count->setText(text);
}

}  // namespace meshscope

#include "inspect/requestspanel.h"

#include "displayformat.h"
#include "graph/graphaggregator.h"
#include "inspect/models/requeststablemodel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

namespace meshscope {

namespace {
constexpr int kPollMs = 250;
constexpr int kRows = 5000;

// Keeps every column of the requests table in view as it narrows: Path (which
// stretches) gives up its room first, then From, To and Trace ID shrink together down
// to a floor (their text elides in the middle, the ends of ids being what tells them
// apart); only below the floors does the table scroll sideways. A column the user
// drags keeps its width until the table is resized again.
class RequestColumnFitter : public QObject {
public:
    RequestColumnFitter(QTableView *view, std::vector<int> natural, std::vector<int> floor)
        : QObject(view)
        , m_view(view)
        , m_natural(std::move(natural))
        , m_floor(std::move(floor))
    {
        view->viewport()->installEventFilter(this);
    }

    bool eventFilter(QObject *, QEvent *event) override
    {
        if (event->type() == QEvent::Resize)
            fit();
        return false;
    }

    void fit()
    {
        QHeaderView *h = m_view->horizontalHeader();
        const int columns = int(m_natural.size());
        int fixed = 0, slack = 0;
        for (int c = 0; c < columns; ++c) {
            if (c == RequestsTableModel::Path)
                continue;
            fixed += m_natural[size_t(c)];
            slack += m_natural[size_t(c)] - m_floor[size_t(c)];
        }
        const int pathFloor = m_floor[RequestsTableModel::Path];
        const int deficit = std::max(0, fixed + pathFloor - m_view->viewport()->width());
        const double share = slack > 0 ? std::min(1.0, double(deficit) / slack) : 0.0;
        for (int c = 0; c < columns; ++c) {
            if (c == RequestsTableModel::Path)
                continue;
            const int natural = m_natural[size_t(c)];
            h->resizeSection(c, natural - int(std::ceil((natural - m_floor[size_t(c)]) * share)));
        }
    }

private:
    QTableView *m_view;
    std::vector<int> m_natural, m_floor;
};

}  // namespace

RequestsPanel::RequestsPanel(GraphAggregator *aggregator, QWidget *parent)
    : QWidget(parent)
    , m_aggregator(aggregator)
    , m_model(new RequestsTableModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_view(new QTableView(this))
    , m_scope(new QLabel(this))
    , m_count(new QLabel(this))
    , m_hint(new QLabel(this))
    , m_filter(new QLineEdit(this))
    , m_pause(new QToolButton(this))
    , m_timer(new QTimer(this))
    , m_copyCurl(new QAction(tr("Copy as curl"), this))
    , m_copyTraceId(new QAction(tr("Copy trace ID"), this))
    , m_exportCsv(new QAction(tr("Export CSV…"), this))
{
    m_model->setCapacity(kRows);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_scope->setObjectName(QStringLiteral("requestsScope"));
    m_count->setObjectName(QStringLiteral("requestsCount"));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    // A filter that hides every row says so, or an empty table would pass for no traffic.
    m_hint->setObjectName(QStringLiteral("requestsFilterHint"));
    m_hint->setStyleSheet(QStringLiteral("QLabel { color: #d29922; }"));
    m_hint->setTextFormat(Qt::RichText);
    m_hint->hide();
    connect(m_hint, &QLabel::linkActivated, this, [this] { m_filter->clear(); });
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

    m_copyCurl->setObjectName(QStringLiteral("copyCurlAction"));
    m_copyCurl->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_copyCurl->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_copyCurl->setToolTip(tr("Copy the selected HTTP request as a curl command (Ctrl+Shift+C)"));
    connect(m_copyCurl, &QAction::triggered, this, [this] {
        const QString curl = currentRowCurl();
        if (!curl.isEmpty())
            QApplication::clipboard()->setText(curl);
    });
    m_copyTraceId->setObjectName(QStringLiteral("copyTraceIdAction"));
    connect(m_copyTraceId, &QAction::triggered, this, [this] {
        const QModelIndex current = m_view->currentIndex();
        if (current.isValid())
            QApplication::clipboard()->setText(current.siblingAtColumn(RequestsTableModel::TraceId).data().toString());
    });
    m_showTrace = new QAction(tr("Show trace"), this);
    m_showTrace->setObjectName(QStringLiteral("showTraceAction"));
    m_showTrace->setToolTip(tr("The request's trace as a waterfall, with its critical path"));
    connect(m_showTrace, &QAction::triggered, this, [this] {
        if (const QString id = currentTraceId(); !id.isEmpty())
            Q_EMIT traceRequested(id);
    });
    m_openTrace = new QAction(tr("Open trace in Jaeger/Tempo"), this);
    m_openTrace->setObjectName(QStringLiteral("openTraceAction"));
    connect(m_openTrace, &QAction::triggered, this, [this] {
        const QUrl url = currentRowTraceUrl();
        if (!url.isValid())
            return;
        if (m_openUrl)
            m_openUrl(url);
        else
            QDesktopServices::openUrl(url);
    });
    m_exportCsv->setObjectName(QStringLiteral("exportCsvAction"));
    m_exportCsv->setToolTip(tr("Save the rows shown (after the filter) as CSV"));
    connect(m_exportCsv, &QAction::triggered, this, &RequestsPanel::exportWithDialog);
    addAction(m_copyCurl);
    auto *exportButton = new QToolButton(this);
    exportButton->setObjectName(QStringLiteral("requestsExport"));
    exportButton->setDefaultAction(m_exportCsv);
    exportButton->setToolButtonStyle(Qt::ToolButtonTextOnly);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(8, 4, 8, 2);
    bar->addWidget(m_scope);
    bar->addSpacing(12);
    bar->addWidget(m_count);
    bar->addSpacing(8);
    bar->addWidget(m_hint);
    bar->addStretch(1);
    bar->addWidget(m_filter);
    bar->addWidget(m_pause);
    bar->addWidget(clear);
    bar->addWidget(exportButton);

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
    // Widths from character counts: measuring 5,000 rows per flush (ResizeToContents)
    // would be the slow part. Floors for a narrow table: ids keep both ends.
    const int cw = m_view->fontMetrics().averageCharWidth();
    const int widths[] = {14, 18, 18, 8, 34, 14, 10, 8, 34};
    const int floors[] = {14, 10, 10, 8, 12, 9, 9, 6, 12};
    std::vector<int> natural, floor;
    for (int c = 0; c < RequestsTableModel::ColumnCount; ++c) {
        natural.push_back(widths[c] * cw + 12);
        floor.push_back(floors[c] * cw + 12);
    }
    // A whole W3C trace id when there is room: 32 hex digits.
    natural[RequestsTableModel::TraceId]
        = m_view->fontMetrics().horizontalAdvance(QStringLiteral("0123456789abcdef0123456789abcdef")) + 16;
    for (int c = 0; c < RequestsTableModel::ColumnCount; ++c)
        h->resizeSection(c, natural[size_t(c)]);
    h->setSectionResizeMode(RequestsTableModel::Path, QHeaderView::Stretch);
    new RequestColumnFitter(m_view, std::move(natural), std::move(floor));
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    // Double-click or Enter on a row opens its trace (rows without one do nothing).
    connect(m_view, &QAbstractItemView::activated, this, [this](const QModelIndex &index) {
        m_view->setCurrentIndex(index);
        updateActions();
        m_showTrace->trigger();
    });
    connect(m_view, &QWidget::customContextMenuRequested, this, &RequestsPanel::showContextMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this, &RequestsPanel::updateActions);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &RequestsPanel::updateActions);
    updateActions();

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
    m_momentShown = false;
    pollNow();
    updateCount();
}

void RequestsPanel::setGraphView(const GraphViewOptions &view)
{
    if (view == m_graphView)
        return;
    m_graphView = view;
    // The ids in scope may mean other nodes now: read the recent requests again.
    m_model->clear();
    m_lastSeq = 0;
    m_momentShown = false;
    pollNow();
    updateCount();
}

bool RequestsPanel::inScope(const RequestEvent &e) const
{
    if (m_scopeNode.empty() && m_scopeSource.empty())
        return true;
    const bool asPublished = m_graphView.isDefault();
    const std::string source = asPublished ? std::string() : viewNodeId(e.sourceId, m_graphView);
    const std::string target = asPublished ? std::string() : viewNodeId(e.targetId, m_graphView);
    const std::string &from = asPublished ? e.sourceId : source;
    const std::string &to = asPublished ? e.targetId : target;
    if (!m_scopeNode.empty())
        return from == m_scopeNode || to == m_scopeNode;
    return from == m_scopeSource && to == m_scopeTarget;
}

void RequestsPanel::setPaused(bool paused) { m_pause->setChecked(paused); }

QString RequestsPanel::hintText() const { return m_hint->isHidden() ? QString() : m_hint->text(); }

bool RequestsPanel::isPaused() const { return m_pause->isChecked(); }

void RequestsPanel::setPollInterval(int ms) { m_timer->setInterval(ms); }

void RequestsPanel::setMoment(std::optional<std::pair<int64_t, int64_t>> range)
{
    if (range == m_moment)
        return;
    m_moment = range;
    m_momentShown = false;
    m_momentNote.clear();
    m_model->clear();
    m_lastSeq = 0;
    pollNow();
    updateCount();
}

void RequestsPanel::showMoment()
{
    m_momentShown = true;
    m_momentNote.clear();
    m_model->clear();
    const auto [from, to] = *m_moment;
    int64_t oldest = INT64_MAX;
    std::vector<RequestEvent> events
        = m_aggregator->requestsBetween(from, to, m_aggregator->config().recentRequestCapacity, &oldest);
    if (!m_scopeNode.empty() || !m_scopeSource.empty())
        std::erase_if(events, [this](const RequestEvent &e) { return !inScope(e); });
    if (events.size() > size_t(kRows))  // the newest, as the live table keeps them
        events.erase(events.begin(), events.end() - kRows);
    // Shown in the order they started, as live.
    std::stable_sort(
        events.begin(), events.end(), [](const RequestEvent &a, const RequestEvent &b) { return a.timeMs < b.timeMs; });
    if (oldest > from) {
        m_momentNote = oldest > to
            ? tr("None of this moment's requests is still held (the newest %1 are kept); its traces are in Traces › "
                 "Search")
                  .arg(display::count(m_aggregator->config().recentRequestCapacity))
            : tr("Requests before %1 are no longer held (the newest %2 are kept); the table starts there")
                  .arg(QDateTime::fromMSecsSinceEpoch(oldest).toString(QStringLiteral("HH:mm:ss")),
                      display::count(m_aggregator->config().recentRequestCapacity));
    }
    m_model->append(events);
    m_view->scrollToBottom();
}

void RequestsPanel::pollNow()
{
    if (!m_aggregator)
        return;
    if (m_moment) {
        if (!m_momentShown)
            showMoment();
        updateCount();
        return;
    }
    if (isPaused())
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
    QString text = shown == total
        ? display::quantity(total, tr("request"), tr("requests"))
        : tr("%1 of %2 requests").arg(display::count(uint64_t(shown)), display::count(uint64_t(total)));
    if (m_moment)
        text += tr("  ·  at %1")
                    .arg(QDateTime::fromMSecsSinceEpoch(m_moment->second).toString(QStringLiteral("HH:mm:ss")));
    else if (isPaused())
        text += tr("  ·  paused");
    m_count->setText(text);
    if (!m_momentNote.isEmpty()) {
        m_hint->setText(m_momentNote.toHtmlEscaped());
        m_hint->show();
        m_exportCsv->setEnabled(shown > 0);
        return;
    }
    const QString hint = filterHint();
    if (hint.isEmpty()) {
        m_hint->hide();
    } else {
        m_hint->setText(hint.toHtmlEscaped()
            + QStringLiteral(" · <a href='clear' style='color:#58a6ff'>%1</a>").arg(tr("Clear filter")));
        m_hint->show();
    }
    m_exportCsv->setEnabled(shown > 0);
}

QString RequestsPanel::filterHint() const
{
    const int total = m_model->rowCount();
    if (total == 0 || m_proxy->rowCount() > 0 || m_filter->text().isEmpty())
        return {};
    return tr("the filter \u201c%1\u201d hides all %2")
        .arg(m_filter->text(), display::quantity(total, tr("request"), tr("requests")));
}

void RequestsPanel::updateActions()
{
    const QModelIndex current = m_view->currentIndex();
    const int row = current.isValid() ? m_proxy->mapToSource(current).row() : -1;
    m_copyCurl->setEnabled(m_model->isHttp(row));
    m_copyTraceId->setEnabled(
        current.isValid() && !current.siblingAtColumn(RequestsTableModel::TraceId).data().toString().isEmpty());
    m_showTrace->setEnabled(m_copyTraceId->isEnabled());
    const bool linkSet = !m_links.trace.trimmed().isEmpty();
    m_openTrace->setEnabled(currentRowTraceUrl().isValid());
    m_openTrace->setToolTip(linkSet
            ? tr("Open the selected request's trace in Jaeger or Tempo")
            : tr("No trace link is set for this workspace: add one in Sources › Links to Grafana and Jaeger…, with "
                 "{trace_id} where the trace ID goes."));
}

void RequestsPanel::showContextMenu(const QPoint &pos)
{
    const QModelIndex at = m_view->indexAt(pos);
    if (at.isValid())
        m_view->setCurrentIndex(at);
    updateActions();
    QMenu menu(this);
    menu.addAction(m_showTrace);
    menu.setDefaultAction(m_showTrace);
    menu.addAction(m_copyCurl);
    menu.addAction(m_copyTraceId);
    menu.addAction(m_openTrace);
    menu.addSeparator();
    menu.addAction(m_exportCsv);
    if (!m_copyCurl->isEnabled() && at.isValid())
        m_copyCurl->setText(tr("Copy as curl (HTTP requests only)"));
    // A row with a trace but no link set says where the link is set.
    if (!m_openTrace->isEnabled() && !currentTraceId().isEmpty() && m_links.trace.trimmed().isEmpty())
        m_openTrace->setText(tr("Open trace in Jaeger/Tempo (no link set: see the Sources menu)"));
    menu.exec(m_view->viewport()->mapToGlobal(pos));
    m_copyCurl->setText(tr("Copy as curl"));
    m_openTrace->setText(tr("Open trace in Jaeger/Tempo"));
}

void RequestsPanel::setLinkTemplates(const LinkTemplates &links)
{
    m_links = links;
    updateActions();
}

void RequestsPanel::setUrlOpener(UrlOpener opener) { m_openUrl = std::move(opener); }

QString RequestsPanel::currentTraceId() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? current.siblingAtColumn(RequestsTableModel::TraceId).data().toString() : QString();
}

QUrl RequestsPanel::currentRowTraceUrl() const
{
    const QString traceId = currentTraceId();
    if (traceId.isEmpty() || m_links.trace.trimmed().isEmpty()
        || !LinkTemplate::validate(LinkTemplate::Kind::Trace, m_links.trace).isEmpty())
        return {};
    return LinkTemplate::expand(LinkTemplate::Kind::Trace, m_links.trace, LinkTemplate::traceValues(traceId));
}

QString RequestsPanel::currentRowCurl() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? m_model->curlCommand(m_proxy->mapToSource(current).row()) : QString();
}

QByteArray RequestsPanel::shownRowsCsv() const
{
    QList<int> rows;
    rows.reserve(m_proxy->rowCount());
    for (int r = 0; r < m_proxy->rowCount(); ++r)
        rows << m_proxy->mapToSource(m_proxy->index(r, 0)).row();
    return m_model->toCsv(rows);
}

bool RequestsPanel::exportCsv(const QString &fileName, QString *error) const
{
    const QByteArray bytes = shownRowsCsv();
    QSaveFile f(fileName);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
        if (error)
            *error = tr("cannot write %1: %2").arg(fileName, f.errorString());
        return false;
    }
    return true;
}

void RequestsPanel::exportWithDialog()
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (dir.isEmpty())
        dir = QDir::homePath();
    const QString suggested = dir
        + QStringLiteral("/meshscope-requests-%1.csv")
              .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    QString fileName = QFileDialog::getSaveFileName(this, tr("Export requests"), suggested, tr("CSV (*.csv)"));
    if (fileName.isEmpty())
        return;
    if (QFileInfo(fileName).suffix().isEmpty())
        fileName += QStringLiteral(".csv");
    QString error;
    if (!exportCsv(fileName, &error))
        QMessageBox::warning(this, tr("Export failed"), error);
}

}  // namespace meshscope

#include "traces/traceview.h"

#include "displayformat.h"
#include "traces/clockskew.h"
#include "traces/criticalpath.h"
#include "traces/models/tracerowsmodel.h"
#include "traces/spandetails.h"
#include "traces/timelineheader.h"
#include "traces/traceminimap.h"
#include "traces/waterfalldelegate.h"
#include "traces/waterfallstyle.h"

#include <QCheckBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace meshscope {

namespace {

// Traces up to this size get their clock-skew adjustment computed right after they
// show, so the switch can say how many spans it would move; bigger ones on first use.
constexpr size_t kEagerSkewSpans = 20000;

char foldAscii(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// Case-insensitive (ASCII) substring test; `needle` is already lower case. Folding
// ASCII only keeps a 100,000-span search free of allocations.
bool containsFolded(const std::string &hay, const std::string &needle)
{
    if (needle.size() > hay.size())
        return false;
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return foldAscii(a) == b;
    }) != hay.end();
}

const CriticalPathResult &emptyCriticalPath()
{
    static const CriticalPathResult empty;
    return empty;
}

// For each span of the adjusted tree, its index in the original: ids identify spans,
// and where the tree kept duplicates, the recorded times and names tell them apart.
std::vector<uint32_t> originalIndices(const TraceTree &original, const ClockSkewResult &adjusted)
{
    const size_t n = original.size();
    std::vector<std::pair<uint64_t, uint32_t>> byId(n);
    for (uint32_t i = 0; i < n; ++i)
        byId[i] = {original.spans[i].spanId, i};
    std::sort(byId.begin(), byId.end());
    std::vector<uint8_t> used(n, 0);
    std::vector<uint32_t> map(adjusted.tree.size(), 0);
    for (uint32_t j = 0; j < adjusted.tree.size(); ++j) {
        const Span &s = adjusted.tree.spans[j];
        auto range = std::equal_range(byId.begin(), byId.end(), std::pair<uint64_t, uint32_t> {s.spanId, 0},
            [](const auto &a, const auto &b) { return a.first < b.first; });
        int64_t pick = -1;
        for (auto it = range.first; it != range.second; ++it) {
            if (used[it->second])
                continue;
            const Span &o = original.spans[it->second];
            const int64_t shift = adjusted.adjustmentNs[j];
            if (pick < 0)
                pick = it->second;
            if (int64_t(o.startNs) + shift == int64_t(s.startNs) && o.endNs - o.startNs == s.endNs - s.startNs
                && o.service == s.service && o.name == s.name) {
                pick = it->second;
                break;
            }
        }
        if (pick >= 0) {
            used[size_t(pick)] = 1;
            map[j] = uint32_t(pick);
        }
    }
    return map;
}

}  // namespace

TraceView::TraceView(QWidget *parent)
    : QWidget(parent)
    , m_model(new TraceRowsModel(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->setSpacing(5);

    // Header: what this trace is, at a glance.
    auto *titleRow = new QHBoxLayout;
    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::RichText);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_traceId = new QLabel(this);
    m_traceId->setFont(QFont(QStringLiteral("monospace")));
    m_traceId->setForegroundRole(QPalette::PlaceholderText);
    m_traceId->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_traceId->setToolTip(tr("Trace id"));
    titleRow->addWidget(m_title, 1);
    titleRow->addWidget(m_traceId);
    layout->addLayout(titleRow);
    m_stats = new QLabel(this);
    m_stats->setTextFormat(Qt::RichText);
    layout->addWidget(m_stats);
    m_problems = new QLabel(this);
    m_problems->setWordWrap(true);
    m_problems->setTextFormat(Qt::PlainText);
    m_problems->setStyleSheet(QStringLiteral("QLabel { color: #e3b341; background: #2a2315; border: 1px solid #5a4a1f; "
                                             "border-radius: 3px; padding: 3px 6px; }"));
    m_problems->hide();
    layout->addWidget(m_problems);

    // Find bar and view switches.
    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    m_find = new QLineEdit(this);
    m_find->setPlaceholderText(tr("Find: service, operation, attribute (Ctrl+F)"));
    m_find->setClearButtonEnabled(true);
    m_find->setMinimumWidth(260);
    m_find->setMaximumWidth(420);
    m_findPrev = new QToolButton(this);
    m_findPrev->setArrowType(Qt::UpArrow);
    m_findPrev->setToolTip(tr("Previous match (Shift+Enter)"));
    m_findNext = new QToolButton(this);
    m_findNext->setArrowType(Qt::DownArrow);
    m_findNext->setToolTip(tr("Next match (Enter)"));
    m_findStatus = new QLabel(this);
    m_findStatus->setMinimumWidth(90);
    m_criticalOnly = new QCheckBox(tr("Critical path only"), this);
    m_criticalOnly->setToolTip(tr("Show only the spans whose own work is on the critical path, and their ancestors"));
    m_skew = new QCheckBox(tr("Adjust clock skew"), this);
    auto *expandAll = new QToolButton(this);
    expandAll->setText(tr("Expand all"));
    auto *collapseAll = new QToolButton(this);
    collapseAll->setText(tr("Collapse all"));
    collapseAll->setToolTip(tr("Collapse every span below the root's children"));
    bar->addWidget(m_find, 1);
    bar->addWidget(m_findPrev);
    bar->addWidget(m_findNext);
    bar->addWidget(m_findStatus);
    bar->addStretch(1);
    bar->addWidget(m_criticalOnly);
    bar->addSpacing(8);
    bar->addWidget(m_skew);
    bar->addSpacing(8);
    bar->addWidget(expandAll);
    bar->addWidget(collapseAll);
    layout->addLayout(bar);

    m_minimap = new TraceMinimap(m_model, this);
    layout->addWidget(m_minimap);

    // The waterfall and the details pane.
    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_table = new QTableView(m_splitter);
    m_header = new TimelineHeader(TraceRowsModel::Timeline, m_table);
    waterfall::setUpRowsTable(m_table, m_header);
    m_table->setModel(m_model);
    m_table->setItemDelegate(new WaterfallDelegate(m_model, m_table));
    m_header->setMinimumSectionSize(60);
    m_header->setStretchLastSection(true);
    m_header->resizeSection(TraceRowsModel::Name, 330);
    m_header->resizeSection(TraceRowsModel::Duration, 76);
    m_header->resizeSection(TraceRowsModel::Self, 76);
    m_header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_details = new SpanDetails(m_splitter);
    m_details->setMinimumWidth(260);
    m_splitter->addWidget(m_table);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 0);
    m_splitter->setSizes({900, 340});
    layout->addWidget(m_splitter, 1);

    m_findTimer = new QTimer(this);
    m_findTimer->setSingleShot(true);
    m_findTimer->setInterval(150);  // one scan per pause in typing, not per key
    connect(m_find, &QLineEdit::textChanged, m_findTimer, qOverload<>(&QTimer::start));
    connect(m_findTimer, &QTimer::timeout, this, [this] { runFind(true); });
    connect(m_findNext, &QToolButton::clicked, this, &TraceView::findNext);
    connect(m_findPrev, &QToolButton::clicked, this, &TraceView::findPrevious);
    connect(m_criticalOnly, &QCheckBox::toggled, this, &TraceView::applyCriticalOnly);
    connect(m_skew, &QCheckBox::toggled, this, &TraceView::applySkew);
    connect(expandAll, &QToolButton::clicked, this, [this] {
        m_model->expandAll();
        restoreSelection();
    });
    connect(collapseAll, &QToolButton::clicked, this, [this] {
        m_model->collapseAll();
        restoreSelection();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) { onCurrentRowChanged(current.isValid() ? current.row() : -1); });
    connect(m_details, &SpanDetails::openInGraphRequested, this, &TraceView::openInGraphRequested);
    connect(m_minimap, &TraceMinimap::rowRequested, this,
        [this](int row) { m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter); });
    connect(m_table->verticalScrollBar(), &QScrollBar::valueChanged, this, &TraceView::updateMinimapWindow);
    connect(m_table->verticalScrollBar(), &QScrollBar::rangeChanged, this, &TraceView::updateMinimapWindow);
    for (QObject *o : {static_cast<QObject *>(m_table), static_cast<QObject *>(m_find),
             static_cast<QObject *>(m_details->attributesTree())})
        o->installEventFilter(this);

    updateHeader();
    updateSkewBox();
}

TraceView::~TraceView() = default;

const WaterfallTrace *TraceView::shown() const { return m_model->trace(); }

const TraceTree *TraceView::tree() const { return shown() ? &shown()->tree : nullptr; }

const CriticalPathResult &TraceView::criticalPath() const { return shown() ? shown()->critical : emptyCriticalPath(); }

const std::vector<int64_t> &TraceView::skewAdjustments() const
{
    static const std::vector<int64_t> none;
    return shown() ? shown()->skewNs : none;
}

bool TraceView::isSkewAdjusted() const { return m_skew->isChecked(); }

void TraceView::setCriticalOnly(bool on) { m_criticalOnly->setChecked(on); }

void TraceView::setSkewAdjusted(bool on) { m_skew->setChecked(on); }

void TraceView::setTrace(TraceTree tree) { setTrace(WaterfallTrace::make(std::move(tree))); }

void TraceView::setTrace(std::shared_ptr<const WaterfallTrace> prepared)
{
    if (!prepared) {
        clear();
        return;
    }
    m_adjusted.reset();
    m_original = std::move(prepared);
    present(m_skew->isChecked() ? adjusted() : m_original, {}, -1);
    if (!m_adjusted && m_original->tree.size() <= kEagerSkewSpans) {
        // After the first paint, so the switch can say what it would do.
        const std::weak_ptr<const WaterfallTrace> target = m_original;
        QTimer::singleShot(0, this, [this, target] {
            if (target.lock() == m_original && !m_adjusted) {
                adjusted();
                updateSkewBox();
            }
        });
    }
    Q_EMIT traceShown();
}

void TraceView::clear()
{
    m_original.reset();
    m_adjusted.reset();
    present(nullptr, {}, -1);
}

std::shared_ptr<const WaterfallTrace> TraceView::adjusted()
{
    if (!m_adjusted && m_original) {
        ClockSkewResult r = adjustClockSkew(m_original->tree);
        std::vector<uint32_t> map = originalIndices(m_original->tree, r);
        m_adjusted
            = WaterfallTrace::make(std::move(r.tree), std::move(r.adjustmentNs), std::move(r.notes), std::move(map));
    }
    return m_adjusted;
}

void TraceView::present(std::shared_ptr<const WaterfallTrace> trace, std::vector<uint8_t> collapsed, int64_t selected)
{
    const bool hadSelection = m_selected >= 0;
    m_header->setTotalNs(trace ? trace->durationNs() : 0);
    m_model->setTrace(std::move(trace), std::move(collapsed));
    m_selected = selected;
    restoreSelection();
    if (hadSelection && m_selected < 0 && selected < 0)
        Q_EMIT spanSelected(-1);
    runFind(false);
    updateHeader();
    updateSkewBox();
    updateMinimapWindow();
}

void TraceView::applySkew(bool on)
{
    if (!m_original)
        return;
    const std::shared_ptr<const WaterfallTrace> target = on ? adjusted() : m_original;
    if (target.get() == shown())
        return;
    // Carry collapsed spans and the selection across: the adjusted tree's siblings are
    // re-sorted by their new times, so the same span has another index there.
    const std::vector<uint32_t> &map = m_adjusted->originalIndex;
    const std::vector<uint8_t> &from = m_model->collapsedSpans();
    std::vector<uint8_t> collapsed(map.size(), 0);
    int64_t selected = -1;
    for (uint32_t j = 0; j < map.size(); ++j) {
        if (on) {
            collapsed[j] = from[map[j]];
            if (int64_t(map[j]) == m_selected)
                selected = j;
        } else {
            collapsed[map[j]] = from[j];
            if (int64_t(j) == m_selected)
                selected = map[j];
        }
    }
    present(target, std::move(collapsed), selected);
}

void TraceView::applyCriticalOnly(bool on)
{
    m_model->setCriticalOnly(on);
    restoreSelection();
    runFind(false);
    updateMinimapWindow();
}

void TraceView::updateHeader()
{
    const WaterfallTrace *t = shown();
    if (!t || t->tree.empty()) {
        m_title->setText(tr("<b>No trace</b>"));
        m_traceId->clear();
        m_stats->setText(tr("Pick a trace to see its spans as a waterfall."));
        m_problems->hide();
        return;
    }
    const TraceTree &tree = t->tree;
    uint32_t root = tree.roots.empty() ? 0 : tree.roots.front();
    for (uint32_t r : tree.roots) {
        if (!tree.isSynthetic(r)) {
            root = r;
            break;
        }
    }
    const Span &rootSpan = tree.spans[root];
    m_title->setText(
        QStringLiteral("<span style=\"color:%1\"><b>%2</b></span>: %3")
            .arg(t->serviceColors[t->serviceOf[root]].name(), t->services[t->serviceOf[root]].toHtmlEscaped(),
                QString::fromStdString(rootSpan.name).toHtmlEscaped()));
    m_traceId->setText(QString::fromStdString(traceIdHex(rootSpan.traceId)));

    bool synthetic = false;
    for (uint32_t r : tree.roots)
        synthetic |= tree.isSynthetic(r);
    const int64_t spans = int64_t(tree.size()) - (synthetic ? 1 : 0);
    const int64_t services = int64_t(t->services.size()) - (synthetic ? 1 : 0);
    const QString started = QDateTime::fromMSecsSinceEpoch(qint64(tree.startNs / 1000000))
                                .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
    const QString sep = QStringLiteral("&nbsp;&nbsp;·&nbsp;&nbsp;");
    const QString errors = tree.errorCount > 0
        ? QStringLiteral("<b style=\"color:#f85149\">%1</b>").arg(display::count(uint64_t(tree.errorCount)))
        : QStringLiteral("<b>0</b>");
    m_stats->setText(tr("Started <b>%1</b>").arg(started) + sep
        + tr("Duration <b>%1</b>").arg(waterfall::duration(t->durationNs())) + sep
        + tr("Spans <b>%1</b>").arg(display::count(uint64_t(spans))) + sep
        + tr("Services <b>%1</b>").arg(display::count(uint64_t(std::max<int64_t>(0, services)))) + sep
        + tr("Errors %1").arg(errors) + sep + tr("Depth <b>%1</b>").arg(t->maxDepth + 1));

    QStringList lines;
    for (const std::string &problem : tree.problems)
        lines << QStringLiteral("⚠ ") + QString::fromStdString(problem);
    if (tree.truncated)
        lines << QStringLiteral("⚠ ")
                + tr("truncated at %1 spans: the trace store dropped the rest of this trace")
                      .arg(display::count(uint64_t(spans)));
    if (!t->skewNs.empty() && t->shiftedCount > 0)
        lines << tr("Clock skew adjusted: %1 moved to fit their parents (clock glyph; dashed line under a bar = its "
                    "recorded time)")
                     .arg(display::quantity(t->shiftedCount, tr("span"), tr("spans")));
    QStringList notes;
    for (const std::string &note : t->skewNotes)
        notes << QString::fromStdString(note);
    m_problems->setText(lines.join(QLatin1Char('\n')));
    m_problems->setToolTip(notes.join(QLatin1Char('\n')));
    m_problems->setVisible(!lines.isEmpty());
}

void TraceView::updateSkewBox()
{
    const QString explain = tr("Shift spans recorded on another host so they fit inside their parent, "
                               "assuming network time is split evenly (Jaeger's clock-skew adjustment). "
                               "Off: times as recorded.");
    if (!m_adjusted) {
        m_skew->setText(tr("Adjust clock skew"));
        m_skew->setToolTip(explain);
        return;
    }
    const int shifted = m_adjusted->shiftedCount;
    m_skew->setText(shifted == 0
            ? tr("Adjust clock skew (none needed)")
            : tr("Adjust clock skew (%1)").arg(display::quantity(shifted, tr("span"), tr("spans"))));
    QStringList notes;
    for (const std::string &note : m_adjusted->skewNotes)
        notes << QString::fromStdString(note);
    m_skew->setToolTip(notes.isEmpty() ? explain : explain + QStringLiteral("\n\n") + notes.join(QLatin1Char('\n')));
}

void TraceView::updateMinimapWindow()
{
    const int first = std::max(0, m_table->rowAt(0));
    const int count = m_table->viewport()->height() / waterfall::kRowHeight + 1;
    m_minimap->setWindow(first, count);
}

void TraceView::onCurrentRowChanged(int row)
{
    if (row < 0 || !shown())
        return;  // a reset; restoreSelection() decides what stays selected
    const uint32_t span = m_model->spanAt(row);
    if (int64_t(span) == m_selected && !m_restoring)
        return;
    m_restoring = false;  // handled here: restoreSelection() need not repeat it
    m_selected = span;
    m_details->showSpan(*shown(), span);
    Q_EMIT spanSelected(int(span));
}

void TraceView::restoreSelection()
{
    const int row = m_selected >= 0 && shown() ? m_model->rowOf(uint32_t(m_selected)) : -1;
    if (row < 0) {
        const bool had = m_selected >= 0;
        m_selected = -1;
        m_details->clear();
        m_table->selectionModel()->clear();
        if (had)
            Q_EMIT spanSelected(-1);
        return;
    }
    // Re-emits for the same span: after a skew switch its index and times changed.
    m_restoring = true;
    m_table->setCurrentIndex(m_model->index(row, TraceRowsModel::Name));
    if (m_restoring) {
        // The row was current already, so no currentRowChanged came.
        m_restoring = false;
        m_details->showSpan(*shown(), uint32_t(m_selected));
        Q_EMIT spanSelected(int(m_selected));
    }
    m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::EnsureVisible);
}

bool TraceView::selectSpan(int index)
{
    if (!shown() || index < 0 || size_t(index) >= shown()->tree.size() || !m_model->reveal(uint32_t(index)))
        return false;
    const int row = m_model->rowOf(uint32_t(index));
    m_table->setCurrentIndex(m_model->index(row, TraceRowsModel::Name));
    m_table->scrollTo(m_model->index(row, 0), QAbstractItemView::PositionAtCenter);
    return true;
}

bool TraceView::selectOriginalSpan(int index)
{
    const WaterfallTrace *t = shown();
    if (!t || t->originalIndex.empty())
        return selectSpan(index);
    const auto it = std::find(t->originalIndex.begin(), t->originalIndex.end(), uint32_t(index));
    return it != t->originalIndex.end() && selectSpan(int(it - t->originalIndex.begin()));
}

void TraceView::runFind(bool jump)
{
    m_findTimer->stop();
    m_matches.clear();
    m_matchPos = -1;
    const std::string query = m_find->text().trimmed().toLower().toStdString();
    const WaterfallTrace *t = shown();
    if (!t || query.empty()) {
        m_model->setMatches({});
        updateFindStatus();
        return;
    }
    const TraceTree &tree = t->tree;
    std::vector<uint8_t> mask(tree.size(), 0);
    for (uint32_t i = 0; i < tree.size(); ++i) {
        if (tree.isSynthetic(i) || !m_model->passesFilter(i))
            continue;
        const Span &s = tree.spans[i];
        bool hit = containsFolded(s.service, query) || containsFolded(s.name, query);
        for (size_t a = 0; !hit && a < s.attributes.size(); ++a)
            hit = containsFolded(s.attributes[a].value, query);
        if (hit) {
            mask[i] = 1;
            m_matches.push_back(i);
        }
    }
    m_model->setMatches(std::move(mask));
    if (jump && !m_matches.empty()) {
        // The first match from the selection on, so refining the text keeps one's place.
        const auto it
            = std::lower_bound(m_matches.begin(), m_matches.end(), uint32_t(std::max<int64_t>(0, m_selected)));
        goToMatch(it == m_matches.end() ? 0 : int(it - m_matches.begin()));
        return;
    }
    updateFindStatus();
}

void TraceView::goToMatch(int pos)
{
    if (pos < 0 || size_t(pos) >= m_matches.size())
        return;
    m_matchPos = pos;
    const uint32_t span = m_matches[size_t(pos)];
    m_model->setCurrentMatch(span);
    selectSpan(int(span));
    updateFindStatus();
}

void TraceView::findNext()
{
    if (m_findTimer->isActive()) {
        runFind(true);  // Enter right after typing: the first match, not the second
        return;
    }
    if (m_matches.empty())
        return;
    goToMatch(m_matchPos < 0 ? 0 : (m_matchPos + 1) % int(m_matches.size()));
}

void TraceView::findPrevious()
{
    if (m_findTimer->isActive())
        runFind(false);
    if (m_matches.empty())
        return;
    const int n = int(m_matches.size());
    goToMatch(m_matchPos < 0 ? n - 1 : (m_matchPos + n - 1) % n);
}

void TraceView::updateFindStatus()
{
    const bool searching = !m_find->text().trimmed().isEmpty();
    m_findPrev->setEnabled(!m_matches.empty());
    m_findNext->setEnabled(!m_matches.empty());
    if (!searching) {
        m_findStatus->clear();
        return;
    }
    if (m_matches.empty()) {
        m_findStatus->setText(tr("no matches"));
        m_findStatus->setStyleSheet(QStringLiteral("color: #ff7b72;"));
        return;
    }
    m_findStatus->setStyleSheet(QString());
    m_findStatus->setText(m_matchPos < 0 ? display::quantity(qint64(m_matches.size()), tr("match"), tr("matches"))
                                         : tr("%1 of %2").arg(m_matchPos + 1).arg(m_matches.size()));
}

bool TraceView::handleTableKey(int key)
{
    const QModelIndex current = m_table->currentIndex();
    if (!current.isValid() || !shown())
        return false;
    const int row = current.row();
    const uint32_t span = m_model->spanAt(row);
    const bool children = m_model->hasVisibleChildren(span);
    if (key == Qt::Key_Right) {
        if (children && !m_model->isExpanded(span))
            m_model->setExpanded(span, true);
        else if (children && row + 1 < m_model->rowCount())
            m_table->setCurrentIndex(m_model->index(row + 1, TraceRowsModel::Name));
        return true;
    }
    if (children && m_model->isExpanded(span)) {
        m_model->setExpanded(span, false);
        return true;
    }
    const int32_t parent = shown()->tree.parent[span];
    const int parentRow = parent >= 0 ? m_model->rowOf(uint32_t(parent)) : -1;
    if (parentRow >= 0)
        m_table->setCurrentIndex(m_model->index(parentRow, TraceRowsModel::Name));
    return true;
}

bool TraceView::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::ShortcutOverride || event->type() == QEvent::KeyPress) {
        auto *key = static_cast<QKeyEvent *>(event);
        // Inside the trace view Ctrl+F finds in the trace; claiming it here keeps the
        // window's own Find (services on the graph) from taking it.
        if (key->matches(QKeySequence::Find)) {
            event->accept();
            if (event->type() == QEvent::KeyPress) {
                m_find->setFocus(Qt::ShortcutFocusReason);
                m_find->selectAll();
            }
            return true;
        }
    }
    if (event->type() != QEvent::KeyPress)
        return QWidget::eventFilter(watched, event);
    auto *key = static_cast<QKeyEvent *>(event);
    if (watched == m_table && (key->key() == Qt::Key_Left || key->key() == Qt::Key_Right)
        && !(key->modifiers() & (Qt::ControlModifier | Qt::AltModifier)))
        return handleTableKey(key->key());
    if (watched == m_find) {
        if (key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) {
            if (key->modifiers() & Qt::ShiftModifier)
                findPrevious();
            else
                findNext();
            return true;
        }
        if (key->key() == Qt::Key_Escape) {
            if (!m_find->text().isEmpty())
                m_find->clear();
            else
                m_table->setFocus(Qt::OtherFocusReason);
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

}  // namespace meshscope

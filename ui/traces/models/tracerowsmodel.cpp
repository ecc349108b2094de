#include "traces/models/tracerowsmodel.h"

#include "traces/waterfallstyle.h"

#include <algorithm>
#include <unordered_map>

namespace meshscope {

std::shared_ptr<const WaterfallTrace> WaterfallTrace::make(TraceTree tree, std::vector<int64_t> skewNs,
    std::vector<std::string> skewNotes, std::vector<uint32_t> originalIndex)
{
    auto t = std::make_shared<WaterfallTrace>();
    t->tree = std::move(tree);
    t->skewNs = std::move(skewNs);
    t->skewNotes = std::move(skewNotes);
    t->originalIndex = std::move(originalIndex);
    const TraceTree &tr = t->tree;
    const uint32_t n = uint32_t(tr.size());
    t->critical = computeCriticalPath(tr);

    // Sections come root by root in time order; painting wants them per span.
    t->sectionBegin.assign(size_t(n) + 1, 0);
    for (const CriticalSection &s : t->critical.sections)
        ++t->sectionBegin[s.span + 1];
    for (uint32_t i = 0; i < n; ++i)
        t->sectionBegin[i + 1] += t->sectionBegin[i];
    t->sectionsBySpan.resize(t->critical.sections.size());
    {
        std::vector<uint32_t> cursor(t->sectionBegin.begin(), t->sectionBegin.end() - 1);
        for (const CriticalSection &s : t->critical.sections)
            t->sectionsBySpan[cursor[s.span]++] = s;
    }

    t->serviceOf.resize(n);
    t->error.resize(n);
    std::unordered_map<std::string, uint32_t> ids;
    for (uint32_t i = 0; i < n; ++i) {
        const Span &s = tr.spans[i];
        const auto [it, added] = ids.try_emplace(s.service, uint32_t(t->services.size()));
        if (added) {
            t->services.push_back(QString::fromStdString(s.service));
            // The synthetic root is no service: grey, and it takes no palette slot.
            t->serviceColors.push_back(tr.isSynthetic(i) ? waterfall::syntheticColor()
                                                         : waterfall::serviceColor(int(t->serviceColors.size())));
        }
        t->serviceOf[i] = it->second;
        t->error[i] = !tr.isSynthetic(i) && isErrorSpan(s);
        t->maxDepth = std::max(t->maxDepth, tr.depth[i]);
    }
    for (int64_t shift : t->skewNs)
        t->shiftedCount += shift != 0;
    return t;
}

TraceRowsModel::TraceRowsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int TraceRowsModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_visible.size()); }

int TraceRowsModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString TraceRowsModel::nameText(uint32_t span) const
{
    const Span &s = m_trace->tree.spans[span];
    if (m_trace->tree.isSynthetic(span))
        return tr("(missing parent)");
    return m_trace->services[m_trace->serviceOf[span]] + QStringLiteral("  ") + QString::fromStdString(s.name);
}

QString TraceRowsModel::tooltip(uint32_t span) const
{
    const WaterfallTrace &t = *m_trace;
    const Span &s = t.tree.spans[span];
    QString text = nameText(span) + QLatin1Char('\n')
        + tr("start %1 · duration %2")
              .arg(waterfall::duration(t.offsetNs(span)), waterfall::duration(s.endNs - s.startNs))
        + QLatin1Char('\n')
        + tr("self %1 · on critical path %2")
              .arg(waterfall::duration(t.critical.selfNs[span]), waterfall::duration(t.critical.criticalNs[span]));
    if (const int64_t shift = t.skew(span))
        text += QLatin1Char('\n') + tr("clock skew: shifted %1").arg(waterfall::shift(shift));
    if (t.error[span])
        text += QLatin1Char('\n')
            + (s.statusMessage.empty() ? tr("error") : tr("error: %1").arg(QString::fromStdString(s.statusMessage)));
    if (t.tree.isSynthetic(span))
        text += QLatin1Char('\n') + tr("Stand-in for parents missing from the trace");
    return text;
}

QVariant TraceRowsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const uint32_t span = m_visible[size_t(index.row())];
    const WaterfallTrace &t = *m_trace;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Name: return nameText(span);
        case Duration: return waterfall::duration(t.tree.durationNs(span));
        case Self: return waterfall::duration(t.critical.selfNs[span]);
        case Timeline: return waterfall::duration(t.offsetNs(span));
        default: return {};
        }
    case Qt::TextAlignmentRole:
        if (index.column() == Duration || index.column() == Self)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::BackgroundRole:
        if (int64_t(span) == m_currentMatch)
            return waterfall::currentFindColor();
        if (isMatch(span))
            return waterfall::findColor();
        return {};
    case Qt::ToolTipRole: return tooltip(span);
    case SpanIndexRole: return int(span);
    case DepthRole: return t.tree.depth[span];
    case HasChildrenRole: return hasVisibleChildren(span);
    case ExpandedRole: return isExpanded(span);
    case ErrorRole: return bool(t.error[span]);
    case CriticalNsRole: return qulonglong(t.critical.criticalNs[span]);
    case SelfNsRole: return qulonglong(t.critical.selfNs[span]);
    case OffsetNsRole: return qulonglong(t.offsetNs(span));
    case SkewNsRole: return qlonglong(t.skew(span));
    case MatchRole: return int64_t(span) == m_currentMatch ? 2 : isMatch(span) ? 1 : 0;
    case SpanIdRole: return QString::fromStdString(spanIdHex(t.tree.spans[span].spanId));
    default: return {};
    }
}

QVariant TraceRowsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole) {
        switch (section) {
        case Self: return tr("Time of the span not covered by its children");
        case Timeline:
            return tr("Bars on the trace's time axis. Bright: the span's own time on the critical path "
                      "(what decided when the trace ended); dim: the rest. Red outline: failed span.");
        default: return {};
        }
    }
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Name: return tr("Service  Operation");
    case Duration: return tr("Duration");
    case Self: return tr("Self");
    case Timeline: return tr("Timeline");
    default: return {};
    }
}

void TraceRowsModel::setTrace(std::shared_ptr<const WaterfallTrace> trace, std::vector<uint8_t> collapsed)
{
    beginResetModel();
    m_trace = std::move(trace);
    const size_t n = m_trace ? m_trace->tree.size() : 0;
    m_collapsed = std::move(collapsed);
    m_collapsed.resize(n, 0);
    m_matches.clear();
    m_currentMatch = -1;
    m_kept.clear();
    rebuild();
    endResetModel();
}

void TraceRowsModel::appendVisible(uint32_t begin, uint32_t end, std::vector<uint32_t> &out) const
{
    const std::vector<uint32_t> &subtreeEnd = m_trace->tree.subtreeEnd;
    uint32_t j = begin;
    while (j < end) {
        if (!passesFilter(j)) {
            j = subtreeEnd[j];
            continue;
        }
        out.push_back(j);
        j = m_collapsed[j] ? subtreeEnd[j] : j + 1;
    }
}

void TraceRowsModel::rebuild()
{
    m_visible.clear();
    if (!m_trace)
        return;
    const TraceTree &tree = m_trace->tree;
    const uint32_t n = uint32_t(tree.size());
    if (m_criticalOnly && m_kept.size() != n) {
        // Reverse pre-order visits children before parents: one pass marks ancestors.
        m_kept.assign(n, 0);
        const std::vector<uint64_t> &critical = m_trace->critical.criticalNs;
        for (uint32_t i = n; i-- > 0;) {
            if (critical[i] > 0)
                m_kept[i] |= kKept;
            if ((m_kept[i] & kKept) && tree.parent[i] >= 0)
                m_kept[size_t(tree.parent[i])] |= kKept | kKeptChild;
        }
    }
    m_visible.reserve(n);
    appendVisible(0, n, m_visible);
}

int TraceRowsModel::rowOf(uint32_t span) const
{
    const auto it = std::lower_bound(m_visible.begin(), m_visible.end(), span);
    return it != m_visible.end() && *it == span ? int(it - m_visible.begin()) : -1;
}

bool TraceRowsModel::hasVisibleChildren(uint32_t span) const
{
    if (!m_trace->hasChildren(span))
        return false;
    return !m_criticalOnly || (m_kept[span] & kKeptChild);
}

void TraceRowsModel::emitRowChanged(uint32_t span)
{
    const int row = rowOf(span);
    if (row >= 0)
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void TraceRowsModel::setExpanded(uint32_t span, bool expanded)
{
    if (!m_trace || span >= m_collapsed.size() || bool(m_collapsed[span]) == !expanded)
        return;
    m_collapsed[span] = !expanded;
    const int row = rowOf(span);
    if (row < 0)
        return;  // hidden: only the flag changes, seen when an ancestor opens
    const uint32_t end = m_trace->tree.subtreeEnd[span];
    if (expanded) {
        std::vector<uint32_t> added;
        appendVisible(span + 1, end, added);
        if (!added.empty()) {
            beginInsertRows({}, row + 1, row + int(added.size()));
            m_visible.insert(m_visible.begin() + row + 1, added.begin(), added.end());
            endInsertRows();
        }
    } else {
        const auto first = m_visible.begin() + row + 1;
        const auto last = std::lower_bound(first, m_visible.end(), end);
        if (last != first) {
            beginRemoveRows({}, row + 1, row + int(last - first));
            m_visible.erase(first, last);
            endRemoveRows();
        }
    }
    emitRowChanged(span);
}

void TraceRowsModel::toggle(int row)
{
    if (row < 0 || row >= rowCount())
        return;
    const uint32_t span = m_visible[size_t(row)];
    if (hasVisibleChildren(span))
        setExpanded(span, !isExpanded(span));
}

void TraceRowsModel::expandAll()
{
    if (!m_trace)
        return;
    beginResetModel();
    std::fill(m_collapsed.begin(), m_collapsed.end(), 0);
    rebuild();
    endResetModel();
}

void TraceRowsModel::collapseAll()
{
    if (!m_trace)
        return;
    beginResetModel();
    const TraceTree &tree = m_trace->tree;
    for (size_t i = 0; i < tree.size(); ++i)
        m_collapsed[i] = tree.parent[i] >= 0 && m_trace->hasChildren(uint32_t(i));
    rebuild();
    endResetModel();
}

bool TraceRowsModel::reveal(uint32_t span)
{
    if (!m_trace || span >= m_collapsed.size() || !passesFilter(span))
        return false;
    // Only the topmost collapsed ancestor has a row; the others open by their flag and
    // come in with its subtree, in one insert.
    int64_t topmost = -1;
    for (int32_t a = m_trace->tree.parent[span]; a >= 0; a = m_trace->tree.parent[size_t(a)]) {
        if (m_collapsed[size_t(a)]) {
            if (topmost >= 0)
                m_collapsed[size_t(topmost)] = 0;
            topmost = a;
        }
    }
    if (topmost >= 0)
        setExpanded(uint32_t(topmost), true);
    return true;
}

void TraceRowsModel::setCriticalOnly(bool on)
{
    if (on == m_criticalOnly)
        return;
    beginResetModel();
    m_criticalOnly = on;
    m_kept.clear();
    rebuild();
    endResetModel();
}

void TraceRowsModel::setMatches(std::vector<uint8_t> matches)
{
    m_matches = std::move(matches);
    m_currentMatch = -1;
    if (!m_visible.empty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1), {Qt::BackgroundRole, MatchRole});
}

void TraceRowsModel::setCurrentMatch(int64_t span)
{
    if (span == m_currentMatch)
        return;
    const int64_t old = m_currentMatch;
    m_currentMatch = span;
    if (old >= 0)
        emitRowChanged(uint32_t(old));
    if (span >= 0)
        emitRowChanged(uint32_t(span));
}

}  // namespace meshscope

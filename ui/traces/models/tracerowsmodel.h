#pragma once
// The rows of the trace waterfall: one row per VISIBLE span, in the tree's pre-order.
// The trace itself is an immutable snapshot (WaterfallTrace) shared with the delegate
// and the details pane; the model only keeps which spans are collapsed, which pass the
// "critical path only" filter and which match the find text, plus the visible-index
// vector. Collapsing or expanding one span removes or inserts its visible descendants
// with one beginRemoveRows/beginInsertRows (they are contiguous in pre-order); filter
// changes rebuild the vector in one pass and reset. Nothing is per row but an index.

#include "traces/criticalpath.h"
#include "traces/tracetree.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QString>

#include <memory>
#include <vector>

namespace meshscope {

// One trace as the waterfall shows it: the tree (clock-skew adjusted or not), its
// critical path and self times, and what painting needs precomputed per span.
struct WaterfallTrace {
    TraceTree tree;
    CriticalPathResult critical;
    // Per span: the shift the clock-skew adjustment applied; empty when not adjusted.
    std::vector<int64_t> skewNs;
    std::vector<std::string> skewNotes;
    // Per span of an adjusted tree: its index in the unadjusted tree (empty otherwise),
    // so selection and collapsed spans survive switching the adjustment.
    std::vector<uint32_t> originalIndex;
    // critical.sections regrouped per span: span i's are
    // sectionsBySpan[sectionBegin[i] .. sectionBegin[i + 1]).
    std::vector<CriticalSection> sectionsBySpan;
    std::vector<uint32_t> sectionBegin;
    // Per span: index into services/serviceColors (order of first appearance).
    std::vector<uint32_t> serviceOf;
    std::vector<QString> services;
    std::vector<QColor> serviceColors;
    std::vector<uint8_t> error;  // per span: isErrorSpan
    int32_t maxDepth = 0;
    int32_t shiftedCount = 0;  // spans with a non-zero skew shift

    uint64_t durationNs() const { return tree.endNs - tree.startNs; }
    uint64_t offsetNs(uint32_t span) const { return tree.spans[span].startNs - tree.startNs; }
    bool hasChildren(uint32_t span) const { return tree.childEnd[span] > tree.childBegin[span]; }
    int64_t skew(uint32_t span) const { return skewNs.empty() ? 0 : skewNs[span]; }

    // Computes the critical path and everything above from a built tree.
    static std::shared_ptr<const WaterfallTrace> make(TraceTree tree, std::vector<int64_t> skewNs = {},
        std::vector<std::string> skewNotes = {}, std::vector<uint32_t> originalIndex = {});
};

class TraceRowsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Duration, Self, Timeline, ColumnCount };
    enum Role {
        SpanIndexRole = Qt::UserRole + 1,  // int: index into the tree's spans
        DepthRole,  // int
        HasChildrenRole,  // bool: has children that the current filter shows
        ExpandedRole,  // bool
        ErrorRole,  // bool
        CriticalNsRole,  // qulonglong: the span's own time on the critical path
        SelfNsRole,  // qulonglong
        OffsetNsRole,  // qulonglong: start relative to the trace's start
        SkewNsRole,  // qlonglong: clock-skew shift applied (0 when none)
        MatchRole,  // int: 0 no match, 1 match of the find text, 2 the current match
        SpanIdRole,  // QString: 16 hex digits
    };

    explicit TraceRowsModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Shows a trace. `collapsed` (per span, may be empty) restores collapsed spans.
    void setTrace(std::shared_ptr<const WaterfallTrace> trace, std::vector<uint8_t> collapsed = {});
    const WaterfallTrace *trace() const { return m_trace.get(); }
    const std::vector<uint8_t> &collapsedSpans() const { return m_collapsed; }

    uint32_t spanAt(int row) const { return m_visible[size_t(row)]; }
    // The row showing `span`, or -1 when it is collapsed away or filtered out.
    int rowOf(uint32_t span) const;
    // Whether the row of `span` has children the current filter shows (its toggle).
    bool hasVisibleChildren(uint32_t span) const;
    bool isExpanded(uint32_t span) const { return !m_collapsed[span]; }

    void setExpanded(uint32_t span, bool expanded);
    void toggle(int row);
    void expandAll();
    // Collapses every span below the roots' children, so the first level stays in view.
    void collapseAll();
    // Expands every collapsed ancestor of `span`; false when the filter hides it.
    bool reveal(uint32_t span);

    // Only spans with critical time, and their ancestors.
    void setCriticalOnly(bool on);
    bool criticalOnly() const { return m_criticalOnly; }
    bool passesFilter(uint32_t span) const { return !m_criticalOnly || (m_kept[span] & kKept); }

    // Marks spans matching the find text (per span, or empty for none) and the current one.
    void setMatches(std::vector<uint8_t> matches);
    void setCurrentMatch(int64_t span);
    bool isMatch(uint32_t span) const { return !m_matches.empty() && m_matches[span]; }
    int64_t currentMatch() const { return m_currentMatch; }

private:
    enum KeepBits : uint8_t { kKept = 1, kKeptChild = 2 };
    void appendVisible(uint32_t begin, uint32_t end, std::vector<uint32_t> &out) const;
    void rebuild();
    void emitRowChanged(uint32_t span);
    QString nameText(uint32_t span) const;
    QString tooltip(uint32_t span) const;

    std::shared_ptr<const WaterfallTrace> m_trace;
    std::vector<uint32_t> m_visible;  // ascending span indices = pre-order
    std::vector<uint8_t> m_collapsed;
    std::vector<uint8_t> m_kept;  // KeepBits, only while m_criticalOnly
    std::vector<uint8_t> m_matches;
    int64_t m_currentMatch = -1;
    bool m_criticalOnly = false;
};

}  // namespace meshscope

#pragma once
// The rows of the trace comparison: one row per call of the merged tree
// (TraceComparison::rows, pre-order), each with both sides' durations, the signed
// change and its colour. "Differences only" keeps the calls that one side lacks, that
// failed on one side only, or whose duration changed by at least the threshold (both
// in time and in percent, so a microsecond call doubling and a slow call wobbling by
// 2 % both stay out), plus their ancestors so each kept row keeps its place in the tree.
// The comparison is an immutable snapshot shared with the view's delegate.

#include "traces/tracecompare.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QString>

#include <memory>
#include <vector>

namespace meshscope {

class TraceCompareModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Call, DurationA, DurationB, Delta, DeltaPercent, Timeline, ColumnCount };
    enum Role {
        CompareRowRole = Qt::UserRole + 1,  // int: index into TraceComparison::rows
        KindRole,  // int: CompareKind
        DepthRole,  // int
        SpanARole,  // int: index into trace A's spans, -1 where absent
        SpanBRole,  // int: the same in trace B
        DurationANsRole,  // qulonglong
        DurationBNsRole,  // qulonglong
        DeltaNsRole,  // qlonglong: B - A
        ErrorRole,  // bool: failed on either side
        DifferentRole,  // bool: the row passes the "differences only" test itself
    };

    explicit TraceCompareModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void setComparison(std::shared_ptr<const TraceComparison> comparison);
    const TraceComparison *comparison() const { return m_comparison.get(); }

    // The comparison row shown at a model row, and back (-1 when filtered out).
    uint32_t compareIndexAt(int row) const { return m_visible[size_t(row)]; }
    const CompareRow &rowAt(int row) const { return m_comparison->rows[m_visible[size_t(row)]]; }
    int rowOf(uint32_t compareIndex) const;

    // The shared time axis of the bars: the longer of the two traces.
    uint64_t axisNs() const;
    // Per comparison row: the service's colour (by first appearance, as the waterfall does).
    QColor serviceColor(uint32_t compareIndex) const { return m_serviceColors[m_serviceOf[compareIndex]]; }

    void setDifferencesOnly(bool on);
    bool differencesOnly() const { return m_differencesOnly; }
    // A call on both sides counts as changed when |B - A| >= minDeltaNs and, where A > 0,
    // |B - A| / A >= minRelative.
    void setThreshold(uint64_t minDeltaNs, double minRelative);
    uint64_t minDeltaNs() const { return m_minDeltaNs; }
    double minRelative() const { return m_minRelative; }
    bool isDifferent(uint32_t compareIndex) const;
    // The change of a call on both sides passes the threshold (so its delta is coloured).
    bool isChanged(const CompareRow &row) const;

    // "+12.3 ms", "-850 µs", "0"; "+85 %", "-4.5 %".
    static QString signedDuration(int64_t ns);
    static QString signedPercent(double fraction);
    static QColor addedColor();  // row background of calls only in B
    static QColor missingColor();  // row background of calls only in A
    static QColor slowerColor();  // text of a delta that got slower
    static QColor fasterColor();

private:
    void rebuild();
    QString callText(const CompareRow &row) const;
    QString tooltip(const CompareRow &row) const;

    std::shared_ptr<const TraceComparison> m_comparison;
    std::vector<uint32_t> m_visible;  // ascending comparison rows = pre-order
    std::vector<uint32_t> m_serviceOf;  // per comparison row
    std::vector<QColor> m_serviceColors;
    bool m_differencesOnly = false;
    uint64_t m_minDeltaNs = 1000000;
    double m_minRelative = 0.1;
};

}  // namespace meshscope

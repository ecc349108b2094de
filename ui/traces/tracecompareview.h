#pragma once
// Two traces compared side by side (see traces/tracecompare.h): a header naming trace A
// and trace B with the totals (calls added and missing, the change in duration, the call
// whose own time grew most), a "differences only" switch with its threshold, and one
// row per call: its name indented by depth, its duration in A and in B, the signed
// change in time and percent, and both traces' bars on one time axis. Calls added in B
// sit on green, calls missing from B on red and struck out; a slower call's change is
// red, a faster one's green; failed spans carry the error glyph.
//
// Self-contained: the caller builds the comparison (compareTraces, typicalTraceFor) and
// keeps the trees, and hears back span indices into them through spanActivated.

#include "traces/tracecompare.h"

#include <QString>
#include <QWidget>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QTableView;
QT_END_NAMESPACE

namespace meshscope {

class TimelineHeader;
class TraceCompareModel;

class TraceCompareView : public QWidget {
    Q_OBJECT
public:
    enum Side { SideA = 0, SideB = 1 };

    explicit TraceCompareView(QWidget *parent = nullptr);
    ~TraceCompareView() override;

    // Shows a comparison. The titles name the sides in the header, e.g. "Trace 4bf92f35…"
    // and "typical frontend: GET /cart over 57 traces" (plain text).
    void setComparison(TraceComparison comparison, QString leftTitle, QString rightTitle);
    void clear();
    const TraceComparison *comparison() const;

    // Rows that neither side lacks and whose change stays under the threshold hide;
    // their ancestors stay for context.
    void setDifferencesOnly(bool on);
    bool differencesOnly() const;
    // Selects the row of a comparison row (TraceComparison::rows index), turning the
    // filter off if it hides it; false when out of range.
    bool selectRow(int compareIndex);
    // The comparison row selected, or -1.
    int selectedRow() const;

    TraceCompareModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QLabel *titleLabel() const { return m_title; }
    QLabel *totalsLabel() const { return m_totals; }
    QCheckBox *differencesOnlyBox() const { return m_differencesOnly; }
    QDoubleSpinBox *thresholdBox() const { return m_threshold; }

Q_SIGNALS:
    // A row was activated (double-click, Enter). The side is the one whose duration
    // column was clicked; elsewhere B when the call is in B, else A. spanIndex indexes
    // that side's TraceTree::spans.
    void spanActivated(int side, int spanIndex);

private:
    void updateHeader(const QString &leftTitle, const QString &rightTitle);
    void applyThreshold();
    void onActivated(const QModelIndex &index);

    TraceCompareModel *m_model = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_totals = nullptr;
    QCheckBox *m_differencesOnly = nullptr;
    QDoubleSpinBox *m_threshold = nullptr;
    QLabel *m_legend = nullptr;
    QTableView *m_table = nullptr;
    TimelineHeader *m_header = nullptr;
};

}  // namespace meshscope

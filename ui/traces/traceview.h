#pragma once
// The trace view: one trace as a Jaeger-style waterfall. A header (root operation,
// trace id, duration, counts, and the repairs the tree needed), a find bar and the
// view switches (critical path only, clock-skew adjustment), a minimap of the whole
// trace, then the rows (name, duration, self time, bar on the time axis) beside the
// selected span's details.
//
// The view owns the trace. Only visible rows exist as model rows and only rows on
// screen are painted, so a 100,000-span trace loads and scrolls like a small one.
//
// Clock skew: the adjustment is OFF by default, as in Jaeger since it disabled it:
// the view first shows the times as recorded, which are the ones the backend and other
// tools show. The switch's label says how many spans it would move; when on, every
// moved span carries a clock glyph, a dashed line where it was recorded, and its
// shift in the tooltip and details, and the header lists the shifts.
//
// Span indices (spanSelected, selectedSpan, selectSpan, criticalPath) are indices into
// tree(), the tree currently shown; switching the skew adjustment re-sorts siblings, so
// the view re-emits spanSelected with the selected span's new index.

#include "traces/tracetree.h"

#include <QWidget>

#include <memory>
#include <vector>

QT_BEGIN_NAMESPACE
class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QTableView;
class QTimer;
class QToolButton;
QT_END_NAMESPACE

namespace meshscope {

struct CriticalPathResult;
struct WaterfallTrace;
class SpanDetails;
class TimelineHeader;
class TraceMinimap;
class TraceRowsModel;

class TraceView : public QWidget {
    Q_OBJECT
public:
    explicit TraceView(QWidget *parent = nullptr);
    ~TraceView() override;

    // Shows a trace (taking it over) and computes its critical path and self times.
    // Collapsed spans and the selection start afresh; the find text and the switches
    // stay and apply to the new trace.
    void setTrace(TraceTree tree);
    // The same, prepared off the GUI thread (WaterfallTrace::make is a pure function).
    void setTrace(std::shared_ptr<const WaterfallTrace> prepared);
    void clear();
    bool hasTrace() const { return bool(m_original); }

    // The tree shown: as given to setTrace, or its clock-skew adjusted copy. Null
    // without a trace.
    const TraceTree *tree() const;
    // Critical path and self times of tree().
    const CriticalPathResult &criticalPath() const;
    // Per span of tree(): the clock-skew shift shown (empty while the switch is off).
    const std::vector<int64_t> &skewAdjustments() const;

    // The selected span (index into tree()), or -1.
    int selectedSpan() const { return int(m_selected); }
    // Selects a span, expanding its collapsed ancestors; false if the critical-path
    // filter hides it or the index is out of range.
    bool selectSpan(int index);
    // The trace as given to setTrace (never the clock-skew adjusted copy), shared: work
    // off the GUI thread may read it while the view shows it. Null without a trace.
    std::shared_ptr<const WaterfallTrace> originalTrace() const { return m_original; }
    // selectSpan for an index into originalTrace()'s tree, whichever tree is shown.
    bool selectOriginalSpan(int index);

    void setCriticalOnly(bool on);
    void setSkewAdjusted(bool on);
    bool isSkewAdjusted() const;

    // Find within the trace: matches (indices into tree(), in row order) and the
    // position of the current one (-1 before the first jump).
    const std::vector<uint32_t> &findMatches() const { return m_matches; }
    int currentMatch() const { return m_matchPos; }
    void findNext();
    void findPrevious();

    TraceRowsModel *rowsModel() const { return m_model; }
    QTableView *table() const { return m_table; }
    QCheckBox *criticalOnlyBox() const { return m_criticalOnly; }
    QCheckBox *skewBox() const { return m_skew; }
    QLineEdit *findEdit() const { return m_find; }
    QLabel *findStatus() const { return m_findStatus; }
    QLabel *problemsLabel() const { return m_problems; }
    QLabel *titleLabel() const { return m_title; }
    QLabel *statsLabel() const { return m_stats; }
    SpanDetails *details() const { return m_details; }
    TraceMinimap *minimap() const { return m_minimap; }

Q_SIGNALS:
    void spanSelected(int index);
    // A trace is shown (setTrace): tree() and criticalPath() answer for it.
    void traceShown();
    // The user asked to see the selected span's service on the mesh graph.
    void openInGraphRequested();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    const WaterfallTrace *shown() const;
    std::shared_ptr<const WaterfallTrace> adjusted();
    void present(std::shared_ptr<const WaterfallTrace> trace, std::vector<uint8_t> collapsed, int64_t selected);
    void applySkew(bool on);
    void applyCriticalOnly(bool on);
    void updateHeader();
    void updateSkewBox();
    void updateMinimapWindow();
    void onCurrentRowChanged(int row);
    void restoreSelection();
    void runFind(bool jump);
    void goToMatch(int pos);
    void updateFindStatus();
    bool handleTableKey(int key);

    std::shared_ptr<const WaterfallTrace> m_original;
    std::shared_ptr<const WaterfallTrace> m_adjusted;  // built the first time it is needed
    int64_t m_selected = -1;
    std::vector<uint32_t> m_matches;
    int m_matchPos = -1;
    bool m_restoring = false;

    TraceRowsModel *m_model = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_traceId = nullptr;
    QLabel *m_stats = nullptr;
    QLabel *m_problems = nullptr;
    QLineEdit *m_find = nullptr;
    QToolButton *m_findPrev = nullptr;
    QToolButton *m_findNext = nullptr;
    QLabel *m_findStatus = nullptr;
    QTimer *m_findTimer = nullptr;
    QCheckBox *m_criticalOnly = nullptr;
    QCheckBox *m_skew = nullptr;
    TraceMinimap *m_minimap = nullptr;
    QTableView *m_table = nullptr;
    TimelineHeader *m_header = nullptr;
    SpanDetails *m_details = nullptr;
    QSplitter *m_splitter = nullptr;
};

}  // namespace meshscope

#pragma once
// The window one trace opens in: its waterfall (TraceView), its comparison with the
// typical trace of its root operation or with another trace (TraceCompareView, a tab of
// its own once asked for), and below them what ties it to the rest of meshscope: a line
// saying how its path shows on the service graph, with "Show on graph" and "Replay on
// graph". The main window owns the graph, so it answers those two buttons (signals);
// the window only shows what it is told.
//
// The trace arrives after the window opens: assembling a large trace runs off the GUI
// thread, and until it is there the window says what it is waiting for.

#include "model/span.h"

#include <QString>
#include <QWidget>

#include <memory>

QT_BEGIN_NAMESPACE
class QLabel;
class QPushButton;
class QTabWidget;
QT_END_NAMESPACE

namespace meshscope {

struct WaterfallTrace;
class BackgroundJobs;
class TraceCompareView;
class TraceStore;
class TraceView;

class TraceWindow : public QWidget {
    Q_OBJECT
public:
    // `spanCount`: how many spans are being assembled, for the waiting line. `store`
    // (may be null) is where comparisons find the other traces; it must outlive the window.
    TraceWindow(const TraceId &id, size_t spanCount, const TraceStore *store, QWidget *parent = nullptr);
    ~TraceWindow() override;

    TraceId traceId() const { return m_id; }
    QString traceIdHex() const { return m_hex; }
    TraceView *view() const { return m_view; }
    bool hasTrace() const;

    // Shows the assembled trace, titles the window after its root.
    void setTrace(std::shared_ptr<const WaterfallTrace> trace);
    // The line under the waterfall about the graph (what is drawn, what is missing, the replay).
    void setGraphNote(const QString &text);
    QString graphNote() const;
    // While a replay runs the replay button stops it.
    void setReplaying(bool on);

    QPushButton *showOnGraphButton() const { return m_onGraph; }
    QPushButton *replayButton() const { return m_replay; }
    QPushButton *compareButton() const { return m_compare; }

    // Compares this trace (B) with the typical trace of its root operation (A): the
    // per-call medians over up to 200 kept traces of it, built off the GUI thread. The
    // Compare tab opens with the result, or says why there is none.
    void compareWithTypical();
    // Compares this trace (A) with another kept one (B).
    void compareWithTrace(const QString &otherIdHex);
    TraceCompareView *compareView() const { return m_compareView; }
    // The Compare tab's line: what is compared, or what is being worked out, or why not.
    QString compareNote() const;
    QTabWidget *tabs() const { return m_tabs; }
Q_SIGNALS:
    void showOnGraphRequested();
    void replayRequested();
    void replayStopRequested();
    // The trace is shown (setTrace): the view answers for it.
    void traceReady();
    // A comparison is shown (compareView() has it) or could not be made (compareNote()).
    void comparisonReady(bool ok);

private:
    struct Comparing;
    void showCompareTab();
    void showComparison(std::shared_ptr<const Comparing> result);
    void setCompareNote(const QString &text);

    const TraceId m_id;
    const QString m_hex;
    TraceView *m_view;
    QLabel *m_graphNote;
    QPushButton *m_onGraph;
    QPushButton *m_replay;
    bool m_replaying = false;
    const TraceStore *m_store;
    QTabWidget *m_tabs;
    QWidget *m_comparePage = nullptr;
    QLabel *m_compareNote = nullptr;
    TraceCompareView *m_compareView = nullptr;
    QPushButton *m_compare;
    std::shared_ptr<const Comparing> m_comparing;  // the trees the comparison's indices refer to
    std::unique_ptr<BackgroundJobs> m_jobs;
};

}  // namespace meshscope

#pragma once
// The strip under the canvas: the session's requests per second (bars) and error rate
// (a red line, and red ticks where errors spiked) over the history the aggregator
// keeps (graph/graphhistory.h), with markers for route applies and source outages.
// Clicking goes to that moment, dragging selects a range (the graph's window), and
// with the strip focused Left/Right step one second, Shift with them a minute, End goes
// back to live. It only reads the history's per-step totals, which cost little, so it
// draws on the GUI thread; the graph of a moment is the window's business.

#include <QString>
#include <QWidget>

#include <cstdint>
#include <optional>
#include <vector>

namespace meshscope {

class GraphHistory;
struct SeriesPoint;

class TimelineStrip : public QWidget {
    Q_OBJECT
public:
    explicit TimelineStrip(QWidget *parent = nullptr);
    ~TimelineStrip() override;

    void setHistory(const GraphHistory *history);

    struct Marker {
        enum class Kind { RouteApply, SourceDown, SourceUp, CertificateWarning };
        Kind kind = Kind::RouteApply;
        int64_t ms = 0;
        QString subject;  // the source (outages) or route target it is about
        QString text;  // its tooltip: what happened
    };
    void addMarker(const Marker &marker);
    const std::vector<Marker> &markers() const { return m_markers; }
    // The markers within `px` pixels of x, nearest first (what a hover shows).
    std::vector<Marker> markersNear(int x, int px = 4) const;

    // A recording's strip ends at the recording's end, which its axis names (not "live").
    void setFixedEnd(bool fixed);

    // Re-reads the history up to nowMs (the window calls it once a second).
    void refresh(int64_t nowMs);
    // The moment the graph shows (a cursor line), nullopt while live; a selected range
    // is drawn behind it.
    void setViewed(std::optional<int64_t> ms, int windowSeconds = 0);
    std::optional<int64_t> viewedMs() const { return m_viewedMs; }

    // Ranges for a diff: "before" once picked (right-click, "Use as before"), and both
    // sides of the diff shown, drawn as bands; nullopt clears them.
    struct Range {
        int64_t fromMs = 0;
        int64_t toMs = 0;
    };
    void setPickedBefore(std::optional<Range> before);
    std::optional<Range> pickedBefore() const { return m_pickedBefore; }
    void setDiffRanges(std::optional<Range> before, std::optional<Range> after);
    // The range viewed now (the moment and the window before it), if a moment is viewed.
    std::optional<Range> viewedRange() const;
    // The route-apply marker whose flag is at (x, y), if any: what a click on it diffs.
    std::optional<Marker> routeFlagAt(QPoint pos) const;

    // The strip's time axis: from the history's first second to now.
    int64_t startMs() const { return m_startMs; }
    int64_t endMs() const { return m_endMs; }
    int64_t msAtX(int x) const;
    int xAtMs(int64_t ms) const;
    // What the strip draws: one point per step.
    const std::vector<SeriesPoint> &points() const;
    int stepSeconds() const { return m_step; }
    // Steps with at least this error rate (and enough requests to judge) get a red tick.
    static constexpr double kSpikeErrorRate = 0.10;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void momentChosen(int64_t ms);
    void rangeChosen(int64_t fromMs, int64_t toMs);
    void liveChosen();
    // A click on a route apply's flag: the minutes before it against the ones after.
    void routeChangeChosen(int64_t ms);
    // Right-click > "Compare with before": the picked "before" against this range.
    void compareChosen(int64_t beforeFromMs, int64_t beforeToMs, int64_t afterFromMs, int64_t afterToMs);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;  // tooltips: the markers under the pointer, or the step's numbers
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    QRect plotRect() const;
    void step(int64_t deltaMs);

    const GraphHistory *m_history = nullptr;
    std::vector<Marker> m_markers;
    struct Points;
    std::unique_ptr<Points> m_points;
    int m_step = 1;
    int64_t m_startMs = 0;
    int64_t m_endMs = 0;
    std::optional<int64_t> m_viewedMs;
    int m_viewedWindow = 0;
    std::optional<int> m_dragFromX;
    bool m_fixedEnd = false;
    std::optional<Range> m_pickedBefore;
    std::optional<Range> m_diffBefore, m_diffAfter;
    int m_dragToX = 0;
};

}  // namespace meshscope

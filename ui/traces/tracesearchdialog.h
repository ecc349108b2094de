#pragma once
// Traces > Search traces: every kept trace searched by service, operation, errors,
// attributes, trace duration, time range and a TraceQL query (the filters of
// `meshscope-cli traces`), off the GUI thread. The matches show as a table and as a
// duration-over-time scatter plot; a row (double-click, Enter) or a point (click)
// asks for its trace with traceRequested.
//
// Sorting by Start, Duration, Spans or Errors searches again in that order (always
// newest / largest first), so with a limit of N the table holds the N newest,
// slowest, largest or most failing matches, not N rows re-sorted. Root, Services and
// Trace ID sort the rows found, either way.
//
// The store must outlive the dialog: a search in flight reads it, and the destructor
// waits for that search to end.

#include "backgroundjobs.h"
#include "traces/tracesearch.h"

#include <QDialog>

#include <cstdint>
#include <optional>
#include <utility>

#include <cstdint>
#include <utility>
#include <vector>

QT_BEGIN_NAMESPACE
class QChart;
class QChartView;
class QCheckBox;
class QComboBox;
class QDateTimeAxis;
class QLabel;
class QLineEdit;
class QPushButton;
class QScatterSeries;
class QSpinBox;
class QTableView;
class QValueAxis;
QT_END_NAMESPACE

namespace meshscope {

class TraceSearchModel;
class TraceStore;
struct TraceSearchOutcome;

class TraceSearchDialog : public QDialog {
    Q_OBJECT
public:
    // The time range combo's entries, in order: trace start within the last ...
    enum class TimeRange { Last5Minutes, Last15Minutes, LastHour, Last6Hours, AllKept };

    explicit TraceSearchDialog(TraceStore *store, QWidget *parent = nullptr);
    ~TraceSearchDialog() override;

    // Searches with the filters as they stand. A filter that does not parse is named
    // in red (the TraceQL error under its field, others in the status line) and
    // nothing is searched: returns false. The results arrive later (searchFinished).
    bool search();
    bool isSearching() const { return m_searching; }

    // What the store orders the search by; setting it searches again. Header clicks on
    // Start, Duration, Spans and Errors set it.
    TraceFilter::Sort sortOrder() const { return m_sort; }
    void setSortOrder(TraceFilter::Sort sort);

    // A past moment the window shows (the timeline's): the time range offers "the
    // moment viewed", chosen at once; nullopt takes it away again (back to live).
    void setMoment(std::optional<std::pair<int64_t, int64_t>> rangeMs);

    // Off by default so that tests never write user settings. Turning it on restores the
    // last filters (QSettings group "traceSearch"); every search started saves them.
    void setPersistenceEnabled(bool on);
    bool persistenceEnabled() const { return m_persist; }

    // The trace id of a point of the plot's series (nearest point within a few pixels
    // of `value`, in the series' coordinates), or empty.
    QString traceIdAtPoint(const QScatterSeries *series, const QPointF &value) const;
    // The plot position of a trace's point (x: start ms since the epoch, y: duration
    // ms) and its series, or a null series when it is not plotted.
    QScatterSeries *pointOf(const QString &traceIdHex, QPointF *value) const;

    TraceSearchModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QChartView *chartView() const { return m_chartView; }
    QScatterSeries *okSeries() const { return m_okSeries; }
    QScatterSeries *errorSeries() const { return m_errorSeries; }
    QScatterSeries *highlightSeries() const { return m_highlightSeries; }
    QLabel *statusLabel() const { return m_status; }
    QLabel *queryErrorLabel() const { return m_queryError; }
    QComboBox *serviceEdit() const { return m_service; }
    QLineEdit *operationEdit() const { return m_operation; }
    QCheckBox *errorsOnlyBox() const { return m_errorsOnly; }
    QLineEdit *attributesEdit() const { return m_attributes; }
    QLineEdit *minDurationEdit() const { return m_minDuration; }
    QLineEdit *maxDurationEdit() const { return m_maxDuration; }
    QComboBox *timeRangeBox() const { return m_timeRange; }
    QSpinBox *limitBox() const { return m_limit; }
    QLineEdit *queryEdit() const { return m_query; }
    QPushButton *searchButton() const { return m_searchButton; }

Q_SIGNALS:
    void traceRequested(const QString &traceIdHex);
    // A search's results are shown (stale searches, superseded by a newer one, never
    // report).
    void searchFinished(int count);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    QWidget *buildFilters();
    void buildChart();
    void buildTable();
    // Main thread: the results of the newest search (m_jobs drops stale ones).
    void finishSearch(const TraceSearchOutcome &outcome);
    void showTraces();
    void plotTraces();
    void updateTimeAxis();
    void highlightTrace(const QString &traceIdHex);
    void pointClicked(const QScatterSeries *series, const QPointF &point);
    void pointHovered(const QScatterSeries *series, const QPointF &point, bool state);
    void headerSortChanged(int column, Qt::SortOrder order);
    void setServices(const std::vector<std::string> &services);
    void validateQuery();
    void showProblem(const QString &message, QWidget *field);
    void clearProblems();
    void saveSettings(bool geometry = false) const;
    void restoreSettings();

    TraceStore *m_store;
    TraceSearchModel *m_model;
    bool m_searching = false;  // a search started whose results are awaited
    TraceFilter::Sort m_sort = TraceFilter::Sort::Start;
    int m_localSortColumn = -1;  // a column sorted in the model (not by the store), or -1
    Qt::SortOrder m_localSortOrder = Qt::AscendingOrder;
    bool m_persist = false;
    bool m_searchedOnce = false;

    QComboBox *m_service = nullptr;
    QLineEdit *m_operation = nullptr;
    QCheckBox *m_errorsOnly = nullptr;
    QLineEdit *m_attributes = nullptr;
    QLineEdit *m_minDuration = nullptr;
    QLineEdit *m_maxDuration = nullptr;
    QComboBox *m_timeRange = nullptr;
    std::optional<std::pair<int64_t, int64_t>> m_moment;  // ms since the epoch
    QSpinBox *m_limit = nullptr;
    QLineEdit *m_query = nullptr;
    QLabel *m_queryError = nullptr;
    QPushButton *m_searchButton = nullptr;
    QLabel *m_status = nullptr;
    QWidget *m_filters = nullptr;

    QChartView *m_chartView = nullptr;
    QChart *m_chart = nullptr;
    QDateTimeAxis *m_x = nullptr;
    QValueAxis *m_y = nullptr;
    QScatterSeries *m_okSeries = nullptr;
    QScatterSeries *m_errorSeries = nullptr;
    QScatterSeries *m_highlightSeries = nullptr;
    QStringList m_okIds, m_errorIds;  // trace id of each point, by point index
    std::pair<double, double> m_timeSpan;  // earliest and latest start plotted, ms since the epoch
    QString m_highlighted;

    QTableView *m_table = nullptr;

    // Last: destroyed first, it waits for the running search, whose results (were they
    // delivered) would touch the members above.
    BackgroundJobs m_jobs {this};  // one search at a time; a newer one makes older ones stale
};

}  // namespace meshscope

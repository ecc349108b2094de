#include "traces/tracesearchdialog.h"

#include "displayformat.h"
#include "traces/models/tracesearchmodel.h"
#include "traces/traceql.h"
#include "traces/tracestore.h"
#include "traces/waterfallstyle.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QCursor>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QElapsedTimer>
#include <QFontMetrics>
#include <QGraphicsLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QPushButton>
#include <QScatterSeries>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>

namespace meshscope {

namespace {
// The time range combo's data for the moment viewed (the others are minutes).
constexpr int kMomentRange = -1;
}  // namespace

// What one search hands back to the main thread: values only.
struct TraceSearchOutcome {
    std::vector<TraceSummary> traces;
    uint64_t spansSearched = 0;  // spans in the store when the search ran
    double elapsedMs = 0;
    std::vector<std::string> services;  // sorted, of the newest kept traces
};

namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 10000;  // beyond that the plot and the table stop being readable
// The services offered in the service combo come from this many newest traces: enough
// to name every service of a live mesh, cheap next to the search itself.
constexpr uint32_t kServiceSampleTraces = 2000;

QSettings userSettings() { return QSettings(QStringLiteral("meshscope"), QStringLiteral("meshscope")); }

QColor problemColor() { return waterfall::errorColor().lighter(125); }

// One search with its own copy of the query (the filter points into it).
struct TraceSearchJob {
    TraceFilter filter;
    std::optional<TraceQlQuery> query;
};

TraceSearchOutcome runSearch(const TraceStore &store, const TraceSearchJob &job)
{
    TraceSearchOutcome out;
    TraceFilter filter = job.filter;
    filter.query = job.query ? &*job.query : nullptr;
    out.spansSearched = store.counters().spans;
    QElapsedTimer timer;
    timer.start();
    out.traces = store.search(filter);
    out.elapsedMs = double(timer.nsecsElapsed()) / 1e6;
    TraceFilter newest;
    newest.limit = kServiceSampleTraces;
    std::set<std::string> services;
    for (const TraceSummary &t : store.search(newest))
        services.insert(t.services.begin(), t.services.end());
    out.services.assign(services.begin(), services.end());
    return out;
}

// "250", "250ms", "1.5s", "800us", "800µs", "2m" -> milliseconds.
std::optional<double> parseDurationMs(const QString &input)
{
    QString text = input.trimmed().toLower();
    double scale = 1;
    struct Unit {
        const char *suffix;
        double ms;
    };
    for (const Unit &u : {Unit {"ms", 1}, Unit {"us", 1e-3}, Unit {"\xc2\xb5s", 1e-3}, Unit {"ns", 1e-6},
             Unit {"s", 1000}, Unit {"m", 60000}}) {
        const QString suffix = QString::fromUtf8(u.suffix);
        if (text.endsWith(suffix)) {
            text.chop(suffix.size());
            text = text.trimmed();
            scale = u.ms;
            break;
        }
    }
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || !std::isfinite(value))
        return std::nullopt;
    return value * scale;
}

struct AttributeConditions {
    std::vector<std::pair<std::string, std::string>> pairs;
    std::vector<std::string> keys;
};

// Space-separated `key=value`, `key="quoted value"` (\" and \\ escaped) and bare `key`
// (the key is set). Returns an error message naming the token, or empty.
QString parseAttributes(const QString &text, AttributeConditions &out)
{
    const qsizetype n = text.size();
    qsizetype i = 0;
    // A quoted string starting at text[i] == '"'; moves i past the closing quote.
    auto quoted = [&](QString &value) -> QString {
        const qsizetype open = i++;
        while (i < n && text[i] != QLatin1Char('"')) {
            if (text[i] == QLatin1Char('\\') && i + 1 < n)
                ++i;
            value += text[i++];
        }
        if (i >= n)
            return QObject::tr("the quote at column %1 is never closed").arg(open + 1);
        ++i;
        if (i < n && !text[i].isSpace() && text[i] != QLatin1Char('='))
            return QObject::tr("put a space after the closing quote at column %1").arg(i);
        return {};
    };
    while (true) {
        while (i < n && text[i].isSpace())
            ++i;
        if (i >= n)
            return {};
        const qsizetype tokenStart = i;
        QString key;
        if (text[i] == QLatin1Char('"')) {
            if (const QString e = quoted(key); !e.isEmpty())
                return e;
        } else {
            while (i < n && !text[i].isSpace() && text[i] != QLatin1Char('='))
                key += text[i++];
        }
        if (i >= n || text[i].isSpace()) {
            if (key.isEmpty())
                return QObject::tr("\"\" is no attribute key");
            out.keys.push_back(key.toStdString());
            continue;
        }
        // text[i] == '='
        ++i;
        if (key.isEmpty()) {
            qsizetype end = i;
            while (end < n && !text[end].isSpace())
                ++end;
            return QObject::tr("'%1' has no key before '='").arg(text.mid(tokenStart, end - tokenStart));
        }
        QString value;
        if (i < n && text[i] == QLatin1Char('"')) {
            if (const QString e = quoted(value); !e.isEmpty())
                return e;
            if (i < n && text[i] == QLatin1Char('='))
                return QObject::tr("put a space after the closing quote at column %1").arg(i);
        } else {
            while (i < n && !text[i].isSpace())
                value += text[i++];
            if (value.isEmpty())
                return QObject::tr("'%1=' has no value: write %1=\"\" for an empty value, or %1 alone for "
                                   "\"the key is set\"")
                    .arg(key);
        }
        out.pairs.emplace_back(key.toStdString(), value.toStdString());
    }
}

int columnForSort(TraceFilter::Sort sort)
{
    switch (sort) {
    case TraceFilter::Sort::Start: return TraceSearchModel::Start;
    case TraceFilter::Sort::Duration: return TraceSearchModel::Duration;
    case TraceFilter::Sort::Spans: return TraceSearchModel::Spans;
    case TraceFilter::Sort::Errors: return TraceSearchModel::Errors;
    }
    return TraceSearchModel::Start;
}

std::optional<TraceFilter::Sort> sortForColumn(int column)
{
    switch (column) {
    case TraceSearchModel::Start: return TraceFilter::Sort::Start;
    case TraceSearchModel::Duration: return TraceFilter::Sort::Duration;
    case TraceSearchModel::Spans: return TraceFilter::Sort::Spans;
    case TraceSearchModel::Errors: return TraceFilter::Sort::Errors;
    default: return std::nullopt;
    }
}

// "the 100 slowest": what a full page of results is, by the store's order.
QString topText(TraceFilter::Sort sort, int n)
{
    switch (sort) {
    case TraceFilter::Sort::Start: return QObject::tr("the %1 newest").arg(n);
    case TraceFilter::Sort::Duration: return QObject::tr("the %1 slowest").arg(n);
    case TraceFilter::Sort::Spans: return QObject::tr("the %1 largest").arg(n);
    case TraceFilter::Sort::Errors: return QObject::tr("the %1 most failing").arg(n);
    }
    return {};
}

QString sortKey(TraceFilter::Sort sort)
{
    switch (sort) {
    case TraceFilter::Sort::Start: return QStringLiteral("start");
    case TraceFilter::Sort::Duration: return QStringLiteral("duration");
    case TraceFilter::Sort::Spans: return QStringLiteral("spans");
    case TraceFilter::Sort::Errors: return QStringLiteral("errors");
    }
    return {};
}

}  // namespace

TraceSearchDialog::TraceSearchDialog(TraceStore *store, QWidget *parent)
    : QDialog(parent)
    , m_store(store)
    , m_model(new TraceSearchModel(this))
{
    setObjectName(QStringLiteral("traceSearchDialog"));
    setWindowTitle(tr("Search traces"));
    setModal(false);
    // Fields whose text does not parse get a red frame; the message says why.
    setStyleSheet(QStringLiteral("QLineEdit[problem=\"true\"], QComboBox[problem=\"true\"] {"
                                 " border: 1px solid %1; border-radius: 2px; padding: 2px 3px; }")
                      .arg(waterfall::errorColor().name()));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 10, 10, 10);
    layout->setSpacing(6);
    layout->addWidget(buildFilters());

    auto *statusRow = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("traceSearchStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *hint = new QLabel(tr("Double-click a row or click a point to open its trace"), this);
    hint->setObjectName(QStringLiteral("traceSearchHint"));
    hint->setForegroundRole(QPalette::PlaceholderText);
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(hint);
    layout->addLayout(statusRow);

    buildChart();
    buildTable();
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->setObjectName(QStringLiteral("traceSearchSplitter"));
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(m_chartView);
    splitter->addWidget(m_table);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    splitter->setSizes({300, 420});
    layout->addWidget(splitter, 1);

    resize(1180, 760);
}

// A running search reads the store, which may go right after the dialog: m_jobs, the
// last member, waits for it (one search, bounded by the store's scan) as it goes.
TraceSearchDialog::~TraceSearchDialog() = default;

QWidget *TraceSearchDialog::buildFilters()
{
    m_filters = new QWidget(this);
    m_filters->setObjectName(QStringLiteral("traceSearchFilters"));
    auto *grid = new QGridLayout(m_filters);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(6);

    auto label = [this](const QString &text, const char *name, QWidget *buddy) {
        auto *l = new QLabel(text, m_filters);
        l->setObjectName(QLatin1String(name));
        l->setBuddy(buddy);
        return l;
    };

    m_service = new QComboBox(m_filters);
    m_service->setObjectName(QStringLiteral("traceSearchService"));
    m_service->setEditable(true);
    m_service->setInsertPolicy(QComboBox::NoInsert);
    m_service->lineEdit()->setObjectName(QStringLiteral("traceSearchServiceEdit"));
    m_service->lineEdit()->setPlaceholderText(tr("any service"));
    m_service->lineEdit()->setClearButtonEnabled(true);
    m_service->setToolTip(tr("A span of this service (exact name)"));
    // A popup, not inline completion: the text stays what was typed.
    m_service->completer()->setCompletionMode(QCompleter::PopupCompletion);
    m_service->completer()->setCaseSensitivity(Qt::CaseInsensitive);
    m_service->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_service->setMinimumContentsLength(14);

    m_operation = new QLineEdit(m_filters);
    m_operation->setObjectName(QStringLiteral("traceSearchOperation"));
    m_operation->setPlaceholderText(tr("any operation"));
    m_operation->setClearButtonEnabled(true);
    m_operation->setToolTip(tr("... with this span name (exact)"));

    m_errorsOnly = new QCheckBox(tr("Errors only"), m_filters);
    m_errorsOnly->setObjectName(QStringLiteral("traceSearchErrorsOnly"));
    m_errorsOnly->setToolTip(tr("... that is an error span: status ERROR, or a server span answering HTTP 5xx"));

    m_attributes = new QLineEdit(m_filters);
    m_attributes->setObjectName(QStringLiteral("traceSearchAttributes"));
    m_attributes->setPlaceholderText(tr("http.route=/cart customer=\"gold tier\" db.system"));
    m_attributes->setClearButtonEnabled(true);
    m_attributes->setToolTip(tr("... with these span or resource attributes, space-separated: key=value, "
                                "key=\"value with spaces\", or key alone for \"the key is set\""));

    m_minDuration = new QLineEdit(m_filters);
    m_minDuration->setObjectName(QStringLiteral("traceSearchMinDuration"));
    m_minDuration->setPlaceholderText(tr("min"));
    m_minDuration->setToolTip(tr("The whole trace lasted at least this long: milliseconds, or with a unit (1.5s, "
                                 "800us)"));
    m_maxDuration = new QLineEdit(m_filters);
    m_maxDuration->setObjectName(QStringLiteral("traceSearchMaxDuration"));
    m_maxDuration->setPlaceholderText(tr("max"));
    m_maxDuration->setToolTip(tr("The whole trace lasted at most this long: milliseconds, or with a unit (1.5s, "
                                 "800us)"));
    const int durationWidth = fontMetrics().horizontalAdvance(QStringLiteral("00000.00")) + 16;
    m_minDuration->setMaximumWidth(durationWidth);
    m_maxDuration->setMaximumWidth(durationWidth);
    auto *durations = new QHBoxLayout;
    durations->setSpacing(4);
    durations->addWidget(m_minDuration);
    auto *to = new QLabel(QStringLiteral("–"), m_filters);
    to->setObjectName(QStringLiteral("traceSearchDurationTo"));
    durations->addWidget(to);
    durations->addWidget(m_maxDuration);
    auto *ms = new QLabel(tr("ms"), m_filters);
    ms->setObjectName(QStringLiteral("traceSearchDurationUnit"));
    durations->addWidget(ms);
    durations->addStretch(1);

    m_timeRange = new QComboBox(m_filters);
    m_timeRange->setObjectName(QStringLiteral("traceSearchTimeRange"));
    m_timeRange->addItem(tr("Last 5 min"), 5);
    m_timeRange->addItem(tr("Last 15 min"), 15);
    m_timeRange->addItem(tr("Last 1 h"), 60);
    m_timeRange->addItem(tr("Last 6 h"), 360);
    m_timeRange->addItem(tr("All kept"), 0);
    m_timeRange->setCurrentIndex(int(TimeRange::AllKept));
    m_timeRange->setToolTip(tr("When the trace started (its earliest span)"));

    m_limit = new QSpinBox(m_filters);
    m_limit->setObjectName(QStringLiteral("traceSearchLimit"));
    m_limit->setRange(1, kMaxLimit);
    m_limit->setValue(kDefaultLimit);
    m_limit->setAccelerated(true);
    m_limit->setToolTip(tr("At most this many traces: the newest, or the top of the column sorted by"));

    m_query = new QLineEdit(m_filters);
    m_query->setObjectName(QStringLiteral("traceSearchQuery"));
    m_query->setPlaceholderText(QStringLiteral("{ resource.service.name = \"checkout\" } >> { status = error }"));
    m_query->setClearButtonEnabled(true);
    m_query->setToolTip(tr("TraceQL across the spans of a trace: { conditions } joined by && (both), >> "
                           "(descendant) and > (child); conditions on name, status, kind, duration, "
                           "resource.x and span.x with =, !=, <, >, =~"));
    m_queryError = new QLabel(m_filters);
    m_queryError->setObjectName(QStringLiteral("traceSearchQueryError"));
    m_queryError->setWordWrap(true);
    m_queryError->setTextInteractionFlags(Qt::TextSelectableByMouse);
    {
        QPalette pal = m_queryError->palette();
        pal.setColor(QPalette::WindowText, problemColor());
        m_queryError->setPalette(pal);
    }
    m_queryError->hide();

    m_searchButton = new QPushButton(tr("Search"), m_filters);
    m_searchButton->setObjectName(QStringLiteral("traceSearchButton"));
    // Enter is handled by keyPressEvent: no default button to steal it from the table.
    m_searchButton->setAutoDefault(false);
    m_searchButton->setDefault(false);

    grid->addWidget(label(tr("&Service"), "traceSearchServiceLabel", m_service), 0, 0);
    grid->addWidget(m_service, 0, 1);
    grid->addWidget(label(tr("&Operation"), "traceSearchOperationLabel", m_operation), 0, 2);
    grid->addWidget(m_operation, 0, 3);
    grid->addWidget(m_errorsOnly, 0, 4, 1, 2);

    grid->addWidget(label(tr("&Attributes"), "traceSearchAttributesLabel", m_attributes), 1, 0);
    grid->addWidget(m_attributes, 1, 1);
    grid->addWidget(label(tr("&Duration"), "traceSearchDurationLabel", m_minDuration), 1, 2);
    grid->addLayout(durations, 1, 3);
    grid->addWidget(label(tr("S&tarted"), "traceSearchTimeRangeLabel", m_timeRange), 1, 4);
    grid->addWidget(m_timeRange, 1, 5);

    grid->addWidget(label(tr("&TraceQL"), "traceSearchQueryLabel", m_query), 2, 0);
    grid->addWidget(m_query, 2, 1, 1, 3);
    grid->addWidget(label(tr("&Limit"), "traceSearchLimitLabel", m_limit), 2, 4);
    auto *limitRow = new QHBoxLayout;
    limitRow->setSpacing(8);
    limitRow->addWidget(m_limit, 1);
    limitRow->addWidget(m_searchButton);
    grid->addLayout(limitRow, 2, 5);
    grid->addWidget(m_queryError, 3, 1, 1, 5);

    grid->setColumnStretch(1, 3);
    grid->setColumnStretch(3, 2);

    connect(m_searchButton, &QPushButton::clicked, this, [this] { search(); });
    connect(m_query, &QLineEdit::textChanged, this, [this] { validateQuery(); });
    return m_filters;
}

void TraceSearchDialog::buildChart()
{
    const QPalette pal = palette();
    const QColor background = pal.color(QPalette::Base);
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = pal.color(QPalette::Mid);
    grid.setAlpha(110);

    m_chart = new QChart;
    m_chart->setObjectName(QStringLiteral("traceSearchChart"));
    m_chart->setBackgroundBrush(background);
    m_chart->setBackgroundRoundness(3);
    m_chart->setPlotAreaBackgroundVisible(false);
    m_chart->setMargins(QMargins(6, 2, 10, 4));
    m_chart->layout()->setContentsMargins(0, 0, 0, 0);
    m_chart->setAnimationOptions(QChart::NoAnimation);

    QFont axisFont = font();
    axisFont.setPointSizeF(std::max(7.0, axisFont.pointSizeF() - 1));
    m_x = new QDateTimeAxis;
    m_x->setObjectName(QStringLiteral("traceSearchTimeAxis"));
    m_x->setFormat(QStringLiteral("HH:mm:ss"));
    m_x->setTickCount(7);
    m_y = new QValueAxis;
    m_y->setObjectName(QStringLiteral("traceSearchDurationAxis"));
    m_y->setLabelFormat(QStringLiteral("%g"));
    m_y->setTitleText(tr("duration (ms)"));
    m_y->setTitleFont(axisFont);
    m_y->setTitleBrush(pal.color(QPalette::PlaceholderText));
    for (QAbstractAxis *axis : {static_cast<QAbstractAxis *>(m_x), static_cast<QAbstractAxis *>(m_y)}) {
        axis->setLabelsFont(axisFont);
        axis->setLabelsColor(text);
        axis->setGridLineColor(grid);
        axis->setLinePenColor(pal.color(QPalette::Mid));
        axis->setMinorGridLineVisible(false);
    }
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);

    auto addSeries = [this](const QString &name, const char *objectName, const QColor &fill, double size) {
        auto *s = new QScatterSeries;
        s->setObjectName(QLatin1String(objectName));
        s->setName(name);
        s->setMarkerShape(QScatterSeries::MarkerShapeCircle);
        s->setMarkerSize(size);
        s->setColor(fill);
        s->setBorderColor(fill.darker(160));
        m_chart->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
        connect(s, &QScatterSeries::clicked, this, [this, s](const QPointF &p) { pointClicked(s, p); });
        connect(
            s, &QScatterSeries::hovered, this, [this, s](const QPointF &p, bool state) { pointHovered(s, p, state); });
        return s;
    };
    m_okSeries = addSeries(tr("Traces"), "traceSearchOkSeries", waterfall::serviceColor(0), 8);
    m_errorSeries = addSeries(tr("With errors"), "traceSearchErrorSeries", waterfall::errorColor(), 9);
    // The selected row's trace: a ring drawn over its point.
    m_highlightSeries = addSeries(tr("Selected"), "traceSearchHighlightSeries", Qt::transparent, 17);
    m_highlightSeries->setBorderColor(Qt::white);
    {
        QPen ring(Qt::white);
        ring.setWidthF(2);
        m_highlightSeries->setPen(ring);
        m_highlightSeries->setBrush(Qt::NoBrush);
    }

    QLegend *legend = m_chart->legend();
    legend->setAlignment(Qt::AlignTop);
    legend->setFont(axisFont);
    legend->setLabelColor(text);
    legend->setMarkerShape(QLegend::MarkerShapeFromSeries);
    for (QLegendMarker *marker : legend->markers(m_highlightSeries))
        marker->setVisible(false);

    m_chartView = new QChartView(m_chart, this);
    m_chartView->setObjectName(QStringLiteral("traceSearchChartView"));
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setFrameShape(QFrame::NoFrame);
    m_chartView->setBackgroundBrush(background);
    m_chartView->setMinimumHeight(170);
    m_chartView->installEventFilter(this);
    plotTraces();
}

void TraceSearchDialog::buildTable()
{
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("traceSearchTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setShowGrid(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
    m_table->setMinimumHeight(160);

    QHeaderView *header = m_table->horizontalHeader();
    header->setObjectName(QStringLiteral("traceSearchHeader"));
    header->setSectionsClickable(true);
    header->setSortIndicatorShown(true);
    header->setSortIndicator(TraceSearchModel::Start, Qt::DescendingOrder);
    header->setHighlightSections(false);
    header->setStretchLastSection(false);
    header->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    // Widths from the text they hold (and the header with its sort arrow), so that no
    // number is cut off; Services takes what is left.
    const QFontMetrics fm = fontMetrics();
    auto width = [&](const QString &sample, int column) {
        const QString title = m_model->headerData(column, Qt::Horizontal).toString();
        return std::max(fm.horizontalAdvance(sample), fm.horizontalAdvance(title) + 24) + 18;
    };
    header->resizeSection(TraceSearchModel::Start, width(QStringLiteral("00:00:00.000"), TraceSearchModel::Start));
    header->resizeSection(TraceSearchModel::Duration, width(QStringLiteral("1,234.5 ms"), TraceSearchModel::Duration));
    header->resizeSection(TraceSearchModel::Spans, width(QStringLiteral("200,000"), TraceSearchModel::Spans));
    header->resizeSection(TraceSearchModel::Errors, width(QStringLiteral("10,000"), TraceSearchModel::Errors));
    header->resizeSection(TraceSearchModel::Root, fm.horizontalAdvance(QLatin1Char('x')) * 30);
    header->resizeSection(TraceSearchModel::TraceIdColumn,
        width(QStringLiteral("0af7651916cd43dd8448eb211c80319c"), TraceSearchModel::TraceIdColumn));
    // Services gives way first when the dialog is narrow: Root says more about a trace.
    header->setSectionResizeMode(TraceSearchModel::Services, QHeaderView::Stretch);
    header->setMinimumSectionSize(40);

    connect(header, &QHeaderView::sortIndicatorChanged, this, &TraceSearchDialog::headerSortChanged);
    connect(m_table, &QAbstractItemView::activated, this, [this](const QModelIndex &index) {
        if (index.isValid())
            Q_EMIT traceRequested(index.data(TraceSearchModel::TraceIdRole).toString());
    });
    connect(
        m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
            highlightTrace(current.isValid() ? current.data(TraceSearchModel::TraceIdRole).toString() : QString());
        });
}

void TraceSearchDialog::setMoment(std::optional<std::pair<int64_t, int64_t>> rangeMs)
{
    if (rangeMs == m_moment)
        return;
    const bool wasChosen = m_timeRange->currentData().toInt() == kMomentRange;
    m_moment = rangeMs;
    const int at = m_timeRange->findData(kMomentRange);
    if (!rangeMs) {
        if (at >= 0)
            m_timeRange->removeItem(at);
        if (wasChosen)
            m_timeRange->setCurrentIndex(int(TimeRange::AllKept));
        return;
    }
    auto t
        = [](int64_t ms) -> QString { return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")); };
    const QString text = tr("At the moment viewed (%1–%2)").arg(t(rangeMs->first), t(rangeMs->second));
    if (at >= 0)
        m_timeRange->setItemText(at, text);
    else
        m_timeRange->addItem(text, kMomentRange);
    m_timeRange->setCurrentIndex(m_timeRange->findData(kMomentRange));
}

bool TraceSearchDialog::search()
{
    clearProblems();
    // Whatever was in flight answers filters the user has moved on from.
    m_jobs.cancel();
    m_searching = false;
    if (!m_store) {
        showProblem(tr("No trace store: traces are kept once a source delivers spans."), nullptr);
        return false;
    }

    TraceSearchJob job;
    TraceFilter &f = job.filter;
    f.service = m_service->currentText().trimmed().toStdString();
    f.operation = m_operation->text().trimmed().toStdString();
    f.errorsOnly = m_errorsOnly->isChecked();

    AttributeConditions attributes;
    if (const QString e = parseAttributes(m_attributes->text(), attributes); !e.isEmpty()) {
        showProblem(tr("Attributes: %1").arg(e), m_attributes);
        return false;
    }
    f.attributes = std::move(attributes.pairs);
    f.attributeKeys = std::move(attributes.keys);

    for (QLineEdit *edit : {m_minDuration, m_maxDuration}) {
        const QString text = edit->text();
        if (text.trimmed().isEmpty())
            continue;
        const QString which = edit == m_minDuration ? tr("Min duration") : tr("Max duration");
        const std::optional<double> ms = parseDurationMs(text);
        if (!ms) {
            showProblem(tr("%1: '%2' is not a duration; give milliseconds (250) or a unit (1.5s, 800us)")
                            .arg(which, text.trimmed()),
                edit);
            return false;
        }
        if (*ms < 0) {
            showProblem(tr("%1 cannot be negative: %2").arg(which, text.trimmed()), edit);
            return false;
        }
        (edit == m_minDuration ? f.minDurationMs : f.maxDurationMs) = *ms;
    }
    if (f.minDurationMs && f.maxDurationMs && *f.minDurationMs > *f.maxDurationMs) {
        showProblem(tr("Min duration (%1) is above max duration (%2): no trace can match")
                        .arg(display::millis(*f.minDurationMs), display::millis(*f.maxDurationMs)),
            m_minDuration);
        return false;
    }

    if (m_timeRange->currentData().toInt() == kMomentRange && m_moment) {
        f.fromNs = uint64_t(std::max<int64_t>(0, m_moment->first)) * 1000000ull;
        f.toNs = uint64_t(std::max<int64_t>(0, m_moment->second)) * 1000000ull;
    } else if (const int minutes = m_timeRange->currentData().toInt(); minutes > 0) {
        const uint64_t nowNs = uint64_t(QDateTime::currentMSecsSinceEpoch()) * 1000000ull;
        const uint64_t spanNs = uint64_t(minutes) * 60ull * 1000000000ull;
        f.fromNs = nowNs > spanNs ? nowNs - spanNs : 0;
    }
    f.limit = uint32_t(m_limit->value());
    f.sort = m_sort;

    // Parsed as typed: the error's column must point into the text on screen.
    const QString queryText = m_query->text();
    if (!queryText.trimmed().isEmpty()) {
        std::string error;
        job.query = TraceQlQuery::parse(queryText.toStdString(), error);
        if (!job.query) {
            validateQuery();
            showProblem(tr("Not searched: the TraceQL query does not parse (see under the field)"), m_query);
            return false;
        }
    }

    saveSettings();
    m_searchedOnce = true;
    m_searching = true;
    QPalette pal = m_status->palette();
    pal.setColor(QPalette::WindowText, palette().color(QPalette::WindowText));
    m_status->setPalette(pal);
    m_status->setText(tr("Searching…"));

    // Runs on m_jobs' thread: the store is thread-safe; only values come back.
    TraceStore *store = m_store;
    m_jobs.run<TraceSearchOutcome>([store, job = std::move(job)] { return runSearch(*store, job); },
        [this](TraceSearchOutcome outcome) { finishSearch(outcome); });
    return true;
}

void TraceSearchDialog::finishSearch(const TraceSearchOutcome &outcome)
{
    m_searching = false;
    const QString selected = m_highlighted;
    m_model->setTraces(outcome.traces);
    if (m_localSortColumn >= 0)
        m_model->sort(m_localSortColumn, m_localSortOrder);
    m_highlighted.clear();
    plotTraces();
    if (const int row = m_model->rowOf(selected); row >= 0 && !selected.isEmpty())
        m_table->selectRow(row);

    const int n = int(outcome.traces.size());
    const double took = outcome.elapsedMs;
    QString text = tr("%1 (%2 searched) in %3 ms")
                       .arg(display::quantity(n, tr("trace"), tr("traces")),
                           QString(display::count(outcome.spansSearched)
                               + (outcome.spansSearched == 1 ? tr(" span") : tr(" spans"))),
                           took < 0.01 ? QStringLiteral("< 0.01")
                                       : QString::number(took, 'f',
                                           took < 1        ? 2
                                               : took < 10 ? 1
                                                           : 0));
    if (n > 0 && n == m_limit->value())
        text += tr(" · limit reached: %1").arg(topText(m_sort, n));
    m_status->setText(text);
    setServices(outcome.services);
    Q_EMIT searchFinished(n);
}

void TraceSearchDialog::plotTraces()
{
    QList<QPointF> ok, errors;
    m_okIds.clear();
    m_errorIds.clear();
    double minX = 0, maxX = 0, maxY = 0;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const QModelIndex i = m_model->index(r, 0);
        const QPointF p(
            i.data(TraceSearchModel::StartMsRole).toDouble(), i.data(TraceSearchModel::DurationMsRole).toDouble());
        const bool error = i.data(TraceSearchModel::ErrorRole).toBool();
        (error ? errors : ok).append(p);
        (error ? m_errorIds : m_okIds).append(i.data(TraceSearchModel::TraceIdRole).toString());
        minX = r == 0 ? p.x() : std::min(minX, p.x());
        maxX = r == 0 ? p.x() : std::max(maxX, p.x());
        maxY = std::max(maxY, p.y());
    }
    m_okSeries->replace(ok);
    m_errorSeries->replace(errors);
    m_highlightSeries->clear();

    if (m_model->rowCount() == 0) {
        const double now = double(QDateTime::currentMSecsSinceEpoch());
        m_timeSpan = {now - 15 * 60 * 1000, now};
        m_y->setRange(0, 1);
        m_y->setTickCount(5);
    } else {
        m_timeSpan = {minX, maxX};
        const double step = maxY > 0 ? display::niceStep(maxY * 1.1 / 4.0) : 0.25;
        const double top = std::max(step, std::ceil(maxY * 1.1 / step) * step);
        m_y->setRange(0, top);
        m_y->setTickCount(int(std::lround(top / step)) + 1);
    }
    updateTimeAxis();
}

void TraceSearchDialog::updateTimeAxis()
{
    // QDateTimeAxis spaces its ticks evenly over its range; a range from one round time
    // to another (in local time) at a round step makes every label a round time.
    struct Step {
        double ms;
        const char *format;
    };
    static constexpr Step kSteps[] = {{100, "HH:mm:ss.zzz"}, {200, "HH:mm:ss.zzz"}, {500, "HH:mm:ss.zzz"},
        {1000, "HH:mm:ss"}, {2000, "HH:mm:ss"}, {5000, "HH:mm:ss"}, {10000, "HH:mm:ss"}, {15000, "HH:mm:ss"},
        {30000, "HH:mm:ss"}, {60000, "HH:mm"}, {120000, "HH:mm"}, {300000, "HH:mm"}, {600000, "HH:mm"},
        {900000, "HH:mm"}, {1800000, "HH:mm"}, {3600000, "HH:mm"}, {7200000, "HH:mm"}, {10800000, "HH:mm"},
        {21600000, "HH:mm"}, {43200000, "MM-dd HH:mm"}, {86400000, "MM-dd HH:mm"}};
    const auto [minX, maxX] = m_timeSpan;
    const double span = std::max(maxX - minX, 1.0);
    // A label ("00:00:00.000" at most) wants about 100 px.
    const double labelPx = QFontMetrics(m_x->labelsFont()).horizontalAdvance(QStringLiteral("00:00:00.000 ")) + 12;
    const int maxTicks = std::clamp(int(m_chart->plotArea().width() / labelPx), 3, 12);
    auto localOffsetMs
        = [](double ms) { return double(QDateTime::fromMSecsSinceEpoch(qint64(ms)).offsetFromUtc()) * 1000.0; };
    for (const Step &step : kSteps) {
        // Room for the outermost points, so that none sits on the frame.
        const double lo = minX - span * 0.02, hi = maxX + span * 0.02;
        const double offset = localOffsetMs(lo);
        const double from = std::floor((lo + offset) / step.ms) * step.ms - offset;
        const double to = std::ceil((hi + offset) / step.ms) * step.ms - offset;
        const int ticks = int(std::lround((to - from) / step.ms)) + 1;
        if (ticks <= maxTicks || &step == &kSteps[std::size(kSteps) - 1]) {
            m_x->setFormat(QLatin1String(step.format));
            m_x->setRange(QDateTime::fromMSecsSinceEpoch(qint64(from)), QDateTime::fromMSecsSinceEpoch(qint64(to)));
            m_x->setTickCount(std::clamp(ticks, 2, 100));
            return;
        }
    }
}

QScatterSeries *TraceSearchDialog::pointOf(const QString &traceIdHex, QPointF *value) const
{
    if (traceIdHex.isEmpty())
        return nullptr;
    for (QScatterSeries *series : {m_okSeries, m_errorSeries}) {
        const QStringList &ids = series == m_okSeries ? m_okIds : m_errorIds;
        const qsizetype i = ids.indexOf(traceIdHex);
        if (i >= 0) {
            if (value)
                *value = series->at(int(i));
            return series;
        }
    }
    return nullptr;
}

QString TraceSearchDialog::traceIdAtPoint(const QScatterSeries *series, const QPointF &value) const
{
    if (series == m_highlightSeries)
        return m_highlightSeries->count() > 0 ? m_highlighted : QString();
    QScatterSeries *plotted = series == m_okSeries ? m_okSeries : series == m_errorSeries ? m_errorSeries : nullptr;
    if (!plotted)
        return {};
    const QStringList *ids = plotted == m_okSeries ? &m_okIds : &m_errorIds;
    // Nearest on screen: the value a click reports may be off by rounding, and points
    // of different traces may lie close together.
    const QPointF at = m_chart->mapToPosition(value, plotted);
    const QList<QPointF> points = plotted->points();
    const double reach = std::max(4.0, plotted->markerSize());
    double best = reach * reach;
    qsizetype found = -1;
    for (qsizetype i = 0; i < points.size() && i < ids->size(); ++i) {
        const QPointF d = m_chart->mapToPosition(points[i], plotted) - at;
        const double dist = d.x() * d.x() + d.y() * d.y();
        if (dist <= best) {
            best = dist;
            found = i;
        }
    }
    return found >= 0 ? ids->at(found) : QString();
}

void TraceSearchDialog::pointClicked(const QScatterSeries *series, const QPointF &point)
{
    const QString id = traceIdAtPoint(series, point);
    if (id.isEmpty())
        return;
    if (const int row = m_model->rowOf(id); row >= 0) {
        m_table->selectRow(row);
        m_table->scrollTo(m_model->index(row, 0));
    }
    Q_EMIT traceRequested(id);
}

void TraceSearchDialog::pointHovered(const QScatterSeries *series, const QPointF &point, bool state)
{
    if (!state) {
        QToolTip::hideText();
        return;
    }
    const int row = m_model->rowOf(traceIdAtPoint(series, point));
    if (row < 0)
        return;
    QToolTip::showText(QCursor::pos(), m_model->index(row, 0).data(Qt::ToolTipRole).toString(), m_chartView);
}

void TraceSearchDialog::highlightTrace(const QString &traceIdHex)
{
    QPointF value;
    if (pointOf(traceIdHex, &value)) {
        m_highlighted = traceIdHex;
        m_highlightSeries->replace(QList<QPointF> {value});
    } else {
        m_highlighted.clear();
        m_highlightSeries->clear();
    }
}

void TraceSearchDialog::headerSortChanged(int column, Qt::SortOrder order)
{
    if (const std::optional<TraceFilter::Sort> sort = sortForColumn(column)) {
        // The store orders these, largest first, and the limit keeps the top of that order.
        setSortOrder(*sort);
        return;
    }
    m_localSortColumn = column;
    m_localSortOrder = order;
    m_model->sort(column, order);
}

void TraceSearchDialog::setSortOrder(TraceFilter::Sort sort)
{
    m_sort = sort;
    m_localSortColumn = -1;
    {
        const QSignalBlocker blocker(m_table->horizontalHeader());
        m_table->horizontalHeader()->setSortIndicator(columnForSort(sort), Qt::DescendingOrder);
    }
    // The header does not repaint its arrow when its signals are blocked.
    m_table->horizontalHeader()->viewport()->update();
    search();
}

void TraceSearchDialog::setServices(const std::vector<std::string> &services)
{
    QStringList names;
    names.reserve(qsizetype(services.size()));
    for (const std::string &s : services)
        names.append(QString::fromStdString(s));
    QStringList current;
    for (int i = 0; i < m_service->count(); ++i)
        current.append(m_service->itemText(i));
    if (names == current)
        return;
    // The text being typed stays exactly as it is, cursor included.
    QLineEdit *edit = m_service->lineEdit();
    const QString text = edit->text();
    const int cursor = edit->cursorPosition();
    const QSignalBlocker blocker(m_service);
    m_service->clear();
    m_service->addItems(names);
    m_service->setCurrentIndex(-1);
    edit->setText(text);
    edit->setCursorPosition(cursor);
}

void TraceSearchDialog::validateQuery()
{
    const QString text = m_query->text();
    std::string error;
    if (text.trimmed().isEmpty() || TraceQlQuery::parse(text.toStdString(), error)) {
        m_queryError->clear();
        m_queryError->hide();
        if (m_query->property("problem").toBool()) {
            m_query->setProperty("problem", false);
            m_query->style()->unpolish(m_query);
            m_query->style()->polish(m_query);
        }
        return;
    }
    m_queryError->setText(tr("TraceQL: %1").arg(QString::fromStdString(error)));
    m_queryError->show();
}

void TraceSearchDialog::showProblem(const QString &message, QWidget *field)
{
    QPalette pal = m_status->palette();
    pal.setColor(QPalette::WindowText, problemColor());
    m_status->setPalette(pal);
    m_status->setText(message);
    if (field) {
        field->setProperty("problem", true);
        field->style()->unpolish(field);
        field->style()->polish(field);
        field->setFocus(Qt::OtherFocusReason);
    }
}

void TraceSearchDialog::clearProblems()
{
    for (QWidget *field : std::initializer_list<QWidget *> {m_attributes, m_minDuration, m_maxDuration, m_query}) {
        if (!field->property("problem").toBool())
            continue;
        field->setProperty("problem", false);
        field->style()->unpolish(field);
        field->style()->polish(field);
    }
}

bool TraceSearchDialog::eventFilter(QObject *watched, QEvent *event)
{
    // The plot's width decides how many time labels fit; the chart lays out its plot
    // area on the resize, so the ticks follow once that is done.
    if (watched == m_chartView && event->type() == QEvent::Resize)
        QMetaObject::invokeMethod(this, &TraceSearchDialog::updateTimeAxis, Qt::QueuedConnection);
    return QDialog::eventFilter(watched, event);
}

void TraceSearchDialog::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) {
        // Enter in a filter searches; in the table it has opened the trace already
        // (activated), and must not reach a default button.
        QWidget *focus = focusWidget();
        if (focus && m_filters->isAncestorOf(focus))
            search();
        event->accept();
        return;
    }
    QDialog::keyPressEvent(event);
}

void TraceSearchDialog::showEvent(QShowEvent *event)
{
    QDialog::showEvent(event);
    // Something to look at on opening: the newest traces, or the last filters' matches.
    if (!m_searchedOnce && !isSearching())
        search();
}

void TraceSearchDialog::hideEvent(QHideEvent *event)
{
    saveSettings(true);
    QDialog::hideEvent(event);
}

void TraceSearchDialog::setPersistenceEnabled(bool on)
{
    m_persist = on;
    if (on)
        restoreSettings();
}

void TraceSearchDialog::saveSettings(bool geometry) const
{
    if (!m_persist)
        return;
    QSettings s = userSettings();
    s.beginGroup(QStringLiteral("traceSearch"));
    s.setValue(QStringLiteral("service"), m_service->currentText());
    s.setValue(QStringLiteral("operation"), m_operation->text());
    s.setValue(QStringLiteral("errorsOnly"), m_errorsOnly->isChecked());
    s.setValue(QStringLiteral("attributes"), m_attributes->text());
    s.setValue(QStringLiteral("minDuration"), m_minDuration->text());
    s.setValue(QStringLiteral("maxDuration"), m_maxDuration->text());
    if (m_timeRange->currentData().toInt() != kMomentRange)  // a moment is no setting to keep
        s.setValue(QStringLiteral("timeRangeMinutes"), m_timeRange->currentData().toInt());
    s.setValue(QStringLiteral("limit"), m_limit->value());
    s.setValue(QStringLiteral("query"), m_query->text());
    s.setValue(QStringLiteral("sort"), sortKey(m_sort));
    if (geometry)
        s.setValue(QStringLiteral("geometry"), saveGeometry());
    s.endGroup();
}

void TraceSearchDialog::restoreSettings()
{
    // Only what was saved: a field without a saved value keeps what it shows.
    QSettings s = userSettings();
    s.beginGroup(QStringLiteral("traceSearch"));
    auto text = [&s](const char *key, QLineEdit *edit) {
        if (s.contains(QLatin1String(key)))
            edit->setText(s.value(QLatin1String(key)).toString());
    };
    text("service", m_service->lineEdit());
    text("operation", m_operation);
    text("attributes", m_attributes);
    text("minDuration", m_minDuration);
    text("maxDuration", m_maxDuration);
    text("query", m_query);
    if (s.contains(QStringLiteral("errorsOnly")))
        m_errorsOnly->setChecked(s.value(QStringLiteral("errorsOnly")).toBool());
    if (s.contains(QStringLiteral("timeRangeMinutes"))) {
        const int i = m_timeRange->findData(s.value(QStringLiteral("timeRangeMinutes")).toInt());
        if (i >= 0)
            m_timeRange->setCurrentIndex(i);
    }
    if (s.contains(QStringLiteral("limit")))
        m_limit->setValue(s.value(QStringLiteral("limit")).toInt());
    const QString sort = s.value(QStringLiteral("sort")).toString();
    for (TraceFilter::Sort candidate :
        {TraceFilter::Sort::Start, TraceFilter::Sort::Duration, TraceFilter::Sort::Spans, TraceFilter::Sort::Errors}) {
        if (sort == sortKey(candidate)) {
            m_sort = candidate;
            const QSignalBlocker blocker(m_table->horizontalHeader());
            m_table->horizontalHeader()->setSortIndicator(columnForSort(candidate), Qt::DescendingOrder);
        }
    }
    if (s.contains(QStringLiteral("geometry")))
        restoreGeometry(s.value(QStringLiteral("geometry")).toByteArray());
    s.endGroup();
}

}  // namespace meshscope

#include "traces/models/tracesearchmodel.h"

#include "displayformat.h"
#include "traces/waterfallstyle.h"

#include <QDateTime>

#include <algorithm>
#include <numeric>

namespace meshscope {

namespace {

// Text on the dark table: the waterfall's error red, lifted so that a whole row of it
// stays readable on the base colour.
QColor errorRowColor() { return waterfall::errorColor().lighter(125); }

QDateTime localStart(const TraceSummary &t) { return QDateTime::fromMSecsSinceEpoch(qint64(t.startNs / 1000000ull)); }

}  // namespace

TraceSearchModel::TraceSearchModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int TraceSearchModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

int TraceSearchModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant TraceSearchModel::sortValue(const Row &row, int column) const
{
    const TraceSummary &t = row.summary;
    switch (column) {
    case Start: return qulonglong(t.startNs);
    case Root: return row.root;
    case Duration: return qulonglong(t.endNs > t.startNs ? t.endNs - t.startNs : 0);
    case Spans: return uint(t.spanCount);
    case Errors: return uint(t.errorCount);
    case Services: return row.services;
    case TraceIdColumn: return row.id;
    default: return {};
    }
}

QVariant TraceSearchModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    const TraceSummary &t = row.summary;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Start: return localStart(t).toString(QStringLiteral("HH:mm:ss.zzz"));
        case Root: return row.root;
        case Duration: return display::millis(t.durationMs());
        case Spans: return display::count(t.spanCount);
        case Errors: return display::count(t.errorCount);
        case Services: return row.services;
        case TraceIdColumn: return row.id;
        default: return {};
        }
    case Qt::TextAlignmentRole:
        if (index.column() == Duration || index.column() == Spans || index.column() == Errors)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (t.errorCount > 0)
            return errorRowColor();
        return {};
    case Qt::ToolTipRole: {
        QString text = row.root + QLatin1Char('\n')
            + tr("started %1 · lasted %2")
                  .arg(localStart(t).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")),
                      display::millis(t.durationMs()))
            + QLatin1Char('\n') + display::quantity(t.spanCount, tr("span"), tr("spans"));
        if (t.errorCount > 0)
            text += QStringLiteral(", ") + display::quantity(t.errorCount, tr("error span"), tr("error spans"));
        if (!row.services.isEmpty())
            text += QLatin1Char('\n') + tr("services: %1").arg(row.services);
        if (t.truncated)
            text += QLatin1Char('\n') + tr("truncated: spans past the per-trace cap were dropped");
        return QString(text + QLatin1Char('\n') + tr("trace %1").arg(row.id));
    }
    case TraceIdRole: return row.id;
    case ErrorRole: return t.errorCount > 0;
    case SortRole: return sortValue(row, index.column());
    case StartMsRole: return double(t.startNs) / 1e6;
    case DurationMsRole: return t.durationMs();
    default: return {};
    }
}

QVariant TraceSearchModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Start: return tr("When the trace's earliest span started (local time). Sorts newest first.");
        case Root: return tr("The root span's service and operation");
        case Duration: return tr("From the earliest span start to the latest span end. Sorts slowest first.");
        case Spans: return tr("Spans kept of the trace. Sorts largest first.");
        case Errors: return tr("Spans with status ERROR, or server spans answering HTTP 5xx. Sorts most first.");
        case Services: return tr("Every service with a span in the trace");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Start: return tr("Start");
    case Root: return tr("Root");
    case Duration: return tr("Duration");
    case Spans: return tr("Spans");
    case Errors: return tr("Errors");
    case Services: return tr("Services");
    case TraceIdColumn: return tr("Trace ID");
    default: return {};
    }
}

void TraceSearchModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= ColumnCount || m_rows.empty())
        return;
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    std::vector<size_t> perm(m_rows.size());
    std::iota(perm.begin(), perm.end(), size_t(0));
    std::vector<QVariant> keys(m_rows.size());
    for (size_t i = 0; i < m_rows.size(); ++i)
        keys[i] = sortValue(m_rows[i], column);
    std::stable_sort(perm.begin(), perm.end(), [&](size_t a, size_t b) {
        const QPartialOrdering c = QVariant::compare(keys[a], keys[b]);
        return order == Qt::AscendingOrder ? c == QPartialOrdering::Less : c == QPartialOrdering::Greater;
    });
    std::vector<Row> sorted;
    sorted.reserve(m_rows.size());
    std::vector<int> newRowOf(m_rows.size());
    for (size_t i = 0; i < perm.size(); ++i) {
        sorted.push_back(std::move(m_rows[perm[i]]));
        newRowOf[perm[i]] = int(i);
    }
    m_rows = std::move(sorted);
    const QModelIndexList before = persistentIndexList();
    QModelIndexList after;
    after.reserve(before.size());
    for (const QModelIndex &i : before)
        after.append(index(newRowOf[size_t(i.row())], i.column()));
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void TraceSearchModel::setTraces(std::vector<TraceSummary> traces)
{
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(traces.size());
    for (TraceSummary &t : traces) {
        Row row;
        row.id = QString::fromStdString(traceIdHex(t.traceId));
        row.root
            = QString::fromStdString(t.rootService) + QStringLiteral(": ") + QString::fromStdString(t.rootOperation);
        QStringList services;
        services.reserve(qsizetype(t.services.size()));
        for (const std::string &s : t.services)
            services.append(QString::fromStdString(s));
        row.services = services.join(QStringLiteral(", "));
        row.summary = std::move(t);
        m_rows.push_back(std::move(row));
    }
    endResetModel();
}

int TraceSearchModel::rowOf(const QString &traceIdHex) const
{
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].id == traceIdHex)
            return int(i);
    }
    return -1;
}

}  // namespace meshscope

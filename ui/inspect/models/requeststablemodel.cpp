#include "inspect/models/requeststablemodel.h"

#include "displayformat.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QFont>
#include <QFontDatabase>

#include <algorithm>

namespace meshscope {

RequestsTableModel::RequestsTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int RequestsTableModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

int RequestsTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RequestsTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole: return r.cells[index.column()];
    case Qt::ToolTipRole:
        if (index.column() == From)
            return r.fromId;
        if (index.column() == To)
            return r.toId;
        return r.cells[index.column()];
    case Qt::TextAlignmentRole:
        if (index.column() == Duration || index.column() == Status)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (index.column() == Status && r.error)
            return QBrush(display::healthColor(Health::Failing));
        if (index.column() == Status && r.clientError)
            return QBrush(display::healthColor(Health::Degraded));
        return {};
    case Qt::FontRole:
        if (index.column() == TraceId || index.column() == Time)
            return QFontDatabase::systemFont(QFontDatabase::FixedFont);
        return {};
    case ErrorRole: return r.error;
    case SeqRole: return qulonglong(r.seq);
    case DurationMsRole: return r.durationMs;
    default: return {};
    }
}

QVariant RequestsTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char *const titles[]
        = {"Time", "From", "To", "Method", "Path", "Status", "Duration", "Protocol", "Trace ID"};
    return QLatin1String(titles[section]);
}

void RequestsTableModel::setCapacity(int rows)
{
    m_capacity = std::max(1, rows);
    if (int(m_rows.size()) > m_capacity)
        dropOldest(int(m_rows.size()) - m_capacity);
}

void RequestsTableModel::dropOldest(int n)
{
    if (n <= 0)
        return;
    beginRemoveRows({}, 0, n - 1);
    m_rows.erase(m_rows.begin(), m_rows.begin() + n);
    endRemoveRows();
}

int RequestsTableModel::append(const std::vector<RequestEvent> &events)
{
    if (events.empty())
        return 0;
    // A batch larger than the capacity only contributes its newest rows.
    const size_t take = std::min(events.size(), size_t(m_capacity));
    const size_t first = events.size() - take;
    const int overflow = int(m_rows.size() + take) - m_capacity;
    if (overflow > 0)
        dropOldest(overflow);

    const int start = int(m_rows.size());
    beginInsertRows({}, start, start + int(take) - 1);
    for (size_t i = first; i < events.size(); ++i) {
        const RequestEvent &e = events[i];
        Row r;
        r.seq = e.seq;
        r.fromId = QString::fromStdString(e.sourceId);
        r.toId = QString::fromStdString(e.targetId);
        r.durationMs = e.durationMs;
        r.error = e.error;
        r.clientError = e.httpStatus >= 400 && e.httpStatus < 500;
        r.cells[Time] = QDateTime::fromMSecsSinceEpoch(e.timeMs).toString(QStringLiteral("HH:mm:ss.zzz"));
        r.cells[From] = display::nodeLabel(e.sourceId);
        r.cells[To] = display::nodeLabel(e.targetId);
        r.cells[Method] = QString::fromStdString(e.method);
        r.cells[Path] = display::redactPath(e.path);
        r.cells[Status] = display::requestStatus(e.httpStatus, e.grpcStatus);
        r.cells[Duration] = display::millis(e.durationMs);
        r.cells[Protocol] = QLatin1String(protocolName(e.protocol));
        r.cells[TraceId] = QString::fromStdString(e.traceId);
        m_rows.push_back(std::move(r));
    }
    endInsertRows();
    return int(take);
}

void RequestsTableModel::clear()
{
    if (m_rows.empty())
        return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

}  // namespace meshscope

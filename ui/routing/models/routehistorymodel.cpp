#include "routing/models/routehistorymodel.h"

#include "routing/routeissuestyle.h"

#include <QDateTime>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

}  // namespace

RouteHistoryModel::RouteHistoryModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void RouteHistoryModel::setEntries(std::vector<routing::HistoryEntry> entries)
{
    // Appended only: the old entries are a prefix with the same ids.
    bool appended = entries.size() >= m_entries.size();
    for (size_t i = 0; appended && i < m_entries.size(); ++i)
        appended = entries[i].id == m_entries[i].id;
    if (appended) {
        const int added = int(entries.size() - m_entries.size());
        if (added == 0) {
            m_entries = std::move(entries);
            return;
        }
        beginInsertRows({}, 0, added - 1);
        m_entries = std::move(entries);
        endInsertRows();
        return;
    }
    beginResetModel();
    m_entries = std::move(entries);
    endResetModel();
}

const routing::HistoryEntry *RouteHistoryModel::entryAt(int row) const
{
    if (row < 0 || size_t(row) >= m_entries.size())
        return nullptr;
    return &m_entries[m_entries.size() - 1 - size_t(row)];
}

int RouteHistoryModel::rowOfId(int64_t id) const
{
    for (int r = 0; r < rowCount(); ++r) {
        if (entryAt(r)->id == id)
            return r;
    }
    return -1;
}

int RouteHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

int RouteHistoryModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RouteHistoryModel::data(const QModelIndex &index, int role) const
{
    const routing::HistoryEntry *e = index.isValid() ? entryAt(index.row()) : nullptr;
    if (!e)
        return {};
    switch (role) {
    case EntryIdRole: return qlonglong(e->id);
    case DiffRole: return qs(e->diff);
    case Qt::DisplayRole:
        switch (index.column()) {
        case Id: return QStringLiteral("#%1").arg(e->id);
        case Time: {
            const QDateTime t = QDateTime::fromMSecsSinceEpoch(e->timeMs);
            const bool today = t.date() == QDate::currentDate();
            return t.toString(today ? QStringLiteral("HH:mm:ss") : QStringLiteral("yyyy-MM-dd HH:mm"));
        }
        case Target: return qs(e->target);
        case Change: {
            QString text;
            if (e->rollbackOf)
                text = tr("rollback of #%1: ").arg(*e->rollbackOf);
            if (e->summary.empty())
                return QString(text + tr("no change"));
            QString first = qs(e->summary.front());
            if (first.startsWith(QLatin1String("HTTPRoute ")))
                first = first.mid(10);  // the column is narrow; the tooltip has it whole
            text += first;
            if (e->summary.size() > 1)
                text += tr("  (+%n more)", nullptr, int(e->summary.size() - 1));
            return text;
        }
        default: return {};
        }
    case Qt::ToolTipRole: {
        QStringList lines;
        lines << tr("<b>Change #%1</b> to %2, %3")
                     .arg(e->id)
                     .arg(qs(e->target).toHtmlEscaped(),
                         QDateTime::fromMSecsSinceEpoch(e->timeMs).toString(Qt::ISODateWithMs));
        if (e->rollbackOf)
            lines << tr("rolled back change #%1").arg(*e->rollbackOf);
        for (const std::string &s : e->summary)
            lines << qs(s).toHtmlEscaped();
        return lines.join(QStringLiteral("<br>"));
    }
    case Qt::ForegroundRole:
        if (index.column() == Id || index.column() == Time)
            return routestyle::kDimColor;
        if (index.column() == Change && e->rollbackOf)
            return routestyle::kWarningColor;
        return {};
    default: return {};
    }
}

QVariant RouteHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Id: return tr("#");
    case Time: return tr("Time");
    case Target: return tr("Target");
    case Change: return tr("Change");
    default: return {};
    }
}

}  // namespace meshscope

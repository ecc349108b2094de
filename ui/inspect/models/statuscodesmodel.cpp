#include "inspect/models/statuscodesmodel.h"

#include "displayformat.h"

#include <QBrush>

#include <algorithm>

namespace meshscope {

namespace {

bool isErrorCode(int code) { return (code >= 500 && code < 600) || code > 1000; }

}  // namespace

StatusCodesModel::StatusCodesModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int StatusCodesModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_codes.size()); }

int StatusCodesModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant StatusCodesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto &[code, n] = m_codes[size_t(index.row())];
    const double share = m_total ? double(n) / double(m_total) : 0.0;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Code: return display::statusCode(code);
        case Count: return display::count(n);
        case Share: return display::percent(share);
        }
        return {};
    case SortRole:
        switch (index.column()) {
        case Code: return code;
        case Count: return qulonglong(n);
        case Share: return share;
        }
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Code && isErrorCode(code))
            return QBrush(display::healthColor(Health::Failing));
        if (index.column() == Code && code >= 400 && code < 500)
            return QBrush(display::healthColor(Health::Degraded));
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == Code ? int(Qt::AlignLeft | Qt::AlignVCenter) : int(Qt::AlignRight | Qt::AlignVCenter);
    case CodeRole: return code;
    default: return {};
    }
}

QVariant StatusCodesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Code: return QStringLiteral("Status");
    case Count: return QStringLiteral("Requests");
    case Share: return QStringLiteral("Share");
    }
    return {};
}

void StatusCodesModel::setCodes(std::vector<std::pair<int, uint64_t>> codes)
{
    std::sort(codes.begin(), codes.end(),
        [](const auto &a, const auto &b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    uint64_t total = 0;
    for (const auto &c : codes)
        total += c.second;
    bool sameRows = codes.size() == m_codes.size();
    for (size_t i = 0; sameRows && i < codes.size(); ++i)
        sameRows = codes[i].first == m_codes[i].first;
    if (!sameRows) {
        beginResetModel();
        m_codes = std::move(codes);
        m_total = total;
        endResetModel();
        return;
    }
    m_codes = std::move(codes);
    m_total = total;
    if (!m_codes.empty())
        Q_EMIT dataChanged(index(0, Count), index(int(m_codes.size()) - 1, ColumnCount - 1));
}

}  // namespace meshscope

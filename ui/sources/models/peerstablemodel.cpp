#include "sources/models/peerstablemodel.h"

#include "displayformat.h"

#include <QBrush>

namespace meshscope {

PeersTableModel::PeersTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int PeersTableModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_peers.size()); }

int PeersTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant PeersTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const PeerRow &p = m_peers[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Peer: return p.label;
        case Rps: return display::rps(p.stats.rps);
        case ErrorRate: return display::percent(p.stats.errorRate);
        case P95: return display::millis(p.stats.p95Ms);
        }
        return {};
    case SortRole:
        switch (index.column()) {
        case Peer: return p.label;
        case Rps: return p.stats.rps;
        case ErrorRate: return p.stats.errorRate;
        case P95: return p.stats.p95Ms;
        }
        return {};
    case Qt::ToolTipRole: return index.column() == Peer ? p.id : QVariant();
    case Qt::DecorationRole: return index.column() == Peer ? display::healthColor(p.health) : QVariant();
    case Qt::ForegroundRole:
        if (index.column() == ErrorRate && p.health >= Health::Degraded)
            return QBrush(display::healthColor(p.health));
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == Peer ? int(Qt::AlignLeft | Qt::AlignVCenter) : int(Qt::AlignRight | Qt::AlignVCenter);
    case PeerIdRole: return p.id;
    default: return {};
    }
}

QVariant PeersTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Peer: return m_peerHeader;
    case Rps: return QStringLiteral("RPS");
    case ErrorRate: return QStringLiteral("Error %");
    case P95: return QStringLiteral("p95");
    }
    return {};
}

void PeersTableModel::setPeerHeader(const QString &title)
{
    if (title == m_peerHeader)
        return;
    m_peerHeader = title;
    Q_EMIT headerDataChanged(Qt::Horizontal, Peer, Peer);
}

void PeersTableModel::setPeers(QVector<PeerRow> peers)
{
    bool sameRows = peers.size() == m_peers.size();
    for (qsizetype i = 0; sameRows && i < peers.size(); ++i)
        sameRows = peers[i].id == m_peers[i].id && peers[i].label == m_peers[i].label;
    if (!sameRows) {
        beginResetModel();
        m_peers = std::move(peers);
        endResetModel();
        return;
    }
    m_peers = std::move(peers);
    if (!m_peers.isEmpty())
        Q_EMIT dataChanged(index(0, Rps), index(int(m_peers.size()) - 1, ColumnCount - 1));
}

}  // namespace meshscope

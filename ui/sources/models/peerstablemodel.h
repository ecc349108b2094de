#pragma once
// The inbound or outbound neighbours of the inspected node (or the two endpoints of
// an inspected edge) with their golden numbers. Refreshed about once a second: when
// the same peers come back in the same order only the changed cells are reported,
// so selection and scroll position survive refreshes.

#include "graph/graphsnapshot.h"
#include "graph/healthpolicy.h"

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

namespace meshscope {

class PeersTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Peer, Rps, ErrorRate, P95, ColumnCount };
    enum Role { PeerIdRole = Qt::UserRole + 1, SortRole };

    struct PeerRow {
        QString id;  // node id
        QString label;  // what the first column says
        TrafficStats stats;
        Health health = Health::NoTraffic;
    };

    explicit PeersTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void setPeerHeader(const QString &title);
    void setPeers(QVector<PeerRow> peers);
    const QVector<PeerRow> &peers() const { return m_peers; }

private:
    QVector<PeerRow> m_peers;
    QString m_peerHeader = QStringLiteral("Peer");
};

}  // namespace meshscope

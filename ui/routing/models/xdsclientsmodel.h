#pragma once
// The clients of meshscope's xDS control plane, one row each: node id, peer,
// connected or not, and per resource type (LDS, RDS, CDS, EDS) what it made of the
// latest push: ACKed (which version), still waiting, or NACKed; the last column
// quotes the client's own reason for every NACK standing. Fed whole lists of XdsClientStatus (the control plane's
// clients()); the same clients in the same order update in place so selection survives a refresh.

#include "routing/xds/xdscontrolplane.h"

#include <QAbstractTableModel>
#include <QString>

#include <vector>

namespace meshscope {

class XdsClientsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Node, Peer, State, Listeners, Routes, Clusters, Endpoints, Reason, ColumnCount };
    enum Role {
        SortRole = Qt::UserRole + 1,
        TypeStateRole,  // per type column: int(TypeState)
    };
    enum class TypeState { NotSubscribed, Waiting, Acked, Nacked };

    explicit XdsClientsModel(QObject *parent = nullptr);

    void setClients(std::vector<routing::XdsClientStatus> clients);
    const std::vector<routing::XdsClientStatus> &clients() const { return m_clients; }
    // The version meshscope last pushed ("" when unknown): rows behind it say so.
    void setServedVersion(const QString &version);

    static TypeState typeState(const routing::XdsTypeStatus *type);
    // "3 clients · all ACKed v4" / "2 clients · 1 NACKed" / "no clients".
    QString summary() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    const routing::XdsTypeStatus *typeFor(const routing::XdsClientStatus &c, int column) const;

    std::vector<routing::XdsClientStatus> m_clients;
    QString m_servedVersion;
};

}  // namespace meshscope

#pragma once
// The health of a gateway's upstreams, as its Envoy admin reports them
// (/clusters): one row per cluster with its hosts by health, ejections, failed
// health checks and requests. Shown in the Inspect panel's "Upstreams" tab when the
// inspected node is a proxy meshscope polls.

#include "telemetry/envoyadmin/envoyadmin.h"

#include <QAbstractTableModel>

#include <vector>

namespace meshscope {

class UpstreamHealthModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Cluster, Hosts, Degraded, Unhealthy, Ejected, ActiveRequests, Requests, ColumnCount };
    enum Role { NodeIdRole = Qt::UserRole + 1, SortRole };  // SortRole matches the other inspect models

    explicit UpstreamHealthModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Internal clusters (admin, stats, inbound passthrough) are left out: they say
    // nothing about the upstreams.
    void setClusters(const std::vector<EnvoyClusterHealth> &clusters);
    // Clusters with at least one host not healthy.
    int troubledCount() const;

private:
    std::vector<EnvoyClusterHealth> m_rows;
};

}  // namespace meshscope

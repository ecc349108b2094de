#include "inspect/models/upstreamhealthmodel.h"

#include "displayformat.h"

#include <QBrush>
#include <QColor>

namespace meshscope {

namespace {

QString hostLine(const EnvoyHostHealth &h)
{
    QString line = h.address + QStringLiteral("  ") + QString::fromLatin1(envoyHostStateName(h.state));
    if (!h.flags.isEmpty())
        line += QStringLiteral(" (") + h.flags.join(QStringLiteral(", ")) + QLatin1Char(')');
    if (h.successRate)
        line += QStringLiteral(", success %1 %").arg(*h.successRate, 0, 'f', 1);
    line += QStringLiteral(", %1 requests, %2 errors").arg(h.rqTotal).arg(h.rqError);
    return line;
}

}  // namespace

UpstreamHealthModel::UpstreamHealthModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int UpstreamHealthModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

int UpstreamHealthModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

void UpstreamHealthModel::setClusters(const std::vector<EnvoyClusterHealth> &clusters)
{
    beginResetModel();
    m_rows.clear();
    for (const EnvoyClusterHealth &c : clusters) {
        if (c.role == QLatin1String("internal") || c.role == QLatin1String("inbound"))
            continue;
        m_rows.push_back(c);
    }
    endResetModel();
}

int UpstreamHealthModel::troubledCount() const
{
    int n = 0;
    for (const EnvoyClusterHealth &c : m_rows) {
        if (c.degraded + c.unhealthy > 0)
            ++n;
    }
    return n;
}

QVariant UpstreamHealthModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const EnvoyClusterHealth &c = m_rows[size_t(index.row())];
    const int col = index.column();
    if (role == NodeIdRole)
        return QString::fromStdString(c.nodeId);
    if (role == SortRole) {
        switch (col) {
        case Cluster: return c.cluster;
        case Hosts: return c.hostsTotal == 0 ? 1.0 : double(c.healthy) / c.hostsTotal;
        case Degraded: return c.degraded;
        case Unhealthy: return c.unhealthy;
        case Ejected: return c.outlierEjected + c.failedActiveHc;
        case ActiveRequests: return qulonglong(c.rqActive);
        case Requests: return qulonglong(c.rqTotal);
        default: return {};
        }
    }
    if (role == Qt::DisplayRole) {
        switch (col) {
        case Cluster: return c.nodeId.empty() ? c.cluster : display::nodeLabel(c.nodeId);
        case Hosts: return QStringLiteral("%1 / %2").arg(c.healthy).arg(c.hostsTotal);
        case Degraded: return c.degraded;
        case Unhealthy: return c.unhealthy;
        case Ejected:
            return c.failedActiveHc > 0
                ? QStringLiteral("%1 ejected, %2 failed HC").arg(c.outlierEjected).arg(c.failedActiveHc)
                : QString::number(c.outlierEjected);
        case ActiveRequests: return qulonglong(c.rqActive);
        case Requests: return display::count(c.rqTotal);
        default: return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        QStringList lines {c.cluster};
        for (const EnvoyHostHealth &h : c.hosts)
            lines << hostLine(h);
        if (c.hosts.empty())
            lines << tr("no hosts");
        return lines.join(QLatin1Char('\n'));
    }
    if (role == Qt::ForegroundRole) {
        if (c.hostsTotal > 0 && c.healthy == 0)
            return QBrush(display::healthColor(Health::Failing));
        if (c.degraded + c.unhealthy > 0)
            return QBrush(display::healthColor(Health::Degraded));
        return {};
    }
    if (role == Qt::TextAlignmentRole && col != Cluster)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant UpstreamHealthModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Cluster: return tr("Upstream");
    case Hosts: return tr("Healthy");
    case Degraded: return tr("Degraded");
    case Unhealthy: return tr("Unhealthy");
    case Ejected: return tr("Ejected");
    case ActiveRequests: return tr("Active");
    case Requests: return tr("Requests");
    default: return {};
    }
}

}  // namespace meshscope

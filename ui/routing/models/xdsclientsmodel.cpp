#include "routing/models/xdsclientsmodel.h"

#include "routing/routeissuestyle.h"
#include "routing/xds/xdstranslator.h"

#include <QDateTime>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

QString clock(int64_t ms)
{
    return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")) : QStringLiteral("-");
}

std::string_view typeUrlFor(int column)
{
    switch (column) {
    case XdsClientsModel::Listeners: return routing::kXdsListenerType;
    case XdsClientsModel::Routes: return routing::kXdsRouteConfigurationType;
    case XdsClientsModel::Clusters: return routing::kXdsClusterType;
    case XdsClientsModel::Endpoints: return routing::kXdsClusterLoadAssignmentType;
    default: return {};
    }
}

}  // namespace

XdsClientsModel::XdsClientsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void XdsClientsModel::setClients(std::vector<routing::XdsClientStatus> clients)
{
    bool sameRows = clients.size() == m_clients.size();
    for (size_t i = 0; sameRows && i < clients.size(); ++i)
        sameRows = clients[i].id == m_clients[i].id;
    if (sameRows) {
        m_clients = std::move(clients);
        if (!m_clients.empty())
            Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
        return;
    }
    beginResetModel();
    m_clients = std::move(clients);
    endResetModel();
}

void XdsClientsModel::setServedVersion(const QString &version)
{
    if (version == m_servedVersion)
        return;
    m_servedVersion = version;
    if (!m_clients.empty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

XdsClientsModel::TypeState XdsClientsModel::typeState(const routing::XdsTypeStatus *type)
{
    if (!type)
        return TypeState::NotSubscribed;
    if (type->rejected)
        return TypeState::Nacked;
    if (!type->sentVersion.empty() && type->ackedVersion == type->sentVersion)
        return TypeState::Acked;
    return TypeState::Waiting;
}

const routing::XdsTypeStatus *XdsClientsModel::typeFor(const routing::XdsClientStatus &c, int column) const
{
    const std::string_view url = typeUrlFor(column);
    return url.empty() ? nullptr : c.type(url);
}

QString XdsClientsModel::summary() const
{
    if (m_clients.empty())
        return tr("no clients");
    int connected = 0, nacked = 0, waiting = 0;
    for (const routing::XdsClientStatus &c : m_clients) {
        if (!c.connected)
            continue;
        ++connected;
        bool n = false, w = false;
        for (const routing::XdsTypeStatus &t : c.types) {
            const TypeState s = typeState(&t);
            n = n || s == TypeState::Nacked;
            w = w || s == TypeState::Waiting;
        }
        nacked += n ? 1 : 0;
        waiting += (!n && w) ? 1 : 0;
    }
    QString text = tr("%n client(s) connected", nullptr, connected);
    if (nacked > 0)
        return text + tr(" · %1 NACKed").arg(nacked);
    if (waiting > 0)
        return text + tr(" · %1 waiting").arg(waiting);
    if (connected > 0)
        return text + (m_servedVersion.isEmpty() ? tr(" · all ACKed") : tr(" · all ACKed v%1").arg(m_servedVersion));
    return text;
}

int XdsClientsModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_clients.size()); }

int XdsClientsModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant XdsClientsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || size_t(index.row()) >= m_clients.size())
        return {};
    const routing::XdsClientStatus &c = m_clients[size_t(index.row())];
    const int col = index.column();
    const routing::XdsTypeStatus *t = typeFor(c, col);
    const TypeState state = typeState(t);
    const bool typeColumn = col >= Listeners && col <= Endpoints;

    if (role == TypeStateRole)
        return typeColumn ? QVariant(int(state)) : QVariant();
    if (role == Qt::DisplayRole || role == SortRole) {
        switch (col) {
        case Node: return c.nodeId.empty() ? tr("(no node id)") : qs(c.nodeId);
        case Peer: {
            // "ipv4:127.0.0.1:50412": the scheme is noise in a narrow column (the tooltip keeps it).
            const QString peer = qs(c.peer);
            const int colon = int(peer.indexOf(QLatin1Char(':')));
            return colon > 0 && peer.startsWith(QLatin1String("ipv")) ? peer.mid(colon + 1) : peer;
        }
        case Reason: {
            QStringList reasons;
            for (const routing::XdsTypeStatus &x : c.types) {
                if (x.rejected)
                    reasons << qs(routing::xdsTypeShortName(x.typeUrl)) + QStringLiteral(" v") + qs(x.nackedVersion)
                            + QStringLiteral(": ") + qs(x.nackMessage);
            }
            return reasons.join(QStringLiteral("; "));
        }
        case State:
            if (role == SortRole)
                return c.connected ? 1 : 0;
            return c.connected ? tr("connected") : tr("gone since %1").arg(clock(c.disconnectedAtMs));
        default: break;
        }
        switch (state) {
        case TypeState::NotSubscribed: return role == SortRole ? QVariant(0) : QVariant(QStringLiteral("—"));
        case TypeState::Acked:
            return role == SortRole ? QVariant(2) : QVariant(tr("✓ ACKed v%1").arg(qs(t->ackedVersion)));
        case TypeState::Waiting:
            if (role == SortRole)
                return 1;
            return t->sentVersion.empty() ? tr("subscribed") : tr("… sent v%1").arg(qs(t->sentVersion));
        case TypeState::Nacked:
            return role == SortRole ? QVariant(3) : QVariant(tr("✗ NACKed v%1").arg(qs(t->nackedVersion)));
        }
        return {};
    }
    if (role == Qt::ForegroundRole) {
        if (col == State)
            return c.connected ? routestyle::kOkColor : routestyle::kDimColor;
        if (col == Reason)
            return QColor(0xff, 0x7b, 0x72);
        if (!c.connected && col != Node)
            return routestyle::kDimColor;
        if (typeColumn) {
            switch (state) {
            case TypeState::Acked:
                return m_servedVersion.isEmpty() || qs(t->ackedVersion) == m_servedVersion ? routestyle::kOkColor
                                                                                           : routestyle::kWarningColor;
            case TypeState::Nacked: return QColor(0xff, 0x7b, 0x72);
            case TypeState::Waiting: return routestyle::kWarningColor;
            case TypeState::NotSubscribed: return routestyle::kDimColor;
            }
        }
        return {};
    }
    if (role == Qt::ToolTipRole) {
        if (col == Reason) {
            QStringList lines;
            for (const routing::XdsTypeStatus &x : c.types) {
                if (x.rejected)
                    lines << QStringLiteral("<b>%1</b> v%2 refused (code %3):<br>%4")
                                 .arg(qs(routing::xdsTypeShortName(x.typeUrl)), qs(x.nackedVersion))
                                 .arg(x.nackCode)
                                 .arg(qs(x.nackMessage).toHtmlEscaped());
            }
            return lines.isEmpty() ? QVariant() : QVariant(lines.join(QStringLiteral("<br>")));
        }
        if (col == Node || col == Peer || col == State) {
            QString tip = tr("<b>%1</b><br>cluster: %2<br>%3 %4<br>peer: %5<br>connected at %6")
                              .arg(qs(c.nodeId).toHtmlEscaped(), qs(c.nodeCluster).toHtmlEscaped(),
                                  qs(c.userAgentName).toHtmlEscaped(), qs(c.userAgentVersion).toHtmlEscaped(),
                                  qs(c.peer).toHtmlEscaped(), clock(c.connectedAtMs));
            if (!c.connected)
                tip += tr("<br>disconnected at %1").arg(clock(c.disconnectedAtMs));
            return tip;
        }
        if (!t)
            return tr("This client has not asked for this resource type");
        QStringList names;
        for (const std::string &n : t->resourceNames)
            names << qs(n);
        QString tip = tr("<b>%1</b> %2<br>sent v%3 at %4")
                          .arg(qs(routing::xdsTypeShortName(t->typeUrl)),
                              t->wildcard ? tr("(all resources)") : names.join(QStringLiteral(", ")).toHtmlEscaped(),
                              qs(t->sentVersion), clock(t->sentAtMs));
        if (!t->ackedVersion.empty())
            tip += tr("<br>ACKed v%1 at %2").arg(qs(t->ackedVersion), clock(t->ackedAtMs));
        if (t->nackCount > 0) {
            tip += tr("<br><span style='color:#ff7b72'>NACKed v%1 at %2 (code %3, %4 in all):<br>%5</span>")
                       .arg(qs(t->nackedVersion), clock(t->nackedAtMs))
                       .arg(t->nackCode)
                       .arg(t->nackCount)
                       .arg(qs(t->nackMessage).toHtmlEscaped());
            if (!t->rejected)
                tip += tr("<br>(a later version was accepted)");
        }
        return tip;
    }
    return {};
}

QVariant XdsClientsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case Listeners: return tr("Listeners (LDS): what the client dials, e.g. xds:///reviews");
        case Routes: return tr("Route configurations (RDS): the rules and weights");
        case Clusters: return tr("Clusters (CDS): one per backend");
        case Endpoints: return tr("Endpoints (EDS): the backends' addresses");
        case Reason: return tr("Why the client refused the latest version, in its own words");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Node: return tr("Node");
    case Peer: return tr("Peer");
    case State: return tr("Connection");
    case Listeners: return tr("Listeners");
    case Routes: return tr("Routes");
    case Clusters: return tr("Clusters");
    case Endpoints: return tr("Endpoints");
    case Reason: return tr("NACK reason");
    default: return {};
    }
}

}  // namespace meshscope

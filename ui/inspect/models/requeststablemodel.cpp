#include "inspect/models/requeststablemodel.h"

#include "displayformat.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QFont>
#include <QFontDatabase>

#include <algorithm>
#include <numeric>

namespace meshscope {

namespace {

// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
QString csvField(const QString &value)
{
    if (!value.contains(QLatin1Char(',')) && !value.contains(QLatin1Char('"')) && !value.contains(QLatin1Char('\n'))
        && !value.contains(QLatin1Char('\r')))
        return value;
    QString out = value;
    out.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + out + QLatin1Char('"');
}

// Text from telemetry that a spreadsheet would evaluate ("=HYPERLINK(...)") is kept as text.
QString csvText(const QString &value)
{
    static const QString formulaStarts = QStringLiteral("=+-@\t\r");
    if (!value.isEmpty() && formulaStarts.contains(value.front()))
        return csvField(QLatin1Char('\'') + value);
    return csvField(value);
}

// A POSIX shell word that stays one word and is never expanded.
QString shellQuote(const QString &s)
{
    QString out = s;
    out.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + out + QLatin1Char('\'');
}

// The host a request to `nodeId` went to when no authority was recorded: a mesh
// service by its cluster DNS name ("ns/reviews@v2" -> "reviews.ns"), an outside
// destination by its host.
QString hostOfNode(const QString &nodeId)
{
    if (nodeId.startsWith(QLatin1String("ext:")))
        return nodeId.mid(4);
    QString id = nodeId;
    const qsizetype at = id.indexOf(QLatin1Char('@'));
    if (at >= 0)
        id.truncate(at);
    const qsizetype slash = id.indexOf(QLatin1Char('/'));
    if (slash < 0)
        return id;
    return id.mid(slash + 1) + QLatin1Char('.') + id.left(slash);
}

}  // namespace

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
        if (index.column() == Path && !r.authority.isEmpty())
            return QString(r.authority + r.cells[Path]);
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
    case TimeMsRole: return qlonglong(r.timeMs);
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

RequestsTableModel::Row RequestsTableModel::makeRow(const RequestEvent &e)
{
    Row r;
    r.seq = e.seq;
    r.timeMs = e.timeMs;
    r.fromId = QString::fromStdString(e.sourceId);
    r.toId = QString::fromStdString(e.targetId);
    r.authority = QString::fromStdString(e.authority);
    r.protocol = e.protocol;
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
    return r;
}

int RequestsTableModel::append(const std::vector<RequestEvent> &events)
{
    if (events.empty())
        return 0;
    std::vector<Row> batch;
    batch.reserve(events.size());
    for (const RequestEvent &e : events)
        batch.push_back(makeRow(e));
    std::stable_sort(batch.begin(), batch.end(), before);
    // A batch larger than the capacity only contributes its newest rows.
    if (batch.size() > size_t(m_capacity))
        batch.erase(batch.begin(), batch.end() - m_capacity);

    // Merge from the newest down, so the positions still to come do not shift: each
    // run of rows that lands in the same gap is one insert (for a live stream, the
    // first run is an append and is usually the only one).
    size_t end = batch.size();
    while (end > 0) {
        const auto at = std::upper_bound(m_rows.begin(), m_rows.end(), batch[end - 1], before);
        const size_t pos = size_t(at - m_rows.begin());
        size_t begin = end - 1;
        while (begin > 0 && (pos == 0 || !before(batch[begin - 1], m_rows[pos - 1])))
            --begin;
        beginInsertRows({}, int(pos), int(pos + (end - begin)) - 1);
        m_rows.insert(m_rows.begin() + qsizetype(pos), std::make_move_iterator(batch.begin() + qsizetype(begin)),
            std::make_move_iterator(batch.begin() + qsizetype(end)));
        endInsertRows();
        end = begin;
    }
    dropOldest(int(m_rows.size()) - m_capacity);
    return int(batch.size());
}

void RequestsTableModel::clear()
{
    if (m_rows.empty())
        return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

QByteArray RequestsTableModel::toCsv(const QList<int> &rows) const
{
    QString out = QStringLiteral("Time,From,To,Method,Authority,Path,Status,Duration (ms),Protocol,Trace ID\r\n");
    auto line = [this, &out](int i) {
        if (i < 0 || size_t(i) >= m_rows.size())
            return;
        const Row &r = m_rows[size_t(i)];
        const QStringList fields {
            QDateTime::fromMSecsSinceEpoch(r.timeMs, Qt::UTC).toString(Qt::ISODateWithMs),
            csvText(r.fromId),
            csvText(r.toId),
            csvText(r.cells[Method]),
            csvText(r.authority),
            csvText(r.cells[Path]),
            csvField(r.cells[Status]),
            r.durationMs > 0 ? QString::number(r.durationMs, 'f', 3) : QString(),
            csvField(r.cells[Protocol]),
            csvText(r.cells[TraceId]),
        };
        out += fields.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    };
    for (int i : rows)
        line(i);
    return out.toUtf8();
}

QByteArray RequestsTableModel::toCsv() const
{
    QList<int> all(qsizetype(m_rows.size()));
    std::iota(all.begin(), all.end(), 0);
    return toCsv(all);
}

bool RequestsTableModel::isHttp(int row) const
{
    return row >= 0 && size_t(row) < m_rows.size() && m_rows[size_t(row)].protocol == meshscope::Protocol::Http;
}

QString RequestsTableModel::curlCommand(int row) const
{
    if (!isHttp(row))
        return {};
    const Row &r = m_rows[size_t(row)];
    QStringList notes;
    QString host = r.authority;
    if (host.isEmpty()) {
        host = hostOfNode(r.toId);
        notes << QStringLiteral("# no authority was recorded: %1 is the destination service's name").arg(host);
    }
    // The scheme is not in the telemetry; port 443 says https, anything else is taken as http.
    const QString scheme = host.endsWith(QLatin1String(":443")) ? QStringLiteral("https") : QStringLiteral("http");
    QString path = r.cells[Path];
    if (!path.startsWith(QLatin1Char('/')))
        path.prepend(QLatin1Char('/'));
    if (path.contains(QStringLiteral("?…")))
        notes << QStringLiteral("# the query string held a credential and is left out, as in the table");
    const QString method = r.cells[Method].toUpper();
    QString command = QStringLiteral("curl");
    if (method == QLatin1String("HEAD"))
        command += QStringLiteral(" --head");
    else if (!method.isEmpty() && method != QLatin1String("GET"))
        command += QStringLiteral(" -X ") + shellQuote(method);
    command += QLatin1Char(' ') + shellQuote(scheme + QStringLiteral("://") + host + path);
    notes << command;
    return notes.join(QLatin1Char('\n'));
}

}  // namespace meshscope

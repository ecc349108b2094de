#include "traces/models/tracecomparemodel.h"

#include "traces/waterfallstyle.h"

#include <QFont>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

namespace meshscope {

TraceCompareModel::TraceCompareModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

QString TraceCompareModel::signedDuration(int64_t ns) { return ns == 0 ? QStringLiteral("0") : waterfall::shift(ns); }

QString TraceCompareModel::signedPercent(double fraction)
{
    const double p = fraction * 100.0;
    const double magnitude = std::fabs(p);
    const QString sign = p > 0 ? QStringLiteral("+") : p < 0 ? QStringLiteral("-") : QString();
    // One decimal where it tells something (under 10 %), none past it.
    const int decimals = magnitude < 10 && magnitude >= 0.05 ? 1 : 0;
    return sign + QString::number(magnitude, 'f', decimals) + QStringLiteral(" %");
}

QColor TraceCompareModel::addedColor() { return QColor(0x2e, 0xa0, 0x43, 52); }
QColor TraceCompareModel::missingColor() { return QColor(0xf8, 0x51, 0x49, 44); }
QColor TraceCompareModel::slowerColor() { return QColor(0xff, 0x7b, 0x72); }
QColor TraceCompareModel::fasterColor() { return QColor(0x56, 0xd3, 0x64); }

int TraceCompareModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_visible.size());
}

int TraceCompareModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

uint64_t TraceCompareModel::axisNs() const
{
    return m_comparison ? std::max(m_comparison->durationA, m_comparison->durationB) : 0;
}

int TraceCompareModel::rowOf(uint32_t compareIndex) const
{
    auto it = std::lower_bound(m_visible.begin(), m_visible.end(), compareIndex);
    return it != m_visible.end() && *it == compareIndex ? int(it - m_visible.begin()) : -1;
}

bool TraceCompareModel::isChanged(const CompareRow &row) const
{
    if (row.kind != CompareKind::Both)
        return false;
    const uint64_t magnitude = uint64_t(std::llabs(row.deltaNs));
    if (magnitude == 0 || magnitude < m_minDeltaNs)
        return false;
    return !row.relativeDelta || std::fabs(*row.relativeDelta) >= m_minRelative;
}

bool TraceCompareModel::isDifferent(uint32_t compareIndex) const
{
    const CompareRow &row = m_comparison->rows[compareIndex];
    if (row.isStructural())
        return true;
    // A synthetic root's extent only follows its orphans: they speak for themselves.
    return !row.synthetic && (row.errorA != row.errorB || isChanged(row));
}

QString TraceCompareModel::callText(const CompareRow &row) const
{
    if (row.synthetic)
        return tr("(missing parent)");
    return QString::fromStdString(row.service) + QStringLiteral(": ") + QString::fromStdString(row.name);
}

QString TraceCompareModel::tooltip(const CompareRow &row) const
{
    QStringList lines;
    lines << callText(row);
    switch (row.kind) {
    case CompareKind::OnlyInA: lines << tr("Missing from B: only trace A made this call"); break;
    case CompareKind::OnlyInB: lines << tr("Added in B: only trace B made this call"); break;
    case CompareKind::Both: break;
    }
    if (row.spanA >= 0)
        lines << tr("A: %1 (self %2), starting at %3")
                     .arg(waterfall::duration(row.durationA), waterfall::duration(row.selfA),
                         waterfall::duration(row.offsetA));
    if (row.spanB >= 0)
        lines << tr("B: %1 (self %2), starting at %3")
                     .arg(waterfall::duration(row.durationB), waterfall::duration(row.selfB),
                         waterfall::duration(row.offsetB));
    if (row.kind == CompareKind::Both) {
        QString change = tr("Change: %1").arg(signedDuration(row.deltaNs));
        if (row.relativeDelta)
            change += QStringLiteral(" (") + signedPercent(*row.relativeDelta) + QLatin1Char(')');
        change += tr(", own time %1").arg(signedDuration(row.selfDeltaNs));
        lines << change;
    }
    if (row.callsA > 1 || row.callsB > 1)
        lines << tr("Repeated call: %1 in A, %2 in B; this is call %3 in start order")
                     .arg(row.callsA)
                     .arg(row.callsB)
                     .arg(row.occurrence + 1);
    if (row.errorA || row.errorB)
        lines << (row.errorA && row.errorB ? tr("Failed in both traces")
                : row.errorA               ? tr("Failed in A")
                                           : tr("Failed in B"));
    if (row.synthetic)
        lines << tr("Stand-in for parents missing from the trace");
    return lines.join(QLatin1Char('\n'));
}

QVariant TraceCompareModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const uint32_t i = m_visible[size_t(index.row())];
    const CompareRow &row = m_comparison->rows[i];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Call: return callText(row);
        case DurationA: return row.spanA >= 0 ? waterfall::duration(row.durationA) : QStringLiteral("—");
        case DurationB: return row.spanB >= 0 ? waterfall::duration(row.durationB) : QStringLiteral("—");
        case Delta:
            switch (row.kind) {
            case CompareKind::OnlyInA: return tr("missing");
            case CompareKind::OnlyInB: return tr("added");
            case CompareKind::Both: return signedDuration(row.deltaNs);
            }
            return {};
        case DeltaPercent: return row.relativeDelta ? signedPercent(*row.relativeDelta) : QString();
        case Timeline: return {};
        default: return {};
        }
    case Qt::TextAlignmentRole:
        if (column == Call || column == Timeline)
            return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::BackgroundRole:
        if (row.kind == CompareKind::OnlyInB)
            return addedColor();
        if (row.kind == CompareKind::OnlyInA)
            return missingColor();
        return {};
    case Qt::ForegroundRole:
        switch (column) {
        case DurationA:
            if (row.errorA)
                return waterfall::errorColor();
            return row.spanA >= 0 ? QVariant() : QVariant(waterfall::syntheticColor());
        case DurationB:
            if (row.errorB)
                return waterfall::errorColor();
            return row.spanB >= 0 ? QVariant() : QVariant(waterfall::syntheticColor());
        case Delta:
        case DeltaPercent:
            if (row.kind == CompareKind::OnlyInA)
                return slowerColor();
            if (row.kind == CompareKind::OnlyInB)
                return fasterColor();
            if (row.synthetic || !isChanged(row))
                return waterfall::syntheticColor();
            return row.deltaNs > 0 ? slowerColor() : fasterColor();
        default: return {};
        }
    case Qt::FontRole:
        // A missing call is struck out where its name and its time in A are.
        if (row.kind == CompareKind::OnlyInA && (column == Call || column == DurationA)) {
            QFont f;
            f.setStrikeOut(true);
            return f;
        }
        return {};
    case Qt::ToolTipRole: return tooltip(row);
    case CompareRowRole: return int(i);
    case KindRole: return int(row.kind);
    case DepthRole: return row.depth;
    case SpanARole: return row.spanA;
    case SpanBRole: return row.spanB;
    case DurationANsRole: return qulonglong(row.durationA);
    case DurationBNsRole: return qulonglong(row.durationB);
    case DeltaNsRole: return qlonglong(row.deltaNs);
    case ErrorRole: return row.errorA || row.errorB;
    case DifferentRole: return isDifferent(i);
    default: return {};
    }
}

QVariant TraceCompareModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole) {
        switch (section) {
        case Call: return tr("Calls of both traces, aligned by their path of service and operation from the root");
        case Delta: return tr("B minus A; red: slower in B, green: faster");
        case DeltaPercent: return tr("Change relative to A");
        case Timeline:
            return tr("Both traces on one time axis: the upper, dimmer bar is A, the lower, brighter bar B. "
                      "Red outline: failed span.");
        default: return {};
        }
    }
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Call: return tr("Call");
    case DurationA: return tr("A");
    case DurationB: return tr("B");
    case Delta: return tr("Δ");
    case DeltaPercent: return tr("Δ %");
    case Timeline: return tr("Timeline");
    default: return {};
    }
}

void TraceCompareModel::setComparison(std::shared_ptr<const TraceComparison> comparison)
{
    beginResetModel();
    m_comparison = std::move(comparison);
    m_serviceOf.clear();
    m_serviceColors.clear();
    if (m_comparison) {
        std::unordered_map<std::string, uint32_t> ids;
        m_serviceOf.reserve(m_comparison->rows.size());
        for (const CompareRow &row : m_comparison->rows) {
            // The synthetic root is no service: grey, and it takes no palette slot.
            const auto [it, added]
                = ids.try_emplace(row.synthetic ? std::string() : row.service, uint32_t(m_serviceColors.size()));
            if (added)
                m_serviceColors.push_back(
                    row.synthetic ? waterfall::syntheticColor() : waterfall::serviceColor(int(m_serviceColors.size())));
            m_serviceOf.push_back(it->second);
        }
    }
    rebuild();
    endResetModel();
}

void TraceCompareModel::setDifferencesOnly(bool on)
{
    if (on == m_differencesOnly)
        return;
    beginResetModel();
    m_differencesOnly = on;
    rebuild();
    endResetModel();
}

void TraceCompareModel::setThreshold(uint64_t minDeltaNs, double minRelative)
{
    if (minDeltaNs == m_minDeltaNs && minRelative == m_minRelative)
        return;
    // A reset even when no row comes or goes (filter off): the deltas' colours change.
    beginResetModel();
    m_minDeltaNs = minDeltaNs;
    m_minRelative = minRelative;
    rebuild();
    endResetModel();
}

void TraceCompareModel::rebuild()
{
    m_visible.clear();
    if (!m_comparison)
        return;
    const std::vector<CompareRow> &rows = m_comparison->rows;
    const uint32_t n = uint32_t(rows.size());
    if (!m_differencesOnly) {
        m_visible.resize(n);
        for (uint32_t i = 0; i < n; ++i)
            m_visible[i] = i;
        return;
    }
    // Parents come before their children, so one backward pass carries "keep" up to
    // every ancestor.
    std::vector<uint8_t> keep(n, 0);
    for (uint32_t i = n; i-- > 0;) {
        if (!keep[i] && isDifferent(i))
            keep[i] = 1;
        if (keep[i] && rows[i].parentRow >= 0)
            keep[size_t(rows[i].parentRow)] = 1;
    }
    for (uint32_t i = 0; i < n; ++i) {
        if (keep[i])
            m_visible.push_back(i);
    }
}

}  // namespace meshscope

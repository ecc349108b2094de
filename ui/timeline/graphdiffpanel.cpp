#include "timeline/graphdiffpanel.h"

#include "canvas/canvastheme.h"
#include "displayformat.h"
#include "graph/graphexport.h"

#include <QAbstractTableModel>
#include <QCheckBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace meshscope {

namespace {

enum Column { ColChange, ColItem, ColRps, ColErrors, ColP95, ColShare, ColDelta, ColumnCount };
constexpr int kSortRole = Qt::UserRole + 1;

const QString kErrorPointsKey = QStringLiteral("diff/errorRatePoints");
const QString kRpsKey = QStringLiteral("diff/rpsRelative");
const QString kP95Key = QStringLiteral("diff/p95Relative");

QString arrow(const QString &before, const QString &after) { return QString(before + QStringLiteral(" → ") + after); }

}  // namespace

// One row per node and edge of the diff: a view over the GraphDiff, which it keeps.
class GraphDiffModel : public QAbstractTableModel {
public:
    using QAbstractTableModel::QAbstractTableModel;

    void setDiff(std::shared_ptr<const GraphDiff> diff)
    {
        beginResetModel();
        m_diff = std::move(diff);
        endResetModel();
    }
    const GraphDiff *diff() const { return m_diff.get(); }

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() || !m_diff ? 0 : int(m_diff->nodes.size() + m_diff->edges.size());
    }
    int columnCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : ColumnCount; }

    bool isEdge(int row) const { return size_t(row) >= m_diff->nodes.size(); }
    const EdgeDiff &edgeAt(int row) const { return m_diff->edges[size_t(row) - m_diff->nodes.size()]; }
    const NodeDiff &nodeAt(int row) const { return m_diff->nodes[size_t(row)]; }
    DiffChange changeOf(int row) const { return isEdge(row) ? edgeAt(row).change : nodeAt(row).change; }
    QString idOf(int row) const
    {
        return QString::fromStdString(isEdge(row) ? edgeAt(row).edge().id : nodeAt(row).node().id);
    }

    QVariant headerData(int section, Qt::Orientation o, int role) const override
    {
        if (o != Qt::Horizontal || role != Qt::DisplayRole)
            return {};
        switch (section) {
        case ColChange: return tr("Change");
        case ColItem: return tr("Service or call");
        case ColRps: return tr("Req/s");
        case ColErrors: return tr("Errors");
        case ColP95: return tr("p95");
        case ColShare: return tr("Share of split");
        case ColDelta: return tr("What moved");
        }
        return {};
    }

    QVariant data(const QModelIndex &index, int role) const override
    {
        if (!index.isValid() || !m_diff)
            return {};
        const int row = index.row();
        const bool edge = isEdge(row);
        const TrafficStats *before = edge ? (edgeAt(row).before ? &edgeAt(row).before->stats : nullptr)
                                          : (nodeAt(row).before ? &nodeAt(row).before->stats : nullptr);
        const TrafficStats *after = edge ? (edgeAt(row).after ? &edgeAt(row).after->stats : nullptr)
                                         : (nodeAt(row).after ? &nodeAt(row).after->stats : nullptr);
        const DiffChange change = changeOf(row);
        const double score = edge ? edgeAt(row).score : nodeAt(row).score;
        auto both = [&](auto number, auto text) -> QString {
            const QString b = before ? text(number(*before)) : QStringLiteral("—");
            const QString a = after ? text(number(*after)) : QStringLiteral("—");
            return arrow(b, a);
        };
        auto delta = [&](auto number) { return (after ? number(*after) : 0.0) - (before ? number(*before) : 0.0); };
        auto rpsOf = [](const TrafficStats &s) { return s.rps; };
        auto errOf = [](const TrafficStats &s) { return s.errorRate; };
        auto p95Of = [](const TrafficStats &s) { return s.p95Ms; };
        if (role == Qt::DisplayRole) {
            switch (index.column()) {
            case ColChange: return QString::fromLatin1(diffChangeName(change));
            case ColItem: {
                if (!edge)
                    return display::nodeLabel(nodeAt(row).node().id);
                const EdgeSnapshot &e = edgeAt(row).edge();
                return QString(display::nodeLabel(e.source) + QStringLiteral(" → ") + display::nodeLabel(e.target));
            }
            case ColRps: return both(rpsOf, [](double v) -> QString { return display::rps(v); });
            case ColErrors: return both(errOf, [](double v) -> QString { return display::percent(v); });
            case ColP95: return both(p95Of, [](double v) -> QString { return display::millis(v); });
            case ColShare: {
                if (!edge || (!edgeAt(row).shareBefore && !edgeAt(row).shareAfter))
                    return QString();
                auto share = [](std::optional<double> s) -> QString {
                    return s ? QString::number(std::lround(*s * 100)) + QStringLiteral(" %") : QStringLiteral("—");
                };
                return arrow(share(edgeAt(row).shareBefore), share(edgeAt(row).shareAfter));
            }
            case ColDelta: {
                if (change != DiffChange::Changed || !before || !after)
                    return QString();
                const uint8_t moved = edge ? edgeAt(row).moved : nodeAt(row).moved;
                return edge ? QString::fromStdString(
                           diffDeltaText(*before, *after, moved, edgeAt(row).shareBefore, edgeAt(row).shareAfter))
                            : QString::fromStdString(diffDeltaText(*before, *after, moved));
            }
            }
            return {};
        }
        if (role == kSortRole) {
            switch (index.column()) {
            case ColChange: return int(change);
            case ColItem: return data(index, Qt::DisplayRole);
            case ColRps: return delta(rpsOf);
            case ColErrors: return delta(errOf);
            case ColP95: return delta(p95Of);
            case ColShare: return edge ? edgeAt(row).shareAfter.value_or(0) - edgeAt(row).shareBefore.value_or(0) : 0.0;
            case ColDelta: return score;
            }
            return {};
        }
        if (role == Qt::ForegroundRole && index.column() == ColChange) {
            switch (change) {
            case DiffChange::Added: return canvas::diffAdded();
            case DiffChange::Removed: return canvas::diffRemoved();
            case DiffChange::Changed: return canvas::diffChanged();
            case DiffChange::Same: return {};
            }
        }
        if (role == Qt::TextAlignmentRole && index.column() >= ColRps && index.column() <= ColShare)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }

private:
    std::shared_ptr<const GraphDiff> m_diff;
};

namespace {

// Hides the unchanged rows unless asked; sorts by the numbers, not their text.
class DiffFilter : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setShowUnchanged(bool on)
    {
        m_showUnchanged = on;
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &) const override
    {
        const auto *m = static_cast<const GraphDiffModel *>(sourceModel());
        return m_showUnchanged || m->changeOf(row) != DiffChange::Same;
    }

private:
    bool m_showUnchanged = false;
};

}  // namespace

GraphDiffPanel::GraphDiffPanel(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    auto *top = new QHBoxLayout;
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("diffSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addWidget(m_summary, 1);
    auto *exportButton = new QPushButton(tr("Export JSON…"), this);
    exportButton->setObjectName(QStringLiteral("diffExport"));
    connect(exportButton, &QPushButton::clicked, this, &GraphDiffPanel::exportWithDialog);
    top->addWidget(exportButton);
    auto *close = new QPushButton(tr("Close diff"), this);
    close->setObjectName(QStringLiteral("diffClose"));
    close->setToolTip(tr("Show the graph as it was before the diff"));
    connect(close, &QPushButton::clicked, this, &GraphDiffPanel::closeRequested);
    top->addWidget(close);
    layout->addLayout(top);

    // What counts as a change.
    auto *limits = new QHBoxLayout;
    limits->addWidget(new QLabel(tr("A change: error rate moves ≥"), this));
    auto spin = [this, limits](const QString &name, double max, const QString &suffix) {
        auto *box = new QDoubleSpinBox(this);
        box->setObjectName(name);
        box->setRange(0.1, max);
        box->setDecimals(1);
        box->setSuffix(suffix);
        limits->addWidget(box);
        return box;
    };
    m_errorPoints = spin(QStringLiteral("diffErrorPoints"), 100, tr(" pts"));
    limits->addWidget(new QLabel(tr(", req/s ≥"), this));
    m_rpsPercent = spin(QStringLiteral("diffRpsPercent"), 1000, tr(" %"));
    limits->addWidget(new QLabel(tr(", p95 ≥"), this));
    m_p95Percent = spin(QStringLiteral("diffP95Percent"), 1000, tr(" %"));
    limits->addStretch(1);
    m_unchanged = new QCheckBox(tr("Show unchanged"), this);
    m_unchanged->setObjectName(QStringLiteral("diffShowUnchanged"));
    limits->addWidget(m_unchanged);
    layout->addLayout(limits);
    setThresholds(savedThresholds());
    for (QDoubleSpinBox *box : {m_errorPoints, m_rpsPercent, m_p95Percent}) {
        connect(box, &QDoubleSpinBox::valueChanged, this, [this] {
            const DiffThresholds t = thresholds();
            QSettings settings;
            settings.setValue(kErrorPointsKey, t.errorRatePoints);
            settings.setValue(kRpsKey, t.rpsRelative);
            settings.setValue(kP95Key, t.p95Relative);
            Q_EMIT thresholdsChanged(t);
        });
    }

    m_model = new GraphDiffModel(this);
    auto *filter = new DiffFilter(this);
    m_proxy = filter;
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(kSortRole);
    connect(m_unchanged, &QCheckBox::toggled, this, [filter](bool on) { filter->setShowUnchanged(on); });
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("diffTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ColDelta, Qt::DescendingOrder);  // biggest change first
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(ColItem, QHeaderView::Interactive);
    // Room for "What moved" at 1280 px: the numbers take what "12.3 → 45.6" needs.
    m_table->setColumnWidth(ColChange, 72);
    m_table->setColumnWidth(ColItem, 250);
    for (int c : {ColRps, ColErrors, ColP95})
        m_table->setColumnWidth(c, 118);
    m_table->setColumnWidth(ColShare, 104);
    connect(
        m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
            if (!current.isValid())
                return;
            const int row = m_proxy->mapToSource(current).row();
            Q_EMIT itemChosen(m_model->idOf(row), m_model->isEdge(row));
        });
    layout->addWidget(m_table, 1);
}

GraphDiffPanel::~GraphDiffPanel() = default;

void GraphDiffPanel::setDiff(std::shared_ptr<const GraphDiff> diff, const QString &before, const QString &after)
{
    m_diff = diff;
    m_before = before;
    m_after = after;
    m_model->setDiff(std::move(diff));
    m_summary->setText(summaryText());
}

QString GraphDiffPanel::summaryText() const
{
    if (!m_diff)
        return tr("No diff");
    QString text = tr("Before %1 → after %2: %3 added, %4 removed, %5 changed, %6 the same")
                       .arg(m_before, m_after)
                       .arg(m_diff->count(DiffChange::Added))
                       .arg(m_diff->count(DiffChange::Removed))
                       .arg(m_diff->count(DiffChange::Changed))
                       .arg(m_diff->count(DiffChange::Same));
    for (const std::string &n : m_diff->notices)
        text += QStringLiteral("\n⚠ ") + QString::fromStdString(n);
    return text;
}

DiffThresholds GraphDiffPanel::thresholds() const
{
    DiffThresholds t;
    t.errorRatePoints = m_errorPoints->value() / 100.0;
    t.rpsRelative = m_rpsPercent->value() / 100.0;
    t.p95Relative = m_p95Percent->value() / 100.0;
    return t;
}

void GraphDiffPanel::setThresholds(const DiffThresholds &t)
{
    const QSignalBlocker b1(m_errorPoints), b2(m_rpsPercent), b3(m_p95Percent);
    m_errorPoints->setValue(t.errorRatePoints * 100.0);
    m_rpsPercent->setValue(t.rpsRelative * 100.0);
    m_p95Percent->setValue(t.p95Relative * 100.0);
}

DiffThresholds GraphDiffPanel::savedThresholds()
{
    QSettings settings;
    DiffThresholds t;
    t.errorRatePoints = settings.value(kErrorPointsKey, t.errorRatePoints).toDouble();
    t.rpsRelative = settings.value(kRpsKey, t.rpsRelative).toDouble();
    t.p95Relative = settings.value(kP95Key, t.p95Relative).toDouble();
    return t;
}

int GraphDiffPanel::rowCount() const { return m_proxy->rowCount(); }

QString GraphDiffPanel::idAt(int row) const
{
    return m_model->idOf(m_proxy->mapToSource(m_proxy->index(row, 0)).row());
}

QString GraphDiffPanel::changeAt(int row) const
{
    return QString::fromLatin1(diffChangeName(m_model->changeOf(m_proxy->mapToSource(m_proxy->index(row, 0)).row())));
}

void GraphDiffPanel::setShowUnchanged(bool on) { m_unchanged->setChecked(on); }

bool GraphDiffPanel::exportJson(const QString &fileName, QString *error) const
{
    if (!m_diff) {
        if (error)
            *error = tr("there is no diff to export");
        return false;
    }
    QSaveFile file(fileName);
    if (!file.open(QIODevice::WriteOnly) || file.write(graphDiffToJson(*m_diff)) < 0 || !file.commit()) {
        if (error)
            *error = tr("cannot write %1: %2").arg(QDir::toNativeSeparators(fileName), file.errorString());
        return false;
    }
    return true;
}

void GraphDiffPanel::exportWithDialog()
{
    const QString name = QFileDialog::getSaveFileName(
        this, tr("Export the diff"), QStringLiteral("graph-diff.json"), tr("JSON (*.json)"));
    if (name.isEmpty())
        return;
    QString error;
    if (!exportJson(name, &error))
        QMessageBox::warning(this, tr("Export the diff"), error);
}

}  // namespace meshscope

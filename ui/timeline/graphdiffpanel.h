#pragma once
// The "Changes" panel: what changed between two moments of the graph (before and
// after, graph/graphdiff.h), biggest first, as a sortable table whose rows select
// their node or edge on the canvas; the thresholds that decide what counts as a
// change (kept in the settings), and the diff's export as JSON.

#include "graph/graphdiff.h"

#include <QString>
#include <QWidget>

#include <memory>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace meshscope {

class GraphDiffModel;

class GraphDiffPanel : public QWidget {
    Q_OBJECT
public:
    explicit GraphDiffPanel(QWidget *parent = nullptr);
    ~GraphDiffPanel() override;

    // Shows `diff`; the texts say what "before" and "after" are ("10:40:00–10:42:00").
    void setDiff(std::shared_ptr<const GraphDiff> diff, const QString &before, const QString &after);
    std::shared_ptr<const GraphDiff> diff() const { return m_diff; }
    QString summaryText() const;

    // What counts as a change, as the spin boxes say (and the settings keep).
    DiffThresholds thresholds() const;
    void setThresholds(const DiffThresholds &thresholds);
    static DiffThresholds savedThresholds();

    // The table as shown (sorted, unchanged rows hidden unless asked for), for the tests.
    QTableView *table() const { return m_table; }
    int rowCount() const;
    // The node or edge id of a shown row, and its "change" word.
    QString idAt(int row) const;
    QString changeAt(int row) const;
    void setShowUnchanged(bool on);

    bool exportJson(const QString &fileName, QString *error = nullptr) const;

Q_SIGNALS:
    void itemChosen(const QString &id, bool edge);
    void thresholdsChanged(const DiffThresholds &thresholds);
    void closeRequested();

private:
    void exportWithDialog();

    std::shared_ptr<const GraphDiff> m_diff;
    QString m_before, m_after;
    QLabel *m_summary = nullptr;
    QTableView *m_table = nullptr;
    GraphDiffModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QCheckBox *m_unchanged = nullptr;
    QDoubleSpinBox *m_errorPoints = nullptr;
    QDoubleSpinBox *m_rpsPercent = nullptr;
    QDoubleSpinBox *m_p95Percent = nullptr;
};

}  // namespace meshscope

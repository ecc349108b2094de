#pragma once
// The route history (RouteHistory's entries) newest first: id, time, where the
// change was applied and what it changed. Entries appended since the last refresh
// are inserted at the top; anything else resets the model.

#include "routing/routehistory.h"

#include <QAbstractTableModel>

#include <vector>

namespace meshscope {

class RouteHistoryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Time, Target, Change, ColumnCount };
    enum Role {
        EntryIdRole = Qt::UserRole + 1,  // int64 id
        DiffRole,  // the unified diff
    };

    explicit RouteHistoryModel(QObject *parent = nullptr);

    // Entries oldest first, as RouteHistory::list() returns them.
    void setEntries(std::vector<routing::HistoryEntry> entries);
    int entryCount() const { return int(m_entries.size()); }
    // The entry shown at `row` (newest first), or nullptr.
    const routing::HistoryEntry *entryAt(int row) const;
    int rowOfId(int64_t id) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<routing::HistoryEntry> m_entries;  // oldest first
};

}  // namespace meshscope

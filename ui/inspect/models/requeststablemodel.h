#pragma once
// Rows of the live requests table. New requests arrive in batches (one poll of the
// aggregator) and are appended with a single beginInsertRows per batch; past the
// capacity the oldest rows leave with a single beginRemoveRows, so the view never
// sees per-request churn. Text is formatted once on arrival, not on every paint.

#include "model/requestevent.h"

#include <QAbstractTableModel>
#include <QString>

#include <deque>
#include <vector>

namespace meshscope {

class RequestsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Time, From, To, Method, Path, Status, Duration, Protocol, TraceId, ColumnCount };
    enum Role { ErrorRole = Qt::UserRole + 1, SeqRole, DurationMsRole };

    explicit RequestsTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void setCapacity(int rows);
    int capacity() const { return m_capacity; }

    // Appends a batch (oldest first). Returns how many rows were added.
    int append(const std::vector<RequestEvent> &events);
    void clear();

private:
    struct Row {
        uint64_t seq = 0;
        QString cells[ColumnCount];
        QString fromId, toId;
        double durationMs = 0;
        bool error = false;
        bool clientError = false;
    };
    void dropOldest(int n);

    std::deque<Row> m_rows;
    int m_capacity = 5000;
};

}  // namespace meshscope

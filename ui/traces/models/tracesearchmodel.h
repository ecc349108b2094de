#pragma once
// The traces a search found (TraceStore::search summaries), one row each, for the
// trace search dialog's table. Rows arrive in the store's order (the search's sort);
// sort() reorders them locally, which is right for any column but cannot bring in
// traces the search's limit left out: the dialog searches again for the columns the
// store orders by (Start, Duration, Spans, Errors).

#include "traces/tracestore.h"

#include <QAbstractTableModel>
#include <QString>

#include <vector>

namespace meshscope {

class TraceSearchModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Start, Root, Duration, Spans, Errors, Services, TraceIdColumn, ColumnCount };
    enum Role {
        TraceIdRole = Qt::UserRole + 1,  // QString: 32 hex digits
        ErrorRole,  // bool: the trace has an error span
        SortRole,  // the column's value to order by (numbers as numbers)
        StartMsRole,  // double: ms since the epoch, as the scatter plot's x
        DurationMsRole,  // double
    };

    explicit TraceSearchModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    // Stable, so rows equal in the column keep the store's order.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // Replaces the rows (one model reset).
    void setTraces(std::vector<TraceSummary> traces);
    void clear() { setTraces({}); }

    const TraceSummary &trace(int row) const { return m_rows[size_t(row)].summary; }
    QString traceIdAt(int row) const { return m_rows[size_t(row)].id; }
    // The row of a trace id, or -1.
    int rowOf(const QString &traceIdHex) const;

private:
    struct Row {
        TraceSummary summary;
        QString id;  // hex, computed once: the table, the plot and lookups all want it
        QString root;  // "service: operation"
        QString services;  // "a, b, c"
    };
    QVariant sortValue(const Row &row, int column) const;

    std::vector<Row> m_rows;
};

}  // namespace meshscope

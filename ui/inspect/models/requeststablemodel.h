#pragma once
// Rows of the live requests table, in the order the requests started. New requests
// arrive in batches (one poll of the aggregator); the batch is sorted and merged in
// with one beginInsertRows per run of rows that land together, which for a live
// stream is a single append plus, now and then, a few late arrivals a little higher
// up. Past the capacity the oldest rows leave with a single beginRemoveRows, so the
// view never sees per-request churn. Text is formatted once on arrival, not on every
// paint. Rows also export: as CSV, and an HTTP row as a curl command.

#include "model/requestevent.h"

#include <QAbstractTableModel>
#include <QByteArray>
#include <QList>
#include <QString>

#include <deque>
#include <vector>

namespace meshscope {

class RequestsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Time, From, To, Method, Path, Status, Duration, Protocol, TraceId, ColumnCount };
    enum Role { ErrorRole = Qt::UserRole + 1, SeqRole, DurationMsRole, TimeMsRole };

    explicit RequestsTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void setCapacity(int rows);
    int capacity() const { return m_capacity; }

    // Adds a batch (any order: requests are reported when they end, and the halves of
    // one arrive in different batches). Returns how many rows were added.
    int append(const std::vector<RequestEvent> &events);
    void clear();

    // The given rows (or all of them) as RFC 4180 CSV with a header line: times in ISO 8601 with the date, node ids
    // rather than short names, the duration in milliseconds as a number, paths redacted as the table shows them. A text
    // cell that a spreadsheet would run as a formula gets a leading "'".
    QByteArray toCsv(const QList<int> &rows) const;
    QByteArray toCsv() const;
    // A curl command line repeating an HTTP request: method, scheme, authority and
    // path as recorded (the query redacted as the table shows it). Empty for a row that
    // is not HTTP. Where no authority was recorded the host is the destination
    // service's cluster DNS name, and a comment line above says so.
    QString curlCommand(int row) const;
    bool isHttp(int row) const;

private:
    struct Row {
        uint64_t seq = 0;
        int64_t timeMs = 0;
        QString cells[ColumnCount];
        QString fromId, toId;
        QString authority;
        meshscope::Protocol protocol = meshscope::Protocol::Unknown;
        double durationMs = 0;
        bool error = false;
        bool clientError = false;
    };
    static Row makeRow(const RequestEvent &e);
    static bool before(const Row &a, const Row &b)
    {
        return a.timeMs != b.timeMs ? a.timeMs < b.timeMs : a.seq < b.seq;
    }
    void dropOldest(int n);

    std::deque<Row> m_rows;  // sorted by (start time, arrival)
    int m_capacity = 5000;
};

}  // namespace meshscope

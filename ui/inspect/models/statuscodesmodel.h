#pragma once
// Status-code breakdown of the inspected node or edge over the window: HTTP codes
// by name, gRPC codes (stored by the core as 1000 + code) as "gRPC UNAVAILABLE (14)",
// with their count and share of all requests.

#include <QAbstractTableModel>

#include <cstdint>
#include <utility>
#include <vector>

namespace meshscope {

class StatusCodesModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Code, Count, Share, ColumnCount };
    enum Role { CodeRole = Qt::UserRole + 1, SortRole };

    explicit StatusCodesModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Codes as the aggregator returns them (code, count); any order.
    void setCodes(std::vector<std::pair<int, uint64_t>> codes);
    const std::vector<std::pair<int, uint64_t>> &codes() const { return m_codes; }

private:
    std::vector<std::pair<int, uint64_t>> m_codes;  // most frequent first
    uint64_t m_total = 0;
};

}  // namespace meshscope

#pragma once
// What-if in the review before Apply: the traffic of the last minute (the spans the
// window keeps, their host, path, method and headers) replayed through the routes
// served and the edited ones. Per rule and backend, the requests before and after; the
// requests whose route would change, with the headers that decide it. Worked out off
// the GUI thread (whatIfOnRecentTraffic); the view shows "Replaying…" until it lands.

#include "routing/routevalidator.h"
#include "routing/whatif.h"

#include <QWidget>

#include <cstdint>
#include <map>
#include <string>

class QLabel;
class QTableWidget;

namespace meshscope {

class TraceStore;

// The requests of the traces that started from fromNs to toNs (at most maxTraces, the
// newest) run through both route sets. *traces gets how many traces were read.
routing::WhatIfReport whatIfOnRecentTraffic(const TraceStore &store, uint64_t fromNs, uint64_t toNs,
    const routing::RouteSet &current, const routing::RouteSet &proposed, routing::DataPlane plane, size_t maxTraces,
    uint64_t *traces);

// Requests per backend (its name), before and after, summed over the rules.
std::map<std::string, std::pair<double, double>> whatIfByBackend(const routing::WhatIfReport &report);

class WhatIfView : public QWidget {
    Q_OBJECT
public:
    explicit WhatIfView(QWidget *parent = nullptr);

    void setPending(const QString &text);
    // `source` says what was replayed ("the last 60 s: 1,204 traces").
    void setReport(const routing::WhatIfReport &report, const QString &source);

    QString summaryText() const;
    QTableWidget *rulesTable() const { return m_rules; }
    QTableWidget *movedTable() const { return m_moved; }

private:
    QLabel *m_summary;
    QTableWidget *m_rules;
    QTableWidget *m_moved;
};

}  // namespace meshscope

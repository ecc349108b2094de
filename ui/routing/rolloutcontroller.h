#pragma once
// A health-gated rollout run from the dashboard: the route editor's "Roll out…" on a
// weighted rule. Each step is applied through the RoutingController like any apply
// (so it is a route-history entry, a timeline marker and, with xDS, the route file),
// and counts from the moment every xDS client ACKed it (Caddy: from its answer). The
// gates are read each second from the graph's history (the window must keep it). The
// progress shows in a panel under the editor's buttons and as a note on the canary's
// node; Apply is held meanwhile. Closing the window pauses it ("never advances blind");
// losing the telemetry pauses it until it comes back.
//
// Threads: GUI thread; nothing here waits on the network.

#include "canvas/edgenote.h"
#include "rollout/rolloutrunner.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>

class QTimer;

namespace meshscope {

class GraphAggregator;
class RouteEditor;
class RoutingController;
class RolloutPanel;

class RolloutController : public QObject {
    Q_OBJECT
public:
    RolloutController(
        RoutingController *routing, RouteEditor *editor, const GraphAggregator *aggregator, QObject *parent = nullptr);
    ~RolloutController() override;

    // Starts `plan` from the routes served now. False with the reason when it cannot
    // (one is running, edits are not applied, the plan or a step's routes are refused
    // for the data plane, the window keeps no history to read gates from).
    bool start(const rollout::RolloutPlan &plan, QString *error);
    void pause(const QString &reason);
    void resume();
    void rollBack();

    bool running() const;  // started and neither promoted nor rolled back
    const rollout::RolloutRunner *runner() const { return m_runner.get(); }
    RolloutPanel *panel() const { return m_panel; }
    // "echo-b: step 2 of 4, 25 %" / "echo-b promoted to 100 %" / ...
    QString headline() const;
    // "holding 12 of 30 s · 84 requests · error rate 0.0 % · p95 3.1 ms", or the reason.
    QString detail() const;
    // What the canary's node says on the graph, and which service that is ("ns/name").
    NodeNote canaryNote() const;
    std::string canaryService() const;

Q_SIGNALS:
    void changed();

private:
    void push(const routing::RouteSet &set, rollout::RolloutRunner::PushDone done);
    void onChange();

    QPointer<RoutingController> m_routing;
    QPointer<RouteEditor> m_editor;
    const GraphAggregator *m_aggregator;
    std::unique_ptr<rollout::RolloutRunner> m_runner;
    QTimer *m_tick;
    RolloutPanel *m_panel = nullptr;
};

}  // namespace meshscope

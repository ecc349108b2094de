#pragma once
// RolloutRunner: carries out a RolloutPlan. At each step it pushes the weights (through
// the Push callback: the xDS control plane, Caddy's admin API), holds, reads the
// canary's gate from the live graph (ReadGate), and advances, pauses or rolls back.
// It never advances blind: no telemetry at all for the plan's timeout pauses it (and
// telemetry coming back restarts the step's hold), a push that fails pauses it, and
// a step whose canary saw fewer requests than the gate's minimum does not pass.
//
// A plain state machine: the owner calls tick() about once a second on one thread
// (the GUI's, or the CLI's event loop) and the push's completion on the same thread.

#include "rollout/rolloutplan.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace meshscope::rollout {

// The canary's traffic over a time range, as the graph saw it.
struct GateReading {
    uint64_t requests = 0;
    double errorRate = 0;  // fraction 0..1
    double p95Ms = 0;
    double p99Ms = 0;
    int64_t lastTelemetryMs = 0;  // the newest second any source delivered anything (0: none yet)
};

// Why a reading fails the gates ("error rate 31.0 % > 5.0 %"); empty when it passes.
// Does not look at the minimum of requests.
std::string gateFailure(const Gates &gates, const GateReading &reading);

enum class Verdict {
    Holding,  // the step is under way
    Passed,
    Failed,  // a gate broke
    TooFewRequests,  // the hold ended with fewer requests than the minimum
    Paused,  // the step was cut short by a pause
    RollBack,  // a step of the way back (not gated)
    PushFailed,
};
std::string verdictName(Verdict v);  // "holding", "passed", "failed", "too_few_requests", ...

struct StepRecord {
    int weight = 0;  // the canary's share in percent
    int64_t startedMs = 0;  // when the data plane took the weights (the push completed)
    GateReading reading;  // over the step's hold, once settled
    Verdict verdict = Verdict::Holding;
    std::string reason;  // what decided the verdict
};

enum class RolloutState {
    NotStarted,
    Pushing,
    Holding,
    Paused,
    RollingBack,
    Promoted,
    RolledBack,
};
std::string stateName(RolloutState s);  // "promoted", "rolled_back", "paused", ...

class RolloutRunner {
public:
    using PushDone = std::function<void(bool ok, const std::string &error)>;
    // Apply `routes` (described by `why`, e.g. "rollout echo-b 25 % (step 2 of 4)") and
    // call `done` when the data plane has them, or failed to take them.
    using Push = std::function<void(const routing::RouteSet &routes, const std::string &why, PushDone done)>;
    using ReadGate = std::function<GateReading(int64_t fromMs, int64_t toMs)>;
    using Clock = std::function<int64_t()>;

    RolloutRunner(RolloutPlan plan, routing::RouteSet original, Push push, ReadGate readGate, Clock clock);
    ~RolloutRunner();  // a push completing later is then ignored
    RolloutRunner(const RolloutRunner &) = delete;
    RolloutRunner &operator=(const RolloutRunner &) = delete;

    void start();
    void tick();
    // Holds the weights where they are until resume() or rollBack().
    void pause(const std::string &reason);
    // Restarts the current step's hold (after a pause: what happened meanwhile is not counted).
    void resume();
    // Back to the weights from before the rollout, at once.
    void rollBack(const std::string &reason);

    RolloutState state() const { return m_state; }
    // Paused because no telemetry came: it resumes by itself when telemetry is back.
    bool pausedForTelemetry() const { return m_state == RolloutState::Paused && m_pausedForTelemetry; }
    bool finished() const { return m_state == RolloutState::Promoted || m_state == RolloutState::RolledBack; }
    const std::vector<StepRecord> &steps() const { return m_steps; }
    // Why it paused, rolled back or ended.
    const std::string &reason() const { return m_reason; }
    // The canary share the data plane has now (the last completed push).
    int currentWeight() const { return m_appliedWeight; }
    const RolloutPlan &plan() const { return m_plan; }
    // The step being held or pushed, 0-based into plan().steps; -1 before and while rolling back.
    int stepIndex() const { return m_stepIndex; }
    // Called after every change of state or step.
    void setChangeCallback(std::function<void()> callback) { m_changed = std::move(callback); }

private:
    void pushWeight(int weight, const std::string &why, std::function<void()> then);
    void beginStep(size_t index);
    void holdCurrent();
    void judge(int64_t now, bool holdOver);
    void passStep();
    void failStep(Verdict verdict, const std::string &reason);
    void startRollBack(const std::string &reason, OnFailure how);
    void rollBackTo(std::vector<int> weights);
    void finish(RolloutState state, const std::string &reason);
    void changed();

    RolloutPlan m_plan;
    routing::RouteSet m_original;
    Push m_push;
    ReadGate m_readGate;
    Clock m_clock;
    std::function<void()> m_changed;

    RolloutState m_state = RolloutState::NotStarted;
    std::vector<StepRecord> m_steps;
    std::string m_reason;
    int m_originalWeight = 0;
    int m_appliedWeight = 0;
    int m_lastGoodWeight = 0;
    int m_stepIndex = -1;
    int64_t m_startMs = 0;
    int64_t m_holdStartMs = 0;  // the current hold began (a resume restarts it)
    bool m_pausedForTelemetry = false;
    std::vector<int> m_rollBackPath;  // weights still to push on the way back
    uint64_t m_generation = 0;  // a push's completion for a superseded push is ignored
    bool m_pushing = false;
    std::shared_ptr<int> m_alive = std::make_shared<int>(0);
};

}  // namespace meshscope::rollout

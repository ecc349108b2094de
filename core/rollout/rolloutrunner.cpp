#include "rollout/rolloutrunner.h"

#include <algorithm>
#include <cstdio>
#include <memory>

namespace meshscope::rollout {

namespace {

std::string percentText(double fraction)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %%", fraction * 100);
    return buf;
}

std::string msText(double ms)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    return buf;
}

std::string secondsText(int64_t ms) { return std::to_string((ms + 500) / 1000) + " s"; }

}  // namespace

std::string gateFailure(const Gates &gates, const GateReading &r)
{
    if (gates.maxErrorRate && r.errorRate > *gates.maxErrorRate)
        return "error rate " + percentText(r.errorRate) + " > " + percentText(*gates.maxErrorRate);
    if (gates.maxP95Ms && r.p95Ms > *gates.maxP95Ms)
        return "p95 " + msText(r.p95Ms) + " > " + msText(*gates.maxP95Ms);
    if (gates.maxP99Ms && r.p99Ms > *gates.maxP99Ms)
        return "p99 " + msText(r.p99Ms) + " > " + msText(*gates.maxP99Ms);
    return {};
}

std::string verdictName(Verdict v)
{
    switch (v) {
    case Verdict::Holding: return "holding";
    case Verdict::Passed: return "passed";
    case Verdict::Failed: return "failed";
    case Verdict::TooFewRequests: return "too_few_requests";
    case Verdict::Paused: return "paused";
    case Verdict::RollBack: return "rollback";
    case Verdict::PushFailed: return "push_failed";
    }
    return {};
}

std::string stateName(RolloutState s)
{
    switch (s) {
    case RolloutState::NotStarted: return "not_started";
    case RolloutState::Pushing: return "pushing";
    case RolloutState::Holding: return "holding";
    case RolloutState::Paused: return "paused";
    case RolloutState::RollingBack: return "rolling_back";
    case RolloutState::Promoted: return "promoted";
    case RolloutState::RolledBack: return "rolled_back";
    }
    return {};
}

RolloutRunner::RolloutRunner(RolloutPlan plan, routing::RouteSet original, Push push, ReadGate readGate, Clock clock)
    : m_plan(std::move(plan))
    , m_original(std::move(original))
    , m_push(std::move(push))
    , m_readGate(std::move(readGate))
    , m_clock(std::move(clock))
{
}

RolloutRunner::~RolloutRunner() = default;

void RolloutRunner::start()
{
    if (m_state != RolloutState::NotStarted)
        return;
    m_startMs = m_clock();
    m_originalWeight = canaryShare(m_original, m_plan);
    m_appliedWeight = m_originalWeight;
    m_lastGoodWeight = m_originalWeight;
    beginStep(0);
}

void RolloutRunner::pushWeight(int weight, const std::string &why, std::function<void()> then)
{
    const uint64_t generation = ++m_generation;
    m_pushing = true;
    std::weak_ptr<int> alive = m_alive;
    m_push(withCanaryShare(m_original, m_plan, weight), why,
        [this, alive, generation, weight, then = std::move(then)](bool ok, const std::string &error) {
            if (alive.expired() || generation != m_generation)
                return;
            m_pushing = false;
            if (!ok) {
                m_steps.back().verdict = Verdict::PushFailed;
                m_steps.back().reason = error;
                m_state = RolloutState::Paused;
                m_reason = "the weights could not be pushed (" + error + "); paused at "
                    + std::to_string(m_appliedWeight) + " %";
                changed();
                return;
            }
            m_appliedWeight = weight;
            if (m_state == RolloutState::Paused) {
                // Paused while the push was under way: the weights are in, the hold waits.
                if (m_steps.back().startedMs == 0)
                    m_steps.back().startedMs = m_clock();
                changed();
                return;
            }
            then();
        });
}

void RolloutRunner::beginStep(size_t index)
{
    m_stepIndex = int(index);
    m_state = RolloutState::Pushing;
    StepRecord record;
    record.weight = m_plan.steps[index];
    m_steps.push_back(record);
    changed();
    const std::string why = "rollout " + m_plan.canary + " " + std::to_string(record.weight) + " % (step "
        + std::to_string(index + 1) + " of " + std::to_string(m_plan.steps.size()) + ")";
    pushWeight(record.weight, why, [this] {
        m_steps.back().startedMs = m_clock();
        holdCurrent();
    });
}

void RolloutRunner::holdCurrent()
{
    m_state = RolloutState::Holding;
    m_holdStartMs = m_clock();
    m_steps.back().verdict = Verdict::Holding;
    changed();
}

void RolloutRunner::tick()
{
    const int64_t now = m_clock();
    switch (m_state) {
    case RolloutState::Holding: judge(now, now - m_holdStartMs >= m_plan.holdMs); break;
    case RolloutState::Paused:
        if (m_pausedForTelemetry) {
            const GateReading r = m_readGate(now - 1000, now);
            if (r.lastTelemetryMs > 0 && now - r.lastTelemetryMs < m_plan.telemetryTimeoutMs) {
                m_pausedForTelemetry = false;
                m_reason.clear();
                holdCurrent();
            }
        }
        break;
    case RolloutState::RollingBack:
        if (!m_pushing && !m_rollBackPath.empty() && now - m_holdStartMs >= m_plan.holdMs)
            rollBackTo(m_rollBackPath);
        break;
    default: break;
    }
}

void RolloutRunner::judge(int64_t now, bool holdOver)
{
    const int64_t from = m_holdStartMs + m_plan.settleMs;
    const GateReading reading = m_readGate(std::min(from, now), now);
    StepRecord &step = m_steps.back();
    if (now >= from)
        step.reading = reading;
    const int64_t silentMs = now - std::max(reading.lastTelemetryMs, m_startMs);
    if (silentMs > m_plan.telemetryTimeoutMs) {
        pause("no telemetry from any source for " + secondsText(silentMs) + "; the data plane keeps "
            + std::to_string(m_appliedWeight) + " % until it comes back");
        m_pausedForTelemetry = true;
        return;
    }
    if (now < from)
        return;
    const std::string failure = gateFailure(m_plan.gates, reading);
    if (reading.requests >= m_plan.gates.minRequests && !failure.empty()) {
        failStep(Verdict::Failed, failure);
    } else if (holdOver && reading.requests < m_plan.gates.minRequests) {
        failStep(Verdict::TooFewRequests,
            m_plan.canary + " saw " + std::to_string(reading.requests) + " requests in the step's hold, fewer than the "
                + std::to_string(m_plan.gates.minRequests) + " a gate needs");
    } else if (holdOver) {
        passStep();
    }
}

void RolloutRunner::passStep()
{
    m_steps.back().verdict = Verdict::Passed;
    m_lastGoodWeight = m_steps.back().weight;
    const size_t next = size_t(m_stepIndex) + 1;
    if (next < m_plan.steps.size()) {
        changed();  // the passed step is the newest for a moment: watchers see its verdict
        beginStep(next);
        return;
    }
    finish(RolloutState::Promoted,
        "every step passed; " + m_plan.canary + " takes " + std::to_string(m_appliedWeight) + " %");
}

void RolloutRunner::failStep(Verdict verdict, const std::string &reason)
{
    m_steps.back().verdict = verdict;
    m_steps.back().reason = reason;
    const std::string at = "step " + std::to_string(m_stepIndex + 1) + " (" + std::to_string(m_appliedWeight) + " %): ";
    if (m_plan.onFailure == OnFailure::Pause) {
        m_state = RolloutState::Paused;
        m_reason = at + reason + "; paused for a decision";
        changed();
        return;
    }
    startRollBack(at + reason, m_plan.onFailure);
}

void RolloutRunner::startRollBack(const std::string &reason, OnFailure how)
{
    m_reason = reason;
    m_state = RolloutState::RollingBack;
    m_stepIndex = -1;
    m_pausedForTelemetry = false;
    std::vector<int> path;
    if (how == OnFailure::RollBackToLastGood) {
        path.push_back(m_lastGoodWeight);
    } else if (how == OnFailure::RollBackStepwise) {
        for (auto it = m_steps.rbegin(); it != m_steps.rend(); ++it) {
            if (it->verdict == Verdict::Passed && it->weight < m_appliedWeight
                && (path.empty() || it->weight < path.back()))
                path.push_back(it->weight);
        }
    }
    if (path.empty() || path.back() != m_originalWeight) {
        if (how != OnFailure::RollBackToLastGood)
            path.push_back(m_originalWeight);
    }
    changed();
    rollBackTo(std::move(path));
}

void RolloutRunner::rollBackTo(std::vector<int> weights)
{
    if (weights.empty()) {
        finish(RolloutState::RolledBack, m_reason);
        return;
    }
    const int weight = weights.front();
    weights.erase(weights.begin());
    StepRecord record;
    record.weight = weight;
    record.verdict = Verdict::RollBack;
    m_steps.push_back(record);
    m_rollBackPath = weights;
    const std::string why = "rollout " + m_plan.canary + " rolled back to " + std::to_string(weight) + " %";
    pushWeight(weight, why, [this] {
        m_steps.back().startedMs = m_clock();
        m_holdStartMs = m_steps.back().startedMs;
        if (m_rollBackPath.empty())
            finish(RolloutState::RolledBack, m_reason);
        else
            changed();
    });
}

void RolloutRunner::pause(const std::string &reason)
{
    if (finished() || m_state == RolloutState::NotStarted || m_state == RolloutState::Paused)
        return;
    if (!m_steps.empty() && m_steps.back().verdict == Verdict::Holding) {
        m_steps.back().verdict = Verdict::Paused;
        m_steps.back().reason = reason;
    }
    // A push under way still completes; what it changes is the weights, not the pause.
    m_state = RolloutState::Paused;
    m_pausedForTelemetry = false;
    m_reason = reason;
    changed();
}

void RolloutRunner::resume()
{
    if (m_state != RolloutState::Paused)
        return;
    m_pausedForTelemetry = false;
    m_reason.clear();
    if (m_stepIndex < 0) {
        m_state = RolloutState::RollingBack;
        rollBackTo(m_rollBackPath);
        return;
    }
    if (m_steps.back().startedMs == 0) {
        m_steps.pop_back();
        beginStep(size_t(m_stepIndex));
        return;
    }
    holdCurrent();
}

void RolloutRunner::rollBack(const std::string &reason)
{
    if (finished() || m_state == RolloutState::NotStarted)
        return;
    if (!m_steps.empty() && m_steps.back().verdict == Verdict::Holding) {
        m_steps.back().verdict = Verdict::Paused;
        m_steps.back().reason = reason;
    }
    startRollBack(reason, OnFailure::RollBackToOriginal);
}

void RolloutRunner::finish(RolloutState state, const std::string &reason)
{
    m_state = state;
    m_reason = reason;
    m_stepIndex = -1;
    m_rollBackPath.clear();
    changed();
}

void RolloutRunner::changed()
{
    if (m_changed)
        m_changed();
}

}  // namespace meshscope::rollout

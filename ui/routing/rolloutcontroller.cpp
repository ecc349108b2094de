#include "routing/rolloutcontroller.h"

#include "graph/graphaggregator.h"
#include "model/clock.h"
#include "rollout/rolloutgate.h"
#include "rollout/xdsackwait.h"
#include "routing/rolloutpanel.h"
#include "routing/routeeditor.h"
#include "routing/routevalidator.h"
#include "routing/routingcontroller.h"
#include "routing/xds/xdscontrolplane.h"

#include <QTimer>

#include <memory>

namespace meshscope {

using rollout::RolloutState;
using rollout::Verdict;

namespace {

// How long a step waits for every connected xDS client to take its weights.
constexpr int kAckTimeoutMs = 10'000;

QString percent(double fraction) { return QString::number(fraction * 100, 'f', 1) + QStringLiteral(" %"); }

}  // namespace

RolloutController::RolloutController(
    RoutingController *routing, RouteEditor *editor, const GraphAggregator *aggregator, QObject *parent)
    : QObject(parent)
    , m_routing(routing)
    , m_editor(editor)
    , m_aggregator(aggregator)
    , m_tick(new QTimer(this))
{
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, [this] {
        if (m_runner)
            m_runner->tick();
        if (m_panel)
            m_panel->refresh();  // the hold's seconds and the gate's numbers move
    });
    if (editor) {
        m_panel = new RolloutPanel(this);
        editor->addHeaderWidget(m_panel);
    }
}

RolloutController::~RolloutController() = default;

bool RolloutController::running() const
{
    return m_runner && m_runner->state() != RolloutState::NotStarted && !m_runner->finished();
}

bool RolloutController::start(const rollout::RolloutPlan &plan, QString *error)
{
    auto refuse = [error](const QString &why) {
        *error = why;
        return false;
    };
    if (running())
        return refuse(tr("a rollout is already running"));
    if (!m_routing || !m_editor)
        return refuse(tr("routes are not served from this window"));
    if (m_editor->hasChanges())
        return refuse(tr("apply or revert the edits first: a rollout starts from the routes served"));
    if (!m_aggregator || !m_aggregator->history())
        return refuse(tr("the gates are read from the graph's history, which this window does not keep"));
    const routing::RouteSet original = m_editor->appliedSet();
    if (const auto problems = rollout::checkPlan(plan, original); !problems.empty())
        return refuse(QString::fromStdString(problems.front()));
    for (int step : plan.steps) {
        const auto issues
            = routing::validateRoutes(rollout::withCanaryShare(original, plan, step), m_editor->dataPlane());
        for (const routing::RouteIssue &i : issues) {
            if (i.severity == routing::Severity::Error)
                return refuse(tr("step %1 % cannot be applied: %2").arg(step).arg(QString::fromStdString(i.message)));
        }
    }
    auto push = [this](const routing::RouteSet &set, const std::string &, rollout::RolloutRunner::PushDone done) {
        this->push(set, std::move(done));
    };
    auto read = [this, canary = plan.canary, ns = plan.routeNamespace](int64_t from, int64_t to) {
        return rollout::readGate(*m_aggregator->history(), canary, ns, from, to);
    };
    m_runner = std::make_unique<rollout::RolloutRunner>(plan, original, push, read, [] { return wallNowMs(); });
    m_runner->setChangeCallback([this] { onChange(); });
    m_editor->setApplyLock(
        tr("A rollout of %1 is moving these routes: Apply is free again once it is promoted or rolled back")
            .arg(QString::fromStdString(plan.canary)));
    m_tick->start();
    m_runner->start();
    return true;
}

void RolloutController::push(const routing::RouteSet &set, rollout::RolloutRunner::PushDone done)
{
    if (!m_routing) {
        done(false, "the routing target is gone");
        return;
    }
    // The answer comes with applyFinished (at once for xDS, with Caddy's reply for Caddy).
    auto answered = std::make_shared<bool>(false);
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(m_routing, &RoutingController::applyFinished, this,
        [this, answered, connection, done](bool ok, const QString &message) {
            disconnect(*connection);
            *answered = true;
            if (!ok) {
                done(false, message.toStdString());
                return;
            }
            routing::XdsControlPlane *cp = m_routing ? m_routing->controlPlane() : nullptr;
            if (cp)
                rollout::awaitXdsAcks(*cp, cp->version(), kAckTimeoutMs, this, done);
            else
                done(true, {});
        });
    // A refusal without an answer (no target yet): the step fails here.
    if (!m_routing->apply(set) && !*answered) {
        disconnect(*connection);
        done(false, "the routes could not be applied");
    }
}

void RolloutController::onChange()
{
    if (m_editor && m_runner && m_runner->finished())
        m_editor->setApplyLock({});
    if (m_runner && m_runner->finished())
        m_tick->stop();
    if (m_panel)
        m_panel->refresh();
    Q_EMIT changed();
}

void RolloutController::pause(const QString &reason)
{
    if (running())
        m_runner->pause(reason.toStdString());
}

void RolloutController::resume()
{
    if (running())
        m_runner->resume();
}

void RolloutController::rollBack()
{
    if (running())
        m_runner->rollBack("rolled back by the operator");
}

QString RolloutController::headline() const
{
    if (!m_runner)
        return {};
    const rollout::RolloutPlan &plan = m_runner->plan();
    const QString canary = QString::fromStdString(plan.canary);
    switch (m_runner->state()) {
    case RolloutState::Promoted: return tr("Rollout of %1 promoted: %2 %").arg(canary).arg(m_runner->currentWeight());
    case RolloutState::RolledBack:
        return tr("Rollout of %1 rolled back to %2 %").arg(canary).arg(m_runner->currentWeight());
    case RolloutState::RollingBack: return tr("Rollout of %1 rolling back").arg(canary);
    case RolloutState::Paused: return tr("Rollout of %1 paused at %2 %").arg(canary).arg(m_runner->currentWeight());
    default:
        return tr("Rollout of %1: step %2 of %3, %4 %")
            .arg(canary)
            .arg(m_runner->stepIndex() + 1)
            .arg(plan.steps.size())
            .arg(plan.steps[size_t(std::max(0, m_runner->stepIndex()))]);
    }
}

QString RolloutController::detail() const
{
    if (!m_runner || m_runner->steps().empty())
        return {};
    const rollout::StepRecord &step = m_runner->steps().back();
    const rollout::RolloutState state = m_runner->state();
    if (state != RolloutState::Holding && state != RolloutState::Pushing)
        return QString::fromStdString(m_runner->reason());
    if (state == RolloutState::Pushing)
        return tr("applying %1 % and waiting for the data plane to take it").arg(step.weight);
    const int64_t held = std::max<int64_t>(0, wallNowMs() - step.startedMs);
    const rollout::GateReading &r = step.reading;
    QString text = tr("holding %1 of %2 s · %n request(s)", nullptr, int(r.requests))
                       .arg(held / 1000)
                       .arg(m_runner->plan().holdMs / 1000);
    if (r.requests > 0)
        text += tr(" · error rate %1 · p95 %2 ms").arg(percent(r.errorRate)).arg(r.p95Ms, 0, 'f', 1);
    if (r.requests < m_runner->plan().gates.minRequests)
        text += tr(" · a gate needs %1").arg(m_runner->plan().gates.minRequests);
    return text;
}

NodeNote RolloutController::canaryNote() const
{
    if (!m_runner || m_runner->state() == RolloutState::NotStarted)
        return {};
    const int weight = m_runner->currentWeight();
    switch (m_runner->state()) {
    case RolloutState::Promoted: return {tr("rollout promoted · %1 %").arg(weight), NodeNote::Tone::Good};
    case RolloutState::RolledBack:
    case RolloutState::RollingBack: return {tr("rollout rolled back · %1 %").arg(weight), NodeNote::Tone::Bad};
    case RolloutState::Paused: return {tr("rollout paused · %1 %").arg(weight), NodeNote::Tone::Bad};
    default:
        return {tr("rollout %1 % · step %2/%3")
                    .arg(weight)
                    .arg(m_runner->stepIndex() + 1)
                    .arg(m_runner->plan().steps.size()),
            NodeNote::Tone::Routing};
    }
}

std::string RolloutController::canaryService() const
{
    if (!m_runner)
        return {};
    return m_runner->plan().routeNamespace + "/" + m_runner->plan().canary;
}

}  // namespace meshscope

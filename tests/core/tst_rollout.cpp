// The rollout plan (weights of each step, checks, parsing) and the runner's decisions,
// driven step by step: a clock the test moves, readings the test chooses, and a push
// that records what the data plane would have been given (completing at once or later,
// or failing). The runs against real data planes are in tests/integration/tst_rollout.

#include "graph/graphhistory.h"
#include "rollout/rolloutgate.h"
#include "rollout/rolloutplan.h"
#include "rollout/rolloutrunner.h"
#include "routing/routediff.h"
#include "routing/yaml/routeyaml.h"

#include <QTest>

#include <deque>

using namespace meshscope;
using namespace meshscope::rollout;
using routing::RouteSet;

namespace {

RouteSet echoRoutes(int a, int b, bool withB = true)
{
    RouteSet set;
    routing::HttpRoute route;
    route.name = "echo";
    route.hostnames = {"echo.test"};
    routing::RouteRule canary;
    canary.name = "canary";
    canary.backends.push_back({"echo-b", "", 8080, 1});
    routing::RouteRule main;
    main.name = "main";
    main.backends.push_back({"echo-a", "", 8080, a});
    if (withB)
        main.backends.push_back({"echo-b", "", 8080, b});
    route.rules = {canary, main};
    set.routes.push_back(route);
    return set;
}

RolloutPlan echoPlan(std::vector<int> steps = {10, 50, 100})
{
    RolloutPlan plan;
    plan.routeName = "echo";
    plan.rule = 1;
    plan.canary = "echo-b";
    plan.steps = std::move(steps);
    plan.holdMs = 10'000;
    plan.settleMs = 1'000;
    plan.telemetryTimeoutMs = 5'000;
    plan.gates.maxErrorRate = 0.05;
    plan.gates.minRequests = 20;
    return plan;
}

int weightOf(const RouteSet &set, const std::string &backend)
{
    for (const routing::BackendRef &b : set.routes[0].rules[1].backends) {
        if (b.name == backend)
            return b.weight;
    }
    return -1;
}

// Drives one runner: time, readings, and the pushes it asks for.
struct Harness {
    int64_t now = 1'000'000;
    GateReading reading;  // what the next gate read returns (lastTelemetryMs follows now unless frozen)
    bool telemetryFrozen = false;
    bool completeAtOnce = true;
    bool failPushes = false;
    std::vector<int> pushedWeights;
    std::vector<std::string> reasons;
    std::deque<RolloutRunner::PushDone> pending;
    std::unique_ptr<RolloutRunner> runner;

    explicit Harness(RolloutPlan plan = echoPlan(), RouteSet original = echoRoutes(100, 0))
    {
        RolloutPlan p = plan;
        runner = std::make_unique<RolloutRunner>(
            std::move(plan), std::move(original),
            [this, p](const RouteSet &routes, const std::string &why, RolloutRunner::PushDone done) {
                pushedWeights.push_back(canaryShare(routes, p));
                reasons.push_back(why);
                if (failPushes)
                    done(false, "connection refused");
                else if (completeAtOnce)
                    done(true, {});
                else
                    pending.push_back(std::move(done));
            },
            [this](int64_t, int64_t) {
                GateReading r = reading;
                if (!telemetryFrozen)
                    r.lastTelemetryMs = now - 500;
                return r;
            },
            [this] { return now; });
    }
    // Moves the clock in 1 s ticks.
    void advance(int64_t ms)
    {
        for (int64_t t = 0; t < ms; t += 1000) {
            now += 1000;
            runner->tick();
        }
    }
    void healthy(uint64_t requests = 100) { reading = GateReading {requests, 0.01, 12, 20, 0}; }
};

}  // namespace

class TestRollout : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void canaryShareKeepsTheOthersProportions()
    {
        RouteSet three = echoRoutes(60, 0);
        three.routes[0].rules[1].backends.push_back({"echo-c", "", 8080, 30});
        const RouteSet at25 = withCanaryShare(three, echoPlan(), 25);
        QCOMPARE(weightOf(at25, "echo-b"), 25);
        // 75 split 60:30 -> 50:25
        QCOMPARE(weightOf(at25, "echo-a"), 50);
        QCOMPARE(weightOf(at25, "echo-c"), 25);
        QCOMPARE(canaryShare(at25, echoPlan()), 25);
        // Largest remainder: 33 split 1:1 keeps the total at 100.
        const RouteSet at67 = withCanaryShare(echoRoutes(1, 0), echoPlan(), 67);
        QCOMPARE(weightOf(at67, "echo-a") + weightOf(at67, "echo-b"), 100);
        // A canary not in the rule yet is added with the rule's port; other rules untouched.
        const RouteSet added = withCanaryShare(echoRoutes(100, 0, false), echoPlan(), 10);
        QCOMPARE(weightOf(added, "echo-b"), 10);
        QCOMPARE(weightOf(added, "echo-a"), 90);
        QCOMPARE(added.routes[0].rules[1].backends.back().port, 8080);
        QCOMPARE(added.routes[0].rules[0].backends.size(), size_t(1));
        QCOMPARE(added.routes[0].rules[0].backends[0].weight, 1);
    }

    // The services an apply affects: the backends of the rules that changed.
    void changedBackendsOfAnApply()
    {
        const RouteSet before = echoRoutes(100, 0);
        QVERIFY(routing::changedBackends(before, before).empty());
        RouteSet after = withCanaryShare(before, echoPlan(), 30);
        QCOMPARE(routing::changedBackends(before, after), (std::set<std::string> {"default/echo-a", "default/echo-b"}));
        // A rule that lost a backend names it too; an untouched rule names nothing.
        RouteSet fewer = before;
        fewer.routes[0].rules[1].backends.pop_back();
        fewer.routes[0].rules[1].backends.push_back({"echo-c", "other", 8080, 1});
        QCOMPARE(routing::changedBackends(before, fewer),
            (std::set<std::string> {"default/echo-a", "default/echo-b", "other/echo-c"}));
        RouteSet none;
        QCOMPARE(routing::changedBackends(before, none).size(), size_t(2));
    }

    // The gate reads the backend as a route names it: a service, or a service's version.
    void gateReadsTheBackendsNodes()
    {
        GraphHistory history;
        const int64_t t0 = 1'700'000'000;
        const uint32_t v1 = history.node("bookinfo/reviews@v1", "reviews", "bookinfo", "v1", NodeKind::Service);
        const uint32_t v2 = history.node("bookinfo/reviews@v2", "reviews", "bookinfo", "v2", NodeKind::Service);
        const uint32_t bare = history.node("echo-b", "echo-b", "", "", NodeKind::Service);
        const uint32_t elsewhere = history.node("other/echo-b", "echo-b", "other", "", NodeKind::Service);
        auto counts = [](uint32_t requests, uint32_t errors) {
            HistoryCounts c;
            c.requests = requests;
            c.errors = errors;
            c.latency.add(20, requests);
            return c;
        };
        for (int64_t s = t0; s < t0 + 10; ++s) {
            history.add(s, v1, GraphHistory::Series::NodeIn, counts(50, 0));
            history.add(s, v2, GraphHistory::Series::NodeIn, counts(10, 2));
            history.add(s, bare, GraphHistory::Series::NodeIn, counts(7, 0));
            history.add(s, elsewhere, GraphHistory::Series::NodeIn, counts(1000, 0));
            history.closeFrame();
        }
        const GateReading r = readGate(history, "reviews-v2", "bookinfo", t0 * 1000, (t0 + 9) * 1000);
        QCOMPARE(r.requests, uint64_t(100));
        QCOMPARE(r.errorRate, 0.2);
        QCOMPARE(r.lastTelemetryMs, (t0 + 10) * 1000);
        // A node without a namespace counts by name; one in another namespace does not.
        QCOMPARE(readGate(history, "echo-b", "default", t0 * 1000, (t0 + 9) * 1000).requests, uint64_t(70));
        QCOMPARE(readGate(history, "reviews", "bookinfo", t0 * 1000, (t0 + 4) * 1000).requests, uint64_t(300));
        QVERIFY(isBackendNode("reviews-v2", "bookinfo", "reviews", "bookinfo", "v2"));
        QVERIFY(!isBackendNode("reviews-v2", "bookinfo", "reviews", "bookinfo", "v1"));
        QVERIFY(!isBackendNode("reviews-v2", "bookinfo", "reviews", "", ""));
        QVERIFY(!isBackendNode("reviews-v2", "bookinfo", "reviews-v2", "other", ""));
        QVERIFY(isBackendNode("reviews-v2", "", "reviews-v2", "other", ""));
    }

    // Watchers (the CLI's progress, the dashboard's panel) see each passed step.
    void eachPassedStepIsAnnounced()
    {
        Harness h;
        h.healthy();
        std::vector<int> passed;
        h.runner->setChangeCallback([&] {
            const StepRecord &s = h.runner->steps().back();
            if (s.verdict == Verdict::Passed && (passed.empty() || passed.back() != s.weight))
                passed.push_back(s.weight);
        });
        h.runner->start();
        h.advance(30'000);
        QCOMPARE(passed, (std::vector<int> {10, 50, 100}));
    }

    void planChecks_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<QString>("problem");
        QTest::newRow("route") << "route"
                               << "no route default/nope";
        QTest::newRow("rule") << "rule"
                              << "has no rule 7 (it has 2)";
        QTest::newRow("decreasing") << "steps"
                                    << "steps must increase (50 then 10)";
        QTest::newRow("over 100") << "over"
                                  << "step 150 is not a percentage";
        QTest::newRow("no other backend") << "alone"
                                          << "no backend besides echo-b";
        QTest::newRow("silence passes") << "min"
                                        << "silence must never pass";
        QTest::newRow("short hold") << "hold"
                                    << "shorter than 1s";
    }
    void planChecks()
    {
        QFETCH(QString, change);
        QFETCH(QString, problem);
        RolloutPlan plan = echoPlan();
        RouteSet routes = echoRoutes(100, 0);
        if (change == QLatin1String("route"))
            plan.routeName = "nope";
        else if (change == QLatin1String("rule"))
            plan.rule = 7;
        else if (change == QLatin1String("steps"))
            plan.steps = {50, 10};
        else if (change == QLatin1String("over"))
            plan.steps = {10, 150};
        else if (change == QLatin1String("alone"))
            plan.rule = 0;
        else if (change == QLatin1String("min"))
            plan.gates.minRequests = 0;
        else if (change == QLatin1String("hold"))
            plan.holdMs = 500;
        QVERIFY(checkPlan(echoPlan(), routes).empty());
        const std::vector<std::string> problems = checkPlan(plan, routes);
        QVERIFY(!problems.empty());
        QVERIFY2(QString::fromStdString(problems.front()).contains(problem), problems.front().c_str());
    }

    void parsing()
    {
        std::string error;
        QCOMPARE(*parseSteps("5,25,50,100", &error), (std::vector<int> {5, 25, 50, 100}));
        QVERIFY(!parseSteps("5,,50", &error));
        QVERIFY(QString::fromStdString(error).contains(QLatin1String("5,25,50,100")));
        QVERIFY(!parseSteps("ten", &error));
        QCOMPARE(*parseHold("1m30s", &error), int64_t(90'000));
        QVERIFY(!parseHold("10", &error));
        QCOMPARE(*parseOnFailure("stepwise"), OnFailure::RollBackStepwise);
        QVERIFY(!parseOnFailure("undo"));
    }

    void healthyCanaryIsPromotedStepByStep()
    {
        Harness h;
        h.healthy();
        h.runner->start();
        QCOMPARE(h.pushedWeights, (std::vector<int> {10}));
        QCOMPARE(h.runner->state(), RolloutState::Holding);
        QVERIFY(QString::fromStdString(h.reasons[0]).contains(QLatin1String("echo-b 10 % (step 1 of 3)")));
        h.advance(9'000);
        QCOMPARE(h.pushedWeights.size(), size_t(1));  // the hold is not over
        h.advance(1'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {10, 50}));
        h.advance(20'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {10, 50, 100}));
        QCOMPARE(h.runner->state(), RolloutState::Promoted);
        QCOMPARE(h.runner->currentWeight(), 100);
        QCOMPARE(h.runner->steps().size(), size_t(3));
        for (const StepRecord &s : h.runner->steps()) {
            QCOMPARE(s.verdict, Verdict::Passed);
            QCOMPARE(s.reading.requests, uint64_t(100));
            QVERIFY(s.startedMs > 0);
        }
    }

    void failingCanaryRollsBackBeforeTheHoldEnds()
    {
        Harness h;
        h.healthy();
        h.runner->start();
        h.advance(2'000);
        h.reading = GateReading {25, 0.30, 12, 20, 0};
        h.advance(1'000);
        QCOMPARE(h.runner->state(), RolloutState::RolledBack);
        QCOMPARE(h.pushedWeights, (std::vector<int> {10, 0}));
        QCOMPARE(h.runner->steps()[0].verdict, Verdict::Failed);
        QVERIFY(QString::fromStdString(h.runner->reason()).contains(QLatin1String("error rate 30.0 % > 5.0 %")));
        QCOMPARE(h.runner->steps()[1].verdict, Verdict::RollBack);
        QCOMPARE(h.runner->currentWeight(), 0);
    }

    void errorsBelowTheMinimumWaitForEnoughRequests()
    {
        Harness h;
        h.reading = GateReading {5, 0.4, 12, 20, 0};  // 2 of 5 failed: not yet a verdict
        h.runner->start();
        h.advance(5'000);
        QCOMPARE(h.runner->state(), RolloutState::Holding);
        h.reading = GateReading {40, 0.02, 12, 20, 0};
        h.advance(5'000);
        QCOMPARE(h.runner->steps()[0].verdict, Verdict::Passed);
    }

    void silentCanaryNeverPasses()
    {
        Harness h;
        h.reading = GateReading {0, 0, 0, 0, 0};  // the stable backend's telemetry still flows
        h.runner->start();
        h.advance(10'000);
        QCOMPARE(h.runner->state(), RolloutState::RolledBack);
        QCOMPARE(h.runner->steps()[0].verdict, Verdict::TooFewRequests);
        QVERIFY(QString::fromStdString(h.runner->reason()).contains(QLatin1String("saw 0 requests")));
        QCOMPARE(h.pushedWeights, (std::vector<int> {10, 0}));
    }

    void latencyGates()
    {
        RolloutPlan plan = echoPlan();
        plan.gates.maxErrorRate.reset();
        plan.gates.maxP99Ms = 250;
        Harness h(plan);
        h.reading = GateReading {100, 0.5, 40, 400, 0};
        h.runner->start();
        h.advance(2'000);
        QCOMPARE(h.runner->state(), RolloutState::RolledBack);
        QVERIFY(QString::fromStdString(h.runner->reason()).contains(QLatin1String("p99 400.0 ms > 250.0 ms")));
    }

    void lostTelemetryPausesAndItsReturnRestartsTheHold()
    {
        Harness h;
        h.healthy();
        h.runner->start();
        h.advance(4'000);
        h.telemetryFrozen = true;
        h.reading.lastTelemetryMs = h.now;
        h.advance(5'000);
        QCOMPARE(h.runner->state(), RolloutState::Holding);
        h.advance(2'000);  // 6 s without telemetry (timeout 5 s)
        QCOMPARE(h.runner->state(), RolloutState::Paused);
        QVERIFY(QString::fromStdString(h.runner->reason()).contains(QLatin1String("no telemetry from any source")));
        h.advance(30'000);  // never advances blind
        QCOMPARE(h.pushedWeights, (std::vector<int> {10}));
        QCOMPARE(h.runner->steps()[0].verdict, Verdict::Paused);
        h.telemetryFrozen = false;
        h.advance(1'000);
        QCOMPARE(h.runner->state(), RolloutState::Holding);
        h.advance(9'000);
        QCOMPARE(h.pushedWeights.size(), size_t(1));  // a whole new hold
        h.advance(1'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {10, 50}));
    }

    void rollBackToLastGood()
    {
        RolloutPlan plan = echoPlan({5, 25, 50, 100});
        plan.onFailure = OnFailure::RollBackToLastGood;
        Harness h(plan);
        h.healthy();
        h.runner->start();
        h.advance(20'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {5, 25, 50}));
        h.reading.errorRate = 0.2;
        h.advance(2'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {5, 25, 50, 25}));
        QCOMPARE(h.runner->state(), RolloutState::RolledBack);
        QCOMPARE(h.runner->currentWeight(), 25);
    }

    void rollBackStepwise()
    {
        RolloutPlan plan = echoPlan({5, 25, 50, 100});
        plan.onFailure = OnFailure::RollBackStepwise;
        Harness h(plan);
        h.healthy();
        h.runner->start();
        h.advance(30'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {5, 25, 50, 100}));
        h.reading.errorRate = 0.2;
        h.advance(2'000);
        QCOMPARE(h.runner->state(), RolloutState::RollingBack);
        QCOMPARE(h.pushedWeights.back(), 50);
        h.advance(10'000);
        QCOMPARE(h.pushedWeights.back(), 25);
        h.advance(10'000);
        QCOMPARE(h.pushedWeights.back(), 5);
        h.advance(10'000);
        QCOMPARE(h.pushedWeights, (std::vector<int> {5, 25, 50, 100, 50, 25, 5, 0}));
        QCOMPARE(h.runner->state(), RolloutState::RolledBack);
    }

    void pauseForADecision()
    {
        RolloutPlan plan = echoPlan();
        plan.onFailure = OnFailure::Pause;
        Harness h(plan);
        h.reading = GateReading {30, 0.5, 12, 20, 0};
        h.runner->start();
        h.advance(2'000);
        QCOMPARE(h.runner->state(), RolloutState::Paused);
        QVERIFY(QString::fromStdString(h.runner->reason()).contains(QLatin1String("paused for a decision")));
        QCOMPARE(h.pushedWeights, (std::vector<int> {10}));
        h.runner->rollBack("rolled back by the operator");
        QCOMPARE(h.runner->state(), RolloutState::RolledBack);
        QCOMPARE(h.pushedWeights, (std::vector<int> {10, 0}));
        QCOMPARE(h.runner->reason(), std::string("rolled back by the operator"));
    }

    void pushFailurePausesAndResumeRetries()
    {
        Harness h;
        h.healthy();
        h.failPushes = true;
        h.runner->start();
        QCOMPARE(h.runner->state(), RolloutState::Paused);
        QCOMPARE(h.runner->currentWeight(), 0);
        QVERIFY(QString::fromStdString(h.runner->reason()).contains(QLatin1String("connection refused")));
        QCOMPARE(h.runner->steps()[0].verdict, Verdict::PushFailed);
        h.advance(20'000);
        QCOMPARE(h.runner->state(), RolloutState::Paused);
        h.failPushes = false;
        h.runner->resume();
        QCOMPARE(h.runner->state(), RolloutState::Holding);
        QCOMPARE(h.runner->steps().size(), size_t(1));
        QCOMPARE(h.runner->currentWeight(), 10);
    }

    void slowPushHoldsOnlyOnceApplied()
    {
        Harness h;
        h.healthy();
        h.completeAtOnce = false;
        h.runner->start();
        QCOMPARE(h.runner->state(), RolloutState::Pushing);
        h.advance(15'000);
        QCOMPARE(h.pushedWeights.size(), size_t(1));
        h.pending.front()(true, {});
        h.pending.pop_front();
        QCOMPARE(h.runner->state(), RolloutState::Holding);
        QCOMPARE(h.runner->steps()[0].startedMs, h.now);
        // A pause while a push is under way: the weights land, the hold waits.
        h.advance(10'000);
        QCOMPARE(h.runner->state(), RolloutState::Pushing);
        h.runner->pause("window closed");
        h.pending.front()(true, {});
        QCOMPARE(h.runner->state(), RolloutState::Paused);
        QCOMPARE(h.runner->currentWeight(), 50);
        h.advance(20'000);
        QCOMPARE(h.pushedWeights.size(), size_t(2));
    }

    void runnerGoneBeforeThePushCompletes()
    {
        Harness h;
        h.completeAtOnce = false;
        h.runner->start();
        h.runner.reset();
        h.pending.front()(true, {});  // must not touch the destroyed runner
        QVERIFY(!h.runner);
    }
};

QTEST_GUILESS_MAIN(TestRollout)
#include "tst_rollout.moc"

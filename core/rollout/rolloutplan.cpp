#include "rollout/rolloutplan.h"

#include "routing/yaml/gatewayduration.h"

#include <algorithm>
#include <numeric>

namespace meshscope::rollout {

using routing::BackendRef;
using routing::HttpRoute;
using routing::RouteRule;
using routing::RouteSet;

namespace {

const HttpRoute *findRoute(const RouteSet &routes, const RolloutPlan &plan)
{
    return routes.route(plan.routeNamespace, plan.routeName);
}

RouteRule *findRule(RouteSet &routes, const RolloutPlan &plan)
{
    for (HttpRoute &r : routes.routes) {
        if (r.ns == plan.routeNamespace && r.name == plan.routeName && plan.rule >= 0
            && plan.rule < int(r.rules.size()))
            return &r.rules[size_t(plan.rule)];
    }
    return nullptr;
}

// Largest remainder: integer shares of `total` proportional to `weights`.
std::vector<int> apportion(const std::vector<int> &weights, int total)
{
    std::vector<int> out(weights.size(), 0);
    const long long sum = std::accumulate(weights.begin(), weights.end(), 0LL);
    if (weights.empty() || total <= 0)
        return out;
    std::vector<std::pair<double, size_t>> remainders;
    int given = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        const double exact
            = sum > 0 ? double(total) * weights[i] / double(sum) : double(total) / double(weights.size());
        out[i] = int(exact);
        given += out[i];
        remainders.emplace_back(exact - out[i], i);
    }
    std::stable_sort(remainders.begin(), remainders.end(), [](auto &a, auto &b) { return a.first > b.first; });
    for (size_t k = 0; given < total; ++k, ++given)
        out[remainders[k % remainders.size()].second]++;
    return out;
}

}  // namespace

std::vector<std::string> checkPlan(const RolloutPlan &plan, const RouteSet &routes)
{
    std::vector<std::string> problems;
    const HttpRoute *route = findRoute(routes, plan);
    const std::string routeText = plan.routeNamespace + "/" + plan.routeName;
    if (!route) {
        problems.push_back("no route " + routeText + " in the route set");
    } else if (plan.rule < 0 || plan.rule >= int(route->rules.size())) {
        problems.push_back("route " + routeText + " has no rule " + std::to_string(plan.rule) + " (it has "
            + std::to_string(route->rules.size()) + ")");
    } else {
        const RouteRule &rule = route->rules[size_t(plan.rule)];
        const bool others = std::any_of(
            rule.backends.begin(), rule.backends.end(), [&](const BackendRef &b) { return b.name != plan.canary; });
        if (!others)
            problems.push_back("rule " + std::to_string(plan.rule) + " of " + routeText + " has no backend besides "
                + plan.canary + " to keep the rest of the traffic");
    }
    if (plan.canary.empty())
        problems.push_back("no backend to roll out to");
    if (plan.steps.empty())
        problems.push_back("no steps");
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        if (plan.steps[i] < 1 || plan.steps[i] > 100)
            problems.push_back("step " + std::to_string(plan.steps[i]) + " is not a percentage from 1 to 100");
        else if (i > 0 && plan.steps[i] <= plan.steps[i - 1])
            problems.push_back("steps must increase (" + std::to_string(plan.steps[i - 1]) + " then "
                + std::to_string(plan.steps[i]) + ")");
    }
    if (plan.holdMs < 1000)
        problems.push_back("a hold shorter than 1s cannot read a gate");
    if (plan.settleMs < 0 || plan.settleMs >= plan.holdMs)
        problems.push_back("the settle time must be shorter than the hold");
    if (plan.gates.maxErrorRate && (*plan.gates.maxErrorRate < 0 || *plan.gates.maxErrorRate > 1))
        problems.push_back("the maximum error rate is a fraction from 0 to 1");
    if (plan.gates.minRequests < 1)
        problems.push_back("a gate needs at least one request: silence must never pass");
    return problems;
}

RouteSet withCanaryShare(const RouteSet &original, const RolloutPlan &plan, int percent)
{
    RouteSet out = original;
    RouteRule *rule = findRule(out, plan);
    if (!rule)
        return out;
    percent = std::clamp(percent, 0, 100);
    auto canary = std::find_if(
        rule->backends.begin(), rule->backends.end(), [&](const BackendRef &b) { return b.name == plan.canary; });
    if (canary == rule->backends.end()) {
        BackendRef added;
        added.name = plan.canary;
        if (!rule->backends.empty())
            added.port = rule->backends.front().port;
        rule->backends.push_back(added);
        canary = rule->backends.end() - 1;
    }
    canary->weight = percent;
    std::vector<BackendRef *> others;
    std::vector<int> weights;
    for (BackendRef &b : rule->backends) {
        if (b.name != plan.canary) {
            others.push_back(&b);
            weights.push_back(std::max(0, b.weight));
        }
    }
    const std::vector<int> shares = apportion(weights, 100 - percent);
    for (size_t i = 0; i < others.size(); ++i)
        others[i]->weight = shares[i];
    return out;
}

int canaryShare(const RouteSet &routes, const RolloutPlan &plan)
{
    const HttpRoute *route = findRoute(routes, plan);
    if (!route || plan.rule < 0 || plan.rule >= int(route->rules.size()))
        return 0;
    const RouteRule &rule = route->rules[size_t(plan.rule)];
    long long total = 0;
    long long canary = 0;
    for (const BackendRef &b : rule.backends) {
        total += std::max(0, b.weight);
        if (b.name == plan.canary)
            canary += std::max(0, b.weight);
    }
    return total > 0 ? int((canary * 100 + total / 2) / total) : 0;
}

std::optional<std::vector<int>> parseSteps(const std::string &text, std::string *error)
{
    std::vector<int> steps;
    size_t at = 0;
    while (at <= text.size()) {
        const size_t comma = std::min(text.find(',', at), text.size());
        const std::string part = text.substr(at, comma - at);
        size_t used = 0;
        int value = 0;
        try {
            value = std::stoi(part, &used);
        } catch (...) {
            used = 0;
        }
        if (part.empty() || used != part.size()) {
            *error = "'" + text + "' is not a list of percentages such as 5,25,50,100";
            return std::nullopt;
        }
        steps.push_back(value);
        at = comma + 1;
    }
    return steps;
}

std::optional<int64_t> parseHold(const std::string &text, std::string *error)
{
    const std::optional<int64_t> ms = routing::parseDuration(text);
    if (!ms)
        *error = "'" + text + "' is not a duration such as 30s, 2m or 1m30s";
    return ms;
}

std::optional<OnFailure> parseOnFailure(const std::string &text)
{
    for (OnFailure f :
        {OnFailure::RollBackToOriginal, OnFailure::RollBackToLastGood, OnFailure::RollBackStepwise, OnFailure::Pause}) {
        if (onFailureName(f) == text)
            return f;
    }
    return std::nullopt;
}

std::string onFailureName(OnFailure f)
{
    switch (f) {
    case OnFailure::RollBackToOriginal: return "original";
    case OnFailure::RollBackToLastGood: return "last-good";
    case OnFailure::RollBackStepwise: return "stepwise";
    case OnFailure::Pause: return "pause";
    }
    return {};
}

}  // namespace meshscope::rollout

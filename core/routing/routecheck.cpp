#include "routing/routecheck.h"

#include "routing/yaml/yamlemit.h"
#include "routing/yaml/yamlguard.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace meshscope::routing {

namespace {

// Thrown while reading a case file: the first problem ends the read.
struct CaseError {
    int line;
    std::string message;
};

[[noreturn]] void refuse(const YAML::Node &at, const std::string &message)
{
    throw CaseError {at.Mark().line >= 0 ? at.Mark().line + 1 : 0, message};
}

void onlyKeys(const YAML::Node &map, const std::string &where, std::initializer_list<const char *> keys)
{
    if (!map.IsMap())
        refuse(map, where + ": expected a mapping");
    for (const auto &kv : map) {
        const std::string key = kv.first.Scalar();
        if (std::none_of(keys.begin(), keys.end(), [&](const char *k) { return key == k; }))
            refuse(kv.first, where + ": unknown field '" + key + "'");
    }
}

std::string scalar(const YAML::Node &node, const std::string &where)
{
    if (!node.IsScalar())
        refuse(node, where + ": expected a string");
    return node.Scalar();
}

std::optional<std::string> optionalScalar(const YAML::Node &map, const char *key, const std::string &where)
{
    const YAML::Node n = map[key];
    if (!n)
        return std::nullopt;
    return scalar(n, where + '.' + key);
}

RouteRequest readRequest(const YAML::Node &node, const std::string &where)
{
    onlyKeys(node, where, {"host", "path", "method", "headers"});
    RouteRequest r;
    for (const char *required : {"host", "path"}) {
        if (!node[required] || scalar(node[required], where + '.' + required).empty())
            refuse(node, where + ": " + required + " is required");
    }
    r.host = node["host"].Scalar();
    r.path = node["path"].Scalar();
    if (r.path.front() != '/')
        refuse(node["path"], where + ".path: '" + r.path + "' must start with '/'");
    r.method = optionalScalar(node, "method", where).value_or("GET");
    if (const YAML::Node headers = node["headers"]) {
        if (!headers.IsMap())
            refuse(headers, where + ".headers: expected a mapping of header names to values");
        for (const auto &kv : headers) {
            std::string name = scalar(kv.first, where + ".headers");
            std::transform(
                name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            r.headers[name] = scalar(kv.second, where + ".headers." + name);
        }
    }
    return r;
}

RouteCheckExpectation readExpectation(const YAML::Node &node, const std::string &where)
{
    onlyKeys(node, where, {"route", "rule", "backend", "backends", "no_route"});
    RouteCheckExpectation e;
    if (const YAML::Node n = node["no_route"]) {
        const std::string v = scalar(n, where + ".no_route");
        if (v != "true" && v != "false")
            refuse(n, where + ".no_route: expected true or false");
        e.noRoute = v == "true";
    }
    e.route = optionalScalar(node, "route", where);
    e.rule = optionalScalar(node, "rule", where);
    e.backend = optionalScalar(node, "backend", where);
    if (const YAML::Node list = node["backends"]) {
        if (!list.IsSequence())
            refuse(list, where + ".backends: expected a list of backend names");
        e.backends.emplace();
        for (const YAML::Node &b : list)
            e.backends->push_back(scalar(b, where + ".backends"));
    }
    const bool any = e.route || e.rule || e.backend || e.backends;
    if (e.noRoute && any)
        refuse(node, where + ": no_route: true says the request matches nothing; it takes no route, rule or backend");
    if (!e.noRoute && !any)
        refuse(node, where + ": say what to expect: route, rule, backend, backends or no_route: true");
    return e;
}

RouteCheckCase readCase(const YAML::Node &node, size_t index)
{
    const std::string where = "tests[" + std::to_string(index) + ']';
    onlyKeys(node, where, {"name", "request", "expect"});
    RouteCheckCase c;
    c.line = node.Mark().line + 1;
    c.name = optionalScalar(node, "name", where).value_or(where);
    if (!node["request"])
        refuse(node, where + ": request is required");
    if (!node["expect"])
        refuse(node, where + ": expect is required");
    c.request = readRequest(node["request"], where + ".request");
    c.expect = readExpectation(node["expect"], where + ".expect");
    return c;
}

std::string at(const std::string &fileName, int line)
{
    return fileName + (line > 0 ? ':' + std::to_string(line) : std::string()) + ": ";
}

}  // namespace

RouteCheckFile parseRouteChecks(const std::string &text, const std::string &fileName)
{
    RouteCheckFile out;
    if (YamlGuardError refused; !checkYaml(text, &refused)) {
        out.error = at(fileName, refused.line) + refused.message;
        return out;
    }
    try {
        const YAML::Node root = YAML::Load(text);
        if (!root.IsMap() || !root["tests"] || !root["tests"].IsSequence())
            refuse(root, "expected a mapping with a list under 'tests'");
        onlyKeys(root, "top level", {"tests"});
        size_t i = 0;
        for (const YAML::Node &c : root["tests"])
            out.cases.push_back(readCase(c, i++));
    } catch (const YAML::Exception &ex) {
        out.error = at(fileName, ex.mark.line >= 0 ? ex.mark.line + 1 : 0) + "YAML syntax error: " + ex.msg;
    } catch (const CaseError &e) {
        out.error = at(fileName, e.line) + e.message;
    }
    if (!out.ok())
        out.cases.clear();
    return out;
}

RouteCheckFile loadRouteChecks(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        RouteCheckFile out;
        out.error = path + ": cannot read the file";
        return out;
    }
    std::stringstream text;
    text << in.rdbuf();
    return parseRouteChecks(text.str(), path);
}

namespace {

bool routeIs(const std::string &expected, const RouteDecision &d)
{
    if (expected.find('/') != std::string::npos)
        return expected == d.route;
    return d.route.substr(d.route.find('/') + 1) == expected;
}

bool ruleIs(const std::string &expected, const RouteDecision &d)
{
    const bool index = !expected.empty() && std::all_of(expected.begin(), expected.end(), ::isdigit);
    return expected == d.ruleName || (index && expected == std::to_string(d.ruleIndex));
}

std::vector<const RoutedBackend *> activeBackends(const RouteDecision &d)
{
    std::vector<const RoutedBackend *> out;
    for (const RoutedBackend &b : d.backends) {
        if (b.weight > 0)
            out.push_back(&b);
    }
    return out;
}

bool backendNamed(const RoutedBackend &b, const std::string &name) { return name == b.label || name == b.name; }

bool backendsAre(const std::vector<std::string> &expected, const RouteDecision &d)
{
    const auto active = activeBackends(d);
    const auto named = [&](const std::string &n) {
        return std::any_of(active.begin(), active.end(), [&](const RoutedBackend *b) { return backendNamed(*b, n); });
    };
    const auto listed = [&](const RoutedBackend *b) {
        return std::any_of(expected.begin(), expected.end(), [&](const std::string &n) { return backendNamed(*b, n); });
    };
    return std::all_of(expected.begin(), expected.end(), named) && std::all_of(active.begin(), active.end(), listed);
}

std::string expectationText(const RouteCheckExpectation &e)
{
    if (e.noRoute)
        return "no route";
    std::vector<std::string> parts;
    if (e.route)
        parts.push_back("route " + *e.route);
    if (e.rule)
        parts.push_back("rule " + *e.rule);
    if (e.backend)
        parts.push_back("backend " + *e.backend);
    if (e.backends) {
        std::string list;
        for (const std::string &b : *e.backends)
            list += (list.empty() ? "" : ", ") + b;
        parts.push_back("backends [" + list + ']');
    }
    std::string out;
    for (const std::string &p : parts)
        out += (out.empty() ? "" : ", ") + p;
    return out;
}

bool meets(const RouteCheckExpectation &e, const RouteDecision &d)
{
    if (e.noRoute || !d.matched())
        return e.noRoute == !d.matched();
    const auto active = activeBackends(d);
    return (!e.route || routeIs(*e.route, d)) && (!e.rule || ruleIs(*e.rule, d))
        && (!e.backend
            || std::any_of(
                active.begin(), active.end(), [&](const RoutedBackend *b) { return backendNamed(*b, *e.backend); }))
        && (!e.backends || backendsAre(*e.backends, d));
}

}  // namespace

RouteCheckOutcome runRouteCheck(const RouteCheckCase &check, const RouteMatcher &matcher)
{
    const RouteDecision d = matcher.match(check.request);
    return {meets(check.expect, d), expectationText(check.expect), d.describe()};
}

RouteCheckCase routeCheckFor(const RouteRequest &request, const RouteDecision &decision)
{
    RouteCheckCase c;
    c.request = request;
    c.name = request.method + ' ' + request.host + request.path;
    for (const auto &[name, value] : request.headers)
        c.name += ' ' + name + '=' + value;
    if (!decision.matched()) {
        c.expect.noRoute = true;
        return c;
    }
    c.expect.route = decision.route;
    c.expect.rule = decision.ruleName.empty() ? std::to_string(decision.ruleIndex) : decision.ruleName;
    const auto active = activeBackends(decision);
    if (active.size() == 1) {
        c.expect.backend = active.front()->label;
    } else if (!active.empty()) {
        c.expect.backends.emplace();
        for (const RoutedBackend *b : active)
            c.expect.backends->push_back(b->label);
    }
    return c;
}

namespace {

void emitExpectation(YAML::Emitter &e, const RouteCheckExpectation &x)
{
    e << YAML::Key << "expect" << YAML::Value << YAML::BeginMap;
    if (x.noRoute)
        e << YAML::Key << "no_route" << YAML::Value << true;
    if (x.route)
        emitKeyString(e, "route", *x.route);
    if (x.rule) {
        // An index as a number, so that it reads as one.
        const bool index = std::all_of(x.rule->begin(), x.rule->end(), ::isdigit) && !x.rule->empty();
        if (index)
            e << YAML::Key << "rule" << YAML::Value << std::stoi(*x.rule);
        else
            emitKeyString(e, "rule", *x.rule);
    }
    if (x.backend)
        emitKeyString(e, "backend", *x.backend);
    if (x.backends)
        emitStringList(e, "backends", *x.backends, YamlListStyle::Flow);
    e << YAML::EndMap;
}

void emitCase(YAML::Emitter &e, const RouteCheckCase &c)
{
    e << YAML::BeginMap;
    emitKeyString(e, "name", c.name);
    e << YAML::Key << "request" << YAML::Value << YAML::BeginMap;
    emitKeyString(e, "host", c.request.host);
    emitKeyString(e, "path", c.request.path);
    emitKeyString(e, "method", c.request.method);
    if (!c.request.headers.empty()) {
        e << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
        for (const auto &[name, value] : c.request.headers)
            emitKeyString(e, name, value);
        e << YAML::EndMap;
    }
    e << YAML::EndMap;
    emitExpectation(e, c.expect);
    e << YAML::EndMap;
}

}  // namespace

std::string routeChecksYaml(const std::vector<RouteCheckCase> &cases, const std::string &comment)
{
    YAML::Emitter e;
    e << YAML::BeginMap << YAML::Key << "tests" << YAML::Value << YAML::BeginSeq;
    for (const RouteCheckCase &c : cases)
        emitCase(e, c);
    e << YAML::EndSeq << YAML::EndMap;
    std::string head;
    std::istringstream lines(comment);
    for (std::string line; std::getline(lines, line);)
        head += "# " + line + '\n';
    return head + e.c_str() + '\n';
}

}  // namespace meshscope::routing

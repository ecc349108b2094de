#include "routing/routediff.h"

#include "routing/yaml/routeyaml.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace meshscope::routing {

namespace {

// Lines keep their '\n', so "x" at the end of a file without a newline differs from
// "x\n" and the diff can say so.
std::vector<std::string> splitLines(const std::string &text)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t nl = text.find('\n', pos);
        const size_t end = nl == std::string::npos ? text.size() : nl + 1;
        out.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return out;
}

struct Op {
    char kind;  // ' ', '-', '+'
    size_t a;  // index in before (for ' ' and '-')
    size_t b;  // index in after (for ' ' and '+')
};

// Myers' O(ND) shortest edit script on the lines between a common prefix and suffix.
// Past kMaxD edits it gives up on minimality and replaces the rest wholesale, which
// bounds time and memory on files that share nothing.
std::vector<Op> editScript(const std::vector<std::string> &a, const std::vector<std::string> &b)
{
    constexpr int kMaxD = 1000;
    std::vector<Op> ops;
    size_t pre = 0;
    while (pre < a.size() && pre < b.size() && a[pre] == b[pre])
        ++pre;
    size_t suf = 0;
    while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
        ++suf;
    for (size_t i = 0; i < pre; ++i)
        ops.push_back({' ', i, i});
    const int n = int(a.size() - pre - suf), m = int(b.size() - pre - suf);
    auto A = [&](int i) -> const std::string & { return a[pre + size_t(i)]; };
    auto B = [&](int j) -> const std::string & { return b[pre + size_t(j)]; };

    std::vector<Op> middle;
    const int max = n + m;
    // trace[d] holds v[-d..d] as it was when round d began: enough to walk back.
    std::vector<std::vector<int>> trace;
    std::vector<int> v(size_t(2 * max + 3), 0);
    const int off = max + 1;
    bool found = max == 0;
    for (int d = 0; d <= max && !found && d <= kMaxD; ++d) {
        trace.emplace_back(v.begin() + (off - d), v.begin() + (off + d + 1));
        for (int k = -d; k <= d; k += 2) {
            int x = (k == -d || (k != d && v[size_t(off + k - 1)] < v[size_t(off + k + 1)]))
                ? v[size_t(off + k + 1)]
                : v[size_t(off + k - 1)] + 1;
            int y = x - k;
            while (x < n && y < m && A(x) == B(y)) {
                ++x;
                ++y;
            }
            v[size_t(off + k)] = x;
            if (x >= n && y >= m) {
                found = true;
                break;
            }
        }
    }
    if (found && max > 0) {
        int x = n, y = m;
        for (int d = int(trace.size()) - 1; d >= 0; --d) {
            const std::vector<int> &vd = trace[size_t(d)];
            auto at = [&](int k) { return vd[size_t(k + d)]; };
            const int k = x - y;
            const int prevK = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? k + 1 : k - 1;
            const int prevX = d == 0 ? 0 : at(prevK);
            const int prevY = prevX - prevK;
            while (x > prevX && y > prevY) {
                --x;
                --y;
                middle.push_back({' ', pre + size_t(x), pre + size_t(y)});
            }
            if (d > 0) {
                if (x == prevX)
                    middle.push_back({'+', 0, pre + size_t(prevY)});
                else
                    middle.push_back({'-', pre + size_t(prevX), 0});
            }
            x = prevX;
            y = prevY;
        }
        std::reverse(middle.begin(), middle.end());
    } else if (!found) {
        for (int i = 0; i < n; ++i)
            middle.push_back({'-', pre + size_t(i), 0});
        for (int j = 0; j < m; ++j)
            middle.push_back({'+', 0, pre + size_t(j)});
    }
    ops.insert(ops.end(), middle.begin(), middle.end());
    for (size_t i = 0; i < suf; ++i)
        ops.push_back({' ', a.size() - suf + i, b.size() - suf + i});
    return ops;
}

std::string range(size_t start, size_t count)
{
    // GNU diff: "l" for one line, "l,n" otherwise; an empty range names the line before.
    if (count == 1)
        return std::to_string(start + 1);
    return std::to_string(count == 0 ? start : start + 1) + ',' + std::to_string(count);
}

std::string ruleKey(const RouteRule &r, size_t i) { return r.name.empty() ? "#" + std::to_string(i) : r.name; }

std::string ruleTitle(const RouteRule &r, size_t i)
{
    return r.name.empty() ? "rules[" + std::to_string(i) + "]" : "rule '" + r.name + "'";
}

std::string backendKey(const BackendRef &b)
{
    return (b.ns.empty() ? std::string() : b.ns + '/') + b.name
        + (b.port ? ':' + std::to_string(b.port) : std::string());
}

// How a backend is shown: the port only matters to tell two references apart.
std::string backendName(const BackendRef &b) { return (b.ns.empty() ? std::string() : b.ns + '/') + b.name; }

std::string durationText(const std::optional<int64_t> &ms) { return ms ? formatDuration(*ms) : std::string("unset"); }

std::string number(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string describeMatch(const RouteMatch &m)
{
    std::string s;
    const PathMatch p = m.path.value_or(PathMatch {});
    s += p.type == PathMatchType::Exact ? "path=" : p.type == PathMatchType::PathPrefix ? "prefix=" : "regex=";
    s += p.value;
    for (const HeaderMatch &h : m.headers)
        s += " header " + h.name + (h.type == StringMatchType::Exact ? "=" : "~") + h.value;
    for (const QueryParamMatch &q : m.queryParams)
        s += " query " + q.name + (q.type == StringMatchType::Exact ? "=" : "~") + q.value;
    if (!m.method.empty())
        s += " method=" + m.method;
    return s;
}

std::string describeMatches(const std::vector<RouteMatch> &ms)
{
    std::string s;
    for (const RouteMatch &m : ms)
        s += (s.empty() ? "" : " | ") + describeMatch(m);
    return "[" + s + "]";
}

std::string describeRetry(const std::optional<RetryPolicy> &r)
{
    if (!r)
        return "none";
    std::string s = "attempts=" + std::to_string(r->attempts);
    if (!r->codes.empty()) {
        s += " codes=";
        for (size_t i = 0; i < r->codes.size(); ++i)
            s += (i ? "," : "") + std::to_string(r->codes[i]);
    }
    if (!r->retryOn.empty()) {
        s += " retryOn=";
        for (size_t i = 0; i < r->retryOn.size(); ++i)
            s += (i ? "," : "") + r->retryOn[i];
    }
    if (r->perTryTimeoutMs)
        s += " perTryTimeout=" + formatDuration(*r->perTryTimeoutMs);
    if (r->backoffMs)
        s += " backoff=" + formatDuration(*r->backoffMs);
    return s;
}

std::string describeFault(const std::optional<FaultInjection> &f)
{
    if (!f)
        return "none";
    std::string s;
    if (f->delayMs)
        s += "delay " + formatDuration(*f->delayMs) + " for " + number(f->delayPercent) + "%";
    if (f->abortHttpStatus)
        s += (s.empty() ? "" : ", ") + std::string("abort ") + std::to_string(*f->abortHttpStatus) + " for "
            + number(f->abortPercent) + "%";
    return s;
}

std::string describeMirror(const std::optional<RequestMirror> &m)
{
    return m ? backendKey(m->backend) + " " + number(m->percent) + "%" : std::string("none");
}

std::string describeHeaders(const HeaderModifier &h)
{
    if (h.empty())
        return "none";
    std::string s;
    for (const auto &[k, v] : h.set)
        s += (s.empty() ? "" : ", ") + std::string("set ") + k + "=" + v;
    for (const auto &[k, v] : h.add)
        s += (s.empty() ? "" : ", ") + std::string("add ") + k + "=" + v;
    for (const std::string &k : h.remove)
        s += (s.empty() ? "" : ", ") + std::string("remove ") + k;
    return s;
}

template <typename T>
std::string joinList(const std::vector<T> &items)
{
    std::string s;
    for (const T &i : items)
        s += (s.empty() ? "" : ", ") + i;
    return "[" + s + "]";
}

void diffRule(const std::string &prefix, const RouteRule &a, const RouteRule &b, std::vector<std::string> &out)
{
    auto changed = [&](const std::string &what, const std::string &from, const std::string &to) {
        if (from != to)
            out.push_back(prefix + what + ' ' + from + " -> " + to);
    };
    changed("matches", describeMatches(a.matches), describeMatches(b.matches));
    // Backends: by identity, so a weight change reads as one line, not remove + add.
    std::map<std::string, const BackendRef *> before;
    for (const BackendRef &x : a.backends)
        before.emplace(backendKey(x), &x);
    std::map<std::string, const BackendRef *> after;
    for (const BackendRef &x : b.backends)
        after.emplace(backendKey(x), &x);
    for (const BackendRef &x : a.backends) {
        if (!after.count(backendKey(x)))
            out.push_back(prefix + "backend " + backendName(x) + " removed (weight " + std::to_string(x.weight) + ")");
    }
    for (const BackendRef &x : b.backends) {
        const auto it = before.find(backendKey(x));
        if (it == before.end())
            out.push_back(prefix + "backend " + backendName(x) + " added (weight " + std::to_string(x.weight) + ")");
        else if (it->second->weight != x.weight)
            out.push_back(prefix + "backend " + backendName(x) + " weight " + std::to_string(it->second->weight)
                + " -> " + std::to_string(x.weight));
    }
    changed("timeouts.request", durationText(a.timeoutMs), durationText(b.timeoutMs));
    changed("timeouts.backendRequest", durationText(a.backendTimeoutMs), durationText(b.backendTimeoutMs));
    changed("retry", describeRetry(a.retry), describeRetry(b.retry));
    changed("fault", describeFault(a.fault), describeFault(b.fault));
    changed("mirror", describeMirror(a.mirror), describeMirror(b.mirror));
    changed("request headers", describeHeaders(a.requestHeaders), describeHeaders(b.requestHeaders));
    changed("response headers", describeHeaders(a.responseHeaders), describeHeaders(b.responseHeaders));
}

void diffRoute(const HttpRoute &a, const HttpRoute &b, std::vector<std::string> &out)
{
    const std::string doc = "HTTPRoute " + b.ns + '/' + b.name + ": ";
    if (a.hostnames != b.hostnames)
        out.push_back(doc + "hostnames " + joinList(a.hostnames) + " -> " + joinList(b.hostnames));
    std::map<std::string, size_t> before;
    std::vector<std::string> orderBefore, orderAfter;
    for (size_t i = 0; i < a.rules.size(); ++i) {
        before.emplace(ruleKey(a.rules[i], i), i);
    }
    std::map<std::string, size_t> after;
    for (size_t i = 0; i < b.rules.size(); ++i)
        after.emplace(ruleKey(b.rules[i], i), i);
    for (size_t i = 0; i < a.rules.size(); ++i) {
        if (!after.count(ruleKey(a.rules[i], i)))
            out.push_back(doc + ruleTitle(a.rules[i], i) + " removed");
        else
            orderBefore.push_back(ruleKey(a.rules[i], i));
    }
    for (size_t i = 0; i < b.rules.size(); ++i) {
        const auto it = before.find(ruleKey(b.rules[i], i));
        if (it == before.end()) {
            out.push_back(doc + ruleTitle(b.rules[i], i) + " added");
            continue;
        }
        orderAfter.push_back(ruleKey(b.rules[i], i));
        diffRule(doc + ruleTitle(b.rules[i], i) + ' ', a.rules[it->second], b.rules[i], out);
    }
    // Order is meaning (first match wins), so a reordering is a change of its own.
    if (orderBefore != orderAfter) {
        std::string from, to;
        for (const std::string &k : orderBefore)
            from += (from.empty() ? "" : ", ") + k;
        for (const std::string &k : orderAfter)
            to += (to.empty() ? "" : ", ") + k;
        out.push_back(doc + "rules reordered: " + from + " -> " + to);
    }
}

std::string endpointsText(const EndpointSlice &s)
{
    std::string t;
    for (const Endpoint &e : s.endpoints)
        t += (t.empty() ? "" : ", ") + e.address + (e.ready ? "" : " (not ready)");
    return "[" + t + "]";
}

void diffSlice(const EndpointSlice &a, const EndpointSlice &b, std::vector<std::string> &out)
{
    const std::string doc = "EndpointSlice " + b.ns + '/' + b.name + ": ";
    if (a.serviceName != b.serviceName)
        out.push_back(doc + "service " + a.serviceName + " -> " + b.serviceName);
    if (a.port != b.port || a.portName != b.portName)
        out.push_back(doc + "port " + std::to_string(a.port) + (a.portName.empty() ? "" : " (" + a.portName + ")")
            + " -> " + std::to_string(b.port) + (b.portName.empty() ? "" : " (" + b.portName + ")"));
    if (!(a.endpoints == b.endpoints))
        out.push_back(doc + "endpoints " + endpointsText(a) + " -> " + endpointsText(b));
}

}  // namespace

std::string briefUnifiedDiff(const std::string &before, const std::string &after, size_t maxLines)
{
    const std::string full = unifiedDiff(before, after);
    size_t lines = 0, at = 0;
    while (at < full.size() && lines < maxLines) {
        const size_t eol = full.find('\n', at);
        at = eol == std::string::npos ? full.size() : eol + 1;
        ++lines;
    }
    if (at >= full.size())
        return full;
    const size_t more = size_t(std::count(full.begin() + long(at), full.end(), '\n')) + (full.back() == '\n' ? 0 : 1);
    return full.substr(0, at) + "… " + std::to_string(more) + (more == 1 ? " more line" : " more lines");
}

std::string unifiedDiff(const std::string &before, const std::string &after, const std::string &beforeName,
    const std::string &afterName, int context)
{
    if (before == after)
        return {};
    const std::vector<std::string> a = splitLines(before), b = splitLines(after);
    const std::vector<Op> ops = editScript(a, b);
    // Line numbers before each op, to label hunks.
    std::vector<size_t> aAt(ops.size() + 1, 0), bAt(ops.size() + 1, 0);
    for (size_t i = 0; i < ops.size(); ++i) {
        aAt[i + 1] = aAt[i] + (ops[i].kind != '+' ? 1 : 0);
        bAt[i + 1] = bAt[i] + (ops[i].kind != '-' ? 1 : 0);
    }
    std::string out = "--- " + beforeName + "\n+++ " + afterName + "\n";
    const size_t ctx = size_t(std::max(context, 0));
    size_t i = 0;
    while (i < ops.size()) {
        if (ops[i].kind == ' ') {
            ++i;
            continue;
        }
        const size_t start = i > ctx ? i - ctx : 0;
        size_t last = i;  // last changed op in this hunk
        size_t j = i;
        while (j < ops.size()) {
            if (ops[j].kind != ' ') {
                last = j;
                ++j;
                continue;
            }
            size_t k = j;
            while (k < ops.size() && ops[k].kind == ' ')
                ++k;
            if (k < ops.size() && k - j <= 2 * ctx)
                j = k;  // the next change is close enough to share this hunk
            else
                break;
        }
        const size_t end = std::min(ops.size(), last + 1 + ctx);
        out += "@@ -" + range(aAt[start], aAt[end] - aAt[start]) + " +" + range(bAt[start], bAt[end] - bAt[start])
            + " @@\n";
        for (size_t o = start; o < end; ++o) {
            const std::string &line = ops[o].kind == '+' ? b[ops[o].b] : a[ops[o].a];
            out += ops[o].kind;
            out += line;
            if (line.empty() || line.back() != '\n')
                out += "\n\\ No newline at end of file\n";
        }
        i = end;
    }
    return out;
}

std::vector<std::string> summarizeChanges(const RouteSet &before, const RouteSet &after)
{
    std::vector<std::string> out;
    for (const HttpRoute &a : before.routes) {
        if (!after.route(a.ns, a.name))
            out.push_back("HTTPRoute " + a.ns + '/' + a.name + " removed");
    }
    for (const HttpRoute &b : after.routes) {
        if (const HttpRoute *a = before.route(b.ns, b.name))
            diffRoute(*a, b, out);
        else
            out.push_back("HTTPRoute " + b.ns + '/' + b.name + " added (" + std::to_string(b.rules.size()) + " rules)");
    }
    auto findSlice = [](const RouteSet &set, const EndpointSlice &s) -> const EndpointSlice * {
        for (const EndpointSlice &x : set.endpointSlices) {
            if (x.ns == s.ns && x.name == s.name)
                return &x;
        }
        return nullptr;
    };
    for (const EndpointSlice &a : before.endpointSlices) {
        if (!findSlice(after, a))
            out.push_back("EndpointSlice " + a.ns + '/' + a.name + " removed");
    }
    for (const EndpointSlice &b : after.endpointSlices) {
        if (const EndpointSlice *a = findSlice(before, b))
            diffSlice(*a, b, out);
        else
            out.push_back("EndpointSlice " + b.ns + '/' + b.name + " added (service " + b.serviceName + ", "
                + std::to_string(b.endpoints.size()) + " endpoints)");
    }
    return out;
}

RouteDiff diffRouteSets(const RouteSet &before, const RouteSet &after)
{
    RouteDiff d;
    d.unified = unifiedDiff(toYaml(before), toYaml(after));
    d.summary = summarizeChanges(before, after);
    return d;
}

std::set<std::string> changedBackends(const RouteSet &before, const RouteSet &after)
{
    std::set<std::string> out;
    auto addRule = [&out](const RouteRule &rule, const std::string &routeNs) {
        for (const BackendRef &b : rule.backends)
            out.insert(backendNamespace(b, routeNs) + "/" + b.name);
    };
    auto compare = [&addRule](const HttpRoute &mine, const HttpRoute *theirs) {
        for (size_t i = 0; i < mine.rules.size(); ++i) {
            if (!theirs || i >= theirs->rules.size() || !(mine.rules[i] == theirs->rules[i]))
                addRule(mine.rules[i], mine.ns);
        }
    };
    for (const HttpRoute &r : after.routes)
        compare(r, before.route(r.ns, r.name));
    for (const HttpRoute &r : before.routes)
        compare(r, after.route(r.ns, r.name));
    return out;
}

}  // namespace meshscope::routing

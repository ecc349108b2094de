#include "routing/routevalidator.h"

#include "model/text.h"

#include <re2/re2.h>

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

namespace meshscope::routing {

namespace {

constexpr int kMaxWeight = 1000000;  // Gateway API's BackendRef.weight maximum

const char *targetLabel(DataPlane t)
{
    switch (t) {
    case DataPlane::Generic: return "generic";
    case DataPlane::XdsGrpc: return "gRPC 1.51 (xds-grpc)";
    case DataPlane::Envoy: return "Envoy";
    case DataPlane::Caddy: return "Caddy 2.6.2";
    }
    return "generic";
}

bool needsAddresses(DataPlane t) { return t != DataPlane::Generic; }

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string indexed(const std::string &base, size_t i) { return base + '[' + std::to_string(i) + ']'; }

// The field path of one of the rule's filters, e.g. "filters[2].requestMirror": as
// written in the file when the loader saw it, else at the position toYaml gives it
// (header modifiers, mirror, fault, in that order).
std::string filterField(const RouteRule &rule, const std::string &key)
{
    for (const auto &[field, line] : rule.source.fieldLines) {
        (void)line;
        const size_t close = field.find("].");
        if (field.rfind("filters[", 0) == 0 && close != std::string::npos
            && field.compare(close + 2, std::string::npos, key) == 0)
            return field;
    }
    size_t index = 0;
    const std::pair<const char *, bool> order[] = {{"requestHeaderModifier", !rule.requestHeaders.empty()},
        {"responseHeaderModifier", !rule.responseHeaders.empty()}, {"requestMirror", rule.mirror.has_value()},
        {"meshscope.io/faultInjection", rule.fault.has_value()}};
    for (const auto &[name, present] : order) {
        if (key == name)
            break;
        index += present ? 1 : 0;
    }
    return indexed("filters", index) + '.' + key;
}

std::string ruleLabel(const RouteRule &rule, size_t i) { return rule.name.empty() ? indexed("rules", i) : rule.name; }

// "rule 'canary' (rules[1])" or "rules[1]": how a message names another rule.
std::string ruleMention(const RouteRule &rule, size_t i)
{
    return rule.name.empty() ? indexed("rules", i) : "rule '" + rule.name + "' (" + indexed("rules", i) + ")";
}

std::string routeDocument(const HttpRoute &r) { return "HTTPRoute " + r.ns + '/' + r.name; }

std::string sliceDocument(const EndpointSlice &s) { return "EndpointSlice " + s.ns + '/' + s.name; }

std::string where(const SourceRef &s)
{
    return (s.file.empty() ? std::string("<input>") : s.file)
        + (s.line > 0 ? ':' + std::to_string(s.line) : std::string());
}

// Compiles quietly: RE2 would otherwise log every bad pattern to stderr.
std::unique_ptr<RE2> compile(const std::string &pattern)
{
    RE2::Options opts;
    opts.set_log_errors(false);
    return std::make_unique<RE2>(pattern, opts);
}

bool fullMatch(const std::string &text, const std::string &pattern)
{
    const auto re = compile(pattern);
    return re->ok() && RE2::FullMatch(text, *re);
}

// RFC 7230 token characters: what a header name may consist of.
// Names, hosts, paths and header values end up in protobuf strings (which must be
// UTF-8), Istio YAML and terminals: invalid UTF-8 or a control character is refused
// here rather than surfacing as a serving error or raw bytes in an export.
const char *textProblem(const std::string &s)
{
    if (!isValidUtf8(s))
        return "is not valid UTF-8";
    for (const char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "holds a control character";
    }
    return nullptr;
}

bool isToken(const std::string &s)
{
    static const std::string extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || extra.find(char(c)) != std::string::npos;
    });
}

bool isIp(const std::string &s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// What a gRPC client reports for an HTTP status without grpc-status (gRPC's
// doc/http-grpc-status-mapping.md), which is how gRFC A33 aborts with http_status.
const char *grpcStatusForHttp(int status)
{
    switch (status) {
    case 400: return "INTERNAL (13)";
    case 401: return "UNAUTHENTICATED (16)";
    case 403: return "PERMISSION_DENIED (7)";
    case 404: return "UNIMPLEMENTED (12)";
    case 429:
    case 502:
    case 503:
    case 504: return "UNAVAILABLE (14)";
    }
    return "UNKNOWN (2)";
}

// Envoy's router retry_on conditions, HTTP and gRPC.
const std::set<std::string> &envoyRetryOn()
{
    static const std::set<std::string> s = {"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
        "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
        "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
        "unavailable"};
    return s;
}

// What gRPC's xDS retry support (gRFC A44) reads from retry_on; the rest is ignored.
const std::set<std::string> &grpcRetryOn()
{
    static const std::set<std::string> s
        = {"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"};
    return s;
}

class Validator {
public:
    Validator(const RouteSet &set, DataPlane target)
        : m_set(set)
        , m_target(target)
    {
    }

    std::vector<RouteIssue> run()
    {
        checkDuplicates();
        for (const HttpRoute &r : m_set.routes)
            checkRoute(r);
        checkShadowing();
        for (const EndpointSlice &s : m_set.endpointSlices)
            checkSlice(s);
        return std::move(m_issues);
    }

private:
    void add(Severity sev, const std::string &document, const std::string &rule, const std::string &field,
        std::string message, const SourceRef &owner)
    {
        RouteIssue i;
        i.severity = sev;
        i.document = document;
        i.rule = rule;
        i.field = field;
        i.message = std::move(message);
        i.source.file = owner.file;
        i.source.documentIndex = owner.documentIndex;
        i.source.line = owner.lineOf(field);
        m_issues.push_back(std::move(i));
    }

    // An issue inside one rule; its line is the field's if the loader saw it.
    void ruleIssue(Severity sev, const HttpRoute &r, const RouteRule &rule, size_t i, const std::string &field,
        std::string message)
    {
        SourceRef owner = rule.source;
        if (owner.file.empty())
            owner.file = r.source.file;
        if (owner.line == 0)
            owner.line = r.source.line;
        add(sev, routeDocument(r), ruleLabel(rule, i), field, std::move(message), owner);
    }

    void checkDuplicates()
    {
        std::map<std::pair<std::string, std::string>, const HttpRoute *> routes;
        for (const HttpRoute &r : m_set.routes) {
            if (r.name.empty()) {
                add(Severity::Error, "HTTPRoute " + r.ns + "/<unnamed>", {}, "metadata.name", "required", r.source);
                continue;
            }
            const auto [it, fresh] = routes.emplace(std::make_pair(r.ns, r.name), &r);
            if (!fresh)
                add(Severity::Error, routeDocument(r), {}, "metadata.name",
                    "duplicate HTTPRoute " + r.ns + '/' + r.name + ": first defined at " + where(it->second->source),
                    r.source);
        }
        std::map<std::pair<std::string, std::string>, const EndpointSlice *> slices;
        for (const EndpointSlice &s : m_set.endpointSlices) {
            if (s.name.empty()) {
                add(Severity::Error, "EndpointSlice " + s.ns + "/<unnamed>", {}, "metadata.name", "required", s.source);
                continue;
            }
            const auto [it, fresh] = slices.emplace(std::make_pair(s.ns, s.name), &s);
            if (!fresh)
                add(Severity::Error, sliceDocument(s), {}, "metadata.name",
                    "duplicate EndpointSlice " + s.ns + '/' + s.name + ": first defined at "
                        + where(it->second->source),
                    s.source);
        }
    }

    void checkHostnames(const HttpRoute &r)
    {
        // Gateway API Hostname: lowercase RFC 1123 labels, optionally "*." first; no IPs, no ports.
        static const RE2 hostname(R"((\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)");
        for (size_t i = 0; i < r.hostnames.size(); ++i) {
            const std::string &h = r.hostnames[i];
            const std::string field = indexed("spec.hostnames", i);
            if (isIp(h))
                add(Severity::Error, routeDocument(r), {}, field,
                    "'" + h + "' is an IP address; Gateway API hostnames are names", r.source);
            else if (h.size() > 253 || !RE2::FullMatch(h, hostname))
                add(Severity::Error, routeDocument(r), {}, field,
                    "'" + h
                        + "' is not a valid hostname (lowercase RFC 1123 labels, optionally starting with '*.', no "
                          "port)",
                    r.source);
        }
    }

    void checkRegex(
        const HttpRoute &r, const RouteRule &rule, size_t i, const std::string &field, const std::string &pattern)
    {
        const auto re = compile(pattern);
        if (!re->ok())
            ruleIssue(Severity::Error, r, rule, i, field,
                "regex does not compile under RE2: " + re->error() + " (pattern '" + pattern + "')");
    }

    void checkMatch(const HttpRoute &r, const RouteRule &rule, size_t i, const RouteMatch &m, const std::string &f)
    {
        if (m.path) {
            const PathMatch &p = *m.path;
            if (p.type == PathMatchType::RegularExpression) {
                checkRegex(r, rule, i, f + ".path.value", p.value);
            } else {
                if (p.value.empty() || p.value[0] != '/')
                    ruleIssue(Severity::Error, r, rule, i, f + ".path.value", "'" + p.value + "' must start with '/'");
                if (m_target == DataPlane::Caddy && p.type == PathMatchType::Exact
                    && p.value.find('*') != std::string::npos)
                    ruleIssue(Severity::Error, r, rule, i, f + ".path.value",
                        "refused for Caddy 2.6.2: its path matcher reads '*' as a wildcard, so '" + p.value
                            + "' would not match exactly");
            }
        }
        std::set<std::string> seen;
        for (size_t k = 0; k < m.headers.size(); ++k) {
            const HeaderMatch &h = m.headers[k];
            const std::string hf = indexed(f + ".headers", k);
            if (!isToken(h.name))
                ruleIssue(Severity::Error, r, rule, i, hf + ".name", "'" + h.name + "' is not a valid header name");
            else if (!seen.insert(lower(h.name)).second)
                ruleIssue(Severity::Warning, r, rule, i, hf + ".name",
                    "header '" + h.name + "' is matched twice in one match; Gateway API considers only the first");
            if (h.type == StringMatchType::RegularExpression)
                checkRegex(r, rule, i, hf + ".value", h.value);
            else if (m_target == DataPlane::Caddy && h.value.find('*') != std::string::npos)
                ruleIssue(Severity::Error, r, rule, i, hf + ".value",
                    "refused for Caddy 2.6.2: its header matcher reads '*' as a wildcard, so '" + h.value
                        + "' would not match exactly");
        }
        for (size_t k = 0; k < m.queryParams.size(); ++k) {
            const QueryParamMatch &q = m.queryParams[k];
            const std::string qf = indexed(f + ".queryParams", k);
            if (q.name.empty())
                ruleIssue(Severity::Error, r, rule, i, qf + ".name", "must not be empty");
            if (q.type == StringMatchType::RegularExpression) {
                checkRegex(r, rule, i, qf + ".value", q.value);
                if (m_target == DataPlane::Caddy)
                    ruleIssue(Severity::Error, r, rule, i, qf + ".type",
                        "refused for Caddy 2.6.2: its query matcher compares exact values only");
            }
        }
        if (!m.queryParams.empty() && m_target == DataPlane::XdsGrpc)
            ruleIssue(Severity::Error, r, rule, i, f + ".queryParams",
                "refused for gRPC 1.51 (xds-grpc): gRPC ignores every route that matches query parameters "
                "(gRFC A28), so this rule would silently never apply");
        if (!m.method.empty()) {
            static const std::set<std::string> methods
                = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
            if (!methods.count(m.method))
                ruleIssue(Severity::Error, r, rule, i, f + ".method",
                    "'" + m.method
                        + "' is not an HTTP method (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, "
                          "TRACE, PATCH)");
            else if (m_target == DataPlane::XdsGrpc && m.method != "POST")
                ruleIssue(Severity::Warning, r, rule, i, f + ".method",
                    "gRPC calls are always POST, so this match never matches a gRPC client");
        }
    }

    // Unknown or unusable backends: a data plane needs addresses to send traffic to.
    void checkBackendTarget(
        const HttpRoute &r, const RouteRule &rule, size_t i, const BackendRef &b, const std::string &f)
    {
        const auto slices = m_set.slicesFor(b, r.ns);
        const std::string ns = backendNamespace(b, r.ns);
        if (slices.empty()) {
            ruleIssue(needsAddresses(m_target) ? Severity::Error : Severity::Warning, r, rule, i, f + ".name",
                "unknown backend '" + b.name + "': no EndpointSlice labelled kubernetes.io/service-name=" + b.name
                    + " in namespace " + ns
                    + (needsAddresses(m_target)
                            ? std::string(", so ") + targetLabel(m_target) + " would have no address to send to"
                            : std::string()));
            return;
        }
        if (!needsAddresses(m_target))
            return;
        size_t ready = 0;
        for (const EndpointSlice *s : slices) {
            m_referencedSlices.insert(s);
            for (const Endpoint &e : s->endpoints)
                ready += e.ready ? 1 : 0;
            if (dialPort(b, *s) == 0)
                ruleIssue(Severity::Error, r, rule, i, f + ".port",
                    "no port to dial: " + sliceDocument(*s) + " lists no ports and the reference sets none");
        }
        if (ready == 0)
            ruleIssue(Severity::Warning, r, rule, i, f + ".name",
                "backend '" + b.name + "' has no ready endpoints; requests sent to it fail");
    }

    size_t readyEndpoints(const BackendRef &b, const std::string &routeNs) const
    {
        size_t n = 0;
        for (const EndpointSlice *s : m_set.slicesFor(b, routeNs)) {
            for (const Endpoint &e : s->endpoints)
                n += e.ready ? 1 : 0;
        }
        return n;
    }

    void checkBackends(const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        if (rule.backends.empty()) {
            ruleIssue(Severity::Error, r, rule, i, "backendRefs", "no backendRefs: no traffic would be routed");
            return;
        }
        int64_t sum = 0;
        bool negative = false;
        std::set<std::tuple<std::string, std::string, int>> seen;
        for (size_t k = 0; k < rule.backends.size(); ++k) {
            const BackendRef &b = rule.backends[k];
            const std::string f = indexed("backendRefs", k);
            if (b.name.empty()) {
                ruleIssue(Severity::Error, r, rule, i, f + ".name", "required");
                continue;
            }
            if (b.weight < 0) {
                negative = true;
                ruleIssue(
                    Severity::Error, r, rule, i, f + ".weight", "weight " + std::to_string(b.weight) + " is negative");
            } else if (b.weight > kMaxWeight) {
                ruleIssue(Severity::Error, r, rule, i, f + ".weight",
                    "weight " + std::to_string(b.weight) + " exceeds Gateway API's maximum of 1000000");
            } else {
                sum += b.weight;
            }
            if (b.port < 0 || b.port > 65535)
                ruleIssue(Severity::Error, r, rule, i, f + ".port", std::to_string(b.port) + " is not a port");
            if (!seen.emplace(backendNamespace(b, r.ns), b.name, b.port).second)
                ruleIssue(Severity::Warning, r, rule, i, f,
                    "backend '" + b.name + "' is listed twice in this rule; its weights add up");
            checkBackendTarget(r, rule, i, b, f);
        }
        if (sum == 0 && !negative)
            ruleIssue(
                Severity::Error, r, rule, i, "backendRefs", "every backend has weight 0: no traffic would be routed");
        if (m_target == DataPlane::Caddy && !negative)
            checkCaddyWeights(r, rule, i);
    }

    // Caddy 2.6.2 has no weighted round robin (PROTOCOLS.md "Quirks"): it can send all
    // traffic to one backend, or spread it evenly over every upstream address.
    void checkCaddyWeights(const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        std::vector<const BackendRef *> active;
        std::string weights;
        for (const BackendRef &b : rule.backends) {
            weights += (weights.empty() ? "" : "/") + std::to_string(b.weight);
            if (b.weight > 0)
                active.push_back(&b);
        }
        if (active.size() <= 1)
            return;
        const bool equal = std::all_of(
            active.begin(), active.end(), [&](const BackendRef *b) { return b->weight == active.front()->weight; });
        if (!equal) {
            ruleIssue(Severity::Error, r, rule, i, "backendRefs",
                "refused for Caddy 2.6.2: it has no weighted round robin, so weights " + weights
                    + " cannot be expressed; use equal weights, or weight 0 for all but one backend");
            return;
        }
        // Equal weights become one round-robin pool of every address, which is only an
        // even split per backend when each backend has as many ready addresses.
        std::string counts;
        bool same = true;
        const size_t first = readyEndpoints(*active.front(), r.ns);
        for (const BackendRef *b : active) {
            const size_t n = readyEndpoints(*b, r.ns);
            same = same && n == first;
            counts += (counts.empty() ? "" : ", ") + b->name + ": " + std::to_string(n);
        }
        if (!same)
            ruleIssue(Severity::Error, r, rule, i, "backendRefs",
                "refused for Caddy 2.6.2: without weighted round robin, equal weights split traffic by ready "
                "address count ("
                    + counts + "); give each backend the same number of addresses");
    }

    void checkTimeouts(const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        if (rule.timeoutMs && *rule.timeoutMs < 0)
            ruleIssue(Severity::Error, r, rule, i, "timeouts.request", "must not be negative");
        if (rule.backendTimeoutMs && *rule.backendTimeoutMs < 0)
            ruleIssue(Severity::Error, r, rule, i, "timeouts.backendRequest", "must not be negative");
        // Gateway API: 0 disables a timeout; backendRequest may not outlast request.
        if (rule.timeoutMs && rule.backendTimeoutMs && *rule.timeoutMs > 0 && *rule.backendTimeoutMs > *rule.timeoutMs)
            ruleIssue(Severity::Error, r, rule, i, "timeouts.backendRequest",
                std::to_string(*rule.backendTimeoutMs) + " ms exceeds timeouts.request ("
                    + std::to_string(*rule.timeoutMs) + " ms)");
        if (m_target == DataPlane::Caddy && rule.timeoutMs && *rule.timeoutMs > 0)
            ruleIssue(Severity::Warning, r, rule, i, "timeouts.request",
                "not enforced by Caddy 2.6.2, which has no per-route request timeout");
    }

    void checkRetry(const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        if (!rule.retry)
            return;
        const RetryPolicy &p = *rule.retry;
        const std::string onField = "retry.meshscope.io/retryOn";
        if (p.attempts < 0)
            ruleIssue(Severity::Error, r, rule, i, "retry.attempts", "must not be negative");
        if (p.backoffMs && *p.backoffMs < 0)
            ruleIssue(Severity::Error, r, rule, i, "retry.backoff", "must not be negative");
        if (p.perTryTimeoutMs && *p.perTryTimeoutMs < 0)
            ruleIssue(Severity::Error, r, rule, i, "retry.meshscope.io/perTryTimeout", "must not be negative");
        for (size_t k = 0; k < p.codes.size(); ++k) {
            if (p.codes[k] < 400 || p.codes[k] > 599)
                ruleIssue(Severity::Error, r, rule, i, indexed("retry.codes", k),
                    std::to_string(p.codes[k]) + " is not a retriable status (400-599)");
        }
        for (size_t k = 0; k < p.retryOn.size(); ++k) {
            if (!envoyRetryOn().count(p.retryOn[k]))
                ruleIssue(Severity::Warning, r, rule, i, indexed(onField, k),
                    "unknown retry condition '" + p.retryOn[k] + "'; data planes ignore it");
        }
        if (m_target == DataPlane::XdsGrpc) {
            bool effective = false;
            for (size_t k = 0; k < p.retryOn.size(); ++k) {
                if (grpcRetryOn().count(p.retryOn[k]))
                    effective = true;
                else if (envoyRetryOn().count(p.retryOn[k]))
                    ruleIssue(Severity::Warning, r, rule, i, indexed(onField, k),
                        "'" + p.retryOn[k]
                            + "' is ignored by gRPC 1.51, which retries only on cancelled, deadline-exceeded, "
                              "internal, resource-exhausted and unavailable");
            }
            if (!p.codes.empty())
                ruleIssue(Severity::Warning, r, rule, i, "retry.codes",
                    "ignored by gRPC 1.51: gRPC retries on status names (meshscope.io/retryOn), not HTTP codes");
            if (!effective && p.attempts > 0)
                ruleIssue(Severity::Warning, r, rule, i, "retry",
                    "a gRPC client would retry nothing: name a gRPC status in meshscope.io/retryOn, e.g. "
                    "unavailable");
            if (p.attempts > 4)
                ruleIssue(Severity::Warning, r, rule, i, "retry.attempts",
                    "gRPC caps a call at 5 attempts, so at most 4 retries happen");
        }
        if (m_target == DataPlane::Caddy) {
            if (!p.codes.empty())
                ruleIssue(Severity::Warning, r, rule, i, "retry.codes",
                    "converted for Caddy 2.6.2: it retries only requests whose upstream could not be reached "
                    "(load_balancing.retries); responses with these codes are not retried");
            if (!p.retryOn.empty())
                ruleIssue(Severity::Warning, r, rule, i, onField,
                    "ignored by Caddy 2.6.2: it retries only requests whose upstream could not be reached");
        }
    }

    void checkFault(const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        if (!rule.fault)
            return;
        const FaultInjection &f = *rule.fault;
        const std::string base = filterField(rule, "meshscope.io/faultInjection");
        if (!f.delayMs && !f.abortHttpStatus)
            ruleIssue(Severity::Error, r, rule, i, base, "needs a delay, an abort or both");
        if (f.delayMs && *f.delayMs < 0)
            ruleIssue(Severity::Error, r, rule, i, base + ".delay.fixedDelay", "must not be negative");
        if (f.delayMs && (f.delayPercent < 0 || f.delayPercent > 100))
            ruleIssue(Severity::Error, r, rule, i, base + ".delay.percent", "must be between 0 and 100");
        if (f.abortHttpStatus && (*f.abortHttpStatus < 200 || *f.abortHttpStatus > 599))
            ruleIssue(Severity::Error, r, rule, i, base + ".abort.httpStatus",
                std::to_string(*f.abortHttpStatus) + " is not an HTTP status data planes can answer (200-599)");
        if (f.abortHttpStatus && (f.abortPercent < 0 || f.abortPercent > 100))
            ruleIssue(Severity::Error, r, rule, i, base + ".abort.percent", "must be between 0 and 100");
        // gRPC 1.51 injects faults itself (gRFC A33) and reports an HTTP abort status
        // as the gRPC status its HTTP mapping gives.
        if (m_target == DataPlane::XdsGrpc && f.abortHttpStatus && *f.abortHttpStatus >= 200
            && *f.abortHttpStatus <= 599)
            ruleIssue(Severity::Warning, r, rule, i, base + ".abort.httpStatus",
                "converted for gRPC 1.51 (xds-grpc): calls fail with gRPC status "
                    + std::string(grpcStatusForHttp(*f.abortHttpStatus)) + ", not HTTP "
                    + std::to_string(*f.abortHttpStatus));
        else if (m_target == DataPlane::Caddy)
            ruleIssue(Severity::Error, r, rule, i, base, "refused for Caddy 2.6.2: it has no fault injection handler");
    }

    void checkMirror(const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        if (!rule.mirror)
            return;
        const RequestMirror &m = *rule.mirror;
        const std::string f = filterField(rule, "requestMirror");
        if (m.percent < 0 || m.percent > 100)
            ruleIssue(Severity::Error, r, rule, i, f + ".percent", "must be between 0 and 100");
        if (m.backend.name.empty())
            ruleIssue(Severity::Error, r, rule, i, f + ".backendRef.name", "required");
        else
            checkBackendTarget(r, rule, i, m.backend, f + ".backendRef");
        if (m_target == DataPlane::XdsGrpc)
            ruleIssue(Severity::Error, r, rule, i, f,
                "refused for gRPC 1.51 (xds-grpc): gRPC clients do not mirror requests "
                "(request_mirror_policies are ignored)");
        else if (m_target == DataPlane::Caddy)
            ruleIssue(Severity::Error, r, rule, i, f, "refused for Caddy 2.6.2: it cannot mirror requests");
    }

    void checkHeaderModifier(
        const HttpRoute &r, const RouteRule &rule, size_t i, const HeaderModifier &m, const std::string &f)
    {
        if (m.empty())
            return;
        for (size_t k = 0; k < m.set.size(); ++k) {
            if (!isToken(m.set[k].first))
                ruleIssue(Severity::Error, r, rule, i, indexed(f + ".set", k) + ".name",
                    "'" + m.set[k].first + "' is not a valid header name");
        }
        for (size_t k = 0; k < m.add.size(); ++k) {
            if (!isToken(m.add[k].first))
                ruleIssue(Severity::Error, r, rule, i, indexed(f + ".add", k) + ".name",
                    "'" + m.add[k].first + "' is not a valid header name");
        }
        for (size_t k = 0; k < m.remove.size(); ++k) {
            if (!isToken(m.remove[k]))
                ruleIssue(Severity::Error, r, rule, i, indexed(f + ".remove", k),
                    "'" + m.remove[k] + "' is not a valid header name");
        }
        if (m_target == DataPlane::XdsGrpc)
            ruleIssue(Severity::Warning, r, rule, i, f,
                "gRPC 1.51 ignores header changes in route configuration; headers will not be modified");
    }

    void checkText(
        const HttpRoute &r, const RouteRule *rule, size_t i, const std::string &field, const std::string &value)
    {
        const char *problem = textProblem(value);
        if (!problem)
            return;
        const std::string message = std::string("the value ") + problem;
        if (rule)
            ruleIssue(Severity::Error, r, *rule, i, field, message);
        else
            add(Severity::Error, routeDocument(r), {}, field, message, r.source);
    }

    // Every string an operator or a pulled config can put in a route.
    void checkTexts(const HttpRoute &r)
    {
        checkText(r, nullptr, 0, "metadata.name", r.name);
        checkText(r, nullptr, 0, "metadata.namespace", r.ns);
        for (size_t h = 0; h < r.hostnames.size(); ++h)
            checkText(r, nullptr, 0, indexed("hostnames", h), r.hostnames[h]);
        for (size_t i = 0; i < r.rules.size(); ++i) {
            const RouteRule &rule = r.rules[i];
            checkText(r, &rule, i, "name", rule.name);
            for (size_t k = 0; k < rule.matches.size(); ++k) {
                const RouteMatch &m = rule.matches[k];
                const std::string f = indexed("matches", k);
                if (m.path)
                    checkText(r, &rule, i, f + ".path.value", m.path->value);
                for (size_t h = 0; h < m.headers.size(); ++h) {
                    checkText(r, &rule, i, indexed(f + ".headers", h) + ".name", m.headers[h].name);
                    checkText(r, &rule, i, indexed(f + ".headers", h) + ".value", m.headers[h].value);
                }
                for (size_t q = 0; q < m.queryParams.size(); ++q) {
                    checkText(r, &rule, i, indexed(f + ".queryParams", q) + ".name", m.queryParams[q].name);
                    checkText(r, &rule, i, indexed(f + ".queryParams", q) + ".value", m.queryParams[q].value);
                }
                checkText(r, &rule, i, f + ".method", m.method);
            }
            for (size_t b = 0; b < rule.backends.size(); ++b) {
                checkText(r, &rule, i, indexed("backendRefs", b) + ".name", rule.backends[b].name);
                checkText(r, &rule, i, indexed("backendRefs", b) + ".namespace", rule.backends[b].ns);
            }
            // Header changes, the mirror's cluster and retry_on are proto3 strings in xDS too.
            checkModifierTexts(r, rule, i, rule.requestHeaders, filterField(rule, "requestHeaderModifier"));
            checkModifierTexts(r, rule, i, rule.responseHeaders, filterField(rule, "responseHeaderModifier"));
            if (rule.mirror) {
                const std::string f = filterField(rule, "requestMirror") + ".backendRef";
                checkText(r, &rule, i, f + ".name", rule.mirror->backend.name);
                checkText(r, &rule, i, f + ".namespace", rule.mirror->backend.ns);
            }
            if (rule.retry) {
                for (size_t k = 0; k < rule.retry->retryOn.size(); ++k)
                    checkText(r, &rule, i, indexed("retry.meshscope.io/retryOn", k), rule.retry->retryOn[k]);
            }
        }
    }

    void checkModifierTexts(
        const HttpRoute &r, const RouteRule &rule, size_t i, const HeaderModifier &m, const std::string &f)
    {
        for (const auto &[list, key] : {std::pair {&m.set, ".set"}, std::pair {&m.add, ".add"}}) {
            for (size_t k = 0; k < list->size(); ++k) {
                checkText(r, &rule, i, indexed(f + key, k) + ".name", (*list)[k].first);
                checkText(r, &rule, i, indexed(f + key, k) + ".value", (*list)[k].second);
            }
        }
        for (size_t k = 0; k < m.remove.size(); ++k)
            checkText(r, &rule, i, indexed(f + ".remove", k), m.remove[k]);
    }

    void checkRoute(const HttpRoute &r)
    {
        checkTexts(r);
        checkHostnames(r);
        std::map<std::string, size_t> names;
        for (size_t i = 0; i < r.rules.size(); ++i) {
            const RouteRule &rule = r.rules[i];
            if (!rule.name.empty()) {
                const auto [it, fresh] = names.emplace(rule.name, i);
                if (!fresh)
                    ruleIssue(Severity::Error, r, rule, i, "name",
                        "duplicate rule name '" + rule.name + "' (also " + indexed("rules", it->second) + ")");
            }
            for (size_t k = 0; k < rule.matches.size(); ++k)
                checkMatch(r, rule, i, rule.matches[k], indexed("matches", k));
            checkBackends(r, rule, i);
            checkTimeouts(r, rule, i);
            checkRetry(r, rule, i);
            checkFault(r, rule, i);
            checkMirror(r, rule, i);
            checkHeaderModifier(r, rule, i, rule.requestHeaders, filterField(rule, "requestHeaderModifier"));
            checkHeaderModifier(r, rule, i, rule.responseHeaders, filterField(rule, "responseHeaderModifier"));
        }
    }

    void checkSlice(const EndpointSlice &s)
    {
        if (s.serviceName.empty())
            add(Severity::Error, sliceDocument(s), {}, "metadata.labels.kubernetes.io/service-name",
                "required: it names the Service this slice serves", s.source);
        if (s.port < 0 || s.port > 65535)
            add(Severity::Error, sliceDocument(s), {}, "ports[0].port", std::to_string(s.port) + " is not a port",
                s.source);
        const bool xds = m_target == DataPlane::XdsGrpc || m_target == DataPlane::Envoy;
        for (size_t k = 0; k < s.endpoints.size(); ++k) {
            const std::string f = indexed("endpoints", k) + ".addresses[0]";
            const std::string &a = s.endpoints[k].address;
            if (a.empty())
                add(Severity::Error, sliceDocument(s), {}, f, "address must not be empty", s.source);
            else if (xds && m_referencedSlices.count(&s) && !isIp(a))
                add(Severity::Error, sliceDocument(s), {}, f,
                    "refused for " + std::string(targetLabel(m_target)) + ": EDS carries IP addresses, and '" + a
                        + "' is a hostname",
                    s.source);
        }
    }

    // ---- shadowing ----

    static std::string trimSlash(const std::string &p)
    {
        std::string out = p;
        while (out.size() > 1 && out.back() == '/')
            out.pop_back();
        return out;
    }

    // Does every path B matches also match A? Gateway API PathPrefix matches whole
    // path elements: "/api" covers "/api" and "/api/v1", not "/apis".
    static bool pathCovers(const PathMatch &a, const PathMatch &b)
    {
        switch (a.type) {
        case PathMatchType::PathPrefix: {
            const std::string p = trimSlash(a.value);
            if (p == "/")
                return true;
            if (b.type == PathMatchType::RegularExpression)
                return false;
            const std::string q = b.type == PathMatchType::PathPrefix ? trimSlash(b.value) : b.value;
            return q == p || q.rfind(p + '/', 0) == 0;
        }
        case PathMatchType::Exact: return b.type == PathMatchType::Exact && b.value == a.value;
        case PathMatchType::RegularExpression:
            if (b.type == PathMatchType::RegularExpression)
                return a.value == b.value;
            return b.type == PathMatchType::Exact && fullMatch(b.value, a.value);
        }
        return false;
    }

    template <typename M>
    static bool constraintsCover(const std::vector<M> &a, const std::vector<M> &b, bool caseInsensitiveNames)
    {
        return std::all_of(a.begin(), a.end(), [&](const M &ca) {
            return std::any_of(b.begin(), b.end(), [&](const M &cb) {
                const bool sameName = caseInsensitiveNames ? lower(ca.name) == lower(cb.name) : ca.name == cb.name;
                if (!sameName)
                    return false;
                if (ca.type == cb.type && ca.value == cb.value)
                    return true;
                return ca.type == StringMatchType::RegularExpression && cb.type == StringMatchType::Exact
                    && fullMatch(cb.value, ca.value);
            });
        });
    }

    // A covers B when every request B matches is matched by A.
    static bool matchCovers(const RouteMatch &a, const RouteMatch &b)
    {
        const PathMatch pa = a.path.value_or(PathMatch {});
        const PathMatch pb = b.path.value_or(PathMatch {});
        return pathCovers(pa, pb) && (a.method.empty() || a.method == b.method)
            && constraintsCover(a.headers, b.headers, true) && constraintsCover(a.queryParams, b.queryParams, false);
    }

    static std::vector<RouteMatch> effectiveMatches(const RouteRule &rule)
    {
        return rule.matches.empty() ? std::vector<RouteMatch> {RouteMatch {}} : rule.matches;
    }

    struct RuleRef {
        const HttpRoute *route;
        size_t index;
    };

    // The first earlier rule (in data-plane order for this hostname) covering match m.
    static std::optional<RuleRef> coveredBy(const std::vector<RuleRef> &earlier, const RouteMatch &m)
    {
        for (const RuleRef &e : earlier) {
            for (const RouteMatch &am : effectiveMatches(e.route->rules[e.index])) {
                if (matchCovers(am, m))
                    return e;
            }
        }
        return std::nullopt;
    }

    std::string mention(const RuleRef &ref, const HttpRoute &from) const
    {
        std::string s = ruleMention(ref.route->rules[ref.index], ref.index);
        if (ref.route != &from)
            s += " of " + routeDocument(*ref.route);
        return s;
    }

    // Data planes try the rules of every route sharing a hostname in file order and
    // take the first match; a rule whose matches all fall to earlier rules never applies.
    void checkShadowing()
    {
        std::map<std::string, std::vector<RuleRef>> order;  // hostname -> rules in data-plane order
        auto keysOf = [](const HttpRoute &r) {
            // A route without hostnames is served on its own (xDS: "<name>.<namespace>").
            return r.hostnames.empty() ? std::vector<std::string> {"\x01" + r.ns + '/' + r.name} : r.hostnames;
        };
        for (const HttpRoute &r : m_set.routes) {
            const auto keys = keysOf(r);
            for (size_t i = 0; i < r.rules.size(); ++i) {
                const RouteRule &rule = r.rules[i];
                const auto matches = effectiveMatches(rule);
                std::optional<RuleRef> ruleCover;  // for the first hostname, if every hostname covers all
                bool allCovered = true;
                std::vector<std::optional<RuleRef>> matchCover(matches.size());
                std::vector<bool> matchAll(matches.size(), true);
                for (size_t h = 0; h < keys.size(); ++h) {
                    const std::vector<RuleRef> &earlier = order[keys[h]];
                    std::optional<RuleRef> firstForHost;
                    for (size_t k = 0; k < matches.size(); ++k) {
                        const auto c = coveredBy(earlier, matches[k]);
                        if (!c) {
                            matchAll[k] = false;
                            allCovered = false;
                            continue;
                        }
                        if (h == 0) {
                            matchCover[k] = c;
                            if (!firstForHost)
                                firstForHost = c;
                        }
                    }
                    if (h == 0)
                        ruleCover = firstForHost;
                }
                if (allCovered && ruleCover) {
                    ruleIssue(Severity::Warning, r, rule, i, "matches",
                        "shadowed by " + mention(*ruleCover, r)
                            + ": every request this rule matches is taken by that earlier rule first");
                } else {
                    for (size_t k = 0; k < matches.size() && !rule.matches.empty(); ++k) {
                        if (matchAll[k] && matchCover[k])
                            ruleIssue(Severity::Warning, r, rule, i, indexed("matches", k),
                                "never used: " + mention(*matchCover[k], r)
                                    + " matches every request this match would");
                    }
                }
                for (const std::string &key : keys)
                    order[key].push_back(RuleRef {&r, i});
            }
        }
    }

    const RouteSet &m_set;
    DataPlane m_target;
    std::vector<RouteIssue> m_issues;
    std::set<const EndpointSlice *> m_referencedSlices;
};

}  // namespace

std::vector<RouteIssue> validateRoutes(const RouteSet &set, DataPlane target) { return Validator(set, target).run(); }

bool hasErrors(const std::vector<RouteIssue> &issues)
{
    return std::any_of(issues.begin(), issues.end(), [](const RouteIssue &i) { return i.severity == Severity::Error; });
}

}  // namespace meshscope::routing

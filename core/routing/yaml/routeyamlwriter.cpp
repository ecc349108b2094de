#include "routing/yaml/routeyamlwriter.h"

#include "routing/yaml/gatewayduration.h"
#include "routing/yaml/routeyamlschema.h"
#include "routing/yaml/yamlemit.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <climits>
#include <cmath>
#include <numeric>
#include <optional>
#include <tuple>

namespace meshscope::routing {

namespace {

// The file format's vocabulary (routeyamlschema.h).
using namespace routeyaml;

// Fault percentages: whole numbers as integers, others in the shortest spelling that
// reads back to the same double.
std::string formatNumber(double v)
{
    if (std::fabs(v - std::round(v)) < 1e-12 && std::fabs(v) < 1e15)
        return std::to_string(int64_t(std::llround(v)));
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

void emitBackendRef(YAML::Emitter &e, const BackendRef &b, bool withWeight)
{
    e << YAML::BeginMap;
    emitKeyString(e, "name", b.name);
    if (!b.ns.empty())
        emitKeyString(e, "namespace", b.ns);
    if (b.port != 0)
        e << YAML::Key << "port" << YAML::Value << b.port;
    if (withWeight)
        e << YAML::Key << "weight" << YAML::Value << b.weight;
    e << YAML::EndMap;
}

void emitNameValues(YAML::Emitter &e, const char *key, const std::vector<std::pair<std::string, std::string>> &list)
{
    if (list.empty())
        return;
    e << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const auto &[n, v] : list) {
        e << YAML::BeginMap;
        emitKeyString(e, "name", n);
        emitKeyString(e, "value", v);
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
}

void emitHeaderModifier(YAML::Emitter &e, const char *type, const char *key, const HeaderModifier &m)
{
    e << YAML::BeginMap << YAML::Key << "type" << YAML::Value << type;
    e << YAML::Key << key << YAML::Value << YAML::BeginMap;
    emitNameValues(e, "set", m.set);
    emitNameValues(e, "add", m.add);
    if (!m.remove.empty())
        emitStringList(e, "remove", m.remove, YamlListStyle::Block);
    e << YAML::EndMap << YAML::EndMap;
}

template <typename M>
void emitNameValueMatches(YAML::Emitter &e, const char *key, const std::vector<M> &list)
{
    if (list.empty())
        return;
    e << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const M &m : list) {
        e << YAML::BeginMap;
        emitKeyString(e, "name", m.name);
        e << YAML::Key << "type" << YAML::Value << (m.type == StringMatchType::Exact ? "Exact" : "RegularExpression");
        emitKeyString(e, "value", m.value);
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
}

const char *pathTypeName(PathMatchType t)
{
    switch (t) {
    case PathMatchType::Exact: return "Exact";
    case PathMatchType::PathPrefix: return "PathPrefix";
    case PathMatchType::RegularExpression: return "RegularExpression";
    }
    return "PathPrefix";
}

// Mirror percentages that are whole numbers use Gateway API's `percent`; others
// its `fraction`, reduced, at a resolution of 1/1,000,000.
// The fraction num/den (den within int32, as Gateway API's) for which the reader's
// num * 100 / den is exactly `percent`: a convergent of percent / 100's continued
// fraction. A share read from a fraction (1/7) is always found, since IEEE division
// rounds every equal fraction to the same double.
std::optional<std::pair<int64_t, int64_t>> exactFraction(double percent)
{
    int64_t h0 = 0, h1 = 1, k0 = 1, k1 = 0;
    double r = percent / 100.0;
    for (int i = 0; i < 64 && r >= 0 && r < 1e12; ++i) {
        const double a = std::floor(r);
        const auto ai = int64_t(a);
        const int64_t h2 = ai * h1 + h0, k2 = ai * k1 + k0;
        if (k2 > INT32_MAX)
            break;
        if (double(h2) * 100.0 / double(k2) == percent)
            return std::pair {h2, k2};
        h0 = h1;
        h1 = h2;
        k0 = k1;
        k1 = k2;
        if (r - a <= 0)
            break;
        r = 1.0 / (r - a);
    }
    return std::nullopt;
}

void emitMirrorShare(YAML::Emitter &e, double percent)
{
    if (std::fabs(percent - std::round(percent)) < 1e-9) {
        e << YAML::Key << "percent" << YAML::Value << int(std::llround(percent));
        return;
    }
    int64_t num = std::llround(percent * 10000.0);
    int64_t den = 1000000;
    if (const auto exact = exactFraction(percent)) {
        std::tie(num, den) = *exact;
    } else if (const int64_t g = std::gcd(num, den); g > 0) {
        num /= g;
        den /= g;
    }
    e << YAML::Key << "fraction" << YAML::Value << YAML::BeginMap << YAML::Key << "numerator" << YAML::Value << num
      << YAML::Key << "denominator" << YAML::Value << den << YAML::EndMap;
}

void emitRule(YAML::Emitter &e, const RouteRule &rule)
{
    e << YAML::BeginMap;
    if (!rule.name.empty())
        emitKeyString(e, "name", rule.name);
    e << YAML::Key << "matches" << YAML::Value << YAML::BeginSeq;
    std::vector<RouteMatch> matches = rule.matches;
    if (matches.empty())
        matches.push_back(RouteMatch {});
    for (const RouteMatch &m : matches) {
        e << YAML::BeginMap;
        const PathMatch path = m.path.value_or(PathMatch {});
        e << YAML::Key << "path" << YAML::Value << YAML::BeginMap;
        e << YAML::Key << "type" << YAML::Value << pathTypeName(path.type);
        emitKeyString(e, "value", path.value);
        e << YAML::EndMap;
        emitNameValueMatches(e, "headers", m.headers);
        emitNameValueMatches(e, "queryParams", m.queryParams);
        if (!m.method.empty())
            emitKeyString(e, "method", m.method);
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    const bool anyFilter = !rule.requestHeaders.empty() || !rule.responseHeaders.empty() || rule.mirror || rule.fault;
    if (anyFilter) {
        e << YAML::Key << "filters" << YAML::Value << YAML::BeginSeq;
        if (!rule.requestHeaders.empty())
            emitHeaderModifier(e, "RequestHeaderModifier", "requestHeaderModifier", rule.requestHeaders);
        if (!rule.responseHeaders.empty())
            emitHeaderModifier(e, "ResponseHeaderModifier", "responseHeaderModifier", rule.responseHeaders);
        if (rule.mirror) {
            e << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "RequestMirror";
            e << YAML::Key << "requestMirror" << YAML::Value << YAML::BeginMap;
            e << YAML::Key << "backendRef" << YAML::Value;
            emitBackendRef(e, rule.mirror->backend, false);
            emitMirrorShare(e, rule.mirror->percent);
            e << YAML::EndMap << YAML::EndMap;
        }
        if (rule.fault) {
            const FaultInjection &f = *rule.fault;
            e << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "ExtensionRef";
            e << YAML::Key << "extensionRef" << YAML::Value << YAML::BeginMap;
            e << YAML::Key << "group" << YAML::Value << kExtensionGroup;
            e << YAML::Key << "kind" << YAML::Value << kFaultKind;
            e << YAML::Key << "name" << YAML::Value << "fault-injection";
            e << YAML::EndMap;
            e << YAML::Key << kFaultKey << YAML::Value << YAML::BeginMap;
            if (f.delayMs) {
                e << YAML::Key << "delay" << YAML::Value << YAML::BeginMap;
                e << YAML::Key << "fixedDelay" << YAML::Value << formatDuration(*f.delayMs);
                e << YAML::Key << "percent" << YAML::Value << formatNumber(f.delayPercent);
                e << YAML::EndMap;
            }
            if (f.abortHttpStatus) {
                e << YAML::Key << "abort" << YAML::Value << YAML::BeginMap;
                e << YAML::Key << "httpStatus" << YAML::Value << *f.abortHttpStatus;
                e << YAML::Key << "percent" << YAML::Value << formatNumber(f.abortPercent);
                e << YAML::EndMap;
            }
            e << YAML::EndMap << YAML::EndMap;
        }
        e << YAML::EndSeq;
    }
    e << YAML::Key << "backendRefs" << YAML::Value << YAML::BeginSeq;
    for (const BackendRef &b : rule.backends)
        emitBackendRef(e, b, true);
    e << YAML::EndSeq;
    if (rule.timeoutMs || rule.backendTimeoutMs) {
        e << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
        if (rule.timeoutMs)
            e << YAML::Key << "request" << YAML::Value << formatDuration(*rule.timeoutMs);
        if (rule.backendTimeoutMs)
            e << YAML::Key << "backendRequest" << YAML::Value << formatDuration(*rule.backendTimeoutMs);
        e << YAML::EndMap;
    }
    if (rule.retry) {
        const RetryPolicy &p = *rule.retry;
        e << YAML::Key << "retry" << YAML::Value << YAML::BeginMap;
        e << YAML::Key << "attempts" << YAML::Value << p.attempts;
        if (!p.codes.empty())
            e << YAML::Key << "codes" << YAML::Value << YAML::Flow << p.codes;
        if (p.backoffMs)
            e << YAML::Key << "backoff" << YAML::Value << formatDuration(*p.backoffMs);
        if (!p.retryOn.empty())
            emitStringList(e, kRetryOnKey, p.retryOn, YamlListStyle::Flow);
        if (p.perTryTimeoutMs)
            e << YAML::Key << kPerTryTimeoutKey << YAML::Value << formatDuration(*p.perTryTimeoutMs);
        e << YAML::EndMap;
    }
    e << YAML::EndMap;
}

std::string emitRoute(const HttpRoute &route)
{
    YAML::Emitter e;
    beginResource(e, kGatewayApiVersion, "HTTPRoute", route.name, route.ns);
    e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
    if (!route.hostnames.empty())
        emitStringList(e, "hostnames", route.hostnames, YamlListStyle::Block);
    e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (const RouteRule &rule : route.rules)
        emitRule(e, rule);
    e << YAML::EndSeq;
    e << YAML::EndMap;
    return endResource(e);
}

std::string addressTypeOf(const EndpointSlice &s)
{
    if (s.endpoints.empty())
        return "IPv4";
    bool all4 = true, all6 = true;
    for (const Endpoint &ep : s.endpoints) {
        all4 = all4 && isIp(AF_INET, ep.address);
        all6 = all6 && isIp(AF_INET6, ep.address);
    }
    return all4 ? "IPv4" : all6 ? "IPv6" : "FQDN";
}

std::string emitSlice(const EndpointSlice &s)
{
    YAML::Emitter e;
    beginResource(e, kDiscoveryApiVersion, "EndpointSlice", s.name, s.ns, {{kServiceNameLabel, s.serviceName}});
    e << YAML::Key << "addressType" << YAML::Value << addressTypeOf(s);
    if (s.port != 0 || !s.portName.empty()) {
        e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
        if (!s.portName.empty())
            emitKeyString(e, "name", s.portName);
        if (s.port != 0)
            e << YAML::Key << "port" << YAML::Value << s.port;
        e << YAML::Key << "protocol" << YAML::Value << "TCP";
        e << YAML::EndMap << YAML::EndSeq;
    }
    e << YAML::Key << "endpoints" << YAML::Value << YAML::BeginSeq;
    for (const Endpoint &ep : s.endpoints) {
        e << YAML::BeginMap;
        emitStringList(e, "addresses", {ep.address}, YamlListStyle::Block);
        e << YAML::Key << "conditions" << YAML::Value << YAML::BeginMap << YAML::Key << "ready" << YAML::Value
          << (ep.ready ? "true" : "false") << YAML::EndMap;
        e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    return endResource(e);
}

}  // namespace

std::string toYaml(const RouteSet &set)
{
    // Documents keep the set's order (HTTPRoutes, then EndpointSlices) rather than
    // being sorted: HTTPRoutes that share a hostname are concatenated in file order
    // by the data planes, so their order is meaning, not presentation.
    std::vector<std::string> documents;
    for (const HttpRoute &r : set.routes)
        documents.push_back(emitRoute(r));
    for (const EndpointSlice &s : set.endpointSlices)
        documents.push_back(emitSlice(s));
    return joinDocuments(documents);
}

}  // namespace meshscope::routing

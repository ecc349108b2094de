#include "routing/routeexport.h"

#include "routing/yaml/routeyamlwriter.h"
#include "routing/yaml/yamlemit.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace meshscope::routing {

namespace {

const char *const kIstioApiVersion = "networking.istio.io/v1beta1";

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string percentText(double v)
{
    if (std::fabs(v - std::round(v)) < 1e-9)
        return std::to_string(int64_t(std::llround(v)));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// Largest-remainder rounding of weights to a total of 100, which every Istio version
// accepts (older ones require it).
std::vector<int> percentages(const std::vector<int> &weights)
{
    int64_t sum = 0;
    for (int w : weights)
        sum += std::max(w, 0);
    std::vector<int> out(weights.size(), 0);
    if (sum <= 0)
        return out;
    std::vector<std::pair<double, size_t>> remainders;
    int given = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
        const double exact = double(std::max(weights[i], 0)) * 100.0 / double(sum);
        out[i] = int(std::floor(exact));
        given += out[i];
        remainders.emplace_back(exact - std::floor(exact), i);
    }
    std::stable_sort(
        remainders.begin(), remainders.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    for (size_t k = 0; given < 100 && k < remainders.size(); ++k, ++given)
        ++out[remainders[k].second];
    return out;
}

class IstioWriter {
public:
    IstioWriter(const RouteSet &set, const ExportOptions &options, std::vector<RouteIssue> &issues)
        : m_set(set)
        , m_options(options)
        , m_issues(issues)
    {
    }

    std::string run()
    {
        std::vector<std::string> docs;
        for (const HttpRoute &r : m_set.routes)
            docs.push_back(virtualService(r));
        for (const auto &[key, subsets] : m_subsets)
            docs.push_back(destinationRule(key.first, key.second, subsets));
        return joinDocuments(docs);
    }

private:
    void issue(Severity sev, const HttpRoute &r, const RouteRule *rule, size_t i, const std::string &field,
        std::string message)
    {
        RouteIssue is;
        is.severity = sev;
        is.document = "HTTPRoute " + r.ns + '/' + r.name;
        if (rule)
            is.rule = rule->name.empty() ? "rules[" + std::to_string(i) + "]" : rule->name;
        is.field = field;
        is.message = std::move(message);
        is.source = rule ? rule->source : r.source;
        is.source.line = rule ? rule->source.lineOf(field) : r.source.lineOf(field);
        if (is.source.file.empty())
            is.source.file = r.source.file;
        m_issues.push_back(std::move(is));
    }

    void destination(YAML::Emitter &e, const BackendRef &b, const std::string &routeNs)
    {
        const IstioDestination d = istioDestination(b, routeNs, m_options);
        e << YAML::BeginMap;
        emitKeyString(e, "host", d.host);
        if (!d.subset.empty()) {
            emitKeyString(e, "subset", d.subset);
            m_subsets[{backendNamespace(b, routeNs), shortHost(d.host)}].insert(d.subset);
        }
        if (b.port != 0)
            e << YAML::Key << "port" << YAML::Value << YAML::BeginMap << YAML::Key << "number" << YAML::Value << b.port
              << YAML::EndMap;
        e << YAML::EndMap;
    }

    static std::string shortHost(const std::string &host) { return host.substr(0, host.find('.')); }

    template <typename M>
    void stringMatches(YAML::Emitter &e, const char *key, const std::vector<M> &list, bool lowerNames,
        const HttpRoute &r, const RouteRule &rule, size_t i, const std::string &field)
    {
        if (list.empty())
            return;
        e << YAML::Key << key << YAML::Value << YAML::BeginMap;
        std::set<std::string> seen;
        for (size_t k = 0; k < list.size(); ++k) {
            const M &m = list[k];
            const std::string name = lowerNames ? lower(m.name) : m.name;
            if (!seen.insert(name).second) {
                issue(Severity::Warning, r, &rule, i, field + "[" + std::to_string(k) + "]",
                    "Istio matches each name once; '" + m.name + "' is matched again and dropped");
                continue;
            }
            e << YAML::Key;
            emitString(e, name);
            e << YAML::Value << YAML::BeginMap;
            emitKeyString(e, m.type == StringMatchType::Exact ? "exact" : "regex", m.value);
            e << YAML::EndMap;
        }
        e << YAML::EndMap;
    }

    void matchEntry(YAML::Emitter &e, const RouteMatch &m, const char *uriKind, const std::string &uri,
        const HttpRoute &r, const RouteRule &rule, size_t i, size_t k)
    {
        const std::string f = "matches[" + std::to_string(k) + "]";
        e << YAML::BeginMap;
        e << YAML::Key << "uri" << YAML::Value << YAML::BeginMap;
        emitKeyString(e, uriKind, uri);
        e << YAML::EndMap;
        stringMatches(e, "headers", m.headers, true, r, rule, i, f + ".headers");
        stringMatches(e, "queryParams", m.queryParams, false, r, rule, i, f + ".queryParams");
        if (!m.method.empty()) {
            e << YAML::Key << "method" << YAML::Value << YAML::BeginMap;
            emitKeyString(e, "exact", m.method);
            e << YAML::EndMap;
        }
        e << YAML::EndMap;
    }

    void headerOps(YAML::Emitter &e, const char *key, const char *filter, const HeaderModifier &h, const HttpRoute &r,
        const RouteRule &rule, size_t i)
    {
        if (h.empty())
            return;
        e << YAML::Key << key << YAML::Value << YAML::BeginMap;
        for (const char *op : {"set", "add"}) {
            const auto &list = std::string(op) == "set" ? h.set : h.add;
            if (list.empty())
                continue;
            e << YAML::Key << op << YAML::Value << YAML::BeginMap;
            std::set<std::string> seen;
            for (const auto &[name, value] : list) {
                if (!seen.insert(lower(name)).second) {
                    issue(Severity::Warning, r, &rule, i, std::string("filters.") + filter + '.' + op,
                        std::string("Istio's headers.") + key + "." + op + " is a map; the repeated '" + name
                            + "' is dropped");
                    continue;
                }
                emitKeyString(e, name, value);
            }
            e << YAML::EndMap;
        }
        if (!h.remove.empty())
            emitStringList(e, "remove", h.remove, YamlListStyle::Block);
        e << YAML::EndMap;
    }

    void httpRoute(YAML::Emitter &e, const HttpRoute &r, const RouteRule &rule, size_t i)
    {
        e << YAML::BeginMap;
        if (!rule.name.empty())
            emitKeyString(e, "name", rule.name);
        // Gateway API PathPrefix matches whole path elements ("/api" matches "/api"
        // and "/api/x", never "/apis"); Istio's prefix is a plain string prefix, so
        // "/api" becomes two Istio matches: exact "/api" and prefix "/api/".
        const std::vector<RouteMatch> matches
            = rule.matches.empty() ? std::vector<RouteMatch> {RouteMatch {}} : rule.matches;
        e << YAML::Key << "match" << YAML::Value << YAML::BeginSeq;
        for (size_t k = 0; k < matches.size(); ++k) {
            const RouteMatch &m = matches[k];
            const PathMatch p = m.path.value_or(PathMatch {});
            if (p.type == PathMatchType::Exact) {
                matchEntry(e, m, "exact", p.value, r, rule, i, k);
            } else if (p.type == PathMatchType::RegularExpression) {
                matchEntry(e, m, "regex", p.value, r, rule, i, k);
            } else {
                std::string prefix = p.value;
                while (prefix.size() > 1 && prefix.back() == '/')
                    prefix.pop_back();
                if (prefix == "/") {
                    matchEntry(e, m, "prefix", "/", r, rule, i, k);
                } else {
                    matchEntry(e, m, "exact", prefix, r, rule, i, k);
                    matchEntry(e, m, "prefix", prefix + '/', r, rule, i, k);
                }
            }
        }
        e << YAML::EndSeq;

        e << YAML::Key << "route" << YAML::Value << YAML::BeginSeq;
        std::vector<int> weights;
        for (const BackendRef &b : rule.backends)
            weights.push_back(b.weight);
        const std::vector<int> pct = percentages(weights);
        int64_t sum = 0;
        for (int w : weights)
            sum += std::max(w, 0);
        if (rule.backends.size() > 1 && sum > 0) {
            bool exact = true;
            for (size_t k = 0; k < weights.size(); ++k)
                exact = exact && int64_t(std::max(weights[k], 0)) * 100 == int64_t(pct[k]) * sum;
            if (!exact) {
                std::string from, to;
                for (size_t k = 0; k < weights.size(); ++k) {
                    from += (k ? "/" : "") + std::to_string(weights[k]);
                    to += (k ? "/" : "") + std::to_string(pct[k]);
                }
                issue(Severity::Warning, r, &rule, i, "backendRefs",
                    "converted: weights " + from + " rounded to Istio percentages " + to);
            }
        }
        if (sum <= 0)
            issue(Severity::Error, r, &rule, i, "backendRefs", "no backend has a positive weight; nothing to route to");
        for (size_t k = 0; k < rule.backends.size(); ++k) {
            e << YAML::BeginMap << YAML::Key << "destination" << YAML::Value;
            destination(e, rule.backends[k], r.ns);
            if (rule.backends.size() > 1)
                e << YAML::Key << "weight" << YAML::Value << pct[k];
            e << YAML::EndMap;
        }
        e << YAML::EndSeq;

        if (rule.timeoutMs)
            e << YAML::Key << "timeout" << YAML::Value << istioDuration(*rule.timeoutMs);
        if (rule.retry) {
            const RetryPolicy &p = *rule.retry;
            e << YAML::Key << "retries" << YAML::Value << YAML::BeginMap;
            e << YAML::Key << "attempts" << YAML::Value << p.attempts;
            // Gateway API's backendRequest is the per-try timeout (GEP-1742), as is Istio's perTryTimeout.
            const std::optional<int64_t> perTry = p.perTryTimeoutMs ? p.perTryTimeoutMs : rule.backendTimeoutMs;
            if (perTry)
                e << YAML::Key << "perTryTimeout" << YAML::Value << istioDuration(*perTry);
            if (p.perTryTimeoutMs && rule.backendTimeoutMs && *p.perTryTimeoutMs != *rule.backendTimeoutMs)
                issue(Severity::Warning, r, &rule, i, "timeouts.backendRequest",
                    "dropped: Istio has one per-try timeout, and retry.meshscope.io/perTryTimeout is used");
            std::string on;
            for (const std::string &c : p.retryOn)
                on += (on.empty() ? "" : ",") + c;
            // Istio's retryOn takes HTTP status codes directly and retries on them.
            for (int c : p.codes)
                on += (on.empty() ? "" : ",") + std::to_string(c);
            if (!on.empty())
                emitKeyString(e, "retryOn", on);
            e << YAML::EndMap;
            if (p.backoffMs)
                issue(Severity::Warning, r, &rule, i, "retry.backoff",
                    "dropped: Istio's HTTPRetry has no backoff (Envoy's default 25 ms base applies)");
        } else if (rule.backendTimeoutMs) {
            issue(Severity::Warning, r, &rule, i, "timeouts.backendRequest",
                "dropped: Istio expresses a per-try timeout only inside retries; add a retry policy to keep it");
        }
        if (rule.fault) {
            const FaultInjection &f = *rule.fault;
            e << YAML::Key << "fault" << YAML::Value << YAML::BeginMap;
            if (f.delayMs) {
                e << YAML::Key << "delay" << YAML::Value << YAML::BeginMap;
                e << YAML::Key << "percentage" << YAML::Value << YAML::BeginMap << YAML::Key << "value" << YAML::Value
                  << percentText(f.delayPercent) << YAML::EndMap;
                e << YAML::Key << "fixedDelay" << YAML::Value << istioDuration(*f.delayMs);
                e << YAML::EndMap;
            }
            if (f.abortHttpStatus) {
                e << YAML::Key << "abort" << YAML::Value << YAML::BeginMap;
                e << YAML::Key << "percentage" << YAML::Value << YAML::BeginMap << YAML::Key << "value" << YAML::Value
                  << percentText(f.abortPercent) << YAML::EndMap;
                e << YAML::Key << "httpStatus" << YAML::Value << *f.abortHttpStatus;
                e << YAML::EndMap;
            }
            e << YAML::EndMap;
        }
        if (rule.mirror) {
            e << YAML::Key << "mirror" << YAML::Value;
            destination(e, rule.mirror->backend, r.ns);
            e << YAML::Key << "mirrorPercentage" << YAML::Value << YAML::BeginMap << YAML::Key << "value" << YAML::Value
              << percentText(rule.mirror->percent) << YAML::EndMap;
        }
        if (!rule.requestHeaders.empty() || !rule.responseHeaders.empty()) {
            e << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
            headerOps(e, "request", "requestHeaderModifier", rule.requestHeaders, r, rule, i);
            headerOps(e, "response", "responseHeaderModifier", rule.responseHeaders, r, rule, i);
            e << YAML::EndMap;
        }
        e << YAML::EndMap;
    }

    std::string virtualService(const HttpRoute &r)
    {
        YAML::Emitter e;
        beginResource(e, kIstioApiVersion, "VirtualService", r.name, r.ns);
        e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
        std::vector<std::string> hosts = r.hostnames;
        if (hosts.empty()) {
            // Istio requires hosts, and rejects "*" for mesh (sidecar) routing.
            hosts.push_back(r.name);
            issue(Severity::Warning, r, nullptr, 0, "spec.hostnames",
                "no hostnames: the VirtualService uses the route name '" + r.name + "' as its host");
        }
        emitStringList(e, "hosts", hosts, YamlListStyle::Block);
        e << YAML::Key << "http" << YAML::Value << YAML::BeginSeq;
        for (size_t i = 0; i < r.rules.size(); ++i)
            httpRoute(e, r, r.rules[i], i);
        e << YAML::EndSeq;
        e << YAML::EndMap;
        return endResource(e);
    }

    std::string destinationRule(const std::string &ns, const std::string &host, const std::set<std::string> &subsets)
    {
        YAML::Emitter e;
        beginResource(e, kIstioApiVersion, "DestinationRule", host, ns);
        e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
        emitKeyString(e, "host", host);
        e << YAML::Key << "subsets" << YAML::Value << YAML::BeginSeq;
        for (const std::string &s : subsets) {
            e << YAML::BeginMap;
            emitKeyString(e, "name", s);
            e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
            emitKeyString(e, m_options.versionLabel, s);
            e << YAML::EndMap << YAML::EndMap;
        }
        e << YAML::EndSeq;
        e << YAML::EndMap;
        return endResource(e);
    }

    const RouteSet &m_set;
    const ExportOptions &m_options;
    std::vector<RouteIssue> &m_issues;
    // (namespace, service) -> subsets, ordered so output is stable.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> m_subsets;
};

}  // namespace

bool ExportResult::ok() const
{
    return std::none_of(
        issues.begin(), issues.end(), [](const RouteIssue &i) { return i.severity == Severity::Error; });
}

IstioDestination istioDestination(const BackendRef &backend, const std::string &routeNs, const ExportOptions &options)
{
    IstioDestination d;
    d.host = backend.name;
    if (options.versionSubsets) {
        static const RE2 versioned(R"((.+)-(v[0-9]+[a-z0-9]*))");
        std::string service, version;
        if (RE2::FullMatch(backend.name, versioned, &service, &version)) {
            d.host = service;
            d.subset = version;
        }
    }
    // Istio resolves a short host in the VirtualService's namespace; another
    // namespace needs the fully qualified name.
    if (!backend.ns.empty() && backend.ns != routeNs)
        d.host += '.' + backend.ns + ".svc.cluster.local";
    return d;
}

std::string istioDuration(int64_t ms)
{
    if (ms <= 0)
        return "0s";
    std::string out = std::to_string(ms / 1000);
    if (ms % 1000) {
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03d", int(ms % 1000));
        std::string f = frac;
        while (f.back() == '0')
            f.pop_back();
        out += f;
    }
    return out + 's';
}

ExportResult exportRoutes(const RouteSet &set, ExportFormat format, const ExportOptions &options)
{
    ExportResult result;
    if (format == ExportFormat::GatewayApi) {
        result.yaml = toYaml(set);
        return result;
    }
    result.yaml = IstioWriter(set, options, result.issues).run();
    return result;
}

}  // namespace meshscope::routing

#include "routing/caddy/caddyexport.h"

#include "routing/caddy/caddyjson.h"
#include "routing/yaml/gatewayduration.h"

#include <QJsonObject>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace meshscope::routing {

namespace {

using caddyjson::goDuration;
using caddyjson::isIpv6;
using caddyjson::lower;
using caddyjson::qs;

std::string trimSlash(const std::string &p)
{
    std::string out = p;
    while (out.size() > 1 && out.back() == '/')
        out.pop_back();
    return out;
}

QJsonArray stringArray(const std::vector<std::string> &values)
{
    QJsonArray a;
    for (const std::string &v : values)
        a.append(qs(v));
    return a;
}

std::string joinHostPort(const std::string &host, int port)
{
    return (isIpv6(host) ? '[' + host + ']' : host) + ':' + std::to_string(port);
}

QJsonObject headerOps(const HeaderModifier &m)
{
    QJsonObject out;
    auto grouped = [](const std::vector<std::pair<std::string, std::string>> &pairs) {
        QJsonObject o;
        for (const auto &[name, value] : pairs) {
            QJsonArray values = o.value(qs(name)).toArray();
            values.append(qs(value));
            o.insert(qs(name), values);
        }
        return o;
    };
    if (!m.set.empty())
        out.insert(QStringLiteral("set"), grouped(m.set));
    if (!m.add.empty())
        out.insert(QStringLiteral("add"), grouped(m.add));
    if (!m.remove.empty())
        out.insert(QStringLiteral("delete"), stringArray(m.remove));
    return out;
}

class CaddyWriter {
public:
    explicit CaddyWriter(const RouteSet &set)
        : m_set(set)
    {
    }

    CaddyPushResult run()
    {
        std::map<std::string, std::string> ids;  // @id -> where it is used first
        for (const HttpRoute &r : m_set.routes) {
            for (size_t i = 0; i < r.rules.size(); ++i) {
                const RouteRule &rule = r.rules[i];
                const std::string where = "HTTPRoute " + r.ns + '/' + r.name + ' '
                    + (rule.name.empty() ? "rules[" + std::to_string(i) + ']' : "rule '" + rule.name + "'");
                if (!rule.name.empty()) {
                    const auto [it, fresh] = ids.emplace(rule.name, where);
                    if (!fresh)
                        m_result.errors.push_back(where + ": rule name '" + rule.name + "' is also used by "
                            + it->second + "; Caddy addresses routes by '@id', which must be unique");
                }
                writeRule(r, rule, where);
            }
        }
        if (!m_result.errors.empty())
            m_result.routes = QJsonArray();
        return std::move(m_result);
    }

private:
    void error(const std::string &where, const std::string &message)
    {
        m_result.errors.push_back(where + ": " + message);
    }

    void note(const std::string &where, const std::string &message)
    {
        m_result.notes.push_back(where + ": " + message);
    }

    // One matcher set; empty when it matches every request.
    QJsonObject matcherSet(const HttpRoute &r, const RouteMatch &m, const std::string &where)
    {
        QJsonObject set;
        if (!r.hostnames.empty())
            set.insert(QStringLiteral("host"), stringArray(r.hostnames));
        if (m.path) {
            const PathMatch &p = *m.path;
            switch (p.type) {
            case PathMatchType::Exact:
                if (p.value.find('*') != std::string::npos)
                    error(where,
                        "refused for Caddy 2.6.2: its path matcher reads '*' as a wildcard, so '" + p.value
                            + "' would not match exactly");
                set.insert(QStringLiteral("path"), QJsonArray {qs(p.value)});
                break;
            case PathMatchType::PathPrefix: {
                // Gateway API prefixes match whole segments: "/v1" takes "/v1" and
                // "/v1/..." but not "/v1x", which Caddy's "/v1*" would.
                const std::string base = trimSlash(p.value);
                if (base != "/")
                    set.insert(QStringLiteral("path"), QJsonArray {qs(base), qs(base + "/*")});
                break;
            }
            case PathMatchType::RegularExpression: {
                QJsonObject re;
                re.insert(QStringLiteral("pattern"), qs(fullMatchToCaddyRegex(p.value)));
                set.insert(QStringLiteral("path_regexp"), re);
                break;
            }
            }
        }
        if (!m.method.empty())
            set.insert(QStringLiteral("method"), QJsonArray {qs(m.method)});
        QJsonObject headers, headerRegexps;
        std::set<std::string> seen;
        for (const HeaderMatch &h : m.headers) {
            // Gateway API considers only the first condition on a header name.
            if (!seen.insert(lower(h.name)).second) {
                note(where, "header '" + h.name + "' is matched twice; only the first condition is written");
                continue;
            }
            if (h.type == StringMatchType::Exact) {
                if (h.value.find('*') != std::string::npos)
                    error(where,
                        "refused for Caddy 2.6.2: its header matcher reads '*' as a wildcard, so '" + h.value
                            + "' would not match exactly");
                headers.insert(qs(h.name), QJsonArray {qs(h.value)});
            } else {
                QJsonObject re;
                re.insert(QStringLiteral("pattern"), qs(fullMatchToCaddyRegex(h.value)));
                headerRegexps.insert(qs(h.name), re);
            }
        }
        if (!headers.isEmpty())
            set.insert(QStringLiteral("header"), headers);
        if (!headerRegexps.isEmpty())
            set.insert(QStringLiteral("header_regexp"), headerRegexps);
        QJsonObject query;
        for (const QueryParamMatch &q : m.queryParams) {
            if (q.type == StringMatchType::RegularExpression) {
                error(where,
                    "refused for Caddy 2.6.2: its query matcher compares exact values only (query parameter '" + q.name
                        + "')");
                continue;
            }
            if (query.contains(qs(q.name))) {
                note(where, "query parameter '" + q.name + "' is matched twice; only the first condition is written");
                continue;
            }
            query.insert(qs(q.name), QJsonArray {qs(q.value)});
        }
        if (!query.isEmpty())
            set.insert(QStringLiteral("query"), query);
        return set;
    }

    size_t readyCount(const BackendRef &b, const std::string &routeNs) const
    {
        size_t n = 0;
        for (const EndpointSlice *s : m_set.slicesFor(b, routeNs)) {
            for (const Endpoint &e : s->endpoints)
                n += e.ready ? 1 : 0;
        }
        return n;
    }

    // The upstream dial addresses of a rule, after RouteValidator's Caddy weight rules.
    bool upstreams(const HttpRoute &r, const RouteRule &rule, const std::string &where, QJsonArray *out)
    {
        std::vector<const BackendRef *> active;
        std::string weights;
        for (const BackendRef &b : rule.backends) {
            weights += (weights.empty() ? "" : "/") + std::to_string(b.weight);
            if (b.weight > 0)
                active.push_back(&b);
            else
                note(where, "backend '" + b.name + "' has weight 0 and is not written (Caddy 2.6.2 has no weights)");
        }
        if (active.empty()) {
            error(where,
                rule.backends.empty() ? "no backendRefs: no traffic would be routed"
                                      : "every backend has weight 0: no traffic would be routed");
            return false;
        }
        if (active.size() > 1) {
            const bool equal = std::all_of(
                active.begin(), active.end(), [&](const BackendRef *b) { return b->weight == active.front()->weight; });
            if (!equal) {
                error(where,
                    "refused for Caddy 2.6.2: it has no weighted round robin, so weights " + weights
                        + " cannot be expressed; use equal weights, or weight 0 for all but one backend");
                return false;
            }
            std::string counts;
            bool same = true;
            const size_t first = readyCount(*active.front(), r.ns);
            for (const BackendRef *b : active) {
                const size_t n = readyCount(*b, r.ns);
                same = same && n == first;
                counts += (counts.empty() ? "" : ", ") + b->name + ": " + std::to_string(n);
            }
            if (!same) {
                error(where,
                    "refused for Caddy 2.6.2: without weighted round robin, equal weights split traffic by ready "
                    "address count ("
                        + counts + "); give each backend the same number of addresses");
                return false;
            }
        }
        for (const BackendRef *b : active) {
            const auto slices = m_set.slicesFor(*b, r.ns);
            if (slices.empty()) {
                error(where,
                    "unknown backend '" + b->name + "': no EndpointSlice labelled kubernetes.io/service-name=" + b->name
                        + " in namespace " + backendNamespace(*b, r.ns)
                        + ", so Caddy 2.6.2 would have no address to send to");
                return false;
            }
            for (const EndpointSlice *s : slices) {
                const int port = dialPort(*b, *s);
                if (port <= 0) {
                    error(where,
                        "no port to dial for backend '" + b->name + "' (EndpointSlice " + s->ns + '/' + s->name + ")");
                    return false;
                }
                for (const Endpoint &e : s->endpoints) {
                    if (!e.ready) {
                        note(where,
                            "endpoint " + e.address + " of backend '" + b->name
                                + "' is not ready and is not written (Caddy has no unhealthy flag for static "
                                  "upstreams)");
                        continue;
                    }
                    QJsonObject up;
                    up.insert(QStringLiteral("dial"), qs(joinHostPort(e.address, port)));
                    out->append(up);
                }
            }
        }
        if (out->isEmpty()) {
            error(where, "no ready endpoint: Caddy would have no upstream to send to");
            return false;
        }
        return true;
    }

    void writeRule(const HttpRoute &r, const RouteRule &rule, const std::string &where)
    {
        if (rule.fault)
            error(where, "refused for Caddy 2.6.2: it has no fault injection handler");
        if (rule.mirror)
            error(where, "refused for Caddy 2.6.2: it cannot mirror requests");
        QJsonObject route;
        if (!rule.name.empty())
            route.insert(QStringLiteral("@id"), qs(rule.name));
        const std::vector<RouteMatch> matches
            = rule.matches.empty() ? std::vector<RouteMatch> {RouteMatch {}} : rule.matches;
        QJsonArray sets;
        bool matchAll = false;
        for (const RouteMatch &m : matches) {
            const QJsonObject set = matcherSet(r, m, where);
            matchAll = matchAll || set.isEmpty();
            sets.append(set);
        }
        if (!matchAll)
            route.insert(QStringLiteral("match"), sets);

        QJsonObject proxy;
        proxy.insert(QStringLiteral("handler"), QStringLiteral("reverse_proxy"));
        QJsonArray ups;
        if (!upstreams(r, rule, where, &ups))
            return;
        proxy.insert(QStringLiteral("upstreams"), ups);
        QJsonObject lb;
        if (ups.size() > 1) {
            QJsonObject policy;
            policy.insert(QStringLiteral("policy"), QStringLiteral("round_robin"));
            lb.insert(QStringLiteral("selection_policy"), policy);
        }
        if (rule.retry && rule.retry->attempts > 0) {
            lb.insert(QStringLiteral("retries"), rule.retry->attempts);
            if (rule.retry->backoffMs && *rule.retry->backoffMs > 0)
                lb.insert(QStringLiteral("try_interval"), qs(goDuration(*rule.retry->backoffMs)));
            if (rule.timeoutMs && *rule.timeoutMs > 0) {
                lb.insert(QStringLiteral("try_duration"), qs(goDuration(*rule.timeoutMs)));
                note(where,
                    "timeouts.request " + formatDuration(*rule.timeoutMs)
                        + " is written as load_balancing.try_duration: Caddy stops retrying after it, but does not "
                          "cut a slow response");
            }
        } else if (rule.retry && rule.retry->backoffMs) {
            note(where, "retry.backoff is not written: without retries Caddy never waits between tries");
        }
        if (!lb.isEmpty())
            proxy.insert(QStringLiteral("load_balancing"), lb);
        QJsonObject headers;
        if (!rule.requestHeaders.empty())
            headers.insert(QStringLiteral("request"), headerOps(rule.requestHeaders));
        if (!rule.responseHeaders.empty())
            headers.insert(QStringLiteral("response"), headerOps(rule.responseHeaders));
        if (!headers.isEmpty())
            proxy.insert(QStringLiteral("headers"), headers);
        const std::optional<int64_t> perTry
            = rule.retry && rule.retry->perTryTimeoutMs ? rule.retry->perTryTimeoutMs : rule.backendTimeoutMs;
        if (perTry && *perTry > 0) {
            QJsonObject transport;
            transport.insert(QStringLiteral("protocol"), QStringLiteral("http"));
            transport.insert(QStringLiteral("response_header_timeout"), qs(goDuration(*perTry)));
            proxy.insert(QStringLiteral("transport"), transport);
        }
        route.insert(QStringLiteral("handle"), QJsonArray {proxy});
        m_result.routes.append(route);
    }

    const RouteSet &m_set;
    CaddyPushResult m_result;
};

}  // namespace

CaddyPushResult modelToCaddyRoutes(const RouteSet &set) { return CaddyWriter(set).run(); }

}  // namespace meshscope::routing

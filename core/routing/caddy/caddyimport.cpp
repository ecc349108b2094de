#include "routing/caddy/caddyimport.h"

#include "routing/caddy/caddyjson.h"
#include "routing/yaml/gatewayduration.h"
#include "routing/yaml/routeyaml.h"

#include <QJsonObject>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

namespace meshscope::routing {

namespace {

using caddyjson::isIpv6;
using caddyjson::lower;
using caddyjson::ss;

// Beyond this many alternatives one Caddy route would explode into an unreadable rule.
constexpr size_t kMaxAlternatives = 64;
// Caddy's reverse_proxy waits this long between tries when try_interval is unset.
constexpr int64_t kCaddyDefaultTryIntervalMs = 250;

QJsonValue field(const QJsonObject &o, const char *key) { return o.value(QLatin1String(key)); }

std::string join(const std::vector<std::string> &parts, const std::string &sep)
{
    std::string out;
    for (const std::string &p : parts)
        out += (out.empty() ? "" : sep) + p;
    return out;
}

// A Kubernetes-style name: lowercase letters, digits, '-' and '.'.
std::string sanitizeName(const std::string &text, const std::string &fallback)
{
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '.')
            out += char(std::tolower(c));
        else if (c == '*')
            out += "wildcard";
        else if (!out.empty() && out.back() != '-')
            out += '-';
    }
    while (!out.empty() && (out.back() == '-' || out.back() == '.'))
        out.pop_back();
    while (!out.empty() && (out.front() == '-' || out.front() == '.'))
        out.erase(out.begin());
    return out.empty() ? fallback : out;
}

std::string uniqueName(const std::string &base, std::set<std::string> *taken)
{
    std::string name = base;
    for (int n = 2; !taken->insert(name).second; ++n)
        name = base + '-' + std::to_string(n);
    return name;
}

// Escapes only RE2's metacharacters, so "/static" stays readable (RE2::QuoteMeta
// would write "\\/static").
std::string quoteMeta(const std::string &text)
{
    static const std::string meta = "\\.+*?()|[]{}^$";
    std::string out;
    for (const char c : text) {
        if (meta.find(c) != std::string::npos)
            out += '\\';
        out += c;
    }
    return out;
}

struct Upstream {
    std::string host;
    int port = 0;
};

// One Caddy route with reverse_proxy as its handler, subroutes flattened.
struct FlatRoute {
    std::string id;
    std::string where;  // "routes[2]" or "routes[0].handle[0].routes[1]"
    std::vector<QJsonObject> sets;  // empty: matches every request
    std::vector<std::pair<std::string, QJsonObject>> headerHandlers;  // (where, handler)
    QJsonObject proxy;
    std::string proxyWhere;
};

class CaddyReader {
public:
    explicit CaddyReader(std::string server)
        : m_server(std::move(server))
    {
    }

    CaddyPullResult run(const QJsonArray &routes)
    {
        flatten(routes, {}, "routes", {});
        for (const FlatRoute &f : m_flat)
            buildRule(f);
        if (!m_result.errors.empty())
            return std::move(m_result);
        assemble();
        // The same normalization a file gets when it is read, so a pulled set and the
        // file written from it compare equal.
        const std::string yaml = toYaml(m_result.set);
        RouteLoadResult loaded = loadRouteYaml(yaml, "caddy server " + m_server);
        if (!loaded.ok()) {
            for (const RouteIssue &i : loaded.issues) {
                if (i.severity == Severity::Error)
                    m_result.errors.push_back(
                        "the routes read from Caddy do not form a valid route file: " + i.toString());
            }
            return std::move(m_result);
        }
        m_result.set = std::move(loaded.set);
        return std::move(m_result);
    }

private:
    static std::string label(const std::string &where, const std::string &id)
    {
        return id.empty() ? where : where + " (@id '" + id + "')";
    }

    void error(const std::string &where, const std::string &id, const std::string &message)
    {
        m_result.errors.push_back(label(where, id) + ": " + message);
    }

    void note(const std::string &where, const std::string &id, const std::string &message)
    {
        m_result.notes.push_back(label(where, id) + ": " + message);
    }

    // AND of two matcher-set lists (each an OR of sets).
    bool andSets(const std::vector<QJsonObject> &outer, const std::vector<QJsonObject> &inner, const std::string &where,
        const std::string &id, std::vector<QJsonObject> *out)
    {
        if (outer.empty()) {
            *out = inner;
            return true;
        }
        if (inner.empty()) {
            *out = outer;
            return true;
        }
        for (const QJsonObject &o : outer) {
            for (const QJsonObject &i : inner) {
                QJsonObject merged = o;
                for (auto it = i.begin(); it != i.end(); ++it) {
                    if (merged.contains(it.key())) {
                        error(where, id,
                            "both the subroute and the route around it match on '" + ss(it.key())
                                + "'; meshscope's model holds one such condition per match");
                        return false;
                    }
                    merged.insert(it.key(), it.value());
                }
                out->push_back(merged);
            }
        }
        if (out->size() > kMaxAlternatives) {
            error(
                where, id, "nested matchers expand to more than " + std::to_string(kMaxAlternatives) + " alternatives");
            return false;
        }
        return true;
    }

    void flatten(const QJsonArray &routes, const std::vector<QJsonObject> &outer, const std::string &base,
        const std::string &outerId)
    {
        static const std::set<QString> routeKeys
            = {QStringLiteral("@id"), QStringLiteral("match"), QStringLiteral("handle"), QStringLiteral("terminal")};
        for (qsizetype i = 0; i < routes.size(); ++i) {
            const std::string where = base + '[' + std::to_string(i) + ']';
            if (!routes[i].isObject()) {
                error(where, {}, "is not a JSON object");
                continue;
            }
            const QJsonObject route = routes[i].toObject();
            const std::string id = ss(field(route, "@id").toString());
            bool bad = false;
            for (auto it = route.begin(); it != route.end(); ++it) {
                if (!routeKeys.count(it.key())) {
                    error(where, id,
                        "route field '" + ss(it.key())
                            + (it.key() == QLatin1String("group")
                                    ? "' (mutually exclusive route groups) has no equivalent in meshscope's route model"
                                    : "' has no equivalent in meshscope's route model"));
                    bad = true;
                }
            }
            std::vector<QJsonObject> own;
            const QJsonValue match = field(route, "match");
            if (!match.isUndefined() && !match.isNull()) {
                if (!match.isArray()) {
                    error(where, id, "'match' is not an array");
                    continue;
                }
                const QJsonArray sets = match.toArray();
                for (qsizetype k = 0; k < sets.size(); ++k) {
                    if (!sets[k].isObject()) {
                        error(where + ".match[" + std::to_string(k) + ']', id, "is not a JSON object");
                        bad = true;
                    } else {
                        own.push_back(sets[k].toObject());
                    }
                }
            }
            if (bad)
                continue;
            std::vector<QJsonObject> sets;
            if (!andSets(outer, own, where, id, &sets))
                continue;
            const QJsonArray handlers = field(route, "handle").toArray();
            if (handlers.isEmpty()) {
                error(where, id, "has no handler; meshscope's rules always send requests to a backend");
                continue;
            }
            FlatRoute flat;
            flat.id = id;
            flat.where = where;
            flat.sets = sets;
            bool done = false;
            for (qsizetype h = 0; h < handlers.size() && !done; ++h) {
                const std::string hw = where + ".handle[" + std::to_string(h) + ']';
                const QJsonObject handler = handlers[h].toObject();
                const QString name = field(handler, "handler").toString();
                if (name == QLatin1String("headers")) {
                    flat.headerHandlers.emplace_back(hw, handler);
                } else if (name == QLatin1String("reverse_proxy")) {
                    if (h != handlers.size() - 1) {
                        error(hw, id, "handlers after reverse_proxy cannot be expressed in meshscope's route model");
                        done = true;
                        break;
                    }
                    flat.proxy = handler;
                    flat.proxyWhere = hw;
                    m_flat.push_back(flat);
                    done = true;
                } else if (name == QLatin1String("subroute")) {
                    if (handlers.size() != 1) {
                        error(
                            hw, id, "a subroute beside other handlers cannot be expressed in meshscope's route model");
                    } else {
                        const QJsonObject sub = handler;
                        for (auto it = sub.begin(); it != sub.end(); ++it) {
                            if (it.key() != QLatin1String("handler") && it.key() != QLatin1String("routes"))
                                error(hw, id,
                                    "subroute field '" + ss(it.key())
                                        + "' has no equivalent in meshscope's route model");
                        }
                        if (!id.empty() && outerId.empty())
                            note(where, id,
                                "the routes of this subroute are written back one by one, without the '@id' of the "
                                "route around them");
                        flatten(field(sub, "routes").toArray(), sets, hw + ".routes", id.empty() ? outerId : id);
                    }
                    done = true;
                } else {
                    error(hw, id,
                        "handler '" + ss(name)
                            + "' has no equivalent in meshscope's route model (only headers and reverse_proxy, "
                              "optionally inside subroutes, are read); pull refused so it is not dropped");
                    done = true;
                }
            }
            if (!done)
                error(where, id, "has no reverse_proxy handler; meshscope's rules always send requests to a backend");
        }
    }

    // A Caddy path pattern as a Gateway API path match. `siblings` is the whole list,
    // to recognise Caddy's spelling of a path prefix ("/v1" plus "/v1/*").
    bool pathFor(const std::string &p, const std::set<std::string> &siblings, const std::string &where,
        const std::string &id, std::optional<PathMatch> *out, bool *skip)
    {
        *skip = false;
        const size_t stars = size_t(std::count(p.begin(), p.end(), '*'));
        if (stars == 0) {
            // "/x" next to "/x/*" is part of the prefix written for "/x/*".
            if (siblings.count(p + "/*") && p != "/") {
                *skip = true;
                return true;
            }
            *out = PathMatch {PathMatchType::Exact, p};
            return true;
        }
        if (p == "*" || p == "/*") {
            *out = PathMatch {PathMatchType::PathPrefix, "/"};
            return true;
        }
        const std::string inner = p.substr(1, p.size() - 2);
        if (stars == 1 && p.size() > 2 && p.compare(p.size() - 2, 2, "/*") == 0) {
            // Trailing slashes as the push spells prefixes: "//*" is "/", "/a//*" is "/a".
            std::string base = p.substr(0, p.size() - 2);
            while (base.size() > 1 && base.back() == '/')
                base.pop_back();
            if (!siblings.count(base))
                note(where, id,
                    "path '" + p + "' is read as PathPrefix '" + base + "', which also matches '" + base
                        + "' itself; it is written back "
                        + (base == "/" ? std::string("without a path matcher")
                                       : "as '" + base + "' and '" + base + "/*'"));
            *out = PathMatch {PathMatchType::PathPrefix, base};
            return true;
        }
        if (stars == 1 && p.back() == '*') {
            *out = PathMatch {PathMatchType::RegularExpression, quoteMeta(p.substr(0, p.size() - 1)) + ".*"};
            return true;
        }
        if (stars == 1 && p.front() == '*') {
            *out = PathMatch {PathMatchType::RegularExpression, ".*" + quoteMeta(p.substr(1))};
            return true;
        }
        if (stars == 2 && p.front() == '*' && p.back() == '*') {
            *out = PathMatch {PathMatchType::RegularExpression, ".*" + quoteMeta(inner) + ".*"};
            return true;
        }
        error(where, id,
            "path pattern '" + p
                + "' has a '*' inside it (one path segment in Caddy), which meshscope does not translate; use "
                  "path_regexp");
        return false;
    }

    // Caddy's header matcher value: exact, or '*' at either end for prefix/suffix/contains.
    static HeaderMatch headerFor(const std::string &name, const std::string &v)
    {
        HeaderMatch h;
        h.name = name;
        if (v == "*") {
            h.type = StringMatchType::RegularExpression;
            h.value = ".*";
        } else if (v.size() >= 2 && v.front() == '*' && v.back() == '*') {
            h.type = StringMatchType::RegularExpression;
            h.value = ".*" + quoteMeta(v.substr(1, v.size() - 2)) + ".*";
        } else if (!v.empty() && v.front() == '*') {
            h.type = StringMatchType::RegularExpression;
            h.value = ".*" + quoteMeta(v.substr(1));
        } else if (!v.empty() && v.back() == '*') {
            h.type = StringMatchType::RegularExpression;
            h.value = quoteMeta(v.substr(0, v.size() - 1)) + ".*";
        } else if (v.find('*') != std::string::npos) {
            // A '*' inside is literal to Caddy; as a regex it stays literal and passes
            // the Caddy target's check on exact values.
            h.type = StringMatchType::RegularExpression;
            h.value = quoteMeta(v);
        } else {
            h.value = v;
        }
        return h;
    }

    static bool matchesEverything(const RouteMatch &m)
    {
        return (!m.path || (m.path->type == PathMatchType::PathPrefix && m.path->value == "/")) && m.method.empty()
            && m.headers.empty() && m.queryParams.empty();
    }

    // Exact conditions first, in the header matcher's order, then the regex ones (the
    // header matcher's wildcards and header_regexp together) by name in the order a JSON
    // object keeps its keys: the order in which the push (exact to header, regex to
    // header_regexp) and the next pull give them, so that a pulled set comes back from
    // Caddy unchanged.
    static void orderHeaders(std::vector<HeaderMatch> *headers)
    {
        const auto regex = std::stable_partition(
            headers->begin(), headers->end(), [](const HeaderMatch &h) { return h.type == StringMatchType::Exact; });
        QJsonObject keys;
        for (auto it = regex; it != headers->end(); ++it)
            keys.insert(caddyjson::qs(it->name), QJsonValue());
        std::map<std::string, qsizetype> rank;
        for (const QString &k : keys.keys())
            rank.emplace(ss(k), qsizetype(rank.size()));
        std::stable_sort(regex, headers->end(),
            [&](const HeaderMatch &a, const HeaderMatch &b) { return rank[a.name] < rank[b.name]; });
    }

    // One matcher set: its hosts and the alternatives (OR) it stands for.
    bool parseSet(const QJsonObject &set, const std::string &where, const std::string &id,
        std::optional<std::vector<std::string>> *hosts, std::vector<RouteMatch> *alternatives)
    {
        static const std::set<QString> known
            = {QStringLiteral("host"), QStringLiteral("path"), QStringLiteral("path_regexp"), QStringLiteral("method"),
                QStringLiteral("header"), QStringLiteral("header_regexp"), QStringLiteral("query")};
        bool ok = true;
        for (auto it = set.begin(); it != set.end(); ++it) {
            if (!known.count(it.key())) {
                error(where, id,
                    "matcher '" + ss(it.key())
                        + "' has no equivalent in meshscope's route model (host, path, path_regexp, method, header, "
                          "header_regexp and query are read)");
                ok = false;
            }
        }
        if (!ok)
            return false;
        if (set.contains(QLatin1String("host"))) {
            std::vector<std::string> h;
            for (const QJsonValue &v : field(set, "host").toArray())
                h.push_back(lower(ss(v.toString())));  // both sides compare hosts case-insensitively
            *hosts = h;
        }
        // Each list is one dimension of alternatives; the set is their product.
        std::vector<std::optional<PathMatch>> paths;
        if (set.contains(QLatin1String("path")) && set.contains(QLatin1String("path_regexp"))) {
            error(where, id,
                "matches both 'path' and 'path_regexp'; meshscope's model holds one path condition per match");
            return false;
        }
        if (set.contains(QLatin1String("path"))) {
            std::set<std::string> siblings;
            for (const QJsonValue &v : field(set, "path").toArray())
                siblings.insert(ss(v.toString()));
            for (const QJsonValue &v : field(set, "path").toArray()) {
                std::optional<PathMatch> p;
                bool skip = false;
                if (!pathFor(ss(v.toString()), siblings, where, id, &p, &skip))
                    return false;
                if (!skip)
                    paths.push_back(p);
            }
        }
        if (set.contains(QLatin1String("path_regexp"))) {
            const QJsonObject re = field(set, "path_regexp").toObject();
            if (!field(re, "name").toString().isEmpty())
                note(where, id,
                    "path_regexp name '" + ss(field(re, "name").toString())
                        + "' is not kept (meshscope does not write Caddy placeholders)");
            paths.push_back(PathMatch {
                PathMatchType::RegularExpression, caddyRegexToFullMatch(ss(field(re, "pattern").toString()))});
        }
        if (paths.empty())
            paths.push_back(std::nullopt);
        std::vector<std::string> methods;
        for (const QJsonValue &v : field(set, "method").toArray()) {
            std::string m = ss(v.toString());
            std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return char(std::toupper(c)); });
            methods.push_back(m);
        }
        if (methods.empty())
            methods.push_back({});
        // Headers: per name, the values are alternatives. Caddy compares names in Go's
        // canonical form, so "X-A" and "x-a" are one header, on which it requires every
        // condition; the model holds one per header (Gateway API reads only the first).
        std::map<std::string, std::string> headerNames;  // lowercase -> as written
        auto twice = [&](const QString &name) {
            const auto [it, fresh] = headerNames.emplace(lower(ss(name)), ss(name));
            if (!fresh)
                error(where, id,
                    "header '" + ss(name) + "' is the same header as '" + it->second
                        + "' to Caddy, which requires both conditions; meshscope's model holds one per header");
            return !fresh;
        };
        std::vector<std::vector<HeaderMatch>> headerDims;
        const QJsonObject headers = field(set, "header").toObject();
        for (auto it = headers.begin(); it != headers.end(); ++it) {
            if (twice(it.key()))
                return false;
            if (!it.value().isArray()) {
                error(where, id,
                    "header matcher '" + ss(it.key())
                        + "' without values (the header must be absent) has no equivalent in meshscope's route model");
                return false;
            }
            std::vector<HeaderMatch> dim;
            for (const QJsonValue &v : it.value().toArray())
                dim.push_back(headerFor(ss(it.key()), ss(v.toString())));
            if (dim.empty()) {
                error(where, id, "header matcher '" + ss(it.key()) + "' lists no values");
                return false;
            }
            headerDims.push_back(dim);
        }
        std::vector<HeaderMatch> regexHeaders;
        const QJsonObject headerRegexps = field(set, "header_regexp").toObject();
        for (auto it = headerRegexps.begin(); it != headerRegexps.end(); ++it) {
            if (headers.contains(it.key())) {
                error(where, id, "header '" + ss(it.key()) + "' is matched by both header and header_regexp");
                return false;
            }
            if (twice(it.key()))
                return false;
            const QJsonObject re = it.value().toObject();
            regexHeaders.push_back(HeaderMatch {ss(it.key()), StringMatchType::RegularExpression,
                caddyRegexToFullMatch(ss(field(re, "pattern").toString()))});
        }
        std::vector<std::vector<QueryParamMatch>> queryDims;
        const QJsonObject query = field(set, "query").toObject();
        for (auto it = query.begin(); it != query.end(); ++it) {
            std::vector<QueryParamMatch> dim;
            for (const QJsonValue &v : it.value().toArray()) {
                const std::string value = ss(v.toString());
                if (value.find('*') != std::string::npos) {
                    error(where, id,
                        "query matcher '" + ss(it.key()) + "' value '" + value
                            + "' is a wildcard; meshscope writes only exact query values to Caddy");
                    return false;
                }
                dim.push_back(QueryParamMatch {ss(it.key()), StringMatchType::Exact, value});
            }
            if (dim.empty()) {
                error(where, id, "query matcher '" + ss(it.key()) + "' lists no values");
                return false;
            }
            queryDims.push_back(dim);
        }
        size_t count = paths.size() * methods.size();
        for (const auto &d : headerDims)
            count *= d.size();
        for (const auto &d : queryDims)
            count *= d.size();
        if (count > kMaxAlternatives) {
            error(where, id,
                "its lists of values expand to " + std::to_string(count) + " alternative matches (more than "
                    + std::to_string(kMaxAlternatives) + ")");
            return false;
        }
        for (const auto &p : paths) {
            for (const std::string &m : methods) {
                std::vector<RouteMatch> partial(1);
                partial[0].path = p;
                partial[0].method = m;
                for (const auto &dim : headerDims) {
                    std::vector<RouteMatch> next;
                    for (const RouteMatch &base : partial) {
                        for (const HeaderMatch &h : dim) {
                            RouteMatch x = base;
                            x.headers.push_back(h);
                            next.push_back(x);
                        }
                    }
                    partial = std::move(next);
                }
                for (RouteMatch &x : partial) {
                    x.headers.insert(x.headers.end(), regexHeaders.begin(), regexHeaders.end());
                    orderHeaders(&x.headers);
                }
                for (const auto &dim : queryDims) {
                    std::vector<RouteMatch> next;
                    for (const RouteMatch &base : partial) {
                        for (const QueryParamMatch &q : dim) {
                            RouteMatch x = base;
                            x.queryParams.push_back(q);
                            next.push_back(x);
                        }
                    }
                    partial = std::move(next);
                }
                alternatives->insert(alternatives->end(), partial.begin(), partial.end());
            }
        }
        return true;
    }

    bool parseDial(const std::string &dial, const std::string &where, const std::string &id, Upstream *out)
    {
        std::string d = dial;
        if (d.rfind("tcp/", 0) == 0)
            d = d.substr(4);
        if (d.find('{') != std::string::npos || d.find('/') != std::string::npos) {
            error(where, id,
                "upstream dial '" + dial
                    + "' uses a placeholder or a non-TCP network, which meshscope's EndpointSlices cannot hold");
            return false;
        }
        const size_t colon = d.rfind(':');
        if (colon == std::string::npos || colon == 0) {
            error(where, id, "upstream dial '" + dial + "' has no port");
            return false;
        }
        std::string host = d.substr(0, colon);
        const std::string port = d.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        bool digits = !port.empty() && port.size() <= 5
            && std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
        if (!digits || std::stoi(port) > 65535) {
            error(where, id,
                "upstream dial '" + dial + "' has port '" + port + "', not one port number (ranges are not read)");
            return false;
        }
        out->host = host;
        out->port = std::stoi(port);
        return true;
    }

    bool parseHeaderOps(
        const QJsonObject &ops, bool response, HeaderModifier *out, const std::string &where, const std::string &id)
    {
        for (auto it = ops.begin(); it != ops.end(); ++it) {
            const QString op = it.key();
            if (op == QLatin1String("set") || op == QLatin1String("add")) {
                const QJsonObject values = it.value().toObject();
                for (auto v = values.begin(); v != values.end(); ++v) {
                    for (const QJsonValue &x : v.value().toArray())
                        (op == QLatin1String("set") ? out->set : out->add).emplace_back(ss(v.key()), ss(x.toString()));
                }
            } else if (op == QLatin1String("delete")) {
                for (const QJsonValue &x : it.value().toArray())
                    out->remove.push_back(ss(x.toString()));
            } else {
                error(where, id,
                    std::string(response ? "response" : "request") + " header operation '" + ss(op)
                        + "' has no equivalent in meshscope's header modifiers (set, add, delete)");
                return false;
            }
        }
        return true;
    }

    bool parseHeaderHandler(const QJsonObject &h, const std::string &where, const std::string &id, RouteRule *rule)
    {
        for (auto it = h.begin(); it != h.end(); ++it) {
            const QString k = it.key();
            if (k == QLatin1String("handler"))
                continue;
            if (k == QLatin1String("request")) {
                if (!parseHeaderOps(it.value().toObject(), false, &rule->requestHeaders, where, id))
                    return false;
            } else if (k == QLatin1String("response")) {
                if (!parseHeaderOps(it.value().toObject(), true, &rule->responseHeaders, where, id))
                    return false;
            } else {
                error(where, id, "headers field '" + ss(k) + "' has no equivalent in meshscope's route model");
                return false;
            }
        }
        return true;
    }

    // A Caddy duration into *out; false, with the reason, when the model cannot hold it.
    // 0 is Go's zero value, which Caddy cannot tell from the field left out (its default:
    // no response header timeout, no time limit on retries, the default try interval):
    // read as unset, which is what the push writes back for it.
    bool duration(const QJsonValue &v, const std::string &what, const std::string &where, const std::string &id,
        std::optional<int64_t> *out)
    {
        const auto ms = parseCaddyDuration(v);
        if (!ms) {
            error(where, id, what + " is not a duration in whole milliseconds");
            return false;
        }
        if (*ms > kMaxDurationMs) {
            error(where, id,
                what + ' ' + formatDuration(*ms) + " is longer than " + formatDuration(kMaxDurationMs)
                    + ", the longest duration a route file can hold");
            return false;
        }
        if (*ms == 0) {
            note(where, id, what + " 0 is Caddy's default (as if left out): read as unset, and not written back");
            out->reset();
            return true;
        }
        *out = ms;
        return true;
    }

    void buildRule(const FlatRoute &f)
    {
        RouteRule rule;
        rule.name = f.id;
        std::optional<std::vector<std::string>> hosts;
        bool first = true;
        for (size_t k = 0; k < f.sets.size(); ++k) {
            const std::string where = f.where + ".match[" + std::to_string(k) + ']';
            std::optional<std::vector<std::string>> h;
            if (!parseSet(f.sets[k], where, f.id, &h, &rule.matches))
                return;
            if (!first && h != hosts) {
                error(where, f.id,
                    "its host matcher differs from the route's first matcher set; every match of a meshscope rule "
                    "has the same hostnames");
                return;
            }
            hosts = h;
            first = false;
        }
        // Without a host matcher, an alternative that matches every request ("/*" beside
        // "/docs", an empty matcher set) leaves nothing for the others to add, and the
        // push writes such a rule without "match": read it that way, so that it comes
        // back from Caddy unchanged.
        if ((!hosts || hosts->empty()) && std::any_of(rule.matches.begin(), rule.matches.end(), matchesEverything)) {
            if (rule.matches.size() > 1)
                note(f.where, f.id,
                    "one of its alternative matches takes every request, so the others are not kept; it is written "
                    "back without a matcher");
            rule.matches.clear();
        }
        for (const auto &[where, handler] : f.headerHandlers) {
            if (!parseHeaderHandler(handler, where, f.id, &rule))
                return;
        }
        // reverse_proxy
        static const std::set<QString> proxyKeys = {QStringLiteral("handler"), QStringLiteral("upstreams"),
            QStringLiteral("load_balancing"), QStringLiteral("headers"), QStringLiteral("transport")};
        const std::string pw = f.proxyWhere;
        for (auto it = f.proxy.begin(); it != f.proxy.end(); ++it) {
            if (!proxyKeys.count(it.key())) {
                error(pw, f.id,
                    "reverse_proxy field '" + ss(it.key())
                        + "' has no equivalent in meshscope's route model; pull refused so it is not dropped");
                return;
            }
        }
        std::vector<Upstream> upstreams;
        for (const QJsonValue &u : field(f.proxy, "upstreams").toArray()) {
            const QJsonObject uo = u.toObject();
            for (auto it = uo.begin(); it != uo.end(); ++it) {
                if (it.key() != QLatin1String("dial")) {
                    error(
                        pw, f.id, "upstream field '" + ss(it.key()) + "' has no equivalent in meshscope's route model");
                    return;
                }
            }
            Upstream up;
            if (!parseDial(ss(field(uo, "dial").toString()), pw, f.id, &up))
                return;
            upstreams.push_back(up);
        }
        if (upstreams.empty()) {
            error(pw, f.id, "reverse_proxy has no static upstreams");
            return;
        }
        const QJsonObject lb = field(f.proxy, "load_balancing").toObject();
        std::optional<int64_t> tryDuration, tryInterval;
        int retries = 0;
        for (auto it = lb.begin(); it != lb.end(); ++it) {
            const QString k = it.key();
            if (k == QLatin1String("selection_policy")) {
                const QString policy = field(it.value().toObject(), "policy").toString();
                const QJsonObject sp = it.value().toObject();
                if (sp.size() > 1 || (policy != QLatin1String("random") && policy != QLatin1String("round_robin"))) {
                    error(pw, f.id,
                        "selection policy '" + ss(policy)
                            + "' has no equivalent in meshscope's route model (random and round_robin are read)");
                    return;
                }
                if (policy == QLatin1String("random") && upstreams.size() > 1)
                    note(pw, f.id,
                        "selection policy random is written back as round_robin (both spread requests evenly)");
            } else if (k == QLatin1String("retries")) {
                retries = it.value().toInt();
            } else if (k == QLatin1String("try_duration")) {
                if (!duration(it.value(), "load_balancing.try_duration", pw, f.id, &tryDuration))
                    return;
            } else if (k == QLatin1String("try_interval")) {
                if (!duration(it.value(), "load_balancing.try_interval", pw, f.id, &tryInterval))
                    return;
            } else {
                error(pw, f.id, "load_balancing field '" + ss(k) + "' has no equivalent in meshscope's route model");
                return;
            }
        }
        if (!lb.contains(QLatin1String("selection_policy")) && upstreams.size() > 1)
            note(pw, f.id,
                "the default selection policy (random) is written back as round_robin (both spread requests evenly)");
        if (retries > 0 || (tryDuration && *tryDuration > 0)) {
            RetryPolicy p;
            p.attempts = retries;
            if (retries == 0) {
                // Caddy retries until try_duration runs out, one try per interval.
                const int64_t interval = tryInterval && *tryInterval > 0 ? *tryInterval : kCaddyDefaultTryIntervalMs;
                p.attempts = int((*tryDuration + interval - 1) / interval);
                note(pw, f.id,
                    "try_duration without retries is read as " + std::to_string(p.attempts)
                        + " retries within timeouts.request " + formatDuration(*tryDuration)
                        + "; written back as retries plus try_duration");
            }
            p.backoffMs = tryInterval;
            rule.retry = p;
            if (tryDuration && *tryDuration > 0)
                rule.timeoutMs = tryDuration;
        } else if (tryInterval) {
            note(pw, f.id, "try_interval is not kept: without retries or try_duration Caddy never uses it");
        }
        const QJsonObject headers = field(f.proxy, "headers").toObject();
        for (auto it = headers.begin(); it != headers.end(); ++it) {
            if (it.key() == QLatin1String("request")) {
                if (!parseHeaderOps(it.value().toObject(), false, &rule.requestHeaders, pw, f.id))
                    return;
            } else if (it.key() == QLatin1String("response")) {
                if (!parseHeaderOps(it.value().toObject(), true, &rule.responseHeaders, pw, f.id))
                    return;
            } else {
                error(pw, f.id,
                    "reverse_proxy headers field '" + ss(it.key()) + "' has no equivalent in meshscope's route model");
                return;
            }
        }
        const QJsonObject transport = field(f.proxy, "transport").toObject();
        for (auto it = transport.begin(); it != transport.end(); ++it) {
            if (it.key() == QLatin1String("protocol") && it.value().toString() == QLatin1String("http"))
                continue;
            if (it.key() == QLatin1String("response_header_timeout")) {
                if (!duration(it.value(), "transport.response_header_timeout", pw, f.id, &rule.backendTimeoutMs))
                    return;
                continue;
            }
            error(pw, f.id,
                "transport field '" + ss(it.key())
                    + "' has no equivalent in meshscope's route model (only "
                      "protocol http and response_header_timeout are read)");
            return;
        }
        m_rules.push_back(Built {std::move(rule), hosts.value_or(std::vector<std::string> {}), upstreams, f.id});
    }

    struct Built {
        RouteRule rule;
        std::vector<std::string> hosts;
        std::vector<Upstream> upstreams;
        std::string id;
    };

    std::string backendFor(const Built &b)
    {
        std::vector<std::string> dials;
        for (const Upstream &u : b.upstreams)
            dials.push_back(u.host + '|' + std::to_string(u.port));
        std::sort(dials.begin(), dials.end());
        const std::string key = join(dials, ",");
        const auto it = m_backendByKey.find(key);
        if (it != m_backendByKey.end())
            return it->second;
        const std::string base = sanitizeName(!b.id.empty() ? b.id
                : !b.hosts.empty()                          ? b.hosts.front()
                                                            : m_server + "-upstream",
            "upstream");
        const std::string name = uniqueName(base, &m_backendNames);
        m_backendByKey.emplace(key, name);
        // One slice per (port, address family): a slice has one port and one address type.
        std::map<std::pair<int, int>, std::vector<std::string>> groups;
        std::vector<std::pair<int, int>> order;
        for (const Upstream &u : b.upstreams) {
            const int family = isIpv6(u.host) ? 6 : 4;
            const auto k = std::make_pair(u.port, family);
            if (!groups.count(k))
                order.push_back(k);
            auto &addrs = groups[k];
            if (std::find(addrs.begin(), addrs.end(), u.host) == addrs.end())
                addrs.push_back(u.host);
            else
                note(b.rule.name.empty() ? "upstreams" : "@id '" + b.rule.name + "'", {},
                    "upstream " + u.host + ':' + std::to_string(u.port) + " is listed twice; it is kept once");
        }
        for (const auto &k : order) {
            EndpointSlice s;
            s.name = uniqueName(order.size() == 1 ? name : name + '-' + std::to_string(k.first), &m_sliceNames);
            s.serviceName = name;
            s.port = k.first;
            for (const std::string &a : groups[k])
                s.endpoints.push_back(Endpoint {a, true});
            m_result.set.endpointSlices.push_back(s);
        }
        return name;
    }

    void assemble()
    {
        std::set<std::string> routeNames;
        HttpRoute *current = nullptr;
        for (Built &b : m_rules) {
            if (!current || current->hostnames != b.hosts) {
                HttpRoute r;
                r.name = uniqueName(sanitizeName(b.hosts.empty() ? m_server : b.hosts.front(), "caddy"), &routeNames);
                r.hostnames = b.hosts;
                m_result.set.routes.push_back(r);
                current = &m_result.set.routes.back();
            }
            BackendRef ref;
            ref.name = backendFor(b);
            b.rule.backends.push_back(ref);
            current->rules.push_back(std::move(b.rule));
        }
    }

    std::string m_server;
    CaddyPullResult m_result;
    std::vector<FlatRoute> m_flat;
    std::vector<Built> m_rules;
    std::map<std::string, std::string> m_backendByKey;
    std::set<std::string> m_backendNames, m_sliceNames;
};

}  // namespace

CaddyPullResult caddyRoutesToModel(const QJsonArray &routes, const std::string &serverName)
{
    return CaddyReader(serverName).run(routes);
}

}  // namespace meshscope::routing

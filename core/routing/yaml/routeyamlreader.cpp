#include "routing/yaml/routeyamlreader.h"
#include "routing/yaml/yamlguard.h"

#include "routing/yaml/gatewayduration.h"
#include "routing/yaml/routeyamlschema.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace meshscope::routing {

namespace {

// The file format's vocabulary (routeyamlschema.h).
using namespace routeyaml;

int lineOf(const YAML::Node &n)
{
    if (!n.IsDefined())
        return 0;
    const YAML::Mark m = n.Mark();
    return m.line >= 0 ? m.line + 1 : 0;
}

std::string indexed(const std::string &base, size_t i) { return base + '[' + std::to_string(i) + ']'; }

std::string join(const std::string &prefix, const std::string &field)
{
    return prefix.empty() ? field : prefix + '.' + field;
}

// The entries of one YAML mapping in document order, with a check for keys the
// format does not know: a typo such as "backendRef" must not vanish silently.
class MapView {
public:
    explicit MapView(const YAML::Node &n)
    {
        if (!n.IsMap())
            return;
        for (const auto &kv : n) {
            if (kv.first.IsScalar()) {
                m_entries.emplace_back(kv.first.Scalar(), kv.second);
                m_keyLines.push_back(lineOf(kv.first));
            }
        }
    }
    int keyLine(size_t i) const { return m_keyLines[i]; }
    YAML::Node get(const std::string &key) const
    {
        for (const auto &[k, v] : m_entries) {
            if (k == key)
                return v;
        }
        return YAML::Node(YAML::NodeType::Undefined);
    }
    bool has(const std::string &key) const { return get(key).IsDefined(); }
    const std::vector<std::pair<std::string, YAML::Node>> &entries() const { return m_entries; }

private:
    std::vector<std::pair<std::string, YAML::Node>> m_entries;
    std::vector<int> m_keyLines;
};

// Reads one document, reporting every problem with the document's name, the rule
// being read and the field path, and recording the line of each field it reads.
class DocReader {
public:
    DocReader(const std::string &file, int documentIndex, std::vector<RouteIssue> &issues)
        : m_file(file)
        , m_documentIndex(documentIndex)
        , m_issues(issues)
    {
    }

    SourceRef source(const YAML::Node &n) const
    {
        SourceRef s;
        s.file = m_file;
        s.documentIndex = m_documentIndex;
        s.line = lineOf(n);
        return s;
    }
    void setDocument(std::string d) { m_document = std::move(d); }
    void setRule(std::string rule, std::map<std::string, int> *lines)
    {
        m_rule = std::move(rule);
        m_lines = lines;
    }
    bool hadErrors() const { return m_errors > 0; }

    void issue(Severity sev, const YAML::Node &at, const std::string &field, std::string message, int fallbackLine = 0)
    {
        RouteIssue i;
        i.severity = sev;
        i.document = m_document;
        i.rule = m_rule;
        i.field = field;
        i.message = std::move(message);
        i.source = source(at);
        if (i.source.line == 0)
            i.source.line = fallbackLine;
        if (sev == Severity::Error)
            ++m_errors;
        m_issues.push_back(std::move(i));
    }
    void error(const YAML::Node &at, const std::string &field, std::string message)
    {
        issue(Severity::Error, at, field, std::move(message));
    }
    void warning(const YAML::Node &at, const std::string &field, std::string message)
    {
        issue(Severity::Warning, at, field, std::move(message));
    }

    // The first line recorded for a field wins: map() records each key's own line
    // before its value is read, and a block list or mapping would otherwise point
    // at its first item rather than at the key that names it.
    void note(const YAML::Node &n, const std::string &field)
    {
        if (m_lines && n.IsDefined())
            m_lines->emplace(field, lineOf(n));
    }

    // A mapping with only the given keys; anything else is reported and ignored.
    std::optional<MapView> map(const YAML::Node &n, const std::string &field, std::initializer_list<const char *> known,
        bool warnUnknown = true)
    {
        note(n, field);
        if (!n.IsMap()) {
            error(n, field, "expected a mapping");
            return std::nullopt;
        }
        MapView v(n);
        if (m_lines) {
            for (size_t i = 0; i < v.entries().size(); ++i)
                m_lines->emplace(join(field, v.entries()[i].first), v.keyLine(i));
        }
        if (warnUnknown) {
            for (const auto &[k, node] : v.entries()) {
                const bool ok = std::any_of(known.begin(), known.end(), [&](const char *s) { return k == s; });
                if (!ok)
                    warning(node, join(field, k), "unknown field ignored");
            }
        }
        return v;
    }

    // A sequence; a missing or null node reads as empty.
    std::vector<YAML::Node> seq(const YAML::Node &n, const std::string &field)
    {
        std::vector<YAML::Node> out;
        if (!n.IsDefined() || n.IsNull())
            return out;
        note(n, field);
        if (!n.IsSequence()) {
            error(n, field, "expected a list");
            return out;
        }
        for (const auto &item : n)
            out.push_back(item);
        return out;
    }

    std::optional<std::string> str(const YAML::Node &n, const std::string &field)
    {
        note(n, field);
        if (!n.IsScalar()) {
            error(n, field, "expected a string");
            return std::nullopt;
        }
        return n.Scalar();
    }

    std::optional<int64_t> integer(const YAML::Node &n, const std::string &field, int64_t lo, int64_t hi)
    {
        note(n, field);
        if (!n.IsScalar()) {
            error(n, field, "expected an integer");
            return std::nullopt;
        }
        const std::string &s = n.Scalar();
        int64_t v = 0;
        const char *begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
        const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || begin == end) {
            error(n, field, "expected an integer, got '" + s + "'");
            return std::nullopt;
        }
        if (v < lo || v > hi) {
            error(n, field,
                std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
            return std::nullopt;
        }
        return v;
    }

    std::optional<double> number(const YAML::Node &n, const std::string &field, double lo, double hi)
    {
        note(n, field);
        if (!n.IsScalar()) {
            error(n, field, "expected a number");
            return std::nullopt;
        }
        const std::string &s = n.Scalar();
        double v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
            error(n, field, "expected a number, got '" + s + "'");
            return std::nullopt;
        }
        if (v < lo || v > hi) {
            std::ostringstream m;
            m << s << " is out of range [" << lo << ", " << hi << "]";
            error(n, field, m.str());
            return std::nullopt;
        }
        return v;
    }

    std::optional<bool> boolean(const YAML::Node &n, const std::string &field)
    {
        note(n, field);
        if (n.IsScalar()) {
            const std::string &s = n.Scalar();
            if (s == "true" || s == "True" || s == "TRUE")
                return true;
            if (s == "false" || s == "False" || s == "FALSE")
                return false;
        }
        error(n, field, "expected true or false");
        return std::nullopt;
    }

    std::optional<int64_t> duration(const YAML::Node &n, const std::string &field)
    {
        const auto s = str(n, field);
        if (!s)
            return std::nullopt;
        const auto ms = parseDuration(*s);
        if (!ms && durationTooLong(*s))
            error(n, field,
                "'" + *s + "' is longer than " + formatDuration(kMaxDurationMs)
                    + ", the longest duration a route file can hold");
        else if (!ms)
            error(n, field, "'" + *s + "' is not a duration such as 10s, 500ms or 1m30s (Gateway API GEP-2257)");
        return ms;
    }

private:
    const std::string &m_file;
    int m_documentIndex;
    std::vector<RouteIssue> &m_issues;
    std::string m_document;
    std::string m_rule;
    std::map<std::string, int> *m_lines = nullptr;
    int m_errors = 0;
};

struct Metadata {
    std::string name;
    std::string ns = "default";
    std::string serviceName;  // EndpointSlice label
};

Metadata readMetadata(const YAML::Node &doc, const MapView &top, DocReader &r, const std::string &kind)
{
    Metadata md;
    r.setDocument(kind + " <unnamed>");
    const YAML::Node m = top.get("metadata");
    if (!m.IsDefined()) {
        r.error(doc, "metadata.name", "required");
        return md;
    }
    const auto view = r.map(m, "metadata", {}, false);
    if (!view)
        return md;
    if (view->has("namespace")) {
        if (auto ns = r.str(view->get("namespace"), "metadata.namespace"); ns && !ns->empty())
            md.ns = *ns;
    }
    if (view->has("name")) {
        if (auto n = r.str(view->get("name"), "metadata.name"))
            md.name = *n;
    }
    if (!md.name.empty())
        r.setDocument(kind + ' ' + md.ns + '/' + md.name);
    else
        r.error(view->has("name") ? view->get("name") : m, "metadata.name", "required");
    const YAML::Node labels = view->get("labels");
    if (labels.IsDefined() && !labels.IsNull()) {
        if (auto lv = r.map(labels, "metadata.labels", {}, false); lv && lv->has(kServiceNameLabel)) {
            if (auto s = r.str(lv->get(kServiceNameLabel), "metadata.labels." + kServiceNameLabel))
                md.serviceName = *s;
        }
    }
    return md;
}

void checkApiVersion(const YAML::Node &doc, const MapView &top, DocReader &r, const std::vector<std::string> &accepted)
{
    const YAML::Node v = top.get("apiVersion");
    if (!v.IsDefined()) {
        r.error(doc, "apiVersion", "required (" + accepted.front() + ")");
        return;
    }
    const auto s = r.str(v, "apiVersion");
    if (s && std::find(accepted.begin(), accepted.end(), *s) == accepted.end())
        r.error(v, "apiVersion", "'" + *s + "' is not supported; use " + accepted.front());
}

std::optional<StringMatchType> stringMatchType(DocReader &r, const YAML::Node &n, const std::string &field)
{
    if (!n.IsDefined())
        return StringMatchType::Exact;  // Gateway API default
    const auto s = r.str(n, field);
    if (!s)
        return std::nullopt;
    if (*s == "Exact")
        return StringMatchType::Exact;
    if (*s == "RegularExpression")
        return StringMatchType::RegularExpression;
    r.error(n, field, "'" + *s + "' is not a match type (Exact or RegularExpression)");
    return std::nullopt;
}

// headers[] and queryParams[] share one shape: {name, type, value}.
template <typename M>
std::vector<M> readNameValueMatches(DocReader &r, const YAML::Node &n, const std::string &field)
{
    std::vector<M> out;
    const auto items = r.seq(n, field);
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string f = indexed(field, i);
        const auto v = r.map(items[i], f, {"name", "type", "value"});
        if (!v)
            continue;
        M m;
        bool ok = true;
        if (v->has("name")) {
            auto s = r.str(v->get("name"), f + ".name");
            ok = ok && s;
            if (s)
                m.name = *s;
        } else {
            r.error(items[i], f + ".name", "required");
            ok = false;
        }
        if (v->has("value")) {
            auto s = r.str(v->get("value"), f + ".value");
            ok = ok && s;
            if (s)
                m.value = *s;
        } else {
            r.error(items[i], f + ".value", "required");
            ok = false;
        }
        const auto t = stringMatchType(r, v->get("type"), f + ".type");
        if (t)
            m.type = *t;
        if (ok && t)
            out.push_back(std::move(m));
    }
    return out;
}

std::optional<RouteMatch> readMatch(DocReader &r, const YAML::Node &n, const std::string &field)
{
    const auto v = r.map(n, field, {"path", "headers", "queryParams", "method"});
    if (!v)
        return std::nullopt;
    RouteMatch m;
    PathMatch path;  // Gateway API default PathPrefix "/", made explicit here
    if (v->has("path")) {
        const std::string f = field + ".path";
        if (const auto pv = r.map(v->get("path"), f, {"type", "value"})) {
            if (pv->has("type")) {
                const auto t = r.str(pv->get("type"), f + ".type");
                if (t && *t == "Exact")
                    path.type = PathMatchType::Exact;
                else if (t && *t == "PathPrefix")
                    path.type = PathMatchType::PathPrefix;
                else if (t && *t == "RegularExpression")
                    path.type = PathMatchType::RegularExpression;
                else if (t)
                    r.error(pv->get("type"), f + ".type",
                        "'" + *t + "' is not a path match type (Exact, PathPrefix or RegularExpression)");
            }
            if (pv->has("value")) {
                if (const auto s = r.str(pv->get("value"), f + ".value"))
                    path.value = *s;
            }
        }
    }
    m.path = path;
    m.headers = readNameValueMatches<HeaderMatch>(r, v->get("headers"), field + ".headers");
    m.queryParams = readNameValueMatches<QueryParamMatch>(r, v->get("queryParams"), field + ".queryParams");
    if (v->has("method")) {
        if (const auto s = r.str(v->get("method"), field + ".method"))
            m.method = *s;
    }
    return m;
}

// A reference to a Service: backendRefs[] and requestMirror.backendRef.
std::optional<BackendRef> readBackendRef(DocReader &r, const YAML::Node &n, const std::string &field, bool withWeight)
{
    const auto v = withWeight ? r.map(n, field, {"name", "namespace", "port", "weight", "group", "kind", "filters"})
                              : r.map(n, field, {"name", "namespace", "port", "group", "kind"});
    if (!v)
        return std::nullopt;
    BackendRef b;
    bool ok = true;
    if (v->has("group")) {
        const auto g = r.str(v->get("group"), field + ".group");
        if (g && !g->empty() && *g != "core") {
            r.error(v->get("group"), field + ".group", "only Services (group \"\") can be backends");
            ok = false;
        }
    }
    if (v->has("kind")) {
        const auto k = r.str(v->get("kind"), field + ".kind");
        if (k && *k != "Service") {
            r.error(v->get("kind"), field + ".kind", "'" + *k + "' is not supported; only Service backends are");
            ok = false;
        }
    }
    if (v->has("filters") && !r.seq(v->get("filters"), field + ".filters").empty())
        r.error(
            v->get("filters"), field + ".filters", "per-backend filters are not supported; put filters on the rule");
    if (v->has("name")) {
        const auto s = r.str(v->get("name"), field + ".name");
        if (s && !s->empty())
            b.name = *s;
        else if (s)
            r.error(v->get("name"), field + ".name", "must not be empty");
    } else {
        r.error(n, field + ".name", "required");
    }
    if (b.name.empty())
        ok = false;
    if (v->has("namespace")) {
        if (const auto s = r.str(v->get("namespace"), field + ".namespace"))
            b.ns = *s;
    }
    if (v->has("port")) {
        if (const auto p = r.integer(v->get("port"), field + ".port", 1, 65535))
            b.port = int(*p);
    }
    if (withWeight && v->has("weight")) {
        // The range is the validator's business (it reports negative weights with the
        // reason); here only "is it an int32".
        if (const auto w = r.integer(v->get("weight"), field + ".weight", INT32_MIN, INT32_MAX))
            b.weight = int(*w);
    }
    if (!ok)
        return std::nullopt;
    return b;
}

void readHeaderModifier(DocReader &r, const YAML::Node &n, const std::string &field, HeaderModifier &out)
{
    const auto v = r.map(n, field, {"set", "add", "remove"});
    if (!v)
        return;
    for (const char *op : {"set", "add"}) {
        auto &list = std::string(op) == "set" ? out.set : out.add;
        const std::string f = join(field, op);
        const auto items = r.seq(v->get(op), f);
        for (size_t i = 0; i < items.size(); ++i) {
            const std::string fi = indexed(f, i);
            const auto hv = r.map(items[i], fi, {"name", "value"});
            if (!hv)
                continue;
            if (!hv->has("name") || !hv->has("value")) {
                r.error(items[i], fi, "needs both name and value");
                continue;
            }
            const auto name = r.str(hv->get("name"), fi + ".name");
            const auto value = r.str(hv->get("value"), fi + ".value");
            if (name && value)
                list.emplace_back(*name, *value);
        }
    }
    const auto items = r.seq(v->get("remove"), field + ".remove");
    for (size_t i = 0; i < items.size(); ++i) {
        if (const auto s = r.str(items[i], indexed(field + ".remove", i)))
            out.remove.push_back(*s);
    }
}

std::optional<double> readPercent(DocReader &r, const YAML::Node &n, const std::string &field)
{
    return r.number(n, field, 0, 100);
}

void readFault(DocReader &r, const YAML::Node &n, const std::string &field, FaultInjection &fault)
{
    const auto v = r.map(n, field, {"delay", "abort"});
    if (!v)
        return;
    if (v->has("delay")) {
        const std::string f = field + ".delay";
        if (const auto dv = r.map(v->get("delay"), f, {"fixedDelay", "percent"})) {
            if (dv->has("fixedDelay"))
                fault.delayMs = r.duration(dv->get("fixedDelay"), f + ".fixedDelay");
            else
                r.error(v->get("delay"), f + ".fixedDelay", "required");
            if (dv->has("percent")) {
                if (const auto p = readPercent(r, dv->get("percent"), f + ".percent"))
                    fault.delayPercent = *p;
            }
        }
    }
    if (v->has("abort")) {
        const std::string f = field + ".abort";
        if (const auto av = r.map(v->get("abort"), f, {"httpStatus", "percent"})) {
            if (av->has("httpStatus")) {
                if (const auto s = r.integer(av->get("httpStatus"), f + ".httpStatus", 0, 999))
                    fault.abortHttpStatus = int(*s);
            } else {
                r.error(v->get("abort"), f + ".httpStatus", "required");
            }
            if (av->has("percent")) {
                if (const auto p = readPercent(r, av->get("percent"), f + ".percent"))
                    fault.abortPercent = *p;
            }
        }
    }
    if (!v->has("delay") && !v->has("abort"))
        r.error(n, field, "needs delay, abort or both");
}

void readFilters(DocReader &r, const YAML::Node &n, RouteRule &rule)
{
    const auto items = r.seq(n, "filters");
    bool seenReq = false, seenResp = false;
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string f = indexed("filters", i);
        const auto v = r.map(items[i], f,
            {"type", "requestHeaderModifier", "responseHeaderModifier", "requestMirror", "extensionRef",
                "requestRedirect", "urlRewrite", "cors", kFaultKey.c_str()});
        if (!v)
            continue;
        if (!v->has("type")) {
            r.error(items[i], f + ".type", "required");
            continue;
        }
        const auto type = r.str(v->get("type"), f + ".type");
        if (!type)
            continue;
        auto needs = [&](const char *key) -> YAML::Node {
            const YAML::Node c = v->get(key);
            if (!c.IsDefined())
                r.error(items[i], f + '.' + key, "required for type " + *type);
            return c;
        };
        if (*type == "RequestHeaderModifier" || *type == "ResponseHeaderModifier") {
            const bool req = *type == "RequestHeaderModifier";
            bool &seen = req ? seenReq : seenResp;
            if (seen) {
                r.error(items[i], f + ".type", "only one " + *type + " filter is allowed per rule");
                continue;
            }
            seen = true;
            const char *key = req ? "requestHeaderModifier" : "responseHeaderModifier";
            const YAML::Node c = needs(key);
            if (c.IsDefined())
                readHeaderModifier(r, c, f + '.' + key, req ? rule.requestHeaders : rule.responseHeaders);
        } else if (*type == "RequestMirror") {
            if (rule.mirror) {
                r.error(items[i], f + ".type", "meshscope supports one RequestMirror filter per rule");
                continue;
            }
            const YAML::Node c = needs("requestMirror");
            if (!c.IsDefined())
                continue;
            const std::string fm = f + ".requestMirror";
            const auto mv = r.map(c, fm, {"backendRef", "percent", "fraction"});
            if (!mv)
                continue;
            if (!mv->has("backendRef")) {
                r.error(c, fm + ".backendRef", "required");
                continue;
            }
            const auto b = readBackendRef(r, mv->get("backendRef"), fm + ".backendRef", false);
            if (!b)
                continue;
            RequestMirror m;
            m.backend = *b;
            m.backend.weight = 1;
            if (mv->has("percent") && mv->has("fraction"))
                r.error(c, fm, "set percent or fraction, not both");
            if (mv->has("percent")) {
                if (const auto p = r.integer(mv->get("percent"), fm + ".percent", 0, 100))
                    m.percent = double(*p);
            } else if (mv->has("fraction")) {
                const std::string ff = fm + ".fraction";
                if (const auto fv = r.map(mv->get("fraction"), ff, {"numerator", "denominator"})) {
                    std::optional<int64_t> num, den = 100;  // Gateway API default denominator
                    if (fv->has("numerator"))
                        num = r.integer(fv->get("numerator"), ff + ".numerator", 0, INT32_MAX);
                    else
                        r.error(mv->get("fraction"), ff + ".numerator", "required");
                    if (fv->has("denominator"))
                        den = r.integer(fv->get("denominator"), ff + ".denominator", 1, INT32_MAX);
                    if (num && den) {
                        if (*num > *den)
                            r.error(mv->get("fraction"), ff, "numerator must not exceed denominator");
                        else
                            m.percent = double(*num) * 100.0 / double(*den);
                    }
                }
            }
            rule.mirror = m;
        } else if (*type == "ExtensionRef") {
            const YAML::Node c = needs("extensionRef");
            if (!c.IsDefined())
                continue;
            const std::string fe = f + ".extensionRef";
            const auto ev = r.map(c, fe, {"group", "kind", "name"});
            if (!ev)
                continue;
            const auto group = ev->has("group") ? r.str(ev->get("group"), fe + ".group") : std::string();
            const auto kind = ev->has("kind") ? r.str(ev->get("kind"), fe + ".kind") : std::string();
            if (!group || !kind)
                continue;
            if (*group != kExtensionGroup || *kind != kFaultKind) {
                r.error(c, fe,
                    "extension '" + *group + "/" + *kind + "' is not supported; meshscope knows " + kExtensionGroup
                        + "/" + kFaultKind);
                continue;
            }
            if (rule.fault) {
                r.error(items[i], f, "only one " + kFaultKind + " filter is allowed per rule");
                continue;
            }
            const YAML::Node params = v->get(kFaultKey);
            if (!params.IsDefined()) {
                r.error(items[i], f + '.' + kFaultKey, "required: the fault's delay and/or abort");
                continue;
            }
            FaultInjection fault;
            readFault(r, params, f + '.' + kFaultKey, fault);
            rule.fault = fault;
        } else {
            r.error(v->get("type"), f + ".type",
                "filter type '" + *type
                    + "' is not supported (supported: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, "
                      "ExtensionRef to meshscope.io/FaultInjection)");
        }
    }
}

void readRetry(DocReader &r, const YAML::Node &n, RouteRule &rule)
{
    const auto v = r.map(n, "retry", {"attempts", "codes", "backoff", kRetryOnKey.c_str(), kPerTryTimeoutKey.c_str()});
    if (!v)
        return;
    RetryPolicy p;
    if (v->has("attempts")) {
        if (const auto a = r.integer(v->get("attempts"), "retry.attempts", INT32_MIN, INT32_MAX))
            p.attempts = int(*a);
    }
    const auto codes = r.seq(v->get("codes"), "retry.codes");
    for (size_t i = 0; i < codes.size(); ++i) {
        if (const auto c = r.integer(codes[i], indexed("retry.codes", i), INT32_MIN, INT32_MAX))
            p.codes.push_back(int(*c));
    }
    if (v->has("backoff"))
        p.backoffMs = r.duration(v->get("backoff"), "retry.backoff");
    const std::string fOn = "retry." + kRetryOnKey;
    const YAML::Node on = v->get(kRetryOnKey);
    if (on.IsScalar()) {
        // Also accept Envoy's own comma-separated spelling; written back as a list.
        r.note(on, fOn);
        std::stringstream ss(on.Scalar());
        std::string item;
        while (std::getline(ss, item, ',')) {
            item.erase(0, item.find_first_not_of(' '));
            item.erase(item.find_last_not_of(' ') + 1);
            if (!item.empty())
                p.retryOn.push_back(item);
        }
    } else {
        const auto items = r.seq(on, fOn);
        for (size_t i = 0; i < items.size(); ++i) {
            if (const auto s = r.str(items[i], indexed(fOn, i)))
                p.retryOn.push_back(*s);
        }
    }
    if (v->has(kPerTryTimeoutKey))
        p.perTryTimeoutMs = r.duration(v->get(kPerTryTimeoutKey), "retry." + kPerTryTimeoutKey);
    rule.retry = p;
}

RouteRule readRule(DocReader &r, const YAML::Node &n, size_t index)
{
    RouteRule rule;
    rule.source = r.source(n);
    const std::string indexName = indexed("rules", index);
    r.setRule(indexName, &rule.source.fieldLines);
    const auto v = r.map(n, "", {"name", "matches", "filters", "backendRefs", "timeouts", "retry"});
    if (!v)
        return rule;
    if (v->has("name")) {
        if (const auto s = r.str(v->get("name"), "name"))
            rule.name = *s;
    }
    r.setRule(rule.name.empty() ? indexName : rule.name, &rule.source.fieldLines);
    const auto matches = r.seq(v->get("matches"), "matches");
    for (size_t i = 0; i < matches.size(); ++i) {
        if (auto m = readMatch(r, matches[i], indexed("matches", i)))
            rule.matches.push_back(std::move(*m));
    }
    if (rule.matches.empty() && matches.empty())
        rule.matches.push_back(RouteMatch {PathMatch {}, {}, {}, {}});  // Gateway API default, made explicit
    readFilters(r, v->get("filters"), rule);
    const auto backends = r.seq(v->get("backendRefs"), "backendRefs");
    for (size_t i = 0; i < backends.size(); ++i) {
        if (auto b = readBackendRef(r, backends[i], indexed("backendRefs", i), true))
            rule.backends.push_back(std::move(*b));
    }
    if (v->has("timeouts")) {
        if (const auto tv = r.map(v->get("timeouts"), "timeouts", {"request", "backendRequest"})) {
            if (tv->has("request"))
                rule.timeoutMs = r.duration(tv->get("request"), "timeouts.request");
            if (tv->has("backendRequest"))
                rule.backendTimeoutMs = r.duration(tv->get("backendRequest"), "timeouts.backendRequest");
        }
    }
    if (v->has("retry"))
        readRetry(r, v->get("retry"), rule);
    return rule;
}

void readHttpRoute(const YAML::Node &doc, const MapView &top, DocReader &r, RouteSet &set)
{
    HttpRoute route;
    route.source = r.source(doc);
    r.setRule({}, &route.source.fieldLines);
    checkApiVersion(doc, top, r, {kGatewayApiVersion, "gateway.networking.k8s.io/v1beta1"});
    const Metadata md = readMetadata(doc, top, r, "HTTPRoute");
    route.name = md.name;
    route.ns = md.ns;
    const YAML::Node spec = top.get("spec");
    if (!spec.IsDefined()) {
        r.error(doc, "spec", "required");
    } else if (const auto sv = r.map(spec, "spec", {"parentRefs", "hostnames", "rules"})) {
        const auto hosts = r.seq(sv->get("hostnames"), "spec.hostnames");
        for (size_t i = 0; i < hosts.size(); ++i) {
            if (const auto h = r.str(hosts[i], indexed("spec.hostnames", i)))
                route.hostnames.push_back(*h);
        }
        const auto rules = r.seq(sv->get("rules"), "spec.rules");
        for (size_t i = 0; i < rules.size(); ++i) {
            route.rules.push_back(readRule(r, rules[i], i));
            r.setRule({}, &route.source.fieldLines);
        }
    }
    if (!route.name.empty())
        set.routes.push_back(std::move(route));
}

void readEndpointSlice(const YAML::Node &doc, const MapView &top, DocReader &r, RouteSet &set)
{
    EndpointSlice slice;
    slice.source = r.source(doc);
    r.setRule({}, &slice.source.fieldLines);
    checkApiVersion(doc, top, r, {kDiscoveryApiVersion, "discovery.k8s.io/v1beta1"});
    const Metadata md = readMetadata(doc, top, r, "EndpointSlice");
    slice.name = md.name;
    slice.ns = md.ns;
    slice.serviceName = md.serviceName;
    if (slice.serviceName.empty() && !md.name.empty())
        r.error(top.get("metadata"), "metadata.labels." + kServiceNameLabel,
            "required: it names the Service (backendRefs[].name) this slice serves");
    std::string addressType;
    if (top.has("addressType")) {
        if (const auto t = r.str(top.get("addressType"), "addressType")) {
            if (*t == "IPv4" || *t == "IPv6" || *t == "FQDN")
                addressType = *t;
            else
                r.error(top.get("addressType"), "addressType", "'" + *t + "' is not IPv4, IPv6 or FQDN");
        }
    }
    const auto ports = r.seq(top.get("ports"), "ports");
    for (size_t i = 0; i < ports.size(); ++i) {
        const std::string f = indexed("ports", i);
        const auto pv = r.map(ports[i], f, {"name", "port", "protocol", "appProtocol"});
        if (!pv || i > 0)
            continue;
        if (pv->has("name")) {
            if (const auto s = r.str(pv->get("name"), f + ".name"))
                slice.portName = *s;
        }
        if (pv->has("port")) {
            if (const auto p = r.integer(pv->get("port"), f + ".port", 1, 65535))
                slice.port = int(*p);
        }
        if (pv->has("protocol")) {
            const auto proto = r.str(pv->get("protocol"), f + ".protocol");
            if (proto && *proto != "TCP")
                r.error(pv->get("protocol"), f + ".protocol", "only TCP ports can carry HTTP routes");
        }
    }
    if (ports.size() > 1)
        r.warning(ports[1], "ports[1]", "only the first port of a slice is used; put other ports in their own slice");
    const auto eps = r.seq(top.get("endpoints"), "endpoints");
    for (size_t i = 0; i < eps.size(); ++i) {
        const std::string f = indexed("endpoints", i);
        // Endpoints carry many fields meshscope does not use (zone, nodeName, ...).
        const auto ev = r.map(eps[i], f, {}, false);
        if (!ev)
            continue;
        const auto addrs = r.seq(ev->get("addresses"), f + ".addresses");
        if (addrs.empty()) {
            r.error(eps[i], f + ".addresses", "needs at least one address");
            continue;
        }
        if (addrs.size() > 1)
            r.warning(addrs[1], f + ".addresses[1]",
                "only the first address is used (Kubernetes treats an endpoint's addresses as fungible)");
        const auto a = r.str(addrs[0], f + ".addresses[0]");
        if (!a || a->empty())
            continue;
        const bool v4 = isIp(AF_INET, *a), v6 = isIp(AF_INET6, *a);
        // Without addressType the first address gives the slice its type: a slice holds
        // one, and toYaml writes the one all its addresses share.
        const bool inferred = !top.has("addressType");
        if (inferred && addressType.empty())
            addressType = v4 ? "IPv4" : v6 ? "IPv6" : "FQDN";
        if ((addressType == "IPv4" && !v4) || (addressType == "IPv6" && !v6) || (addressType == "FQDN" && (v4 || v6)))
            r.error(addrs[0], f + ".addresses[0]",
                "'" + *a + "' is not an " + addressType + " address"
                    + (inferred ? " (without addressType, the slice's first address sets its type)" : ""));
        Endpoint ep;
        ep.address = *a;
        const YAML::Node cond = ev->get("conditions");
        if (cond.IsDefined() && !cond.IsNull()) {
            if (const auto cv = r.map(cond, f + ".conditions", {}, false); cv && cv->has("ready")) {
                // Kubernetes: a null ready condition means ready.
                const YAML::Node rn = cv->get("ready");
                if (!rn.IsNull()) {
                    if (const auto b = r.boolean(rn, f + ".conditions.ready"))
                        ep.ready = *b;
                }
            }
        }
        slice.endpoints.push_back(std::move(ep));
    }
    if (!slice.name.empty())
        set.endpointSlices.push_back(std::move(slice));
}

}  // namespace

bool RouteLoadResult::ok() const
{
    return std::none_of(
        issues.begin(), issues.end(), [](const RouteIssue &i) { return i.severity == Severity::Error; });
}

RouteLoadResult loadRouteYaml(const std::string &text, const std::string &fileName)
{
    RouteLoadResult result;
    std::vector<YAML::Node> docs;
    if (YamlGuardError refused; !checkYaml(text, &refused)) {
        RouteIssue i;
        i.document = "document " + std::to_string(refused.documentIndex + 1);
        i.field = refused.field;
        i.message = refused.message;
        i.source.file = fileName;
        i.source.documentIndex = refused.documentIndex;
        i.source.line = refused.line;
        result.issues.push_back(std::move(i));
        return result;
    }
    try {
        docs = YAML::LoadAll(text);
    } catch (const YAML::Exception &ex) {
        // yaml-cpp stops at the first syntax error; nothing from the file is trusted.
        RouteIssue i;
        i.message = "YAML syntax error: " + ex.msg;
        i.source.file = fileName;
        i.source.line = ex.mark.line >= 0 ? ex.mark.line + 1 : 0;
        result.issues.push_back(std::move(i));
        return result;
    }
    for (size_t d = 0; d < docs.size(); ++d) {
        const YAML::Node &doc = docs[d];
        if (doc.IsNull())
            continue;  // an empty document, e.g. after a trailing "---"
        DocReader r(fileName, int(d), result.issues);
        r.setDocument("document " + std::to_string(d + 1));
        if (!doc.IsMap()) {
            r.error(doc, {}, "expected a mapping with apiVersion and kind");
            continue;
        }
        const MapView top(doc);
        const YAML::Node kindNode = top.get("kind");
        const std::string kind = kindNode.IsScalar() ? kindNode.Scalar() : std::string();
        if (kind == "HTTPRoute") {
            readHttpRoute(doc, top, r, result.set);
        } else if (kind == "EndpointSlice") {
            readEndpointSlice(doc, top, r, result.set);
        } else if (kind.empty()) {
            r.error(doc, "kind", "required (HTTPRoute or EndpointSlice)");
        } else {
            r.setDocument(kind + " (document " + std::to_string(d + 1) + ")");
            r.warning(kindNode, "kind", "ignored: meshscope reads HTTPRoute and EndpointSlice documents");
        }
    }
    return result;
}

RouteLoadResult loadRouteFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        RouteLoadResult result;
        RouteIssue i;
        i.message = "cannot open file";
        i.source.file = path;
        result.issues.push_back(std::move(i));
        return result;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return loadRouteYaml(ss.str(), path);
}

}  // namespace meshscope::routing

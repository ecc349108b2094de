#include "routing/whatif.h"

#include <QJsonArray>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace meshscope::routing {

namespace {

constexpr std::string_view kHttpHeaderPrefix = "http.request.header.";
constexpr std::string_view kGrpcMetadataPrefix = "rpc.grpc.request.metadata.";

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

// The decoder writes an array attribute as compact JSON ("[\"a\",\"b\"]", maybe cut
// short by its size limit): a header's value is its first element.
std::string firstElement(const std::string &value)
{
    if (value.size() < 2 || value.front() != '[')
        return value;
    size_t i = 1;
    if (value[i] != '"') {
        const size_t end = value.find_first_of(",]", i);
        return value.substr(i, end == std::string::npos ? std::string::npos : end - i);
    }
    std::string out;
    for (++i; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size())
            ++i;  // \" and \\ as themselves; the decoder escapes nothing else a header holds
        out += value[i];
    }
    return out;
}

const std::string *attribute(const Span &span, std::string_view key)
{
    for (const SpanAttribute &a : span.attributes) {
        if (!a.resource && a.key == key)
            return &a.value;
    }
    return nullptr;
}

std::string spanPath(const Span &span)
{
    std::string path = span.path;
    if (path.empty()) {
        // gRPC spans from instrumentation the decoder did not see: "/pkg.Service/Method".
        const std::string *service = attribute(span, "rpc.service");
        const std::string *method = attribute(span, "rpc.method");
        if (method && !method->empty())
            path = "/" + (service && !service->empty() ? *service + "/" : std::string()) + *method;
    }
    if (const std::string *query = attribute(span, "url.query");
        !path.empty() && query && !query->empty() && path.find('?') == std::string::npos)
        path += '?' + *query;
    return path;
}

bool isGrpc(const Span &span)
{
    const std::string *system = attribute(span, "rpc.system");
    return span.protocol == Protocol::Grpc || (system && *system == "grpc");
}

std::string traceKey(const std::string &traceHex, const RouteRequest &r)
{
    return traceHex + '\n' + r.method + '\n' + r.path;
}

}  // namespace

std::optional<RouteRequest> requestOfSpan(const Span &span)
{
    if (span.kind != SpanKind::Client && span.kind != SpanKind::Server)
        return std::nullopt;
    RouteRequest r;
    r.path = spanPath(span);
    if (r.path.empty())
        return std::nullopt;
    r.host = !span.authority.empty() ? span.authority : span.peer;
    r.method = !span.method.empty() ? span.method : isGrpc(span) ? std::string("POST") : std::string();
    for (const SpanAttribute &a : span.attributes) {
        if (a.resource)
            continue;
        const std::string_view key(a.key);
        for (std::string_view prefix : {kHttpHeaderPrefix, kGrpcMetadataPrefix}) {
            if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix)
                r.headers.emplace(lower(key.substr(prefix.size())), firstElement(a.value));
        }
    }
    return r;
}

RouteRequest requestOfEvent(const RequestEvent &event)
{
    RouteRequest r;
    r.host = event.authority;
    r.path = event.path;
    r.method = event.method.empty() && event.protocol == Protocol::Grpc ? std::string("POST") : event.method;
    return r;
}

struct RequestCollector::Collected {
    enum class Kind : uint8_t { ClientSpan, ServerSpan, ClientLog, ServerLog, OtherLog };
    RouteRequest request;
    std::string traceHex;  // empty: no trace context
    uint64_t spanId = 0;
    uint64_t parentSpanId = 0;
    Kind kind = Kind::OtherLog;
    bool isSpan() const { return kind == Kind::ClientSpan || kind == Kind::ServerSpan; }
};

RequestCollector::RequestCollector() = default;
RequestCollector::~RequestCollector() = default;

void RequestCollector::ingestSpans(std::vector<Span> &&spans, int64_t, const char *)
{
    std::vector<Collected> batch;
    for (const Span &s : spans) {
        std::optional<RouteRequest> r = requestOfSpan(s);
        if (!r)
            continue;
        const auto kind = s.kind == SpanKind::Client ? Collected::Kind::ClientSpan : Collected::Kind::ServerSpan;
        batch.push_back({std::move(*r), traceIdHex(s.traceId), s.spanId, s.parentSpanId, kind});
    }
    const std::lock_guard lock(m_mutex);
    m_spans += spans.size();
    std::move(batch.begin(), batch.end(), std::back_inserter(m_collected));
}

void RequestCollector::ingestRequests(std::vector<ObservedRequest> &&requests, int64_t, const char *)
{
    std::vector<Collected> batch;
    for (const ObservedRequest &o : requests) {
        const RequestEvent &e = o.event;
        if (e.path.empty())
            continue;
        const auto kind = e.spanKind == SpanKind::Client ? Collected::Kind::ClientLog
            : e.spanKind == SpanKind::Server             ? Collected::Kind::ServerLog
                                                         : Collected::Kind::OtherLog;
        batch.push_back({requestOfEvent(e), e.traceId, 0, 0, kind});
    }
    const std::lock_guard lock(m_mutex);
    std::move(batch.begin(), batch.end(), std::back_inserter(m_collected));
}

std::vector<RouteRequest> RequestCollector::requests(Counts *counts) const
{
    const std::lock_guard lock(m_mutex);
    Counts c;
    c.spans = m_spans;
    std::unordered_set<std::string> clientSpans;  // trace + span id
    std::unordered_set<std::string> clientLogs;  // trace + method + path
    for (const Collected &e : m_collected) {
        if (e.kind == Collected::Kind::ClientSpan)
            clientSpans.insert(e.traceHex + ':' + std::to_string(e.spanId));
        else if (e.kind == Collected::Kind::ClientLog && !e.traceHex.empty())
            clientLogs.insert(traceKey(e.traceHex, e.request));
    }
    std::vector<RouteRequest> out;
    std::vector<const Collected *> logs;
    std::unordered_set<std::string> spanRequests;  // trace + method + path
    for (const Collected &e : m_collected) {
        if (!e.isSpan()) {
            logs.push_back(&e);
            continue;
        }
        if (e.kind == Collected::Kind::ServerSpan
            && clientSpans.count(e.traceHex + ':' + std::to_string(e.parentSpanId))) {
            ++c.serverHalves;
            continue;
        }
        spanRequests.insert(traceKey(e.traceHex, e.request));
        out.push_back(e.request);
        ++c.spanRequests;
    }
    for (const Collected *e : logs) {
        const std::string key = traceKey(e->traceHex, e->request);
        if (!e->traceHex.empty()
            && (spanRequests.count(key) || (e->kind == Collected::Kind::ServerLog && clientLogs.count(key)))) {
            ++c.accessLogDuplicates;
            continue;
        }
        out.push_back(e->request);
        ++c.accessLogRequests;
    }
    if (counts)
        *counts = c;
    return out;
}

std::vector<DistinctRequest> distinctRequests(
    const std::vector<RouteRequest> &requests, const std::set<std::string> &headerNames)
{
    std::vector<DistinctRequest> out;
    std::unordered_map<std::string, size_t> index;
    for (const RouteRequest &r : requests) {
        RouteRequest kept {r.host, r.path, r.method, {}};
        std::string key = r.host + '\n' + r.method + '\n' + r.path;
        for (const auto &[name, value] : r.headers) {
            if (!headerNames.count(name))
                continue;
            kept.headers.emplace(name, value);
            key += '\n' + name + ':' + value;
        }
        const auto [it, fresh] = index.emplace(std::move(key), out.size());
        if (fresh)
            out.push_back({std::move(kept), 0});
        out[it->second].count += 1;
    }
    return out;
}

namespace {

// The (route, rule, backend) rows of a report, every rule of both sets listed.
class RowTable {
public:
    RowTable(const RouteMatcher &current, const RouteMatcher &proposed)
    {
        for (const RouteDecision &d : proposed.rules())
            addRule(d, &WhatIfRow::weightAfter);
        for (const RouteDecision &d : current.rules())
            addRule(d, &WhatIfRow::weightBefore);
    }

    void count(const RouteDecision &d, uint64_t n, double WhatIfRow::*field)
    {
        if (!d.matched())
            return;
        double shared = 0;
        for (const RoutedBackend &b : d.backends) {
            row(d, b.label).*field += double(n) * b.share;
            shared += b.share;
        }
        if (shared == 0)  // answered by the data plane itself (HTTP 500)
            row(d, {}).*field += double(n);
    }

    std::vector<WhatIfRow> take() { return std::move(m_rows); }

private:
    void addRule(const RouteDecision &d, int WhatIfRow::*weight)
    {
        if (d.backends.empty())
            row(d, {});
        for (const RoutedBackend &b : d.backends)
            row(d, b.label).*weight = b.weight;
    }

    WhatIfRow &row(const RouteDecision &d, const std::string &backend)
    {
        const auto [it, fresh] = m_index.emplace(d.route + '\n' + d.ruleKey() + '\n' + backend, m_rows.size());
        if (fresh)
            m_rows.push_back({d.route, d.ruleIndex, d.ruleName, backend});
        return m_rows[it->second];
    }

    std::vector<WhatIfRow> m_rows;
    std::unordered_map<std::string, size_t> m_index;
};

}  // namespace

WhatIfReport runWhatIf(const std::vector<DistinctRequest> &requests, const RouteMatcher &current,
    const RouteMatcher &proposed, size_t movedLimit)
{
    WhatIfReport report;
    report.dataPlane = dataPlaneName(proposed.dataPlane());
    report.distinct = requests.size();
    RowTable rows(current, proposed);
    for (const DistinctRequest &r : requests) {
        const RouteDecision before = current.match(r.request);
        const RouteDecision after = proposed.match(r.request);
        report.requests += r.count;
        report.unmatchedBefore += before.matched() ? 0 : r.count;
        report.unmatchedAfter += after.matched() ? 0 : r.count;
        rows.count(before, r.count, &WhatIfRow::before);
        rows.count(after, r.count, &WhatIfRow::after);
        if (before.destinationKey() == after.destinationKey())
            continue;
        report.movedRequests += r.count;
        report.movedDistinct += 1;
        if (report.moved.size() < movedLimit)
            report.moved.push_back({r.request, r.count, before.describe(), after.describe()});
    }
    report.rows = rows.take();
    return report;
}

const char *dataPlaneName(DataPlane plane)
{
    switch (plane) {
    case DataPlane::Generic: return "generic";
    case DataPlane::XdsGrpc: return "xds-grpc";
    case DataPlane::Envoy: return "envoy";
    case DataPlane::Caddy: return "caddy";
    }
    return "";
}

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

QJsonValue weightJson(int weight) { return weight < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(weight); }

QJsonObject rowJson(const WhatIfRow &row)
{
    return {
        {QStringLiteral("route"), qs(row.route)},
        {QStringLiteral("rule"), row.rule},
        {QStringLiteral("rule_name"), qs(row.ruleName)},
        {QStringLiteral("backend"), row.backend.empty() ? QJsonValue(QJsonValue::Null) : QJsonValue(qs(row.backend))},
        {QStringLiteral("weight_before"), weightJson(row.weightBefore)},
        {QStringLiteral("weight_after"), weightJson(row.weightAfter)},
        {QStringLiteral("before"), row.before},
        {QStringLiteral("after"), row.after},
        {QStringLiteral("before_rounded"), qint64(std::llround(row.before))},
        {QStringLiteral("after_rounded"), qint64(std::llround(row.after))},
    };
}

QJsonObject movedJson(const MovedRequest &m)
{
    QJsonObject headers;
    for (const auto &[name, value] : m.request.headers)
        headers.insert(qs(name), qs(value));
    return {
        {QStringLiteral("host"), qs(m.request.host)},
        {QStringLiteral("method"), qs(m.request.method)},
        {QStringLiteral("path"), qs(m.request.path)},
        {QStringLiteral("headers"), headers},
        {QStringLiteral("count"), qint64(m.count)},
        {QStringLiteral("before"), qs(m.before)},
        {QStringLiteral("after"), qs(m.after)},
    };
}

}  // namespace

QJsonObject whatIfJson(const WhatIfReport &report)
{
    QJsonArray rules, moved;
    for (const WhatIfRow &row : report.rows)
        rules.append(rowJson(row));
    for (const MovedRequest &m : report.moved)
        moved.append(movedJson(m));
    return {
        {QStringLiteral("data_plane"), qs(report.dataPlane)},
        {QStringLiteral("requests"), qint64(report.requests)},
        {QStringLiteral("distinct_requests"), qint64(report.distinct)},
        {QStringLiteral("unmatched_before"), qint64(report.unmatchedBefore)},
        {QStringLiteral("unmatched_after"), qint64(report.unmatchedAfter)},
        {QStringLiteral("rules"), rules},
        {QStringLiteral("moved"),
            QJsonObject {
                {QStringLiteral("count"), qint64(report.movedRequests)},
                {QStringLiteral("distinct"), qint64(report.movedDistinct)},
                {QStringLiteral("requests"), moved},
            }},
    };
}

namespace {

std::string number(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, std::fabs(v - std::round(v)) < 0.05 ? "%.0f" : "%.1f", v);
    return buf;
}

std::string weightText(int before, int after)
{
    auto one = [](int w) { return w < 0 ? std::string("-") : std::to_string(w); };
    return before == after ? one(before) : one(before) + " -> " + one(after);
}

// Rows of cells as columns, each as wide as its widest cell, numbers right-aligned.
std::string columns(const std::vector<std::vector<std::string>> &rows, size_t firstNumeric)
{
    std::vector<size_t> width;
    for (const auto &row : rows) {
        width.resize(std::max(width.size(), row.size()));
        for (size_t i = 0; i < row.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto &row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            const std::string pad(width[i] - row[i].size(), ' ');
            line += (i ? "  " : "") + (i >= firstNumeric ? pad + row[i] : row[i] + pad);
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + '\n';
    }
    return out;
}

std::string requestLine(const RouteRequest &r)
{
    std::string line = r.method + ' ' + r.host + ' ' + r.path;
    std::string headers;
    for (const auto &[name, value] : r.headers)
        headers += (headers.empty() ? "" : " ") + name + '=' + value;
    return headers.empty() ? line : line + " [" + headers + ']';
}

}  // namespace

std::string whatIfText(const WhatIfReport &report)
{
    std::string out = report.dataPlane + ": " + std::to_string(report.requests) + " requests ("
        + std::to_string(report.distinct) + " distinct); no route: " + std::to_string(report.unmatchedBefore)
        + " before, " + std::to_string(report.unmatchedAfter) + " after\n\n";
    std::vector<std::vector<std::string>> table {{"ROUTE", "RULE", "BACKEND", "WEIGHT", "BEFORE", "AFTER"}};
    for (const WhatIfRow &row : report.rows) {
        table.push_back({row.route, '#' + std::to_string(row.rule) + (row.ruleName.empty() ? "" : ' ' + row.ruleName),
            row.backend.empty() ? "(none: 500)" : row.backend, weightText(row.weightBefore, row.weightAfter),
            number(row.before), number(row.after)});
    }
    out += columns(table, 4);
    out += "\nmoved: " + std::to_string(report.movedRequests) + " requests (" + std::to_string(report.movedDistinct)
        + " distinct)\n";
    for (const MovedRequest &m : report.moved) {
        out += "  " + std::to_string(m.count) + " x " + requestLine(m.request) + "\n      " + m.before + "\n   => "
            + m.after + '\n';
    }
    if (report.moved.size() < report.movedDistinct)
        out += "  ... and " + std::to_string(report.movedDistinct - report.moved.size()) + " more\n";
    return out;
}

}  // namespace meshscope::routing

#include "traces/tracejson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

// Nanosecond timestamps pass 2^53: as qint64, Qt keeps and writes every digit (a
// double would round the last ones away).
QJsonValue exactNanos(uint64_t ns) { return QJsonValue(qint64(ns)); }

double ms(uint64_t ns) { return double(ns) / 1e6; }
double rounded(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

const char *spanKindName(SpanKind kind)
{
    switch (kind) {
    case SpanKind::Internal: return "internal";
    case SpanKind::Server: return "server";
    case SpanKind::Client: return "client";
    case SpanKind::Producer: return "producer";
    case SpanKind::Consumer: return "consumer";
    case SpanKind::Unspecified: break;
    }
    return "unspecified";
}

const char *spanStatusName(const Span &span)
{
    if (isErrorSpan(span))
        return "error";
    return span.status == SpanStatus::Ok ? "ok" : "unset";
}

std::optional<TraceId> parseTraceIdHex(std::string_view text)
{
    if (text.size() != 32)
        return std::nullopt;
    TraceId id {};
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < 16; ++i) {
        const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        id[i] = uint8_t(hi << 4 | lo);
    }
    return id;
}

QByteArray traceSummariesToJson(const std::vector<TraceSummary> &traces)
{
    QJsonArray list;
    for (const TraceSummary &t : traces) {
        QJsonArray services;
        for (const std::string &s : t.services)
            services.append(qs(s));
        QJsonObject o {
            {QStringLiteral("trace_id"), qs(traceIdHex(t.traceId))},
            {QStringLiteral("root_service"), qs(t.rootService)},
            {QStringLiteral("root_operation"), qs(t.rootOperation)},
            {QStringLiteral("start_unix_nano"), exactNanos(t.startNs)},
            {QStringLiteral("duration_ms"), rounded(t.durationMs())},
            {QStringLiteral("span_count"), qint64(t.spanCount)},
            {QStringLiteral("error_count"), qint64(t.errorCount)},
            {QStringLiteral("services"), services},
        };
        if (t.truncated)
            o.insert(QStringLiteral("truncated"), true);
        list.append(o);
    }
    return QJsonDocument(QJsonObject {{QStringLiteral("traces"), list}}).toJson(QJsonDocument::Indented);
}

QByteArray traceSummariesToTable(const std::vector<TraceSummary> &traces)
{
    QByteArray out = "TRACE ID                          START (UTC)              DURATION    SPANS  ERRORS  ROOT\n";
    for (const TraceSummary &t : traces) {
        const time_t secs = time_t(t.startNs / 1000000000ull);
        char when[32] = {};
        struct tm tmv { };
        gmtime_r(&secs, &tmv);
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tmv);
        char line[512];
        std::snprintf(line, sizeof line, "%s  %s.%03u  %9.3f ms  %5u  %6u  %s: %s%s\n", traceIdHex(t.traceId).c_str(),
            when, unsigned(t.startNs / 1000000ull % 1000), t.durationMs(), t.spanCount, t.errorCount,
            t.rootService.c_str(), t.rootOperation.c_str(), t.truncated ? " (truncated)" : "");
        out += line;
    }
    if (traces.empty())
        out += "(no trace matches)\n";
    return out;
}

QByteArray traceToJson(const TraceTree &tree, const CriticalPathResult &critical)
{
    QJsonArray spans;
    for (size_t i = 0; i < tree.size(); ++i) {
        const Span &s = tree.spans[i];
        QJsonObject o {
            {QStringLiteral("span_id"), qs(spanIdHex(s.spanId))},
            {QStringLiteral("parent_span_id"), s.parentSpanId ? qs(spanIdHex(s.parentSpanId)) : QString()},
            {QStringLiteral("service"), qs(s.service)},
            {QStringLiteral("name"), qs(s.name)},
            {QStringLiteral("kind"), QLatin1String(spanKindName(s.kind))},
            {QStringLiteral("start_unix_nano"), exactNanos(s.startNs)},
            {QStringLiteral("duration_ms"), rounded(ms(tree.durationNs(i)))},
            {QStringLiteral("status"), QLatin1String(spanStatusName(s))},
            {QStringLiteral("depth"), tree.depth[i]},
            {QStringLiteral("self_ms"), rounded(ms(critical.selfNs[i]))},
            {QStringLiteral("critical_ms"), rounded(ms(critical.criticalNs[i]))},
        };
        if (tree.flags[i] != 0) {
            QJsonArray flags;
            if (tree.flags[i] & SpanFlag::Orphan)
                flags.append(QStringLiteral("orphan"));
            if (tree.flags[i] & SpanFlag::CycleBroken)
                flags.append(QStringLiteral("cycle_broken"));
            if (tree.flags[i] & SpanFlag::DuplicateId)
                flags.append(QStringLiteral("duplicate_id"));
            if (tree.flags[i] & SpanFlag::SyntheticRoot)
                flags.append(QStringLiteral("synthetic_root"));
            if (tree.flags[i] & SpanFlag::TimestampClamped)
                flags.append(QStringLiteral("timestamp_clamped"));
            o.insert(QStringLiteral("flags"), flags);
        }
        spans.append(o);
    }
    QJsonArray path;
    for (uint32_t i : critical.path)
        path.append(qs(spanIdHex(tree.spans[i].spanId)));
    QJsonArray problems;
    for (const std::string &p : tree.problems)
        problems.append(qs(p));
    QJsonObject root {
        {QStringLiteral("trace_id"), tree.empty() ? QString() : qs(traceIdHex(tree.spans.front().traceId))},
        {QStringLiteral("duration_ms"), rounded(ms(tree.endNs > tree.startNs ? tree.endNs - tree.startNs : 0))},
        {QStringLiteral("spans"), spans},
        {QStringLiteral("critical_path"), path},
    };
    if (!problems.isEmpty())
        root.insert(QStringLiteral("problems"), problems);
    if (tree.truncated)
        root.insert(QStringLiteral("truncated"), true);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

QByteArray traceToText(const TraceTree &tree, const CriticalPathResult &critical)
{
    QByteArray out;
    if (tree.empty())
        return out;
    char line[1024];
    std::snprintf(line, sizeof line, "trace %s: %zu spans, %.3f ms, %d errors%s\n",
        traceIdHex(tree.spans.front().traceId).c_str(), tree.size(), ms(tree.endNs - tree.startNs), tree.errorCount,
        tree.truncated ? " (truncated)" : "");
    out += line;
    for (const std::string &p : tree.problems)
        out += "  note: " + QByteArray::fromStdString(p) + '\n';
    out += "  OFFSET ms  DURATION ms     SELF ms  CRIT  SPAN\n";
    for (size_t i = 0; i < tree.size(); ++i) {
        const Span &s = tree.spans[i];
        const std::string indent(size_t(std::min(tree.depth[i], 40)) * 2, ' ');
        std::snprintf(line, sizeof line, "%11.3f  %11.3f  %10.3f  %4s  %s%s: %s%s\n", ms(s.startNs - tree.startNs),
            ms(tree.durationNs(i)), ms(critical.selfNs[i]), critical.criticalNs[i] > 0 ? "*" : "", indent.c_str(),
            s.service.c_str(), s.name.c_str(), isErrorSpan(s) ? "  [error]" : "");
        out += line;
    }
    return out;
}

}  // namespace meshscope

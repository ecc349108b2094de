#include "graph/graphexport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace meshscope {

namespace {

QString qs(const std::string &s) { return QString::fromStdString(s); }

double rounded(double v, double scale = 1000.0) { return std::round(v * scale) / scale; }

void putStats(QJsonObject &o, const TrafficStats &s)
{
    o.insert(QStringLiteral("requests"), double(s.requests));
    o.insert(QStringLiteral("rps"), rounded(s.rps));
    o.insert(QStringLiteral("error_rate"), rounded(s.errorRate, 1e6));
    o.insert(QStringLiteral("rate_4xx"), rounded(s.rate4xx, 1e6));
    o.insert(QStringLiteral("p50_ms"), rounded(s.p50Ms));
    o.insert(QStringLiteral("p95_ms"), rounded(s.p95Ms));
    o.insert(QStringLiteral("p99_ms"), rounded(s.p99Ms));
    o.insert(QStringLiteral("bytes"), double(s.bytes));
}

// A DOT double-quoted string. Graphviz reads '\"' as a quote and, in labels, "\\" as one
// backslash and "\n" as a centred line break; every other escape ("\N", "\G", "\l"...)
// would be expanded, so a backslash in a name is always doubled. A real newline in
// `s` becomes a line break; other control characters (which DOT cannot carry) a space.
QByteArray dotQuote(const std::string &s)
{
    QByteArray out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out + '"';
}

}  // namespace

QByteArray graphToJson(const GraphSnapshot &snapshot, bool indented)
{
    QJsonArray nodes;
    for (const NodeSnapshot &n : snapshot.nodes) {
        QJsonObject o;
        o.insert(QStringLiteral("id"), qs(n.id));
        o.insert(QStringLiteral("name"), qs(n.name));
        o.insert(QStringLiteral("namespace"), qs(n.ns));
        o.insert(QStringLiteral("version"), qs(n.version));
        o.insert(QStringLiteral("kind"), QString::fromLatin1(nodeKindName(n.kind)));
        putStats(o, n.stats);
        if (n.kind == NodeKind::Other)
            o.insert(QStringLiteral("folded_nodes"), double(n.foldedCount));
        nodes.append(o);
    }
    QJsonArray edges;
    for (const EdgeSnapshot &e : snapshot.edges) {
        QJsonObject o;
        o.insert(QStringLiteral("source"), qs(e.source));
        o.insert(QStringLiteral("target"), qs(e.target));
        o.insert(QStringLiteral("direction"), QString::fromLatin1(directionName(e.direction)));
        o.insert(QStringLiteral("protocol"), QString::fromLatin1(protocolName(e.protocol)));
        putStats(o, e.stats);
        o.insert(QStringLiteral("mtls"), e.mtls < 0 ? QJsonValue() : QJsonValue(e.mtls == 1));
        QJsonArray origins;
        for (const std::string &s : e.origins)
            origins.append(qs(s));
        o.insert(QStringLiteral("sources"), origins);
        edges.append(o);
    }
    const IngestCounters &c = snapshot.counters;
    QJsonObject reasons;
    for (const auto &[reason, n] : c.rejectionReasons)
        reasons.insert(qs(reason), double(n));
    QJsonObject counters {
        {QStringLiteral("export_calls"), double(c.exportCalls)},
        {QStringLiteral("spans_received"), double(c.spansReceived)},
        {QStringLiteral("spans_accepted"), double(c.spansAccepted)},
        {QStringLiteral("spans_rejected"), double(c.spansRejected)},
        {QStringLiteral("malformed_messages"), double(c.malformedMessages)},
        {QStringLiteral("oversized_messages"), double(c.oversizedMessages)},
        {QStringLiteral("duplicate_spans"), double(c.duplicateSpans)},
        {QStringLiteral("paired_requests"), double(c.pairedRequests)},
        {QStringLiteral("unpaired_client_spans"), double(c.unpairedClients)},
        {QStringLiteral("unpaired_server_spans"), double(c.unpairedServers)},
        {QStringLiteral("fast_tracked_client_spans"), double(c.fastTrackedClients)},
        {QStringLiteral("late_server_spans"), double(c.lateServerHalves)},
        {QStringLiteral("folded_nodes"), double(c.foldedNodes)},
        {QStringLiteral("requests"), double(c.requests)},
        {QStringLiteral("rejection_reasons"), reasons},
    };
    QJsonObject root {
        {QStringLiteral("time_ms"), double(snapshot.timeMs)},
        {QStringLiteral("window_seconds"), snapshot.windowSeconds},
        {QStringLiteral("nodes"), nodes},
        {QStringLiteral("edges"), edges},
        {QStringLiteral("counters"), counters},
    };
    return QJsonDocument(root).toJson(indented ? QJsonDocument::Indented : QJsonDocument::Compact);
}

QByteArray graphToDot(const GraphSnapshot &snapshot)
{
    QByteArray out = "digraph meshscope {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n";
    for (const NodeSnapshot &n : snapshot.nodes) {
        const char *shape = "box";
        switch (n.kind) {
        case NodeKind::External: shape = "ellipse"; break;
        case NodeKind::Gateway: shape = "hexagon"; break;
        case NodeKind::ExternalService: shape = "cylinder"; break;
        case NodeKind::Other: shape = "folder"; break;
        case NodeKind::Service: shape = "box"; break;
        }
        std::string label = n.name;
        if (!n.version.empty())
            label += " " + n.version;
        if (!n.ns.empty())
            label += '\n' + n.ns;
        out += "  " + dotQuote(n.id) + " [label=" + dotQuote(label) + ", shape=" + shape + ", kind=\""
            + nodeKindName(n.kind) + "\"];\n";
    }
    for (const EdgeSnapshot &e : snapshot.edges) {
        const std::string label = QString::asprintf(
            "%.1f rps, %.1f%% err, p95 %.0f ms", e.stats.rps, e.stats.errorRate * 100.0, e.stats.p95Ms)
                                      .toStdString();
        out += "  " + dotQuote(e.source) + " -> " + dotQuote(e.target) + " [label=" + dotQuote(label) + ", direction=\""
            + directionName(e.direction) + "\""
            + (e.direction == Direction::NorthSouth ? ", style=bold" : ", style=solid")
            + (e.stats.errorRate > 0.1 ? ", color=red" : "") + "];\n";
    }
    out += "}\n";
    return out;
}

namespace {

QJsonValue diffStats(const TrafficStats *stats, std::optional<double> share)
{
    if (!stats)
        return QJsonValue();
    QJsonObject o;
    putStats(o, *stats);
    if (share)
        o.insert(QStringLiteral("share"), rounded(*share, 1e6));
    return o;
}

template <typename Diff>
void putDiff(QJsonObject &o, const Diff &d, std::optional<double> shareBefore, std::optional<double> shareAfter)
{
    o.insert(QStringLiteral("change"), QString::fromLatin1(diffChangeName(d.change)));
    const TrafficStats *before = d.before ? &d.before->stats : nullptr;
    const TrafficStats *after = d.after ? &d.after->stats : nullptr;
    o.insert(QStringLiteral("before"), diffStats(before, shareBefore));
    o.insert(QStringLiteral("after"), diffStats(after, shareAfter));
    if (before && after) {
        QJsonArray moved;
        for (const auto &[bit, name] : {std::pair {kDiffRps, "rps"}, std::pair {kDiffErrorRate, "error_rate"},
                 std::pair {kDiffP95, "p95_ms"}, std::pair {kDiffShare, "share"}}) {
            if (d.moved & bit)
                moved.append(QString::fromLatin1(name));
        }
        o.insert(QStringLiteral("moved"), moved);
        QJsonObject delta {
            {QStringLiteral("rps"), rounded(after->rps - before->rps)},
            {QStringLiteral("error_rate"), rounded(after->errorRate - before->errorRate, 1e6)},
            {QStringLiteral("p95_ms"), rounded(after->p95Ms - before->p95Ms)},
        };
        if (shareBefore || shareAfter)
            delta.insert(QStringLiteral("share"), rounded(shareAfter.value_or(0) - shareBefore.value_or(0), 1e6));
        o.insert(QStringLiteral("delta"), delta);
    }
    o.insert(QStringLiteral("score"), rounded(d.score));
}

QJsonObject range(const GraphSnapshot &g)
{
    return {{QStringLiteral("from_ms"), double(g.timeMs - int64_t(g.windowSeconds) * 1000)},
        {QStringLiteral("to_ms"), double(g.timeMs)}};
}

std::string signedNumber(double v, int decimals) { return QString::asprintf("%+.*f", decimals, v).toStdString(); }

}  // namespace

std::string diffDeltaText(const TrafficStats &before, const TrafficStats &after, uint8_t moved,
    std::optional<double> shareBefore, std::optional<double> shareAfter)
{
    std::vector<std::string> parts;
    if (moved & kDiffRps)
        parts.push_back(signedNumber(after.rps - before.rps, 1) + " rps");
    if (moved & kDiffErrorRate)
        parts.push_back(signedNumber((after.errorRate - before.errorRate) * 100.0, 1) + " pts err");
    if (moved & kDiffP95) {
        // Whole milliseconds, but tenths under ten, so "4.9 -> 3.5 ms" is no "-1 ms".
        const double d = after.p95Ms - before.p95Ms;
        parts.push_back("p95 " + signedNumber(d, std::abs(d) < 10 ? 1 : 0) + " ms");
    }
    if (moved & kDiffShare) {
        parts.push_back(QString::asprintf(
            "share %.0f%% \u2192 %.0f%%", shareBefore.value_or(0) * 100.0, shareAfter.value_or(0) * 100.0)
                            .toStdString());
    }
    std::string out;
    for (const std::string &p : parts)
        out += (out.empty() ? "" : ", ") + p;
    return out;
}

QByteArray graphDiffToJson(const GraphDiff &diff, bool indented)
{
    QJsonArray nodes;
    for (const NodeDiff &d : diff.nodes) {
        const NodeSnapshot &n = d.node();
        QJsonObject o;
        o.insert(QStringLiteral("id"), qs(n.id));
        o.insert(QStringLiteral("name"), qs(n.name));
        o.insert(QStringLiteral("namespace"), qs(n.ns));
        o.insert(QStringLiteral("version"), qs(n.version));
        o.insert(QStringLiteral("kind"), QString::fromLatin1(nodeKindName(n.kind)));
        putDiff(o, d, std::nullopt, std::nullopt);
        nodes.append(o);
    }
    QJsonArray edges;
    for (const EdgeDiff &d : diff.edges) {
        const EdgeSnapshot &e = d.edge();
        QJsonObject o;
        o.insert(QStringLiteral("source"), qs(e.source));
        o.insert(QStringLiteral("target"), qs(e.target));
        o.insert(QStringLiteral("direction"), QString::fromLatin1(directionName(e.direction)));
        o.insert(QStringLiteral("protocol"), QString::fromLatin1(protocolName(e.protocol)));
        putDiff(o, d, d.shareBefore, d.shareAfter);
        edges.append(o);
    }
    QJsonArray notices;
    for (const std::string &n : diff.notices)
        notices.append(qs(n));
    const DiffThresholds &t = diff.thresholds;
    QJsonObject root {
        {QStringLiteral("ranges"),
            QJsonObject {
                {QStringLiteral("before"), range(*diff.before)}, {QStringLiteral("after"), range(*diff.after)}}},
        {QStringLiteral("thresholds"),
            QJsonObject {{QStringLiteral("error_rate_points"), t.errorRatePoints},
                {QStringLiteral("rps_relative"), t.rpsRelative}, {QStringLiteral("p95_relative"), t.p95Relative},
                {QStringLiteral("share_points"), t.sharePoints}}},
        {QStringLiteral("counts"),
            QJsonObject {{QStringLiteral("added"), double(diff.count(DiffChange::Added))},
                {QStringLiteral("removed"), double(diff.count(DiffChange::Removed))},
                {QStringLiteral("changed"), double(diff.count(DiffChange::Changed))},
                {QStringLiteral("same"), double(diff.count(DiffChange::Same))}}},
        {QStringLiteral("notices"), notices},
        {QStringLiteral("nodes"), nodes},
        {QStringLiteral("edges"), edges},
    };
    return QJsonDocument(root).toJson(indented ? QJsonDocument::Indented : QJsonDocument::Compact);
}

QByteArray graphDiffToDot(const GraphDiff &diff)
{
    auto style = [](DiffChange c) -> const char * {
        switch (c) {
        case DiffChange::Added: return ", color=\"#2e9e44\", fontcolor=\"#2e9e44\", penwidth=2";
        case DiffChange::Removed: return ", color=\"#9a9a9a\", fontcolor=\"#9a9a9a\", style=dashed";
        case DiffChange::Changed: return ", color=\"#e08a00\", penwidth=2";
        case DiffChange::Same: return "";
        }
        return "";
    };
    QByteArray out = "digraph meshscope_diff {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", shape=box];\n";
    for (const NodeDiff &d : diff.nodes) {
        const NodeSnapshot &n = d.node();
        std::string label = n.name + (n.version.empty() ? "" : " " + n.version);
        if (d.change == DiffChange::Changed)
            label += '\n' + diffDeltaText(d.before->stats, d.after->stats, d.moved);
        out += "  " + dotQuote(n.id) + " [label=" + dotQuote(label) + ", change=\"" + diffChangeName(d.change) + "\""
            + style(d.change) + "];\n";
    }
    for (const EdgeDiff &d : diff.edges) {
        const std::string label = d.change == DiffChange::Changed
            ? diffDeltaText(d.before->stats, d.after->stats, d.moved, d.shareBefore, d.shareAfter)
            : std::string(diffChangeName(d.change));
        out += "  " + dotQuote(d.edge().source) + " -> " + dotQuote(d.edge().target) + " [label=" + dotQuote(label)
            + ", change=\"" + diffChangeName(d.change) + "\"" + style(d.change) + "];\n";
    }
    out += "}\n";
    return out;
}

}  // namespace meshscope

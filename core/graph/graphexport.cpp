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

}  // namespace meshscope

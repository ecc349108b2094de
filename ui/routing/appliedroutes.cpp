#include "routing/appliedroutes.h"

#include "model/nodeid.h"
#include "rollout/rolloutgate.h"
#include "routing/routediff.h"
#include "routing/yaml/routeyaml.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace meshscope {

namespace {

routing::RouteSet parse(const QString &yaml)
{
    if (yaml.isEmpty())
        return {};
    return routing::loadRouteYaml(yaml.toStdString(), "applied.yaml").set;
}

// Whether a graph node is the backend "namespace/name" names: its service, or the
// service's version it names ("shop/reviews-v2": reviews v2).
bool nodeIs(const NodeSnapshot &n, const std::string &service)
{
    const size_t slash = service.find('/');
    return rollout::isBackendNode(std::string_view(service).substr(slash + 1),
        std::string_view(service).substr(0, slash), n.name, n.ns, n.version);
}

}  // namespace

void AppliedRoutes::applied(uint64_t version, const QString &yaml, const QString &previousYaml, int64_t ms)
{
    m_version = version;
    m_ms = ms;
    m_services = routing::changedBackends(parse(previousYaml), parse(yaml));
}

std::optional<int64_t> AppliedRoutes::recentApplyMs(int64_t nowMs) const
{
    if (m_ms == 0 || nowMs - m_ms > kNoteMs)
        return std::nullopt;
    return m_ms;
}

void AppliedRoutes::setRolloutNote(const std::string &service, const NodeNote &note)
{
    m_rolloutService = note.text.isEmpty() ? std::string() : service;
    m_rolloutNote = note;
}

QHash<QString, NodeNote> AppliedRoutes::nodeNotes(const GraphSnapshot &shown, int64_t nowMs) const
{
    QHash<QString, NodeNote> notes;
    const bool recent = recentApplyMs(nowMs).has_value();
    // Ten snapshots a second come through here: with nothing to say, nothing to look at.
    if (!recent && m_rolloutService.empty() && m_projected.empty())
        return notes;
    const NodeNote applyNote {
        QStringLiteral("routes v%1 applied %2").arg(m_version).arg(agoText(nowMs - m_ms)), NodeNote::Tone::Routing};
    for (const NodeSnapshot &n : shown.nodes) {
        if (n.kind == NodeKind::External || n.kind == NodeKind::ExternalService)
            continue;
        if (!m_rolloutService.empty() && nodeIs(n, m_rolloutService)) {
            notes.insert(QString::fromStdString(n.id), m_rolloutNote);
            continue;
        }
        const auto projected = std::find_if(m_projected.begin(), m_projected.end(),
            [&n](const auto &p) { return rollout::isBackendNode(p.first, {}, n.name, n.ns, n.version); });
        if (projected != m_projected.end()) {
            const auto [before, after] = projected->second;
            notes.insert(QString::fromStdString(n.id),
                {QStringLiteral("what-if: %1 \u2192 %2 req").arg(std::lround(before)).arg(std::lround(after)),
                    std::lround(after) < std::lround(before) ? NodeNote::Tone::Bad : NodeNote::Tone::Routing});
            continue;
        }
        if (!recent)
            continue;
        for (const std::string &service : m_services) {
            if (nodeIs(n, service)) {
                notes.insert(QString::fromStdString(n.id), applyNote);
                break;
            }
        }
    }
    return notes;
}

GraphSnapshot requestsSince(
    const GraphSnapshot &snapshot, const GraphAggregator &aggregator, int64_t fromMs, int64_t nowMs)
{
    std::unordered_map<std::string, uint64_t> counts;
    int64_t oldest = 0;
    for (const RequestEvent &e : aggregator.requestsBetween(fromMs, nowMs, 200'000, &oldest))
        counts[edgeId(e.sourceId, e.targetId)]++;
    GraphSnapshot out = snapshot;
    const double seconds = std::max(1.0, double(nowMs - fromMs) / 1000.0);
    for (EdgeSnapshot &e : out.edges) {
        const auto it = counts.find(e.id);
        e.stats.requests = it == counts.end() ? 0 : it->second;
        e.stats.rps = double(e.stats.requests) / seconds;
    }
    return out;
}

QString agoText(int64_t ms)
{
    const int64_t s = std::max<int64_t>(0, ms / 1000);
    if (s < 60)
        return QStringLiteral("%1 s ago").arg(s);
    return QStringLiteral("%1 min ago").arg(s / 60);
}

}  // namespace meshscope

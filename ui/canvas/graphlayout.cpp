#include "canvas/graphlayout.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string_view>
#include <tuple>

namespace meshscope {

namespace {

constexpr double kEps = 1e-6;
constexpr int kMaxServiceDepth = 5000;
// Clients, gateways and external services get wider slots: host names are long.
constexpr double kFreeSpacing = 1.35;  // keeps depths inside one shelf's key range

bool containsWord(const std::string &name, std::string_view word)
{
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return lower.find(word) != std::string::npos;
}

// How a node is layered: a namespace folded into one node (graph/graphview.h, kind
// Other with its namespace set) stands where its services would, among its callers
// and callees, not with the folded overflow under the mesh.
NodeKind layoutKind(const NodeSnapshot &n)
{
    return n.kind == NodeKind::Other && !n.ns.empty() ? NodeKind::Service : n.kind;
}

// Service layers are split into namespace columns; the layers of clients, gateways
// and external services are free, each node under or over its neighbours.
bool isMeshRank(int rank) { return rank >= GraphLayout::kServiceRank && rank < GraphLayout::kEgressRank; }

// Compressed adjacency of a snapshot, by node index; edges naming unknown nodes and
// self-loops carry no layering information and are skipped.
struct Adjacency {
    std::vector<int> outStart, outList, inStart, inList;

    explicit Adjacency(const GraphSnapshot &s)
    {
        const size_t n = s.nodes.size();
        std::unordered_map<std::string_view, int> index;
        index.reserve(n * 2);
        for (size_t i = 0; i < n; ++i)
            index.emplace(s.nodes[i].id, int(i));
        std::vector<std::pair<int, int>> links;
        links.reserve(s.edges.size());
        for (const EdgeSnapshot &e : s.edges) {
            auto a = index.find(e.source);
            auto b = index.find(e.target);
            if (a != index.end() && b != index.end() && a->second != b->second)
                links.emplace_back(a->second, b->second);
        }
        build(n, links, false, outStart, outList);
        build(n, links, true, inStart, inList);
    }

    static void build(size_t n, const std::vector<std::pair<int, int>> &links, bool reverse, std::vector<int> &start,
        std::vector<int> &list)
    {
        start.assign(n + 1, 0);
        for (const auto &[a, b] : links)
            ++start[size_t(reverse ? b : a) + 1];
        for (size_t i = 0; i < n; ++i)
            start[i + 1] += start[i];
        list.resize(links.size());
        std::vector<int> fill(start.begin(), start.end() - 1);
        for (const auto &[a, b] : links)
            list[size_t(fill[size_t(reverse ? b : a)]++)] = reverse ? a : b;
    }
};

// Spreads items (sorted by desired x) over [lo, hi] at least `gap` apart, each as
// close to where it wants to be as the others allow.
void placeRow(std::vector<std::pair<double, int>> &items, double lo, double hi, double gap, std::vector<double> &out)
{
    const size_t n = items.size();
    out.assign(n, 0);
    if (n == 0)
        return;
    if (double(n - 1) * gap > hi - lo) {
        const double mid = (lo + hi) / 2;
        for (size_t i = 0; i < n; ++i)
            out[i] = mid + (double(i) - double(n - 1) / 2) * gap;
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        out[i] = std::clamp(items[i].first, lo, hi);
        if (i > 0)
            out[i] = std::max(out[i], out[i - 1] + gap);
    }
    out[n - 1] = std::min(out[n - 1], hi);
    for (size_t i = n - 1; i-- > 0;)
        out[i] = std::min(out[i], out[i + 1] - gap);
}

}  // namespace

GraphLayout::GraphLayout() = default;

GraphLayout::GraphLayout(const Params &params)
    : m_params(params)
{
}

std::vector<int> GraphLayout::computeRanks(const GraphSnapshot &s)
{
    const size_t n = s.nodes.size();
    const Adjacency adj(s);
    std::vector<int> rank(n, -1);
    auto kindOf = [&](int i) { return layoutKind(s.nodes[size_t(i)]); };

    for (size_t i = 0; i < n; ++i) {
        const NodeSnapshot &node = s.nodes[i];
        switch (layoutKind(node)) {
        case NodeKind::External: rank[i] = kExternalRank; break;
        case NodeKind::ExternalService:
        case NodeKind::Other: rank[i] = kOutsideRank; break;
        case NodeKind::Gateway: {
            // Names say it best; otherwise a gateway called from outside is an
            // ingress and one that only services call is an egress.
            bool fromExternal = false;
            bool fromMesh = false;
            for (int k = adj.inStart[i]; k < adj.inStart[i + 1]; ++k) {
                const NodeKind from = kindOf(adj.inList[size_t(k)]);
                fromExternal |= from == NodeKind::External;
                fromMesh |= from == NodeKind::Service;
            }
            if (containsWord(node.name, "egress"))
                rank[i] = kEgressRank;
            else if (containsWord(node.name, "ingress") || fromExternal || !fromMesh)
                rank[i] = kIngressRank;
            else
                rank[i] = kEgressRank;
            break;
        }
        case NodeKind::Service: break;
        }
    }

    // Services by depth below what calls in from outside. Breadth-first distance
    // seeds it; then every call is made to point downwards (longest path over the
    // call DAG), so a layer holds no caller of its own members and edges do not run
    // sideways through a row. Calls that close a cycle are ignored for depth.
    std::vector<int> bfsDepth(n, -1);
    std::vector<int> queue;
    queue.reserve(n);
    auto bfs = [&]() {
        for (size_t head = 0; head < queue.size(); ++head) {
            const int u = queue[head];
            for (int k = adj.outStart[size_t(u)]; k < adj.outStart[size_t(u) + 1]; ++k) {
                const int v = adj.outList[size_t(k)];
                if (kindOf(v) == NodeKind::Service && bfsDepth[size_t(v)] < 0) {
                    bfsDepth[size_t(v)] = bfsDepth[size_t(u)] + 1;
                    queue.push_back(v);
                }
            }
        }
        queue.clear();
    };
    for (size_t i = 0; i < n; ++i) {
        if (rank[i] != kExternalRank && rank[i] != kIngressRank)
            continue;
        for (int k = adj.outStart[i]; k < adj.outStart[i + 1]; ++k) {
            const int v = adj.outList[size_t(k)];
            if (kindOf(v) == NodeKind::Service && bfsDepth[size_t(v)] < 0) {
                bfsDepth[size_t(v)] = 0;
                queue.push_back(v);
            }
        }
    }
    bfs();
    for (size_t i = 0; i < n; ++i) {
        if (kindOf(int(i)) == NodeKind::Service && bfsDepth[i] < 0) {
            bfsDepth[i] = 0;
            queue.push_back(int(i));
            bfs();
        }
    }

    std::vector<int> depth(n, 0), indeg(n, 0);
    std::vector<char> done(n, 0);
    std::vector<int> pending;  // services not yet ordered, by breadth-first depth (cycle breaking)
    for (size_t v = 0; v < n; ++v) {
        if (kindOf(int(v)) != NodeKind::Service)
            continue;
        pending.push_back(int(v));
        for (int k = adj.inStart[v]; k < adj.inStart[v + 1]; ++k)
            indeg[v] += kindOf(adj.inList[size_t(k)]) == NodeKind::Service;
    }
    std::stable_sort(
        pending.begin(), pending.end(), [&](int a, int b) { return bfsDepth[size_t(a)] < bfsDepth[size_t(b)]; });
    for (int v : pending) {
        if (indeg[size_t(v)] == 0)
            queue.push_back(v);
    }
    size_t next = 0;
    for (;;) {
        for (size_t head = 0; head < queue.size(); ++head) {
            const int u = queue[head];
            if (done[size_t(u)])
                continue;
            done[size_t(u)] = 1;
            for (int k = adj.outStart[size_t(u)]; k < adj.outStart[size_t(u) + 1]; ++k) {
                const int v = adj.outList[size_t(k)];
                if (kindOf(v) != NodeKind::Service || done[size_t(v)])
                    continue;
                depth[size_t(v)] = std::max(depth[size_t(v)], std::min(depth[size_t(u)] + 1, kMaxServiceDepth));
                if (--indeg[size_t(v)] == 0)
                    queue.push_back(v);
            }
        }
        queue.clear();
        // What is left sits on cycles: enter the nearest one at its shallowest member.
        while (next < pending.size() && done[size_t(pending[next])])
            ++next;
        if (next == pending.size())
            break;
        queue.push_back(pending[next]);
    }
    for (size_t i = 0; i < n; ++i) {
        if (kindOf(int(i)) == NodeKind::Service)
            rank[i] = kServiceRank + depth[i];
    }
    return rank;
}

void GraphLayout::clear()
{
    m_layers.clear();
    m_columns.clear();
    m_placed.clear();
    m_remembered.clear();
    m_shelfRight.clear();
    m_lastIds.clear();
    m_left = m_right = 0;
    ++m_version;
}

bool GraphLayout::update(const GraphSnapshot &snapshot)
{
    if (m_placed.empty()) {
        if (snapshot.nodes.empty())
            return false;
        // Nothing on screen yet, so nothing can be thrown around: lay out properly.
        fullLayout(snapshot, computeRanks(snapshot));
        m_lastIds.clear();
        for (const NodeSnapshot &node : snapshot.nodes)
            m_lastIds.push_back(node.id);
        return true;
    }

    // Ten snapshots a second mostly name the same nodes in the same order.
    if (snapshot.nodes.size() == m_lastIds.size()) {
        bool same = true;
        for (size_t i = 0; i < m_lastIds.size() && same; ++i)
            same = snapshot.nodes[i].id == m_lastIds[i];
        if (same)
            return false;
    }
    // What came and went. Snapshots arrive sorted by id, so a merge of the two id
    // lists finds it without hashing every id; any other order falls back to hashing.
    const size_t n = snapshot.nodes.size();
    std::vector<std::pair<std::string_view, int>> fresh;  // new node id, snapshot index
    std::vector<std::string> removed;
    const bool sorted = std::is_sorted(m_lastIds.begin(), m_lastIds.end())
        && std::is_sorted(snapshot.nodes.begin(), snapshot.nodes.end(),
            [](const NodeSnapshot &a, const NodeSnapshot &b) { return a.id < b.id; });
    if (sorted) {
        size_t j = 0;
        for (size_t i = 0; i < n; ++i) {
            const std::string &id = snapshot.nodes[i].id;
            while (j < m_lastIds.size() && m_lastIds[j] < id)
                removed.push_back(m_lastIds[j++]);
            if (j < m_lastIds.size() && m_lastIds[j] == id)
                ++j;
            else
                fresh.emplace_back(id, int(i));
        }
        while (j < m_lastIds.size())
            removed.push_back(m_lastIds[j++]);
    } else {
        std::unordered_map<std::string_view, bool> present;
        present.reserve(n * 2);
        for (size_t i = 0; i < n; ++i) {
            present.emplace(snapshot.nodes[i].id, true);
            if (!m_placed.count(snapshot.nodes[i].id))
                fresh.emplace_back(snapshot.nodes[i].id, int(i));
        }
        for (const auto &[id, slot] : m_placed) {
            if (!present.count(id))
                removed.push_back(id);
        }
    }
    m_lastIds.clear();
    for (const NodeSnapshot &node : snapshot.nodes)
        m_lastIds.push_back(node.id);

    for (const std::string &id : removed) {
        auto it = m_placed.find(id);
        if (it == m_placed.end())
            continue;
        takeOutOfRow(it->second);
        if (m_remembered.size() > std::max<size_t>(4096, 4 * m_placed.size()))
            m_remembered.clear();
        m_remembered[it->first] = it->second;
        m_placed.erase(it);
    }
    if (fresh.empty()) {
        if (!removed.empty())
            ++m_version;
        return !removed.empty();
    }

    // Neighbours of the new nodes only: one pass over the edges. A handful of new ids
    // is compared directly (cheaper than hashing 40,000 endpoints).
    std::unordered_map<std::string_view, int> freshIndex;
    if (fresh.size() > 8) {
        for (const auto &[id, i] : fresh)
            freshIndex.emplace(id, i);
    }
    auto freshAt = [&](const std::string &id) {
        if (fresh.size() > 8) {
            auto it = freshIndex.find(id);
            return it == freshIndex.end() ? -1 : it->second;
        }
        for (const auto &[fid, i] : fresh) {
            if (fid.size() == id.size() && fid == id)
                return i;
        }
        return -1;
    };
    std::unordered_map<std::string_view, int> allIndex;  // built only if the order is not sorted
    auto indexOf = [&](const std::string &id) {
        if (sorted) {
            auto it = std::lower_bound(snapshot.nodes.begin(), snapshot.nodes.end(), id,
                [](const NodeSnapshot &node, const std::string &key) { return node.id < key; });
            return it != snapshot.nodes.end() && it->id == id ? int(it - snapshot.nodes.begin()) : -1;
        }
        if (allIndex.empty()) {
            for (size_t i = 0; i < n; ++i)
                allIndex.emplace(snapshot.nodes[i].id, int(i));
        }
        auto it = allIndex.find(id);
        return it == allIndex.end() ? -1 : it->second;
    };
    struct Link {
        int other;  // snapshot index
        bool incoming;
    };
    std::unordered_map<int, std::vector<Link>> links;
    for (const EdgeSnapshot &e : snapshot.edges) {
        if (e.source == e.target)
            continue;
        const int a = freshAt(e.source), b = freshAt(e.target);
        if (a < 0 && b < 0)
            continue;
        const int pa = a >= 0 ? a : indexOf(e.source), pb = b >= 0 ? b : indexOf(e.target);
        if (pa < 0 || pb < 0)
            continue;
        if (a >= 0)
            links[a].push_back({pb, false});
        if (b >= 0)
            links[b].push_back({pa, true});
    }
    std::vector<int> ranks;
    if (fresh.size() > std::max<size_t>(32, snapshot.nodes.size() / 50)) {
        ranks = computeRanks(snapshot);
    } else {
        // A few new nodes: rank them from their neighbours, whose ranks are known, the
        // way computeRanks() would (a new service one below its deepest caller).
        ranks.assign(snapshot.nodes.size(), -1);
        auto kindOf = [&](int i) { return layoutKind(snapshot.nodes[size_t(i)]); };
        for (const auto &[id, i] : fresh) {
            const NodeSnapshot &node = snapshot.nodes[size_t(i)];
            const std::vector<Link> &l = links[i];
            switch (layoutKind(node)) {
            case NodeKind::External: ranks[size_t(i)] = kExternalRank; break;
            case NodeKind::ExternalService:
            case NodeKind::Other: ranks[size_t(i)] = kOutsideRank; break;
            case NodeKind::Gateway: {
                bool fromExternal = false, fromMesh = false;
                for (const Link &k : l) {
                    fromExternal |= k.incoming && kindOf(k.other) == NodeKind::External;
                    fromMesh |= k.incoming && kindOf(k.other) == NodeKind::Service;
                }
                if (containsWord(node.name, "egress"))
                    ranks[size_t(i)] = kEgressRank;
                else if (containsWord(node.name, "ingress") || fromExternal || !fromMesh)
                    ranks[size_t(i)] = kIngressRank;
                else
                    ranks[size_t(i)] = kEgressRank;
                break;
            }
            case NodeKind::Service: ranks[size_t(i)] = kServiceRank; break;
            }
        }
        // New services may call each other: relax until stable (bounded, for cycles).
        for (size_t pass = 0; pass <= fresh.size(); ++pass) {
            bool moved = false;
            for (const auto &[id, i] : fresh) {
                if (kindOf(i) != NodeKind::Service)
                    continue;
                int depth = 0;
                for (const Link &k : links[i]) {
                    if (!k.incoming || kindOf(k.other) != NodeKind::Service)
                        continue;
                    int callerRank = ranks[size_t(k.other)];
                    if (callerRank < 0) {
                        auto p = m_placed.find(snapshot.nodes[size_t(k.other)].id);
                        callerRank = p == m_placed.end() ? -1 : p->second.rank;
                    }
                    if (isMeshRank(callerRank))
                        depth = std::max(depth, std::min(callerRank - kServiceRank + 1, kMaxServiceDepth));
                }
                if (kServiceRank + depth != ranks[size_t(i)]) {
                    ranks[size_t(i)] = kServiceRank + depth;
                    moved = true;
                }
            }
            if (!moved)
                break;
        }
    }
    std::vector<int> order;
    order.reserve(fresh.size());
    for (const auto &[id, i] : fresh)
        order.push_back(i);
    // Top-down, so a new child finds its new parent already placed.
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return ranks[size_t(a)] != ranks[size_t(b)] ? ranks[size_t(a)] < ranks[size_t(b)]
                                                    : snapshot.nodes[size_t(a)].id < snapshot.nodes[size_t(b)].id;
    });
    for (int i : order) {
        const NodeSnapshot &node = snapshot.nodes[size_t(i)];
        const int rank = ranks[size_t(i)];
        if (m_pinned.count(node.id)) {
            Slot slot;
            slot.rank = rank;
            slot.layer = layerFor(layerKey(rank, node.ns));
            slot.ns = node.ns;
            m_placed[node.id] = slot;
            continue;
        }
        // Desired x: mean of the placed neighbours above it, else of any placed neighbour.
        double above = 0, any = 0;
        int nAbove = 0, nAny = 0;
        for (const Link &k : links[i]) {
            auto p = m_placed.find(snapshot.nodes[size_t(k.other)].id);
            if (p == m_placed.end())
                continue;
            const QPointF pos = position(p->first);
            any += pos.x();
            ++nAny;
            if (p->second.rank < rank) {
                above += pos.x();
                ++nAbove;
            }
        }
        const bool has = nAny > 0;
        const double desired = nAbove ? above / nAbove : (nAny ? any / nAny : 0);
        placeNew(node.id, rank, node.ns, desired, has);
    }
    ++m_version;
    return true;
}

void GraphLayout::relayout(const GraphSnapshot &snapshot)
{
    clear();
    if (!snapshot.nodes.empty())
        fullLayout(snapshot, computeRanks(snapshot));
    for (const NodeSnapshot &node : snapshot.nodes)
        m_lastIds.push_back(node.id);
}

// What the phases of one full layout hand to each other; nodes are snapshot indices.
struct GraphLayout::FullLayoutWork {
    FullLayoutWork(const GraphSnapshot &snapshot, const std::vector<int> &nodeRanks, const Params &params)
        : s(snapshot)
        , ranks(nodeRanks)
        , adj(snapshot)
        , p(params)
    {
    }

    const GraphSnapshot &s;
    const std::vector<int> &ranks;
    const Adjacency adj;
    const Params &p;

    std::map<int, std::vector<int>> layers;  // by rank, pinned nodes left out
    std::vector<int> pinnedNodes;
    std::vector<double> ord;  // each node's place in its layer, 0 (left) to 1 (right)

    std::vector<std::string> nsOrder;  // namespaces of service layers, left to right
    std::map<std::string, std::map<int, int>> nsCount;  // ns -> rank -> nodes
    std::map<std::string, int> maxCount;  // ns -> nodes in its fullest layer
    std::map<std::string, int> perRow;  // ns -> nodes per row of its column
    std::vector<std::vector<std::string>> shelves;  // namespaces of each shelf, left to right
    double widest = 0;  // width of the widest shelf
    std::unordered_map<std::string, int> nsIndex;  // ns -> column, counted across shelves

    std::map<int, std::vector<int>> keyed;  // layer key -> nodes
    std::unordered_map<int, double> x;  // snapshot index -> x
    std::unordered_map<int, int> row;  // snapshot index -> row within its layer

    void renumber(const std::vector<int> &v)
    {
        const double span = v.size() > 1 ? double(v.size() - 1) : 1.0;
        for (size_t k = 0; k < v.size(); ++k)
            ord[size_t(v[k])] = double(k) / span;
    }
    double blockWidth(const std::string &ns) const
    {
        return std::max(1, std::min(perRow.at(ns), maxCount.at(ns))) * p.slotWidth;
    }
    double blockHeight(const std::string &ns, int c) const
    {
        double h = p.rowHeight;
        for (const auto &[rank, count] : nsCount.at(ns))
            h += ((count + c - 1) / c - 1) * p.rowHeight;
        return h + double(nsCount.at(ns).size() - 1) * p.layerGap;
    }
};

void GraphLayout::fullLayout(const GraphSnapshot &s, const std::vector<int> &ranks)
{
    m_layers.clear();
    m_columns.clear();
    m_placed.clear();
    m_remembered.clear();
    m_shelfRight.clear();

    FullLayoutWork w(s, ranks, m_params);
    groupByRank(w);
    orderByName(w);
    reduceCrossings(w);
    groupNamespaces(w);
    shapeShelves(w);
    orderColumnsInShelves(w);
    assignColumns(w);
    keyLayers(w);
    placeServiceRows(w);
    placeFreeLayers(w);
    stackLayers(w);
    placePinned(w);
    ++m_version;
}

// One layer per rank (ranks come from computeRanks()); pinned nodes stay out of the
// layers, since the user has already decided where they go.
void GraphLayout::groupByRank(FullLayoutWork &w) const
{
    for (size_t i = 0; i < w.s.nodes.size(); ++i) {
        if (m_pinned.count(w.s.nodes[i].id))
            w.pinnedNodes.push_back(int(i));
        else
            w.layers[w.ranks[i]].push_back(int(i));
    }
}

// Initial order within each layer: by namespace and name, which already groups
// related services.
void GraphLayout::orderByName(FullLayoutWork &w)
{
    w.ord.assign(w.s.nodes.size(), 0.0);
    for (auto &[rank, v] : w.layers) {
        std::sort(v.begin(), v.end(), [&](int a, int b) {
            const NodeSnapshot &x = w.s.nodes[size_t(a)];
            const NodeSnapshot &y = w.s.nodes[size_t(b)];
            return std::tie(x.ns, x.name, x.id) < std::tie(y.ns, y.name, y.id);
        });
        w.renumber(v);
    }
}

// Crossing reduction, the order within each layer: barycentre sweeps (down, up,
// down, up) move each node to the mean position of its neighbours in the layers
// already swept, which removes most crossings.
void GraphLayout::reduceCrossings(FullLayoutWork &w)
{
    const size_t n = w.s.nodes.size();
    const std::vector<int> &ranks = w.ranks;
    std::vector<double> key(n, 0.0);
    std::vector<int> rankOrder;
    std::vector<char> inLayout(n, 0);
    for (const auto &[rank, v] : w.layers) {
        rankOrder.push_back(rank);
        for (int i : v)
            inLayout[size_t(i)] = 1;
    }
    for (int sweep = 0; sweep < 4; ++sweep) {
        const bool down = sweep % 2 == 0;
        for (size_t li = 1; li < rankOrder.size(); ++li) {
            const int rank = down ? rankOrder[li] : rankOrder[rankOrder.size() - 1 - li];
            std::vector<int> &v = w.layers[rank];
            for (int i : v) {
                double sum = 0;
                int count = 0;
                auto visit = [&](const std::vector<int> &start, const std::vector<int> &list) {
                    for (int k = start[size_t(i)]; k < start[size_t(i) + 1]; ++k) {
                        const int j = list[size_t(k)];
                        if (inLayout[size_t(j)] && (down ? ranks[size_t(j)] < rank : ranks[size_t(j)] > rank)) {
                            sum += w.ord[size_t(j)];
                            ++count;
                        }
                    }
                };
                visit(w.adj.outStart, w.adj.outList);
                visit(w.adj.inStart, w.adj.inList);
                key[size_t(i)] = count ? sum / count : w.ord[size_t(i)];
            }
            std::stable_sort(v.begin(), v.end(), [&](int a, int b) { return key[size_t(a)] < key[size_t(b)]; });
            w.renumber(v);
        }
    }
}

// Namespace grouping: the namespaces of the service layers, ordered by where their
// services ended up on average, and how many nodes each has per layer.
void GraphLayout::groupNamespaces(FullLayoutWork &w)
{
    std::map<std::string, std::pair<double, int>> nsWeight;
    for (const auto &[rank, v] : w.layers) {
        if (!isMeshRank(rank))
            continue;
        for (int i : v) {
            const std::string &ns = w.s.nodes[size_t(i)].ns;
            nsWeight[ns].first += w.ord[size_t(i)];
            nsWeight[ns].second += 1;
            ++w.nsCount[ns][rank];
        }
    }
    for (const auto &[ns, weight] : nsWeight)
        w.nsOrder.push_back(ns);
    std::stable_sort(w.nsOrder.begin(), w.nsOrder.end(), [&](const std::string &a, const std::string &b) {
        return nsWeight[a].first / nsWeight[a].second < nsWeight[b].first / nsWeight[b].second;
    });
    for (const auto &[ns, counts] : w.nsCount) {
        int m = 0;
        for (const auto &[rank, c] : counts)
            m = std::max(m, c);
        w.maxCount[ns] = m;
    }
}

// Shape: one band with a column per namespace and no wrapping while that stays
// reasonably wide. Otherwise every namespace becomes a block about as wide as
// tall (its layers wrapped into rows), packed into shelves.
void GraphLayout::shapeShelves(FullLayoutWork &w) const
{
    const double sw = m_params.slotWidth;
    const double rh = m_params.rowHeight;
    const double gap = m_params.layerGap;
    for (const auto &[ns, m] : w.maxCount)
        w.perRow[ns] = m;
    size_t freeNodes = 0;
    for (const auto &[rank, v] : w.layers) {
        if (!isMeshRank(rank))
            freeNodes += v.size();
    }
    double bandWidth = 0;
    for (const std::string &ns : w.nsOrder)
        bandWidth += w.blockWidth(ns) + m_params.columnGap;
    double bandHeight = rh + double(std::max<size_t>(w.layers.size(), 1) - 1) * gap;
    const bool shelved = bandWidth / bandHeight > m_params.targetAspect * 1.4;
    if (!shelved) {
        w.shelves.push_back(w.nsOrder);
        return;
    }
    double area = 0;
    for (const std::string &ns : w.nsOrder) {
        const int m = w.maxCount[ns];
        int best = m;
        double bestScore = std::numeric_limits<double>::max();
        for (int c = 1; c <= m; ++c) {
            const double score = std::abs(std::log(c * sw / w.blockHeight(ns, c) / 1.2));
            if (score < bestScore) {
                bestScore = score;
                best = c;
            }
        }
        w.perRow[ns] = best;
        area += (w.blockWidth(ns) + m_params.columnGap) * (w.blockHeight(ns, best) + gap * 1.5);
    }
    area += double(freeNodes) * sw * rh;
    const double target = std::sqrt(area * m_params.targetAspect);
    double used = 0;
    for (const std::string &ns : w.nsOrder) {
        const double width = w.blockWidth(ns) + m_params.columnGap;
        if (w.shelves.empty() || (used + width > target && used > 0)) {
            w.shelves.emplace_back();
            used = 0;
        }
        w.shelves.back().push_back(ns);
        used += width;
    }
}

// Within a shelf, namespaces that call each other a lot should sit side by side:
// starting from the barycentre order, swap neighbouring columns while that
// shortens the calls between them (weighted by how many there are).
void GraphLayout::orderColumnsInShelves(FullLayoutWork &w) const
{
    const GraphSnapshot &s = w.s;
    std::unordered_map<std::string_view, int> nodeIndex;
    nodeIndex.reserve(s.nodes.size() * 2);
    for (size_t i = 0; i < s.nodes.size(); ++i)
        nodeIndex.emplace(s.nodes[i].id, int(i));
    for (std::vector<std::string> &shelf : w.shelves) {
        if (shelf.size() < 3)
            continue;
        std::unordered_map<std::string, int> idx;
        for (size_t k = 0; k < shelf.size(); ++k)
            idx[shelf[k]] = int(k);
        std::map<std::pair<int, int>, double> weight;
        for (const EdgeSnapshot &e : s.edges) {
            auto ia = nodeIndex.find(e.source), ib = nodeIndex.find(e.target);
            if (ia == nodeIndex.end() || ib == nodeIndex.end())
                continue;
            const NodeSnapshot &a = s.nodes[size_t(ia->second)], &b = s.nodes[size_t(ib->second)];
            if (a.ns == b.ns || !isMeshRank(w.ranks[size_t(ia->second)]) || !isMeshRank(w.ranks[size_t(ib->second)]))
                continue;
            auto x = idx.find(a.ns), y = idx.find(b.ns);
            if (x != idx.end() && y != idx.end())
                weight[{std::min(x->second, y->second), std::max(x->second, y->second)}] += 1;
        }
        std::vector<int> order(shelf.size());
        std::vector<double> width(shelf.size());
        for (size_t k = 0; k < shelf.size(); ++k) {
            order[k] = int(k);
            width[k] = w.blockWidth(shelf[k]);
        }
        auto cost = [&]() {
            std::vector<double> centre(order.size());
            double cur = 0;
            for (int k : order) {
                centre[size_t(k)] = cur + width[size_t(k)] / 2;
                cur += width[size_t(k)] + m_params.columnGap;
            }
            double total = 0;
            for (const auto &[pair, wt] : weight)
                total += wt * std::abs(centre[size_t(pair.first)] - centre[size_t(pair.second)]);
            return total;
        };
        double best = cost();
        for (int pass = 0; pass < 40; ++pass) {
            bool improved = false;
            for (size_t k = 0; k + 1 < order.size(); ++k) {
                std::swap(order[k], order[k + 1]);
                const double c = cost();
                if (c < best - kEps) {
                    best = c;
                    improved = true;
                } else {
                    std::swap(order[k], order[k + 1]);
                }
            }
            if (!improved)
                break;
        }
        std::vector<std::string> reordered;
        for (int k : order)
            reordered.push_back(shelf[size_t(k)]);
        shelf = std::move(reordered);
    }
}

// Columns, shelf by shelf, each shelf centred under the widest: the x range each
// namespace's services get, kept for nodes that arrive later.
void GraphLayout::assignColumns(FullLayoutWork &w)
{
    const double sw = m_params.slotWidth;
    const auto &shelves = w.shelves;
    std::vector<double> shelfWidth(shelves.size(), 0);
    for (size_t sh = 0; sh < shelves.size(); ++sh) {
        for (const std::string &ns : shelves[sh])
            shelfWidth[sh] += w.blockWidth(ns) + m_params.columnGap;
        shelfWidth[sh] = std::max(0.0, shelfWidth[sh] - m_params.columnGap);
    }
    w.widest = shelves.empty() ? sw : std::max(sw, *std::max_element(shelfWidth.begin(), shelfWidth.end()));
    m_shelfRight.assign(std::max<size_t>(shelves.size(), 1), 0);
    for (size_t sh = 0; sh < shelves.size(); ++sh) {
        double cursor = (w.widest - shelfWidth[sh]) / 2;
        for (const std::string &ns : shelves[sh]) {
            m_columns[ns] = Column {cursor, cursor + w.blockWidth(ns), int(sh)};
            w.nsIndex[ns] = int(w.nsIndex.size());
            cursor += w.blockWidth(ns) + m_params.columnGap;
        }
        m_shelfRight[sh] = cursor - m_params.columnGap;
    }
    m_left = 0;
    m_right = w.widest;
}

// Service layers become (shelf, depth) layers, namespaces contiguous in column
// order; the free layers keep their rank as key.
void GraphLayout::keyLayers(FullLayoutWork &w)
{
    for (auto &[rank, v] : w.layers) {
        if (!isMeshRank(rank)) {
            w.keyed[rank] = v;
            continue;
        }
        std::stable_sort(v.begin(), v.end(),
            [&](int a, int b) { return w.nsIndex[w.s.nodes[size_t(a)].ns] < w.nsIndex[w.s.nodes[size_t(b)].ns]; });
        for (int i : v)
            w.keyed[layerKey(rank, w.s.nodes[size_t(i)].ns)].push_back(i);
    }
}

// Coordinates of the service layers: rows filled round-robin so every row spans
// its column in barycentre order; alternate rows are staggered so edges from above
// pass between nodes rather than through them.
void GraphLayout::placeServiceRows(FullLayoutWork &w) const
{
    const double sw = m_params.slotWidth;
    const GraphSnapshot &s = w.s;
    for (const auto &[layer, v] : w.keyed) {
        if (!isMeshRank(layer))
            continue;
        for (size_t a = 0; a < v.size();) {
            size_t b = a;
            const std::string &ns = s.nodes[size_t(v[a])].ns;
            while (b < v.size() && s.nodes[size_t(v[b])].ns == ns)
                ++b;
            const Column col = m_columns.at(ns);
            const int count = int(b - a);
            const int per = std::max(1, w.perRow.at(ns));
            const int rows = (count + per - 1) / per;
            for (int j = 0; j < count; ++j) {
                const int r = j % rows;
                const int inRow = (count - r + rows - 1) / rows;
                const double stagger = rows > 1 ? (r % 2 ? sw / 4 : -sw / 4) : 0;
                const int i = v[a + size_t(j)];
                w.x[i] = col.lo + ((col.hi - col.lo) - inRow * sw) / 2 + (j / rows + 0.5) * sw + stagger;
                w.row[i] = r;
            }
            a = b;
        }
    }
}

// Coordinates of the free layers: each node under or over the mean of its placed
// neighbours. Gateways first (their neighbours are services), then clients and
// external services (whose neighbours are mostly gateways).
void GraphLayout::placeFreeLayers(FullLayoutWork &w) const
{
    const double sw = m_params.slotWidth;
    const double widest = w.widest;
    std::vector<int> freeRanks;
    for (const auto &[layer, v] : w.keyed) {
        if (!isMeshRank(layer) && !v.empty())
            freeRanks.push_back(layer);
    }
    std::stable_sort(freeRanks.begin(), freeRanks.end(), [](int a, int b) {
        auto gatewayFirst = [](int r) { return r == kIngressRank || r == kEgressRank ? 0 : 1; };
        return gatewayFirst(a) < gatewayFirst(b);
    });
    const double mid = (m_left + m_right) / 2;
    for (int rank : freeRanks) {
        const std::vector<int> &v = w.keyed[rank];
        const int per = std::max({1, int(std::floor(widest / (sw * kFreeSpacing) + kEps)),
            int(std::ceil(std::sqrt(double(v.size()) * m_params.targetAspect)))});
        const int rows = int((v.size() + size_t(per) - 1) / size_t(per));
        const double half = std::max(widest, per * sw * kFreeSpacing) / 2;
        std::vector<std::pair<double, int>> items;
        for (size_t k = 0; k < v.size(); ++k) {
            const int i = v[k];
            double sum = 0;
            int count = 0;
            auto visit = [&](const std::vector<int> &start, const std::vector<int> &list) {
                for (int e = start[size_t(i)]; e < start[size_t(i) + 1]; ++e) {
                    if (auto it = w.x.find(list[size_t(e)]); it != w.x.end()) {
                        sum += it->second;
                        ++count;
                    }
                }
            };
            visit(w.adj.outStart, w.adj.outList);
            visit(w.adj.inStart, w.adj.inList);
            const double fallback = mid - half + (2 * half) * (v.size() > 1 ? double(k) / double(v.size() - 1) : 0.5);
            items.emplace_back(count ? sum / count : fallback, i);
        }
        std::stable_sort(items.begin(), items.end());
        for (int r = 0; r < rows; ++r) {
            std::vector<std::pair<double, int>> rowItems;
            for (size_t k = size_t(r); k < items.size(); k += size_t(rows))
                rowItems.push_back(items[k]);
            std::vector<double> xs;
            placeRow(rowItems, mid - half + sw / 2, mid + half - sw / 2, sw * kFreeSpacing, xs);
            for (size_t k = 0; k < rowItems.size(); ++k) {
                w.x[rowItems[k].second] = xs[k];
                w.row[rowItems[k].second] = r;
            }
        }
    }
}

// Heights, top to bottom, and the slots that make the layout; shelves get a little
// extra room between them.
void GraphLayout::stackLayers(FullLayoutWork &w)
{
    const double rh = m_params.rowHeight;
    const double gap = m_params.layerGap;
    double y = 0;
    int lastShelf = -1;
    for (const auto &[layer, v] : w.keyed) {
        const int shelf = isMeshRank(layer) ? (layer - kServiceRank) / kShelfStride : -1;
        if (shelf >= 0 && lastShelf >= 0 && shelf != lastShelf)
            y += gap * 0.5;
        if (shelf >= 0)
            lastShelf = shelf;
        Layer &l = m_layers[layer];
        l.y0 = y;
        int rows = 1;
        for (int i : v) {
            const NodeSnapshot &node = w.s.nodes[size_t(i)];
            Slot slot;
            slot.rank = w.ranks[size_t(i)];
            slot.layer = layer;
            slot.row = w.row[i];
            slot.x = w.x[i];
            slot.inRow = true;
            slot.ns = node.ns;
            l.rows[slot.row].insert(slot.x);
            rows = std::max(rows, slot.row + 1);
            m_placed[node.id] = slot;
        }
        y += (rows - 1) * rh + gap;
    }
}

// Pinned nodes keep their pins but belong to a layer, for when they are unpinned.
void GraphLayout::placePinned(FullLayoutWork &w)
{
    for (int i : w.pinnedNodes) {
        const NodeSnapshot &node = w.s.nodes[size_t(i)];
        Slot slot;
        slot.rank = w.ranks[size_t(i)];
        slot.layer = layerFor(layerKey(slot.rank, node.ns));
        slot.ns = node.ns;
        m_placed[node.id] = slot;
    }
}

int GraphLayout::layerKey(int rank, const std::string &ns)
{
    if (!isMeshRank(rank))
        return rank;
    const int depth = std::min(rank - kServiceRank, kShelfStride - 1);
    return kServiceRank + columnFor(ns).shelf * kShelfStride + depth;
}

int GraphLayout::layerFor(int key)
{
    if (m_layers.count(key))
        return key;
    auto rowSpan = [](const Layer &l, bool top) {
        if (l.rows.empty())
            return 0;
        return top ? l.rows.begin()->first : l.rows.rbegin()->first;
    };
    if (m_layers.empty()) {
        m_layers[key].y0 = 0;
        return key;
    }
    const auto first = m_layers.begin();
    const auto last = std::prev(m_layers.end());
    // Only above the top or below the bottom can a layer appear without moving anyone.
    if (key < first->first) {
        const double top = first->second.y0 + rowSpan(first->second, true) * m_params.rowHeight;
        m_layers[key].y0 = top - m_params.layerGap;
        return key;
    }
    if (key > last->first) {
        const double bottom = last->second.y0 + rowSpan(last->second, false) * m_params.rowHeight;
        m_layers[key].y0 = bottom + m_params.layerGap;
        return key;
    }
    const auto above = std::prev(m_layers.lower_bound(key));
    const auto below = m_layers.upper_bound(key);
    return key - above->first <= below->first - key ? above->first : below->first;
}

GraphLayout::Column GraphLayout::columnFor(const std::string &ns)
{
    if (auto it = m_columns.find(ns); it != m_columns.end())
        return it->second;
    // A namespace seen for the first time opens a column at the end of the last shelf.
    if (m_shelfRight.empty())
        m_shelfRight.push_back(m_left - m_params.columnGap);
    const int shelf = int(m_shelfRight.size()) - 1;
    const bool emptyShelf = m_columns.empty();
    const double lo = emptyShelf ? m_left : m_shelfRight[size_t(shelf)] + m_params.columnGap;
    const Column col {lo, lo + 3 * m_params.slotWidth, shelf};
    m_columns[ns] = col;
    m_shelfRight[size_t(shelf)] = col.hi;
    m_right = std::max(m_right, col.hi);
    return col;
}

bool GraphLayout::freeRowSlot(
    const std::set<double> &xs, double desired, double lo, double hi, double gap, double &out) const
{
    hi = std::max(hi, lo);
    double cursor = lo;
    double best = std::numeric_limits<double>::max();
    auto consider = [&](double a, double b) {
        if (a > b + kEps)
            return;
        const double c = std::clamp(desired, a, std::max(a, b));
        if (std::abs(c - desired) < best) {
            best = std::abs(c - desired);
            out = c;
        }
    };
    for (auto it = xs.lower_bound(lo - gap + kEps); it != xs.end() && *it < hi + gap - kEps; ++it) {
        consider(cursor, std::min(*it - gap, hi));
        cursor = std::max(cursor, *it + gap);
        if (cursor > hi + kEps)
            break;
    }
    consider(cursor, hi);
    return best < std::numeric_limits<double>::max();
}

void GraphLayout::placeNew(const std::string &id, int rank, const std::string &ns, double desiredX, bool hasDesired)
{
    const double sw = m_params.slotWidth;
    const bool mesh = isMeshRank(rank);
    const double gap = mesh ? sw : sw * kFreeSpacing;
    const int layerKeyValue = layerFor(layerKey(rank, ns));
    Layer &layer = m_layers[layerKeyValue];

    double lo, hi;
    if (mesh) {
        const Column col = columnFor(ns);
        lo = col.lo + sw / 2;
        hi = std::max(lo, col.hi - sw / 2);
    } else {
        lo = m_left + sw / 2;
        hi = std::max(lo, m_right - sw / 2);
        for (const auto &[r, xs] : layer.rows) {
            if (!xs.empty()) {
                lo = std::min(lo, *xs.begin());
                hi = std::max(hi, *xs.rbegin());
            }
        }
    }
    const double desired = hasDesired ? desiredX : (lo + hi) / 2;

    Slot slot;
    slot.rank = rank;
    slot.layer = layerKeyValue;
    slot.ns = ns;
    slot.inRow = true;
    bool found = false;

    if (auto mem = m_remembered.find(id); mem != m_remembered.end() && mem->second.layer == layerKeyValue) {
        auto r = layer.rows.find(mem->second.row);
        double x;
        if (r != layer.rows.end() && freeRowSlot(r->second, mem->second.x, mem->second.x, mem->second.x, gap, x)) {
            slot.row = mem->second.row;
            slot.x = mem->second.x;
            found = true;
        }
        m_remembered.erase(mem);
    }
    // Nearest free slot inside the node's column (or the outside band), preferring
    // the upper rows of a wrapped layer.
    if (!found) {
        double bestCost = std::numeric_limits<double>::max();
        int order = 0;
        for (const auto &[r, xs] : layer.rows) {
            double x;
            if (freeRowSlot(xs, std::clamp(desired, lo, hi), lo, hi, gap, x)) {
                const double cost = std::abs(x - desired) + order * sw * 0.3;
                if (cost < bestCost) {
                    bestCost = cost;
                    slot.row = r;
                    slot.x = x;
                    found = true;
                }
            }
            ++order;
        }
    }
    if (!found) {
        const bool isLast = layerKeyValue == m_layers.rbegin()->first;
        const bool isFirst = layerKeyValue == m_layers.begin()->first;
        if (layer.rows.empty() || isLast || isFirst) {
            // The outermost layers can grow a row without pushing anyone.
            slot.row
                = layer.rows.empty() ? 0 : (isLast ? layer.rows.rbegin()->first + 1 : layer.rows.begin()->first - 1);
            slot.x = std::clamp(desired, lo, hi);
        } else {
            // A full inner layer grows sideways, as close to its column as it can.
            double bestCost = std::numeric_limits<double>::max();
            const double target = std::clamp(desired, lo, hi);
            for (const auto &[r, xs] : layer.rows) {
                double x;
                if (freeRowSlot(xs, target, -1e12, 1e12, gap, x) && std::abs(x - target) < bestCost) {
                    bestCost = std::abs(x - target);
                    slot.row = r;
                    slot.x = x;
                }
            }
        }
    }
    layer.rows[slot.row].insert(slot.x);
    m_left = std::min(m_left, slot.x - sw / 2);
    m_right = std::max(m_right, slot.x + sw / 2);
    m_placed[id] = slot;
}

void GraphLayout::takeOutOfRow(Slot &slot)
{
    if (!slot.inRow)
        return;
    if (auto l = m_layers.find(slot.layer); l != m_layers.end()) {
        if (auto r = l->second.rows.find(slot.row); r != l->second.rows.end())
            r->second.erase(slot.x);
    }
    slot.inRow = false;
}

double GraphLayout::layerY(int layer, int row) const
{
    auto it = m_layers.find(layer);
    return it == m_layers.end() ? 0.0 : it->second.y0 + row * m_params.rowHeight;
}

bool GraphLayout::contains(const std::string &id) const { return m_placed.count(id) > 0; }

QPointF GraphLayout::position(const std::string &id) const
{
    if (auto p = m_pinned.find(id); p != m_pinned.end())
        return p->second;
    auto it = m_placed.find(id);
    if (it == m_placed.end())
        return {};
    return QPointF(it->second.x, layerY(it->second.layer, it->second.row));
}

int GraphLayout::rankOf(const std::string &id) const
{
    auto it = m_placed.find(id);
    return it == m_placed.end() ? -1 : it->second.rank;
}

int GraphLayout::layerOf(const std::string &id) const
{
    auto it = m_placed.find(id);
    return it == m_placed.end() ? -1 : it->second.layer;
}

void GraphLayout::pin(const std::string &id, QPointF pos)
{
    m_pinned[id] = pos;
    if (auto it = m_placed.find(id); it != m_placed.end()) {
        takeOutOfRow(it->second);
        it->second.x = pos.x();
    }
    ++m_version;
}

void GraphLayout::setPinned(const std::unordered_map<std::string, QPointF> &pins)
{
    const auto old = m_pinned;
    m_pinned = pins;
    for (const auto &[id, pos] : old) {
        if (pins.count(id))
            continue;
        auto it = m_placed.find(id);
        if (it == m_placed.end())
            continue;
        // Unpinned: back into a free slot of its layer, near where the user left it.
        const Slot s = it->second;
        placeNew(id, s.rank, s.ns, pos.x(), true);
    }
    for (const auto &[id, pos] : pins) {
        if (auto it = m_placed.find(id); it != m_placed.end()) {
            takeOutOfRow(it->second);
            it->second.x = pos.x();
        }
    }
    ++m_version;
}

}  // namespace meshscope

#pragma once
// Stable layered layout of the service graph, north at the top: external clients,
// ingress gateways, services by call depth, then egress gateways and external
// services at the bottom. The first layout orders every layer by the barycentre of
// its neighbours and gives each namespace a column of its own. When there are too
// many namespaces for one band, each namespace becomes a roughly square block and
// the blocks are packed into shelves stacked between the gateways and the external
// services (service depth then runs within a shelf). After the first layout, nodes
// are only ever added into the nearest free slot of their layer and removed nodes
// free theirs, so nothing the operator has already seen moves. Positions the user
// dragged are pinned and always win.
//
// Plain value class, GUI thread (the canvas owns one).

#include "graph/graphsnapshot.h"

#include <QPointF>

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace meshscope {

class GraphLayout {
public:
    struct Params {
        double slotWidth = 165;  // between node centres in a row (room for a label)
        double rowHeight = 112;  // between rows of one layer when a layer wraps
        double layerGap = 135;  // between the last row of a layer and the next layer
        double columnGap = 50;  // between namespace columns
        double targetAspect = 2.2;  // width : height the first layout aims for when wrapping
    };

    // Layer ranks; services take kServiceRank + their call depth. A layer key is the
    // rank, except that services in shelf s use kServiceRank + s * kShelfStride + depth.
    static constexpr int kExternalRank = 0;
    static constexpr int kIngressRank = 1;
    static constexpr int kServiceRank = 2;
    static constexpr int kShelfStride = 10000;
    static constexpr int kEgressRank = 100000000;
    static constexpr int kOutsideRank = kEgressRank + 1;

    GraphLayout();
    explicit GraphLayout(const Params &params);

    // Brings the layout in line with a snapshot: the first non-empty one gets a full
    // layout, later ones only place new nodes and forget removed ones. Returns true
    // when any position changed.
    bool update(const GraphSnapshot &snapshot);
    // Forgets every unpinned position and lays the snapshot out from scratch.
    void relayout(const GraphSnapshot &snapshot);
    void clear();

    bool contains(const std::string &id) const;
    // Pinned position if the node is pinned, else its slot; null QPointF if unknown.
    QPointF position(const std::string &id) const;
    int rankOf(const std::string &id) const;  // rank from computeRanks(), -1 if unknown
    int layerOf(const std::string &id) const;  // key of the layer it was placed in, -1 if unknown
    size_t size() const { return m_placed.size(); }

    void pin(const std::string &id, QPointF pos);
    const std::unordered_map<std::string, QPointF> &pinned() const { return m_pinned; }
    // Replaces every pin. Nodes that lose their pin go back to a free slot near where they were.
    void setPinned(const std::unordered_map<std::string, QPointF> &pins);

    // Bumped whenever any position changes, so views know when geometry is stale.
    uint64_t version() const { return m_version; }

    // Rank every node of a snapshot would get (index-aligned with snapshot.nodes):
    // clients, ingress gateways, services at kServiceRank + depth (the longest call
    // chain down from what calls in from outside; calls closing a cycle do not count),
    // egress gateways, then external services and the "other" node.
    static std::vector<int> computeRanks(const GraphSnapshot &snapshot);

private:
    struct Slot {
        int rank = 0;  // from computeRanks()
        int layer = 0;  // key into m_layers
        int row = 0;
        double x = 0;
        bool inRow = false;  // false while pinned
        std::string ns;
    };
    struct Layer {
        double y0 = 0;
        std::map<int, std::set<double>> rows;  // row index (may be negative) -> x of its nodes
    };
    struct Column {
        double lo = 0;
        double hi = 0;
        int shelf = 0;
    };

    // Lays the snapshot out from scratch, one phase after the other (each says what it
    // decides in graphlayout.cpp); FullLayoutWork carries their results to the next.
    struct FullLayoutWork;
    void fullLayout(const GraphSnapshot &snapshot, const std::vector<int> &ranks);
    void groupByRank(FullLayoutWork &w) const;
    static void orderByName(FullLayoutWork &w);
    static void reduceCrossings(FullLayoutWork &w);
    static void groupNamespaces(FullLayoutWork &w);
    void shapeShelves(FullLayoutWork &w) const;
    void orderColumnsInShelves(FullLayoutWork &w) const;
    void assignColumns(FullLayoutWork &w);
    void keyLayers(FullLayoutWork &w);
    void placeServiceRows(FullLayoutWork &w) const;
    void placeFreeLayers(FullLayoutWork &w) const;
    void stackLayers(FullLayoutWork &w);
    void placePinned(FullLayoutWork &w);

    void placeNew(const std::string &id, int rank, const std::string &ns, double desiredX, bool hasDesired);
    int layerFor(int key);
    Column columnFor(const std::string &ns);
    int layerKey(int rank, const std::string &ns);
    // Nearest x to desired in [lo, hi] at least gap from every x in xs.
    bool freeRowSlot(const std::set<double> &xs, double desired, double lo, double hi, double gap, double &out) const;
    void takeOutOfRow(Slot &slot);
    double layerY(int layer, int row) const;

    Params m_params;
    std::map<int, Layer> m_layers;
    std::unordered_map<std::string, Column> m_columns;
    std::unordered_map<std::string, Slot> m_placed;
    std::unordered_map<std::string, QPointF> m_pinned;
    // Where recently removed nodes were, so one that comes back takes its old slot if still free.
    std::unordered_map<std::string, Slot> m_remembered;
    std::vector<std::string> m_lastIds;  // node ids of the last snapshot, in its order
    std::vector<double> m_shelfRight;  // right end of each shelf's last column
    double m_left = 0;
    double m_right = 0;
    uint64_t m_version = 0;
};

}  // namespace meshscope

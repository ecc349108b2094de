#pragma once
// Words the graph writes on one edge whatever the label kind: what share of a split
// the edge carries against the share configured (routing/routesplit.h).

#include <QString>

#include <memory>
#include <unordered_map>

namespace meshscope {

struct EdgeNote {
    QString text;
    QString shortText;  // where `text` does not fit (optional)
    bool warn = false;  // they differ, or nothing follows the routes yet
};

// Words the graph writes above one node: that routes were just applied to it ("routes
// v7 applied 3 s ago"), a rollout's step on its canary.
struct NodeNote {
    enum class Tone { Routing, Good, Bad };
    QString text;
    Tone tone = Tone::Routing;
    bool operator==(const NodeNote &) const = default;
};

// By edge index into the scene the canvas resolved them against.
using EdgeNotes = std::unordered_map<int, EdgeNote>;
using EdgeNotesPtr = std::shared_ptr<const EdgeNotes>;

}  // namespace meshscope

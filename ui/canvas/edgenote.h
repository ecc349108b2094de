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

// By edge index into the scene the canvas resolved them against.
using EdgeNotes = std::unordered_map<int, EdgeNote>;
using EdgeNotesPtr = std::shared_ptr<const EdgeNotes>;

}  // namespace meshscope

#pragma once
// Serialises a GraphSnapshot in the documented JSON contract and as Graphviz DOT.

#include "graph/graphsnapshot.h"

#include <QByteArray>

namespace meshscope {

QByteArray graphToJson(const GraphSnapshot &snapshot, bool indented = true);
QByteArray graphToDot(const GraphSnapshot &snapshot);

}  // namespace meshscope

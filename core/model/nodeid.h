#pragma once
// The one grammar of graph ids, and how a source names a node before it has an id.
//   node:  "external" | "other" | "ext:HOST" | "[namespace/]name[@version]"
//          | "namespace/*" (a whole namespace folded into one node, graph/graphview.h)
//   edge:  "SOURCE->TARGET"
// Every layer builds and reads ids through these functions, so the grammar lives here
// only.

#include "model/traffic.h"

#include <string>
#include <string_view>

namespace meshscope {

// Identity of a node as a source other than traces reports it (access logs, metrics).
struct NodeRef {
    NodeKind kind = NodeKind::Service;  // Service, External or ExternalService
    std::string ns;
    std::string name;
    std::string version;  // empty: matches a known version of the same service
    bool gateway = false;  // the source knows this workload is a gateway
    bool operator==(const NodeRef &) const = default;
};

inline constexpr std::string_view kExternalNodeId = "external";
inline constexpr std::string_view kOtherNodeId = "other";
inline constexpr std::string_view kExternalServicePrefix = "ext:";
inline constexpr std::string_view kEdgeArrow = "->";

// Appends the id to `out` (the aggregator reuses one buffer on its hot path).
void appendNodeId(
    std::string &out, NodeKind kind, std::string_view ns, std::string_view name, std::string_view version);
std::string nodeId(NodeKind kind, std::string_view ns, std::string_view name, std::string_view version);
inline std::string nodeId(const NodeRef &ref) { return nodeId(ref.kind, ref.ns, ref.name, ref.version); }

// The parts of a node id. Gateways read back as services: the kind of a service is
// not part of its id.
NodeRef parseNodeId(std::string_view id);

// A namespace shown as one node. "*" is no Kubernetes, Istio or Linkerd name (those are
// DNS labels), so no service reported by a mesh has this id; a span that names its
// service "*" joins its namespace's node rather than making a second node of this id.
inline constexpr std::string_view kNamespaceNodeName = "*";
std::string namespaceNodeId(std::string_view ns);
// The namespace `id` stands for when it is a namespace node; empty otherwise.
std::string_view namespaceOfNamespaceNodeId(std::string_view id);

void appendEdgeId(std::string &out, std::string_view source, std::string_view target);
std::string edgeId(std::string_view source, std::string_view target);

struct EdgeEnds {
    std::string source;
    std::string target;
};
// False (and nothing set) when `id` holds no arrow, that is when it is a node id.
bool parseEdgeId(std::string_view id, EdgeEnds *ends);

}  // namespace meshscope

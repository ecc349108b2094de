#include "model/nodeid.h"

namespace meshscope {

void appendNodeId(std::string &out, NodeKind kind, std::string_view ns, std::string_view name, std::string_view version)
{
    switch (kind) {
    case NodeKind::External: out.append(kExternalNodeId); return;
    case NodeKind::Other: out.append(kOtherNodeId); return;
    case NodeKind::ExternalService: out.append(kExternalServicePrefix).append(name); return;
    case NodeKind::Service:
    case NodeKind::Gateway: break;
    }
    if (!ns.empty())
        out.append(ns).append("/");
    out.append(name);
    if (!version.empty())
        out.append("@").append(version);
}

std::string nodeId(NodeKind kind, std::string_view ns, std::string_view name, std::string_view version)
{
    std::string id;
    id.reserve(ns.size() + name.size() + version.size() + 2);
    appendNodeId(id, kind, ns, name, version);
    return id;
}

NodeRef parseNodeId(std::string_view id)
{
    NodeRef ref;
    if (id == kExternalNodeId) {
        ref.kind = NodeKind::External;
        return ref;
    }
    if (id == kOtherNodeId) {
        ref.kind = NodeKind::Other;
        return ref;
    }
    if (id.substr(0, kExternalServicePrefix.size()) == kExternalServicePrefix) {
        ref.kind = NodeKind::ExternalService;
        ref.name = std::string(id.substr(kExternalServicePrefix.size()));
        return ref;
    }
    if (const size_t at = id.find('@'); at != std::string_view::npos) {
        ref.version = std::string(id.substr(at + 1));
        id = id.substr(0, at);
    }
    if (const size_t slash = id.find('/'); slash != std::string_view::npos) {
        ref.ns = std::string(id.substr(0, slash));
        id = id.substr(slash + 1);
    }
    ref.name = std::string(id);
    return ref;
}

std::string namespaceNodeId(std::string_view ns)
{
    std::string id;
    id.reserve(ns.size() + 1 + kNamespaceNodeName.size());
    id.append(ns).append("/").append(kNamespaceNodeName);
    return id;
}

std::string_view namespaceOfNamespaceNodeId(std::string_view id)
{
    constexpr size_t tail = 1 + kNamespaceNodeName.size();
    if (id.size() <= tail || id[id.size() - tail] != '/'
        || id.substr(id.size() - kNamespaceNodeName.size()) != kNamespaceNodeName)
        return {};
    const std::string_view ns = id.substr(0, id.size() - tail);
    // "a/b/*" is service "b/*" of namespace "a" by the grammar above, not a namespace node.
    return ns.find('/') == std::string_view::npos ? ns : std::string_view();
}

void appendEdgeId(std::string &out, std::string_view source, std::string_view target)
{
    out.append(source).append(kEdgeArrow).append(target);
}

std::string edgeId(std::string_view source, std::string_view target)
{
    std::string id;
    id.reserve(source.size() + target.size() + kEdgeArrow.size());
    appendEdgeId(id, source, target);
    return id;
}

bool parseEdgeId(std::string_view id, EdgeEnds *ends)
{
    const size_t arrow = id.find(kEdgeArrow);
    if (arrow == std::string_view::npos)
        return false;
    ends->source = std::string(id.substr(0, arrow));
    ends->target = std::string(id.substr(arrow + kEdgeArrow.size()));
    return true;
}

}  // namespace meshscope

#pragma once
// How meshscope writes YAML, shared by every writer of it (route files in
// routeyamlwriter.cpp, the Istio export in routeexport.cpp) so they cannot drift
// apart: a default yaml-cpp YAML::Emitter (block style, two-space indent) per
// document, strings quoted only where a plain scalar would read back as something
// else, Kubernetes resource heads, and documents joined into one "---" stream.
// Durations and numbers are spelled by each schema (formatDuration for Gateway API,
// istioDuration for Istio) and written as plain scalars.

#include <string>
#include <utility>
#include <vector>

namespace YAML {
class Emitter;
}

namespace meshscope::routing {

// True when this text written as a plain YAML scalar would read back as something
// other than the same string (empty, true/yes/on, null/~, numbers, 1:20, control
// characters such as "\r"). Emitters quote such strings so Kubernetes tooling sees
// strings too.
bool yamlNeedsQuotes(const std::string &text);

// A string scalar, quoted when yamlNeedsQuotes() says so: single quotes while it is
// printable ASCII, double quotes (with escapes) otherwise.
void emitString(YAML::Emitter &e, const std::string &s);
// "key: value" inside an open mapping; both are strings, quoted as emitString() does.
void emitKeyString(YAML::Emitter &e, const std::string &key, const std::string &value);

enum class YamlListStyle { Block, Flow };
// "key: [items]" inside an open mapping, each item quoted as emitString() does.
void emitStringList(
    YAML::Emitter &e, const std::string &key, const std::vector<std::string> &items, YamlListStyle style);

// Opens a Kubernetes resource document: its top-level mapping with apiVersion, kind
// and metadata (name, namespace and, when given, labels). The caller writes the rest
// of the top-level mapping (spec, ...) and closes it with endResource().
void beginResource(YAML::Emitter &e, const std::string &apiVersion, const std::string &kind, const std::string &name,
    const std::string &ns, const std::vector<std::pair<std::string, std::string>> &labels = {});
// Closes what beginResource() opened and returns the document's text.
std::string endResource(YAML::Emitter &e);

// Documents as one multi-document stream: "---" between them, each ending in a newline.
std::string joinDocuments(const std::vector<std::string> &documents);

}  // namespace meshscope::routing

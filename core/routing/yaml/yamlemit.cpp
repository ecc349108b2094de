#include "routing/yaml/yamlemit.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace meshscope::routing {

bool yamlNeedsQuotes(const std::string &text)
{
    if (text.empty())
        return true;
    // yaml-cpp writes a carriage return, a tab or another control character into a
    // plain scalar as it is, where reading folds or trims it: only double quotes keep it.
    if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        return true;
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    static const std::set<std::string> words = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
    if (words.count(lower))
        return true;
    // Numbers in YAML 1.1 and 1.2 spellings, including sexagesimal 1:20 and 0x/0o/0b.
    static const RE2 number(
        R"([-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?0[xob][0-9a-fA-F_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
    return RE2::FullMatch(text, number);
}

void emitString(YAML::Emitter &e, const std::string &s)
{
    if (!yamlNeedsQuotes(s)) {
        e << s;
        return;
    }
    const bool printable = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    e << (printable ? YAML::SingleQuoted : YAML::DoubleQuoted) << s;
}

void emitKeyString(YAML::Emitter &e, const std::string &key, const std::string &value)
{
    e << YAML::Key;
    emitString(e, key);
    e << YAML::Value;
    emitString(e, value);
}

void emitStringList(
    YAML::Emitter &e, const std::string &key, const std::vector<std::string> &items, YamlListStyle style)
{
    e << YAML::Key;
    emitString(e, key);
    e << YAML::Value;
    if (style == YamlListStyle::Flow)
        e << YAML::Flow;
    e << YAML::BeginSeq;
    for (const std::string &item : items)
        emitString(e, item);
    e << YAML::EndSeq;
}

void beginResource(YAML::Emitter &e, const std::string &apiVersion, const std::string &kind, const std::string &name,
    const std::string &ns, const std::vector<std::pair<std::string, std::string>> &labels)
{
    e << YAML::BeginMap;
    e << YAML::Key << "apiVersion" << YAML::Value << apiVersion;
    e << YAML::Key << "kind" << YAML::Value << kind;
    e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
    emitKeyString(e, "name", name);
    emitKeyString(e, "namespace", ns);
    if (!labels.empty()) {
        e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
        for (const auto &[key, value] : labels)
            emitKeyString(e, key, value);
        e << YAML::EndMap;
    }
    e << YAML::EndMap;
}

std::string endResource(YAML::Emitter &e)
{
    e << YAML::EndMap;
    return e.c_str();
}

std::string joinDocuments(const std::vector<std::string> &documents)
{
    std::string out;
    for (const std::string &d : documents) {
        if (!out.empty())
            out += "---\n";
        out += d;
        out += '\n';
    }
    return out;
}

}  // namespace meshscope::routing

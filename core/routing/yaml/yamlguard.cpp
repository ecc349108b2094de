#include "routing/yaml/yamlguard.h"

#include "model/text.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <map>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace meshscope::routing {

namespace {

// Thrown from the handler to stop the parser at the first problem.
struct Refused {
    YamlGuardError error;
};

class GuardHandler : public YAML::EventHandler {
public:
    explicit GuardHandler(const YamlBudget &budget)
        : m_budget(budget)
    {
    }

    void OnDocumentStart(const YAML::Mark &mark) override
    {
        m_anchors.clear();
        m_open.clear();
        m_marks.clear();
        m_document = int(m_documents);
        if (++m_documents > m_budget.maxDocuments)
            refuse(mark, "more than " + std::to_string(m_budget.maxDocuments) + " YAML documents");
    }
    void OnDocumentEnd() override { }

    void OnNull(const YAML::Mark &mark, YAML::anchor_t anchor) override { leaf(mark, anchor, "~"); }
    void OnScalar(const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor, const std::string &value) override
    {
        // A YAML stream is Unicode. yaml-cpp passes bytes that are not UTF-8 through,
        // and its emitter would later write them as U+FFFD: refused here, where every
        // scalar, key or value, passes.
        if (!isValidUtf8(value))
            refuse(mark,
                std::string(expectingKey() ? "a key" : "the value")
                    + " is not valid UTF-8 (a YAML file must be Unicode)");
        leaf(mark, anchor, value);
    }
    void OnAlias(const YAML::Mark &mark, YAML::anchor_t anchor) override
    {
        event(mark);
        auto it = m_anchors.find(anchor);
        const size_t size = it == m_anchors.end() ? 1 : it->second;
        grow(mark, size);
        // An alias used as a key: its text is unknown here, so it never collides.
        value(mark, {});
    }
    void OnSequenceStart(
        const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        open(mark, anchor, false);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(
        const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        open(mark, anchor, true);
    }
    void OnMapEnd() override { close(); }

private:
    struct Open {
        bool map = false;
        YAML::anchor_t anchor = 0;
        size_t expandedAtStart = 0;  // m_expanded when it opened
        bool expectKey = true;  // maps alternate key, value
        std::map<std::string, int> keys;  // scalar keys seen, with their line
        std::string key;  // maps: the key of the value being read ("?" when not a scalar)
        size_t items = 0;  // sequences: the items read so far
    };

    // Where the parser is, as the loader names fields: "spec.rules[0].backendRefs[1].name".
    // A key being read names the mapping it is in.
    std::string path() const
    {
        std::string out;
        for (const Open &o : m_open) {
            if (!o.map) {
                out += '[' + std::to_string(o.items) + ']';
            } else if (o.expectKey) {
                break;
            } else {
                out += (out.empty() ? "" : ".") + o.key;
            }
        }
        return out;
    }

    bool expectingKey() const { return !m_open.empty() && m_open.back().map && m_open.back().expectKey; }

    [[noreturn]] void refuse(const YAML::Mark &mark, std::string message) const
    {
        throw Refused {YamlGuardError {mark.line >= 0 ? mark.line + 1 : 0, std::move(message), m_document, path()}};
    }

    void event(const YAML::Mark &mark)
    {
        if (++m_events > m_budget.maxEvents)
            refuse(mark, "more than " + std::to_string(m_budget.maxEvents) + " YAML nodes");
    }

    void grow(const YAML::Mark &mark, size_t nodes)
    {
        m_expanded += nodes;
        if (m_expanded > m_budget.maxExpandedNodes)
            refuse(mark,
                "aliases expand past " + std::to_string(m_budget.maxExpandedNodes)
                    + " nodes (a YAML alias bomb?); a route file needs no such nesting");
    }

    // A node just completed in the innermost open collection: as a map key, it is
    // checked for duplicates.
    void value(const YAML::Mark &mark, const std::string *scalarKey)
    {
        if (m_open.empty())
            return;
        Open &o = m_open.back();
        if (!o.map) {
            ++o.items;
            return;
        }
        if (o.expectKey) {
            if (scalarKey) {
                const int line = mark.line >= 0 ? mark.line + 1 : 0;
                auto [it, inserted] = o.keys.emplace(*scalarKey, line);
                if (!inserted)
                    refuse(
                        mark, "duplicate key '" + *scalarKey + "' (first at line " + std::to_string(it->second) + ")");
            }
            o.key = scalarKey ? *scalarKey : std::string("?");
        }
        o.expectKey = !o.expectKey;
    }

    void leaf(const YAML::Mark &mark, YAML::anchor_t anchor, const std::string &text)
    {
        event(mark);
        grow(mark, 1);
        if (anchor)
            m_anchors[anchor] = 1;
        value(mark, &text);
    }

    void open(const YAML::Mark &mark, YAML::anchor_t anchor, bool map)
    {
        event(mark);
        grow(mark, 1);
        m_open.push_back(Open {map, anchor, m_expanded - 1, true, {}, {}, 0});
        m_marks.push_back(mark);
    }

    void close()
    {
        if (m_open.empty())
            return;
        const Open o = std::move(m_open.back());
        m_open.pop_back();
        const YAML::Mark mark = m_marks.back();
        m_marks.pop_back();
        if (o.anchor)
            m_anchors[o.anchor] = m_expanded - o.expandedAtStart;
        value(mark, nullptr);
    }

    const YamlBudget &m_budget;
    size_t m_documents = 0;
    int m_document = 0;  // 0-based index of the document being read
    size_t m_events = 0;
    size_t m_expanded = 0;  // over the whole file: a budget per file, not per document
    std::unordered_map<YAML::anchor_t, size_t> m_anchors;  // anchor -> expanded size
    std::vector<Open> m_open;
    std::vector<YAML::Mark> m_marks;
};

}  // namespace

bool checkYaml(const std::string &text, YamlGuardError *error, const YamlBudget &budget)
{
    // YAML allows no C0 control characters in a stream but tab, line feed and carriage
    // return (they are written as escapes in double quotes); yaml-cpp would read a raw
    // NUL or ESC into a value, and a saved file would then differ from the loaded one.
    int line = 1, document = 0;
    bool content = false;  // a line of the current document other than blanks and comments
    size_t lineStart = 0;
    for (size_t at = 0; at <= text.size(); ++at) {
        if (at == text.size() || text[at] == '\n') {
            const std::string_view l = std::string_view(text).substr(lineStart, at - lineStart);
            if (l.substr(0, 3) == "---") {
                document += content ? 1 : 0;
                content = false;
            } else if (const size_t first = l.find_first_not_of(" \t\r");
                       first != std::string_view::npos && l[first] != '#') {
                content = true;
            }
            ++line;
            lineStart = at + 1;
            continue;
        }
        const auto c = static_cast<unsigned char>(text[at]);
        if (c < 0x20 && c != '\t' && c != '\r') {
            static constexpr char kHex[] = "0123456789ABCDEF";
            error->line = line;
            error->documentIndex = document + (text.compare(lineStart, 3, "---") == 0 && content ? 1 : 0);
            error->message = std::string("control character U+00") + kHex[c >> 4] + kHex[c & 15]
                + " in the file (YAML allows none but tab and line breaks; write it as an escape in double quotes)";
            return false;
        }
    }
    std::istringstream in(text);
    GuardHandler handler(budget);
    try {
        YAML::Parser parser(in);
        while (parser.HandleNextDocument(handler)) { }
    } catch (const Refused &r) {
        *error = r.error;
        return false;
    } catch (const YAML::Exception &ex) {
        // Syntax errors are the loader's to report, with its own wording.
        (void)ex;
    }
    return true;
}

}  // namespace meshscope::routing

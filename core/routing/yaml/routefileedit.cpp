#include "routing/yaml/routefileedit.h"

#include "routing/yaml/routeyamlreader.h"
#include "routing/yaml/routeyamlwriter.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>

namespace meshscope::routing {

namespace {

struct Range {
    size_t begin = 0;
    size_t end = 0;
};

// Line and scalar geometry of one YAML text, from the byte offsets yaml-cpp's marks give.
class Text {
public:
    explicit Text(const std::string &s)
        : m_s(s)
    {
    }
    const std::string &str() const { return m_s; }

    size_t lineStart(size_t pos) const
    {
        if (pos == 0)
            return 0;
        const size_t nl = m_s.rfind('\n', pos - 1);
        return nl == std::string::npos ? 0 : nl + 1;
    }
    // Where the line holding `pos` ends, before its "\r\n" or "\n".
    size_t lineContentEnd(size_t pos) const
    {
        size_t nl = m_s.find('\n', pos);
        if (nl == std::string::npos)
            nl = m_s.size();
        return nl > pos && m_s[nl - 1] == '\r' ? nl - 1 : nl;
    }
    size_t nextLineStart(size_t pos) const
    {
        const size_t nl = m_s.find('\n', pos);
        return nl == std::string::npos ? m_s.size() : nl + 1;
    }
    size_t column(size_t pos) const { return pos - lineStart(pos); }
    size_t indentAt(size_t lineStartPos) const
    {
        size_t i = lineStartPos;
        while (i < m_s.size() && m_s[i] == ' ')
            ++i;
        return i - lineStartPos;
    }
    bool blankOrComment(size_t lineStartPos) const
    {
        const size_t i = lineStartPos + indentAt(lineStartPos);
        return i >= m_s.size() || m_s[i] == '\n' || m_s[i] == '\r' || m_s[i] == '#';
    }
    bool documentMarker(size_t lineStartPos) const
    {
        for (const char *marker : {"---", "..."}) {
            if (m_s.compare(lineStartPos, 3, marker) == 0) {
                const size_t i = lineStartPos + 3;
                if (i >= m_s.size() || m_s[i] == ' ' || m_s[i] == '\n' || m_s[i] == '\r' || m_s[i] == '\t')
                    return true;
            }
        }
        return false;
    }
    // Nothing but spaces before pos on its line.
    bool firstOnLine(size_t pos) const
    {
        for (size_t i = lineStart(pos); i < pos; ++i) {
            if (m_s[i] != ' ')
                return false;
        }
        return true;
    }

    // The text of a scalar (or null) node: quoted, or plain up to a comment, a ": ",
    // the line's end or (in flow context) a flow indicator. nullopt for what cannot be
    // edited in place: tags, anchors, aliases, block scalars, plain scalars spanning
    // lines, and a value left empty ("key:").
    std::optional<Range> scalarRange(const YAML::Node &n, bool flow) const
    {
        const size_t b = n.Mark().pos;
        if (b >= m_s.size())
            return std::nullopt;
        const char c = m_s[b];
        if (c == '"' || c == '\'') {
            for (size_t i = b + 1; i < m_s.size(); ++i) {
                if (c == '"' && m_s[i] == '\\') {
                    ++i;
                } else if (m_s[i] == c) {
                    if (c == '\'' && i + 1 < m_s.size() && m_s[i + 1] == '\'') {
                        ++i;
                        continue;
                    }
                    return Range {b, i + 1};
                }
            }
            return std::nullopt;
        }
        if (c == '|' || c == '>' || c == '!' || c == '&' || c == '*' || c == '\n' || c == '\r' || c == '#')
            return std::nullopt;
        size_t i = b;
        for (; i < m_s.size(); ++i) {
            const char ch = m_s[i];
            if (ch == '\n' || ch == '\r')
                break;
            if (ch == '#' && i > b && (m_s[i - 1] == ' ' || m_s[i - 1] == '\t'))
                break;
            if (flow && (ch == ',' || ch == ']' || ch == '}'))
                break;
            if (ch == ':'
                && (i + 1 >= m_s.size() || m_s[i + 1] == ' ' || m_s[i + 1] == '\n' || m_s[i + 1] == '\r'
                    || (flow && (m_s[i + 1] == ',' || m_s[i + 1] == ']' || m_s[i + 1] == '}'))))
                break;
        }
        size_t e = i;
        while (e > b && (m_s[e - 1] == ' ' || m_s[e - 1] == '\t'))
            --e;
        const std::string plain = m_s.substr(b, e - b);
        if (n.IsNull()) {
            if (plain == "~" || plain == "null" || plain == "Null" || plain == "NULL")
                return Range {b, e};
            return std::nullopt;  // "key:" with nothing after it: the mark is the next token's
        }
        if (!n.IsScalar() || plain != n.Scalar())
            return std::nullopt;
        return Range {b, e};
    }

    // "[...]" or "{...}" from its opening bracket, quotes and comments skipped.
    std::optional<Range> flowRange(size_t b) const
    {
        int depth = 0;
        for (size_t i = b; i < m_s.size(); ++i) {
            const char ch = m_s[i];
            if (ch == '"' || ch == '\'') {
                for (++i; i < m_s.size() && m_s[i] != ch; ++i) {
                    if (ch == '"' && m_s[i] == '\\')
                        ++i;
                }
            } else if (ch == '#' && i > b && (m_s[i - 1] == ' ' || m_s[i - 1] == '\t')) {
                i = lineContentEnd(i) - 1;
            } else if (ch == '[' || ch == '{') {
                ++depth;
            } else if (ch == ']' || ch == '}') {
                if (--depth == 0)
                    return Range {b, i + 1};
            }
        }
        return std::nullopt;
    }

    // A block mapping or sequence: from its first key or dash to the end of its last
    // line of content (comment lines after it belong to what follows).
    Range blockRange(const YAML::Node &n) const
    {
        const size_t b = n.Mark().pos;
        const size_t col = column(b);
        size_t last = lineContentEnd(b);
        for (size_t p = nextLineStart(b); p < m_s.size(); p = nextLineStart(p)) {
            if (documentMarker(p))
                break;
            if (blankOrComment(p))
                continue;
            const size_t ind = indentAt(p);
            if (ind < col)
                break;
            if (ind == col && n.IsSequence()) {
                const size_t d = p + ind;
                const bool dash = m_s[d] == '-'
                    && (d + 1 >= m_s.size() || m_s[d + 1] == ' ' || m_s[d + 1] == '\n' || m_s[d + 1] == '\r');
                if (!dash)
                    break;
            }
            last = lineContentEnd(p);
        }
        return Range {b, last};
    }

    bool isFlow(const YAML::Node &n) const
    {
        const size_t b = n.Mark().pos;
        return b < m_s.size() && (m_s[b] == '[' || m_s[b] == '{');
    }

    std::optional<Range> nodeRange(const YAML::Node &n, bool flow) const
    {
        if (n.IsScalar() || n.IsNull())
            return scalarRange(n, flow);
        const size_t b = n.Mark().pos;
        if (b >= m_s.size())
            return std::nullopt;
        if (isFlow(n))
            return flowRange(b);
        if (n.Style() != YAML::EmitterStyle::Block || m_s[b] == '&' || m_s[b] == '!' || m_s[b] == '*')
            return std::nullopt;
        if (n.IsSequence() && m_s[b] != '-')
            return std::nullopt;
        return blockRange(n);
    }

    // A key and its value, from the key to the value's end.
    std::optional<Range> pairRange(const YAML::Node &key, const YAML::Node &value) const
    {
        const std::optional<Range> k = scalarRange(key, false);
        if (!k)
            return std::nullopt;
        const std::optional<Range> v = nodeRange(value, false);
        if (!v || v->begin < k->end)
            return std::nullopt;
        return Range {k->begin, v->end};
    }

    // A list item from its dash.
    std::optional<Range> itemRange(const YAML::Node &item) const
    {
        const std::optional<Range> v = nodeRange(item, false);
        if (!v)
            return std::nullopt;
        size_t d = v->begin;
        const size_t ls = lineStart(d);
        while (d > ls && m_s[d - 1] == ' ')
            --d;
        if (d == ls || m_s[d - 1] != '-')
            return std::nullopt;
        return Range {d - 1, v->end};
    }

private:
    const std::string &m_s;
};

bool same(const YAML::Node &a, const YAML::Node &b)
{
    if (a.Type() != b.Type())
        return false;
    if (a.IsScalar())
        return a.Scalar() == b.Scalar();
    if (a.IsSequence()) {
        if (a.size() != b.size())
            return false;
        for (size_t i = 0; i < a.size(); ++i) {
            if (!same(a[i], b[i]))
                return false;
        }
        return true;
    }
    if (a.IsMap()) {
        if (a.size() != b.size())
            return false;
        for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
            if (!same(ia->first, ib->first) || !same(ia->second, ib->second))
                return false;
        }
        return true;
    }
    return true;  // null, undefined
}

struct Pair {
    std::string key;
    YAML::Node keyNode;
    YAML::Node value;
};

std::vector<Pair> pairsOf(const YAML::Node &map)
{
    std::vector<Pair> out;
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it->first.IsScalar())
            return {};
        out.push_back({it->first.Scalar(), it->first, it->second});
    }
    return out;
}

const Pair *findPair(const std::vector<Pair> &pairs, const std::string &key)
{
    for (const Pair &p : pairs) {
        if (p.key == key)
            return &p;
    }
    return nullptr;
}

// Lines after the first moved from one indentation to another (a node copied from
// meshscope's layout into the file's).
std::string reindent(const std::string &text, size_t from, size_t to)
{
    std::string out;
    size_t start = 0;
    bool first = true;
    while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos)
            nl = text.size();
        std::string line = text.substr(start, nl - start);
        if (!first) {
            size_t lead = 0;
            while (lead < line.size() && line[lead] == ' ')
                ++lead;
            if (lead >= from && lead < line.size())
                line = std::string(to, ' ') + line.substr(from);
            out += '\n';
        }
        out += line;
        first = false;
        start = nl + 1;
    }
    return out;
}

enum class Step { Keep, Delete, Insert };
struct AlignStep {
    Step step;
    size_t a = 0;  // index in the old list (Keep, Delete)
    size_t b = 0;  // index in the new list (Keep, Insert)
};

// Longest common subsequence alignment of two lists under `eq`.
template <typename Eq>
std::vector<AlignStep> align(size_t n, size_t m, Eq eq)
{
    std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;) {
        for (size_t j = m; j-- > 0;)
            lcs[i][j] = eq(i, j) ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
    std::vector<AlignStep> steps;
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && eq(i, j)) {
            steps.push_back({Step::Keep, i++, j++});
        } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
            steps.push_back({Step::Insert, 0, j++});
        } else {
            steps.push_back({Step::Delete, i++, 0});
        }
    }
    return steps;
}

struct Edit {
    size_t begin;
    size_t end;
    std::string text;
    int order;
};

// Splices the differences between base and theirs (both as toYaml writes them) into
// the original text, collecting non-overlapping edits.
class Patcher {
public:
    Patcher(const std::string &original, const std::string &theirs)
        : m_o(original)
        , m_t(theirs)
    {
    }

    const Text &original() const { return m_o; }
    const Text &theirs() const { return m_t; }

    // Edits `o` in place so it reads as `t`; false (and nothing edited) when that
    // cannot be done at this level: the caller then replaces the enclosing key, item
    // or document. oFlow and tFlow: the node sits inside a flow collection.
    bool patch(const YAML::Node &o, const YAML::Node &b, const YAML::Node &t, bool oFlow, bool tFlow)
    {
        if (same(b, t))
            return true;
        const size_t mark = m_edits.size();
        if (patchChanged(o, b, t, oFlow, tFlow))
            return true;
        m_edits.resize(mark);
        return false;
    }

    void add(size_t begin, size_t end, std::string text)
    {
        m_edits.push_back({begin, end, std::move(text), m_order++});
    }

    // The original with every edit applied; nullopt if two edits overlap.
    std::optional<std::string> apply(const std::string &eol) const
    {
        std::vector<Edit> edits = m_edits;
        std::sort(edits.begin(), edits.end(),
            [](const Edit &x, const Edit &y) { return x.begin != y.begin ? x.begin > y.begin : x.order > y.order; });
        std::string out = m_o.str();
        size_t limit = out.size();
        for (const Edit &e : edits) {
            if (e.end > limit || e.begin > e.end)
                return std::nullopt;
            std::string text = e.text;
            if (eol != "\n") {
                std::string converted;
                for (char c : text) {
                    if (c == '\n')
                        converted += eol;
                    else
                        converted += c;
                }
                text = std::move(converted);
            }
            out.replace(e.begin, e.end - e.begin, text);
            limit = e.begin;
        }
        return out;
    }

    // Whole documents (a root mapping at column 0).
    bool replaceDocument(const YAML::Node &o, const YAML::Node &t)
    {
        const std::optional<Range> ro = m_o.nodeRange(o, false);
        const std::optional<Range> rt = m_t.nodeRange(t, false);
        if (!ro || !rt || m_o.column(ro->begin) != 0)
            return false;
        add(ro->begin, ro->end, m_t.str().substr(rt->begin, rt->end - rt->begin));
        return true;
    }
    std::optional<std::string> documentText(const YAML::Node &t) const
    {
        const std::optional<Range> rt = m_t.nodeRange(t, false);
        if (!rt)
            return std::nullopt;
        return m_t.str().substr(rt->begin, rt->end - rt->begin);
    }

private:
    bool patchChanged(const YAML::Node &o, const YAML::Node &b, const YAML::Node &t, bool oFlow, bool tFlow)
    {
        if (t.IsScalar() || t.IsNull()) {
            if (!(o.IsScalar() || o.IsNull()) || !(b.IsScalar() || b.IsNull()))
                return false;
            const std::optional<Range> r = m_o.scalarRange(o, oFlow);
            const std::optional<std::string> text = scalarText(t, tFlow, oFlow);
            if (!r || !text)
                return false;
            add(r->begin, r->end, *text);
            return true;
        }
        const std::optional<Range> r = m_o.nodeRange(o, oFlow);
        if (!r)
            return false;
        const bool childO = oFlow || m_o.isFlow(o), childT = tFlow || m_t.isFlow(t);
        const size_t mark = m_edits.size();
        if (o.IsMap() && b.IsMap() && t.IsMap() && patchMap(o, b, t, childO, childT))
            return true;
        if (o.IsSequence() && b.IsSequence() && t.IsSequence() && patchSequence(o, b, t, childO, childT))
            return true;
        m_edits.resize(mark);
        // A flow collection that changed shape is written anew, still in flow style.
        if (m_o.isFlow(o) && o.Type() == t.Type()) {
            const std::optional<std::string> text = flowText(t, tFlow);
            if (!text)
                return false;
            add(r->begin, r->end, *text);
            return true;
        }
        return false;
    }

    // A scalar of theirs as the file should spell it: its own text, double-quoted
    // where it is going into a flow collection and its plain text would not survive.
    std::optional<std::string> scalarText(const YAML::Node &t, bool tFlow, bool intoFlow) const
    {
        const std::optional<Range> r = m_t.scalarRange(t, tFlow);
        if (!r)
            return std::nullopt;
        std::string text = m_t.str().substr(r->begin, r->end - r->begin);
        const bool quoted = !text.empty() && (text[0] == '"' || text[0] == '\'');
        if (intoFlow && !quoted && text.find_first_of(",[]{}#:") != std::string::npos) {
            YAML::Emitter e;
            e << YAML::DoubleQuoted << t.Scalar();
            text = e.c_str();
        }
        return text;
    }

    std::optional<std::string> flowText(const YAML::Node &t, bool tFlow) const
    {
        const bool childFlow = tFlow || m_t.isFlow(t);
        if (t.IsScalar() || t.IsNull())
            return scalarText(t, tFlow, true);
        std::string out = t.IsSequence() ? "[" : "{";
        bool first = true;
        for (auto it = t.begin(); it != t.end(); ++it) {
            if (!first)
                out += ", ";
            first = false;
            if (t.IsSequence()) {
                const std::optional<std::string> v = flowText(*it, childFlow);
                if (!v)
                    return std::nullopt;
                out += *v;
            } else {
                const std::optional<std::string> k = scalarText(it->first, childFlow, true);
                const std::optional<std::string> v = flowText(it->second, childFlow);
                if (!k || !v)
                    return std::nullopt;
                out += *k + ": " + *v;
            }
        }
        out += t.IsSequence() ? "]" : "}";
        return out;
    }

    // oFlow and tFlow: the mapping's values sit inside a flow collection. In flow
    // style only values are edited; a key added or removed rewrites the whole mapping.
    bool patchMap(const YAML::Node &o, const YAML::Node &b, const YAML::Node &t, bool oFlow, bool tFlow)
    {
        const std::vector<Pair> op = pairsOf(o), bp = pairsOf(b), tp = pairsOf(t);
        if (op.empty() || tp.empty())
            return false;
        const Pair *previous = nullptr;  // the last key of theirs the file has, for inserting after it
        for (const Pair &tpair : tp) {
            const Pair *opair = findPair(op, tpair.key);
            const Pair *bpair = findPair(bp, tpair.key);
            if (bpair && same(bpair->value, tpair.value)) {
                if (opair)
                    previous = opair;
                continue;
            }
            if (opair) {
                const bool inPlace = bpair && patch(opair->value, bpair->value, tpair.value, oFlow, tFlow);
                if (!inPlace && (oFlow || !replacePair(*opair, tpair)))
                    return false;
                previous = opair;
            } else if (oFlow || !insertPair(op, previous, tpair)) {
                return false;
            }
        }
        for (const Pair &bpair : bp) {
            if (findPair(tp, bpair.key))
                continue;
            if (const Pair *opair = findPair(op, bpair.key); opair && (oFlow || !deletePair(op, *opair)))
                return false;
        }
        return true;
    }

    bool replacePair(const Pair &o, const Pair &t)
    {
        const std::optional<Range> ro = m_o.pairRange(o.keyNode, o.value);
        const std::optional<Range> rt = m_t.pairRange(t.keyNode, t.value);
        if (!ro || !rt)
            return false;
        add(ro->begin, ro->end,
            reindent(m_t.str().substr(rt->begin, rt->end - rt->begin), m_t.column(rt->begin), m_o.column(ro->begin)));
        return true;
    }

    bool insertPair(const std::vector<Pair> &op, const Pair *after, const Pair &t)
    {
        const std::optional<Range> rt = m_t.pairRange(t.keyNode, t.value);
        const std::optional<Range> firstKey = m_o.scalarRange(op.front().keyNode, false);
        if (!rt || !firstKey)
            return false;
        const size_t col = m_o.column(firstKey->begin);
        const std::string text = reindent(m_t.str().substr(rt->begin, rt->end - rt->begin), m_t.column(rt->begin), col);
        if (after) {
            const std::optional<Range> ra = m_o.pairRange(after->keyNode, after->value);
            if (!ra)
                return false;
            add(m_o.lineContentEnd(ra->end), m_o.lineContentEnd(ra->end), "\n" + std::string(col, ' ') + text);
        } else if (m_o.firstOnLine(firstKey->begin)) {
            const size_t ls = m_o.lineStart(firstKey->begin);
            add(ls, ls, std::string(col, ' ') + text + "\n");
        } else {
            add(firstKey->begin, firstKey->begin, text + "\n" + std::string(col, ' '));
        }
        return true;
    }

    bool deletePair(const std::vector<Pair> &op, const Pair &o)
    {
        const std::optional<Range> r = m_o.pairRange(o.keyNode, o.value);
        if (!r)
            return false;
        if (m_o.firstOnLine(r->begin)) {
            add(m_o.lineStart(r->begin), m_o.nextLineStart(r->end), {});
            return true;
        }
        // The first key after "- ": the next key moves up beside the dash.
        for (size_t i = 0; i + 1 < op.size(); ++i) {
            if (op[i].key == o.key) {
                const std::optional<Range> next = m_o.scalarRange(op[i + 1].keyNode, false);
                if (!next || !m_o.firstOnLine(next->begin))
                    return false;
                add(r->begin, next->begin, {});
                return true;
            }
        }
        return false;
    }

    bool patchSequence(const YAML::Node &o, const YAML::Node &b, const YAML::Node &t, bool oFlow, bool tFlow)
    {
        if (o.size() != b.size() || o.size() == 0)
            return false;
        auto modify = [&](size_t i, size_t j) {
            return patch(o[i], b[i], t[j], oFlow, tFlow) || (!oFlow && replaceItem(o[i], t[j]));
        };
        if (b.size() == t.size()) {
            for (size_t i = 0; i < b.size(); ++i) {
                if (!modify(i, i))
                    return false;
            }
            return true;
        }
        if (oFlow)
            return false;
        const std::vector<AlignStep> steps
            = align(b.size(), t.size(), [&](size_t i, size_t j) { return same(b[i], t[j]); });
        std::optional<size_t> lastOld;  // the old item new ones go after
        for (size_t s = 0; s < steps.size();) {
            if (steps[s].step == Step::Keep) {
                lastOld = steps[s].a;
                ++s;
                continue;
            }
            std::vector<size_t> dels, ins;
            for (; s < steps.size() && steps[s].step != Step::Keep; ++s)
                (steps[s].step == Step::Delete ? dels.push_back(steps[s].a) : ins.push_back(steps[s].b));
            const size_t paired = std::min(dels.size(), ins.size());
            for (size_t k = 0; k < paired; ++k) {
                if (!modify(dels[k], ins[k]))
                    return false;
                lastOld = dels[k];
            }
            for (size_t k = paired; k < dels.size(); ++k) {
                if (!deleteItem(o[dels[k]]))
                    return false;
            }
            for (size_t k = paired; k < ins.size(); ++k) {
                if (!insertItem(o, lastOld, t[ins[k]]))
                    return false;
            }
        }
        return true;
    }

    bool replaceItem(const YAML::Node &o, const YAML::Node &t)
    {
        const std::optional<Range> ro = m_o.itemRange(o);
        const std::optional<Range> rt = m_t.itemRange(t);
        if (!ro || !rt)
            return false;
        add(ro->begin, ro->end,
            reindent(m_t.str().substr(rt->begin, rt->end - rt->begin), m_t.column(rt->begin), m_o.column(ro->begin)));
        return true;
    }

    bool deleteItem(const YAML::Node &o)
    {
        const std::optional<Range> r = m_o.itemRange(o);
        if (!r || !m_o.firstOnLine(r->begin))
            return false;
        add(m_o.lineStart(r->begin), m_o.nextLineStart(r->end), {});
        return true;
    }

    bool insertItem(const YAML::Node &o, std::optional<size_t> after, const YAML::Node &t)
    {
        const std::optional<Range> rt = m_t.itemRange(t);
        const std::optional<Range> first = m_o.itemRange(o[0]);
        if (!rt || !first)
            return false;
        const size_t col = m_o.column(first->begin);
        const std::string text = reindent(m_t.str().substr(rt->begin, rt->end - rt->begin), m_t.column(rt->begin), col);
        if (after) {
            const std::optional<Range> ra = m_o.itemRange(o[*after]);
            if (!ra)
                return false;
            add(m_o.lineContentEnd(ra->end), m_o.lineContentEnd(ra->end), "\n" + std::string(col, ' ') + text);
            return true;
        }
        if (!m_o.firstOnLine(first->begin))
            return false;
        const size_t ls = m_o.lineStart(first->begin);
        add(ls, ls, std::string(col, ' ') + text + "\n");
        return true;
    }

    Text m_o;
    Text m_t;
    std::vector<Edit> m_edits;
    int m_order = 0;
};

std::string documentKey(const HttpRoute &r) { return "HTTPRoute " + r.ns + "/" + r.name; }
std::string documentKey(const EndpointSlice &s) { return "EndpointSlice " + s.ns + "/" + s.name; }

struct Document {
    std::string key;
    bool route = false;
    int originalIndex = -1;  // index among the original's YAML documents (base only)
};

std::vector<Document> documentsOf(const RouteSet &set)
{
    std::vector<Document> out;
    for (const HttpRoute &r : set.routes)
        out.push_back({documentKey(r), true, r.source.documentIndex});
    for (const EndpointSlice &s : set.endpointSlices)
        out.push_back({documentKey(s), false, s.source.documentIndex});
    return out;
}

// Where each of the file's documents begins: 0, then every later "---" line.
std::vector<size_t> documentStarts(const Text &text)
{
    std::vector<size_t> starts {0};
    const std::string &s = text.str();
    for (size_t p = text.nextLineStart(0); p < s.size(); p = text.nextLineStart(p)) {
        if (s.compare(p, 3, "---") == 0 && text.documentMarker(p))
            starts.push_back(p);
    }
    return starts;
}

}  // namespace

RouteFileEdit editRouteFile(const std::string &original, const RouteSet &after, const std::string &fileName)
{
    RouteFileEdit out;
    auto rewriteAll = [&](const std::string &why) {
        out.text = toYaml(after);
        out.layoutKept = false;
        out.rewritten = {"the whole file: " + why};
        return out;
    };
    const RouteLoadResult loaded = loadRouteYaml(original, fileName);
    if (!loaded.ok())
        return rewriteAll("it does not load as it is (" + loaded.issues.front().toString() + ")");
    const RouteSet &before = loaded.set;
    if (before == after) {
        out.text = original;
        return out;
    }

    const std::string baseText = toYaml(before), theirsText = toYaml(after);
    std::vector<YAML::Node> odocs, bdocs, tdocs;
    try {
        odocs = YAML::LoadAll(original);
        bdocs = YAML::LoadAll(baseText);
        tdocs = YAML::LoadAll(theirsText);
    } catch (const YAML::Exception &ex) {
        return rewriteAll("it cannot be edited in place (" + ex.msg + ")");
    }
    const std::vector<Document> bkeys = documentsOf(before), tkeys = documentsOf(after);
    if (bkeys.size() != bdocs.size() || tkeys.size() != tdocs.size())
        return rewriteAll("its documents do not match the routes read from it");
    for (const Document &d : bkeys) {
        if (d.originalIndex < 0 || size_t(d.originalIndex) >= odocs.size())
            return rewriteAll("its documents do not match the routes read from it");
    }

    const std::string eol = original.find("\r\n") != std::string::npos ? "\r\n" : "\n";
    Patcher patcher(original, theirsText);
    const Text &otext = patcher.original();
    const std::vector<size_t> starts = documentStarts(otext);
    auto regionOf = [&](size_t pos) {
        size_t r = 0;
        while (r + 1 < starts.size() && starts[r + 1] <= pos)
            ++r;
        return r;
    };
    auto regionEnd = [&](size_t r) { return r + 1 < starts.size() ? starts[r + 1] : original.size(); };
    const bool endsWithNewline = !original.empty() && original.back() == '\n';

    const std::vector<AlignStep> steps
        = align(bkeys.size(), tkeys.size(), [&](size_t i, size_t j) { return bkeys[i].key == tkeys[j].key; });
    // New documents go after the last kept document of their kind (routes keep their
    // order: it is the order rules are matched in), or before the first one.
    std::optional<size_t> lastRoute, lastSlice;  // original document indexes
    std::optional<size_t> firstRoute, firstSlice;
    for (const Document &d : bkeys) {
        auto &first = d.route ? firstRoute : firstSlice;
        if (!first)
            first = size_t(d.originalIndex);
    }
    for (const AlignStep &s : steps) {
        if (s.step == Step::Keep) {
            const Document &d = bkeys[s.a];
            const YAML::Node &o = odocs[size_t(d.originalIndex)];
            (d.route ? lastRoute : lastSlice) = size_t(d.originalIndex);
            if (!patcher.patch(o, bdocs[s.a], tdocs[s.b], false, false)) {
                if (!patcher.replaceDocument(o, tdocs[s.b]))
                    return rewriteAll(d.key + " cannot be edited in place");
                out.rewritten.push_back(d.key + ": written in meshscope's layout (it could not be edited in place)");
            }
        } else if (s.step == Step::Delete) {
            const Document &d = bkeys[s.a];
            const size_t pos = odocs[size_t(d.originalIndex)].Mark().pos;
            const size_t r = regionOf(pos);
            // The first document has no "---" of its own: keep the file's header comment.
            const size_t from = r == 0 ? otext.lineStart(pos) : starts[r];
            patcher.add(from, regionEnd(r), {});
        } else {
            const Document &d = tkeys[s.b];
            const std::optional<std::string> doc = patcher.documentText(tdocs[s.b]);
            if (!doc)
                return rewriteAll(d.key + " cannot be written");
            const std::optional<size_t> after = d.route ? lastRoute : lastSlice;
            const std::optional<size_t> before = d.route ? firstRoute : firstSlice;
            if (after) {
                const size_t end = regionEnd(regionOf(odocs[*after].Mark().pos));
                const bool atEof = end == original.size();
                patcher.add(end, end, std::string(atEof && !endsWithNewline ? "\n" : "") + "---\n" + *doc + "\n");
            } else if (before) {
                const size_t pos = odocs[*before].Mark().pos;
                const size_t r = regionOf(pos);
                if (r == 0) {
                    const size_t ls = otext.lineStart(pos);
                    patcher.add(ls, ls, *doc + "\n---\n");
                } else {
                    patcher.add(starts[r], starts[r], "---\n" + *doc + "\n");
                }
            } else {
                patcher.add(original.size(), original.size(),
                    std::string(endsWithNewline || original.empty() ? "" : "\n") + (original.empty() ? "" : "---\n")
                        + *doc + "\n");
            }
        }
    }

    const std::optional<std::string> edited = patcher.apply(eol);
    if (!edited)
        return rewriteAll("its changes overlap");
    // Read back, it must be what meshscope's own writing of the new routes reads as
    // (that also fills in what `after` leaves to defaults, such as a missing path match).
    const RouteLoadResult check = loadRouteYaml(*edited, fileName);
    const RouteLoadResult expected = loadRouteYaml(theirsText, fileName);
    if (!check.ok() || !expected.ok() || !(check.set == expected.set))
        return rewriteAll("an edit in place did not read back as the new routes");
    out.text = *edited;
    out.layoutKept = out.rewritten.empty();
    return out;
}

}  // namespace meshscope::routing

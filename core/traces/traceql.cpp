#include "traces/traceql.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace meshscope {

namespace {

// ---------------------------------------------------------------------------------------
// Tokens

enum class Tok : uint8_t {
    End,
    LBrace,
    RBrace,
    LParen,
    RParen,
    AndAnd,
    OrOr,
    Not,
    Descendant,  // >>
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    Re,
    NotRe,
    String,
    Number,  // with a unit it is a duration
    Word,  // an intrinsic, a scoped attribute, or a value keyword (true, nil, error, server...)
};

struct Token {
    Tok kind = Tok::End;
    size_t column = 0;  // 1-based byte column, what error messages name
    std::string_view raw;  // as written
    std::string text;  // String: unescaped; Word: the word (for `span."a b"`: "span.")
    std::string quotedKey;  // Word: the key of `span."a b"`
    bool hasQuotedKey = false;
    std::string_view unit;  // Number: the duration unit, empty for a plain number
};

std::string at(size_t column, std::string_view message)
{
    std::string s = "column " + std::to_string(column) + ": ";
    s += message;
    return s;
}

bool isWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.'; }

bool isWordChar(char c) { return isWordStart(c) || (c >= '0' && c <= '9') || c == '-' || c == ':' || c == '/'; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The unit's length in nanoseconds, or 0 for an unknown unit.
double durationUnitNs(std::string_view unit)
{
    if (unit == "ns")
        return 1;
    if (unit == "us")
        return 1e3;
    if (unit == "ms")
        return 1e6;
    if (unit == "s")
        return 1e9;
    if (unit == "m")
        return 60e9;
    if (unit == "h")
        return 3600e9;
    return 0;
}

// A whole string as a number. Requires a digit up front so that "inf", "nan" and
// "0x10"-style text stay text.
bool parseNumber(std::string_view s, double &out)
{
    if (s.empty())
        return false;
    size_t first = s[0] == '-' ? 1 : 0;
    if (first >= s.size() || !(isDigit(s[first]) || (s[first] == '.' && first + 1 < s.size() && isDigit(s[first + 1]))))
        return false;
    const char *end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc() && ptr == end;
}

std::string quoteString(std::string_view s)
{
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default: out += c;
        }
    }
    out += '"';
    return out;
}

bool lex(std::string_view in, std::vector<Token> &out, std::string &error)
{
    size_t i = 0;
    auto push = [&](Tok kind, size_t start, size_t len) {
        Token t;
        t.kind = kind;
        t.column = start + 1;
        t.raw = in.substr(start, len);
        out.push_back(std::move(t));
        i = start + len;
    };
    // Reads a double-quoted string starting at `start` (the quote) into `value`.
    auto readString = [&](size_t start, std::string &value) -> bool {
        size_t j = start + 1;
        while (j < in.size() && in[j] != '"') {
            if (in[j] == '\\') {
                if (j + 1 >= in.size())
                    break;
                char e = in[j + 1];
                if (e == '"' || e == '\\')
                    value += e;
                else if (e == 'n')
                    value += '\n';
                else if (e == 't')
                    value += '\t';
                else {
                    error
                        = at(j + 1, std::string("unknown escape '\\") + e + "' in string (write \\\\ for a backslash)");
                    return false;
                }
                j += 2;
            } else {
                value += in[j++];
            }
        }
        if (j >= in.size()) {
            error = at(start + 1, "unterminated string");
            return false;
        }
        i = j + 1;
        return true;
    };

    while (i < in.size()) {
        const char c = in[i];
        const char next = i + 1 < in.size() ? in[i + 1] : '\0';
        const size_t start = i;
        switch (c) {
        case ' ':
        case '\t':
        case '\n':
        case '\r': ++i; continue;
        case '{': push(Tok::LBrace, i, 1); continue;
        case '}': push(Tok::RBrace, i, 1); continue;
        case '(': push(Tok::LParen, i, 1); continue;
        case ')': push(Tok::RParen, i, 1); continue;
        case '&':
            if (next != '&') {
                error = at(i + 1, "expected '&&'");
                return false;
            }
            push(Tok::AndAnd, i, 2);
            continue;
        case '|':
            if (next != '|') {
                error = at(i + 1, "pipelines ('|') are not supported");
                return false;
            }
            push(Tok::OrOr, i, 2);
            continue;
        case '!':
            if (next == '=')
                push(Tok::Ne, i, 2);
            else if (next == '~')
                push(Tok::NotRe, i, 2);
            else
                push(Tok::Not, i, 1);
            continue;
        case '=':
            if (next == '=') {
                error = at(i + 1, "'==' is not TraceQL; use '='");
                return false;
            }
            if (next == '~')
                push(Tok::Re, i, 2);
            else
                push(Tok::Eq, i, 1);
            continue;
        case '>':
            if (next == '>')
                push(Tok::Descendant, i, 2);
            else if (next == '=')
                push(Tok::Ge, i, 2);
            else
                push(Tok::Gt, i, 1);
            continue;
        case '<':
            if (next == '<') {
                error = at(i + 1, "operator '<<' (ancestor) is not supported");
                return false;
            }
            if (next == '=')
                push(Tok::Le, i, 2);
            else
                push(Tok::Lt, i, 1);
            continue;
        case '~': error = at(i + 1, "operator '~' (sibling) is not supported"); return false;
        case '"': {
            std::string value;
            if (!readString(start, value))
                return false;
            Token t;
            t.kind = Tok::String;
            t.column = start + 1;
            t.raw = in.substr(start, i - start);
            t.text = std::move(value);
            out.push_back(std::move(t));
            continue;
        }
        default: break;
        }

        if (isDigit(c) || (c == '-' && isDigit(next))) {
            size_t j = i + 1;
            while (j < in.size() && isDigit(in[j]))
                ++j;
            if (j + 1 < in.size() && in[j] == '.' && isDigit(in[j + 1])) {
                j += 2;
                while (j < in.size() && isDigit(in[j]))
                    ++j;
            }
            // An exponent only when digits follow, so "1e" reads as a (bad) unit.
            if (j < in.size() && (in[j] == 'e' || in[j] == 'E')) {
                size_t k = j + 1;
                if (k < in.size() && (in[k] == '+' || in[k] == '-'))
                    ++k;
                if (k < in.size() && isDigit(in[k])) {
                    j = k;
                    while (j < in.size() && isDigit(in[j]))
                        ++j;
                }
            }
            const size_t numberEnd = j;
            while (j < in.size() && ((in[j] >= 'a' && in[j] <= 'z') || (in[j] >= 'A' && in[j] <= 'Z')))
                ++j;
            Token t;
            t.kind = Tok::Number;
            t.column = start + 1;
            t.raw = in.substr(start, j - start);
            t.text = std::string(in.substr(start, numberEnd - start));
            t.unit = in.substr(numberEnd, j - numberEnd);
            if (!t.unit.empty() && durationUnitNs(t.unit) == 0) {
                error = at(numberEnd + 1,
                    "bad duration unit '" + std::string(t.unit) + "' in '" + std::string(t.raw)
                        + "' (units: ns, us, ms, s, m, h)");
                return false;
            }
            out.push_back(std::move(t));
            i = j;
            continue;
        }

        if (isWordStart(c)) {
            size_t j = i + 1;
            while (j < in.size() && isWordChar(in[j]))
                ++j;
            Token t;
            t.kind = Tok::Word;
            t.column = start + 1;
            t.text = std::string(in.substr(start, j - start));
            i = j;
            // `span."key with spaces"`: the scope's dot directly followed by a quoted key.
            if (t.text.back() == '.' && i < in.size() && in[i] == '"') {
                if (!readString(i, t.quotedKey))
                    return false;
                t.hasQuotedKey = true;
            }
            t.raw = in.substr(start, i - start);
            out.push_back(std::move(t));
            continue;
        }

        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            error = at(i + 1, std::string("unexpected character '") + c + "'");
        } else {
            static const char hex[] = "0123456789ABCDEF";
            error = at(i + 1, std::string("unexpected byte 0x") + hex[byte >> 4] + hex[byte & 15]);
        }
        return false;
    }
    Token end;
    end.kind = Tok::End;
    end.column = in.size() + 1;
    out.push_back(std::move(end));
    return true;
}

std::string describe(const Token &t)
{
    if (t.kind == Tok::End)
        return "end of query";
    std::string_view raw = t.raw;
    if (raw.size() > 24)
        return "'" + std::string(raw.substr(0, 24)) + "...'";
    return "'" + std::string(raw) + "'";
}

// ---------------------------------------------------------------------------------------
// The compiled query

enum class Field : uint8_t { Name, Status, Kind, Duration, Service, SpanAttr, ResourceAttr, AnyAttr };
enum class Op : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, Re, NotRe };
enum class ValueKind : uint8_t { String, Number, Duration, Bool, Nil, Status, Kind };

bool isOrdering(Op op) { return op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge; }
bool isRegex(Op op) { return op == Op::Re || op == Op::NotRe; }

const char *opText(Op op)
{
    switch (op) {
    case Op::Eq: return "=";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Re: return "=~";
    case Op::NotRe: return "!~";
    }
    return "?";
}

struct Comparison {
    Field field = Field::Name;
    Op op = Op::Eq;
    ValueKind value = ValueKind::String;
    std::string key;  // attribute key (the scope stripped)
    std::string literal;  // String: the text; Number: as written
    double number = 0;
    bool literalIsNumber = false;  // number holds the literal's numeric value
    uint64_t ns = 0;  // Duration
    bool boolean = false;
    SpanStatus status = SpanStatus::Unset;
    SpanKind kind = SpanKind::Unspecified;
    std::shared_ptr<const re2::RE2> regex;  // shared so that copies of a query share it
    std::string fieldText;  // normalized, for text()
    std::string valueText;
};

struct CondNode {
    enum Type : uint8_t { Cmp, And, Or, Not } type = Cmp;
    uint32_t comparison = 0;
    std::vector<uint32_t> children;  // And, Or: two or more; Not: one
};

// Span-set expressions in postfix order: operands come before their operator, so
// evaluation, printing and hints run over a stack without recursion however long
// a chain of `>>` is.
struct SetNode {
    enum Type : uint8_t { Leaf, Descendant, Child, And, Or } type = Leaf;
    int32_t cond = -1;  // Leaf: the root condition, -1 for `{}`
};

}  // namespace

struct TraceQlQuery::Program {
    std::vector<Comparison> comparisons;
    std::vector<CondNode> conds;
    std::vector<SetNode> sets;
    std::string text;
    std::vector<std::string> services;
    std::vector<std::string> names;
};

namespace {

// ---------------------------------------------------------------------------------------
// Parser: recursive descent, with recursion only through parentheses and `!`, which
// the nesting limit bounds. Chains of binary operators are loops.

class Parser {
public:
    Parser(const std::vector<Token> &tokens, TraceQlQuery::Program &program, std::string &error)
        : m_tokens(tokens)
        , m_program(program)
        , m_error(error)
    {
    }

    bool parseQuery()
    {
        if (peek().kind == Tok::End)
            return fail(peek().column, "empty query");
        if (!spansetOr())
            return false;
        if (peek().kind != Tok::End)
            return fail(peek().column, "unexpected " + describe(peek()) + " after the query");
        return true;
    }

private:
    const Token &peek() const { return m_tokens[m_pos]; }
    const Token &take() { return m_tokens[m_pos++]; }

    bool fail(size_t column, std::string_view message)
    {
        if (m_error.empty())
            m_error = at(column, message);
        return false;
    }

    bool enter(const Token &t)
    {
        if (++m_depth > TraceQlQuery::kMaxNesting)
            return fail(t.column, "nesting deeper than " + std::to_string(TraceQlQuery::kMaxNesting) + " levels");
        return true;
    }

    void emit(SetNode::Type type) { m_program.sets.push_back(SetNode {type, -1}); }

    // Span-set level, loosest first: ||, &&, then >> and >.
    bool spansetOr()
    {
        if (!spansetAnd())
            return false;
        while (peek().kind == Tok::OrOr) {
            take();
            if (!spansetAnd())
                return false;
            emit(SetNode::Or);
        }
        return true;
    }

    bool spansetAnd()
    {
        if (!structural())
            return false;
        while (peek().kind == Tok::AndAnd) {
            take();
            if (!structural())
                return false;
            emit(SetNode::And);
        }
        return true;
    }

    bool structural()
    {
        if (!spansetPrimary())
            return false;
        while (peek().kind == Tok::Descendant || peek().kind == Tok::Gt) {
            const SetNode::Type type = take().kind == Tok::Descendant ? SetNode::Descendant : SetNode::Child;
            if (!spansetPrimary())
                return false;
            emit(type);
        }
        return true;
    }

    bool spansetPrimary()
    {
        const Token &t = peek();
        if (t.kind == Tok::LBrace)
            return spanset();
        if (t.kind == Tok::LParen) {
            take();
            if (!enter(t) || !spansetOr())
                return false;
            if (peek().kind != Tok::RParen)
                return fail(peek().column,
                    "expected ')' to close '(' at column " + std::to_string(t.column) + ", got " + describe(peek()));
            take();
            --m_depth;
            return true;
        }
        return fail(t.column, "expected '{' to start a span set, got " + describe(t));
    }

    bool spanset()
    {
        take();  // {
        int32_t cond = -1;
        if (peek().kind != Tok::RBrace) {
            cond = condOr();
            if (cond < 0)
                return false;
            if (peek().kind != Tok::RBrace)
                return fail(peek().column, "expected '}' after condition, got " + describe(peek()));
        }
        take();  // }
        m_program.sets.push_back(SetNode {SetNode::Leaf, cond});
        return true;
    }

    // Joins operands into one n-ary node, merging operands of the same type that came
    // from parentheses, so `(a || b) || c` and `a || b || c` are one query.
    int32_t join(CondNode::Type type, const std::vector<int32_t> &operands)
    {
        if (operands.size() == 1)
            return operands.front();
        CondNode node;
        node.type = type;
        for (int32_t o : operands) {
            const CondNode &child = m_program.conds[size_t(o)];
            if (child.type == type)
                node.children.insert(node.children.end(), child.children.begin(), child.children.end());
            else
                node.children.push_back(uint32_t(o));
        }
        m_program.conds.push_back(std::move(node));
        return int32_t(m_program.conds.size() - 1);
    }

    int32_t condOr()
    {
        std::vector<int32_t> operands;
        do {
            if (!operands.empty())
                take();
            const int32_t o = condAnd();
            if (o < 0)
                return -1;
            operands.push_back(o);
        } while (peek().kind == Tok::OrOr);
        return join(CondNode::Or, operands);
    }

    int32_t condAnd()
    {
        std::vector<int32_t> operands;
        do {
            if (!operands.empty())
                take();
            const int32_t o = condUnary();
            if (o < 0)
                return -1;
            operands.push_back(o);
        } while (peek().kind == Tok::AndAnd);
        return join(CondNode::And, operands);
    }

    int32_t condUnary()
    {
        const Token &t = peek();
        if (t.kind == Tok::Not) {
            take();
            // `!(` counts once (for the parenthesis), so the normal form `!(x)` nests no
            // deeper than the `!x` it came from.
            const bool counted = peek().kind != Tok::LParen;
            if (counted && !enter(t))
                return -1;
            const int32_t operand = condUnary();
            if (operand < 0)
                return -1;
            if (counted)
                --m_depth;
            CondNode node;
            node.type = CondNode::Not;
            node.children.push_back(uint32_t(operand));
            m_program.conds.push_back(std::move(node));
            return int32_t(m_program.conds.size() - 1);
        }
        if (t.kind == Tok::LParen) {
            take();
            if (!enter(t))
                return -1;
            const int32_t inner = condOr();
            if (inner < 0)
                return -1;
            if (peek().kind != Tok::RParen) {
                fail(peek().column,
                    "expected ')' to close '(' at column " + std::to_string(t.column) + ", got " + describe(peek()));
                return -1;
            }
            take();
            --m_depth;
            return inner;
        }
        return comparison();
    }

    int32_t comparison()
    {
        Comparison c;
        const Token &fieldTok = peek();
        if (fieldTok.kind != Tok::Word) {
            fail(fieldTok.column,
                "expected a field (name, status, kind, duration, span.x, resource.x or .x), got " + describe(fieldTok));
            return -1;
        }
        take();
        if (!parseField(fieldTok, c))
            return -1;

        const Token &opTok = peek();
        switch (opTok.kind) {
        case Tok::Eq: c.op = Op::Eq; break;
        case Tok::Ne: c.op = Op::Ne; break;
        case Tok::Lt: c.op = Op::Lt; break;
        case Tok::Le: c.op = Op::Le; break;
        case Tok::Gt: c.op = Op::Gt; break;
        case Tok::Ge: c.op = Op::Ge; break;
        case Tok::Re: c.op = Op::Re; break;
        case Tok::NotRe: c.op = Op::NotRe; break;
        default:
            fail(opTok.column,
                "expected a comparison operator (=, !=, <, <=, >, >=, =~, !~) after '" + c.fieldText + "', got "
                    + describe(opTok));
            return -1;
        }
        take();

        const Token &valueTok = peek();
        if (!parseValue(valueTok, c))
            return -1;
        take();
        if (!check(opTok, valueTok, c))
            return -1;

        m_program.comparisons.push_back(std::move(c));
        CondNode node;
        node.type = CondNode::Cmp;
        node.comparison = uint32_t(m_program.comparisons.size() - 1);
        m_program.conds.push_back(std::move(node));
        return int32_t(m_program.conds.size() - 1);
    }

    static bool plainKey(std::string_view key)
    {
        return !key.empty() && std::all_of(key.begin(), key.end(), isWordChar);
    }

    static std::string keyText(std::string_view key) { return plainKey(key) ? std::string(key) : quoteString(key); }

    bool intrinsic(std::string_view word, Comparison &c)
    {
        if (word == "name")
            c.field = Field::Name;
        else if (word == "status")
            c.field = Field::Status;
        else if (word == "kind")
            c.field = Field::Kind;
        else if (word == "duration")
            c.field = Field::Duration;
        else
            return false;
        c.fieldText = std::string(word);
        return true;
    }

    bool parseField(const Token &t, Comparison &c)
    {
        const std::string &w = t.text;
        auto attribute = [&](Field field, std::string_view scope, std::string key) {
            if (key.empty())
                return fail(t.column, "expected an attribute name after '" + std::string(scope) + "'");
            if (field == Field::ResourceAttr && key == "service.name")
                field = Field::Service;  // read through service(), which every span carries
            c.field = field;
            c.fieldText = std::string(scope) + keyText(key);
            c.key = std::move(key);
            return true;
        };
        const size_t dot = w.find('.');
        const size_t colon = w.find(':');
        if (w[0] == '.')
            return attribute(Field::AnyAttr, ".", w.substr(1) + t.quotedKey);
        if (colon != std::string::npos && (dot == std::string::npos || colon < dot)) {
            // Tempo's newer spelling of intrinsics: span:name, span:status, ...
            const std::string scope = w.substr(0, colon);
            if (scope != "span")
                return fail(t.column, "unknown scope '" + scope + ":' in '" + w + "' (only span: intrinsics)");
            if (!intrinsic(std::string_view(w).substr(colon + 1), c))
                return fail(t.column, "unknown intrinsic '" + w + "' (intrinsics: name, status, kind, duration)");
            return true;
        }
        if (dot == std::string::npos) {
            if (!intrinsic(w, c))
                return fail(t.column,
                    "unknown intrinsic '" + w
                        + "' (intrinsics: name, status, kind, duration; attributes need a scope: "
                          "span.x, resource.x or .x)");
            return true;
        }
        const std::string scope = w.substr(0, dot + 1);
        std::string key = w.substr(dot + 1) + t.quotedKey;  // `span.http."a b"` is the key "http.a b"
        if (scope == "resource.")
            return attribute(Field::ResourceAttr, scope, std::move(key));
        if (scope == "span.")
            return attribute(Field::SpanAttr, scope, std::move(key));
        return fail(t.column,
            "unknown scope '" + scope + "' in '" + std::string(t.raw)
                + "' (scopes: span., resource., or . for either)");
    }

    bool parseValue(const Token &t, Comparison &c)
    {
        switch (t.kind) {
        case Tok::String:
            c.value = ValueKind::String;
            c.literal = t.text;
            c.literalIsNumber = parseNumber(c.literal, c.number);
            c.valueText = quoteString(c.literal);
            return true;
        case Tok::Number:
            c.valueText = std::string(t.raw);
            if (t.unit.empty()) {
                c.value = ValueKind::Number;
                c.literal = t.text;
                c.literalIsNumber = parseNumber(c.literal, c.number);
                return c.literalIsNumber || fail(t.column, "bad number " + describe(t));
            }
            c.value = ValueKind::Duration;
            {
                double amount = 0;
                if (!parseNumber(t.text, amount))
                    return fail(t.column, "bad duration " + describe(t));
                if (amount < 0)
                    return fail(t.column, "a duration cannot be negative: " + describe(t));
                const double ns = std::round(amount * durationUnitNs(t.unit));
                if (!(ns < 1.8e19))
                    return fail(t.column, "duration " + describe(t) + " is too large");
                c.ns = uint64_t(ns);
            }
            return true;
        case Tok::Word: {
            const std::string &w = t.text;
            c.valueText = w;
            if (w == "true" || w == "false") {
                c.value = ValueKind::Bool;
                c.boolean = w == "true";
                return true;
            }
            if (w == "nil") {
                c.value = ValueKind::Nil;
                return true;
            }
            static const std::pair<std::string_view, SpanStatus> statuses[]
                = {{"error", SpanStatus::Error}, {"ok", SpanStatus::Ok}, {"unset", SpanStatus::Unset}};
            for (const auto &[text, status] : statuses) {
                if (w == text) {
                    c.value = ValueKind::Status;
                    c.status = status;
                    return true;
                }
            }
            static const std::pair<std::string_view, SpanKind> kinds[] = {{"server", SpanKind::Server},
                {"client", SpanKind::Client}, {"producer", SpanKind::Producer}, {"consumer", SpanKind::Consumer},
                {"internal", SpanKind::Internal}, {"unspecified", SpanKind::Unspecified}};
            for (const auto &[text, kind] : kinds) {
                if (w == text) {
                    c.value = ValueKind::Kind;
                    c.kind = kind;
                    return true;
                }
            }
            break;
        }
        default: break;
        }
        return fail(t.column,
            std::string("expected a value after '") + opText(c.op)
                + "' (a quoted string, number, duration, true, false, nil, or a status or kind), got " + describe(t));
    }

    // Whether the field, operator and value make sense together; compiles a regex.
    bool check(const Token &opTok, const Token &valueTok, Comparison &c)
    {
        const bool eqOrNe = c.op == Op::Eq || c.op == Op::Ne;
        switch (c.field) {
        case Field::Name:
            if (c.value != ValueKind::String)
                return fail(valueTok.column, "name compares with a quoted string, got " + describe(valueTok));
            break;
        case Field::Status:
            if (c.value != ValueKind::Status)
                return fail(valueTok.column, "status takes error, ok or unset, got " + describe(valueTok));
            if (!eqOrNe)
                return fail(opTok.column, "status supports only = and !=");
            return true;
        case Field::Kind:
            if (c.value != ValueKind::Kind)
                return fail(valueTok.column,
                    "kind takes server, client, producer, consumer, internal or unspecified, got "
                        + describe(valueTok));
            if (!eqOrNe)
                return fail(opTok.column, "kind supports only = and !=");
            return true;
        case Field::Duration:
            if (isRegex(c.op))
                return fail(opTok.column, "duration supports =, !=, <, <=, >, >=");
            if (c.value != ValueKind::Duration)
                return fail(valueTok.column,
                    "duration compares with a duration such as 100ms or 1.5s, got " + describe(valueTok));
            return true;
        case Field::Service:
        case Field::SpanAttr:
        case Field::ResourceAttr:
        case Field::AnyAttr:
            switch (c.value) {
            case ValueKind::Nil:
                if (!eqOrNe)
                    return fail(opTok.column, "nil supports only = (missing) and != (present)");
                return true;
            case ValueKind::Bool:
                if (!eqOrNe)
                    return fail(opTok.column, "true and false support only = and !=");
                return true;
            case ValueKind::Duration:
                return fail(valueTok.column,
                    "a duration compares with the duration intrinsic only; quote " + describe(valueTok)
                        + " to compare text");
            case ValueKind::Status:
            case ValueKind::Kind:
                return fail(valueTok.column,
                    describe(valueTok) + " is a " + (c.value == ValueKind::Status ? "status" : "kind")
                        + " value; quote it to compare an attribute's text");
            case ValueKind::String:
            case ValueKind::Number: break;
            }
            break;
        }
        if (isRegex(c.op)) {
            if (c.value != ValueKind::String)
                return fail(
                    valueTok.column, std::string(opText(c.op)) + " needs a quoted regex, got " + describe(valueTok));
            re2::RE2::Options options;
            options.set_log_errors(false);
            auto regex = std::make_shared<const re2::RE2>(c.literal, options);
            if (!regex->ok())
                return fail(valueTok.column, "bad regex " + quoteString(c.literal) + ": " + regex->error());
            c.regex = std::move(regex);
        }
        return true;
    }

    const std::vector<Token> &m_tokens;
    TraceQlQuery::Program &m_program;
    std::string &m_error;
    size_t m_pos = 0;
    int m_depth = 0;
};

// ---------------------------------------------------------------------------------------
// Normal text and index hints, computed once after parsing

std::string condText(const TraceQlQuery::Program &p, uint32_t index)
{
    const CondNode &node = p.conds[index];
    switch (node.type) {
    case CondNode::Cmp: {
        const Comparison &c = p.comparisons[node.comparison];
        return c.fieldText + " " + opText(c.op) + " " + c.valueText;
    }
    case CondNode::Not: return "!(" + condText(p, node.children.front()) + ")";
    case CondNode::And:
    case CondNode::Or: {
        std::string out;
        for (uint32_t child : node.children) {
            if (!out.empty())
                out += node.type == CondNode::And ? " && " : " || ";
            // Or is the only looser operator; flattening leaves no Or directly under Or.
            const bool paren = node.type == CondNode::And && p.conds[child].type == CondNode::Or;
            out += paren ? "(" + condText(p, child) + ")" : condText(p, child);
        }
        return out;
    }
    }
    return {};
}

// Values every span satisfying a condition carries (sorted, unique).
struct Required {
    std::vector<std::string> services;
    std::vector<std::string> names;
};

std::vector<std::string> unite(const std::vector<std::string> &a, const std::vector<std::string> &b)
{
    std::vector<std::string> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::vector<std::string> intersect(const std::vector<std::string> &a, const std::vector<std::string> &b)
{
    std::vector<std::string> out;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

Required condRequired(const TraceQlQuery::Program &p, uint32_t index)
{
    const CondNode &node = p.conds[index];
    Required r;
    switch (node.type) {
    case CondNode::Cmp: {
        const Comparison &c = p.comparisons[node.comparison];
        if (c.op == Op::Eq && c.value == ValueKind::String) {
            if (c.field == Field::Service)
                r.services.push_back(c.literal);
            else if (c.field == Field::Name)
                r.names.push_back(c.literal);
        }
        break;
    }
    case CondNode::Not: break;  // a negation requires nothing to be present
    case CondNode::And:
    case CondNode::Or:
        for (size_t k = 0; k < node.children.size(); ++k) {
            Required child = condRequired(p, node.children[k]);
            if (k == 0) {
                r = std::move(child);
            } else if (node.type == CondNode::And) {
                r.services = unite(r.services, child.services);
                r.names = unite(r.names, child.names);
            } else {
                r.services = intersect(r.services, child.services);
                r.names = intersect(r.names, child.names);
            }
        }
        break;
    }
    return r;
}

void finish(TraceQlQuery::Program &p)
{
    // Precedence of each span-set operator for printing; leaves bind tightest.
    auto precedence = [](SetNode::Type t) {
        switch (t) {
        case SetNode::Leaf: return 4;
        case SetNode::Descendant:
        case SetNode::Child: return 3;
        case SetNode::And: return 2;
        case SetNode::Or: return 1;
        }
        return 0;
    };
    struct Piece {
        std::string text;
        int precedence;
        Required required;
    };
    std::vector<Piece> stack;
    for (const SetNode &node : p.sets) {
        if (node.type == SetNode::Leaf) {
            Piece piece;
            piece.precedence = 4;
            if (node.cond < 0) {
                piece.text = "{}";
            } else {
                piece.text = "{ " + condText(p, uint32_t(node.cond)) + " }";
                piece.required = condRequired(p, uint32_t(node.cond));
            }
            stack.push_back(std::move(piece));
            continue;
        }
        Piece right = std::move(stack.back());
        stack.pop_back();
        Piece left = std::move(stack.back());
        stack.pop_back();
        const int prec = precedence(node.type);
        const char *op = node.type == SetNode::Descendant ? " >> "
            : node.type == SetNode::Child                 ? " > "
            : node.type == SetNode::And                   ? " && "
                                                          : " || ";
        Piece out;
        out.precedence = prec;
        // Left-associative: a right operand at the same level keeps its parentheses.
        out.text = left.precedence < prec ? "(" + left.text + ")" : std::move(left.text);
        out.text += op;
        out.text += right.precedence <= prec ? "(" + right.text + ")" : right.text;
        if (node.type == SetNode::Or) {
            // Either side may match alone: only what both require is required.
            out.required.services = intersect(left.required.services, right.required.services);
            out.required.names = intersect(left.required.names, right.required.names);
        } else {
            // >>, > and && match only when both sides are non-empty.
            out.required.services = unite(left.required.services, right.required.services);
            out.required.names = unite(left.required.names, right.required.names);
        }
        stack.push_back(std::move(out));
    }
    p.text = std::move(stack.back().text);
    p.services = std::move(stack.back().required.services);
    p.names = std::move(stack.back().required.names);
}

// ---------------------------------------------------------------------------------------
// Evaluation

bool compareOrdered(double a, double b, Op op)
{
    switch (op) {
    case Op::Eq: return a == b;
    case Op::Ne: return a != b;
    case Op::Lt: return a < b;
    case Op::Le: return a <= b;
    case Op::Gt: return a > b;
    case Op::Ge: return a >= b;
    default: return false;
    }
}

bool compareDuration(uint64_t a, uint64_t b, Op op)
{
    switch (op) {
    case Op::Eq: return a == b;
    case Op::Ne: return a != b;
    case Op::Lt: return a < b;
    case Op::Le: return a <= b;
    case Op::Gt: return a > b;
    case Op::Ge: return a >= b;
    default: return false;
    }
}

bool compareText(const Comparison &c, std::string_view text)
{
    if (c.regex) {
        const bool m = re2::RE2::FullMatch(text, *c.regex);
        return c.op == Op::Re ? m : !m;
    }
    if (c.value == ValueKind::Bool) {
        const bool eq = text == (c.boolean ? std::string_view("true") : std::string_view("false"));
        return c.op == Op::Eq ? eq : !eq;
    }
    // A number literal compares numerically with numeric text; a string literal only
    // for <, <=, >, >= (for = and != it means the exact text).
    if (c.literalIsNumber && (c.value == ValueKind::Number || isOrdering(c.op))) {
        double v = 0;
        if (parseNumber(text, v))
            return compareOrdered(v, c.number, c.op);
    }
    if (c.op == Op::Eq)
        return text == c.literal;
    if (c.op == Op::Ne)
        return text != c.literal;
    return false;
}

bool evalComparison(const Comparison &c, const TraceQlSpans &t, size_t i)
{
    std::optional<std::string_view> value;
    switch (c.field) {
    case Field::Name: return compareText(c, t.name(i));
    case Field::Status: return (t.status(i) == c.status) == (c.op == Op::Eq);
    case Field::Kind: return (t.kind(i) == c.kind) == (c.op == Op::Eq);
    case Field::Duration: return compareDuration(t.durationNs(i), c.ns, c.op);
    case Field::Service: {
        const std::string_view service = t.service(i);
        if (!service.empty())
            value = service;
        break;
    }
    case Field::SpanAttr: value = t.attribute(i, c.key, false); break;
    case Field::ResourceAttr: value = t.attribute(i, c.key, true); break;
    case Field::AnyAttr:
        value = t.attribute(i, c.key, false);
        if (!value)
            value = t.attribute(i, c.key, true);
        break;
    }
    if (c.value == ValueKind::Nil)
        return value.has_value() == (c.op == Op::Ne);
    return value && compareText(c, *value);
}

// Recursion follows the condition tree, whose depth the nesting limit bounds.
bool evalCond(const TraceQlQuery::Program &p, uint32_t index, const TraceQlSpans &t, size_t i)
{
    const CondNode &node = p.conds[index];
    switch (node.type) {
    case CondNode::Cmp: return evalComparison(p.comparisons[node.comparison], t, i);
    case CondNode::Not: return !evalCond(p, node.children.front(), t, i);
    case CondNode::And:
        for (uint32_t child : node.children)
            if (!evalCond(p, child, t, i))
                return false;
        return true;
    case CondNode::Or:
        for (uint32_t child : node.children)
            if (evalCond(p, child, t, i))
                return true;
        return false;
    }
    return false;
}

// One bit per span.
class Bits {
public:
    explicit Bits(size_t n)
        : m_words((n + 63) / 64, 0)
    {
    }
    void set(size_t i) { m_words[i >> 6] |= uint64_t(1) << (i & 63); }
    bool test(size_t i) const { return (m_words[i >> 6] >> (i & 63)) & 1; }
    bool any() const
    {
        return std::any_of(m_words.begin(), m_words.end(), [](uint64_t w) { return w != 0; });
    }
    void clear() { std::fill(m_words.begin(), m_words.end(), 0); }
    void fill(size_t n)
    {
        std::fill(m_words.begin(), m_words.end(), ~uint64_t(0));
        if (n % 64)
            m_words.back() = (uint64_t(1) << (n % 64)) - 1;
    }
    void unite(const Bits &o)
    {
        for (size_t k = 0; k < m_words.size(); ++k)
            m_words[k] |= o.m_words[k];
    }
    void intersect(const Bits &o)
    {
        for (size_t k = 0; k < m_words.size(); ++k)
            m_words[k] &= o.m_words[k];
    }
    template <typename F>
    void forEach(F f) const
    {
        for (size_t k = 0; k < m_words.size(); ++k) {
            for (uint64_t w = m_words[k]; w; w &= w - 1)
                f(k * 64 + size_t(__builtin_ctzll(w)));
        }
    }

private:
    std::vector<uint64_t> m_words;
};

// The trace's parent links, cleaned: out-of-range parents and spans on a parent cycle
// become roots; and an order in which every parent comes before its children. Built
// iteratively so a 100,000-span chain cannot overflow the stack.
struct Tree {
    std::vector<int32_t> parent;
    std::vector<uint32_t> order;

    void build(const TraceQlSpans &t, size_t n)
    {
        parent.resize(n);
        for (size_t i = 0; i < n; ++i) {
            const int32_t p = t.parentOf(i);
            parent[i] = p >= 0 && size_t(p) < n ? p : -1;
        }
        enum : uint8_t { Unseen, OnPath, Placed };
        std::vector<uint8_t> state(n, Unseen);
        std::vector<uint32_t> path;
        order.clear();
        order.reserve(n);
        for (size_t s = 0; s < n; ++s) {
            if (state[s] != Unseen)
                continue;
            // Walk up to a root or a placed span, then place the path top-down.
            path.clear();
            size_t cycleFrom = SIZE_MAX;
            for (uint32_t cur = uint32_t(s);;) {
                state[cur] = OnPath;
                path.push_back(cur);
                const int32_t p = parent[cur];
                if (p < 0 || state[size_t(p)] == Placed)
                    break;
                if (state[size_t(p)] == OnPath) {
                    cycleFrom = size_t(std::find(path.begin(), path.end(), uint32_t(p)) - path.begin());
                    break;
                }
                cur = uint32_t(p);
            }
            for (size_t k = path.size(); k-- > 0;) {
                const uint32_t v = path[k];
                if (k >= cycleFrom)
                    parent[v] = -1;
                state[v] = Placed;
                order.push_back(v);
            }
        }
    }
};

Bits evaluate(const TraceQlQuery::Program &p, const TraceQlSpans &t)
{
    const size_t n = t.spanCount();
    std::vector<Bits> stack;
    stack.reserve(p.sets.size());
    std::optional<Tree> tree;  // built on the first >> or >, shared by the rest
    for (const SetNode &node : p.sets) {
        if (node.type == SetNode::Leaf) {
            Bits bits(n);
            if (node.cond < 0) {
                bits.fill(n);
            } else {
                for (size_t i = 0; i < n; ++i)
                    if (evalCond(p, uint32_t(node.cond), t, i))
                        bits.set(i);
            }
            stack.push_back(std::move(bits));
            continue;
        }
        Bits right = std::move(stack.back());
        stack.pop_back();
        Bits &left = stack.back();  // becomes the result
        switch (node.type) {
        case SetNode::Or: left.unite(right); break;
        case SetNode::And:
            if (left.any() && right.any())
                left.unite(right);
            else
                left.clear();
            break;
        case SetNode::Descendant:
        case SetNode::Child: {
            if (!left.any() || !right.any()) {
                left.clear();
                break;
            }
            if (!tree) {
                tree.emplace();
                tree->build(t, n);
            }
            Bits found(n);
            if (node.type == SetNode::Child) {
                right.forEach([&](size_t i) {
                    const int32_t parent = tree->parent[i];
                    if (parent >= 0 && left.test(size_t(parent)))
                        found.set(i);
                });
            } else {
                // below: spans with an ancestor in the left set, filled parents first.
                Bits below(n);
                for (uint32_t v : tree->order) {
                    const int32_t parent = tree->parent[v];
                    if (parent >= 0 && (left.test(size_t(parent)) || below.test(size_t(parent))))
                        below.set(v);
                }
                found = std::move(right);
                found.intersect(below);
            }
            left = std::move(found);
            break;
        }
        case SetNode::Leaf: break;
        }
    }
    return std::move(stack.back());
}

}  // namespace

TraceQlQuery::TraceQlQuery(std::shared_ptr<const Program> program)
    : m_program(std::move(program))
{
}

std::optional<TraceQlQuery> TraceQlQuery::parse(std::string_view text, std::string &error)
{
    error.clear();
    if (text.size() > kMaxQueryBytes) {
        error = "query is " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(kMaxQueryBytes);
        return std::nullopt;
    }
    std::vector<Token> tokens;
    if (!lex(text, tokens, error))
        return std::nullopt;
    auto program = std::make_shared<Program>();
    Parser parser(tokens, *program, error);
    if (!parser.parseQuery())
        return std::nullopt;
    finish(*program);
    return TraceQlQuery(std::move(program));
}

bool TraceQlQuery::matches(const TraceQlSpans &trace) const
{
    const Program &p = *m_program;
    if (p.sets.size() == 1) {
        // One span set: the first matching span decides, no bitset needed.
        const size_t n = trace.spanCount();
        if (p.sets.front().cond < 0)
            return n > 0;
        for (size_t i = 0; i < n; ++i)
            if (evalCond(p, uint32_t(p.sets.front().cond), trace, i))
                return true;
        return false;
    }
    return evaluate(p, trace).any();
}

std::vector<uint32_t> TraceQlQuery::matchedSpans(const TraceQlSpans &trace) const
{
    std::vector<uint32_t> out;
    evaluate(*m_program, trace).forEach([&](size_t i) { out.push_back(uint32_t(i)); });
    return out;
}

std::vector<std::string> TraceQlQuery::requiredServices() const { return m_program->services; }

std::vector<std::string> TraceQlQuery::requiredNames() const { return m_program->names; }

std::string TraceQlQuery::text() const { return m_program->text; }

}  // namespace meshscope

#pragma once
// A subset of Tempo's TraceQL: span sets in braces with conditions on intrinsics
// (name, status, kind, duration) and scoped attributes (resource.x, span.x), joined
// across spans of one trace by && (both sets present), >> (descendant) and > (child).

#include "model/span.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshscope {

// What a TraceQL query reads of one trace: its spans by index and their parents by
// index. The trace store answers it over its compact storage without copying spans.
class TraceQlSpans {
public:
    virtual ~TraceQlSpans() = default;
    virtual size_t spanCount() const = 0;
    virtual int32_t parentOf(size_t i) const = 0;  // -1: a root, or a parent not in the trace
    virtual std::string_view name(size_t i) const = 0;
    virtual std::string_view service(size_t i) const = 0;
    virtual SpanKind kind(size_t i) const = 0;
    // Effective status: Error for status ERROR and for an HTTP server span with a 5xx.
    virtual SpanStatus status(size_t i) const = 0;
    virtual uint64_t durationNs(size_t i) const = 0;
    // The attribute's value as text, or nullopt when the span (resource = false) or its
    // resource (resource = true) lacks it. resource.service.name answers the service.
    virtual std::optional<std::string_view> attribute(size_t i, std::string_view key, bool resource) const = 0;
};

// A parsed TraceQL query (the subset in the file comment), compiled once and evaluated
// against many traces. Immutable after parse: copies share the compiled program, and
// one query may be evaluated from several threads at once.
//
// Semantics where Tempo leaves room or this subset differs:
// - Precedence, tightest first: `>>` and `>`, then `&&`, then `||`; all left-associative.
// - A comparison on a missing attribute is false, `!=` and `!~` included; only
//   `FIELD = nil` (missing) and `FIELD != nil` (present) ask about presence.
// - A number literal compares numerically when the attribute's text is a number, else as
//   text for `=` and `!=`; `<`, `<=`, `>`, `>=` are false on non-numeric text. A string
//   literal is exact text for `=` and `!=`, and numeric for `<`... when both sides are numbers.
// - `resource.service.name` reads TraceQlSpans::service(); an empty service is missing.
// - `.key` reads the span attribute, falling back to the resource attribute.
// - A span whose parent chain loops is treated as a root for `>>` and `>`.
class TraceQlQuery {
public:
    static constexpr size_t kMaxQueryBytes = 4096;
    static constexpr int kMaxNesting = 64;

    // nullopt with a one-line error naming the column (e.g. "column 14: expected '}' after
    // condition") on bad input.
    static std::optional<TraceQlQuery> parse(std::string_view text, std::string &error);

    // The trace satisfies the whole query: the final span set is not empty.
    bool matches(const TraceQlSpans &trace) const;
    // Indexes of the spans in the final span set, ascending; empty if the trace does not match.
    std::vector<uint32_t> matchedSpans(const TraceQlSpans &trace) const;

    // Hints for an index: every value listed is carried by at least one span of every
    // matching trace (from `resource.service.name = "..."` and `name = "..."` conditions
    // that every match requires). So an index may intersect their postings. Empty = no hint.
    std::vector<std::string> requiredServices() const;
    std::vector<std::string> requiredNames() const;

    // The query in a normal form (single spaces, minimal parentheses); parsing it again
    // gives the same query and the same text.
    std::string text() const;

    struct Program;  // the compiled query, defined in traceql.cpp

private:
    explicit TraceQlQuery(std::shared_ptr<const Program> program);
    std::shared_ptr<const Program> m_program;
};

}  // namespace meshscope

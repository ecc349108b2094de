// The TraceQL subset: every field and operator on one span, span-set operators across
// the spans of a trace (descendant, child, both present, either), parse errors and their
// messages, input limits, index hints, and evaluation on 100,000-span traces (a chain
// and a wide tree) and on broken parent links (cycles) without recursion or hangs.

#include "traces/traceql.h"

#include <QElapsedTimer>
#include <QtTest>

#include <unordered_map>

using namespace meshscope;

namespace {

// A trace for TraceQL over plain spans: parents resolved from parentSpanId, a parent
// missing from the trace makes a root. Effective status as the store computes it.
class VectorTrace : public TraceQlSpans {
public:
    explicit VectorTrace(std::vector<Span> spans)
        : m_spans(std::move(spans))
        , m_parents(m_spans.size(), -1)
    {
        std::unordered_map<uint64_t, int32_t> byId;
        byId.reserve(m_spans.size());
        for (size_t i = 0; i < m_spans.size(); ++i)
            byId.emplace(m_spans[i].spanId, int32_t(i));
        for (size_t i = 0; i < m_spans.size(); ++i) {
            auto it = byId.find(m_spans[i].parentSpanId);
            if (m_spans[i].parentSpanId != 0 && it != byId.end())
                m_parents[i] = it->second;
        }
    }

    // For links the span ids cannot express: out-of-range parents.
    void setParent(size_t i, int32_t parent) { m_parents[i] = parent; }

    size_t spanCount() const override { return m_spans.size(); }
    int32_t parentOf(size_t i) const override { return m_parents[i]; }
    std::string_view name(size_t i) const override { return m_spans[i].name; }
    std::string_view service(size_t i) const override { return m_spans[i].service; }
    SpanKind kind(size_t i) const override { return m_spans[i].kind; }
    SpanStatus status(size_t i) const override
    {
        const Span &s = m_spans[i];
        if (s.status == SpanStatus::Error || (s.kind == SpanKind::Server && s.httpStatus >= 500))
            return SpanStatus::Error;
        return s.status;
    }
    uint64_t durationNs(size_t i) const override { return m_spans[i].endNs - m_spans[i].startNs; }
    std::optional<std::string_view> attribute(size_t i, std::string_view key, bool resource) const override
    {
        const Span &s = m_spans[i];
        if (resource && key == "service.name")
            return s.service.empty() ? std::nullopt : std::optional<std::string_view>(s.service);
        for (const SpanAttribute &a : s.attributes)
            if (a.resource == resource && a.key == key)
                return a.value;
        return std::nullopt;
    }

private:
    std::vector<Span> m_spans;
    std::vector<int32_t> m_parents;
};

Span makeSpan(
    uint64_t id, uint64_t parent, std::string service, std::string name = "op", SpanStatus status = SpanStatus::Unset)
{
    Span s;
    s.spanId = id;
    s.parentSpanId = parent;
    s.service = std::move(service);
    s.name = std::move(name);
    s.status = status;
    s.kind = SpanKind::Internal;
    s.startNs = 1'000'000;
    s.endNs = 2'000'000;
    return s;
}

// 1 = match, 0 = no match, -1 = parse error (logged).
int match(std::string_view query, const TraceQlSpans &trace)
{
    std::string error;
    const auto q = TraceQlQuery::parse(query, error);
    if (!q) {
        qWarning("parse error in %s: %s", std::string(query).c_str(), error.c_str());
        return -1;
    }
    return q->matches(trace) ? 1 : 0;
}

std::vector<uint32_t> matched(std::string_view query, const TraceQlSpans &trace)
{
    std::string error;
    const auto q = TraceQlQuery::parse(query, error);
    if (!q) {
        qWarning("parse error in %s: %s", std::string(query).c_str(), error.c_str());
        return {99999999};
    }
    const auto spans = q->matchedSpans(trace);
    // matches() is the cheap path for one span set; it must agree with matchedSpans().
    if (q->matches(trace) == spans.empty())
        return {88888888};
    return spans;
}

using Indexes = std::vector<uint32_t>;

// A server span with everything the field tests read.
VectorTrace richSpan()
{
    Span s = makeSpan(1, 0, "checkout", "GET /cart");
    s.kind = SpanKind::Server;
    s.httpStatus = 503;  // effective status ERROR although the span's own status is unset
    s.startNs = 10'000'000;
    s.endNs = 160'000'000;  // 150 ms
    s.attributes = {
        {"http.status_code", "503", false},
        {"http.method", "GET", false},
        {"retry", "true", false},
        {"ratio", "0.25", false},
        {"label", "abc", false},
        {"shared", "span-value", false},
        {"quote", "say \"hi\" \\o/", false},
        {"with space", "yes", false},
        {"k8s.namespace", "shop", true},
        {"shared", "res-value", true},
        {"only.res", "r", true},
    };
    return VectorTrace({s});
}

}  // namespace

class TestTraceQl : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void fieldsAndOperators_data();
    void fieldsAndOperators();
    void descendantOfService();
    void childVersusGrandchild();
    void andAcrossSpansVersusWithinOneSpan();
    void orIsUnion();
    void spansetPrecedence();
    void normalizedText_data();
    void normalizedText();
    void parseErrors_data();
    void parseErrors();
    void nestingAndLengthLimits();
    void longOperatorChainIsNotRecursive();
    void chainOf100kSpans();
    void wideTraceOf100kSpans();
    void parentCyclesTerminate();
    void requiredHints_data();
    void requiredHints();
    void parseOnceEvaluateMany();
    void emptyTrace();
};

void TestTraceQl::fieldsAndOperators_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("expected");
    auto row = [](const char *q, bool m) { QTest::newRow(q) << QString::fromUtf8(q) << (m ? 1 : 0); };

    row(R"({ name = "GET /cart" })", true);
    row(R"({ name = "GET" })", false);
    row(R"({ name != "GET" })", true);
    row(R"({ name != "GET /cart" })", false);
    row(R"({ name =~ "GET.*" })", true);
    row(R"({ name =~ "GET" })", false);  // full match, like Tempo
    row(R"({ name =~ "cart" })", false);
    row(R"({ name !~ "POST.*" })", true);
    row(R"({ name !~ "GET.*" })", false);
    row(R"({ span:name = "GET /cart" })", true);

    row("{ status = error }", true);  // effective: server span with 503
    row("{ status != error }", false);
    row("{ status = ok }", false);
    row("{ status = unset }", false);
    row("{ span:status = error }", true);

    row("{ kind = server }", true);
    row("{ kind = client }", false);
    row("{ kind != client }", true);
    row("{ kind = internal }", false);

    row("{ duration > 100ms }", true);
    row("{ duration >= 150ms }", true);
    row("{ duration = 150ms }", true);
    row("{ duration = 150000000ns }", true);
    row("{ duration = 150000us }", true);
    row("{ duration != 150ms }", false);
    row("{ duration < 150ms }", false);
    row("{ duration <= 0.15s }", true);
    row("{ duration > 1.5s }", false);
    row("{ duration > 250us }", true);
    row("{ duration > 20ns }", true);
    row("{ duration < 2m }", true);
    row("{ duration < 1h }", true);
    row("{ duration > 1h }", false);

    row("{ span.http.status_code = 503 }", true);
    row("{ span.http.status_code = 503.0 }", true);  // numeric, not textual
    row(R"({ span.http.status_code = "503" })", true);
    row(R"({ span.http.status_code = "503.0" })", false);  // a string literal is text for =
    row("{ span.http.status_code != 503 }", false);
    row("{ span.http.status_code >= 500 }", true);
    row("{ span.http.status_code < 500 }", false);
    row("{ span.http.status_code <= 503 }", true);
    row(R"({ span.http.status_code > "400" })", true);  // both sides numeric: compares numbers
    row("{ span.http.status_code > 5e2 }", true);
    row("{ span.ratio < 0.5 }", true);
    row("{ span.ratio > -1 }", true);
    row("{ span.ratio > 0.3 }", false);

    row("{ span.label > 5 }", false);  // ordering on non-numeric text is false
    row("{ span.label < 5 }", false);
    row("{ span.label = 5 }", false);
    row("{ span.label != 5 }", true);  // compared as text
    row(R"({ span.label = "abc" })", true);
    row(R"({ span.label != "abc" })", false);
    row(R"({ span.label > "abb" })", false);

    row("{ span.retry = true }", true);
    row("{ span.retry = false }", false);
    row("{ span.retry != false }", true);
    row("{ span.label = true }", false);

    row(R"({ resource.k8s.namespace = "shop" })", true);
    row(R"({ span.k8s.namespace = "shop" })", false);  // scope matters
    row(R"({ .k8s.namespace = "shop" })", true);  // unscoped falls back to the resource
    row(R"({ .shared = "span-value" })", true);  // the span attribute comes first
    row(R"({ .shared = "res-value" })", false);
    row(R"({ resource.shared = "res-value" })", true);
    row(R"({ resource.service.name = "checkout" })", true);
    row(R"({ resource.service.name = "cart" })", false);
    row(R"({ resource.service.name =~ "check.*" })", true);
    row(R"({ span.service.name = "checkout" })", false);
    row(R"({ span."http.method" = "GET" })", true);
    row(R"({ span."with space" = "yes" })", true);
    row(R"({ span.quote = "say \"hi\" \\o/" })", true);
    row(R"({ span.quote =~ "say .hi. \\\\o/" })", true);

    row("{ span.http.method != nil }", true);
    row("{ span.http.method = nil }", false);
    row("{ span.missing != nil }", false);
    row("{ span.missing = nil }", true);
    row("{ resource.only.res != nil }", true);
    row("{ span.only.res = nil }", true);
    row("{ .only.res != nil }", true);
    row("{ resource.service.name != nil }", true);
    // A comparison on a missing attribute is false, negated operators included.
    row(R"({ span.missing != "x" })", false);
    row(R"({ span.missing !~ "x" })", false);
    row("{ span.missing < 5 }", false);

    row("{ status = error && kind = server }", true);
    row("{ status = ok && kind = server }", false);
    row("{ status = ok || kind = server }", true);
    row("{ status = ok || kind = client }", false);
    row("{ !(status = ok) }", true);
    row("{ !status = error }", false);
    row("{ !!(status = error) }", true);
    row(R"({ (status = ok || name = "GET /cart") && kind = server })", true);
    // && binds tighter than ||: error || (x && client) holds, (error || x) && client does not.
    row(R"({ status = error || name = "x" && kind = client })", true);
    row(R"({ (status = error || name = "x") && kind = client })", false);
    row("{}", true);
    row("{ }", true);
}

void TestTraceQl::fieldsAndOperators()
{
    QFETCH(QString, query);
    QFETCH(int, expected);
    const VectorTrace trace = richSpan();
    QCOMPARE(match(query.toStdString(), trace), expected);
}

void TestTraceQl::descendantOfService()
{
    const char *query = R"({ resource.service.name = "checkout" } >> { status = error })";

    // frontend -> checkout -> payment(error): a descendant.
    const VectorTrace below({makeSpan(1, 0, "frontend"), makeSpan(2, 1, "checkout"),
        makeSpan(3, 2, "payment", "charge", SpanStatus::Error)});
    QCOMPARE(match(query, below), 1);
    QCOMPARE(matched(query, below), Indexes {2});

    // frontend -> {checkout, payment(error)}: a sibling, not a descendant.
    const VectorTrace sibling({makeSpan(1, 0, "frontend"), makeSpan(2, 1, "checkout"),
        makeSpan(3, 1, "payment", "charge", SpanStatus::Error)});
    QCOMPARE(match(query, sibling), 0);
    QVERIFY(matched(query, sibling).empty());

    // The failing span is checkout itself: a span is not its own ancestor.
    const VectorTrace self({makeSpan(1, 0, "frontend"), makeSpan(2, 1, "checkout", "op", SpanStatus::Error)});
    QCOMPARE(match(query, self), 0);

    // Deep below, listed children first so index order is not tree order.
    const VectorTrace deep({makeSpan(5, 4, "db", "q", SpanStatus::Error), makeSpan(4, 3, "cache"),
        makeSpan(3, 2, "payment"), makeSpan(2, 0, "checkout"), makeSpan(6, 0, "other", "x", SpanStatus::Error)});
    QCOMPARE(matched(query, deep), Indexes {0});
}

void TestTraceQl::childVersusGrandchild()
{
    const VectorTrace child({makeSpan(1, 0, "checkout"), makeSpan(2, 1, "payment", "charge", SpanStatus::Error)});
    const VectorTrace grandchild(
        {makeSpan(1, 0, "checkout"), makeSpan(2, 1, "payment"), makeSpan(3, 2, "bank", "debit", SpanStatus::Error)});
    const char *childQuery = R"({ resource.service.name = "checkout" } > { status = error })";
    const char *descQuery = R"({ resource.service.name = "checkout" } >> { status = error })";
    QCOMPARE(match(childQuery, child), 1);
    QCOMPARE(matched(childQuery, child), Indexes {1});
    QCOMPARE(match(childQuery, grandchild), 0);
    QCOMPARE(match(descQuery, grandchild), 1);
    QCOMPARE(matched(descQuery, grandchild), Indexes {2});
    // Chained: checkout > payment > bank.
    QCOMPARE(
        matched(R"({ resource.service.name = "checkout" } > { resource.service.name = "payment" } > {})", grandchild),
        Indexes {2});
    QCOMPARE(match(R"({ resource.service.name = "payment" } > { resource.service.name = "checkout" })", grandchild), 0);
}

void TestTraceQl::andAcrossSpansVersusWithinOneSpan()
{
    const VectorTrace trace(
        {makeSpan(1, 0, "a", "root", SpanStatus::Ok), makeSpan(2, 1, "b", "call", SpanStatus::Error)});
    // Two span sets: each condition met by a different span.
    QCOMPARE(matched(R"({ resource.service.name = "a" } && { status = error })", trace), (Indexes {0, 1}));
    // One span set: one span must meet both.
    QCOMPARE(match(R"({ resource.service.name = "a" && status = error })", trace), 0);
    QCOMPARE(match(R"({ resource.service.name = "b" && status = error })", trace), 1);
    // Both sides must be non-empty.
    QCOMPARE(match(R"({ resource.service.name = "a" } && { name = "nope" })", trace), 0);
    QVERIFY(matched(R"({ resource.service.name = "a" } && { name = "nope" })", trace).empty());
}

void TestTraceQl::orIsUnion()
{
    const VectorTrace trace({makeSpan(1, 0, "a"), makeSpan(2, 1, "b"), makeSpan(3, 1, "c")});
    QCOMPARE(matched(R"({ resource.service.name = "a" } || { name = "nope" })", trace), Indexes {0});
    QCOMPARE(matched(R"({ resource.service.name = "a" } || { resource.service.name = "c" })", trace), (Indexes {0, 2}));
    QCOMPARE(match(R"({ name = "x" } || { name = "y" })", trace), 0);
}

void TestTraceQl::spansetPrecedence()
{
    // a is c's parent; b is unrelated.
    const VectorTrace trace({makeSpan(1, 0, "a"), makeSpan(2, 0, "b"), makeSpan(3, 1, "c")});
    const char *a = R"({ resource.service.name = "a" })";
    const char *b = R"({ resource.service.name = "b" })";
    const char *c = R"({ resource.service.name = "c" })";
    // >> binds tighter than &&: a && (b >> c), and b is not above c.
    QCOMPARE(match(std::string(a) + " && " + b + " >> " + c, trace), 0);
    QCOMPARE(matched("(" + std::string(a) + " && " + b + ") >> " + c, trace), Indexes {2});
    // && binds tighter than ||.
    QCOMPARE(matched(std::string(a) + R"( || { name = "none" } && )" + b, trace), Indexes {0});
    QCOMPARE(match("(" + std::string(a) + R"( || { name = "none" }) && { name = "none" })", trace), 0);
    // >> is left-associative: (a >> c) >> {} is empty (c has no children) ...
    QCOMPARE(match(std::string(a) + " >> " + c + " >> {}", trace), 0);
    // ... while a >> ({} >> c), grouped the other way, is c.
    QCOMPARE(matched(std::string(a) + " >> ({} >> " + c + ")", trace), Indexes {2});
}

void TestTraceQl::normalizedText_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("normal");
    auto row = [](const char *q, const char *n) { QTest::newRow(q) << QString::fromUtf8(q) << QString::fromUtf8(n); };
    row(R"({resource.service.name="checkout"}>>{status=error})",
        R"({ resource.service.name = "checkout" } >> { status = error })");
    row("{   }", "{}");
    row("{ !status = error }", "{ !(status = error) }");
    row(R"({ ((name = "x")) })", R"({ name = "x" })");
    row(R"({ (name = "x" || name = "y") && kind = server })", R"({ (name = "x" || name = "y") && kind = server })");
    row(R"({ name = "x" || (name = "y" && kind = server) })", R"({ name = "x" || name = "y" && kind = server })");
    row(R"({ (name = "x" || name = "y") || name = "z" })", R"({ name = "x" || name = "y" || name = "z" })");
    row(R"({ span:name = "x" && span:duration > 1.5s })", R"({ name = "x" && duration > 1.5s })");
    row(R"({ span."a b" = 1 && .c != nil })", R"({ span."a b" = 1 && .c != nil })");
    row(R"({ span.q = "a\"b\\c" })", R"({ span.q = "a\"b\\c" })");
    row("({} >> {}) >> {}", "{} >> {} >> {}");
    row("{} >> ({} >> {})", "{} >> ({} >> {})");
    row("({} && {}) >> {}", "({} && {}) >> {}");
    row("{} && ({} >> {})", "{} && {} >> {}");
    row("({} || {}) && {}", "({} || {}) && {}");
    row("{} || {} && {}", "{} || {} && {}");
    row("{}>{}", "{} > {}");
}

void TestTraceQl::normalizedText()
{
    QFETCH(QString, query);
    QFETCH(QString, normal);
    std::string error;
    const auto q = TraceQlQuery::parse(query.toStdString(), error);
    QVERIFY2(q, error.c_str());
    QCOMPARE(QString::fromStdString(q->text()), normal);
    // The normal form parses to itself.
    const auto again = TraceQlQuery::parse(q->text(), error);
    QVERIFY2(again, error.c_str());
    QCOMPARE(again->text(), q->text());
}

void TestTraceQl::parseErrors_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("message");
    auto row = [](const char *tag, const char *q, const char *m) {
        QTest::newRow(tag) << QString::fromUtf8(q) << QString::fromUtf8(m);
    };
    row("empty", "", "column 1: empty query");
    row("blank", "   ", "empty query");
    row("missing close brace", R"({ name = "x")", "column 13: expected '}' after condition, got end of query");
    row("missing close brace mid", R"({ name = "x" { })", "column 14: expected '}' after condition, got '{'");
    row("missing open brace", R"(name = "x")", "column 1: expected '{' to start a span set, got 'name'");
    row("trailing input", R"({ name = "x" } })", "column 16: unexpected '}' after the query");
    row("trailing word", "{} foo", "column 4: unexpected 'foo' after the query");
    row("unknown intrinsic", "{ foo = 1 }", "column 3: unknown intrinsic 'foo'");
    row("unknown span: intrinsic", "{ span:foo = 1 }", "column 3: unknown intrinsic 'span:foo'");
    row("unknown scope", "{ trace.x = 1 }", "column 3: unknown scope 'trace.'");
    row("unknown colon scope", "{ trace:duration > 1s }", "column 3: unknown scope 'trace:'");
    row("unterminated string", R"({ name = "abc })", "column 10: unterminated string");
    row("unterminated quoted key", R"({ span."abc = 1 })", "column 8: unterminated string");
    row("unknown escape", R"({ name = "a\q" })", R"(column 12: unknown escape '\q')");
    row("bad duration unit", "{ duration > 5xs }", "column 15: bad duration unit 'xs' in '5xs'");
    row("negative duration", "{ duration > -5ms }", "column 14: a duration cannot be negative");
    row("bad regex", R"({ name =~ "(" })", R"(column 11: bad regex "(": missing ))");
    row("regex needs string", "{ span.x =~ 5 }", "column 13: =~ needs a quoted regex");
    row("status value", "{ status = 5 }", "column 12: status takes error, ok or unset");
    row("status op", "{ status > error }", "column 10: status supports only = and !=");
    row("kind value", "{ kind = error }", "column 10: kind takes server, client");
    row("duration value", "{ duration > 5 }", "column 14: duration compares with a duration");
    row("duration regex", R"({ duration =~ "1" })", "duration supports =, !=, <, <=, >, >=");
    row("name value", "{ name = 5 }", "column 10: name compares with a quoted string");
    row("nil op", "{ span.x > nil }", "column 10: nil supports only");
    row("bool op", "{ span.x < true }", "column 10: true and false support only = and !=");
    row("status word on attribute", "{ span.x = error }", "column 12: 'error' is a status value");
    row("duration on attribute", "{ span.x = 5ms }", "column 12: a duration compares with the duration intrinsic");
    row("missing value", "{ name = }", "column 10: expected a value after '='");
    row("unknown value word", "{ span.x = foo }", "column 12: expected a value after '='");
    row("missing operator", R"({ name "x" })", "column 8: expected a comparison operator");
    row("missing field", R"({ = "x" })", "column 3: expected a field");
    row("empty key", "{ span. = 1 }", "column 3: expected an attribute name after 'span.'");
    row("empty unscoped key", "{ . = 1 }", "column 3: expected an attribute name after '.'");
    row("double equals", R"({ name == "x" })", "column 8: '==' is not TraceQL; use '='");
    row("pipeline", R"({ name = "a" } | count() > 1)", "column 16: pipelines ('|') are not supported");
    row("sibling", "{} ~ {}", "column 4: operator '~' (sibling) is not supported");
    row("ancestor", "{} << {}", "column 4: operator '<<' (ancestor) is not supported");
    row("dangling operator", "{} >> ", "column 7: expected '{' to start a span set, got end of query");
    row("unclosed paren", R"(({ name = "x" })", "column 16: expected ')' to close '(' at column 1");
    row("unclosed cond paren", R"({ (name = "x" })", "column 15: expected ')' to close '(' at column 3");
    row("stray character", "{} #", "column 4: unexpected character '#'");
    row("non-ascii", "{ name = \"x\" } \xC2\xB5", "column 16: unexpected byte 0xC2");
    row("single ampersand", "{} & {}", "column 4: expected '&&'");
}

void TestTraceQl::parseErrors()
{
    QFETCH(QString, query);
    QFETCH(QString, message);
    std::string error = "stale";
    const auto q = TraceQlQuery::parse(query.toStdString(), error);
    QVERIFY(!q);
    const QString got = QString::fromStdString(error);
    QVERIFY2(got.contains(message), qPrintable(QStringLiteral("got: ") + got));
    QVERIFY2(!got.contains(QLatin1Char('\n')), "one line");

    // And a successful parse clears the error.
    QVERIFY(TraceQlQuery::parse("{}", error));
    QVERIFY(error.empty());
}

void TestTraceQl::nestingAndLengthLimits()
{
    auto condNest = [](int depth) {
        return "{ " + std::string(size_t(depth), '(') + R"(name = "x")" + std::string(size_t(depth), ')') + " }";
    };
    auto setNest = [](int depth) { return std::string(size_t(depth), '(') + "{}" + std::string(size_t(depth), ')'); };
    std::string error;
    const VectorTrace trace({makeSpan(1, 0, "a", "x")});

    auto atLimit = TraceQlQuery::parse(condNest(TraceQlQuery::kMaxNesting), error);
    QVERIFY2(atLimit, error.c_str());
    QVERIFY(atLimit->matches(trace));
    QVERIFY(!TraceQlQuery::parse(condNest(TraceQlQuery::kMaxNesting + 1), error));
    QVERIFY2(QString::fromStdString(error).contains(QLatin1String("column 67: nesting deeper than 64 levels")),
        error.c_str());

    QVERIFY2(TraceQlQuery::parse(setNest(64), error), error.c_str());
    QVERIFY(!TraceQlQuery::parse(setNest(65), error));
    QVERIFY2(QString::fromStdString(error).contains(QLatin1String("nesting deeper than 64")), error.c_str());

    // Negations nest too.
    QVERIFY(!TraceQlQuery::parse("{ " + std::string(65, '!') + "status = error }", error));
    QVERIFY2(QString::fromStdString(error).contains(QLatin1String("nesting deeper than 64")), error.c_str());
    const auto negated = TraceQlQuery::parse("{ " + std::string(64, '!') + "status = unset }", error);
    QVERIFY2(negated, error.c_str());
    QVERIFY(negated->matches(trace));  // an even number of negations of a true condition
    QCOMPARE(TraceQlQuery::parse(negated->text(), error)->text(), negated->text());

    // Thousands of open parentheses: refused, no stack overflow.
    QVERIFY(!TraceQlQuery::parse(std::string(4000, '('), error));
    QVERIFY2(QString::fromStdString(error).contains(QLatin1String("nesting deeper than 64")), error.c_str());
    QVERIFY(!TraceQlQuery::parse("{ " + std::string(4000, '(') + " }", error));
    QVERIFY2(QString::fromStdString(error).contains(QLatin1String("nesting deeper than 64")), error.c_str());

    // Length.
    const std::string padded = "{}" + std::string(TraceQlQuery::kMaxQueryBytes - 2, ' ');
    QVERIFY2(TraceQlQuery::parse(padded, error), error.c_str());
    QVERIFY(!TraceQlQuery::parse(padded + " ", error));
    QCOMPARE(QString::fromStdString(error), QStringLiteral("query is 4097 bytes; the limit is 4096"));
}

void TestTraceQl::longOperatorChainIsNotRecursive()
{
    // 900 `>>` links (under the 4 KiB limit): spans at depth 900 and deeper match.
    constexpr size_t kLinks = 900;
    constexpr size_t kSpans = 2000;
    std::string query = "{}";
    for (size_t k = 0; k < kLinks; ++k)
        query += ">>{}";
    std::vector<Span> spans;
    for (uint64_t id = 1; id <= kSpans; ++id)
        spans.push_back(makeSpan(id, id - 1, "svc"));
    const VectorTrace chain(std::move(spans));
    std::string error;
    const auto q = TraceQlQuery::parse(query, error);
    QVERIFY2(q, error.c_str());
    const auto spansFound = q->matchedSpans(chain);
    QCOMPARE(spansFound.size(), kSpans - kLinks);
    QCOMPARE(spansFound.front(), uint32_t(kLinks));
    // Long chains of conditions are loops too.
    std::string conds = "{ name = \"op\"";
    for (int k = 0; k < 150; ++k)
        conds += " && kind = internal";
    conds += " }";
    QCOMPARE(match(conds, chain), 1);
}

void TestTraceQl::chainOf100kSpans()
{
    constexpr uint64_t kSpans = 100'000;
    // Listed leaf first, so no index order puts parents before children.
    std::vector<Span> spans;
    spans.reserve(kSpans);
    for (uint64_t id = kSpans; id >= 1; --id)
        spans.push_back(makeSpan(id, id - 1, id == 1 ? "checkout" : "worker", "span-" + std::to_string(id),
            id == kSpans ? SpanStatus::Error : SpanStatus::Unset));
    const VectorTrace chain(std::move(spans));

    std::string error;
    const auto desc = TraceQlQuery::parse(R"({ resource.service.name = "checkout" } >> { status = error })", error);
    QVERIFY2(desc, error.c_str());
    QElapsedTimer timer;
    timer.start();
    const bool found = desc->matches(chain);
    const qint64 descMs = timer.elapsed();
    QVERIFY(found);
    QCOMPARE(desc->matchedSpans(chain), Indexes {0});

    const auto child = TraceQlQuery::parse(R"({ resource.service.name = "checkout" } > { status = error })", error);
    QVERIFY(!child->matches(chain));
    QCOMPARE(match(R"({ name = "span-99999" } > { status = error })", chain), 1);
    QCOMPARE(match(R"({ status = error } >> {})", chain), 0);  // the leaf has no descendants
    // Every span but the root has an ancestor.
    timer.restart();
    QCOMPARE(matched("{} >> {}", chain).size(), size_t(kSpans - 1));
    const qint64 allMs = timer.elapsed();
    qInfo("100k-span chain: {checkout} >> {error} %lld ms, {} >> {} (matchedSpans + matches) %lld ms", descMs, allMs);
    // Generous so a loaded or sanitized build passes; a quadratic walk takes seconds.
    QVERIFY2(descMs < 500, qPrintable(QString::number(descMs)));
}

void TestTraceQl::wideTraceOf100kSpans()
{
    constexpr uint64_t kSpans = 100'000;
    std::vector<Span> spans;
    spans.reserve(kSpans);
    spans.push_back(makeSpan(1, 0, "checkout", "root"));
    for (uint64_t id = 2; id <= kSpans; ++id)
        spans.push_back(makeSpan(id, 1, "leaf", "child", id % 2 ? SpanStatus::Error : SpanStatus::Ok));
    const VectorTrace wide(std::move(spans));

    std::string error;
    const auto desc = TraceQlQuery::parse(R"({ resource.service.name = "checkout" } >> { status = error })", error);
    QVERIFY2(desc, error.c_str());
    QElapsedTimer timer;
    timer.start();
    const auto found = desc->matchedSpans(wide);
    const qint64 ms = timer.elapsed();
    QCOMPARE(found.size(), size_t(kSpans / 2 - 1));  // odd ids 3..99999
    QCOMPARE(found.front(), uint32_t(2));
    QCOMPARE(matched(R"({ name = "root" } > { status = error })", wide).size(), size_t(kSpans / 2 - 1));
    QCOMPARE(match(R"({ name = "child" } >> {})", wide), 0);
    QCOMPARE(match(R"({ name = "child" } > { name = "child" })", wide), 0);
    qInfo("100k-span wide trace: {checkout} >> {error} %lld ms", ms);
    QVERIFY2(ms < 500, qPrintable(QString::number(ms)));
}

void TestTraceQl::parentCyclesTerminate()
{
    // n1 <-> n2 loop, n3 its own parent, n4 below the loop, n5 with an out-of-range parent.
    VectorTrace trace({makeSpan(1, 2, "a", "n1"), makeSpan(2, 1, "a", "n2"), makeSpan(3, 3, "a", "n3"),
        makeSpan(4, 1, "a", "n4", SpanStatus::Error), makeSpan(5, 0, "a", "n5")});
    trace.setParent(4, 1000);
    // Spans on the loop count as roots: n1 stays n4's parent, n2 is no ancestor of n4.
    QCOMPARE(matched("{} >> { status = error }", trace), Indexes {3});
    QCOMPARE(match(R"({ name = "n1" } > { name = "n4" })", trace), 1);
    QCOMPARE(match(R"({ name = "n2" } >> { name = "n4" })", trace), 0);
    QCOMPARE(match(R"({ name = "n2" } > { name = "n1" })", trace), 0);
    QCOMPARE(match(R"({ name = "n3" } > { name = "n3" })", trace), 0);
    QCOMPARE(match(R"({} > { name = "n5" })", trace), 0);
    QCOMPARE(matched("{} >> {}", trace), Indexes {3});

    // A 100,000-span ring finishes too.
    constexpr uint64_t kSpans = 100'000;
    std::vector<Span> ring;
    for (uint64_t id = 1; id <= kSpans; ++id)
        ring.push_back(makeSpan(id, id == 1 ? kSpans : id - 1, "r"));
    const VectorTrace ringTrace(std::move(ring));
    QElapsedTimer timer;
    timer.start();
    QCOMPARE(match("{} >> {}", ringTrace), 0);
    QVERIFY(timer.elapsed() < 2000);
}

void TestTraceQl::requiredHints_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<QStringList>("services");
    QTest::addColumn<QStringList>("names");
    auto row = [](const char *q, QStringList s, QStringList n) { QTest::newRow(q) << QString::fromUtf8(q) << s << n; };
    using L = QStringList;
    row(R"({ resource.service.name = "checkout" } >> { status = error })", L {QStringLiteral("checkout")}, L {});
    row(R"({ resource.service.name = "b" && name = "GET" } && { resource.service.name = "a" })",
        L {QStringLiteral("a"), QStringLiteral("b")}, L {QStringLiteral("GET")});
    row(R"({ resource.service.name = "a" } > { name = "x" })", L {QStringLiteral("a")}, L {QStringLiteral("x")});
    row(R"({ resource.service.name = "a" } || { resource.service.name = "b" })", L {}, L {});
    row(R"({ resource.service.name = "a" || resource.service.name = "b" })", L {}, L {});
    row(R"({ resource.service.name = "a" && name = "x" || resource.service.name = "a" && name = "y" })",
        L {QStringLiteral("a")}, L {});
    row(R"(({ resource.service.name = "a" } || { resource.service.name = "a" && name = "n" }) && {})",
        L {QStringLiteral("a")}, L {});
    row(R"({ !(resource.service.name = "a") })", L {}, L {});
    row(R"({ resource.service.name != "a" })", L {}, L {});
    row(R"({ resource.service.name =~ "a" })", L {}, L {});
    row(R"({ .service.name = "a" })", L {}, L {});  // could be a span attribute
    row(R"({ span.service.name = "a" })", L {}, L {});
    row(R"({ name != "x" && name =~ "y" })", L {}, L {});
    row(R"({ name = "x" } >> { name = "x" })", L {}, L {QStringLiteral("x")});
    row("{}", L {}, L {});
}

void TestTraceQl::requiredHints()
{
    QFETCH(QString, query);
    QFETCH(QStringList, services);
    QFETCH(QStringList, names);
    std::string error;
    const auto q = TraceQlQuery::parse(query.toStdString(), error);
    QVERIFY2(q, error.c_str());
    auto toList = [](const std::vector<std::string> &v) {
        QStringList out;
        for (const auto &s : v)
            out << QString::fromStdString(s);
        return out;
    };
    QCOMPARE(toList(q->requiredServices()), services);
    QCOMPARE(toList(q->requiredNames()), names);
}

void TestTraceQl::parseOnceEvaluateMany()
{
    std::string error;
    const auto q = TraceQlQuery::parse(R"({ resource.service.name = "a" } > { status = error })", error);
    QVERIFY2(q, error.c_str());
    const VectorTrace yes({makeSpan(1, 0, "a"), makeSpan(2, 1, "b"), makeSpan(3, 1, "b", "x", SpanStatus::Error)});
    const VectorTrace no({makeSpan(1, 0, "b", "x", SpanStatus::Error)});
    const TraceQlQuery copy = *q;
    for (int round = 0; round < 3; ++round) {
        QCOMPARE(q->matchedSpans(yes), Indexes {2});
        QVERIFY(!q->matches(no));
        QVERIFY(copy.matches(yes));
    }
    QCOMPARE(copy.text(), q->text());
}

void TestTraceQl::emptyTrace()
{
    const VectorTrace none(std::vector<Span> {});
    QCOMPARE(match("{}", none), 0);
    QCOMPARE(match("{} >> {}", none), 0);
    QCOMPARE(match("{} || {}", none), 0);
    QVERIFY(matched("{} && {}", none).empty());
}

QTEST_GUILESS_MAIN(TestTraceQl)
#include "tst_traceql.moc"

#pragma once
// The findings the fuzz targets made that are reported and still open in core, one
// predicate each, as narrow as the finding allows (docs/fuzzing.md, "Open findings").
// A target asks fuzz::knownFinding(predicate, id) before it calls into core and sets
// the input aside when it applies: CI stays green, a long run explores past them, and
// -DMESHSCOPE_FUZZ_REPORT_KNOWN=ON brings them back. Delete a predicate with its fix.
// Header-only: each target is its own executable.

#include "model/text.h"
#include "routing/caddy/caddyjson.h"
#include "routing/routemodel.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshscope::fuzz {

inline constexpr const char *kRouteTextNotUtf8 = "route text that is not UTF-8 passes validateRoutes";
inline constexpr const char *kDurationNotWritable = "parseDuration accepts totals formatDuration cannot write";
inline constexpr const char *kCaddyRegexNotInverse = "Caddy regex unwrapping is not the inverse of wrapping";
inline constexpr const char *kYamlNotUtf8Rewritten = "toYaml rewrites bytes that are not UTF-8 as U+FFFD";
inline constexpr const char *kCaddyZeroDurationDropped = "modelToCaddyRoutes drops durations of 0";
inline constexpr const char *kCaddyHeaderOrder = "Caddy pull keeps header order, push and pull put exact first";
inline constexpr const char *kPromTimeBefore1970 = "parsePromTime takes RFC 3339 times before 1970, not seconds";

// kRouteTextNotUtf8: validateRoutes refuses names, hostnames, paths, header matches
// and backend references that are not UTF-8, but not header modifiers (set, add,
// remove), the mirror's backend or the retry conditions (meshscope.io/retryOn), which
// yaml-cpp passes through as bytes. translateToXds puts them into proto3 string fields
// (HeaderValue, RequestMirrorPolicy.cluster, a Cluster's name, RetryPolicy.retry_on),
// and every Envoy and gRPC client refuses to parse such a resource.
inline bool routeSetHasUncheckedNonUtf8(const routing::RouteSet &set)
{
    using namespace meshscope::routing;
    auto bad = [](const std::string &s) { return !isValidUtf8(s); };
    auto badModifier = [&](const HeaderModifier &m) {
        for (const auto *list : {&m.set, &m.add}) {
            for (const auto &[name, value] : *list) {
                if (bad(name) || bad(value))
                    return true;
            }
        }
        for (const std::string &r : m.remove) {
            if (bad(r))
                return true;
        }
        return false;
    };
    for (const HttpRoute &r : set.routes) {
        for (const RouteRule &rule : r.rules) {
            if (badModifier(rule.requestHeaders) || badModifier(rule.responseHeaders))
                return true;
            if (rule.mirror && (bad(rule.mirror->backend.name) || bad(rule.mirror->backend.ns)))
                return true;
            if (rule.retry) {
                for (const std::string &c : rule.retry->retryOn) {
                    if (bad(c))
                        return true;
                }
            }
        }
    }
    return false;
}

// kDurationNotWritable: GEP-2257 allows at most five digits per unit, and parseDuration
// checks that per unit, not for the total: "99999h59m599s" reads as 100000h9m59s, which
// formatDuration writes with six digits of hours and parseDuration then refuses. A
// route file with such a timeout loads, and toYaml writes one that does not.
inline constexpr int64_t kMaxWritableDurationMs = ((99999LL * 60 + 59) * 60 + 59) * 1000 + 999;

inline bool routeSetHasUnwritableDuration(const routing::RouteSet &set)
{
    auto tooLong = [](const std::optional<int64_t> &ms) { return ms && *ms > kMaxWritableDurationMs; };
    for (const routing::HttpRoute &r : set.routes) {
        for (const routing::RouteRule &rule : r.rules) {
            if (tooLong(rule.timeoutMs) || tooLong(rule.backendTimeoutMs)
                || (rule.retry && (tooLong(rule.retry->perTryTimeoutMs) || tooLong(rule.retry->backoffMs)))
                || (rule.fault && tooLong(rule.fault->delayMs)))
                return true;
        }
    }
    return false;
}

// kCaddyRegexNotInverse: caddyRegexToFullMatch unwraps "^(?:x)$" by counting
// parentheses, and counts wrong where a class holds a literal ']' first or a
// parenthesis ("[])]", valid in Go and RE2) or where x does not compile (")))"): the
// pull keeps x, the push writes "^(?:x)$", and the next pull reads "(?:x)", not x.
inline bool routeSetHasRegexThatDoesNotRoundTrip(const routing::RouteSet &set)
{
    using namespace meshscope::routing;
    auto differs = [](const std::string &x) { return caddyRegexToFullMatch(fullMatchToCaddyRegex(x)) != x; };
    for (const HttpRoute &r : set.routes) {
        for (const RouteRule &rule : r.rules) {
            for (const RouteMatch &m : rule.matches) {
                if (m.path && m.path->type == PathMatchType::RegularExpression && differs(m.path->value))
                    return true;
                for (const HeaderMatch &h : m.headers) {
                    if (h.type == StringMatchType::RegularExpression && differs(h.value))
                        return true;
                }
                for (const QueryParamMatch &q : m.queryParams) {
                    if (q.type == StringMatchType::RegularExpression && differs(q.value))
                        return true;
                }
            }
        }
    }
    return false;
}

// kYamlNotUtf8Rewritten: loadRouteYaml keeps bytes that are not UTF-8 (yaml-cpp passes
// them through, though a YAML stream must be Unicode), and toYaml writes such a string
// back as it was only while it needs no double quotes: where it does (a control
// character, a word YAML would read as something else), yaml-cpp's emitter turns each
// such byte into U+FFFD. Loading a file and saving it changes names and values.
inline bool routeSetIsUtf8(const routing::RouteSet &set)
{
    using namespace meshscope::routing;
    auto ok = [](const std::string &s) { return isValidUtf8(s); };
    auto modifierOk = [&](const HeaderModifier &m) {
        for (const auto *list : {&m.set, &m.add}) {
            for (const auto &[name, value] : *list) {
                if (!ok(name) || !ok(value))
                    return false;
            }
        }
        for (const std::string &r : m.remove) {
            if (!ok(r))
                return false;
        }
        return true;
    };
    auto backendOk = [&](const BackendRef &b) { return ok(b.name) && ok(b.ns); };
    for (const HttpRoute &r : set.routes) {
        if (!ok(r.name) || !ok(r.ns))
            return false;
        for (const std::string &h : r.hostnames) {
            if (!ok(h))
                return false;
        }
        for (const RouteRule &rule : r.rules) {
            if (!ok(rule.name) || !modifierOk(rule.requestHeaders) || !modifierOk(rule.responseHeaders))
                return false;
            for (const RouteMatch &m : rule.matches) {
                if ((m.path && !ok(m.path->value)) || !ok(m.method))
                    return false;
                for (const HeaderMatch &h : m.headers) {
                    if (!ok(h.name) || !ok(h.value))
                        return false;
                }
                for (const QueryParamMatch &q : m.queryParams) {
                    if (!ok(q.name) || !ok(q.value))
                        return false;
                }
            }
            for (const BackendRef &b : rule.backends) {
                if (!backendOk(b))
                    return false;
            }
            if (rule.mirror && !backendOk(rule.mirror->backend))
                return false;
            if (rule.retry) {
                for (const std::string &c : rule.retry->retryOn) {
                    if (!ok(c))
                        return false;
                }
            }
        }
    }
    for (const EndpointSlice &s : set.endpointSlices) {
        if (!ok(s.name) || !ok(s.ns) || !ok(s.serviceName) || !ok(s.portName))
            return false;
        for (const Endpoint &e : s.endpoints) {
            if (!ok(e.address))
                return false;
        }
    }
    return true;
}

// kCaddyZeroDurationDropped: the import reads a Caddy duration of 0 ("0", "0s": no
// limit in Caddy) as a timeout or backoff of 0 ms, and the export writes only
// durations above 0, so the next import has none: try_duration, try_interval and
// response_header_timeout of 0 do not survive a push and pull.
inline bool routeSetHasZeroDuration(const routing::RouteSet &set)
{
    auto zero = [](const std::optional<int64_t> &ms) { return ms && *ms == 0; };
    for (const routing::HttpRoute &r : set.routes) {
        for (const routing::RouteRule &rule : r.rules) {
            if (zero(rule.timeoutMs) || zero(rule.backendTimeoutMs)
                || (rule.retry && (zero(rule.retry->perTryTimeoutMs) || zero(rule.retry->backoffMs))))
                return true;
        }
    }
    return false;
}

// kCaddyHeaderOrder: a Caddy "header" matcher holds exact values and wildcards ("*",
// "pay*") side by side, and the pull keeps them in the matcher's (alphabetical) order,
// regex or not; the push writes exact ones to "header" and the rest to "header_regexp",
// and the next pull reads those exact ones first. The match means the same, but the set
// differs, so a pulled-then-applied set shows changes that are none.
inline bool routeSetHasRegexHeaderBeforeExact(const routing::RouteSet &set)
{
    using namespace meshscope::routing;
    for (const HttpRoute &r : set.routes) {
        for (const RouteRule &rule : r.rules) {
            for (const RouteMatch &m : rule.matches) {
                bool regexSeen = false;
                for (const HeaderMatch &h : m.headers) {
                    if (h.type == StringMatchType::RegularExpression)
                        regexSeen = true;
                    else if (regexSeen)
                        return true;
                }
            }
        }
    }
    return false;
}

// kPromTimeBefore1970: parsePromTime refuses negative unix seconds ("-1") but reads an
// RFC 3339 time before 1970 ("1969-12-31T23:59:59Z") as exactly that negative number,
// so one instant is accepted in one spelling and refused in the other.
// (Applies to the parsed value: no undefined behaviour is involved.)

}  // namespace meshscope::fuzz

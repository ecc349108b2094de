#pragma once
// Translates between one Caddy 2.6 HTTP server's `routes` array (the JSON the admin
// API serves at /config/apps/http/servers/<server>/routes) and meshscope's route
// model, so `routes pull` can show a Caddy server as HTTPRoute/EndpointSlice YAML and
// `routes apply` can write an edited file back.
//
// Caddy -> model: every route whose handlers are (optionally) `headers` and then one
// `reverse_proxy` becomes a rule ("@id" is its name); `subroute` handlers are
// flattened with their matchers ANDed into the inner routes'. Consecutive routes
// with the same host matcher form one HTTPRoute. Each distinct upstream set becomes
// one backend Service with EndpointSlices holding its dial addresses. Anything the
// model cannot hold (another handler, health checks, a negative matcher, ...) refuses
// the pull with a message naming it, so nothing is dropped silently.
//
// Model -> Caddy: each rule becomes one route with one matcher set per match and a
// reverse_proxy handler. Caddy 2.6.2 has no weighted round robin, so weights follow
// RouteValidator's decision for DataPlane::Caddy: weight-0 backends are left out,
// equal weights become one round_robin pool, unequal weights are refused.
// Pure functions; any thread.

#include "routing/routemodel.h"

#include <QJsonArray>

#include <optional>
#include <string>
#include <vector>

namespace meshscope::routing {

struct CaddyPullResult {
    RouteSet set;  // normalized: equal to loadRouteYaml(toYaml(set))
    std::vector<std::string> notes;  // conversions that change how Caddy's JSON is spelled, with the reason
    std::vector<std::string> errors;  // what could not be expressed; the pull is refused when any
    bool ok() const { return errors.empty(); }
};

struct CaddyPushResult {
    QJsonArray routes;  // the whole routes array for the server
    std::vector<std::string> notes;  // what was converted or left out, with the reason
    std::vector<std::string> errors;  // refused: nothing should be sent
    bool ok() const { return errors.empty(); }
};

// `routes` is the JSON Caddy served (an array; an absent key is an empty array).
// `serverName` names routes without a host matcher.
CaddyPullResult caddyRoutesToModel(const QJsonArray &routes, const std::string &serverName);

CaddyPushResult modelToCaddyRoutes(const RouteSet &set);

// Go duration text as Caddy reads it ("2s", "1m30s", "500ms", "1.5s", "1d") or a
// number of nanoseconds, in milliseconds. nullopt when it is neither or not a
// whole number of milliseconds.
std::optional<int64_t> parseCaddyDuration(const QJsonValue &value);

// A regular expression Caddy (Go regexp, unanchored search) applies, turned into
// one that must match the whole value (Gateway API and RE2 full match), and back.
// "^(?:x)$" and "^x$" (x without '|') unwrap to x; anything else becomes ".*(?:x).*".
std::string caddyRegexToFullMatch(const std::string &pattern);
std::string fullMatchToCaddyRegex(const std::string &pattern);

}  // namespace meshscope::routing

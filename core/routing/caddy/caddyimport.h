#pragma once
// Caddy -> model: one Caddy 2.6 HTTP server's `routes` array (the JSON the admin API
// serves at /config/apps/http/servers/<server>/routes) read as meshscope's route
// model, so `routes pull` can show a Caddy server as HTTPRoute/EndpointSlice YAML.
//
// Every route whose handlers are (optionally) `headers` and then one
// `reverse_proxy` becomes a rule ("@id" is its name); `subroute` handlers are
// flattened with their matchers ANDed into the inner routes'. Consecutive routes
// with the same host matcher form one HTTPRoute. Each distinct upstream set becomes
// one backend Service with EndpointSlices holding its dial addresses. Anything the
// model cannot hold (another handler, health checks, a negative matcher, ...) refuses
// the pull with a message naming it, so nothing is dropped silently.
// Pure function; any thread. Callers include caddytranslator.h.

#include "routing/routemodel.h"

#include <QJsonArray>

#include <string>
#include <vector>

namespace meshscope::routing {

struct CaddyPullResult {
    RouteSet set;  // normalized: equal to loadRouteYaml(toYaml(set))
    std::vector<std::string> notes;  // conversions that change how Caddy's JSON is spelled, with the reason
    std::vector<std::string> errors;  // what could not be expressed; the pull is refused when any
    bool ok() const { return errors.empty(); }
};

// `routes` is the JSON Caddy served (an array; an absent key is an empty array).
// `serverName` names routes without a host matcher.
CaddyPullResult caddyRoutesToModel(const QJsonArray &routes, const std::string &serverName);

}  // namespace meshscope::routing

#pragma once
// Model -> Caddy: meshscope's route model written as one Caddy 2.6 HTTP server's
// `routes` array, so `routes apply` can send an edited file back.
//
// Each rule becomes one route with one matcher set per match and a reverse_proxy
// handler. Caddy 2.6.2 has no weighted round robin, so weights follow
// RouteValidator's decision for DataPlane::Caddy: weight-0 backends are left out,
// equal weights become one round_robin pool, unequal weights are refused.
// Pure function; any thread. Callers include caddytranslator.h.

#include "routing/routemodel.h"

#include <QJsonArray>

#include <string>
#include <vector>

namespace meshscope::routing {

struct CaddyPushResult {
    QJsonArray routes;  // the whole routes array for the server
    std::vector<std::string> notes;  // what was converted or left out, with the reason
    std::vector<std::string> errors;  // refused: nothing should be sent
    bool ok() const { return errors.empty(); }
};

CaddyPushResult modelToCaddyRoutes(const RouteSet &set);

}  // namespace meshscope::routing

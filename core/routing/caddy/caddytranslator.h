#pragma once
// Translates between one Caddy 2.6 HTTP server's `routes` array (the JSON the admin
// API serves at /config/apps/http/servers/<server>/routes) and meshscope's route
// model, so `routes pull` can show a Caddy server as HTTPRoute/EndpointSlice YAML and
// `routes apply` can write an edited file back. The header callers include; each
// job lives beside it:
//   caddyimport.h  Caddy -> model (caddyRoutesToModel), refusing what the model cannot hold
//   caddyexport.h  model -> Caddy (modelToCaddyRoutes), refusing what Caddy 2.6.2 cannot do
//   caddyjson.h    what both spell the same way: Go durations, regex anchoring
// Pure functions; any thread.

#include "routing/caddy/caddyexport.h"
#include "routing/caddy/caddyimport.h"
#include "routing/caddy/caddyjson.h"

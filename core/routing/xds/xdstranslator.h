#pragma once
// Turns a RouteSet into the four xDS resource types a proxyless gRPC client or an
// Envoy consumes over ADS:
//  - Listener "<hostname>" for each HTTPRoute hostname: an API listener whose
//    HttpConnectionManager names RouteConfiguration "<hostname>" over ADS (RDS) and
//    carries the router filter, last; when a rule served there injects faults, the
//    fault filter (empty) comes first and each such route carries its HTTPFault in
//    typed_per_filter_config. A gRPC client dials xds:///<hostname>; an Envoy
//    points its own listener's RDS at the same route configuration name. A route
//    without hostnames is served as "<name>.<namespace>".
//  - RouteConfiguration "<hostname>": one virtual host, the rules of every route
//    with that hostname in file order, one xDS route per match (first match wins).
//  - Cluster "<namespace>/<service>[:<port>]" per backend (EDS over ADS, round robin).
//  - ClusterLoadAssignment per cluster from the backend's EndpointSlices.
// It writes only what gRPC 1.51 accepts (PROTOCOLS.md "Quirks": total_weight always
// sent, deprecated header matchers, router filter last). Pure function; any thread.

#include "routing/routemodel.h"
#include "routing/routevalidator.h"

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/type/v3/percent.pb.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meshscope::routing {

inline constexpr std::string_view kXdsListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr std::string_view kXdsRouteConfigurationType
    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr std::string_view kXdsClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr std::string_view kXdsClusterLoadAssignmentType
    = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
inline constexpr std::string_view kXdsHttpConnectionManagerType
    = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
inline constexpr std::string_view kXdsRouterFilterName = "envoy.filters.http.router";
// The fault filter's name in http_filters, and the typed_per_filter_config key of a
// route's HTTPFault (gRFC A33; Envoy's envoy.filters.http.fault).
inline constexpr std::string_view kXdsFaultFilterName = "envoy.filters.http.fault";

// "LDS", "RDS", "CDS", "EDS", or the type URL itself when it is none of those.
std::string xdsTypeShortName(std::string_view typeUrl);

struct XdsTranslatorOptions {
    // XdsGrpc writes plain prefixes and call timeouts as max_stream_duration (what
    // gRPC reads); Envoy (and anything else) writes path_separated_prefix for Gateway
    // API PathPrefix and the route timeout.
    DataPlane target = DataPlane::XdsGrpc;
    int64_t connectTimeoutMs = 5000;  // Cluster.connect_timeout, used by Envoy only
};

struct XdsResourceSet {
    std::vector<envoy::config::listener::v3::Listener> listeners;
    std::vector<envoy::config::route::v3::RouteConfiguration> routeConfigurations;
    std::vector<envoy::config::cluster::v3::Cluster> clusters;
    std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment> loadAssignments;
    // What the resources could not express, one line each ("HTTPRoute shop/reviews
    // rules[1]: proxyless gRPC does not mirror requests ...; mirror not sent").
    std::vector<std::string> notes;
};

XdsResourceSet translateToXds(const RouteSet &set, const XdsTranslatorOptions &options = {});

// The stable cluster (and EDS service) name of a backend referenced from a route in
// namespace routeNs: "ns/name", or "ns/name:port" when the reference names a port.
std::string xdsClusterName(const BackendRef &backend, const std::string &routeNs);

// The listener and route configuration names a route is served under: its hostnames,
// or "<name>.<namespace>" when it has none.
std::vector<std::string> xdsListenerNames(const HttpRoute &route);

// A percentage (0..100) as xDS sends it: whole percentages over HUNDRED, anything
// finer over MILLION (12.5 -> 125000/MILLION; resolution 0.0001 %).
envoy::type::v3::FractionalPercent xdsFractionalPercent(double percent);

}  // namespace meshscope::routing

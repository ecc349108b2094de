#pragma once
// The properties of a translated xDS resource set, shared by the fuzz targets that
// translate route sets (fuzz_xds on sets built from fuzz bytes, fuzz_routeyaml on
// sets read from fuzzed YAML). Header-only: each target is its own executable.
// Call it where a `kFuzzTarget` is in scope (fuzzproperty.h's ASSERT_PROPERTY).

#include "fuzzproperty.h"

#include "routing/routemodel.h"
#include "routing/xds/xdstranslator.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace meshscope::fuzz {

// Whether what the control plane would send is what a client can read: protobuf
// refuses to parse a proto3 string field that is not UTF-8, so such a resource is
// rejected by every Envoy and gRPC client.
template <typename Message>
bool parsesBack(const Message &m)
{
    Message back;
    return back.ParseFromString(m.SerializeAsString());
}

// Structure that holds for any route set: one route configuration per listener, one
// load assignment per cluster, and every cluster a route names is served.
// `validated`: the set passed validateRoutes for the translation's data plane, so
// every resource must also reach the client intact and weights add up exactly.
inline void checkXdsResources(
    const char *kFuzzTarget, const routing::RouteSet &set, const routing::XdsResourceSet &out, bool validated)
{
    using namespace meshscope::routing;
    std::set<std::string> listenerNames;
    for (const HttpRoute &r : set.routes) {
        for (const std::string &name : xdsListenerNames(r))
            listenerNames.insert(name);
    }
    ASSERT_PROPERTY(out.listeners.size() == listenerNames.size(), "one listener per distinct hostname");
    ASSERT_PROPERTY(out.routeConfigurations.size() == out.listeners.size(), "one route configuration per listener");
    for (size_t i = 0; i < out.listeners.size(); ++i) {
        ASSERT_PROPERTY(listenerNames.count(out.listeners[i].name()) == 1, "listeners are named after hostnames");
        ASSERT_PROPERTY(out.routeConfigurations[i].name() == out.listeners[i].name(),
            "each listener's route configuration has its name");
    }
    ASSERT_PROPERTY(out.loadAssignments.size() == out.clusters.size(), "one load assignment per cluster");
    std::set<std::string> clusters;
    for (size_t i = 0; i < out.clusters.size(); ++i) {
        ASSERT_PROPERTY(clusters.insert(out.clusters[i].name()).second, "cluster names are unique");
        ASSERT_PROPERTY(out.loadAssignments[i].cluster_name() == out.clusters[i].name(),
            "each cluster's load assignment has its name");
    }

    std::set<std::string> used;
    for (const auto &rc : out.routeConfigurations) {
        for (const auto &vh : rc.virtual_hosts()) {
            for (const auto &route : vh.routes()) {
                if (!route.has_route())
                    continue;
                const auto &action = route.route();
                if (action.has_weighted_clusters()) {
                    uint64_t sum = 0;
                    for (const auto &cw : action.weighted_clusters().clusters()) {
                        used.insert(cw.name());
                        sum += cw.weight().value();
                    }
                    // Unvalidated weights may wrap the uint32 total; validated ones
                    // (at most 1,000,000 each) must add up exactly, or gRPC NACKs.
                    if (validated)
                        ASSERT_PROPERTY(sum == action.weighted_clusters().total_weight().value(),
                            "total_weight is the sum of the weights");
                } else {
                    used.insert(action.cluster());
                }
                for (const auto &mirror : action.request_mirror_policies())
                    used.insert(mirror.cluster());
            }
        }
    }
    ASSERT_PROPERTY(used == clusters, "every cluster a route names is served, and no other");

    if (!validated)
        return;
    for (const auto &m : out.listeners)
        ASSERT_PROPERTY(parsesBack(m), "a listener of a validated set parses back (UTF-8 names)");
    for (const auto &m : out.routeConfigurations)
        ASSERT_PROPERTY(parsesBack(m), "a route configuration of a validated set parses back (UTF-8 values)");
    for (const auto &m : out.clusters)
        ASSERT_PROPERTY(parsesBack(m), "a cluster of a validated set parses back");
    for (const auto &m : out.loadAssignments)
        ASSERT_PROPERTY(parsesBack(m), "a load assignment of a validated set parses back (UTF-8 addresses)");
}

}  // namespace meshscope::fuzz

#pragma once
// The vocabulary of route files that routeyamlreader.cpp and routeyamlwriter.cpp
// must agree on: API versions, meshscope's extension keys and the label naming a
// slice's Service. Internal to core/routing/yaml; callers include routeyaml.h.

#include <arpa/inet.h>

#include <string>

namespace meshscope::routing::routeyaml {

// Extension keys carry the meshscope.io/ prefix so a reader (and a Kubernetes API
// server, which would prune them) can tell them from Gateway API fields at a glance.
inline const std::string kRetryOnKey = "meshscope.io/retryOn";
inline const std::string kPerTryTimeoutKey = "meshscope.io/perTryTimeout";
inline const std::string kFaultKey = "meshscope.io/faultInjection";
inline const std::string kExtensionGroup = "meshscope.io";
inline const std::string kFaultKind = "FaultInjection";
inline const std::string kServiceNameLabel = "kubernetes.io/service-name";
inline const std::string kGatewayApiVersion = "gateway.networking.k8s.io/v1";
inline const std::string kDiscoveryApiVersion = "discovery.k8s.io/v1";

// An EndpointSlice's addressType follows from its addresses: the reader checks
// them against it, the writer derives it from them.
inline bool isIp(int family, const std::string &s)
{
    unsigned char buf[16];
    return inet_pton(family, s.c_str(), buf) == 1;
}

}  // namespace meshscope::routing::routeyaml

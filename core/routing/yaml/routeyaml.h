#pragma once
// Route files: multi-document YAML holding HTTPRoute (gateway.networking.k8s.io/v1)
// and EndpointSlice (discovery.k8s.io/v1) documents. The header callers include;
// the jobs live beside it:
//   routeyamlreader.h   YAML -> RouteSet, with every problem named by file, document and line
//   routeyamlwriter.h   RouteSet -> normalized YAML
//   routefileedit.h     a change written into the operator's file, keeping its layout
//   gatewayduration.h   the GEP-2257 Duration spelling both use
//   yamlemit.h          quoting and document layout shared with the Istio export

#include "routing/yaml/gatewayduration.h"
#include "routing/yaml/routefileedit.h"
#include "routing/yaml/routeyamlreader.h"
#include "routing/yaml/routeyamlwriter.h"
#include "routing/yaml/yamlemit.h"

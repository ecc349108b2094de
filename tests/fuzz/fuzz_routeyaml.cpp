// Fuzz target for the route file reader (loadRouteYaml): multi-document YAML with
// HTTPRoute and EndpointSlice documents, typed or pasted by people, so anything goes.
// Properties checked on every input:
// - reading never crashes or throws, and every issue it reports has a message;
// - round trip: where the text reads without errors, writing the set (toYaml) and
//   reading that again gives the same set with no errors, and writing it once more
//   gives the same text;
// - the validator takes whatever was read, for every data plane, and a set it passes
//   for xDS translates into resources that hold together and that a client can parse
//   (xdsresourcecheck.h).
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/routeyaml and mutations of it.

#include "fuzzproperty.h"
#include "xdsresourcecheck.h"

#include "routing/routevalidator.h"
#include "routing/xds/xdstranslator.h"
#include "routing/yaml/routeyaml.h"

#include <google/protobuf/stubs/logging.h>

#include <string>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

constexpr const char *kFuzzTarget = "fuzz_routeyaml";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    // protobuf logs every string field that is not UTF-8 (xdsresourcecheck.h parses
    // resources back): at fuzzing rates that would be most of the output.
    static const google::protobuf::LogSilencer quiet;
    const std::string text(reinterpret_cast<const char *>(data), size);
    const RouteLoadResult r = loadRouteYaml(text, "fuzz.yaml");
    for (const RouteIssue &i : r.issues) {
        ASSERT_PROPERTY(!i.message.empty(), "every issue has a message");
        (void)i.toString();
    }
    if (!r.ok())
        return 0;

    const std::string written = toYaml(r.set);
    const RouteLoadResult back = loadRouteYaml(written, "written.yaml");
    ASSERT_PROPERTY(back.ok(), "what toYaml writes reads back without errors");
    ASSERT_PROPERTY(back.set == r.set, "round trip YAML -> model -> YAML -> model keeps the model");
    ASSERT_PROPERTY(toYaml(back.set) == written, "round trip keeps the normalized YAML");

    for (DataPlane plane : {DataPlane::Generic, DataPlane::Caddy, DataPlane::XdsGrpc, DataPlane::Envoy}) {
        const bool validated = !hasErrors(validateRoutes(r.set, plane));
        if (plane == DataPlane::XdsGrpc || plane == DataPlane::Envoy) {
            XdsTranslatorOptions options;
            options.target = plane;
            fuzz::checkXdsResources(kFuzzTarget, r.set, translateToXds(r.set, options), validated);
        }
    }
    return 0;
}

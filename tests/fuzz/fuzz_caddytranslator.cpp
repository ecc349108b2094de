// Fuzz target for the Caddy import (caddyRoutesToModel): the routes array a Caddy
// admin API serves, turned into meshscope's route model. The input is that JSON (an
// array, or an object holding "routes"). Properties checked on every input:
// - nothing crashes or throws;
// - a refused pull says why; an accepted one is normalized, as caddytranslator.h
//   promises: loadRouteYaml(toYaml(set)) loads without errors and gives the same set;
// - round trip: where the pulled set translates back to Caddy JSON
//   (modelToCaddyRoutes), importing that JSON again gives the same set, and
//   translating it once more gives the same JSON.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzsmoke.cpp, which replays tests/fuzz/corpus/caddytranslator and mutations of it.

#include "fuzzproperty.h"

#include "routing/caddy/caddytranslator.h"
#include "routing/yaml/routeyaml.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace meshscope;
using namespace meshscope::routing;

namespace {

constexpr const char *kFuzzTarget = "fuzz_caddytranslator";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > fuzz::kMaxInputBytes)
        return 0;
    const QByteArray body = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    QJsonArray routes;
    if (doc.isArray())
        routes = doc.array();
    else if (doc.isObject())
        routes = doc.object().value(QLatin1String("routes")).toArray();
    else
        return 0;

    const CaddyPullResult pulled = caddyRoutesToModel(routes, "srv0");
    if (!pulled.ok()) {
        for (const std::string &e : pulled.errors)
            ASSERT_PROPERTY(!e.empty(), "a refused pull says why");
        return 0;
    }

    const std::string yaml = toYaml(pulled.set);
    const RouteLoadResult reloaded = loadRouteYaml(yaml, "pulled.yaml");
    ASSERT_PROPERTY(reloaded.ok(), "a pulled set written as YAML loads without errors");
    ASSERT_PROPERTY(reloaded.set == pulled.set, "a pulled set is normalized: the YAML round trip keeps it");

    const CaddyPushResult pushed = modelToCaddyRoutes(pulled.set);
    if (!pushed.ok())
        return 0;
    const CaddyPullResult again = caddyRoutesToModel(pushed.routes, "srv0");
    ASSERT_PROPERTY(again.ok(), "Caddy JSON meshscope wrote imports without errors");
    ASSERT_PROPERTY(again.set == pulled.set, "round trip Caddy -> model -> Caddy -> model keeps the model");
    const CaddyPushResult pushedAgain = modelToCaddyRoutes(again.set);
    ASSERT_PROPERTY(
        pushedAgain.ok() && pushedAgain.routes == pushed.routes, "round trip keeps the Caddy JSON meshscope writes");
    return 0;
}

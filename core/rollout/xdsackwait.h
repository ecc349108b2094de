#pragma once
// Whether the xDS clients took a version: a rollout step counts from the moment the
// data plane has its weights, not from the push.

#include "routing/xds/xdscontrolplane.h"

#include <cstdint>
#include <functional>
#include <string>

class QObject;

namespace meshscope::rollout {

// Calls done(true, {}) once every connected client has ACKed `version` for every type it
// subscribed to (at once when no client is connected), done(false, why) when one NACKs
// it or timeoutMs pass first. Polls every 50 ms on the calling thread's event loop; the
// wait ends unanswered when `context` is destroyed.
void awaitXdsAcks(const routing::XdsControlPlane &controlPlane, uint64_t version, int timeoutMs, QObject *context,
    std::function<void(bool ok, const std::string &error)> done);

}  // namespace meshscope::rollout

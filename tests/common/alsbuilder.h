#pragma once
// Test helpers for Envoy access-log service messages, the parts the decoder and the
// receiver tests build alike: the node an Envoy identifies itself as, and an entry's
// start time and duration. Header-only: every test executable includes it on its own.

#include "envoy/service/accesslog/v3/als.pb.h"

#include <cstdint>
#include <string>

namespace meshscope::test {

inline void setDuration(google::protobuf::Duration *d, double ms)
{
    d->set_seconds(int64_t(ms / 1000));
    d->set_nanos(int32_t((ms - double(d->seconds()) * 1000) * 1e6));
}

inline void setStart(envoy::data::accesslog::v3::AccessLogCommon *c, int64_t ms)
{
    c->mutable_start_time()->set_seconds(ms / 1000);
    c->mutable_start_time()->set_nanos(int32_t(ms % 1000) * 1'000'000);
}

inline void identify(
    envoy::service::accesslog::v3::StreamAccessLogsMessage &m, const std::string &nodeId, const std::string &cluster)
{
    m.mutable_identifier()->mutable_node()->set_id(nodeId);
    m.mutable_identifier()->mutable_node()->set_cluster(cluster);
}

}  // namespace meshscope::test

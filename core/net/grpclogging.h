#pragma once

namespace meshscope {

// Silences gRPC's own log lines unless MESHSCOPE_GRPC_LOG is set: meshscope reports
// errors itself, with one line each.
void quietGrpcLogging();

}  // namespace meshscope

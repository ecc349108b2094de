#include "net/grpclogging.h"

#include <grpc/support/log.h>

#include <cstdlib>

namespace meshscope {

void quietGrpcLogging()
{
    static const bool once = [] {
        if (!std::getenv("MESHSCOPE_GRPC_LOG"))
            gpr_set_log_function([](gpr_log_func_args *) {});
        return true;
    }();
    (void)once;
}

}  // namespace meshscope

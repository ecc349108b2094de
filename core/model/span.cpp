#include "model/span.h"

namespace meshscope {

const char *protocolName(Protocol p)
{
    switch (p) {
    case Protocol::Http: return "http";
    case Protocol::Grpc: return "grpc";
    case Protocol::Tcp: return "tcp";
    case Protocol::Unknown: break;
    }
    return "unknown";
}

std::string traceIdHex(const TraceId &id)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (size_t i = 0; i < id.size(); ++i) {
        out[2 * i] = kHex[id[i] >> 4];
        out[2 * i + 1] = kHex[id[i] & 0xF];
    }
    return out;
}

}  // namespace meshscope

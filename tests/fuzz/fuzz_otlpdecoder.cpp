// Fuzz target for the OTLP trace decoder. Properties checked on every input:
// - decoding never crashes, and the spans it yields feed the aggregator safely;
// - wherever protobuf's own parser accepts the bytes, meshscope's wire decoder
//   accepts them too and yields exactly the spans the message-based path yields.
// Built for libFuzzer with clang (-DMESHSCOPE_FUZZ=ON); otherwise linked with
// fuzzdriver.cpp, which replays generated and mutated inputs as a ctest.

#include "graph/graphaggregator.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "telemetry/otlp/otlpdecoder.h"

#include <cstdio>
#include <cstdlib>

using namespace meshscope;

namespace {

constexpr uint64_t kNowNs = 1790000000ull * 1000000000ull;

[[noreturn]] void mismatch(const char *what)
{
    std::fprintf(stderr, "fuzz_otlpdecoder: wire and message decoders disagree: %s\n", what);
    std::abort();
}

}  // namespace

// libFuzzer reports a crash as a finding, so a broken property aborts with its name.
#define ASSERT_PROPERTY(condition, what)                                                                               \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            mismatch(what);                                                                                            \
    } while (false)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const OtlpDecoder decoder;
    DecodeResult wire = decoder.decodeBytes(data, size, kNowNs);

    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
    if (req.ParseFromArray(data, int(size))) {
        ASSERT_PROPERTY(!wire.malformed, "protobuf parsed bytes the wire decoder called malformed");
        DecodeResult ref = decoder.decode(req, kNowNs);
        ASSERT_PROPERTY(ref.received == wire.received && ref.rejected == wire.rejected && ref.reasons == wire.reasons,
            "span counts or rejection reasons");
        ASSERT_PROPERTY(ref.spans.size() == wire.spans.size(), "number of spans");
        for (size_t i = 0; i < ref.spans.size(); ++i)
            ASSERT_PROPERTY(ref.spans[i] == wire.spans[i], "span contents");  // every field, defaulted ==
    }
    if (!wire.malformed && !wire.spans.empty()) {
        AggregatorConfig cfg;
        cfg.maxNodes = 50;
        GraphAggregator agg(cfg, int64_t(kNowNs / 1000000));
        agg.ingestSpans(std::move(wire.spans), int64_t(kNowNs / 1000000));
        agg.flushPending(int64_t(kNowNs / 1000000) + 1000);
        auto snap = agg.snapshot(int64_t(kNowNs / 1000000) + 1000);
        ASSERT_PROPERTY(snap->nodes.size() <= cfg.maxNodes + 2, "node limit not honoured");
    }
    return 0;
}

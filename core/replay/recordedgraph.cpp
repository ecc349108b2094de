#include "replay/recordedgraph.h"

#include "session/recordingreader.h"

#include <algorithm>

namespace meshscope {

GraphSnapshotPtr graphOfRecording(
    RecordingReader &reader, int64_t fromMs, int64_t toMs, AggregatorConfig config, std::string &why)
{
    // One second more than the range: the window's buckets are whole seconds, so the
    // range's first events stay inside it wherever its ends fall.
    config.windowSeconds = int(std::clamp<int64_t>((toMs - fromMs + 999) / 1000 + 1, 1, 24 * 3600));
    GraphAggregator aggregator(config);
    aggregator.setReplayStart(reader.startMs());
    if (!reader.replay(aggregator, fromMs, toMs, {}, why))
        return nullptr;
    aggregator.flushPending(toMs, SpanPairer::LoneServers::Drop);
    return aggregator.snapshot(toMs);
}

}  // namespace meshscope

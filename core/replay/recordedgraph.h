#pragma once
// The graph a recording holds for a time range, as `meshscope-cli graph --from` and
// `diff` answer it and the window compares a recording with.

#include "graph/graphaggregator.h"
#include "graph/graphsnapshot.h"

#include <cstdint>
#include <string>

namespace meshscope {

class RecordingReader;

// The graph the recording's events from `fromMs` to `toMs` make, seen at `toMs` over
// that whole range (config.windowSeconds is set from it). Calls cut by the range's end
// count as the live graph would count them; a callee's half waiting for its caller is
// not taken for an outside call. Null with `why` set when the file cannot be read.
GraphSnapshotPtr graphOfRecording(
    RecordingReader &reader, int64_t fromMs, int64_t toMs, AggregatorConfig config, std::string &why);

}  // namespace meshscope

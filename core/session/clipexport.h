#pragma once
// Export clip: a time range of a recording written as a recording of its own, with the
// secrets taken out (clipscrubber.h), so an incident can be handed to a colleague and
// opened on another machine. The events keep their times, so the clip lines up with
// the original; its header names the file and range it was cut from.
//
// The clip is written under a temporary name beside the output and renamed into place
// once complete, so a failed or cancelled export never leaves a partial file behind
// under the name asked for.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace meshscope {

struct ClipOptions {
    std::string program = "meshscope";  // who cut the clip, for its header
    // More header, query or attribute names whose values are secret (ClipScrubber).
    std::vector<std::string> extraSecretNames;
    int compressionLevel = 3;  // zstd: a clip is written once and sent, so smaller pays
};

struct ClipResult {
    enum class Error {
        None,
        BadRange,  // reversed, empty, or outside the recording
        NoEvents,  // the range holds nothing to clip
        SameFile,  // the output is the recording itself
        CannotRead,
        CannotWrite,
        Cancelled,
    };
    Error error = Error::None;
    std::string message;  // why, for the user; empty on success
    bool ok() const { return error == Error::None; }

    // The range the clip covers: the one asked for, cut to the recording's.
    int64_t fromMs = 0;
    int64_t toMs = 0;
    uint64_t events = 0;  // every call recorded: span and request batches, pulls, states, route applies
    uint64_t spans = 0;
    uint64_t requests = 0;
    uint64_t pulls = 0;
    uint64_t sourceStates = 0;
    uint64_t routeApplies = 0;
    uint64_t valuesRedacted = 0;  // values replaced by "***", the header's included
    uint64_t bytes = 0;  // the clip's size
    // What could not be read from the source (damaged blocks) and is missing from the clip.
    std::vector<std::string> problems;
};

// Writes the events of `inPath` from `fromMs` to `toMs` (inclusive, ms since the epoch)
// to `outPath`, scrubbed. A range reaching past the recording is cut to it; one entirely
// outside it, reversed or empty is refused. `progress` (optional) is called after each
// block of the source with the share done so far, 0..1; returning false cancels the
// export. Runs on the calling thread (and the writer's own).
ClipResult exportClip(const std::string &inPath, int64_t fromMs, int64_t toMs, const std::string &outPath,
    const ClipOptions &options = {}, std::function<bool(double progress)> progress = {});

}  // namespace meshscope

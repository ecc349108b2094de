#pragma once
// Recordings (.msrec) of a session: RecordingWriter tees a TelemetrySink into a file,
// RecordingReader opens one and replays any time range of it. The file format is the
// contract in recordingformat.h.

#include "session/recordingreader.h"
#include "session/recordingwriter.h"

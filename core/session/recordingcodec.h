#pragma once
// Model values <-> the protobuf messages of a recording (meshscope/recording.proto).
// Kept apart from the writer and reader so that a field added to a model struct has
// one place to be added when read back (the round-trip test compares whole Spans).

#include "meshscope/recording.pb.h"
#include "model/observation.h"
#include "model/span.h"

namespace meshscope::recordingcodec {

// Spans and requests go the other way through PackedBatch (packedbatch.h), which
// packs them on the ingest thread and unpacks them into these messages.
void toProto(const PulledEdge &in, msrec::PulledEdge *out);

Span fromProto(const msrec::Span &in);
ObservedRequest fromProto(const msrec::ObservedRequest &in);
PulledEdge fromProto(const msrec::PulledEdge &in);

}  // namespace meshscope::recordingcodec

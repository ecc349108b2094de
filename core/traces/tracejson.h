#pragma once
// The trace contracts other programs read (`meshscope-cli traces` and `trace`), as JSON
// and as text for a person. Field names may be added to, never renamed.
//
// traces: {"traces":[{"trace_id","root_service","root_operation","start_unix_nano",
//          "duration_ms","span_count","error_count","services":[...]}]}
// trace:  {"trace_id","duration_ms","spans":[{"span_id","parent_span_id","service","name",
//          "kind","start_unix_nano","duration_ms","status","depth","self_ms","critical_ms"}],
//          "critical_path":[span ids, root first]}

#include "traces/criticalpath.h"
#include "traces/tracestore.h"
#include "traces/tracetree.h"

#include <QByteArray>

#include <optional>
#include <string>
#include <vector>

namespace meshscope {

QByteArray traceSummariesToJson(const std::vector<TraceSummary> &traces);
QByteArray traceSummariesToTable(const std::vector<TraceSummary> &traces);

// `tree` as shown (skew-adjusted or not), its critical path computed on it.
QByteArray traceToJson(const TraceTree &tree, const CriticalPathResult &critical);
QByteArray traceToText(const TraceTree &tree, const CriticalPathResult &critical);

// "0af7651916cd43dd8448eb211c80319c" -> the id; nullopt unless 32 hex digits (any case).
std::optional<TraceId> parseTraceIdHex(std::string_view text);

const char *spanKindName(SpanKind kind);  // "server", "client", ...
// "error" for an error span (isErrorSpan), else "ok" or "unset".
const char *spanStatusName(const Span &span);

}  // namespace meshscope

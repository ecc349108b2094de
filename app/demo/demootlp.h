#pragma once
// The demo's spans as its services' OpenTelemetry SDKs export them: one resource (and
// instrumentation scope) per service, and each span in OTLP's form.

#include "demoscenario.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace meshscope::demo {

// The service's resource attributes and scope, with no spans yet.
void fillOtlpResource(const ServiceInfo &service, opentelemetry::proto::trace::v1::ResourceSpans *out);

// `in` as an OTLP span; its strings are moved out.
void fillOtlpSpan(DemoSpan &in, opentelemetry::proto::trace::v1::Span *out);

}  // namespace meshscope::demo

#include "demootlp.h"

#include <string>
#include <string_view>

namespace meshscope::demo {

namespace otlp = opentelemetry::proto;

namespace {

void putId(uint64_t id, char (&out)[8])
{
    for (int i = 0; i < 8; ++i)
        out[i] = char(uint8_t(id >> (56 - 8 * i)));
}

void addText(google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue> *attrs, std::string_view key,
    const std::string &value)
{
    auto *kv = attrs->Add();
    kv->set_key(key.data(), key.size());
    kv->mutable_value()->set_string_value(value);
}

}  // namespace

void fillOtlpSpan(DemoSpan &in, otlp::trace::v1::Span *out)
{
    char id[8];
    out->set_trace_id(reinterpret_cast<const char *>(in.traceId.data()), in.traceId.size());
    putId(in.spanId, id);
    out->set_span_id(id, sizeof id);
    if (in.parentSpanId) {
        putId(in.parentSpanId, id);
        out->set_parent_span_id(id, sizeof id);
    }
    // W3C sampled, plus OTLP's "parent is (not) remote" bits: server spans continue a
    // trace that came over the wire, the rest have local parents.
    const bool remoteParent = in.kind == DemoSpanKind::Server && in.parentSpanId != 0;
    out->set_flags(0x101u | (remoteParent ? 0x200u : 0u));
    out->set_name(std::move(in.name));
    out->set_kind(otlp::trace::v1::Span_SpanKind(int(in.kind)));
    out->set_start_time_unix_nano(in.startNs);
    out->set_end_time_unix_nano(in.endNs);
    auto *attrs = out->mutable_attributes();
    attrs->Reserve(int(in.attributes.size()));
    for (DemoAttribute &a : in.attributes) {
        auto *kv = attrs->Add();
        kv->set_key(a.key.data(), a.key.size());
        if (a.isNumber)
            kv->mutable_value()->set_int_value(a.number);
        else if (a.view.data())
            kv->mutable_value()->set_string_value(a.view.data(), a.view.size());
        else
            kv->mutable_value()->set_string_value(std::move(a.text));
    }
    if (in.error) {
        auto *status = out->mutable_status();
        status->set_code(otlp::trace::v1::Status::STATUS_CODE_ERROR);
        status->set_message(std::move(in.statusMessage));
    }
}

void fillOtlpResource(const ServiceInfo &s, otlp::trace::v1::ResourceSpans *out)
{
    auto *resource = out->mutable_resource()->mutable_attributes();
    addText(resource, "service.name", s.name);
    addText(resource, "service.namespace", s.ns);
    addText(resource, "service.version", s.version);
    addText(resource, "service.instance.id", s.podName);
    addText(resource, "k8s.namespace.name", s.ns);
    addText(resource, "k8s.deployment.name", s.name + "-" + s.version);
    addText(resource, "k8s.pod.name", s.podName);
    addText(resource, "telemetry.sdk.name", "opentelemetry");
    addText(resource, "telemetry.sdk.language", s.language);
    addText(resource, "telemetry.sdk.version", "1.27.0");
    auto *scope = out->add_scope_spans()->mutable_scope();
    scope->set_name("meshscope-demo/" + s.name);
    scope->set_version("1.0.0");
}

}  // namespace meshscope::demo

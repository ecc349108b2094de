#include "session/packedbatch.h"

#include <cstring>
#include <type_traits>

namespace meshscope {

namespace {

class Packer {
public:
    explicit Packer(std::string &out)
        : m_out(out)
    {
    }
    template <typename T>
    void pod(T v)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        m_out.append(reinterpret_cast<const char *>(&v), sizeof v);
    }
    void str(const std::string &s)
    {
        pod(static_cast<uint32_t>(s.size()));
        m_out.append(s);
    }

private:
    std::string &m_out;
};

class Unpacker {
public:
    explicit Unpacker(const std::string &in)
        : m_p(in.data())
        , m_end(in.data() + in.size())
    {
    }
    template <typename T>
    T pod()
    {
        T v {};
        if (size_t(m_end - m_p) < sizeof v) {
            m_ok = false;
            return v;
        }
        std::memcpy(&v, m_p, sizeof v);
        m_p += sizeof v;
        return v;
    }
    // Assigns into the message's string, keeping its buffer when the message is reused.
    void str(std::string *out)
    {
        const auto n = pod<uint32_t>();
        if (size_t(m_end - m_p) < n) {
            m_ok = false;
            return;
        }
        out->assign(m_p, n);
        m_p += n;
    }
    bool good() const { return m_ok; }
    bool ok() const { return m_ok && m_p == m_end; }

private:
    const char *m_p;
    const char *m_end;
    bool m_ok = true;
};

// Fixed-size fields in one record, so packing a span is a handful of appends.
struct SpanFixed {
    uint64_t spanId;
    uint64_t parentSpanId;
    uint64_t startNs;
    uint64_t endNs;
    int64_t requestBytes;
    int64_t responseBytes;
    int32_t httpStatus;
    int32_t grpcStatus;
    uint8_t kind;
    uint8_t status;
    uint8_t protocol;
    int8_t mtls;
    uint8_t databaseCall;
    uint8_t pad[3];
};

struct RequestFixed {
    uint64_t seq;
    int64_t timeMs;
    double durationMs;
    int64_t bytes;
    uint64_t spanId;
    uint64_t parentSpanId;
    uint64_t startNs;
    int32_t httpStatus;
    int32_t grpcStatus;
    uint8_t protocol;
    uint8_t error;
    int8_t mtls;
    uint8_t spanKind;
    uint8_t pad[4];
};

void packNode(Packer &p, const NodeRef &n)
{
    p.pod(static_cast<uint8_t>(n.kind));
    p.pod(static_cast<uint8_t>(n.gateway));
    p.str(n.ns);
    p.str(n.name);
    p.str(n.version);
}

void unpackNode(Unpacker &u, msrec::NodeRef *n)
{
    n->set_kind(u.pod<uint8_t>());
    n->set_gateway(u.pod<uint8_t>() != 0);
    u.str(n->mutable_ns());
    u.str(n->mutable_name());
    u.str(n->mutable_version());
}

}  // namespace

PackedBatch PackedBatch::fromSpans(const std::vector<Span> &spans)
{
    PackedBatch b;
    size_t size = 0;
    for (const Span &s : spans) {
        size += sizeof(SpanFixed) + 16 + 11 * 4 + s.service.size() + s.serviceNamespace.size() + s.serviceVersion.size()
            + s.name.size() + s.peer.size() + s.method.size() + s.path.size() + s.authority.size()
            + s.statusMessage.size();
        for (const SpanAttribute &a : s.attributes)
            size += 9 + a.key.size() + a.value.size();
    }
    b.m_bytes.reserve(size);
    Packer p(b.m_bytes);
    for (const Span &s : spans) {
        SpanFixed f {};
        f.spanId = s.spanId;
        f.parentSpanId = s.parentSpanId;
        f.startNs = s.startNs;
        f.endNs = s.endNs;
        f.requestBytes = s.requestBytes;
        f.responseBytes = s.responseBytes;
        f.httpStatus = s.httpStatus;
        f.grpcStatus = s.grpcStatus;
        f.kind = static_cast<uint8_t>(s.kind);
        f.status = static_cast<uint8_t>(s.status);
        f.protocol = static_cast<uint8_t>(s.protocol);
        f.mtls = s.mtls;
        f.databaseCall = s.databaseCall ? 1 : 0;
        p.pod(f);
        p.pod(s.traceId);
        p.str(s.service);
        p.str(s.serviceNamespace);
        p.str(s.serviceVersion);
        p.str(s.name);
        p.str(s.peer);
        p.str(s.method);
        p.str(s.path);
        p.str(s.authority);
        p.str(s.statusMessage);
        p.pod(static_cast<uint32_t>(s.attributes.size()));
        for (const SpanAttribute &a : s.attributes) {
            p.pod(static_cast<uint8_t>(a.resource));
            p.str(a.key);
            p.str(a.value);
        }
    }
    b.m_count = static_cast<uint32_t>(spans.size());
    return b;
}

bool PackedBatch::unpackSpans(google::protobuf::RepeatedPtrField<msrec::Span> *out) const
{
    Unpacker u(m_bytes);
    out->Reserve(out->size() + static_cast<int>(m_count));
    for (uint32_t i = 0; i < m_count && u.good(); ++i) {
        msrec::Span *s = out->Add();
        const auto f = u.pod<SpanFixed>();
        const auto traceId = u.pod<TraceId>();
        s->mutable_trace_id()->assign(reinterpret_cast<const char *>(traceId.data()), traceId.size());
        s->set_span_id(f.spanId);
        s->set_parent_span_id(f.parentSpanId);
        s->set_kind(f.kind);
        s->set_status(f.status);
        s->set_protocol(f.protocol);
        u.str(s->mutable_service());
        u.str(s->mutable_service_namespace());
        u.str(s->mutable_service_version());
        u.str(s->mutable_name());
        s->set_start_ns(f.startNs);
        s->set_end_ns(f.endNs);
        u.str(s->mutable_peer());
        u.str(s->mutable_method());
        u.str(s->mutable_path());
        u.str(s->mutable_authority());
        s->set_http_status(f.httpStatus);
        s->set_grpc_status(f.grpcStatus);
        s->set_request_bytes(f.requestBytes);
        s->set_response_bytes(f.responseBytes);
        s->set_mtls(f.mtls);
        s->set_database_call(f.databaseCall != 0);
        u.str(s->mutable_status_message());
        const auto attributes = u.pod<uint32_t>();
        for (uint32_t k = 0; k < attributes && u.good(); ++k) {
            msrec::SpanAttribute *a = s->add_attributes();
            a->set_resource(u.pod<uint8_t>() != 0);
            u.str(a->mutable_key());
            u.str(a->mutable_value());
        }
    }
    return u.ok();
}

PackedBatch PackedBatch::fromRequests(const std::vector<ObservedRequest> &requests)
{
    PackedBatch b;
    Packer p(b.m_bytes);
    for (const ObservedRequest &r : requests) {
        packNode(p, r.source);
        packNode(p, r.target);
        const RequestEvent &e = r.event;
        RequestFixed f {};
        f.seq = e.seq;
        f.timeMs = e.timeMs;
        f.durationMs = e.durationMs;
        f.bytes = e.bytes;
        f.httpStatus = e.httpStatus;
        f.grpcStatus = e.grpcStatus;
        f.protocol = static_cast<uint8_t>(e.protocol);
        f.error = e.error ? 1 : 0;
        f.mtls = e.mtls;
        f.spanId = e.spanId;
        f.parentSpanId = e.parentSpanId;
        f.startNs = e.startNs;
        f.spanKind = static_cast<uint8_t>(e.spanKind);
        p.pod(f);
        p.str(e.sourceId);
        p.str(e.targetId);
        p.str(e.method);
        p.str(e.path);
        p.str(e.authority);
        p.str(e.traceId);
        p.str(e.origin);
        p.str(e.upstreamCluster);
        p.str(e.responseFlags);
    }
    b.m_count = static_cast<uint32_t>(requests.size());
    return b;
}

bool PackedBatch::unpackRequests(google::protobuf::RepeatedPtrField<msrec::ObservedRequest> *out) const
{
    Unpacker u(m_bytes);
    out->Reserve(out->size() + static_cast<int>(m_count));
    for (uint32_t i = 0; i < m_count && u.good(); ++i) {
        msrec::ObservedRequest *r = out->Add();
        unpackNode(u, r->mutable_source());
        unpackNode(u, r->mutable_target());
        msrec::RequestEvent *e = r->mutable_event();
        const auto f = u.pod<RequestFixed>();
        e->set_seq(f.seq);
        e->set_time_ms(f.timeMs);
        e->set_duration_ms(f.durationMs);
        e->set_bytes(f.bytes);
        e->set_http_status(f.httpStatus);
        e->set_grpc_status(f.grpcStatus);
        e->set_protocol(f.protocol);
        e->set_error(f.error != 0);
        e->set_mtls(f.mtls);
        e->set_span_id(f.spanId);
        e->set_parent_span_id(f.parentSpanId);
        e->set_start_ns(f.startNs);
        e->set_span_kind(f.spanKind);
        u.str(e->mutable_source_id());
        u.str(e->mutable_target_id());
        u.str(e->mutable_method());
        u.str(e->mutable_path());
        u.str(e->mutable_authority());
        u.str(e->mutable_trace_id());
        u.str(e->mutable_origin());
        u.str(e->mutable_upstream_cluster());
        u.str(e->mutable_response_flags());
    }
    return u.ok();
}

}  // namespace meshscope

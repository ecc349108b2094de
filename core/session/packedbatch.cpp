#include "session/packedbatch.h"

#include "model/varint.h"

#include <cstring>
#include <string_view>
#include <type_traits>

namespace meshscope {

namespace {

// Packing runs on the ingest thread, so it is two plain passes over a batch: one adds
// up the exact size, one copies into a buffer of that size through a cursor, with no
// growth checks on the way. The same code (packSpan, packRequest) drives both.
class Measure {
public:
    template <typename T>
    void pod(T)
    {
        m_size += sizeof(T);
    }
    void str(const std::string &s) { m_size += sizeof(uint32_t) + s.size(); }
    size_t size() const { return m_size; }

private:
    size_t m_size = 0;
};

class Packer {
public:
    explicit Packer(char *out)
        : m_p(out)
    {
    }
    template <typename T>
    void pod(T v)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        std::memcpy(m_p, &v, sizeof v);
        m_p += sizeof v;
    }
    void str(const std::string &s)
    {
        pod(static_cast<uint32_t>(s.size()));
        std::memcpy(m_p, s.data(), s.size());
        m_p += s.size();
    }
    const char *end() const { return m_p; }

private:
    char *m_p;
};

// Reads a packed buffer back in the order it was packed.
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
    std::string_view str()
    {
        const auto n = pod<uint32_t>();
        if (size_t(m_end - m_p) < n) {
            m_ok = false;
            return {};
        }
        const std::string_view s(m_p, n);
        m_p += n;
        return s;
    }
    bool good() const { return m_ok; }
    bool ok() const { return m_ok && m_p == m_end; }

private:
    const char *m_p;
    const char *m_end;
    bool m_ok = true;
};

// Protobuf wire format for proto3 fields, written as protobuf's serializer writes
// them: fields in number order (the callers' job), values equal to their default left
// out, so the bytes are the same as SerializeToString of the message would give.
class Wire {
public:
    explicit Wire(std::string &out)
        : m_out(out)
    {
    }
    void varint(uint64_t v) { appendVarint(m_out, v); }
    void tag(uint32_t field, uint32_t wireType) { varint((uint64_t(field) << 3) | wireType); }
    // uint32, uint64, int64 and bool fields.
    void unsignedField(uint32_t field, uint64_t v)
    {
        if (v != 0) {
            tag(field, 0);
            varint(v);
        }
    }
    void sint32Field(uint32_t field, int32_t v)
    {
        unsignedField(field, (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
    }
    void sint64Field(uint32_t field, int64_t v)
    {
        unsignedField(field, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
    }
    void fixed64Field(uint32_t field, uint64_t v)
    {
        if (v != 0) {
            tag(field, 1);
            char le[8];
            for (int i = 0; i < 8; ++i)
                le[i] = static_cast<char>(v >> (8 * i));
            m_out.append(le, 8);
        }
    }
    void doubleField(uint32_t field, double v)
    {
        uint64_t bits = 0;
        std::memcpy(&bits, &v, sizeof bits);
        fixed64Field(field, bits);
    }
    void bytesField(uint32_t field, std::string_view s)
    {
        if (!s.empty())
            message(field, s);
    }
    // A length-delimited field written even when empty: a present sub-message.
    void message(uint32_t field, std::string_view body)
    {
        tag(field, 2);
        varint(body.size());
        m_out.append(body);
    }

private:
    std::string &m_out;
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

template <typename Out>
void packNode(Out &p, const NodeRef &n)
{
    p.pod(static_cast<uint8_t>(n.kind));
    p.pod(static_cast<uint8_t>(n.gateway));
    p.str(n.ns);
    p.str(n.name);
    p.str(n.version);
}

// An msrec::NodeRef's body.
bool encodeNode(Unpacker &u, std::string &body)
{
    body.clear();
    Wire w(body);
    const auto kind = u.pod<uint8_t>();
    const auto gateway = u.pod<uint8_t>();
    w.unsignedField(1, kind);
    w.bytesField(2, u.str());
    w.bytesField(3, u.str());
    w.bytesField(4, u.str());
    w.unsignedField(5, gateway != 0);
    return u.good();
}

template <typename Out>
void packSpan(Out &p, const Span &s)
{
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

template <typename Out>
void packRequest(Out &p, const ObservedRequest &r)
{
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

template <typename T, typename PackOne>
std::string packAll(const std::vector<T> &items, PackOne packOne)
{
    Measure m;
    for (const T &item : items)
        packOne(m, item);
    std::string bytes(m.size(), '\0');
    Packer p(bytes.data());
    for (const T &item : items)
        packOne(p, item);
    return bytes;
}

}  // namespace

PackedBatch PackedBatch::fromSpans(const std::vector<Span> &spans)
{
    PackedBatch b;
    b.m_bytes = packAll(spans, [](auto &p, const Span &s) { packSpan(p, s); });
    b.m_count = static_cast<uint32_t>(spans.size());
    return b;
}

bool PackedBatch::encodeSpans(std::string &out) const
{
    Unpacker u(m_bytes);
    Wire batch(out);
    std::string span;
    std::string attribute;
    for (uint32_t i = 0; i < m_count && u.good(); ++i) {
        const auto f = u.pod<SpanFixed>();
        const auto traceId = u.pod<TraceId>();
        // In the order they were packed; written below in field-number order.
        const std::string_view service = u.str(), serviceNamespace = u.str(), serviceVersion = u.str(), name = u.str(),
                               peer = u.str(), method = u.str(), path = u.str(), authority = u.str(),
                               statusMessage = u.str();
        span.clear();
        Wire w(span);
        w.message(1, std::string_view(reinterpret_cast<const char *>(traceId.data()), traceId.size()));
        w.fixed64Field(2, f.spanId);
        w.fixed64Field(3, f.parentSpanId);
        w.unsignedField(4, f.kind);
        w.unsignedField(5, f.status);
        w.unsignedField(6, f.protocol);
        w.bytesField(7, service);
        w.bytesField(8, serviceNamespace);
        w.bytesField(9, serviceVersion);
        w.bytesField(10, name);
        w.fixed64Field(11, f.startNs);
        w.fixed64Field(12, f.endNs);
        w.bytesField(13, peer);
        w.bytesField(14, method);
        w.bytesField(15, path);
        w.bytesField(16, authority);
        w.sint32Field(17, f.httpStatus);
        w.sint32Field(18, f.grpcStatus);
        w.sint64Field(19, f.requestBytes);
        w.sint64Field(20, f.responseBytes);
        w.sint32Field(21, f.mtls);
        w.unsignedField(22, f.databaseCall != 0);
        w.bytesField(23, statusMessage);
        const auto attributes = u.pod<uint32_t>();
        for (uint32_t k = 0; k < attributes && u.good(); ++k) {
            const auto resource = u.pod<uint8_t>();
            const std::string_view key = u.str(), value = u.str();
            attribute.clear();
            Wire a(attribute);
            a.bytesField(1, key);
            a.bytesField(2, value);
            a.unsignedField(3, resource != 0);
            w.message(24, attribute);
        }
        batch.message(1, span);
    }
    return u.ok();
}

PackedBatch PackedBatch::fromRequests(const std::vector<ObservedRequest> &requests)
{
    PackedBatch b;
    b.m_bytes = packAll(requests, [](auto &p, const ObservedRequest &r) { packRequest(p, r); });
    b.m_count = static_cast<uint32_t>(requests.size());
    return b;
}

bool PackedBatch::encodeRequests(std::string &out) const
{
    Unpacker u(m_bytes);
    Wire batch(out);
    std::string request;
    std::string part;
    for (uint32_t i = 0; i < m_count && u.good(); ++i) {
        request.clear();
        Wire r(request);
        if (!encodeNode(u, part))
            break;
        r.message(1, part);
        if (!encodeNode(u, part))
            break;
        r.message(2, part);
        const auto f = u.pod<RequestFixed>();
        const std::string_view sourceId = u.str(), targetId = u.str(), method = u.str(), path = u.str(),
                               authority = u.str(), traceId = u.str(), origin = u.str(), upstreamCluster = u.str(),
                               responseFlags = u.str();
        part.clear();
        Wire e(part);
        e.unsignedField(1, f.seq);
        e.unsignedField(2, static_cast<uint64_t>(f.timeMs));
        e.bytesField(3, sourceId);
        e.bytesField(4, targetId);
        e.unsignedField(5, f.protocol);
        e.bytesField(6, method);
        e.bytesField(7, path);
        e.bytesField(8, authority);
        e.sint32Field(9, f.httpStatus);
        e.sint32Field(10, f.grpcStatus);
        e.unsignedField(11, f.error != 0);
        e.doubleField(12, f.durationMs);
        e.sint64Field(13, f.bytes);
        e.sint32Field(14, f.mtls);
        e.bytesField(15, traceId);
        e.bytesField(16, origin);
        e.fixed64Field(17, f.spanId);
        e.fixed64Field(18, f.parentSpanId);
        e.fixed64Field(19, f.startNs);
        e.unsignedField(20, f.spanKind);
        e.bytesField(21, upstreamCluster);
        e.bytesField(22, responseFlags);
        r.message(3, part);
        batch.message(1, request);
    }
    return u.ok();
}

}  // namespace meshscope

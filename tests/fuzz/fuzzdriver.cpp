// Stand-in for libFuzzer's driver when the compiler has none (g++): generates valid
// OTLP exports, mutates them (bit flips, truncation, splicing, random bytes) and runs
// the fuzz target on each, so the properties are checked on every CI run.
// Usage: fuzz_otlpdecoder_smoke [iterations] [seed]

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

namespace otlp = opentelemetry::proto;

void attr(
    google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue> *attrs, const std::string &k, const std::string &v)
{
    auto *kv = attrs->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
}

std::string validExport(std::mt19937_64 &rng)
{
    static const char *kKeys[] = {"peer.service", "server.address", "http.method", "http.request.method",
        "http.status_code", "http.response.status_code", "url.full", "url.path", "rpc.system", "rpc.grpc.status_code",
        "db.system", "error", "grpc.path"};
    static const char *kValues[] = {"GET", "200", "503", "grpc", "true", "reviews", "https://x.example/a?b", "postgres",
        "\xff\xfe", "14", "UNAVAILABLE", ""};
    otlp::collector::trace::v1::ExportTraceServiceRequest req;
    const int resources = 1 + int(rng() % 3);
    for (int r = 0; r < resources; ++r) {
        auto *rs = req.add_resource_spans();
        attr(rs->mutable_resource()->mutable_attributes(), "service.name", "svc" + std::to_string(rng() % 5));
        if (rng() % 2)
            attr(rs->mutable_resource()->mutable_attributes(), "service.namespace", "ns" + std::to_string(rng() % 2));
        auto *ss = rs->add_scope_spans();
        const int spans = 1 + int(rng() % 6);
        for (int i = 0; i < spans; ++i) {
            auto *s = ss->add_spans();
            std::string tid(16, '\0'), sid(8, '\0'), pid(8, '\0');
            for (auto &c : tid)
                c = char(rng() % 4);
            for (auto &c : sid)
                c = char(rng() % 4);
            for (auto &c : pid)
                c = char(rng() % 4);
            s->set_trace_id(tid);
            s->set_span_id(sid);
            if (rng() % 2)
                s->set_parent_span_id(pid);
            s->set_kind(otlp::trace::v1::Span::SpanKind(rng() % 6));
            const uint64_t start = 1790000000ull * 1000000000ull + rng() % 1000000000ull;
            s->set_start_time_unix_nano(start);
            s->set_end_time_unix_nano(start + rng() % 100000000ull);
            s->set_name("op");
            const int attrs = int(rng() % 5);
            for (int a = 0; a < attrs; ++a)
                attr(s->mutable_attributes(), kKeys[rng() % std::size(kKeys)], kValues[rng() % std::size(kValues)]);
            if (rng() % 3 == 0)
                s->mutable_status()->set_code(otlp::trace::v1::Status::StatusCode(rng() % 3));
        }
    }
    return req.SerializeAsString();
}

void mutate(std::string &s, std::mt19937_64 &rng)
{
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t pos = rng() % s.size();
        switch (rng() % 5) {
        case 0: s[pos] = char(s[pos] ^ (1 << (rng() % 8))); break;
        case 1: s.resize(pos); break;
        case 2: s.insert(pos, 1, char(rng())); break;
        case 3: s.erase(pos, 1 + rng() % 8); break;
        case 4: s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16)); break;
        }
    }
}

}  // namespace

int main(int argc, char **argv)
{
    const long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
    std::mt19937_64 rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20261122);
    long mutated = 0;
    for (long i = 0; i < iterations; ++i) {
        std::string input = validExport(rng);
        if (i % 4 != 0) {
            mutate(input, rng);
            ++mutated;
        }
        // The target aborts on a broken property; a non-zero return is a broken harness.
        if (LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size()) != 0) {
            std::fprintf(stderr, "fuzz_otlpdecoder_smoke: assertion failed: target rejected input %ld\n", i);
            return 1;
        }
    }
    std::printf("fuzz_otlpdecoder_smoke: %ld inputs (%ld mutated), all properties held\n", iterations, mutated);
    return 0;
}

#pragma once
// The demo mesh: which services exist and what one request entering at the ingress
// gateway does inside it, as the tree of spans the services' tracing SDKs would
// record. Deterministic: everything comes from the seed, the random generator and the
// times passed in, so one seed gives runs of the same shape. Knows nothing of OTLP or
// gRPC.

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace meshscope::demo {

// One instrumented workload (one OTLP resource).
struct ServiceInfo {
    std::string name;
    std::string ns;
    std::string version;
    std::string language;  // telemetry.sdk.language
    std::string podName;
    std::string host;  // the cluster DNS name callers dial
};

// Text values are either owned by the span or, when they outlive it (literals, names
// the scenario holds), only viewed: that saves allocations at 100k spans a second.
struct DemoAttribute {
    std::string_view key;  // always a string literal
    std::string_view view;
    std::string text;
    int64_t number = 0;
    bool isNumber = false;

    std::string_view textValue() const { return view.data() ? view : std::string_view(text); }

    static DemoAttribute str(std::string_view key, std::string value) { return {key, {}, std::move(value), 0, false}; }
    static DemoAttribute lit(std::string_view key, std::string_view value) { return {key, value, {}, 0, false}; }
    static DemoAttribute num(std::string_view key, int64_t value) { return {key, {}, {}, value, true}; }
};

// Values match OTLP's SpanKind so the sender can pass them straight through.
enum class DemoSpanKind : int { Internal = 1, Server = 2, Client = 3 };

struct DemoSpan {
    size_t service = 0;  // index into DemoScenario::services()
    std::array<uint8_t, 16> traceId {};
    uint64_t spanId = 0;
    uint64_t parentSpanId = 0;  // 0: root
    DemoSpanKind kind = DemoSpanKind::Internal;
    std::string name;
    uint64_t startNs = 0;
    uint64_t endNs = 0;
    bool error = false;
    std::string statusMessage;
    std::vector<DemoAttribute> attributes;
};

class DemoScenario {
public:
    // originNs anchors the periodic inventory slowdown to the start of the run, so it
    // comes at the same point of every run; seed only names the pods.
    DemoScenario(uint64_t seed, uint64_t originNs);

    const std::vector<ServiceInfo> &services() const { return m_services; }

    // Appends the spans of one request that reaches the ingress gateway at startNs.
    // Spans end after startNs (up to about a second later when inventory is slow).
    // Not const: injected faults draw on a running budget (see FaultBudget).
    void generateRequest(std::mt19937_64 &rng, uint64_t startNs, std::vector<DemoSpan> &out);

    // Inventory is about ten times slower for 10 s of every minute of the run.
    bool inventorySlowAt(uint64_t timeNs) const;

    // Faults come from an accumulator that rises by a random step per request and
    // trips at 1, rather than from independent coin flips: still irregular, but even
    // a few seconds of traffic show close to the nominal rate.
    struct FaultBudget {
        double level = 0.5;
        bool trip(std::mt19937_64 &rng, double rate);
    };

private:
    std::vector<ServiceInfo> m_services;
    uint64_t m_originNs;
    FaultBudget m_paymentsUnavailable;  // 503 from payments
    FaultBudget m_cartNotFound;  // 404 from cart
};

}  // namespace meshscope::demo

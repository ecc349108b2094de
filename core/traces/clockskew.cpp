#include "traces/clockskew.h"

#include <cstdio>
#include <string_view>
#include <unordered_map>

namespace meshscope {

namespace {

// A signed duration for a note: "+3.2 ms", "-850 µs", "+1.25 s".
std::string signedDuration(int64_t ns)
{
    const char sign = ns < 0 ? '-' : '+';
    const double a = double(ns < 0 ? -ns : ns);
    char buf[48];
    if (a >= 1e9)
        std::snprintf(buf, sizeof buf, "%c%.2f s", sign, a / 1e9);
    else if (a >= 1e6)
        std::snprintf(buf, sizeof buf, "%c%.1f ms", sign, a / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%c%.0f \xC2\xB5s", sign, a / 1e3);
    return buf;
}

// The value of host.id, else host.ip, else host.name among the resource attributes.
const std::string *hostAttribute(const Span &span)
{
    const std::string *found[3] = {nullptr, nullptr, nullptr};
    for (const SpanAttribute &a : span.attributes) {
        if (!a.resource || a.value.empty())
            continue;
        if (a.key == "host.id")
            found[0] = &a.value;
        else if (a.key == "host.ip")
            found[1] = &a.value;
        else if (a.key == "host.name")
            found[2] = &a.value;
    }
    for (const std::string *f : found) {
        if (f)
            return f;
    }
    return nullptr;
}

uint64_t shifted(uint64_t t, int64_t delta)
{
    if (delta < 0 && uint64_t(-delta) > t)
        return 0;
    return t + uint64_t(delta);
}

}  // namespace

std::string spanHostKey(const Span &span)
{
    const std::string *host = hostAttribute(span);
    return host ? *host : "service:" + span.service;
}

ClockSkewResult adjustClockSkew(TraceTree tree)
{
    ClockSkewResult out;
    const uint32_t n = uint32_t(tree.size());
    std::vector<int64_t> delta(n, 0);

    // Host keys as small numbers, as spanHostKey() would name them, without building a
    // string per span: the views point into the spans, which outlive the maps.
    std::vector<uint32_t> host(n, 0);
    {
        std::unordered_map<std::string_view, uint32_t> byHost, byService;
        uint32_t next = 0;
        for (uint32_t i = 0; i < n; ++i) {
            const Span &s = tree.spans[i];
            const std::string *h = hostAttribute(s);
            auto &ids = h ? byHost : byService;
            const auto [it, added] = ids.try_emplace(h ? std::string_view(*h) : std::string_view(s.service), next);
            next += added ? 1 : 0;
            host[i] = it->second;
        }
    }

    size_t noted = 0;
    size_t unnoted = 0;
    // Pre-order: the parent is adjusted before its children are looked at, as in Jaeger.
    for (uint32_t i = 0; i < n; ++i) {
        const int32_t p = tree.parent[i];
        if (p < 0 || tree.isSynthetic(uint32_t(p)))
            continue;
        const uint32_t q = uint32_t(p);
        Span &child = tree.spans[i];
        if (host[i] == host[q]) {
            delta[i] = delta[q];
        } else {
            const Span &parent = tree.spans[q];
            const int64_t parentStart = int64_t(parent.startNs);
            const int64_t parentDuration = int64_t(parent.endNs - parent.startNs);
            const int64_t start = int64_t(child.startNs);
            const int64_t duration = int64_t(child.endNs - child.startNs);
            bool async = false;
            if (duration > parentDuration) {
                // Nothing to centre on; the best that can be said is it did not start early.
                async = true;
                delta[i] = start < parentStart ? parentStart - start : 0;
            } else if (start >= parentStart && start + duration <= parentStart + parentDuration) {
                delta[i] = 0;
            } else {
                delta[i] = parentStart + (parentDuration - duration) / 2 - start;
            }
            if (delta[i] != 0) {
                if (noted < kMaxClockSkewNotes) {
                    ++noted;
                    out.notes.push_back(child.service + ": shifted " + signedDuration(delta[i])
                        + (async ? " to start no earlier than its parent " : " into its parent ") + parent.service
                        + (async ? " (clock skew; it runs longer than the parent, so only its start was fixed)"
                                 : " (clock skew)"));
                } else {
                    ++unnoted;
                }
            }
        }
        if (delta[i] != 0) {
            child.startNs = shifted(child.startNs, delta[i]);
            child.endNs = shifted(child.endNs, delta[i]);
        }
    }
    if (unnoted > 0)
        out.notes.push_back("... and " + std::to_string(unnoted) + " more spans shifted for clock skew");

    if (noted == 0) {  // nothing moved, nothing to re-sort
        out.adjustmentNs = std::move(delta);
        out.tree = std::move(tree);
        return out;
    }
    const std::vector<uint32_t> position = resortTraceTree(tree);
    out.adjustmentNs.assign(n, 0);
    for (uint32_t i = 0; i < n; ++i)
        out.adjustmentNs[position[i]] = delta[i];
    out.tree = std::move(tree);
    return out;
}

}  // namespace meshscope

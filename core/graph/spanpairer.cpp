#include "graph/spanpairer.h"

#include <algorithm>
#include <cstring>

namespace meshscope {

namespace {
constexpr size_t kMaxUntracedPeers = 10000;

uint64_t keyOf(const TraceId &trace, uint64_t spanId)
{
    uint64_t lo = 0;
    std::memcpy(&lo, trace.data() + 8, 8);
    return spanId ^ (lo * 0x9E3779B97F4A7C15ull);
}
}  // namespace

SpanPairer::SpanPairer(int64_t ttlMs)
    : m_ttlMs(ttlMs)
{
    m_entries.reserve(4096);
}

SpanPairer::Entry &SpanPairer::entryFor(uint64_t key, int64_t nowMs)
{
    auto [it, inserted] = m_entries.try_emplace(key);
    if (inserted) {
        it->second.expiresMs = nowMs + m_ttlMs;
        m_expiry.emplace_back(it->second.expiresMs, key);
    }
    return it->second;
}

void SpanPairer::add(Span &&span, int64_t nowMs, std::vector<PairedRequest> &out)
{
    if (span.isClientSide()) {
        Entry &e = entryFor(keyOf(span.traceId, span.spanId), nowMs);
        if (e.clientSeen) {
            m_counters.duplicates++;
            return;
        }
        e.clientSeen = true;
        if (e.waitingServers.empty() && (span.databaseCall || m_untracedPeers.count(span.peer))) {
            e.fastTracked = true;
            e.paired = true;
            e.fastPeer = span.peer;
            PairedRequest r;
            r.client = std::make_unique<Span>(std::move(span));
            out.push_back(std::move(r));
            m_counters.fastTracked++;
            return;
        }
        if (e.waitingServers.empty()) {
            e.client = std::make_unique<Span>(std::move(span));
            m_waitingHalves++;
            return;
        }
        m_waitingHalves -= e.waitingServers.size();
        if (!m_untracedPeers.empty())
            m_untracedPeers.erase(span.peer);
        // The server half (or halves) came first.
        for (size_t i = 0; i < e.waitingServers.size(); ++i) {
            PairedRequest r;
            r.client = std::make_unique<Span>(i + 1 == e.waitingServers.size() ? std::move(span) : span);
            r.server = std::make_unique<Span>(std::move(e.waitingServers[i]));
            out.push_back(std::move(r));
            m_counters.paired++;
        }
        e.waitingServers.clear();
        e.paired = true;
        return;
    }
    if (!span.isServerSide()) {
        m_counters.ignored++;
        return;
    }
    if (span.parentSpanId == 0) {
        // Root server span: the request came from outside the traced world. The
        // entry under its own id only remembers it, so a resent copy is not counted.
        Entry &e = entryFor(keyOf(span.traceId, span.spanId), nowMs);
        if (e.rootSeen) {
            m_counters.duplicates++;
            return;
        }
        e.rootSeen = true;
        PairedRequest r;
        r.server = std::make_unique<Span>(std::move(span));
        r.root = true;
        out.push_back(std::move(r));
        m_counters.roots++;
        return;
    }
    Entry &e = entryFor(keyOf(span.traceId, span.parentSpanId), nowMs);
    if (std::find(e.serverIds.begin(), e.serverIds.end(), span.spanId) != e.serverIds.end()) {
        m_counters.duplicates++;
        return;
    }
    e.serverIds.push_back(span.spanId);
    if (e.client) {
        // A pair proves the peer is traced: its next calls wait for their partner.
        if (!m_untracedPeers.empty())
            m_untracedPeers.erase(e.client->peer);
        PairedRequest r;
        r.client = std::move(e.client);
        r.server = std::make_unique<Span>(std::move(span));
        out.push_back(std::move(r));
        e.paired = true;
        m_waitingHalves--;
        m_counters.paired++;
        return;
    }
    if (e.fastTracked) {
        // The peer is traced after all: its requests were already counted towards it
        // as untraced, so this half is dropped rather than counted twice, and the
        // peer's next calls wait for their partner again.
        m_untracedPeers.erase(e.fastPeer);
        m_counters.lateServerHalves++;
        return;
    }
    if (e.paired) {
        // A second server child of an already paired client span: its caller is
        // known only by id, which is gone; count it as a request of unknown origin.
        PairedRequest r;
        r.server = std::make_unique<Span>(std::move(span));
        out.push_back(std::move(r));
        m_counters.expiredServers++;
        return;
    }
    e.waitingServers.push_back(std::move(span));
    m_waitingHalves++;
}

void SpanPairer::resolve(Entry &e, std::vector<PairedRequest> &out)
{
    if (e.client) {
        if (!e.client->peer.empty() && m_untracedPeers.size() < kMaxUntracedPeers)
            m_untracedPeers.insert(e.client->peer);
        PairedRequest r;
        r.client = std::move(e.client);
        out.push_back(std::move(r));
        m_counters.expiredClients++;
        m_waitingHalves--;
    }
    m_waitingHalves -= e.waitingServers.size();
    for (Span &s : e.waitingServers) {
        PairedRequest r;
        r.server = std::make_unique<Span>(std::move(s));
        out.push_back(std::move(r));
        m_counters.expiredServers++;
    }
    e.waitingServers.clear();
}

void SpanPairer::expire(int64_t nowMs, std::vector<PairedRequest> &out)
{
    while (!m_expiry.empty() && m_expiry.front().first <= nowMs) {
        const auto [when, key] = m_expiry.front();
        m_expiry.pop_front();
        auto it = m_entries.find(key);
        if (it == m_entries.end() || it->second.expiresMs != when)
            continue;
        Entry &e = it->second;
        // Created within a time-to-live of the cut: its caller's half may be before it.
        if (m_cutBeforeMs != INT64_MIN && !e.client && !e.waitingServers.empty()
            && e.expiresMs - m_ttlMs < m_cutBeforeMs + m_ttlMs) {
            m_counters.cutOffServers += e.waitingServers.size();
            m_waitingHalves -= e.waitingServers.size();
            e.waitingServers.clear();
        }
        resolve(e, out);
        m_entries.erase(it);
    }
}

void SpanPairer::flush(std::vector<PairedRequest> &out, LoneServers lone)
{
    for (auto &[key, e] : m_entries) {
        if (lone == LoneServers::Drop && !e.client && !e.waitingServers.empty()) {
            m_counters.cutOffServers += e.waitingServers.size();
            m_waitingHalves -= e.waitingServers.size();
            e.waitingServers.clear();
        }
        resolve(e, out);
    }
    m_entries.clear();
    m_expiry.clear();
}

}  // namespace meshscope

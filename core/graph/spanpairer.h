#pragma once
// Pairs the client half of a request (CLIENT/PRODUCER span in the caller) with its
// server half (SERVER/CONSUMER child span in the callee), as Tempo's service-graph
// connector does. Halves arrive in any order and in different batches, so unmatched
// halves wait in a store with a time-to-live; when it runs out, a lone client span
// still counts (towards the peer it names) and a lone server span counts as called
// by an unknown caller. Waiting costs freshness, so client spans towards peers that
// are known not to be traced (databases, and peers whose calls went unanswered
// before) count at once. Not thread-safe: the aggregator serialises access.

#include "model/span.h"

#include <climits>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace meshscope {

struct PairedRequest {
    std::unique_ptr<Span> client;  // null: caller unknown (root or unmatched server span)
    std::unique_ptr<Span> server;  // null: callee not instrumented (unmatched client span)
    bool root = false;  // server span without a parent: a request from outside
};

struct PairerCounters {
    uint64_t paired = 0;
    uint64_t roots = 0;
    uint64_t expiredClients = 0;
    uint64_t expiredServers = 0;
    uint64_t duplicates = 0;  // a span id seen twice (a resent export), dropped
    // Server halves of requests already counted at once towards an untraced peer:
    // dropped so the request is not counted twice; the peer is then traced again.
    uint64_t lateServerHalves = 0;
    uint64_t ignored = 0;  // INTERNAL / unspecified spans
    uint64_t fastTracked = 0;  // client spans counted at once towards an untraced peer
    uint64_t cutOffServers = 0;  // server halves dropped by flush(LoneServers::Drop)
};

class SpanPairer {
public:
    explicit SpanPairer(int64_t ttlMs = 10000);

    void add(Span &&span, int64_t nowMs, std::vector<PairedRequest> &out);
    // Resolves every half whose time-to-live ran out by nowMs.
    void expire(int64_t nowMs, std::vector<PairedRequest> &out);
    // Resolves every waiting half now (end of a capture). At the end of a recording a
    // server half still waiting has its caller's half after the cut, not an outside
    // caller: LoneServers::Drop leaves it out (counted in cutOffServers) instead of
    // inventing a call from "external". Lone client halves count towards their peer
    // either way, as at expiry.
    enum class LoneServers { FromOutside, Drop };
    void flush(std::vector<PairedRequest> &out, LoneServers lone = LoneServers::FromOutside);

    // A replay that begins at `ms` (a recording's start): a server half that first came
    // within one time-to-live after it and never found its caller may have had that
    // caller's half before the cut; at expiry it is left out (cutOffServers) instead of
    // counted as a call from "external", as flush(Drop) does at the end.
    void setCutBefore(int64_t ms) { m_cutBeforeMs = ms; }

    // Halves still waiting for their partner (not the remembered, already paired ones).
    size_t pending() const { return m_waitingHalves; }
    const PairerCounters &counters() const { return m_counters; }
    int64_t ttlMs() const { return m_ttlMs; }

private:
    // Keyed by the client span id (the server span's parent id) mixed with the trace
    // id, so that two traces reusing a span id do not meet.
    struct Entry {
        int64_t expiresMs = 0;
        std::unique_ptr<Span> client;
        std::vector<Span> waitingServers;
        std::vector<uint64_t> serverIds;  // server span ids seen: duplicate detection
        bool clientSeen = false;
        bool rootSeen = false;  // a root server span with this id was counted
        bool paired = false;
        bool fastTracked = false;  // counted without waiting; a late server half is dropped
        std::string fastPeer;
    };
    Entry &entryFor(uint64_t key, int64_t nowMs);
    void resolve(Entry &e, std::vector<PairedRequest> &out);

    int64_t m_ttlMs;
    int64_t m_cutBeforeMs = INT64_MIN;  // setCutBefore
    std::unordered_map<uint64_t, Entry> m_entries;
    std::deque<std::pair<int64_t, uint64_t>> m_expiry;
    PairerCounters m_counters;
    size_t m_waitingHalves = 0;
    // Peers whose client spans expired unanswered: their calls are not traced.
    std::unordered_set<std::string> m_untracedPeers;
};

}  // namespace meshscope

#pragma once
// What the fuzz targets share: the input cap, how a broken property is reported, and
// how an input that would only repeat a known, still open finding is set aside.
// libFuzzer treats an abort as a finding and saves the input that caused it; the
// smoke driver (fuzzsmoke.cpp) stops at the same abort and saves the input too, so a
// CI run fails on it and can be replayed.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace meshscope::fuzz {

// Larger inputs are skipped: every document these parsers read in practice is far
// smaller, and a bigger one only slows the run down without reaching new code.
// libFuzzer's -rss_limit_mb catches whatever a smaller input still makes explode.
inline constexpr size_t kMaxInputBytes = size_t(1) << 20;

[[noreturn]] inline void propertyBroken(const char *target, const char *what, const char *file, int line)
{
    std::fprintf(stderr, "%s: property broken: %s (%s:%d)\n", target, what, file, line);
    std::fflush(stderr);
    std::abort();
}

// Inputs set aside per known finding, for the smoke driver's summary.
inline std::map<std::string, uint64_t> &knownFindingCounts()
{
    static std::map<std::string, uint64_t> counts;
    return counts;
}

// Findings reported and still open in core (listed in docs/fuzzing.md). A target tests
// for its own before it calls into core, with a predicate on the input as narrow as
// the finding allows, so that CI stays green and a long run explores past them instead
// of stopping at the same place again. Configuring with -DMESHSCOPE_FUZZ_REPORT_KNOWN=ON
// turns every guard off, which reproduces them; once core is fixed, delete the guard.
inline bool knownFinding(bool applies, const char *id)
{
#if MESHSCOPE_FUZZ_REPORT_KNOWN
    (void)id;
    (void)applies;
    return false;
#else
    if (applies)
        ++knownFindingCounts()[id];
    return applies;
#endif
}

}  // namespace meshscope::fuzz

// Each target names itself in `kFuzzTarget` so that a report says which one broke.
#define ASSERT_PROPERTY(condition, what)                                                                               \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            ::meshscope::fuzz::propertyBroken(kFuzzTarget, what, __FILE__, __LINE__);                                  \
    } while (false)

#pragma once
// What the fuzz targets share: the input cap and how a broken property is reported.
// libFuzzer treats an abort as a finding and saves the input that caused it; the
// smoke driver (fuzzsmoke.cpp) stops at the same abort and saves the input too, so a
// CI run fails on it and can be replayed.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

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

}  // namespace meshscope::fuzz

// Each target names itself in `kFuzzTarget` so that a report says which one broke.
#define ASSERT_PROPERTY(condition, what)                                                                               \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            ::meshscope::fuzz::propertyBroken(kFuzzTarget, what, __FILE__, __LINE__);                                  \
    } while (false)

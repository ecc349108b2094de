// Stand-in for libFuzzer's driver when the compiler has none (g++), for every target
// but the OTLP one (which has its own generator, fuzzdriver.cpp): replays each seed of
// a corpus directory, then mutations of them (bit flips, cuts, splices between seeds,
// repeated chunks, and tokens the formats care about: extreme numbers, quotes,
// brackets, invalid UTF-8). So the properties are checked on every CI build, and a
// libFuzzer reproducer can be replayed with g++ too.
//
// Usage: fuzz_<name>_smoke CORPUS_DIR [mutations] [seed]
//        fuzz_<name>_smoke FILE          (replays one input, e.g. a libFuzzer crash-*)
// When a property breaks, the input is saved as crash-fuzz_<name>_smoke in the current
// directory before the abort. The address space is capped at 4 GiB (not under ASan),
// so an input that makes a parser allocate without end fails alone.

#include "fuzzproperty.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

// ASan (gcc's -fsanitize=address, or clang's) reserves terabytes of address space.
#if defined(__SANITIZE_ADDRESS__)
#define MESHSCOPE_SMOKE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MESHSCOPE_SMOKE_ASAN 1
#endif
#endif
#ifndef MESHSCOPE_SMOKE_ASAN
#define MESHSCOPE_SMOKE_ASAN 0
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;

std::string readFile(const fs::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Tokens that tend to reach error paths in the formats fuzzed here (JSON, YAML,
// durations, PEM): boundaries of integer types, non-finite numbers, unit suffixes,
// structure characters and byte sequences that are not UTF-8.
constexpr std::string_view kTokens[] = {
    "0"sv,
    "1"sv,
    "-1"sv,
    "99999"sv,
    "100000"sv,
    "2147483648"sv,
    "4294967296"sv,
    "9223372036854775807"sv,
    "9223372036854775808"sv,
    "18446744073709551616"sv,
    "1e308"sv,
    "1e309"sv,
    "-1e309"sv,
    "0.5"sv,
    ".5"sv,
    "1."sv,
    "NaN"sv,
    "+Inf"sv,
    "-Inf"sv,
    "null"sv,
    "true"sv,
    "false"sv,
    "\"\""sv,
    "{}"sv,
    "[]"sv,
    "{"sv,
    "}"sv,
    "["sv,
    "]"sv,
    ","sv,
    ":"sv,
    "\""sv,
    "'"sv,
    "\\"sv,
    "\\u0000"sv,
    "\\ud800"sv,
    "\\\""sv,
    "ns"sv,
    "us"sv,
    "\xc2\xb5s"sv,
    "ms"sv,
    "s"sv,
    "m"sv,
    "h"sv,
    "d"sv,
    "w"sv,
    "y"sv,
    "Z"sv,
    "T"sv,
    "+02:00"sv,
    "-"sv,
    "---\n"sv,
    "\n"sv,
    "\r\n"sv,
    "\t"sv,
    ": "sv,
    "- "sv,
    "? "sv,
    "&a "sv,
    "*a"sv,
    "!!binary "sv,
    "|\n"sv,
    ">\n"sv,
    "~"sv,
    "*"sv,
    "/"sv,
    "|"sv,
    "~~"sv,
    "%"sv,
    "@"sv,
    "\x00"sv,
    "\xff"sv,
    "\xc0\x80"sv,
    "\xed\xa0\x80"sv,
    "\xf4\x90\x80\x80"sv,
    "\xc3\xa9"sv,
    "\xf0\x9f\x98\x80"sv,
    "-----BEGIN CERTIFICATE-----\n"sv,
    "-----END CERTIFICATE-----\n"sv,
    "="sv,
    "AAAA"sv,
};

class Mutator {
public:
    Mutator(const std::vector<std::string> &seeds, uint64_t seed)
        : m_seeds(seeds)
        , m_rng(seed)
    {
    }

    std::string next()
    {
        // Half of the time build on a recent mutant: several rounds of edits reach
        // deeper than one round on a pristine seed.
        std::string s
            = !m_recent.empty() && pick(2) == 0 ? m_recent[pick(m_recent.size())] : m_seeds[pick(m_seeds.size())];
        const size_t edits = 1 + pick(5);
        for (size_t e = 0; e < edits; ++e)
            edit(s);
        if (s.size() > meshscope::fuzz::kMaxInputBytes)
            s.resize(meshscope::fuzz::kMaxInputBytes);
        if (m_recent.size() < 64)
            m_recent.push_back(s);
        else
            m_recent[pick(m_recent.size())] = s;
        return s;
    }

private:
    size_t pick(size_t n) { return n ? size_t(m_rng() % n) : 0; }

    void edit(std::string &s)
    {
        const size_t pos = pick(s.size() + 1);
        switch (pick(10)) {
        case 0:
            if (!s.empty())
                s[pos % s.size()] = char(s[pos % s.size()] ^ (1 << pick(8)));
            break;
        case 1:
            if (!s.empty())
                s[pos % s.size()] = char(m_rng());
            break;
        case 2: s.resize(pos); break;
        case 3: s.erase(pos, 1 + pick(16)); break;
        case 4: s.insert(pos, 1 + pick(4), char(m_rng())); break;
        case 5:
        case 6: {
            const std::string_view t = kTokens[pick(std::size(kTokens))];
            // Insert, or replace as many bytes: a number overwritten keeps its field.
            if (pick(2) == 0)
                s.insert(pos, t);
            else
                s.replace(pos, std::min(t.size(), s.size() - pos), t);
            break;
        }
        case 7: {
            // A chunk of another seed: carries whole fields from one document into another.
            const std::string &other = m_seeds[pick(m_seeds.size())];
            if (other.empty())
                break;
            const size_t from = pick(other.size());
            s.insert(pos, other, from, 1 + pick(std::min<size_t>(other.size() - from, 256)));
            break;
        }
        case 8: {
            // A chunk of itself, repeated: deep nesting, long lists, long names.
            if (s.empty())
                break;
            const size_t from = pick(s.size());
            const std::string chunk = s.substr(from, 1 + pick(std::min<size_t>(s.size() - from, 64)));
            const size_t times = 1 + pick(pick(2) ? 4 : 200);
            std::string repeated;
            for (size_t i = 0; i < times; ++i)
                repeated += chunk;
            s.insert(pos, repeated);
            break;
        }
        case 9:
            // A run of digits: counts and durations at and past their limits.
            s.insert(pos, std::string(1 + pick(24), char('0' + pick(10))));
            break;
        }
    }

    const std::vector<std::string> &m_seeds;
    std::mt19937_64 m_rng;
    std::vector<std::string> m_recent;
};

// The input being run, for the abort handler: a broken property must leave behind the
// input that broke it, as libFuzzer does, or a CI failure could not be replayed.
const std::string *g_current = nullptr;
constexpr rlim_t kAddressSpaceLimit = rlim_t(4) << 30;
char g_crashPath[512] = "fuzz-smoke-crash";

extern "C" void saveCrashingInput(int sig)
{
    if (g_current) {
        const int fd = ::open(g_crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            const ssize_t written = ::write(fd, g_current->data(), g_current->size());
            ::close(fd);
            static const char kSaved[] = "fuzz smoke: input saved to ";
            if (written >= 0 && ::write(STDERR_FILENO, kSaved, sizeof kSaved - 1) >= 0
                && ::write(STDERR_FILENO, g_crashPath, std::strlen(g_crashPath)) >= 0)
                (void)::write(STDERR_FILENO, "\n", 1);
        }
    }
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

// What this driver checks of itself is named like a target's broken property.
constexpr const char *kFuzzTarget = "fuzz smoke";
uint64_t g_runs = 0;

void run(const std::string &input)
{
    g_current = &input;
    // The target aborts on a broken property; a non-zero return is a broken harness.
    ASSERT_PROPERTY(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()), input.size()) == 0,
        "the target returns 0");
    ++g_runs;
    g_current = nullptr;
}

}  // namespace

int main(int argc, char **argv)
{
    const std::string self = fs::path(argv[0]).filename().string();
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR [mutations] [seed] | %s FILE\n", self.c_str(), self.c_str());
        return 2;
    }
    const fs::path where = argv[1];
    // Saved where the test runs (ctest: the build directory's tests/fuzz).
    const std::string crashPath = (fs::current_path() / ("crash-" + self)).string();
    std::snprintf(g_crashPath, sizeof g_crashPath, "%s", crashPath.c_str());
    std::signal(SIGABRT, saveCrashingInput);
#if !MESHSCOPE_SMOKE_ASAN
    // An input that makes a parser allocate without bound must fail here (bad_alloc,
    // then abort with the input saved), not drive the CI machine out of memory as
    // libFuzzer's -rss_limit_mb would have prevented. ASan builds reserve terabytes of
    // address space for their shadow, so they rely on ASan's own allocation limits.
    // (Set before the first input, so the whole run is bounded.)
    const rlimit limit {kAddressSpaceLimit, kAddressSpaceLimit};
    setrlimit(RLIMIT_AS, &limit);
#endif
    std::error_code ec;
    if (fs::is_regular_file(where, ec)) {
        run(readFile(where));
        std::printf("%s: %s ran, all properties held\n", self.c_str(), where.c_str());
        return 0;
    }
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(where, ec)) {
        if (entry.is_regular_file())
            files.push_back(entry.path());
    }
    // A missing or empty corpus is a misconfigured test, not a pass.
    if (ec || files.empty()) {
        std::fprintf(stderr, "%s: no seed files in %s\n", self.c_str(), where.c_str());
        return 1;
    }
    std::sort(files.begin(), files.end());  // the same order, so the same mutants, on every machine
    std::vector<std::string> seeds;
    for (const fs::path &f : files) {
        seeds.push_back(readFile(f));
        // A seed read short would quietly test less than the corpus holds.
        ASSERT_PROPERTY(seeds.back().size() == fs::file_size(f), "every seed file is read whole");
    }

    const long mutations = argc > 2 ? std::atol(argv[2]) : 5000;
    const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20261122;
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < seeds.size(); ++i)
        run(seeds[i]);
    Mutator mutator(seeds, seed);
    uint64_t bytes = 0;
    for (long i = 0; i < mutations; ++i) {
        const std::string input = mutator.next();
        bytes += input.size();
        run(input);
    }
    ASSERT_PROPERTY(g_runs == seeds.size() + uint64_t(std::max(0L, mutations)), "every seed and mutation ran");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %zu seeds and %ld mutations (%llu bytes, seed %llu) in %.1f s, all properties held\n",
        self.c_str(), seeds.size(), mutations, static_cast<unsigned long long>(bytes),
        static_cast<unsigned long long>(seed), seconds);
    return 0;
}

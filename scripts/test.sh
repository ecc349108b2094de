#!/usr/bin/env bash
# Installs what is missing, checks the formatting, builds everything with warnings as
# errors, and runs every test: the core alone (no Widgets, proving the layering), the
# full tree, the threaded core under ThreadSanitizer, and the Debian package as a user
# installs it. Benchmarks print their figures last.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

echo "== formatting (clang-format) =="
./scripts/check-format.sh

echo "== core only (MESHSCOPE_BUILD_UI=OFF) =="
MESHSCOPE_BUILD_DIR=build-core ./scripts/build.sh -DMESHSCOPE_BUILD_UI=OFF -DMESHSCOPE_WARNINGS_AS_ERRORS=ON
(cd build-core && ctest --output-on-failure --no-tests=error -L core)

echo "== full build and every test =="
MESHSCOPE_BUILD_DIR=build ./scripts/build.sh -DMESHSCOPE_BUILD_UI=ON -DMESHSCOPE_WARNINGS_AS_ERRORS=ON
(cd build && ctest --output-on-failure --no-tests=error --timeout 600 -LE bench)

echo "== ThreadSanitizer: core and integration tests =="
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "${MESHSCOPE_JOBS:-$(nproc)}"
ctest --preset tsan

echo "== Debian package: built with CPack, unpacked into a scratch root, run from there =="
./scripts/check-package.sh build

echo "== benchmarks (figures printed, not judged) =="
cd build
export MESHSCOPE_BENCH_QUICK=1
bench_rc=0
ctest --no-tests=error --timeout 600 -L bench -V > bench.log 2>&1 || bench_rc=$?
grep -E '^[0-9]+: (ingest|freshness|canvas|layout|soak|promscale|traceview|tracestore|recording|waterfall|graphdiff|graphhistory|timeline|closedloop|  [0-9a-z])' bench.log || true
grep -E 'tests passed|tests failed' bench.log || true
exit "$bench_rc"

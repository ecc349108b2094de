#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, and runs every
# test: first the core alone (no Widgets, proving the layering), then the full tree.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

echo "== core only (MESHSCOPE_BUILD_UI=OFF) =="
MESHSCOPE_BUILD_DIR=build-core ./scripts/build.sh -DMESHSCOPE_BUILD_UI=OFF -DMESHSCOPE_WARNINGS_AS_ERRORS=ON
(cd build-core && ctest --output-on-failure --no-tests=error -L core)

echo "== full build and every test =="
MESHSCOPE_BUILD_DIR=build ./scripts/build.sh -DMESHSCOPE_BUILD_UI=ON -DMESHSCOPE_WARNINGS_AS_ERRORS=ON
cd build
export MESHSCOPE_BENCH_QUICK=1
ctest --output-on-failure --no-tests=error --timeout 600 -LE bench
echo "== benchmarks (figures printed, not judged) =="
bench_rc=0
ctest --no-tests=error --timeout 600 -L bench -V > bench.log 2>&1 || bench_rc=$?
grep -E '^[0-9]+: (ingest|freshness|canvas|layout|  [0-9a-z])' bench.log || true
grep -E 'tests passed|tests failed' bench.log || true
exit "$bench_rc"

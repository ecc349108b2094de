#!/usr/bin/env bash
# Configures and builds meshscope into build/ (or $MESHSCOPE_BUILD_DIR).
# Extra arguments go to CMake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${MESHSCOPE_BUILD_DIR:-build}
jobs=${MESHSCOPE_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${MESHSCOPE_BUILD_TYPE:-RelWithDebInfo} "$@"
cmake --build "$build_dir" -j "$jobs"

#!/usr/bin/env bash
# Installs what is missing, builds, and opens the dashboard on the built-in demo mesh.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec ./"${MESHSCOPE_BUILD_DIR:-build}"/app/meshscope --demo "$@"

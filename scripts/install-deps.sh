#!/usr/bin/env bash
# Installs the Debian 12 packages meshscope needs to build, run and test.
# Idempotent: installs only what is missing; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format dpkg-dev
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libgl-dev
  # Qt6Charts' CMake package needs Qt6OpenGL's, which qt6-base-dev only recommends
  libqt6opengl6-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev libre2-dev libyaml-cpp-dev libzstd-dev
  # secrets of saved connections go to the desktop keychain (Secret Service)
  qtkeychain-qt6-dev
  # real peers and tools used by the tests
  curl openssl prometheus caddy victoria-metrics graphviz python3
  # the OpenTelemetry JS SDK test's Node services (tests/fixtures/otel-js, npm ci)
  nodejs npm
  # a real Secret Service for the keychain test, on a private session bus
  gnome-keyring dbus dbus-x11 libsecret-tools
)
# fonts so that offscreen screenshots have legible text
packages+=(fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  # NodeSource's nodejs bundles npm and conflicts with Debian's npm package
  [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1 && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

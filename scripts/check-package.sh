#!/usr/bin/env bash
# Builds the .deb from a build tree with CPack, unpacks it into a scratch root (no
# install on this machine) and runs the packaged programs from there.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
(cd "$build_dir" && rm -f meshscope_*.deb && cpack -G DEB >/dev/null)
deb=$(ls "$build_dir"/meshscope_*.deb)
echo "check-package: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb --info "$deb" | sed -n 's/^ \(Depends\|Version\|Package\):/  \1:/p'
dpkg-deb -x "$deb" "$root"
for f in usr/bin/meshscope usr/bin/meshscope-cli usr/bin/meshscope-demo \
         usr/share/applications/meshscope.desktop usr/share/metainfo/io.meshscope.Meshscope.metainfo.xml; do
  [ -e "$root/$f" ] || { echo "check-package: $f is missing from the package"; exit 1; }
done
want=$(sed -n 's/^project(meshscope VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
for prog in meshscope-cli meshscope-demo meshscope; do
  got=$(QT_QPA_PLATFORM=offscreen "$root/usr/bin/$prog" --version 2>&1)
  echo "  $prog --version: $got"
  case "$got" in
    *"$want"*) ;;
    *) echo "check-package: packaged $prog does not report version $want"; exit 1 ;;
  esac
done

#!/usr/bin/env bash
# Installs what is missing (Debian packages), then configures, builds and installs hvsim.
# Idempotent: a second run only rebuilds what changed. Used by README.md and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  meson ninja-build g++ pkg-config cmake
  libzydis-dev libzycore-dev libsystemc-dev pybind11-dev
  libboost-dev libboost-program-options-dev libbenchmark-dev libgtest-dev
  python3 python3-dev python3-numpy python3-pandas python3-pytest
  qemu-system-x86 gcc-multilib
)
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Debian's kernel for the Linux boot test, unpacked (not installed) into the build tree.
if [ ! -e build/linux/vmlinuz ]; then
  mkdir -p build/linux
  version=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  if [ -n "$version" ] && (cd build/linux && apt-get download -q "$version" >/dev/null 2>&1); then
    dpkg -x build/linux/"$version"_*.deb build/linux/root
    cp build/linux/root/boot/vmlinuz-* build/linux/vmlinuz
    rm -rf build/linux/root build/linux/*.deb
  else
    echo "setup: could not download $version; the Linux boot test will be skipped"
  fi
fi

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release -Db_ndebug=false --prefix=/usr/local
fi
ninja -C build
as_root ninja -C build install >/dev/null

#!/usr/bin/env bash
# The VMX and SVM fuzzers (tests/virt/vmx_fuzz.c, svm_fuzz.c: 100,000 VMLAUNCHes / VMRUNs of
# randomly mutated VMCSs / VMCBs each) on an hvsim built with AddressSanitizer and UBSan, in
# build-asan/ (only hvsim and the two images are built). Any sanitizer report fails the run.
# Part of README command (b); run after .ci/setup.sh (which installs the packages).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
fi
ninja -C build-asan sim/machine/hvsim tests/virt/vmx_fuzz.elf tests/virt/svm_fuzz.elf
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --no-rebuild --suite fuzz --print-errorlogs

#!/usr/bin/env bash
# The AArch64 kernel sets, checked on this x86-64 machine: compiles Sources/Kernels for
# aarch64-linux-gnu with the toolchain's clang (the compiler SwiftPM uses for the C target), links
# with Debian's cross toolchain, and runs scripts/kernel-sets-test.c under qemu-aarch64: every kernel
# of the NEON inference and training tables against the portable set, and the BF16 and int8
# dot-product sets against scalar references, and the AMX bf16 kernels on their plain-C tile
# reference, on three CPU models (which also checks that run-time
# detection offers each model the sets it can run). Then the same program natively,
# over this CPU's x86 sets. Installs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user
# (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null || [ ! -d /usr/aarch64-linux-gnu/include ]; then
  echo "== installing the AArch64 cross toolchain and qemu-user"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
fi
kernels=Sources/Kernels
sources=("$kernels/select.c" "$kernels"/Inference/*.c "$kernels"/Training/*.c "$kernels"/AMX/*.c scripts/kernel-sets-test.c)
work=$(mktemp -d /tmp/regnet-arm64.XXXXXX)
trap 'rm -rf "$work"' EXIT

build() {   # build NAME CC-FLAGS...: every source to its own object (several share a file name), then link
  local name=$1; shift
  local objects=()
  for source in "${sources[@]}"; do
    local object="$work/$name-$(echo "$source" | tr '/' '-').o"
    clang -O2 -std=c11 -Wall -Werror -Wno-pass-failed -I"$kernels/include" -I"$kernels" "$@" -c "$source" -o "$object"
    objects+=("$object")
  done
  echo "${objects[@]}"
}

objects=$(build aarch64 --target=aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include)
# shellcheck disable=SC2086
aarch64-linux-gnu-gcc $objects -lm -o "$work/kernel-sets-test-aarch64"
# Three CPU models, so the run-time detection is checked too: each must be offered exactly the
# reduced-precision sets its extensions allow, and every set offered must pass.
#   max          BF16, I8MM and DotProd    -> neonbf16, neoni8mm
#   neoverse-n1  DotProd (Armv8.2)         -> no bf16, neondotprod
#   cortex-a57   NEON only (Armv8.0)       -> fp32 only
expect() {   # expect CPU BF16-SET INT8-SET
  echo "== AArch64 under qemu-aarch64 -cpu $1"
  qemu-aarch64 -cpu "$1" -L /usr/aarch64-linux-gnu "$work/kernel-sets-test-aarch64" | tee "$work/aarch64.log"
  grep -q '^neon: every kernel' "$work/aarch64.log"
  grep -q '^amx: amxbf16ref' "$work/aarch64.log" || { echo "FAIL: the AMX tile reference did not run"; exit 1; }
  grep -q "^bf16: $2 " "$work/aarch64.log" || { echo "FAIL: -cpu $1 should run bf16 set '$2'"; exit 1; }
  grep -q "^int8: $3 " "$work/aarch64.log" || { echo "FAIL: -cpu $1 should run int8 set '$3'"; exit 1; }
}
expect max neonbf16 neoni8mm
expect neoverse-n1 "none on this CPU" neondotprod
expect cortex-a57 "none on this CPU" "none on this CPU"

objects=$(build native)
# shellcheck disable=SC2086
clang $objects -lm -o "$work/kernel-sets-test-native"
echo "== this CPU's x86-64 sets"
"$work/kernel-sets-test-native"

#!/usr/bin/env bash
# Fuzzes one parser with libFuzzer for SECONDS (default 300), starting from Fuzz/corpus/TARGET.
#
#   scripts/fuzz.sh safetensors|npy|png|jpeg|ppm|regnet|onnx [SECONDS]
#
# The package's modules are built with -sanitize=fuzzer,address into .build-fuzz, the harness in
# Fuzz/ is linked against them, and new inputs go to .build-fuzz/corpus-TARGET. A crash leaves its
# input as .build-fuzz/crash-*; copy it into Fuzz/corpus/TARGET once fixed, so the tests replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
# A Swift runtime trap must end the process at once so libFuzzer records the input (the backtracer can hang).
export SWIFT_BACKTRACE=enable=no
target=${1:?usage: scripts/fuzz.sh safetensors|npy|png|jpeg|ppm|regnet|onnx [SECONDS]}
seconds=${2:-300}
case "$target" in
  safetensors) harness=SafeTensorsFuzz; modules="NetworkIR Weights" ;;
  npy) harness=NumPyFuzz; modules="NetworkIR Weights" ;;
  png|jpeg|ppm) harness=ImageFuzz; modules="Images" ;;
  regnet) harness=DeclarationFormatFuzz; modules="NetworkIR NetworkDSL DesignSpaces DeclarationFormat" ;;
  onnx) harness=ONNXFuzz; modules="NetworkIR Weights ONNX" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
for module in $modules; do
  swift build --build-path .build-fuzz -c release --target "$module" "${flags[@]}" >/dev/null
done
objects=()
for module in $modules; do objects+=(.build-fuzz/release/"$module".build/*.o); done
swiftc -sanitize=fuzzer,address -parse-as-library -O -I .build-fuzz/release/Modules "Fuzz/$harness.swift" "${objects[@]}" \
  -o ".build-fuzz/fuzz-$target" 2>&1 | grep -v "Cannot export local symbol" || true
mkdir -p ".build-fuzz/corpus-$target"
".build-fuzz/fuzz-$target" ".build-fuzz/corpus-$target" "Fuzz/corpus/$target" -max_total_time="$seconds" -max_len=65536 \
  -timeout=60 -artifact_prefix=.build-fuzz/ -print_final_stats=1 2>&1 | tail -12

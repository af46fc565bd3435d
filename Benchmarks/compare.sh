#!/usr/bin/env bash
# Side-by-side latency of `regnet bench` (fp32, bf16, int8) against ONNX Runtime (fp32 and static int8),
# OpenVINO (fp32 and bf16) and PyTorch eager, in one run.
#
#   Benchmarks/compare.sh                       the issue's table (X-400MF, Y-800MF, X-3.2GF)
#   Benchmarks/compare.sh "regnetx_004:1:2"     model:batch:threads, as many as you like
#
# Each configuration runs every side in turn for ROUNDS rounds of RUNS timed runs; the table shows the
# median over rounds of each side's median, then the ratios the inference issue sets targets on:
# our fp32 over the faster peer fp32, our bf16 over OpenVINO bf16, our int8 over ONNX Runtime int8,
# and our faster reduced-precision path over the faster of ONNX Runtime int8 and OpenVINO bf16. Both
# int8 paths are static post-training quantisation calibrated on seeded random inputs: ONNX Runtime's
# QDQ with per-channel weights (peers.py quantize), ours with min/max on 16 images. Peak
# resident memory is ours / ONNX Runtime fp32 (measured in a process that imports no torch). Python
# is only for the peers: a venv is created at $VENV (default ~/.cache/regnet-bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
ROUNDS=${ROUNDS:-3}
VENV=${VENV:-$HOME/.cache/regnet-bench-venv}
WORK=${WORK:-$(mktemp -d)}
CONFIGS=("$@")
if [ ${#CONFIGS[@]} -eq 0 ]; then
  CONFIGS=(regnetx_004:1:2 regnetx_004:8:2 regnety_008:1:2 regnety_008:8:2 regnetx_032:1:2 regnetx_032:8:2 regnetx_004:1:1)
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch timm onnx onnxscript onnxruntime openvino numpy
fi
PY="$VENV/bin/python"
swift build -c release --product regnet >/dev/null
REGNET=.build/release/regnet

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { "$PY" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "$($REGNET bench regnetx_002 --iterations 1 --warmup 0 --json | field isa) kernels; $RUNS runs x $ROUNDS rounds per side; $("$PY" -c 'import onnxruntime, openvino, torch; print("onnxruntime", onnxruntime.__version__, "/ openvino", openvino.__version__.split("-")[0], "/ torch", torch.__version__)')"
echo
printf '| model | batch | threads | ours fp32 | ours bf16 | ours int8 | ORT fp32 | ORT int8 | OpenVINO fp32 | OpenVINO bf16 | PyTorch | fp32: ours / best peer | bf16: ours / OpenVINO | int8: ours / ORT | reduced: ours / best peer | peak RSS ours / ORT (MiB) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for config in "${CONFIGS[@]}"; do
  IFS=: read -r model batch threads <<<"$config"
  onnx="$WORK/${model}_b${batch}.onnx" int8="$WORK/${model}_b${batch}.int8.onnx"
  [ -f "$onnx" ] || "$PY" Benchmarks/peers.py export --model "$model" --batch "$batch" --out "$onnx" 2>/dev/null
  [ -f "$int8" ] || "$PY" Benchmarks/peers.py quantize --onnx "$onnx" --out "$int8" >/dev/null 2>&1
  o32=(); o16=(); o8=(); ort=(); ort8=(); ov32=(); ov16=(); pt=(); rss_ours=0; rss_ort=0; bf16_used=bf16; int8_used=int8
  for _ in $(seq "$ROUNDS"); do
    j=$($REGNET bench "$model" --batch "$batch" --threads "$threads" --iterations "$RUNS" --warmup 5 --json)
    o32+=("$(echo "$j" | field median_ms)"); rss_ours=$(echo "$j" | field peak_rss_bytes)
    j=$($REGNET bench "$model" --batch "$batch" --threads "$threads" --iterations "$RUNS" --warmup 5 --json --precision bf16 2>/dev/null)
    o16+=("$(echo "$j" | field median_ms)"); bf16_used=$(echo "$j" | field precision)
    j=$($REGNET bench "$model" --batch "$batch" --threads "$threads" --iterations "$RUNS" --warmup 5 --json --precision int8 \
          --calibration random --calibration-images 16 2>/dev/null)
    o8+=("$(echo "$j" | field median_ms)"); int8_used=$(echo "$j" | field precision)
    j=$("$PY" Benchmarks/peers.py ort --onnx "$onnx" --threads "$threads" --runs "$RUNS")
    ort+=("$(echo "$j" | field median_ms)"); rss_ort=$(echo "$j" | field peak_rss_bytes)
    ort8+=("$("$PY" Benchmarks/peers.py ort --onnx "$int8" --threads "$threads" --runs "$RUNS" | field median_ms)")
    ov32+=("$("$PY" Benchmarks/peers.py openvino --onnx "$onnx" --threads "$threads" --runs "$RUNS" | field median_ms)")
    ov16+=("$("$PY" Benchmarks/peers.py openvino --onnx "$onnx" --precision bf16 --threads "$threads" --runs "$RUNS" | field median_ms)")
    pt+=("$("$PY" Benchmarks/peers.py torch --model "$model" --batch "$batch" --threads "$threads" --runs "$RUNS" | field median_ms)")
  done
  m() { printf '%s\n' "$@" | median; }
  awk -v m="$model" -v b="$batch" -v t="$threads" -v o32="$(m "${o32[@]}")" -v o16="$(m "${o16[@]}")" -v used="$bf16_used" \
      -v o8="$(m "${o8[@]}")" -v used8="$int8_used" \
      -v r32="$(m "${ort[@]}")" -v r8="$(m "${ort8[@]}")" -v v32="$(m "${ov32[@]}")" -v v16="$(m "${ov16[@]}")" -v p="$(m "${pt[@]}")" \
      -v ro="$rss_ours" -v rr="$rss_ort" 'function min(a, b) { return a < b ? a : b }
    BEGIN { printf "| %s | %d | %d | %.2f | %.2f%s | %.2f%s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f / %.0f |\n",
            m, b, t, o32, o16, (used == "bf16" ? "" : " (fp32: no AVX-512 BF16)"), o8, (used8 == "int8" ? "" : " (fp32: no AVX-512 VNNI)"),
            r32, r8, v32, v16, p, o32 / min(r32, v32), o16 / v16, o8 / r8, min(min(o16, o8), o32) / min(r8, v16), ro / 1048576, rr / 1048576 }'
done

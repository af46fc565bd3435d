#!/usr/bin/env bash
# Side-by-side latency of `regnet bench` against ONNX Runtime and PyTorch eager, in one run.
#
#   Benchmarks/compare.sh                       the issue's table (X-400MF, Y-800MF, X-3.2GF)
#   Benchmarks/compare.sh "regnetx_004:1:2"     model:batch:threads, as many as you like
#
# Each configuration runs ours, ONNX Runtime and PyTorch in turn for ROUNDS rounds of RUNS timed runs;
# the table shows the median over rounds of each side's median, the ratios, and peak resident memory
# (ONNX Runtime measured in a process that imports no torch). Python is only for the peers: a venv
# with torch, timm, onnx and onnxruntime is created at $VENV (default ~/.cache/regnet-bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
ROUNDS=${ROUNDS:-3}
VENV=${VENV:-$HOME/.cache/regnet-bench-venv}
WORK=${WORK:-$(mktemp -d)}
CONFIGS=("$@")
if [ ${#CONFIGS[@]} -eq 0 ]; then
  CONFIGS=(regnetx_004:1:2 regnetx_004:8:2 regnety_008:1:2 regnety_008:8:2 regnetx_032:8:2 regnetx_004:1:1)
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch timm onnx onnxruntime numpy
fi
PY="$VENV/bin/python"
swift build -c release --product regnet >/dev/null
REGNET=.build/release/regnet

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { "$PY" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%Y-%m-%d)"
echo "$($REGNET bench regnetx_002 --iterations 1 --warmup 0 --json | field isa) kernels; $RUNS runs x $ROUNDS rounds per side"
echo
printf '| model | batch | threads | ours (ms) | ONNX Runtime (ms) | PyTorch (ms) | ours / ORT | ours / PyTorch | peak RSS ours / ORT (MiB) |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for config in "${CONFIGS[@]}"; do
  IFS=: read -r model batch threads <<<"$config"
  onnx="$WORK/${model}_b${batch}.onnx"
  [ -f "$onnx" ] || "$PY" Benchmarks/peers.py export --model "$model" --batch "$batch" --out "$onnx" 2>/dev/null
  ours=(); ort=(); pt=(); rss_ours=0; rss_ort=0
  for _ in $(seq "$ROUNDS"); do
    j=$($REGNET bench "$model" --batch "$batch" --threads "$threads" --iterations "$RUNS" --warmup 5 --json)
    ours+=("$(echo "$j" | field median_ms)"); rss_ours=$(echo "$j" | field peak_rss_bytes)
    j=$("$PY" Benchmarks/peers.py ort --onnx "$onnx" --threads "$threads" --runs "$RUNS")
    ort+=("$(echo "$j" | field median_ms)"); rss_ort=$(echo "$j" | field peak_rss_bytes)
    j=$("$PY" Benchmarks/peers.py torch --model "$model" --batch "$batch" --threads "$threads" --runs "$RUNS")
    pt+=("$(echo "$j" | field median_ms)")
  done
  o=$(printf '%s\n' "${ours[@]}" | median); r=$(printf '%s\n' "${ort[@]}" | median); p=$(printf '%s\n' "${pt[@]}" | median)
  awk -v m="$model" -v b="$batch" -v t="$threads" -v o="$o" -v r="$r" -v p="$p" -v ro="$rss_ours" -v rr="$rss_ort" \
    'BEGIN { printf "| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f / %.0f |\n", m, b, t, o, r, p, o/r, o/p, ro/1048576, rr/1048576 }'
done

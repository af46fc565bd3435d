#!/usr/bin/env bash
# Training throughput of `regnet bench --train` against PyTorch eager and torch.compile, in one run.
#
#   Benchmarks/train_compare.sh                     the training issue's rows
#   Benchmarks/train_compare.sh "regnetx_002:32:224:2"   model:batch:resolution:threads, as many as you like
#
# model is a zoo name (timm's on the PyTorch side) or `cifar` (the main job's CIFAR-size RegNet).
# Each configuration runs ours, eager and compiled PyTorch in turn, ROUNDS rounds of STEPS timed steps
# after warm-up, each in its own process; the table shows the median over rounds of each side's
# median step, images/s, the ratio to the faster PyTorch and peak resident memory. Python is only for
# the peers: a venv with torch and timm is created at $VENV (default ~/.cache/regnet-bench-venv).
# Quote figures from a quiet machine: PyTorch's threads collapse when anything else runs.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-10}
ROUNDS=${ROUNDS:-2}
VENV=${VENV:-$HOME/.cache/regnet-bench-venv}
CONFIGS=("$@")
if [ ${#CONFIGS[@]} -eq 0 ]; then
  CONFIGS=(regnetx_002:32:224:2 regnety_008:32:224:2 cifar:128:32:2 regnetx_004:32:224:1 regnetx_004:32:224:2)
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch timm numpy
fi
PY="$VENV/bin/python"
swift build -c release --product regnet >/dev/null
REGNET=.build/release/regnet
CIFAR=(--stages 2x32,4x64 --group-width 8 --se-ratio 0.25 --stem-width 16 --stem-stride 1 --classes 10)

errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { sed -n "s/.*\"$1\" *: *\([0-9.e+-]*\).*/\1/p" | head -1; }

echo "| model | batch | res | threads | ours (img/s) | PyTorch eager | torch.compile | ours / faster PyTorch | peak RSS ours / eager (MiB) |"
echo "|---|---|---|---|---|---|---|---|---|"
for config in "${CONFIGS[@]}"; do
  IFS=: read -r model batch res threads <<<"$config"
  if [ "$model" = cifar ]; then selection=("${CIFAR[@]}"); else selection=("$model"); fi
  ours=(); eager=(); compiled=(); rss_ours=(); rss_eager=()
  for _ in $(seq "$ROUNDS"); do
    out=$("$REGNET" bench --train "${selection[@]}" --batch "$batch" --resolution "$res" --threads "$threads" --iterations "$STEPS" --json)
    ours+=("$(echo "$out" | field images_per_second)"); rss_ours+=("$(echo "$out" | field peak_rss_bytes)")
    out=$("$PY" Benchmarks/train_peers.py --model "$model" --batch "$batch" --res "$res" --threads "$threads" --steps "$STEPS")
    eager+=("$(echo "$out" | field images_per_second)"); rss_eager+=("$(echo "$out" | field peak_rss_bytes)")
    # A torch.compile that fails (no compiler, an unsupported model) is reported as failed, with its
    # error on standard error, and the ratio is taken against eager alone; it never reads as 0 img/s.
    if out=$("$PY" Benchmarks/train_peers.py --model "$model" --batch "$batch" --res "$res" --threads "$threads" --steps "$STEPS" --compile 2>"$errors"); then
      compiled+=("$(echo "$out" | field images_per_second)")
    else
      echo "torch.compile failed for $config:" >&2; tail -5 "$errors" >&2
    fi
  done
  o=$(printf '%s\n' "${ours[@]}" | median); e=$(printf '%s\n' "${eager[@]}" | median)
  c=$([ ${#compiled[@]} -gt 0 ] && printf '%s\n' "${compiled[@]}" | median || echo failed)
  ro=$(printf '%s\n' "${rss_ours[@]}" | median); re=$(printf '%s\n' "${rss_eager[@]}" | median)
  awk -v m="$model" -v b="$batch" -v r="$res" -v t="$threads" -v o="$o" -v e="$e" -v c="$c" -v ro="$ro" -v re="$re" 'BEGIN {
    best = (c != "failed" && c > e) ? c : e
    cs = c == "failed" ? "failed" : sprintf("%.1f", c)
    printf "| %s | %s | %s | %s | %.1f | %.1f | %s | %.2f | %.0f / %.0f |\n", m, b, r, t, o, e, cs, o / best, ro / 1048576, re / 1048576 }'
done

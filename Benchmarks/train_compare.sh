#!/usr/bin/env bash
# Training throughput of `regnet bench --train` (fp32 and bf16 mixed precision) against PyTorch eager,
# torch.compile and autocast bf16 (`torch.autocast("cpu", dtype=torch.bfloat16)`), in one run.
#
#   Benchmarks/train_compare.sh                     the training issue's rows
#   Benchmarks/train_compare.sh "regnetx_002:32:224:2"   model:batch:resolution:threads, as many as you like
#
# model is a zoo name (timm's on the PyTorch side) or `cifar` (the main job's CIFAR-size RegNet).
# Each configuration runs ours (fp32, then bf16), eager, compiled and autocast PyTorch in turn, ROUNDS
# rounds of STEPS timed steps after warm-up, each in its own process; the table shows the median over
# rounds of each side's median step in images/s, the ratio of our faster precision to the fastest
# PyTorch mode, and peak resident memory of our bf16 run and of autocast's. On a CPU without bf16
# dot products our bf16 column trains in fp32 (the command says so on standard error). Python is only for
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

echo "| model | batch | res | threads | ours fp32 (img/s) | ours bf16 | PyTorch eager | torch.compile | PyTorch autocast bf16 | ours / fastest PyTorch | peak RSS ours bf16 / autocast (MiB) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for config in "${CONFIGS[@]}"; do
  IFS=: read -r model batch res threads <<<"$config"
  if [ "$model" = cifar ]; then selection=("${CIFAR[@]}"); else selection=("$model"); fi
  ours=(); bf16=(); eager=(); compiled=(); autocast=(); rss_ours=(); rss_autocast=()
  for _ in $(seq "$ROUNDS"); do
    out=$("$REGNET" bench --train "${selection[@]}" --batch "$batch" --resolution "$res" --threads "$threads" --iterations "$STEPS" --json)
    ours+=("$(echo "$out" | field images_per_second)")
    out=$("$REGNET" bench --train "${selection[@]}" --batch "$batch" --resolution "$res" --threads "$threads" --iterations "$STEPS" --precision bf16 --json)
    bf16+=("$(echo "$out" | field images_per_second)"); rss_ours+=("$(echo "$out" | field peak_rss_bytes)")
    peer=("$PY" Benchmarks/train_peers.py --model "$model" --batch "$batch" --res "$res" --threads "$threads" --steps "$STEPS")
    out=$("${peer[@]}"); eager+=("$(echo "$out" | field images_per_second)")
    out=$("${peer[@]}" --bf16); autocast+=("$(echo "$out" | field images_per_second)"); rss_autocast+=("$(echo "$out" | field peak_rss_bytes)")
    # A torch.compile that fails (no compiler, an unsupported model) is reported as failed, with its
    # error on standard error, and the ratio is taken against the other modes; it never reads as 0 img/s.
    if out=$("${peer[@]}" --compile 2>"$errors"); then
      compiled+=("$(echo "$out" | field images_per_second)")
    else
      echo "torch.compile failed for $config:" >&2; tail -5 "$errors" >&2
    fi
  done
  o=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${bf16[@]}" | median)
  e=$(printf '%s\n' "${eager[@]}" | median); a=$(printf '%s\n' "${autocast[@]}" | median)
  c=$([ ${#compiled[@]} -gt 0 ] && printf '%s\n' "${compiled[@]}" | median || echo failed)
  ro=$(printf '%s\n' "${rss_ours[@]}" | median); ra=$(printf '%s\n' "${rss_autocast[@]}" | median)
  awk -v m="$model" -v bt="$batch" -v r="$res" -v t="$threads" -v o="$o" -v b="$b" -v e="$e" -v c="$c" -v a="$a" -v ro="$ro" -v ra="$ra" 'BEGIN {
    best = e; if (c != "failed" && c > best) best = c; if (a > best) best = a
    ours = b > o ? b : o
    cs = c == "failed" ? "failed" : sprintf("%.1f", c)
    printf "| %s | %s | %s | %s | %.1f | %.1f | %.1f | %s | %.1f | %.2f | %.0f / %.0f |\n", m, bt, r, t, o, b, e, cs, a, ours / best, ro / 1048576, ra / 1048576 }'
done

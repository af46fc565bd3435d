#!/usr/bin/env bash
# Throughput of `regnet bench` for batch 1, 8 and 32 on 1 and 2 threads, and the parallel
# efficiency (images/s on 2 threads over twice images/s on 1), for one model (default RegNetX-400MF).
#
#   Benchmarks/scaling.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-regnetx_004}
swift build -c release --product regnet >/dev/null
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
echo "| batch | 1 thread (images/s) | 2 threads (images/s) | parallel efficiency | GFLOP/s (2 threads) |"
echo "|---|---|---|---|---|"
for batch in 1 8 32; do
  iterations=$(( batch >= 32 ? 6 : 20 ))
  one=$(.build/release/regnet bench "$model" --batch "$batch" --threads 1 --iterations "$iterations" --json)
  two=$(.build/release/regnet bench "$model" --batch "$batch" --threads 2 --iterations "$iterations" --json)
  i1=$(echo "$one" | field images_per_second); i2=$(echo "$two" | field images_per_second); g2=$(echo "$two" | field gflops_per_second)
  awk -v b="$batch" -v a="$i1" -v c="$i2" -v g="$g2" 'BEGIN { printf "| %d | %.1f | %.1f | %.0f%% | %.0f |\n", b, a, c, 100 * c / (2 * a), g }'
done

#!/usr/bin/env bash
# The sweep analysis page in a real browser: installs Debian's chromium when missing, runs a small
# digits sweep, writes its analysis.html, and has headless Chromium load it. Fails if the page logs
# anything to the console (errors included), if any chart was not laid out with its axes and legend,
# if a data point lies under a legend or a legend reaches into a plot area (from the laid-out SVG
# geometry), if a tick label is not a round value (an epoch not a whole number), or if AnyNetX's
# per-stage parameters (d1, w1, b1, g1, …) have no charts. The page's inline script records the
# counts on <body>. Keeps a screenshot when KEEP is set.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  echo "== installing chromium"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi
swift build -c release --product regnet >/dev/null
regnet="$(swift build -c release --product regnet --show-bin-path)/regnet"
work=$(mktemp -d /tmp/regnet-analysis.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/sweep.json" <<JSON
{"name": "ci_analysis", "seed": 0,
 "samples": [{"space": "AnyNetXA", "count": 3},
             {"space": "RegNetX", "count": 3, "ranges": {"depth": [6, 10], "w0": [16, 32], "wa": [8, 16]}}],
 "constraints": {"flops": [1000000, 6000000], "resolution": 32},
 "model": {"classes": 10, "stem_width": 16},
 "train": {"data": "digits", "epochs": 2, "batch": 50, "test-batch": 100, "lr": 0.05, "no-precise-bn": true, "ema-alpha": 0, "seed": 1}}
JSON
"$regnet" sweep setup "$work/sweep.json" --out "$work/sweep" >/dev/null
"$regnet" sweep run "$work/sweep" --jobs 2 --threads 1 >/dev/null
"$regnet" sweep analyze "$work/sweep"
page="file://$work/sweep/analysis.html"
browse() { timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0 "$@" "$page"; }
browse --virtual-time-budget=5000 --dump-dom > "$work/dom.html" 2> "$work/console.log"
browse --window-size=1400,2400 --screenshot="$work/analysis.png" 2>> "$work/console.log" >/dev/null
if grep -q "CONSOLE" "$work/console.log"; then echo "FAIL: the page wrote to the console:"; grep "CONSOLE" "$work/console.log"; exit 1; fi
charts=$(sed -n 's/.*<body data-charts="\([0-9]*\)".*/\1/p' "$work/dom.html")
rendered=$(sed -n 's/.*data-rendered="\([0-9]*\)".*/\1/p' "$work/dom.html")
if [ -z "$charts" ] || [ "$charts" -lt 6 ] || [ "$charts" != "$rendered" ]; then
  echo "FAIL: ${rendered:-0} of ${charts:-0} charts rendered with axes and legends"; exit 1
fi
attribute() { sed -n "s/.*<body[^>]* $1=\"\([0-9]*\)\".*/\1/p" "$work/dom.html"; }
covered=$(attribute data-covered-points) intruding=$(attribute data-intruding-legends) unround=$(attribute data-unround-axes)
if [ "${covered:-x}" != 0 ] || [ "${intruding:-x}" != 0 ]; then
  echo "FAIL: ${covered:-?} data points under a legend, ${intruding:-?} legends reaching into a plot area"; exit 1
fi
if [ "${unround:-x}" != 0 ]; then echo "FAIL: ${unround:-?} axes have ticks that are not round values"; exit 1; fi
for chart in d1 w1 b1 g1 d2 w2; do
  grep -q "id=\"error_vs_$chart.svg\"" "$work/dom.html" || { echo "FAIL: no per-stage chart of $chart"; exit 1; }
done
test "$(wc -c < "$work/analysis.png")" -gt 20000 || { echo "FAIL: the screenshot is (nearly) blank"; exit 1; }
[ -n "${KEEP:-}" ] && cp "$work/analysis.png" "$KEEP"
echo "analysis page: $rendered of $charts charts rendered in Chromium, no console output, no point under a legend, round ticks, per-stage charts"

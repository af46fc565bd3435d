#!/usr/bin/env bash
# Compiles every Swift example in README.md against this package, so the README cannot drift from the
# API: each ```swift block becomes a file of a throwaway package that depends on this one by path; type
# declarations stay at file scope, statements go into a function of their own; the few free names the
# snippets use (an input tensor, a list of errors, file URLs) come from a prelude. Package.swift
# fragments are skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ReadmeExamples/Sources/Examples"
cat > "$work/ReadmeExamples/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription
let package = Package(
    name: "ReadmeExamples",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "$root")],
    targets: [.target(name: "Examples", dependencies: [.product(name: "RegNet", package: "$(basename "$root")")])]
)
SWIFT
cat > "$work/ReadmeExamples/Sources/Examples/Prelude.swift" <<'SWIFT'
import Foundation
import RegNet
// Free names the README's snippets use.
let input = Tensor(shape: [8, 3, 224, 224], repeating: 0)
let errors: [Double] = [30, 31, 35]
let other = EDF(label: "other", errors: [29, 33])
let url = URL(fileURLWithPath: "/tmp/in.safetensors"), pyclsURL = url, out = URL(fileURLWithPath: "/tmp/out.safetensors")
let imageURL = URL(fileURLWithPath: "/tmp/cat.png")
let batches: [(images: [Float], labels: [Int])] = [], someTrainingBatches: [[Float]] = []
let testImages: [Float] = [], testLabels: [Int] = []
let threeImages = [Float](repeating: 0, count: 3 * 3 * 224 * 224)
let trainPixels = [Float](repeating: 0, count: 500 * 3 * 32 * 32), trainLabels = [Int](repeating: 0, count: 500)
let testPixels = [Float](repeating: 0, count: 100 * 3 * 32 * 32)
let twoImages = [Float](repeating: 0, count: 2 * 3 * 32 * 32), classNames = (0..<10).map { "class \($0)" }
SWIFT
awk -v dir="$work/ReadmeExamples/Sources/Examples" '
  /^```swift$/ { inside = 1; n++; body = ""; decls = ""; indecl = 0; skip = 0; next }
  inside && /^```$/ {
    inside = 0
    if (skip) next
    file = dir "/Example" n ".swift"
    print "import Foundation\nimport RegNet\n" decls > file
    print "func example" n "() throws {\n" body "}" >> file
    close(file)
    next
  }
  inside {
    if ($0 ~ /^\/\/ Package\.swift/) skip = 1
    if ($0 ~ /^import /) next
    if (!indecl && $0 ~ /^(struct|enum|extension|final class|class|protocol) /) indecl = 1
    if (indecl) { decls = decls $0 "\n"; if ($0 == "}") indecl = 0; next }
    body = body "    " $0 "\n"
  }
' "$root/README.md"
count=$(ls "$work/ReadmeExamples/Sources/Examples" | grep -c Example || true)
cd "$work/ReadmeExamples"
if ! swift build > build.log 2>&1; then
  echo "FAIL: a README example does not compile:"; grep -E "error:" build.log | head -20
  for f in Sources/Examples/Example*.swift; do echo "--- $f"; cat -n "$f"; done
  exit 1
fi
echo "README examples: $count Swift blocks compile"

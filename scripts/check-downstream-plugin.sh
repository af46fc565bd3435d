#!/usr/bin/env bash
# Builds a throwaway package that depends on this one by path and applies the RegNetDeclarations
# plugin: it must build with valid declarations (and module-qualified names such as
# DesignSpaces.Zoo must resolve) and fail, at the .regnet file's line, with an invalid one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$root" "$work/swift-regnet"
mkdir -p "$work/Downstream/Sources/App"
cat > "$work/Downstream/Package.swift" <<'SWIFT'
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Downstream",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../swift-regnet")],
    targets: [
        .executableTarget(
            name: "App",
            dependencies: [.product(name: "RegNet", package: "swift-regnet")],
            plugins: [.plugin(name: "RegNetDeclarations", package: "swift-regnet")]
        ),
    ]
)
SWIFT
cat > "$work/Downstream/Sources/App/main.swift" <<'SWIFT'
import RegNet
for (name, network) in RegNetDeclarations.all {
    print(name, try network.summary().flops)
}
// Names that clash with other libraries can be qualified with their module (no public symbol is
// named like one).
let qualified: NetworkDSL.Network = try Network.regNet(depth: 13, w0: 24, wa: 36.44, wm: 2.49, groupWidth: 8)
print("qualified", DesignSpaces.Zoo.models.count, Weights.Tensor(shape: [2], scalars: [0, 1]).shape, qualified.name)
SWIFT
cat > "$work/Downstream/Sources/App/Models.regnet" <<'REGNET'
# downstream declarations
Small: depth=13 w0=24 wa=36.44 wm=2.49 group_width=8 classes=10
REGNET
cd "$work/Downstream"
echo "downstream: valid declarations must build"
swift build 2>&1 | tail -3
swift run App > run.log
grep -q "Small 198" run.log || { echo "FAIL: the generated network did not run"; cat run.log; exit 1; }
grep -q "qualified 24 \[2\]" run.log || { echo "FAIL: module-qualified names did not resolve"; cat run.log; exit 1; }
echo "downstream: an invalid declaration must fail the build at Models.regnet:3"
echo "Broken: depth=13 w0=20 wa=36.44 wm=2.49 group_width=8" >> Sources/App/Models.regnet
if swift build > build.log 2>&1; then
  echo "FAIL: the build succeeded with w0=20"; exit 1
fi
grep -E "Models\.regnet:3:[0-9]+: error: w0 must be a positive multiple of 8" build.log \
  || { echo "FAIL: no Models.regnet:3 error in the build output:"; cat build.log; exit 1; }
echo "downstream plugin check passed"

#!/usr/bin/env bash
# Builds a throwaway package that depends on this one by path and applies the RegNetDeclarations
# plugin: it must build with valid declarations (module-qualified names such as DesignSpaces.Zoo
# must resolve, a network with a custom stem, head and block must compile and run, and a newcomer's
# program must train its own network from arrays with `fit` and AdamW, watch typed epoch events,
# save, reload and classify a batch size never compiled with `topK`) and fail, at the .regnet
# file's line, with an invalid one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$root" "$work/swift-regnet"
mkdir -p "$work/Downstream/Sources/App" "$work/Downstream/Sources/Models"
cat > "$work/Downstream/Package.swift" <<'SWIFT'
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Downstream",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../swift-regnet")],
    targets: [
        // The README's layout: declarations in a library (with one .swift file), used by an executable.
        .target(
            name: "Models",
            dependencies: [.product(name: "RegNet", package: "swift-regnet")],
            plugins: [.plugin(name: "RegNetDeclarations", package: "swift-regnet")]
        ),
        .executableTarget(name: "App", dependencies: ["Models", .product(name: "RegNet", package: "swift-regnet")]),
    ]
)
SWIFT
echo "@_exported import RegNet" > "$work/Downstream/Sources/Models/Models.swift"
cat > "$work/Downstream/Sources/App/main.swift" <<'SWIFT'
import Foundation
import Models
for (name, network) in RegNetDeclarations.all {
    print(name, try network.summary().flops)
}
// Names that clash with other libraries can be qualified with their module (no public symbol is
// named like one).
let qualified: NetworkDSL.Network = try Network.regNet(depth: 13, w0: 24, wa: 36.44, wm: 2.49, groupWidth: 8)
print("qualified", DesignSpaces.Zoo.models.count, Weights.Tensor(shape: [2], scalars: [0, 1]).shape, qualified.name)
// …and with the umbrella module's name, as a user of `import RegNet` writes them.
let viaUmbrella: RegNet.Network = try RegNet.Network.regNet(depth: 13, w0: 24, wa: 36.44, wm: 2.49, groupWidth: 8)
print("umbrella", RegNet.Zoo.models.count, try RegNet.Zoo.model(named: "RegNetX-200MF").name, viaUmbrella.name == qualified.name,
      RegNet.Tensor(shape: [3], scalars: [0, 1, 2]).shape)
// A custom stem, head and block from the README's public layers, compiled and run.
struct Basic: Block {
    func body(_ c: BlockContext) -> some Layer {
        Residual { Conv(c.outputWidth, kernel: 3, stride: c.stride); BatchNorm(); ReLU(); Conv(c.outputWidth, kernel: 3); BatchNorm() }
        ReLU()
    }
}
let custom = Network("Custom") {
    Stem { Conv(16, kernel: 7, stride: 2, name: "conv"); BatchNorm(name: "bn"); ReLU(); MaxPool(kernel: 3, stride: 2, padding: 1) }
    Body { Stage(depth: 2, width: 32, groupWidth: 32, block: Basic()) }
    Head { GlobalAveragePool(); Dropout(0.2); Linear(10, name: "fc") }
}
let model = try custom.compile(resolution: 64)
let logits = try model(Tensor(shape: model.inputShape, scalars: [Float](repeating: 0.5, count: model.inputShape.reduce(1, *))))
print("custom", logits.shape, logits.scalars.allSatisfy(\.isFinite))

// A newcomer's program: train a network of their own from arrays with AdamW, watch typed progress,
// save, reload and classify a batch size the model was never compiled for.
func arrays(_ count: Int, seed: UInt64) -> (Tensor, [Int]) {   // 3 classes: which third of the image is bright
    var rng = SeededGenerator(seed: seed), pixels: [Float] = [], labels: [Int] = []
    for n in 0..<count {
        labels.append(n % 3)
        for _ in 0..<(3 * 8) { for y in 0..<8 { pixels.append((y * 3 / 8 == n % 3 ? 1 : 0) + 0.2 * Float(rng.nextUnit())) } }
    }
    return (Tensor(shape: [count, 3, 8, 8], scalars: pixels), labels)
}
let (trainImages, trainLabels) = arrays(96, seed: 1), (testImages, testLabels) = arrays(30, seed: 2)
let thirds = Network("Thirds") {
    Stem(8, stride: 1)
    Body { Stage(depth: 1, width: 16, groupWidth: 8, block: Basic()) }
    Head(classes: 3)
}
var recipe = TrainingRecipe()
recipe.epochs = 4
recipe.adamW = TrainingRecipe.AdamW()
recipe.learningRate = 0.01
recipe.weightDecay = 0.05
recipe.emaAlpha = 0
var epochs: [TrainingRun.EpochReport] = []
let trained = try thirds.fit(try NumPyDataset(images: trainImages, labels: trainLabels),
                             validation: try NumPyDataset(images: testImages, labels: testLabels), batch: 16, recipe: recipe) { event in
    if case .epoch(let report) = event { print(report); epochs.append(report) }
}
let file = FileManager.default.temporaryDirectory.appendingPathComponent("thirds-\(UUID().uuidString).safetensors")
defer { try? FileManager.default.removeItem(at: file) }
try trained.save(to: file)
let reloaded = try thirds.compile(resolution: 8, weights: try WeightSet.load(contentsOf: file).weights, batch: 1)
let seven = Tensor(shape: [7, 3, 8, 8], scalars: Array(testImages.scalars[0..<(7 * 192)]))
let predictions = try reloaded(seven).topK(2, labels: ["top", "middle", "bottom"])
print("fit", epochs.count, epochs.allSatisfy { $0.training != nil && $0.test != nil }, trained.validation!.top1Error < 10,
      predictions.map { $0[0].index } == Array(testLabels[0..<7]), predictions[0][0].label ?? "-")
SWIFT
cat > "$work/Downstream/Sources/Models/Models.regnet" <<'REGNET'
# downstream declarations
Small: depth=13 w0=24 wa=36.44 wm=2.49 group_width=8 classes=10
REGNET
cd "$work/Downstream"
echo "downstream: valid declarations must build"
swift build 2>&1 | tail -3
swift run App > run.log
grep -q "Small 198" run.log || { echo "FAIL: the generated network did not run"; cat run.log; exit 1; }
grep -q "qualified 24 \[2\]" run.log || { echo "FAIL: module-qualified names did not resolve"; cat run.log; exit 1; }
grep -q "umbrella 24 RegNetX-200MF true \[3\]" run.log || { echo "FAIL: names qualified with RegNet. did not resolve"; cat run.log; exit 1; }
grep -q "custom \[1, 10, 1, 1\] true" run.log || { echo "FAIL: the custom stem, head and block did not run"; cat run.log; exit 1; }
grep -q "fit 4 true true true top" run.log || { echo "FAIL: fit from arrays (AdamW, typed events, save, reload, topK at a new batch size)"; cat run.log; exit 1; }
echo "downstream: an invalid declaration must fail the build at Models.regnet:3"
echo "Broken: depth=13 w0=20 wa=36.44 wm=2.49 group_width=8" >> Sources/Models/Models.regnet
if swift build > build.log 2>&1; then
  echo "FAIL: the build succeeded with w0=20"; exit 1
fi
grep -E "Models\.regnet:3:[0-9]+: error: w0 must be a positive multiple of 8" build.log \
  || { echo "FAIL: no Models.regnet:3 error in the build output:"; cat build.log; exit 1; }
echo "downstream plugin check passed"

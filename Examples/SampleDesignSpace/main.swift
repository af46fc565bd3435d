// Sampling a design space in a complexity regime, as the paper does.
//
// Draws 100 RegNetX models (b = 1, 12 <= d <= 28, wm >= 2, pycls's samplers) whose flops lie in the
// 360-400 MF regime, writes each model's summary table and a CSV of all of them, and shows how the
// regime shapes the population. Pass an output folder; the default is a new temporary folder.
//
//     swift run SampleDesignSpace [output-folder]
import Foundation
import RegNet

let folder = CommandLine.arguments.count > 1
    ? URL(fileURLWithPath: CommandLine.arguments[1])
    : FileManager.default.temporaryDirectory.appendingPathComponent("regnetx-400mf-\(UUID().uuidString.prefix(8))")

do {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let samples = try RegNetSpace.regNetX.sample(count: 100, seed: 2020, window: ComplexityWindow(flops: 360_000_000...400_000_000))
    var summaries = "", csv = "name,flops,params,acts," + samples[0].configuration.fields.map(\.0).joined(separator: ",") + "\n"
    for sample in samples {
        let summary = Summary(try sample.configuration.network(name: sample.name).lower())
        summaries += summary.table + "\n" + sample.configuration.description + "\n\n"
        csv += "\(sample.name),\(summary.flops),\(summary.params),\(summary.acts),"
            + sample.configuration.fields.map(\.1).joined(separator: ",") + "\n"
    }
    try writeAtomically(Data(summaries.utf8), to: folder.appendingPathComponent("summaries.txt"))
    try writeAtomically(Data(csv.utf8), to: folder.appendingPathComponent("samples.csv"))

    let params = samples.map { Double($0.complexity.params) / 1e6 }.sorted()
    print("100 RegNetX models at 360-400 MF (\(String(format: "%.3g", RegNetSpace.regNetX.size)) configurations in the space)")
    print(String(format: "params: min %.2fM, median %.2fM, max %.2fM", params.first!, params[50], params.last!))
    if case .regNet(let best) = samples.min(by: { $0.complexity.params < $1.complexity.params })!.configuration {
        print("fewest parameters: d=\(best.depth) w0=\(Int(best.w0)) wa=\(best.wa) wm=\(best.wm) g=\(best.groupWidth)")
    }
    print("wrote \(folder.appendingPathComponent("summaries.txt").path) and samples.csv")
} catch {
    print("error: \(error)")
    exit(1)
}

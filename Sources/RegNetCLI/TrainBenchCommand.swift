import Foundation
import RegNet

/// `regnet bench --train`: training steps per second, time per phase and per layer kind, peak memory.
enum TrainBenchCommand {
    struct Report: Encodable {
        var model: String, batch: Int, threads: Int, height: Int, width: Int, isa: String, precision: String
        var median_step_ms: Double, min_step_ms: Double, images_per_second: Double, gflops_per_second: Double
        var forward_ms: Double?, backward_ms: Double?, update_ms: Double?
        var peak_rss_bytes: Int, activation_bytes: Int, parameter_bytes: Int, iterations: Int
        var profile: [Phase]?
    }

    struct Phase: Encodable { var phase: String, kind: String, ms: Double, share: Double, gflops_per_second: Double }

    /// Times `iterations` SGD steps (nesterov, label smoothing 0.1, no EMA) on seeded random data.
    static func run(options: RunOptions, warmup: Int, iterations: Int, json: Bool, profile: Bool) throws {
        let graph = try options.graph()
        var recipe = TrainingRecipe()
        recipe.labelSmoothing = 0.1
        recipe.emaAlpha = 0
        if options.precision == .int8 { throw UsageError("--train runs in fp32 or bf16 (int8 is an inference precision)") }
        recipe.precision = options.precision
        let trainer: Trainer
        do {
            trainer = try Trainer(graph: graph, batch: options.batch, recipe: recipe, weights: options.loadWeights(for: graph),
                                  seed: options.seed, threads: options.threads, kernels: options.kernels)
        } catch let error as TrainingError {
            throw RuntimeError(error.message)
        }
        if trainer.precision != options.precision { printError(Precision.trainingFallbackNote(options.precision, kernels: trainer.kernels)) }
        let images = syntheticInput(shape: [options.batch, graph.inputShape.channels, options.height, options.width], seed: options.seed).scalars
        var rng = SeededGenerator(seed: options.seed)
        let classes = graph.outputShape.channels
        let labels = (0..<options.batch).map { _ in Int(rng.next() % UInt64(classes)) }
        trainer.startEpoch(0, iterations: warmup + iterations)
        do {
            for _ in 0..<warmup { try trainer.step(images: images, labels: labels) }
            trainer.profiling = profile
            var times: [Double] = []
            for _ in 0..<iterations { try times.append(measure { try trainer.step(images: images, labels: labels) }) }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            // A step is 3 × the forward multiply-adds (forward, data gradient, weight gradient), 2 flops each.
            let flops = 3 * 2 * Double(graph.complexity.flops * options.batch)
            var report = Report(model: graph.name, batch: options.batch, threads: trainer.threads, height: options.height,
                                width: options.width, isa: trainer.kernels.name, precision: trainer.precision.rawValue, median_step_ms: median * 1000, min_step_ms: times[0] * 1000,
                                images_per_second: Double(options.batch) / median, gflops_per_second: flops / median / 1e9,
                                peak_rss_bytes: peakResidentBytes(), activation_bytes: trainer.activationBytes,
                                parameter_bytes: trainer.parameterBytes, iterations: iterations)
            if let p = trainer.profile, p.steps > 0 {
                let steps = Double(p.steps)
                report.forward_ms = p.forward.reduce(0, +) / steps * 1000
                report.backward_ms = p.backward.reduce(0, +) / steps * 1000
                report.update_ms = p.update / steps * 1000
                let total = (p.forward.reduce(0, +) + p.backward.reduce(0, +) + p.update) / steps
                var phases: [Phase] = []
                for (phase, seconds, work) in [("forward", p.forward, 1.0), ("backward", p.backward, 2.0)] {
                    for (kind, nodes) in Dictionary(grouping: p.kinds.indices, by: { p.kinds[$0] }) {
                        let s = nodes.reduce(0) { $0 + seconds[$1] } / steps
                        let f = work * 2 * Double(nodes.reduce(0) { $0 + p.flops[$1] })
                        if s > 0 { phases.append(Phase(phase: phase, kind: kind, ms: s * 1000, share: s / total, gflops_per_second: f > 0 ? f / s / 1e9 : 0)) }
                    }
                }
                phases.append(Phase(phase: "update", kind: "sgd", ms: p.update / steps * 1000, share: p.update / steps / total, gflops_per_second: 0))
                report.profile = phases.sorted { $0.ms > $1.ms }
            }
            if json { return try printJSON(report) }
            print("\(report.model)  training  batch \(report.batch)  \(options.height)x\(options.width)  \(report.threads) threads  \(report.isa)  \(report.precision)")
            print(String(format: "step: median %.1f ms, min %.1f ms (%d steps)", report.median_step_ms, report.min_step_ms, iterations))
            print(String(format: "throughput: %.1f images/s, %.1f GFLOP/s (3 × forward multiply-adds × 2)", report.images_per_second, report.gflops_per_second))
            print(String(format: "memory: peak RSS %.1f MiB, activations and gradients %.1f MiB, parameters %.1f MiB",
                         Double(report.peak_rss_bytes) / 1048576, Double(report.activation_bytes) / 1048576, Double(report.parameter_bytes) / 1048576))
            if let phases = report.profile {
                print(String(format: "\nforward %.1f ms, backward %.1f ms, update %.1f ms", report.forward_ms!, report.backward_ms!, report.update_ms!))
                for p in phases {
                    print("  " + pad(p.phase, 9) + pad(p.kind, 17) + String(format: " %8.2f ms  %5.1f%%  ", p.ms, p.share * 100)
                          + (p.gflops_per_second > 0 ? String(format: "%7.1f GFLOP/s", p.gflops_per_second) : ""))
                }
                if let profile = trainer.profile {
                    print("\nslowest layers (forward + backward per step):")
                    let steps = Double(profile.steps)
                    for i in graph.nodes.indices.sorted(by: { profile.forward[$0] + profile.backward[$0] > profile.forward[$1] + profile.backward[$1] }).prefix(12) {
                        print("  " + pad(graph.nodes[i].name, 24) + pad(profile.kinds[i], 17) + pad("\(graph.nodes[i].shape)", 12)
                              + String(format: " forward %7.2f ms  backward %7.2f ms", profile.forward[i] / steps * 1000, profile.backward[i] / steps * 1000))
                    }
                }
            }
        } catch let error as TrainingError {
            throw RuntimeError(error.message)
        }
    }
}

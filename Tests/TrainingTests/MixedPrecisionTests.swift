@testable import Executor
import NetworkIR
import Foundation
import Testing
@testable import Training
import Weights

/// bf16 mixed-precision training (`TrainingRecipe.precision = .bfloat16`) against PyTorch's
/// `torch.autocast` (scripts/make_bf16_training_fixtures.py): one step's gradients, 20 SGD steps'
/// losses, bit-for-bit reproducibility, and the fallback where the CPU has no bf16 dot products.
@Suite struct MixedPrecisionTests {
    /// Whether this CPU trains in bf16 (AVX-512 BF16); elsewhere a bf16 recipe trains in float32.
    static let bf16 = TrainingProgram.supports(.bfloat16, kernels: .best)

    static func recipe(_ c: TrainingCase? = nil) -> TrainingRecipe {
        var recipe = TrainingRecipe()
        recipe.labelSmoothing = 0.1
        recipe.precision = .bfloat16
        if let c, let lr = c.base_lr, let epochs = c.epochs {
            (recipe.learningRate, recipe.epochs, recipe.schedule) = (lr, epochs, .constant)
            (recipe.weightDecay, recipe.batchNormWeightDecay, recipe.emaAlpha) = (5e-4, 0, 0)
        }
        return recipe
    }

    static func cases() throws -> [TrainingCase] { try trainingCases().filter { ["sgd", "x_g8_s2_steps"].contains($0.name) } }

    /// Gradients of one step against PyTorch autocast's, in units of autocast's own distance to float64
    /// (`gap.*`, per tensor, relative to its largest float64 gradient — 1% of the network's largest for
    /// tensors that are zero in exact arithmetic): on average over the tensors ours are at most 1.5 times
    /// as far from float64 as autocast's (measured 0.74 on both cases; 1.19 on "sgd" when its 3x3s of
    /// group width 8 ran in bf16 too), and no tensor is more than 4 gaps from autocast's (measured 2.1
    /// and 1.6; 3.5 then).
    /// These tiny networks at initialisation, batch norm over 4-8 images, amplify bf16 rounding —
    /// autocast's gaps are 0.16-0.4 in the median, and one activation rounding to the other neighbouring
    /// bf16 value moves a gradient by percents — so two correct bf16 implementations (ours keeps float32
    /// activations where autocast stores bf16 ones) differ by about a gap. A mutation that packed each pair
    /// of pixels' first row twice in the weight gradient gave 1.6 and 4.9 on average, up to 12 and 120 gaps.
    /// `BFloat16LayerTests` and `BFloat16ConvolutionTests` check the arithmetic itself, layer by layer, to 1e-5.
    @Test(.enabled(if: bf16, "this CPU has no bf16 dot products (see bf16FallsBackToFloat32)"), arguments: try cases())
    func gradientsMatchAutocast(_ c: TrainingCase) throws {
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: Self.recipe(), weights: c.initialWeights(), threads: 2)
        #expect(trainer.precision == .bfloat16)
        let (images, labels) = try c.batch(0)
        let (loss, _) = try trainer.computeGradients(images: images, labels: labels, mix: nil)
        let reference = try c.reference(".autocast.safetensors")
        #expect(abs(loss - Double(reference["loss"]!.scalars[0])) <= 0.02 * loss, "loss \(loss) vs autocast \(reference["loss"]!.scalars[0])")
        let exact = reference.tensors.filter { $0.key.hasPrefix("exact.") }
        let network = exact.values.map { $0.scalars.map(abs).max() ?? 0 }.max() ?? 0
        #expect(exact.count == trainer.gradients.tensors.count && !exact.isEmpty)
        var worst: Float = 0, ratios: [Float] = []
        for (name, ours) in trainer.gradients.tensors {
            let scale = max(try #require(reference["exact.\(name)"]).scalars.map(abs).max() ?? 0, 1e-2 * network)
            let autocast = zip(ours.scalars, try #require(reference["grad.\(name)"]).scalars).map { abs($0 - $1) }.max()! / scale
            let gap = try #require(reference["gap.\(name)"]).scalars[0]
            #expect(autocast <= 4 * gap, "\(c.name): \(name) is \(autocast) from autocast, whose own gap to float64 is \(gap)")
            worst = max(worst, autocast / gap)
            ratios.append(zip(ours.scalars, try #require(reference["exact.\(name)"]).scalars).map { abs($0 - $1) }.max()! / scale / gap)
        }
        let mean = ratios.reduce(0, +) / Float(ratios.count)
        #expect(mean <= 1.5, "\(c.name): on average \(mean) × autocast's distance from float64")
        print("\(c.name): bf16 gradients at most \(worst) gaps from autocast's; from float64, \(mean) × autocast's distance on average")
    }

    /// The 20 SGD steps of "x_g8_s2_steps" (constant rate 0.02, nesterov, weight decay 5e-4 with batch
    /// norm exempt, label smoothing 0.1) in bf16: every loss within 2% of PyTorch autocast's on the same
    /// weights and batches (autocast's own losses stay within 0.15% of its float32 run's on this case).
    @Test(.enabled(if: bf16, "this CPU has no bf16 dot products (see bf16FallsBackToFloat32)"))
    func twentyStepsFollowAutocast() throws {
        let c = try #require(try trainingCases(kind: "steps").first)
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: Self.recipe(c), weights: c.initialWeights(), threads: 2)
        let losses = try c.trainSteps(trainer)
        let expected = try c.reference(".autocast_steps.safetensors")["loss"]!.scalars.map(Double.init)
        #expect(losses.count == 20 && expected.count == 20)
        var worst = 0.0
        for (i, (mine, theirs)) in zip(losses, expected).enumerated() {
            #expect(abs(mine - theirs) <= 0.02 * theirs, "step \(i + 1): loss \(mine) vs autocast \(theirs)")
            worst = max(worst, abs(mine - theirs) / theirs)
        }
        print("20 bf16 steps: losses at most \(worst) from autocast's")
    }

    /// Same seed and data → the same bits with 1 and 2 threads, and a bf16 run differs from a float32 one
    /// (the recipe's precision is in force).
    @Test(.enabled(if: bf16, "this CPU has no bf16 dot products (see bf16FallsBackToFloat32)"))
    func bf16StepsAreReproducible() throws {
        let c = try #require(try trainingCases(kind: "steps").first)
        func weights(threads: Int, precision: Precision) throws -> [String: [Float]] {
            var recipe = Self.recipe(c)
            recipe.precision = precision
            let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: recipe, weights: c.initialWeights(), threads: threads)
            trainer.startEpoch(0, iterations: 3)
            for i in 0..<3 {
                let (images, labels) = try c.batch(i)
                _ = try trainer.step(images: images, labels: labels)
            }
            return trainer.weights.tensors.mapValues(\.scalars)
        }
        let one = try weights(threads: 1, precision: .bfloat16), two = try weights(threads: 2, precision: .bfloat16)
        #expect(one == two, "1 and 2 threads give the same bits")
        #expect(try weights(threads: 2, precision: .float32) != two)
    }

    /// Values only bf16 GEMMs read (batch-norm and squeeze-excite outputs before 1x1 convolutions,
    /// strided ones included), and the gradients of 1x1 convolutions' outputs that batch norms write,
    /// are stored as bf16: the same logits and gradients, bit for bit, as storing them as float32 (the
    /// GEMMs round what they read to bf16 anyway), in less memory.
    @Test(.enabled(if: bf16, "this CPU has no bf16 dot products (see bf16FallsBackToFloat32)"),
          arguments: ["x_b2_g4", "y_se_clamped_odd", "x_g8_s2_steps", "inverted_residual"])
    func bf16StorageChangesNoBits(_ name: String) throws {
        let c = try #require(try trainingCases().first { $0.name == name })
        let graph = try c.graph(), weights = try c.initialWeights(), images = try c.batch(0).images
        func step(storage: Bool) throws -> (program: TrainingProgram, logits: [Float], gradients: [Float]) {
            let program = try TrainingProgram(graph: graph, batch: c.batch, threads: 2, kernels: .best, batchNormMomentum: 0.1,
                                              precision: .bfloat16, bfloat16Storage: storage)
            program.parameters.load(weights)
            let logits = Array(program.forward(images: images, seed: 7))
            program.backward(outputGradient: logits.indices.map { Float($0 % 5) - 2 })
            let g = program.parameters.gradients
            return (program, logits, Array(UnsafeBufferPointer(start: g.base, count: g.count)))
        }
        let narrow = try step(storage: true), wide = try step(storage: false)
        #expect(narrow.program.storedAsBFloat16.contains(true) && narrow.program.gradientStoredAsBFloat16.contains(true))
        #expect(!wide.program.storedAsBFloat16.contains(true) && !wide.program.gradientStoredAsBFloat16.contains(true))
        #expect(narrow.program.activationBytes < wide.program.activationBytes)
        #expect(narrow.logits == wide.logits && narrow.gradients == wide.gradients, "bf16 storage changed the results")
    }

    /// Where the CPU has no bf16 dot products, or the kernel set asked for has none (AVX2), or they are
    /// slower than fp32 (Intel), a bf16 recipe trains in float32 and says so; int8 is refused.
    @Test func bf16FallsBackToFloat32() throws {
        let c = try #require(try trainingCases(kind: "steps").first)
        for name in ["avx2", "portable"] {
            guard let kernels = KernelSet(named: name) else { continue }
            let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: Self.recipe(), weights: c.initialWeights(), kernels: kernels)
            #expect(trainer.precision == .float32, "\(name) has no bf16 training kernels")
        }
        let best = try Trainer(graph: c.graph(), batch: c.batch, recipe: Self.recipe(), weights: c.initialWeights())
        #expect(best.precision == (Self.bf16 ? .bfloat16 : .float32))
        // On Intel CPUs vdpbf16ps is slower than fp32 FMAs: the rule, whatever this CPU is.
        #expect(BFloat16Arithmetic(.best, vendor: .intel) == nil)
        #expect(BFloat16Arithmetic.unavailability(.best, vendor: .intel)?.contains(KernelSet.best.bfloat16 == nil ? "needs" : "Intel") == true)
        #expect((BFloat16Arithmetic(.best, vendor: .amd) != nil) == (KernelSet.best.bfloat16 != nil && BFloat16TrainingKernels.available != nil))
        var recipe = Self.recipe()
        recipe.precision = .int8
        #expect(throws: TrainingError.self) { try Trainer(graph: c.graph(), batch: c.batch, recipe: recipe) }
    }
}

/// bf16 layers alone against the same arithmetic written out here: operands rounded to bf16 (nearest
/// even), products summed in Double; forward, weight gradient and data gradient within 1e-5.
@Suite struct BFloat16LayerTests {
    /// A layer after a ReLU (fed non-negative images, so the identity; it gives the layer's input a
    /// gradient), optionally added back to it (the data gradient then adds to the sum's).
    struct Layer: Sendable, CustomTestStringConvertible {
        var ci: Int, co: Int, h: Int, w: Int, batch: Int, stride = 1, residual = false, linear = false
        var testDescription: String { "\(linear ? "linear" : "1x1/s\(stride)") \(ci)→\(co) \(h)x\(w)\(residual ? " + residual" : "")" }
    }

    @Test(.enabled(if: MixedPrecisionTests.bf16), arguments: [
        Layer(ci: 19, co: 37, h: 5, w: 7, batch: 3), Layer(ci: 19, co: 37, h: 5, w: 7, batch: 3, stride: 2),
        Layer(ci: 16, co: 16, h: 36, w: 36, batch: 4, residual: true), Layer(ci: 16, co: 32, h: 36, w: 36, batch: 4, stride: 2),
        Layer(ci: 5, co: 11, h: 3, w: 4, batch: 3, linear: true),
    ])
    func layerMultipliesRoundedOperands(_ l: Layer) throws {
        let (ci, co, h, w, batch, stride) = (l.ci, l.co, l.h, l.w, l.batch, l.stride)
        var builder = GraphBuilder(input: FeatureShape(channels: ci, height: h, width: w))
        let relu = try builder.append(.unary(.relu), name: "relu")
        let layer = try builder.append(l.linear ? .linear(inFeatures: ci * h * w, outFeatures: co, bias: true)
                                       : .convolution(Convolution(inChannels: ci, outChannels: co, kernel: 1, stride: stride, bias: true)), name: "layer")
        if l.residual { _ = try builder.append(.add, inputs: [relu, layer], name: "sum") }
        let graph = builder.build(name: "bf16 layer")
        let program = try TrainingProgram(graph: graph, batch: batch, threads: 2, kernels: .best, batchNormMomentum: 0.1, precision: .bfloat16)
        var rng = SeededGenerator(seed: 3)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Double(rng.next() % 20_001) / 10_000 - 1) } }
        let (ho, wo) = l.linear ? (1, 1) : ((h - 1) / stride + 1, (w - 1) / stride + 1), k = l.linear ? ci * h * w : ci
        let weights = random(co * k), bias = random(co), images = random(batch * ci * h * w).map(abs)
        let dy = random(batch * graph.outputShape.elementCount)
        let offsets = (try #require(program.parameters.offset(of: layer, .weight)), try #require(program.parameters.offset(of: layer, .bias)))
        (program.parameters.values.base + offsets.0).update(from: weights, count: weights.count)
        (program.parameters.values.base + offsets.1).update(from: bias, count: bias.count)
        let out = Array(program.forward(images: images, seed: 0))
        program.backward(outputGradient: dy)
        func bf(_ x: Float) -> Double { Double(Float(bitPattern: UInt32(bfloat16Bits(x)) << 16)) }
        // Input feature f of output pixel (n, oy, ox) and where its gradient goes (NHWC): the channel at
        // the strided pixel, or for a linear layer PyTorch's channel-major flattening of the whole map.
        func feature(_ n: Int, _ oy: Int, _ ox: Int, _ f: Int) -> (value: Float, gradient: Int) {
            let (c, y, x) = l.linear ? (f / (h * w), f / w % h, f % w) : (f, oy * stride, ox * stride)
            return (images[((n * ci + c) * h + y) * w + x], ((n * h + y) * w + x) * ci + c)
        }
        var worst = (forward: 0.0, weights: 0.0, data: 0.0)
        var dw = [Double](repeating: 0, count: co * k), dx = [Double](repeating: 0, count: batch * h * w * ci)
        if l.residual { for (i, g) in dy.enumerated() { dx[i] = Double(g) } }
        for n in 0..<batch {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    let p = (n * ho + oy) * wo + ox
                    for o in 0..<co {
                        var sum = Double(bias[o])
                        for f in 0..<k {
                            let (x, g) = feature(n, oy, ox, f)
                            sum += bf(x) * bf(weights[o * k + f])
                            dw[o * k + f] += bf(dy[p * co + o]) * bf(x)
                            dx[g] += bf(dy[p * co + o]) * bf(weights[o * k + f])
                        }
                        if l.residual { sum += Double(feature(n, oy, ox, o).value) }
                        worst.forward = max(worst.forward, abs(sum - Double(out[p * co + o])))
                    }
                }
            }
        }
        let gw = program.parameters.gradients.base + offsets.0, gx = try #require(program.grad(relu))
        for i in dw.indices { worst.weights = max(worst.weights, abs(dw[i] - Double(gw[i])) / max(1, abs(dw[i]))) }
        for i in dx.indices { worst.data = max(worst.data, abs(dx[i] - Double(gx[i]))) }
        #expect(worst.forward <= 1e-5 && worst.weights <= 1e-5 && worst.data <= 1e-5, "\(worst)")
    }
}

/// k×k convolutions alone in a bf16 program: where bf16 tiles are faster (`bfloat16IsFaster`) the forward
/// and the data gradient multiply bf16-rounded operands, elsewhere (groups 8 wide, a 3-channel stem)
/// float32 ones; the weight gradient float32 ones. Against the same arithmetic in Double, within 1e-5.
@Suite struct BFloat16ConvolutionTests {
    struct Layer: Sendable, CustomTestStringConvertible {
        var ci: Int, co: Int, groups: Int, kernel = 3, stride = 1, h = 9, w = 11, batch = 2
        var testDescription: String { "\(kernel)x\(kernel)/s\(stride) \(ci)→\(co) in \(groups) groups, \(h)x\(w)" }
    }

    @Test(.enabled(if: MixedPrecisionTests.bf16), arguments: [
        Layer(ci: 32, co: 32, groups: 2), Layer(ci: 48, co: 48, groups: 2, stride: 2), Layer(ci: 18, co: 18, groups: 2),
        Layer(ci: 8, co: 10, groups: 2, kernel: 5, stride: 3, h: 13, w: 14), Layer(ci: 40, co: 40, groups: 4, h: 7, w: 7),
        Layer(ci: 16, co: 16, groups: 2, stride: 2), Layer(ci: 3, co: 24, groups: 1, stride: 2, h: 16, w: 16),
    ])
    func convolutionMultipliesRoundedOperands(_ l: Layer) throws {
        let conv = Convolution(inChannels: l.ci, outChannels: l.co, kernel: l.kernel, stride: l.stride, groups: l.groups, bias: true)
        var builder = GraphBuilder(input: FeatureShape(channels: l.ci, height: l.h, width: l.w))
        let relu = try builder.append(.unary(.relu), name: "relu")
        let layer = try builder.append(.convolution(conv), name: "conv")
        let graph = builder.build(name: "bf16 convolution")
        let program = try TrainingProgram(graph: graph, batch: l.batch, threads: 2, kernels: .best, batchNormMomentum: 0.1, precision: .bfloat16)
        var rng = SeededGenerator(seed: 5)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Double(rng.next() % 20_001) / 10_000 - 1) } }
        let (k, cig, cog, p, s) = (l.kernel, conv.inChannelsPerGroup, conv.outChannelsPerGroup, conv.padding, l.stride)
        let out = graph.outputShape, (ho, wo) = (out.height, out.width)
        let weights = random(l.co * cig * k * k), bias = random(l.co), images = random(l.batch * l.ci * l.h * l.w).map(abs)
        let dy = random(l.batch * out.elementCount)
        let offsets = (try #require(program.parameters.offset(of: layer, .weight)), try #require(program.parameters.offset(of: layer, .bias)))
        (program.parameters.values.base + offsets.0).update(from: weights, count: weights.count)
        (program.parameters.values.base + offsets.1).update(from: bias, count: bias.count)
        let y = Array(program.forward(images: images, seed: 0))
        program.backward(outputGradient: dy)
        let rounded = ConvolutionOperation.bfloat16IsFaster(conv)
        #expect(rounded == !(cig == 8 && cog == 8 || cig <= 3))
        func bf(_ x: Float) -> Double { rounded ? Double(Float(bitPattern: UInt32(bfloat16Bits(x)) << 16)) : Double(x) }
        var worst = (forward: 0.0, weights: 0.0, data: 0.0)
        var dw = [Double](repeating: 0, count: weights.count), dx = [Double](repeating: 0, count: images.count)
        for n in 0..<l.batch {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    for o in 0..<l.co {
                        let g = o / cog, d = dy[((n * ho + oy) * wo + ox) * l.co + o]
                        var sum = Double(bias[o])
                        for i in 0..<cig {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let iy = oy * s - p + ky, ix = ox * s - p + kx
                                    guard iy >= 0, iy < l.h, ix >= 0, ix < l.w else { continue }
                                    let c = g * cig + i, x = images[((n * l.ci + c) * l.h + iy) * l.w + ix], wi = ((o * cig + i) * k + ky) * k + kx
                                    sum += bf(x) * bf(weights[wi])
                                    dw[wi] += Double(d) * Double(x)
                                    dx[((n * l.h + iy) * l.w + ix) * l.ci + c] += bf(d) * bf(weights[wi])
                                }
                            }
                        }
                        worst.forward = max(worst.forward, abs(sum - Double(y[((n * ho + oy) * wo + ox) * l.co + o])))
                    }
                }
            }
        }
        let gw = program.parameters.gradients.base + offsets.0, gx = try #require(program.grad(relu))
        for i in dw.indices { worst.weights = max(worst.weights, abs(dw[i] - Double(gw[i])) / max(1, abs(dw[i]))) }
        for i in dx.indices { worst.data = max(worst.data, abs(dx[i] - Double(gx[i]))) }
        #expect(worst.forward <= 1e-5 && worst.weights <= 1e-5 && worst.data <= 1e-5, "\(worst)")
    }
}

import NetworkIR

/// A 1x1 unpadded, ungrouped convolution (any stride) or a linear layer, as GEMMs over pixels:
/// forward Y = A·Wᵀ, data gradient dA = dY·W, weight gradient dW = dYᵀ·A (reduced over pixels in
/// fixed chunks). A is the input itself, or a gathered copy for strided convolutions and for linear
/// layers over a spatial input (which PyTorch flattens channel-major).
///
/// In bf16 (mixed precision), all three multiply bf16 operands with float32 sums: the forward and the
/// data gradient on the inference bf16 GEMM (`GemmStep` with bf16 panels of W or Wᵀ, A rounded as it is
/// packed), the weight gradient on pair-packed operands (`GradientGemm.tnBFloat16`).
struct PointwiseOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let inShape: FeatureShape
    let outChannels: Int
    let stride: Int
    /// A linear layer over a spatial input reads features in NCHW order.
    let channelMajorFeatures: Bool
    let weight: Int
    let bias: Int?
    /// Whether it multiplies in bf16.
    var bfloat16 = false
    var savedForBackward: [NodeIndex] { [input] }

    /// Features per row of A.
    var k: Int { channelMajorFeatures ? inShape.elementCount : inShape.channels }
    var outHeight: Int { channelMajorFeatures ? 1 : (inShape.height - 1) / stride + 1 }
    var outWidth: Int { channelMajorFeatures ? 1 : (inShape.width - 1) / stride + 1 }
    /// Whether A must be gathered rather than read in place.
    var gathers: Bool { stride > 1 || (channelMajorFeatures && inShape.height * inShape.width > 1) }

    func rows(batch: Int) -> Int { batch * outHeight * outWidth }

    /// Forward: W packed in panels, and A gathered when it is not read in place. Backward: A gathered
    /// again, its gradient before it is scattered back, the weight gradient's partial sums, and the
    /// bias's column sums.
    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] {
        let m = rows(batch: batch)
        let nr = kernels.nr
        var requests = [ScratchRequest("panels", floats: GemmStep.panelFloats(k: k, n: outChannels, nr: nr) + (outChannels + nr - 1) / nr * nr,
                                       in: .forward),
                        ScratchRequest("partials", floats: GradientGemm.partialFloats(k: m, m: outChannels, n: k), in: .backward)]
        if bfloat16, let bf16 = kernels.bfloat16 {
            requests[0] = ScratchRequest("panels", floats: Self.bfloat16PanelFloats(k: k, n: outChannels, nr: bf16.nr), in: .forward)
            requests += [ScratchRequest("panels", floats: Self.bfloat16PanelFloats(k: outChannels, n: k, nr: bf16.nr), in: .backward),
                         ScratchRequest("pairs", floats: GradientGemm.pairFloats(k: m, m: outChannels, n: k), in: .backward)]
        }
        if gathers {
            // The forward reads strided rows itself (the GEMM step packs them); only a flattened map is gathered.
            if channelMajorFeatures {
                let slack = GemmStep.overRead(channels: k, element: .float32, kernels: kernels) / ElementType.float32.byteCount
                requests.append(ScratchRequest("gathered", floats: m * k + slack, in: .forward))
            }
            requests += [ScratchRequest("gathered", floats: m * k, in: .backward), ScratchRequest("gathered gradient", floats: m * k, in: .backward)]
        }
        if bias != nil { requests += ColumnSums.scratch(rows: m, columns: outChannels, in: .backward) }
        return requests
    }

    /// The forward's GEMM tiles read whole tiles of the input's rows (`GemmStep.overRead`), unless
    /// they read a gathered copy.
    func overRead(kernels: KernelSet) -> [NodeIndex: Int] {
        channelMajorFeatures && gathers ? [:] : [input: GemmStep.overRead(channels: k, element: .float32, kernels: kernels)]
    }

    /// A bf16 layer reads an input stored as bf16 (a spatial one; a linear layer's is gathered channel-major).
    func readsBFloat16(_ input: NodeIndex) -> Bool { bfloat16 && !channelMajorFeatures }
    /// And its output's gradient stored as bf16, unless it sums it in float32 for a bias.
    var readsBFloat16Gradient: Bool { bfloat16 && !channelMajorFeatures && bias == nil }

    /// A for this batch: the input, or its gathered rows in scratch "gathered" (bf16 when the input is).
    private func matrixA(_ c: StepContext) -> UnsafeMutablePointer<Float> {
        let x = c.values[input]
        guard gathers else { return x }
        let a = c.scratch("gathered"), k = k, s = inShape
        if channelMajorFeatures {
            let pixels = s.height * s.width
            c.parallel(c.batch) { images in
                for n in images { Flatten.channelMajor(channels: s.channels, pixels: pixels, into: a + n * k) { UnsafePointer(x + (n * pixels + $0) * s.channels) } }
            }
        } else {
            let (ho, wo, stride) = (outHeight, outWidth, stride), bytes = c.element(of: input).byteCount
            let from = UnsafeRawPointer(x), to = UnsafeMutableRawPointer(a)
            c.parallel(c.batch * ho) { r in
                for row in r {
                    let n = row / ho, y = row % ho
                    for xo in 0..<wo {
                        (to + (row * wo + xo) * k * bytes).copyMemory(from: from + ((n * s.height + y * stride) * s.width + xo * stride) * k * bytes,
                                                                      byteCount: k * bytes)
                    }
                }
            }
        }
        return a
    }

    /// The inference GEMM step (`GemmStep`, its tiles and epilogue) over this batch: W packed into the
    /// kernels' panels with the bias after them, A the input read in place (strided rows through the
    /// step's packing) or, for a linear layer over a map, gathered channel-major.
    func forward(_ c: StepContext) {
        if bfloat16, let bf16 = c.bfloat16?.kernels { return bfloat16Forward(c, bf16) }
        let k = k, n = outChannels, nr = c.kernels.nr, panels = (n + nr - 1) / nr
        let packed = c.scratch("panels"), w = UnsafePointer(c.parameters + weight), biasOffset = GemmStep.panelFloats(k: k, n: n, nr: nr)
        c.parallel(panels) { mine in GemmStep.packPanels(w, k: k, n: n, nr: nr, panels: mine, into: packed) }
        let bias = packed + biasOffset
        bias.update(repeating: 0, count: panels * nr)
        if let b = self.bias { bias.update(from: c.parameters + b, count: n) }
        let flat = channelMajorFeatures, a = flat ? matrixA(c) : c.values[input]
        let input = c.layout(of: a, flat ? FeatureShape(channels: k, height: 1, width: 1) : inShape)
        let output = c.layout(of: c.values[node], FeatureShape(channels: n, height: outHeight, width: outWidth))
        let step = GemmStep(input: 0, output: 1, residual: nil, inputScale: nil, stride: flat ? 1 : stride, k: k, n: n, weights: 0,
                            bias: biasOffset, activation: .none)
        let context = c.inferenceContext(layouts: [input, output], weights: packed)
        c.everyWorker { worker, workers in step.run(context, images: 0..<c.batch, worker: worker, workers: workers) }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        let m = rows(batch: c.batch), k = k, n = outChannels
        if let bias {
            let sums = ColumnSums.moments(c, rows: m, columns: n, a: dy).sums
            for j in 0..<n { c.parameterGrads[bias + j] = Float(sums[j]) }
        }
        let a = matrixA(c)
        if bfloat16, c.bfloat16 != nil { return bfloat16Backward(c, dy: dy, a: a, accumulate: accumulate[0]) }
        if !gathers, GradientGemm.chunks(k: m) >= 4, let dx = c.grads[input] {
            return GradientGemm.dataAndWeightGradients(c, m: m, n: n, k: k, dy: dy, a: a, w: c.parameters + weight, dx: dx,
                                               accumulate: accumulate[0], dw: c.parameterGrads + weight, partial: c.scratch("partials"))
        }
        // Weight gradient: dW[co][ci] = Σ_p dY[p][co] · A[p][ci], reading A's rows in place.
        GradientGemm.tn(c, m: n, n: k, k: m, a: dy, lda: n, b: a, ldb: k, out: c.parameterGrads + weight, ldc: k, partial: c.scratch("partials"))
        // Data gradient: dA = dY · W, reading W's rows ([out][in]) in place.
        guard let dx = c.grads[input] else { return }
        let w = c.parameters + weight
        guard gathers else {
            return GradientGemm.nn(c, m: m, n: k, k: n, a: dy, lda: n, b: w, ldb: k, out: dx, ldc: k, accumulate: accumulate[0])
        }
        GradientGemm.nn(c, m: m, n: k, k: n, a: dy, lda: n, b: w, ldb: k, out: c.scratch("gathered gradient"), ldc: k, accumulate: false)
        scatterGatheredGradient(c, into: dx, accumulate: accumulate[0])
    }

    /// The gradient of the gathered A (scratch "gathered gradient") back into the input's gradient: written,
    /// or added where `add`.
    private func scatterGatheredGradient(_ c: StepContext, into dx: UnsafeMutablePointer<Float>, accumulate add: Bool) {
        let da = c.scratch("gathered gradient"), s = inShape, k = k
        if channelMajorFeatures {
            let pixels = s.height * s.width
            c.parallel(c.batch) { images in
                for img in images {
                    for p in 0..<pixels {
                        for ch in 0..<s.channels {
                            let i = (img * pixels + p) * s.channels + ch, v = da[img * k + ch * pixels + p]
                            dx[i] = add ? dx[i] + v : v
                        }
                    }
                }
            }
        } else {
            let (ho, wo, stride) = (outHeight, outWidth, stride)
            c.parallel(c.batch * s.height) { r in
                for row in r {
                    let img = row / s.height, y = row % s.height
                    let out = dx + row * s.width * k
                    if !add { out.update(repeating: 0, count: s.width * k) }
                    guard y % stride == 0, y / stride < ho else { continue }
                    for xo in 0..<wo {
                        let src = da + ((img * ho + y / stride) * wo + xo) * k, dst = out + xo * stride * k
                        for ch in 0..<k { dst[ch] += src[ch] }
                    }
                }
            }
        }
    }
}

// MARK: bf16

extension PointwiseOperation {
    /// Floats of scratch for W[n][k] as bf16 panels (`bfloat16Panels`): the float32 packing, the bf16
    /// panels and the padded bias.
    static func bfloat16PanelFloats(k: Int, n: Int, nr: Int) -> Int {
        let floats = GemmStep.panelFloats(k: k, n: n, nr: nr, group: 2)
        return floats + (floats + 1) / 2 + (n + nr - 1) / nr * nr
    }

    /// This layer's weights as the bf16 GEMM's panels in scratch `"panels"` — W[n][k] for the forward, or
    /// Wᵀ for the data gradient (`transposed`) — packed in float32, rounded to bf16 (nearest even), and
    /// followed by the bias or zeros. Returns the scratch and the offsets of the panels and the bias in it.
    private func bfloat16Panels(_ c: StepContext, _ bf16: BFloat16Kernels, transposed: Bool)
        -> (base: UnsafeMutablePointer<Float>, weights: Int, bias: Int) {
        let (k, n) = transposed ? (outChannels, self.k) : (self.k, outChannels), nr = bf16.nr, panels = (n + nr - 1) / nr
        let staging = c.scratch("panels"), floats = GemmStep.panelFloats(k: k, n: n, nr: nr, group: 2)
        let w = UnsafePointer(c.parameters + weight)
        c.parallel(panels) { mine in GemmStep.packPanels(w, k: k, n: n, nr: nr, group: 2, transposed: transposed, panels: mine, into: staging) }
        bf16.convert(floats, staging, UnsafeMutableRawPointer(staging + floats).assumingMemoryBound(to: UInt16.self))
        let biasOffset = floats + (floats + 1) / 2, bias = staging + biasOffset
        bias.update(repeating: 0, count: panels * nr)
        if !transposed, let b = self.bias { bias.update(from: c.parameters + b, count: n) }
        return (staging, floats, biasOffset)
    }

    /// Y = A·Wᵀ on the bf16 GEMM step (A rounded as its tiles are packed).
    fileprivate func bfloat16Forward(_ c: StepContext, _ bf16: BFloat16Kernels) {
        let panels = bfloat16Panels(c, bf16, transposed: false), flat = channelMajorFeatures
        let a = flat ? matrixA(c) : c.values[input]
        let input = flat ? c.layout(of: a, FeatureShape(channels: k, height: 1, width: 1)) : c.layout(of: a, inShape, element: c.element(of: input))
        let output = c.layout(of: c.values[node], FeatureShape(channels: outChannels, height: outHeight, width: outWidth))
        var step = GemmStep(input: 0, output: 1, residual: nil, inputScale: nil, stride: flat ? 1 : stride, k: k, n: outChannels,
                            weights: panels.weights, bias: panels.bias, activation: .none)
        step.operands = .bfloat16
        let context = c.inferenceContext(layouts: [input, output], weights: panels.base)
        c.everyWorker { worker, workers in step.run(context, images: 0..<c.batch, worker: worker, workers: workers) }
    }

    /// dW = dYᵀ·A on pair-packed bf16 operands, then dA = dY·W on the bf16 GEMM step with Wᵀ's panels
    /// (the input's gradient as the residual when it adds to another consumer's), scattered back when A
    /// was gathered.
    fileprivate func bfloat16Backward(_ c: StepContext, dy: UnsafeMutablePointer<Float>, a: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let m = rows(batch: c.batch), k = k, n = outChannels
        let dyElement = c.gradientElement(of: node)
        GradientGemm.tnBFloat16(c, m: n, n: k, k: m, a: .init(base: dy, element: dyElement, ld: n),
                                b: .init(base: a, element: c.element(of: input), ld: k),
                                out: c.parameterGrads + weight, ldc: k, partial: c.scratch("partials"), pairs: c.scratch("pairs"))
        guard let dx = c.grads[input], let bf16 = c.bfloat16?.kernels else { return }
        let panels = bfloat16Panels(c, bf16, transposed: true)
        let shape = { (channels: Int) in FeatureShape(channels: channels, height: outHeight, width: outWidth) }
        let add = accumulate && !gathers
        var step = GemmStep(input: 0, output: 1, residual: add ? 1 : nil, inputScale: nil, stride: 1, k: n, n: k,
                            weights: panels.weights, bias: panels.bias, activation: .none)
        step.operands = .bfloat16
        let target = gathers ? c.scratch("gathered gradient") : dx
        let context = c.inferenceContext(layouts: [c.layout(of: dy, shape(n), element: dyElement), c.layout(of: target, shape(k))],
                                         weights: panels.base)
        c.everyWorker { worker, workers in step.run(context, images: 0..<c.batch, worker: worker, workers: workers) }
        if gathers { scatterGatheredGradient(c, into: dx, accumulate: accumulate) }
    }
}

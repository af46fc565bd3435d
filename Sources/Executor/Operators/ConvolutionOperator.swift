import Kernels

/// Direct (grouped) convolution: for each output row, group and 16-channel block, tiles of `xb`
/// pixels. The input carries a zero ring as wide as the padding, so taps need no bounds checks.
enum ConvolutionOperator {
    static func run(_ step: ConvolutionStep, images: Range<Int>, plan: ExecutionPlan, kernels: KernelSet,
                    arena: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, worker: Int, workers: Int) {
        let input = plan.layouts[step.input], output = plan.layouts[step.output]
        let rows = images.count * output.height, firstRow = images.lowerBound * output.height
        output.zeroPadding(rows: imageRows(images, output.height, worker, workers), in: arena)
        // Few rows (late stages at batch 1): split each row's groups too, so every worker has work.
        let chunks = rows >= 4 * workers ? 1 : min(step.groups, max(1, (4 * workers + rows - 1) / rows))
        let xb = kernels.xb, conv = kernels.conv, k = step.kernel, s = step.stride
        let blockWeights = k * k * step.inPerGroup * 16
        for item in share(rows * chunks, worker, workers) {
            let row = firstRow + item / chunks, chunk = item % chunks
            let n = row / output.height, y = row % output.height
            for g in share(step.groups, chunk, chunks) {
                for b in 0..<step.blocksPerGroup {
                    let block = g * step.blocksPerGroup + b
                    let co = min(16, step.outPerGroup - b * 16)
                    let w = weights + step.weights + block * blockWeights
                    let bias = weights + step.bias + block * 16
                    var x = 0
                    while x < output.width {
                        let count = min(xb, output.width - x)
                        let src = arena + input.index(n, y * s - step.padding, x * s - step.padding) + g * step.inPerGroup
                        let dst = arena + output.index(n, y, x) + g * step.outPerGroup + b * 16
                        conv(count, co, k, k, step.inPerGroup, src, input.rowStride, input.channels, s * input.channels,
                             w, bias, dst, output.channels, step.activation.rawValue)
                        x += count
                    }
                }
            }
        }
    }
}

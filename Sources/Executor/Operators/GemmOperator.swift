import Kernels

/// 1x1 convolution or linear layer as a GEMM over output pixels: tiles of `mr` pixels × panels of `nr`
/// channels, A read in place (stride-s pixels for projections), C and the residual addressed per row,
/// so padded outputs and strided inputs need no copies.
enum GemmOperator {
    static func run(_ step: GemmStep, plan: ExecutionPlan, kernels: KernelSet, arena: UnsafeMutablePointer<Float>,
                    weights: UnsafePointer<Float>, worker: Int, workers: Int) {
        let input = plan.layouts[step.input], output = plan.layouts[step.output]
        let residual = step.residual.map { plan.layouts[$0] }
        let mr = kernels.mr, nr = kernels.nr, gemm = kernels.gemm
        let height = output.height, width = output.width, pixels = height * width
        // Stride-1 reads of an unpadded input are one contiguous run of pixels for the whole batch.
        let contiguous = step.stride == 1 && input.padding == 0
        let segmentLength = contiguous ? plan.batch * pixels : width
        let segments = contiguous ? 1 : plan.batch * height
        let tilesPerSegment = (segmentLength + mr - 1) / mr
        let panels = (step.n + nr - 1) / nr
        output.zeroPadding(rows: share(plan.batch * height, worker, workers), in: arena)

        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 2 * mr) { rows in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 2 * mr) { residualRows in
                let cRows = rows.baseAddress!, rRows = residualRows.baseAddress!
                for tile in share(segments * tilesPerSegment, worker, workers) {
                    let segment = tile / tilesPerSegment, first = (tile % tilesPerSegment) * mr
                    let m = min(mr, segmentLength - first)
                    let a: UnsafePointer<Float>
                    let lda: Int
                    var n: Int, y: Int, x: Int
                    if contiguous {
                        a = UnsafePointer(arena + input.offset + first * step.k)
                        lda = step.k
                        (n, y, x) = (first / pixels, (first % pixels) / width, first % width)
                    } else {
                        (n, y, x) = (segment / height, segment % height, first)
                        a = UnsafePointer(arena + input.index(n, y * step.stride, x * step.stride))
                        lda = step.stride * input.channels
                    }
                    for i in 0..<m {
                        cRows[i] = arena + output.index(n, y, x)
                        rRows[i] = residual.map { UnsafePointer(arena + $0.index(n, y, x)) }
                        x += 1
                        if x == width { x = 0; y += 1 }
                        if y == height { y = 0; n += 1 }
                    }
                    for p in 0..<panels {
                        let column = p * nr
                        for i in 0..<m {
                            cRows[mr + i] = cRows[i]! + column
                            rRows[mr + i] = rRows[i].map { $0 + column }
                        }
                        gemm(m, min(nr, step.n - column), step.k, a, lda, weights + step.weights + p * step.k * nr,
                             cRows + mr, residual == nil ? nil : UnsafePointer(rRows + mr), weights + step.bias + column,
                             step.activation.rawValue)
                    }
                }
            }
        }
    }
}

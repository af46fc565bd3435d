import Foundation
import Kernels

/// 1x1 convolution or linear layer as a GEMM over output pixels: tiles of `mr` pixels × panels of `nr`
/// channels, A read in place (stride-s pixels for projections), C and the residual addressed per row,
/// so padded outputs and strided inputs need no copies.
///
/// Panels are taken in blocks that fit in L2, and each worker passes all its row tiles over one block
/// before the next, so B streams from L3 once per block rather than once per tile.
enum GemmOperator {
    /// Bytes of packed B one block may take (`REGNET_GEMM_BLOCK_KB` overrides, for tuning).
    static let blockBytes = (ProcessInfo.processInfo.environment["REGNET_GEMM_BLOCK_KB"].flatMap { Int($0) } ?? 384) * 1024

    static func run(_ step: GemmStep, images: Range<Int>, plan: ExecutionPlan, kernels: KernelSet, arena: UnsafeMutablePointer<Float>,
                    weights: UnsafePointer<Float>, worker: Int, workers: Int) {
        let input = plan.layouts[step.input], output = plan.layouts[step.output]
        let residual = step.residual.map { plan.layouts[$0] }
        let mr = kernels.mr, nr = kernels.nr, gemm = kernels.gemm
        let height = output.height, width = output.width, pixels = height * width
        // Stride-1 reads of an unpadded input are one contiguous run of pixels (across images when they have slots).
        let contiguous = step.stride == 1 && input.padding == 0 && (images.count == 1 || input.perImageSlots)
        let segmentLength = contiguous ? images.count * pixels : width
        let segments = contiguous ? 1 : images.count * height
        let firstPixel = images.lowerBound * pixels
        let tilesPerSegment = (segmentLength + mr - 1) / mr
        let panels = (step.n + nr - 1) / nr
        let panelsPerBlock = max(1, blockBytes / (step.k * nr * 4))
        let tiles = share(segments * tilesPerSegment, worker, workers)
        output.zeroPadding(rows: imageRows(images, height, worker, workers), in: arena)

        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 2 * mr) { rows in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 2 * mr) { residualRows in
                let cRows = rows.baseAddress!, rRows = residualRows.baseAddress!
                for firstPanel in stride(from: 0, to: panels, by: panelsPerBlock) {
                    for tile in tiles {
                        let segment = tile / tilesPerSegment, first = (tile % tilesPerSegment) * mr
                        let m = min(mr, segmentLength - first)
                        let a: UnsafePointer<Float>
                        let lda: Int
                        var n: Int, y: Int, x: Int
                        if contiguous {
                            let q = firstPixel + first
                            (n, y, x) = (q / pixels, (q % pixels) / width, q % width)
                            a = UnsafePointer(arena + input.index(n, y, x))
                            lda = step.k
                        } else {
                            (n, y, x) = (images.lowerBound + segment / height, segment % height, first)
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
                        for p in firstPanel..<min(panels, firstPanel + panelsPerBlock) {
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
}

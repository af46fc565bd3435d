import Foundation
import Kernels
import Testing
@testable import Executor

/// The inference micro-kernels of every instruction set this CPU runs, against scalar references in
/// Double over edge sizes: GEMM tiles with every row count up to mr and column counts around the
/// panel width (remainders, several panels, a column offset), with and without bias and residual,
/// each activation; every convolution tile a set's table lists, alone, for every pixel count up to its
/// width and channel counts up to its lanes; packing with and without gates. Values past the written region must stay untouched.
@Suite struct InferenceKernelTests {
    static let sets = KernelSet.available.map(\.name)

    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(((($0 + 1) * 7919 + seed * 104_729) % 2003)) / 1001.5 - 1 }
    }

    static func activate(_ v: Double, _ act: Int32) -> Double {
        switch act {
        case 1: max(v, 0)
        case 2: 1 / (1 + exp(-v))
        default: v
        }
    }

    @Test(arguments: sets)
    func gemmTilesMatchTheScalarReference(_ name: String) throws {
        let set = try #require(KernelSet(named: name)), mr = set.mr, nr = set.nr
        let sentinel: Float = 12345
        var cases = 0
        for m in Set([1, mr - 1, mr]) where m >= 1 {
            for n in Set([1, 7, 15, 16, 17, nr - 1, nr, nr + 3, 2 * nr + 5]) where n >= 1 {
                for k in [1, 3, 17] {
                    for (useBias, useResidual, act) in [(false, false, Int32(0)), (true, false, 1), (true, true, 2), (false, true, 1)] {
                        let lda = k + 2, col = 3, width = col + n + 4, panels = (n + nr - 1) / nr
                        let a = Self.values(mr * lda, seed: m + n), w = Self.values(n * k, seed: k)
                        var b = [Float](repeating: 0, count: panels * k * nr)
                        for j in 0..<n { for p in 0..<k { b[(j / nr * k + p) * nr + j % nr] = w[j * k + p] } }
                        var bias = [Float](repeating: 0, count: panels * nr)
                        for j in 0..<n { bias[j] = Float(j % 5) * 0.25 - 0.5 }
                        let residual = Self.values(m * width, seed: 3)
                        var c = [Float](repeating: sentinel, count: mr * width)
                        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in
                            residual.withUnsafeBufferPointer { rp in c.withUnsafeMutableBufferPointer { cp in
                                let cRows = (0..<mr).map { Optional(cp.baseAddress! + $0 * width) }
                                let rRows = (0..<mr).map { Optional(UnsafePointer(rp.baseAddress! + min($0, m - 1) * width)) }
                                cRows.withUnsafeBufferPointer { crows in rRows.withUnsafeBufferPointer { rrows in
                                    set.gemm(m, n, k, ap.baseAddress!, lda, bp.baseAddress!, col, crows.baseAddress!,
                                             useResidual ? rrows.baseAddress! : nil, useBias ? biasp.baseAddress! : nil, act)
                                } }
                            } }
                        } } }
                        for i in 0..<mr {
                            for j in 0..<width {
                                let got = c[i * width + j]
                                guard i < m, j >= col, j < col + n else {
                                    #expect(got == sentinel, "\(name) gemm m\(m) n\(n) k\(k): wrote outside the tile at row \(i), column \(j)")
                                    continue
                                }
                                var sum = useBias ? Double(bias[j - col]) : 0
                                if useResidual { sum += Double(residual[i * width + j]) }
                                for p in 0..<k { sum += Double(a[i * lda + p]) * Double(w[(j - col) * k + p]) }
                                let expected = Self.activate(sum, act)
                                #expect(abs(Double(got) - expected) <= 1e-5 * max(1, abs(expected)),
                                        "\(name) gemm m\(m) n\(n) k\(k) act\(act): [\(i)][\(j)] \(got) vs \(expected)")
                            }
                        }
                        cases += 1
                    }
                }
            }
        }
        #expect(cases > 50)
    }

    /// Every tile of every set's table, called alone (`KernelSet.tiles`: conv_14x16_avx512, conv_8x8_avx512, …)
    /// for every pixel count up to its width and channel counts up to its lanes, and each set's dispatching
    /// `conv` for every pixel count up to `xb`.
    @Test(arguments: sets)
    func convolutionTilesMatchTheScalarReference(_ name: String) throws {
        let set = try #require(KernelSet(named: name))
        #expect(!set.tiles.isEmpty && set.tiles.allSatisfy { $0.xb <= set.xb }, "\(name): its table lists its tiles")
        var tested: [String] = []
        for tile in set.tiles {
            let lanes = Int(tile.lanes)
            for xb in 1...Int(tile.xb) {
                for co in Set([1, 7, lanes]) { try checkConvolution(name: String(cString: tile.name), tile.fn, width: Int(tile.xb), xb: xb, co: co) }
            }
            tested.append(String(cString: tile.name))
        }
        for xb in 1...set.xb { for co in [1, 7, 16] { try checkConvolution(name: "\(name) conv", set.conv, width: set.xb, xb: xb, co: co) } }
        print("\(name): convolution tiles tested alone: \(tested.joined(separator: ", "))")
    }

    /// One call of a convolution tile `fn` (at most `width` pixels) against the scalar reference, over
    /// kernel sizes, input channels and activations; nothing written outside the xb × co tile.
    func checkConvolution(name: String, _ fn: rn_conv_fn, width: Int, xb: Int, co: Int) throws {
        let sentinel: Float = -777
        for (kernel, ci) in [(1, 1), (3, 5), (3, 16), (5, 2)] {
            for act in [Int32(0), 1, 2] {
                // Input: pixels `stride` apart in rows of `inRow` floats, channels contiguous.
                let stride = 2, inPixel = stride * ci + 1, inCol = inPixel, inRow = (xb * stride + kernel + 2) * inPixel
                let input = Self.values(kernel * inRow + xb * inPixel + ci, seed: ci + kernel)
                let w = Self.values(kernel * kernel * ci * 16, seed: co)
                let bias = (0..<16).map { Float($0) * 0.1 - 0.8 }
                let outPixel = 20
                var out = [Float](repeating: sentinel, count: width * outPixel)
                input.withUnsafeBufferPointer { ip in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { op in
                        fn(xb, co, kernel, kernel, ci, ip.baseAddress!, inRow, inCol, inPixel, wp.baseAddress!, bp.baseAddress!,
                           op.baseAddress!, outPixel, act)
                    }
                } } }
                for p in 0..<width {
                    for j in 0..<outPixel {
                        let got = out[p * outPixel + j]
                        guard p < xb, j < co else {
                            #expect(got == sentinel, "\(name) xb\(xb) co\(co): wrote outside the tile at pixel \(p), channel \(j)")
                            continue
                        }
                        var sum = Double(bias[j])
                        for ky in 0..<kernel {
                            for kx in 0..<kernel {
                                for c in 0..<ci {
                                    sum += Double(input[ky * inRow + kx * inCol + p * inPixel + c]) * Double(w[((ky * kernel + kx) * ci + c) * 16 + j])
                                }
                            }
                        }
                        let expected = Self.activate(sum, act)
                        #expect(abs(Double(got) - expected) <= 1e-5 * max(1, abs(expected)),
                                "\(name) xb\(xb) co\(co) k\(kernel) ci\(ci) act\(act): pixel \(p) channel \(j): \(got) vs \(expected)")
                    }
                }
            }
        }
    }

    @Test(arguments: sets)
    func packingCopiesAndGatesRows(_ name: String) throws {
        let set = try #require(KernelSet(named: name)), mr = set.mr
        for k in [1, 15, 16, 33] {
            let rows = (0..<mr).map { Self.values(k, seed: $0) }, gates = (0..<mr).map { Self.values(k, seed: 100 + $0) }
            for gated in [false, true] {
                var dst = [Float](repeating: 0, count: mr * k)
                let flatRows = rows.flatMap { $0 }, flatGates = gates.flatMap { $0 }
                flatRows.withUnsafeBufferPointer { rp in flatGates.withUnsafeBufferPointer { gp in dst.withUnsafeMutableBufferPointer { dp in
                    let r = (0..<mr).map { Optional(rp.baseAddress! + $0 * k) }, g = (0..<mr).map { Optional(gp.baseAddress! + $0 * k) }
                    r.withUnsafeBufferPointer { rb in g.withUnsafeBufferPointer { gb in
                        set.pack(mr, k, rb.baseAddress!, gated ? gb.baseAddress! : nil, dp.baseAddress!)
                    } }
                } } }
                for i in 0..<mr {
                    for p in 0..<k {
                        let expected = gated ? rows[i][p] * gates[i][p] : rows[i][p]
                        #expect(dst[i * k + p] == expected, "\(name) pack k\(k) gated \(gated): [\(i)][\(p)]")
                    }
                }
            }
        }
    }
}

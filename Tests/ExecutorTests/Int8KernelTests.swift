import Foundation
import Kernels
import Testing
@testable import Executor

/// The int8 micro-kernels against scalar references in Double over the same integers: GEMM tiles
/// (every row count up to mr, depths that are and are not multiples of 4, column counts around the
/// panel width, bias, residual, ReLU, float32 and uint8 outputs), convolution tiles, packing from
/// float32 and uint8 rows with and without gates, and quantisation. Runs wherever the CPU has AVX-512
/// VNNI (CI requires it where the CPU reports it, see `ParityTests.requiredKernelSetsRun`).
@Suite struct Int8KernelTests {
    static let sets: [String] = Int8Kernels.available.map { [$0.name] } ?? []

    /// Deterministic integers in [lower, upper].
    static func integers(_ count: Int, seed: Int, _ lower: Int, _ upper: Int) -> [Int] {
        (0..<count).map { lower + (($0 + 1) * 7919 + seed * 104_729) % (upper - lower + 1) }
    }

    /// What the kernels store for a uint8 output: round(x / scale) saturated to [0, 255].
    static func requantized(_ x: Double, scale: Float) -> Double {
        min(max((x / Double(scale)).rounded(.toNearestOrEven), 0), 255)
    }

    @Test(arguments: sets)
    func gemmTilesMatchTheScalarReference(_ name: String) throws {
        let set = try #require(Int8Kernels.available), mr = set.mr, nr = set.nr
        var cases = 0
        for m in Set([1, mr - 1, mr]) {
            for n in Set([1, 15, 17, nr, nr + 3, 2 * nr + 5]) {
                for k in [1, 4, 7, 18] {
                    for (useResidual, act, u8Output) in [(false, Int32(0), false), (true, 1, false), (true, 2, false), (false, 1, true), (true, 1, true)] {
                        let depth = (k + 3) / 4 * 4, lda = depth + 4, col = 3, width = col + n + 4, panels = (n + nr - 1) / nr
                        var a = Self.integers(mr * lda, seed: m + n, 0, 255)
                        for i in 0..<mr { for p in k..<depth { a[i * lda + p] = 0 } }
                        let w = Self.integers(n * k, seed: k, -127, 127)
                        var b = [Int8](repeating: 0, count: panels * depth * nr)
                        for j in 0..<n { for p in 0..<k { b[((j / nr) * depth + p / 4 * 4) * nr + 4 * (j % nr) + p % 4] = Int8(w[j * k + p]) } }
                        var scale = [Float](repeating: 0, count: panels * nr), bias = scale
                        for j in 0..<n { scale[j] = Float(j % 7 + 1) * 1e-4; bias[j] = Float(j % 5) * 0.25 - 0.5 }
                        let residual = InferenceKernelTests.values(m * width, seed: 3)
                        let outScale: Float = 0.05
                        var c = [Float](repeating: -99, count: mr * width)   // room for uint8 rows too
                        let before = c.withUnsafeBytes { Array($0) }
                        a.map(UInt8.init).withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                            scale.withUnsafeBufferPointer { sp in bias.withUnsafeBufferPointer { biasp in
                                residual.withUnsafeBufferPointer { rp in c.withUnsafeMutableBytes { cp in
                                    let rowBytes = width * (u8Output ? 1 : 4)
                                    let cRows = (0..<mr).map { Optional(cp.baseAddress! + $0 * rowBytes) }
                                    let rRows = (0..<mr).map { Optional(UnsafePointer(rp.baseAddress! + min($0, m - 1) * width)) }
                                    cRows.withUnsafeBufferPointer { crows in rRows.withUnsafeBufferPointer { rrows in
                                        set.gemm(m, n, depth, ap.baseAddress!, lda, bp.baseAddress!, col, crows.baseAddress!,
                                                 useResidual ? rrows.baseAddress! : nil, sp.baseAddress!, biasp.baseAddress!, act,
                                                 u8Output ? 1 : 0, outScale)
                                    } }
                                } }
                            } }
                        } }
                        let bytes = c.withUnsafeBytes { Array($0) }
                        for i in 0..<mr {
                            for j in 0..<width {
                                let inside = i < m && j >= col && j < col + n
                                let got = u8Output ? Double(bytes[i * width + j]) : Double(c[i * width + j])
                                guard inside else {
                                    #expect(u8Output ? bytes[i * width + j] == before[i * width + j] : c[i * width + j] == -99,
                                            "int8 gemm m\(m) n\(n) k\(k): wrote outside the tile at row \(i), column \(j)")
                                    continue
                                }
                                var dot = 0
                                for p in 0..<k { dot += a[i * lda + p] * w[(j - col) * k + p] }
                                var sum = Double(dot) * Double(scale[j - col]) + Double(bias[j - col])
                                if useResidual { sum += Double(residual[i * width + j]) }
                                sum = InferenceKernelTests.activate(sum, act)
                                let expected = u8Output ? Self.requantized(sum, scale: outScale) : sum
                                #expect(abs(got - expected) <= (u8Output ? 1 : 1e-4 * max(1, abs(expected))),
                                        "int8 gemm m\(m) n\(n) k\(k) u8 out \(u8Output): [\(i)][\(j)] \(got) vs \(expected)")
                            }
                        }
                        cases += 1
                    }
                }
            }
        }
        #expect(cases > 100)
    }

    @Test(arguments: sets)
    func convolutionTilesMatchTheScalarReference(_ name: String) throws {
        let set = try #require(Int8Kernels.available)
        for xb in Set([1, 4, 7, set.xb - 1, set.xb]) {
            for co in [1, 7, 16] {
                for (kernel, ci) in [(1, 1), (3, 3), (3, 16), (5, 6)] {
                    for (act, u8Output) in [(Int32(0), false), (1, false), (2, false), (1, true)] {
                        let quads = (ci + 3) / 4, stride = 2, inPixel = stride * ci + 1, inRow = (xb * stride + kernel + 2) * inPixel
                        let input = Self.integers(kernel * inRow + xb * inPixel + ci + 3, seed: ci + kernel, 0, 255)
                        let w = Self.integers(kernel * kernel * ci * 16, seed: co, -127, 127)
                        var packed = [Int8](repeating: 0, count: kernel * kernel * quads * 64)
                        for tap in 0..<(kernel * kernel) {
                            for c in 0..<ci { for j in 0..<16 { packed[(tap * quads + c / 4) * 64 + 4 * j + c % 4] = Int8(w[(tap * ci + c) * 16 + j]) } }
                        }
                        let scale = (0..<16).map { Float($0 + 1) * 2e-4 }, bias = (0..<16).map { Float($0) * 0.1 - 0.8 }
                        let outPixel = 20, outScale: Float = 0.02
                        var out = [Float](repeating: -99, count: set.xb * outPixel)
                        input.map(UInt8.init).withUnsafeBufferPointer { ip in packed.withUnsafeBufferPointer { wp in
                            scale.withUnsafeBufferPointer { sp in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBytes { op in
                                set.conv(xb, co, kernel, kernel, ci, ip.baseAddress!, inRow, inPixel, inPixel, wp.baseAddress!,
                                         sp.baseAddress!, bp.baseAddress!, op.baseAddress!, outPixel, act, u8Output ? 1 : 0, outScale)
                            } } }
                        } }
                        let bytes = out.withUnsafeBytes { Array($0) }
                        for p in 0..<set.xb {
                            for j in 0..<outPixel {
                                let got = u8Output ? Double(bytes[p * outPixel + j]) : Double(out[p * outPixel + j])
                                guard p < xb, j < co else {
                                    if !u8Output { #expect(out[p * outPixel + j] == -99, "int8 conv xb\(xb) co\(co): wrote outside the tile") }
                                    continue
                                }
                                var dot = 0
                                for ky in 0..<kernel {
                                    for kx in 0..<kernel {
                                        for c in 0..<ci { dot += input[ky * inRow + kx * inPixel + p * inPixel + c] * w[((ky * kernel + kx) * ci + c) * 16 + j] }
                                    }
                                }
                                let sum = InferenceKernelTests.activate(Double(dot) * Double(scale[j]) + Double(bias[j]), act)
                                let expected = u8Output ? Self.requantized(sum, scale: outScale) : sum
                                #expect(abs(got - expected) <= (u8Output ? 1 : 1e-4 * max(1, abs(expected))),
                                        "int8 conv xb\(xb) co\(co) k\(kernel) ci\(ci) act\(act): pixel \(p) channel \(j): \(got) vs \(expected)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: sets)
    func packingQuantisesCopiesAndGatesRows(_ name: String) throws {
        let set = try #require(Int8Kernels.available), mr = set.mr, scale: Float = 0.01
        for k in [1, 15, 16, 33] {
            let depth = (k + 3) / 4 * 4
            let rows = (0..<mr).map { InferenceKernelTests.values(k, seed: $0).map { ($0 + 1) * 1.4 } }   // [0, 2.8): some saturate
            let bytes = rows.map { $0.map { UInt8(min(max(($0 / scale).rounded(.toNearestOrEven), 0), 255)) } }
            let gates = (0..<mr).map { InferenceKernelTests.values(k, seed: 100 + $0).map { ($0 + 1) / 2 } }
            for (gated, u8Rows) in [(false, false), (true, false), (false, true), (true, true)] {
                var dst = [UInt8](repeating: 0xEE, count: mr * depth)
                let floatRows = rows.flatMap { $0 }, byteRows = bytes.flatMap { $0 }, flatGates = gates.flatMap { $0 }
                floatRows.withUnsafeBytes { fp in byteRows.withUnsafeBytes { bp in flatGates.withUnsafeBufferPointer { gp in
                    dst.withUnsafeMutableBufferPointer { dp in
                        let rowBytes = k * (u8Rows ? 1 : 4), base = u8Rows ? bp.baseAddress! : fp.baseAddress!
                        let r = (0..<mr).map { Optional(base + $0 * rowBytes) }, g = (0..<mr).map { Optional(gp.baseAddress! + $0 * k) }
                        r.withUnsafeBufferPointer { rb in g.withUnsafeBufferPointer { gb in
                            set.pack(mr, k, rb.baseAddress!, gated ? gb.baseAddress! : nil, dp.baseAddress!, u8Rows ? 1 : 0, scale)
                        } }
                    }
                } } }
                for i in 0..<mr {
                    for p in 0..<depth {
                        var expected: UInt8 = 0
                        if p < k {
                            let x = u8Rows ? Float(bytes[i][p]) : rows[i][p] / scale
                            let y = gated ? (u8Rows ? x * gates[i][p] : rows[i][p] * gates[i][p] / scale) : x
                            expected = UInt8(min(max(y.rounded(.toNearestOrEven), 0), 255))
                        }
                        #expect(abs(Int(dst[i * depth + p]) - Int(expected)) <= (gated && !u8Rows ? 1 : 0),
                                "int8 pack k\(k) gated \(gated) u8 rows \(u8Rows): [\(i)][\(p)] \(dst[i * depth + p]) vs \(expected)")
                    }
                }
            }
        }
        let values = InferenceKernelTests.values(37, seed: 9).map { $0 * 3 }
        var converted = [UInt8](repeating: 0, count: 37)
        converted.withUnsafeMutableBufferPointer { set.convert(37, values, $0.baseAddress!, 0.02) }
        #expect(converted == values.map { UInt8(min(max(($0 / 0.02).rounded(.toNearestOrEven), 0), 255)) })
    }
}

import Foundation
import Kernels
import Testing
@testable import Executor

/// The bf16 micro-kernels against scalar references in Double over the operands rounded to bf16:
/// GEMM tiles (every row count up to mr, odd and even depths, column counts around the panel width,
/// bias, float32 and bf16 residuals, each activation, float32 and bf16 outputs), convolution tiles (odd
/// and even input channel counts, float32 and bf16 outputs), the paired convolution tile, packing from float32 and bf16 rows with
/// and without gates, and the conversion. Runs wherever the CPU has bf16 dot products (CI requires it where the CPU
/// reports it, see `ParityTests.requiredKernelSetsRun`).
@Suite struct BFloat16KernelTests {
    static let sets: [String] = BFloat16Kernels.available.map { [$0.name] } ?? []
    /// The sets with a paired convolution tile (`conv2`; NEON's has none).
    static let pairedSets: [String] = BFloat16Kernels.available.flatMap { $0.conv2 == nil ? nil : [$0.name] } ?? []

    /// `x` rounded to bf16, as a float.
    static func rounded(_ x: Float) -> Float { Float(bitPattern: UInt32(bfloat16Bits(x)) << 16) }
    static func bits(_ values: [Float]) -> [UInt16] { values.map(bfloat16Bits) }
    static func floats(_ bits: [UInt16]) -> [Float] { bits.map { Float(bitPattern: UInt32($0) << 16) } }

    /// |got - expected| within float32 accumulation error, or within one bf16 rounding when the output is bf16.
    static func close(_ got: Float, _ expected: Double, bf16Output: Bool) -> Bool {
        abs(Double(got) - expected) <= (bf16Output ? 1.0 / 128 : 1e-5) * max(1, abs(expected))
    }

    @Test func roundingIsToNearestEven() {
        #expect(bfloat16Bits(1.0) == 0x3F80)
        #expect(bfloat16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie, even stays
        #expect(bfloat16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie, odd rounds up
        #expect(bfloat16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(bfloat16Bits(-2.5) == 0xC020)
        #expect(Float(bitPattern: UInt32(bfloat16Bits(.nan)) << 16).isNaN)
    }

    @Test(arguments: sets)
    func gemmTilesMatchTheScalarReference(_ name: String) throws {
        let set = try #require(BFloat16Kernels.available), mr = set.mr, nr = set.nr
        var cases = 0
        for m in Set([1, mr - 1, mr]) {
            for n in Set([1, 15, 17, nr, nr + 3, 2 * nr + 5]) {
                for k in [1, 2, 7, 18] {
                    for (useBias, useResidual, act, bf16Output, bf16Residual) in [(false, false, Int32(0), false, false), (true, false, 1, false, false),
                                                                                  (true, true, 2, false, false), (true, true, 1, true, false),
                                                                                  (false, false, 0, true, false), (true, true, 1, true, true),
                                                                                  (false, true, 0, false, true)] {
                        let depth = (k + 1) / 2 * 2, lda = depth + 4, col = 3, width = col + n + 4, panels = (n + nr - 1) / nr
                        let a = InferenceKernelTests.values(mr * lda, seed: m + n).map(Self.rounded)
                        let w = InferenceKernelTests.values(n * k, seed: k).map(Self.rounded)
                        var aBits = Self.bits(a)
                        for i in 0..<mr where k % 2 == 1 { aBits[i * lda + k] = 0 }   // the pad of an odd depth
                        var b = [UInt16](repeating: 0, count: panels * depth * nr)
                        for j in 0..<n { for p in 0..<k { b[((j / nr) * depth + p / 2 * 2) * nr + 2 * (j % nr) + p % 2] = bfloat16Bits(w[j * k + p]) } }
                        var bias = [Float](repeating: 0, count: panels * nr)
                        for j in 0..<n { bias[j] = Float(j % 5) * 0.25 - 0.5 }
                        // A bf16 residual holds the same values, rounded (the reference reads the rounded ones).
                        let residual = InferenceKernelTests.values(m * width, seed: 3).map { bf16Residual ? Self.rounded($0) : $0 }
                        let residualBits = Self.bits(residual)
                        let sentinel: UInt16 = 0x4242
                        var c = [UInt16](repeating: sentinel, count: 2 * mr * width)   // room for float32 rows
                        aBits.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in
                            residual.withUnsafeBytes { rf in residualBits.withUnsafeBytes { rb in c.withUnsafeMutableBytes { cp in
                                let rowBytes = width * (bf16Output ? 2 : 4), residualBytes = width * (bf16Residual ? 2 : 4)
                                let residualBase = bf16Residual ? rb.baseAddress! : rf.baseAddress!
                                let cRows = (0..<mr).map { Optional(cp.baseAddress! + $0 * rowBytes) }
                                let rRows = (0..<mr).map { Optional(residualBase + min($0, m - 1) * residualBytes) }
                                let formats = (bf16Output ? Int32(RN_BF16_OUTPUT) : 0) | (bf16Residual ? Int32(RN_BF16_RESIDUAL) : 0)
                                cRows.withUnsafeBufferPointer { crows in rRows.withUnsafeBufferPointer { rrows in
                                    set.gemm(m, n, depth, ap.baseAddress!, lda, bp.baseAddress!, col, crows.baseAddress!,
                                             useResidual ? rrows.baseAddress! : nil, useBias ? biasp.baseAddress! : nil, act, formats)
                                } }
                            } } }
                        } } }
                        let out: [Float] = bf16Output ? Self.floats(Array(c[0..<(mr * width)]))
                            : c.withUnsafeBytes { Array($0.bindMemory(to: Float.self)[0..<(mr * width)]) }
                        let untouched: Float = bf16Output ? Self.floats([sentinel])[0] : Float(bitPattern: 0x4242_4242)
                        for i in 0..<mr {
                            for j in 0..<width {
                                let got = out[i * width + j]
                                guard i < m, j >= col, j < col + n else {
                                    #expect(got == untouched, "bf16 gemm m\(m) n\(n) k\(k): wrote outside the tile at row \(i), column \(j)")
                                    continue
                                }
                                var sum = useBias ? Double(bias[j - col]) : 0
                                if useResidual { sum += Double(residual[i * width + j]) }
                                for p in 0..<k { sum += Double(a[i * lda + p]) * Double(w[(j - col) * k + p]) }
                                let expected = InferenceKernelTests.activate(sum, act)
                                #expect(Self.close(got, expected, bf16Output: bf16Output),
                                        "bf16 gemm m\(m) n\(n) k\(k) act\(act) bf16 out \(bf16Output): [\(i)][\(j)] \(got) vs \(expected)")
                            }
                        }
                        cases += 1
                    }
                }
            }
        }
        #expect(cases > 100)
    }

    /// The table's paired tile (`conv2`: two tiles per call, for narrow outputs) against two calls of
    /// its single tile (`conv`, checked against the scalar reference above) on the same operands: the
    /// second tile in the same group (shared input, `in_next` 0) and in the next group, every pixel count
    /// up to `xb2`, full and partial channel blocks, with and without ReLU, float32 and bf16 outputs.
    @Test(arguments: pairedSets)
    func pairedConvolutionTileEqualsTwoSingleTiles(_ name: String) throws {
        let set = try #require(BFloat16Kernels.available), conv2 = try #require(set.conv2)
        let (kernel, ci, outPixel) = (3, 8, 40)
        let (pairs, inPixel) = ((ci + 1) / 2, 2 * ci + 3), inRow = (set.xb2 + kernel + 1) * inPixel
        let input = Self.bits(InferenceKernelTests.values(kernel * inRow + set.xb2 * inPixel + 2 * ci, seed: 3).map(Self.rounded))
        let weights = Self.bits(InferenceKernelTests.values(2 * kernel * kernel * pairs * 32, seed: 4).map(Self.rounded))
        let bias = (0..<32).map { Float($0) * 0.05 - 0.7 }
        let wNext = kernel * kernel * pairs * 32
        var cases = 0
        for xb in 1...set.xb2 {
            for (co0, co1) in [(16, 16), (16, 7), (16, 1)] {
                for inNext in [0, ci] {
                    for (act, bf16Output) in [(Int32(0), false), (1, false), (1, true)] {
                        var paired = [UInt16](repeating: 0x4242, count: 2 * set.xb2 * outPixel)
                        var single = paired
                        input.withUnsafeBufferPointer { ip in weights.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                            paired.withUnsafeMutableBytes { op in
                                conv2(xb, co0, co1, kernel, kernel, ci, ip.baseAddress!, inNext, inRow, inPixel, inPixel,
                                          wp.baseAddress!, wNext, bp.baseAddress!, op.baseAddress!, outPixel, act, bf16Output ? 1 : 0)
                            }
                            single.withUnsafeMutableBytes { op in
                                let element = bf16Output ? 2 : 4
                                for (t, co) in [(0, co0), (1, co1)] {
                                    set.conv(xb, co, kernel, kernel, ci, ip.baseAddress! + t * inNext, inRow, inPixel, inPixel,
                                             wp.baseAddress! + t * wNext, bp.baseAddress! + 16 * t, op.baseAddress! + 16 * t * element,
                                             outPixel, act, bf16Output ? 1 : 0)
                                }
                            }
                        } } }
                        #expect(paired == single, "bf16 conv2 xb\(xb) co \(co0)+\(co1) in_next \(inNext) act\(act) bf16 out \(bf16Output)")
                        cases += 1
                    }
                }
            }
        }
        #expect(cases == set.xb2 * 18)
    }

    @Test(arguments: sets)
    func convolutionTilesMatchTheScalarReference(_ name: String) throws {
        let set = try #require(BFloat16Kernels.available)
        for xb in Set([1, 4, 7, set.xb - 1, set.xb]) {
            for co in [1, 7, 16] {
                for (kernel, ci) in [(1, 1), (3, 3), (3, 16), (5, 2)] {
                    for (act, bf16Output) in [(Int32(0), false), (1, false), (2, false), (1, true)] {
                        let pairs = (ci + 1) / 2, stride = 2, inPixel = stride * ci + 1, inRow = (xb * stride + kernel + 2) * inPixel
                        let input = InferenceKernelTests.values(kernel * inRow + xb * inPixel + ci + 1, seed: ci + kernel).map(Self.rounded)
                        let w = InferenceKernelTests.values(kernel * kernel * ci * 16, seed: co).map(Self.rounded)
                        var packed = [UInt16](repeating: 0, count: kernel * kernel * pairs * 32)
                        for tap in 0..<(kernel * kernel) {
                            for c in 0..<ci { for j in 0..<16 { packed[(tap * pairs + c / 2) * 32 + 2 * j + c % 2] = bfloat16Bits(w[(tap * ci + c) * 16 + j]) } }
                        }
                        let bias = (0..<16).map { Float($0) * 0.1 - 0.8 }
                        let outPixel = 20
                        var out = [UInt16](repeating: 0x4242, count: 2 * set.xb * outPixel)
                        Self.bits(input).withUnsafeBufferPointer { ip in packed.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                            out.withUnsafeMutableBytes { op in
                                set.conv(xb, co, kernel, kernel, ci, ip.baseAddress!, inRow, inPixel, inPixel, wp.baseAddress!,
                                         bp.baseAddress!, op.baseAddress!, outPixel, act, bf16Output ? 1 : 0)
                            }
                        } } }
                        let values: [Float] = bf16Output ? Self.floats(Array(out[0..<(set.xb * outPixel)]))
                            : out.withUnsafeBytes { Array($0.bindMemory(to: Float.self)[0..<(set.xb * outPixel)]) }
                        let untouched: Float = bf16Output ? Self.floats([0x4242])[0] : Float(bitPattern: 0x4242_4242)
                        for p in 0..<set.xb {
                            for j in 0..<outPixel {
                                let got = values[p * outPixel + j]
                                guard p < xb, j < co else {
                                    #expect(got == untouched, "bf16 conv xb\(xb) co\(co): wrote outside the tile at pixel \(p), channel \(j)")
                                    continue
                                }
                                var sum = Double(bias[j])
                                for ky in 0..<kernel {
                                    for kx in 0..<kernel {
                                        for c in 0..<ci {
                                            sum += Double(input[ky * inRow + kx * inPixel + p * inPixel + c]) * Double(w[((ky * kernel + kx) * ci + c) * 16 + j])
                                        }
                                    }
                                }
                                let expected = InferenceKernelTests.activate(sum, act)
                                #expect(Self.close(got, expected, bf16Output: bf16Output),
                                        "bf16 conv xb\(xb) co\(co) k\(kernel) ci\(ci) act\(act): pixel \(p) channel \(j): \(got) vs \(expected)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: sets)
    func packingRoundsCopiesAndGatesRows(_ name: String) throws {
        let set = try #require(BFloat16Kernels.available), mr = set.mr
        for k in [1, 15, 16, 33] {
            let depth = (k + 1) / 2 * 2
            let rows = (0..<mr).map { InferenceKernelTests.values(k, seed: $0).map { $0 * 1.37 } }
            let gates = (0..<mr).map { InferenceKernelTests.values(k, seed: 100 + $0) }
            for (gated, bf16Rows) in [(false, false), (true, false), (false, true), (true, true)] {
                var dst = [UInt16](repeating: 0xFFFF, count: mr * depth)
                let floatRows = rows.flatMap { $0 }, bitRows = Self.bits(floatRows), flatGates = gates.flatMap { $0 }
                floatRows.withUnsafeBytes { fp in bitRows.withUnsafeBytes { bp in flatGates.withUnsafeBufferPointer { gp in
                    dst.withUnsafeMutableBufferPointer { dp in
                        let rowBytes = k * (bf16Rows ? 2 : 4), base = bf16Rows ? bp.baseAddress! : fp.baseAddress!
                        let r = (0..<mr).map { Optional(base + $0 * rowBytes) }, g = (0..<mr).map { Optional(gp.baseAddress! + $0 * k) }
                        r.withUnsafeBufferPointer { rb in g.withUnsafeBufferPointer { gb in
                            set.pack(mr, k, rb.baseAddress!, gated ? gb.baseAddress! : nil, dp.baseAddress!, bf16Rows ? 1 : 0)
                        } }
                    }
                } } }
                for i in 0..<mr {
                    for p in 0..<depth {
                        let source = bf16Rows ? Self.rounded(rows[i][min(p, k - 1)]) : rows[i][min(p, k - 1)]
                        let expected: UInt16 = p == k ? 0 : bfloat16Bits(gated ? source * gates[i][p] : source)
                        #expect(dst[i * depth + p] == expected, "bf16 pack k\(k) gated \(gated) bf16 rows \(bf16Rows): [\(i)][\(p)]")
                    }
                }
            }
        }
        let values = InferenceKernelTests.values(37, seed: 9).map { $0 * 3.3 }
        var converted = [UInt16](repeating: 0, count: 37)
        converted.withUnsafeMutableBufferPointer { set.convert(37, values, $0.baseAddress!) }
        #expect(converted == Self.bits(values))
    }
}

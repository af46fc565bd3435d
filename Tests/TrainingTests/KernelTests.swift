import Kernels
import Testing

/// The training micro-kernels against scalar references, on every instruction set this CPU runs,
/// over edge sizes: tiles shorter than the set's rows, panels narrower than 32 columns, short and long
/// reductions, input-channel remainders, and accumulation into existing values.
@Suite struct TrainingKernelTests {
    static let sets: [String] = ["avx512", "avx2", "neon", "portable"].filter { (name: String) in rn_training_kernels_for(name) != nil }

    /// Deterministic values in [-1, 1).
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { i in Float(((i &* 2_654_435_761 &+ seed &* 40_503) % 2001) - 1000) / 1000 }
    }

    @Test(arguments: sets)
    func gemmTilesMatchAScalarProduct(_ isa: String) throws {
        let k = try #require(rn_training_kernels_for(isa)).pointee
        let mr = Int(k.mr)
        for (m, n, depth) in [(1, 1, 1), (mr, 32, 7), (mr - 1, 17, 33), (3, 31, 64), (mr, 16, 2)] where m >= 1 {
            for transposed in [false, true] {
                for accumulate in [false, true] {
                    let lda = transposed ? m + 3 : depth + 5, ldb = n + 4, ldc = n + 2
                    let a = values((transposed ? depth : m) * lda + 64, seed: 1), b = values(depth * ldb + 64, seed: 2)
                    var c = values(m * ldc, seed: 3)
                    var expected = c
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum: Float = 0
                            for p in 0..<depth { sum += (transposed ? a[p * lda + i] : a[i * lda + p]) * b[p * ldb + j] }
                            expected[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + sum
                        }
                    }
                    let gemm = transposed ? k.gemm_tn! : k.gemm_nn!
                    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                        gemm(m, n, depth, a.baseAddress!, lda, b.baseAddress!, ldb, c.baseAddress!, ldc, accumulate ? 1 : 0)
                    } } }
                    for i in 0..<(m * ldc) {
                        let column = i % ldc
                        // Columns past n are never written.
                        let want = column < n ? expected[i] : values(m * ldc, seed: 3)[i]
                        #expect(abs(c[i] - want) <= 1e-4 * max(1, abs(want)), "\(isa) m \(m) n \(n) k \(depth) t \(transposed) a \(accumulate) at \(i)")
                    }
                }
            }
        }
    }

    @Test(arguments: sets)
    func weightGradientTilesMatchAScalarSum(_ isa: String) throws {
        let k = try #require(rn_training_kernels_for(isa)).pointee
        let (rows, np, xRow, xPixel, dyRow, dyPixel) = (3, 5, 97, 19, 83, 16)
        let x = values(rows * xRow + 256, seed: 4), dy = values(rows * dyRow + 64, seed: 5)
        for ci in [1, 3, 4, 5, 8, 13, 16] {
            var dw = values(ci * 16, seed: 6)
            var expected = dw
            for c in 0..<ci {
                for j in 0..<16 {
                    for r in 0..<rows { for p in 0..<np { expected[c * 16 + j] += x[r * xRow + p * xPixel + c] * dy[r * dyRow + p * dyPixel + j] } }
                }
            }
            x.withUnsafeBufferPointer { x in dy.withUnsafeBufferPointer { dy in dw.withUnsafeMutableBufferPointer { dw in
                k.wgrad!(rows, np, ci, x.baseAddress!, xRow, xPixel, dy.baseAddress!, dyRow, dyPixel, dw.baseAddress!)
            } } }
            for i in 0..<(ci * 16) { #expect(abs(dw[i] - expected[i]) <= 1e-4, "\(isa) ci \(ci) at \(i)") }
        }
        // One group of 8 by 8 channels, all nine taps of a padded input (taps a row and a column apart).
        let (tapRow, tapColumn) = (71, 11)
        var group = values(9 * 64, seed: 7)
        var expected = group
        for t in 0..<9 { for o in 0..<8 { for i in 0..<8 {
            for r in 0..<rows { for p in 0..<np {
                let tap = (t / 3) * tapRow + (t % 3) * tapColumn
                expected[(t * 8 + o) * 8 + i] += x[r * xRow + p * xPixel + tap + i] * dy[r * dyRow + p * dyPixel + o]
            } }
        } } }
        x.withUnsafeBufferPointer { x in dy.withUnsafeBufferPointer { dy in group.withUnsafeMutableBufferPointer { group in
            k.wgrad_3x3_g8!(rows, np, x.baseAddress!, xRow, xPixel, tapRow, tapColumn, dy.baseAddress!, dyRow, dyPixel, group.baseAddress!)
        } } }
        for i in 0..<(9 * 64) { #expect(abs(group[i] - expected[i]) <= 1e-4, "\(isa) 3x3 group of 8 at \(i)") }
        // All nine taps of a 3x3 stem with 1 to 3 input channels.
        for ci in 1...3 {
            var stem = values(27 * 16, seed: 8)
            var want = stem
            let (xr, xc) = (61, 3 * ci)
            for ky in 0..<3 { for kx in 0..<3 { for c in 0..<ci { for j in 0..<16 {
                for p in 0..<np { want[((ky * 3 + kx) * 3 + c) * 16 + j] += x[ky * xr + kx * xc + p * xPixel + c] * dy[p * dyPixel + j] }
            } } } }
            x.withUnsafeBufferPointer { x in dy.withUnsafeBufferPointer { dy in stem.withUnsafeMutableBufferPointer { stem in
                k.wgrad_stem3!(np, ci, x.baseAddress!, xr, xc, xPixel, dy.baseAddress!, dyPixel, stem.baseAddress!)
            } } }
            for tap in 0..<9 { for c in 0..<3 { for j in 0..<16 {
                let i = (tap * 3 + c) * 16 + j
                // Channels past ci are left as they were.
                #expect(abs(stem[i] - want[i]) <= 1e-4, "\(isa) stem ci \(ci) at \(i)")
            } } }
        }
    }

    /// Two groups of width 8 at once: interleaving (with a zero partner for an odd last group), the
    /// paired tile against a scalar grouped convolution over every tile width, bias, ReLU and a half
    /// (8-channel) store.
    @Test(arguments: sets)
    func pairedGroupTilesMatchAScalarConvolution(_ isa: String) throws {
        let k = try #require(rn_training_kernels_for(isa)).pointee
        // Interleaving: 3 groups of 8 channels (plus 5 channels of slack per pixel), two pixels.
        let source = values(2 * 29, seed: 9)
        var interleaved = [Float](repeating: .nan, count: 2 * 32)
        source.withUnsafeBufferPointer { s in interleaved.withUnsafeMutableBufferPointer { d in
            k.interleave_pairs8!(2, 3, s.baseAddress!, 29, d.baseAddress!, 32)
        } }
        for p in 0..<2 { for q in 0..<2 { for c in 0..<8 { for h in 0..<2 {
            let g = 2 * q + h, want: Float = g < 3 ? source[p * 29 + g * 8 + c] : 0
            #expect(interleaved[p * 32 + q * 16 + 2 * c + h] == want, "\(isa) interleave pixel \(p) pair \(q) channel \(c) half \(h)")
        } } } }
        // A 3x2 kernel over 14 pixels of interleaved input: taps a row and a column apart.
        let (kh, kw, inPixel, inColumn, inRow, outPixel) = (3, 2, 21, 16, 16 * 40, 19)
        let input = values(kh * inRow + 64, seed: 10), weights = values(kh * kw * 8 * 16, seed: 11), bias = values(16, seed: 12)
        for xb in [14, 9, 8, 7, 5, 4, 1] {
            for (co, relu) in [(16, false), (16, true), (8, false)] {
                var out = [Float](repeating: -7, count: 14 * outPixel + 16)
                input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        k.conv_pair8!(xb, co, kh, kw, 8, i.baseAddress!, inRow, inColumn, inPixel, w.baseAddress!, b.baseAddress!,
                                      o.baseAddress!, outPixel, relu ? Int32(RN_TRAIN_ACT_RELU) : Int32(RN_TRAIN_ACT_NONE))
                    }
                } } }
                for p in 0..<14 {
                    for channel in 0..<outPixel {
                        // Output channel j of group h is lane 2j + h; the store writes group 0's 8 then group 1's.
                        let (h, j) = (channel / 8, channel % 8), lane = 2 * j + h
                        guard p < xb, channel < co else {
                            #expect(out[p * outPixel + channel] == -7, "\(isa) wrote outside the tile at \(p), \(channel)")
                            continue
                        }
                        var sum = bias[lane]
                        for ky in 0..<kh { for kx in 0..<kw { for c in 0..<8 {
                            sum += input[ky * inRow + kx * inColumn + p * inPixel + 2 * c + h] * weights[((ky * kw + kx) * 8 + c) * 16 + lane]
                        } } }
                        if relu { sum = max(sum, 0) }
                        #expect(abs(out[p * outPixel + channel] - sum) <= 1e-4, "\(isa) xb \(xb) co \(co) relu \(relu) at \(p), \(channel)")
                    }
                }
            }
        }
    }
}

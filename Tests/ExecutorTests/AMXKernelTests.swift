import Foundation
import Kernels
import NetworkIR
import Testing
@testable import Executor

/// The AMX bf16 kernels (`Sources/Kernels/AMX`): the GEMM over packed operands against a Double
/// reference over the operands rounded to bf16 (row and column tails, K tails, NaN past every edge of
/// the operands, accumulation), on the plain-C tile reference everywhere and on the AMX instructions
/// where this process can use them, where both must give the same bits; and the reference's
/// arithmetic where it differs from ordinary float32 (denormals flushed, as the instruction does).
@Suite struct AMXKernelTests {
    /// The implementations this process runs: the reference always, the instructions where AMX is usable.
    static let sets: [String] = ["amxbf16ref"] + (rn_amx_available() != 0 ? ["amxbf16"] : [])

    struct Unavailable: Error { var name: String }

    /// C (m × n, rows n + 3 apart) = (accumulate ? c : 0) + A·Wᵀ with A m × k (rows k + 5 apart) and W
    /// n × k (the 1x1 forward's [out][in] weights, rows k + 2 apart), packed and multiplied by `name`.
    static func gemm(_ name: String, m: Int, n: Int, k: Int, a: [Float], w: [Float], c: [Float], accumulate: Bool) throws -> [Float] {
        guard let table = rn_amx_bf16_kernels_for(name) as UnsafePointer<rn_amx_bf16_kernels>? else { throw Unavailable(name: name) }
        let kernels = table.pointee
        let elements = rn_amx_packed_elements(k)
        var packedA = [UInt16](repeating: 0x7FC1, count: elements), packedB = packedA, out = c
        rn_amx_pack_a_bf16(m, k, a, k + 5, 1, &packedA)
        rn_amx_pack_b_bf16(k, n, w, 1, k + 2, &packedB)
        kernels.begin()
        kernels.gemm(m, n, (k + Int(RN_AMX_KB) - 1) / Int(RN_AMX_KB), packedA, packedB, &out, n + 3, accumulate ? 1 : 0)
        kernels.end()
        return out
    }

    static func rounded(_ x: Float) -> Double { Double(Float(bitPattern: UInt32(bfloat16Bits(x)) << 16)) }

    @Test(arguments: sets)
    func gemmMatchesTheDoubleReference(_ name: String) throws {
        var rng = SeededGenerator(seed: 24)
        func random() -> Float { Float(Double(rng.next() % 4001) / 1000 - 2) }
        var cases = 0
        for m in [1, 17, 32] {
            for n in [1, 16, 31, 32] {
                for k in [1, 31, 32, 33, 100] {
                    let accumulate = (m + n + k) % 2 == 0
                    // NaN past every edge: packing must leave it out of the tiles.
                    var a = [Float](repeating: .nan, count: m * (k + 5)), w = [Float](repeating: .nan, count: n * (k + 2))
                    for i in 0..<m { for p in 0..<k { a[i * (k + 5) + p] = random() } }
                    for j in 0..<n { for p in 0..<k { w[j * (k + 2) + p] = random() } }
                    let c = (0..<(m * (n + 3))).map { Float($0 % 7) - 3 }
                    let got = try Self.gemm(name, m: m, n: n, k: k, a: a, w: w, c: c, accumulate: accumulate)
                    for i in 0..<m {
                        for j in 0..<(n + 3) {
                            let index = i * (n + 3) + j
                            guard j < n else { #expect(got[index] == c[index], "column \(j) past n was written"); continue }
                            var sum = accumulate ? Double(c[index]) : 0, magnitude = abs(sum)
                            for p in 0..<k {
                                let product = Self.rounded(a[i * (k + 5) + p]) * Self.rounded(w[j * (k + 2) + p])
                                sum += product
                                magnitude += abs(product)
                            }
                            #expect(abs(Double(got[index]) - sum) <= 1e-6 * max(1, magnitude), "\(name) m \(m) n \(n) k \(k) (\(i), \(j))")
                        }
                    }
                    cases += 1
                }
            }
        }
        #expect(cases == 60)
    }

    /// The three products of a 1x1 training layer on 32 × 32 blocks, from operands read in place with
    /// the packers' strides: forward Y = X·Wᵀ, data gradient dX = dY·W, and weight gradient dW = dYᵀ·X
    /// (K = the pixels: both operands transposed into the tile layouts, as AMX training needs them).
    @Test(arguments: sets)
    func trainingProductsOfA1x1Layer(_ name: String) throws {
        guard let table = rn_amx_bf16_kernels_for(name) as UnsafePointer<rn_amx_bf16_kernels>? else { throw Unavailable(name: name) }
        let kernels = table.pointee, block = Int(RN_AMX_MR)
        var rng = SeededGenerator(seed: 3)
        let (pixels, ci, co) = (45, 37, 20)
        let x = (0..<(pixels * ci)).map { _ in Float(Int(rng.next() % 201) - 100) / 50 }
        let w = (0..<(co * ci)).map { _ in Float(Int(rng.next() % 201) - 100) / 50 }
        let dy = (0..<(pixels * co)).map { _ in Float(Int(rng.next() % 201) - 100) / 50 }
        /// C (rows × columns) = Σ_p A(i, p) B(p, j), A(i, p) = a[i·ars + p·aks], B(p, j) = b[p·bks + j·bcs], by 32 × 32 blocks.
        func product(rows: Int, columns: Int, depth: Int, _ a: [Float], _ ars: Int, _ aks: Int, _ b: [Float], _ bks: Int, _ bcs: Int) -> [Float] {
            var c = [Float](repeating: 0, count: rows * columns)
            var packedA = [UInt16](repeating: 0, count: rn_amx_packed_elements(depth)), packedB = packedA
            kernels.begin()
            for i in stride(from: 0, to: rows, by: block) {
                a.withUnsafeBufferPointer { rn_amx_pack_a_bf16(min(block, rows - i), depth, $0.baseAddress! + i * ars, ars, aks, &packedA) }
                for j in stride(from: 0, to: columns, by: block) {
                    b.withUnsafeBufferPointer { rn_amx_pack_b_bf16(depth, min(block, columns - j), $0.baseAddress! + j * bcs, bks, bcs, &packedB) }
                    c.withUnsafeMutableBufferPointer {
                        kernels.gemm(min(block, rows - i), min(block, columns - j), (depth + Int(RN_AMX_KB) - 1) / Int(RN_AMX_KB), packedA, packedB,
                                     $0.baseAddress! + i * columns + j, columns, 0)
                    }
                }
            }
            kernels.end()
            return c
        }
        func expectProduct(_ got: [Float], rows: Int, columns: Int, depth: Int, _ a: (Int, Int) -> Float, _ b: (Int, Int) -> Float, _ what: String) {
            for i in 0..<rows {
                for j in 0..<columns {
                    var sum = 0.0, magnitude = 0.0
                    for p in 0..<depth {
                        let product = Self.rounded(a(i, p)) * Self.rounded(b(p, j))
                        (sum, magnitude) = (sum + product, magnitude + abs(product))
                    }
                    #expect(abs(Double(got[i * columns + j]) - sum) <= 1e-6 * max(1, magnitude), "\(name) \(what) (\(i), \(j))")
                }
            }
        }
        expectProduct(product(rows: pixels, columns: co, depth: ci, x, ci, 1, w, 1, ci), rows: pixels, columns: co, depth: ci,
                      { x[$0 * ci + $1] }, { w[$1 * ci + $0] }, "forward")
        expectProduct(product(rows: pixels, columns: ci, depth: co, dy, co, 1, w, ci, 1), rows: pixels, columns: ci, depth: co,
                      { dy[$0 * co + $1] }, { w[$0 * ci + $1] }, "data gradient")
        expectProduct(product(rows: co, columns: ci, depth: pixels, dy, 1, co, x, ci, 1), rows: co, columns: ci, depth: pixels,
                      { dy[$1 * co + $0] }, { x[$0 * ci + $1] }, "weight gradient")
    }

    /// As TDPBF16PS: a bf16 input that is denormal reads as zero, and a denormal product or sum is
    /// flushed to zero (ordinary float32 arithmetic would give about 7e-9 and 1e-40 here).
    @Test func referenceFlushesDenormalsAsTheInstructionDoes() throws {
        let denormalInput = try Self.gemm("amxbf16ref", m: 1, n: 1, k: 1, a: [Float.leastNormalMagnitude / 16, 0, 0, 0, 0, 0], w: [1e30, 0, 0],
                                          c: [0, 0, 0, 0], accumulate: false)
        #expect(denormalInput[0] == 0)
        let denormalProduct = try Self.gemm("amxbf16ref", m: 1, n: 1, k: 1, a: [1e-20, 0, 0, 0, 0, 0], w: [1e-20, 0, 0],
                                            c: [0, 0, 0, 0], accumulate: false)
        #expect(denormalProduct[0] == 0)
        let normal = try Self.gemm("amxbf16ref", m: 1, n: 1, k: 1, a: [1e-10, 0, 0, 0, 0, 0], w: [1e-10, 0, 0],
                                   c: [0, 0, 0, 0], accumulate: false)
        #expect(abs(Double(normal[0]) - Self.rounded(1e-10) * Self.rounded(1e-10)) <= 1e-27)
    }

    /// Where the CPU has AMX: the instructions and the reference give the same bits.
    @Test(.enabled(if: rn_amx_available() != 0, "this CPU (or OS) gives no AMX tiles"))
    func instructionsEqualTheReference() throws {
        var rng = SeededGenerator(seed: 7)
        let (m, n, k) = (32, 29, 200)
        let a = (0..<(m * (k + 5))).map { _ in Float(Int(rng.next() % 2001) - 1000) / 97 }
        let w = (0..<(n * (k + 2))).map { _ in Float(Int(rng.next() % 2001) - 1000) / 89 }
        let c = [Float](repeating: 0.5, count: m * (n + 3))
        let native = try Self.gemm("amxbf16", m: m, n: n, k: k, a: a, w: w, c: c, accumulate: true)
        let reference = try Self.gemm("amxbf16ref", m: m, n: n, k: k, a: a, w: w, c: c, accumulate: true)
        #expect(native.map(\.bitPattern) == reference.map(\.bitPattern))
    }
}

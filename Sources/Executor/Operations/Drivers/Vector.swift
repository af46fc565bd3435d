/// 16-lane element-wise loops over raw buffers: explicit SIMD, so the compiler need not prove that
/// the buffers do not alias before vectorising (it would not, and fall back to branchy scalar code).
enum Vector {
    typealias V = SIMD16<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// The first `count` (< 16) floats at `p`, the other lanes zero.
    @inline(__always) static func load(_ p: UnsafePointer<Float>, count: Int) -> V {
        var v = V()
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    /// Stores the first `count` (< 16) lanes of `v` at `p`.
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = v[i] }
    }

    /// out[i] = f(x[i]) for i in `range`, 16 lanes at a time (the tail as one partial vector, so every
    /// element goes through the same arithmetic).
    @inline(__always) static func apply(_ range: Range<Int>, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                                        _ f: (V) -> V) {
        var i = range.lowerBound
        while i + 16 <= range.upperBound { store(f(load(x + i)), out + i); i += 16 }
        if i < range.upperBound { store(f(load(x + i, count: range.upperBound - i)), out + i, count: range.upperBound - i) }
    }

    /// out[i] (+)= f(a[i], b[i]) for i in `range`, 16 lanes at a time, the tail as one partial vector.
    @inline(__always) static func apply(_ range: Range<Int>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                        into out: UnsafeMutablePointer<Float>, accumulate: Bool, _ f: (V, V) -> V) {
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            let v = f(load(a + i), load(b + i))
            store(accumulate ? load(out + i) + v : v, out + i)
            i += 16
        }
        if i < range.upperBound {
            let n = range.upperBound - i, v = f(load(a + i, count: n), load(b + i, count: n))
            store(accumulate ? load(out + i, count: n) + v : v, out + i, count: n)
        }
    }

    /// `body(j, width)` over 0..<count in steps of 16 lanes, then 8, then 1 (RegNet widths are
    /// multiples of 8, so the scalar tail rarely runs); `body` is written once, generic in the width.
    @inline(__always) static func chunks(_ count: Int, _ wide: (Int) -> Void, _ half: (Int) -> Void, _ single: (Int) -> Void) {
        var j = 0
        while j + 16 <= count { wide(j); j += 16 }
        if j + 8 <= count { half(j); j += 8 }
        while j < count { single(j); j += 1 }
    }
}

/// The 8-lane counterpart of `Vector`, for the tails of rows whose width is a multiple of 8 but not 16.
enum HalfVector {
    typealias V = SIMD8<Float>
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
}

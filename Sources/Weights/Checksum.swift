/// A 64-bit checksum, to notice a file that changed after it was written (a flipped bit, a truncated
/// copy, an edited number) or to fingerprint a description. Each word goes through
/// h ← (h ⊕ word) · p with an odd p, a bijection of h, so changing any one word always changes the
/// result; names, shapes and metadata are hashed the same way, in sorted order. Not cryptographic.
public struct Checksum {
    private var h: UInt64 = 0xCBF2_9CE4_8422_2325

    private mutating func mix(_ word: UInt64) { h = (h ^ word) &* 0x0000_0100_0000_01B3 }

    private mutating func mix(_ text: String) {
        mix(UInt64(text.utf8.count))
        for byte in text.utf8 { mix(UInt64(byte)) }
    }

    /// The value as 16 hex digits.
    private var hex: String {
        let digits = String(h, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The checksum of `tensors` (names, shapes and every value's bits) and `metadata`.
    public static func of(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> String {
        var c = Checksum()
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            c.mix(name)
            c.mix(UInt64(tensor.shape.count))
            for d in tensor.shape { c.mix(UInt64(truncatingIfNeeded: d)) }
            tensor.scalars.withUnsafeBufferPointer { values in for v in values { c.mix(UInt64(v.bitPattern)) } }
        }
        for key in metadata.keys.sorted() {
            c.mix(key)
            c.mix(metadata[key]!)
        }
        return c.hex
    }

    /// The checksum of `text`.
    public static func of(text: String) -> String {
        var c = Checksum()
        c.mix(text)
        return c.hex
    }

    /// The checksum of `values` in order.
    public static func of(integers values: some Sequence<Int>) -> String {
        var c = Checksum()
        for v in values { c.mix(UInt64(truncatingIfNeeded: v)) }
        return c.hex
    }
}

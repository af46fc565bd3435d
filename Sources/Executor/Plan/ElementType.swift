/// The type of a value's elements. The planners size every buffer in bytes from it, so values of
/// narrower types can sit in the same arena as float32 ones.
enum ElementType: Sendable {
    case float32
    /// bfloat16: a float's sign, exponent and top 7 mantissa bits (the operands of bf16 plans).
    case bfloat16
    /// Unsigned 8-bit quantised activations: value = q · scale (zero point 0).
    case uint8
    /// Signed 8-bit quantised weights: value = q · scale of the output channel (symmetric).
    case int8

    /// Bytes per element.
    var byteCount: Int {
        switch self {
        case .float32: 4
        case .bfloat16: 2
        case .uint8, .int8: 1
        }
    }
}

/// `x` rounded to bfloat16 (to nearest, ties to even — what the bf16 conversion instructions do).
func bfloat16Bits(_ x: Float) -> UInt16 {
    let bits = x.bitPattern
    guard !x.isNaN else { return UInt16(bits >> 16) | 0x40 }
    return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
}

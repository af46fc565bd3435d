/// The type of a value's elements. The planners size every buffer in bytes from it, so values of
/// narrower types can sit in the same arena as float32 ones.
package enum ElementType: Sendable {
    case float32

    /// Bytes per element.
    package var byteCount: Int {
        switch self {
        case .float32: 4
        }
    }
}

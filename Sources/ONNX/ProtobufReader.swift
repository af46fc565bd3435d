import Foundation

/// Reads a protocol-buffer message field by field, bounded: every varint is at most ten bytes, every
/// length fits in what is left, and nested messages are read only where the caller asks (unknown
/// fields are skipped without descending), so malformed or hostile bytes end in an `ONNXError`
/// naming what was read, never in a crash or unbounded recursion.
struct ProtobufReader {
    /// One field: its number and wire type, with the varint (0), fixed (1, 5) or bytes (2) it holds.
    struct Field {
        var number: Int
        var wireType: Int
        var varint: UInt64 = 0
        var bytes = Data()

        /// The varint as a signed integer (int32/int64 fields).
        var int: Int { Int(Int64(bitPattern: varint)) }
        /// A fixed32 float.
        var float: Float { Float(bitPattern: UInt32(truncatingIfNeeded: varint)) }
        var string: String { String(decoding: bytes, as: UTF8.self) }
    }

    private let data: Data
    private var index: Data.Index
    /// What the message is, for errors ("NodeProto").
    let context: String

    init(_ data: Data, context: String) {
        self.data = data
        index = data.startIndex
        self.context = context
    }

    private mutating func varint() throws(ONNXError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard index < data.endIndex else { throw ONNXError("truncated \(context): a number runs past the end") }
            let byte = data[index]
            index += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        throw ONNXError("malformed \(context): a number longer than ten bytes")
    }

    /// The next field, or nil at the end.
    mutating func next() throws(ONNXError) -> Field? {
        guard index < data.endIndex else { return nil }
        let key = try varint()
        var field = Field(number: Int(key >> 3), wireType: Int(key & 7))
        guard field.number > 0 else { throw ONNXError("malformed \(context): field number 0") }
        switch field.wireType {
        case 0: field.varint = try varint()
        case 1, 5:
            let size = field.wireType == 1 ? 8 : 4
            guard data.endIndex - index >= size else { throw ONNXError("truncated \(context): a fixed-size value runs past the end") }
            for (i, byte) in data[index..<index + size].enumerated() { field.varint |= UInt64(byte) << UInt64(8 * i) }
            index += size
        case 2:
            let length = try varint()
            guard length <= UInt64(data.endIndex - index) else {
                throw ONNXError("truncated \(context): field \(field.number) says \(length) bytes, \(data.endIndex - index) are left")
            }
            field.bytes = data[index..<index + Int(length)]
            index += Int(length)
        default:
            throw ONNXError("malformed \(context): wire type \(field.wireType) of field \(field.number) (groups are not used by ONNX)")
        }
        return field
    }

    /// Every field of `data`, read with `body`.
    static func forEach(_ data: Data, _ context: String, _ body: (Field) throws(ONNXError) -> Void) throws(ONNXError) {
        var reader = ProtobufReader(data, context: context)
        while let field = try reader.next() { try body(field) }
    }

    /// A repeated int64 field's values: packed (wire type 2) or one per field.
    static func integers(_ field: Field, _ context: String) throws(ONNXError) -> [Int] {
        guard field.wireType == 2 else { return [field.int] }
        var reader = ProtobufReader(field.bytes, context: context)
        var values: [Int] = []
        while reader.index < reader.data.endIndex { values.append(Int(Int64(bitPattern: try reader.varint()))) }
        return values
    }
}

import Foundation

/// A protocol-buffer message being written: fields appended in order with the wire format's keys
/// (field number and wire type), varints, little-endian fixed32 floats and length-delimited bytes or
/// nested messages. Enough of protobuf for ONNX's messages; no dependencies.
struct ProtobufWriter {
    private(set) var bytes = Data()

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int32/int64/enum field (negative values as ten-byte two's complement, as protobuf does).
    mutating func int(_ field: Int, _ value: Int) {
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    /// A float field (wire type 5).
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A bytes field.
    mutating func bytes(_ field: Int, _ value: Data) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes.append(value)
    }

    /// A string field (UTF-8).
    mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }

    /// Fields written elsewhere, appended as they are.
    mutating func append(_ fields: Data) { bytes.append(fields) }

    /// A nested message field.
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        bytes(field, nested.bytes)
    }
}

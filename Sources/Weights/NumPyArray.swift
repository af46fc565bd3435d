import Foundation

/// `.npy` arrays (format versions 1–3, C order): float32 and float64 read as float32, float32 written.
public enum NumPyArray {
    /// Reads the array in the file at `url`.
    public static func read(contentsOf url: URL) throws(WeightError) -> Tensor {
        try readFile(url) { (data: Data) throws(WeightError) in try read(data) }
    }

    /// Reads an array from `.npy` bytes.
    public static func read(_ data: Data) throws(WeightError) -> Tensor { try decode(data).tensor }

    /// Reads the array at `url` and its element type (`<f4`, `<f8`, `|u1`, `<i4`, `<i8`), converted to float32.
    public static func readWithType(contentsOf url: URL) throws(WeightError) -> (tensor: Tensor, dtype: String) {
        try readFile(url) { (data: Data) throws(WeightError) in try decode(data) }
    }

    /// Parses .npy bytes: float32/float64, or integers (uint8, int32, int64) converted to float32.
    static func decode(_ data: Data) throws(WeightError) -> (tensor: Tensor, dtype: String) {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw WeightError(.malformedFile, "not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw WeightError(.malformedFile, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw WeightError(.malformedFile, "unsupported .npy format version \(major)")
        }
        guard headerStart + headerLength <= data.count else { throw WeightError(.malformedFile, "header length \(headerLength) runs past the end of the file") }
        let header = String(decoding: data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)], as: UTF8.self)
        // A Python dict literal: braces around it, and each key once (numpy would keep the last of two).
        let body = header.trimmingCharacters(in: .whitespacesAndNewlines)
        guard body.hasPrefix("{"), body.hasSuffix("}") else { throw WeightError(.malformedFile, "header is not a dictionary ({…}): \(abbreviated(body))") }
        for key in ["descr", "fortran_order", "shape"] {
            let occurrences = body.components(separatedBy: "'\(key)'").count - 1 + body.components(separatedBy: "\"\(key)\"").count - 1
            guard occurrences <= 1 else { throw WeightError(.malformedFile, "header names '\(key)' \(occurrences) times") }
        }
        guard let descr = field("descr", in: header).map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }) else {
            throw WeightError(.malformedFile, "header has no 'descr'")
        }
        let elementSize: Int, kind: String
        switch descr {
        case "<f4", "=f4", "f4": (elementSize, kind) = (4, "<f4")
        case "<f8", "=f8", "f8": (elementSize, kind) = (8, "<f8")
        case "|u1", "u1", "<u1", "=u1": (elementSize, kind) = (1, "|u1")
        case "<i4", "=i4", "i4": (elementSize, kind) = (4, "<i4")
        case "<i8", "=i8", "i8": (elementSize, kind) = (8, "<i8")
        default: throw WeightError(.malformedFile, "unsupported dtype \(abbreviated(descr)) (float32 '<f4', float64 '<f8', uint8 '|u1', int32 '<i4' or int64 '<i8' expected)")
        }
        switch field("fortran_order", in: header) {
        case "False"?: break
        case "True"?: throw WeightError(.malformedFile, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        case let other: throw WeightError(.malformedFile, "header's 'fortran_order' must be True or False (got \(other.map { abbreviated($0) } ?? "nothing"))")
        }
        guard let shapeText = field("shape", in: header) else { throw WeightError(.malformedFile, "header has no 'shape'") }
        let parts = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for part in parts {
            guard let d = Int(part), d >= 0 else { throw WeightError(.malformedFile, "malformed shape (\(abbreviated(shapeText)))") }
            shape.append(d)
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= data.count else { throw WeightError(.malformedFile, "shape \(abbreviated("\(shape)")) is larger than the file") }
            count = p
        }
        let dataStart = headerStart + headerLength
        guard data.count - dataStart == count * elementSize else {
            throw WeightError(.malformedFile, "data holds \(data.count - dataStart) bytes, shape \(abbreviated("\(shape)")) of \(descr) needs \(count * elementSize): truncated file?")
        }
        try MemoryBudget.check(count * MemoryLayout<Float>.size, for: "the array's \(count) values (shape \(abbreviated("\(shape)")))")
        let scalars = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            let base = raw.baseAddress! + dataStart
            return (0..<count).map { i in
                switch kind {
                case "<f4": Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case "<f8": Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                case "|u1": Float(base.load(fromByteOffset: i, as: UInt8.self))
                case "<i4": Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                default: Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
            }
        }
        return (Tensor(shape: shape, scalars: scalars), kind)
    }

    /// Encodes a float32 array (format 1.0, C order).
    public static func encode(_ tensor: Tensor) -> Data {
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(\(tensor.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        out.append(Data(header.utf8))
        tensor.scalars.withUnsafeBufferPointer { buffer in
            for value in buffer {
                var bits = value.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes `tensor` to `url` atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws(WeightError) {
        try writeAtomically(encode(tensor), to: url)
    }

    /// The text of `'key': value` in a header dict, up to the next top-level comma.
    /// `text` cut to 80 characters, for messages about hostile headers.
    static func abbreviated(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(77)) + "… (\(text.count) characters)"
    }

    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[range.upperBound...].drop { $0 == " " || $0 == ":" }
        var depth = 0, value = ""
        while let c = rest.first {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if depth == 0, c == "," || c == "}" { break }
            value.append(c)
            rest = rest.dropFirst()
            if depth == 0, c == ")" { break }
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}

import Foundation

/// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw data.
///
/// Every field is checked before any data is touched: header length within the file, offsets inside
/// the data section, no overlaps, sizes that agree with shape and dtype.
public enum SafeTensors {
    /// Element types this reader converts to float32.
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        /// 8-bit integers: the weights and zero points of quantised models (converted exactly).
        case i8 = "I8", u8 = "U8"
        /// Wider integer types appear in checkpoints only for bookkeeping (`num_batches_tracked`), which is skipped.
        case i64 = "I64", i32 = "I32"
        var size: Int { switch self { case .f32, .i32: 4; case .f16, .bf16: 2; case .f64, .i64: 8; case .i8, .u8: 1 } }
        /// Whether tensors of this type are read as values (all but the bookkeeping integers).
        var isValue: Bool { self != .i64 && self != .i32 }
    }

    /// Largest header accepted (the format's own limit is 100 MB).
    static let maximumHeaderBytes = 100_000_000

    /// Reads every tensor of the file at `url` (memory-mapped), converting to float32.
    public static func read(contentsOf url: URL) throws(WeightError) -> WeightSet {
        try readFile(url) { (data: Data) throws(WeightError) in try read(data) }
    }

    /// Reads the string metadata (`__metadata__`) of the file at `url`; empty when it has none.
    public static func metadata(contentsOf url: URL) throws(WeightError) -> [String: String] {
        try readFile(url) { (data: Data) throws(WeightError) in
            let header = try header(data).header
            guard let metadata = header["__metadata__"] else { return [:] }
            guard let strings = metadata as? [String: String] else { throw WeightError(.malformedFile, "__metadata__ must map strings to strings") }
            return strings
        }
    }

    /// The parsed JSON header and where the data starts.
    private static func header(_ data: Data) throws(WeightError) -> (header: [String: Any], end: Int) {
        guard data.count >= 8 else { throw WeightError(.malformedFile, "not a safetensors file: \(data.count) bytes, shorter than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for (i, byte) in data.prefix(8).enumerated() { headerLength |= UInt64(byte) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw WeightError(.malformedFile, "header length \(headerLength) runs past the end of the file (\(data.count) bytes): truncated or not safetensors")
        }
        guard headerLength <= UInt64(maximumHeaderBytes) else { throw WeightError(.malformedFile, "header length \(headerLength) exceeds \(maximumHeaderBytes) bytes") }
        let headerEnd = 8 + Int(headerLength)
        let headerData = data.subdata(in: data.startIndex + 8 ..< data.startIndex + headerEnd)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw WeightError(.malformedFile, "header is not valid JSON")
        }
        guard let header = object as? [String: Any] else { throw WeightError(.malformedFile, "header is not a JSON object") }
        return (header, headerEnd)
    }

    /// Reads every tensor from safetensors bytes.
    public static func read(_ data: Data) throws(WeightError) -> WeightSet {
        let (header, headerEnd) = try header(data)
        let dataLength = data.count - headerEnd

        struct Entry { var name: String; var dtype: DType; var shape: [Int]; var begin: Int; var end: Int }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw WeightError(.malformedFile, "tensor '\(printable(name))': entry is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw WeightError(.malformedFile, "tensor '\(printable(name))': missing dtype") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw WeightError(.malformedFile, "tensor '\(printable(name))': unsupported dtype \(dtypeName) (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw WeightError(.malformedFile, "tensor '\(printable(name))': shape must be a list of non-negative integers")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw WeightError(.malformedFile, "tensor '\(printable(name))': data_offsets must be two integers")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataLength else { throw WeightError(.malformedFile, "tensor '\(printable(name))': shape \(shape) is larger than the file") }
                count = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw WeightError(.malformedFile, "tensor '\(printable(name))': data offsets [\(begin), \(end)] are outside the data section (\(dataLength) bytes)")
            }
            guard end - begin == count * dtype.size else {
                throw WeightError(.malformedFile, "tensor '\(printable(name))': \(end - begin) bytes do not hold shape \(shape) of \(dtypeName) (\(count * dtype.size) bytes)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
            if !dtype.isValue && !WeightSet.isBookkeeping(name) {
                throw WeightError(.malformedFile, "tensor '\(printable(name))': dtype \(dtypeName) where weights (F32, F16, BF16, or I8 and U8 in quantised models) are expected")
            }
        }
        let sorted = entries.sorted { $0.begin < $1.begin }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.begin < a.end {
            throw WeightError(.malformedFile, "tensors '\(a.name)' and '\(b.name)' overlap in the data section")
        }

        var tensors: [String: Tensor] = [:]
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + headerEnd
            for e in entries where e.dtype.isValue {
                let count = e.shape.reduce(1, *)
                let bytes = base + e.begin
                let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for i in 0..<count {
                        switch e.dtype {
                        case .f32: buffer[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                        case .f16: buffer[i] = floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        case .bf16: buffer[i] = floatFromBFloat16(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        case .f64: buffer[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                        case .i8: buffer[i] = Float(bytes.load(fromByteOffset: i, as: Int8.self))
                        case .u8: buffer[i] = Float(bytes.load(fromByteOffset: i, as: UInt8.self))
                        case .i64, .i32: buffer[i] = 0
                        }
                    }
                    initialized = count
                }
                tensors[e.name] = Tensor(shape: e.shape, scalars: scalars)
            }
        }
        return WeightSet(tensors)
    }

    /// Encodes `weights` as safetensors, tensors in name order: float32, or I8 / U8 for the tensors
    /// `integers` names (their values must be integers in the type's range: they are stored as such).
    public static func encode(_ weights: WeightSet, metadata: [String: String] = [:], integers: [String: DType] = [:]) -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = weights.tensors.keys.sorted()
        func dtype(_ name: String) -> DType { integers[name].flatMap { $0 == .i8 || $0 == .u8 ? $0 : nil } ?? .f32 }
        for name in names {
            let tensor = weights.tensors[name]!, bytes = dtype(name).size * tensor.count
            header[name] = ["dtype": dtype(name).rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            weights.tensors[name]!.scalars.withUnsafeBufferPointer { buffer in
                switch dtype(name) {
                case .i8: out.append(contentsOf: buffer.map { UInt8(bitPattern: Int8(integer($0, -128, 127))) })
                case .u8: out.append(contentsOf: buffer.map { UInt8(integer($0, 0, 255)) })
                default:
                    for value in buffer {
                        var bits = value.bitPattern.littleEndian
                        withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                    }
                }
            }
        }
        return out
    }

    /// Writes `weights` to `url` (atomically: a failed write leaves no file), as `encode` lays them out.
    public static func write(_ weights: WeightSet, to url: URL, metadata: [String: String] = [:], integers: [String: DType] = [:]) throws(WeightError) {
        try writeAtomically(encode(weights, metadata: metadata, integers: integers), to: url)
    }

    /// `x` rounded and clamped to [lower, upper] (NaN as 0), for the integer dtypes.
    private static func integer(_ x: Float, _ lower: Float, _ upper: Float) -> Float {
        x.isNaN ? 0 : Swift.min(Swift.max(x.rounded(), lower), upper)
    }

    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in array {
            guard let number = item as? NSNumber else { return nil }
            let value = number.doubleValue
            guard value.isFinite, value == value.rounded(), abs(value) < 9.2e18 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}

import Foundation

/// The parts of an ONNX ModelProto the importer reads: the opset, the graph's nodes, initializers,
/// input and output, decoded with `ProtobufReader` and checked (element counts, byte sizes,
/// external data refused).
struct ONNXFile {
    /// A tensor: its dimensions and values (floats for FLOAT, whole numbers for INT64/INT32).
    struct Tensor {
        var name = "", dims: [Int] = [], floats: [Float] = [], integers: [Int] = []
        var count: Int { dims.reduce(1, *) }
    }
    /// An attribute's value.
    enum Attribute { case int(Int), float(Float), ints([Int]), floats([Float]), string(String), tensor(Tensor) }
    struct Node {
        var name = "", op = "", domain = "", inputs: [String] = [], outputs: [String] = []
        var attributes: [String: Attribute] = [:]
    }
    /// A graph input or output: its name and dimensions (nil where symbolic).
    struct Value { var name = "", dims: [Int?] = [] }

    var opset = 0
    var nodes: [Node] = []
    var initializers: [String: Tensor] = [:]
    var inputs: [Value] = [], outputs: [Value] = []

    /// At most this many elements in one tensor (4 GiB of floats).
    static let maximumElements = 1 << 30

    init(_ data: Data) throws(ONNXError) {
        var graph: Data?
        try ProtobufReader.forEach(data, "ModelProto") { (f) throws(ONNXError) in
            switch f.number {
            case 7: graph = f.bytes
            case 8:
                var domain = "", version = 0
                try ProtobufReader.forEach(f.bytes, "OperatorSetIdProto") { (g) throws(ONNXError) in
                    if g.number == 1 { domain = g.string } else if g.number == 2 { version = g.int }
                }
                if domain.isEmpty || domain == "ai.onnx" { opset = version }
            default: break
            }
        }
        guard let graph else { throw ONNXError("not an ONNX model: no graph (is it an ONNX file?)") }
        guard opset > 0 else { throw ONNXError("the model imports no standard operator set") }
        try ProtobufReader.forEach(graph, "GraphProto") { (f) throws(ONNXError) in
            switch f.number {
            case 1: nodes.append(try Self.node(f.bytes))
            case 5:
                let t = try Self.tensor(f.bytes)
                initializers[t.name] = t
            case 11: inputs.append(try Self.value(f.bytes))
            case 12: outputs.append(try Self.value(f.bytes))
            case 15: throw ONNXError("the model has sparse initializers, which are not supported")
            default: break
            }
        }
    }

    static func node(_ data: Data) throws(ONNXError) -> Node {
        var node = Node()
        try ProtobufReader.forEach(data, "NodeProto") { (f) throws(ONNXError) in
            switch f.number {
            case 1: node.inputs.append(f.string)
            case 2: node.outputs.append(f.string)
            case 3: node.name = f.string
            case 4: node.op = f.string
            case 7: node.domain = f.string
            case 5:
                var name = "", value: Attribute?, ints: [Int] = [], floats: [Float] = []
                try ProtobufReader.forEach(f.bytes, "AttributeProto") { (a) throws(ONNXError) in
                    switch a.number {
                    case 1: name = a.string
                    case 2: value = .float(a.float)
                    case 3: value = .int(a.int)
                    case 4: value = .string(a.string)
                    case 5: value = .tensor(try tensor(a.bytes))
                    case 6, 11: throw ONNXError("a subgraph attribute (control flow: If, Loop, Scan), which is not supported")
                    case 7: floats += a.wireType == 2 ? try packedFloats(a.bytes) : [a.float]
                    case 8: ints += try ProtobufReader.integers(a, "AttributeProto.ints")
                    default: break
                    }
                }
                if !ints.isEmpty { value = .ints(ints) } else if !floats.isEmpty { value = .floats(floats) }
                if let value { node.attributes[name] = value }
            default: break
            }
        }
        return node
    }

    static func tensor(_ data: Data) throws(ONNXError) -> Tensor {
        var t = Tensor(), type = 0, raw: Data?, external = false
        try ProtobufReader.forEach(data, "TensorProto") { (f) throws(ONNXError) in
            switch f.number {
            case 1: t.dims += try ProtobufReader.integers(f, "TensorProto.dims")
            case 2: type = f.int
            case 4: t.floats += f.wireType == 2 ? try packedFloats(f.bytes) : [f.float]
            case 5, 7: t.integers += try ProtobufReader.integers(f, "TensorProto data")
            case 8: t.name = f.string
            case 9: raw = f.bytes
            case 13: external = true
            case 14: external = external || f.int == 1
            default: break
            }
        }
        if external {
            throw ONNXError("tensor '\(t.name)' keeps its data in an external file, which is not read (save the model with its weights inside)")
        }
        var elements = 1
        for d in t.dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, product <= maximumElements else { throw ONNXError("tensor '\(t.name)' has an impossible shape \(t.dims)") }
            elements = product
        }
        let count = t.count
        if let raw {
            let size = type == 7 ? 8 : type == 6 ? 4 : type == 1 ? 4 : 0
            guard size > 0 else { throw ONNXError("tensor '\(t.name)' has data type \(type); FLOAT, INT32 and INT64 are supported") }
            guard raw.count == count * size else {
                throw ONNXError("tensor '\(t.name)' holds \(raw.count) bytes for \(count) elements of \(size) bytes")
            }
            raw.withUnsafeBytes { bytes in
                switch type {
                case 1: t.floats = (0..<count).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                case 6: t.integers = (0..<count).map { Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
                default: t.integers = (0..<count).map { Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
                }
            }
        } else {
            guard [1, 6, 7].contains(type) else { throw ONNXError("tensor '\(t.name)' has data type \(type); FLOAT, INT32 and INT64 are supported") }
            guard (type == 1 ? t.floats.count : t.integers.count) == count else {
                throw ONNXError("tensor '\(t.name)' holds \(type == 1 ? t.floats.count : t.integers.count) values for shape \(t.dims)")
            }
        }
        if type == 1, let bad = t.floats.firstIndex(where: { !$0.isFinite }) {
            throw ONNXError("tensor '\(t.name)' has a non-finite value (\(t.floats[bad])) at element \(bad)")
        }
        return t
    }

    static func packedFloats(_ data: Data) throws(ONNXError) -> [Float] {
        guard data.count % 4 == 0 else { throw ONNXError("malformed packed floats: \(data.count) bytes") }
        return data.withUnsafeBytes { b in (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
    }

    static func value(_ data: Data) throws(ONNXError) -> Value {
        var v = Value()
        try ProtobufReader.forEach(data, "ValueInfoProto") { (f) throws(ONNXError) in
            if f.number == 1 { v.name = f.string }
            guard f.number == 2 else { return }
            try ProtobufReader.forEach(f.bytes, "TypeProto") { (type) throws(ONNXError) in
                guard type.number == 1 else { return }
                try ProtobufReader.forEach(type.bytes, "TypeProto.Tensor") { (tensor) throws(ONNXError) in
                    guard tensor.number == 2 else { return }
                    try ProtobufReader.forEach(tensor.bytes, "TensorShapeProto") { (dim) throws(ONNXError) in
                        guard dim.number == 1 else { return }
                        var value: Int?
                        try ProtobufReader.forEach(dim.bytes, "Dimension") { (d) throws(ONNXError) in if d.number == 1 { value = d.int } }
                        v.dims.append(value)
                    }
                }
            }
        }
        return v
    }
}

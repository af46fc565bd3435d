import Foundation
import NetworkDSL
import NetworkIR
@testable import ONNX
import Testing
import Weights

/// The exporter's protobuf and its refusals. (Whether ONNX and ONNX Runtime accept the files, with
/// logits equal to ours, is `scripts/check-onnx-export.sh`, run by CI.)
@Suite struct ONNXExportTests {
    /// Fields of a protobuf message: (field number, varint value or bytes), read back for the checks.
    static func fields(_ data: Data) -> [(field: Int, value: UInt64?, bytes: Data?)] {
        var result: [(Int, UInt64?, Data?)] = [], i = data.startIndex
        func varint() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true { let b = data[i]; i += 1; value |= UInt64(b & 0x7F) << shift; shift += 7; if b < 0x80 { return value } }
        }
        while i < data.endIndex {
            let key = varint(), field = Int(key >> 3)
            switch key & 7 {
            case 0: result.append((field, varint(), nil))
            case 2: let n = Int(varint()); result.append((field, nil, data[i..<(i + n)])); i += n
            case 5: i += 4; result.append((field, nil, nil))
            default: Issue.record("unexpected wire type \(key & 7)"); return result
            }
        }
        return result
    }

    static let net = Network("Small") {
        Stem { Conv(8, kernel: 3, stride: 2, name: "conv"); BatchNorm(name: "bn"); HardSwish() }
        Body { Stage(depth: 1, width: 16, groupWidth: 8) }
        Head { GlobalAveragePool(); Linear(12, name: "fc1"); ReLU6(); Dropout(0.1); Linear(4, name: "fc2") }
    }

    @Test func modelHoldsTheGraphItsOpsetAndMetadata() throws {
        let graph = try Self.net.lower(resolution: 16)
        let data = try graph.onnxModel(weights: .initialized(for: graph), options: ONNXExportOptions(opset: 17, batch: nil, metadata: ["k": "v"]))
        let model = Self.fields(data)
        #expect(model.first { $0.field == 1 }?.value == 8, "IR version 8 for opset 17")
        let opset = try #require(model.first { $0.field == 8 }?.bytes)
        #expect(Self.fields(opset).first { $0.field == 2 }?.value == 17)
        let metadata = model.filter { $0.field == 14 }.compactMap(\.bytes).map { Self.fields($0).compactMap(\.bytes).map { String(decoding: $0, as: UTF8.self) } }
        #expect(metadata.contains(["k", "v"]) && metadata.contains(["flops", String(graph.complexity.flops)]))
        let graphFields = Self.fields(try #require(model.first { $0.field == 7 }?.bytes))
        let ops = graphFields.filter { $0.field == 1 }.compactMap(\.bytes).map { node in
            String(decoding: Self.fields(node).first { $0.field == 4 }!.bytes!, as: UTF8.self)
        }
        #expect(ops.first == "Conv" && ops.contains("HardSwish") && ops.contains("Clip") && !ops.contains("Dropout"))
        #expect(ops.filter { $0 == "Gemm" }.count == 2 && ops.filter { $0 == "Flatten" }.count == 1, "one Flatten before the first Gemm: \(ops)")
        #expect(ops.last == "Gemm")
        let initializers = graphFields.filter { $0.field == 5 }.compactMap(\.bytes).map { t in
            String(decoding: Self.fields(t).first { $0.field == 8 }!.bytes!, as: UTF8.self)
        }
        #expect(Set(graph.parameters.map(\.name)).isSubset(of: Set(initializers)), "timm-named initializers")
        // Another family's names on request, and the file still reads back.
        let pycls = try graph.onnxModel(weights: .initialized(for: graph), options: ONNXExportOptions(naming: .pycls))
        #expect(String(decoding: pycls, as: UTF8.self).contains(CheckpointNaming.name("stem.conv.weight", in: .pycls)))
        #expect(try ONNXImport(pycls, name: "pycls").graph.complexity == graph.complexity)
        // The batch dimension is symbolic ("N") when asked.
        let input = try #require(graphFields.first { $0.field == 11 }?.bytes)
        #expect(String(decoding: input, as: UTF8.self).contains("N"))
    }

    /// An int8 convolution as QDQ: its input quantised and dequantized, its weights int8 with their
    /// scales, its batch norm folded into those scales.
    @Test func int8ConvolutionsAreWrittenAsQDQ() throws {
        let graph = try Self.net.lower(resolution: 16)
        let weights = WeightSet.initialized(for: graph)
        let conv = try #require(graph.nodes.first { $0.name.hasSuffix("conv1.conv") })
        guard case .convolution(let c) = conv.operation else { Issue.record("not a convolution"); return }
        let layer = ONNXInt8Layer(inputScale: 0.02, weightScales: [Float](repeating: 0.01, count: c.outChannels))
        let data = try graph.onnxModel(weights: weights, options: ONNXExportOptions(int8: [conv.name: layer]))
        let graphFields = Self.fields(try #require(Self.fields(data).first { $0.field == 7 }?.bytes))
        let ops = graphFields.filter { $0.field == 1 }.compactMap(\.bytes).map { String(decoding: Self.fields($0).first { $0.field == 4 }!.bytes!, as: UTF8.self) }
        #expect(ops.filter { $0 == "QuantizeLinear" }.count == 1 && ops.filter { $0 == "DequantizeLinear" }.count == 2)
        #expect(ops.filter { $0 == "BatchNormalization" }.count == graph.nodes.filter { if case .batchNorm = $0.operation { true } else { false } }.count - 1,
                "the int8 convolution's batch norm is folded")
        var wrong = layer
        wrong.weightScales.removeLast()
        #expect { try graph.onnxModel(weights: weights, options: ONNXExportOptions(int8: [conv.name: wrong])) } throws: { "\($0)".contains("weight scales") }
    }

    @Test func refusalsNameWhatIsWrong() throws {
        let graph = try Self.net.lower(resolution: 16)
        let weights = WeightSet.initialized(for: graph)
        #expect { try graph.onnxModel(weights: weights, options: ONNXExportOptions(opset: 13)) } throws: {
            "\($0)".contains("HardSwish needs opset 14")
        }
        #expect { try graph.onnxModel(weights: weights, options: ONNXExportOptions(opset: 40)) } throws: { "\($0)".contains("opset 40") }
        #expect { try graph.onnxModel(weights: weights, options: ONNXExportOptions(batch: 0)) } throws: { "\($0)".contains("batch") }
        var missing = weights
        let bias = try #require(graph.parameters.last?.name)
        missing[bias] = nil
        #expect { try graph.onnxModel(weights: missing, options: ONNXExportOptions()) } throws: { "\($0)".contains(bias) }
    }
}

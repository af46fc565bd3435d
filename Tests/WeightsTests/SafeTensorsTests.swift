import Foundation
import Testing
@testable import Weights

/// Builds safetensors bytes by hand, so malformed variants can be made precisely.
func safetensorsBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> Data {
    var out = Data()
    var length = (declaredLength ?? UInt64(header.utf8.count)).littleEndian
    withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
    out.append(Data(header.utf8))
    out.append(contentsOf: data)
    return out
}

func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

func readError(_ data: Data) -> String? {
    do { _ = try SafeTensors.read(data); return nil } catch { return error.message }
}

@Suite struct SafeTensorsTests {
    @Test func roundTripKeepsNamesShapesAndValues() throws {
        let weights = WeightSet(["a.weight": Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, -6.5]),
                                 "b.bias": Tensor(shape: [1], scalars: [.pi])])
        let back = try SafeTensors.read(SafeTensors.encode(weights, metadata: ["format": "pt"]))
        #expect(back.tensors == weights.tensors)
    }

    @Test func halfAndBFloat16AreConverted() throws {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001.
        // BF16: 1.0 = 0x3F80, -0.5 = 0xBF00.
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001], bf16: [UInt16] = [0x3F80, 0xBF00]
        let bytes = (f16 + bf16).flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let header = #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}"#
        let w = try SafeTensors.read(safetensorsBytes(header: header, data: bytes))
        #expect(w["h"]?.scalars == [1, -2, 65504, Float(sign: .plus, exponent: -24, significand: 1)])
        #expect(w["b"]?.scalars == [1, -0.5])
    }

    @Test func bookkeepingIntegersAreSkippedOthersRejected() throws {
        let header = #"{"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#
        let w = try SafeTensors.read(safetensorsBytes(header: header, data: Array(repeating: 0, count: 8)))
        #expect(w.tensors.isEmpty)
        let bad = #"{"conv.weight":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        #expect(readError(safetensorsBytes(header: bad, data: Array(repeating: 0, count: 8)))?.contains("dtype I64 where weights") == true)
    }

    @Test func eightBitIntegersAreReadExactlyAndWrittenWhenAsked() throws {
        let header = #"{"q":{"dtype":"I8","shape":[4],"data_offsets":[0,4]},"z":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#
        let w = try SafeTensors.read(safetensorsBytes(header: header, data: [0x81, 0x7F, 0x00, 0xFF, 0x00, 0xFF]))
        #expect(w["q"]?.scalars == [-127, 127, 0, -1])
        #expect(w["z"]?.scalars == [0, 255])
        // Written as I8 / U8 when named, rounded and clamped to the type's range; F32 otherwise.
        let set = WeightSet(["q": Tensor(shape: [3], scalars: [-3, 200, .nan]), "z": Tensor(shape: [2], scalars: [7.4, -5]),
                             "f": Tensor(shape: [1], scalars: [0.5])])
        let data = SafeTensors.encode(set, integers: ["q": .i8, "z": .u8])
        let back = try SafeTensors.read(data)
        #expect(back["q"]?.scalars == [-3, 127, 0] && back["z"]?.scalars == [7, 0] && back["f"]?.scalars == [0.5])
        #expect(data.count < SafeTensors.encode(set).count)
    }

    @Test func malformedFilesAreRejectedWithReasons() {
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let data = floatBytes([1, 2])
        let cases: [(Data, String)] = [
            (Data(), "shorter than the 8-byte header length"),
            (Data([1, 2, 3]), "shorter than the 8-byte header length"),
            (safetensorsBytes(header: good, data: data, declaredLength: 1 << 40), "runs past the end of the file"),
            (safetensorsBytes(header: "not json", data: []), "not valid JSON"),
            (safetensorsBytes(header: "[1,2]", data: []), "not a JSON object"),
            (safetensorsBytes(header: good, data: Array(data.prefix(4))), "outside the data section"),
            (safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: data), "do not hold shape"),
            (safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: data), "outside the data section"),
            (safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, data: data), "outside the data section"),
            (safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: data), "larger than the file"),
            (safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: data), "non-negative integers"),
            (safetensorsBytes(header: #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, data: data), "unsupported dtype Q4"),
            (safetensorsBytes(header: #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, data: data), "missing dtype"),
            (safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: data), "data_offsets must be two integers"),
            (safetensorsBytes(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: data), "overlap"),
        ]
        for (bytes, reason) in cases {
            let message = readError(bytes)
            #expect(message?.contains(reason) == true, "expected '\(reason)', got \(String(describing: message))")
        }
    }

    @Test func truncatedRealFileFailsAtEveryLength() throws {
        let weights = WeightSet(["x": Tensor(shape: [4, 4], scalars: (0..<16).map(Float.init))])
        let full = SafeTensors.encode(weights)
        for length in stride(from: 0, to: full.count, by: 7) {
            #expect(readError(full.prefix(length)) != nil, "prefix of \(length) bytes was accepted")
        }
        #expect(readError(full) == nil)
    }

    @Test func missingFileNamesThePath() {
        #expect {
            try SafeTensors.read(contentsOf: URL(fileURLWithPath: "/nonexistent/w.safetensors"))
        } throws: { ($0 as? WeightError)?.message.contains("/nonexistent/w.safetensors") == true }
    }
}

// libFuzzer harness: any bytes given to the ONNX reader must end in a model or an ONNXError.
import Foundation
import ONNX

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? ONNXImport(Data(bytes: data, count: size), name: "fuzz", size: (16, 16))
    return 0
}

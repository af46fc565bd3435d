// libFuzzer harness: any bytes given to the safetensors reader must end in tensors or a WeightError.
import Foundation
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? SafeTensors.read(Data(bytes: data, count: size))
    return 0
}

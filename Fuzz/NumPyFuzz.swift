// libFuzzer harness: any bytes given to the .npy reader must end in a tensor or a WeightError.
import Foundation
import Weights

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? NumPyArray.read(Data(bytes: data, count: size))
    return 0
}

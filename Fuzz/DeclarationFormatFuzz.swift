// libFuzzer harness: any text given to the .regnet parser must end in declarations and diagnostics,
// and the Swift generated for whatever it accepts must be produced without trapping.
import DeclarationFormat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let file = DeclarationFile(parsing: text)
    _ = SwiftGenerator.source(for: file, sourceName: "Fuzz.regnet")
    return 0
}

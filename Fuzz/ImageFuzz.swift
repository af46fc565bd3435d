// libFuzzer harness: any bytes given to the image decoders (PNG, JPEG, PGM/PPM) must end in an image or an
// ImageError; decoded images are also converted and preprocessed.
import Images

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let image = try? ImageFile.decode(bytes), image.width * image.height <= 4096 {
        _ = try? Preprocessing(resize: 16, crop: 8)(image.rgb)
    }
    return 0
}

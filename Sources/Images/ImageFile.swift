import Foundation

/// Reads an image file, choosing the decoder from its first bytes rather than its name.
public enum ImageFile {
    /// Decodes the PNG, PGM or PPM file at `url`.
    public static func read(contentsOf url: URL) throws(ImageError) -> DecodedImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImageError("cannot read \(url.path): \(error.localizedDescription)")
        }
        do {
            return try decode([UInt8](data))
        } catch {
            throw ImageError("\(url.lastPathComponent): \(error.message)")
        }
    }

    /// Decodes PNG, PGM or PPM bytes.
    public static func decode(_ bytes: [UInt8]) throws(ImageError) -> DecodedImage {
        if bytes.isEmpty { throw ImageError("the file is empty") }
        if PNG.isPNG(bytes) { return try PNG.decode(bytes) }
        if PPM.isNetpbm(bytes) { return try PPM.decode(bytes) }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
            throw ImageError("JPEG is not supported yet: convert to PNG or PPM first")
        }
        throw ImageError("unrecognised image format (PNG, PGM and PPM are supported)")
    }
}

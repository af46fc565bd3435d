import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an image file, choosing the decoder from its first bytes rather than its name.
public enum ImageFile {
    /// Decodes the PNG, JPEG, PGM or PPM file at `url`.
    public static func read(contentsOf url: URL) throws(ImageError) -> DecodedImage {
        // Only regular files (links followed): a directory, FIFO or device gets an error that says what it is.
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw ImageError(.unreadable(path: url.path), "cannot read \(url.path): \(errno == ELOOP ? "too many levels of symbolic links" : String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ImageError(.unreadable(path: url.path), "cannot read \(url.path): it is a directory")
        default: throw ImageError(.unreadable(path: url.path), "cannot read \(url.path): it is not a regular file (a FIFO, socket or device)")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImageError(.unreadable(path: url.path), "cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        do {
            return try decode([UInt8](data))
        } catch {
            throw ImageError(error.kind, "\(url.lastPathComponent): \(error.message)")
        }
    }

    /// Decodes PNG, JPEG, PGM or PPM bytes.
    public static func decode(_ bytes: [UInt8]) throws(ImageError) -> DecodedImage {
        if bytes.isEmpty { throw ImageError(.truncated, "the file is empty") }
        if PNG.isPNG(bytes) { return try PNG.decode(bytes) }
        if PPM.isNetpbm(bytes) { return try PPM.decode(bytes) }
        if JPEG.isJPEG(bytes) { return try JPEG.decode(bytes) }
        throw ImageError(.unsupported, "unrecognised image format (PNG, JPEG, PGM and PPM are supported)")
    }
}

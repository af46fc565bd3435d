import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Images

/// Images in class folders, as torchvision's `ImageFolder`: `root/<class>/<image>` with PNG, JPEG or
/// PPM/PGM files, classes sorted by name. Images are decoded on demand with the package's decoders.
public struct ImageFolderDataset: ImageDataset {
    public let name: String
    /// Class names in label order.
    public let classNames: [String]
    public var classes: Int { classNames.count }
    public var count: Int { files.count }
    public var fixedSize: (height: Int, width: Int)? { nil }
    private let files: [(url: URL, label: Int)]

    /// File endings read as images.
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "ppm", "pgm", "pnm"]

    /// Lists `root`; with `classNames`, the classes must be among them (a validation split takes the
    /// training split's classes) and keep their labels.
    public init(root: URL, classNames given: [String]? = nil) throws(DataError) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(.unreadable(path: root.path), "\(root.path) is not a directory (expected one folder of images per class)")
        }
        let entries: [String]
        do { entries = try manager.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".") }.sorted() } catch {
            throw DataError(.unreadable(path: root.path), "\(root.path): cannot list the directory")
        }
        // Class folders are the directories (a link to one counts); a link that leads nowhere is an
        // error rather than a class silently missing.
        var folders: [String] = []
        for entry in entries {
            let path = root.appendingPathComponent(entry).path
            var info = stat()
            if stat(path, &info) != 0 {
                let reason = errno == ELOOP ? "a loop of symbolic links" : "a symbolic link to nothing (\(String(cString: strerror(errno))))"
                throw DataError(.unreadable(path: path), "\(path): \(reason); remove it or point it at a class folder")
            }
            if info.st_mode & S_IFMT == S_IFDIR { folders.append(entry) }
        }
        guard !folders.isEmpty else { throw DataError(.invalidDataset, "\(root.path) has no class folders") }
        let names = given ?? folders
        var files: [(URL, Int)] = []
        for folder in folders {
            guard let label = names.firstIndex(of: folder) else {
                throw DataError(.invalidDataset, "\(root.appendingPathComponent(folder).path): class '\(folder)' is not among the training classes")
            }
            let dir = root.appendingPathComponent(folder)
            let entries = ((try? manager.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
            let images = entries.filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            guard !images.isEmpty else { throw DataError(.invalidDataset, "\(dir.path): class folder '\(folder)' has no images (.png, .jpg, .jpeg, .ppm, .pgm)") }
            files += images.map { (dir.appendingPathComponent($0), label) }
        }
        self.files = files
        classNames = names
        name = "folder:\(root.path)"
    }

    public func label(_ index: Int) -> Int { files[index].label }

    /// The file behind image `index`.
    public func url(_ index: Int) -> URL { files[index].url }

    public func image(_ index: Int) throws(DataError) -> DatasetImage {
        let url = files[index].url
        let decoded: DecodedImage
        do { decoded = try ImageFile.read(contentsOf: url) } catch { throw DataError(.image(error.kind), "\(url.path): \(error.description)") }
        let rgb = decoded.rgb, plane = rgb.width * rgb.height
        var pixels = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane { for c in 0..<3 { pixels[c * plane + p] = rgb.pixels[p * 3 + c] } }
        return DatasetImage(channels: 3, height: rgb.height, width: rgb.width, pixels: pixels)
    }
}

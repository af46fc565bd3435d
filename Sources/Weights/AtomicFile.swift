import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `data` to `url` through a temporary file in the same folder, flushed to disk, and a
/// rename, so a crash or a full disk never leaves a partial file and the previous file survives a
/// failed write.
///
/// The destination, when it exists, must be a regular file (a symbolic link is followed to one):
/// devices, FIFOs and directories are refused, never replaced. The new file keeps the old one's
/// permission bits. A rename gives the path a new file, so other hard links to the old one keep the
/// old contents.
package func writeAtomically(_ data: Data, to url: URL) throws(WeightError) {
    var target = url.path
    var mode: mode_t = 0o644
    var info = stat()
    if stat(target, &info) == 0 {
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw WeightError(.fileAccess(path: url.path), "refusing to write \(url.path): it exists and is not a regular file (a device, FIFO or directory is never replaced)")
        }
        mode = info.st_mode & 0o7777
        // Follow a symbolic link, so the link stays and its target gets the new contents.
        if let resolved = realpath(target, nil) {
            target = String(cString: resolved)
            free(resolved)
        }
    } else if errno == ELOOP {
        throw WeightError(.fileAccess(path: url.path), "cannot write \(url.path): too many levels of symbolic links")
    } else {
        let mask = umask(0)
        umask(mask)
        mode = 0o666 & ~mask
    }
    let destination = URL(fileURLWithPath: target)
    let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
    let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, mode)
    guard fd >= 0 else { throw WeightError(.fileAccess(path: url.path), "cannot write \(url.path): \(String(cString: strerror(errno)))") }
    var failure: String?
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var offset = 0
        while offset < raw.count {
            let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
                return
            }
            offset += written
        }
    }
    if failure == nil, fchmod(fd, mode) != 0 { failure = String(cString: strerror(errno)) }
    if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
    if let failure {
        unlink(temporary.path)
        throw WeightError(.fileAccess(path: url.path), "cannot write \(url.path): \(failure)")
    }
    // rename(2) replaces the destination atomically: readers see the old file or the new one, never a mix.
    guard rename(temporary.path, target) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary.path)
        throw WeightError(.fileAccess(path: url.path), "cannot write \(url.path): \(reason)")
    }
}

/// Reads a whole file (memory-mapped where the platform allows) and parses it, prefixing parse
/// errors with the file's name. Only regular files are read: a directory, FIFO or device is an error
/// that says so.
func readFile<T>(_ url: URL, _ parse: (Data) throws(WeightError) -> T) throws(WeightError) -> T {
    var info = stat()
    guard stat(url.path, &info) == 0 else {
        let reason = errno == ELOOP ? "too many levels of symbolic links" : errno == ENOENT ? "no such file" : String(cString: strerror(errno))
        throw WeightError(.fileAccess(path: url.path), "cannot read \(url.path): \(reason)")
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw WeightError(.fileAccess(path: url.path), "cannot read \(url.path): it is a directory")
    default: throw WeightError(.fileAccess(path: url.path), "cannot read \(url.path): it is not a regular file (a FIFO, socket or device)")
    }
    let data: Data
    do {
        data = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
        throw WeightError(.fileAccess(path: url.path), "cannot read \(url.path): \((error as NSError).localizedDescription)")
    }
    do {
        return try parse(data)
    } catch {
        throw WeightError(error.kind, "\(url.lastPathComponent): \(error.message)")
    }
}

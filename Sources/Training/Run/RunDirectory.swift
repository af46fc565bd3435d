import Foundation
import Synchronization
import Weights
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A training run's output directory, owned by one run at a time: `lock` (held while the run goes),
/// `run.json` (the run's identity), `stdout.log`, `checkpoints/model_epoch_NNNN.safetensors` and
/// `final.safetensors`. Files are opened without following symbolic links and without blocking, and
/// must be regular files: a FIFO, device, directory or link in their place is an error, never a hang
/// or a write somewhere else.
final class RunDirectory {
    let url: URL
    /// The lock, held as long as this value lives.
    private let lock: RunDirectoryLock

    var logURL: URL { url.appendingPathComponent("stdout.log") }
    var identityURL: URL { url.appendingPathComponent("run.json") }
    var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }
    var finalURL: URL { url.appendingPathComponent("final.safetensors") }

    /// Opens (creating it when absent) the directory at `url` for one run: takes its lock, makes
    /// `checkpoints/`, and removes the temporary files an interrupted checkpoint save left there.
    init(_ url: URL) throws(TrainingError) {
        self.url = url
        let fm = FileManager.default
        var info = stat()
        if stat(url.path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw TrainingError(.fileAccess(path: url.path), "\(url.path) exists and is not a directory; --out needs a directory (new or a run's own)")
            }
        } else {
            do { try fm.createDirectory(at: url, withIntermediateDirectories: true) } catch {
                throw TrainingError(.fileAccess(path: url.path), "cannot create \(url.path): \(Self.reason(error))")
            }
        }
        guard let lock = try RunDirectoryLock.acquire(url) else {
            throw TrainingError(.fileAccess(path: url.path), "\(url.path) is in use by another run (a `regnet train` or a sweep job); wait for it to end or choose another directory")
        }
        self.lock = lock
        var checkpoints = stat()
        if lstat(checkpointsURL.path, &checkpoints) == 0, checkpoints.st_mode & S_IFMT != S_IFDIR {
            throw TrainingError(.fileAccess(path: checkpointsURL.path), "\(checkpointsURL.path) is not a directory")
        }
        do { try fm.createDirectory(at: checkpointsURL, withIntermediateDirectories: true) } catch {
            throw TrainingError(.fileAccess(path: checkpointsURL.path), "cannot create \(checkpointsURL.path): \(Self.reason(error))")
        }
        guard fm.isWritableFile(atPath: checkpointsURL.path) else {
            throw TrainingError(.fileAccess(path: checkpointsURL.path), "\(checkpointsURL.path) is not writable")
        }
        // Only this run writes here now: temporaries of an interrupted save (`.NAME.UUID.tmp`) are its own.
        for folder in [url, checkpointsURL] {
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasPrefix(".") && name.hasSuffix(".tmp") && (name.hasPrefix(".model_epoch_") || name.hasPrefix(".final.safetensors.")) {
                try? fm.removeItem(at: folder.appendingPathComponent(name))
            }
        }
    }

    /// The files of a run found here (`stdout.log`, `run.json`, `final.safetensors`, checkpoints).
    func records() -> [String] {
        var found = [logURL, identityURL, finalURL].filter { Self.exists($0) }.map(\.lastPathComponent)
        let checkpoints = self.checkpoints().count
        if checkpoints > 0 { found.append("\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s")") }
        return found
    }

    /// Checkpoint files by epoch (1-based, from their names), oldest first.
    func checkpoints() -> [(epoch: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsURL.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("model_epoch_"), name.hasSuffix(".safetensors"),
                  let epoch = Int(name.dropFirst("model_epoch_".count).dropLast(".safetensors".count)) else { return nil }
            return (epoch, checkpointsURL.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The checkpoint file of epoch `epoch` (1-based, as pycls names them).
    func checkpointURL(epoch: Int) -> URL {
        checkpointsURL.appendingPathComponent(String(format: "model_epoch_%04d.safetensors", epoch))
    }

    /// Deletes all but the newest `keep` checkpoints (by epoch).
    func pruneCheckpoints(keep: Int) {
        for old in checkpoints().dropLast(max(1, keep)) { try? FileManager.default.removeItem(at: old.url) }
    }

    /// The identity `run.json` records, nil when there is none; throws when it cannot be read.
    func recordedIdentity() throws(TrainingError) -> RunIdentity? {
        guard Self.exists(identityURL) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: identityURL) } catch {
            throw TrainingError(.fileAccess(path: identityURL.path), "cannot read \(identityURL.path): \(Self.reason(error))")
        }
        guard let identity = RunIdentity(json: String(decoding: data, as: UTF8.self)) else {
            throw TrainingError(.fileAccess(path: identityURL.path), "\(identityURL.path) is damaged: it does not describe a run")
        }
        return identity
    }

    /// Records `identity` as `run.json` (atomically).
    func record(_ identity: RunIdentity) throws(TrainingError) {
        do { try writeAtomically(Data((identity.json + "\n").utf8), to: identityURL) } catch {
            throw TrainingError(.fileAccess(path: identityURL.path), error.message)
        }
    }

    /// Writes `weights` as `final.safetensors` (timm names, atomically), with `metadata`.
    func writeFinal(_ weights: WeightSet, metadata: [String: String]) throws(TrainingError) {
        do { try weights.write(to: finalURL, metadata: metadata) } catch { throw TrainingError(.fileAccess(path: finalURL.path), error.message) }
    }

    /// Appends `line` and a line break to `stdout.log`.
    func log(_ line: String) throws(TrainingError) {
        let fd = try openLog(O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TrainingError(.fileAccess(path: logURL.path), "cannot write \(logURL.path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// The size of `stdout.log` in bytes (0 when there is none).
    func logSize() throws(TrainingError) -> Int {
        guard Self.exists(logURL) else { return 0 }
        let fd = try openLog(O_RDONLY)
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        return Int(info.st_size)
    }

    /// Whether `stdout.log` has a line break just before byte `offset` (or `offset` is 0): where a
    /// checkpoint can have left it.
    func logHasLineBreak(before offset: Int) throws(TrainingError) -> Bool {
        guard offset > 0 else { return true }
        let fd = try openLog(O_RDONLY)
        defer { close(fd) }
        var byte: UInt8 = 0
        return pread(fd, &byte, 1, off_t(offset - 1)) == 1 && byte == UInt8(ascii: "\n")
    }

    /// Cuts `stdout.log` back to its first `bytes` bytes.
    func truncateLog(to bytes: Int) throws(TrainingError) {
        guard Self.exists(logURL) else { return }
        let fd = try openLog(O_WRONLY)
        defer { close(fd) }
        guard ftruncate(fd, off_t(bytes)) == 0 else {
            throw TrainingError(.fileAccess(path: logURL.path), "cannot rewind \(logURL.path): \(String(cString: strerror(errno)))")
        }
    }

    /// `stdout.log` opened with `flags`, never through a link and never blocking on a FIFO; a regular file only.
    private func openLog(_ flags: Int32) throws(TrainingError) -> Int32 {
        let path = logURL.path
        let fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let why: String
            switch errno {
            case ELOOP: why = "it is a symbolic link (a run writes its log itself)"
            case ENXIO: why = "it is a FIFO, not a regular file"
            case EISDIR: why = "it is a directory, not a file"
            default: why = String(cString: strerror(errno))
            }
            throw TrainingError(.fileAccess(path: path), "cannot use \(path): \(why)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            let kind = [S_IFIFO: "a FIFO", S_IFSOCK: "a socket", S_IFCHR: "a device", S_IFBLK: "a device"][info.st_mode & S_IFMT] ?? "not a file"
            throw TrainingError(.fileAccess(path: path), "cannot use \(path): it is \(kind), not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Whether anything (a link included) is at `url`.
    static func exists(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0
    }

    /// A Foundation error's reason in words.
    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}

/// An exclusive lock on a run directory (`DIR/lock`, `flock(2)`), held until the last holder in this
/// process lets it go or the process ends (however it ends). The same process may take it again: a
/// sweep job holds its model's directory while the run inside it holds it too.
public final class RunDirectoryLock: Sendable {
    private let key: String

    /// Lock files held by this process: path → descriptor and holders.
    private static let held = Mutex<[String: (fd: Int32, holders: Int)]>([:])

    private init(key: String) { self.key = key }

    /// The lock of `directory` (which must exist), or nil when another process holds it.
    public static func acquire(_ directory: URL) throws(TrainingError) -> RunDirectoryLock? {
        let path = directory.appendingPathComponent("lock").path
        let key = directory.resolvingSymlinksInPath().standardizedFileURL.path
        let result: Result<Bool, TrainingError> = held.withLock { held in
            if let entry = held[key] {
                held[key] = (entry.fd, entry.holders + 1)
                return .success(true)
            }
            let fd = open(path, O_CREAT | O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                return .failure(TrainingError(.fileAccess(path: path), "cannot open \(path): \(String(cString: strerror(errno)))"))
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                return .success(false)
            }
            held[key] = (fd, 1)
            return .success(true)
        }
        return try result.get() ? RunDirectoryLock(key: key) : nil
    }

    deinit {
        Self.held.withLock { held in
            guard let entry = held[key] else { return }
            if entry.holders > 1 {
                held[key] = (entry.fd, entry.holders - 1)
            } else {
                close(entry.fd)
                held[key] = nil
            }
        }
    }
}

import Foundation
import Testing
import Weights
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The defects an adversarial pass found (issue "Reliability"), one test each, so they stay fixed.
@Suite struct AdversarialTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-adv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let small = ["--depth", "4", "--w0", "8", "--wa", "8", "--wm", "2", "--group-width", "8", "--classes", "5", "--resolution", "32"]

    func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    @Test func outputNeverReplacesDevicesOrFIFOsAndKeepsModes() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let r = try CLI.run(["run"] + Self.small + ["--output", fifo.path])
        #expect(r.status == 1 && r.err.contains("not a regular file"))
        #expect(fileType(fifo.path) == S_IFIFO)
        let exported = try CLI.run(["export-weights"] + Self.small + ["--output", fifo.path])
        #expect(exported.status == 1 && fileType(fifo.path) == S_IFIFO)
        // A character device (the null device's numbers), where this user may create one.
        let device = dir.appendingPathComponent("null")
        if mknod(device.path, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 {   // major 1, minor 3 (glibc encoding for small numbers)
            let d = try CLI.run(["run"] + Self.small + ["--output", device.path])
            #expect(d.status == 1 && fileType(device.path) == S_IFCHR)
        }
        // An existing 0600 file stays 0600; another hard link keeps the old contents (documented).
        let file = dir.appendingPathComponent("logits.npy"), link = dir.appendingPathComponent("link.npy")
        try Data("old".utf8).write(to: file)
        #expect(chmod(file.path, 0o600) == 0 && Glibc.link(file.path, link.path) == 0)
        #expect(try CLI.run(["run"] + Self.small + ["--output", file.path]).status == 0)
        var info = stat()
        #expect(stat(file.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try Data(contentsOf: link) == Data("old".utf8) && (try Data(contentsOf: file)).count > 3)
    }

    @Test func sliversWideNetworksAndHugeInputsAreErrorsNotAborts() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let strip = dir.appendingPathComponent("strip.png")
        try pngGrey(width: 20_000, height: 1).write(to: strip)
        let sliver = try CLI.run(["run", "regnetx_002", "--image", strip.path])
        #expect(sliver.status == 1 && sliver.err.contains("aspect ratio is too extreme"))
        let wide = try CLI.run(["run", "--depth", "13", "--w0", "1000000", "--wa", "36.44", "--wm", "2.49", "--group-width", "8"])
        #expect(wide.status == 1 && wide.err.contains("needs") && wide.err.contains("TiB"))
        let out = dir.appendingPathComponent("x.st")
        let export = try CLI.run(["export-weights", "--depth", "1", "--w0", "65536", "--wa", "0", "--wm", "2", "--group-width", "8", "--output", out.path])
        #expect(export.status == 1 && export.err.contains("GiB") && !FileManager.default.fileExists(atPath: out.path))
    }

    @Test func nonFiniteInputsAndOutputsAreRefused() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var values = [Float](repeating: 0.1, count: 3 * 32 * 32)
        values[1000] = .nan
        let input = dir.appendingPathComponent("x.npy"), output = dir.appendingPathComponent("y.npy")
        try npy(float32: values, shape: [1, 3, 32, 32]).write(to: input)
        let nan = try CLI.run(["run"] + Self.small.dropLast(2) + ["--input", input.path, "--output", output.path])
        #expect(nan.status == 1 && nan.err.contains("input value 1000") && nan.err.contains("nan"))
        // Weights of 3e38 overflow to infinite logits: an error, no probabilities, no file.
        let weights = dir.appendingPathComponent("w.safetensors")
        #expect(try CLI.run(["export-weights"] + Self.small + ["--output", weights.path]).status == 0)
        let huge = try hugeCopy(of: weights)
        let overflow = try CLI.run(["run"] + Self.small + ["--weights", huge.path, "--output", output.path])
        #expect(overflow.status == 1 && overflow.err.contains("not finite") && !overflow.out.contains("nan%"))
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func edfStaysLinearAndRejectsBadValues() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let many = dir.appendingPathComponent("many.csv")
        try ("name,error,space\n" + (0..<2000).map { "m\($0),\(Double($0 % 97)),g\($0)" }.joined(separator: "\n")).write(to: many, atomically: true, encoding: .utf8)
        let r = try CLI.run(["edf", many.path])
        #expect(r.status == 0 && r.out.split(separator: "\n").count < 4100, "pairwise output is capped")
        let bad = dir.appendingPathComponent("bad.csv")
        try "name,error,w\na,10,1\nb,1e308,2\n".write(to: bad, atomically: true, encoding: .utf8)
        let outside = try CLI.run(["edf", bad.path])
        #expect(outside.status == 1 && outside.err.contains("line 3") && outside.err.contains("outside 0...100"))
        try "name,error,w\na,10,1\nb,20,nan\n".write(to: bad, atomically: true, encoding: .utf8)
        let nanParameter = try CLI.run(["edf", bad.path, "--good-range", "w"])
        #expect(nanParameter.status == 1 && nanParameter.err.contains("'w'") && nanParameter.err.contains("row 2"))
        let missing = try CLI.run(["edf", bad.path, "--good-range", "depth"])
        #expect(missing.status == 1 && missing.err.contains("'depth'"))
        let byName = try CLI.run(["edf", bad.path, "--by", "name"])
        #expect(byName.status == 0 && byName.out.contains("KS(a, b)"))
        // Good ranges are per group (pycls computes them per sweep): A's best runs have small w, B's large.
        let grouped = dir.appendingPathComponent("grouped.csv")
        try ("name,error,space,w\n" + (1...30).map { "a\($0),\($0 + 10),A,\($0)\nb\($0),\(40 - $0),B,\($0)" }.joined(separator: "\n"))
            .write(to: grouped, atomically: true, encoding: .utf8)
        let ranges = try CLI.run(["edf", grouped.path, "--good-range", "w", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(ranges.out.utf8)) as? [String: Any])
        let perGroup = try #require(report["goodRanges"] as? [[String: Any]])
        let medians = perGroup.map { (($0["range"] as? [String: Any])?["median"] as? Double) ?? -1 }
        #expect(perGroup.count == 2 && medians[0] < 10 && medians[1] > 20, "\(perGroup)")
    }

    @Test func unreachableWindowsAndAbsurdCountsDoNotHang() throws {
        let start = Date()
        let r = try CLI.run(["sample", "--space", "RegNetX", "--count", "1", "--flops", "1..2"])
        #expect(r.status == 1 && r.err.contains("no draw fits") && r.err.contains("reached flops"))
        let big = try CLI.run(["sample", "--space", "RegNetX", "--count", "1", "--flops", "1000G..2000G"])
        #expect(big.status == 1 && big.err.contains("reached flops"))
        #expect(Date().timeIntervalSince(start) < 120)
        #expect(try CLI.run(["bench", "regnetx_002", "--iterations", "100000000000"]).status == 2)
        #expect(try CLI.run(["sample", "--space", "RegNetX", "--flops", "1e30..", "--count", "1"]).status == 2)
    }

    @Test func messagesSayWhatIsWrong() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let asDirectory = try CLI.run(["run"] + Self.small.dropLast(2) + ["--input", dir.path])
        #expect(asDirectory.status == 1 && asDirectory.err.contains("is a directory"))
        let fifo = dir.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let asFIFO = try CLI.run(["run", "regnetx_002", "--weights", fifo.path])
        #expect(asFIFO.status == 1 && asFIFO.err.contains("not a regular file"))
        let loop = dir.appendingPathComponent("loop")
        #expect(symlink(loop.path, loop.path) == 0)
        let looped = try CLI.run(["run", "regnetx_002", "--weights", loop.path])
        #expect(looped.status == 1 && looped.err.contains("symbolic links"))
        let twice = try CLI.run(["run", "regnetx_002", "--top", "1", "--top", "2"])
        #expect(twice.status == 2 && twice.err.contains("--top was given twice"))
        let tiny = try CLI.run(["summary", "--depth", "13", "--w0", "24", "--wa", "36.44", "--wm", "2.49", "--group-width", "8", "--se-ratio", "1e-9"])
        #expect(tiny.status == 1 && !tiny.err.contains(".swift:") && tiny.err.contains("squeeze-excite"))
        // A 100,000-dimension shape gives a short message.
        let ranks = dir.appendingPathComponent("ranks.npy")
        try npy(descr: "<f4", shape: [Int](repeating: 1, count: 100_000), bytes: Data(count: 4)).write(to: ranks)
        let longShape = try CLI.run(["run", "regnetx_002", "--input", ranks.path])
        #expect(longShape.status == 1 && longShape.err.count < 400)
        // A NUL in a tensor name is escaped.
        let nul = dir.appendingPathComponent("nul.safetensors")
        try safetensors(name: "stem\u{0}.conv.weight").write(to: nul)
        let escaped = try CLI.run(["run", "regnetx_002", "--weights", nul.path])
        #expect(escaped.status == 1 && !escaped.err.contains("\u{0}") && escaped.err.contains("\\u{0}"))
        let help = try CLI.run(["help", "bogus"])
        #expect(help.status == 2 && help.err.contains("unknown command 'bogus'"))
    }

    @Test func inputIsNeverSilentlyIgnored() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["run", "regnetx_002", "--image"]).status == 2)
        let a = dir.appendingPathComponent("a.ppm"), b = dir.appendingPathComponent("b.ppm")
        try ppm(value: 10).write(to: a)
        try ppm(value: 200).write(to: b)
        let batch = try CLI.run(["run", "regnetx_002", "--batch", "3", "--image", a.path, b.path])
        #expect(batch.status == 2 && batch.err.contains("does not match the 2 images"))
        let input = dir.appendingPathComponent("x.npy")
        try npy(float32: [Float](repeating: 0, count: 2 * 3 * 32 * 32), shape: [2, 3, 32, 32]).write(to: input)
        #expect(try CLI.run(["run"] + Self.small.dropLast(2) + ["--input", input.path, "--batch", "4"]).status == 2)
        #expect(try CLI.run(["run"] + Self.small + ["--input", input.path, "--resolution", "64"]).status == 2)
        for (header, expected) in [("{'descr': '<f4', 'fortran_order': 'yes', 'shape': (1,), }", "fortran_order"),
                                   ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", "dictionary"),
                                   ("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "'descr' 2 times")] {
            let file = dir.appendingPathComponent("h.npy")
            try rawNpy(header: header, bytes: Data(count: 4)).write(to: file)
            let r = try CLI.run(["run", "regnetx_002", "--input", file.path])
            #expect(r.status == 1 && r.err.contains(expected), "\(header): \(r.err)")
        }
    }
}

/// A .npy file with a header exactly as given (for malformed headers).
func rawNpy(header: String, bytes: Data) -> Data {
    var h = header
    while (10 + h.count + 1) % 64 != 0 { h += " " }
    h += "\n"
    return Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)]) + Data(h.utf8) + bytes
}

/// A safetensors file with one 1-element F32 tensor called `name`.
func safetensors(name: String) -> Data {
    let escaped = name.unicodeScalars.map { $0.value < 0x20 ? String(format: "\\u%04x", $0.value) : String($0) }.joined()
    var header = "{\"\(escaped)\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
    while header.utf8.count % 8 != 0 { header += " " }
    var length = UInt64(header.utf8.count).littleEndian
    return Data(bytes: &length, count: 8) + Data(header.utf8) + Data(count: 4)
}

/// A copy of a weights file whose classifier weights are 3e38: finite, but the logits overflow.
func hugeCopy(of url: URL) throws -> URL {
    var weights = try SafeTensors.read(contentsOf: url)
    let fc = try #require(weights["head.fc.weight"])
    weights["head.fc.weight"] = Tensor(shape: fc.shape, repeating: 3e38)
    let out = url.deletingLastPathComponent().appendingPathComponent("huge.safetensors")
    try SafeTensors.write(weights, to: out)
    return out
}

/// An 8-bit greyscale PNG of the given size (all zero), with stored (uncompressed) deflate blocks.
func pngGrey(width: Int, height: Int) -> Data {
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }
    var raw: [UInt8] = []
    for _ in 0..<height { raw += [0] + [UInt8](repeating: 0, count: width) }
    var zlib: [UInt8] = [0x78, 0x01]
    var i = 0
    repeat {
        let n = min(65535, raw.count - i)
        zlib += [i + n == raw.count ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        zlib += raw[i..<(i + n)]
        i += n
    } while i < raw.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    zlib += be32(b << 16 | a)
    let ihdr = be32(UInt32(width)) + be32(UInt32(height)) + [8, 0, 0, 0, 0]
    return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", []))
}

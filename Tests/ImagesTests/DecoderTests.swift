import Foundation
import Testing
@testable import Images
import Weights

struct DecoderCase: Decodable, CustomTestStringConvertible, Sendable {
    var file: String, channels: Int, max: Int
    var testDescription: String { file }
}
struct PreprocessingCase: Decodable, CustomTestStringConvertible, Sendable {
    var file: String, resize: Int, crop: Int
    var testDescription: String { file }
}
struct JPEGCase: Decodable, CustomTestStringConvertible, Sendable {
    var file: String, channels: Int
    var testDescription: String { file }
}
struct ImageCases: Decodable { var decoders: [DecoderCase]; var preprocessing: [PreprocessingCase]; var jpeg: [JPEGCase] }

func imageFixture(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), "missing \(name)")
}
func imageCases() throws -> ImageCases {
    try JSONDecoder().decode(ImageCases.self, from: Data(contentsOf: imageFixture("cases.json")))
}
func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: imageFixture(name))) }
func decodeError(_ bytes: [UInt8]) -> String? {
    do { _ = try ImageFile.decode(bytes); return nil } catch { return error.message }
}

/// Re-computes a PNG chunk's CRC after a test edits its data, so the edit reaches the decoder.
func fixCRC(_ png: inout [UInt8], chunkAt start: Int) {
    let length = Int(PNG.be32(png, start))
    let crc = PNG.crc32(png[(start + 4)..<(start + 8 + length)])
    for i in 0..<4 { png[start + 8 + length + i] = UInt8((crc >> UInt32(24 - 8 * i)) & 0xFF) }
}

@Suite struct DecoderTests {
    @Test(arguments: try imageCases().decoders)
    func decodesExactly(_ c: DecoderCase) throws {
        let image = try ImageFile.read(contentsOf: imageFixture(c.file))
        let truth = try NumPyArray.read(contentsOf: imageFixture(c.file + ".npy"))
        #expect([image.height, image.width, image.channels] == truth.shape)
        #expect(image.maxValue == c.max)
        #expect(image.samples.map(Float.init) == truth.scalars)
        let rgb = image.rgb
        #expect(rgb.pixels.count == image.width * image.height * 3)
        #expect(rgb.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func fixturesCoverEveryKind() throws {
        let files = try imageCases().decoders.map(\.file)
        for needle in ["grey1", "grey16", "rgb8", "rgb16", "rgba", "greyalpha", "palette", "interlaced", ".ppm", ".pgm", "ascii"] {
            #expect(files.contains { $0.contains(needle) }, "\(needle)")
        }
    }

    @Test func truncatedFilesFailCleanlyAtEveryLength() throws {
        for name in ["rgb8_interlaced.png", "palette4.png", "rgb.ppm", "grey16.pgm", "rgb_ascii.ppm"] {
            let full = try bytes(name)
            // A plain (ASCII) file cut inside its last number still holds a valid number, and the format
            // does not require a final newline: cut those before the last sample.
            let end = name.contains("ascii") ? full.count - 4 : full.count
            for length in 0..<end {
                #expect(decodeError(Array(full.prefix(length))) != nil, "\(name) cut at \(length) bytes was accepted")
            }
        }
    }

    @Test func corruptPNGsAreRejectedWithReasons() throws {
        let good = try bytes("rgb8.png")
        // Flipping a byte inside IDAT without fixing the CRC: the CRC check catches it.
        let idat = try #require(good.indices.first { i in i + 4 < good.count && Array(good[i..<(i + 4)]) == Array("IDAT".utf8) }) - 4
        var badCRC = good
        badCRC[idat + 10] ^= 0x55
        #expect(decodeError(badCRC)?.contains("wrong CRC") == true)
        // The same flip with a fixed CRC reaches the inflater: corrupt data or a checksum mismatch.
        var corrupt = good
        corrupt[idat + 8 + 5] ^= 0xFF
        fixCRC(&corrupt, chunkAt: idat)
        let message = decodeError(corrupt) ?? ""
        #expect(message.contains("DEFLATE") || message.contains("Adler-32") || message.contains("exceeds") || message.contains("filter"), "\(message)")
        // IHDR edits: bit depth 3, colour type 5, a 10^9-pixel image.
        for (offset, value, reason) in [(24, UInt8(3), "bit depth 3"), (25, 5, "colour type 5")] {
            var edited = good
            edited[offset] = value
            fixCRC(&edited, chunkAt: 8)
            #expect(decodeError(edited)?.contains(reason) == true, "\(reason): \(String(describing: decodeError(edited)))")
        }
        var huge = good
        for (i, b) in [0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00].enumerated() { huge[16 + i] = UInt8(b) }
        fixCRC(&huge, chunkAt: 8)
        #expect(decodeError(huge)?.contains("too large") == true)
        #expect(decodeError(Array(good[0..<8]) + Array(good[33...]))?.contains("IHDR") == true)
        #expect(decodeError([])?.contains("empty") == true)
        #expect(decodeError([0xFF, 0xD8, 0xFF, 0xE0]) != nil)
        #expect(decodeError(Array("GIF89a".utf8))?.contains("unrecognised") == true)
    }

    @Test func paletteIndexBeyondThePaletteIsAnError() throws {
        // palette4.png has 11 entries; a 4-bit index can reach 15. Shrink PLTE to 2 entries.
        var png = try bytes("palette4.png")
        let plte = try #require(png.indices.first { i in i + 4 < png.count && Array(png[i..<(i + 4)]) == Array("PLTE".utf8) }) - 4
        let oldLength = Int(PNG.be32(png, plte))
        png.removeSubrange((plte + 8 + 6)..<(plte + 8 + oldLength))
        png[plte + 3] = 6
        fixCRC(&png, chunkAt: plte)
        #expect(decodeError(png)?.contains("palette entry") == true)
    }

    @Test func badNetpbmFiles() {
        let cases: [(String, String)] = [
            ("P6\n2 2\n255\n\u{1}\u{2}", "too few"),
            ("P6\n0 2\n255\n", "invalid"),
            ("P5\n2 2\n0\n", "maximum value 0"),
            ("P2\n2 1\n15\n3 99\n", "exceeds the maximum 15"),
            ("P3\n1 1\n255\n1 2 x\n", "non-numeric"),
            ("P6\n99999 99999\n255\n", "too large"),
        ]
        for (text, reason) in cases {
            #expect(decodeError(Array(text.utf8))?.contains(reason) == true, "\(text.debugDescription): \(String(describing: decodeError(Array(text.utf8))))")
        }
    }

    @Test func inflateRejectsBadStreams() throws {
        func message(_ b: [UInt8]) -> String? { do { _ = try Inflate.zlib(b, limit: 1000); return nil } catch { return error.message } }
        #expect(message([0x78, 0x9C])?.contains("truncated") == true)
        #expect(message([0x78, 0x9D, 0, 0, 0, 0])?.contains("check bits") == true)
        #expect(message([0x79, 0x9C, 0, 0, 0, 0]) != nil)
        // A stored block "hello" with a wrong Adler-32.
        let stored: [UInt8] = [0x78, 0x01, 0x01, 5, 0, 0xFA, 0xFF] + Array("hello".utf8) + [0, 0, 0, 0]
        #expect(message(stored)?.contains("Adler-32") == true)
        var fixed = Array(stored.dropLast(4))
        let adler = Inflate.adler32(Array("hello".utf8))
        fixed += [UInt8(adler >> 24), UInt8((adler >> 16) & 0xFF), UInt8((adler >> 8) & 0xFF), UInt8(adler & 0xFF)]
        let inflated = try Inflate.zlib(fixed, limit: 1000)
        #expect(inflated == Array("hello".utf8))
        #expect((try? Inflate.zlib(fixed, limit: 4)) == nil, "the output limit must hold")
    }
}

@Suite struct JPEGTests {
    @Test(arguments: try imageCases().jpeg)
    func decodesCloseToLibjpeg(_ c: JPEGCase) throws {
        let image = try ImageFile.read(contentsOf: imageFixture(c.file))
        let reference = try NumPyArray.read(contentsOf: imageFixture(c.file + ".npy"))
        #expect([image.height, image.width, 3] == reference.shape)
        #expect(image.channels == c.channels)
        let ours = image.rgb.pixels.map { $0 * 255 }
        let differences = zip(ours, reference.scalars).map { abs($0 - $1) }
        let mean = differences.reduce(0, +) / Float(differences.count)
        // Float IDCT vs libjpeg's integer one, same fancy chroma upsampling: well under a level on average.
        #expect(mean <= 0.5, "\(c.file): mean difference \(mean) levels")
        print("jpeg \(c.file): mean difference \(mean) levels, max \(differences.max()!)")
    }

    @Test func overSubscribedHuffmanTableIsAnError() throws {
        // Found by fuzzing: a DHT segment declaring more codes of a length than fit trapped on overflow.
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/jpeg/crash-oversubscribed-huffman.jpg")
        #expect(decodeError([UInt8](try Data(contentsOf: folder)))?.contains("over-subscribed") == true)
    }

    @Test func segmentsShorterThanTheirContentsAreErrors() {
        // Found by fuzzing: a frame header of declared length 2 was read past its end.
        #expect(decodeError([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02])?.contains("truncated") == true)
        #expect(decodeError([0xFF, 0xD8, 0xFF, 0xDD, 0x00, 0x02, 0xFF, 0xD9])?.contains("restart interval") == true)
    }

    @Test func unsupportedAndBrokenJPEGs() throws {
        #expect(decodeError(try bytes("jpeg_progressive.jpg"))?.contains("progressive") == true)
        let good = try bytes("jpeg420.jpg")
        for length in stride(from: 0, to: good.count - 2, by: 37) {
            #expect(decodeError(Array(good.prefix(length))) != nil, "cut at \(length)")
        }
        // A frame header declaring a 10^9-pixel image.
        var huge = good
        let sof = try #require(huge.indices.first { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 })
        huge[sof + 5] = 0xFF; huge[sof + 6] = 0xFF; huge[sof + 7] = 0xFF; huge[sof + 8] = 0xFF
        #expect(decodeError(huge)?.contains("too large") == true)
        // A plausible size the data cannot hold: refused before allocating.
        var inflated = good
        inflated[sof + 5] = 0x20; inflated[sof + 7] = 0x20     // 8192 x 8192 from a file of a few KB
        #expect(decodeError(inflated)?.contains("too short") == true)
    }
}

@Suite struct PreprocessingTests {
    @Test(arguments: try imageCases().preprocessing)
    func matchesTorchvision(_ c: PreprocessingCase) throws {
        let image = try ImageFile.read(contentsOf: imageFixture(c.file)).rgb
        let reference = try NumPyArray.read(contentsOf: imageFixture(c.file.replacingOccurrences(of: ".png", with: ".reference.npy")))
        let ours = try Preprocessing(resize: c.resize, crop: c.crop).cropped(image)
        #expect(reference.shape == [3, c.crop, c.crop])
        let mad = zip(ours, reference.scalars).map { abs($0 - $1) }.reduce(0, +) / Float(ours.count)
        #expect(mad <= 2.0 / 255, "mean absolute difference \(mad * 255)/255")
        print("preprocessing \(c.file): mean absolute difference \(mad * 255)/255 vs torchvision")
    }

    @Test func normalisationUsesImageNetStatistics() throws {
        let grey = RGBImage(width: 300, height: 260, pixels: [Float](repeating: 0.5, count: 300 * 260 * 3))
        let x = try Preprocessing()(grey)
        #expect(x.count == 3 * 224 * 224)
        #expect(abs(x[0] - (0.5 - 0.485) / 0.229) < 1e-5)
        #expect(abs(x[2 * 224 * 224] - (0.5 - 0.406) / 0.225) < 1e-5)
    }
}

/// Decoding errors carry a kind to switch on besides their message.
@Suite struct ImageErrorKindTests {
    @Test func kindsSayWhatWentWrong() throws {
        func kind(_ bytes: [UInt8]) -> ImageError.Kind? {
            do { _ = try ImageFile.decode(bytes); return nil } catch { return error.kind }
        }
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        #expect(kind(signature) == .truncated)                                    // a PNG that stops after its signature
        #expect(kind([0x42, 0x4D, 0, 0, 0, 0]) == .unsupported)                   // a BMP
        #expect(kind(Array("P5 0 0 255 ".utf8)) == .corrupt)                       // a 0x0 PGM
        #expect(kind(Array("P5 100000 100000 255 ".utf8)) == .tooLarge)
        let missing = URL(fileURLWithPath: "/nonexistent/\(UUID().uuidString).png")
        #expect { try ImageFile.read(contentsOf: missing) } throws: { error in
            if case .unreadable(let path)? = (error as? ImageError)?.kind { return path == missing.path }
            return false
        }
    }
}

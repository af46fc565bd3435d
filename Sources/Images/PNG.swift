/// PNG decoding without dependencies: every colour type (grey, RGB, palette, grey + alpha, RGBA),
/// bit depths 1 to 16, the five scanline filters and Adam7 interlacing. Chunk CRCs are checked, the
/// header is validated before any allocation, and the compressed data may not inflate past what the
/// header promises.
public enum PNG {
    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    /// Whether `bytes` start with the PNG signature.
    public static func isPNG(_ bytes: [UInt8]) -> Bool { bytes.count >= 8 && Array(bytes[0..<8]) == signature }

    /// Decodes a PNG file's bytes.
    public static func decode(_ bytes: [UInt8]) throws(ImageError) -> DecodedImage {
        guard isPNG(bytes) else { throw ImageError(.corrupt, "not a PNG file (bad signature)") }
        var position = 8
        var header: (width: Int, height: Int, depth: Int, colour: Int, interlaced: Bool)?
        var palette: [UInt8] = [], transparency: [UInt8] = []
        var compressed: [UInt8] = []
        var ended = false
        while !ended {
            guard position + 8 <= bytes.count else { throw ImageError(.truncated, "PNG is truncated (no IEND chunk)") }
            let length = Int(be32(bytes, position))
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            guard length <= Int(Int32.max), position + 12 + length <= bytes.count else {
                throw ImageError(.truncated, "PNG chunk \(type) of \(length) bytes runs past the end of the file")
            }
            let data = Array(bytes[(position + 8)..<(position + 8 + length)])
            guard be32(bytes, position + 8 + length) == crc32(bytes[(position + 4)..<(position + 8 + length)]) else {
                throw ImageError(.corrupt, "PNG chunk \(type) has a wrong CRC: the file is corrupt")
            }
            position += 12 + length
            if header == nil && type != "IHDR" { throw ImageError(.corrupt, "PNG does not start with an IHDR chunk") }
            switch type {
            case "IHDR":
                guard header == nil, length == 13 else { throw ImageError(.corrupt, "PNG IHDR chunk is malformed") }
                header = try parseHeader(data)
            case "PLTE":
                guard length % 3 == 0, length / 3 <= 256, length > 0 else { throw ImageError(.corrupt, "PNG palette has \(length) bytes (not 1-256 RGB entries)") }
                palette = data
            case "tRNS":
                transparency = data
            case "IDAT":
                compressed += data
            case "IEND":
                ended = true
            default:
                // Ancillary chunks (lowercase first letter) may be skipped; critical ones may not.
                guard let first = type.unicodeScalars.first, first.value >= 97 else { throw ImageError(.unsupported, "PNG has an unknown critical chunk \(type)") }
            }
        }
        guard let h = header else { throw ImageError(.corrupt, "PNG has no IHDR chunk") }
        guard !compressed.isEmpty else { throw ImageError(.corrupt, "PNG has no image data (IDAT)") }
        if h.colour == 3 && palette.isEmpty { throw ImageError(.corrupt, "PNG palette image has no PLTE chunk") }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][h.colour]!
        let passes = h.interlaced ? adam7 : [(0, 0, 1, 1)]
        var expected = 0
        for (x0, y0, dx, dy) in passes {
            let (w, hh) = ((h.width - x0 + dx - 1) / dx, (h.height - y0 + dy - 1) / dy)
            if w > 0 && hh > 0 { expected += hh * (1 + (w * channels * h.depth + 7) / 8) }
        }
        let raw = try Inflate.zlib(compressed, limit: expected)
        guard raw.count == expected else { throw ImageError(.corrupt, "PNG image data holds \(raw.count) bytes, the header needs \(expected)") }

        var samples = [UInt16](repeating: 0, count: h.width * h.height * channels)
        var offset = 0
        for (x0, y0, dx, dy) in passes {
            let (w, hh) = ((h.width - x0 + dx - 1) / dx, (h.height - y0 + dy - 1) / dy)
            guard w > 0 && hh > 0 else { continue }
            let rowBytes = (w * channels * h.depth + 7) / 8
            let unfiltered = try unfilter(raw, offset: offset, rows: hh, rowBytes: rowBytes, bpp: max(1, channels * h.depth / 8))
            offset += hh * (1 + rowBytes)
            for row in 0..<hh {
                for column in 0..<w {
                    for c in 0..<channels {
                        let index = column * channels + c
                        let value: UInt16
                        switch h.depth {
                        case 16: value = UInt16(unfiltered[row * rowBytes + 2 * index]) << 8 | UInt16(unfiltered[row * rowBytes + 2 * index + 1])
                        case 8: value = UInt16(unfiltered[row * rowBytes + index])
                        default:
                            let bit = index * h.depth
                            let byte = unfiltered[row * rowBytes + bit / 8]
                            value = UInt16((byte >> UInt8(8 - h.depth - bit % 8)) & UInt8((1 << h.depth) - 1))
                        }
                        samples[((y0 + row * dy) * h.width + x0 + column * dx) * channels + c] = value
                    }
                }
            }
        }
        guard h.colour == 3 else {
            return DecodedImage(width: h.width, height: h.height, channels: channels, maxValue: (1 << h.depth) - 1, samples: samples)
        }
        // Palette indices → RGB (or RGBA when the palette has transparency).
        let entries = palette.count / 3, alpha = !transparency.isEmpty
        let outChannels = alpha ? 4 : 3
        var expanded = [UInt16](repeating: 0, count: h.width * h.height * outChannels)
        for p in 0..<(h.width * h.height) {
            let index = Int(samples[p])
            guard index < entries else { throw ImageError(.corrupt, "PNG pixel uses palette entry \(index) of \(entries)") }
            for c in 0..<3 { expanded[p * outChannels + c] = UInt16(palette[index * 3 + c]) }
            if alpha { expanded[p * 4 + 3] = index < transparency.count ? UInt16(transparency[index]) : 255 }
        }
        return DecodedImage(width: h.width, height: h.height, channels: outChannels, maxValue: 255, samples: expanded)
    }

    static let adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

    static func parseHeader(_ d: [UInt8]) throws(ImageError) -> (Int, Int, Int, Int, Bool) {
        let width = Int(be32(d, 0)), height = Int(be32(d, 4)), depth = Int(d[8]), colour = Int(d[9])
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImageError(.corrupt, "PNG size \(width)x\(height) is invalid")
        }
        guard width * height <= maximumPixels else { throw ImageError(.tooLarge, "PNG of \(width)x\(height) pixels is too large (limit \(maximumPixels))") }
        let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowed[colour] else { throw ImageError(.corrupt, "PNG colour type \(colour) is invalid") }
        guard depths.contains(depth) else { throw ImageError(.corrupt, "PNG bit depth \(depth) is invalid for colour type \(colour)") }
        guard d[10] == 0, d[11] == 0 else { throw ImageError(.corrupt, "PNG uses an unknown compression or filter method") }
        guard d[12] <= 1 else { throw ImageError(.corrupt, "PNG interlace method \(d[12]) is invalid") }
        return (width, height, depth, colour, d[12] == 1)
    }

    static func unfilter(_ raw: [UInt8], offset: Int, rows: Int, rowBytes: Int, bpp: Int) throws(ImageError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        for row in 0..<rows {
            let filter = raw[offset + row * (rowBytes + 1)]
            let src = offset + row * (rowBytes + 1) + 1, dst = row * rowBytes
            for i in 0..<rowBytes {
                let x = raw[src + i]
                let a = i >= bpp ? Int(out[dst + i - bpp]) : 0
                let b = row > 0 ? Int(out[dst - rowBytes + i]) : 0
                let c = (row > 0 && i >= bpp) ? Int(out[dst - rowBytes + i - bpp]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw ImageError(.corrupt, "PNG row \(row) uses unknown filter type \(filter)")
                }
                out[dst + i] = x &+ UInt8(truncatingIfNeeded: predicted)
            }
        }
        return out
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

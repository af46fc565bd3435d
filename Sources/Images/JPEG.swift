import Foundation

/// Baseline JPEG decoding (sequential DCT, Huffman coding, 8-bit samples): greyscale or YCbCr with
/// any sampling factors, restart markers, 8- and 16-bit quantisation tables. Progressive, lossless,
/// arithmetic-coded and CMYK files are rejected with a clear error. Chroma subsampled 2x1 or 2x2 is
/// upsampled with libjpeg's triangle ("fancy") filter, other factors by replication.
public enum JPEG {
    /// Whether `bytes` start with a JPEG SOI marker.
    public static func isJPEG(_ bytes: [UInt8]) -> Bool { bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF }

    struct Component {
        var id: Int, h: Int, v: Int, quant: Int
        var dcTable = 0, acTable = 0, prediction = 0
        var blocksWide = 0, blocksHigh = 0
        var samples: [UInt8] = []
    }

    struct HuffmanTable {
        var lookup: [Int: [UInt16: UInt8]] = [:]   // code length → code → symbol
        /// A canonical code; a table that declares more codes of some length than fit is rejected.
        init(counts: [Int], symbols: [UInt8]) throws(ImageError) {
            var code = 0, k = 0
            for length in 1...16 {
                guard code + counts[length - 1] <= 1 << length else { throw ImageError(.corrupt, "JPEG Huffman table is over-subscribed") }
                var table: [UInt16: UInt8] = [:]
                for _ in 0..<counts[length - 1] {
                    table[UInt16(code)] = symbols[k]
                    code += 1
                    k += 1
                }
                if !table.isEmpty { lookup[length] = table }
                code <<= 1
            }
        }
    }

    /// Bit reader over entropy-coded data: skips stuffed zero bytes, stops at markers.
    struct BitReader {
        let bytes: [UInt8]
        var position: Int
        var buffer: UInt32 = 0
        var count = 0
        var hitMarker = false

        mutating func bit() throws(ImageError) -> Int {
            if count == 0 {
                guard position < bytes.count else { throw ImageError(.truncated, "JPEG data is truncated") }
                var byte = bytes[position]
                if byte == 0xFF {
                    guard position + 1 < bytes.count else { throw ImageError(.truncated, "JPEG data is truncated") }
                    if bytes[position + 1] == 0 { position += 2 } else { hitMarker = true; byte = 0 }
                } else {
                    position += 1
                }
                if !hitMarker || byte != 0 { buffer = UInt32(byte) } else { buffer = 0 }
                count = 8
            }
            count -= 1
            return Int((buffer >> UInt32(count)) & 1)
        }

        mutating func bits(_ n: Int) throws(ImageError) -> Int {
            var v = 0
            for _ in 0..<n { v = (v << 1) | (try bit()) }
            return v
        }

        mutating func decode(_ table: HuffmanTable) throws(ImageError) -> Int {
            var code: UInt16 = 0
            for length in 1...16 {
                code = (code << 1) | UInt16(try bit())
                if let symbol = table.lookup[length]?[code] { return Int(symbol) }
            }
            throw ImageError(.corrupt, "JPEG has an invalid Huffman code")
        }

        /// Drops the remaining bits and moves past an RSTn marker.
        mutating func restart() throws(ImageError) {
            count = 0
            hitMarker = false
            while position + 1 < bytes.count, !(bytes[position] == 0xFF && (0xD0...0xD7).contains(bytes[position + 1])) { position += 1 }
            guard position + 1 < bytes.count else { throw ImageError(.corrupt, "JPEG restart marker is missing") }
            position += 2
        }
    }

    static let zigzag = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
                         28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
                         54, 47, 55, 62, 63]
    static let cosines: [Float] = (0..<64).map { i in
        let (x, u) = (i / 8, i % 8)
        return (u == 0 ? Float(1 / 2.0.squareRoot()) : 1) * Float(cos(Double((2 * x + 1) * u) * .pi / 16)) / 2
    }

    /// Decodes a baseline JPEG file's bytes (to 8-bit grey or RGB).
    public static func decode(_ bytes: [UInt8]) throws(ImageError) -> DecodedImage {
        guard isJPEG(bytes) else { throw ImageError(.corrupt, "not a JPEG file (no SOI marker)") }
        var quant = [[Int]](repeating: [], count: 4)
        var dcTables = [HuffmanTable?](repeating: nil, count: 4), acTables = dcTables
        var components: [Component] = []
        var width = 0, height = 0, restartInterval = 0
        var position = 2
        func u16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        while true {
            while position < bytes.count, bytes[position] == 0xFF, position + 1 < bytes.count, bytes[position + 1] == 0xFF { position += 1 }
            guard position + 4 <= bytes.count, bytes[position] == 0xFF else { throw ImageError(.truncated, "JPEG is truncated or has a malformed marker at byte \(position)") }
            let marker = bytes[position + 1]
            let length = u16(position + 2)
            guard length >= 2, position + 2 + length <= bytes.count else { throw ImageError(.truncated, "JPEG segment runs past the end of the file") }
            let segment = (position + 4)..<(position + 2 + length)
            switch marker {
            case 0xDB:
                var i = segment.lowerBound
                while i < segment.upperBound {
                    let precision = Int(bytes[i] >> 4), id = Int(bytes[i] & 15)
                    guard id < 4, precision <= 1, i + 1 + 64 * (precision + 1) <= segment.upperBound else { throw ImageError(.corrupt, "JPEG quantisation table is malformed") }
                    var table = [Int](repeating: 0, count: 64)
                    for k in 0..<64 { table[zigzag[k]] = precision == 0 ? Int(bytes[i + 1 + k]) : u16(i + 1 + 2 * k) }
                    quant[id] = table
                    i += 1 + 64 * (precision + 1)
                }
            case 0xC4:
                var i = segment.lowerBound
                while i < segment.upperBound {
                    guard i + 17 <= segment.upperBound else { throw ImageError(.corrupt, "JPEG Huffman table is malformed") }
                    let tableClass = Int(bytes[i] >> 4), id = Int(bytes[i] & 15)
                    let counts = (0..<16).map { Int(bytes[i + 1 + $0]) }
                    let total = counts.reduce(0, +)
                    guard tableClass <= 1, id < 4, total <= 256, i + 17 + total <= segment.upperBound else { throw ImageError(.corrupt, "JPEG Huffman table is malformed") }
                    let table = try HuffmanTable(counts: counts, symbols: Array(bytes[(i + 17)..<(i + 17 + total)]))
                    if tableClass == 0 { dcTables[id] = table } else { acTables[id] = table }
                    i += 17 + total
                }
            case 0xC0, 0xC1:
                guard segment.count >= 6 else { throw ImageError(.truncated, "JPEG frame header is truncated") }
                guard components.isEmpty else { throw ImageError(.corrupt, "JPEG has more than one frame header") }
                guard bytes[segment.lowerBound] == 8 else { throw ImageError(.unsupported, "JPEG with \(bytes[segment.lowerBound])-bit samples is not supported") }
                height = u16(segment.lowerBound + 1)
                width = u16(segment.lowerBound + 3)
                let count = Int(bytes[segment.lowerBound + 5])
                guard width > 0, height > 0 else { throw ImageError(.corrupt, "JPEG size \(width)x\(height) is invalid (or defined by a DNL marker)") }
                guard width * height <= maximumPixels else { throw ImageError(.tooLarge, "JPEG of \(width)x\(height) pixels is too large") }
                guard count == 1 || count == 3 else { throw ImageError(.unsupported, "JPEG with \(count) components is not supported (grey or YCbCr only)") }
                guard length == 8 + 3 * count else { throw ImageError(.corrupt, "JPEG frame header is malformed") }
                for c in 0..<count {
                    let b = segment.lowerBound + 6 + 3 * c
                    let h = Int(bytes[b + 1] >> 4), v = Int(bytes[b + 1] & 15), q = Int(bytes[b + 2])
                    guard (1...4).contains(h), (1...4).contains(v), q < 4 else { throw ImageError(.corrupt, "JPEG component sampling or table is invalid") }
                    components.append(Component(id: Int(bytes[b]), h: h, v: v, quant: q))
                }
            case 0xC2, 0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                throw ImageError(.unsupported, "progressive, lossless and arithmetic-coded JPEG are not supported; save as baseline JPEG, PNG or PPM")
            case 0xDD:
                guard segment.count == 2 else { throw ImageError(.corrupt, "JPEG restart interval segment is malformed") }
                restartInterval = u16(segment.lowerBound)
            case 0xDA:
                guard !components.isEmpty else { throw ImageError(.corrupt, "JPEG scan comes before the frame header") }
                guard segment.count >= 1, segment.count >= 1 + 2 * Int(bytes[segment.lowerBound]) else {
                    throw ImageError(.truncated, "JPEG scan header is truncated")
                }
                let count = Int(bytes[segment.lowerBound])
                guard count == components.count else { throw ImageError(.unsupported, "JPEG with several scans is not supported (baseline interleaved only)") }
                for c in 0..<count {
                    let id = Int(bytes[segment.lowerBound + 1 + 2 * c]), tables = bytes[segment.lowerBound + 2 + 2 * c]
                    guard let k = components.firstIndex(where: { $0.id == id }) else { throw ImageError(.corrupt, "JPEG scan names an unknown component") }
                    components[k].dcTable = Int(tables >> 4)
                    components[k].acTable = Int(tables & 15)
                    guard components[k].dcTable < 4, components[k].acTable < 4 else { throw ImageError(.corrupt, "JPEG scan names an invalid Huffman table") }
                }
                return try decodeScan(bytes, from: segment.upperBound, width: width, height: height, components: components,
                                      quant: quant, dc: dcTables, ac: acTables, restartInterval: restartInterval)
            case 0xD9:
                throw ImageError(.truncated, "JPEG ends before any image data")
            default:
                break   // APPn, COM and other segments carry nothing the pixels need.
            }
            position = segment.upperBound
        }
    }

    static func decodeScan(_ bytes: [UInt8], from start: Int, width: Int, height: Int, components: [Component], quant: [[Int]],
                           dc: [HuffmanTable?], ac: [HuffmanTable?], restartInterval: Int) throws(ImageError) -> DecodedImage {
        var components = components
        let hMax = components.map(\.h).max()!, vMax = components.map(\.v).max()!
        let mcusWide = (width + 8 * hMax - 1) / (8 * hMax), mcusHigh = (height + 8 * vMax - 1) / (8 * vMax)
        // Every coded block takes at least two bits (a DC code and an end-of-block): a file too short for
        // its declared size is refused before the planes are allocated.
        let blocks = mcusWide * mcusHigh * components.reduce(0) { $0 + $1.h * $1.v }
        guard blocks <= 4 * (bytes.count - start) + 64 else {
            throw ImageError(.truncated, "JPEG data (\(bytes.count - start) bytes) is too short for a \(width)x\(height) image")
        }
        for k in components.indices {
            guard quant[components[k].quant].count == 64 else { throw ImageError(.corrupt, "JPEG uses a quantisation table it does not define") }
            guard dc[components[k].dcTable] != nil, ac[components[k].acTable] != nil else { throw ImageError(.corrupt, "JPEG uses a Huffman table it does not define") }
            components[k].blocksWide = mcusWide * components[k].h
            components[k].blocksHigh = mcusHigh * components[k].v
            components[k].samples = [UInt8](repeating: 0, count: components[k].blocksWide * components[k].blocksHigh * 64)
        }
        var reader = BitReader(bytes: bytes, position: start)
        var coefficients = [Float](repeating: 0, count: 64), block = [Float](repeating: 0, count: 64)
        var mcu = 0
        for my in 0..<mcusHigh {
            for mx in 0..<mcusWide {
                if restartInterval > 0, mcu > 0, mcu % restartInterval == 0 {
                    try reader.restart()
                    for k in components.indices { components[k].prediction = 0 }
                }
                mcu += 1
                for k in components.indices {
                    let c = components[k]
                    for by in 0..<c.v {
                        for bx in 0..<c.h {
                            for i in 0..<64 { coefficients[i] = 0 }
                            let t = try reader.decode(dc[c.dcTable]!)
                            guard t <= 11 else { throw ImageError(.corrupt, "JPEG DC coefficient size \(t) is invalid") }
                            components[k].prediction += extend(try reader.bits(t), t)
                            let q = quant[c.quant]
                            coefficients[0] = Float(components[k].prediction * q[0])
                            var index = 1
                            while index < 64 {
                                let rs = try reader.decode(ac[c.acTable]!)
                                let run = rs >> 4, size = rs & 15
                                if size == 0 {
                                    if run != 15 { break }
                                    index += 16
                                    continue
                                }
                                index += run
                                guard index < 64 else { throw ImageError(.corrupt, "JPEG AC coefficients overrun their block") }
                                let z = zigzag[index]
                                coefficients[z] = Float(extend(try reader.bits(size), size) * q[z])
                                index += 1
                            }
                            idct(coefficients, into: &block)
                            let row0 = (my * c.v + by) * 8, col0 = (mx * c.h + bx) * 8
                            for y in 0..<8 {
                                for x in 0..<8 {
                                    let value = (block[y * 8 + x] + 128).rounded()
                                    components[k].samples[(row0 + y) * c.blocksWide * 8 + col0 + x] = UInt8(max(0, min(255, value)))
                                }
                            }
                        }
                    }
                }
            }
        }
        // Upsample chroma to full resolution, then convert YCbCr to RGB (JFIF).
        let planes = components.map { c in upsample(c, width: width, height: height, hMax: hMax, vMax: vMax) }
        let channels = components.count
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        for p in 0..<(width * height) {
            if channels == 1 {
                samples[p] = UInt16(planes[0][p])
            } else {
                let (yy, cb, cr) = (Float(planes[0][p]), Float(planes[1][p]) - 128, Float(planes[2][p]) - 128)
                let rgb = [yy + 1.402 * cr, yy - 0.344136 * cb - 0.714136 * cr, yy + 1.772 * cb]
                for i in 0..<3 { samples[p * 3 + i] = UInt16(max(0, min(255, rgb[i].rounded()))) }
            }
        }
        return DecodedImage(width: width, height: height, channels: channels, maxValue: 255, samples: samples)
    }

    /// A component at full resolution (width × height): libjpeg's fancy upsampling for 2x1 and 2x2
    /// subsampling (each output takes 3/4 of its nearer input and 1/4 of the next, per direction,
    /// with libjpeg's rounding), replication otherwise.
    static func upsample(_ c: Component, width: Int, height: Int, hMax: Int, vMax: Int) -> [Int] {
        let stride = c.blocksWide * 8
        let cw = (width * c.h + hMax - 1) / hMax, ch = (height * c.v + vMax - 1) / vMax
        func at(_ x: Int, _ y: Int) -> Int { Int(c.samples[min(max(y, 0), ch - 1) * stride + min(max(x, 0), cw - 1)]) }
        var out = [Int](repeating: 0, count: width * height)
        let horizontal = hMax / c.h, vertical = vMax / c.v
        if horizontal == 2 && (vertical == 1 || vertical == 2) && cw > 1 {
            for y in 0..<height {
                let row = y / vertical
                // Vertical step (2x2): the nearer row weighs 3, the further 1 (edges repeat the edge row).
                let further = vertical == 2 ? (y % 2 == 0 ? row - 1 : row + 1) : row
                func column(_ x: Int) -> Int { vertical == 2 ? 3 * at(x, row) + at(x, further) : at(x, row) }
                for x in 0..<width {
                    let col = x / 2, this = column(col)
                    let neighbour = x % 2 == 0 ? column(col - 1) : column(col + 1)
                    let atEdge = (x % 2 == 0 && col == 0) || (x % 2 == 1 && col == cw - 1)
                    if vertical == 2 {
                        out[y * width + x] = atEdge ? (4 * this + (x % 2 == 0 ? 8 : 7)) >> 4
                            : (3 * this + neighbour + (x % 2 == 0 ? 8 : 7)) >> 4
                    } else {
                        out[y * width + x] = atEdge ? this : (3 * this + neighbour + (x % 2 == 0 ? 1 : 2)) >> 2
                    }
                }
            }
            return out
        }
        for y in 0..<height {
            for x in 0..<width { out[y * width + x] = at(x / horizontal, y / vertical) }
        }
        return out
    }

    @inline(__always) static func extend(_ v: Int, _ t: Int) -> Int {
        t == 0 ? 0 : (v < 1 << (t - 1) ? v - (1 << t) + 1 : v)
    }

    /// Separable 8x8 inverse DCT.
    static func idct(_ input: [Float], into output: inout [Float]) {
        var temp = [Float](repeating: 0, count: 64)
        for y in 0..<8 {
            for x in 0..<8 {
                var sum: Float = 0
                for u in 0..<8 { sum += cosines[x * 8 + u] * input[y * 8 + u] }
                temp[y * 8 + x] = sum
            }
        }
        for x in 0..<8 {
            for y in 0..<8 {
                var sum: Float = 0
                for v in 0..<8 { sum += cosines[y * 8 + v] * temp[v * 8 + x] }
                output[y * 8 + x] = sum
            }
        }
    }
}

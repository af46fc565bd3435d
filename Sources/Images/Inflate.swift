/// A zlib (RFC 1950) and DEFLATE (RFC 1951) decoder, written for PNG: stored, fixed-Huffman and
/// dynamic-Huffman blocks, with the Adler-32 checksum verified. Every read is bounds-checked and the
/// output may not exceed `limit` bytes, so corrupt or hostile streams end in an error, never a crash
/// or an unbounded allocation.
package enum Inflate {
    /// Decompresses a zlib stream into at most `limit` bytes.
    package static func zlib(_ data: [UInt8], limit: Int) throws(ImageError) -> [UInt8] {
        guard data.count >= 6 else { throw ImageError(.truncated, "zlib stream of \(data.count) bytes is truncated") }
        let cmf = Int(data[0]), flg = Int(data[1])
        guard cmf & 0x0F == 8, cmf >> 4 <= 7 else { throw ImageError(.unsupported, "zlib stream does not use DEFLATE (method \(cmf & 0x0F))") }
        guard (cmf * 256 + flg) % 31 == 0 else { throw ImageError(.corrupt, "zlib header check bits are wrong") }
        guard flg & 0x20 == 0 else { throw ImageError(.unsupported, "zlib preset dictionaries are not supported") }
        var reader = BitReader(data, start: 2)
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, 16 * data.count + 1024))
        try inflate(&reader, into: &out, limit: limit)
        reader.alignToByte()
        let end = reader.position
        guard end + 4 <= data.count else { throw ImageError(.truncated, "zlib stream ends before its Adler-32 checksum") }
        let stored = UInt32(data[end]) << 24 | UInt32(data[end + 1]) << 16 | UInt32(data[end + 2]) << 8 | UInt32(data[end + 3])
        guard stored == adler32(out) else { throw ImageError(.corrupt, "zlib Adler-32 checksum mismatch: the data is corrupt") }
        return out
    }

    /// Adler-32 of `bytes`.
    package static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + 5552)
            while i < end { a &+= UInt32(bytes[i]); b &+= a; i += 1 }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    // MARK: DEFLATE

    struct BitReader {
        let data: [UInt8]
        var position: Int
        var bitBuffer: UInt32 = 0
        var bitCount = 0

        init(_ data: [UInt8], start: Int) {
            self.data = data
            position = start
        }

        mutating func bits(_ n: Int) throws(ImageError) -> Int {
            while bitCount < n {
                guard position < data.count else { throw ImageError(.truncated, "DEFLATE stream is truncated") }
                bitBuffer |= UInt32(data[position]) << UInt32(bitCount)
                position += 1
                bitCount += 8
            }
            let value = Int(bitBuffer & ((1 << UInt32(n)) - 1))
            bitBuffer >>= UInt32(n)
            bitCount -= n
            return value
        }

        mutating func alignToByte() {
            // Whole bytes still in the buffer go back to the byte stream.
            position -= bitCount / 8
            bitBuffer = 0
            bitCount = 0
        }
    }

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]

        init(lengths: [Int]) throws(ImageError) {
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            var left = 1
            for length in 1...15 {
                left = left * 2 - counts[length]
                guard left >= 0 else { throw ImageError(.corrupt, "DEFLATE Huffman code is over-subscribed") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }

        func decode(_ reader: inout BitReader) throws(ImageError) -> Int {
            var code = 0, first = 0, index = 0
            for length in 1...15 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw ImageError(.corrupt, "DEFLATE stream has an invalid Huffman code")
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                               4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    static let fixed: (Huffman, Huffman) = {
        var lengths = [Int](repeating: 8, count: 288)
        for i in 144..<256 { lengths[i] = 9 }
        for i in 256..<280 { lengths[i] = 7 }
        return (try! Huffman(lengths: lengths), try! Huffman(lengths: [Int](repeating: 5, count: 30)))
    }()

    static func inflate(_ reader: inout BitReader, into out: inout [UInt8], limit: Int) throws(ImageError) {
        var last = 0
        repeat {
            last = try reader.bits(1)
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let p = reader.position
                guard p + 4 <= reader.data.count else { throw ImageError(.truncated, "DEFLATE stored block header is truncated") }
                let length = Int(reader.data[p]) | Int(reader.data[p + 1]) << 8
                let complement = Int(reader.data[p + 2]) | Int(reader.data[p + 3]) << 8
                guard length == ~complement & 0xFFFF else { throw ImageError(.corrupt, "DEFLATE stored block length check failed") }
                guard p + 4 + length <= reader.data.count else { throw ImageError(.truncated, "DEFLATE stored block is truncated") }
                guard out.count + length <= limit else { throw ImageError(.tooLarge, "decompressed data exceeds the \(limit) bytes the image needs") }
                out.append(contentsOf: reader.data[(p + 4)..<(p + 4 + length)])
                reader.position = p + 4 + length
            case 1:
                try codes(&reader, fixed.0, fixed.1, into: &out, limit: limit)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try codes(&reader, literals, distances, into: &out, limit: limit)
            default:
                throw ImageError(.corrupt, "DEFLATE block type 3 is invalid")
            }
        } while last == 0
    }

    static func dynamicTables(_ reader: inout BitReader) throws(ImageError) -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257, distanceCount = try reader.bits(5) + 1, codeCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw ImageError(.corrupt, "DEFLATE block declares too many codes") }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeCount { codeLengths[order[i]] = try reader.bits(3) }
        let lengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try lengthCode.decode(&reader)
            switch symbol {
            case 0...15: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw ImageError(.corrupt, "DEFLATE repeats a code length before any was given") }
                lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw ImageError(.corrupt, "DEFLATE code lengths overrun their table") }
        guard lengths[256] != 0 else { throw ImageError(.corrupt, "DEFLATE block has no end-of-block code") }
        return (try Huffman(lengths: Array(lengths[0..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...])))
    }

    static func codes(_ reader: inout BitReader, _ literals: Huffman, _ distances: Huffman, into out: inout [UInt8],
                      limit: Int) throws(ImageError) {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                guard out.count < limit else { throw ImageError(.tooLarge, "decompressed data exceeds the \(limit) bytes the image needs") }
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let l = symbol - 257
                guard l < 29 else { throw ImageError(.corrupt, "DEFLATE length code \(symbol) is invalid") }
                let length = lengthBase[l] + (try reader.bits(lengthExtra[l]))
                let d = try distances.decode(&reader)
                guard d < 30 else { throw ImageError(.corrupt, "DEFLATE distance code \(d) is invalid") }
                let distance = distanceBase[d] + (try reader.bits(distanceExtra[d]))
                guard distance <= out.count else { throw ImageError(.corrupt, "DEFLATE back-reference reaches before the start of the data") }
                guard out.count + length <= limit else { throw ImageError(.tooLarge, "decompressed data exceeds the \(limit) bytes the image needs") }
                let start = out.count - distance
                for i in 0..<length { out.append(out[start + i]) }
            }
        }
    }
}

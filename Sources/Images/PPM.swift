/// Netpbm grey and colour images: PGM (P2 ASCII, P5 binary) and PPM (P3 ASCII, P6 binary), with
/// comments, maximum values up to 65535 (16-bit big-endian samples), and every count checked.
public enum PPM {
    /// Whether `bytes` start with a supported Netpbm magic number.
    public static func isNetpbm(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == UInt8(ascii: "P") && [UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "5"), UInt8(ascii: "6")].contains(bytes[1])
    }

    /// Decodes a PGM or PPM file's bytes.
    public static func decode(_ bytes: [UInt8]) throws(ImageError) -> DecodedImage {
        guard isNetpbm(bytes) else { throw ImageError(.corrupt, "not a PGM/PPM file (expected P2, P3, P5 or P6)") }
        let kind = bytes[1]
        let channels = kind == UInt8(ascii: "3") || kind == UInt8(ascii: "6") ? 3 : 1
        let ascii = kind == UInt8(ascii: "2") || kind == UInt8(ascii: "3")
        var position = 2
        func number() throws(ImageError) -> Int {
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "#") {
                    while position < bytes.count, bytes[position] != 10, bytes[position] != 13 { position += 1 }
                } else if [9, 10, 13, 32].contains(bytes[position]) {
                    position += 1
                } else { break }
            }
            let start = position
            var value = 0
            while position < bytes.count, (48...57).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - 48)
                guard value <= 1 << 31 else { throw ImageError(.tooLarge, "PGM/PPM number is too large") }
                position += 1
            }
            guard position > start else {
                throw ImageError(.truncated, position >= bytes.count ? "PGM/PPM file is truncated" : "PGM/PPM has a non-numeric field at byte \(position)")
            }
            return value
        }
        let width = try number(), height = try number(), maxValue = try number()
        guard width > 0, height > 0 else { throw ImageError(.corrupt, "PGM/PPM size \(width)x\(height) is invalid") }
        guard width * height <= maximumPixels else { throw ImageError(.tooLarge, "PGM/PPM of \(width)x\(height) pixels is too large") }
        guard (1...65535).contains(maxValue) else { throw ImageError(.corrupt, "PGM/PPM maximum value \(maxValue) is outside 1...65535") }
        let count = width * height * channels
        // Check the file can hold the samples before allocating for them: a header is cheap to forge.
        let available = bytes.count - position
        guard ascii ? count <= available / 2 + 1 : count * (maxValue < 256 ? 1 : 2) <= available else {
            throw ImageError(.truncated, "PGM/PPM holds \(available) bytes of samples, too few for \(width)x\(height)x\(channels)")
        }
        var samples = [UInt16](repeating: 0, count: count)
        if ascii {
            for i in 0..<count {
                let v = try number()
                guard v <= maxValue else { throw ImageError(.tooLarge, "PGM/PPM sample \(v) exceeds the maximum \(maxValue)") }
                samples[i] = UInt16(v)
            }
        } else {
            guard position < bytes.count, [9, 10, 13, 32].contains(bytes[position]) else { throw ImageError(.truncated, "PGM/PPM header is truncated") }
            position += 1
            let size = maxValue < 256 ? 1 : 2
            guard bytes.count - position >= count * size else {
                throw ImageError(.corrupt, "PGM/PPM holds \(bytes.count - position) bytes of samples, \(width)x\(height)x\(channels) needs \(count * size)")
            }
            for i in 0..<count {
                let v = size == 1 ? UInt16(bytes[position + i]) : UInt16(bytes[position + 2 * i]) << 8 | UInt16(bytes[position + 2 * i + 1])
                guard Int(v) <= maxValue else { throw ImageError(.tooLarge, "PGM/PPM sample \(v) exceeds the maximum \(maxValue)") }
                samples[i] = v
            }
        }
        return DecodedImage(width: width, height: height, channels: channels, maxValue: maxValue, samples: samples)
    }
}

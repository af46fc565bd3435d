import Foundation
import Testing
@testable import Weights

@Suite struct NumPyArrayTests {
    @Test func roundTrip() throws {
        let t = Tensor(shape: [2, 3, 1, 2], scalars: (0..<12).map { Float($0) * 0.5 - 1 })
        let data = NumPyArray.encode(t)
        #expect(data.count % 64 == (t.count * 4) % 64)   // header padded to a 64-byte boundary
        #expect(try NumPyArray.read(data) == t)
        let vector = Tensor(shape: [3], scalars: [1, 2, 3])
        #expect(try NumPyArray.read(NumPyArray.encode(vector)) == vector)
    }

    @Test func float64IsConverted() throws {
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        data.append(contentsOf: [UInt8(header.count), 0])
        data.append(Data(header.utf8))
        for v in [1.5, -2.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        #expect(try NumPyArray.read(data).scalars == [1.5, -2.25])
    }

    @Test func badArraysAreRejected() throws {
        let good = NumPyArray.encode(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        func message(_ d: Data) -> String? { do { _ = try NumPyArray.read(d); return nil } catch { return error.message } }
        #expect(message(Data())?.contains("not a .npy file") == true)
        #expect(message(Data("hello world!".utf8))?.contains("not a .npy file") == true)
        #expect(message(good.prefix(good.count - 1))?.contains("truncated") == true)
        #expect(message(good.prefix(20))?.contains("runs past the end") == true)
        var complexArray = good
        complexArray.replaceSubrange(complexArray.range(of: Data("<f4".utf8))!, with: Data("<c8".utf8))
        #expect(message(complexArray)?.contains("unsupported dtype <c8") == true)
        // Integer arrays (labels) are read and converted; a wrong size for the dtype is still caught.
        var intArray = good
        intArray.replaceSubrange(intArray.range(of: Data("<f4".utf8))!, with: Data("<i4".utf8))
        let asIntegers = [Float(1), 2, 3, 4].map { Float(Int32(bitPattern: $0.bitPattern)) }   // the float bytes read as int32
        #expect(try NumPyArray.read(intArray).scalars == asIntegers)
        var int64 = good
        int64.replaceSubrange(int64.range(of: Data("<f4".utf8))!, with: Data("<i8".utf8))
        #expect(message(int64)?.contains("truncated") == true)
        var fortran = good
        fortran.replaceSubrange(fortran.range(of: Data("False".utf8))!, with: Data("True ".utf8))
        #expect(message(fortran)?.contains("Fortran") == true)
    }
}

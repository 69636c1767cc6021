import XCTest
@testable import Tensor

/// Reference dequantizers against blocks built by hand, with values worked out from ggml's
/// formulas (not from our code).
final class DequantTests: XCTestCase {
    private func dequant(_ type: GGMLType, _ block: [UInt8]) -> [Float] {
        XCTAssertEqual(block.count, type.typeSize, "hand-built \(type) block has the wrong size")
        var out = [Float](repeating: .nan, count: type.blockSize)
        block.withUnsafeBytes { src in out.withUnsafeMutableBufferPointer { ReferenceDequant.row(type, src.baseAddress!, $0.baseAddress!, count: type.blockSize) } }
        return out
    }
    private func half(_ f: Float) -> [UInt8] { let b = Float16(f).bitPattern; return [UInt8(b & 0xFF), UInt8(b >> 8)] }

    func testQ4_0() {
        // d = 0.5; byte j = low nibble j%16, high nibble 15 - j%16.
        let qs = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let y = dequant(.q4_0, half(0.5) + qs)
        for j in 0..<16 {
            XCTAssertEqual(y[j], Float(j - 8) * 0.5)
            XCTAssertEqual(y[j + 16], Float(7 - j) * 0.5)
        }
    }

    func testQ4_1() {
        let qs = (0..<16).map { UInt8($0) | 0x30 }  // high nibbles all 3
        let y = dequant(.q4_1, half(0.25) + half(-1) + qs)
        for j in 0..<16 {
            XCTAssertEqual(y[j], Float(j) * 0.25 - 1)
            XCTAssertEqual(y[j + 16], 3 * 0.25 - 1)
        }
    }

    func testQ5_0() {
        // qh bit j set for even j only: element j gets +16 when bit j is set (j < 16 from
        // bits 0..15, elements 16..31 from bits 16..31).
        let qh: UInt32 = 0x5555_5555
        let qhBytes = (0..<4).map { UInt8(truncatingIfNeeded: qh >> (8 * UInt32($0))) }
        let qs = [UInt8](repeating: 0x21, count: 16)  // low 1, high 2
        let y = dequant(.q5_0, half(2) + qhBytes + qs)
        for j in 0..<16 {
            XCTAssertEqual(y[j], Float((j % 2 == 0 ? 17 : 1) - 16) * 2, "element \(j)")
            XCTAssertEqual(y[j + 16], Float((j % 2 == 0 ? 18 : 2) - 16) * 2, "element \(j + 16)")
        }
    }

    func testQ8_0() {
        let qs = (0..<32).map { UInt8(bitPattern: Int8($0 * 8 - 128)) }
        let y = dequant(.q8_0, half(0.125) + qs)
        for j in 0..<32 { XCTAssertEqual(y[j], Float(j * 8 - 128) * 0.125) }
    }

    /// Q4_K/Q5_K scales: sub-blocks 0-3 use the low 6 bits of bytes 0-3 (scale) and 4-7 (min);
    /// sub-blocks 4-7 take low/high nibbles of bytes 8-11 plus the top 2 bits of bytes 0-7.
    private func kScales() -> [UInt8] {
        // scales = [1,2,3,4, 17,34,51,60], mins = [5,6,7,8, 33,18,3,63]
        let sc: [UInt8] = [1, 2, 3, 4, 17, 34, 51, 60], mn: [UInt8] = [5, 6, 7, 8, 33, 18, 3, 63]
        var s = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            s[j] = sc[j] | ((sc[j + 4] >> 4) << 6)
            s[j + 4] = mn[j] | ((mn[j + 4] >> 4) << 6)
            s[j + 8] = (sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4)
        }
        return s
    }
    private let kSc: [Float] = [1, 2, 3, 4, 17, 34, 51, 60], kMn: [Float] = [5, 6, 7, 8, 33, 18, 3, 63]

    func testQ4_K() {
        // qs byte l of pair k: low nibble (l % 16), high nibble 15 - l % 16.
        let qs = (0..<128).map { UInt8($0 % 16) | UInt8(15 - $0 % 16) << 4 }
        let y = dequant(.q4_K, half(0.5) + half(0.25) + kScales() + qs)
        for e in 0..<256 {
            let j = e / 32, l = e % 32
            let q = j % 2 == 0 ? l % 16 : 15 - l % 16
            XCTAssertEqual(y[e], 0.5 * kSc[j] * Float(q) - 0.25 * kMn[j], "element \(e)")
        }
    }

    func testQ5_K() {
        let qs = [UInt8](repeating: 0x53, count: 128)  // low 3, high 5
        let qh = (0..<32).map { UInt8($0 % 2 == 0 ? 0b1010_0101 : 0) }  // sub-blocks 0,2,5,7 on even l
        let y = dequant(.q5_K, half(1) + half(0.5) + kScales() + qh + qs)
        for e in 0..<256 {
            let j = e / 32, l = e % 32
            let bit = l % 2 == 0 && [0, 2, 5, 7].contains(j) ? 16 : 0
            let q = (j % 2 == 0 ? 3 : 5) + bit
            XCTAssertEqual(y[e], kSc[j] * Float(q) - 0.5 * kMn[j], "element \(e)")
        }
    }

    func testQ6_K() {
        // ql: low nibbles 1, high nibbles 2; qh: bits (2k,2k+1) = k for quadrant k → q = low | k << 4.
        let ql = [UInt8](repeating: 0x21, count: 128)
        let qh = [UInt8](repeating: 0b11_10_01_00, count: 64)
        let sc = (0..<16).map { UInt8(bitPattern: Int8($0 - 8)) }
        let y = dequant(.q6_K, ql + qh + sc + half(0.5))
        for e in 0..<256 {
            let k = (e % 128) / 32
            let q = (k < 2 ? 1 : 2) | (k << 4)
            XCTAssertEqual(y[e], 0.5 * Float(e / 16 - 8) * Float(q - 32), "element \(e)")
        }
    }

    func testFloatFormats() {
        let values: [Float] = [0, 1, -2.5, 65504, 0.000061035156, -0.1]
        var f16 = [UInt8](), bf16 = [UInt8]()
        for v in values {
            f16 += half(v)
            let b = UInt16(v.bitPattern >> 16)
            bf16 += [UInt8(b & 0xFF), UInt8(b >> 8)]
        }
        var out = [Float](repeating: 0, count: values.count)
        f16.withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { ReferenceDequant.row(.f16, s.baseAddress!, $0.baseAddress!, count: values.count) } }
        XCTAssertEqual(out, values.map { Float(Float16($0)) })
        bf16.withUnsafeBytes { s in out.withUnsafeMutableBufferPointer { ReferenceDequant.row(.bf16, s.baseAddress!, $0.baseAddress!, count: values.count) } }
        XCTAssertEqual(out, values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
    }

    func testUnsupportedTypesAndShapesAreErrors() throws {
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 16)
        defer { bytes.deallocate() }
        XCTAssertThrowsError(try WeightMatrix(type: .iq2_xxs, rows: 1, cols: 256, data: bytes)) { e in
            XCTAssertEqual(e as? TensorError, .unsupportedType(.iq2_xxs))
            XCTAssertTrue("\(e)".contains("Q4_K"), "message lists supported types: \(e)")
        }
        XCTAssertThrowsError(try WeightMatrix(type: .q4_K, rows: 2, cols: 100, data: bytes)) { e in
            XCTAssertEqual(e as? TensorError, .rowNotWholeBlocks(type: .q4_K, cols: 100))
        }
        XCTAssertThrowsError(try WeightMatrix(type: .f32, rows: 0, cols: 4, data: bytes))
        XCTAssertThrowsError(try WeightMatrix(type: .f32, rows: Int.max / 2, cols: 4, data: bytes))
        XCTAssertNoThrow(try WeightMatrix(type: .q6_K, rows: 1, cols: 256, data: bytes))
    }
}

import XCTest
import Tensor
@testable import LLM

/// Every fast dot product agrees with the plain reference dequantizer followed by a float dot.
final class QuantTests: XCTestCase {
    /// Random blocks of `type` with sane f16 scales (random bytes could encode NaN scales).
    func randomRow(_ type: GGMLType, cols: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix(seed)
        var bytes = (0..<type.rowBytes(cols)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scale = { (v: Float) in Float16(v).bitPattern }
        let nb = cols / type.blockSize
        for b in 0..<nb {
            let o = b * type.typeSize
            func put(_ at: Int, _ v: Float) { let u = scale(v); bytes[o + at] = UInt8(u & 0xFF); bytes[o + at + 1] = UInt8(u >> 8) }
            switch type {
            case .q4_0, .q8_0: put(0, 0.01 + Float(rng.next() % 100) / 1000)
            case .q4_1: put(0, 0.01 + Float(rng.next() % 100) / 1000); put(2, -Float(rng.next() % 100) / 100)
            case .q4_K: put(0, 0.001 + Float(rng.next() % 100) / 10000); put(2, Float(rng.next() % 100) / 10000)
            case .q6_K: put(208, 0.001 + Float(rng.next() % 100) / 10000)
            case .f16: put(0, Float(Int(rng.next() % 2000) - 1000) / 1000)
            default: break
            }
        }
        return bytes
    }

    func testFastDotsMatchReference() throws {
        let cols = 512
        var rng = SplitMix(7)
        let x = (0..<cols).map { _ in Float(Int(rng.next() % 2000) - 1000) / 500 }
        var xsum = [Float](repeating: 0, count: cols / 32)
        for b in 0..<cols / 32 { xsum[b] = x[b * 32..<b * 32 + 32].reduce(0, +) }
        for type in [GGMLType.q4_0, .q4_1, .q8_0, .q4_K, .q6_K, .f16] {
            let row = randomRow(type, cols: cols, seed: UInt64(type.rawValue))
            var deq = [Float](repeating: 0, count: cols), buf = [Float](repeating: 0, count: cols)
            row.withUnsafeBytes { Dequantize.row(type, $0.baseAddress!, &deq, count: cols) }
            let expected = zip(deq, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let fast = row.withUnsafeBytes { r in
                QuantizedMatrix.dot(type, r.baseAddress!, x, xsum, cols: cols, buffer: &buf)
            }
            XCTAssertEqual(fast, expected, accuracy: 1e-3 * max(1, abs(expected)), "\(type)")
        }
    }

    /// Q4_1 reference against values computed by hand for one block.
    func testQ4_1ReferenceByHand() {
        var block = [UInt8](repeating: 0, count: 20)
        let d = Float16(0.5).bitPattern, m = Float16(-1).bitPattern
        block[0] = UInt8(d & 0xFF); block[1] = UInt8(d >> 8); block[2] = UInt8(m & 0xFF); block[3] = UInt8(m >> 8)
        block[4] = 0x3A  // element 0 = low nibble 0xA, element 16 = high nibble 0x3
        var out = [Float](repeating: 0, count: 32)
        block.withUnsafeBytes { Dequantize.row(.q4_1, $0.baseAddress!, &out, count: 32) }
        XCTAssertEqual(out[0], 10 * 0.5 - 1)
        XCTAssertEqual(out[16], 3 * 0.5 - 1)
        XCTAssertEqual(out[1], -1)
    }
}

struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

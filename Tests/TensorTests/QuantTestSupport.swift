import Tensor

/// Deterministic random data for the kernel tests (SplitMix64: same bytes on every run).
typealias SplitMix = SplitMix64

extension SplitMix64 {
    mutating func float(_ range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() >> 40) / Float(1 << 24)
    }
}

/// A weight matrix filled with random but valid blocks: random quant bytes, and every half
/// scale field set to a finite value of realistic size (random bytes there could be NaN).
final class RandomWeights {
    let bytes: UnsafeMutableRawPointer
    let matrix: WeightMatrix

    init(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let rowBytes = type.rowBytes(cols)!
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64)
        for i in 0..<(rows * rowBytes) { bytes.storeBytes(of: UInt8(truncatingIfNeeded: rng.next()), toByteOffset: i, as: UInt8.self) }
        func half(_ offset: Int, _ range: ClosedRange<Float>) {
            bytes.storeBytes(of: Float16(rng.float(range)).bitPattern, toByteOffset: offset, as: UInt16.self)
        }
        let blocks = rows * cols / type.blockSize, bs = type.typeSize
        for b in 0..<blocks {
            let o = b * bs
            switch type {
            case .f16: half(o, -1...1)
            case .bf16: bytes.storeBytes(of: UInt16(Float(rng.float(-1...1)).bitPattern >> 16), toByteOffset: o, as: UInt16.self)
            case .f32: bytes.storeBytes(of: rng.float(-1...1), toByteOffset: o, as: Float.self)
            case .q4_0, .q5_0, .q8_0: half(o, 0.001...0.05)
            case .q4_1: half(o, 0.001...0.05); half(o + 2, -0.2...0.0)
            case .q4_K, .q5_K: half(o, 0.0001...0.002); half(o + 2, 0.0001...0.002)
            case .q6_K: half(o + 208, 0.0001...0.002)
            default: fatalError("no random blocks for \(type)")
            }
        }
        self.bytes = bytes
        matrix = try WeightMatrix(type: type, rows: rows, cols: cols, data: UnsafeRawPointer(bytes))
    }

    deinit { bytes.deallocate() }
}

func randomVector(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SplitMix(seed: seed)
    return (0..<n).map { _ in rng.float(-scale...scale) }
}

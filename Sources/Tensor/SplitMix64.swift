/// SplitMix64: a small, fast generator whose whole state is one UInt64, so a seed means the same
/// stream everywhere (training data order, LoRA init, evaluation samples, benchmark corpora) and
/// a checkpoint can record it. Not for anything that needs unpredictability.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits (a Float's mantissa).
    public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in [0, 1) with 53 bits (a Double's mantissa).
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

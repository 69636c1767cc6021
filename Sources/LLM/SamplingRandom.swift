import StrataCore

/// xoshiro256** seeded through SplitMix64: our own generator so a seed gives the same tokens on
/// every platform and Swift version (the stdlib's SystemRandomNumberGenerator cannot be seeded).
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

/// The usual sampling settings, checked, turned into a chain in llama.cpp's default order:
/// penalties, top-k, top-p, min-p, temperature, then greedy (temperature 0) or a seeded draw.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature = Float(SamplingDefaults.temperature)
    public var topK = SamplingDefaults.topK
    public var topP = Float(SamplingDefaults.topP)
    public var minP = Float(SamplingDefaults.minP)
    public var repeatPenalty = Float(SamplingDefaults.repeatPenalty)
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    public var penaltyLastN: Int = 64
    public var seed: UInt64 = 0

    public init() {}

    /// Greedy decoding: always the most likely token.
    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }

    public func makeChain(vocabularySize: Int = 0) throws -> SamplerChain {
        // Validate everything first, so the error is about the setting and not a half-built chain.
        let penalties = try PenaltySampler(lastN: penaltyLastN, repeat: repeatPenalty,
                                           frequency: frequencyPenalty, presence: presencePenalty)
        let topK = try TopKSampler(topK), topP = try TopPSampler(topP), minP = try MinPSampler(minP)
        let temp = try TemperatureSampler(temperature)
        if temperature == 0 {
            return SamplerChain([penalties, GreedySampler()], vocabularySize: vocabularySize)
        }
        return SamplerChain([penalties, topK, topP, minP, temp, DistributionSampler(seed: seed)],
                            vocabularySize: vocabularySize)
    }
}

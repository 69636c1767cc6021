import Foundation

/// Picks the highest logit; on a tie the first candidate wins (llama.cpp's greedy rule).
public struct GreedySampler: Sampler {
    public var name: String { "greedy" }
    public init() {}
    public mutating func apply(_ c: inout TokenCandidates) {
        guard c.count > 0 else { return }
        if c.sorted { c.selected = 0; return }
        var best = 0
        c.items.withUnsafeBufferPointer { b in
            var bestLogit = b[0].logit
            for i in 1..<c.count where b[i].logit > bestLogit { best = i; bestLogit = b[i].logit }
        }
        c.selected = best
    }
}

/// Divides logits by the temperature; 0 keeps only the best token (greedy), as in llama.cpp.
public struct TemperatureSampler: Sampler {
    public let temperature: Float
    public var name: String { "temp(\(temperature))" }

    public init(_ temperature: Float) throws {
        guard temperature.isFinite, temperature >= 0 else {
            throw SamplingError.invalid(parameter: "temperature", value: "\(temperature)", expected: "a number >= 0 (0 = greedy)")
        }
        self.temperature = temperature
    }

    public mutating func apply(_ c: inout TokenCandidates) {
        guard c.count > 0 else { return }
        if temperature == 0 {
            c.keepBest { taken, _ in taken == 1 }
            return
        }
        let inv = 1 / temperature
        let n = c.count
        c.items.withUnsafeMutableBufferPointer { b in for i in 0..<n { b[i].logit *= inv } }
    }
}

/// Keeps the k highest logits; 0 disables it.
public struct TopKSampler: Sampler {
    public let k: Int
    public var name: String { "top-k(\(k))" }

    public init(_ k: Int) throws {
        guard k >= 0 else { throw SamplingError.invalid(parameter: "top-k", value: "\(k)", expected: "an integer >= 0 (0 = off)") }
        self.k = k
    }

    public mutating func apply(_ c: inout TokenCandidates) {
        guard k > 0, k < c.count else { return }
        let k = self.k
        c.keepBest { taken, _ in taken == k }
    }
}

/// Keeps the smallest set of best tokens whose probabilities reach p (nucleus); 1 disables it.
public struct TopPSampler: Sampler {
    public let p: Float
    public var name: String { "top-p(\(p))" }

    public init(_ p: Float) throws {
        guard p.isFinite, p > 0, p <= 1 else {
            throw SamplingError.invalid(parameter: "top-p", value: "\(p)", expected: "a number in (0, 1] (1 = off)")
        }
        self.p = p
    }

    public mutating func apply(_ c: inout TokenCandidates) {
        guard p < 1, c.count > 1 else { return }
        c.softmax()
        var sum: Float = 0
        let p = self.p
        c.keepBest { _, top in sum += top.p; return sum >= p }
    }
}

/// Drops tokens whose probability is below p times the best one's; 0 disables it.
public struct MinPSampler: Sampler {
    public let p: Float
    public var name: String { "min-p(\(p))" }

    public init(_ p: Float) throws {
        guard p.isFinite, p >= 0, p <= 1 else {
            throw SamplingError.invalid(parameter: "min-p", value: "\(p)", expected: "a number in [0, 1] (0 = off)")
        }
        self.p = p
    }

    public mutating func apply(_ c: inout TokenCandidates) {
        guard p > 0, c.count > 1 else { return }
        // p_i >= p * p_max  <=>  logit_i >= logit_max + ln p (llama.cpp compares logits too).
        let n = c.count
        let minLogit: Float = c.items.withUnsafeBufferPointer { b in
            var m = -Float.infinity
            for i in 0..<n where b[i].logit > m { m = b[i].logit }
            return m + logf(p)
        }
        var kept = 0
        c.items.withUnsafeMutableBufferPointer { b in
            for i in 0..<n where b[i].logit >= minLogit { b[kept] = b[i]; kept += 1 }  // keeps order
        }
        c.count = kept
    }
}

/// Repetition, frequency and presence penalties over the last N accepted tokens (llama.cpp's
/// `penalties`): a repeated token's logit is divided by `repeat` (multiplied when negative), then
/// lowered by `frequency` per occurrence and by `presence` once.
public struct PenaltySampler: Sampler {
    public let lastN: Int, repeatPenalty: Float, frequency: Float, presence: Float
    public var name: String { "penalties(last \(lastN), repeat \(repeatPenalty), freq \(frequency), present \(presence))" }

    private var ring: [Int32]
    private var head = 0, filled = 0
    private var counts: [Int32: Int] = [:]

    public init(lastN: Int, repeat repeatPenalty: Float = 1, frequency: Float = 0, presence: Float = 0) throws {
        guard lastN >= 0 else { throw SamplingError.invalid(parameter: "repeat-last-n", value: "\(lastN)", expected: "an integer >= 0") }
        guard repeatPenalty.isFinite, repeatPenalty > 0 else {
            throw SamplingError.invalid(parameter: "repeat-penalty", value: "\(repeatPenalty)", expected: "a number > 0 (1 = off)")
        }
        guard frequency.isFinite else { throw SamplingError.invalid(parameter: "frequency-penalty", value: "\(frequency)", expected: "a finite number") }
        guard presence.isFinite else { throw SamplingError.invalid(parameter: "presence-penalty", value: "\(presence)", expected: "a finite number") }
        self.lastN = lastN
        self.repeatPenalty = repeatPenalty
        self.frequency = frequency
        self.presence = presence
        ring = Array(repeating: 0, count: lastN)
        counts.reserveCapacity(lastN)
    }

    public mutating func accept(_ token: Int32) {
        guard lastN > 0 else { return }
        if filled == lastN {
            let old = ring[head]
            if let n = counts[old] { counts[old] = n > 1 ? n - 1 : nil }
        } else {
            filled += 1
        }
        ring[head] = token
        head = (head + 1) % lastN
        counts[token, default: 0] += 1
    }

    public mutating func reset() {
        head = 0; filled = 0
        counts.removeAll(keepingCapacity: true)
    }

    public mutating func apply(_ c: inout TokenCandidates) {
        guard !counts.isEmpty, repeatPenalty != 1 || frequency != 0 || presence != 0 else { return }
        let n = c.count
        c.items.withUnsafeMutableBufferPointer { b in
            for i in 0..<n {
                guard let count = counts[b[i].id] else { continue }
                var l = b[i].logit
                l = l <= 0 ? l * repeatPenalty : l / repeatPenalty
                l -= Float(count) * frequency + presence
                b[i].logit = l
            }
        }
        c.sorted = false
    }
}

/// Draws a token from the softmax of the candidates with a seeded generator (reproducible).
public struct DistributionSampler: Sampler {
    public let seed: UInt64
    private var rng: Xoshiro256
    public var name: String { "dist(seed \(seed))" }

    public init(seed: UInt64) {
        self.seed = seed
        rng = Xoshiro256(seed: seed)
    }

    public mutating func reset() { rng = Xoshiro256(seed: seed) }

    public mutating func apply(_ c: inout TokenCandidates) {
        guard c.count > 0 else { return }
        c.softmax()
        let r = Float(rng.nextUnitDouble())
        var cum: Float = 0
        var chosen = c.count - 1  // rounding can leave the sum just under r
        c.items.withUnsafeBufferPointer { b in
            for i in 0..<c.count {
                cum += b[i].p
                if r < cum { chosen = i; return }
            }
        }
        c.selected = chosen
    }
}

/// Decides when generation ends and what text may be shown so far.
///
/// Ends on an end-of-generation token, on any stop string, or after `maxTokens`. A stop string
/// can arrive split over several tokens, so text that could be the start of one is held back
/// until it is clear; the stop string itself is never emitted.
public struct StopCondition: Sendable {
    public enum Reason: Sendable, Equatable {
        case endOfGeneration(Int32)
        case stopString(String)
        case maxTokens
    }

    /// What to do after one token: show `text`, and stop when `stop` is set.
    public struct Step: Sendable, Equatable {
        public var text: String
        public var stop: Reason?
    }

    public let maxTokens: Int
    public let stopStrings: [String]
    public let endOfGeneration: Set<Int32>
    public private(set) var tokenCount = 0
    private let stops: [[Unicode.Scalar]]
    private var held: [Unicode.Scalar] = []

    public init(maxTokens: Int, stopStrings: [String] = [], endOfGeneration: Set<Int32>) throws {
        guard maxTokens > 0 else {
            throw SamplingError.invalid(parameter: "max-tokens", value: "\(maxTokens)", expected: "an integer > 0")
        }
        guard !stopStrings.contains("") else {
            throw SamplingError.invalid(parameter: "stop", value: "\"\"", expected: "non-empty stop strings")
        }
        self.maxTokens = maxTokens
        self.stopStrings = stopStrings
        self.endOfGeneration = endOfGeneration
        self.stops = stopStrings.map { Array($0.unicodeScalars) }
    }

    /// Feeds one generated token and the text it completed (from a `StreamingDetokenizer`).
    public mutating func push(token: Int32, text: String) -> Step {
        tokenCount += 1
        if endOfGeneration.contains(token) {
            return Step(text: flushHeld(), stop: .endOfGeneration(token))
        }
        held.append(contentsOf: text.unicodeScalars)
        if let (at, stop) = earliestStop() {
            let shown = String(String.UnicodeScalarView(held[..<at]))
            held.removeAll()
            return Step(text: shown, stop: .stopString(stop))
        }
        if tokenCount >= maxTokens { return Step(text: flushHeld(), stop: .maxTokens) }
        // Hold back the longest tail that is the beginning of some stop string.
        let keep = longestStopPrefixSuffix()
        let shown = String(String.UnicodeScalarView(held[..<(held.count - keep)]))
        held.removeFirst(held.count - keep)
        return Step(text: shown, stop: nil)
    }

    /// Text still held back when generation ends for another reason (e.g. the caller stops).
    public mutating func finish() -> String { flushHeld() }

    private mutating func flushHeld() -> String {
        defer { held.removeAll() }
        return String(String.UnicodeScalarView(held))
    }

    /// Position of the first stop string in the held text (earliest start, then the longest).
    private func earliestStop() -> (Int, String)? {
        var best: (Int, Int)?  // (start, stop index)
        for (k, s) in stops.enumerated() where s.count <= held.count {
            var i = 0
            while i + s.count <= held.count {
                if held[i] == s[0] && held[i..<(i + s.count)].elementsEqual(s) {
                    if best == nil || i < best!.0 || (i == best!.0 && s.count > stops[best!.1].count) { best = (i, k) }
                    break
                }
                i += 1
            }
        }
        return best.map { ($0.0, stopStrings[$0.1]) }
    }

    private func longestStopPrefixSuffix() -> Int {
        var best = 0
        for s in stops {
            var n = min(s.count - 1, held.count)
            while n > best {
                if held[(held.count - n)...].elementsEqual(s[..<n]) { best = n; break }
                n -= 1
            }
        }
        return best
    }
}

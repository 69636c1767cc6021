import Foundation
import Tensor

/// The corpus recipe of /work/shared/reference/minilm/tools/bench_fts.py, in Swift: whole words of
/// the MiniLM vocabulary (id >= 1996, [a-z]{2,}, roughly frequency ordered), Zipf s = 1.07,
/// 90–110 words per chunk; queries of 2–3 words uniform over frequency ranks 100..5000.
/// Not the same random stream as numpy, so figures are comparable, not identical.
/// Shared by bench-fts and bench-ingest, so both measure the same text.
public struct Corpus {
    public let words: [String]
    private var rng: SplitMix64
    private let cdf: [Double]

    public init(tokenizerJSON: String, seed: UInt64) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: tokenizerJSON))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Int] else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(tokenizerJSON) has no model.vocab"])
        }
        words = vocab.filter { $0.value >= 1996 && $0.key.count >= 2 && $0.key.allSatisfy { $0 >= "a" && $0 <= "z" } }
            .sorted { $0.value < $1.value }.map(\.key)
        var acc = 0.0, cdf: [Double] = []
        cdf.reserveCapacity(words.count)
        for r in 1...words.count { acc += 1 / pow(Double(r), 1.07); cdf.append(acc) }
        self.cdf = cdf.map { $0 / acc }
        rng = SplitMix64(seed: seed)
    }

    public mutating func zipfWord() -> String {
        let u = rng.nextUnitDouble()
        var lo = 0, hi = cdf.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cdf[mid] < u { lo = mid + 1 } else { hi = mid } }
        return words[lo]
    }

    public mutating func passage() -> String {
        let n = 90 + Int(rng.next() % 21)
        return (0..<n).map { _ in zipfWord() }.joined(separator: " ")
    }

    public mutating func query() -> String {
        let n = 2 + Int(rng.next() % 2)
        return (0..<n).map { _ in words[100 + Int(rng.next() % 4900)] }.joined(separator: " ")
    }
}

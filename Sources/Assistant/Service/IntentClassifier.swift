import Foundation

/// One labelled example for the intent classifier: an embedding and the index of its intent.
public struct LabelledVector: Sendable {
    public var vector: [Float]
    public var label: Int
    public init(vector: [Float], label: Int) { self.vector = vector; self.label = label }
}

/// The ranked outcome of classifying one utterance.
public struct IntentPrediction: Sendable, Equatable {
    /// Intent indices with blended scores (0…1, summing to 1), best first.
    public var ranked: [(label: Int, score: Double)]
    /// Best score minus the runner-up: small when two intents are equally plausible, which is
    /// when guessing is worse than asking.
    public var margin: Double
    /// The cosine similarity of the nearest example: low when the utterance is unlike any
    /// example, which no softmax can express on its own.
    public var nearestSimilarity: Double
    /// The confidence compared with the pack's threshold.
    public var confidence: Double

    public var best: Int { ranked[0].label }

    public static func == (a: IntentPrediction, b: IntentPrediction) -> Bool {
        a.ranked.map(\.label) == b.ranked.map(\.label) && a.confidence == b.confidence
    }
}

/// Settings of the classifier; the defaults were chosen on a validation split of the BANKING77
/// training set (see `strata eval intent`), never on its test set.
public struct IntentClassifierOptions: Sendable {
    /// Neighbours voting in the kNN part.
    public var k = 10
    /// Weight of the logistic-regression probabilities against the kNN vote (0…1). 0.3 was
    /// best on a 90/10 split of the BANKING77 training set (0.923 vs 0.883 at 0.7, 0.878 at 1.0).
    public var regressionWeight = 0.3
    public var epochs = 40
    public var learningRate: Float = 0.01
    public var l2: Float = 1e-4
    public var batchSize = 32
    public var seed: UInt64 = 7
    public init() {}
}

/// Intent classification on sentence embeddings: a multinomial logistic regression trained in
/// Swift, blended with a similarity-weighted kNN vote over the examples. The encoder stays
/// frozen; the regression is what adapts the generic embedding space to these intents, and kNN
/// keeps a rare intent with few examples from being swamped.
public final class IntentClassifier: Sendable {
    public let labelCount: Int
    public let dimension: Int
    public let options: IntentClassifierOptions
    let examples: [Float]         // (n, dim) unit vectors, row-major
    let exampleLabels: [Int]
    let mean: [Float]             // (dim) feature mean, for standardising
    let invStd: [Float]           // (dim)
    let weights: [Float]          // (labels, dim)
    let bias: [Float]             // (labels)

    public init(examples: [LabelledVector], labelCount: Int, options: IntentClassifierOptions = .init()) throws {
        guard let first = examples.first else { throw ServiceError.noExamples }
        let dim = first.vector.count
        for e in examples where e.vector.count != dim || !(0..<labelCount).contains(e.label) {
            throw ServiceError.badExample(detail: "an example has \(e.vector.count) dimensions (expected \(dim)) or label \(e.label) outside 0..<\(labelCount)")
        }
        self.labelCount = labelCount; self.dimension = dim; self.options = options
        var flat = [Float](); flat.reserveCapacity(examples.count * dim)
        for e in examples { flat += Self.normalised(e.vector) }
        self.examples = flat
        self.exampleLabels = examples.map(\.label)
        (mean, invStd) = Self.standardisation(flat, n: examples.count, dim: dim)
        (weights, bias) = Self.train(flat, labels: exampleLabels, n: examples.count, dim: dim, classes: labelCount,
                                     mean: mean, invStd: invStd, options: options)
    }

    /// Scores `vector` against every intent.
    public func classify(_ vector: [Float]) -> IntentPrediction {
        let v = Self.normalised(vector)
        // Logistic regression.
        var x = [Float](repeating: 0, count: dimension)
        for d in 0..<dimension { x[d] = (v[d] - mean[d]) * invStd[d] }
        var logits = [Float](repeating: 0, count: labelCount)
        weights.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { xp in
                for c in 0..<labelCount { logits[c] = bias[c] + dot(w.baseAddress! + c * dimension, xp.baseAddress!, dimension) }
            }
        }
        let lr = softmax(logits)
        // kNN over the examples.
        let n = exampleLabels.count
        var sims = [Float](repeating: 0, count: n)
        examples.withUnsafeBufferPointer { e in
            v.withUnsafeBufferPointer { vp in
                for i in 0..<n { sims[i] = dot(e.baseAddress! + i * dimension, vp.baseAddress!, dimension) }
            }
        }
        let order = topIndices(sims, k: min(options.k, n))
        var vote = [Double](repeating: 0, count: labelCount)
        var total = 0.0
        for i in order {
            let w = exp(Double(sims[i]) * 20)     // sharp: the nearest examples dominate
            vote[exampleLabels[i]] += w; total += w
        }
        var blended = [Double](repeating: 0, count: labelCount)
        let a = options.regressionWeight
        for c in 0..<labelCount { blended[c] = a * Double(lr[c]) + (1 - a) * (total > 0 ? vote[c] / total : 0) }
        let ranked = blended.enumerated().map { (label: $0.offset, score: $0.element) }.sorted { $0.score > $1.score }
        let margin = ranked[0].score - (ranked.count > 1 ? ranked[1].score : 0)
        let nearest = order.first.map { Double(sims[$0]) } ?? 0
        return IntentPrediction(ranked: ranked, margin: margin, nearestSimilarity: nearest,
                                confidence: margin)
    }

    static func normalised(_ v: [Float]) -> [Float] {
        var s: Float = 0
        for x in v { s += x * x }
        let inv = s > 0 ? 1 / s.squareRoot() : 0
        return v.map { $0 * inv }
    }

    static func standardisation(_ x: [Float], n: Int, dim: Int) -> ([Float], [Float]) {
        var mean = [Float](repeating: 0, count: dim), sq = [Float](repeating: 0, count: dim)
        for i in 0..<n { for d in 0..<dim { let v = x[i * dim + d]; mean[d] += v; sq[d] += v * v } }
        var inv = [Float](repeating: 1, count: dim)
        for d in 0..<dim {
            mean[d] /= Float(n)
            let variance = max(sq[d] / Float(n) - mean[d] * mean[d], 1e-8)
            inv[d] = 1 / variance.squareRoot()
        }
        return (mean, inv)
    }
}

/// Dot product of two float runs, eight lanes at a time.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        acc = acc.addingProduct(x, y)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

func softmax(_ logits: [Float]) -> [Float] {
    let m = logits.max() ?? 0
    var e = logits.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    for i in e.indices { e[i] /= s }
    return e
}

/// Indices of the `k` largest values, largest first.
func topIndices(_ values: [Float], k: Int) -> [Int] {
    guard k > 0 else { return [] }
    var best: [Int] = []
    for i in values.indices {
        if best.count < k { best.append(i); best.sort { values[$0] > values[$1] }; continue }
        if values[i] > values[best[k - 1]] {
            best[k - 1] = i
            var j = k - 1
            while j > 0 && values[best[j]] > values[best[j - 1]] { best.swapAt(j, j - 1); j -= 1 }
        }
    }
    return best
}
